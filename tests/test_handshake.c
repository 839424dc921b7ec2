/*
 * test_handshake.c: RFC 6455 Section 4 opening handshake, server and
 * client side (src/http/ws_handshake.h).
 *
 * Requests and responses are parsed from exact-size guard-page buffers,
 * whole, one byte at a time and split at every position (the caller
 * accumulates: each call gets a fresh copy of the prefix), and the check
 * must give the same verdict, rule, status, section and offset each time.
 *
 * Nothing in src/http allocates (no API takes a struct ws_mem), so there
 * is no allocation path to walk with the failing allocator; OpenSSL's own
 * allocations (digest contexts) are outside the hook.
 */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "handshake_samples.h"
#include "http/ws_handshake.h"

#define NH 80

/* -------------------------------------------------------------- helpers */

static uint32_t nth_pos(const char *in, const char *needle, int nth) {
  const char *at = in;
  for (int k = 0; k < nth; k++) {
    at = strstr(k ? at + 1 : at, needle);
    assert_non_null(at);
  }
  return (uint32_t)(at - in);
}

static uint32_t pos_of(const char *in, const char *needle) {
  return nth_pos(in, needle, 1);
}

/* A parsed head whose buffer stays alive for the checks. */
struct parsed {
  struct ws_http_parser p;
  struct ws_http_header h[NH];
  struct guarded g;
  int rc;
};

enum mode { WHOLE, BYTES, SPLIT };

static void parse_mode(struct parsed *x, enum ws_http_kind kind,
                       const char *in, size_t len, enum mode m, size_t k) {
  assert_int_equal(ws_http_parser_init(&x->p, kind, x->h, NH, 0), WS_OK);
  x->g.base = NULL;
  x->rc = WS_HTTP_INCOMPLETE;
  size_t first = m == WHOLE ? len : m == BYTES ? 1 : k;
  for (size_t n = first; n <= len && x->rc == WS_HTTP_INCOMPLETE;
       n = m == BYTES ? n + 1 : len) {
    guarded_free(&x->g);
    x->g = guarded_copy(in, n);
    x->rc = ws_http_parse(&x->p, (const char *)x->g.data, n);
    if (n == len)
      break;
  }
}

static void parsed_free(struct parsed *x) { guarded_free(&x->g); }

/* Everything a server check reports, as offsets, for comparison. */
struct server_view {
  int rc;
  int id, status, rfc, http_error;
  char section[16];
  uint32_t offset;
  uint32_t target[2], resource[2], host[2], origin[2], key[2];
  int has_origin;
  uint32_t nprot, prot[WS_HS_MAX_PROTOCOLS][2];
  uint32_t next, nparam;
  uint32_t ext[WS_HS_MAX_EXTENSIONS][4];
  uint32_t param[WS_HS_MAX_EXT_PARAMS][7];
};

static void span2(uint32_t out[2], const struct ws_http_span *s) {
  out[0] = s->off;
  out[1] = s->len;
}

static void view_ext(const struct ws_ext_list *l, uint32_t *next,
                     uint32_t *nparam, uint32_t ext[][4],
                     uint32_t param[][7]) {
  *next = l->num_extensions;
  *nparam = l->num_params;
  for (uint32_t k = 0; k < l->num_extensions; k++) {
    ext[k][0] = l->extensions[k].name.off;
    ext[k][1] = l->extensions[k].name.len;
    ext[k][2] = l->extensions[k].first_param;
    ext[k][3] = l->extensions[k].num_params;
  }
  for (uint32_t k = 0; k < l->num_params; k++) {
    const struct ws_ext_param *pm = &l->params[k];
    param[k][0] = pm->name.off;
    param[k][1] = pm->name.len;
    param[k][2] = pm->value.off;
    param[k][3] = pm->value.len;
    param[k][4] = pm->has_value;
    param[k][5] = pm->quoted;
    param[k][6] = pm->escaped;
  }
}

static void server_mode(const char *in, size_t len, enum mode m, size_t k,
                        struct server_view *v,
                        struct ws_handshake_request *keep) {
  struct parsed x;
  struct ws_handshake_request r;
  struct ws_handshake_failure f;
  memset(v, 0, sizeof(*v));
  memset(&f, 0, sizeof(f));
  parse_mode(&x, WS_HTTP_REQUEST, in, len, m, k);
  v->rc = ws_handshake_server_check(&x.p, &r, &f);
  if (v->rc == WS_EHANDSHAKE) {
    v->id = f.id;
    v->status = f.status;
    v->rfc = f.rfc;
    v->http_error = f.http_error;
    v->offset = f.offset;
    snprintf(v->section, sizeof(v->section), "%s", f.section);
  } else if (v->rc == WS_OK) {
    span2(v->target, &r.target);
    span2(v->resource, &r.resource);
    span2(v->host, &r.host);
    span2(v->origin, &r.origin);
    span2(v->key, &r.key);
    v->has_origin = r.has_origin;
    v->nprot = r.num_protocols;
    for (uint32_t j = 0; j < r.num_protocols; j++) {
      span2(v->prot[j], &r.protocols[j]);
      /* Pointers go into the checked buffer. */
      assert_ptr_equal(r.protocols[j].ptr,
                       (const char *)x.g.data + r.protocols[j].off);
    }
    assert_ptr_equal(r.host.ptr, (const char *)x.g.data + r.host.off);
    view_ext(&r.extensions, &v->next, &v->nparam, v->ext, v->param);
    if (keep)
      *keep = r;
  }
  parsed_free(&x);
}

/* Checks |in| whole, bytewise and split everywhere; all must agree. */
static void server_all(const char *in, struct server_view *out) {
  size_t len = strlen(in);
  struct server_view s;
  server_mode(in, len, WHOLE, 0, out, NULL);
  server_mode(in, len, BYTES, 0, &s, NULL);
  assert_memory_equal(out, &s, sizeof(s));
  for (size_t k = 0; k <= len; k++) {
    server_mode(in, len, SPLIT, k, &s, NULL);
    assert_memory_equal(out, &s, sizeof(s));
  }
}

static void expect_refusal(const char *in, enum ws_hs_rule id,
                           unsigned status, const char *section,
                           uint32_t offset) {
  struct server_view v;
  server_all(in, &v);
  if (v.rc != WS_EHANDSHAKE || v.id != (int)id || v.offset != offset)
    print_error("request:\n%s\nrc %d rule %s offset %u\n", in, v.rc,
                ws_hs_rule_name((enum ws_hs_rule)v.id), v.offset);
  assert_int_equal(v.rc, WS_EHANDSHAKE);
  assert_string_equal(ws_hs_rule_name((enum ws_hs_rule)v.id),
                      ws_hs_rule_name(id));
  assert_int_equal(v.status, status);
  assert_string_equal(v.section, section);
  assert_int_equal(v.offset, offset);
}

static void expect_accepted(const char *in, struct server_view *v) {
  server_all(in, v);
  if (v->rc != WS_OK)
    print_error("request:\n%s\nrc %d rule %s offset %u\n", in, v->rc,
                ws_hs_rule_name((enum ws_hs_rule)v->id), v->offset);
  assert_int_equal(v->rc, WS_OK);
}

static void check_text(const char *in, const uint32_t sp[2],
                       const char *want) {
  assert_int_equal(sp[1], strlen(want));
  assert_memory_equal(in + sp[0], want, sp[1]);
}

