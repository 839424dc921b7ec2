/*
 * fuzz_handshake_request: the server side of the opening handshake. The
 * request head is parsed incrementally (ws_http.h), validated
 * (ws_handshake_server_check) and answered (ws_handshake_build_101 or
 * ws_handshake_build_refusal); the answer is parsed back.
 *
 * Input:
 *   byte 0  bits 0-1  scanner of the chunked parse: bytewise, SSE2, AVX2,
 *                     default
 *           bits 2-3  header array: 64, 0, 3, 16 entries
 *           bits 4-5  max_head: default (8192), 40, 200, 2000
 *           bit 6     hash with a ws_sha1 context (else one-shot EVP)
 *           bit 7     answer with the first offered subprotocol and the
 *                     first Sec-WebSocket-Extensions value
 *   byte 1  number of cuts k (bits 0-3); bits 4-5 the scanner of the
 *           whole parse, as bits 0-1 of byte 0; then k chunk lengths
 *   rest    the request head (and whatever follows it)
 *
 * Oracles:
 *   - the chunked parse (moving buffer, ASan-poisoned outside what the
 *     parser may read) equals the whole parse with another scanner;
 *   - a complete head has the syntax ws_http.h promises;
 *   - an accepted request has what Section 4.2.1 requires (GET, 1.1, one
 *     Host, a 24-character base64 key of 16 bytes, version 13, unique
 *     token subprotocols, extension spans in place), and the 101 built
 *     for it parses as a response that ws_handshake_client_check accepts
 *     for that key, subprotocol and extension offer;
 *   - a refused request has a status the header lists (400, 405, 426,
 *     431), and the refusal parses as a response with that status and a
 *     Content-Length equal to its body;
 *   - builders refuse a buffer one byte short with WS_ENOBUFS.
 */
#include <openssl/evp.h>

#include "fuzz_http_util.h"
#include "fuzz_util.h"
#include "http/ws_handshake.h"

/* A NUL-terminated copy of a span. */
static char *span_str(const char *b, const struct ws_http_span *s) {
  char *c = (char *)malloc((size_t)s->len + 1);
  FUZZ_CHECK(c != NULL);
  memcpy(c, b + s->off, s->len);
  c[s->len] = '\0';
  return c;
}

/* Parses a built response and returns the parser's result. */
static int parse_response(struct fuzz_http *f, const char *out, size_t n) {
  int r = fuzz_http_parse(f, WS_HTTP_RESPONSE, FUZZ_HTTP_MAX_HEADERS, 0, -1,
                          (const uint8_t *)out, n, NULL);
  if (r == WS_HTTP_COMPLETE)
    fuzz_http_check_head(f);
  return r;
}

static void check_refusal(const struct fuzz_http *req,
                          const struct ws_handshake_failure *f) {
  FUZZ_CHECK(f->id > WS_HS_OK && f->id < WS_HS__COUNT);
  FUZZ_CHECK(f->status == 400 || f->status == 405 || f->status == 426 ||
             f->status == 431);
  FUZZ_CHECK(f->section != NULL && f->reason != NULL);
  FUZZ_CHECK(strcmp(ws_hs_rule_name(f->id), "UNKNOWN") != 0);
  if (req->result == WS_HTTP_COMPLETE)
    FUZZ_CHECK(f->offset < req->p.head_len && f->http_error == 0);
  else
    FUZZ_CHECK(
        f->id == (req->result == WS_HTTP_ETOO_LARGE ? WS_HS_HEAD_TOO_LARGE
                  : req->result == WS_HTTP_ETOO_MANY_HEADERS
                      ? WS_HS_TOO_MANY_HEADERS
                      : WS_HS_HTTP_SYNTAX) &&
        f->offset == req->p.error_offset && f->http_error == req->p.error);

  char out[1024];
  ws_ssize n = ws_handshake_build_refusal(out, sizeof(out), f);
  FUZZ_CHECK(n > 0 && (size_t)n <= sizeof(out));
  FUZZ_CHECK(ws_handshake_build_refusal(out, (size_t)n - 1, f) == WS_ENOBUFS);
  n = ws_handshake_build_refusal(out, sizeof(out), f);
  struct fuzz_http resp;
  FUZZ_CHECK(parse_response(&resp, out, (size_t)n) == WS_HTTP_COMPLETE);
  FUZZ_CHECK(resp.p.status == f->status);
  /* The body is what Content-Length says: the reason and a LF. */
  long cl = ws_http_find(&resp.p, "content-length", 14, 0);
  FUZZ_CHECK(cl >= 0);
  char *v = span_str(resp.p.buf, &resp.p.headers[cl].value);
  FUZZ_CHECK(strtoul(v, NULL, 10) == (unsigned long)n - resp.p.head_len);
  FUZZ_CHECK(strlen(f->reason) + 1 == (size_t)n - resp.p.head_len);
  free(v);
  if (f->status == 405)
    FUZZ_CHECK(ws_http_find(&resp.p, "allow", 5, 0) >= 0);
  if (f->status == 426)
    FUZZ_CHECK(ws_http_find(&resp.p, "sec-websocket-version", 21, 0) >= 0);
  fuzz_http_free(&resp);
}

