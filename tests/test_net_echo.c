/*
 * test_net_echo.c: the echo servers (echo_server.h) and the server side of
 * the connection driver (ws_conn.h), over loopback with port 0, seen from
 * raw client sockets. The loop runs on a fake clock: timeouts fire only
 * when a test moves the clock, so nothing here sleeps for a timeout.
 *
 * Every test checks the exact bytes on the wire (status lines, echoed
 * frames, close codes and reasons) and that every fd it opened is closed.
 */
#define _DEFAULT_SOURCE
#include "test_support.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/echo_server.h"
#include "net/net_addr.h"
#include "net/net_loop.h"
#include "net/ws_conn.h"
#include "ws/ws_frame.h"

/* ------------------------------------------------------------ helpers */

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  int n = 0;
  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n - 1;
}

struct fake_clock {
  uint64_t now;
};

static uint64_t fake_now(void *user) {
  return ((struct fake_clock *)user)->now;
}

/* An allocator that tracks the peak of live bytes. */
struct peak_mem {
  struct ws_mem mem;
  size_t live, peak;
};

struct pblock {
  size_t size;
  max_align_t align;
};

static void *pm_malloc(size_t n, void *user) {
  struct peak_mem *pm = user;
  struct pblock *b = malloc(sizeof(*b) + n);
  if (b == NULL)
    return NULL;
  b->size = n;
  pm->live += n;
  if (pm->live > pm->peak)
    pm->peak = pm->live;
  return b + 1;
}

static void pm_free(void *p, void *user) {
  struct peak_mem *pm = user;
  struct pblock *b;
  if (p == NULL)
    return;
  b = (struct pblock *)p - 1;
  pm->live -= b->size;
  free(b);
}

static void *pm_realloc(void *p, size_t n, void *user) {
  struct peak_mem *pm = user;
  struct pblock *b;
  if (p == NULL)
    return pm_malloc(n, user);
  b = (struct pblock *)p - 1;
  pm->live -= b->size;
  b = realloc(b, sizeof(*b) + n);
  if (b == NULL)
    return NULL;
  b->size = n;
  pm->live += n;
  if (pm->live > pm->peak)
    pm->peak = pm->live;
  return b + 1;
}

static void peak_mem_init(struct peak_mem *pm) {
  memset(pm, 0, sizeof(*pm));
  pm->mem.user = pm;
  pm->mem.malloc = pm_malloc;
  pm->mem.free = pm_free;
  pm->mem.realloc = pm_realloc;
}

/* A server on a fake-clock loop with WS, TCP and UDP listeners. */
struct env {
  struct fake_clock clk;
  ws_loop *loop;
  ws_echo *e;
  struct ws_echo_config cfg;
  struct ws_addr ws, tcp, udp;
  char log[8][400];
  int nlog;
  int done;
  int fds0;
};

static void env_log(const char *line, void *user) {
  struct env *v = user;
  if (v->nlog < 8)
    snprintf(v->log[v->nlog++], sizeof(v->log[0]), "%s", line);
}

static void env_init(struct env *v) {
  memset(v, 0, sizeof(*v));
  v->fds0 = count_fds();
  v->clk.now = 1000000;
  ws_echo_config_default(&v->cfg);
  v->cfg.log = env_log;
  v->cfg.log_user = v;
  v->cfg.log_connections = 1;
}

static void env_start_mem(struct env *v, const struct ws_mem *mem) {
  struct ws_loop_options lo = {fake_now, &v->clk};
  struct ws_addr a;
  assert_int_equal(ws_loop_new(&v->loop, &lo, NULL), 0);
  assert_int_equal(ws_echo_new(&v->e, v->loop, &v->cfg, mem), 0);
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  assert_int_equal(ws_echo_listen(v->e, WS_SCHEME_WS, &a, &v->ws), 0);
  assert_int_equal(ws_echo_listen(v->e, WS_SCHEME_TCP, &a, &v->tcp), 0);
  assert_int_equal(ws_echo_listen(v->e, WS_SCHEME_UDP, &a, &v->udp), 0);
  assert_int_not_equal(ws_addr_port(&v->ws), 0);
}

static void env_start(struct env *v) { env_start_mem(v, NULL); }

static void pump(struct env *v, int ms) {
  int i;
  for (i = 0; i < ms; i++) {
    ws_loop_run(v->loop, WS_RUN_NOWAIT);
    poll(NULL, 0, 1);
  }
  ws_loop_run(v->loop, WS_RUN_NOWAIT);
}

static void on_done(ws_echo *e, void *user) {
  (void)e;
  ((struct env *)user)->done++;
}

static void env_stop(struct env *v) {
  int i;
  ws_echo_shutdown(v->e, 0, on_done, v);
  for (i = 0; i < 2000 && !v->done; i++)
    pump(v, 1);
  assert_int_equal(v->done, 1);
  assert_false(ws_loop_alive(v->loop));
  assert_int_equal(ws_echo_free(v->e), 0);
  assert_int_equal(ws_loop_free(v->loop), 0);
  assert_int_equal(count_fds(), v->fds0);
}

