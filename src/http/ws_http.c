/*
 * ws_http.c: the incremental HTTP/1.1 head parser (see ws_http.h).
 *
 * One function per state; each scans as far as its token goes and either
 * moves to the next state or stops at the end of the input with enough
 * saved (offsets, a sub-index) to resume on the next byte. Nothing is ever
 * re-scanned, so the total work is linear in the head size however the
 * bytes arrive.
 *
 * Speed: a class table gives one load and test per byte on the slow paths.
 * On x86 the usual case, a whole field line in view, goes through
 * line_fast(), which finds the colon, the CR and any refused byte of a
 * 16- or 32-byte block at once: a browser's head is a dozen short lines,
 * and what costs is the mispredicted loop exit at the end of each token,
 * not the bytes. The state machine is compiled three times (bytewise,
 * SSE2, AVX2, chosen per parser at init) so each copy runs in one ISA.
 */
#include "ws_http.h"

#include <string.h>

#if defined(__x86_64__) || (defined(__i386__) && defined(__SSE2__))
#include <immintrin.h>
#define WS_HAVE_X86 1
#endif

/* Bit meanings in ws_http.h; generated from the RFC 7230 / 3986 / 4648
 * character sets. */
const uint8_t ws__http_class[256] = {
    /* 00 */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* 08 */ 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* 10 */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* 18 */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* 20 */ 0x02, 0x0f, 0x06, 0x07, 0x0f, 0x07, 0x0f, 0x0f,
    /* 28 */ 0x0e, 0x0e, 0x0f, 0x1f, 0x0e, 0x0f, 0x0f, 0x1e,
    /* 30 */ 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f,
    /* 38 */ 0x1f, 0x1f, 0x0e, 0x0e, 0x06, 0x0e, 0x06, 0x0e,
    /* 40 */ 0x0e, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f,
    /* 48 */ 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f,
    /* 50 */ 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f,
    /* 58 */ 0x1f, 0x1f, 0x1f, 0x06, 0x06, 0x06, 0x07, 0x0f,
    /* 60 */ 0x07, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f,
    /* 68 */ 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f,
    /* 70 */ 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f,
    /* 78 */ 0x1f, 0x1f, 0x1f, 0x06, 0x07, 0x06, 0x0f, 0x00,
    /* 80 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    /* 88 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    /* 90 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    /* 98 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    /* a0 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    /* a8 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    /* b0 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    /* b8 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    /* c0 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    /* c8 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    /* d0 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    /* d8 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    /* e0 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    /* e8 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    /* f0 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    /* f8 */ 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
};

#define CLS(c) (ws__http_class[(uint8_t)(c)])

enum state {
  S_METHOD,      /* request: method token, then SP */
  S_TARGET,      /* request: request-target, then SP */
  S_VERSION,     /* request: "HTTP/1." DIGIT CR; sub = index */
  S_RVERSION,    /* response: "HTTP/1." DIGIT SP; sub = index */
  S_STATUS,      /* response: 3 DIGIT SP; sub = index */
  S_REASON,      /* response: reason phrase, then CR */
  S_LINE_LF,     /* LF after the start line's CR */
  S_FIELD_START, /* a field line or the empty line ending the head */
  S_NAME,        /* field name, then ':' */
  S_OWS,         /* OWS before the value */
  S_VALUE,       /* field value, then CR */
  S_FIELD_LF,    /* LF after a field line's CR */
  S_END_LF,      /* LF after the final empty line's CR */
  S_DONE,
  S_ERROR
};

