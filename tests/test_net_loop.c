/*
 * test_net_loop.c: the event loop (net_loop.h) and the output queue
 * (net_stream.h, struct ws_wbuf).
 *
 * Timers run on a fake clock and the loop is driven with WS_RUN_NOWAIT, so
 * no test sleeps. Fd tests use socketpairs and pipes; every fd a test
 * opens is closed, which each test checks against /proc/self/fd.
 */
#define _DEFAULT_SOURCE
#include "test_support.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net_loop.h"
#include "net/net_stream.h"
#include "net_test_util.h"

/* ------------------------------------------------------------ helpers */

static ws_loop *new_fake_loop(struct fake_clock *clk) {
  struct ws_loop_options opt = {fake_now, clk};
  ws_loop *loop = NULL;
  assert_int_equal(ws_loop_new(&loop, &opt, NULL), 0);
  return loop;
}

static void advance(ws_loop *loop, struct fake_clock *clk, uint64_t to) {
  clk->now = to;
  ws_loop_run(loop, WS_RUN_NOWAIT);
}

/* A fired-timer log: timers write their id in firing order. */
struct fired {
  int ids[20000];
  uint64_t at[20000];
  int n;
};

struct tctx {
  struct ws_timer t;
  struct fired *log;
  int id;
  ws_loop *loop;
  struct tctx *victim; /* stopped by this timer's callback, if set */
  int restart_zero;    /* restart with timeout 0 from the callback */
};

static void on_timer(struct ws_timer *t, void *user) {
  struct tctx *c = user;
  assert_ptr_equal(t, &c->t);
  assert_false(ws_timer_active(t));
  c->log->at[c->log->n] = ws_loop_now(c->loop);
  c->log->ids[c->log->n++] = c->id;
  if (c->victim)
    ws_timer_stop(&c->victim->t);
  if (c->restart_zero)
    ws_timer_start(t, 0);
}

static void tinit(ws_loop *loop, struct tctx *c, struct fired *log, int id) {
  memset(c, 0, sizeof(*c));
  c->log = log;
  c->id = id;
  c->loop = loop;
  ws_timer_init(loop, &c->t, on_timer, c);
}

/* ------------------------------------------------------------- timers */

static void test_ws_timer_order(void **state) {
  struct fake_clock clk = {1000};
  ws_loop *loop = new_fake_loop(&clk);
  static struct fired log;
  struct tctx c[3];
  (void)state;
  memset(&log, 0, sizeof(log));
  tinit(loop, &c[0], &log, 30);
  tinit(loop, &c[1], &log, 10);
  tinit(loop, &c[2], &log, 20);
  ws_timer_start(&c[0].t, 30);
  ws_timer_start(&c[1].t, 10);
  ws_timer_start(&c[2].t, 20);
  assert_int_equal(c[1].t.deadline, 1010);
  assert_true(ws_loop_alive(loop));
  advance(loop, &clk, 1009);
  assert_int_equal(log.n, 0);
  advance(loop, &clk, 1010);
  assert_int_equal(log.n, 1);
  assert_int_equal(log.ids[0], 10);
  assert_int_equal(log.at[0], 1010);
  advance(loop, &clk, 1100);
  assert_int_equal(log.n, 3);
  assert_int_equal(log.ids[1], 20);
  assert_int_equal(log.ids[2], 30);
  assert_false(ws_loop_alive(loop));
  /* The clock never goes backwards for the loop. */
  clk.now = 5;
  ws_loop_update_time(loop);
  assert_int_equal(ws_loop_now(loop), 1100);
  assert_int_equal(ws_loop_free(loop), 0);
}

static void test_ws_timer_equal_deadlines(void **state) {
  struct fake_clock clk = {0};
  ws_loop *loop = new_fake_loop(&clk);
  static struct fired log;
  static struct tctx c[100];
  int i;
  (void)state;
  memset(&log, 0, sizeof(log));
  for (i = 0; i < 100; i++) {
    tinit(loop, &c[i], &log, i);
    ws_timer_start(&c[i].t, 5);
  }
  /* Restarting moves a timer behind the others with the same deadline. */
  ws_timer_start(&c[0].t, 5);
  ws_timer_again(&c[50].t);
  advance(loop, &clk, 5);
  assert_int_equal(log.n, 100);
  for (i = 0; i < 98; i++)
    assert_int_equal(log.ids[i], i < 49 ? i + 1 : i + 2);
  assert_int_equal(log.ids[98], 0);
  assert_int_equal(log.ids[99], 50);
  assert_int_equal(ws_loop_free(loop), 0);
}

