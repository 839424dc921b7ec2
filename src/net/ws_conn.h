/*
 * ws_conn.h: one WebSocket connection over a socket, server or client side:
 * the opening handshake (ws_http.h, ws_handshake.h), then a ws_session
 * (ws_session.h) driven by the event loop (net_loop.h) through a buffered
 * stream (net_stream.h), with timers and backpressure.
 *
 *   socket --read--> shared read buffer --> handshake parser, then
 *                                            ws_session_recv --> handler
 *   handler --ws_conn_send--> ws_session queue (or straight to the socket)
 *          --> ws_session_send --> ws_stream (one write per batch) --> socket
 *
 * The echo server (echo_server.h) and the client (ws_client.h) are thin
 * layers over this driver.
 *
 * Context. A ws_conn_ctx holds what every connection of one loop shares:
 * one read buffer (WS_CONN_READ_BUFFER bytes), the SHA-1 state for accept
 * keys and a header array for the handshake parser. An idle connection
 * therefore owns no read buffer at all: the session copies whatever it must
 * keep (partial frames, fragmented messages) when a read ends. The context
 * also keeps the list of its live connections, for shutdown.
 *
 * Cost per echoed message in the steady state (server): one read(), one
 * write() (sendmsg), no epoll_ctl(), no allocation, no timer operation.
 * A message that arrived as one whole frame within one read is written
 * back straight from the read buffer (header + payload in one sendmsg, no
 * copy) whenever nothing else is queued; otherwise it goes through the
 * session's output queue, which keeps the order of everything sent.
 *
 * Lifetime. A ws_conn is allocated by the context and freed by it, right
 * after its handler's on_end has returned; the pointer is invalid from
 * then on. Every connection ends with exactly one on_end. Handler callbacks
 * run from the loop; inside them any ws_conn_* function may be called, on
 * this connection or on others. Nothing is freed or torn down inside a
 * handler callback: ws_conn_abort() and transport errors take effect when
 * the callback returns, or on the next loop iteration when they happen
 * outside any callback.
 *
 * Return codes. Calls that create sockets or watchers (ws_conn_ctx_new,
 * ws_conn_accept, ws_client_connect in ws_client.h) return the codes of
 * net_error.h: 0, -errno, WS_ENOMEM. Calls that queue WebSocket traffic
 * (ws_conn_send, _ping, _pong, _close, _send_raw) return enum ws_error
 * values (ws_core.h), as the session does.
 *
 * One loop per thread; none of these functions may be called from a thread
 * other than the loop's.
 */
#ifndef WS_NET_CONN_H
#define WS_NET_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "../core/ws_core.h"
#include "../http/ws_handshake.h"
#include "../ws/ws_close.h"
#include "../ws/ws_frame.h"
#include "../ws/ws_session.h"
#include "net_addr.h"
#include "net_error.h"
#include "net_loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Size of the read buffer shared by the connections of one context. */
#define WS_CONN_READ_BUFFER (256u * 1024u)

/* Opaque handles. */
typedef struct ws_conn_ctx ws_conn_ctx;
typedef struct ws_conn ws_conn;

/* ------------------------------------------------------------ config */

/*
 * Limits and timeouts of a connection. Fill with ws_conn_config_default(),
 * then change fields. The driver keeps a pointer to the config: it must
 * stay valid and unchanged while any connection created with it lives
 * (one config is typically shared by every connection of a server).
 */
struct ws_conn_config {
  /* Passed to ws_session_new(): max_frame_size, max_message_size (default
   * 64 MiB), fragment_size, auto_pong... A client's mask keys and its
   * Sec-WebSocket-Key come from session.random. */
  struct ws_session_options session;
  /* Largest opening handshake head (request or response), in bytes;
   * 0 = WS_HTTP_DEFAULT_MAX_HEAD (8 KiB). A longer request gets 431. */
  uint32_t max_head;
  /* Client: the TCP connect must complete within this time (0: no
   * limit). Default 5000 ms. */
  uint64_t connect_timeout_ms;
  /* Server: from accept() to the end of the request head; client: from
   * the TCP connect to the end of the response head. The connection is
   * dropped when it expires (WS_CONN_HANDSHAKE_TIMEOUT). 0: no limit.
   * Default 5000 ms. */
  uint64_t handshake_timeout_ms;
  /* With no byte received for this long, the connection is closed with
   * 1001 "idle timeout" (then the close timeout applies). 0 (default):
   * never. Checked lazily: no timer work per message. */
  uint64_t idle_timeout_ms;
  /* After our Close is sent: how long to wait for the peer's Close
   * (WS_CONN_CLOSE_TIMEOUT when it expires). Also how long a client waits
   * for the server to close TCP after the closing handshake, and how long
   * a failed connection keeps discarding input before it closes (so the
   * peer reads our Close or error response rather than a reset).
   * Default 1000 ms; 0 selects the default. */
  uint64_t close_timeout_ms;
  /* Reading pauses while the bytes waiting to be sent (the session's
   * queue and the socket's) reach this, and resumes below half of it, so
   * a peer that does not read cannot make us buffer without bound.
   * Default 1 MiB; 0: never pause. */
  size_t high_water;
};

