/*
 * ws_http.h: an incremental, zero-copy HTTP/1.1 message-head parser
 * (RFC 7230 Section 3), just enough for the WebSocket opening handshake.
 *
 * The parser reads the start line and the header fields of one request or
 * one response and stops after the empty line that ends the head. It never
 * reads a message body: bytes after the head (for a WebSocket client, the
 * first frames) are left to the caller.
 *
 * Use:
 *
 *   struct ws_http_header hdrs[WS_HTTP_DEFAULT_MAX_HEADERS];
 *   struct ws_http_parser p;
 *   ws_http_parser_init(&p, WS_HTTP_REQUEST, hdrs, 64, 0);
 *   for (;;) {
 *     append received bytes to buf (buf may be moved or realloc'd);
 *     r = ws_http_parse(&p, buf, buflen);
 *     if (r != WS_HTTP_INCOMPLETE) break;
 *   }
 *   on WS_HTTP_COMPLETE: p.head_len bytes form the head; the rest of buf
 *   is not part of it.
 *
 * Incremental: the caller keeps every byte received so far in one buffer
 * and calls ws_http_parse() again with the longer buffer. The parser keeps
 * offsets, never pointers, between calls, so the buffer may move; it
 * resumes at the first byte it has not examined and never reads a byte it
 * examined in an earlier call (a head fed one byte at a time costs O(n),
 * not O(n^2): see tungstenite-rs CVE-2023-43669).
 *
 * Strict syntax (a conformance tool must not guess):
 *   - lines end with CRLF; a bare LF is an error (WS_HTTP_ERR_BARE_LF);
 *   - no empty lines before the start line (RFC 7230 Section 3.5 allows a
 *     recipient to skip them; this parser rejects them);
 *   - method and field names are tokens (RFC 7230 Section 3.2.6);
 *   - exactly one SP between the parts of the start line;
 *   - HTTP-version is "HTTP/1." DIGIT (case-sensitive);
 *   - no whitespace between a field name and its colon (RFC 7230 Section
 *     3.2.4: a server MUST reject such a request with 400);
 *   - obs-fold (a line starting with SP or HTAB) is rejected, as is
 *     whitespace between the start line and the first field;
 *   - field values and the reason phrase may hold HTAB, SP, VCHAR and
 *     obs-text (0x80-0xff); any other control byte, DEL included, is an
 *     error;
 *   - the request-target may hold VCHAR only (its form is checked by
 *     ws_handshake_server_check()).
 *
 * Zero-copy: results are struct ws_http_span slices of the caller's
 * buffer. Each span carries its offset, always valid, and a pointer, valid
 * once the head is complete and only while the buffer given to the
 * completing call stays where it is.
 *
 * Nothing here allocates, performs I/O or keeps global state.
 */
#ifndef WS_HTTP_H
#define WS_HTTP_H

#include "../core/ws_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default and largest accepted head size (start line, fields, final CRLF). */
#define WS_HTTP_DEFAULT_MAX_HEAD 8192u
#define WS_HTTP_MAX_HEAD_LIMIT (16u * 1024u * 1024u)
/* Default header-field count; size the caller's array with it. */
#define WS_HTTP_DEFAULT_MAX_HEADERS 64u

/* What the parser expects: a request line or a status line. */
enum ws_http_kind { WS_HTTP_REQUEST = 0, WS_HTTP_RESPONSE = 1 };

/* Results of ws_http_parse(). */
enum ws_http_result {
  WS_HTTP_COMPLETE = 1,    /* the head is complete: p->head_len bytes */
  WS_HTTP_INCOMPLETE = 0,  /* every byte so far is valid; need more */
  WS_HTTP_EMALFORMED = -1, /* syntax error: p->error, p->error_offset */
  WS_HTTP_ETOO_LARGE = -2, /* no complete head within p->max_head bytes */
  WS_HTTP_ETOO_MANY_HEADERS = -3, /* more fields than the caller's array */
  WS_HTTP_EINVAL = -4      /* NULL argument, or the buffer got shorter */
};

/* The rule a malformed head broke; ws_http_error_name() and
 * ws_http_error_section() describe each one. */
