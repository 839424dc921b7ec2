/*
 * ws_conn.c: the connection driver (see ws_conn.h for the contract).
 *
 * Structure: every entry from the loop (stream event, timer, connect
 * result) raises |busy|, dispatches on |state|, and on the way out tears
 * the connection down if something marked it |dead|. Handler callbacks
 * run only inside such an entry, so nothing they do can free the
 * connection under the driver's feet; outside any entry, a failure arms
 * the connection's timer with a zero timeout and the teardown happens on
 * the next loop pass.
 *
 * Reading: every connection reads into the context's one read buffer.
 * During the handshake the head is parsed in place; only a head that
 * spans reads is copied into a per-connection buffer, freed once the
 * handshake is over. After it, ws_session_recv() unmasks in place and
 * copies whatever must outlive the read (partial frames, fragments).
 *
 * Writing: a server's echo of a message that lies in the read buffer is
 * not copied anywhere: its header goes to a small array and both are
 * written with one sendmsg() when ws_session_recv() returns, batched with
 * the other echoes of the same read. Anything else goes through the
 * session's queue, which is pulled only while the socket takes everything
 * (so a slow peer leaves the bytes in the session rather than in a second
 * copy), and reading pauses once the bytes waiting reach the high-water
 * mark.
 */
#include "ws_conn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "../ws/ws_utf8.h"
#include "net_stream.h"
#include "net_tcp.h"

#define DEFAULT_TIMEOUT_MS 5000u
#define DEFAULT_CLOSE_MS 1000u
#define DEFAULT_HIGH_WATER ((size_t)1 << 20)
/* Echoes batched into one sendmsg() per read; a read holding more
 * messages flushes the batch when it is full. */
#define DEFER_MAX 32

/* What the connection's one timer is counting. */
enum phase { T_NONE = 0, T_HANDSHAKE, T_IDLE, T_CLOSE, T_LINGER, T_DEAD };

/* A request or response head that did not arrive within one read. */
struct hs {
  struct ws_http_parser p;
  struct ws_http_header hdrs[WS_HTTP_DEFAULT_MAX_HEADERS];
  size_t len;
  size_t cap;
  uint8_t buf[];
};

struct ws_conn {
  struct ws_stream stream;
  struct ws_timer timer;
  struct ws_connect connect;
  ws_conn_ctx *ctx;
  ws_conn *prev, *next;
  const struct ws_conn_config *cfg;
  const struct ws_conn_handler *h;
  void *user;
  ws_session *sess;
  struct hs *hs;
  char *protocol;
  uint8_t *req; /* client: the request, until written */
  size_t req_len;
  struct ws_handshake_client hsc;
  uint64_t last_rx;  /* loop time of the last byte received */
  size_t backlog;    /* estimate of the session's queued output */
  enum ws_conn_state state;
  enum ws_role role;
  uint8_t phase;
  uint8_t busy;        /* nesting depth of loop entries */
  uint8_t dead;        /* tear down when |busy| drops to 0 */
  uint8_t has_outcome;
  uint8_t in_recv;     /* inside ws_session_recv(): echoes may be batched */
  uint8_t paused;      /* reading paused by backpressure */
  uint8_t read_off;    /* the peer half-closed: no more reading */
  uint8_t reading;     /* what the stream was last told */
  uint8_t fail_after_flush; /* a local failure: close once flushed */
  struct ws_conn_end end;
};

struct ws_conn_ctx {
  ws_loop *loop;
  const struct ws_mem *mem;
  struct ws_sha1 sha1;
  ws_conn *head;
  size_t count;
  struct ws_conn_stats stats;
  /* The read being fed to a session, and the echoes batched from it. */
  ws_conn *defer_conn;
  uintptr_t in_lo, in_hi;
  int niov;
  int nhdr;
  struct iovec iov[2 * DEFER_MAX];
  uint8_t hdr[DEFER_MAX][WS_FRAME_HEADER_MAX];
  /* Handshake heads that arrive whole are parsed with these. */
  struct ws_http_parser parser;
  struct ws_http_header hdrs[WS_HTTP_DEFAULT_MAX_HEADERS];
  uint8_t *rbuf;
};

/* ------------------------------------------------------------ config */

void ws_conn_config_default(struct ws_conn_config *c) {
  memset(c, 0, sizeof(*c));
  ws_session_options_default(&c->session);
  c->connect_timeout_ms = DEFAULT_TIMEOUT_MS;
  c->handshake_timeout_ms = DEFAULT_TIMEOUT_MS;
  c->close_timeout_ms = DEFAULT_CLOSE_MS;
  c->high_water = DEFAULT_HIGH_WATER;
}

static uint64_t close_ms(const ws_conn *c) {
  return c->cfg->close_timeout_ms ? c->cfg->close_timeout_ms
                                  : DEFAULT_CLOSE_MS;
}

static uint32_t head_max(const ws_conn *c) {
  return c->cfg->max_head ? c->cfg->max_head : WS_HTTP_DEFAULT_MAX_HEAD;
}

/* ----------------------------------------------------------- outcomes */

const char *ws_conn_outcome_name(enum ws_conn_outcome o) {
  static const char *const names[] = {
      "CLEAN",  "CONNECT_FAILED", "HANDSHAKE_TIMEOUT", "HANDSHAKE_FAILED",
      "VIOLATION", "CLOSE_TIMEOUT", "EOF", "IO_ERROR", "ABORTED",
      "LOCAL_ERROR"};
  if ((unsigned)o >= sizeof(names) / sizeof(names[0]))
    return "UNKNOWN";
  return names[o];
}

/* Appends to buf[*at..size), keeping the snprintf-style needed length. */
static void put(char *buf, size_t size, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t size, size_t *at, const char *fmt, ...) {
  va_list ap;
  char *dst = *at < size ? buf + *at : NULL;
  size_t room = *at < size ? size - *at : 0;
  va_start(ap, fmt);
  int n = vsnprintf(dst, room, fmt, ap);
  va_end(ap);
  if (n > 0)
    *at += (size_t)n;
}

