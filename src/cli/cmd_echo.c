/*
 * cmd_echo.c: `wsspec echo`, the reference echo servers (echo_server.h)
 * on the command line. The output contract (one "listening URL" line per
 * listener, in the order given, flushed at once; exit 0 after a signal)
 * is what the pytest suite and the benchmarks rely on.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "http/ws_http.h"
#include "net/echo_server.h"
#include "net/net_addr.h"
#include "net/net_loop.h"

static const char usage_text[] =
    "usage: wsspec echo [--ws ADDR]... [--tcp ADDR]... [--udp ADDR]... "
    "[options]\n"
    "\n"
    "Runs echo servers until SIGINT or SIGTERM: a WebSocket echo (RFC "
    "6455),\n"
    "an RFC 862 TCP echo and an RFC 862 UDP echo, any subset; each option\n"
    "may be repeated. ADDR is HOST:PORT (127.0.0.1:9001, [::1]:0,\n"
    "localhost:9001) or the same as a URL (ws://127.0.0.1:9001); port 0\n"
    "lets the OS choose. With no listener option: --ws 127.0.0.1:9001.\n"
    "\n"
    "On start it prints one line per listener, in the order given:\n"
    "  listening ws://127.0.0.1:PORT      (tcp://, udp://; [::1] for IPv6)\n"
    "\n"
    "WebSocket options:\n"
    "  --max-message SIZE     largest message accepted, else close 1009\n"
    "                         (default 64MiB; 0 = no limit)\n"
    "  --max-frame SIZE       largest frame accepted, else close 1009\n"
    "                         (default 0 = only --max-message applies)\n"
    "  --max-connections N    at most N open TCP connections, WebSocket and\n"
    "                         TCP echo together (default 0 = no limit);\n"
    "                         more get HTTP 503 (WebSocket) or are closed\n"
    "  --handshake-timeout T  time for the opening handshake (default 5s;\n"
    "                         0 = none); slower clients are cut off\n"
    "  --idle-timeout T       close connections silent for T: WebSocket\n"
    "                         with 1001, TCP echo at once (default 0 = "
    "never)\n"
    "  --close-timeout T      wait for a Close reply (default 1s)\n"
    "  --subprotocol NAME     a subprotocol we speak (repeatable); the\n"
    "                         first of the client's offers that is in this\n"
    "                         list is selected\n"
    "  --origin ORIGIN        accept only these Origin values (repeatable;\n"
    "                         exact, case-insensitive); others get HTTP 403;\n"
    "                         requests without Origin are accepted\n"
    "  --max-pending SIZE     stop reading a connection while this much\n"
    "                         output waits for it (default 1MiB)\n"
    "  --verbose              one line on stderr per WebSocket connection\n"
    "                         that does not end cleanly\n"
    "  --help                 print this help and exit\n"
    "\n"
    "SIZE: bytes, or with a suffix K, M, G (KiB, MiB, GiB). T: seconds\n"
    "(decimals allowed), or with a suffix ms or s.\n"
    "\n"
    "SIGINT or SIGTERM: every WebSocket client gets Close 1001; once they\n"
    "have answered (1 s at most) the server exits with status 0.\n"
    "Exit codes: 0 stopped by a signal, 1 a listener could not be opened,\n"
    "2 usage error.\n";

struct listen_arg {
  enum ws_scheme kind;
  const char *text;
};

struct state {
  ws_loop *loop;
  ws_echo *echo;
  struct ws_signal sig;
  int signals;
};

static int usage_error(const char *fmt, const char *arg) {
  return ws_cli_usage_error("echo", "echo", fmt, arg);
}

static void log_line(const char *line, void *user) {
  (void)user;
  fprintf(stderr, "wsspec echo: %s\n", line);
}

/* HOST:PORT or SCHEME://HOST:PORT (the option's scheme) -> an address. */
static int resolve(const struct listen_arg *l, struct ws_addr *a) {
  struct ws_url u;
  size_t len = strlen(l->text);
  int r;
  if (strstr(l->text, "://") != NULL) {
    r = ws_url_parse(&u, l->text, len);
    if (r == 0 && u.scheme != l->kind)
      r = WS_NET_ESCHEME;
    if (r == 0 && u.scheme == WS_SCHEME_WS &&
        (!u.port_given || u.path_len != 1 || u.query != NULL))
      r = WS_NET_EEXTRA;
  } else {
    r = ws_hostport_parse(&u, l->text, len);
  }
  if (r != 0) {
    fprintf(stderr, "wsspec echo: invalid address '%s': %s (see wsspec "
                    "echo --help)\n",
            l->text, ws_net_strerror(r));
    return 2;
  }
  r = ws_url_resolve(&u, a, 1, AF_UNSPEC);
  if (r < 0) {
    fprintf(stderr, "wsspec echo: cannot resolve '%s': %s\n", u.host,
            ws_net_strerror(r));
    return 1;
  }
  return 0;
}

