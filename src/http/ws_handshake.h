/*
 * ws_handshake.h: the RFC 6455 opening handshake (Section 4), server and
 * client side, over heads parsed by ws_http.h.
 *
 * Server:
 *   1. parse the request with ws_http_parse() (WS_HTTP_REQUEST);
 *   2. ws_handshake_server_check() validates it (Section 4.2.1) and fills a
 *      struct ws_handshake_request with zero-copy slices (host, origin,
 *      resource, key, offered subprotocols and extensions), or fills a
 *      struct ws_handshake_failure naming the rule broken, the HTTP status
 *      to answer and the offset of the offending header;
 *   3. answer with ws_handshake_build_101() or ws_handshake_build_refusal().
 *
 * Client:
 *   1. ws_handshake_client_request() writes the request, drawing the
 *      Sec-WebSocket-Key from the injected ws_random_fn, and remembers the
 *      key and the Sec-WebSocket-Accept value to expect;
 *   2. parse the response with ws_http_parse() (WS_HTTP_RESPONSE);
 *   3. ws_handshake_client_check() validates it (Section 4.1). Bytes after
 *      the response head (p->head_len) are the first frames: they are not
 *      part of the handshake and are left to the caller.
 *
 * Failures are never only a return code: every refusal comes with a
 * struct ws_handshake_failure (rule id, RFC and section, reason, HTTP
 * status, byte offset), the handshake counterpart of struct ws_violation.
 *
 * Nothing here allocates or performs I/O, and no call takes a struct
 * ws_mem. SHA-1 and base64 are OpenSSL's (EVP); OpenSSL allocates with its
 * own allocator in ws_sha1_init() and inside its digest calls, which
 * ws_handshake_accept() and the builders that use it report as
 * WS_ECRYPTO when they fail.
 */
#ifndef WS_HANDSHAKE_H
#define WS_HANDSHAKE_H

#include "../core/ws_core.h"
#include "ws_http.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 6455 Section 1.3: the GUID appended to the key before hashing. */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
/* base64 of 16 bytes, and of a 20-byte SHA-1 digest. */
#define WS_KEY_LEN 24u
#define WS_ACCEPT_LEN 28u
/* Bounds on what one handshake may offer; more is refused (400). */
#define WS_HS_MAX_PROTOCOLS 16u
#define WS_HS_MAX_EXTENSIONS 16u
#define WS_HS_MAX_EXT_PARAMS 32u

/*
 * Every handshake rule checked, one value each. The comment gives the HTTP
 * status the server answers with (server side) and the RFC section
 * (6455 unless noted).
 */
