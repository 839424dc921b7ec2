/*
 * ws_rfc862.h: grading an RFC 862 echo service (`wsspec run tcp://HOST:PORT`
 * and `wsspec run udp://HOST:PORT`).
 *
 * RFC 862 is one page: over TCP "any data received is sent back ... until
 * the calling user terminates the connection"; over UDP "when a datagram
 * is received, the data from it is sent back in an answering datagram".
 * The checks below turn that into verdicts: every byte back verbatim and in
 * order (patterned data, so a reordered, dropped or corrupted byte shows as
 * the first differing offset), the rest echoed and the connection closed
 * after the client's half-close, many clients at once; for UDP each
 * datagram answered exactly once with its boundary (length) and content
 * kept, loss and truncation reported as such.
 *
 * The checks are data (struct ws_rfc862_check) with stable ids:
 * "tcp.G.N" and "udp.G.N", G a group, N < 10 within it, so the
 * prefix-anchored patterns of `wsspec run --cases` ("tcp.1.*", "udp.*")
 * select them as they select the Autobahn ids (ws_case_match()).
 *
 *   tcp.1.1-1.6  1 B, 100 B, 1,460 B, 64 KiB, 1 MiB, 4 MiB on one connection
 *   tcp.1.7      every size of 1.x in turn, each echoed before the next
 *   tcp.2.1      256 one-byte writes, each echoed before the next
 *   tcp.2.2      one 16 MiB write, larger than the socket buffers, read
 *                while it is written (a server must read while it writes)
 *   tcp.3.1-3.3  half-close (shutdown SHUT_WR) after 64 KiB, with 4 MiB in
 *                flight, and with no data: the rest echoed, then EOF
 *   tcp.4.1      64 clients at once, 64 KiB each, each its own data
 *   tcp.4.2      8 clients close early with the echo unread (their kernel
 *                resets the connection); the next client is still served
 *   udp.1.1-1.7  one datagram of 1, 512, 1472, 2048, 2049, 8192, 65507 B
 *   udp.2.1      8 datagrams of different sizes sent back to back
 *   udp.2.2      16 clients (distinct source ports), 4 datagrams each
 *
 * Execution: one check at a time, on one event loop (net_loop.h), over the
 * socket layer only (src/net); a check may open many connections or
 * sockets at once. Every check has a hard deadline, and a TCP check fails
 * early when no byte arrives for |stall_ms|, so a server that never
 * answers, closes at once or floods yields a verdict, never a hang. UDP
 * loss on loopback is retried (a fresh datagram, at most
 * WS_RFC862_UDP_RETRIES times) and the retries are reported.
 *
 * Reports: ws_rfc862_write_json() (DIR/rfc862.json) and
 * ws_rfc862_write_junit(); the summary of `wsspec run` is printed by
 * src/cli/cmd_run862.c.
 */
#ifndef WS_RFC862_H
#define WS_RFC862_H

#include <stddef.h>
#include <stdint.h>

#include "core/ws_core.h"
#include "net/net_addr.h"
#include "net/net_loop.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ws_rfc862_proto { WS_RFC862_TCP = 1, WS_RFC862_UDP = 2 };

/* What a check does (the engines in ws_rfc862.c). */
enum ws_rfc862_kind {
  WS_RFC862_TCP_BULK = 1, /* |clients| connections, |size| bytes each, all
                             written at once, read while written */
  WS_RFC862_TCP_TURNS,    /* one connection: |seg| sizes in turn, each
                             echoed before the next is written */
  WS_RFC862_TCP_HALF_CLOSE, /* |size| bytes, then shutdown(SHUT_WR): all
                               of it back, then EOF within eof_ms */
  WS_RFC862_TCP_EARLY_CLOSE, /* |clients| - 1 connections closed with the
                                echo unread, then one half-close client of
                                |size| bytes */
  WS_RFC862_UDP_DGRAMS    /* |clients| sockets, each sending the |seg|
                             sizes (or one datagram of |size|) */
};

