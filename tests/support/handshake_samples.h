/*
 * handshake_samples.h: opening handshake requests shared by the HTTP and
 * handshake tests and the handshake benchmark, as string literals (use
 * them to initialise a char array; sizeof - 1 is the length).
 *
 * Header-only and free of cmocka, so a benchmark can include it without
 * linking the test support library.
 */
#ifndef WS_TEST_HANDSHAKE_SAMPLES_H
#define WS_TEST_HANDSHAKE_SAMPLES_H

/* The sample client handshake of RFC 6455 Section 1.2. */
#define SAMPLE_RFC6455_REQUEST                                                 \
  "GET /chat HTTP/1.1\r\n"                                                     \
  "Host: server.example.com\r\n"                                               \
  "Upgrade: websocket\r\n"                                                     \
  "Connection: Upgrade\r\n"                                                    \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"                            \
  "Origin: http://example.com\r\n"                                             \
  "Sec-WebSocket-Protocol: chat, superchat\r\n"                                \
  "Sec-WebSocket-Version: 13\r\n"                                              \
  "\r\n"

/* What a current browser sends: the RFC 6455 key, extra headers, and a
 * permessage-deflate offer (RFC 7692) in the last header. */
#define SAMPLE_BROWSER_REQUEST                                                 \
  "GET /chat HTTP/1.1\r\n"                                                     \
  "Host: server.example.com\r\n"                                               \
  "Connection: Upgrade\r\n"                                                    \
  "Pragma: no-cache\r\n"                                                       \
  "Cache-Control: no-cache\r\n"                                                \
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "            \
  "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36\r\n"                     \
  "Upgrade: websocket\r\n"                                                     \
  "Origin: http://server.example.com\r\n"                                      \
  "Sec-WebSocket-Version: 13\r\n"                                              \
  "Accept-Encoding: gzip, deflate, br, zstd\r\n"                               \
  "Accept-Language: en-US,en;q=0.9\r\n"                                        \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"                            \
  "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"   \
  "\r\n"

#endif /* WS_TEST_HANDSHAKE_SAMPLES_H */
