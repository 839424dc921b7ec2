/*
 * net_stream.c: the output queue and the write-through stream.
 */
#include "net_stream.h"

#include <errno.h>
#include <string.h>

#include "net_tcp.h"

/* First allocation of a queue; doubled as needed. */
#define WBUF_MIN 4096
/* A drained queue larger than this gives its buffer back. */
#define WBUF_KEEP (256 * 1024)

void ws_wbuf_init(struct ws_wbuf *b, const struct ws_mem *mem,
                  size_t high_water) {
  memset(b, 0, sizeof(*b));
  b->mem = mem ? mem : ws_mem_default();
  b->high_water = high_water;
}

void ws_wbuf_free(struct ws_wbuf *b) {
  if (b->data)
    b->mem->free(b->data, b->mem->user);
  b->data = NULL;
  b->off = b->len = b->cap = 0;
}

size_t ws_wbuf_pending(const struct ws_wbuf *b) { return b->len - b->off; }

const uint8_t *ws_wbuf_data(const struct ws_wbuf *b) {
  return b->data ? b->data + b->off : NULL;
}

int ws_wbuf_over(const struct ws_wbuf *b) {
  return b->high_water > 0 && ws_wbuf_pending(b) >= b->high_water;
}

/* Makes |n| bytes of room after the queued ones. */
static int make_room(struct ws_wbuf *b, size_t n) {
  size_t pend = b->len - b->off, cap;
  uint8_t *p;
  if (b->cap - b->len >= n)
    return 0;
  /* Sliding down costs |pend| bytes, paid for by the |off| >= |pend|
   * bytes already sent: amortised, never quadratic. */
  if (b->off >= pend && b->cap - pend >= n) {
    memmove(b->data, b->data + b->off, pend);
    b->off = 0;
    b->len = pend;
    return 0;
  }
  if (n > SIZE_MAX / 2 - pend)
    return WS_ENOMEM;
  cap = b->cap ? b->cap : WBUF_MIN;
  while (cap < pend + n)
    cap *= 2;
  /* malloc + copy rather than realloc: only the live bytes move. */
  p = b->mem->malloc(cap, b->mem->user);
  if (p == NULL)
    return WS_ENOMEM;
  if (pend)
    memcpy(p, b->data + b->off, pend);
  if (b->data)
    b->mem->free(b->data, b->mem->user);
  b->data = p;
  b->cap = cap;
  b->off = 0;
  b->len = pend;
  return 0;
}

