/*
 * test_net_udp.c: UDP on loopback (net_udp.h): datagram boundaries,
 * truncation, size limits and an RFC 862 echo through the loop.
 */
#define _DEFAULT_SOURCE
#include "test_support.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net_addr.h"
#include "net/net_loop.h"
#include "net/net_udp.h"
#include "net_test_util.h"

/* Binds a server on |ip| port 0 and opens a client; 0 or the bind error. */
static int udp_pair(const char *ip, int *srv, int *cli, struct ws_addr *at) {
  struct ws_addr a;
  int r;
  assert_int_equal(ws_addr_set(&a, ip, 0), 0);
  r = ws_udp_bind(srv, &a);
  if (r != 0) {
    assert_int_equal(*srv, -1);
    return r;
  }
  check_fd_flags(*srv, 0);
  assert_int_equal(ws_addr_local(*srv, at), 0);
  assert_int_not_equal(ws_addr_port(at), 0);
  assert_int_equal(ws_udp_open(cli, a.sa.sa_family), 0);
  assert_true(fcntl(*cli, F_GETFL) & O_NONBLOCK);
  return 0;
}

static void roundtrip_sizes(const char *ip) {
  static const size_t sizes[] = {1, 100, 0, 1400, WS_UDP_MAX_PAYLOAD};
  static uint8_t out[WS_UDP_RECV_BUFFER], in[WS_UDP_RECV_BUFFER];
  int fds0 = count_fds(), srv, cli, r, trunc;
  struct ws_addr at, from, cli_addr;
  size_t i, j;
  r = udp_pair(ip, &srv, &cli, &at);
  if (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT) {
    print_message("no %s: %s\n", ip, ws_net_strerror(r));
    skip();
  }
  assert_int_equal(r, 0);
  assert_int_equal(ws_udp_recvfrom(srv, in, sizeof(in), NULL, NULL),
                   -EAGAIN);
  /* Queue them all, then read: boundaries and order are kept. */
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    for (j = 0; j < sizes[i]; j++)
      out[j] = (uint8_t)(i + j * 3);
    assert_int_equal(ws_udp_sendto(cli, out, sizes[i], &at),
                     (ws_ssize)sizes[i]);
  }
  assert_int_equal(ws_addr_local(cli, &cli_addr), 0);
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    wait_readable(srv);
    trunc = -1;
    assert_int_equal(ws_udp_recvfrom(srv, in, sizeof(in), &from, &trunc),
                     (ws_ssize)sizes[i]);
    assert_int_equal(trunc, 0);
    /* The client is bound to the wildcard: same port, loopback source. */
    assert_int_equal(ws_addr_port(&from), ws_addr_port(&cli_addr));
    assert_int_equal(from.sa.sa_family, at.sa.sa_family);
    if (from.sa.sa_family == AF_INET)
      assert_int_equal(ntohl(from.in4.sin_addr.s_addr), 0x7f000001u);
    else
      assert_true(IN6_IS_ADDR_LOOPBACK(&from.in6.sin6_addr));
    for (j = 0; j < sizes[i]; j++)
      if (in[j] != (uint8_t)(i + j * 3))
        fail_msg("datagram %zu byte %zu", i, j);
  }
  assert_int_equal(ws_udp_recvfrom(srv, in, sizeof(in), &from, &trunc),
                   -EAGAIN);
  assert_int_equal(close(srv), 0);
  assert_int_equal(close(cli), 0);
  assert_int_equal(count_fds(), fds0);
}

static void test_ws_udp_roundtrip_ipv4(void **state) {
  (void)state;
  roundtrip_sizes("127.0.0.1");
}

static void test_ws_udp_roundtrip_ipv6(void **state) {
  (void)state;
  roundtrip_sizes("::1");
}

