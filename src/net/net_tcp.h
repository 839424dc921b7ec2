/*
 * net_tcp.h: TCP sockets, and the non-blocking fd I/O wrappers shared with
 * UDP and pipes.
 *
 * Every socket is created with SOCK_NONBLOCK | SOCK_CLOEXEC. Every TCP
 * connection (accepted or connected) gets TCP_NODELAY. Listeners get
 * SO_REUSEADDR, and IPv6 listeners IPV6_V6ONLY = 1, so "[::]:p" never
 * silently takes IPv4 as well. Sends use MSG_NOSIGNAL: a closed peer gives
 * -EPIPE, never SIGPIPE. EINTR is retried inside every call.
 *
 * Returns follow net_error.h: 0 or a byte count, else -errno. -EAGAIN
 * means the fd is not ready: wait for the loop (WS_IO_READ / WS_IO_WRITE).
 */
#ifndef WS_NET_TCP_H
#define WS_NET_TCP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../core/ws_core.h"
#include "net_addr.h"
#include "net_error.h"
#include "net_loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Creates a listening socket bound to |a| (port 0: the OS picks one; read
 * it back with ws_addr_local()). |backlog| <= 0 means SOMAXCONN.
 * On success |*fd| is the listener; on failure it is -1 and nothing
 * stays open. Returns 0 or -errno: -EADDRINUSE, -EACCES (port < 1024),
 * -EADDRNOTAVAIL (no such local address, e.g. ::1 without IPv6),
 * -EAFNOSUPPORT, -EMFILE, -EINVAL (|a| is AF_UNSPEC)...
 */
int ws_tcp_listen(int *fd, const struct ws_addr *a, int backlog);

/*
 * Accepts one connection from listener |lfd| (accept4 with SOCK_NONBLOCK |
 * SOCK_CLOEXEC), sets TCP_NODELAY, and stores the peer in |peer| when not
 * NULL. Connections that died in the queue (ECONNABORTED) are skipped.
 * Call it until -EAGAIN to drain the queue, or once per wake-up (the
 * level-triggered loop reports the rest).
 * Returns 0 with |*fd| set, -EAGAIN, or -errno. On -EMFILE/-ENFILE the
 * connection stays queued and the listener stays readable: stop watching
 * it (ws_io_update(io, 0)) and retry from a timer, or the loop spins.
 */
int ws_tcp_accept(int lfd, int *fd, struct ws_addr *peer);

/*
 * Starts a non-blocking connect to |a|: socket, TCP_NODELAY, connect().
 * Returns 0 with |*fd| set when the connect is under way (or, rarely,
 * already done): wait for WS_IO_WRITE, then ask ws_tcp_connect_result().
 * Returns -errno with |*fd| = -1 and nothing open when it failed at once
 * (-ECONNREFUSED is possible immediately on loopback, -ENETUNREACH...).
 * Prefer ws_connect_start(), which does all of this with a timeout.
 */
int ws_tcp_connect(int *fd, const struct ws_addr *a);

/* The outcome of a connect once the fd is writable: 0 or -errno
 * (getsockopt SO_ERROR), e.g. -ECONNREFUSED. */
int ws_tcp_connect_result(int fd);

/* Half-close: shutdown(SHUT_WR), the peer reads EOF. 0 or -errno. */
int ws_tcp_shutdown(int fd);

/* Sets (1) or clears (0) TCP_NODELAY. 0 or -errno. */
int ws_tcp_nodelay(int fd, int on);

/*
 * read(): returns the byte count (> 0), 0 at end of stream, -EAGAIN when
 * nothing is ready, or -errno (-ECONNRESET...).
 */
ws_ssize ws_net_read(int fd, void *buf, size_t len);

/*
 * send(MSG_NOSIGNAL), or write() when |fd| is not a socket (a pipe).
 * Returns the bytes written (possibly fewer than |len|: a partial write),
 * -EAGAIN when none could be, or -errno (-EPIPE, -ECONNRESET...).
 */
ws_ssize ws_net_write(int fd, const void *buf, size_t len);

/* sendmsg(MSG_NOSIGNAL) over |iovcnt| buffers (writev() for non-sockets).
 * Returns as ws_net_write(). */
ws_ssize ws_net_writev(int fd, const struct iovec *iov, int iovcnt);

/* close(); no retry on EINTR (the fd is gone either way). 0 or -errno. */
int ws_net_close(int fd);

/* ---------------------------------------- connecting through the loop */

struct ws_connect;

/*
 * Called exactly once per successful ws_connect_start(), from the loop,
 * never from inside ws_connect_start() itself. |status| is 0 with |fd| a
 * connected socket that now belongs to the caller and is no longer watched
 * (start a ws_stream or ws_io on it), or -errno with |fd| = -1 and the
 * socket closed: -ECONNREFUSED, -ETIMEDOUT (the timeout expired),
 * -EHOSTUNREACH... The struct ws_connect may be freed inside the callback.
 */
typedef void (*ws_connect_cb)(struct ws_connect *c, int fd, int status,
                              void *user);

struct ws_connect {
  /* public */
  void *user;
  struct ws_addr addr; /* public, read-only: the destination */
  /* private */
  struct ws_io io;
  struct ws_timer timer;
  ws_connect_cb cb;
  int fd;
  int status;
};

/*
 * Connects to |a| through |loop| with a deadline of |timeout_ms| (0: no
 * deadline). Failures of connect() itself, and a connect that completes at
 * once, are reported through |cb| on the next loop iteration too, so the
 * caller has one code path. |c| must stay valid until |cb| runs or
 * ws_connect_cancel().
 * Returns 0 (|cb| will be called once), or -errno from socket() or the
 * loop (-EMFILE, -EAFNOSUPPORT, -EINVAL): |cb| will not be called.
 */
int ws_connect_start(ws_loop *loop, struct ws_connect *c,
                     const struct ws_addr *a, uint64_t timeout_ms,
                     ws_connect_cb cb, void *user);

/* Abandons a pending connect: closes the socket; |cb| is not called.
 * A no-op after |cb| has run. */
void ws_connect_cancel(struct ws_connect *c);

#ifdef __cplusplus
}
#endif

#endif /* WS_NET_TCP_H */
