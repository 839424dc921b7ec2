/*
 * fuzz_frame_roundtrip: structure-aware. The input describes frames
 * (FIN, RSV, opcode, mask, payload, a forced length form, like curl's
 * WebSocketFrame.length_form); each is encoded with ws_frame_encode, the
 * frames are decoded back as one stream (whole and cut in two), and the
 * result must be what the description implies: the same header and
 * payload for a frame that breaks no rule, else exactly the violation
 * (id, offset) the rule list of ws_frame.h names. Also differential:
 * every masking path against the byte loop, and Close payloads built with
 * ws_close_payload_build against ws_close_parse and the incremental
 * checker split at every byte.
 *
 * Input:
 *   byte 0  bit 0     decoder role: 0 server, 1 client
 *           bits 1-3  allowed RSV bits
 *           bit 4     allow_nonminimal_length
 *           bits 5-6  max_frame_size: none, 125, 1000, 70000
 *           bit 7     mask keys drawn from a ws_random_fn (else as given)
 *   byte 1  where to cut the encoded stream (scaled to its length)
 *   then up to 8 frames, each:
 *     f0      FIN (bit 7), RSV (bits 4-6), opcode (bits 0-3)
 *     f1      bit 7 masked, bits 5-6 length_form (0, 7, 16, 64), bits 0-4
 *             length class n
 *     f2      length: n <= 11 or 16..30: f2; n 12..14: 256 * (n - 11) + f2;
 *             n 15: 1024 + 12 * f2 (up to 4084); n 31, for the first
 *             such frame only: 65472 + (f2 & 127), across the 16/64-bit
 *             boundary (else as 15)
 *     f3      extras: bit 0 invalid opcode (EINVAL), bit 1 invalid RSV
 *             (EINVAL), bit 2 invalid length_form (EINVAL), bit 3 one
 *             byte short (ENOBUFS), bit 4 failing random (ERANDOM), bit 5
 *             top length bit set on the wire (LENGTH_MSB), bit 6 the
 *             payload is a Close body built from code + reason, bit 7
 *             (data frames) differential check of the masking paths
 *     key     4 bytes (masked frames)
 *     payload the bytes, or for a Close body: code (2 bytes), reason
 *             length (1 byte), reason; a payload longer than the input
 *             is filled with a pattern
 */
#include "fuzz_util.h"
#include "ws/ws_close.h"
#include "ws/ws_frame.h"
#include "ws/ws_mask.h"

#define MAX_FRAMES 8
#define BIG_BASE 65472u

struct frame {
  struct ws_frame_header h; /* as given to the encoder */
  uint8_t *payload;         /* h.length bytes (malloc), unmasked */
  size_t wire_off;          /* offset of the frame in the stream */
  size_t wire_len;
  unsigned form; /* the length form on the wire: 7, 16, 64 */
  int msb;       /* the wire length has bit 63 set */
};

/* The form ws_frame_header_encode must pick (ws_frame.h): 16 honoured up
 * to 65535, 64 always, anything else minimal. */
static unsigned expect_form(uint64_t len, unsigned forced) {
  if (forced == 64)
    return 64;
  if (forced == 16 && len <= 0xffff)
    return 16;
  return len <= 125 ? 7 : len <= 0xffff ? 16 : 64;
}

/* ------------------------------------------------------------ masking */

/* Every masking entry point against the byte loop, on |p| at every key
 * phase 0..3 (ws_mask.h). */