enum ws_http_error {
  WS_HTTP_ERR_NONE = 0,
  WS_HTTP_ERR_METHOD,       /* method empty, or a byte that is not tchar */
  WS_HTTP_ERR_TARGET,       /* request-target empty or not VCHAR */
  WS_HTTP_ERR_VERSION,      /* not "HTTP/1." DIGIT, or junk after it */
  WS_HTTP_ERR_STATUS,       /* status code not 3 digits 100-999 + SP */
  WS_HTTP_ERR_REASON,       /* control byte in the reason phrase */
  WS_HTTP_ERR_BARE_LF,      /* LF not preceded by CR */
  WS_HTTP_ERR_LF_EXPECTED,  /* CR not followed by LF */
  WS_HTTP_ERR_HEADER_NAME,  /* field name empty, not a token, no colon */
  WS_HTTP_ERR_SPACE_BEFORE_COLON, /* whitespace after a field name */
  WS_HTTP_ERR_OBS_FOLD,     /* a field line starting with SP or HTAB */
  WS_HTTP_ERR_VALUE_CTL,    /* control byte or DEL in a field value */
  WS_HTTP_ERR_HEAD_TOO_LARGE,   /* with WS_HTTP_ETOO_LARGE */
  WS_HTTP_ERR_TOO_MANY_HEADERS, /* with WS_HTTP_ETOO_MANY_HEADERS */
  WS_HTTP_ERR__COUNT
};

/* A slice of the caller's buffer. |ptr| is NULL until the head is
 * complete; |off| and |len| are valid as soon as the item is parsed. */
struct ws_http_span {
  const char *ptr;
  uint32_t off;  /* offset from the start of the buffer */
  uint32_t len;
};

/* One header field. |value| has leading and trailing OWS removed. */
struct ws_http_header {
  struct ws_http_span name;
  struct ws_http_span value;
};

/*
 * Parser state, caller-allocated. Fields marked public are read-only
 * results; the others are private.
 */
struct ws_http_parser {
  /* Public, read-only. */
  enum ws_http_kind kind;
  int result;                  /* the last enum ws_http_result returned */
  struct ws_http_span method;  /* requests */
  struct ws_http_span target;  /* requests: the request-target */
  struct ws_http_span reason;  /* responses: the reason phrase */
  uint16_t status;             /* responses: the status code */
  uint8_t http_minor;          /* x in HTTP/1.x */
  struct ws_http_header *headers; /* the caller's array */
  uint32_t num_headers;        /* fields parsed so far */
  uint32_t max_headers;        /* capacity of |headers| */
  uint32_t max_head;           /* head size limit in bytes */
  uint32_t head_len;           /* after WS_HTTP_COMPLETE: bytes of head */
  const char *buf;             /* after WS_HTTP_COMPLETE: the buffer */
  enum ws_http_error error;    /* after an error: the rule broken */
  uint32_t error_offset;       /* after an error: the offending byte */
  uint64_t examined;           /* bytes examined over all calls: the head
                                  length (or error offset) however the
                                  bytes arrived; tests check it */
  /* Private. */
  uint32_t pos;        /* next byte to examine */
  uint32_t mark;       /* start of the token being scanned */
  uint32_t value_end;  /* end of the value being scanned, without OWS */
  uint32_t call_start; /* first byte examined by the current call */
  uint8_t state;
  uint8_t sub;         /* index into a fixed-length part */
  uint8_t simd;        /* value scanner: 0 bytewise, 1 SSE2, 2 AVX2 */
};

/*
 * Prepares |p| to parse one head of |kind|. |headers| is the caller's
 * array of |max_headers| entries (use WS_HTTP_DEFAULT_MAX_HEADERS unless
 * there is a reason not to); it must stay valid while |p| is used, and the
 * parser writes the fields into it in order of arrival. |max_head| limits
 * the head size in bytes; 0 selects WS_HTTP_DEFAULT_MAX_HEAD. To parse
 * another head, call ws_http_parser_init() again.
 *
 * The value scanner is chosen here: AVX2 when this CPU has it, else SSE2
 * on x86, else a bytewise loop.
 *
 * Returns 0 on success or one of the following negative codes:
 *   WS_EINVAL  |p| is NULL, |kind| is unknown, |headers| is NULL while
 *              |max_headers| > 0, or |max_head| > WS_HTTP_MAX_HEAD_LIMIT.
 */
