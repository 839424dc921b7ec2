/*
 * ws_frame.c: the RFC 6455 Section 5 frame codec.
 *
 * Decoder. Every call returns at most one chunk. The common case, a small
 * frame wholly in the caller's buffer that breaks no rule, is handled at
 * the top of ws_decoder_decode: one test for all the header rules, one
 * unmask, one chunk with first = last = 1. Everything else goes to the
 * exact path, decode_slow, a state machine with one function per state:
 * read_head (a whole header in |in|, else gather_head, which collects a
 * header split across calls in d->hbuf) and pass_payload, which hands out
 * payload in place. The exact path is the one that names violations; the
 * fast path only ever declines, so both agree by construction.
 *
 * Rules are judged as soon as the bytes they depend on are known, and in
 * wire order, so the reported violation and its offset do not depend on
 * how the input was split:
 *
 *   byte 0:  RSV bits, reserved opcode, fragmented control frame
 *   byte 1:  MASK bit against the role, control frame length, and the
 *            size limit when the length fits in 7 bits
 *   ext len: top bit of the 64-bit form (reported at the first extended
 *            byte), then non-minimal form and size limit (reported at
 *            byte 1, the byte that chose the form)
 *
 * The payload length stays a uint64_t throughout; it is narrowed to size_t
 * only after being compared with the size_t count of input bytes left.
 */
#include "ws_frame.h"

#include <stddef.h>
#include <string.h>

#include "ws_mask.h"

enum { ST_HEAD = 0, ST_PAYLOAD = 1, ST_FAILED = 2 };

/* Opcodes RFC 6455 Section 5.2 defines (0-2, 8-10), one bit per opcode. */
#define OPCODES_DEFINED 0x0707u

#if defined(__GNUC__) || defined(__clang__)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define noinline __attribute__((noinline))
#else
#define unlikely(x) (x)
#define noinline
#endif

void ws_decoder_config_default(struct ws_decoder_config *c,
                               enum ws_role role) {
  if (!c)
    return;
  memset(c, 0, sizeof(*c));
  c->role = role;
}

void ws_decoder_init(struct ws_decoder *d, const struct ws_decoder_config *c) {
  if (!d)
    return;
  memset(d, 0, sizeof(*d));
  if (c)
    d->config = *c;
  else
    ws_decoder_config_default(&d->config, WS_ROLE_SERVER);
  d->state = ST_HEAD;
}

/* Extended length bytes announced by the 7-bit length field. */
static inline size_t ext_len(uint8_t b1) {
  unsigned l7 = b1 & WS_MASK_LEN7;
  return l7 == 126 ? 2 : l7 == 127 ? 8 : 0;
}

/* Whole header size, known from byte 1 alone. */
static inline size_t head_len(uint8_t b1) {
  return 2 + ext_len(b1) + ((b1 & WS_BIT_MASK) ? 4 : 0);
}

/* The payload length; reads only the bytes ext_len(p[1]) promises. */
static inline uint64_t read_len(const uint8_t *p) {
  unsigned l7 = p[1] & WS_MASK_LEN7;
  if (l7 < 126)
    return l7;
  if (l7 == 126)
    return (uint64_t)p[2] << 8 | p[3];
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[2 + i];
  return v;
}

static enum ws_violation_id check_byte0(const struct ws_decoder_config *c,
                                        uint8_t b0) {
  unsigned op = b0 & WS_MASK_OPCODE;
  /* RFC 6455 Section 5.2: RSV1-3 must be 0 unless a negotiated extension
   * gives them a meaning. */
  if (b0 & WS_MASK_RSV & ~c->allowed_rsv)
    return WS_V_RSV_BITS;
  /* RFC 6455 Section 5.2: opcodes 3-7 and 11-15 are reserved; an unknown
   * opcode fails the connection. Judged before FIN because a reserved
   * opcode has no control-frame rules to break. */
  if (!((OPCODES_DEFINED >> op) & 1u))
    return WS_V_RESERVED_OPCODE;
  /* RFC 6455 Section 5.5: control frames must not be fragmented. */
  if (WS_OP_IS_CONTROL(op) && !(b0 & WS_BIT_FIN))
    return WS_V_CONTROL_FRAGMENTED;
  return WS_V_NONE;
}

