/*
 * ws_session.h: the RFC 6455 session policy on top of the frame codec,
 * sans-I/O (the nghttp2 mem_recv / mem_send model).
 *
 * The session turns frames into messages and back, and enforces the rules
 * that span frames: fragmentation (Section 5.4), control frames (5.5),
 * UTF-8 text (5.6, 8.1), the close handshake (5.5.1, 7), message size
 * limits (7.4.1, 1009) and client masking (5.3). It does no I/O, reads no
 * clock and keeps no global state:
 *
 *   bytes from the peer ----> ws_session_recv() ----> callbacks (events)
 *   ws_session_queue_*() ---> output queue -----> ws_session_send() --->
 *                                                     bytes for the peer
 *
 * Typical I/O loop:
 *
 *   n = read(fd, buf, sizeof buf);          // buf is modified in place
 *   r = ws_session_recv(s, buf, n);         // fires callbacks
 *   while ((m = ws_session_send(s, &p)) > 0)
 *     write_all(fd, p, m);                  // p valid until the next call
 *   if (ws_session_should_close(s)) ...     // see that function
 *
 * Protocol violations by the peer. Each one produces exactly one
 * on_violation event carrying a struct ws_violation (id, close code, RFC
 * section, reason, stream offset of the offending byte). The session then
 * fails the connection (Section 7.1.7): it queues a Close frame with the
 * violation's close code and reason behind whatever output was already
 * queued (so an echo queued before the bad frame still goes out, as
 * Autobahn 3.2 and 5.15 expect), stops reading, moves to
 * WS_SESSION_FAILED, and ws_session_should_close() turns true once the
 * output is flushed. The ws_session_recv call that met the violation
 * returns WS_EPROTO.
 *
 * Stream offsets count every byte given to ws_session_recv since
 * ws_session_new (the first byte after the opening handshake is 0).
 *
 * Violations the session itself detects, and their offsets:
 *   CONTINUATION_WITHOUT_START  byte 0 of the continuation frame
 *   DATA_DURING_FRAGMENTED      byte 0 of the TEXT/BINARY frame
 *   MESSAGE_TOO_BIG             byte 1 of the frame whose length takes the
 *                               message over max_message_size
 *   INVALID_UTF8                the first byte that cannot continue valid
 *                               UTF-8; for a message ending inside a code
 *                               point, the stream offset just past the last
 *                               payload byte of the final frame
 *   CLOSE_PAYLOAD_1_BYTE        byte 1 of the Close frame (its length)
 *   CLOSE_CODE_INVALID          the code byte that made it invalid (see
 *                               ws_close.h)
 *   CLOSE_REASON_UTF8           as INVALID_UTF8, within the reason
 * plus every codec violation of ws_frame.h (RSV bits, opcodes, masking,
 * lengths, control frame rules, max_frame_size), with the codec's offsets.
 * All are detected as soon as the offending byte arrives (fail fast), so
 * the events do not depend on how the input was split. WS_V_DATA_AFTER_CLOSE
 * is never reported: bytes after the peer's Close are not read at all.
 */
#ifndef WS_SESSION_H
#define WS_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "../core/ws_core.h"
#include "ws_frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The session handle; create with ws_session_new, free with ws_session_del. */
typedef struct ws_session ws_session;

/*
 * Session states. "Sent" means queued: once our Close is queued nothing
 * may be queued after it, whether or not ws_session_send has returned it.
 */
enum ws_session_state {
  WS_SESSION_OPEN = 0,        /* messages flow both ways */
  WS_SESSION_CLOSE_SENT,      /* our Close is queued; the peer's is due.
                                 Incoming messages are still delivered
                                 (Section 5.5.1: the peer may send until it
                                 sees our Close) */
  WS_SESSION_CLOSE_RECEIVED,  /* the peer's Close arrived and no reply is
                                 queued yet; seen only inside on_close */
  WS_SESSION_CLOSED,          /* both Close frames exchanged (ours may still
                                 be waiting in the output queue) */
  WS_SESSION_FAILED           /* we failed the connection: a violation, or
                                 WS_ENOMEM inside ws_session_recv */
};

