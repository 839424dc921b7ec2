/*
 * ws_report_html.c: the browsable report: index.html (summary, failures,
 * the case table of Autobahn's master report) and one page per (agent,
 * case) following Autobahn's case detail report
 * (docs/conformance.md b.3). Self-contained: inline CSS, no
 * script, no external resource. Everything printed goes through the
 * escaper: payloads, handshakes, reasons and agent names come from the
 * peer.
 */
#include "conformance/ws_report.h"

#include <stdlib.h>
#include <string.h>

#include "ws/ws_frame.h"

#define FFFD "\xEF\xBF\xBD"

static const char css[] =
    "body{font-family:sans-serif;font-size:14px;margin:1em 2em;color:#222}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}"
    "h3{font-size:1.05em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;"
    "vertical-align:top}"
    "th{background:#eee}"
    "pre,code{font-family:monospace;font-size:12px;white-space:pre-wrap;"
    "word-break:break-all}"
    ".case_ok{background:#0a0;color:#fff}"
    ".case_non_strict{background:#9c0;color:#fff}"
    ".case_almost{background:#fc0;color:#000}"
    ".case_info{background:#49c;color:#fff}"
    ".case_unimplemented{background:#999;color:#fff}"
    ".case_failed{background:#d00;color:#fff}"
    ".case_missing{background:#eee;color:#888}"
    ".case_ok a,.case_non_strict a,.case_info a,.case_failed a,"
    ".case_unimplemented a{color:#fff}"
    ".case_category_row td{background:#333;color:#fff;font-weight:bold}"
    ".case_subcategory_row td{background:#ddd;font-weight:bold}"
    ".close{font-size:11px}.duration{font-size:11px}"
    ".section{color:#666;font-size:12px}"
    ".failures li{margin:2px 0}.all_pass{color:#0a0;font-weight:bold}"
    ".error{color:#d00;font-weight:bold}"
    ".block{background:#f6f6f6;border-left:4px solid #ccc;padding:.4em .8em}"
    ".events{display:flex;gap:2em}.events>div{flex:1}"
    ".wl_rx td{background:#eef}.wl_tx td{background:#efe}"
    ".wl_timer td{background:#ffe}.wl_drop td{background:#fdd}";

/* Appended to every file: a report is read top to bottom, then closed. */
static const char tail[] = "</body>\n</html>\n";

void ws__report_escape(FILE *f, const char *s, size_t n) {
  const uint8_t *p = (const uint8_t *)s;
  size_t run = 0, i = 0;
  while (i < n) {
    uint8_t c = p[i];
    const char *rep = NULL;
    size_t len = 1;
    switch (c) {
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '"': rep = "&quot;"; break;
    case '\'': rep = "&#39;"; break;
    default:
      /* XML 1.0 allows no control character but TAB, LF and CR, not even
       * as a reference, and neither U+FFFE nor U+FFFF. */
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
        rep = FFFD;
      } else if (c >= 0x80) {
        int valid;
        len = ws__report_utf8_char(p + i, n - i, &valid);
        if (!valid || (len == 3 && c == 0xEF && p[i + 1] == 0xBF &&
                       p[i + 2] >= 0xBE))
          rep = FFFD;
      }
      break;
    }
    if (rep != NULL) {
      fwrite(p + run, 1, i - run, f);
      fputs(rep, f);
      run = i + len;
    }
    i += len;
  }
  fwrite(p + run, 1, n - run, f);
}

static void esc(FILE *f, const char *s) {
  if (s != NULL) ws__report_escape(f, s, strlen(s));
}

/* A fixed-size text field of a result, NUL-terminated or not. */
#define ESC_FIELD(f, field) \
  ws__report_escape((f), (field), strnlen((field), sizeof(field)))

static void esc_payload(FILE *f, const uint8_t *p, size_t n, uint64_t len) {
  char buf[WS_REPORT_PAYLOAD_MAX];
  size_t k = ws_report_payload_text(buf, sizeof(buf), p, n, len);
  ws__report_escape(f, buf, k);
}

static unsigned long long ull(uint64_t v) { return (unsigned long long)v; }

static void head(FILE *f, const char *title_a, const char *title_b) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
        "\n<title>",
        f);
  esc(f, title_a);
  esc(f, title_b);
  fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
}

/* ------------------------------------------------------------- verdicts */

/* Text and CSS class of the behavior cell (Autobahn's master report). */
static const char *behavior_text(unsigned v, const char **cls) {
  switch (v) {
  case WS_VERDICT_OK: *cls = "case_ok"; return "Pass";
  case WS_VERDICT_NON_STRICT: *cls = "case_non_strict"; return "Non-Strict";
  case WS_VERDICT_INFORMATIONAL: *cls = "case_info"; return "Info";
  case WS_VERDICT_UNIMPLEMENTED:
    *cls = "case_unimplemented";
    return "Unimplemented";
  default: *cls = "case_failed"; return "Fail";
  }
}