static const struct {
  const char *name;
  uint16_t rfc;
  const char *section;
  const char *reason;
} errors[WS_HTTP_ERR__COUNT] = {
    [WS_HTTP_ERR_NONE] = {"NONE", 0, "", "no error"},
    [WS_HTTP_ERR_METHOD] = {"METHOD", 7230, "3.1.1", "method is not a token"},
    [WS_HTTP_ERR_TARGET] = {"TARGET", 7230, "5.3",
                            "request-target empty or not visible ASCII"},
    [WS_HTTP_ERR_VERSION] = {"VERSION", 7230, "2.6",
                             "HTTP-version is not HTTP/1.x"},
    [WS_HTTP_ERR_STATUS] = {"STATUS", 7230, "3.1.2",
                            "status code is not three digits"},
    [WS_HTTP_ERR_REASON] = {"REASON", 7230, "3.1.2",
                            "control character in the reason phrase"},
    [WS_HTTP_ERR_BARE_LF] = {"BARE_LF", 7230, "3",
                             "line ends with LF instead of CRLF"},
    [WS_HTTP_ERR_LF_EXPECTED] = {"LF_EXPECTED", 7230, "3",
                                 "CR not followed by LF"},
    [WS_HTTP_ERR_HEADER_NAME] = {"HEADER_NAME", 7230, "3.2",
                                 "field name is not a token or has no colon"},
    [WS_HTTP_ERR_SPACE_BEFORE_COLON] = {"SPACE_BEFORE_COLON", 7230, "3.2.4",
                                        "whitespace between field name and "
                                        "colon"},
    [WS_HTTP_ERR_OBS_FOLD] = {"OBS_FOLD", 7230, "3.2.4",
                              "line folding (obs-fold) or leading "
                              "whitespace"},
    [WS_HTTP_ERR_VALUE_CTL] = {"VALUE_CTL", 7230, "3.2",
                               "control character in a field value"},
    [WS_HTTP_ERR_HEAD_TOO_LARGE] = {"HEAD_TOO_LARGE", 6585, "5",
                                    "head larger than the limit"},
    [WS_HTTP_ERR_TOO_MANY_HEADERS] = {"TOO_MANY_HEADERS", 6585, "5",
                                      "more header fields than the limit"},
};

const char *ws_http_error_name(enum ws_http_error e) {
  return (unsigned)e < WS_HTTP_ERR__COUNT ? errors[e].name : "UNKNOWN";
}

unsigned ws_http_error_rfc(enum ws_http_error e) {
  return (unsigned)e < WS_HTTP_ERR__COUNT ? errors[e].rfc : 0;
}

const char *ws_http_error_section(enum ws_http_error e) {
  return (unsigned)e < WS_HTTP_ERR__COUNT ? errors[e].section : "";
}

const char *ws_http_error_reason(enum ws_http_error e) {
  return (unsigned)e < WS_HTTP_ERR__COUNT ? errors[e].reason : "unknown";
}

static int best_scanner(void) {
#ifdef WS_HAVE_X86
  return __builtin_cpu_supports("avx2") ? 2 : 1;
#else
  return 0;
#endif
}

void ws__http_force_scanner(struct ws_http_parser *p, int level) {
  int best = best_scanner();
  p->simd = (uint8_t)(level < 0 ? 0 : level > best ? best : level);
}

int ws_http_parser_init(struct ws_http_parser *p, enum ws_http_kind kind,
                        struct ws_http_header *headers, size_t max_headers,
                        size_t max_head) {
  if (!p || (kind != WS_HTTP_REQUEST && kind != WS_HTTP_RESPONSE) ||
      (!headers && max_headers) || max_head > WS_HTTP_MAX_HEAD_LIMIT)
    return WS_EINVAL;
  /* Field by field: a memset of the whole struct is a slow "rep stos"
   * at this size and the parser is set up once per connection. */
  static const struct ws_http_span none = {NULL, 0, 0};
  p->kind = kind;
  p->method = p->target = p->reason = none;
  p->status = 0;
  p->http_minor = 0;
  p->num_headers = 0;
  p->head_len = 0;
  p->buf = NULL;
  p->error = WS_HTTP_ERR_NONE;
  p->error_offset = 0;
  p->examined = 0;
  p->pos = p->mark = p->value_end = p->call_start = 0;
  p->sub = 0;
  p->result = WS_HTTP_INCOMPLETE;
  p->headers = headers;
  /* More fields than bytes is impossible (each takes >= 4). */
  p->max_headers = max_headers > WS_HTTP_MAX_HEAD_LIMIT
                       ? WS_HTTP_MAX_HEAD_LIMIT
                       : (uint32_t)max_headers;
  p->max_head = max_head ? (uint32_t)max_head : WS_HTTP_DEFAULT_MAX_HEAD;
  p->state = kind == WS_HTTP_REQUEST ? S_METHOD : S_RVERSION;
  p->simd = (uint8_t)best_scanner();
  return WS_OK;
}

/* State functions and scanners are inlined into one run loop per scanner
 * level (run_bytes, run_sse2, run_avx2), each compiled for its own ISA. */
#define INLINE static inline

/* Records an error; the offending byte is s[at]. Returns |at| so state
 * functions can `return fail(...)`. */