static void test_ws_timer_cancel(void **state) {
  struct fake_clock clk = {0};
  ws_loop *loop = new_fake_loop(&clk);
  static struct fired log;
  struct tctx c[4];
  (void)state;
  memset(&log, 0, sizeof(log));
  tinit(loop, &c[0], &log, 0);
  tinit(loop, &c[1], &log, 1);
  tinit(loop, &c[2], &log, 2);
  tinit(loop, &c[3], &log, 3);
  ws_timer_stop(&c[3].t); /* never started: a no-op */
  ws_timer_start(&c[0].t, 10);
  ws_timer_start(&c[1].t, 10);
  ws_timer_start(&c[2].t, 10);
  ws_timer_stop(&c[1].t);
  assert_false(ws_timer_active(&c[1].t));
  ws_timer_stop(&c[1].t); /* twice: still a no-op */
  /* A callback cancels a timer due in the same pass. */
  c[0].victim = &c[2];
  advance(loop, &clk, 10);
  assert_int_equal(log.n, 1);
  assert_int_equal(log.ids[0], 0);
  assert_false(ws_loop_alive(loop));
  advance(loop, &clk, 100);
  assert_int_equal(log.n, 1);
  assert_int_equal(ws_loop_free(loop), 0);
}

static void test_ws_timer_reset(void **state) {
  struct fake_clock clk = {0};
  ws_loop *loop = new_fake_loop(&clk);
  static struct fired log;
  struct tctx c;
  (void)state;
  memset(&log, 0, sizeof(log));
  tinit(loop, &c, &log, 7);
  ws_timer_start(&c.t, 10);
  advance(loop, &clk, 8);
  ws_timer_again(&c.t); /* idle-timer reset: 8 + 10 */
  assert_int_equal(c.t.deadline, 18);
  advance(loop, &clk, 10);
  assert_int_equal(log.n, 0);
  advance(loop, &clk, 17);
  assert_int_equal(log.n, 0);
  advance(loop, &clk, 18);
  assert_int_equal(log.n, 1);
  assert_int_equal(log.at[0], 18);
  /* A huge timeout saturates instead of wrapping into the past. */
  ws_timer_start(&c.t, UINT64_MAX - 5);
  assert_int_equal(c.t.deadline, UINT64_MAX);
  advance(loop, &clk, 1u << 30);
  assert_int_equal(log.n, 1);
  assert_int_equal(ws_loop_free(loop), -EBUSY);
  ws_timer_stop(&c.t);
  assert_int_equal(ws_loop_free(loop), 0);
}

static void test_ws_timer_restart_in_callback(void **state) {
  struct fake_clock clk = {0};
  ws_loop *loop = new_fake_loop(&clk);
  static struct fired log;
  struct tctx c;
  (void)state;
  memset(&log, 0, sizeof(log));
  tinit(loop, &c, &log, 1);
  c.restart_zero = 1;
  ws_timer_start(&c.t, 0);
  /* NOWAIT runs timers before and after polling: one firing per pass,
   * never a spin inside one pass. */
  assert_int_equal(ws_loop_run(loop, WS_RUN_NOWAIT), 1);
  assert_int_equal(log.n, 2);
  assert_int_equal(ws_loop_run(loop, WS_RUN_NOWAIT), 1);
  assert_int_equal(log.n, 4);
  ws_timer_stop(&c.t);
  assert_int_equal(ws_loop_run(loop, WS_RUN_NOWAIT), 0);
  assert_int_equal(ws_loop_free(loop), 0);
}

/* Thousands of timers under random start/restart/stop, against a model:
 * the firing order must be (deadline, last start) and every armed timer
 * fires exactly once. */
