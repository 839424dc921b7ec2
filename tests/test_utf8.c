/*
 * test_utf8.c: the UTF-8 validator (ws_utf8.h).
 *
 * Every input is checked on both implementations, whole, one byte at a
 * time and split at every position (three ways for short inputs), from
 * exact-size guard-page buffers. The expected verdict and offset come from
 * hand-written vectors (Markus Kuhn's stress test, the Autobahn 6.x cases)
 * and from a slow reference validator that decodes code points the
 * textbook way; the reference itself is checked against the hand-written
 * vectors first.
 */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8_encode.h"
#include "ws/ws_utf8.h"

/* ------------------------------------------------------------------------
 * Outcomes and the reference validator.
 */

enum where { OK = 0, IN_FEED = 1, IN_FINISH = 2 };

/* The result of validating a whole string: valid, or the offset and
 * whether feed (an invalid byte) or finish (a truncated code point)
 * reported it. */
struct outcome {
  enum where where;
  uint64_t off;
};

static const enum ws_utf8_impl impls[] = {WS_UTF8_PORTABLE, WS_UTF8_AVX2};
static const char *const impl_names[] = {"auto", "portable", "avx2"};

/* Sequence length announced by a lead byte; 0 for continuation bytes and
 * F8..FF, which start nothing. */
static int ref_length(uint8_t b) {
  if (b < 0x80)
    return 1;
  if ((b & 0xE0) == 0xC0)
    return 2;
  if ((b & 0xF0) == 0xE0)
    return 3;
  if ((b & 0xF8) == 0xF0)
    return 4;
  return 0;
}

/*
 * Can the first k bytes of an L-byte sequence still become a valid code
 * point? The bytes seen fix the top bits; each missing continuation byte
 * ranges over 80..BF. Valid means at least the smallest value that needs L
 * bytes, at most U+10FFFF, and not only surrogates (RFC 3629 Section 3).
 */
static int ref_prefix_ok(const uint8_t *s, int k, int len) {
  static const uint32_t lead_bits[5] = {0, 0, 0x1F, 0x0F, 0x07};
  static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
  uint32_t lo = s[0] & lead_bits[len];
  uint32_t hi = lo;
  for (int j = 1; j < len; j++) {
    lo = lo << 6 | (j < k ? (s[j] & 0x3Fu) : 0x00u);
    hi = hi << 6 | (j < k ? (s[j] & 0x3Fu) : 0x3Fu);
  }
  uint32_t a = lo > min_cp[len] ? lo : min_cp[len];
  uint32_t b = hi < 0x10FFFF ? hi : 0x10FFFF;
  if (a > b)
    return 0;
  if (a >= 0xD800 && b <= 0xDFFF)
    return 0;
  return 1;
}

/* The slow, obviously correct validator: walk code point by code point. */
static struct outcome ref_validate(const uint8_t *p, size_t n) {
  struct outcome o = {OK, 0};
  size_t i = 0;
  while (i < n) {
    int len = ref_length(p[i]);
    if (len == 1) {
      i++;
      continue;
    }
    if (len == 0 || !ref_prefix_ok(p + i, 1, len)) {
      o.where = IN_FEED;
      o.off = i;
      return o;
    }
    for (int j = 1; j < len; j++) {
      if (i + (size_t)j >= n) {
        o.where = IN_FINISH;
        o.off = n;
        return o;
      }
      if ((p[i + (size_t)j] & 0xC0) != 0x80 ||
          !ref_prefix_ok(p + i, j + 1, len)) {
        o.where = IN_FEED;
        o.off = i + (size_t)j;
        return o;
      }
    }
    i += (size_t)len;
  }
  return o;
}

/* ------------------------------------------------------------------------
 * Running the validator.
 */

/*
 * One guarded buffer, mapped once for the whole run: a piece of up to
 * SLOT_CAP bytes is copied so that it ends right before the guard page, so
 * reading past its end faults, without an mmap per piece. Only one piece
 * is in use at a time.
 */
#define SLOT_CAP (128 * 1024)
static struct guarded slot;

static int slot_setup(void **state) {
  (void)state;
  uint8_t *z = calloc(1, SLOT_CAP);
  if (!z)
    return -1;
  slot = guarded_copy(z, SLOT_CAP);
  free(z);
  return 0;
}

static int slot_teardown(void **state) {
  (void)state;
  guarded_free(&slot);
  return 0;
}

/* Returns a copy of p[0..n) that ends at the guard page. */
static const uint8_t *slot_put(const uint8_t *p, size_t n) {
  assert_true(n <= SLOT_CAP);
  uint8_t *d = slot.data + SLOT_CAP - n;
  if (n)
    memcpy(d, p, n);
  return d;
}

/*
 * Feeds p[0..n) in pieces that end at cuts[0..ncuts) (non-decreasing) and
 * then at n, each piece ending right before a guard page, then
 * finishes. Checks the fail-fast contract on the way: INVALID comes from
 * the piece that holds the offending byte, and the validator stays
 * invalid with the same offset afterwards.
 */
static struct outcome run_split(enum ws_utf8_impl impl, const uint8_t *p,
                                size_t n, const size_t *cuts, size_t ncuts) {
  struct ws_utf8 v;
  struct outcome o = {OK, 0};
  uint64_t off = 0;
  size_t at = 0;
  ws_utf8_init(&v, impl);
  for (size_t k = 0; k <= ncuts; k++) {
    size_t end = k < ncuts ? cuts[k] : n;
    const uint8_t *piece = slot_put(p + at, end - at);
    off = UINT64_MAX;
    int r = ws_utf8_feed(&v, piece, end - at, &off);
    if (r == WS_UTF8_INVALID) {
      /* Fail fast: the offending byte is in this piece. */
      if (off < at || off >= end)
        fail_msg("offset %llu reported by the piece [%zu, %zu)",
                 (unsigned long long)off, at, end);
      o.where = IN_FEED;
      o.off = off;
      goto sticky;
    }
    assert_int_equal(r, WS_UTF8_VALID);
    at = end;
  }
  off = UINT64_MAX;
  if (ws_utf8_finish(&v, &off) == WS_UTF8_VALID)
    return o;
  o.where = IN_FINISH;
  o.off = off;
sticky:
  /* Stays invalid, same offset, whatever comes next. */
  off = UINT64_MAX;
  assert_int_equal(ws_utf8_feed(&v, (const uint8_t *)"a", 1, &off),
                   WS_UTF8_INVALID);
  assert_int_equal(off, o.off);
  off = UINT64_MAX;
  assert_int_equal(ws_utf8_finish(&v, &off), WS_UTF8_INVALID);
  assert_int_equal(off, o.off);
  return o;
}

