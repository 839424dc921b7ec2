/* session_harness.c: see session_harness.h. */
#include "session_harness.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws/ws_close.h"

/* ------------------------------------------------------------------ */
/* Event log */

static void logf_(struct session_ctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(c->log + c->n, SESSION_LOG_MAX - c->n, fmt, ap);
  va_end(ap);
  assert_true(k >= 0 && (size_t)k < SESSION_LOG_MAX - c->n);
  c->n += (size_t)k;
}

static uint32_t fnv(const uint8_t *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 16777619u;
  return h;
}

/* Short payloads as hex, long ones as length and hash, empty as "-". */
void fmt_bytes(char *dst, size_t cap, const uint8_t *p, size_t n) {
  if (n == 0) {
    snprintf(dst, cap, "-");
  } else if (n <= 48) {
    for (size_t i = 0; i < n; i++)
      snprintf(dst + 2 * i, cap - 2 * i, "%02x", p[i]);
  } else {
    snprintf(dst, cap, "len=%zu fnv=%08x", n, (unsigned)fnv(p, n));
  }
}

static void log_bytes(struct session_ctx *c, const char *what, const uint8_t *p,
                      size_t n) {
  char b[100];
  fmt_bytes(b, sizeof(b), p, n);
  logf_(c, "%s %s\n", what, b);
}

static int cb_message(ws_session *s, enum ws_opcode op, const uint8_t *d,
                      size_t n, void *u) {
  struct session_ctx *c = u;
  log_bytes(c, op == WS_OP_TEXT ? "msg TEXT" : "msg BINARY", d, n);
  if ((uintptr_t)d >= c->in_lo && (uintptr_t)d + n <= c->in_hi && n)
    c->zero_copy++;
  else if (n)
    c->copied++;
  if (c->echo) {
    int e = ws_session_queue_message(s, op, d, n);
    if (e) {
      c->queue_err = e;
      return 1;
    }
  }
  return c->fail_in == FAIL_MESSAGE;
}

static int cb_ping(ws_session *s, const uint8_t *d, size_t n, void *u) {
  struct session_ctx *c = u;
  log_bytes(c, "ping", d, n);
  return c->fail_in == FAIL_PING;
}

static int cb_pong(ws_session *s, const uint8_t *d, size_t n, void *u) {
  struct session_ctx *c = u;
  log_bytes(c, "pong", d, n);
  return c->fail_in == FAIL_PONG;
}

static int cb_close(ws_session *s, uint16_t code, const uint8_t *r, size_t n,
                    void *u) {
  struct session_ctx *c = u;
  char what[32];
  snprintf(what, sizeof(what), "close %u", code);
  log_bytes(c, what, r, n);
  if (c->reply_code)
    assert_int_equal(ws_session_queue_close(s, c->reply_code, NULL, 0), 0);
  return c->fail_in == FAIL_CLOSE;
}

static int cb_violation(ws_session *s, const struct ws_violation *v, void *u) {
  struct session_ctx *c = u;
  logf_(c, "violation %s %u %s @%" PRIu64 "\n", ws_violation_name(v->id),
        v->close_code, v->section, v->offset);
  /* The Close is already queued when the event fires. */
  assert_int_equal(ws_session_get_state(s), WS_SESSION_FAILED);
  return c->fail_in == FAIL_VIOLATION;
}

static int cb_begin(ws_session *s, enum ws_opcode op, void *u) {
  struct session_ctx *c = u;
  logf_(c, "begin %s\n", op == WS_OP_TEXT ? "TEXT" : "BINARY");
  c->stream_len = 0;
  return 0;
}

static int cb_data(ws_session *s, const uint8_t *d, size_t n, void *u) {
  struct session_ctx *c = u;
  assert_true(n > 0);
  assert_true(c->stream_len + n <= sizeof(c->stream));
  memcpy(c->stream + c->stream_len, d, n);
  c->stream_len += n;
  c->pieces++;
  return 0;
}

static int cb_end(ws_session *s, void *u) {
  struct session_ctx *c = u;
  log_bytes(c, "end", c->stream, c->stream_len);
  return 0;
}

const struct ws_session_callbacks session_log_cb = {
    .on_message = cb_message,
    .on_ping = cb_ping,
    .on_pong = cb_pong,
    .on_close = cb_close,
    .on_violation = cb_violation,
};

const struct ws_session_callbacks session_stream_cb = {
    .on_message = cb_message, /* must not be called */
    .on_ping = cb_ping,
    .on_pong = cb_pong,
    .on_close = cb_close,
    .on_violation = cb_violation,
    .on_message_begin = cb_begin,
    .on_message_data = cb_data,
    .on_message_end = cb_end,
};