/* Section 4.2.1 as the accepted request must satisfy it. */
static void check_accepted(const struct fuzz_http *req,
                           const struct ws_handshake_request *r) {
  const struct ws_http_parser *p = &req->p;
  const char *b = p->buf;
  FUZZ_CHECK(p->method.len == 3 && memcmp(p->method.ptr, "GET", 3) == 0);
  FUZZ_CHECK(p->http_minor >= 1 && r->http_minor == p->http_minor);
  FUZZ_CHECK(r->head_len == p->head_len);
  long host = ws_http_find(p, "host", 4, 0);
  FUZZ_CHECK(host >= 0 && ws_http_find(p, "host", 4, (size_t)host + 1) < 0);
  FUZZ_CHECK(r->host.len > 0 && r->host.off == p->headers[host].value.off);
  FUZZ_CHECK(r->key.len == WS_KEY_LEN && r->key.ptr == b + r->key.off);
  unsigned char raw[20];
  FUZZ_CHECK(r->key.ptr[22] == '=' && r->key.ptr[23] == '=');
  FUZZ_CHECK(EVP_DecodeBlock(raw, (const unsigned char *)r->key.ptr, 24) == 18);
  long ver = ws_http_find(p, "sec-websocket-version", 21, 0);
  FUZZ_CHECK(ver >= 0 && p->headers[ver].value.len == 2 &&
             memcmp(p->headers[ver].value.ptr, "13", 2) == 0);
  FUZZ_CHECK(r->target.off == p->target.off && r->target.len == p->target.len);
  FUZZ_CHECK(r->resource.off >= r->target.off &&
             r->resource.off + r->resource.len ==
                 r->target.off + r->target.len);
  FUZZ_CHECK(r->num_protocols <= WS_HS_MAX_PROTOCOLS);
  for (uint32_t k = 0; k < r->num_protocols; k++) {
    const struct ws_http_span *s = &r->protocols[k];
    FUZZ_CHECK(s->ptr == b + s->off && ws_http_is_token(s->ptr, s->len));
    for (uint32_t j = 0; j < k; j++)
      FUZZ_CHECK(r->protocols[j].len != s->len ||
                 memcmp(r->protocols[j].ptr, s->ptr, s->len) != 0);
  }
  const struct ws_ext_list *l = &r->extensions;
  FUZZ_CHECK(l->num_extensions <= WS_HS_MAX_EXTENSIONS &&
             l->num_params <= WS_HS_MAX_EXT_PARAMS);
  for (uint32_t k = 0; k < l->num_extensions; k++) {
    const struct ws_ext *x = &l->extensions[k];
    FUZZ_CHECK(x->name.ptr == b + x->name.off &&
               ws_http_is_token(x->name.ptr, x->name.len));
    FUZZ_CHECK((uint32_t)x->first_param + x->num_params <= l->num_params);
  }
  for (uint32_t k = 0; k < l->num_params; k++) {
    const struct ws_ext_param *pm = &l->params[k];
    FUZZ_CHECK(pm->name.ptr == b + pm->name.off && pm->name.len > 0);
    FUZZ_CHECK(pm->has_value ? pm->value.ptr == b + pm->value.off
                             : pm->value.ptr == NULL);
    if (pm->has_value && !pm->escaped)
      FUZZ_CHECK(ws_http_is_token(pm->value.ptr, pm->value.len));
  }
  FUZZ_CHECK(r->has_origin == (ws_http_find(p, "origin", 6, 0) >= 0));
}

