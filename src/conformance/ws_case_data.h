/*
 * ws_case_data.h: internal to the catalogue. The tables of
 * conformance/autobahn/ (one file per Autobahn category) and the short
 * macros they are written with, so that each case reads like its wire
 * intent:
 *
 *   ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, TEXT("Hello, world!")),
 *           FRAME(WS_OP_TEXT, FIN, 2, TEXT("Hello, world!")),
 *           PING(EMPTY),
 *           KILL_AFTER(1000))
 *
 * Only the catalogue files include this header: the macro names are short
 * and unprefixed on purpose. Everything else uses ws_case.h.
 */
#ifndef WS_CASE_DATA_H
#define WS_CASE_DATA_H

#include <stddef.h>

#include "conformance/ws_case.h"
#include "ws/ws_frame.h"

/* One table per category file, in id order; ws_catalogue.c chains them. */
struct ws__case_table {
  const struct ws_case *cases;
  size_t n;
};

extern const struct ws__case_table ws__autobahn_cat01;
extern const struct ws__case_table ws__autobahn_cat02;
extern const struct ws__case_table ws__autobahn_cat03;
extern const struct ws__case_table ws__autobahn_cat04;
extern const struct ws__case_table ws__autobahn_cat05;
extern const struct ws__case_table ws__autobahn_cat06;         /* 6.1-6.4 */
extern const struct ws__case_table ws__autobahn_cat06_vectors; /* 6.5-6.23 */
extern const struct ws__case_table ws__autobahn_cat07;
extern const struct ws__case_table ws__autobahn_cat09;
extern const struct ws__case_table ws__autobahn_cat10;
extern const struct ws__case_table ws__wsspec_extended; /* x.N.M */

/* Defines the table |name| over the array |cases|. */
#define CASE_TABLE(name, cases)                                              \
  const struct ws__case_table name = {cases, sizeof(cases) / sizeof(cases[0])}

/* Number of elements of a brace list of type T. */
#define N_OF(T, ...) (sizeof((const T[]){__VA_ARGS__}) / sizeof(T))

/* ---- Payloads (string literals only: the length comes from sizeof) ---- */

#define EMPTY {.kind = WS_PAYLOAD_BYTES}
/* Literal octets; write bytes as "\xce\xba" and end a string piece before
 * a following hex digit character ("\x80" "edited"). */
#define BYTES(s)                                                             \
  {.kind = WS_PAYLOAD_BYTES, .len = sizeof(s) - 1,                           \
   .data = (const uint8_t *)(s)}
/* UTF-8 text: the same as BYTES, named for the reader. */
#define TEXT(s) BYTES(s)
/* |s| repeated and cut after |n| octets. */
#define REPEAT(s, n)                                                         \
  {.kind = WS_PAYLOAD_REPEAT, .len = sizeof(s) - 1,                          \
   .data = (const uint8_t *)(s), .total = (n)}
/* Octet i is i mod 256. */
#define COUNTER(n) {.kind = WS_PAYLOAD_COUNTER, .total = (n)}

/* ---- Actions ------------------------------------------------------------ */

#define FIN 1
#define NO_FIN 0

#define ACTIONS(...)                                                         \
  .n_actions = N_OF(struct ws_case_action, __VA_ARGS__),                     \
  .actions = (const struct ws_case_action[]){__VA_ARGS__}

/* The payload is always the last, variadic, argument: a payload macro
 * expands to a brace list whose commas would split a named argument. */
#define FRAME_WRITE(w, n, op, fin_, rsv_, ...)                               \
  {.kind = WS_ACT_FRAME, .write = (w), .chop = (n),                          \
   .frame = {.fin = (fin_), .rsv = (rsv_), .opcode = (op),                   \
             .payload = __VA_ARGS__}}
/* One raw frame, in the default write burst. */
#define FRAME(op, fin_, rsv_, ...)                                           \
  FRAME_WRITE(WS_WRITE_BURST, 0, op, fin_, rsv_, __VA_ARGS__)
/* One raw frame in a write of its own (Autobahn sync=True). */
#define FRAME_SYNC(op, fin_, rsv_, ...)                                      \
  FRAME_WRITE(WS_WRITE_SYNC, 0, op, fin_, rsv_, __VA_ARGS__)
/* One raw frame written |n| octets per write (Autobahn chopsize=n). */
#define FRAME_CHOP(n, op, fin_, rsv_, ...)                                   \
  FRAME_WRITE(WS_WRITE_CHOP, n, op, fin_, rsv_, __VA_ARGS__)

#define PING(...) FRAME(WS_OP_PING, FIN, 0, __VA_ARGS__)
#define PONG(...) FRAME(WS_OP_PONG, FIN, 0, __VA_ARGS__)

