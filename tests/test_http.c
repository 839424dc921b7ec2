/*
 * test_http.c: the incremental HTTP head parser (src/http/ws_http.h).
 *
 * Every input goes through feed(): parsed whole, one byte at a time and
 * split in two at every position, with each scanner (bytewise, SSE2,
 * AVX2 where the CPU has them), from exact-size guard-page buffers. The
 * caller accumulates, so each call gets a fresh guarded copy of the
 * growing prefix at a new address. All runs must give the same result,
 * byte for byte, including the count of bytes examined: that count equals
 * the head length however the bytes arrive, so nothing is scanned twice.
 * In the split runs the bytes the parser examined before the second call
 * are zeroed in the second buffer, which proves it never looks back.
 */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake_samples.h"
#include "http/ws_http.h"

#define CAP 80

/* Everything observable after a parse, offsets only, for comparison. */
struct snap {
  int rc;
  int error;
  uint32_t error_offset;
  uint32_t head_len;
  uint32_t num_headers;
  uint16_t status;
  uint8_t minor;
  uint32_t m_off, m_len, t_off, t_len, r_off, r_len;
  uint64_t examined;
  uint32_t h[CAP][4];
};

static void take(const struct ws_http_parser *p, int rc, struct snap *s) {
  memset(s, 0, sizeof(*s));
  s->rc = rc;
  s->error = p->error;
  s->error_offset = p->error_offset;
  s->head_len = p->head_len;
  s->num_headers = p->num_headers;
  s->status = p->status;
  s->minor = p->http_minor;
  s->m_off = p->method.off;
  s->m_len = p->method.len;
  s->t_off = p->target.off;
  s->t_len = p->target.len;
  s->r_off = p->reason.off;
  s->r_len = p->reason.len;
  s->examined = p->examined;
  for (uint32_t k = 0; k < p->num_headers && k < CAP; k++) {
    s->h[k][0] = p->headers[k].name.off;
    s->h[k][1] = p->headers[k].name.len;
    s->h[k][2] = p->headers[k].value.off;
    s->h[k][3] = p->headers[k].value.len;
  }
  if (rc == WS_HTTP_COMPLETE) {
    /* Pointers are filled on completion, into the completing buffer. */
    assert_ptr_equal(p->method.ptr, p->buf + p->method.off);
    for (uint32_t k = 0; k < p->num_headers; k++) {
      assert_ptr_equal(p->headers[k].name.ptr,
                       p->buf + p->headers[k].name.off);
      assert_ptr_equal(p->headers[k].value.ptr,
                       p->buf + p->headers[k].value.off);
    }
  }
}

struct cfg {
  enum ws_http_kind kind;
  size_t cap;      /* header array capacity; 0 = CAP */
  size_t max_head; /* 0 = default */
};

static struct ws_http_header hdrs[CAP];

static void start(struct ws_http_parser *p, const struct cfg *c, int level) {
  assert_int_equal(ws_http_parser_init(p, c->kind, hdrs, c->cap ? c->cap : CAP,
                                       c->max_head),
                   WS_OK);
  ws__http_force_scanner(p, level);
}

static int parse_copy(struct ws_http_parser *p, const void *src, size_t len) {
  struct guarded g = guarded_copy(src, len);
  int rc = ws_http_parse(p, (const char *)g.data, len);
  guarded_free(&g);
  return rc;
}

static void whole(const struct cfg *c, int level, const char *in, size_t len,
                  struct snap *out) {
  struct ws_http_parser p;
  start(&p, c, level);
  int rc = parse_copy(&p, in, len);
  take(&p, rc, out);
}

static void bytewise(const struct cfg *c, int level, const char *in,
                     size_t len, struct snap *out) {
  struct ws_http_parser p;
  int rc = WS_HTTP_INCOMPLETE;
  start(&p, c, level);
  for (size_t k = 1; k <= len && rc == WS_HTTP_INCOMPLETE; k++)
    rc = parse_copy(&p, in, k);
  take(&p, rc, out);
}

/* Prefix [0, k), then the whole input with the bytes already examined
 * overwritten by NUL (which is valid nowhere in a head). */
