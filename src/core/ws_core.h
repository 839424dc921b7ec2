/*
 * ws_core.h: types shared by every layer of wsspec.
 *
 * This header holds the error model, the allocator hook, the injected
 * randomness source and the protocol-violation record. It has no I/O and
 * no global state; every other module includes it.
 *
 * Naming: public names are ws_ / WS_, internal cross-file names ws__,
 * file-static helpers are short verbs.
 */
#ifndef WS_CORE_H
#define WS_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WS_VERSION_STRING "0.1.0"

/*
 * Portable signed size: byte counts on success, a negative enum ws_error on
 * failure. Never ssize_t in a public header.
 */
typedef ptrdiff_t ws_ssize;

/*
 * Error codes, negative, grouped by hundreds (like wslay and nghttp2).
 *
 *   -1xx  flow control: nothing wrong, try again later
 *   -2xx  the peer broke the protocol (details in a struct ws_violation)
 *   -3xx  the caller broke the API contract
 *   -4xx  a user callback failed
 *   -9xx  fatal: the handle must not be used again except to free it
 *
 * ws_strerror() names every code; ws_is_fatal() tells the last group apart.
 */
enum ws_error {
  WS_OK = 0,

  WS_EAGAIN = -100,     /* no progress possible until more input arrives */
  WS_ENOBUFS = -101,    /* the caller's output buffer is too small */

  WS_EPROTO = -200,     /* the peer violated RFC 6455; see ws_violation */
  WS_ECLOSED = -201,    /* the session is closed; input is ignored */
  WS_EHANDSHAKE = -202, /* the opening handshake was refused */

  WS_EINVAL = -300,     /* an argument is out of its documented range */
  WS_ESTATE = -301,     /* the call is not allowed in the current state */
  WS_ETOOBIG = -302,    /* a payload exceeds what the protocol allows */

  WS_ECALLBACK = -400,  /* a user callback returned non-zero */
  WS_ERANDOM = -401,    /* the injected randomness source failed */

  WS_EFATAL = -900,     /* threshold: every code <= this one is fatal */
  WS_ENOMEM = -901,     /* the allocator returned NULL */
  WS_ECRYPTO = -902     /* OpenSSL failed (SHA-1 or base64) */
};

/* Returns a static, human-readable name for an enum ws_error value. */
const char *ws_strerror(int code);

/* Returns 1 when |code| is fatal (<= WS_EFATAL), 0 otherwise. */
int ws_is_fatal(int code);

/*
 * Allocator hook, threaded through every module that allocates
 * (nghttp2_mem). Each function receives |user| last. Passing NULL wherever
 * a `const struct ws_mem *` is accepted selects the C library allocator.
 * realloc(NULL, n) must behave like malloc(n); free(NULL) must be a no-op.
 */
struct ws_mem {
  void *user;
  void *(*malloc)(size_t size, void *user);
  void (*free)(void *ptr, void *user);
  void *(*realloc)(void *ptr, size_t size, void *user);
};

/* Returns the C library allocator. The pointer is to static storage. */
const struct ws_mem *ws_mem_default(void);

/*
 * Injected randomness (mask keys, handshake nonces). Fills |buf| with |len|
 * random bytes and returns 0, or returns non-zero on failure. Production
 * code passes ws_random_default (OpenSSL RAND_bytes); tests and fuzzers
 * pass a deterministic generator.
 */
typedef int (*ws_random_fn)(uint8_t *buf, size_t len, void *user);

/* OpenSSL RAND_bytes behind the ws_random_fn signature; |user| is unused. */
int ws_random_default(uint8_t *buf, size_t len, void *user);

