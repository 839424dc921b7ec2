/*
 * net_addr.c: address and URL parsing, formatting and resolution.
 *
 * The parser walks the input once, left to right, and reports the first
 * problem with the offset of the byte at fault. It never reads past |len|
 * (inputs need no NUL) and copies only the host, because inet_pton() and
 * getaddrinfo() want a C string.
 */
#define _GNU_SOURCE /* EAI_NODATA, EAI_ADDRFAMILY */
#include "net_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

static const char slash[] = "/";

const char *ws_scheme_name(enum ws_scheme scheme) {
  switch (scheme) {
  case WS_SCHEME_WS: return "ws";
  case WS_SCHEME_WSS: return "wss";
  case WS_SCHEME_TCP: return "tcp";
  case WS_SCHEME_UDP: return "udp";
  default: return "";
  }
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static int is_alpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_hex(unsigned char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int host_char(unsigned char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
}

/* RFC 3986 pchar minus pct-encoded, plus '/': what a path may hold. */
static int path_char(unsigned char c) {
  if (is_alpha(c) || is_digit(c))
    return 1;
  return c != 0 && strchr("-._~!$&'()*+,;=:@/", c) != NULL;
}

static int fail(struct ws_url *u, int err, size_t offset) {
  u->error_offset = offset;
  return err;
}

/* Case-insensitive compare of s[0..n) with a lower-case literal. */
static int same(const char *s, size_t n, const char *lit) {
  size_t i;
  if (strlen(lit) != n)
    return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 'A' && c <= 'Z')
      c = (unsigned char)(c - 'A' + 'a');
    if (c != (unsigned char)lit[i])
      return 0;
  }
  return 1;
}

static int parse_port(struct ws_url *u, const char *s, size_t ps,
                      size_t end) {
  unsigned long v = 0;
  size_t i;
  if (ps == end)
    return fail(u, WS_NET_EPORT, ps);
  for (i = ps; i < end; i++) {
    if (!is_digit((unsigned char)s[i]))
      return fail(u, WS_NET_EPORT, i);
    if (v <= 65535)
      v = v * 10 + (unsigned long)(s[i] - '0');
  }
  if (v > 65535)
    return fail(u, WS_NET_EPORTRANGE, ps);
  u->port = (uint16_t)v;
  u->port_given = 1;
  return 0;
}

/* "[v6]" then an optional ":port"; |*port_at| gets the port start or 0. */
static int parse_v6(struct ws_url *u, const char *s, size_t start,
                    size_t end, size_t *port_at) {
  size_t rb = start + 1, hs = start + 1, n;
  while (rb < end && s[rb] != ']')
    rb++;
  if (rb == end)
    return fail(u, WS_NET_EBRACKET, end);
  n = rb - hs;
  if (n == 0)
    return fail(u, WS_NET_ENOHOST, hs);
  if (n >= INET6_ADDRSTRLEN)
    return fail(u, WS_NET_EIPV6, hs);
  memcpy(u->host, s + hs, n);
  u->host[n] = '\0';
  u->host_len = n;
  if (inet_pton(AF_INET6, u->host, &u->addr.in6.sin6_addr) != 1)
    return fail(u, WS_NET_EIPV6, hs);
  u->addr.in6.sin6_family = AF_INET6;
  u->host_kind = WS_HOST_IPV6;
  if (rb + 1 == end)
    return 0;
  if (s[rb + 1] != ':')
    return fail(u, WS_NET_EBRACKET, rb + 1);
  *port_at = rb + 2;
  return 0;
}

