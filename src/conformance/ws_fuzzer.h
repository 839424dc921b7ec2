/*
 * ws_fuzzer.h: runs one conformance case against a server, sans-I/O.
 *
 * The fuzzer is the testing endpoint of Autobahn|Testsuite's
 * "fuzzingclient" mode: it opens a WebSocket connection as a client,
 * executes the case's actions (ws_case.h), records what the server sends,
 * and grades it exactly as Autobahn|Testsuite 25.10.1 on Autobahn|Python
 * 0.10.9 does (docs/conformance.md, section a). It does no
 * I/O and reads no clock: the driver (ws_runner.h) feeds it the bytes it
 * reads, the time, and the end of the transport, and writes what it asks:
 *
 *   ws_fuzzer_start(now)              the TCP connection is up
 *   loop:
 *     while ((n = ws_fuzzer_output(f, &p, &flags)) > 0)
 *       write p[0..n) in ONE write call; ws_fuzzer_written(f, n, now)
 *       if (flags & WS_FUZZER_OUT_YIELD) let the event loop turn first
 *     bytes read     -> ws_fuzzer_recv(f, buf, n, now)
 *     EOF or error   -> ws_fuzzer_transport_lost(f, now, ...)
 *     now >= ws_fuzzer_next_timer(f) -> ws_fuzzer_tick(f, now)
 *     ws_fuzzer_want_drop(f)         -> close TCP, then transport_lost
 *   until ws_fuzzer_done(f); then ws_fuzzer_result().
 *
 * What the fuzzer does on its own, as Autobahn|Python's client does:
 * answers Pings with Pongs while the connection is open; replies to the
 * server's Close with Close 1000; fails the connection (Close 1002, or
 * 1007 for invalid UTF-8) when the server breaks RFC 6455; drops TCP when
 * its own Close gets no reply within the close timeout, or when the server
 * does not close TCP within the drop timeout after the closing handshake
 * (RFC 6455 Section 7.1.1: the server closes the TCP connection first).
 * Every case also has a hard deadline (ws_case_max_duration_ms plus a
 * margin): a server that floods, stalls mid-frame or announces a 2^63-byte
 * frame still gets a verdict. Payloads are compared as they stream in and
 * never stored whole.
 */
#ifndef WS_FUZZER_H
#define WS_FUZZER_H

#include <stddef.h>
#include <stdint.h>

#include "conformance/ws_case.h"
#include "core/ws_core.h"
#include "http/ws_handshake.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Octets kept of each recorded event and wire-log row (Autobahn's reports
 * show at most the first 64). */
#define WS_RESULT_PREVIEW 64u
/* Recorded events and wire-log rows kept per case; further ones are
 * counted (and graded) but not stored. */
#define WS_RESULT_MAX_EVENTS 1024u
#define WS_RESULT_MAX_WIRE 4096u
/* Added to ws_case_max_duration_ms() for the hard deadline of a case. */
#define WS_FUZZER_DEADLINE_MARGIN_MS 2000u

/* ------------------------------------------------------------- results */

/* One event the server caused (Autobahn's "received" list). */
struct ws_result_event {
  uint8_t kind;      /* enum ws_event_kind */
  uint8_t binary;    /* MESSAGE: 1 binary, 0 text */
  char tag;          /* TIMEOUT: 'A' or 'B' */
  uint8_t n_preview; /* octets in |preview| (<= WS_RESULT_PREVIEW) */
  uint64_t len;      /* MESSAGE, PONG: the whole payload's length */
  uint8_t preview[WS_RESULT_PREVIEW]; /* the first octets */
};

/* Wire-log row kinds, named as in Autobahn's per-case reports. */
enum ws_wire_kind {
  WS_WIRE_RO = 1, /* octets received (one read) */
  WS_WIRE_TO,     /* octets transmitted (one write) */
  WS_WIRE_RF,     /* a frame received */
  WS_WIRE_TF,     /* a frame transmitted */
  WS_WIRE_CT,     /* a pause started (continueLater): ms, tag */
  WS_WIRE_CTE,    /* the pause ended: tag */
  WS_WIRE_KL,     /* killAfter armed: ms */
  WS_WIRE_KLE,    /* killAfter fired */
  WS_WIRE_TI,     /* closeAfter armed: ms */
  WS_WIRE_TIE,    /* closeAfter fired */
  WS_WIRE_WLM     /* wire log switched on (enabled 1) or off (0) */
};

