/*
 * net_addr.h: socket addresses, and the parser and formatter for the
 * addresses and URLs wsspec accepts on its command line.
 *
 * Accepted forms (the scheme is case-insensitive):
 *
 *   host:port                 ws_hostport_parse(); the port is required
 *   ws://host[:port][/path][?query]    default port 80, path "/"
 *   wss://host[:port][/path][?query]   default port 443; parsed and
 *                                      flagged |tls| = 1 so callers can
 *                                      refuse it until TLS exists
 *   tcp://host:port           port required, nothing after it
 *   udp://host:port           port required, nothing after it
 *
 * where host is a dotted-quad IPv4 address (127.0.0.1), an IPv6 address in
 * brackets ([::1]) or a host name (localhost). Port 0 means "the OS picks"
 * when listening; ws_addr_local() then gives the real port.
 *
 * Parsing and formatting are pure: no system call, no allocation, no
 * locale. Literal addresses are converted with inet_pton(); only
 * ws_addr_resolve() (host names) may touch the resolver.
 */
#ifndef WS_NET_ADDR_H
#define WS_NET_ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../core/ws_core.h"
#include "net_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * An IPv4 or IPv6 socket address with its port, in network byte order
 * inside the sockaddr. sa.sa_family is AF_INET, AF_INET6 or AF_UNSPEC (not
 * set). Plain data: copy it freely.
 */
struct ws_addr {
  union {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
  };
};

/* Longest "[IPv6]:port" text, without the NUL. */
#define WS_ADDR_STRLEN 53
/* Longest host name kept by the parser (RFC 1035 limit), without NUL. */
#define WS_HOST_MAX 253

enum ws_scheme {
  WS_SCHEME_NONE = 0, /* bare host:port */
  WS_SCHEME_WS,
  WS_SCHEME_WSS,
  WS_SCHEME_TCP,
  WS_SCHEME_UDP
};

enum ws_host_kind {
  WS_HOST_IPV4 = 1, /* literal: |addr| is filled */
  WS_HOST_IPV6,     /* literal: |addr| is filled */
  WS_HOST_NAME      /* name: resolve it with ws_url_resolve() */
};

/*
 * A parsed URL or host:port. |path| and |query| point into the caller's
 * input string and are valid only as long as it is; |host| is a copy.
 */
struct ws_url {
  enum ws_scheme scheme;
  enum ws_host_kind host_kind;
  uint8_t tls;        /* 1 for wss:// */
  uint8_t port_given; /* 1 when the input spelled the port */
  uint16_t port;      /* host byte order; the scheme default if absent */
  char host[WS_HOST_MAX + 1]; /* NUL-terminated, brackets removed */
  size_t host_len;
  struct ws_addr addr; /* literals: address + port; names: AF_UNSPEC */
  const char *path;    /* "/..." in the input; the static "/" if absent;
                          NULL for tcp/udp/host:port */
  size_t path_len;
  const char *query;   /* after '?', into the input; NULL if no '?' */
  size_t query_len;
  size_t error_offset; /* on failure: offset of the offending byte, or the
                          input length when something is missing */
};

/*
 * Parses the |len| bytes at |s| (no NUL needed; bytes beyond |len| are
 * never read) as a ws://, wss://, tcp:// or udp:// URL into |u|.
 *
 * Rules enforced, besides the grammar above: no userinfo, no fragment
 * (RFC 6455 Section 3), port 0..65535 in decimal, path and query limited
 * to RFC 3986 characters with valid %XX escapes, IPv6 only in brackets,
 * host names of letters, digits, '-', '.', '_' up to 253 bytes.
 *
 * Returns 0, or a negative enum ws_net_error with |u->error_offset| set:
 *   WS_NET_EEMPTY, WS_NET_ESCHEME, WS_NET_ENOHOST, WS_NET_EHOST,
 *   WS_NET_EIPV4, WS_NET_EIPV6, WS_NET_EBRACKET, WS_NET_ENOPORT,
 *   WS_NET_EPORT, WS_NET_EPORTRANGE, WS_NET_EUSERINFO, WS_NET_EFRAGMENT,
 *   WS_NET_EPATH, WS_NET_EEXTRA.
 */
int ws_url_parse(struct ws_url *u, const char *s, size_t len);

/*
 * Parses "host:port" (no scheme; the port is required) into |u| with
 * scheme WS_SCHEME_NONE. Same host and port rules and error codes as
 * ws_url_parse(); text after the port gives WS_NET_EEXTRA.
 */
int ws_hostport_parse(struct ws_url *u, const char *s, size_t len);

/* Returns the scheme's name without "://" ("ws", "tcp"; "" for NONE). */
const char *ws_scheme_name(enum ws_scheme scheme);

