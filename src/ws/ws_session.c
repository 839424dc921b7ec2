/*
 * ws_session.c: the session policy (see ws_session.h for the contract).
 *
 * Input: ws_session_recv runs the frame decoder over the caller's buffer
 * and hands each chunk to data_chunk or control_chunk by opcode. Every rule
 * is judged on the chunk that brings the offending byte, so a violation
 * fires at the same stream offset however the input was cut.
 *
 * Message assembly has three paths:
 *   - zero copy: a FIN frame that starts a message is tracked as a span of
 *     the caller's buffer; if the frame ends in the same call the span is
 *     delivered as is (the echo fast path); otherwise the span is copied
 *     into the assembly buffer when the call returns;
 *   - assembly: fragmented messages and frames split across calls grow
 *     |msg| through the allocator, as bytes arrive (never by the announced
 *     length, so a 2^63 announcement costs nothing);
 *   - streaming: with on_message_data set, pieces go straight out.
 *
 * Output: data frames are encoded at queue time into one growable buffer
 * |out| (client frames masked then, with a fresh key each). User control
 * frames go to |cq|, the automatic Pong and our Close into fixed slots, so
 * answering a Ping or failing the connection never allocates. send()
 * returns whole control frames only at data frame boundaries, which it
 * finds by reading back the headers it wrote.
 */
#include "ws_session.h"

#include <string.h>

#include "ws_close.h"
#include "ws_utf8.h"

#define DEFAULT_MAX_MESSAGE ((uint64_t)64 << 20)
#define DEFAULT_SEND_CHUNK ((size_t)64 << 10)
/* Buffers above this size are freed once empty, so one huge message does
 * not pin its memory for the life of the connection. */
#define TRIM_SIZE ((size_t)1 << 20)
/* A control frame: 2 header bytes, a mask key, 125 payload bytes. */
#define CTRL_FRAME_MAX (2 + 4 + WS_CONTROL_MAX)

/* A growable byte buffer. */
struct buf {
  uint8_t *p;
  size_t len;
  size_t cap;
};

struct ws_session {
  struct ws_mem mem;
  struct ws_session_callbacks cb;
  struct ws_session_options opt;
  void *user_data;
  enum ws_role role;
  enum ws_session_state state;
  int rd_err;           /* error that stopped the read side, or 0 */
  int fatal;            /* WS_ENOMEM once recv ran out of memory, or 0 */
  uint8_t in_recv;      /* inside ws_session_recv (callbacks running) */
  uint8_t has_violation;
  uint8_t close_queued; /* our Close has been queued (maybe returned) */
  struct ws_violation violation;

  /* Input. */
  struct ws_decoder dec;
  uint64_t in_base;     /* stream offset of in[0] */
  uint64_t payload_at;  /* stream offset of the current frame's payload */
  uint8_t msg_open;     /* a data message is in progress */
  uint8_t msg_opcode;
  uint8_t msg_zc;       /* all payload so far is in |span| */
  uint64_t msg_len;     /* payload bytes of the message so far */
  struct ws_utf8 utf8;  /* TEXT messages */
  struct buf msg;       /* assembly buffer */
  const uint8_t *span;  /* zero-copy payload inside |in| */
  size_t span_len;
  uint8_t ctrl[WS_CONTROL_MAX]; /* current control frame's payload */
  struct ws_close_check close_chk;

  /* Output. */
  struct buf out;       /* encoded data frames; out.p[out_head..] pending */
  size_t out_head;
  size_t out_frame_end; /* end of the data frame holding out_head */
  struct buf cq;        /* queued Ping/Pong frames from the application */
  uint8_t pong[CTRL_FRAME_MAX];
  size_t pong_len;      /* automatic Pong pending, 0 = none */
  uint8_t close_frame[CTRL_FRAME_MAX];
  size_t close_len;     /* our Close, pending when close_pending */
  uint8_t close_pending;
};

