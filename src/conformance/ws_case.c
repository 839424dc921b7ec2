/*
 * ws_case.c: the pure helpers of the case model: names, payload
 * generators, Autobahn's fragmenter, the duration bound.
 */
#include "conformance/ws_case.h"

#include <string.h>

const char *ws_case_category_title(unsigned category) {
  /* Autobahn's CaseCategories; 8 and 11 are not defined there. */
  switch (category) {
  case WS_CAT_HANDSHAKE: return "Handshake";
  case WS_CAT_FRAMING: return "Framing";
  case WS_CAT_PINGS: return "Pings/Pongs";
  case WS_CAT_RESERVED_BITS: return "Reserved Bits";
  case WS_CAT_OPCODES: return "Opcodes";
  case WS_CAT_FRAGMENTATION: return "Fragmentation";
  case WS_CAT_UTF8: return "UTF-8 Handling";
  case WS_CAT_CLOSE: return "Close Handling";
  case WS_CAT_LIMITS: return "Limits/Performance";
  case WS_CAT_MISC: return "Misc";
  case WS_CAT_COMPRESSION_PAYLOADS:
    return "WebSocket Compression (different payloads)";
  case WS_CAT_COMPRESSION_PARAMETERS:
    return "WebSocket Compression (different parameters)";
  case WS_CAT_EXTENDED: return "wsspec extensions";
  default: return NULL;
  }
}

const char *ws_verdict_name(enum ws_verdict v) {
  switch (v) {
  case WS_VERDICT_OK: return "OK";
  case WS_VERDICT_NON_STRICT: return "NON-STRICT";
  case WS_VERDICT_INFORMATIONAL: return "INFORMATIONAL";
  case WS_VERDICT_UNIMPLEMENTED: return "UNIMPLEMENTED";
  case WS_VERDICT_FAILED: return "FAILED";
  case WS_VERDICT_WRONG_CODE: return "WRONG CODE";
  case WS_VERDICT_UNCLEAN: return "UNCLEAN";
  case WS_VERDICT_FAILED_BY_CLIENT: return "FAILED BY CLIENT";
  case WS_VERDICT_NONE: break;
  }
  return NULL;
}

uint64_t ws_payload_length(const struct ws_payload *p) {
  return p->kind == WS_PAYLOAD_BYTES ? p->len : p->total;
}

/* Octets [pos, pos + n) of one period of a REPEAT or COUNTER payload. */
static void put_period(const struct ws_payload *p, size_t pos, uint8_t *out,
                       size_t n) {
  if (p->kind == WS_PAYLOAD_COUNTER) {
    for (size_t i = 0; i < n; i++) out[i] = (uint8_t)(pos + i);
    return;
  }
  memcpy(out, p->data + pos, n);
}

/*
 * Octets [offset, offset + n) of a REPEAT or COUNTER payload. The rest of
 * the current period and one whole period are written out; everything
 * after is copied from the octets already written, doubling each time.
 * A 16 MiB 9.x message is then about 20 copies instead of 1.6 M copies of
 * 10 octets, which under ASan (one interceptor call each) stalled the
 * runner's loop for seconds and made it misjudge other cases' timers.
 */
static void fill_pattern(const struct ws_payload *p, uint64_t offset,
                         uint8_t *out, size_t n) {
  size_t period = p->kind == WS_PAYLOAD_COUNTER ? 256u : p->len;
  size_t pos = (size_t)(offset % period);
  size_t first = period - pos < n ? period - pos : n, have;
  put_period(p, pos, out, first);
  out += first;
  n -= first;
  if (n == 0) return;
  have = period < n ? period : n;
  put_period(p, 0, out, have);
  while (have < n) {
    size_t more = have < n - have ? have : n - have;
    memcpy(out + have, out, more); /* disjoint: [0, have) -> [have, ...) */
    have += more;
  }
}

int ws_payload_fill(const struct ws_payload *p, uint64_t offset, uint8_t *out,
                    size_t n) {
  uint64_t total = ws_payload_length(p);
  if (offset > total || n > total - offset || (out == NULL && n > 0))
    return WS_EINVAL;
  if (n == 0) return 0;
  switch (p->kind) {
  case WS_PAYLOAD_BYTES:
    memcpy(out, p->data + offset, n);
    return 0;
  case WS_PAYLOAD_REPEAT:
    if (p->len == 0 || p->data == NULL) return WS_EINVAL;
    fill_pattern(p, offset, out, n);
    return 0;
  case WS_PAYLOAD_COUNTER:
    fill_pattern(p, offset, out, n);
    return 0;
  default:
    return WS_EINVAL;
  }
}

int ws_payload_equal(const struct ws_payload *p, const uint8_t *data,
                     size_t len) {
  if (ws_payload_length(p) != len) return 0;
  if (len == 0) return 1;
  if (p->kind == WS_PAYLOAD_BYTES) return memcmp(p->data, data, len) == 0;
  /* Compare in windows, without expanding the payload. */
  uint8_t buf[256];
  for (size_t off = 0; off < len; off += sizeof(buf)) {
    size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);
    if (ws_payload_fill(p, off, buf, n) != 0) return 0;
    if (memcmp(buf, data + off, n) != 0) return 0;
  }
  return 1;
}

uint64_t ws_fragment_count(uint64_t len, uint64_t frag) {
  /* Autobahn|Python sendMessage: one frame when frag is 0 or the message
   * fits; otherwise its loop `j = i + frag; if j > n: done` sends the last
   * full fragment with FIN = 0 when frag divides len, then an empty FIN
   * frame. Both cases come to len / frag + 1 frames. */
  if (frag == 0 || len <= frag) return 1;
  return len / frag + 1;
}

int ws_fragment_get(uint64_t len, uint64_t frag, uint64_t index,
                    struct ws_fragment *out) {
  uint64_t count = ws_fragment_count(len, frag);
  if (out == NULL || index >= count) return WS_EINVAL;
  if (count == 1) {
    *out = (struct ws_fragment){.offset = 0, .length = len, .fin = 1,
                                .first = 1};
    return 0;
  }
  uint64_t off = index * frag;
  uint64_t rest = len - off;
  out->offset = off;
  out->length = rest < frag ? rest : frag;
  out->fin = index + 1 == count;
  out->first = index == 0;
  return 0;
}

uint64_t ws_case_max_duration_ms(const struct ws_case *c) {
  /* Timers start when their action runs, that is after the pauses before
   * them. After a timer fires the runner may still wait for the peer's
   * Close reply and then for the TCP close. */
  uint64_t elapsed = 0, end = 0;
  for (uint32_t i = 0; i < c->n_actions; i++) {
    const struct ws_case_action *a = &c->actions[i];
    if (a->kind == WS_ACT_PAUSE) {
      elapsed += a->ms;
    } else if (a->kind == WS_ACT_KILL_AFTER ||
               a->kind == WS_ACT_CLOSE_AFTER) {
      if (elapsed + a->ms > end) end = elapsed + a->ms;
    }
  }
  if (elapsed > end) end = elapsed;
  return end + WS_CASE_CLOSE_TIMEOUT_MS + WS_CASE_DROP_TIMEOUT_MS;
}
