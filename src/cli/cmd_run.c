/*
 * cmd_run.c: `wsspec run`, the conformance runner (conformance/ws_runner.h)
 * on the command line. The command line or an Autobahn fuzzingclient spec
 * file gives the servers and the case selection; each server runs through
 * its cases in turn under its own agent name; then the reports
 * (conformance/ws_report.h), a summary on stdout and the exit code.
 *
 * The exit code is the CI contract Autobahn never had (its wstest always
 * exits 0, so every project parses index.json itself): 0 pass, 1 a case
 * failed, 2 the run itself could not be done as asked.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_run.h"
#include "cmd_run862.h"
#include "conformance/ws_case.h"
#include "conformance/ws_fuzzer.h"
#include "conformance/ws_report.h"
#include "conformance/ws_runner.h"
#include "net/net_addr.h"
#include "net/net_error.h"

/* Autobahn's fuzzingclient default outdir. */
#define DEFAULT_REPORT_DIR "./reports/servers"
#define MAX_JOBS 4096u
/* Exit codes (cmd_run.h). */
#define EXIT_PASS 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
/* parse_args(): keep going. */
#define GO_ON (-1)

static const char usage_text[] =
    "usage: wsspec run URL... [options]\n"
    "       wsspec run --spec fuzzingclient.json [options]\n"
    "\n"
    "Grades WebSocket servers with the Autobahn|Testsuite cases (categories\n"
    "1-7, 9 and 10; `wsspec list` shows them), verdict for verdict as\n"
    "Autobahn does. URL is ws://HOST[:PORT][/PATH]. Every case runs on its\n"
    "own TCP connection, --jobs cases at a time. Several URLs run one after\n"
    "another, each under its own agent name. (tcp:// and udp:// URLs get\n"
    "the RFC 862 echo checks instead: wsspec run tcp://HOST:PORT --help.)\n"
    "\n"
    "options:\n"
    "  --cases P[,P]      run the cases matching these patterns (default *):\n"
    "                     a case id (6.4.3) or a pattern whose '*' matches\n"
    "                     anything, anchored at the start only (6.4.* is\n"
    "                     6.4.x; 1* is 1.x and 10.x); repeatable\n"
    "  --exclude P[,P]    skip the cases matching these patterns (repeatable)\n"
    "  --agent NAME       the agent name in the reports, once per URL in\n"
    "                     order (default: the server's Server header, else\n"
    "                     UnknownServer)\n"
    "  --report-dir DIR   where the reports go (default ./reports/servers):\n"
    "                     index.json, index.html and AGENT_case_ID.json\n"
    "  --junit FILE       also write JUnit XML, one testcase per case\n"
    "  --jobs N           cases run at once (default %u)\n"
    "  --expect GOLDEN    compare the results with a golden index.json\n"
    "                     (durations ignored); GOLDEN is then the pass rule\n"
    "  --strict           UNIMPLEMENTED fails\n"
    "  --extended         also run wsspec's own cases beyond Autobahn's\n"
    "  --spec FILE        an Autobahn fuzzingclient spec: outdir, servers\n"
    "                     (agent, url, origin, protocols), cases,\n"
    "                     exclude-cases, exclude-agent-cases; --cases,\n"
    "                     --report-dir and --agent override it, --exclude\n"
    "                     adds to it\n"
    "  --quiet            print only the failing cases and the report path\n"
    "  --help             print this help and exit\n"
    "\n"
    "Pass rule: behavior is OK, NON-STRICT or INFORMATIONAL (or\n"
    "UNIMPLEMENTED, unless --strict) and behaviorClose is OK or\n"
    "INFORMATIONAL.\n"
    "Exit codes: 0 every case passes (with --expect: no difference); 1 a\n"
    "case failed (with --expect: a difference); 2 usage error, bad spec\n"
    "file, unknown case id, unreachable server or unwritable report.\n";

/* ------------------------------------------------------------- strings */

/* A growable list of owned strings. */
/* ------------------------------------------------------- configuration */

struct server {
  char *url;
  char *agent;  /* NULL: from the Server header */
  char *origin; /* NULL: no Origin header */
  struct ws_cli_strv protocols;
};

/* One "exclude-agent-cases" entry: agent pattern -> case patterns. */
struct agent_exclusion {
  char *agent;
  struct ws_cli_strv cases;
};

