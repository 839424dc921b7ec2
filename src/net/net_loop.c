/*
 * net_loop.c: the epoll loop, the timer heap, signalfd and rlimit helpers.
 *
 * Why level-triggered: a callback that reads once and returns is correct
 * without "read until EAGAIN", which would cost one extra read() per
 * message; leftovers are simply reported again. The price of level
 * triggering, epoll_ctl() to silence a watcher, is paid only when the
 * interest changes (a partial write arms WRITE; a flush disarms it).
 */
#define _GNU_SOURCE /* signalfd, RLIMIT_NOFILE details */
#include "net_loop.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

/* One epoll_wait() takes at most this many events; more wait one turn. */
#define MAX_EVENTS 1024

_Static_assert(WS_IO_READ == EPOLLIN, "WS_IO_READ must equal EPOLLIN");
_Static_assert(WS_IO_WRITE == EPOLLOUT, "WS_IO_WRITE must equal EPOLLOUT");
_Static_assert(WS_IO_ERR == EPOLLERR, "WS_IO_ERR must equal EPOLLERR");
_Static_assert(WS_IO_HUP == EPOLLHUP, "WS_IO_HUP must equal EPOLLHUP");

struct heap {
  struct ws__heap_node *min;
  size_t n;
};

struct ws_loop {
  const struct ws_mem *mem;
  ws_clock_fn clock;
  void *clock_user;
  uint64_t now;
  uint64_t timer_seq; /* start order, breaks deadline ties */
  struct heap timers;
  size_t active_io;
  int epfd;
  int stop;
  int ev_next;  /* index of the next event to dispatch */
  int ev_count; /* events fetched by the current epoll_wait() */
  struct ws_loop_stats stats;
  struct epoll_event events[MAX_EVENTS];
};

