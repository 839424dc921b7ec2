/*
 * test_runner.c: ws_runner over real sockets, against a scripted server
 * thread on 127.0.0.1 (a port the OS picks).
 *
 * The grading itself is test_fuzzer's business; these tests check what
 * only the driver can get wrong: the times it hands to the fuzzers when
 * its loop is slow.
 */
#include "test_support.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "conformance/ws_runner.h"
#include "http/ws_handshake.h"

#define STALL_SHORT_MS 300  /* the first stall: the server acts meanwhile */
#define STALL_LONG_MS 1200  /* longer than the 1 s close timeout */
#define CLOSE_REPLY_MS 200  /* the server's Close reply comes this late */
#define MESSAGE_MAX 65536u  /* 9.1.1 */

static void sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* ---------------------------------------------------- scripted server */

struct script {
  int listen_fd;
  uint16_t port;
  int signal[2];   /* the runner thread -> the server: "stalling now" */
  unsigned masks;  /* mask keys drawn so far (4-octet draws) */
  pthread_t th;
  char failure[160]; /* the server's first complaint; empty: none */
};

static void complain(struct script *s, const char *what) {
  if (s->failure[0] == '\0')
    snprintf(s->failure, sizeof(s->failure), "server: %s (errno %d)", what,
             errno);
}

static int read_exact(struct script *s, int fd, void *buf, size_t n,
                      const char *what) {
  uint8_t *p = buf;
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r <= 0) {
      complain(s, what);
      return -1;
    }
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static void send_all(int fd, const void *buf, size_t n) {
  /* The runner may already have dropped the connection: that is for the
   * verdicts to show, so errors are ignored here (no SIGPIPE). */
  (void)send(fd, buf, n, MSG_NOSIGNAL);
}

/* Reads a request head and answers 101 with the right accept value. */
static int handshake(struct script *s, int fd) {
  char head[2048], accept[WS_ACCEPT_LEN + 1], resp[256];
  size_t len = 0;
  const char *k, *e;
  while (len < 4 || memcmp(head + len - 4, "\r\n\r\n", 4) != 0) {
    if (len == sizeof(head) - 1 || read_exact(s, fd, head + len, 1,
                                              "request head") != 0)
      return -1;
    len++;
  }
  head[len] = '\0';
  k = strstr(head, "Sec-WebSocket-Key: ");
  if (k == NULL) {
    complain(s, "no Sec-WebSocket-Key");
    return -1;
  }
  k += strlen("Sec-WebSocket-Key: ");
  e = strstr(k, "\r\n");
  if (ws_handshake_accept(NULL, k, (size_t)(e - k), accept) != 0) {
    complain(s, "accept value");
    return -1;
  }
  len = (size_t)snprintf(resp, sizeof(resp),
                         "HTTP/1.1 101 Switching Protocols\r\n"
                         "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: %s\r\n\r\n",
                         accept);
  send_all(fd, resp, len);
  return 0;
}

/* One masked client frame, as the server's echo of it: the same header
 * unmasked, then the payload unmasked. */
struct frame {
  uint8_t opcode;
  uint8_t wire[14 + MESSAGE_MAX];
  size_t len;
};

static int read_frame(struct script *s, int fd, struct frame *f,
                      const char *what) {
  uint8_t h[2], ext[8], mask[4];
  uint64_t n;
  size_t hl = 2;
  if (read_exact(s, fd, h, 2, what) != 0)
    return -1;
  n = h[1] & 0x7f;
  if (!(h[1] & 0x80)) {
    complain(s, what);
    return -1;
  }
  if (n >= 126) {
    hl = n == 126 ? 4 : 10;
    if (read_exact(s, fd, ext, hl - 2, what) != 0)
      return -1;
    n = 0;
    for (size_t i = 0; i < hl - 2; i++)
      n = n << 8 | ext[i];
  }
  if (n > MESSAGE_MAX || read_exact(s, fd, mask, 4, what) != 0 ||
      read_exact(s, fd, f->wire + hl, (size_t)n, what) != 0) {
    complain(s, what);
    return -1;
  }
  f->opcode = h[0] & 0x0f;
  f->wire[0] = h[0];
  f->wire[1] = h[1] & 0x7f;
  memcpy(f->wire + 2, ext, hl - 2);
  for (size_t i = 0; i < n; i++)
    f->wire[hl + i] ^= mask[i % 4];
  f->len = hl + (size_t)n;
  return 0;
}

/*
 * Two connections, both running case 9.1.1 (a 64 KiB text message, its
 * echo, then the runner's Close 1000; no killAfter):
 *   1. B opens; its message arrives.
 *   2. A opens. The runner draws A's mask key and stalls STALL_SHORT_MS;
 *      meanwhile the server sends A a Ping, then B its echo. Both are
 *      ready when the runner polls next, A first.
 *   3. One loop pass: A answers the Ping and the runner stalls
 *      STALL_LONG_MS drawing the Pong's mask key; then B reads its echo
 *      and sends its Close, which starts B's 1 s close timeout.
 *   4. B's Close is answered CLOSE_REPLY_MS late: well within 1 s of the
 *      moment it was sent, not within 1 s of the pass's start.
 *   5. A gets its echo and closes as B did, at once.
 */
