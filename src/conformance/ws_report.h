/*
 * ws_report.h: the reports of a conformance run.
 *
 * From the graded results of ws_runner_run() (one array per server, or
 * "agent"), this module writes:
 *
 *   - DIR/index.json and DIR/<agent>_case_<id>.json in the exact layout of
 *     Autobahn|Testsuite 25.10.1 (docs/conformance.md, section
 *     b), so every existing index.json consumer works unchanged;
 *   - DIR/index.html and DIR/<agent>_case_<id>.html, a self-contained
 *     browsable report (inline CSS, no script, no external resource);
 *   - a JUnit XML file, one testcase per case;
 *
 * and compares a run with a golden index.json (`wsspec run --expect`).
 *
 * File names: <agent> is ws_report_agent_slug() of the agent name and
 * <id> the case id with every '.' turned into '_' (ws_report_case_file()).
 *
 * Text that came from the peer (payloads, handshake, close reasons, the
 * Server header as an agent name) is never trusted: JSON strings replace
 * invalid UTF-8 with U+FFFD; HTML and XML escape & < > " ' and replace
 * invalid UTF-8, control characters other than TAB/LF/CR, U+FFFE and
 * U+FFFF with U+FFFD, so the files stay well-formed whatever the peer
 * sent.
 *
 * Files are written to "<name>.tmp" and renamed into place, so a reader
 * never sees half a file. The writers read no clock ("started" comes from
 * the results) and keep no global state. Their own allocations and
 * Jansson's go through Jansson's allocator (json_set_alloc_funcs()).
 */
#ifndef WS_REPORT_H
#define WS_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conformance/ws_case.h"
#include "conformance/ws_fuzzer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Room for the longest ws_report_payload_text() result plus the NUL:
 * "0x", 128 hex digits, " ...". */
#define WS_REPORT_PAYLOAD_MAX 136u

/* One server's results. */
struct ws_report_agent {
  const char *agent; /* agent name as shown (required, NUL-terminated) */
  const struct ws_case_result *results; /* results[0..n), each with kase */
  size_t n;
};

/*
 * Autobahn's file-name form of an agent name (cleanForFilename):
 * lower-cased, every character outside [a-z0-9] (one per UTF-8 character)
 * turned into a space, leading and trailing spaces trimmed, the remaining
 * spaces turned into '_': "AutobahnPython/0.10.9" -> "autobahnpython_0_10_9",
 * "My  Server " -> "my__server".
 *
 * snprintf-like: writes at most size - 1 characters and a NUL to |buf|
 * (nothing when |size| is 0; |buf| may then be NULL) and returns the
 * length of the whole slug. |agent| NULL is treated as "".
 */
size_t ws_report_agent_slug(char *buf, size_t size, const char *agent);

/*
 * The report file name of case |id| for |agent|:
 * "<slug>_case_<id with '.' -> '_'>.<ext>" ("myserver_case_6_4_3.json").
 * snprintf-like, as ws_report_agent_slug().
 */
size_t ws_report_case_file(char *buf, size_t size, const char *agent,
                           const char *id, const char *ext);

/*
 * Autobahn's rendering of a payload in reports (asciiLogData): |data|
 * holds the first |n| octets of a payload of |len| octets (n <= len). Of
 * the first min(n, 64) octets, with " ..." appended when len > 60 (sic:
 * Autobahn's test is "longer than 64 - len(' ...')"):
 *   - the octets themselves when they are valid UTF-8 (ws_utf8_validate;
 *     a multi-octet character cut at octet 64 makes them invalid),
 *   - else "0x" followed by their lower-case hex.
 * "Hello" -> "Hello"; 00 ff -> "0x00ff"; 125 x 'a' -> 64 x 'a' + " ...".
 *
 * snprintf-like: writes at most size - 1 octets and a NUL, returns the
 * full length (always < WS_REPORT_PAYLOAD_MAX). Valid UTF-8 may contain
 * NUL octets: use the returned length, not strlen(). |data| may be NULL
 * when |n| is 0.
 */
size_t ws_report_payload_text(char *buf, size_t size, const uint8_t *data,
                              size_t n, uint64_t len);

/*
 * The pass rule of `wsspec run`: behavior is OK, NON-STRICT or
 * INFORMATIONAL (or UNIMPLEMENTED when |strict| is 0) and behaviorClose is
 * OK or INFORMATIONAL. Returns 1 (pass) or 0 (fail; also for NULL).
 */
