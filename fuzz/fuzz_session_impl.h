/*
 * fuzz_session_impl.h: the body of fuzz_session_server and
 * fuzz_session_client, a whole connection: the opening handshake, then
 * frames, the input cut into reads and interleaved with the application's
 * own calls. FUZZ_SESSION_ROLE (WS_ROLE_SERVER or WS_ROLE_CLIENT) is
 * defined by the including file.
 *
 * Input:
 *   byte 0  bits 0-1  fragment_size: none, 16, 100, 1000
 *           bits 2-3  send_chunk_size: 64 KiB, everything, 20, 130
 *           bit 4     streaming delivery (on_message_data)
 *           bit 5     auto_pong
 *           bits 6-7  max_message_size: 64 MiB, none, 64, 1000
 *   byte 1  bits 0-2  allowed RSV bits
 *           bits 3-4  on_close: session echo, reply 1000 "bye", reply
 *                     empty, try an invalid reply (EINVAL)
 *           bit 5     echo messages
 *           bits 6-7  max_frame_size: none, 16, 200, 70000
 *   byte 2  bits 0-1  client: option set (fuzz_http_util.h)
 *           bits 2-5  client: the mask source fails at its call number n
 *                     (0: never; WS_ERANDOM paths)
 *           bits 6-7  3: the allocation numbered byte 3 >> 4 fails; 2: run
 *                     the argument contracts once the session exists
 *   byte 3  bits 0-3  callback event number that returns non-zero (0 none)
 *   records:
 *     R < 0xf0   R bytes from the peer (0: the rest of the input): the
 *                handshake head, then frames; one ws_session_recv each
 *     R = 0xf1   queue TEXT: length byte n, n bytes
 *     R = 0xf2   queue BINARY: n, bytes
 *     R = 0xf3   queue Ping: n, bytes
 *     R = 0xf4   queue Pong: n, bytes
 *     R = 0xf5   queue Close: code (2 bytes), n, reason
 *     R = 0xf6   queue an empty Close (1005)
 *     R = 0xf7   one ws_session_send call
 *     R = 0xf8   queue BINARY of n * 8192 pattern bytes (big output,
 *                64-bit lengths, buffers over the 1 MiB trim size); once
 *                per input, and at most 64 KiB when fragment_size (16,
 *                100) or send_chunk_size (20, 130) is small: else one
 *                input is 10^5 frames or send calls, a timeout that
 *                measures the harness, not the code
 *     other      drain all output
 *   Application calls before the handshake completes are skipped.
 *
 * Oracles:
 *   - every byte the session emits decodes cleanly in a peer session of
 *     the other role (fuzz_session_util.h), nothing follows its Close,
 *     and the Close carries the code the session had to send;
 *   - every ws_session_* result is one the header allows in that state
 *     (queue calls against a model of their documented errors; recv
 *     results against the state machine);
 *   - callbacks keep their contracts (UTF-8, limits, states);
 *   - the close handshake ends: when the input runs out, a Close is
 *     queued if none was, the peer's reply is fed back, and a session
 *     whose input stopped at a frame boundary must then be CLOSED or
 *     FAILED, with should_close as documented (server CLOSE_NOW, client
 *     CLOSE_AWAIT; CLOSE_NOW after a failure);
 *   - with a failing allocator: WS_ENOMEM as documented; never a leak;
 *     with a failing mask source: WS_ERANDOM where documented;
 *   - the NULL-argument and state contracts of every entry point, and
 *     ws_session_recv from a callback is WS_ESTATE.
 */
#ifndef WS_FUZZ_SESSION_IMPL_H
#define WS_FUZZ_SESSION_IMPL_H

#include "fuzz_http_util.h"
#include "fuzz_session_util.h"
#include "fuzz_util.h"
#include "http/ws_handshake.h"
#include "ws/ws_frame.h"
#include "ws/ws_session.h"

#ifndef FUZZ_SESSION_ROLE
#error "define FUZZ_SESSION_ROLE before including fuzz_session_impl.h"
#endif