size_t ws_conn_end_format(char *buf, size_t size,
                          const struct ws_conn_end *e) {
  char who[WS_ADDR_STRLEN + 1];
  size_t at = 0;
  if (size)
    buf[0] = '\0';
  if (ws_addr_format(who, sizeof(who), &e->peer) < 0)
    strcpy(who, "the peer");
  switch (e->outcome) {
  case WS_CONN_CLEAN:
    put(buf, size, &at, "closed cleanly (sent %u, received %u)",
        (unsigned)e->sent_code, (unsigned)e->received_code);
    break;
  case WS_CONN_CONNECT_FAILED:
    return ws_addr_format_error(buf, size, "connect",
                                e->peer.sa.sa_family ? &e->peer : NULL,
                                e->net_error);
  case WS_CONN_HANDSHAKE_TIMEOUT:
    put(buf, size, &at, "opening handshake with %s timed out", who);
    break;
  case WS_CONN_HANDSHAKE_FAILED:
    if (e->role == WS_ROLE_CLIENT && e->hs_failure.id == WS_HS_STATUS_NOT_101)
      put(buf, size, &at, "handshake refused by %s: HTTP %u%s%s", who,
          (unsigned)e->http_status, e->http_reason[0] ? " " : "",
          e->http_reason);
    else if (e->role == WS_ROLE_CLIENT)
      put(buf, size, &at, "handshake with %s failed: %s (RFC %u Section %s)",
          who, e->hs_failure.reason ? e->hs_failure.reason : "invalid",
          (unsigned)e->hs_failure.rfc,
          e->hs_failure.section ? e->hs_failure.section : "4.1");
    else if (e->hs_failure.id != WS_HS_OK)
      put(buf, size, &at,
          "handshake from %s refused with HTTP %u: %s (RFC %u Section %s)",
          who, (unsigned)e->http_status, e->hs_failure.reason,
          (unsigned)e->hs_failure.rfc, e->hs_failure.section);
    else
      put(buf, size, &at, "handshake from %s refused with HTTP %u", who,
          (unsigned)e->http_status);
    break;
  case WS_CONN_VIOLATION:
    put(buf, size, &at,
        "protocol violation by %s: %s (RFC 6455 Section %s, byte %llu); "
        "closed with %u",
        who, e->violation.reason, e->violation.section,
        (unsigned long long)e->violation.offset,
        (unsigned)e->violation.close_code);
    break;
  case WS_CONN_CLOSE_TIMEOUT:
    put(buf, size, &at, "no Close reply from %s in time (sent %u)", who,
        (unsigned)e->sent_code);
    break;
  case WS_CONN_EOF:
    put(buf, size, &at, "connection closed by %s %s", who,
        e->opened ? "without a closing handshake"
                  : "during the opening handshake");
    break;
  case WS_CONN_IO_ERROR:
    return ws_addr_format_error(buf, size, "connection",
                                e->peer.sa.sa_family ? &e->peer : NULL,
                                e->net_error);
  case WS_CONN_ABORTED:
    put(buf, size, &at, "connection with %s aborted", who);
    break;
  case WS_CONN_LOCAL_ERROR:
  default:
    put(buf, size, &at, "connection with %s failed: %s", who,
        ws_strerror(e->ws_error));
    break;
  }
  return at;
}

/* ------------------------------------------------------------ context */

int ws_conn_ctx_new(ws_conn_ctx **out, ws_loop *loop,
                    const struct ws_mem *mem) {
  ws_conn_ctx *x;
  if (out == NULL || loop == NULL)
    return -EINVAL;
  *out = NULL;
  if (mem == NULL)
    mem = ws_mem_default();
  x = mem->malloc(sizeof(*x), mem->user);
  if (x == NULL)
    return WS_ENOMEM;
  memset(x, 0, sizeof(*x));
  x->loop = loop;
  x->mem = mem;
  x->rbuf = mem->malloc(WS_CONN_READ_BUFFER, mem->user);
  if (x->rbuf == NULL) {
    mem->free(x, mem->user);
    return WS_ENOMEM;
  }
  if (ws_sha1_init(&x->sha1) != 0) {
    mem->free(x->rbuf, mem->user);
    mem->free(x, mem->user);
    return -EIO;
  }
  *out = x;
  return 0;
}

int ws_conn_ctx_free(ws_conn_ctx *x) {
  const struct ws_mem *mem;
  if (x == NULL)
    return 0;
  if (x->count > 0)
    return -EBUSY;
  mem = x->mem;
  ws_sha1_free(&x->sha1);
  mem->free(x->rbuf, mem->user);
  mem->free(x, mem->user);
  return 0;
}

ws_loop *ws_conn_ctx_loop(const ws_conn_ctx *x) { return x->loop; }

size_t ws_conn_ctx_count(const ws_conn_ctx *x) { return x->count; }

uint8_t *ws_conn_ctx_buffer(ws_conn_ctx *x, size_t *cap) {
  if (cap)
    *cap = WS_CONN_READ_BUFFER;
  return x->rbuf;
}

void ws_conn_ctx_stats(const ws_conn_ctx *x, struct ws_conn_stats *out) {
  *out = x->stats;
}

/* -------------------------------------------------- life and death */

static void on_timer(struct ws_timer *t, void *user);
static void on_stream(struct ws_stream *s, enum ws_stream_event ev,
                      int status, void *user);

static ws_conn *conn_new(ws_conn_ctx *x, const struct ws_conn_config *cfg,
                         const struct ws_conn_handler *h, void *user,
                         enum ws_role role) {
  ws_conn *c = x->mem->malloc(sizeof(*c), x->mem->user);
  if (c == NULL)
    return NULL;
  memset(c, 0, sizeof(*c));
  c->stream.io.fd = -1;
  c->ctx = x;
  c->cfg = cfg;
  c->h = h;
  c->user = user;
  c->role = role;
  c->end.role = role;
  c->last_rx = ws_loop_now(x->loop);
  ws_timer_init(x->loop, &c->timer, on_timer, c);
  return c;
}

/* Links a connection that will now end through on_end. */
static void adopt(ws_conn *c) {
  ws_conn_ctx *x = c->ctx;
  c->next = x->head;
  if (x->head)
    x->head->prev = c;
  x->head = c;
  x->count++;
  x->stats.created++;
}

static void mfree(ws_conn_ctx *x, void *p) { x->mem->free(p, x->mem->user); }

/* Arms the connection's timer for |ph|; a zero timeout means "none",
 * except for T_DEAD, which fires on the next pass. */
static void arm(ws_conn *c, enum phase ph, uint64_t ms) {
  c->phase = (uint8_t)ph;
  if (ms == 0 && ph != T_DEAD) {
    ws_timer_stop(&c->timer);
    return;
  }
  ws_timer_start(&c->timer, ms);
}