/* The close cell: the peer's code for OK, INFORMATIONAL, FAILED BY CLIENT
 * (warning colour) and WRONG CODE; else "Unclean" or "Fail". */
static void close_cell(FILE *f, const struct ws_case_result *r) {
  char code[16];
  const char *cls, *text = code;
  if (r->remote_close_code >= 0)
    snprintf(code, sizeof(code), "%d", (int)r->remote_close_code);
  else
    snprintf(code, sizeof(code), "none");
  switch (r->behavior_close) {
  case WS_VERDICT_OK: cls = "case_ok"; break;
  case WS_VERDICT_INFORMATIONAL: cls = "case_info"; break;
  case WS_VERDICT_FAILED_BY_CLIENT: cls = "case_almost"; break;
  case WS_VERDICT_WRONG_CODE: cls = "case_almost"; break;
  case WS_VERDICT_UNCLEAN: cls = "case_failed"; text = "Unclean"; break;
  default: cls = "case_failed"; text = "Fail"; break;
  }
  fprintf(f, "<td class=\"close %s\" title=\"%s\">%s%s</td>", cls,
          ws__report_verdict(r->behavior_close),
          r->behavior_close == WS_VERDICT_WRONG_CODE ? "Wrong code " : "",
          text);
}

/* --------------------------------------------------------------- index */

/* Every agent's results sorted by case id, and the union of their cases
 * in Autobahn order: the rows of the table. */
struct view {
  const struct ws_report_agent *a;
  size_t n_agents;
  const struct ws_case_result **sorted; /* agent i at [off[i], off[i+1]) */
  size_t *off;
  const struct ws_case **cases;
  size_t n_cases;
  int strict;
};

static int cmp_result(const void *x, const void *y) {
  const struct ws_case_result *const *a = x, *const *b = y;
  return ws_case_id_compare((*a)->kase->id, (*b)->kase->id);
}

static int cmp_case(const void *x, const void *y) {
  const struct ws_case *const *a = x, *const *b = y;
  return ws_case_id_compare((*a)->id, (*b)->id);
}

static int find_result(const void *key, const void *elem) {
  const struct ws_case_result *const *r = elem;
  return ws_case_id_compare(key, (*r)->kase->id);
}

static int view_init(struct view *v, const struct ws_report_agent *a,
                     size_t n_agents, int strict) {
  size_t total = 0;
  memset(v, 0, sizeof(*v));
  v->a = a;
  v->n_agents = n_agents;
  v->strict = strict;
  for (size_t i = 0; i < n_agents; i++) total += a[i].n;
  v->off = ws__report_alloc((n_agents + 1) * sizeof(*v->off));
  v->sorted = ws__report_alloc((total + 1) * sizeof(*v->sorted));
  v->cases = ws__report_alloc((total + 1) * sizeof(*v->cases));
  if (v->off == NULL || v->sorted == NULL || v->cases == NULL)
    return WS_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n_agents; i++) {
    v->off[i] = k;
    for (size_t j = 0; j < a[i].n; j++) {
      v->sorted[k] = &a[i].results[j];
      v->cases[k++] = a[i].results[j].kase;
    }
    qsort(v->sorted + v->off[i], a[i].n, sizeof(*v->sorted), cmp_result);
  }
  v->off[n_agents] = k;
  qsort(v->cases, k, sizeof(*v->cases), cmp_case);
  for (size_t i = 0; i < k; i++)
    if (v->n_cases == 0 ||
        strcmp(v->cases[v->n_cases - 1]->id, v->cases[i]->id) != 0)
      v->cases[v->n_cases++] = v->cases[i];
  return 0;
}

static void view_free(struct view *v) {
  ws__report_free(v->off);
  ws__report_free(v->sorted);
  ws__report_free(v->cases);
}

static const struct ws_case_result *lookup(const struct view *v, size_t i,
                                           const char *id) {
  const struct ws_case_result *const *r =
      bsearch(id, v->sorted + v->off[i], v->off[i + 1] - v->off[i],
              sizeof(*v->sorted), find_result);
  return r != NULL ? *r : NULL;
}

/* Link to a case page: <slug>_case_<id>.html, escaped for an attribute. */
static void page_href(FILE *f, const char *agent, const char *id) {
  char file[256];
  ws_report_case_file(file, sizeof(file), agent, id, "html");
  esc(f, file);
}

