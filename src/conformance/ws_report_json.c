/*
 * ws_report_json.c: Autobahn's JSON reports (index.json, the per-case
 * files), the comparison with a golden index.json, and the helpers the
 * other report writers share (names, payload rendering, the pass rule,
 * files written through a temporary name).
 *
 * The layouts follow Autobahn|Testsuite's fuzzing.py (createMasterReport
 * JSON, createAgentCaseReportJSON, asciiLogData, binLogData,
 * cleanForFilename) as described in docs/conformance.md b.1
 * and b.2: json.dumps(sort_keys=True, indent=3, separators=(',', ': ')),
 * which Jansson reproduces with JSON_INDENT(3) | JSON_SORT_KEYS.
 */
#include "conformance/ws_report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "ws/ws_utf8.h"

/* Whole seconds of timer delays are integers; the rest (0.5 s) must not
 * print as 0.50000000000000000. */
#define JSON_FLAGS (JSON_INDENT(3) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15))

/* Autobahn shows at most this many payload octets ... */
#define PREVIEW 64u
/* ... and appends " ..." to anything longer than PREVIEW - len(" ..."). */
#define ELLIPSIS_OVER 60u

/* ------------------------------------------------------ shared helpers */

void *ws__report_alloc(size_t size) {
  json_malloc_t m;
  json_free_t f;
  json_get_alloc_funcs(&m, &f);
  return m(size);
}

void ws__report_free(void *p) {
  json_malloc_t m;
  json_free_t f;
  if (p == NULL) return;
  json_get_alloc_funcs(&m, &f);
  f(p);
}

int ws__report_fail(char *err, size_t errlen, int code, const char *fmt,
                    ...) {
  if (err != NULL && errlen > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* snprintf-like output into a caller's buffer. */
struct sbuf {
  char *buf;
  size_t size, len;
};

static void put(struct sbuf *s, const void *p, size_t n) {
  if (s->len + 1 < s->size) {
    size_t room = s->size - 1 - s->len;
    memcpy(s->buf + s->len, p, n < room ? n : room);
  }
  s->len += n;
}

static void putc_(struct sbuf *s, char c) { put(s, &c, 1); }

static size_t finish(struct sbuf *s) {
  if (s->size > 0) s->buf[s->len < s->size ? s->len : s->size - 1] = '\0';
  return s->len;
}

size_t ws__report_utf8_char(const uint8_t *p, size_t n, int *valid) {
  size_t len;
  if (p[0] < 0x80) len = 1;
  else if (p[0] >= 0xC2 && p[0] <= 0xDF) len = 2;
  else if (p[0] >= 0xE0 && p[0] <= 0xEF) len = 3;
  else if (p[0] >= 0xF0 && p[0] <= 0xF4) len = 4;
  else len = 0;
  if (len == 0 || len > n ||
      (len > 1 && ws_utf8_validate(p, len, NULL) != WS_UTF8_VALID)) {
    *valid = 0;
    return 1;
  }
  *valid = 1;
  return len;
}

/* cleanForFilename: ''.join(c if c in "a..z0..9" else " " for c in
 * s.strip().lower()).strip().replace(' ', '_'). Spaces are emitted only
 * when a kept character follows, which trims both ends. */
static void put_slug(struct sbuf *s, const char *agent) {
  const uint8_t *p = (const uint8_t *)(agent != NULL ? agent : "");
  size_t n = strlen((const char *)p), pending = 0;
  int started = 0;
  for (size_t i = 0; i < n;) {
    uint8_t c = p[i];
    char keep = 0;
    size_t step = 1;
    if (c >= 'A' && c <= 'Z') keep = (char)(c - 'A' + 'a');
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) keep = (char)c;
    else if (c >= 0x80) {
      int valid;
      step = ws__report_utf8_char(p + i, n - i, &valid);
    }
    i += step;
    if (keep == 0) {
      pending += started;
      continue;
    }
    for (; pending > 0; pending--) putc_(s, '_');
    putc_(s, keep);
    started = 1;
  }
}

size_t ws_report_agent_slug(char *buf, size_t size, const char *agent) {
  struct sbuf s = {buf, size, 0};
  put_slug(&s, agent);
  return finish(&s);
}

size_t ws_report_case_file(char *buf, size_t size, const char *agent,
                           const char *id, const char *ext) {
  struct sbuf s = {buf, size, 0};
  put_slug(&s, agent);
  put(&s, "_case_", 6);
  for (const char *p = id != NULL ? id : ""; *p != '\0'; p++)
    putc_(&s, *p == '.' ? '_' : *p);
  putc_(&s, '.');
  put(&s, ext != NULL ? ext : "", ext != NULL ? strlen(ext) : 0);
  return finish(&s);
}

static void put_hex(struct sbuf *s, const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    putc_(s, digits[p[i] >> 4]);
    putc_(s, digits[p[i] & 15]);
  }
}

size_t ws__report_hex(char *buf, size_t size, const uint8_t *data, size_t n,
                      uint64_t len) {
  struct sbuf s = {buf, size, 0};
  put_hex(&s, data, n < PREVIEW ? n : PREVIEW);
  if (len > ELLIPSIS_OVER) put(&s, " ...", 4);
  return finish(&s);
}

