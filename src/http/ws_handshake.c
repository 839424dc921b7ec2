/*
 * ws_handshake.c: RFC 6455 Section 4 opening handshake checks and
 * builders (see ws_handshake.h).
 *
 * The server check walks the header array once, classifying each name by
 * its length and one case-insensitive compare (the nine names that matter
 * all differ in length), and records per header what it found; the rules
 * are then judged in a fixed order so the reported failure does not depend
 * on header order. Values are only scanned for the headers that matter.
 */
#include "ws_handshake.h"

#include <string.h>

#include <openssl/evp.h>

#define CLS(c) (ws__http_class[(uint8_t)(c)])

/* ------------------------------------------------------------- failures */

static const struct {
  const char *name;
  uint16_t status;
  uint16_t rfc;
  const char *section;
  const char *reason;
} rules[WS_HS__COUNT] = {
    [WS_HS_OK] = {"OK", 101, 6455, "", "no failure"},
    [WS_HS_HTTP_SYNTAX] = {"HTTP_SYNTAX", 400, 7230, "3",
                           "malformed HTTP head"},
    [WS_HS_HEAD_TOO_LARGE] = {"HEAD_TOO_LARGE", 431, 6585, "5",
                              "request head too large"},
    [WS_HS_TOO_MANY_HEADERS] = {"TOO_MANY_HEADERS", 431, 6585, "5",
                                "too many header fields"},
    [WS_HS_METHOD] = {"METHOD", 405, 6455, "4.2.1",
                      "the method must be GET"},
    [WS_HS_HTTP_VERSION] = {"HTTP_VERSION", 400, 6455, "4.2.1",
                            "HTTP/1.1 or later is required"},
    [WS_HS_TARGET] = {"TARGET", 400, 6455, "4.2.1",
                      "request-target is not a resource name or an "
                      "absolute URI"},
    [WS_HS_HOST_MISSING] = {"HOST_MISSING", 400, 7230, "5.4",
                            "Host header missing"},
    [WS_HS_HOST_DUPLICATE] = {"HOST_DUPLICATE", 400, 7230, "5.4",
                              "more than one Host header"},
    [WS_HS_UPGRADE_MISSING] = {"UPGRADE_MISSING", 400, 6455, "4.2.1",
                               "Upgrade header missing"},
    [WS_HS_UPGRADE_INVALID] = {"UPGRADE_INVALID", 400, 7230, "6.7",
                               "Upgrade header is not a protocol list"},
    [WS_HS_UPGRADE_NO_WEBSOCKET] = {"UPGRADE_NO_WEBSOCKET", 400, 6455,
                                    "4.2.1",
                                    "Upgrade header does not name "
                                    "websocket"},
    [WS_HS_CONNECTION_MISSING] = {"CONNECTION_MISSING", 400, 6455, "4.2.1",
                                  "Connection header missing"},
    [WS_HS_CONNECTION_INVALID] = {"CONNECTION_INVALID", 400, 7230, "6.1",
                                  "Connection header is not a token list"},
    [WS_HS_CONNECTION_NO_UPGRADE] = {"CONNECTION_NO_UPGRADE", 400, 6455,
                                     "4.2.1",
                                     "Connection header does not list "
                                     "Upgrade"},
    [WS_HS_KEY_MISSING] = {"KEY_MISSING", 400, 6455, "4.2.1",
                           "Sec-WebSocket-Key header missing"},
    [WS_HS_KEY_DUPLICATE] = {"KEY_DUPLICATE", 400, 6455, "11.3.1",
                             "more than one Sec-WebSocket-Key header"},
    [WS_HS_KEY_INVALID] = {"KEY_INVALID", 400, 6455, "4.2.1",
                           "Sec-WebSocket-Key is not base64 of 16 bytes"},
    [WS_HS_VERSION_MISSING] = {"VERSION_MISSING", 426, 6455, "4.2.1",
                               "Sec-WebSocket-Version header missing"},
    [WS_HS_VERSION_DUPLICATE] = {"VERSION_DUPLICATE", 426, 6455, "11.3.5",
                                 "more than one Sec-WebSocket-Version "
                                 "header"},
    [WS_HS_VERSION_UNSUPPORTED] = {"VERSION_UNSUPPORTED", 426, 6455, "4.4",
                                   "Sec-WebSocket-Version is not 13"},
    [WS_HS_PROTOCOL_INVALID] = {"PROTOCOL_INVALID", 400, 6455, "11.3.4",
                                "Sec-WebSocket-Protocol is not a token "
                                "list"},
    [WS_HS_PROTOCOL_REPEATED] = {"PROTOCOL_REPEATED", 400, 6455, "4.1",
                                 "a subprotocol is offered twice"},
    [WS_HS_PROTOCOL_TOO_MANY] = {"PROTOCOL_TOO_MANY", 400, 6455, "11.3.4",
                                 "too many subprotocols offered"},
    [WS_HS_EXTENSIONS_INVALID] = {"EXTENSIONS_INVALID", 400, 6455, "9.1",
                                  "Sec-WebSocket-Extensions is malformed"},
    [WS_HS_EXTENSIONS_TOO_MANY] = {"EXTENSIONS_TOO_MANY", 400, 6455, "9.1",
                                   "too many extensions or parameters"},
    [WS_HS_STATUS_NOT_101] = {"STATUS_NOT_101", 0, 6455, "4.1",
                              "the server did not answer 101"},
    [WS_HS_ACCEPT_MISSING] = {"ACCEPT_MISSING", 0, 6455, "4.1",
                              "Sec-WebSocket-Accept header missing"},
    [WS_HS_ACCEPT_DUPLICATE] = {"ACCEPT_DUPLICATE", 0, 6455, "11.3.3",
                                "more than one Sec-WebSocket-Accept "
                                "header"},
    [WS_HS_ACCEPT_MISMATCH] = {"ACCEPT_MISMATCH", 0, 6455, "4.1",
                               "Sec-WebSocket-Accept does not match the "
                               "key"},
    [WS_HS_PROTOCOL_DUPLICATE] = {"PROTOCOL_DUPLICATE", 0, 6455, "11.3.4",
                                  "more than one Sec-WebSocket-Protocol "
                                  "header"},
    [WS_HS_PROTOCOL_NOT_OFFERED] = {"PROTOCOL_NOT_OFFERED", 0, 6455, "4.1",
                                    "subprotocol not offered by the "
                                    "client"},
    [WS_HS_EXTENSIONS_DUPLICATE] = {"EXTENSIONS_DUPLICATE", 0, 6455,
                                    "11.3.2",
                                    "more than one Sec-WebSocket-Extensions"
                                    " header"},
    [WS_HS_EXTENSION_NOT_OFFERED] = {"EXTENSION_NOT_OFFERED", 0, 6455,
                                     "4.1",
                                     "extension not offered by the "
                                     "client"},
};