struct conn {
  enum ws_role role;
  struct ws_session_options opt;
  int streaming, echo, close_reply;
  unsigned fail_event, events;
  ws_session *s;
  struct fuzz_mem fm;
  int enomem_run;
  uint64_t seed;
  unsigned rnd_calls, rnd_fail_at, rnd_failures;
  struct fuzz_peer peer;
  /* What we know of the session. */
  int fatal;        /* WS_ENOMEM seen */
  int rd_stop;      /* the read side stopped: the code it returns */
  int close_queued; /* a Close of ours is queued */
  int expect_code;  /* the code the peer must see, -1 unknown */
  /* A shadow decoder over the bytes the session consumed: is the input at
   * a frame boundary? */
  struct ws_decoder shadow;
  int shadow_ok;
  uint64_t boundary; /* shadow.pos at the end of the last whole frame */
  /* streaming delivery */
  uint8_t *acc;
  size_t acc_len, acc_cap;
  int in_msg;
  uint8_t msg_op;
  int big_done; /* the one big message of an input was queued */
};

static int fire(struct conn *c) { return ++c->events == c->fail_event; }

/* The session's mask source: deterministic, failing once when asked. */
static int conn_random(uint8_t *buf, size_t len, void *user) {
  struct conn *c = (struct conn *)user;
  if (++c->rnd_calls == c->rnd_fail_at) {
    c->rnd_failures++;
    return -1;
  }
  return fuzz_random(buf, len, &c->seed);
}

static void check_text(const uint8_t *p, size_t n, int complete_too) {
  size_t bad;
  int complete;
  FUZZ_CHECK(fuzz_utf8_ref(p, n, &bad, &complete));
  if (complete_too)
    FUZZ_CHECK(complete);
}

/* A queue call's result must be one of the documented outcomes.
 * |failures| is c->rnd_failures before the call. */
static void queue_result(struct conn *c, int e, int ok, int einval, int etoobig,
                         unsigned failures) {
  if (c->fatal) {
    FUZZ_CHECK(e == WS_ENOMEM);
    return;
  }
  if (ws_session_get_state(c->s) != WS_SESSION_OPEN) {
    FUZZ_CHECK(e == WS_ESTATE);
    return;
  }
  if (e == WS_EINVAL)
    FUZZ_CHECK(einval);
  else if (e == WS_ETOOBIG)
    FUZZ_CHECK(etoobig);
  else if (e == WS_ENOMEM)
    FUZZ_CHECK(c->enomem_run);
  else if (e == WS_ERANDOM)
    FUZZ_CHECK(c->rnd_failures > failures && c->role == WS_ROLE_CLIENT);
  else
    FUZZ_CHECK(e == 0 && ok);
}

static void echo(struct conn *c, enum ws_opcode op, const uint8_t *p,
                 size_t n) {
  if (!c->echo || ws_session_get_state(c->s) != WS_SESSION_OPEN)
    return;
  unsigned f = c->rnd_failures;
  int e = ws_session_queue_message(c->s, op, p, n);
  queue_result(c, e, 1, 0, 0, f);
}

static void message(struct conn *c, enum ws_opcode op, const uint8_t *p,
                    size_t n) {
  FUZZ_CHECK(op == WS_OP_TEXT || op == WS_OP_BINARY);
  FUZZ_CHECK(p != NULL);
  if (op == WS_OP_TEXT)
    check_text(p, n, 1);
  if (c->opt.max_message_size)
    FUZZ_CHECK(n <= c->opt.max_message_size);
  echo(c, op, p, n);
}

static int on_message(ws_session *s, enum ws_opcode op, const uint8_t *p,
                      size_t n, void *u) {
  struct conn *c = (struct conn *)u;
  FUZZ_CHECK(s == c->s && !c->streaming);
  /* ws_session_recv is not allowed from a callback. */
  uint8_t x[1] = {0x81};
  FUZZ_CHECK(ws_session_recv(s, x, 1) == WS_ESTATE);
  message(c, op, p, n);
  return fire(c);
}

static int on_begin(ws_session *s, enum ws_opcode op, void *u) {
  struct conn *c = (struct conn *)u;
  FUZZ_CHECK(s == c->s && c->streaming && !c->in_msg);
  c->in_msg = 1;
  c->msg_op = (uint8_t)op;
  c->acc_len = 0;
  return fire(c);
}