static void expect(struct outcome got, struct outcome want, const char *how,
                   enum ws_utf8_impl impl, const uint8_t *p, size_t n) {
  if (got.where == want.where && got.off == want.off)
    return;
  char hex[3 * 48 + 8] = "";
  size_t shown = n < 48 ? n : 48;
  for (size_t i = 0; i < shown; i++)
    snprintf(hex + 3 * i, 4, "%02x ", p[i]);
  fail_msg("%s/%s, %zu bytes [%s%s]: got where=%d off=%llu, want where=%d "
           "off=%llu",
           impl_names[impl], how, n, hex, n > shown ? "..." : "", got.where,
           (unsigned long long)got.off, want.where,
           (unsigned long long)want.off);
}

/* Splitting levels for check_all: how hard to try. */
enum { SPLIT_SOME = 0, SPLIT_EVERY = 1, SPLIT_THREE = 2 };

/*
 * Checks p[0..n) against |want| on both implementations: whole, then one
 * byte at a time and at every split point (SPLIT_EVERY), then at every
 * pair of split points (SPLIT_THREE). SPLIT_SOME splits at a handful of
 * positions near the ends and the middle.
 */
static void check_all(const uint8_t *p, size_t n, struct outcome want,
                      int level) {
  size_t *cuts = malloc((n + 1) * sizeof(*cuts));
  assert_non_null(cuts);
  for (size_t m = 0; m < sizeof(impls) / sizeof(impls[0]); m++) {
    enum ws_utf8_impl impl = impls[m];
    expect(run_split(impl, p, n, NULL, 0), want, "whole", impl, p, n);
    if (level == SPLIT_SOME) {
      size_t at[] = {0, 1, 2, 3, n / 2, n / 2 + 1, n - 1, n};
      for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
        if (at[k] > n)
          continue;
        expect(run_split(impl, p, n, &at[k], 1), want, "split", impl, p, n);
      }
      continue;
    }
    for (size_t k = 1; k < n; k++)
      cuts[k - 1] = k;
    expect(run_split(impl, p, n, cuts, n ? n - 1 : 0), want, "bytewise",
           impl, p, n);
    for (size_t s = 0; s <= n; s++)
      expect(run_split(impl, p, n, &s, 1), want, "split", impl, p, n);
    if (level < SPLIT_THREE)
      continue;
    for (size_t a = 0; a <= n; a++)
      for (size_t b = a; b <= n; b++) {
        size_t two[2] = {a, b};
        expect(run_split(impl, p, n, two, 2), want, "split3", impl, p, n);
      }
  }
  free(cuts);
}

/* ------------------------------------------------------------------------
 * Hand-written vectors.
 */

struct vector {
  const char *name;
  const char *hex;
  enum where where;
  uint64_t off;
};

#define VALID(name, hex) {name, hex, OK, 0}
#define BAD(name, hex, off) {name, hex, IN_FEED, off}
#define SHORT(name, hex, off) {name, hex, IN_FINISH, off}