static void test_ws_timer_many(void **state) {
  enum { N = 5000 };
  struct fake_clock clk = {0};
  ws_loop *loop = new_fake_loop(&clk);
  static struct fired log;
  static struct tctx c[N];
  static uint64_t dl[N], order[N];
  static int armed[N];
  uint64_t seed = 42, start_no = 0, t;
  int i, j, expect = 0, last = -1;
  (void)state;
  memset(&log, 0, sizeof(log));
  for (i = 0; i < N; i++)
    tinit(loop, &c[i], &log, i);
  for (i = 0; i < 4 * N; i++) {
    uint8_t r[4];
    int k;
    test_random(r, sizeof(r), &seed);
    k = (r[0] | r[1] << 8) % N;
    if (r[2] % 4 == 0) {
      ws_timer_stop(&c[k].t);
      armed[k] = 0;
    } else {
      uint64_t to = r[3] % 64; /* many equal deadlines */
      ws_timer_start(&c[k].t, to);
      armed[k] = 1;
      dl[k] = to;
      order[k] = start_no++;
    }
  }
  for (i = 0; i < N; i++)
    expect += armed[i];
  for (t = 0; t < 64; t++)
    advance(loop, &clk, t);
  assert_int_equal(log.n, expect);
  for (i = 0; i < log.n; i++) {
    int id = log.ids[i];
    assert_true(armed[id]);
    armed[id] = 0; /* fires once */
    assert_int_equal(log.at[i], dl[id]);
    if (last >= 0) {
      assert_true(dl[last] < dl[id] ||
                  (dl[last] == dl[id] && order[last] < order[id]));
    }
    last = id;
  }
  for (j = 0; j < N; j++)
    assert_false(armed[j]);
  assert_false(ws_loop_alive(loop));
  assert_int_equal(ws_loop_free(loop), 0);
}

/* Heap shape under removal of arbitrary nodes, checked through the
 * order: start N timers with distinct deadlines, stop a pseudo-random
 * half (root, leaves, inner nodes), and the rest must fire sorted. */
static void test_ws_timer_remove_anywhere(void **state) {
  struct fake_clock clk = {0};
  static struct fired log;
  static struct tctx c[257];
  int n, i;
  (void)state;
  for (n = 1; n <= 257; n += 16) {
    ws_loop *loop;
    int fired = 0;
    clk.now = 0; /* before the loop reads it: loop time never goes back */
    loop = new_fake_loop(&clk);
    memset(&log, 0, sizeof(log));
    for (i = 0; i < n; i++) {
      tinit(loop, &c[i], &log, i);
      ws_timer_start(&c[i].t, (uint64_t)((i * 7919) % n) + 1);
    }
    for (i = 0; i < n; i += 2)
      ws_timer_stop(&c[(i * 31) % n].t);
    for (i = 0; i < n; i++)
      fired += ws_timer_active(&c[i].t);
    advance(loop, &clk, (uint64_t)n + 1);
    assert_int_equal(log.n, fired);
    for (i = 1; i < log.n; i++)
      assert_true(log.at[i - 1] <= log.at[i]);
    for (i = 1; i < log.n; i++)
      assert_true(c[log.ids[i - 1]].t.deadline < c[log.ids[i]].t.deadline);
    assert_int_equal(ws_loop_free(loop), 0);
  }
}

/* ---------------------------------------------------------------- fds */

struct ioctx {
  struct ws_io io;
  int calls;
  unsigned last;
  struct ioctx *victim; /* stopped and freed by this callback */
  int stop_self;
  int stop_loop;
  int free_self;
};

static void on_io(struct ws_io *io, unsigned events, void *user) {
  struct ioctx *c = user;
  assert_ptr_equal(io, &c->io);
  c->calls++;
  c->last = events;
  if (c->victim) {
    assert_int_equal(ws_io_stop(&c->victim->io), 0);
    memset(c->victim, 0xab, sizeof(*c->victim));
    free(c->victim);
    c->victim = NULL;
  }
  if (c->stop_self)
    ws_io_stop(io);
  if (c->stop_loop)
    ws_loop_stop(io->loop);
  if (c->free_self) {
    ws_io_stop(io);
    free(c);
  }
}

