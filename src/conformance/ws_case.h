/*
 * ws_case.h: the conformance case model and the Autobahn case catalogue.
 *
 * A case is data: what the fuzzer sends after the opening handshake (an
 * action list), what it expects back (outcome event lists, or a
 * self-graded echo check), how the connection must end (the close rule),
 * and the texts shown in reports. A runner executes the actions over a
 * socket, records events and grades them; this header does no I/O, reads
 * no clock and keeps no global mutable state.
 *
 * The catalogue holds the 301 Autobahn|Testsuite cases of categories 1-7,
 * 9 and 10 under their Autobahn ids, in Autobahn order. The model follows
 * the grading of Autobahn|Testsuite 25.10.1 with Autobahn|Python 0.10.9
 * (docs/conformance.md, section a), so that a runner executing
 * a case as described here reaches Autobahn's verdicts:
 *
 *   - Events: every complete data message from the peer is recorded as
 *     message(text|binary, payload), every Pong (solicited or not) as
 *     pong(payload); Pings from the peer are answered and not recorded;
 *     Close frames are not events. WS_ACT_PAUSE adds timeout(tag) markers.
 *   - Early close (WS_GRADE_EVENTS only): after each recorded message or
 *     pong, if the events equal every outcome list of the case (vacuously
 *     true when there is none), close.closed_by_me is 1,
 *     WS_CASE_F_SUPPRESS_CLOSE is clear and the runner has not sent a Close
 *     yet, it sends Close(close.codes[0]) at once. Two-outcome cases
 *     therefore never close early.
 *   - Timers: WS_ACT_KILL_AFTER sends Close 1001 "Going Away" when it
 *     fires, WS_ACT_CLOSE_AFTER sends a Close with an empty payload; both
 *     only while the connection is still open, and both make the runner the
 *     closing endpoint. Library timeouts: WS_CASE_OPEN_TIMEOUT_MS,
 *     WS_CASE_CLOSE_TIMEOUT_MS, WS_CASE_DROP_TIMEOUT_MS below.
 *   - A Close from the peer is answered with Close 1000 (Autobahn does not
 *     echo the peer's code).
 *   - behavior: the outcome whose event list equals the recorded events
 *     (payloads byte-exact, order significant), else FAILED; overridden by
 *     WS_CASE_F_FATAL, WS_CASE_F_WRONG_CODE_FAILS and
 *     WS_CASE_F_INFORMATIONAL (see the flags).
 *   - behaviorClose, first rule that applies: never opened -> FAILED;
 *     closed_by_me differs -> FAILED; require_clean and not clean ->
 *     UNCLEAN; the peer's Close carried a code not in codes -> WRONG CODE
 *     (no code or no Close never does); the runner (as client) dropped TCP
 *     itself -> FAILED BY CLIENT; else OK.
 */
#ifndef WS_CASE_H
#define WS_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "core/ws_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Autobahn|Python 0.10.9 timeouts, in force for every case. */
#define WS_CASE_OPEN_TIMEOUT_MS 5000u  /* opening handshake */
#define WS_CASE_CLOSE_TIMEOUT_MS 1000u /* peer's Close reply after ours;
                                          then drop TCP, not clean */
#define WS_CASE_DROP_TIMEOUT_MS 1000u  /* client only: the server must close
                                          TCP after a closing handshake the
                                          client started; then drop, not
                                          clean */

/* Longest case id, "13.7.18" and the like, plus the terminating NUL. */
#define WS_CASE_ID_MAX 16u

/* Autobahn case categories (CaseCategories). 0, 8 and 11 are empty. */
enum ws_case_category {
  WS_CAT_HANDSHAKE = 0,
  WS_CAT_FRAMING = 1,
  WS_CAT_PINGS = 2,
  WS_CAT_RESERVED_BITS = 3,
  WS_CAT_OPCODES = 4,
  WS_CAT_FRAGMENTATION = 5,
  WS_CAT_UTF8 = 6,
  WS_CAT_CLOSE = 7,
  WS_CAT_LIMITS = 9,
  WS_CAT_MISC = 10,
  WS_CAT_COMPRESSION_PAYLOADS = 12,  /* later: needs permessage-deflate */
  WS_CAT_COMPRESSION_PARAMETERS = 13, /* later: needs permessage-deflate */
  /* wsspec's own cases, beyond Autobahn (ids "x.N.M"); never selected by
   * Autobahn-style patterns, see ws_case_select(). */
  WS_CAT_EXTENDED = 100
};

/*
 * Returns Autobahn's title of category |category| ("Framing", "UTF-8
 * Handling"), or NULL for a number Autobahn does not define. Static.
 */