enum ws_hs_rule {
  WS_HS_OK = 0,
  /* The head itself (server: from the parser's error). */
  WS_HS_HTTP_SYNTAX,        /* 400, RFC 7230 (see failure.http_error) */
  WS_HS_HEAD_TOO_LARGE,     /* 431, RFC 6585 Section 5 */
  WS_HS_TOO_MANY_HEADERS,   /* 431, RFC 6585 Section 5 */
  /* Request, Section 4.2.1. */
  WS_HS_METHOD,             /* 405 + Allow: GET; item 1 */
  WS_HS_HTTP_VERSION,       /* 400, HTTP/1.0; item 1 */
  WS_HS_TARGET,             /* 400, not origin-form or absolute-form */
  WS_HS_HOST_MISSING,       /* 400, item 2 / RFC 7230 Section 5.4 */
  WS_HS_HOST_DUPLICATE,     /* 400, RFC 7230 Section 5.4 */
  WS_HS_UPGRADE_MISSING,    /* 400 (request) / fail (response) */
  WS_HS_UPGRADE_INVALID,    /* 400: the list is not protocol tokens */
  WS_HS_UPGRADE_NO_WEBSOCKET, /* 400 / fail: "websocket" not listed */
  WS_HS_CONNECTION_MISSING, /* 400 / fail */
  WS_HS_CONNECTION_INVALID, /* 400 / fail: the list is not tokens */
  WS_HS_CONNECTION_NO_UPGRADE, /* 400 / fail: "Upgrade" not listed */
  WS_HS_KEY_MISSING,        /* 400, item 5 */
  WS_HS_KEY_DUPLICATE,      /* 400, Section 11.3.1 */
  WS_HS_KEY_INVALID,        /* 400: not base64 of exactly 16 bytes */
  WS_HS_VERSION_MISSING,    /* 426 + Sec-WebSocket-Version: 13; item 6 */
  WS_HS_VERSION_DUPLICATE,  /* 426, Section 11.3.5 */
  WS_HS_VERSION_UNSUPPORTED, /* 426, Section 4.2.2 / 4.4 */
  WS_HS_PROTOCOL_INVALID,   /* 400 / fail: not a token list (one token in
                               a response) */
  WS_HS_PROTOCOL_REPEATED,  /* 400: a subprotocol offered twice, 4.1 */
  WS_HS_PROTOCOL_TOO_MANY,  /* 400: over WS_HS_MAX_PROTOCOLS */
  WS_HS_EXTENSIONS_INVALID, /* 400 / fail: Section 9.1 grammar */
  WS_HS_EXTENSIONS_TOO_MANY, /* 400 / fail: over the WS_HS_MAX_* bounds */
  /* Response, Section 4.1 (client side; status is 0). */
  WS_HS_STATUS_NOT_101,     /* failure.peer_status holds the status */
  WS_HS_ACCEPT_MISSING,     /* item 4 */
  WS_HS_ACCEPT_DUPLICATE,   /* Section 11.3.3 */
  WS_HS_ACCEPT_MISMATCH,    /* item 4 */
  WS_HS_PROTOCOL_DUPLICATE, /* Section 11.3.4 */
  WS_HS_PROTOCOL_NOT_OFFERED, /* item 6 */
  WS_HS_EXTENSIONS_DUPLICATE, /* Section 11.3.2 */
  WS_HS_EXTENSION_NOT_OFFERED, /* item 5 */
  WS_HS__COUNT
};

/*
 * Why a handshake was refused. |section| and |reason| point to static
 * strings. |offset| is the byte offset in the head of: the offending
 * header line (its name's first byte; for a duplicate, the second
 * occurrence), the request-target or method, or, when a required header
 * is missing, the empty line that ends the head (head_len - 2). For
 * WS_HS_HTTP_SYNTAX and the 431 rules it is the parser's error_offset.
 */
struct ws_handshake_failure {
  enum ws_hs_rule id;
  uint16_t status;       /* server side: HTTP status to answer; client: 0 */
  uint16_t peer_status;  /* client side: the status line's code */
  uint16_t rfc;          /* 6455, 7230 or 6585 */
  const char *section;   /* for example "4.2.1" */
  const char *reason;    /* short English reason, usable as a body */
  uint32_t offset;
  enum ws_http_error http_error; /* WS_HS_HTTP_SYNTAX: the parser's rule */
};

/* Static name of |id|, for example "KEY_INVALID". */
const char *ws_hs_rule_name(enum ws_hs_rule id);

/*
 * Fills |f| with the status, RFC, section and reason of |id| and the given
 * offset; peer_status and http_error are cleared. Unknown ids yield 400.
 */
void ws_hs_failure_set(struct ws_handshake_failure *f, enum ws_hs_rule id,
                       uint32_t offset);

/* One extension parameter, RFC 6455 Section 9.1: name [ "=" value ]. */
struct ws_ext_param {
  struct ws_http_span name;
  struct ws_http_span value; /* len 0 when absent; a quoted-string's
                                content without the quotes */
  uint8_t has_value;
  uint8_t quoted;            /* the value was a quoted-string */
  uint8_t escaped;           /* ... holding quoted-pairs ("\x"): the span
                                is raw; drop each backslash to unescape */
};

/* One offered or accepted extension: a token and its parameters,
 * params[first_param .. first_param + num_params) of the owning list. */
struct ws_ext {
  struct ws_http_span name;
  uint16_t first_param;
  uint16_t num_params;
};

/* The extensions of one or more Sec-WebSocket-Extensions values, in
 * order. Spans point into the parsed buffer. */
struct ws_ext_list {
  uint32_t num_extensions;
  uint32_t num_params;
  struct ws_ext extensions[WS_HS_MAX_EXTENSIONS];
  struct ws_ext_param params[WS_HS_MAX_EXT_PARAMS];
};

