/*
 * fuzz_http_util.h: driving ws_http_parse() the way ws_http.h documents
 * it, for the handshake targets.
 *
 * The caller-accumulating model: every call passes all bytes received so
 * far, from the first, possibly at another address. fuzz_http_parse()
 * holds the input in two exact-size blocks and alternates between them
 * call by call (the buffer "moves"), and under ASan keeps poisoned
 * everything the parser must not read in that call: the other block, the
 * bytes not yet received, and the bytes it examined in earlier calls
 * ("never reads a byte it examined in an earlier call"). A parser that
 * kept a pointer, read ahead of |len| or re-read old bytes faults.
 *
 * fuzz_http_same() compares two parses field by field (split invariance,
 * and scanner against scanner); fuzz_http_check_head() checks a complete
 * head against the syntax ws_http.h promises.
 */
#ifndef WS_FUZZ_HTTP_UTIL_H
#define WS_FUZZ_HTTP_UTIL_H

#include "fuzz_util.h"
#include "http/ws_handshake.h"
#include "http/ws_http.h"

#define FUZZ_HTTP_MAX_HEADERS 64
#define FUZZ_HTTP_MAX_CUTS 15

struct fuzz_http {
  struct ws_http_parser p;
  struct ws_http_header h[FUZZ_HTTP_MAX_HEADERS];
  char *buf; /* the block the last call used (p.buf on completion) */
  char *other;
  size_t n;
  int result;
};

/* Cuts as read from the input: a count (low nibble of a byte) and that
 * many lengths. Returns bits 4-5 of the count byte as a scanner level for
 * a second parse (3 = the default, -1). */
struct fuzz_cuts {
  size_t len[FUZZ_HTTP_MAX_CUTS];
  size_t n;
};

static inline int fuzz_cuts_read(struct fuzz_reader *r, struct fuzz_cuts *c) {
  uint8_t b = fz_u8(r);
  c->n = b & 15;
  for (size_t k = 0; k < c->n; k++)
    c->len[k] = fz_u8(r);
  return ((b >> 4) & 3) == 3 ? -1 : (b >> 4) & 3;
}

/*
 * Parses src[0..n) as |kind| with the scanner |level| (ws__http_force_
 * scanner; -1 keeps the default), fed in the chunks |cuts| (NULL: whole).
 * Calls with a length not longer than the previous one must return
 * WS_HTTP_EINVAL (checked once). Leaves everything in |f|; call
 * fuzz_http_free() after.
 */
static inline int fuzz_http_parse(struct fuzz_http *f, enum ws_http_kind kind,
                                  size_t max_headers, size_t max_head,
                                  int level, const uint8_t *src, size_t n,
                                  const struct fuzz_cuts *cuts) {
  FUZZ_CHECK(ws_http_parser_init(&f->p, kind, f->h, max_headers, max_head) ==
             WS_OK);
  if (level >= 0)
    ws__http_force_scanner(&f->p, level);
  f->n = n;
  f->buf = (char *)malloc(n ? n : 1);
  f->other = (char *)malloc(n ? n : 1);
  FUZZ_CHECK(f->buf && f->other);
  if (n) {
    memcpy(f->buf, src, n);
    memcpy(f->other, src, n);
  }
  fuzz_poison(f->buf, n);
  fuzz_poison(f->other, n);
  size_t have = 0, k = 0;
  int r = WS_HTTP_INCOMPLETE;
  for (;;) {
    size_t add = cuts && k < cuts->n ? cuts->len[k] : n - have;
    if (add > n - have)
      add = n - have;
    size_t len = have + add;
    /* Move: use the other block this time. */
    char *t = f->buf;
    f->buf = f->other;
    f->other = t;
    fuzz_poison(f->other, n);
    uint64_t seen = f->p.examined;
    FUZZ_CHECK(seen <= have);
    fuzz_unpoison(f->buf + seen, len - seen);
    r = ws_http_parse(&f->p, f->buf, len);
    FUZZ_CHECK(r == f->p.result);
    /* Nothing examined twice, nothing past |len| (ws_http.h). */
    FUZZ_CHECK(f->p.examined <= len);
    if (r != WS_HTTP_INCOMPLETE)
      break;
    if (len == n && (!cuts || k >= cuts->n))
      break;
    have = len;
    k++;
  }
  if (r != WS_HTTP_INCOMPLETE) {
    /* Further calls return the same result without reading |buf|: all of
     * it poisoned. */
    uint64_t before = f->p.examined;
    fuzz_poison(f->buf, n);
    FUZZ_CHECK(ws_http_parse(&f->p, f->buf, n) == r);
    FUZZ_CHECK(f->p.examined == before && f->p.result == r);
  } else if (have > 0 && f->p.examined > 0) {
    /* A shorter buffer than last time is refused, state unchanged. */
    uint64_t before = f->p.examined;
    FUZZ_CHECK(ws_http_parse(&f->p, f->buf, (size_t)f->p.examined - 1) ==
               WS_HTTP_EINVAL);
    FUZZ_CHECK(f->p.examined == before && f->p.result == WS_HTTP_INCOMPLETE);
  }
  fuzz_unpoison(f->buf, n);
  fuzz_unpoison(f->other, n);
  f->result = r;
  return r;
}

