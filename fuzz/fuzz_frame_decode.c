/*
 * fuzz_frame_decode: the streaming frame decoder (ws_frame.h) and the
 * session policy on top of it (ws_session.h: assembly, UTF-8, control
 * frames, close rules, limits), fed the same bytes in chunks and whole.
 *
 * Input:
 *   byte 0  bit 0     role: 0 server (peer frames masked), 1 client
 *           bits 1-3  allowed RSV bits (RSV3, RSV2, RSV1)
 *           bit 4     session: streaming delivery (on_message_data)
 *           bit 5     session: auto_pong
 *           bit 6     decoder: allow_nonminimal_length
 *           bit 7     decoder: skip_unmask
 *   byte 1  bits 0-1  max_frame_size: none, 16, 200, 70000
 *           bits 2-3  max_message_size: 64 MiB, none, 100, 70000
 *           bits 4-7  callback failure: 0 none, else the callback event
 *                     with that number returns non-zero
 *   byte 2  bits 0-1  fragment_size of echoes: none, 16, 100, 1000
 *           bits 2-3  send_chunk_size: 64 KiB, everything, 20, 130
 *           bits 4-5  on_close: let the session echo, reply 1000 "bye",
 *                     reply empty (1005), try an invalid code (EINVAL)
 *           bit 6     echo every message back
 *   byte 3  bits 6-7 = 3: a third session run, whose allocation number
 *           (bits 0-5) fails (WS_ENOMEM contract, no leaks)
 *   rest    chunks: [length byte][bytes], 0 = the rest of the input; the
 *           64th chunk takes the rest
 *
 * Oracles (each aborts):
 *   - the decoder over the chunks, the decoder over the whole stream and a
 *     slow reference decoder written here from the rule list of ws_frame.h
 *     produce the same frames, payload bytes, violation and offset;
 *   - every chunk keeps the decoder's contract: it ends where the decoder
 *     stopped, frame offsets are contiguous, |last| exactly at the end of
 *     the frame, payload unmasked with the key phase of its offset;
 *   - the session over the chunks and over the whole stream fires the same
 *     events and emits the same bytes (split invariance, ws_session.h);
 *   - every event keeps its contract (TEXT is UTF-8 by the reference
 *     validator, limits hold, violations are consistent, states right);
 *   - everything the session emits decodes cleanly in a peer session, and
 *     the peer sees the Close the session had to send;
 *   - under allocation failure: WS_ENOMEM as documented, nothing leaks.
 */
#include "fuzz_session_util.h"
#include "fuzz_util.h"
#include "ws/ws_frame.h"
#include "ws/ws_session.h"

/* Enough to cut every header of a few frames byte by byte; the last chunk
 * takes the rest. The cap bounds the per-run cost (each chunk is a
 * decoder call, a session call and fresh memory for both). */
#define MAX_CHUNKS 64

struct config {
  enum ws_role role;
  struct ws_decoder_config dec;
  struct ws_session_options opt;
  int streaming, echo, close_reply;
  unsigned fail_event;
  long fail_alloc;
};

static void parse_config(struct fuzz_reader *r, struct config *c) {
  static const uint64_t frame_max[4] = {0, 16, 200, 70000};
  static const uint64_t msg_max[4] = {(uint64_t)64 << 20, 0, 100, 70000};
  /* Echo amplification (a frame per input byte, a send call per few
   * bytes) would cost more than it finds: fragments of 16 and up. */
  static const size_t frag[4] = {0, 16, 100, 1000};
  static const size_t chunk[4] = {65536, 0, 20, 130};
  uint8_t b0 = fz_u8(r), b1 = fz_u8(r), b2 = fz_u8(r), b3 = fz_u8(r);
  c->role = (b0 & 1) ? WS_ROLE_CLIENT : WS_ROLE_SERVER;
  uint8_t rsv = (uint8_t)((b0 & 0x0e) << 3);
  ws_decoder_config_default(&c->dec, c->role);
  c->dec.allowed_rsv = rsv;
  c->dec.allow_nonminimal_length = (b0 >> 6) & 1;
  c->dec.skip_unmask = (b0 >> 7) & 1;
  c->dec.max_frame_size = frame_max[b1 & 3];
  ws_session_options_default(&c->opt);
  c->opt.allowed_rsv = rsv;
  c->opt.auto_pong = (b0 >> 5) & 1;
  c->opt.max_frame_size = frame_max[b1 & 3];
  c->opt.max_message_size = msg_max[(b1 >> 2) & 3];
  c->opt.fragment_size = frag[b2 & 3];
  c->opt.send_chunk_size = chunk[(b2 >> 2) & 3];
  c->opt.random = fuzz_random;
  c->streaming = (b0 >> 4) & 1;
  c->fail_event = b1 >> 4;
  c->close_reply = (b2 >> 4) & 3;
  c->echo = (b2 >> 6) & 1;
  c->fail_alloc = (b3 >> 6) == 3 ? (long)(b3 & 0x3f) : -1;
}