const char *ws_case_category_title(unsigned category);

/* Verdict strings of Autobahn reports, for behavior and behaviorClose. */
enum ws_verdict {
  WS_VERDICT_NONE = 0,
  WS_VERDICT_OK,
  WS_VERDICT_NON_STRICT,
  WS_VERDICT_INFORMATIONAL,
  WS_VERDICT_UNIMPLEMENTED,
  WS_VERDICT_FAILED,
  WS_VERDICT_WRONG_CODE,      /* behaviorClose only */
  WS_VERDICT_UNCLEAN,         /* behaviorClose only */
  WS_VERDICT_FAILED_BY_CLIENT /* behaviorClose only */
};

/* Returns the report string of |v| ("OK", "NON-STRICT", "WRONG CODE",
 * "FAILED BY CLIENT"...), or NULL for WS_VERDICT_NONE and unknown values. */
const char *ws_verdict_name(enum ws_verdict v);

/* ---- Payloads ---------------------------------------------------------- */

/*
 * A payload generator. Large payloads (up to 16 MiB in 9.x) are never
 * expanded in the tables; a runner produces any window of the octets with
 * ws_payload_fill().
 */
enum ws_payload_kind {
  WS_PAYLOAD_BYTES = 0, /* data[0..len): literal octets (UTF-8 text or
                           binary); len 0 is the empty payload */
  WS_PAYLOAD_REPEAT = 1, /* data[0..len) repeated and cut after |total|
                            octets: a repeated byte when len is 1, or
                            Autobahn's "BAsd7&jh23" pattern */
  WS_PAYLOAD_COUNTER = 2 /* octet i is i mod 256, |total| octets */
};

struct ws_payload {
  uint8_t kind;        /* enum ws_payload_kind */
  uint32_t len;        /* octets at |data| */
  const uint8_t *data; /* static storage; NULL only when len is 0 */
  uint64_t total;      /* REPEAT and COUNTER: the payload length */
};

/* Returns the payload's length in octets. */
uint64_t ws_payload_length(const struct ws_payload *p);

/*
 * Writes octets [offset, offset + n) of the payload to |out|. Returns 0,
 * or WS_EINVAL when the window runs past the end, the payload is malformed
 * (an unknown kind, REPEAT without pattern octets), or |out| is NULL with
 * n > 0. |out| is only written during the call.
 */
int ws_payload_fill(const struct ws_payload *p, uint64_t offset, uint8_t *out,
                    size_t n);

/* Returns 1 when |data| (|len| octets) equals the whole payload, else 0.
 * Does not allocate; |data| may be NULL when |len| is 0. */
int ws_payload_equal(const struct ws_payload *p, const uint8_t *data,
                     size_t len);

/* ---- Expected events ---------------------------------------------------- */

enum ws_event_kind {
  WS_EVENT_MESSAGE = 1, /* a complete data message from the peer */
  WS_EVENT_PONG = 2,    /* a Pong from the peer */
  WS_EVENT_TIMEOUT = 3  /* a marker added by WS_ACT_PAUSE (6.4.x) */
};

struct ws_case_event {
  uint8_t kind;              /* enum ws_event_kind */
  uint8_t binary;            /* MESSAGE: 1 binary, 0 text */
  char tag;                  /* TIMEOUT: 'A' or 'B' */
  struct ws_payload payload; /* MESSAGE and PONG */
};

/* One acceptable event list and the behavior it earns. */
struct ws_case_outcome {
  uint8_t verdict;  /* WS_VERDICT_OK or WS_VERDICT_NON_STRICT */
  uint32_t n_events; /* 0: nothing at all may arrive */
  const struct ws_case_event *events;
};

/* ---- The close rule (Autobahn's expectedClose) -------------------------- */

struct ws_case_close {
  uint8_t closed_by_me;  /* 1: the runner must be the first to send Close */
  uint8_t require_clean; /* 1: Close sent and received, TCP closed in time */
  uint8_t n_codes;       /* 1..3 */
  uint16_t codes[3];     /* the peer's Close code must be one of these;
                            codes[0] is the early-close code */
};

/* ---- Actions ------------------------------------------------------------ */

/* How the octets of one action reach the socket (Autobahn's send queue). */
enum ws_write_mode {
  WS_WRITE_BURST = 0, /* appended to the output; may share TCP segments with
                         the frames around it (Autobahn's default) */
  WS_WRITE_SYNC = 1,  /* each frame in a write of its own, flushed before
                         the next one (sync=True) */
  WS_WRITE_CHOP = 2   /* each frame's octets in writes of |chop| octets,
                         one per event-loop turn, TCP_NODELAY
                         (chopsize=N) */
};

