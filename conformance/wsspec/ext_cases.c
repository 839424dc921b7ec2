/*
 * ext_cases.c: wsspec's own cases, beyond the Autobahn catalogue (ids
 * "x.N.M", category WS_CAT_EXTENDED). They close gaps users of Autobahn
 * have asked about: Autobahn has no opening-handshake category (its
 * category 0 is empty), lets a server that silently ignores a bad frame
 * keep behavior OK, and has no fail-fast test for close reasons (Autobahn
 * issue #93). Selected only by explicit patterns ("x.*") or --extended.
 */
#include "conformance/ws_case_data.h"

#define EXT WS_CASE_F_EXTENDED
#define SUB_X1 "Opening handshake refusals"
#define SUB_X2 "Client frames must be masked"
#define SUB_X3 "Close reason UTF-8 fail-fast"

/* A request line and the fields every valid request has, minus what each
 * case removes or breaks. */
#define REQ_LINE "GET {path} HTTP/1.1\r\n"
#define F_HOST "Host: {host}\r\n"
#define F_UPGRADE "Upgrade: websocket\r\n"
#define F_CONN "Connection: Upgrade\r\n"
#define F_KEY "Sec-WebSocket-Key: {key}\r\n"
#define F_VERSION "Sec-WebSocket-Version: 13\r\n"

#define REFUSE(req, a, b)                                                    \
  .handshake = &(const struct ws_case_handshake){.request = (req),          \
                                                 .ok = {(a), (b), 0}}

#define KOSME "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