/* The request lines, composed per case. */
#define GET "GET /chat HTTP/1.1\r\n"
#define HOST "Host: server.example.com\r\n"
#define UPG "Upgrade: websocket\r\n"
#define CONN "Connection: Upgrade\r\n"
#define KEY "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
#define VER "Sec-WebSocket-Version: 13\r\n"
#define END "\r\n"
#define REST UPG CONN KEY VER END

/* RFC 6455 Section 1.2 */
static const char SAMPLE[] = SAMPLE_RFC6455_REQUEST;

static const char BROWSER[] = SAMPLE_BROWSER_REQUEST;

/* ------------------------------------------------------------ accept key */

static void test_handshake_accept_rfc_example(void **state) {
  (void)state;
  struct ws_sha1 h;
  char out[WS_ACCEPT_LEN + 1];
  static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
  assert_int_equal(ws_sha1_init(&h), WS_OK);
  /* RFC 6455 Section 1.3. */
  assert_int_equal(ws_handshake_accept(&h, key, 24, out), WS_OK);
  assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  /* The context is reusable, and the one-shot path agrees. */
  assert_int_equal(ws_handshake_accept(&h, key, 24, out), WS_OK);
  assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  memset(out, 0, sizeof(out));
  assert_int_equal(ws_handshake_accept(NULL, key, 24, out), WS_OK);
  assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  /* Against an independent computation for another key. */
  static const char k2[] = "x3JJHMbDL1EzLkh9GBhXDw==";
  unsigned char buf[64], md[20], b64[32];
  unsigned int mdlen;
  memcpy(buf, k2, 24);
  memcpy(buf + 24, WS_GUID, 36);
  assert_int_equal(EVP_Digest(buf, 60, md, &mdlen, EVP_sha1(), NULL), 1);
  EVP_EncodeBlock(b64, md, 20);
  assert_int_equal(ws_handshake_accept(&h, k2, 24, out), WS_OK);
  assert_string_equal(out, (const char *)b64);
  assert_string_equal(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  assert_int_equal(ws_handshake_accept(&h, NULL, 24, out), WS_EINVAL);
  assert_int_equal(ws_handshake_accept(&h, key, 24, NULL), WS_EINVAL);
  assert_int_equal(ws_handshake_accept(&h, key, 257, out), WS_EINVAL);
  ws_sha1_free(&h);
  ws_sha1_free(&h); /* idempotent */
  ws_sha1_free(NULL);
  assert_int_equal(ws_sha1_init(NULL), WS_ECRYPTO);
}

/* --------------------------------------------------------------- server */

static void test_handshake_server_sample(void **state) {
  (void)state;
  struct server_view v;
  expect_accepted(SAMPLE, &v);
  check_text(SAMPLE, v.target, "/chat");
  check_text(SAMPLE, v.resource, "/chat");
  check_text(SAMPLE, v.host, "server.example.com");
  assert_int_equal(v.has_origin, 1);
  check_text(SAMPLE, v.origin, "http://example.com");
  check_text(SAMPLE, v.key, "dGhlIHNhbXBsZSBub25jZQ==");
  assert_int_equal(v.nprot, 2);
  check_text(SAMPLE, v.prot[0], "chat");
  check_text(SAMPLE, v.prot[1], "superchat");
  assert_int_equal(v.next, 0);
}

static void test_handshake_server_browser(void **state) {
  (void)state;
  struct server_view v;
  expect_accepted(BROWSER, &v);
  assert_int_equal(v.nprot, 0);
  assert_int_equal(v.next, 1);
  assert_int_equal(v.nparam, 1);
  uint32_t n[2] = {v.ext[0][0], v.ext[0][1]};
  check_text(BROWSER, n, "permessage-deflate");
  assert_int_equal(v.ext[0][2], 0);
  assert_int_equal(v.ext[0][3], 1);
  uint32_t pn[2] = {v.param[0][0], v.param[0][1]};
  check_text(BROWSER, pn, "client_max_window_bits");
  assert_int_equal(v.param[0][4], 0); /* no value */
}

static void test_handshake_server_accepts_variants(void **state) {
  (void)state;
  struct server_view v;
  /* Case-insensitive names and tokens, lists, absolute-form. */
  static const char a[] = "GET ws://server.example.com:8080/chat?x=%20 "
                          "HTTP/1.1\r\n"
                          "host: server.example.com:8080\r\n"
                          "UPGRADE: h2c, WebSocket\r\n"
                          "connection: keep-alive, , upgrade\r\n"
                          "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "SEC-WEBSOCKET-VERSION: 13\r\n"
                          "Sec-WebSocket-Protocol: , chat,\r\n"
                          "Sec-WebSocket-Protocol: superchat\r\n"
                          "Sec-WebSocket-Extensions: a; x=1; y=\"q\"\r\n"
                          "Sec-WebSocket-Extensions: b, c;z=\"\\w\"\r\n"
                          "\r\n";
  expect_accepted(a, &v);
  check_text(a, v.resource, "/chat?x=%20");
  assert_int_equal(v.has_origin, 0);
  assert_int_equal(v.nprot, 2);
  check_text(a, v.prot[0], "chat");
  check_text(a, v.prot[1], "superchat");
  assert_int_equal(v.next, 3);
  assert_int_equal(v.nparam, 3);
  uint32_t y[2] = {v.param[1][2], v.param[1][3]};
  check_text(a, y, "q");
  assert_int_equal(v.param[1][5], 1); /* quoted */
  assert_int_equal(v.param[1][6], 0);
  uint32_t z[2] = {v.param[2][2], v.param[2][3]};
  check_text(a, z, "\\w");
  assert_int_equal(v.param[2][6], 1); /* escaped */
  assert_int_equal(v.ext[2][2], 2);   /* c owns the third parameter */
  /* An empty path in absolute-form is "/"; HTTP/1.2 is "1.1 or later";
   * Upgrade may span two lines; non-zero pad bits still decode to 16. */
  static const char b[] = "GET wss://h HTTP/1.2\r\nHost: h\r\n"
                          "Upgrade: h2c\r\nUpgrade: websocket\r\n" CONN
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n"
                          VER END;
  expect_accepted(b, &v);
  assert_int_equal(v.resource[1], 0);
}

static void test_handshake_server_request_line(void **state) {
  (void)state;
  expect_refusal("POST /chat HTTP/1.1\r\n" HOST REST, WS_HS_METHOD, 405,
                 "4.2.1", 0);
  expect_refusal("get /chat HTTP/1.1\r\n" HOST REST, WS_HS_METHOD, 405,
                 "4.2.1", 0);
  expect_refusal("GET /chat HTTP/1.0\r\n" HOST REST, WS_HS_HTTP_VERSION, 400,
                 "4.2.1", 10);
  expect_refusal("GET * HTTP/1.1\r\n" HOST REST, WS_HS_TARGET, 400, "4.2.1",
                 4);
  expect_refusal("GET chat HTTP/1.1\r\n" HOST REST, WS_HS_TARGET, 400,
                 "4.2.1", 4);
  expect_refusal("GET ftp://h/chat HTTP/1.1\r\n" HOST REST, WS_HS_TARGET,
                 400, "4.2.1", 4);
  expect_refusal("GET http:/h/chat HTTP/1.1\r\n" HOST REST, WS_HS_TARGET,
                 400, "4.2.1", 4);
  expect_refusal("GET ws:///chat HTTP/1.1\r\n" HOST REST, WS_HS_TARGET, 400,
                 "4.2.1", 4);
  expect_refusal("GET /chat#top HTTP/1.1\r\n" HOST REST, WS_HS_TARGET, 400,
                 "4.2.1", 4);
  expect_refusal("GET /a%2 HTTP/1.1\r\n" HOST REST, WS_HS_TARGET, 400,
                 "4.2.1", 4);
  expect_refusal("GET /a%zz HTTP/1.1\r\n" HOST REST, WS_HS_TARGET, 400,
                 "4.2.1", 4);
  expect_refusal("GET /a%2z HTTP/1.1\r\n" HOST REST, WS_HS_TARGET, 400,
                 "4.2.1", 4);
  expect_refusal("GET /a<b> HTTP/1.1\r\n" HOST REST, WS_HS_TARGET, 400,
                 "4.2.1", 4);
}

static void test_handshake_server_host(void **state) {
  (void)state;
  const char *in = GET REST;
  expect_refusal(in, WS_HS_HOST_MISSING, 400, "5.4",
                 (uint32_t)strlen(in) - 2);
  in = GET HOST "Host: other\r\n" REST;
  expect_refusal(in, WS_HS_HOST_DUPLICATE, 400, "5.4", nth_pos(in, "Host", 2));
  in = GET "Host:\r\n" REST;
  expect_refusal(in, WS_HS_HOST_MISSING, 400, "5.4", pos_of(in, "Host"));
}

static void test_handshake_server_upgrade_connection(void **state) {
  (void)state;
  const char *in = GET HOST CONN KEY VER END;
  expect_refusal(in, WS_HS_UPGRADE_MISSING, 400, "4.2.1",
                 (uint32_t)strlen(in) - 2);
  in = GET HOST "Upgrade: h2c\r\n" CONN KEY VER END;
  expect_refusal(in, WS_HS_UPGRADE_NO_WEBSOCKET, 400, "4.2.1",
                 pos_of(in, "Upgrade:"));
  in = GET HOST "Upgrade: websocket/13\r\n" CONN KEY VER END;
  expect_refusal(in, WS_HS_UPGRADE_NO_WEBSOCKET, 400, "4.2.1",
                 pos_of(in, "Upgrade:"));
  in = GET HOST "Upgrade: web socket\r\n" CONN KEY VER END;
  expect_refusal(in, WS_HS_UPGRADE_INVALID, 400, "6.7",
                 pos_of(in, "Upgrade:"));
  in = GET HOST UPG "Upgrade: websocket, a/b/c\r\n" CONN KEY VER END;
  expect_refusal(in, WS_HS_UPGRADE_INVALID, 400, "6.7",
                 nth_pos(in, "Upgrade:", 2));
  in = GET HOST UPG KEY VER END;
  expect_refusal(in, WS_HS_CONNECTION_MISSING, 400, "4.2.1",
                 (uint32_t)strlen(in) - 2);
  in = GET HOST UPG "Connection: keep-alive\r\n" KEY VER END;
  expect_refusal(in, WS_HS_CONNECTION_NO_UPGRADE, 400, "4.2.1",
                 pos_of(in, "Connection"));
  in = GET HOST UPG "Connection: Upgrade;x\r\n" KEY VER END;
  expect_refusal(in, WS_HS_CONNECTION_INVALID, 400, "6.1",
                 pos_of(in, "Connection"));
  in = GET HOST UPG "Connection: close\r\nConnection: upgrade\r\n" KEY VER
      END;
  struct server_view v;
  expect_accepted(in, &v);
}

static void test_handshake_server_key(void **state) {
  (void)state;
  const char *in = GET HOST UPG CONN VER END;
  expect_refusal(in, WS_HS_KEY_MISSING, 400, "4.2.1",
                 (uint32_t)strlen(in) - 2);
  in = GET HOST UPG CONN KEY KEY VER END;
  expect_refusal(in, WS_HS_KEY_DUPLICATE, 400, "11.3.1",
                 nth_pos(in, "Sec-WebSocket-Key", 2));
  static const char *const bad[] = {
      "dGhlIHNhbXBsZSBub25jZQ",     /* no padding */
      "dGhlIHNhbXBsZSBub25jZQ=",    /* short padding */
      "dGhlIHNhbXBsZSBub25jZQAA",   /* 24 chars, 18 bytes */
      "dGhl=HNhbXBsZSBub25jZQ==",   /* '=' inside */
      "dGhlIHNhbXBsZSBu=25jZQ==",   /* ... in the second word */
      "dGhlIHNhbXBsZSBub25jZ===",   /* ... right before the padding */
      "dGhlIHNhbXBsZSBub25jZ!==",   /* outside the alphabet */
      "dGhlIHNhbXBs ZSBub25jZQ==",  /* space */
      "dGhlIHNhbXBsZSBub25jZSBrZXk=", /* 20 bytes */
      "dGhlIHNhbXBsZSBub25jZQ===",  /* 25 chars */
      "",
  };
  char buf[512];
  for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
    snprintf(buf, sizeof(buf), GET HOST UPG CONN "Sec-WebSocket-Key: %s\r\n"
             VER END, bad[k]);
    expect_refusal(buf, WS_HS_KEY_INVALID, 400, "4.2.1",
                   pos_of(buf, "Sec-WebSocket-Key"));
  }
}

