/*
 * session_harness.h: drives a ws_session (ws/ws_session.h) with hand-built
 * wire bytes and checks it is split-invariant. Used by test_session.c.
 *
 * - An event log: callbacks that append one text line per event to a
 *   struct session_ctx (and optionally echo messages, reply to a Close or
 *   fail on purpose).
 * - A wire builder: frames encoded with ws_frame_encode, masked with the
 *   deterministic test_random when the peer is a client.
 * - An output decoder: describe_frames() turns what a session sent into
 *   one text line per frame, decoded as the peer would.
 * - A runner: session_run() feeds a fresh session the wire bytes in pieces
 *   (each from its own exact-size guard-page buffer) and drains the output;
 *   check_splits() runs a scenario whole, one byte at a time and split at
 *   every position, and requires identical logs and identical output bytes;
 *   the whole run is also compared with an expected log and output
 *   description.
 *
 * Every helper fails the current cmocka test on an unexpected result.
 */
#ifndef WS_TEST_SESSION_HARNESS_H
#define WS_TEST_SESSION_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "test_support.h"
#include "ws/ws_frame.h"
#include "ws/ws_session.h"

/* ------------------------------------------------------------------ */
/* Event log */

#define SESSION_LOG_MAX 16384

/* The callbacks' user data: the log and how the callbacks behave. */
struct session_ctx {
  char log[SESSION_LOG_MAX];
  size_t n;
  int echo;               /* on_message queues the message back */
  int fail_in;            /* 1..5: that callback returns non-zero */
  int queue_err;          /* error of the echo's queue call */
  uint16_t reply_code;    /* on_close queues this Close itself */
  uintptr_t in_lo, in_hi; /* the piece being fed */
  int zero_copy;          /* on_message data pointed into the piece */
  int copied;             /* on_message data pointed elsewhere */
  uint64_t seed;          /* the session's mask source */
  uint8_t stream[4096];   /* streaming: the message so far */
  size_t stream_len;
  int pieces; /* streaming: on_message_data calls */
};

/* Values of session_ctx.fail_in. */
enum { FAIL_MESSAGE = 1, FAIL_PING, FAIL_PONG, FAIL_CLOSE, FAIL_VIOLATION };

/* Logs messages, Pings, Pongs, Closes and violations; user = session_ctx.
 * The log lines: "msg TEXT <bytes>", "msg BINARY <bytes>", "ping <bytes>",
 * "pong <bytes>", "close <code> <reason bytes>",
 * "violation <NAME> <close code> <section> @<offset>". on_violation also
 * asserts the session is already FAILED. */
extern const struct ws_session_callbacks session_log_cb;

/* session_log_cb plus the streaming callbacks, which log "begin TEXT" or
 * "begin BINARY" and "end <bytes>" (the message assembled in
 * session_ctx.stream). */
extern const struct ws_session_callbacks session_stream_cb;

/* Writes |p| as the logs show payloads into |dst| (|cap| bytes): short
 * payloads (up to 48 bytes) as hex, long ones as "len=N fnv=XXXXXXXX",
 * empty as "-". */
void fmt_bytes(char *dst, size_t cap, const uint8_t *p, size_t n);

/* Writes "<what> <fmt_bytes of p>\n" into |dst|: for long payloads in
 * expected logs and output descriptions. */
void want_bytes(char *dst, size_t cap, const char *what, const uint8_t *p,
                size_t n);

/* ------------------------------------------------------------------ */
/* Wire builder */

/* A growing buffer of wire bytes. The caller frees |p| (free()). */
struct wire {
  uint8_t *p;
  size_t len, cap;
  uint64_t seed; /* mask keys of the frames we build */
  int masked;    /* build masked frames (peer is a client) */
};

/* An empty wire; |masked| = the frames are sent by a client. */
void w_init(struct wire *w, int masked);
/* Appends raw bytes. */
void w_bytes(struct wire *w, const void *p, size_t n);
/* Appends hex digits (spaces ignored), see hex_decode(). */
void w_hex(struct wire *w, const char *hex);
/* A frame: |b0| is FIN|RSV|opcode, |form| forces a length form (0 = the
 * minimal one, 16 or 64). */
void w_frame_form(struct wire *w, uint8_t b0, const void *payload, size_t n,
                  uint8_t form);
/* A frame with the minimal length form. */
void w_frame(struct wire *w, uint8_t b0, const void *payload, size_t n);
/* A frame carrying the string |s| (without its NUL). */
void w_str(struct wire *w, uint8_t b0, const char *s);
/* A raw header (no payload) with the 4 mask bytes appended when masked. */
void w_head(struct wire *w, const char *hex);

