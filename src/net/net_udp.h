/*
 * net_udp.h: connectionless UDP sockets, a first-class sibling of TCP.
 *
 * Sockets are SOCK_NONBLOCK | SOCK_CLOEXEC; IPv6 sockets get
 * IPV6_V6ONLY = 1. No SO_REUSEADDR: for UDP it would let two servers share
 * a port and split its datagrams. Datagram boundaries are kept: one send is
 * one receive. Returns follow net_error.h (0 or a count, else -errno).
 */
#ifndef WS_NET_UDP_H
#define WS_NET_UDP_H

#include <stddef.h>

#include "../core/ws_core.h"
#include "net_addr.h"
#include "net_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest UDP payload over IPv4: 65535 - 20 (IP) - 8 (UDP) bytes. */
#define WS_UDP_MAX_PAYLOAD 65507
/* A receive buffer this large never truncates a datagram (IPv4 or 6). */
#define WS_UDP_RECV_BUFFER 65536

/*
 * Creates a UDP socket bound to |a| (port 0: the OS picks; see
 * ws_addr_local()). |*fd| is -1 on failure, with nothing left open.
 * Returns 0 or -errno (-EADDRINUSE, -EADDRNOTAVAIL, -EINVAL for
 * AF_UNSPEC...).
 */
int ws_udp_bind(int *fd, const struct ws_addr *a);

/*
 * Creates an unbound UDP socket of |family| (AF_INET or AF_INET6) for a
 * client; the kernel binds an ephemeral port on the first send.
 * Returns 0 or -errno.
 */
int ws_udp_open(int *fd, int family);

/*
 * Connects the UDP socket |fd| to |a| (connect(2) on a datagram socket:
 * no packet is sent). Afterwards only datagrams from |a| are received, and
 * an ICMP error for an earlier datagram (port unreachable) is reported by
 * the next send or receive as -ECONNREFUSED, which an unconnected socket
 * never reports. ws_udp_sendto() to |a| still works. Used to probe
 * whether anything listens on a UDP port.
 * Returns 0 or -errno (-EINVAL for AF_UNSPEC, -EAFNOSUPPORT for the other
 * family...).
 */
int ws_udp_connect(int fd, const struct ws_addr *a);

/*
 * Sends one datagram of |len| bytes to |to| (sendto with MSG_NOSIGNAL).
 * Returns |len|, -EAGAIN (send buffer full), -EMSGSIZE (over the
 * protocol's limit, WS_UDP_MAX_PAYLOAD for IPv4), or -errno
 * (-ECONNREFUSED may report an ICMP error from an earlier datagram).
 */
ws_ssize ws_udp_sendto(int fd, const void *buf, size_t len,
                       const struct ws_addr *to);

/*
 * Receives one datagram into |buf| (|cap| bytes) and its sender into
 * |from| when not NULL. A datagram longer than |cap| is cut: the first
 * |cap| bytes are stored, the rest is lost, and |*truncated| (when not
 * NULL) is set to 1, else 0 (MSG_TRUNC). A buffer of WS_UDP_RECV_BUFFER
 * bytes never truncates.
 * Returns the bytes stored (0 for an empty datagram), -EAGAIN when none is
 * queued, or -errno.
 */
ws_ssize ws_udp_recvfrom(int fd, void *buf, size_t cap,
                         struct ws_addr *from, int *truncated);

#ifdef __cplusplus
}
#endif

#endif /* WS_NET_UDP_H */