const char *ws_hs_rule_name(enum ws_hs_rule id) {
  return (unsigned)id < WS_HS__COUNT ? rules[id].name : "UNKNOWN";
}

void ws_hs_failure_set(struct ws_handshake_failure *f, enum ws_hs_rule id,
                       uint32_t offset) {
  if ((unsigned)id >= WS_HS__COUNT)
    id = WS_HS_HTTP_SYNTAX;
  f->id = id;
  f->status = rules[id].status;
  f->peer_status = 0;
  f->rfc = rules[id].rfc;
  f->section = rules[id].section;
  f->reason = rules[id].reason;
  f->offset = offset;
  f->http_error = WS_HTTP_ERR_NONE;
}

/* A failed parse as a handshake failure: 400 for syntax, 431 for limits
 * (RFC 6585 Section 5). */
static void from_parser(const struct ws_http_parser *p,
                        struct ws_handshake_failure *f) {
  enum ws_hs_rule id = WS_HS_HTTP_SYNTAX;
  if (p->result == WS_HTTP_ETOO_LARGE)
    id = WS_HS_HEAD_TOO_LARGE;
  else if (p->result == WS_HTTP_ETOO_MANY_HEADERS)
    id = WS_HS_TOO_MANY_HEADERS;
  ws_hs_failure_set(f, id, p->error_offset);
  f->http_error = p->error;
  if (id == WS_HS_HTTP_SYNTAX) {
    f->rfc = (uint16_t)ws_http_error_rfc(p->error);
    f->section = ws_http_error_section(p->error);
    f->reason = ws_http_error_reason(p->error);
  }
}

/* ------------------------------------------------------------- helpers */

static inline int is_ows(char c) { return c == ' ' || c == '\t'; }

/* s[0..n) equals |lower| ignoring ASCII case. |lower| holds only
 * lowercase letters, digits and '-', and |s| comes from a parsed head
 * (no control bytes), so OR-ing 0x20 into s maps exactly A-Z to a-z:
 * the only other bytes it could map onto those are control bytes. */
static inline int eq_lower(const char *s, const char *lower, size_t n) {
  size_t k = 0;
  uint64_t a, b;
  if (n >= 8) {
    for (; k + 8 <= n; k += 8) {
      memcpy(&a, s + k, 8);
      memcpy(&b, lower + k, 8);
      if ((a | 0x2020202020202020ull) != b)
        return 0;
    }
    if (k == n)
      return 1;
    memcpy(&a, s + n - 8, 8);
    memcpy(&b, lower + n - 8, 8);
    return (a | 0x2020202020202020ull) == b;
  }
  for (; k < n; k++)
    if (((unsigned char)s[k] | 0x20) != (unsigned char)lower[k])
      return 0;
  return 1;
}

static inline struct ws_http_span mkspan(const char *base, uint32_t off,
                                         uint32_t len) {
  struct ws_http_span sp = {base + off, off, len};
  return sp;
}

/*
 * The next element of a #list (RFC 7230 Section 7) in v[*pos..len): OWS
 * and empty elements are skipped, an element ends at ',' and loses its
 * trailing OWS. Returns 1 with the element at v[*eo .. *eo + *el), or 0
 * when the list is exhausted.
 */
static int list_next(const char *v, uint32_t len, uint32_t *pos,
                     uint32_t *eo, uint32_t *el) {
  uint32_t i = *pos;
  while (i < len && (is_ows(v[i]) || v[i] == ','))
    i++;
  if (i == len) {
    *pos = i;
    return 0;
  }
  uint32_t start = i;
  while (i < len && v[i] != ',')
    i++;
  uint32_t end = i;
  while (end > start && is_ows(v[end - 1]))
    end--;
  *eo = start;
  *el = end - start;
  *pos = i;
  return 1;
}

static int all_token(const char *s, uint32_t n) {
  for (uint32_t k = 0; k < n; k++)
    if (!(CLS(s[k]) & WS__HTTP_TCHAR))
      return 0;
  return n > 0;
}

/* RFC 7230 Section 6.7: protocol = protocol-name ["/" protocol-version]. */
static int is_protocol(const char *s, uint32_t n) {
  uint32_t k = 0;
  while (k < n && s[k] != '/')
    k++;
  if (k == n)
    return all_token(s, n);
  return all_token(s, k) && all_token(s + k + 1, n - k - 1);
}

