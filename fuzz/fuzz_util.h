/*
 * fuzz_util.h: helpers shared by the fuzz targets, header-only so that
 * every target stays one translation unit linked with the core library
 * (the OSS-Fuzz build.sh and the -m32 build compile them directly).
 *
 * - FUZZ_CHECK: the oracle. A broken invariant prints where and aborts, so
 *   logic bugs crash like memory bugs (libFuzzer, AFL++ and the replay
 *   driver all report an abort). It is not assert(): NDEBUG builds keep it.
 * - struct fuzz_reader: takes bytes off the front of the input; reading
 *   past the end yields zeros, so every input is a valid scenario.
 * - struct fuzz_log: a running hash of events and bytes, so two runs that
 *   must behave the same (whole input vs chunks, scanner vs scanner) are
 *   compared in O(1) memory. Build with -DFUZZ_TRACE to print each event.
 * - fuzz_random: a deterministic ws_random_fn (xorshift64*), reseeded per
 *   run, so client mask keys and handshake nonces are reproducible.
 * - struct fuzz_mem: a ws_mem that counts live blocks and can fail the
 *   Nth allocation (WS_ENOMEM paths, leak check without LeakSanitizer).
 * - fuzz_poison / fuzz_unpoison: ASan manual poisoning, to hold parsers
 *   to "reads only buf[pos..len)" without copying the buffer per call.
 *
 * No global mutable state: everything lives in the caller's frame.
 */
#ifndef WS_FUZZ_UTIL_H
#define WS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ws_core.h"

/* The libFuzzer entry point every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Oracle code needs no coverage feedback: its comparisons (one per
 * payload byte in some checks) would cost more than the code under test
 * and teach the fuzzer nothing. noinline, or the body would be
 * instrumented as part of its caller. Clang only; gcc builds have no
 * coverage instrumentation to turn off. */
#if defined(__clang__)
#define FUZZ_NOCOV __attribute__((no_sanitize("coverage"), noinline))
#else
#define FUZZ_NOCOV
#endif

/* ------------------------------------------------------------- oracle */

static inline void fuzz_fail(const char *what, const char *file, int line) {
  fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n", file, line, what);
  fflush(stderr);
  abort();
}

#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond))                                                               \
      fuzz_fail(#cond, __FILE__, __LINE__);                                    \
  } while (0)

/* ------------------------------------------------------------- reader */

struct fuzz_reader {
  const uint8_t *p;
  size_t n;
};

static inline uint8_t fz_u8(struct fuzz_reader *r) {
  if (r->n == 0)
    return 0;
  r->n--;
  return *r->p++;
}

static inline uint16_t fz_u16(struct fuzz_reader *r) {
  uint16_t hi = fz_u8(r);
  return (uint16_t)(hi << 8 | fz_u8(r));
}

/* Takes up to |want| bytes; *got receives how many were available. */
static inline const uint8_t *fz_take(struct fuzz_reader *r, size_t want,
                                     size_t *got) {
  const uint8_t *p = r->p;
  *got = want < r->n ? want : r->n;
  r->p += *got;
  r->n -= *got;
  return p;
}

/* ---------------------------------------------------------------- log */

struct fuzz_log {
  uint64_t h;
  uint64_t events;
  uint64_t pend;    /* bytes not yet hashed, little-endian order */
  unsigned npend;   /* 0..7 */
  const char *name; /* FUZZ_TRACE: printed before each event */
};

static inline void fuzz_log_init(struct fuzz_log *l, const char *name) {
  l->h = 0xcbf29ce484222325ull;
  l->events = 0;
  l->pend = 0;
  l->npend = 0;
  l->name = name;
}

FUZZ_NOCOV static inline void fuzz_log_word(struct fuzz_log *l, uint64_t w) {
  uint64_t h = (l->h ^ w) * 0x9e3779b97f4a7c15ull;
  l->h = h ^ (h >> 29);
}

