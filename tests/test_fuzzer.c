/*
 * test_fuzzer.c: the sans-I/O case executor (conformance/ws_fuzzer.h)
 * against a scripted server. The harness owns the clock (timers fired
 * through ws_fuzzer_next_timer / ws_fuzzer_tick), collects every write
 * unit with its flags, checks the request with the library's server side,
 * answers with a 101 for its key, decodes the fuzzer's masked frames with
 * a server-role ws_decoder and feeds unmasked server frames from
 * exact-size guard-page buffers. Every run allocates through the counting
 * allocator and ends with no live block. The verdicts asserted are
 * Autobahn|Testsuite's (docs/conformance.md, section a).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/ws_fuzzer.h"
#include "http/ws_handshake.h"
#include "http/ws_http.h"
#include "test_support.h"
#include "ws/ws_frame.h"

#define T0 1000000u /* the clock when TCP comes up: any origin works */
#define SEED 0x9e3779b97f4a7c15u
#define NO_TIMER UINT64_MAX

/* ------------------------------------------------------------ buffers */

struct bytes {
  uint8_t *p;
  size_t n, cap;
};

static void put(struct bytes *b, const void *p, size_t n) {
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n)
      cap *= 2;
    b->p = realloc(b->p, cap);
    assert_non_null(b->p);
    b->cap = cap;
  }
  if (n)
    memcpy(b->p + b->n, p, n);
  b->n += n;
}

/* Appends an unmasked (server) frame. */
static void put_frame(struct bytes *b, uint8_t op, int fin, const void *pl,
                      size_t n) {
  struct ws_frame_header h = {.fin = (uint8_t)fin, .opcode = op, .length = n};
  size_t need = ws_frame_encoded_size(&h);
  uint8_t *tmp = malloc(need);
  ws_ssize w;
  assert_non_null(tmp);
  w = ws_frame_encode(tmp, need, &h, pl, NULL, NULL);
  assert_int_equal(w, (ws_ssize)need);
  put(b, tmp, need);
  free(tmp);
}

static void put_hex(struct bytes *b, const char *hex) {
  size_t n;
  uint8_t *p = hex_decode(hex, &n);
  put(b, p, n);
  free(p);
}

/* ------------------------------------------------------------ harness */

/* One write unit handed out by ws_fuzzer_output. */
struct unit {
  size_t off, len; /* in srv.wire */
  unsigned flags;
};

/* A frame the fuzzer sent, as the server decodes it. */
struct sent_frame {
  struct ws_frame_header h;
  int raw;     /* the decoder refused it (a control frame over 125
                  octets): parsed by hand */
  size_t at;   /* wire offset of its first octet */
  size_t unit; /* index of the unit holding that octet */
  struct bytes data; /* the unmasked payload received so far */
};

struct knobs {
  uint8_t wirelog;
  uint32_t close_ms, drop_ms;
  const char *const *protocols;
  size_t n_protocols;
};

struct srv {
  ws_fuzzer *f;
  struct failing_mem fm;
  struct ws_client_options opt;
  uint64_t now, seed;
  struct bytes wire; /* every octet the fuzzer wrote */
  struct unit *units;
  size_t n_units, units_cap;
  size_t head_len; /* request head, 0 until complete */
  char key[WS_KEY_LEN + 1];
  struct ws_decoder dec;
  size_t dec_pos, frame_at;
  int resync;
  struct sent_frame *frames;
  size_t n_frames, frames_cap;
  int enomem; /* an API call returned WS_ENOMEM */
  uint64_t turn_ms; /* each chopped unit waits this long for its turn */
  struct ws_case_result r;
};

static size_t unit_at(const struct srv *s, size_t off) {
  for (size_t i = 0; i < s->n_units; i++)
    if (off >= s->units[i].off && off < s->units[i].off + s->units[i].len)
      return i;
  return SIZE_MAX;
}

static struct sent_frame *new_frame(struct srv *s,
                                    const struct ws_frame_header *h) {
  struct sent_frame *fr;
  if (s->n_frames == s->frames_cap) {
    s->frames_cap = s->frames_cap ? s->frames_cap * 2 : 16;
    s->frames = realloc(s->frames, s->frames_cap * sizeof(*s->frames));
    assert_non_null(s->frames);
  }
  fr = &s->frames[s->n_frames++];
  memset(fr, 0, sizeof(*fr));
  fr->h = *h;
  fr->at = s->frame_at;
  fr->unit = unit_at(s, s->frame_at);
  return fr;
}

/* The frame at frame_at, which the decoder refused: parsed by hand. */
static int raw_frame(struct srv *s) {
  const uint8_t *w = s->wire.p + s->frame_at;
  size_t avail = s->wire.n - s->frame_at, hl = 2;
  uint64_t len;
  struct ws_frame_header h = {0};
  struct sent_frame *fr;
  if (avail < 2)
    return 0;
  len = w[1] & 0x7fu;
  hl += len == 126 ? 2 : len == 127 ? 8 : 0;
  hl += (w[1] & 0x80u) ? 4 : 0;
  if (avail < hl)
    return 0;
  if (len >= 126) {
    size_t k = len == 126 ? 2 : 8;
    len = 0;
    for (size_t i = 0; i < k; i++)
      len = len << 8 | w[2 + i];
  }
  if (avail - hl < len)
    return 0;
  h.opcode = w[0] & 0x0fu;
  h.fin = w[0] >> 7;
  h.rsv = w[0] & 0x70u;
  h.masked = w[1] >> 7;
  h.length_form = (w[1] & 0x7fu) == 126 ? 16 : (w[1] & 0x7fu) == 127 ? 64 : 7;
  h.length = len;
  if (h.masked)
    memcpy(h.mask, w + hl - 4, 4);
  fr = new_frame(s, &h);
  fr->raw = 1;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = w[hl + i] ^ (h.masked ? h.mask[i & 3] : 0);
    put(&fr->data, &c, 1);
  }
  s->frame_at += hl + (size_t)len;
  s->dec_pos = s->frame_at;
  s->resync = 0;
  ws_decoder_init(&s->dec, NULL);
  return 1;
}


/* Decodes the fuzzer's frames written since the last call. */
static void decode_sent(struct srv *s) {
  for (;;) {
    size_t n, off = 0;
    uint8_t *tmp;
    if (s->resync) {
      if (!raw_frame(s))
        return;
      continue;
    }
    if (s->dec_pos >= s->wire.n)
      return;
    n = s->wire.n - s->dec_pos;
    tmp = malloc(n);
    assert_non_null(tmp);
    memcpy(tmp, s->wire.p + s->dec_pos, n);
    for (;;) {
      struct ws_frame_chunk ch;
      size_t used = 0;
      int e = ws_decoder_decode(&s->dec, tmp + off, n - off, &used, &ch);
      if (e == WS_EPROTO) {
        s->resync = 1;
        break;
      }
      off += used;
      if (e != 1)
        break;
      if (ch.first)
        new_frame(s, ch.header);
      put(&s->frames[s->n_frames - 1].data, ch.data, ch.len);
      if (ch.last)
        s->frame_at = s->dec_pos + off;
    }
    free(tmp);
    if (!s->resync)
      s->dec_pos += off;
  }
}

/* Checks the opening handshake request with the server side of the
 * library once it is complete, and keeps its key. */
static void parse_request(struct srv *s) {
  struct ws_http_parser p;
  struct ws_http_header h[WS_HTTP_DEFAULT_MAX_HEADERS];
  struct ws_handshake_request req;
  struct ws_handshake_failure fail;
  int e;
  if (s->wire.n == 0)
    return;
  assert_int_equal(ws_http_parser_init(&p, WS_HTTP_REQUEST, h,
                                       WS_HTTP_DEFAULT_MAX_HEADERS, 0),
                   0);
  e = ws_http_parse(&p, (const char *)s->wire.p, s->wire.n);
  if (e == WS_HTTP_INCOMPLETE)
    return;
  assert_int_equal(e, WS_HTTP_COMPLETE);
  assert_int_equal(ws_handshake_server_check(&p, &req, &fail), 0);
  assert_int_equal(req.key.len, WS_KEY_LEN);
  memcpy(s->key, req.key.ptr, WS_KEY_LEN);
  s->key[WS_KEY_LEN] = '\0';
  s->head_len = p.head_len;
  s->dec_pos = s->frame_at = p.head_len;
}

