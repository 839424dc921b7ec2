/*
 * cat09_limits.c: Autobahn category 9, Limits/Performance (RFC 6455
 * Section 10.4: an implementation may limit frame and message sizes, but
 * these sizes are what a general-purpose endpoint is expected to handle).
 *
 * Self-graded (WS_GRADE_ECHO): the runner sends the message, waits for the
 * echo and checks its type and exact length, not its content (as Autobahn
 * does); 9.7 and 9.8 do 1000 strict round trips. The CLOSE_AFTER timer is
 * the time limit. The payload patterns are Autobahn's: "BAsd7&jh23" for
 * text and 00 fe 23 fa f0 for binary in 9.1/9.2/9.5/9.6, '*' and 0xfe
 * elsewhere. Descriptions keep Autobahn's quirks: 9.2.5 sends 8 MiB,
 * 9.3.9 and 9.4.9 one 4 MiB frame, 9.4.1 0xfe but 9.4.2-9.4.9 '*'.
 */
#include "conformance/ws_case_data.h"

#define SUB_9_1 "Text Message (increasing size)"
#define SUB_9_2 "Binary Message (increasing size)"
#define SUB_9_3 "Fragmented Text Message (fixed size, increasing fragment size)"
#define SUB_9_4                                                              \
  "Fragmented Binary Message (fixed size, increasing fragment size)"
#define SUB_9_5 "Text Message (fixed size, increasing chop size)"
#define SUB_9_6 "Binary Text Message (fixed size, increasing chop size)"
#define SUB_9_7 "Text Message Roundtrip Time (fixed number, increasing size)"
#define SUB_9_8                                                              \
  "Binary Message Roundtrip Time (fixed number, increasing size)"

#define TEXT_PATTERN "BAsd7&jh23"
#define BINARY_PATTERN "\x00\xfe\x23\xfa\xf0"
#define MIB4 4194304

/* Every 9.x case: self-graded, timed, the wire log off during the bulk. */
#define LIMITS(sub)                                                          \
  .category = WS_CAT_LIMITS, .subcategory = (sub), .section = "10.4",        \
  .flags = WS_CASE_F_REPORT_TIME | WS_CASE_F_QUIET_WIRELOG,                  \
  .grading = WS_GRADE_ECHO, CLOSE_RULE_NORMAL

/* 9.1 / 9.2: one unfragmented message of n octets within |secs|. */
#define SIZE_TEXT(id_, label, n, secs)                                       \
  {.id = id_, LIMITS(SUB_9_1),                                               \
   .description = "Send one unfragmented text message of " label " (" #n     \
                  " octets; payload 'BAsd7&jh23' repeated)",                 \
   .expectation = "Echo it within " #secs " s",                              \
   .echo = ECHO_CHECK(WS_OP_TEXT, n, 1, secs * 1000),                        \
   ACTIONS(CLOSE_AFTER(secs * 1000),                                         \
           ECHO(WS_OP_TEXT, 1, 0, WS_WRITE_BURST, 0,                         \
                REPEAT(TEXT_PATTERN, n)))}
#define SIZE_BINARY(id_, label, n, secs)                                     \
  {.id = id_, LIMITS(SUB_9_2),                                               \
   .description = "Send one unfragmented binary message of " label " (" #n   \
                  " octets; payload 00 fe 23 fa f0 repeated)",               \
   .expectation = "Echo it within " #secs " s",                              \
   .echo = ECHO_CHECK(WS_OP_BINARY, n, 1, secs * 1000),                      \
   ACTIONS(CLOSE_AFTER(secs * 1000),                                         \
           ECHO(WS_OP_BINARY, 1, 0, WS_WRITE_BURST, 0,                       \
                REPEAT(BINARY_PATTERN, n)))}

/* 9.3 / 9.4: one 4 MiB message through the fragmenter. */
#define FRAG_TEXT(id_, label, frag, frames)                                  \
  {.id = id_, LIMITS(SUB_9_3),                                               \
   .description = "Send one text message of 4 MiB (4194304 octets of '*') "  \
                  "fragmented into frames of " label " octets (" frames ")", \
   .expectation = "Reassemble and echo it within 100 s",                     \
   .echo = ECHO_CHECK(WS_OP_TEXT, MIB4, 1, 100000),                          \
   ACTIONS(CLOSE_AFTER(100000),                                              \
           ECHO(WS_OP_TEXT, 1, frag, WS_WRITE_BURST, 0,                      \
                REPEAT("*", MIB4)))}