static const struct vector vectors[] = {
    VALID("empty", ""),
    /* Boundary code points (Kuhn 2.1, 2.2, 2.3). */
    VALID("U+0000", "00"),
    VALID("U+007F", "7f"),
    VALID("U+0080", "c2 80"),
    VALID("U+07FF", "df bf"),
    VALID("U+0800", "e0 a0 80"),
    VALID("U+D7FF", "ed 9f bf"),
    VALID("U+E000", "ee 80 80"),
    VALID("U+FFFD", "ef bf bd"),
    VALID("U+FFFE noncharacter", "ef bf be"),
    VALID("U+FFFF noncharacter", "ef bf bf"),
    VALID("U+10000", "f0 90 80 80"),
    VALID("U+10FFFF", "f4 8f bf bf"),
    VALID("U+1FFFE noncharacter", "f0 9f bf be"),
    VALID("U+10FFFE noncharacter", "f4 8f bf be"),
    VALID("all lengths", "41 c2 80 e0 a0 80 f0 90 80 80 7f df bf ef bf bf "
                         "f4 8f bf bf"),
    BAD("U+110000", "f4 90 80 80", 1),
    BAD("U+13FFFF", "f4 bf bf bf", 1),
    BAD("F5 lead", "f5 80 80 80", 0),
    BAD("F7 lead", "f7 bf bf bf", 0),
    /* Surrogates (Kuhn 5.1, 5.2): ED A0..BF can only start one. */
    BAD("U+D800", "ed a0 80", 1),
    BAD("U+DB7F", "ed ad bf", 1),
    BAD("U+DBFF", "ed af bf", 1),
    BAD("U+DC00", "ed b0 80", 1),
    BAD("U+DFFF", "ed bf bf", 1),
    BAD("surrogate pair", "ed a0 80 ed b0 80", 1),
    BAD("surrogate after text", "41 42 ed bf", 3),
    /* Overlong forms of every length (Kuhn 4.1, 4.2, 4.3). */
    BAD("overlong 2 of U+0000", "c0 80", 0),
    BAD("overlong 2 of '/'", "c0 af", 0),
    BAD("overlong 2 max", "c1 bf", 0),
    BAD("overlong 3 of U+0000", "e0 80 80", 1),
    BAD("overlong 3 of '/'", "e0 80 af", 1),
    BAD("overlong 3 max", "e0 9f bf", 1),
    BAD("overlong 4 of U+0000", "f0 80 80 80", 1),
    BAD("overlong 4 of '/'", "f0 80 80 af", 1),
    BAD("overlong 4 max", "f0 8f bf bf", 1),
    /* 5- and 6-byte forms and impossible bytes (Kuhn 3.5, 4.x). */
    BAD("5-byte U+0000", "f8 80 80 80 80", 0),
    BAD("5-byte max", "fb bf bf bf bf", 0),
    BAD("6-byte U+0000", "fc 80 80 80 80 80", 0),
    BAD("6-byte max", "fd bf bf bf bf bf", 0),
    BAD("FE", "fe", 0),
    BAD("FF", "ff", 0),
    BAD("FE FE FF FF", "fe fe ff ff", 0),
    BAD("FF after text", "61 62 63 ff", 3),
    /* Stray continuation bytes (Kuhn 3.1). */
    BAD("lone 80", "80", 0),
    BAD("lone BF", "bf", 0),
    BAD("continuation after ASCII", "41 80", 1),
    BAD("extra continuation", "c2 80 80", 2),
    BAD("extra continuation after 4", "f0 90 80 80 80", 4),
    /* Truncated sequences (Kuhn 3.3): at the end, finish reports the
     * length; followed by anything else, that byte is the error. */
    SHORT("C2 at end", "c2", 1),
    SHORT("E1 80 at end", "e1 80", 2),
    SHORT("E1 at end", "e1", 1),
    SHORT("F1 80 80 at end", "f1 80 80", 3),
    SHORT("text then F0 90", "41 f0 90", 3),
    SHORT("U+07FF cut", "df", 1),
    SHORT("U+FFFF cut", "ef bf", 2),
    SHORT("E0 A0 at end", "e0 a0", 2),
    SHORT("ED 9F at end", "ed 9f", 2),
    SHORT("F4 8F BF at end", "f4 8f bf", 3),
    BAD("C2 then ASCII", "c2 41", 1),
    BAD("E1 80 then ASCII", "e1 80 41", 2),
    BAD("F1 80 80 then ASCII", "f1 80 80 41", 3),
    BAD("lead then lead", "c2 c2 80", 1),
    BAD("E1 then F0", "e1 f0 90 80 80", 1),
    /* Autobahn 6.3.1 / 6.4.x: "κόσμε", then an invalid code point, then
     * "edited"; fail fast at octet 12. */
    VALID("6.5.5 kosme", "cebae1bdb9cf83cebcceb5"),
    BAD("6.3.1", "cebae1bdb9cf83cebcceb5eda080656469746564", 12),
    BAD("6.4.x", "cebae1bdb9cf83cebcceb5f4908080656469746564", 12),
    /* Autobahn 6.2.1, 6.5.x. */
    VALID("6.2.1", "48656c6c6f2dc2b540c39fc3b6c3a4c3bcc3a0c3a12d5554462d382121"),
    VALID("6.5.1", "68656c6c6f24776f726c64"),
    VALID("6.5.2", "68656c6c6fc2a2776f726c64"),
    VALID("6.5.3", "68656c6c6fe282ac776f726c64"),
    VALID("6.5.4", "68656c6c6ff0a4ada2776f726c64"),
    /* Autobahn 6.6.x: every prefix of "κόσμε". */
    SHORT("6.6.1", "ce", 1),
    VALID("6.6.2", "ceba"),
    SHORT("6.6.3", "cebae1", 3),
    SHORT("6.6.4", "cebae1bd", 4),
    VALID("6.6.5", "cebae1bdb9"),
    SHORT("6.6.6", "cebae1bdb9cf", 6),
    VALID("6.6.7", "cebae1bdb9cf83"),
    SHORT("6.6.8", "cebae1bdb9cf83ce", 8),
    VALID("6.6.9", "cebae1bdb9cf83cebc"),
    SHORT("6.6.10", "cebae1bdb9cf83cebcce", 10),
    VALID("6.6.11", "cebae1bdb9cf83cebcceb5"),
    /* Autobahn 6.7-6.11. */
    VALID("6.7.1", "00"),
    VALID("6.7.2", "c280"),
    VALID("6.7.3", "e0a080"),
    VALID("6.7.4", "f0908080"),
    BAD("6.8.1", "f888808080", 0),
    BAD("6.8.2", "fc8480808080", 0),
    VALID("6.9.1", "7f"),
    VALID("6.9.2", "dfbf"),
    VALID("6.9.3", "efbfbf"),
    VALID("6.9.4", "f48fbfbf"),
    BAD("6.10.1", "f7bfbfbf", 0),
    BAD("6.10.2", "fbbfbfbfbf", 0),
    BAD("6.10.3", "fdbfbfbfbfbf", 0),
    VALID("6.11.1", "ed9fbf"),
    VALID("6.11.2", "ee8080"),
    VALID("6.11.3", "efbfbd"),
    VALID("6.11.4", "f48fbfbf"),
    BAD("6.11.5", "f4908080", 1),
    /* Autobahn 6.12: continuation bytes. */
    BAD("6.12.1", "80", 0),
    BAD("6.12.2", "bf", 0),
    BAD("6.12.3", "80bf", 0),
    BAD("6.12.4", "80bf80", 0),
    BAD("6.12.5", "80bf80bf", 0),
    BAD("6.12.6", "80bf80bf80", 0),
    BAD("6.12.7", "80bf80bf80bf", 0),
    BAD("6.12.8",
        "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbe",
        0),
    /* Autobahn 6.13: leads followed by a space. */
    BAD("6.13.1",
        "c020c120c220c320c420c520c620c720c820c920ca20cb20cc20cd20ce20cf20"
        "d020d120d220d320d420d520d620d720d820d920da20db20dc20dd20de20",
        0),
    BAD("6.13.2", "e020e120e220e320e420e520e620e720e820e920ea20eb20ec20ed20ee20",
        1),
    BAD("6.13.3", "f020f120f220f320f420f520f620", 1),
    BAD("6.13.4", "f820f920fa20", 0),
    BAD("6.13.5", "fc20", 0),
    /* Autobahn 6.14: last continuation byte missing. */
    BAD("6.14.1", "c0", 0),
    BAD("6.14.2", "e080", 1),
    BAD("6.14.3", "f08080", 1),
    BAD("6.14.4", "f8808080", 0),
    BAD("6.14.5", "fc80808080", 0),
    SHORT("6.14.6", "df", 1),
    SHORT("6.14.7", "efbf", 2),
    BAD("6.14.8", "f7bfbf", 0),
    BAD("6.14.9", "fbbfbfbf", 0),
    BAD("6.14.10", "fdbfbfbfbf", 0),
    BAD("6.15.1", "c0e080f08080f8808080fc80808080dfefbff7bfbffbbfbfbffdbfbfbfbf",
        0),
    BAD("6.16.1", "fe", 0),
    BAD("6.16.2", "ff", 0),
    BAD("6.16.3", "fefeffff", 0),
    BAD("6.17.1", "c0af", 0),
    BAD("6.17.2", "e080af", 1),
    BAD("6.17.3", "f08080af", 1),
    BAD("6.17.4", "f8808080af", 0),
    BAD("6.17.5", "fc80808080af", 0),
    BAD("6.18.1", "c1bf", 0),
    BAD("6.18.2", "e09fbf", 1),
    BAD("6.18.3", "f08fbfbf", 1),
    BAD("6.18.4", "f887bfbfbf", 0),
    BAD("6.18.5", "fc83bfbfbfbf", 0),
    BAD("6.19.1", "c080", 0),
    BAD("6.19.2", "e08080", 1),
    BAD("6.19.3", "f0808080", 1),
    BAD("6.19.4", "f880808080", 0),
    BAD("6.19.5", "fc8080808080", 0),
    BAD("6.20.1", "eda080", 1),
    BAD("6.20.2", "edadbf", 1),
    BAD("6.20.3", "edae80", 1),
    BAD("6.20.4", "edafbf", 1),
    BAD("6.20.5", "edb080", 1),
    BAD("6.20.6", "edbe80", 1),
    BAD("6.20.7", "edbfbf", 1),
    BAD("6.21.1", "eda080edb080", 1),
    BAD("6.21.2", "eda080edbfbf", 1),
    BAD("6.21.3", "edadbfedb080", 1),
    BAD("6.21.4", "edadbfedbfbf", 1),
    BAD("6.21.5", "edae80edb080", 1),
    BAD("6.21.6", "edae80edbfbf", 1),
    BAD("6.21.7", "edafbfedb080", 1),
    BAD("6.21.8", "edafbfedbfbf", 1),
    /* Autobahn 6.22, 6.23: noncharacters and specials are valid. */
    VALID("6.22.1", "efbfbe"),
    VALID("6.22.3", "f09fbfbe"),
    VALID("6.22.8", "f0bfbfbf"),
    VALID("6.22.9", "f18fbfbe"),
    VALID("6.22.16", "f1bfbfbf"),
    VALID("6.22.24", "f2bfbfbf"),
    VALID("6.22.32", "f3bfbfbf"),
    VALID("6.22.33", "f48fbfbe"),
    VALID("6.22.34", "f48fbfbf"),
    VALID("6.23.1", "efbfb9"),
    VALID("6.23.4", "efbfbc"),
    VALID("6.23.5", "efbfbd"),
};

