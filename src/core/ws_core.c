/*
 * ws_core.c: error names, the default allocator, OpenSSL randomness and the
 * table of protocol rules.
 */
#include "ws_core.h"

#include <stdlib.h>

#include <openssl/rand.h>

const char *ws_strerror(int code) {
  switch (code) {
  case WS_OK: return "success";
  case WS_EAGAIN: return "more input needed";
  case WS_ENOBUFS: return "output buffer too small";
  case WS_EPROTO: return "protocol violation by the peer";
  case WS_ECLOSED: return "session closed";
  case WS_EHANDSHAKE: return "opening handshake refused";
  case WS_EINVAL: return "invalid argument";
  case WS_ESTATE: return "call not allowed in this state";
  case WS_ETOOBIG: return "payload too large";
  case WS_ECALLBACK: return "user callback failed";
  case WS_ERANDOM: return "randomness source failed";
  case WS_EFATAL: return "fatal error";
  case WS_ENOMEM: return "out of memory";
  case WS_ECRYPTO: return "OpenSSL failure";
  default: return "unknown error";
  }
}

int ws_is_fatal(int code) { return code <= WS_EFATAL; }

static void *std_malloc(size_t size, void *user) {
  (void)user;
  return malloc(size);
}

static void std_free(void *ptr, void *user) {
  (void)user;
  free(ptr);
}

static void *std_realloc(void *ptr, size_t size, void *user) {
  (void)user;
  return realloc(ptr, size);
}

static const struct ws_mem default_mem = {NULL, std_malloc, std_free,
                                          std_realloc};

const struct ws_mem *ws_mem_default(void) { return &default_mem; }

int ws_random_default(uint8_t *buf, size_t len, void *user) {
  (void)user;
  if (len > (size_t)0x7fffffff)
    return -1;
  return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

struct rule {
  const char *name;
  uint16_t close_code;
  const char *section;
  const char *reason;
};

/* Indexed by enum ws_violation_id; the reason doubles as the close reason,
 * so each stays well under the 123 bytes a close frame allows. */
static const struct rule rules[WS_V__COUNT] = {
    [WS_V_NONE] = {"NONE", 1000, "", "no violation"},
    [WS_V_RSV_BITS] = {"RSV_BITS", 1002, "5.2",
                       "RSV bit set without a negotiated extension"},
    [WS_V_RESERVED_OPCODE] = {"RESERVED_OPCODE", 1002, "5.2",
                              "reserved opcode"},
    [WS_V_CONTROL_TOO_LONG] = {"CONTROL_TOO_LONG", 1002, "5.5",
                               "control frame payload over 125 bytes"},
    [WS_V_CONTROL_FRAGMENTED] = {"CONTROL_FRAGMENTED", 1002, "5.5",
                                 "fragmented control frame"},
    [WS_V_UNMASKED_CLIENT_FRAME] = {"UNMASKED_CLIENT_FRAME", 1002, "5.1",
                                    "client frame not masked"},
    [WS_V_MASKED_SERVER_FRAME] = {"MASKED_SERVER_FRAME", 1002, "5.1",
                                  "server frame masked"},
    [WS_V_LENGTH_MSB] = {"LENGTH_MSB", 1002, "5.2",
                         "64-bit payload length with the top bit set"},
    [WS_V_LENGTH_NOT_MINIMAL] = {"LENGTH_NOT_MINIMAL", 1002, "5.2",
                                 "payload length not minimally encoded"},
    [WS_V_FRAME_TOO_BIG] = {"FRAME_TOO_BIG", 1009, "7.4.1",
                            "frame larger than the configured limit"},
    [WS_V_CONTINUATION_WITHOUT_START] = {"CONTINUATION_WITHOUT_START", 1002,
                                         "5.4",
                                         "continuation frame without a "
                                         "message to continue"},
    [WS_V_DATA_DURING_FRAGMENTED] = {"DATA_DURING_FRAGMENTED", 1002, "5.4",
                                     "new data frame inside a fragmented "
                                     "message"},
    [WS_V_INVALID_UTF8] = {"INVALID_UTF8", 1007, "8.1",
                           "text message is not valid UTF-8"},
    [WS_V_MESSAGE_TOO_BIG] = {"MESSAGE_TOO_BIG", 1009, "7.4.1",
                              "message larger than the configured limit"},
    [WS_V_CLOSE_PAYLOAD_1_BYTE] = {"CLOSE_PAYLOAD_1_BYTE", 1002, "5.5.1",
                                   "close payload of one byte"},
    [WS_V_CLOSE_CODE_INVALID] = {"CLOSE_CODE_INVALID", 1002, "7.4",
                                 "invalid close code"},
    [WS_V_CLOSE_REASON_UTF8] = {"CLOSE_REASON_UTF8", 1007, "5.5.1",
                                "close reason is not valid UTF-8"},
    [WS_V_DATA_AFTER_CLOSE] = {"DATA_AFTER_CLOSE", 1002, "5.5.1",
                               "frame received after the close frame"},
};

void ws_violation_set(struct ws_violation *v, enum ws_violation_id id,
                      uint64_t offset) {
  v->id = id;
  v->offset = offset;
  if ((unsigned)id >= WS_V__COUNT || rules[id].name == NULL) {
    v->close_code = WS_CLOSE_PROTOCOL_ERROR;
    v->section = "5";
    v->reason = "protocol error";
    return;
  }
  v->close_code = rules[id].close_code;
  v->section = rules[id].section;
  v->reason = rules[id].reason;
}

const char *ws_violation_name(enum ws_violation_id id) {
  if ((unsigned)id >= WS_V__COUNT || rules[id].name == NULL)
    return "UNKNOWN";
  return rules[id].name;
}