static int raw_connect(const struct ws_addr *a) {
  int fd = socket(a->sa.sa_family, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  assert_int_equal(connect(fd, &a->sa, ws_addr_len(a)), 0);
  assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
  return fd;
}

static uint16_t local_port(int fd) {
  struct ws_addr a;
  assert_int_equal(ws_addr_local(fd, &a), 0);
  return ws_addr_port(&a);
}

/* Sends everything; returns 0, or -1 when the server dropped us. */
static int send_try(struct env *v, int fd, const void *p, size_t n) {
  const uint8_t *b = p;
  int spins = 0;
  while (n > 0) {
    ssize_t w = send(fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      b += w;
      n -= (size_t)w;
      continue;
    }
    if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
      return -1;
    assert_true(w < 0 && errno == EAGAIN);
    assert_true(++spins < 20000);
    pump(v, 1);
  }
  return 0;
}

static void send_all(struct env *v, int fd, const void *p, size_t n) {
  assert_int_equal(send_try(v, fd, p, n), 0);
}

/* Reads until |want| bytes (or, with |want| = 0, EOF) while the server
 * runs; |*eof| tells whether the peer closed. Fails after |ms|. */
static size_t recv_some(struct env *v, int fd, uint8_t *buf, size_t cap,
                        size_t want, int *eof, int ms) {
  size_t got = 0;
  int i;
  *eof = 0;
  for (i = 0; i < ms; i++) {
    ws_loop_run(v->loop, WS_RUN_NOWAIT);
    for (;;) {
      ssize_t r = recv(fd, buf + got, cap - got, MSG_DONTWAIT);
      if (r > 0) {
        got += (size_t)r;
        if (want && got >= want)
          return got;
        if (got == cap)
          return got;
        continue;
      }
      if (r == 0 || (r < 0 && errno == ECONNRESET)) {
        *eof = r == 0 ? 1 : 2;
        return got;
      }
      break;
    }
    poll(NULL, 0, 1);
  }
  return got;
}

/* Reads everything until EOF; fails on a reset or a timeout. */
static size_t recv_to_eof(struct env *v, int fd, uint8_t *buf, size_t cap) {
  int eof;
  size_t n = recv_some(v, fd, buf, cap, 0, &eof, 3000);
  assert_int_equal(eof, 1);
  return n;
}

static const char request[] =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

/* RFC 6455 Section 1.3: the sample key's accept value. */
static const char response[] =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    "\r\n";

/* Connects and completes the sample handshake. */
static int ws_open(struct env *v) {
  uint8_t buf[256];
  int eof, fd = raw_connect(&v->ws);
  send_all(v, fd, request, sizeof(request) - 1);
  size_t n = recv_some(v, fd, buf, sizeof(buf), sizeof(response) - 1, &eof,
                       3000);
  assert_int_equal(n, sizeof(response) - 1);
  assert_memory_equal(buf, response, n);
  return fd;
}

/* A masked client frame (key 01 02 03 04, minimal length). */
static size_t frame(uint8_t *out, uint8_t b0, const void *payload,
                    size_t n) {
  struct ws_frame_header h;
  ws_ssize r;
  memset(&h, 0, sizeof(h));
  h.fin = (b0 & WS_BIT_FIN) != 0;
  h.rsv = b0 & WS_MASK_RSV;
  h.opcode = b0 & WS_MASK_OPCODE;
  h.masked = 1;
  h.length = n;
  memcpy(h.mask, "\x01\x02\x03\x04", 4);
  r = ws_frame_encode(out, n + WS_FRAME_HEADER_MAX, &h, payload, NULL, NULL);
  assert_true(r > 0);
  return (size_t)r;
}

/* The server's Close for a violation: code and the core's reason. */
static size_t violation_close(uint8_t *out, enum ws_violation_id id) {
  struct ws_violation vi;
  size_t rl;
  ws_violation_set(&vi, id, 0);
  rl = strlen(vi.reason);
  out[0] = 0x88;
  out[1] = (uint8_t)(2 + rl);
  out[2] = (uint8_t)(vi.close_code >> 8);
  out[3] = (uint8_t)vi.close_code;
  memcpy(out + 4, vi.reason, rl);
  return 4 + rl;
}

/* ------------------------------------------------------------- tests */

static void test_echo_listen_urls(void **state) {
  struct env v;
  struct ws_addr a, b6;
  char url[80], want[80];
  int r;
  (void)state;
  env_init(&v);
  env_start(&v);
  ws_addr_format_url(url, sizeof(url), WS_SCHEME_WS, &v.ws);
  snprintf(want, sizeof(want), "ws://127.0.0.1:%u",
           (unsigned)ws_addr_port(&v.ws));
  assert_string_equal(url, want);
  ws_addr_format_url(url, sizeof(url), WS_SCHEME_UDP, &v.udp);
  snprintf(want, sizeof(want), "udp://127.0.0.1:%u",
           (unsigned)ws_addr_port(&v.udp));
  assert_string_equal(url, want);
  assert_int_equal(ws_addr_set(&a, "::1", 0), 0);
  r = ws_echo_listen(v.e, WS_SCHEME_WS, &a, &b6);
  if (r == 0) {
    ws_addr_format_url(url, sizeof(url), WS_SCHEME_WS, &b6);
    snprintf(want, sizeof(want), "ws://[::1]:%u", (unsigned)ws_addr_port(&b6));
    assert_string_equal(url, want);
  } else {
    assert_int_equal(r, -EADDRNOTAVAIL); /* no IPv6 on this host */
  }
  /* The same port again: a clear error, nothing left open. */
  assert_int_equal(ws_echo_listen(v.e, WS_SCHEME_WS, &v.ws, NULL),
                   -EADDRINUSE);
  assert_int_equal(ws_echo_listen(v.e, WS_SCHEME_WSS, &v.ws, NULL),
                   -EINVAL);
  env_stop(&v);
}

static void test_echo_text_binary_ping(void **state) {
  struct env v;
  uint8_t in[256], out[256];
  size_t n = 0, got;
  struct ws_echo_stats st;
  int fd;
  static const uint8_t want[] = "\x81\x05hello"
                                "\x82\x03\x00\x01\x02"
                                "\x8a\x02pp"
                                "\x81\x08" "fragment"
                                "\x82\x00";
  (void)state;
  env_init(&v);
  env_start(&v);
  fd = ws_open(&v);
  n += frame(in + n, 0x81, "hello", 5);
  n += frame(in + n, 0x82, "\x00\x01\x02", 3);
  n += frame(in + n, 0x89, "pp", 2);
  n += frame(in + n, 0x01, "frag", 4);
  n += frame(in + n, 0x80, "ment", 4);
  n += frame(in + n, 0x82, "", 0);
  send_all(&v, fd, in, n);
  int eof;
  got = recv_some(&v, fd, out, sizeof(out), sizeof(want) - 1, &eof, 3000);
  assert_int_equal(got, sizeof(want) - 1);
  assert_memory_equal(out, want, got);
  ws_echo_stats(v.e, &st);
  assert_int_equal(st.ws.messages_in, 4);
  assert_int_equal(st.ws.opened, 1);
  /* "hello" and the binary frame were echoed from the read buffer; the
   * ping's Pong was then queued, so the rest went through the session. */
  assert_int_equal(st.ws.direct_sends, 2);
  assert_int_equal(st.ws.queued_sends, 2);
  close(fd);
  pump(&v, 5);
  env_stop(&v);
}

/*
 * The same request and frames, delivered whole, one byte at a time and
 * split in two at every position: the server writes the same bytes back
 * and closes after the closing handshake every time.
 */
static void deliver(struct env *v, const uint8_t *in, size_t len,
                    const size_t *cuts, size_t ncuts, const uint8_t *want,
                    size_t wlen) {
  uint8_t out[512];
  struct ws_loop_stats ls;
  size_t at = 0, i, n;
  int fd = raw_connect(&v->ws);
  for (i = 0; i <= ncuts; i++) {
    size_t end = i < ncuts ? cuts[i] : len;
    struct guarded g = guarded_copy(in + at, end - at);
    uint64_t reads;
    int spins = 0;
    ws_loop_stats(v->loop, &ls);
    reads = ls.reads;
    send_all(v, fd, g.data, g.len);
    guarded_free(&g);
    at = end;
    /* Wait until the server has read this piece before sending more. */
    do {
      pump(v, 0);
      ws_loop_stats(v->loop, &ls);
      if (ls.reads == reads)
        poll(NULL, 0, 1);
      assert_true(++spins < 3000);
    } while (ls.reads == reads);
  }
  n = recv_to_eof(v, fd, out, sizeof(out));
  assert_int_equal(n, wlen);
  assert_memory_equal(out, want, wlen);
  close(fd);
}

static void test_echo_input_split(void **state) {
  struct env v;
  uint8_t in[512], want[512];
  size_t n = 0, w = 0, k, cuts[512] = {0};
  struct ws_echo_stats st;
  (void)state;
  env_init(&v);
  env_start(&v);
  memcpy(in, request, sizeof(request) - 1);
  n = sizeof(request) - 1;
  n += frame(in + n, 0x81, "hello", 5);
  n += frame(in + n, 0x89, "pp", 2);
  n += frame(in + n, 0x01, "frag", 4);
  n += frame(in + n, 0x80, "ment", 4);
  n += frame(in + n, 0x88, "\x03\xe8", 2);
  memcpy(want, response, sizeof(response) - 1);
  w = sizeof(response) - 1;
  memcpy(want + w, "\x81\x05hello\x8a\x02pp\x81\x08" "fragment\x88\x02\x03\xe8",
         25);
  w += 25;
  deliver(&v, in, n, NULL, 0, want, w);
  for (k = 0; k + 1 < n; k++)
    cuts[k] = k + 1;
  deliver(&v, in, n, cuts, n - 1, want, w);
  for (k = 1; k < n; k++)
    deliver(&v, in, n, &k, 1, want, w);
  pump(&v, 5);
  ws_echo_stats(v.e, &st);
  assert_int_equal(st.ws.opened, n + 1);
  assert_int_equal(st.ws.ended, n + 1);
  assert_int_equal(st.ws.messages_in, 2 * (n + 1));
  assert_int_equal(v.nlog, 0); /* every one ended cleanly */
  env_stop(&v);
}

static void test_echo_close_handshake(void **state) {
  struct env v;
  uint8_t in[64], out[64];
  size_t n;
  int fd;
  (void)state;
  env_init(&v);
  env_start(&v);
  /* RFC 6455 Section 5.5.1: the reply echoes the code; the server then
   * closes TCP without waiting for the client (Section 7.1.1). */
  fd = ws_open(&v);
  n = frame(in, 0x88, "\x0f\xa0" "bye", 5);
  send_all(&v, fd, in, n);
  n = recv_to_eof(&v, fd, out, sizeof(out));
  assert_int_equal(n, 4);
  assert_memory_equal(out, "\x88\x02\x0f\xa0", 4);
  close(fd);
  /* An empty Close is answered with an empty Close. */
  fd = ws_open(&v);
  n = frame(in, 0x88, "", 0);
  send_all(&v, fd, in, n);
  n = recv_to_eof(&v, fd, out, sizeof(out));
  assert_int_equal(n, 2);
  assert_memory_equal(out, "\x88\x00", 2);
  close(fd);
  /* A client that half-closes right after its Close still gets the
   * reply (it may read after shutting down its side). */
  fd = ws_open(&v);
  n = frame(in, 0x88, "\x03\xe9", 2);
  send_all(&v, fd, in, n);
  assert_int_equal(shutdown(fd, SHUT_WR), 0);
  n = recv_to_eof(&v, fd, out, sizeof(out));
  assert_int_equal(n, 4);
  assert_memory_equal(out, "\x88\x02\x03\xe9", 4);
  close(fd);
  pump(&v, 5);
  assert_int_equal(v.nlog, 0);
  /* The client vanishing without a Close is logged as such. */
  fd = ws_open(&v);
  {
    char want[200];
    snprintf(want, sizeof(want),
             "connection closed by 127.0.0.1:%u without a closing handshake",
             (unsigned)local_port(fd));
    close(fd);
    pump(&v, 20);
    assert_int_equal(v.nlog, 1);
    assert_string_equal(v.log[0], want);
  }
  env_stop(&v);
}

struct vcase {
  const char *name;
  const char *hex;        /* the frame, raw (masking as written) */
  enum ws_violation_id id;
  unsigned offset;        /* stream offset of the offending byte */
};

static void test_echo_violations(void **state) {
  static const struct vcase cases[] = {
      {"unmasked", "81 01 78", WS_V_UNMASKED_CLIENT_FRAME, 1},
      {"reserved opcode", "83 80 01 02 03 04", WS_V_RESERVED_OPCODE, 0},
      {"rsv1", "c1 80 01 02 03 04", WS_V_RSV_BITS, 0},
      {"ping 126", "89 fe 00 7e", WS_V_CONTROL_TOO_LONG, 1},
      {"fragmented ping", "09 80 01 02 03 04", WS_V_CONTROL_FRAGMENTED, 0},
      {"length msb", "82 ff 80 00 00 00 00 00 00 00", WS_V_LENGTH_MSB, 2},
      /* 2^63 - 1 bytes announced: refused from the header, 1009, with
       * nothing allocated for it. */
      {"2^63-1", "82 ff 7f ff ff ff ff ff ff ff 01 02 03 04",
       WS_V_MESSAGE_TOO_BIG, 1},
      {"not minimal", "82 fe 00 05", WS_V_LENGTH_NOT_MINIMAL, 1},
      {"continuation", "80 80 01 02 03 04", WS_V_CONTINUATION_WITHOUT_START,
       0},
      /* Autobahn 6.4.x: U+110000, invalid at its second byte (0x90, the
       * 13th payload byte: 6 + 12). Masked with 01 02 03 04. */
      {"utf8", "81 8f 01 02 03 04 cf b8 e2 b9 b8 cd 80 ca bd cc b6 f0 91 82 83",
       WS_V_INVALID_UTF8, 18},
      {"close 1 byte", "88 81 01 02 03 04 02", WS_V_CLOSE_PAYLOAD_1_BYTE, 1},
      {"close 999", "88 82 01 02 03 04 02 e5", WS_V_CLOSE_CODE_INVALID, 7},
  };
  struct env v;
  struct peak_mem pm;
  size_t i;
  (void)state;
  peak_mem_init(&pm);
  env_init(&v);
  env_start_mem(&v, &pm.mem);
  size_t base = pm.live;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint8_t want[160], out[160], *bytes;
    size_t blen, wlen, n;
    char line[400];
    struct ws_violation vi;
    int fd = ws_open(&v);
    bytes = hex_decode(cases[i].hex, &blen);
    v.nlog = 0;
    pm.peak = pm.live;
    send_all(&v, fd, bytes, blen);
    free(bytes);
    wlen = violation_close(want, cases[i].id);
    int eof;
    n = recv_some(&v, fd, out, sizeof(out), 0, &eof, 3000);
    if (eof != 1)
      fail_msg("%s: no EOF (%zu bytes)", cases[i].name, n);
    if (n != wlen || memcmp(out, want, n) != 0)
      fail_msg("%s: wrong Close", cases[i].name);
    /* Bounded memory: no allocation grew with the announced length. */
    assert_true(pm.peak - base < 64 * 1024);
    ws_violation_set(&vi, cases[i].id, cases[i].offset);
    snprintf(line, sizeof(line),
             "protocol violation by 127.0.0.1:%u: %s (RFC 6455 Section %s, "
             "byte %u); closed with %u",
             (unsigned)local_port(fd), vi.reason, vi.section,
             cases[i].offset, (unsigned)vi.close_code);
    /* The server lingers (reading to EOF) until we close our side. */
    close(fd);
    pump(&v, 5);
    assert_int_equal(v.nlog, 1);
    assert_string_equal(v.log[0], line);
  }
  env_stop(&v);
}