static size_t fail(struct ws_http_parser *p, int result,
                   enum ws_http_error e, size_t at) {
  p->state = S_ERROR;
  p->result = result;
  p->error = e;
  p->error_offset = (uint32_t)at;
  return at;
}

INLINE void span_set(struct ws_http_span *sp, size_t off, size_t end) {
  sp->off = (uint32_t)off;
  sp->len = (uint32_t)(end - off);
}

/* ---- scanners ----
 *
 * scan_value: index of the first byte in [i, end) not allowed in a field
 * value (CR, LF, another control byte or DEL), or |end|.
 * scan_name: index of the first byte in [i, end) that is not tchar, or
 * |end|.
 *
 * The vector paths test a whole block at once, so a short token costs one
 * well-predicted branch instead of a loop exit per token; a vector load is
 * only issued when the whole block lies inside [i, end). */

INLINE size_t value_bytes(const uint8_t *s, size_t i, size_t end) {
  while (end - i >= 4) {
    if (!(CLS(s[i]) & WS__HTTP_VALUE))
      return i;
    if (!(CLS(s[i + 1]) & WS__HTTP_VALUE))
      return i + 1;
    if (!(CLS(s[i + 2]) & WS__HTTP_VALUE))
      return i + 2;
    if (!(CLS(s[i + 3]) & WS__HTTP_VALUE))
      return i + 3;
    i += 4;
  }
  while (i < end && (CLS(s[i]) & WS__HTTP_VALUE))
    i++;
  return i;
}

INLINE size_t name_bytes(const uint8_t *s, size_t i, size_t end) {
  while (end - i >= 4 && (CLS(s[i]) & CLS(s[i + 1]) & CLS(s[i + 2]) &
                          CLS(s[i + 3]) & WS__HTTP_TCHAR))
    i += 4;
  while (i < end && (CLS(s[i]) & WS__HTTP_TCHAR))
    i++;
  return i;
}

#ifdef WS_HAVE_X86
#define LOAD16(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define LOAD32(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))

/* Bytes refused in a value: <= 0x1f except HTAB, and DEL. Unsigned
 * "v <= 0x1f" is min(v, 0x1f) == v; obs-text (>= 0x80) passes. */
INLINE unsigned value_mask16(__m128i v) {
  __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
  ctl = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x09)), ctl);
  ctl = _mm_or_si128(ctl, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
  return (unsigned)_mm_movemask_epi8(ctl);
}

/* Bytes outside [A-Za-z0-9-], the characters of nearly every field name;
 * a rarer tchar is then checked against the table. (v | 0x20) - 'a' <= 25
 * holds exactly for ASCII letters. */
INLINE unsigned name_mask16(__m128i v) {
  __m128i a = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)),
                           _mm_set1_epi8('a'));
  __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
  __m128i ok = _mm_cmpeq_epi8(_mm_min_epu8(a, _mm_set1_epi8(25)), a);
  ok = _mm_or_si128(ok, _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
  ok = _mm_or_si128(ok, _mm_cmpeq_epi8(v, _mm_set1_epi8('-')));
  return (unsigned)_mm_movemask_epi8(ok) ^ 0xffffu;
}

INLINE size_t value_sse2(const uint8_t *s, size_t i, size_t end) {
  while (end - i >= 16) {
    unsigned m = value_mask16(LOAD16(s + i));
    if (m)
      return i + (size_t)__builtin_ctz(m);
    i += 16;
  }
  return value_bytes(s, i, end);
}

/* After a block stops at a byte outside [A-Za-z0-9-], that byte may still
 * be a tchar such as '_' or '.': step over it and go on. */
INLINE size_t name_sse2(const uint8_t *s, size_t i, size_t end) {
  while (end - i >= 16) {
    unsigned m = name_mask16(LOAD16(s + i));
    if (!m) {
      i += 16;
      continue;
    }
    i += (size_t)__builtin_ctz(m);
    if (!(CLS(s[i]) & WS__HTTP_TCHAR))
      return i;
    i++;
  }
  return name_bytes(s, i, end);
}

__attribute__((target("avx2"))) static size_t
value_avx2(const uint8_t *s, size_t i, size_t end) {
  while (end - i >= 32) {
    __m256i v = LOAD32(s + i);
    __m256i ctl =
        _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
    ctl = _mm256_andnot_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x09)),
                              ctl);
    ctl = _mm256_or_si256(ctl, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7f)));
    unsigned m = (unsigned)_mm256_movemask_epi8(ctl);
    if (m)
      return i + (size_t)__builtin_ctz(m);
    i += 32;
  }
  return value_sse2(s, i, end);
}