/* ----------------------------------------------------------- decoder */

FUZZ_NOCOV static void log_header(struct fuzz_log *log,
                                  const struct ws_frame_header *h) {
  uint32_t key;
  memcpy(&key, h->mask, 4);
  fuzz_log_event(log, 'H',
                 (uint64_t)h->fin << 7 | h->rsv | h->opcode |
                     (uint64_t)h->masked << 8 | (uint64_t)h->header_len << 16 |
                     (uint64_t)h->length_form << 24,
                 h->length, key);
}

/* Checks one chunk against the decoder contract and the pristine stream
 * (|stream|, not unmasked), and logs it in a split-invariant form: the
 * header at the first chunk, the payload bytes, an end mark. */
struct frame_track {
  int in_frame;
  uint64_t frame_pos;
};

FUZZ_NOCOV static void take_chunk(const struct config *c, struct frame_track *t,
                                  const struct ws_frame_chunk *ch,
                                  const uint8_t *stream, uint64_t stream_at,
                                  struct fuzz_log *log) {
  const struct ws_frame_header *h = ch->header;
  if (ch->first) {
    FUZZ_CHECK(!t->in_frame);
    unsigned l7 = h->length < 126 ? 7 : h->length < 65536 ? 16 : 64;
    FUZZ_CHECK(h->length_form == 7 || h->length_form == 16 ||
               h->length_form == 64);
    FUZZ_CHECK(h->header_len == 2 +
                                    (h->length_form == 16   ? 2
                                     : h->length_form == 64 ? 8
                                                            : 0) +
                                    (h->masked ? 4 : 0));
    if (!c->dec.allow_nonminimal_length)
      FUZZ_CHECK(h->length_form == l7);
    FUZZ_CHECK((h->length >> 63) == 0);
    FUZZ_CHECK(!c->dec.max_frame_size || h->length <= c->dec.max_frame_size);
    FUZZ_CHECK(h->masked == (c->role == WS_ROLE_SERVER));
    FUZZ_CHECK((h->rsv & ~c->dec.allowed_rsv) == 0);
    if (WS_OP_IS_CONTROL(h->opcode))
      FUZZ_CHECK(h->fin && h->length <= WS_CONTROL_MAX);
    t->in_frame = 1;
    t->frame_pos = 0;
    log_header(log, h);
  } else {
    FUZZ_CHECK(t->in_frame && ch->len > 0);
  }
  FUZZ_CHECK(ch->frame_offset == t->frame_pos);
  FUZZ_CHECK(ch->len <= h->length - t->frame_pos);
  int unmask = h->masked && !c->dec.skip_unmask;
  for (size_t i = 0; i < ch->len; i++) {
    uint8_t want = stream[stream_at + i];
    if (unmask)
      want ^= h->mask[(t->frame_pos + i) & 3];
    FUZZ_CHECK(ch->data[i] == want);
  }
  fuzz_log_bytes(log, ch->data, ch->len);
  t->frame_pos += ch->len;
  FUZZ_CHECK(ch->last == (t->frame_pos == h->length));
  if (ch->last) {
    t->in_frame = 0;
    fuzz_log_event(log, 'E', 0, 0, 0);
  }
}

/* Runs a decoder over the pieces, each fresh in memory of its exact size
 * (the decoder unmasks in place). */
