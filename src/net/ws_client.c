/*
 * ws_client.c: URL targets, the loop-driven connect, and the blocking
 * client (ws_client.h).
 *
 * The blocking client is the asynchronous one plus a private loop: each
 * call queues its work, then turns the loop until a condition holds (a
 * message arrived, the output drained, the connection ended) or a timer
 * of its own fires. Received messages are copied into a queue as they
 * arrive, so nothing is lost between calls.
 */
#include "ws_client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net_loop.h"

/* ------------------------------------------------------------ targets */

int ws_client_target_parse(struct ws_client_target *t, const char *url,
                           char *err, size_t errlen) {
  struct ws_url u;
  ws_ssize n;
  int r;
  char dummy[1];
  if (err == NULL || errlen == 0) {
    err = dummy;
    errlen = sizeof(dummy);
  }
  err[0] = '\0';
  memset(t, 0, sizeof(*t));
  r = ws_url_parse(&u, url, strlen(url));
  if (r != 0) {
    snprintf(err, errlen, "invalid URL '%s': %s", url, ws_net_strerror(r));
    return r;
  }
  if (u.scheme != WS_SCHEME_WS) {
    snprintf(err, errlen, "unsupported URL '%s': %s", url,
             u.scheme == WS_SCHEME_WSS ? "wss:// needs TLS, not available yet"
                                       : "not a ws:// URL");
    return -EPROTONOSUPPORT;
  }
  n = ws_url_resource(t->resource, sizeof(t->resource), &u);
  if (n < 0) {
    snprintf(err, errlen, "URL '%s': path too long", url);
    return -ENAMETOOLONG;
  }
  memcpy(t->host, u.host, u.host_len + 1);
  t->port = u.port;
  t->port_given = u.port_given;
  r = ws_url_resolve(&u, &t->addr, 1, AF_UNSPEC);
  if (r < 0) {
    snprintf(err, errlen, "cannot resolve '%s': %s", t->host,
             ws_net_strerror(r));
    return r;
  }
  return 0;
}

void ws_client_target_request(const struct ws_client_target *t,
                              struct ws_client_options *req) {
  memset(req, 0, sizeof(*req));
  req->host = t->host;
  req->port = t->port_given ? t->port : 0;
  req->path = t->resource;
}

int ws_client_connect(ws_conn_ctx *ctx, const struct ws_addr *addr,
                      const struct ws_client_options *req,
                      const struct ws_conn_config *cfg,
                      const struct ws_conn_handler *h, void *user,
                      ws_conn **out) {
  return ws__conn_connect(ctx, addr, req, cfg, h, user, out);
}

/* ------------------------------------------------------------ blocking */

struct msg {
  struct msg *next;
  enum ws_opcode opcode;
  size_t len;
  uint8_t data[];
};

struct ws_client {
  const struct ws_mem *mem;
  struct ws_client_config cfg;
  struct ws_client_target target;
  struct ws_client_options req;
  ws_loop *loop;
  ws_conn_ctx *ctx;
  ws_conn *conn;
  struct ws_conn_handler handler;
  struct msg *head, *tail, *last;
  struct ws_timer deadline;
  struct ws_conn_end end;
  char *protocol;
  uint8_t started, opened, ended, expired, lost; /* lost: out of memory */
  uint8_t want_pong, got_pong;
  size_t ping_len;
  uint8_t ping[WS_CONTROL_MAX];
  char err[400];
};

void ws_client_config_default(struct ws_client_config *c) {
  memset(c, 0, sizeof(*c));
  ws_conn_config_default(&c->conn);
}

static void on_open(ws_conn *conn, void *user) {
  ws_client *c = user;
  const char *p = ws_conn_protocol(conn);
  c->opened = 1;
  if (p != NULL) {
    size_t n = strlen(p) + 1;
    c->protocol = c->mem->malloc(n, c->mem->user);
    if (c->protocol)
      memcpy(c->protocol, p, n);
  }
}

static void on_message(ws_conn *conn, enum ws_opcode op, const uint8_t *d,
                       size_t n, void *user) {
  ws_client *c = user;
  struct msg *m = c->mem->malloc(sizeof(*m) + n, c->mem->user);
  if (m == NULL) {
    /* A message we cannot keep: losing it silently would be worse. */
    c->lost = 1;
    ws_conn_abort(conn);
    return;
  }
  m->next = NULL;
  m->opcode = op;
  m->len = n;
  if (n)
    memcpy(m->data, d, n);
  if (c->tail)
    c->tail->next = m;
  else
    c->head = m;
  c->tail = m;
}