static void write_summary(FILE *f, const struct view *v) {
  static const unsigned cols[] = {WS_VERDICT_OK, WS_VERDICT_NON_STRICT,
                                  WS_VERDICT_INFORMATIONAL,
                                  WS_VERDICT_UNIMPLEMENTED,
                                  WS_VERDICT_FAILED};
  fputs("<h2 id=\"summary\">Summary</h2>\n<table class=\"summary\">\n<tr>"
        "<th>Agent</th><th>Cases</th><th class=\"case_ok\">Pass</th>"
        "<th class=\"case_non_strict\">Non-Strict</th>"
        "<th class=\"case_info\">Info</th>"
        "<th class=\"case_unimplemented\">Unimplemented</th>"
        "<th class=\"case_failed\">Fail</th>"
        "<th>Close not OK</th><th>Failing the pass rule</th></tr>\n",
        f);
  for (size_t i = 0; i < v->n_agents; i++) {
    struct ws_report_counts c;
    ws_report_count(&v->a[i], v->strict, &c);
    fputs("<tr><td>", f);
    esc(f, v->a[i].agent);
    fprintf(f, "</td><td>%zu</td>", c.total);
    for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++)
      fprintf(f, "<td>%zu</td>", c.behavior[cols[k]]);
    size_t close_bad = c.total - c.behavior_close[WS_VERDICT_OK] -
                       c.behavior_close[WS_VERDICT_INFORMATIONAL];
    fprintf(f, "<td>%zu</td><td class=\"%s\">%zu</td></tr>\n", close_bad,
            c.failed ? "case_failed" : "case_ok", c.failed);
  }
  fputs("</table>\n", f);
}

/* The cases failing the pass rule, first thing after the summary. */
static void write_failures(FILE *f, const struct view *v) {
  fputs("<h2 id=\"failures\">Failures</h2>\n", f);
  for (size_t i = 0; i < v->n_agents; i++) {
    const struct ws_report_agent *a = &v->a[i];
    size_t shown = 0;
    fputs("<h3>", f);
    esc(f, a->agent);
    fputs("</h3>\n", f);
    for (size_t k = v->off[i]; k < v->off[i + 1]; k++) {
      const struct ws_case_result *r = v->sorted[k];
      if (ws_result_passes(r, v->strict)) continue;
      if (shown++ == 0) fputs("<ul class=\"failures\">\n", f);
      fputs("<li><a href=\"", f);
      page_href(f, a->agent, r->kase->id);
      fprintf(f, "\">Case %s</a> behavior <b>%s</b>, behaviorClose <b>%s"
                 "</b>: ",
              r->kase->id, ws__report_verdict(r->behavior),
              ws__report_verdict(r->behavior_close));
      if (r->error[0] != '\0') ESC_FIELD(f, r->error);
      else ESC_FIELD(f, r->result);
      if (r->behavior_close != WS_VERDICT_OK &&
          r->behavior_close != WS_VERDICT_INFORMATIONAL) {
        fputs("; ", f);
        ESC_FIELD(f, r->result_close);
      }
      fputs("</li>\n", f);
    }
    fputs(shown ? "</ul>\n" : "<p class=\"all_pass\">Every case passes.</p>\n",
          f);
  }
}

static void write_legend(FILE *f) {
  fputs("<h2>Legend</h2>\n<table class=\"legend\">\n"
        "<tr><td class=\"case_ok\">Pass</td><td>Executed and passed.</td></tr>\n"
        "<tr><td class=\"case_non_strict\">Non-Strict</td><td>Passed "
        "non-strictly: a SHOULD was not followed (late UTF-8 failure), still "
        "conformant.</td></tr>\n"
        "<tr><td class=\"case_failed\">Fail</td><td>Executed and failed: a "
        "MUST of RFC 6455 was broken (limits cases: too slow).</td></tr>\n"
        "<tr><td class=\"case_info\">Info</td><td>Informational: behaviour "
        "the RFC leaves open.</td></tr>\n"
        "<tr><td class=\"case_unimplemented\">Unimplemented</td><td>The "
        "tested feature (an extension) was not negotiated.</td></tr>\n"
        "<tr><td class=\"case_missing\">Missing</td><td>No result for this "
        "agent (not selected or excluded).</td></tr>\n"
        "<tr><td class=\"case_almost\">1000</td><td>Close cell: the peer's "
        "close code; warning colour for FAILED BY CLIENT (the server did not "
        "close TCP) and WRONG CODE.</td></tr>\n"
        "</table>\n",
        f);
}

/* The first |parts| components of an id: "6" or "6.4" of "6.4.3". */
static void id_prefix(char out[WS_CASE_ID_MAX], const char *id,
                      size_t parts) {
  size_t n = 0, dots = 0;
  while (id[n] != '\0' && n + 1 < WS_CASE_ID_MAX) {
    if (id[n] == '.' && ++dots == parts) break;
    n++;
  }
  memcpy(out, id, n);
  out[n] = '\0';
}

/* Category rows are repeated per subcategory with the agent names, as in
 * Autobahn's master report (repeatAgentRowPerSubcategory). */