struct run_cfg {
  struct server *servers;
  size_t n_servers, cap_servers;
  struct ws_cli_strv urls, agents;  /* from the command line */
  struct ws_cli_strv include, exclude;
  struct agent_exclusion *aex;
  size_t n_aex;
  char *report_dir; /* NULL: the spec's outdir, else the default */
  const char *junit, *expect, *spec;
  unsigned jobs;
  int strict, extended, quiet, cases_given;
};

static void cfg_free(struct run_cfg *c) {
  for (size_t i = 0; i < c->n_servers; i++) {
    free(c->servers[i].url);
    free(c->servers[i].agent);
    free(c->servers[i].origin);
    ws_cli_strv_clear(&c->servers[i].protocols);
  }
  free(c->servers);
  for (size_t i = 0; i < c->n_aex; i++) {
    free(c->aex[i].agent);
    ws_cli_strv_clear(&c->aex[i].cases);
  }
  free(c->aex);
  ws_cli_strv_clear(&c->urls);
  ws_cli_strv_clear(&c->agents);
  ws_cli_strv_clear(&c->include);
  ws_cli_strv_clear(&c->exclude);
  free(c->report_dir);
}

static struct server *add_server(struct run_cfg *c, const char *url) {
  if (c->n_servers == c->cap_servers) {
    size_t cap = c->cap_servers ? c->cap_servers * 2 : 4;
    struct server *v = realloc(c->servers, cap * sizeof(*v));
    if (v == NULL)
      return NULL;
    c->servers = v;
    c->cap_servers = cap;
  }
  struct server *s = &c->servers[c->n_servers];
  memset(s, 0, sizeof(*s));
  if ((s->url = strdup(url)) == NULL)
    return NULL;
  c->n_servers++;
  return s;
}

static int usage_error(const char *fmt, const char *arg) {
  return ws_cli_usage_error("run", "run", fmt, arg);
}

static int out_of_memory(void) {
  fputs("wsspec run: out of memory\n", stderr);
  return EXIT_USAGE;
}

static int parse_jobs(const char *v, unsigned *out) {
  size_t len = strlen(v);
  unsigned long n = 0;
  if (len > 0 && len < 6 && strspn(v, "0123456789") == len)
    n = strtoul(v, NULL, 10);
  if (n == 0 || n > MAX_JOBS)
    return usage_error("--jobs needs a number from 1 to 4096, not '%s'", v);
  *out = (unsigned)n;
  return GO_ON;
}

/* One option with a value at argv[*i]; returns GO_ON, an exit code, or 0
 * when argv[*i] is none of them (then |*hit| is 0). */
static int value_option(int argc, char **argv, int *i, struct run_cfg *c,
                        int *hit) {
  static const char *const names[] = {"--cases",  "--exclude", "--agent",
                                      "--report-dir", "--junit", "--jobs",
                                      "--expect", "--spec"};
  const char *v = NULL;
  size_t k;
  int r = 0;
  for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
    if ((r = ws_cli_opt("run", argc, argv, i, names[k], &v)) != 0)
      break;
  *hit = r != 0;
  if (r == 0)
    return 0;
  if (r < 0)
    return EXIT_USAGE;
  if (*v == '\0')
    return usage_error("option %s needs a non-empty value", names[k]);
  switch (k) {
  case 0:
    c->cases_given = 1;
    return ws_cli_strv_split(&c->include, v) == 0 ? GO_ON : out_of_memory();
  case 1:
    return ws_cli_strv_split(&c->exclude, v) == 0 ? GO_ON : out_of_memory();
  case 2:
    return ws_cli_strv_add(&c->agents, v) == 0 ? GO_ON : out_of_memory();
  case 3:
    free(c->report_dir);
    return (c->report_dir = strdup(v)) != NULL ? GO_ON : out_of_memory();
  case 4:
    c->junit = v;
    return GO_ON;
  case 5:
    return parse_jobs(v, &c->jobs);
  case 6:
    c->expect = v;
    return GO_ON;
  default:
    c->spec = v;
    return GO_ON;
  }
}