/* Takes every pending write unit, as a driver writing whole units does. */
static void pump(struct srv *s) {
  const uint8_t *p;
  unsigned fl;
  size_t n;
  if (s->f == NULL)
    return;
  while ((n = ws_fuzzer_output(s->f, &p, &fl)) > 0) {
    if (fl & WS_FUZZER_OUT_YIELD)
      s->now += s->turn_ms; /* a loop busy with other cases */
    if (s->n_units == s->units_cap) {
      s->units_cap = s->units_cap ? s->units_cap * 2 : 64;
      s->units = realloc(s->units, s->units_cap * sizeof(*s->units));
      assert_non_null(s->units);
    }
    s->units[s->n_units].off = s->wire.n;
    s->units[s->n_units].len = n;
    s->units[s->n_units].flags = fl;
    s->n_units++;
    put(&s->wire, p, n);
    ws_fuzzer_written(s->f, n, s->now);
  }
  if (s->head_len == 0)
    parse_request(s);
  if (s->head_len > 0)
    decode_sent(s);
}

/* Creates and starts the fuzzer for case |id| at T0 without asserting
 * success (the failing-allocator walk needs the codes). */
static int srv_begin(struct srv *s, const char *id, long fail_at,
                     const struct knobs *k) {
  struct ws_fuzzer_config cfg = {
      .kase = ws_case_find(id), .number = 42, .request = &s->opt,
      .random = test_random, .random_user = &s->seed, .mem = &s->fm.mem};
  int e;
  memset(s, 0, sizeof(*s));
  failing_mem_init(&s->fm, fail_at);
  s->seed = SEED;
  s->now = T0;
  s->opt = (struct ws_client_options){.host = "127.0.0.1", .port = 9001,
                                      .path = "/"};
  assert_non_null(cfg.kase);
  if (k != NULL) {
    s->opt.protocols = k->protocols;
    s->opt.num_protocols = k->n_protocols;
    cfg.wirelog = k->wirelog;
    cfg.close_timeout_ms = k->close_ms;
    cfg.drop_timeout_ms = k->drop_ms;
  }
  ws_decoder_init(&s->dec, NULL); /* server role: frames must be masked */
  e = ws_fuzzer_new(&s->f, &cfg);
  if (e != 0) {
    s->f = NULL;
    return e;
  }
  e = ws_fuzzer_start(s->f, s->now);
  if (e == WS_ENOMEM)
    s->enomem = 1;
  pump(s);
  return e;
}

static void srv_start(struct srv *s, const char *id, const struct knobs *k) {
  assert_int_equal(srv_begin(s, id, -1, k), 0);
  assert_true(s->head_len > 0);
  assert_int_equal(s->head_len, s->wire.n);
}

/* One read of the server's bytes, from an exact-size guard-page copy. */
static void feed(struct srv *s, const void *p, size_t n) {
  struct guarded g = guarded_copy(p, n);
  int e = ws_fuzzer_recv(s->f, g.data, n, s->now);
  if (e == WS_ENOMEM)
    s->enomem = 1;
  else
    assert_int_equal(e, 0);
  guarded_free(&g);
  pump(s);
}

/* The same bytes in reads of |piece| octets. */
static void feed_pieces(struct srv *s, const uint8_t *p, size_t n,
                        size_t piece) {
  for (size_t i = 0; i < n; i += piece)
    feed(s, p + i, n - i < piece ? n - i : piece);
}

/* Lets |ms| pass, firing every timer on its due time. */
static void advance(struct srv *s, uint64_t ms) {
  uint64_t until = s->now + ms;
  int guard = 0;
  for (;;) {
    uint64_t t = ws_fuzzer_next_timer(s->f);
    if (t > until)
      break;
    assert_true(++guard < 1000); /* a due timer that never disarms */
    if (t > s->now)
      s->now = t;
    ws_fuzzer_tick(s->f, s->now);
    pump(s);
  }
  s->now = until;
}

/* The 101 for the request's key: |protocol| may be NULL, |server| adds a
 * Server field when not NULL. */
static void put_101(struct srv *s, struct bytes *b, const char *key,
                    const char *protocol, const char *server) {
  char buf[512];
  ws_ssize n = ws_handshake_build_101(buf, sizeof(buf), NULL,
                                      key ? key : s->key, WS_KEY_LEN,
                                      protocol, NULL);
  assert_true(n > 4);
  if (server != NULL) {
    put(b, buf, (size_t)n - 2);
    put(b, "Server: ", 8);
    put(b, server, strlen(server));
    put(b, "\r\n\r\n", 4);
  } else {
    put(b, buf, (size_t)n);
  }
}

static void send_101(struct srv *s) {
  struct bytes b = {0};
  put_101(s, &b, NULL, NULL, NULL);
  feed(s, b.p, b.n);
  free(b.p);
}

/* One read of a single frame, or of hex octets. */
static void send_frame(struct srv *s, uint8_t op, int fin, const void *pl,
                       size_t n) {
  struct bytes b = {0};
  put_frame(&b, op, fin, pl, n);
  feed(s, b.p, b.n);
  free(b.p);
}

static void send_close(struct srv *s, int code) {
  uint8_t c[2] = {(uint8_t)(code >> 8), (uint8_t)code};
  send_frame(s, WS_OP_CLOSE, 1, c, 2);
}

static void send_hex(struct srv *s, const char *hex) {
  size_t n;
  uint8_t *p = hex_decode(hex, &n);
  feed(s, p, n);
  free(p);
}

/* srv_start, then the 101. */
static void srv_open(struct srv *s, const char *id) {
  srv_start(s, id, NULL);
  send_101(s);
}

static void take_result(struct srv *s) {
  struct ws_case_result again;
  assert_true(ws_fuzzer_done(s->f));
  assert_int_equal(ws_fuzzer_next_timer(s->f), NO_TIMER);
  assert_int_equal(ws_fuzzer_result(s->f, &s->r), 0);
  assert_int_equal(ws_fuzzer_result(s->f, &again), WS_ESTATE);
}

/* The server closes TCP (EOF). */
static void eof(struct srv *s) {
  assert_false(ws_fuzzer_want_drop(s->f));
  ws_fuzzer_transport_lost(s->f, s->now, 0, 0);
  take_result(s);
}

/* The fuzzer asked for the drop; the driver closes TCP. */
static void drop(struct srv *s) {
  assert_true(ws_fuzzer_want_drop(s->f));
  ws_fuzzer_transport_lost(s->f, s->now, 1, 0);
  take_result(s);
}

static void srv_end(struct srv *s) {
  ws_fuzzer_del(s->f);
  ws_case_result_free(&s->r);
  assert_int_equal(s->fm.live, 0);
  for (size_t i = 0; i < s->n_frames; i++)
    free(s->frames[i].data.p);
  free(s->frames);
  free(s->units);
  free(s->wire.p);
  s->f = NULL;
}

/* Frame n - 1, asserting that exactly n frames went out. */
static const struct sent_frame *frame_n(const struct srv *s, size_t n) {
  assert_int_equal(s->n_frames, n);
  return &s->frames[n - 1];
}

static const struct sent_frame *last_frame(const struct srv *s) {
  assert_true(s->n_frames > 0);
  return &s->frames[s->n_frames - 1];
}

/* ------------------------------------------------------------ asserts */

static void assert_verdicts(const struct ws_case_result *r,
                            const char *behavior, const char *close) {
  assert_string_equal(ws_verdict_name((enum ws_verdict)r->behavior),
                      behavior);
  assert_string_equal(ws_verdict_name((enum ws_verdict)r->behavior_close),
                      close);
}

/* The server's Close |code|, then EOF; the verdicts must be these. */
static void close_eof(struct srv *s, int code, const char *behavior,
                      const char *close) {
  send_close(s, code);
  eof(s);
  assert_verdicts(&s->r, behavior, close);
}

/* A masked Close from the fuzzer: |code| < 0 means an empty payload. */
static void assert_close_frame(const struct sent_frame *fr, int code,
                               const char *reason) {
  size_t rl = reason ? strlen(reason) : 0;
  assert_int_equal(fr->h.opcode, WS_OP_CLOSE);
  assert_int_equal(fr->h.fin, 1);
  assert_int_equal(fr->h.masked, 1);
  if (code < 0) {
    assert_int_equal(fr->h.length, 0);
    return;
  }
  assert_int_equal(fr->h.length, 2 + rl);
  assert_int_equal(fr->data.n, 2 + rl);
  assert_int_equal(fr->data.p[0] << 8 | fr->data.p[1], code);
  if (rl)
    assert_memory_equal(fr->data.p + 2, reason, rl);
}

