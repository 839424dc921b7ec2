/*
 * speed_trivial: the machine reference of ci/fuzz-bench. A loop over
 * frame headers that touches a handful of edges and allocates nothing:
 * what libFuzzer + ASan + UBSan cost per input on this machine, in this
 * run, with no code under test. The speed goal
 * (>= 100 k exec/s per core) was set on a machine where such a loop ran
 * at about 377 k exec/s: a target's ratio to this reference, times
 * 377 k, projects its speed onto that machine (fuzz/README.md).
 *
 * Not a fuzz target: no oracle, not built by OSS-Fuzz, never in CI's
 * fuzzing step.
 */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t i = 0;
  unsigned control = 0;
  while (i + 2 <= size) {
    uint8_t b0 = data[i], b1 = data[i + 1];
    if ((b0 & 0x0f) >= 8)
      control++;
    i += 2 + (size_t)(b1 & 0x7f) + ((b1 & 0x80) ? 4 : 0);
  }
  return control > size ? 1 : 0;
}
