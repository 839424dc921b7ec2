/*
 * cat07_close.c: Autobahn category 7, Close Handling. The runner starts the
 * closing handshake in various ways; the peer must answer it (RFC 6455
 * Section 5.5.1), send nothing after its own Close, check the Close
 * payload (a 1-octet body, a body over 125 octets, a reason that is not
 * UTF-8) and the status code (Section 7.4). Close codes 1012-1014 are
 * valid on the wire; 7.9.x does not use them.
 *
 * Everywhere but 7.1.6 and 7.13.x a WRONG CODE close verdict fails the
 * case (WS_CASE_F_WRONG_CODE_FAILS).
 */
#include "conformance/ws_case_data.h"

#define SUB_7_1 "Basic close behavior (fuzzer initiated)"
#define SUB_7_3 "Close frame structure: payload length (fuzzer initiated)"
#define SUB_7_5 "Close frame structure: payload value (fuzzer initiated)"
#define SUB_7_7 "Close frame structure: valid close codes (fuzzer initiated)"
#define SUB_7_9                                                              \
  "Close frame structure: invalid close codes (fuzzer initiated)"
#define SUB_7_13 "Informational close information (fuzzer initiated)"

#define WCF WS_CASE_F_WRONG_CODE_FAILS
#define HELLO TEXT("Hello World!")
#define REPLY_CLEAN "Reply 1000 (or empty), clean"
#define FAIL_1002 "Fail: Close 1002 or drop TCP"

/* The runner closed with an invalid Close: the peer answers 1002 or drops
 * TCP; no clean handshake is required. */
#define CLOSE_RULE_REJECTED                                                  \
  .close = {.closed_by_me = 1, .require_clean = 0, .n_codes = 1,             \
            .codes = {1002}}

/* 7.7.x: Close(code) with a valid code; the reply may be 1000 or echo it. */
#define VALID_CODE(id_, code)                                                \
  {.id = id_, .category = WS_CAT_CLOSE, .subcategory = SUB_7_7,              \
   .section = "7.4", .flags = WCF,                                           \
   .description = "Send Close with valid status code " #code " (no reason)", \
   .expectation = "Reply with Close 1000 or echo " #code "; close cleanly",  \
   EXPECT_NOTHING,                                                           \
   .close = {.closed_by_me = 1, .require_clean = 1, .n_codes = 2,            \
             .codes = {1000, code}},                                         \
   ACTIONS(CLOSE_CODE(code), KILL_AFTER(1000))}

/* 7.9.x: Close(code) with a code not allowed on the wire. */
#define INVALID_CODE(id_, code)                                              \
  {.id = id_, .category = WS_CAT_CLOSE, .subcategory = SUB_7_9,              \
   .section = "7.4", .flags = WCF,                                           \
   .description = "Send Close with invalid status code " #code               \
                  " (no reason)",                                            \
   .expectation = FAIL_1002,                                                 \
   EXPECT_NOTHING, CLOSE_RULE_REJECTED,                                      \
   ACTIONS(CLOSE_CODE(code), KILL_AFTER(1000))}

