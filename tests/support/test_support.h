/*
 * test_support.h: helpers shared by the cmocka test files.
 *
 * - Guard-page buffers: a copy of the input whose last byte sits right
 *   before a PROT_NONE page, so any read past the end faults at once even
 *   without ASan (picohttpparser's trick).
 * - A counting allocator that can fail the Nth allocation, for fail-malloc
 *   tests that walk every allocation point.
 * - A deterministic random source.
 * - Hex decoding for wire bytes written in tests.
 */
#ifndef WS_TEST_SUPPORT_H
#define WS_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/ws_core.h"

/* A buffer that ends exactly at a protected page. */
struct guarded {
  uint8_t *data; /* |len| bytes, writable, followed by a PROT_NONE page */
  size_t len;
  void *base;    /* private */
  size_t map_len;
};

/* Copies |src| into a new guarded buffer. Aborts on mmap failure. */
struct guarded guarded_copy(const void *src, size_t len);
void guarded_free(struct guarded *g);

/* Allocator that counts allocations and live blocks and can fail. */
struct failing_mem {
  struct ws_mem mem;   /* pass &fm.mem to the API */
  long fail_at;        /* fail the allocation with this index; -1 = never */
  long calls;          /* allocations attempted (malloc + growing realloc) */
  long live;           /* blocks currently allocated */
};

void failing_mem_init(struct failing_mem *fm, long fail_at);

/* Deterministic xorshift random source; |user| points to a uint64_t seed. */
int test_random(uint8_t *buf, size_t len, void *user);

/* Decodes hex digits (spaces ignored) into a malloc'd buffer; *len gets
 * the byte count. The caller frees. Fails the test on bad input. */
uint8_t *hex_decode(const char *hex, size_t *len);

#endif /* WS_TEST_SUPPORT_H */