/* Returns GO_ON to run, else the exit code (0 after --help). */
static int parse_args(int argc, char **argv, struct run_cfg *c) {
  int only_urls = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int hit, r;
    if (!only_urls && a[0] == '-' && a[1] != '\0') {
      if (strcmp(a, "--") == 0) {
        only_urls = 1;
        continue;
      }
      if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        printf(usage_text, (unsigned)WS_RUNNER_DEFAULT_JOBS);
        return EXIT_PASS;
      }
      if (strcmp(a, "--strict") == 0) {
        c->strict = 1;
        continue;
      }
      if (strcmp(a, "--extended") == 0) {
        c->extended = 1;
        continue;
      }
      if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
        c->quiet = 1;
        continue;
      }
      r = value_option(argc, argv, &i, c, &hit);
      if (!hit)
        return usage_error("unknown option '%s'", a);
      if (r != GO_ON)
        return r;
      continue;
    }
    if (ws_cli_strv_add(&c->urls, a) != 0)
      return out_of_memory();
  }
  return GO_ON;
}

/* ------------------------------------------------------------ spec file */

/* Reading one spec file: its name and the notes printed once each. */
struct spec_ctx {
  const char *path;
  int noted_options, noted_hostname;
};

static int spec_error(const struct spec_ctx *s, const char *what,
                      const char *where) {
  fprintf(stderr, "wsspec run: spec %s: %s%s\n", s->path, where, what);
  return EXIT_USAGE;
}

/* Autobahn|Python client options (failByDrop, version...) tune the Python
 * fuzzer itself; wsspec's fuzzer has Autobahn's defaults built in. */
static void note_ignored(struct spec_ctx *s, const char *key, int *noted) {
  if (*noted)
    return;
  *noted = 1;
  fprintf(stderr,
          "wsspec run: note: spec %s: \"%s\" is accepted and ignored\n",
          s->path, key);
}

/* A JSON array of strings appended to |out|; NULL is an absent key. */
static int spec_strings(struct spec_ctx *s, json_t *arr, const char *key,
                        struct ws_cli_strv *out) {
  size_t i;
  json_t *v;
  if (!json_is_array(arr))
    return spec_error(s, " must be an array of strings", key);
  json_array_foreach(arr, i, v) {
    if (!json_is_string(v))
      return spec_error(s, " must be an array of strings", key);
    if (ws_cli_strv_add(out, json_string_value(v)) != 0)
      return out_of_memory();
  }
  return GO_ON;
}

/* An optional string member: NULL or JSON null leave *out unchanged. */
static int spec_opt_string(struct spec_ctx *s, json_t *obj, const char *key,
                           const char *where, char **out) {
  json_t *v = json_object_get(obj, key);
  if (v == NULL || json_is_null(v))
    return GO_ON;
  if (!json_is_string(v)) {
    char msg[64];
    snprintf(msg, sizeof(msg), "%s%s must be a string", *where ? "." : "",
             key);
    return spec_error(s, msg, where);
  }
  free(*out);
  *out = strdup(json_string_value(v));
  return *out != NULL ? GO_ON : out_of_memory();
}

static int spec_server(struct spec_ctx *s, struct run_cfg *c, size_t index,
                       json_t *o) {
  char where[32];
  snprintf(where, sizeof(where), "servers[%zu]", index);
  if (!json_is_object(o))
    return spec_error(s, " must be an object", where);
  json_t *url = json_object_get(o, "url");
  if (!json_is_string(url))
    return spec_error(s, ".url is missing or not a string", where);
  struct server *srv = add_server(c, json_string_value(url));
  if (srv == NULL)
    return out_of_memory();
  int r = spec_opt_string(s, o, "agent", where, &srv->agent);
  if (r == GO_ON)
    r = spec_opt_string(s, o, "origin", where, &srv->origin);
  if (r != GO_ON)
    return r;
  json_t *p = json_object_get(o, "protocols");
  if (p != NULL && !json_is_null(p)) {
    char key[48];
    snprintf(key, sizeof(key), "%s.protocols", where);
    if ((r = spec_strings(s, p, key, &srv->protocols)) != GO_ON)
      return r;
  }
  if (json_object_get(o, "options") != NULL)
    note_ignored(s, "servers[].options", &s->noted_options);
  if (json_object_get(o, "hostname") != NULL)
    note_ignored(s, "servers[].hostname", &s->noted_hostname);
  return GO_ON;
}

