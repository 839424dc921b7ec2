/*
 * test_rfc862.c: the RFC 862 echo checks (conformance/ws_rfc862.h) against
 * servers running in this process, on the runner's own loop: the real
 * `wsspec echo` servers (net/echo_server.h), where every check must pass
 * with exact numbers, and purpose-built broken servers, each breaking one
 * rule, where the check must fail with the exact reason, offset and
 * counts. Also the catalogue, the selection and both report files.
 *
 * Timings are shortened through ws_rfc862_options so that the failing
 * cases (stalls, lost datagrams, missing EOF) take a fraction of a second.
 */
#define _DEFAULT_SOURCE
#include "test_support.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conformance/ws_rfc862.h"
#include "net/echo_server.h"
#include "net/net_addr.h"
#include "net/net_loop.h"
#include "net/net_stream.h"
#include "net/net_tcp.h"
#include "net/net_udp.h"
#include "net_test_util.h"

#define REPLY_MS 80
#define GRACE_MS 40
#define STALL_MS 300
#define EOF_MS 300

/* ------------------------------------------------------------ helpers */

static void options(struct ws_rfc862_options *o, ws_loop *loop) {
  memset(o, 0, sizeof(*o));
  o->loop = loop;
  o->deadline_ms = 8000;
  o->connect_ms = 3000;
  o->stall_ms = STALL_MS;
  o->eof_ms = EOF_MS;
  o->reply_ms = REPLY_MS;
  o->grace_ms = GRACE_MS;
}

/* For servers that work: a passing check never waits for these, and a
 * loaded machine must not turn a slow answer into a retry. */
static void generous(struct ws_rfc862_options *o) {
  o->stall_ms = 5000;
  o->eof_ms = 5000;
  o->reply_ms = 2000;
}

/* Runs the checks |ids| against |addr| on |loop|; returns the run's code. */
static int run_ids(ws_loop *loop, const struct ws_addr *addr,
                   enum ws_rfc862_proto proto, const char *const *ids,
                   size_t n, struct ws_rfc862_result *res) {
  const struct ws_rfc862_check *k[32];
  struct ws_rfc862_options o;
  char err[256];
  assert_true(n <= 32);
  for (size_t i = 0; i < n; i++) {
    k[i] = ws_rfc862_find(ids[i]);
    assert_non_null(k[i]);
  }
  options(&o, loop);
  return ws_rfc862_run(addr, proto, k, n, &o, res, err, sizeof(err));
}

/* One check; fails the test unless the run itself succeeds. */
static void run1(ws_loop *loop, const struct ws_addr *addr, const char *id,
                 struct ws_rfc862_result *r) {
  const struct ws_rfc862_check *k = ws_rfc862_find(id);
  assert_non_null(k);
  assert_int_equal(run_ids(loop, addr, k->proto, &id, 1, r), 0);
  assert_ptr_equal(r->check, k);
}

static void expect_fail(const struct ws_rfc862_result *r,
                        const char *reason) {
  if (r->verdict != WS_RFC862_FAIL || strcmp(r->reason, reason) != 0)
    fail_msg("%s: got %s \"%s\", want FAIL \"%s\"", r->check->id,
             ws_rfc862_verdict_name(r->verdict), r->reason, reason);
}

static void expect_fail_has(const struct ws_rfc862_result *r,
                            const char *part) {
  if (r->verdict != WS_RFC862_FAIL || strstr(r->reason, part) == NULL)
    fail_msg("%s: got %s \"%s\", want FAIL with \"%s\"", r->check->id,
             ws_rfc862_verdict_name(r->verdict), r->reason, part);
}

static void assert_prefix(const char *s, const char *prefix) {
  if (strncmp(s, prefix, strlen(prefix)) != 0)
    fail_msg("\"%s\" does not start with \"%s\"", s, prefix);
}

static void expect_pass(const struct ws_rfc862_result *r) {
  if (r->verdict != WS_RFC862_PASS)
    fail_msg("%s: got %s \"%s\"", r->check->id,
             ws_rfc862_verdict_name(r->verdict), r->reason);
}

/* ---------------------------------------------------------- catalogue */

static void test_catalogue(void **state) {
  size_t n = ws_rfc862_count(), tcp = 0, udp = 0;
  (void)state;
  assert_int_equal(n, 23);
  for (size_t i = 0; i < n; i++) {
    const struct ws_rfc862_check *k = ws_rfc862_get(i);
    assert_non_null(k);
    assert_ptr_equal(ws_rfc862_find(k->id), k);
    assert_true(strncmp(k->id, k->proto == WS_RFC862_TCP ? "tcp." : "udp.",
                        4) == 0);
    assert_true(strstr(k->section, "RFC 862") != NULL);
    assert_true(k->title[0] != '\0' && k->description[0] != '\0');
    assert_true(k->clients >= 1);
    tcp += k->proto == WS_RFC862_TCP;
    udp += k->proto == WS_RFC862_UDP;
    /* Ids are unique and in order. */
    if (i > 0)
      assert_true(strcmp(ws_rfc862_get(i - 1)->id, k->id) < 0);
  }
  assert_int_equal(tcp, 14);
  assert_int_equal(udp, 9);
  assert_null(ws_rfc862_get(n));
  assert_null(ws_rfc862_find("tcp.9.9"));
  assert_null(ws_rfc862_find(NULL));
  assert_int_equal(ws_rfc862_find("udp.1.5")->size, 2049);
  assert_int_equal(ws_rfc862_find("udp.1.7")->size, 65507);
  assert_int_equal(ws_rfc862_find("tcp.4.1")->clients, 64);
  assert_string_equal(ws_rfc862_verdict_name(WS_RFC862_PASS), "PASS");
  assert_string_equal(ws_rfc862_verdict_name(WS_RFC862_FAIL), "FAIL");
  assert_string_equal(ws_rfc862_proto_name(WS_RFC862_UDP), "udp");
}