/* Frame masking. The runner as client masks every frame. */
enum ws_case_mask {
  WS_CASE_MASK_AUTO = 0,  /* as the role requires: a client draws a fresh
                             random key for every frame, a server sends
                             unmasked frames */
  WS_CASE_MASK_NONE = 1,  /* no MASK bit, even from a client */
  WS_CASE_MASK_FIXED = 2  /* MASK bit with |mask_key| */
};

/* A frame, or (depending on the action) the parts of one that apply. */
struct ws_case_frame {
  uint8_t fin;         /* 1: FIN set */
  uint8_t rsv;         /* Autobahn's 3-bit value: wire bits = rsv << 4, so
                          rsv 4 is RSV1 and rsv 1 is RSV3 */
  uint8_t opcode;      /* 0..15, reserved ones included */
  uint8_t mask;        /* enum ws_case_mask */
  uint8_t length_form; /* 0: shortest form; 7, 16 or 64: that form */
  uint8_t mask_key[4]; /* WS_CASE_MASK_FIXED */
  struct ws_payload payload;
};

enum ws_action_kind {
  WS_ACT_END = 0,
  /* One frame as given, built raw: no state change, even for a Close
   * opcode (Autobahn's sendFrame). */
  WS_ACT_FRAME = 1,
  /* Only the header of |frame|, announcing ws_payload_length(&payload)
   * octets; the payload follows in WS_ACT_FRAME_DATA actions, possibly
   * separated by pauses (beginMessageFrame, 6.4.3 / 6.4.4). */
  WS_ACT_FRAME_HEAD = 2,
  /* frame.payload: the next octets of the frame opened by FRAME_HEAD,
   * masked with that frame's key, continuing its mask offset
   * (sendMessageFrameData). */
  WS_ACT_FRAME_DATA = 3,
  /* One message of frame.opcode through Autobahn's fragmenter with
   * fragment size |fragment| (ws_fragment_count); all frames use |write|. */
  WS_ACT_MESSAGE = 4,
  /* Starts the closing handshake (sendCloseFrame): a Close frame whose
   * payload is the 2-octet |close_code| when has_code is 1, followed by
   * frame.payload (the reason octets, not validated: 7.3.2 sends "a", 7.5.1
   * invalid UTF-8). The runner becomes the closing endpoint. */
  WS_ACT_CLOSE = 5,
  /* Waits |ms| (continueLater). When it ends, if TCP is still up, records
   * timeout(tag) when tag is not 0 and goes on with the next action;
   * otherwise the remaining actions are dropped. */
  WS_ACT_PAUSE = 6,
  /* Arms a timer of |ms|: Close 1001 "Going Away" when it fires. */
  WS_ACT_KILL_AFTER = 7,
  /* Arms a timer of |ms|: a Close with an empty payload when it fires. */
  WS_ACT_CLOSE_AFTER = 8,
  /* Self-graded round trips (9.x): sends the message frame.opcode /
   * frame.payload (fragmented by |fragment| when not 0, each frame written
   * by |write| / |chop|), waits for the echo, checks it (ws_case.echo),
   * and repeats until |count| echoes arrived; then sends Close 1000. A
   * wrong echo ends the loop at once with behavior FAILED and Close 1000.
   * Must be the last action. */
  WS_ACT_ECHO = 9
};

struct ws_case_action {
  uint8_t kind;       /* enum ws_action_kind */
  uint8_t write;      /* enum ws_write_mode */
  uint8_t has_code;   /* CLOSE: the payload starts with |close_code| */
  char tag;           /* PAUSE: 'A', 'B' or 0 */
  uint16_t close_code; /* CLOSE, any value including invalid ones */
  uint32_t chop;      /* WS_WRITE_CHOP: octets per write, >= 1 */
  uint32_t fragment;  /* MESSAGE, ECHO: fragment size, 0 = one frame */
  uint32_t ms;        /* PAUSE, KILL_AFTER, CLOSE_AFTER */
  uint32_t count;     /* ECHO: round trips */
  struct ws_case_frame frame; /* FRAME, FRAME_HEAD: all fields;
                                 FRAME_DATA, CLOSE: payload;
                                 MESSAGE, ECHO: opcode and payload */
};

/* ---- Autobahn's fragmenter ---------------------------------------------- */

/*
 * The frames Autobahn|Python's sendMessage(payload, fragmentSize) emits for
 * a |len|-octet message: one frame when |frag| is 0 or len <= frag;
 * otherwise frames of |frag| octets and a last, shorter one, where a length
 * that is an exact multiple of |frag| ends with an extra EMPTY final frame
 * (6.2.3: 29 one-octet frames + 1 empty; 9.3.1: 65,536 + 1). In every case
 * the count is len / frag + 1, or 1.
 */