static int spec_agent_cases(struct spec_ctx *s, struct run_cfg *c,
                            json_t *obj) {
  const char *agent;
  json_t *v;
  if (!json_is_object(obj))
    return spec_error(s, " must be an object", "exclude-agent-cases");
  size_t n = json_object_size(obj);
  c->aex = calloc(n > 0 ? n : 1, sizeof(*c->aex));
  if (c->aex == NULL)
    return out_of_memory();
  json_object_foreach(obj, agent, v) {
    struct agent_exclusion *e = &c->aex[c->n_aex++];
    if ((e->agent = strdup(agent)) == NULL)
      return out_of_memory();
    int r = spec_strings(s, v, "exclude-agent-cases values", &e->cases);
    if (r != GO_ON)
      return r;
  }
  return GO_ON;
}

/* The top-level members; |root| is an object. */
static int spec_members(struct spec_ctx *s, struct run_cfg *c, json_t *root) {
  json_t *v;
  int r = GO_ON;
  if (c->report_dir == NULL &&
      (r = spec_opt_string(s, root, "outdir", "", &c->report_dir)) != GO_ON)
    return r;
  if (json_object_get(root, "options") != NULL)
    note_ignored(s, "options", &s->noted_options);
  json_t *servers = json_object_get(root, "servers");
  if (servers != NULL && !json_is_array(servers))
    return spec_error(s, " must be an array", "servers");
  if (json_array_size(servers) > 0 && c->urls.n > 0)
    return spec_error(s, "servers given both here and on the command line",
                      "");
  size_t i;
  json_array_foreach(servers, i, v) {
    if ((r = spec_server(s, c, i, v)) != GO_ON)
      return r;
  }
  if ((v = json_object_get(root, "cases")) != NULL && !c->cases_given &&
      (r = spec_strings(s, v, "cases", &c->include)) != GO_ON)
    return r;
  if ((v = json_object_get(root, "exclude-cases")) != NULL &&
      (r = spec_strings(s, v, "exclude-cases", &c->exclude)) != GO_ON)
    return r;
  if ((v = json_object_get(root, "exclude-agent-cases")) != NULL)
    r = spec_agent_cases(s, c, v);
  return r;
}

static int load_spec(struct run_cfg *c) {
  struct spec_ctx s = {c->spec, 0, 0};
  json_error_t je;
  json_t *root = json_load_file(c->spec, JSON_REJECT_DUPLICATES, &je);
  if (root == NULL) {
    if (je.line > 0)
      fprintf(stderr, "wsspec run: spec %s:%d:%d: %s\n", c->spec, je.line,
              je.column, je.text);
    else
      fprintf(stderr, "wsspec run: spec %s: %s\n", c->spec, je.text);
    return EXIT_USAGE;
  }
  int r = json_is_object(root)
              ? spec_members(&s, c, root)
              : spec_error(&s, "the top level must be an object", "");
  json_decref(root);
  return r;
}

/* ------------------------------------------------- servers and cases */

/* Turns the URLs of the command line into servers, applies --agent, and
 * checks every URL before anything runs (a typo in the second URL must not
 * cost the first server's whole run). */
static int make_servers(struct run_cfg *c) {
  for (size_t i = 0; i < c->urls.n; i++)
    if (add_server(c, c->urls.v[i]) == NULL)
      return out_of_memory();
  if (c->n_servers == 0)
    return usage_error("%s", c->spec != NULL ? "the spec file has no servers"
                                             : "no server URL given");
  if (c->agents.n > 0 && c->agents.n != c->n_servers)
    return usage_error("%s", "--agent must be given once per server");
  for (size_t i = 0; i < c->agents.n; i++) {
    free(c->servers[i].agent);
    if ((c->servers[i].agent = strdup(c->agents.v[i])) == NULL)
      return out_of_memory();
  }
  for (size_t i = 0; i < c->n_servers; i++) {
    struct ws_url u;
    const char *url = c->servers[i].url;
    int r = ws_url_parse(&u, url, strlen(url));
    if (r == 0 && (u.scheme == WS_SCHEME_TCP || u.scheme == WS_SCHEME_UDP)) {
      fprintf(stderr, "wsspec run: %s: ws:// and tcp:// or udp:// URLs "
                      "cannot be mixed in one run\n",
              url);
      return EXIT_USAGE;
    }
    if (r == 0 && u.scheme == WS_SCHEME_WSS) {
      fprintf(stderr, "wsspec run: %s: wss:// is not supported yet\n", url);
      return EXIT_USAGE;
    }
    if (r == 0 && u.scheme != WS_SCHEME_WS)
      r = WS_NET_ESCHEME;
    if (r != 0) {
      fprintf(stderr, "wsspec run: invalid URL '%s': %s\n", url,
              ws_net_strerror(r));
      return EXIT_USAGE;
    }
  }
  return GO_ON;
}

