/*
 * test_net_addr.c: the address/URL parser and formatter (net_addr.h) and
 * the error messages (net_error.h).
 *
 * The parser is a whole-input function, not a streaming one, so the
 * "whole / byte at a time / split" discipline becomes: every input is
 * parsed from an exact-size guard-page buffer (an over-read faults), then
 * every prefix of it is parsed the same way, and must give either success
 * or a named error whose offset lies inside the prefix; a seeded random
 * sweep checks that everything accepted formats back to text that parses
 * to the same fields.
 */
#define _DEFAULT_SOURCE
#include "test_support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/net_addr.h"
#include "net/net_error.h"

/* ------------------------------------------------------------ helpers */

/* Parses from an exact-size guarded copy that |*g| keeps alive, because
 * |path| and |query| point into it. The caller frees |*g|. */
static int parse_keep(struct ws_url *u, int hostport, const char *s,
                      size_t len, struct guarded *g) {
  int r;
  *g = guarded_copy(s, len);
  r = hostport ? ws_hostport_parse(u, (const char *)g->data, len)
               : ws_url_parse(u, (const char *)g->data, len);
  if (r == 0 && u->path && u->path[0] != '/')
    fail_msg("path does not start with '/'");
  if (r == 0 && u->path && u->path_len > 1) {
    assert_true(u->path >= (const char *)g->data);
    assert_true(u->path + u->path_len <= (const char *)g->data + len);
  }
  if (r == 0 && u->query) {
    assert_true(u->query >= (const char *)g->data);
    assert_true(u->query + u->query_len <= (const char *)g->data + len);
  }
  return r;
}

/* As parse_keep(), for callers that use no pointer field afterwards. */
static int parse(struct ws_url *u, int hostport, const char *s, size_t len) {
  struct guarded g;
  int r = parse_keep(u, hostport, s, len, &g);
  guarded_free(&g);
  u->path = u->query = NULL;
  return r;
}

/* Source for output buffers made with guarded_copy(). */
static const char zeros[1024];

static int named_error(int r) {
  return (r <= WS_NET_EEMPTY && r >= WS_NET_EEXTRA);
}

/* ------------------------------------------------------- valid inputs */

struct ok_case {
  const char *in;
  int hostport;
  enum ws_scheme scheme;
  enum ws_host_kind kind;
  const char *host;
  unsigned port;
  int port_given;
  const char *path;  /* NULL: none */
  const char *query; /* NULL: no '?' */
  const char *canon; /* ws_url_format() */
  const char *host_header;
  const char *resource;
};

