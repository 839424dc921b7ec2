/*
 * cmd_run862.c: `wsspec run tcp://... udp://...`, the RFC 862 echo checks
 * (conformance/ws_rfc862.h) with the conventions of `wsspec run` for
 * WebSocket servers: --cases / --exclude patterns, --agent, --report-dir,
 * --junit, a progress line on a terminal, a summary, and the exit codes
 * 0 pass, 1 a check failed, 2 the run could not be done as asked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_run862.h"
#include "conformance/ws_rfc862.h"
#include "net/net_addr.h"
#include "net/net_error.h"

#define DEFAULT_REPORT_DIR "./reports/servers"
#define REPORT_FILE "rfc862.json"
#define EXIT_PASS 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define GO_ON (-1)
#define MAX_URLS 64

static const char usage_head[] =
    "usage: wsspec run tcp://HOST:PORT | udp://HOST:PORT ... [options]\n"
    "\n"
    "Grades RFC 862 echo services: every byte back verbatim and in order\n"
    "(1 byte to 16 MiB), half-close handling, many clients at once; over\n"
    "UDP each datagram (1 to 65507 bytes) answered exactly once with its\n"
    "length and content, loss and truncation reported. Several URLs run one\n"
    "after another.\n"
    "\n"
    "options:\n"
    "  --cases P[,P]      run the checks matching these patterns (default\n"
    "                     *): an id (tcp.3.1) or a pattern whose '*' matches\n"
    "                     anything, anchored at the start (tcp.1.*, udp.*)\n"
    "  --exclude P[,P]    skip the checks matching these patterns\n"
    "  --agent NAME       the name in the reports: once for every URL, or\n"
    "                     once per URL in order (default: HOST:PORT)\n"
    "  --report-dir DIR   where rfc862.json goes (default ./reports/servers)\n"
    "  --junit FILE       also write JUnit XML, one testcase per check\n"
    "  --quiet            print only the failing checks and the report path\n"
    "  --help             print this help and exit\n"
    "\n"
    "Exit codes: 0 every check passed; 1 a check failed; 2 usage error,\n"
    "unknown check id, unreachable server or unwritable report.\n"
    "\n"
    "checks:\n";

/* ------------------------------------------------------------- config */

struct cfg {
  const char *urls[MAX_URLS];
  size_t n_urls;
  const char *agents[MAX_URLS];
  size_t n_agents;
  struct ws_cli_strv include, exclude;
  const char *report_dir, *junit;
  int quiet;
};

static void cfg_free(struct cfg *c) {
  ws_cli_strv_clear(&c->include);
  ws_cli_strv_clear(&c->exclude);
}

static int usage_error(const char *fmt, const char *arg) {
  return ws_cli_usage_error("run", "run tcp://HOST:PORT", fmt, arg);
}

static int out_of_memory(void) {
  fputs("wsspec run: out of memory\n", stderr);
  return EXIT_USAGE;
}

static void usage(void) {
  fputs(usage_head, stdout);
  for (size_t i = 0; i < ws_rfc862_count(); i++) {
    const struct ws_rfc862_check *k = ws_rfc862_get(i);
    printf("  %-9s %s\n", k->id, k->title);
  }
}

/* An option with a value; GO_ON, an exit code, or 0 when argv[*i] is
 * none of them. */
static int value_option(int argc, char **argv, int *i, struct cfg *c) {
  static const char *const names[] = {"--cases", "--exclude", "--agent",
                                      "--report-dir", "--junit"};
  const char *v = NULL;
  size_t k;
  int r = 0;
  for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
    if ((r = ws_cli_opt("run", argc, argv, i, names[k], &v)) != 0)
      break;
  if (r <= 0)
    return r < 0 ? EXIT_USAGE : 0;
  if (*v == '\0')
    return usage_error("option %s needs a non-empty value", names[k]);
  switch (k) {
  case 0:
  case 1:
    if (ws_cli_strv_split(k == 0 ? &c->include : &c->exclude, v) != 0)
      return out_of_memory();
    return GO_ON;
  case 2:
    if (c->n_agents == MAX_URLS)
      return usage_error("too many --agent options%s", "");
    c->agents[c->n_agents++] = v;
    return GO_ON;
  case 3:
    c->report_dir = v;
    return GO_ON;
  default:
    c->junit = v;
    return GO_ON;
  }
}