static inline int hexdig(char c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Bytes allowed in a URI path and query (RFC 3986 Section 3.3 / 3.4):
 * pchar, "/" and "?", with "%" HEXDIG HEXDIG. */
static int uri_chars(const char *s, uint32_t n) {
  for (uint32_t k = 0; k < n; k++) {
    if (CLS(s[k]) & WS__HTTP_URI)
      continue;
    if (s[k] != '%' || n - k < 3 || !hexdig(s[k + 1]) || !hexdig(s[k + 2]))
      return 0;
    k += 2;
  }
  return 1;
}

/*
 * RFC 6455 Section 4.2.1 item 1 / Section 3: the request-target is a
 * resource name (origin-form, "/" path ["?" query]) or an absolute
 * http/https/ws/wss URI. Sets *res to the resource part. Returns 1 when
 * valid.
 */
static int check_target(const char *b, struct ws_http_span t,
                        struct ws_http_span *res) {
  const char *s = b + t.off;
  uint32_t n = t.len, k = 0;
  if (s[0] == '/') {
    *res = t;
    return uri_chars(s, n);
  }
  while (k < n && s[k] != ':')
    k++;
  if (!((k == 2 && eq_lower(s, "ws", 2)) || (k == 3 && eq_lower(s, "wss", 3)) ||
        (k == 4 && eq_lower(s, "http", 4)) ||
        (k == 5 && eq_lower(s, "https", 5))))
    return 0;
  if (n - k < 4 || s[k + 1] != '/' || s[k + 2] != '/')
    return 0;
  uint32_t a = k + 3, e = a;
  while (e < n && s[e] != '/' && s[e] != '?')
    e++;
  if (e == a)
    return 0; /* empty authority */
  for (uint32_t j = a; j < e; j++)
    if (!(CLS(s[j]) & WS__HTTP_URI) && s[j] != '[' && s[j] != ']' &&
        s[j] != '%')
      return 0;
  *res = mkspan(b, t.off + e, n - e);
  return uri_chars(s + e, n - e);
}

/* 1 when any of the 8 bytes of |w| is '='. */
static inline int has_eq(uint64_t w) {
  uint64_t x = w ^ 0x3d3d3d3d3d3d3d3dull;
  return ((x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull) != 0;
}

/* RFC 6455 Section 4.2.1 item 5: base64 of a 16-byte value, so 22
 * alphabet characters and "==". EVP_DecodeBlock alone is not enough: it
 * returns 18 (padding included) for 24 characters and decodes '=' as a
 * zero digit wherever it appears, so the padding is checked here and the
 * first 22 characters must hold no '='; every other byte outside the
 * alphabet makes EVP_DecodeBlock fail. Non-zero pad bits (RFC 4648
 * Section 3.5) are accepted: the value still decodes to 16 bytes. */
static int key_valid(const char *k, uint32_t n) {
  unsigned char raw[20];
  uint64_t w0, w1, w2;
  if (n != WS_KEY_LEN || k[22] != '=' || k[23] != '=')
    return 0;
  memcpy(&w0, k, 8);
  memcpy(&w1, k + 8, 8);
  memcpy(&w2, k + 14, 8); /* bytes 14..21 */
  if (has_eq(w0) || has_eq(w1) || has_eq(w2))
    return 0;
  return EVP_DecodeBlock(raw, (const unsigned char *)k, (int)n) == 18;
}

/* ------------------------------------------------------------ extensions */

static inline uint32_t skip_ows(const char *s, uint32_t i, uint32_t end) {
  while (i < end && is_ows(s[i]))
    i++;
  return i;
}

static inline uint32_t skip_token(const char *s, uint32_t i,
                                  uint32_t end) {
  while (end - i >= 4 && (CLS(s[i]) & CLS(s[i + 1]) & CLS(s[i + 2]) &
                          CLS(s[i + 3]) & WS__HTTP_TCHAR))
    i += 4;
  while (i < end && (CLS(s[i]) & WS__HTTP_TCHAR))
    i++;
  return i;
}

/* A quoted-string from the opening quote at s[i]; its content must
 * unescape to a token (RFC 6455 Section 9.1). Returns the offset after the
 * closing quote, or 0 with *bad set to the offending byte. */
static uint32_t quoted(const char *s, uint32_t i, uint32_t end,
                       struct ws_ext_param *pm, uint32_t *bad) {
  uint32_t start = ++i;
  for (; i < end && s[i] != '"'; i++) {
    if (s[i] == '\\') {
      pm->escaped = 1;
      if (++i == end)
        break;
    }
    if (!(CLS(s[i]) & WS__HTTP_TCHAR)) {
      *bad = i;
      return 0;
    }
  }
  if (i == end || i == start) {
    *bad = i;
    return 0;
  }
  pm->value.off = start;
  pm->value.len = i - start;
  pm->quoted = 1;
  return i + 1;
}

/* One extension-param at s[i] (after ";" OWS). Returns the offset after
 * it, or 0 with *bad set. */
static inline uint32_t ext_param(const char *s, uint32_t i, uint32_t end,
                                 struct ws_ext_param *pm, uint32_t *bad) {
  uint32_t e = skip_token(s, i, end);
  memset(pm, 0, sizeof(*pm));
  if (e == i) {
    *bad = i;
    return 0;
  }
  pm->name.off = i;
  pm->name.len = e - i;
  i = skip_ows(s, e, end);
  if (i == end || s[i] != '=')
    return e;
  pm->has_value = 1;
  i = skip_ows(s, i + 1, end);
  if (i < end && s[i] == '"')
    return quoted(s, i, end, pm, bad);
  e = skip_token(s, i, end);
  if (e == i) {
    *bad = i;
    return 0;
  }
  pm->value.off = i;
  pm->value.len = e - i;
  return e;
}

static void ext_set_ptrs(struct ws_ext_list *l, const char *base,
                         uint32_t first_ext, uint32_t first_param) {
  for (uint32_t k = first_ext; k < l->num_extensions; k++)
    l->extensions[k].name.ptr = base + l->extensions[k].name.off;
  for (uint32_t k = first_param; k < l->num_params; k++) {
    struct ws_ext_param *pm = &l->params[k];
    pm->name.ptr = base + pm->name.off;
    pm->value.ptr = pm->has_value ? base + pm->value.off : NULL;
  }
}

int ws_ext_list_parse(struct ws_ext_list *l, const char *base, uint32_t off,
                      uint32_t len, uint32_t *err_off) {
  uint32_t bad = off, i = off, end = off + len, found = 0;
  uint32_t first_ext = l ? l->num_extensions : 0;
  uint32_t first_param = l ? l->num_params : 0;
  if (!l || !base)
    return WS_EINVAL;
  while (i < end) {
    i = skip_ows(base, i, end);
    if (i == end)
      break;
    if (base[i] == ',') { /* empty list element, RFC 7230 Section 7 */
      i++;
      continue;
    }
    uint32_t e = skip_token(base, i, end);
    if (e == i) {
      bad = i;
      goto malformed;
    }
    if (l->num_extensions == WS_HS_MAX_EXTENSIONS)
      return WS_ETOOBIG;
    struct ws_ext *x = &l->extensions[l->num_extensions++];
    x->name.off = i;
    x->name.len = e - i;
    x->first_param = (uint16_t)l->num_params;
    x->num_params = 0;
    found++;
    i = skip_ows(base, e, end);
    while (i < end && base[i] == ';') {
      if (l->num_params == WS_HS_MAX_EXT_PARAMS)
        return WS_ETOOBIG;
      i = ext_param(base, skip_ows(base, i + 1, end), end,
                    &l->params[l->num_params], &bad);
      if (!i)
        goto malformed;
      l->num_params++;
      x->num_params++;
      i = skip_ows(base, i, end);
    }
    if (i < end && base[i] != ',') {
      bad = i;
      goto malformed;
    }
  }
  /* 1#extension: at least one. */
  if (!found) {
    bad = off;
    goto malformed;
  }
  ext_set_ptrs(l, base, first_ext, first_param);
  return WS_OK;
malformed:
  if (err_off)
    *err_off = bad;
  return WS_EPROTO;
}

/* ---------------------------------------------------------------- SHA-1 */

int ws_sha1_init(struct ws_sha1 *h) {
  if (!h)
    return WS_ECRYPTO;
  h->md = EVP_MD_fetch(NULL, "SHA1", NULL);
  h->tmpl = EVP_MD_CTX_new();
  h->ctx = EVP_MD_CTX_new();
  if (!h->md || !h->tmpl || !h->ctx ||
      EVP_DigestInit_ex2(h->tmpl, h->md, NULL) != 1) {
    ws_sha1_free(h);
    return WS_ECRYPTO;
  }
  return WS_OK;
}

void ws_sha1_free(struct ws_sha1 *h) {
  if (!h)
    return;
  EVP_MD_CTX_free(h->ctx);
  EVP_MD_CTX_free(h->tmpl);
  EVP_MD_free(h->md);
  h->ctx = h->tmpl = NULL;
  h->md = NULL;
}

#define KEY_MAX 256u

int ws_handshake_accept(struct ws_sha1 *h, const char *key, size_t key_len,
                        char out[WS_ACCEPT_LEN + 1]) {
  unsigned char buf[KEY_MAX + sizeof(WS_GUID)], md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (!key || !out || key_len > KEY_MAX)
    return WS_EINVAL;
  /* RFC 6455 Section 4.2.2 item 5.4 / Section 1.3: SHA-1 of the key
   * concatenated with the GUID, base64-encoded. One buffer, one update:
   * every EVP call costs more than hashing a few bytes. Copying an
   * initialised context is cheaper than EVP_DigestInit_ex2 in OpenSSL 3
   * (measured: about 140 against 150 ns per key here). */
  memcpy(buf, key, key_len);
  memcpy(buf + key_len, WS_GUID, sizeof(WS_GUID) - 1);
  size_t n = key_len + sizeof(WS_GUID) - 1;
  if (h && h->tmpl && h->ctx) {
    if (EVP_MD_CTX_copy_ex(h->ctx, h->tmpl) != 1 ||
        EVP_DigestUpdate(h->ctx, buf, n) != 1 ||
        EVP_DigestFinal_ex(h->ctx, md, &md_len) != 1)
      return WS_ECRYPTO;
  } else if (EVP_Digest(buf, n, md, &md_len, EVP_sha1(), NULL) != 1) {
    return WS_ECRYPTO;
  }
  if (md_len != 20)
    return WS_ECRYPTO;
  EVP_EncodeBlock((unsigned char *)out, md, 20); /* 28 chars + NUL */
  return WS_OK;
}

/* -------------------------------------------------------- header survey */

enum hname {
  H_OTHER, H_HOST, H_ORIGIN, H_UPGRADE, H_CONNECTION, H_KEY, H_ACCEPT,
  H_VERSION, H_PROTOCOL, H_EXTENSIONS, H__COUNT
};

/* Occurrences of one header: how many (saturating at 2), the index of
 * the first, the offset of the second. */
struct seen {
  uint32_t n, first, dup;
};

/* What one pass over the header array found. Offsets in *_bad are stored
 * plus one so 0 means "none". */
struct survey {
  struct seen h[H__COUNT];
  uint32_t up_found, up_bad, conn_found, conn_bad;
  enum ws_hs_rule proto_fail, ext_fail;
  uint32_t proto_fail_at, ext_fail_at;
};

/* Offset of the first header line of kind |id|. */
static inline uint32_t at(const struct ws_http_header *hs,
                          const struct survey *sv, enum hname id) {
  return hs[sv->h[id].first].name.off;
}

/* The nine names that matter have nine different lengths: one switch and
 * one compare classify a header. (A perfect hash of length and first four
 * bytes measured slower here.) */
static enum hname classify(const char *b, const struct ws_http_span *n) {
  const char *s = b + n->off;
  switch (n->len) {
  case 4: return eq_lower(s, "host", 4) ? H_HOST : H_OTHER;
  case 6: return eq_lower(s, "origin", 6) ? H_ORIGIN : H_OTHER;
  case 7: return eq_lower(s, "upgrade", 7) ? H_UPGRADE : H_OTHER;
  case 10: return eq_lower(s, "connection", 10) ? H_CONNECTION : H_OTHER;
  case 17:
    return eq_lower(s, "sec-websocket-key", 17) ? H_KEY : H_OTHER;
  case 20:
    return eq_lower(s, "sec-websocket-accept", 20) ? H_ACCEPT : H_OTHER;
  case 21:
    return eq_lower(s, "sec-websocket-version", 21) ? H_VERSION : H_OTHER;
  case 22:
    return eq_lower(s, "sec-websocket-protocol", 22) ? H_PROTOCOL : H_OTHER;
  case 24:
    return eq_lower(s, "sec-websocket-extensions", 24) ? H_EXTENSIONS
                                                       : H_OTHER;
  default: return H_OTHER;
  }
}

static inline void count(struct seen *e, uint32_t k, uint32_t off) {
  if (e->n == 0)
    e->first = k;
  else if (e->n == 1)
    e->dup = off;
  if (e->n < 2)
    e->n++;
}

/* Scans a #list of tokens (RFC 7230 Section 7), or of protocols
 * (token ["/" token], RFC 7230 Section 6.7) when |slash|, for |word|
 * (lowercase, ASCII case-insensitive). Returns 1 when found; sets *bad
 * when an element is malformed. A value that is exactly |word|, the
 * common case, costs one compare. */
static int list_has(const char *v, uint32_t len, const char *word,
                    uint32_t wlen, int slash, int *bad) {
  uint32_t pos = 0, eo, el;
  int found = 0;
  if (len == wlen && eq_lower(v, word, wlen))
    return 1;
  while (list_next(v, len, &pos, &eo, &el)) {
    if (!(slash ? is_protocol(v + eo, el) : all_token(v + eo, el)))
      *bad = 1;
    else if (el == wlen && eq_lower(v + eo, word, wlen))
      found = 1;
  }
  return found;
}

/* RFC 6455 Section 4.1 item 10 / 11.3.4: 1#token, over all the request's
 * Sec-WebSocket-Protocol lines, each value unique. */
static void add_protocols(struct ws_handshake_request *r, const char *b,
                          const struct ws_http_header *h,
                          struct survey *sv) {
  const char *v = b + h->value.off;
  uint32_t pos = 0, eo, el, n = 0;
  while (list_next(v, h->value.len, &pos, &eo, &el)) {
    n++;
    if (!all_token(v + eo, el)) {
      sv->proto_fail = WS_HS_PROTOCOL_INVALID;
      return;
    }
    for (uint32_t k = 0; k < r->num_protocols; k++)
      if (r->protocols[k].len == el &&
          memcmp(r->protocols[k].ptr, v + eo, el) == 0) {
        sv->proto_fail = WS_HS_PROTOCOL_REPEATED;
        return;
      }
    if (r->num_protocols == WS_HS_MAX_PROTOCOLS) {
      sv->proto_fail = WS_HS_PROTOCOL_TOO_MANY;
      return;
    }
    r->protocols[r->num_protocols++] = mkspan(b, h->value.off + eo, el);
  }
  if (n == 0)
    sv->proto_fail = WS_HS_PROTOCOL_INVALID;
}

static void add_extensions(struct ws_ext_list *l, const char *b,
                           const struct ws_http_header *h,
                           struct survey *sv) {
  int rc = ws_ext_list_parse(l, b, h->value.off, h->value.len, NULL);
  if (rc == WS_ETOOBIG)
    sv->ext_fail = WS_HS_EXTENSIONS_TOO_MANY;
  else if (rc != WS_OK)
    sv->ext_fail = WS_HS_EXTENSIONS_INVALID;
}

/* One pass over the headers of a request (|r| set) or a response. List
 * values are checked here, once; single-valued ones are judged later. */
static void survey(const struct ws_http_parser *p, struct survey *sv,
                   struct ws_handshake_request *r, struct ws_ext_list *ext) {
  const char *b = p->buf;
  for (int k = 0; k < H__COUNT; k++)
    sv->h[k].n = 0;
  sv->up_found = sv->up_bad = sv->conn_found = sv->conn_bad = 0;
  sv->proto_fail = sv->ext_fail = WS_HS_OK;
  sv->proto_fail_at = sv->ext_fail_at = 0;
  for (uint32_t k = 0; k < p->num_headers; k++) {
    const struct ws_http_header *h = &p->headers[k];
    const char *v = b + h->value.off;
    uint32_t off = h->name.off;
    enum hname id = classify(b, &h->name);
    int bad = 0;
    if (id == H_OTHER)
      continue;
    count(&sv->h[id], k, off);
    switch (id) {
    case H_UPGRADE:
      if (r) {
        sv->up_found |=
            (uint32_t)list_has(v, h->value.len, "websocket", 9, 1, &bad);
      } else if (!(h->value.len == 9 && eq_lower(v, "websocket", 9))) {
        bad = 1; /* RFC 6455 Section 4.1 item 2: exactly "websocket" */
      }
      if (bad && !sv->up_bad)
        sv->up_bad = off + 1;
      break;
    case H_CONNECTION:
      sv->conn_found |=
          (uint32_t)list_has(v, h->value.len, "upgrade", 7, 0, &bad);
      if (bad && !sv->conn_bad)
        sv->conn_bad = off + 1;
      break;
    case H_PROTOCOL:
      if (r && !sv->proto_fail) {
        add_protocols(r, b, h, sv);
        sv->proto_fail_at = off;
      }
      break;
    case H_EXTENSIONS:
      if (!sv->ext_fail) {
        add_extensions(ext, b, h, sv);
        sv->ext_fail_at = off;
      }
      break;
    default: break;
    }
  }
}

/* --------------------------------------------------------------- server */

static int refuse(struct ws_handshake_failure *f, enum ws_hs_rule id,
                  uint32_t offset) {
  ws_hs_failure_set(f, id, offset);
  return WS_EHANDSHAKE;
}

int ws_handshake_server_check(const struct ws_http_parser *p,
                              struct ws_handshake_request *r,
                              struct ws_handshake_failure *f) {
  struct survey sv;
  if (!p || !r || !f || p->kind != WS_HTTP_REQUEST)
    return WS_EINVAL;
  if (p->result == WS_HTTP_INCOMPLETE)
    return WS_EAGAIN;
  if (p->result != WS_HTTP_COMPLETE) {
    from_parser(p, f);
    return WS_EHANDSHAKE;
  }
  const char *b = p->buf;
  const struct ws_http_header *hs = p->headers;
  uint32_t none = p->head_len - 2; /* where a missing header would be */
  r->num_protocols = 0;
  r->extensions.num_extensions = 0;
  r->extensions.num_params = 0;
  r->head_len = p->head_len;
  r->http_minor = p->http_minor;
  r->target = p->target;

  /* RFC 6455 Section 4.2.1 item 1: "An HTTP/1.1 or higher GET request".
   * The method is case-sensitive (RFC 7230 Section 3.1.1). A wrong method
   * is answered 405 with Allow: GET (RFC 7231 Section 6.5.5). */
  if (p->method.len != 3 || memcmp(b + p->method.off, "GET", 3) != 0)
    return refuse(f, WS_HS_METHOD, p->method.off);
  if (p->http_minor < 1)
    return refuse(f, WS_HS_HTTP_VERSION, p->target.off + p->target.len + 1);
  if (!check_target(b, p->target, &r->resource))
    return refuse(f, WS_HS_TARGET, p->target.off);

  survey(p, &sv, r, &r->extensions);

  /* RFC 7230 Section 5.4: a server MUST respond with 400 to a request
   * without Host or with more than one (RFC 6455 Section 4.2.1 item 2). */
  if (sv.h[H_HOST].n == 0)
    return refuse(f, WS_HS_HOST_MISSING, none);
  if (sv.h[H_HOST].n > 1)
    return refuse(f, WS_HS_HOST_DUPLICATE, sv.h[H_HOST].dup);
  r->host = hs[sv.h[H_HOST].first].value;
  if (r->host.len == 0)
    return refuse(f, WS_HS_HOST_MISSING, at(hs, &sv, H_HOST));

  /* Items 3 and 4: Upgrade lists "websocket", Connection lists "Upgrade",
   * both ASCII case-insensitive. */
  if (sv.h[H_UPGRADE].n == 0)
    return refuse(f, WS_HS_UPGRADE_MISSING, none);
  if (sv.up_bad)
    return refuse(f, WS_HS_UPGRADE_INVALID, sv.up_bad - 1);
  if (!sv.up_found)
    return refuse(f, WS_HS_UPGRADE_NO_WEBSOCKET, at(hs, &sv, H_UPGRADE));
  if (sv.h[H_CONNECTION].n == 0)
    return refuse(f, WS_HS_CONNECTION_MISSING, none);
  if (sv.conn_bad)
    return refuse(f, WS_HS_CONNECTION_INVALID, sv.conn_bad - 1);
  if (!sv.conn_found)
    return refuse(f, WS_HS_CONNECTION_NO_UPGRADE, at(hs, &sv, H_CONNECTION));

  /* Item 5 and Section 11.3.1: one key, base64 of 16 bytes. */
  if (sv.h[H_KEY].n == 0)
    return refuse(f, WS_HS_KEY_MISSING, none);
  if (sv.h[H_KEY].n > 1)
    return refuse(f, WS_HS_KEY_DUPLICATE, sv.h[H_KEY].dup);
  r->key = hs[sv.h[H_KEY].first].value;
  if (!key_valid(b + r->key.off, r->key.len))
    return refuse(f, WS_HS_KEY_INVALID, at(hs, &sv, H_KEY));

  /* Item 6 and Section 4.2.2 / 4.4: version 13, else 426 with
   * Sec-WebSocket-Version: 13; Section 11.3.5: at most once. */
  if (sv.h[H_VERSION].n == 0)
    return refuse(f, WS_HS_VERSION_MISSING, none);
  if (sv.h[H_VERSION].n > 1)
    return refuse(f, WS_HS_VERSION_DUPLICATE, sv.h[H_VERSION].dup);
  const struct ws_http_span *ver = &hs[sv.h[H_VERSION].first].value;
  if (ver->len != 2 || memcmp(b + ver->off, "13", 2) != 0)
    return refuse(f, WS_HS_VERSION_UNSUPPORTED, at(hs, &sv, H_VERSION));

  if (sv.proto_fail)
    return refuse(f, sv.proto_fail, sv.proto_fail_at);
  /* Section 9.1 grammar over every Sec-WebSocket-Extensions line. */
  if (sv.ext_fail)
    return refuse(f, sv.ext_fail, sv.ext_fail_at);

  r->has_origin = sv.h[H_ORIGIN].n > 0;
  if (r->has_origin)
    r->origin = hs[sv.h[H_ORIGIN].first].value;
  else
    memset(&r->origin, 0, sizeof(r->origin));
  return WS_OK;
}

/* -------------------------------------------------------------- writers */

/* Appends to a caller buffer and remembers overflow, so builders write
 * straight through and check once. */
struct out {
  char *p;
  size_t cap, len;
};

static inline void put(struct out *o, const char *s, size_t n) {
  if (o->len <= o->cap && n <= o->cap - o->len)
    memcpy(o->p + o->len, s, n);
  o->len += n;
}

static inline void puts0(struct out *o, const char *s) { put(o, s, strlen(s)); }

static void put_uint(struct out *o, unsigned long v) {
  char d[24];
  size_t n = sizeof(d);
  do {
    d[--n] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  put(o, d + n, sizeof(d) - n);
}

static ws_ssize finish(const struct out *o) {
  return o->len > o->cap ? WS_ENOBUFS : (ws_ssize)o->len;
}

#define PUTL(o, lit) put((o), (lit), sizeof(lit) - 1)

/* A Sec-WebSocket-Extensions value we are about to send: the Section 9.1
 * grammar, which also keeps CR and LF out. */
static int ext_value_ok(const char *v) {
  struct ws_ext_list l;
  size_t n = strlen(v);
  if (n == 0 || n > WS_HTTP_MAX_HEAD_LIMIT)
    return 0;
  for (size_t k = 0; k < n; k++)
    if (!(CLS(v[k]) & WS__HTTP_VALUE))
      return 0;
  l.num_extensions = l.num_params = 0;
  return ws_ext_list_parse(&l, v, 0, (uint32_t)n, NULL) == WS_OK;
}

ws_ssize ws_handshake_build_101(char *out, size_t cap, struct ws_sha1 *h,
                                const char *key, size_t key_len,
                                const char *protocol,
                                const char *extensions) {
  char accept[WS_ACCEPT_LEN + 1];
  struct out o = {out, cap, 0};
  if (!out || !key)
    return WS_EINVAL;
  if (protocol && !ws_http_is_token(protocol, strlen(protocol)))
    return WS_EINVAL;
  if (extensions && !ext_value_ok(extensions))
    return WS_EINVAL;
  int rc = ws_handshake_accept(h, key, key_len, accept);
  if (rc != WS_OK)
    return rc;
  /* RFC 6455 Section 4.2.2 item 5: status 101, Upgrade: websocket,
   * Connection: Upgrade, Sec-WebSocket-Accept. */
  PUTL(&o, "HTTP/1.1 101 Switching Protocols\r\n"
           "Upgrade: websocket\r\n"
           "Connection: Upgrade\r\n"
           "Sec-WebSocket-Accept: ");
  put(&o, accept, WS_ACCEPT_LEN);
  PUTL(&o, "\r\n");
  if (protocol) {
    PUTL(&o, "Sec-WebSocket-Protocol: ");
    puts0(&o, protocol);
    PUTL(&o, "\r\n");
  }
  if (extensions) {
    PUTL(&o, "Sec-WebSocket-Extensions: ");
    puts0(&o, extensions);
    PUTL(&o, "\r\n");
  }
  PUTL(&o, "\r\n");
  return finish(&o);
}

ws_ssize ws_handshake_build_error(char *out, size_t cap, unsigned status,
                                  const char *body) {
  struct out o = {out, cap, 0};
  const char *phrase;
  if (!out)
    return WS_EINVAL;
  switch (status) {
  case 400: phrase = "Bad Request"; break;
  case 405: phrase = "Method Not Allowed"; break;
  case 426: phrase = "Upgrade Required"; break;
  case 431: phrase = "Request Header Fields Too Large"; break;
  default: return WS_EINVAL;
  }
  if (!body)
    body = phrase;
  size_t blen = strlen(body);
  PUTL(&o, "HTTP/1.1 ");
  put_uint(&o, status);
  PUTL(&o, " ");
  puts0(&o, phrase);
  PUTL(&o, "\r\n");
  /* RFC 7231 Section 6.5.5: a 405 MUST carry Allow. */
  if (status == 405)
    PUTL(&o, "Allow: GET\r\n");
  /* RFC 6455 Section 4.2.2 / 4.4: the versions the server understands;
   * RFC 7230 Section 6.7: a 426 MUST send Upgrade, and Upgrade needs the
   * "upgrade" connection option. */
  if (status == 426)
    PUTL(&o, "Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n");
  PUTL(&o, "Content-Type: text/plain\r\nContent-Length: ");
  put_uint(&o, blen + 1);
  if (status == 426)
    PUTL(&o, "\r\nConnection: Upgrade, close\r\n\r\n");
  else
    PUTL(&o, "\r\nConnection: close\r\n\r\n");
  put(&o, body, blen);
  PUTL(&o, "\n");
  return finish(&o);
}

ws_ssize ws_handshake_build_refusal(char *out, size_t cap,
                                    const struct ws_handshake_failure *f) {
  if (!f)
    return WS_EINVAL;
  return ws_handshake_build_error(out, cap, f->status, f->reason);
}

/* --------------------------------------------------------------- client */

/* Host: a reg-name, IPv4 or bracketed IPv6 literal (RFC 3986 Section
 * 3.2.2): unreserved, sub-delims, ':', '%', '[' and ']'. */
static int host_ok(const char *h) {
  size_t n = strlen(h);
  if (n == 0 || n > 1024)
    return 0;
  for (size_t k = 0; k < n; k++) {
    char c = h[k];
    if (c == '/' || c == '?' || c == '@' ||
        (!(CLS(c) & WS__HTTP_URI) && c != '%' && c != '[' && c != ']'))
      return 0;
  }
  return 1;
}

/* A field value we send: VCHAR, SP, HTAB or obs-text, not empty, no
 * surrounding whitespace. */
static int value_ok(const char *v, size_t n) {
  if (n == 0 || is_ows(v[0]) || is_ows(v[n - 1]))
    return 0;
  for (size_t k = 0; k < n; k++)
    if (!(CLS(v[k]) & WS__HTTP_VALUE))
      return 0;
  return 1;
}

/* "Name: value" with a token name. */
static int extra_ok(const char *line) {
  const char *colon = strchr(line, ':');
  if (!colon || !ws_http_is_token(line, (size_t)(colon - line)))
    return 0;
  const char *v = colon + 1;
  while (is_ows(*v))
    v++;
  return *v == '\0' || value_ok(v, strlen(v));
}

static int options_ok(const struct ws_client_options *o) {
  struct ws_ext_list l;
  if (!o->host || !host_ok(o->host))
    return 0;
  if (o->path) {
    size_t n = strlen(o->path);
    if (n == 0 || n > WS_HTTP_MAX_HEAD_LIMIT || o->path[0] != '/' ||
        !uri_chars(o->path, (uint32_t)n))
      return 0;
  }
  if (o->origin && !value_ok(o->origin, strlen(o->origin)))
    return 0;
  if (o->num_protocols > WS_HS_MAX_PROTOCOLS ||
      (o->num_protocols && !o->protocols))
    return 0;
  /* RFC 6455 Section 4.1 item 10: tokens, all unique. */
  for (size_t k = 0; k < o->num_protocols; k++) {
    const char *pk = o->protocols[k];
    if (!pk || !ws_http_is_token(pk, strlen(pk)))
      return 0;
    for (size_t j = 0; j < k; j++)
      if (strcmp(o->protocols[j], pk) == 0)
        return 0;
  }
  if (o->num_extensions > WS_HS_MAX_EXTENSIONS ||
      (o->num_extensions && !o->extensions))
    return 0;
  l.num_extensions = l.num_params = 0;
  for (size_t k = 0; k < o->num_extensions; k++) {
    const char *e = o->extensions[k];
    if (!e || !ext_value_ok(e) ||
        ws_ext_list_parse(&l, e, 0, (uint32_t)strlen(e), NULL) != WS_OK)
      return 0;
  }
  if (o->num_headers && !o->headers)
    return 0;
  for (size_t k = 0; k < o->num_headers; k++)
    if (!o->headers[k] || !extra_ok(o->headers[k]))
      return 0;
  return 1;
}

static void put_list(struct out *o, const char *name,
                     const char *const *items, size_t n) {
  if (n == 0)
    return;
  puts0(o, name);
  for (size_t k = 0; k < n; k++) {
    if (k)
      PUTL(o, ", ");
    puts0(o, items[k]);
  }
  PUTL(o, "\r\n");
}

ws_ssize ws_handshake_client_request(struct ws_handshake_client *c,
                                     const struct ws_client_options *opt,
                                     ws_random_fn rnd, void *rnd_user,
                                     struct ws_sha1 *h, char *out,
                                     size_t cap) {
  uint8_t nonce[16];
  struct out o = {out, cap, 0};
  if (!c || !opt || !rnd || !out)
    return WS_EINVAL;
  c->opt = NULL;
  if (!options_ok(opt))
    return WS_EINVAL;
  /* RFC 6455 Section 4.1 item 7: a nonce of 16 random bytes, freshly
   * chosen for this connection, base64-encoded. */
  if (rnd(nonce, sizeof(nonce), rnd_user) != 0)
    return WS_ERANDOM;
  EVP_EncodeBlock((unsigned char *)c->key, nonce, sizeof(nonce));
  int rc = ws_handshake_accept(h, c->key, WS_KEY_LEN, c->accept);
  if (rc != WS_OK)
    return rc;

  PUTL(&o, "GET ");
  puts0(&o, opt->path ? opt->path : "/");
  PUTL(&o, " HTTP/1.1\r\nHost: ");
  /* Item 4: Host with the port unless it is the default one. */
  int v6 = strchr(opt->host, ':') != NULL && opt->host[0] != '[';
  if (v6)
    PUTL(&o, "[");
  puts0(&o, opt->host);
  if (v6)
    PUTL(&o, "]");
  if (opt->port && opt->port != (opt->secure ? 443 : 80)) {
    PUTL(&o, ":");
    put_uint(&o, opt->port);
  }
  PUTL(&o, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: ");
  put(&o, c->key, WS_KEY_LEN);
  PUTL(&o, "\r\nSec-WebSocket-Version: 13\r\n");
  if (opt->origin) {
    PUTL(&o, "Origin: ");
    puts0(&o, opt->origin);
    PUTL(&o, "\r\n");
  }
  put_list(&o, "Sec-WebSocket-Protocol: ", opt->protocols,
           opt->num_protocols);
  put_list(&o, "Sec-WebSocket-Extensions: ", opt->extensions,
           opt->num_extensions);
  for (size_t k = 0; k < opt->num_headers; k++) {
    puts0(&o, opt->headers[k]);
    PUTL(&o, "\r\n");
  }
  PUTL(&o, "\r\n");
  ws_ssize n = finish(&o);
  if (n >= 0)
    c->opt = opt;
  return n;
}

/* The client fails the connection: no status to answer, and the shared
 * request/response rules are Section 4.1's. */
static int fail_client(struct ws_handshake_failure *f, enum ws_hs_rule id,
                       uint32_t offset) {
  ws_hs_failure_set(f, id, offset);
  f->status = 0;
  if (f->rfc == 6455 && strcmp(f->section, "4.2.1") == 0)
    f->section = "4.1";
  return WS_EHANDSHAKE;
}

static int offered_ext(const struct ws_client_options *o, const char *name,
                       uint32_t len) {
  struct ws_ext_list l;
  for (size_t k = 0; k < o->num_extensions; k++) {
    const char *e = o->extensions[k];
    l.num_extensions = l.num_params = 0;
    if (ws_ext_list_parse(&l, e, 0, (uint32_t)strlen(e), NULL) != WS_OK)
      continue;
    for (uint32_t j = 0; j < l.num_extensions; j++)
      if (l.extensions[j].name.len == len &&
          memcmp(e + l.extensions[j].name.off, name, len) == 0)
        return 1;
  }
  return 0;
}

static int offered_proto(const struct ws_client_options *o, const char *s,
                         uint32_t len) {
  for (size_t k = 0; k < o->num_protocols; k++)
    if (strlen(o->protocols[k]) == len && memcmp(o->protocols[k], s, len) == 0)
      return 1;
  return 0;
}

int ws_handshake_client_check(const struct ws_handshake_client *c,
                              const struct ws_http_parser *p,
                              struct ws_handshake_response *r,
                              struct ws_handshake_failure *f) {
  struct survey sv;
  if (!c || !p || !r || !f || p->kind != WS_HTTP_RESPONSE || !c->opt)
    return WS_EINVAL;
  if (p->result == WS_HTTP_INCOMPLETE)
    return WS_EAGAIN;
  if (p->result != WS_HTTP_COMPLETE) {
    from_parser(p, f);
    f->status = 0;
    return WS_EHANDSHAKE;
  }
  const char *b = p->buf;
  const struct ws_http_header *hs = p->headers;
  uint32_t none = p->head_len - 2;
  r->status = p->status;
  r->head_len = p->head_len;
  r->has_protocol = 0;
  memset(&r->protocol, 0, sizeof(r->protocol));
  r->extensions.num_extensions = r->extensions.num_params = 0;

  /* RFC 6455 Section 4.1 item 1: anything but 101 is handled per HTTP;
   * the WebSocket handshake has failed. */
  if (p->status != 101) {
    fail_client(f, WS_HS_STATUS_NOT_101, 9); /* "HTTP/1.x " */
    f->peer_status = p->status;
    return WS_EHANDSHAKE;
  }
  survey(p, &sv, NULL, &r->extensions);
  /* Items 2 and 3. */
  if (sv.h[H_UPGRADE].n == 0)
    return fail_client(f, WS_HS_UPGRADE_MISSING, none);
  if (sv.up_bad)
    return fail_client(f, WS_HS_UPGRADE_NO_WEBSOCKET, sv.up_bad - 1);
  if (sv.h[H_CONNECTION].n == 0)
    return fail_client(f, WS_HS_CONNECTION_MISSING, none);
  if (sv.conn_bad)
    return fail_client(f, WS_HS_CONNECTION_INVALID, sv.conn_bad - 1);
  if (!sv.conn_found)
    return fail_client(f, WS_HS_CONNECTION_NO_UPGRADE,
                       at(hs, &sv, H_CONNECTION));
  /* Item 4 and Section 11.3.3. */
  if (sv.h[H_ACCEPT].n == 0)
    return fail_client(f, WS_HS_ACCEPT_MISSING, none);
  if (sv.h[H_ACCEPT].n > 1)
    return fail_client(f, WS_HS_ACCEPT_DUPLICATE, sv.h[H_ACCEPT].dup);
  const struct ws_http_span *acc = &hs[sv.h[H_ACCEPT].first].value;
  if (acc->len != WS_ACCEPT_LEN ||
      memcmp(b + acc->off, c->accept, WS_ACCEPT_LEN) != 0)
    return fail_client(f, WS_HS_ACCEPT_MISMATCH, at(hs, &sv, H_ACCEPT));
  /* Item 5 and Section 11.3.2: one Sec-WebSocket-Extensions at most,
   * naming only extensions the client offered. */
  if (sv.h[H_EXTENSIONS].n > 1)
    return fail_client(f, WS_HS_EXTENSIONS_DUPLICATE, sv.h[H_EXTENSIONS].dup);
  if (sv.ext_fail)
    return fail_client(f, sv.ext_fail, sv.ext_fail_at);
  for (uint32_t k = 0; k < r->extensions.num_extensions; k++) {
    const struct ws_http_span *n = &r->extensions.extensions[k].name;
    if (!offered_ext(c->opt, b + n->off, n->len))
      return fail_client(f, WS_HS_EXTENSION_NOT_OFFERED,
                         at(hs, &sv, H_EXTENSIONS));
  }
  /* Item 6 and Section 11.3.4: at most one subprotocol, one offered. */
  if (sv.h[H_PROTOCOL].n > 1)
    return fail_client(f, WS_HS_PROTOCOL_DUPLICATE, sv.h[H_PROTOCOL].dup);
  if (sv.h[H_PROTOCOL].n == 1) {
    const struct ws_http_header *h = &hs[sv.h[H_PROTOCOL].first];
    if (!all_token(b + h->value.off, h->value.len))
      return fail_client(f, WS_HS_PROTOCOL_INVALID, h->name.off);
    if (!offered_proto(c->opt, b + h->value.off, h->value.len))
      return fail_client(f, WS_HS_PROTOCOL_NOT_OFFERED, h->name.off);
    r->has_protocol = 1;
    r->protocol = h->value;
  }
  return WS_OK;
}