static enum ws_violation_id check_byte1(const struct ws_decoder_config *c,
                                        uint8_t b0, uint8_t b1) {
  unsigned l7 = b1 & WS_MASK_LEN7;
  /* RFC 6455 Section 5.1: a server closes on an unmasked frame, a client
   * on a masked one. */
  if (c->role == WS_ROLE_CLIENT) {
    if (b1 & WS_BIT_MASK)
      return WS_V_MASKED_SERVER_FRAME;
  } else if (!(b1 & WS_BIT_MASK)) {
    return WS_V_UNMASKED_CLIENT_FRAME;
  }
  /* RFC 6455 Section 5.5: control payloads are 125 bytes or less. An
   * extended form carries either more than 125 or a non-minimal length
   * (Section 5.2), so byte 1 settles it without waiting for the extended
   * bytes, even when allow_nonminimal_length is set. */
  if (WS_OP_IS_CONTROL(b0) && l7 > WS_CONTROL_MAX)
    return WS_V_CONTROL_TOO_LONG;
  if (l7 <= WS_CONTROL_MAX && c->max_frame_size && l7 > c->max_frame_size)
    return WS_V_FRAME_TOO_BIG;
  return WS_V_NONE;
}

/* Rules on an extended length. *at gets the offending byte's offset
 * within the header. */
static enum ws_violation_id check_ext(const struct ws_decoder_config *c,
                                      uint8_t b1, uint64_t len,
                                      unsigned *at) {
  unsigned l7 = b1 & WS_MASK_LEN7;
  /* RFC 6455 Section 5.2: the most significant bit of the 64-bit length
   * must be 0. */
  if (l7 == 127 && (len >> 63)) {
    *at = 2;
    return WS_V_LENGTH_MSB;
  }
  *at = 1;
  /* RFC 6455 Section 5.2: "the minimal number of bytes MUST be used to
   * encode the length". */
  if (!c->allow_nonminimal_length &&
      ((l7 == 126 && len <= WS_CONTROL_MAX) || (l7 == 127 && len <= 0xffff)))
    return WS_V_LENGTH_NOT_MINIMAL;
  if (c->max_frame_size && len > c->max_frame_size)
    return WS_V_FRAME_TOO_BIG;
  return WS_V_NONE;
}

static int fail(struct ws_decoder *d, enum ws_violation_id id,
                uint64_t offset) {
  ws_violation_set(&d->violation, id, offset);
  d->state = ST_FAILED;
  return WS_EPROTO;
}

/* Publishes the checked header |p| (head_len(p[1]) bytes) as the current
 * frame. */
static inline void set_head(struct ws_decoder *d, const uint8_t *p,
                            uint64_t len, size_t hlen) {
  struct ws_frame_header *h = &d->header;
  uint8_t b0 = p[0], b1 = p[1];
  h->fin = b0 >> 7;
  h->rsv = b0 & WS_MASK_RSV;
  h->opcode = b0 & WS_MASK_OPCODE;
  h->masked = b1 >> 7;
  if (h->masked)
    memcpy(h->mask, p + hlen - 4, 4);
  else
    memset(h->mask, 0, 4);
  h->length = len;
  h->header_len = (uint8_t)hlen;
  h->length_form = (uint8_t)(ext_len(b1) == 0 ? 7 : ext_len(b1) == 2 ? 16 : 64);
  d->remaining = len;
  d->frame_pos = 0;
  d->have = 0;
  d->need = 0;
  d->state = ST_PAYLOAD;
}

/* The slow path: a header that straddles calls is gathered into d->hbuf
 * one byte at a time (at most 14), judging each rule when its last byte
 * arrives. |start| is the stream offset of header byte 0. */