/* Options of `wsspec run` for WebSocket servers that mean nothing here. */
static int websocket_only(const char *a) {
  static const char *const names[] = {"--jobs", "--expect", "--spec",
                                      "--strict", "--extended"};
  for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
    size_t n = strlen(names[k]);
    if (strncmp(a, names[k], n) == 0 && (a[n] == '\0' || a[n] == '='))
      return usage_error("%s applies to ws:// URLs only, not to tcp:// "
                         "and udp://", names[k]);
  }
  return 0;
}

static int parse_args(int argc, char **argv, struct cfg *c) {
  int only_urls = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int r;
    if (!only_urls && a[0] == '-' && a[1] != '\0') {
      if (strcmp(a, "--") == 0) {
        only_urls = 1;
      } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        usage();
        return EXIT_PASS;
      } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
        c->quiet = 1;
      } else if ((r = websocket_only(a)) != 0) {
        return r;
      } else if ((r = value_option(argc, argv, &i, c)) != GO_ON) {
        return r != 0 ? r : usage_error("unknown option '%s'", a);
      }
      continue;
    }
    if (c->n_urls == MAX_URLS)
      return usage_error("more than 64 URLs%s", "");
    c->urls[c->n_urls++] = a;
  }
  return GO_ON;
}

/* Every URL tcp:// or udp://, the agents and the patterns sound. */
static int check_cfg(struct cfg *c, struct ws_url *u) {
  if (c->n_urls == 0)
    return usage_error("no server URL given%s", "");
  if (c->n_agents > 1 && c->n_agents != c->n_urls)
    return usage_error("--agent must be given once, or once per URL%s", "");
  for (size_t i = 0; i < c->n_urls; i++) {
    const char *url = c->urls[i];
    int r = ws_url_parse(&u[i], url, strlen(url));
    if (r == 0 && (u[i].scheme == WS_SCHEME_WS ||
                   u[i].scheme == WS_SCHEME_WSS))
      return usage_error("%s: ws:// and tcp:// or udp:// URLs cannot be "
                         "mixed in one run", url);
    if (r == 0 && u[i].scheme != WS_SCHEME_TCP &&
        u[i].scheme != WS_SCHEME_UDP)
      r = WS_NET_ESCHEME;
    if (r != 0) {
      fprintf(stderr, "wsspec run: invalid URL '%s': %s (want "
                      "tcp://HOST:PORT or udp://HOST:PORT)\n",
              url, ws_net_strerror(r));
      return EXIT_USAGE;
    }
  }
  /* A pattern that names no check is a typo, reported before anything
   * runs (as `wsspec run` does for an unknown case id). */
  for (size_t i = 0; i < c->include.n; i++)
    if (!ws_rfc862_known(c->include.v[i]))
      return usage_error(strchr(c->include.v[i], '*') != NULL
                             ? "no check matches '%s'"
                             : "unknown check id '%s'",
                         c->include.v[i]);
  if (c->include.n == 0 && ws_cli_strv_add(&c->include, "*") != 0)
    return out_of_memory();
  return GO_ON;
}

/* --------------------------------------------------------------- runs */

struct run {
  const char *url;
  char agent[WS_HOST_MAX + 16];
  enum ws_rfc862_proto proto;
  const struct ws_rfc862_check *sel[64];
  struct ws_rfc862_result res[64];
  size_t n;
  double seconds;
  int ran, fatal;
};

struct progress {
  int tty;
  size_t failed, width;
};

static void on_check_done(const struct ws_rfc862_result *r, size_t done,
                          size_t total, void *user) {
  struct progress *p = user;
  char line[96];
  size_t len;
  if (r->verdict != WS_RFC862_PASS)
    p->failed++;
  if (!p->tty)
    return;
  int n = snprintf(line, sizeof(line), "[%2zu/%zu] %-8s", done, total,
                   r->check->id);
  if (p->failed > 0 && n > 0 && (size_t)n < sizeof(line))
    snprintf(line + n, sizeof(line) - (size_t)n, " %zu failed", p->failed);
  len = strlen(line);
  if (len > p->width)
    p->width = len;
  fprintf(stderr, "\r%-*s", (int)p->width, line);
  fflush(stderr);
}

/* "HOST:PORT" as written in the URL, brackets kept for IPv6. */
static void default_agent(char *buf, size_t size, const struct ws_url *u) {
  if (u->host_kind == WS_HOST_IPV6)
    snprintf(buf, size, "[%s]:%u", u->host, u->port);
  else
    snprintf(buf, size, "%s:%u", u->host, u->port);
}

