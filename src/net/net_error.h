/*
 * net_error.h: the error domain of the socket layer (src/net).
 *
 * Every function under src/net returns 0 (or a byte count) on success and
 * a negative code on failure, following libuv:
 *
 *   -1 .. -899      -errno, exactly as the kernel reported it (-EAGAIN,
 *                   -ECONNREFUSED, -EADDRINUSE, ...). -EAGAIN always means
 *                   "try again when the loop says the fd is ready"; EINTR
 *                   is retried inside and never returned.
 *   WS_ENOMEM       (-901, from ws_core.h) the struct ws_mem allocator
 *                   returned NULL.
 *   -3000 .. -3099  enum ws_net_error: address and URL parsing.
 *   -3100 .. -3199  enum ws_net_error: name resolution (getaddrinfo).
 *
 * Net codes are NOT enum ws_error values: -100 is -ENETDOWN here, not
 * WS_EAGAIN. Print them with ws_net_strerror(), never ws_strerror(), and do
 * not feed them to ws_is_fatal().
 *
 * Callback rule (libuv): when a function that takes a callback returns an
 * error, the callback is never called for that request.
 */
#ifndef WS_NET_ERROR_H
#define WS_NET_ERROR_H

#include <stddef.h>

#include "../core/ws_core.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ws_net_error {
  /* Address and URL parsing (net_addr.h); see ws_net_strerror(). */
  WS_NET_EEMPTY = -3000,     /* empty address or URL */
  WS_NET_ESCHEME = -3001,    /* missing or unknown scheme */
  WS_NET_ENOHOST = -3002,    /* empty host */
  WS_NET_EHOST = -3003,      /* invalid character in a host name, or
                                a name longer than 253 bytes */
  WS_NET_EIPV4 = -3004,      /* digits-and-dots host that is not a
                                dotted-quad IPv4 address */
  WS_NET_EIPV6 = -3005,      /* bracketed host that is not IPv6 */
  WS_NET_EBRACKET = -3006,   /* unbalanced or misplaced '[' ']', or an
                                IPv6 address written without brackets */
  WS_NET_ENOPORT = -3007,    /* a port is required and missing */
  WS_NET_EPORT = -3008,      /* port is empty or not decimal digits */
  WS_NET_EPORTRANGE = -3009, /* port above 65535 */
  WS_NET_EUSERINFO = -3010,  /* "user@" in the authority */
  WS_NET_EFRAGMENT = -3011,  /* '#' anywhere (RFC 6455 Section 3) */
  WS_NET_EPATH = -3012,      /* byte not allowed in a path or query */
  WS_NET_EEXTRA = -3013,     /* text after host:port where none may be */

  /* Name resolution (ws_addr_resolve). */
  WS_NET_ENONAME = -3100,    /* host name not found */
  WS_NET_ETRYAGAIN = -3101,  /* temporary resolver failure */
  WS_NET_EFAMILY = -3102,    /* no address of the requested family */
  WS_NET_ERESOLVE = -3103    /* any other getaddrinfo failure */
};

/*
 * Returns a static, lower-case, one-line message for any code of this
 * domain: "connection refused", "address already in use", "timed out",
 * "missing port"... Unknown codes give "unknown error"; 0 gives "success".
 * Never returns NULL.
 */
const char *ws_net_strerror(int err);

/*
 * Returns the static symbolic name of |err|: "ECONNREFUSED",
 * "WS_NET_ENOPORT", "WS_ENOMEM"; "UNKNOWN" when it has none.
 */
const char *ws_net_errname(int err);

/*
 * Formats the one-line message "OP WHERE: MESSAGE" into |buf|, for example
 * "listen 127.0.0.1:9001: address already in use" or
 * "connect 127.0.0.1:1: connection refused". |where| may be NULL or empty
 * ("OP: MESSAGE"). Errnos missing from the built-in table fall back to
 * strerror_r(), lower-cased.
 *
 * The result is always NUL-terminated when |size| > 0 and is truncated to
 * fit. Returns the length it needed (excluding the NUL), like snprintf.
 */
size_t ws_net_format_error(char *buf, size_t size, const char *op,
                           const char *where, int err);

#ifdef __cplusplus
}
#endif

#endif /* WS_NET_ERROR_H */
