/*
 * test_close.c: Close payload rules (ws_close.h): code classes and their
 * boundaries, payload lengths 0/1/2, reason UTF-8 with fail-fast offsets,
 * the 123-byte reason limit, and split invariance of the incremental
 * checker.
 */
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "ws/ws_close.h"

/* The expected class of each boundary code, written out by hand. */
struct code_case {
  uint16_t code;
  int valid;
};

static const struct code_case code_cases[] = {
    {0, 0},     {999, 0},   {1000, 1},  {1001, 1},  {1002, 1},
    {1003, 1},  {1004, 0},  {1005, 0},  {1006, 0},  {1007, 1},
    {1008, 1},  {1009, 1},  {1010, 1},  {1011, 1},  {1012, 1},
    {1013, 1},  {1014, 1},  {1015, 0},  {1016, 0},  {2000, 0},
    {2999, 0},  {3000, 1},  {3999, 1},  {4000, 1},  {4999, 1},
    {5000, 0},  {65535, 0},
};

#define NCODES (sizeof(code_cases) / sizeof(code_cases[0]))

static void test_code_classes(void **state) {
  (void)state;
  for (size_t i = 0; i < NCODES; i++) {
    uint16_t c = code_cases[i].code;
    if (ws_close_code_is_valid(c) != code_cases[i].valid)
      fail_msg("is_valid(%u) != %d", c, code_cases[i].valid);
    if (ws_close_code_is_sendable(c) != code_cases[i].valid)
      fail_msg("is_sendable(%u) != %d", c, code_cases[i].valid);
  }
}

/* Every 2-byte payload: parse agrees with is_valid, and the fail-fast offset
 * is 0 exactly when no valid code starts with the high byte (valid high
 * bytes: 0x03 for 1000-1014, 0x0B..0x13 for 3000-4999). */
static void test_every_code_parsed(void **state) {
  (void)state;
  for (uint32_t c = 0; c <= 0xffff; c++) {
    uint8_t p[2] = {(uint8_t)(c >> 8), (uint8_t)c};
    struct ws_close_info info;
    uint64_t off = 99;
    enum ws_violation_id v = ws_close_parse(p, 2, &info, &off);
    if (ws_close_code_is_valid((uint16_t)c)) {
      if (v != WS_V_NONE || info.code != c || info.reason != NULL ||
          info.reason_len != 0)
        fail_msg("code %u rejected", c);
    } else {
      unsigned hi = c >> 8;
      uint64_t want = (hi == 3 || (hi >= 11 && hi <= 19)) ? 1 : 0;
      if (v != WS_V_CLOSE_CODE_INVALID || off != want)
        fail_msg("code %u: v=%d off=%u", c, (int)v, (unsigned)off);
    }
  }
}

static void test_boundary_codes_parsed(void **state) {
  (void)state;
  for (size_t i = 0; i < NCODES; i++) {
    uint16_t c = code_cases[i].code;
    uint8_t p[2] = {(uint8_t)(c >> 8), (uint8_t)c};
    struct guarded g = guarded_copy(p, 2);
    struct ws_close_info info = {0, NULL, 0};
    uint64_t off = 77;
    enum ws_violation_id v = ws_close_parse(g.data, g.len, &info, &off);
    if (code_cases[i].valid) {
      assert_int_equal(v, WS_V_NONE);
      assert_int_equal(info.code, c);
      assert_int_equal(off, 77);
    } else {
      assert_int_equal(v, WS_V_CLOSE_CODE_INVALID);
    }
    guarded_free(&g);
  }
  /* Exact offsets for the named boundaries. */
  struct {
    uint16_t code;
    uint64_t off;
  } offs[] = {{0, 0},    {999, 1},  {1004, 1}, {1005, 1}, {1006, 1},
              {1015, 1}, {1016, 1}, {2999, 1}, {5000, 1}, {65535, 0},
              {1024, 0}, {2815, 0}, {2816, 1}, {5119, 1}, {5120, 0}};
  for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
    uint8_t p[2] = {(uint8_t)(offs[i].code >> 8), (uint8_t)offs[i].code};
    uint64_t off = 77;
    assert_int_equal(ws_close_parse(p, 2, NULL, &off),
                     WS_V_CLOSE_CODE_INVALID);
    if (off != offs[i].off)
      fail_msg("code %u: offset %u, want %u", offs[i].code, (unsigned)off,
               (unsigned)offs[i].off);
  }
}

