/*
 * ws_rfc862.c: the RFC 862 echo checks (ws_rfc862.h): the catalogue, the
 * TCP and UDP engines on one event loop (the JSON report is in
 * ws_rfc862_report.c).
 *
 * Data is patterned: every 8-byte block of a stream (or datagram) is a
 * distinct hash of its index and of a per-client seed, so a byte that is
 * moved, dropped, repeated or flipped shows up at its own offset, and one
 * client's data can never pass for another's.
 *
 * Ownership inside a run: the driver (ws_rfc862_run) starts one check,
 * turns the loop until the check is done, then frees it. Callbacks only
 * close handles and set flags, so no callback ever frees memory that is
 * still on its own stack.
 */
#include "conformance/ws_rfc862.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/ws_case.h"
#include "net/net_error.h"
#include "net/net_stream.h"
#include "net/net_tcp.h"
#include "net/net_udp.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

/* Bytes an early-closing client of tcp.4.2 writes before it gives up. */
#define EARLY_BYTES (256u * KIB)
/* tcp.4.2: pause between the early closes and the next client, so the
 * server has handled the resets before it is judged. */
#define EARLY_PAUSE_MS 50u
/* One read() of TCP echo at most; UDP reads use WS_UDP_RECV_BUFFER. */
#define READ_BUF (256u * KIB)
/* TCP reads per wake-up at most, so one connection cannot starve the
 * others. */
#define READS_PER_WAKE 16
/* Datagrams read per wake-up: a flooding server cannot starve the timers. */
#define UDP_BATCH 64

/* ---------------------------------------------------------- catalogue */

static const uint32_t turn_sizes[] = {1, 100, 1460, 64 * KIB, MIB, 4 * MIB};
static const uint32_t boundary_sizes[] = {1, 1472, 7, 512, 1000, 2, 1400,
                                          100};
static const uint32_t client_sizes[] = {16, 1472, 300, 64};

#define N_OF(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

#define TCP_SEC "RFC 862 (TCP Based Echo Service); RFC 793 Section 2.8"
#define HALF_SEC "RFC 862 (TCP Based Echo Service); RFC 793 Section 3.5"
#define UDP_SEC "RFC 862 (UDP Based Echo Service); RFC 768"

#define BULK(id, t, d, size, clients)                                        \
  {id, WS_RFC862_TCP, WS_RFC862_TCP_BULK, t, d, TCP_SEC, size, clients, NULL, \
   0}
#define DGRAM(id, size)                                                      \
  {id, WS_RFC862_UDP, WS_RFC862_UDP_DGRAMS, #size "-byte datagram",          \
   "One datagram of " #size " bytes must be answered exactly once, with "   \
   "the same " #size " bytes (its boundary and content kept).",             \
   UDP_SEC, size, 1, NULL, 1}

static const struct ws_rfc862_check catalogue[] = {
    BULK("tcp.1.1", "1 byte echoed",
         "1 byte written on a fresh connection must come back.", 1, 1),
    BULK("tcp.1.2", "100 bytes echoed verbatim",
         "100 bytes written at once must come back verbatim and in order.",
         100, 1),
    BULK("tcp.1.3", "1,460 bytes (one Ethernet MSS) echoed verbatim",
         "1,460 bytes written at once must come back verbatim and in order.",
         1460, 1),
    BULK("tcp.1.4", "64 KiB echoed verbatim",
         "65,536 bytes written at once must come back verbatim and in "
         "order.",
         64 * KIB, 1),
    BULK("tcp.1.5", "1 MiB echoed verbatim",
         "1,048,576 bytes written at once, read while writing, must come "
         "back verbatim and in order.",
         MIB, 1),
    BULK("tcp.1.6", "4 MiB echoed verbatim",
         "4,194,304 bytes written at once, read while writing, must come "
         "back verbatim and in order.",
         4 * MIB, 1),
    {"tcp.1.7", WS_RFC862_TCP, WS_RFC862_TCP_TURNS,
     "every size in turn on one connection",
     "1 B, 100 B, 1,460 B, 64 KiB, 1 MiB and 4 MiB written in turn on one "
     "connection, each echoed completely before the next is written.",
     TCP_SEC, 0, 1, turn_sizes, N_OF(turn_sizes)},
    {"tcp.2.1", WS_RFC862_TCP, WS_RFC862_TCP_TURNS, "byte-at-a-time writes",
     "256 writes of one byte, each echoed before the next is written: the "
     "echo must not wait for more data.",
     TCP_SEC, 1, 1, NULL, 256},
    BULK("tcp.2.2", "16 MiB in one write, larger than the socket buffers",
         "16 MiB handed to the socket in one write while the echo is read: "
         "the server must read while it writes (no deadlock) and echo "
         "everything verbatim.",
         16 * MIB, 1),
    {"tcp.3.1", WS_RFC862_TCP, WS_RFC862_TCP_HALF_CLOSE,
     "half-close after 64 KiB",
     "65,536 bytes, then shutdown(SHUT_WR): the server must echo all of "
     "them, then close the connection (EOF) within the deadline.",
     HALF_SEC, 64 * KIB, 1, NULL, 0},
    {"tcp.3.2", WS_RFC862_TCP, WS_RFC862_TCP_HALF_CLOSE,
     "half-close with 4 MiB in flight",
     "4 MiB written and shutdown(SHUT_WR) requested at once: the server "
     "sees EOF with most of the echo still to send; it must send the rest, "
     "then close (EOF).",
     HALF_SEC, 4 * MIB, 1, NULL, 0},
    {"tcp.3.3", WS_RFC862_TCP, WS_RFC862_TCP_HALF_CLOSE,
     "half-close without data",
     "shutdown(SHUT_WR) right after connecting: the server must close the "
     "connection (EOF) without sending anything.",
     HALF_SEC, 0, 1, NULL, 0},
    BULK("tcp.4.1", "64 concurrent clients",
         "64 connections at once, 64 KiB each with its own data: every "
         "client must get exactly its own bytes back.",
         64 * KIB, 64),
    {"tcp.4.2", WS_RFC862_TCP, WS_RFC862_TCP_EARLY_CLOSE,
     "clients closing early do not hurt the next",
     "8 clients write 256 KiB each and close as soon as the echo starts, "
     "without reading it (their kernel resets the connection); then a new "
     "client's 64 KiB must be echoed and its half-close answered with "
     "EOF.",
     HALF_SEC, 64 * KIB, 9, NULL, 0},
    DGRAM("udp.1.1", 1),
    DGRAM("udp.1.2", 512),
    DGRAM("udp.1.3", 1472),
    DGRAM("udp.1.4", 2048),
    DGRAM("udp.1.5", 2049),
    DGRAM("udp.1.6", 8192),
    DGRAM("udp.1.7", 65507),
    {"udp.2.1", WS_RFC862_UDP, WS_RFC862_UDP_DGRAMS,
     "boundaries of back-to-back datagrams",
     "8 datagrams of 1 to 1,472 bytes sent back to back: each must be "
     "answered once by a datagram of its own length and content.",
     UDP_SEC, 0, 1, boundary_sizes, N_OF(boundary_sizes)},
    {"udp.2.2", WS_RFC862_UDP, WS_RFC862_UDP_DGRAMS,
     "16 concurrent clients",
     "16 sockets (distinct source ports) send 4 datagrams each at once: "
     "every datagram must be answered once, to its own sender.",
     UDP_SEC, 0, 16, client_sizes, N_OF(client_sizes)},
};