/*
 * Event callbacks. Any of them may be NULL. Each receives the session first
 * and the |user_data| of ws_session_new last, and returns 0, or non-zero to
 * make the current ws_session_* call return WS_ECALLBACK (see
 * ws_session_recv for what that does to the session).
 *
 * Inside a callback the application may call ws_session_queue_*,
 * ws_session_send and the query functions, but not ws_session_recv or
 * ws_session_del. Pointers given to a callback are valid only until it
 * returns; so are bytes that ws_session_send returns inside a callback.
 *
 * New members are only ever appended; zero-initialise the struct (for
 * example with a designated initialiser) so that they stay NULL.
 */
struct ws_session_callbacks {
  /*
   * A complete data message: |opcode| is WS_OP_TEXT (already checked to be
   * valid UTF-8) or WS_OP_BINARY. When a message is one frame whose payload
   * arrived within one ws_session_recv call, |data| points straight into
   * that call's input buffer (zero copy); otherwise into the session's
   * assembly buffer. Not called when on_message_data is set.
   */
  int (*on_message)(ws_session *s, enum ws_opcode opcode,
                    const uint8_t *data, size_t len, void *user_data);
  /* A Ping's payload (0..125 bytes). With auto_pong on, the Pong reply is
   * already queued when this runs. */
  int (*on_ping)(ws_session *s, const uint8_t *data, size_t len,
                 void *user_data);
  /* A Pong's payload (0..125 bytes), solicited or not (Section 5.5.3). */
  int (*on_pong)(ws_session *s, const uint8_t *data, size_t len,
                 void *user_data);
  /*
   * The peer's valid Close: |code| is WS_CLOSE_NO_STATUS (1005) when the
   * payload was empty, |reason| the UTF-8 reason (len 0..123, not
   * NUL-terminated). When we had not sent a Close yet, the state is
   * WS_SESSION_CLOSE_RECEIVED during the call and the callback may queue
   * its own reply with ws_session_queue_close; if it does not, the session
   * replies by echoing |code| (empty payload for 1005) after it returns.
   * When our Close was already queued, the state is WS_SESSION_CLOSED.
   */
  int (*on_close)(ws_session *s, uint16_t code, const uint8_t *reason,
                  size_t len, void *user_data);
  /* A protocol violation by the peer; |v| is valid during the call and a
   * copy stays available through ws_session_get_violation. Called at most
   * once per session. */
  int (*on_violation)(ws_session *s, const struct ws_violation *v,
                      void *user_data);
  /*
   * Streaming delivery, chosen by setting on_message_data: the session
   * then keeps no assembly buffer and never calls on_message. A message is
   * on_message_begin, then on_message_data for every piece of payload as
   * it arrives (TEXT pieces are UTF-8-checked before delivery and may end
   * inside a code point), then on_message_end, unless a violation or a
   * Close ends the session first. max_message_size still applies (set it
   * to 0 for no limit). Pieces of an empty message: none.
   */
  int (*on_message_begin)(ws_session *s, enum ws_opcode opcode,
                          void *user_data);
  int (*on_message_data)(ws_session *s, const uint8_t *data, size_t len,
                         void *user_data);
  int (*on_message_end)(ws_session *s, void *user_data);
};

/* Options; fill with ws_session_options_default, then change fields. */
struct ws_session_options {
  /* Largest incoming frame payload; 0 = no limit. Over it: the codec's
   * WS_V_FRAME_TOO_BIG (1009), raised at the frame header. */
  uint64_t max_frame_size;
  /* Largest incoming message (sum of its frames' payloads); default
   * 64 MiB, 0 = no limit. Over it: WS_V_MESSAGE_TOO_BIG (1009), raised as
   * soon as a frame header announces a length that would exceed it,
   * before any of that frame's payload is buffered. */
  uint64_t max_message_size;
  /* Outgoing data messages are cut into frames of at most this many
   * payload bytes; 0 (default) = one frame per message. */
  size_t fragment_size;
  /* ws_session_send returns at most this many bytes of data frames per
   * call (whole frames when they fit, else a slice of one frame); default
   * 64 KiB, 0 = everything pending. Control frames can jump ahead of
   * queued data frames between calls, at frame boundaries only. */
  size_t send_chunk_size;
  /* 1 (default): answer every Ping with a Pong carrying its exact payload
   * (Section 5.5.2). A Pong not yet returned by ws_session_send is
   * replaced by the reply to a newer Ping (Section 5.5.3 allows answering
   * only the most recent one). */
  uint8_t auto_pong;
  /* RSV bits (WS_BIT_RSV1..3) a negotiated extension permits on incoming
   * frames; default 0. The session does not interpret them. */
  uint8_t allowed_rsv;
  /* Client mask keys (one fresh key per frame, Section 5.3); default
   * ws_random_default. Unused by a server. */
  ws_random_fn random;
  void *random_user;
};