static const struct ok_case ok_cases[] = {
    {"ws://127.0.0.1:9001/path?x=1", 0, WS_SCHEME_WS, WS_HOST_IPV4,
     "127.0.0.1", 9001, 1, "/path", "x=1", "ws://127.0.0.1:9001/path?x=1",
     "127.0.0.1:9001", "/path?x=1"},
    {"ws://localhost", 0, WS_SCHEME_WS, WS_HOST_NAME, "localhost", 80, 0,
     "/", NULL, "ws://localhost/", "localhost", "/"},
    {"ws://[::1]:9001", 0, WS_SCHEME_WS, WS_HOST_IPV6, "::1", 9001, 1, "/",
     NULL, "ws://[::1]:9001/", "[::1]:9001", "/"},
    {"wss://example.com/chat", 0, WS_SCHEME_WSS, WS_HOST_NAME, "example.com",
     443, 0, "/chat", NULL, "wss://example.com/chat", "example.com",
     "/chat"},
    {"wss://example.com:443/", 0, WS_SCHEME_WSS, WS_HOST_NAME, "example.com",
     443, 1, "/", NULL, "wss://example.com:443/", "example.com", "/"},
    {"wss://example.com:80/", 0, WS_SCHEME_WSS, WS_HOST_NAME, "example.com",
     80, 1, "/", NULL, "wss://example.com:80/", "example.com:80", "/"},
    {"ws://example.com:80/", 0, WS_SCHEME_WS, WS_HOST_NAME, "example.com",
     80, 1, "/", NULL, "ws://example.com:80/", "example.com", "/"},
    {"WS://LocalHost:0", 0, WS_SCHEME_WS, WS_HOST_NAME, "LocalHost", 0, 1,
     "/", NULL, "ws://LocalHost:0/", "LocalHost:0", "/"},
    {"ws://h?q", 0, WS_SCHEME_WS, WS_HOST_NAME, "h", 80, 0, "/", "q",
     "ws://h/?q", "h", "/?q"},
    {"ws://h/?", 0, WS_SCHEME_WS, WS_HOST_NAME, "h", 80, 0, "/", "",
     "ws://h/?", "h", "/?"},
    {"ws://h/a%20b/c?x=%2F&y=?z", 0, WS_SCHEME_WS, WS_HOST_NAME, "h", 80, 0,
     "/a%20b/c", "x=%2F&y=?z", "ws://h/a%20b/c?x=%2F&y=?z", "h",
     "/a%20b/c?x=%2F&y=?z"},
    {"ws://h/~u/!$&'()*+,;=:@-._", 0, WS_SCHEME_WS, WS_HOST_NAME, "h", 80, 0,
     "/~u/!$&'()*+,;=:@-._", NULL, "ws://h/~u/!$&'()*+,;=:@-._", "h",
     "/~u/!$&'()*+,;=:@-._"},
    {"ws://h:65535", 0, WS_SCHEME_WS, WS_HOST_NAME, "h", 65535, 1, "/", NULL,
     "ws://h:65535/", "h:65535", "/"},
    {"ws://h:00080//", 0, WS_SCHEME_WS, WS_HOST_NAME, "h", 80, 1, "//", NULL,
     "ws://h:80//", "h", "//"},
    {"ws://[2001:db8::1]/", 0, WS_SCHEME_WS, WS_HOST_IPV6, "2001:db8::1", 80,
     0, "/", NULL, "ws://[2001:db8::1]/", "[2001:db8::1]", "/"},
    {"ws://[::ffff:127.0.0.1]:1", 0, WS_SCHEME_WS, WS_HOST_IPV6,
     "::ffff:127.0.0.1", 1, 1, "/", NULL, "ws://[::ffff:127.0.0.1]:1/",
     "[::ffff:127.0.0.1]:1", "/"},
    {"ws://a-b.c_d.example.:1/", 0, WS_SCHEME_WS, WS_HOST_NAME,
     "a-b.c_d.example.", 1, 1, "/", NULL, "ws://a-b.c_d.example.:1/",
     "a-b.c_d.example.:1", "/"},
    {"tcp://127.0.0.1:9002", 0, WS_SCHEME_TCP, WS_HOST_IPV4, "127.0.0.1",
     9002, 1, NULL, NULL, "tcp://127.0.0.1:9002", "127.0.0.1:9002", "/"},
    {"udp://[::1]:0", 0, WS_SCHEME_UDP, WS_HOST_IPV6, "::1", 0, 1, NULL, NULL,
     "udp://[::1]:0", "[::1]:0", "/"},
    {"TCP://localhost:7", 0, WS_SCHEME_TCP, WS_HOST_NAME, "localhost", 7, 1,
     NULL, NULL, "tcp://localhost:7", "localhost:7", "/"},
    {"127.0.0.1:9001", 1, WS_SCHEME_NONE, WS_HOST_IPV4, "127.0.0.1", 9001, 1,
     NULL, NULL, "127.0.0.1:9001", "127.0.0.1:9001", "/"},
    {"[::1]:9001", 1, WS_SCHEME_NONE, WS_HOST_IPV6, "::1", 9001, 1, NULL,
     NULL, "[::1]:9001", "[::1]:9001", "/"},
    {"localhost:0", 1, WS_SCHEME_NONE, WS_HOST_NAME, "localhost", 0, 1, NULL,
     NULL, "localhost:0", "localhost:0", "/"},
    {"0.0.0.0:65535", 1, WS_SCHEME_NONE, WS_HOST_IPV4, "0.0.0.0", 65535, 1,
     NULL, NULL, "0.0.0.0:65535", "0.0.0.0:65535", "/"},
    {"[::]:80", 1, WS_SCHEME_NONE, WS_HOST_IPV6, "::", 80, 1, NULL, NULL,
     "[::]:80", "[::]", "/"},
};

