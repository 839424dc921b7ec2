/*
 * net_loop.h: the epoll event loop, fd watchers, timers and signals.
 *
 * Model: libuv, reduced to what wsspec needs. One loop per thread; none of
 * these functions may be called from another thread.
 *
 * Level-triggered. A watcher (struct ws_io) states its interest (READ,
 * WRITE, both or none) and is called on every iteration while the fd is
 * ready for it, so a callback may read once and return: whatever it left
 * is reported again next iteration. ws_io_update() issues epoll_ctl() only
 * when the interest actually changes, so a connection that reads once and
 * writes once per message costs no epoll_ctl() at all in steady state.
 *
 * Time is in milliseconds from an injectable monotonic clock (default:
 * CLOCK_MONOTONIC), read before every callback and cached: ws_loop_now()
 * is the time the current callback started, so a timer started in a
 * callback counts from then, however long earlier callbacks of the same
 * iteration took.
 * Timers live in an intrusive binary min-heap keyed by (deadline, start
 * order): start, stop and restart are O(log n) and never allocate, and
 * timers with equal deadlines fire in the order they were started.
 *
 * Handles (struct ws_io, struct ws_timer, struct ws_signal) are allocated
 * by the caller, usually inside its own connection struct, and must stay
 * at the same address while active. Their "private" fields belong to the
 * loop. A handle may be stopped, and its memory freed, from inside any
 * callback, including its own: the loop never touches a handle after
 * calling its callback, and events already fetched for a stopped watcher
 * are dropped.
 *
 * Error codes are those of net_error.h (0 or -errno, WS_ENOMEM).
 */
#ifndef WS_NET_LOOP_H
#define WS_NET_LOOP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/ws_core.h"
#include "net_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque loop handle. */
typedef struct ws_loop ws_loop;

/*
 * A monotonic clock in milliseconds. |user| is the clock_user given to
 * ws_loop_new(). Tests pass a fake clock and drive the loop with
 * WS_RUN_NOWAIT, so timers fire without sleeping.
 */
typedef uint64_t (*ws_clock_fn)(void *user);

/* CLOCK_MONOTONIC in milliseconds; |user| is unused. */
uint64_t ws_clock_monotonic(void *user);

struct ws_loop_options {
  ws_clock_fn clock; /* NULL: ws_clock_monotonic */
  void *clock_user;
};

/*
 * Creates a loop (one allocation through |mem|, NULL = default allocator,
 * plus an epoll fd with EPOLL_CLOEXEC). |opt| may be NULL.
 * Returns 0, WS_ENOMEM, or -errno from epoll_create1 (-EMFILE...).
 */
int ws_loop_new(ws_loop **loop, const struct ws_loop_options *opt,
                const struct ws_mem *mem);

/*
 * Frees the loop and closes its epoll fd. Every handle must be stopped
 * first: returns -EBUSY (and frees nothing) while any is active, else 0.
 * NULL is a no-op.
 */
int ws_loop_free(ws_loop *loop);

enum ws_run_mode {
  WS_RUN_DEFAULT = 0, /* until ws_loop_stop() or no active handle */
  WS_RUN_ONCE,        /* one iteration; blocks for events if alive */
  WS_RUN_NOWAIT       /* one iteration; never blocks */
};

/*
 * Runs the loop. Each iteration: update the cached time, run due timers,
 * wait for fd events (up to the next deadline, or not at all in NOWAIT),
 * dispatch them, update the time and run due timers again.
 * Returns 0 when stopped or no handle is active, 1 when ONCE/NOWAIT return
 * with handles still active, or -errno if epoll_wait() fails (EINTR is not
 * a failure). Not reentrant: do not call it from a callback.
 */
int ws_loop_run(ws_loop *loop, enum ws_run_mode mode);

/* Makes ws_loop_run() return after the current iteration. */
void ws_loop_stop(ws_loop *loop);

/* Returns 1 when a watcher, timer or signal handle is active. */
int ws_loop_alive(const ws_loop *loop);

/* The cached time, in ms: when the current callback started. */
uint64_t ws_loop_now(const ws_loop *loop);

/* Reads the clock into the cached time (after a long callback). */
void ws_loop_update_time(ws_loop *loop);

/* Counters since ws_loop_new(), for tests and benchmarks. */
struct ws_loop_stats {
  uint64_t iterations; /* epoll_wait() calls */
  uint64_t events;     /* fd events dispatched */
  uint64_t ctl_calls;  /* epoll_ctl() calls */
  uint64_t timers_run; /* timer callbacks made */
  uint64_t reads;      /* read syscalls by ws_stream_read() */
  uint64_t writes;     /* write syscalls by struct ws_stream */
};

void ws_loop_stats(const ws_loop *loop, struct ws_loop_stats *out);

/* Internal (net_stream.c): counts read and write system calls. */
void ws__loop_count(ws_loop *loop, unsigned reads, unsigned writes);

/* ---------------------------------------------------------------- fds */

/* Interest and event bits (equal to EPOLLIN / EPOLLOUT / ...). */
#define WS_IO_READ 0x001u
#define WS_IO_WRITE 0x004u
#define WS_IO_ERR 0x008u /* error condition; always reported */
#define WS_IO_HUP 0x010u /* both directions hung up; always reported */

struct ws_io;

/*
 * Called with the ready bits: READ and/or WRITE (within the interest),
 * ERR and HUP. On ERR or HUP the bits READ and WRITE of the interest are
 * set too, so that the next read() or write() reports the error. With an
 * interest of 0, ERR/HUP are still reported on every iteration: the
 * callback must then stop the watcher or close the fd.
 */