static void decoder_run(const struct config *c, struct fuzz_pieces *pieces,
                        const uint8_t *stream, size_t total,
                        struct fuzz_log *log) {
  struct ws_decoder d;
  struct frame_track t = {0, 0};
  int failed = 0;
  const struct fuzz_chunk *pc = pieces->c;
  ws_decoder_init(&d, &c->dec);
  for (size_t k = 0; k < pieces->n && !failed; k++) {
    uint8_t *buf = fuzz_pieces_get(pieces, k);
    size_t len = pc[k].len, off = 0;
    for (;;) {
      struct ws_frame_chunk ch;
      size_t used = (size_t)-1;
      uint64_t pos0 = d.pos;
      int r =
          ws_decoder_decode(&d, buf ? buf + off : NULL, len - off, &used, &ch);
      FUZZ_CHECK(used <= len - off);
      FUZZ_CHECK(d.pos == pos0 + used);
      off += used;
      if (r == 0) {
        FUZZ_CHECK(off == len);
        break;
      }
      if (r == WS_EPROTO) {
        const struct ws_violation *v = &d.violation;
        FUZZ_CHECK(v->offset < d.pos && !t.in_frame);
        fuzz_log_event(log, 'V', (uint64_t)v->id, v->offset, v->close_code);
        /* Sticky: nothing more is consumed. */
        size_t again = (size_t)-1;
        FUZZ_CHECK(ws_decoder_decode(&d, buf, len, &again, &ch) == WS_EPROTO &&
                   again == 0);
        failed = 1;
        break;
      }
      FUZZ_CHECK(r == 1 && ch.header == &d.header);
      /* ws_frame.h: a chunk ends where the decoder stopped; an empty one
       * points at in + consumed. */
      FUZZ_CHECK(ch.data + ch.len == buf + off);
      take_chunk(c, &t, &ch, stream, pc[k].off + off - ch.len, log);
    }
    fuzz_pieces_put(pieces, k, buf);
  }
  if (!failed)
    FUZZ_CHECK(d.pos == total);
  fuzz_log_event(log, 'P', d.pos, (uint64_t)failed, 0);
}

/* The reference: the rule list of ws_frame.h, applied to the whole stream
 * one frame at a time, without state machine or fast path. */
FUZZ_NOCOV static void decoder_ref(const struct config *c, const uint8_t *s,
                                   size_t n, struct fuzz_log *log) {
  size_t pos = 0, end = n;
  const struct ws_decoder_config *dc = &c->dec;
  enum ws_violation_id v = WS_V_NONE;
  uint64_t at = 0;
  while (pos < n) {
    uint8_t b0 = s[pos];
    unsigned op = b0 & 15;
    int control = op >= 8;
    if (b0 & 0x70 & ~dc->allowed_rsv)
      v = WS_V_RSV_BITS;
    else if ((op >= 3 && op <= 7) || op >= 11)
      v = WS_V_RESERVED_OPCODE;
    else if (control && !(b0 & 0x80))
      v = WS_V_CONTROL_FRAGMENTED;
    if (v) {
      at = pos, end = pos + 1;
      goto violated;
    }
    if (pos + 1 >= n)
      break;
    uint8_t b1 = s[pos + 1];
    int masked = b1 >> 7;
    unsigned l7 = b1 & 127;
    if (dc->role == WS_ROLE_CLIENT && masked)
      v = WS_V_MASKED_SERVER_FRAME;
    else if (dc->role == WS_ROLE_SERVER && !masked)
      v = WS_V_UNMASKED_CLIENT_FRAME;
    else if (control && l7 > 125)
      v = WS_V_CONTROL_TOO_LONG;
    else if (l7 <= 125 && dc->max_frame_size && l7 > dc->max_frame_size)
      v = WS_V_FRAME_TOO_BIG;
    if (v) {
      at = pos + 1, end = pos + 2;
      goto violated;
    }
    size_t ext = l7 == 126 ? 2 : l7 == 127 ? 8 : 0;
    if (pos + 2 + ext > n)
      break;
    uint64_t len = l7;
    if (ext) {
      len = 0;
      for (size_t i = 0; i < ext; i++)
        len = len << 8 | s[pos + 2 + i];
      if (ext == 8 && (len >> 63))
        v = WS_V_LENGTH_MSB, at = pos + 2;
      else if (!dc->allow_nonminimal_length &&
               ((ext == 2 && len < 126) || (ext == 8 && len < 65536)))
        v = WS_V_LENGTH_NOT_MINIMAL, at = pos + 1;
      else if (dc->max_frame_size && len > dc->max_frame_size)
        v = WS_V_FRAME_TOO_BIG, at = pos + 1;
      if (v) {
        end = pos + 2 + ext;
        goto violated;
      }
    }
    size_t hl = 2 + ext + (masked ? 4 : 0);
    if (pos + hl > n)
      break;
    struct ws_frame_header h;
    memset(&h, 0, sizeof(h));
    h.fin = b0 >> 7;
    h.rsv = b0 & 0x70;
    h.opcode = (uint8_t)op;
    h.masked = (uint8_t)masked;
    if (masked)
      memcpy(h.mask, s + pos + hl - 4, 4);
    h.length = len;
    h.header_len = (uint8_t)hl;
    h.length_form = ext == 0 ? 7 : ext == 2 ? 16 : 64;
    log_header(log, &h);
    size_t avail = n - pos - hl;
    size_t take = len < avail ? (size_t)len : avail;
    for (size_t i = 0; i < take; i += 64) {
      uint8_t b[64];
      size_t m = take - i < 64 ? take - i : 64;
      for (size_t j = 0; j < m; j++)
        b[j] = (uint8_t)(s[pos + hl + i + j] ^
                         (masked && !dc->skip_unmask ? h.mask[j & 3] : 0));
      fuzz_log_bytes(log, b, m);
    }
    if (take < len)
      break;
    fuzz_log_event(log, 'E', 0, 0, 0);
    pos += hl + take;
  }
  fuzz_log_event(log, 'P', end, 0, 0);
  return;
violated:;
  struct ws_violation w;
  ws_violation_set(&w, v, at);
  fuzz_log_event(log, 'V', (uint64_t)v, at, w.close_code);
  fuzz_log_event(log, 'P', end, 1, 0);
}