static const uint8_t empty_payload[1] = {0};

/* Buffers. */

static int buf_reserve(const struct ws_mem *m, struct buf *b, size_t extra) {
  if (b->cap - b->len >= extra)
    return 0;
  if (extra > SIZE_MAX - b->len)
    return WS_ETOOBIG;
  size_t need = b->len + extra;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  uint8_t *p = m->realloc(b->p, cap, m->user);
  if (!p)
    return WS_ENOMEM;
  b->p = p;
  b->cap = cap;
  return 0;
}

static int buf_append(const struct ws_mem *m, struct buf *b, const uint8_t *p,
                      size_t n) {
  int e = buf_reserve(m, b, n);
  if (e)
    return e;
  if (n)
    memcpy(b->p + b->len, p, n);
  b->len += n;
  return 0;
}

static void buf_free(const struct ws_mem *m, struct buf *b) {
  m->free(b->p, m->user);
  b->p = NULL;
  b->len = b->cap = 0;
}

/* Frees an empty buffer that grew past TRIM_SIZE. */
static void buf_trim(const struct ws_mem *m, struct buf *b) {
  if (b->len == 0 && b->cap > TRIM_SIZE)
    buf_free(m, b);
}

/* Construction. */

void ws_session_options_default(struct ws_session_options *opt) {
  if (!opt)
    return;
  memset(opt, 0, sizeof(*opt));
  opt->max_message_size = DEFAULT_MAX_MESSAGE;
  opt->send_chunk_size = DEFAULT_SEND_CHUNK;
  opt->auto_pong = 1;
  opt->random = ws_random_default;
}

int ws_session_new(ws_session **out, enum ws_role role,
                   const struct ws_session_callbacks *cb, void *user_data,
                   const struct ws_session_options *opt,
                   const struct ws_mem *mem) {
  if (!out || (role != WS_ROLE_SERVER && role != WS_ROLE_CLIENT))
    return WS_EINVAL;
  if (opt && (opt->allowed_rsv & ~WS_MASK_RSV))
    return WS_EINVAL;
  if (!mem)
    mem = ws_mem_default();
  ws_session *s = mem->malloc(sizeof(*s), mem->user);
  if (!s)
    return WS_ENOMEM;
  memset(s, 0, sizeof(*s));
  s->mem = *mem;
  if (cb)
    s->cb = *cb;
  if (opt)
    s->opt = *opt;
  else
    ws_session_options_default(&s->opt);
  if (!s->opt.random)
    s->opt.random = ws_random_default;
  s->user_data = user_data;
  s->role = role;
  s->state = WS_SESSION_OPEN;
  struct ws_decoder_config dc;
  ws_decoder_config_default(&dc, role);
  dc.allowed_rsv = s->opt.allowed_rsv;
  dc.max_frame_size = s->opt.max_frame_size;
  ws_decoder_init(&s->dec, &dc);
  *out = s;
  return 0;
}

void ws_session_del(ws_session *s) {
  if (!s)
    return;
  struct ws_mem m = s->mem;
  buf_free(&m, &s->msg);
  buf_free(&m, &s->out);
  buf_free(&m, &s->cq);
  m.free(s, m.user);
}

/* Encoding. */

/* Encodes one frame into |dst| (room for it reserved by the caller); a
 * client masks it with a fresh key (RFC 6455 Section 5.3: "MUST mask all
 * frames", a new key for each). */
static ws_ssize encode(ws_session *s, uint8_t *dst, size_t room, uint8_t fin,
                       uint8_t opcode, const uint8_t *p, size_t n) {
  struct ws_frame_header h;
  memset(&h, 0, sizeof(h));
  h.fin = fin;
  h.opcode = opcode;
  h.length = n;
  h.masked = s->role == WS_ROLE_CLIENT;
  return ws_frame_encode(dst, room, &h, n ? p : NULL,
                         h.masked ? s->opt.random : NULL,
                         s->opt.random_user);
}