static void check_ok(const struct ok_case *c, const struct ws_url *u) {
  char buf[512];
  assert_int_equal(u->scheme, c->scheme);
  assert_int_equal(u->tls, c->scheme == WS_SCHEME_WSS);
  assert_int_equal(u->host_kind, c->kind);
  assert_string_equal(u->host, c->host);
  assert_int_equal(u->host_len, strlen(c->host));
  assert_int_equal(u->port, c->port);
  assert_int_equal(u->port_given, c->port_given);
  if (c->path) {
    assert_non_null(u->path);
    assert_int_equal(u->path_len, strlen(c->path));
    assert_memory_equal(u->path, c->path, u->path_len);
  } else {
    assert_null(u->path);
  }
  if (c->query) {
    assert_non_null(u->query);
    assert_int_equal(u->query_len, strlen(c->query));
    assert_memory_equal(u->query, c->query, u->query_len);
  } else {
    assert_null(u->query);
  }
  /* Literals carry a ready sockaddr; names none until resolved. */
  if (c->kind == WS_HOST_IPV4) {
    struct in_addr want;
    assert_int_equal(u->addr.sa.sa_family, AF_INET);
    assert_int_equal(inet_pton(AF_INET, c->host, &want), 1);
    assert_memory_equal(&u->addr.in4.sin_addr, &want, 4);
    assert_int_equal(ws_addr_port(&u->addr), c->port);
  } else if (c->kind == WS_HOST_IPV6) {
    struct in6_addr want;
    assert_int_equal(u->addr.sa.sa_family, AF_INET6);
    assert_int_equal(inet_pton(AF_INET6, c->host, &want), 1);
    assert_memory_equal(&u->addr.in6.sin6_addr, &want, 16);
    assert_int_equal(ws_addr_port(&u->addr), c->port);
  } else {
    assert_int_equal(u->addr.sa.sa_family, AF_UNSPEC);
  }
  assert_int_equal(ws_url_format(buf, sizeof(buf), u), strlen(c->canon));
  assert_string_equal(buf, c->canon);
  assert_int_equal(ws_url_host_header(buf, sizeof(buf), u),
                   strlen(c->host_header));
  assert_string_equal(buf, c->host_header);
  assert_int_equal(ws_url_resource(buf, sizeof(buf), u),
                   strlen(c->resource));
  assert_string_equal(buf, c->resource);
}

static void test_ws_url_parse_valid(void **state) {
  size_t i;
  (void)state;
  for (i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
    const struct ok_case *c = &ok_cases[i];
    struct ws_url u, again;
    struct guarded g1, g2;
    char canon[512];
    int r = parse_keep(&u, c->hostport, c->in, strlen(c->in), &g1);
    if (r != 0)
      fail_msg("%s: %s at %zu", c->in, ws_net_errname(r), u.error_offset);
    check_ok(c, &u);
    /* The canonical form parses to the same fields. */
    assert_true(ws_url_format(canon, sizeof(canon), &u) > 0);
    assert_int_equal(
        parse_keep(&again, c->hostport, canon, strlen(canon), &g2), 0);
    check_ok(c, &again);
    guarded_free(&g1);
    guarded_free(&g2);
  }
}

/* ----------------------------------------------------- invalid inputs */

struct bad_case {
  const char *in;
  size_t len; /* 0: strlen */
  int hostport;
  int err;
  size_t offset;
};

