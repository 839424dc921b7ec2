/*
 * ws_client.h: the WebSocket client, in two forms.
 *
 * Loop-driven (asynchronous): ws_client_connect() starts a connection in
 * a ws_conn_ctx (ws_conn.h); events arrive through a struct
 * ws_conn_handler (on_open, on_message, on_pong, on_close, on_end) and
 * traffic goes out with ws_conn_send(), ws_conn_ping(), ws_conn_close()
 * and, for malformed frames, ws_conn_send_raw(). Hundreds of connections
 * share one loop and one read buffer; this is what the conformance runner
 * builds on.
 *
 *   struct ws_client_target t;
 *   ws_client_target_parse(&t, "ws://127.0.0.1:9001/", err, sizeof err);
 *   struct ws_client_options req;
 *   ws_client_target_request(&t, &req);       // host, port, resource
 *   ws_client_connect(ctx, &t.addr, &req, &cfg, &handler, me, &conn);
 *
 * Blocking: a ws_client owns a private loop and one connection, for tools
 * and tests (`wsspec send`): ws_client_open(), _send(), _recv(), _ping(),
 * _close(), each returning when done or timed out, with a one-line
 * English message for every failure (ws_client_error()).
 *
 * The client masks every frame with a fresh key from
 * cfg.session.random (RFC 6455 Section 5.3), draws the handshake key from
 * the same source (Section 4.1), and checks the server's response
 * (ws_handshake_client_check(): 101, Upgrade, Connection, the accept
 * value, subprotocol and extensions offered).
 */
#ifndef WS_NET_CLIENT_H
#define WS_NET_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "../core/ws_core.h"
#include "../http/ws_handshake.h"
#include "net_addr.h"
#include "ws_conn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest resource name ("/path?query") a target holds. */
#define WS_CLIENT_RESOURCE_MAX 4096

/* A ws:// URL, parsed and resolved. Plain data. */
struct ws_client_target {
  struct ws_addr addr;           /* the address to connect to */
  char host[WS_HOST_MAX + 1];    /* the URL's host, brackets removed */
  uint16_t port;                 /* the URL's port or 80 */
  uint8_t port_given;            /* the URL spelled the port */
  char resource[WS_CLIENT_RESOURCE_MAX + 1]; /* "/path[?query]" */
};

/*
 * Parses |url| (ws://host[:port][/path][?query], net_addr.h rules) and
 * resolves its host: a literal address without any system call, a name
 * with getaddrinfo() (blocking: call it before the loop runs); the first
 * address is used. |err| (when not NULL and |errlen| > 0) receives a
 * one-line message on failure, for example
 *   "invalid URL 'ws//x': missing or unknown scheme".
 * Returns 0, or a net_error.h code: a WS_NET_* parse or resolution error,
 * -EPROTONOSUPPORT (wss:// until TLS exists; tcp://, udp://),
 * -ENAMETOOLONG (resource over WS_CLIENT_RESOURCE_MAX), WS_ENOMEM.
 */
int ws_client_target_parse(struct ws_client_target *t, const char *url,
                           char *err, size_t errlen);

/*
 * Zeroes |req| and points its host, port and path at |t|'s (which must
 * then outlive |req|); set protocols, origin and extra headers after.
 */
void ws_client_target_request(const struct ws_client_target *t,
                              struct ws_client_options *req);

/*
 * Starts a client connection to |addr|: non-blocking connect (within
 * cfg->connect_timeout_ms), then the opening handshake request built from
 * |req| (ws_handshake_client_request(): Host, Upgrade, a fresh
 * Sec-WebSocket-Key, Version 13, Origin, subprotocols, extensions, extra
 * headers), then the response check (within cfg->handshake_timeout_ms).
 * |req| and the strings it points to must stay valid until on_open or
 * on_end (the response is checked against the offers); |cfg| and |h|
 * while the connection lives. Events follow through |h|, ending with
 * exactly one on_end (WS_CONN_CONNECT_FAILED when the connect fails).
 *
 * Returns 0 with *out set (when |out| is not NULL), or a net_error.h code
 * and then no event follows: -EINVAL (NULL argument, or |req| rejected by
 * ws_handshake_client_request(): no host, a path not starting with '/',
 * a bad subprotocol or header...), -EIO (the random source or OpenSSL
 * failed), WS_ENOMEM, -errno from socket() (-EMFILE, -EAFNOSUPPORT).
 */
int ws_client_connect(ws_conn_ctx *ctx, const struct ws_addr *addr,
                      const struct ws_client_options *req,
                      const struct ws_conn_config *cfg,
                      const struct ws_conn_handler *h, void *user,
                      ws_conn **out);