static int on_data(ws_session *s, const uint8_t *p, size_t n, void *u) {
  struct conn *c = (struct conn *)u;
  FUZZ_CHECK(s == c->s && c->in_msg && n > 0);
  if (c->acc_len + n > c->acc_cap) {
    size_t cap = (c->acc_len + n) * 2;
    uint8_t *q = (uint8_t *)realloc(c->acc, cap);
    FUZZ_CHECK(q != NULL);
    c->acc = q;
    c->acc_cap = cap;
  }
  memcpy(c->acc + c->acc_len, p, n);
  c->acc_len += n;
  if (c->opt.max_message_size)
    FUZZ_CHECK(c->acc_len <= c->opt.max_message_size);
  /* Counted here (not in fuzz_frame_decode, whose pieces depend on the
   * cuts): a failing on_message_data stops reading like any callback. */
  return fire(c);
}

static int on_end(ws_session *s, void *u) {
  struct conn *c = (struct conn *)u;
  FUZZ_CHECK(s == c->s && c->in_msg);
  c->in_msg = 0;
  message(c, (enum ws_opcode)c->msg_op, c->acc ? c->acc : (const uint8_t *)"",
          c->acc_len);
  return fire(c);
}

static int on_control(ws_session *s, const uint8_t *p, size_t n, void *u) {
  struct conn *c = (struct conn *)u;
  FUZZ_CHECK(s == c->s && n <= WS_CONTROL_MAX && (p || !n));
  return fire(c);
}

static int on_close(ws_session *s, uint16_t code, const uint8_t *reason,
                    size_t n, void *u) {
  struct conn *c = (struct conn *)u;
  FUZZ_CHECK(s == c->s && reason != NULL && n <= WS_CLOSE_REASON_MAX);
  FUZZ_CHECK(ws_close_code_is_valid(code) ||
             (code == WS_CLOSE_NO_STATUS && n == 0));
  check_text(reason, n, 1);
  enum ws_session_state st = ws_session_get_state(s);
  if (c->close_queued) {
    /* Ours was out: this completes the handshake. */
    FUZZ_CHECK(st == WS_SESSION_CLOSED);
  } else {
    FUZZ_CHECK(st == WS_SESSION_CLOSE_RECEIVED);
    int e = 0;
    c->close_queued = 1;
    c->expect_code = code; /* the session echoes it... */
    switch (c->close_reply) {
    case 1:
      e = ws_session_queue_close(s, 1000, (const uint8_t *)"bye", 3);
      c->expect_code = 1000;
      break;
    case 2:
      e = ws_session_queue_close(s, WS_CLOSE_NO_STATUS, NULL, 0);
      c->expect_code = WS_CLOSE_NO_STATUS;
      break;
    case 3:
      e = ws_session_queue_close(s, 1006, NULL, 0);
      FUZZ_CHECK(e == WS_EINVAL);
      FUZZ_CHECK(ws_session_get_state(s) == WS_SESSION_CLOSE_RECEIVED);
      e = 0;
      break;
    default:
      break;
    }
    if (e == WS_ERANDOM) {
      /* Nothing queued; the session tries its own echo after us. */
      FUZZ_CHECK(c->rnd_failures > 0 &&
                 ws_session_get_state(s) == WS_SESSION_CLOSE_RECEIVED);
      c->expect_code = code;
    } else if (c->close_reply == 1 || c->close_reply == 2) {
      FUZZ_CHECK(e == 0);
      FUZZ_CHECK(ws_session_get_state(s) == WS_SESSION_CLOSED &&
                 ws_session_queue_close(s, 1000, NULL, 0) == WS_ESTATE);
    } else {
      FUZZ_CHECK(e == 0);
    }
  }
  FUZZ_CHECK(ws_session_queue_ping(s, NULL, 0) == WS_ESTATE);
  return fire(c);
}

static int on_violation(ws_session *s, const struct ws_violation *v, void *u) {
  struct conn *c = (struct conn *)u;
  FUZZ_CHECK(s == c->s && fuzz_violation_consistent(v));
  FUZZ_CHECK(ws_session_get_state(s) == WS_SESSION_FAILED);
  FUZZ_CHECK(ws_session_get_violation(s) != NULL);
  if (c->in_msg && c->msg_op == WS_OP_TEXT)
    check_text(c->acc, c->acc_len, 0);
  c->in_msg = 0;
  if (!c->close_queued) {
    c->close_queued = 1;
    c->expect_code = v->close_code;
  }
  return fire(c);
}

FUZZ_NOCOV static void fill_pattern(uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(i * 131 + (i >> 8));
}

