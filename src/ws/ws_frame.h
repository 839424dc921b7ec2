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
  uint8_t header_len;  /* bytes of header on the wire, 2..14 (decoder) */
  uint8_t length_form; /* encoder: 0 = minimal, else 7, 16 or 64 */
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
 * unmasking on, no frame size limit. */
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

/* Initialises |d| for a new stream. |config| is copied. */
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
 * returns its length (2..14). Uses the minimal length form unless
 * h->length_form forces one (a form too small for the length is ignored).
 * The mask key is written as given in h->mask when h->masked.
 */
size_t ws_frame_header_encode(uint8_t *out, const struct ws_frame_header *h);

/*
 * Encodes a whole frame: header then payload (h->length bytes of
 * |payload|), masked when h->masked. When h->masked and |random| is not NULL,
 * a fresh key is drawn from |random| into h->mask first (RFC 6455 Section
 * 5.3: a new, unpredictable key for every frame).
 *
 * Returns the number of bytes written, or:
 *   WS_ENOBUFS  |outlen| is smaller than ws_frame_encoded_size(h)
 *   WS_EINVAL   opcode > 15, rsv outside 0x70, or a NULL argument
 *   WS_ERANDOM  |random| failed
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
