/*
 * utf8_encode.h: the textbook UTF-8 encoder (RFC 3629 Section 3), shared by
 * tests/test_utf8.c and bench/bench_utf8.c to generate their inputs.
 *
 * Header-only and free of cmocka, so a benchmark can include it without
 * linking the test support library.
 */
#ifndef WS_TEST_UTF8_ENCODE_H
#define WS_TEST_UTF8_ENCODE_H

#include <stddef.h>
#include <stdint.h>

/* Writes the 1 to 4 byte encoding of |cp| (at most U+10FFFF; surrogates
 * are not rejected) to |out| and returns its length. */
static inline size_t utf8_encode(uint32_t cp, uint8_t *out) {
  if (cp < 0x80) {
    out[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (uint8_t)(0xC0 | cp >> 6);
    out[1] = (uint8_t)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (uint8_t)(0xE0 | cp >> 12);
    out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (uint8_t)(0xF0 | cp >> 18);
  out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
  out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
  out[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}

#endif /* WS_TEST_UTF8_ENCODE_H */