static void assert_data_frame(const struct sent_frame *fr, uint8_t op,
                              int fin, const void *pl, size_t n) {
  assert_int_equal(fr->h.opcode, op);
  assert_int_equal(fr->h.fin, fin);
  assert_int_equal(fr->h.rsv, 0);
  assert_int_equal(fr->h.masked, 1);
  assert_int_equal(fr->h.length, n);
  assert_int_equal(fr->data.n, n);
  if (n)
    assert_memory_equal(fr->data.p, pl, n);
}

static void assert_event(const struct ws_case_result *r, size_t i,
                         uint8_t kind, int binary, char tag, const void *pl,
                         size_t n) {
  const struct ws_result_event *e;
  assert_true(i < r->n_events);
  e = &r->events[i];
  assert_int_equal(e->kind, kind);
  assert_int_equal(e->binary, binary);
  assert_int_equal(e->tag, tag);
  if (kind == WS_EVENT_TIMEOUT)
    return;
  assert_int_equal(e->len, n);
  assert_int_equal(e->n_preview, n < WS_RESULT_PREVIEW ? n
                                                        : WS_RESULT_PREVIEW);
  if (e->n_preview)
    assert_memory_equal(e->preview, pl, e->n_preview);
}

/* The closing flags: closed_by_me, failed_by_me, dropped_by_me,
 * was_clean. */
static void assert_ends(const struct ws_case_result *r, int closed,
                        int failed, int dropped, int clean) {
  assert_int_equal(r->closed_by_me, closed);
  assert_int_equal(r->failed_by_me, failed);
  assert_int_equal(r->dropped_by_me, dropped);
  assert_int_equal(r->was_clean, clean);
}

/* The wire octets the fuzzer wrote at |off|. */
static void assert_wire(const struct srv *s, size_t off, const char *hex) {
  size_t n;
  uint8_t *p = hex_decode(hex, &n);
  assert_true(off + n <= s->wire.n);
  assert_memory_equal(s->wire.p + off, p, n);
  free(p);
}

static uint64_t octet_count(const struct ws_octet_stat *v, size_t n,
                            uint64_t size) {
  for (size_t i = 0; i < n; i++)
    if (v[i].size == size)
      return v[i].count;
  return 0;
}

/* ------------------------------------------------ 1, 2: a clean echo */

/* 1.1.1 up to the server's Close reply: open at T0 + 3, echo at + 5,
 * Close 1000 at + 7. */
static void echo_111(struct srv *s) {
  srv_start(s, "1.1.1", NULL);
  assert_memory_equal(s->wire.p, "GET / HTTP/1.1\r\n", 16);
  assert_int_equal(s->n_units, 1);
  assert_int_equal(s->units[0].flags, 0);
  assert_int_equal(ws_fuzzer_next_timer(s->f), T0 + WS_CASE_OPEN_TIMEOUT_MS);
  advance(s, 3);
  send_101(s);
  /* One masked TEXT frame with an empty payload, then killAfter(1000). */
  assert_data_frame(frame_n(s, 1), WS_OP_TEXT, 1, "", 0);
  assert_int_equal(s->frames[0].h.length_form, 7);
  assert_int_equal(ws_fuzzer_next_timer(s->f), T0 + 3 + 1000);
  advance(s, 2);
  send_frame(s, WS_OP_TEXT, 1, "", 0);
  /* The events equal the only expected list: Close 1000 at once. */
  assert_close_frame(frame_n(s, 2), 1000, NULL);
  assert_int_not_equal(memcmp(s->frames[1].h.mask, s->frames[0].h.mask, 4), 0);
  advance(s, 2);
  send_close(s, 1000);
  assert_int_equal(s->n_frames, 2); /* no second Close */
  assert_false(ws_fuzzer_want_drop(s->f));
}

static void test_perfect_echo(void **state) {
  struct srv s;
  const struct ws_case_result *r = &s.r;
  (void)state;
  echo_111(&s);
  assert_int_equal(ws_fuzzer_start(s.f, s.now), WS_ESTATE);
  assert_int_equal(ws_fuzzer_result(s.f, &s.r), WS_ESTATE);
  advance(&s, 4);
  eof(&s);
  assert_verdicts(r, "OK", "OK");
  assert_string_equal(r->result, "Actual events match at least one expected.");
  assert_string_equal(r->result_close, "Connection was properly closed");
  assert_int_equal(r->number, 42);
  assert_true(r->connected && r->opened);
  assert_ends(r, 1, 0, 0, 1);
  assert_null(r->was_not_clean_reason);
  assert_int_equal(r->was_server_connection_drop_timeout +
                       r->was_open_handshake_timeout +
                       r->was_close_handshake_timeout + r->deadline_hit,
                   0);
  assert_int_equal(r->local_close_code, 1000);
  assert_int_equal(r->remote_close_code, 1000);
  assert_int_equal(r->local_reason_len, -1);
  assert_int_equal(r->remote_reason_len, -1);
  assert_int_equal(r->duration_ms, 8); /* open at + 3, EOF at + 11 */
  assert_int_equal(r->n_events, 1);
  assert_int_equal(r->events_total, 1);
  assert_event(r, 0, WS_EVENT_MESSAGE, 0, 0, "", 0);
  for (unsigned op = 0; op < 16; op++) {
    assert_int_equal(r->rx_frames[op], op == 1 || op == 8);
    assert_int_equal(r->tx_frames[op], op == 1 || op == 8);
  }
  /* One read each: the 101, the 2-octet echo, the 4-octet Close; writes:
   * the request, the 6-octet frame, the 8-octet Close. */
  assert_int_equal(r->n_rx_octets, 3);
  assert_int_equal(octet_count(r->rx_octets, r->n_rx_octets, 2), 1);
  assert_int_equal(octet_count(r->rx_octets, r->n_rx_octets, 4), 1);
  assert_int_equal(octet_count(r->tx_octets, r->n_tx_octets, s.head_len), 1);
  assert_int_equal(octet_count(r->tx_octets, r->n_tx_octets, 6), 1);
  assert_int_equal(octet_count(r->tx_octets, r->n_tx_octets, 8), 1);
  assert_non_null(r->http_request);
  assert_int_equal(strlen(r->http_request), s.head_len);
  assert_memory_equal(r->http_request, s.wire.p, s.head_len);
  assert_non_null(r->http_response);
  assert_memory_equal(r->http_response, "HTTP/1.1 101 Switching Protocols\r\n",
                      34);
  assert_null(r->protocol);
  assert_int_equal(r->error[0], '\0');
  srv_end(&s);
}

/*
 * The server answers the closing handshake but keeps TCP open. In 2.1
 * (closeAfter, no kill timer) the drop timeout fires 1000 ms after the
 * reply: UNCLEAN. In 1.1.1 the killAfter(1000) armed at open comes first
 * and, the connection being in the closing state, drops TCP (Autobahn's
 * failConnection while closing): the handshake was clean, so the verdict
 * is FAILED BY CLIENT.
 */
static void test_server_keeps_tcp(void **state) {
  struct srv s;
  (void)state;
  srv_start(&s, "2.1", NULL);
  advance(&s, 3);
  send_101(&s);
  assert_data_frame(&s.frames[0], WS_OP_PING, 1, "", 0);
  advance(&s, 2);
  send_frame(&s, WS_OP_PONG, 1, "", 0);
  assert_close_frame(last_frame(&s), 1000, NULL);
  advance(&s, 2);
  send_close(&s, 1000);
  assert_int_equal(ws_fuzzer_next_timer(s.f), T0 + 3 + 1000);
  advance(&s, 996); /* closeAfter fires while closing: nothing sent */
  assert_int_equal(s.n_frames, 2);
  assert_false(ws_fuzzer_want_drop(s.f));
  assert_int_equal(ws_fuzzer_next_timer(s.f), T0 + 7 + 1000);
  advance(&s, 3);
  assert_false(ws_fuzzer_want_drop(s.f));
  advance(&s, 1);
  assert_true(ws_fuzzer_want_drop(s.f));
  assert_int_equal(s.now, T0 + 1007);
  drop(&s);
  assert_verdicts(&s.r, "OK", "UNCLEAN");
  assert_int_equal(s.r.was_server_connection_drop_timeout, 1);
  assert_ends(&s.r, 1, 0, 1, 0);
  assert_string_equal(s.r.was_not_clean_reason,
                      "server did not drop TCP connection (in time)");
  assert_int_equal(s.r.duration_ms, 1004);
  srv_end(&s);

  echo_111(&s);
  assert_int_equal(ws_fuzzer_next_timer(s.f), T0 + 3 + 1000);
  advance(&s, 995);
  assert_false(ws_fuzzer_want_drop(s.f));
  advance(&s, 1);
  assert_true(ws_fuzzer_want_drop(s.f));
  assert_int_equal(ws_fuzzer_output(s.f, &(const uint8_t *){NULL}, NULL), 0);
  drop(&s);
  assert_verdicts(&s.r, "OK", "FAILED BY CLIENT");
  assert_string_equal(s.r.result_close,
                      "It is preferred that the server close the TCP "
                      "connection");
  assert_ends(&s.r, 1, 1, 1, 1);
  assert_int_equal(s.r.was_server_connection_drop_timeout, 0);
  srv_end(&s);
}