uint64_t ws_fragment_count(uint64_t len, uint64_t frag);

struct ws_fragment {
  uint64_t offset; /* first message octet in this frame */
  uint64_t length; /* octets in this frame, possibly 0 */
  uint8_t fin;     /* 1 on the last frame */
  uint8_t first;   /* 1 on frame 0: it carries the message opcode, the
                      others are continuations */
};

/* Fills |out| with frame |index| of the plan above. Returns 0, or
 * WS_EINVAL when index >= ws_fragment_count(len, frag) or |out| is NULL. */
int ws_fragment_get(uint64_t len, uint64_t frag, uint64_t index,
                    struct ws_fragment *out);

/* ---- The case ----------------------------------------------------------- */

/* Case flags. */
#define WS_CASE_F_FATAL 0x0001u /* closedByWrongEndpointIsFatal: when the
                                   runner started the close, behavior is
                                   FAILED (the 75 invalid-UTF-8 cases) */
#define WS_CASE_F_INFORMATIONAL 0x0002u /* behavior and behaviorClose are
                                           INFORMATIONAL whatever happens */
#define WS_CASE_F_WRONG_CODE_FAILS 0x0004u /* behaviorClose WRONG CODE makes
                                              behavior FAILED, with the close
                                              result text (7.x) */
#define WS_CASE_F_DEFLATE 0x0008u /* needs permessage-deflate (12.x, 13.x) */
#define WS_CASE_F_SUPPRESS_CLOSE 0x0010u /* never the early Close */
#define WS_CASE_F_REPORT_TIME 0x0020u /* reports show the duration (9.x) */
#define WS_CASE_F_QUIET_WIRELOG 0x0040u /* the wire log is off during the
                                           bulk transfer (9.x) */
#define WS_CASE_F_TX_FRAME_CHECK 0x0080u /* after grading, the runner checks
                                            its own sent data frames against
                                            ws_fragment_count for the
                                            WS_ACT_MESSAGE (10.1.1); a
                                            mismatch is FAILED */
#define WS_CASE_F_EXTENDED 0x0100u /* wsspec's own case, not Autobahn's
                                      (reserved; none in this catalogue) */

/* How behavior is decided. */
enum ws_case_grading {
  WS_GRADE_EVENTS = 0, /* recorded events against |outcomes| */
  WS_GRADE_ECHO = 1    /* self-graded by WS_ACT_ECHO against |echo|:
                          behavior starts FAILED and becomes OK when the
                          count is reached (9.x) */
};

/* What a self-graded echo must look like; content is not checked
 * (Autobahn's "FIXME: check actual content"). */
struct ws_case_echo {
  uint8_t opcode;    /* WS_OP_TEXT or WS_OP_BINARY (ws/ws_frame.h) */
  uint64_t length;   /* exact length of every echo */
  uint32_t count;    /* 1 for 9.1-9.6, 1000 for 9.7 and 9.8 */
  uint32_t limit_ms; /* the case's CLOSE_AFTER: "Did not receive message
                        within N seconds" (count 1) / "Case did not finish
                        within N seconds" (count > 1) */
};

/*
 * An opening-handshake case (extended category): instead of a WebSocket
 * session, the runner sends |request| and grades the HTTP answer. The
 * request is a template with CRLF line ends where "{host}" becomes the
 * Host value, "{path}" the resource and "{key}" a fresh valid
 * Sec-WebSocket-Key. A 101 answer is FAILED (the server accepted what RFC
 * 6455 Section 4.2.1 says it must refuse); a status in |ok| (and, when
 * |header| is set, a field |header| whose value contains |header_value|)
 * is OK; any other 4xx is NON-STRICT; anything else, or no answer, FAILED.
 */
struct ws_case_handshake {
  const char *request;
  uint16_t ok[3];        /* acceptable statuses, 0-terminated */
  const char *header;    /* a field the refusal must carry, or NULL */
  const char *header_value;
};

