/*
 * cat06_utf8.c: Autobahn category 6, UTF-8 Handling, 6.1-6.4. Text
 * messages MUST be valid UTF-8 and an endpoint that finds otherwise MUST
 * fail the connection with 1007 (RFC 6455 Sections 5.6, 8.1); validation
 * must carry state across frames that end inside a code point. The UTF-8
 * test vectors 6.5-6.23 are generated: cat06_utf8_vectors.c.
 *
 * 6.4.x measure fail-fast: the invalid octet comes in part 2 of 3, with
 * 1-s pauses that record timeout('A') / timeout('B') while the connection
 * is up. Failing within 1 s of part 2 gives [A] (OK); failing only when
 * part 3 completes the frame or message gives [A, B] (NON-STRICT).
 */
#include "conformance/ws_case_data.h"

#define SUB_6_1 "Valid UTF-8 with zero payload fragments"
#define SUB_6_2 "Valid UTF-8 unfragmented, fragmented on code-points and "   \
                "within code-points"
#define SUB_6_3 "Invalid UTF-8 differently fragmented"
#define SUB_6_4 "Fail-fast on invalid UTF-8"

/* "Hello-µ@ßöäüàá-UTF-8!!", 29 octets, split after "Hello-µ@ßöä". */
#define HELLO_1                                                              \
  "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4"
#define HELLO_2 "\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"
/* "κόσμε", 11 octets. */
#define KOSME "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
/* KOSME + the surrogate U+D800 (ED A0 80: invalid at its 2nd octet, message
 * octet 12) + "edited". */
#define KOSME_SURROGATE KOSME "\xed\xa0\x80" "edited"
/* KOSME + U+110000 (F4 90 80 80: invalid at its 2nd octet) + "edited". */
#define KOSME_110000 KOSME "\xf4\x90\x80\x80" "edited"

#define FAIL_FAST                                                            \
  .n_outcomes = 2,                                                           \
  .outcomes = {OUTCOME(WS_VERDICT_OK, E_TIMEOUT('A')),                       \
               OUTCOME(WS_VERDICT_NON_STRICT, E_TIMEOUT('A'),                \
                       E_TIMEOUT('B'))}

