/*
 * cat05_fragmentation.c: Autobahn category 5, Fragmentation. Control
 * frames MUST NOT be fragmented (RFC 6455 Section 5.5); a message is one
 * start frame, continuations and a FIN frame, control frames may be
 * injected in between, and a continuation without a message (or a new
 * message inside one) fails the connection (Section 5.4).
 */
#include "conformance/ws_case_data.h"

#define F(n) TEXT("fragment" #n)
#define NONCONT TEXT("non-continuation payload")
#define HELLO TEXT("Hello, world!")
#define ECHO_F1F2 "Echo 'fragment1fragment2'"
#define PONG_THEN_ECHO "Pong then echo, in that order"
#define STRAY                                                                \
  "Fail on the stray continuation frame (1002/drop); do not echo the text"

static const struct ws_case cases[] = {
    {.id = "5.1", .category = WS_CAT_FRAGMENTATION, .section = "5.5",
     .description = "Send a Ping split into two frames: Ping FIN=0 "
         "'fragment1' + continuation FIN=1 'fragment2'",
     .expectation = "Fail the connection (fragmented control frame): "
         "1002/drop, no Pong",
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_PING, NO_FIN, 0, F(1)),
             FRAME(WS_OP_CONTINUATION, FIN, 0, F(2)),
             KILL_AFTER(1000))},
    {.id = "5.2", .category = WS_CAT_FRAGMENTATION, .section = "5.5",
     .description = "Send a Pong split into two frames: Pong FIN=0 "
         "'fragment1' + continuation FIN=1 'fragment2'",
     .expectation = "Fail the connection (1002/drop)",
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_PONG, NO_FIN, 0, F(1)),
             FRAME(WS_OP_CONTINUATION, FIN, 0, F(2)),
             KILL_AFTER(1000))},
    {.id = "5.3", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "Send text message as two frames: text FIN=0 "
         "'fragment1', continuation FIN=1 'fragment2' (one write burst)",
     .expectation = "Echo one text message 'fragment1fragment2'",
     EXPECT(E_TEXT(TEXT("fragment1fragment2"))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, NO_FIN, 0, F(1)),
             FRAME(WS_OP_CONTINUATION, FIN, 0, F(2)),
             CLOSE_AFTER(1000))},
    {.id = "5.4", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "As 5.3, each frame flushed in its own write",
     .expectation = ECHO_F1F2,
     EXPECT(E_TEXT(TEXT("fragment1fragment2"))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME_SYNC(WS_OP_TEXT, NO_FIN, 0, F(1)),
             FRAME_SYNC(WS_OP_CONTINUATION, FIN, 0, F(2)),
             CLOSE_AFTER(1000))},
    {.id = "5.5", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "As 5.3, written one octet per write",
     .expectation = ECHO_F1F2,
     EXPECT(E_TEXT(TEXT("fragment1fragment2"))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME_CHOP(1, WS_OP_TEXT, NO_FIN, 0, F(1)),
             FRAME_CHOP(1, WS_OP_CONTINUATION, FIN, 0, F(2)),
             CLOSE_AFTER(1000))},
    {.id = "5.6", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "Text FIN=0 'fragment1', then Ping 'ping payload', then "
         "continuation FIN=1 'fragment2'",
     .expectation = "Pong 'ping payload' first (interleaved control frame), "
         "then echo 'fragment1fragment2'",
     EXPECT(E_PONG(TEXT("ping payload")),
            E_TEXT(TEXT("fragment1fragment2"))),
     CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, NO_FIN, 0, F(1)),
             PING(TEXT("ping payload")),
             FRAME(WS_OP_CONTINUATION, FIN, 0, F(2)),
             CLOSE_AFTER(1000))},
    {.id = "5.7", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "As 5.6, each frame in its own write",
     .expectation = PONG_THEN_ECHO,
     EXPECT(E_PONG(TEXT("ping payload")),
            E_TEXT(TEXT("fragment1fragment2"))),
     CLOSE_RULE_NORMAL,
     ACTIONS(FRAME_SYNC(WS_OP_TEXT, NO_FIN, 0, F(1)),
             FRAME_SYNC(WS_OP_PING, FIN, 0, TEXT("ping payload")),
             FRAME_SYNC(WS_OP_CONTINUATION, FIN, 0, F(2)),
             CLOSE_AFTER(1000))},
    {.id = "5.8", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "As 5.6, one octet per write",
     .expectation = PONG_THEN_ECHO,
     EXPECT(E_PONG(TEXT("ping payload")),
            E_TEXT(TEXT("fragment1fragment2"))),
     CLOSE_RULE_NORMAL,
     ACTIONS(FRAME_CHOP(1, WS_OP_TEXT, NO_FIN, 0, F(1)),
             FRAME_CHOP(1, WS_OP_PING, FIN, 0, TEXT("ping payload")),
             FRAME_CHOP(1, WS_OP_CONTINUATION, FIN, 0, F(2)),
             CLOSE_AFTER(1000))},
    {.id = "5.9", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "Send a continuation frame (FIN=1, 'non-continuation "
         "payload') with no message in progress, then text 'Hello, "
         "world!'; one write burst",
     .expectation = STRAY,
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_CONTINUATION, FIN, 0, NONCONT),
             FRAME(WS_OP_TEXT, FIN, 0, HELLO),
             KILL_AFTER(1000))},
    {.id = "5.10", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "Send a continuation frame (FIN=1, 'non-continuation "
         "payload') with no message in progress, then text 'Hello, "
         "world!'; each frame in its own write",
     .expectation = STRAY,
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME_SYNC(WS_OP_CONTINUATION, FIN, 0, NONCONT),
             FRAME_SYNC(WS_OP_TEXT, FIN, 0, HELLO),
             KILL_AFTER(1000))},
    {.id = "5.11", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "Send a continuation frame (FIN=1, 'non-continuation "
         "payload') with no message in progress, then text 'Hello, "
         "world!'; one octet per write",
     .expectation = STRAY,
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME_CHOP(1, WS_OP_CONTINUATION, FIN, 0, NONCONT),
             FRAME_CHOP(1, WS_OP_TEXT, FIN, 0, HELLO),
             KILL_AFTER(1000))},
    {.id = "5.12", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "Send a continuation frame (FIN=0, 'non-continuation "
         "payload') with no message in progress, then text 'Hello, "
         "world!'; one write burst",
     .expectation = STRAY,
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_CONTINUATION, NO_FIN, 0, NONCONT),
             FRAME(WS_OP_TEXT, FIN, 0, HELLO),
             KILL_AFTER(1000))},
    {.id = "5.13", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "Send a continuation frame (FIN=0, 'non-continuation "
         "payload') with no message in progress, then text 'Hello, "
         "world!'; each frame in its own write",
     .expectation = STRAY,
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME_SYNC(WS_OP_CONTINUATION, NO_FIN, 0, NONCONT),
             FRAME_SYNC(WS_OP_TEXT, FIN, 0, HELLO),
             KILL_AFTER(1000))},
    {.id = "5.14", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "Send a continuation frame (FIN=0, 'non-continuation "
         "payload') with no message in progress, then text 'Hello, "
         "world!'; one octet per write",
     .expectation = STRAY,
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME_CHOP(1, WS_OP_CONTINUATION, NO_FIN, 0, NONCONT),
             FRAME_CHOP(1, WS_OP_TEXT, FIN, 0, HELLO),
             KILL_AFTER(1000))},
    {.id = "5.15", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "Text FIN=0 'fragment1' + continuation FIN=1 "
         "'fragment2' (valid message), then continuation FIN=0 'fragment3' "
         "(nothing to continue), then text FIN=1 'fragment4'",
     .expectation = "Echo 'fragment1fragment2', then fail on the stray "
         "continuation (1002/drop)",
     EXPECT_OR_NOTHING(E_TEXT(TEXT("fragment1fragment2"))),
     CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_TEXT, NO_FIN, 0, F(1)),
             FRAME(WS_OP_CONTINUATION, FIN, 0, F(2)),
             FRAME(WS_OP_CONTINUATION, NO_FIN, 0, F(3)),
             FRAME(WS_OP_TEXT, FIN, 0, F(4)),
             KILL_AFTER(1000))},
    {.id = "5.16", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "Twice: continuation FIN=0 'fragment1' (nothing to "
         "continue), text FIN=0 'fragment2', continuation FIN=1 'fragment3'",
     .expectation = "Fail on the first frame (1002/drop); echo nothing",
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_CONTINUATION, NO_FIN, 0, F(1)),
             FRAME(WS_OP_TEXT, NO_FIN, 0, F(2)),
             FRAME(WS_OP_CONTINUATION, FIN, 0, F(3)),
             FRAME(WS_OP_CONTINUATION, NO_FIN, 0, F(1)),
             FRAME(WS_OP_TEXT, NO_FIN, 0, F(2)),
             FRAME(WS_OP_CONTINUATION, FIN, 0, F(3)),
             KILL_AFTER(1000))},
    {.id = "5.17", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "Twice: continuation FIN=1 'fragment1' (nothing to "
         "continue), text FIN=0 'fragment2', continuation FIN=1 'fragment3'",
     .expectation = "Fail on the first frame (1002/drop); echo nothing",
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_CONTINUATION, FIN, 0, F(1)),
             FRAME(WS_OP_TEXT, NO_FIN, 0, F(2)),
             FRAME(WS_OP_CONTINUATION, FIN, 0, F(3)),
             FRAME(WS_OP_CONTINUATION, FIN, 0, F(1)),
             FRAME(WS_OP_TEXT, NO_FIN, 0, F(2)),
             FRAME(WS_OP_CONTINUATION, FIN, 0, F(3)),
             KILL_AFTER(1000))},
    {.id = "5.18", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "Text FIN=0 'fragment1' followed by another TEXT frame "
         "FIN=1 'fragment2' (second frame should have been a continuation)",
     .expectation = "Fail the connection (1002/drop); echo nothing",
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(FRAME(WS_OP_TEXT, NO_FIN, 0, F(1)),
             FRAME(WS_OP_TEXT, FIN, 0, F(2)),
             KILL_AFTER(1000))},
    {.id = "5.19", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "Text FIN=0 'fragment1', cont FIN=0 'fragment2', Ping "
         "'pongme 1!'; wait 1 s; cont FIN=0 'fragment3', cont FIN=0 "
         "'fragment4', Ping 'pongme 2!', cont FIN=1 'fragment5'",
     .expectation = "Answer the first Ping immediately (before the message "
         "is complete), answer the second, then echo "
         "'fragment1fragment2fragment3fragment4fragment5'",
     EXPECT(E_PONG(TEXT("pongme 1!")), E_PONG(TEXT("pongme 2!")),
            E_TEXT(TEXT("fragment1fragment2fragment3fragment4fragment5"))),
     CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, NO_FIN, 0, F(1)),
             FRAME(WS_OP_CONTINUATION, NO_FIN, 0, F(2)),
             PING(TEXT("pongme 1!")),
             PAUSE(1000, 0),
             FRAME(WS_OP_CONTINUATION, NO_FIN, 0, F(3)),
             FRAME(WS_OP_CONTINUATION, NO_FIN, 0, F(4)),
             PING(TEXT("pongme 2!")),
             FRAME(WS_OP_CONTINUATION, FIN, 0, F(5)),
             CLOSE_AFTER(1000))},
    {.id = "5.20", .category = WS_CAT_FRAGMENTATION, .section = "5.4",
     .description = "As 5.19 with every frame flushed in its own write "
         "(same octets, different TCP chopping)",
     .expectation = "Same as 5.19",
     EXPECT(E_PONG(TEXT("pongme 1!")), E_PONG(TEXT("pongme 2!")),
            E_TEXT(TEXT("fragment1fragment2fragment3fragment4fragment5"))),
     CLOSE_RULE_NORMAL,
     ACTIONS(FRAME_SYNC(WS_OP_TEXT, NO_FIN, 0, F(1)),
             FRAME_SYNC(WS_OP_CONTINUATION, NO_FIN, 0, F(2)),
             FRAME_SYNC(WS_OP_PING, FIN, 0, TEXT("pongme 1!")),
             PAUSE(1000, 0),
             FRAME_SYNC(WS_OP_CONTINUATION, NO_FIN, 0, F(3)),
             FRAME_SYNC(WS_OP_CONTINUATION, NO_FIN, 0, F(4)),
             FRAME_SYNC(WS_OP_PING, FIN, 0, TEXT("pongme 2!")),
             FRAME_SYNC(WS_OP_CONTINUATION, FIN, 0, F(5)),
             CLOSE_AFTER(1000))},
};

CASE_TABLE(ws__autobahn_cat05, cases);
