/*
 * fuzz_handshake_response: the client side of the opening handshake. A
 * request is built with ws_handshake_client_request() from one of four
 * fixed option sets and a deterministic nonce, so the input can carry the
 * right Sec-WebSocket-Accept; the response head is then parsed
 * incrementally and checked with ws_handshake_client_check(). A second
 * mode builds requests from option strings taken from the input.
 *
 * Input:
 *   byte 0  bits 0-1  option set (below)
 *           bits 2-3  scanner of the chunked parse (bytewise, SSE2,
 *                     AVX2, default)
 *           bits 4-5  max_head: default (8192), 40, 200, 2000
 *           bit 6     hash with a ws_sha1 context (else one-shot EVP)
 *           bit 7     builder mode: the rest of the input is not a
 *                     response but NUL-separated request options
 *   byte 1  number of cuts k (bits 0-3), bits 4-5 the scanner of the
 *           whole parse; then k chunk lengths
 *   rest    the response head (and the first frames, which stay unread)
 *
 * Option sets; the nonce of set v is "the sample nonce" (v = 0, RFC 6455
 * Section 1.3: key dGhlIHNhbXBsZSBub25jZQ==, accept
 * s3pPLMBiTxaQ9kYGzzhZRbK+xOo=) or "wsspec fuzz key" + digit v:
 *   0  example.com, no options
 *   1  example.com:8080, /chat?x=1, Origin, subprotocols chat and
 *      superchat, extensions "permessage-deflate; client_max_window_bits"
 *      and "x-test"
 *   2  ::1 (IPv6), wss (port 443 not written), extra headers
 *   3  127.0.0.1, subprotocol v1.json, extension "x-a, x-b; p=\"q\""
 *
 * Oracles: the chunked parse equals the whole parse with another scanner;
 * a complete head has ws_http.h's syntax; an accepted response is a 101
 * with Upgrade websocket, Connection listing Upgrade, the expected accept
 * exactly once, at most one subprotocol, offered, and only offered
 * extensions; a refusal names a rule with status 0 and an offset inside
 * the head; in builder mode, a request the builder writes is accepted by
 * our own server check with the same key, subprotocols and extensions.
 */
#include <strings.h>

#include <openssl/evp.h>

#include "fuzz_http_util.h"
#include "fuzz_util.h"
#include "http/ws_handshake.h"

static int offered_proto(const struct ws_client_options *o, const char *p,
                         size_t n) {
  for (size_t k = 0; k < o->num_protocols; k++)
    if (strlen(o->protocols[k]) == n && memcmp(o->protocols[k], p, n) == 0)
      return 1;
  return 0;
}

static int offered_ext(const struct ws_client_options *o, const char *p,
                       size_t n) {
  for (size_t k = 0; k < o->num_extensions; k++) {
    struct ws_ext_list l;
    const char *e = o->extensions[k];
    l.num_extensions = l.num_params = 0;
    FUZZ_CHECK(ws_ext_list_parse(&l, e, 0, (uint32_t)strlen(e), NULL) == WS_OK);
    for (uint32_t j = 0; j < l.num_extensions; j++)
      if (l.extensions[j].name.len == n &&
          memcmp(l.extensions[j].name.ptr, p, n) == 0)
        return 1;
  }
  return 0;
}

/* How many field lines named |name| the head has. */
static int count(const struct ws_http_parser *p, const char *name, size_t n) {
  int c = 0;
  for (long k = ws_http_find(p, name, n, 0); k >= 0;
       k = ws_http_find(p, name, n, (size_t)k + 1))
    c++;
  return c;
}