/*
 * Hashes bytes 8 at a time. The result depends only on the sequence of
 * bytes (and events) logged, not on how it was cut into calls: a partial
 * word waits in |pend|. That is what makes "the same bytes, split
 * differently" comparable.
 */
FUZZ_NOCOV static inline void fuzz_log_bytes(struct fuzz_log *l, const void *p,
                                             size_t n) {
  const uint8_t *b = (const uint8_t *)p;
  while (n > 0 && l->npend > 0) {
    l->pend |= (uint64_t)*b++ << (8 * l->npend);
    n--;
    if (++l->npend == 8) {
      fuzz_log_word(l, l->pend);
      l->pend = 0;
      l->npend = 0;
    }
  }
  for (; n >= 8; n -= 8, b += 8) {
    uint64_t w = 0;
    for (unsigned i = 0; i < 8; i++)
      w |= (uint64_t)b[i] << (8 * i);
    fuzz_log_word(l, w);
  }
  for (; n > 0; n--) {
    l->pend |= (uint64_t)*b++ << (8 * l->npend);
    l->npend++;
  }
}

/* One event: a tag and up to three numbers. Pending payload bytes are
 * flushed first, so bytes and events cannot shift into each other. */
FUZZ_NOCOV static inline void fuzz_log_event(struct fuzz_log *l, char tag,
                                             uint64_t a, uint64_t b,
                                             uint64_t c) {
  if (l->npend) {
    fuzz_log_word(l, l->pend ^ ((uint64_t)l->npend << 61));
    l->pend = 0;
    l->npend = 0;
  }
  fuzz_log_word(l, (uint64_t)(uint8_t)tag | 0x100);
  fuzz_log_word(l, a);
  fuzz_log_word(l, b);
  fuzz_log_word(l, c);
  l->events++;
#ifdef FUZZ_TRACE
  fprintf(stderr, "[%s] %c %llu %llu %llu\n", l->name ? l->name : "", tag,
          (unsigned long long)a, (unsigned long long)b, (unsigned long long)c);
#endif
}

/* Whether two logs saw the same events and bytes. */
static inline int fuzz_log_same(const struct fuzz_log *a,
                                const struct fuzz_log *b) {
  return a->h == b->h && a->events == b->events && a->pend == b->pend &&
         a->npend == b->npend;
}

/* ------------------------------------------------------------- random */

/* ws_random_fn over a uint64_t state (never 0). */
FUZZ_NOCOV static inline int fuzz_random(uint8_t *buf, size_t len, void *user) {
  uint64_t *s = (uint64_t *)user;
  for (size_t i = 0; i < len; i++) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    buf[i] = (uint8_t)((x * 0x2545f4914f6cdd1dull) >> 56);
  }
  return 0;
}

/* A source that always fails (WS_ERANDOM paths). */
static inline int fuzz_random_fail(uint8_t *buf, size_t len, void *user) {
  (void)buf;
  (void)len;
  (void)user;
  return -1;
}

/* ---------------------------------------------------------- allocator */

struct fuzz_mem {
  struct ws_mem mem; /* pass &m.mem */
  long calls;        /* malloc and realloc calls so far */
  long live;         /* blocks allocated and not freed */
  long fail_at;      /* the call with this index returns NULL; -1 never */
};

static inline void *fuzz_mem_malloc(size_t n, void *user) {
  struct fuzz_mem *m = (struct fuzz_mem *)user;
  if (m->calls++ == m->fail_at)
    return NULL;
  void *p = malloc(n ? n : 1);
  if (p)
    m->live++;
  return p;
}

static inline void fuzz_mem_free(void *p, void *user) {
  struct fuzz_mem *m = (struct fuzz_mem *)user;
  if (p) {
    m->live--;
    free(p);
  }
}

static inline void *fuzz_mem_realloc(void *p, size_t n, void *user) {
  struct fuzz_mem *m = (struct fuzz_mem *)user;
  if (m->calls++ == m->fail_at)
    return NULL;
  void *q = realloc(p, n ? n : 1);
  if (q && !p)
    m->live++;
  return q;
}