__attribute__((target("avx2"))) static size_t
name_avx2(const uint8_t *s, size_t i, size_t end) {
  while (end - i >= 32) {
    __m256i v = LOAD32(s + i);
    __m256i a = _mm256_sub_epi8(_mm256_or_si256(v, _mm256_set1_epi8(0x20)),
                                _mm256_set1_epi8('a'));
    __m256i d = _mm256_sub_epi8(v, _mm256_set1_epi8('0'));
    __m256i ok =
        _mm256_cmpeq_epi8(_mm256_min_epu8(a, _mm256_set1_epi8(25)), a);
    ok = _mm256_or_si256(
        ok, _mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(9)), d));
    ok = _mm256_or_si256(ok, _mm256_cmpeq_epi8(v, _mm256_set1_epi8('-')));
    unsigned m = ~(unsigned)_mm256_movemask_epi8(ok);
    if (!m) {
      i += 32;
      continue;
    }
    i += (size_t)__builtin_ctz(m);
    if (!(CLS(s[i]) & WS__HTTP_TCHAR))
      return i;
    i++;
  }
  return name_sse2(s, i, end);
}
#endif

/* |level| is a constant in each run_* copy, so these fold to one path. */
INLINE size_t scan_value(int level, const uint8_t *s, size_t i, size_t end) {
#ifdef WS_HAVE_X86
  if (level == 2)
    return value_avx2(s, i, end);
  if (level == 1)
    return value_sse2(s, i, end);
#endif
  (void)level;
  return value_bytes(s, i, end);
}

INLINE size_t scan_name(int level, const uint8_t *s, size_t i, size_t end) {
#ifdef WS_HAVE_X86
  if (level == 2)
    return name_avx2(s, i, end);
  if (level == 1)
    return name_sse2(s, i, end);
#endif
  (void)level;
  return name_bytes(s, i, end);
}

/* Moves p->value_end past the last non-OWS byte in [lo, hi), scanning
 * backwards from |hi|. Only bytes examined in this call are looked at. */
INLINE void note_value_end(struct ws_http_parser *p, const uint8_t *s,
                           size_t lo, size_t hi) {
  while (hi > lo && (s[hi - 1] == ' ' || s[hi - 1] == '\t'))
    hi--;
  if (hi > lo)
    p->value_end = (uint32_t)hi;
}

/* ---- one function per state; each returns the next position ---- */

INLINE size_t st_method(struct ws_http_parser *p, const uint8_t *s, size_t i,
                        size_t end) {
  i = name_bytes(s, i, end);
  if (i == end)
    return i;
  if (s[i] != ' ' || i == p->mark)
    return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_METHOD, i);
  span_set(&p->method, p->mark, i);
  p->mark = (uint32_t)(i + 1);
  p->state = S_TARGET;
  return i + 1;
}

INLINE size_t st_target(struct ws_http_parser *p, const uint8_t *s, size_t i,
                        size_t end) {
  while (i < end && (CLS(s[i]) & WS__HTTP_VCHAR))
    i++;
  if (i == end)
    return i;
  if (s[i] != ' ' || i == p->mark)
    return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_TARGET, i);
  span_set(&p->target, p->mark, i);
  p->state = S_VERSION;
  p->sub = 0;
  return i + 1;
}

/* "HTTP/1." DIGIT then |term| (CR in a request line, SP in a status
 * line), one byte at a time with p->sub as the index. RFC 7230 Section
 * 2.6: HTTP-name is case-sensitive; only major version 1 is accepted.
 * Sets *done when |term| has been consumed. */
static size_t version_bytes(struct ws_http_parser *p, const uint8_t *s,
                            size_t i, size_t end, uint8_t term, int *done) {
  static const char lit[] = "HTTP/1.";
  /* All nine bytes in view, the usual case: one compare. */
  if (p->sub == 0 && end - i >= 9 && memcmp(s + i, lit, 7) == 0 &&
      s[i + 7] - (unsigned)'0' < 10u && s[i + 8] == term) {
    p->http_minor = (uint8_t)(s[i + 7] - '0');
    p->sub = 8;
    *done = 1;
    return i + 9;
  }
  for (; i < end; i++) {
    uint8_t c = s[i];
    if (p->sub < 7) {
      if (c != (uint8_t)lit[p->sub])
        return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_VERSION, i);
    } else if (p->sub == 7) {
      if (c < '0' || c > '9')
        return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_VERSION, i);
      p->http_minor = (uint8_t)(c - '0');
    } else {
      if (c == term) {
        *done = 1;
        return i + 1;
      }
      if (term == '\r' && c == '\n')
        return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_BARE_LF, i);
      return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_VERSION, i);
    }
    p->sub++;
  }
  return i;
}

