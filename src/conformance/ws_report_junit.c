/*
 * ws_report_junit.c: JUnit XML for CI systems: one <testsuite> per agent,
 * one <testcase> per case, a <failure> with the expectation and what
 * happened for every case failing the pass rule. Written by hand (the
 * format is a few elements); every text goes through the XML escaper.
 */
#include "conformance/ws_report.h"

#include <string.h>

/* Test names carry the start of the description, cut at this many
 * octets (on a character boundary). */
#define NAME_DESC_MAX 72u
/* Events listed in a failure text; the rest are counted. */
#define EVENTS_SHOWN 8u

/* Seconds with three decimals, independent of the locale. */
static void seconds(FILE *f, uint64_t ms) {
  fprintf(f, "%llu.%03u", (unsigned long long)(ms / 1000u),
          (unsigned)(ms % 1000u));
}

/* |s| cut to at most |max| octets without splitting a UTF-8 character,
 * with "..." when cut. */
static void short_text(FILE *f, const char *s, size_t max) {
  size_t n = strlen(s), k = 0;
  if (n <= max) {
    ws__report_escape(f, s, n);
    return;
  }
  while (k < n) {
    int valid;
    size_t l = ws__report_utf8_char((const uint8_t *)s + k, n - k, &valid);
    if (k + l > max) break;
    k += l;
  }
  ws__report_escape(f, s, k);
  fputs("...", f);
}

static void list_events(FILE *f, const struct ws_case_result *r) {
  char buf[WS_REPORT_PAYLOAD_MAX];
  if (r->events_total == 0 && r->n_events == 0) {
    fputs("nothing", f);
    return;
  }
  for (size_t i = 0; i < r->n_events && i < EVENTS_SHOWN; i++) {
    const struct ws_result_event *e = &r->events[i];
    size_t n = e->n_preview < WS_RESULT_PREVIEW ? e->n_preview
                                                : WS_RESULT_PREVIEW;
    if (i > 0) fputs(", ", f);
    if (e->kind == WS_EVENT_TIMEOUT) {
      fputs("timeout ", f);
      ws__report_escape(f, &e->tag, e->tag != 0);
      continue;
    }
    fputs(e->kind == WS_EVENT_PONG ? "pong"
          : e->binary              ? "binary message"
                                   : "text message",
          f);
    fputs(" '", f);
    size_t k = ws_report_payload_text(buf, sizeof(buf), e->preview, n, e->len);
    ws__report_escape(f, buf, k);
    fprintf(f, "' (%llu octets)", (unsigned long long)e->len);
  }
  uint64_t total = r->events_total > r->n_events ? r->events_total
                                                 : r->n_events;
  if (total > EVENTS_SHOWN)
    fprintf(f, ", ... (%llu events in all)", (unsigned long long)total);
}

/* The Expected and Actual lines of a failure or a system-out. */
static void explain(FILE *f, const struct ws_case_result *r) {
  char rule[256];
  const struct ws_case *c = r->kase;
  ws__report_close_rule(rule, sizeof(rule), c);
  fputs("Expected: ", f);
  ws__report_escape(f, c->expectation, strlen(c->expectation));
  fputs(". Close: ", f);
  ws__report_escape(f, rule, strlen(rule));
  fputs(".\nActual: ", f);
  if (r->error[0] != '\0') {
    fputs("error: ", f);
    ws__report_escape(f, r->error, strnlen(r->error, sizeof(r->error)));
    fputs("; ", f);
  }
  ws__report_escape(f, r->result, strnlen(r->result, sizeof(r->result)));
  fputs(" ", f);
  ws__report_escape(f, r->result_close,
                    strnlen(r->result_close, sizeof(r->result_close)));
  fputs(". Received: ", f);
  list_events(f, r);
  if (r->remote_close_code >= 0)
    fprintf(f, ". Remote close code: %d.", (int)r->remote_close_code);
  else
    fputs(". Remote close code: none.", f);
  if (r->deadline_hit) fputs(" The hard deadline ended the case.", f);
  fputs("\n", f);
}