uint64_t ws_clock_monotonic(void *user) {
  struct timespec ts;
  (void)user;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------- heap */

static int less(const struct ws__heap_node *a, const struct ws__heap_node *b) {
  const struct ws_timer *x = (const struct ws_timer *)a;
  const struct ws_timer *y = (const struct ws_timer *)b;
  if (x->deadline != y->deadline)
    return x->deadline < y->deadline;
  return x->seq < y->seq;
}

/*
 * Returns the link that holds heap position |pos| (1-based, breadth
 * first) and its parent node in |*parent|. The bits of |pos| below the
 * top one spell the way down: 0 = left, 1 = right.
 */
static struct ws__heap_node **slot(struct heap *h, size_t pos,
                                   struct ws__heap_node **parent) {
  struct ws__heap_node **link = &h->min;
  size_t path = 0, depth = 0;
  for (; pos >= 2; pos >>= 1, depth++)
    path = path << 1 | (pos & 1);
  *parent = NULL;
  while (depth-- > 0) {
    *parent = *link;
    link = (path & 1) ? &(*link)->right : &(*link)->left;
    path >>= 1;
  }
  return link;
}

/* Exchanges |child| with its parent |up|, relinking both neighbourhoods. */
static void swap_up(struct heap *h, struct ws__heap_node *up,
                    struct ws__heap_node *child) {
  struct ws__heap_node tmp = *up, *sibling;
  *up = *child;
  *child = tmp;
  up->parent = child;
  if (child->left == child) {
    child->left = up;
    sibling = child->right;
  } else {
    child->right = up;
    sibling = child->left;
  }
  if (sibling)
    sibling->parent = child;
  if (up->left)
    up->left->parent = up;
  if (up->right)
    up->right->parent = up;
  if (child->parent == NULL)
    h->min = child;
  else if (child->parent->left == up)
    child->parent->left = child;
  else
    child->parent->right = child;
}

static void heap_insert(struct heap *h, struct ws__heap_node *nd) {
  struct ws__heap_node *parent, **link;
  link = slot(h, h->n + 1, &parent);
  nd->left = nd->right = NULL;
  nd->parent = parent;
  *link = nd;
  h->n++;
  while (nd->parent && less(nd, nd->parent))
    swap_up(h, nd->parent, nd);
}

static void heap_remove(struct heap *h, struct ws__heap_node *nd) {
  struct ws__heap_node *parent, **link, *last, *child;
  link = slot(h, h->n, &parent);
  last = *link;
  *link = NULL;
  h->n--;
  if (last == nd)
    return;
  /* The last leaf takes |nd|'s place, then sinks or rises into order. */
  *last = *nd;
  if (last->left)
    last->left->parent = last;
  if (last->right)
    last->right->parent = last;
  if (last->parent == NULL)
    h->min = last;
  else if (last->parent->left == nd)
    last->parent->left = last;
  else
    last->parent->right = last;
  for (;;) {
    child = last;
    if (last->left && less(last->left, child))
      child = last->left;
    if (last->right && less(last->right, child))
      child = last->right;
    if (child == last)
      break;
    swap_up(h, last, child);
  }
  while (last->parent && less(last, last->parent))
    swap_up(h, last->parent, last);
}

/* ------------------------------------------------------------- loop */

int ws_loop_new(ws_loop **out, const struct ws_loop_options *opt,
                const struct ws_mem *mem) {
  ws_loop *loop;
  int r;
  *out = NULL;
  if (mem == NULL)
    mem = ws_mem_default();
  loop = mem->malloc(sizeof(*loop), mem->user);
  if (loop == NULL)
    return WS_ENOMEM;
  memset(loop, 0, sizeof(*loop));
  loop->mem = mem;
  loop->clock = opt && opt->clock ? opt->clock : ws_clock_monotonic;
  loop->clock_user = opt ? opt->clock_user : NULL;
  loop->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (loop->epfd < 0) {
    r = -errno;
    mem->free(loop, mem->user);
    return r;
  }
  loop->now = loop->clock(loop->clock_user);
  *out = loop;
  return 0;
}

int ws_loop_free(ws_loop *loop) {
  const struct ws_mem *mem;
  if (loop == NULL)
    return 0;
  if (ws_loop_alive(loop))
    return -EBUSY;
  close(loop->epfd);
  mem = loop->mem;
  mem->free(loop, mem->user);
  return 0;
}

int ws_loop_alive(const ws_loop *loop) {
  return loop->active_io > 0 || loop->timers.n > 0;
}

uint64_t ws_loop_now(const ws_loop *loop) { return loop->now; }

void ws_loop_update_time(ws_loop *loop) {
  uint64_t t = loop->clock(loop->clock_user);
  /* Never backwards: deadlines already computed stay meaningful. */
  if (t > loop->now)
    loop->now = t;
}

void ws_loop_stop(ws_loop *loop) { loop->stop = 1; }

void ws_loop_stats(const ws_loop *loop, struct ws_loop_stats *out) {
  *out = loop->stats;
}

void ws__loop_count(ws_loop *loop, unsigned reads, unsigned writes) {
  loop->stats.reads += reads;
  loop->stats.writes += writes;
}

/* Runs the timers due now that were started before this pass began. */
static void run_timers(ws_loop *loop) {
  uint64_t limit = loop->timer_seq;
  while (loop->timers.min) {
    struct ws_timer *t = (struct ws_timer *)loop->timers.min;
    if (t->deadline > loop->now || t->seq >= limit)
      break;
    heap_remove(&loop->timers, &t->node);
    t->active = 0;
    loop->stats.timers_run++;
    t->cb(t, t->user);
    /* A long callback must not leave stale time to the next one. */
    ws_loop_update_time(loop);
  }
}

static int next_timeout(const ws_loop *loop) {
  const struct ws_timer *t = (const struct ws_timer *)loop->timers.min;
  uint64_t d;
  if (t == NULL)
    return -1;
  if (t->deadline <= loop->now)
    return 0;
  d = t->deadline - loop->now;
  return d > INT_MAX ? INT_MAX : (int)d;
}

static int poll_io(ws_loop *loop, int timeout) {
  int n, i;
  loop->stats.iterations++;
  n = epoll_wait(loop->epfd, loop->events, MAX_EVENTS, timeout);
  if (n < 0)
    return errno == EINTR ? 0 : -errno;
  loop->ev_count = n;
  for (i = 0; i < n; i++) {
    struct ws_io *io = loop->events[i].data.ptr;
    unsigned got = loop->events[i].events, ev;
    /* Each callback sees the time it starts at, not the time the wait
     * ended: the callbacks before it may have run long (32 cases building
     * megabyte payloads under ASan), and a timeout started from stale
     * time would expire as it starts. One vDSO clock read per event. */
    ws_loop_update_time(loop);
    loop->ev_next = i + 1;
    if (io == NULL) /* stopped by an earlier callback */
      continue;
    ev = (got & io->interest) | (got & (WS_IO_ERR | WS_IO_HUP));
    if (got & (WS_IO_ERR | WS_IO_HUP))
      ev |= io->interest;
    if (ev == 0) /* interest narrowed by an earlier callback */
      continue;
    loop->stats.events++;
    io->cb(io, ev, io->user);
  }
  loop->ev_count = loop->ev_next = 0;
  return 0;
}

int ws_loop_run(ws_loop *loop, enum ws_run_mode mode) {
  int r = 0;
  for (;;) {
    ws_loop_update_time(loop);
    run_timers(loop);
    if (loop->stop || !ws_loop_alive(loop))
      break;
    r = poll_io(loop, mode == WS_RUN_NOWAIT ? 0 : next_timeout(loop));
    if (r < 0)
      break;
    if (mode != WS_RUN_DEFAULT) {
      ws_loop_update_time(loop);
      run_timers(loop);
      break;
    }
  }
  if (r == 0 && mode != WS_RUN_DEFAULT && !loop->stop)
    r = ws_loop_alive(loop);
  loop->stop = 0;
  return r;
}

/* -------------------------------------------------------------- fds */

static int ctl(ws_loop *loop, int op, struct ws_io *io, int fd,
               unsigned interest) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = interest;
  ev.data.ptr = io;
  loop->stats.ctl_calls++;
  return epoll_ctl(loop->epfd, op, fd, &ev) == 0 ? 0 : -errno;
}

