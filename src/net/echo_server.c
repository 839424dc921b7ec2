/*
 * echo_server.c: the WebSocket, TCP and UDP echo servers (echo_server.h).
 *
 * The WebSocket echo is a ws_conn handler of a few lines: the driver does
 * the protocol, and ws_conn_send() of the data given to on_message is the
 * zero-copy echo. What remains here is the policy (subprotocols, origins,
 * the connection limit), the RFC 862 servers and the graceful shutdown.
 */
#include "echo_server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../http/ws_http.h"
#include "net_stream.h"
#include "net_tcp.h"
#include "net_udp.h"

/* Connections accepted per wake-up. One: the level-triggered loop reports
 * a listener with more queued again, and a connection at a time spares
 * the accept() that finds the queue empty (a system call per handshake). */
#define ACCEPT_BATCH 1
/* Datagrams echoed per wake-up. */
#define UDP_BATCH 64
/* Pause before accepting again after EMFILE/ENFILE. */
#define ACCEPT_RETRY_MS 100
#define DEFAULT_TCP_HIGH_WATER ((size_t)1 << 20)

struct listener {
  struct ws_io io;
  struct ws_timer retry;
  ws_echo *e;
  enum ws_scheme kind;
  struct ws_addr addr;
  struct listener *next;
};

/* An RFC 862 TCP echo connection. */
struct tcp_conn {
  struct ws_stream s;
  struct ws_timer t; /* idle timeout, checked lazily */
  ws_echo *e;
  struct tcp_conn *prev, *next;
  uint64_t last_rx;
  uint8_t eof;
};

struct ws_echo {
  ws_loop *loop;
  const struct ws_mem *mem;
  struct ws_echo_config cfg;
  ws_conn_ctx *ctx;
  struct ws_conn_handler handler;
  struct listener *listeners;
  struct tcp_conn *tcp;
  size_t tcp_count;
  struct ws_timer grace;
  ws_echo_done_cb done;
  void *done_user;
  uint8_t stopping;  /* ws_echo_shutdown() was called */
  uint8_t finished;  /* |done| is due (or was called) */
  struct ws_echo_stats stats;
};

void ws_echo_config_default(struct ws_echo_config *c) {
  memset(c, 0, sizeof(*c));
  ws_conn_config_default(&c->conn);
}

