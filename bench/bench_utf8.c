/*
 * bench_utf8.c: UTF-8 validation throughput on 1 MiB inputs.
 *
 * Inputs (generated deterministically): ASCII, Cyrillic (mostly 2-byte),
 * CJK (3-byte), emoji (4-byte) and a random mix of all lengths, which
 * defeats branch prediction. For each:
 *
 *   utf8_fast_X         the AUTO path (AVX2 here when the CPU has it)
 *                       vs memcpy of the same 1 MiB
 *   utf8_portable_X     the scalar path vs a classic table DFA
 *   utf8_dfa_X          that table DFA (one class lookup and one dependent
 *                       transition lookup per byte), vs memcpy
 *   utf8_incremental_1k_X / utf8_portable_incremental_1k_X
 *                       the same validator fed 1 KiB pieces, vs whole
 *   utf8_memcpy_X       the memcpy reference itself
 *
 * Every reference is measured in this run, interleaved with what it is
 * compared with (see measure_all).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "utf8_encode.h"
#include "ws/ws_utf8.h"

#define INPUT_SIZE (1u << 20)
#define PIECE 1024u

/* ------------------------------------------------------------------------
 * The reference: a textbook table DFA. Byte classes first, then one
 * transition table lookup per byte that depends on the previous one.
 */
enum { C_ASCII, C_80, C_90, C_A0, C_BAD, C_LEAD2, C_E0, C_LEAD3, C_ED,
       C_F0, C_LEAD4, C_F4, NCLASS };
enum { D_ACCEPT, D_REJECT, D_T1, D_T2, D_T3, D_E0, D_ED, D_F0, D_F4,
       NSTATE };

struct dfa {
  uint8_t cls[256];
  uint8_t next[NSTATE * NCLASS]; /* next state, premultiplied by NCLASS */
};

static void dfa_build(struct dfa *d) {
  for (int b = 0; b < 256; b++) {
    uint8_t c = C_BAD;
    if (b < 0x80) c = C_ASCII;
    else if (b < 0x90) c = C_80;
    else if (b < 0xA0) c = C_90;
    else if (b < 0xC0) c = C_A0;
    else if (b < 0xC2) c = C_BAD;
    else if (b < 0xE0) c = C_LEAD2;
    else if (b == 0xE0) c = C_E0;
    else if (b == 0xED) c = C_ED;
    else if (b < 0xF0) c = C_LEAD3;
    else if (b == 0xF0) c = C_F0;
    else if (b < 0xF4) c = C_LEAD4;
    else if (b == 0xF4) c = C_F4;
    d->cls[b] = c;
  }
  for (int s = 0; s < NSTATE; s++)
    for (int c = 0; c < NCLASS; c++) {
      int n = D_REJECT;
      int cont = c == C_80 || c == C_90 || c == C_A0;
      switch (s) {
      case D_ACCEPT:
        n = c == C_ASCII ? D_ACCEPT : c == C_LEAD2 ? D_T1
            : c == C_LEAD3 ? D_T2 : c == C_LEAD4 ? D_T3
            : c == C_E0 ? D_E0 : c == C_ED ? D_ED : c == C_F0 ? D_F0
            : c == C_F4 ? D_F4 : D_REJECT;
        break;
      case D_T1: n = cont ? D_ACCEPT : D_REJECT; break;
      case D_T2: n = cont ? D_T1 : D_REJECT; break;
      case D_T3: n = cont ? D_T2 : D_REJECT; break;
      case D_E0: n = c == C_A0 ? D_T1 : D_REJECT; break;
      case D_ED: n = c == C_80 || c == C_90 ? D_T1 : D_REJECT; break;
      case D_F0: n = c == C_90 || c == C_A0 ? D_T2 : D_REJECT; break;
      case D_F4: n = c == C_80 ? D_T2 : D_REJECT; break;
      default: break;
      }
      d->next[s * NCLASS + c] = (uint8_t)(n * NCLASS);
    }
}

static int dfa_validate(const struct dfa *d, const uint8_t *p, size_t n) {
  unsigned s = D_ACCEPT * NCLASS;
  for (size_t i = 0; i < n; i++) {
    s = d->next[s + d->cls[p[i]]];
    if (s == D_REJECT * NCLASS)
      return -1;
  }
  return s == D_ACCEPT * NCLASS ? 0 : -1;
}

/* ------------------------------------------------------------------------
 * Inputs.
 */
static uint32_t next_rand(uint64_t *seed) {
  *seed ^= *seed << 13;
  *seed ^= *seed >> 7;
  *seed ^= *seed << 17;
  return (uint32_t)(*seed >> 16);
}

enum kind { K_ASCII, K_CYRILLIC, K_CJK, K_EMOJI, K_MIXED, NKIND };
static const char *const kind_names[NKIND] = {"ascii", "cyrillic", "cjk",
                                              "emoji", "mixed"};

static uint32_t pick(enum kind k, uint64_t *seed) {
  uint32_t r = next_rand(seed);
  switch (k) {
  case K_ASCII:
    return r % 16 == 0 ? ' ' : 0x21 + r % 94;
  case K_CYRILLIC: /* words of Cyrillic letters, spaces, some digits */
    return r % 8 == 0 ? ' ' : r % 50 == 1 ? '0' + r % 10 : 0x430 + r % 32;
  case K_CJK:
    return 0x4E00 + r % 0x5200;
  case K_EMOJI:
    return 0x1F300 + r % 0x350;
  default: /* uniform over the four encoded lengths */
    switch (r & 3) {
    case 0: return (r >> 2) % 0x80;
    case 1: return 0x80 + (r >> 2) % 0x780;
    case 2: {
      uint32_t cp = 0x800 + (r >> 2) % 0xF000;
      return cp >= 0xD800 && cp < 0xE000 ? cp + 0x800 : cp;
    }
    default: return 0x10000 + (r >> 2) % 0x100000;
    }
  }
}