static const struct ws_case cases[] = {
    /* ---- 6.1 Valid UTF-8 with zero payload fragments ---- */
    {.id = "6.1.1", .category = WS_CAT_UTF8, .subcategory = SUB_6_1,
     .section = "5.6",
     .description = "Send text message with empty payload",
     .expectation = "Echo an empty text message",
     EXPECT(E_TEXT(EMPTY)), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, EMPTY),
             CLOSE_AFTER(1000))},
    {.id = "6.1.2", .category = WS_CAT_UTF8, .subcategory = SUB_6_1,
     .section = "5.6",
     .description = "Send text message as 3 frames, each with empty payload "
         "(text FIN=0, cont FIN=0, cont FIN=1)",
     .expectation = "Echo one empty text message",
     EXPECT(E_TEXT(EMPTY)), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, NO_FIN, 0, EMPTY),
             FRAME(WS_OP_CONTINUATION, NO_FIN, 0, EMPTY),
             FRAME(WS_OP_CONTINUATION, FIN, 0, EMPTY),
             CLOSE_AFTER(1000))},
    {.id = "6.1.3", .category = WS_CAT_UTF8, .subcategory = SUB_6_1,
     .section = "5.6",
     .description = "Send text message as 3 frames: empty, 'middle frame "
         "payload', empty",
     .expectation = "Echo 'middle frame payload'",
     EXPECT(E_TEXT(TEXT("middle frame payload"))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, NO_FIN, 0, EMPTY),
             FRAME(WS_OP_CONTINUATION, NO_FIN, 0,
                   TEXT("middle frame payload")),
             FRAME(WS_OP_CONTINUATION, FIN, 0, EMPTY),
             CLOSE_AFTER(1000))},

    /* ---- 6.2 Valid UTF-8 unfragmented, fragmented on code-points and
     * within code-points ---- */
    {.id = "6.2.1", .category = WS_CAT_UTF8, .subcategory = SUB_6_2,
     .section = "8.1",
     .description = "Send valid UTF-8 text 'Hello-µ@ßöäüàá-UTF-8!!' (29 "
         "octets, hex "
         "48656c6c6f2dc2b540c39fc3b6c3a4c3bcc3a0c3a12d5554462d382121) in "
         "one frame",
     .expectation = "Echo it",
     EXPECT(E_TEXT(TEXT(HELLO_1 HELLO_2))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, TEXT(HELLO_1 HELLO_2)),
             CLOSE_AFTER(1000))},
    {.id = "6.2.2", .category = WS_CAT_UTF8, .subcategory = SUB_6_2,
     .section = "8.1",
     .description = "Send the same text as two frames split on a code point "
         "boundary: 'Hello-µ@ßöä' + 'üàá-UTF-8!!'",
     .expectation = "Echo the reassembled text",
     EXPECT(E_TEXT(TEXT(HELLO_1 HELLO_2))), CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, NO_FIN, 0, TEXT(HELLO_1)),
             FRAME(WS_OP_CONTINUATION, FIN, 0, TEXT(HELLO_2)),
             CLOSE_AFTER(1000))},
    {.id = "6.2.3", .category = WS_CAT_UTF8, .subcategory = SUB_6_2,
     .section = "8.1",
     .description = "Send the same text with one octet per frame (29 data "
         "frames + 1 empty final continuation frame, since the fragmenter "
         "emits an empty FIN frame when the length is an exact multiple of "
         "the fragment size), so frames end inside code points",
     .expectation = "Echo the reassembled text (validator must carry state "
         "across frames)",
     EXPECT(E_TEXT(TEXT(HELLO_1 HELLO_2))), CLOSE_RULE_NORMAL,
     ACTIONS(MESSAGE(WS_OP_TEXT, 1, TEXT(HELLO_1 HELLO_2)),
             CLOSE_AFTER(1000))},
    {.id = "6.2.4", .category = WS_CAT_UTF8, .subcategory = SUB_6_2,
     .section = "8.1",
     .description = "Send Greek 'κόσμε' (hex cebae1bdb9cf83cebcceb5, 11 "
         "octets) one octet per frame (11 frames + 1 empty final frame)",
     .expectation = "Echo it",
     EXPECT(E_TEXT(TEXT(KOSME))), CLOSE_RULE_NORMAL,
     ACTIONS(MESSAGE(WS_OP_TEXT, 1, TEXT(KOSME)),
             CLOSE_AFTER(1000))},

    /* ---- 6.3 Invalid UTF-8 differently fragmented ---- */
    {.id = "6.3.1", .category = WS_CAT_UTF8, .subcategory = SUB_6_3,
     .section = "8.1", .flags = WS_CASE_F_FATAL,
     .description = "Send text message "
         "cebae1bdb9cf83cebcceb5eda080656469746564 in one frame: valid "
         "Greek, then surrogate ED A0 80 (invalid at octet 12), then "
         "'edited'",
     .expectation = "Fail the connection with Close 1007 (or drop TCP); do "
         "not echo",
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1007),
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, BYTES(KOSME_SURROGATE)),
             KILL_AFTER(1000))},
    {.id = "6.3.2", .category = WS_CAT_UTF8, .subcategory = SUB_6_3,
     .section = "8.1", .flags = WS_CASE_F_FATAL,
     .description = "Send the same invalid text one octet per frame (20 "
         "frames + 1 empty final frame)",
     .expectation = "Fail with 1007 (or drop), no echo",
     EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1007),
     ACTIONS(MESSAGE(WS_OP_TEXT, 1, BYTES(KOSME_SURROGATE)),
             KILL_AFTER(1000))},

    /* ---- 6.4 Fail-fast on invalid UTF-8 ---- */
    {.id = "6.4.1", .category = WS_CAT_UTF8, .subcategory = SUB_6_4,
     .section = "8.1", .flags = WS_CASE_F_FATAL,
     .description = "3 frames of one text message: frame1 'κόσμε' (valid, "
         "11 octets); wait 1 s; frame2 F4 90 80 80 (U+110000, invalid at "
         "its 2nd octet); wait 1 s; frame3 'edited' (FIN)",
     .expectation = "Accept frame 1; fail with 1007 as soon as frame 2 "
         "arrives",
     FAIL_FAST, CLOSE_RULE_PEER_FAILS(1007),
     ACTIONS(FRAME(WS_OP_TEXT, NO_FIN, 0, TEXT(KOSME)),
             PAUSE(1000, 'A'),
             FRAME(WS_OP_CONTINUATION, NO_FIN, 0, BYTES("\xf4\x90\x80\x80")),
             PAUSE(1000, 'B'),
             FRAME(WS_OP_CONTINUATION, FIN, 0, TEXT("edited")),
             KILL_AFTER(1000))},
    {.id = "6.4.2", .category = WS_CAT_UTF8, .subcategory = SUB_6_4,
     .section = "8.1", .flags = WS_CASE_F_FATAL,
     .description = "Same payload, but frame1 carries the first 12 octets "
         "(valid prefix + F4), frame2 the single octet 0x90 that makes it "
         "invalid, frame3 the rest '80 80 edited'",
     .expectation = "Fail with 1007 on frame 2",
     FAIL_FAST, CLOSE_RULE_PEER_FAILS(1007),
     ACTIONS(FRAME(WS_OP_TEXT, NO_FIN, 0, BYTES(KOSME "\xf4")),
             PAUSE(1000, 'A'),
             FRAME(WS_OP_CONTINUATION, NO_FIN, 0, BYTES("\x90")),
             PAUSE(1000, 'B'),
             FRAME(WS_OP_CONTINUATION, FIN, 0, BYTES("\x80\x80" "edited")),
             KILL_AFTER(1000))},
    /* 6.4.3 and 6.4.4 use Autobahn's streaming API: beginMessageFrame never
     * sets FIN, so the one frame has FIN = 0; after the third chop the case
     * calls endMessage, which adds an empty continuation frame with FIN = 1
     * (reached only by a peer that has not failed the connection yet). */
    {.id = "6.4.3", .category = WS_CAT_UTF8, .subcategory = SUB_6_4,
     .section = "8.1", .flags = WS_CASE_F_FATAL,
     .description = "Same payload as 6.4.1 but sent as ONE frame (header "
         "announces 21 octets) whose payload is written in 3 chops with 1 s "
         "pauses: 11 valid octets / F4 90 80 80 / 'edited'",
     .expectation = "Fail with 1007 while the frame is still incomplete "
         "(mid-frame fail-fast); if the peer closes, the fuzzer's Close "
         "reply is written into the middle of its unfinished frame",
     FAIL_FAST, CLOSE_RULE_PEER_FAILS(1007),
     ACTIONS(FRAME_HEAD(WS_OP_TEXT, NO_FIN, BYTES(KOSME_110000)),
             FRAME_DATA(TEXT(KOSME)),
             PAUSE(1000, 'A'),
             FRAME_DATA(BYTES("\xf4\x90\x80\x80")),
             PAUSE(1000, 'B'),
             FRAME_DATA(TEXT("edited")),
             FRAME(WS_OP_CONTINUATION, FIN, 0, EMPTY),
             KILL_AFTER(1000))},
    {.id = "6.4.4", .category = WS_CAT_UTF8, .subcategory = SUB_6_4,
     .section = "8.1", .flags = WS_CASE_F_FATAL,
     .description = "Same as 6.4.2 but as one frame in 3 chops: 12 octets / "
         "0x90 / rest",
     .expectation = "Fail with 1007 mid-frame right after the 0x90 octet",
     FAIL_FAST, CLOSE_RULE_PEER_FAILS(1007),
     ACTIONS(FRAME_HEAD(WS_OP_TEXT, NO_FIN, BYTES(KOSME_110000)),
             FRAME_DATA(BYTES(KOSME "\xf4")),
             PAUSE(1000, 'A'),
             FRAME_DATA(BYTES("\x90")),
             PAUSE(1000, 'B'),
             FRAME_DATA(BYTES("\x80\x80" "edited")),
             FRAME(WS_OP_CONTINUATION, FIN, 0, EMPTY),
             KILL_AFTER(1000))},
};

CASE_TABLE(ws__autobahn_cat06, cases);