static inline void fuzz_mem_init(struct fuzz_mem *m, long fail_at) {
  m->mem.user = m;
  m->mem.malloc = fuzz_mem_malloc;
  m->mem.free = fuzz_mem_free;
  m->mem.realloc = fuzz_mem_realloc;
  m->calls = 0;
  m->live = 0;
  m->fail_at = fail_at;
}

/* ------------------------------------------------------------- memory */

/* An exact-size heap copy: any read past |n| is an ASan report. malloc(0)
 * may return NULL; callers pass NULL with length 0, which every API
 * accepts. */
static inline uint8_t *fuzz_dup(const uint8_t *p, size_t n) {
  if (n == 0)
    return NULL;
  uint8_t *q = (uint8_t *)malloc(n);
  FUZZ_CHECK(q != NULL);
  memcpy(q, p, n);
  return q;
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(FUZZ_ASAN)
#define FUZZ_ASAN 1
#endif

#ifdef FUZZ_ASAN
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
static inline void fuzz_poison(const void *p, size_t n) {
  if (n)
    __asan_poison_memory_region(p, n);
}
static inline void fuzz_unpoison(const void *p, size_t n) {
  if (n)
    __asan_unpoison_memory_region(p, n);
}
#else
static inline void fuzz_poison(const void *p, size_t n) {
  (void)p;
  (void)n;
}
static inline void fuzz_unpoison(const void *p, size_t n) {
  (void)p;
  (void)n;
}
#endif

/* -------------------------------------------------------------- UTF-8 */

/*
 * The reference validator: RFC 3629 Section 4 written out as a table of
 * second-byte ranges, one code point at a time, obviously correct and
 * slow. Returns 1 when p[0..n) is a prefix of some valid UTF-8 string
 * (*complete = 1 when it also ends on a code point boundary), else 0 with
 * *bad = the index of the first byte that cannot continue any valid
 * string (the fail-fast offset of ws_utf8.h).
 */
FUZZ_NOCOV static inline int fuzz_utf8_ref(const uint8_t *p, size_t n,
                                           size_t *bad, int *complete) {
  size_t i = 0;
  *complete = 1;
  while (i < n) {
    uint8_t b = p[i];
    unsigned need;
    uint8_t lo = 0x80, hi = 0xbf;
    if (b <= 0x7f) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
    } else if (b == 0xe0) {
      need = 2, lo = 0xa0;
    } else if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef) {
      need = 2;
    } else if (b == 0xed) {
      need = 2, hi = 0x9f;
    } else if (b == 0xf0) {
      need = 3, lo = 0x90;
    } else if (b >= 0xf1 && b <= 0xf3) {
      need = 3;
    } else if (b == 0xf4) {
      need = 3, hi = 0x8f;
    } else {
      *bad = i;
      return 0;
    }
    for (unsigned j = 1; j <= need; j++) {
      if (i + j >= n) {
        *complete = 0;
        return 1;
      }
      uint8_t c = p[i + j];
      uint8_t l = j == 1 ? lo : 0x80, h = j == 1 ? hi : 0xbf;
      if (c < l || c > h) {
        *bad = i + j;
        return 0;
      }
    }
    i += need + 1;
  }
  return 1;
}

/* -------------------------------------------------------------- chunks */

/*
 * The frame targets' chunking scheme (uWebSockets fuzzing/helpers.h): the
 * input is a sequence of [length byte][that many bytes]; length 0 means
 * "the rest of the input", and a length past the end is cut short. The
 * stream fed to the code under test is the concatenation of the chunks.
 */
struct fuzz_chunk {
  size_t off; /* offset in the concatenated stream */
  size_t len;
  const uint8_t *src; /* in the fuzz input */
};