static int gather_head(struct ws_decoder *d, const uint8_t *in, size_t inlen,
                       size_t *used) {
  uint64_t start = d->pos - d->have;
  enum ws_violation_id v;
  size_t i = 0;
  while (i < inlen) {
    d->hbuf[d->have++] = in[i++];
    *used = i;
    if (d->have == 1) {
      if ((v = check_byte0(&d->config, d->hbuf[0])) != WS_V_NONE)
        return fail(d, v, start);
      d->need = 2;
      continue;
    }
    uint8_t b1 = d->hbuf[1];
    if (d->have == 2) {
      if ((v = check_byte1(&d->config, d->hbuf[0], b1)) != WS_V_NONE)
        return fail(d, v, start + 1);
      d->need = (uint8_t)head_len(b1);
    }
    if (ext_len(b1) && d->have == 2 + ext_len(b1)) {
      unsigned at;
      v = check_ext(&d->config, b1, read_len(d->hbuf), &at);
      if (v != WS_V_NONE)
        return fail(d, v, start + at);
    }
    if (d->have == d->need) {
      set_head(d, d->hbuf, read_len(d->hbuf), d->need);
      return 1;
    }
  }
  return 0;
}

/* Returns 1 with the header published, 0 when all |in| went into hbuf, or
 * WS_EPROTO. *used gets the bytes taken from |in|. This is the exact path:
 * it names the first rule broken, in the order of the file comment. */
static int read_head(struct ws_decoder *d, const uint8_t *in, size_t inlen,
                     size_t *used) {
  if (d->have == 0 && inlen >= 2 && inlen >= head_len(in[1])) {
    uint8_t b0 = in[0], b1 = in[1];
    enum ws_violation_id v;
    if ((v = check_byte0(&d->config, b0)) != WS_V_NONE) {
      *used = 1;
      return fail(d, v, d->pos);
    }
    if ((v = check_byte1(&d->config, b0, b1)) != WS_V_NONE) {
      *used = 2;
      return fail(d, v, d->pos + 1);
    }
    uint64_t len = read_len(in);
    if (ext_len(b1)) {
      unsigned at;
      if ((v = check_ext(&d->config, b1, len, &at)) != WS_V_NONE) {
        *used = 2 + ext_len(b1);
        return fail(d, v, d->pos + at);
      }
    }
    set_head(d, in, len, head_len(b1));
    *used = head_len(b1);
    return 1;
  }
  *used = 0;
  return gather_head(d, in, inlen, used);
}

/* Hands out the payload bytes of the current frame found in p[0..avail).
 * |used| bytes of this call's input precede |p|; |first| is 1 when the
 * header was completed by this call. */
static inline int pass_payload(struct ws_decoder *d, uint8_t *p, size_t avail,
                               size_t used, int first, size_t *consumed,
                               struct ws_frame_chunk *out) {
  /* Compare in 64 bits, narrow after: avail fits size_t, so does n. n is
   * 0 only on a first chunk (the caller returns early on empty input, and
   * remaining > 0 in ST_PAYLOAD). */
  size_t n = d->remaining < (uint64_t)avail ? (size_t)d->remaining : avail;
  /* RFC 6455 Section 5.3: payload byte i is XORed with key[i mod 4], i
   * counted from the frame's first payload byte, so a chunk starts at key
   * phase frame_pos mod 4. */
  if (n && d->header.masked && !d->config.skip_unmask)
    ws_mask_apply(p, n, d->header.mask, (size_t)(d->frame_pos & 3));
  out->header = &d->header;
  out->data = p;
  out->len = n;
  out->frame_offset = d->frame_pos;
  out->first = (uint8_t)first;
  d->frame_pos += n;
  d->remaining -= n;
  out->last = d->remaining == 0;
  if (out->last)
    d->state = ST_HEAD;
  *consumed = used + n;
  d->pos += used + n;
  return 1;
}

/* First header bytes the fast path takes, one bit each (bit b0 & 31 of
 * word b0 >> 5): RSV bits clear, opcode 0-2 with or without FIN, opcode
 * 8-10 only with FIN (RFC 6455 Sections 5.2 and 5.5). Negotiated RSV bits
 * are cleared from b0 before the lookup. */
static const uint32_t byte0_ok[8] = {0x00000007u, 0, 0, 0,
                                     0x00000707u, 0, 0, 0};