#define N_CHECKS (sizeof(catalogue) / sizeof(catalogue[0]))

size_t ws_rfc862_count(void) { return N_CHECKS; }

const struct ws_rfc862_check *ws_rfc862_get(size_t i) {
  return i < N_CHECKS ? &catalogue[i] : NULL;
}

const struct ws_rfc862_check *ws_rfc862_find(const char *id) {
  for (size_t i = 0; id != NULL && i < N_CHECKS; i++)
    if (strcmp(catalogue[i].id, id) == 0)
      return &catalogue[i];
  return NULL;
}

static int any_match(const char *const *p, size_t n, const char *id) {
  for (size_t i = 0; i < n; i++)
    if (ws_case_match(p[i], id, WS_MATCH_PREFIX))
      return 1;
  return 0;
}

ws_ssize ws_rfc862_select(enum ws_rfc862_proto proto,
                          const char *const *include, size_t n_include,
                          const char *const *exclude, size_t n_exclude,
                          const struct ws_rfc862_check **out,
                          size_t out_cap) {
  size_t n = 0;
  if ((include == NULL && n_include > 0) ||
      (exclude == NULL && n_exclude > 0) || (out == NULL && out_cap > 0))
    return WS_EINVAL;
  for (size_t i = 0; i < N_CHECKS && n < out_cap; i++) {
    const struct ws_rfc862_check *c = &catalogue[i];
    if (c->proto == proto && any_match(include, n_include, c->id) &&
        !any_match(exclude, n_exclude, c->id))
      out[n++] = c;
  }
  return (ws_ssize)n;
}

int ws_rfc862_known(const char *pattern) {
  for (size_t i = 0; pattern != NULL && i < N_CHECKS; i++)
    if (ws_case_match(pattern, catalogue[i].id, WS_MATCH_PREFIX))
      return 1;
  return 0;
}

const char *ws_rfc862_proto_name(enum ws_rfc862_proto proto) {
  return proto == WS_RFC862_UDP ? "udp" : "tcp";
}

const char *ws_rfc862_verdict_name(enum ws_rfc862_verdict v) {
  return v == WS_RFC862_PASS ? "PASS" : v == WS_RFC862_FAIL ? "FAIL" : "NONE";
}

/* ------------------------------------------------------------ pattern */