static void write_case(FILE *f, const char *agent,
                       const struct ws_case_result *r, int strict) {
  const struct ws_case *c = r->kase;
  const char *b = ws__report_verdict(r->behavior);
  const char *bc = ws__report_verdict(r->behavior_close);
  fputs("    <testcase classname=\"", f);
  ws__report_escape(f, agent, strlen(agent));
  fputc('.', f);
  const char *cat = ws__report_category(c);
  ws__report_escape(f, cat, strlen(cat));
  fprintf(f, "\" name=\"%s ", c->id);
  short_text(f, c->description != NULL ? c->description : "", NAME_DESC_MAX);
  fputs("\" time=\"", f);
  seconds(f, r->duration_ms);
  if (!ws_result_passes(r, strict)) {
    fprintf(f, "\">\n      <failure message=\"behavior %s, behaviorClose %s\""
               " type=\"%s\">",
            b, bc, b);
    explain(f, r);
    fputs("</failure>\n    </testcase>\n", f);
  } else if (r->behavior == WS_VERDICT_UNIMPLEMENTED) {
    fputs("\">\n      <skipped message=\"UNIMPLEMENTED\"/>\n    </testcase>\n",
          f);
  } else if (r->behavior == WS_VERDICT_INFORMATIONAL) {
    fputs("\">\n      <system-out>", f);
    explain(f, r);
    fputs("</system-out>\n    </testcase>\n", f);
  } else {
    fputs("\"/>\n", f);
  }
}

static size_t skipped(const struct ws_report_agent *a, int strict) {
  size_t n = 0;
  for (size_t i = 0; i < a->n; i++)
    n += a->results[i].behavior == WS_VERDICT_UNIMPLEMENTED &&
         ws_result_passes(&a->results[i], strict);
  return n;
}

static uint64_t total_ms(const struct ws_report_agent *a) {
  uint64_t ms = 0;
  for (size_t i = 0; i < a->n; i++) ms += a->results[i].duration_ms;
  return ms;
}

static void write_suite(FILE *f, const struct ws_report_agent *a,
                        int strict) {
  struct ws_report_counts c;
  ws_report_count(a, strict, &c);
  fputs("  <testsuite name=\"wsspec.", f);
  ws__report_escape(f, a->agent, strlen(a->agent));
  fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\""
             " time=\"",
          c.total, c.failed, skipped(a, strict));
  seconds(f, total_ms(a));
  fputs("\">\n", f);
  for (size_t i = 0; i < a->n; i++)
    write_case(f, a->agent, &a->results[i], strict);
  fputs("  </testsuite>\n", f);
}

int ws_report_write_junit(const char *path, const struct ws_report_agent *a,
                          size_t n_agents, int strict, char *err,
                          size_t errlen) {
  struct ws__report_file rf;
  size_t tests = 0, failures = 0, skips = 0;
  uint64_t ms = 0;
  if (path == NULL)
    return ws__report_fail(err, errlen, WS_EINVAL, "no JUnit path");
  int rc = ws__report_check(a, n_agents, err, errlen);
  if (rc == 0) rc = ws__report_parent_dirs(path, err, errlen);
  if (rc == 0) rc = ws__report_open(&rf, NULL, path, err, errlen);
  if (rc != 0) return rc;
  for (size_t i = 0; i < n_agents; i++) {
    struct ws_report_counts c;
    ws_report_count(&a[i], strict, &c);
    tests += c.total;
    failures += c.failed;
    skips += skipped(&a[i], strict);
    ms += total_ms(&a[i]);
  }
  fprintf(rf.f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "
                "name=\"wsspec\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
                "skipped=\"%zu\" time=\"",
          tests, failures, skips);
  seconds(rf.f, ms);
  fputs("\">\n", rf.f);
  for (size_t i = 0; i < n_agents; i++) write_suite(rf.f, &a[i], strict);
  fputs("</testsuites>\n", rf.f);
  return ws__report_close(&rf, 1, err, errlen);
}