static void test_select(void **state) {
  const struct ws_rfc862_check *out[32];
  const char *all[] = {"*"}, *tcp1[] = {"tcp.1.*"}, *two[] = {"udp.1.5",
                                                              "tcp.3.*"};
  const char *ex[] = {"tcp.1.6", "udp.2*"};
  (void)state;
  assert_int_equal(ws_rfc862_select(WS_RFC862_TCP, all, 1, NULL, 0, out, 32),
                   14);
  assert_string_equal(out[0]->id, "tcp.1.1");
  assert_string_equal(out[13]->id, "tcp.4.2");
  assert_int_equal(ws_rfc862_select(WS_RFC862_UDP, all, 1, ex, 2, out, 32),
                   7);
  assert_string_equal(out[6]->id, "udp.1.7");
  assert_int_equal(ws_rfc862_select(WS_RFC862_TCP, tcp1, 1, ex, 2, out, 32),
                   6);
  assert_string_equal(out[5]->id, "tcp.1.7");
  assert_int_equal(ws_rfc862_select(WS_RFC862_TCP, two, 2, NULL, 0, out, 32),
                   3);
  assert_string_equal(out[0]->id, "tcp.3.1");
  assert_int_equal(ws_rfc862_select(WS_RFC862_UDP, two, 2, NULL, 0, out, 32),
                   1);
  assert_string_equal(out[0]->id, "udp.1.5");
  /* A literal id is exact: tcp.1 is no check. */
  assert_false(ws_rfc862_known("tcp.1"));
  assert_true(ws_rfc862_known("tcp.1*"));
  assert_true(ws_rfc862_known("udp.2.2"));
  assert_false(ws_rfc862_known("9.*"));
  assert_int_equal(ws_rfc862_select(WS_RFC862_TCP, NULL, 1, NULL, 0, out, 32),
                   WS_EINVAL);
  assert_int_equal(ws_rfc862_select(WS_RFC862_TCP, all, 1, NULL, 0, out, 2),
                   2);
}

/* ------------------------------------------------- the reference server */

struct ref {
  ws_loop *loop;
  ws_echo *e;
  struct ws_addr tcp, udp;
  int done, fds0;
};

static void ref_done(ws_echo *e, void *user) {
  (void)e;
  ((struct ref *)user)->done = 1;
}

static void ref_start(struct ref *v) {
  struct ws_echo_config cfg;
  struct ws_addr a;
  memset(v, 0, sizeof(*v));
  v->fds0 = count_fds();
  assert_int_equal(ws_loop_new(&v->loop, NULL, NULL), 0);
  ws_echo_config_default(&cfg);
  assert_int_equal(ws_echo_new(&v->e, v->loop, &cfg, NULL), 0);
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  assert_int_equal(ws_echo_listen(v->e, WS_SCHEME_TCP, &a, &v->tcp), 0);
  assert_int_equal(ws_echo_listen(v->e, WS_SCHEME_UDP, &a, &v->udp), 0);
}

static void ref_stop(struct ref *v) {
  ws_echo_shutdown(v->e, 0, ref_done, v);
  while (!v->done)
    ws_loop_run(v->loop, WS_RUN_ONCE);
  assert_int_equal(ws_echo_free(v->e), 0);
  /* Nothing of the runner is left on the loop either. */
  assert_int_equal(ws_loop_free(v->loop), 0);
  assert_int_equal(count_fds(), v->fds0);
}

/* Every TCP check against `wsspec echo`, with the exact numbers. */
static void test_reference_tcp(void **state) {
  struct ws_rfc862_result res[14];
  const struct ws_rfc862_check *k[14];
  const char *all[] = {"*"};
  struct ref v;
  (void)state;
  ref_start(&v);
  assert_int_equal(ws_rfc862_select(WS_RFC862_TCP, all, 1, NULL, 0, k, 14),
                   14);
  struct ws_rfc862_options o;
  char err[128];
  options(&o, v.loop);
  generous(&o);
  assert_int_equal(
      ws_rfc862_run(&v.tcp, WS_RFC862_TCP, k, 14, &o, res, err, sizeof(err)),
      0);
  for (size_t i = 0; i < 14; i++) {
    const struct ws_rfc862_result *r = &res[i];
    const struct ws_rfc862_check *c = k[i];
    uint64_t want = c->size;
    expect_pass(r);
    assert_ptr_equal(r->check, c);
    assert_int_equal(r->first_difference, -1);
    assert_int_equal(r->net_error, 0);
    if (c->kind == WS_RFC862_TCP_TURNS) {
      want = 0;
      for (uint32_t j = 0; j < c->n_seg; j++)
        want += c->seg != NULL ? c->seg[j] : c->size;
    }
    if (c->kind == WS_RFC862_TCP_BULK)
      want *= c->clients;
    if (c->kind == WS_RFC862_TCP_EARLY_CLOSE) {
      /* The early clients' bytes count as sent, not as echoed. */
      assert_int_equal(r->bytes_echoed, want);
      assert_int_equal(r->bytes_sent, want + 8 * 256 * 1024);
      assert_int_equal(r->clients, 9);
      assert_int_equal(r->clients_ok, 1);
    } else {
      assert_int_equal(r->bytes_sent, want);
      assert_int_equal(r->bytes_echoed, want);
      assert_int_equal(r->clients, c->clients);
      assert_int_equal(r->clients_ok, c->clients);
    }
    if (c->kind == WS_RFC862_TCP_HALF_CLOSE ||
        c->kind == WS_RFC862_TCP_EARLY_CLOSE)
      assert_true(r->eof_ms >= 0 && r->eof_ms < 1000);
    else
      assert_int_equal(r->eof_ms, -1);
    assert_int_equal(r->datagrams, 0);
  }
  assert_prefix(res[0].reason, "1 byte echoed verbatim and in order in ");
  assert_prefix(res[12].reason, "64 clients at once: 65536 bytes each "
                                      "echoed verbatim, each to its own "
                                      "client, in ");
  assert_prefix(res[11].reason, "nothing sent back, EOF ");
  ref_stop(&v);
}