static void test_empty_payload(void **state) {
  (void)state;
  struct ws_close_info info = {0, (const uint8_t *)"x", 9};
  uint64_t off = 5;
  assert_int_equal(ws_close_parse(NULL, 0, &info, &off), WS_V_NONE);
  assert_int_equal(info.code, WS_CLOSE_NO_STATUS);
  assert_null(info.reason);
  assert_int_equal(info.reason_len, 0);
  assert_int_equal(off, 5);
}

static void test_one_byte_payload(void **state) {
  (void)state;
  /* Both a byte that could start a valid code and one that could not: the
   * length rule wins either way. */
  const uint8_t bytes[] = {0x03, 0x00, 0xff, 0x2a};
  for (size_t i = 0; i < sizeof(bytes); i++) {
    struct guarded g = guarded_copy(&bytes[i], 1);
    uint64_t off = 9;
    assert_int_equal(ws_close_parse(g.data, 1, NULL, &off),
                     WS_V_CLOSE_PAYLOAD_1_BYTE);
    assert_int_equal(off, 0);
    guarded_free(&g);
  }
  struct ws_close_check c;
  assert_int_equal(ws_close_check_init(&c, 1), WS_V_CLOSE_PAYLOAD_1_BYTE);
  uint64_t off = 9;
  assert_int_equal(ws_close_check_finish(&c, NULL, &off),
                   WS_V_CLOSE_PAYLOAD_1_BYTE);
  assert_int_equal(off, 9);
}

static void test_two_byte_payload(void **state) {
  (void)state;
  const uint8_t p[] = {0x0f, 0xa0}; /* 4000 */
  struct guarded g = guarded_copy(p, sizeof(p));
  struct ws_close_info info;
  assert_int_equal(ws_close_parse(g.data, g.len, &info, NULL), WS_V_NONE);
  assert_int_equal(info.code, 4000);
  assert_null(info.reason);
  assert_int_equal(info.reason_len, 0);
  guarded_free(&g);
}

struct reason_case {
  const char *hex;     /* whole payload */
  enum ws_violation_id want;
  uint64_t off;        /* when want != NONE */
  uint16_t code;       /* when want == NONE */
  size_t reason_len;   /* when want == NONE */
};

static const struct reason_case reason_cases[] = {
    /* 1000 "Hello" */
    {"03e8 48656c6c6f", WS_V_NONE, 0, 1000, 5},
    /* 1001 kosme: multi-byte code points */
    {"03e9 cebae1bdb9cf83cebcceb5", WS_V_NONE, 0, 1001, 11},
    /* 4999 U+10FFFF */
    {"1387 f48fbfbf", WS_V_NONE, 0, 4999, 4},
    /* 1000 "a" 0xff: 0xff never appears in UTF-8 */
    {"03e8 61ff", WS_V_CLOSE_REASON_UTF8, 3, 0, 0},
    /* 1000, a surrogate: ED A0 can only start U+D800.. */
    {"03e8 eda080", WS_V_CLOSE_REASON_UTF8, 3, 0, 0},
    /* 1000, overlong '/': C0 is never valid */
    {"03e8 c0af", WS_V_CLOSE_REASON_UTF8, 2, 0, 0},
    /* 1000, U+110000: F4 90 fails at the second byte */
    {"03e8 cebae1bdb9cf83cebcceb5 f4908080 656469746564",
     WS_V_CLOSE_REASON_UTF8, 14, 0, 0},
    /* 1000, "a" then a truncated euro sign: fails at the end (5) */
    {"03e8 61e282", WS_V_CLOSE_REASON_UTF8, 5, 0, 0},
    /* a bad code is reported before a bad reason */
    {"03e7 ff", WS_V_CLOSE_CODE_INVALID, 1, 0, 0},
    {"0000 ff", WS_V_CLOSE_CODE_INVALID, 0, 0, 0},
};

/* Result of one run: violation, offset, code. */
struct verdict {
  enum ws_violation_id v;
  uint64_t off;
  uint16_t code;
};

