/*
 * test_frame.c: the RFC 6455 Section 5 frame codec (ws_frame.h).
 *
 * Every decoder input is fed whole, one byte at a time, split in two at
 * every position and cut at random positions, each piece in its own
 * exact-size guard-page buffer; the recorded events (headers, unmasked
 * payload, first/last flags, the final status, violation and stream
 * position) must be identical. The decoder never allocates, so there is no
 * fail-malloc walk here.
 */
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "ws/ws_frame.h"

/* assert_memory_equal compares byte by byte; memcmp first, and let cmocka
 * describe the difference only when there is one. */
#define same_bytes(a, b, n)                                                   \
  do {                                                                        \
    if (memcmp((a), (b), (n)) != 0)                                           \
      assert_memory_equal((a), (b), (n));                                     \
  } while (0)

/* ------------------------------------------------------------------ */
/* Event recording                                                     */

struct rec_frame {
  struct ws_frame_header h;
  uint8_t *payload;
  size_t len;
  size_t cap;
  int complete;
  int chunks;
};

struct rec {
  struct rec_frame *f;
  size_t n;
  size_t cap;
  int result;            /* 0, or WS_EPROTO */
  struct ws_violation v; /* when result == WS_EPROTO */
  uint64_t pos;          /* d.pos after the last call */
  uint64_t consumed;     /* sum of *consumed */
  size_t chunk_calls;    /* calls that returned 1 */
};

static void rec_free(struct rec *r) {
  for (size_t i = 0; i < r->n; i++)
    free(r->f[i].payload);
  free(r->f);
  memset(r, 0, sizeof(*r));
}

static void same_header(const struct ws_frame_header *a,
                        const struct ws_frame_header *b) {
  assert_int_equal(a->fin, b->fin);
  assert_int_equal(a->rsv, b->rsv);
  assert_int_equal(a->opcode, b->opcode);
  assert_int_equal(a->masked, b->masked);
  assert_memory_equal(a->mask, b->mask, 4);
  assert_true(a->length == b->length);
  assert_int_equal(a->header_len, b->header_len);
  assert_int_equal(a->length_form, b->length_form);
}

static void append(struct rec_frame *f, const uint8_t *p, size_t n) {
  if (f->len + n > f->cap) {
    size_t cap = f->cap ? f->cap : 64;
    while (cap < f->len + n)
      cap *= 2;
    f->payload = realloc(f->payload, cap);
    assert_non_null(f->payload);
    f->cap = cap;
  }
  if (n)
    memcpy(f->payload + f->len, p, n);
  f->len += n;
}

/* Checks one chunk against the contract and appends it to |r|.
 * [lo, hi) is the caller's buffer the chunk must point into. */
static void record(struct rec *r, const struct ws_decoder *d,
                   const struct ws_frame_chunk *c, const uint8_t *lo,
                   const uint8_t *hi) {
  assert_ptr_equal(c->header, &d->header);
  assert_true(c->data >= lo && c->data <= hi);
  assert_true(c->len <= (size_t)(hi - c->data));
  struct rec_frame *f = r->n ? &r->f[r->n - 1] : NULL;
  if (c->first) {
    assert_true(f == NULL || f->complete);
    assert_true(c->frame_offset == 0);
    if (r->n == r->cap) {
      r->cap = r->cap ? r->cap * 2 : 16;
      r->f = realloc(r->f, r->cap * sizeof(*r->f));
      assert_non_null(r->f);
    }
    f = &r->f[r->n++];
    memset(f, 0, sizeof(*f));
    f->h = *c->header;
    if (f->h.length <= (1u << 24)) {
      f->cap = (size_t)f->h.length + 1;
      f->payload = malloc(f->cap);
      assert_non_null(f->payload);
    }
  } else {
    assert_non_null(f);
    assert_false(f->complete);
    /* Only the first chunk of a frame may be empty. */
    assert_true(c->len > 0);
    same_header(&f->h, c->header);
    assert_true(c->frame_offset == f->len);
  }
  if (f->h.length <= (1u << 24))
    append(f, c->data, c->len);
  else
    f->len += c->len; /* huge frames: count only */
  f->chunks++;
  assert_true((uint64_t)f->len <= f->h.length);
  if (c->last) {
    assert_true((uint64_t)f->len == f->h.length);
    f->complete = 1;
  } else {
    assert_true((uint64_t)f->len < f->h.length);
  }
}

/* Feeds |data| cut at |cuts| (strictly increasing, inside (0, len)).
 * Each piece is copied to the end of |arena| (a guarded buffer of at least
 * |len| bytes), so it ends exactly at the PROT_NONE page: an exact-size
 * guard-page buffer per piece without an mmap per piece. */
static void feed(struct rec *r, const struct ws_decoder_config *cfg,
                 const uint8_t *data, size_t len, const size_t *cuts,
                 size_t ncuts, const struct guarded *arena) {
  struct ws_decoder d;
  assert_true(arena->len >= len);
  memset(r, 0, sizeof(*r));
  ws_decoder_init(&d, cfg);
  size_t a = 0;
  for (size_t k = 0; k <= ncuts && r->result == 0; k++) {
    size_t b = k < ncuts ? cuts[k] : len;
    assert_true(b > a || (b == a && len == 0));
    struct guarded g = *arena;
    g.data = arena->data + arena->len - (b - a);
    g.len = b - a;
    if (g.len)
      memcpy(g.data, data + a, g.len);
    size_t off = 0;
    for (;;) {
      size_t used = (size_t)-1;
      struct ws_frame_chunk c;
      int rc = ws_decoder_decode(&d, g.data + off, g.len - off, &used, &c);
      assert_true(used <= g.len - off);
      off += used;
      r->consumed += used;
      if (rc == 1) {
        record(r, &d, &c, g.data, g.data + g.len);
        r->chunk_calls++;
        continue;
      }
      if (rc == 0) {
        assert_true(off == g.len);
        break;
      }
      assert_int_equal(rc, WS_EPROTO);
      r->result = rc;
      r->v = d.violation;
      /* The failed state is sticky and consumes nothing. */
      used = 7;
      assert_int_equal(ws_decoder_decode(&d, g.data, g.len, &used, &c),
                       WS_EPROTO);
      assert_int_equal(used, 0);
      break;
    }
    a = b;
  }
  r->pos = d.pos;
  assert_true(r->pos == r->consumed);
}

