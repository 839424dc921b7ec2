/*
 * net_udp.c: UDP bind, sendto and recvfrom with truncation reported.
 */
#include "net_udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int dgram_socket(int family) {
  int s = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int on = 1;
  if (s < 0)
    return -errno;
  /* Same rule as TCP listeners: "[::]:p" does not take IPv4 too. */
  if (family == AF_INET6 &&
      setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) {
    int r = -errno;
    close(s);
    return r;
  }
  return s;
}

int ws_udp_bind(int *fd, const struct ws_addr *a) {
  socklen_t len = ws_addr_len(a);
  int s, r;
  *fd = -1;
  if (len == 0)
    return -EINVAL;
  s = dgram_socket(a->sa.sa_family);
  if (s < 0)
    return s;
  if (bind(s, &a->sa, len) != 0) {
    r = -errno;
    close(s);
    return r;
  }
  *fd = s;
  return 0;
}

int ws_udp_open(int *fd, int family) {
  int s;
  *fd = -1;
  if (family != AF_INET && family != AF_INET6)
    return -EAFNOSUPPORT;
  s = dgram_socket(family);
  if (s < 0)
    return s;
  *fd = s;
  return 0;
}

int ws_udp_connect(int fd, const struct ws_addr *a) {
  socklen_t len = ws_addr_len(a);
  int r;
  if (len == 0)
    return -EINVAL;
  do
    r = connect(fd, &a->sa, len);
  while (r != 0 && errno == EINTR);
  return r == 0 ? 0 : -errno;
}

ws_ssize ws_udp_sendto(int fd, const void *buf, size_t len,
                       const struct ws_addr *to) {
  socklen_t alen = ws_addr_len(to);
  ssize_t n;
  if (alen == 0)
    return -EINVAL;
  do
    n = sendto(fd, buf, len, MSG_NOSIGNAL, &to->sa, alen);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
  return (ws_ssize)n;
}

ws_ssize ws_udp_recvfrom(int fd, void *buf, size_t cap,
                         struct ws_addr *from, int *truncated) {
  struct sockaddr_storage ss;
  struct msghdr msg;
  struct iovec iov;
  ssize_t n;
  iov.iov_base = buf;
  iov.iov_len = cap;
  memset(&msg, 0, sizeof(msg));
  msg.msg_name = &ss;
  msg.msg_namelen = sizeof(ss);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  do
    n = recvmsg(fd, &msg, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
  if (truncated)
    *truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  if (from) {
    memset(from, 0, sizeof(*from));
    if (ss.ss_family == AF_INET)
      memcpy(&from->in4, &ss, sizeof(from->in4));
    else if (ss.ss_family == AF_INET6)
      memcpy(&from->in6, &ss, sizeof(from->in6));
  }
  return (ws_ssize)n;
}