static void test_ws_io_events(void **state) {
  int fds0 = count_fds(), sv[2];
  ws_loop *loop = NULL;
  struct ioctx c, d;
  struct ws_loop_stats st;
  char b;
  (void)state;
  memset(&c, 0, sizeof(c));
  memset(&d, 0, sizeof(d));
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv),
                   0);
  assert_int_equal(ws_io_start(loop, &c.io, sv[0], WS_IO_READ, on_io, &c), 0);
  /* A second watcher on the same fd is refused and stays inactive. */
  assert_int_equal(ws_io_start(loop, &d.io, sv[0], WS_IO_READ, on_io, &d),
                   -EEXIST);
  assert_false(d.io.active);
  /* So is a second start of an active watcher, which stays as it was. */
  assert_int_equal(ws_io_start(loop, &c.io, sv[0], WS_IO_WRITE, on_io, &c),
                   -EEXIST);
  assert_true(c.io.active);
  assert_int_equal(c.io.interest, WS_IO_READ);
  assert_int_equal(ws_loop_run(loop, WS_RUN_NOWAIT), 1);
  assert_int_equal(c.calls, 0);
  assert_int_equal(write(sv[1], "x", 1), 1);
  ws_loop_run(loop, WS_RUN_NOWAIT);
  assert_int_equal(c.calls, 1);
  assert_int_equal(c.last, WS_IO_READ);
  /* Level-triggered: unread input is reported again. */
  ws_loop_run(loop, WS_RUN_NOWAIT);
  assert_int_equal(c.calls, 2);
  assert_int_equal(read(sv[0], &b, 1), 1);
  ws_loop_run(loop, WS_RUN_NOWAIT);
  assert_int_equal(c.calls, 2);
  /* Interest changes cost one epoll_ctl each, unchanged ones none. */
  ws_loop_stats(loop, &st);
  assert_int_equal(st.ctl_calls, 3); /* ADD, two failed ADDs */
  assert_int_equal(ws_io_update(&c.io, WS_IO_READ), 0);
  assert_int_equal(ws_io_update(&c.io, WS_IO_WRITE), 0);
  assert_int_equal(c.io.interest, WS_IO_WRITE);
  ws_loop_run(loop, WS_RUN_NOWAIT);
  assert_int_equal(c.calls, 3);
  assert_int_equal(c.last, WS_IO_WRITE);
  assert_int_equal(ws_io_update(&c.io, WS_IO_READ | WS_IO_WRITE), 0);
  assert_int_equal(write(sv[1], "y", 1), 1);
  ws_loop_run(loop, WS_RUN_NOWAIT);
  assert_int_equal(c.last, WS_IO_READ | WS_IO_WRITE);
  assert_int_equal(ws_io_update(&c.io, 0), 0);
  ws_loop_run(loop, WS_RUN_NOWAIT);
  assert_int_equal(c.calls, 4);
  ws_loop_stats(loop, &st);
  assert_int_equal(st.ctl_calls, 6);
  assert_int_equal(ws_io_update(&c.io, 0x8000), -EINVAL);
  /* Hang-up is reported even with no interest, with the HUP bit. */
  close(sv[1]);
  ws_loop_run(loop, WS_RUN_NOWAIT);
  assert_int_equal(c.calls, 5);
  assert_true(c.last & WS_IO_HUP);
  assert_false(c.last & (WS_IO_READ | WS_IO_WRITE));
  assert_int_equal(ws_loop_free(loop), -EBUSY);
  assert_int_equal(ws_io_close(&c.io), 0);
  assert_int_equal(c.io.fd, -1);
  assert_int_equal(ws_io_stop(&c.io), 0); /* inactive: no-op */
  assert_int_equal(ws_io_update(&c.io, WS_IO_READ), -EINVAL);
  assert_int_equal(ws_loop_run(loop, WS_RUN_DEFAULT), 0);
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

/* A callback that takes |spend| ms of (fake) time, and records the time
 * the loop gave it. */
struct slow {
  struct ws_io io;
  struct fake_clock *clk;
  uint64_t spend, seen;
  int calls;
};

static void on_slow_io(struct ws_io *io, unsigned events, void *user) {
  struct slow *c = user;
  char b;
  (void)events;
  assert_int_equal(read(io->fd, &b, 1), 1);
  c->seen = ws_loop_now(io->loop);
  c->calls++;
  c->clk->now += c->spend;
}

static void on_slow_timer(struct ws_timer *t, void *user) {
  struct slow *c = user;
  (void)t;
  c->seen = ws_loop_now(c->io.loop);
  c->calls++;
  c->clk->now += c->spend;
}

/* Each callback sees the time it starts at: a long callback earlier in the
 * same iteration does not leave stale time to the next one, so a timeout
 * started there counts in full. */