static void split(const struct cfg *c, int level, const char *in, size_t len,
                  size_t k, struct snap *out) {
  struct ws_http_parser p;
  start(&p, c, level);
  int rc = parse_copy(&p, in, k);
  if (rc == WS_HTTP_INCOMPLETE) {
    char *poisoned = malloc(len + 1);
    assert_non_null(poisoned);
    memcpy(poisoned, in, len);
    memset(poisoned, 0, p.pos);
    rc = parse_copy(&p, poisoned, len);
    free(poisoned);
  }
  take(&p, rc, out);
}

static void same(const struct snap *a, const struct snap *b) {
  assert_int_equal(a->rc, b->rc);
  assert_int_equal(a->error, b->error);
  assert_int_equal(a->error_offset, b->error_offset);
  assert_int_equal(a->examined, b->examined);
  assert_memory_equal(a, b, sizeof(*a));
}

/* Parses |in| every way and returns the (common) result in *out. */
static void feed(const struct cfg *c, const char *in, size_t len,
                 struct snap *out) {
  struct snap ref, s;
  whole(c, 0, in, len, &ref);
  for (int level = 0; level <= 2; level++) {
    whole(c, level, in, len, &s);
    same(&ref, &s);
    bytewise(c, level, in, len, &s);
    same(&ref, &s);
    for (size_t k = 0; k <= len; k++) {
      split(c, level, in, len, k, &s);
      same(&ref, &s);
    }
  }
  *out = ref;
}

static const struct cfg REQ = {WS_HTTP_REQUEST, 0, 0};
static const struct cfg RESP = {WS_HTTP_RESPONSE, 0, 0};

static void feed_str(const struct cfg *c, const char *in, struct snap *out) {
  feed(c, in, strlen(in), out);
}

static void expect_error(const struct cfg *c, const char *in, int rc,
                         enum ws_http_error e, uint32_t off) {
  struct snap s;
  feed_str(c, in, &s);
  if (s.rc != rc || s.error != (int)e || s.error_offset != off)
    print_error("input: \"%s\": rc %d error %s offset %u\n", in, s.rc,
                ws_http_error_name((enum ws_http_error)s.error),
                s.error_offset);
  assert_int_equal(s.rc, rc);
  assert_int_equal(s.error, e);
  assert_int_equal(s.error_offset, off);
  /* The parser stops at the offending byte. */
  assert_int_equal(s.examined, off);
}

static uint32_t pos_of(const char *in, const char *needle) {
  const char *at = strstr(in, needle);
  assert_non_null(at);
  return (uint32_t)(at - in);
}

/* ------------------------------------------------------------- requests */

/* RFC 6455 Section 1.2 */
static const char SAMPLE[] = SAMPLE_RFC6455_REQUEST;

static void check_span(const char *in, uint32_t off, uint32_t len,
                       const char *want) {
  assert_int_equal(len, strlen(want));
  assert_memory_equal(in + off, want, len);
}