static void test_ws_udp_truncation(void **state) {
  int fds0 = count_fds(), srv, cli, trunc;
  struct ws_addr at;
  uint8_t out[100], in[100];
  size_t i;
  (void)state;
  assert_int_equal(udp_pair("127.0.0.1", &srv, &cli, &at), 0);
  for (i = 0; i < sizeof(out); i++)
    out[i] = (uint8_t)i;
  assert_int_equal(ws_udp_sendto(cli, out, 100, &at), 100);
  assert_int_equal(ws_udp_sendto(cli, out, 7, &at), 7);
  wait_readable(srv);
  /* Cut to the buffer, flagged; the rest of that datagram is gone... */
  assert_int_equal(ws_udp_recvfrom(srv, in, 10, NULL, &trunc), 10);
  assert_int_equal(trunc, 1);
  assert_memory_equal(in, out, 10);
  /* ...and the next datagram is whole. */
  wait_readable(srv);
  assert_int_equal(ws_udp_recvfrom(srv, in, 10, NULL, &trunc), 7);
  assert_int_equal(trunc, 0);
  assert_memory_equal(in, out, 7);
  /* Exactly the buffer size is not a truncation. */
  assert_int_equal(ws_udp_sendto(cli, out, 10, &at), 10);
  wait_readable(srv);
  assert_int_equal(ws_udp_recvfrom(srv, in, 10, NULL, &trunc), 10);
  assert_int_equal(trunc, 0);
  assert_int_equal(close(srv), 0);
  assert_int_equal(close(cli), 0);
  assert_int_equal(count_fds(), fds0);
}

static void test_ws_udp_limits(void **state) {
  int fds0 = count_fds(), srv, srv2, cli;
  struct ws_addr at, none;
  static uint8_t big[WS_UDP_MAX_PAYLOAD + 1];
  (void)state;
  assert_int_equal(udp_pair("127.0.0.1", &srv, &cli, &at), 0);
  assert_int_equal(ws_udp_sendto(cli, big, WS_UDP_MAX_PAYLOAD + 1, &at),
                   -EMSGSIZE);
  /* No SO_REUSEADDR on UDP: a second server cannot share the port. */
  assert_int_equal(ws_udp_bind(&srv2, &at), -EADDRINUSE);
  assert_int_equal(srv2, -1);
  memset(&none, 0, sizeof(none));
  assert_int_equal(ws_udp_bind(&srv2, &none), -EINVAL);
  assert_int_equal(ws_udp_sendto(cli, big, 1, &none), -EINVAL);
  assert_int_equal(ws_udp_open(&srv2, AF_UNIX), -EAFNOSUPPORT);
  assert_int_equal(srv2, -1);
  assert_int_equal(ws_udp_sendto(-1, big, 1, &at), -EBADF);
  assert_int_equal(ws_udp_recvfrom(-1, big, 1, NULL, NULL), -EBADF);
  assert_int_equal(close(srv), 0);
  assert_int_equal(close(cli), 0);
  assert_int_equal(count_fds(), fds0);
}

/* An RFC 862 UDP echo server on the loop, and a client on the loop. */
struct uecho {
  struct ws_io srv, cli;
  struct ws_addr at;
  int echoed, got, want;
  uint8_t buf[WS_UDP_RECV_BUFFER];
  size_t lens[8];
};

static void on_udp_srv(struct ws_io *io, unsigned events, void *user) {
  struct uecho *u = user;
  struct ws_addr from;
  int trunc;
  ws_ssize n;
  assert_int_equal(events, WS_IO_READ);
  /* One datagram per wake-up; level triggering brings the next. */
  n = ws_udp_recvfrom(io->fd, u->buf, sizeof(u->buf), &from, &trunc);
  assert_true(n >= 0);
  assert_int_equal(trunc, 0);
  assert_int_equal(ws_udp_sendto(io->fd, u->buf, (size_t)n, &from), n);
  u->echoed++;
}

static void on_udp_cli(struct ws_io *io, unsigned events, void *user) {
  struct uecho *u = user;
  uint8_t in[2048];
  ws_ssize n = ws_udp_recvfrom(io->fd, in, sizeof(in), NULL, NULL);
  size_t j;
  (void)events;
  assert_int_equal(n, (ws_ssize)u->lens[u->got]);
  for (j = 0; j < (size_t)n; j++)
    assert_int_equal(in[j], (uint8_t)(u->got * 5 + j));
  if (++u->got == u->want) {
    ws_io_stop(&u->srv);
    ws_io_stop(&u->cli);
  }
}