/*
 * Sets |a| from a literal IPv4 or IPv6 address text (no brackets) and a
 * port. Pure (inet_pton). Returns 0, WS_NET_EIPV4 or WS_NET_EIPV6 (the
 * text contains ':'), or WS_NET_ENOHOST for NULL or "".
 */
int ws_addr_set(struct ws_addr *a, const char *ip, uint16_t port);

/* Returns the port in host byte order, 0 for AF_UNSPEC. */
uint16_t ws_addr_port(const struct ws_addr *a);

/* Sets the port (host byte order) of an AF_INET or AF_INET6 address. */
void ws_addr_set_port(struct ws_addr *a, uint16_t port);

/* Returns sizeof the sockaddr for the family, 0 for AF_UNSPEC. */
socklen_t ws_addr_len(const struct ws_addr *a);

/* Returns 1 when both addresses have the same family, address and port. */
int ws_addr_equal(const struct ws_addr *a, const struct ws_addr *b);

/*
 * Formats "127.0.0.1:9001" or "[::1]:9001" into |buf| (NUL-terminated).
 * WS_ADDR_STRLEN + 1 bytes always suffice.
 * Returns the length without the NUL, -ENOSPC when |size| is too small
 * (|buf| then holds "" if size > 0), or -EAFNOSUPPORT for AF_UNSPEC.
 */
ws_ssize ws_addr_format(char *buf, size_t size, const struct ws_addr *a);

/*
 * Formats "SCHEME://127.0.0.1:9001" or "SCHEME://[::1]:9001"; with
 * WS_SCHEME_NONE it is ws_addr_format(). The echo server prints
 * "listening " followed by this, with WS_SCHEME_WS and ws_addr_local().
 * Returns as ws_addr_format().
 */
ws_ssize ws_addr_format_url(char *buf, size_t size, enum ws_scheme scheme,
                            const struct ws_addr *a);

/*
 * Formats |u| back: "scheme://host[:port]path[?query]", the host in
 * brackets when IPv6, the port only when |port_given|; for
 * WS_SCHEME_NONE "host:port". Returns as ws_addr_format().
 */
ws_ssize ws_url_format(char *buf, size_t size, const struct ws_url *u);

/*
 * Formats the value of the opening handshake's Host header for |u|: the
 * host (IPv6 in brackets), plus ":port" unless the port is the scheme's
 * default (RFC 6455 Section 4.1, item 4). Returns as ws_addr_format().
 */
ws_ssize ws_url_host_header(char *buf, size_t size, const struct ws_url *u);

/*
 * Formats the resource name "/path[?query]" of |u| for the request line
 * (RFC 6455 Section 3). Returns as ws_addr_format().
 */
ws_ssize ws_url_resource(char *buf, size_t size, const struct ws_url *u);

/*
 * Resolves |host| (a NUL-terminated literal or name, no brackets) with
 * |port| into at most |max| addresses at |out|, in the resolver's order,
 * without duplicates. |family| is AF_UNSPEC, AF_INET or AF_INET6.
 * Literals never reach the resolver; names go to getaddrinfo() with
 * AI_NUMERICSERV (for "localhost" that reads /etc/hosts, no DNS).
 * Blocking: call it before the loop runs, not from a callback.
 *
 * Returns the number of addresses stored (>= 1), or:
 *   WS_NET_ENOHOST (empty), WS_NET_EIPV4 (bad dotted quad),
 *   WS_NET_ENONAME, WS_NET_ETRYAGAIN, WS_NET_EFAMILY, WS_NET_ERESOLVE,
 *   WS_ENOMEM, -errno (EAI_SYSTEM), -EINVAL (max == 0).
 */
int ws_addr_resolve(struct ws_addr *out, size_t max, const char *host,
                    uint16_t port, int family);

/*
 * Resolves a parsed URL: a literal copies |u->addr| without any system
 * call; a name calls ws_addr_resolve(). Returns as ws_addr_resolve().
 */
int ws_url_resolve(const struct ws_url *u, struct ws_addr *out, size_t max,
                   int family);

/*
 * The "actual address" helpers: getsockname() / getpeername() into |a|.
 * After listening on port 0, ws_addr_local() gives the port the OS chose.
 * Returns 0 or -errno (-EBADF, -ENOTSOCK, -ENOTCONN, -EAFNOSUPPORT for a
 * socket that is not IPv4 or IPv6).
 */
int ws_addr_local(int fd, struct ws_addr *a);
int ws_addr_peer(int fd, struct ws_addr *a);

/*
 * ws_net_format_error() with |a| formatted as WHERE:
 * "listen 127.0.0.1:9001: address already in use". |a| may be NULL.
 */
size_t ws_addr_format_error(char *buf, size_t size, const char *op,
                            const struct ws_addr *a, int err);

#ifdef __cplusplus
}
#endif

#endif /* WS_NET_ADDR_H */