static void *serve(void *arg) {
  struct script *s = arg;
  static const uint8_t ping[] = {0x89, 0x00},
                       close_1000[] = {0x88, 0x02, 0x03, 0xe8};
  static struct frame fr;
  uint8_t b;
  int fb = -1, fa = -1;
  if ((fb = accept(s->listen_fd, NULL, NULL)) < 0 ||
      (fa = accept(s->listen_fd, NULL, NULL)) < 0) {
    complain(s, "accept");
    goto out;
  }
  if (handshake(s, fb) != 0 || read_frame(s, fb, &fr, "B's message") != 0 ||
      handshake(s, fa) != 0)
    goto out;
  if (poll(&(struct pollfd){.fd = s->signal[0], .events = POLLIN}, 1,
           5000) != 1 ||
      read_exact(s, s->signal[0], &b, 1, "the stall signal") != 0) {
    complain(s, "no stall");
    goto out;
  }
  send_all(fa, ping, sizeof(ping));
  send_all(fb, fr.wire, fr.len);
  if (read_frame(s, fb, &fr, "B's Close") != 0)
    goto out;
  sleep_ms(CLOSE_REPLY_MS);
  send_all(fb, close_1000, sizeof(close_1000));
  close(fb);
  fb = -1;
  if (read_frame(s, fa, &fr, "A's message") != 0)
    goto out;
  send_all(fa, fr.wire, fr.len);
  if (read_frame(s, fa, &fr, "A's Pong") != 0 || fr.opcode != 0xa ||
      read_frame(s, fa, &fr, "A's Close") != 0 || fr.opcode != 0x8) {
    complain(s, "A's Pong and Close");
    goto out;
  }
  send_all(fa, close_1000, sizeof(close_1000));
out:
  if (fb >= 0)
    close(fb);
  if (fa >= 0)
    close(fa);
  return NULL;
}

/* The runner's random source: fixed octets; the 2nd and 3rd mask keys
 * stall the runner's thread (B's message key is the 1st). */
static int stalling_random(uint8_t *buf, size_t len, void *user) {
  struct script *s = user;
  for (size_t i = 0; i < len; i++)
    buf[i] = (uint8_t)(0x5a + 31 * i);
  if (len != 4)
    return 0; /* a Sec-WebSocket-Key */
  switch (s->masks++) {
  case 1:
    if (write(s->signal[1], "x", 1) != 1)
      complain(s, "signal");
    sleep_ms(STALL_SHORT_MS);
    break;
  case 2:
    sleep_ms(STALL_LONG_MS);
    break;
  }
  return 0;
}

static void script_start(struct script *s) {
  struct sockaddr_in a;
  socklen_t alen = sizeof(a);
  struct timeval tv = {5, 0};
  memset(s, 0, sizeof(*s));
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(s->listen_fd >= 0);
  /* A runner that never gets this far must not hang the test. */
  assert_int_equal(setsockopt(s->listen_fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
                              sizeof(tv)),
                   0);
  assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(listen(s->listen_fd, 8), 0);
  assert_int_equal(
      getsockname(s->listen_fd, (struct sockaddr *)&a, &alen), 0);
  s->port = ntohs(a.sin_port);
  assert_int_equal(pipe(s->signal), 0);
  assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void script_end(struct script *s) {
  assert_int_equal(pthread_join(s->th, NULL), 0);
  close(s->listen_fd);
  close(s->signal[0]);
  close(s->signal[1]);
}

/* ------------------------------------------------------------- tests */

/*
 * A Close sent late in a long loop pass must get its whole close timeout
 * from the moment it is sent. The runner used to hand the fuzzers the
 * pass's start time, so after a stall (9.x payloads built under ASan for
 * 32 cases) a Close's timeout had already run out when it left, and a
 * server answering within milliseconds was judged UNCLEAN.
 */
static void test_close_timeout_after_stall(void **state) {
  struct script s;
  struct ws_runner_target t;
  struct ws_runner_options o;
  struct ws_case_result r[2];
  const struct ws_case *cases[2];
  char url[64], err[160];
  (void)state;
  script_start(&s);
  snprintf(url, sizeof(url), "ws://127.0.0.1:%u/", (unsigned)s.port);
  memset(&t, 0, sizeof(t));
  t.url = url;
  t.agent = "scripted";
  memset(&o, 0, sizeof(o));
  o.jobs = 2;
  o.random = stalling_random;
  o.random_user = &s;
  cases[0] = cases[1] = ws_case_find("9.1.1");
  assert_non_null(cases[0]);
  memset(r, 0, sizeof(r));
  assert_int_equal(ws_runner_run(&t, cases, 2, &o, r, err, sizeof(err)), 0);
  script_end(&s);
  assert_string_equal(s.failure, "");
  /* B's message, A's message (short stall), A's Pong (long stall), then
   * both Closes: the scenario ran as scripted. */
  assert_int_equal(s.masks, 5);
  for (int i = 0; i < 2; i++) {
    assert_string_equal(ws_verdict_name(r[i].behavior), "OK");
    assert_string_equal(ws_verdict_name(r[i].behavior_close), "OK");
    assert_int_equal(r[i].was_close_handshake_timeout, 0);
    assert_int_equal(r[i].remote_close_code, 1000);
    ws_case_result_free(&r[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_close_timeout_after_stall),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
