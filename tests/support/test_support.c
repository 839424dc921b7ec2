/* test_support.c: see test_support.h. Tests may use syscalls freely. */
#define _DEFAULT_SOURCE
#include "test_support.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guarded guarded_copy(const void *src, size_t len) {
  struct guarded g;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t data_pages = (len + page - 1) / page;
  if (data_pages == 0)
    data_pages = 1;
  g.map_len = (data_pages + 1) * page;
  g.base = mmap(NULL, g.map_len, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (g.base == MAP_FAILED)
    abort();
  uint8_t *guard = (uint8_t *)g.base + data_pages * page;
  if (mprotect(guard, page, PROT_NONE) != 0)
    abort();
  g.data = guard - len;
  g.len = len;
  if (len)
    memcpy(g.data, src, len);
  return g;
}

void guarded_free(struct guarded *g) {
  if (g->base)
    munmap(g->base, g->map_len);
  g->base = NULL;
  g->data = NULL;
}

/* Each block carries its size in a header so realloc can tell growth. */
struct block {
  size_t size;
  max_align_t align;
};

static void *fm_malloc(size_t size, void *user) {
  struct failing_mem *fm = user;
  if (fm->calls++ == fm->fail_at)
    return NULL;
  struct block *b = malloc(sizeof(*b) + size);
  if (!b)
    return NULL;
  b->size = size;
  fm->live++;
  return b + 1;
}

static void fm_free(void *ptr, void *user) {
  struct failing_mem *fm = user;
  if (!ptr)
    return;
  fm->live--;
  free((struct block *)ptr - 1);
}

static void *fm_realloc(void *ptr, size_t size, void *user) {
  struct failing_mem *fm = user;
  if (!ptr)
    return fm_malloc(size, user);
  if (fm->calls++ == fm->fail_at)
    return NULL;
  struct block *b = realloc((struct block *)ptr - 1, sizeof(*b) + size);
  if (!b)
    return NULL;
  b->size = size;
  return b + 1;
}

void failing_mem_init(struct failing_mem *fm, long fail_at) {
  fm->mem.user = fm;
  fm->mem.malloc = fm_malloc;
  fm->mem.free = fm_free;
  fm->mem.realloc = fm_realloc;
  fm->fail_at = fail_at;
  fm->calls = 0;
  fm->live = 0;
}

int test_random(uint8_t *buf, size_t len, void *user) {
  uint64_t *s = user;
  for (size_t i = 0; i < len; i++) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    buf[i] = (uint8_t)(*s >> 24);
  }
  return 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

uint8_t *hex_decode(const char *hex, size_t *len) {
  uint8_t *out = malloc(strlen(hex) / 2 + 1);
  size_t n = 0;
  int hi = -1;
  assert_non_null(out);
  for (const char *p = hex; *p; p++) {
    if (*p == ' ' || *p == '\n')
      continue;
    int v = hexval(*p);
    assert_true(v >= 0);
    if (hi < 0) {
      hi = v;
    } else {
      out[n++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  assert_int_equal(hi, -1);
  *len = n;
  return out;
}
