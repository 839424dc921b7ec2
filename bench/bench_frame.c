/*
 * bench_frame.c: masking and the frame decoder, against references measured
 * in the same run.
 *
 *   mask_*_64k         in-place unmask of 64 KiB vs memcpy of 64 KiB
 *                      (and the portable path vs the byte loop)
 *   mask_125b          ws_mask_apply over 125-byte payloads laid out as
 *                      consecutive masked control frames (6-byte headers)
 *                      vs memcpy of the same payloads
 *   decode_64k_*       ws_decoder_decode + unmask of a buffer of 64 KiB
 *                      masked frames (1 MiB and 16 MiB) vs memcpy of the
 *                      same bytes into another buffer
 *   decode_16b/64b     ws_decoder_decode of a ~1 MiB buffer of 16- or
 *                      64-byte masked text frames, in M frames/s, vs
 *                      ref_decode below: a non-streaming loop that does
 *                      the least any decoder must (header lengths, MASK
 *                      bit, bounds, ws_mask_apply). The ratio is what the
 *                      streaming API and the full Section 5 rule checks
 *                      cost on top of that floor.
 *
 * Decoding unmasks in place, so repeated passes toggle the payload between
 * masked and clear; the decoder does not look at payload bytes, so every
 * pass does the same work.
 */
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "core/ws_core.h"
#include "ws/ws_frame.h"
#include "ws/ws_mask.h"