static void check_accepted(const struct fuzz_http *f,
                           const struct ws_handshake_client *c,
                           const struct ws_handshake_response *r) {
  const struct ws_http_parser *p = &f->p;
  FUZZ_CHECK(p->status == 101 && r->status == 101);
  FUZZ_CHECK(r->head_len == p->head_len);
  FUZZ_CHECK(count(p, "upgrade", 7) >= 1);
  for (long k = ws_http_find(p, "upgrade", 7, 0); k >= 0;
       k = ws_http_find(p, "upgrade", 7, (size_t)k + 1)) {
    const struct ws_http_span *v = &p->headers[k].value;
    FUZZ_CHECK(v->len == 9);
    for (int i = 0; i < 9; i++)
      FUZZ_CHECK((v->ptr[i] | 0x20) == "websocket"[i]);
  }
  FUZZ_CHECK(count(p, "connection", 10) >= 1);
  FUZZ_CHECK(count(p, "sec-websocket-accept", 20) == 1);
  long a = ws_http_find(p, "sec-websocket-accept", 20, 0);
  FUZZ_CHECK(p->headers[a].value.len == WS_ACCEPT_LEN &&
             memcmp(p->headers[a].value.ptr, c->accept, WS_ACCEPT_LEN) == 0);
  FUZZ_CHECK(count(p, "sec-websocket-protocol", 22) <= 1);
  FUZZ_CHECK(r->has_protocol == (count(p, "sec-websocket-protocol", 22) == 1));
  if (r->has_protocol)
    FUZZ_CHECK(offered_proto(c->opt, r->protocol.ptr, r->protocol.len));
  FUZZ_CHECK(count(p, "sec-websocket-extensions", 24) <= 1);
  for (uint32_t k = 0; k < r->extensions.num_extensions; k++) {
    const struct ws_http_span *n = &r->extensions.extensions[k].name;
    FUZZ_CHECK(n->ptr == p->buf + n->off);
    FUZZ_CHECK(offered_ext(c->opt, n->ptr, n->len));
  }
}

/* The expected accept for a nonce, computed independently of the
 * handshake module's base64 and SHA-1 glue. */
static void expect_accept(const char *nonce, char accept[WS_ACCEPT_LEN + 1]) {
  unsigned char key[25], cat[24 + 36], md[20];
  unsigned int mdlen = 0;
  EVP_EncodeBlock(key, (const unsigned char *)nonce, 16);
  memcpy(cat, key, 24);
  memcpy(cat + 24, WS_GUID, 36);
  FUZZ_CHECK(EVP_Digest(cat, sizeof(cat), md, &mdlen, EVP_sha1(), NULL) == 1);
  EVP_EncodeBlock((unsigned char *)accept, md, 20);
}

/* ------------------------------------------------------- builder mode */

/* The next NUL-terminated field of the input (the rest when there is no
 * NUL), copied; NULL when the input is exhausted. */
static char *next_field(struct fuzz_reader *r) {
  if (r->n == 0)
    return NULL;
  const uint8_t *z = (const uint8_t *)memchr(r->p, 0, r->n);
  size_t n = z ? (size_t)(z - r->p) : r->n;
  char *s = (char *)malloc(n + 1);
  FUZZ_CHECK(s != NULL);
  memcpy(s, r->p, n);
  s[n] = '\0';
  r->p += z ? n + 1 : n;
  r->n -= z ? n + 1 : n;
  return s;
}

/*
 * Fields: port (2 bytes), secure (1 byte), then NUL-separated: host,
 * path ("" = none), origin ("" = none), then up to 4 each of
 * subprotocols, extensions and extra headers, each list ended by an
 * empty field.
 */
