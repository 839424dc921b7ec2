/*
 * ws_runner.c: drives ws_fuzzer instances over TCP on one event loop.
 *
 * Each case is a job: connect, then shuttle bytes between the socket and
 * its fuzzer, and arm one timer at the fuzzer's next deadline. Write units
 * marked YIELD (Autobahn's chopped writes) are followed by a zero-delay
 * timer, so the next piece goes out on a later loop turn, in a TCP segment
 * of its own (TCP_NODELAY is on, as in Autobahn).
 */
#include "conformance/ws_runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "net/net_error.h"
#include "net/net_loop.h"
#include "net/net_stream.h"
#include "net/net_tcp.h"
#include "net/ws_client.h"

#define READ_BUFFER (256u * 1024u)
#define CONNECT_TIMEOUT_MS 5000u
#define DRAIN_READS 64 /* before a timer fires: up to 16 MiB */

struct runner;

struct job {
  struct runner *run;
  size_t index;
  ws_fuzzer *fz;
  struct ws_connect conn;
  struct ws_stream stream;
  struct ws_timer timer; /* the fuzzer's next deadline */
  struct ws_timer turn;  /* the next write unit after a YIELD */
  uint8_t connecting, streaming, yielding;
};

struct runner {
  ws_loop *loop;
  const struct ws_case *const *cases;
  size_t n, next, done, active;
  struct ws_case_result *results;
  const struct ws_runner_options *opt;
  struct ws_client_target target;
  struct ws_client_options req;
  const char *protocols[16];
  uint8_t *buf;
  struct job *jobs;
  int error;
};

static uint64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void start_next(struct runner *run, struct job *j);

/* The job's case is graded: store the result, free the fuzzer, and start
 * the next case in this slot. */
static void finish(struct job *j) {
  struct runner *run = j->run;
  struct ws_case_result *r = &run->results[j->index];
  ws_timer_stop(&j->timer);
  ws_timer_stop(&j->turn);
  if (ws_fuzzer_result(j->fz, r) != 0)
    run->error = WS_ENOMEM;
  ws_fuzzer_del(j->fz);
  j->fz = NULL;
  run->done++;
  run->active--;
  if (run->opt->on_case_done != NULL)
    run->opt->on_case_done(r, run->done, run->n, run->opt->user);
  start_next(run, j);
}

static void lost(struct job *j, int by_me, int error) {
  if (j->streaming) {
    ws_stream_close(&j->stream);
    j->streaming = 0;
  }
  ws_fuzzer_transport_lost(j->fz, ws_loop_now(j->run->loop), by_me, error);
  finish(j);
}

static int drain(struct job *j, int reads);

/*
 * The socket failed (a write got EPIPE or ECONNRESET, or the stream
 * reported an error). A server that refuses a message often sends its
 * Close (1009) and resets the connection at once: that Close is still in
 * the receive queue, and Autobahn, which reads before it writes, records
 * it. So read what the socket holds first, then end the case.
 */
static void failed(struct job *j, int error) {
  if (j->streaming && !drain(j, DRAIN_READS))
    return;
  if (j->fz != NULL)
    lost(j, 0, error);
}

/* Writes what the fuzzer has to send, re-arms the timers, and ends the
 * connection when the fuzzer or the socket says so. */
static void pump(struct job *j) {
  uint64_t now = ws_loop_now(j->run->loop), next;
  const uint8_t *p;
  unsigned flags;
  size_t n;
  if (j->fz == NULL)
    return;
  while (!j->yielding && !ws_fuzzer_want_drop(j->fz) &&
         (n = ws_fuzzer_output(j->fz, &p, &flags)) > 0) {
    int e = ws_stream_write(&j->stream, p, n);
    if (e != 0) {
      failed(j, e);
      return;
    }
    ws_fuzzer_written(j->fz, n, now);
    if (flags & WS_FUZZER_OUT_YIELD) {
      j->yielding = 1;
      ws_timer_start(&j->turn, 0);
    }
  }
  if (ws_fuzzer_want_drop(j->fz)) {
    lost(j, 1, 0);
    return;
  }
  next = ws_fuzzer_next_timer(j->fz);
  if (next == UINT64_MAX)
    ws_timer_stop(&j->timer);
  else
    ws_timer_start(&j->timer, next > now ? next - now : 0);
}