/* Puts our Close into its slot, behind everything already queued. */
static int put_close(ws_session *s, const uint8_t *payload, size_t n) {
  ws_ssize r = encode(s, s->close_frame, sizeof(s->close_frame), 1,
                      WS_OP_CLOSE, payload, n);
  if (r < 0)
    return (int)r;
  s->close_len = (size_t)r;
  s->close_pending = 1;
  s->close_queued = 1;
  return 0;
}

/* Failing. */

/*
 * Fails the connection (RFC 6455 Section 7.1.7): records |v|, queues a
 * Close with its code and reason unless ours is already queued, stops
 * reading, then reports |v| through on_violation.
 */
static int fail_with(ws_session *s, const struct ws_violation *v) {
  s->violation = *v;
  s->has_violation = 1;
  s->msg_open = 0;
  s->msg_zc = 0;
  s->span_len = 0;
  if (!s->close_queued) {
    uint8_t payload[WS_CONTROL_MAX];
    size_t rlen = strlen(v->reason);
    if (rlen > WS_CLOSE_REASON_MAX)
      rlen = WS_CLOSE_REASON_MAX;
    ws_ssize n = ws_close_payload_build(payload, sizeof(payload),
                                        v->close_code,
                                        (const uint8_t *)v->reason, rlen);
    /* A client whose mask source fails sends no Close; the transport is
     * closed all the same (Section 7.1.7 makes the Close a SHOULD). */
    if (n >= 0)
      (void)put_close(s, payload, (size_t)n);
  }
  s->state = WS_SESSION_FAILED;
  if (s->cb.on_violation &&
      s->cb.on_violation(s, &s->violation, s->user_data) != 0) {
    s->rd_err = WS_ECALLBACK;
    return WS_ECALLBACK;
  }
  return WS_EPROTO;
}

static int violate(ws_session *s, enum ws_violation_id id, uint64_t offset) {
  struct ws_violation v;
  ws_violation_set(&v, id, offset);
  return fail_with(s, &v);
}

/* A failure of ours, not the peer's: the read side stops with |err|. */
static int stop_reading(ws_session *s, int err) {
  if (err == WS_ENOMEM || err == WS_ETOOBIG) {
    s->fatal = WS_ENOMEM;
    s->state = WS_SESSION_FAILED;
    return WS_ENOMEM;
  }
  s->rd_err = err;
  return err;
}

/* Input: data frames. */

/* Checks a data frame's header against the message in progress. |at| is
 * the stream offset of the frame's byte 0. */
static int begin_data(ws_session *s, const struct ws_frame_header *h,
                      uint64_t at) {
  if (h->opcode == WS_OP_CONTINUATION) {
    /* RFC 6455 Section 5.4: a continuation frame continues a message
     * started by a TEXT or BINARY frame with FIN = 0. */
    if (!s->msg_open)
      return violate(s, WS_V_CONTINUATION_WITHOUT_START, at);
  } else if (s->msg_open) {
    /* Section 5.4: the fragments of one message are not interleaved with
     * another message's; only control frames may come in between. */
    return violate(s, WS_V_DATA_DURING_FRAGMENTED, at);
  }
  uint64_t sofar = h->opcode == WS_OP_CONTINUATION ? s->msg_len : 0;
  /* Section 10.4 / 7.4.1 (1009): refuse by the announced length, before a
   * byte of this frame's payload is buffered. */
  if (s->opt.max_message_size &&
      h->length > s->opt.max_message_size - sofar)
    return violate(s, WS_V_MESSAGE_TOO_BIG, at + 1);
  if (h->opcode == WS_OP_CONTINUATION)
    return 0;
  s->msg_open = 1;
  s->msg_opcode = h->opcode;
  s->msg_len = 0;
  s->msg.len = 0;
  s->span = NULL;
  s->span_len = 0;
  s->msg_zc = h->fin && !s->cb.on_message_data;
  if (h->opcode == WS_OP_TEXT)
    ws_utf8_init(&s->utf8, WS_UTF8_AUTO);
  if (s->cb.on_message_data && s->cb.on_message_begin &&
      s->cb.on_message_begin(s, (enum ws_opcode)h->opcode, s->user_data))
    return stop_reading(s, WS_ECALLBACK);
  return 0;
}

