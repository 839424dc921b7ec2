/*
 * cat01_framing.c: Autobahn category 1, Framing. Unfragmented text (1.1)
 * and binary (1.2) messages at the boundaries of the three payload length
 * forms of RFC 6455 Section 5.2 (7-bit up to 125, 16-bit up to 65535,
 * 64-bit beyond); the peer must echo each one byte-exact.
 */
#include "conformance/ws_case_data.h"

#define SUB_1_1 "Text Messages"
#define SUB_1_2 "Binary Messages"

#define ECHO_TEXT                                                            \
  "Echo the identical text message, then answer the fuzzer's Close(1000) "   \
  "and close cleanly"
#define ECHO_BINARY                                                          \
  "Echo the identical binary message, then answer the fuzzer's "             \
  "Close(1000) and close cleanly"

/* Text payloads are '*' (0x2a), binary ones 0xfe, as in Autobahn. */
#define STARS(n) REPEAT("*", n)
#define FES(n) REPEAT("\xfe", n)

static const struct ws_case cases[] = {
    /* ---- 1.1 Text Messages ---- */
    {.id = "1.1.1", .category = WS_CAT_FRAMING, .subcategory = SUB_1_1,
     .section = "5.2",
     .description = "Send one unfragmented text message (opcode 1) with "
         "empty payload (payload length uses the 7-bit length form)",
     .expectation = ECHO_TEXT,
     EXPECT(E_TEXT(EMPTY)), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, EMPTY),
             KILL_AFTER(1000))},
    {.id = "1.1.2", .category = WS_CAT_FRAMING, .subcategory = SUB_1_1,
     .section = "5.2",
     .description = "Send one unfragmented text message (opcode 1) of 125 "
         "octets of '*' (0x2a) (payload length uses the 7-bit length form)",
     .expectation = ECHO_TEXT,
     EXPECT(E_TEXT(STARS(125))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, STARS(125)),
             KILL_AFTER(1000))},
    {.id = "1.1.3", .category = WS_CAT_FRAMING, .subcategory = SUB_1_1,
     .section = "5.2",
     .description = "Send one unfragmented text message (opcode 1) of 126 "
         "octets of '*' (0x2a) (payload length uses the 16-bit length form)",
     .expectation = ECHO_TEXT,
     EXPECT(E_TEXT(STARS(126))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, STARS(126)),
             KILL_AFTER(1000))},
    {.id = "1.1.4", .category = WS_CAT_FRAMING, .subcategory = SUB_1_1,
     .section = "5.2",
     .description = "Send one unfragmented text message (opcode 1) of 127 "
         "octets of '*' (0x2a) (payload length uses the 16-bit length form)",
     .expectation = ECHO_TEXT,
     EXPECT(E_TEXT(STARS(127))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, STARS(127)),
             KILL_AFTER(1000))},
    {.id = "1.1.5", .category = WS_CAT_FRAMING, .subcategory = SUB_1_1,
     .section = "5.2",
     .description = "Send one unfragmented text message (opcode 1) of 128 "
         "octets of '*' (0x2a) (payload length uses the 16-bit length form)",
     .expectation = ECHO_TEXT,
     EXPECT(E_TEXT(STARS(128))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, STARS(128)),
             KILL_AFTER(1000))},
    {.id = "1.1.6", .category = WS_CAT_FRAMING, .subcategory = SUB_1_1,
     .section = "5.2",
     .description = "Send one unfragmented text message (opcode 1) of 65535 "
         "octets of '*' (0x2a) (payload length uses the 16-bit length form)",
     .expectation = ECHO_TEXT,
     EXPECT(E_TEXT(STARS(65535))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, STARS(65535)),
             KILL_AFTER(10000))},
    {.id = "1.1.7", .category = WS_CAT_FRAMING, .subcategory = SUB_1_1,
     .section = "5.2",
     .description = "Send one unfragmented text message (opcode 1) of 65536 "
         "octets of '*' (0x2a) (payload length uses the 64-bit length form)",
     .expectation = ECHO_TEXT,
     EXPECT(E_TEXT(STARS(65536))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, STARS(65536)),
             KILL_AFTER(10000))},
    {.id = "1.1.8", .category = WS_CAT_FRAMING, .subcategory = SUB_1_1,
     .section = "5.2",
     .description = "Send one unfragmented text message (opcode 1) of 65536 "
         "octets of '*' (0x2a); the frame's octets are written to TCP in "
         "chops of 997 octets (payload length uses the 64-bit length form)",
     .expectation = ECHO_TEXT,
     EXPECT(E_TEXT(STARS(65536))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME_CHOP(997, WS_OP_TEXT, FIN, 0, STARS(65536)),
             KILL_AFTER(10000))},

    /* ---- 1.2 Binary Messages ---- */
    {.id = "1.2.1", .category = WS_CAT_FRAMING, .subcategory = SUB_1_2,
     .section = "5.2",
     .description = "Send one unfragmented binary message (opcode 2) with "
         "empty payload (payload length uses the 7-bit length form)",
     .expectation = ECHO_BINARY,
     EXPECT(E_BINARY(EMPTY)), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_BINARY, FIN, 0, EMPTY),
             KILL_AFTER(1000))},
    {.id = "1.2.2", .category = WS_CAT_FRAMING, .subcategory = SUB_1_2,
     .section = "5.2",
     .description = "Send one unfragmented binary message (opcode 2) of 125 "
         "octets of 0xfe (payload length uses the 7-bit length form)",
     .expectation = ECHO_BINARY,
     EXPECT(E_BINARY(FES(125))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_BINARY, FIN, 0, FES(125)),
             KILL_AFTER(1000))},
    {.id = "1.2.3", .category = WS_CAT_FRAMING, .subcategory = SUB_1_2,
     .section = "5.2",
     .description = "Send one unfragmented binary message (opcode 2) of 126 "
         "octets of 0xfe (payload length uses the 16-bit length form)",
     .expectation = ECHO_BINARY,
     EXPECT(E_BINARY(FES(126))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_BINARY, FIN, 0, FES(126)),
             KILL_AFTER(1000))},
    {.id = "1.2.4", .category = WS_CAT_FRAMING, .subcategory = SUB_1_2,
     .section = "5.2",
     .description = "Send one unfragmented binary message (opcode 2) of 127 "
         "octets of 0xfe (payload length uses the 16-bit length form)",
     .expectation = ECHO_BINARY,
     EXPECT(E_BINARY(FES(127))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_BINARY, FIN, 0, FES(127)),
             KILL_AFTER(1000))},
    {.id = "1.2.5", .category = WS_CAT_FRAMING, .subcategory = SUB_1_2,
     .section = "5.2",
     .description = "Send one unfragmented binary message (opcode 2) of 128 "
         "octets of 0xfe (payload length uses the 16-bit length form)",
     .expectation = ECHO_BINARY,
     EXPECT(E_BINARY(FES(128))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_BINARY, FIN, 0, FES(128)),
             KILL_AFTER(1000))},
    {.id = "1.2.6", .category = WS_CAT_FRAMING, .subcategory = SUB_1_2,
     .section = "5.2",
     .description = "Send one unfragmented binary message (opcode 2) of "
         "65535 octets of 0xfe (payload length uses the 16-bit length form)",
     .expectation = ECHO_BINARY,
     EXPECT(E_BINARY(FES(65535))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_BINARY, FIN, 0, FES(65535)),
             KILL_AFTER(10000))},
    {.id = "1.2.7", .category = WS_CAT_FRAMING, .subcategory = SUB_1_2,
     .section = "5.2",
     .description = "Send one unfragmented binary message (opcode 2) of "
         "65536 octets of 0xfe (payload length uses the 64-bit length form)",
     .expectation = ECHO_BINARY,
     EXPECT(E_BINARY(FES(65536))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_BINARY, FIN, 0, FES(65536)),
             KILL_AFTER(10000))},
    {.id = "1.2.8", .category = WS_CAT_FRAMING, .subcategory = SUB_1_2,
     .section = "5.2",
     .description = "Send one unfragmented binary message (opcode 2) of "
         "65536 octets of 0xfe; the frame's octets are written to TCP in "
         "chops of 997 octets (payload length uses the 64-bit length form)",
     .expectation = ECHO_BINARY,
     EXPECT(E_BINARY(FES(65536))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME_CHOP(997, WS_OP_BINARY, FIN, 0, FES(65536)),
             KILL_AFTER(10000))},
};

CASE_TABLE(ws__autobahn_cat01, cases);