/* Fills |c| with the defaults documented above (session options from
 * ws_session_options_default). */
void ws_conn_config_default(struct ws_conn_config *c);

/* ------------------------------------------------------------ events */

/* How a connection ended (struct ws_conn_end). */
enum ws_conn_outcome {
  WS_CONN_CLEAN = 0,         /* both Close frames exchanged, TCP closed */
  WS_CONN_CONNECT_FAILED,    /* client: connect() failed; net_error says
                                why (-ECONNREFUSED, -ETIMEDOUT...) */
  WS_CONN_HANDSHAKE_TIMEOUT, /* no complete handshake head in time */
  WS_CONN_HANDSHAKE_FAILED,  /* refused (see http_status, hs_failure) */
  WS_CONN_VIOLATION,         /* the peer broke RFC 6455: |violation|; we
                                sent its close code and closed */
  WS_CONN_CLOSE_TIMEOUT,     /* our Close got no reply in time */
  WS_CONN_EOF,               /* the peer closed TCP before the closing
                                handshake completed (1006) */
  WS_CONN_IO_ERROR,          /* read or write failed: net_error */
  WS_CONN_ABORTED,           /* ws_conn_abort() */
  WS_CONN_LOCAL_ERROR        /* ws_error: WS_ENOMEM, WS_ERANDOM,
                                WS_ECRYPTO, or a handler's misuse */
};

/* Static name of |o|, for example "CLOSE_TIMEOUT". */
const char *ws_conn_outcome_name(enum ws_conn_outcome o);

/* Everything known about a connection when it ends. */
struct ws_conn_end {
  enum ws_conn_outcome outcome;
  int net_error;         /* CONNECT_FAILED, IO_ERROR: a net_error.h code */
  int ws_error;          /* LOCAL_ERROR: an enum ws_error */
  enum ws_role role;
  struct ws_addr peer;   /* the peer's address (AF_UNSPEC if unknown) */
  uint8_t opened;        /* the opening handshake completed */
  uint8_t close_sent;    /* we sent (queued) a Close */
  uint8_t close_received; /* the peer's valid Close arrived */
  uint8_t peer_closed_first; /* the peer's Close came before ours */
  uint16_t sent_code;    /* our Close's code; 1005: empty payload */
  uint16_t received_code; /* the peer's code; 1005: empty payload */
  uint8_t received_reason_len;
  uint8_t received_reason[WS_CLOSE_REASON_MAX]; /* UTF-8, not
                                                   NUL-terminated */
  /* Server: the status we answered (101, or the refusal); client: the
   * status line received (0 when no response head arrived). */
  uint16_t http_status;
  char http_reason[64];  /* client: the reason phrase, NUL-terminated,
                            cut to fit */
  struct ws_violation violation;           /* VIOLATION */
  struct ws_handshake_failure hs_failure;  /* HANDSHAKE_FAILED */
};

/*
 * Writes a one-line English description of |e| to |buf| (NUL-terminated
 * when size > 0, cut to fit), for example
 *   "connect 127.0.0.1:1: connection refused"
 *   "handshake refused by 127.0.0.1:9001: HTTP 403 Forbidden"
 *   "protocol violation by 127.0.0.1:41000: invalid UTF-8 in a text
 *    message (RFC 6455 Section 8.1, byte 12); closed with 1007"
 *   "closed cleanly (sent 1000, received 1000)"
 * Returns the length it needed, like snprintf.
 */
size_t ws_conn_end_format(char *buf, size_t size, const struct ws_conn_end *e);

/*
 * Server policy for one validated request, filled by on_request. Zeroed
 * before the call: accept, no subprotocol.
 */
struct ws_conn_accept {
  /* The subprotocol to select (a token the client offered), or NULL.
   * Copied when on_request returns. */
  const char *protocol;
  /* 0: accept. Otherwise refuse with this HTTP status (400-599; 403 for
   * an origin not allowed) and |body| (NUL-terminated, NULL: the reason
   * phrase). */
  unsigned status;
  const char *body;
};

/*
 * Event handler. Any member may be NULL. |user| is the pointer given when
 * the connection was created (see ws_conn_set_user). Data pointers are
 * valid only during the call.
 */