/* The first outcome decided is the one reported. */
static void set_outcome(ws_conn *c, enum ws_conn_outcome o, int net,
                        int wserr) {
  if (c->has_outcome)
    return;
  c->has_outcome = 1;
  c->end.outcome = o;
  c->end.net_error = net;
  c->end.ws_error = wserr;
}

/* Marks the connection for teardown: at the end of the current loop
 * entry, or from the next pass when there is none. */
static void doom(ws_conn *c, enum ws_conn_outcome o, int net, int wserr) {
  set_outcome(c, o, net, wserr);
  if (c->dead)
    return;
  c->dead = 1;
  if (c->busy == 0)
    arm(c, T_DEAD, 0);
}

static void teardown(ws_conn *c) {
  ws_conn_ctx *x = c->ctx;
  ws_timer_stop(&c->timer);
  ws_connect_cancel(&c->connect);
  if (x->defer_conn == c) {
    x->defer_conn = NULL;
    x->niov = x->nhdr = 0;
  }
  ws_stream_close(&c->stream);
  ws_session_del(c->sess);
  c->sess = NULL;
  if (c->hs)
    mfree(x, c->hs);
  if (c->req)
    mfree(x, c->req);
  if (c->prev)
    c->prev->next = c->next;
  else
    x->head = c->next;
  if (c->next)
    c->next->prev = c->prev;
  x->count--;
  x->stats.ended++;
  if (c->h->on_end)
    c->h->on_end(c, &c->end, c->user);
  if (c->protocol)
    mfree(x, c->protocol);
  mfree(x, c);
}

static void leave(ws_conn *c) {
  if (--c->busy == 0 && c->dead)
    teardown(c);
}

/* ------------------------------------------------------------- output */

/* Tells the stream whether to read: not while the bytes waiting for the
 * peer are over the high-water mark (resume at half), nor after EOF. */
static void update_reading(ws_conn *c) {
  size_t hw = c->cfg->high_water;
  uint8_t want;
  if (hw && c->state == WS_CONN_OPEN) {
    size_t pend = ws_stream_pending(&c->stream) + c->backlog;
    if (!c->paused && pend >= hw)
      c->paused = 1;
    else if (c->paused && pend <= hw / 2)
      c->paused = 0;
  } else {
    c->paused = 0;
  }
  want = !c->paused && !c->read_off;
  if (want == c->reading || c->stream.io.fd < 0)
    return;
  c->reading = want;
  int r = want ? ws_stream_read_start(&c->stream)
               : ws_stream_read_stop(&c->stream);
  if (r != 0)
    doom(c, WS_CONN_IO_ERROR, r, 0);
}

/* A write failed: -errno, or WS_ENOMEM from the stream's queue. */
static void write_failed(ws_conn *c, int r) {
  if (r == WS_ENOMEM)
    doom(c, WS_CONN_LOCAL_ERROR, 0, WS_ENOMEM);
  else
    doom(c, WS_CONN_IO_ERROR, r, 0);
}

/* Writes the echoes batched during the last ws_session_recv(). */
static void flush_deferred(ws_conn *c) {
  ws_conn_ctx *x = c->ctx;
  int n = x->niov, r;
  if (n == 0 || x->defer_conn != c)
    return;
  x->niov = x->nhdr = 0;
  r = ws_stream_writev(&c->stream, x->iov, n);
  if (r != 0)
    write_failed(c, r);
}

/* Pulls the session's output while the socket takes all of it. */
static void pump_out(ws_conn *c) {
  if (c->dead || c->state != WS_CONN_OPEN)
    return;
  while (ws_stream_pending(&c->stream) == 0) {
    const uint8_t *p;
    ws_ssize n = ws_session_send(c->sess, &p);
    if (n == 0)
      break;
    if (n < 0) {
      doom(c, WS_CONN_LOCAL_ERROR, 0, (int)n);
      return;
    }
    c->backlog = c->backlog > (size_t)n ? c->backlog - (size_t)n : 0;
    int r = ws_stream_write(&c->stream, p, (size_t)n);
    if (r != 0) {
      write_failed(c, r);
      return;
    }
  }
  if (!ws_session_want_write(c->sess))
    c->backlog = 0;
  update_reading(c);
}

/* Discards input until EOF or the timer, after shutting down our side:
 * the peer then reads what we sent (a Close, an HTTP error) followed by
 * EOF, rather than a reset caused by unread input. */
static void linger(ws_conn *c) {
  int r;
  c->state = WS_CONN_CLOSING;
  r = ws_stream_shutdown(&c->stream);
  if (r != 0 || c->read_off) {
    /* After the peer's EOF there is no input left to wait for. */
    doom(c, WS_CONN_IO_ERROR, r, 0);
    return;
  }
  arm(c, T_LINGER, close_ms(c));
  update_reading(c);
}

/* After output progressed: closes the transport when the session says so
 * (and everything is flushed). */
static void settle(ws_conn *c) {
  int act;
  if (c->dead || c->state != WS_CONN_OPEN)
    return;
  if (c->fail_after_flush) {
    if (!ws_session_want_write(c->sess) &&
        ws_stream_pending(&c->stream) == 0)
      doom(c, WS_CONN_LOCAL_ERROR, 0, WS_ECALLBACK);
    return;
  }
  act = ws_session_should_close(c->sess);
  if (act == WS_SESSION_KEEP_OPEN)
    return;
  if (ws_stream_pending(&c->stream) > 0) {
    /* The last bytes wait for a peer that does not read: bounded. */
    if (c->phase != T_CLOSE)
      arm(c, T_CLOSE, close_ms(c));
    return;
  }
  const struct ws_violation *v = ws_session_get_violation(c->sess);
  if (act == WS_SESSION_CLOSE_AWAIT) {
    /* RFC 6455 Section 7.1.1: the server closes TCP first; a client
     * waits for it, then closes anyway when the timer fires. */
    set_outcome(c, WS_CONN_CLEAN, 0, 0);
    if (c->read_off) { /* it already did */
      doom(c, WS_CONN_CLEAN, 0, 0);
      return;
    }
    c->state = WS_CONN_CLOSING;
    arm(c, T_CLOSE, close_ms(c));
    update_reading(c);
    return;
  }
  if (v != NULL) {
    /* Section 7.1.7: failing the connection closes the transport. A
     * server lingers so the peer reads our Close rather than a reset. */
    set_outcome(c, WS_CONN_VIOLATION, 0, 0);
    if (c->role == WS_ROLE_SERVER)
      linger(c);
    else
      doom(c, WS_CONN_VIOLATION, 0, 0);
    return;
  }
  if (ws_session_get_state(c->sess) == WS_SESSION_CLOSED) {
    /* Section 7.1.1: after the closing handshake the server closes TCP
     * at once (Autobahn drops a server that waits more than 1 s). */
    doom(c, WS_CONN_CLEAN, 0, 0);
    return;
  }
  doom(c, WS_CONN_LOCAL_ERROR, 0, WS_ENOMEM);
}

