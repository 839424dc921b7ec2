/*
 * ws_mask.c: RFC 6455 Section 5.3 masking.
 *
 * The byte loop is the obviously correct reference. The portable path XORs
 * 8-byte words with the key rotated to the current offset and repeated to
 * 64 bits. The AVX2 path XORs 32-byte vectors (four at a time) and is
 * compiled with a target attribute, so the rest of the build needs no
 * -mavx2 and the choice is made at run time.
 *
 * Tails: a 125-byte control payload is dominated by its tail if the tail
 * is done in byte steps. Both fast paths instead load the last full word
 * (8 or 32 bytes, overlapping the body) before any store, XOR it with the
 * key in its own phase, and store it after the body. The overlapping bytes
 * are written twice with the same value, orig ^ key, so this is safe in
 * place even though XOR is not idempotent, and it never touches a byte
 * outside p[0..len) (the caller's buffer may end at a guard page).
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

/* |k| (a key word in memory order) advanced by |n| payload bytes: the
 * word whose first byte in memory is the key byte for offset +n. */
static inline uint32_t advance(uint32_t k, size_t n) {
  unsigned s = (unsigned)(n & 3) * 8;
  if (s == 0)
    return k;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return (k << s) | (k >> (32 - s));
#else
  return (k >> s) | (k << (32 - s));
#endif
}

/* The key as a word in phase with payload offset |key_offset|: a load and
 * a rotate instead of a byte shuffle. */
static inline uint32_t key32(const uint8_t key[4], size_t key_offset) {
  uint32_t w;
  memcpy(&w, key, 4);
  return advance(w, key_offset);
}

/* Both halves are the same four bytes, so this is endian-neutral. */
static inline uint64_t key64(uint32_t k) { return (uint64_t)k << 32 | k; }

static inline uint64_t load8(const uint8_t *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return w;
}

static inline void store8(uint8_t *p, uint64_t w) { memcpy(p, &w, 8); }

static inline void xor8(uint8_t *p, uint64_t k) { store8(p, load8(p) ^ k); }

/* len < 8; |k| in phase with p[0]. Two overlapping 4-byte words from 4
 * bytes up, bytes below. */
static inline void mask_short(uint8_t *p, size_t len, uint32_t k) {
  if (len >= 4) {
    uint32_t a, b;
    memcpy(&a, p, 4);
    memcpy(&b, p + len - 4, 4);
    a ^= k;
    b ^= advance(k, len); /* phase of p[len - 4] is that of p[len] */
    memcpy(p, &a, 4);
    memcpy(p + len - 4, &b, 4);
    return;
  }
  uint8_t kb[4];
  memcpy(kb, &k, 4);
  for (size_t i = 0; i < len; i++)
    p[i] ^= kb[i];
}

/* len >= 8: 8-byte words, the last one overlapping (see the file
 * comment). */
static inline void mask_words(uint8_t *p, size_t len, uint32_t k) {
  uint64_t k8 = key64(k);
  uint64_t last = load8(p + len - 8) ^ key64(advance(k, len));
  size_t i = 0;
  for (; i + 32 <= len; i += 32) {
    xor8(p + i, k8);
    xor8(p + i + 8, k8);
    xor8(p + i + 16, k8);
    xor8(p + i + 24, k8);
  }
  for (; i + 8 <= len; i += 8)
    xor8(p + i, k8);
  store8(p + len - 8, last);
}

void ws_mask_apply_portable(uint8_t *p, size_t len, const uint8_t key[4],
                            size_t key_offset) {
  uint32_t k = key32(key, key_offset);
  if (len >= 8)
    mask_words(p, len, k);
  else
    mask_short(p, len, k);
}

#ifdef WS_HAVE_X86
__attribute__((target("avx2"))) void
ws_mask_apply_avx2(uint8_t *p, size_t len, const uint8_t key[4],
                   size_t key_offset) {
  uint32_t k = key32(key, key_offset);
  if (len < 32) {
    if (len >= 8)
      mask_words(p, len, k);
    else
      mask_short(p, len, k);
    return;
  }
  __m256i kv = _mm256_set1_epi32((int)k);
  __m256i last = _mm256_xor_si256(
      _mm256_loadu_si256((const __m256i *)(p + len - 32)),
      _mm256_set1_epi32((int)advance(k, len)));
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
  _mm256_storeu_si256((__m256i *)(p + len - 32), last);
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
  /* Under 32 bytes (small frames, many control frames) the call costs more
   * than the work: no dispatch, the word steps inline. len may be 0 with p
   * NULL; nothing is then touched. */
  if (len < 32) {
    uint32_t k = key32(key, key_offset);
    if (len < 8) {
      mask_short(p, len, k);
      return;
    }
    /* 8..31 bytes: up to three words, then the overlapping last one. */
    uint64_t k8 = key64(k);
    uint64_t last = load8(p + len - 8) ^ key64(advance(k, len));
    if (len > 16) {
      xor8(p, k8);
      xor8(p + 8, k8);
      if (len > 24)
        xor8(p + 16, k8);
    } else if (len > 8) {
      xor8(p, k8);
    }
    store8(p + len - 8, last);
    return;
  }
  if (ws_mask_have_avx2())
    ws_mask_apply_avx2(p, len, key, key_offset);
  else
    ws_mask_apply_portable(p, len, key, key_offset);
}

/* Copy-then-mask in blocks that stay in L1, so the payload is read from
 * memory once without a second, separately tested copy kernel. */
#define COPY_BLOCK 8192u

void ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len,
                  const uint8_t key[4], size_t key_offset) {
  if (len == 0)
    return;
  if (dst == src) {
    ws_mask_apply(dst, len, key, key_offset);
    return;
  }
  uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;
  if (d - s < len || s - d < len) {
    /* Overlap is outside the contract; stay correct anyway. */
    memmove(dst, src, len);
    ws_mask_apply(dst, len, key, key_offset);
    return;
  }
  for (size_t i = 0; i < len; i += COPY_BLOCK) {
    size_t n = len - i < COPY_BLOCK ? len - i : COPY_BLOCK;
    memcpy(dst + i, src + i, n);
    /* COPY_BLOCK is a multiple of 4: the key phase is key_offset. */
    ws_mask_apply(dst + i, n, key, key_offset);
  }
}
