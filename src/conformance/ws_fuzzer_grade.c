/*
 * ws_fuzzer_grade.c: Autobahn's verdicts for a finished case run:
 * behavior from the recorded events (or the 9.x echo loop, or the HTTP
 * answer of an extended handshake case), then behaviorClose in Autobahn's
 * decision order, then the overrides (fatal flag, WRONG CODE in 7.x,
 * 10.1.1's own frame check, informational cases).
 */
#include <string.h>

#include "conformance/ws_fuzzer_int.h"

#define textf ws__fuzzer_textf

static int code_expected(const struct ws_case_close *c, int32_t code) {
  for (unsigned i = 0; i < c->n_codes && i < 3; i++)
    if (c->codes[i] == code)
      return 1;
  return 0;
}

/* Autobahn's behaviorClose, first rule that applies. */
static void grade_close(ws_fuzzer *f) {
  const struct ws_case_close *c = &f->kase->close;
  struct ws_case_result *r = &f->r;
  if (c->closed_by_me != r->closed_by_me) {
    r->behavior_close = WS_VERDICT_FAILED;
    textf(r->result_close, sizeof(r->result_close),
          "The connection was failed by the wrong endpoint");
  } else if (c->require_clean && !r->was_clean) {
    r->behavior_close = WS_VERDICT_UNCLEAN;
    textf(r->result_close, sizeof(r->result_close),
          "The spec requires the connection to be failed cleanly here");
  } else if (r->remote_close_code >= 0 &&
             !code_expected(c, r->remote_close_code)) {
    r->behavior_close = WS_VERDICT_WRONG_CODE;
    textf(r->result_close, sizeof(r->result_close),
          "The close code should have been %u%s, but was %d", c->codes[0],
          c->n_codes > 1 ? " (or another listed code)" : "",
          (int)r->remote_close_code);
  } else if (r->dropped_by_me) {
    r->behavior_close = WS_VERDICT_FAILED_BY_CLIENT;
    textf(r->result_close, sizeof(r->result_close),
          "It is preferred that the server close the TCP connection");
  } else {
    r->behavior_close = WS_VERDICT_OK;
    textf(r->result_close, sizeof(r->result_close),
          "Connection was properly closed");
  }
}

static void grade_events(ws_fuzzer *f) {
  const struct ws_case *c = f->kase;
  struct ws_case_result *r = &f->r;
  for (unsigned o = 0; o < c->n_outcomes; o++) {
    if (f->match[o].ok && r->events_total == c->outcomes[o].n_events) {
      r->behavior = c->outcomes[o].verdict;
      textf(r->result, sizeof(r->result),
            "Actual events match at least one expected.");
      return;
    }
  }
  r->behavior = WS_VERDICT_FAILED;
  textf(r->result, sizeof(r->result),
        "Actual events differ from any expected.");
}

/* 10.1.1: the fuzzer's own fragmentation, checked on its sent frames. */
static void grade_tx_frames(ws_fuzzer *f) {
  const struct ws_case *c = f->kase;
  for (uint32_t i = 0; i < c->n_actions; i++) {
    const struct ws_case_action *a = &c->actions[i];
    uint64_t count;
    if (a->kind != WS_ACT_MESSAGE)
      continue;
    count = ws_fragment_count(ws_payload_length(&a->frame.payload),
                              a->fragment);
    if (f->r.tx_frames[a->frame.opcode & 15u] != 1 ||
        f->r.tx_frames[WS_OP_CONTINUATION] != count - 1) {
      f->r.behavior = WS_VERDICT_FAILED;
      textf(f->r.result, sizeof(f->r.result),
            "Auto-fragmentation sent %llu + %llu frames, expected 1 + %llu",
            (unsigned long long)f->r.tx_frames[a->frame.opcode & 15u],
            (unsigned long long)f->r.tx_frames[WS_OP_CONTINUATION],
            (unsigned long long)(count - 1));
    }
    return;
  }
}