struct ws_case {
  const char *id;          /* "6.4.3" */
  uint8_t category;        /* enum ws_case_category */
  const char *subcategory; /* title of the X.Y group ("Fail-fast on invalid
                              UTF-8"), NULL for two-part ids */
  const char *section;     /* best matching RFC 6455 section, "5.5.2" */
  const char *description; /* what the runner sends */
  const char *expectation; /* what the peer must do */
  uint32_t flags;          /* WS_CASE_F_* */
  uint8_t grading;         /* enum ws_case_grading */
  uint8_t n_outcomes;      /* WS_GRADE_EVENTS: 1 or 2 (0: informational
                              only) */
  struct ws_case_outcome outcomes[2]; /* OK first, then NON-STRICT */
  struct ws_case_echo echo;  /* WS_GRADE_ECHO */
  struct ws_case_close close;
  uint32_t n_actions;
  const struct ws_case_action *actions; /* run in order after the
                                           handshake */
  const struct ws_case_handshake *handshake; /* extended handshake cases;
                                                NULL otherwise */
};

/*
 * Upper bound of a case's duration in ms from the end of the handshake,
 * from its timers: the pauses, plus the longest timer armed, plus
 * WS_CASE_CLOSE_TIMEOUT_MS and WS_CASE_DROP_TIMEOUT_MS. A runner adds its
 * own margin and uses it as the hard deadline.
 */
uint64_t ws_case_max_duration_ms(const struct ws_case *c);

/* ---- The catalogue ------------------------------------------------------ */

/*
 * The Autobahn catalogue in Autobahn order (numeric per id component:
 * 1.1.10 after 1.1.9, 10.1.1 after 9.8.6). Index i + 1 is Autobahn's
 * "case" number in fuzzingclient reports (the catalogue starts with the
 * same cases as Autobahn's full list). All storage is static and constant.
 */
size_t ws_case_count(void);

/* Returns case |index|, or NULL when index >= ws_case_count(). */
const struct ws_case *ws_case_get(size_t index);

/*
 * wsspec's own cases (WS_CAT_EXTENDED, flag WS_CASE_F_EXTENDED, ids
 * "x.N.M"): opening-handshake refusals, unmasked client frames,
 * close-reason fail-fast. Kept apart from the Autobahn catalogue so that
 * Autobahn case numbers and selections never change.
 */
size_t ws_case_extended_count(void);
const struct ws_case *ws_case_extended_get(size_t index);

/* Returns the case with id |id| (exact match, Autobahn or extended), or
 * NULL. */
const struct ws_case *ws_case_find(const char *id);

/*
 * Orders two ids numerically per dot-separated component, as Autobahn
 * sorts id tuples: "1.1.9" < "1.1.10" < "1.2.1" < "10.1.1", and a prefix
 * first ("6.4" < "6.4.1"). Returns <0, 0 or >0. A component that is not
 * all digits compares after numeric ones, by bytes.
 */
int ws_case_id_compare(const char *a, const char *b);

/* Pattern semantics. */
enum ws_match_mode {
  /* Autobahn's "cases" / "exclude-cases": a pattern without '*' is a
   * literal id; with '*', every '*' matches any run (also empty), other
   * characters match themselves, and only the start is anchored:
   * "1*" matches 1.x, 10.x, 12.x, 13.x; "9.*" only 9.x. */
  WS_MATCH_PREFIX = 0,
  /* Autobahn's "exclude-agent-cases": '*' wildcards, both ends anchored. */
  WS_MATCH_FULL = 1
};

/* Returns 1 when |id| matches |pattern| under |mode|, else 0. */
int ws_case_match(const char *pattern, const char *id, enum ws_match_mode mode);

/*
 * Case selection as Autobahn's caseset.py does it: the cases matched by
 * any |include| pattern (WS_MATCH_PREFIX), minus those matched by any
 * |exclude| pattern, in catalogue order, each once. No include pattern
 * selects nothing. An exclude pattern that matches nothing is ignored.
 * Extended cases follow the Autobahn ones and are matched only by patterns
 * that name them explicitly, that is start with "x" ("x.*", "x.1.2"): "*"
 * and every other Autobahn pattern select exactly what Autobahn would.
 *
 * |out| receives up to |out_cap| case pointers; ws_case_count() +
 * ws_case_extended_count() entries always suffice. On WS_EINVAL, |bad| (may be NULL) receives the index of
 * the offending pattern: i for include[i], n_include + j for exclude[j].
 * The pattern arrays are only read during the call. Pure: no allocation,
 * no I/O.
 *
 * Returns the number of selected cases, or one of:
 *   WS_EINVAL  an include pattern without '*' names no case (Autobahn
 *              would crash later), a pattern is NULL, or an array is NULL
 *              with a non-zero count
 *   WS_ENOBUFS out_cap (or out == NULL) is too small for the selection
 */
ws_ssize ws_case_select(const char *const *include, size_t n_include,
                        const char *const *exclude, size_t n_exclude,
                        const struct ws_case **out, size_t out_cap,
                        size_t *bad);

#ifdef __cplusplus
}
#endif

#endif /* WS_CASE_H */
