/*
 * fuzz/m32/openssl/rand.h: stands in for OpenSSL's header in the -m32
 * builds of the frame targets, where no 32-bit libcrypto is installed.
 * ws_core.c only needs RAND_bytes, for ws_random_default, which the frame
 * targets never call (they inject fuzz_random); rand_shim.c defines it.
 */
#ifndef WS_FUZZ_M32_RAND_H
#define WS_FUZZ_M32_RAND_H

int RAND_bytes(unsigned char *buf, int num);

#endif