static const struct bad_case bad_cases[] = {
    {"", 0, 0, WS_NET_EEMPTY, 0},
    {"", 0, 1, WS_NET_EEMPTY, 0},
    {"127.0.0.1:9001", 0, 0, WS_NET_ESCHEME, 0},
    {"http://h/", 0, 0, WS_NET_ESCHEME, 0},
    {"wsx://h/", 0, 0, WS_NET_ESCHEME, 0},
    {"ws:/h", 0, 0, WS_NET_ESCHEME, 0},
    {"ws//h", 0, 0, WS_NET_ESCHEME, 0},
    {"://h", 0, 0, WS_NET_ESCHEME, 0},
    {"ws:", 0, 0, WS_NET_ESCHEME, 0},
    {"ws://", 0, 0, WS_NET_ENOHOST, 5},
    {"ws:///path", 0, 0, WS_NET_ENOHOST, 5},
    {"ws://:80/", 0, 0, WS_NET_ENOHOST, 5},
    {"ws://?q", 0, 0, WS_NET_ENOHOST, 5},
    {"ws://user@h/", 0, 0, WS_NET_EUSERINFO, 9},
    {"ws://user:pw@h/", 0, 0, WS_NET_EUSERINFO, 12},
    {"ws://h/#frag", 0, 0, WS_NET_EFRAGMENT, 7},
    {"ws://h#", 0, 0, WS_NET_EFRAGMENT, 6},
    {"ws://h/?a#b", 0, 0, WS_NET_EFRAGMENT, 9},
    {"tcp://h:1#", 0, 0, WS_NET_EFRAGMENT, 9},
    {"ws://[::1/", 0, 0, WS_NET_EBRACKET, 9},
    {"ws://[::1", 0, 0, WS_NET_EBRACKET, 9},
    {"ws://[::1]x/", 0, 0, WS_NET_EBRACKET, 10},
    {"ws://::1:80/", 0, 0, WS_NET_EBRACKET, 5},
    {"ws://::1/", 0, 0, WS_NET_EBRACKET, 5},
    {"ws://h]:80", 0, 0, WS_NET_EBRACKET, 6},
    {"ws://h[:80", 0, 0, WS_NET_EBRACKET, 6},
    {"ws://[]:80", 0, 0, WS_NET_ENOHOST, 6},
    {"ws://[::g]:80", 0, 0, WS_NET_EIPV6, 6},
    {"ws://[127.0.0.1]/", 0, 0, WS_NET_EIPV6, 6},
    {"ws://[fe80::1%25eth0]/", 0, 0, WS_NET_EIPV6, 6},
    {"ws://[0000:0000:0000:0000:0000:0000:0000:0000:0]/", 0, 0,
     WS_NET_EIPV6, 6},
    {"ws://256.0.0.1/", 0, 0, WS_NET_EIPV4, 5},
    {"ws://127.1/", 0, 0, WS_NET_EIPV4, 5},
    {"ws://1.2.3.4.5/", 0, 0, WS_NET_EIPV4, 5},
    {"ws://8080/", 0, 0, WS_NET_EIPV4, 5},
    {"ws://h_st!/", 0, 0, WS_NET_EHOST, 9},
    {"ws://ex ample/", 0, 0, WS_NET_EHOST, 7},
    {"ws://h:/", 0, 0, WS_NET_EPORT, 7},
    {"ws://h:", 0, 0, WS_NET_EPORT, 7},
    {"ws://h:8x/", 0, 0, WS_NET_EPORT, 8},
    {"ws://h:-1/", 0, 0, WS_NET_EPORT, 7},
    {"ws://h:+1/", 0, 0, WS_NET_EPORT, 7},
    {"ws://[::1]:/", 0, 0, WS_NET_EPORT, 11},
    {"ws://h:65536/", 0, 0, WS_NET_EPORTRANGE, 7},
    {"ws://h:99999999999999999999999/", 0, 0, WS_NET_EPORTRANGE, 7},
    {"tcp://127.0.0.1", 0, 0, WS_NET_ENOPORT, 15},
    {"udp://h/", 0, 0, WS_NET_ENOPORT, 7},
    {"udp://[::1]", 0, 0, WS_NET_ENOPORT, 11},
    {"tcp://h:1/", 0, 0, WS_NET_EEXTRA, 9},
    {"udp://h:1?x", 0, 0, WS_NET_EEXTRA, 9},
    {"ws://h/a b", 0, 0, WS_NET_EPATH, 8},
    {"ws://h/%zz", 0, 0, WS_NET_EPATH, 7},
    {"ws://h/%2", 0, 0, WS_NET_EPATH, 7},
    {"ws://h/%", 0, 0, WS_NET_EPATH, 7},
    {"ws://h/?a<b", 0, 0, WS_NET_EPATH, 9},
    {"ws://h/?%g0", 0, 0, WS_NET_EPATH, 8},
    {"ws://h/a\\b", 0, 0, WS_NET_EPATH, 8},
    {"ws://h/[x]", 0, 0, WS_NET_EPATH, 7},
    {"ws://h/\x80", 0, 0, WS_NET_EPATH, 7},
    {"ws://h/a\0b", 10, 0, WS_NET_EPATH, 8},
    {"ws://h\0/", 8, 0, WS_NET_EHOST, 6},
    {"localhost", 0, 1, WS_NET_ENOPORT, 9},
    {"[::1]", 0, 1, WS_NET_ENOPORT, 5},
    {"::1", 0, 1, WS_NET_EBRACKET, 0},
    {"::1:9001", 0, 1, WS_NET_EBRACKET, 0},
    {"127.0.0.1:9001/x", 0, 1, WS_NET_EEXTRA, 14},
    {"127.0.0.1:9001?", 0, 1, WS_NET_EEXTRA, 14},
    {"127.0.0.1:9001#", 0, 1, WS_NET_EEXTRA, 14},
    {":80", 0, 1, WS_NET_ENOHOST, 0},
    {"h:65536", 0, 1, WS_NET_EPORTRANGE, 2},
    {"a@h:1", 0, 1, WS_NET_EUSERINFO, 1},
    {"[::1]:9001]", 0, 1, WS_NET_EPORT, 10},
    {"ws://h:1", 0, 1, WS_NET_EPORT, 3},
    {"h:1/x", 0, 1, WS_NET_EEXTRA, 3},
};

static void test_ws_url_parse_invalid(void **state) {
  size_t i;
  (void)state;
  for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
    const struct bad_case *c = &bad_cases[i];
    size_t len = c->len ? c->len : strlen(c->in);
    struct ws_url u;
    int r = parse(&u, c->hostport, c->in, len);
    if (r != c->err || u.error_offset != c->offset)
      fail_msg("case %zu \"%s\": got %s at %zu, want %s at %zu", i, c->in,
               ws_net_errname(r), u.error_offset, ws_net_errname(c->err),
               c->offset);
    assert_true(u.error_offset <= len);
    /* Every error has its own message. */
    assert_string_not_equal(ws_net_strerror(r), "unknown error");
  }
}