/* One check. Strings are static. */
struct ws_rfc862_check {
  const char *id;          /* "tcp.1.4" */
  enum ws_rfc862_proto proto;
  enum ws_rfc862_kind kind;
  const char *title;       /* "64 KiB echoed verbatim" */
  const char *description; /* one sentence: what is sent, what must come
                              back */
  const char *section;     /* "RFC 862 (TCP); RFC 793 Section 3.5" */
  uint32_t size;           /* bytes per client / the datagram size */
  uint32_t clients;        /* connections or sockets at once (>= 1) */
  const uint32_t *seg;     /* sizes in turn (TURNS, DGRAMS); NULL: one of
                              |size| */
  uint32_t n_seg;
};

/* The catalogue, in id order (tcp.* then udp.*). */
size_t ws_rfc862_count(void);
/* The check at |i|, NULL when out of range. */
const struct ws_rfc862_check *ws_rfc862_get(size_t i);
/* The check with id |id| (exact), or NULL. */
const struct ws_rfc862_check *ws_rfc862_find(const char *id);

/*
 * Selects the checks of |proto| matched by any |include| pattern and by no
 * |exclude| pattern (ws_case_match() with WS_MATCH_PREFIX: a literal id,
 * or '*' wildcards anchored at the start), in catalogue order, into |out|
 * (ws_rfc862_count() entries always suffice). Patterns naming the other
 * protocol, or nothing, are not an error here: the caller decides (see
 * ws_rfc862_known()). Returns the number selected (0 possible), or
 * WS_EINVAL for NULL arrays with a count.
 */
ws_ssize ws_rfc862_select(enum ws_rfc862_proto proto,
                          const char *const *include, size_t n_include,
                          const char *const *exclude, size_t n_exclude,
                          const struct ws_rfc862_check **out, size_t out_cap);

/* Returns 1 when |pattern| matches at least one check of any protocol. */
int ws_rfc862_known(const char *pattern);

/* "tcp" / "udp". */
const char *ws_rfc862_proto_name(enum ws_rfc862_proto proto);

/* ------------------------------------------------------------ results */

enum ws_rfc862_verdict {
  WS_RFC862_NONE = 0, /* not run */
  WS_RFC862_PASS,
  WS_RFC862_FAIL
};

/* "PASS", "FAIL", "NONE". */
const char *ws_rfc862_verdict_name(enum ws_rfc862_verdict v);

/*
 * The outcome of one check: the verdict, a one-line reason with the
 * measured numbers ("2049-byte datagram answered with 2048 bytes:
 * truncated to 2048 bytes"), and the numbers themselves. Plain data.
 */
struct ws_rfc862_result {
  const struct ws_rfc862_check *check;
  enum ws_rfc862_verdict verdict;
  uint64_t duration_ms;
  int net_error;     /* the first socket error seen (net_error.h), or 0 */
  char reason[256];
  /* TCP */
  uint64_t bytes_sent;       /* by us, all clients */
  uint64_t bytes_echoed;     /* received and equal to what was sent */
  int64_t first_difference;  /* stream offset of the first wrong byte, or
                                -1 (none) */
  uint32_t clients;          /* connections opened (early ones included) */
  uint32_t clients_ok;       /* connections that got their echo */
  int64_t eof_ms;            /* half-close: ms from our half-close to the
                                server's EOF, -1 when none came */
  /* UDP */
  uint32_t datagrams;  /* distinct datagrams of the check */
  uint32_t sent;       /* datagrams sent, retries included */
  uint32_t answered;   /* datagrams answered with the right content */
  uint32_t duplicates; /* answers beyond the first to one datagram */
  uint32_t lost;       /* datagrams never answered, after the retries */
  uint32_t retries;    /* datagrams sent again after |reply_ms| */
  uint32_t truncated;  /* datagrams answered with a prefix */
  uint32_t stray;      /* answers matching no datagram, or from an
                          address other than the server's */
  int64_t truncated_to; /* length of the first truncated answer, or -1 */
};

/* Resends of an unanswered UDP datagram (each a fresh one). */
#define WS_RFC862_UDP_RETRIES 3u

/* Timing defaults (ms); see struct ws_rfc862_options. */
#define WS_RFC862_DEADLINE_MS 20000u
#define WS_RFC862_CONNECT_MS 5000u
#define WS_RFC862_STALL_MS 2000u
#define WS_RFC862_EOF_MS 2000u
#define WS_RFC862_REPLY_MS 500u
#define WS_RFC862_GRACE_MS 100u

