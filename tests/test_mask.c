/*
 * test_mask.c: RFC 6455 Section 5.3 masking (ws_mask.h).
 *
 * The byte loop is the reference. Every other entry point must produce the
 * same bytes for every length 0..300, key offset 0..3 and start
 * misalignment 0..31, must not write outside p[0..len) (canaries) nor read
 * or write past the end of a buffer that ends at a guard page, and must
 * give the same result applied in chunks as in one call.
 */
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "ws/ws_mask.h"

typedef void (*mask_fn)(uint8_t *p, size_t len, const uint8_t key[4],
                        size_t key_offset);

/* ws_mask_copy in place, so it fits the mask_fn shape. */
static void copy_in_place(uint8_t *p, size_t len, const uint8_t key[4],
                          size_t key_offset) {
  ws_mask_copy(p, p, len, key, key_offset);
}

struct impl {
  const char *name;
  mask_fn fn;
};

/* The implementations this machine can run. */
static size_t impls(struct impl *out) {
  size_t n = 0;
  out[n++] = (struct impl){"portable", ws_mask_apply_portable};
  if (ws_mask_have_avx2())
    out[n++] = (struct impl){"avx2", ws_mask_apply_avx2};
  out[n++] = (struct impl){"apply", ws_mask_apply};
  out[n++] = (struct impl){"copy in place", copy_in_place};
  return n;
}

static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};

#define same_bytes(a, b, n)                                                   \
  do {                                                                        \
    if (memcmp((a), (b), (n)) != 0)                                           \
      assert_memory_equal((a), (b), (n));                                     \
  } while (0)

static void test_ws_mask_rfc_example(void **state) {
  (void)state;
  static const uint8_t masked[] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
  struct impl im[4];
  size_t n = impls(im);
  uint8_t b[5];
  memcpy(b, "Hello", 5);
  ws_mask_apply_bytewise(b, 5, key, 0);
  assert_memory_equal(b, masked, 5);
  for (size_t i = 0; i < n; i++) {
    memcpy(b, "Hello", 5);
    im[i].fn(b, 5, key, 0);
    assert_memory_equal(b, masked, 5);
    im[i].fn(b, 5, key, 0); /* masking twice is the identity */
    assert_memory_equal(b, "Hello", 5);
  }
  /* Offset 2: "llo" continues the frame after "He". */
  memcpy(b, "llo", 3);
  ws_mask_apply(b, 3, key, 2);
  assert_memory_equal(b, masked + 2, 3);
  uint8_t dst[5];
  ws_mask_copy(dst, (const uint8_t *)"Hello", 5, key, 0);
  assert_memory_equal(dst, masked, 5);
}

#define MAXLEN 300
#define SLACK 64

/* Every length, key offset and misalignment; canaries on both sides. */
static void test_ws_mask_all_combinations(void **state) {
  (void)state;
  struct impl im[4];
  size_t ni = impls(im);
  uint64_t seed = 1;
  uint8_t src[MAXLEN];
  /* 32-byte aligned arenas, so "misalignment" means what it says. */
  _Alignas(64) uint8_t ref[MAXLEN + 2 * SLACK];
  _Alignas(64) uint8_t buf[MAXLEN + 2 * SLACK];
  _Alignas(64) uint8_t dst[MAXLEN + 2 * SLACK];
  for (size_t len = 0; len <= MAXLEN; len++) {
    test_random(src, len, &seed);
    for (size_t off = 0; off < 4; off++) {
      memcpy(ref, src, len);
      ws_mask_apply_bytewise(ref, len, key, off);
      for (size_t mis = 0; mis < 32; mis++) {
        for (size_t i = 0; i < ni; i++) {
          memset(buf, 0xcc, sizeof(buf));
          memcpy(buf + SLACK + mis, src, len);
          /* Offsets beyond 3 are taken modulo 4. */
          size_t k = (i & 1) ? off : off + 4 * (mis + 1);
          im[i].fn(buf + SLACK + mis, len, key, k);
          same_bytes(buf + SLACK + mis, ref, len);
          for (size_t j = 0; j < SLACK + mis; j++)
            assert_int_equal(buf[j], 0xcc);
          for (size_t j = SLACK + mis + len; j < sizeof(buf); j++)
            assert_int_equal(buf[j], 0xcc);
        }
        /* Copying, from a source misaligned differently. */
        memset(dst, 0xcc, sizeof(dst));
        memcpy(buf + SLACK + (31 - mis), src, len);
        ws_mask_copy(dst + SLACK + mis, buf + SLACK + (31 - mis), len, key,
                     off + ((size_t)-4));
        same_bytes(dst + SLACK + mis, ref, len);
        same_bytes(buf + SLACK + (31 - mis), src, len); /* source intact */
        for (size_t j = 0; j < SLACK + mis; j++)
          assert_int_equal(dst[j], 0xcc);
        for (size_t j = SLACK + mis + len; j < sizeof(dst); j++)
          assert_int_equal(dst[j], 0xcc);
      }
    }
  }
}