static void test_handshake_server_version(void **state) {
  (void)state;
  const char *in = GET HOST UPG CONN KEY END;
  expect_refusal(in, WS_HS_VERSION_MISSING, 426, "4.2.1",
                 (uint32_t)strlen(in) - 2);
  in = GET HOST UPG CONN KEY VER VER END;
  expect_refusal(in, WS_HS_VERSION_DUPLICATE, 426, "11.3.5",
                 nth_pos(in, "Sec-WebSocket-Version", 2));
  static const char *const bad[] = {"8", "013", "13, 8", "14", "", "1 3"};
  char buf[512];
  for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
    snprintf(buf, sizeof(buf),
             GET HOST UPG CONN KEY "Sec-WebSocket-Version: %s\r\n" END,
             bad[k]);
    expect_refusal(buf, WS_HS_VERSION_UNSUPPORTED, 426, "4.4",
                   pos_of(buf, "Sec-WebSocket-Version"));
  }
}

static void test_handshake_server_protocols(void **state) {
  (void)state;
  static const char *const bad[] = {"chat, sup er", "chat;x", "", " , ",
                                    "\"chat\""};
  char buf[1024];
  for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
    snprintf(buf, sizeof(buf),
             GET HOST UPG CONN KEY VER "Sec-WebSocket-Protocol: %s\r\n" END,
             bad[k]);
    expect_refusal(buf, WS_HS_PROTOCOL_INVALID, 400, "11.3.4",
                   pos_of(buf, "Sec-WebSocket-Protocol"));
  }
  const char *in = GET HOST UPG CONN KEY VER
      "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: a, chat\r\n"
      END;
  expect_refusal(in, WS_HS_PROTOCOL_REPEATED, 400, "4.1",
                 nth_pos(in, "Sec-WebSocket-Protocol", 2));
  int n = snprintf(buf, sizeof(buf),
                   GET HOST UPG CONN KEY VER "Sec-WebSocket-Protocol: p0");
  for (int k = 1; k <= (int)WS_HS_MAX_PROTOCOLS; k++)
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", p%d", k);
  snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n" END);
  expect_refusal(buf, WS_HS_PROTOCOL_TOO_MANY, 400, "11.3.4",
                 pos_of(buf, "Sec-WebSocket-Protocol"));
}