/* ------------------------------------------------------------ blocking */

typedef struct ws_client ws_client;

/* Settings of a blocking client; fill with ws_client_config_default().
 * Copied by ws_client_new(); the strings must outlive the client. */
struct ws_client_config {
  struct ws_conn_config conn; /* limits and timeouts (connect and
                                 handshake bound ws_client_open) */
  const char *const *protocols; /* subprotocols to offer, in order */
  size_t num_protocols;
  const char *origin;           /* Origin header, NULL for none */
  const char *const *headers;   /* extra "Name: value" lines */
  size_t num_headers;
};

void ws_client_config_default(struct ws_client_config *c);

/* A received message; |data| is owned by the client and valid until the
 * next ws_client_* call. */
struct ws_client_message {
  enum ws_opcode opcode; /* WS_OP_TEXT or WS_OP_BINARY */
  const uint8_t *data;
  size_t len;
};

/*
 * Creates a blocking client with its own loop. |mem| (NULL: the C
 * library) must outlive it.
 * Returns 0, WS_EINVAL (NULL argument), WS_ENOMEM, WS_ECRYPTO (no SHA-1
 * from OpenSSL), or -errno from epoll_create1() (-EMFILE).
 */
int ws_client_new(ws_client **out, const struct ws_client_config *cfg,
                  const struct ws_mem *mem);

/*
 * Connects to |url| and completes the opening handshake (one connection
 * per client).
 * Returns 0, or:
 *   WS_EINVAL      bad URL, unsupported scheme, bad options
 *   WS_EHANDSHAKE  the connection failed: the host name did not resolve,
 *                  the connect was refused or timed out, or the
 *                  handshake was refused or invalid (ws_client_end()
 *                  says which, once a connect was started)
 *   WS_ESTATE      already opened
 *   WS_ENOMEM
 * with the reason in ws_client_error().
 */
int ws_client_open(ws_client *c, const char *url);

/*
 * Sends a message and waits up to |timeout_ms| (0: no limit) until the
 * kernel has taken all of it.
 * Returns 0, or WS_EAGAIN (still queued when the time ran out: it goes
 * out later), WS_ECLOSED (the connection ended; see ws_client_error()),
 * WS_ESTATE (not open, or closing), WS_EINVAL (TEXT not UTF-8, bad
 * opcode), WS_ENOMEM.
 */
int ws_client_send(ws_client *c, enum ws_opcode opcode, const void *data,
                   size_t len, uint64_t timeout_ms);

/*
 * Returns the next received message in |m|, waiting up to |timeout_ms|
 * (0: no limit). Messages are queued as they arrive, in order, whether or
 * not recv is being called.
 * Returns 0, or WS_EAGAIN (none in time), WS_ECLOSED (the connection
 * ended and every message has been returned; ws_client_end() tells how),
 * WS_ESTATE (never opened).
 */
int ws_client_recv(ws_client *c, struct ws_client_message *m,
                   uint64_t timeout_ms);

/*
 * Sends a Ping with |len| <= 125 bytes and waits up to |timeout_ms| for a
 * Pong with the same payload (RFC 6455 Section 5.5.3). Messages arriving
 * meanwhile are queued for ws_client_recv().
 * Returns 0, or WS_EAGAIN, WS_ECLOSED, WS_ESTATE, WS_ETOOBIG, WS_ENOMEM.
 */
int ws_client_ping(ws_client *c, const void *data, size_t len,
                   uint64_t timeout_ms);

/*
 * Closes with |code| and |reason| (NUL-terminated, may be NULL) and waits
 * until the connection has ended: the server's Close, then its TCP close
 * (both bounded by conn.close_timeout_ms), or |timeout_ms| (0: no limit
 * beyond those), after which the connection is dropped.
 * Returns 0 for a clean end (both Close frames exchanged), WS_ECLOSED
 * otherwise (including when it had already ended uncleanly; see
 * ws_client_error()), WS_EINVAL (bad code or reason), WS_ESTATE (never
 * opened).
 */
int ws_client_close(ws_client *c, uint16_t code, const char *reason,
                    uint64_t timeout_ms);

/* The last failure as one line ("" when none); valid until the next call. */
const char *ws_client_error(const ws_client *c);

/* How the connection ended, or NULL while it has not. */
const struct ws_conn_end *ws_client_end(const ws_client *c);

/* The subprotocol the server selected, or NULL. */
const char *ws_client_protocol(const ws_client *c);

/* Drops the connection if still open and frees everything. NULL is a
 * no-op. */
void ws_client_free(ws_client *c);

#ifdef __cplusplus
}
#endif

#endif /* WS_NET_CLIENT_H */