int ws_result_passes(const struct ws_case_result *r, int strict);

/* Counts of one agent's results. */
struct ws_report_counts {
  size_t total;              /* results */
  size_t behavior[9];        /* by behavior, indexed by enum ws_verdict */
  size_t behavior_close[9];  /* by behaviorClose, indexed the same way */
  size_t failed;             /* results failing ws_result_passes(strict) */
  size_t errors;             /* results with an error text (never opened) */
};

/* Fills |out| with the counts of |a|. Out-of-range verdicts count as
 * WS_VERDICT_NONE. */
void ws_report_count(const struct ws_report_agent *a, int strict,
                     struct ws_report_counts *out);

/*
 * Writes DIR/index.json and, for every result of every agent,
 * DIR/<slug>_case_<id>.json, creating DIR and its parents (mkdir -p).
 *
 * index.json: {agent: {case id: {behavior, behaviorClose, duration,
 * remoteCloseCode (int or null), reportfile}}}, keys sorted as strings,
 * 3-space indentation, no trailing newline (Python's json.dumps).
 *
 * Per-case file: every key of Autobahn's per-case report (autobahn.md
 * b.2), with these choices where Autobahn's value cannot be had:
 *   - httpRequest / httpResponse: "?" when the result has none (Autobahn's
 *     own fallback);
 *   - createWirelog: false when no wire-log row was recorded or the last
 *     WLM row switched the log off;
 *   - trafficStats: null; isServer: false; createStats: true;
 *   - expected: {} for self-graded and informational cases;
 *   - timer delays (CT, KL, TI rows) in seconds, an integer when whole;
 *   - TF repeatLength: null;
 * plus one key of wsspec's own, "wsspec": {section, error (null when
 * empty), deadlineHit, eventsTotal, wireTruncated}.
 *
 * Returns 0, or with a one-line reason in |err| (|errlen| bytes, may be
 * 0):
 *   WS_EINVAL  a NULL argument, an agent without a name, a result without
 *              a case, two agents with the same name or file-name slug, a
 *              case twice for one agent, or a path too long
 *   -errno     DIR cannot be created or a file cannot be written
 *   WS_ENOMEM
 * Files already written stay; no "*.tmp" file is left behind.
 */
int ws_report_write_json(const char *dir, const struct ws_report_agent *a,
                         size_t n_agents, char *err, size_t errlen);

/*
 * Writes DIR/index.html and DIR/<slug>_case_<id>.html for every result,
 * creating DIR. index.html: a legend, per-agent verdict counts, the list
 * of cases failing the pass rule (ws_result_passes with |strict|), then
 * the table of every case of any agent in Autobahn order with a header row
 * per category and subcategory, two cells per agent (behavior, linked to
 * the case page, with the duration for WS_CASE_F_REPORT_TIME cases; the
 * close cell: the peer's close code, "Unclean", "Fail", "Wrong code"...),
 * "Missing" where an agent has no result, then every case's description.
 * The case page: summary, description, expectation, expected vs observed
 * events, the closing-behaviour flags with their meaning, the handshake,
 * octet and frame statistics, and the wire log with times.
 *
 * Returns as ws_report_write_json().
 */
int ws_report_write_html(const char *dir, const struct ws_report_agent *a,
                         size_t n_agents, int strict, char *err,
                         size_t errlen);

/*
 * Writes a JUnit XML file at |path| (its directory must exist):
 * <testsuites> with one <testsuite name="wsspec.<agent>"> per agent and
 * one <testcase classname="<agent>.<category title>" name="<id>
 * <description, shortened>" time="<seconds>"> per result. A result failing
 * ws_result_passes(r, strict) gets a <failure message="behavior X,
 * behaviorClose Y"> whose text has an "Expected:" line (the expectation
 * and the close rule) and an "Actual:" line (result, resultClose, the
 * received events, the peer's close code); UNIMPLEMENTED results that pass
 * get <skipped/>, INFORMATIONAL ones a <system-out> with the same text.
 *
 * The directories |path| goes in are created. Returns as
 * ws_report_write_json().
 */
int ws_report_write_junit(const char *path, const struct ws_report_agent *a,
                          size_t n_agents, int strict, char *err,
                          size_t errlen);