/* Output queued outside ws_session_recv(): send it now. */
static void kick(ws_conn *c) {
  pump_out(c);
  settle(c);
}

/* ------------------------------------------------ session callbacks */

static int s_on_message(ws_session *s, enum ws_opcode op, const uint8_t *d,
                        size_t n, void *u) {
  ws_conn *c = u;
  (void)s;
  c->ctx->stats.messages_in++;
  if (c->h->on_message && !c->dead)
    c->h->on_message(c, op, d, n, c->user);
  return 0;
}

static int s_on_ping(ws_session *s, const uint8_t *d, size_t n, void *u) {
  ws_conn *c = u;
  (void)s;
  if (c->h->on_ping && !c->dead)
    c->h->on_ping(c, d, n, c->user);
  return 0;
}

static int s_on_pong(ws_session *s, const uint8_t *d, size_t n, void *u) {
  ws_conn *c = u;
  (void)s;
  if (c->h->on_pong && !c->dead)
    c->h->on_pong(c, d, n, c->user);
  return 0;
}

static int s_on_close(ws_session *s, uint16_t code, const uint8_t *reason,
                      size_t len, void *u) {
  ws_conn *c = u;
  (void)s;
  c->end.close_received = 1;
  c->end.received_code = code;
  if (len > WS_CLOSE_REASON_MAX)
    len = WS_CLOSE_REASON_MAX;
  memcpy(c->end.received_reason, reason, len);
  c->end.received_reason_len = (uint8_t)len;
  if (!c->end.close_sent)
    c->end.peer_closed_first = 1;
  if (c->h->on_close && !c->dead)
    c->h->on_close(c, code, reason, len, c->user);
  if (!c->end.close_sent) {
    /* The session echoes the peer's code (RFC 6455 Section 5.5.1). */
    c->end.close_sent = 1;
    c->end.sent_code = code;
  }
  return 0;
}

static int s_on_violation(ws_session *s, const struct ws_violation *v,
                          void *u) {
  ws_conn *c = u;
  (void)s;
  c->ctx->stats.violations++;
  c->end.violation = *v;
  if (!c->end.close_sent) {
    c->end.close_sent = 1;
    c->end.sent_code = v->close_code;
  }
  return 0;
}

static const struct ws_session_callbacks session_cb = {
    .on_message = s_on_message,
    .on_ping = s_on_ping,
    .on_pong = s_on_pong,
    .on_close = s_on_close,
    .on_violation = s_on_violation,
};

/* -------------------------------------------------------------- input */

/* Feeds |n| received bytes (writable: unmasked in place) to the session,
 * then writes the echoes batched meanwhile and the session's output. */
static void feed(ws_conn *c, uint8_t *in, size_t n) {
  ws_conn_ctx *x = c->ctx;
  ws_ssize r;
  x->defer_conn = c;
  x->in_lo = (uintptr_t)in;
  x->in_hi = (uintptr_t)in + n;
  x->niov = x->nhdr = 0;
  c->in_recv = 1;
  r = ws_session_recv(c->sess, in, n);
  c->in_recv = 0;
  flush_deferred(c);
  x->defer_conn = NULL;
  x->in_lo = x->in_hi = 0;
  if (r < 0) {
    switch (r) {
    case WS_EPROTO:  /* the Close is queued; settle() closes after it */
    case WS_ECLOSED: /* input after the session stopped reading */
      break;
    case WS_ENOMEM:
      doom(c, WS_CONN_LOCAL_ERROR, 0, WS_ENOMEM);
      return;
    default:
      /* WS_ERANDOM (a client's mask source), WS_ECALLBACK: the read
       * side stopped; send what is queued, then close. */
      set_outcome(c, WS_CONN_LOCAL_ERROR, 0, (int)r);
      c->fail_after_flush = 1;
      break;
    }
  }
  pump_out(c);
  settle(c);
}

/* The peer closed its side (read() returned 0). */
static void on_eof(ws_conn *c) {
  if (c->state == WS_CONN_OPEN) {
    enum ws_session_state st = ws_session_get_state(c->sess);
    const struct ws_violation *v = ws_session_get_violation(c->sess);
    if (v != NULL)
      set_outcome(c, WS_CONN_VIOLATION, 0, 0);
    if ((st == WS_SESSION_CLOSED || st == WS_SESSION_FAILED) &&
        (ws_stream_pending(&c->stream) > 0 ||
         ws_session_want_write(c->sess))) {
      /* A half-close after its Close: the peer may still read what we
       * owe it. Stop reading; DRAINED brings us to settle(). */
      c->read_off = 1;
      update_reading(c);
      return;
    }
    if (st == WS_SESSION_CLOSED)
      set_outcome(c, WS_CONN_CLEAN, 0, 0);
  }
  doom(c, WS_CONN_EOF, 0, 0);
}

/* Classifies a read result: 1 when |n| bytes arrived, else 0 (nothing
 * to do, or the end was handled). */
static int got(ws_conn *c, ws_ssize n) {
  if (n > 0) {
    c->last_rx = ws_loop_now(c->ctx->loop);
    return 1;
  }
  if (n == -EAGAIN)
    return 0;
  if (n == 0)
    on_eof(c);
  else
    doom(c, WS_CONN_IO_ERROR, (int)n, 0);
  return 0;
}

static int set_protocol(ws_conn *c, const char *p, size_t len) {
  ws_conn_ctx *x = c->ctx;
  c->protocol = x->mem->malloc(len + 1, x->mem->user);
  if (c->protocol == NULL) {
    doom(c, WS_CONN_LOCAL_ERROR, 0, WS_ENOMEM);
    return -1;
  }
  memcpy(c->protocol, p, len);
  c->protocol[len] = '\0';
  return 0;
}

/* The handshake is done: |rest| (n bytes after the head, already in a
 * buffer of ours) are the first frames. */