INLINE size_t st_version(struct ws_http_parser *p, const uint8_t *s,
                         size_t i, size_t end) {
  int done = 0;
  i = version_bytes(p, s, i, end, '\r', &done);
  if (done)
    p->state = S_LINE_LF;
  return i;
}

INLINE size_t st_rversion(struct ws_http_parser *p, const uint8_t *s,
                          size_t i, size_t end) {
  int done = 0;
  i = version_bytes(p, s, i, end, ' ', &done);
  if (done) {
    p->state = S_STATUS;
    p->sub = 0;
  }
  return i;
}

/* RFC 7230 Section 3.1.2: status-code = 3DIGIT (100-999), then SP. */
static size_t st_status(struct ws_http_parser *p, const uint8_t *s, size_t i,
                        size_t end) {
  for (; i < end; i++) {
    uint8_t c = s[i];
    if (p->sub < 3) {
      if (c < (p->sub == 0 ? '1' : '0') || c > '9')
        return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_STATUS, i);
      p->status = (uint16_t)(p->status * 10 + (c - '0'));
      p->sub++;
      continue;
    }
    if (c != ' ')
      return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_STATUS, i);
    p->mark = (uint32_t)(i + 1);
    p->state = S_REASON;
    return i + 1;
  }
  return i;
}

INLINE size_t st_reason(struct ws_http_parser *p, const uint8_t *s, size_t i,
                        size_t end, int level) {
  i = scan_value(level, s, i, end);
  if (i == end)
    return i;
  if (s[i] == '\n')
    return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_BARE_LF, i);
  if (s[i] != '\r')
    return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_REASON, i);
  span_set(&p->reason, p->mark, i);
  p->state = S_LINE_LF;
  return i + 1;
}

INLINE size_t st_lf(struct ws_http_parser *p, const uint8_t *s, size_t i,
                    uint8_t next) {
  if (s[i] != '\n')
    return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_LF_EXPECTED, i);
  p->state = next;
  return i + 1;
}

INLINE size_t st_name(struct ws_http_parser *p, const uint8_t *s, size_t i,
                      size_t end, int level) {
  i = scan_name(level, s, i, end);
  if (i == end)
    return i;
  if (s[i] == ':') {
    span_set(&p->headers[p->num_headers].name, p->mark, i);
    p->state = S_OWS;
    return i + 1;
  }
  /* RFC 7230 Section 3.2.4: no whitespace between field name and colon;
   * a server MUST reject the message with 400 (the caller answers). */
  if (s[i] == ' ' || s[i] == '\t')
    return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_SPACE_BEFORE_COLON, i);
  return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_HEADER_NAME, i);
}

INLINE size_t st_ows(struct ws_http_parser *p, const uint8_t *s, size_t i,
                     size_t end) {
  while (i < end && (s[i] == ' ' || s[i] == '\t'))
    i++;
  if (i == end)
    return i;
  p->mark = (uint32_t)i;
  p->value_end = (uint32_t)i;
  p->state = S_VALUE;
  return i;
}

INLINE size_t st_value(struct ws_http_parser *p, const uint8_t *s, size_t i,
                       size_t end, int level) {
  size_t lo = p->call_start > p->mark ? p->call_start : p->mark;
  i = scan_value(level, s, i, end);
  note_value_end(p, s, lo, i);
  if (i == end)
    return i;
  if (s[i] == '\n')
    return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_BARE_LF, i);
  if (s[i] != '\r')
    return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_VALUE_CTL, i);
  span_set(&p->headers[p->num_headers].value, p->mark, p->value_end);
  p->num_headers++;
  p->state = S_FIELD_LF;
  return i + 1;
}

/* Refuses a byte that cannot start a field line; returns 1 when an error
 * was recorded. */