/* Drains the session's output into the peer. */
static void drain(struct conn *c, unsigned max_calls) {
  ws_ssize r = fuzz_drain(c->s, &c->peer, NULL, max_calls);
  if (c->fatal)
    FUZZ_CHECK(r == WS_ENOMEM);
  else
    FUZZ_CHECK(r >= 0);
}

/* Feeds the shadow decoder the bytes the session consumed. */
static void shadow_feed(struct conn *c, const uint8_t *p, size_t n) {
  uint8_t *q = fuzz_dup(p, n);
  size_t off = 0;
  while (c->shadow_ok && off < n) {
    struct ws_frame_chunk ch;
    size_t used;
    int r = ws_decoder_decode(&c->shadow, q + off, n - off, &used, &ch);
    off += used;
    if (r < 0)
      c->shadow_ok = 0; /* the session failed there too */
    if (r <= 0)
      break;
    if (ch.last)
      c->boundary = c->shadow.pos;
  }
  free(q);
}

/* One read from the peer. */
static void receive(struct conn *c, const uint8_t *p, size_t n) {
  enum ws_session_state before = ws_session_get_state(c->s);
  int reading = before == WS_SESSION_OPEN || before == WS_SESSION_CLOSE_SENT;
  unsigned failures = c->rnd_failures;
  uint8_t *q = fuzz_dup(p, n);
  ws_ssize r = ws_session_recv(c->s, q, n);
  free(q);
  enum ws_session_state st = ws_session_get_state(c->s);
  if (c->fatal) {
    FUZZ_CHECK(r == WS_ENOMEM);
    return;
  }
  if (c->rd_stop) {
    FUZZ_CHECK(r == c->rd_stop);
    return;
  }
  if (!reading) {
    FUZZ_CHECK(r == WS_ECLOSED);
    return;
  }
  if (r >= 0) {
    FUZZ_CHECK((size_t)r <= n);
    if ((size_t)r < n)
      FUZZ_CHECK(st == WS_SESSION_CLOSED);
    FUZZ_CHECK(st == WS_SESSION_OPEN || st == WS_SESSION_CLOSE_SENT ||
               st == WS_SESSION_CLOSED);
    shadow_feed(c, p, (size_t)r);
    return;
  }
  switch (r) {
  case WS_EPROTO:
    FUZZ_CHECK(st == WS_SESSION_FAILED && c->close_queued);
    FUZZ_CHECK(ws_session_get_violation(c->s) != NULL);
    c->shadow_ok = 0;
    break;
  case WS_ECALLBACK:
    FUZZ_CHECK(c->fail_event && c->events == c->fail_event);
    FUZZ_CHECK(!ws_session_want_read(c->s));
    c->rd_stop = WS_ECALLBACK;
    c->shadow_ok = 0;
    break;
  case WS_ERANDOM:
    /* An automatic Pong or Close reply could not be masked. */
    FUZZ_CHECK(c->role == WS_ROLE_CLIENT && c->rnd_failures > failures);
    FUZZ_CHECK(!ws_session_want_read(c->s));
    c->rd_stop = WS_ERANDOM;
    c->shadow_ok = 0;
    break;
  case WS_ENOMEM:
    FUZZ_CHECK(c->enomem_run && st == WS_SESSION_FAILED);
    FUZZ_CHECK(ws_session_should_close(c->s) == WS_SESSION_CLOSE_NOW);
    FUZZ_CHECK(!ws_session_want_read(c->s) && !ws_session_want_write(c->s));
    c->fatal = 1;
    break;
  default:
    FUZZ_CHECK(!"unexpected ws_session_recv result");
  }
}

