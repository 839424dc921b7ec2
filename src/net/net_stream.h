/*
 * net_stream.h: an output queue with a high-water mark, and a connection
 * (struct ws_stream) that writes through it with backpressure.
 *
 * The steady-state cost of an echoed message over a struct ws_stream is
 * one read() and one write() (send/sendmsg): writes go straight to the
 * socket while nothing is queued, and only the part a partial write left
 * behind is copied into the queue. WS_IO_WRITE is armed only while bytes
 * are queued, and reading is suspended while the queue is at or above
 * the high-water mark (resumed at half of it), so a peer that does not
 * read cannot make us buffer without bound. No allocation per message:
 * the queue keeps its buffer between messages.
 *
 * Ownership: the caller allocates both structs (inside its connection
 * struct); they must not move while started.
 */
#ifndef WS_NET_STREAM_H
#define WS_NET_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../core/ws_core.h"
#include "net_error.h"
#include "net_loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------ output queue */

/* A growable byte queue. All fields are private. */
struct ws_wbuf {
  uint8_t *data;
  size_t off; /* first queued byte */
  size_t len; /* end of the queued bytes */
  size_t cap;
  size_t high_water;
  const struct ws_mem *mem;
};

/* Empties |b| without allocating. |mem| NULL = default allocator;
 * |high_water| 0 = ws_wbuf_over() is never true. */
void ws_wbuf_init(struct ws_wbuf *b, const struct ws_mem *mem,
                  size_t high_water);

/* Releases the buffer; |b| is then empty and reusable. */
void ws_wbuf_free(struct ws_wbuf *b);

/* Bytes queued. */
size_t ws_wbuf_pending(const struct ws_wbuf *b);

/* The first queued byte (valid until the next call on |b|); NULL when
 * nothing has ever been allocated. */
const uint8_t *ws_wbuf_data(const struct ws_wbuf *b);

/* Returns 1 when a high-water mark is set and pending >= it. */
int ws_wbuf_over(const struct ws_wbuf *b);

/* Copies |n| bytes to the end of the queue. 0 or WS_ENOMEM (the queue is
 * then unchanged). */
int ws_wbuf_append(struct ws_wbuf *b, const void *p, size_t n);

/*
 * Returns room for |n| bytes at the end of the queue, for encoding in
 * place, or NULL (WS_ENOMEM). Nothing is queued until ws_wbuf_commit();
 * the pointer is valid until the next call on |b|.
 */
uint8_t *ws_wbuf_reserve(struct ws_wbuf *b, size_t n);

/* Queues |n| bytes written at ws_wbuf_reserve() (n <= what was reserved). */
void ws_wbuf_commit(struct ws_wbuf *b, size_t n);

/* Drops |n| bytes from the front (n <= pending). */
void ws_wbuf_consume(struct ws_wbuf *b, size_t n);

/*
 * One write() of the queued bytes to |fd|; what was written is consumed.
 * Returns the bytes written (0 when the socket is full or nothing is
 * queued), or -errno (-EPIPE, -ECONNRESET...).
 */
ws_ssize ws_wbuf_flush(struct ws_wbuf *b, int fd);

/*
 * Frees the buffer when the queue is empty and it grew beyond |keep|
 * bytes, so one large message does not pin memory for the connection's
 * life.
 */
void ws_wbuf_trim(struct ws_wbuf *b, size_t keep);

/* ------------------------------------------------------------ stream */

struct ws_stream;

enum ws_stream_event {
  /* The fd has input (or EOF, or an error that read() will return):
   * call ws_stream_read() once or more. Level-triggered: input left
   * unread is reported again. Not delivered while reading is stopped or
   * paused by backpressure. */
  WS_STREAM_READABLE = 1,
  /* The queue became empty after a partial write (and, if requested,
   * the half-close was done). Only after partial writes: a write that
   * completes at once reports nothing. */
  WS_STREAM_DRAINED,
  /* A queued write or the connection failed; |status| is -errno. Close
   * the stream: it is reported again on every iteration otherwise. */
  WS_STREAM_ERROR
};

/*
 * At most one event per wake-up. The stream may be closed, and its memory
 * freed, inside the callback.
 */
typedef void (*ws_stream_cb)(struct ws_stream *s, enum ws_stream_event ev,
                             int status, void *user);

struct ws_stream {
  /* public */
  void *user;
  /* public, read-only: io.fd is the socket */
  struct ws_io io;
  struct ws_wbuf out;
  /* private */
  ws_stream_cb cb;
  uint8_t reading;      /* the caller wants READABLE */
  uint8_t paused;       /* reading suspended by backpressure */
  uint8_t shut_pending; /* shutdown(SHUT_WR) once the queue drains */
  uint8_t shut_done;
};

/*
 * Takes ownership of the connected, non-blocking |fd| and starts watching
 * it for input. |high_water| is the queue size at which reading pauses
 * (0: never). |mem| NULL = default allocator (used by the queue only).
 * Returns 0, -EINVAL (no callback), or -errno from epoll_ctl; on failure
 * |fd| is NOT closed and still belongs to the caller.
 */
int ws_stream_start(ws_loop *loop, struct ws_stream *s, int fd,
                    const struct ws_mem *mem, size_t high_water,
                    ws_stream_cb cb, void *user);

/* ws_net_read() on the socket: bytes, 0 at EOF, -EAGAIN, or -errno. */
ws_ssize ws_stream_read(struct ws_stream *s, void *buf, size_t cap);

/* Resume / stop READABLE events (after EOF, stop: EOF stays readable).
 * Return 0 or -errno from epoll_ctl. */
int ws_stream_read_start(struct ws_stream *s);
int ws_stream_read_stop(struct ws_stream *s);

/*
 * Sends |n| bytes: written at once when nothing is queued, the rest (or
 * everything, when bytes are already queued) copied to the queue and sent
 * when the socket turns writable. The caller's buffer is free on return.
 * Returns 0, WS_ENOMEM, -EPIPE after ws_stream_shutdown(), or -errno from
 * an immediate write (-EPIPE, -ECONNRESET): then close the stream.
 */
int ws_stream_write(struct ws_stream *s, const void *p, size_t n);

/* ws_stream_write() over |iovcnt| buffers, still one system call (a
 * frame header and its payload). Returns as ws_stream_write(). */
int ws_stream_writev(struct ws_stream *s, const struct iovec *iov,
                     int iovcnt);

/*
 * Encoding in place: room for |n| bytes at the end of the queue, or NULL
 * (WS_ENOMEM). ws_stream_commit() queues what was written without a
 * system call; ws_stream_flush() then sends the queue with one write, so
 * several frames built in one callback cost one system call.
 */
uint8_t *ws_stream_reserve(struct ws_stream *s, size_t n);
void ws_stream_commit(struct ws_stream *s, size_t n);

/* Writes the queue now unless already waiting for WS_IO_WRITE.
 * Returns 0 or -errno (then close the stream). */
int ws_stream_flush(struct ws_stream *s);

/* Bytes queued, not yet accepted by the kernel. */
size_t ws_stream_pending(const struct ws_stream *s);

/*
 * Half-close: shutdown(SHUT_WR) once everything queued is sent (at once
 * when nothing is). Later writes fail with -EPIPE. Returns 0 or -errno.
 */
int ws_stream_shutdown(struct ws_stream *s);

/* Stops watching, closes the fd and frees the queue; queued bytes are
 * dropped. A no-op when already closed. */
void ws_stream_close(struct ws_stream *s);

#ifdef __cplusplus
}
#endif

#endif /* WS_NET_STREAM_H */
