/*
 * cmd_send.c: `wsspec send URL MESSAGE`, the blocking client
 * (ws_client.h) on the command line: connect, handshake, one message,
 * print the reply, close with 1000.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "net/net_loop.h"
#include "net/ws_client.h"
#include "ws/ws_utf8.h"

#define DEFAULT_TIMEOUT_MS 5000u
/* Largest MESSAGE read from standard input. */
#define STDIN_MAX ((size_t)64 << 20)

static const char usage_text[] =
    "usage: wsspec send URL MESSAGE [options]\n"
    "\n"
    "Connects to the WebSocket server at URL (ws://HOST[:PORT][/PATH]),\n"
    "sends MESSAGE as one text message, prints the first message the\n"
    "server sends back (the echo) on stdout, then closes with 1000.\n"
    "MESSAGE '-' reads the message from standard input.\n"
    "\n"
    "options:\n"
    "  --binary             send MESSAGE as a binary message\n"
    "  --timeout T          time for the whole exchange (default 5s);\n"
    "                       seconds, decimals allowed, or with ms / s\n"
    "  --subprotocol NAME   offer a subprotocol (repeatable)\n"
    "  --origin ORIGIN      send this Origin header\n"
    "  --header 'N: V'      send an extra request header (repeatable)\n"
    "  --help               print this help and exit\n"
    "\n"
    "Output: a text reply followed by a newline; a binary reply as raw\n"
    "bytes. Errors are one line on stderr, for example\n"
    "  wsspec send: connect 127.0.0.1:9001: connection refused\n"
    "  wsspec send: handshake refused by 127.0.0.1:9001: HTTP 403 "
    "Forbidden\n"
    "Exit codes: 0 reply printed and closed cleanly; 1 failure (refused,\n"
    "timed out, handshake refused, closed by the server); 2 usage error.\n";

static int usage_error(const char *fmt, const char *arg) {
  return ws_cli_usage_error("send", "send", fmt, arg);
}

static int fail(const char *what) {
  fprintf(stderr, "wsspec send: %s\n", what);
  return 1;
}

