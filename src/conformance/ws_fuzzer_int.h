/*
 * ws_fuzzer_int.h: the internals of ws_fuzzer shared by ws_fuzzer.c (the
 * execution) and ws_fuzzer_grade.c (Autobahn's verdicts). Not a public
 * header: nothing outside these two files may include it.
 */
#ifndef WS_FUZZER_INT_H
#define WS_FUZZER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "conformance/ws_fuzzer.h"
#include "http/ws_handshake.h"
#include "http/ws_http.h"
#include "ws/ws_frame.h"
#include "ws/ws_utf8.h"

#define REQUEST_MAX 8192u
#define NO_TIMER UINT64_MAX
/* Output buffers above this are released once drained (9.x sends 16 MiB
 * messages; an idle case should not keep that). */
#define OUT_TRIM (1u << 20)

enum state {
  ST_NEW = 0,   /* not started */
  ST_OPENING,   /* request sent, waiting for the response head */
  ST_OPEN,      /* neither side sent a Close */
  ST_CLOSING,   /* a Close was sent or received */
  ST_DONE       /* transport gone, graded */
};

/* A write-unit boundary in the output: bytes up to |end| form one unit. */
struct cut {
  size_t end;
  uint8_t flags; /* WS_FUZZER_OUT_* */
};

/* Per-outcome streaming comparison of the recorded events. */
struct match {
  uint8_t ok;     /* every event so far equals the outcome's */
  uint8_t msg_ok; /* the message being received still matches */
};

struct ws_fuzzer {
  struct ws_fuzzer_config cfg;
  const struct ws_case *kase;
  const struct ws_mem *mem;
  ws_random_fn random;
  void *random_user;
  struct ws_case_result r;
  enum state state;
  uint8_t want_drop;
  uint8_t close_sent;     /* our Close went out (reply or not) */
  uint8_t close_received; /* the server's valid Close arrived */
  uint8_t read_stopped;   /* ignore further input */
  uint8_t wirelog_on;
  uint8_t result_taken;

  uint64_t t0;          /* TCP up */
  uint64_t opened_at;
  size_t next_action;

  /* Timers (NO_TIMER when disarmed). */
  uint64_t open_at, pause_at, kill_at, close_after_at, close_hs_at, drop_at,
      deadline_at;
  char pause_tag;
  uint32_t pause_ms;
  /* killAfter / closeAfter armed while chopped writes were still queued:
   * they start counting when the last of them is written (0: not
   * waiting; the wait in ms + 1 otherwise). */
  uint64_t kill_on_drain, close_after_on_drain;

  /* Opening handshake. */
  struct ws_sha1 sha1;
  struct ws_handshake_client hsc;
  struct ws_http_parser parser;
  struct ws_http_header hdrs[WS_HTTP_DEFAULT_MAX_HEADERS];
  uint8_t *head;
  size_t head_len;

  /* Frames from the server. */
  struct ws_decoder dec;
  uint8_t in_msg, msg_op;
  uint64_t msg_len;
  struct ws_utf8 utf8;
  uint8_t ctl[WS_CONTROL_MAX];
  size_t ctl_len;
  struct ws_result_event cur; /* preview of the message being received */
  size_t rf_index;            /* RF row of the frame being received in
                                 r.wire (rows move when it grows), or
                                 SIZE_MAX */
  struct match match[2];

  /* Frame opened by WS_ACT_FRAME_HEAD. */
  uint8_t head_mask[4];
  uint8_t head_masked;
  uint64_t head_pos;

  /* Extended handshake cases: the answer's status (0: none yet) and
   * whether it carried the required field. */
  uint16_t hs_status;
  uint8_t hs_header_ok;

  /* 9.x echo loop (WS_ACT_ECHO). */
  const struct ws_case_action *echo;
  uint32_t echoes;

  /* Output. */
  uint8_t *out;
  size_t out_off, out_len, out_cap;
  struct cut *cuts;
  size_t cut_head, n_cuts, cuts_cap;
  uint8_t oom;
};

/* snprintf into a result text, cut to fit. */
void ws__fuzzer_textf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets behavior, behaviorClose and their texts once the transport is
 * gone (Autobahn's onConnectionLost grading). */
void ws__fuzzer_grade(ws_fuzzer *f);

#endif /* WS_FUZZER_INT_H */