size_t ws_report_payload_text(char *buf, size_t size, const uint8_t *data,
                              size_t n, uint64_t len) {
  /* asciiLogData: data[:64] + " ..." decoded strictly, else "0x" +
   * binLogData(data). The cut at 64 can split a character, which then
   * makes the whole preview hex, as in Autobahn. */
  struct sbuf s = {buf, size, 0};
  size_t m = n < PREVIEW ? n : PREVIEW;
  if (m == 0 || ws_utf8_validate(data, m, NULL) == WS_UTF8_VALID) {
    if (m > 0) put(&s, data, m);
  } else {
    put(&s, "0x", 2);
    put_hex(&s, data, m);
  }
  if (len > ELLIPSIS_OVER) put(&s, " ...", 4);
  return finish(&s);
}

int ws_result_passes(const struct ws_case_result *r, int strict) {
  if (r == NULL) return 0;
  int behavior = r->behavior == WS_VERDICT_OK ||
                 r->behavior == WS_VERDICT_NON_STRICT ||
                 r->behavior == WS_VERDICT_INFORMATIONAL ||
                 (!strict && r->behavior == WS_VERDICT_UNIMPLEMENTED);
  int close = r->behavior_close == WS_VERDICT_OK ||
              r->behavior_close == WS_VERDICT_INFORMATIONAL;
  return behavior && close;
}

void ws_report_count(const struct ws_report_agent *a, int strict,
                     struct ws_report_counts *out) {
  memset(out, 0, sizeof(*out));
  if (a == NULL) return;
  for (size_t i = 0; i < a->n; i++) {
    const struct ws_case_result *r = &a->results[i];
    unsigned b = r->behavior < 9 ? r->behavior : 0;
    unsigned c = r->behavior_close < 9 ? r->behavior_close : 0;
    out->total++;
    out->behavior[b]++;
    out->behavior_close[c]++;
    out->failed += !ws_result_passes(r, strict);
    out->errors += r->error[0] != '\0';
  }
}

const char *ws__report_verdict(unsigned v) {
  const char *s = v < 9 ? ws_verdict_name((enum ws_verdict)v) : NULL;
  return s != NULL ? s : "?";
}

const char *ws__report_category(const struct ws_case *c) {
  const char *t = ws_case_category_title(c->category);
  return t != NULL ? t : "Misc";
}

size_t ws__report_close_rule(char *buf, size_t size,
                             const struct ws_case *c) {
  struct sbuf s = {buf, size, 0};
  char tmp[64];
  if (c->flags & WS_CASE_F_INFORMATIONAL) {
    put(&s, "informational: any closing behaviour", 36);
    return finish(&s);
  }
  const char *who = c->close.closed_by_me
                        ? "the fuzzer closes first"
                        : "the server fails the connection first (Close or "
                          "TCP drop)";
  put(&s, who, strlen(who));
  put(&s, "; the server's close code ", 26);
  for (unsigned i = 0; i < c->close.n_codes && i < 3; i++) {
    int k = snprintf(tmp, sizeof(tmp), "%s%u", i == 0 ? "" : " or ",
                     (unsigned)c->close.codes[i]);
    put(&s, tmp, (size_t)k);
  }
  put(&s, " (or none)", 10);
  if (c->close.require_clean) put(&s, "; clean close required", 22);
  if (c->flags & WS_CASE_F_FATAL) {
    const char *f = "; the fuzzer having to close fails the case";
    put(&s, f, strlen(f));
  }
  return finish(&s);
}

void ws__report_iso_time(char buf[32], uint64_t unix_ms) {
  /* autobahn.util.utcnow(): "%Y-%m-%dT%H:%M:%S.%f"[:-3] + "Z". */
  time_t sec = (time_t)(unix_ms / 1000u);
  struct tm tm;
  if (gmtime_r(&sec, &tm) == NULL) memset(&tm, 0, sizeof(tm));
  size_t k = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + k, 32 - k, ".%03uZ", (unsigned)(unix_ms % 1000u));
}

int ws__report_check(const struct ws_report_agent *a, size_t n_agents,
                     char *err, size_t errlen) {
  char slug_i[256], slug_j[256];
  if (a == NULL && n_agents > 0)
    return ws__report_fail(err, errlen, WS_EINVAL, "no agent array");
  for (size_t i = 0; i < n_agents; i++) {
    if (a[i].agent == NULL)
      return ws__report_fail(err, errlen, WS_EINVAL, "agent %zu has no name",
                             i);
    if (a[i].n > 0 && a[i].results == NULL)
      return ws__report_fail(err, errlen, WS_EINVAL,
                             "agent \"%s\" has no result array", a[i].agent);
    /* 200 + "_case_" + a 15-character id + ".html" stays under NAME_MAX. */
    if (ws_report_agent_slug(slug_i, sizeof(slug_i), a[i].agent) > 200)
      return ws__report_fail(err, errlen, WS_EINVAL,
                             "agent name too long for a file name");
    for (size_t j = 0; j < i; j++) {
      ws_report_agent_slug(slug_j, sizeof(slug_j), a[j].agent);
      if (strcmp(slug_i, slug_j) == 0)
        return ws__report_fail(err, errlen, WS_EINVAL,
                               "agents \"%s\" and \"%s\" would share report "
                               "files (\"%s\")",
                               a[j].agent, a[i].agent, slug_i);
    }
    for (size_t k = 0; k < a[i].n; k++) {
      const struct ws_case *c = a[i].results[k].kase;
      if (c == NULL || c->id == NULL || strlen(c->id) >= WS_CASE_ID_MAX)
        return ws__report_fail(err, errlen, WS_EINVAL,
                               "agent \"%s\": result %zu has no case",
                               a[i].agent, k);
      for (size_t m = 0; m < k; m++)
        if (strcmp(a[i].results[m].kase->id, c->id) == 0)
          return ws__report_fail(err, errlen, WS_EINVAL,
                                 "agent \"%s\": case %s appears twice",
                                 a[i].agent, c->id);
    }
  }
  return 0;
}

