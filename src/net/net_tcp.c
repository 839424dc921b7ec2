/*
 * net_tcp.c: TCP listen/accept/connect, fd I/O wrappers, and the
 * loop-driven connect with a timeout.
 */
#define _GNU_SOURCE /* accept4 */
#include "net_tcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int err_again(int e) { return e == EWOULDBLOCK ? -EAGAIN : -e; }

static int close_keep_errno(int fd, int r) {
  close(fd);
  return r;
}

int ws_tcp_nodelay(int fd, int on) {
  return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0
             ? 0
             : -errno;
}

int ws_tcp_listen(int *fd, const struct ws_addr *a, int backlog) {
  socklen_t len = ws_addr_len(a);
  int s, on = 1;
  *fd = -1;
  if (len == 0)
    return -EINVAL;
  s = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
             0);
  if (s < 0)
    return -errno;
  /* A restarted server must be able to rebind while old connections sit
   * in TIME_WAIT. */
  if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0)
    return close_keep_errno(s, -errno);
  /* Explicit, not the sysctl default: "[::]:p" means IPv6 only. */
  if (a->sa.sa_family == AF_INET6 &&
      setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0)
    return close_keep_errno(s, -errno);
  if (bind(s, &a->sa, len) != 0)
    return close_keep_errno(s, -errno);
  if (listen(s, backlog > 0 ? backlog : SOMAXCONN) != 0)
    return close_keep_errno(s, -errno);
  *fd = s;
  return 0;
}

int ws_tcp_accept(int lfd, int *fd, struct ws_addr *peer) {
  struct sockaddr_storage ss;
  socklen_t len;
  int s;
  *fd = -1;
  for (;;) {
    len = sizeof(ss);
    s = accept4(lfd, (struct sockaddr *)&ss, &len,
                SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s >= 0)
      break;
    /* A connection reset while queued is gone; take the next one. */
    if (errno != EINTR && errno != ECONNABORTED)
      return err_again(errno);
  }
  /* Only fails for a bad fd or option, neither possible here. */
  (void)ws_tcp_nodelay(s, 1);
  if (peer) {
    memset(peer, 0, sizeof(*peer));
    if (ss.ss_family == AF_INET)
      memcpy(&peer->in4, &ss, sizeof(peer->in4));
    else if (ss.ss_family == AF_INET6)
      memcpy(&peer->in6, &ss, sizeof(peer->in6));
  }
  *fd = s;
  return 0;
}

static int stream_socket(const struct ws_addr *a) {
  int s = socket(a->sa.sa_family,
                 SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0)
    return -errno;
  (void)ws_tcp_nodelay(s, 1);
  return s;
}

/* Returns 0 when under way or done, else -errno (the socket stays open). */
static int start_connect(int s, const struct ws_addr *a) {
  /* An interrupted non-blocking connect carries on in the background, so
   * EINTR is the same as EINPROGRESS; retrying would give EALREADY. */
  if (connect(s, &a->sa, ws_addr_len(a)) != 0 && errno != EINPROGRESS &&
      errno != EINTR)
    return -errno;
  return 0;
}

int ws_tcp_connect(int *fd, const struct ws_addr *a) {
  int s, r;
  *fd = -1;
  if (ws_addr_len(a) == 0)
    return -EINVAL;
  s = stream_socket(a);
  if (s < 0)
    return s;
  r = start_connect(s, a);
  if (r != 0)
    return close_keep_errno(s, r);
  *fd = s;
  return 0;
}

int ws_tcp_connect_result(int fd) {
  int e = 0;
  socklen_t len = sizeof(e);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
    return -errno;
  return -e;
}

int ws_tcp_shutdown(int fd) {
  return shutdown(fd, SHUT_WR) == 0 ? 0 : -errno;
}

ws_ssize ws_net_read(int fd, void *buf, size_t len) {
  ssize_t n;
  do
    n = read(fd, buf, len);
  while (n < 0 && errno == EINTR);
  return n >= 0 ? (ws_ssize)n : err_again(errno);
}

ws_ssize ws_net_write(int fd, const void *buf, size_t len) {
  ssize_t n;
  do
    n = send(fd, buf, len, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == ENOTSOCK) {
    do
      n = write(fd, buf, len);
    while (n < 0 && errno == EINTR);
  }
  return n >= 0 ? (ws_ssize)n : err_again(errno);
}

ws_ssize ws_net_writev(int fd, const struct iovec *iov, int iovcnt) {
  struct msghdr msg;
  ssize_t n;
  if (iovcnt < 0)
    return -EINVAL;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = (struct iovec *)iov;
  msg.msg_iovlen = (size_t)iovcnt;
  do
    n = sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == ENOTSOCK) {
    do
      n = writev(fd, iov, iovcnt);
    while (n < 0 && errno == EINTR);
  }
  return n >= 0 ? (ws_ssize)n : err_again(errno);
}

int ws_net_close(int fd) { return close(fd) == 0 ? 0 : -errno; }

/* ------------------------------------------------- loop-driven connect */

static void deliver(struct ws_connect *c) {
  int fd = c->fd, status = c->status;
  c->fd = -1;
  if (status != 0 && fd >= 0) {
    close(fd);
    fd = -1;
  }
  c->cb(c, fd, status, c->user); /* may free |c|: nothing after this */
}

static void on_writable(struct ws_io *io, unsigned events, void *user) {
  struct ws_connect *c = user;
  (void)io;
  (void)events;
  c->status = ws_tcp_connect_result(c->fd);
  ws_io_stop(&c->io);
  ws_timer_stop(&c->timer);
  deliver(c);
}

/* Either the deadline, or the deferred report of an immediate outcome. */
static void on_timer(struct ws_timer *t, void *user) {
  struct ws_connect *c = user;
  (void)t;
  if (c->io.active) {
    ws_io_stop(&c->io);
    c->status = -ETIMEDOUT;
  }
  deliver(c);
}

int ws_connect_start(ws_loop *loop, struct ws_connect *c,
                     const struct ws_addr *a, uint64_t timeout_ms,
                     ws_connect_cb cb, void *user) {
  int fd, r;
  if (cb == NULL)
    return -EINVAL;
  memset(&c->io, 0, sizeof(c->io));
  c->addr = *a;
  c->cb = cb;
  c->user = user;
  c->status = 0;
  ws_timer_init(loop, &c->timer, on_timer, c);
  c->fd = -1;
  if (ws_addr_len(a) == 0)
    return -EINVAL;
  fd = stream_socket(a);
  if (fd < 0)
    return fd; /* no socket: nothing to report later */
  c->fd = fd;
  c->status = start_connect(fd, a);
  if (c->status == 0) {
    /* Under way, or already connected: either way the socket turns
     * writable, and SO_ERROR tells which. */
    r = ws_io_start(loop, &c->io, fd, WS_IO_WRITE, on_writable, c);
    if (r != 0) {
      close(fd);
      c->fd = -1;
      return r;
    }
    if (timeout_ms > 0)
      ws_timer_start(&c->timer, timeout_ms);
    return 0;
  }
  /* connect() failed at once (loopback refuses synchronously): report it
   * from the loop like every other outcome. */
  ws_timer_start(&c->timer, 0);
  return 0;
}

void ws_connect_cancel(struct ws_connect *c) {
  if (!c->io.active && !ws_timer_active(&c->timer))
    return;
  ws_io_stop(&c->io);
  ws_timer_stop(&c->timer);
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
}
