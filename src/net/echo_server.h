/*
 * echo_server.h: the reference servers of `wsspec echo`, in one loop:
 *
 *   - a WebSocket echo (RFC 6455) over ws_conn.h: every rule of the core
 *     enforced, text echoed as text and binary as binary (whole messages),
 *     Pings answered, a Close answered with the peer's code and TCP closed
 *     right after it, violations failed with the session's close code;
 *   - an RFC 862 TCP echo: every byte back; on the client's half-close the
 *     rest is echoed, then the connection is closed;
 *   - an RFC 862 UDP echo: each datagram (up to 65507 bytes over IPv4)
 *     back to its sender, boundaries kept. A reply the socket cannot take
 *     at once is dropped, as UDP allows.
 *
 * Any number of listeners of each kind, IPv4 or IPv6, port 0 allowed.
 * All connections of the server share one read buffer (ws_conn_ctx), so
 * an idle connection costs about 2 KiB (measured: 1.9 KB of RSS each for
 * 5000 idle WebSocket connections) and no buffer.
 *
 * Errors follow net_error.h (0, -errno, WS_ENOMEM).
 */
#ifndef WS_NET_ECHO_SERVER_H
#define WS_NET_ECHO_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "../core/ws_core.h"
#include "net_addr.h"
#include "net_loop.h"
#include "ws_conn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ws_echo ws_echo;

/* Receives one line of log text (no newline); see ws_echo_config. */
typedef void (*ws_echo_log_fn)(const char *line, void *user);

/*
 * Server settings; fill with ws_echo_config_default(), then change
 * fields. The struct is copied by ws_echo_new(); the strings it points to
 * must outlive the server.
 */
struct ws_echo_config {
  /* WebSocket limits and timeouts (max_message_size, max_frame_size in
   * conn.session; handshake, idle and close timeouts; high-water mark).
   * idle_timeout_ms applies to TCP echo connections too. */
  struct ws_conn_config conn;
  /* Subprotocols we speak. Of those a client offers, the first (in the
   * client's order) that is in this list is selected; none when no offer
   * matches (RFC 6455 Section 4.2.2 lets the server select none). */
  const char *const *protocols;
  size_t num_protocols;
  /* Origin allow-list (exact match, ASCII case-insensitive). When not
   * empty, a request whose Origin is not listed gets 403 Forbidden. A
   * request without Origin (a non-browser client) is accepted. */
  const char *const *origins;
  size_t num_origins;
  /* At most this many TCP connections (WebSocket and TCP echo together);
   * 0 = no limit. An extra WebSocket connection gets "503 Service
   * Unavailable" and is closed; an extra TCP echo connection is closed
   * at once. */
  size_t max_connections;
  /* TCP echo: reading pauses while this many echoed bytes wait for the
   * peer (resumes at half). 0 = 1 MiB. */
  size_t tcp_high_water;
  /* Where operational messages go (accept failures, "too many open
   * files"), NULL = nowhere; with |log_connections| also one line per
   * WebSocket connection that did not end cleanly. */
  ws_echo_log_fn log;
  void *log_user;
  uint8_t log_connections;
};

void ws_echo_config_default(struct ws_echo_config *c);

struct ws_echo_stats {
  struct ws_conn_stats ws;  /* the WebSocket connections */
  uint64_t tcp_accepted;    /* RFC 862 TCP connections */
  uint64_t tcp_bytes;       /* bytes echoed over TCP */
  uint64_t udp_datagrams;   /* datagrams echoed */
  uint64_t udp_dropped;     /* replies the socket did not take */
  uint64_t busy_refused;    /* connections over max_connections */
};

/*
 * Creates a server on |loop| (which must outlive it) with no listener.
 * Allocations go through |mem| (NULL: the C library).
 * Returns 0, -EINVAL (NULL argument, a subprotocol that is not a token),
 * WS_ENOMEM, or -EIO (no SHA-1 from OpenSSL).
 */
int ws_echo_new(ws_echo **out, ws_loop *loop, const struct ws_echo_config *cfg,
                const struct ws_mem *mem);

/*
 * Adds a listener of |kind| (WS_SCHEME_WS, WS_SCHEME_TCP or WS_SCHEME_UDP)
 * on |a| and stores the address actually bound in |bound| (when not NULL):
 * with port 0, the port the OS chose. Print it with ws_addr_format_url().
 * Returns 0, -EINVAL (other kind, or after ws_echo_shutdown), WS_ENOMEM,
 * or -errno from the socket layer: -EADDRINUSE, -EACCES, -EADDRNOTAVAIL...
 */
int ws_echo_listen(ws_echo *e, enum ws_scheme kind, const struct ws_addr *a,
                   struct ws_addr *bound);

typedef void (*ws_echo_done_cb)(ws_echo *e, void *user);

/*
 * Graceful stop (SIGINT/SIGTERM): closes every listener and TCP echo
 * connection, sends Close 1001 "server shutting down" to every open
 * WebSocket client and drops those still in the handshake. Once every
 * WebSocket connection has ended (the client answered the Close and TCP
 * is closed), or after |grace_ms| at the latest (the rest are then
 * dropped), |done| is called once from the loop (never from inside this
 * call); the server then holds no loop handle, and may be freed there.
 * Calling it again shortens the grace to |grace_ms| (0: drop everything
 * now); |done| stays the first one given.
 */
void ws_echo_shutdown(ws_echo *e, uint64_t grace_ms, ws_echo_done_cb done,
                      void *user);

/*
 * Frees the server. Returns -EBUSY (and frees nothing) while a listener
 * or connection is still open (call ws_echo_shutdown() and wait for
 * |done|), else 0. NULL is a no-op.
 */
int ws_echo_free(ws_echo *e);

/* Open connections: WebSocket plus TCP echo. */
size_t ws_echo_connections(const ws_echo *e);

void ws_echo_stats(const ws_echo *e, struct ws_echo_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* WS_NET_ECHO_SERVER_H */
