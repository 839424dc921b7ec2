/*
 * ws_frame.h: the RFC 6455 Section 5 frame codec, sans-I/O.
 *
 * The codec knows frames only: header layout, masking, the per-frame rules
 * of Sections 5.2, 5.3 and 5.5. It knows nothing of messages, UTF-8, ping
 * replies or the close handshake; ws_session.h owns those.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-------+-+-------------+-------------------------------+
 *   |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *   |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *   |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 *   | |1|2|3|       |K|             |                               |
 *   +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 *   |     Extended payload length continued, if payload len == 127  |
 *   + - - - - - - - - - - - - - - - +-------------------------------+
 *   |                               |Masking-key, if MASK set to 1  |
 *   +-------------------------------+-------------------------------+
 *   | Masking-key (continued)       |          Payload Data         |
 *   +-------------------------------- - - - - - - - - - - - - - - - +
 */
#ifndef WS_FRAME_H
#define WS_FRAME_H

#include "../core/ws_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* First header byte. */
#define WS_BIT_FIN 0x80u
#define WS_BIT_RSV1 0x40u
#define WS_BIT_RSV2 0x20u
#define WS_BIT_RSV3 0x10u
#define WS_MASK_RSV 0x70u
#define WS_MASK_OPCODE 0x0fu
/* Second header byte. */
#define WS_BIT_MASK 0x80u
#define WS_MASK_LEN7 0x7fu

/* Largest control frame payload, RFC 6455 Section 5.5. */
#define WS_CONTROL_MAX 125u
/* Largest header: 2 + 8 (64-bit length) + 4 (mask key). */
#define WS_FRAME_HEADER_MAX 14u

enum ws_opcode {
  WS_OP_CONTINUATION = 0x0,
  WS_OP_TEXT = 0x1,
  WS_OP_BINARY = 0x2,
  WS_OP_CLOSE = 0x8,
  WS_OP_PING = 0x9,
  WS_OP_PONG = 0xa
};

/* Returns 1 for opcodes 8-15 (control frames), 0 otherwise. */
#define WS_OP_IS_CONTROL(op) (((op)&0x8u) != 0)

/* A decoded or to-be-encoded frame header. */
struct ws_frame_header {
  uint8_t fin;      /* 1 or 0 */
  uint8_t rsv;      /* RSV1..RSV3 as the bits 0x40/0x20/0x10 */
  uint8_t opcode;   /* 0..15 */
  uint8_t masked;   /* 1 when a masking key is present */
  uint8_t mask[4];  /* the masking key when masked */
  uint64_t length;  /* payload length */
  uint8_t header_len;  /* bytes of header on the wire, 2..14 (decoder;
                          ws_frame_encode also sets it) */
  uint8_t length_form; /* encoder: 0 = minimal, else 7, 16 or 64;
                          decoder: the form seen on the wire, 7/16/64 */
};

/* Decoder configuration. */
struct ws_decoder_config {
  enum ws_role role;      /* SERVER: frames must be masked; CLIENT: not */
  uint8_t allowed_rsv;    /* RSV bits a negotiated extension permits */
  uint8_t allow_nonminimal_length; /* 1: accept non-shortest lengths */
  uint8_t skip_unmask;    /* 1: deliver payload still masked */
  uint64_t max_frame_size; /* 0 = no limit beyond 2^63 - 1 */
};

/* Fills |c| with the defaults for |role|: no RSV bits, strict lengths,
 * unmasking on, no frame size limit. Does nothing when |c| is NULL. */
void ws_decoder_config_default(struct ws_decoder_config *c, enum ws_role role);

/*
 * Streaming decoder state, caller-allocated (no allocation inside). The
 * fields are private except where noted.
 */
struct ws_decoder {
  struct ws_decoder_config config;
  struct ws_frame_header header; /* public, read-only: the current frame */
  struct ws_violation violation; /* public, read-only: after WS_EPROTO */
  uint64_t pos;        /* public, read-only: stream bytes consumed */
  uint64_t remaining;  /* payload bytes of the current frame still due */
  uint64_t frame_pos;  /* payload bytes of the current frame delivered */
  uint8_t state;
  uint8_t need;        /* header bytes needed for the current state */
  uint8_t have;        /* header bytes gathered in |hbuf| */
  uint8_t hbuf[WS_FRAME_HEADER_MAX];
};

/* One piece of a frame's payload, delivered by ws_decoder_decode. */
struct ws_frame_chunk {
  const struct ws_frame_header *header; /* the frame; valid until next call */
  uint8_t *data;         /* points into the caller's input buffer */
  size_t len;            /* may be 0 (empty payload, or header only) */
  uint64_t frame_offset; /* offset of |data| within the frame's payload */
  uint8_t first;         /* 1 on the first chunk of the frame */
  uint8_t last;          /* 1 when this chunk ends the frame */
};

/* Initialises |d| for a new stream. |c| is copied; NULL selects
 * ws_decoder_config_default(WS_ROLE_SERVER). Does nothing when |d| is
 * NULL. */
void ws_decoder_init(struct ws_decoder *d, const struct ws_decoder_config *c);