/* A name or dotted quad, then an optional ":port". */
static int parse_name(struct ws_url *u, const char *s, size_t start,
                      size_t end, size_t *port_at) {
  size_t i, colon = end, n;
  int dotted = 1;
  for (i = start; i < end; i++) {
    if (s[i] == '[' || s[i] == ']')
      return fail(u, WS_NET_EBRACKET, i);
    if (s[i] == ':') {
      /* A second colon: an IPv6 address that lost its brackets. */
      if (colon != end)
        return fail(u, WS_NET_EBRACKET, start);
      colon = i;
    }
  }
  n = colon - start;
  if (n == 0)
    return fail(u, WS_NET_ENOHOST, start);
  for (i = start; i < colon; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!host_char(c))
      return fail(u, WS_NET_EHOST, i);
    if (!is_digit(c) && c != '.')
      dotted = 0;
  }
  if (n > WS_HOST_MAX)
    return fail(u, WS_NET_EHOST, start + WS_HOST_MAX);
  memcpy(u->host, s + start, n);
  u->host[n] = '\0';
  u->host_len = n;
  if (dotted) {
    /* inet_pton takes dotted quads only: "127.1" is refused, not guessed. */
    if (inet_pton(AF_INET, u->host, &u->addr.in4.sin_addr) != 1)
      return fail(u, WS_NET_EIPV4, start);
    u->addr.in4.sin_family = AF_INET;
    u->host_kind = WS_HOST_IPV4;
  } else {
    u->host_kind = WS_HOST_NAME;
  }
  if (colon != end)
    *port_at = colon + 1;
  return 0;
}

/* The authority s[start..end): host and port, no userinfo. */
static int parse_authority(struct ws_url *u, const char *s, size_t start,
                           size_t end, int need_port, uint16_t def_port) {
  size_t i, port_at = 0;
  int r;
  if (start == end)
    return fail(u, WS_NET_ENOHOST, start);
  for (i = start; i < end; i++)
    if (s[i] == '@')
      return fail(u, WS_NET_EUSERINFO, i);
  if (s[start] == '[')
    r = parse_v6(u, s, start, end, &port_at);
  else
    r = parse_name(u, s, start, end, &port_at);
  if (r != 0)
    return r;
  if (port_at) {
    r = parse_port(u, s, port_at, end);
    if (r != 0)
      return r;
  } else if (need_port) {
    return fail(u, WS_NET_ENOPORT, end);
  } else {
    u->port = def_port;
  }
  if (u->host_kind != WS_HOST_NAME)
    ws_addr_set_port(&u->addr, u->port);
  return 0;
}

static size_t authority_end(const char *s, size_t start, size_t len) {
  while (start < len && s[start] != '/' && s[start] != '?' &&
         s[start] != '#')
    start++;
  return start;
}

/* Path and query of a ws:// URL, from |p| (at '/', '?' or the end). */
static int parse_resource(struct ws_url *u, const char *s, size_t p,
                          size_t len) {
  size_t i = p;
  while (i < len && s[i] != '?') {
    unsigned char c = (unsigned char)s[i];
    if (c == '%') {
      if (i + 2 >= len || !is_hex((unsigned char)s[i + 1]) ||
          !is_hex((unsigned char)s[i + 2]))
        return fail(u, WS_NET_EPATH, i);
      i += 3;
      continue;
    }
    if (!path_char(c))
      return fail(u, WS_NET_EPATH, i);
    i++;
  }
  /* RFC 6455 Section 3: the resource name is "/" when the path is empty. */
  if (i == p) {
    u->path = slash;
    u->path_len = 1;
  } else {
    u->path = s + p;
    u->path_len = i - p;
  }
  if (i == len)
    return 0;
  u->query = s + i + 1;
  for (i++; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '%') {
      if (i + 2 >= len || !is_hex((unsigned char)s[i + 1]) ||
          !is_hex((unsigned char)s[i + 2]))
        return fail(u, WS_NET_EPATH, i);
      i += 2;
      continue;
    }
    if (!path_char(c) && c != '?')
      return fail(u, WS_NET_EPATH, i);
  }
  u->query_len = (size_t)(s + len - u->query);
  return 0;
}