static void same_rec(const struct rec *a, const struct rec *b) {
  assert_int_equal(a->result, b->result);
  if (a->result) {
    assert_int_equal(a->v.id, b->v.id);
    assert_int_equal(a->v.close_code, b->v.close_code);
    assert_string_equal(a->v.section, b->v.section);
    assert_true(a->v.offset == b->v.offset);
  }
  assert_true(a->pos == b->pos);
  assert_int_equal(a->n, b->n);
  for (size_t i = 0; i < a->n; i++) {
    same_header(&a->f[i].h, &b->f[i].h);
    assert_int_equal(a->f[i].len, b->f[i].len);
    assert_int_equal(a->f[i].complete, b->f[i].complete);
    if (a->f[i].h.length <= (1u << 24) && a->f[i].len)
      same_bytes(a->f[i].payload, b->f[i].payload, a->f[i].len);
  }
}

/* Whole, byte by byte, split in two at every position (when |every|), and
 * |nrandom| random cut sets. *whole gets the whole-input record. */
static void check_splits(const struct ws_decoder_config *cfg,
                         const uint8_t *data, size_t len, int every,
                         int nrandom, uint64_t seed, struct rec *whole) {
  struct rec other;
  struct guarded arena = guarded_copy(data, len);
  feed(whole, cfg, data, len, NULL, 0, &arena);

  size_t *cuts = malloc((len ? len : 1) * sizeof(size_t));
  assert_non_null(cuts);
  for (size_t i = 1; i < len; i++)
    cuts[i - 1] = i;
  feed(&other, cfg, data, len, cuts, len ? len - 1 : 0, &arena);
  same_rec(whole, &other);
  rec_free(&other);

  for (size_t k = 1; every && k < len; k++) {
    feed(&other, cfg, data, len, &k, 1, &arena);
    same_rec(whole, &other);
    rec_free(&other);
  }

  for (int t = 0; t < nrandom && len > 1; t++) {
    uint8_t rb[2];
    test_random(rb, 2, &seed);
    size_t want = 1 + rb[0] % 12, n = 0;
    for (size_t i = 1; i < len && n < want; i++) {
      uint8_t x;
      test_random(&x, 1, &seed);
      if ((size_t)x * len < 256u * want)
        cuts[n++] = i;
    }
    feed(&other, cfg, data, len, cuts, n, &arena);
    same_rec(whole, &other);
    rec_free(&other);
  }
  free(cuts);
  guarded_free(&arena);
}

static struct ws_decoder_config cfg_role(enum ws_role role) {
  struct ws_decoder_config c;
  ws_decoder_config_default(&c, role);
  return c;
}

/* ------------------------------------------------------------------ */
/* RFC 6455 Section 5.7 examples                                       */

struct expect {
  uint8_t fin, opcode, masked;
  uint8_t mask[4];
  const uint8_t *payload;
  size_t len;
};

static const uint8_t hello[] = "Hello";
static const uint8_t rfc_key[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Decodes |wire| split every way and compares with |ex|; then encodes
 * |ex| with the fixed key and compares with |wire|. */
static void rfc_case(enum ws_role role, const uint8_t *wire, size_t wlen,
                     const struct expect *ex, size_t n, int every) {
  struct ws_decoder_config cfg = cfg_role(role);
  struct rec r;
  check_splits(&cfg, wire, wlen, every, 20, 42, &r);
  assert_int_equal(r.result, 0);
  assert_true(r.pos == wlen);
  assert_int_equal(r.n, n);
  /* Fast path: each whole frame is one call, one chunk. */
  assert_int_equal(r.chunk_calls, n);

  uint8_t *out = malloc(wlen);
  assert_non_null(out);
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    const struct rec_frame *f = &r.f[i];
    assert_int_equal(f->h.fin, ex[i].fin);
    assert_int_equal(f->h.rsv, 0);
    assert_int_equal(f->h.opcode, ex[i].opcode);
    assert_int_equal(f->h.masked, ex[i].masked);
    if (ex[i].masked)
      assert_memory_equal(f->h.mask, ex[i].mask, 4);
    assert_true(f->h.length == ex[i].len);
    assert_int_equal(f->chunks, 1);
    assert_true(f->complete);
    if (ex[i].len)
      assert_memory_equal(f->payload, ex[i].payload, ex[i].len);

    struct ws_frame_header h;
    memset(&h, 0, sizeof(h));
    h.fin = ex[i].fin;
    h.opcode = ex[i].opcode;
    h.masked = ex[i].masked;
    memcpy(h.mask, ex[i].mask, 4);
    h.length = ex[i].len;
    assert_int_equal(ws_frame_encoded_size(&h), f->h.header_len + ex[i].len);
    ws_ssize w = ws_frame_encode(out + at, wlen - at, &h, ex[i].payload, NULL,
                                 NULL);
    assert_int_equal(w, (ws_ssize)(f->h.header_len + ex[i].len));
    assert_int_equal(h.header_len, f->h.header_len);
    at += (size_t)w;
  }
  assert_int_equal(at, wlen);
  assert_memory_equal(out, wire, wlen);
  free(out);
  rec_free(&r);
}