int ws_wbuf_append(struct ws_wbuf *b, const void *p, size_t n) {
  int r;
  if (n == 0)
    return 0;
  r = make_room(b, n);
  if (r != 0)
    return r;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

uint8_t *ws_wbuf_reserve(struct ws_wbuf *b, size_t n) {
  if (make_room(b, n ? n : 1) != 0)
    return NULL;
  return b->data + b->len;
}

void ws_wbuf_commit(struct ws_wbuf *b, size_t n) {
  if (n > b->cap - b->len)
    n = b->cap - b->len;
  b->len += n;
}

void ws_wbuf_consume(struct ws_wbuf *b, size_t n) {
  if (n > b->len - b->off)
    n = b->len - b->off;
  b->off += n;
  if (b->off == b->len)
    b->off = b->len = 0;
}

ws_ssize ws_wbuf_flush(struct ws_wbuf *b, int fd) {
  ws_ssize n;
  if (b->len == b->off)
    return 0;
  n = ws_net_write(fd, b->data + b->off, b->len - b->off);
  if (n == -EAGAIN)
    return 0;
  if (n > 0)
    ws_wbuf_consume(b, (size_t)n);
  return n;
}

void ws_wbuf_trim(struct ws_wbuf *b, size_t keep) {
  if (b->len == b->off && b->cap > keep)
    ws_wbuf_free(b);
}

/* ------------------------------------------------------------ stream */

/* Recomputes the interest; epoll_ctl() only when it changes. */
static int update(struct ws_stream *s) {
  unsigned want = 0;
  size_t pend = ws_wbuf_pending(&s->out);
  if (s->paused && (pend == 0 || pend <= s->out.high_water / 2))
    s->paused = 0;
  else if (!s->paused && ws_wbuf_over(&s->out))
    s->paused = 1;
  if (s->reading && !s->paused)
    want |= WS_IO_READ;
  if (pend > 0)
    want |= WS_IO_WRITE;
  return ws_io_update(&s->io, want);
}

static int do_shutdown(struct ws_stream *s) {
  s->shut_pending = 0;
  s->shut_done = 1;
  return ws_tcp_shutdown(s->io.fd);
}

/* The socket is writable: one write of the queue. Returns 1 when the
 * queue drained, 0 when bytes remain, or -errno. */
static int on_writable(struct ws_stream *s) {
  ws_ssize n = ws_wbuf_flush(&s->out, s->io.fd);
  int r;
  ws__loop_count(s->io.loop, 0, 1);
  if (n < 0)
    return (int)n;
  if (ws_wbuf_pending(&s->out) > 0)
    return update(s);
  ws_wbuf_trim(&s->out, WBUF_KEEP);
  if (s->shut_pending) {
    r = do_shutdown(s);
    if (r != 0)
      return r;
  }
  r = update(s);
  return r != 0 ? r : 1;
}

static void on_io(struct ws_io *io, unsigned events, void *user) {
  struct ws_stream *s = user;
  int r;
  (void)io;
  if ((events & WS_IO_WRITE) && ws_wbuf_pending(&s->out) > 0) {
    r = on_writable(s);
    if (r < 0) {
      s->cb(s, WS_STREAM_ERROR, r, s->user);
      return;
    }
    if (r == 1) {
      s->cb(s, WS_STREAM_DRAINED, 0, s->user);
      return;
    }
  }
  if ((events & WS_IO_READ) && s->reading && !s->paused) {
    s->cb(s, WS_STREAM_READABLE, 0, s->user);
    return;
  }
  if (events & (WS_IO_ERR | WS_IO_HUP)) {
    /* Nobody is reading or writing, so no call will return the error. */
    r = ws_tcp_connect_result(s->io.fd);
    s->cb(s, WS_STREAM_ERROR, r != 0 ? r : -EPIPE, s->user);
  }
}

int ws_stream_start(ws_loop *loop, struct ws_stream *s, int fd,
                    const struct ws_mem *mem, size_t high_water,
                    ws_stream_cb cb, void *user) {
  int r;
  if (cb == NULL)
    return -EINVAL;
  memset(s, 0, sizeof(*s));
  ws_wbuf_init(&s->out, mem, high_water);
  s->cb = cb;
  s->user = user;
  s->reading = 1;
  r = ws_io_start(loop, &s->io, fd, WS_IO_READ, on_io, s);
  if (r != 0)
    s->io.fd = -1;
  return r;
}

ws_ssize ws_stream_read(struct ws_stream *s, void *buf, size_t cap) {
  ws__loop_count(s->io.loop, 1, 0);
  return ws_net_read(s->io.fd, buf, cap);
}

int ws_stream_read_start(struct ws_stream *s) {
  s->reading = 1;
  return update(s);
}

int ws_stream_read_stop(struct ws_stream *s) {
  s->reading = 0;
  return update(s);
}

size_t ws_stream_pending(const struct ws_stream *s) {
  return ws_wbuf_pending(&s->out);
}

/* Queues the iovecs from byte |skip| on. */
static int queue_rest(struct ws_stream *s, const struct iovec *iov,
                      int iovcnt, size_t skip) {
  size_t total = 0, at = 0;
  uint8_t *dst;
  int i;
  for (i = 0; i < iovcnt; i++)
    total += iov[i].iov_len;
  dst = ws_wbuf_reserve(&s->out, total - skip);
  if (dst == NULL)
    return WS_ENOMEM;
  for (i = 0; i < iovcnt; i++) {
    size_t len = iov[i].iov_len;
    const uint8_t *src = iov[i].iov_base;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    memcpy(dst + at, src + skip, len - skip);
    at += len - skip;
    skip = 0;
  }
  ws_wbuf_commit(&s->out, at);
  return 0;
}

int ws_stream_writev(struct ws_stream *s, const struct iovec *iov,
                     int iovcnt) {
  size_t total = 0;
  ws_ssize n = 0;
  int i, r;
  if (s->shut_pending || s->shut_done)
    return -EPIPE;
  for (i = 0; i < iovcnt; i++)
    total += iov[i].iov_len;
  if (total == 0)
    return 0;
  if (ws_wbuf_pending(&s->out) == 0) {
    /* The steady state: straight to the socket, nothing copied. */
    n = ws_net_writev(s->io.fd, iov, iovcnt);
    ws__loop_count(s->io.loop, 0, 1);
    if (n == (ws_ssize)total)
      return 0;
    if (n == -EAGAIN)
      n = 0;
    else if (n < 0)
      return (int)n;
    r = queue_rest(s, iov, iovcnt, (size_t)n);
    if (r != 0)
      return r;
    return update(s);
  }
  r = queue_rest(s, iov, iovcnt, 0);
  if (r != 0)
    return r;
  /* Bytes committed without a flush: no WRITE interest to send them. */
  if (!(s->io.interest & WS_IO_WRITE))
    return ws_stream_flush(s);
  return update(s);
}

int ws_stream_write(struct ws_stream *s, const void *p, size_t n) {
  struct iovec iov;
  iov.iov_base = (void *)p;
  iov.iov_len = n;
  return ws_stream_writev(s, &iov, 1);
}

uint8_t *ws_stream_reserve(struct ws_stream *s, size_t n) {
  return ws_wbuf_reserve(&s->out, n);
}

void ws_stream_commit(struct ws_stream *s, size_t n) {
  ws_wbuf_commit(&s->out, n);
}

int ws_stream_flush(struct ws_stream *s) {
  ws_ssize n;
  if ((s->io.interest & WS_IO_WRITE) || ws_wbuf_pending(&s->out) == 0)
    return 0;
  n = ws_wbuf_flush(&s->out, s->io.fd);
  ws__loop_count(s->io.loop, 0, 1);
  if (n < 0)
    return (int)n;
  if (ws_wbuf_pending(&s->out) == 0 && s->shut_pending) {
    int r = do_shutdown(s);
    if (r != 0)
      return r;
  }
  return update(s);
}

int ws_stream_shutdown(struct ws_stream *s) {
  if (s->shut_done || s->shut_pending)
    return 0;
  if (ws_wbuf_pending(&s->out) > 0) {
    s->shut_pending = 1;
    return ws_stream_flush(s);
  }
  return do_shutdown(s);
}

void ws_stream_close(struct ws_stream *s) {
  if (s->io.fd < 0)
    return;
  ws_io_close(&s->io);
  ws_wbuf_free(&s->out);
}