/* ------------------------------------------------- 3: 2.5 must fail */

/* 2.5 opened at T0 + 1: the 126-octet Ping (16-bit length form) went
 * out; the decoder refuses it, so it is parsed by hand. */
static void open_25(struct srv *s) {
  uint8_t fe[126];
  srv_start(s, "2.5", NULL);
  advance(s, 1);
  send_101(s);
  memset(fe, 0xfe, sizeof(fe));
  assert_int_equal(s->n_frames, 1);
  assert_int_equal(s->frames[0].raw, 1);
  assert_int_equal(s->frames[0].h.opcode, WS_OP_PING);
  assert_int_equal(s->frames[0].h.length_form, 16);
  assert_int_equal(s->frames[0].h.masked, 1);
  assert_int_equal(s->frames[0].data.n, 126);
  assert_memory_equal(s->frames[0].data.p, fe, 126);
  assert_wire(s, s->frames[0].at, "89 fe 007e"); /* MASK | 126, 126 */
}

static void test_must_fail_25(void **state) {
  struct srv s;
  (void)state;
  /* The server ignores the bad Ping: killAfter(1000) sends Close 1001
   * "Going Away"; behavior stays OK (no fatal flag), the close verdict is
   * FAILED (wrong endpoint). */
  open_25(&s);
  assert_int_equal(ws_fuzzer_next_timer(s.f), T0 + 1 + 1000);
  advance(&s, 999);
  assert_int_equal(s.n_frames, 1);
  advance(&s, 1);
  assert_close_frame(frame_n(&s, 2), 1001, "Going Away");
  advance(&s, 5);
  send_close(&s, 1000);
  advance(&s, 1);
  eof(&s);
  assert_verdicts(&s.r, "OK", "FAILED");
  assert_string_equal(s.r.result_close,
                      "The connection was failed by the wrong endpoint");
  assert_ends(&s.r, 1, 1, 0, 1);
  assert_int_equal(s.r.local_close_code, 1001);
  assert_int_equal(s.r.local_reason_len, 10);
  assert_memory_equal(s.r.local_reason, "Going Away", 10);
  assert_int_equal(s.r.remote_close_code, 1000);
  assert_int_equal(s.r.n_events, 0);
  assert_int_equal(s.r.duration_ms, 1006);
  srv_end(&s);

  /* The correct server: Close 1002 "bad"; the fuzzer replies 1000. */
  open_25(&s);
  advance(&s, 2);
  send_frame(&s, WS_OP_CLOSE, 1, "\x03\xea" "bad", 5);
  assert_close_frame(frame_n(&s, 2), 1000, NULL);
  advance(&s, 1);
  eof(&s);
  assert_verdicts(&s.r, "OK", "OK");
  assert_ends(&s.r, 0, 0, 0, 1);
  assert_int_equal(s.r.remote_close_code, 1002);
  assert_int_equal(s.r.remote_reason_len, 3);
  assert_memory_equal(s.r.remote_reason, "bad", 3);
  assert_int_equal(s.r.local_close_code, 1000);
  srv_end(&s);

  /* A bare TCP drop is as good as the right Close. */
  open_25(&s);
  advance(&s, 2);
  eof(&s);
  assert_verdicts(&s.r, "OK", "OK");
  assert_int_equal(s.r.remote_close_code, -1);
  assert_int_equal(s.r.local_close_code, -1);
  assert_ends(&s.r, 0, 0, 0, 0);
  assert_string_equal(s.r.was_not_clean_reason,
                      "peer dropped the TCP connection without previous "
                      "WebSocket closing handshake");
  srv_end(&s);

  /* Close 1000 is the wrong code; behavior stays OK outside 7.x. */
  open_25(&s);
  advance(&s, 2);
  send_close(&s, 1000);
  advance(&s, 1);
  eof(&s);
  assert_verdicts(&s.r, "OK", "WRONG CODE");
  assert_string_equal(s.r.result_close,
                      "The close code should have been 1002, but was 1000");
  assert_string_equal(s.r.result,
                      "Actual events match at least one expected.");
  srv_end(&s);
}

/* ---------------------------------------------- 4: 6.4.1 fail-fast */

#define KOSME "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

/* 6.4.1 opened at T0: part 1 went out. */
static void open_641(struct srv *s) {
  srv_open(s, "6.4.1");
  assert_data_frame(frame_n(s, 1), WS_OP_TEXT, 0, KOSME, 11);
  assert_int_equal(ws_fuzzer_next_timer(s->f), T0 + 1000);
}

/* Part 2 goes out at T0 + 1000, part 3 at T0 + 2000 with killAfter(1000). */
static void part2_641(struct srv *s) {
  advance(s, 1000);
  assert_data_frame(frame_n(s, 2), WS_OP_CONTINUATION, 0,
                    "\xf4\x90\x80\x80", 4);
}

static void part3_641(struct srv *s) {
  advance(s, 1000);
  assert_data_frame(frame_n(s, 3), WS_OP_CONTINUATION, 1, "edited", 6);
  assert_int_equal(ws_fuzzer_next_timer(s->f), T0 + 3000);
}

static void test_fail_fast_641(void **state) {
  struct srv s;
  (void)state;
  /* Fail-fast: Close 1007 before the second pause ends. The pause then
   * ends on a closing connection: no marker, no part 3. */
  open_641(&s);
  part2_641(&s);
  advance(&s, 500);
  send_close(&s, 1007);
  assert_close_frame(&s.frames[2], 1000, NULL);
  advance(&s, 600); /* past T0 + 2000 */
  assert_int_equal(s.n_frames, 3);
  eof(&s);
  assert_verdicts(&s.r, "OK", "OK");
  assert_int_equal(s.r.n_events, 1);
  assert_event(&s.r, 0, WS_EVENT_TIMEOUT, 0, 'A', NULL, 0);
  assert_int_equal(s.r.remote_close_code, 1007);
  assert_int_equal(s.r.closed_by_me, 0);
  srv_end(&s);

  /* Fails only after the whole message: NON-STRICT. */
  open_641(&s);
  part2_641(&s);
  part3_641(&s);
  advance(&s, 10);
  close_eof(&s, 1007, "NON-STRICT", "OK");
  assert_int_equal(s.r.n_events, 2);
  assert_event(&s.r, 0, WS_EVENT_TIMEOUT, 0, 'A', NULL, 0);
  assert_event(&s.r, 1, WS_EVENT_TIMEOUT, 0, 'B', NULL, 0);
  srv_end(&s);

  /* Never fails: the kill timer closes, the fatal flag fails the case. */
  open_641(&s);
  part2_641(&s);
  part3_641(&s);
  advance(&s, 1000);
  assert_close_frame(frame_n(&s, 4), 1001, "Going Away");
  close_eof(&s, 1000, "FAILED", "FAILED");
  assert_string_equal(s.r.result,
                      "The connection was failed by the wrong endpoint "
                      "(FAILED)");
  assert_int_equal(s.r.n_events, 2);
  assert_int_equal(s.r.closed_by_me, 1);
  srv_end(&s);

  /* Fails on the valid part 1: nothing recorded, no outcome matches. */
  open_641(&s);
  advance(&s, 500);
  send_close(&s, 1007);
  advance(&s, 600);
  assert_int_equal(s.n_frames, 2); /* part 1 and the Close reply */
  eof(&s);
  assert_verdicts(&s.r, "FAILED", "OK");
  assert_string_equal(s.r.result, "Actual events differ from any expected.");
  assert_int_equal(s.r.n_events, 0);
  srv_end(&s);
}