static void run_url(const struct cfg *c, const struct ws_url *u,
                    struct run *r) {
  struct ws_addr addr[8];
  size_t n_addr;
  char err[256] = "";
  int rc;
  r->proto = u->scheme == WS_SCHEME_UDP ? WS_RFC862_UDP : WS_RFC862_TCP;
  ws_ssize got = ws_rfc862_select(
      r->proto, (const char *const *)c->include.v, c->include.n,
      (const char *const *)c->exclude.v, c->exclude.n, r->sel,
      sizeof(r->sel) / sizeof(r->sel[0]));
  r->n = got > 0 ? (size_t)got : 0;
  if (r->n == 0) {
    fprintf(stderr, "wsspec run: note: %s: no %s check selected\n", r->url,
            ws_rfc862_proto_name(r->proto));
    return;
  }
  rc = ws_url_resolve(u, addr, sizeof(addr) / sizeof(addr[0]), AF_UNSPEC);
  if (rc < 0) {
    fprintf(stderr, "wsspec run: cannot resolve %s: %s\n", r->url,
            ws_net_strerror(rc));
    r->fatal = 1;
    return;
  }
  n_addr = (size_t)rc;
  struct progress prog = {isatty(STDERR_FILENO) && !c->quiet, 0, 0};
  struct ws_rfc862_options opt = {.on_check_done = on_check_done,
                                  .user = &prog};
  double t0 = ws_cli_now_s();
  /* A name may resolve to ::1 and 127.0.0.1 while the server listens on
   * one of them: the next address is tried when the probe fails. */
  for (size_t i = 0; i < n_addr; i++) {
    rc = ws_rfc862_run(&addr[i], r->proto, r->sel, r->n, &opt, r->res, err,
                       sizeof(err));
    if (rc == 0 || rc == WS_ENOMEM || rc == WS_EINVAL)
      break;
  }
  r->seconds = ws_cli_now_s() - t0;
  if (prog.tty && prog.width > 0)
    fprintf(stderr, "\r%*s\r", (int)prog.width, "");
  if (rc != 0) {
    fprintf(stderr, "wsspec run: cannot connect to %s: %s\n", r->url,
            ws_net_strerror(rc));
    r->fatal = 1;
    return;
  }
  r->ran = 1;
}

/* Two URLs of one protocol under one agent would share check ids: the
 * later one becomes "AGENT-2", "AGENT-3"... */
static void unique_agent(struct run *runs, size_t k) {
  char base[sizeof(runs[k].agent)], name[sizeof(runs[k].agent)];
  memcpy(base, runs[k].agent, sizeof(base));
  for (unsigned n = 1;; n++) {
    size_t j = 0;
    if (n == 1)
      snprintf(name, sizeof(name), "%s", base);
    else
      snprintf(name, sizeof(name), "%.*s-%u", (int)(sizeof(base) - 12),
               base, n);
    while (j < k && !(runs[j].ran && runs[j].proto == runs[k].proto &&
                      strcmp(runs[j].agent, name) == 0))
      j++;
    if (j < k)
      continue;
    if (n > 1)
      fprintf(stderr, "wsspec run: note: agent \"%s\" is taken; %s runs as "
                      "\"%s\"\n",
              base, runs[k].url, name);
    memcpy(runs[k].agent, name, sizeof(name));
    return;
  }
}

/* ------------------------------------------------------------ reports */

static int write_reports(const struct cfg *c, const char *dir,
                         const struct ws_rfc862_agent *a, size_t n) {
  char err[512] = "", path[4096];
  int r = 0;
  /* The writers create the directories they write in. */
  if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, REPORT_FILE) >=
      sizeof(path)) {
    snprintf(err, sizeof(err), "%s: name too long", dir);
    r = WS_EINVAL;
  }
  if (r == 0)
    r = ws_rfc862_write_json(path, a, n, err, sizeof(err));
  if (r == 0 && c->junit != NULL)
    r = ws_rfc862_write_junit(c->junit, a, n, err, sizeof(err));
  if (r != 0) {
    fprintf(stderr, "wsspec run: cannot write the report: %s\n",
            err[0] != '\0' ? err : ws_strerror(r));
    return EXIT_USAGE;
  }
  return GO_ON;
}

/* ------------------------------------------------------------ summary */