static void header_rows(FILE *f, const struct view *v,
                        const struct ws_case *c, int *last_cat,
                        char last_sub[WS_CASE_ID_MAX]) {
  char sub[WS_CASE_ID_MAX] = "", cat[WS_CASE_ID_MAX];
  if (c->subcategory != NULL) id_prefix(sub, c->id, 2);
  if (c->category != *last_cat || strcmp(sub, last_sub) != 0) {
    /* Autobahn labels the row with the id's first component ("6"; "x"
     * for wsspec's own cases). */
    id_prefix(cat, c->id, 1);
    fputs("<tr class=\"case_category_row\"><td colspan=\"2\">", f);
    esc(f, cat);
    fputc(' ', f);
    esc(f, ws__report_category(c));
    fputs("</td>", f);
    for (size_t i = 0; i < v->n_agents; i++) {
      fputs("<td colspan=\"2\">", f);
      esc(f, v->a[i].agent);
      fputs("</td>", f);
    }
    fputs("</tr>\n", f);
    if (sub[0] != '\0') {
      fprintf(f, "<tr class=\"case_subcategory_row\"><td colspan=\"%zu\">%s ",
              v->n_agents * 2 + 2, sub);
      esc(f, c->subcategory);
      fputs("</td></tr>\n", f);
    }
  }
  *last_cat = c->category;
  memcpy(last_sub, sub, WS_CASE_ID_MAX);
}

static void result_cells(FILE *f, const char *agent,
                         const struct ws_case_result *r) {
  const char *cls, *text;
  if (r == NULL) {
    fputs("<td class=\"case_missing\" colspan=\"2\">Missing</td>", f);
    return;
  }
  text = behavior_text(r->behavior, &cls);
  if (r->behavior == WS_VERDICT_UNIMPLEMENTED) {
    fprintf(f, "<td class=\"%s\" colspan=\"2\"><a href=\"", cls);
    page_href(f, agent, r->kase->id);
    fprintf(f, "\">%s</a></td>", text);
    return;
  }
  fprintf(f, "<td class=\"%s\"><a href=\"", cls);
  page_href(f, agent, r->kase->id);
  fprintf(f, "\">%s</a>", text);
  if (r->kase->flags & WS_CASE_F_REPORT_TIME)
    fprintf(f, "<br><span class=\"duration\">%llu ms</span>",
            ull(r->duration_ms));
  fputs("</td>", f);
  close_cell(f, r);
}

static void write_table(FILE *f, const struct view *v) {
  int last_cat = -1;
  char last_sub[WS_CASE_ID_MAX] = "";
  fputs("<h2 id=\"results\">Results</h2>\n<table id=\"agent_case_results\">"
        "\n<tr><th>Case</th><th>RFC 6455</th>",
        f);
  for (size_t i = 0; i < v->n_agents; i++) {
    fputs("<th colspan=\"2\">", f);
    esc(f, v->a[i].agent);
    fputs("</th>", f);
  }
  fputs("</tr>\n", f);
  for (size_t k = 0; k < v->n_cases; k++) {
    const struct ws_case *c = v->cases[k];
    const struct ws_case_result *first = NULL;
    size_t first_agent = 0;
    header_rows(f, v, c, &last_cat, last_sub);
    for (size_t i = 0; i < v->n_agents && first == NULL; i++)
      if ((first = lookup(v, i, c->id)) != NULL) first_agent = i;
    fprintf(f, "<tr class=\"agent_case_result_row\" id=\"case_%s\">"
               "<td class=\"case\"><a href=\"",
            c->id);
    page_href(f, v->a[first_agent].agent, c->id);
    fprintf(f, "\">Case %s</a> <a href=\"#case_desc_%s\">?</a></td>"
               "<td class=\"section\">",
            c->id, c->id);
    esc(f, c->section);
    fputs("</td>", f);
    for (size_t i = 0; i < v->n_agents; i++)
      result_cells(f, v->a[i].agent, lookup(v, i, c->id));
    fputs("</tr>\n", f);
  }
  fputs("</table>\n", f);
}

static void write_descriptions(FILE *f, const struct view *v) {
  fputs("<h2 id=\"descriptions\">Case descriptions</h2>\n", f);
  for (size_t k = 0; k < v->n_cases; k++) {
    const struct ws_case *c = v->cases[k];
    fprintf(f, "<div class=\"case_desc\" id=\"case_desc_%s\"><h3>Case %s "
               "<span class=\"section\">RFC 6455 Section ",
            c->id, c->id);
    esc(f, c->section);
    fputs("</span></h3>\n<p class=\"block\"><b>Description</b><br>", f);
    esc(f, c->description);
    fputs("</p>\n<p class=\"block\"><b>Expectation</b><br>", f);
    esc(f, c->expectation);
    fputs("</p>\n<p><a href=\"#results\">Up</a></p></div>\n", f);
  }
}