static void test_ws_loop_time_per_callback(void **state) {
  struct fake_clock clk = {100};
  ws_loop *loop = new_fake_loop(&clk);
  struct slow a, b;
  struct ws_timer ta, tb;
  static struct fired log;
  static struct tctx late;
  int sa[2], sb[2];
  (void)state;
  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  memset(&log, 0, sizeof(log));
  a.clk = b.clk = &clk;
  a.spend = 1500;
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sa),
                   0);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sb),
                   0);
  assert_int_equal(ws_io_start(loop, &a.io, sa[0], WS_IO_READ, on_slow_io, &a),
                   0);
  assert_int_equal(ws_io_start(loop, &b.io, sb[0], WS_IO_READ, on_slow_io, &b),
                   0);
  assert_int_equal(write(sa[1], "x", 1), 1);
  assert_int_equal(write(sb[1], "x", 1), 1);
  ws_loop_run(loop, WS_RUN_NOWAIT); /* one epoll_wait, both events */
  assert_int_equal(a.calls + b.calls, 2);
  /* a became ready first and ran first; b saw the time after a's 1.5 s. */
  assert_int_equal(a.seen, 100);
  assert_int_equal(b.seen, 1600);
  /* A timer started from the second callback's time counts from it. */
  tinit(loop, &late, &log, 1);
  ws_timer_start(&late.t, 1000);
  advance(loop, &clk, 2599);
  assert_int_equal(log.n, 0);
  advance(loop, &clk, 2600);
  assert_int_equal(log.n, 1);
  /* The same between timers due in one pass. */
  a.calls = b.calls = 0;
  ws_timer_init(loop, &ta, on_slow_timer, &a);
  ws_timer_init(loop, &tb, on_slow_timer, &b);
  ws_timer_start(&ta, 10);
  ws_timer_start(&tb, 10);
  advance(loop, &clk, 2610);
  assert_int_equal(a.calls + b.calls, 2);
  assert_int_equal(a.seen, 2610);
  assert_int_equal(b.seen, 4110);
  assert_int_equal(ws_io_close(&a.io), 0);
  assert_int_equal(ws_io_close(&b.io), 0);
  close(sa[1]);
  close(sb[1]);
  assert_int_equal(ws_loop_free(loop), 0);
}

static void test_ws_io_bad_args(void **state) {
  ws_loop *loop = NULL;
  struct ioctx c;
  int p[2];
  (void)state;
  memset(&c, 0, sizeof(c));
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  assert_int_equal(ws_io_start(loop, &c.io, -1, WS_IO_READ, on_io, &c),
                   -EINVAL);
  assert_int_equal(ws_io_start(loop, &c.io, 0, WS_IO_READ, NULL, &c),
                   -EINVAL);
  assert_int_equal(ws_io_start(loop, &c.io, 0, 0x40, on_io, &c), -EINVAL);
  assert_int_equal(pipe(p), 0);
  close(p[1]);
  close(p[0]);
  assert_int_equal(ws_io_start(loop, &c.io, p[0], WS_IO_READ, on_io, &c),
                   -EBADF);
  assert_false(ws_loop_alive(loop));
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(ws_loop_free(NULL), 0);
}

/* A callback stops and frees a watcher whose event is already fetched. */
static void test_ws_io_remove_in_callback(void **state) {
  int fds0 = count_fds(), a[2], b[2];
  ws_loop *loop = NULL;
  struct ioctx *x = calloc(1, sizeof(*x)), *y = calloc(1, sizeof(*y));
  int calls;
  (void)state;
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  assert_int_equal(pipe(a), 0);
  assert_int_equal(pipe(b), 0);
  assert_int_equal(ws_io_start(loop, &x->io, a[0], WS_IO_READ, on_io, x), 0);
  assert_int_equal(ws_io_start(loop, &y->io, b[0], WS_IO_READ, on_io, y), 0);
  x->victim = y;
  y->victim = x;
  assert_int_equal(write(a[1], "1", 1), 1);
  assert_int_equal(write(b[1], "2", 1), 1);
  /* Both are ready; whichever runs first frees the other, which must not
   * be called (ASan would flag the use after free). */
  ws_loop_run(loop, WS_RUN_NOWAIT);
  {
    struct ioctx *alive = x->calls ? x : y;
    calls = alive->calls;
    assert_int_equal(calls, 1);
    assert_null(alive->victim);
    /* The survivor now stops and frees itself inside its callback. */
    alive->free_self = 1;
    ws_loop_run(loop, WS_RUN_NOWAIT);
  }
  assert_false(ws_loop_alive(loop));
  assert_int_equal(ws_loop_free(loop), 0);
  close(a[0]);
  close(a[1]);
  close(b[0]);
  close(b[1]);
  assert_int_equal(count_fds(), fds0);
}