static void logf_(ws_echo *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void logf_(ws_echo *e, const char *fmt, ...) {
  char line[512];
  va_list ap;
  if (e->cfg.log == NULL)
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  e->cfg.log(line, e->cfg.log_user);
}

/* --------------------------------------------------------- shutdown */

/* Calls |done| from the loop once nothing is open any more. */
static void maybe_done(ws_echo *e) {
  if (!e->stopping || e->finished || e->tcp_count > 0 ||
      ws_conn_ctx_count(e->ctx) > 0)
    return;
  e->finished = 1;
  ws_timer_start(&e->grace, 0);
}

static void on_grace(struct ws_timer *t, void *user) {
  ws_echo *e = user;
  (void)t;
  if (e->finished) {
    if (e->done)
      e->done(e, e->done_user);
    return;
  }
  /* The grace is over: whoever did not answer the Close is dropped. */
  ws_conn_ctx_abort_all(e->ctx);
}

/* ------------------------------------------------ WebSocket handler */

static int origin_allowed(const ws_echo *e, const struct ws_http_span *o) {
  size_t i, k;
  for (i = 0; i < e->cfg.num_origins; i++) {
    const char *a = e->cfg.origins[i];
    if (strlen(a) != o->len)
      continue;
    for (k = 0; k < o->len; k++) {
      unsigned char x = (unsigned char)a[k], y = (unsigned char)o->ptr[k];
      if (x >= 'A' && x <= 'Z')
        x = (unsigned char)(x + 32);
      if (y >= 'A' && y <= 'Z')
        y = (unsigned char)(y + 32);
      if (x != y)
        break;
    }
    if (k == o->len)
      return 1;
  }
  return 0;
}

static void on_request(ws_conn *c, const struct ws_handshake_request *r,
                       struct ws_conn_accept *a, void *user) {
  ws_echo *e = user;
  size_t i, k;
  (void)c;
  /* RFC 6455 Section 4.2.2 item 4 / Section 10.2: a server may refuse
   * origins it does not accept, with 403. */
  if (e->cfg.num_origins > 0 && r->has_origin &&
      !origin_allowed(e, &r->origin)) {
    a->status = 403;
    a->body = "origin not allowed";
    return;
  }
  /* Section 4.2.2 item 5.4: select one of the client's subprotocols: the
   * first in the client's order that we speak. */
  for (i = 0; i < r->num_protocols; i++)
    for (k = 0; k < e->cfg.num_protocols; k++)
      if (strlen(e->cfg.protocols[k]) == r->protocols[i].len &&
          memcmp(e->cfg.protocols[k], r->protocols[i].ptr,
                 r->protocols[i].len) == 0) {
        a->protocol = e->cfg.protocols[k];
        return;
      }
}

static void on_message(ws_conn *c, enum ws_opcode op, const uint8_t *data,
                       size_t len, void *user) {
  static const char reason[] = "out of memory";
  int r = ws_conn_send(c, op, data, len);
  (void)user;
  /* WS_ESTATE: a Close is under way, nothing may follow it. */
  if (r == WS_ENOMEM || r == WS_ETOOBIG)
    ws_conn_close(c, WS_CLOSE_INTERNAL_ERROR, (const uint8_t *)reason,
                  sizeof(reason) - 1);
}

static void on_end(ws_conn *c, const struct ws_conn_end *end, void *user) {
  ws_echo *e = user;
  (void)c;
  if (e->cfg.log_connections && end->outcome != WS_CONN_CLEAN) {
    char line[400];
    ws_conn_end_format(line, sizeof(line), end);
    logf_(e, "%s", line);
  }
  maybe_done(e);
}

/* --------------------------------------------------------- TCP echo */

static void tcp_close(struct tcp_conn *t) {
  ws_echo *e = t->e;
  ws_timer_stop(&t->t);
  ws_stream_close(&t->s);
  if (t->prev)
    t->prev->next = t->next;
  else
    e->tcp = t->next;
  if (t->next)
    t->next->prev = t->prev;
  e->tcp_count--;
  e->mem->free(t, e->mem->user);
  maybe_done(e);
}

static void tcp_on_stream(struct ws_stream *s, enum ws_stream_event ev,
                          int status, void *user) {
  struct tcp_conn *t = user;
  ws_echo *e = t->e;
  size_t cap;
  uint8_t *buf;
  ws_ssize n;
  (void)status;
  if (ev == WS_STREAM_ERROR) {
    tcp_close(t);
    return;
  }
  if (ev == WS_STREAM_DRAINED) {
    if (t->eof)
      tcp_close(t);
    return;
  }
  buf = ws_conn_ctx_buffer(e->ctx, &cap);
  n = ws_stream_read(s, buf, cap);
  if (n > 0) {
    t->last_rx = ws_loop_now(e->loop);
    e->stats.tcp_bytes += (uint64_t)n;
    if (ws_stream_write(s, buf, (size_t)n) != 0)
      tcp_close(t);
    return;
  }
  if (n == -EAGAIN)
    return;
  if (n < 0) {
    tcp_close(t);
    return;
  }
  /* RFC 862 over a half-close: the client is done sending; echo what is
   * still queued, then close. */
  t->eof = 1;
  if (ws_stream_read_stop(s) != 0 || ws_stream_shutdown(s) != 0 ||
      ws_stream_pending(s) == 0)
    tcp_close(t);
}

static void tcp_on_timer(struct ws_timer *tm, void *user) {
  struct tcp_conn *t = user;
  uint64_t now = ws_loop_now(t->e->loop);
  uint64_t idle = t->e->cfg.conn.idle_timeout_ms;
  if (now - t->last_rx < idle) {
    ws_timer_start(tm, idle - (now - t->last_rx));
    return;
  }
  tcp_close(t);
}

static void tcp_accept(ws_echo *e, int fd) {
  struct tcp_conn *t = e->mem->malloc(sizeof(*t), e->mem->user);
  size_t hw = e->cfg.tcp_high_water ? e->cfg.tcp_high_water
                                    : DEFAULT_TCP_HIGH_WATER;
  if (t == NULL) {
    ws_net_close(fd);
    logf_(e, "tcp echo: out of memory, connection dropped");
    return;
  }
  memset(t, 0, sizeof(*t));
  t->e = e;
  if (ws_stream_start(e->loop, &t->s, fd, e->mem, hw, tcp_on_stream, t) !=
      0) {
    ws_net_close(fd);
    e->mem->free(t, e->mem->user);
    return;
  }
  t->last_rx = ws_loop_now(e->loop);
  ws_timer_init(e->loop, &t->t, tcp_on_timer, t);
  if (e->cfg.conn.idle_timeout_ms)
    ws_timer_start(&t->t, e->cfg.conn.idle_timeout_ms);
  t->next = e->tcp;
  if (e->tcp)
    e->tcp->prev = t;
  e->tcp = t;
  e->tcp_count++;
  e->stats.tcp_accepted++;
}

/* --------------------------------------------------------- listeners */

/* Over max_connections: a WebSocket client gets a 503 it can read. */
static void refuse_busy(ws_echo *e, enum ws_scheme kind, int fd) {
  static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                             "Content-Type: text/plain\r\n"
                             "Content-Length: 21\r\n"
                             "Connection: close\r\n"
                             "Retry-After: 1\r\n"
                             "\r\n"
                             "too many connections\n";
  e->stats.busy_refused++;
  if (kind == WS_SCHEME_WS) {
    size_t cap;
    uint8_t *buf = ws_conn_ctx_buffer(e->ctx, &cap);
    /* Reading what already arrived avoids a reset that could destroy the
     * answer in the client's receive queue. */
    (void)ws_net_read(fd, buf, cap);
    (void)ws_net_write(fd, busy, sizeof(busy) - 1);
    (void)ws_tcp_shutdown(fd);
  }
  ws_net_close(fd);
}

static void on_retry(struct ws_timer *t, void *user) {
  struct listener *l = user;
  (void)t;
  ws_io_update(&l->io, WS_IO_READ);
}

static void on_listen(struct ws_io *io, unsigned events, void *user) {
  struct listener *l = user;
  ws_echo *e = l->e;
  int i;
  (void)events;
  for (i = 0; i < ACCEPT_BATCH; i++) {
    struct ws_addr peer;
    int fd, r = ws_tcp_accept(io->fd, &fd, &peer);
    if (r == -EAGAIN)
      return;
    if (r != 0) {
      char msg[200];
      if (r == -EMFILE || r == -ENFILE || r == -ENOBUFS || r == -ENOMEM) {
        /* The connection stays queued and the listener readable: wait
         * instead of spinning (net_tcp.h). */
        ws_io_update(io, 0);
        ws_timer_start(&l->retry, ACCEPT_RETRY_MS);
      }
      ws_addr_format_error(msg, sizeof(msg), "accept", &l->addr, r);
      logf_(e, "%s", msg);
      return;
    }
    if (e->cfg.max_connections &&
        ws_echo_connections(e) >= e->cfg.max_connections) {
      refuse_busy(e, l->kind, fd);
      continue;
    }
    if (l->kind == WS_SCHEME_TCP) {
      tcp_accept(e, fd);
    } else if ((r = ws_conn_accept(e->ctx, fd, &peer, &e->cfg.conn,
                                   &e->handler, e, NULL)) != 0) {
      ws_net_close(fd);
      logf_(e, "ws echo: connection dropped: %s", ws_net_strerror(r));
    }
  }
}

static void on_udp(struct ws_io *io, unsigned events, void *user) {
  struct listener *l = user;
  ws_echo *e = l->e;
  size_t cap;
  uint8_t *buf = ws_conn_ctx_buffer(e->ctx, &cap);
  int i;
  (void)events;
  for (i = 0; i < UDP_BATCH; i++) {
    struct ws_addr from;
    ws_ssize n = ws_udp_recvfrom(io->fd, buf, cap, &from, NULL);
    if (n == -EAGAIN)
      return;
    if (n < 0) /* an ICMP error for an earlier reply: not ours to fix */
      continue;
    /* RFC 862: the datagram goes back as it came, boundaries kept. */
    if (ws_udp_sendto(io->fd, buf, (size_t)n, &from) == n)
      e->stats.udp_datagrams++;
    else
      e->stats.udp_dropped++;
  }
}

/* ---------------------------------------------------------- lifetime */

int ws_echo_new(ws_echo **out, ws_loop *loop, const struct ws_echo_config *cfg,
                const struct ws_mem *mem) {
  ws_echo *e;
  size_t i;
  int r;
  if (out == NULL || loop == NULL || cfg == NULL)
    return -EINVAL;
  *out = NULL;
  for (i = 0; i < cfg->num_protocols; i++)
    if (cfg->protocols[i] == NULL ||
        !ws_http_is_token(cfg->protocols[i], strlen(cfg->protocols[i])))
      return -EINVAL;
  for (i = 0; i < cfg->num_origins; i++)
    if (cfg->origins[i] == NULL)
      return -EINVAL;
  if (mem == NULL)
    mem = ws_mem_default();
  e = mem->malloc(sizeof(*e), mem->user);
  if (e == NULL)
    return WS_ENOMEM;
  memset(e, 0, sizeof(*e));
  e->loop = loop;
  e->mem = mem;
  e->cfg = *cfg;
  r = ws_conn_ctx_new(&e->ctx, loop, mem);
  if (r != 0) {
    mem->free(e, mem->user);
    return r;
  }
  e->handler.on_request = on_request;
  e->handler.on_message = on_message;
  e->handler.on_end = on_end;
  ws_timer_init(loop, &e->grace, on_grace, e);
  *out = e;
  return 0;
}

int ws_echo_listen(ws_echo *e, enum ws_scheme kind, const struct ws_addr *a,
                   struct ws_addr *bound) {
  struct listener *l;
  int fd = -1, r;
  if (e == NULL || a == NULL || e->stopping ||
      (kind != WS_SCHEME_WS && kind != WS_SCHEME_TCP &&
       kind != WS_SCHEME_UDP))
    return -EINVAL;
  l = e->mem->malloc(sizeof(*l), e->mem->user);
  if (l == NULL)
    return WS_ENOMEM;
  memset(l, 0, sizeof(*l));
  r = kind == WS_SCHEME_UDP ? ws_udp_bind(&fd, a) : ws_tcp_listen(&fd, a, 0);
  if (r == 0)
    r = ws_addr_local(fd, &l->addr);
  if (r == 0)
    r = ws_io_start(e->loop, &l->io, fd, WS_IO_READ,
                    kind == WS_SCHEME_UDP ? on_udp : on_listen, l);
  if (r != 0) {
    if (fd >= 0)
      ws_net_close(fd);
    e->mem->free(l, e->mem->user);
    return r;
  }
  l->e = e;
  l->kind = kind;
  ws_timer_init(e->loop, &l->retry, on_retry, l);
  l->next = e->listeners;
  e->listeners = l;
  if (bound)
    *bound = l->addr;
  return 0;
}

void ws_echo_shutdown(ws_echo *e, uint64_t grace_ms, ws_echo_done_cb done,
                      void *user) {
  if (!e->stopping) {
    struct listener *l;
    e->stopping = 1;
    e->done = done;
    e->done_user = user;
    while ((l = e->listeners) != NULL) {
      e->listeners = l->next;
      ws_timer_stop(&l->retry);
      ws_io_close(&l->io);
      e->mem->free(l, e->mem->user);
    }
    while (e->tcp)
      tcp_close(e->tcp);
    /* RFC 6455 Section 7.4.1: 1001, the server is going down. */
    ws_conn_ctx_shutdown(e->ctx, WS_CLOSE_GOING_AWAY, "server shutting down");
  }
  if (e->finished)
    return;
  if (grace_ms == 0)
    ws_conn_ctx_abort_all(e->ctx);
  else if (!ws_timer_active(&e->grace) ||
           e->grace.deadline > ws_loop_now(e->loop) + grace_ms)
    ws_timer_start(&e->grace, grace_ms);
  maybe_done(e);
}

int ws_echo_free(ws_echo *e) {
  if (e == NULL)
    return 0;
  if (e->listeners || e->tcp || ws_conn_ctx_count(e->ctx) > 0)
    return -EBUSY;
  ws_timer_stop(&e->grace);
  ws_conn_ctx_free(e->ctx);
  e->mem->free(e, e->mem->user);
  return 0;
}

size_t ws_echo_connections(const ws_echo *e) {
  return ws_conn_ctx_count(e->ctx) + e->tcp_count;
}

void ws_echo_stats(const ws_echo *e, struct ws_echo_stats *out) {
  *out = e->stats;
  ws_conn_ctx_stats(e->ctx, &out->ws);
}
