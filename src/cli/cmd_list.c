/*
 * cmd_list.c: `wsspec list`, the case catalogue (conformance/ws_case.h) as
 * aligned text or JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_list.h"
#include "conformance/ws_case.h"

static const char usage_text[] =
    "usage: wsspec list [PATTERN...] [options]\n"
    "\n"
    "Prints the conformance cases (the Autobahn|Testsuite catalogue,\n"
    "categories 1-7, 9 and 10) in Autobahn order, one line per case: the\n"
    "case id, the RFC 6455 section it checks and what it sends.\n"
    "\n"
    "PATTERN selects cases as Autobahn's \"cases\" list does: a case id\n"
    "(6.4.3), or a pattern whose '*' matches anything and that is anchored\n"
    "at the start only (6.4.* is 6.4.x; 1* is 1.x and 10.x). Several\n"
    "patterns may be given, also separated by commas. Default: *.\n"
    "\n"
    "options:\n"
    "  --exclude P[,P]   drop the cases matching these patterns (repeatable)\n"
    "  --json            print a JSON array, one object per case, with the\n"
    "                    category, subcategory, expectation and flags too\n"
    "  --help            print this help and exit\n"
    "\n"
    "Exit codes: 0 cases listed; 1 no case matches; 2 usage error (an\n"
    "unknown option or case id).\n";

static void print_text(const struct ws_case *const *cases, size_t n) {
  int id_w = 0, sec_w = 0;
  for (size_t i = 0; i < n; i++) {
    int a = (int)strlen(cases[i]->id), b = (int)strlen(cases[i]->section);
    if (a > id_w) id_w = a;
    if (b > sec_w) sec_w = b;
  }
  for (size_t i = 0; i < n; i++)
    printf("%-*s  %-*s  %s\n", id_w, cases[i]->id, sec_w,
           cases[i]->section, cases[i]->description);
}

/* A JSON string. The catalogue's texts are UTF-8 (checked by
 * tests/test_cases.c), so only quotes, backslashes and control characters
 * need escapes. */
static void json_string(const char *s) {
  putchar('"');
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

static void json_flags(uint32_t flags) {
  static const struct {
    uint32_t bit;
    const char *name;
  } names[] = {
      {WS_CASE_F_FATAL, "fatal"},
      {WS_CASE_F_INFORMATIONAL, "informational"},
      {WS_CASE_F_WRONG_CODE_FAILS, "wrong-code-fails"},
      {WS_CASE_F_DEFLATE, "deflate"},
      {WS_CASE_F_SUPPRESS_CLOSE, "suppress-close"},
      {WS_CASE_F_REPORT_TIME, "report-time"},
      {WS_CASE_F_QUIET_WIRELOG, "quiet-wirelog"},
      {WS_CASE_F_TX_FRAME_CHECK, "tx-frame-check"},
      {WS_CASE_F_EXTENDED, "extended"},
  };
  const char *sep = "";
  putchar('[');
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (flags & names[i].bit) {
      printf("%s\"%s\"", sep, names[i].name);
      sep = ", ";
    }
  }
  putchar(']');
}

static void print_json(const struct ws_case *const *cases, size_t n) {
  puts("[");
  for (size_t i = 0; i < n; i++) {
    const struct ws_case *c = cases[i];
    const char *title = ws_case_category_title(c->category);
    fputs("  {\"id\": ", stdout);
    json_string(c->id);
    printf(", \"category\": %u, \"category_title\": ", c->category);
    json_string(title != NULL ? title : "");
    fputs(", \"subcategory\": ", stdout);
    if (c->subcategory != NULL)
      json_string(c->subcategory);
    else
      fputs("null", stdout);
    fputs(", \"section\": ", stdout);
    json_string(c->section);
    fputs(", \"description\": ", stdout);
    json_string(c->description);
    fputs(", \"expectation\": ", stdout);
    json_string(c->expectation);
    printf(", \"non_strict\": %s, \"flags\": ",
           c->n_outcomes > 1 ? "true" : "false");
    json_flags(c->flags);
    printf("}%s\n", i + 1 < n ? "," : "");
  }
  puts("]");
}

static int usage_error(const char *fmt, const char *arg) {
  return ws_cli_usage_error("list", "list", fmt, arg);
}

/* Selects and prints; |inc| is never empty here. */
static int list(const struct ws_cli_strv *inc, const struct ws_cli_strv *exc,
                int json) {
  size_t cap = ws_case_count(), bad = 0;
  const struct ws_case **sel = malloc(cap * sizeof(*sel));
  if (sel == NULL) {
    fputs("wsspec list: out of memory\n", stderr);
    return 1;
  }
  ws_ssize n = ws_case_select((const char *const *)inc->v, inc->n,
                              (const char *const *)exc->v, exc->n, sel, cap,
                              &bad);
  int rc = 0;
  if (n < 0) {
    rc = usage_error("unknown case id '%s'", bad < inc->n ? inc->v[bad] : "");
  } else if (n == 0) {
    fputs("wsspec list: no case matches\n", stderr);
    rc = 1;
  } else {
    if (json)
      print_json(sel, (size_t)n);
    else
      print_text(sel, (size_t)n);
    if (fflush(stdout) != 0 || ferror(stdout)) {
      perror("wsspec list: stdout");
      rc = 1;
    }
  }
  free(sel);
  return rc;
}

int ws_cli_list(int argc, char **argv) {
  struct ws_cli_strv inc = {0}, exc = {0};
  int json = 0, rc = -1;
  for (int i = 1; i < argc && rc < 0; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage_text, stdout);
      rc = 0;
    } else if (strcmp(a, "--json") == 0) {
      json = 1;
    } else if (strcmp(a, "--exclude") == 0 ||
               strncmp(a, "--exclude=", 10) == 0) {
      const char *v = a[9] == '=' ? a + 10
                                  : (i + 1 < argc ? argv[++i] : NULL);
      if (v == NULL)
        rc = usage_error("%s needs a value", "--exclude");
      else if (ws_cli_strv_split(&exc, v) != 0)
        rc = usage_error("%s", "out of memory");
    } else if (a[0] == '-' && a[1] != '\0') {
      rc = usage_error("unknown option '%s'", a);
    } else if (ws_cli_strv_split(&inc, a) != 0) {
      rc = usage_error("%s", "out of memory");
    }
  }
  if (rc < 0) {
    if (inc.n == 0 && ws_cli_strv_split(&inc, "*") != 0)
      rc = usage_error("%s", "out of memory");
    else
      rc = list(&inc, &exc, json);
  }
  ws_cli_strv_clear(&inc);
  ws_cli_strv_clear(&exc);
  return rc;
}