#define NVECTORS (sizeof(vectors) / sizeof(vectors[0]))

static struct outcome vector_outcome(const struct vector *t) {
  struct outcome o = {t->where, t->off};
  return o;
}

/* The reference validator agrees with every hand-written vector; if not,
 * the reference (or the vector) is wrong and nothing else can be trusted. */
static void test_reference_matches_vectors(void **state) {
  (void)state;
  for (size_t i = 0; i < NVECTORS; i++) {
    size_t n;
    uint8_t *p = hex_decode(vectors[i].hex, &n);
    struct outcome got = ref_validate(p, n);
    if (got.where != vectors[i].where || got.off != vectors[i].off)
      fail_msg("reference disagrees on %s: where=%d off=%llu",
               vectors[i].name, got.where, (unsigned long long)got.off);
    free(p);
  }
}

/* Every vector, every split, both paths. */
static void test_vectors(void **state) {
  (void)state;
  for (size_t i = 0; i < NVECTORS; i++) {
    size_t n;
    uint8_t *p = hex_decode(vectors[i].hex, &n);
    check_all(p, n, vector_outcome(&vectors[i]),
              n <= 24 ? SPLIT_THREE : SPLIT_EVERY);
    free(p);
  }
}

/*
 * The same vectors behind a prefix long enough for the AVX2 path to run
 * its vector code, placed so the vector crosses a 32- or 64-byte block
 * boundary, and followed by text when that does not change the verdict.
 */
static void test_vectors_in_context(void **state) {
  (void)state;
  /* 61 ASCII bytes; 30 two-byte letters; 21 three-byte CJK + 1 ASCII. */
  uint8_t ascii[61], greek[60], cjk[64];
  memset(ascii, 'a', sizeof(ascii));
  for (size_t i = 0; i < sizeof(greek); i += 2) {
    greek[i] = 0xce;
    greek[i + 1] = 0xba;
  }
  for (size_t i = 0; i + 3 <= 63; i += 3) {
    cjk[i] = 0xe4;
    cjk[i + 1] = 0xb8;
    cjk[i + 2] = 0xad;
  }
  cjk[63] = 'z';
  const struct {
    const uint8_t *p;
    size_t n;
  } prefixes[] = {{ascii, 61}, {ascii, 31}, {greek, 60}, {greek, 30},
                  {cjk, 64}, {cjk, 63}};
  static const uint8_t tail[40] = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
  uint8_t buf[64 + 128 + 40];

  for (size_t i = 0; i < NVECTORS; i++) {
    size_t n;
    uint8_t *p = hex_decode(vectors[i].hex, &n);
    assert_true(n <= 128);
    for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
      size_t m = prefixes[k].n;
      memcpy(buf, prefixes[k].p, m);
      memcpy(buf + m, p, n);
      struct outcome want = vector_outcome(&vectors[i]);
      if (want.where != OK)
        want.off += m;
      size_t total = m + n;
      if (want.where != IN_FINISH) {
        memcpy(buf + total, tail, sizeof(tail));
        total += sizeof(tail);
      }
      struct outcome ref = ref_validate(buf, total);
      assert_int_equal(ref.where, want.where);
      assert_int_equal(ref.off, want.off);
      check_all(buf, total, want, SPLIT_EVERY);
    }
    free(p);
  }
}