/*
 * Decodes from |in|. Input may be split anywhere: the decoder keeps up to
 * 14 header bytes of its own and never reads outside in[0..inlen).
 *
 * Every frame yields at least one chunk. The first chunk (first = 1) is
 * delivered as soon as the header is complete and checked, possibly with
 * len = 0 when no payload byte has arrived yet; payload bytes are delivered
 * as they arrive, unmasked in place in |in| (the decoder writes into the
 * caller's buffer unless config.skip_unmask is set). The chunk with
 * last = 1 ends the frame.
 *
 * *consumed is set to the number of bytes of |in| used, in all cases.
 * On WS_EPROTO it counts the bytes read up to the one that revealed the
 * violation (for example byte 0 for a reserved opcode, the last extended
 * length byte for a non-minimal length), so d->pos ends at the same value
 * however the input was split. |in| may be NULL only when |inlen| is 0.
 *
 * Rules are checked in wire order, each as soon as its bytes are present,
 * so when several are broken at once the first in this list wins, and the
 * result does not depend on how the input was split (offsets are relative
 * to the frame's byte 0):
 *   1. RSV bits outside config.allowed_rsv     RSV_BITS            @0
 *   2. opcode 3-7 or 11-15                     RESERVED_OPCODE     @0
 *   3. control opcode with FIN = 0             CONTROL_FRAGMENTED  @0
 *   4. MASK bit wrong for config.role          UNMASKED_CLIENT_FRAME /
 *                                              MASKED_SERVER_FRAME @1
 *   5. control frame with 7-bit length 126/127 CONTROL_TOO_LONG    @1
 *      (an extended form on a control frame is either over 125 or not
 *      minimal, so it is rejected at byte 1 even when
 *      allow_nonminimal_length is set)
 *   6. 7-bit length over max_frame_size        FRAME_TOO_BIG       @1
 *   7. 64-bit length with the top bit set      LENGTH_MSB          @2
 *   8. 16-bit form for < 126, 64-bit form for < 65536, unless
 *      allow_nonminimal_length                 LENGTH_NOT_MINIMAL  @1
 *   9. extended length over max_frame_size     FRAME_TOO_BIG       @1
 * The decoder never allocates; lengths up to 2^63 - 1 are tracked in 64
 * bits on every platform.
 *
 * A chunk with len = 0 has |data| pointing at in + *consumed. When a whole
 * frame lies in |in|, one call returns it as a single chunk (first = 1 and
 * last = 1).
 *
 * Returns:
 *   1          a chunk was stored in *out; call again with the rest
 *   0          all input consumed, no chunk pending (need more input)
 *   WS_EPROTO  the input broke a rule; d->violation says which, with the
 *              stream offset of the offending byte. The decoder stays in
 *              this state: further calls return WS_EPROTO and consume 0.
 *   WS_EINVAL  a NULL argument
 */
int ws_decoder_decode(struct ws_decoder *d, uint8_t *in, size_t inlen,
                      size_t *consumed, struct ws_frame_chunk *out);

/*
 * Returns the number of bytes ws_frame_encode needs for a frame whose header
 * is |h| (its length, length_form and masked fields) plus its payload, or 0
 * when the length cannot be represented in size_t.
 */
size_t ws_frame_encoded_size(const struct ws_frame_header *h);

/*
 * Writes the header of |h| to |out| (at least WS_FRAME_HEADER_MAX bytes) and
 * returns its length (2..14), or 0 when an argument is NULL. Uses the
 * minimal length form unless h->length_form forces one: 16 is honoured for
 * lengths up to 65535, 64 always; a form too small for the length (7 above
 * 125, 16 above 65535) and any other value fall back to the minimal form.
 * The mask key is written as given in h->mask when h->masked. Non-zero
 * fin/masked count as 1; opcode and rsv are masked to their bits (the
 * validation is ws_frame_encode's). A length with the top bit set is
 * written as given, for tests of LENGTH_MSB.
 */
size_t ws_frame_header_encode(uint8_t *out, const struct ws_frame_header *h);

/*
 * Encodes a whole frame: header then payload (h->length bytes of
 * |payload|), masked when h->masked. When h->masked and |random| is not NULL,
 * a fresh key is drawn from |random| into h->mask first (RFC 6455 Section
 * 5.3: a new, unpredictable key for every frame).
 *
 * When h->masked and |random| is NULL the key in h->mask is used as is
 * (golden wire bytes in tests). |payload| must not overlap |out|; it may
 * be NULL when h->length is 0. On success h->header_len is set.
 *
 * Returns the number of bytes written, or:
 *   WS_ENOBUFS  |outlen| is smaller than ws_frame_encoded_size(h); nothing
 *               is written and no key is drawn
 *   WS_EINVAL   opcode > 15, rsv outside 0x70, length_form not 0/7/16/64,
 *               a NULL argument, or a frame whose size does not fit in
 *               ws_ssize
 *   WS_ERANDOM  |random| failed; h->mask is unchanged, nothing written
 * Encoding does not judge the frame: it writes control frames over 125
 * bytes or reserved opcodes when asked (tests and the runner need that).
 */
ws_ssize ws_frame_encode(uint8_t *out, size_t outlen, struct ws_frame_header *h,
                         const uint8_t *payload, ws_random_fn random,
                         void *random_user);

#ifdef __cplusplus
}
#endif

#endif /* WS_FRAME_H */