/*
 * Compares the results with a golden index.json (Autobahn's layout).
 * Per (agent, case id) it compares behavior, behaviorClose and
 * remoteCloseCode (when the golden entry has the key); duration and
 * reportfile are ignored. Agents are paired by name; when the golden file
 * and |a| both hold exactly one agent, they are paired whatever their
 * names.
 *
 * Writes one line per differing (agent, case) to |out| (may be NULL):
 *   "6.4.3: behavior NON-STRICT, expected OK"
 *   "7.1.1: behaviorClose WRONG CODE, expected OK; remoteCloseCode 1002,
 *    expected 1000"                                  (one line)
 *   "9.1.1: missing (expected behavior OK, behaviorClose OK)"
 *   "9.1.2: not in the golden file (behavior OK, behaviorClose OK)"
 * prefixed with "[<agent>] " when more than one agent is involved. Our
 * cases come in result order, golden-only ones after them in Autobahn
 * order; an agent present on one side only makes each of its cases a
 * difference.
 *
 * Returns the number of differing (agent, case) pairs (0: identical), or
 * with a one-line reason in |err|:
 *   -errno     the golden file cannot be opened
 *   WS_EINVAL  it is not JSON, or not {agent: {id: {behavior (string),
 *              behaviorClose (string), remoteCloseCode (int or null,
 *              optional)}}}; or invalid agents as for the writers
 *   WS_ENOMEM  (Jansson's parser reports some allocation failures as
 *              invalid JSON, that is WS_EINVAL)
 */
int ws_report_compare_golden(const char *golden_path,
                             const struct ws_report_agent *a,
                             size_t n_agents, FILE *out, char *err,
                             size_t errlen);

/* ---- Internal: shared by the ws_report_*.c files, not an API -------- */

/* Allocation through Jansson's allocator functions. */
void *ws__report_alloc(size_t size);
void ws__report_free(void *p);

/* Formats a one-line reason into |err| (nothing when errlen is 0) and
 * returns |code|. */
int ws__report_fail(char *err, size_t errlen, int code, const char *fmt,
                    ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Validates the arguments of the writers (see ws_report_write_json). */
int ws__report_check(const struct ws_report_agent *a, size_t n_agents,
                     char *err, size_t errlen);

/* mkdir -p |dir|. Returns 0, -errno (reason in err). */
int ws__report_mkdirs(const char *dir, char *err, size_t errlen);

/* mkdir -p of the directory |path| is in (nothing for a bare name).
 * Returns as ws__report_mkdirs(). */
int ws__report_parent_dirs(const char *path, char *err, size_t errlen);

#define WS__REPORT_PATH_MAX 4096u

/* A file written to "<path>.tmp", renamed to <path> by a successful close. */
struct ws__report_file {
  FILE *f;
  char path[WS__REPORT_PATH_MAX];
  char tmp[WS__REPORT_PATH_MAX + 4];
};

/* Opens DIR/NAME (|dir| NULL: |name| is the path). Returns 0, WS_EINVAL
 * (path too long) or -errno. */
int ws__report_open(struct ws__report_file *rf, const char *dir,
                    const char *name, char *err, size_t errlen);

/* Closes the file; renames it into place when |ok| and every write
 * succeeded, else removes it. Returns 0 or -errno (EIO when a write had
 * failed). */
int ws__report_close(struct ws__report_file *rf, int ok, char *err,
                     size_t errlen);

/* Length of the UTF-8 character at p[0..n) (n >= 1) and whether it is
 * valid; an invalid one has length 1. */
size_t ws__report_utf8_char(const uint8_t *p, size_t n, int *valid);

/* Writes s[0..n) to |f| escaped for HTML and XML text and attributes. */
void ws__report_escape(FILE *f, const char *s, size_t n);

/* Lower-case hex of the first min(n, 64) octets, plus " ..." when
 * len > 60 (Autobahn's binLogData). snprintf-like. */
size_t ws__report_hex(char *buf, size_t size, const uint8_t *data, size_t n,
                      uint64_t len);

/* "2025-11-20T10:00:00.123Z" (24 characters and a NUL) into |buf|. */
void ws__report_iso_time(char buf[32], uint64_t unix_ms);

/* The close rule of |c| in words ("the fuzzer closes; peer close code
 * 1000; clean close required"). snprintf-like. */
size_t ws__report_close_rule(char *buf, size_t size, const struct ws_case *c);

/* Category title of |c|, "Misc" when the category has none. */
const char *ws__report_category(const struct ws_case *c);

/* A verdict's report name, "?" when out of range. */
const char *ws__report_verdict(unsigned v);

#ifdef __cplusplus
}
#endif

#endif /* WS_REPORT_H */