/* ------------------------------------------------------------------------
 * Exhaustive short strings, compared with the reference.
 */

/* Bytes at every class edge of RFC 3629's table. */
static const uint8_t edges[] = {
    0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
    0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0,
    0xf1, 0xf3, 0xf4, 0xf5, 0xf7, 0xf8, 0xfe, 0xff};
#define NEDGES (sizeof(edges) / sizeof(edges[0]))

/*
 * Validates one short string s[0..n) at offset |lead| inside a guarded
 * buffer whose other bytes are ASCII, whole and split right after the
 * lead-in and in the middle of s, on both paths, against the reference.
 * |g| must be |lead| + n + |trail| bytes long.
 */
static void check_short(struct guarded *g, size_t lead, const uint8_t *s,
                        size_t n) {
  memcpy(g->data + lead, s, n);
  struct outcome want = ref_validate(g->data, g->len);
  size_t cut_a = lead, cut_b = lead + n / 2 + 1;
  for (size_t m = 0; m < 2; m++) {
    struct ws_utf8 v;
    uint64_t off = UINT64_MAX;
    struct outcome got = {OK, 0};
    /* Whole, straight from the guarded buffer. */
    ws_utf8_init(&v, impls[m]);
    if (ws_utf8_feed(&v, g->data, g->len, &off) != WS_UTF8_VALID)
      got.where = IN_FEED, got.off = off;
    else if (ws_utf8_finish(&v, &off) != WS_UTF8_VALID)
      got.where = IN_FINISH, got.off = off;
    expect(got, want, "whole", impls[m], g->data, g->len);
    /* Two cuts (the pieces share the guarded buffer; only the last one
     * ends at the guard page). */
    if (cut_b > g->len)
      cut_b = g->len;
    got.where = OK;
    got.off = 0;
    ws_utf8_init(&v, impls[m]);
    if (ws_utf8_feed(&v, g->data, cut_a, &off) != WS_UTF8_VALID ||
        ws_utf8_feed(&v, g->data + cut_a, cut_b - cut_a, &off) !=
            WS_UTF8_VALID ||
        ws_utf8_feed(&v, g->data + cut_b, g->len - cut_b, &off) !=
            WS_UTF8_VALID)
      got.where = IN_FEED, got.off = off;
    else if (ws_utf8_finish(&v, &off) != WS_UTF8_VALID)
      got.where = IN_FINISH, got.off = off;
    expect(got, want, "cut", impls[m], g->data, g->len);
  }
}

/* Placements of a short string: alone, and around the 32- and 64-byte
 * block edges with ASCII on both sides. {lead, trail}. */
static const size_t placements[][2] = {
    {0, 0}, {0, 40}, {30, 40}, {31, 40}, {61, 40}, {62, 3}, {63, 0}, {62, 0},
    {95, 0}, {127, 5}};
#define NPLACE (sizeof(placements) / sizeof(placements[0]))

static void for_placements(const uint8_t *s, size_t n,
                           struct guarded g[NPLACE][5]) {
  for (size_t k = 0; k < NPLACE; k++)
    check_short(&g[k][n], placements[k][0], s, n);
}

static void test_exhaustive_short(void **state) {
  (void)state;
  /* g[k][n]: an ASCII-filled guarded buffer for placement k and length n. */
  static struct guarded g[NPLACE][5];
  uint8_t fill[200];
  memset(fill, 'x', sizeof(fill));
  for (size_t k = 0; k < NPLACE; k++)
    for (size_t n = 1; n <= 4; n++)
      g[k][n] = guarded_copy(fill, placements[k][0] + n + placements[k][1]);

  uint8_t s[4];
  for (unsigned a = 0; a < 256; a++) {
    s[0] = (uint8_t)a;
    for_placements(s, 1, g);
    for (unsigned b = 0; b < 256; b++) {
      s[1] = (uint8_t)b;
      /* Every pair at two placements, the rest of the placements for edge
       * bytes only, to keep the run short. */
      check_short(&g[0][2], 0, s, 2);
      check_short(&g[4][2], placements[4][0], s, 2);
    }
    for (size_t b = 0; b < NEDGES; b++) {
      s[1] = edges[b];
      for_placements(s, 2, g);
      for (size_t c = 0; c < NEDGES; c++) {
        s[2] = edges[c];
        check_short(&g[0][3], 0, s, 3);
        check_short(&g[3][3], placements[3][0], s, 3);
      }
    }
  }
  for (size_t a = 0; a < NEDGES; a++)
    for (size_t b = 0; b < NEDGES; b++)
      for (size_t c = 0; c < NEDGES; c++)
        for (size_t d = 0; d < NEDGES; d++) {
          s[0] = edges[a];
          s[1] = edges[b];
          s[2] = edges[c];
          s[3] = edges[d];
          check_short(&g[1][4], 0, s, 4);
          check_short(&g[4][4], placements[4][0], s, 4);
          check_short(&g[6][4], placements[6][0], s, 4);
        }
  for (size_t k = 0; k < NPLACE; k++)
    for (size_t n = 1; n <= 4; n++)
      guarded_free(&g[k][n]);
}

/* ------------------------------------------------------------------------
 * Random strings.
 */

static uint32_t rnd(uint64_t *seed) {
  uint8_t b[4];
  test_random(b, 4, seed);
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
         (uint32_t)b[3] << 24;
}

/* A random scalar value of the given class (0 ASCII .. 3 four bytes, 4 a
 * boundary value). */