typedef void (*ws_io_cb)(struct ws_io *io, unsigned events, void *user);

struct ws_io {
  /* public, read-only */
  int fd;
  unsigned interest; /* WS_IO_READ | WS_IO_WRITE, or 0 */
  /* public */
  void *user;
  /* private */
  ws_io_cb cb;
  ws_loop *loop;
  uint8_t active;
};

/*
 * Starts watching |fd| (EPOLL_CTL_ADD) with |interest| (may be 0). The
 * loop does not own |fd| and never closes it. |io| may be zeroed memory
 * or a stopped watcher. On failure |io| is left untouched.
 * Returns 0, -EINVAL (fd < 0, no callback, unknown interest bits), or
 * -errno from epoll_ctl: -EEXIST (fd already watched, by this or another
 * watcher), -EPERM (a regular file), -EBADF.
 */
int ws_io_start(ws_loop *loop, struct ws_io *io, int fd, unsigned interest,
                ws_io_cb cb, void *user);

/*
 * Changes the interest (EPOLL_CTL_MOD), with no system call when it is
 * unchanged. Returns 0, -EINVAL (|io| not active) or -errno.
 */
int ws_io_update(struct ws_io *io, unsigned interest);

/*
 * Stops watching (EPOLL_CTL_DEL) and drops the events already fetched for
 * |io| in this iteration. Does not close the fd. A no-op on an inactive
 * watcher. Safe inside any callback. Returns 0 or -errno from epoll_ctl
 * (the watcher is inactive either way).
 */
int ws_io_stop(struct ws_io *io);

/* ws_io_stop() then close(fd); sets io->fd to -1. Returns 0 or -errno
 * from close() (the fd is released either way). */
int ws_io_close(struct ws_io *io);

/* ------------------------------------------------------------- timers */

struct ws_timer;

typedef void (*ws_timer_cb)(struct ws_timer *t, void *user);

/* Intrusive heap links; private. */
struct ws__heap_node {
  struct ws__heap_node *left;
  struct ws__heap_node *right;
  struct ws__heap_node *parent;
};

struct ws_timer {
  /* private; ws__heap_node first so the heap can cast back */
  struct ws__heap_node node;
  /* public */
  void *user;
  /* public, read-only */
  uint64_t deadline; /* loop time at which it fires, when active */
  /* private */
  uint64_t seq;
  uint64_t timeout;
  ws_timer_cb cb;
  ws_loop *loop;
  uint8_t active;
};

/* Prepares |t|; it is inactive until ws_timer_start(). */
void ws_timer_init(ws_loop *loop, struct ws_timer *t, ws_timer_cb cb,
                   void *user);

/*
 * Arms |t| to fire once at ws_loop_now() + |timeout_ms|. On an active
 * timer this is the "reset": the old deadline is dropped and |t| is
 * ordered after every timer already due at the same new deadline.
 * A timer started from a timer callback never fires in the same pass,
 * even with timeout 0, so a self-restarting timer cannot starve the loop.
 * A repeating timer restarts itself from its callback.
 */
void ws_timer_start(struct ws_timer *t, uint64_t timeout_ms);

/* Restarts |t| with the timeout of its last start (an idle timer). */
void ws_timer_again(struct ws_timer *t);

/* Cancels |t|; a no-op when inactive. Its callback will not be called. */
void ws_timer_stop(struct ws_timer *t);

/* Returns 1 while |t| is armed. */
int ws_timer_active(const struct ws_timer *t);

/* ------------------------------------------------------------ signals */

struct ws_signal;

typedef void (*ws_signal_cb)(struct ws_signal *s, int signo, void *user);

struct ws_signal {
  /* public */
  void *user;
  /* private */
  struct ws_io io;
  ws_signal_cb cb;
  sigset_t set;      /* the signals delivered */
  sigset_t old_mask; /* the mask before the start */
};

/*
 * Delivers the |count| signals at |signals| (for example SIGINT and
 * SIGTERM) through the loop: blocks them with sigprocmask() and reads them
 * from a signalfd, so |cb| runs as an ordinary callback, where any loop
 * function may be called. The process signal mask is the only global
 * state touched. Call it before creating threads.
 * Returns 0, -EINVAL (count 0 or a bad signal number), or -errno.
 */
int ws_signal_start(ws_loop *loop, struct ws_signal *s, const int *signals,
                    size_t count, ws_signal_cb cb, void *user);

/*
 * Closes the signalfd and unblocks those of its signals that were not
 * blocked before the start; a signal still pending is then delivered with
 * its normal disposition. A no-op
 * when inactive. Returns 0.
 */
int ws_signal_stop(struct ws_signal *s);

/* ------------------------------------------------- process-wide helpers */

/*
 * Sets SIGPIPE to SIG_IGN. The layer itself sends with MSG_NOSIGNAL, so
 * this only protects code that writes to sockets by other means.
 * Returns 0 or -errno.
 */
int ws_net_ignore_sigpipe(void);

/*
 * Raises the soft RLIMIT_NOFILE to the hard limit (capped to what the
 * kernel accepts when the hard limit is infinite) and stores the new soft
 * limit in |*limit| when not NULL. Returns 0 or -errno.
 */
int ws_net_raise_nofile(uint64_t *limit);

#ifdef __cplusplus
}
#endif

#endif /* WS_NET_LOOP_H */