/* Moves the zero-copy span into the assembly buffer. */
static int flush_span(ws_session *s) {
  s->msg_zc = 0;
  int e = buf_append(&s->mem, &s->msg, s->span, s->span_len);
  s->span_len = 0;
  s->span = NULL;
  return e ? stop_reading(s, e) : 0;
}

/* Keeps |n| checked payload bytes at |p| (inside the caller's buffer). */
static int keep_payload(ws_session *s, const uint8_t *p, size_t n) {
  if (s->cb.on_message_data) {
    if (s->cb.on_message_data(s, p, n, s->user_data))
      return stop_reading(s, WS_ECALLBACK);
    return 0;
  }
  if (s->msg_zc) {
    if (s->span_len == 0)
      s->span = p;
    if (s->span + s->span_len == p) {
      s->span_len += n;
      return 0;
    }
    int e = flush_span(s);
    if (e)
      return e;
  }
  int e = buf_append(&s->mem, &s->msg, p, n);
  return e ? stop_reading(s, e) : 0;
}

/* The final frame ended at stream offset |end|: check and deliver. */
static int end_message(ws_session *s, uint64_t end) {
  if (s->msg_opcode == WS_OP_TEXT) {
    uint64_t bad;
    /* RFC 6455 Section 8.1: a message that stops inside a code point is
     * invalid; reported at the end of the payload. */
    if (ws_utf8_finish(&s->utf8, &bad) != WS_UTF8_VALID)
      return violate(s, WS_V_INVALID_UTF8, end);
  }
  s->msg_open = 0;
  int rc = 0;
  if (s->cb.on_message_data) {
    if (s->cb.on_message_end)
      rc = s->cb.on_message_end(s, s->user_data);
  } else if (s->cb.on_message) {
    const uint8_t *p = s->msg_zc ? s->span : s->msg.p;
    size_t n = s->msg_zc ? s->span_len : s->msg.len;
    rc = s->cb.on_message(s, (enum ws_opcode)s->msg_opcode,
                          p ? p : empty_payload, n, s->user_data);
  }
  s->msg_zc = 0;
  s->span = NULL;
  s->span_len = 0;
  s->msg.len = 0;
  buf_trim(&s->mem, &s->msg);
  return rc ? stop_reading(s, WS_ECALLBACK) : 0;
}

/* A piece of a data frame: |at| is the stream offset of its first byte. */
static int data_chunk(ws_session *s, const struct ws_frame_chunk *ch,
                      uint64_t at) {
  if (ch->len) {
    if (s->msg_opcode == WS_OP_TEXT) {
      uint64_t bad;
      /* RFC 6455 Section 8.1, failing fast: the offending byte is
       * reported as soon as it arrives, even mid-frame (Autobahn 6.4). The
       * validator counts from the message start; map back to the stream. */
      if (ws_utf8_feed(&s->utf8, ch->data, ch->len, &bad) != WS_UTF8_VALID)
        return violate(s, WS_V_INVALID_UTF8,
                       at + (bad >= s->msg_len ? bad - s->msg_len : 0));
    }
    int e = keep_payload(s, ch->data, ch->len);
    if (e)
      return e;
    s->msg_len += ch->len;
  }
  if (ch->last && ch->header->fin)
    return end_message(s, at + ch->len);
  return 0;
}

/* Input: control frames. */