static void test_ws_url_parse_long_host(void **state) {
  char in[300], name[260];
  struct ws_url u;
  (void)state;
  memset(name, 'a', 253);
  name[253] = '\0';
  snprintf(in, sizeof(in), "ws://%s:1/", name);
  assert_int_equal(parse(&u, 0, in, strlen(in)), 0);
  assert_int_equal(u.host_len, 253);
  assert_string_equal(u.host, name);
  snprintf(in, sizeof(in), "ws://%sa:1/", name);
  assert_int_equal(parse(&u, 0, in, strlen(in)), WS_NET_EHOST);
  assert_int_equal(u.error_offset, 5 + 253);
  /* NULL input is an empty input, not a crash. */
  assert_int_equal(ws_url_parse(&u, NULL, 0), WS_NET_EEMPTY);
  assert_int_equal(ws_hostport_parse(&u, NULL, 5), WS_NET_EEMPTY);
}

/* Every prefix of every case, from its own exact-size guarded buffer. */
static void sweep_prefixes(const char *in, size_t len, int hostport) {
  size_t k;
  for (k = 0; k <= len; k++) {
    struct ws_url u;
    int r = parse(&u, hostport, in, k);
    if (r != 0) {
      if (!named_error(r))
        fail_msg("prefix %zu of \"%s\": code %d", k, in, r);
      assert_true(u.error_offset <= k);
    }
  }
}

static void test_ws_url_parse_prefixes(void **state) {
  size_t i;
  (void)state;
  for (i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++)
    sweep_prefixes(ok_cases[i].in, strlen(ok_cases[i].in),
                   ok_cases[i].hostport);
  for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
    const struct bad_case *c = &bad_cases[i];
    sweep_prefixes(c->in, c->len ? c->len : strlen(c->in), c->hostport);
  }
}

/* The prefixes of one URL have known outcomes: pin them all. */
static void test_ws_url_parse_prefix_outcomes(void **state) {
  static const char in[] = "ws://[::1]:80/p?q";
  static const struct {
    int err;
    size_t offset;
  } want[] = {
      {WS_NET_EEMPTY, 0},    /* "" */
      {WS_NET_ESCHEME, 0},   /* "w" */
      {WS_NET_ESCHEME, 0},   /* "ws" */
      {WS_NET_ESCHEME, 0},   /* "ws:" */
      {WS_NET_ESCHEME, 0},   /* "ws:/" */
      {WS_NET_ENOHOST, 5},   /* "ws://" */
      {WS_NET_EBRACKET, 6},  /* "ws://[" */
      {WS_NET_EBRACKET, 7},  /* "ws://[:" */
      {WS_NET_EBRACKET, 8},  /* "ws://[::" */
      {WS_NET_EBRACKET, 9},  /* "ws://[::1" */
      {0, 0},                /* "ws://[::1]" */
      {WS_NET_EPORT, 11},    /* "ws://[::1]:" */
      {0, 0},                /* "ws://[::1]:8" */
      {0, 0},                /* "ws://[::1]:80" */
      {0, 0},                /* "ws://[::1]:80/" */
      {0, 0},                /* "ws://[::1]:80/p" */
      {0, 0},                /* "ws://[::1]:80/p?" */
      {0, 0},                /* "ws://[::1]:80/p?q" */
  };
  size_t k;
  (void)state;
  assert_int_equal(sizeof(want) / sizeof(want[0]), sizeof(in));
  for (k = 0; k < sizeof(in); k++) {
    struct ws_url u;
    int r = parse(&u, 0, in, k);
    if (r != want[k].err || (r != 0 && u.error_offset != want[k].offset))
      fail_msg("prefix %zu: got %s at %zu", k, ws_net_errname(r),
               u.error_offset);
  }
}

/* Seeded random strings over a URL-ish alphabet: no crash, no over-read,
 * named errors only, and whatever is accepted round-trips. */
