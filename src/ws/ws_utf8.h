/*
 * ws_utf8.h: incremental, fail-fast UTF-8 validation (RFC 3629, as required
 * by RFC 6455 Section 8.1 for text messages and close reasons).
 *
 * Valid means: no overlong forms, no surrogates (U+D800..U+DFFF), nothing
 * above U+10FFFF, no stray continuation bytes, no bytes C0, C1, F5..FF.
 *
 * Fail-fast offset: the index of the first byte at which the input so far
 * stops being a prefix of any valid UTF-8 string. For "\xED\xA0\x80" that is
 * 1 (ED A0 can only start a surrogate); for "\xE0\x80" it is 1; for "\x80"
 * it is 0. A sequence truncated by the end of the message fails in
 * ws_utf8_finish() at offset = total length fed.
 *
 * The validator keeps a few bytes of state, so a message can be fed in
 * chunks split anywhere, including inside a code point, and gives exactly
 * the same verdict and offset as when fed whole. Two paths exist, a
 * portable scalar one and an AVX2 one chosen at run time; both give
 * identical results.
 */
#ifndef WS_UTF8_H
#define WS_UTF8_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which implementation a validator uses. */
enum ws_utf8_impl {
  WS_UTF8_AUTO = 0,     /* the fastest this CPU supports */
  WS_UTF8_PORTABLE = 1, /* scalar code, no SIMD */
  WS_UTF8_AVX2 = 2      /* falls back to PORTABLE when AVX2 is missing */
};

/* Validator state; treat the fields as private. Zero-size input is fine. */
struct ws_utf8 {
  uint64_t pos;     /* bytes fed so far */
  uint32_t state;   /* decoder state between chunks */
  uint32_t impl;    /* enum ws_utf8_impl actually used */
};

/* Results of ws_utf8_feed and ws_utf8_finish. */
enum ws_utf8_result {
  WS_UTF8_VALID = 0,   /* valid so far (feed) / valid and complete (finish) */
  WS_UTF8_INVALID = -1 /* invalid; *err_offset says where */
};

/* Initialises |v| for a new string, with the chosen implementation. */
void ws_utf8_init(struct ws_utf8 *v, enum ws_utf8_impl impl);

/*
 * Validates the next |len| bytes of the string. On WS_UTF8_INVALID, sets
 * *err_offset (if not NULL) to the fail-fast offset counted from the start
 * of the whole string (not of this chunk). After INVALID the validator stays
 * invalid until re-initialised: later feed and finish calls return INVALID
 * with the same offset. |p| is only read during the call; |p| may be NULL
 * when |len| is 0. No function in this header allocates.
 */
int ws_utf8_feed(struct ws_utf8 *v, const uint8_t *p, size_t len,
                 uint64_t *err_offset);

/* Ends the string: INVALID (offset = bytes fed) when it stops inside a code
 * point. */
int ws_utf8_finish(struct ws_utf8 *v, uint64_t *err_offset);

/* One-shot validation of a complete string with the AUTO implementation. */
int ws_utf8_validate(const uint8_t *p, size_t len, uint64_t *err_offset);

/* Returns 1 when the AVX2 path exists in this build and this CPU runs it. */
int ws_utf8_have_avx2(void);

#ifdef __cplusplus
}
#endif

#endif /* WS_UTF8_H */