static int on_ping_frame(ws_session *s, size_t n) {
  /* RFC 6455 Section 5.5.2: answer with a Pong carrying the same payload,
   * unless our Close is out (Section 5.5.1: nothing follows it). Section
   * 5.5.3 would allow answering only the most recent of several Pings, but
   * peers (Autobahn 2.10, 2.11) expect one Pong per Ping: a Pong still
   * pending moves to the control queue, ahead of the new one. */
  if (s->opt.auto_pong && s->state == WS_SESSION_OPEN) {
    if (s->pong_len) {
      int e = buf_reserve(&s->mem, &s->cq, s->pong_len);
      if (e != 0)
        return stop_reading(s, e);
      memcpy(s->cq.p + s->cq.len, s->pong, s->pong_len);
      s->cq.len += s->pong_len;
      s->pong_len = 0;
    }
    ws_ssize r = encode(s, s->pong, sizeof(s->pong), 1, WS_OP_PONG, s->ctrl,
                        n);
    if (r < 0) {
      s->pong_len = 0;
      return stop_reading(s, (int)r);
    }
    s->pong_len = (size_t)r;
  }
  if (s->cb.on_ping && s->cb.on_ping(s, s->ctrl, n, s->user_data))
    return stop_reading(s, WS_ECALLBACK);
  return 0;
}

