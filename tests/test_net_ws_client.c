/*
 * test_net_ws_client.c: the client API (ws_client.h) and the client side
 * of the connection driver (ws_conn.h), over loopback with port 0.
 *
 * Peers: the in-process echo server (echo_server.h) on the same loop, or
 * a raw "server" made of plain sockets that answers whatever a test needs
 * (a masked frame, a wrong accept value, silence). The loop runs on a
 * fake clock, so timeouts fire when a test moves the clock and never by
 * sleeping. The blocking client gets its echo server on a second thread,
 * with a loop of its own.
 */
#define _DEFAULT_SOURCE
#include "test_support.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/ws_handshake.h"
#include "net/echo_server.h"
#include "net/net_addr.h"
#include "net/net_loop.h"
#include "net/ws_client.h"
#include "net/ws_conn.h"

/* ------------------------------------------------------------ helpers */

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  int n = 0;
  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n - 1;
}

struct fake_clock {
  uint64_t now;
};

static uint64_t fake_now(void *user) {
  return ((struct fake_clock *)user)->now;
}

/* What a client connection saw. */
struct cl {
  ws_conn *conn;
  int opened, ended, pongs, closes;
  struct ws_conn_end end;
  int nmsg;
  enum ws_opcode op[8];
  size_t len[8];
  uint8_t msg[8][256];
  uint8_t pong[WS_CONTROL_MAX];
  size_t pong_len;
  uint16_t close_code;
  /* Scripted behaviour. */
  int send_on_open;     /* send "hello" (text) and 3 binary bytes */
  int close_after;      /* close with 1000 after this many messages */
  int send_error;       /* what ws_conn_send returned, if not 0 */
};

static void cl_open(ws_conn *c, void *user) {
  struct cl *k = user;
  k->opened++;
  if (k->send_on_open) {
    int r = ws_conn_send(c, WS_OP_TEXT, (const uint8_t *)"hello", 5);
    if (r == 0)
      r = ws_conn_send(c, WS_OP_BINARY, (const uint8_t *)"\x00\x01\x02", 3);
    if (r != 0) {
      k->send_error = r;
      ws_conn_close(c, WS_CLOSE_NORMAL, NULL, 0);
    }
  }
}

static void cl_message(ws_conn *c, enum ws_opcode op, const uint8_t *d,
                       size_t n, void *user) {
  struct cl *k = user;
  if (k->nmsg < 8 && n <= 256) {
    k->op[k->nmsg] = op;
    k->len[k->nmsg] = n;
    memcpy(k->msg[k->nmsg], d, n);
  }
  k->nmsg++;
  if (k->close_after && k->nmsg == k->close_after)
    assert_int_equal(ws_conn_close(c, WS_CLOSE_NORMAL,
                                   (const uint8_t *)"done", 4),
                     0);
}

static void cl_pong(ws_conn *c, const uint8_t *d, size_t n, void *user) {
  struct cl *k = user;
  (void)c;
  k->pongs++;
  memcpy(k->pong, d, n);
  k->pong_len = n;
}

static void cl_close(ws_conn *c, uint16_t code, const uint8_t *r, size_t n,
                     void *user) {
  struct cl *k = user;
  (void)c;
  (void)r;
  (void)n;
  k->closes++;
  k->close_code = code;
}

static void cl_end(ws_conn *c, const struct ws_conn_end *e, void *user) {
  struct cl *k = user;
  (void)c;
  k->ended++;
  k->end = *e;
  k->conn = NULL;
}

static const struct ws_conn_handler cl_handler = {
    .on_open = cl_open,
    .on_message = cl_message,
    .on_pong = cl_pong,
    .on_close = cl_close,
    .on_end = cl_end,
};

/* A fake-clock loop, a client context and (optionally) an echo server. */
struct env {
  struct fake_clock clk;
  ws_loop *loop;
  ws_conn_ctx *ctx;
  ws_echo *e;
  struct ws_echo_config ecfg;
  struct ws_conn_config ccfg;
  struct ws_addr ws;
  struct ws_client_options req;
  int done;
  int fds0;
};

static void env_init(struct env *v) {
  memset(v, 0, sizeof(*v));
  v->fds0 = count_fds();
  v->clk.now = 5000000;
  ws_echo_config_default(&v->ecfg);
  ws_conn_config_default(&v->ccfg);
  v->req.host = "127.0.0.1";
  v->req.path = "/echo";
}

/* The loop, and a client context unless |ctx| is 0. */
static void env_loop(struct env *v, int ctx) {
  struct ws_loop_options lo = {fake_now, &v->clk};
  assert_int_equal(ws_loop_new(&v->loop, &lo, NULL), 0);
  if (ctx)
    assert_int_equal(ws_conn_ctx_new(&v->ctx, v->loop, NULL), 0);
}

static void env_echo(struct env *v) {
  struct ws_addr a;
  assert_int_equal(ws_echo_new(&v->e, v->loop, &v->ecfg, NULL), 0);
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  assert_int_equal(ws_echo_listen(v->e, WS_SCHEME_WS, &a, &v->ws), 0);
}

static void pump(struct env *v, int ms) {
  int i;
  for (i = 0; i < ms; i++) {
    ws_loop_run(v->loop, WS_RUN_NOWAIT);
    poll(NULL, 0, 1);
  }
  ws_loop_run(v->loop, WS_RUN_NOWAIT);
}

/* Runs the loop until |*flag| is non-zero (fails after 3 s). */
static void pump_until(struct env *v, const int *flag) {
  int i;
  for (i = 0; i < 3000 && !*flag; i++)
    pump(v, 1);
  if (!*flag)
    fail_msg("the loop did not get there in 3 s");
}

static void on_done(ws_echo *e, void *user) {
  (void)e;
  ((struct env *)user)->done = 1;
}