static void test_ws_loop_stop(void **state) {
  int sv[2];
  ws_loop *loop = NULL;
  struct ioctx c;
  struct ws_loop_stats st;
  (void)state;
  memset(&c, 0, sizeof(c));
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv),
                   0);
  c.stop_loop = 1;
  assert_int_equal(ws_io_start(loop, &c.io, sv[0], WS_IO_WRITE, on_io, &c),
                   0);
  /* Always writable: without the stop this would never return. */
  assert_int_equal(ws_loop_run(loop, WS_RUN_DEFAULT), 0);
  assert_int_equal(c.calls, 1);
  assert_true(ws_loop_alive(loop));
  /* The stop is consumed: the next run goes on until stopped again. */
  assert_int_equal(ws_loop_run(loop, WS_RUN_DEFAULT), 0);
  assert_int_equal(c.calls, 2);
  ws_loop_stats(loop, &st);
  assert_int_equal(st.iterations, 2);
  assert_int_equal(st.events, 2);
  c.stop_self = 1;
  c.stop_loop = 0;
  assert_int_equal(ws_loop_run(loop, WS_RUN_DEFAULT), 0);
  assert_int_equal(c.calls, 3);
  assert_false(ws_loop_alive(loop));
  close(sv[0]);
  close(sv[1]);
  assert_int_equal(ws_loop_free(loop), 0);
}

/* The real clock: DEFAULT blocks in epoll_wait until the timer is due,
 * then returns because nothing is left. No timing is asserted. */
static void test_ws_loop_real_clock(void **state) {
  ws_loop *loop = NULL;
  static struct fired log;
  struct tctx c;
  uint64_t t0;
  (void)state;
  memset(&log, 0, sizeof(log));
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  tinit(loop, &c, &log, 1);
  t0 = ws_loop_now(loop);
  ws_timer_start(&c.t, 3);
  assert_int_equal(ws_loop_run(loop, WS_RUN_DEFAULT), 0);
  assert_int_equal(log.n, 1);
  assert_true(log.at[0] >= t0 + 3);
  assert_true(ws_clock_monotonic(NULL) >= log.at[0]);
  assert_int_equal(ws_loop_free(loop), 0);
}

static void test_ws_loop_new_nomem(void **state) {
  long i;
  (void)state;
  for (i = 0;; i++) {
    struct failing_mem fm;
    ws_loop *loop = (ws_loop *)1;
    int r;
    failing_mem_init(&fm, i);
    r = ws_loop_new(&loop, NULL, &fm.mem);
    if (r == 0) {
      assert_int_equal(fm.live, 1);
      assert_int_equal(ws_loop_free(loop), 0);
      assert_int_equal(fm.live, 0);
      assert_int_equal(i, 1); /* one allocation point */
      break;
    }
    assert_int_equal(r, WS_ENOMEM);
    assert_null(loop);
    assert_int_equal(fm.live, 0);
  }
}

/* ------------------------------------------------------------ signals */

struct sigctx {
  struct ws_signal s;
  int got[4];
  int n;
  int stop_in_cb;
};

static void on_sig(struct ws_signal *s, int signo, void *user) {
  struct sigctx *c = user;
  assert_ptr_equal(s, &c->s);
  c->got[c->n++] = signo;
  if (c->stop_in_cb)
    ws_signal_stop(s);
}

static int blocked(int sig) {
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  return sigismember(&cur, sig);
}