static int on_close_frame(ws_session *s, size_t n) {
  uint16_t code;
  uint64_t bad;
  enum ws_violation_id v = ws_close_check_finish(&s->close_chk, &code, &bad);
  if (v != WS_V_NONE)
    return violate(s, v, s->payload_at + bad);
  /* Section 5.5.1 / 7.1.4: the closing handshake. When our Close is out
   * this completes it; otherwise we owe a reply. */
  s->state = s->close_queued ? WS_SESSION_CLOSED : WS_SESSION_CLOSE_RECEIVED;
  s->msg_open = 0;
  int rc = 0;
  if (s->cb.on_close)
    rc = s->cb.on_close(s, code, n > 2 ? s->ctrl + 2 : empty_payload,
                        n > 2 ? n - 2 : 0, s->user_data);
  int e = 0;
  if (s->state == WS_SESSION_CLOSE_RECEIVED) {
    /* Section 5.5.1: "the endpoint MUST send a Close frame in response
     * ... typically echos the status code it received". An empty Close is
     * answered with an empty one (1005 is never put on the wire). */
    uint8_t payload[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    e = put_close(s, payload, code == WS_CLOSE_NO_STATUS ? 0 : 2);
  }
  s->state = WS_SESSION_CLOSED;
  if (rc)
    return stop_reading(s, WS_ECALLBACK);
  return e ? stop_reading(s, e) : 0;
}

static int control_chunk(ws_session *s, const struct ws_frame_chunk *ch) {
  const struct ws_frame_header *h = ch->header;
  /* The codec caps control payloads at 125 (Section 5.5); this guards the
   * copy should that contract ever break. */
  if (ch->frame_offset + ch->len > sizeof(s->ctrl))
    return stop_reading(s, WS_EINVAL);
  if (ch->len)
    memcpy(s->ctrl + ch->frame_offset, ch->data, ch->len);
  if (h->opcode == WS_OP_CLOSE && ch->len) {
    uint64_t bad;
    enum ws_violation_id v =
        ws_close_check_feed(&s->close_chk, ch->data, ch->len, &bad);
    if (v != WS_V_NONE)
      return violate(s, v, s->payload_at + bad);
  }
  if (!ch->last)
    return 0;
  size_t n = (size_t)h->length;
  switch (h->opcode) {
  case WS_OP_PING:
    return on_ping_frame(s, n);
  case WS_OP_PONG:
    if (s->cb.on_pong && s->cb.on_pong(s, s->ctrl, n, s->user_data))
      return stop_reading(s, WS_ECALLBACK);
    return 0;
  default:
    return on_close_frame(s, n);
  }
}

/* Header-time checks of a frame whose first chunk starts at |at|. */
static int begin_frame(ws_session *s, const struct ws_frame_header *h,
                       uint64_t at) {
  uint64_t start = at - h->header_len;
  s->payload_at = at;
  if (!WS_OP_IS_CONTROL(h->opcode))
    return begin_data(s, h, start);
  if (h->opcode == WS_OP_CLOSE &&
      ws_close_check_init(&s->close_chk, h->length) != WS_V_NONE)
    /* Section 5.5.1: a body starts with a 2-byte code; a 1-byte body is
     * known bad from the length byte. */
    return violate(s, WS_V_CLOSE_PAYLOAD_1_BYTE, start + 1);
  return 0;
}

static int reading(const ws_session *s) {
  return s->state == WS_SESSION_OPEN || s->state == WS_SESSION_CLOSE_SENT;
}

static ws_ssize feed(ws_session *s, uint8_t *in, size_t inlen) {
  size_t off = 0;
  s->in_base = s->dec.pos;
  while (off < inlen) {
    struct ws_frame_chunk ch;
    size_t used = 0;
    int r = ws_decoder_decode(&s->dec, in + off, inlen - off, &used, &ch);
    off += used;
    if (r == 0)
      break;
    if (r < 0)
      return r == WS_EPROTO ? fail_with(s, &s->dec.violation)
                            : stop_reading(s, r);
    /* The chunk ends where the decoder stopped. */
    uint64_t at = s->in_base + off - ch.len;
    int e = ch.first ? begin_frame(s, ch.header, at) : 0;
    if (!e)
      e = WS_OP_IS_CONTROL(ch.header->opcode) ? control_chunk(s, &ch)
                                              : data_chunk(s, &ch, at);
    if (e)
      return e;
    /* RFC 6455 Section 5.5.1: nothing follows the peer's Close. */
    if (!reading(s))
      return (ws_ssize)off;
  }
  /* The span must not outlive the caller's buffer. */
  if (s->msg_zc && s->span_len) {
    int e = flush_span(s);
    if (e)
      return e;
  }
  return (ws_ssize)off;
}

ws_ssize ws_session_recv(ws_session *s, uint8_t *in, size_t inlen) {
  if (!s || (!in && inlen))
    return WS_EINVAL;
  if (s->fatal)
    return s->fatal;
  if (s->in_recv)
    return WS_ESTATE;
  if (s->rd_err)
    return s->rd_err;
  if (!reading(s))
    return WS_ECLOSED;
  s->in_recv = 1;
  ws_ssize r = feed(s, in, inlen);
  s->in_recv = 0;
  return r;
}

/* Output. */

/* Size of the encoded frame at |p| (one we wrote: trusted). */
static size_t frame_size(const uint8_t *p) {
  size_t hl = 2;
  uint64_t n = p[1] & WS_MASK_LEN7;
  if (n == 126) {
    n = (uint64_t)p[2] << 8 | p[3];
    hl += 2;
  } else if (n == 127) {
    n = 0;
    for (int i = 0; i < 8; i++)
      n = n << 8 | p[2 + i];
    hl += 8;
  }
  if (p[1] & WS_BIT_MASK)
    hl += 4;
  return hl + (size_t)n;
}

/* Makes room for |n| more bytes of data frames. */
static int out_reserve(ws_session *s, size_t n) {
  struct buf *b = &s->out;
  if (s->out_head == b->len)
    b->len = s->out_head = s->out_frame_end = 0;
  if (b->cap - b->len >= n)
    return 0;
  if (s->out_head > 0) {
    memmove(b->p, b->p + s->out_head, b->len - s->out_head);
    b->len -= s->out_head;
    s->out_frame_end -= s->out_head;
    s->out_head = 0;
  }
  return buf_reserve(&s->mem, b, n);
}

/* How many pending data bytes the next send() returns. */
static size_t data_take(const ws_session *s) {
  size_t avail = s->out.len - s->out_head;
  size_t lim = s->opt.send_chunk_size;
  if (lim == 0 || avail <= lim)
    return avail;
  const uint8_t *p = s->out.p;
  size_t end = s->out_frame_end;
  if (end == s->out_head)
    end += frame_size(p + end);
  if (end - s->out_head >= lim)
    return lim; /* a slice of one big frame */
  while (end < s->out.len) {
    size_t f = frame_size(p + end);
    if (end + f - s->out_head > lim)
      break;
    end += f;
  }
  return end - s->out_head;
}

ws_ssize ws_session_send(ws_session *s, const uint8_t **out) {
  if (!s || !out)
    return WS_EINVAL;
  *out = NULL;
  if (s->fatal)
    return s->fatal;
  int boundary = s->out_head == s->out_frame_end;
  if (boundary && s->cq.len) {
    *out = s->cq.p;
    size_t n = s->cq.len;
    s->cq.len = 0;
    return (ws_ssize)n;
  }
  if (boundary && s->pong_len) {
    *out = s->pong;
    size_t n = s->pong_len;
    s->pong_len = 0;
    return (ws_ssize)n;
  }
  if (s->out_head < s->out.len) {
    size_t n = data_take(s);
    *out = s->out.p + s->out_head;
    s->out_head += n;
    while (s->out_frame_end < s->out_head)
      s->out_frame_end += frame_size(s->out.p + s->out_frame_end);
    return (ws_ssize)n;
  }
  /* Nothing of |out| is pending and the caller's pointer into it expired
   * with this call: rewind it, and free it if a big message inflated it. */
  s->out.len = s->out_head = s->out_frame_end = 0;
  buf_trim(&s->mem, &s->out);
  if (s->close_pending) {
    s->close_pending = 0;
    *out = s->close_frame;
    return (ws_ssize)s->close_len;
  }
  return 0;
}

/* Common checks of the queue functions. */
static int can_queue(const ws_session *s) {
  if (s->fatal)
    return s->fatal;
  return s->state == WS_SESSION_OPEN ? 0 : WS_ESTATE;
}

/* Encoded size of a data frame with |n| payload bytes, 0 on overflow. */
static size_t data_frame_size(const ws_session *s, size_t n) {
  struct ws_frame_header h;
  memset(&h, 0, sizeof(h));
  h.length = n;
  h.masked = s->role == WS_ROLE_CLIENT;
  return ws_frame_encoded_size(&h);
}

int ws_session_queue_message(ws_session *s, enum ws_opcode opcode,
                             const uint8_t *data, size_t len) {
  if (!s || (!data && len))
    return WS_EINVAL;
  int e = can_queue(s);
  if (e)
    return e;
  if (opcode != WS_OP_TEXT && opcode != WS_OP_BINARY)
    return WS_EINVAL;
  /* RFC 6455 Section 5.6: a TEXT payload is UTF-8; we never send one that
   * is not (the peer would have to fail the connection, Section 8.1). */
  if (opcode == WS_OP_TEXT && ws_utf8_validate(data, len, NULL) != WS_UTF8_VALID)
    return WS_EINVAL;
  size_t frag = s->opt.fragment_size && s->opt.fragment_size < len
                    ? s->opt.fragment_size
                    : len;
  size_t full = frag ? len / frag : 1, rest = frag ? len % frag : 0;
  size_t fsz = data_frame_size(s, frag), rsz = rest ? data_frame_size(s, rest) : 0;
  if (fsz == 0 || (rest && rsz == 0) || full > (SIZE_MAX - rsz) / fsz)
    return WS_ETOOBIG;
  size_t total = full * fsz + rsz;
  if ((e = out_reserve(s, total)) != 0)
    return e;
  size_t old = s->out.len, pos = 0, nframes = full + (rest ? 1 : 0);
  /* Section 5.4: the first frame carries the opcode, the others are
   * continuations; FIN only on the last. */
  for (size_t i = 0; i < nframes; i++) {
    size_t n = i < full ? frag : rest;
    /* An empty message may come with data == NULL: no arithmetic on it
     * (NULL + 0 is undefined in C). */
    ws_ssize r = encode(s, s->out.p + s->out.len, s->out.cap - s->out.len,
                        i + 1 == nframes, i ? WS_OP_CONTINUATION : opcode,
                        n ? data + pos : NULL, n);
    if (r < 0) {
      s->out.len = old;
      return (int)r;
    }
    s->out.len += (size_t)r;
    pos += n;
  }
  return 0;
}

static int queue_control(ws_session *s, uint8_t opcode, const uint8_t *data,
                         size_t len) {
  if (!s || (!data && len))
    return WS_EINVAL;
  int e = can_queue(s);
  if (e)
    return e;
  /* RFC 6455 Section 5.5: control payloads are at most 125 bytes. */
  if (len > WS_CONTROL_MAX)
    return WS_ETOOBIG;
  if ((e = buf_reserve(&s->mem, &s->cq, CTRL_FRAME_MAX)) != 0)
    return e;
  ws_ssize r = encode(s, s->cq.p + s->cq.len, s->cq.cap - s->cq.len, 1,
                      opcode, data, len);
  if (r < 0)
    return (int)r;
  s->cq.len += (size_t)r;
  return 0;
}

int ws_session_queue_ping(ws_session *s, const uint8_t *data, size_t len) {
  return queue_control(s, WS_OP_PING, data, len);
}

int ws_session_queue_pong(ws_session *s, const uint8_t *data, size_t len) {
  return queue_control(s, WS_OP_PONG, data, len);
}

int ws_session_queue_close(ws_session *s, uint16_t code, const uint8_t *reason,
                           size_t len) {
  if (!s)
    return WS_EINVAL;
  if (s->fatal)
    return s->fatal;
  if (s->close_queued || (s->state != WS_SESSION_OPEN &&
                          s->state != WS_SESSION_CLOSE_RECEIVED))
    return WS_ESTATE;
  uint8_t payload[WS_CONTROL_MAX];
  ws_ssize n = ws_close_payload_build(payload, sizeof(payload), code, reason,
                                      len);
  if (n < 0)
    return (int)n;
  int e = put_close(s, payload, (size_t)n);
  if (e)
    return e;
  /* Section 7.1.2 starts the handshake; from on_close this is the reply
   * of Section 5.5.1 and completes it. */
  s->state = s->state == WS_SESSION_OPEN ? WS_SESSION_CLOSE_SENT
                                         : WS_SESSION_CLOSED;
  return 0;
}

/* Queries. */

int ws_session_want_read(const ws_session *s) {
  return s && !s->fatal && !s->rd_err && reading(s);
}

int ws_session_want_write(const ws_session *s) {
  if (!s || s->fatal)
    return 0;
  return s->cq.len || s->pong_len || s->out_head < s->out.len ||
         s->close_pending;
}

enum ws_session_state ws_session_get_state(const ws_session *s) {
  return s ? s->state : WS_SESSION_FAILED;
}

int ws_session_should_close(const ws_session *s) {
  if (!s)
    return WS_SESSION_KEEP_OPEN;
  if (s->fatal)
    return WS_SESSION_CLOSE_NOW;
  if (ws_session_want_write(s))
    return WS_SESSION_KEEP_OPEN;
  if (s->state == WS_SESSION_FAILED)
    return WS_SESSION_CLOSE_NOW;
  /* RFC 6455 Section 7.1.1: after the closing handshake the server closes
   * TCP first; the client waits for it, with a timeout. */
  if (s->state == WS_SESSION_CLOSED)
    return s->role == WS_ROLE_SERVER ? WS_SESSION_CLOSE_NOW
                                     : WS_SESSION_CLOSE_AWAIT;
  return WS_SESSION_KEEP_OPEN;
}

const struct ws_violation *ws_session_get_violation(const ws_session *s) {
  return s && s->has_violation ? &s->violation : NULL;
}