struct ws_conn_handler {
  /* Server: a request passed every check of RFC 6455 Section 4.2.1 (|r|
   * is the validated request, spans into a buffer valid during the call);
   * fill |a| to select a subprotocol or refuse. NULL: accept, no
   * subprotocol. */
  void (*on_request)(ws_conn *c, const struct ws_handshake_request *r,
                     struct ws_conn_accept *a, void *user);
  /* The opening handshake completed; messages may be sent from now on. */
  void (*on_open)(ws_conn *c, void *user);
  /* A complete data message (WS_OP_TEXT, already UTF-8 checked, or
   * WS_OP_BINARY). */
  void (*on_message)(ws_conn *c, enum ws_opcode opcode, const uint8_t *data,
                     size_t len, void *user);
  /* A Ping (already answered unless session.auto_pong is 0), a Pong. */
  void (*on_ping)(ws_conn *c, const uint8_t *data, size_t len, void *user);
  void (*on_pong)(ws_conn *c, const uint8_t *data, size_t len, void *user);
  /* The peer's valid Close (|code| 1005 when empty). Unless this callback
   * replies with ws_conn_close(), the reply echoes |code| (RFC 6455
   * Section 5.5.1). */
  void (*on_close)(ws_conn *c, uint16_t code, const uint8_t *reason,
                   size_t len, void *user);
  /* The connection is gone: socket closed, timers stopped. |e| is valid
   * during the call; |c| is freed when the call returns. */
  void (*on_end)(ws_conn *c, const struct ws_conn_end *e, void *user);
};

/* Connection states, in order. */
enum ws_conn_state {
  WS_CONN_CONNECTING = 0, /* client: TCP connect under way */
  WS_CONN_HANDSHAKE,      /* opening handshake under way */
  WS_CONN_OPEN,           /* the session runs (closing handshake too) */
  WS_CONN_CLOSING         /* the session is over; the transport is being
                             closed (lingering, or a client waiting for
                             the server to close TCP) */
};

/* Counters of a context, for tests and benchmarks. */
struct ws_conn_stats {
  uint64_t created;        /* connections accepted or connected */
  uint64_t opened;         /* opening handshakes completed */
  uint64_t refused;        /* handshakes refused or failed */
  uint64_t messages_in;    /* data messages delivered to handlers */
  uint64_t direct_sends;   /* messages written straight from the caller's
                              buffer (the zero-copy echo path) */
  uint64_t queued_sends;   /* messages that went through the session */
  uint64_t violations;     /* connections failed for a violation */
  uint64_t ended;          /* on_end calls */
};

/* ----------------------------------------------------------- context */

/*
 * Creates the shared context of the connections of |loop| (which must
 * outlive it): the read buffer, the SHA-1 state, the connection list.
 * Every allocation of the context and of its connections (connection
 * structs, sessions, handshake buffers, output queues) goes through |mem|
 * (NULL: the C library), which must outlive the context.
 * Returns 0, WS_ENOMEM, or -EIO when OpenSSL cannot provide SHA-1.
 */
int ws_conn_ctx_new(ws_conn_ctx **out, ws_loop *loop,
                    const struct ws_mem *mem);

/* Frees the context. Returns -EBUSY (and frees nothing) while connections
 * live, else 0. NULL is a no-op. */
int ws_conn_ctx_free(ws_conn_ctx *ctx);

/* The loop and the number of live connections (on_end not yet called). */
ws_loop *ws_conn_ctx_loop(const ws_conn_ctx *ctx);
size_t ws_conn_ctx_count(const ws_conn_ctx *ctx);

/*
 * The shared read buffer (WS_CONN_READ_BUFFER bytes), for other users of
 * the same loop (the RFC 862 echo). Its content is valid only until the
 * current callback returns.
 */
uint8_t *ws_conn_ctx_buffer(ws_conn_ctx *ctx, size_t *cap);

/*
 * Starts closing every live connection: open ones get a Close with |code|
 * and |reason| (NUL-terminated, may be NULL) and then the close timeout;
 * those still connecting or in the opening handshake are aborted. Each
 * ends through its on_end, from the loop. Used for SIGTERM (1001).
 */
void ws_conn_ctx_shutdown(ws_conn_ctx *ctx, uint16_t code,
                          const char *reason);

/* Aborts every live connection (ws_conn_abort). */
void ws_conn_ctx_abort_all(ws_conn_ctx *ctx);

void ws_conn_ctx_stats(const ws_conn_ctx *ctx, struct ws_conn_stats *out);

/* -------------------------------------------------------- connections */

/*
 * Server side: takes the accepted, connected, non-blocking socket |fd|
 * (from ws_tcp_accept(); |peer| its address, may be NULL) and starts
 * reading the opening handshake request. The request is read at once when
 * it has already arrived, so on_request, on_open and even on_message may
 * run before this call returns (after *out is set); on_end never does.
 * |cfg| and |h| must outlive the connection.
 * Returns 0 with *out set (when |out| is not NULL), or WS_ENOMEM, -EINVAL
 * (NULL argument) or -errno from epoll_ctl; on failure |fd| is NOT closed
 * and still belongs to the caller, and no on_end will follow.
 */