/* Splits r's bytes into at most |max| chunks (the last takes the rest).
 * Returns the number of chunks; *total gets the stream length. */
FUZZ_NOCOV static inline size_t fuzz_chunks(struct fuzz_reader *r,
                                            struct fuzz_chunk *out, size_t max,
                                            size_t *total) {
  size_t k = 0, off = 0;
  while (r->n > 0 && k < max) {
    size_t want = fz_u8(r);
    if (want == 0 || k + 1 == max)
      want = r->n;
    size_t got;
    const uint8_t *src = fz_take(r, want, &got);
    out[k].off = off;
    out[k].len = got;
    out[k].src = src;
    off += got;
    k++;
  }
  *total = off;
  return k;
}

/*
 * Chunks as the code under test sees them: each in memory of exactly its
 * size, so a read or write one byte outside it is a sanitizer report
 * (padding would hide it; uWebSockets' helper pads by 128 bytes).
 *
 * Without ASan each chunk is its own malloc block. Under ASan, where
 * one malloc per chunk (a stack unwind for malloc and one for free) cost
 * more than the code under test, the chunks share one block: each starts
 * on an 8-byte ASan granule and the whole block stays poisoned except the
 * one chunk being fed, so a byte before or after it faults exactly as it
 * would in an exact-size heap block.
 */
#define FUZZ_MAX_PIECES 64

struct fuzz_pieces {
  const struct fuzz_chunk *c;
  size_t n;
  uint8_t *block; /* ASan: the shared block */
  size_t size;
  size_t at[FUZZ_MAX_PIECES]; /* ASan: offset of each chunk in |block| */
};

/* At most FUZZ_MAX_PIECES chunks. The pieces may be fed any number of
 * times (each get copies the chunk afresh), so one set serves several
 * runs over the same chunks. Harness plumbing: no coverage (FUZZ_NOCOV),
 * like the other per-byte helpers. */
FUZZ_NOCOV static inline void fuzz_pieces_init(struct fuzz_pieces *p,
                                               const struct fuzz_chunk *c,
                                               size_t n) {
  FUZZ_CHECK(n <= FUZZ_MAX_PIECES);
  p->c = c;
  p->n = n;
  p->block = NULL;
  p->size = 0;
#ifdef FUZZ_ASAN
  size_t off = 8;
  for (size_t k = 0; k < n; k++) {
    p->at[k] = off;
    off += (c[k].len + 7) / 8 * 8 + 8;
  }
  p->size = off;
  p->block = (uint8_t *)malloc(off);
  FUZZ_CHECK(p->block != NULL);
  for (size_t k = 0; k < n; k++)
    memcpy(p->block + p->at[k], c[k].src, c[k].len);
  fuzz_poison(p->block, p->size);
#endif
}

/* A fresh, writable copy of chunk |k| (NULL when it is empty), valid
 * until fuzz_pieces_put(k). */
FUZZ_NOCOV static inline uint8_t *fuzz_pieces_get(struct fuzz_pieces *p,
                                                 size_t k) {
  if (p->c[k].len == 0)
    return NULL;
#ifdef FUZZ_ASAN
  uint8_t *q = p->block + p->at[k];
  fuzz_unpoison(q, p->c[k].len);
  memcpy(q, p->c[k].src, p->c[k].len);
  return q;
#else
  return fuzz_dup(p->c[k].src, p->c[k].len);
#endif
}

FUZZ_NOCOV static inline void fuzz_pieces_put(struct fuzz_pieces *p, size_t k,
                                              uint8_t *q) {
#ifdef FUZZ_ASAN
  (void)q;
  if (p->c[k].len)
    fuzz_poison(p->block + p->at[k], p->c[k].len);
#else
  (void)p;
  (void)k;
  free(q);
#endif
}

static inline void fuzz_pieces_free(struct fuzz_pieces *p) {
  fuzz_unpoison(p->block, p->size);
  free(p->block);
}

#endif /* WS_FUZZ_UTIL_H */