static void test_ws_signal(void **state) {
  int fds0 = count_fds();
  static const int sigs[] = {SIGUSR1, SIGUSR2};
  ws_loop *loop = NULL;
  struct sigctx c;
  (void)state;
  memset(&c, 0, sizeof(c));
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  assert_int_equal(ws_signal_start(loop, &c.s, sigs, 0, on_sig, &c), -EINVAL);
  assert_int_equal(ws_signal_start(loop, &c.s, (const int[]){0}, 1, on_sig,
                                   &c), -EINVAL);
  assert_false(blocked(SIGUSR1));
  assert_int_equal(ws_signal_start(loop, &c.s, sigs, 2, on_sig, &c), 0);
  assert_true(blocked(SIGUSR1));
  assert_true(blocked(SIGUSR2));
  assert_int_equal(raise(SIGUSR2), 0);
  assert_int_equal(raise(SIGUSR1), 0);
  ws_loop_run(loop, WS_RUN_NOWAIT);
  ws_loop_run(loop, WS_RUN_NOWAIT);
  /* The kernel hands out pending signals lowest number first. */
  assert_int_equal(c.n, 2);
  assert_int_equal(c.got[0], SIGUSR1);
  assert_int_equal(c.got[1], SIGUSR2);
  /* Stopping from the callback (the echo server's shutdown path). */
  c.stop_in_cb = 1;
  assert_int_equal(raise(SIGUSR1), 0);
  assert_int_equal(ws_loop_run(loop, WS_RUN_DEFAULT), 0);
  assert_int_equal(c.n, 3);
  assert_false(blocked(SIGUSR1));
  assert_false(blocked(SIGUSR2));
  assert_int_equal(ws_signal_stop(&c.s), 0);
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

static void test_ws_net_process_helpers(void **state) {
  uint64_t limit = 0;
  struct sigaction sa;
  (void)state;
  assert_int_equal(ws_net_raise_nofile(&limit), 0);
  assert_true(limit >= 64);
  assert_int_equal(ws_net_raise_nofile(NULL), 0);
  assert_int_equal(ws_net_ignore_sigpipe(), 0);
  assert_int_equal(sigaction(SIGPIPE, NULL, &sa), 0);
  assert_true(sa.sa_handler == SIG_IGN);
  sa.sa_handler = SIG_DFL;
  assert_int_equal(sigaction(SIGPIPE, &sa, NULL), 0);
}

/* --------------------------------------------------------- out queue */

static void test_ws_wbuf_basic(void **state) {
  struct ws_wbuf b;
  uint8_t *p;
  int i;
  (void)state;
  ws_wbuf_init(&b, NULL, 100);
  assert_int_equal(ws_wbuf_pending(&b), 0);
  assert_null(ws_wbuf_data(&b));
  assert_int_equal(ws_wbuf_append(&b, "", 0), 0);
  assert_null(ws_wbuf_data(&b)); /* nothing allocated for nothing */
  assert_int_equal(ws_wbuf_append(&b, "hello ", 6), 0);
  p = ws_wbuf_reserve(&b, 5);
  assert_non_null(p);
  memcpy(p, "world", 5);
  assert_int_equal(ws_wbuf_pending(&b), 6);
  ws_wbuf_commit(&b, 5);
  assert_int_equal(ws_wbuf_pending(&b), 11);
  assert_memory_equal(ws_wbuf_data(&b), "hello world", 11);
  ws_wbuf_consume(&b, 6);
  assert_memory_equal(ws_wbuf_data(&b), "world", 5);
  assert_false(ws_wbuf_over(&b));
  for (i = 0; i < 95; i++)
    assert_int_equal(ws_wbuf_append(&b, "z", 1), 0);
  assert_int_equal(ws_wbuf_pending(&b), 100);
  assert_true(ws_wbuf_over(&b));
  ws_wbuf_consume(&b, 1000); /* clamped */
  assert_int_equal(ws_wbuf_pending(&b), 0);
  ws_wbuf_free(&b);
  ws_wbuf_free(&b); /* idempotent */
  ws_wbuf_init(&b, NULL, 0);
  assert_int_equal(ws_wbuf_append(&b, "x", 1), 0);
  assert_false(ws_wbuf_over(&b)); /* 0 = no high-water mark */
  ws_wbuf_free(&b);
}

/* Growth, sliding and trimming keep the byte stream intact. */
static void test_ws_wbuf_stream(void **state) {
  struct ws_wbuf b;
  static uint8_t in[1 << 20], out[1 << 20];
  size_t wr = 0, rd = 0, i;
  uint64_t seed = 7;
  (void)state;
  for (i = 0; i < sizeof(in); i++)
    in[i] = (uint8_t)(i * 131 + (i >> 11));
  ws_wbuf_init(&b, NULL, 0);
  while (rd < sizeof(in)) {
    uint8_t r[2];
    size_t n, m;
    test_random(r, 2, &seed);
    n = (size_t)r[0] * 40;
    if (n > sizeof(in) - wr)
      n = sizeof(in) - wr;
    assert_int_equal(ws_wbuf_append(&b, in + wr, n), 0);
    wr += n;
    m = (size_t)r[1] * 40;
    if (m > ws_wbuf_pending(&b))
      m = ws_wbuf_pending(&b);
    if (m)
      memcpy(out + rd, ws_wbuf_data(&b), m);
    ws_wbuf_consume(&b, m);
    rd += m;
    assert_int_equal(wr - rd, ws_wbuf_pending(&b));
  }
  assert_memory_equal(in, out, sizeof(in));
  assert_true(b.cap > 0);
  ws_wbuf_trim(&b, 1u << 30); /* small enough to keep */
  assert_true(b.cap > 0);
  ws_wbuf_trim(&b, 0);
  assert_int_equal(b.cap, 0);
  ws_wbuf_free(&b);
}

static void test_ws_wbuf_flush_pipe(void **state) {
  int fds0 = count_fds(), p[2];
  struct ws_wbuf b;
  static uint8_t big[1 << 20], back[1 << 20];
  size_t got = 0, i;
  ws_ssize n;
  (void)state;
  assert_int_equal(pipe(p), 0);
  assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
  assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
  for (i = 0; i < sizeof(big); i++)
    big[i] = (uint8_t)(i ^ (i >> 8));
  ws_wbuf_init(&b, NULL, 0);
  assert_int_equal(ws_wbuf_flush(&b, p[1]), 0); /* nothing queued */
  assert_int_equal(ws_wbuf_append(&b, big, sizeof(big)), 0);
  /* A pipe takes 64 KiB: partial writes, then 0 when full. */
  while ((n = ws_wbuf_flush(&b, p[1])) > 0)
    ;
  assert_int_equal(n, 0);
  assert_true(ws_wbuf_pending(&b) > 0);
  while (got < sizeof(big)) {
    ssize_t r = read(p[0], back + got, sizeof(back) - got);
    if (r > 0)
      got += (size_t)r;
    assert_true(ws_wbuf_flush(&b, p[1]) >= 0);
  }
  assert_int_equal(ws_wbuf_pending(&b), 0);
  assert_memory_equal(big, back, sizeof(big));
  close(p[0]);
  /* The reader is gone: -EPIPE, and no SIGPIPE (the test would die). */
  assert_int_equal(ws_wbuf_append(&b, "x", 1), 0);
  signal(SIGPIPE, SIG_IGN); /* write(2) on a pipe cannot use MSG_NOSIGNAL */
  assert_int_equal(ws_wbuf_flush(&b, p[1]), -EPIPE);
  signal(SIGPIPE, SIG_DFL);
  close(p[1]);
  ws_wbuf_free(&b);
  assert_int_equal(count_fds(), fds0);
}

/* Every allocation point fails once: WS_ENOMEM, the queue keeps exactly
 * what it had, and nothing leaks. */
static void test_ws_wbuf_nomem(void **state) {
  static const size_t sizes[] = {10, 5000, 3, 9000, 70000, 1};
  long i;
  (void)state;
  for (i = 0;; i++) {
    struct failing_mem fm;
    struct ws_wbuf b;
    static uint8_t src[70000];
    size_t k, total = 0;
    int failed = 0;
    failing_mem_init(&fm, i);
    ws_wbuf_init(&b, &fm.mem, 0);
    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
      size_t before = ws_wbuf_pending(&b);
      memset(src, (int)k + 1, sizes[k]);
      if (k == 3) {
        uint8_t *p = ws_wbuf_reserve(&b, sizes[k]);
        if (p == NULL) {
          failed = 1;
          assert_int_equal(ws_wbuf_pending(&b), before);
          break;
        }
        memcpy(p, src, sizes[k]);
        ws_wbuf_commit(&b, sizes[k]);
      } else {
        int r = ws_wbuf_append(&b, src, sizes[k]);
        if (r != 0) {
          assert_int_equal(r, WS_ENOMEM);
          failed = 1;
          assert_int_equal(ws_wbuf_pending(&b), before);
          break;
        }
      }
      total += sizes[k];
      assert_int_equal(ws_wbuf_pending(&b), total);
      assert_int_equal(ws_wbuf_data(&b)[total - 1], (uint8_t)(k + 1));
    }
    ws_wbuf_free(&b);
    assert_int_equal(fm.live, 0);
    if (!failed) {
      assert_int_equal(i, fm.calls);
      break;
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ws_timer_order),
      cmocka_unit_test(test_ws_timer_equal_deadlines),
      cmocka_unit_test(test_ws_timer_cancel),
      cmocka_unit_test(test_ws_timer_reset),
      cmocka_unit_test(test_ws_timer_restart_in_callback),
      cmocka_unit_test(test_ws_timer_many),
      cmocka_unit_test(test_ws_timer_remove_anywhere),
      cmocka_unit_test(test_ws_io_events),
      cmocka_unit_test(test_ws_loop_time_per_callback),
      cmocka_unit_test(test_ws_io_bad_args),
      cmocka_unit_test(test_ws_io_remove_in_callback),
      cmocka_unit_test(test_ws_loop_stop),
      cmocka_unit_test(test_ws_loop_real_clock),
      cmocka_unit_test(test_ws_loop_new_nomem),
      cmocka_unit_test(test_ws_signal),
      cmocka_unit_test(test_ws_net_process_helpers),
      cmocka_unit_test(test_ws_wbuf_basic),
      cmocka_unit_test(test_ws_wbuf_stream),
      cmocka_unit_test(test_ws_wbuf_flush_pipe),
      cmocka_unit_test(test_ws_wbuf_nomem),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