/* ------------------------------------------------------------------ */
/* Wire builder */

void w_init(struct wire *w, int masked) {
  memset(w, 0, sizeof(*w));
  w->seed = 0x9e3779b97f4a7c15ull;
  w->masked = masked;
}

static void w_room(struct wire *w, size_t n) {
  if (w->cap - w->len >= n)
    return;
  w->cap = (w->len + n) * 2;
  w->p = realloc(w->p, w->cap);
  assert_non_null(w->p);
}

void w_bytes(struct wire *w, const void *p, size_t n) {
  w_room(w, n);
  if (n)
    memcpy(w->p + w->len, p, n);
  w->len += n;
}

void w_hex(struct wire *w, const char *hex) {
  size_t n;
  uint8_t *b = hex_decode(hex, &n);
  w_bytes(w, b, n);
  free(b);
}

/* A frame: |b0| is FIN|RSV|opcode, |form| forces a length form. */
void w_frame_form(struct wire *w, uint8_t b0, const void *payload, size_t n,
                  uint8_t form) {
  struct ws_frame_header h;
  memset(&h, 0, sizeof(h));
  h.fin = b0 >> 7;
  h.rsv = b0 & WS_MASK_RSV;
  h.opcode = b0 & WS_MASK_OPCODE;
  h.length = n;
  h.length_form = form;
  h.masked = (uint8_t)w->masked;
  size_t need = ws_frame_encoded_size(&h);
  w_room(w, need);
  ws_ssize r = ws_frame_encode(w->p + w->len, need, &h, payload,
                               w->masked ? test_random : NULL, &w->seed);
  assert_int_equal(r, (ws_ssize)need);
  w->len += need;
}

void w_frame(struct wire *w, uint8_t b0, const void *payload, size_t n) {
  w_frame_form(w, b0, payload, n, 0);
}

void w_str(struct wire *w, uint8_t b0, const char *s) {
  w_frame(w, b0, s, strlen(s));
}

/* A raw header (no payload) with the 4 mask bytes appended when masked. */
void w_head(struct wire *w, const char *hex) {
  w_hex(w, hex);
  if (w->masked)
    w_hex(w, "01020304");
}

/* ------------------------------------------------------------------ */
/* Output decoding */

/* Describes |out| frame by frame, decoded as the peer of |role| would. */
char *describe_frames(const uint8_t *out, size_t len, enum ws_role role) {
  struct ws_decoder_config dc;
  ws_decoder_config_default(&dc, role == WS_ROLE_SERVER ? WS_ROLE_CLIENT
                                                        : WS_ROLE_SERVER);
  struct ws_decoder d;
  ws_decoder_init(&d, &dc);
  uint8_t *copy = malloc(len + 1);
  if (len)
    memcpy(copy, out, len);
  char *desc = calloc(1, SESSION_LOG_MAX);
  size_t dn = 0, off = 0, plen = 0;
  uint8_t *payload = malloc(len + 1);
  while (off < len) {
    struct ws_frame_chunk ch;
    size_t used;
    int r = ws_decoder_decode(&d, copy + off, len - off, &used, &ch);
    off += used;
    assert_int_equal(r, 1);
    if (ch.first)
      plen = 0;
    if (ch.len)
      memcpy(payload + plen, ch.data, ch.len);
    plen += ch.len;
    if (!ch.last)
      continue;
    char b[100];
    const struct ws_frame_header *h = ch.header;
    if (h->opcode == WS_OP_CLOSE) {
      struct ws_close_info ci;
      assert_int_equal(ws_close_parse(payload, plen, &ci, NULL), WS_V_NONE);
      if (plen == 0)
        dn +=
            (size_t)snprintf(desc + dn, SESSION_LOG_MAX - dn, "CLOSE empty\n");
      else
        dn += (size_t)snprintf(desc + dn, SESSION_LOG_MAX - dn,
                               "CLOSE %u '%.*s'\n", ci.code, (int)ci.reason_len,
                               ci.reason ? (const char *)ci.reason : "");
      continue;
    }
    static const char *names[16] = {"CONT", "TEXT", "BINARY", "",     "",    "",
                                    "",     "",     "",       "PING", "PONG"};
    fmt_bytes(b, sizeof(b), payload, plen);
    if (WS_OP_IS_CONTROL(h->opcode))
      dn += (size_t)snprintf(desc + dn, SESSION_LOG_MAX - dn, "%s %s\n",
                             names[h->opcode], b);
    else
      dn += (size_t)snprintf(desc + dn, SESSION_LOG_MAX - dn, "%s%s %s\n",
                             names[h->opcode], h->fin ? "" : "+", b);
  }
  free(copy);
  free(payload);
  return desc;
}