/* Fills |opt| with the defaults documented above. */
void ws_session_options_default(struct ws_session_options *opt);

/*
 * Creates a session for |role| (the opening handshake is done; the next
 * byte to arrive is the first frame's). |cb| is copied (NULL = no
 * callbacks), as is |opt| (NULL = defaults); |user_data| is passed to every
 * callback. Every allocation goes through |mem| (NULL = the C library),
 * which must outlive the session.
 *
 * Returns 0 and stores the session in *out, or:
 *   WS_EINVAL  |out| is NULL, |role| is unknown, or an option is out of
 *              range (allowed_rsv outside WS_MASK_RSV)
 *   WS_ENOMEM  the allocator failed (*out is not changed)
 */
int ws_session_new(ws_session **out, enum ws_role role,
                   const struct ws_session_callbacks *cb, void *user_data,
                   const struct ws_session_options *opt,
                   const struct ws_mem *mem);

/* Frees the session and everything it owns, queued output included.
 * NULL is a no-op. Must not be called from a callback. */
void ws_session_del(ws_session *s);

/*
 * Processes |inlen| bytes received from the peer, firing callbacks.
 *
 * The session unmasks payload in place: the caller's |in| is modified, and
 * must stay writable and unchanged by others during the call. Nothing of
 * |in| is kept after the call returns. Input may be split anywhere; events
 * and output are the same however it is split.
 *
 * Returns the number of bytes consumed, which is |inlen| except when the
 * peer's Close frame ends inside |in|: then the bytes up to the end of
 * that frame. Bytes after the peer's Close are never read (RFC 6455
 * Section 5.5.1: the peer sends nothing after it). Or:
 *
 *   WS_EPROTO    the peer broke a rule: on_violation has fired, the Close
 *                is queued (unless ours was queued already, or a client's
 *                mask source failed: then none), the state is
 *                WS_SESSION_FAILED. Events for the bytes before the
 *                offending one were all delivered; the offending byte is at
 *                violation.offset; nothing after it was read.
 *   WS_ECLOSED   the session no longer reads (state CLOSED or FAILED);
 *                nothing was consumed.
 *   WS_ECALLBACK a callback returned non-zero. The read side stops: later
 *                calls return WS_ECALLBACK again and consume nothing. The
 *                write side still works, so the application may queue a
 *                Close (for example 1011) and flush it. When on_violation
 *                fails, the violation handling above still took place.
 *   WS_ERANDOM   a client's mask key for an automatic Pong or Close reply
 *                could not be drawn; the read side stops as for
 *                WS_ECALLBACK.
 *   WS_ENOMEM    assembling a message failed; the session is FAILED with
 *                no Close queued, should_close is true, and every later
 *                call except ws_session_del returns WS_ENOMEM.
 *   WS_ESTATE    called from a callback.
 *   WS_EINVAL    |s| is NULL, or |in| is NULL with |inlen| > 0.
 */
ws_ssize ws_session_recv(ws_session *s, uint8_t *in, size_t inlen);

/*
 * Takes the next pending output. Stores in *out a pointer to bytes to write
 * to the peer and returns their number; 0 when nothing is pending (*out is
 * then NULL). The bytes count as sent: the session forgets them, and the
 * pointer stays valid only until the next call of any ws_session_*
 * function on |s| (like nghttp2_session_mem_send2).
 *
 * Order: queued control frames (Ping, Pong) first, as long as no data
 * frame is half-returned; then data frames (at most send_chunk_size bytes
 * per call); our Close last of all.
 *
 * Returns the length, or WS_EINVAL (NULL argument), or WS_ENOMEM after a
 * fatal WS_ENOMEM in ws_session_recv.
 */
ws_ssize ws_session_send(ws_session *s, const uint8_t **out);