static void test_ws_url_parse_random(void **state) {
  static const char alpha[] = "ws:/tcpudp[]:.0123456789abfx?#@%:/-_~ \x80";
  static const char *prefixes[] = {"ws://", "wss://", "tcp://", "udp://",
                                   ""};
  uint64_t seed = 0x9e3779b97f4a7c15u;
  char in[64], canon[600];
  int i, accepted = 0;
  (void)state;
  for (i = 0; i < 40000; i++) {
    uint8_t rnd[40];
    size_t plen, n, j;
    struct ws_url u, again;
    struct guarded g;
    int hostport, r;
    test_random(rnd, sizeof(rnd), &seed);
    plen = strlen(prefixes[rnd[0] % 5]);
    memcpy(in, prefixes[rnd[0] % 5], plen);
    n = plen + rnd[1] % 24;
    for (j = plen; j < n; j++)
      in[j] = alpha[rnd[2 + j % 38] % (sizeof(alpha) - 1)];
    hostport = rnd[0] % 5 == 4;
    r = parse_keep(&u, hostport, in, n, &g);
    if (r != 0) {
      assert_true(named_error(r));
      assert_true(u.error_offset <= n);
      guarded_free(&g);
      continue;
    }
    accepted++;
    assert_true(ws_url_format(canon, sizeof(canon), &u) > 0);
    guarded_free(&g);
    assert_int_equal(parse(&again, hostport, canon, strlen(canon)), 0);
    assert_int_equal(again.scheme, u.scheme);
    assert_int_equal(again.port, u.port);
    assert_int_equal(again.host_kind, u.host_kind);
    assert_string_equal(again.host, u.host);
    assert_int_equal(again.path_len, u.path_len);
    assert_int_equal(again.query_len, u.query_len);
  }
  /* The sweep must reach the success path, or it proves little. */
  assert_true(accepted > 100);
}

/* ------------------------------------------------------- formatting */

static void test_ws_addr_format(void **state) {
  struct ws_addr a;
  char buf[64];
  size_t size;
  (void)state;
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 9001), 0);
  assert_int_equal(ws_addr_format(buf, sizeof(buf), &a), 14);
  assert_string_equal(buf, "127.0.0.1:9001");
  assert_int_equal(ws_addr_format_url(buf, sizeof(buf), WS_SCHEME_WS, &a),
                   19);
  assert_string_equal(buf, "ws://127.0.0.1:9001");
  assert_int_equal(ws_addr_set(&a, "::1", 9001), 0);
  assert_int_equal(ws_addr_format(buf, sizeof(buf), &a), 10);
  assert_string_equal(buf, "[::1]:9001");
  assert_int_equal(ws_addr_format_url(buf, sizeof(buf), WS_SCHEME_WS, &a),
                   15);
  assert_string_equal(buf, "ws://[::1]:9001");
  assert_int_equal(ws_addr_format_url(buf, sizeof(buf), WS_SCHEME_UDP, &a),
                   16);
  assert_string_equal(buf, "udp://[::1]:9001");
  /* Every short buffer: -ENOSPC and an empty string, never an overflow. */
  assert_int_equal(ws_addr_set(&a, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                               65535), 0);
  for (size = 0; size <= 47; size++) {
    struct guarded g = guarded_copy(zeros, size);
    ws_ssize r = ws_addr_format((char *)g.data, size, &a);
    assert_int_equal(r, -ENOSPC);
    if (size)
      assert_int_equal(g.data[0], 0);
    guarded_free(&g);
  }
  {
    struct guarded g = guarded_copy(zeros, 48);
    assert_int_equal(ws_addr_format((char *)g.data, 48, &a), 47);
    assert_string_equal((char *)g.data,
                        "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    assert_true(47 <= WS_ADDR_STRLEN);
    guarded_free(&g);
  }
  memset(&a, 0, sizeof(a));
  assert_int_equal(ws_addr_format(buf, sizeof(buf), &a), -EAFNOSUPPORT);
  assert_string_equal(buf, "");
}

static void test_ws_url_format_small(void **state) {
  static const char in[] = "ws://[::1]:9001/a?b";
  struct ws_url u;
  struct guarded in_g;
  size_t size;
  (void)state;
  assert_int_equal(parse_keep(&u, 0, in, strlen(in), &in_g), 0);
  for (size = 0; size < sizeof(in); size++) {
    struct guarded g = guarded_copy(zeros, size);
    assert_int_equal(ws_url_format((char *)g.data, size, &u), -ENOSPC);
    guarded_free(&g);
  }
  {
    struct guarded g = guarded_copy(zeros, sizeof(in));
    assert_int_equal(ws_url_format((char *)g.data, sizeof(in), &u),
                     (ws_ssize)strlen(in));
    assert_string_equal((char *)g.data, in);
    guarded_free(&g);
  }
  guarded_free(&in_g);
}