static uint32_t random_cp(uint64_t *seed, unsigned cls) {
  static const uint32_t edge_cps[] = {0x0,    0x7F,   0x80,    0x7FF,
                                      0x800,  0xD7FF, 0xE000,  0xFFFD,
                                      0xFFFE, 0xFFFF, 0x10000, 0x10FFFF};
  uint32_t r = rnd(seed);
  switch (cls) {
  case 0:
    return r % 0x80;
  case 1:
    return 0x80 + r % (0x800 - 0x80);
  case 2: {
    uint32_t cp = 0x800 + r % (0x10000 - 0x800 - 0x800);
    return cp < 0xD800 ? cp : cp + 0x800; /* skip the surrogates */
  }
  case 3:
    return 0x10000 + r % (0x110000 - 0x10000);
  default:
    return edge_cps[r % (sizeof(edge_cps) / sizeof(edge_cps[0]))];
  }
}

/*
 * Fills out[0..n) with valid UTF-8 (a code point that would not fit is
 * replaced by ASCII). Runs of one class alternate with mixed runs, so both
 * the ASCII fast path and the full check see work.
 */
static void random_valid(uint64_t *seed, uint8_t *out, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned mode = rnd(seed) % 6; /* 0..4 one class, 5 mixed */
    size_t run = 1 + rnd(seed) % 100;
    for (size_t k = 0; k < run && i < n; k++) {
      unsigned cls = mode < 5 ? mode : rnd(seed) % 5;
      uint8_t tmp[4];
      size_t len = utf8_encode(random_cp(seed, cls), tmp);
      if (i + len > n) {
        out[i++] = 'x';
        continue;
      }
      memcpy(out + i, tmp, len);
      i += len;
    }
  }
}

/* Breaks the string in one of several ways, or leaves it alone. Returns
 * the new length (at most n + 1). */
static size_t corrupt(uint64_t *seed, uint8_t *p, size_t n) {
  if (n == 0)
    return n;
  size_t at = rnd(seed) % n;
  switch (rnd(seed) % 6) {
  case 0: /* leave it valid */
    return n;
  case 1:
    p[at] = (uint8_t)rnd(seed);
    return n;
  case 2:
    p[at] = edges[rnd(seed) % NEDGES];
    return n;
  case 3: /* insert a byte */
    memmove(p + at + 1, p + at, n - at);
    p[at] = edges[rnd(seed) % NEDGES];
    return n + 1;
  case 4: /* delete a byte */
    memmove(p + at, p + at + 1, n - at - 1);
    return n - 1;
  default: /* truncate */
    return at;
  }
}

/* |k| sorted random cut points in [0, n]. */
static void random_cuts(uint64_t *seed, size_t n, size_t *cuts, size_t k) {
  for (size_t i = 0; i < k; i++)
    cuts[i] = rnd(seed) % (n + 1);
  for (size_t i = 1; i < k; i++)
    for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
      size_t t = cuts[j];
      cuts[j] = cuts[j - 1];
      cuts[j - 1] = t;
    }
}

static void check_random(uint64_t *seed, const uint8_t *p, size_t n,
                         size_t max_cuts) {
  struct outcome want = ref_validate(p, n);
  size_t cuts[16];
  assert_true(max_cuts <= 16);
  for (size_t m = 0; m < 2; m++) {
    expect(run_split(impls[m], p, n, NULL, 0), want, "whole", impls[m], p, n);
    size_t k = 1 + rnd(seed) % max_cuts;
    random_cuts(seed, n, cuts, k);
    expect(run_split(impls[m], p, n, cuts, k), want, "random split",
           impls[m], p, n);
  }
}

static void test_random_short(void **state) {
  (void)state;
  uint64_t seed = 0x5eed0001;
  uint8_t buf[302];
  long invalid = 0;
  for (int iter = 0; iter < 6000; iter++) {
    size_t n = rnd(&seed) % 301;
    random_valid(&seed, buf, n);
    n = corrupt(&seed, buf, n);
    invalid += ref_validate(buf, n).where != OK;
    check_random(&seed, buf, n, 4);
  }
  /* The corruption must produce a healthy share of both verdicts. */
  assert_in_range(invalid, 2000, 5500);
}

static void test_random_long(void **state) {
  (void)state;
  uint64_t seed = 0x5eed0002;
  size_t cap = 64 * 1024 + 1;
  uint8_t *buf = malloc(cap);
  assert_non_null(buf);
  for (int iter = 0; iter < 40; iter++) {
    size_t n = 64 * 1024 - rnd(&seed) % 64;
    random_valid(&seed, buf, n);
    /* Half the time the error sits in the last 200 bytes, after a long
     * clean run through the vector code. */
    if (iter % 2) {
      size_t at = n - 1 - rnd(&seed) % 200;
      buf[at] = edges[rnd(&seed) % NEDGES];
    } else {
      n = corrupt(&seed, buf, n);
    }
    check_random(&seed, buf, n, 16);
  }
  free(buf);
}

/* ------------------------------------------------------------------------
 * Block boundaries (the AVX2 path checks 64-byte blocks of two 32-byte
 * vectors).
 */