/* ----------------------------------------------------------- session */

struct run {
  const struct config *c;
  struct fuzz_log *log;
  ws_session *s;
  unsigned events;
  int enomem_run;
  /* streaming: the message so far */
  uint8_t *acc;
  size_t acc_len, acc_cap;
  int in_msg;
  uint8_t msg_op;
};

static int fire(struct run *x) { return ++x->events == x->c->fail_event; }

FUZZ_NOCOV static void check_text(const uint8_t *p, size_t n,
                                  int must_complete) {
  size_t bad;
  int complete;
  FUZZ_CHECK(fuzz_utf8_ref(p, n, &bad, &complete));
  if (must_complete)
    FUZZ_CHECK(complete);
}

static void echo(struct run *x, enum ws_opcode op, const uint8_t *p, size_t n) {
  if (!x->c->echo || ws_session_get_state(x->s) != WS_SESSION_OPEN)
    return;
  int e = ws_session_queue_message(x->s, op, p, n);
  FUZZ_CHECK(e == 0 || (x->enomem_run && e == WS_ENOMEM));
  fuzz_log_event(x->log, 'q', (uint64_t)(int64_t)e, 0, 0);
}

static void message(struct run *x, enum ws_opcode op, const uint8_t *p,
                    size_t n) {
  FUZZ_CHECK(op == WS_OP_TEXT || op == WS_OP_BINARY);
  FUZZ_CHECK(p != NULL);
  if (op == WS_OP_TEXT)
    check_text(p, n, 1);
  if (x->c->opt.max_message_size)
    FUZZ_CHECK(n <= x->c->opt.max_message_size);
  fuzz_log_event(x->log, 'M', (uint64_t)op, n, 0);
  fuzz_log_bytes(x->log, p, n);
  echo(x, op, p, n);
}

static int on_message(ws_session *s, enum ws_opcode op, const uint8_t *p,
                      size_t n, void *u) {
  struct run *x = (struct run *)u;
  FUZZ_CHECK(s == x->s && !x->c->streaming);
  message(x, op, p, n);
  return fire(x);
}

static int on_begin(ws_session *s, enum ws_opcode op, void *u) {
  struct run *x = (struct run *)u;
  FUZZ_CHECK(s == x->s && x->c->streaming && !x->in_msg);
  x->in_msg = 1;
  x->msg_op = (uint8_t)op;
  x->acc_len = 0;
  return fire(x);
}