/* An echo queued before the bad frame still goes out (Autobahn 3.2). */
static void test_echo_before_violation(void **state) {
  struct env v;
  uint8_t in[64], out[128], want[128];
  size_t n, w;
  int fd;
  (void)state;
  env_init(&v);
  env_start(&v);
  fd = ws_open(&v);
  n = frame(in, 0x81, "first", 5);
  memcpy(in + n, "\x81\x01x", 3);
  n += 3;
  send_all(&v, fd, in, n);
  memcpy(want, "\x81\x05" "first", 7);
  w = 7 + violation_close(want + 7, WS_V_UNMASKED_CLIENT_FRAME);
  n = recv_to_eof(&v, fd, out, sizeof(out));
  assert_int_equal(n, w);
  assert_memory_equal(out, want, w);
  close(fd);
  env_stop(&v);
}

/* Sends |req| raw and returns the first line of the answer; the server
 * must close the connection after it. */
static void refused(struct env *v, const char *req, const char *status) {
  uint8_t out[2048];
  size_t n;
  int fd = raw_connect(&v->ws);
  send_all(v, fd, req, strlen(req));
  n = recv_to_eof(v, fd, out, sizeof(out) - 1);
  out[n] = '\0';
  if (strncmp((char *)out, status, strlen(status)) != 0)
    fail_msg("expected '%s', got '%.60s'", status, (char *)out);
  close(fd);
}