FUZZ_NOCOV static void check_mask(const uint8_t *p, size_t n,
                                  const uint8_t key[4], size_t phase) {
  if (n == 0) {
    ws_mask_apply(NULL, 0, key, phase);
    ws_mask_copy(NULL, NULL, 0, key, phase);
    return;
  }
  uint8_t *ref = fuzz_dup(p, n), *a = fuzz_dup(p, n), *b = fuzz_dup(p, n);
  uint8_t *d = (uint8_t *)malloc(n);
  FUZZ_CHECK(d != NULL);
  ws_mask_apply_bytewise(ref, n, key, phase);
  ws_mask_apply(a, n, key, phase);
  FUZZ_CHECK(memcmp(a, ref, n) == 0);
  ws_mask_apply_portable(b, n, key, phase);
  FUZZ_CHECK(memcmp(b, ref, n) == 0);
  if (ws_mask_have_avx2()) {
    memcpy(b, p, n);
    ws_mask_apply_avx2(b, n, key, phase);
    FUZZ_CHECK(memcmp(b, ref, n) == 0);
  }
  ws_mask_copy(d, p, n, key, phase);
  FUZZ_CHECK(memcmp(d, ref, n) == 0);
  /* In place through the copy entry point, and unmasking restores. */
  ws_mask_copy(d, d, n, key, phase);
  FUZZ_CHECK(memcmp(d, p, n) == 0);
  /* Overlapping, outside the contract but handled: stays correct. */
  if (n > 1) {
    memcpy(a, p, n);
    ws_mask_copy(a + 1, a, n - 1, key, phase);
    memcpy(b, p, n - 1);
    ws_mask_apply_bytewise(b, n - 1, key, phase);
    FUZZ_CHECK(memcmp(a + 1, b, n - 1) == 0);
  }
  free(ref);
  free(a);
  free(b);
  free(d);
}

/* -------------------------------------------------------------- close */

static int ref_code_valid(uint16_t c) {
  return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) ||
         (c >= 3000 && c <= 4999);
}

/*
 * The Close rules of ws_close.h, written out: returns the violation and
 * its fail-fast offset for the payload p[0..n).
 */
FUZZ_NOCOV static enum ws_violation_id ref_close(const uint8_t *p, size_t n,
                                                 uint64_t *off) {
  if (n == 0)
    return WS_V_NONE;
  if (n == 1) {
    *off = 0;
    return WS_V_CLOSE_PAYLOAD_1_BYTE;
  }
  /* Fail fast on the first code byte when no valid code starts with it
   * (valid high bytes: 0x03 0x04 for 1000-1014, 0x0b..0x13 for
   * 3000-4999). */
  int viable = 0;
  for (unsigned lo = 0; lo < 256 && !viable; lo++)
    if (ref_code_valid((uint16_t)(p[0] << 8 | lo)))
      viable = 1;
  if (!viable) {
    *off = 0;
    return WS_V_CLOSE_CODE_INVALID;
  }
  if (!ref_code_valid((uint16_t)(p[0] << 8 | p[1]))) {
    *off = 1;
    return WS_V_CLOSE_CODE_INVALID;
  }
  size_t bad;
  int complete;
  if (!fuzz_utf8_ref(p + 2, n - 2, &bad, &complete)) {
    *off = bad + 2;
    return WS_V_CLOSE_REASON_UTF8;
  }
  if (!complete) {
    *off = n;
    return WS_V_CLOSE_REASON_UTF8;
  }
  return WS_V_NONE;
}

/* ws_close_parse and the incremental checker, cut at a few positions,
 * against the reference. */