static void test_block_boundaries(void **state) {
  (void)state;
  static const char *const events[] = {
      "80",       "c0",       "f5",       "ff",          "e0 80",
      "ed a0",    "f4 90",    "f0 8f",    "c2 41",       "e1 80 41",
      "f1 80 80 41", "c2",    "e1 80",    "f1 80 80",    "c2 80",
      "e0 a0 80", "ef bf bf", "f0 90 80 80", "f4 8f bf bf"};
  static const uint8_t fillers[][4] = {
      {'a'}, {0xc3, 0xa9}, {0xe2, 0x82, 0xac}, {0xf0, 0x9f, 0x98, 0x80}};
  uint8_t buf[160 + 4 + 40];
  for (size_t f = 0; f < 4; f++) {
    size_t flen = f + 1;
    for (size_t lead = 0; lead <= 160; lead++) {
      /* |lead| bytes of filler, topped up with ASCII. */
      size_t i = 0;
      for (; i + flen <= lead; i += flen)
        memcpy(buf + i, fillers[f], flen);
      memset(buf + i, 'y', lead - i);
      for (size_t e = 0; e < sizeof(events) / sizeof(events[0]); e++) {
        size_t n;
        uint8_t *ev = hex_decode(events[e], &n);
        memcpy(buf + lead, ev, n);
        free(ev);
        for (size_t t = 0; t < 3; t++) {
          /* Nothing after the event, one ASCII byte, or 40. */
          size_t trail = t == 0 ? 0 : t == 1 ? 1 : 40;
          memset(buf + lead + n, 'z', trail);
          size_t total = lead + n + trail;
          struct outcome want = ref_validate(buf, total);
          size_t cuts[3] = {lead, lead + 1, total};
          for (size_t m = 0; m < 2; m++) {
            expect(run_split(impls[m], buf, total, NULL, 0), want, "whole",
                   impls[m], buf, total);
            expect(run_split(impls[m], buf, total, cuts, 1), want, "at lead",
                   impls[m], buf, total);
            expect(run_split(impls[m], buf, total, cuts + 1, 1), want,
                   "after lead", impls[m], buf, total);
            /* Cut at the 64-byte block edge nearest the event. */
            size_t edge = (lead + 32) / 64 * 64;
            if (edge <= total)
              expect(run_split(impls[m], buf, total, &edge, 1), want,
                     "at block", impls[m], buf, total);
          }
        }
      }
    }
  }
}

/*
 * A chunk that starts inside a code point: every open state the previous
 * chunk can leave, followed by chunks of many lengths that are all ASCII
 * (invalid at their first byte), or that finish the code point and go on
 * in ASCII or CJK (valid). The AVX2 path skips leading ASCII blocks, which
 * is only allowed at a code point boundary.
 */
static void test_open_state_then_chunk(void **state) {
  (void)state;
  static const char *const opens[] = {"c2", "e1", "e1 80", "e0", "e0 a0",
                                      "ed", "ed 9f", "f0", "f0 90",
                                      "f1", "f1 80", "f1 80 80", "f4",
                                      "f4 8f", "f4 8f bf"};
  static const size_t lens[] = {1, 2, 31, 32, 33, 63, 64, 65, 95, 96,
                                97, 127, 128, 129, 200, 1000};
  uint8_t buf[3 + 4 + 1000];
  for (size_t o = 0; o < sizeof(opens) / sizeof(opens[0]); o++) {
    size_t m;
    uint8_t *head = hex_decode(opens[o], &m);
    /* The bytes that close this code point: 80 after C2/E1/F1 (and after
     * ED or F4, whose second byte must be below A0 or 90), A0 after E0,
     * 90 after F0, then 80s. */
    size_t need = (head[0] >= 0xF0 ? 4 : head[0] >= 0xE0 ? 3 : 2) - m;
    uint8_t second = head[0] == 0xE0 ? 0xA0 : head[0] == 0xF0 ? 0x90 : 0x80;
    memcpy(buf, head, m);
    for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
      size_t n = lens[l];
      size_t cut[1] = {m};
      /* All ASCII: invalid at the first byte after the open code point. */
      memset(buf + m, 'q', n);
      struct outcome bad = {IN_FEED, m};
      for (size_t k = 0; k < 2; k++)
        expect(run_split(impls[k], buf, m + n, cut, 1), bad, "open+ascii",
               impls[k], buf, m + n);
      /* Closed first, then ASCII or CJK: valid. */
      for (size_t j = 0; j < need; j++)
        buf[m + j] = j == 0 && m == 1 ? second : 0x80;
      for (int cjk = 0; cjk < 2; cjk++) {
        size_t total = m + need + n;
        memset(buf + m + need, 'q', n);
        if (cjk)
          for (size_t j = 0; j + 3 <= n; j += 3)
            memcpy(buf + m + need + j, "\xe4\xb8\xad", 3);
        struct outcome want = ref_validate(buf, total);
        assert_int_equal(want.where, OK);
        for (size_t k = 0; k < 2; k++)
          expect(run_split(impls[k], buf, total, cut, 1), want, "open+closed",
                 impls[k], buf, total);
      }
    }
    free(head);
  }
}

/*
 * Every chunk length up to 160 with one bad byte at every position, in
 * ASCII and in multi-byte text: exercises the short-chunk and overlapping
 * tail code of the AVX2 path at each alignment.
 */
static void test_every_length_every_position(void **state) {
  (void)state;
  static const uint8_t bad_bytes[] = {0x80, 0xc0, 0xed, 0xff};
  uint64_t seed = 0x5eed0004;
  uint8_t text[160], buf[160];
  for (int kind = 0; kind < 2; kind++) {
    if (kind == 0)
      memset(text, 'k', sizeof(text));
    else
      random_valid(&seed, text, sizeof(text));
    for (size_t n = 1; n <= sizeof(text); n++)
      for (size_t e = 0; e < n; e++)
        for (size_t b = 0; b < sizeof(bad_bytes); b++) {
          memcpy(buf, text, n);
          buf[e] = bad_bytes[b];
          struct outcome want = ref_validate(buf, n);
          for (size_t k = 0; k < 2; k++) {
            expect(run_split(impls[k], buf, n, NULL, 0), want, "whole",
                   impls[k], buf, n);
            expect(run_split(impls[k], buf, n, &e, 1), want, "at error",
                   impls[k], buf, n);
          }
        }
  }
}

/* ------------------------------------------------------------------------
 * API details.
 */

static void test_impl_selection(void **state) {
  (void)state;
  struct ws_utf8 v;
  enum ws_utf8_impl best =
      ws_utf8_have_avx2() ? WS_UTF8_AVX2 : WS_UTF8_PORTABLE;
  ws_utf8_init(&v, WS_UTF8_AUTO);
  assert_int_equal(v.impl, best);
  assert_int_equal(v.pos, 0);
  ws_utf8_init(&v, WS_UTF8_PORTABLE);
  assert_int_equal(v.impl, WS_UTF8_PORTABLE);
  ws_utf8_init(&v, WS_UTF8_AVX2);
  assert_int_equal(v.impl, best);
#if defined(__x86_64__)
  assert_int_equal(ws_utf8_have_avx2(),
                   __builtin_cpu_supports("avx2") ? 1 : 0);
#endif
}

