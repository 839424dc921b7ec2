/*
 * cat04_opcodes.c: Autobahn category 4, Opcodes. Opcodes 3-7 (non-control)
 * and 11-15 (control) are reserved; a receiver that gets one MUST fail the
 * connection (RFC 6455 Section 5.2).
 *
 * x.3-x.5 send a valid message first: echoing it before failing is OK,
 * failing before the echo is NON-STRICT.
 */
#include "conformance/ws_case_data.h"

#define SUB_4_1 "Non-control Opcodes"
#define SUB_4_2 "Control Opcodes"

#define HELLO TEXT("Hello, world!")
#define RESERVED TEXT("reserved opcode payload")
#define FAIL "Fail the connection (1002/drop)"

static const struct ws_case cases[] = {
    /* ---- 4.1 Non-control Opcodes ---- */
    {.id = "4.1.1", .category = WS_CAT_OPCODES, .subcategory = SUB_4_1,
     .section = "5.2",
     .description = "Send a frame with reserved data opcode 3, empty "
         "payload",
     .expectation = FAIL,
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(3, FIN, 0, EMPTY),
             KILL_AFTER(1000))},
    {.id = "4.1.2", .category = WS_CAT_OPCODES, .subcategory = SUB_4_1,
     .section = "5.2",
     .description = "Send a frame with reserved data opcode 4 and payload "
         "'reserved opcode payload'",
     .expectation = FAIL,
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(4, FIN, 0, RESERVED),
             KILL_AFTER(1000))},
    {.id = "4.1.3", .category = WS_CAT_OPCODES, .subcategory = SUB_4_1,
     .section = "5.2",
     .description = "Send text 'Hello, world!', then an empty frame with "
         "reserved opcode 5, then an empty Ping",
     .expectation = "Echo the text, then fail on opcode 5; no Pong",
     EXPECT_OR_NOTHING(E_TEXT(HELLO)), CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, HELLO),
             FRAME(5, FIN, 0, EMPTY),
             PING(EMPTY),
             KILL_AFTER(1000))},
    {.id = "4.1.4", .category = WS_CAT_OPCODES, .subcategory = SUB_4_1,
     .section = "5.2",
     .description = "Send text 'Hello, world!', then opcode 6 with payload "
         "'Hello, world!', then empty Ping",
     .expectation = "Echo the text, then fail on opcode 6; no Pong",
     EXPECT_OR_NOTHING(E_TEXT(HELLO)), CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, HELLO),
             FRAME(6, FIN, 0, HELLO),
             PING(EMPTY),
             KILL_AFTER(1000))},
    {.id = "4.1.5", .category = WS_CAT_OPCODES, .subcategory = SUB_4_1,
     .section = "5.2",
     .description = "As 4.1.4 with opcode 7, every frame written one octet "
         "per write",
     .expectation = "Echo the text, then fail on opcode 7; no Pong",
     EXPECT_OR_NOTHING(E_TEXT(HELLO)), CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME_CHOP(1, WS_OP_TEXT, FIN, 0, HELLO),
             FRAME_CHOP(1, 7, FIN, 0, HELLO),
             FRAME_CHOP(1, WS_OP_PING, FIN, 0, EMPTY),
             KILL_AFTER(1000))},

    /* ---- 4.2 Control Opcodes ---- */
    {.id = "4.2.1", .category = WS_CAT_OPCODES, .subcategory = SUB_4_2,
     .section = "5.2",
     .description = "Send a frame with reserved control opcode 11 (0xB), "
         "empty payload",
     .expectation = FAIL,
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(11, FIN, 0, EMPTY),
             KILL_AFTER(1000))},
    {.id = "4.2.2", .category = WS_CAT_OPCODES, .subcategory = SUB_4_2,
     .section = "5.2",
     .description = "Send reserved control opcode 12 with payload "
         "'reserved opcode payload'",
     .expectation = FAIL,
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(12, FIN, 0, RESERVED),
             KILL_AFTER(1000))},
    {.id = "4.2.3", .category = WS_CAT_OPCODES, .subcategory = SUB_4_2,
     .section = "5.2",
     .description = "Send text 'Hello, world!', then empty frame with "
         "opcode 13, then empty Ping",
     .expectation = "Echo the text, then fail on opcode 13; no Pong",
     EXPECT_OR_NOTHING(E_TEXT(HELLO)), CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, HELLO),
             FRAME(13, FIN, 0, EMPTY),
             PING(EMPTY),
             KILL_AFTER(1000))},
    {.id = "4.2.4", .category = WS_CAT_OPCODES, .subcategory = SUB_4_2,
     .section = "5.2",
     .description = "Send text 'Hello, world!', then opcode 14 with payload "
         "'Hello, world!', then empty Ping",
     .expectation = "Echo the text, then fail on opcode 14; no Pong",
     EXPECT_OR_NOTHING(E_TEXT(HELLO)), CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, HELLO),
             FRAME(14, FIN, 0, HELLO),
             PING(EMPTY),
             KILL_AFTER(1000))},
    {.id = "4.2.5", .category = WS_CAT_OPCODES, .subcategory = SUB_4_2,
     .section = "5.2",
     .description = "As 4.2.4 with opcode 15, every frame written one octet "
         "per write",
     .expectation = "Echo the text, then fail on opcode 15; no Pong",
     EXPECT_OR_NOTHING(E_TEXT(HELLO)), CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME_CHOP(1, WS_OP_TEXT, FIN, 0, HELLO),
             FRAME_CHOP(1, 15, FIN, 0, HELLO),
             FRAME_CHOP(1, WS_OP_PING, FIN, 0, EMPTY),
             KILL_AFTER(1000))},
};

CASE_TABLE(ws__autobahn_cat04, cases);