static void check_close_payload(const uint8_t *p, size_t n) {
  uint64_t want_off = 0, off = 12345;
  enum ws_violation_id want = ref_close(p, n, &want_off);
  struct ws_close_info info;
  uint8_t *q = fuzz_dup(p, n);
  enum ws_violation_id got = ws_close_parse(q, n, &info, &off);
  FUZZ_CHECK(got == want);
  if (want != WS_V_NONE) {
    FUZZ_CHECK(off == want_off);
  } else if (n == 0) {
    FUZZ_CHECK(info.code == WS_CLOSE_NO_STATUS && info.reason == NULL &&
               info.reason_len == 0);
  } else {
    FUZZ_CHECK(info.code == (uint16_t)(p[0] << 8 | p[1]));
    FUZZ_CHECK(info.reason_len == n - 2);
    FUZZ_CHECK(n == 2 ? info.reason == NULL : info.reason == q + 2);
  }
  /* The code split, the reason split, and no split. */
  size_t cuts[5] = {1, 2, 3, n / 2 + 1, n};
  for (int ci = 0; ci < 5; ci++) {
    size_t cut = cuts[ci] < n ? cuts[ci] : n;
    struct ws_close_check c;
    uint64_t o = 777;
    uint16_t code = 0;
    enum ws_violation_id v = ws_close_check_init(&c, n);
    if (v == WS_V_NONE && cut > 0)
      v = ws_close_check_feed(&c, q, cut, &o);
    if (v == WS_V_NONE && n - cut > 0)
      v = ws_close_check_feed(&c, q + cut, n - cut, &o);
    if (v == WS_V_NONE)
      v = ws_close_check_finish(&c, &code, &o);
    FUZZ_CHECK(v == want);
    if (want == WS_V_CLOSE_PAYLOAD_1_BYTE) {
      /* Reported by init; the checker is failed and stays so. */
      FUZZ_CHECK(ws_close_check_finish(&c, &code, &o) == want);
    } else if (want != WS_V_NONE) {
      FUZZ_CHECK(o == want_off);
      /* Sticky. */
      uint64_t o2 = 999;
      FUZZ_CHECK(ws_close_check_feed(&c, q, n, &o2) == want && o2 == 999);
      FUZZ_CHECK(ws_close_check_finish(&c, NULL, NULL) == want);
    } else {
      FUZZ_CHECK(code == (n ? (uint16_t)(p[0] << 8 | p[1])
                            : (uint16_t)WS_CLOSE_NO_STATUS));
    }
  }
  free(q);
}

/* ws_close_payload_build for (code, reason) against its contract; on
 * success the built payload must parse back. Returns the length built or
 * a negative code, writing to |out| (125 bytes). */
static ws_ssize build_close(uint16_t code, const uint8_t *reason, size_t rn,
                            uint8_t *out) {
  size_t bad;
  int complete;
  ws_ssize want;
  if (code == WS_CLOSE_NO_STATUS)
    want = rn == 0 ? 0 : WS_EINVAL;
  else if (!ref_code_valid(code))
    want = WS_EINVAL;
  else if (rn > WS_CLOSE_REASON_MAX)
    want = WS_ETOOBIG;
  else if (!fuzz_utf8_ref(reason, rn, &bad, &complete) || !complete)
    want = WS_EINVAL;
  else
    want = (ws_ssize)(2 + rn);
  FUZZ_CHECK(ws_close_code_is_sendable(code) == ref_code_valid(code));
  FUZZ_CHECK(ws_close_code_is_valid(code) == ref_code_valid(code));
  uint8_t *r = fuzz_dup(reason, rn);
  ws_ssize got = ws_close_payload_build(out, WS_CONTROL_MAX, code, r, rn);
  FUZZ_CHECK(got == want);
  if (got > 0) {
    /* Too small a buffer: nothing but WS_ENOBUFS. */
    uint8_t small[WS_CONTROL_MAX];
    FUZZ_CHECK(ws_close_payload_build(small, (size_t)got - 1, code, r, rn) ==
               WS_ENOBUFS);
    struct ws_close_info info;
    FUZZ_CHECK(ws_close_parse(out, (size_t)got, &info, NULL) == WS_V_NONE);
    FUZZ_CHECK(info.code == code && info.reason_len == rn);
    FUZZ_CHECK(rn == 0 || memcmp(info.reason, reason, rn) == 0);
  }
  free(r);
  return got;
}

/* ------------------------------------------------------------- frames */

/* p[i] = i * 31 + 7 (mod 256) for i in [from, to). The pattern repeats
 * every 256 bytes, so after one period the rest is copied: a 64 KiB
 * payload byte by byte under ASan cost more than encoding and decoding
 * it. */
FUZZ_NOCOV static void fill_pattern(uint8_t *p, size_t from, size_t to) {
  size_t i = from, first = to - from < 256 ? to : from + 256;
  for (; i < first; i++)
    p[i] = (uint8_t)(i * 31 + 7);
  while (i < to) {
    size_t m = i - from < to - i ? i - from : to - i;
    memcpy(p + i, p + from, m); /* i - from is a multiple of 256 */
    i += m;
  }
}

/* wire[i] == payload[i] ^ key[i & 3] (no key: plain equality). Eight
 * bytes at a time (the key repeats every 4), for the same reason. */