static void go_open(ws_conn *c, uint8_t *rest, size_t n) {
  ws_conn_ctx *x = c->ctx;
  c->state = WS_CONN_OPEN;
  c->end.opened = 1;
  x->stats.opened++;
  arm(c, T_IDLE, c->cfg->idle_timeout_ms);
  if (c->h->on_open)
    c->h->on_open(c, c->user);
  if (!c->dead && n > 0)
    feed(c, rest, n);
  else
    kick(c);
  if (c->hs) {
    mfree(x, c->hs);
    c->hs = NULL;
  }
}

static const char *status_phrase(unsigned status) {
  switch (status) {
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 426: return "Upgrade Required";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 503: return "Service Unavailable";
  default: return status >= 500 ? "Server Error" : "Client Error";
  }
}

/* Any refusal: the core's builder for the statuses it knows (405 and 426
 * need their extra headers), a plain one for the others (403, 503...). */
static ws_ssize build_refusal(char *out, size_t cap, unsigned status,
                              const char *body) {
  if (status == 400 || status == 405 || status == 426 || status == 431)
    return ws_handshake_build_error(out, cap, status, body);
  if (body == NULL)
    body = status_phrase(status);
  int n = snprintf(out, cap,
                   "HTTP/1.1 %u %s\r\n"
                   "Content-Type: text/plain\r\n"
                   "Content-Length: %zu\r\n"
                   "Connection: close\r\n"
                   "\r\n"
                   "%s\n",
                   status, status_phrase(status), strlen(body) + 1, body);
  return n < 0 || (size_t)n >= cap ? WS_ENOBUFS : n;
}

/* Server: answers with an HTTP error and closes once it is read. */
static void refuse(ws_conn *c, unsigned status,
                   const struct ws_handshake_failure *f, const char *body) {
  char out[1024];
  ws_ssize n;
  if (status < 400 || status > 599)
    status = 500;
  n = f ? ws_handshake_build_refusal(out, sizeof(out), f)
        : build_refusal(out, sizeof(out), status, body);
  if (n < 0) /* a body too long for the buffer: the phrase instead */
    n = build_refusal(out, sizeof(out), status, NULL);
  c->end.http_status = (uint16_t)status;
  if (f)
    c->end.hs_failure = *f;
  c->ctx->stats.refused++;
  set_outcome(c, WS_CONN_HANDSHAKE_FAILED, 0, 0);
  if (n > 0) {
    int r = ws_stream_write(&c->stream, out, (size_t)n);
    if (r != 0) {
      write_failed(c, r);
      return;
    }
  }
  linger(c);
}

/* Server: a complete (or broken) request head in buf[0..len). */
static void on_request_head(ws_conn *c, struct ws_http_parser *p,
                            uint8_t *buf, size_t len) {
  ws_conn_ctx *x = c->ctx;
  struct ws_handshake_request r;
  struct ws_handshake_failure f;
  struct ws_conn_accept a;
  char small[512], *out = small;
  size_t cap = sizeof(small);
  ws_ssize n;
  int e = ws_handshake_server_check(p, &r, &f);
  if (e == WS_EHANDSHAKE) {
    refuse(c, f.status, &f, NULL);
    return;
  }
  if (e != 0) {
    doom(c, WS_CONN_LOCAL_ERROR, 0, e);
    return;
  }
  memset(&a, 0, sizeof(a));
  if (c->h->on_request)
    c->h->on_request(c, &r, &a, c->user);
  if (c->dead)
    return;
  if (a.status != 0) {
    refuse(c, a.status, NULL, a.body);
    return;
  }
  if (a.protocol && set_protocol(c, a.protocol, strlen(a.protocol)) != 0)
    return;
  /* The session first: running out of memory must not leave a 101 with
   * nothing behind it. */
  e = ws_session_new(&c->sess, WS_ROLE_SERVER, &session_cb, c,
                     &c->cfg->session, x->mem);
  if (e != 0) {
    doom(c, WS_CONN_LOCAL_ERROR, 0, e);
    return;
  }
  if (c->protocol && strlen(c->protocol) > 256) {
    cap = strlen(c->protocol) + 256;
    out = x->mem->malloc(cap, x->mem->user);
    if (out == NULL) {
      doom(c, WS_CONN_LOCAL_ERROR, 0, WS_ENOMEM);
      return;
    }
  }
  n = ws_handshake_build_101(out, cap, &x->sha1, r.key.ptr, r.key.len,
                             c->protocol, NULL);
  if (n > 0)
    e = ws_stream_write(&c->stream, out, (size_t)n);
  if (out != small)
    mfree(x, out);
  if (n < 0) {
    /* A protocol that is not a token: the handler's bug. */
    doom(c, WS_CONN_LOCAL_ERROR, 0, (int)n);
    return;
  }
  if (e != 0) {
    write_failed(c, e);
    return;
  }
  c->end.http_status = 101;
  go_open(c, buf + r.head_len, len - r.head_len);
}

/* Client: a complete (or broken) response head in buf[0..len). */
static void on_response_head(ws_conn *c, struct ws_http_parser *p,
                             uint8_t *buf, size_t len) {
  ws_conn_ctx *x = c->ctx;
  struct ws_handshake_response r;
  struct ws_handshake_failure f;
  int e;
  if (p->result == WS_HTTP_COMPLETE) {
    size_t rl = p->reason.len < sizeof(c->end.http_reason) - 1
                    ? p->reason.len
                    : sizeof(c->end.http_reason) - 1;
    c->end.http_status = p->status;
    memcpy(c->end.http_reason, p->reason.ptr, rl);
    c->end.http_reason[rl] = '\0';
  }
  e = ws_handshake_client_check(&c->hsc, p, &r, &f);
  if (e == WS_EHANDSHAKE) {
    /* RFC 6455 Section 4.1: the client fails the connection. */
    c->end.hs_failure = f;
    if (f.peer_status)
      c->end.http_status = f.peer_status;
    x->stats.refused++;
    doom(c, WS_CONN_HANDSHAKE_FAILED, 0, 0);
    return;
  }
  if (e != 0) {
    doom(c, WS_CONN_LOCAL_ERROR, 0, e);
    return;
  }
  if (r.has_protocol &&
      set_protocol(c, r.protocol.ptr, r.protocol.len) != 0)
    return;
  e = ws_session_new(&c->sess, WS_ROLE_CLIENT, &session_cb, c,
                     &c->cfg->session, x->mem);
  if (e != 0) {
    doom(c, WS_CONN_LOCAL_ERROR, 0, e);
    return;
  }
  go_open(c, buf + r.head_len, len - r.head_len);
}

