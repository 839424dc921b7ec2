/*
 * test_net_tcp.c: TCP on loopback through the loop (net_tcp.h,
 * net_stream.h). Servers listen on 127.0.0.1 or ::1 with port 0 only.
 * Every test checks that it closed every fd it opened.
 */
#define _DEFAULT_SOURCE
#include "test_support.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/net_addr.h"
#include "net/net_loop.h"
#include "net/net_stream.h"
#include "net/net_tcp.h"
#include "net_test_util.h"

/* ------------------------------------------------------------ helpers */

static void msleep(long ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* Runs the loop until |*done| or |ms| of real time pass (then fails). */
struct guard {
  struct ws_timer t;
  int expired;
};

static void on_guard(struct ws_timer *t, void *user) {
  struct guard *g = user;
  g->expired = 1;
  ws_loop_stop(t->loop);
}

static void pump(ws_loop *loop, const int *done, uint64_t ms) {
  struct guard g;
  memset(&g, 0, sizeof(g));
  ws_timer_init(loop, &g.t, on_guard, &g);
  ws_timer_start(&g.t, ms);
  while (!*done && !g.expired)
    ws_loop_run(loop, WS_RUN_ONCE);
  ws_timer_stop(&g.t);
  if (g.expired)
    fail_msg("loop did not finish within %lu ms", (unsigned long)ms);
}

/* ------------------------------------------------- echo server (RFC 862) */

struct server;

struct conn {
  struct ws_stream s;
  struct server *srv;
  int eof;
  uint8_t buf[16384];
};

struct server {
  ws_loop *loop;
  struct ws_io lio;
  struct ws_addr addr; /* the real address, from getsockname */
  int accepted;
  int closed;
  int live;
  int close_target; /* |all_closed| is set when |closed| reaches it */
  int all_closed;
};

static void conn_close(struct conn *c) {
  c->srv->closed++;
  c->srv->live--;
  if (c->srv->closed >= c->srv->close_target)
    c->srv->all_closed = 1;
  ws_stream_close(&c->s);
  free(c);
}

static void on_conn(struct ws_stream *s, enum ws_stream_event ev, int status,
                    void *user) {
  struct conn *c = user;
  ws_ssize n;
  (void)status;
  if (ev == WS_STREAM_ERROR) {
    conn_close(c);
    return;
  }
  if (ev == WS_STREAM_DRAINED) {
    if (c->eof)
      conn_close(c);
    return;
  }
  n = ws_stream_read(s, c->buf, sizeof(c->buf));
  if (n > 0) {
    if (ws_stream_write(s, c->buf, (size_t)n) != 0)
      conn_close(c);
    return;
  }
  if (n == -EAGAIN)
    return;
  if (n < 0) {
    conn_close(c);
    return;
  }
  /* EOF: echo what is queued, then half-close; close once it is sent. */
  c->eof = 1;
  assert_int_equal(ws_stream_read_stop(s), 0);
  assert_int_equal(ws_stream_shutdown(s), 0);
  if (ws_stream_pending(s) == 0)
    conn_close(c);
}

static void on_accept(struct ws_io *io, unsigned events, void *user) {
  struct server *srv = user;
  int fd, r;
  (void)events;
  while ((r = ws_tcp_accept(io->fd, &fd, NULL)) == 0) {
    struct conn *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    check_fd_flags(fd, 1);
    c->srv = srv;
    assert_int_equal(
        ws_stream_start(srv->loop, &c->s, fd, NULL, 1 << 20, on_conn, c), 0);
    srv->accepted++;
    srv->live++;
  }
  assert_int_equal(r, -EAGAIN);
}

/* Listens on |ip| port 0. Returns 0 or the listen error. */
static int server_start(struct server *srv, ws_loop *loop, const char *ip) {
  struct ws_addr a;
  int fd, r;
  memset(srv, 0, sizeof(*srv));
  srv->loop = loop;
  assert_int_equal(ws_addr_set(&a, ip, 0), 0);
  r = ws_tcp_listen(&fd, &a, 0);
  if (r != 0) {
    assert_int_equal(fd, -1);
    return r;
  }
  check_fd_flags(fd, 0);
  assert_int_equal(sockopt(fd, SOL_SOCKET, SO_REUSEADDR), 1);
  assert_int_equal(ws_addr_local(fd, &srv->addr), 0);
  assert_int_not_equal(ws_addr_port(&srv->addr), 0);
  assert_int_equal(ws_io_start(loop, &srv->lio, fd, WS_IO_READ, on_accept,
                               srv), 0);
  return 0;
}

static void server_stop(struct server *srv) {
  assert_int_equal(srv->live, 0);
  assert_int_equal(ws_io_close(&srv->lio), 0);
}

/* ---------------------------------------------------------- the client */

struct client {
  ws_loop *loop;
  struct ws_connect conn;
  struct ws_stream s;
  const uint8_t *msg;
  size_t len;
  uint8_t got[1 << 16];
  size_t ngot;
  int status; /* of the connect */
  int connected;
  int calls;
  int done;
};

static void on_client(struct ws_stream *s, enum ws_stream_event ev,
                      int status, void *user) {
  struct client *c = user;
  ws_ssize n;
  if (ev != WS_STREAM_READABLE)
    fail_msg("client event %d status %d", (int)ev, status);
  n = ws_stream_read(s, c->got + c->ngot, sizeof(c->got) - c->ngot);
  if (n > 0) {
    c->ngot += (size_t)n;
    return;
  }
  assert_int_equal(n, 0); /* the server's half-close */
  ws_stream_close(s);
  c->done = 1;
}

static void on_connected(struct ws_connect *cr, int fd, int status,
                         void *user) {
  struct client *c = user;
  assert_ptr_equal(cr, &c->conn);
  c->calls++;
  c->status = status;
  if (status != 0) {
    assert_int_equal(fd, -1);
    c->done = 1;
    return;
  }
  check_fd_flags(fd, 1);
  c->connected = 1;
  assert_int_equal(ws_stream_start(c->loop, &c->s, fd, NULL, 0, on_client,
                                   c), 0);
  assert_int_equal(ws_stream_write(&c->s, c->msg, c->len), 0);
  /* Half-close right away: the echo must still come back in full. */
  assert_int_equal(ws_stream_shutdown(&c->s), 0);
  assert_int_equal(ws_stream_write(&c->s, "x", 1), -EPIPE);
}

static void echo_roundtrip(ws_loop *loop, const struct ws_addr *to) {
  static struct client c;
  static const char msg[] = "hello, echo";
  memset(&c, 0, sizeof(c));
  c.loop = loop;
  c.msg = (const uint8_t *)msg;
  c.len = sizeof(msg) - 1;
  assert_int_equal(ws_connect_start(loop, &c.conn, to, 5000, on_connected,
                                    &c), 0);
  assert_int_equal(c.calls, 0); /* never from inside the start */
  pump(loop, &c.done, 5000);
  assert_int_equal(c.calls, 1);
  assert_int_equal(c.status, 0);
  assert_int_equal(c.ngot, c.len);
  assert_memory_equal(c.got, msg, c.len);
}

/* -------------------------------------------------------------- tests */

static void test_ws_tcp_listen_port0(void **state) {
  int fds0 = count_fds();
  ws_loop *loop = NULL;
  struct server srv;
  char buf[64], want[64];
  (void)state;
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  assert_int_equal(server_start(&srv, loop, "127.0.0.1"), 0);
  assert_int_equal(ws_addr_format_url(buf, sizeof(buf), WS_SCHEME_WS,
                                      &srv.addr) > 0, 1);
  snprintf(want, sizeof(want), "ws://127.0.0.1:%u",
           (unsigned)ws_addr_port(&srv.addr));
  assert_string_equal(buf, want);
  server_stop(&srv);
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

static void test_ws_tcp_echo(void **state) {
  int fds0 = count_fds();
  ws_loop *loop = NULL;
  struct server srv;
  (void)state;
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  assert_int_equal(server_start(&srv, loop, "127.0.0.1"), 0);
  srv.close_target = 2;
  echo_roundtrip(loop, &srv.addr);
  echo_roundtrip(loop, &srv.addr);
  /* The server closes its side once its echo is flushed. */
  pump(loop, &srv.all_closed, 5000);
  assert_int_equal(srv.accepted, 2);
  assert_int_equal(srv.closed, 2);
  server_stop(&srv);
  assert_int_equal(ws_loop_run(loop, WS_RUN_DEFAULT), 0);
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

static void test_ws_tcp_echo_ipv6(void **state) {
  int fds0 = count_fds(), r;
  ws_loop *loop = NULL;
  struct server srv;
  char buf[64], want[64];
  (void)state;
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  r = server_start(&srv, loop, "::1");
  if (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT) {
    assert_int_equal(ws_loop_free(loop), 0);
    print_message("no IPv6 loopback: %s\n", ws_net_strerror(r));
    skip();
  }
  assert_int_equal(r, 0);
  assert_int_equal(sockopt(srv.lio.fd, IPPROTO_IPV6, IPV6_V6ONLY), 1);
  ws_addr_format_url(buf, sizeof(buf), WS_SCHEME_WS, &srv.addr);
  snprintf(want, sizeof(want), "ws://[::1]:%u",
           (unsigned)ws_addr_port(&srv.addr));
  assert_string_equal(buf, want);
  srv.close_target = 1;
  echo_roundtrip(loop, &srv.addr);
  pump(loop, &srv.all_closed, 5000);
  server_stop(&srv);
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

/* A port with nothing listening: bound once by us, then released. */
static uint16_t closed_port(void) {
  struct ws_addr a, real;
  int fd;
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  assert_int_equal(ws_tcp_listen(&fd, &a, 0), 0);
  assert_int_equal(ws_addr_local(fd, &real), 0);
  assert_int_equal(ws_net_close(fd), 0);
  return ws_addr_port(&real);
}

static void test_ws_tcp_connect_refused(void **state) {
  int fds0 = count_fds(), fd, r;
  ws_loop *loop = NULL;
  static struct client c;
  struct ws_addr a;
  char msg[128], want[128];
  (void)state;
  memset(&c, 0, sizeof(c));
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  c.loop = loop;
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", closed_port()), 0);
  assert_int_equal(ws_connect_start(loop, &c.conn, &a, 5000, on_connected,
                                    &c), 0);
  assert_int_equal(c.calls, 0);
  pump(loop, &c.done, 5000);
  assert_int_equal(c.calls, 1);
  assert_int_equal(c.status, -ECONNREFUSED);
  assert_false(c.connected);
  ws_addr_format_error(msg, sizeof(msg), "connect", &a, c.status);
  snprintf(want, sizeof(want), "connect 127.0.0.1:%u: connection refused",
           (unsigned)ws_addr_port(&a));
  assert_string_equal(msg, want);
  assert_false(ws_loop_alive(loop));
  /* The plain call: refused at once, or once writable. */
  r = ws_tcp_connect(&fd, &a);
  if (r == 0) {
    wait_writable(fd);
    assert_int_equal(ws_tcp_connect_result(fd), -ECONNREFUSED);
    assert_int_equal(ws_net_close(fd), 0);
  } else {
    assert_int_equal(r, -ECONNREFUSED);
    assert_int_equal(fd, -1);
  }
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

static void test_ws_tcp_addr_in_use(void **state) {
  int fds0 = count_fds(), fd1, fd2;
  struct ws_addr a, real;
  char msg[128], want[128];
  (void)state;
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  assert_int_equal(ws_tcp_listen(&fd1, &a, 0), 0);
  assert_int_equal(ws_addr_local(fd1, &real), 0);
  assert_int_equal(ws_tcp_listen(&fd2, &real, 0), -EADDRINUSE);
  assert_int_equal(fd2, -1);
  ws_addr_format_error(msg, sizeof(msg), "listen", &real, -EADDRINUSE);
  snprintf(want, sizeof(want), "listen 127.0.0.1:%u: address already in use",
           (unsigned)ws_addr_port(&real));
  assert_string_equal(msg, want);
  assert_int_equal(ws_net_close(fd1), 0);
  assert_int_equal(count_fds(), fds0);
}

/* The deadline, on a fake clock: a listener with a full accept queue
 * drops further SYNs, so those connects hang until the timer fires. */
static void test_ws_tcp_connect_timeout(void **state) {
  enum { N = 8 };
  int fds0 = count_fds(), lfd, i, done = 0, ok = 0, timed_out = 0, spins;
  struct fake_clock clk = {1000};
  struct ws_loop_options opt = {fake_now, &clk};
  ws_loop *loop = NULL;
  static struct client c[N];
  struct ws_addr a, real;
  char msg[128], want[128];
  (void)state;
  memset(c, 0, sizeof(c));
  assert_int_equal(ws_loop_new(&loop, &opt, NULL), 0);
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  assert_int_equal(ws_tcp_listen(&lfd, &a, 1), 0);
  assert_int_equal(ws_addr_local(lfd, &real), 0);
  for (i = 0; i < N; i++) {
    static const char m[] = "m";
    c[i].loop = loop;
    c[i].msg = (const uint8_t *)m;
    c[i].len = 1;
    assert_int_equal(ws_connect_start(loop, &c[i].conn, &real, 3000,
                                      on_connected, &c[i]), 0);
  }
  /* Real time passes for the handshakes, the fake clock stands still. */
  for (spins = 0; spins < 300; spins++) {
    int now_done = 0;
    ws_loop_run(loop, WS_RUN_NOWAIT);
    for (i = 0; i < N; i++)
      now_done += c[i].calls;
    if (now_done != done) {
      done = now_done;
      spins = 0;
    }
    if (spins > 30)
      break;
    msleep(1);
  }
  if (done == N) {
    for (i = 0; i < N; i++)
      if (c[i].connected)
        ws_stream_close(&c[i].s);
    close(lfd);
    assert_int_equal(ws_loop_free(loop), 0);
    print_message("every connect completed: no SYN drop to time out\n");
    skip();
  }
  clk.now += 2999;
  ws_loop_run(loop, WS_RUN_NOWAIT);
  for (i = 0, done = 0; i < N; i++)
    done += c[i].calls;
  assert_true(done < N); /* not yet: one millisecond to go */
  clk.now += 1;
  ws_loop_run(loop, WS_RUN_NOWAIT);
  for (i = 0; i < N; i++) {
    assert_int_equal(c[i].calls, 1);
    if (c[i].status == 0) {
      ok++;
      ws_stream_close(&c[i].s);
    } else {
      assert_int_equal(c[i].status, -ETIMEDOUT);
      timed_out++;
    }
  }
  assert_true(ok >= 1);
  assert_true(timed_out >= 1);
  ws_addr_format_error(msg, sizeof(msg), "connect", &real, -ETIMEDOUT);
  snprintf(want, sizeof(want), "connect 127.0.0.1:%u: timed out",
           (unsigned)ws_addr_port(&real));
  assert_string_equal(msg, want);
  assert_false(ws_loop_alive(loop));
  assert_int_equal(ws_net_close(lfd), 0);
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

static void test_ws_connect_cancel(void **state) {
  int fds0 = count_fds(), lfd;
  ws_loop *loop = NULL;
  static struct client c, d;
  struct ws_addr a, real;
  (void)state;
  memset(&c, 0, sizeof(c));
  memset(&d, 0, sizeof(d));
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  assert_int_equal(ws_tcp_listen(&lfd, &a, 0), 0);
  assert_int_equal(ws_addr_local(lfd, &real), 0);
  assert_int_equal(ws_connect_start(loop, &c.conn, &real, 1000, on_connected,
                                    &c), 0);
  ws_connect_cancel(&c.conn);
  ws_connect_cancel(&c.conn); /* twice: a no-op */
  /* A refused connect is reported from a zero timer: cancel that too. */
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", closed_port()), 0);
  assert_int_equal(ws_connect_start(loop, &d.conn, &a, 0, on_connected, &d),
                   0);
  ws_connect_cancel(&d.conn);
  assert_false(ws_loop_alive(loop));
  assert_int_equal(ws_loop_run(loop, WS_RUN_NOWAIT), 0);
  assert_int_equal(c.calls + d.calls, 0);
  memset(&a, 0, sizeof(a));
  assert_int_equal(ws_connect_start(loop, &c.conn, &a, 0, on_connected, &c),
                   -EINVAL);
  assert_int_equal(ws_net_close(lfd), 0);
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

/* A connected pair without the loop: plain connect, accept. */
static void tcp_pair(int *lfd, int *cfd, int *sfd) {
  struct ws_addr a, real, peer, local;
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  assert_int_equal(ws_tcp_listen(lfd, &a, 0), 0);
  assert_int_equal(ws_addr_local(*lfd, &real), 0);
  assert_int_equal(ws_tcp_connect(cfd, &real), 0);
  wait_writable(*cfd);
  assert_int_equal(ws_tcp_connect_result(*cfd), 0);
  wait_readable(*lfd);
  assert_int_equal(ws_tcp_accept(*lfd, sfd, &peer), 0);
  assert_int_equal(ws_addr_local(*cfd, &local), 0);
  assert_true(ws_addr_equal(&peer, &local));
  assert_int_equal(ws_addr_peer(*sfd, &peer), 0);
  assert_true(ws_addr_equal(&peer, &local));
  check_fd_flags(*cfd, 1);
  check_fd_flags(*sfd, 1);
}

static void test_ws_tcp_accept_drain(void **state) {
  int fds0 = count_fds(), lfd, cfd[3], sfd[3], i, fd;
  struct ws_addr a, real;
  (void)state;
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  assert_int_equal(ws_tcp_listen(&lfd, &a, 0), 0);
  assert_int_equal(ws_addr_local(lfd, &real), 0);
  assert_int_equal(ws_tcp_accept(lfd, &fd, NULL), -EAGAIN);
  assert_int_equal(fd, -1);
  for (i = 0; i < 3; i++) {
    assert_int_equal(ws_tcp_connect(&cfd[i], &real), 0);
    wait_writable(cfd[i]);
    assert_int_equal(ws_tcp_connect_result(cfd[i]), 0);
  }
  for (i = 0; i < 3; i++) {
    wait_readable(lfd);
    assert_int_equal(ws_tcp_accept(lfd, &sfd[i], NULL), 0);
    check_fd_flags(sfd[i], 1);
  }
  assert_int_equal(ws_tcp_accept(lfd, &fd, NULL), -EAGAIN);
  for (i = 0; i < 3; i++) {
    assert_int_equal(ws_net_close(cfd[i]), 0);
    assert_int_equal(ws_net_close(sfd[i]), 0);
  }
  assert_int_equal(ws_net_close(lfd), 0);
  assert_int_equal(count_fds(), fds0);
}

static void test_ws_net_io_wrappers(void **state) {
  int fds0 = count_fds(), lfd, cfd, sfd;
  char buf[64];
  struct iovec iov[3] = {{(void *)"ab", 2}, {(void *)"", 0},
                         {(void *)"cdef", 4}};
  struct ws_addr a;
  (void)state;
  tcp_pair(&lfd, &cfd, &sfd);
  assert_int_equal(ws_net_read(sfd, buf, sizeof(buf)), -EAGAIN);
  assert_int_equal(ws_net_writev(cfd, iov, 3), 6);
  assert_int_equal(ws_net_write(cfd, "gh", 2), 2);
  {
    size_t got = 0;
    while (got < 8) { /* two sends may arrive as one read or two */
      ws_ssize n;
      wait_readable(sfd);
      n = ws_net_read(sfd, buf + got, sizeof(buf) - got);
      assert_true(n > 0);
      got += (size_t)n;
    }
    assert_int_equal(got, 8);
  }
  assert_memory_equal(buf, "abcdefgh", 8);
  /* Half-close: the reader sees EOF, the other direction still works. */
  assert_int_equal(ws_tcp_shutdown(cfd), 0);
  wait_readable(sfd);
  assert_int_equal(ws_net_read(sfd, buf, sizeof(buf)), 0);
  assert_int_equal(ws_net_write(sfd, "back", 4), 4);
  wait_readable(cfd);
  assert_int_equal(ws_net_read(cfd, buf, sizeof(buf)), 4);
  assert_int_equal(ws_net_write(cfd, "x", 1), -EPIPE);
  assert_int_equal(ws_tcp_nodelay(cfd, 0), 0);
  assert_int_equal(sockopt(cfd, IPPROTO_TCP, TCP_NODELAY), 0);
  assert_int_equal(ws_net_close(cfd), 0);
  assert_int_equal(ws_net_close(sfd), 0);
  assert_int_equal(ws_net_close(lfd), 0);
  /* Bad input: an error code, never a crash. */
  assert_int_equal(ws_net_read(-1, buf, 1), -EBADF);
  assert_int_equal(ws_net_write(-1, buf, 1), -EBADF);
  assert_int_equal(ws_net_writev(-1, iov, 1), -EBADF);
  assert_int_equal(ws_net_writev(0, iov, -1), -EINVAL);
  assert_int_equal(ws_net_close(-1), -EBADF);
  assert_int_equal(ws_tcp_shutdown(-1), -EBADF);
  assert_int_equal(ws_tcp_connect_result(-1), -EBADF);
  assert_int_equal(ws_addr_local(-1, &a), -EBADF);
  assert_int_equal(ws_addr_peer(-1, &a), -EBADF);
  memset(&a, 0, sizeof(a));
  assert_int_equal(ws_tcp_listen(&lfd, &a, 0), -EINVAL);
  assert_int_equal(lfd, -1);
  assert_int_equal(ws_tcp_connect(&cfd, &a), -EINVAL);
  assert_int_equal(cfd, -1);
  assert_int_equal(count_fds(), fds0);
}

/* --------------------------------------------- backpressure and cost */

struct bp {
  struct ws_stream s;
  int drained;
  int errors;
  int status; /* of the last error */
  int readable;
};

static void on_bp(struct ws_stream *s, enum ws_stream_event ev, int status,
                  void *user) {
  struct bp *b = user;
  (void)s;
  (void)status;
  if (ev == WS_STREAM_DRAINED)
    b->drained++;
  else if (ev == WS_STREAM_ERROR) {
    b->errors++;
    b->status = status;
  }
  else
    b->readable++;
}

/* A peer that does not read: the queue absorbs the rest of a partial
 * write, reading pauses above the high-water mark, and both undo with one
 * epoll_ctl each once the peer catches up. */
static void test_ws_stream_backpressure(void **state) {
  enum { TOTAL = 4 << 20 };
  int fds0 = count_fds(), lfd, cfd, sfd, small = 65536;
  ws_loop *loop = NULL;
  static struct bp b;
  static uint8_t data[TOTAL], back[TOTAL];
  struct ws_loop_stats s0, s1;
  size_t got = 0, i;
  (void)state;
  memset(&b, 0, sizeof(b));
  for (i = 0; i < TOTAL; i++)
    data[i] = (uint8_t)(i * 7 + (i >> 13));
  tcp_pair(&lfd, &cfd, &sfd);
  assert_int_equal(
      setsockopt(sfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
  /* Only the sender is made small: a tiny receive window would stall on
   * zero-window probes (hundreds of ms each), not test anything. */
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  assert_int_equal(
      ws_stream_start(loop, &b.s, sfd, NULL, 64 * 1024, on_bp, &b), 0);
  ws_loop_stats(loop, &s0);
  assert_int_equal(ws_stream_write(&b.s, data, 1000 * 1000), 0);
  assert_int_equal(ws_stream_write(&b.s, data + 1000 * 1000,
                                   TOTAL - 1000 * 1000), 0);
  assert_true(ws_stream_pending(&b.s) > 64 * 1024);
  /* Reading paused, writing armed: one MOD for both. */
  assert_int_equal(b.s.io.interest, WS_IO_WRITE);
  ws_loop_stats(loop, &s1);
  assert_int_equal(s1.ctl_calls - s0.ctl_calls, 1);
  assert_int_equal(s1.writes - s0.writes, 1); /* the second one queued */
  /* Half-close requested with 4 MB queued: it waits for the queue. */
  assert_int_equal(ws_stream_shutdown(&b.s), 0);
  assert_int_equal(ws_stream_write(&b.s, "late", 4), -EPIPE);
  while (got < TOTAL) {
    ws_ssize n = ws_net_read(cfd, back + got, TOTAL - got);
    if (n > 0)
      got += (size_t)n;
    else
      assert_int_equal(n, -EAGAIN);
    ws_loop_run(loop, WS_RUN_NOWAIT);
  }
  assert_memory_equal(data, back, TOTAL);
  assert_int_equal(ws_stream_pending(&b.s), 0);
  assert_int_equal(b.drained, 1);
  assert_int_equal(b.errors, 0);
  assert_int_equal(b.readable, 0);
  assert_int_equal(b.s.io.interest, WS_IO_READ);
  /* WRITE -> READ, or WRITE -> READ|WRITE (reading resumed at half the
   * mark) -> READ, depending on how the kernel sized the last writes. */
  ws_loop_stats(loop, &s1);
  assert_true(s1.ctl_calls - s0.ctl_calls == 2 ||
              s1.ctl_calls - s0.ctl_calls == 3);
  assert_null(ws_wbuf_data(&b.s.out)); /* the big buffer was given back */
  /* The deferred half-close happened: the peer reads EOF. */
  wait_readable(cfd);
  assert_int_equal(ws_net_read(cfd, back, 16), 0);
  ws_stream_close(&b.s);
  ws_stream_close(&b.s); /* twice: a no-op */
  assert_int_equal(ws_net_close(cfd), 0);
  assert_int_equal(ws_net_close(lfd), 0);
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

/* Hysteresis: once paused, reading resumes exactly when the queue first
 * falls to half the mark, not before and not only when empty. The peer
 * reads 1 KiB at a time so the queue passes through every region; an
 * AF_UNIX pair frees send space as the peer reads, where TCP on loopback
 * would move in 64 KiB window steps and skip the region under test. */
static void test_ws_stream_resume_half_mark(void **state) {
  enum { HW = 64 * 1024, TOTAL = 256 * 1024 };
  int fds0 = count_fds(), sv[2], cfd, sfd, small = 4096, seen_resumed = 0;
  ws_loop *loop = NULL;
  static struct bp b;
  static uint8_t data[TOTAL], back[TOTAL];
  size_t got = 0;
  (void)state;
  memset(&b, 0, sizeof(b));
  memset(data, 0x5a, sizeof(data));
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv),
                   0);
  sfd = sv[0];
  cfd = sv[1];
  assert_int_equal(
      setsockopt(sfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  assert_int_equal(ws_stream_start(loop, &b.s, sfd, NULL, HW, on_bp, &b), 0);
  assert_int_equal(ws_stream_write(&b.s, data, TOTAL), 0);
  assert_true(ws_stream_pending(&b.s) >= HW);
  while (got < TOTAL) {
    ws_ssize n = ws_net_read(cfd, back + got, 1024);
    size_t pend;
    if (n > 0)
      got += (size_t)n;
    ws_loop_run(loop, WS_RUN_NOWAIT);
    pend = ws_stream_pending(&b.s);
    if (pend > HW / 2) {
      assert_false(b.s.io.interest & WS_IO_READ);
    } else {
      assert_true(b.s.io.interest & WS_IO_READ);
      if (pend > 0)
        seen_resumed = 1;
    }
  }
  /* The drain must have been observed between empty and half the mark,
   * or this test proved nothing. */
  assert_true(seen_resumed);
  assert_memory_equal(data, back, TOTAL);
  ws_stream_close(&b.s);
  assert_int_equal(ws_net_close(cfd), 0);
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

/* The peer goes away: writes fail with an error code (directly, or as an
 * event for queued bytes), never with SIGPIPE, which would kill us. */
static void test_ws_stream_peer_gone(void **state) {
  int fds0 = count_fds(), lfd, cfd, sfd, r = 0, k;
  ws_loop *loop = NULL;
  static struct bp b;
  static uint8_t data[4096];
  (void)state;
  memset(&b, 0, sizeof(b));
  tcp_pair(&lfd, &cfd, &sfd);
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  assert_int_equal(ws_stream_start(loop, &b.s, sfd, NULL, 0, on_bp, &b), 0);
  assert_int_equal(ws_net_write(cfd, "unread", 6), 6);
  /* Closing with unread input makes the kernel answer with a reset. */
  assert_int_equal(ws_net_close(cfd), 0);
  for (k = 0; k < 500 && r == 0 && b.errors == 0; k++) {
    r = ws_stream_write(&b.s, data, sizeof(data));
    ws_loop_run(loop, WS_RUN_NOWAIT);
    if (b.readable) {
      uint8_t in[64];
      ws_ssize n = ws_stream_read(&b.s, in, sizeof(in));
      assert_true(n == 6 || n == 0 || n == -ECONNRESET);
      if (n <= 0)
        assert_int_equal(ws_stream_read_stop(&b.s), 0);
      b.readable = 0;
    }
    msleep(1);
  }
  if (r == 0) {
    assert_int_equal(b.errors, 1);
    r = b.status;
  }
  assert_true(r == -EPIPE || r == -ECONNRESET);
  ws_stream_close(&b.s);
  assert_int_equal(ws_net_close(lfd), 0);
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

/* Steady state of an echo: per message exactly one read and one write on
 * each side, and no epoll_ctl at all. */
struct pp {
  struct ws_stream cli, srv;
  int n, target, done;
  struct ws_loop_stats mark;
  uint8_t buf[256];
};

static void on_pp_srv(struct ws_stream *s, enum ws_stream_event ev,
                      int status, void *user) {
  struct pp *p = user;
  ws_ssize n;
  assert_int_equal(ev, WS_STREAM_READABLE);
  n = ws_stream_read(s, p->buf, sizeof(p->buf));
  assert_int_equal(n, 64);
  assert_int_equal(ws_stream_write(s, p->buf, (size_t)n), 0);
}

static void on_pp_cli(struct ws_stream *s, enum ws_stream_event ev,
                      int status, void *user) {
  struct pp *p = user;
  uint8_t in[256];
  ws_ssize n;
  assert_int_equal(ev, WS_STREAM_READABLE);
  n = ws_stream_read(s, in, sizeof(in));
  assert_int_equal(n, 64);
  assert_int_equal(in[0], (uint8_t)p->n);
  p->n++;
  if (p->n == 1)
    ws_loop_stats(s->io.loop, &p->mark);
  if (p->n == p->target) {
    p->done = 1;
    return;
  }
  memset(in, p->n, 64);
  assert_int_equal(ws_stream_write(s, in, 64), 0);
}

static void test_ws_stream_steady_state_cost(void **state) {
  int fds0 = count_fds(), lfd, cfd, sfd;
  ws_loop *loop = NULL;
  static struct pp p;
  struct ws_loop_stats end;
  uint8_t first[64];
  uint64_t m;
  (void)state;
  memset(&p, 0, sizeof(p));
  p.target = 2000;
  tcp_pair(&lfd, &cfd, &sfd);
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  assert_int_equal(ws_stream_start(loop, &p.srv, sfd, NULL, 0, on_pp_srv, &p),
                   0);
  assert_int_equal(ws_stream_start(loop, &p.cli, cfd, NULL, 0, on_pp_cli, &p),
                   0);
  memset(first, 0, sizeof(first));
  assert_int_equal(ws_stream_write(&p.cli, first, 64), 0);
  pump(loop, &p.done, 20000);
  ws_loop_stats(loop, &end);
  m = (uint64_t)p.target - 1; /* messages 2..target */
  assert_int_equal(end.ctl_calls - p.mark.ctl_calls, 0);
  assert_int_equal(end.reads - p.mark.reads, 2 * m);
  assert_int_equal(end.writes - p.mark.writes, 2 * m);
  assert_int_equal(end.events - p.mark.events, 2 * m);
  /* Written straight through: the queues never even allocated. */
  assert_null(ws_wbuf_data(&p.srv.out));
  assert_null(ws_wbuf_data(&p.cli.out));
  ws_stream_close(&p.cli);
  ws_stream_close(&p.srv);
  assert_int_equal(ws_net_close(lfd), 0);
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

/* In-place encoding: several commits, one flush, one system call. */
static void test_ws_stream_reserve_flush(void **state) {
  int fds0 = count_fds(), lfd, cfd, sfd, i;
  ws_loop *loop = NULL;
  static struct bp b;
  struct ws_loop_stats s0, s1;
  char buf[64];
  (void)state;
  memset(&b, 0, sizeof(b));
  tcp_pair(&lfd, &cfd, &sfd);
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  assert_int_equal(ws_stream_start(loop, &b.s, sfd, NULL, 0, on_bp, &b), 0);
  ws_loop_stats(loop, &s0);
  for (i = 0; i < 3; i++) {
    uint8_t *w = ws_stream_reserve(&b.s, 4);
    assert_non_null(w);
    memcpy(w, &"abcd"[i], 2);
    ws_stream_commit(&b.s, 2);
  }
  assert_int_equal(ws_stream_pending(&b.s), 6);
  assert_int_equal(ws_stream_flush(&b.s), 0);
  assert_int_equal(ws_stream_pending(&b.s), 0);
  assert_int_equal(ws_stream_flush(&b.s), 0); /* nothing: no syscall */
  ws_loop_stats(loop, &s1);
  assert_int_equal(s1.writes - s0.writes, 1);
  assert_int_equal(s1.ctl_calls - s0.ctl_calls, 0);
  wait_readable(cfd);
  assert_int_equal(ws_net_read(cfd, buf, sizeof(buf)), 6);
  assert_memory_equal(buf, "abbccd", 6);
  /* Committed bytes go out with the next write, in order. */
  memcpy(ws_stream_reserve(&b.s, 1), "1", 1);
  ws_stream_commit(&b.s, 1);
  assert_int_equal(ws_stream_write(&b.s, "2", 1), 0);
  wait_readable(cfd);
  assert_int_equal(ws_net_read(cfd, buf, sizeof(buf)), 2);
  assert_memory_equal(buf, "12", 2);
  /* Half-close with nothing queued is immediate. */
  assert_int_equal(ws_stream_shutdown(&b.s), 0);
  assert_int_equal(ws_stream_shutdown(&b.s), 0);
  wait_readable(cfd);
  assert_int_equal(ws_net_read(cfd, buf, sizeof(buf)), 0);
  ws_stream_close(&b.s);
  assert_int_equal(ws_net_close(cfd), 0);
  assert_int_equal(ws_net_close(lfd), 0);
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ws_tcp_listen_port0),
      cmocka_unit_test(test_ws_tcp_echo),
      cmocka_unit_test(test_ws_tcp_echo_ipv6),
      cmocka_unit_test(test_ws_tcp_connect_refused),
      cmocka_unit_test(test_ws_tcp_addr_in_use),
      cmocka_unit_test(test_ws_tcp_connect_timeout),
      cmocka_unit_test(test_ws_connect_cancel),
      cmocka_unit_test(test_ws_tcp_accept_drain),
      cmocka_unit_test(test_ws_net_io_wrappers),
      cmocka_unit_test(test_ws_stream_backpressure),
      cmocka_unit_test(test_ws_stream_peer_gone),
      cmocka_unit_test(test_ws_stream_resume_half_mark),
      cmocka_unit_test(test_ws_stream_steady_state_cost),
      cmocka_unit_test(test_ws_stream_reserve_flush),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