static void test_handshake_server_extensions(void **state) {
  (void)state;
  static const char *const bad[] = {
      "x;",          "x; =1",     ";x",      "x y",     "x; a=",
      "x; a=\"\"",   "x; a=\"1 2\"", "x; a=\"1", "x; a=b c", "",
      "x, ;y",       "x; a=\"\\\"", "x; a=@",
  };
  char buf[1024];
  for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
    snprintf(buf, sizeof(buf),
             GET HOST UPG CONN KEY VER "Sec-WebSocket-Extensions: %s\r\n"
             END, bad[k]);
    expect_refusal(buf, WS_HS_EXTENSIONS_INVALID, 400, "9.1",
                   pos_of(buf, "Sec-WebSocket-Extensions"));
  }
  int n = snprintf(buf, sizeof(buf),
                   GET HOST UPG CONN KEY VER "Sec-WebSocket-Extensions: e0");
  for (int k = 1; k <= (int)WS_HS_MAX_EXTENSIONS; k++)
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", e%d", k);
  snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n" END);
  expect_refusal(buf, WS_HS_EXTENSIONS_TOO_MANY, 400, "9.1",
                 pos_of(buf, "Sec-WebSocket-Extensions"));
  n = snprintf(buf, sizeof(buf),
               GET HOST UPG CONN KEY VER "Sec-WebSocket-Extensions: e");
  for (int k = 0; k <= (int)WS_HS_MAX_EXT_PARAMS; k++)
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, ";p%d", k);
  snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n" END);
  expect_refusal(buf, WS_HS_EXTENSIONS_TOO_MANY, 400, "9.1",
                 pos_of(buf, "Sec-WebSocket-Extensions"));
}

/* Parse errors become refusals: 400 with the parser's rule, 431 for the
 * limits (RFC 6585 Section 5). */
static void test_handshake_server_parse_errors(void **state) {
  (void)state;
  struct server_view v;
  const char *in = GET "Host : x\r\n" REST;
  server_all(in, &v);
  assert_int_equal(v.rc, WS_EHANDSHAKE);
  assert_int_equal(v.id, WS_HS_HTTP_SYNTAX);
  assert_int_equal(v.status, 400);
  assert_int_equal(v.rfc, 7230);
  assert_string_equal(v.section, "3.2.4");
  assert_int_equal(v.http_error, WS_HTTP_ERR_SPACE_BEFORE_COLON);
  assert_int_equal(v.offset, pos_of(in, " :"));

  char *big = malloc(9000);
  assert_non_null(big);
  int n = snprintf(big, 9000, GET HOST "Cookie: ");
  memset(big + n, 'c', 8500);
  memcpy(big + n + 8500, "\r\n" REST, sizeof("\r\n" REST));
  server_mode(big, strlen(big), WHOLE, 0, &v, NULL);
  assert_int_equal(v.rc, WS_EHANDSHAKE);
  assert_int_equal(v.id, WS_HS_HEAD_TOO_LARGE);
  assert_int_equal(v.status, 431);
  assert_int_equal(v.rfc, 6585);
  assert_int_equal(v.offset, WS_HTTP_DEFAULT_MAX_HEAD);
  n = snprintf(big, 9000, GET);
  for (int k = 0; k < NH + 1; k++)
    n += snprintf(big + n, 9000 - (size_t)n, "X-%d: y\r\n", k);
  snprintf(big + n, 9000 - (size_t)n, REST);
  server_mode(big, strlen(big), WHOLE, 0, &v, NULL);
  assert_int_equal(v.id, WS_HS_TOO_MANY_HEADERS);
  assert_int_equal(v.status, 431);
  assert_int_equal(v.offset, pos_of(big, "X-80:"));
  free(big);
}

/* The order of the checks, not of the headers, decides what is
 * reported. */
static void test_handshake_server_order(void **state) {
  (void)state;
  const char *in = "POST /chat HTTP/1.0\r\n" UPG END;
  expect_refusal(in, WS_HS_METHOD, 405, "4.2.1", 0);
  in = GET "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: x\r\n" UPG CONN
      END;
  expect_refusal(in, WS_HS_HOST_MISSING, 400, "5.4",
                 (uint32_t)strlen(in) - 2);
  in = GET HOST "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: x\r\n" UPG
      CONN END;
  expect_refusal(in, WS_HS_KEY_INVALID, 400, "4.2.1",
                 pos_of(in, "Sec-WebSocket-Key"));
}

static void test_handshake_server_api(void **state) {
  (void)state;
  struct ws_http_parser p;
  struct ws_http_header h[8];
  struct ws_handshake_request r;
  struct ws_handshake_failure f;
  assert_int_equal(ws_http_parser_init(&p, WS_HTTP_REQUEST, h, 8, 0), 0);
  assert_int_equal(ws_handshake_server_check(&p, &r, &f), WS_EAGAIN);
  assert_int_equal(ws_http_parse(&p, "GET / HT", 8), WS_HTTP_INCOMPLETE);
  assert_int_equal(ws_handshake_server_check(&p, &r, &f), WS_EAGAIN);
  assert_int_equal(ws_handshake_server_check(NULL, &r, &f), WS_EINVAL);
  assert_int_equal(ws_handshake_server_check(&p, NULL, &f), WS_EINVAL);
  assert_int_equal(ws_handshake_server_check(&p, &r, NULL), WS_EINVAL);
  assert_int_equal(ws_http_parser_init(&p, WS_HTTP_RESPONSE, h, 8, 0), 0);
  assert_int_equal(ws_handshake_server_check(&p, &r, &f), WS_EINVAL);
  assert_string_equal(ws_hs_rule_name(WS_HS_KEY_INVALID), "KEY_INVALID");
  assert_string_equal(ws_hs_rule_name(WS_HS__COUNT), "UNKNOWN");
  for (int k = 1; k < WS_HS__COUNT; k++) {
    ws_hs_failure_set(&f, (enum ws_hs_rule)k, 7);
    assert_int_equal(f.id, k);
    assert_int_equal(f.offset, 7);
    assert_non_null(f.section);
    assert_true(strlen(f.reason) > 0 && strlen(f.reason) < 80);
    assert_true(f.rfc == 6455 || f.rfc == 7230 || f.rfc == 6585);
    assert_string_not_equal(ws_hs_rule_name((enum ws_hs_rule)k), "UNKNOWN");
  }
}

/* ------------------------------------------------------------- builders */

static void test_handshake_build_101(void **state) {
  (void)state;
  struct ws_sha1 h;
  char out[512];
  static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
  static const char want[] =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
      "Sec-WebSocket-Protocol: chat\r\n"
      "\r\n";
  assert_int_equal(ws_sha1_init(&h), 0);
  ws_ssize n = ws_handshake_build_101(out, sizeof(out), &h, key, 24, "chat",
                                      NULL);
  assert_int_equal(n, sizeof(want) - 1);
  assert_memory_equal(out, want, sizeof(want) - 1);
  /* Every smaller buffer is refused; the exact size is enough. */
  for (size_t cap = 0; cap < sizeof(want) - 1; cap++)
    assert_int_equal(ws_handshake_build_101(out, cap, &h, key, 24, "chat",
                                            NULL),
                     WS_ENOBUFS);
  assert_int_equal(ws_handshake_build_101(out, sizeof(want) - 1, &h, key, 24,
                                          "chat", NULL),
                   (ws_ssize)sizeof(want) - 1);
  static const char want2[] =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate; "
      "client_max_window_bits=15\r\n"
      "\r\n";
  n = ws_handshake_build_101(out, sizeof(out), NULL, key, 24, NULL,
                             "permessage-deflate; client_max_window_bits=15");
  assert_int_equal(n, sizeof(want2) - 1);
  assert_memory_equal(out, want2, sizeof(want2) - 1);
  assert_int_equal(ws_handshake_build_101(out, sizeof(out), &h, key, 24,
                                          "a b", NULL),
                   WS_EINVAL);
  assert_int_equal(ws_handshake_build_101(out, sizeof(out), &h, key, 24,
                                          "chat\r\nX: y", NULL),
                   WS_EINVAL);
  assert_int_equal(ws_handshake_build_101(out, sizeof(out), &h, key, 24,
                                          NULL, "x\r\nSet-Cookie: a=b"),
                   WS_EINVAL);
  assert_int_equal(ws_handshake_build_101(out, sizeof(out), &h, key, 24,
                                          NULL, "x;"),
                   WS_EINVAL);
  assert_int_equal(ws_handshake_build_101(NULL, 9, &h, key, 24, NULL, NULL),
                   WS_EINVAL);
  ws_sha1_free(&h);
}

