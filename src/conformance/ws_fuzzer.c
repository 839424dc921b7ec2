/*
 * ws_fuzzer.c: one conformance case, executed sans-I/O (the verdicts are
 * in ws_fuzzer_grade.c).
 *
 * The grading follows Autobahn|Testsuite 25.10.1 on Autobahn|Python 0.10.9
 * (docs/conformance.md, section a); the comments name the
 * Autobahn behaviour each rule reproduces, so a verdict can be traced.
 */
#include "conformance/ws_fuzzer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/ws_http.h"
#include "ws/ws_close.h"
#include "ws/ws_frame.h"
#include "ws/ws_mask.h"
#include "ws/ws_utf8.h"

#include "conformance/ws_fuzzer_int.h"

/* --------------------------------------------------------- utilities */

static void *xmalloc(ws_fuzzer *f, size_t n) {
  return f->mem->malloc(n, f->mem->user);
}

static void xfree(const struct ws_mem *mem, void *p) {
  if (p != NULL)
    mem->free(p, mem->user);
}

static void *xrealloc(ws_fuzzer *f, void *p, size_t n) {
  return f->mem->realloc(p, n, f->mem->user);
}

void ws__fuzzer_textf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, size, fmt, ap);
  va_end(ap);
}

static char *dupn(ws_fuzzer *f, const char *s, size_t n) {
  char *p = xmalloc(f, n + 1);
  if (p == NULL) {
    f->oom = 1;
    return NULL;
  }
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

static uint64_t since(const ws_fuzzer *f, uint64_t now) {
  return now >= f->t0 ? now - f->t0 : 0;
}

/* Adds one read or write of |n| octets to a size histogram. */
static void stat_add(ws_fuzzer *f, struct ws_octet_stat **v, size_t *n,
                     uint64_t size) {
  size_t i;
  struct ws_octet_stat *p;
  for (i = 0; i < *n; i++) {
    if ((*v)[i].size == size) {
      (*v)[i].count++;
      return;
    }
    if ((*v)[i].size > size)
      break;
  }
  p = xrealloc(f, *v, (*n + 1) * sizeof(**v));
  if (p == NULL) {
    f->oom = 1;
    return;
  }
  memmove(p + i + 1, p + i, (*n - i) * sizeof(*p));
  p[i].size = size;
  p[i].count = 1;
  *v = p;
  (*n)++;
}

/* A new wire-log row, or NULL when the log is off or full. */
static struct ws_wire_row *wire(ws_fuzzer *f, enum ws_wire_kind kind,
                                uint64_t now) {
  struct ws_wire_row *row;
  if (!f->cfg.wirelog)
    return NULL;
  if (!f->wirelog_on && kind != WS_WIRE_WLM)
    return NULL;
  if (f->r.n_wire >= WS_RESULT_MAX_WIRE) {
    f->r.wire_truncated = 1;
    return NULL;
  }
  if ((f->r.n_wire & (f->r.n_wire - 1)) == 0) { /* 0, 1, 2, 4, 8...: grow */
    size_t cap = f->r.n_wire ? f->r.n_wire * 2 : 16;
    struct ws_wire_row *p = xrealloc(f, f->r.wire, cap * sizeof(*p));
    if (p == NULL) {
      f->oom = 1;
      return NULL;
    }
    f->r.wire = p;
  }
  row = &f->r.wire[f->r.n_wire++];
  memset(row, 0, sizeof(*row));
  row->kind = (uint8_t)kind;
  row->at_ms = since(f, now);
  return row;
}

static void wire_preview(struct ws_wire_row *row, const uint8_t *p,
                         size_t n) {
  size_t room = WS_RESULT_PREVIEW - row->n_preview;
  if (n > room)
    n = room;
  memcpy(row->preview + row->n_preview, p, n);
  row->n_preview = (uint8_t)(row->n_preview + n);
}

static void wire_timer(ws_fuzzer *f, enum ws_wire_kind kind, uint32_t ms,
                       char tag, uint64_t now) {
  struct ws_wire_row *row = wire(f, kind, now);
  if (row != NULL) {
    row->ms = ms;
    row->tag = tag;
  }
}

/* ------------------------------------------------------------ output */

static int out_room(ws_fuzzer *f, size_t n) {
  size_t need, cap;
  uint8_t *p;
  if (f->out_off == f->out_len) {
    f->out_off = f->out_len = 0;
    f->cut_head = f->n_cuts = 0;
  }
  need = f->out_len + n;
  if (need < n) {
    f->oom = 1;
    return WS_ENOMEM;
  }
  if (need <= f->out_cap)
    return 0;
  cap = f->out_cap ? f->out_cap : 4096;
  while (cap < need)
    cap *= 2;
  p = xrealloc(f, f->out, cap);
  if (p == NULL) {
    f->oom = 1;
    return WS_ENOMEM;
  }
  f->out = p;
  f->out_cap = cap;
  return 0;
}

/* Ends the current write unit at the end of the output. */
static int cut(ws_fuzzer *f, uint8_t flags) {
  if (f->n_cuts > f->cut_head && f->cuts[f->n_cuts - 1].end == f->out_len) {
    f->cuts[f->n_cuts - 1].flags |= flags;
    return 0;
  }
  if (f->out_len == f->out_off && flags == 0)
    return 0;
  if (f->n_cuts == f->cuts_cap) {
    size_t cap = f->cuts_cap ? f->cuts_cap * 2 : 64;
    struct cut *p = xrealloc(f, f->cuts, cap * sizeof(*p));
    if (p == NULL) {
      f->oom = 1;
      return WS_ENOMEM;
    }
    f->cuts = p;
    f->cuts_cap = cap;
  }
  f->cuts[f->n_cuts].end = f->out_len;
  f->cuts[f->n_cuts].flags = flags;
  f->n_cuts++;
  return 0;
}

/* Copies payload octets [off, off + n) of |p| to |dst|. */
static void payload_copy(const struct ws_payload *p, uint64_t off,
                         uint8_t *dst, size_t n) {
  if (n > 0)
    (void)ws_payload_fill(p, off, dst, n);
}

/*
 * The header of a frame the fuzzer sends: |fr|'s RSV and length form, the
 * given FIN, opcode and length, and its mask (enum ws_case_mask): a client
 * draws a fresh key for every frame (RFC 6455 Section 5.3). Returns 0, or
 * WS_ERANDOM.
 */
static int frame_header(ws_fuzzer *f, const struct ws_case_frame *fr,
                        uint8_t fin, uint8_t opcode, uint64_t n,
                        struct ws_frame_header *h) {
  memset(h, 0, sizeof(*h));
  h->fin = fin;
  h->rsv = (uint8_t)((fr->rsv & 7u) << 4);
  h->opcode = opcode;
  h->length = n;
  h->length_form = fr->length_form;
  if (fr->mask == WS_CASE_MASK_FIXED) {
    h->masked = 1;
    memcpy(h->mask, fr->mask_key, 4);
  } else if (fr->mask == WS_CASE_MASK_AUTO) {
    h->masked = 1;
    if (f->random(h->mask, 4, f->random_user) != 0)
      return WS_ERANDOM;
  }
  return 0;
}

/* The wire-log row (TF or RF) of a frame with header |h|, and its count
 * per opcode. */
static struct ws_wire_row *wire_frame(ws_fuzzer *f, enum ws_wire_kind kind,
                                      const struct ws_frame_header *h,
                                      uint64_t now) {
  struct ws_wire_row *row = wire(f, kind, now);
  uint64_t *count = kind == WS_WIRE_TF ? f->r.tx_frames : f->r.rx_frames;
  count[h->opcode & 15u]++;
  if (row != NULL) {
    row->opcode = h->opcode;
    row->fin = h->fin;
    row->rsv = (uint8_t)(h->rsv >> 4);
    row->masked = h->masked;
    memcpy(row->mask, h->mask, 4);
    row->len = h->length;
  }
  return row;
}

/*
 * Appends one frame: |n| octets of |p| from |off| as its payload. |write|
 * and |chop| set the write units.
 */
static int emit_frame(ws_fuzzer *f, const struct ws_case_frame *fr,
                      const struct ws_payload *p, uint64_t off, uint64_t n,
                      uint8_t fin, uint8_t opcode, uint8_t write,
                      uint32_t chop, uint64_t now) {
  struct ws_frame_header h;
  struct ws_wire_row *row;
  size_t hl, start;
  if (frame_header(f, fr, fin, opcode, n, &h) != 0)
    return WS_ERANDOM;
  if (n > SIZE_MAX - WS_FRAME_HEADER_MAX)
    return WS_ENOMEM;
  if (write != WS_WRITE_BURST && cut(f, 0) != 0)
    return WS_ENOMEM;
  if (out_room(f, WS_FRAME_HEADER_MAX + (size_t)n) != 0)
    return WS_ENOMEM;
  start = f->out_len;
  hl = ws_frame_header_encode(f->out + start, &h);
  payload_copy(p, off, f->out + start + hl, (size_t)n);
  row = wire_frame(f, WS_WIRE_TF, &h, now);
  if (row != NULL) {
    row->sync = write == WS_WRITE_SYNC;
    row->chop = write == WS_WRITE_CHOP ? chop : 0;
    wire_preview(row, f->out + start + hl, (size_t)n);
  }
  if (h.masked)
    ws_mask_apply(f->out + start + hl, (size_t)n, h.mask, 0);
  f->out_len = start + hl + (size_t)n;
  if (write == WS_WRITE_SYNC)
    return cut(f, WS_FUZZER_OUT_SYNC);
  if (write == WS_WRITE_CHOP) {
    size_t step = chop ? chop : 1, pos = start;
    /* Each chop is a write of its own, one per loop turn (Autobahn's
     * chopsize: a reactor turn per piece). */
    f->out_len = start;
    while (pos < start + hl + (size_t)n) {
      size_t end = pos + step < start + hl + (size_t)n
                       ? pos + step
                       : start + hl + (size_t)n;
      f->out_len = end;
      if (cut(f, WS_FUZZER_OUT_SYNC | WS_FUZZER_OUT_YIELD) != 0)
        return WS_ENOMEM;
      pos = end;
    }
  }
  return 0;
}

/* A control frame built by the fuzzer itself (Pong, Close). */
static int emit_control(ws_fuzzer *f, uint8_t opcode, const uint8_t *data,
                        size_t n, uint64_t now) {
  struct ws_case_frame fr;
  struct ws_payload p;
  memset(&fr, 0, sizeof(fr));
  fr.mask = WS_CASE_MASK_AUTO;
  memset(&p, 0, sizeof(p));
  p.kind = WS_PAYLOAD_BYTES;
  p.len = (uint32_t)n;
  p.data = data;
  return emit_frame(f, &fr, &p, 0, n, 1, opcode, WS_WRITE_BURST, 0, now);
}

size_t ws_fuzzer_output(ws_fuzzer *f, const uint8_t **data,
                        unsigned *flags) {
  size_t end = f->out_len;
  unsigned fl = 0;
  if (flags != NULL)
    *flags = 0;
  *data = NULL;
  if (f->out_off == f->out_len || f->state == ST_DONE || f->want_drop)
    return 0;
  while (f->cut_head < f->n_cuts &&
         f->cuts[f->cut_head].end <= f->out_off)
    f->cut_head++;
  if (f->cut_head < f->n_cuts) {
    end = f->cuts[f->cut_head].end;
    fl = f->cuts[f->cut_head].flags;
  }
  *data = f->out + f->out_off;
  if (flags != NULL)
    *flags = fl;
  return end - f->out_off;
}

/*
 * Chopped writes go out one per loop turn (Autobahn's chopsize: one per
 * reactor turn). Autobahn arms a killAfter / closeAfter that follows them
 * at once, and on its quiet one-case-at-a-time reactor the pieces are all
 * written within a few ms of it. Here the turns are shared by --jobs
 * cases and a busy machine can stretch 50 of them over most of a second:
 * the Close would then go out before the server had the last octet long
 * enough to answer (5.8 under load). So a timer armed behind queued
 * chopped writes counts from the last of them (docs/conformance.md).
 */
static int chopping(const ws_fuzzer *f) {
  for (size_t i = f->cut_head; i < f->n_cuts; i++)
    if (f->cuts[i].end > f->out_off &&
        (f->cuts[i].flags & WS_FUZZER_OUT_YIELD))
      return 1;
  return 0;
}

/* Arms a case timer |ms| from now, or from the last queued chop. */
static void arm_case_timer(ws_fuzzer *f, uint64_t *at, uint64_t *on_drain,
                           uint32_t ms, uint64_t now) {
  if (chopping(f))
    *on_drain = (uint64_t)ms + 1;
  else
    *at = now + ms;
}

static void start_on_drain(uint64_t *at, uint64_t *on_drain, uint64_t now) {
  if (*on_drain) {
    *at = now + *on_drain - 1;
    *on_drain = 0;
  }
}

static void start_after_drain(ws_fuzzer *f, uint64_t now) {
  start_on_drain(&f->kill_at, &f->kill_on_drain, now);
  start_on_drain(&f->close_after_at, &f->close_after_on_drain, now);
}

void ws_fuzzer_written(ws_fuzzer *f, size_t n, uint64_t now) {
  struct ws_wire_row *row;
  if (n == 0 || n > f->out_len - f->out_off)
    return;
  stat_add(f, &f->r.tx_octets, &f->r.n_tx_octets, n);
  row = wire(f, WS_WIRE_TO, now);
  if (row != NULL) {
    row->len = n;
    row->sync = f->cut_head < f->n_cuts &&
                f->cuts[f->cut_head].end == f->out_off + n &&
                (f->cuts[f->cut_head].flags & WS_FUZZER_OUT_SYNC);
    wire_preview(row, f->out + f->out_off, n);
  }
  f->out_off += n;
  if (f->out_off == f->out_len) {
    f->out_off = f->out_len = 0;
    f->cut_head = f->n_cuts = 0;
    start_after_drain(f, now);
    if (f->out_cap > OUT_TRIM) {
      xfree(f->mem, f->out);
      f->out = NULL;
      f->out_cap = 0;
    }
  }
}

/* ------------------------------------------------------------- close */

static void want_drop(ws_fuzzer *f) { f->want_drop = 1; }

/*
 * Autobahn's sendCloseFrame: only while open; the first Close makes the
 * fuzzer the closing endpoint unless it is a reply, and arms the close
 * handshake timeout. |payload| is sent as is (7.3.6 sends 126 octets, 7.9.x
 * invalid codes); its code, when it has one, is the local close code.
 */
static void send_close_raw(ws_fuzzer *f, const uint8_t *payload, size_t n,
                           int is_reply, uint64_t now) {
  if (f->state != ST_OPEN)
    return;
  if (emit_control(f, WS_OP_CLOSE, payload, n, now) != 0)
    return;
  f->state = ST_CLOSING;
  f->close_sent = 1;
  if (n >= 2) {
    size_t rl = n - 2 < sizeof(f->r.local_reason) ? n - 2
                                                  : sizeof(f->r.local_reason);
    f->r.local_close_code = (int32_t)((payload[0] << 8) | payload[1]);
    f->r.local_reason_len = rl ? (int16_t)rl : -1;
    if (rl)
      memcpy(f->r.local_reason, payload + 2, rl);
  }
  if (!is_reply) {
    f->r.closed_by_me = 1;
    f->close_hs_at = now + f->cfg.close_timeout_ms;
  }
}

/* A Close with |code| (< 0: empty payload) and a short reason. */
static void send_close(ws_fuzzer *f, int code, const uint8_t *reason,
                       size_t reason_len, int is_reply, uint64_t now) {
  uint8_t buf[WS_CONTROL_MAX] = {0};
  size_t n = 0;
  if (code >= 0) {
    buf[0] = (uint8_t)(code >> 8);
    buf[1] = (uint8_t)code;
    n = 2;
    if (reason_len > sizeof(buf) - 2)
      reason_len = sizeof(buf) - 2;
    if (reason_len)
      memcpy(buf + 2, reason, reason_len);
    n += reason_len;
  }
  send_close_raw(f, buf, n, is_reply, now);
}

/*
 * Autobahn's failConnection with failByDrop = false: while open, a Close
 * with |code|; while closing, drop TCP.
 */
static void fail_connection(ws_fuzzer *f, uint16_t code, const char *reason,
                            uint64_t now) {
  if (f->state == ST_DONE)
    return;
  f->r.failed_by_me = 1;
  if (f->state == ST_OPEN) {
    send_close(f, code, (const uint8_t *)reason, strlen(reason), 0, now);
  } else {
    want_drop(f);
  }
}

/* The server broke RFC 6455: fail with the violation's close code (1002,
 * or 1007 for invalid UTF-8) and read nothing more. */
static void violation(ws_fuzzer *f, enum ws_violation_id id, uint64_t now) {
  struct ws_violation v;
  ws_violation_set(&v, id, 0);
  f->read_stopped = 1;
  fail_connection(f, v.close_code, v.reason ? v.reason : "protocol error",
                  now);
}

/* ----------------------------------------------------------- actions */

static void run_actions(ws_fuzzer *f, uint64_t now);

/* One message through Autobahn's fragmenter (WS_ACT_MESSAGE, and each
 * round trip of WS_ACT_ECHO). */
static int do_message(ws_fuzzer *f, const struct ws_case_action *a,
                      uint64_t now) {
  uint64_t len = ws_payload_length(&a->frame.payload);
  uint64_t count = ws_fragment_count(len, a->fragment);
  for (uint64_t i = 0; i < count; i++) {
    struct ws_fragment fg;
    int e;
    ws_fragment_get(len, a->fragment, i, &fg);
    e = emit_frame(f, &a->frame, &a->frame.payload, fg.offset, fg.length,
                   fg.fin, fg.first ? a->frame.opcode : WS_OP_CONTINUATION,
                   a->write, a->chop, now);
    if (e != 0)
      return e;
  }
  return 0;
}

/* WS_ACT_FRAME_HEAD: the header alone, announcing the whole payload. */
static int do_frame_head(ws_fuzzer *f, const struct ws_case_action *a,
                         uint64_t now) {
  const struct ws_case_frame *fr = &a->frame;
  struct ws_frame_header h;
  if (frame_header(f, fr, fr->fin, fr->opcode,
                   ws_payload_length(&fr->payload), &h) != 0)
    return WS_ERANDOM;
  if (out_room(f, WS_FRAME_HEADER_MAX) != 0)
    return WS_ENOMEM;
  f->out_len += ws_frame_header_encode(f->out + f->out_len, &h);
  memcpy(f->head_mask, h.mask, 4);
  f->head_masked = h.masked;
  f->head_pos = 0;
  wire_frame(f, WS_WIRE_TF, &h, now);
  return cut(f, WS_FUZZER_OUT_SYNC);
}

/* WS_ACT_FRAME_DATA: the next payload octets of the open frame, masked
 * with its key at its offset, in a write of their own. */
static int do_frame_data(ws_fuzzer *f, const struct ws_case_action *a) {
  uint64_t n = ws_payload_length(&a->frame.payload);
  if (n > SIZE_MAX || out_room(f, (size_t)n) != 0)
    return WS_ENOMEM;
  payload_copy(&a->frame.payload, 0, f->out + f->out_len, (size_t)n);
  if (f->head_masked)
    ws_mask_apply(f->out + f->out_len, (size_t)n, f->head_mask,
                  (size_t)(f->head_pos & 3u));
  f->head_pos += n;
  f->out_len += (size_t)n;
  return cut(f, WS_FUZZER_OUT_SYNC);
}

static int do_close(ws_fuzzer *f, const struct ws_case_action *a,
                    uint64_t now) {
  uint64_t rl = ws_payload_length(&a->frame.payload);
  size_t n = (a->has_code ? 2u : 0u) + (size_t)rl;
  uint8_t *buf;
  if (rl > 65535u)
    return WS_ENOMEM;
  buf = xmalloc(f, n ? n : 1);
  if (buf == NULL)
    return WS_ENOMEM;
  if (a->has_code) {
    buf[0] = (uint8_t)(a->close_code >> 8);
    buf[1] = (uint8_t)a->close_code;
  }
  payload_copy(&a->frame.payload, 0, buf + (a->has_code ? 2 : 0),
               (size_t)rl);
  send_close_raw(f, buf, n, 0, now);
  xfree(f->mem, buf);
  return 0;
}

/* Runs actions until one waits (a pause, the echo loop) or none is left.
 * Autobahn's onOpen sends everything before the first continueLater at
 * once, so these frames share the output (and TCP segments). */
static void run_actions(ws_fuzzer *f, uint64_t now) {
  while (f->next_action < f->kase->n_actions && f->pause_at == NO_TIMER &&
         !f->oom && f->echo == NULL) {
    const struct ws_case_action *a = &f->kase->actions[f->next_action++];
    int e = 0;
    switch (a->kind) {
    case WS_ACT_FRAME:
      e = emit_frame(f, &a->frame, &a->frame.payload, 0,
                     ws_payload_length(&a->frame.payload), a->frame.fin,
                     a->frame.opcode, a->write, a->chop, now);
      break;
    case WS_ACT_FRAME_HEAD:
      e = do_frame_head(f, a, now);
      break;
    case WS_ACT_FRAME_DATA:
      e = do_frame_data(f, a);
      break;
    case WS_ACT_MESSAGE:
      e = do_message(f, a, now);
      break;
    case WS_ACT_CLOSE:
      e = do_close(f, a, now);
      break;
    case WS_ACT_PAUSE:
      f->pause_at = now + a->ms;
      f->pause_tag = a->tag;
      f->pause_ms = a->ms;
      wire_timer(f, WS_WIRE_CT, a->ms, a->tag, now);
      break;
    case WS_ACT_KILL_AFTER:
      arm_case_timer(f, &f->kill_at, &f->kill_on_drain, a->ms, now);
      wire_timer(f, WS_WIRE_KL, a->ms, 0, now);
      break;
    case WS_ACT_CLOSE_AFTER:
      arm_case_timer(f, &f->close_after_at, &f->close_after_on_drain, a->ms,
                     now);
      wire_timer(f, WS_WIRE_TI, a->ms, 0, now);
      break;
    case WS_ACT_ECHO:
      f->echo = a;
      if (f->kase->flags & WS_CASE_F_QUIET_WIRELOG) {
        wire(f, WS_WIRE_WLM, now);
        f->wirelog_on = 0;
      }
      e = do_message(f, a, now);
      break;
    default:
      break;
    }
    if (e == WS_ERANDOM || e == WS_ENOMEM) {
      f->oom = 1;
      ws__fuzzer_textf(f->r.error, sizeof(f->r.error), "local error %d while sending",
            e);
      want_drop(f);
    }
  }
}

/* ------------------------------------------------------------ events */

/* Compares payload octets [off, off + n) of |p| with |data|. */
static int window_equal(const struct ws_payload *p, uint64_t off,
                        const uint8_t *data, size_t n) {
  uint8_t tmp[1024];
  if (off + n > ws_payload_length(p))
    return 0;
  while (n > 0) {
    size_t k = n < sizeof(tmp) ? n : sizeof(tmp);
    if (ws_payload_fill(p, off, tmp, k) != 0 || memcmp(tmp, data, k) != 0)
      return 0;
    off += k;
    data += k;
    n -= k;
  }
  return 1;
}

static const struct ws_case_event *expected_event(const ws_fuzzer *f,
                                                  unsigned o, uint64_t i) {
  const struct ws_case_outcome *oc = &f->kase->outcomes[o];
  return i < oc->n_events ? &oc->events[i] : NULL;
}

/* Stores a copy of |ev| in the result (bounded) and counts it. */
static void record(ws_fuzzer *f, const struct ws_result_event *ev) {
  if (f->r.n_events < WS_RESULT_MAX_EVENTS) {
    if ((f->r.n_events & (f->r.n_events - 1)) == 0) {
      size_t cap = f->r.n_events ? f->r.n_events * 2 : 4;
      struct ws_result_event *p =
          xrealloc(f, f->r.events, cap * sizeof(*p));
      if (p == NULL) {
        f->oom = 1;
        return;
      }
      f->r.events = p;
    }
    f->r.events[f->r.n_events++] = *ev;
  }
  f->r.events_total++;
}

/*
 * Autobahn's finishWhenDone: once the events equal every expected list
 * (vacuously true without outcomes), a case whose close rule wants the
 * fuzzer to close sends Close(codes[0]) at once.
 */
static void finish_when_done(ws_fuzzer *f, uint64_t now) {
  const struct ws_case *c = f->kase;
  if (c->grading != WS_GRADE_EVENTS || (c->flags & WS_CASE_F_SUPPRESS_CLOSE)
      || !c->close.closed_by_me)
    return;
  for (unsigned o = 0; o < c->n_outcomes; o++)
    if (!f->match[o].ok || f->r.events_total != c->outcomes[o].n_events)
      return;
  send_close(f, c->close.codes[0], NULL, 0, 0, now);
}

/* A pong or timeout event: compared whole with each outcome. */
static void record_simple(ws_fuzzer *f, struct ws_result_event *ev,
                          const uint8_t *data, size_t len) {
  for (unsigned o = 0; o < f->kase->n_outcomes; o++) {
    const struct ws_case_event *x = expected_event(f, o, f->r.events_total);
    if (!f->match[o].ok)
      continue;
    if (x == NULL || x->kind != ev->kind ||
        (ev->kind == WS_EVENT_TIMEOUT && x->tag != ev->tag) ||
        (ev->kind == WS_EVENT_PONG &&
         !ws_payload_equal(&x->payload, data, len)))
      f->match[o].ok = 0;
  }
  record(f, ev);
}

static void message_begin(ws_fuzzer *f, uint8_t opcode) {
  f->in_msg = 1;
  f->msg_op = opcode;
  f->msg_len = 0;
  memset(&f->cur, 0, sizeof(f->cur));
  f->cur.kind = WS_EVENT_MESSAGE;
  f->cur.binary = opcode == WS_OP_BINARY;
  if (opcode == WS_OP_TEXT)
    ws_utf8_init(&f->utf8, WS_UTF8_AUTO);
  for (unsigned o = 0; o < f->kase->n_outcomes; o++) {
    const struct ws_case_event *x = expected_event(f, o, f->r.events_total);
    f->match[o].msg_ok = f->match[o].ok && x != NULL &&
                         x->kind == WS_EVENT_MESSAGE &&
                         x->binary == f->cur.binary;
  }
}

/* Payload octets of the current message. Returns 0, or -1 after a
 * violation (invalid UTF-8, fail-fast: RFC 6455 Section 8.1). */
static int message_data(ws_fuzzer *f, const uint8_t *p, size_t n,
                        uint64_t now) {
  if (f->msg_op == WS_OP_TEXT) {
    uint64_t bad;
    if (ws_utf8_feed(&f->utf8, p, n, &bad) != WS_UTF8_VALID) {
      violation(f, WS_V_INVALID_UTF8, now);
      return -1;
    }
  }
  for (unsigned o = 0; o < f->kase->n_outcomes; o++) {
    if (f->match[o].msg_ok) {
      const struct ws_case_event *x =
          expected_event(f, o, f->r.events_total);
      if (!window_equal(&x->payload, f->msg_len, p, n))
        f->match[o].msg_ok = 0;
    }
  }
  if (f->cur.n_preview < WS_RESULT_PREVIEW) {
    size_t k = WS_RESULT_PREVIEW - f->cur.n_preview;
    if (k > n)
      k = n;
    memcpy(f->cur.preview + f->cur.n_preview, p, k);
    f->cur.n_preview = (uint8_t)(f->cur.n_preview + k);
  }
  f->msg_len += n;
  return 0;
}

/* 9.x: Autobahn's Case9_x onMessage checks type and length only. */
static void echo_received(ws_fuzzer *f, uint64_t now) {
  const struct ws_case_echo *e = &f->kase->echo;
  int binary = e->opcode == WS_OP_BINARY;
  if (f->cur.binary != binary || f->msg_len != e->length) {
    /* Autobahn's texts: Case9_7 / Case9_8 (count > 1), else Case9_1 ..
     * Case9_6, whose 9.4 (fragmented binary) says "but got binary" for a
     * text echo. */
    f->r.behavior = WS_VERDICT_FAILED;
    if (e->count > 1)
      ws__fuzzer_textf(f->r.result, sizeof(f->r.result),
            "Echo'ed message type or length differs from what I sent (got "
            "binary = %s, payload length = %llu).",
            f->cur.binary ? "True" : "False", (unsigned long long)f->msg_len);
    else if (f->cur.binary != binary)
      ws__fuzzer_textf(f->r.result, sizeof(f->r.result),
            "Expected %s message with payload, but got %s.",
            binary ? "binary" : "text",
            binary && !f->echo->fragment ? "text" : "binary");
    else
      ws__fuzzer_textf(f->r.result, sizeof(f->r.result),
            "Expected %s message with payload of length %llu, but got %llu.",
            binary ? "binary" : "text", (unsigned long long)e->length,
            (unsigned long long)f->msg_len);
  } else if (++f->echoes < e->count) {
    if (do_message(f, f->echo, now) != 0) {
      f->oom = 1;
      want_drop(f);
    }
    return;
  } else {
    f->r.behavior = WS_VERDICT_OK;
    if (e->count > 1)
      ws__fuzzer_textf(f->r.result, sizeof(f->r.result),
            "Ok, received all echo'ed messages in time.");
    else
      ws__fuzzer_textf(f->r.result, sizeof(f->r.result),
            "Received %s message of length %llu.",
            binary ? "binary" : "text", (unsigned long long)f->msg_len);
  }
  if (!f->wirelog_on) {
    f->wirelog_on = 1;
    wire(f, WS_WIRE_WLM, now);
  }
  f->echo = NULL;
  send_close(f, WS_CLOSE_NORMAL, NULL, 0, 0, now);
}

static void message_end(ws_fuzzer *f, uint64_t now) {
  uint64_t bad;
  if (f->msg_op == WS_OP_TEXT &&
      ws_utf8_finish(&f->utf8, &bad) != WS_UTF8_VALID) {
    violation(f, WS_V_INVALID_UTF8, now);
    return;
  }
  f->in_msg = 0;
  f->cur.len = f->msg_len;
  if (f->echo != NULL) {
    echo_received(f, now);
    return;
  }
  if (f->kase->grading == WS_GRADE_ECHO)
    return; /* after the loop: Autobahn no longer records */
  for (unsigned o = 0; o < f->kase->n_outcomes; o++) {
    const struct ws_case_event *x = expected_event(f, o, f->r.events_total);
    if (f->match[o].ok &&
        !(f->match[o].msg_ok && ws_payload_length(&x->payload) == f->msg_len))
      f->match[o].ok = 0;
  }
  record(f, &f->cur);
  finish_when_done(f, now);
}

/* The server's valid Close (Autobahn's onCloseFrame). */
static void close_received(ws_fuzzer *f, const struct ws_close_info *ci,
                           size_t len, uint64_t now) {
  f->close_received = 1;
  f->read_stopped = 1; /* nothing is read after a Close (Section 5.5.1) */
  if (len >= 2) {
    f->r.remote_close_code = ci->code;
    f->r.remote_reason_len = ci->reason_len ? (int16_t)ci->reason_len : -1;
    if (ci->reason_len)
      memcpy(f->r.remote_reason, ci->reason, ci->reason_len);
  }
  if (f->state == ST_OPEN) {
    /* The server started the closing handshake: reply with 1000 (the
     * fuzzer does not echo the code) and wait for the server to close TCP
     * (RFC 6455 Section 7.1.1); Autobahn waits for a kill timer, wsspec
     * for the drop timeout: the verdict is the same, sooner. */
    f->r.was_clean = 1;
    send_close(f, WS_CLOSE_NORMAL, NULL, 0, 1, now);
    f->drop_at = now + f->cfg.drop_timeout_ms;
  } else if (f->state == ST_CLOSING && f->close_sent) {
    /* The reply to our Close: the handshake is complete; the server
     * must now close TCP within the drop timeout. */
    f->r.was_clean = 1;
    f->close_hs_at = NO_TIMER;
    f->drop_at = now + f->cfg.drop_timeout_ms;
  }
}

static void control_frame(ws_fuzzer *f, uint8_t opcode, uint64_t now) {
  struct ws_result_event ev;
  struct ws_close_info ci;
  enum ws_violation_id v;
  switch (opcode) {
  case WS_OP_PING:
    /* Answered while open, never recorded (Autobahn's sendPong). */
    if (f->state == ST_OPEN && emit_control(f, WS_OP_PONG, f->ctl,
                                            f->ctl_len, now) != 0)
      f->oom = 1;
    break;
  case WS_OP_PONG:
    memset(&ev, 0, sizeof(ev));
    ev.kind = WS_EVENT_PONG;
    ev.len = f->ctl_len;
    ev.n_preview = (uint8_t)(f->ctl_len < WS_RESULT_PREVIEW
                                 ? f->ctl_len
                                 : WS_RESULT_PREVIEW);
    memcpy(ev.preview, f->ctl, ev.n_preview);
    if (f->kase->grading == WS_GRADE_EVENTS) {
      record_simple(f, &ev, f->ctl, f->ctl_len);
      finish_when_done(f, now);
    }
    break;
  case WS_OP_CLOSE:
    /* RFC 6455 Section 5.5.1 and 7.4: a 1-octet payload, a code not
     * allowed on the wire or a reason that is not UTF-8 fail the
     * connection. */
    v = ws_close_parse(f->ctl, f->ctl_len, &ci, NULL);
    if (v != WS_V_NONE) {
      violation(f, v, now);
      return;
    }
    close_received(f, &ci, f->ctl_len, now);
    break;
  default:
    break;
  }
}

/* One decoded chunk of a frame from the server. */
static int frame_chunk(ws_fuzzer *f, const struct ws_frame_chunk *ch,
                       uint64_t now) {
  const struct ws_frame_header *h = ch->header;
  if (ch->first) {
    /* The RF row by index: later rows may move the array. */
    f->rf_index = wire_frame(f, WS_WIRE_RF, h, now) != NULL
                      ? f->r.n_wire - 1
                      : SIZE_MAX;
    f->ctl_len = 0;
    /* RFC 6455 Section 5.4: fragments of one message in order, control
     * frames may come between them. */
    if (h->opcode == WS_OP_TEXT || h->opcode == WS_OP_BINARY) {
      if (f->in_msg) {
        violation(f, WS_V_DATA_DURING_FRAGMENTED, now);
        return -1;
      }
      message_begin(f, h->opcode);
    } else if (h->opcode == WS_OP_CONTINUATION && !f->in_msg) {
      violation(f, WS_V_CONTINUATION_WITHOUT_START, now);
      return -1;
    }
  }
  if (f->rf_index < f->r.n_wire)
    wire_preview(&f->r.wire[f->rf_index], ch->data, ch->len);
  if (WS_OP_IS_CONTROL(h->opcode)) {
    memcpy(f->ctl + f->ctl_len, ch->data, ch->len);
    f->ctl_len += ch->len;
    if (ch->last)
      control_frame(f, h->opcode, now);
    return 0;
  }
  if (ch->len && message_data(f, ch->data, ch->len, now) != 0)
    return -1;
  if (ch->last && h->fin)
    message_end(f, now);
  return 0;
}

static void frames(ws_fuzzer *f, uint8_t *p, size_t n, uint64_t now) {
  while (n > 0 && !f->read_stopped && f->state != ST_DONE) {
    struct ws_frame_chunk ch;
    size_t used = 0;
    int e = ws_decoder_decode(&f->dec, p, n, &used, &ch);
    p += used;
    n -= used;
    if (e == WS_EPROTO) {
      violation(f, f->dec.violation.id, now);
      return;
    }
    if (e != 1)
      return;
    if (frame_chunk(f, &ch, now) != 0)
      return;
  }
}

/* -------------------------------------------------- opening handshake */

static void handshake_failed(ws_fuzzer *f, const char *why) {
  ws__fuzzer_textf(f->r.error, sizeof(f->r.error), "%s", why);
  f->read_stopped = 1;
  want_drop(f);
}

static void opened(ws_fuzzer *f, const struct ws_handshake_response *r,
                   uint64_t now) {
  struct ws_decoder_config dc;
  long i = ws_http_find(&f->parser, "Server", 6, 0);
  f->r.http_response = dupn(f, (const char *)f->head, r->head_len);
  if (i >= 0)
    f->r.server_header = dupn(f, f->hdrs[i].value.ptr, f->hdrs[i].value.len);
  if (r->has_protocol)
    f->r.protocol = dupn(f, r->protocol.ptr, r->protocol.len);
  /* The fuzzer's own checks of the server's frames: unmasked, minimal
   * lengths, no RSV bits without an extension (RFC 6455 Section 5.2). */
  ws_decoder_config_default(&dc, WS_ROLE_CLIENT);
  dc.max_frame_size = 0;
  ws_decoder_init(&f->dec, &dc);
  f->state = ST_OPEN;
  f->r.opened = 1;
  f->opened_at = now;
  f->open_at = NO_TIMER;
  f->deadline_at = now + ws_case_max_duration_ms(f->kase) +
                   WS_FUZZER_DEADLINE_MARGIN_MS;
  if (f->cfg.max_case_ms && now + f->cfg.max_case_ms < f->deadline_at)
    f->deadline_at = now + f->cfg.max_case_ms;
  if (f->kase->grading == WS_GRADE_ECHO) {
    f->r.behavior = WS_VERDICT_FAILED;
    ws__fuzzer_textf(f->r.result, sizeof(f->r.result),
          f->kase->echo.count > 1 ? "Case did not finish within %u seconds."
                                  : "Did not receive message within %u "
                                    "seconds.",
          f->kase->echo.limit_ms / 1000u);
  }
  run_actions(f, now);
}

/* Does the answer carry |name| with a value containing |want|? */
static int has_field(const ws_fuzzer *f, const char *name, const char *want) {
  long i = -1;
  while ((i = ws_http_find(&f->parser, name, strlen(name),
                           (size_t)(i + 1))) >= 0) {
    const struct ws_http_span *v = &f->hdrs[i].value;
    size_t wl = strlen(want);
    for (size_t k = 0; k + wl <= v->len; k++)
      if (memcmp(v->ptr + k, want, wl) == 0)
        return 1;
  }
  return 0;
}

/* Extended handshake case: the server answered an invalid request. The
 * server should now close TCP (or keep it for HTTP keep-alive): give it
 * the drop timeout either way. */
static void refusal_answered(ws_fuzzer *f, uint64_t now) {
  const struct ws_case_handshake *hs = f->kase->handshake;
  f->hs_status = f->parser.status;
  f->hs_header_ok = hs->header == NULL ||
                    has_field(f, hs->header, hs->header_value
                                                 ? hs->header_value
                                                 : "");
  f->r.http_response = dupn(f, (const char *)f->head, f->parser.head_len);
  f->read_stopped = 1;
  f->open_at = NO_TIMER;
  if (f->hs_status == 101)
    want_drop(f);
  else
    f->drop_at = now + f->cfg.drop_timeout_ms;
}

static void handshake_bytes(ws_fuzzer *f, uint8_t *p, size_t n,
                            uint64_t now) {
  size_t cap = WS_HTTP_DEFAULT_MAX_HEAD;
  size_t take = n, rest;
  struct ws_handshake_response r;
  struct ws_handshake_failure fail;
  int e;
  if (f->head == NULL) {
    f->head = xmalloc(f, cap);
    if (f->head == NULL) {
      f->oom = 1;
      handshake_failed(f, "out of memory");
      return;
    }
  }
  if (take > cap - f->head_len)
    take = cap - f->head_len;
  memcpy(f->head + f->head_len, p, take);
  f->head_len += take;
  e = ws_http_parse(&f->parser, (const char *)f->head, f->head_len);
  if (e == WS_HTTP_INCOMPLETE)
    return;
  if (f->kase->handshake != NULL) {
    if (e == WS_HTTP_COMPLETE)
      refusal_answered(f, now);
    else
      handshake_failed(f, "the answer is not a valid HTTP response");
    return;
  }
  e = ws_handshake_client_check(&f->hsc, &f->parser, &r, &fail);
  if (e != 0) {
    char why[160];
    if (fail.id == WS_HS_STATUS_NOT_101 && f->parser.result ==
        WS_HTTP_COMPLETE) {
      ws__fuzzer_textf(why, sizeof(why), "handshake refused: HTTP %u %.*s",
            fail.peer_status, (int)(f->parser.reason.len < 80
                                        ? f->parser.reason.len : 80),
            f->parser.reason.ptr ? f->parser.reason.ptr : "");
    } else {
      ws__fuzzer_textf(why, sizeof(why), "invalid handshake response: %s (RFC %u "
            "Section %s)", fail.reason ? fail.reason : "?", fail.rfc,
            fail.section ? fail.section : "?");
    }
    if (f->parser.result == WS_HTTP_COMPLETE)
      f->r.http_response = dupn(f, (const char *)f->head, f->parser.head_len);
    handshake_failed(f, why);
    return;
  }
  /* Bytes after the head are the server's first frames. */
  rest = f->head_len - r.head_len;
  opened(f, &r, now);
  if (rest > 0) {
    uint8_t *tail = f->head + r.head_len;
    frames(f, tail, rest, now);
  }
  if (take < n)
    frames(f, p + take, n - take, now);
}

/* --------------------------------------------------------------- API */

int ws_fuzzer_new(ws_fuzzer **out, const struct ws_fuzzer_config *cfg) {
  const struct ws_mem *mem;
  ws_fuzzer *f;
  if (out == NULL || cfg == NULL || cfg->kase == NULL ||
      cfg->request == NULL)
    return WS_EINVAL;
  mem = cfg->mem ? cfg->mem : ws_mem_default();
  f = mem->malloc(sizeof(*f), mem->user);
  if (f == NULL)
    return WS_ENOMEM;
  memset(f, 0, sizeof(*f));
  f->cfg = *cfg;
  f->kase = cfg->kase;
  f->mem = mem;
  f->random = cfg->random ? cfg->random : ws_random_default;
  f->random_user = cfg->random_user;
  if (!f->cfg.open_timeout_ms)
    f->cfg.open_timeout_ms = WS_CASE_OPEN_TIMEOUT_MS;
  if (!f->cfg.close_timeout_ms)
    f->cfg.close_timeout_ms = WS_CASE_CLOSE_TIMEOUT_MS;
  if (!f->cfg.drop_timeout_ms)
    f->cfg.drop_timeout_ms = WS_CASE_DROP_TIMEOUT_MS;
  f->wirelog_on = 1;
  f->rf_index = SIZE_MAX;
  f->open_at = f->pause_at = f->kill_at = f->close_after_at =
      f->close_hs_at = f->drop_at = f->deadline_at = NO_TIMER;
  f->r.mem = mem;
  f->r.kase = cfg->kase;
  f->r.number = cfg->number;
  f->r.local_close_code = f->r.remote_close_code = -1;
  f->r.local_reason_len = f->r.remote_reason_len = -1;
  f->r.behavior = WS_VERDICT_FAILED;
  f->r.behavior_close = WS_VERDICT_FAILED;
  for (unsigned o = 0; o < 2; o++)
    f->match[o].ok = 1;
  if (ws_sha1_init(&f->sha1) != 0) {
    mem->free(f, mem->user);
    return WS_ECRYPTO;
  }
  *out = f;
  return 0;
}

void ws_fuzzer_del(ws_fuzzer *f) {
  const struct ws_mem *mem;
  if (f == NULL)
    return;
  mem = f->mem;
  ws_sha1_free(&f->sha1);
  if (!f->result_taken)
    ws_case_result_free(&f->r);
  xfree(mem, f->head);
  xfree(mem, f->out);
  xfree(mem, f->cuts);
  mem->free(f, mem->user);
}

void ws_fuzzer_set_started(ws_fuzzer *f, uint64_t unix_ms) {
  f->r.started_unix_ms = unix_ms;
}

/* Copies the value of the request line's target (|what| 0) or of the Host
 * field (1) of the request |req| to |out|. */
static size_t request_part(const char *req, int what, char *out,
                           size_t cap) {
  const char *p, *e;
  size_t n;
  if (what == 0) {
    p = strchr(req, ' ');
    p = p ? p + 1 : req;
    e = strchr(p, ' ');
  } else {
    p = strstr(req, "\r\nHost: ");
    p = p ? p + 8 : req;
    e = strstr(p, "\r\n");
  }
  n = e && e > p ? (size_t)(e - p) : 0;
  if (n >= cap)
    n = cap - 1;
  memcpy(out, p, n);
  out[n] = '\0';
  return n;
}

/* Extended handshake cases: expands the request template into |req|
 * (REQUEST_MAX bytes, holding the valid request built for the key and
 * Host). Returns the length, or WS_ENOBUFS. */
static ws_ssize fill_template(ws_fuzzer *f, char *req, const char *tpl) {
  char host[300], path[1024], out[REQUEST_MAX];
  size_t n = 0;
  request_part(req, 0, path, sizeof(path));
  request_part(req, 1, host, sizeof(host));
  while (*tpl) {
    const char *v = NULL;
    size_t skip = 1, vl;
    if (strncmp(tpl, "{host}", 6) == 0)
      v = host, skip = 6;
    else if (strncmp(tpl, "{path}", 6) == 0)
      v = path, skip = 6;
    else if (strncmp(tpl, "{key}", 5) == 0)
      v = f->hsc.key, skip = 5;
    vl = v ? strlen(v) : 1;
    if (n + vl + 1 > sizeof(out))
      return WS_ENOBUFS;
    memcpy(out + n, v ? v : tpl, vl);
    n += vl;
    tpl += skip;
  }
  memcpy(req, out, n);
  req[n] = '\0';
  return (ws_ssize)n;
}

int ws_fuzzer_start(ws_fuzzer *f, uint64_t now) {
  char *req;
  ws_ssize n;
  if (f->state != ST_NEW)
    return WS_ESTATE;
  f->t0 = now;
  f->r.connected = 1;
  req = xmalloc(f, REQUEST_MAX);
  if (req == NULL)
    return WS_ENOMEM;
  n = ws_handshake_client_request(&f->hsc, f->cfg.request, f->random,
                                  f->random_user, &f->sha1, req,
                                  REQUEST_MAX - 1);
  if (n < 0) {
    xfree(f->mem, req);
    ws__fuzzer_textf(f->r.error, sizeof(f->r.error),
          "cannot build the opening handshake request (error %d)", (int)n);
    return (int)n;
  }
  req[n] = '\0';
  if (f->kase->handshake != NULL) {
    n = fill_template(f, req, f->kase->handshake->request);
    if (n < 0) {
      xfree(f->mem, req);
      return (int)n;
    }
  }
  f->r.http_request = req;
  ws_http_parser_init(&f->parser, WS_HTTP_RESPONSE, f->hdrs,
                      WS_HTTP_DEFAULT_MAX_HEADERS, 0);
  if (out_room(f, (size_t)n) != 0)
    return WS_ENOMEM;
  memcpy(f->out + f->out_len, req, (size_t)n);
  f->out_len += (size_t)n;
  f->state = ST_OPENING;
  f->open_at = now + f->cfg.open_timeout_ms;
  return 0;
}

void ws_fuzzer_connect_failed(ws_fuzzer *f, int error, const char *text) {
  f->r.connect_failed = 1;
  f->r.net_error = error;
  ws__fuzzer_textf(f->r.error, sizeof(f->r.error), "%s",
        text ? text : "TCP connect failed");
  f->state = ST_DONE;
  f->r.behavior = f->r.behavior_close = WS_VERDICT_FAILED;
  ws__fuzzer_textf(f->r.result, sizeof(f->r.result), "%s", f->r.error);
  ws__fuzzer_textf(f->r.result_close, sizeof(f->r.result_close),
        "The WebSocket opening handshake was never completed!");
}

int ws_fuzzer_recv(ws_fuzzer *f, uint8_t *data, size_t len, uint64_t now) {
  struct ws_wire_row *row;
  if (f->state == ST_DONE || f->state == ST_NEW || len == 0)
    return 0;
  stat_add(f, &f->r.rx_octets, &f->r.n_rx_octets, len);
  row = wire(f, WS_WIRE_RO, now);
  if (row != NULL) {
    row->len = len;
    wire_preview(row, data, len);
  }
  if (f->read_stopped || f->want_drop)
    return 0;
  if (f->state == ST_OPENING)
    handshake_bytes(f, data, len, now);
  else
    frames(f, data, len, now);
  if (f->oom) {
    want_drop(f);
    return WS_ENOMEM;
  }
  return 0;
}

uint64_t ws_fuzzer_next_timer(const ws_fuzzer *f) {
  uint64_t t = NO_TIMER;
  const uint64_t all[] = {f->open_at,     f->pause_at,    f->kill_at,
                          f->close_after_at, f->close_hs_at, f->drop_at,
                          f->deadline_at};
  if (f->state == ST_DONE || f->want_drop)
    return NO_TIMER;
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
    if (all[i] < t)
      t = all[i];
  return t;
}

static void tick_pause(ws_fuzzer *f, uint64_t now) {
  struct ws_result_event ev;
  f->pause_at = NO_TIMER;
  wire_timer(f, WS_WIRE_CTE, 0, f->pause_tag, now);
  /* 6.4.x: the marker is recorded, and the case goes on, only while the
   * connection is still open. */
  if (f->state != ST_OPEN) {
    f->next_action = f->kase->n_actions;
    return;
  }
  if (f->pause_tag) {
    memset(&ev, 0, sizeof(ev));
    ev.kind = WS_EVENT_TIMEOUT;
    ev.tag = f->pause_tag;
    if (f->kase->grading == WS_GRADE_EVENTS)
      record_simple(f, &ev, NULL, 0);
  }
  run_actions(f, now);
}

/* The timers, in the order they are served when due at the same time:
 * the case's own timers (armed when their action ran) before the library
 * timeouts armed later, as in Autobahn, whose reactor runs the earliest
 * call first (a 1 s killAfter armed at open fires before a 1 s drop
 * timeout armed at the close reply a few ms later, even when a clock of
 * ms resolution shows both due at once). */
enum timer { T_OPEN, T_DEADLINE, T_PAUSE, T_KILL, T_CLOSE_AFTER, T_CLOSE_HS,
             T_DROP, T_COUNT };

static uint64_t *timer_slot(ws_fuzzer *f, enum timer t) {
  switch (t) {
  case T_OPEN: return &f->open_at;
  case T_DEADLINE: return &f->deadline_at;
  case T_PAUSE: return &f->pause_at;
  case T_KILL: return &f->kill_at;
  case T_CLOSE_AFTER: return &f->close_after_at;
  case T_CLOSE_HS: return &f->close_hs_at;
  default: return &f->drop_at;
  }
}

static void fire(ws_fuzzer *f, enum timer t, uint64_t now) {
  *timer_slot(f, t) = NO_TIMER;
  switch (t) {
  case T_OPEN:
    f->r.was_open_handshake_timeout = 1;
    handshake_failed(f, "no opening handshake response within the open "
                        "timeout");
    break;
  case T_DEADLINE:
    f->r.deadline_hit = 1;
    want_drop(f);
    break;
  case T_PAUSE:
    tick_pause(f, now);
    break;
  case T_KILL:
    wire(f, WS_WIRE_KLE, now);
    fail_connection(f, WS_CLOSE_GOING_AWAY, "Going Away", now);
    break;
  case T_CLOSE_AFTER:
    wire(f, WS_WIRE_TIE, now);
    send_close(f, -1, NULL, 0, 0, now);
    break;
  case T_CLOSE_HS:
    /* Our Close got no reply: drop, not clean (Autobahn's
     * onCloseHandshakeTimeout). */
    f->r.was_close_handshake_timeout = 1;
    f->r.was_clean = 0;
    f->r.was_not_clean_reason = "peer did not respond (in time) in closing "
                                "handshake";
    want_drop(f);
    break;
  default:
    if (f->r.closed_by_me) {
      /* Autobahn's onServerConnectionDropTimeout. */
      f->r.was_server_connection_drop_timeout = 1;
      f->r.was_clean = 0;
      f->r.was_not_clean_reason = "server did not drop TCP connection (in "
                                  "time)";
    }
    want_drop(f);
    break;
  }
}

void ws_fuzzer_tick(ws_fuzzer *f, uint64_t now) {
  /* Serve due timers one at a time, earliest first: a fired timer may arm
   * or disarm others (a kill sends a Close, which arms the close
   * handshake timeout). */
  while (f->state != ST_DONE && !f->want_drop) {
    enum timer best = T_COUNT;
    uint64_t at = NO_TIMER;
    for (int t = 0; t < T_COUNT; t++) {
      uint64_t v = *timer_slot(f, (enum timer)t);
      if (v <= now && v < at) {
        at = v;
        best = (enum timer)t;
      }
    }
    if (best == T_COUNT)
      return;
    fire(f, best, now);
  }
}

int ws_fuzzer_want_drop(const ws_fuzzer *f) {
  return f->want_drop && f->state != ST_DONE;
}

int ws_fuzzer_done(const ws_fuzzer *f) { return f->state == ST_DONE; }

/* Grading: ws_fuzzer_grade.c. */

void ws_fuzzer_transport_lost(ws_fuzzer *f, uint64_t now, int by_me,
                              int error) {
  (void)error;
  if (f->state == ST_DONE)
    return;
  if (by_me)
    f->r.dropped_by_me = 1;
  else if (!f->close_received && !f->r.was_not_clean_reason)
    f->r.was_not_clean_reason = "peer dropped the TCP connection without "
                                "previous WebSocket closing handshake";
  if (!f->close_received || !f->close_sent)
    f->r.was_clean = 0;
  if (f->r.opened)
    f->r.duration_ms = now >= f->opened_at ? now - f->opened_at : 0;
  f->state = ST_DONE;
  ws__fuzzer_grade(f);
}

int ws_fuzzer_result(ws_fuzzer *f, struct ws_case_result *out) {
  if (f->state != ST_DONE || f->result_taken)
    return WS_ESTATE;
  *out = f->r;
  f->result_taken = 1;
  memset(&f->r, 0, sizeof(f->r));
  f->r.mem = f->mem;
  return 0;
}

void ws_case_result_free(struct ws_case_result *r) {
  const struct ws_mem *mem;
  if (r == NULL)
    return;
  mem = r->mem ? r->mem : ws_mem_default();
  xfree(mem, r->events);
  xfree(mem, r->rx_octets);
  xfree(mem, r->tx_octets);
  xfree(mem, r->http_request);
  xfree(mem, r->http_response);
  xfree(mem, r->server_header);
  xfree(mem, r->protocol);
  xfree(mem, r->wire);
  memset(r, 0, sizeof(*r));
}