static void builder_mode(struct fuzz_reader *r, struct ws_sha1 *sha) {
  struct ws_client_options opt;
  char *owned[20];
  const char *protos[4], *exts[4], *hdrs[4];
  size_t nowned = 0;
  memset(&opt, 0, sizeof(opt));
  opt.port = fz_u16(r);
  opt.secure = fz_u8(r) & 1;
  char *host = next_field(r), *path = next_field(r), *origin = next_field(r);
  opt.host = host;
  opt.path = path && *path ? path : NULL;
  opt.origin = origin && *origin ? origin : NULL;
  const char **lists[3] = {protos, exts, hdrs};
  size_t *counts[3] = {&opt.num_protocols, &opt.num_extensions,
                       &opt.num_headers};
  for (int l = 0; l < 3; l++) {
    for (;;) {
      char *s = *counts[l] < 4 ? next_field(r) : NULL;
      if (!s)
        break;
      if (!*s) {
        free(s);
        break;
      }
      owned[nowned++] = s;
      lists[l][(*counts[l])++] = s;
    }
  }
  opt.protocols = protos;
  opt.extensions = exts;
  opt.headers = hdrs;

  uint8_t nonce[16];
  uint64_t seed = 0x0123456789abcdefull;
  fuzz_random(nonce, 16, &seed);
  struct ws_handshake_client c;
  memset(&c, 0, sizeof(c));
  char out[4096];
  ws_ssize n = ws_handshake_client_request(&c, &opt, fuzz_nonce_random, nonce,
                                           sha, out, sizeof(out));
  if (n < 0) {
    FUZZ_CHECK(n == WS_EINVAL || n == WS_ENOBUFS);
    FUZZ_CHECK(c.opt == NULL);
    goto done;
  }
  FUZZ_CHECK(c.opt == &opt && (size_t)n <= sizeof(out));
  FUZZ_CHECK(ws_handshake_client_request(&c, &opt, fuzz_nonce_random, nonce,
                                         sha, out,
                                         (size_t)n - 1) == WS_ENOBUFS);
  FUZZ_CHECK(ws_handshake_client_request(&c, &opt, fuzz_random_fail, NULL, sha,
                                         out, sizeof(out)) == WS_ERANDOM);
  n = ws_handshake_client_request(&c, &opt, fuzz_nonce_random, nonce, sha, out,
                                  sizeof(out));
  FUZZ_CHECK(n > 0);

  /* Whatever the builder writes, our server accepts, with its key,
   * unless an extra header repeats one the builder writes itself (the
   * builder does not forbid that; the server then refuses a duplicate or
   * sees the extra value). */
  for (size_t k = 0; k < opt.num_headers; k++) {
    static const char *const own[] = {
        "host:", "upgrade:", "connection:", "origin:", "sec-websocket-"};
    for (size_t j = 0; j < 5; j++) {
      size_t m = strlen(own[j]);
      if (strncasecmp(hdrs[k], own[j], m) == 0)
        goto done;
    }
  }
  struct fuzz_http req;
  FUZZ_CHECK(fuzz_http_parse(&req, WS_HTTP_REQUEST, FUZZ_HTTP_MAX_HEADERS, 0,
                             -1, (const uint8_t *)out, (size_t)n,
                             NULL) == WS_HTTP_COMPLETE);
  fuzz_http_check_head(&req);
  FUZZ_CHECK(req.p.head_len == (uint32_t)n);
  struct ws_handshake_request hr;
  struct ws_handshake_failure f;
  int rc = ws_handshake_server_check(&req.p, &hr, &f);
  if (rc != WS_OK)
    fprintf(stderr, "server refused our request: %s at %u\n",
            ws_hs_rule_name(f.id), (unsigned)f.offset);
  FUZZ_CHECK(rc == WS_OK);
  FUZZ_CHECK(hr.key.len == WS_KEY_LEN &&
             memcmp(hr.key.ptr, c.key, WS_KEY_LEN) == 0);
  char accept[WS_ACCEPT_LEN + 1];
  expect_accept((const char *)nonce, accept);
  FUZZ_CHECK(memcmp(accept, c.accept, WS_ACCEPT_LEN + 1) == 0);
  FUZZ_CHECK(hr.num_protocols == opt.num_protocols);
  for (size_t k = 0; k < opt.num_protocols; k++)
    FUZZ_CHECK(hr.protocols[k].len == strlen(protos[k]) &&
               memcmp(hr.protocols[k].ptr, protos[k], hr.protocols[k].len) ==
                   0);
  FUZZ_CHECK(hr.has_origin == (opt.origin != NULL));
  if (opt.origin)
    FUZZ_CHECK(hr.origin.len == strlen(opt.origin) &&
               memcmp(hr.origin.ptr, opt.origin, hr.origin.len) == 0);
  fuzz_http_free(&req);
done:
  for (size_t k = 0; k < nowned; k++)
    free(owned[k]);
  free(host);
  free(path);
  free(origin);
}

/* ------------------------------------------------------ contracts */

/* The argument contracts of the client half of ws_handshake.h: every way
 * ws_client_options can be wrong is WS_EINVAL, input-independent (run for
 * the empty input). */
