/*
 * fuzz/m32/rand_shim.c: RAND_bytes for the -m32 frame-target builds (see
 * openssl/rand.h here). It always fails: the frame targets inject their
 * own deterministic source, so a call means a target used
 * ws_random_default by mistake, and WS_ERANDOM makes that visible.
 */
#include "openssl/rand.h"

int RAND_bytes(unsigned char *buf, int num) {
  (void)buf;
  (void)num;
  return 0;
}