/* The selection common to every server, in catalogue order. */
static int select_cases(struct run_cfg *c, const struct ws_case ***out,
                        size_t *n_out) {
  if (c->include.n == 0 && ws_cli_strv_add(&c->include, "*") != 0)
    return out_of_memory();
  /* wsspec's own cases ("x.N.M") answer only to patterns naming them
   * (ws_case_select); --extended is the pattern "x.*". */
  if (c->extended && ws_cli_strv_add(&c->include, "x.*") != 0)
    return out_of_memory();
  size_t cap = ws_case_count() + ws_case_extended_count(), bad = 0, n = 0;
  const struct ws_case **sel = malloc((cap > 0 ? cap : 1) * sizeof(*sel));
  if (sel == NULL)
    return out_of_memory();
  ws_ssize got = ws_case_select((const char *const *)c->include.v,
                                c->include.n,
                                (const char *const *)c->exclude.v,
                                c->exclude.n, sel, cap, &bad);
  if (got < 0) {
    free(sel);
    if (got == WS_EINVAL && bad < c->include.n)
      return usage_error("unknown case id '%s'", c->include.v[bad]);
    fprintf(stderr, "wsspec run: case selection: %s\n",
            ws_strerror((int)got));
    return EXIT_USAGE;
  }
  n = (size_t)got;
  if (n == 0) {
    free(sel);
    fputs("wsspec run: no case matches the selection\n", stderr);
    return EXIT_USAGE;
  }
  *out = sel;
  *n_out = n;
  return GO_ON;
}

/* Autobahn's exclude-agent-cases: both patterns fully anchored. */
static int agent_excludes(const struct run_cfg *c, const char *agent,
                          const char *id) {
  for (size_t i = 0; i < c->n_aex; i++) {
    if (!ws_case_match(c->aex[i].agent, agent, WS_MATCH_FULL))
      continue;
    for (size_t j = 0; j < c->aex[i].cases.n; j++)
      if (ws_case_match(c->aex[i].cases.v[j], id, WS_MATCH_FULL))
        return 1;
  }
  return 0;
}

/* --------------------------------------------------------------- runs */

/* One server's run. */
struct run {
  const struct server *srv;
  char *agent; /* NULL: the run could not start */
  const struct ws_case **cases;
  struct ws_case_result *results; /* results[i] for cases[i] */
  size_t n;
  double seconds;
  int fatal; /* exit 2: its reason was printed */
};

static void run_free(struct run *r) {
  for (size_t i = 0; i < r->n && r->results != NULL; i++)
    ws_case_result_free(&r->results[i]);
  free(r->results);
  free(r->cases);
  free(r->agent);
}

/* Drops the results of the cases excluded for the run's agent (|by_agent|
 * 1) or of those whose TCP connect failed (0): like Autobahn's "Missing"
 * cases they appear in no report. */
static void drop_results(struct run *r, const struct run_cfg *c, int by_agent) {
  size_t k = 0;
  for (size_t i = 0; i < r->n; i++) {
    struct ws_case_result *x = &r->results[i];
    int drop = by_agent ? agent_excludes(c, r->agent, r->cases[i]->id)
                        : x->connect_failed != 0;
    if (drop) {
      ws_case_result_free(x);
      continue;
    }
    if (k != i) {
      r->results[k] = *x;
      r->cases[k] = r->cases[i];
      memset(x, 0, sizeof(*x));
    }
    k++;
  }
  r->n = k;
}

/* Parts of the pass rule, for the texts printed with a failing case. */
static int behavior_passes(uint8_t v, int strict) {
  return v == WS_VERDICT_OK || v == WS_VERDICT_NON_STRICT ||
         v == WS_VERDICT_INFORMATIONAL ||
         (v == WS_VERDICT_UNIMPLEMENTED && !strict);
}

static int close_passes(uint8_t v) {
  return v == WS_VERDICT_OK || v == WS_VERDICT_INFORMATIONAL;
}

/* The progress line on a terminal: rewritten in place, never logged. */
struct progress {
  int tty, strict;
  size_t failed, width;
};