/* -------------------------------------------- 5: 7.x close handling */

static void test_close_cases(void **state) {
  struct srv s;
  char reason[125];
  (void)state;
  /* 7.3.3: Close 1000 sent at open; a 1002 reply is WRONG CODE, which
   * fails 7.x cases with the close text. */
  srv_open(&s, "7.3.3");
  assert_close_frame(frame_n(&s, 1), 1000, NULL);
  advance(&s, 1);
  close_eof(&s, 1002, "FAILED", "WRONG CODE");
  assert_string_equal(s.r.result, s.r.result_close);
  assert_string_equal(s.r.result,
                      "The close code should have been 1000, but was 1002");
  srv_end(&s);

  /* 7.1.1: the early Close after the echo; a 1001 reply fails. */
  srv_open(&s, "7.1.1");
  assert_data_frame(&s.frames[0], WS_OP_TEXT, 1, "Hello World!", 12);
  send_frame(&s, WS_OP_TEXT, 1, "Hello World!", 12);
  assert_close_frame(last_frame(&s), 1000, NULL);
  close_eof(&s, 1001, "FAILED", "WRONG CODE");
  assert_string_equal(s.r.result, s.r.result_close);
  assert_int_equal(s.r.n_events, 1);
  srv_end(&s);

  /* 7.3.6: a 126-octet Close payload (code + 124-octet reason) in the
   * 16-bit length form. */
  srv_open(&s, "7.3.6");
  assert_int_equal(s.n_frames, 1);
  assert_int_equal(s.frames[0].raw, 1);
  assert_int_equal(s.frames[0].h.length_form, 16);
  assert_wire(&s, s.frames[0].at, "88 fe 007e");
  assert_int_equal(s.units[1].len, 4 + 4 + 126);
  memset(reason, '*', 124);
  reason[124] = '\0';
  assert_close_frame(&s.frames[0], 1000, reason);
  advance(&s, 1);
  close_eof(&s, 1002, "OK", "OK");
  assert_int_equal(s.r.local_close_code, 1000);
  assert_int_equal(s.r.local_reason_len, 124);
  assert_int_equal(s.r.remote_close_code, 1002);
  srv_end(&s);
}

/* ------------------------------------------- 6: the opening handshake */

static void assert_never_opened(const struct ws_case_result *r) {
  assert_verdicts(r, "FAILED", "FAILED");
  assert_string_equal(r->result_close,
                      "The WebSocket opening handshake was never completed!");
  assert_int_equal(r->opened, 0);
  assert_int_equal(r->duration_ms, 0);
}

static void test_handshake(void **state) {
  static const char *const protos[] = {"chat"};
  const struct knobs k = {.protocols = protos, .n_protocols = 1};
  struct srv s;
  struct bytes b = {0};
  static const struct ws_client_options opt = {.host = "127.0.0.1"};
  struct ws_fuzzer_config cfg = {.kase = ws_case_find("1.1.1")};
  ws_fuzzer *f;
  (void)state;
  /* The TCP connect fails: graded at once, no handshake. */
  cfg.request = &opt;
  assert_int_equal(ws_fuzzer_new(&f, &cfg), 0);
  ws_fuzzer_connect_failed(f, -111, "connect: connection refused");
  assert_true(ws_fuzzer_done(f));
  assert_int_equal(ws_fuzzer_result(f, &s.r), 0);
  assert_never_opened(&s.r);
  assert_int_equal(s.r.connect_failed, 1);
  assert_int_equal(s.r.net_error, -111);
  assert_string_equal(s.r.error, "connect: connection refused");
  assert_string_equal(s.r.result, s.r.error);
  ws_fuzzer_del(f);
  ws_case_result_free(&s.r);
  /* No response: the open timeout fires after exactly 5000 ms. */
  srv_start(&s, "1.1.1", NULL);
  advance(&s, 4999);
  assert_false(ws_fuzzer_want_drop(s.f));
  advance(&s, 1);
  drop(&s);
  assert_never_opened(&s.r);
  assert_int_equal(s.r.was_open_handshake_timeout, 1);
  assert_string_equal(s.r.error, "no opening handshake response within the "
                                 "open timeout");
  assert_string_equal(s.r.result, s.r.error);
  assert_null(s.r.http_response);
  srv_end(&s);

  /* HTTP 404. */
  srv_start(&s, "1.1.1", NULL);
  advance(&s, 2);
  send_hex(&s, "485454502f312e3120343034204e6f7420466f756e640d0a" /* 404 */
               "436f6e74656e742d4c656e6774683a20300d0a0d0a");
  drop(&s);
  assert_never_opened(&s.r);
  assert_non_null(strstr(s.r.error, "404"));
  assert_string_equal(s.r.error, "handshake refused: HTTP 404 Not Found");
  assert_non_null(s.r.http_response);
  assert_memory_equal(s.r.http_response, "HTTP/1.1 404 Not Found\r\n", 24);
  assert_int_equal(s.n_frames, 0);
  srv_end(&s);

  /* A 101 whose Sec-WebSocket-Accept belongs to another key. */
  srv_start(&s, "1.1.1", NULL);
  put_101(&s, &b, "dGhlIHNhbXBsZSBub25jZQ==", NULL, NULL);
  feed(&s, b.p, b.n);
  b.n = 0;
  drop(&s);
  assert_never_opened(&s.r);
  assert_non_null(strstr(s.r.error, "invalid handshake response"));
  assert_non_null(strstr(s.r.error, "Section 4.1"));
  assert_int_equal(s.n_frames, 0);
  srv_end(&s);

  /* A 101 with a Server field and the offered subprotocol, then the
   * echo, fed one octet per read. */
  srv_start(&s, "1.1.1", &k);
  put_101(&s, &b, NULL, "chat", "wsspec-test/1.0");
  put_frame(&b, WS_OP_TEXT, 1, "", 0);
  feed_pieces(&s, b.p, b.n, 1);
  b.n = 0;
  assert_close_frame(frame_n(&s, 2), 1000, NULL);
  close_eof(&s, 1000, "OK", "OK");
  assert_string_equal(s.r.server_header, "wsspec-test/1.0");
  assert_string_equal(s.r.protocol, "chat");
  srv_end(&s);

  free(b.p);
}

/* ------------------------------------------- 7: server violations */

/*
 * 1.1.6 opened, then |hex| from the server: the fuzzer must fail the
 * connection at once with Close |code| |reason|, read nothing more (a
 * Close reply included: ws_fuzzer.c's choice; Autobahn|Python skips the
 * bad frame and would see the reply), drop after the close timeout and
 * report it.
 */
static void violation_case(const char *hex, int code, const char *reason) {
  struct srv s;
  srv_open(&s, "1.1.6"); /* killAfter(10 s): out of the way */
  assert_int_equal(s.n_frames, 1);
  advance(&s, 5);
  send_hex(&s, hex);
  assert_close_frame(frame_n(&s, 2), code, reason);
  advance(&s, 1);
  send_close(&s, 1000); /* ignored */
  assert_int_equal(ws_fuzzer_next_timer(s.f), T0 + 5 + 1000);
  advance(&s, 999);
  drop(&s);
  assert_verdicts(&s.r, "FAILED", "UNCLEAN");
  assert_ends(&s.r, 1, 1, 1, 0);
  assert_int_equal(s.r.was_close_handshake_timeout, 1);
  assert_int_equal(s.r.local_close_code, code);
  assert_int_equal(s.r.remote_close_code, -1);
  assert_int_equal(s.r.n_events, 0);
  srv_end(&s);
}

static void test_violations(void **state) {
  (void)state;
  /* Invalid UTF-8 fails fast, mid-frame: 10 octets announced, the third
   * (0xff) can never be UTF-8, the other 7 never arrive. */
  violation_case("810a 6162ff", 1007, "text message is not valid UTF-8");
  /* A truncated sequence fails only when the message ends. */
  violation_case("8102 61e2", 1007, "text message is not valid UTF-8");
  violation_case("8281 01020304 ff", 1002, "server frame masked");
  violation_case("c200", 1002, "RSV bit set without a negotiated extension");
  violation_case("8300", 1002, "reserved opcode");
  violation_case("827e0005 0102030405", 1002,
                 "payload length not minimally encoded");
  violation_case("880100", 1002, "close payload of one byte");
  violation_case("880203ec", 1002, "invalid close code");
  violation_case("8000", 1002,
                 "continuation frame without a message to continue");
  violation_case("0100 8100", 1002,
                 "new data frame inside a fragmented message");
  violation_case("897e007e", 1002, "control frame payload over 125 bytes");
  violation_case("880403e8c0af", 1007, "close reason is not valid UTF-8");
}