static void write_index(FILE *f, const struct view *v) {
  uint64_t first = UINT64_MAX;
  char started[32];
  for (size_t k = 0; k < v->off[v->n_agents]; k++)
    if (v->sorted[k]->started_unix_ms < first)
      first = v->sorted[k]->started_unix_ms;
  head(f, "wsspec conformance report", NULL);
  fputs("<h1>wsspec conformance report</h1>\n<p class=\"intro\">", f);
  fprintf(f, "%zu agent%s, %zu case%s", v->n_agents,
          v->n_agents == 1 ? "" : "s", v->n_cases,
          v->n_cases == 1 ? "" : "s");
  if (first != UINT64_MAX) {
    ws__report_iso_time(started, first);
    fprintf(f, ", run started %s", started);
  }
  fprintf(f, ". Pass rule: behavior OK, NON-STRICT or INFORMATIONAL%s, and "
             "behaviorClose OK or INFORMATIONAL.</p>\n",
          v->strict ? "" : " (or UNIMPLEMENTED)");
  write_summary(f, v);
  write_failures(f, v);
  write_legend(f);
  write_table(f, v);
  write_descriptions(f, v);
  fputs(tail, f);
}

/* ------------------------------------------------------------ case page */

static void write_event(FILE *f, const struct ws_result_event *e) {
  size_t n = e->n_preview < WS_RESULT_PREVIEW ? e->n_preview
                                              : WS_RESULT_PREVIEW;
  switch (e->kind) {
  case WS_EVENT_MESSAGE:
  case WS_EVENT_PONG:
    fprintf(f, "<li>%s", e->kind == WS_EVENT_PONG ? "pong"
                         : e->binary              ? "binary message"
                                                  : "text message");
    fprintf(f, ", %llu octets: <code>", ull(e->len));
    esc_payload(f, e->preview, n, e->len);
    fputs("</code></li>\n", f);
    break;
  case WS_EVENT_TIMEOUT:
    fputs("<li>timeout marker <code>", f);
    ws__report_escape(f, &e->tag, e->tag != 0);
    fputs("</code></li>\n", f);
    break;
  default:
    fprintf(f, "<li>unknown event kind %u</li>\n", (unsigned)e->kind);
    break;
  }
}

static void write_expected(FILE *f, const struct ws_case *c) {
  fputs("<div><h3>Expected</h3>\n", f);
  if (c->flags & WS_CASE_F_INFORMATIONAL) {
    fputs("<p>Informational: any events.</p>\n", f);
  } else if (c->grading == WS_GRADE_ECHO) {
    fprintf(f, "<p>Self-graded: %u echo%s of %llu octets (%s), content not "
               "checked.</p>\n",
            (unsigned)c->echo.count, c->echo.count == 1 ? "" : "es",
            ull(c->echo.length), c->echo.opcode == WS_OP_BINARY ? "binary" : "text");
  }
  for (unsigned i = 0; c->grading == WS_GRADE_EVENTS &&
                       !(c->flags & WS_CASE_F_INFORMATIONAL) &&
                       i < c->n_outcomes && i < 2;
       i++) {
    const struct ws_case_outcome *o = &c->outcomes[i];
    fprintf(f, "<h4>%s</h4>\n", ws__report_verdict(o->verdict));
    if (o->n_events == 0) fputs("<p>Nothing may arrive.</p>\n", f);
    else fputs("<ol>\n", f);
    for (uint32_t k = 0; k < o->n_events; k++) {
      const struct ws_case_event *ce = &o->events[k];
      struct ws_result_event e = {.kind = ce->kind, .binary = ce->binary,
                                  .tag = ce->tag};
      if (ce->kind != WS_EVENT_TIMEOUT) {
        e.len = ws_payload_length(&ce->payload);
        size_t n = e.len < WS_RESULT_PREVIEW ? (size_t)e.len
                                             : WS_RESULT_PREVIEW;
        if (ws_payload_fill(&ce->payload, 0, e.preview, n) == 0)
          e.n_preview = (uint8_t)n;
      }
      write_event(f, &e);
    }
    if (o->n_events > 0) fputs("</ol>\n", f);
  }
  fputs("</div>\n", f);
}

static void write_observed(FILE *f, const struct ws_case_result *r) {
  fputs("<div><h3>Observed</h3>\n", f);
  if (r->n_events == 0) fputs("<p>Nothing arrived.</p>\n", f);
  else fputs("<ol>\n", f);
  for (size_t i = 0; i < r->n_events; i++) write_event(f, &r->events[i]);
  if (r->n_events > 0) fputs("</ol>\n", f);
  if (r->events_total > r->n_events)
    fprintf(f, "<p>%llu more event(s) counted, not stored.</p>\n",
            ull(r->events_total - r->n_events));
  fputs("</div>\n", f);
}

static void flag_row(FILE *f, const char *key, int value, const char *what) {
  fprintf(f, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>\n", key,
          value ? "true" : "false", what);
}

