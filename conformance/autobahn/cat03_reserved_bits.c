/*
 * cat03_reserved_bits.c: Autobahn category 3, Reserved Bits. RSV1-3 MUST
 * be 0 unless an extension defining them was negotiated; otherwise the
 * receiver MUST fail the connection (RFC 6455 Section 5.2). None is
 * negotiated here. |rsv| is Autobahn's 3-bit value: rsv 4 is RSV1, rsv 1
 * is RSV3.
 *
 * 3.2-3.4 send a valid message first: echoing it before failing is OK,
 * failing before the echo is NON-STRICT.
 */
#include "conformance/ws_case_data.h"

#define HELLO TEXT("Hello, world!")
#define ECHO_THEN_FAIL(n)                                                    \
  "Echo first message, fail on RSV=" #n " frame, no Pong"

static const struct ws_case cases[] = {
    {.id = "3.1", .category = WS_CAT_RESERVED_BITS, .section = "5.2",
     .description = "Send text message 'Hello, world!' with RSV=1 (no "
         "extension negotiated)",
     .expectation = "Fail the connection at once (Close 1002 or TCP drop); "
         "echo nothing",
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 1, HELLO),
             KILL_AFTER(1000))},
    {.id = "3.2", .category = WS_CAT_RESERVED_BITS, .section = "5.2",
     .description = "Send text 'Hello, world!' (valid), then the same with "
         "RSV=2, then an empty Ping; all in one write burst",
     .expectation = "Echo the first message, then fail on the RSV=2 frame "
         "(Close 1002/drop); never Pong",
     EXPECT_OR_NOTHING(E_TEXT(HELLO)), CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, HELLO),
             FRAME(WS_OP_TEXT, FIN, 2, HELLO),
             PING(EMPTY),
             KILL_AFTER(1000))},
    {.id = "3.3", .category = WS_CAT_RESERVED_BITS, .section = "5.2",
     .description = "As 3.2 but RSV=3 on the second frame and each frame "
         "flushed in its own write (sync)",
     .expectation = ECHO_THEN_FAIL(3),
     EXPECT_OR_NOTHING(E_TEXT(HELLO)), CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME_SYNC(WS_OP_TEXT, FIN, 0, HELLO),
             FRAME_SYNC(WS_OP_TEXT, FIN, 3, HELLO),
             FRAME_SYNC(WS_OP_PING, FIN, 0, EMPTY),
             KILL_AFTER(1000))},
    {.id = "3.4", .category = WS_CAT_RESERVED_BITS, .section = "5.2",
     .description = "As 3.2 but RSV=4 on the second frame and all frames "
         "written one octet per write",
     .expectation = ECHO_THEN_FAIL(4),
     EXPECT_OR_NOTHING(E_TEXT(HELLO)), CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME_CHOP(1, WS_OP_TEXT, FIN, 0, HELLO),
             FRAME_CHOP(1, WS_OP_TEXT, FIN, 4, HELLO),
             FRAME_CHOP(1, WS_OP_PING, FIN, 0, EMPTY),
             KILL_AFTER(1000))},
    {.id = "3.5", .category = WS_CAT_RESERVED_BITS, .section = "5.2",
     .description = "Send binary message 00 ff fe fd fc fb 00 ff with RSV=5",
     .expectation = "Fail the connection (1002/drop), no echo",
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_BINARY, FIN, 5,
                   BYTES("\x00\xff\xfe\xfd\xfc\xfb\x00\xff")),
             KILL_AFTER(1000))},
    {.id = "3.6", .category = WS_CAT_RESERVED_BITS, .section = "5.2",
     .description = "Send a BINARY frame 'Hello, world!' with RSV=6 (the "
         "suite's description says 'Ping' but the code sends opcode 2)",
     .expectation = "Fail the connection (1002/drop), no echo",
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_BINARY, FIN, 6, HELLO),
             KILL_AFTER(1000))},
    {.id = "3.7", .category = WS_CAT_RESERVED_BITS, .section = "5.2",
     .description = "Send a Close frame (empty payload) with RSV=7",
     .expectation = "Fail the connection (1002/drop); a normal close reply "
         "is graded on the code (1000 would be WRONG CODE)",
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     /* A raw frame: the runner does not enter its closing handshake. */
     ACTIONS(FRAME(WS_OP_CLOSE, FIN, 7, EMPTY),
             KILL_AFTER(1000))},
};

CASE_TABLE(ws__autobahn_cat03, cases);