/* A header announcing the payload's length; the octets follow in
 * FRAME_DATA actions. */
#define FRAME_HEAD(op, fin_, ...)                                            \
  {.kind = WS_ACT_FRAME_HEAD,                                                \
   .frame = {.fin = (fin_), .opcode = (op), .payload = __VA_ARGS__}}
#define FRAME_DATA(...)                                                      \
  {.kind = WS_ACT_FRAME_DATA, .frame = {.payload = __VA_ARGS__}}

/* One message through Autobahn's fragmenter (frag 0 = one frame). */
#define MESSAGE(op, frag, ...)                                               \
  {.kind = WS_ACT_MESSAGE, .fragment = (frag),                               \
   .frame = {.opcode = (op), .payload = __VA_ARGS__}}

/* The runner starts the closing handshake. */
#define CLOSE_EMPTY {.kind = WS_ACT_CLOSE}
#define CLOSE_CODE(code)                                                     \
  {.kind = WS_ACT_CLOSE, .has_code = 1, .close_code = (code)}
#define CLOSE_REASON(code, ...)                                              \
  {.kind = WS_ACT_CLOSE, .has_code = 1, .close_code = (code),                \
   .frame = {.payload = __VA_ARGS__}}
/* A Close whose whole payload is the given one (no code). */
#define CLOSE_PAYLOAD(...)                                                   \
  {.kind = WS_ACT_CLOSE, .frame = {.payload = __VA_ARGS__}}

#define PAUSE(ms_, tag_) {.kind = WS_ACT_PAUSE, .ms = (ms_), .tag = (tag_)}
#define KILL_AFTER(ms_) {.kind = WS_ACT_KILL_AFTER, .ms = (ms_)}
#define CLOSE_AFTER(ms_) {.kind = WS_ACT_CLOSE_AFTER, .ms = (ms_)}

/* 9.x round trips: |count| messages, each sent after the previous echo,
 * fragmented by |frag|, written by |w| / |n|. */
#define ECHO(op, count_, frag, w, n, ...)                                    \
  {.kind = WS_ACT_ECHO, .count = (count_), .fragment = (frag),               \
   .write = (w), .chop = (n),                                                \
   .frame = {.opcode = (op), .payload = __VA_ARGS__}}

/* What ECHO must get back: |count| messages of type |op| and |n| octets,
 * within the case's CLOSE_AFTER of |ms|. */
#define ECHO_CHECK(op, n, count_, ms)                                        \
  {.opcode = (op), .length = (n), .count = (count_), .limit_ms = (ms)}

/* ---- Expected events and outcomes -------------------------------------- */

#define E_TEXT(...) {.kind = WS_EVENT_MESSAGE, .payload = __VA_ARGS__}
#define E_BINARY(...)                                                        \
  {.kind = WS_EVENT_MESSAGE, .binary = 1, .payload = __VA_ARGS__}
#define E_PONG(...) {.kind = WS_EVENT_PONG, .payload = __VA_ARGS__}
#define E_TIMEOUT(tag_) {.kind = WS_EVENT_TIMEOUT, .tag = (tag_)}

#define OUTCOME(verdict_, ...)                                               \
  {.verdict = (verdict_),                                                    \
   .n_events = N_OF(struct ws_case_event, __VA_ARGS__),                      \
   .events = (const struct ws_case_event[]){__VA_ARGS__}}

/* OK iff exactly these events arrive. */
#define EXPECT(...)                                                          \
  .n_outcomes = 1, .outcomes = {OUTCOME(WS_VERDICT_OK, __VA_ARGS__)}
/* OK iff nothing arrives. */
#define EXPECT_NOTHING                                                       \
  .n_outcomes = 1, .outcomes = {{.verdict = WS_VERDICT_OK}}
/* OK iff exactly these events arrive, NON-STRICT iff nothing does (the
 * peer failed before echoing the valid part). */
#define EXPECT_OR_NOTHING(...)                                               \
  .n_outcomes = 2,                                                           \
  .outcomes = {OUTCOME(WS_VERDICT_OK, __VA_ARGS__),                          \
               {.verdict = WS_VERDICT_NON_STRICT}}

/* ---- Close rules --------------------------------------------------------- */

/* The runner closes with 1000; the peer answers and closes cleanly. */
#define CLOSE_RULE_NORMAL                                                    \
  .close = {.closed_by_me = 1, .require_clean = 1, .n_codes = 1,             \
            .codes = {1000}}
/* The peer must fail the connection with |code| (or drop TCP). */
#define CLOSE_RULE_PEER_FAILS(code)                                          \
  .close = {.closed_by_me = 0, .require_clean = 0, .n_codes = 1,             \
            .codes = {code}}

#endif /* WS_CASE_DATA_H */