struct ws_wire_row {
  uint8_t kind;      /* enum ws_wire_kind */
  uint8_t opcode;    /* RF, TF */
  uint8_t fin;       /* RF, TF */
  uint8_t rsv;       /* RF, TF: Autobahn's 3-bit value (wire bits >> 4) */
  uint8_t masked;    /* RF, TF: the frame carried a mask key */
  uint8_t sync;      /* TO, TF: written in a write of its own */
  uint8_t enabled;   /* WLM */
  char tag;          /* CT, CTE: 'A', 'B' or 0 */
  uint8_t mask[4];   /* RF, TF when masked */
  uint8_t n_preview; /* octets in |preview| */
  uint32_t chop;     /* TF: chop size, 0 when not chopped */
  uint32_t ms;       /* CT, KL, TI: the delay */
  uint64_t len;      /* RO, TO: octets; RF, TF: payload length */
  uint64_t at_ms;    /* time since the TCP connection came up */
  uint8_t preview[WS_RESULT_PREVIEW]; /* RO/TO: first octets on the wire;
                                         RF/TF: first payload octets
                                         (unmasked) */
};

/* How many reads (rx) or writes (tx) moved |size| octets. */
struct ws_octet_stat {
  uint64_t size;
  uint64_t count;
};

/*
 * Everything known about one case run: the verdicts and every field of
 * Autobahn's per-case report. Owned by the caller once returned by
 * ws_fuzzer_result(); release with ws_case_result_free().
 */
struct ws_case_result {
  const struct ws_mem *mem; /* what owns the buffers below; NULL: the C
                               library (results built by hand) */
  const struct ws_case *kase;
  uint32_t number;      /* Autobahn's "case": 1-based catalogue position */
  uint8_t behavior;       /* enum ws_verdict */
  uint8_t behavior_close; /* enum ws_verdict */
  char result[256];       /* Autobahn's "result" text */
  char result_close[256]; /* Autobahn's "resultClose" text */

  uint64_t started_unix_ms; /* wall clock at the start (set by the driver) */
  uint64_t duration_ms;     /* WebSocket open -> TCP gone; 0 if never open */

  uint8_t connected;     /* the TCP connection came up */
  uint8_t opened;        /* the opening handshake completed */
  uint8_t closed_by_me;  /* the fuzzer sent the first Close */
  uint8_t failed_by_me;  /* the fuzzer failed the connection */
  uint8_t dropped_by_me; /* the fuzzer closed TCP */
  uint8_t was_clean;     /* Close sent and received, TCP closed in time */
  uint8_t was_server_connection_drop_timeout;
  uint8_t was_open_handshake_timeout;
  uint8_t was_close_handshake_timeout;
  uint8_t deadline_hit;  /* the hard deadline ended the case (wsspec) */
  const char *was_not_clean_reason; /* static text, or NULL */

  int32_t local_close_code;  /* the fuzzer's first Close: code, -1 none */
  int32_t remote_close_code; /* the server's Close: code, -1 none */
  int16_t local_reason_len;  /* -1: no reason (null) */
  int16_t remote_reason_len; /* -1: no reason (null) */
  uint8_t local_reason[125];
  uint8_t remote_reason[125];

  /* Autobahn's "received": the first WS_RESULT_MAX_EVENTS events. */
  struct ws_result_event *events;
  size_t n_events;
  uint64_t events_total;

  /* Octet statistics per read and write, sorted by size. */
  struct ws_octet_stat *rx_octets, *tx_octets;
  size_t n_rx_octets, n_tx_octets;
  uint64_t rx_frames[16], tx_frames[16]; /* frames per opcode */

  char *http_request;  /* the request sent, NUL-terminated, or NULL */
  char *http_response; /* the response head received, or NULL */
  char *server_header; /* the response's Server field, or NULL */
  char *protocol;      /* the subprotocol selected, or NULL */

  struct ws_wire_row *wire; /* the wire log (empty when not requested) */
  size_t n_wire;
  uint8_t wire_truncated;   /* more than WS_RESULT_MAX_WIRE rows */

  /* Why the case could not run at all, or the handshake failed: a
   * one-line English text ("connect: connection refused", "HTTP 404 Not
   * Found"); empty when the WebSocket opened. */
  char error[192];
  int connect_failed;  /* 1: the TCP connect failed (-errno in net_error) */
  int net_error;
};

/* Releases what |r| owns (not |r| itself) and zeroes it. NULL: no-op. */
void ws_case_result_free(struct ws_case_result *r);

/* -------------------------------------------------------------- fuzzer */

typedef struct ws_fuzzer ws_fuzzer;

struct ws_fuzzer_config {
  const struct ws_case *kase; /* required; static catalogue storage */
  uint32_t number;            /* copied to the result */
  /* The opening handshake request (host, port, path, origin, protocols,
   * extra headers). Must stay valid until the fuzzer is freed. */
  const struct ws_client_options *request;
  ws_random_fn random; /* Sec-WebSocket-Key and mask keys; NULL: OpenSSL */
  void *random_user;
  const struct ws_mem *mem; /* NULL: the C library */
  uint8_t wirelog;          /* 1: record the wire log */
  /* 0 selects Autobahn's values: WS_CASE_OPEN_TIMEOUT_MS,
   * WS_CASE_CLOSE_TIMEOUT_MS, WS_CASE_DROP_TIMEOUT_MS. */
  uint32_t open_timeout_ms, close_timeout_ms, drop_timeout_ms;
  /* Caps the hard deadline of the case (from the end of the opening
   * handshake); 0: ws_case_max_duration_ms() + WS_FUZZER_DEADLINE_MARGIN_MS,
   * which lets every Autobahn timer run (up to 1000 s in 9.5.x). A capped
   * case that hits the cap ends with dropped_by_me and deadline_hit. */
  uint32_t max_case_ms;
};