int ws__report_mkdirs(const char *dir, char *err, size_t errlen) {
  char path[WS__REPORT_PATH_MAX];
  size_t n = strlen(dir);
  struct stat st;
  if (n == 0 || n >= sizeof(path))
    return ws__report_fail(err, errlen, WS_EINVAL, "bad report directory");
  memcpy(path, dir, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (path[i] != '/' && path[i] != '\0') continue;
    char c = path[i];
    path[i] = '\0';
    /* An existing parent may refuse mkdir with EACCES rather than EEXIST;
     * what counts is that it is a directory. */
    if (mkdir(path, 0777) != 0 && errno != EEXIST &&
        !(stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
      int e = errno;
      return ws__report_fail(err, errlen, -e, "mkdir %s: %s", path,
                             strerror(e));
    }
    path[i] = c;
  }
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return ws__report_fail(err, errlen, -ENOTDIR, "%s: not a directory",
                           dir);
  return 0;
}

int ws__report_parent_dirs(const char *path, char *err, size_t errlen) {
  char dir[WS__REPORT_PATH_MAX];
  const char *slash = strrchr(path, '/');
  if (slash == NULL || slash == path)
    return 0;
  if ((size_t)(slash - path) >= sizeof(dir))
    return ws__report_fail(err, errlen, WS_EINVAL, "path too long: %s",
                           path);
  memcpy(dir, path, (size_t)(slash - path));
  dir[slash - path] = '\0';
  return ws__report_mkdirs(dir, err, errlen);
}

int ws__report_open(struct ws__report_file *rf, const char *dir,
                    const char *name, char *err, size_t errlen) {
  int n = dir != NULL
              ? snprintf(rf->path, sizeof(rf->path), "%s/%s", dir, name)
              : snprintf(rf->path, sizeof(rf->path), "%s", name);
  rf->f = NULL;
  if (n < 0 || (size_t)n >= sizeof(rf->path))
    return ws__report_fail(err, errlen, WS_EINVAL, "path too long: %s",
                           name);
  memcpy(rf->tmp, rf->path, (size_t)n);
  memcpy(rf->tmp + n, ".tmp", 5);
  rf->f = fopen(rf->tmp, "w");
  if (rf->f == NULL) {
    int e = errno;
    return ws__report_fail(err, errlen, -e, "%s: %s", rf->tmp, strerror(e));
  }
  return 0;
}

int ws__report_close(struct ws__report_file *rf, int ok, char *err,
                     size_t errlen) {
  int e = 0;
  if (fflush(rf->f) != 0) e = errno != 0 ? errno : EIO;
  else if (ferror(rf->f)) e = EIO;
  if (fclose(rf->f) != 0 && e == 0) e = errno != 0 ? errno : EIO;
  rf->f = NULL;
  if (!ok) {
    remove(rf->tmp);
    return 0;
  }
  if (e == 0 && rename(rf->tmp, rf->path) != 0) e = errno;
  if (e != 0) {
    remove(rf->tmp);
    return ws__report_fail(err, errlen, -e, "%s: %s", rf->path, strerror(e));
  }
  return 0;
}

/* ------------------------------------------------------- JSON builders */

/* All builders return a new reference, or NULL when an allocation failed;
 * the add helpers steal |v| even on failure (Jansson's *_new calls do). */

static int add(json_t *o, const char *key, json_t *v) {
  return json_object_set_new(o, key, v) == 0 ? 0 : 1;
}

static int app(json_t *a, json_t *v) {
  return json_array_append_new(a, v) == 0 ? 0 : 1;
}

static json_t *done(json_t *j, int failed) {
  if (failed || j == NULL) {
    json_decref(j);
    return NULL;
  }
  return j;
}

static json_t *jint(uint64_t v) {
  return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* A JSON string of s[0..n). Jansson refuses invalid UTF-8, and text from
 * the peer may be anything: invalid octets become U+FFFD. */
static json_t *jtext(const char *s, size_t n) {
  const uint8_t *p = (const uint8_t *)s;
  if (n == 0 || ws_utf8_validate(p, n, NULL) == WS_UTF8_VALID)
    return json_stringn(n == 0 ? "" : s, n);
  char *t = ws__report_alloc(n * 3 + 1);
  if (t == NULL) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n;) {
    int valid;
    size_t l = ws__report_utf8_char(p + i, n - i, &valid);
    if (valid) {
      memcpy(t + k, p + i, l);
      k += l;
    } else {
      memcpy(t + k, "\xEF\xBF\xBD", 3);
      k += 3;
    }
    i += l;
  }
  json_t *j = json_stringn(t, k);
  ws__report_free(t);
  return j;
}

static json_t *jstr(const char *s) {
  return s != NULL ? jtext(s, strlen(s)) : json_null();
}

static json_t *jpayload(const uint8_t *data, size_t n, uint64_t len) {
  char buf[WS_REPORT_PAYLOAD_MAX];
  size_t k = ws_report_payload_text(buf, sizeof(buf), data, n, len);
  return json_stringn(buf, k);
}

static json_t *jtag(char tag) {
  return tag != 0 ? json_stringn(&tag, 1) : json_null();
}

/* Timer delays: Autobahn logs the seconds it passed to callLater. */
static json_t *jdelay(uint32_t ms) {
  return ms % 1000u == 0 ? json_integer(ms / 1000u)
                         : json_real((double)ms / 1000.0);
}

/* ["message", payload, isBinary] / ["pong", payload] / ["timeout", tag]
 * (cleanBin in fuzzing.py). */
static json_t *event_json(const struct ws_result_event *e) {
  json_t *a = json_array();
  int failed = 0;
  size_t n = e->n_preview < PREVIEW ? e->n_preview : PREVIEW;
  switch (e->kind) {
  case WS_EVENT_MESSAGE:
    failed |= app(a, json_string("message"));
    failed |= app(a, jpayload(e->preview, n, e->len));
    failed |= app(a, json_boolean(e->binary));
    break;
  case WS_EVENT_PONG:
    failed |= app(a, json_string("pong"));
    failed |= app(a, jpayload(e->preview, n, e->len));
    break;
  case WS_EVENT_TIMEOUT:
    failed |= app(a, json_string("timeout"));
    failed |= app(a, jtag(e->tag));
    break;
  default:
    failed |= app(a, json_string("unknown"));
    break;
  }
  return done(a, failed);
}

/* An expected event in the form of a recorded one, with its preview. */
static void case_event(const struct ws_case_event *ce,
                       struct ws_result_event *e) {
  memset(e, 0, sizeof(*e));
  e->kind = ce->kind;
  e->binary = ce->binary;
  e->tag = ce->tag;
  if (ce->kind == WS_EVENT_TIMEOUT) return;
  e->len = ws_payload_length(&ce->payload);
  size_t n = e->len < PREVIEW ? (size_t)e->len : PREVIEW;
  if (ws_payload_fill(&ce->payload, 0, e->preview, n) == 0)
    e->n_preview = (uint8_t)n;
}

/* {"OK": [...], "NON-STRICT": [...]}; {} for self-graded and
 * informational cases. */
static json_t *expected_json(const struct ws_case *c) {
  json_t *o = json_object();
  int failed = 0;
  if (c->grading != WS_GRADE_EVENTS || (c->flags & WS_CASE_F_INFORMATIONAL))
    return o;
  for (unsigned i = 0; i < c->n_outcomes && i < 2; i++) {
    const struct ws_case_outcome *oc = &c->outcomes[i];
    json_t *list = json_array();
    for (uint32_t k = 0; k < oc->n_events; k++) {
      struct ws_result_event e;
      case_event(&oc->events[k], &e);
      failed |= app(list, event_json(&e));
    }
    failed |= add(o, ws__report_verdict(oc->verdict), list);
  }
  return done(o, failed);
}

static json_t *expected_close_json(const struct ws_case *c) {
  json_t *o = json_object(), *codes = json_array();
  int failed = 0;
  for (unsigned i = 0; i < c->close.n_codes && i < 3; i++)
    failed |= app(codes, json_integer(c->close.codes[i]));
  failed |= add(o, "closeCode", codes);
  failed |= add(o, "closedByMe", json_boolean(c->close.closed_by_me));
  failed |= add(o, "requireClean", json_boolean(c->close.require_clean));
  if (c->flags & WS_CASE_F_FATAL)
    failed |= add(o, "closedByWrongEndpointIsFatal", json_true());
  return done(o, failed);
}

/* {chunk size as string: count}. */
static json_t *octets_json(const struct ws_octet_stat *s, size_t n) {
  json_t *o = json_object();
  int failed = 0;
  for (size_t i = 0; i < n && !failed; i++) {
    char key[24];
    snprintf(key, sizeof(key), "%llu", (unsigned long long)s[i].size);
    json_t *old = json_object_get(o, key);
    uint64_t prev = old != NULL ? (uint64_t)json_integer_value(old) : 0;
    failed |= add(o, key, jint(prev + s[i].count));
  }
  return done(o, failed);
}

/* {opcode as string: count}, opcodes never seen left out. */
static json_t *frames_json(const uint64_t counts[16]) {
  json_t *o = json_object();
  int failed = 0;
  for (unsigned op = 0; op < 16; op++) {
    char key[4];
    if (counts[op] == 0) continue;
    snprintf(key, sizeof(key), "%u", op);
    failed |= add(o, key, jint(counts[op]));
  }
  return done(o, failed);
}

static json_t *mask_json(const struct ws_wire_row *w) {
  static const char digits[] = "0123456789abcdef";
  char hex[9];
  if (!w->masked) return json_null();
  for (unsigned i = 0; i < 4; i++) {
    hex[2 * i] = digits[w->mask[i] >> 4];
    hex[2 * i + 1] = digits[w->mask[i] & 15];
  }
  hex[8] = '\0';
  return json_string(hex);
}

/* [len, rendering]: hex of the octets (RO, TO) or the payload text (RF,
 * TF). */
static json_t *len_data_json(const struct ws_wire_row *w, int octets) {
  char buf[WS_REPORT_PAYLOAD_MAX];
  size_t n = w->n_preview < PREVIEW ? w->n_preview : PREVIEW;
  size_t k = octets ? ws__report_hex(buf, sizeof(buf), w->preview, n, w->len)
                    : ws_report_payload_text(buf, sizeof(buf), w->preview, n,
                                             w->len);
  json_t *a = json_array();
  int failed = app(a, jint(w->len));
  failed |= app(a, json_stringn(buf, k));
  return done(a, failed);
}

static const char *const wire_names[] = {
    [WS_WIRE_RO] = "RO",   [WS_WIRE_TO] = "TO",  [WS_WIRE_RF] = "RF",
    [WS_WIRE_TF] = "TF",   [WS_WIRE_CT] = "CT",  [WS_WIRE_CTE] = "CTE",
    [WS_WIRE_KL] = "KL",   [WS_WIRE_KLE] = "KLE", [WS_WIRE_TI] = "TI",
    [WS_WIRE_TIE] = "TIE", [WS_WIRE_WLM] = "WLM",
};

/* One wire-log row as fuzzing.py's logRxOctets, logTxOctets, logRxFrame,
 * logTxFrame, continueLater, killAfter, closeAfter and enableWirelog
 * append it. Unknown kinds are left out (|*skip| set). */
static json_t *wire_json(const struct ws_wire_row *w, int *skip) {
  *skip = w->kind == 0 || w->kind > WS_WIRE_WLM;
  if (*skip) return NULL;
  json_t *a = json_array();
  int failed = app(a, json_string(wire_names[w->kind]));
  switch (w->kind) {
  case WS_WIRE_RO:
    failed |= app(a, len_data_json(w, 1));
    break;
  case WS_WIRE_TO:
    failed |= app(a, len_data_json(w, 1));
    failed |= app(a, json_boolean(w->sync));
    break;
  case WS_WIRE_RF:
    failed |= app(a, len_data_json(w, 0));
    failed |= app(a, json_integer(w->opcode));
    failed |= app(a, json_boolean(w->fin));
    failed |= app(a, json_integer(w->rsv));
    failed |= app(a, json_boolean(w->masked));
    failed |= app(a, mask_json(w));
    break;
  case WS_WIRE_TF:
    failed |= app(a, len_data_json(w, 0));
    failed |= app(a, json_integer(w->opcode));
    failed |= app(a, json_boolean(w->fin));
    failed |= app(a, json_integer(w->rsv));
    failed |= app(a, mask_json(w));
    failed |= app(a, json_null()); /* repeatLength: not recorded */
    failed |= app(a, w->chop != 0 ? json_integer(w->chop) : json_null());
    failed |= app(a, json_boolean(w->sync));
    break;
  case WS_WIRE_CT:
    failed |= app(a, jdelay(w->ms));
    failed |= app(a, jtag(w->tag));
    break;
  case WS_WIRE_CTE:
    failed |= app(a, jtag(w->tag));
    break;
  case WS_WIRE_KL:
  case WS_WIRE_TI:
    failed |= app(a, jdelay(w->ms));
    break;
  case WS_WIRE_WLM:
    failed |= app(a, json_boolean(w->enabled));
    break;
  default: /* KLE, TIE: the name alone */
    break;
  }
  return done(a, failed);
}

/* Autobahn's createWirelog is the switch's final state. */
static int wirelog_on(const struct ws_case_result *r) {
  if (r->n_wire == 0) return 0;
  for (size_t i = r->n_wire; i-- > 0;)
    if (r->wire[i].kind == WS_WIRE_WLM) return r->wire[i].enabled;
  return 1;
}

static json_t *close_code_json(int32_t code) {
  return code >= 0 ? json_integer(code) : json_null();
}

static json_t *reason_json(const uint8_t *p, int16_t len, size_t cap) {
  if (len < 0) return json_null();
  return jtext((const char *)p, (size_t)len < cap ? (size_t)len : cap);
}

/* The verdicts, texts and timing of the per-case report. */
static int add_summary(json_t *o, const char *agent,
                       const struct ws_case_result *r) {
  const struct ws_case *c = r->kase;
  char started[32];
  ws__report_iso_time(started, r->started_unix_ms);
  int failed = add(o, "agent", jstr(agent));
  failed |= add(o, "behavior", json_string(ws__report_verdict(r->behavior)));
  failed |= add(o, "behaviorClose",
                json_string(ws__report_verdict(r->behavior_close)));
  failed |= add(o, "case", json_integer(r->number));
  failed |= add(o, "id", json_string(c->id));
  failed |= add(o, "description", jstr(c->description));
  failed |= add(o, "expectation", jstr(c->expectation));
  failed |= add(o, "expected", expected_json(c));
  failed |= add(o, "expectedClose", expected_close_json(c));
  failed |= add(o, "result", jtext(r->result, strnlen(r->result,
                                                       sizeof(r->result))));
  failed |= add(o, "resultClose",
                jtext(r->result_close,
                      strnlen(r->result_close, sizeof(r->result_close))));
  failed |= add(o, "started", json_string(started));
  failed |= add(o, "duration", jint(r->duration_ms));
  failed |= add(o, "reportTime",
                json_boolean(c->flags & WS_CASE_F_REPORT_TIME));
  failed |= add(o, "reportCompressionRatio", json_false());
  failed |= add(o, "isServer", json_false());
  failed |= add(o, "trafficStats", json_null());
  return failed;
}

/* The closing-handshake flags and codes. */
static int add_close(json_t *o, const struct ws_case_result *r) {
  int failed = add(o, "closedByMe", json_boolean(r->closed_by_me));
  failed |= add(o, "failedByMe", json_boolean(r->failed_by_me));
  failed |= add(o, "droppedByMe", json_boolean(r->dropped_by_me));
  failed |= add(o, "wasClean", json_boolean(r->was_clean));
  failed |= add(o, "wasNotCleanReason", jstr(r->was_not_clean_reason));
  failed |= add(o, "wasServerConnectionDropTimeout",
                json_boolean(r->was_server_connection_drop_timeout));
  failed |= add(o, "wasOpenHandshakeTimeout",
                json_boolean(r->was_open_handshake_timeout));
  failed |= add(o, "wasCloseHandshakeTimeout",
                json_boolean(r->was_close_handshake_timeout));
  failed |= add(o, "localCloseCode", close_code_json(r->local_close_code));
  failed |= add(o, "localCloseReason",
                reason_json(r->local_reason, r->local_reason_len,
                            sizeof(r->local_reason)));
  failed |= add(o, "remoteCloseCode", close_code_json(r->remote_close_code));
  failed |= add(o, "remoteCloseReason",
                reason_json(r->remote_reason, r->remote_reason_len,
                            sizeof(r->remote_reason)));
  return failed;
}

/* Events, statistics, handshake, wire log and wsspec's own key. */
static int add_traffic(json_t *o, const struct ws_case_result *r) {
  json_t *received = json_array(), *wirelog = json_array(), *ws;
  int failed = 0, skip;
  for (size_t i = 0; i < r->n_events; i++)
    failed |= app(received, event_json(&r->events[i]));
  failed |= add(o, "received", received);
  for (size_t i = 0; i < r->n_wire && !failed; i++) {
    json_t *row = wire_json(&r->wire[i], &skip);
    if (!skip) failed |= app(wirelog, row);
  }
  failed |= add(o, "wirelog", wirelog);
  failed |= add(o, "createWirelog", json_boolean(wirelog_on(r)));
  failed |= add(o, "createStats", json_true());
  failed |= add(o, "rxOctetStats", octets_json(r->rx_octets, r->n_rx_octets));
  failed |= add(o, "txOctetStats", octets_json(r->tx_octets, r->n_tx_octets));
  failed |= add(o, "rxFrameStats", frames_json(r->rx_frames));
  failed |= add(o, "txFrameStats", frames_json(r->tx_frames));
  failed |= add(o, "httpRequest",
                r->http_request != NULL ? jstr(r->http_request)
                                        : json_string("?"));
  failed |= add(o, "httpResponse",
                r->http_response != NULL ? jstr(r->http_response)
                                         : json_string("?"));
  ws = json_object();
  failed |= add(ws, "section", jstr(r->kase->section));
  failed |= add(ws, "error",
                r->error[0] != '\0'
                    ? jtext(r->error, strnlen(r->error, sizeof(r->error)))
                    : json_null());
  failed |= add(ws, "deadlineHit", json_boolean(r->deadline_hit));
  failed |= add(ws, "eventsTotal", jint(r->events_total));
  failed |= add(ws, "wireTruncated", json_boolean(r->wire_truncated));
  failed |= add(o, "wsspec", ws);
  return failed;
}

static json_t *case_json(const char *agent, const struct ws_case_result *r) {
  json_t *o = json_object();
  if (o == NULL) return NULL;
  int failed = add_summary(o, agent, r);
  failed |= add_close(o, r);
  failed |= add_traffic(o, r);
  return done(o, failed);
}

static json_t *index_entry(const struct ws_case_result *r, const char *file) {
  json_t *o = json_object();
  int failed = add(o, "behavior",
                   json_string(ws__report_verdict(r->behavior)));
  failed |= add(o, "behaviorClose",
                json_string(ws__report_verdict(r->behavior_close)));
  failed |= add(o, "duration", jint(r->duration_ms));
  failed |= add(o, "remoteCloseCode", close_code_json(r->remote_close_code));
  failed |= add(o, "reportfile", json_string(file));
  return done(o, failed);
}

/* Writes |j| to DIR/NAME through a temporary file. */
static int dump(const char *dir, const char *name, const json_t *j,
                char *err, size_t errlen) {
  struct ws__report_file rf;
  int rc = ws__report_open(&rf, dir, name, err, errlen);
  if (rc != 0) return rc;
  int ok = json_dumpf(j, rf.f, JSON_FLAGS) == 0;
  int io = ferror(rf.f);
  rc = ws__report_close(&rf, ok, err, errlen);
  if (rc != 0 || ok) return rc;
  return io ? ws__report_fail(err, errlen, -EIO, "%s: write error", name)
            : ws__report_fail(err, errlen, WS_ENOMEM,
                              "out of memory writing %s", name);
}

static int oom(char *err, size_t errlen) {
  return ws__report_fail(err, errlen, WS_ENOMEM, "out of memory");
}

/* Writes the case files of one agent and fills |ao| with its index. */
static int write_agent(const char *dir, const struct ws_report_agent *a,
                       json_t *ao, char *err, size_t errlen) {
  char file[256];
  for (size_t i = 0; i < a->n; i++) {
    const struct ws_case_result *r = &a->results[i];
    ws_report_case_file(file, sizeof(file), a->agent, r->kase->id, "json");
    json_t *cj = case_json(a->agent, r);
    if (cj == NULL) return oom(err, errlen);
    int rc = dump(dir, file, cj, err, errlen);
    json_decref(cj);
    if (rc != 0) return rc;
    if (add(ao, r->kase->id, index_entry(r, file))) return oom(err, errlen);
  }
  return 0;
}

/* The agent name as an object key: valid UTF-8, as jtext() makes it. */
static int add_agent(json_t *root, const char *agent, json_t *ao) {
  json_t *name = jstr(agent);
  int failed = name == NULL ||
               json_object_set_new(root, json_string_value(name), ao) != 0;
  if (name == NULL) json_decref(ao);
  json_decref(name);
  return failed;
}

int ws_report_write_json(const char *dir, const struct ws_report_agent *a,
                         size_t n_agents, char *err, size_t errlen) {
  if (dir == NULL)
    return ws__report_fail(err, errlen, WS_EINVAL, "no report directory");
  int rc = ws__report_check(a, n_agents, err, errlen);
  if (rc == 0) rc = ws__report_mkdirs(dir, err, errlen);
  if (rc != 0) return rc;
  json_t *root = json_object();
  if (root == NULL) return oom(err, errlen);
  for (size_t i = 0; i < n_agents && rc == 0; i++) {
    json_t *ao = json_object();
    if (ao == NULL) {
      rc = oom(err, errlen);
      break;
    }
    rc = write_agent(dir, &a[i], ao, err, errlen);
    if (rc != 0) json_decref(ao);
    else if (add_agent(root, a[i].agent, ao)) rc = oom(err, errlen);
  }
  if (rc == 0) rc = dump(dir, "index.json", root, err, errlen);
  json_decref(root);
  return rc;
}

/* ------------------------------------------------------ golden compare */

/* Checks the golden file's shape: {agent: {id: {behavior, behaviorClose,
 * remoteCloseCode?}}}. */
static int check_golden(json_t *g, char *err, size_t errlen) {
  const char *agent, *id;
  json_t *cases, *e;
  if (!json_is_object(g))
    return ws__report_fail(err, errlen, WS_EINVAL,
                           "golden file: not a JSON object");
  json_object_foreach(g, agent, cases) {
    if (!json_is_object(cases))
      return ws__report_fail(err, errlen, WS_EINVAL,
                             "golden file: agent \"%s\" is not an object",
                             agent);
    json_object_foreach(cases, id, e) {
      json_t *code = json_object_get(e, "remoteCloseCode");
      if (!json_is_object(e) ||
          !json_is_string(json_object_get(e, "behavior")) ||
          !json_is_string(json_object_get(e, "behaviorClose")) ||
          (code != NULL && !json_is_integer(code) && !json_is_null(code)))
        return ws__report_fail(err, errlen, WS_EINVAL,
                               "golden file: \"%s\" / \"%s\" lacks behavior, "
                               "behaviorClose or a valid remoteCloseCode",
                               agent, id);
    }
  }
  return 0;
}

static json_t *load_golden(const char *path, char *err, size_t errlen,
                           int *rc) {
  json_error_t je;
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    int e = errno;
    *rc = ws__report_fail(err, errlen, -e, "%s: %s", path, strerror(e));
    return NULL;
  }
  /* json_loadf() returns NULL without filling |je| when its first
   * allocation fails. */
  memset(&je, 0, sizeof(je));
  json_t *g = json_loadf(f, 0, &je);
  fclose(f);
  if (g == NULL) {
    *rc = je.text[0] == '\0' ||
                  json_error_code(&je) == json_error_out_of_memory
              ? oom(err, errlen)
              : ws__report_fail(err, errlen, WS_EINVAL, "%s:%d:%d: %s", path,
                                je.line, je.column, je.text);
    return NULL;
  }
  *rc = check_golden(g, err, errlen);
  if (*rc != 0) {
    json_decref(g);
    return NULL;
  }
  return g;
}