size_t session_drain(ws_session *s, uint8_t *out, size_t cap, size_t *sizes,
                     size_t *nsizes) {
  size_t n = 0, k = 0;
  const uint8_t *p;
  ws_ssize m;
  while ((m = ws_session_send(s, &p)) > 0) {
    assert_true(n + (size_t)m <= cap);
    memcpy(out + n, p, (size_t)m);
    n += (size_t)m;
    if (sizes)
      sizes[k++] = (size_t)m;
  }
  assert_int_equal(m, 0);
  if (nsizes)
    *nsizes = k;
  return n;
}

/* ------------------------------------------------------------------ */
/* Runner */

void session_cfg_init(struct session_cfg *c, enum ws_role role) {
  memset(c, 0, sizeof(*c));
  c->role = role;
  ws_session_options_default(&c->opt);
  c->opt.random = test_random;
  c->cb = &session_log_cb;
  c->echo = 1;
}

ws_session *session_make(enum ws_role role,
                         const struct ws_session_callbacks *cb, void *user,
                         const struct ws_session_options *opt,
                         const struct ws_mem *mem) {
  ws_session *s = NULL;
  assert_int_equal(ws_session_new(&s, role, cb, user, opt, mem), 0);
  return s;
}

ws_ssize session_recv_guarded(ws_session *s, const uint8_t *p, size_t n) {
  struct guarded g = guarded_copy(p, n);
  ws_ssize r = ws_session_recv(s, g.data, g.len);
  guarded_free(&g);
  return r;
}

static const char *state_name(enum ws_session_state st) {
  static const char *n[] = {"OPEN", "CLOSE_SENT", "CLOSE_RECEIVED", "CLOSED",
                            "FAILED"};
  return n[st];
}

/* Feeds |wire| cut at cuts[0..ncuts) (ascending), then drains output. */
void session_run(const struct session_cfg *cf, const uint8_t *wire, size_t len,
                 const size_t *cuts, size_t ncuts, struct outcome *o) {
  struct session_ctx *c = calloc(1, sizeof(*c));
  c->echo = cf->echo;
  c->reply_code = cf->reply_code;
  c->seed = 42;
  struct ws_session_options opt = cf->opt;
  opt.random_user = &c->seed;
  ws_session *s = NULL;
  s = session_make(cf->role, cf->cb, c, &opt, NULL);
  if (cf->pre_close) {
    const char *r = cf->pre_reason ? cf->pre_reason : "";
    assert_int_equal(
        ws_session_queue_close(s, cf->pre_close, (const uint8_t *)r, strlen(r)),
        0);
    assert_int_equal(ws_session_get_state(s), WS_SESSION_CLOSE_SENT);
  }
  size_t at = 0;
  uint64_t total = 0;
  for (size_t i = 0; i <= ncuts; i++) {
    size_t end = i < ncuts ? cuts[i] : len;
    struct guarded g = guarded_copy(wire + at, end - at);
    c->in_lo = (uintptr_t)g.data;
    c->in_hi = (uintptr_t)g.data + g.len;
    ws_ssize r = ws_session_recv(s, g.data, g.len);
    /* A piece that starts right after the peer's Close is refused whole;
     * log it like a short count so every split logs the same. */
    if (r == WS_ECLOSED && ws_session_get_state(s) == WS_SESSION_CLOSED)
      r = 0;
    int stopped = r < 0 || (size_t)r < g.len;
    if (r < 0)
      logf_(c, "ret %d\n", (int)r);
    else
      total += (uint64_t)r;
    if (r >= 0 && stopped)
      logf_(c, "stop @%" PRIu64 "\n", total);
    if (stopped) {
      /* The session reads nothing more. */
      uint8_t more[1] = {0x81};
      logf_(c, "again %d\n", (int)ws_session_recv(s, more, 1));
    }
    guarded_free(&g);
    at = end;
    if (stopped)
      break;
  }
  logf_(c, "state %s read %d\n", state_name(ws_session_get_state(s)),
        ws_session_want_read(s));
  o->out = NULL;
  o->outlen = 0;
  const uint8_t *p;
  ws_ssize m;
  int action_before = ws_session_should_close(s);
  while ((m = ws_session_send(s, &p)) > 0) {
    o->out = realloc(o->out, o->outlen + (size_t)m);
    memcpy(o->out + o->outlen, p, (size_t)m);
    o->outlen += (size_t)m;
  }
  assert_int_equal(m, 0);
  assert_int_equal(ws_session_want_write(s), 0);
  if (o->outlen)
    assert_int_equal(action_before, WS_SESSION_KEEP_OPEN);
  logf_(c, "action %d\n", ws_session_should_close(s));
  memcpy(o->log, c->log, c->n + 1);
  o->zero_copy = c->zero_copy;
  o->copied = c->copied;
  ws_session_del(s);
  free(c);
}