/*
 * Queues a data message, copying |data| (which the caller keeps). With
 * fragment_size set it becomes several frames; a client masks each frame
 * with a fresh key. |data| may point into a buffer received through
 * on_message (an echo).
 *
 * Returns 0, or:
 *   WS_EINVAL  |opcode| is not WS_OP_TEXT or WS_OP_BINARY; a TEXT message
 *              is not valid UTF-8 (the session never sends an invalid
 *              frame); |data| is NULL with |len| > 0
 *   WS_ESTATE  the state is not WS_SESSION_OPEN (our Close is queued, or
 *              the peer's arrived, or the session failed)
 *   WS_ETOOBIG the encoded message would not fit in memory (size_t)
 *   WS_ERANDOM the client mask source failed
 *   WS_ENOMEM  the allocator failed
 * On any error nothing is queued and the session is unchanged.
 */
int ws_session_queue_message(ws_session *s, enum ws_opcode opcode,
                             const uint8_t *data, size_t len);

/*
 * Queues a Ping / an unsolicited or manual Pong with |len| <= 125 payload
 * bytes (copied). Control frames go out ahead of queued data frames.
 *
 * Returns 0, or WS_ETOOBIG (|len| > 125), WS_EINVAL (NULL |data| with
 * |len| > 0), WS_ESTATE (state not WS_SESSION_OPEN), WS_ERANDOM, WS_ENOMEM.
 * On any error nothing is queued.
 */
int ws_session_queue_ping(ws_session *s, const uint8_t *data, size_t len);
int ws_session_queue_pong(ws_session *s, const uint8_t *data, size_t len);

/*
 * Starts the closing handshake (Section 7.1.2), or replies to the peer's
 * Close when called from on_close. |code| must be sendable (see
 * ws_close_code_is_sendable: 1000-1003, 1007-1014, 3000-4999), or
 * WS_CLOSE_NO_STATUS (1005) with no reason for an empty Close. |reason| is UTF-8, at most 123 bytes, copied.
 * The Close goes out after everything already queued; afterwards nothing
 * more can be queued.
 *
 * State: OPEN -> CLOSE_SENT (the peer's Close is then due);
 * CLOSE_RECEIVED -> CLOSED. Queuing never allocates.
 *
 * Returns 0, or:
 *   WS_EINVAL   bad code, reason not UTF-8, reason with 1005, NULL |reason|
 *               with |len| > 0
 *   WS_ETOOBIG  |len| > 123
 *   WS_ESTATE   a Close is already queued, or the session failed
 *   WS_ERANDOM  the client mask source failed (nothing queued)
 */
int ws_session_queue_close(ws_session *s, uint16_t code,
                           const uint8_t *reason, size_t len);

/* Returns 1 while the session expects input (OPEN or CLOSE_SENT, and the
 * read side has not stopped), 0 otherwise. */
int ws_session_want_read(const ws_session *s);

/* Returns 1 while ws_session_send has bytes to return, 0 otherwise. */
int ws_session_want_write(const ws_session *s);

/* Returns the current state. */
enum ws_session_state ws_session_get_state(const ws_session *s);

/* Values of ws_session_should_close. */
enum ws_session_close_action {
  WS_SESSION_KEEP_OPEN = 0,     /* keep the transport */
  WS_SESSION_CLOSE_NOW = 1,     /* close the TCP connection now */
  WS_SESSION_CLOSE_AWAIT = 2    /* client only: wait for the server to
                                   close TCP; close it yourself after a
                                   timeout */
};

/*
 * Tells the I/O layer whether to close the transport. Non-zero only when
 * all output is flushed (ws_session_want_write is 0), except after a fatal
 * WS_ENOMEM, which gives WS_SESSION_CLOSE_NOW at once:
 *   - after the closing handshake completed (both Close frames exchanged):
 *     a server gets WS_SESSION_CLOSE_NOW (RFC 6455 Section 7.1.1: the
 *     server closes TCP first); a client gets WS_SESSION_CLOSE_AWAIT: it
 *     should wait, with a timer of its own, for the server's TCP close and
 *     close only when the timer fires;
 *   - after the session failed the connection (a violation):
 *     WS_SESSION_CLOSE_NOW for both roles (Section 7.1.7).
 * Returns WS_SESSION_KEEP_OPEN otherwise (also for NULL).
 */
int ws_session_should_close(const ws_session *s);

/* Returns the violation that failed the session, or NULL when none did.
 * The pointer lives as long as the session. */
const struct ws_violation *ws_session_get_violation(const ws_session *s);

#ifdef __cplusplus
}
#endif

#endif /* WS_SESSION_H */