static void env_stop(struct env *v) {
  if (v->e) {
    ws_echo_shutdown(v->e, 0, on_done, v);
    pump_until(v, &v->done);
    assert_int_equal(ws_echo_free(v->e), 0);
  }
  pump(v, 2);
  assert_int_equal(ws_conn_ctx_count(v->ctx), 0);
  assert_int_equal(ws_conn_ctx_free(v->ctx), 0);
  assert_false(ws_loop_alive(v->loop));
  assert_int_equal(ws_loop_free(v->loop), 0);
  assert_int_equal(count_fds(), v->fds0);
}

static void start(struct env *v, struct cl *k, const struct ws_addr *to) {
  assert_int_equal(ws_client_connect(v->ctx, to, &v->req, &v->ccfg,
                                     &cl_handler, k, &k->conn),
                   0);
  assert_int_equal(ws_conn_get_state(k->conn), WS_CONN_CONNECTING);
}

/* ---------------------------------------------------- a raw server */

struct raw {
  int lfd, fd;
  struct ws_addr addr;
  char key[WS_KEY_LEN + 1];
  char accept[WS_ACCEPT_LEN + 1];
};

static void raw_listen(struct raw *s) {
  struct ws_addr a;
  socklen_t len = sizeof(s->addr);
  memset(s, 0, sizeof(*s));
  s->fd = -1;
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  assert_true(s->lfd >= 0);
  assert_int_equal(bind(s->lfd, &a.sa, ws_addr_len(&a)), 0);
  assert_int_equal(listen(s->lfd, 8), 0);
  assert_int_equal(getsockname(s->lfd, &s->addr.sa, &len), 0);
}

/* Accepts the client and reads its request head; computes the accept
 * value of its key. */
static void raw_accept(struct env *v, struct raw *s) {
  char req[2048];
  size_t got = 0;
  int i;
  for (i = 0; i < 3000 && s->fd < 0; i++) {
    pump(v, 0);
    s->fd = accept(s->lfd, NULL, NULL);
    if (s->fd < 0)
      poll(NULL, 0, 1);
  }
  assert_true(s->fd >= 0);
  assert_int_equal(fcntl(s->fd, F_SETFL, O_NONBLOCK), 0);
  for (i = 0; i < 3000; i++) {
    ssize_t r;
    pump(v, 0);
    r = recv(s->fd, req + got, sizeof(req) - 1 - got, 0);
    if (r > 0) {
      got += (size_t)r;
      req[got] = '\0';
      if (strstr(req, "\r\n\r\n"))
        break;
    } else {
      poll(NULL, 0, 1);
    }
  }
  const char *k = strstr(req, "Sec-WebSocket-Key: ");
  assert_non_null(k);
  memcpy(s->key, k + 19, WS_KEY_LEN);
  s->key[WS_KEY_LEN] = '\0';
  assert_int_equal(ws_handshake_accept(NULL, s->key, WS_KEY_LEN, s->accept),
                   0);
  /* RFC 6455 Section 4.1: the request the client sends. */
  assert_int_equal(strncmp(req, "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n", 37),
                   0);
}