static void test_echo_handshake_refusals(void **state) {
  struct env v;
  char big[12000];
  static const char *const origins[] = {"http://good.example"};
  (void)state;
  env_init(&v);
  v.cfg.origins = origins;
  v.cfg.num_origins = 1;
  env_start(&v);
  refused(&v, "POST / HTTP/1.1\r\nHost: x\r\n\r\n",
          "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\n");
  refused(&v,
          "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
          "Connection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
          "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n");
  refused(&v, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ");
  refused(&v, "GET / HTTP/1.1\nHost: x\r\n\r\n", "HTTP/1.1 400 ");
  snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: x\r\nX: %0*d\r\n\r\n",
           9000, 0);
  refused(&v, big, "HTTP/1.1 431 Request Header Fields Too Large\r\n");
  /* RFC 6455 Section 10.2: an origin not on the list is refused. */
  refused(&v,
          "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
          "Connection: Upgrade\r\nOrigin: http://evil.example\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          "Sec-WebSocket-Version: 13\r\n\r\n",
          "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n"
          "Content-Length: 19\r\nConnection: close\r\n\r\n"
          "origin not allowed\n");
  /* Listed (case-insensitive) and absent origins are accepted. */
  {
    char req[400];
    uint8_t out[256];
    int eof, fd = raw_connect(&v.ws);
    snprintf(req, sizeof(req),
             "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nOrigin: HTTP://Good.Example\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n");
    send_all(&v, fd, req, strlen(req));
    size_t n = recv_some(&v, fd, out, sizeof(out), sizeof(response) - 1,
                         &eof, 3000);
    assert_int_equal(n, sizeof(response) - 1);
    assert_memory_equal(out, response, n);
    close(fd);
    close(ws_open(&v));
  }
  pump(&v, 5);
  env_stop(&v);
}