int ws_url_parse(struct ws_url *u, const char *s, size_t len) {
  size_t i = 0, start, aend;
  uint16_t def = 0;
  int r;
  memset(u, 0, sizeof(*u));
  if (s == NULL || len == 0)
    return fail(u, WS_NET_EEMPTY, 0);
  while (i < len && (is_alpha((unsigned char)s[i]) ||
                     (i > 0 && (is_digit((unsigned char)s[i]) ||
                                s[i] == '+' || s[i] == '-' || s[i] == '.'))))
    i++;
  if (i == 0 || len - i < 3 || memcmp(s + i, "://", 3) != 0)
    return fail(u, WS_NET_ESCHEME, 0);
  if (same(s, i, "ws")) {
    u->scheme = WS_SCHEME_WS;
    def = 80;
  } else if (same(s, i, "wss")) {
    u->scheme = WS_SCHEME_WSS;
    u->tls = 1;
    def = 443;
  } else if (same(s, i, "tcp")) {
    u->scheme = WS_SCHEME_TCP;
  } else if (same(s, i, "udp")) {
    u->scheme = WS_SCHEME_UDP;
  } else {
    return fail(u, WS_NET_ESCHEME, 0);
  }
  /* RFC 6455 Section 3: fragment identifiers MUST NOT be used on ws URIs;
   * a literal '#' would have to be escaped as %23. */
  for (start = i + 3; start < len; start++)
    if (s[start] == '#')
      return fail(u, WS_NET_EFRAGMENT, start);
  start = i + 3;
  aend = authority_end(s, start, len);
  r = parse_authority(u, s, start, aend, def == 0, def);
  if (r != 0)
    return r;
  if (def == 0) {
    if (aend != len)
      return fail(u, WS_NET_EEXTRA, aend);
    return 0;
  }
  return parse_resource(u, s, aend, len);
}

int ws_hostport_parse(struct ws_url *u, const char *s, size_t len) {
  size_t aend;
  int r;
  memset(u, 0, sizeof(*u));
  if (s == NULL || len == 0)
    return fail(u, WS_NET_EEMPTY, 0);
  aend = authority_end(s, 0, len);
  r = parse_authority(u, s, 0, aend, 1, 0);
  if (r != 0)
    return r;
  if (aend != len)
    return fail(u, WS_NET_EEXTRA, aend);
  return 0;
}

int ws_addr_set(struct ws_addr *a, const char *ip, uint16_t port) {
  memset(a, 0, sizeof(*a));
  if (ip == NULL || ip[0] == '\0')
    return WS_NET_ENOHOST;
  if (strchr(ip, ':')) {
    if (inet_pton(AF_INET6, ip, &a->in6.sin6_addr) != 1)
      return WS_NET_EIPV6;
    a->in6.sin6_family = AF_INET6;
  } else {
    if (inet_pton(AF_INET, ip, &a->in4.sin_addr) != 1)
      return WS_NET_EIPV4;
    a->in4.sin_family = AF_INET;
  }
  ws_addr_set_port(a, port);
  return 0;
}

uint16_t ws_addr_port(const struct ws_addr *a) {
  if (a->sa.sa_family == AF_INET)
    return ntohs(a->in4.sin_port);
  if (a->sa.sa_family == AF_INET6)
    return ntohs(a->in6.sin6_port);
  return 0;
}

void ws_addr_set_port(struct ws_addr *a, uint16_t port) {
  if (a->sa.sa_family == AF_INET)
    a->in4.sin_port = htons(port);
  else if (a->sa.sa_family == AF_INET6)
    a->in6.sin6_port = htons(port);
}

socklen_t ws_addr_len(const struct ws_addr *a) {
  if (a->sa.sa_family == AF_INET)
    return (socklen_t)sizeof(a->in4);
  if (a->sa.sa_family == AF_INET6)
    return (socklen_t)sizeof(a->in6);
  return 0;
}

int ws_addr_equal(const struct ws_addr *a, const struct ws_addr *b) {
  if (a->sa.sa_family != b->sa.sa_family)
    return 0;
  if (a->sa.sa_family == AF_INET)
    return a->in4.sin_port == b->in4.sin_port &&
           a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr;
  if (a->sa.sa_family == AF_INET6)
    return a->in6.sin6_port == b->in6.sin6_port &&
           memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
  return a->sa.sa_family == AF_UNSPEC;
}