static void test_handshake_build_errors(void **state) {
  (void)state;
  char out[512];
  static const char w400[] = "HTTP/1.1 400 Bad Request\r\n"
                             "Content-Type: text/plain\r\n"
                             "Content-Length: 12\r\n"
                             "Connection: close\r\n"
                             "\r\n"
                             "Bad Request\n";
  static const char w405[] = "HTTP/1.1 405 Method Not Allowed\r\n"
                             "Allow: GET\r\n"
                             "Content-Type: text/plain\r\n"
                             "Content-Length: 23\r\n"
                             "Connection: close\r\n"
                             "\r\n"
                             "the method must be GET\n";
  static const char w426[] = "HTTP/1.1 426 Upgrade Required\r\n"
                             "Sec-WebSocket-Version: 13\r\n"
                             "Upgrade: websocket\r\n"
                             "Content-Type: text/plain\r\n"
                             "Content-Length: 17\r\n"
                             "Connection: Upgrade, close\r\n"
                             "\r\n"
                             "Upgrade Required\n";
  static const char w431[] = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                             "Content-Type: text/plain\r\n"
                             "Content-Length: 23\r\n"
                             "Connection: close\r\n"
                             "\r\n"
                             "request head too large\n";
  struct ws_handshake_failure f;
  ws_ssize n = ws_handshake_build_error(out, sizeof(out), 400, NULL);
  assert_int_equal(n, sizeof(w400) - 1);
  assert_memory_equal(out, w400, (size_t)n);
  ws_hs_failure_set(&f, WS_HS_METHOD, 0);
  n = ws_handshake_build_refusal(out, sizeof(out), &f);
  assert_int_equal(n, sizeof(w405) - 1);
  assert_memory_equal(out, w405, (size_t)n);
  n = ws_handshake_build_error(out, sizeof(out), 426, NULL);
  assert_int_equal(n, sizeof(w426) - 1);
  assert_memory_equal(out, w426, (size_t)n);
  ws_hs_failure_set(&f, WS_HS_HEAD_TOO_LARGE, 8192);
  n = ws_handshake_build_refusal(out, sizeof(out), &f);
  assert_int_equal(n, sizeof(w431) - 1);
  assert_memory_equal(out, w431, (size_t)n);
  /* A version refusal answers 426 with the version header. */
  ws_hs_failure_set(&f, WS_HS_VERSION_UNSUPPORTED, 0);
  n = ws_handshake_build_refusal(out, sizeof(out), &f);
  assert_true(n > 0);
  assert_memory_equal(out, "HTTP/1.1 426 Upgrade Required\r\n"
                           "Sec-WebSocket-Version: 13\r\n",
                      58);
  for (size_t cap = 0; cap < sizeof(w426) - 1; cap++)
    assert_int_equal(ws_handshake_build_error(out, cap, 426, NULL),
                     WS_ENOBUFS);
  assert_int_equal(ws_handshake_build_error(out, sizeof(out), 404, NULL),
                   WS_EINVAL);
  assert_int_equal(ws_handshake_build_error(NULL, 9, 400, NULL), WS_EINVAL);
  assert_int_equal(ws_handshake_build_refusal(out, sizeof(out), NULL),
                   WS_EINVAL);
  /* The answer parses as a response. */
  struct parsed x;
  parse_mode(&x, WS_HTTP_RESPONSE, w426, sizeof(w426) - 1, WHOLE, 0);
  assert_int_equal(x.rc, WS_HTTP_COMPLETE);
  assert_int_equal(x.p.status, 426);
  assert_int_equal(x.p.head_len, sizeof(w426) - 1 - 17);
  parsed_free(&x);
}

/* ------------------------------------------------------------ extensions */

static void test_handshake_ext_list_parse(void **state) {
  (void)state;
  struct ws_ext_list l;
  uint32_t bad = 99;
  static const char v[] = "..a ;b= 1 ; c=\"x\\y\" ,, d";
  l.num_extensions = l.num_params = 0;
  assert_int_equal(ws_ext_list_parse(&l, v, 2, sizeof(v) - 3, &bad), WS_OK);
  assert_int_equal(l.num_extensions, 2);
  assert_int_equal(l.num_params, 2);
  assert_int_equal(l.extensions[0].name.off, 2);
  assert_ptr_equal(l.extensions[0].name.ptr, v + 2);
  assert_int_equal(l.extensions[0].num_params, 2);
  assert_memory_equal(l.params[0].value.ptr, "1", 1);
  assert_memory_equal(l.params[1].value.ptr, "x\\y", 3);
  assert_int_equal(l.params[1].escaped, 1);
  assert_memory_equal(l.extensions[1].name.ptr, "d", 1);
  assert_int_equal(l.extensions[1].num_params, 0);
  assert_int_equal(l.extensions[1].first_param, 2);
  static const char w[] = "a; b=c d";
  l.num_extensions = l.num_params = 0;
  assert_int_equal(ws_ext_list_parse(&l, w, 0, sizeof(w) - 1, &bad),
                   WS_EPROTO);
  assert_int_equal(bad, 7);
  static const char q[] = "a; b=\"c";
  l.num_extensions = l.num_params = 0;
  assert_int_equal(ws_ext_list_parse(&l, q, 0, sizeof(q) - 1, &bad),
                   WS_EPROTO);
  assert_int_equal(bad, sizeof(q) - 1);
  assert_int_equal(ws_ext_list_parse(NULL, q, 0, 1, &bad), WS_EINVAL);
  /* A quoted-pair cut by the end of the value: nothing past it is read
   * (the value ends at a guard page). */
  static const char *const cut[] = {"a; b=\"\\", "a; b=\"", "a; b=",
                                    "a;", "a; b", "a "};
  for (size_t k = 0; k < sizeof(cut) / sizeof(cut[0]); k++) {
    size_t n = strlen(cut[k]);
    struct guarded g = guarded_copy(cut[k], n);
    l.num_extensions = l.num_params = 0;
    int rc = ws_ext_list_parse(&l, (const char *)g.data, 0, (uint32_t)n,
                               &bad);
    if (k < 4) {
      assert_int_equal(rc, WS_EPROTO);
      assert_int_equal(bad, n);
    } else {
      assert_int_equal(rc, WS_OK);
    }
    guarded_free(&g);
  }
}

/* --------------------------------------------------------------- client */

static int nonce_rng(uint8_t *buf, size_t len, void *user) {
  (void)user;
  assert_int_equal(len, 16);
  memcpy(buf, "the sample nonce", 16);
  return 0;
}

static int failing_rng(uint8_t *buf, size_t len, void *user) {
  (void)buf;
  (void)len;
  (void)user;
  return -1;
}