/* RFC 6455 Section 7.4.1 close codes used by the implementation. */
enum ws_close_code {
  WS_CLOSE_NORMAL = 1000,
  WS_CLOSE_GOING_AWAY = 1001,
  WS_CLOSE_PROTOCOL_ERROR = 1002,
  WS_CLOSE_UNSUPPORTED_DATA = 1003,
  WS_CLOSE_NO_STATUS = 1005,       /* never on the wire */
  WS_CLOSE_ABNORMAL = 1006,        /* never on the wire */
  WS_CLOSE_INVALID_PAYLOAD = 1007,
  WS_CLOSE_POLICY_VIOLATION = 1008,
  WS_CLOSE_MESSAGE_TOO_BIG = 1009,
  WS_CLOSE_MANDATORY_EXTENSION = 1010,
  WS_CLOSE_INTERNAL_ERROR = 1011,
  WS_CLOSE_TLS_HANDSHAKE = 1015    /* never on the wire */
};

/*
 * Every protocol rule the implementation enforces, one value each, so tests,
 * fuzz oracles and the conformance runner can name the exact rule broken.
 * ws_violation_describe() gives its close code, RFC section and reason.
 */
enum ws_violation_id {
  WS_V_NONE = 0,
  /* Frame codec, RFC 6455 Section 5.2 / 5.3 / 5.5. */
  WS_V_RSV_BITS,              /* RSV bit set without a negotiated extension */
  WS_V_RESERVED_OPCODE,       /* opcode 3-7 or 11-15 */
  WS_V_CONTROL_TOO_LONG,      /* control frame payload > 125 */
  WS_V_CONTROL_FRAGMENTED,    /* control frame with FIN = 0 */
  WS_V_UNMASKED_CLIENT_FRAME, /* server received a frame without MASK */
  WS_V_MASKED_SERVER_FRAME,   /* client received a frame with MASK */
  WS_V_LENGTH_MSB,            /* 64-bit length with the top bit set */
  WS_V_LENGTH_NOT_MINIMAL,    /* length not in its shortest form */
  WS_V_FRAME_TOO_BIG,         /* frame length over the configured limit */
  /* Session policy, RFC 6455 Section 5.4 / 5.5.1 / 5.6 / 7.4 / 8.1. */
  WS_V_CONTINUATION_WITHOUT_START, /* continuation with no open message */
  WS_V_DATA_DURING_FRAGMENTED,     /* text/binary while a message is open */
  WS_V_INVALID_UTF8,               /* text payload is not UTF-8 */
  WS_V_MESSAGE_TOO_BIG,            /* message over the configured limit */
  WS_V_CLOSE_PAYLOAD_1_BYTE,       /* close payload of exactly one byte */
  WS_V_CLOSE_CODE_INVALID,         /* close code not allowed on the wire */
  WS_V_CLOSE_REASON_UTF8,          /* close reason is not UTF-8 */
  WS_V_DATA_AFTER_CLOSE,           /* any frame after the peer's close */
  WS_V__COUNT
};

/*
 * A protocol violation, as delivered to the caller. |section| and |reason|
 * point to static strings. |offset| is the byte offset, counted from the
 * first byte fed to the decoder or session (after the handshake), of the
 * byte that made the input invalid.
 */
struct ws_violation {
  enum ws_violation_id id;
  uint16_t close_code;  /* the close code to fail the connection with */
  const char *section;  /* RFC 6455 section, for example "5.5" */
  const char *reason;   /* short English reason, also the close reason */
  uint64_t offset;      /* stream offset of the offending byte */
};

/*
 * Fills |v| with the close code, section and reason of |id| and the given
 * offset. Unknown ids yield 1002 / "5" / "protocol error".
 */
void ws_violation_set(struct ws_violation *v, enum ws_violation_id id,
                      uint64_t offset);

/* Returns the static name of |id|, for example "RSV_BITS". */
const char *ws_violation_name(enum ws_violation_id id);

/* Connection roles. A server receives masked frames, a client sends them. */
enum ws_role { WS_ROLE_SERVER = 0, WS_ROLE_CLIENT = 1 };

#ifdef __cplusplus
}
#endif

#endif /* WS_CORE_H */