/* Builds the 101 for |r|, parses it back and runs the client's check
 * with the offer the request made. */
static void answer(const struct fuzz_http *req,
                   const struct ws_handshake_request *r, struct ws_sha1 *sha,
                   int choose) {
  const char *b = req->p.buf;
  char *proto = NULL, *ext = NULL;
  long ei = ws_http_find(&req->p, "sec-websocket-extensions", 24, 0);
  if (choose && r->num_protocols)
    proto = span_str(b, &r->protocols[0]);
  if (choose && ei >= 0 && r->extensions.num_extensions)
    ext = span_str(b, &req->p.headers[ei].value);

  size_t cap = 256 + (proto ? strlen(proto) : 0) + (ext ? strlen(ext) : 0);
  char *out = (char *)malloc(cap);
  FUZZ_CHECK(out != NULL);
  ws_ssize n =
      ws_handshake_build_101(out, cap, sha, r->key.ptr, r->key.len, proto, ext);
  FUZZ_CHECK(n > 0 && (size_t)n <= cap);
  FUZZ_CHECK(ws_handshake_build_101(out, (size_t)n - 1, sha, r->key.ptr,
                                    r->key.len, proto, ext) == WS_ENOBUFS);
  n = ws_handshake_build_101(out, cap, sha, r->key.ptr, r->key.len, proto, ext);
  /* What the chosen extension value offers. */
  struct ws_ext_list offered;
  offered.num_extensions = offered.num_params = 0;
  if (ext)
    FUZZ_CHECK(ws_ext_list_parse(&offered, ext, 0, (uint32_t)strlen(ext),
                                 NULL) == WS_OK);

  /* The client that sent this request: its key and offer. */
  const char *protos[WS_HS_MAX_PROTOCOLS];
  char *pcopy[WS_HS_MAX_PROTOCOLS];
  for (uint32_t k = 0; k < r->num_protocols; k++)
    protos[k] = pcopy[k] = span_str(b, &r->protocols[k]);
  const char *exts[1] = {ext};
  struct ws_client_options opt;
  memset(&opt, 0, sizeof(opt));
  opt.host = "example.com";
  opt.protocols = protos;
  opt.num_protocols = r->num_protocols;
  opt.extensions = exts;
  opt.num_extensions = ext ? 1 : 0;
  struct ws_handshake_client c;
  memset(&c, 0, sizeof(c));
  c.opt = &opt;
  memcpy(c.key, r->key.ptr, WS_KEY_LEN);
  FUZZ_CHECK(ws_handshake_accept(NULL, c.key, WS_KEY_LEN, c.accept) == WS_OK);

  struct fuzz_http resp;
  FUZZ_CHECK(parse_response(&resp, out, (size_t)n) == WS_HTTP_COMPLETE);
  FUZZ_CHECK(resp.p.head_len == (uint32_t)n && resp.p.status == 101);
  struct ws_handshake_response hr;
  struct ws_handshake_failure f;
  int rc = ws_handshake_client_check(&c, &resp.p, &hr, &f);
  if (rc != WS_OK)
    fprintf(stderr, "client refused our 101: %s\n", ws_hs_rule_name(f.id));
  FUZZ_CHECK(rc == WS_OK);
  FUZZ_CHECK(hr.has_protocol == (proto != NULL));
  if (proto)
    FUZZ_CHECK(hr.protocol.len == strlen(proto) &&
               memcmp(hr.protocol.ptr, proto, hr.protocol.len) == 0);
  FUZZ_CHECK(hr.extensions.num_extensions == offered.num_extensions &&
             hr.extensions.num_params == offered.num_params);
  fuzz_http_free(&resp);
  for (uint32_t k = 0; k < r->num_protocols; k++)
    free(pcopy[k]);
  free(out);
  free(proto);
  free(ext);
}

/* Every Sec-WebSocket-Extensions value parsed on its own, with an error
 * offset: inside the value when it is malformed (ws_handshake.h). */