static const uint8_t bkey[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Calls per sample so that one sample takes about 3 ms: short enough that
 * many samples run without being preempted on a shared machine. */
static long calibrate(void (*fn)(void *), void *arg) {
  long inner = 1;
  double dt;
  for (;;) {
    double t0 = bench_now();
    for (long i = 0; i < inner; i++)
      fn(arg);
    dt = bench_now() - t0;
    if (dt > 0.002)
      break;
    inner *= 2;
  }
  return (long)((double)inner * 0.003 / dt) + 1;
}

/*
 * Best rates of |a| (ours) and |b| (its reference), sampled alternately so
 * both see the same machine: other processes share these CPUs, and a
 * ratio of two rates taken seconds apart would measure the neighbours.
 */
static void rate_pair(void (*a)(void *), void *aarg, double aops,
                      void (*b)(void *), void *barg, double bops, double *ra,
                      double *rb) {
  long na = calibrate(a, aarg), nb = calibrate(b, barg);
  *ra = *rb = 0;
  for (int s = 0; s < 41; s++) {
    double x = bench_best_rate(a, aarg, na, aops, 1);
    double y = bench_best_rate(b, barg, nb, bops, 1);
    if (x > *ra)
      *ra = x;
    if (y > *rb)
      *rb = y;
  }
}

static uint8_t *xalloc(size_t n) {
  /* 64-byte aligned, then used at odd offsets where it matters. */
  void *p = NULL;
  if (posix_memalign(&p, 64, n + 64) != 0) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  memset(p, 0x5a, n + 64);
  return p;
}

/* ---- masking ---- */

struct mask_arg {
  uint8_t *p;
  uint8_t *q;
  size_t len;
  void (*fn)(uint8_t *, size_t, const uint8_t *, size_t);
};

static void run_memcpy(void *a) {
  struct mask_arg *m = a;
  memcpy(m->q, m->p, m->len);
  bench_keep(m->q);
}

static void run_mask(void *a) {
  struct mask_arg *m = a;
  m->fn(m->p, m->len, bkey, 1);
  bench_keep(m->p);
}

/* 64 payloads of 125 bytes, each after a 6-byte header. */
#define SMALL_N 64
#define SMALL_STRIDE 131

static void run_mask_125(void *a) {
  struct mask_arg *m = a;
  for (int i = 0; i < SMALL_N; i++)
    ws_mask_apply(m->p + 6 + (size_t)i * SMALL_STRIDE, 125, bkey, 0);
  bench_keep(m->p);
}

static void run_memcpy_125(void *a) {
  struct mask_arg *m = a;
  for (int i = 0; i < SMALL_N; i++)
    memcpy(m->q + 6 + (size_t)i * SMALL_STRIDE,
           m->p + 6 + (size_t)i * SMALL_STRIDE, 125);
  bench_keep(m->q);
}

static void bench_mask(void) {
  const size_t n = 65536;
  uint8_t *src = xalloc(n + 64), *dst = xalloc(n + 64);
  /* Payload 6 bytes into the buffer, as after a 6-byte frame header. */
  struct mask_arg m = {src + 6, dst + 6, n, NULL};
  struct mask_arg r = m;
  double ours, ref, bytewise;

  m.fn = ws_mask_apply_bytewise;
  rate_pair(run_mask, &m, (double)n, run_memcpy, &r, (double)n, &bytewise,
            &ref);
  bench_print("mask_bytewise_64k", bytewise / 1e9, "GB/s", ref / 1e9,
              "memcpy_64k");

  m.fn = ws_mask_apply_portable;
  rate_pair(run_mask, &m, (double)n, run_memcpy, &r, (double)n, &ours, &ref);
  bench_print("mask_portable_64k", ours / 1e9, "GB/s", ref / 1e9,
              "memcpy_64k");
  bench_print("mask_portable_64k", ours / 1e9, "GB/s", bytewise / 1e9,
              "mask_bytewise_64k");

  if (ws_mask_have_avx2()) {
    m.fn = ws_mask_apply_avx2;
    rate_pair(run_mask, &m, (double)n, run_memcpy, &r, (double)n, &ours,
              &ref);
    bench_print("mask_avx2_64k", ours / 1e9, "GB/s", ref / 1e9, "memcpy_64k");
  } else {
    printf("bench mask_avx2_64k skipped: no AVX2 on this CPU\n");
  }
  m.fn = ws_mask_apply;
  rate_pair(run_mask, &m, (double)n, run_memcpy, &r, (double)n, &ours, &ref);
  bench_print("mask_apply_64k", ours / 1e9, "GB/s", ref / 1e9, "memcpy_64k");

  double bytes = 125.0 * SMALL_N;
  rate_pair(run_mask_125, &m, bytes, run_memcpy_125, &r, bytes, &ours, &ref);
  bench_print("mask_125b", ours / 1e9, "GB/s", ref / 1e9, "memcpy_125b");
  free(src);
  free(dst);
}

/* ---- decoding ---- */

/* Fills |buf| with masked text/binary frames of |plen| payload bytes, as
 * many as fit in |cap|; returns the bytes used. */
static size_t build_frames(uint8_t *buf, size_t cap, size_t plen,
                           uint8_t opcode, size_t *nframes) {
  uint8_t *payload = xalloc(plen);
  uint64_t seed = 99;
  struct ws_frame_header h;
  size_t at = 0, n = 0;
  for (size_t i = 0; i < plen; i++)
    payload[i] = (uint8_t)('a' + i % 26);
  memset(&h, 0, sizeof(h));
  h.fin = 1;
  h.opcode = opcode;
  h.masked = 1;
  h.length = plen;
  for (;;) {
    size_t need = ws_frame_encoded_size(&h);
    if (at + need > cap)
      break;
    /* A cheap deterministic key per frame; the bench does not need
     * unpredictable keys. */
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    memcpy(h.mask, &seed, 4);
    if (ws_frame_encode(buf + at, cap - at, &h, payload, NULL, NULL) < 0) {
      fprintf(stderr, "encode failed\n");
      exit(1);
    }
    at += need;
    n++;
  }
  free(payload);
  *nframes = n;
  return at;
}

struct dec_arg {
  uint8_t *buf;
  uint8_t *dst;
  size_t len;
  size_t frames;
  uint64_t sum;
};

static void run_decode(void *a) {
  struct dec_arg *x = a;
  struct ws_decoder d;
  struct ws_decoder_config c;
  struct ws_frame_chunk ch;
  size_t off = 0, used;
  uint64_t sum = 0;
  ws_decoder_config_default(&c, WS_ROLE_SERVER);
  ws_decoder_init(&d, &c);
  while (off < x->len) {
    int r = ws_decoder_decode(&d, x->buf + off, x->len - off, &used, &ch);
    if (r != 1) {
      fprintf(stderr, "decode returned %d\n", r);
      exit(1);
    }
    off += used;
    sum += ch.len + ch.last;
  }
  x->sum += sum;
  bench_keep(x->buf);
}

/* The floor: whole buffer, no streaming state, MASK bit and bounds only. */
static void run_ref_decode(void *a) {
  struct dec_arg *x = a;
  uint8_t *p = x->buf, *end = x->buf + x->len;
  uint64_t sum = 0;
  while (p < end) {
    size_t avail = (size_t)(end - p);
    if (avail < 2 || !(p[1] & 0x80))
      exit(1);
    size_t l7 = p[1] & 0x7f, hl = 6;
    uint64_t len = l7;
    if (l7 == 126) {
      len = (uint64_t)p[2] << 8 | p[3];
      hl = 8;
    } else if (l7 == 127) {
      len = 0;
      for (int i = 0; i < 8; i++)
        len = len << 8 | p[2 + i];
      hl = 14;
    }
    if (avail < hl || len > avail - hl)
      exit(1);
    ws_mask_apply(p + hl, (size_t)len, p + hl - 4, 0);
    sum += len + 1;
    p += hl + (size_t)len;
  }
  x->sum += sum;
  bench_keep(x->buf);
}

static void run_memcpy_buf(void *a) {
  struct dec_arg *x = a;
  memcpy(x->dst, x->buf, x->len);
  bench_keep(x->dst);
}

static void bench_decode_large(size_t cap, const char *name) {
  uint8_t *buf = xalloc(cap), *dst = xalloc(cap);
  struct dec_arg x = {buf, dst, 0, 0, 0};
  x.len = build_frames(buf, cap, 65536, WS_OP_BINARY, &x.frames);
  double ours, ref;
  rate_pair(run_decode, &x, (double)x.len, run_memcpy_buf, &x, (double)x.len,
            &ours, &ref);
  bench_print(name, ours / 1e9, "GB/s", ref / 1e9, "memcpy_same_bytes");
  free(buf);
  free(dst);
}

static void bench_decode_small(size_t plen, const char *name) {
  const size_t cap = 1u << 20;
  uint8_t *buf = xalloc(cap), *dst = xalloc(cap);
  struct dec_arg x = {buf, dst, 0, 0, 0};
  x.len = build_frames(buf, cap, plen, WS_OP_TEXT, &x.frames);
  double ours, ref;
  rate_pair(run_decode, &x, (double)x.frames, run_ref_decode, &x,
            (double)x.frames, &ours, &ref);
  bench_print(name, ours / 1e6, "Mframes/s", ref / 1e6, "ref_decode");
  free(buf);
  free(dst);
}

int main(void) {
  bench_mask();
  bench_decode_large(1u << 20, "decode_64k_frames_1m");
  bench_decode_large(16u << 20, "decode_64k_frames_16m");
  bench_decode_small(16, "decode_16b_frames");
  bench_decode_small(64, "decode_64b_frames");
  return 0;
}
