/*
 * fuzz_session_util.h: the "never emit an invalid frame" oracle shared by
 * the session-level targets.
 *
 * Every byte a session under test returns from ws_session_send is fed to
 * a peer: a second ws_session of the opposite role, with no size limits
 * and no automatic Pong. The peer reporting any violation means the
 * session under test emitted a frame RFC 6455 forbids (wrong masking
 * direction, a bad close code or reason, a fragmented control frame,
 * broken UTF-8 in a TEXT message, a frame after its Close...), and the
 * oracle aborts. The peer also records the Close it received, so targets
 * can check the close code our session sent.
 */
#ifndef WS_FUZZ_SESSION_UTIL_H
#define WS_FUZZ_SESSION_UTIL_H

#include "fuzz_util.h"
#include "ws/ws_close.h"
#include "ws/ws_frame.h"
#include "ws/ws_session.h"

struct fuzz_peer {
  ws_session *s;
  uint64_t seed;   /* the peer's own mask source (client peers) */
  unsigned closes; /* on_close calls: 0 or 1 */
  uint16_t close_code;
  uint64_t messages;
  uint64_t fed; /* bytes received from the session under test */
};

static inline int fuzz_peer_on_violation(ws_session *s,
                                         const struct ws_violation *v,
                                         void *user) {
  const struct fuzz_peer *p = (const struct fuzz_peer *)user;
  (void)s;
  fprintf(stderr,
          "peer rejected the output: %s (%u, section %s) at offset %llu of "
          "%llu\n",
          ws_violation_name(v->id), (unsigned)v->close_code, v->section,
          (unsigned long long)v->offset, (unsigned long long)p->fed);
  FUZZ_CHECK(!"the session emitted a frame its peer must reject");
  return 0;
}

static inline int fuzz_peer_on_close(ws_session *s, uint16_t code,
                                     const uint8_t *reason, size_t len,
                                     void *user) {
  struct fuzz_peer *p = (struct fuzz_peer *)user;
  (void)s;
  (void)reason;
  (void)len;
  p->closes++;
  p->close_code = code;
  return 0;
}

static inline int fuzz_peer_on_message(ws_session *s, enum ws_opcode op,
                                       const uint8_t *data, size_t len,
                                       void *user) {
  struct fuzz_peer *p = (struct fuzz_peer *)user;
  (void)s;
  (void)op;
  (void)data;
  (void)len;
  p->messages++;
  return 0;
}

/* |role| is the role of the session under test; the peer takes the other
 * one. */
static inline void fuzz_peer_init(struct fuzz_peer *p, enum ws_role role) {
  struct ws_session_callbacks cb;
  struct ws_session_options opt;
  memset(&cb, 0, sizeof(cb));
  cb.on_violation = fuzz_peer_on_violation;
  cb.on_close = fuzz_peer_on_close;
  cb.on_message = fuzz_peer_on_message;
  ws_session_options_default(&opt);
  opt.max_message_size = 0;
  opt.auto_pong = 0;
  opt.random = fuzz_random;
  opt.random_user = &p->seed;
  p->seed = 0x5eed5eed5eedull;
  p->closes = 0;
  p->close_code = 0;
  p->messages = 0;
  p->fed = 0;
  p->s = NULL;
  int rc = ws_session_new(
      &p->s, role == WS_ROLE_SERVER ? WS_ROLE_CLIENT : WS_ROLE_SERVER, &cb, p,
      &opt, NULL);
  FUZZ_CHECK(rc == 0 && p->s != NULL);
}

/* Feeds bytes the session under test emitted (the peer unmasks them in
 * place). Nothing may follow the session's Close, so every byte must be
 * consumed. */
static inline void fuzz_peer_feed(struct fuzz_peer *p, uint8_t *b, size_t n) {
  if (n == 0)
    return;
  FUZZ_CHECK(p->closes == 0); /* a byte after our Close */
  ws_ssize r = ws_session_recv(p->s, b, n);
  FUZZ_CHECK(r == (ws_ssize)n);
  p->fed += n;
}

/* Returns the bytes of the peer's own pending output (its Close reply)
 * in a malloc'd block, *n its length. */
static inline uint8_t *fuzz_peer_output(struct fuzz_peer *p, size_t *n) {
  uint8_t *all = NULL;
  size_t len = 0;
  for (;;) {
    const uint8_t *o;
    ws_ssize k = ws_session_send(p->s, &o);
    FUZZ_CHECK(k >= 0);
    if (k == 0)
      break;
    uint8_t *grown = (uint8_t *)realloc(all, len + (size_t)k);
    FUZZ_CHECK(grown != NULL);
    all = grown;
    memcpy(all + len, o, (size_t)k);
    len += (size_t)k;
  }
  *n = len;
  return all;
}

static inline void fuzz_peer_free(struct fuzz_peer *p) {
  ws_session_del(p->s);
  p->s = NULL;
}

/*
 * Drains |s|: every piece ws_session_send returns goes into |log| (may be
 * NULL) and, all pieces together, to |peer| (may be NULL). At most
 * |max_calls| calls (0 = until it returns 0). Returns the last send
 * result (0 when drained, or a negative code; 1 when max_calls ran out).
 */
static inline ws_ssize fuzz_drain(ws_session *s, struct fuzz_peer *peer,
                                  struct fuzz_log *log, unsigned max_calls) {
  uint8_t *all = NULL;
  size_t len = 0, cap = 0;
  ws_ssize n = 1;
  for (unsigned calls = 0; max_calls == 0 || calls < max_calls; calls++) {
    const uint8_t *o = (const uint8_t *)1;
    n = ws_session_send(s, &o);
    if (n <= 0) {
      FUZZ_CHECK(o == NULL);
      if (log)
        fuzz_log_event(log, 'D', (uint64_t)n, 0, 0);
      break;
    }
    FUZZ_CHECK(o != NULL);
    if (log) {
      fuzz_log_event(log, 'S', (uint64_t)n, 0, 0);
      fuzz_log_bytes(log, o, (size_t)n);
    }
    if (peer) {
      if (len + (size_t)n > cap) {
        cap = (len + (size_t)n) * 2;
        uint8_t *grown = (uint8_t *)realloc(all, cap);
        FUZZ_CHECK(grown != NULL);
        all = grown;
      }
      memcpy(all + len, o, (size_t)n);
      len += (size_t)n;
    }
  }
  if (peer)
    fuzz_peer_feed(peer, all, len);
  free(all);
  return n;
}

/* The Close payload a session sends when it fails with |v| (RFC 6455
 * Section 7.1.7): the violation's code. */
static inline int fuzz_violation_consistent(const struct ws_violation *v) {
  struct ws_violation w;
  ws_violation_set(&w, v->id, v->offset);
  return w.close_code == v->close_code && w.section == v->section &&
         w.reason == v->reason && v->id > WS_V_NONE && v->id < WS_V__COUNT &&
         ws_close_code_is_sendable(v->close_code);
}

#endif /* WS_FUZZ_SESSION_UTIL_H */