static void test_ws_udp_echo_loop(void **state) {
  int fds0 = count_fds(), srv, cli, i;
  static struct uecho u;
  ws_loop *loop = NULL;
  (void)state;
  memset(&u, 0, sizeof(u));
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  assert_int_equal(udp_pair("127.0.0.1", &srv, &cli, &u.at), 0);
  assert_int_equal(ws_io_start(loop, &u.srv, srv, WS_IO_READ, on_udp_srv,
                               &u), 0);
  assert_int_equal(ws_io_start(loop, &u.cli, cli, WS_IO_READ, on_udp_cli,
                               &u), 0);
  u.want = 8;
  for (i = 0; i < u.want; i++) {
    uint8_t out[2048];
    size_t j;
    u.lens[i] = (size_t)(i * 250);
    for (j = 0; j < u.lens[i]; j++)
      out[j] = (uint8_t)(i * 5 + j);
    assert_int_equal(ws_udp_sendto(cli, out, u.lens[i], &u.at),
                     (ws_ssize)u.lens[i]);
  }
  /* Runs until both watchers stop themselves. */
  assert_int_equal(ws_loop_run(loop, WS_RUN_DEFAULT), 0);
  assert_int_equal(u.echoed, 8);
  assert_int_equal(u.got, 8);
  assert_int_equal(close(srv), 0);
  assert_int_equal(close(cli), 0);
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

/* ws_udp_connect(): only the peer's datagrams arrive, sends without a
 * reply still work, and a port nobody listens on is reported as
 * -ECONNREFUSED (the ICMP error an unconnected socket never sees). */
static void test_ws_udp_connect(void **state) {
  int fds0 = count_fds(), srv, cli, other, gone;
  struct ws_addr at, cli_addr, from, dead, unspec;
  uint8_t buf[64];
  (void)state;
  assert_int_equal(udp_pair("127.0.0.1", &srv, &cli, &at), 0);
  assert_int_equal(ws_udp_connect(cli, &at), 0);
  assert_int_equal(ws_addr_local(cli, &cli_addr), 0);
  /* A third socket's datagram to the connected client is filtered. */
  assert_int_equal(ws_udp_open(&other, AF_INET), 0);
  assert_int_equal(ws_udp_sendto(other, "stray", 5, &cli_addr), 5);
  assert_int_equal(ws_udp_sendto(cli, "ping", 4, &at), 4);
  wait_readable(srv);
  assert_int_equal(ws_udp_recvfrom(srv, buf, sizeof(buf), &from, NULL), 4);
  assert_memory_equal(buf, "ping", 4);
  assert_true(ws_addr_equal(&from, &cli_addr));
  assert_int_equal(ws_udp_sendto(srv, "pong", 4, &from), 4);
  wait_readable(cli);
  assert_int_equal(ws_udp_recvfrom(cli, buf, sizeof(buf), &from, NULL), 4);
  assert_memory_equal(buf, "pong", 4);
  assert_true(ws_addr_equal(&from, &at));
  assert_int_equal(ws_udp_recvfrom(cli, buf, sizeof(buf), NULL, NULL),
                   -EAGAIN);
  assert_int_equal(close(other), 0);
  assert_int_equal(close(cli), 0);

  /* A port that was just closed: the ICMP error comes back as
   * -ECONNREFUSED on the next receive. */
  assert_int_equal(ws_addr_set(&dead, "127.0.0.1", 0), 0);
  assert_int_equal(ws_udp_bind(&gone, &dead), 0);
  assert_int_equal(ws_addr_local(gone, &dead), 0);
  assert_int_equal(close(gone), 0);
  assert_int_equal(ws_udp_open(&cli, AF_INET), 0);
  assert_int_equal(ws_udp_connect(cli, &dead), 0);
  assert_int_equal(ws_udp_sendto(cli, "x", 1, &dead), 1);
  wait_readable(cli);
  assert_int_equal(ws_udp_recvfrom(cli, buf, sizeof(buf), NULL, NULL),
                   -ECONNREFUSED);

  memset(&unspec, 0, sizeof(unspec));
  assert_int_equal(ws_udp_connect(cli, &unspec), -EINVAL);
  assert_int_equal(close(cli), 0);
  assert_int_equal(close(srv), 0);
  assert_int_equal(count_fds(), fds0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ws_udp_roundtrip_ipv4),
      cmocka_unit_test(test_ws_udp_roundtrip_ipv6),
      cmocka_unit_test(test_ws_udp_truncation),
      cmocka_unit_test(test_ws_udp_limits),
      cmocka_unit_test(test_ws_udp_echo_loop),
      cmocka_unit_test(test_ws_udp_connect),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