static void api_contract(void) {
  static const char *const two[] = {"a", "a"};
  static const char *const bad_tok[] = {"a b"};
  static const char *const ok1[] = {"x"};
  static const char *const bad_ext[] = {"a;;"};
  static const char *const empty_ext[] = {""};
  static const char *const bad_hdr[] = {"no colon"};
  static const char *const bad_hdr2[] = {"X: a\r\nY: b"};
  static const char *const bad_hdr3[] = {"X:  "};
  static const char *const null1[] = {NULL};
  const char *many[WS_HS_MAX_PROTOCOLS + 1];
  char host[1100];
  for (size_t i = 0; i <= WS_HS_MAX_PROTOCOLS; i++)
    many[i] = "p";
  memset(host, 'h', sizeof(host) - 1);
  host[sizeof(host) - 1] = '\0';
  struct ws_client_options o;
  struct ws_handshake_client c;
  char out[2048];
  uint8_t nonce[16] = {0};
  memset(&c, 0, sizeof(c));
#define BAD(field_setup)                                                       \
  do {                                                                         \
    memset(&o, 0, sizeof(o));                                                  \
    o.host = "example.com";                                                    \
    field_setup;                                                               \
    FUZZ_CHECK(ws_handshake_client_request(&c, &o, fuzz_nonce_random, nonce,   \
                                           NULL, out,                          \
                                           sizeof(out)) == WS_EINVAL);         \
    FUZZ_CHECK(c.opt == NULL);                                                 \
  } while (0)
  BAD(o.host = NULL);
  BAD(o.host = "");
  BAD(o.host = "a/b");
  BAD(o.host = "a b");
  BAD(o.host = host);
  BAD(o.path = "");
  BAD(o.path = "x");
  BAD(o.path = "/a b");
  BAD(o.origin = " x");
  BAD(o.origin = "x ");
  BAD(o.origin = "");
  BAD(o.origin = "a\x01");
  BAD((o.protocols = NULL, o.num_protocols = 1));
  BAD((o.protocols = many, o.num_protocols = WS_HS_MAX_PROTOCOLS + 1));
  BAD((o.protocols = two, o.num_protocols = 2));
  BAD((o.protocols = bad_tok, o.num_protocols = 1));
  BAD((o.protocols = null1, o.num_protocols = 1));
  BAD((o.extensions = NULL, o.num_extensions = 1));
  BAD((o.extensions = many, o.num_extensions = WS_HS_MAX_EXTENSIONS + 1));
  BAD((o.extensions = bad_ext, o.num_extensions = 1));
  BAD((o.extensions = empty_ext, o.num_extensions = 1));
  BAD((o.extensions = null1, o.num_extensions = 1));
  BAD((o.headers = NULL, o.num_headers = 1));
  BAD((o.headers = bad_hdr, o.num_headers = 1));
  BAD((o.headers = bad_hdr2, o.num_headers = 1));
  BAD((o.headers = null1, o.num_headers = 1));
#undef BAD
  memset(&o, 0, sizeof(o));
  o.host = "example.com";
  o.headers = bad_hdr3; /* a value of only spaces: an empty value */
  o.num_headers = 1;
  o.protocols = ok1;
  o.num_protocols = 1;
  FUZZ_CHECK(ws_handshake_client_request(&c, &o, fuzz_nonce_random, nonce, NULL,
                                         out, sizeof(out)) > 0);
  FUZZ_CHECK(ws_handshake_client_request(NULL, &o, fuzz_nonce_random, nonce,
                                         NULL, out, sizeof(out)) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_client_request(&c, NULL, fuzz_nonce_random, nonce,
                                         NULL, out, sizeof(out)) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_client_request(&c, &o, NULL, nonce, NULL, out,
                                         sizeof(out)) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_client_request(&c, &o, fuzz_nonce_random, nonce, NULL,
                                         NULL, 9) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_client_request(&c, &o, fuzz_random_fail, NULL, NULL,
                                         out, sizeof(out)) == WS_ERANDOM);
  struct ws_http_parser p;
  struct ws_http_header h[2];
  struct ws_handshake_response r;
  struct ws_handshake_failure f;
  FUZZ_CHECK(ws_http_parser_init(&p, WS_HTTP_RESPONSE, h, 2, 0) == WS_OK);
  FUZZ_CHECK(ws_handshake_client_check(NULL, &p, &r, &f) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_client_check(&c, NULL, &r, &f) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_client_check(&c, &p, NULL, &f) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_client_check(&c, &p, &r, NULL) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_client_check(&c, &p, &r, &f) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_client_request(&c, &o, fuzz_nonce_random, nonce, NULL,
                                         out, sizeof(out)) > 0);
  FUZZ_CHECK(ws_handshake_client_check(&c, &p, &r, &f) == WS_EAGAIN);
  FUZZ_CHECK(ws_http_parser_init(&p, WS_HTTP_REQUEST, h, 2, 0) == WS_OK);
  FUZZ_CHECK(ws_handshake_client_check(&c, &p, &r, &f) == WS_EINVAL);
}

