/*
 * civetweb_echo.c: a WebSocket echo server on libcivetweb (Debian
 * libcivetweb-dev 1.15), a peer of the conformance matrix
 * (tests/peers/peers.py builds it into build/peers/civetweb_echo).
 *
 *   civetweb_echo [PORT]      (0 or absent: the OS picks)
 *
 * Prints `listening ws://127.0.0.1:PORT` once it accepts, and stops on
 * SIGTERM or SIGINT.
 *
 * civetweb hands every frame to the application's data handler: it
 * validates nothing (no UTF-8 check, no reserved-bit or opcode check, no
 * close-code check), does not reassemble fragments, does not answer pings
 * and does not answer a Close. This launcher does the least an echo needs
 * and nothing more, so the verdicts show civetweb's own behaviour:
 *  - fragments are reassembled per message (the handler sees each frame);
 *  - a Ping is answered with a Pong carrying its payload;
 *  - a Close is answered with the same payload, then the connection ends;
 *  - every other frame (whatever its opcode) completes a message that is
 *    written back with the opcode of its first frame.
 */
#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The message being reassembled on one connection. */
struct msg {
  int opcode;
  size_t len;
  char *buf;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static int on_connect(const struct mg_connection *c, void *ud) {
  (void)c;
  (void)ud;
  return 0; /* 0 = accept */
}

static void on_ready(struct mg_connection *c, void *ud) {
  (void)ud;
  mg_set_user_connection_data(c, calloc(1, sizeof(struct msg)));
}

static int on_data(struct mg_connection *c, int bits, char *data, size_t len,
                   void *ud) {
  struct msg *m = mg_get_user_connection_data(c);
  int op = bits & 0x0f, fin = bits & 0x80;
  (void)ud;
  if (m == NULL)
    return 0;
  if (op == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE) {
    mg_websocket_write(c, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, data, len);
    return 0; /* 0 = close the connection */
  }
  if (op == MG_WEBSOCKET_OPCODE_PING) {
    mg_websocket_write(c, MG_WEBSOCKET_OPCODE_PONG, data, len);
    return 1;
  }
  if (op == MG_WEBSOCKET_OPCODE_PONG)
    return 1;
  if (op != MG_WEBSOCKET_OPCODE_CONTINUATION) {
    m->opcode = op;
    m->len = 0;
  }
  char *p = realloc(m->buf, m->len + len + 1);
  if (p == NULL)
    return 0;
  m->buf = p;
  if (len > 0)
    memcpy(m->buf + m->len, data, len);
  m->len += len;
  if (fin) {
    mg_websocket_write(c, m->opcode, m->buf, m->len);
    m->len = 0;
  }
  return 1; /* 1 = keep open */
}

static void on_close(const struct mg_connection *c, void *ud) {
  struct msg *m = mg_get_user_connection_data(c);
  (void)ud;
  if (m != NULL) {
    free(m->buf);
    free(m);
  }
}

int main(int argc, char **argv) {
  char ports[64];
  snprintf(ports, sizeof(ports), "127.0.0.1:%s", argc > 1 ? argv[1] : "0");
  /* tcp_nodelay: civetweb writes a frame's header and payload separately;
   * with Nagle each echo waits ~40 ms for the peer's delayed ACK.
   * websocket_timeout_ms: an idle connection is not cut during a run. */
  const char *opts[] = {"listening_ports", ports, "tcp_nodelay", "1",
                        "websocket_timeout_ms", "3600000", NULL};
  struct mg_callbacks cb;
  struct sigaction sa;

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  mg_init_library(0);
  if (!mg_check_feature(16)) {
    fprintf(stderr, "civetweb_echo: libcivetweb has no WebSocket support\n");
    return 1;
  }
  memset(&cb, 0, sizeof(cb));
  struct mg_context *ctx = mg_start(&cb, NULL, opts);
  if (ctx == NULL) {
    fprintf(stderr, "civetweb_echo: mg_start(%s) failed\n", ports);
    return 1;
  }
  mg_set_websocket_handler(ctx, "**", on_connect, on_ready, on_data, on_close,
                           NULL);
  struct mg_server_port sp[4];
  int n = mg_get_server_ports(ctx, 4, sp);
  if (n < 1 || sp[0].port <= 0) {
    fprintf(stderr, "civetweb_echo: no listening port\n");
    mg_stop(ctx);
    return 1;
  }
  printf("listening ws://127.0.0.1:%d\n", sp[0].port);
  fflush(stdout);
  while (!stop_requested)
    pause();
  mg_stop(ctx);
  mg_exit_library();
  return 0;
}