/* Reads all of standard input (at most STDIN_MAX bytes). */
static uint8_t *read_stdin(size_t *len) {
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  while (buf != NULL) {
    size_t got = fread(buf + n, 1, cap - n, stdin);
    n += got;
    if (got == 0)
      break;
    if (n == cap) {
      uint8_t *p;
      if (cap >= STDIN_MAX) {
        free(buf);
        return NULL;
      }
      p = realloc(buf, cap * 2);
      if (p == NULL) {
        free(buf);
        return NULL;
      }
      buf = p;
      cap *= 2;
    }
  }
  if (buf != NULL && ferror(stdin)) {
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

/* Milliseconds left until |deadline| (at least 1, so 0 never means "no
 * limit" by accident). */
static uint64_t left(uint64_t deadline) {
  uint64_t now = ws_clock_monotonic(NULL);
  return deadline > now ? deadline - now : 1;
}

struct args {
  const char *url;
  const char *message;
  int binary;
  uint64_t timeout_ms;
  struct ws_client_config cfg;
};

static int parse(int argc, char **argv, struct args *a, const char **protos,
                 const char **headers) {
  int i, r;
  size_t pos = 0;
  for (i = 1; i < argc; i++) {
    const char *v;
    if (strcmp(argv[i], "--binary") == 0) {
      a->binary = 1;
    } else if ((r = ws_cli_opt("send", argc, argv, &i, "--timeout", &v))) {
      if (r < 0)
        return 2;
      if (ws_cli_parse_ms(v, &a->timeout_ms) != 0 || a->timeout_ms == 0)
        return usage_error("invalid duration '%s'", v);
    } else if ((r = ws_cli_opt("send", argc, argv, &i, "--subprotocol",
                               &v))) {
      if (r < 0)
        return 2;
      protos[a->cfg.num_protocols++] = v;
    } else if ((r = ws_cli_opt("send", argc, argv, &i, "--origin", &v))) {
      if (r < 0)
        return 2;
      a->cfg.origin = v;
    } else if ((r = ws_cli_opt("send", argc, argv, &i, "--header", &v))) {
      if (r < 0)
        return 2;
      headers[a->cfg.num_headers++] = v;
    } else if (argv[i][0] == '-' && argv[i][1] == '-' && argv[i][2] != '\0') {
      return usage_error("unknown option '%s'", argv[i]);
    } else if (pos == 0) {
      a->url = argv[i];
      pos++;
    } else if (pos == 1) {
      a->message = argv[i];
      pos++;
    } else {
      return usage_error("unexpected argument '%s'", argv[i]);
    }
  }
  if (pos < 2)
    return usage_error("%s", "URL and MESSAGE are required");
  return 0;
}

/* The exchange itself, once the arguments are good. */
static int exchange(ws_client *c, const struct args *a, const uint8_t *msg,
                    size_t len) {
  struct ws_client_message m;
  uint64_t deadline = ws_clock_monotonic(NULL) + a->timeout_ms;
  int r = ws_client_open(c, a->url);
  if (r == WS_EINVAL) {
    fprintf(stderr, "wsspec send: %s (see wsspec send --help)\n",
            ws_client_error(c));
    return 2;
  }
  if (r != 0)
    return fail(ws_client_error(c));
  r = ws_client_send(c, a->binary ? WS_OP_BINARY : WS_OP_TEXT, msg, len,
                     left(deadline));
  if (r != 0)
    return fail(ws_client_error(c));
  r = ws_client_recv(c, &m, left(deadline));
  if (r == WS_EAGAIN)
    return fail("timed out waiting for the echo");
  if (r != 0) {
    const struct ws_conn_end *e = ws_client_end(c);
    char line[300];
    if (e != NULL && e->close_received && e->peer_closed_first) {
      snprintf(line, sizeof(line),
               "the server closed the connection before replying (%u%s%.*s)",
               (unsigned)e->received_code,
               e->received_reason_len ? ": " : "",
               (int)e->received_reason_len,
               (const char *)e->received_reason);
      return fail(line);
    }
    return fail(ws_client_error(c));
  }
  fwrite(m.data, 1, m.len, stdout);
  if (m.opcode == WS_OP_TEXT)
    fputc('\n', stdout);
  fflush(stdout);
  /* Bounded by the connection's close timeouts: the server's Close,
   * then its TCP close (RFC 6455 Section 7.1.1). */
  r = ws_client_close(c, WS_CLOSE_NORMAL, NULL, 0);
  if (r != 0)
    return fail(ws_client_error(c));
  return 0;
}

int ws_cli_send(int argc, char **argv) {
  struct args a;
  const char **protos = calloc((size_t)argc + 1, sizeof(*protos));
  const char **headers = calloc((size_t)argc + 1, sizeof(*headers));
  uint8_t *owned = NULL;
  const uint8_t *msg;
  size_t len;
  ws_client *c = NULL;
  int i, rc;
  for (i = 1; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage_text, stdout);
      rc = 0;
      goto out;
    }
  if (protos == NULL || headers == NULL) {
    rc = fail("out of memory");
    goto out;
  }
  memset(&a, 0, sizeof(a));
  a.timeout_ms = DEFAULT_TIMEOUT_MS;
  ws_client_config_default(&a.cfg);
  a.cfg.protocols = protos;
  a.cfg.headers = headers;
  rc = parse(argc, argv, &a, protos, headers);
  if (rc != 0)
    goto out;
  if (strcmp(a.message, "-") == 0) {
    owned = read_stdin(&len);
    if (owned == NULL) {
      rc = fail("cannot read the message from standard input");
      goto out;
    }
    msg = owned;
  } else {
    msg = (const uint8_t *)a.message;
    len = strlen(a.message);
  }
  if (!a.binary && ws_utf8_validate(msg, len, NULL) != WS_UTF8_VALID) {
    rc = usage_error("%s", "MESSAGE is not valid UTF-8 (use --binary)");
    goto out;
  }
  /* Each phase is bounded by what is left of the one timeout. */
  a.cfg.conn.connect_timeout_ms = a.timeout_ms;
  a.cfg.conn.handshake_timeout_ms = a.timeout_ms;
  a.cfg.conn.close_timeout_ms = a.timeout_ms < 1000 ? a.timeout_ms : 1000;
  ws_net_ignore_sigpipe();
  if (ws_client_new(&c, &a.cfg, NULL) != 0) {
    rc = fail("cannot create the client");
    goto out;
  }
  rc = exchange(c, &a, msg, len);
out:
  ws_client_free(c);
  free(owned);
  free(protos);
  free(headers);
  return rc;
}
