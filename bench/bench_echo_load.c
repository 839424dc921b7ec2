/*
 * bench_echo_load.c: a load client for WebSocket echo servers (epoll, one
 * thread), driven by ci/bench-echo, which starts `wsspec echo` and the
 * node ws reference server and turns this program's result lines into
 * `bench NAME VALUE UNIT ratio=R vs=REFERENCE` lines.
 *
 *   bench_echo_load load --port P [--host 127.0.0.1] [--server-pid PID]
 *                   [--conns N] [--size 64] [--warmup S] [--seconds S]
 *                   [--fresh-mask]
 *     N connections, each with one masked TEXT message of --size bytes in
 *     flight (the next one is sent when the echo is back). After the
 *     warm-up, counts echoes over the window and prints
 *       load conns=N msgs=M seconds=T msgs_per_s=R server_cpu_s=C
 *            server_cpu_us_per_msg=U server_cpu_pct=P client_cpu_pct=Q
 *            client_bound=0|1
 *     server_cpu_* come from /proc/PID/stat (utime + stime, every thread)
 *     over the same window; client_bound is 1 when this client used more
 *     than 95 % of a CPU, i.e. the client and not the server was the limit.
 *
 *   bench_echo_load handshake --port P [--server-pid PID] [--warmup S]
 *                   [--seconds S]
 *     Sequential connect + opening handshake + closing handshake (Close
 *     1000, the server's Close, the server's TCP close) and prints
 *       handshake conns=M seconds=T per_s=R server_cpu_us_per_conn=U
 *                 server_cpu_pct=P client_cpu_pct=Q client_bound=0|1
 *
 * Every echo is checked (opcode, length, bytes); any protocol surprise or
 * socket error ends the run with a message and exit status 1. Run without
 * arguments (as the generic loop in ci/bench does) it prints a note and
 * exits 0: it needs a server, which ci/bench-echo provides.
 */
#include "bench_util.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ws/ws_mask.h"

#define MAX_CONNS 4096
#define MAX_SIZE 65535
#define HS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define HS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" /* RFC 6455 Section 1.3 */

struct opts {
  const char *mode;
  const char *host;
  int port;
  int server_pid;
  int conns;
  size_t size;
  double warmup;
  double seconds;
  int fresh_mask;
};

struct conn {
  int fd;
  size_t out_off;   /* bytes of the current frame already written */
  size_t in_len;    /* bytes buffered in |in| */
  uint8_t in[MAX_SIZE + 16];
};

struct load {
  const struct opts *o;
  int ep;
  struct conn *c;
  uint8_t frame[MAX_SIZE + 14]; /* the frame every connection sends */
  size_t frame_len;
  uint8_t payload[MAX_SIZE];    /* the unmasked payload (expected echo) */
  uint64_t rng;
  uint64_t echoes;
};

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("bench_echo_load: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static double cpu_self(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
         (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

/* utime + stime of |pid| in seconds (all threads), or -1 without a pid. */
static double cpu_of(int pid) {
  if (pid <= 0)
    return -1;
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f)
    die("cannot read %s: %s", path, strerror(errno));
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  /* Fields after the ")" closing the command name: state is field 3,
   * utime 14, stime 15 (proc(5)). */
  char *p = strrchr(buf, ')');
  if (!p)
    die("cannot parse %s", path);
  unsigned long ut = 0, st = 0;
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
             &ut, &st) != 2)
    die("cannot parse %s", path);
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int open_conn(const struct opts *o) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)o->port);
  if (inet_pton(AF_INET, o->host, &a.sin_addr) != 1)
    die("bad IPv4 address %s", o->host);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    die("socket: %s", strerror(errno));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
    die("connect %s:%d: %s", o->host, o->port, strerror(errno));
  return fd;
}