/* Moves a head that did not arrive in one read into a buffer of its own,
 * and parses it again there (once: later reads continue incrementally). */
static int keep_head(ws_conn *c, const uint8_t *buf, size_t len) {
  ws_conn_ctx *x = c->ctx;
  size_t cap = head_max(c);
  struct hs *h = x->mem->malloc(sizeof(*h) + cap, x->mem->user);
  if (h == NULL) {
    doom(c, WS_CONN_LOCAL_ERROR, 0, WS_ENOMEM);
    return -1;
  }
  memcpy(h->buf, buf, len);
  h->len = len;
  h->cap = cap;
  ws_http_parser_init(&h->p,
                      c->role == WS_ROLE_SERVER ? WS_HTTP_REQUEST
                                                : WS_HTTP_RESPONSE,
                      h->hdrs, WS_HTTP_DEFAULT_MAX_HEADERS, cap);
  ws_http_parse(&h->p, (const char *)h->buf, len);
  c->hs = h;
  return 0;
}

static void hs_read(ws_conn *c) {
  ws_conn_ctx *x = c->ctx;
  struct ws_http_parser *p;
  uint8_t *buf;
  size_t len;
  ws_ssize n;
  if (c->hs == NULL) {
    /* Most heads arrive in one read: parse them where they landed. */
    n = ws_stream_read(&c->stream, x->rbuf, WS_CONN_READ_BUFFER);
    if (!got(c, n))
      return;
    p = &x->parser;
    buf = x->rbuf;
    len = (size_t)n;
    ws_http_parser_init(p,
                        c->role == WS_ROLE_SERVER ? WS_HTTP_REQUEST
                                                  : WS_HTTP_RESPONSE,
                        x->hdrs, WS_HTTP_DEFAULT_MAX_HEADERS, head_max(c));
    if (ws_http_parse(p, (const char *)buf, len) == WS_HTTP_INCOMPLETE) {
      keep_head(c, buf, len);
      return;
    }
  } else {
    struct hs *h = c->hs;
    /* The parser reports a head over max_head before the buffer (of
     * max_head bytes) can fill up; this guards that contract. */
    if (h->len >= h->cap) {
      doom(c, WS_CONN_LOCAL_ERROR, 0, WS_ENOBUFS);
      return;
    }
    n = ws_stream_read(&c->stream, h->buf + h->len, h->cap - h->len);
    if (!got(c, n))
      return;
    h->len += (size_t)n;
    p = &h->p;
    buf = h->buf;
    len = h->len;
    if (ws_http_parse(p, (const char *)buf, len) == WS_HTTP_INCOMPLETE)
      return;
  }
  if (c->role == WS_ROLE_SERVER)
    on_request_head(c, p, buf, len);
  else
    on_response_head(c, p, buf, len);
}

static void open_read(ws_conn *c) {
  ws_conn_ctx *x = c->ctx;
  ws_ssize n = ws_stream_read(&c->stream, x->rbuf, WS_CONN_READ_BUFFER);
  if (!got(c, n))
    return;
  feed(c, x->rbuf, (size_t)n);
}

/* CLOSING: input is read only to see EOF. */
static void discard_read(ws_conn *c) {
  ws_conn_ctx *x = c->ctx;
  ws_ssize n = ws_stream_read(&c->stream, x->rbuf, WS_CONN_READ_BUFFER);
  if (n > 0 || n == -EAGAIN)
    return;
  doom(c, n == 0 ? WS_CONN_EOF : WS_CONN_IO_ERROR, n == 0 ? 0 : (int)n, 0);
}

static void on_stream(struct ws_stream *s, enum ws_stream_event ev,
                      int status, void *user) {
  ws_conn *c = user;
  (void)s;
  c->busy++;
  if (!c->dead) {
    if (ev == WS_STREAM_ERROR) {
      doom(c, WS_CONN_IO_ERROR, status, 0);
    } else if (ev == WS_STREAM_DRAINED) {
      pump_out(c);
      settle(c);
    } else if (c->state == WS_CONN_HANDSHAKE) {
      hs_read(c);
    } else if (c->state == WS_CONN_OPEN) {
      open_read(c);
    } else {
      discard_read(c);
    }
  }
  leave(c);
}

/* Idle timer: checked lazily against the time of the last read. */
static void idle_check(ws_conn *c) {
  static const char reason[] = "idle timeout";
  uint64_t now = ws_loop_now(c->ctx->loop), idle = c->cfg->idle_timeout_ms;
  if (now - c->last_rx < idle) {
    arm(c, T_IDLE, idle - (now - c->last_rx));
    return;
  }
  if (ws_conn_close(c, WS_CLOSE_GOING_AWAY, (const uint8_t *)reason,
                    sizeof(reason) - 1) != 0)
    doom(c, WS_CONN_CLOSE_TIMEOUT, 0, 0);
}

static void on_timer(struct ws_timer *t, void *user) {
  ws_conn *c = user;
  (void)t;
  c->busy++;
  switch (c->phase) {
  case T_HANDSHAKE:
    doom(c, WS_CONN_HANDSHAKE_TIMEOUT, 0, 0);
    break;
  case T_IDLE:
    if (!c->dead)
      idle_check(c);
    break;
  case T_CLOSE:
  case T_LINGER:
    /* A lingering or awaiting connection keeps its outcome; one whose
     * Close for a violation never got out still failed for it. */
    if (c->sess && ws_session_get_violation(c->sess))
      set_outcome(c, WS_CONN_VIOLATION, 0, 0);
    doom(c, WS_CONN_CLOSE_TIMEOUT, 0, 0);
    break;
  default:
    break;
  }
  leave(c);
}

/* ------------------------------------------------------------- server */

int ws_conn_accept(ws_conn_ctx *x, int fd, const struct ws_addr *peer,
                   const struct ws_conn_config *cfg,
                   const struct ws_conn_handler *h, void *user,
                   ws_conn **out) {
  ws_conn *c;
  int r;
  if (x == NULL || fd < 0 || cfg == NULL || h == NULL ||
      cfg->max_head > WS_HTTP_MAX_HEAD_LIMIT)
    return -EINVAL;
  c = conn_new(x, cfg, h, user, WS_ROLE_SERVER);
  if (c == NULL)
    return WS_ENOMEM;
  if (peer)
    c->end.peer = *peer;
  r = ws_stream_start(x->loop, &c->stream, fd, x->mem, 0, on_stream, c);
  if (r != 0) {
    mfree(x, c);
    return r;
  }
  c->reading = 1;
  c->state = WS_CONN_HANDSHAKE;
  arm(c, T_HANDSHAKE, cfg->handshake_timeout_ms);
  adopt(c);
  if (out)
    *out = c;
  /* A client writes its request right after connect(), so by the time we
   * accept it has usually arrived: reading now saves a loop pass per
   * handshake (one read() that finds nothing otherwise). Anything fatal
   * is torn down from the loop, not inside this call. */
  c->busy++;
  hs_read(c);
  c->busy--;
  if (c->dead)
    arm(c, T_DEAD, 0);
  return 0;
}