/*
 * Parses one Sec-WebSocket-Extensions value, base[off .. off + len), per
 * RFC 6455 Section 9.1 (extension-list = 1#extension; extension =
 * extension-token *( ";" extension-param ); extension-param = token
 * [ "=" ( token | quoted-string ) ], a quoted value unescaping to a token)
 * with OWS around the separators, and appends to |l| (set num_extensions
 * and num_params to 0 before the first value). Spans get ptr = base + off.
 *
 * Returns 0 on success or one of the following negative codes:
 *   WS_EPROTO   the value breaks the grammar; *err_off (if not NULL) is
 *               the offset in |base| of the first offending byte
 *   WS_ETOOBIG  more than WS_HS_MAX_EXTENSIONS or WS_HS_MAX_EXT_PARAMS
 *   WS_EINVAL   |l| or |base| is NULL
 * On failure |l| may hold a partial result.
 */
int ws_ext_list_parse(struct ws_ext_list *l, const char *base, uint32_t off,
                      uint32_t len, uint32_t *err_off);

/* ---------------------------------------------------------------- SHA-1 */

/*
 * A SHA-1 digest fetched once, with an initialised template context and a
 * work context, for computing accept values without OpenSSL 3's per-call
 * algorithm fetch and initialisation. Caller-allocated; one per thread
 * (not thread-safe). The fields are private.
 */
struct ws_sha1 {
  struct evp_md_st *md;
  struct evp_md_ctx_st *tmpl; /* initialised once, copied per key */
  struct evp_md_ctx_st *ctx;
};

/* Fetches SHA-1 and allocates both contexts (OpenSSL's allocator).
 * Returns 0 or WS_ECRYPTO (also for a NULL |h|); on failure nothing needs
 * freeing. */
int ws_sha1_init(struct ws_sha1 *h);

/* Frees what ws_sha1_init() allocated. |h| may be NULL or zeroed. */
void ws_sha1_free(struct ws_sha1 *h);

/*
 * Computes the Sec-WebSocket-Accept value for |key| (RFC 6455 Section
 * 4.2.2 item 5.4): base64(SHA-1(key + WS_GUID)), WS_ACCEPT_LEN characters
 * and a NUL written to |out|. |key| is used as given (the key's syntax is
 * checked by ws_handshake_server_check()). |h| may be NULL: one-shot EVP,
 * slower.
 *
 * Returns 0 on success or one of the following negative codes:
 *   WS_EINVAL   |key| or |out| is NULL, or key_len > 256
 *   WS_ECRYPTO  OpenSSL failed
 */
int ws_handshake_accept(struct ws_sha1 *h, const char *key, size_t key_len,
                        char out[WS_ACCEPT_LEN + 1]);

/* --------------------------------------------------------------- server */

/* A validated opening handshake request. Spans point into the parsed
 * buffer (p->buf) and live as long as it does. */
struct ws_handshake_request {
  struct ws_http_span target;   /* the request-target as sent */
  struct ws_http_span resource; /* origin-form: the target; absolute-form:
                                   path and query after the authority,
                                   len 0 meaning "/" */
  struct ws_http_span host;     /* the Host value */
  struct ws_http_span origin;   /* len 0 and has_origin 0 when absent */
  struct ws_http_span key;      /* the Sec-WebSocket-Key, 24 characters */
  uint8_t has_origin;
  uint8_t http_minor;
  uint32_t head_len;            /* bytes of the request head */
  uint32_t num_protocols;       /* Sec-WebSocket-Protocol, in order */
  struct ws_http_span protocols[WS_HS_MAX_PROTOCOLS];
  struct ws_ext_list extensions; /* Sec-WebSocket-Extensions, in order */
};

