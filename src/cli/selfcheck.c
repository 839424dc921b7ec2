/*
 * selfcheck.c: `wsspec selfcheck`, the protocol core run over the worked
 * examples of RFC 6455 (Sections 1.2, 1.3, 5.7) and a few rules every
 * implementation must get right. It prints one TAP-style line per check,
 * so a person sees what was checked and a script can count failures.
 */
#include "selfcheck.h"

#include <stdio.h>
#include <string.h>

#include "core/ws_core.h"
#include "http/ws_handshake.h"
#include "http/ws_http.h"
#include "ws/ws_close.h"
#include "ws/ws_frame.h"
#include "ws/ws_session.h"
#include "ws/ws_utf8.h"

struct tally {
  int run;
  int failed;
};

static void report(struct tally *t, int ok, const char *what) {
  t->run++;
  if (!ok)
    t->failed++;
  printf("%s %d - %s\n", ok ? "ok" : "not ok", t->run, what);
}

/* RFC 6455 Section 1.3: the worked Sec-WebSocket-Accept example. */
static int check_accept(void) {
  static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
  char out[WS_ACCEPT_LEN + 1];
  if (ws_handshake_accept(NULL, key, strlen(key), out) != 0)
    return 0;
  return strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0;
}

/* RFC 6455 Section 1.2: the sample client handshake validates, and the 101
 * answer carries the accept value of Section 1.3. */