static int on_data(ws_session *s, const uint8_t *p, size_t n, void *u) {
  struct run *x = (struct run *)u;
  FUZZ_CHECK(s == x->s && x->in_msg && n > 0);
  if (x->acc_len + n > x->acc_cap) {
    size_t cap = (x->acc_len + n) * 2;
    uint8_t *q = (uint8_t *)realloc(x->acc, cap);
    FUZZ_CHECK(q != NULL);
    x->acc = q;
    x->acc_cap = cap;
  }
  memcpy(x->acc + x->acc_len, p, n);
  x->acc_len += n;
  if (x->c->opt.max_message_size)
    FUZZ_CHECK(x->acc_len <= x->c->opt.max_message_size);
  return 0;
}

static int on_end(ws_session *s, void *u) {
  struct run *x = (struct run *)u;
  FUZZ_CHECK(s == x->s && x->in_msg);
  x->in_msg = 0;
  message(x, (enum ws_opcode)x->msg_op, x->acc ? x->acc : (const uint8_t *)"",
          x->acc_len);
  return fire(x);
}

static int on_ping(ws_session *s, const uint8_t *p, size_t n, void *u) {
  struct run *x = (struct run *)u;
  FUZZ_CHECK(s == x->s && n <= WS_CONTROL_MAX && (p || !n));
  fuzz_log_event(x->log, 'I', n, 0, 0);
  fuzz_log_bytes(x->log, p, n);
  return fire(x);
}

static int on_pong(ws_session *s, const uint8_t *p, size_t n, void *u) {
  struct run *x = (struct run *)u;
  FUZZ_CHECK(s == x->s && n <= WS_CONTROL_MAX && (p || !n));
  fuzz_log_event(x->log, 'O', n, 0, 0);
  fuzz_log_bytes(x->log, p, n);
  return fire(x);
}

static int on_close(ws_session *s, uint16_t code, const uint8_t *reason,
                    size_t n, void *u) {
  struct run *x = (struct run *)u;
  FUZZ_CHECK(s == x->s && reason != NULL && n <= WS_CLOSE_REASON_MAX);
  FUZZ_CHECK(ws_close_code_is_valid(code) ||
             (code == WS_CLOSE_NO_STATUS && n == 0));
  check_text(reason, n, 1);
  /* Nothing of ours was queued before, so we owe the reply. */
  FUZZ_CHECK(ws_session_get_state(s) == WS_SESSION_CLOSE_RECEIVED);
  fuzz_log_event(x->log, 'C', code, n, 0);
  fuzz_log_bytes(x->log, reason, n);
  int e = 0;
  switch (x->c->close_reply) {
  case 1:
    e = ws_session_queue_close(s, 1000, (const uint8_t *)"bye", 3);
    FUZZ_CHECK(e == 0 && ws_session_get_state(s) == WS_SESSION_CLOSED);
    break;
  case 2:
    e = ws_session_queue_close(s, WS_CLOSE_NO_STATUS, NULL, 0);
    FUZZ_CHECK(e == 0 && ws_session_get_state(s) == WS_SESSION_CLOSED);
    break;
  case 3:
    e = ws_session_queue_close(s, 1005, (const uint8_t *)"x", 1);
    FUZZ_CHECK(e == WS_EINVAL);
    FUZZ_CHECK(ws_session_get_state(s) == WS_SESSION_CLOSE_RECEIVED);
    break;
  default:
    break;
  }
  /* Nothing but the Close may be queued now. */
  FUZZ_CHECK(ws_session_queue_ping(s, NULL, 0) == WS_ESTATE);
  FUZZ_CHECK(ws_session_queue_message(s, WS_OP_BINARY, NULL, 0) == WS_ESTATE);
  return fire(x);
}

static int on_violation(ws_session *s, const struct ws_violation *v, void *u) {
  struct run *x = (struct run *)u;
  FUZZ_CHECK(s == x->s && fuzz_violation_consistent(v));
  FUZZ_CHECK(ws_session_get_state(s) == WS_SESSION_FAILED);
  const struct ws_violation *g = ws_session_get_violation(s);
  FUZZ_CHECK(g != NULL && g->id == v->id && g->offset == v->offset);
  FUZZ_CHECK(v->id != WS_V_DATA_AFTER_CLOSE);
  /* Streaming TEXT pieces were checked before delivery. */
  if (x->in_msg && x->msg_op == WS_OP_TEXT)
    check_text(x->acc, x->acc_len, 0);
  x->in_msg = 0;
  fuzz_log_event(x->log, 'V', (uint64_t)v->id, v->offset, v->close_code);
  return fire(x);
}

