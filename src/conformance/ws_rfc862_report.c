/*
 * ws_rfc862_report.c: the reports of an RFC 862 run (ws_rfc862.h): the
 * JSON file and the JUnit XML, kept apart from the engines in
 * ws_rfc862.c. Files, escaping and errors go through the report helpers
 * of ws_report.h (written to PATH.tmp, then renamed).
 */
#include "conformance/ws_rfc862.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "conformance/ws_report.h"

static int set_int(json_t *o, const char *key, json_int_t v) {
  return json_object_set_new(o, key, json_integer(v));
}

/* -1 is "none": null. */
static int set_opt(json_t *o, const char *key, int64_t v) {
  return json_object_set_new(o, key, v < 0 ? json_null() : json_integer(v));
}

static int set_str(json_t *o, const char *key, const char *v) {
  return json_object_set_new(o, key, json_string(v != NULL ? v : ""));
}

static json_t *result_json(const struct ws_rfc862_agent *a,
                           const struct ws_rfc862_result *r) {
  const struct ws_rfc862_check *k = r->check;
  json_t *o = json_object();
  int bad = o == NULL;
  if (bad)
    return NULL;
  bad |= set_str(o, "verdict", ws_rfc862_verdict_name(r->verdict));
  bad |= set_str(o, "reason", r->reason);
  bad |= set_int(o, "duration", (json_int_t)r->duration_ms);
  bad |= set_str(o, "description", k->description);
  bad |= set_str(o, "section", k->section);
  bad |= set_str(o, "url", a->url);
  if (k->proto == WS_RFC862_TCP) {
    bad |= set_int(o, "bytesSent", (json_int_t)r->bytes_sent);
    bad |= set_int(o, "bytesEchoed", (json_int_t)r->bytes_echoed);
    bad |= set_int(o, "clients", r->clients);
    bad |= set_int(o, "clientsOk", r->clients_ok);
    bad |= set_opt(o, "firstDifference", r->first_difference);
    if (k->kind == WS_RFC862_TCP_HALF_CLOSE ||
        k->kind == WS_RFC862_TCP_EARLY_CLOSE)
      bad |= set_opt(o, "eofMs", r->eof_ms);
  } else {
    bad |= set_int(o, "datagrams", r->datagrams);
    bad |= set_int(o, "sent", r->sent);
    bad |= set_int(o, "answered", r->answered);
    bad |= set_int(o, "duplicates", r->duplicates);
    bad |= set_int(o, "lost", r->lost);
    bad |= set_int(o, "retries", r->retries);
    bad |= set_int(o, "truncated", r->truncated);
    bad |= set_int(o, "stray", r->stray);
    bad |= set_opt(o, "truncatedTo", r->truncated_to);
  }
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* Builds {agent: {id: {...}}}. 0, WS_EINVAL or WS_ENOMEM. */
static int build_json(json_t *root, const struct ws_rfc862_agent *a,
                      size_t n_agents, char *err, size_t errlen) {
  for (size_t i = 0; i < n_agents; i++) {
    json_t *agent;
    if (a[i].agent == NULL || a[i].agent[0] == '\0' ||
        (a[i].results == NULL && a[i].n > 0)) {
      return ws__report_fail(err, errlen, WS_EINVAL,
                             "an agent without a name or results");
    }
    agent = json_object_get(root, a[i].agent);
    if (agent == NULL) {
      agent = json_object();
      if (agent == NULL || json_object_set_new(root, a[i].agent, agent) != 0)
        return WS_ENOMEM;
    }
    for (size_t j = 0; j < a[i].n; j++) {
      const struct ws_rfc862_result *r = &a[i].results[j];
      json_t *o;
      if (r->check == NULL) {
        return ws__report_fail(err, errlen, WS_EINVAL,
                               "a result without a check");
      }
      if (json_object_get(agent, r->check->id) != NULL) {
        return ws__report_fail(err, errlen, WS_EINVAL,
                               "check %s twice for agent %s", r->check->id,
                               a[i].agent);
      }
      o = result_json(&a[i], r);
      if (o == NULL || json_object_set_new(agent, r->check->id, o) != 0)
        return WS_ENOMEM;
    }
  }
  return 0;
}

/* Opens |path| (its directories created) for writing as PATH.tmp. */
static int open_report(struct ws__report_file *rf, const char *path,
                       char *err, size_t errlen) {
  if (path == NULL)
    return ws__report_fail(err, errlen, WS_EINVAL, "bad report path");
  int r = ws__report_parent_dirs(path, err, errlen);
  return r != 0 ? r : ws__report_open(rf, NULL, path, err, errlen);
}

int ws_rfc862_write_json(const char *path, const struct ws_rfc862_agent *a,
                         size_t n_agents, char *err, size_t errlen) {
  struct ws__report_file rf;
  json_t *root;
  int r;
  if (a == NULL && n_agents > 0)
    return ws__report_fail(err, errlen, WS_EINVAL, "no agents");
  root = json_object();
  if (root == NULL)
    return WS_ENOMEM;
  r = build_json(root, a, n_agents, err, errlen);
  if (r == WS_ENOMEM)
    ws__report_fail(err, errlen, r, "out of memory");
  if (r == 0)
    r = open_report(&rf, path, err, errlen);
  if (r == 0) {
    /* Autobahn's index.json layout: 3 spaces, keys sorted as strings. */
    if (json_dumpf(root, rf.f, JSON_SORT_KEYS | JSON_INDENT(3)) == 0) {
      r = ws__report_close(&rf, 1, err, errlen);
    } else {
      /* Jansson fails on a short write or on memory. */
      r = ferror(rf.f) ? -EIO : WS_ENOMEM;
      ws__report_close(&rf, 0, err, errlen);
      ws__report_fail(err, errlen, r, "%s: cannot write the JSON", path);
    }
  }
  json_decref(root);
  return r;
}

static void xml(FILE *f, const char *s) {
  if (s != NULL)
    ws__report_escape(f, s, strlen(s));
}

static void junit_case(FILE *f, const struct ws_rfc862_agent *a,
                       const struct ws_rfc862_result *r) {
  const struct ws_rfc862_check *k = r->check;
  fputs("    <testcase classname=\"", f);
  xml(f, a->agent);
  fprintf(f, ".%s\" name=\"%s ", ws_rfc862_proto_name(k->proto), k->id);
  xml(f, k->title);
  fprintf(f, "\" time=\"%.3f\"", (double)r->duration_ms / 1000.0);
  if (r->verdict == WS_RFC862_PASS) {
    fputs("/>\n", f);
    return;
  }
  fputs(">\n      <failure message=\"", f);
  xml(f, r->reason);
  fputs("\">Expected: ", f);
  xml(f, k->description);
  fputs("\nActual: ", f);
  xml(f, r->reason);
  fputs("\nSection: ", f);
  xml(f, k->section);
  fputs("</failure>\n    </testcase>\n", f);
}

int ws_rfc862_write_junit(const char *path, const struct ws_rfc862_agent *a,
                          size_t n_agents, char *err, size_t errlen) {
  struct ws__report_file rf;
  if (a == NULL && n_agents > 0)
    return ws__report_fail(err, errlen, WS_EINVAL, "no agents");
  for (size_t i = 0; i < n_agents; i++) {
    if (a[i].agent == NULL || (a[i].results == NULL && a[i].n > 0))
      return ws__report_fail(err, errlen, WS_EINVAL,
                             "an agent without a name or results");
    for (size_t j = 0; j < a[i].n; j++)
      if (a[i].results[j].check == NULL)
        return ws__report_fail(err, errlen, WS_EINVAL,
                               "a result without a check");
  }
  int r = open_report(&rf, path, err, errlen);
  if (r != 0)
    return r;
  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", rf.f);
  for (size_t i = 0; i < n_agents; i++) {
    size_t failures = 0;
    uint64_t ms = 0;
    for (size_t j = 0; j < a[i].n; j++) {
      failures += a[i].results[j].verdict != WS_RFC862_PASS;
      ms += a[i].results[j].duration_ms;
    }
    fputs("  <testsuite name=\"wsspec.rfc862.", rf.f);
    xml(rf.f, a[i].agent);
    fprintf(rf.f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
                  "time=\"%.3f\">\n",
            a[i].n, failures, (double)ms / 1000.0);
    for (size_t j = 0; j < a[i].n; j++)
      junit_case(rf.f, &a[i], &a[i].results[j]);
    fputs("  </testsuite>\n", rf.f);
  }
  fputs("</testsuites>\n", rf.f);
  return ws__report_close(&rf, 1, err, errlen);
}