/*
 * Creates a fuzzer for one case. Returns 0, WS_EINVAL (missing case or
 * request), WS_ENOMEM, or WS_ECRYPTO (no SHA-1 from OpenSSL).
 */
int ws_fuzzer_new(ws_fuzzer **out, const struct ws_fuzzer_config *cfg);

/* Frees the fuzzer and everything it owns (not a result already taken).
 * NULL is a no-op. */
void ws_fuzzer_del(ws_fuzzer *f);

/*
 * The TCP connection is up at |now| (ms, any monotonic origin, used for
 * every later call): queues the opening handshake request and starts the
 * opening handshake timeout. Returns 0, WS_ESTATE (called twice),
 * WS_EINVAL (the request options are unusable: the reason is in the
 * result's error), WS_ERANDOM, WS_ENOMEM.
 */
int ws_fuzzer_start(ws_fuzzer *f, uint64_t now);

/*
 * The TCP connect failed: the case ends at once with FAILED / FAILED ("The
 * WebSocket opening handshake was never completed!") and |error| (a
 * net_error.h code) and |text| (may be NULL) in the result.
 */
void ws_fuzzer_connect_failed(ws_fuzzer *f, int error, const char *text);

/*
 * Bytes read from the server (one read: counted in rxOctetStats). |data|
 * is modified in place (frames are unmasked there; a server's frames are
 * not masked, but a broken server's may be) and not kept. Everything is
 * consumed; bytes that arrive after the server's Close, or after the
 * fuzzer decided to drop TCP, are ignored as Autobahn's client ignores
 * them. Returns 0, or WS_ENOMEM (the case then ends as a local error).
 */
int ws_fuzzer_recv(ws_fuzzer *f, uint8_t *data, size_t len, uint64_t now);

/*
 * The next write unit: stores a pointer to its bytes in *data (valid until
 * the next call on |f|) and returns its length, 0 when nothing is pending.
 * |flags| (may be NULL) receives WS_FUZZER_OUT_* bits. The driver writes
 * the bytes in one write call (queueing what the socket does not take) and
 * reports it with ws_fuzzer_written().
 */
#define WS_FUZZER_OUT_SYNC 0x1u  /* a write of its own (sync=True) */
#define WS_FUZZER_OUT_YIELD 0x2u /* a chop: let the event loop turn (flush
                                    the socket) before the next unit */
size_t ws_fuzzer_output(ws_fuzzer *f, const uint8_t **data, unsigned *flags);

/* The first |n| bytes of the unit last returned by ws_fuzzer_output went
 * to the socket (counted in txOctetStats as one write). */
void ws_fuzzer_written(ws_fuzzer *f, size_t n, uint64_t now);

/* The time (same clock as |now|) at which ws_fuzzer_tick must be called
 * next; UINT64_MAX when no timer is armed. */
uint64_t ws_fuzzer_next_timer(const ws_fuzzer *f);

/* Fires every timer due at |now|: pauses, killAfter, closeAfter, the
 * library timeouts and the hard deadline. */
void ws_fuzzer_tick(ws_fuzzer *f, uint64_t now);

/* 1 once the fuzzer wants the TCP connection closed by its side (close
 * handshake timeout, drop timeout, kill while closing, the deadline, an
 * opening handshake that failed): the driver closes the socket without
 * flushing more than it already wrote and calls
 * ws_fuzzer_transport_lost(). */
int ws_fuzzer_want_drop(const ws_fuzzer *f);

/*
 * The TCP connection is gone at |now|: |by_me| is 1 when the driver closed
 * it because of ws_fuzzer_want_drop(), 0 for EOF or a transport error from
 * the server's side (|error|: 0 or -errno, reported in the wire log only).
 * The case is then graded.
 */
void ws_fuzzer_transport_lost(ws_fuzzer *f, uint64_t now, int by_me,
                              int error);

/* 1 once the case is graded (after transport_lost or connect_failed). */
int ws_fuzzer_done(const ws_fuzzer *f);

/*
 * Moves the graded result into *out (the fuzzer keeps nothing of it; a
 * second call returns WS_ESTATE). |started_unix_ms| is left as set by
 * ws_fuzzer_set_started(). Returns 0, or WS_ESTATE before
 * ws_fuzzer_done().
 */
int ws_fuzzer_result(ws_fuzzer *f, struct ws_case_result *out);

/* Wall-clock start time copied into the result (the fuzzer reads no
 * clock). */
void ws_fuzzer_set_started(ws_fuzzer *f, uint64_t unix_ms);

#ifdef __cplusplus
}
#endif

#endif /* WS_FUZZER_H */