static void test_reference_udp(void **state) {
  struct ws_rfc862_result res[9];
  const struct ws_rfc862_check *k[9];
  const char *all[] = {"udp.*"};
  struct ws_rfc862_options o;
  char err[128];
  struct ref v;
  (void)state;
  ref_start(&v);
  assert_int_equal(ws_rfc862_select(WS_RFC862_UDP, all, 1, NULL, 0, k, 9), 9);
  options(&o, v.loop);
  generous(&o);
  assert_int_equal(
      ws_rfc862_run(&v.udp, WS_RFC862_UDP, k, 9, &o, res, err, sizeof(err)),
      0);
  for (size_t i = 0; i < 9; i++) {
    const struct ws_rfc862_result *r = &res[i];
    uint32_t n = k[i]->clients * (k[i]->seg != NULL ? k[i]->n_seg : 1);
    expect_pass(r);
    assert_int_equal(r->datagrams, n);
    assert_int_equal(r->answered, n);
    assert_int_equal(r->sent, n);
    assert_int_equal(r->duplicates, 0);
    assert_int_equal(r->lost, 0);
    assert_int_equal(r->retries, 0);
    assert_int_equal(r->truncated, 0);
    assert_int_equal(r->stray, 0);
    assert_int_equal(r->truncated_to, -1);
    assert_int_equal(r->bytes_sent, 0);
    assert_true(r->duration_ms >= GRACE_MS);
  }
  assert_prefix(res[6].reason, "answered once, with the same 65507 "
                                     "bytes, in ");
  assert_non_null(strstr(res[6].reason, "; no duplicate within 40 ms"));
  assert_prefix(res[8].reason, "16 clients x 4 datagrams: each "
                                     "answered once, to its own sender");
  ref_stop(&v);
}

/* ------------------------------------------------- broken TCP servers */

enum tmode {
  T_REORDER,  /* bytes 1000 and 1001 of each stream swapped */
  T_DROP,     /* byte 5000 of each stream dropped */
  T_NOCLOSE,  /* echoes, but ignores the client's half-close */
  T_CLOSE,    /* closes every connection at once */
  T_SILENT,   /* accepts, never reads */
  T_DOUBLE,   /* everything echoed twice */
  T_FLOOD,    /* sends 1 MiB of 0xAA on accept */
  T_SLOW,     /* one byte every 20 ms */
  T_DIE       /* stops listening when a client resets */
};

struct tsrv;

struct tconn {
  struct tsrv *srv;
  struct ws_stream s;
  struct ws_timer t;
  uint64_t off;
  uint8_t held, open;
  struct tconn *next;
};

struct tsrv {
  ws_loop *loop;
  enum tmode mode;
  struct ws_io lio;
  struct ws_addr addr;
  struct tconn *conns;
  int fds0;
};

static void tconn_close(struct tconn *c) {
  if (!c->open)
    return;
  c->open = 0;
  ws_timer_stop(&c->t);
  ws_stream_close(&c->s);
}

static void tconn_error(struct tconn *c) {
  tconn_close(c);
  if (c->srv->mode == T_DIE && c->srv->lio.fd >= 0)
    ws_io_close(&c->srv->lio); /* the server "dies" */
}

/* Applies the mode to |n| bytes at |in|; returns the bytes at |out|. */
static size_t transform(struct tconn *c, const uint8_t *in, size_t n,
                        uint8_t *out) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++, c->off++) {
    if (c->srv->mode == T_DROP && c->off == 5000)
      continue;
    if (c->srv->mode == T_REORDER && c->off == 1000) {
      c->held = in[i];
      continue;
    }
    out[k++] = in[i];
    if (c->srv->mode == T_REORDER && c->off == 1001)
      out[k++] = c->held;
  }
  return k;
}

static void tconn_on_stream(struct ws_stream *s, enum ws_stream_event ev,
                            int status, void *user) {
  static uint8_t in[65536], out[65537];
  struct tconn *c = user;
  ws_ssize n;
  (void)s;
  (void)status;
  if (ev == WS_STREAM_ERROR) {
    tconn_error(c);
    return;
  }
  if (ev == WS_STREAM_DRAINED)
    return;
  if (c->srv->mode == T_SLOW) {
    ws_stream_read_stop(&c->s);
    if (!ws_timer_active(&c->t))
      ws_timer_start(&c->t, 20);
    return;
  }
  n = ws_stream_read(&c->s, in, sizeof(in));
  if (n == -EAGAIN)
    return;
  if (n < 0) {
    tconn_error(c);
    return;
  }
  if (n == 0) {
    if (c->srv->mode == T_NOCLOSE)
      ws_stream_read_stop(&c->s); /* stays open */
    else if (ws_stream_shutdown(&c->s) != 0 || ws_stream_pending(&c->s) == 0)
      tconn_close(c);
    else
      ws_stream_read_stop(&c->s);
    return;
  }
  size_t k = transform(c, in, (size_t)n, out);
  if (ws_stream_write(&c->s, out, k) != 0 ||
      (c->srv->mode == T_DOUBLE && ws_stream_write(&c->s, out, k) != 0))
    tconn_error(c);
}