FUZZ_NOCOV static int masked_equal(const uint8_t *wire, const uint8_t *p,
                                   size_t n, const uint8_t *key) {
  uint8_t k8[8];
  uint64_t kw;
  for (int j = 0; j < 8; j++)
    k8[j] = key ? key[j & 3] : 0;
  memcpy(&kw, k8, 8);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t a, b;
    memcpy(&a, wire + i, 8);
    memcpy(&b, p + i, 8);
    if (a != (b ^ kw))
      return 0;
  }
  for (; i < n; i++)
    if (wire[i] != (uint8_t)(p[i] ^ k8[i & 7]))
      return 0;
  return 1;
}

/* Reads one frame description; returns 0 when the input is exhausted.
 * Encoder-argument checks that must fail are done here, and the frame is
 * then encoded as valid arguments. */
static int read_frame(struct fuzz_reader *r, int key_from_rng, uint64_t *seed,
                      int *big_left, struct frame *f, uint8_t **wire,
                      size_t *wire_len, size_t *wire_cap) {
  static const uint8_t forms[4] = {0, 7, 16, 64};
  if (r->n == 0)
    return 0;
  uint8_t f0 = fz_u8(r), f1 = fz_u8(r), f2 = fz_u8(r), f3 = fz_u8(r);
  struct ws_frame_header *h = &f->h;
  memset(h, 0, sizeof(*h));
  h->fin = f0 >> 7;
  h->rsv = f0 & 0x70;
  h->opcode = f0 & 0x0f;
  h->masked = f1 >> 7;
  h->length_form = forms[(f1 >> 5) & 3];
  unsigned cls = f1 & 15;
  uint64_t len = cls <= 11 || (f1 & 0x10) ? f2
                 : cls <= 14              ? 256u * (cls - 11) + f2
                                          : 1024u + 12u * f2;
  if ((f1 & 0x1f) == 0x1f) {
    len = 1024u + 12u * f2;
  }
  if ((f1 & 0x1f) == 0x1f && *big_left) {
    len = BIG_BASE + (f2 & 127);
    *big_left = 0;
  }
  if (h->masked) {
    size_t got;
    const uint8_t *k = fz_take(r, 4, &got);
    memcpy(h->mask, k, got);
  }

  /* The payload: a Close body, or bytes from the input then a pattern. */
  uint8_t close_body[WS_CONTROL_MAX];
  if (f3 & 0x40) {
    uint16_t code = fz_u16(r);
    size_t rn = fz_u8(r), got;
    const uint8_t *reason = fz_take(r, rn, &got);
    ws_ssize b = build_close(code, reason, got, close_body);
    len = b > 0 ? (uint64_t)b : 0;
  }
  f->payload = (uint8_t *)malloc(len ? (size_t)len : 1);
  FUZZ_CHECK(f->payload != NULL);
  if (f3 & 0x40) {
    memcpy(f->payload, close_body, (size_t)len);
  } else {
    size_t got;
    const uint8_t *src = fz_take(r, (size_t)len, &got);
    memcpy(f->payload, src, got);
    fill_pattern(f->payload, got, (size_t)len);
  }
  h->length = len;
  if (f0 & 0x08 ? 0 : (f3 & 0x80))
    check_mask(f->payload, (size_t)len < 300 ? (size_t)len : 300, h->mask,
               f2 & 3);

  /* Argument errors first: each must leave everything untouched. */
  uint8_t scratch[WS_FRAME_HEADER_MAX + 4];
  if (f3 & 1) {
    struct ws_frame_header bad = *h;
    bad.opcode = (uint8_t)(16 + (f0 & 0x0f));
    FUZZ_CHECK(ws_frame_encode(scratch, sizeof(scratch), &bad, f->payload, NULL,
                               NULL) == WS_EINVAL);
  }
  if (f3 & 2) {
    struct ws_frame_header bad = *h;
    bad.rsv |= 1;
    FUZZ_CHECK(ws_frame_encode(scratch, sizeof(scratch), &bad, f->payload, NULL,
                               NULL) == WS_EINVAL);
  }
  if (f3 & 4) {
    struct ws_frame_header bad = *h;
    bad.length_form = (uint8_t)(8 + (f2 & 0x30));
    FUZZ_CHECK(ws_frame_encode(scratch, sizeof(scratch), &bad, f->payload, NULL,
                               NULL) == WS_EINVAL);
  }

  f->form = expect_form(len, h->length_form);
  size_t want = 2 +
                (f->form == 16   ? 2
                 : f->form == 64 ? 8
                                 : 0) +
                (h->masked ? 4 : 0) + (size_t)len;
  FUZZ_CHECK(ws_frame_encoded_size(h) == want);
  if (*wire_len + want > *wire_cap) {
    /* Doubling, but at most 4 KiB of slack: a 64 KiB frame doubled would
     * be over ASan's 128 KiB primary-allocator limit, a fresh mmap and
     * page faults on every run. */
    size_t need = *wire_len + want;
    *wire_cap = need + (need < 4096 ? need : 4096);
    uint8_t *grown = (uint8_t *)realloc(*wire, *wire_cap);
    FUZZ_CHECK(grown != NULL);
    *wire = grown;
  }
  uint8_t *out = *wire + *wire_len;
  if (f3 & 8) {
    /* Nothing written and no key drawn (ws_frame.h). */
    uint8_t before[4];
    uint64_t seed0 = *seed;
    memcpy(before, h->mask, 4);
    FUZZ_CHECK(ws_frame_encode(out, want - 1, h, f->payload, fuzz_random,
                               seed) == WS_ENOBUFS);
    FUZZ_CHECK(*seed == seed0 && memcmp(before, h->mask, 4) == 0);
  }
  if (h->masked && (f3 & 0x10)) {
    uint8_t before[4];
    memcpy(before, h->mask, 4);
    FUZZ_CHECK(ws_frame_encode(out, want, h, f->payload, fuzz_random_fail,
                               NULL) == WS_ERANDOM);
    FUZZ_CHECK(memcmp(before, h->mask, 4) == 0);
  }
  int rng = h->masked && key_from_rng;
  ws_ssize n = ws_frame_encode(out, want, h, len ? f->payload : NULL,
                               rng ? fuzz_random : NULL, rng ? seed : NULL);
  FUZZ_CHECK(n == (ws_ssize)want);
  FUZZ_CHECK(h->header_len == want - len);
  uint8_t head[WS_FRAME_HEADER_MAX];
  size_t hl = ws_frame_header_encode(head, h);
  FUZZ_CHECK(hl == h->header_len && memcmp(head, out, hl) == 0);
  /* The wire bytes, read independently of the codec. */
  FUZZ_CHECK(out[0] == ((h->fin ? 0x80 : 0) | h->rsv | h->opcode));
  unsigned l7 = out[1] & 0x7f;
  FUZZ_CHECK((out[1] >> 7) == h->masked);
  FUZZ_CHECK(l7 == (f->form == 7 ? len : f->form == 16 ? 126 : 127));
  FUZZ_CHECK(masked_equal(out + hl, f->payload, (size_t)len,
                          h->masked ? h->mask : NULL));
  f->msb = 0;
  if ((f3 & 0x20) && f->form == 64) {
    /* RFC 6455 Section 5.2: the most significant bit must be 0. The
     * header writer puts it on the wire when asked (for tests). */
    struct ws_frame_header top = *h;
    top.length |= (uint64_t)1 << 63;
    FUZZ_CHECK(ws_frame_header_encode(head, &top) == hl);
    memcpy(out, head, hl);
    FUZZ_CHECK(out[2] & 0x80);
    f->msb = 1;
  }
  f->wire_off = *wire_len;
  f->wire_len = want;
  *wire_len += want;
  return 1;
}