static void on_case_done(const struct ws_case_result *r, size_t done,
                         size_t total, void *user) {
  struct progress *p = user;
  if (!ws_result_passes(r, p->strict))
    p->failed++;
  if (!p->tty)
    return;
  char line[96];
  int n = snprintf(line, sizeof(line), "[%4zu/%zu] %-8s", done, total,
                   r->kase != NULL ? r->kase->id : "?");
  if (p->failed > 0 && n > 0 && (size_t)n < sizeof(line))
    snprintf(line + n, sizeof(line) - (size_t)n, " %zu failed", p->failed);
  size_t len = strlen(line);
  if (len > p->width)
    p->width = len;
  fprintf(stderr, "\r%-*s", (int)p->width, line);
  fflush(stderr);
}

/* Why no case opened, when none did (a wrong path, not a WebSocket
 * server): a hint on stderr; the cases themselves are FAILED. */
static void note_never_opened(const struct run *r) {
  for (size_t i = 0; i < r->n; i++)
    if (r->results[i].opened)
      return;
  if (r->n > 0)
    fprintf(stderr, "wsspec run: note: %s: no opening handshake completed "
                    "(%s)\n",
            r->srv->url,
            r->results[0].error[0] != '\0' ? r->results[0].error
                                            : "no reason recorded");
}

/* The first connect failure as the one-line reason of exit code 2. */
static int check_connect(struct run *r) {
  for (size_t i = 0; i < r->n; i++) {
    const struct ws_case_result *x = &r->results[i];
    if (!x->connect_failed)
      continue;
    fprintf(stderr, "wsspec run: cannot connect to %s: %s\n", r->srv->url,
            x->net_error != 0 ? ws_net_strerror(x->net_error)
            : x->error[0] != '\0' ? x->error
                                  : "connect failed");
    return 1;
  }
  return 0;
}

static int run_server(const struct run_cfg *c, const struct server *srv,
                      const struct ws_case *const *sel, size_t n_sel,
                      struct run *r) {
  memset(r, 0, sizeof(*r));
  r->srv = srv;
  r->cases = malloc((n_sel > 0 ? n_sel : 1) * sizeof(*r->cases));
  r->results = calloc(n_sel > 0 ? n_sel : 1, sizeof(*r->results));
  if (r->cases == NULL || r->results == NULL)
    return out_of_memory();
  /* With a configured agent, excluded cases do not even connect. */
  for (size_t i = 0; i < n_sel; i++)
    if (srv->agent == NULL || !agent_excludes(c, srv->agent, sel[i]->id))
      r->cases[r->n++] = sel[i];

  struct ws_runner_target t = {
      .url = srv->url,
      .agent = srv->agent,
      .origin = srv->origin,
      .protocols = (const char *const *)srv->protocols.v,
      .n_protocols = srv->protocols.n};
  struct progress prog = {isatty(STDERR_FILENO) && !c->quiet, c->strict, 0,
                          0};
  struct ws_runner_options opt = {.jobs = c->jobs,
                                  .on_case_done = on_case_done,
                                  .user = &prog};
  char err[256] = "";
  double t0 = ws_cli_now_s();
  int rc = r->n > 0 ? ws_runner_run(&t, r->cases, r->n, &opt, r->results,
                                    err, sizeof(err))
                    : 0;
  r->seconds = ws_cli_now_s() - t0;
  if (prog.tty && prog.width > 0)
    fprintf(stderr, "\r%*s\r", (int)prog.width, "");
  if (rc != 0) {
    fprintf(stderr, "wsspec run: %s: %s\n", srv->url,
            err[0] != '\0' ? err : ws_net_strerror(rc));
    r->n = 0; /* the results are left zeroed */
    r->fatal = 1;
    return GO_ON;
  }
  r->agent = strdup(ws_runner_agent(&t, r->results, r->n));
  if (r->agent == NULL)
    return out_of_memory();
  if (srv->agent == NULL)
    drop_results(r, c, 1);
  if (check_connect(r)) {
    r->fatal = 1;
    drop_results(r, c, 0);
    if (r->n == 0) { /* nothing ran: no agent to report */
      free(r->agent);
      r->agent = NULL;
    }
  } else {
    note_never_opened(r);
  }
  return GO_ON;
}

