/*
 * ws_mask.c: RFC 6455 Section 5.3 masking.
 *
 * The byte loop is the obviously correct reference. The portable path XORs
 * 8-byte words with the key rotated to the current offset and broadcast to
 * 64 bits. The AVX2 path XORs 32-byte vectors (four at a time) and is
 * compiled with a target attribute, so the rest of the build needs no
 * -mavx2 and the choice is made once at run time.
 */
#include "ws_mask.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define WS_HAVE_X86 1
#endif

void ws_mask_apply_bytewise(uint8_t *p, size_t len, const uint8_t key[4],
                            size_t key_offset) {
  for (size_t i = 0; i < len; i++)
    p[i] ^= key[(key_offset + i) & 3];
}

/* The key rotated so that byte 0 of the result applies to payload offset
 * |key_offset|, repeated to 8 bytes. memcpy keeps it endian-neutral. */
static uint64_t key64(const uint8_t key[4], size_t key_offset) {
  uint8_t k[8];
  for (int i = 0; i < 8; i++)
    k[i] = key[(key_offset + (size_t)i) & 3];
  uint64_t w;
  memcpy(&w, k, 8);
  return w;
}

void ws_mask_apply_portable(uint8_t *p, size_t len, const uint8_t key[4],
                            size_t key_offset) {
  uint64_t k = key64(key, key_offset);
  size_t i = 0;
  for (; i + 32 <= len; i += 32) {
    uint64_t w[4];
    memcpy(w, p + i, 32);
    w[0] ^= k;
    w[1] ^= k;
    w[2] ^= k;
    w[3] ^= k;
    memcpy(p + i, w, 32);
  }
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    w ^= k;
    memcpy(p + i, &w, 8);
  }
  /* i is a multiple of 8, so the key phase is unchanged for the tail. */
  ws_mask_apply_bytewise(p + i, len - i, key, key_offset + i);
}

#ifdef WS_HAVE_X86
__attribute__((target("avx2"))) void
ws_mask_apply_avx2(uint8_t *p, size_t len, const uint8_t key[4],
                   size_t key_offset) {
  uint64_t k = key64(key, key_offset);
  __m256i kv = _mm256_set1_epi64x((long long)k);
  size_t i = 0;
  for (; i + 128 <= len; i += 128) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(p + i));
    __m256i b = _mm256_loadu_si256((const __m256i *)(p + i + 32));
    __m256i c = _mm256_loadu_si256((const __m256i *)(p + i + 64));
    __m256i d = _mm256_loadu_si256((const __m256i *)(p + i + 96));
    _mm256_storeu_si256((__m256i *)(p + i), _mm256_xor_si256(a, kv));
    _mm256_storeu_si256((__m256i *)(p + i + 32), _mm256_xor_si256(b, kv));
    _mm256_storeu_si256((__m256i *)(p + i + 64), _mm256_xor_si256(c, kv));
    _mm256_storeu_si256((__m256i *)(p + i + 96), _mm256_xor_si256(d, kv));
  }
  for (; i + 32 <= len; i += 32) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(p + i));
    _mm256_storeu_si256((__m256i *)(p + i), _mm256_xor_si256(a, kv));
  }
  /* Tail under 32 bytes: 8-byte words then bytes, phase unchanged. */
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    w ^= k;
    memcpy(p + i, &w, 8);
  }
  ws_mask_apply_bytewise(p + i, len - i, key, key_offset + i);
}

/* __builtin_cpu_supports reads flags libgcc sets up before main; it is a
 * load and a test, cheap enough to call per frame, and keeps no state of
 * ours. */
int ws_mask_have_avx2(void) { return __builtin_cpu_supports("avx2") ? 1 : 0; }
#else
void ws_mask_apply_avx2(uint8_t *p, size_t len, const uint8_t key[4],
                        size_t key_offset) {
  ws_mask_apply_portable(p, len, key, key_offset);
}

int ws_mask_have_avx2(void) { return 0; }
#endif

void ws_mask_apply(uint8_t *p, size_t len, const uint8_t key[4],
                   size_t key_offset) {
  /* Short payloads (most control frames, small messages) are cheaper
   * without the vector set-up. */
  if (len >= 64 && ws_mask_have_avx2())
    ws_mask_apply_avx2(p, len, key, key_offset);
  else
    ws_mask_apply_portable(p, len, key, key_offset);
}

void ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len,
                  const uint8_t key[4], size_t key_offset) {
  if (dst != src)
    memmove(dst, src, len);
  ws_mask_apply(dst, len, key, key_offset);
}