/* Byte 0 split into the first fields of struct ws_frame_header (fin, rsv,
 * opcode), copied as one 4-byte word; the fourth byte lands on |masked|,
 * which is written next. */
#define F1(b)                                                                 \
  { (uint8_t)((b) >> 7), (uint8_t)((b)&0x70), (uint8_t)((b)&0x0f), 0 }
#define F4(b) F1(b), F1((b) + 1), F1((b) + 2), F1((b) + 3)
#define F16(b) F4(b), F4((b) + 4), F4((b) + 8), F4((b) + 12)
#define F64(b) F16(b), F16((b) + 16), F16((b) + 32), F16((b) + 48)
static const uint8_t byte0_fields[256][4] = {F64(0), F64(64), F64(128),
                                             F64(192)};
_Static_assert(offsetof(struct ws_frame_header, fin) == 0 &&
                   offsetof(struct ws_frame_header, rsv) == 1 &&
                   offsetof(struct ws_frame_header, opcode) == 2 &&
                   offsetof(struct ws_frame_header, masked) == 3,
               "byte0_fields is copied over fin, rsv, opcode, masked");

/* Everything the fast path declines: headers split across calls or
 * breaking a rule, extended lengths, payload continuing from an earlier
 * call, frames not wholly in |in|. Out of line, so the fast path needs few
 * registers. */
static noinline int decode_slow(struct ws_decoder *d, uint8_t *in,
                                size_t inlen, size_t *consumed,
                                struct ws_frame_chunk *out) {
  size_t used = 0;
  *consumed = 0;
  if (d->state == ST_FAILED)
    return WS_EPROTO;
  if (inlen == 0)
    return 0;
  if (d->state == ST_HEAD) {
    int r = read_head(d, in, inlen, &used);
    if (r != 1) {
      *consumed = used;
      d->pos += used;
      return r;
    }
    return pass_payload(d, in + used, inlen - used, used, 1, consumed, out);
  }
  return pass_payload(d, in, inlen, 0, 0, consumed, out);
}

int ws_decoder_decode(struct ws_decoder *d, uint8_t *in, size_t inlen,
                      size_t *consumed, struct ws_frame_chunk *out) {
  if (unlikely(!d || !consumed || !out || (!in && inlen))) {
    if (consumed)
      *consumed = 0;
    return WS_EINVAL;
  }
  /* The fast path: a whole frame with a 7-bit length at the start of |in|,
   * breaking no rule. The rules of check_byte0 and check_byte1 are folded
   * into one test (a 7-bit length is always minimal and never too long for
   * a control frame); anything else goes to the exact path, which names the
   * rule. Nothing is changed before the decision. */
  if (d->state == ST_HEAD && d->have == 0 && inlen >= 2) {
    const struct ws_decoder_config *c = &d->config;
    unsigned b0 = in[0];
    unsigned k = b0 & ~(c->allowed_rsv & WS_MASK_RSV);
    /* RFC 6455 Section 5.1: MASK as the role requires. XORing it out of
     * byte 1 leaves the 7-bit length when it is right and 128 or more when
     * it is wrong, so one comparison also rules out the extended forms
     * (and with them control frames over 125 bytes). */
    unsigned want = c->role == WS_ROLE_CLIENT ? 0 : WS_BIT_MASK;
    size_t l7 = in[1] ^ want;
    size_t hl = want ? 6 : 2;
    if (l7 <= WS_CONTROL_MAX && ((byte0_ok[k >> 5] >> (k & 31)) & 1) &&
        inlen >= hl + l7 &&
        (c->max_frame_size == 0 || l7 <= c->max_frame_size)) {
      struct ws_frame_header *h = &d->header;
      uint8_t *p = in + hl;
      /* fin, rsv, opcode from one table row, then masked. */
      memcpy(h, byte0_fields[b0], 4);
      h->masked = want != 0;
      /* A client decoder never sees a key (the role rule), so its
       * h->mask stays as ws_decoder_init left it: zero. */
      if (want)
        memcpy(h->mask, in + 2, 4);
      h->length = l7;
      h->header_len = (uint8_t)hl;
      h->length_form = 7;
      /* The state stays ST_HEAD, where remaining and frame_pos are not
       * read (set_head resets them), so they are not written. */
      d->pos += hl + l7;
      *consumed = hl + l7;
      out->header = h;
      out->data = p;
      out->len = l7;
      out->frame_offset = 0;
      out->first = 1;
      out->last = 1;
      /* RFC 6455 Section 5.3: unmask, key phase 0 at payload byte 0. Last,
       * so nothing needs to survive the call. */
      if (want && l7 && !c->skip_unmask)
        ws_mask_apply(p, l7, h->mask, 0);
      return 1;
    }
  }
  return decode_slow(d, in, inlen, consumed, out);
}