/* A frame announcing 2^63 - 1 octets, then endless data: nothing is
 * buffered, and with long library timeouts the hard deadline ends it. */
static void test_endless_frame(void **state) {
  const struct knobs k = {.close_ms = 600000, .drop_ms = 600000};
  struct srv s;
  uint8_t *chunk = calloc(1, 65536);
  long calls;
  uint64_t deadline;
  (void)state;
  assert_non_null(chunk);
  srv_start(&s, "1.2.1", &k);
  send_101(&s);
  deadline = T0 + ws_case_max_duration_ms(ws_case_find("1.2.1")) +
             WS_FUZZER_DEADLINE_MARGIN_MS;
  send_hex(&s, "827f 7fffffffffffffff");
  feed(&s, chunk, 65536);
  /* The kill timer fires mid-frame: its Close goes out, reading goes on. */
  advance(&s, 1000);
  assert_close_frame(last_frame(&s), 1001, "Going Away");
  calls = s.fm.calls;
  for (int i = 0; i < 256; i++) {
    feed(&s, chunk, 65536);
    advance(&s, 5);
  }
  /* 16 MiB later: not one more allocation. */
  assert_int_equal(s.fm.calls, calls);
  assert_int_equal(ws_fuzzer_next_timer(s.f), deadline);
  advance(&s, deadline - s.now - 1);
  assert_false(ws_fuzzer_want_drop(s.f));
  advance(&s, 1);
  drop(&s);
  assert_int_equal(s.r.deadline_hit, 1);
  assert_verdicts(&s.r, "FAILED", "UNCLEAN");
  assert_string_equal(s.r.result, "Actual events differ from any expected. "
                                  "(the case hit wsspec's hard deadline)");
  assert_int_equal(s.r.rx_frames[WS_OP_BINARY], 1);
  assert_int_equal(s.r.events_total, 0);
  assert_int_equal(s.r.duration_ms, deadline - T0);
  srv_end(&s);
  free(chunk);
}

/* ------------------------------------------------- 8: Pings and Pongs */

static void test_pings(void **state) {
  struct srv s;
  uint8_t big[125];
  (void)state;
  for (size_t i = 0; i < sizeof(big); i++)
    big[i] = (uint8_t)(i * 7);
  /* 2.1: the server's own Pings are answered with a masked Pong carrying
   * the same payload and not recorded; its Pong is the one event. */
  srv_open(&s, "2.1");
  assert_data_frame(&s.frames[0], WS_OP_PING, 1, "", 0);
  send_frame(&s, WS_OP_PING, 1, "abc", 3);
  assert_data_frame(frame_n(&s, 2), WS_OP_PONG, 1, "abc", 3);
  send_frame(&s, WS_OP_PING, 1, big, sizeof(big));
  assert_data_frame(frame_n(&s, 3), WS_OP_PONG, 1, big, sizeof(big));
  send_frame(&s, WS_OP_PONG, 1, "", 0);
  assert_close_frame(frame_n(&s, 4), 1000, NULL);
  /* A Ping after our Close is not answered. */
  send_frame(&s, WS_OP_PING, 1, "late", 4);
  assert_int_equal(s.n_frames, 4);
  close_eof(&s, 1000, "OK", "OK");
  assert_int_equal(s.r.n_events, 1);
  assert_event(&s.r, 0, WS_EVENT_PONG, 0, 0, "", 0);
  assert_int_equal(s.r.rx_frames[WS_OP_PING], 3);
  assert_int_equal(s.r.rx_frames[WS_OP_PONG], 1);
  assert_int_equal(s.r.tx_frames[WS_OP_PING], 1);
  assert_int_equal(s.r.tx_frames[WS_OP_PONG], 2);
  assert_int_equal(s.r.tx_frames[WS_OP_CLOSE], 1);
  srv_end(&s);

  /* 2.2 with a Pong of the wrong payload: recorded, no early close; the
   * closeAfter(1000) Close has an empty payload. */
  srv_open(&s, "2.2");
  assert_data_frame(&s.frames[0], WS_OP_PING, 1, "Hello, world!", 13);
  send_frame(&s, WS_OP_PONG, 1, "Hello, World?", 13);
  assert_int_equal(s.n_frames, 1);
  advance(&s, 1000);
  assert_close_frame(frame_n(&s, 2), -1, NULL);
  close_eof(&s, 1000, "FAILED", "OK");
  assert_int_equal(s.r.n_events, 1);
  assert_event(&s.r, 0, WS_EVENT_PONG, 0, 0, "Hello, World?", 13);
  assert_int_equal(s.r.local_close_code, -1);
  srv_end(&s);
}

/* ------------------------------------------------- 9: write units */

/* Checks that units [first, first + n) hold one whole frame each, frames
 * [frame0, frame0 + n), with |flags|. */
static void assert_unit_per_frame(const struct srv *s, size_t first,
                                  size_t frame0, size_t n, unsigned flags) {
  assert_true(first + n <= s->n_units);
  assert_true(frame0 + n <= s->n_frames);
  for (size_t i = 0; i < n; i++) {
    const struct unit *u = &s->units[first + i];
    const struct sent_frame *fr = &s->frames[frame0 + i];
    size_t end = i + 1 < n ? s->frames[frame0 + i + 1].at : s->wire.n;
    assert_int_equal(u->flags, flags);
    assert_int_equal(fr->at, u->off);
    assert_int_equal(u->off + u->len, end);
  }
}

/* 5.8 (chopsize 1, then closeAfter 1 s) on a loop whose turns take
 * 30 ms: the 48 one-octet writes span 1.4 s. The 1 s counts from the
 * last of them, so a server that answers then passes (it did not when
 * the timer counted from the call: the Close went out first). */
static void test_chop_timer_after_writes(void **state) {
  struct srv s;
  uint8_t pong[14] = {0x8a, 12};
  uint8_t echo[20] = {0x81, 18};
  (void)state;
  srv_start(&s, "5.8", NULL);
  s.turn_ms = 30;
  uint64_t t0 = s.now;
  send_101(&s);
  assert_int_equal(s.n_frames, 3);
  assert_true(s.now - t0 >= 1400);
  memcpy(pong + 2, "ping payload", 12);
  memcpy(echo + 2, "fragment1fragment2", 18);
  advance(&s, 0);
  assert_int_equal(s.n_frames, 3); /* no Close yet */
  advance(&s, 999);
  assert_int_equal(s.n_frames, 3);
  feed(&s, pong, sizeof(pong));
  feed(&s, echo, sizeof(echo));
  assert_close_frame(frame_n(&s, 4), 1000, NULL);
  close_eof(&s, 1000, "OK", "OK");
  srv_end(&s);

  /* The same with no reply: the timer fires 1 s after the last write. */
  srv_start(&s, "5.8", NULL);
  s.turn_ms = 30;
  send_101(&s);
  uint64_t drained = s.now;
  advance(&s, 999);
  assert_int_equal(s.n_frames, 3);
  advance(&s, 1);
  assert_int_equal(s.now, drained + 1000);
  assert_close_frame(frame_n(&s, 4), -1, NULL);
  close_eof(&s, 1000, "FAILED", "OK");
  srv_end(&s);
}