static void check_extension_values(const struct ws_http_parser *p) {
  for (long k = ws_http_find(p, "sec-websocket-extensions", 24, 0); k >= 0;
       k = ws_http_find(p, "sec-websocket-extensions", 24, (size_t)k + 1)) {
    const struct ws_http_span *v = &p->headers[k].value;
    struct ws_ext_list l;
    uint32_t bad = UINT32_MAX;
    l.num_extensions = l.num_params = 0;
    int rc = ws_ext_list_parse(&l, p->buf, v->off, v->len, &bad);
    if (rc == WS_EPROTO)
      FUZZ_CHECK(bad >= v->off && bad <= v->off + v->len);
    else
      FUZZ_CHECK((rc == WS_OK || rc == WS_ETOOBIG) && bad == UINT32_MAX);
  }
}

/* The argument contracts of ws_http.h and the server half of
 * ws_handshake.h, input-independent: run for the empty input. */
static void api_contract(void) {
  struct ws_http_parser p;
  struct ws_http_header h[2];
  char out[512];
  FUZZ_CHECK(ws_http_parser_init(NULL, WS_HTTP_REQUEST, h, 2, 0) == WS_EINVAL);
  FUZZ_CHECK(ws_http_parser_init(&p, (enum ws_http_kind)5, h, 2, 0) ==
             WS_EINVAL);
  FUZZ_CHECK(ws_http_parser_init(&p, WS_HTTP_REQUEST, NULL, 2, 0) == WS_EINVAL);
  FUZZ_CHECK(ws_http_parser_init(&p, WS_HTTP_REQUEST, h, 2,
                                 WS_HTTP_MAX_HEAD_LIMIT + 1) == WS_EINVAL);
  FUZZ_CHECK(ws_http_parser_init(&p, WS_HTTP_REQUEST, NULL, 0, 0) == WS_OK);
  FUZZ_CHECK(ws_http_parse(NULL, "G", 1) == WS_HTTP_EINVAL);
  FUZZ_CHECK(ws_http_parse(&p, NULL, 1) == WS_HTTP_EINVAL);
  FUZZ_CHECK(ws_http_parse(&p, NULL, 0) == WS_HTTP_INCOMPLETE);
  FUZZ_CHECK(ws_http_find(&p, "a", 1, 0) == -1); /* not complete */
  FUZZ_CHECK(ws_http_find(NULL, "a", 1, 0) == -1);
  FUZZ_CHECK(!ws_http_is_token(NULL, 1) && !ws_http_is_token("", 0) &&
             !ws_http_is_token("a b", 3) && ws_http_is_token("a-b", 3));
  for (int e = 0; e <= WS_HTTP_ERR__COUNT; e++) {
    int known = e < WS_HTTP_ERR__COUNT;
    FUZZ_CHECK((strcmp(ws_http_error_name((enum ws_http_error)e), "UNKNOWN") !=
                0) == known);
    FUZZ_CHECK((ws_http_error_rfc((enum ws_http_error)e) != 0) ==
               (known && e != 0));
    FUZZ_CHECK(ws_http_error_section((enum ws_http_error)e) != NULL &&
               ws_http_error_reason((enum ws_http_error)e) != NULL);
  }
  for (int id = 0; id <= WS_HS__COUNT; id++) {
    struct ws_handshake_failure f;
    ws_hs_failure_set(&f, (enum ws_hs_rule)id, 3);
    FUZZ_CHECK(f.offset == 3 && f.section && f.reason && f.peer_status == 0);
    FUZZ_CHECK((strcmp(ws_hs_rule_name((enum ws_hs_rule)id), "UNKNOWN") == 0) ==
               (id == WS_HS__COUNT));
    if (id == WS_HS__COUNT)
      FUZZ_CHECK(f.id == WS_HS_HTTP_SYNTAX && f.status == 400);
  }
  struct ws_ext_list l;
  l.num_extensions = l.num_params = 0;
  FUZZ_CHECK(ws_ext_list_parse(NULL, "a", 0, 1, NULL) == WS_EINVAL);
  FUZZ_CHECK(ws_ext_list_parse(&l, NULL, 0, 1, NULL) == WS_EINVAL);
  struct ws_sha1 sha;
  memset(&sha, 0, sizeof(sha));
  FUZZ_CHECK(ws_sha1_init(NULL) == WS_ECRYPTO);
  ws_sha1_free(NULL);
  ws_sha1_free(&sha);
  char acc[WS_ACCEPT_LEN + 1];
  static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
  FUZZ_CHECK(ws_handshake_accept(NULL, NULL, 0, acc) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_accept(NULL, key, 24, NULL) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_accept(NULL, key, 257, acc) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_accept(NULL, key, 24, acc) == WS_OK &&
             strcmp(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
  struct ws_handshake_request r;
  struct ws_handshake_failure f;
  FUZZ_CHECK(ws_handshake_server_check(NULL, &r, &f) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_server_check(&p, NULL, &f) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_server_check(&p, &r, NULL) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_server_check(&p, &r, &f) == WS_EAGAIN);
  FUZZ_CHECK(ws_http_parser_init(&p, WS_HTTP_RESPONSE, h, 2, 0) == WS_OK);
  FUZZ_CHECK(ws_handshake_server_check(&p, &r, &f) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_build_101(NULL, 9, NULL, key, 24, NULL, NULL) ==
             WS_EINVAL);
  FUZZ_CHECK(ws_handshake_build_101(out, sizeof(out), NULL, NULL, 24, NULL,
                                    NULL) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_build_101(out, sizeof(out), NULL, key, 24, "a b",
                                    NULL) == WS_EINVAL);
  static const char *const bad_ext[] = {"", "a;;b", "a\r\nX: y", "a, b=c"};
  for (int i = 0; i < 4; i++)
    FUZZ_CHECK(ws_handshake_build_101(out, sizeof(out), NULL, key, 24, NULL,
                                      bad_ext[i]) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_build_101(out, sizeof(out), NULL, key, 300, NULL,
                                    NULL) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_build_error(NULL, 9, 400, NULL) == WS_EINVAL);
  FUZZ_CHECK(ws_handshake_build_error(out, sizeof(out), 500, NULL) ==
             WS_EINVAL);
  ws_ssize n = ws_handshake_build_error(out, sizeof(out), 431, NULL);
  FUZZ_CHECK(n > 0 &&
             memcmp(out + n - 32, "Request Header Fields Too Large", 31) == 0);
  FUZZ_CHECK(ws_handshake_build_refusal(out, sizeof(out), NULL) == WS_EINVAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const size_t max_headers[4] = {64, 0, 3, 16};
  if (size == 0)
    api_contract();
  static const size_t max_head[4] = {0, 40, 200, 2000};
  struct fuzz_reader rd = {data, size};
  struct fuzz_cuts cuts;
  uint8_t cfg = fz_u8(&rd);
  int whole_level = fuzz_cuts_read(&rd, &cuts);
  int level = (cfg & 3) == 3 ? -1 : (int)(cfg & 3);
  size_t mh = max_headers[(cfg >> 2) & 3], ml = max_head[(cfg >> 4) & 3];

  struct fuzz_http chunked, whole;
  fuzz_http_parse(&chunked, WS_HTTP_REQUEST, mh, ml, level, rd.p, rd.n, &cuts);
  fuzz_http_parse(&whole, WS_HTTP_REQUEST, mh, ml, whole_level, rd.p, rd.n,
                  NULL);
  fuzz_http_same(&chunked, &whole);
  fuzz_http_free(&whole);

  struct ws_handshake_request r;
  struct ws_handshake_failure f;
  int rc = ws_handshake_server_check(&chunked.p, &r, &f);
  if (chunked.result == WS_HTTP_INCOMPLETE) {
    FUZZ_CHECK(rc == WS_EAGAIN);
  } else if (rc == WS_EHANDSHAKE) {
    check_refusal(&chunked, &f);
  } else {
    FUZZ_CHECK(rc == WS_OK && chunked.result == WS_HTTP_COMPLETE);
    fuzz_http_check_head(&chunked);
    check_accepted(&chunked, &r);
    struct ws_sha1 sha;
    int use_ctx = (cfg >> 6) & 1;
    if (use_ctx)
      FUZZ_CHECK(ws_sha1_init(&sha) == WS_OK);
    answer(&chunked, &r, use_ctx ? &sha : NULL, cfg >> 7);
    if (use_ctx)
      ws_sha1_free(&sha);
  }
  if (chunked.result == WS_HTTP_COMPLETE) {
    if (rc != WS_OK)
      fuzz_http_check_head(&chunked);
    check_extension_values(&chunked.p);
  } else if (chunked.result != WS_HTTP_INCOMPLETE) {
    FUZZ_CHECK(strcmp(ws_http_error_name(chunked.p.error), "UNKNOWN") != 0 &&
               chunked.p.error != WS_HTTP_ERR_NONE);
  }
  fuzz_http_free(&chunked);
  return 0;
}