int ws_http_parser_init(struct ws_http_parser *p, enum ws_http_kind kind,
                        struct ws_http_header *headers, size_t max_headers,
                        size_t max_head);

/*
 * Parses the head in buf[0..len). |buf| holds every byte received so far,
 * starting with the first byte of the message: each call passes the same
 * bytes as the previous call, possibly followed by more, possibly at
 * another address. The parser reads nothing outside buf[p->pos..len)
 * (vector loads included) and stops after the head: bytes after it are
 * not examined (the last vector load of the head may cover some, without
 * effect). p->examined grows by the bytes examined in this call, so after
 * any sequence of calls it equals the offset reached. The parser does not
 * keep |buf| except on completion (p->buf).
 *
 * Limits are enforced as soon as they are certain: WS_HTTP_ETOO_LARGE is
 * returned once p->max_head bytes have been examined without the end of the
 * head (error_offset = max_head, the first byte over the limit, which may
 * not have arrived), WS_HTTP_ETOO_MANY_HEADERS at the first byte of the
 * field line that does not fit (error_offset = that byte).
 *
 * After WS_HTTP_COMPLETE or an error, further calls return the same result
 * without reading |buf|.
 *
 * Returns:
 *   WS_HTTP_COMPLETE    the head is complete and valid: p->head_len, the
 *                       start line fields and p->headers[0..num_headers)
 *                       are set, every span's |ptr| points into |buf|.
 *   WS_HTTP_INCOMPLETE  all bytes are valid so far; call again with more.
 *   WS_HTTP_EMALFORMED  p->error names the rule, p->error_offset is the
 *                       offset of the first offending byte.
 *   WS_HTTP_ETOO_LARGE  see above (p->error = WS_HTTP_ERR_HEAD_TOO_LARGE).
 *   WS_HTTP_ETOO_MANY_HEADERS  see above
 *                       (p->error = WS_HTTP_ERR_TOO_MANY_HEADERS).
 *   WS_HTTP_EINVAL      |p| is NULL, |buf| is NULL with len > 0, or |len|
 *                       is smaller than in the previous call. The parser
 *                       state is unchanged.
 */
int ws_http_parse(struct ws_http_parser *p, const char *buf, size_t len);

/*
 * Returns the index of the first header at index >= |from| whose name
 * matches |name| (|name_len| bytes) ignoring ASCII case, or -1. Usable
 * after WS_HTTP_COMPLETE.
 */
long ws_http_find(const struct ws_http_parser *p, const char *name,
                  size_t name_len, size_t from);

/* Returns 1 when s[0..len) is a non-empty token (RFC 7230 Section 3.2.6),
 * else 0. */
int ws_http_is_token(const char *s, size_t len);

/* Static name of |e|, for example "BARE_LF"; "UNKNOWN" when out of range. */
const char *ws_http_error_name(enum ws_http_error e);
/* The RFC that states the rule of |e| (7230, or 6585 for the limits). */
unsigned ws_http_error_rfc(enum ws_http_error e);
/* Static section of that RFC, for example "3.2.4". */
const char *ws_http_error_section(enum ws_http_error e);
/* Static English reason of |e|. */
const char *ws_http_error_reason(enum ws_http_error e);

/* Internal (ws__), shared with ws_handshake.c and tests. */

/* Character classes, indexed by byte. */
#define WS__HTTP_TCHAR 0x01u  /* RFC 7230 tchar */
#define WS__HTTP_VALUE 0x02u  /* field-vchar, SP, HTAB (obs-text too) */
#define WS__HTTP_VCHAR 0x04u  /* 0x21-0x7e */
#define WS__HTTP_URI 0x08u    /* RFC 3986 pchar minus pct, plus / and ? */
#define WS__HTTP_B64 0x10u    /* RFC 4648 base64 alphabet, no padding */
extern const uint8_t ws__http_class[256];

/* Forces the value scanner (0 bytewise, 1 SSE2, 2 AVX2) so tests can
 * cover every path; a level this CPU or build lacks is lowered. */
void ws__http_force_scanner(struct ws_http_parser *p, int level);

#ifdef __cplusplus
}
#endif

#endif /* WS_HTTP_H */