/* One line of output: "[agent] " when several agents are involved. */
static void emit(FILE *out, const char *agent, const char *id,
                 const char *text) {
  if (out == NULL) return;
  if (agent != NULL) fprintf(out, "[%s] ", agent);
  fprintf(out, "%s: %s\n", id, text);
}

static void code_text(char *buf, size_t size, json_int_t code, int null) {
  if (null) snprintf(buf, size, "null");
  else snprintf(buf, size, "%lld", (long long)code);
}

/* Compares one result with its golden entry; 1 when they differ. */
static int compare_case(FILE *out, const char *prefix,
                        const struct ws_case_result *r, json_t *ge) {
  char line[512], ours[24], theirs[24];
  struct sbuf s = {line, sizeof(line), 0};
  const char *gb = json_string_value(json_object_get(ge, "behavior"));
  const char *gc = json_string_value(json_object_get(ge, "behaviorClose"));
  const char *b = ws__report_verdict(r->behavior);
  const char *c = ws__report_verdict(r->behavior_close);
  json_t *gcode = json_object_get(ge, "remoteCloseCode");
  char part[160];
  int n = 0;
  if (strcmp(b, gb) != 0) {
    snprintf(part, sizeof(part), "behavior %s, expected %s", b, gb);
    put(&s, part, strnlen(part, sizeof(part)));
    n++;
  }
  if (strcmp(c, gc) != 0) {
    snprintf(part, sizeof(part), "%sbehaviorClose %s, expected %s",
                 n ? "; " : "", c, gc);
    put(&s, part, strnlen(part, sizeof(part)));
    n++;
  }
  if (gcode != NULL) {
    int gnull = json_is_null(gcode);
    json_int_t gv = gnull ? 0 : json_integer_value(gcode);
    int same = gnull ? r->remote_close_code < 0
                     : r->remote_close_code >= 0 &&
                           (json_int_t)r->remote_close_code == gv;
    if (!same) {
      code_text(ours, sizeof(ours), r->remote_close_code,
                r->remote_close_code < 0);
      code_text(theirs, sizeof(theirs), gv, gnull);
      snprintf(part, sizeof(part), "%sremoteCloseCode %s, expected %s",
                   n ? "; " : "", ours, theirs);
      put(&s, part, strnlen(part, sizeof(part)));
      n++;
    }
  }
  finish(&s);
  if (n > 0) emit(out, prefix, r->kase->id, line);
  return n > 0;
}