/* Bounded string building: on overflow the result is "" and -ENOSPC. */
struct out {
  char *buf;
  size_t size;
  size_t len;
};

static void put(struct out *o, const char *p, size_t n) {
  if (o->len < o->size && o->size - o->len > n)
    memcpy(o->buf + o->len, p, n);
  o->len += n;
}

static void puts_(struct out *o, const char *p) { put(o, p, strlen(p)); }

static void put_port(struct out *o, uint16_t port) {
  char tmp[8];
  int n = snprintf(tmp, sizeof(tmp), ":%u", (unsigned)port);
  put(o, tmp, (size_t)n);
}

static ws_ssize finish(struct out *o) {
  if (o->len >= o->size) {
    if (o->size > 0)
      o->buf[0] = '\0';
    return -ENOSPC;
  }
  o->buf[o->len] = '\0';
  return (ws_ssize)o->len;
}

static int put_addr(struct out *o, const struct ws_addr *a) {
  char ip[INET6_ADDRSTRLEN];
  if (a->sa.sa_family == AF_INET) {
    inet_ntop(AF_INET, &a->in4.sin_addr, ip, sizeof(ip));
    puts_(o, ip);
  } else if (a->sa.sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof(ip));
    puts_(o, "[");
    puts_(o, ip);
    puts_(o, "]");
  } else {
    return -EAFNOSUPPORT;
  }
  put_port(o, ws_addr_port(a));
  return 0;
}

ws_ssize ws_addr_format(char *buf, size_t size, const struct ws_addr *a) {
  return ws_addr_format_url(buf, size, WS_SCHEME_NONE, a);
}

ws_ssize ws_addr_format_url(char *buf, size_t size, enum ws_scheme scheme,
                            const struct ws_addr *a) {
  struct out o = {buf, size, 0};
  if (scheme != WS_SCHEME_NONE) {
    puts_(&o, ws_scheme_name(scheme));
    puts_(&o, "://");
  }
  if (put_addr(&o, a) != 0) {
    if (size > 0)
      buf[0] = '\0';
    return -EAFNOSUPPORT;
  }
  return finish(&o);
}

static void put_host(struct out *o, const struct ws_url *u) {
  if (u->host_kind == WS_HOST_IPV6) {
    puts_(o, "[");
    put(o, u->host, u->host_len);
    puts_(o, "]");
  } else {
    put(o, u->host, u->host_len);
  }
}

static void put_resource(struct out *o, const struct ws_url *u) {
  if (u->path)
    put(o, u->path, u->path_len);
  if (u->query) {
    puts_(o, "?");
    put(o, u->query, u->query_len);
  }
}

ws_ssize ws_url_format(char *buf, size_t size, const struct ws_url *u) {
  struct out o = {buf, size, 0};
  if (u->scheme != WS_SCHEME_NONE) {
    puts_(&o, ws_scheme_name(u->scheme));
    puts_(&o, "://");
  }
  put_host(&o, u);
  if (u->port_given)
    put_port(&o, u->port);
  put_resource(&o, u);
  return finish(&o);
}

ws_ssize ws_url_host_header(char *buf, size_t size, const struct ws_url *u) {
  struct out o = {buf, size, 0};
  uint16_t def = u->scheme == WS_SCHEME_WSS ? 443 : 80;
  put_host(&o, u);
  /* RFC 6455 Section 4.1, item 4: ":port" only for a non-default port. */
  if (u->port != def)
    put_port(&o, u->port);
  return finish(&o);
}

ws_ssize ws_url_resource(char *buf, size_t size, const struct ws_url *u) {
  struct out o = {buf, size, 0};
  if (u->path == NULL)
    puts_(&o, slash);
  put_resource(&o, u);
  return finish(&o);
}