static void test_sticky_and_offsets(void **state) {
  (void)state;
  for (size_t m = 0; m < 2; m++) {
    struct ws_utf8 v;
    uint64_t off = 0;
    struct guarded a = guarded_copy("hello \xce\xba", 8);
    struct guarded b = guarded_copy("\xe1\xbd", 2);
    struct guarded c = guarded_copy("\xb9 ok", 4);
    /* Offsets count from the start of the string, across feeds. */
    ws_utf8_init(&v, impls[m]);
    assert_int_equal(ws_utf8_feed(&v, a.data, a.len, &off), WS_UTF8_VALID);
    assert_int_equal(ws_utf8_feed(&v, b.data, b.len, &off), WS_UTF8_VALID);
    assert_int_equal(v.pos, 10);
    /* Truncated: finish reports the number of bytes fed. */
    assert_int_equal(ws_utf8_finish(&v, &off), WS_UTF8_INVALID);
    assert_int_equal(off, 10);
    /* And stays invalid even if the missing byte arrives. */
    off = 0;
    assert_int_equal(ws_utf8_feed(&v, c.data, c.len, &off), WS_UTF8_INVALID);
    assert_int_equal(off, 10);
    /* Completed in the next chunk: valid. */
    ws_utf8_init(&v, impls[m]);
    assert_int_equal(ws_utf8_feed(&v, a.data, a.len, NULL), WS_UTF8_VALID);
    assert_int_equal(ws_utf8_feed(&v, b.data, b.len, NULL), WS_UTF8_VALID);
    assert_int_equal(ws_utf8_feed(&v, c.data, c.len, NULL), WS_UTF8_VALID);
    assert_int_equal(ws_utf8_feed(&v, NULL, 0, NULL), WS_UTF8_VALID);
    assert_int_equal(ws_utf8_finish(&v, NULL), WS_UTF8_VALID);
    assert_int_equal(ws_utf8_finish(&v, NULL), WS_UTF8_VALID);
    assert_int_equal(v.pos, 14);
    /* A NULL err_offset is allowed on failure too. */
    ws_utf8_init(&v, impls[m]);
    assert_int_equal(ws_utf8_feed(&v, c.data, c.len, NULL), WS_UTF8_INVALID);
    guarded_free(&a);
    guarded_free(&b);
    guarded_free(&c);
  }
}

static void test_validate_one_shot(void **state) {
  (void)state;
  uint64_t off = 99;
  assert_int_equal(ws_utf8_validate(NULL, 0, &off), WS_UTF8_VALID);
  assert_int_equal(off, 99);
  struct guarded g = guarded_copy("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce"
                                  "\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65"
                                  "\x64",
                                  21);
  assert_int_equal(ws_utf8_validate(g.data, g.len, &off), WS_UTF8_INVALID);
  assert_int_equal(off, 12);
  assert_int_equal(ws_utf8_validate(g.data, 11, &off), WS_UTF8_VALID);
  assert_int_equal(ws_utf8_validate(g.data, 12, &off), WS_UTF8_INVALID);
  assert_int_equal(off, 12);
  assert_int_equal(ws_utf8_validate(g.data, 12, NULL), WS_UTF8_INVALID);
  guarded_free(&g);
}

/* A megabyte through the vector path: clean, then broken at the last byte
 * and at the last byte of a middle block. */
static void test_large(void **state) {
  (void)state;
  uint64_t seed = 0x5eed0003;
  size_t n = 1 << 20;
  uint8_t *p = malloc(n);
  assert_non_null(p);
  random_valid(&seed, p, n - 1);
  p[n - 1] = 'x';
  for (size_t m = 0; m < 2; m++) {
    struct guarded g = guarded_copy(p, n);
    uint64_t off = 0;
    struct ws_utf8 v;
    ws_utf8_init(&v, impls[m]);
    assert_int_equal(ws_utf8_feed(&v, g.data, n, &off), WS_UTF8_VALID);
    assert_int_equal(ws_utf8_finish(&v, &off), WS_UTF8_VALID);
    g.data[n - 1] = 0x80;
    assert_int_equal(ws_utf8_validate(g.data, n, &off), WS_UTF8_INVALID);
    ws_utf8_init(&v, impls[m]);
    assert_int_equal(ws_utf8_feed(&v, g.data, n, &off), WS_UTF8_INVALID);
    assert_int_equal(off, n - 1);
    g.data[n - 1] = 'x';
    /* Put a lead byte at the end of a 64-byte block, in place of an ASCII
     * byte that is not followed by a continuation. */
    size_t at = n / 2 + 63;
    while (g.data[at] >= 0x80 || (g.data[at + 1] & 0xC0) == 0x80 ||
           ((at + 1) & 63) != 0)
      at++;
    g.data[at] = 0xc2;
    ws_utf8_init(&v, impls[m]);
    assert_int_equal(ws_utf8_feed(&v, g.data, n, &off), WS_UTF8_INVALID);
    assert_int_equal(off, at + 1);
    guarded_free(&g);
  }
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reference_matches_vectors),
      cmocka_unit_test(test_vectors),
      cmocka_unit_test(test_vectors_in_context),
      cmocka_unit_test(test_exhaustive_short),
      cmocka_unit_test(test_random_short),
      cmocka_unit_test(test_random_long),
      cmocka_unit_test(test_block_boundaries),
      cmocka_unit_test(test_open_state_then_chunk),
      cmocka_unit_test(test_every_length_every_position),
      cmocka_unit_test(test_impl_selection),
      cmocka_unit_test(test_sticky_and_offsets),
      cmocka_unit_test(test_validate_one_shot),
      cmocka_unit_test(test_large),
  };
  return cmocka_run_group_tests(tests, slot_setup, slot_teardown);
}
