/*
 * cat02_pings.c: Autobahn category 2, Pings/Pongs. A Ping must be answered
 * by a Pong with the same payload (RFC 6455 Section 5.5.2), control
 * payloads are limited to 125 octets (Section 5.5), and an unsolicited
 * Pong needs no answer (Section 5.5.3).
 */
#include "conformance/ws_case_data.h"

#define PONG_ECHO "Pong echoing the payload"
#define IGNORE_PONG                                                          \
  "Send nothing back for the Pong; answer the Close cleanly"

#define P(i) TEXT("payload-" #i)

static const struct ws_case cases[] = {
    {.id = "2.1", .category = WS_CAT_PINGS, .section = "5.5.2",
     .description = "Send a Ping with empty payload",
     .expectation = "Reply with a Pong with empty payload; close cleanly "
         "when the fuzzer closes",
     EXPECT(E_PONG(EMPTY)), CLOSE_RULE_NORMAL,
     ACTIONS(PING(EMPTY),
             CLOSE_AFTER(1000))},
    {.id = "2.2", .category = WS_CAT_PINGS, .section = "5.5.2",
     .description = "Send a Ping with 13-octet text payload 'Hello, world!'",
     .expectation = PONG_ECHO,
     EXPECT(E_PONG(TEXT("Hello, world!"))), CLOSE_RULE_NORMAL,
     ACTIONS(PING(TEXT("Hello, world!")),
             CLOSE_AFTER(1000))},
    {.id = "2.3", .category = WS_CAT_PINGS, .section = "5.5.2",
     .description = "Send a Ping with 8-octet binary (non-UTF-8) payload 00 "
         "ff fe fd fc fb 00 ff",
     .expectation = PONG_ECHO,
     EXPECT(E_PONG(BYTES("\x00\xff\xfe\xfd\xfc\xfb\x00\xff"))),
     CLOSE_RULE_NORMAL,
     ACTIONS(PING(BYTES("\x00\xff\xfe\xfd\xfc\xfb\x00\xff")),
             CLOSE_AFTER(1000))},
    {.id = "2.4", .category = WS_CAT_PINGS, .section = "5.5.2",
     .description = "Send a Ping with 125 octets of 0xfe (maximum control "
         "payload)",
     .expectation = "Pong echoing the 125-octet payload",
     EXPECT(E_PONG(REPEAT("\xfe", 125))), CLOSE_RULE_NORMAL,
     ACTIONS(PING(REPEAT("\xfe", 125)),
             CLOSE_AFTER(1000))},
    {.id = "2.5", .category = WS_CAT_PINGS, .section = "5.5",
     .description = "Send a Ping with 126 octets of 0xfe (control frame "
         "over the 125-octet limit)",
     .expectation = "Fail the connection: Close 1002 (or drop TCP); no Pong",
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1002),
     ACTIONS(PING(REPEAT("\xfe", 126)), /* 16-bit length form */
             KILL_AFTER(1000))},
    {.id = "2.6", .category = WS_CAT_PINGS, .section = "5.5.2",
     .description = "Send a Ping with 125 octets of 0xfe, written to TCP one "
         "octet per write (chopsize 1)",
     .expectation = "Pong echoing the payload (peer must reassemble a frame "
         "split over many TCP segments)",
     EXPECT(E_PONG(REPEAT("\xfe", 125))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME_CHOP(1, WS_OP_PING, FIN, 0, REPEAT("\xfe", 125)),
             CLOSE_AFTER(2000))},
    {.id = "2.7", .category = WS_CAT_PINGS, .section = "5.5.3",
     .description = "Send an unsolicited Pong with empty payload, then "
         "immediately Close(1000)",
     .expectation = IGNORE_PONG,
     EXPECT_NOTHING, CLOSE_RULE_NORMAL,
     ACTIONS(PONG(EMPTY),
             CLOSE_CODE(1000),
             CLOSE_AFTER(1000))},
    {.id = "2.8", .category = WS_CAT_PINGS, .section = "5.5.3",
     .description = "Send an unsolicited Pong with 24-octet payload "
         "'unsolicited pong payload', then immediately Close(1000)",
     .expectation = IGNORE_PONG,
     EXPECT_NOTHING, CLOSE_RULE_NORMAL,
     ACTIONS(PONG(TEXT("unsolicited pong payload")),
             CLOSE_CODE(1000),
             CLOSE_AFTER(1000))},
    {.id = "2.9", .category = WS_CAT_PINGS, .section = "5.5.3",
     .description = "Send an unsolicited Pong ('unsolicited pong payload'), "
         "then a Ping with payload 'ping payload'",
     .expectation = "Ignore the Pong; answer the Ping with one Pong 'ping "
         "payload'",
     EXPECT(E_PONG(TEXT("ping payload"))), CLOSE_RULE_NORMAL,
     ACTIONS(PONG(TEXT("unsolicited pong payload")),
             PING(TEXT("ping payload")),
             CLOSE_AFTER(1000))},
    {.id = "2.10", .category = WS_CAT_PINGS, .section = "5.5.2",
     .description = "Send 10 Pings back to back with payloads 'payload-0' "
         ".. 'payload-9'",
     .expectation = "Answer every Ping with its own Pong, in order "
         "(stricter than RFC 6455, which lets a peer answer only the latest "
         "Ping)",
     EXPECT(E_PONG(P(0)), E_PONG(P(1)), E_PONG(P(2)), E_PONG(P(3)),
            E_PONG(P(4)), E_PONG(P(5)), E_PONG(P(6)), E_PONG(P(7)),
            E_PONG(P(8)), E_PONG(P(9))),
     CLOSE_RULE_NORMAL,
     ACTIONS(PING(P(0)), PING(P(1)), PING(P(2)), PING(P(3)), PING(P(4)),
             PING(P(5)), PING(P(6)), PING(P(7)), PING(P(8)), PING(P(9)),
             CLOSE_AFTER(3000))},
    {.id = "2.11", .category = WS_CAT_PINGS, .section = "5.5.2",
     .description = "Same as 2.10 but every frame is written to TCP one "
         "octet per write",
     .expectation = "Ten Pongs in order",
     EXPECT(E_PONG(P(0)), E_PONG(P(1)), E_PONG(P(2)), E_PONG(P(3)),
            E_PONG(P(4)), E_PONG(P(5)), E_PONG(P(6)), E_PONG(P(7)),
            E_PONG(P(8)), E_PONG(P(9))),
     CLOSE_RULE_NORMAL,
     ACTIONS(FRAME_CHOP(1, WS_OP_PING, FIN, 0, P(0)),
             FRAME_CHOP(1, WS_OP_PING, FIN, 0, P(1)),
             FRAME_CHOP(1, WS_OP_PING, FIN, 0, P(2)),
             FRAME_CHOP(1, WS_OP_PING, FIN, 0, P(3)),
             FRAME_CHOP(1, WS_OP_PING, FIN, 0, P(4)),
             FRAME_CHOP(1, WS_OP_PING, FIN, 0, P(5)),
             FRAME_CHOP(1, WS_OP_PING, FIN, 0, P(6)),
             FRAME_CHOP(1, WS_OP_PING, FIN, 0, P(7)),
             FRAME_CHOP(1, WS_OP_PING, FIN, 0, P(8)),
             FRAME_CHOP(1, WS_OP_PING, FIN, 0, P(9)),
             CLOSE_AFTER(3000))},
};

CASE_TABLE(ws__autobahn_cat02, cases);