/* Prints one run; returns its failed checks. */
static size_t print_run(const struct cfg *c, const struct run *r) {
  size_t failed = 0;
  for (size_t i = 0; i < r->n; i++)
    failed += r->res[i].verdict != WS_RFC862_PASS;
  if (!c->quiet)
    printf("agent %s (%s): %zu check%s in %.2f s, %zu passed, %zu failed\n",
           r->agent, r->url, r->n, r->n == 1 ? "" : "s", r->seconds,
           r->n - failed, failed);
  else if (failed > 0)
    printf("agent %s (%s): %zu failed\n", r->agent, r->url, failed);
  for (size_t i = 0; i < r->n; i++) {
    const struct ws_rfc862_result *x = &r->res[i];
    int pass = x->verdict == WS_RFC862_PASS;
    if (pass && c->quiet)
      continue;
    printf("  %s %-8s %s\n", pass ? "PASS" : "FAIL", x->check->id,
           x->reason);
  }
  return failed;
}

static int finish(const struct cfg *c, struct run *runs, size_t n) {
  const char *dir = c->report_dir != NULL ? c->report_dir
                                          : DEFAULT_REPORT_DIR;
  struct ws_rfc862_agent a[MAX_URLS];
  size_t n_a = 0, failed = 0;
  int fatal = 0;
  for (size_t i = 0; i < n; i++) {
    fatal |= runs[i].fatal;
    if (runs[i].ran)
      a[n_a++] = (struct ws_rfc862_agent){.agent = runs[i].agent,
                                          .url = runs[i].url,
                                          .results = runs[i].res,
                                          .n = runs[i].n};
  }
  int rc = write_reports(c, dir, a, n_a);
  for (size_t i = 0; i < n; i++)
    if (runs[i].ran)
      failed += print_run(c, &runs[i]);
  if (rc == GO_ON) {
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
      len--;
    printf("report: %.*s/%s\n", (int)len, dir, REPORT_FILE);
    if (c->junit != NULL && !c->quiet)
      printf("junit: %s\n", c->junit);
  }
  if (fflush(stdout) != 0 || ferror(stdout)) {
    perror("wsspec run: stdout");
    return EXIT_USAGE;
  }
  if (rc != GO_ON || fatal)
    return EXIT_USAGE;
  return failed > 0 ? EXIT_FAIL : EXIT_PASS;
}

static int run_all(const struct cfg *c, const struct ws_url *u) {
  struct run *runs = calloc(c->n_urls, sizeof(*runs));
  int rc;
  if (runs == NULL)
    return out_of_memory();
  for (size_t i = 0; i < c->n_urls; i++) {
    struct run *r = &runs[i];
    r->url = c->urls[i];
    if (c->n_agents > 0)
      snprintf(r->agent, sizeof(r->agent), "%s",
               c->agents[c->n_agents == 1 ? 0 : i]);
    else
      default_agent(r->agent, sizeof(r->agent), &u[i]);
    run_url(c, &u[i], r);
    if (r->ran)
      unique_agent(runs, i);
  }
  rc = finish(c, runs, c->n_urls);
  free(runs);
  return rc;
}

int ws_cli_run_rfc862(int argc, char **argv) {
  struct ws_url *u = calloc(MAX_URLS, sizeof(*u));
  struct cfg c;
  int rc;
  if (u == NULL)
    return out_of_memory();
  memset(&c, 0, sizeof(c));
  rc = parse_args(argc, argv, &c);
  if (rc == GO_ON)
    rc = check_cfg(&c, u);
  if (rc == GO_ON)
    rc = run_all(&c, u);
  cfg_free(&c);
  free(u);
  return rc;
}

/* ------------------------------------------------------------ dispatch */

static int rfc862_url(const char *a) {
  return strncasecmp(a, "tcp://", 6) == 0 || strncasecmp(a, "udp://", 6) == 0;
}

int ws_cli_run_is_rfc862(int argc, char **argv) {
  static const char *const with_value[] = {
      "--cases", "--exclude", "--agent", "--report-dir",
      "--junit", "--jobs",    "--expect", "--spec"};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0)
      return i + 1 < argc && rfc862_url(argv[i + 1]);
    if (a[0] != '-' || a[1] == '\0')
      return rfc862_url(a);
    for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
      if (strcmp(a, with_value[k]) == 0) {
        i++; /* "--cases P": P is no URL */
        break;
      }
  }
  return 0;
}
