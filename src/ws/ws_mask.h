/*
 * ws_mask.h: RFC 6455 Section 5.3 payload masking (XOR with a 4-byte key).
 *
 * Masking and unmasking are the same operation. |key_offset| is the index
 * into the key of the first byte of |p| (the number of payload bytes of the
 * frame already processed, modulo 4), so a payload can be processed in
 * chunks of any size. The portable path works on 8-byte words; the AVX2 path
 * is selected at run time when the CPU has it. All entry points accept
 * unaligned pointers and any length, including 0.
 */
#ifndef WS_MASK_H
#define WS_MASK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* XORs p[0..len) in place with |key| starting at key[key_offset & 3].
 * Uses the fastest path this CPU supports. */
void ws_mask_apply(uint8_t *p, size_t len, const uint8_t key[4],
                   size_t key_offset);

/* As ws_mask_apply, but reads |src| and writes |dst| (they may be equal but
 * must not otherwise overlap). */
void ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len,
                  const uint8_t key[4], size_t key_offset);

/* Implementations, exposed for tests and benchmarks. */
void ws_mask_apply_bytewise(uint8_t *p, size_t len, const uint8_t key[4],
                            size_t key_offset);
void ws_mask_apply_portable(uint8_t *p, size_t len, const uint8_t key[4],
                            size_t key_offset);
/* Returns 1 when the AVX2 path exists in this build and this CPU runs it. */
int ws_mask_have_avx2(void);
/* Only call when ws_mask_have_avx2() returned 1. */
void ws_mask_apply_avx2(uint8_t *p, size_t len, const uint8_t key[4],
                        size_t key_offset);

#ifdef __cplusplus
}
#endif

#endif /* WS_MASK_H */
