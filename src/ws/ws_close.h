/*
 * ws_close.h: the rules for the payload of a Close frame (RFC 6455 Sections
 * 5.5.1, 7.1.6 and 7.4), without I/O and without allocation.
 *
 * A Close payload is either empty or a 2-byte status code in network byte
 * order followed by a UTF-8 reason:
 *
 *    0                   1                   2
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 ...
 *   +-------------------------------+-------------------------------
 *   |      status code (16 bits)    |  reason, UTF-8, 0..123 bytes
 *   +-------------------------------+-------------------------------
 *
 * Status codes, as received on the wire (Section 7.4 and the IANA
 * "WebSocket Close Code Number Registry"):
 *
 *   valid      1000-1003, 1007-1014, 3000-4999
 *   invalid    0-999, 1004 (reserved), 1005, 1006 and 1015 (reserved for
 *              local use, never on the wire), 1016-2999 (reserved for
 *              future RFCs / extensions), 5000-65535 (out of range)
 *
 * Violations are reported as enum ws_violation_id values from ws_core.h:
 *   WS_V_CLOSE_PAYLOAD_1_BYTE  a one-byte payload cannot hold a code (1002)
 *   WS_V_CLOSE_CODE_INVALID    the code is not allowed on the wire (1002)
 *   WS_V_CLOSE_REASON_UTF8     the reason is not UTF-8 (1007)
 *
 * Offsets follow the fail-fast rule of ws_utf8.h: the index, within the
 * Close payload, of the first byte at which the bytes so far stop being a
 * prefix of any valid payload. For the code 0x0000 that is 0 (no code
 * starts with the byte 0x00); for 999 = 0x03 0xE7 it is 1 (0x03 starts the
 * valid 1000); for a reason that ends inside a code point it is the payload
 * length. The payload-length limit of 125 bytes is the frame codec's rule
 * (ws_frame.h), not checked here.
 */
#ifndef WS_CLOSE_H
#define WS_CLOSE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/ws_core.h"
#include "ws_utf8.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest reason a Close frame can carry: 125 - 2 bytes of code. */
#define WS_CLOSE_REASON_MAX 123u

/*
 * Returns 1 when |code| may appear in a Close frame received from the peer
 * (1000-1003, 1007-1014, 3000-4999), 0 otherwise.
 */
int ws_close_code_is_valid(uint16_t code);

/*
 * Returns 1 when this implementation may put |code| in a Close frame it
 * sends: the same set as ws_close_code_is_valid. 1005 (no status) is not a
 * code: send an empty payload instead. Role-specific restrictions (a server
 * never sends 1010, Section 7.4.1) are the session's business.
 */
int ws_close_code_is_sendable(uint16_t code);

/* A parsed Close payload. */
struct ws_close_info {
  uint16_t code;          /* 1005 (WS_CLOSE_NO_STATUS) for an empty payload */
  const uint8_t *reason;  /* points into the payload; NULL when empty */
  size_t reason_len;      /* 0..len-2 */
};

/*
 * Parses and validates a complete Close payload of |len| bytes.
 *
 * On WS_V_NONE, *info (if not NULL) receives the code and the reason, which
 * points into |payload| and lives as long as it. On a violation *info is
 * left unspecified and *err_offset (if not NULL) receives the offset of the
 * offending byte within the payload; for WS_V_CLOSE_PAYLOAD_1_BYTE that is
 * 0, the lone byte. A NULL |payload| is allowed when |len| is 0.
 *
 * Returns WS_V_NONE, WS_V_CLOSE_PAYLOAD_1_BYTE, WS_V_CLOSE_CODE_INVALID or
 * WS_V_CLOSE_REASON_UTF8, checked in that order of bytes (a bad code is
 * reported before a bad reason because it comes first).
 */
enum ws_violation_id ws_close_parse(const uint8_t *payload, size_t len,
                                    struct ws_close_info *info,
                                    uint64_t *err_offset);

/*
 * Incremental checker, for a payload that arrives in pieces (the session
 * feeds each chunk as it comes in, so a bad code or reason fails as soon as
 * its first bad byte arrives). Treat the fields as private.
 */
struct ws_close_check {
  uint64_t pos;          /* payload bytes fed so far */
  uint16_t code;         /* assembled as the first two bytes arrive */
  uint8_t failed;        /* sticky: a violation was returned */
  struct ws_utf8 utf8;   /* the reason's validator */
};

/*
 * Starts checking a payload whose total length |len| is known from the
 * frame header. Returns WS_V_CLOSE_PAYLOAD_1_BYTE when |len| is 1 (the
 * checker is then failed and should not be fed), WS_V_NONE otherwise.
 */
enum ws_violation_id ws_close_check_init(struct ws_close_check *c,
                                         uint64_t len);

/*
 * Checks the next |n| payload bytes. Returns WS_V_NONE while the payload is
 * still a valid prefix; otherwise WS_V_CLOSE_CODE_INVALID or
 * WS_V_CLOSE_REASON_UTF8 with *err_offset (if not NULL) set to the offset
 * within the whole payload. After a violation the same violation is
 * returned again and *err_offset is not changed.
 */
enum ws_violation_id ws_close_check_feed(struct ws_close_check *c,
                                         const uint8_t *p, size_t n,
                                         uint64_t *err_offset);

/*
 * Ends the payload. Returns WS_V_NONE and stores the code (1005 when the
 * payload was empty) in *code (if not NULL), or WS_V_CLOSE_REASON_UTF8 when
 * the reason stops inside a code point (*err_offset = payload length), or
 * the violation returned earlier.
 */
enum ws_violation_id ws_close_check_finish(struct ws_close_check *c,
                                           uint16_t *code,
                                           uint64_t *err_offset);

/*
 * Writes the payload of a Close frame to send: nothing when |code| is 1005
 * (WS_CLOSE_NO_STATUS, meaning "no status code") and |reason_len| is 0,
 * otherwise the code in network byte order and the reason. |out| needs
 * 2 + reason_len bytes (at most 125).
 *
 * Returns the payload length (0..125) or:
 *   WS_EINVAL   |code| is not sendable, a reason comes with 1005, the
 *               reason is not valid UTF-8, or a NULL pointer with a
 *               non-zero length
 *   WS_ETOOBIG  |reason_len| > 123 (WS_CLOSE_REASON_MAX)
 *   WS_ENOBUFS  |outlen| is too small
 */
ws_ssize ws_close_payload_build(uint8_t *out, size_t outlen, uint16_t code,
                                const uint8_t *reason, size_t reason_len);

#ifdef __cplusplus
}
#endif

#endif /* WS_CLOSE_H */