static void on_turn(struct ws_timer *t, void *user) {
  struct job *j = user;
  (void)t;
  j->yielding = 0;
  pump(j);
}

/*
 * Reads what the socket holds, EOF included, in at most |reads| reads.
 * Returns 0 when the job ended.
 *
 * Readiness reads once: the poll is level-triggered, so the rest comes on
 * the next pass, after every other case had its turn. Reading a busy
 * socket dry instead (a 9.x echo refills it as fast as it empties) let one
 * case hold the loop for hundreds of ms, and stale time on the others.
 *
 * A timer must not fire on stale input: after a stall of the runner (a
 * loaded machine, 32 cases of 9.x traffic, ASan) the loop runs due timers
 * before polling the sockets, and a drop timeout would then blame a server
 * whose EOF is already waiting to be read. So before a timer and after a
 * write error, up to DRAIN_READS reads.
 */
static int drain(struct job *j, int reads) {
  struct runner *run = j->run;
  for (int i = 0; i < reads && j->streaming; i++) {
    ws_ssize n = ws_stream_read(&j->stream, run->buf, READ_BUFFER);
    if (n == WS_EAGAIN || n == -EAGAIN)
      return 1;
    if (n <= 0) {
      lost(j, 0, n == 0 ? 0 : (int)n);
      return 0;
    }
    ws_fuzzer_recv(j->fz, run->buf, (size_t)n, ws_loop_now(run->loop));
    if (ws_fuzzer_want_drop(j->fz))
      return 1;
  }
  return 1;
}

static void on_timer(struct ws_timer *t, void *user) {
  struct job *j = user;
  (void)t;
  if (j->streaming && !drain(j, DRAIN_READS))
    return;
  ws_fuzzer_tick(j->fz, ws_loop_now(j->run->loop));
  pump(j);
}

static void on_stream(struct ws_stream *s, enum ws_stream_event ev,
                      int status, void *user) {
  struct job *j = user;
  (void)s;
  if (ev == WS_STREAM_ERROR) {
    failed(j, status);
    return;
  }
  if (ev == WS_STREAM_READABLE && drain(j, 1))
    pump(j);
}

static void on_connect(struct ws_connect *c, int fd, int status,
                       void *user) {
  struct job *j = user;
  struct runner *run = j->run;
  char text[160];
  int e;
  (void)c;
  j->connecting = 0;
  if (status != 0) {
    char where[96];
    ws_addr_format(where, sizeof(where), &run->target.addr);
    snprintf(text, sizeof(text), "cannot connect to %s: %s", where,
             ws_net_strerror(status));
    ws_fuzzer_connect_failed(j->fz, status, text);
    finish(j);
    return;
  }
  (void)ws_tcp_nodelay(fd, 1);
  e = ws_stream_start(run->loop, &j->stream, fd, NULL, 0, on_stream, j);
  if (e != 0) {
    ws_net_close(fd);
    ws_fuzzer_connect_failed(j->fz, e, "cannot watch the socket");
    finish(j);
    return;
  }
  j->streaming = 1;
  ws_fuzzer_set_started(j->fz, wall_ms());
  e = ws_fuzzer_start(j->fz, ws_loop_now(run->loop));
  if (e != 0) {
    lost(j, 1, 0);
    return;
  }
  pump(j);
}

static void start_next(struct runner *run, struct job *j) {
  struct ws_fuzzer_config cfg;
  int e;
  while (run->next < run->n) {
    size_t i = run->next++;
    memset(&cfg, 0, sizeof(cfg));
    cfg.kase = run->cases[i];
    cfg.number = 0;
    for (size_t k = 0; k < ws_case_count(); k++)
      if (ws_case_get(k) == cfg.kase) {
        cfg.number = (uint32_t)(k + 1);
        break;
      }
    cfg.request = &run->req;
    cfg.random = run->opt->random;
    cfg.random_user = run->opt->random_user;
    cfg.wirelog = !run->opt->no_wirelog;
    cfg.max_case_ms = run->opt->max_case_ms;
    e = ws_fuzzer_new(&j->fz, &cfg);
    if (e != 0) {
      run->error = e;
      run->done++;
      continue;
    }
    j->index = i;
    j->yielding = 0;
    run->active++;
    e = ws_connect_start(run->loop, &j->conn, &run->target.addr,
                         CONNECT_TIMEOUT_MS, on_connect, j);
    if (e != 0) {
      char text[128];
      snprintf(text, sizeof(text), "cannot create a socket: %s",
               ws_net_strerror(e));
      ws_fuzzer_connect_failed(j->fz, e, text);
      finish(j);
      return;
    }
    j->connecting = 1;
    return;
  }
  if (run->active == 0)
    ws_loop_stop(run->loop);
}