static void test_ws_addr_set(void **state) {
  struct ws_addr a, b;
  (void)state;
  assert_int_equal(ws_addr_set(&a, "10.1.2.3", 80), 0);
  assert_int_equal(a.sa.sa_family, AF_INET);
  assert_int_equal(ws_addr_port(&a), 80);
  assert_int_equal(ws_addr_len(&a), sizeof(struct sockaddr_in));
  assert_int_equal(ntohl(a.in4.sin_addr.s_addr), 0x0a010203u);
  ws_addr_set_port(&a, 81);
  assert_int_equal(ws_addr_port(&a), 81);
  assert_int_equal(ws_addr_set(&b, "10.1.2.3", 81), 0);
  assert_true(ws_addr_equal(&a, &b));
  ws_addr_set_port(&b, 82);
  assert_false(ws_addr_equal(&a, &b));
  assert_int_equal(ws_addr_set(&b, "::1", 81), 0);
  assert_false(ws_addr_equal(&a, &b));
  assert_int_equal(ws_addr_len(&b), sizeof(struct sockaddr_in6));
  assert_int_equal(ws_addr_set(&a, "1.2.3", 1), WS_NET_EIPV4);
  assert_int_equal(ws_addr_set(&a, "::g", 1), WS_NET_EIPV6);
  assert_int_equal(ws_addr_set(&a, "", 1), WS_NET_ENOHOST);
  assert_int_equal(ws_addr_set(&a, NULL, 1), WS_NET_ENOHOST);
  assert_int_equal(a.sa.sa_family, AF_UNSPEC);
  assert_int_equal(ws_addr_port(&a), 0);
  assert_int_equal(ws_addr_len(&a), 0);
  assert_string_equal(ws_scheme_name(WS_SCHEME_WSS), "wss");
  assert_string_equal(ws_scheme_name(WS_SCHEME_NONE), "");
}

static void test_ws_addr_resolve(void **state) {
  struct ws_addr out[8];
  struct ws_url u;
  int n, i;
  (void)state;
  /* Literals: one result, no resolver. */
  assert_int_equal(ws_addr_resolve(out, 8, "127.0.0.1", 7, AF_UNSPEC), 1);
  assert_int_equal(out[0].sa.sa_family, AF_INET);
  assert_int_equal(ws_addr_port(&out[0]), 7);
  assert_int_equal(ws_addr_resolve(out, 8, "::1", 7, AF_UNSPEC), 1);
  assert_int_equal(out[0].sa.sa_family, AF_INET6);
  assert_int_equal(ws_addr_resolve(out, 8, "127.0.0.1", 7, AF_INET6),
                   WS_NET_EFAMILY);
  assert_int_equal(ws_addr_resolve(out, 8, "127.1", 7, AF_UNSPEC),
                   WS_NET_EIPV4);
  assert_int_equal(ws_addr_resolve(out, 8, "", 7, AF_UNSPEC),
                   WS_NET_ENOHOST);
  assert_int_equal(ws_addr_resolve(out, 0, "::1", 7, AF_UNSPEC), -EINVAL);
  assert_int_equal(parse(&u, 0, "ws://[::1]:5/", 13), 0);
  assert_int_equal(ws_url_resolve(&u, out, 8, AF_UNSPEC), 1);
  assert_true(ws_addr_equal(&out[0], &u.addr));
  assert_int_equal(ws_url_resolve(&u, out, 8, AF_INET), WS_NET_EFAMILY);
  /* "localhost" goes through getaddrinfo (files, not DNS): every answer is
   * a loopback address with our port. */
  assert_int_equal(parse(&u, 1, "localhost:4242", 14), 0);
  n = ws_url_resolve(&u, out, 8, AF_UNSPEC);
  assert_true(n >= 1);
  for (i = 0; i < n; i++) {
    assert_int_equal(ws_addr_port(&out[i]), 4242);
    if (out[i].sa.sa_family == AF_INET)
      assert_int_equal(ntohl(out[i].in4.sin_addr.s_addr) >> 24, 127);
    else
      assert_true(IN6_IS_ADDR_LOOPBACK(&out[i].in6.sin6_addr));
  }
  n = ws_addr_resolve(out, 1, "localhost", 1, AF_INET);
  assert_int_equal(n, 1);
  assert_int_equal(out[0].sa.sa_family, AF_INET);
}

/* ----------------------------------------------------------- errors */