int ws_conn_accept(ws_conn_ctx *ctx, int fd, const struct ws_addr *peer,
                   const struct ws_conn_config *cfg,
                   const struct ws_conn_handler *h, void *user,
                   ws_conn **out);

/*
 * Queues a data message (|opcode| WS_OP_TEXT or WS_OP_BINARY) of |len|
 * bytes; |data| is not kept after the call (it may point into a buffer
 * given to on_message: that is the echo). The message goes out after
 * everything queued before it. A TEXT message must be valid UTF-8.
 *
 * A server writes it straight from |data| when nothing else is waiting
 * (the zero-copy path); otherwise, and always for a client (whose frames
 * are masked with a fresh key each, RFC 6455 Section 5.3), the session
 * copies it into its queue.
 *
 * Returns 0, or:
 *   WS_EINVAL   bad opcode, TEXT that is not UTF-8, NULL |data| with
 *               |len| > 0, NULL |c|
 *   WS_ESTATE   not WS_CONN_OPEN, or our Close is already queued, or the
 *               peer's Close arrived
 *   WS_ECLOSED  the transport failed (the reason comes with on_end)
 *   WS_ETOOBIG, WS_ERANDOM, WS_ENOMEM  as ws_session_queue_message()
 */
int ws_conn_send(ws_conn *c, enum ws_opcode opcode, const uint8_t *data,
                 size_t len);

/* Queue a Ping / an unsolicited Pong (|len| <= 125, copied). Returns as
 * ws_session_queue_ping(), plus WS_ESTATE before WS_CONN_OPEN and
 * WS_ECLOSED after a transport failure. */
int ws_conn_ping(ws_conn *c, const uint8_t *data, size_t len);
int ws_conn_pong(ws_conn *c, const uint8_t *data, size_t len);

/*
 * Starts the closing handshake with |code| and |reason| (UTF-8, at most
 * 123 bytes, copied; RFC 6455 Section 7.1.2), or, from on_close, replies
 * to the peer's Close. Code 1005 with no reason sends an empty Close. The
 * close timeout starts; the connection ends once the peer's Close arrives
 * (a server then closes TCP at once) or the timeout expires.
 * Returns 0, or WS_EINVAL (code not sendable, reason not UTF-8),
 * WS_ETOOBIG (reason > 123), WS_ESTATE (not open, or a Close already
 * queued), WS_ECLOSED, WS_ERANDOM.
 */
int ws_conn_close(ws_conn *c, uint16_t code, const uint8_t *reason,
                  size_t len);

/*
 * Testing aid for the conformance runner: writes |len| raw bytes to the
 * socket after everything already queued, bypassing the session (which
 * does not see them). Allowed once a client's request is written
 * (WS_CONN_HANDSHAKE) and while WS_CONN_OPEN.
 * Returns 0, WS_EINVAL, WS_ESTATE, WS_ECLOSED, WS_ENOMEM.
 */
int ws_conn_send_raw(ws_conn *c, const uint8_t *data, size_t len);

/*
 * Drops the connection without a closing handshake (TCP closed at once;
 * queued output is lost). on_end follows with WS_CONN_ABORTED, after the
 * current callback returns or from the next loop iteration; never from
 * inside this call. A no-op on a connection already ending.
 */
void ws_conn_abort(ws_conn *c);

enum ws_conn_state ws_conn_get_state(const ws_conn *c);
enum ws_role ws_conn_role(const ws_conn *c);

/* The session once WS_CONN_OPEN (NULL before), for queries such as
 * ws_session_get_state(). Do not call ws_session_recv/_send/_del on it. */
ws_session *ws_conn_session(ws_conn *c);

/* The negotiated subprotocol (NUL-terminated, owned by |c|), or NULL. */
const char *ws_conn_protocol(const ws_conn *c);

/* The peer's address. */
const struct ws_addr *ws_conn_peer(const ws_conn *c);

/* Bytes waiting to be sent: queued in the socket's stream plus an estimate
 * of the session's queue. */
size_t ws_conn_pending(const ws_conn *c);

void *ws_conn_user(const ws_conn *c);
void ws_conn_set_user(ws_conn *c, void *user);

/* ------------------------------------------------- internal (ws__) */

/* ws_client_connect() (ws_client.h) is this: a client connection in
 * state WS_CONN_CONNECTING whose request is built at once from |req| and
 * written once connected. */
int ws__conn_connect(ws_conn_ctx *ctx, const struct ws_addr *addr,
                     const struct ws_client_options *req,
                     const struct ws_conn_config *cfg,
                     const struct ws_conn_handler *h, void *user,
                     ws_conn **out);

#ifdef __cplusplus
}
#endif

#endif /* WS_NET_CONN_H */