static int check_server_handshake(void) {
  static const char req[] = "GET /chat HTTP/1.1\r\n"
                            "Host: server.example.com\r\n"
                            "Upgrade: websocket\r\n"
                            "Connection: Upgrade\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            "Origin: http://example.com\r\n"
                            "Sec-WebSocket-Protocol: chat, superchat\r\n"
                            "Sec-WebSocket-Version: 13\r\n"
                            "\r\n";
  struct ws_http_header headers[WS_HTTP_DEFAULT_MAX_HEADERS];
  struct ws_http_parser p;
  struct ws_handshake_request r;
  struct ws_handshake_failure f;
  char resp[512];

  if (ws_http_parser_init(&p, WS_HTTP_REQUEST, headers,
                          WS_HTTP_DEFAULT_MAX_HEADERS, 0) != 0)
    return 0;
  if (ws_http_parse(&p, req, sizeof(req) - 1) != WS_HTTP_COMPLETE)
    return 0;
  if (ws_handshake_server_check(&p, &r, &f) != 0 || r.num_protocols != 2)
    return 0;
  ws_ssize n = ws_handshake_build_101(resp, sizeof(resp) - 1, NULL,
                                         r.key.ptr, r.key.len, "chat", NULL);
  if (n <= 0)
    return 0;
  resp[n] = '\0';
  return strstr(resp, "HTTP/1.1 101 ") == resp &&
         strstr(resp, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") &&
         strstr(resp, "Sec-WebSocket-Protocol: chat\r\n");
}

/* RFC 6455 Section 5.7: a masked "Hello" from a client decodes in place. */
static int check_decode_masked(void) {
  uint8_t wire[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                    0x7f, 0x9f, 0x4d, 0x51, 0x58};
  struct ws_decoder_config c;
  struct ws_decoder d;
  struct ws_frame_chunk chunk;
  size_t used;

  ws_decoder_config_default(&c, WS_ROLE_SERVER);
  ws_decoder_init(&d, &c);
  if (ws_decoder_decode(&d, wire, sizeof(wire), &used, &chunk) != 1)
    return 0;
  return used == sizeof(wire) && chunk.first && chunk.last &&
         chunk.header->opcode == WS_OP_TEXT && chunk.len == 5 &&
         memcmp(chunk.data, "Hello", 5) == 0;
}

/* RFC 6455 Section 5.7: the unmasked "Hello" and 256-byte binary headers
 * encode byte for byte. */
static int check_encode(void) {
  static const uint8_t hello[] = {0x81, 0x05, 'H', 'e', 'l', 'l', 'o'};
  static const uint8_t bin256[] = {0x82, 0x7e, 0x01, 0x00};
  uint8_t out[16];
  struct ws_frame_header h = {0};

  h.fin = 1;
  h.opcode = WS_OP_TEXT;
  h.length = 5;
  if (ws_frame_encode(out, sizeof(out), &h, (const uint8_t *)"Hello", NULL,
                      NULL) != (ws_ssize)sizeof(hello) ||
      memcmp(out, hello, sizeof(hello)) != 0)
    return 0;
  h.opcode = WS_OP_BINARY;
  h.length = 256;
  return ws_frame_header_encode(out, &h) == sizeof(bin256) &&
         memcmp(out, bin256, sizeof(bin256)) == 0;
}

struct echo {
  int messages;
  int violations;
  struct ws_violation last;
};

static int on_message(ws_session *s, enum ws_opcode op, const uint8_t *data,
                      size_t len, void *user) {
  struct echo *e = user;
  e->messages++;
  return ws_session_queue_message(s, op, data, len);
}

static int on_violation(ws_session *s, const struct ws_violation *v,
                        void *user) {
  struct echo *e = user;
  (void)s;
  e->violations++;
  e->last = *v;
  return 0;
}

/* Feeds |in| to a fresh echoing server session and collects its output. */
static size_t run_echo(uint8_t *in, size_t inlen, uint8_t *out, size_t cap,
                       struct echo *e, int *should_close) {
  struct ws_session_callbacks cb = {.on_message = on_message,
                                    .on_violation = on_violation};
  ws_session *s;
  size_t n = 0;
  const uint8_t *p;
  ws_ssize m;

  memset(e, 0, sizeof(*e));
  if (ws_session_new(&s, WS_ROLE_SERVER, &cb, e, NULL, NULL) != 0)
    return 0;
  ws_session_recv(s, in, inlen);
  while ((m = ws_session_send(s, &p)) > 0 && n + (size_t)m <= cap) {
    memcpy(out + n, p, (size_t)m);
    n += (size_t)m;
  }
  *should_close = ws_session_should_close(s) == WS_SESSION_CLOSE_NOW;
  ws_session_del(s);
  return n;
}

/* A masked "Hello" then a masked Close(1000): the session echoes the
 * message, answers the Close with 1000 and asks for the transport to be
 * closed (RFC 6455 Sections 5.5.1 and 7.1.1). */
static int check_session_echo(void) {
  uint8_t in[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f,
                  0x4d, 0x51, 0x58, 0x88, 0x82, 0x01, 0x02, 0x03,
                  0x04, 0x03 ^ 0x01, 0xe8 ^ 0x02};
  static const uint8_t want[] = {0x81, 0x05, 'H',  'e',  'l', 'l',
                                 'o',  0x88, 0x02, 0x03, 0xe8};
  uint8_t out[64];
  struct echo e;
  int close_now;
  size_t n = run_echo(in, sizeof(in), out, sizeof(out), &e, &close_now);
  return e.messages == 1 && e.violations == 0 && close_now &&
         n == sizeof(want) && memcmp(out, want, n) == 0;
}

/* RSV1 without an extension fails the connection with 1002, naming
 * RFC 6455 Section 5.2 and the offending byte. */
static int check_session_violation(void) {
  uint8_t in[] = {0xc1, 0x80, 0x00, 0x00, 0x00, 0x00};
  uint8_t out[160];
  struct echo e;
  int close_now;
  size_t n = run_echo(in, sizeof(in), out, sizeof(out), &e, &close_now);
  return e.violations == 1 && e.last.id == WS_V_RSV_BITS &&
         e.last.close_code == 1002 && strcmp(e.last.section, "5.2") == 0 &&
         e.last.offset == 0 && close_now && n >= 4 && out[0] == 0x88 &&
         out[2] == 0x03 && out[3] == 0xea;
}

/* Autobahn case 6.4's payload: U+110000 is invalid at its second byte,
 * message offset 12, and the validator says so without seeing the rest. */
static int check_utf8_fail_fast(void) {
  static const uint8_t text[] = {0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf,
                                 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xf4,
                                 0x90, 0x80, 0x80};
  struct ws_utf8 v;
  uint64_t off = 0;
  ws_utf8_init(&v, WS_UTF8_AUTO);
  return ws_utf8_feed(&v, text, 13, &off) == WS_UTF8_INVALID && off == 12;
}

/* RFC 6455 Section 7.4: the close code classes. */
static int check_close_codes(void) {
  return ws_close_code_is_valid(1000) && ws_close_code_is_valid(1012) &&
         ws_close_code_is_valid(3000) && ws_close_code_is_valid(4999) &&
         !ws_close_code_is_valid(1004) && !ws_close_code_is_valid(1005) &&
         !ws_close_code_is_valid(1015) && !ws_close_code_is_valid(999) &&
         !ws_close_code_is_valid(2999) && !ws_close_code_is_valid(5000);
}

int ws_cli_selfcheck(int argc, char **argv) {
  struct tally t = {0, 0};
  (void)argc;
  (void)argv;

  report(&t, check_accept(), "Sec-WebSocket-Accept of RFC 6455 Section 1.3");
  report(&t, check_server_handshake(),
         "sample handshake of Section 1.2 validates, 101 answer built");
  report(&t, check_decode_masked(), "masked \"Hello\" of Section 5.7 decodes");
  report(&t, check_encode(), "Section 5.7 frames encode byte for byte");
  report(&t, check_session_echo(),
         "session echoes a message and answers Close(1000)");
  report(&t, check_session_violation(),
         "RSV1 without extension fails with 1002 (Section 5.2, offset 0)");
  report(&t, check_utf8_fail_fast(),
         "UTF-8 fails fast at offset 12 on Autobahn 6.4's payload");
  report(&t, check_close_codes(), "close code classes of Section 7.4");

  printf("%d passed, %d failed\n", t.run - t.failed, t.failed);
  return t.failed ? 1 : 0;
}