static void write_all(int fd, const void *p, size_t len) {
  const uint8_t *b = p;
  while (len > 0) {
    ssize_t n = write(fd, b, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      die("write: %s", n < 0 ? strerror(errno) : "0 bytes");
    b += n;
    len -= (size_t)n;
  }
}

/* Blocking opening handshake. The server sends nothing unasked, so any
 * byte after the 101 head is a protocol surprise. */
static void handshake(int fd, const struct opts *o) {
  char req[256], resp[2048];
  int n = snprintf(req, sizeof req,
                   "GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: " HS_KEY "\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n",
                   o->host, o->port);
  write_all(fd, req, (size_t)n);
  size_t got = 0;
  char *end = NULL;
  while (!end) {
    if (got == sizeof resp - 1)
      die("handshake response over %zu bytes", sizeof resp - 1);
    ssize_t r = read(fd, resp + got, sizeof resp - 1 - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      die("handshake: %s", r < 0 ? strerror(errno) : "server closed");
    got += (size_t)r;
    resp[got] = 0;
    end = strstr(resp, "\r\n\r\n");
  }
  if (strncmp(resp, "HTTP/1.1 101 ", 13) != 0 || !strstr(resp, HS_ACCEPT))
    die("handshake refused: %.60s", resp);
  if ((size_t)(end + 4 - resp) != got)
    die("handshake: bytes after the 101 head");
}

static uint32_t next_rand(struct load *l) {
  l->rng ^= l->rng << 13; /* xorshift64 */
  l->rng ^= l->rng >> 7;
  l->rng ^= l->rng << 17;
  return (uint32_t)(l->rng >> 16);
}

/* Builds the masked TEXT frame; with --fresh-mask called before each send. */
static void build_frame(struct load *l, uint32_t key32) {
  size_t n = l->o->size, h = 0;
  l->frame[h++] = 0x81; /* FIN + TEXT */
  if (n < 126) {
    l->frame[h++] = (uint8_t)(0x80 | n);
  } else {
    l->frame[h++] = 0x80 | 126;
    l->frame[h++] = (uint8_t)(n >> 8);
    l->frame[h++] = (uint8_t)n;
  }
  uint8_t key[4];
  memcpy(key, &key32, 4);
  memcpy(l->frame + h, key, 4);
  h += 4;
  memcpy(l->frame + h, l->payload, n);
  ws_mask_apply(l->frame + h, n, key, 0);
  l->frame_len = h + n;
}

static void arm(struct load *l, struct conn *c, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
    die("epoll_ctl: %s", strerror(errno));
}

/* Writes what is left of the current frame; arms EPOLLOUT when the socket
 * is full, EPOLLIN when the frame is out. */
static void push(struct load *l, struct conn *c) {
  while (c->out_off < l->frame_len) {
    ssize_t n = write(c->fd, l->frame + c->out_off, l->frame_len - c->out_off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN) {
      arm(l, c, EPOLLOUT);
      return;
    }
    if (n <= 0)
      die("write: %s", n < 0 ? strerror(errno) : "0 bytes");
    c->out_off += (size_t)n;
  }
}

static void send_next(struct load *l, struct conn *c) {
  if (l->o->fresh_mask)
    build_frame(l, next_rand(l));
  c->out_off = 0;
  push(l, c);
}

/* Consumes complete echoes from c->in; returns 1 when one was complete. */
static int take_echo(struct load *l, struct conn *c) {
  size_t n = l->o->size, h = n < 126 ? 2 : 4;
  if (c->in_len < h + n)
    return 0;
  uint8_t *p = c->in;
  if (p[0] != 0x81)
    die("unexpected frame byte 0 = 0x%02x (expected FIN+TEXT)", p[0]);
  size_t len = p[1] & 0x7f;
  if (p[1] & 0x80)
    die("server frame is masked");
  if (len == 126)
    len = (size_t)p[2] << 8 | p[3];
  if (len != n || memcmp(p + h, l->payload, n) != 0)
    die("echo differs from the message sent");
  memmove(c->in, c->in + h + n, c->in_len - h - n);
  c->in_len -= h + n;
  if (c->in_len)
    die("more than one message in flight came back");
  return 1;
}

static void on_readable(struct load *l, struct conn *c) {
  for (;;) {
    ssize_t r = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0 && errno == EAGAIN)
      return;
    if (r <= 0)
      die("read: %s", r < 0 ? strerror(errno) : "server closed");
    c->in_len += (size_t)r;
    if (take_echo(l, c)) {
      l->echoes++;
      send_next(l, c);
      return;
    }
  }
}

static void run_until(struct load *l, double end) {
  struct epoll_event ev[256];
  for (;;) {
    double left = end - bench_now();
    if (left <= 0)
      return;
    int n = epoll_wait(l->ep, ev, 256, (int)(left * 1000) + 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
      struct conn *c = ev[i].data.ptr;
      if (ev[i].events & EPOLLOUT) {
        arm(l, c, EPOLLIN);
        push(l, c);
      }
      if (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(l, c);
    }
  }
}

static int run_load(const struct opts *o) {
  static struct load l; /* large buffers: not on the stack */
  l.o = o;
  l.rng = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < o->size; i++)
    l.payload[i] = (uint8_t)('a' + i % 26);
  build_frame(&l, 0x5a3c96e1u);
  l.c = calloc((size_t)o->conns, sizeof *l.c);
  l.ep = epoll_create1(0);
  if (!l.c || l.ep < 0)
    die("out of memory or epoll_create1 failed");
  for (int i = 0; i < o->conns; i++) {
    struct conn *c = &l.c[i];
    c->fd = open_conn(o);
    handshake(c->fd, o);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(l.ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
      die("epoll_ctl: %s", strerror(errno));
  }
  for (int i = 0; i < o->conns; i++)
    send_next(&l, &l.c[i]);
  run_until(&l, bench_now() + o->warmup);
  uint64_t e0 = l.echoes;
  double s0 = cpu_of(o->server_pid), c0 = cpu_self(), t0 = bench_now();
  run_until(&l, t0 + o->seconds);
  uint64_t msgs = l.echoes - e0;
  double dt = bench_now() - t0, cc = cpu_self() - c0;
  double sc = o->server_pid > 0 ? cpu_of(o->server_pid) - s0 : -1;
  double rate = (double)msgs / dt;
  printf("load conns=%d size=%zu msgs=%llu seconds=%.3f msgs_per_s=%.0f "
         "server_cpu_s=%.3f server_cpu_us_per_msg=%.3f server_cpu_pct=%.1f "
         "client_cpu_pct=%.1f client_bound=%d\n",
         o->conns, o->size, (unsigned long long)msgs, dt, rate, sc,
         sc >= 0 && msgs ? sc * 1e6 / (double)msgs : -1,
         sc >= 0 ? 100 * sc / dt : -1, 100 * cc / dt, cc / dt > 0.95);
  for (int i = 0; i < o->conns; i++)
    close(l.c[i].fd);
  close(l.ep);
  free(l.c);
  return 0;
}

/* One connect + opening handshake + closing handshake, sequential. */
static void one_session(const struct opts *o) {
  static const uint8_t close_frame[] = {0x88, 0x82, 1, 2, 3, 4,
                                        0x03 ^ 1, 0xe8 ^ 2};
  int fd = open_conn(o);
  handshake(fd, o);
  write_all(fd, close_frame, sizeof close_frame);
  uint8_t buf[64];
  size_t got = 0;
  for (;;) { /* the server's Close (1000), then its TCP close */
    ssize_t r = read(fd, buf + got, sizeof buf - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      die("closing handshake: %s", strerror(errno));
    if (r == 0)
      break;
    got += (size_t)r;
    if (got == sizeof buf)
      die("closing handshake: too many bytes");
  }
  if (got != 4 || buf[0] != 0x88 || buf[1] != 2 || buf[2] != 0x03 ||
      buf[3] != 0xe8)
    die("closing handshake: expected Close 1000, got %zu bytes", got);
  close(fd);
}

static int run_handshakes(const struct opts *o) {
  double end = bench_now() + o->warmup;
  while (bench_now() < end)
    one_session(o);
  double s0 = cpu_of(o->server_pid), c0 = cpu_self(), t0 = bench_now();
  unsigned long n = 0;
  end = t0 + o->seconds;
  while (bench_now() < end) {
    one_session(o);
    n++;
  }
  double dt = bench_now() - t0, cc = cpu_self() - c0;
  double sc = o->server_pid > 0 ? cpu_of(o->server_pid) - s0 : -1;
  printf("handshake conns=%lu seconds=%.3f per_s=%.0f server_cpu_s=%.3f "
         "server_cpu_us_per_conn=%.3f server_cpu_pct=%.1f "
         "client_cpu_pct=%.1f client_bound=%d\n",
         n, dt, (double)n / dt, sc, sc >= 0 && n ? sc * 1e6 / (double)n : -1,
         sc >= 0 ? 100 * sc / dt : -1, 100 * cc / dt, cc / dt > 0.95);
  return 0;
}

static void usage(FILE *f) {
  fputs("usage: bench_echo_load load|handshake --port P [--host IPV4]\n"
        "         [--server-pid PID] [--conns N] [--size BYTES]\n"
        "         [--warmup S] [--seconds S] [--fresh-mask]\n"
        "(normally run by ci/bench-echo, which starts the servers)\n",
        f);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs("bench_echo_load: needs a running echo server; ci/bench-echo "
          "runs it (see --help)\n",
          stderr);
    return 0;
  }
  if (strcmp(argv[1], "--help") == 0) {
    usage(stdout);
    return 0;
  }
  struct opts o = {argv[1], "127.0.0.1", 0, 0, 1, 64, 1.0, 5.0, 0};
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--fresh-mask") == 0) {
      o.fresh_mask = 1;
      continue;
    }
    if (!v) {
      usage(stderr);
      return 2;
    }
    i++;
    if (strcmp(a, "--port") == 0)
      o.port = atoi(v);
    else if (strcmp(a, "--host") == 0)
      o.host = v;
    else if (strcmp(a, "--server-pid") == 0)
      o.server_pid = atoi(v);
    else if (strcmp(a, "--conns") == 0)
      o.conns = atoi(v);
    else if (strcmp(a, "--size") == 0)
      o.size = (size_t)atol(v);
    else if (strcmp(a, "--warmup") == 0)
      o.warmup = atof(v);
    else if (strcmp(a, "--seconds") == 0)
      o.seconds = atof(v);
    else {
      usage(stderr);
      return 2;
    }
  }
  if (o.port <= 0 || o.port > 65535 || o.conns < 1 || o.conns > MAX_CONNS ||
      o.size > MAX_SIZE || o.seconds <= 0 || o.warmup < 0) {
    usage(stderr);
    return 2;
  }
  if (strcmp(o.mode, "load") == 0)
    return run_load(&o);
  if (strcmp(o.mode, "handshake") == 0)
    return run_handshakes(&o);
  usage(stderr);
  return 2;
}