/* ------------------------------------------------------------- client */

static void on_connected(struct ws_connect *k, int fd, int status,
                         void *user) {
  ws_conn *c = user;
  int r;
  (void)k;
  c->busy++;
  if (c->dead) {
    if (status == 0)
      ws_net_close(fd);
  } else if (status != 0) {
    doom(c, WS_CONN_CONNECT_FAILED, status, 0);
  } else if ((r = ws_stream_start(c->ctx->loop, &c->stream, fd, c->ctx->mem,
                                  0, on_stream, c)) != 0) {
    ws_net_close(fd);
    doom(c, WS_CONN_IO_ERROR, r, 0);
  } else {
    c->reading = 1;
    c->state = WS_CONN_HANDSHAKE;
    c->last_rx = ws_loop_now(c->ctx->loop);
    arm(c, T_HANDSHAKE, c->cfg->handshake_timeout_ms);
    r = ws_stream_write(&c->stream, c->req, c->req_len);
    mfree(c->ctx, c->req);
    c->req = NULL;
    if (r != 0)
      write_failed(c, r);
  }
  leave(c);
}

/* An upper bound of the request ws_handshake_client_request() writes. */
static size_t request_bound(const struct ws_client_options *o) {
  size_t n = 512, i;
  n += o->host ? strlen(o->host) : 0;
  n += o->path ? strlen(o->path) : 0;
  n += o->origin ? strlen(o->origin) : 0;
  for (i = 0; i < o->num_protocols; i++)
    n += (o->protocols[i] ? strlen(o->protocols[i]) : 0) + 2;
  for (i = 0; i < o->num_extensions; i++)
    n += (o->extensions[i] ? strlen(o->extensions[i]) : 0) + 2;
  for (i = 0; i < o->num_headers; i++)
    n += (o->headers[i] ? strlen(o->headers[i]) : 0) + 2;
  return n;
}

int ws__conn_connect(ws_conn_ctx *x, const struct ws_addr *addr,
                     const struct ws_client_options *req,
                     const struct ws_conn_config *cfg,
                     const struct ws_conn_handler *h, void *user,
                     ws_conn **out) {
  ws_conn *c;
  ws_ssize n;
  size_t cap;
  int r;
  if (x == NULL || addr == NULL || req == NULL || cfg == NULL || h == NULL ||
      cfg->max_head > WS_HTTP_MAX_HEAD_LIMIT)
    return -EINVAL;
  c = conn_new(x, cfg, h, user, WS_ROLE_CLIENT);
  if (c == NULL)
    return WS_ENOMEM;
  c->end.peer = *addr;
  /* Built now so that bad options fail here rather than in a callback;
   * the key is fresh for each connection (RFC 6455 Section 4.1). */
  cap = request_bound(req);
  c->req = x->mem->malloc(cap, x->mem->user);
  if (c->req == NULL) {
    mfree(x, c);
    return WS_ENOMEM;
  }
  n = ws_handshake_client_request(
      &c->hsc, req,
      cfg->session.random ? cfg->session.random : ws_random_default,
      cfg->session.random_user, &x->sha1, (char *)c->req, cap);
  if (n < 0) {
    mfree(x, c->req);
    mfree(x, c);
    return n == WS_EINVAL ? -EINVAL : n == WS_ENOBUFS ? -ENOBUFS : -EIO;
  }
  c->req_len = (size_t)n;
  c->state = WS_CONN_CONNECTING;
  r = ws_connect_start(x->loop, &c->connect, addr, cfg->connect_timeout_ms,
                       on_connected, c);
  if (r != 0) {
    mfree(x, c->req);
    mfree(x, c);
    return r;
  }
  adopt(c);
  if (out)
    *out = c;
  return 0;
}

/* ---------------------------------------------------------- messages */

/* May an echo skip the session's queue? Only when nothing is waiting
 * anywhere, so the order on the wire stays the order of the calls. */
static int direct_ok(const ws_conn *c) {
  return c->role == WS_ROLE_SERVER &&
         ws_session_get_state(c->sess) == WS_SESSION_OPEN &&
         !ws_session_want_write(c->sess) &&
         ws_stream_pending(&c->stream) == 0;
}

static int send_direct(ws_conn *c, enum ws_opcode op, const uint8_t *data,
                       size_t len) {
  ws_conn_ctx *x = c->ctx;
  struct ws_frame_header fh;
  uintptr_t lo = (uintptr_t)data;
  memset(&fh, 0, sizeof(fh));
  fh.fin = 1;
  fh.opcode = (uint8_t)op;
  fh.length = len;
  x->stats.direct_sends++;
  if (c->in_recv && x->defer_conn == c && lo >= x->in_lo &&
      lo + len <= x->in_hi) {
    /* The payload stays in the read buffer until feed() writes the
     * batch: one sendmsg() for every echo of this read. */
    if (x->nhdr == DEFER_MAX) {
      flush_deferred(c);
      if (c->dead)
        return WS_ECLOSED;
    }
    uint8_t *hd = x->hdr[x->nhdr++];
    x->iov[x->niov].iov_base = hd;
    x->iov[x->niov++].iov_len = ws_frame_header_encode(hd, &fh);
    if (len) {
      x->iov[x->niov].iov_base = (void *)data;
      x->iov[x->niov++].iov_len = len;
    }
    return 0;
  }
  flush_deferred(c);
  if (c->dead)
    return WS_ECLOSED;
  uint8_t hd[WS_FRAME_HEADER_MAX];
  struct iovec iov[2];
  iov[0].iov_base = hd;
  iov[0].iov_len = ws_frame_header_encode(hd, &fh);
  iov[1].iov_base = (void *)data;
  iov[1].iov_len = len;
  int r = ws_stream_writev(&c->stream, iov, len ? 2 : 1);
  if (r != 0) {
    write_failed(c, r);
    return r == WS_ENOMEM ? WS_ENOMEM : WS_ECLOSED;
  }
  update_reading(c);
  return 0;
}