/* The application's calls. */
static void act(struct conn *c, uint8_t op, struct fuzz_reader *r) {
  size_t n, got;
  const uint8_t *p;
  int e, bad_utf8;
  size_t bad;
  int complete;
  unsigned failures = c->rnd_failures;
  switch (op) {
  case 0xf1:
  case 0xf2:
    n = fz_u8(r);
    p = fz_take(r, n, &got);
    bad_utf8 =
        op == 0xf1 && (!fuzz_utf8_ref(p, got, &bad, &complete) || !complete);
    e = ws_session_queue_message(c->s, op == 0xf1 ? WS_OP_TEXT : WS_OP_BINARY,
                                 got ? p : NULL, got);
    queue_result(c, e, !bad_utf8, bad_utf8, 0, failures);
    break;
  case 0xf3:
  case 0xf4:
    n = fz_u8(r);
    p = fz_take(r, n, &got);
    e = op == 0xf3 ? ws_session_queue_ping(c->s, got ? p : NULL, got)
                   : ws_session_queue_pong(c->s, got ? p : NULL, got);
    queue_result(c, e, got <= WS_CONTROL_MAX, 0, got > WS_CONTROL_MAX,
                 failures);
    break;
  case 0xf8: {
    n = (size_t)fz_u8(r) * 8192;
    if (c->big_done++)
      n = 0;
    if (((c->opt.fragment_size && c->opt.fragment_size < 1000) ||
         (c->opt.send_chunk_size && c->opt.send_chunk_size < 65536)) &&
        n > 65536)
      n = 65536;
    uint8_t *big = (uint8_t *)malloc(n ? n : 1);
    FUZZ_CHECK(big != NULL);
    fill_pattern(big, n);
    e = ws_session_queue_message(c->s, WS_OP_BINARY, big, n);
    queue_result(c, e, 1, 0, 0, failures);
    free(big);
    break;
  }
  case 0xf5:
  case 0xf6: {
    uint16_t code = WS_CLOSE_NO_STATUS;
    got = 0;
    p = NULL;
    if (op == 0xf5) {
      code = fz_u16(r);
      n = fz_u8(r);
      p = fz_take(r, n, &got);
    }
    int valid = code == WS_CLOSE_NO_STATUS || ws_close_code_is_sendable(code);
    int utf8 = fuzz_utf8_ref(p, got, &bad, &complete) && complete;
    int einval = !valid || (code == WS_CLOSE_NO_STATUS && got) || !utf8;
    int etoobig = got > WS_CLOSE_REASON_MAX;
    e = ws_session_queue_close(c->s, code, got ? p : NULL, got);
    if (c->fatal) {
      FUZZ_CHECK(e == WS_ENOMEM);
    } else if (c->close_queued ||
               ws_session_get_state(c->s) == WS_SESSION_FAILED) {
      FUZZ_CHECK(e == WS_ESTATE);
    } else if (e == WS_EINVAL) {
      FUZZ_CHECK(einval);
    } else if (e == WS_ETOOBIG) {
      FUZZ_CHECK(etoobig);
    } else if (e == WS_ERANDOM) {
      FUZZ_CHECK(c->rnd_failures > failures && !einval && !etoobig);
      FUZZ_CHECK(ws_session_get_state(c->s) == WS_SESSION_OPEN);
    } else {
      /* Queuing a Close never allocates, and our source never fails. */
      FUZZ_CHECK(e == 0 && !einval && !etoobig);
      FUZZ_CHECK(ws_session_get_state(c->s) == WS_SESSION_CLOSE_SENT);
      c->close_queued = 1;
      c->expect_code = code;
    }
    break;
  }
  case 0xf7:
    drain(c, 1);
    break;
  default:
    drain(c, 0);
    break;
  }
}

/* Skips an application call's parameters (before the handshake). */
static void skip_act(uint8_t op, struct fuzz_reader *r) {
  size_t got;
  if (op >= 0xf1 && op <= 0xf4)
    fz_take(r, fz_u8(r), &got);
  if (op == 0xf8)
    fz_u8(r);
  if (op == 0xf5) {
    fz_u16(r);
    fz_take(r, fz_u8(r), &got);
  }
}

/* The end of the input: close, feed the peer's reply, and check that the
 * closing handshake ended as RFC 6455 Section 7 says. */