static int bad_line_start(struct ws_http_parser *p, uint8_t c, size_t i) {
  enum ws_http_error e = WS_HTTP_ERR_HEADER_NAME;
  if (c == '\n')
    e = WS_HTTP_ERR_BARE_LF;
  /* RFC 7230 Section 3.2.4: obs-fold is rejected, and so is whitespace
   * between the start line and the first field (Section 3). */
  else if (c == ' ' || c == '\t')
    e = WS_HTTP_ERR_OBS_FOLD;
  else if (CLS(c) & WS__HTTP_TCHAR) {
    if (p->num_headers < p->max_headers)
      return 0;
    fail(p, WS_HTTP_ETOO_MANY_HEADERS, WS_HTTP_ERR_TOO_MANY_HEADERS, i);
    return 1;
  }
  fail(p, WS_HTTP_EMALFORMED, e, i);
  return 1;
}

#ifdef WS_HAVE_X86
/* What the line scanner needs to know of one block: CRs, refused value
 * bytes (CR included), colons, and bytes outside [A-Za-z0-9-]. */
struct masks {
  uint32_t cr, ctl, colon, odd;
};

INLINE struct masks masks16(const uint8_t *b) {
  __m128i v = LOAD16(b);
  struct masks m;
  m.cr = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')));
  m.ctl = value_mask16(v);
  m.colon = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(':')));
  m.odd = name_mask16(v);
  return m;
}

__attribute__((target("avx2"))) static struct masks
masks32(const uint8_t *b) {
  __m256i v = LOAD32(b);
  struct masks m;
  __m256i ctl =
      _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
  ctl = _mm256_andnot_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x09)),
                            ctl);
  ctl = _mm256_or_si256(ctl, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7f)));
  m.cr = (uint32_t)_mm256_movemask_epi8(
      _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\r')));
  m.ctl = (uint32_t)_mm256_movemask_epi8(ctl);
  m.colon = (uint32_t)_mm256_movemask_epi8(
      _mm256_cmpeq_epi8(v, _mm256_set1_epi8(':')));
  __m256i a = _mm256_sub_epi8(_mm256_or_si256(v, _mm256_set1_epi8(0x20)),
                              _mm256_set1_epi8('a'));
  __m256i d = _mm256_sub_epi8(v, _mm256_set1_epi8('0'));
  __m256i ok = _mm256_cmpeq_epi8(_mm256_min_epu8(a, _mm256_set1_epi8(25)), a);
  ok = _mm256_or_si256(
      ok, _mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(9)), d));
  ok = _mm256_or_si256(ok, _mm256_cmpeq_epi8(v, _mm256_set1_epi8('-')));
  m.odd = ~(uint32_t)_mm256_movemask_epi8(ok);
  return m;
}

/* The masks of the block at j, lanes outside [j, end) cleared. Near |end|
 * the block is moved back to end - w so it never reads past |end|; the
 * lanes before j (bytes of this line, already checked) are cleared. Sets
 * *last for that final block; returns 0 when no byte is left. */
INLINE int block(const uint8_t *s, size_t j, size_t end, int level,
                 struct masks *m, size_t *base, int *last) {
  const size_t w = level == 2 ? 32 : 16;
  const uint32_t all = level == 2 ? 0xffffffffu : 0xffffu;
  uint32_t valid = all;
  if (j == end)
    return 0;
  *base = j;
  *last = 0;
  if (end - j < w) {
    *base = end - w;
    valid = all << (j - *base) & all;
    *last = 1;
  }
  *m = level == 2 ? masks32(s + *base) : masks16(s + *base);
  m->cr &= valid;
  m->ctl &= valid;
  m->colon &= valid;
  m->odd &= valid;
  return 1;
}

/*
 * One whole field line from s[i] (a tchar), a block at a time: the first
 * colon ends the name, whose bytes must all be [A-Za-z0-9-], and the first
 * CR ends the value, with no other refused byte before it. A line costs
 * one loop exit instead of one per token, and the next line's start
 * depends only on the short CR compare: the other tests are branches the
 * CPU predicts and checks in parallel.
 *
 * Returns the position after the line's CRLF, or 0 when the line is not
 * wholly in view or is in any way unusual (another tchar in the name, an
 * error): the per-state path then takes the line from s[i].
 */