static void same_outcome(const struct outcome *a, const struct outcome *b,
                         const char *how, size_t at) {
  if (strcmp(a->log, b->log) != 0)
    fail_msg("%s %zu: log differs:\n%s--- whole:\n%s", how, at, b->log, a->log);
  if (a->outlen != b->outlen ||
      (a->outlen && memcmp(a->out, b->out, a->outlen) != 0))
    fail_msg("%s %zu: output differs (%zu vs %zu bytes)", how, at, b->outlen,
             a->outlen);
}

/*
 * Runs |wire| whole and checks the log and the decoded output against the
 * expectations (NULL = not checked), then one byte at a time and split in
 * two at every position (every position near the ends and a stride in the
 * middle for inputs over 4 KiB), requiring the same log and output bytes.
 * Returns the whole run's outcome (caller frees).
 */
struct outcome *check_splits(const struct session_cfg *cf, const uint8_t *wire,
                             size_t len, const char *want_log,
                             const char *want_out) {
  struct outcome *whole = calloc(1, sizeof(*whole));
  struct outcome *o = calloc(1, sizeof(*o));
  session_run(cf, wire, len, NULL, 0, whole);
  if (want_log && strcmp(whole->log, want_log) != 0)
    fail_msg("log:\n%s--- want:\n%s", whole->log, want_log);
  char *d = describe_frames(whole->out, whole->outlen, cf->role);
  if (want_out && strcmp(d, want_out) != 0)
    fail_msg("output:\n%s--- want:\n%s", d, want_out);
  free(d);

  size_t *cuts = malloc((len + 1) * sizeof(*cuts));
  for (size_t k = 0; k + 1 < len; k++)
    cuts[k] = k + 1;
  session_run(cf, wire, len, cuts, len > 1 ? len - 1 : 0, o);
  same_outcome(whole, o, "bytewise", 0);
  free(o->out);
  free(cuts);

  size_t stride = len > 4096 ? 97 : 1;
  for (size_t k = 0; k <= len; k++) {
    if (stride > 1 && k > 64 && k + 64 < len && k % stride)
      continue;
    session_run(cf, wire, len, &k, 1, o);
    same_outcome(whole, o, "split at", k);
    free(o->out);
  }
  free(o);
  return whole;
}

void outcome_free(struct outcome *o) {
  free(o->out);
  free(o);
}

/* check_splits over |w|, then frees the wire and the outcome. */
void check_wire(const struct session_cfg *cf, struct wire *w,
                const char *want_log, const char *want_out) {
  outcome_free(check_splits(cf, w->p, w->len, want_log, want_out));
  free(w->p);
}

/* Builds "prefix<fmt of payload>\n" for long payloads in expectations. */
void want_bytes(char *dst, size_t cap, const char *what, const uint8_t *p,
                size_t n) {
  char b[100];
  fmt_bytes(b, sizeof(b), p, n);
  snprintf(dst, cap, "%s %s\n", what, b);
}

/* ------------------------------------------------------------------ */
/* Violations */

/*
 * Runs the w_init_ok prefix ("ok", echoed) + the bad frame(s) built by the
 * caller into |w| + a trailing valid frame that must never be read, and checks
 * the one violation event, the Close frame, the FAILED state and "close now".
 */
void expect_violation(const struct session_cfg *cf, struct wire *w,
                      const char *log_between, const char *out_before,
                      enum ws_violation_id id, unsigned code,
                      const char *section, uint64_t offset) {
  w_str(w, TXT, "zz"); /* never reached */
  struct ws_violation v;
  ws_violation_set(&v, id, offset);
  assert_int_equal(v.close_code, code);
  assert_string_equal(v.section, section);
  char want_log[1024], want_out[1024];
  snprintf(want_log, sizeof(want_log),
           "msg TEXT 6f6b\n%sviolation %s %u %s @%" PRIu64 "\n"
           "ret -200\nagain -201\nstate FAILED read 0\naction 1\n",
           log_between, ws_violation_name(id), code, section, offset);
  snprintf(want_out, sizeof(want_out), "%sCLOSE %u '%s'\n", out_before, code,
           v.reason);
  struct outcome *o = check_splits(cf, w->p, w->len, want_log, want_out);
  outcome_free(o);
  free(w->p);
}

/* A fresh wire holding the "ok" prefix: 8 bytes masked, 4 unmasked. */
void w_init_ok(struct wire *w, int masked) {
  w_init(w, masked);
  w_str(w, TXT, "ok");
}