/* Feeds |p| to the incremental checker in pieces cut at the given points
 * (cuts[0..ncuts) ascending), each piece from its own guard-page buffer. */
static struct verdict check_pieces(const uint8_t *p, size_t len,
                                   const size_t *cuts, size_t ncuts) {
  struct verdict r = {WS_V_NONE, 0, 0};
  struct ws_close_check c;
  r.v = ws_close_check_init(&c, len);
  if (r.v != WS_V_NONE)
    return r;
  size_t at = 0;
  for (size_t i = 0; i <= ncuts; i++) {
    size_t end = i < ncuts ? cuts[i] : len;
    struct guarded g = guarded_copy(p + at, end - at);
    r.v = ws_close_check_feed(&c, g.data, g.len, &r.off);
    guarded_free(&g);
    at = end;
    if (r.v != WS_V_NONE)
      return r;
  }
  r.v = ws_close_check_finish(&c, &r.code, &r.off);
  return r;
}

static void test_reasons(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(reason_cases) / sizeof(reason_cases[0]);
       i++) {
    const struct reason_case *rc = &reason_cases[i];
    size_t len;
    uint8_t *p = hex_decode(rc->hex, &len);
    struct guarded g = guarded_copy(p, len);
    struct ws_close_info info = {0, NULL, 0};
    uint64_t off = 1234;
    enum ws_violation_id v = ws_close_parse(g.data, g.len, &info, &off);
    if (v != rc->want)
      fail_msg("case %zu: violation %d, want %d", i, (int)v, (int)rc->want);
    if (rc->want == WS_V_NONE) {
      assert_int_equal(info.code, rc->code);
      assert_int_equal(info.reason_len, rc->reason_len);
      assert_ptr_equal(info.reason, g.data + 2);
      assert_memory_equal(info.reason, p + 2, rc->reason_len);
    } else if (off != rc->off) {
      fail_msg("case %zu: offset %u, want %u", i, (unsigned)off,
               (unsigned)rc->off);
    }
    /* Incremental: whole, byte at a time, and split at every position. */
    struct verdict whole = check_pieces(p, len, NULL, 0);
    size_t *cuts = malloc(len * sizeof(*cuts) + 1);
    for (size_t k = 0; k + 1 < len; k++)
      cuts[k] = k + 1;
    struct verdict bytes = check_pieces(p, len, cuts, len ? len - 1 : 0);
    free(cuts);
    assert_int_equal(whole.v, rc->want);
    assert_int_equal(bytes.v, rc->want);
    if (rc->want != WS_V_NONE) {
      assert_int_equal(whole.off, rc->off);
      assert_int_equal(bytes.off, rc->off);
    } else {
      assert_int_equal(whole.code, rc->code);
      assert_int_equal(bytes.code, rc->code);
    }
    for (size_t cut = 0; cut <= len; cut++) {
      struct verdict s = check_pieces(p, len, &cut, 1);
      if (s.v != whole.v || s.off != whole.off || s.code != whole.code)
        fail_msg("case %zu split at %zu differs", i, cut);
    }
    guarded_free(&g);
    free(p);
  }
}

/* The checker is sticky: after a violation it repeats it, offset kept. */
static void test_check_sticky(void **state) {
  (void)state;
  struct ws_close_check c;
  uint64_t off = 0;
  assert_int_equal(ws_close_check_init(&c, 4), WS_V_NONE);
  assert_int_equal(ws_close_check_feed(&c, (const uint8_t *)"\x03\xe8\xff",
                                       3, &off),
                   WS_V_CLOSE_REASON_UTF8);
  assert_int_equal(off, 2);
  off = 55;
  assert_int_equal(ws_close_check_feed(&c, (const uint8_t *)"a", 1, &off),
                   WS_V_CLOSE_REASON_UTF8);
  assert_int_equal(off, 55);
  assert_int_equal(ws_close_check_finish(&c, NULL, &off),
                   WS_V_CLOSE_REASON_UTF8);
  assert_int_equal(off, 55);
}