static void generate(enum kind k, uint8_t *buf, size_t n) {
  uint64_t seed = 0x9e3779b97f4a7c15u + (uint64_t)k;
  size_t i = 0;
  while (i < n) {
    uint8_t tmp[4];
    size_t len = utf8_encode(pick(k, &seed), tmp);
    if (i + len > n)
      len = utf8_encode('.', tmp);
    memcpy(buf + i, tmp, len);
    i += len;
  }
}

/* ------------------------------------------------------------------------
 * Measured operations.
 */
struct job {
  const uint8_t *p;
  uint8_t *dst;
  size_t n;
  enum ws_utf8_impl impl;
  size_t piece;
  const struct dfa *dfa;
  int bad; /* counts unexpected INVALID verdicts */
};

static void run_whole(void *arg) {
  struct job *j = arg;
  struct ws_utf8 v;
  ws_utf8_init(&v, j->impl);
  if (ws_utf8_feed(&v, j->p, j->n, NULL) != WS_UTF8_VALID ||
      ws_utf8_finish(&v, NULL) != WS_UTF8_VALID)
    j->bad++;
}

static void run_pieces(void *arg) {
  struct job *j = arg;
  struct ws_utf8 v;
  ws_utf8_init(&v, j->impl);
  for (size_t at = 0; at < j->n; at += j->piece) {
    size_t len = j->n - at < j->piece ? j->n - at : j->piece;
    if (ws_utf8_feed(&v, j->p + at, len, NULL) != WS_UTF8_VALID)
      j->bad++;
  }
  if (ws_utf8_finish(&v, NULL) != WS_UTF8_VALID)
    j->bad++;
}

static void run_dfa(void *arg) {
  struct job *j = arg;
  if (dfa_validate(j->dfa, j->p, j->n) != 0)
    j->bad++;
}

static void run_memcpy(void *arg) {
  struct job *j = arg;
  memcpy(j->dst, j->p, j->n);
  bench_keep(j->dst);
}

/* One measured operation: what to run, on which job, and its best rate. */
struct measure {
  void (*fn)(void *);
  struct job job;
  long inner;  /* calls per sample, about 2 ms worth */
  double best; /* GB/s */
};

/*
 * Measures all of m[0..n) in interleaved rounds and keeps each one's best
 * sample, so ours and the references see the same machine conditions even
 * when other work shares it.
 */
static void measure_all(struct measure *m, int n, int rounds) {
  for (int k = 0; k < n; k++) {
    double t0 = bench_now();
    m[k].fn(&m[k].job);
    double once = bench_now() - t0;
    m[k].inner = (long)(0.002 / (once > 1e-7 ? once : 1e-7)) + 1;
    m[k].best = 0;
  }
  for (int r = 0; r < rounds; r++)
    for (int k = 0; k < n; k++) {
      double rate = bench_best_rate(m[k].fn, &m[k].job, m[k].inner,
                                    (double)m[k].job.n, 1) / 1e9;
      if (rate > m[k].best)
        m[k].best = rate;
    }
}

int main(void) {
  uint8_t *buf = malloc(INPUT_SIZE);
  uint8_t *dst = malloc(INPUT_SIZE);
  struct dfa *dfa = malloc(sizeof(*dfa));
  if (!buf || !dst || !dfa)
    return 1;
  dfa_build(dfa);
  printf("# utf8: AUTO path = %s\n",
         ws_utf8_have_avx2() ? "avx2" : "portable");

  int bad = 0;
  for (int k = 0; k < NKIND; k++) {
    char name[64];
    const char *kn = kind_names[k];
    generate((enum kind)k, buf, INPUT_SIZE);
    struct job j = {buf, dst, INPUT_SIZE, WS_UTF8_AUTO, PIECE, dfa, 0};
    struct job jp = j;
    jp.impl = WS_UTF8_PORTABLE;
    struct measure m[] = {{run_memcpy, j, 0, 0},   {run_dfa, j, 0, 0},
                          {run_whole, j, 0, 0},    {run_pieces, j, 0, 0},
                          {run_whole, jp, 0, 0},   {run_pieces, jp, 0, 0}};
    int nm = (int)(sizeof(m) / sizeof(m[0]));
    measure_all(m, nm, 50);
    for (int i = 0; i < nm; i++)
      bad += m[i].job.bad;
    double mem = m[0].best, dfa_rate = m[1].best, fast = m[2].best;
    double fast_inc = m[3].best, port = m[4].best, port_inc = m[5].best;

    snprintf(name, sizeof(name), "utf8_memcpy_%s", kn);
    bench_print(name, mem, "GB/s", mem, "memcpy");
    snprintf(name, sizeof(name), "utf8_fast_%s", kn);
    bench_print(name, fast, "GB/s", mem, "memcpy");
    snprintf(name, sizeof(name), "utf8_portable_%s", kn);
    bench_print(name, port, "GB/s", dfa_rate, "dfa");
    snprintf(name, sizeof(name), "utf8_dfa_%s", kn);
    bench_print(name, dfa_rate, "GB/s", mem, "memcpy");
    snprintf(name, sizeof(name), "utf8_incremental_1k_%s", kn);
    bench_print(name, fast_inc, "GB/s", fast, "whole");
    snprintf(name, sizeof(name), "utf8_portable_incremental_1k_%s", kn);
    bench_print(name, port_inc, "GB/s", port, "whole");
  }
  free(buf);
  free(dst);
  free(dfa);
  if (bad) {
    fprintf(stderr, "bench_utf8: %d unexpected INVALID verdicts\n", bad);
    return 1;
  }
  return 0;
}