/* One session over the pieces. */
static void session_run(const struct config *c, struct fuzz_pieces *pieces,
                        size_t total, long fail_alloc, int with_peer,
                        struct fuzz_log *log) {
  struct run x;
  struct fuzz_mem fm;
  struct ws_session_callbacks cb;
  struct ws_session_options opt = c->opt;
  uint64_t seed = 0x9e3779b97f4a7c15ull;
  memset(&x, 0, sizeof(x));
  x.c = c;
  x.log = log;
  x.enomem_run = fail_alloc >= 0;
  memset(&cb, 0, sizeof(cb));
  if (c->streaming) {
    cb.on_message_begin = on_begin;
    cb.on_message_data = on_data;
    cb.on_message_end = on_end;
  } else {
    cb.on_message = on_message;
  }
  cb.on_ping = on_ping;
  cb.on_pong = on_pong;
  cb.on_close = on_close;
  cb.on_violation = on_violation;
  opt.random_user = &seed;
  fuzz_mem_init(&fm, fail_alloc);
  int rc = ws_session_new(&x.s, c->role, &cb, &x, &opt, &fm.mem);
  if (fail_alloc == 0) {
    FUZZ_CHECK(rc == WS_ENOMEM && fm.live == 0);
    return;
  }
  FUZZ_CHECK(rc == 0);

  ws_ssize result = 0;
  uint64_t consumed = 0;
  int stopped = 0;
  const struct fuzz_chunk *pc = pieces->c;
  for (size_t k = 0; k < pieces->n && !stopped; k++) {
    uint8_t *buf = fuzz_pieces_get(pieces, k);
    ws_ssize r = ws_session_recv(x.s, buf, pc[k].len);
    fuzz_pieces_put(pieces, k, buf);
    enum ws_session_state st = ws_session_get_state(x.s);
    if (r >= 0) {
      FUZZ_CHECK((size_t)r <= pc[k].len);
      consumed += (uint64_t)r;
      FUZZ_CHECK(st == WS_SESSION_OPEN || st == WS_SESSION_CLOSED);
      if ((size_t)r < pc[k].len)
        FUZZ_CHECK(st == WS_SESSION_CLOSED);
      if (st == WS_SESSION_CLOSED) {
        stopped = 1;
        uint8_t more[1] = {0x81};
        FUZZ_CHECK(ws_session_recv(x.s, more, 1) == WS_ECLOSED);
        FUZZ_CHECK(!ws_session_want_read(x.s));
      }
      continue;
    }
    result = r;
    stopped = 1;
    uint8_t more[2] = {0x81, 0x80};
    switch (r) {
    case WS_EPROTO:
      FUZZ_CHECK(st == WS_SESSION_FAILED);
      FUZZ_CHECK(ws_session_get_violation(x.s) != NULL);
      FUZZ_CHECK(ws_session_recv(x.s, more, 2) == WS_ECLOSED);
      break;
    case WS_ECALLBACK:
      FUZZ_CHECK(c->fail_event != 0 && x.events == c->fail_event);
      FUZZ_CHECK(ws_session_recv(x.s, more, 2) == WS_ECALLBACK);
      break;
    case WS_ENOMEM:
      FUZZ_CHECK(x.enomem_run && st == WS_SESSION_FAILED);
      FUZZ_CHECK(ws_session_should_close(x.s) == WS_SESSION_CLOSE_NOW);
      FUZZ_CHECK(ws_session_recv(x.s, more, 2) == WS_ENOMEM);
      FUZZ_CHECK(ws_session_queue_ping(x.s, NULL, 0) == WS_ENOMEM);
      break;
    default:
      FUZZ_CHECK(!"unexpected ws_session_recv result");
    }
    FUZZ_CHECK(!ws_session_want_read(x.s));
  }
  enum ws_session_state st = ws_session_get_state(x.s);
  if (!stopped)
    FUZZ_CHECK(consumed == total && ws_session_want_read(x.s));
  fuzz_log_event(log, 'R', (uint64_t)(int64_t)result, result ? 0 : consumed,
                 (uint64_t)st);
  fuzz_log_event(log, 'K', (uint64_t)ws_session_should_close(x.s),
                 (uint64_t)ws_session_want_read(x.s), 0);

  if (result == WS_ENOMEM) {
    const uint8_t *o = (const uint8_t *)1;
    FUZZ_CHECK(ws_session_send(x.s, &o) == WS_ENOMEM && o == NULL);
    FUZZ_CHECK(!ws_session_want_write(x.s));
  } else if (with_peer) {
    struct fuzz_peer peer;
    fuzz_peer_init(&peer, c->role);
    FUZZ_CHECK(fuzz_drain(x.s, &peer, log, 0) == 0);
    FUZZ_CHECK(!ws_session_want_write(x.s));
    int sc = ws_session_should_close(x.s);
    const struct ws_violation *v = ws_session_get_violation(x.s);
    if (st == WS_SESSION_FAILED) {
      /* RFC 6455 Section 7.1.7: the Close carries the violation's code. */
      FUZZ_CHECK(sc == WS_SESSION_CLOSE_NOW && v != NULL);
      FUZZ_CHECK(peer.closes == 1 && peer.close_code == v->close_code);
    } else if (st == WS_SESSION_CLOSED) {
      FUZZ_CHECK(sc == (c->role == WS_ROLE_SERVER ? WS_SESSION_CLOSE_NOW
                                                  : WS_SESSION_CLOSE_AWAIT));
      FUZZ_CHECK(peer.closes == 1 && v == NULL);
    } else {
      FUZZ_CHECK(st == WS_SESSION_OPEN && sc == WS_SESSION_KEEP_OPEN);
      FUZZ_CHECK(peer.closes == 0 && v == NULL);
    }
    fuzz_log_event(log, 'Z', (uint64_t)sc, 0, 0);
    fuzz_peer_free(&peer);
  } else {
    /* The same bytes, checked through the log against the peer-checked
     * run. */
    FUZZ_CHECK(fuzz_drain(x.s, NULL, log, 0) == 0);
    fuzz_log_event(log, 'Z', (uint64_t)ws_session_should_close(x.s), 0, 0);
  }
  ws_session_del(x.s);
  free(x.acc);
  FUZZ_CHECK(fm.live == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_reader r = {data, size};
  struct config c;
  size_t total;
  struct fuzz_chunk chunks[MAX_CHUNKS];
  parse_config(&r, &c);
  size_t n = fuzz_chunks(&r, chunks, MAX_CHUNKS, &total);

  /* The stream as one piece, pristine (never unmasked). */
  uint8_t *stream = (uint8_t *)malloc(total ? total : 1);
  FUZZ_CHECK(stream != NULL);
  for (size_t k = 0; k < n; k++)
    memcpy(stream + chunks[k].off, chunks[k].src, chunks[k].len);
  struct fuzz_chunk whole = {0, total, stream};
  /* One set of pieces serves every run over the chunks. */
  struct fuzz_pieces pieces;
  fuzz_pieces_init(&pieces, chunks, n);

  /* The decoder over the chunks against the reference over the whole
   * stream. */
  struct fuzz_log a, b;
  fuzz_log_init(&a, "decoder-chunks");
  fuzz_log_init(&b, "decoder-reference");
  decoder_run(&c, &pieces, stream, total, &a);
  decoder_ref(&c, stream, total, &b);
  FUZZ_CHECK(fuzz_log_same(&a, &b));

  /* The session over the chunks (its output checked by a peer) against
   * the session over the whole stream. A single chunk is the whole
   * stream, in the same memory layout: the second run would repeat the
   * first, so it is skipped (a third of the work of such inputs). */
  fuzz_log_init(&a, "session-chunks");
  session_run(&c, &pieces, total, -1, 1, &a);
  if (n != 1) {
    struct fuzz_pieces one;
    fuzz_pieces_init(&one, &whole, 1);
    fuzz_log_init(&b, "session-whole");
    session_run(&c, &one, total, -1, 0, &b);
    fuzz_pieces_free(&one);
    FUZZ_CHECK(fuzz_log_same(&a, &b));
  }

  if (c.fail_alloc >= 0) {
    struct fuzz_log m;
    fuzz_log_init(&m, "session-enomem");
    session_run(&c, &pieces, total, c.fail_alloc, 0, &m);
  }
  fuzz_pieces_free(&pieces);
  free(stream);
  return 0;
}
