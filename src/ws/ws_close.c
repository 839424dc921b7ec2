/*
 * ws_close.c: Close payload rules. The code table below is the single
 * source of truth; the fail-fast test for a lone first code byte is derived
 * from it rather than written out.
 */
#include "ws_close.h"

#include <string.h>

struct range {
  uint16_t lo, hi;
};

/* RFC 6455 Section 7.4.1 defines 1000-1003 and 1007-1011; the IANA
 * registry (Section 11.7) added 1012-1014. Section 7.4.2: 0-999 are unused,
 * 1004-1006 and 1015 are reserved (1005, 1006 and 1015 MUST NOT be set as a
 * status code in a Close frame), 1016-2999 belong to future revisions and
 * extensions, 3000-3999 to libraries and frameworks (registered), 4000-4999
 * to private use. */
static const struct range valid_codes[] = {
    {1000, 1003},
    {1007, 1014},
    {3000, 4999},
};

#define NRANGES (sizeof(valid_codes) / sizeof(valid_codes[0]))

int ws_close_code_is_valid(uint16_t code) {
  for (size_t i = 0; i < NRANGES; i++)
    if (code >= valid_codes[i].lo && code <= valid_codes[i].hi)
      return 1;
  return 0;
}

int ws_close_code_is_sendable(uint16_t code) {
  return ws_close_code_is_valid(code);
}

/* Whether some valid code has |hi| as its first (most significant) byte. */
static int viable_high_byte(uint8_t hi) {
  for (size_t i = 0; i < NRANGES; i++)
    if (hi >= valid_codes[i].lo >> 8 && hi <= valid_codes[i].hi >> 8)
      return 1;
  return 0;
}

enum ws_violation_id ws_close_check_init(struct ws_close_check *c,
                                         uint64_t len) {
  c->pos = 0;
  c->code = 0;
  c->failed = 0;
  ws_utf8_init(&c->utf8, WS_UTF8_AUTO);
  /* RFC 6455 Section 5.5.1: if there is a body, its first two bytes are the
   * status code; one byte cannot be one. */
  if (len == 1) {
    c->failed = WS_V_CLOSE_PAYLOAD_1_BYTE;
    return WS_V_CLOSE_PAYLOAD_1_BYTE;
  }
  return WS_V_NONE;
}

static enum ws_violation_id fail(struct ws_close_check *c,
                                 enum ws_violation_id id, uint64_t off,
                                 uint64_t *err_offset) {
  c->failed = (uint8_t)id;
  if (err_offset)
    *err_offset = off;
  return id;
}

enum ws_violation_id ws_close_check_feed(struct ws_close_check *c,
                                         const uint8_t *p, size_t n,
                                         uint64_t *err_offset) {
  if (c->failed)
    return (enum ws_violation_id)c->failed;
  /* The status code: judge each byte as it arrives (Section 7.4). */
  while (n > 0 && c->pos < 2) {
    if (c->pos == 0) {
      c->code = (uint16_t)(*p << 8);
      if (!viable_high_byte(*p))
        return fail(c, WS_V_CLOSE_CODE_INVALID, 0, err_offset);
    } else {
      c->code = (uint16_t)(c->code | *p);
      if (!ws_close_code_is_valid(c->code))
        return fail(c, WS_V_CLOSE_CODE_INVALID, 1, err_offset);
    }
    c->pos++;
    p++;
    n--;
  }
  if (n == 0)
    return WS_V_NONE;
  /* Section 5.5.1: the reason is UTF-8; Section 8.1 makes invalid UTF-8 a
   * reason to fail the connection. The validator counts from the reason's
   * first byte, two bytes into the payload. */
  uint64_t bad;
  if (ws_utf8_feed(&c->utf8, p, n, &bad) != WS_UTF8_VALID)
    return fail(c, WS_V_CLOSE_REASON_UTF8, bad + 2, err_offset);
  c->pos += n;
  return WS_V_NONE;
}

enum ws_violation_id ws_close_check_finish(struct ws_close_check *c,
                                           uint16_t *code,
                                           uint64_t *err_offset) {
  if (c->failed)
    return (enum ws_violation_id)c->failed;
  if (c->pos == 1) /* only reachable when init was told the wrong length */
    return fail(c, WS_V_CLOSE_PAYLOAD_1_BYTE, 0, err_offset);
  if (c->pos >= 2) {
    uint64_t bad;
    if (ws_utf8_finish(&c->utf8, &bad) != WS_UTF8_VALID)
      return fail(c, WS_V_CLOSE_REASON_UTF8, bad + 2, err_offset);
  }
  if (code)
    *code = c->pos == 0 ? (uint16_t)WS_CLOSE_NO_STATUS : c->code;
  return WS_V_NONE;
}

enum ws_violation_id ws_close_parse(const uint8_t *payload, size_t len,
                                    struct ws_close_info *info,
                                    uint64_t *err_offset) {
  struct ws_close_check c;
  enum ws_violation_id v = ws_close_check_init(&c, len);
  if (v != WS_V_NONE) {
    if (err_offset)
      *err_offset = 0;
    return v;
  }
  uint16_t code = 0;
  if (len > 0 && (v = ws_close_check_feed(&c, payload, len, err_offset)))
    return v;
  if ((v = ws_close_check_finish(&c, &code, err_offset)))
    return v;
  if (info) {
    info->code = code;
    info->reason = len > 2 ? payload + 2 : NULL;
    info->reason_len = len > 2 ? len - 2 : 0;
  }
  return WS_V_NONE;
}

ws_ssize ws_close_payload_build(uint8_t *out, size_t outlen, uint16_t code,
                                const uint8_t *reason, size_t reason_len) {
  if (reason_len > 0 && reason == NULL)
    return WS_EINVAL;
  /* Section 7.1.5/7.4.1: 1005 means "no status code was present"; it is
   * sent as an empty body and can carry no reason. */
  if (code == WS_CLOSE_NO_STATUS)
    return reason_len == 0 ? 0 : WS_EINVAL;
  if (!ws_close_code_is_sendable(code))
    return WS_EINVAL;
  if (reason_len > WS_CLOSE_REASON_MAX)
    return WS_ETOOBIG;
  /* Section 5.5.1: the body after the code is UTF-8. */
  if (reason_len > 0 && ws_utf8_validate(reason, reason_len, NULL) !=
                            WS_UTF8_VALID)
    return WS_EINVAL;
  if (out == NULL || outlen < 2 + reason_len)
    return WS_ENOBUFS;
  out[0] = (uint8_t)(code >> 8);
  out[1] = (uint8_t)(code & 0xff);
  if (reason_len > 0)
    memcpy(out + 2, reason, reason_len);
  return (ws_ssize)(2 + reason_len);
}
