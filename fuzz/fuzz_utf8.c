/*
 * fuzz_utf8: the incremental UTF-8 validator (ws_utf8.h), both
 * implementations, against a slow reference written from the RFC 3629
 * table (fuzz_util.h: fuzz_utf8_ref).
 *
 * Input:
 *   byte 0      number of cuts k (bits 0-3, 0..15)
 *   bytes 1..k  chunk lengths (0 is an empty feed)
 *   rest        the string; the chunks cut it, the last one takes the
 *               rest
 *
 * For PORTABLE and AVX2 (AVX2 falls back to PORTABLE without the CPU
 * feature), each fed whole and fed in the chunks: the verdict and the
 * fail-fast offset equal the reference's; after INVALID every later feed
 * and finish repeat the same offset; ws_utf8_validate (AUTO) agrees. The
 * chunk lengths are bytes, so chunks of 32 and more (the AVX2 path)
 * and chunks that end inside a code point both occur.
 */
#include "fuzz_util.h"
#include "ws/ws_utf8.h"

#define MAX_CUTS 15

/* Feeds p[0..n) cut at |cuts| (lengths), then finishes. Returns the
 * verdict, *off the offset on INVALID. */
static int run(enum ws_utf8_impl impl, const uint8_t *p, size_t n,
               const size_t *cuts, size_t ncuts, uint64_t *off) {
  struct ws_utf8 v;
  uint64_t o = 0;
  size_t at = 0;
  int r = WS_UTF8_VALID;
  ws_utf8_init(&v, impl);
  FUZZ_CHECK(v.impl == WS_UTF8_PORTABLE || v.impl == WS_UTF8_AVX2);
  if (impl == WS_UTF8_PORTABLE)
    FUZZ_CHECK(v.impl == WS_UTF8_PORTABLE);
  for (size_t k = 0; k <= ncuts && r == WS_UTF8_VALID; k++) {
    size_t len = k < ncuts ? cuts[k] : n - at;
    if (len > n - at)
      len = n - at;
    /* Each chunk in memory of its exact size. */
    uint8_t *q = fuzz_dup(p + at, len);
    r = ws_utf8_feed(&v, q, len, &o);
    free(q);
    at += len;
    if (r == WS_UTF8_VALID)
      FUZZ_CHECK(v.pos == at);
  }
  if (r == WS_UTF8_VALID)
    r = ws_utf8_finish(&v, &o);
  if (r == WS_UTF8_INVALID) {
    /* Sticky: the same answer for anything that follows. */
    uint64_t o2 = 0, o3 = 0;
    static const uint8_t ascii[40] = "0123456789012345678901234567890123456789";
    FUZZ_CHECK(ws_utf8_feed(&v, ascii, sizeof(ascii), &o2) == WS_UTF8_INVALID &&
               o2 == o);
    FUZZ_CHECK(ws_utf8_feed(&v, NULL, 0, NULL) == WS_UTF8_INVALID);
    FUZZ_CHECK(ws_utf8_finish(&v, &o3) == WS_UTF8_INVALID && o3 == o);
  } else {
    FUZZ_CHECK(r == WS_UTF8_VALID);
  }
  *off = o;
  return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_reader rd = {data, size};
  size_t cuts[MAX_CUTS];
  size_t ncuts = fz_u8(&rd) & 15;
  for (size_t k = 0; k < ncuts; k++)
    cuts[k] = fz_u8(&rd);
  const uint8_t *p = rd.p;
  size_t n = rd.n;

  size_t bad = 0;
  int complete = 0;
  int ok = fuzz_utf8_ref(p, n, &bad, &complete);
  int want = ok && complete ? WS_UTF8_VALID : WS_UTF8_INVALID;
  uint64_t want_off = ok ? n : bad;

  static const enum ws_utf8_impl impls[2] = {WS_UTF8_PORTABLE, WS_UTF8_AVX2};
  for (int i = 0; i < 2; i++) {
    uint64_t off = 0;
    FUZZ_CHECK(run(impls[i], p, n, NULL, 0, &off) == want);
    if (want == WS_UTF8_INVALID)
      FUZZ_CHECK(off == want_off);
    off = 0;
    FUZZ_CHECK(run(impls[i], p, n, cuts, ncuts, &off) == want);
    if (want == WS_UTF8_INVALID)
      FUZZ_CHECK(off == want_off);
  }
  uint8_t *q = fuzz_dup(p, n);
  uint64_t off = 0;
  FUZZ_CHECK(ws_utf8_validate(q, n, &off) == want);
  if (want == WS_UTF8_INVALID)
    FUZZ_CHECK(off == want_off);
  free(q);
  /* AVX2 is used exactly when the CPU has it. */
  struct ws_utf8 v;
  ws_utf8_init(&v, WS_UTF8_AVX2);
  FUZZ_CHECK((v.impl == WS_UTF8_AVX2) == (ws_utf8_have_avx2() == 1));
  return 0;
}
