/*
 * bench_util.h: timing and the one-line output format shared by every
 * benchmark:
 *
 *   bench NAME VALUE UNIT ratio=R vs=REFERENCE
 *
 * where R = ours / reference, both measured in the same run. Header-only.
 */
#ifndef WS_BENCH_UTIL_H
#define WS_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Keeps the compiler from discarding a computed value. */
static inline void bench_keep(const void *p) {
  __asm__ volatile("" : : "r"(p) : "memory");
}

/*
 * Runs |fn(arg)| |inner| times per sample and returns the best rate in
 * operations per second over |samples| samples, where one call counts
 * |ops_per_call| operations. The best sample filters out scheduling noise.
 */
static inline double bench_best_rate(void (*fn)(void *), void *arg,
                                     long inner, double ops_per_call,
                                     int samples) {
  double best = 0;
  for (int s = 0; s < samples; s++) {
    double t0 = bench_now();
    for (long i = 0; i < inner; i++)
      fn(arg);
    double dt = bench_now() - t0;
    double rate = (double)inner * ops_per_call / dt;
    if (rate > best)
      best = rate;
  }
  return best;
}

static inline void bench_print(const char *name, double value,
                               const char *unit, double reference,
                               const char *vs) {
  printf("bench %s %.3f %s ratio=%.3f vs=%s\n", name, value, unit,
         reference > 0 ? value / reference : 0.0, vs);
  fflush(stdout);
}

#endif /* WS_BENCH_UTIL_H */