/* First bytes for w_frame(): FIN set, with the opcode. */
#define FIN 0x80u
#define TXT (FIN | WS_OP_TEXT)
#define BIN (FIN | WS_OP_BINARY)
#define CONT_FIN (FIN | WS_OP_CONTINUATION)
#define PING (FIN | WS_OP_PING)
#define PONG (FIN | WS_OP_PONG)
#define CLOSE (FIN | WS_OP_CLOSE)

/* ------------------------------------------------------------------ */
/* Output decoding */

/* Describes |out| frame by frame, decoded as the peer of |role| would, one
 * line each: "TEXT <bytes>", "BINARY <bytes>" or "CONT <bytes>" with a "+"
 * after the name when FIN is clear ("BINARY+ ..."), "PING <bytes>",
 * "PONG <bytes>", "CLOSE <code> '<reason>'" or "CLOSE empty". <bytes> as
 * fmt_bytes writes them. Returns a malloc'd string (caller frees). */
char *describe_frames(const uint8_t *out, size_t len, enum ws_role role);

/* Calls ws_session_send until it returns 0 (which it must) and copies the
 * chunks into |out| (|cap| bytes, which must be enough). Stores each
 * chunk's size in |sizes| and their count in *nsizes, each when not NULL.
 * Returns the bytes copied. */
size_t session_drain(ws_session *s, uint8_t *out, size_t cap, size_t *sizes,
                     size_t *nsizes);

/* ------------------------------------------------------------------ */
/* Runner */

/* A scenario's session: role, options, callbacks and the session_ctx
 * behaviour. */
struct session_cfg {
  enum ws_role role;
  struct ws_session_options opt;
  const struct ws_session_callbacks *cb;
  int echo;
  uint16_t reply_code;
  uint16_t pre_close; /* queue this Close before feeding (0 = none) */
  const char *pre_reason;
};

/* Defaults: test_random masking, session_log_cb, echo on. */
void session_cfg_init(struct session_cfg *c, enum ws_role role);

/* ws_session_new that must succeed. */
ws_session *session_make(enum ws_role role,
                         const struct ws_session_callbacks *cb, void *user,
                         const struct ws_session_options *opt,
                         const struct ws_mem *mem);

/* ws_session_recv over a guard-page copy of |p|. */
ws_ssize session_recv_guarded(ws_session *s, const uint8_t *p, size_t n);

/* What a run produced. */
struct outcome {
  char log[SESSION_LOG_MAX]; /* the events, then "state ..", "action .." */
  uint8_t *out;              /* everything sent, malloc'd (caller frees) */
  size_t outlen;
  int zero_copy, copied;
};

/* Feeds |wire| to a fresh session cut at cuts[0..ncuts) (ascending), then
 * drains its output into |o|. After the pieces the log gets
 * "state <STATE> read <want_read>" and "action <should_close>"; a piece
 * the session stops in adds "ret <error>" or "stop @<bytes read>", then
 * "again <result of one more recv>". */
void session_run(const struct session_cfg *cf, const uint8_t *wire, size_t len,
                 const size_t *cuts, size_t ncuts, struct outcome *o);

/*
 * Runs |wire| whole and checks the log and the decoded output against the
 * expectations (NULL = not checked), then one byte at a time and split in
 * two at every position (every position near the ends and a stride in the
 * middle for inputs over 4 KiB), requiring the same log and output bytes.
 * Returns the whole run's outcome (free with outcome_free).
 */
struct outcome *check_splits(const struct session_cfg *cf, const uint8_t *wire,
                             size_t len, const char *want_log,
                             const char *want_out);

void outcome_free(struct outcome *o);

/* check_splits over |w|, then frees the wire and the outcome. */
void check_wire(const struct session_cfg *cf, struct wire *w,
                const char *want_log, const char *want_out);

/* ------------------------------------------------------------------ */
/* Violations */

/* A fresh wire (see w_init) holding the "ok" prefix: one TEXT frame "ok",
 * 8 bytes masked, 4 unmasked. */
void w_init_ok(struct wire *w, int masked);

/*
 * Appends a valid TEXT frame "zz" to |w| (a w_init_ok prefix and the bad
 * frame(s)) and runs it through check_splits: "ok" is echoed, |log_between|
 * and |out_before| are the log lines and output frames expected between
 * the prefix and the violation, then the one violation event (|id| with
 * |code|, |section| and |offset|, also checked against ws_violation_set),
 * the Close frame with the violation's reason, the FAILED state and
 * "close now"; "zz" is never read. Frees |w|'s bytes.
 */
void expect_violation(const struct session_cfg *cf, struct wire *w,
                      const char *log_between, const char *out_before,
                      enum ws_violation_id id, unsigned code,
                      const char *section, uint64_t offset);

#endif /* WS_TEST_SESSION_HARNESS_H */