static void test_echo_subprotocol(void **state) {
  struct env v;
  static const char *const protos[] = {"chat", "superchat"};
  const char *reqs[2] = {
      "Sec-WebSocket-Protocol: other, superchat\r\n"
      "Sec-WebSocket-Protocol: chat\r\n",
      "Sec-WebSocket-Protocol: v1, v2\r\n"};
  const char *want[2] = {"Sec-WebSocket-Protocol: superchat\r\n", NULL};
  int i;
  (void)state;
  env_init(&v);
  v.cfg.protocols = protos;
  v.cfg.num_protocols = 2;
  env_start(&v);
  for (i = 0; i < 2; i++) {
    char req[512];
    uint8_t out[512];
    int eof, fd = raw_connect(&v.ws);
    snprintf(req, sizeof(req),
             "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\n%s"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n",
             reqs[i]);
    send_all(&v, fd, req, strlen(req));
    size_t n = recv_some(&v, fd, out, sizeof(out) - 1, 0, &eof, 50);
    out[n] = '\0';
    assert_int_equal(strncmp((char *)out, "HTTP/1.1 101 ", 13), 0);
    if (want[i])
      assert_non_null(strstr((char *)out, want[i]));
    else
      assert_null(strstr((char *)out, "Sec-WebSocket-Protocol"));
    close(fd);
  }
  pump(&v, 5);
  env_stop(&v);
}

static void test_echo_max_connections(void **state) {
  struct env v;
  uint8_t out[512];
  int fd1, fd2, fd3;
  size_t n;
  struct ws_echo_stats st;
  static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                             "Content-Type: text/plain\r\n"
                             "Content-Length: 21\r\n"
                             "Connection: close\r\n"
                             "Retry-After: 1\r\n"
                             "\r\n"
                             "too many connections\n";
  (void)state;
  env_init(&v);
  v.cfg.max_connections = 2;
  env_start(&v);
  fd1 = ws_open(&v);
  fd2 = raw_connect(&v.tcp); /* a TCP echo connection counts too */
  send_all(&v, fd2, "x", 1);
  int eof;
  assert_int_equal(recv_some(&v, fd2, out, 1, 1, &eof, 3000), 1);
  fd3 = raw_connect(&v.ws);
  send_all(&v, fd3, request, sizeof(request) - 1);
  n = recv_to_eof(&v, fd3, out, sizeof(out));
  assert_int_equal(n, sizeof(busy) - 1);
  assert_memory_equal(out, busy, n);
  close(fd3);
  /* One leaves: the next one is served. */
  close(fd2);
  pump(&v, 10);
  fd3 = ws_open(&v);
  ws_echo_stats(v.e, &st);
  assert_int_equal(st.busy_refused, 1);
  assert_int_equal(ws_echo_connections(v.e), 2);
  close(fd1);
  close(fd3);
  pump(&v, 5);
  env_stop(&v);
}

static void test_echo_handshake_timeout(void **state) {
  struct env v;
  uint8_t out[16];
  int eof, fd;
  (void)state;
  env_init(&v);
  v.cfg.conn.handshake_timeout_ms = 5000;
  env_start(&v);
  fd = raw_connect(&v.ws);
  send_all(&v, fd, request, 20); /* a slow client: part of the head */
  pump(&v, 5);
  v.clk.now += 4999;
  assert_int_equal(recv_some(&v, fd, out, sizeof(out), 0, &eof, 20), 0);
  assert_int_equal(eof, 0);
  v.clk.now += 1;
  assert_int_equal(recv_some(&v, fd, out, sizeof(out), 0, &eof, 3000), 0);
  assert_int_equal(eof, 1);
  pump(&v, 2);
  char want[120];
  snprintf(want, sizeof(want),
           "opening handshake with 127.0.0.1:%u timed out",
           (unsigned)local_port(fd));
  assert_int_equal(v.nlog, 1);
  assert_string_equal(v.log[0], want);
  close(fd);
  env_stop(&v);
}