#define FRAG_BINARY(id_, fill, label, frag, frames)                          \
  {.id = id_, LIMITS(SUB_9_4),                                               \
   .description = "Send one binary message of 4 MiB (4194304 octets of "     \
                  "0xfe for 9.4.1, '*' for 9.4.2-9.4.9) fragmented into "    \
                  "frames of " label " octets (" frames ")",                 \
   .expectation = "Reassemble and echo it within 100 s",                     \
   .echo = ECHO_CHECK(WS_OP_BINARY, MIB4, 1, 100000),                        \
   ACTIONS(CLOSE_AFTER(100000),                                              \
           ECHO(WS_OP_BINARY, 1, frag, WS_WRITE_BURST, 0,                    \
                REPEAT(fill, MIB4)))}
#define WITH_EMPTY(n) #n " frames incl. an empty final FIN frame"
#define UNFRAGMENTED "1 frames, i.e. unfragmented"

/* 9.5 / 9.6: one 1 MiB frame written in chops of |chop| octets. */
#define CHOP_TEXT(id_, chop_)                                                \
  {.id = id_, LIMITS(SUB_9_5),                                               \
   .description = "Send one unfragmented text message of 1 MiB (1048576 "    \
                  "octets, 'BAsd7&jh23' repeated); the frame is written to " \
                  "TCP in chops of " #chop_ " octets, each chop in its own " \
                  "reactor turn",                                            \
   .expectation = "Echo it within 1000 s",                                   \
   .echo = ECHO_CHECK(WS_OP_TEXT, 1048576, 1, 1000000),                      \
   ACTIONS(CLOSE_AFTER(1000000),                                             \
           ECHO(WS_OP_TEXT, 1, 0, WS_WRITE_CHOP, chop_,                      \
                REPEAT(TEXT_PATTERN, 1048576)))}
#define CHOP_BINARY(id_, chop_)                                              \
  {.id = id_, LIMITS(SUB_9_6),                                               \
   .description = "Send one unfragmented binary message of 1 MiB (1048576 "  \
                  "octets, 00 fe 23 fa f0 repeated); the frame is written "  \
                  "to TCP in chops of " #chop_ " octets, each chop in its "  \
                  "own reactor turn",                                        \
   .expectation = "Echo it within 1000 s",                                   \
   .echo = ECHO_CHECK(WS_OP_BINARY, 1048576, 1, 1000000),                    \
   ACTIONS(CLOSE_AFTER(1000000),                                             \
           ECHO(WS_OP_BINARY, 1, 0, WS_WRITE_CHOP, chop_,                    \
                REPEAT(BINARY_PATTERN, 1048576)))}

/* 9.7 / 9.8: 1000 round trips of n octets, strictly one at a time. */
#define RTT_TEXT(id_, n, secs)                                               \
  {.id = id_, LIMITS(SUB_9_7),                                               \
   .description = "Send 1000 text messages of " #n " octets strictly one at " \
                  "a time: the next is sent only after the previous echo "   \
                  "arrives (latency/RTT test)",                              \
   .expectation = "Echo each message",                                       \
   .echo = ECHO_CHECK(WS_OP_TEXT, n, 1000, secs * 1000),                     \
   ACTIONS(CLOSE_AFTER(secs * 1000),                                         \
           ECHO(WS_OP_TEXT, 1000, 0, WS_WRITE_BURST, 0,                      \
                REPEAT("*", n)))}
#define RTT_BINARY(id_, n, secs)                                             \
  {.id = id_, LIMITS(SUB_9_8),                                               \
   .description = "Send 1000 binary messages of " #n " octets strictly one " \
                  "at a time: the next is sent only after the previous "     \
                  "echo arrives (latency/RTT test)",                         \
   .expectation = "Echo each message",                                       \
   .echo = ECHO_CHECK(WS_OP_BINARY, n, 1000, secs * 1000),                   \
   ACTIONS(CLOSE_AFTER(secs * 1000),                                         \
           ECHO(WS_OP_BINARY, 1000, 0, WS_WRITE_BURST, 0,                    \
                REPEAT("\xfe", n)))}