static void code_row(FILE *f, const char *key, int32_t code,
                     const uint8_t *reason, int16_t len, size_t cap,
                     const char *what, const char *what_reason) {
  if (code >= 0) fprintf(f, "<tr><td>%sCode</td><td>%d", key, (int)code);
  else fprintf(f, "<tr><td>%sCode</td><td>None", key);
  fprintf(f, "</td><td>%s</td></tr>\n<tr><td>%sReason</td><td>", what, key);
  if (len >= 0) {
    fputs("<code>", f);
    ws__report_escape(f, (const char *)reason,
                      (size_t)len < cap ? (size_t)len : cap);
    fputs("</code>", f);
  } else {
    fputs("None", f);
  }
  fprintf(f, "</td><td>%s</td></tr>\n", what_reason);
}

/* Autobahn's closing-behaviour table, with "I" = the fuzzer (wsspec). */
static void write_close_table(FILE *f, const struct ws_case_result *r) {
  char rule[256];
  ws__report_close_rule(rule, sizeof(rule), r->kase);
  fputs("<h2>Closing behaviour</h2>\n<p>Expected: ", f);
  esc(f, rule);
  fputs(".</p>\n<table class=\"close_table\">\n<tr><th>Key</th><th>Value"
        "</th><th>Meaning</th></tr>\n",
        f);
  flag_row(f, "isServer", 0, "True when the fuzzer is the server.");
  flag_row(f, "closedByMe", r->closed_by_me,
           "The fuzzer sent the first Close (timers included).");
  flag_row(f, "failedByMe", r->failed_by_me,
           "The fuzzer failed the connection (a protocol error by the peer).");
  flag_row(f, "droppedByMe", r->dropped_by_me,
           "The fuzzer closed the TCP connection.");
  flag_row(f, "wasClean", r->was_clean,
           "Close sent and received, and the server closed TCP in time.");
  fputs("<tr><td>wasNotCleanReason</td><td>", f);
  esc(f, r->was_not_clean_reason != NULL ? r->was_not_clean_reason : "None");
  fputs("</td><td>Why the close was not clean.</td></tr>\n", f);
  flag_row(f, "wasServerConnectionDropTimeout",
           r->was_server_connection_drop_timeout,
           "The server did not close TCP within 1 s after the closing "
           "handshake.");
  flag_row(f, "wasOpenHandshakeTimeout", r->was_open_handshake_timeout,
           "The opening handshake did not finish within 5 s.");
  flag_row(f, "wasCloseHandshakeTimeout", r->was_close_handshake_timeout,
           "The peer did not answer the fuzzer's Close within 1 s.");
  code_row(f, "localClose", r->local_close_code, r->local_reason,
           r->local_reason_len, sizeof(r->local_reason),
           "The close code the fuzzer sent.",
           "The close reason the fuzzer sent.");
  code_row(f, "remoteClose", r->remote_close_code, r->remote_reason,
           r->remote_reason_len, sizeof(r->remote_reason),
           "The close code the peer sent.",
           "The close reason the peer sent.");
  flag_row(f, "deadlineHit", r->deadline_hit,
           "wsspec: the hard deadline of the case ended it.");
  fputs("</table>\n", f);
}

static void write_handshake(FILE *f, const struct ws_case_result *r) {
  fputs("<h2>Opening handshake</h2>\n<pre class=\"block\">", f);
  esc(f, r->http_request != NULL ? r->http_request : "(no request sent)");
  fputs("</pre>\n<pre class=\"block\">", f);
  esc(f, r->http_response != NULL ? r->http_response
                                  : "(no response received)");
  fputs("</pre>\n", f);
}

static const char *opcode_name(unsigned op) {
  switch (op) {
  case 0: return "continuation";
  case 1: return "text";
  case 2: return "binary";
  case 8: return "close";
  case 9: return "ping";
  case 10: return "pong";
  default: return "reserved";
  }
}

static void write_stats(FILE *f, const struct ws_case_result *r) {
  const struct ws_octet_stat *oct[2] = {r->rx_octets, r->tx_octets};
  size_t n_oct[2] = {r->n_rx_octets, r->n_tx_octets};
  const uint64_t *frames[2] = {r->rx_frames, r->tx_frames};
  static const char *const dir[2] = {"Received", "Transmitted"};
  fputs("<h2>Wire statistics</h2>\n", f);
  for (int d = 0; d < 2; d++) {
    uint64_t count = 0, octets = 0;
    fprintf(f, "<h3>Octets %s by chop size</h3>\n<table><tr><th>Chop size"
               "</th><th>Count</th><th>Octets</th></tr>\n",
            dir[d]);
    for (size_t i = 0; i < n_oct[d]; i++) {
      fprintf(f, "<tr><td>%llu</td><td>%llu</td><td>%llu</td></tr>\n",
              ull(oct[d][i].size), ull(oct[d][i].count),
              ull(oct[d][i].size * oct[d][i].count));
      count += oct[d][i].count;
      octets += oct[d][i].size * oct[d][i].count;
    }
    fprintf(f, "<tr><th>Total</th><th>%llu</th><th>%llu</th></tr></table>\n",
            ull(count), ull(octets));
  }
  for (int d = 0; d < 2; d++) {
    uint64_t count = 0;
    fprintf(f, "<h3>Frames %s by opcode</h3>\n<table><tr><th>Opcode</th>"
               "<th>Count</th></tr>\n",
            dir[d]);
    for (unsigned op = 0; op < 16; op++) {
      if (frames[d][op] == 0) continue;
      fprintf(f, "<tr><td>%u (%s)</td><td>%llu</td></tr>\n", op,
              opcode_name(op), ull(frames[d][op]));
      count += frames[d][op];
    }
    fprintf(f, "<tr><th>Total</th><th>%llu</th></tr></table>\n", ull(count));
  }
}