static void test_echo_idle_timeout(void **state) {
  struct env v;
  uint8_t in[32], out[64];
  size_t n;
  int eof, fd, tfd;
  static const char want[] = "\x88\x0e\x03\xe9" "idle timeout";
  (void)state;
  env_init(&v);
  v.cfg.conn.idle_timeout_ms = 10000;
  env_start(&v);
  fd = ws_open(&v);
  tfd = raw_connect(&v.tcp);
  pump(&v, 5);
  v.clk.now += 9000;
  n = frame(in, 0x89, "", 0); /* activity resets the idle clock */
  send_all(&v, fd, in, n);
  assert_int_equal(recv_some(&v, fd, out, sizeof(out), 2, &eof, 3000), 2);
  v.clk.now += 9000;
  assert_int_equal(recv_some(&v, fd, out, sizeof(out), 0, &eof, 10), 0);
  assert_int_equal(eof, 0);
  /* The TCP echo, silent for 18 s, is gone; the WebSocket is 1 s short. */
  assert_int_equal(recv_some(&v, tfd, out, sizeof(out), 0, &eof, 3000), 0);
  assert_int_equal(eof, 1);
  v.clk.now += 1000;
  n = recv_some(&v, fd, out, sizeof(out), sizeof(want) - 1, &eof, 3000);
  assert_int_equal(n, sizeof(want) - 1);
  assert_memory_equal(out, want, n);
  n = frame(in, 0x88, "\x03\xe9", 2);
  send_all(&v, fd, in, n);
  assert_int_equal(recv_to_eof(&v, fd, out, sizeof(out)), 0);
  close(fd);
  close(tfd);
  env_stop(&v);
}

/* SIGTERM path: Close 1001 to everyone; done once they answered, or at
 * the end of the grace for those who do not. */
static void test_echo_shutdown(void **state) {
  struct env v;
  uint8_t in[32], out[64];
  size_t n;
  int eof, a, b, t, h;
  static const char bye[] = "\x88\x16\x03\xe9" "server shutting down";
  (void)state;
  env_init(&v);
  env_start(&v);
  a = ws_open(&v);
  b = ws_open(&v);
  t = raw_connect(&v.tcp);
  h = raw_connect(&v.ws);
  send_all(&v, h, request, 10);
  pump(&v, 5);
  ws_echo_shutdown(v.e, 3000, on_done, &v);
  n = recv_some(&v, a, out, sizeof(out), sizeof(bye) - 1, &eof, 3000);
  assert_int_equal(n, sizeof(bye) - 1);
  assert_memory_equal(out, bye, n);
  n = recv_some(&v, b, out, sizeof(out), sizeof(bye) - 1, &eof, 3000);
  assert_int_equal(n, sizeof(bye) - 1);
  assert_int_equal(recv_to_eof(&v, t, out, sizeof(out)), 0);
  assert_int_equal(recv_to_eof(&v, h, out, sizeof(out)), 0);
  /* |a| answers and is closed at once; |b| keeps quiet. */
  n = frame(in, 0x88, "\x03\xe9", 2);
  send_all(&v, a, in, n);
  assert_int_equal(recv_to_eof(&v, a, out, sizeof(out)), 0);
  pump(&v, 5);
  assert_int_equal(v.done, 0);
  v.clk.now += 1000; /* the close timeout of |b| */
  assert_int_equal(recv_to_eof(&v, b, out, sizeof(out)), 0);
  pump(&v, 5);
  assert_int_equal(v.done, 1);
  assert_false(ws_loop_alive(v.loop));
  assert_int_equal(ws_echo_free(v.e), 0);
  assert_int_equal(ws_loop_free(v.loop), 0);
  close(a);
  close(b);
  close(t);
  close(h);
  assert_int_equal(count_fds(), v.fds0);
}

static void test_echo_tcp_half_close(void **state) {
  struct env v;
  enum { N = 300000 };
  uint8_t *in = malloc(N), *out = malloc(N + 1);
  size_t got = 0, i;
  int fd;
  (void)state;
  for (i = 0; i < N; i++)
    in[i] = (uint8_t)(i * 7);
  env_init(&v);
  env_start(&v);
  fd = raw_connect(&v.tcp);
  /* Interleave sending and reading so neither side's buffer fills. */
  for (i = 0; i < N; i += 10000) {
    int eof;
    send_all(&v, fd, in + i, 10000);
    got += recv_some(&v, fd, out + got, N + 1 - got, 0, &eof, 2);
  }
  /* RFC 862: after the client's half-close the rest comes back, then
   * the server closes. */
  assert_int_equal(shutdown(fd, SHUT_WR), 0);
  got += recv_to_eof(&v, fd, out + got, N + 1 - got);
  assert_int_equal(got, N);
  assert_memory_equal(out, in, N);
  close(fd);
  free(in);
  free(out);
  pump(&v, 2);
  env_stop(&v);
}

static void test_echo_udp(void **state) {
  struct env v;
  static const size_t sizes[] = {0, 1, 1400, 65507};
  uint8_t *buf = malloc(65536), *out = malloc(65536);
  size_t i, k;
  int fd;
  (void)state;
  env_init(&v);
  env_start(&v);
  fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  assert_true(fd >= 0);
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    ssize_t r = -1;
    int spins;
    for (k = 0; k < sizes[i]; k++)
      buf[k] = (uint8_t)(k + i);
    assert_int_equal(sendto(fd, buf, sizes[i], 0, &v.udp.sa,
                            ws_addr_len(&v.udp)),
                     (ssize_t)sizes[i]);
    for (spins = 0; spins < 3000 && r < 0; spins++) {
      pump(&v, 0);
      r = recv(fd, out, 65536, 0);
      if (r < 0)
        poll(NULL, 0, 1);
    }
    /* One datagram back, with its boundaries. */
    assert_int_equal(r, (ssize_t)sizes[i]);
    if (sizes[i])
      assert_memory_equal(out, buf, sizes[i]);
  }
  close(fd);
  free(buf);
  free(out);
  env_stop(&v);
}