static void test_reason_123(void **state) {
  (void)state;
  uint8_t p[125];
  p[0] = 0x03;
  p[1] = 0xe8;
  memset(p + 2, 'r', 123);
  struct guarded g = guarded_copy(p, sizeof(p));
  struct ws_close_info info;
  assert_int_equal(ws_close_parse(g.data, g.len, &info, NULL), WS_V_NONE);
  assert_int_equal(info.code, 1000);
  assert_int_equal(info.reason_len, 123);
  guarded_free(&g);

  /* Building: 123 fits exactly, 124 is refused. */
  uint8_t out[200];
  assert_int_equal(ws_close_payload_build(out, sizeof(out), 1000, p + 2, 123),
                   125);
  assert_memory_equal(out, p, 125);
  assert_int_equal(ws_close_payload_build(out, sizeof(out), 1000, p + 2, 124),
                   WS_ETOOBIG);
  /* A 123-byte reason ending in a complete 3-byte code point. */
  memcpy(p + 2 + 120, "\xe2\x82\xac", 3);
  assert_int_equal(ws_close_parse(p, 125, &info, NULL), WS_V_NONE);
  assert_int_equal(ws_close_payload_build(out, 125, 1000, p + 2, 123), 125);
}

static void test_build(void **state) {
  (void)state;
  uint8_t out[125];
  memset(out, 0xee, sizeof(out));
  /* Every boundary code: sendable ones build, the rest are refused. */
  for (size_t i = 0; i < NCODES; i++) {
    ws_ssize n = ws_close_payload_build(out, sizeof(out), code_cases[i].code,
                                        (const uint8_t *)"ok", 2);
    if (code_cases[i].valid) {
      assert_int_equal(n, 4);
      assert_int_equal(out[0], code_cases[i].code >> 8);
      assert_int_equal(out[1], code_cases[i].code & 0xff);
      assert_memory_equal(out + 2, "ok", 2);
    } else {
      assert_int_equal(n, WS_EINVAL);
    }
  }
  /* 1005 means "no status": empty body, no reason allowed. */
  assert_int_equal(ws_close_payload_build(out, sizeof(out), 1005, NULL, 0), 0);
  assert_int_equal(ws_close_payload_build(NULL, 0, 1005, NULL, 0), 0);
  assert_int_equal(
      ws_close_payload_build(out, sizeof(out), 1005, (const uint8_t *)"x", 1),
      WS_EINVAL);
  /* Code alone. */
  assert_int_equal(ws_close_payload_build(out, sizeof(out), 3000, NULL, 0), 2);
  assert_int_equal(out[0], 0x0b);
  assert_int_equal(out[1], 0xb8);
  /* Bad UTF-8 reasons are refused, fail-fast or truncated. */
  assert_int_equal(ws_close_payload_build(out, sizeof(out), 1000,
                                          (const uint8_t *)"a\xff", 2),
                   WS_EINVAL);
  assert_int_equal(ws_close_payload_build(out, sizeof(out), 1000,
                                          (const uint8_t *)"a\xe2\x82", 3),
                   WS_EINVAL);
  /* Too small an output buffer; NULL reason with a length. */
  assert_int_equal(ws_close_payload_build(out, 3, 1000,
                                          (const uint8_t *)"ab", 2),
                   WS_ENOBUFS);
  assert_int_equal(ws_close_payload_build(out, sizeof(out), 1000, NULL, 2),
                   WS_EINVAL);
  /* What is built parses back to the same code and reason. */
  ws_ssize n = ws_close_payload_build(out, sizeof(out), 1011,
                                      (const uint8_t *)"\xce\xba", 2);
  assert_int_equal(n, 4);
  struct ws_close_info info;
  assert_int_equal(ws_close_parse(out, (size_t)n, &info, NULL), WS_V_NONE);
  assert_int_equal(info.code, 1011);
  assert_int_equal(info.reason_len, 2);
  assert_memory_equal(info.reason, "\xce\xba", 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_code_classes),
      cmocka_unit_test(test_every_code_parsed),
      cmocka_unit_test(test_boundary_codes_parsed),
      cmocka_unit_test(test_empty_payload),
      cmocka_unit_test(test_one_byte_payload),
      cmocka_unit_test(test_two_byte_payload),
      cmocka_unit_test(test_reasons),
      cmocka_unit_test(test_check_sticky),
      cmocka_unit_test(test_reason_123),
      cmocka_unit_test(test_build),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