static void raw_send(struct raw *s, const void *p, size_t n) {
  assert_int_equal(send(s->fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void raw_101(struct raw *s, const char *extra) {
  char resp[512];
  int n = snprintf(resp, sizeof(resp),
                   "HTTP/1.1 101 Switching Protocols\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: %s\r\n%s\r\n",
                   s->accept, extra ? extra : "");
  raw_send(s, resp, (size_t)n);
}

/* Reads what the client sent, unmasking frames: returns the first
 * frame's opcode and payload; |*eof| when the client closed. */
static int raw_frame(struct env *v, struct raw *s, uint8_t *payload,
                     size_t *plen, int *eof) {
  uint8_t buf[512];
  size_t got = 0, need = 2;
  int i;
  *eof = 0;
  for (i = 0; i < 3000; i++) {
    ssize_t r;
    pump(v, 0);
    r = recv(s->fd, buf + got, sizeof(buf) - got, 0);
    if (r == 0) {
      *eof = 1;
      break;
    }
    if (r > 0) {
      got += (size_t)r;
      if (got >= 2)
        need = 2 + 4 + (buf[1] & 0x7f);
      if (got >= need)
        break;
    } else {
      poll(NULL, 0, 1);
    }
  }
  if (got < need)
    return -1;
  assert_true(buf[1] & 0x80); /* RFC 6455 Section 5.3: masked */
  *plen = buf[1] & 0x7f;
  for (i = 0; i < (int)*plen; i++)
    payload[i] = buf[6 + i] ^ buf[2 + (i & 3)];
  return buf[0];
}

/* ------------------------------------------------------------- tests */

static void test_client_echo_roundtrip(void **state) {
  struct env v;
  struct cl k;
  static const char *const protos[] = {"chat"};
  static const char *const offer[] = {"x", "chat"};
  (void)state;
  env_init(&v);
  v.ecfg.protocols = protos;
  v.ecfg.num_protocols = 1;
  v.req.protocols = offer;
  v.req.num_protocols = 2;
  env_loop(&v, 1);
  env_echo(&v);
  memset(&k, 0, sizeof(k));
  k.send_on_open = 1;
  k.close_after = 2;
  start(&v, &k, &v.ws);
  pump_until(&v, &k.ended);
  assert_int_equal(k.opened, 1);
  assert_int_equal(k.nmsg, 2);
  assert_int_equal(k.op[0], WS_OP_TEXT);
  assert_int_equal(k.len[0], 5);
  assert_memory_equal(k.msg[0], "hello", 5);
  assert_int_equal(k.op[1], WS_OP_BINARY);
  assert_int_equal(k.len[1], 3);
  assert_memory_equal(k.msg[1], "\x00\x01\x02", 3);
  /* Our Close 1000 came back as 1000; the server closed TCP first. */
  assert_int_equal(k.end.outcome, WS_CONN_CLEAN);
  assert_int_equal(k.end.role, WS_ROLE_CLIENT);
  assert_int_equal(k.end.opened, 1);
  assert_int_equal(k.end.http_status, 101);
  assert_string_equal(k.end.http_reason, "Switching Protocols");
  assert_int_equal(k.end.sent_code, 1000);
  assert_int_equal(k.end.received_code, 1000);
  assert_int_equal(k.end.peer_closed_first, 0);
  assert_true(ws_addr_equal(&k.end.peer, &v.ws));
  env_stop(&v);
}

static int protocol_seen;

static void proto_open(ws_conn *c, void *user) {
  (void)user;
  protocol_seen = ws_conn_protocol(c) && !strcmp(ws_conn_protocol(c), "chat");
  ws_conn_close(c, WS_CLOSE_NORMAL, NULL, 0);
}

static void test_client_subprotocol(void **state) {
  struct env v;
  struct cl k;
  struct ws_conn_handler h = cl_handler;
  static const char *const protos[] = {"chat"};
  static const char *const offer[] = {"x", "chat"};
  (void)state;
  env_init(&v);
  v.ecfg.protocols = protos;
  v.ecfg.num_protocols = 1;
  v.req.protocols = offer;
  v.req.num_protocols = 2;
  env_loop(&v, 1);
  env_echo(&v);
  memset(&k, 0, sizeof(k));
  h.on_open = proto_open;
  protocol_seen = 0;
  assert_int_equal(
      ws_client_connect(v.ctx, &v.ws, &v.req, &v.ccfg, &h, &k, &k.conn), 0);
  pump_until(&v, &k.ended);
  assert_int_equal(protocol_seen, 1);
  assert_int_equal(k.end.outcome, WS_CONN_CLEAN);
  env_stop(&v);
}

static void ping_open(ws_conn *c, void *user) {
  (void)user;
  assert_int_equal(ws_conn_ping(c, (const uint8_t *)"abc", 3), 0);
  assert_int_equal(ws_conn_ping(c, NULL, 126), WS_EINVAL);
}

static void test_client_ping_pong(void **state) {
  struct env v;
  struct cl k;
  struct ws_conn_handler h = cl_handler;
  (void)state;
  env_init(&v);
  env_loop(&v, 1);
  env_echo(&v);
  memset(&k, 0, sizeof(k));
  h.on_open = ping_open;
  assert_int_equal(
      ws_client_connect(v.ctx, &v.ws, &v.req, &v.ccfg, &h, &k, &k.conn), 0);
  pump_until(&v, &k.pongs);
  assert_int_equal(k.pong_len, 3);
  assert_memory_equal(k.pong, "abc", 3);
  assert_int_equal(ws_conn_close(k.conn, 4000, (const uint8_t *)"x", 1), 0);
  assert_int_equal(ws_conn_close(k.conn, 4000, NULL, 0), WS_ESTATE);
  assert_int_equal(ws_conn_send(k.conn, WS_OP_TEXT, (const uint8_t *)"x", 1),
                   WS_ESTATE);
  pump_until(&v, &k.ended);
  assert_int_equal(k.end.outcome, WS_CONN_CLEAN);
  assert_int_equal(k.end.received_code, 4000);
  env_stop(&v);
}

/* The server starts the closing handshake (its SIGTERM path). */
static void test_client_server_close(void **state) {
  struct env v;
  struct cl k;
  (void)state;
  env_init(&v);
  env_loop(&v, 1);
  env_echo(&v);
  memset(&k, 0, sizeof(k));
  start(&v, &k, &v.ws);
  pump_until(&v, &k.opened);
  ws_echo_shutdown(v.e, 3000, on_done, &v);
  pump_until(&v, &k.ended);
  assert_int_equal(k.closes, 1);
  assert_int_equal(k.close_code, 1001);
  assert_int_equal(k.end.outcome, WS_CONN_CLEAN);
  assert_int_equal(k.end.peer_closed_first, 1);
  assert_int_equal(k.end.received_code, 1001);
  assert_int_equal(k.end.sent_code, 1001); /* echoed, Section 5.5.1 */
  assert_int_equal(k.end.received_reason_len, 20);
  assert_memory_equal(k.end.received_reason, "server shutting down", 20);
  pump_until(&v, &v.done);
  assert_int_equal(ws_echo_free(v.e), 0);
  v.e = NULL;
  env_stop(&v);
}

/* A server frame with MASK set: the client fails the connection with
 * 1002 (RFC 6455 Section 5.1) and closes TCP itself (Section 7.1.7). */
static void test_client_violation_from_server(void **state) {
  struct env v;
  struct cl k;
  struct raw s;
  uint8_t p[128];
  size_t plen;
  int eof;
  struct ws_violation vi;
  (void)state;
  env_init(&v);
  env_loop(&v, 1);
  raw_listen(&s);
  memset(&k, 0, sizeof(k));
  start(&v, &k, &s.addr);
  raw_accept(&v, &s);
  raw_101(&s, NULL);
  pump_until(&v, &k.opened);
  raw_send(&s, "\x81\x82\x00\x00\x00\x00hi", 8);
  int op = raw_frame(&v, &s, p, &plen, &eof);
  assert_int_equal(op, 0x88);
  ws_violation_set(&vi, WS_V_MASKED_SERVER_FRAME, 1);
  assert_int_equal(plen, 2 + strlen(vi.reason));
  assert_memory_equal(p, "\x03\xea", 2);
  assert_memory_equal(p + 2, vi.reason, plen - 2);
  pump_until(&v, &k.ended);
  assert_int_equal(k.end.outcome, WS_CONN_VIOLATION);
  assert_int_equal(k.end.violation.id, WS_V_MASKED_SERVER_FRAME);
  assert_int_equal(k.end.violation.offset, 1);
  assert_int_equal(k.end.violation.close_code, 1002);
  assert_int_equal(k.nmsg, 0);
  raw_frame(&v, &s, p, &plen, &eof);
  assert_int_equal(eof, 1);
  close(s.fd);
  close(s.lfd);
  env_stop(&v);
}

static void test_client_handshake_refused(void **state) {
  struct env v;
  struct cl k;
  char line[200], want[200];
  static const char *const origins[] = {"http://good.example"};
  (void)state;
  env_init(&v);
  v.ecfg.origins = origins;
  v.ecfg.num_origins = 1;
  v.req.origin = "http://evil.example";
  env_loop(&v, 1);
  env_echo(&v);
  memset(&k, 0, sizeof(k));
  start(&v, &k, &v.ws);
  pump_until(&v, &k.ended);
  assert_int_equal(k.opened, 0);
  assert_int_equal(k.end.outcome, WS_CONN_HANDSHAKE_FAILED);
  assert_int_equal(k.end.hs_failure.id, WS_HS_STATUS_NOT_101);
  assert_int_equal(k.end.http_status, 403);
  assert_string_equal(k.end.http_reason, "Forbidden");
  ws_conn_end_format(line, sizeof(line), &k.end);
  snprintf(want, sizeof(want),
           "handshake refused by 127.0.0.1:%u: HTTP 403 Forbidden",
           (unsigned)ws_addr_port(&v.ws));
  assert_string_equal(line, want);
  env_stop(&v);
}

static void test_client_bad_accept(void **state) {
  struct env v;
  struct cl k;
  struct raw s;
  char resp[256];
  int n;
  (void)state;
  env_init(&v);
  env_loop(&v, 1);
  raw_listen(&s);
  memset(&k, 0, sizeof(k));
  start(&v, &k, &s.addr);
  raw_accept(&v, &s);
  n = snprintf(resp, sizeof(resp),
               "HTTP/1.1 101 Switching Protocols\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  raw_send(&s, resp, (size_t)n);
  pump_until(&v, &k.ended);
  assert_int_equal(k.opened, 0);
  assert_int_equal(k.end.outcome, WS_CONN_HANDSHAKE_FAILED);
  assert_int_equal(k.end.hs_failure.id, WS_HS_ACCEPT_MISMATCH);
  assert_int_equal(k.end.http_status, 101);
  close(s.fd);
  close(s.lfd);
  env_stop(&v);
}

/* The response and a first frame, whole, byte by byte and split at
 * every position: the same events each time. */
static void test_client_response_split(void **state) {
  struct env v;
  struct raw s;
  char in[512];
  size_t len, cut;
  static const char *const offer[] = {"chat"};
  (void)state;
  env_init(&v);
  v.req.protocols = offer;
  v.req.num_protocols = 1;
  env_loop(&v, 1);
  raw_listen(&s);
  for (cut = 0; cut < 400; cut++) {
    struct cl k;
    struct ws_loop_stats ls;
    memset(&k, 0, sizeof(k));
    start(&v, &k, &s.addr);
    s.fd = -1;
    raw_accept(&v, &s);
    len = (size_t)snprintf(in, sizeof(in),
                           "HTTP/1.1 101 Switching Protocols\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Protocol: chat\r\n"
                           "Sec-WebSocket-Accept: %s\r\n\r\n"
                           "\x81\x02hi",
                           s.accept);
    memcpy(in + len, "\x82\x00", 2); /* an empty binary message */
    len += 2;
    if (cut >= len) {
      ws_conn_abort(k.conn);
      pump_until(&v, &k.ended);
      close(s.fd);
      break;
    }
    /* cut 0: byte by byte; otherwise two pieces. */
    size_t at = 0;
    while (at < len) {
      size_t end = cut == 0 ? at + 1 : at == 0 ? cut : len;
      struct guarded g = guarded_copy(in + at, end - at);
      uint64_t reads;
      int spins = 0;
      ws_loop_stats(v.loop, &ls);
      reads = ls.reads;
      raw_send(&s, g.data, g.len);
      guarded_free(&g);
      at = end;
      do {
        pump(&v, 0);
        ws_loop_stats(v.loop, &ls);
        if (ls.reads == reads)
          poll(NULL, 0, 1);
        assert_true(++spins < 3000);
      } while (ls.reads == reads);
    }
    assert_int_equal(k.opened, 1);
    assert_int_equal(k.nmsg, 2);
    assert_int_equal(k.op[0], WS_OP_TEXT);
    assert_int_equal(k.len[0], 2);
    assert_memory_equal(k.msg[0], "hi", 2);
    assert_int_equal(k.op[1], WS_OP_BINARY);
    assert_int_equal(k.len[1], 0);
    assert_string_equal(ws_conn_protocol(k.conn), "chat");
    ws_conn_abort(k.conn);
    pump_until(&v, &k.ended);
    assert_int_equal(k.end.outcome, WS_CONN_ABORTED);
    close(s.fd);
  }
  close(s.lfd);
  env_stop(&v);
}

static void test_client_connect_refused(void **state) {
  struct env v;
  struct cl k;
  struct raw s;
  char line[200], want[200];
  (void)state;
  env_init(&v);
  env_loop(&v, 1);
  raw_listen(&s);
  close(s.lfd); /* a port nobody listens on */
  memset(&k, 0, sizeof(k));
  start(&v, &k, &s.addr);
  pump_until(&v, &k.ended);
  assert_int_equal(k.end.outcome, WS_CONN_CONNECT_FAILED);
  assert_int_equal(k.end.net_error, -ECONNREFUSED);
  ws_conn_end_format(line, sizeof(line), &k.end);
  snprintf(want, sizeof(want), "connect 127.0.0.1:%u: connection refused",
           (unsigned)ws_addr_port(&s.addr));
  assert_string_equal(line, want);
  env_stop(&v);
}

static void test_client_handshake_timeout(void **state) {
  struct env v;
  struct cl k;
  struct raw s;
  (void)state;
  env_init(&v);
  v.ccfg.handshake_timeout_ms = 2000;
  env_loop(&v, 1);
  raw_listen(&s);
  memset(&k, 0, sizeof(k));
  start(&v, &k, &s.addr);
  raw_accept(&v, &s); /* reads the request, never answers */
  v.clk.now += 1999;
  pump(&v, 5);
  assert_int_equal(k.ended, 0);
  v.clk.now += 1;
  pump_until(&v, &k.ended);
  assert_int_equal(k.end.outcome, WS_CONN_HANDSHAKE_TIMEOUT);
  assert_int_equal(k.end.opened, 0);
  close(s.fd);
  close(s.lfd);
  env_stop(&v);
}

/* Our Close gets no reply: the connection ends at the close timeout. */
static void test_client_close_timeout(void **state) {
  struct env v;
  struct cl k;
  struct raw s;
  uint8_t p[128];
  size_t plen;
  int eof;
  (void)state;
  env_init(&v);
  v.ccfg.close_timeout_ms = 700;
  env_loop(&v, 1);
  raw_listen(&s);
  memset(&k, 0, sizeof(k));
  start(&v, &k, &s.addr);
  raw_accept(&v, &s);
  raw_101(&s, NULL);
  pump_until(&v, &k.opened);
  assert_int_equal(ws_conn_close(k.conn, 1000, (const uint8_t *)"bye", 3), 0);
  assert_int_equal(raw_frame(&v, &s, p, &plen, &eof), 0x88);
  assert_int_equal(plen, 5);
  assert_memory_equal(p, "\x03\xe8" "bye", 5);
  v.clk.now += 699;
  pump(&v, 5);
  assert_int_equal(k.ended, 0);
  v.clk.now += 1;
  pump_until(&v, &k.ended);
  assert_int_equal(k.end.outcome, WS_CONN_CLOSE_TIMEOUT);
  assert_int_equal(k.end.close_sent, 1);
  assert_int_equal(k.end.close_received, 0);
  close(s.fd);
  close(s.lfd);
  env_stop(&v);
}

/* After the closing handshake the client waits for the server's TCP
 * close (RFC 6455 Section 7.1.1), and closes itself when it does not. */
static void test_client_awaits_server_close(void **state) {
  struct env v;
  struct raw s;
  int round;
  (void)state;
  env_init(&v);
  v.ccfg.close_timeout_ms = 500;
  env_loop(&v, 1);
  raw_listen(&s);
  for (round = 0; round < 2; round++) {
    struct cl k;
    uint8_t p[128];
    size_t plen;
    int eof;
    memset(&k, 0, sizeof(k));
    start(&v, &k, &s.addr);
    s.fd = -1;
    raw_accept(&v, &s);
    raw_101(&s, NULL);
    pump_until(&v, &k.opened);
    raw_send(&s, "\x88\x02\x03\xe8", 4); /* the server closes first */
    assert_int_equal(raw_frame(&v, &s, p, &plen, &eof), 0x88);
    assert_int_equal(plen, 2);
    assert_memory_equal(p, "\x03\xe8", 2);
    pump(&v, 5);
    assert_int_equal(k.ended, 0);
    assert_int_equal(ws_conn_get_state(k.conn), WS_CONN_CLOSING);
    if (round == 0) {
      close(s.fd); /* the server drops TCP: done at once */
      pump_until(&v, &k.ended);
    } else {
      v.clk.now += 500; /* it does not: the client closes */
      pump_until(&v, &k.ended);
      raw_frame(&v, &s, p, &plen, &eof);
      assert_int_equal(eof, 1);
      close(s.fd);
    }
    assert_int_equal(k.end.outcome, WS_CONN_CLEAN);
    assert_int_equal(k.end.peer_closed_first, 1);
  }
  close(s.lfd);
  env_stop(&v);
}

/* Raw bytes for the conformance runner: an unmasked frame makes the echo
 * server fail the connection with 1002. */
static void raw_open(ws_conn *c, void *user) {
  (void)user;
  assert_int_equal(ws_conn_send(c, WS_OP_TEXT, (const uint8_t *)"a", 1), 0);
  assert_int_equal(ws_conn_send_raw(c, (const uint8_t *)"\x81\x01x", 3), 0);
}

static void test_client_send_raw(void **state) {
  struct env v;
  struct cl k;
  struct ws_conn_handler h = cl_handler;
  (void)state;
  env_init(&v);
  env_loop(&v, 1);
  env_echo(&v);
  memset(&k, 0, sizeof(k));
  h.on_open = raw_open;
  assert_int_equal(
      ws_client_connect(v.ctx, &v.ws, &v.req, &v.ccfg, &h, &k, &k.conn), 0);
  pump_until(&v, &k.ended);
  assert_int_equal(k.nmsg, 1); /* "a" was echoed before the failure */
  assert_int_equal(k.closes, 1);
  assert_int_equal(k.close_code, 1002);
  assert_int_equal(k.end.outcome, WS_CONN_CLEAN);
  assert_int_equal(k.end.received_code, 1002);
  env_stop(&v);
}

static void test_client_bad_options(void **state) {
  struct env v;
  struct cl k;
  struct ws_addr a;
  static const char *const bad_header[] = {"No colon here"};
  static const char *const dup[] = {"chat", "chat"};
  (void)state;
  env_init(&v);
  env_loop(&v, 1);
  memset(&k, 0, sizeof(k));
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 9), 0);
  v.req.headers = bad_header;
  v.req.num_headers = 1;
  assert_int_equal(ws_client_connect(v.ctx, &a, &v.req, &v.ccfg, &cl_handler,
                                     &k, NULL),
                   -EINVAL);
  v.req.num_headers = 0;
  v.req.protocols = dup;
  v.req.num_protocols = 2;
  assert_int_equal(ws_client_connect(v.ctx, &a, &v.req, &v.ccfg, &cl_handler,
                                     &k, NULL),
                   -EINVAL);
  v.req.num_protocols = 0;
  v.req.path = "no-slash";
  assert_int_equal(ws_client_connect(v.ctx, &a, &v.req, &v.ccfg, &cl_handler,
                                     &k, NULL),
                   -EINVAL);
  assert_int_equal(ws_client_connect(v.ctx, &a, NULL, &v.ccfg, &cl_handler,
                                     &k, NULL),
                   -EINVAL);
  pump(&v, 2);
  assert_int_equal(k.ended, 0); /* a call that failed promises no event */
  assert_int_equal(ws_conn_ctx_count(v.ctx), 0);
  env_stop(&v);
}

static void test_conn_end_format(void **state) {
  struct ws_conn_end e;
  struct ws_handshake_failure f;
  char line[300], want[300];
  (void)state;
  memset(&e, 0, sizeof(e));
  assert_int_equal(ws_addr_set(&e.peer, "127.0.0.1", 1), 0);
  e.outcome = WS_CONN_CLEAN;
  e.sent_code = 1000;
  e.received_code = 1001;
  ws_conn_end_format(line, sizeof(line), &e);
  assert_string_equal(line, "closed cleanly (sent 1000, received 1001)");
  e.outcome = WS_CONN_CONNECT_FAILED;
  e.net_error = -ETIMEDOUT;
  ws_conn_end_format(line, sizeof(line), &e);
  assert_string_equal(line, "connect 127.0.0.1:1: timed out");
  e.outcome = WS_CONN_HANDSHAKE_TIMEOUT;
  ws_conn_end_format(line, sizeof(line), &e);
  assert_string_equal(line, "opening handshake with 127.0.0.1:1 timed out");
  e.outcome = WS_CONN_HANDSHAKE_FAILED;
  e.role = WS_ROLE_CLIENT;
  ws_hs_failure_set(&f, WS_HS_ACCEPT_MISMATCH, 0);
  e.hs_failure = f;
  ws_conn_end_format(line, sizeof(line), &e);
  snprintf(want, sizeof(want),
           "handshake with 127.0.0.1:1 failed: %s (RFC 6455 Section %s)",
           f.reason, f.section);
  assert_string_equal(line, want);
  e.role = WS_ROLE_SERVER;
  e.http_status = 400;
  ws_hs_failure_set(&f, WS_HS_KEY_MISSING, 0);
  e.hs_failure = f;
  ws_conn_end_format(line, sizeof(line), &e);
  snprintf(want, sizeof(want),
           "handshake from 127.0.0.1:1 refused with HTTP 400: %s (RFC 6455 "
           "Section 4.2.1)",
           f.reason);
  assert_string_equal(line, want);
  e.outcome = WS_CONN_EOF;
  e.opened = 0;
  ws_conn_end_format(line, sizeof(line), &e);
  assert_string_equal(line, "connection closed by 127.0.0.1:1 during the "
                            "opening handshake");
  e.opened = 1;
  ws_conn_end_format(line, sizeof(line), &e);
  assert_string_equal(line, "connection closed by 127.0.0.1:1 without a "
                            "closing handshake");
  e.outcome = WS_CONN_CLOSE_TIMEOUT;
  e.sent_code = 1001;
  ws_conn_end_format(line, sizeof(line), &e);
  assert_string_equal(line, "no Close reply from 127.0.0.1:1 in time (sent "
                            "1001)");
  e.outcome = WS_CONN_IO_ERROR;
  e.net_error = -ECONNRESET;
  ws_conn_end_format(line, sizeof(line), &e);
  ws_addr_format_error(want, sizeof(want), "connection", &e.peer,
                       -ECONNRESET);
  assert_string_equal(line, want);
  e.outcome = WS_CONN_LOCAL_ERROR;
  e.ws_error = WS_ENOMEM;
  ws_conn_end_format(line, sizeof(line), &e);
  snprintf(want, sizeof(want), "connection with 127.0.0.1:1 failed: %s",
           ws_strerror(WS_ENOMEM));
  assert_string_equal(line, want);
  e.outcome = WS_CONN_VIOLATION;
  ws_violation_set(&e.violation, WS_V_INVALID_UTF8, 12);
  size_t need = ws_conn_end_format(line, 10, &e);
  assert_int_equal(strlen(line), 9); /* cut, NUL-terminated */
  ws_conn_end_format(line, sizeof(line), &e);
  assert_int_equal(need, strlen(line));
  snprintf(want, sizeof(want),
           "protocol violation by 127.0.0.1:1: %s (RFC 6455 Section %s, byte "
           "12); closed with 1007",
           e.violation.reason, e.violation.section);
  assert_string_equal(line, want);
  assert_string_equal(ws_conn_outcome_name(WS_CONN_CLOSE_TIMEOUT),
                      "CLOSE_TIMEOUT");
  assert_string_equal(ws_conn_outcome_name((enum ws_conn_outcome)99),
                      "UNKNOWN");
}

static void test_client_target_parse(void **state) {
  struct ws_client_target t;
  struct ws_client_options req;
  char err[200], want[200], url[6000];
  int r;
  (void)state;
  assert_int_equal(ws_client_target_parse(&t, "ws://127.0.0.1:9001/chat?x=1",
                                          err, sizeof(err)),
                   0);
  assert_string_equal(err, "");
  assert_string_equal(t.host, "127.0.0.1");
  assert_int_equal(t.port, 9001);
  assert_int_equal(t.port_given, 1);
  assert_string_equal(t.resource, "/chat?x=1");
  assert_int_equal(ws_addr_port(&t.addr), 9001);
  ws_client_target_request(&t, &req);
  assert_ptr_equal(req.host, t.host);
  assert_int_equal(req.port, 9001);
  assert_string_equal(req.path, "/chat?x=1");
  assert_int_equal(ws_client_target_parse(&t, "ws://[::1]", err, sizeof(err)),
                   0);
  assert_string_equal(t.host, "::1");
  assert_int_equal(t.port, 80);
  assert_int_equal(t.port_given, 0);
  assert_string_equal(t.resource, "/");
  assert_int_equal(t.addr.sa.sa_family, AF_INET6);
  ws_client_target_request(&t, &req);
  assert_int_equal(req.port, 0);
  assert_int_equal(ws_client_target_parse(&t, "ws://localhost:5/", NULL, 0),
                   0);
  assert_int_equal(ws_addr_port(&t.addr), 5);
  assert_int_equal(ws_client_target_parse(&t, "wss://x/", err, sizeof(err)),
                   -EPROTONOSUPPORT);
  assert_string_equal(err, "unsupported URL 'wss://x/': wss:// needs TLS, "
                           "not available yet");
  assert_int_equal(
      ws_client_target_parse(&t, "tcp://127.0.0.1:1", err, sizeof(err)),
      -EPROTONOSUPPORT);
  assert_string_equal(err, "unsupported URL 'tcp://127.0.0.1:1': not a ws:// "
                           "URL");
  r = ws_client_target_parse(&t, "ws//x", err, sizeof(err));
  assert_true(r <= -3000 && r > -3100);
  snprintf(want, sizeof(want), "invalid URL 'ws//x': %s", ws_net_strerror(r));
  assert_string_equal(err, want);
  snprintf(url, sizeof(url), "ws://h/%05000d", 0);
  assert_int_equal(ws_client_target_parse(&t, url, err, sizeof(err)),
                   -ENAMETOOLONG);
}

/* ----------------------------------------------- the blocking client */

struct srv {
  ws_loop *loop;
  ws_echo *e;
  struct ws_addr addr;
  int pipe[2];
  struct ws_io stop;
  pthread_t th;
};

static void srv_stop_cb(struct ws_io *io, unsigned events, void *user) {
  struct srv *s = user;
  char b;
  (void)events;
  (void)read(io->fd, &b, 1);
  ws_io_stop(io);
  ws_echo_shutdown(s->e, 0, NULL, NULL);
}

static void *srv_main(void *arg) {
  struct srv *s = arg;
  ws_loop_run(s->loop, WS_RUN_DEFAULT);
  return NULL;
}

static void srv_start(struct srv *s, uint64_t max_message) {
  struct ws_echo_config cfg;
  struct ws_addr a;
  static const char *const protos[] = {"chat"};
  ws_echo_config_default(&cfg);
  cfg.protocols = protos;
  cfg.num_protocols = 1;
  cfg.conn.session.max_message_size = max_message;
  assert_int_equal(ws_loop_new(&s->loop, NULL, NULL), 0);
  assert_int_equal(ws_echo_new(&s->e, s->loop, &cfg, NULL), 0);
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  assert_int_equal(ws_echo_listen(s->e, WS_SCHEME_WS, &a, &s->addr), 0);
  assert_int_equal(pipe(s->pipe), 0);
  assert_int_equal(ws_io_start(s->loop, &s->stop, s->pipe[0], WS_IO_READ,
                               srv_stop_cb, s),
                   0);
  assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(struct srv *s) {
  assert_int_equal(write(s->pipe[1], "x", 1), 1);
  assert_int_equal(pthread_join(s->th, NULL), 0);
  assert_int_equal(ws_echo_free(s->e), 0);
  assert_int_equal(ws_loop_free(s->loop), 0);
  close(s->pipe[0]);
  close(s->pipe[1]);
}

static void test_client_blocking(void **state) {
  struct srv s;
  struct ws_client_config cfg;
  struct ws_client_message m;
  ws_client *c;
  char url[80];
  static const char *const offer[] = {"x", "chat"};
  size_t big = 1 << 20, i;
  uint8_t *data = malloc(big);
  int fds0 = count_fds();
  (void)state;
  for (i = 0; i < big; i++)
    data[i] = (uint8_t)(i * 31);
  srv_start(&s, 64u << 20);
  ws_client_config_default(&cfg);
  cfg.protocols = offer;
  cfg.num_protocols = 2;
  assert_int_equal(ws_client_new(&c, &cfg, NULL), 0);
  assert_int_equal(ws_client_recv(c, &m, 10), WS_ESTATE);
  snprintf(url, sizeof(url), "ws://127.0.0.1:%u/path",
           (unsigned)ws_addr_port(&s.addr));
  assert_int_equal(ws_client_open(c, url), 0);
  assert_int_equal(ws_client_open(c, url), WS_ESTATE);
  assert_string_equal(ws_client_protocol(c), "chat");
  assert_null(ws_client_end(c));
  assert_int_equal(ws_client_send(c, WS_OP_TEXT, "h\xc3\xa9llo", 6, 1000), 0);
  assert_int_equal(ws_client_send(c, WS_OP_TEXT, "\xff", 1, 1000), WS_EINVAL);
  assert_int_equal(ws_client_recv(c, &m, 3000), 0);
  assert_int_equal(m.opcode, WS_OP_TEXT);
  assert_int_equal(m.len, 6);
  assert_memory_equal(m.data, "h\xc3\xa9llo", 6);
  assert_int_equal(ws_client_send(c, WS_OP_BINARY, data, big, 3000), 0);
  assert_int_equal(ws_client_recv(c, &m, 3000), 0);
  assert_int_equal(m.opcode, WS_OP_BINARY);
  assert_int_equal(m.len, big);
  assert_memory_equal(m.data, data, big);
  assert_int_equal(ws_client_ping(c, "abc", 3, 3000), 0);
  assert_int_equal(ws_client_recv(c, &m, 20), WS_EAGAIN);
  assert_string_equal(ws_client_error(c), "timed out waiting for a message");
  assert_int_equal(ws_client_close(c, 1000, "bye", 3000), 0);
  assert_non_null(ws_client_end(c));
  assert_int_equal(ws_client_end(c)->outcome, WS_CONN_CLEAN);
  assert_int_equal(ws_client_end(c)->received_code, 1000);
  assert_int_equal(ws_client_send(c, WS_OP_TEXT, "x", 1, 100), WS_ECLOSED);
  assert_string_equal(ws_client_error(c),
                      "closed cleanly (sent 1000, received 1000)");
  ws_client_free(c);
  /* Refused, bad URLs, no TLS. */
  assert_int_equal(ws_client_new(&c, &cfg, NULL), 0);
  assert_int_equal(ws_client_open(c, "ws//x"), WS_EINVAL);
  assert_int_equal(strncmp(ws_client_error(c), "invalid URL 'ws//x': ", 21), 0);
  assert_int_equal(ws_client_open(c, "wss://127.0.0.1/"), WS_EINVAL);
  ws_client_free(c);
  srv_stop(&s);
  assert_int_equal(ws_client_new(&c, &cfg, NULL), 0);
  assert_int_equal(ws_client_open(c, url), WS_EHANDSHAKE);
  char want[120];
  snprintf(want, sizeof(want), "connect 127.0.0.1:%u: connection refused",
           (unsigned)ws_addr_port(&s.addr));
  assert_string_equal(ws_client_error(c), want);
  assert_int_equal(ws_client_end(c)->outcome, WS_CONN_CONNECT_FAILED);
  ws_client_free(c);
  /* A message over the server's limit: it closes with 1009 first. */
  srv_start(&s, 1000);
  assert_int_equal(ws_client_new(&c, &cfg, NULL), 0);
  snprintf(url, sizeof(url), "ws://127.0.0.1:%u/",
           (unsigned)ws_addr_port(&s.addr));
  assert_int_equal(ws_client_open(c, url), 0);
  assert_int_equal(ws_client_send(c, WS_OP_BINARY, data, 2000, 3000), 0);
  assert_int_equal(ws_client_recv(c, &m, 3000), WS_ECLOSED);
  assert_int_equal(ws_client_end(c)->received_code, 1009);
  assert_int_equal(ws_client_end(c)->peer_closed_first, 1);
  assert_int_equal(ws_client_end(c)->outcome, WS_CONN_CLEAN);
  assert_int_equal(ws_client_close(c, 1000, NULL, 100), 0);
  ws_client_free(c);
  srv_stop(&s);
  free(data);
  assert_int_equal(count_fds(), fds0);
}

/*
 * Every allocation of the client side fails once, in turn, over a full
 * exchange (context, connect, handshake, echo, close): the failure comes
 * back as WS_ENOMEM from the call or in on_end, and nothing leaks.
 */
static void test_client_failing_alloc(void **state) {
  long k;
  int full = 0;
  (void)state;
  for (k = 0; k < 100 && !full; k++) {
    struct failing_mem fm;
    struct env v;
    struct cl c;
    int r, saw_enomem = 0;
    failing_mem_init(&fm, k);
    env_init(&v);
    env_loop(&v, 0);
    env_echo(&v);
    r = ws_conn_ctx_new(&v.ctx, v.loop, &fm.mem);
    if (r != 0) {
      assert_int_equal(r, WS_ENOMEM);
      assert_int_equal(fm.live, 0);
      assert_int_equal(ws_conn_ctx_new(&v.ctx, v.loop, NULL), 0);
      env_stop(&v);
      continue;
    }
    memset(&c, 0, sizeof(c));
    c.send_on_open = 1;
    c.close_after = 2;
    r = ws_client_connect(v.ctx, &v.ws, &v.req, &v.ccfg, &cl_handler, &c,
                          &c.conn);
    if (r != 0) {
      assert_int_equal(r, WS_ENOMEM);
      saw_enomem = 1;
    } else {
      pump_until(&v, &c.ended);
      if (c.send_error == WS_ENOMEM ||
          (c.end.outcome == WS_CONN_LOCAL_ERROR &&
           c.end.ws_error == WS_ENOMEM))
        saw_enomem = 1;
      else if (c.end.outcome == WS_CONN_CLEAN && c.nmsg == 2)
        full = 1;
      else
        fail_msg("allocation %ld: outcome %s", k,
                 ws_conn_outcome_name(c.end.outcome));
    }
    assert_true(saw_enomem || full);
    env_stop(&v);
    assert_int_equal(fm.live, 0);
  }
  assert_true(full);
  assert_true(k > 4);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_echo_roundtrip),
      cmocka_unit_test(test_client_subprotocol),
      cmocka_unit_test(test_client_ping_pong),
      cmocka_unit_test(test_client_server_close),
      cmocka_unit_test(test_client_violation_from_server),
      cmocka_unit_test(test_client_handshake_refused),
      cmocka_unit_test(test_client_bad_accept),
      cmocka_unit_test(test_client_response_split),
      cmocka_unit_test(test_client_connect_refused),
      cmocka_unit_test(test_client_handshake_timeout),
      cmocka_unit_test(test_client_close_timeout),
      cmocka_unit_test(test_client_awaits_server_close),
      cmocka_unit_test(test_client_send_raw),
      cmocka_unit_test(test_client_bad_options),
      cmocka_unit_test(test_conn_end_format),
      cmocka_unit_test(test_client_target_parse),
      cmocka_unit_test(test_client_blocking),
      cmocka_unit_test(test_client_failing_alloc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