/*
 * A client that writes and never reads: the server stops reading once
 * the echoes waiting for it pass the high-water mark, so its memory stays
 * bounded; when the client reads, everything arrives, in order.
 */
static void test_echo_backpressure(void **state) {
  struct env v;
  struct peak_mem pm;
  enum { MSG = 16384, COUNT = 1024 }; /* 16 MiB in all */
  uint8_t *frame_buf = malloc(MSG + WS_FRAME_HEADER_MAX);
  uint8_t *payload = malloc(MSG), *out = malloc(1 << 20);
  size_t fl, sent = 0, got = 0, want = (size_t)COUNT * (MSG + 4), i, off = 0;
  int fd, stalled = 0, sndbuf = 1 << 20;
  (void)state;
  for (i = 0; i < MSG; i++)
    payload[i] = (uint8_t)i;
  fl = frame(frame_buf, 0x82, payload, MSG);
  peak_mem_init(&pm);
  env_init(&v);
  v.cfg.conn.high_water = 256 * 1024;
  env_start_mem(&v, &pm.mem);
  size_t base = pm.live;
  fd = ws_open(&v);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  /* Write until the server stops taking data. */
  while (sent < COUNT && stalled < 200) {
    ssize_t w;
    pump(&v, 0);
    w = send(fd, frame_buf + off, fl - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      off += (size_t)w;
      if (off == fl) {
        off = 0;
        sent++;
      }
      stalled = 0;
      continue;
    }
    assert_true(w < 0 && errno == EAGAIN);
    stalled++;
    poll(NULL, 0, 1);
  }
  assert_true(sent < COUNT); /* the server did stop reading */
  assert_true(pm.peak - base < 2u << 20);
  /* Now read everything back while sending the rest. */
  while (got < want) {
    int eof;
    ssize_t w;
    if (sent < COUNT) {
      w = send(fd, frame_buf + off, fl - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) {
        off += (size_t)w;
        if (off == fl) {
          off = 0;
          sent++;
        }
      }
    }
    size_t n = recv_some(&v, fd, out, 1 << 20, 0, &eof, 1);
    assert_int_equal(eof, 0);
    for (i = 0; i < n; i++) {
      size_t pos = (got + i) % (MSG + 4);
      uint8_t e = pos == 0 ? 0x82 : pos == 1 ? 126 : pos == 2 ? MSG >> 8
                  : pos == 3 ? (MSG & 0xff) : payload[pos - 4];
      if (out[i] != e)
        fail_msg("byte %zu: %02x, expected %02x", got + i, out[i], e);
    }
    got += n;
  }
  assert_int_equal(sent, COUNT);
  assert_true(pm.peak - base < 2u << 20);
  close(fd);
  free(frame_buf);
  free(payload);
  free(out);
  pump(&v, 5);
  env_stop(&v);
}

/* One read and one write per echoed message, no epoll_ctl, in the steady
 * state (the goal behind the echo benchmark). */
static void test_echo_steady_state_cost(void **state) {
  struct env v;
  uint8_t in[128], out[128];
  struct ws_loop_stats a, b;
  size_t n;
  int i, fd, eof;
  (void)state;
  env_init(&v);
  env_start(&v);
  fd = ws_open(&v);
  n = frame(in, 0x81, "0123456789012345678901234567890123456789012345678901"
                      "234567890123", 64);
  send_all(&v, fd, in, n);
  assert_int_equal(recv_some(&v, fd, out, sizeof(out), 66, &eof, 3000), 66);
  ws_loop_stats(v.loop, &a);
  for (i = 0; i < 100; i++) {
    send_all(&v, fd, in, n);
    assert_int_equal(recv_some(&v, fd, out, sizeof(out), 66, &eof, 3000),
                     66);
    assert_memory_equal(out, "\x81\x40" "0123456789", 12);
  }
  ws_loop_stats(v.loop, &b);
  assert_int_equal(b.reads - a.reads, 100);
  assert_int_equal(b.writes - a.writes, 100);
  assert_int_equal(b.ctl_calls - a.ctl_calls, 0);
  close(fd);
  pump(&v, 5);
  env_stop(&v);
}

/*
 * Every allocation of the server fails once, in turn, while a client
 * connects, echoes a whole and a fragmented message and closes: creating
 * the server reports WS_ENOMEM, a connection may be dropped, and nothing
 * leaks.
 */