struct ws_rfc862_options {
  /* 0 for each field gives the WS_RFC862_*_MS default. */
  uint64_t deadline_ms; /* hard limit of one check */
  uint64_t connect_ms;  /* one TCP connect */
  uint64_t stall_ms;    /* TCP: no byte while bytes are due */
  uint64_t eof_ms;      /* TCP: everything echoed after our half-close,
                           and no EOF yet */
  uint64_t reply_ms;    /* UDP: wait for an answer before a retry */
  uint64_t grace_ms;    /* UDP: after the last answer, wait this long for
                           duplicates */
  /* The loop to run on, NULL: a private one. With a caller's loop (tests
   * running servers on it) other handles may be active; the run drives it
   * with WS_RUN_ONCE until its checks are done. */
  ws_loop *loop;
  /* Called from the loop after each check, in order. May be NULL. */
  void (*on_check_done)(const struct ws_rfc862_result *r, size_t done,
                        size_t total, void *user);
  void *user;
};

/*
 * Runs |checks[0..n)| (all of |proto|) one after another against |server|
 * and stores the outcome of checks[i] in results[i]. First a reachability
 * probe: TCP, one connect (then closed); UDP, one datagram from a
 * connected socket, which reports a refused port (ICMP) as -ECONNREFUSED.
 * Blocks until every check has a verdict.
 *
 * Returns 0 when every check ran (whatever the verdicts), or, with a
 * one-line reason in |err| (|errlen| bytes, may be 0) and |results| left
 * zeroed:
 *   -errno     the probe failed: -ECONNREFUSED, -ETIMEDOUT (connect),
 *              -EHOSTUNREACH...; or the loop could not start
 *   WS_EINVAL  a check of the other protocol, |server| not IPv4/IPv6
 *   WS_ENOMEM
 */
int ws_rfc862_run(const struct ws_addr *server, enum ws_rfc862_proto proto,
                  const struct ws_rfc862_check *const *checks, size_t n,
                  const struct ws_rfc862_options *opt,
                  struct ws_rfc862_result *results, char *err, size_t errlen);

/* ------------------------------------------------------------ reports */

/* One agent's results, for the reports. */
struct ws_rfc862_agent {
  const char *agent;  /* the report key ("xinetd", "127.0.0.1:7") */
  const char *url;    /* "udp://127.0.0.1:7" */
  const struct ws_rfc862_result *results;
  size_t n;
};

/*
 * Writes |path| (rfc862.json; the directory must exist), string-sorted
 * keys, 3-space indentation (JSON_SORT_KEYS | JSON_INDENT(3)):
 *
 *   { AGENT: { CHECK_ID: {
 *       "verdict": "PASS" | "FAIL",
 *       "reason": "one line",
 *       "duration": ms (integer),
 *       "description": ..., "section": ..., "url": "tcp://...",
 *       TCP: "bytesSent", "bytesEchoed", "clients", "clientsOk",
 *            "firstDifference" (offset or null), "eofMs" (null if none;
 *            half-close checks only)
 *       UDP: "datagrams", "sent", "answered", "duplicates", "lost",
 *            "retries", "truncated", "stray", "truncatedTo" (null if none)
 *   } } }
 *
 * Agents with the same name are merged (tcp.* and udp.* ids do not
 * collide); a check id twice under one agent is WS_EINVAL. Written to
 * PATH.tmp, then renamed. Returns 0, or with a one-line reason in |err|
 * (|errlen| bytes, may be 0): WS_EINVAL (an agent without a name, a result
 * without a check), WS_ENOMEM, or -errno (the file cannot be written).
 */
int ws_rfc862_write_json(const char *path, const struct ws_rfc862_agent *a,
                         size_t n_agents, char *err, size_t errlen);

/*
 * JUnit XML at |path|: one <testsuite name="wsspec.rfc862.AGENT"> per
 * agent, one <testcase classname="AGENT.tcp" name="ID TITLE"
 * time="SECONDS"> per check; a failed check gets <failure
 * message=REASON> whose text has "Expected:" (the check's description),
 * "Actual:" (the reason) and "Section:" lines. Like ws_rfc862_write_json:
 * the directories |path| goes in are created, the file is written to
 * PATH.tmp and renamed, and the return codes are the same.
 */
int ws_rfc862_write_junit(const char *path, const struct ws_rfc862_agent *a,
                          size_t n_agents, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* WS_RFC862_H */