static void on_pong(ws_conn *conn, const uint8_t *d, size_t n, void *user) {
  ws_client *c = user;
  (void)conn;
  if (c->want_pong && n == c->ping_len && (n == 0 || !memcmp(d, c->ping, n)))
    c->got_pong = 1;
}

static void on_end(ws_conn *conn, const struct ws_conn_end *e, void *user) {
  ws_client *c = user;
  (void)conn;
  c->end = *e;
  c->ended = 1;
  c->conn = NULL;
}

static void on_deadline(struct ws_timer *t, void *user) {
  ws_client *c = user;
  (void)t;
  c->expired = 1;
}

int ws_client_new(ws_client **out, const struct ws_client_config *cfg,
                  const struct ws_mem *mem) {
  ws_client *c;
  int r;
  if (out == NULL || cfg == NULL)
    return WS_EINVAL;
  *out = NULL;
  if (mem == NULL)
    mem = ws_mem_default();
  c = mem->malloc(sizeof(*c), mem->user);
  if (c == NULL)
    return WS_ENOMEM;
  memset(c, 0, sizeof(*c));
  c->mem = mem;
  c->cfg = *cfg;
  r = ws_loop_new(&c->loop, NULL, mem);
  if (r == 0) {
    r = ws_conn_ctx_new(&c->ctx, c->loop, mem);
    if (r != 0)
      ws_loop_free(c->loop);
  }
  if (r != 0) {
    mem->free(c, mem->user);
    return r == -EIO ? WS_ECRYPTO : r;
  }
  c->handler.on_open = on_open;
  c->handler.on_message = on_message;
  c->handler.on_pong = on_pong;
  c->handler.on_end = on_end;
  ws_timer_init(c->loop, &c->deadline, on_deadline, c);
  *out = c;
  return 0;
}

/* Turns the loop until |cond| holds, the connection ends, or |ms| pass
 * (0: no limit of our own). Returns 1 when |cond| holds. */
static int run_until(ws_client *c, int (*cond)(const ws_client *),
                     uint64_t ms) {
  c->expired = 0;
  if (ms)
    ws_timer_start(&c->deadline, ms);
  while (!cond(c) && !c->expired && !c->ended && ws_loop_alive(c->loop))
    if (ws_loop_run(c->loop, WS_RUN_ONCE) < 0)
      break;
  ws_timer_stop(&c->deadline);
  return cond(c);
}

static int is_settled(const ws_client *c) { return c->opened || c->ended; }
static int has_message(const ws_client *c) { return c->head != NULL; }
static int is_ended(const ws_client *c) { return c->ended; }
static int is_flushed(const ws_client *c) {
  return c->conn == NULL || ws_conn_pending(c->conn) == 0;
}
static int has_pong(const ws_client *c) { return c->got_pong; }

/* Fills the error line from how the connection ended. */
static void describe_end(ws_client *c) {
  if (c->lost)
    snprintf(c->err, sizeof(c->err), "out of memory: a message was lost");
  else
    ws_conn_end_format(c->err, sizeof(c->err), &c->end);
}

int ws_client_open(ws_client *c, const char *url) {
  int r;
  if (c == NULL || url == NULL)
    return WS_EINVAL;
  c->err[0] = '\0';
  if (c->started)
    return WS_ESTATE;
  r = ws_client_target_parse(&c->target, url, c->err, sizeof(c->err));
  if (r != 0)
    return r == WS_ENOMEM ? WS_ENOMEM
           : (r <= WS_NET_ENONAME && r >= WS_NET_ERESOLVE) ? WS_EHANDSHAKE
                                                            : WS_EINVAL;
  ws_client_target_request(&c->target, &c->req);
  c->req.origin = c->cfg.origin;
  c->req.protocols = c->cfg.protocols;
  c->req.num_protocols = c->cfg.num_protocols;
  c->req.headers = c->cfg.headers;
  c->req.num_headers = c->cfg.num_headers;
  r = ws_client_connect(c->ctx, &c->target.addr, &c->req, &c->cfg.conn,
                        &c->handler, c, &c->conn);
  if (r != 0) {
    if (r == -EINVAL)
      snprintf(c->err, sizeof(c->err),
               "invalid handshake options (subprotocol, origin or header)");
    else
      ws_addr_format_error(c->err, sizeof(c->err), "connect",
                           &c->target.addr, r);
    return r == WS_ENOMEM ? WS_ENOMEM : r == -EINVAL ? WS_EINVAL
                                                     : WS_EHANDSHAKE;
  }
  c->started = 1;
  /* The connection's own timers bound this wait. */
  run_until(c, is_settled, 0);
  if (c->opened)
    return 0;
  if (c->ended)
    describe_end(c);
  return WS_EHANDSHAKE;
}