/* T_SLOW: one byte per tick. */
static void tconn_on_timer(struct ws_timer *t, void *user) {
  struct tconn *c = user;
  uint8_t b;
  ws_ssize n = ws_stream_read(&c->s, &b, 1);
  if (n == 1 && ws_stream_write(&c->s, &b, 1) == 0) {
    ws_timer_start(t, 20);
    return;
  }
  if (n == -EAGAIN) {
    ws_stream_read_start(&c->s);
    return;
  }
  tconn_close(c);
}

static void tsrv_on_accept(struct ws_io *io, unsigned events, void *user) {
  static uint8_t flood[1 << 20];
  struct tsrv *v = user;
  int fd;
  (void)events;
  while (ws_tcp_accept(io->fd, &fd, NULL) == 0) {
    struct tconn *c;
    if (v->mode == T_CLOSE) {
      ws_net_close(fd);
      continue;
    }
    c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->srv = v;
    c->next = v->conns;
    v->conns = c;
    assert_int_equal(
        ws_stream_start(v->loop, &c->s, fd, NULL, 0, tconn_on_stream, c), 0);
    c->open = 1;
    ws_timer_init(v->loop, &c->t, tconn_on_timer, c);
    if (v->mode == T_SILENT)
      ws_stream_read_stop(&c->s);
    if (v->mode == T_FLOOD) {
      memset(flood, 0xAA, sizeof(flood));
      if (ws_stream_write(&c->s, flood, sizeof(flood)) != 0)
        tconn_close(c);
    }
  }
}

static void tsrv_start(struct tsrv *v, enum tmode mode) {
  struct ws_addr a;
  int fd;
  memset(v, 0, sizeof(*v));
  v->fds0 = count_fds();
  v->mode = mode;
  assert_int_equal(ws_loop_new(&v->loop, NULL, NULL), 0);
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  assert_int_equal(ws_tcp_listen(&fd, &a, 0), 0);
  assert_int_equal(ws_addr_local(fd, &v->addr), 0);
  assert_int_equal(
      ws_io_start(v->loop, &v->lio, fd, WS_IO_READ, tsrv_on_accept, v), 0);
}

static void tsrv_stop(struct tsrv *v) {
  if (v->lio.fd >= 0)
    ws_io_close(&v->lio);
  while (v->conns != NULL) {
    struct tconn *c = v->conns;
    v->conns = c->next;
    tconn_close(c);
    free(c);
  }
  assert_int_equal(ws_loop_free(v->loop), 0);
  assert_int_equal(count_fds(), v->fds0);
}

/* A reordered pair of bytes: the first differing offset is exact. */
static void test_tcp_reorder(void **state) {
  struct ws_rfc862_result r;
  struct tsrv v;
  (void)state;
  tsrv_start(&v, T_REORDER);
  run1(v.loop, &v.addr, "tcp.1.3", &r);
  assert_int_equal(r.first_difference, 1000);
  assert_int_equal(r.bytes_echoed, 1000);
  expect_fail_has(&r, "echo differs at offset 1000 of 1460: expected 0x");
  expect_fail_has(&r, "(a byte reordered, dropped or corrupted)");
  /* Below offset 1000 the echo is fine. */
  run1(v.loop, &v.addr, "tcp.1.2", &r);
  expect_pass(&r);
  tsrv_stop(&v);
}

static void test_tcp_drop(void **state) {
  struct ws_rfc862_result r;
  struct tsrv v;
  (void)state;
  tsrv_start(&v, T_DROP);
  run1(v.loop, &v.addr, "tcp.1.4", &r);
  assert_int_equal(r.first_difference, 5000);
  assert_int_equal(r.bytes_sent, 65536);
  expect_fail_has(&r, "echo differs at offset 5000 of 65536");
  /* 64 clients: every one of them loses byte 5000. */
  run1(v.loop, &v.addr, "tcp.4.1", &r);
  assert_int_equal(r.first_difference, 5000);
  expect_fail_has(&r, " of 64: echo differs at offset 5000 of 65536");
  tsrv_stop(&v);
}

static void test_tcp_no_close_after_half_close(void **state) {
  struct ws_rfc862_result r;
  struct tsrv v;
  (void)state;
  tsrv_start(&v, T_NOCLOSE);
  run1(v.loop, &v.addr, "tcp.1.4", &r);
  expect_pass(&r); /* the echo itself is fine */
  run1(v.loop, &v.addr, "tcp.3.1", &r);
  expect_fail(&r, "no EOF within 300 ms after the last of 65536 bytes "
                  "echoed: the server did not close the connection after "
                  "our half-close");
  assert_int_equal(r.bytes_echoed, 65536);
  assert_int_equal(r.eof_ms, -1);
  assert_int_equal(r.clients_ok, 0);
  run1(v.loop, &v.addr, "tcp.3.3", &r);
  expect_fail(&r, "no EOF within 300 ms after the last of 0 bytes echoed: "
                  "the server did not close the connection after our "
                  "half-close");
  run1(v.loop, &v.addr, "tcp.4.2", &r);
  expect_fail_has(&r, "the client after 8 early closes: no EOF within 300 "
                      "ms");
  tsrv_stop(&v);
}