static inline void fuzz_http_free(struct fuzz_http *f) {
  free(f->buf);
  free(f->other);
}

static inline int fuzz_span_same(const struct ws_http_span *a,
                                 const struct ws_http_span *b) {
  return a->off == b->off && a->len == b->len;
}

/* Two parses of the same bytes agree on everything observable. */
static inline void fuzz_http_same(const struct fuzz_http *a,
                                  const struct fuzz_http *b) {
  const struct ws_http_parser *p = &a->p, *q = &b->p;
  FUZZ_CHECK(a->result == b->result);
  if (a->result == WS_HTTP_INCOMPLETE)
    return;
  if (a->result != WS_HTTP_COMPLETE) {
    FUZZ_CHECK(p->error == q->error && p->error_offset == q->error_offset);
    return;
  }
  FUZZ_CHECK(p->head_len == q->head_len && p->num_headers == q->num_headers);
  FUZZ_CHECK(p->status == q->status && p->http_minor == q->http_minor);
  FUZZ_CHECK(fuzz_span_same(&p->method, &q->method) &&
             fuzz_span_same(&p->target, &q->target) &&
             fuzz_span_same(&p->reason, &q->reason));
  for (uint32_t k = 0; k < p->num_headers; k++)
    FUZZ_CHECK(fuzz_span_same(&p->headers[k].name, &q->headers[k].name) &&
               fuzz_span_same(&p->headers[k].value, &q->headers[k].value));
}

static inline int fuzz_is_ows(char c) { return c == ' ' || c == '\t'; }

/* A span's pointer and bounds after completion. */
static inline void fuzz_span_ok(const struct ws_http_parser *p,
                                const struct ws_http_span *s) {
  FUZZ_CHECK(s->ptr == p->buf + s->off);
  FUZZ_CHECK((uint64_t)s->off + s->len <= p->head_len);
}

/*
 * A complete head holds what ws_http.h promises: start line parts of
 * the right classes, CRLF CRLF at the end, token names followed by a
 * colon, values without surrounding OWS or control bytes, and
 * ws_http_find agreeing with the array.
 */