static int by_id(const void *a, const void *b) {
  return ws_case_id_compare(*(const char *const *)a,
                            *(const char *const *)b);
}

static int has_case(const struct ws_report_agent *a, const char *id) {
  for (size_t i = 0; a != NULL && i < a->n; i++)
    if (strcmp(a->results[i].kase->id, id) == 0) return 1;
  return 0;
}

/* Lists the golden cases of |ga| that |a| (may be NULL) lacks, in
 * Autobahn order. Returns their number, or WS_ENOMEM. */
static int golden_only(FILE *out, const char *prefix, json_t *ga,
                       const struct ws_report_agent *a) {
  size_t n = json_object_size(ga), k = 0;
  const char *id;
  json_t *e;
  const char **ids = ws__report_alloc((n > 0 ? n : 1) * sizeof(*ids));
  if (ids == NULL) return WS_ENOMEM;
  json_object_foreach(ga, id, e) {
    if (!has_case(a, id)) ids[k++] = id;
  }
  qsort(ids, k, sizeof(*ids), by_id);
  for (size_t i = 0; i < k; i++) {
    char line[160];
    e = json_object_get(ga, ids[i]);
    snprintf(line, sizeof(line),
             "missing (expected behavior %s, behaviorClose %s)",
             json_string_value(json_object_get(e, "behavior")),
             json_string_value(json_object_get(e, "behaviorClose")));
    emit(out, prefix, ids[i], line);
  }
  ws__report_free(ids);
  return (int)k;
}