static void finish(struct conn *c) {
  if (c->fatal) {
    const uint8_t *o;
    FUZZ_CHECK(ws_session_send(c->s, &o) == WS_ENOMEM);
    FUZZ_CHECK(ws_session_should_close(c->s) == WS_SESSION_CLOSE_NOW);
    return;
  }
  drain(c, 0);
  c->rnd_fail_at = 0; /* the end must not depend on a failing source */
  enum ws_session_state st = ws_session_get_state(c->s);
  if (st == WS_SESSION_OPEN) {
    FUZZ_CHECK(!c->close_queued);
    FUZZ_CHECK(ws_session_queue_close(c->s, 1000, (const uint8_t *)"done", 4) ==
               0);
    FUZZ_CHECK(ws_session_get_state(c->s) == WS_SESSION_CLOSE_SENT);
    c->close_queued = 1;
    c->expect_code = 1000;
    drain(c, 0);
  }
  FUZZ_CHECK(!ws_session_want_write(c->s));
  st = ws_session_get_state(c->s);
  /* The peer saw our Close, with the code we had to send; a client whose
   * mask source failed may have sent none (ws_session.h). */
  if (c->rnd_failures == 0) {
    FUZZ_CHECK(c->close_queued && c->peer.closes == 1);
    if (c->expect_code >= 0)
      FUZZ_CHECK(c->peer.close_code == (uint16_t)c->expect_code);
  }

  /* The peer's reply, fed back while the session still reads. */
  int at_boundary = c->shadow_ok && c->shadow.pos == c->boundary;
  if (st == WS_SESSION_CLOSE_SENT && !c->rd_stop && c->peer.closes) {
    size_t n;
    uint8_t *reply = fuzz_peer_output(&c->peer, &n);
    FUZZ_CHECK(n > 0 && ws_session_want_read(c->s));
    receive(c, reply, n);
    free(reply);
    if (c->fatal)
      return;
    drain(c, 0);
    st = ws_session_get_state(c->s);
    if (at_boundary)
      FUZZ_CHECK(st == WS_SESSION_CLOSED);
  }
  int sc = ws_session_should_close(c->s);
  FUZZ_CHECK(!ws_session_want_write(c->s));
  if (st == WS_SESSION_CLOSED)
    FUZZ_CHECK(sc == (c->role == WS_ROLE_SERVER ? WS_SESSION_CLOSE_NOW
                                                : WS_SESSION_CLOSE_AWAIT));
  else if (st == WS_SESSION_FAILED)
    FUZZ_CHECK(sc == WS_SESSION_CLOSE_NOW);
  else
    FUZZ_CHECK(st == WS_SESSION_CLOSE_SENT && sc == WS_SESSION_KEEP_OPEN &&
               (c->rd_stop || !at_boundary || !c->peer.closes));
}

/* The NULL-argument and state contracts of ws_session.h, on |s| (OPEN, a
 * fresh session) and on NULL. */
static void api_contract(ws_session *s) {
  const uint8_t *o = (const uint8_t *)1;
  uint8_t b[WS_CLOSE_REASON_MAX + 3];
  struct ws_session_options opt;
  memset(b, 'r', sizeof(b));
  b[0] = 0x81;
  b[1] = 0x80;
  ws_session *t = (ws_session *)1;
  ws_session_options_default(NULL);
  ws_session_options_default(&opt);
  FUZZ_CHECK(ws_session_new(NULL, WS_ROLE_SERVER, NULL, NULL, NULL, NULL) ==
             WS_EINVAL);
  FUZZ_CHECK(ws_session_new(&t, (enum ws_role)7, NULL, NULL, NULL, NULL) ==
             WS_EINVAL);
  opt.allowed_rsv = 0x01;
  FUZZ_CHECK(ws_session_new(&t, WS_ROLE_SERVER, NULL, NULL, &opt, NULL) ==
                 WS_EINVAL &&
             t == (ws_session *)1);
  /* NULL options and callbacks: the defaults; a NULL random: OpenSSL. */
  FUZZ_CHECK(ws_session_new(&t, WS_ROLE_SERVER, NULL, NULL, NULL, NULL) == 0);
  ws_session_del(t);
  opt.allowed_rsv = 0;
  opt.random = NULL;
  FUZZ_CHECK(ws_session_new(&t, WS_ROLE_SERVER, NULL, NULL, &opt, NULL) == 0);
  ws_session_del(t);
  ws_session_del(NULL);
  FUZZ_CHECK(ws_session_recv(NULL, b, 2) == WS_EINVAL);
  FUZZ_CHECK(ws_session_recv(s, NULL, 2) == WS_EINVAL);
  FUZZ_CHECK(ws_session_send(NULL, &o) == WS_EINVAL);
  FUZZ_CHECK(ws_session_send(s, NULL) == WS_EINVAL);
  FUZZ_CHECK(ws_session_queue_message(NULL, WS_OP_TEXT, b, 1) == WS_EINVAL);
  FUZZ_CHECK(ws_session_queue_message(s, WS_OP_TEXT, NULL, 1) == WS_EINVAL);
  FUZZ_CHECK(ws_session_queue_message(s, WS_OP_PING, b, 1) == WS_EINVAL);
  FUZZ_CHECK(ws_session_queue_ping(NULL, b, 1) == WS_EINVAL);
  FUZZ_CHECK(ws_session_queue_pong(s, NULL, 1) == WS_EINVAL);
  FUZZ_CHECK(ws_session_queue_close(NULL, 1000, NULL, 0) == WS_EINVAL);
  FUZZ_CHECK(ws_session_queue_close(s, 1000, NULL, 1) == WS_EINVAL);
  FUZZ_CHECK(ws_session_queue_close(s, 1000, b + 2, sizeof(b) - 2) ==
             WS_ETOOBIG);
  FUZZ_CHECK(!ws_session_want_read(NULL) && !ws_session_want_write(NULL));
  FUZZ_CHECK(ws_session_get_state(NULL) == WS_SESSION_FAILED);
  FUZZ_CHECK(ws_session_should_close(NULL) == WS_SESSION_KEEP_OPEN);
  FUZZ_CHECK(ws_session_get_violation(NULL) == NULL);
  FUZZ_CHECK(ws_session_get_violation(s) == NULL);
  FUZZ_CHECK(ws_session_get_state(s) == WS_SESSION_OPEN &&
             !ws_session_want_write(s));
}