/* The violation frame |f| must raise under |dc|, and at which offset of
 * the frame (ws_frame.h, rules 1-9 in order). */
static enum ws_violation_id expect_violation(const struct ws_decoder_config *dc,
                                             const struct frame *f,
                                             uint64_t *at) {
  const struct ws_frame_header *h = &f->h;
  unsigned op = h->opcode;
  int control = op >= 8;
  uint64_t len = h->length;
  *at = 0;
  if (h->rsv & ~dc->allowed_rsv)
    return WS_V_RSV_BITS;
  if ((op >= 3 && op <= 7) || op >= 11)
    return WS_V_RESERVED_OPCODE;
  if (control && !h->fin)
    return WS_V_CONTROL_FRAGMENTED;
  *at = 1;
  if (dc->role == WS_ROLE_SERVER && !h->masked)
    return WS_V_UNMASKED_CLIENT_FRAME;
  if (dc->role == WS_ROLE_CLIENT && h->masked)
    return WS_V_MASKED_SERVER_FRAME;
  if (control && f->form != 7)
    return WS_V_CONTROL_TOO_LONG;
  if (f->form == 7 && dc->max_frame_size && len > dc->max_frame_size)
    return WS_V_FRAME_TOO_BIG;
  if (f->form == 7)
    return WS_V_NONE;
  if (f->msb) {
    *at = 2;
    return WS_V_LENGTH_MSB;
  }
  if (!dc->allow_nonminimal_length &&
      ((f->form == 16 && len <= 125) || (f->form == 64 && len <= 0xffff)))
    return WS_V_LENGTH_NOT_MINIMAL;
  if (dc->max_frame_size && len > dc->max_frame_size)
    return WS_V_FRAME_TOO_BIG;
  return WS_V_NONE;
}