static uint64_t mix64(uint64_t x) {
  /* splitmix64's finaliser: every input bit reaches every output bit. */
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

static uint64_t id_hash(const char *id) {
  uint64_t h = 0xCBF29CE484222325ull; /* FNV-1a */
  for (; *id; id++)
    h = (h ^ (uint8_t)*id) * 0x100000001B3ull;
  return h;
}

/* The 8 pattern bytes at stream offsets 8 * index .. 8 * index + 7. */
static uint64_t block(uint64_t seed, uint64_t index) {
  return mix64(seed ^ mix64(index));
}

/* Fills p[0..n) with the pattern bytes at offsets off..off+n. */
static void pattern(uint8_t *p, size_t n, uint64_t seed, uint64_t off) {
  size_t i = 0;
  while (i < n) {
    uint64_t o = off + i, v = block(seed, o >> 3);
    for (unsigned k = (unsigned)(o & 7); k < 8 && i < n; k++)
      p[i++] = (uint8_t)(v >> (8 * k));
  }
}

/* The first i < n where p[i] differs from the pattern, else n. */
static size_t pattern_cmp(const uint8_t *p, size_t n, uint64_t seed,
                          uint64_t off) {
  size_t i = 0;
  while (i < n) {
    uint64_t o = off + i, v = block(seed, o >> 3);
    for (unsigned k = (unsigned)(o & 7); k < 8 && i < n; k++, i++)
      if (p[i] != (uint8_t)(v >> (8 * k)))
        return i;
  }
  return n;
}

/* ---------------------------------------------------------- run state */

struct run;
struct check;

enum cl_state { CL_IDLE = 0, CL_CONNECTING, CL_OPEN, CL_CLOSED };

/* One TCP connection of a check. */
struct tcp_client {
  struct check *ck;
  uint32_t index;
  uint8_t state;
  uint8_t early;      /* tcp.4.2: closes once the echo starts */
  uint8_t half_close; /* shutdown(SHUT_WR) after the data */
  uint8_t ok;
  struct ws_connect conn;
  struct ws_stream s;
  const uint8_t *data; /* the whole stream it sends */
  size_t total;
  size_t sent; /* handed to the stream */
  size_t recv; /* received and verified */
  uint32_t seg; /* TURNS: segments written */
  uint64_t t_shut;
};

struct udp_sock {
  struct check *ck;
  uint32_t index;
  struct ws_io io;
};

enum dg_state { DG_PENDING = 0, DG_OK, DG_TRUNC, DG_LONG, DG_BAD, DG_LOST,
                DG_SENDFAIL };

/* One datagram of a check: sent up to 1 + WS_RFC862_UDP_RETRIES times,
 * each attempt with its own content. */
struct dgram {
  uint32_t sock;
  uint32_t index; /* within its socket */
  uint32_t size;
  uint64_t seed;
  uint8_t attempts;
  uint8_t answered; /* bit a: attempt a was answered */
  uint8_t state;
  int64_t got;  /* TRUNC/LONG/BAD: the answer's length */
  int64_t diff; /* BAD: first differing offset */
  int error;    /* SENDFAIL */
};

struct check {
  struct run *run;
  const struct ws_rfc862_check *c;
  struct ws_rfc862_result *res;
  uint64_t t0;
  uint8_t done;
  struct ws_timer deadline;
  struct ws_timer wait; /* TCP: stall / EOF; UDP: reply / grace */
  struct ws_timer aux;  /* tcp.4.2: the pause after the early closes */
  /* TCP */
  struct tcp_client *cl;
  uint32_t n_cl;
  uint8_t *data;
  uint8_t awaiting_eof;
  uint32_t early_closed;
  /* UDP */
  struct udp_sock *us;
  uint32_t n_us;
  struct dgram *dg;
  uint32_t n_dg;
  uint8_t grace;
  uint64_t t_answered; /* the last first answer */
  char stray[160]; /* the first stray answer, described */
};

struct run {
  ws_loop *loop;
  struct ws_addr addr;
  struct ws_rfc862_options opt; /* defaults filled in */
  uint8_t *buf;                 /* READ_BUF bytes */
};

static uint64_t now(const struct check *ck) {
  return ws_loop_now(ck->run->loop);
}

#define PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Appends to the reason, after |sep| when it is not empty. */
static void vadd(struct check *ck, const char *sep, const char *fmt,
                 va_list ap) {
  char *r = ck->res->reason;
  size_t len = strlen(r), cap = sizeof(ck->res->reason);
  if (len > 0 && len + strlen(sep) < cap)
    len += (size_t)snprintf(r + len, cap - len, "%s", sep);
  if (len + 1 < cap)
    vsnprintf(r + len, cap - len, fmt, ap);
}

/* Sets the reason. */
PRINTF(2, 3) static void say(struct check *ck, const char *fmt, ...) {
  va_list ap;
  ck->res->reason[0] = '\0';
  va_start(ap, fmt);
  vadd(ck, "", fmt, ap);
  va_end(ap);
}

/* Appends to the reason. */
PRINTF(2, 3) static void add(struct check *ck, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vadd(ck, "", fmt, ap);
  va_end(ap);
}

/* Appends one more finding to the reason, after "; ". */
PRINTF(2, 3) static void part(struct check *ck, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vadd(ck, "; ", fmt, ap);
  va_end(ap);
}

static void close_all(struct check *ck) {
  ws_timer_stop(&ck->deadline);
  ws_timer_stop(&ck->wait);
  ws_timer_stop(&ck->aux);
  for (uint32_t i = 0; i < ck->n_cl; i++) {
    struct tcp_client *c = &ck->cl[i];
    if (c->state == CL_CONNECTING)
      ws_connect_cancel(&c->conn);
    else if (c->state == CL_OPEN)
      ws_stream_close(&c->s);
    c->state = CL_CLOSED;
  }
  for (uint32_t i = 0; i < ck->n_us; i++)
    if (ck->us[i].io.fd >= 0)
      ws_io_close(&ck->us[i].io);
}

/* Ends the check with |v|; the reason must be set. Idempotent. */
static void finish(struct check *ck, enum ws_rfc862_verdict v) {
  if (ck->done)
    return;
  ck->done = 1;
  ck->res->verdict = v;
  ck->res->duration_ms = now(ck) - ck->t0;
  close_all(ck);
}

static void note_error(struct check *ck, int err) {
  if (ck->res->net_error == 0)
    ck->res->net_error = err;
}

/* "client 3 of 64: " for checks with several clients, else "". */
static const char *who(const struct tcp_client *c, char *buf, size_t size) {
  const struct check *ck = c->ck;
  if (ck->n_cl <= 1)
    buf[0] = '\0';
  else if (c->early)
    snprintf(buf, size, "client %u of %u (closing early): ", c->index + 1,
             ck->n_cl);
  else if (ck->c->kind == WS_RFC862_TCP_EARLY_CLOSE)
    snprintf(buf, size, "the client after %u early closes: ",
             ck->n_cl - 1);
  else
    snprintf(buf, size, "client %u of %u: ", c->index + 1, ck->n_cl);
  return buf;
}

/* Fails the check because of client |c|. */
PRINTF(2, 3) static void tcp_fail(struct tcp_client *c, const char *fmt,
                                  ...) {
  struct check *ck = c->ck;
  char pre[64];
  va_list ap;
  if (ck->done)
    return;
  say(ck, "%s", who(c, pre, sizeof(pre)));
  va_start(ap, fmt);
  vadd(ck, "", fmt, ap);
  va_end(ap);
  finish(ck, WS_RFC862_FAIL);
}

/* ---------------------------------------------------------------- TCP */

static void tcp_connect(struct tcp_client *c);

static void tcp_close(struct tcp_client *c) {
  if (c->state == CL_OPEN)
    ws_stream_close(&c->s);
  c->state = CL_CLOSED;
}

static int tcp_connecting(const struct check *ck) {
  for (uint32_t i = 0; i < ck->n_cl; i++)
    if (ck->cl[i].state == CL_CONNECTING)
      return 1;
  return 0;
}

static void sizes_text(const struct ws_rfc862_check *k, char *buf,
                       size_t size) {
  if (k->seg == NULL)
    snprintf(buf, size, "%u writes of %u byte%s", k->n_seg, k->size,
             k->size == 1 ? "" : "s");
  else
    snprintf(buf, size, "%u writes of %u to %u bytes", k->n_seg, k->seg[0],
             k->seg[k->n_seg - 1]);
}

static void tcp_pass(struct check *ck) {
  const struct ws_rfc862_check *k = ck->c;
  struct ws_rfc862_result *r = ck->res;
  uint64_t ms = now(ck) - ck->t0;
  char text[96];
  switch (k->kind) {
  case WS_RFC862_TCP_BULK:
    if (k->clients > 1)
      say(ck, "%u clients at once: %u bytes each echoed verbatim, each to "
              "its own client, in %" PRIu64 " ms",
          k->clients, k->size, ms);
    else
      say(ck, "%u byte%s echoed verbatim and in order in %" PRIu64 " ms",
          k->size, k->size == 1 ? "" : "s", ms);
    break;
  case WS_RFC862_TCP_TURNS:
    sizes_text(k, text, sizeof(text));
    say(ck, "%s, each echoed before the next: %" PRIu64
            " bytes verbatim in %" PRIu64 " ms",
        text, r->bytes_echoed, ms);
    break;
  case WS_RFC862_TCP_HALF_CLOSE:
    if (k->size == 0)
      say(ck, "nothing sent back, EOF %" PRId64 " ms after the half-close",
          r->eof_ms);
    else
      say(ck, "%u bytes echoed after the half-close, then EOF %" PRId64
              " ms after it",
          k->size, r->eof_ms);
    break;
  default:
    say(ck, "%u clients closed early (echo unread); the next client got its "
            "%u bytes back and EOF %" PRId64 " ms after its half-close",
        ck->n_cl - 1, k->size, r->eof_ms);
    break;
  }
  finish(ck, WS_RFC862_PASS);
}

/* Client |c| has everything it is owed. */
static void tcp_client_ok(struct tcp_client *c) {
  struct check *ck = c->ck;
  c->ok = 1;
  ck->res->clients_ok++;
  tcp_close(c);
  for (uint32_t i = 0; i < ck->n_cl; i++)
    if (!ck->cl[i].ok && !ck->cl[i].early)
      return;
  tcp_pass(ck);
}

/* Hands the next turn (or everything) to the stream. */
static void tcp_send(struct tcp_client *c) {
  const struct ws_rfc862_check *k = c->ck->c;
  size_t n = c->total - c->sent;
  int r;
  if (k->kind == WS_RFC862_TCP_TURNS)
    n = k->seg != NULL ? k->seg[c->seg] : k->size;
  c->seg++;
  if (n > 0) {
    r = ws_stream_write(&c->s, c->data + c->sent, n);
    if (r != 0) {
      note_error(c->ck, r);
      tcp_fail(c, "write failed after %zu of %zu bytes echoed: %s", c->recv,
               c->total, ws_net_strerror(r));
      return;
    }
    c->sent += n;
    c->ck->res->bytes_sent += n;
  }
  if (c->half_close && c->sent == c->total) {
    c->t_shut = now(c->ck);
    r = ws_stream_shutdown(&c->s);
    if (r != 0) {
      note_error(c->ck, r);
      tcp_fail(c, "shutdown(SHUT_WR) failed: %s", ws_net_strerror(r));
    }
  }
}

/* Checks |n| received bytes against what was sent; 0 or -1 (failed).
 * RFC 862 (TCP): "any data received is sent back", and RFC 793 Section
 * 2.8 makes it one ordered stream of octets: byte k of the echo must be
 * byte k of what we sent, and nothing may come back that was not sent. */
static int tcp_verify(struct tcp_client *c, const uint8_t *p, size_t n) {
  struct check *ck = c->ck;
  size_t ok = n;
  if (c->recv + n > c->sent)
    ok = c->sent - c->recv;
  if (memcmp(p, c->data + c->recv, ok) != 0) {
    size_t i = 0;
    while (p[i] == c->data[c->recv + i])
      i++;
    ck->res->first_difference = (int64_t)(c->recv + i);
    ck->res->bytes_echoed += i;
    tcp_fail(c, "echo differs at offset %zu of %zu: expected 0x%02x, got "
                "0x%02x (a byte reordered, dropped or corrupted)",
             c->recv + i, c->total, c->data[c->recv + i], p[i]);
    return -1;
  }
  if (ok < n) {
    ck->res->first_difference = (int64_t)c->sent;
    ck->res->bytes_echoed += ok;
    tcp_fail(c, "%zu bytes more than were sent came back (%zu sent so far)",
             n - ok, c->sent);
    return -1;
  }
  c->recv += n;
  ck->res->bytes_echoed += n;
  return 0;
}

/* End of stream from the server. */
static void tcp_eof(struct tcp_client *c) {
  struct check *ck = c->ck;
  if (c->half_close && c->recv == c->total && c->sent == c->total) {
    /* RFC 793 Section 3.5: our CLOSE said "no more to send"; the server
     * sent the rest, then closed too. */
    ck->res->eof_ms = (int64_t)(now(ck) - c->t_shut);
    tcp_client_ok(c);
    return;
  }
  tcp_fail(c, "the server closed the connection after %zu of %zu bytes "
              "echoed%s",
           c->recv, c->total,
           c->half_close ? " (after our half-close)" : "");
}

static void early_closed(struct tcp_client *c) {
  struct check *ck = c->ck;
  tcp_close(c);
  if (++ck->early_closed == ck->n_cl - 1)
    ws_timer_start(&ck->aux, EARLY_PAUSE_MS);
}

static void tcp_readable(struct tcp_client *c) {
  struct check *ck = c->ck;
  const struct ws_rfc862_options *o = &ck->run->opt;
  ws_ssize n;
  if (c->early) {
    /* Closed with the echo unread: the kernel answers with a reset, and
     * the server's next write fails (EPIPE, or SIGPIPE for a server that
     * does not ignore it). */
    early_closed(c);
    return;
  }
  /* Read until the socket is empty (up to a budget): a client that
   * writes faster than it reads would judge its own pacing, and fill the
   * buffers of servers that relay through a pipe (socat PIPE). */
  for (int i = 0; i < READS_PER_WAKE; i++) {
    n = ws_stream_read(&c->s, ck->run->buf, READ_BUF);
    if (n == -EAGAIN)
      return;
    if (n < 0) {
      note_error(ck, (int)n);
      tcp_fail(c, "connection failed after %zu of %zu bytes echoed: %s",
               c->recv, c->total, ws_net_strerror((int)n));
      return;
    }
    if (n == 0) {
      tcp_eof(c);
      return;
    }
    if (tcp_verify(c, ck->run->buf, (size_t)n) != 0)
      return;
    if (c->recv < c->sent) {
      ws_timer_start(&ck->wait, o->stall_ms);
    } else if (c->sent < c->total) {
      ws_timer_start(&ck->wait, o->stall_ms);
      tcp_send(c); /* the next turn */
      if (ck->done)
        return;
    } else if (!c->half_close) {
      tcp_client_ok(c);
      return;
    } else if (!ck->awaiting_eof) {
      ck->awaiting_eof = 1;
      ws_timer_start(&ck->wait, o->eof_ms);
    }
  }
}

static void tcp_on_stream(struct ws_stream *s, enum ws_stream_event ev,
                          int status, void *user) {
  struct tcp_client *c = user;
  (void)s;
  if (c->ck->done || c->state != CL_OPEN)
    return;
  if (ev == WS_STREAM_READABLE) {
    tcp_readable(c);
  } else if (ev == WS_STREAM_ERROR) {
    if (c->early) {
      early_closed(c);
      return;
    }
    note_error(c->ck, status);
    tcp_fail(c, "connection failed after %zu of %zu bytes echoed: %s",
             c->recv, c->total, ws_net_strerror(status));
  }
}

static void tcp_on_connect(struct ws_connect *conn, int fd, int status,
                           void *user) {
  struct tcp_client *c = user;
  struct check *ck = c->ck;
  const struct ws_rfc862_options *o = &ck->run->opt;
  int r;
  (void)conn;
  c->state = CL_CLOSED;
  if (status != 0) {
    note_error(ck, status);
    tcp_fail(c, "connect: %s", ws_net_strerror(status));
    return;
  }
  r = ws_stream_start(ck->run->loop, &c->s, fd, NULL, 0, tcp_on_stream, c);
  if (r != 0) {
    ws_net_close(fd);
    note_error(ck, r);
    tcp_fail(c, "cannot watch the connection: %s", ws_net_strerror(r));
    return;
  }
  c->state = CL_OPEN;
  ck->res->clients++;
  ws_timer_start(&ck->wait, o->stall_ms);
  tcp_send(c);
  if (!ck->done && c->half_close && c->total == 0) {
    ck->awaiting_eof = 1;
    ws_timer_start(&ck->wait, o->eof_ms);
  }
}

static void tcp_connect(struct tcp_client *c) {
  struct check *ck = c->ck;
  int r;
  c->state = CL_CONNECTING;
  r = ws_connect_start(ck->run->loop, &c->conn, &ck->run->addr,
                       ck->run->opt.connect_ms, tcp_on_connect, c);
  if (r != 0) {
    c->state = CL_CLOSED;
    note_error(ck, r);
    tcp_fail(c, "connect: %s", ws_net_strerror(r));
  }
}

/* The first client still owed something, else NULL. */
static struct tcp_client *tcp_pending(struct check *ck) {
  for (uint32_t i = 0; i < ck->n_cl; i++)
    if (!ck->cl[i].ok && !(ck->cl[i].early && ck->cl[i].state == CL_CLOSED))
      return &ck->cl[i];
  return NULL;
}

/* No byte for stall_ms, or no EOF for eof_ms. */
static void tcp_on_wait(struct ws_timer *t, void *user) {
  struct check *ck = user;
  const struct ws_rfc862_options *o = &ck->run->opt;
  struct tcp_client *c;
  (void)t;
  if (ck->done)
    return;
  /* A client still connecting has its own timeout (connect_ms), and the
   * pause of tcp.4.2 owes no byte. */
  if (tcp_connecting(ck) || ws_timer_active(&ck->aux)) {
    ws_timer_start(&ck->wait, o->stall_ms);
    return;
  }
  c = tcp_pending(ck);
  if (c == NULL) {
    say(ck, "no progress for %" PRIu64 " ms", o->stall_ms);
    finish(ck, WS_RFC862_FAIL);
  } else if (ck->awaiting_eof) {
    tcp_fail(c, "no EOF within %" PRIu64 " ms after the last of %zu bytes "
                "echoed: the server did not close the connection after "
                "our half-close",
             o->eof_ms, c->total);
  } else {
    tcp_fail(c, "no echo for %" PRIu64 " ms: %zu of %zu bytes echoed "
                "(%zu sent); %u of %u clients complete",
             o->stall_ms, c->recv, c->total, c->sent, ck->res->clients_ok,
             ck->n_cl);
  }
}

/* tcp.4.2: the early clients are gone; now the one that must be served. */
static void tcp_on_aux(struct ws_timer *t, void *user) {
  struct check *ck = user;
  (void)t;
  if (!ck->done)
    tcp_connect(&ck->cl[ck->n_cl - 1]);
}

/* Allocates the clients and their data, then connects. 0 or WS_ENOMEM. */
static int tcp_start(struct check *ck) {
  const struct ws_rfc862_check *k = ck->c;
  uint64_t seed = id_hash(k->id);
  size_t each = k->size, len;
  uint32_t i;
  if (k->kind == WS_RFC862_TCP_TURNS) {
    each = 0;
    for (i = 0; i < k->n_seg; i++)
      each += k->seg != NULL ? k->seg[i] : k->size;
  }
  len = k->kind == WS_RFC862_TCP_EARLY_CLOSE ? EARLY_BYTES + each
                                             : each * k->clients;
  ck->n_cl = k->clients;
  ck->cl = calloc(ck->n_cl, sizeof(*ck->cl));
  ck->data = malloc(len > 0 ? len : 1);
  if (ck->cl == NULL || ck->data == NULL)
    return WS_ENOMEM;
  for (i = 0; i < ck->n_cl; i++) {
    struct tcp_client *c = &ck->cl[i];
    c->ck = ck;
    c->index = i;
    c->half_close = k->kind == WS_RFC862_TCP_HALF_CLOSE ||
                    k->kind == WS_RFC862_TCP_EARLY_CLOSE;
    c->total = each;
    c->data = ck->data + (size_t)i * each;
    if (k->kind == WS_RFC862_TCP_EARLY_CLOSE) {
      c->early = i + 1 < ck->n_cl;
      c->total = c->early ? EARLY_BYTES : each;
      c->data = c->early ? ck->data : ck->data + EARLY_BYTES;
    }
    if (!c->early || i == 0)
      pattern((uint8_t *)c->data, c->total, mix64(seed + i), 0);
  }
  for (i = 0; i < ck->n_cl && !ck->done; i++)
    if (k->kind != WS_RFC862_TCP_EARLY_CLOSE || ck->cl[i].early)
      tcp_connect(&ck->cl[i]);
  return 0;
}

/* ---------------------------------------------------------------- UDP */

/* Attempt |a| of |d|: its own content, and, for 1-byte datagrams, its
 * own first byte, so a late answer to an earlier attempt is never taken
 * for a duplicate. */
static uint64_t dg_seed(const struct dgram *d, unsigned a) {
  return mix64(d->seed + a);
}

static uint8_t dg_byte0(const struct dgram *d, unsigned a) {
  return (uint8_t)(d->seed + a);
}

static void dg_fill(const struct dgram *d, unsigned a, uint8_t *p) {
  if (d->size == 0)
    return;
  p[0] = dg_byte0(d, a);
  pattern(p + 1, d->size - 1, dg_seed(d, a), 1);
}

/* How many leading bytes of |p| (n bytes) equal attempt |a| of |d|. */
static size_t dg_prefix(const struct dgram *d, unsigned a, const uint8_t *p,
                        size_t n) {
  size_t m = n < d->size ? n : d->size;
  if (m == 0 || p[0] != dg_byte0(d, a))
    return 0;
  return 1 + pattern_cmp(p + 1, m - 1, dg_seed(d, a), 1);
}

static void dg_send(struct check *ck, struct dgram *d) {
  uint8_t *buf = ck->run->buf;
  ws_ssize n;
  dg_fill(d, d->attempts, buf);
  n = ws_udp_sendto(ck->us[d->sock].io.fd, buf, d->size, &ck->run->addr);
  if (n == (ws_ssize)d->size) {
    if (d->attempts > 0)
      ck->res->retries++;
    d->attempts++;
    ck->res->sent++;
  } else if (n != -EAGAIN) {
    /* -EAGAIN: our send buffer is full; the next tick sends it. */
    d->state = DG_SENDFAIL;
    d->error = n < 0 ? (int)n : -EMSGSIZE;
    note_error(ck, d->error);
  }
}

static int udp_resolved(const struct check *ck) {
  for (uint32_t i = 0; i < ck->n_dg; i++)
    if (ck->dg[i].state == DG_PENDING)
      return 0;
  return 1;
}

static void udp_grace(struct check *ck) {
  ck->grace = 1;
  ws_timer_start(&ck->wait, ck->run->opt.grace_ms);
}

PRINTF(2, 3) static void stray(struct check *ck, const char *fmt, ...) {
  va_list ap;
  if (ck->res->stray++ > 0)
    return;
  va_start(ap, fmt);
  vsnprintf(ck->stray, sizeof(ck->stray), fmt, ap);
  va_end(ap);
}

/* An exact answer to attempt |a| of |d|. RFC 862 (UDP): each datagram
 * is "sent back in an answering datagram": one answer, so a second one
 * to the same datagram is a duplicate. */
static void dg_hit(struct check *ck, struct dgram *d, unsigned a) {
  if (d->answered & (1u << a)) {
    ck->res->duplicates++;
    return;
  }
  d->answered |= (uint8_t)(1u << a);
  if (d->state == DG_PENDING) {
    d->state = DG_OK;
    ck->t_answered = now(ck);
  }
}

/* An answer that is no exact copy: a prefix (truncated), a copy with
 * bytes added, or a datagram of the same length with other content.
 * Returns 1 when it was pinned on a datagram of socket |sock|. */
static int dg_wrong(struct check *ck, uint32_t sock, const uint8_t *p,
                    size_t n) {
  struct dgram *same_len = NULL;
  for (int pass = 0; pass < 2; pass++) {
    /* Pending datagrams first; a wrong extra answer to an answered one
     * still fails it. */
    for (uint32_t i = 0; i < ck->n_dg; i++) {
      struct dgram *d = &ck->dg[i];
      if (d->sock != sock || (pass == 0) != (d->state == DG_PENDING))
        continue;
      for (unsigned a = 0; a < d->attempts; a++) {
        size_t m = dg_prefix(d, a, p, n);
        if ((n < d->size && m == n) || (n > d->size && m == d->size)) {
          d->state = n < d->size ? DG_TRUNC : DG_LONG;
          d->got = (int64_t)n;
          if (n < d->size && ck->res->truncated_to < 0)
            ck->res->truncated_to = (int64_t)n;
          return 1;
        }
      }
      if (same_len == NULL && n == d->size && d->attempts > 0)
        same_len = d;
    }
  }
  if (same_len == NULL)
    return 0;
  same_len->state = DG_BAD;
  same_len->got = (int64_t)n;
  same_len->diff =
      (int64_t)dg_prefix(same_len, same_len->attempts - 1u, p, n);
  return 1;
}

static void udp_answer(struct check *ck, const struct udp_sock *u,
                       const uint8_t *p, size_t n,
                       const struct ws_addr *from) {
  char a[WS_ADDR_STRLEN + 1], b[WS_ADDR_STRLEN + 1];
  /* An answer from another port never reaches a client that connected
   * its UDP socket to the server (RFC 768 ports name the conversation). */
  if (!ws_addr_equal(from, &ck->run->addr)) {
    ws_addr_format(a, sizeof(a), from);
    ws_addr_format(b, sizeof(b), &ck->run->addr);
    stray(ck, "an answer came from %s, not from the server's address %s",
          a, b);
    return;
  }
  for (uint32_t i = 0; i < ck->n_dg; i++) {
    struct dgram *d = &ck->dg[i];
    if (d->sock != u->index || d->size != n)
      continue;
    for (unsigned k = 0; k < d->attempts; k++)
      if (dg_prefix(d, k, p, n) == n) {
        dg_hit(ck, d, k);
        return;
      }
  }
  /* Another client's datagram, exactly: answers crossed. */
  for (uint32_t i = 0; i < ck->n_dg; i++) {
    const struct dgram *d = &ck->dg[i];
    for (unsigned k = 0; k < d->attempts && d->size == n; k++)
      if (dg_prefix(d, k, p, n) == n) {
        stray(ck, "client %u received the answer to client %u's datagram",
              u->index + 1, d->sock + 1);
        return;
      }
  }
  if (dg_wrong(ck, u->index, p, n))
    return;
  stray(ck, "client %u received %zu bytes matching no datagram sent",
        u->index + 1, n);
}

static void udp_judge(struct check *ck);

static void udp_on_io(struct ws_io *io, unsigned events, void *user) {
  struct udp_sock *u = user;
  struct check *ck = u->ck;
  (void)events;
  for (int i = 0; i < UDP_BATCH && !ck->done; i++) {
    struct ws_addr from;
    ws_ssize n = ws_udp_recvfrom(io->fd, ck->run->buf, WS_UDP_RECV_BUFFER,
                                 &from, NULL);
    if (n == -EAGAIN)
      break;
    if (n < 0) {
      note_error(ck, (int)n);
      continue;
    }
    udp_answer(ck, u, ck->run->buf, (size_t)n, &from);
  }
  if (!ck->done && !ck->grace && udp_resolved(ck))
    udp_grace(ck);
}

/* Every |reply_ms|: resend what is unanswered, or give it up as lost.
 * UDP may lose a datagram (RFC 768 promises no delivery), even on
 * loopback when a socket buffer is full, so loss is retried with a fresh
 * datagram before it is held against the server. */
static void udp_on_wait(struct ws_timer *t, void *user) {
  struct check *ck = user;
  (void)t;
  if (ck->done)
    return;
  if (ck->grace) {
    udp_judge(ck);
    return;
  }
  for (uint32_t i = 0; i < ck->n_dg; i++) {
    struct dgram *d = &ck->dg[i];
    if (d->state != DG_PENDING)
      continue;
    if (d->attempts >= 1 + WS_RFC862_UDP_RETRIES)
      d->state = DG_LOST;
    else
      dg_send(ck, d);
  }
  if (udp_resolved(ck))
    udp_grace(ck);
  else
    ws_timer_start(&ck->wait, ck->run->opt.reply_ms);
}

/* "1472-byte datagram", "datagram 2 of 8 (1472 bytes)", "client 3,
 * datagram 2 (16 bytes)". */
static void dg_name(const struct check *ck, const struct dgram *d,
                    char *buf, size_t size) {
  if (ck->n_us > 1)
    snprintf(buf, size, "client %u, datagram %u (%u bytes)", d->sock + 1,
             d->index + 1, d->size);
  else if (ck->n_dg > 1)
    snprintf(buf, size, "datagram %u of %u (%u bytes)", d->index + 1,
             ck->n_dg, d->size);
  else
    snprintf(buf, size, "%u-byte datagram", d->size);
}

/* The reason for datagram |d| in state |d->state| (not OK). */
static void dg_reason(struct check *ck, const struct dgram *d) {
  const struct ws_rfc862_options *o = &ck->run->opt;
  char name[64];
  dg_name(ck, d, name, sizeof(name));
  switch (d->state) {
  case DG_SENDFAIL:
    part(ck, "%s could not be sent: %s", name, ws_net_strerror(d->error));
    break;
  case DG_TRUNC:
    /* RFC 768: the length is the datagram's; RFC 862 sends "the data"
     * back, all of it. */
    part(ck, "%s answered with %" PRId64 " bytes: truncated to %" PRId64
            " bytes",
        name, d->got, d->got);
    break;
  case DG_LONG:
    part(ck, "%s answered with %" PRId64 " bytes: %" PRId64
             " byte%s too many",
         name, d->got, d->got - (int64_t)d->size,
         d->got - (int64_t)d->size == 1 ? "" : "s");
    break;
  case DG_BAD:
    part(ck, "%s answered with other content: first difference at offset "
            "%" PRId64,
        name, d->diff);
    break;
  default:
    part(ck, "%s never answered: sent %u times (%u retries), %" PRIu64
            " ms each: lost",
        name, d->attempts, d->attempts > 0 ? d->attempts - 1u : 0u,
        o->reply_ms);
    break;
  }
}

static uint32_t min_size(const struct check *ck) {
  uint32_t m = UINT32_MAX;
  for (uint32_t i = 0; i < ck->n_dg; i++)
    m = ck->dg[i].size < m ? ck->dg[i].size : m;
  return m;
}

static uint32_t max_size(const struct check *ck) {
  uint32_t m = 0;
  for (uint32_t i = 0; i < ck->n_dg; i++)
    m = ck->dg[i].size > m ? ck->dg[i].size : m;
  return m;
}

static void udp_pass(struct check *ck) {
  const struct ws_rfc862_check *k = ck->c;
  struct ws_rfc862_result *r = ck->res;
  uint64_t ms = ck->t_answered - ck->t0;
  if (ck->n_us > 1)
    say(ck, "%u clients x %u datagrams: each answered once, to its own "
            "sender, with its length and content, in %" PRIu64 " ms",
        ck->n_us, ck->n_dg / ck->n_us, ms);
  else if (ck->n_dg > 1)
    say(ck, "%u datagrams of %u to %u bytes sent back to back: each "
            "answered once with its own length and content in %" PRIu64
            " ms",
        ck->n_dg, min_size(ck), max_size(ck), ms);
  else
    say(ck, "answered once, with the same %u byte%s, in %" PRIu64 " ms",
        k->size, k->size == 1 ? "" : "s", ms);
  if (r->retries > 0)
    add(ck, ", after %u retr%s (datagrams lost on the way)", r->retries,
        r->retries == 1 ? "y" : "ies");
  add(ck, "; no duplicate within %" PRIu64 " ms", ck->run->opt.grace_ms);
  finish(ck, WS_RFC862_PASS);
}

/* The grace period is over: count and decide. */
static void udp_judge(struct check *ck) {
  struct ws_rfc862_result *r = ck->res;
  static const uint8_t order[] = {DG_SENDFAIL, DG_TRUNC, DG_LONG, DG_BAD,
                                  DG_LOST};
  const struct dgram *worst = NULL;
  uint32_t bad = 0;
  for (uint32_t i = 0; i < ck->n_dg; i++) {
    const struct dgram *d = &ck->dg[i];
    r->answered += d->state == DG_OK;
    r->lost += d->state == DG_LOST;
    r->truncated += d->state == DG_TRUNC;
    bad += d->state != DG_OK;
  }
  for (size_t j = 0; j < sizeof(order) && worst == NULL; j++)
    for (uint32_t i = 0; i < ck->n_dg && worst == NULL; i++)
      if (ck->dg[i].state == order[j])
        worst = &ck->dg[i];
  if (worst == NULL && r->duplicates == 0 && r->stray == 0) {
    udp_pass(ck);
    return;
  }
  r->reason[0] = '\0';
  /* Answers from the wrong address explain a loss: say them first. */
  if (r->stray > 0 && (worst == NULL || worst->state == DG_LOST))
    part(ck, "%s", ck->stray);
  if (worst != NULL) {
    dg_reason(ck, worst);
    if (bad > 1)
      part(ck, "%u of %u datagrams failed", bad, ck->n_dg);
  }
  if (r->duplicates > 0 && ck->n_dg == 1)
    part(ck, "%u-byte datagram answered %u times: %u duplicate%s within "
             "%" PRIu64 " ms",
         ck->dg[0].size, r->duplicates + 1, r->duplicates,
         r->duplicates == 1 ? "" : "s", ck->run->opt.grace_ms);
  else if (r->duplicates > 0)
    part(ck, "%u duplicate answer%s: a datagram must be answered once",
         r->duplicates, r->duplicates == 1 ? "" : "s");
  if (r->stray > 0 && worst != NULL && worst->state != DG_LOST)
    part(ck, "%s", ck->stray);
  if (r->stray > 1)
    part(ck, "%u stray answers", r->stray);
  finish(ck, WS_RFC862_FAIL);
}

static int udp_start(struct check *ck) {
  const struct ws_rfc862_check *k = ck->c;
  uint32_t per = k->seg != NULL ? k->n_seg : 1, i, j;
  uint64_t seed = id_hash(k->id);
  ck->n_us = k->clients;
  ck->n_dg = k->clients * per;
  ck->us = calloc(ck->n_us, sizeof(*ck->us));
  ck->dg = calloc(ck->n_dg, sizeof(*ck->dg));
  if (ck->us == NULL || ck->dg == NULL)
    return WS_ENOMEM;
  for (i = 0; i < ck->n_us; i++)
    ck->us[i].io.fd = -1;
  for (i = 0; i < ck->n_us; i++) {
    struct udp_sock *u = &ck->us[i];
    int fd, r = ws_udp_open(&fd, ck->run->addr.sa.sa_family);
    u->ck = ck;
    u->index = i;
    if (r == 0) {
      r = ws_io_start(ck->run->loop, &u->io, fd, WS_IO_READ, udp_on_io, u);
      if (r != 0)
        ws_net_close(fd);
    }
    if (r != 0) {
      note_error(ck, r);
      say(ck, "cannot open UDP socket %u: %s", i + 1, ws_net_strerror(r));
      finish(ck, WS_RFC862_FAIL);
      return 0;
    }
  }
  for (i = 0; i < ck->n_us; i++)
    for (j = 0; j < per; j++) {
      struct dgram *d = &ck->dg[i * per + j];
      d->sock = i;
      d->index = j;
      d->size = k->seg != NULL ? k->seg[j] : k->size;
      d->seed = mix64(seed ^ ((uint64_t)i << 32) ^ j);
    }
  ck->res->datagrams = ck->n_dg;
  for (i = 0; i < ck->n_dg; i++)
    dg_send(ck, &ck->dg[i]);
  if (udp_resolved(ck))
    udp_grace(ck);
  else
    ws_timer_start(&ck->wait, ck->run->opt.reply_ms);
  return 0;
}

/* ------------------------------------------------------------- driver */

static void on_deadline(struct ws_timer *t, void *user) {
  struct check *ck = user;
  uint64_t ms = ck->run->opt.deadline_ms;
  char pre[64];
  (void)t;
  if (ck->done)
    return;
  if (ck->c->proto == WS_RFC862_UDP) {
    uint32_t ok = 0;
    for (uint32_t i = 0; i < ck->n_dg; i++)
      ok += ck->dg[i].state == DG_OK;
    say(ck, "deadline of %" PRIu64 " ms exceeded: %u of %u datagrams "
            "answered, %u duplicate answers",
        ms, ok, ck->n_dg, ck->res->duplicates);
  } else {
    struct tcp_client *c = tcp_pending(ck);
    if (c != NULL)
      say(ck, "deadline of %" PRIu64 " ms exceeded: %s%zu of %zu bytes "
              "echoed%s",
          ms, who(c, pre, sizeof(pre)), c->recv, c->total,
          c->state == CL_CONNECTING ? " (still connecting)" : "");
    else
      say(ck, "deadline of %" PRIu64 " ms exceeded", ms);
  }
  finish(ck, WS_RFC862_FAIL);
}

static void check_free(struct check *ck) {
  close_all(ck);
  free(ck->cl);
  free(ck->data);
  free(ck->us);
  free(ck->dg);
}

/* Turns the loop until |*done|. 0, or -errno from epoll_wait. */
static int drive(ws_loop *loop, const uint8_t *done) {
  while (!*done) {
    int r = ws_loop_run(loop, WS_RUN_ONCE);
    if (r < 0)
      return r;
    /* Every running check keeps its deadline armed: an idle loop here
     * would be a bug, and must not spin. */
    if (r == 0 && !*done && !ws_loop_alive(loop))
      return -EDEADLK;
  }
  return 0;
}

/* ------------------------------------------------------------- probe */

struct probe {
  struct ws_connect conn;
  struct ws_io io;
  struct ws_timer t;
  int status;
  uint8_t done;
};

static void probe_on_connect(struct ws_connect *c, int fd, int status,
                             void *user) {
  struct probe *p = user;
  (void)c;
  if (fd >= 0)
    ws_net_close(fd);
  p->status = status;
  p->done = 1;
}

static void probe_on_io(struct ws_io *io, unsigned events, void *user) {
  struct probe *p = user;
  uint8_t buf[64];
  ws_ssize n = ws_udp_recvfrom(io->fd, buf, sizeof(buf), NULL, NULL);
  (void)events;
  if (n == -EAGAIN)
    return;
  /* An answer, or an ICMP error such as port unreachable. */
  p->status = n < 0 ? (int)n : 0;
  p->done = 1;
  ws_timer_stop(&p->t);
  ws_io_close(io);
}

/* Silence is no refusal: the checks will grade it. */
static void probe_on_timer(struct ws_timer *t, void *user) {
  struct probe *p = user;
  (void)t;
  p->done = 1;
  ws_io_close(&p->io);
}

static int probe_udp(struct run *run, struct probe *p) {
  static const char text[] = "wsspec rfc862 probe";
  int fd, r = ws_udp_open(&fd, run->addr.sa.sa_family);
  if (r != 0)
    return r;
  /* Connected, so the kernel reports an ICMP port unreachable to us. */
  r = ws_udp_connect(fd, &run->addr);
  if (r == 0) {
    ws_ssize n = ws_udp_sendto(fd, text, sizeof(text) - 1, &run->addr);
    r = n < 0 ? (int)n : 0;
  }
  if (r == 0)
    r = ws_io_start(run->loop, &p->io, fd, WS_IO_READ, probe_on_io, p);
  if (r != 0) {
    ws_net_close(fd);
    return r;
  }
  ws_timer_init(run->loop, &p->t, probe_on_timer, p);
  ws_timer_start(&p->t, run->opt.reply_ms);
  return 0;
}

/* Is anything there? 0, or -errno with |err| set. */
static int probe(struct run *run, enum ws_rfc862_proto proto, char *err,
                 size_t errlen) {
  struct probe p;
  char where[WS_ADDR_STRLEN + 1];
  int r;
  memset(&p, 0, sizeof(p));
  p.io.fd = -1;
  if (proto == WS_RFC862_TCP)
    r = ws_connect_start(run->loop, &p.conn, &run->addr, run->opt.connect_ms,
                         probe_on_connect, &p);
  else
    r = probe_udp(run, &p);
  if (r == 0) {
    r = drive(run->loop, &p.done);
    if (!p.done) { /* the loop failed */
      if (proto == WS_RFC862_TCP)
        ws_connect_cancel(&p.conn);
      ws_timer_stop(&p.t);
      if (p.io.fd >= 0)
        ws_io_close(&p.io);
    }
  }
  if (r == 0)
    r = p.status;
  if (r != 0) {
    ws_addr_format(where, sizeof(where), &run->addr);
    ws_net_format_error(err, errlen, "connect", where, r);
  }
  return r;
}

static void fill_defaults(struct ws_rfc862_options *o,
                          const struct ws_rfc862_options *in) {
  memset(o, 0, sizeof(*o));
  if (in != NULL)
    *o = *in;
#define DEF(f, v)                                                             \
  if (o->f == 0)                                                              \
  o->f = (v)
  DEF(deadline_ms, WS_RFC862_DEADLINE_MS);
  DEF(connect_ms, WS_RFC862_CONNECT_MS);
  DEF(stall_ms, WS_RFC862_STALL_MS);
  DEF(eof_ms, WS_RFC862_EOF_MS);
  DEF(reply_ms, WS_RFC862_REPLY_MS);
  DEF(grace_ms, WS_RFC862_GRACE_MS);
#undef DEF
}

static void set_err(char *err, size_t errlen, const char *msg) {
  if (errlen > 0)
    snprintf(err, errlen, "%s", msg);
}

/* Runs one check to its verdict. 0, or -errno if the loop failed. */
static int run_check(struct run *run, const struct ws_rfc862_check *k,
                     struct ws_rfc862_result *res) {
  struct check ck;
  int r;
  memset(&ck, 0, sizeof(ck));
  ck.run = run;
  ck.c = k;
  ck.res = res;
  res->check = k;
  res->first_difference = -1;
  res->eof_ms = -1;
  res->truncated_to = -1;
  ws_loop_update_time(run->loop);
  ck.t0 = ws_loop_now(run->loop);
  ws_timer_init(run->loop, &ck.deadline, on_deadline, &ck);
  ws_timer_init(run->loop, &ck.wait,
                k->proto == WS_RFC862_UDP ? udp_on_wait : tcp_on_wait, &ck);
  ws_timer_init(run->loop, &ck.aux, tcp_on_aux, &ck);
  ws_timer_start(&ck.deadline, run->opt.deadline_ms);
  r = k->proto == WS_RFC862_UDP ? udp_start(&ck) : tcp_start(&ck);
  if (r != 0) {
    say(&ck, "out of memory");
    finish(&ck, WS_RFC862_FAIL);
  }
  r = drive(run->loop, &ck.done);
  check_free(&ck);
  return r;
}

int ws_rfc862_run(const struct ws_addr *server, enum ws_rfc862_proto proto,
                  const struct ws_rfc862_check *const *checks, size_t n,
                  const struct ws_rfc862_options *opt,
                  struct ws_rfc862_result *results, char *err,
                  size_t errlen) {
  struct run run;
  int r = 0;
  set_err(err, errlen, "");
  if (server == NULL || (checks == NULL && n > 0) ||
      (results == NULL && n > 0) ||
      (server->sa.sa_family != AF_INET && server->sa.sa_family != AF_INET6)) {
    set_err(err, errlen, "invalid arguments");
    return WS_EINVAL;
  }
  for (size_t i = 0; i < n; i++)
    if (checks[i] == NULL || checks[i]->proto != proto) {
      set_err(err, errlen, "a check of the other protocol");
      return WS_EINVAL;
    }
  if (n > 0)
    memset(results, 0, n * sizeof(*results));
  memset(&run, 0, sizeof(run));
  run.addr = *server;
  fill_defaults(&run.opt, opt);
  run.loop = run.opt.loop;
  run.buf = malloc(READ_BUF);
  if (run.buf == NULL) {
    set_err(err, errlen, "out of memory");
    return WS_ENOMEM;
  }
  if (run.loop == NULL && (r = ws_loop_new(&run.loop, NULL, NULL)) != 0) {
    free(run.buf);
    ws_net_format_error(err, errlen, "event loop", NULL, r);
    return r;
  }
  r = probe(&run, proto, err, errlen);
  for (size_t i = 0; i < n && r == 0; i++) {
    r = run_check(&run, checks[i], &results[i]);
    if (r != 0)
      ws_net_format_error(err, errlen, "event loop", NULL, r);
    else if (run.opt.on_check_done != NULL)
      run.opt.on_check_done(&results[i], i + 1, n, run.opt.user);
  }
  if (r != 0 && n > 0)
    memset(results, 0, n * sizeof(*results));
  if (opt == NULL || opt->loop == NULL)
    ws_loop_free(run.loop);
  free(run.buf);
  return r;
}