static int from_gai(int e) {
  switch (e) {
  case EAI_NONAME:
#ifdef EAI_NODATA
  case EAI_NODATA:
#endif
    return WS_NET_ENONAME;
  case EAI_AGAIN: return WS_NET_ETRYAGAIN;
  case EAI_FAMILY:
#ifdef EAI_ADDRFAMILY
  case EAI_ADDRFAMILY:
#endif
    return WS_NET_EFAMILY;
  case EAI_MEMORY: return WS_ENOMEM;
  case EAI_SYSTEM: return errno ? -errno : WS_NET_ERESOLVE;
  default: return WS_NET_ERESOLVE;
  }
}

static int literal(struct ws_addr *out, const char *host, uint16_t port,
                   int family) {
  int r = ws_addr_set(out, host, port);
  if (r != 0)
    return r;
  if (family != AF_UNSPEC && family != out->sa.sa_family)
    return WS_NET_EFAMILY;
  return 1;
}

static int is_literal(const char *host) {
  const char *p;
  if (strchr(host, ':'))
    return 1;
  for (p = host; *p; p++)
    if (!is_digit((unsigned char)*p) && *p != '.')
      return 0;
  return 1;
}

int ws_addr_resolve(struct ws_addr *out, size_t max, const char *host,
                    uint16_t port, int family) {
  struct addrinfo hints, *res = NULL, *ai;
  char serv[8];
  size_t n = 0, i;
  int r;
  if (max == 0)
    return -EINVAL;
  if (host == NULL || host[0] == '\0')
    return WS_NET_ENOHOST;
  if (is_literal(host))
    return literal(out, host, port, family);
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM; /* one entry per address, not per type */
  hints.ai_flags = AI_NUMERICSERV;
  snprintf(serv, sizeof(serv), "%u", (unsigned)port);
  errno = 0;
  r = getaddrinfo(host, serv, &hints, &res);
  if (r != 0) {
    r = from_gai(r);
    goto out;
  }
  for (ai = res; ai && n < max; ai = ai->ai_next) {
    struct ws_addr a;
    memset(&a, 0, sizeof(a));
    if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(a.in4))
      memcpy(&a.in4, ai->ai_addr, sizeof(a.in4));
    else if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(a.in6))
      memcpy(&a.in6, ai->ai_addr, sizeof(a.in6));
    else
      continue;
    for (i = 0; i < n && !ws_addr_equal(&out[i], &a); i++)
      ;
    if (i == n)
      out[n++] = a;
  }
  r = n > 0 ? (int)n : WS_NET_EFAMILY;
out:
  if (res)
    freeaddrinfo(res);
  return r;
}

int ws_url_resolve(const struct ws_url *u, struct ws_addr *out, size_t max,
                   int family) {
  if (max == 0)
    return -EINVAL;
  if (u->host_kind == WS_HOST_IPV4 || u->host_kind == WS_HOST_IPV6) {
    if (family != AF_UNSPEC && family != u->addr.sa.sa_family)
      return WS_NET_EFAMILY;
    out[0] = u->addr;
    return 1;
  }
  return ws_addr_resolve(out, max, u->host, u->port, family);
}

static int name_of(int fd, struct ws_addr *a, int peer) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
               : getsockname(fd, (struct sockaddr *)&ss, &len);
  if (r != 0)
    return -errno;
  memset(a, 0, sizeof(*a));
  if (ss.ss_family == AF_INET)
    memcpy(&a->in4, &ss, sizeof(a->in4));
  else if (ss.ss_family == AF_INET6)
    memcpy(&a->in6, &ss, sizeof(a->in6));
  else
    return -EAFNOSUPPORT;
  return 0;
}

int ws_addr_local(int fd, struct ws_addr *a) { return name_of(fd, a, 0); }

int ws_addr_peer(int fd, struct ws_addr *a) { return name_of(fd, a, 1); }

size_t ws_addr_format_error(char *buf, size_t size, const char *op,
                            const struct ws_addr *a, int err) {
  char where[WS_ADDR_STRLEN + 1];
  if (a == NULL || ws_addr_format(where, sizeof(where), a) < 0)
    where[0] = '\0';
  return ws_net_format_error(buf, size, op, where, err);
}