FUZZ_NOCOV static inline void fuzz_http_check_head(const struct fuzz_http *f) {
  const struct ws_http_parser *p = &f->p;
  const char *b = p->buf;
  FUZZ_CHECK(b == f->buf && p->head_len >= 4 && p->head_len <= f->n);
  FUZZ_CHECK(p->head_len <= p->max_head);
  FUZZ_CHECK(memcmp(b + p->head_len - 4, "\r\n\r\n", 4) == 0);
  FUZZ_CHECK(p->num_headers <= p->max_headers);
  if (p->kind == WS_HTTP_REQUEST) {
    fuzz_span_ok(p, &p->method);
    fuzz_span_ok(p, &p->target);
    FUZZ_CHECK(ws_http_is_token(p->method.ptr, p->method.len));
    FUZZ_CHECK(p->method.off == 0 && p->target.len > 0);
    for (uint32_t i = 0; i < p->target.len; i++)
      FUZZ_CHECK(p->target.ptr[i] > 0x20 && p->target.ptr[i] < 0x7f);
  } else {
    fuzz_span_ok(p, &p->reason);
    FUZZ_CHECK(p->status >= 100 && p->status <= 999);
    FUZZ_CHECK(memcmp(b, "HTTP/1.", 7) == 0 && b[8] == ' ');
  }
  for (uint32_t k = 0; k < p->num_headers; k++) {
    const struct ws_http_header *h = &p->headers[k];
    fuzz_span_ok(p, &h->name);
    fuzz_span_ok(p, &h->value);
    FUZZ_CHECK(ws_http_is_token(h->name.ptr, h->name.len));
    FUZZ_CHECK(b[h->name.off + h->name.len] == ':');
    FUZZ_CHECK(h->value.off > h->name.off + h->name.len);
    for (uint32_t i = 0; i < h->value.len; i++) {
      unsigned char c = (unsigned char)h->value.ptr[i];
      FUZZ_CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
    }
    if (h->value.len)
      FUZZ_CHECK(!fuzz_is_ows(h->value.ptr[0]) &&
                 !fuzz_is_ows(h->value.ptr[h->value.len - 1]));
    /* Everything between the colon and the value is OWS. */
    for (uint32_t i = h->name.off + h->name.len + 1; i < h->value.off; i++)
      FUZZ_CHECK(fuzz_is_ows(b[i]));
    if (k < 8) {
      long first = ws_http_find(p, h->name.ptr, h->name.len, 0);
      FUZZ_CHECK(first >= 0 && (uint32_t)first <= k);
      FUZZ_CHECK(ws_http_find(p, h->name.ptr, h->name.len, k) == (long)k);
    }
  }
}

/* ------------------------------------------------------------ clients */

/*
 * Four fixed client option sets, each with a fixed nonce, so inputs can
 * carry the matching Sec-WebSocket-Accept (fuzz/make_seeds.py computes
 * it). The nonce of set v is "the sample nonce" for v = 0 (RFC 6455
 * Section 1.3: key dGhlIHNhbXBsZSBub25jZQ==, accept
 * s3pPLMBiTxaQ9kYGzzhZRbK+xOo=), else "wsspec fuzz key" + digit v.
 */
struct fuzz_option_set {
  struct ws_client_options opt;
  const char *nonce;
};

static const char *const fuzz_protos1[] = {"chat", "superchat"};
static const char *const fuzz_exts1[] = {
    "permessage-deflate; client_max_window_bits", "x-test"};
static const char *const fuzz_hdrs2[] = {"X-A: 1", "Cookie: a=b; c=d",
                                         "X-Empty:"};
static const char *const fuzz_protos3[] = {"v1.json"};
static const char *const fuzz_exts3[] = {"x-a, x-b; p=\"q\""};

static inline void fuzz_option_set(unsigned v, struct fuzz_option_set *s) {
  memset(s, 0, sizeof(*s));
  switch (v) {
  case 0:
    s->opt.host = "example.com";
    s->nonce = "the sample nonce";
    break;
  case 1:
    s->opt.host = "example.com";
    s->opt.port = 8080;
    s->opt.path = "/chat?x=1";
    s->opt.origin = "http://example.com";
    s->opt.protocols = fuzz_protos1;
    s->opt.num_protocols = 2;
    s->opt.extensions = fuzz_exts1;
    s->opt.num_extensions = 2;
    s->nonce = "wsspec fuzz key1";
    break;
  case 2:
    s->opt.host = "::1";
    s->opt.secure = 1;
    s->opt.port = 443;
    s->opt.headers = fuzz_hdrs2;
    s->opt.num_headers = 3;
    s->nonce = "wsspec fuzz key2";
    break;
  default:
    s->opt.host = "127.0.0.1";
    s->opt.port = 80;
    s->opt.protocols = fuzz_protos3;
    s->opt.num_protocols = 1;
    s->opt.extensions = fuzz_exts3;
    s->opt.num_extensions = 1;
    s->nonce = "wsspec fuzz key3";
    break;
  }
}

/* ws_random_fn returning a fixed 16-byte nonce; |user| points to it. */
static inline int fuzz_nonce_random(uint8_t *buf, size_t len, void *user) {
  FUZZ_CHECK(len == 16);
  memcpy(buf, user, 16);
  return 0;
}

#endif /* WS_FUZZ_HTTP_UTIL_H */