/* 1 when |a| and |b| name the same report files (ws_report_agent_slug). */
static int same_slug(const char *a, const char *b) {
  char sa[256], sb[256];
  size_t na = ws_report_agent_slug(sa, sizeof(sa), a);
  size_t nb = ws_report_agent_slug(sb, sizeof(sb), b);
  return na == nb && strcmp(sa, sb) == 0;
}

/* Two servers with one agent name (or file-name slug) would share report
 * entries: the later ones get "-2", "-3"... */
static int unique_agent(struct run *runs, size_t k) {
  char buf[512];
  const char *base = runs[k].agent;
  for (unsigned n = 1;; n++) {
    if (n > 1)
      snprintf(buf, sizeof(buf), "%s-%u", base, n);
    const char *name = n > 1 ? buf : base;
    size_t j = 0;
    while (j < k && (runs[j].agent == NULL ||
                     (strcmp(runs[j].agent, name) != 0 &&
                      !same_slug(runs[j].agent, name))))
      j++;
    if (j < k)
      continue;
    if (n == 1)
      return GO_ON;
    fprintf(stderr, "wsspec run: note: agent \"%s\" is taken; %s runs as "
                    "\"%s\"\n",
            base, runs[k].srv->url, buf);
    char *p = strdup(buf);
    if (p == NULL)
      return out_of_memory();
    free(runs[k].agent);
    runs[k].agent = p;
    return GO_ON;
  }
}

/* ------------------------------------------------------------ reports */

static int write_reports(const struct run_cfg *c, const char *dir,
                         const struct ws_report_agent *ra, size_t n) {
  char err[512] = "";
  /* The writers create the directories they write in. */
  int r = ws_report_write_json(dir, ra, n, err, sizeof(err));
  if (r == 0)
    r = ws_report_write_html(dir, ra, n, c->strict, err, sizeof(err));
  if (r == 0 && c->junit != NULL)
    r = ws_report_write_junit(c->junit, ra, n, c->strict, err, sizeof(err));
  if (r != 0) {
    fprintf(stderr, "wsspec run: cannot write the report: %s\n",
            err[0] != '\0' ? err : ws_strerror(r));
    return EXIT_USAGE;
  }
  return GO_ON;
}

/* ------------------------------------------------------------ summary */

static void print_counts(const char *label, const size_t *count) {
  const char *sep = " ";
  printf("  %-14s", label);
  for (unsigned v = WS_VERDICT_OK; v <= WS_VERDICT_FAILED_BY_CLIENT; v++) {
    if (count[v] > 0) {
      printf("%s%s %zu", sep, ws_verdict_name((enum ws_verdict)v), count[v]);
      sep = ", ";
    }
  }
  if (count[WS_VERDICT_NONE] > 0)
    printf("%s(none) %zu", sep, count[WS_VERDICT_NONE]);
  putchar('\n');
}

static const char *verdict_text(uint8_t v) {
  const char *s = ws_verdict_name((enum ws_verdict)v);
  return s != NULL ? s : "-";
}

/* One failing case: the verdicts and the text of each failing part. */
static void print_failure(const struct run_cfg *c,
                          const struct ws_case_result *x) {
  int bad_b = !behavior_passes(x->behavior, c->strict);
  int bad_c = !close_passes(x->behavior_close);
  printf("  FAIL %-8s behavior %s, behaviorClose %s:",
         x->kase != NULL ? x->kase->id : "?", verdict_text(x->behavior),
         verdict_text(x->behavior_close));
  if (bad_b || !bad_c)
    printf(" %s", x->result);
  if (bad_c)
    printf("%s%s", bad_b ? " / " : " ", x->result_close);
  if (x->error[0] != '\0')
    printf(" (%s)", x->error);
  putchar('\n');
}

/* Returns the number of failing cases of |r|. */
static size_t print_run(const struct run_cfg *c, const struct run *r) {
  struct ws_report_agent a = {.agent = r->agent, .results = r->results,
                              .n = r->n};
  struct ws_report_counts k;
  ws_report_count(&a, c->strict, &k);
  if (!c->quiet) {
    printf("agent %s (%s): %zu case%s in %.2f s, %zu passed, %zu failed\n",
           r->agent, r->srv->url, k.total, k.total == 1 ? "" : "s",
           r->seconds, k.total - k.failed, k.failed);
    print_counts("behavior", k.behavior);
    print_counts("behaviorClose", k.behavior_close);
  } else if (k.failed > 0) {
    printf("agent %s: %zu failed\n", r->agent, k.failed);
  }
  for (size_t i = 0; i < r->n; i++)
    if (!ws_result_passes(&r->results[i], c->strict))
      print_failure(c, &r->results[i]);
  return k.failed;
}