/* ----------------------------------------------------------- handshake */

struct hs {
  char *buf; /* everything received so far */
  size_t len;
  struct ws_http_parser p;
  struct ws_http_header h[FUZZ_HTTP_MAX_HEADERS];
  struct fuzz_option_set os;
  struct ws_handshake_client client;
  int done; /* 1 accepted, -1 refused */
};

static void hs_init(struct hs *h, unsigned option_set) {
  memset(h, 0, sizeof(*h));
  FUZZ_CHECK(ws_http_parser_init(&h->p,
                                 FUZZ_SESSION_ROLE == WS_ROLE_SERVER
                                     ? WS_HTTP_REQUEST
                                     : WS_HTTP_RESPONSE,
                                 h->h, FUZZ_HTTP_MAX_HEADERS, 0) == WS_OK);
  if (FUZZ_SESSION_ROLE == WS_ROLE_CLIENT) {
    char req[1024];
    fuzz_option_set(option_set, &h->os);
    FUZZ_CHECK(ws_handshake_client_request(
                   &h->client, &h->os.opt, fuzz_nonce_random,
                   (void *)h->os.nonce, NULL, req, sizeof(req)) > 0);
  }
}

/* Takes handshake bytes; returns how many of p[0..n) belong to the head
 * once it is complete (the rest are frames), or n. */
static size_t hs_feed(struct hs *h, const uint8_t *p, size_t n) {
  char *grown = (char *)realloc(h->buf, h->len + n + 1);
  FUZZ_CHECK(grown != NULL);
  h->buf = grown;
  memcpy(h->buf + h->len, p, n);
  size_t before = h->len;
  h->len += n;
  int r = ws_http_parse(&h->p, h->buf, h->len);
  if (r == WS_HTTP_INCOMPLETE)
    return n;
  if (FUZZ_SESSION_ROLE == WS_ROLE_SERVER) {
    struct ws_handshake_request req;
    struct ws_handshake_failure f;
    int rc = ws_handshake_server_check(&h->p, &req, &f);
    char out[1024];
    if (rc == WS_OK) {
      ws_ssize k = ws_handshake_build_101(out, sizeof(out), NULL, req.key.ptr,
                                          req.key.len, NULL, NULL);
      FUZZ_CHECK(k > 0);
      h->done = 1;
    } else {
      FUZZ_CHECK(rc == WS_EHANDSHAKE);
      FUZZ_CHECK(ws_handshake_build_refusal(out, sizeof(out), &f) > 0);
      h->done = -1;
    }
  } else {
    struct ws_handshake_response resp;
    struct ws_handshake_failure f;
    int rc = ws_handshake_client_check(&h->client, &h->p, &resp, &f);
    FUZZ_CHECK(rc == WS_OK || rc == WS_EHANDSHAKE);
    h->done = rc == WS_OK ? 1 : -1;
  }
  if (h->done < 0)
    return n;
  FUZZ_CHECK(h->p.head_len > before && h->p.head_len <= h->len);
  return h->p.head_len - before;
}

/* --------------------------------------------------------------- main */