/*
 * Validates the request parsed by |p| against RFC 6455 Section 4.2.1 and
 * fills |r|. Checks, in this order (the first failure is reported):
 * method GET (405), HTTP/1.1 or later, request-target in origin-form or
 * absolute-form, Host exactly once, Upgrade listing "websocket", Connection
 * listing "Upgrade" (both ASCII case-insensitive, over all their field
 * lines), Sec-WebSocket-Key exactly once and base64 of 16 bytes,
 * Sec-WebSocket-Version exactly once and "13" (426 otherwise),
 * Sec-WebSocket-Protocol tokens (unique, over all lines),
 * Sec-WebSocket-Extensions per Section 9.1 (over all lines). The Host
 * value is not compared with any authority: that is the caller's policy.
 *
 * When |p| ended in a parse error, |f| gets WS_HS_HTTP_SYNTAX (400) or
 * WS_HS_HEAD_TOO_LARGE / WS_HS_TOO_MANY_HEADERS (431).
 *
 * Returns 0 on success or one of the following negative codes:
 *   WS_EHANDSHAKE  refused; |f| says why (|r| is partly filled)
 *   WS_EAGAIN      |p| has not completed the head yet
 *   WS_EINVAL      a NULL argument, or |p| parses responses
 */
int ws_handshake_server_check(const struct ws_http_parser *p,
                              struct ws_handshake_request *r,
                              struct ws_handshake_failure *f);

/*
 * Writes the 101 Switching Protocols response to out[0..cap):
 *
 *   HTTP/1.1 101 Switching Protocols\r\n
 *   Upgrade: websocket\r\n
 *   Connection: Upgrade\r\n
 *   Sec-WebSocket-Accept: <accept for |key|>\r\n
 *   [Sec-WebSocket-Protocol: <protocol>\r\n]
 *   [Sec-WebSocket-Extensions: <extensions>\r\n]
 *   \r\n
 *
 * |key| (key_len bytes, from r->key) is hashed with |h| (may be NULL, see
 * ws_handshake_accept()). |protocol| (NULL for none) must be a token, and
 * should be one the client offered; |extensions| (NULL for none) must
 * follow the Section 9.1 grammar. Nothing is NUL-terminated.
 *
 * Returns the number of bytes written or one of the following negative
 * codes:
 *   WS_ENOBUFS  |cap| is too small (the content of |out| is unspecified)
 *   WS_EINVAL   NULL |out| or |key|, key_len > 256, a bad |protocol| or
 *               |extensions|
 *   WS_ECRYPTO  OpenSSL failed
 */
ws_ssize ws_handshake_build_101(char *out, size_t cap, struct ws_sha1 *h,
                                const char *key, size_t key_len,
                                const char *protocol,
                                const char *extensions);

/*
 * Writes an error response that closes the connection:
 *
 *   HTTP/1.1 <status> <reason phrase>\r\n
 *   [Allow: GET\r\n]                                         (405)
 *   [Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n]    (426)
 *   Content-Type: text/plain\r\n
 *   Content-Length: <n>\r\n
 *   Connection: close\r\n             ("Upgrade, close" for 426)
 *   \r\n
 *   <body>\n
 *
 * |status| is 400, 405, 426 or 431; |body| (NUL-terminated, NULL for the
 * reason phrase) is followed by one LF.
 *
 * Returns the number of bytes written or one of the following negative
 * codes:
 *   WS_ENOBUFS  |cap| is too small
 *   WS_EINVAL   NULL |out| or an unsupported |status|
 */
ws_ssize ws_handshake_build_error(char *out, size_t cap, unsigned status,
                                  const char *body);

/* ws_handshake_build_error() with f->status and f->reason as the body.
 * Returns WS_EINVAL for a NULL |f| and for client-side failures, whose
 * status is 0: a client has nothing to answer. */
ws_ssize ws_handshake_build_refusal(char *out, size_t cap,
                                    const struct ws_handshake_failure *f);

/* --------------------------------------------------------------- client */

/* What the client asks for. Strings are NUL-terminated. They are read by
 * ws_handshake_client_request() and, through the pointer it keeps in the
 * struct ws_handshake_client, by ws_handshake_client_check(): keep this
 * struct and its strings unchanged until the check. */
struct ws_client_options {
  const char *host;     /* required: DNS name, IPv4, or IPv6 (brackets are
                           added when missing) */
  uint16_t port;        /* 0: the default port */
  uint8_t secure;       /* 1: wss (default port 443); 0: ws (80) */
  const char *path;     /* resource name starting with '/'; NULL for "/" */
  const char *origin;   /* NULL: no Origin header */
  const char *const *protocols; /* subprotocol tokens, unique, in order of
                                   preference */
  size_t num_protocols;
  const char *const *extensions; /* one offer each, Section 9.1 syntax,
                                    for example "permessage-deflate;
                                    client_max_window_bits" */
  size_t num_extensions;
  const char *const *headers;   /* extra "Name: value" lines, no CRLF */
  size_t num_headers;
};