int ws_io_start(ws_loop *loop, struct ws_io *io, int fd, unsigned interest,
                ws_io_cb cb, void *user) {
  int r;
  if (fd < 0 || cb == NULL || (interest & ~(WS_IO_READ | WS_IO_WRITE)))
    return -EINVAL;
  /* Fields change only on success: a failed start (say -EEXIST on an
   * already active watcher) leaves |io| exactly as it was. */
  r = ctl(loop, EPOLL_CTL_ADD, io, fd, interest);
  if (r != 0)
    return r;
  io->fd = fd;
  io->interest = interest;
  io->user = user;
  io->cb = cb;
  io->loop = loop;
  io->active = 1;
  loop->active_io++;
  return 0;
}

int ws_io_update(struct ws_io *io, unsigned interest) {
  int r;
  if (!io->active || (interest & ~(WS_IO_READ | WS_IO_WRITE)))
    return -EINVAL;
  if (interest == io->interest)
    return 0;
  r = ctl(io->loop, EPOLL_CTL_MOD, io, io->fd, interest);
  if (r == 0)
    io->interest = interest;
  return r;
}

int ws_io_stop(struct ws_io *io) {
  ws_loop *loop = io->loop;
  int i, r;
  if (!io->active)
    return 0;
  io->active = 0;
  loop->active_io--;
  /* The events fetched but not yet dispatched may name |io|, whose memory
   * the caller is free to reuse as soon as we return. */
  for (i = loop->ev_next; i < loop->ev_count; i++)
    if (loop->events[i].data.ptr == io)
      loop->events[i].data.ptr = NULL;
  r = ctl(loop, EPOLL_CTL_DEL, io, io->fd, 0);
  return r;
}

int ws_io_close(struct ws_io *io) {
  int fd = io->fd, r = 0;
  ws_io_stop(io);
  io->fd = -1;
  /* No EINTR retry: Linux releases the fd even when close() says EINTR. */
  if (fd >= 0 && close(fd) != 0)
    r = -errno;
  return r;
}