/* --expect: differences are printed by the report module. Returns their
 * number, or -1 after printing why the comparison could not be done. */
static int compare_golden(const struct run_cfg *c,
                          const struct ws_report_agent *ra, size_t n) {
  char err[512] = "";
  int d = ws_report_compare_golden(c->expect, ra, n, stdout, err,
                                   sizeof(err));
  if (d < 0) {
    fprintf(stderr, "wsspec run: --expect %s: %s\n", c->expect,
            err[0] != '\0' ? err : ws_strerror(d));
    return -1;
  }
  if (d > 0 || !c->quiet)
    printf("expect %s: %d difference%s\n", c->expect, d, d == 1 ? "" : "s");
  return d;
}

/* Reports, summary and exit code once every server has run. */
static int finish(const struct run_cfg *c, struct run *runs, size_t n_runs) {
  const char *dir = c->report_dir != NULL ? c->report_dir
                                          : DEFAULT_REPORT_DIR;
  struct ws_report_agent *ra = calloc(n_runs, sizeof(*ra));
  size_t n_ra = 0, failed = 0;
  int fatal = 0;
  if (ra == NULL)
    return out_of_memory();
  for (size_t i = 0; i < n_runs; i++) {
    fatal |= runs[i].fatal;
    if (runs[i].agent != NULL)
      ra[n_ra++] = (struct ws_report_agent){.agent = runs[i].agent,
                                            .results = runs[i].results,
                                            .n = runs[i].n};
  }
  int rc = write_reports(c, dir, ra, n_ra);
  for (size_t i = 0; i < n_runs; i++)
    if (runs[i].agent != NULL)
      failed += print_run(c, &runs[i]);
  int diffs = 0;
  if (rc == GO_ON && c->expect != NULL)
    diffs = compare_golden(c, ra, n_ra);
  if (rc == GO_ON) {
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
      len--;
    printf("report: %.*s/index.html\n", (int)len, dir);
    if (c->junit != NULL && !c->quiet)
      printf("junit: %s\n", c->junit);
  }
  free(ra);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    perror("wsspec run: stdout");
    return EXIT_USAGE;
  }
  if (rc != GO_ON || fatal || diffs < 0)
    return EXIT_USAGE;
  /* With --expect the golden file is the pass rule: known failures
   * recorded in it are accepted, any change is not. */
  if (c->expect != NULL)
    return diffs > 0 ? EXIT_FAIL : EXIT_PASS;
  return failed > 0 ? EXIT_FAIL : EXIT_PASS;
}

static int run_all(struct run_cfg *c, const struct ws_case *const *sel,
                   size_t n_sel) {
  struct run *runs = calloc(c->n_servers, sizeof(*runs));
  int rc = GO_ON;
  size_t done = 0;
  if (runs == NULL)
    return out_of_memory();
  for (; done < c->n_servers && rc == GO_ON; done++) {
    rc = run_server(c, &c->servers[done], sel, n_sel, &runs[done]);
    if (rc == GO_ON && runs[done].agent != NULL)
      rc = unique_agent(runs, done);
  }
  if (rc == GO_ON)
    rc = finish(c, runs, done);
  for (size_t i = 0; i < done; i++)
    run_free(&runs[i]);
  free(runs);
  return rc;
}

int ws_cli_run(int argc, char **argv) {
  /* tcp:// and udp:// URLs get the RFC 862 echo checks (cmd_run862.h). */
  if (ws_cli_run_is_rfc862(argc, argv))
    return ws_cli_run_rfc862(argc, argv);
  struct run_cfg c;
  const struct ws_case **sel = NULL;
  size_t n_sel = 0;
  memset(&c, 0, sizeof(c));
  int rc = parse_args(argc, argv, &c);
  if (rc == GO_ON && c.spec != NULL)
    rc = load_spec(&c);
  if (rc == GO_ON)
    rc = make_servers(&c);
  if (rc == GO_ON)
    rc = select_cases(&c, &sel, &n_sel);
  if (rc == GO_ON)
    rc = run_all(&c, sel, n_sel);
  free(sel);
  cfg_free(&c);
  return rc;
}