static const char *const PROTOS[] = {"chat", "superchat"};
static const char *const EXTS[] = {"permessage-deflate; "
                                   "client_max_window_bits",
                                   "x-test"};

static void test_handshake_client_request(void **state) {
  (void)state;
  struct ws_handshake_client c;
  struct ws_client_options o = {0};
  char out[1024];
  o.host = "server.example.com";
  o.path = "/chat";
  o.origin = "http://example.com";
  o.protocols = PROTOS;
  o.num_protocols = 2;
  static const char want[] = "GET /chat HTTP/1.1\r\n"
                             "Host: server.example.com\r\n"
                             "Upgrade: websocket\r\n"
                             "Connection: Upgrade\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n"
                             "Origin: http://example.com\r\n"
                             "Sec-WebSocket-Protocol: chat, superchat\r\n"
                             "\r\n";
  ws_ssize n = ws_handshake_client_request(&c, &o, nonce_rng, NULL, NULL, out,
                                           sizeof(out));
  assert_int_equal(n, sizeof(want) - 1);
  assert_memory_equal(out, want, sizeof(want) - 1);
  assert_string_equal(c.key, "dGhlIHNhbXBsZSBub25jZQ==");
  assert_string_equal(c.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  assert_ptr_equal(c.opt, &o);
  for (size_t cap = 0; cap < sizeof(want) - 1; cap++) {
    assert_int_equal(ws_handshake_client_request(&c, &o, nonce_rng, NULL,
                                                 NULL, out, cap),
                     WS_ENOBUFS);
    assert_null(c.opt);
  }

  /* Deterministic generator: the key is base64 of its 16 bytes, fresh on
   * each call. */
  struct ws_sha1 h;
  uint64_t seed = 0x1234, mirror = 0x1234;
  uint8_t raw[16];
  unsigned char b64[32];
  char first[WS_KEY_LEN + 1];
  assert_int_equal(ws_sha1_init(&h), 0);
  o = (struct ws_client_options){0};
  o.host = "::1";
  o.port = 8080;
  o.extensions = EXTS;
  o.num_extensions = 2;
  static const char *const extra[] = {"Cookie: a=b", "X-Empty:"};
  o.headers = extra;
  o.num_headers = 2;
  n = ws_handshake_client_request(&c, &o, test_random, &seed, &h, out,
                                  sizeof(out));
  assert_true(n > 0);
  test_random(raw, 16, &mirror);
  EVP_EncodeBlock(b64, raw, 16);
  assert_string_equal(c.key, (const char *)b64);
  char want2[1024], acc[WS_ACCEPT_LEN + 1];
  snprintf(want2, sizeof(want2),
           "GET / HTTP/1.1\r\n"
           "Host: [::1]:8080\r\n"
           "Upgrade: websocket\r\n"
           "Connection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\n"
           "Sec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Extensions: permessage-deflate; "
           "client_max_window_bits, x-test\r\n"
           "Cookie: a=b\r\n"
           "X-Empty:\r\n"
           "\r\n",
           b64);
  assert_int_equal(n, strlen(want2));
  assert_memory_equal(out, want2, (size_t)n);
  assert_int_equal(ws_handshake_accept(NULL, c.key, 24, acc), 0);
  assert_string_equal(c.accept, acc);
  memcpy(first, c.key, sizeof(first));
  n = ws_handshake_client_request(&c, &o, test_random, &seed, &h, out,
                                  sizeof(out));
  assert_true(n > 0);
  assert_string_not_equal(first, c.key);
  test_random(raw, 16, &mirror);
  EVP_EncodeBlock(b64, raw, 16);
  assert_string_equal(c.key, (const char *)b64);

  /* Ports: default ones are omitted. */
  static const struct {
    uint16_t port;
    uint8_t secure;
    const char *host_line;
  } ports[] = {{0, 0, "Host: h\r\n"},     {80, 0, "Host: h\r\n"},
               {443, 0, "Host: h:443\r\n"}, {443, 1, "Host: h\r\n"},
               {80, 1, "Host: h:80\r\n"},   {0, 1, "Host: h\r\n"}};
  for (size_t k = 0; k < sizeof(ports) / sizeof(ports[0]); k++) {
    o = (struct ws_client_options){0};
    o.host = "h";
    o.port = ports[k].port;
    o.secure = ports[k].secure;
    n = ws_handshake_client_request(&c, &o, nonce_rng, NULL, &h, out,
                                    sizeof(out));
    assert_true(n > 0);
    assert_memory_equal(out + 16, ports[k].host_line,
                        strlen(ports[k].host_line));
  }
  ws_sha1_free(&h);
}

static void test_handshake_client_request_invalid(void **state) {
  (void)state;
  struct ws_handshake_client c;
  struct ws_client_options o;
  char out[1024];
  static const char *const dup[] = {"chat", "chat"};
  static const char *const badp[] = {"a b"};
  static const char *const bade[] = {"x;"};
  static const char *const inj[] = {"X: a\r\nY: b"};
  static const char *const badh[] = {"Bad Name: x"};
  static const char *const noval[] = {"NoColon"};
#define BAD(field_setup)                                                     \
  do {                                                                       \
    o = (struct ws_client_options){0};                                       \
    o.host = "h";                                                            \
    field_setup;                                                             \
    assert_int_equal(ws_handshake_client_request(&c, &o, nonce_rng, NULL,    \
                                                 NULL, out, sizeof(out)),    \
                     WS_EINVAL);                                             \
  } while (0)
  BAD(o.host = NULL);
  BAD(o.host = "");
  BAD(o.host = "h/x");
  BAD(o.host = "h\r\nX: y");
  BAD(o.path = "chat");
  BAD(o.path = "/a b");
  BAD(o.path = "/a\r\n");
  BAD(o.path = "");
  BAD(o.origin = "http://x\r\nY: z");
  BAD(o.origin = "");
  BAD((o.protocols = dup, o.num_protocols = 2));
  BAD((o.protocols = badp, o.num_protocols = 1));
  BAD((o.protocols = NULL, o.num_protocols = 1));
  BAD((o.extensions = bade, o.num_extensions = 1));
  BAD((o.headers = inj, o.num_headers = 1));
  BAD((o.headers = badh, o.num_headers = 1));
  BAD((o.headers = noval, o.num_headers = 1));
#undef BAD
  o = (struct ws_client_options){0};
  o.host = "h";
  assert_int_equal(ws_handshake_client_request(&c, &o, failing_rng, NULL,
                                               NULL, out, sizeof(out)),
                   WS_ERANDOM);
  assert_int_equal(ws_handshake_client_request(&c, &o, NULL, NULL, NULL, out,
                                               sizeof(out)),
                   WS_EINVAL);
  assert_int_equal(ws_handshake_client_request(NULL, &o, nonce_rng, NULL,
                                               NULL, out, sizeof(out)),
                   WS_EINVAL);
}

/* The client's view of a response, compared across delivery modes. */
struct client_view {
  int rc, id, status, peer_status;
  char section[16];
  uint32_t offset, head_len, proto[2];
  int has_protocol;
  uint32_t next, nparam, ext[WS_HS_MAX_EXTENSIONS][4];
  uint32_t param[WS_HS_MAX_EXT_PARAMS][7];
};

static void client_mode(const struct ws_handshake_client *c, const char *in,
                        size_t len, enum mode m, size_t k,
                        struct client_view *v) {
  struct parsed x;
  struct ws_handshake_response r;
  struct ws_handshake_failure f;
  memset(v, 0, sizeof(*v));
  parse_mode(&x, WS_HTTP_RESPONSE, in, len, m, k);
  v->rc = ws_handshake_client_check(c, &x.p, &r, &f);
  if (v->rc == WS_EHANDSHAKE) {
    v->id = f.id;
    v->status = f.status;
    v->peer_status = f.peer_status;
    v->offset = f.offset;
    snprintf(v->section, sizeof(v->section), "%s", f.section);
  } else if (v->rc == WS_OK) {
    v->head_len = r.head_len;
    v->has_protocol = r.has_protocol;
    span2(v->proto, &r.protocol);
    view_ext(&r.extensions, &v->next, &v->nparam, v->ext, v->param);
    /* Nothing after the head was looked at. */
    assert_int_equal(x.p.examined, r.head_len);
  }
  parsed_free(&x);
}

static void client_all(const struct ws_handshake_client *c, const char *in,
                       size_t len, struct client_view *out) {
  struct client_view s;
  client_mode(c, in, len, WHOLE, 0, out);
  client_mode(c, in, len, BYTES, 0, &s);
  assert_memory_equal(out, &s, sizeof(s));
  for (size_t k = 0; k <= len; k++) {
    client_mode(c, in, len, SPLIT, k, &s);
    assert_memory_equal(out, &s, sizeof(s));
  }
}

/* A client that offered chat/superchat and two extensions, with the key
 * of RFC 6455 Section 1.3. */
static void sample_client(struct ws_handshake_client *c,
                          struct ws_client_options *o) {
  char out[1024];
  *o = (struct ws_client_options){0};
  o->host = "server.example.com";
  o->path = "/chat";
  o->protocols = PROTOS;
  o->num_protocols = 2;
  o->extensions = EXTS;
  o->num_extensions = 2;
  assert_true(ws_handshake_client_request(c, o, nonce_rng, NULL, NULL, out,
                                          sizeof(out)) > 0);
}

#define R101 "HTTP/1.1 101 Switching Protocols\r\n"
#define RUPG "Upgrade: websocket\r\n"
#define RCONN "Connection: Upgrade\r\n"
#define RACC "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"

static void expect_client_fail(const struct ws_handshake_client *c,
                               const char *in, enum ws_hs_rule id,
                               const char *section, uint32_t offset) {
  struct client_view v;
  client_all(c, in, strlen(in), &v);
  if (v.rc != WS_EHANDSHAKE || v.id != (int)id || v.offset != offset)
    print_error("response:\n%s\nrc %d rule %s offset %u\n", in, v.rc,
                ws_hs_rule_name((enum ws_hs_rule)v.id), v.offset);
  assert_int_equal(v.rc, WS_EHANDSHAKE);
  assert_string_equal(ws_hs_rule_name((enum ws_hs_rule)v.id),
                      ws_hs_rule_name(id));
  assert_int_equal(v.status, 0);
  assert_string_equal(v.section, section);
  assert_int_equal(v.offset, offset);
}

static void test_handshake_client_response_ok(void **state) {
  (void)state;
  struct ws_handshake_client c;
  struct ws_client_options o;
  struct client_view v;
  sample_client(&c, &o);
  /* The first frame arrives with the head: it is left unread. */
  static const char in[] = R101 "upgrade: WebSocket\r\n"
                                "connection: keep-alive, upgrade\r\n" RACC
                                "Sec-WebSocket-Protocol: superchat\r\n"
                                "Sec-WebSocket-Extensions: x-test, "
                                "permessage-deflate; "
                                "client_max_window_bits=10\r\n"
                                "\r\n"
                                "\x81\x05Hello";
  client_all(&c, in, sizeof(in) - 1, &v);
  assert_int_equal(v.rc, WS_OK);
  assert_int_equal(v.head_len, sizeof(in) - 1 - 7);
  assert_int_equal(v.has_protocol, 1);
  check_text(in, v.proto, "superchat");
  assert_int_equal(v.next, 2);
  assert_int_equal(v.nparam, 1);
  static const char plain[] = R101 RUPG RCONN RACC "\r\n";
  client_all(&c, plain, sizeof(plain) - 1, &v);
  assert_int_equal(v.rc, WS_OK);
  assert_int_equal(v.has_protocol, 0);
  assert_int_equal(v.next, 0);
}

static void test_handshake_client_response_failures(void **state) {
  (void)state;
  struct ws_handshake_client c;
  struct ws_client_options o;
  struct client_view v;
  const char *in;
  sample_client(&c, &o);

  in = "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\r\n";
  client_all(&c, in, strlen(in), &v);
  assert_int_equal(v.rc, WS_EHANDSHAKE);
  assert_int_equal(v.id, WS_HS_STATUS_NOT_101);
  assert_int_equal(v.peer_status, 426);
  assert_int_equal(v.offset, 9);
  in = "HTTP/1.1 200 OK\r\n" RUPG RCONN RACC "\r\n";
  expect_client_fail(&c, in, WS_HS_STATUS_NOT_101, "4.1", 9);

  in = R101 RCONN RACC "\r\n";
  expect_client_fail(&c, in, WS_HS_UPGRADE_MISSING, "4.1",
                     (uint32_t)strlen(in) - 2);
  in = R101 "Upgrade: websocket, h2c\r\n" RCONN RACC "\r\n";
  expect_client_fail(&c, in, WS_HS_UPGRADE_NO_WEBSOCKET, "4.1",
                     pos_of(in, "Upgrade:"));
  in = R101 RUPG RACC "\r\n";
  expect_client_fail(&c, in, WS_HS_CONNECTION_MISSING, "4.1",
                     (uint32_t)strlen(in) - 2);
  in = R101 RUPG "Connection: close\r\n" RACC "\r\n";
  expect_client_fail(&c, in, WS_HS_CONNECTION_NO_UPGRADE, "4.1",
                     pos_of(in, "Connection"));
  in = R101 RUPG "Connection: up grade\r\n" RACC "\r\n";
  expect_client_fail(&c, in, WS_HS_CONNECTION_INVALID, "6.1",
                     pos_of(in, "Connection"));
  in = R101 RUPG RCONN "\r\n";
  expect_client_fail(&c, in, WS_HS_ACCEPT_MISSING, "4.1",
                     (uint32_t)strlen(in) - 2);
  in = R101 RUPG RCONN RACC RACC "\r\n";
  expect_client_fail(&c, in, WS_HS_ACCEPT_DUPLICATE, "11.3.3",
                     nth_pos(in, "Sec-WebSocket-Accept", 2));
  in = R101 RUPG RCONN
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOO=\r\n\r\n";
  expect_client_fail(&c, in, WS_HS_ACCEPT_MISMATCH, "4.1",
                     pos_of(in, "Sec-WebSocket-Accept"));
  in = R101 RUPG RCONN
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOoA\r\n\r\n";
  expect_client_fail(&c, in, WS_HS_ACCEPT_MISMATCH, "4.1",
                     pos_of(in, "Sec-WebSocket-Accept"));
  in = R101 RUPG RCONN "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "\r\n";
  expect_client_fail(&c, in, WS_HS_ACCEPT_MISMATCH, "4.1",
                     pos_of(in, "Sec-WebSocket-Accept"));
  in = R101 RUPG RCONN RACC "Sec-WebSocket-Extensions: deflate-frame\r\n\r\n";
  expect_client_fail(&c, in, WS_HS_EXTENSION_NOT_OFFERED, "4.1",
                     pos_of(in, "Sec-WebSocket-Extensions"));
  in = R101 RUPG RCONN RACC "Sec-WebSocket-Extensions: X-test\r\n\r\n";
  expect_client_fail(&c, in, WS_HS_EXTENSION_NOT_OFFERED, "4.1",
                     pos_of(in, "Sec-WebSocket-Extensions"));
  in = R101 RUPG RCONN RACC "Sec-WebSocket-Extensions: x-test\r\n"
                            "Sec-WebSocket-Extensions: x-test\r\n\r\n";
  expect_client_fail(&c, in, WS_HS_EXTENSIONS_DUPLICATE, "11.3.2",
                     nth_pos(in, "Sec-WebSocket-Extensions", 2));
  in = R101 RUPG RCONN RACC "Sec-WebSocket-Extensions: x-test;\r\n\r\n";
  expect_client_fail(&c, in, WS_HS_EXTENSIONS_INVALID, "9.1",
                     pos_of(in, "Sec-WebSocket-Extensions"));
  in = R101 RUPG RCONN RACC "Sec-WebSocket-Protocol: mqtt\r\n\r\n";
  expect_client_fail(&c, in, WS_HS_PROTOCOL_NOT_OFFERED, "4.1",
                     pos_of(in, "Sec-WebSocket-Protocol"));
  in = R101 RUPG RCONN RACC "Sec-WebSocket-Protocol: Chat\r\n\r\n";
  expect_client_fail(&c, in, WS_HS_PROTOCOL_NOT_OFFERED, "4.1",
                     pos_of(in, "Sec-WebSocket-Protocol"));
  in = R101 RUPG RCONN RACC "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n";
  expect_client_fail(&c, in, WS_HS_PROTOCOL_INVALID, "11.3.4",
                     pos_of(in, "Sec-WebSocket-Protocol"));
  in = R101 RUPG RCONN RACC "Sec-WebSocket-Protocol: chat\r\n"
                            "Sec-WebSocket-Protocol: chat\r\n\r\n";
  expect_client_fail(&c, in, WS_HS_PROTOCOL_DUPLICATE, "11.3.4",
                     nth_pos(in, "Sec-WebSocket-Protocol", 2));
  in = R101 RUPG RCONN RACC "X : y\r\n\r\n";
  expect_client_fail(&c, in, WS_HS_HTTP_SYNTAX, "3.2.4", pos_of(in, " :"));

  /* A subprotocol when none was offered. */
  struct ws_client_options none = {0};
  char out[512];
  none.host = "server.example.com";
  assert_true(ws_handshake_client_request(&c, &none, nonce_rng, NULL, NULL,
                                          out, sizeof(out)) > 0);
  in = R101 RUPG RCONN RACC "Sec-WebSocket-Protocol: chat\r\n\r\n";
  expect_client_fail(&c, in, WS_HS_PROTOCOL_NOT_OFFERED, "4.1",
                     pos_of(in, "Sec-WebSocket-Protocol"));
  in = R101 RUPG RCONN RACC "Sec-WebSocket-Extensions: x-test\r\n\r\n";
  expect_client_fail(&c, in, WS_HS_EXTENSION_NOT_OFFERED, "4.1",
                     pos_of(in, "Sec-WebSocket-Extensions"));
}

static void test_handshake_client_api(void **state) {
  (void)state;
  struct ws_handshake_client c;
  struct ws_client_options o;
  struct ws_http_parser p;
  struct ws_http_header h[4];
  struct ws_handshake_response r;
  struct ws_handshake_failure f;
  memset(&c, 0, sizeof(c));
  assert_int_equal(ws_http_parser_init(&p, WS_HTTP_RESPONSE, h, 4, 0), 0);
  assert_int_equal(ws_handshake_client_check(&c, &p, &r, &f), WS_EINVAL);
  sample_client(&c, &o);
  assert_int_equal(ws_handshake_client_check(&c, &p, &r, &f), WS_EAGAIN);
  assert_int_equal(ws_handshake_client_check(NULL, &p, &r, &f), WS_EINVAL);
  assert_int_equal(ws_handshake_client_check(&c, &p, NULL, &f), WS_EINVAL);
  assert_int_equal(ws_http_parser_init(&p, WS_HTTP_REQUEST, h, 4, 0), 0);
  assert_int_equal(ws_handshake_client_check(&c, &p, &r, &f), WS_EINVAL);
}

/* Client request -> server check -> 101 -> client check. */
static void test_handshake_round_trip(void **state) {
  (void)state;
  struct ws_handshake_client c;
  struct ws_client_options o = {0};
  struct ws_sha1 h;
  struct ws_handshake_request rq;
  char req[1024], resp[512];
  uint64_t seed = 99;
  static const char *const protos[] = {"v2.chat", "v1.chat"};
  o.host = "example.org";
  o.port = 9001;
  o.path = "/ws?room=1";
  o.origin = "https://example.org";
  o.protocols = protos;
  o.num_protocols = 2;
  o.extensions = EXTS;
  o.num_extensions = 1;
  assert_int_equal(ws_sha1_init(&h), 0);
  ws_ssize n = ws_handshake_client_request(&c, &o, test_random, &seed, &h,
                                           req, sizeof(req));
  assert_true(n > 0);
  req[n] = '\0';
  struct server_view sv;
  expect_accepted(req, &sv);
  server_mode(req, (size_t)n, WHOLE, 0, &sv, &rq);
  check_text(req, sv.host, "example.org:9001");
  check_text(req, sv.resource, "/ws?room=1");
  check_text(req, sv.key, c.key);
  assert_int_equal(sv.nprot, 2);
  check_text(req, sv.prot[1], "v1.chat");
  assert_int_equal(sv.next, 1);
  ws_ssize m = ws_handshake_build_101(resp, sizeof(resp), &h, req + sv.key[0],
                                      sv.key[1], "v1.chat",
                                      "permessage-deflate");
  assert_true(m > 0);
  struct client_view cv;
  client_all(&c, resp, (size_t)m, &cv);
  assert_int_equal(cv.rc, WS_OK);
  assert_int_equal(cv.head_len, m);
  check_text(resp, cv.proto, "v1.chat");
  assert_int_equal(cv.next, 1);
  ws_sha1_free(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_handshake_accept_rfc_example),
      cmocka_unit_test(test_handshake_server_sample),
      cmocka_unit_test(test_handshake_server_browser),
      cmocka_unit_test(test_handshake_server_accepts_variants),
      cmocka_unit_test(test_handshake_server_request_line),
      cmocka_unit_test(test_handshake_server_host),
      cmocka_unit_test(test_handshake_server_upgrade_connection),
      cmocka_unit_test(test_handshake_server_key),
      cmocka_unit_test(test_handshake_server_version),
      cmocka_unit_test(test_handshake_server_protocols),
      cmocka_unit_test(test_handshake_server_extensions),
      cmocka_unit_test(test_handshake_server_parse_errors),
      cmocka_unit_test(test_handshake_server_order),
      cmocka_unit_test(test_handshake_server_api),
      cmocka_unit_test(test_handshake_build_101),
      cmocka_unit_test(test_handshake_build_errors),
      cmocka_unit_test(test_handshake_ext_list_parse),
      cmocka_unit_test(test_handshake_client_request),
      cmocka_unit_test(test_handshake_client_request_invalid),
      cmocka_unit_test(test_handshake_client_response_ok),
      cmocka_unit_test(test_handshake_client_response_failures),
      cmocka_unit_test(test_handshake_client_api),
      cmocka_unit_test(test_handshake_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