static const struct ws_case cases[] = {
    {.id = "x.1.1", .category = WS_CAT_EXTENDED, .subcategory = SUB_X1,
     .section = "4.2.1", .flags = EXT,
     .description = "Opening handshake without Sec-WebSocket-Key",
     .expectation = "Refuse with 400 Bad Request (RFC 6455 Section 4.2.1 "
         "item 5); never 101",
     REFUSE(REQ_LINE F_HOST F_UPGRADE F_CONN F_VERSION "\r\n", 400, 0)},
    {.id = "x.1.2", .category = WS_CAT_EXTENDED, .subcategory = SUB_X1,
     .section = "4.2.1", .flags = EXT,
     .description = "Sec-WebSocket-Key that does not decode to 16 octets "
         "('dGhlIHNhbXBsZQ==', 10 octets)",
     .expectation = "Refuse with 400 Bad Request; never 101",
     REFUSE(REQ_LINE F_HOST F_UPGRADE F_CONN
            "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n" F_VERSION "\r\n",
            400, 0)},
    {.id = "x.1.3", .category = WS_CAT_EXTENDED, .subcategory = SUB_X1,
     .section = "4.4", .flags = EXT,
     .description = "Sec-WebSocket-Version: 8 (a draft version)",
     .expectation = "Refuse with 426 Upgrade Required and a "
         "Sec-WebSocket-Version field listing 13 (Sections 4.2.2 and 4.4)",
     .handshake = &(const struct ws_case_handshake){
         .request = REQ_LINE F_HOST F_UPGRADE F_CONN F_KEY
             "Sec-WebSocket-Version: 8\r\n\r\n",
         .ok = {426, 0, 0},
         .header = "Sec-WebSocket-Version",
         .header_value = "13"}},
    {.id = "x.1.4", .category = WS_CAT_EXTENDED, .subcategory = SUB_X1,
     .section = "4.2.1", .flags = EXT,
     .description = "Opening handshake with method POST",
     .expectation = "Refuse with 400 or 405 (Section 4.2.1 item 1: the "
         "method must be GET); never 101",
     REFUSE("POST {path} HTTP/1.1\r\n" F_HOST F_UPGRADE F_CONN F_KEY
            F_VERSION "Content-Length: 0\r\n\r\n",
            400, 405)},
    {.id = "x.1.5", .category = WS_CAT_EXTENDED, .subcategory = SUB_X1,
     .section = "4.2.1", .flags = EXT,
     .description = "Opening handshake over HTTP/1.0",
     .expectation = "Refuse with 400 or 505 (Section 4.2.1 item 1: HTTP/1.1 "
         "or higher); never 101",
     REFUSE("GET {path} HTTP/1.0\r\n" F_HOST F_UPGRADE F_CONN F_KEY F_VERSION
            "\r\n",
            400, 505)},
    {.id = "x.1.6", .category = WS_CAT_EXTENDED, .subcategory = SUB_X1,
     .section = "4.2.1", .flags = EXT,
     .description = "Opening handshake without the Upgrade field",
     .expectation = "Refuse with 400 or 426 (Section 4.2.1 item 3); never "
         "101",
     REFUSE(REQ_LINE F_HOST F_CONN F_KEY F_VERSION "\r\n", 400, 426)},
    {.id = "x.1.7", .category = WS_CAT_EXTENDED, .subcategory = SUB_X1,
     .section = "4.2.1", .flags = EXT,
     .description = "Opening handshake without 'Upgrade' in Connection "
         "(Connection: keep-alive)",
     .expectation = "Refuse with 400 or 426 (Section 4.2.1 item 4); never "
         "101",
     REFUSE(REQ_LINE F_HOST F_UPGRADE "Connection: keep-alive\r\n" F_KEY
            F_VERSION "\r\n",
            400, 426)},
    {.id = "x.1.8", .category = WS_CAT_EXTENDED, .subcategory = SUB_X1,
     .section = "4.2.1", .flags = EXT,
     .description = "Opening handshake without a Host field",
     .expectation = "Refuse with 400 (Section 4.2.1 item 2, RFC 7230 "
         "Section 5.4); never 101",
     REFUSE(REQ_LINE F_UPGRADE F_CONN F_KEY F_VERSION "\r\n", 400, 0)},

    {.id = "x.2.1", .category = WS_CAT_EXTENDED, .subcategory = SUB_X2,
     .section = "5.1", .flags = EXT | WS_CASE_F_FATAL,
     .description = "Send an UNMASKED text frame 'Hello' (client frames "
         "must be masked)",
     .expectation = "Fail the connection with 1002 (or drop TCP), no echo; "
         "ignoring the frame silently is FAILED here (unlike Autobahn's "
         "must-fail cases)",
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS({.kind = WS_ACT_FRAME,
              .frame = {.fin = 1, .opcode = WS_OP_TEXT,
                        .mask = WS_CASE_MASK_NONE, .payload = TEXT("Hello")}},
             KILL_AFTER(1000))},
    {.id = "x.2.2", .category = WS_CAT_EXTENDED, .subcategory = SUB_X2,
     .section = "5.1", .flags = EXT | WS_CASE_F_FATAL,
     .description = "Send an UNMASKED Ping 'ping'",
     .expectation = "Fail the connection with 1002 (or drop TCP), no Pong",
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS({.kind = WS_ACT_FRAME,
              .frame = {.fin = 1, .opcode = WS_OP_PING,
                        .mask = WS_CASE_MASK_NONE, .payload = TEXT("ping")}},
             KILL_AFTER(1000))},

    {.id = "x.3.1", .category = WS_CAT_EXTENDED, .subcategory = SUB_X3,
     .section = "8.1",
     .flags = EXT | WS_CASE_F_FATAL | WS_CASE_F_WRONG_CODE_FAILS,
     .description = "Send Close(1000) whose reason is invalid UTF-8 at its "
         "12th octet (U+110000), as one frame written in 2 parts with a 1 s "
         "pause after the invalid octet",
     .expectation = "Fail with 1007 (or 1002) as soon as the invalid octet "
         "arrives, before the frame is complete (OK); failing only after "
         "the whole frame is NON-STRICT",
     .n_outcomes = 2,
     .outcomes = {{.verdict = WS_VERDICT_OK},
                  OUTCOME(WS_VERDICT_NON_STRICT, E_TIMEOUT('A'))},
     .close = {.closed_by_me = 0, .require_clean = 0, .n_codes = 2,
               .codes = {1007, 1002}},
     ACTIONS(FRAME_HEAD(WS_OP_CLOSE, FIN,
                        BYTES("\x03\xe8" KOSME "\xf4\x90\x80\x80" "edited")),
             FRAME_DATA(BYTES("\x03\xe8" KOSME "\xf4\x90")),
             PAUSE(1000, 'A'),
             FRAME_DATA(BYTES("\x80\x80" "edited")),
             KILL_AFTER(1000))},
};

CASE_TABLE(ws__wsspec_extended, cases);
