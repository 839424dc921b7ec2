/*
 * speed_http_request: a reference of ci/fuzz-bench. One ws_http_parse
 * of the input as a request head (ws_http.h), whole, default scanner, no
 * validation, no oracle: the class of code the speed goal was
 * set on (a handshake parser ran at about 347 k exec/s there). Against it,
 * ci/fuzz-bench shows what the handshake targets' chunked parse,
 * validation, built answers and oracles cost on top of the bare parser.
 *
 * Not a fuzz target (never in OSS-Fuzz or CI's fuzzing step); it reads
 * the corpus of fuzz_handshake_request and skips its config byte and cut
 * list.
 */
#include <stdlib.h>
#include <string.h>

#include "http/ws_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  size_t skip = 2 + (data[1] & 15u);
  if (skip > size)
    return 0;
  struct ws_http_parser p;
  struct ws_http_header h[64];
  if (ws_http_parser_init(&p, WS_HTTP_REQUEST, h, 64, 0) != WS_OK)
    return 0;
  size_t n = size - skip;
  char *buf = (char *)malloc(n ? n : 1);
  if (!buf)
    return 0;
  if (n)
    memcpy(buf, data + skip, n);
  (void)ws_http_parse(&p, buf, n);
  free(buf);
  return 0;
}