/* The reason a call cannot proceed when there is no live connection. */
static int gone(ws_client *c) {
  if (!c->started)
    return WS_ESTATE;
  describe_end(c);
  return WS_ECLOSED;
}

int ws_client_send(ws_client *c, enum ws_opcode opcode, const void *data,
                   size_t len, uint64_t timeout_ms) {
  int r;
  if (c == NULL)
    return WS_EINVAL;
  c->err[0] = '\0';
  if (c->conn == NULL)
    return gone(c);
  r = ws_conn_send(c->conn, opcode, data, len);
  if (r == WS_ECLOSED) {
    run_until(c, is_ended, 0);
    return gone(c);
  }
  if (r != 0) {
    snprintf(c->err, sizeof(c->err), "send: %s", ws_strerror(r));
    return r;
  }
  if (run_until(c, is_flushed, timeout_ms))
    return 0;
  if (c->ended)
    return gone(c);
  snprintf(c->err, sizeof(c->err), "send: timed out, message still queued");
  return WS_EAGAIN;
}

int ws_client_recv(ws_client *c, struct ws_client_message *m,
                   uint64_t timeout_ms) {
  if (c == NULL || m == NULL)
    return WS_EINVAL;
  c->err[0] = '\0';
  if (c->last) {
    c->mem->free(c->last, c->mem->user);
    c->last = NULL;
  }
  if (!c->started)
    return WS_ESTATE;
  if (c->head == NULL && !c->ended)
    run_until(c, has_message, timeout_ms);
  if (c->head != NULL) {
    struct msg *x = c->head;
    c->head = x->next;
    if (c->head == NULL)
      c->tail = NULL;
    c->last = x;
    m->opcode = x->opcode;
    m->data = x->data;
    m->len = x->len;
    return 0;
  }
  if (c->ended)
    return gone(c);
  snprintf(c->err, sizeof(c->err), "timed out waiting for a message");
  return WS_EAGAIN;
}

int ws_client_ping(ws_client *c, const void *data, size_t len,
                   uint64_t timeout_ms) {
  int r;
  if (c == NULL || (data == NULL && len > 0))
    return WS_EINVAL;
  c->err[0] = '\0';
  if (len > WS_CONTROL_MAX)
    return WS_ETOOBIG;
  if (c->conn == NULL)
    return gone(c);
  r = ws_conn_ping(c->conn, data, len);
  if (r != 0) {
    snprintf(c->err, sizeof(c->err), "ping: %s", ws_strerror(r));
    return r;
  }
  if (len)
    memcpy(c->ping, data, len);
  c->ping_len = len;
  c->want_pong = 1;
  c->got_pong = 0;
  run_until(c, has_pong, timeout_ms);
  c->want_pong = 0;
  if (c->got_pong)
    return 0;
  if (c->ended)
    return gone(c);
  snprintf(c->err, sizeof(c->err), "timed out waiting for the pong");
  return WS_EAGAIN;
}

int ws_client_close(ws_client *c, uint16_t code, const char *reason,
                    uint64_t timeout_ms) {
  int r;
  if (c == NULL)
    return WS_EINVAL;
  c->err[0] = '\0';
  if (!c->started)
    return WS_ESTATE;
  if (c->conn != NULL) {
    r = ws_conn_close(c->conn, code, (const uint8_t *)reason,
                      reason ? strlen(reason) : 0);
    if (r != 0 && r != WS_ESTATE && r != WS_ECLOSED) {
      snprintf(c->err, sizeof(c->err), "close: %s", ws_strerror(r));
      return r;
    }
    if (!run_until(c, is_ended, timeout_ms) && c->conn != NULL) {
      ws_conn_abort(c->conn);
      run_until(c, is_ended, 0);
    }
  }
  if (c->ended && c->end.outcome == WS_CONN_CLEAN && !c->lost)
    return 0;
  return gone(c);
}

const char *ws_client_error(const ws_client *c) { return c->err; }

const struct ws_conn_end *ws_client_end(const ws_client *c) {
  return c->ended ? &c->end : NULL;
}

const char *ws_client_protocol(const ws_client *c) { return c->protocol; }

void ws_client_free(ws_client *c) {
  struct msg *m;
  if (c == NULL)
    return;
  if (c->conn != NULL) {
    ws_conn_abort(c->conn);
    run_until(c, is_ended, 0);
  }
  while ((m = c->head) != NULL) {
    c->head = m->next;
    c->mem->free(m, c->mem->user);
  }
  if (c->last)
    c->mem->free(c->last, c->mem->user);
  if (c->protocol)
    c->mem->free(c->protocol, c->mem->user);
  ws_timer_stop(&c->deadline);
  ws_conn_ctx_free(c->ctx);
  ws_loop_free(c->loop);
  c->mem->free(c, c->mem->user);
}