static void test_echo_failing_alloc(void **state) {
  long k;
  int full = 0;
  (void)state;
  for (k = 0; k < 200 && !full; k++) {
    struct failing_mem fm;
    struct env v;
    struct ws_loop_options lo;
    struct ws_addr a;
    uint8_t in[128], out[256], want[256];
    size_t n, w;
    int fd, eof;
    failing_mem_init(&fm, k);
    env_init(&v);
    lo.clock = fake_now;
    lo.clock_user = &v.clk;
    assert_int_equal(ws_loop_new(&v.loop, &lo, NULL), 0);
    int r = ws_echo_new(&v.e, v.loop, &v.cfg, &fm.mem);
    if (r != 0) {
      assert_int_equal(r, WS_ENOMEM);
      assert_int_equal(fm.live, 0);
      assert_int_equal(ws_loop_free(v.loop), 0);
      continue;
    }
    assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
    r = ws_echo_listen(v.e, WS_SCHEME_WS, &a, &v.ws);
    if (r != 0) {
      assert_int_equal(r, WS_ENOMEM);
      env_stop(&v);
      assert_int_equal(fm.live, 0);
      continue;
    }
    fd = raw_connect(&v.ws);
    /* The head in two pieces takes the per-connection head buffer. */
    send_try(&v, fd, request, 30);
    pump(&v, 3);
    send_try(&v, fd, request + 30, sizeof(request) - 31);
    n = frame(in, 0x81, "hello", 5);
    n += frame(in + n, 0x02, "ab", 2);
    n += frame(in + n, 0x80, "cd", 2);
    n += frame(in + n, 0x88, "\x03\xe8", 2);
    send_try(&v, fd, in, n);
    memcpy(want, response, sizeof(response) - 1);
    w = sizeof(response) - 1;
    memcpy(want + w, "\x81\x05hello\x82\x04" "abcd\x88\x02\x03\xe8", 17);
    w += 17;
    n = recv_some(&v, fd, out, sizeof(out), 0, &eof, 3000);
    assert_true(eof != 0);
    if (n == w && memcmp(out, want, w) == 0) {
      full = 1;
    } else {
      /* A failure shows as a shorter exchange, then a clean end. */
      assert_true(n <= w);
      assert_memory_equal(out, want, n);
    }
    close(fd);
    pump(&v, 3);
    env_stop(&v);
    assert_int_equal(fm.live, 0);
  }
  assert_true(full);
  assert_true(k > 5);
}

/*
 * A connection that arrives after the loop slept a long time in
 * epoll_wait() gets the full handshake timeout: timers started from I/O
 * callbacks count from the wake-up (a stale loop time once cut the first
 * handshake after 5 idle seconds at once). Real clock, a client thread.
 */
struct late {
  struct ws_addr addr;
  char got[160];
  ssize_t n;
  atomic_int done;
};

static void *late_client(void *arg) {
  struct late *l = arg;
  int fd;
  poll(NULL, 0, 400);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd >= 0 && connect(fd, &l->addr.sa, ws_addr_len(&l->addr)) == 0 &&
      send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL) > 0) {
    size_t at = 0;
    for (;;) {
      ssize_t r = recv(fd, l->got + at, sizeof(l->got) - 1 - at, 0);
      if (r <= 0)
        break;
      at += (size_t)r;
      if (at >= sizeof(response) - 1)
        break;
    }
    l->n = (ssize_t)at;
  }
  if (fd >= 0)
    close(fd);
  atomic_store(&l->done, 1);
  return NULL;
}

static void on_guard(struct ws_timer *t, void *user) {
  (void)t;
  *(int *)user = 1;
}

static void test_echo_timer_after_long_wait(void **state) {
  struct ws_echo_config cfg;
  struct ws_addr a;
  struct late l;
  ws_loop *loop;
  ws_echo *e;
  pthread_t th;
  struct ws_timer guard;
  int i, expired = 0, fds0 = count_fds();
  (void)state;
  memset(&l, 0, sizeof(l));
  ws_echo_config_default(&cfg);
  cfg.conn.handshake_timeout_ms = 200;
  assert_int_equal(ws_loop_new(&loop, NULL, NULL), 0);
  assert_int_equal(ws_echo_new(&e, loop, &cfg, NULL), 0);
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 0), 0);
  assert_int_equal(ws_echo_listen(e, WS_SCHEME_WS, &a, &l.addr), 0);
  assert_int_equal(pthread_create(&th, NULL, late_client, &l), 0);
  /* Blocks in epoll_wait() for ~400 ms until the client connects; then
   * serves it, a guard timer bounding the wait for its end. */
  ws_loop_run(loop, WS_RUN_ONCE);
  ws_timer_init(loop, &guard, on_guard, &expired);
  ws_timer_start(&guard, 3000);
  while (!atomic_load(&l.done) && !expired)
    ws_loop_run(loop, WS_RUN_ONCE);
  ws_timer_stop(&guard);
  assert_int_equal(pthread_join(th, NULL), 0);
  assert_int_equal(l.n, sizeof(response) - 1);
  assert_memory_equal(l.got, response, sizeof(response) - 1);
  ws_echo_shutdown(e, 0, NULL, NULL);
  for (i = 0; i < 100 && ws_loop_alive(loop); i++)
    ws_loop_run(loop, WS_RUN_NOWAIT);
  assert_int_equal(ws_echo_free(e), 0);
  assert_int_equal(ws_loop_free(loop), 0);
  assert_int_equal(count_fds(), fds0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_echo_listen_urls),
      cmocka_unit_test(test_echo_text_binary_ping),
      cmocka_unit_test(test_echo_input_split),
      cmocka_unit_test(test_echo_close_handshake),
      cmocka_unit_test(test_echo_violations),
      cmocka_unit_test(test_echo_before_violation),
      cmocka_unit_test(test_echo_handshake_refusals),
      cmocka_unit_test(test_echo_subprotocol),
      cmocka_unit_test(test_echo_max_connections),
      cmocka_unit_test(test_echo_handshake_timeout),
      cmocka_unit_test(test_echo_idle_timeout),
      cmocka_unit_test(test_echo_shutdown),
      cmocka_unit_test(test_echo_tcp_half_close),
      cmocka_unit_test(test_echo_udp),
      cmocka_unit_test(test_echo_backpressure),
      cmocka_unit_test(test_echo_steady_state_cost),
      cmocka_unit_test(test_echo_failing_alloc),
      cmocka_unit_test(test_echo_timer_after_long_wait),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