/* Compares one agent with its golden counterpart |ga| (NULL: none). */
static int compare_agent(FILE *out, const char *prefix,
                         const struct ws_report_agent *a, json_t *ga) {
  int diffs = 0;
  for (size_t i = 0; i < a->n; i++) {
    const struct ws_case_result *r = &a->results[i];
    json_t *ge = ga != NULL ? json_object_get(ga, r->kase->id) : NULL;
    if (ge != NULL) {
      diffs += compare_case(out, prefix, r, ge);
      continue;
    }
    char line[160];
    snprintf(line, sizeof(line),
             "not in the golden file (behavior %s, behaviorClose %s)",
             ws__report_verdict(r->behavior),
             ws__report_verdict(r->behavior_close));
    emit(out, prefix, r->kase->id, line);
    diffs++;
  }
  if (ga == NULL) return diffs;
  int rc = golden_only(out, prefix, ga, a);
  return rc < 0 ? rc : diffs + rc;
}

/* Finds the golden agent paired with |a|: the only one when both sides
 * hold one agent, else by (sanitized) name. *gname is NULL when there is
 * none. Returns 0 or WS_ENOMEM. */
static int pair_agent(json_t *g, const struct ws_report_agent *a,
                      size_t n_agents, const char **gname) {
  const char *key;
  json_t *v;
  *gname = NULL;
  if (n_agents == 1 && json_object_size(g) == 1) {
    json_object_foreach(g, key, v) *gname = key;
    return 0;
  }
  json_t *name = jstr(a->agent);
  if (name == NULL) return WS_ENOMEM;
  json_object_foreach(g, key, v) {
    if (strcmp(key, json_string_value(name)) == 0) *gname = key;
  }
  json_decref(name);
  return 0;
}