INLINE size_t line_fast(struct ws_http_parser *p, const uint8_t *s,
                        size_t i, size_t end, int level) {
  const size_t w = level == 2 ? 32 : 16;
  size_t j = i, base, colon, c;
  struct masks m;
  int last;
  if (end - i < w)
    return 0;
  for (;;) { /* the name */
    if (!block(s, j, end, level, &m, &base, &last))
      return 0;
    uint32_t before = m.colon ? (m.colon & (0u - m.colon)) - 1 : ~0u;
    if (m.odd & before)
      return 0;
    if (m.colon) {
      colon = base + (size_t)__builtin_ctz(m.colon);
      m.cr &= ~before;
      m.ctl &= ~before;
      break;
    }
    if (last)
      return 0;
    j += w;
  }
  if (m.cr) { /* the value ends in the colon's block */
    uint32_t lane = (uint32_t)__builtin_ctz(m.cr);
    if (m.ctl & ((1u << lane) - 1u))
      return 0;
    c = base + lane;
  } else { /* a longer value: the plain scanner's tight loop */
    if (m.ctl || last)
      return 0;
    c = scan_value(level, s, base + w, end);
    if (c == end || s[c] != '\r')
      return 0;
  }
  if (c + 1 >= end || s[c + 1] != '\n')
    return 0;
  struct ws_http_header *hd = &p->headers[p->num_headers++];
  span_set(&hd->name, i, colon);
  size_t v0 = colon + 1, v1 = c;
  while (v0 < v1 && (s[v0] == ' ' || s[v0] == '\t'))
    v0++;
  while (v1 > v0 && (s[v1 - 1] == ' ' || s[v1 - 1] == '\t'))
    v1--;
  span_set(&hd->value, v0, v1);
  return c + 2;
}
#endif

/*
 * S_FIELD_START, and the fast path through whole field lines: the position
 * stays in a register and the per-state work is fused. When the input ends
 * inside a line, the per-state function for the spot reached takes over
 * and leaves the state it would have left, so the next call resumes there.
 */
INLINE size_t st_fields(struct ws_http_parser *p, const uint8_t *s, size_t i,
                        size_t end, int level) {
  while (i < end) {
    size_t start = i;
    if (s[i] == '\r') {
      p->state = S_END_LF;
      return i + 1;
    }
    if (bad_line_start(p, s[i], i))
      return i;
#ifdef WS_HAVE_X86
    if (level >= 1) {
      size_t n = line_fast(p, s, i, end, level);
      if (n) {
        i = n;
        continue;
      }
    }
#endif
    p->mark = (uint32_t)start;
    p->state = S_NAME;
    i = scan_name(level, s, i + 1, end);
    if (i == end || s[i] != ':')
      return st_name(p, s, i, end, level);
    struct ws_http_header *hd = &p->headers[p->num_headers];
    span_set(&hd->name, start, i);
    i++;
    while (i < end && (s[i] == ' ' || s[i] == '\t'))
      i++;
    size_t vstart = i;
    p->state = S_OWS;
    if (i == end)
      return i;
    i = scan_value(level, s, i, end);
    if (i == end || s[i] != '\r') {
      p->mark = (uint32_t)vstart;
      p->value_end = (uint32_t)vstart;
      p->state = S_VALUE;
      return st_value(p, s, i, end, level);
    }
    size_t vend = i;
    while (vend > vstart && (s[vend - 1] == ' ' || s[vend - 1] == '\t'))
      vend--;
    span_set(&hd->value, vstart, vend);
    p->num_headers++;
    p->state = S_FIELD_LF;
    if (++i == end)
      return i;
    if (s[i] != '\n')
      return fail(p, WS_HTTP_EMALFORMED, WS_HTTP_ERR_LF_EXPECTED, i);
    p->state = S_FIELD_START;
    i++;
  }
  return i;
}

/* Runs the states over s[i..end) until the input, the head or the parse
 * ends; returns the position reached. */
INLINE size_t run(struct ws_http_parser *p, const uint8_t *s, size_t i,
                  size_t end, int level) {
  while (i < end) {
    switch (p->state) {
    case S_METHOD: i = st_method(p, s, i, end); break;
    case S_TARGET: i = st_target(p, s, i, end); break;
    case S_VERSION: i = st_version(p, s, i, end); break;
    case S_RVERSION: i = st_rversion(p, s, i, end); break;
    case S_STATUS: i = st_status(p, s, i, end); break;
    case S_REASON: i = st_reason(p, s, i, end, level); break;
    case S_LINE_LF: i = st_lf(p, s, i, S_FIELD_START); break;
    case S_FIELD_START: i = st_fields(p, s, i, end, level); break;
    case S_NAME: i = st_name(p, s, i, end, level); break;
    case S_OWS: i = st_ows(p, s, i, end); break;
    case S_VALUE: i = st_value(p, s, i, end, level); break;
    case S_FIELD_LF: i = st_lf(p, s, i, S_FIELD_START); break;
    case S_END_LF: return st_lf(p, s, i, S_DONE);
    default: return i;
    }
    if (p->state == S_ERROR)
      return i;
  }
  return i;
}