static void test_http_sample_request(void **state) {
  (void)state;
  struct snap s;
  feed_str(&REQ, SAMPLE, &s);
  assert_int_equal(s.rc, WS_HTTP_COMPLETE);
  assert_int_equal(s.head_len, strlen(SAMPLE));
  assert_int_equal(s.examined, strlen(SAMPLE));
  assert_int_equal(s.minor, 1);
  check_span(SAMPLE, s.m_off, s.m_len, "GET");
  check_span(SAMPLE, s.t_off, s.t_len, "/chat");
  assert_int_equal(s.num_headers, 7);
  static const char *const want[7][2] = {
      {"Host", "server.example.com"},
      {"Upgrade", "websocket"},
      {"Connection", "Upgrade"},
      {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
      {"Origin", "http://example.com"},
      {"Sec-WebSocket-Protocol", "chat, superchat"},
      {"Sec-WebSocket-Version", "13"}};
  for (int k = 0; k < 7; k++) {
    check_span(SAMPLE, s.h[k][0], s.h[k][1], want[k][0]);
    check_span(SAMPLE, s.h[k][2], s.h[k][3], want[k][1]);
  }
}

static void test_http_values_ows_and_obs_text(void **state) {
  (void)state;
  static const char in[] = "GET / HTTP/1.1\r\n"
                           "A:x\r\n"
                           "B: \t  padded \t \r\n"
                           "C:\r\n"
                           "D:   \r\n"
                           "E: in\tner  sp\r\n"
                           "F: caf\xc3\xa9 \x80\xff\r\n"
                           "G!#$%&'*+-.^_`|~09az: ok\r\n"
                           "\r\n";
  struct snap s;
  feed_str(&REQ, in, &s);
  assert_int_equal(s.rc, WS_HTTP_COMPLETE);
  assert_int_equal(s.num_headers, 7);
  check_span(in, s.h[0][2], s.h[0][3], "x");
  check_span(in, s.h[1][2], s.h[1][3], "padded");
  check_span(in, s.h[2][2], s.h[2][3], "");
  check_span(in, s.h[3][2], s.h[3][3], "");
  check_span(in, s.h[4][2], s.h[4][3], "in\tner  sp");
  check_span(in, s.h[5][2], s.h[5][3], "caf\xc3\xa9 \x80\xff");
  check_span(in, s.h[6][0], s.h[6][1], "G!#$%&'*+-.^_`|~09az");
}

static void test_http_http10_and_absolute_target(void **state) {
  (void)state;
  static const char in[] = "OPTIONS http://h:1/a?b=c HTTP/1.0\r\n\r\n";
  struct snap s;
  feed_str(&REQ, in, &s);
  assert_int_equal(s.rc, WS_HTTP_COMPLETE);
  assert_int_equal(s.minor, 0);
  assert_int_equal(s.num_headers, 0);
  check_span(in, s.m_off, s.m_len, "OPTIONS");
  check_span(in, s.t_off, s.t_len, "http://h:1/a?b=c");
}

/* Bytes after the head (a body, or a client's first frames) are never
 * examined: the parser stops after the empty line. */
static void test_http_bytes_after_head(void **state) {
  (void)state;
  static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n\x81\x85XYZ\r\n";
  size_t head = strlen("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  struct snap s;
  feed(&REQ, in, sizeof(in) - 1, &s);
  assert_int_equal(s.rc, WS_HTTP_COMPLETE);
  assert_int_equal(s.head_len, head);
  assert_int_equal(s.examined, head);
}

static void test_http_request_line_errors(void **state) {
  (void)state;
  expect_error(&REQ, "\r\nGET / HTTP/1.1\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_METHOD, 0);
  expect_error(&REQ, " GET / HTTP/1.1\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_METHOD, 0);
  expect_error(&REQ, "G(T / HTTP/1.1\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_METHOD, 1);
  expect_error(&REQ, "GET\t/ HTTP/1.1\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_METHOD, 3);
  expect_error(&REQ, "GET  / HTTP/1.1\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_TARGET, 4);
  expect_error(&REQ, "GET /a\x7f HTTP/1.1\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_TARGET, 6);
  expect_error(&REQ, "GET /\xc3\xa9 HTTP/1.1\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_TARGET, 5);
  expect_error(&REQ, "GET /\r\n\r\n", WS_HTTP_EMALFORMED, WS_HTTP_ERR_TARGET,
               5);
  expect_error(&REQ, "GET / http/1.1\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_VERSION, 6);
  expect_error(&REQ, "GET / HTTP/2.0\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_VERSION, 11);
  expect_error(&REQ, "GET / HTTP/1.x\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_VERSION, 13);
  expect_error(&REQ, "GET / HTTP/1.10\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_VERSION, 14);
  expect_error(&REQ, "GET / HTTP/1.1 \r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_VERSION, 14);
  expect_error(&REQ, "GET / HTTP/1.1\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_BARE_LF, 14);
  expect_error(&REQ, "GET / HTTP/1.1\rX\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_LF_EXPECTED, 15);
}

static void test_http_field_errors(void **state) {
  (void)state;
  const char *in;
  in = "GET / HTTP/1.1\r\nHost : a\r\n\r\n";
  expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_SPACE_BEFORE_COLON,
               pos_of(in, " :"));
  in = "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n";
  expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_SPACE_BEFORE_COLON,
               pos_of(in, "\t:"));
  in = "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n";
  expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_OBS_FOLD,
               pos_of(in, " c"));
  in = "GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n";
  expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_OBS_FOLD,
               pos_of(in, "\tc"));
  in = "GET / HTTP/1.1\r\n Host: a\r\n\r\n";
  expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_OBS_FOLD, 16);
  in = "GET / HTTP/1.1\r\n: a\r\n\r\n";
  expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_HEADER_NAME, 16);
  in = "GET / HTTP/1.1\r\nA(b: a\r\n\r\n";
  expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_HEADER_NAME, 17);
  in = "GET / HTTP/1.1\r\nNoColon\r\n\r\n";
  expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_HEADER_NAME,
               pos_of(in, "\r\n\r\n"));
  in = "GET / HTTP/1.1\r\nA: b\x01 c\r\n\r\n";
  expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_VALUE_CTL,
               pos_of(in, "\x01"));
  in = "GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n";
  expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_VALUE_CTL,
               pos_of(in, "\x7f"));
  in = "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n";
  expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_LF_EXPECTED,
               pos_of(in, "c\r"));
  /* The same with enough bytes after it for the vector fast path. */
  in = "GET / HTTP/1.1\r\nA: b\rc\r\nHost: a-long-enough-host-name\r\n\r\n";
  expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_LF_EXPECTED,
               pos_of(in, "c\r"));
  in = "GET / HTTP/1.1\r\nA: b\nC: d\r\n\r\n";
  expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_BARE_LF,
               pos_of(in, "\nC"));
  in = "GET / HTTP/1.1\r\nA: b\r\n\n";
  expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_BARE_LF,
               (uint32_t)strlen(in) - 1);
  in = "GET / HTTP/1.1\r\nA: b\r\n\rX";
  expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_LF_EXPECTED,
               (uint32_t)strlen(in) - 1);
}

/* ------------------------------------------------------------ responses */

static void test_http_response(void **state) {
  (void)state;
  static const char in[] = "HTTP/1.1 101 Switching Protocols\r\n"
                           "Upgrade: websocket\r\n"
                           "Connection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: "
                           "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                           "\r\n"
                           "\x81\x05Hello";
  struct snap s;
  feed(&RESP, in, sizeof(in) - 1, &s);
  assert_int_equal(s.rc, WS_HTTP_COMPLETE);
  assert_int_equal(s.status, 101);
  assert_int_equal(s.minor, 1);
  check_span(in, s.r_off, s.r_len, "Switching Protocols");
  assert_int_equal(s.num_headers, 3);
  assert_int_equal(s.head_len, sizeof(in) - 1 - 7);
  assert_int_equal(s.examined, s.head_len);

  feed_str(&RESP, "HTTP/1.0 404 \r\n\r\n", &s);
  assert_int_equal(s.rc, WS_HTTP_COMPLETE);
  assert_int_equal(s.status, 404);
  assert_int_equal(s.minor, 0);
  assert_int_equal(s.r_len, 0);
}

static void test_http_response_errors(void **state) {
  (void)state;
  expect_error(&RESP, "HTTP/1.1 1011 X\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_STATUS, 12);
  expect_error(&RESP, "HTTP/1.1 01 X\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_STATUS, 9);
  expect_error(&RESP, "HTTP/1.1 099 X\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_STATUS, 9);
  expect_error(&RESP, "HTTP/1.1 101\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_STATUS, 12);
  expect_error(&RESP, "HTTP/1.1  101 X\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_STATUS, 9);
  expect_error(&RESP, "HTTP/1.1 101 A\x02\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_REASON, 14);
  expect_error(&RESP, "HTTP/1.1 101 A\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_BARE_LF, 14);
  expect_error(&RESP, "HTTP/1.1\t101 A\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_VERSION, 8);
  expect_error(&RESP, "GET / HTTP/1.1\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_VERSION, 0);
}

/* --------------------------------------------------- vector scanners */

/* A refused byte at every position of a long value, and an odd byte at
 * every position of a long name, hit every lane of every block. */
static void test_http_scanner_every_position(void **state) {
  (void)state;
  char in[256];
  static const char head[] = "GET / HTTP/1.1\r\n";
  for (int v = 0; v < 70; v++) {
    for (int bad = 0; bad < 3; bad++) {
      static const char refused[] = {'\x01', '\x7f', '\n'};
      int n = snprintf(in, sizeof(in), "%sName: ", head);
      int at = n + v;
      for (int k = 0; k < 70; k++)
        in[n + k] = (char)('a' + k % 26);
      in[at] = refused[bad];
      memcpy(in + n + 70, "\r\n\r\n", 5);
      expect_error(&REQ, in, WS_HTTP_EMALFORMED,
                   bad == 2 ? WS_HTTP_ERR_BARE_LF : WS_HTTP_ERR_VALUE_CTL,
                   (uint32_t)at);
    }
  }
  for (int v = 1; v < 40; v++) {
    int n = snprintf(in, sizeof(in), "%s", head);
    for (int k = 0; k < 40; k++)
      in[n + k] = (char)('A' + k % 26);
    /* '_' is a tchar outside the vector fast set; '(' is refused. */
    in[n + v] = '_';
    memcpy(in + n + 40, ": x\r\n\r\n", 8);
    struct snap s;
    feed_str(&REQ, in, &s);
    assert_int_equal(s.rc, WS_HTTP_COMPLETE);
    assert_int_equal(s.h[0][1], 40);
    in[n + v] = '(';
    expect_error(&REQ, in, WS_HTTP_EMALFORMED, WS_HTTP_ERR_HEADER_NAME,
                 (uint32_t)(n + v));
  }
}

/* ---------------------------------------------------------------- limits */

/* A request of exactly |len| bytes: filler headers of 200-byte lines. */
static char *sized_request(size_t len) {
  static const char first[] = "GET / HTTP/1.1\r\n";
  char *r = malloc(len + 1);
  size_t n = sizeof(first) - 1;
  assert_non_null(r);
  assert_true(len >= n + 2);
  memcpy(r, first, n);
  assert_true(len - n - 2 == 0 || len - n - 2 >= 7);
  while (len - n - 2 > 0) {
    size_t rem = len - n - 2;
    size_t line = rem >= 207 ? 200 : rem;
    assert_true(line >= 7);
    memcpy(r + n, "X-F: ", 5);
    memset(r + n + 5, 'v', line - 7);
    memcpy(r + n + line - 2, "\r\n", 2);
    n += line;
  }
  assert_int_equal(len - n, 2);
  memcpy(r + n, "\r\n", 3);
  return r;
}

static void test_http_max_head_default(void **state) {
  (void)state;
  char *ok = sized_request(WS_HTTP_DEFAULT_MAX_HEAD);
  struct snap s;
  struct ws_http_parser p;
  whole(&REQ, 2, ok, WS_HTTP_DEFAULT_MAX_HEAD, &s);
  assert_int_equal(s.rc, WS_HTTP_COMPLETE);
  assert_int_equal(s.head_len, WS_HTTP_DEFAULT_MAX_HEAD);
  bytewise(&REQ, 1, ok, WS_HTTP_DEFAULT_MAX_HEAD, &s);
  assert_int_equal(s.rc, WS_HTTP_COMPLETE);
  assert_int_equal(s.examined, WS_HTTP_DEFAULT_MAX_HEAD);
  free(ok);

  char *big = sized_request(WS_HTTP_DEFAULT_MAX_HEAD + 1);
  for (int level = 0; level <= 2; level++) {
    whole(&REQ, level, big, WS_HTTP_DEFAULT_MAX_HEAD + 1, &s);
    assert_int_equal(s.rc, WS_HTTP_ETOO_LARGE);
    assert_int_equal(s.error, WS_HTTP_ERR_HEAD_TOO_LARGE);
    assert_int_equal(s.error_offset, WS_HTTP_DEFAULT_MAX_HEAD);
    /* Known as soon as 8 KiB are in without the end of the head. */
    start(&p, &REQ, level);
    assert_int_equal(parse_copy(&p, big, WS_HTTP_DEFAULT_MAX_HEAD - 1),
                     WS_HTTP_INCOMPLETE);
    assert_int_equal(parse_copy(&p, big, WS_HTTP_DEFAULT_MAX_HEAD),
                     WS_HTTP_ETOO_LARGE);
    assert_int_equal(p.examined, WS_HTTP_DEFAULT_MAX_HEAD);
  }
  free(big);
}

static void test_http_max_head_custom(void **state) {
  (void)state;
  struct cfg c = {WS_HTTP_REQUEST, 0, 300};
  struct snap s;
  char *r = sized_request(300);
  feed(&c, r, 300, &s);
  assert_int_equal(s.rc, WS_HTTP_COMPLETE);
  free(r);
  r = sized_request(301);
  feed(&c, r, 301, &s);
  assert_int_equal(s.rc, WS_HTTP_ETOO_LARGE);
  assert_int_equal(s.error_offset, 300);
  assert_int_equal(s.examined, 300);
  free(r);
  /* A syntax error inside the limit is reported as such. */
  c.max_head = 20;
  expect_error(&c, "GET / HTTP/1.1\r\nA : b\r\n\r\n", WS_HTTP_EMALFORMED,
               WS_HTTP_ERR_SPACE_BEFORE_COLON, 17);
  expect_error(&c, "GET / HTTP/1.1\r\nAbcd: b\r\n\r\n", WS_HTTP_ETOO_LARGE,
               WS_HTTP_ERR_HEAD_TOO_LARGE, 20);
}

static void test_http_header_count(void **state) {
  (void)state;
  char in[2048];
  int n = snprintf(in, sizeof(in), "GET / HTTP/1.1\r\n");
  struct snap s;
  struct cfg c = {WS_HTTP_REQUEST, WS_HTTP_DEFAULT_MAX_HEADERS, 0};
  for (int k = 0; k < 64; k++)
    n += snprintf(in + n, sizeof(in) - (size_t)n, "H%d: %d\r\n", k, k);
  snprintf(in + n, sizeof(in) - (size_t)n, "\r\n");
  whole(&c, 2, in, strlen(in), &s);
  assert_int_equal(s.rc, WS_HTTP_COMPLETE);
  assert_int_equal(s.num_headers, 64);
  int at = n;
  snprintf(in + n, sizeof(in) - (size_t)n, "H64: x\r\n\r\n");
  for (int level = 0; level <= 2; level++) {
    whole(&c, level, in, strlen(in), &s);
    assert_int_equal(s.rc, WS_HTTP_ETOO_MANY_HEADERS);
    assert_int_equal(s.error, WS_HTTP_ERR_TOO_MANY_HEADERS);
    assert_int_equal(s.error_offset, at);
    assert_int_equal(s.num_headers, 64);
  }
  struct cfg three = {WS_HTTP_REQUEST, 3, 0};
  const char *in3 = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
  expect_error(&three, in3, WS_HTTP_ETOO_MANY_HEADERS,
               WS_HTTP_ERR_TOO_MANY_HEADERS, pos_of(in3, "D:"));
  const char *ok3 = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  feed_str(&three, ok3, &s);
  assert_int_equal(s.rc, WS_HTTP_COMPLETE);
}

/* --------------------------------------------------- linear, no re-scan */

/* A 7 KiB value arriving one byte per call costs 7 KiB of examination,
 * and each call reads only its new byte: the copy handed to the parser
 * has every earlier byte zeroed. */
static void test_http_no_rescan_slowloris(void **state) {
  (void)state;
  enum { N = 7000 };
  static const char first[] = "GET / HTTP/1.1\r\nCookie: ";
  char *in = malloc(N + 64), *feedbuf = malloc(N + 64);
  size_t n = sizeof(first) - 1;
  assert_non_null(in);
  assert_non_null(feedbuf);
  memcpy(in, first, n);
  memset(in + n, 'c', N);
  n += N;
  memcpy(in + n, "\r\n\r\n", 4);
  n += 4;
  for (int level = 0; level <= 2; level++) {
    struct ws_http_parser p;
    int rc = WS_HTTP_INCOMPLETE;
    start(&p, &REQ, level);
    memset(feedbuf, 0, n);
    for (size_t k = 1; k <= n; k++) {
      feedbuf[k - 1] = in[k - 1];
      if (k > 1)
        feedbuf[k - 2] = 0; /* already examined: never read again */
      uint64_t before = p.examined;
      rc = ws_http_parse(&p, feedbuf, k);
      assert_int_equal(p.examined - before, 1);
      if (k < n)
        assert_int_equal(rc, WS_HTTP_INCOMPLETE);
    }
    assert_int_equal(rc, WS_HTTP_COMPLETE);
    assert_int_equal(p.examined, n);
    assert_int_equal(p.headers[0].value.len, N);
    assert_int_equal(p.headers[0].value.off, sizeof(first) - 1);
  }
  free(in);
  free(feedbuf);
}

/* ------------------------------------------------------------ API edges */

static void test_http_api_edges(void **state) {
  (void)state;
  struct ws_http_parser p;
  static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n"
                           "host: b\r\n\r\n";
  assert_int_equal(ws_http_parser_init(NULL, WS_HTTP_REQUEST, hdrs, 1, 0),
                   WS_EINVAL);
  assert_int_equal(ws_http_parser_init(&p, (enum ws_http_kind)7, hdrs, 1, 0),
                   WS_EINVAL);
  assert_int_equal(ws_http_parser_init(&p, WS_HTTP_REQUEST, NULL, 1, 0),
                   WS_EINVAL);
  assert_int_equal(ws_http_parser_init(&p, WS_HTTP_REQUEST, hdrs, 1,
                                       WS_HTTP_MAX_HEAD_LIMIT + 1),
                   WS_EINVAL);
  assert_int_equal(ws_http_parser_init(&p, WS_HTTP_REQUEST, hdrs, CAP, 0),
                   WS_OK);
  assert_int_equal(p.max_head, WS_HTTP_DEFAULT_MAX_HEAD);
  assert_int_equal(ws_http_parse(NULL, in, 1), WS_HTTP_EINVAL);
  assert_int_equal(ws_http_parse(&p, NULL, 1), WS_HTTP_EINVAL);
  assert_int_equal(ws_http_parse(&p, NULL, 0), WS_HTTP_INCOMPLETE);
  assert_int_equal(ws_http_parse(&p, in, 10), WS_HTTP_INCOMPLETE);
  assert_int_equal(ws_http_parse(&p, in, 10), WS_HTTP_INCOMPLETE);
  /* A shorter buffer breaks the contract and changes nothing. */
  assert_int_equal(ws_http_parse(&p, in, 9), WS_HTTP_EINVAL);
  assert_int_equal(p.pos, 10);
  assert_int_equal(ws_http_find(&p, "host", 4, 0), -1); /* not complete */
  assert_int_equal(ws_http_parse(&p, in, sizeof(in) - 1), WS_HTTP_COMPLETE);
  assert_int_equal(ws_http_parse(&p, in, sizeof(in) - 1), WS_HTTP_COMPLETE);
  assert_int_equal(ws_http_find(&p, "HOST", 4, 0), 0);
  assert_int_equal(ws_http_find(&p, "HOST", 4, 1), 2);
  assert_int_equal(ws_http_find(&p, "HOST", 4, 3), -1);
  assert_int_equal(ws_http_find(&p, "x-a", 3, 0), 1);
  assert_int_equal(ws_http_find(&p, "x-b", 3, 0), -1);
  /* An error sticks. */
  start(&p, &REQ, 0);
  assert_int_equal(ws_http_parse(&p, "GET  ", 5), WS_HTTP_EMALFORMED);
  assert_int_equal(ws_http_parse(&p, "GET  / HTTP/1.1", 15),
                   WS_HTTP_EMALFORMED);
  assert_int_equal(p.error_offset, 4);
  /* No header array at all: the first field is one too many. */
  assert_int_equal(ws_http_parser_init(&p, WS_HTTP_REQUEST, NULL, 0, 0), 0);
  assert_int_equal(ws_http_parse(&p, in, sizeof(in) - 1),
                   WS_HTTP_ETOO_MANY_HEADERS);
}

/* The class table against the grammar, byte by byte. */
static void test_http_class_table(void **state) {
  (void)state;
  static const char tspecial[] = "!#$%&'*+-.^_`|~";
  static const char unres_sub[] = "-._~!$&'()*+,;=:@/?";
  for (int c = 0; c < 256; c++) {
    int alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                (c >= 'A' && c <= 'Z');
    int tchar = alnum || (c && c < 128 && strchr(tspecial, c));
    int value = c == '\t' || (c >= 0x20 && c != 0x7f);
    int vchar = c > 0x20 && c < 0x7f;
    int uri = alnum || (c && c < 128 && strchr(unres_sub, c));
    int b64 = alnum || c == '+' || c == '/';
    uint8_t k = ws__http_class[c];
    assert_int_equal(!!(k & WS__HTTP_TCHAR), tchar);
    assert_int_equal(!!(k & WS__HTTP_VALUE), value);
    assert_int_equal(!!(k & WS__HTTP_VCHAR), vchar);
    assert_int_equal(!!(k & WS__HTTP_URI), uri);
    assert_int_equal(!!(k & WS__HTTP_B64), b64);
  }
}

static void test_http_tokens_and_names(void **state) {
  (void)state;
  assert_int_equal(ws_http_is_token("chat", 4), 1);
  assert_int_equal(ws_http_is_token("a!#$%&'*+-.^_`|~9", 17), 1);
  assert_int_equal(ws_http_is_token("", 0), 0);
  assert_int_equal(ws_http_is_token(NULL, 3), 0);
  assert_int_equal(ws_http_is_token("a b", 3), 0);
  assert_int_equal(ws_http_is_token("a,b", 3), 0);
  assert_int_equal(ws_http_is_token("a\"", 2), 0);
  assert_int_equal(ws_http_is_token("\xc3\xa9", 2), 0);
  assert_string_equal(ws_http_error_name(WS_HTTP_ERR_SPACE_BEFORE_COLON),
                      "SPACE_BEFORE_COLON");
  assert_string_equal(ws_http_error_section(WS_HTTP_ERR_SPACE_BEFORE_COLON),
                      "3.2.4");
  assert_int_equal(ws_http_error_rfc(WS_HTTP_ERR_SPACE_BEFORE_COLON), 7230);
  assert_int_equal(ws_http_error_rfc(WS_HTTP_ERR_HEAD_TOO_LARGE), 6585);
  assert_string_equal(ws_http_error_name(WS_HTTP_ERR__COUNT), "UNKNOWN");
  for (int e = 1; e < WS_HTTP_ERR__COUNT; e++) {
    assert_string_not_equal(ws_http_error_name((enum ws_http_error)e),
                            "UNKNOWN");
    assert_true(strlen(ws_http_error_reason((enum ws_http_error)e)) > 0);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_http_sample_request),
      cmocka_unit_test(test_http_values_ows_and_obs_text),
      cmocka_unit_test(test_http_http10_and_absolute_target),
      cmocka_unit_test(test_http_bytes_after_head),
      cmocka_unit_test(test_http_request_line_errors),
      cmocka_unit_test(test_http_field_errors),
      cmocka_unit_test(test_http_response),
      cmocka_unit_test(test_http_response_errors),
      cmocka_unit_test(test_http_scanner_every_position),
      cmocka_unit_test(test_http_max_head_default),
      cmocka_unit_test(test_http_max_head_custom),
      cmocka_unit_test(test_http_header_count),
      cmocka_unit_test(test_http_no_rescan_slowloris),
      cmocka_unit_test(test_http_api_edges),
      cmocka_unit_test(test_http_class_table),
      cmocka_unit_test(test_http_tokens_and_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
