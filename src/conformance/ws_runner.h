/*
 * ws_runner.h: runs conformance cases against a WebSocket server over real
 * sockets: one TCP connection per case, several cases at a time on one
 * event loop (net_loop.h), each executed and graded by a ws_fuzzer
 * (ws_fuzzer.h). Concurrency never changes a verdict: cases share nothing
 * but the loop.
 */
#ifndef WS_RUNNER_H
#define WS_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "conformance/ws_case.h"
#include "conformance/ws_fuzzer.h"
#include "core/ws_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default number of cases run at once. */
#define WS_RUNNER_DEFAULT_JOBS 32u

/* The server under test (one entry of Autobahn's "servers"). Strings are
 * NUL-terminated and only read during ws_runner_run(). */
struct ws_runner_target {
  const char *url;    /* required: ws://host[:port][/path] */
  const char *agent;  /* NULL: the response's Server header, else
                         "UnknownServer" (as Autobahn) */
  const char *origin; /* NULL: no Origin header */
  const char *const *protocols; /* subprotocols to offer */
  size_t n_protocols;
};

struct ws_runner_options {
  unsigned jobs;       /* cases at once; 0: WS_RUNNER_DEFAULT_JOBS */
  uint8_t no_wirelog;  /* 1: do not record wire logs (saves memory) */
  uint32_t max_case_ms; /* caps each case's hard deadline (see
                           ws_fuzzer_config); 0: Autobahn's timers */
  /* Called from the loop after each case is graded, in completion order:
   * |done| of |total| finished. May be NULL. */
  void (*on_case_done)(const struct ws_case_result *r, size_t done,
                       size_t total, void *user);
  void *user;
  ws_random_fn random; /* NULL: OpenSSL */
  void *random_user;
};

/*
 * Runs |cases[0..n)| against |t| and stores the result of cases[i] in
 * results[i] (the caller frees each with ws_case_result_free()). Cases
 * whose TCP connect fails end FAILED with connect_failed set; the others
 * still run. Blocks until every case is graded.
 *
 * Returns 0 when every case ran (whatever the verdicts), or, with a
 * one-line reason in |err| (|errlen| bytes, may be 0):
 *   WS_EINVAL  the URL is not ws://HOST[:PORT][/PATH] (wss:// comes later)
 *   -errno     the host does not resolve or the event loop cannot start
 *   WS_ENOMEM
 * On error, |results| is left zeroed.
 */
int ws_runner_run(const struct ws_runner_target *t,
                  const struct ws_case *const *cases, size_t n,
                  const struct ws_runner_options *opt,
                  struct ws_case_result *results, char *err, size_t errlen);

/* The agent name of a run: |t|->agent, else the first Server header seen
 * in |results|, else "UnknownServer". Static or owned by the arguments. */
const char *ws_runner_agent(const struct ws_runner_target *t,
                            const struct ws_case_result *results, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* WS_RUNNER_H */