static void mask_text(char out[12], const struct ws_wire_row *w) {
  if (w->masked)
    snprintf(out, 12, "%02x%02x%02x%02x", w->mask[0], w->mask[1], w->mask[2],
             w->mask[3]);
  else
    snprintf(out, 12, "None");
}

/* Details of one wire-log row, as Autobahn's case page words them. */
static void wire_details(FILE *f, const struct ws_wire_row *w) {
  char buf[WS_REPORT_PAYLOAD_MAX], mask[12];
  size_t n = w->n_preview < WS_RESULT_PREVIEW ? w->n_preview
                                              : WS_RESULT_PREVIEW;
  const char *tag = w->tag == 'A' ? "A" : w->tag == 'B' ? "B" : "None";
  mask_text(mask, w);
  switch (w->kind) {
  case WS_WIRE_RO:
  case WS_WIRE_TO:
    ws__report_hex(buf, sizeof(buf), w->preview, n, w->len);
    fprintf(f, "%s OCTETS</td><td>%llu octets%s: <code>%s</code>",
            w->kind == WS_WIRE_RO ? "RX" : "TX", ull(w->len),
            w->kind == WS_WIRE_TO && w->sync ? " (sync)" : "", buf);
    return;
  case WS_WIRE_RF:
  case WS_WIRE_TF:
    fprintf(f, "%s FRAME</td><td>OPCODE=%u, FIN=%s, RSV=%u, PAYLOAD-LEN=%llu"
               ", MASK=%s",
            w->kind == WS_WIRE_RF ? "RX" : "TX", (unsigned)w->opcode,
            w->fin ? "True" : "False", (unsigned)w->rsv, ull(w->len), mask);
    if (w->kind == WS_WIRE_TF)
      fprintf(f, ", CHOPSIZE=%lu, SYNC=%s", (unsigned long)w->chop,
              w->sync ? "True" : "False");
    fputs("<br><code>", f);
    esc_payload(f, w->preview, n, w->len);
    fputs("</code>", f);
    return;
  case WS_WIRE_CT:
    fprintf(f, "DELAY</td><td>%.3f s for tag %s", w->ms / 1000.0, tag);
    return;
  case WS_WIRE_CTE: fprintf(f, "DELAY TIMEOUT</td><td>tag %s", tag); return;
  case WS_WIRE_KL:
    fprintf(f, "FAIL CONNECTION AFTER</td><td>%.3f s", w->ms / 1000.0);
    return;
  case WS_WIRE_KLE: fputs("FAILING CONNECTION</td><td>", f); return;
  case WS_WIRE_TI:
    fprintf(f, "CLOSE CONNECTION AFTER</td><td>%.3f s", w->ms / 1000.0);
    return;
  case WS_WIRE_TIE: fputs("CLOSING CONNECTION</td><td>", f); return;
  case WS_WIRE_WLM:
    fprintf(f, "WIRELOG %s</td><td>", w->enabled ? "ENABLED" : "DISABLED");
    return;
  default: fprintf(f, "ROW %u</td><td>", (unsigned)w->kind); return;
  }
}

static const char *wire_class(uint8_t kind) {
  switch (kind) {
  case WS_WIRE_RO:
  case WS_WIRE_RF: return "wl_rx";
  case WS_WIRE_TO:
  case WS_WIRE_TF: return "wl_tx";
  default: return "wl_timer";
  }
}

static void write_wirelog(FILE *f, const struct ws_case_result *r) {
  fputs("<h2>Wire log</h2>\n", f);
  if (r->n_wire == 0) {
    fputs("<p>No wire log was recorded.</p>\n", f);
    return;
  }
  fputs("<table class=\"wirelog\">\n<tr><th>#</th><th>ms</th><th>Event</th>"
        "<th>Details</th></tr>\n",
        f);
  for (size_t i = 0; i < r->n_wire; i++) {
    const struct ws_wire_row *w = &r->wire[i];
    fprintf(f, "<tr class=\"%s\"><td>%03zu</td><td>%llu</td><td>",
            wire_class(w->kind), i, ull(w->at_ms));
    wire_details(f, w);
    fputs("</td></tr>\n", f);
  }
  if (r->wire_truncated)
    fputs("<tr class=\"wl_timer\"><td></td><td></td><td>TRUNCATED</td><td>"
          "Further rows were not recorded.</td></tr>\n",
          f);
  fprintf(f, "<tr class=\"wl_drop\"><td>%03zu</td><td></td><td>TCP DROPPED "
             "BY %s</td><td></td></tr>\n</table>\n",
          r->n_wire, r->dropped_by_me ? "ME" : "PEER");
}