int ws_conn_send(ws_conn *c, enum ws_opcode opcode, const uint8_t *data,
                 size_t len) {
  int r;
  if (c == NULL || (data == NULL && len > 0) ||
      (opcode != WS_OP_TEXT && opcode != WS_OP_BINARY))
    return WS_EINVAL;
  if (c->dead)
    return WS_ECLOSED;
  if (c->state != WS_CONN_OPEN)
    return WS_ESTATE;
  if (direct_ok(c)) {
    /* RFC 6455 Section 5.6: never send TEXT that is not UTF-8. */
    if (opcode == WS_OP_TEXT &&
        ws_utf8_validate(data, len, NULL) != WS_UTF8_VALID)
      return WS_EINVAL;
    return send_direct(c, opcode, data, len);
  }
  r = ws_session_queue_message(c->sess, opcode, data, len);
  if (r != 0)
    return r;
  c->ctx->stats.queued_sends++;
  c->backlog += len < SIZE_MAX - c->backlog - WS_FRAME_HEADER_MAX
                    ? len + WS_FRAME_HEADER_MAX
                    : 0;
  if (!c->in_recv)
    kick(c);
  return 0;
}

static int queue_control(ws_conn *c, int ping, const uint8_t *data,
                         size_t len) {
  int r;
  if (c == NULL)
    return WS_EINVAL;
  if (c->dead)
    return WS_ECLOSED;
  if (c->state != WS_CONN_OPEN)
    return WS_ESTATE;
  /* Control frames may jump ahead of the session's queue, never ahead of
   * echoes already batched: write those first. */
  flush_deferred(c);
  if (c->dead)
    return WS_ECLOSED;
  r = ping ? ws_session_queue_ping(c->sess, data, len)
           : ws_session_queue_pong(c->sess, data, len);
  if (r == 0 && !c->in_recv)
    kick(c);
  return r;
}

int ws_conn_ping(ws_conn *c, const uint8_t *data, size_t len) {
  return queue_control(c, 1, data, len);
}

int ws_conn_pong(ws_conn *c, const uint8_t *data, size_t len) {
  return queue_control(c, 0, data, len);
}

int ws_conn_close(ws_conn *c, uint16_t code, const uint8_t *reason,
                  size_t len) {
  int r;
  if (c == NULL)
    return WS_EINVAL;
  if (c->dead)
    return WS_ECLOSED;
  if (c->state != WS_CONN_OPEN)
    return WS_ESTATE;
  r = ws_session_queue_close(c->sess, code, reason, len);
  if (r != 0)
    return r;
  c->end.close_sent = 1;
  c->end.sent_code = code;
  /* Starting the handshake (not replying from on_close): the peer's
   * Close is now due within the close timeout. */
  if (ws_session_get_state(c->sess) == WS_SESSION_CLOSE_SENT)
    arm(c, T_CLOSE, close_ms(c));
  if (!c->in_recv)
    kick(c);
  return 0;
}

int ws_conn_send_raw(ws_conn *c, const uint8_t *data, size_t len) {
  int r;
  if (c == NULL || (data == NULL && len > 0))
    return WS_EINVAL;
  if (c->dead)
    return WS_ECLOSED;
  if (c->state != WS_CONN_OPEN &&
      !(c->state == WS_CONN_HANDSHAKE && c->role == WS_ROLE_CLIENT))
    return WS_ESTATE;
  if (c->sess) {
    /* Everything queued before goes first, in order. */
    flush_deferred(c);
    for (;;) {
      const uint8_t *p;
      ws_ssize n;
      if (c->dead)
        return WS_ECLOSED;
      n = ws_session_send(c->sess, &p);
      if (n == 0)
        break;
      if (n < 0) {
        doom(c, WS_CONN_LOCAL_ERROR, 0, (int)n);
        return WS_ECLOSED;
      }
      r = ws_stream_write(&c->stream, p, (size_t)n);
      if (r != 0) {
        write_failed(c, r);
        return r == WS_ENOMEM ? WS_ENOMEM : WS_ECLOSED;
      }
    }
    c->backlog = 0;
  }
  r = ws_stream_write(&c->stream, data, len);
  if (r != 0) {
    write_failed(c, r);
    return r == WS_ENOMEM ? WS_ENOMEM : WS_ECLOSED;
  }
  update_reading(c);
  return 0;
}

void ws_conn_abort(ws_conn *c) {
  if (c != NULL)
    doom(c, WS_CONN_ABORTED, 0, 0);
}

/* ----------------------------------------------------------- queries */

enum ws_conn_state ws_conn_get_state(const ws_conn *c) { return c->state; }

enum ws_role ws_conn_role(const ws_conn *c) { return c->role; }

ws_session *ws_conn_session(ws_conn *c) { return c->sess; }

const char *ws_conn_protocol(const ws_conn *c) { return c->protocol; }

const struct ws_addr *ws_conn_peer(const ws_conn *c) { return &c->end.peer; }

size_t ws_conn_pending(const ws_conn *c) {
  return ws_stream_pending(&c->stream) + c->backlog;
}

void *ws_conn_user(const ws_conn *c) { return c->user; }

void ws_conn_set_user(ws_conn *c, void *user) { c->user = user; }

/* ---------------------------------------------------------- shutdown */

void ws_conn_ctx_shutdown(ws_conn_ctx *x, uint16_t code, const char *reason) {
  size_t len = reason ? strlen(reason) : 0;
  ws_conn *c, *next;
  if (len > WS_CLOSE_REASON_MAX)
    len = WS_CLOSE_REASON_MAX;
  /* Teardown happens only from the loop, never inside these calls, so
   * the list stays intact while we walk it. */
  for (c = x->head; c != NULL; c = next) {
    next = c->next;
    if (c->dead || c->state == WS_CONN_CLOSING)
      continue;
    if (c->state != WS_CONN_OPEN)
      ws_conn_abort(c);
    else if (ws_session_get_state(c->sess) == WS_SESSION_OPEN)
      ws_conn_close(c, code, (const uint8_t *)reason, len);
  }
}

void ws_conn_ctx_abort_all(ws_conn_ctx *x) {
  ws_conn *c;
  for (c = x->head; c != NULL; c = c->next)
    ws_conn_abort(c);
}