/* Extended handshake cases (see struct ws_case_handshake). */
static void grade_refusal(ws_fuzzer *f) {
  const struct ws_case_handshake *hs = f->kase->handshake;
  struct ws_case_result *r = &f->r;
  int ok = 0;
  for (unsigned i = 0; i < 3 && hs->ok[i]; i++)
    ok |= hs->ok[i] == f->hs_status;
  r->behavior_close = WS_VERDICT_OK;
  textf(r->result_close, sizeof(r->result_close),
        "The server answered HTTP %u", f->hs_status);
  if (f->hs_status == 0) {
    r->behavior = r->behavior_close = WS_VERDICT_FAILED;
    textf(r->result, sizeof(r->result), "%s",
          r->error[0] ? r->error : "No HTTP answer to the request");
    textf(r->result_close, sizeof(r->result_close), "No HTTP answer");
  } else if (f->hs_status == 101) {
    r->behavior = r->behavior_close = WS_VERDICT_FAILED;
    textf(r->result, sizeof(r->result),
          "The server accepted an invalid opening handshake (101)");
  } else if (ok && f->hs_header_ok) {
    r->behavior = WS_VERDICT_OK;
    textf(r->result, sizeof(r->result), "Refused with HTTP %u%s%s",
          f->hs_status, hs->header ? " and " : "",
          hs->header ? hs->header : "");
  } else if (f->hs_status >= 400 && f->hs_status < 500) {
    r->behavior = WS_VERDICT_NON_STRICT;
    textf(r->result, sizeof(r->result),
          "Refused with HTTP %u; expected %u%s%s", f->hs_status, hs->ok[0],
          hs->header ? " with " : "", hs->header ? hs->header : "");
  } else {
    r->behavior = WS_VERDICT_FAILED;
    textf(r->result, sizeof(r->result),
          "Answered HTTP %u; expected a 4xx refusal (%u)", f->hs_status,
          hs->ok[0]);
  }
}

void ws__fuzzer_grade(ws_fuzzer *f) {
  const struct ws_case *c = f->kase;
  struct ws_case_result *r = &f->r;
  if (c->handshake != NULL) {
    grade_refusal(f);
    return;
  }
  if (!r->opened) {
    r->behavior = r->behavior_close = WS_VERDICT_FAILED;
    textf(r->result, sizeof(r->result), "%s",
          r->error[0] ? r->error
                      : "The WebSocket opening handshake was never "
                        "completed!");
    textf(r->result_close, sizeof(r->result_close),
          "The WebSocket opening handshake was never completed!");
    return;
  }
  if (c->grading == WS_GRADE_EVENTS)
    grade_events(f);
  /* closedByWrongEndpointIsFatal: the peer never failed the connection
   * on the invalid UTF-8, the fuzzer's timer had to close it. */
  if ((c->flags & WS_CASE_F_FATAL) && r->closed_by_me != c->close.closed_by_me) {
    r->behavior = WS_VERDICT_FAILED;
    textf(r->result, sizeof(r->result),
          "The connection was failed by the wrong endpoint (FAILED)");
  }
  grade_close(f);
  if ((c->flags & WS_CASE_F_WRONG_CODE_FAILS) &&
      r->behavior_close == WS_VERDICT_WRONG_CODE) {
    r->behavior = WS_VERDICT_FAILED;
    memcpy(r->result, r->result_close, sizeof(r->result));
  }
  if ((c->flags & WS_CASE_F_TX_FRAME_CHECK) && r->behavior == WS_VERDICT_OK)
    grade_tx_frames(f);
  if (c->flags & WS_CASE_F_INFORMATIONAL) {
    r->behavior = r->behavior_close = WS_VERDICT_INFORMATIONAL;
    textf(r->result, sizeof(r->result),
          "Informational: %llu event(s) received, remote close code %d.",
          (unsigned long long)r->events_total, (int)r->remote_close_code);
  }
  if (r->deadline_hit) {
    size_t l = strlen(r->result);
    textf(r->result + l, sizeof(r->result) - l,
          " (the case hit wsspec's hard deadline)");
  }
}
