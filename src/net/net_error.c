/*
 * net_error.c: names and messages for the socket layer's error codes.
 *
 * The messages are our own, lower-case and short, so that one-line errors
 * read the same on every libc ("connect 127.0.0.1:1: connection refused").
 * Built without _GNU_SOURCE on purpose: strerror_r() is then the XSI one.
 */
#include "net_error.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The errnos a socket program meets, as an X-macro (libuv's UV_ERRNO_MAP). */
#define ERRNO_MAP(XX)                                                       \
  XX(EACCES, "permission denied")                                           \
  XX(EADDRINUSE, "address already in use")                                  \
  XX(EADDRNOTAVAIL, "address not available")                                \
  XX(EAFNOSUPPORT, "address family not supported")                          \
  XX(EAGAIN, "resource temporarily unavailable")                            \
  XX(EALREADY, "connection already in progress")                            \
  XX(EBADF, "bad file descriptor")                                          \
  XX(EBUSY, "resource busy")                                                \
  XX(ECANCELED, "operation canceled")                                       \
  XX(ECONNABORTED, "connection aborted")                                    \
  XX(ECONNREFUSED, "connection refused")                                    \
  XX(ECONNRESET, "connection reset by peer")                                \
  XX(EDESTADDRREQ, "destination address required")                          \
  XX(EFAULT, "bad address in system call argument")                         \
  XX(EHOSTDOWN, "host is down")                                             \
  XX(EHOSTUNREACH, "host is unreachable")                                   \
  XX(EINPROGRESS, "operation in progress")                                  \
  XX(EINTR, "interrupted system call")                                      \
  XX(EINVAL, "invalid argument")                                            \
  XX(EIO, "i/o error")                                                      \
  XX(EISCONN, "socket is already connected")                                \
  XX(EMFILE, "too many open files")                                         \
  XX(EMSGSIZE, "message too long")                                          \
  XX(ENETDOWN, "network is down")                                           \
  XX(ENETUNREACH, "network is unreachable")                                 \
  XX(ENFILE, "file table overflow")                                         \
  XX(ENOBUFS, "no buffer space available")                                  \
  XX(ENOENT, "no such file or directory")                                   \
  XX(ENOMEM, "not enough memory")                                           \
  XX(ENOSPC, "no space left (buffer too small)")                            \
  XX(ENOSYS, "function not implemented")                                    \
  XX(ENOTCONN, "socket is not connected")                                   \
  XX(ENOTSOCK, "socket operation on non-socket")                            \
  XX(ENOTSUP, "operation not supported")                                    \
  XX(EPERM, "operation not permitted")                                      \
  XX(EPIPE, "broken pipe")                                                  \
  XX(EPROTO, "protocol error")                                              \
  XX(EPROTONOSUPPORT, "protocol not supported")                             \
  XX(ESHUTDOWN, "cannot send after socket shutdown")                        \
  XX(ETIMEDOUT, "timed out")

#define NET_MAP(XX)                                                         \
  XX(WS_NET_EEMPTY, "empty address")                                        \
  XX(WS_NET_ESCHEME, "unknown scheme (expected ws://, wss://, tcp:// or "   \
                     "udp://)")                                             \
  XX(WS_NET_ENOHOST, "missing host")                                        \
  XX(WS_NET_EHOST, "invalid host name")                                     \
  XX(WS_NET_EIPV4, "invalid IPv4 address")                                  \
  XX(WS_NET_EIPV6, "invalid IPv6 address")                                  \
  XX(WS_NET_EBRACKET, "malformed or missing IPv6 brackets")                 \
  XX(WS_NET_ENOPORT, "missing port")                                        \
  XX(WS_NET_EPORT, "invalid port")                                          \
  XX(WS_NET_EPORTRANGE, "port out of range (0-65535)")                      \
  XX(WS_NET_EUSERINFO, "user information (user@) not allowed")              \
  XX(WS_NET_EFRAGMENT, "fragment (#) not allowed")                          \
  XX(WS_NET_EPATH, "invalid character in path or query")                    \
  XX(WS_NET_EEXTRA, "unexpected text after the port")                       \
  XX(WS_NET_ENONAME, "host not found")                                      \
  XX(WS_NET_ETRYAGAIN, "temporary name resolution failure")                 \
  XX(WS_NET_EFAMILY, "no address of the requested family")                  \
  XX(WS_NET_ERESOLVE, "name resolution failed")                             \
  XX(WS_ENOMEM, "out of memory")

const char *ws_net_strerror(int err) {
  if (err == 0)
    return "success";
  /* EWOULDBLOCK may equal EAGAIN, so it cannot be a case label. */
  if (err == -EWOULDBLOCK)
    return "resource temporarily unavailable";
  switch (err) {
#define XX(code, msg)                                                       \
  case -(code):                                                             \
    return msg;
    ERRNO_MAP(XX)
#undef XX
#define XX(code, msg)                                                       \
  case code:                                                                \
    return msg;
    NET_MAP(XX)
#undef XX
  default:
    return "unknown error";
  }
}

const char *ws_net_errname(int err) {
  if (err == 0)
    return "OK";
  if (err == -EWOULDBLOCK)
    return "EAGAIN";
  switch (err) {
#define XX(code, msg)                                                       \
  case -(code):                                                             \
    return #code;
    ERRNO_MAP(XX)
#undef XX
#define XX(code, msg)                                                       \
  case code:                                                                \
    return #code;
    NET_MAP(XX)
#undef XX
  default:
    return "UNKNOWN";
  }
}

/* Errnos outside the table still deserve a real message, not "unknown". */
static const char *fallback(int err, char *tmp, size_t size) {
  const char *msg = ws_net_strerror(err);
  if (strcmp(msg, "unknown error") != 0 || err >= 0 || err <= -4096)
    return msg;
  if (strerror_r(-err, tmp, size) != 0)
    return msg;
  if (tmp[0])
    tmp[0] = (char)tolower((unsigned char)tmp[0]);
  return tmp;
}

size_t ws_net_format_error(char *buf, size_t size, const char *op,
                           const char *where, int err) {
  char tmp[128];
  const char *msg = fallback(err, tmp, sizeof(tmp));
  int n;
  if (op == NULL)
    op = "";
  if (where && where[0])
    n = snprintf(buf, size, "%s %s: %s", op, where, msg);
  else
    n = snprintf(buf, size, "%s: %s", op, msg);
  return n < 0 ? 0 : (size_t)n;
}