/* ------------------------------------------------------ response mode */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const size_t max_head[4] = {0, 40, 200, 2000};
  struct fuzz_reader rd = {data, size};
  if (size == 0)
    api_contract();
  uint8_t cfg = fz_u8(&rd);
  struct ws_sha1 sha, *h = NULL;
  if (cfg & 0x40) {
    FUZZ_CHECK(ws_sha1_init(&sha) == WS_OK);
    h = &sha;
  }
  if (cfg & 0x80) {
    builder_mode(&rd, h);
    if (h)
      ws_sha1_free(h);
    return 0;
  }
  struct fuzz_cuts cuts;
  int whole_level = fuzz_cuts_read(&rd, &cuts);
  int level = ((cfg >> 2) & 3) == 3 ? -1 : (cfg >> 2) & 3;
  size_t ml = max_head[(cfg >> 4) & 3];

  struct fuzz_option_set os;
  fuzz_option_set(cfg & 3, &os);
  struct ws_handshake_client c;
  char req[1024], accept[WS_ACCEPT_LEN + 1];
  ws_ssize n = ws_handshake_client_request(
      &c, &os.opt, fuzz_nonce_random, (void *)os.nonce, h, req, sizeof(req));
  FUZZ_CHECK(n > 0);
  expect_accept(os.nonce, accept);
  FUZZ_CHECK(memcmp(c.accept, accept, sizeof(accept)) == 0);

  struct fuzz_http chunked, whole;
  fuzz_http_parse(&chunked, WS_HTTP_RESPONSE, FUZZ_HTTP_MAX_HEADERS, ml, level,
                  rd.p, rd.n, &cuts);
  fuzz_http_parse(&whole, WS_HTTP_RESPONSE, FUZZ_HTTP_MAX_HEADERS, ml,
                  whole_level, rd.p, rd.n, NULL);
  fuzz_http_same(&chunked, &whole);
  fuzz_http_free(&whole);

  struct ws_handshake_response r;
  struct ws_handshake_failure f;
  int rc = ws_handshake_client_check(&c, &chunked.p, &r, &f);
  if (chunked.result == WS_HTTP_INCOMPLETE) {
    FUZZ_CHECK(rc == WS_EAGAIN);
  } else if (rc == WS_EHANDSHAKE) {
    FUZZ_CHECK(f.id > WS_HS_OK && f.id < WS_HS__COUNT && f.status == 0);
    FUZZ_CHECK(f.section != NULL && f.reason != NULL);
    if (chunked.result == WS_HTTP_COMPLETE) {
      fuzz_http_check_head(&chunked);
      FUZZ_CHECK(f.offset < chunked.p.head_len);
      if (f.id == WS_HS_STATUS_NOT_101)
        FUZZ_CHECK(f.peer_status == chunked.p.status &&
                   chunked.p.status != 101);
      else
        FUZZ_CHECK(chunked.p.status == 101);
    } else {
      FUZZ_CHECK(f.offset == chunked.p.error_offset &&
                 f.http_error == chunked.p.error);
    }
  } else {
    FUZZ_CHECK(rc == WS_OK && chunked.result == WS_HTTP_COMPLETE);
    fuzz_http_check_head(&chunked);
    check_accepted(&chunked, &c, &r);
  }
  fuzz_http_free(&chunked);
  if (h)
    ws_sha1_free(h);
  return 0;
}