static void on_done(ws_echo *e, void *user) {
  struct state *st = user;
  struct sigaction sa;
  (void)e;
  /* A signal still pending would kill us when unblocked: we are on our
   * way out anyway, so ignore them from now on. */
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_IGN;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  ws_signal_stop(&st->sig);
}

static void on_signal(struct ws_signal *s, int signo, void *user) {
  struct state *st = user;
  (void)s;
  (void)signo;
  /* The first signal closes gracefully; a second one cuts it short. */
  ws_echo_shutdown(st->echo, st->signals++ == 0 ? 1000 : 0, on_done, st);
}

/* Parses one option at argv[*i] into |cfg|; returns 0, or an exit code. */
static int parse_option(int argc, char **argv, int *i,
                        struct ws_echo_config *cfg, struct listen_arg *ls,
                        size_t *nls, const char **protos, const char **origins,
                        int *verbose) {
  static const struct {
    const char *name;
    enum ws_scheme kind;
  } kinds[] = {{"--ws", WS_SCHEME_WS},
               {"--tcp", WS_SCHEME_TCP},
               {"--udp", WS_SCHEME_UDP}};
  const char *v;
  uint64_t n;
  size_t k;
  int r;
  for (k = 0; k < 3; k++) {
    if ((r = ws_cli_opt("echo", argc, argv, i, kinds[k].name, &v)) != 0) {
      if (r < 0)
        return 2;
      ls[*nls].kind = kinds[k].kind;
      ls[(*nls)++].text = v;
      return 0;
    }
  }
  if ((r = ws_cli_opt("echo", argc, argv, i, "--subprotocol", &v)) != 0) {
    if (r < 0)
      return 2;
    protos[cfg->num_protocols++] = v;
    return 0;
  }
  if ((r = ws_cli_opt("echo", argc, argv, i, "--origin", &v)) != 0) {
    if (r < 0)
      return 2;
    origins[cfg->num_origins++] = v;
    return 0;
  }
  if ((r = ws_cli_opt("echo", argc, argv, i, "--max-message", &v)) != 0) {
    if (r < 0 || ws_cli_parse_size(v, &n) != 0)
      return r < 0 ? 2 : usage_error("invalid size '%s'", v);
    cfg->conn.session.max_message_size = n;
    return 0;
  }
  if ((r = ws_cli_opt("echo", argc, argv, i, "--max-frame", &v)) != 0) {
    if (r < 0 || ws_cli_parse_size(v, &n) != 0)
      return r < 0 ? 2 : usage_error("invalid size '%s'", v);
    cfg->conn.session.max_frame_size = n;
    return 0;
  }
  if ((r = ws_cli_opt("echo", argc, argv, i, "--max-pending", &v)) != 0) {
    if (r < 0 || ws_cli_parse_size(v, &n) != 0 || n > SIZE_MAX)
      return r < 0 ? 2 : usage_error("invalid size '%s'", v);
    cfg->conn.high_water = (size_t)n;
    return 0;
  }
  if ((r = ws_cli_opt("echo", argc, argv, i, "--max-connections", &v)) !=
      0) {
    if (r < 0 || ws_cli_parse_size(v, &n) != 0 || n > SIZE_MAX)
      return r < 0 ? 2 : usage_error("invalid number '%s'", v);
    cfg->max_connections = (size_t)n;
    return 0;
  }
  if ((r = ws_cli_opt("echo", argc, argv, i, "--handshake-timeout", &v)) !=
      0) {
    if (r < 0 || ws_cli_parse_ms(v, &n) != 0)
      return r < 0 ? 2 : usage_error("invalid duration '%s'", v);
    cfg->conn.handshake_timeout_ms = n;
    return 0;
  }
  if ((r = ws_cli_opt("echo", argc, argv, i, "--idle-timeout", &v)) != 0) {
    if (r < 0 || ws_cli_parse_ms(v, &n) != 0)
      return r < 0 ? 2 : usage_error("invalid duration '%s'", v);
    cfg->conn.idle_timeout_ms = n;
    return 0;
  }
  if ((r = ws_cli_opt("echo", argc, argv, i, "--close-timeout", &v)) != 0) {
    if (r < 0 || ws_cli_parse_ms(v, &n) != 0 || n == 0)
      return r < 0 ? 2 : usage_error("invalid duration '%s'", v);
    cfg->conn.close_timeout_ms = n;
    return 0;
  }
  if (strcmp(argv[*i], "--verbose") == 0 || strcmp(argv[*i], "-v") == 0) {
    *verbose = 1;
    return 0;
  }
  return usage_error("unknown argument '%s'", argv[*i]);
}