static void test_tcp_close_at_once(void **state) {
  struct ws_rfc862_result r;
  struct tsrv v;
  (void)state;
  tsrv_start(&v, T_CLOSE);
  run1(v.loop, &v.addr, "tcp.1.1", &r);
  /* EOF, or a reset when our byte arrived after the close. */
  expect_fail_has(&r, "after 0 of 1 bytes echoed");
  assert_int_equal(r.bytes_echoed, 0);
  assert_true(r.duration_ms < STALL_MS);
  tsrv_stop(&v);
}

static void test_tcp_silent(void **state) {
  struct ws_rfc862_result r;
  struct tsrv v;
  (void)state;
  tsrv_start(&v, T_SILENT);
  run1(v.loop, &v.addr, "tcp.1.2", &r);
  expect_fail(&r, "no echo for 300 ms: 0 of 100 bytes echoed (100 sent); 0 "
                  "of 1 clients complete");
  assert_true(r.duration_ms >= STALL_MS);
  /* 16 MiB to a server that never reads: still a verdict, no hang. */
  run1(v.loop, &v.addr, "tcp.2.2", &r);
  expect_fail(&r, "no echo for 300 ms: 0 of 16777216 bytes echoed "
                  "(16777216 sent); 0 of 1 clients complete");
  tsrv_stop(&v);
}

static void test_tcp_double_and_flood(void **state) {
  struct ws_rfc862_result r;
  struct tsrv v;
  (void)state;
  tsrv_start(&v, T_DOUBLE);
  run1(v.loop, &v.addr, "tcp.1.2", &r);
  expect_fail(&r, "100 bytes more than were sent came back (100 sent so "
                  "far)");
  assert_int_equal(r.first_difference, 100);
  assert_int_equal(r.bytes_echoed, 100);
  tsrv_stop(&v);
  tsrv_start(&v, T_FLOOD);
  run1(v.loop, &v.addr, "tcp.1.1", &r);
  assert_int_equal(r.first_difference, 0);
  expect_fail_has(&r, "echo differs at offset 0 of 1: expected 0x");
  expect_fail_has(&r, "got 0xaa");
  tsrv_stop(&v);
}

/* A server that keeps echoing, too slowly: the hard deadline ends it. */
static void test_tcp_deadline(void **state) {
  const struct ws_rfc862_check *k = ws_rfc862_find("tcp.1.2");
  struct ws_rfc862_options o;
  struct ws_rfc862_result r;
  char err[128];
  struct tsrv v;
  (void)state;
  tsrv_start(&v, T_SLOW);
  options(&o, v.loop);
  o.deadline_ms = 300;
  assert_int_equal(
      ws_rfc862_run(&v.addr, WS_RFC862_TCP, &k, 1, &o, &r, err, sizeof(err)),
      0);
  expect_fail_has(&r, "deadline of 300 ms exceeded: ");
  expect_fail_has(&r, " of 100 bytes echoed");
  assert_true(r.bytes_echoed > 3 && r.bytes_echoed < 100);
  assert_true(r.duration_ms >= 300 && r.duration_ms < 1000);
  tsrv_stop(&v);
}

/* SIGPIPE-style death after the early closes: the next client is refused. */
static void test_tcp_die_after_reset(void **state) {
  struct ws_rfc862_result r;
  struct tsrv v;
  (void)state;
  tsrv_start(&v, T_DIE);
  run1(v.loop, &v.addr, "tcp.4.2", &r);
  expect_fail(&r, "the client after 8 early closes: connect: connection "
                  "refused");
  assert_int_equal(r.net_error, -ECONNREFUSED);
  assert_int_equal(r.clients_ok, 0);
  tsrv_stop(&v);
}