/* Client handshake state, caller-allocated. */
struct ws_handshake_client {
  const struct ws_client_options *opt; /* kept by the request call; must
                                          stay valid until the check */
  char key[WS_KEY_LEN + 1];            /* public: the key sent */
  char accept[WS_ACCEPT_LEN + 1];      /* public: the accept expected */
};

/*
 * Writes the opening handshake request for |opt| to out[0..cap):
 *
 *   GET <path> HTTP/1.1\r\n
 *   Host: <host>[:<port> unless default]\r\n
 *   Upgrade: websocket\r\n
 *   Connection: Upgrade\r\n
 *   Sec-WebSocket-Key: <base64 of 16 bytes from |rnd|>\r\n
 *   Sec-WebSocket-Version: 13\r\n
 *   [Origin: <origin>\r\n]
 *   [Sec-WebSocket-Protocol: <p1>, <p2>...\r\n]
 *   [Sec-WebSocket-Extensions: <e1>, <e2>...\r\n]
 *   [<extra header>\r\n]...
 *   \r\n
 *
 * A fresh key is drawn from |rnd| (called once, for 16 bytes, with
 * |rnd_user|) on every call (RFC 6455 Section 4.1: randomly selected for
 * each connection); c->key and c->accept (computed with |h|, which may be
 * NULL) are set and |opt| is remembered in |c| for
 * ws_handshake_client_check(). All strings are checked so no CR, LF or
 * other control byte reaches the wire.
 *
 * Returns the number of bytes written or one of the following negative
 * codes:
 *   WS_ENOBUFS  |cap| is too small
 *   WS_EINVAL   a NULL argument, no host, a path not starting with '/' or
 *               not VCHAR, an invalid or repeated subprotocol, an offer
 *               not in Section 9.1 syntax, an extra header not
 *               "token: value", a control byte anywhere, or more than
 *               WS_HS_MAX_PROTOCOLS / WS_HS_MAX_EXTENSIONS
 *   WS_ERANDOM  |rnd| failed
 *   WS_ECRYPTO  OpenSSL failed
 */
ws_ssize ws_handshake_client_request(struct ws_handshake_client *c,
                                     const struct ws_client_options *opt,
                                     ws_random_fn rnd, void *rnd_user,
                                     struct ws_sha1 *h, char *out,
                                     size_t cap);

/* A validated 101 response. Spans point into the parsed buffer. */
struct ws_handshake_response {
  uint16_t status;
  uint8_t has_protocol;
  struct ws_http_span protocol;  /* the subprotocol the server chose */
  struct ws_ext_list extensions; /* the extensions the server accepted */
  uint32_t head_len;  /* bytes of the response head; bytes after it in the
                         buffer are frames, not consumed here */
};

/*
 * Validates the response parsed by |p| against RFC 6455 Section 4.1 for
 * the request made with |c|. Checks, in this order: status 101 (else
 * WS_HS_STATUS_NOT_101 with f->peer_status), Upgrade present and every
 * Upgrade value "websocket" (ASCII case-insensitive), Connection listing
 * "Upgrade", Sec-WebSocket-Accept exactly once and equal to c->accept,
 * Sec-WebSocket-Extensions at most once, well formed, naming only offered
 * extensions (exact match of the names), Sec-WebSocket-Protocol at most
 * once, one token, one of those offered (exact match).
 *
 * Returns 0 on success or one of the following negative codes:
 *   WS_EHANDSHAKE  the client must fail the connection; |f| says why
 *                  (f->status is 0)
 *   WS_EAGAIN      |p| has not completed the head; a parse error is
 *                  reported as WS_EHANDSHAKE with WS_HS_HTTP_SYNTAX etc.
 *   WS_EINVAL      a NULL argument, |p| parses requests, or |c| has no
 *                  request yet
 */
int ws_handshake_client_check(const struct ws_handshake_client *c,
                              const struct ws_http_parser *p,
                              struct ws_handshake_response *r,
                              struct ws_handshake_failure *f);

#ifdef __cplusplus
}
#endif

#endif /* WS_HANDSHAKE_H */