/* Opens every listener (all or nothing), storing the bound addresses. */
static int open_listeners(struct state *st, const struct listen_arg *ls,
                          size_t nls, struct ws_addr *bound) {
  size_t i;
  for (i = 0; i < nls; i++) {
    struct ws_addr a;
    int r, rc = resolve(&ls[i], &a);
    if (rc != 0)
      return rc;
    r = ws_echo_listen(st->echo, ls[i].kind, &a, &bound[i]);
    if (r != 0) {
      char msg[300];
      ws_addr_format_error(msg, sizeof(msg), "listen", &a, r);
      fprintf(stderr, "wsspec echo: %s\n", msg);
      return 1;
    }
  }
  return 0;
}

/* The contract with scripts: one line per listener, in the order given,
 * flushed at once; printed only once signals are handled, so the lines
 * mean "ready, and SIGTERM is safe". */
static void print_listeners(const struct listen_arg *ls, size_t nls,
                            const struct ws_addr *bound) {
  size_t i;
  for (i = 0; i < nls; i++) {
    char url[WS_ADDR_STRLEN + 16];
    ws_addr_format_url(url, sizeof(url), ls[i].kind, &bound[i]);
    printf("listening %s\n", url);
  }
  fflush(stdout);
}

int ws_cli_echo(int argc, char **argv) {
  struct ws_echo_config cfg;
  struct state st;
  struct listen_arg *ls;
  struct ws_addr *bound;
  const char **protos, **origins;
  size_t nls = 0;
  int i, rc = 0, verbose = 0, r;
  static const int sigs[] = {SIGINT, SIGTERM};
  memset(&st, 0, sizeof(st));
  for (i = 1; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage_text, stdout);
      return 0;
    }
  ws_echo_config_default(&cfg);
  ls = calloc((size_t)argc + 1, sizeof(*ls));
  protos = calloc((size_t)argc + 1, sizeof(*protos));
  origins = calloc((size_t)argc + 1, sizeof(*origins));
  bound = calloc((size_t)argc + 1, sizeof(*bound));
  if (ls == NULL || protos == NULL || origins == NULL || bound == NULL) {
    fputs("wsspec echo: out of memory\n", stderr);
    rc = 1;
    goto out;
  }
  cfg.protocols = protos;
  cfg.origins = origins;
  for (i = 1; i < argc && rc == 0; i++)
    rc = parse_option(argc, argv, &i, &cfg, ls, &nls, protos, origins,
                      &verbose);
  if (rc != 0)
    goto out;
  for (i = 0; i < (int)cfg.num_protocols; i++)
    if (!ws_http_is_token(protos[i], strlen(protos[i]))) {
      rc = usage_error("invalid subprotocol '%s' (a token is needed)",
                       protos[i]);
      goto out;
    }
  if (nls == 0) {
    ls[0].kind = WS_SCHEME_WS;
    ls[0].text = "127.0.0.1:9001";
    nls = 1;
  }
  cfg.log = log_line;
  cfg.log_connections = (uint8_t)verbose;
  ws_net_ignore_sigpipe();
  ws_net_raise_nofile(NULL);
  r = ws_loop_new(&st.loop, NULL, NULL);
  if (r == 0)
    r = ws_echo_new(&st.echo, st.loop, &cfg, NULL);
  if (r != 0) {
    fprintf(stderr, "wsspec echo: cannot start: %s\n", ws_net_strerror(r));
    rc = r == -EINVAL ? 2 : 1;
    goto out;
  }
  rc = open_listeners(&st, ls, nls, bound);
  if (rc == 0) {
    r = ws_signal_start(st.loop, &st.sig, sigs, 2, on_signal, &st);
    if (r != 0) {
      fprintf(stderr, "wsspec echo: signals: %s\n", ws_net_strerror(r));
      rc = 1;
    }
  }
  if (rc == 0)
    print_listeners(ls, nls, bound);
  else
    ws_echo_shutdown(st.echo, 0, NULL, NULL);
  r = ws_loop_run(st.loop, WS_RUN_DEFAULT);
  if (r < 0 && rc == 0) {
    fprintf(stderr, "wsspec echo: event loop: %s\n", ws_net_strerror(r));
    rc = 1;
  }
  ws_echo_free(st.echo);
out:
  ws_loop_free(st.loop);
  free(ls);
  free(protos);
  free(origins);
  free(bound);
  return rc;
}