static void test_refused(void **state) {
  const struct ws_rfc862_check *k[1];
  struct ws_rfc862_options o;
  struct ws_rfc862_result r;
  struct ws_addr a;
  char err[128], want[128];
  ws_loop *loop;
  int fd, fds0 = count_fds();
  (void)state;
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  options(&o, loop);
  /* TCP: a port that was just closed. */
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  assert_int_equal(ws_tcp_listen(&fd, &a, 0), 0);
  assert_int_equal(ws_addr_local(fd, &a), 0);
  ws_net_close(fd);
  k[0] = ws_rfc862_find("tcp.1.1");
  memset(&r, 0x5a, sizeof(r));
  assert_int_equal(ws_rfc862_run(&a, WS_RFC862_TCP, k, 1, &o, &r, err,
                                 sizeof(err)),
                   -ECONNREFUSED);
  snprintf(want, sizeof(want), "connect 127.0.0.1:%u: connection refused",
           ws_addr_port(&a));
  assert_string_equal(err, want);
  assert_null(r.check); /* zeroed */
  /* UDP: the ICMP port unreachable, seen by the connected probe. */
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  assert_int_equal(ws_udp_bind(&fd, &a), 0);
  assert_int_equal(ws_addr_local(fd, &a), 0);
  ws_net_close(fd);
  k[0] = ws_rfc862_find("udp.1.1");
  assert_int_equal(ws_rfc862_run(&a, WS_RFC862_UDP, k, 1, &o, &r, err,
                                 sizeof(err)),
                   -ECONNREFUSED);
  /* Arguments. */
  assert_int_equal(ws_rfc862_run(&a, WS_RFC862_TCP, k, 1, &o, &r, err,
                                 sizeof(err)),
                   WS_EINVAL); /* a UDP check in a TCP run */
  memset(&a, 0, sizeof(a));
  assert_int_equal(ws_rfc862_run(&a, WS_RFC862_UDP, k, 1, &o, &r, err,
                                 sizeof(err)),
                   WS_EINVAL);
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

/* ------------------------------------------------- broken UDP servers */

enum umode {
  U_TRUNC,  /* answers with at most 2048 bytes (xinetd) */
  U_TWICE,  /* answers every datagram twice */
  U_SILENT, /* never answers */
  U_OTHER,  /* answers from another port */
  U_FLIP,   /* flips byte 100 */
  U_LONG,   /* appends one byte */
  U_FLOOD,  /* 200 copies of every answer */
  U_LOSE,   /* drops the first two 512-byte datagrams */
  U_SWAP    /* sends each answer to the previous sender */
};

struct usrv {
  ws_loop *loop;
  enum umode mode;
  struct ws_io io;
  int other_fd;
  struct ws_addr addr, prev;
  int have_prev, lost, fds0;
};

static void usrv_on_io(struct ws_io *io, unsigned events, void *user) {
  static uint8_t buf[WS_UDP_RECV_BUFFER + 1];
  struct usrv *v = user;
  struct ws_addr from, to;
  ws_ssize n;
  size_t len;
  (void)events;
  while ((n = ws_udp_recvfrom(io->fd, buf, WS_UDP_RECV_BUFFER, &from,
                              NULL)) >= 0) {
    len = (size_t)n;
    to = from;
    switch (v->mode) {
    case U_TRUNC:
      len = len > 2048 ? 2048 : len;
      break;
    case U_SILENT:
      continue;
    case U_FLIP:
      if (len > 100)
        buf[100] ^= 0x01;
      break;
    case U_LONG:
      buf[len++] = 'x';
      break;
    case U_LOSE:
      if (len == 512 && v->lost < 2) {
        v->lost++;
        continue;
      }
      break;
    case U_SWAP:
      if (v->have_prev)
        to = v->prev;
      v->prev = from;
      v->have_prev = 1;
      break;
    default:
      break;
    }
    int copies = v->mode == U_TWICE ? 2 : v->mode == U_FLOOD ? 200 : 1;
    for (int i = 0; i < copies; i++)
      ws_udp_sendto(v->mode == U_OTHER ? v->other_fd : io->fd, buf, len,
                    &to);
  }
}

static void usrv_start(struct usrv *v, enum umode mode) {
  struct ws_addr a;
  int fd;
  memset(v, 0, sizeof(*v));
  v->fds0 = count_fds();
  v->mode = mode;
  v->other_fd = -1;
  assert_int_equal(ws_loop_new(&v->loop, NULL, NULL), 0);
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  assert_int_equal(ws_udp_bind(&fd, &a), 0);
  assert_int_equal(ws_addr_local(fd, &v->addr), 0);
  assert_int_equal(
      ws_io_start(v->loop, &v->io, fd, WS_IO_READ, usrv_on_io, v), 0);
  if (mode == U_OTHER)
    assert_int_equal(ws_udp_bind(&v->other_fd, &a), 0);
}

static void usrv_stop(struct usrv *v) {
  ws_io_close(&v->io);
  if (v->other_fd >= 0)
    ws_net_close(v->other_fd);
  assert_int_equal(ws_loop_free(v->loop), 0);
  assert_int_equal(count_fds(), v->fds0);
}

/* xinetd's internal echo: datagrams cut to 2048 bytes. */
static void test_udp_truncated(void **state) {
  static const char *const ids[] = {"udp.1.1", "udp.1.4", "udp.1.5",
                                    "udp.1.6", "udp.1.7", "udp.2.1"};
  struct ws_rfc862_result r[6];
  struct usrv v;
  (void)state;
  usrv_start(&v, U_TRUNC);
  assert_int_equal(run_ids(v.loop, &v.addr, WS_RFC862_UDP, ids, 6, r), 0);
  expect_pass(&r[0]);
  expect_pass(&r[1]);
  expect_fail(&r[2],
              "2049-byte datagram answered with 2048 bytes: truncated to "
              "2048 bytes");
  assert_int_equal(r[2].truncated, 1);
  assert_int_equal(r[2].truncated_to, 2048);
  assert_int_equal(r[2].answered, 0);
  assert_int_equal(r[2].sent, 1); /* a truncated answer is no loss */
  assert_int_equal(r[2].retries, 0);
  expect_fail(&r[3],
              "8192-byte datagram answered with 2048 bytes: truncated to "
              "2048 bytes");
  expect_fail(&r[4],
              "65507-byte datagram answered with 2048 bytes: truncated to "
              "2048 bytes");
  expect_pass(&r[5]);
  usrv_stop(&v);
}

static void test_udp_twice_and_flood(void **state) {
  static const char *const ids[] = {"udp.1.1", "udp.2.1"};
  struct ws_rfc862_result r[2];
  struct usrv v;
  (void)state;
  usrv_start(&v, U_TWICE);
  assert_int_equal(run_ids(v.loop, &v.addr, WS_RFC862_UDP, ids, 2, r), 0);
  expect_fail(&r[0], "1-byte datagram answered 2 times: 1 duplicate within "
                     "40 ms");
  assert_int_equal(r[0].duplicates, 1);
  assert_int_equal(r[0].answered, 1);
  expect_fail(&r[1], "8 duplicate answers: a datagram must be answered "
                     "once");
  assert_int_equal(r[1].duplicates, 8);
  assert_int_equal(r[1].answered, 8);
  usrv_stop(&v);
  usrv_start(&v, U_FLOOD);
  assert_int_equal(run_ids(v.loop, &v.addr, WS_RFC862_UDP, ids, 1, r), 0);
  expect_fail_has(&r[0], "1-byte datagram answered ");
  assert_true(r[0].duplicates >= 100 && r[0].duplicates <= 199);
  assert_true(r[0].duration_ms < 2000);
  usrv_stop(&v);
}

static void test_udp_silent(void **state) {
  static const char *const ids[] = {"udp.1.1", "udp.2.1"};
  struct ws_rfc862_result r[2];
  struct usrv v;
  (void)state;
  usrv_start(&v, U_SILENT);
  /* The probe hears nothing: not a refusal, the checks run. */
  assert_int_equal(run_ids(v.loop, &v.addr, WS_RFC862_UDP, ids, 2, r), 0);
  expect_fail(&r[0], "1-byte datagram never answered: sent 4 times (3 "
                     "retries), 80 ms each: lost");
  assert_int_equal(r[0].lost, 1);
  assert_int_equal(r[0].sent, 4);
  assert_int_equal(r[0].retries, 3);
  assert_int_equal(r[0].answered, 0);
  expect_fail(&r[1], "datagram 1 of 8 (1 bytes) never answered: sent 4 "
                     "times (3 retries), 80 ms each: lost; 8 of 8 datagrams "
                     "failed");
  assert_int_equal(r[1].lost, 8);
  assert_int_equal(r[1].sent, 32);
  usrv_stop(&v);
}

static void test_udp_wrong_source(void **state) {
  struct ws_rfc862_result r;
  char want[320], a[64], b[64];
  struct usrv v;
  struct ws_addr other;
  (void)state;
  usrv_start(&v, U_OTHER);
  run1(v.loop, &v.addr, "udp.1.2", &r);
  assert_int_equal(ws_addr_local(v.other_fd, &other), 0);
  ws_addr_format(a, sizeof(a), &other);
  ws_addr_format(b, sizeof(b), &v.addr);
  snprintf(want, sizeof(want),
           "an answer came from %s, not from the server's address %s; "
           "512-byte datagram never answered: sent 4 times (3 retries), 80 "
           "ms each: lost; 4 stray answers",
           a, b);
  expect_fail(&r, want);
  assert_int_equal(r.stray, 4);
  usrv_stop(&v);
}

static void test_udp_content(void **state) {
  static const char *const ids[] = {"udp.1.2", "udp.1.1"};
  struct ws_rfc862_result r[2];
  struct usrv v;
  (void)state;
  usrv_start(&v, U_FLIP);
  assert_int_equal(run_ids(v.loop, &v.addr, WS_RFC862_UDP, ids, 2, r), 0);
  expect_fail(&r[0], "512-byte datagram answered with other content: first "
                     "difference at offset 100");
  expect_pass(&r[1]);
  usrv_stop(&v);
  usrv_start(&v, U_LONG);
  assert_int_equal(run_ids(v.loop, &v.addr, WS_RFC862_UDP, ids, 1, r), 0);
  expect_fail(&r[0], "512-byte datagram answered with 513 bytes: 1 byte too "
                     "many");
  usrv_stop(&v);
}

/* Loss is retried with a fresh datagram, and said. */
static void test_udp_loss_retried(void **state) {
  struct ws_rfc862_result r;
  struct usrv v;
  (void)state;
  usrv_start(&v, U_LOSE);
  run1(v.loop, &v.addr, "udp.1.2", &r);
  expect_pass(&r);
  assert_int_equal(r.retries, 2);
  assert_int_equal(r.sent, 3);
  assert_int_equal(r.lost, 0);
  assert_int_equal(r.duplicates, 0);
  assert_non_null(strstr(r.reason, ", after 2 retries (datagrams lost on "
                                   "the way)"));
  usrv_stop(&v);
}

static void test_udp_crossed_answers(void **state) {
  struct ws_rfc862_result r;
  struct usrv v;
  (void)state;
  usrv_start(&v, U_SWAP);
  run1(v.loop, &v.addr, "udp.2.2", &r);
  expect_fail_has(&r, "'s datagram");
  expect_fail_has(&r, "received the answer to client ");
  assert_true(r.stray > 0);
  usrv_stop(&v);
}

/* ------------------------------------------------------------ reports */

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  char *p;
  long n;
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  n = ftell(f);
  assert_true(n >= 0);
  rewind(f);
  p = malloc((size_t)n + 1);
  assert_non_null(p);
  assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
  p[n] = '\0';
  fclose(f);
  return p;
}