static void test_write_units(void **state) {
  static const uint8_t kosme_bad[] = KOSME "\xf4\x90\x80\x80" "edited";
  struct srv s;
  uint8_t fe[125];
  (void)state;
  memset(fe, 0xfe, sizeof(fe));
  /* 2.6, chopsize 1: 131 units of one octet, each its own write, each
   * with a loop turn after it. */
  srv_open(&s, "2.6");
  assert_int_equal(s.n_units, 1 + 131);
  for (size_t i = 1; i < s.n_units; i++) {
    assert_int_equal(s.units[i].len, 1);
    assert_int_equal(s.units[i].flags,
                     WS_FUZZER_OUT_SYNC | WS_FUZZER_OUT_YIELD);
  }
  assert_data_frame(frame_n(&s, 1), WS_OP_PING, 1, fe, sizeof(fe));
  srv_end(&s);

  /* 5.20: every frame in a unit of its own, before and after the pause. */
  srv_open(&s, "5.20");
  assert_int_equal(s.n_frames, 3);
  assert_int_equal(s.n_units, 4);
  assert_unit_per_frame(&s, 1, 0, 3, WS_FUZZER_OUT_SYNC);
  assert_data_frame(&s.frames[0], WS_OP_TEXT, 0, "fragment1", 9);
  assert_data_frame(&s.frames[2], WS_OP_PING, 1, "pongme 1!", 9);
  advance(&s, 1000);
  assert_int_equal(s.n_frames, 7);
  assert_int_equal(s.n_units, 8);
  assert_unit_per_frame(&s, 4, 3, 4, WS_FUZZER_OUT_SYNC);
  assert_data_frame(&s.frames[6], WS_OP_CONTINUATION, 1, "fragment5", 9);
  srv_end(&s);

  /* 2.10: ten Pings in one burst unit. */
  srv_open(&s, "2.10");
  assert_int_equal(s.n_frames, 10);
  assert_int_equal(s.n_units, 2);
  assert_int_equal(s.units[1].flags, 0);
  assert_int_equal(s.units[1].off + s.units[1].len, s.wire.n);
  for (size_t i = 0; i < 10; i++) {
    char p[16];
    snprintf(p, sizeof(p), "payload-%zu", i);
    assert_int_equal(s.frames[i].unit, 1);
    assert_data_frame(&s.frames[i], WS_OP_PING, 1, p, 9);
  }
  srv_end(&s);

  /* 6.4.3: the header alone, then the payload in three writes across the
   * pauses, masked with the header's key at the right offsets. */
  srv_open(&s, "6.4.3");
  assert_int_equal(s.n_units, 3);
  advance(&s, 1000);
  assert_int_equal(s.n_units, 4);
  advance(&s, 1000);
  assert_int_equal(s.n_units, 6);
  for (size_t i = 1; i < 6; i++) { /* header, 3 chops, FIN continuation */
    static const size_t len[] = {0, 2 + 4, 11, 4, 6, 6};
    assert_int_equal(s.units[i].len, len[i]);
    assert_int_equal(s.units[i].flags, i < 5 ? WS_FUZZER_OUT_SYNC : 0);
  }
  assert_int_equal(s.n_frames, 2);
  assert_int_equal(s.frames[0].unit, 1);
  assert_data_frame(&s.frames[0], WS_OP_TEXT, 0, kosme_bad, 21);
  assert_data_frame(&s.frames[1], WS_OP_CONTINUATION, 1, "", 0);
  assert_int_equal(s.frames[1].unit, 5);
  srv_end(&s);
}

/* -------------------------------------- 10: 9.1.1 and 10.1.1 (echoes) */

/* 9.1.1 opened at T0: one 65,536-octet text frame of "BAsd7&jh23". */
static void open_911(struct srv *s) {
  static const char pat[] = "BAsd7&jh23";
  const struct sent_frame *fr;
  srv_open(s, "9.1.1");
  assert_int_equal(s->n_frames, 1);
  fr = &s->frames[0];
  assert_int_equal(fr->h.opcode, WS_OP_TEXT);
  assert_int_equal(fr->h.fin, 1);
  assert_int_equal(fr->h.length_form, 64);
  assert_int_equal(fr->data.n, 65536);
  for (size_t i = 0; i < fr->data.n; i++)
    if (fr->data.p[i] != (uint8_t)pat[i % 10])
      fail_msg("payload octet %zu", i);
  assert_int_equal(ws_fuzzer_next_timer(s->f), T0 + 10000);
}

static void echo_x(struct srv *s, size_t n) {
  uint8_t *x = malloc(n);
  assert_non_null(x);
  memset(x, 'x', n); /* content is not checked, only type and length */
  send_frame(s, WS_OP_TEXT, 1, x, n);
  free(x);
}

static void test_echo_graded(void **state) {
  struct srv s;
  (void)state;
  open_911(&s);
  advance(&s, 30);
  echo_x(&s, 65536);
  assert_close_frame(frame_n(&s, 2), 1000, NULL);
  close_eof(&s, 1000, "OK", "OK");
  assert_string_equal(s.r.result, "Received text message of length 65536.");
  assert_int_equal(s.r.n_events, 0); /* self-graded: no event list */
  srv_end(&s);

  /* A wrong echo fails at once, with Autobahn's Case9_1 texts. */
  open_911(&s);
  echo_x(&s, 65535);
  assert_close_frame(&s.frames[1], 1000, NULL);
  close_eof(&s, 1000, "FAILED", "OK");
  assert_string_equal(s.r.result, "Expected text message with payload of "
                                  "length 65536, but got 65535.");
  srv_end(&s);
  open_911(&s);
  send_frame(&s, WS_OP_BINARY, 1, "x", 1);
  close_eof(&s, 1000, "FAILED", "OK");
  assert_string_equal(s.r.result,
                      "Expected text message with payload, but got binary.");
  srv_end(&s);
  /* 9.7.1 (1000 empty round trips): the second echo is 1 octet long. */
  srv_open(&s, "9.7.1");
  send_frame(&s, WS_OP_TEXT, 1, "", 0);
  assert_data_frame(frame_n(&s, 2), WS_OP_TEXT, 1, "", 0);
  send_frame(&s, WS_OP_TEXT, 1, "x", 1);
  assert_close_frame(frame_n(&s, 3), 1000, NULL);
  close_eof(&s, 1000, "FAILED", "OK");
  assert_string_equal(s.r.result,
                      "Echo'ed message type or length differs from what I "
                      "sent (got binary = False, payload length = 1).");
  srv_end(&s);

  /* No echo: closeAfter(10 s) sends an empty Close. */
  open_911(&s);
  advance(&s, 9999);
  assert_int_equal(s.n_frames, 1);
  advance(&s, 1);
  assert_close_frame(frame_n(&s, 2), -1, NULL);
  close_eof(&s, 1000, "FAILED", "OK");
  assert_string_equal(s.r.result,
                      "Did not receive message within 10 seconds.");
  assert_int_equal(s.r.duration_ms, 10000);
  srv_end(&s);
}

static void test_autofragment(void **state) {
  struct srv s;
  uint8_t *stars = malloc(65536);
  (void)state;
  assert_non_null(stars);
  memset(stars, '*', 65536);
  srv_open(&s, "10.1.1");
  /* 1 TEXT + 50 CONTINUATION frames: 50 x 1300 octets, then 536. */
  assert_int_equal(s.n_frames, 51);
  for (size_t i = 0; i < 51; i++) {
    assert_data_frame(&s.frames[i], i ? WS_OP_CONTINUATION : WS_OP_TEXT,
                      i == 50, stars, i == 50 ? 536 : 1300);
  }
  send_frame(&s, WS_OP_TEXT, 1, stars, 65536);
  assert_close_frame(last_frame(&s), 1000, NULL);
  close_eof(&s, 1000, "OK", "OK");
  assert_int_equal(s.r.tx_frames[WS_OP_TEXT], 1);
  assert_int_equal(s.r.tx_frames[WS_OP_CONTINUATION], 50);
  assert_event(&s.r, 0, WS_EVENT_MESSAGE, 0, 0, stars, 65536);
  srv_end(&s);
  free(stars);
}

/* ------------------------------------------- 11: split invariance */

struct step {
  uint32_t wait_ms; /* before the read */
  int with_101;     /* the read starts with the 101 */
  struct bytes b;   /* then these server octets */
};

struct script {
  const char *id;
  struct step steps[3];
  size_t n;
  uint32_t tail_ms; /* after the last read, before EOF or the drop */
};

/* What must not depend on how the server's octets were split: the
 * result rendered as text (reads and the wire log aside), and every octet
 * the fuzzer wrote. */
struct digest {
  char text[2048];
  struct bytes out;
};

static void cat(struct digest *d, const char *fmt, ...) {
  size_t n = strlen(d->text);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->text + n, sizeof(d->text) - n, fmt, ap);
  va_end(ap);
}