static void test_ws_net_strerror(void **state) {
  static const int codes[] = {
      WS_NET_EEMPTY,  WS_NET_ESCHEME,    WS_NET_ENOHOST,   WS_NET_EHOST,
      WS_NET_EIPV4,   WS_NET_EIPV6,      WS_NET_EBRACKET,  WS_NET_ENOPORT,
      WS_NET_EPORT,   WS_NET_EPORTRANGE, WS_NET_EUSERINFO, WS_NET_EFRAGMENT,
      WS_NET_EPATH,   WS_NET_EEXTRA,     WS_NET_ENONAME,   WS_NET_ETRYAGAIN,
      WS_NET_EFAMILY, WS_NET_ERESOLVE,   WS_ENOMEM};
  size_t i, j;
  (void)state;
  for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
    assert_string_not_equal(ws_net_strerror(codes[i]), "unknown error");
    assert_string_not_equal(ws_net_errname(codes[i]), "UNKNOWN");
    for (j = 0; j < i; j++)
      assert_string_not_equal(ws_net_strerror(codes[i]),
                              ws_net_strerror(codes[j]));
  }
  assert_string_equal(ws_net_strerror(0), "success");
  assert_string_equal(ws_net_strerror(-ECONNREFUSED), "connection refused");
  assert_string_equal(ws_net_strerror(-EADDRINUSE), "address already in use");
  assert_string_equal(ws_net_strerror(-ETIMEDOUT), "timed out");
  assert_string_equal(ws_net_strerror(WS_NET_ENOPORT), "missing port");
  assert_string_equal(ws_net_strerror(12345), "unknown error");
  assert_string_equal(ws_net_strerror(-99999), "unknown error");
  assert_string_equal(ws_net_errname(-ECONNREFUSED), "ECONNREFUSED");
  assert_string_equal(ws_net_errname(-EAGAIN), "EAGAIN");
  assert_string_equal(ws_net_errname(WS_NET_EFRAGMENT), "WS_NET_EFRAGMENT");
  assert_string_equal(ws_net_errname(WS_ENOMEM), "WS_ENOMEM");
  assert_string_equal(ws_net_errname(7777), "UNKNOWN");
}

static void test_ws_net_format_error(void **state) {
  struct ws_addr a;
  char buf[128];
  size_t n;
  (void)state;
  assert_int_equal(ws_addr_set(&a, "127.0.0.1", 9001), 0);
  n = ws_addr_format_error(buf, sizeof(buf), "listen", &a, -EADDRINUSE);
  assert_string_equal(buf, "listen 127.0.0.1:9001: address already in use");
  assert_int_equal(n, strlen(buf));
  ws_addr_set_port(&a, 1);
  ws_addr_format_error(buf, sizeof(buf), "connect", &a, -ECONNREFUSED);
  assert_string_equal(buf, "connect 127.0.0.1:1: connection refused");
  ws_addr_format_error(buf, sizeof(buf), "connect", &a, -ETIMEDOUT);
  assert_string_equal(buf, "connect 127.0.0.1:1: timed out");
  assert_int_equal(ws_addr_set(&a, "::1", 9001), 0);
  ws_addr_format_error(buf, sizeof(buf), "listen", &a, -EADDRNOTAVAIL);
  assert_string_equal(buf, "listen [::1]:9001: address not available");
  ws_net_format_error(buf, sizeof(buf), "parse", "ws://h:99999",
                      WS_NET_EPORTRANGE);
  assert_string_equal(buf, "parse ws://h:99999: port out of range (0-65535)");
  ws_net_format_error(buf, sizeof(buf), "epoll", NULL, -EMFILE);
  assert_string_equal(buf, "epoll: too many open files");
  ws_addr_format_error(buf, sizeof(buf), "bind", NULL, -EACCES);
  assert_string_equal(buf, "bind: permission denied");
  /* An errno outside the table still reads like a sentence. */
  ws_net_format_error(buf, sizeof(buf), "x", NULL, -EDOM);
  assert_string_equal(buf, "x: numerical argument out of domain");
  /* Truncated, NUL-terminated, full length reported. */
  n = ws_net_format_error(buf, 8, "connect", "127.0.0.1:1", -ECONNREFUSED);
  assert_int_equal(n, strlen("connect 127.0.0.1:1: connection refused"));
  assert_string_equal(buf, "connect");
  assert_int_equal(ws_net_format_error(NULL, 0, "a", "b", -EPIPE),
                   strlen("a b: broken pipe"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ws_url_parse_valid),
      cmocka_unit_test(test_ws_url_parse_invalid),
      cmocka_unit_test(test_ws_url_parse_long_host),
      cmocka_unit_test(test_ws_url_parse_prefixes),
      cmocka_unit_test(test_ws_url_parse_prefix_outcomes),
      cmocka_unit_test(test_ws_url_parse_random),
      cmocka_unit_test(test_ws_addr_format),
      cmocka_unit_test(test_ws_url_format_small),
      cmocka_unit_test(test_ws_addr_set),
      cmocka_unit_test(test_ws_addr_resolve),
      cmocka_unit_test(test_ws_net_strerror),
      cmocka_unit_test(test_ws_net_format_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