static int setup(struct runner *run, const struct ws_runner_target *t,
                 char *err, size_t errlen) {
  int e = ws_client_target_parse(&run->target, t->url, err, errlen);
  if (e != 0)
    return e == -EPROTONOSUPPORT ? WS_EINVAL : e;
  ws_client_target_request(&run->target, &run->req);
  run->req.origin = t->origin;
  if (t->n_protocols > sizeof(run->protocols) / sizeof(run->protocols[0])) {
    snprintf(err, errlen, "too many subprotocols (at most %zu)",
             sizeof(run->protocols) / sizeof(run->protocols[0]));
    return WS_EINVAL;
  }
  for (size_t i = 0; i < t->n_protocols; i++)
    run->protocols[i] = t->protocols[i];
  run->req.protocols = run->protocols;
  run->req.num_protocols = t->n_protocols;
  return 0;
}

int ws_runner_run(const struct ws_runner_target *t,
                  const struct ws_case *const *cases, size_t n,
                  const struct ws_runner_options *opt,
                  struct ws_case_result *results, char *err, size_t errlen) {
  static const struct ws_runner_options defaults;
  struct runner run;
  char dummy[1];
  size_t jobs;
  int e;
  if (err == NULL || errlen == 0) {
    err = dummy;
    errlen = sizeof(dummy);
  }
  err[0] = '\0';
  if (t == NULL || t->url == NULL || (n > 0 && (cases == NULL ||
                                                results == NULL))) {
    snprintf(err, errlen, "invalid arguments");
    return WS_EINVAL;
  }
  memset(results, 0, n * sizeof(*results));
  memset(&run, 0, sizeof(run));
  run.cases = cases;
  run.n = n;
  run.results = results;
  run.opt = opt ? opt : &defaults;
  e = setup(&run, t, err, errlen);
  if (e != 0)
    return e;
  if (n == 0)
    return 0;
  jobs = run.opt->jobs ? run.opt->jobs : WS_RUNNER_DEFAULT_JOBS;
  if (jobs > n)
    jobs = n;
  (void)ws_net_ignore_sigpipe();
  e = ws_loop_new(&run.loop, NULL, NULL);
  if (e != 0) {
    snprintf(err, errlen, "cannot create the event loop: %s",
             ws_net_strerror(e));
    return e;
  }
  run.buf = malloc(READ_BUFFER);
  run.jobs = calloc(jobs, sizeof(*run.jobs));
  if (run.buf == NULL || run.jobs == NULL) {
    free(run.buf);
    free(run.jobs);
    ws_loop_free(run.loop);
    snprintf(err, errlen, "out of memory");
    return WS_ENOMEM;
  }
  for (size_t i = 0; i < jobs; i++) {
    struct job *j = &run.jobs[i];
    j->run = &run;
    ws_timer_init(run.loop, &j->timer, on_timer, j);
    ws_timer_init(run.loop, &j->turn, on_turn, j);
  }
  for (size_t i = 0; i < jobs; i++)
    start_next(&run, &run.jobs[i]);
  if (run.active > 0)
    e = ws_loop_run(run.loop, WS_RUN_DEFAULT);
  free(run.buf);
  free(run.jobs);
  ws_loop_free(run.loop);
  if (e < 0 || run.error != 0) {
    for (size_t i = 0; i < n; i++)
      ws_case_result_free(&results[i]);
    snprintf(err, errlen, "the runner failed: %s",
             e < 0 ? ws_net_strerror(e) : "out of memory");
    return e < 0 ? e : run.error;
  }
  return 0;
}

const char *ws_runner_agent(const struct ws_runner_target *t,
                            const struct ws_case_result *results, size_t n) {
  if (t != NULL && t->agent != NULL && t->agent[0] != '\0')
    return t->agent;
  for (size_t i = 0; i < n; i++)
    if (results[i].server_header != NULL && results[i].server_header[0])
      return results[i].server_header;
  return "UnknownServer";
}