static void conn_new(struct conn *c, const uint8_t cfg[4]) {
  static const uint64_t msg_max[4] = {(uint64_t)64 << 20, 0, 64, 1000};
  static const uint64_t frame_max[4] = {0, 16, 200, 70000};
  static const size_t frag[4] = {0, 16, 100, 1000};
  static const size_t chunk[4] = {65536, 0, 20, 130};
  struct ws_session_callbacks cb;
  memset(c, 0, sizeof(*c));
  c->role = FUZZ_SESSION_ROLE;
  ws_session_options_default(&c->opt);
  c->opt.fragment_size = frag[cfg[0] & 3];
  c->opt.send_chunk_size = chunk[(cfg[0] >> 2) & 3];
  c->streaming = (cfg[0] >> 4) & 1;
  c->opt.auto_pong = (cfg[0] >> 5) & 1;
  c->opt.max_message_size = msg_max[cfg[0] >> 6];
  c->opt.allowed_rsv = (uint8_t)((cfg[1] & 7) << 4);
  c->close_reply = (cfg[1] >> 3) & 3;
  c->echo = (cfg[1] >> 5) & 1;
  c->opt.max_frame_size = frame_max[cfg[1] >> 6];
  c->fail_event = cfg[3] & 15;
  c->seed = 0x6a09e667f3bcc908ull;
  c->opt.random = conn_random;
  c->opt.random_user = c;
  c->rnd_fail_at = (cfg[2] >> 2) & 15;
  c->expect_code = -1;
  c->enomem_run = (cfg[2] >> 6) == 3;
  fuzz_mem_init(&c->fm, c->enomem_run ? (long)(cfg[3] >> 4) : -1);
  memset(&cb, 0, sizeof(cb));
  if (c->streaming) {
    cb.on_message_begin = on_begin;
    cb.on_message_data = on_data;
    cb.on_message_end = on_end;
  } else {
    cb.on_message = on_message;
  }
  cb.on_ping = on_control;
  cb.on_pong = on_control;
  cb.on_close = on_close;
  cb.on_violation = on_violation;
  struct ws_decoder_config dc;
  ws_decoder_config_default(&dc, c->role);
  dc.allowed_rsv = c->opt.allowed_rsv;
  dc.max_frame_size = c->opt.max_frame_size;
  ws_decoder_init(&c->shadow, &dc);
  c->shadow_ok = 1;
  fuzz_peer_init(&c->peer, c->role);
  int rc = ws_session_new(&c->s, c->role, &cb, c, &c->opt, &c->fm.mem);
  if (rc == WS_ENOMEM) {
    FUZZ_CHECK(c->enomem_run && c->fm.live == 0);
    c->s = NULL;
  } else {
    FUZZ_CHECK(rc == 0 && c->s != NULL);
    FUZZ_CHECK(ws_session_get_state(c->s) == WS_SESSION_OPEN &&
               ws_session_want_read(c->s) && !ws_session_want_write(c->s));
    if ((cfg[2] >> 6) == 2)
      api_contract(c->s);
  }
}

static void conn_del(struct conn *c) {
  ws_session_del(c->s);
  FUZZ_CHECK(c->fm.live == 0);
  fuzz_peer_free(&c->peer);
  free(c->acc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_reader rd = {data, size};
  uint8_t cfg[4];
  for (int i = 0; i < 4; i++)
    cfg[i] = fz_u8(&rd);
  struct hs h;
  struct conn c;
  int have_conn = 0;
  hs_init(&h, cfg[2] & 3);
  while (rd.n > 0 && h.done >= 0) {
    uint8_t rec = fz_u8(&rd);
    if (rec >= 0xf0) {
      if (!have_conn)
        skip_act(rec, &rd);
      else if (c.s)
        act(&c, rec, &rd);
      continue;
    }
    size_t want = rec ? rec : rd.n, got;
    const uint8_t *p = fz_take(&rd, want, &got);
    if (!have_conn) {
      size_t used = hs_feed(&h, p, got);
      if (h.done <= 0)
        continue;
      conn_new(&c, cfg);
      have_conn = 1;
      p += used;
      got -= used;
      if (!c.s)
        break;
      if (got == 0)
        continue;
    }
    if (c.s)
      receive(&c, p, got);
  }
  if (have_conn) {
    if (c.s)
      finish(&c);
    conn_del(&c);
  }
  free(h.buf);
  return 0;
}

#endif /* WS_FUZZ_SESSION_IMPL_H */