/*
 * Decodes the stream as two pieces, wire[0..cut) and wire[cut..), each an
 * exact-size heap copy, and checks every frame up to the first expected
 * violation.
 */
static void decode_stream(const struct ws_decoder_config *dc,
                          const struct frame *fr, size_t nf,
                          const uint8_t *wire, size_t wire_len, size_t cut) {
  struct ws_decoder d;
  ws_decoder_init(&d, dc);
  size_t k = 0;     /* frame being decoded */
  uint64_t got = 0; /* payload bytes of frame k seen */
  int started = 0;  /* frame k's first chunk was seen */
  int done = 0;
  for (int piece = 0; piece < 2 && !done; piece++) {
    size_t base = piece ? cut : 0, len = piece ? wire_len - cut : cut;
    uint8_t *buf = len ? fuzz_dup(wire + base, len) : NULL;
    size_t off = 0;
    for (;;) {
      struct ws_frame_chunk ch;
      size_t used;
      int r =
          ws_decoder_decode(&d, buf ? buf + off : NULL, len - off, &used, &ch);
      off += used;
      if (r == 0)
        break;
      FUZZ_CHECK(k < nf);
      uint64_t at;
      enum ws_violation_id want = expect_violation(dc, &fr[k], &at);
      if (r == WS_EPROTO) {
        FUZZ_CHECK(want != WS_V_NONE && !started);
        FUZZ_CHECK(d.violation.id == want);
        FUZZ_CHECK(d.violation.offset == fr[k].wire_off + at);
        done = 1;
        break;
      }
      FUZZ_CHECK(r == 1 && want == WS_V_NONE);
      const struct ws_frame_header *h = ch.header;
      const struct ws_frame_header *e = &fr[k].h;
      FUZZ_CHECK(ch.first == !started && ch.frame_offset == got);
      started = 1;
      if (ch.first)
        FUZZ_CHECK(h->fin == e->fin && h->rsv == e->rsv &&
                   h->opcode == e->opcode && h->masked == e->masked &&
                   h->length == e->length && h->header_len == e->header_len &&
                   h->length_form == fr[k].form &&
                   (!h->masked || memcmp(h->mask, e->mask, 4) == 0));
      FUZZ_CHECK(got + ch.len <= e->length);
      FUZZ_CHECK(ch.len == 0 ||
                 memcmp(ch.data, fr[k].payload + got, ch.len) == 0);
      got += ch.len;
      FUZZ_CHECK(ch.last == (got == e->length));
      if (ch.last) {
        k++;
        got = 0;
        started = 0;
      }
    }
    free(buf);
  }
  if (!done)
    FUZZ_CHECK(k == nf && d.pos == wire_len);
}

/*
 * The argument contracts of ws_frame.h, ws_mask.h, ws_close.h and the
 * tables of ws_core.h, input-independent: run for the empty input.
 */
