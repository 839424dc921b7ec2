/*
 * cat10_misc.c: Autobahn category 10, Misc. 10.1.1: a 65,536-octet message
 * that the runner fragments itself into 1,300-octet frames (RFC 6455
 * Section 5.4: any fragmentation of a message is legal and the receiver
 * must reassemble it). After grading, the runner checks its own sent frames:
 * 1 text + 50 continuation frames (WS_CASE_F_TX_FRAME_CHECK).
 */
#include "conformance/ws_case_data.h"

static const struct ws_case cases[] = {
    {.id = "10.1.1", .category = WS_CAT_MISC,
     .subcategory = "Auto-Fragmentation", .section = "5.4",
     .flags = WS_CASE_F_TX_FRAME_CHECK,
     .description = "Send a 65536-octet text message of '*' that the "
         "fuzzer auto-fragments into 1300-octet frames (1 text frame + 50 "
         "continuation frames; last one 536 octets)",
     .expectation = "Echo the reassembled message",
     EXPECT(E_TEXT(REPEAT("*", 65536))), CLOSE_RULE_NORMAL,
     ACTIONS(MESSAGE(WS_OP_TEXT, 1300, REPEAT("*", 65536)),
             KILL_AFTER(10000))},
};

CASE_TABLE(ws__autobahn_cat10, cases);