static void test_ws_frame_rfc_unmasked_text(void **state) {
  (void)state;
  static const uint8_t wire[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
  struct expect ex = {1, WS_OP_TEXT, 0, {0}, hello, 5};
  rfc_case(WS_ROLE_CLIENT, wire, sizeof(wire), &ex, 1, 1);
}

static void test_ws_frame_rfc_masked_text(void **state) {
  (void)state;
  static const uint8_t wire[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  struct expect ex = {1, WS_OP_TEXT, 1, {0x37, 0xfa, 0x21, 0x3d}, hello, 5};
  rfc_case(WS_ROLE_SERVER, wire, sizeof(wire), &ex, 1, 1);
}

static void test_ws_frame_rfc_fragmented(void **state) {
  (void)state;
  static const uint8_t wire[] = {0x01, 0x03, 0x48, 0x65, 0x6c,
                                 0x80, 0x02, 0x6c, 0x6f};
  struct expect ex[2] = {{0, WS_OP_TEXT, 0, {0}, hello, 3},
                         {1, WS_OP_CONTINUATION, 0, {0}, hello + 3, 2}};
  rfc_case(WS_ROLE_CLIENT, wire, sizeof(wire), ex, 2, 1);
}

static void test_ws_frame_rfc_ping_pong(void **state) {
  (void)state;
  static const uint8_t ping[] = {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
  static const uint8_t pong[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  struct expect e1 = {1, WS_OP_PING, 0, {0}, hello, 5};
  struct expect e2 = {1, WS_OP_PONG, 1, {0x37, 0xfa, 0x21, 0x3d}, hello, 5};
  rfc_case(WS_ROLE_CLIENT, ping, sizeof(ping), &e1, 1, 1);
  rfc_case(WS_ROLE_SERVER, pong, sizeof(pong), &e2, 1, 1);
}

static uint8_t *pattern(size_t n) {
  uint8_t *p = malloc(n ? n : 1);
  assert_non_null(p);
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(i * 7 + 3);
  return p;
}

static void test_ws_frame_rfc_binary_256(void **state) {
  (void)state;
  uint8_t *pl = pattern(256);
  uint8_t *wire = malloc(4 + 256);
  assert_non_null(wire);
  memcpy(wire, "\x82\x7e\x01\x00", 4);
  memcpy(wire + 4, pl, 256);
  struct expect ex = {1, WS_OP_BINARY, 0, {0}, pl, 256};
  rfc_case(WS_ROLE_CLIENT, wire, 260, &ex, 1, 1);
  free(wire);
  free(pl);
}

static void test_ws_frame_rfc_binary_64k(void **state) {
  (void)state;
  uint8_t *pl = pattern(65536);
  uint8_t *wire = malloc(10 + 65536);
  assert_non_null(wire);
  memcpy(wire, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
  memcpy(wire + 10, pl, 65536);
  struct expect ex = {1, WS_OP_BINARY, 0, {0}, pl, 65536};
  rfc_case(WS_ROLE_CLIENT, wire, 10 + 65536, &ex, 1, 1);
  /* The same frame masked, for a server, with the RFC key. */
  uint8_t *mw = malloc(14 + 65536);
  assert_non_null(mw);
  memcpy(mw, "\x82\xff\x00\x00\x00\x00\x00\x01\x00\x00", 10);
  memcpy(mw + 10, rfc_key, 4);
  for (size_t i = 0; i < 65536; i++)
    mw[14 + i] = pl[i] ^ rfc_key[i & 3];
  struct expect mx = {1, WS_OP_BINARY, 1, {0x37, 0xfa, 0x21, 0x3d}, pl, 65536};
  /* Every split of 64 KiB was done unmasked above; random cuts here. */
  rfc_case(WS_ROLE_SERVER, mw, 14 + 65536, &mx, 1, 0);
  free(mw);
  free(wire);
  free(pl);
}

/* ------------------------------------------------------------------ */
/* Violations                                                          */

struct vcase {
  const char *name;
  enum ws_role role;
  uint8_t allowed_rsv;
  uint8_t nonminimal;
  uint64_t max;
  const char *hex;
  enum ws_violation_id id;
  uint16_t code;
  const char *section;
  uint64_t offset;
  uint64_t pos; /* stream bytes read when the violation was found */
};

/* Valid prefixes, so offsets are checked away from stream offset 0. */
#define HELLO_M "81 85 37fa213d 7f9f4d5158 " /* 11 bytes, to a server */
#define HELLO_U "81 05 48656c6c6f "          /* 7 bytes, to a client */
#define KEY "01020304 "

static const struct vcase vcases[] = {
    /* Byte 0. */
    {"rsv1", WS_ROLE_SERVER, 0, 0, 0, "c1 85" KEY "0000000000",
     WS_V_RSV_BITS, 1002, "5.2", 0, 1},
    {"rsv2 after a frame", WS_ROLE_SERVER, 0, 0, 0, HELLO_M "a1 80" KEY,
     WS_V_RSV_BITS, 1002, "5.2", 11, 12},
    {"rsv3", WS_ROLE_CLIENT, 0, 0, 0, HELLO_U "91 00", WS_V_RSV_BITS, 1002,
     "5.2", 7, 8},
    {"rsv2 with rsv1 allowed", WS_ROLE_SERVER, 0x40, 0, 0, "e1 80" KEY,
     WS_V_RSV_BITS, 1002, "5.2", 0, 1},
    {"rsv alone in the input", WS_ROLE_SERVER, 0, 0, 0, "c1", WS_V_RSV_BITS,
     1002, "5.2", 0, 1},
    {"reserved opcode 3", WS_ROLE_SERVER, 0, 0, 0, "83 80" KEY,
     WS_V_RESERVED_OPCODE, 1002, "5.2", 0, 1},
    {"reserved opcode 0xf", WS_ROLE_CLIENT, 0, 0, 0, HELLO_U "8f 00",
     WS_V_RESERVED_OPCODE, 1002, "5.2", 7, 8},
    {"fragmented ping", WS_ROLE_SERVER, 0, 0, 0, HELLO_M "09 80" KEY,
     WS_V_CONTROL_FRAGMENTED, 1002, "5.5", 11, 12},
    {"fragmented close", WS_ROLE_CLIENT, 0, 0, 0, "08 00",
     WS_V_CONTROL_FRAGMENTED, 1002, "5.5", 0, 1},
    /* Byte 1. */
    {"unmasked to server", WS_ROLE_SERVER, 0, 0, 0, "81 05 48656c6c6f",
     WS_V_UNMASKED_CLIENT_FRAME, 1002, "5.1", 1, 2},
    {"unmasked to server after a frame", WS_ROLE_SERVER, 0, 0, 0,
     HELLO_M "82 00", WS_V_UNMASKED_CLIENT_FRAME, 1002, "5.1", 12, 13},
    {"masked to client", WS_ROLE_CLIENT, 0, 0, 0, HELLO_U HELLO_M,
     WS_V_MASKED_SERVER_FRAME, 1002, "5.1", 8, 9},
    {"ping 126", WS_ROLE_SERVER, 0, 0, 0, "89 fe 007e" KEY,
     WS_V_CONTROL_TOO_LONG, 1002, "5.5", 1, 2},
    {"close 64-bit", WS_ROLE_CLIENT, 0, 0, 0, HELLO_U "88 7f 0000000000000080",
     WS_V_CONTROL_TOO_LONG, 1002, "5.5", 8, 9},
    {"pong 16-bit 5, nonminimal allowed", WS_ROLE_CLIENT, 0, 1, 0,
     "8a 7e 0005 48656c6c6f", WS_V_CONTROL_TOO_LONG, 1002, "5.5", 1, 2},
    {"7-bit over limit", WS_ROLE_CLIENT, 0, 0, 100, "82 65",
     WS_V_FRAME_TOO_BIG, 1009, "7.4.1", 1, 2},
    /* Extended length. */
    {"64-bit msb", WS_ROLE_CLIENT, 0, 0, 0, "82 7f 8000000000000000",
     WS_V_LENGTH_MSB, 1002, "5.2", 2, 10},
    {"64-bit all ones after a frame", WS_ROLE_CLIENT, 0, 0, 0,
     HELLO_U "02 7f ffffffffffffffff", WS_V_LENGTH_MSB, 1002, "5.2", 9, 17},
    {"16-bit 125", WS_ROLE_CLIENT, 0, 0, 0, "82 7e 007d",
     WS_V_LENGTH_NOT_MINIMAL, 1002, "5.2", 1, 4},
    {"16-bit 0, masked", WS_ROLE_SERVER, 0, 0, 0, HELLO_M "82 fe 0000" KEY,
     WS_V_LENGTH_NOT_MINIMAL, 1002, "5.2", 12, 15},
    {"64-bit 65535", WS_ROLE_CLIENT, 0, 0, 0, "82 7f 000000000000ffff",
     WS_V_LENGTH_NOT_MINIMAL, 1002, "5.2", 1, 10},
    {"64-bit 5", WS_ROLE_SERVER, 0, 0, 0, "81 ff 0000000000000005" KEY,
     WS_V_LENGTH_NOT_MINIMAL, 1002, "5.2", 1, 10},
    {"16-bit over limit", WS_ROLE_CLIENT, 0, 0, 200, "82 7e 00c9",
     WS_V_FRAME_TOO_BIG, 1009, "7.4.1", 1, 4},
    {"64-bit over limit", WS_ROLE_SERVER, 0, 0, 65536,
     "82 ff 0000000000010001" KEY, WS_V_FRAME_TOO_BIG, 1009, "7.4.1", 1, 10},
    /* Several rules at once: the first in wire order wins. */
    {"rsv + reserved opcode", WS_ROLE_SERVER, 0, 0, 0, "f3 80" KEY,
     WS_V_RSV_BITS, 1002, "5.2", 0, 1},
    {"reserved control opcode, fin 0", WS_ROLE_SERVER, 0, 0, 0, "0b 80" KEY,
     WS_V_RESERVED_OPCODE, 1002, "5.2", 0, 1},
    {"fragmented + unmasked", WS_ROLE_SERVER, 0, 0, 0, "09 05 48656c6c6f",
     WS_V_CONTROL_FRAGMENTED, 1002, "5.5", 0, 1},
    {"unmasked + too long", WS_ROLE_SERVER, 0, 0, 0, "89 7e 007e",
     WS_V_UNMASKED_CLIENT_FRAME, 1002, "5.1", 1, 2},
    {"control too long + msb", WS_ROLE_SERVER, 0, 0, 0,
     "89 ff 8000000000000000" KEY, WS_V_CONTROL_TOO_LONG, 1002, "5.5", 1, 2},
    {"msb + over limit", WS_ROLE_CLIENT, 0, 0, 100, "82 7f 8000000000000000",
     WS_V_LENGTH_MSB, 1002, "5.2", 2, 10},
    {"nonminimal + over limit", WS_ROLE_CLIENT, 0, 0, 10, "82 7e 0010",
     WS_V_LENGTH_NOT_MINIMAL, 1002, "5.2", 1, 4},
    {"nonminimal allowed, over limit", WS_ROLE_CLIENT, 0, 1, 10, "82 7e 0010",
     WS_V_FRAME_TOO_BIG, 1009, "7.4.1", 1, 4},
    {"126 over a 125 limit", WS_ROLE_CLIENT, 0, 0, 125, "82 7e 007e",
     WS_V_FRAME_TOO_BIG, 1009, "7.4.1", 1, 4},
    /* allowed_rsv bits outside 0x70 mean nothing: opcodes still judged. */
    {"reserved opcode, allowed_rsv 0xff", WS_ROLE_SERVER, 0xff, 0, 0,
     "83 80" KEY, WS_V_RESERVED_OPCODE, 1002, "5.2", 0, 1},
    {"fragmented ping, allowed_rsv 0xff", WS_ROLE_CLIENT, 0xff, 0, 0,
     HELLO_U "79 00", WS_V_CONTROL_FRAGMENTED, 1002, "5.5", 7, 8},
    /* Whole small frames (the decoder's fast path) over the limit. */
    {"whole 5-byte frame over a 4 limit", WS_ROLE_SERVER, 0, 0, 4,
     HELLO_M, WS_V_FRAME_TOO_BIG, 1009, "7.4.1", 1, 2},
    {"whole frame over the limit after one at it", WS_ROLE_CLIENT, 0, 0, 5,
     HELLO_U "82 06 000102030405", WS_V_FRAME_TOO_BIG, 1009, "7.4.1", 8, 9},
};

static void run_vcase(const struct vcase *vc) {
  size_t len;
  uint8_t *wire = hex_decode(vc->hex, &len);
  struct ws_decoder_config cfg = cfg_role(vc->role);
  cfg.allowed_rsv = vc->allowed_rsv;
  cfg.allow_nonminimal_length = vc->nonminimal;
  cfg.max_frame_size = vc->max;
  struct rec r;
  print_message("case: %s\n", vc->name);
  check_splits(&cfg, wire, len, 1, 20, 7, &r);
  assert_int_equal(r.result, WS_EPROTO);
  assert_int_equal(r.v.id, vc->id);
  assert_int_equal(r.v.close_code, vc->code);
  assert_string_equal(r.v.section, vc->section);
  assert_true(r.v.offset == vc->offset);
  assert_true(r.pos == vc->pos);
  assert_string_equal(ws_violation_name(r.v.id), ws_violation_name(vc->id));
  free(wire);
  rec_free(&r);
}

static void test_ws_frame_decode_violations(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++)
    run_vcase(&vcases[i]);
}

/* Every first byte, after a valid frame, for both roles. */
static void test_ws_frame_decode_all_opcodes(void **state) {
  (void)state;
  for (int role = 0; role < 2; role++) {
    for (unsigned b0 = 0; b0 < 256; b0++) {
      size_t plen;
      uint8_t *pre =
          hex_decode(role == WS_ROLE_SERVER ? HELLO_M : HELLO_U, &plen);
      uint8_t wire[32];
      size_t n = plen;
      memcpy(wire, pre, plen);
      free(pre);
      wire[n++] = (uint8_t)b0;
      wire[n++] = role == WS_ROLE_SERVER ? 0x81 : 0x01;
      if (role == WS_ROLE_SERVER) {
        memcpy(wire + n, rfc_key, 4);
        n += 4;
      }
      wire[n++] = 0x5a;
      struct ws_decoder_config cfg = cfg_role((enum ws_role)role);
      struct rec r;
      check_splits(&cfg, wire, n, 1, 0, 1, &r);
      unsigned op = b0 & 0x0f;
      enum ws_violation_id want = WS_V_NONE;
      if (b0 & 0x70)
        want = WS_V_RSV_BITS;
      else if ((op >= 3 && op <= 7) || op >= 11)
        want = WS_V_RESERVED_OPCODE;
      else if (op >= 8 && !(b0 & 0x80))
        want = WS_V_CONTROL_FRAGMENTED;
      if (want == WS_V_NONE) {
        assert_int_equal(r.result, 0);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.f[1].h.opcode, op);
        assert_int_equal(r.f[1].h.fin, b0 >> 7);
        assert_int_equal(r.f[1].payload[0],
                         role == WS_ROLE_SERVER ? 0x5a ^ rfc_key[0] : 0x5a);
      } else {
        assert_int_equal(r.result, WS_EPROTO);
        assert_int_equal(r.v.id, want);
        assert_true(r.v.offset == plen);
        assert_true(r.pos == plen + 1);
        assert_int_equal(r.n, 1);
      }
      rec_free(&r);
    }
  }
}

/* Boundaries that must be accepted, and leniency switches. */
static void test_ws_frame_decode_accepts(void **state) {
  (void)state;
  static const struct {
    enum ws_role role;
    uint8_t rsv, nonmin;
    uint64_t max;
    const char *head;
    uint64_t len;
    uint8_t form;
  } ok[] = {
      {WS_ROLE_CLIENT, 0, 0, 0, "82 7d", 125, 7},
      {WS_ROLE_CLIENT, 0, 0, 0, "82 7e 007e", 126, 16},
      {WS_ROLE_CLIENT, 0, 0, 0, "82 7e ffff", 65535, 16},
      {WS_ROLE_CLIENT, 0, 0, 0, "82 7f 0000000000010000", 65536, 64},
      {WS_ROLE_CLIENT, 0, 0, 126, "82 7e 007e", 126, 16},
      {WS_ROLE_CLIENT, 0, 0, 100, "82 64", 100, 7},
      {WS_ROLE_CLIENT, 0, 1, 0, "82 7e 0005", 5, 16},
      {WS_ROLE_CLIENT, 0, 1, 0, "82 7f 0000000000000000", 0, 64},
      {WS_ROLE_CLIENT, 0x70, 0, 0, "f2 03", 3, 7},
      {WS_ROLE_SERVER, 0x40, 0, 0, "c1 83 01020304", 3, 7},
      {WS_ROLE_SERVER, 0, 0, 0, "89 fd 01020304", 125, 7},
      {WS_ROLE_SERVER, 0, 0, 0, "80 80 01020304", 0, 7},
  };
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    size_t hl;
    uint8_t *head = hex_decode(ok[i].head, &hl);
    size_t n = hl + (size_t)ok[i].len;
    uint8_t *wire = malloc(n);
    assert_non_null(wire);
    memcpy(wire, head, hl);
    for (size_t j = 0; j < ok[i].len; j++)
      wire[hl + j] = (uint8_t)(j ^ 0xa5);
    struct ws_decoder_config cfg = cfg_role(ok[i].role);
    cfg.allowed_rsv = ok[i].rsv;
    cfg.allow_nonminimal_length = ok[i].nonmin;
    cfg.max_frame_size = ok[i].max;
    struct rec r;
    check_splits(&cfg, wire, n, n < 4096, 10, 3, &r);
    assert_int_equal(r.result, 0);
    assert_int_equal(r.n, 1);
    assert_true(r.f[0].complete);
    assert_true(r.f[0].h.length == ok[i].len);
    assert_int_equal(r.f[0].h.length_form, ok[i].form);
    assert_int_equal(r.f[0].h.header_len, hl);
    assert_int_equal(r.f[0].h.rsv, head[0] & 0x70);
    assert_int_equal(r.chunk_calls, 1);
    if (r.f[0].h.masked) {
      for (size_t j = 0; j < ok[i].len; j++)
        assert_int_equal(r.f[0].payload[j],
                         (uint8_t)((j ^ 0xa5) ^ head[hl - 4 + (j & 3)]));
    } else if (ok[i].len) {
      assert_memory_equal(r.f[0].payload, wire + hl, (size_t)ok[i].len);
    }
    rec_free(&r);
    free(head);
    free(wire);
  }
}

/* A truncated header is not an error; nothing is delivered. */
static void test_ws_frame_decode_truncated(void **state) {
  (void)state;
  static const char *heads[] = {"82", "82 7e 00", "82 7f 00000000000100",
                                "82 fe 0100 010203", "82 85 0102"};
  for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
    size_t n;
    uint8_t *wire = hex_decode(heads[i], &n);
    struct ws_decoder_config cfg = cfg_role(WS_ROLE_SERVER);
    cfg.role = (wire[n > 1 ? 1 : 0] & 0x80) || n == 1 ? WS_ROLE_SERVER
                                                       : WS_ROLE_CLIENT;
    struct rec r;
    check_splits(&cfg, wire, n, 1, 0, 0, &r);
    assert_int_equal(r.result, 0);
    assert_int_equal(r.n, 0);
    assert_true(r.pos == n);
    rec_free(&r);
    free(wire);
  }
}

/* Header completes at the end of the input: a first chunk with len 0,
 * then the payload in later chunks with the right key phase. */
static void test_ws_frame_decode_header_only_chunk(void **state) {
  (void)state;
  static const uint8_t wire[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  struct ws_decoder d;
  struct ws_decoder_config cfg = cfg_role(WS_ROLE_SERVER);
  struct ws_frame_chunk c;
  size_t used;
  struct guarded g = guarded_copy(wire, sizeof(wire));
  ws_decoder_init(&d, &cfg);
  assert_int_equal(ws_decoder_decode(&d, g.data, 6, &used, &c), 1);
  assert_int_equal(used, 6);
  assert_int_equal(c.first, 1);
  assert_int_equal(c.last, 0);
  assert_int_equal(c.len, 0);
  assert_ptr_equal(c.data, g.data + 6);
  assert_true(c.header->length == 5);
  assert_int_equal(ws_decoder_decode(&d, g.data + 6, 0, &used, &c), 0);
  assert_int_equal(used, 0);
  assert_int_equal(ws_decoder_decode(&d, g.data + 6, 3, &used, &c), 1);
  assert_int_equal(used, 3);
  assert_int_equal(c.first, 0);
  assert_int_equal(c.last, 0);
  assert_memory_equal(c.data, "Hel", 3);
  assert_true(c.frame_offset == 0);
  assert_int_equal(ws_decoder_decode(&d, g.data + 9, 2, &used, &c), 1);
  assert_int_equal(c.last, 1);
  assert_true(c.frame_offset == 3);
  assert_memory_equal(c.data, "lo", 2);
  assert_true(d.pos == 11);
  guarded_free(&g);
}

static void test_ws_frame_decode_skip_unmask(void **state) {
  (void)state;
  static const uint8_t wire[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  struct ws_decoder_config cfg = cfg_role(WS_ROLE_SERVER);
  cfg.skip_unmask = 1;
  struct rec r;
  check_splits(&cfg, wire, sizeof(wire), 1, 5, 9, &r);
  assert_int_equal(r.n, 1);
  assert_memory_equal(r.f[0].payload, wire + 6, 5);
  rec_free(&r);
}

static void test_ws_frame_decode_einval(void **state) {
  (void)state;
  struct ws_decoder d;
  struct ws_frame_chunk c;
  uint8_t b[2] = {0x81, 0x00};
  size_t used = 99;
  ws_decoder_init(&d, NULL); /* defaults: server */
  assert_int_equal(d.config.role, WS_ROLE_SERVER);
  assert_int_equal(ws_decoder_decode(NULL, b, 2, &used, &c), WS_EINVAL);
  assert_int_equal(used, 0);
  assert_int_equal(ws_decoder_decode(&d, b, 2, NULL, &c), WS_EINVAL);
  assert_int_equal(ws_decoder_decode(&d, b, 2, &used, NULL), WS_EINVAL);
  assert_int_equal(ws_decoder_decode(&d, NULL, 2, &used, &c), WS_EINVAL);
  assert_int_equal(ws_decoder_decode(&d, NULL, 0, &used, &c), 0);
  assert_true(d.pos == 0);
  /* Nothing above changed the decoder: the frame is judged normally. */
  assert_int_equal(ws_decoder_decode(&d, b, 2, &used, &c), WS_EPROTO);
  assert_int_equal(d.violation.id, WS_V_UNMASKED_CLIENT_FRAME);
  ws_decoder_init(NULL, NULL);
  ws_decoder_config_default(NULL, WS_ROLE_CLIENT);
}

/* 2^63 - 1: no allocation, no narrowing; offsets past 2^32 stay exact. */
static void test_ws_frame_decode_huge(void **state) {
  (void)state;
  static const uint8_t head[] = {0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff};
  const size_t piece = 1u << 20;
  uint8_t *buf = calloc(1, piece);
  assert_non_null(buf);
  struct ws_decoder d;
  struct ws_decoder_config cfg = cfg_role(WS_ROLE_CLIENT);
  struct ws_frame_chunk c;
  size_t used;
  ws_decoder_init(&d, &cfg);
  uint8_t h[sizeof(head)];
  memcpy(h, head, sizeof(head));
  assert_int_equal(ws_decoder_decode(&d, h, sizeof(h), &used, &c), 1);
  assert_true(c.header->length == (uint64_t)INT64_MAX);
  assert_int_equal(c.len, 0);
  uint64_t total = 0;
  /* 4100 MiB: past 2^32 bytes of one frame. The client does not unmask,
   * so this costs nothing per byte. */
  for (int i = 0; i < 4100; i++) {
    assert_int_equal(ws_decoder_decode(&d, buf, piece, &used, &c), 1);
    assert_int_equal(used, piece);
    assert_int_equal(c.len, piece);
    assert_true(c.frame_offset == total);
    assert_int_equal(c.last, 0);
    total += piece;
  }
  assert_true(total > UINT32_MAX);
  assert_true(d.pos == total + sizeof(head));

  /* Masked, to a server, with odd-sized pieces: the key phase follows. */
  static const uint8_t mhead[] = {0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0x11, 0x22, 0x33, 0x44};
  cfg = cfg_role(WS_ROLE_SERVER);
  ws_decoder_init(&d, &cfg);
  memcpy(buf, mhead, sizeof(mhead));
  assert_int_equal(ws_decoder_decode(&d, buf, sizeof(mhead), &used, &c), 1);
  uint64_t at = 0;
  for (size_t step = 1; step < 70; step += 7) {
    memset(buf, 0, step);
    assert_int_equal(ws_decoder_decode(&d, buf, step, &used, &c), 1);
    assert_true(c.frame_offset == at);
    for (size_t j = 0; j < step; j++)
      assert_int_equal(buf[j], mhead[10 + ((at + j) & 3)]);
    at += step;
  }
  free(buf);
}

/* ------------------------------------------------------------------ */
/* Random streams                                                      */

struct gen_frame {
  struct ws_frame_header h;
  uint8_t *payload;
};

static uint32_t rnd(uint64_t *seed, uint32_t n) {
  uint8_t b[4];
  test_random(b, 4, seed);
  uint32_t v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
               (uint32_t)b[3] << 24;
  return n ? v % n : v;
}

static uint64_t pick_len(uint64_t *seed, int control, int allow_big) {
  static const uint64_t edges[] = {0, 1, 2, 3, 4, 5, 124, 125, 126, 127,
                                   65535, 65536, 65537};
  uint32_t k = rnd(seed, 10);
  if (control)
    return k < 3 ? (k == 0 ? 0 : 125) : rnd(seed, 126);
  if (k < 2) {
    uint64_t e = edges[rnd(seed, allow_big ? 13 : 10)];
    return e;
  }
  return rnd(seed, k < 8 ? 40 : 300);
}

/* Builds |n| random frames with the encoder, fresh keys from |seed|. */
static uint8_t *gen_stream(uint64_t *seed, enum ws_role role, int n,
                           int allow_big, int odd_forms,
                           struct gen_frame *fr, size_t *outlen) {
  static const uint8_t ops[] = {0, 1, 2, 8, 9, 10};
  size_t cap = 0;
  for (int i = 0; i < n; i++) {
    struct ws_frame_header *h = &fr[i].h;
    memset(h, 0, sizeof(*h));
    h->opcode = ops[rnd(seed, 6)];
    int control = WS_OP_IS_CONTROL(h->opcode);
    h->fin = control ? 1 : (uint8_t)rnd(seed, 2);
    h->rsv = odd_forms ? (uint8_t)(rnd(seed, 8) << 4) : 0;
    h->masked = role == WS_ROLE_SERVER;
    h->length = pick_len(seed, control, allow_big);
    if (odd_forms && !control) {
      static const uint8_t forms[] = {0, 7, 16, 64};
      h->length_form = forms[rnd(seed, 4)];
    }
    fr[i].payload = malloc((size_t)h->length + 1);
    assert_non_null(fr[i].payload);
    test_random(fr[i].payload, (size_t)h->length, seed);
    cap += ws_frame_encoded_size(h);
  }
  uint8_t *buf = malloc(cap ? cap : 1);
  assert_non_null(buf);
  size_t at = 0;
  for (int i = 0; i < n; i++) {
    ws_ssize w = ws_frame_encode(buf + at, cap - at, &fr[i].h, fr[i].payload,
                                 test_random, seed);
    assert_true(w > 0);
    at += (size_t)w;
  }
  assert_int_equal(at, cap);
  *outlen = at;
  return buf;
}

static void check_stream(const struct rec *r, const struct gen_frame *fr,
                         int n) {
  assert_int_equal(r->result, 0);
  assert_int_equal(r->n, n);
  for (int i = 0; i < n; i++) {
    const struct ws_frame_header *a = &r->f[i].h, *b = &fr[i].h;
    assert_true(r->f[i].complete);
    assert_int_equal(a->fin, b->fin);
    assert_int_equal(a->rsv, b->rsv);
    assert_int_equal(a->opcode, b->opcode);
    assert_int_equal(a->masked, b->masked);
    assert_true(a->length == b->length);
    assert_int_equal(a->header_len, b->header_len);
    if (b->masked)
      assert_memory_equal(a->mask, b->mask, 4);
    if (b->length_form == 16 || b->length_form == 64)
      assert_true(a->length_form == b->length_form ||
                  (b->length_form == 16 && b->length > 0xffff));
    if (b->length)
      assert_memory_equal(r->f[i].payload, fr[i].payload, (size_t)b->length);
  }
}

static void free_frames(struct gen_frame *fr, int n) {
  for (int i = 0; i < n; i++)
    free(fr[i].payload);
}

static void test_ws_frame_decode_split_invariance(void **state) {
  (void)state;
  uint64_t seed = 0x9e3779b97f4a7c15u;
  struct gen_frame fr[24];
  for (int round = 0; round < 60; round++) {
    enum ws_role role = (enum ws_role)(round & 1);
    int odd = (round % 3) == 2;
    int big = (round % 10) == 9;
    int n = 1 + (int)rnd(&seed, 24);
    size_t len;
    uint8_t *wire = gen_stream(&seed, role, n, big, odd, fr, &len);
    struct ws_decoder_config cfg = cfg_role(role);
    if (odd) {
      cfg.allowed_rsv = WS_MASK_RSV;
      cfg.allow_nonminimal_length = 1;
    }
    struct rec r;
    check_splits(&cfg, wire, len, len <= 3000, 30, seed, &r);
    check_stream(&r, fr, n);
    assert_int_equal(r.chunk_calls, n);
    assert_true(r.pos == len);
    rec_free(&r);
    free(wire);
    free_frames(fr, n);
  }
}

/* ------------------------------------------------------------------ */
/* Encoder                                                             */

static void test_ws_frame_encode_lengths(void **state) {
  (void)state;
  static const struct {
    uint64_t len;
    uint8_t form;
    const char *head; /* unmasked header */
  } t[] = {
      {0, 0, "82 00"},
      {125, 0, "82 7d"},
      {126, 0, "82 7e 007e"},
      {65535, 0, "82 7e ffff"},
      {65536, 0, "82 7f 0000000000010000"},
      {5, 16, "82 7e 0005"},
      {5, 64, "82 7f 0000000000000005"},
      {65535, 64, "82 7f 000000000000ffff"},
      {200, 7, "82 7e 00c8"},      /* 7 cannot hold 200: minimal */
      {70000, 16, "82 7f 0000000000011170"}, /* 16 cannot: minimal */
      {70000, 7, "82 7f 0000000000011170"},
      {125, 7, "82 7d"},
  };
  uint8_t *pl = pattern(70000);
  uint8_t *out = malloc(70000 + 14);
  assert_non_null(out);
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    size_t hl;
    uint8_t *head = hex_decode(t[i].head, &hl);
    for (int masked = 0; masked < 2; masked++) {
      struct ws_frame_header h;
      memset(&h, 0, sizeof(h));
      h.fin = 1;
      h.opcode = WS_OP_BINARY;
      h.length = t[i].len;
      h.length_form = t[i].form;
      h.masked = (uint8_t)masked;
      memcpy(h.mask, "\x0f\xf0\xaa\x55", 4);
      size_t want = hl + (masked ? 4 : 0);
      uint8_t hb[WS_FRAME_HEADER_MAX];
      assert_int_equal(ws_frame_header_encode(hb, &h), want);
      assert_int_equal(ws_frame_encoded_size(&h), want + t[i].len);
      ws_ssize w = ws_frame_encode(out, want + (size_t)t[i].len, &h, pl, NULL,
                                   NULL);
      assert_int_equal(w, (ws_ssize)(want + t[i].len));
      assert_int_equal(out[0], 0x82);
      assert_int_equal(out[1], head[1] | (masked ? 0x80 : 0));
      assert_memory_equal(out + 2, head + 2, hl - 2);
      assert_memory_equal(hb, out, want);
      if (masked) {
        assert_memory_equal(out + hl, "\x0f\xf0\xaa\x55", 4);
        for (size_t j = 0; j < t[i].len; j++)
          assert_int_equal(out[want + j], pl[j] ^ h.mask[j & 3]);
      } else {
        assert_memory_equal(out + want, pl, (size_t)t[i].len);
      }
    }
    free(head);
  }
  free(out);
  free(pl);
}

static void test_ws_frame_encode_header_bits(void **state) {
  (void)state;
  struct ws_frame_header h;
  uint8_t out[WS_FRAME_HEADER_MAX];
  memset(&h, 0, sizeof(h));
  h.fin = 0;
  h.rsv = WS_BIT_RSV1 | WS_BIT_RSV3;
  h.opcode = WS_OP_CONTINUATION;
  h.length = 3;
  assert_int_equal(ws_frame_header_encode(out, &h), 2);
  assert_int_equal(out[0], 0x50);
  assert_int_equal(out[1], 0x03);
  /* The encoder writes what it is asked for, reserved opcodes and long
   * control frames included; the decoder judges them. */
  h.fin = 1;
  h.rsv = 0;
  h.opcode = 0xb;
  assert_int_equal(ws_frame_header_encode(out, &h), 2);
  assert_int_equal(out[0], 0x8b);
  h.opcode = WS_OP_PING;
  h.length = 200;
  assert_int_equal(ws_frame_header_encode(out, &h), 4);
  assert_memory_equal(out, "\x89\x7e\x00\xc8", 4);
  /* A 64-bit length with the top bit set, for LENGTH_MSB cases. */
  h.opcode = WS_OP_BINARY;
  h.length = (uint64_t)1 << 63;
  assert_int_equal(ws_frame_header_encode(out, &h), 10);
  assert_memory_equal(out, "\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10);
  struct ws_decoder d;
  struct ws_decoder_config cfg = cfg_role(WS_ROLE_CLIENT);
  struct ws_frame_chunk c;
  size_t used;
  ws_decoder_init(&d, &cfg);
  assert_int_equal(ws_decoder_decode(&d, out, 10, &used, &c), WS_EPROTO);
  assert_int_equal(d.violation.id, WS_V_LENGTH_MSB);
  assert_true(d.violation.offset == 2);
  assert_int_equal(ws_frame_header_encode(NULL, &h), 0);
  assert_int_equal(ws_frame_header_encode(out, NULL), 0);
  assert_int_equal(ws_frame_encoded_size(NULL), 0);
  h.length = UINT64_MAX;
  assert_int_equal(ws_frame_encoded_size(&h), 0);
}

static void test_ws_frame_encode_fresh_mask(void **state) {
  (void)state;
  uint64_t seed = 12345, copy = 12345;
  uint8_t a[11], b[11], k1[4], k2[4];
  struct ws_frame_header h;
  memset(&h, 0, sizeof(h));
  h.fin = 1;
  h.opcode = WS_OP_TEXT;
  h.masked = 1;
  h.length = 5;
  assert_int_equal(ws_frame_encode(a, sizeof(a), &h, hello, test_random, &seed),
                   11);
  assert_int_equal(ws_frame_encode(b, sizeof(b), &h, hello, test_random, &seed),
                   11);
  /* The keys are exactly the next bytes of the source, one draw each. */
  test_random(k1, 4, &copy);
  test_random(k2, 4, &copy);
  assert_true(seed == copy);
  assert_memory_equal(a + 2, k1, 4);
  assert_memory_equal(b + 2, k2, 4);
  assert_memory_not_equal(a + 2, b + 2, 4);
  assert_memory_not_equal(a + 6, b + 6, 5);
  assert_memory_equal(h.mask, k2, 4);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(a[6 + i] ^ k1[i & 3], hello[i]);
    assert_int_equal(b[6 + i] ^ k2[i & 3], hello[i]);
  }
  /* The default source draws fresh keys as well. */
  assert_int_equal(
      ws_frame_encode(a, sizeof(a), &h, hello, ws_random_default, NULL), 11);
  assert_int_equal(
      ws_frame_encode(b, sizeof(b), &h, hello, ws_random_default, NULL), 11);
  assert_memory_not_equal(a + 2, b + 2, 4);
}

static int random_fails(uint8_t *buf, size_t len, void *user) {
  (void)buf;
  (void)len;
  (*(int *)user)++;
  return -1;
}

static void test_ws_frame_encode_errors(void **state) {
  (void)state;
  uint8_t out[32];
  struct ws_frame_header h;
  uint64_t seed = 5;
  int calls = 0;
  memset(&h, 0, sizeof(h));
  h.fin = 1;
  h.opcode = WS_OP_TEXT;
  h.masked = 1;
  h.length = 5;
  memcpy(h.mask, rfc_key, 4);
  memset(out, 0xee, sizeof(out));
  /* One byte short: nothing written, no key drawn. */
  assert_int_equal(ws_frame_encode(out, 10, &h, hello, test_random, &seed),
                   WS_ENOBUFS);
  assert_true(seed == 5);
  assert_memory_equal(h.mask, rfc_key, 4);
  assert_int_equal(out[0], 0xee);
  assert_int_equal(ws_frame_encode(out, 0, &h, hello, NULL, NULL), WS_ENOBUFS);
  /* Randomness failure: h->mask unchanged, nothing written. */
  assert_int_equal(ws_frame_encode(out, 32, &h, hello, random_fails, &calls),
                   WS_ERANDOM);
  assert_int_equal(calls, 1);
  assert_memory_equal(h.mask, rfc_key, 4);
  assert_int_equal(out[0], 0xee);
  /* Unmasked frames never draw. */
  h.masked = 0;
  assert_int_equal(ws_frame_encode(out, 32, &h, hello, random_fails, &calls),
                   7);
  assert_int_equal(calls, 1);
  /* Invalid arguments. */
  h.opcode = 16;
  assert_int_equal(ws_frame_encode(out, 32, &h, hello, NULL, NULL), WS_EINVAL);
  h.opcode = WS_OP_TEXT;
  h.rsv = 0x80;
  assert_int_equal(ws_frame_encode(out, 32, &h, hello, NULL, NULL), WS_EINVAL);
  h.rsv = 0x08;
  assert_int_equal(ws_frame_encode(out, 32, &h, hello, NULL, NULL), WS_EINVAL);
  h.rsv = 0;
  h.length_form = 8;
  assert_int_equal(ws_frame_encode(out, 32, &h, hello, NULL, NULL), WS_EINVAL);
  h.length_form = 0;
  assert_int_equal(ws_frame_encode(NULL, 32, &h, hello, NULL, NULL), WS_EINVAL);
  assert_int_equal(ws_frame_encode(out, 32, NULL, hello, NULL, NULL),
                   WS_EINVAL);
  assert_int_equal(ws_frame_encode(out, 32, &h, NULL, NULL, NULL), WS_EINVAL);
  h.length = 0;
  assert_int_equal(ws_frame_encode(out, 32, &h, NULL, NULL, NULL), 2);
  /* A size that does not fit in ws_ssize. */
  h.length = (uint64_t)PTRDIFF_MAX;
  assert_int_equal(ws_frame_encode(out, 32, &h, hello, NULL, NULL), WS_EINVAL);
  h.length = UINT64_MAX;
  assert_int_equal(ws_frame_encode(out, 32, &h, hello, NULL, NULL), WS_EINVAL);
  assert_int_equal(out[0], 0x81); /* from the length-0 frame */
}

static void test_ws_frame_encode_round_trip(void **state) {
  (void)state;
  uint64_t seed = 77;
  struct gen_frame fr[40];
  for (int round = 0; round < 40; round++) {
    enum ws_role role = (enum ws_role)(round & 1);
    int odd = round % 4 >= 2;
    int n = 1 + (int)rnd(&seed, 40);
    size_t len;
    uint8_t *wire = gen_stream(&seed, role, n, round % 8 == 7, odd, fr, &len);
    struct ws_decoder_config cfg = cfg_role(role);
    cfg.allowed_rsv = WS_MASK_RSV;
    cfg.allow_nonminimal_length = (uint8_t)odd;
    struct rec r;
    check_splits(&cfg, wire, len, 0, 8, seed, &r);
    check_stream(&r, fr, n);
    /* Keys are fresh per frame. */
    for (int i = 1; role == WS_ROLE_SERVER && i < n; i++)
      assert_memory_not_equal(fr[i].h.mask, fr[i - 1].h.mask, 4);
    rec_free(&r);
    free(wire);
    free_frames(fr, n);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ws_frame_rfc_unmasked_text),
      cmocka_unit_test(test_ws_frame_rfc_masked_text),
      cmocka_unit_test(test_ws_frame_rfc_fragmented),
      cmocka_unit_test(test_ws_frame_rfc_ping_pong),
      cmocka_unit_test(test_ws_frame_rfc_binary_256),
      cmocka_unit_test(test_ws_frame_rfc_binary_64k),
      cmocka_unit_test(test_ws_frame_decode_violations),
      cmocka_unit_test(test_ws_frame_decode_all_opcodes),
      cmocka_unit_test(test_ws_frame_decode_accepts),
      cmocka_unit_test(test_ws_frame_decode_truncated),
      cmocka_unit_test(test_ws_frame_decode_header_only_chunk),
      cmocka_unit_test(test_ws_frame_decode_skip_unmask),
      cmocka_unit_test(test_ws_frame_decode_einval),
      cmocka_unit_test(test_ws_frame_decode_huge),
      cmocka_unit_test(test_ws_frame_decode_split_invariance),
      cmocka_unit_test(test_ws_frame_encode_lengths),
      cmocka_unit_test(test_ws_frame_encode_header_bits),
      cmocka_unit_test(test_ws_frame_encode_fresh_mask),
      cmocka_unit_test(test_ws_frame_encode_errors),
      cmocka_unit_test(test_ws_frame_encode_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