static void api_contract(void) {
  struct ws_decoder d;
  struct ws_decoder_config dc;
  struct ws_frame_chunk ch;
  struct ws_frame_header h;
  uint8_t buf[WS_FRAME_HEADER_MAX + 8] = {0x82, 0x80};
  size_t used = 99;
  ws_decoder_config_default(NULL, WS_ROLE_CLIENT);
  ws_decoder_init(NULL, NULL);
  ws_decoder_init(&d, NULL); /* defaults: a server */
  FUZZ_CHECK(d.config.role == WS_ROLE_SERVER && d.config.allowed_rsv == 0);
  FUZZ_CHECK(ws_decoder_decode(NULL, buf, 2, &used, &ch) == WS_EINVAL &&
             used == 0);
  FUZZ_CHECK(ws_decoder_decode(&d, buf, 2, NULL, &ch) == WS_EINVAL);
  used = 99;
  FUZZ_CHECK(ws_decoder_decode(&d, buf, 2, &used, NULL) == WS_EINVAL &&
             used == 0);
  FUZZ_CHECK(ws_decoder_decode(&d, NULL, 2, &used, &ch) == WS_EINVAL);
  FUZZ_CHECK(ws_decoder_decode(&d, NULL, 0, &used, &ch) == 0 && used == 0);
  ws_decoder_config_default(&dc, WS_ROLE_CLIENT);
  FUZZ_CHECK(dc.role == WS_ROLE_CLIENT && dc.max_frame_size == 0);

  memset(&h, 0, sizeof(h));
  FUZZ_CHECK(ws_frame_encoded_size(NULL) == 0);
  FUZZ_CHECK(ws_frame_header_encode(NULL, &h) == 0);
  FUZZ_CHECK(ws_frame_header_encode(buf, NULL) == 0);
  FUZZ_CHECK(ws_frame_encode(NULL, 10, &h, NULL, NULL, NULL) == WS_EINVAL);
  FUZZ_CHECK(ws_frame_encode(buf, 10, NULL, NULL, NULL, NULL) == WS_EINVAL);
  h.length = 3;
  FUZZ_CHECK(ws_frame_encode(buf, 10, &h, NULL, NULL, NULL) == WS_EINVAL);
  /* A length no buffer can hold: not representable, or over ws_ssize. */
  h.length = (uint64_t)1 << 62;
  size_t big = ws_frame_encoded_size(&h);
  FUZZ_CHECK(SIZE_MAX < ((uint64_t)1 << 62) ? big == 0
                                            : big == ((size_t)1 << 62) + 10);
  FUZZ_CHECK(ws_frame_encode(buf, sizeof(buf), &h, buf, NULL, NULL) ==
             (big ? WS_ENOBUFS : WS_EINVAL));
  h.length = UINT64_MAX - 4;
  FUZZ_CHECK(ws_frame_encoded_size(&h) == 0);
  FUZZ_CHECK(ws_frame_encode(buf, sizeof(buf), &h, buf, NULL, NULL) ==
             WS_EINVAL);

  uint8_t key[4] = {1, 2, 3, 4};
  ws_mask_apply(NULL, 0, key, 3);
  ws_mask_apply_portable(NULL, 0, key, 1);
  ws_mask_apply_bytewise(NULL, 0, key, 2);
  ws_mask_copy(NULL, NULL, 0, key, 0);

  struct ws_close_info info;
  uint64_t off = 5;
  FUZZ_CHECK(ws_close_parse(NULL, 0, &info, &off) == WS_V_NONE &&
             info.code == WS_CLOSE_NO_STATUS && off == 5);
  FUZZ_CHECK(ws_close_parse(buf, 1, NULL, NULL) == WS_V_CLOSE_PAYLOAD_1_BYTE);
  FUZZ_CHECK(ws_close_payload_build(buf, 2, 1000, NULL, 3) == WS_EINVAL);
  FUZZ_CHECK(ws_close_payload_build(NULL, 0, 1000, NULL, 0) == WS_ENOBUFS);
  FUZZ_CHECK(ws_close_payload_build(NULL, 0, WS_CLOSE_NO_STATUS, NULL, 0) == 0);
  /* A checker told one length and fed a shorter payload: one byte of it
   * is still a one-byte payload. */
  struct ws_close_check cc;
  uint16_t code = 0;
  FUZZ_CHECK(ws_close_check_init(&cc, 2) == WS_V_NONE);
  FUZZ_CHECK(ws_close_check_feed(&cc, (const uint8_t *)"\x03", 1, NULL) ==
             WS_V_NONE);
  FUZZ_CHECK(ws_close_check_finish(&cc, &code, NULL) ==
             WS_V_CLOSE_PAYLOAD_1_BYTE);
  FUZZ_CHECK(ws_close_check_init(&cc, 0) == WS_V_NONE &&
             ws_close_check_finish(&cc, &code, NULL) == WS_V_NONE &&
             code == WS_CLOSE_NO_STATUS);

  /* ws_core.h tables: every code and rule is named; unknown ones too. */
  static const int codes[] = {WS_OK,      WS_EAGAIN,     WS_ENOBUFS, WS_EPROTO,
                              WS_ECLOSED, WS_EHANDSHAKE, WS_EINVAL,  WS_ESTATE,
                              WS_ETOOBIG, WS_ECALLBACK,  WS_ERANDOM, WS_EFATAL,
                              WS_ENOMEM,  WS_ECRYPTO};
  for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
    FUZZ_CHECK(strcmp(ws_strerror(codes[i]), "unknown error") != 0);
    FUZZ_CHECK(ws_is_fatal(codes[i]) == (codes[i] <= WS_EFATAL));
  }
  FUZZ_CHECK(strcmp(ws_strerror(-12345), "unknown error") == 0);
  for (int id = 0; id <= WS_V__COUNT; id++) {
    struct ws_violation v;
    ws_violation_set(&v, (enum ws_violation_id)id, 7);
    FUZZ_CHECK(v.offset == 7 && v.section && v.reason &&
               strlen(v.reason) <= WS_CLOSE_REASON_MAX);
    FUZZ_CHECK((strcmp(ws_violation_name((enum ws_violation_id)id),
                       "UNKNOWN") == 0) == (id == WS_V__COUNT));
    if (id == WS_V__COUNT)
      FUZZ_CHECK(v.close_code == 1002 && strcmp(v.section, "5") == 0);
  }
  const struct ws_mem *m = ws_mem_default();
  void *p = m->malloc(8, m->user);
  p = m->realloc(p, 16, m->user);
  m->free(p, m->user);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint64_t frame_max[4] = {0, 125, 1000, 70000};
  if (size == 0)
    api_contract();
  struct fuzz_reader r = {data, size};
  uint8_t b0 = fz_u8(&r), b1 = fz_u8(&r);
  struct ws_decoder_config dc;
  ws_decoder_config_default(&dc, (b0 & 1) ? WS_ROLE_CLIENT : WS_ROLE_SERVER);
  dc.allowed_rsv = (uint8_t)((b0 & 0x0e) << 3);
  dc.allow_nonminimal_length = (b0 >> 4) & 1;
  dc.max_frame_size = frame_max[(b0 >> 5) & 3];
  uint64_t seed = 0x243f6a8885a308d3ull;

  struct frame fr[MAX_FRAMES];
  uint8_t *wire = NULL;
  size_t wire_len = 0, wire_cap = 0, nf = 0;
  int big_left = 1;
  while (nf < MAX_FRAMES && read_frame(&r, b0 >> 7, &seed, &big_left, &fr[nf],
                                       &wire, &wire_len, &wire_cap))
    nf++;

  decode_stream(&dc, fr, nf, wire, wire_len, wire_len);
  decode_stream(&dc, fr, nf, wire, wire_len, wire_len * b1 / 255);

  for (size_t k = 0; k < nf; k++) {
    /* Close bodies, however they came to be, against the reference. */
    if (fr[k].h.opcode == WS_OP_CLOSE && fr[k].h.length <= WS_CONTROL_MAX)
      check_close_payload(fr[k].payload, (size_t)fr[k].h.length);
    free(fr[k].payload);
  }
  free(wire);
  return 0;
}