static int compare_all(FILE *out, json_t *g, const struct ws_report_agent *a,
                       size_t n_agents) {
  size_t ng = json_object_size(g), paired = 0;
  const char **used = ws__report_alloc((n_agents + 1) * sizeof(*used));
  const char *key;
  json_t *v;
  int total = 0, rc = 0;
  if (used == NULL) return WS_ENOMEM;
  for (size_t i = 0; i < n_agents && rc == 0; i++) {
    rc = pair_agent(g, &a[i], n_agents, &used[i]);
    paired += used[i] != NULL;
  }
  if (rc != 0) {
    ws__report_free(used);
    return rc;
  }
  /* A prefix is needed as soon as the output may mix agents. */
  int several = n_agents + (ng - paired) > 1;
  for (size_t i = 0; i < n_agents && rc >= 0; i++) {
    json_t *ga = used[i] != NULL ? json_object_get(g, used[i]) : NULL;
    rc = compare_agent(out, several ? a[i].agent : NULL, &a[i], ga);
    total += rc;
  }
  json_object_foreach(g, key, v) {
    int taken = 0;
    for (size_t i = 0; i < n_agents; i++)
      taken |= used[i] != NULL && strcmp(used[i], key) == 0;
    if (taken || rc < 0) continue;
    rc = golden_only(out, several ? key : NULL, v, NULL);
    total += rc;
  }
  ws__report_free(used);
  return rc < 0 ? rc : total;
}

int ws_report_compare_golden(const char *golden_path,
                             const struct ws_report_agent *a,
                             size_t n_agents, FILE *out, char *err,
                             size_t errlen) {
  int rc;
  if (golden_path == NULL)
    return ws__report_fail(err, errlen, WS_EINVAL, "no golden file");
  rc = ws__report_check(a, n_agents, err, errlen);
  if (rc != 0) return rc;
  json_t *g = load_golden(golden_path, err, errlen, &rc);
  if (g == NULL) return rc;
  rc = compare_all(out, g, a, n_agents);
  json_decref(g);
  if (rc < 0) return oom(err, errlen);
  return rc;
}
