/*
 * speed_decoder: a reference of ci/fuzz-bench. The streaming frame
 * decoder alone (ws_frame.h) over the whole input as one buffer, no
 * chunks, no session, no oracle: the class of code the speed goal was
 * set on (a streaming decoder ran at 190-260 k exec/s there).
 * Against it, ci/fuzz-bench shows what fuzz_frame_decode's chunking,
 * session runs and oracles cost on top of the bare decoder.
 *
 * Not a fuzz target (never in OSS-Fuzz or CI's fuzzing step); it reads
 * the corpus of fuzz_frame_decode and skips its 4-byte config prefix.
 */
#include <stdlib.h>
#include <string.h>

#include "ws/ws_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4)
    return 0;
  struct ws_decoder_config cfg;
  struct ws_decoder d;
  ws_decoder_config_default(&cfg, (data[0] & 1) ? WS_ROLE_CLIENT
                                                 : WS_ROLE_SERVER);
  ws_decoder_init(&d, &cfg);
  size_t n = size - 4;
  /* The decoder unmasks in place: a writable exact-size copy. */
  uint8_t *buf = (uint8_t *)malloc(n ? n : 1);
  if (!buf)
    return 0;
  if (n)
    memcpy(buf, data + 4, n);
  size_t off = 0;
  for (;;) {
    struct ws_frame_chunk ch;
    size_t used = 0;
    int r = ws_decoder_decode(&d, buf + off, n - off, &used, &ch);
    off += used;
    if (r != 1)
      break;
  }
  free(buf);
  return 0;
}