/* ----------------------------------------------------------- timers */

void ws_timer_init(ws_loop *loop, struct ws_timer *t, ws_timer_cb cb,
                   void *user) {
  memset(t, 0, sizeof(*t));
  t->loop = loop;
  t->cb = cb;
  t->user = user;
}

void ws_timer_start(struct ws_timer *t, uint64_t timeout_ms) {
  ws_loop *loop = t->loop;
  if (t->active)
    heap_remove(&loop->timers, &t->node);
  t->timeout = timeout_ms;
  t->deadline = loop->now + timeout_ms;
  if (t->deadline < loop->now) /* saturate instead of wrapping */
    t->deadline = UINT64_MAX;
  t->seq = loop->timer_seq++;
  heap_insert(&loop->timers, &t->node);
  t->active = 1;
}

void ws_timer_again(struct ws_timer *t) { ws_timer_start(t, t->timeout); }

void ws_timer_stop(struct ws_timer *t) {
  if (!t->active)
    return;
  heap_remove(&t->loop->timers, &t->node);
  t->active = 0;
}

int ws_timer_active(const struct ws_timer *t) { return t->active; }

/* ---------------------------------------------------------- signals */

static void on_signal(struct ws_io *io, unsigned events, void *user) {
  struct ws_signal *s = user;
  struct signalfd_siginfo si;
  ssize_t n;
  (void)events;
  do
    n = read(io->fd, &si, sizeof(si));
  while (n < 0 && errno == EINTR);
  /* One signal per wake-up: the callback may stop and free |s|; level
   * triggering reports the next one on the next iteration. */
  if (n == (ssize_t)sizeof(si))
    s->cb(s, (int)si.ssi_signo, s->user);
}

int ws_signal_start(ws_loop *loop, struct ws_signal *s, const int *signals,
                    size_t count, ws_signal_cb cb, void *user) {
  size_t i;
  int fd, r;
  if (count == 0 || signals == NULL || cb == NULL)
    return -EINVAL;
  sigemptyset(&s->set);
  for (i = 0; i < count; i++)
    if (signals[i] <= 0 || sigaddset(&s->set, signals[i]) != 0)
      return -EINVAL;
  if (sigprocmask(SIG_BLOCK, &s->set, &s->old_mask) != 0)
    return -errno;
  fd = signalfd(-1, &s->set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) {
    r = -errno;
    goto restore;
  }
  s->cb = cb;
  s->user = user;
  r = ws_io_start(loop, &s->io, fd, WS_IO_READ, on_signal, s);
  if (r == 0)
    return 0;
  close(fd);
restore:
  sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
  return r;
}

int ws_signal_stop(struct ws_signal *s) {
  sigset_t unblock;
  int sig;
  if (!s->io.active)
    return 0;
  ws_io_close(&s->io);
  sigemptyset(&unblock);
  for (sig = 1; sig < NSIG; sig++)
    if (sigismember(&s->set, sig) == 1 && sigismember(&s->old_mask, sig) == 0)
      sigaddset(&unblock, sig);
  sigprocmask(SIG_UNBLOCK, &unblock, NULL);
  return 0;
}

/* ---------------------------------------------------------- process */

int ws_net_ignore_sigpipe(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_IGN;
  sigemptyset(&sa.sa_mask);
  return sigaction(SIGPIPE, &sa, NULL) == 0 ? 0 : -errno;
}

int ws_net_raise_nofile(uint64_t *limit) {
  struct rlimit rl;
  rlim_t want;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return -errno;
  want = rl.rlim_max;
  if (want == RLIM_INFINITY)
    want = (rlim_t)1 << 20; /* the kernel's default fs.nr_open */
  while (want > rl.rlim_cur) {
    struct rlimit nl = {want, rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &nl) == 0) {
      rl.rlim_cur = want;
      break;
    }
    if (errno != EPERM && errno != EINVAL)
      return -errno;
    want /= 2; /* an infinite hard limit above fs.nr_open: back off */
  }
  if (limit)
    *limit = (uint64_t)rl.rlim_cur;
  return 0;
}