/* Encoder. */

/* The length form to write: the forced one when it can hold the length,
 * else the minimal one (RFC 6455 Section 5.2). */
static unsigned pick_form(const struct ws_frame_header *h) {
  uint64_t n = h->length;
  if (h->length_form == 64)
    return 64;
  if (h->length_form == 16 && n <= 0xffff)
    return 16;
  return n <= WS_CONTROL_MAX ? 7 : n <= 0xffff ? 16 : 64;
}

static size_t head_size(const struct ws_frame_header *h) {
  unsigned form = pick_form(h);
  return (size_t)(form == 7 ? 2 : form == 16 ? 4 : 10) + (h->masked ? 4 : 0);
}

size_t ws_frame_encoded_size(const struct ws_frame_header *h) {
  if (!h)
    return 0;
  size_t hl = head_size(h);
  if (h->length > (uint64_t)(SIZE_MAX - hl))
    return 0;
  return hl + (size_t)h->length;
}

size_t ws_frame_header_encode(uint8_t *out, const struct ws_frame_header *h) {
  if (!out || !h)
    return 0;
  unsigned form = pick_form(h);
  uint8_t m = h->masked ? WS_BIT_MASK : 0;
  uint64_t len = h->length;
  size_t n;
  out[0] = (uint8_t)((h->fin ? WS_BIT_FIN : 0) | (h->rsv & WS_MASK_RSV) |
                     (h->opcode & WS_MASK_OPCODE));
  if (form == 7) {
    out[1] = (uint8_t)(m | len);
    n = 2;
  } else if (form == 16) {
    out[1] = (uint8_t)(m | 126);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    n = 4;
  } else {
    out[1] = (uint8_t)(m | 127);
    for (int i = 0; i < 8; i++)
      out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    n = 10;
  }
  if (m) {
    memcpy(out + n, h->mask, 4);
    n += 4;
  }
  return n;
}

ws_ssize ws_frame_encode(uint8_t *out, size_t outlen, struct ws_frame_header *h,
                         const uint8_t *payload, ws_random_fn random,
                         void *random_user) {
  if (!out || !h || (!payload && h->length))
    return WS_EINVAL;
  if (h->opcode > WS_MASK_OPCODE || (h->rsv & ~WS_MASK_RSV))
    return WS_EINVAL;
  if (h->length_form != 0 && h->length_form != 7 && h->length_form != 16 &&
      h->length_form != 64)
    return WS_EINVAL;
  size_t need = ws_frame_encoded_size(h);
  if (need == 0 || need > (size_t)PTRDIFF_MAX)
    return WS_EINVAL;
  if (outlen < need)
    return WS_ENOBUFS;
  if (h->masked && random) {
    /* RFC 6455 Section 5.3: a fresh, unpredictable key for every frame.
     * Drawn into a copy so a failing source leaves h->mask as it was. */
    uint8_t key[4];
    if (random(key, 4, random_user) != 0)
      return WS_ERANDOM;
    memcpy(h->mask, key, 4);
  }
  size_t hl = ws_frame_header_encode(out, h);
  size_t len = need - hl;
  h->header_len = (uint8_t)hl;
  if (h->masked)
    ws_mask_copy(out + hl, payload, len, h->mask, 0);
  else if (len)
    memcpy(out + hl, payload, len);
  return (ws_ssize)need;
}