static void test_reports(void **state) {
  struct ws_rfc862_result tr[2], ur[1];
  struct ws_rfc862_agent a[2];
  char dir[] = "/tmp/test_rfc862_XXXXXX", path[256], err[256];
  json_error_t je;
  json_t *root, *o;
  char *text;
  (void)state;
  memset(tr, 0, sizeof(tr));
  memset(ur, 0, sizeof(ur));
  tr[0].check = ws_rfc862_find("tcp.1.4");
  tr[0].verdict = WS_RFC862_PASS;
  tr[0].duration_ms = 3;
  tr[0].bytes_sent = tr[0].bytes_echoed = 65536;
  tr[0].clients = tr[0].clients_ok = 1;
  tr[0].first_difference = -1;
  tr[0].eof_ms = -1;
  snprintf(tr[0].reason, sizeof(tr[0].reason), "fine");
  tr[1] = tr[0];
  tr[1].check = ws_rfc862_find("tcp.3.1");
  tr[1].verdict = WS_RFC862_FAIL;
  tr[1].first_difference = 1000;
  tr[1].eof_ms = -1;
  snprintf(tr[1].reason, sizeof(tr[1].reason), "bad <&\"> byte");
  ur[0].check = ws_rfc862_find("udp.1.5");
  ur[0].verdict = WS_RFC862_FAIL;
  ur[0].datagrams = ur[0].sent = ur[0].truncated = 1;
  ur[0].truncated_to = 2048;
  ur[0].duration_ms = 1500;
  snprintf(ur[0].reason, sizeof(ur[0].reason),
           "2049-byte datagram answered with 2048 bytes: truncated to 2048 "
           "bytes");
  /* One agent name for both URLs: merged. */
  a[0] = (struct ws_rfc862_agent){"xinetd", "tcp://127.0.0.1:7", tr, 2};
  a[1] = (struct ws_rfc862_agent){"xinetd", "udp://127.0.0.1:7", ur, 1};
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/rfc862.json", dir);
  assert_int_equal(ws_rfc862_write_json(path, a, 2, err, sizeof(err)), 0);
  text = slurp(path);
  /* 3-space indentation, sorted keys. */
  assert_prefix(text, "{\n   \"xinetd\": {\n      \"tcp.1.4\": {\n"
                            "         \"bytesEchoed\": 65536,\n");
  free(text);
  root = json_load_file(path, 0, &je);
  assert_non_null(root);
  assert_int_equal(json_object_size(root), 1);
  o = json_object_get(json_object_get(root, "xinetd"), "udp.1.5");
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(o, "verdict")),
                      "FAIL");
  assert_int_equal(json_integer_value(json_object_get(o, "truncatedTo")),
                   2048);
  assert_int_equal(json_integer_value(json_object_get(o, "duration")), 1500);
  assert_string_equal(json_string_value(json_object_get(o, "url")),
                      "udp://127.0.0.1:7");
  assert_int_equal(json_object_size(o), 15);
  o = json_object_get(json_object_get(root, "xinetd"), "tcp.3.1");
  assert_int_equal(json_integer_value(json_object_get(o, "firstDifference")),
                   1000);
  assert_true(json_is_null(json_object_get(o, "eofMs")));
  assert_string_equal(json_string_value(json_object_get(o, "reason")),
                      "bad <&\"> byte");
  assert_int_equal(json_object_size(o), 12);
  o = json_object_get(json_object_get(root, "xinetd"), "tcp.1.4");
  assert_true(json_is_null(json_object_get(o, "firstDifference")));
  assert_null(json_object_get(o, "eofMs")); /* no half-close there */
  assert_int_equal(json_object_size(o), 11);
  json_decref(root);

  /* JUnit: one suite per agent entry, the failure escaped, and the
   * directory it goes in created. */
  char jpath[320], sub[270];
  snprintf(sub, sizeof(sub), "%s/sub", dir);
  snprintf(jpath, sizeof(jpath), "%s/junit.xml", sub);
  assert_int_equal(ws_rfc862_write_junit(jpath, a, 2, err, sizeof(err)), 0);
  text = slurp(jpath);
  assert_prefix(text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<testsuites>\n  <testsuite name=\"wsspec.rfc862."
                      "xinetd\" tests=\"2\" failures=\"1\" errors=\"0\" "
                      "time=\"0.006\">\n    <testcase classname=\"xinetd."
                      "tcp\" name=\"tcp.1.4 ");
  assert_non_null(strstr(text, "<failure message=\"bad &lt;&amp;&quot;&gt; "
                               "byte\">Expected: "));
  assert_non_null(strstr(text, "failures=\"1\" errors=\"0\" "
                               "time=\"1.500\">"));
  assert_non_null(strstr(text, "</testsuites>\n"));
  free(text);
  a[1].results = NULL;
  assert_int_equal(ws_rfc862_write_junit(jpath, a, 2, err, sizeof(err)),
                   WS_EINVAL);
  a[1].results = ur;

  /* A check twice under one agent; a directory that is a file. */
  a[1] = a[0];
  assert_int_equal(ws_rfc862_write_json(path, a, 2, err, sizeof(err)),
                   WS_EINVAL);
  assert_string_equal(err, "check tcp.1.4 twice for agent xinetd");
  snprintf(path, sizeof(path), "%s/rfc862.json/x.json", dir);
  assert_int_equal(ws_rfc862_write_json(path, a, 1, err, sizeof(err)),
                   -ENOTDIR);
  assert_int_equal(ws_rfc862_write_junit(path, a, 1, err, sizeof(err)),
                   -ENOTDIR);
  snprintf(path, sizeof(path), "%s/rfc862.json", dir);
  assert_int_equal(unlink(path), 0);
  assert_int_equal(unlink(jpath), 0);
  assert_int_equal(rmdir(sub), 0);
  assert_int_equal(rmdir(dir), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_catalogue),
      cmocka_unit_test(test_select),
      cmocka_unit_test(test_reference_tcp),
      cmocka_unit_test(test_reference_udp),
      cmocka_unit_test(test_tcp_reorder),
      cmocka_unit_test(test_tcp_drop),
      cmocka_unit_test(test_tcp_no_close_after_half_close),
      cmocka_unit_test(test_tcp_close_at_once),
      cmocka_unit_test(test_tcp_silent),
      cmocka_unit_test(test_tcp_double_and_flood),
      cmocka_unit_test(test_tcp_deadline),
      cmocka_unit_test(test_tcp_die_after_reset),
      cmocka_unit_test(test_refused),
      cmocka_unit_test(test_udp_truncated),
      cmocka_unit_test(test_udp_twice_and_flood),
      cmocka_unit_test(test_udp_silent),
      cmocka_unit_test(test_udp_wrong_source),
      cmocka_unit_test(test_udp_content),
      cmocka_unit_test(test_udp_loss_retried),
      cmocka_unit_test(test_udp_crossed_answers),
      cmocka_unit_test(test_reports),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