static void digest_take(struct digest *d, const struct srv *s) {
  const struct ws_case_result *r = &s->r;
  memset(d, 0, sizeof(*d));
  cat(d, "%d/%d %s|%s closed %d failed %d dropped %d clean %d hs %d "
         "codes %d/%d dur %llu events %llu:",
      r->behavior, r->behavior_close, r->result, r->result_close,
      r->closed_by_me, r->failed_by_me, r->dropped_by_me, r->was_clean,
      r->was_close_handshake_timeout, r->local_close_code,
      r->remote_close_code, (unsigned long long)r->duration_ms,
      (unsigned long long)r->events_total);
  for (size_t i = 0; i < r->n_events; i++) {
    const struct ws_result_event *e = &r->events[i];
    cat(d, " (%d %d %d %llu ", e->kind, e->binary, e->tag,
        (unsigned long long)e->len);
    for (size_t j = 0; j < e->n_preview; j++)
      cat(d, "%02x", e->preview[j]);
    cat(d, ")");
  }
  for (unsigned op = 0; op < 16; op++)
    cat(d, " %llu/%llu", (unsigned long long)r->rx_frames[op],
        (unsigned long long)r->tx_frames[op]);
  put(&d->out, s->wire.p, s->wire.n);
}

static void digest_compare(const struct digest *a, const struct digest *b) {
  assert_string_equal(a->text, b->text);
  assert_int_equal(a->out.n, b->out.n);
  assert_memory_equal(a->out.p, b->out.p, a->out.n);
}

/* Runs |sc|: every read whole, or one octet per read (|bytewise|), or
 * read |split_step| in two at |split_at|. |lens| (may be NULL) receives
 * the size of every read. */
static void run_script(const struct script *sc, int bytewise,
                       size_t split_step, size_t split_at, struct digest *d,
                       size_t *lens) {
  struct srv s;
  srv_start(&s, sc->id, NULL);
  for (size_t i = 0; i < sc->n; i++) {
    const struct step *st = &sc->steps[i];
    struct bytes b = {0};
    advance(&s, st->wait_ms);
    if (st->with_101)
      put_101(&s, &b, NULL, NULL, NULL);
    put(&b, st->b.p, st->b.n);
    if (lens != NULL)
      lens[i] = b.n;
    if (bytewise) {
      feed_pieces(&s, b.p, b.n, 1);
    } else if (i == split_step) {
      feed(&s, b.p, split_at);
      feed(&s, b.p + split_at, b.n - split_at);
    } else {
      feed(&s, b.p, b.n);
    }
    free(b.p);
  }
  advance(&s, sc->tail_ms);
  if (ws_fuzzer_want_drop(s.f))
    drop(&s);
  else
    eof(&s);
  digest_take(d, &s);
  srv_end(&s);
}

/* |verdicts| is the start of the digest text: "behavior/close " as
 * enum ws_verdict numbers. */
static void check_script(const struct script *sc, const char *verdicts) {
  struct digest base, d;
  size_t lens[3];
  run_script(sc, 0, SIZE_MAX, 0, &base, lens);
  assert_memory_equal(base.text, verdicts, strlen(verdicts));
  run_script(sc, 1, SIZE_MAX, 0, &d, NULL);
  digest_compare(&base, &d);
  free(d.out.p);
  for (size_t i = 0; i < sc->n; i++) {
    for (size_t at = 1; at < lens[i]; at++) {
      run_script(sc, 0, i, at, &d, NULL);
      digest_compare(&base, &d);
      free(d.out.p);
    }
  }
  free(base.out.p);
}

static void test_split_invariance(void **state) {
  struct script sc[5];
  uint8_t stars[126];
  (void)state;
  memset(sc, 0, sizeof(sc));
  memset(stars, '*', sizeof(stars));
  /* 1.1.1: the 101, the echo and the Close in one read (frames right
   * after the head are the server's first frames). */
  sc[0] = (struct script){.id = "1.1.1", .n = 1, .tail_ms = 5};
  sc[0].steps[0].with_101 = 1;
  put_hex(&sc[0].steps[0].b, "8100 880203e8"); /* text "", Close 1000 */
  /* 2.1: a Ping from the server, the Pong, the Close. */
  sc[1] = (struct script){.id = "2.1", .n = 3, .tail_ms = 2};
  sc[1].steps[0] = (struct step){.wait_ms = 2, .with_101 = 1};
  sc[1].steps[1].wait_ms = 3;
  put_hex(&sc[1].steps[1].b, "8903616263 8a00"); /* Ping "abc", Pong "" */
  sc[1].steps[2].wait_ms = 3;
  put_hex(&sc[1].steps[2].b, "880203e8");
  /* 6.4.1: fail-fast after part 2. */
  sc[2] = (struct script){.id = "6.4.1", .n = 2, .tail_ms = 10};
  sc[2].steps[0].with_101 = 1;
  sc[2].steps[1].wait_ms = 1500;
  put_hex(&sc[2].steps[1].b, "880203ef");
  /* 1.1.2: the echo in two fragments with a Ping between them. */
  sc[3] = (struct script){.id = "1.1.2", .n = 2, .tail_ms = 1};
  sc[3].steps[0].with_101 = 1;
  put_frame(&sc[3].steps[0].b, WS_OP_TEXT, 0, stars, 60);
  put_frame(&sc[3].steps[0].b, WS_OP_PING, 1, "p", 1);
  put_frame(&sc[3].steps[0].b, WS_OP_CONTINUATION, 1, stars, 65);
  sc[3].steps[1].wait_ms = 5;
  put_hex(&sc[3].steps[1].b, "880203e8");
  /* 1.1.3: invalid UTF-8 in the middle of a 126-octet echo. */
  sc[4] = (struct script){.id = "1.1.3", .n = 1, .tail_ms = 1000};
  sc[4].steps[0].with_101 = 1;
  put_hex(&sc[4].steps[0].b, "817e007e");
  put(&sc[4].steps[0].b, stars, 100);
  put_hex(&sc[4].steps[0].b, "c0af2a2a");

  check_script(&sc[0], "1/1 ");
  check_script(&sc[1], "1/1 ");
  check_script(&sc[2], "1/1 ");
  check_script(&sc[3], "1/1 ");
  check_script(&sc[4], "5/7 "); /* FAILED / UNCLEAN */
  for (size_t i = 0; i < 5; i++)
    for (size_t j = 0; j < 3; j++)
      free(sc[i].steps[j].b.p);
}

/* -------------------------------------------- 12: failing allocator */

/* A full 1.1.1 run that tolerates every failure. Returns 1 when the
 * failure surfaced (WS_ENOMEM from an API call), else 0. */
static int robust_111(long fail_at, long *calls) {
  const struct knobs k = {.wirelog = 1};
  struct srv s;
  int e = srv_begin(&s, "1.1.1", fail_at, &k);
  int surfaced = e == WS_ENOMEM;
  if (s.f != NULL && e == 0 && s.head_len > 0) {
    send_101(&s);
    if (!ws_fuzzer_want_drop(s.f))
      send_frame(&s, WS_OP_TEXT, 1, "", 0);
    if (!ws_fuzzer_want_drop(s.f))
      send_close(&s, 1000);
    advance(&s, 3);
    ws_fuzzer_transport_lost(s.f, s.now, ws_fuzzer_want_drop(s.f), 0);
    take_result(&s);
    surfaced |= s.enomem;
    if (fail_at < 0) {
      assert_verdicts(&s.r, "OK", "OK");
      assert_true(s.r.n_wire > 0);
    }
  }
  if (calls != NULL)
    *calls = s.fm.calls;
  srv_end(&s); /* asserts live == 0 */
  return surfaced;
}

static void test_failing_allocator(void **state) {
  long calls = 0, silent = 0;
  (void)state;
  assert_int_equal(robust_111(-1, &calls), 0);
  assert_true(calls > 5);
  for (long i = 0; i < calls; i++) {
    if (!robust_111(i, NULL)) {
      print_message("allocation %ld of %ld failed silently\n", i, calls);
      silent++;
    }
  }
  assert_int_equal(silent, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_perfect_echo),
      cmocka_unit_test(test_server_keeps_tcp),
      cmocka_unit_test(test_must_fail_25),
      cmocka_unit_test(test_fail_fast_641),
      cmocka_unit_test(test_close_cases),
      cmocka_unit_test(test_handshake),
      cmocka_unit_test(test_violations),
      cmocka_unit_test(test_endless_frame),
      cmocka_unit_test(test_pings),
      cmocka_unit_test(test_write_units),
      cmocka_unit_test(test_chop_timer_after_writes),
      cmocka_unit_test(test_echo_graded),
      cmocka_unit_test(test_autofragment),
      cmocka_unit_test(test_split_invariance),
      cmocka_unit_test(test_failing_allocator),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