static void write_case_head(FILE *f, const char *agent,
                            const struct ws_case_result *r, int strict) {
  const struct ws_case *c = r->kase;
  const char *cls, *text = behavior_text(r->behavior, &cls);
  char started[32];
  ws__report_iso_time(started, r->started_unix_ms);
  head(f, "wsspec: case ", c->id);
  fputs("<p><a href=\"index.html\">&larr; index</a></p>\n<h1 class=\"", f);
  fputs(cls, f);
  fputs("\">", f);
  esc(f, agent);
  fprintf(f, " &mdash; Case %s: %s</h1>\n<p>%llu ms @ %s &middot; ", c->id,
          r->behavior == WS_VERDICT_INFORMATIONAL ? "Informational" : text,
          ull(r->duration_ms), started);
  esc(f, ws__report_category(c));
  if (c->subcategory != NULL) {
    fputs(" / ", f);
    esc(f, c->subcategory);
  }
  fputs(" &middot; RFC 6455 Section ", f);
  esc(f, c->section);
  fprintf(f, " &middot; behavior <b>%s</b>, behaviorClose <b>%s</b> &middot;"
             " pass rule%s: <b>%s</b></p>\n",
          ws__report_verdict(r->behavior),
          ws__report_verdict(r->behavior_close), strict ? " (strict)" : "",
          ws_result_passes(r, strict) ? "pass" : "FAIL");
  if (r->error[0] != '\0') {
    fputs("<p class=\"error\">Error: ", f);
    ESC_FIELD(f, r->error);
    fputs("</p>\n", f);
  }
  if (r->deadline_hit)
    fputs("<p class=\"error\">The hard deadline of the case ended it.</p>\n",
          f);
}

static void write_case_page(FILE *f, const char *agent,
                            const struct ws_case_result *r, int strict) {
  const struct ws_case *c = r->kase;
  write_case_head(f, agent, r, strict);
  fputs("<p class=\"block\"><b>Case description</b><br>", f);
  esc(f, c->description);
  fputs("</p>\n<p class=\"block\"><b>Case expectation</b><br>", f);
  esc(f, c->expectation);
  fputs("</p>\n<h2>Outcome</h2>\n<p>", f);
  ESC_FIELD(f, r->result);
  fprintf(f, " (%s)</p>\n<div class=\"events\">\n",
          ws__report_verdict(r->behavior));
  write_expected(f, c);
  write_observed(f, r);
  fputs("</div>\n<p>Closing: ", f);
  ESC_FIELD(f, r->result_close);
  fprintf(f, " (%s)</p>\n", ws__report_verdict(r->behavior_close));
  write_close_table(f, r);
  write_handshake(f, r);
  write_stats(f, r);
  write_wirelog(f, r);
  fputs(tail, f);
}

/* --------------------------------------------------------------- write */

static int write_page(const char *dir, const char *name, const struct view *v,
                      const char *agent, const struct ws_case_result *r,
                      char *err, size_t errlen) {
  struct ws__report_file rf;
  int rc = ws__report_open(&rf, dir, name, err, errlen);
  if (rc != 0) return rc;
  if (r != NULL) write_case_page(rf.f, agent, r, v->strict);
  else write_index(rf.f, v);
  return ws__report_close(&rf, 1, err, errlen);
}

int ws_report_write_html(const char *dir, const struct ws_report_agent *a,
                         size_t n_agents, int strict, char *err,
                         size_t errlen) {
  struct view v;
  char file[256];
  if (dir == NULL)
    return ws__report_fail(err, errlen, WS_EINVAL, "no report directory");
  int rc = ws__report_check(a, n_agents, err, errlen);
  if (rc == 0) rc = ws__report_mkdirs(dir, err, errlen);
  if (rc != 0) return rc;
  rc = view_init(&v, a, n_agents, strict);
  if (rc != 0) {
    view_free(&v);
    return ws__report_fail(err, errlen, rc, "out of memory");
  }
  for (size_t i = 0; i < n_agents && rc == 0; i++)
    for (size_t k = 0; k < a[i].n && rc == 0; k++) {
      const struct ws_case_result *r = &a[i].results[k];
      ws_report_case_file(file, sizeof(file), a[i].agent, r->kase->id,
                          "html");
      rc = write_page(dir, file, &v, a[i].agent, r, err, errlen);
    }
  if (rc == 0) rc = write_page(dir, "index.html", &v, NULL, NULL, err, errlen);
  view_free(&v);
  return rc;
}