static const struct ws_case cases[] = {
    /* ---- 7.1 Basic close behavior (fuzzer initiated) ---- */
    {.id = "7.1.1", .category = WS_CAT_CLOSE, .subcategory = SUB_7_1,
     .section = "5.5.1", .flags = WCF,
     .description = "Send text 'Hello World!'; after its echo the fuzzer "
         "sends Close(1000)",
     .expectation = "Echo the message, then answer the Close with 1000 (or "
         "empty) and close cleanly",
     EXPECT(E_TEXT(HELLO)), CLOSE_RULE_NORMAL,
     /* The Close(1000) is the early close after the echo. */
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, HELLO),
             KILL_AFTER(1000))},
    {.id = "7.1.2", .category = WS_CAT_CLOSE, .subcategory = SUB_7_1,
     .section = "5.5.1", .flags = WCF,
     .description = "Send Close(1000), then a second (empty) Close frame",
     .expectation = "Reply to the first Close only; ignore the second; "
         "clean close with 1000",
     EXPECT_NOTHING, CLOSE_RULE_NORMAL,
     ACTIONS(CLOSE_CODE(1000),
             FRAME(WS_OP_CLOSE, FIN, 0, EMPTY),
             KILL_AFTER(1000))},
    {.id = "7.1.3", .category = WS_CAT_CLOSE, .subcategory = SUB_7_1,
     .section = "5.5.1", .flags = WCF,
     .description = "Send Close(1000), then an empty Ping",
     .expectation = "Do not Pong after the Close; clean close 1000",
     EXPECT_NOTHING, CLOSE_RULE_NORMAL,
     ACTIONS(CLOSE_CODE(1000),
             PING(EMPTY),
             KILL_AFTER(1000))},
    {.id = "7.1.4", .category = WS_CAT_CLOSE, .subcategory = SUB_7_1,
     .section = "5.5.1", .flags = WCF,
     .description = "Send Close(1000), then text 'Hello World!'",
     .expectation = "Ignore the text; clean close 1000",
     EXPECT_NOTHING, CLOSE_RULE_NORMAL,
     ACTIONS(CLOSE_CODE(1000),
             FRAME(WS_OP_TEXT, FIN, 0, HELLO),
             KILL_AFTER(1000))},
    {.id = "7.1.5", .category = WS_CAT_CLOSE, .subcategory = SUB_7_1,
     .section = "5.5.1", .flags = WCF,
     .description = "Send text FIN=0 'fragment1', then Close(1000), then "
         "continuation FIN=1 'fragment2'",
     .expectation = "Answer the Close with 1000; do not echo",
     EXPECT_NOTHING, CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, NO_FIN, 0, TEXT("fragment1")),
             CLOSE_CODE(1000),
             FRAME(WS_OP_CONTINUATION, FIN, 0, TEXT("fragment2")),
             KILL_AFTER(1000))},
    /* Graded INFORMATIONAL whatever arrives: no outcome list. */
    {.id = "7.1.6", .category = WS_CAT_CLOSE, .subcategory = SUB_7_1,
     .section = "5.5.1",
     .flags = WS_CASE_F_INFORMATIONAL | WS_CASE_F_SUPPRESS_CLOSE,
     .description = "Send a 262144-octet text message (pattern "
         "'BAsd7&jh23' repeated), then text 'Hello World!', then "
         "Close(1000), then empty Ping, back to back",
     .expectation = "Implementation-defined: echo both messages before the "
         "Close reply, or fewer",
     CLOSE_RULE_NORMAL,
     ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, REPEAT("BAsd7&jh23", 262144)),
             FRAME(WS_OP_TEXT, FIN, 0, HELLO),
             CLOSE_CODE(1000),
             PING(EMPTY),
             KILL_AFTER(1000))},

    /* ---- 7.3 Close frame structure: payload length ---- */
    {.id = "7.3.1", .category = WS_CAT_CLOSE, .subcategory = SUB_7_3,
     .section = "5.5.1", .flags = WCF,
     .description = "Send Close frame with EMPTY payload (no code, no "
         "reason)",
     .expectation = "Reply with Close (1000 or empty) and close cleanly",
     EXPECT_NOTHING, CLOSE_RULE_NORMAL,
     ACTIONS(CLOSE_EMPTY,
             KILL_AFTER(1000))},
    {.id = "7.3.2", .category = WS_CAT_CLOSE, .subcategory = SUB_7_3,
     .section = "5.5.1", .flags = WCF,
     .description = "Send Close frame with 1-octet payload 'a' (invalid "
         "length)",
     .expectation = FAIL_1002,
     EXPECT_NOTHING, CLOSE_RULE_REJECTED,
     ACTIONS(CLOSE_PAYLOAD(TEXT("a")),
             KILL_AFTER(1000))},
    {.id = "7.3.3", .category = WS_CAT_CLOSE, .subcategory = SUB_7_3,
     .section = "5.5.1", .flags = WCF,
     .description = "Send Close(1000) with no reason",
     .expectation = REPLY_CLEAN,
     EXPECT_NOTHING, CLOSE_RULE_NORMAL,
     ACTIONS(CLOSE_CODE(1000),
             KILL_AFTER(1000))},
    {.id = "7.3.4", .category = WS_CAT_CLOSE, .subcategory = SUB_7_3,
     .section = "5.5.1", .flags = WCF,
     .description = "Send Close(1000) with reason 'Hello World!'",
     .expectation = REPLY_CLEAN,
     EXPECT_NOTHING, CLOSE_RULE_NORMAL,
     ACTIONS(CLOSE_REASON(1000, HELLO),
             KILL_AFTER(1000))},
    {.id = "7.3.5", .category = WS_CAT_CLOSE, .subcategory = SUB_7_3,
     .section = "5.5.1", .flags = WCF,
     .description = "Send Close(1000) with 123-octet reason ('*' x 123; "
         "125-octet payload = maximum)",
     .expectation = REPLY_CLEAN,
     EXPECT_NOTHING, CLOSE_RULE_NORMAL,
     ACTIONS(CLOSE_REASON(1000, REPEAT("*", 123)),
             KILL_AFTER(1000))},
    {.id = "7.3.6", .category = WS_CAT_CLOSE, .subcategory = SUB_7_3,
     .section = "5.5", .flags = WCF,
     .description = "Send Close(1000) with 124-octet reason (126-octet "
         "control payload, over the limit)",
     .expectation = FAIL_1002,
     EXPECT_NOTHING, CLOSE_RULE_REJECTED,
     ACTIONS(CLOSE_REASON(1000, REPEAT("*", 124)),
             KILL_AFTER(1000))},

    /* ---- 7.5 Close frame structure: payload value ---- */
    {.id = "7.5.1", .category = WS_CAT_CLOSE, .subcategory = SUB_7_5,
     .section = "5.5.1", .flags = WCF,
     .description = "Send Close(1000) whose reason is invalid UTF-8 "
         "(cebae1bdb9cf83cebcceb5eda080656469746564)",
     .expectation = "Fail: Close 1002 or 1007, or drop TCP",
     EXPECT_NOTHING,
     .close = {.closed_by_me = 1, .require_clean = 0, .n_codes = 2,
               .codes = {1002, 1007}},
     /* "κόσμε", the surrogate U+D800, "edited". */
     ACTIONS(CLOSE_REASON(1000, BYTES("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc"
                                      "\xce\xb5\xed\xa0\x80" "edited")),
             KILL_AFTER(1000))},

    /* ---- 7.7 Close frame structure: valid close codes ---- */
    VALID_CODE("7.7.1", 1000),
    VALID_CODE("7.7.2", 1001),
    VALID_CODE("7.7.3", 1002),
    VALID_CODE("7.7.4", 1003),
    VALID_CODE("7.7.5", 1007),
    VALID_CODE("7.7.6", 1008),
    VALID_CODE("7.7.7", 1009),
    VALID_CODE("7.7.8", 1010),
    VALID_CODE("7.7.9", 1011),
    VALID_CODE("7.7.10", 3000),
    VALID_CODE("7.7.11", 3999),
    VALID_CODE("7.7.12", 4000),
    VALID_CODE("7.7.13", 4999),

    /* ---- 7.9 Close frame structure: invalid close codes ---- */
    INVALID_CODE("7.9.1", 0),
    INVALID_CODE("7.9.2", 999),
    INVALID_CODE("7.9.3", 1004),
    INVALID_CODE("7.9.4", 1005),
    INVALID_CODE("7.9.5", 1006),
    INVALID_CODE("7.9.6", 1016),
    INVALID_CODE("7.9.7", 1100),
    INVALID_CODE("7.9.8", 2000),
    INVALID_CODE("7.9.9", 2999),

    /* ---- 7.13 Informational close information ---- */
    {.id = "7.13.1", .category = WS_CAT_CLOSE, .subcategory = SUB_7_13,
     .section = "7.4", .flags = WS_CASE_F_INFORMATIONAL,
     .description = "Send Close with code 5000 (outside all defined "
         "ranges)",
     .expectation = "Undefined by RFC 6455; any reaction",
     EXPECT_NOTHING,
     .close = {.closed_by_me = 1, .require_clean = 0, .n_codes = 3,
               .codes = {1000, 5000, 1002}},
     ACTIONS(CLOSE_CODE(5000),
             KILL_AFTER(1000))},
    {.id = "7.13.2", .category = WS_CAT_CLOSE, .subcategory = SUB_7_13,
     .section = "7.4", .flags = WS_CASE_F_INFORMATIONAL,
     .description = "Send Close with code 65535",
     .expectation = "Undefined by RFC 6455; any reaction",
     EXPECT_NOTHING,
     .close = {.closed_by_me = 1, .require_clean = 0, .n_codes = 3,
               .codes = {1000, 65535, 1002}},
     ACTIONS(CLOSE_CODE(65535),
             KILL_AFTER(1000))},
};

CASE_TABLE(ws__autobahn_cat07, cases);