/* Data ending at a PROT_NONE page: any access past the end faults. */
static void test_ws_mask_guard_page(void **state) {
  (void)state;
  struct impl im[4];
  size_t ni = impls(im);
  uint64_t seed = 2;
  uint8_t src[MAXLEN], ref[MAXLEN];
  for (size_t len = 0; len <= MAXLEN; len++) {
    test_random(src, len, &seed);
    struct guarded g = guarded_copy(src, len);
    struct guarded out = guarded_copy(src, len);
    for (size_t off = 0; off < 4; off++) {
      memcpy(ref, src, len);
      ws_mask_apply_bytewise(ref, len, key, off);
      for (size_t i = 0; i < ni; i++) {
        memcpy(g.data, src, len);
        im[i].fn(g.data, len, key, off);
        same_bytes(g.data, ref, len);
      }
      memcpy(g.data, src, len);
      ws_mask_copy(out.data, g.data, len, key, off);
      same_bytes(out.data, ref, len);
    }
    guarded_free(&out);
    guarded_free(&g);
  }
}

/* Applying chunk by chunk, each with the running offset, equals one call:
 * every two-piece split up to MAXLEN, random many-piece splits above. */
static void chunked(mask_fn fn, const uint8_t *src, size_t len, size_t off,
                    const size_t *cuts, size_t ncuts, const uint8_t *ref) {
  uint8_t *b = malloc(len ? len : 1);
  assert_non_null(b);
  memcpy(b, src, len);
  size_t a = 0;
  for (size_t k = 0; k <= ncuts; k++) {
    size_t e = k < ncuts ? cuts[k] : len;
    fn(b + a, e - a, key, off + a);
    a = e;
  }
  same_bytes(b, ref, len);
  free(b);
}

static void test_ws_mask_chunked(void **state) {
  (void)state;
  struct impl im[4];
  size_t ni = impls(im);
  uint64_t seed = 3;
  static const size_t big[] = {1000, 4099, 8192, 65536 + 7, 200003};
  uint8_t *src = malloc(200003), *ref = malloc(200003);
  size_t cuts[64];
  assert_non_null(src);
  assert_non_null(ref);
  for (size_t len = 0; len <= MAXLEN; len++) {
    test_random(src, len, &seed);
    for (size_t off = 0; off < 4; off++) {
      memcpy(ref, src, len);
      ws_mask_apply_bytewise(ref, len, key, off);
      for (size_t i = 0; i < ni; i++)
        for (size_t k = 1; k < len; k++)
          chunked(im[i].fn, src, len, off, &k, 1, ref);
    }
  }
  for (size_t b = 0; b < sizeof(big) / sizeof(big[0]); b++) {
    size_t len = big[b];
    test_random(src, len, &seed);
    for (size_t off = 0; off < 4; off++) {
      memcpy(ref, src, len);
      ws_mask_apply_bytewise(ref, len, key, off);
      for (int t = 0; t < 20; t++) {
        uint8_t x[2];
        size_t n = 0, at = 0;
        test_random(x, 1, &seed);
        size_t want = 1 + x[0] % 63;
        while (n < want) {
          test_random(x, 2, &seed);
          at += 1 + ((size_t)x[0] << 8 | x[1]) % (2 * len / want + 1);
          if (at >= len)
            break;
          cuts[n++] = at;
        }
        for (size_t i = 0; i < ni; i++)
          chunked(im[i].fn, src, len, off, cuts, n, ref);
      }
    }
  }
  free(src);
  free(ref);
}

/* ws_mask_copy works in blocks: lengths around the block size, and the
 * (out of contract) overlapping case still gives memmove + mask. */
static void test_ws_mask_copy_blocks(void **state) {
  (void)state;
  static const size_t lens[] = {8191, 8192, 8193, 16384, 20001, 65536};
  uint64_t seed = 4;
  uint8_t *src = malloc(65536 + 8), *dst = malloc(65536 + 8),
          *ref = malloc(65536 + 8);
  assert_non_null(src);
  assert_non_null(dst);
  assert_non_null(ref);
  for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
    size_t len = lens[i];
    test_random(src, len, &seed);
    for (size_t off = 0; off < 4; off++) {
      memcpy(ref, src, len);
      ws_mask_apply_bytewise(ref, len, key, off);
      ws_mask_copy(dst + 1, src, len, key, off);
      same_bytes(dst + 1, ref, len);
    }
  }
  for (size_t shift = 1; shift < 6; shift++) {
    size_t len = 1000;
    test_random(src, len + shift, &seed);
    memcpy(ref, src, len);
    ws_mask_apply_bytewise(ref, len, key, 1);
    memcpy(dst, src, len + shift);
    ws_mask_copy(dst + shift, dst, len, key, 1); /* forward overlap */
    same_bytes(dst + shift, ref, len);
    memcpy(ref, src + shift, len);
    ws_mask_apply_bytewise(ref, len, key, 3);
    memcpy(dst, src, len + shift);
    ws_mask_copy(dst, dst + shift, len, key, 3); /* backward overlap */
    same_bytes(dst, ref, len);
  }
  ws_mask_copy(NULL, NULL, 0, key, 0);
  ws_mask_apply(NULL, 0, key, 0);
  free(src);
  free(dst);
  free(ref);
}

static void test_ws_mask_have_avx2(void **state) {
  (void)state;
  int a = ws_mask_have_avx2();
  assert_true(a == 0 || a == 1);
  assert_int_equal(a, ws_mask_have_avx2());
  print_message("AVX2 path %s\n", a ? "tested" : "not available here");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ws_mask_have_avx2),
      cmocka_unit_test(test_ws_mask_rfc_example),
      cmocka_unit_test(test_ws_mask_all_combinations),
      cmocka_unit_test(test_ws_mask_guard_page),
      cmocka_unit_test(test_ws_mask_chunked),
      cmocka_unit_test(test_ws_mask_copy_blocks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