static const struct ws_case cases[] = {
    /* ---- 9.1 Text Message (increasing size) ---- */
    SIZE_TEXT("9.1.1", "64 KiB", 65536, 10),
    SIZE_TEXT("9.1.2", "256 KiB", 262144, 10),
    SIZE_TEXT("9.1.3", "1 MiB", 1048576, 100),
    SIZE_TEXT("9.1.4", "4 MiB", 4194304, 100),
    SIZE_TEXT("9.1.5", "8 MiB", 8388608, 100),
    SIZE_TEXT("9.1.6", "16 MiB", 16777216, 100),

    /* ---- 9.2 Binary Message (increasing size) ---- */
    SIZE_BINARY("9.2.1", "64 KiB", 65536, 10),
    SIZE_BINARY("9.2.2", "256 KiB", 262144, 10),
    SIZE_BINARY("9.2.3", "1 MiB", 1048576, 10),
    SIZE_BINARY("9.2.4", "4 MiB", 4194304, 10),
    SIZE_BINARY("9.2.5", "8 MiB", 8388608, 100),
    SIZE_BINARY("9.2.6", "16 MiB", 16777216, 100),

    /* ---- 9.3 Fragmented Text Message (fixed size, increasing fragment
     * size) ---- */
    FRAG_TEXT("9.3.1", "64", 64, WITH_EMPTY(65537)),
    FRAG_TEXT("9.3.2", "256", 256, WITH_EMPTY(16385)),
    FRAG_TEXT("9.3.3", "1 KiB", 1024, WITH_EMPTY(4097)),
    FRAG_TEXT("9.3.4", "4 KiB", 4096, WITH_EMPTY(1025)),
    FRAG_TEXT("9.3.5", "16 KiB", 16384, WITH_EMPTY(257)),
    FRAG_TEXT("9.3.6", "64 KiB", 65536, WITH_EMPTY(65)),
    FRAG_TEXT("9.3.7", "256 KiB", 262144, WITH_EMPTY(17)),
    FRAG_TEXT("9.3.8", "1 MiB", 1048576, WITH_EMPTY(5)),
    FRAG_TEXT("9.3.9", "4 MiB", 4194304, UNFRAGMENTED),

    /* ---- 9.4 Fragmented Binary Message (fixed size, increasing fragment
     * size) ---- */
    FRAG_BINARY("9.4.1", "\xfe", "64", 64, WITH_EMPTY(65537)),
    FRAG_BINARY("9.4.2", "*", "256", 256, WITH_EMPTY(16385)),
    FRAG_BINARY("9.4.3", "*", "1 KiB", 1024, WITH_EMPTY(4097)),
    FRAG_BINARY("9.4.4", "*", "4 KiB", 4096, WITH_EMPTY(1025)),
    FRAG_BINARY("9.4.5", "*", "16 KiB", 16384, WITH_EMPTY(257)),
    FRAG_BINARY("9.4.6", "*", "64 KiB", 65536, WITH_EMPTY(65)),
    FRAG_BINARY("9.4.7", "*", "256 KiB", 262144, WITH_EMPTY(17)),
    FRAG_BINARY("9.4.8", "*", "1 MiB", 1048576, WITH_EMPTY(5)),
    FRAG_BINARY("9.4.9", "*", "4 MiB", 4194304, UNFRAGMENTED),

    /* ---- 9.5 Text Message (fixed size, increasing chop size) ---- */
    CHOP_TEXT("9.5.1", 64),
    CHOP_TEXT("9.5.2", 128),
    CHOP_TEXT("9.5.3", 256),
    CHOP_TEXT("9.5.4", 512),
    CHOP_TEXT("9.5.5", 1024),
    CHOP_TEXT("9.5.6", 2048),

    /* ---- 9.6 Binary Text Message (fixed size, increasing chop size) ---- */
    CHOP_BINARY("9.6.1", 64),
    CHOP_BINARY("9.6.2", 128),
    CHOP_BINARY("9.6.3", 256),
    CHOP_BINARY("9.6.4", 512),
    CHOP_BINARY("9.6.5", 1024),
    CHOP_BINARY("9.6.6", 2048),

    /* ---- 9.7 Text Message Roundtrip Time (fixed number, increasing
     * size) ---- */
    RTT_TEXT("9.7.1", 0, 60),
    RTT_TEXT("9.7.2", 16, 60),
    RTT_TEXT("9.7.3", 64, 60),
    RTT_TEXT("9.7.4", 256, 120),
    RTT_TEXT("9.7.5", 1024, 240),
    RTT_TEXT("9.7.6", 4096, 480),

    /* ---- 9.8 Binary Message Roundtrip Time (fixed number, increasing
     * size) ---- */
    RTT_BINARY("9.8.1", 0, 60),
    RTT_BINARY("9.8.2", 16, 60),
    RTT_BINARY("9.8.3", 64, 60),
    RTT_BINARY("9.8.4", 256, 120),
    RTT_BINARY("9.8.5", 1024, 240),
    RTT_BINARY("9.8.6", 4096, 480),
};

CASE_TABLE(ws__autobahn_cat09, cases);
