/*
 * ws_rfc862_report.c: the JSON report of an RFC 862 run (ws_rfc862.h,
 * ws_rfc862_write_json), kept apart from the engines in ws_rfc862.c.
 */
#include "conformance/ws_rfc862.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PRINTF(f, a) __attribute__((format(printf, f, a)))

PRINTF(3, 4) static void report_err(char *err, size_t errlen, const char *fmt,
                                   ...) {
  va_list ap;
  if (errlen == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

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
      report_err(err, errlen, "an agent without a name or results");
      return WS_EINVAL;
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
        report_err(err, errlen, "a result without a check");
        return WS_EINVAL;
      }
      if (json_object_get(agent, r->check->id) != NULL) {
        report_err(err, errlen, "check %s twice for agent %s", r->check->id,
                   a[i].agent);
        return WS_EINVAL;
      }
      o = result_json(&a[i], r);
      if (o == NULL || json_object_set_new(agent, r->check->id, o) != 0)
        return WS_ENOMEM;
    }
  }
  return 0;
}

/* "PATH.tmp", then rename: a reader never sees half a file. */
static int tmp_name(char *buf, size_t size, const char *path, char *err,
                    size_t errlen) {
  if (path == NULL || (size_t)snprintf(buf, size, "%s.tmp", path) >= size) {
    report_err(err, errlen, "bad report path");
    return WS_EINVAL;
  }
  return 0;
}

static int commit_file(const char *tmp, const char *path, int e, char *err,
                       size_t errlen) {
  if (e == 0 && rename(tmp, path) != 0)
    e = errno;
  if (e != 0) {
    remove(tmp);
    report_err(err, errlen, "%s: %s", path, strerror(e));
    return -e;
  }
  return 0;
}

int ws_rfc862_write_json(const char *path, const struct ws_rfc862_agent *a,
                         size_t n_agents, char *err, size_t errlen) {
  char tmp[4096];
  json_t *root;
  int r = tmp_name(tmp, sizeof(tmp), path, err, errlen), e = 0;
  if (r != 0)
    return r;
  if (a == NULL && n_agents > 0) {
    report_err(err, errlen, "no agents");
    return WS_EINVAL;
  }
  root = json_object();
  if (root == NULL)
    return WS_ENOMEM;
  r = build_json(root, a, n_agents, err, errlen);
  if (r == WS_ENOMEM)
    report_err(err, errlen, "out of memory");
  if (r == 0) {
    errno = 0;
    /* Autobahn's index.json layout: 3 spaces, keys sorted as strings. */
    if (json_dump_file(root, tmp, JSON_SORT_KEYS | JSON_INDENT(3)) != 0)
      e = errno != 0 ? errno : EIO;
    r = commit_file(tmp, path, e, err, errlen);
  }
  json_decref(root);
  return r;
}