/* flatten inlines every call below, scanners included, into each copy. */
__attribute__((flatten)) static size_t
run_bytes(struct ws_http_parser *p, const uint8_t *s, size_t i, size_t end) {
  return run(p, s, i, end, 0);
}

#ifdef WS_HAVE_X86
__attribute__((flatten)) static size_t
run_sse2(struct ws_http_parser *p, const uint8_t *s, size_t i, size_t end) {
  return run(p, s, i, end, 1);
}

/* The whole loop is compiled for AVX2, not only the scanners: calling a
 * 256-bit kernel from SSE-encoded code per field cost more than the wider
 * vectors saved on a browser's head (measured on this Zen 5 guest), while
 * one loop in AVX2 halves the time of a 4 KiB value against SSE2. */
__attribute__((target("avx2"), flatten)) static size_t
run_avx2(struct ws_http_parser *p, const uint8_t *s, size_t i, size_t end) {
  return run(p, s, i, end, 2);
}
#endif

static void complete(struct ws_http_parser *p, const char *buf, size_t i) {
  p->head_len = (uint32_t)i;
  p->buf = buf;
  p->result = WS_HTTP_COMPLETE;
  p->method.ptr = buf + p->method.off;
  p->target.ptr = buf + p->target.off;
  p->reason.ptr = buf + p->reason.off;
  for (uint32_t k = 0; k < p->num_headers; k++) {
    p->headers[k].name.ptr = buf + p->headers[k].name.off;
    p->headers[k].value.ptr = buf + p->headers[k].value.off;
  }
}

int ws_http_parse(struct ws_http_parser *p, const char *buf, size_t len) {
  if (!p || (!buf && len))
    return WS_HTTP_EINVAL;
  if (p->state == S_DONE || p->state == S_ERROR)
    return p->result;
  if (len < p->pos)
    return WS_HTTP_EINVAL;
  size_t end = len < p->max_head ? len : p->max_head;
  size_t start = p->pos;
  const uint8_t *s = (const uint8_t *)buf;
  size_t i;
  p->call_start = (uint32_t)start;
#ifdef WS_HAVE_X86
  if (p->simd == 2)
    i = run_avx2(p, s, start, end);
  else if (p->simd == 1)
    i = run_sse2(p, s, start, end);
  else
#endif
    i = run_bytes(p, s, start, end);
  p->examined += i - start;
  p->pos = (uint32_t)i;
  if (p->state == S_DONE) {
    complete(p, buf, i);
    return WS_HTTP_COMPLETE;
  }
  if (p->state == S_ERROR)
    return p->result;
  /* Every examined byte was valid, but max_head bytes hold no complete
   * head: the head is certainly too large, whatever comes next. */
  if (i == p->max_head) {
    fail(p, WS_HTTP_ETOO_LARGE, WS_HTTP_ERR_HEAD_TOO_LARGE, i);
    return p->result;
  }
  return WS_HTTP_INCOMPLETE;
}

static inline int lower_eq(const char *a, const char *b, size_t n) {
  for (size_t k = 0; k < n; k++) {
    unsigned char x = (unsigned char)a[k], y = (unsigned char)b[k];
    if ((unsigned)(x - 'A') < 26u)
      x |= 0x20;
    if ((unsigned)(y - 'A') < 26u)
      y |= 0x20;
    if (x != y)
      return 0;
  }
  return 1;
}

long ws_http_find(const struct ws_http_parser *p, const char *name,
                  size_t name_len, size_t from) {
  if (!p || !name || p->result != WS_HTTP_COMPLETE)
    return -1;
  for (size_t k = from; k < p->num_headers; k++) {
    const struct ws_http_header *h = &p->headers[k];
    if (h->name.len == name_len && lower_eq(h->name.ptr, name, name_len))
      return (long)k;
  }
  return -1;
}

int ws_http_is_token(const char *s, size_t len) {
  if (!s || len == 0)
    return 0;
  for (size_t k = 0; k < len; k++)
    if (!(CLS(s[k]) & WS__HTTP_TCHAR))
      return 0;
  return 1;
}
