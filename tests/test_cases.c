/*
 * test_cases.c: the case model and the Autobahn catalogue
 * (conformance/ws_case.h): the 301 ids in Autobahn order against a
 * committed list, every case against conformance/autobahn/autobahn_cases.tsv
 * (Autobahn's catalogue as a table: one row per case with its description,
 * expectation, grading, close rule and timers), the structural rules a
 * runner relies on, the
 * flag sets, the UTF-8 vectors against our own validator, payload
 * generators, Autobahn's fragmenter and case selection.
 *
 * The TSV is read from $WSSPEC_AUTOBAHN_TSV, else from the repository
 * (two levels above this source file); a missing file fails the test.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/ws_case.h"
#include "test_support.h"
#include "ws/ws_frame.h"
#include "ws/ws_utf8.h"

#define NCASES 301u

/* The Autobahn ids of categories 1-7, 9, 10 in Autobahn order (from the
 * reference TSV), so the order test fails even without the TSV. */
static const char *const committed_ids[NCASES] = {
    "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8",
    "1.2.1", "1.2.2", "1.2.3", "1.2.4", "1.2.5", "1.2.6", "1.2.7", "1.2.8",
    "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10",
    "2.11", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "4.1.1", "4.1.2",
    "4.1.3", "4.1.4", "4.1.5", "4.2.1", "4.2.2", "4.2.3", "4.2.4", "4.2.5",
    "5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8", "5.9", "5.10",
    "5.11", "5.12", "5.13", "5.14", "5.15", "5.16", "5.17", "5.18", "5.19",
    "5.20", "6.1.1", "6.1.2", "6.1.3", "6.2.1", "6.2.2", "6.2.3", "6.2.4",
    "6.3.1", "6.3.2", "6.4.1", "6.4.2", "6.4.3", "6.4.4", "6.5.1", "6.5.2",
    "6.5.3", "6.5.4", "6.5.5", "6.6.1", "6.6.2", "6.6.3", "6.6.4", "6.6.5",
    "6.6.6", "6.6.7", "6.6.8", "6.6.9", "6.6.10", "6.6.11", "6.7.1", "6.7.2",
    "6.7.3", "6.7.4", "6.8.1", "6.8.2", "6.9.1", "6.9.2", "6.9.3", "6.9.4",
    "6.10.1", "6.10.2", "6.10.3", "6.11.1", "6.11.2", "6.11.3", "6.11.4",
    "6.11.5", "6.12.1", "6.12.2", "6.12.3", "6.12.4", "6.12.5", "6.12.6",
    "6.12.7", "6.12.8", "6.13.1", "6.13.2", "6.13.3", "6.13.4", "6.13.5",
    "6.14.1", "6.14.2", "6.14.3", "6.14.4", "6.14.5", "6.14.6", "6.14.7",
    "6.14.8", "6.14.9", "6.14.10", "6.15.1", "6.16.1", "6.16.2", "6.16.3",
    "6.17.1", "6.17.2", "6.17.3", "6.17.4", "6.17.5", "6.18.1", "6.18.2",
    "6.18.3", "6.18.4", "6.18.5", "6.19.1", "6.19.2", "6.19.3", "6.19.4",
    "6.19.5", "6.20.1", "6.20.2", "6.20.3", "6.20.4", "6.20.5", "6.20.6",
    "6.20.7", "6.21.1", "6.21.2", "6.21.3", "6.21.4", "6.21.5", "6.21.6",
    "6.21.7", "6.21.8", "6.22.1", "6.22.2", "6.22.3", "6.22.4", "6.22.5",
    "6.22.6", "6.22.7", "6.22.8", "6.22.9", "6.22.10", "6.22.11", "6.22.12",
    "6.22.13", "6.22.14", "6.22.15", "6.22.16", "6.22.17", "6.22.18",
    "6.22.19", "6.22.20", "6.22.21", "6.22.22", "6.22.23", "6.22.24",
    "6.22.25", "6.22.26", "6.22.27", "6.22.28", "6.22.29", "6.22.30",
    "6.22.31", "6.22.32", "6.22.33", "6.22.34", "6.23.1", "6.23.2", "6.23.3",
    "6.23.4", "6.23.5", "6.23.6", "6.23.7", "7.1.1", "7.1.2", "7.1.3",
    "7.1.4", "7.1.5", "7.1.6", "7.3.1", "7.3.2", "7.3.3", "7.3.4", "7.3.5",
    "7.3.6", "7.5.1", "7.7.1", "7.7.2", "7.7.3", "7.7.4", "7.7.5", "7.7.6",
    "7.7.7", "7.7.8", "7.7.9", "7.7.10", "7.7.11", "7.7.12", "7.7.13",
    "7.9.1", "7.9.2", "7.9.3", "7.9.4", "7.9.5", "7.9.6", "7.9.7", "7.9.8",
    "7.9.9", "7.13.1", "7.13.2", "9.1.1", "9.1.2", "9.1.3", "9.1.4", "9.1.5",
    "9.1.6", "9.2.1", "9.2.2", "9.2.3", "9.2.4", "9.2.5", "9.2.6", "9.3.1",
    "9.3.2", "9.3.3", "9.3.4", "9.3.5", "9.3.6", "9.3.7", "9.3.8", "9.3.9",
    "9.4.1", "9.4.2", "9.4.3", "9.4.4", "9.4.5", "9.4.6", "9.4.7", "9.4.8",
    "9.4.9", "9.5.1", "9.5.2", "9.5.3", "9.5.4", "9.5.5", "9.5.6", "9.6.1",
    "9.6.2", "9.6.3", "9.6.4", "9.6.5", "9.6.6", "9.7.1", "9.7.2", "9.7.3",
    "9.7.4", "9.7.5", "9.7.6", "9.8.1", "9.8.2", "9.8.3", "9.8.4", "9.8.5",
    "9.8.6", "10.1.1",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A NUL-terminated copy of |s| whose terminator is the last byte before
 * a PROT_NONE page. */
static struct guarded gstr(const char *s) {
  return guarded_copy(s, strlen(s) + 1);
}

static int in_list(const char *id, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(id, list[i]) == 0) return 1;
  return 0;
}

/* Number of dot-separated components of |id|, and its first one. */
static unsigned id_parts(const char *id, unsigned *first) {
  unsigned n = 1;
  *first = (unsigned)strtoul(id, NULL, 10);
  for (; *id != '\0'; id++)
    if (*id == '.') n++;
  return n;
}

/* ---- The catalogue ------------------------------------------------------ */

static void test_catalogue_ids(void **state) {
  (void)state;
  assert_int_equal(ws_case_count(), NCASES);
  for (size_t i = 0; i < NCASES; i++) {
    const struct ws_case *c = ws_case_get(i);
    assert_non_null(c);
    if (strcmp(c->id, committed_ids[i]) != 0)
      fail_msg("case %zu is %s, want %s", i, c->id, committed_ids[i]);
    assert_ptr_equal(ws_case_find(committed_ids[i]), c);
  }
  assert_null(ws_case_get(NCASES));
  assert_null(ws_case_get((size_t)-1));
  assert_null(ws_case_find("1.1"));
  assert_null(ws_case_find("12.1.1"));
  assert_null(ws_case_find("1.1.1 "));
  assert_null(ws_case_find(""));
  assert_null(ws_case_find(NULL));
}

static void test_catalogue_order(void **state) {
  (void)state;
  for (size_t i = 1; i < ws_case_count(); i++) {
    const char *a = ws_case_get(i - 1)->id, *b = ws_case_get(i)->id;
    if (ws_case_id_compare(a, b) >= 0 || ws_case_id_compare(b, a) <= 0)
      fail_msg("%s is not before %s", a, b);
  }
}

static void test_id_compare(void **state) {
  static const struct {
    const char *a, *b;
    int want;
  } t[] = {
      {"1.1.9", "1.1.10", -1}, {"1.1.10", "1.2.1", -1},
      {"2.9", "2.10", -1},     {"9.8.6", "10.1.1", -1},
      {"6.4", "6.4.1", -1},    {"6.22.34", "6.23.1", -1},
      {"6", "6", 0},           {"01.1", "1.1", 0},
      {"1.9", "1.x", -1},      {"1.a", "1.b", -1},
      {"1.ab", "1.a", 1},      {"99999999999999999999.1", "2.1", 1},
      {"", "1", 1},            {"12.1.1", "13.1.1", -1},
  };
  (void)state;
  for (size_t i = 0; i < N(t); i++) {
    struct guarded a = gstr(t[i].a), b = gstr(t[i].b);
    int r = ws_case_id_compare((char *)a.data, (char *)b.data);
    int rr = ws_case_id_compare((char *)b.data, (char *)a.data);
    if (r != t[i].want || rr != -t[i].want)
      fail_msg("compare(%s, %s) = %d / %d, want %d", t[i].a, t[i].b, r, rr,
               t[i].want);
    guarded_free(&a);
    guarded_free(&b);
  }
}

/* ---- Patterns and selection -------------------------------------------- */

static void test_match(void **state) {
  static const struct {
    const char *pattern, *id;
    enum ws_match_mode mode;
    int want;
  } t[] = {
      /* Autobahn "cases": literal ids, or start-anchored '*' patterns. */
      {"1.1.1", "1.1.1", WS_MATCH_PREFIX, 1},
      {"1.1.1", "1.1.10", WS_MATCH_PREFIX, 0},
      {"1.1", "1.1.1", WS_MATCH_PREFIX, 0},
      {"1*", "1.1.1", WS_MATCH_PREFIX, 1},
      {"1*", "10.1.1", WS_MATCH_PREFIX, 1},
      {"1*", "12.4.7", WS_MATCH_PREFIX, 1},
      {"1*", "2.1", WS_MATCH_PREFIX, 0},
      {"9.*", "9.1.1", WS_MATCH_PREFIX, 1},
      {"9.*", "19.1.1", WS_MATCH_PREFIX, 0},
      {"9.*", "9", WS_MATCH_PREFIX, 0},
      {"*", "6.4.3", WS_MATCH_PREFIX, 1},
      {"*", "", WS_MATCH_PREFIX, 1},
      {"6.*.3", "6.4.3", WS_MATCH_PREFIX, 1},
      {"6.*.3", "6.4.30", WS_MATCH_PREFIX, 1}, /* end not anchored */
      {"6.*.3", "6.4.2", WS_MATCH_PREFIX, 0},
      {"*.1", "7.1.6", WS_MATCH_PREFIX, 1},
      {"*.1", "10.1.1", WS_MATCH_PREFIX, 1},
      {"*.13.", "7.13.1", WS_MATCH_PREFIX, 1},
      {"*.13.", "7.1.3", WS_MATCH_PREFIX, 0},
      {"1.1.1*", "1.1.10", WS_MATCH_PREFIX, 1},
      {"**", "2.1", WS_MATCH_PREFIX, 1},
      /* "exclude-agent-cases": both ends anchored. */
      {"*", "6.4.3", WS_MATCH_FULL, 1},
      {"6.4.*", "6.4.3", WS_MATCH_FULL, 1},
      {"6.*.3", "6.4.30", WS_MATCH_FULL, 0},
      {"6.*.3", "6.4.3", WS_MATCH_FULL, 1},
      {"6.4", "6.4.3", WS_MATCH_FULL, 0},
      {"6.4.3", "6.4.3", WS_MATCH_FULL, 1},
      {"*.1", "10.1.1", WS_MATCH_FULL, 1},
      {"*.1", "10.1.2", WS_MATCH_FULL, 0},
      {"a*b*c", "axxbyyc", WS_MATCH_FULL, 1},
      {"a*b*c", "axxbyyd", WS_MATCH_FULL, 0},
      {"", "", WS_MATCH_FULL, 1},
      {"", "1", WS_MATCH_FULL, 0},
  };
  (void)state;
  for (size_t i = 0; i < N(t); i++) {
    struct guarded p = gstr(t[i].pattern), s = gstr(t[i].id);
    int r = ws_case_match((char *)p.data, (char *)s.data, t[i].mode);
    if (r != t[i].want)
      fail_msg("match(%s, %s, %d) = %d", t[i].pattern, t[i].id,
               (int)t[i].mode, r);
    guarded_free(&p);
    guarded_free(&s);
  }
  assert_int_equal(ws_case_match(NULL, "1.1.1", WS_MATCH_PREFIX), 0);
  assert_int_equal(ws_case_match("*", NULL, WS_MATCH_FULL), 0);
}

/* Selects with the given patterns; returns the count, checks the order. */
static ws_ssize sel(const char *const *inc, size_t ninc,
                    const char *const *exc, size_t nexc,
                    const struct ws_case **out) {
  size_t bad = 999;
  ws_ssize n = ws_case_select(inc, ninc, exc, nexc, out, NCASES, &bad);
  for (ws_ssize i = 1; i < n; i++)
    assert_true(ws_case_id_compare(out[i - 1]->id, out[i]->id) < 0);
  if (n >= 0) assert_int_equal(bad, 999); /* untouched on success */
  return n;
}

static void test_select(void **state) {
  const struct ws_case *out[NCASES];
  (void)state;
  {
    const char *inc[] = {"1.*"};
    assert_int_equal(sel(inc, 1, NULL, 0, out), 16);
    assert_string_equal(out[0]->id, "1.1.1");
    assert_string_equal(out[15]->id, "1.2.8");
  }
  {
    const char *inc[] = {"6.4.*"};
    assert_int_equal(sel(inc, 1, NULL, 0, out), 4);
    static const char *const want[] = {"6.4.1", "6.4.2", "6.4.3", "6.4.4"};
    for (int i = 0; i < 4; i++) assert_string_equal(out[i]->id, want[i]);
  }
  {
    const char *inc[] = {"*"};
    assert_int_equal(sel(inc, 1, NULL, 0, out), NCASES);
    for (size_t i = 0; i < NCASES; i++)
      assert_ptr_equal(out[i], ws_case_get(i));
  }
  {
    /* The usual CI spec: everything but the slow 9.x. */
    const char *inc[] = {"*"}, *exc[] = {"9.*"};
    assert_int_equal(sel(inc, 1, exc, 1, out), NCASES - 54);
    for (size_t i = 0; i < NCASES - 54; i++)
      assert_true(strncmp(out[i]->id, "9.", 2) != 0);
    assert_string_equal(out[NCASES - 55]->id, "10.1.1");
    assert_string_equal(out[NCASES - 56]->id, "7.13.2");
  }
  {
    const char *inc[] = {"2.10"};
    assert_int_equal(sel(inc, 1, NULL, 0, out), 1);
    assert_ptr_equal(out[0], ws_case_find("2.10"));
  }
  {
    /* Prefix anchoring only at the start: "1*" is 1.x and 10.x. */
    const char *inc[] = {"1*"};
    assert_int_equal(sel(inc, 1, NULL, 0, out), 17);
    assert_string_equal(out[16]->id, "10.1.1");
  }
  {
    /* "7.1*" takes 7.13.x too, as Autobahn's regex does. */
    const char *inc[] = {"7.1*"};
    assert_int_equal(sel(inc, 1, NULL, 0, out), 8);
    assert_string_equal(out[6]->id, "7.13.1");
  }
  {
    /* A pattern that matches nothing selects nothing; no error. */
    const char *inc[] = {"12.*", "13.*", "8*"};
    assert_int_equal(sel(inc, 3, NULL, 0, out), 0);
  }
  {
    /* Duplicates and overlaps: each case once, in catalogue order. */
    const char *inc[] = {"2.9", "2.*", "2.1", "2.1*"};
    assert_int_equal(sel(inc, 4, NULL, 0, out), 11);
    assert_string_equal(out[0]->id, "2.1");
    assert_string_equal(out[10]->id, "2.11");
  }
  {
    /* Exclusions: literal ids (unknown ones are ignored) and patterns. */
    const char *inc[] = {"5.*", "7.7.*"};
    const char *exc[] = {"5.1*", "7.7.13", "99.1", "7.7.1"};
    assert_int_equal(sel(inc, 2, exc, 4, out), 9 + 11);
    assert_string_equal(out[0]->id, "5.2");
    assert_string_equal(out[8]->id, "5.20"); /* "5.1*" took 5.1, 5.10-19 */
    assert_string_equal(out[9]->id, "7.7.2");
    assert_string_equal(out[19]->id, "7.7.12");
  }
  {
    /* Everything excluded, and no include pattern at all. */
    const char *inc[] = {"*"}, *exc[] = {"*"};
    assert_int_equal(sel(inc, 1, exc, 1, out), 0);
    assert_int_equal(sel(NULL, 0, NULL, 0, out), 0);
  }
}

/* wsspec's own cases: apart from the Autobahn ids, selected only by
 * patterns that name them. */
static void test_extended(void **state) {
  const struct ws_case *out[NCASES + 64];
  size_t cap = sizeof(out) / sizeof(out[0]), next = ws_case_extended_count();
  (void)state;
  assert_int_equal(ws_case_count(), NCASES);
  assert_true(next >= 11);
  for (size_t i = 0; i < next; i++) {
    const struct ws_case *c = ws_case_extended_get(i);
    assert_non_null(c);
    assert_int_equal(c->id[0], 'x');
    assert_int_equal(c->category, WS_CAT_EXTENDED);
    assert_true(c->flags & WS_CASE_F_EXTENDED);
    assert_ptr_equal(ws_case_find(c->id), c);
    if (i > 0)
      assert_true(ws_case_id_compare(ws_case_extended_get(i - 1)->id,
                                     c->id) < 0);
  }
  assert_null(ws_case_extended_get(next));
  assert_string_equal(ws_case_category_title(WS_CAT_EXTENDED),
                      "wsspec extensions");
  {
    const char *inc[] = {"*"};
    assert_int_equal(ws_case_select(inc, 1, NULL, 0, out, cap, NULL),
                     NCASES);
  }
  {
    const char *inc[] = {"*", "x.*"}, *exc[] = {"x.1.*"};
    ws_ssize n = ws_case_select(inc, 2, exc, 1, out, cap, NULL);
    assert_int_equal(n, NCASES + next - 8);
    assert_string_equal(out[NCASES]->id, "x.2.1");
  }
  {
    const char *inc[] = {"x.1.3"};
    assert_int_equal(ws_case_select(inc, 1, NULL, 0, out, cap, NULL), 1);
    assert_non_null(out[0]->handshake);
    assert_int_equal(out[0]->handshake->ok[0], 426);
  }
  {
    const char *inc[] = {"*.1.*"}; /* Autobahn pattern: no extended case */
    ws_ssize n = ws_case_select(inc, 1, NULL, 0, out, cap, NULL);
    for (ws_ssize i = 0; i < n; i++)
      assert_true(out[i]->id[0] != 'x');
  }
}

static void test_select_errors(void **state) {
  const struct ws_case *out[NCASES];
  size_t bad = 999;
  (void)state;
  {
    /* A literal include id that names no case: Autobahn crashes later. */
    const char *inc[] = {"1.*", "1.1"};
    assert_int_equal(ws_case_select(inc, 2, NULL, 0, out, NCASES, &bad),
                     WS_EINVAL);
    assert_int_equal(bad, 1);
  }
  {
    const char *inc[] = {"12.1.1"};
    assert_int_equal(ws_case_select(inc, 1, NULL, 0, out, NCASES, NULL),
                     WS_EINVAL);
  }
  {
    const char *inc[] = {"*"}, *exc[] = {"9.*", NULL};
    bad = 999;
    assert_int_equal(ws_case_select(inc, 1, exc, 2, out, NCASES, &bad),
                     WS_EINVAL);
    assert_int_equal(bad, 2);
  }
  {
    const char *inc[] = {NULL};
    bad = 999;
    assert_int_equal(ws_case_select(inc, 1, NULL, 0, out, NCASES, &bad),
                     WS_EINVAL);
    assert_int_equal(bad, 0);
    assert_int_equal(ws_case_select(NULL, 1, NULL, 0, out, NCASES, &bad),
                     WS_EINVAL);
  }
  {
    /* Too small an output: the count is not returned, nothing overflows
     * (the array ends at a guard page). */
    const char *inc[] = {"6.4.*"};
    struct guarded g = guarded_copy(NULL, 0);
    struct guarded g3 = guarded_copy(out, 3 * sizeof(out[0]));
    assert_int_equal(
        ws_case_select(inc, 1, NULL, 0, (const struct ws_case **)g3.data, 3,
                       &bad),
        WS_ENOBUFS);
    assert_int_equal(ws_case_select(inc, 1, NULL, 0, NULL, 0, &bad),
                     WS_ENOBUFS);
    assert_int_equal(
        ws_case_select(inc, 1, NULL, 0, (const struct ws_case **)g.data, 0,
                       &bad),
        WS_ENOBUFS);
    guarded_free(&g);
    guarded_free(&g3);
    /* Exactly enough. */
    struct guarded g4 = guarded_copy(out, 4 * sizeof(out[0]));
    assert_int_equal(
        ws_case_select(inc, 1, NULL, 0, (const struct ws_case **)g4.data, 4,
                       &bad),
        4);
    guarded_free(&g4);
  }
}

/* ---- What every case must look like ------------------------------------ */

static void check_payload(const char *id, const struct ws_payload *p) {
  if (p->kind == WS_PAYLOAD_BYTES) {
    if (p->len > 0 && p->data == NULL) fail_msg("%s: NULL bytes", id);
    if (p->total != 0) fail_msg("%s: BYTES with a total", id);
  } else if (p->kind == WS_PAYLOAD_REPEAT) {
    if (p->len == 0 || p->data == NULL) fail_msg("%s: empty pattern", id);
  } else if (p->kind != WS_PAYLOAD_COUNTER) {
    fail_msg("%s: payload kind %u", id, p->kind);
  }
}

/* The payload of the FRAME_HEAD at |i| equals its FRAME_DATA pieces, back
 * to back, before any other frame (pauses may come in between). */
static void check_head(const struct ws_case *c, uint32_t i) {
  const struct ws_payload *whole = &c->actions[i].frame.payload;
  uint64_t total = ws_payload_length(whole), off = 0;
  uint8_t a[64], b[64];
  assert_true(total <= sizeof(a));
  assert_int_equal(ws_payload_fill(whole, 0, a, (size_t)total), 0);
  for (i++; i < c->n_actions; i++) {
    const struct ws_case_action *x = &c->actions[i];
    if (x->kind == WS_ACT_PAUSE) continue;
    if (x->kind != WS_ACT_FRAME_DATA) break;
    uint64_t n = ws_payload_length(&x->frame.payload);
    if (off + n > total) fail_msg("%s: FRAME_DATA overruns", c->id);
    assert_int_equal(ws_payload_fill(&x->frame.payload, 0, b, (size_t)n), 0);
    if (memcmp(a + off, b, (size_t)n) != 0)
      fail_msg("%s: FRAME_DATA differs at %u", c->id, (unsigned)off);
    off += n;
  }
  if (off != total) fail_msg("%s: FRAME_DATA %u of %u", c->id,
                             (unsigned)off, (unsigned)total);
}

static void check_actions(const struct ws_case *c) {
  unsigned timers = 0;
  int head = 0; /* a FRAME_HEAD is open */
  assert_true(c->n_actions >= 1 && c->actions != NULL);
  for (uint32_t i = 0; i < c->n_actions; i++) {
    const struct ws_case_action *a = &c->actions[i];
    const struct ws_case_frame *f = &a->frame;
    check_payload(c->id, &f->payload);
    if (a->write > WS_WRITE_CHOP) fail_msg("%s: write %u", c->id, a->write);
    if ((a->write == WS_WRITE_CHOP) != (a->chop > 0))
      fail_msg("%s: chop %u with write %u", c->id, a->chop, a->write);
    if (f->rsv > 7 || f->opcode > 15 || f->fin > 1 ||
        f->mask != WS_CASE_MASK_AUTO || f->length_form != 0)
      fail_msg("%s: frame fields out of range", c->id);
    if (a->kind == WS_ACT_FRAME_HEAD)
      head = 1;
    else if (a->kind != WS_ACT_FRAME_DATA && a->kind != WS_ACT_PAUSE)
      head = 0;
    switch (a->kind) {
    case WS_ACT_FRAME:
      break;
    case WS_ACT_FRAME_HEAD:
      check_head(c, i);
      break;
    case WS_ACT_FRAME_DATA:
      if (!head) fail_msg("%s: FRAME_DATA without FRAME_HEAD", c->id);
      break;
    case WS_ACT_MESSAGE:
      if (f->opcode != WS_OP_TEXT && f->opcode != WS_OP_BINARY)
        fail_msg("%s: message opcode %u", c->id, f->opcode);
      break;
    case WS_ACT_CLOSE:
      if (!a->has_code && a->close_code != 0)
        fail_msg("%s: close code without has_code", c->id);
      break;
    case WS_ACT_PAUSE:
      if (a->ms == 0 || (a->tag != 0 && a->tag != 'A' && a->tag != 'B'))
        fail_msg("%s: pause", c->id);
      break;
    case WS_ACT_KILL_AFTER:
    case WS_ACT_CLOSE_AFTER:
      if (a->ms == 0) fail_msg("%s: timer of 0 ms", c->id);
      timers++;
      break;
    case WS_ACT_ECHO:
      if (i + 1 != c->n_actions) fail_msg("%s: ECHO not last", c->id);
      break;
    default:
      fail_msg("%s: action kind %u", c->id, a->kind);
    }
  }
  /* Every Autobahn case arms exactly one kill or close timer. */
  if (timers != 1) fail_msg("%s: %u timers", c->id, timers);
}

/* 9.x: the ECHO action, the echo check and the time limit agree. */
static void check_echo(const struct ws_case *c) {
  const struct ws_case_action *last = &c->actions[c->n_actions - 1];
  const struct ws_case_action *timer = &c->actions[0];
  assert_int_equal(last->kind, WS_ACT_ECHO);
  assert_int_equal(timer->kind, WS_ACT_CLOSE_AFTER);
  assert_int_equal(c->n_outcomes, 0);
  assert_int_equal(c->echo.opcode, last->frame.opcode);
  assert_true(c->echo.length == ws_payload_length(&last->frame.payload));
  assert_int_equal(c->echo.count, last->count);
  assert_int_equal(c->echo.limit_ms, timer->ms);
  assert_int_equal(c->flags, WS_CASE_F_REPORT_TIME | WS_CASE_F_QUIET_WIRELOG);
}

static void test_case_invariants(void **state) {
  (void)state;
  for (size_t i = 0; i < ws_case_count(); i++) {
    const struct ws_case *c = ws_case_get(i);
    unsigned first, parts = id_parts(c->id, &first);
    assert_true(strlen(c->id) < WS_CASE_ID_MAX);
    if (c->category != first || ws_case_category_title(first) == NULL)
      fail_msg("%s: category %u", c->id, c->category);
    if ((parts == 3) != (c->subcategory != NULL) || parts < 2)
      fail_msg("%s: subcategory presence", c->id);
    assert_non_null(c->section);
    if (strncmp(c->section, "5.", 2) != 0 && strcmp(c->section, "7.4") != 0 &&
        strcmp(c->section, "8.1") != 0 && strcmp(c->section, "10.4") != 0)
      fail_msg("%s: section %s", c->id, c->section);
    assert_true(c->description != NULL && c->description[0] != '\0');
    assert_true(c->expectation != NULL && c->expectation[0] != '\0');
    assert_int_equal(c->flags & (WS_CASE_F_DEFLATE | WS_CASE_F_EXTENDED), 0);
    if (c->close.n_codes < 1 || c->close.n_codes > 3)
      fail_msg("%s: %u close codes", c->id, c->close.n_codes);
    /* The early-close code and the normal end are 1000. */
    if (c->close.closed_by_me && c->close.codes[0] != 1000 &&
        c->close.codes[0] != 1002)
      fail_msg("%s: codes[0] %u", c->id, c->close.codes[0]);
    check_actions(c);
    if (c->grading == WS_GRADE_ECHO) {
      assert_int_equal(c->category, WS_CAT_LIMITS);
      check_echo(c);
      continue;
    }
    assert_int_equal(c->grading, WS_GRADE_EVENTS);
    assert_true(c->category != WS_CAT_LIMITS);
    if (c->n_outcomes == 0 && !(c->flags & WS_CASE_F_INFORMATIONAL))
      fail_msg("%s: no outcome", c->id);
    assert_true(c->n_outcomes <= 2);
    for (unsigned k = 0; k < c->n_outcomes; k++) {
      const struct ws_case_outcome *o = &c->outcomes[k];
      assert_int_equal(o->verdict,
                       k == 0 ? WS_VERDICT_OK : WS_VERDICT_NON_STRICT);
      assert_true(o->n_events == 0 || o->events != NULL);
      for (uint32_t e = 0; e < o->n_events; e++) {
        const struct ws_case_event *ev = &o->events[e];
        if (ev->kind == WS_EVENT_TIMEOUT) {
          assert_true(ev->tag == 'A' || ev->tag == 'B');
        } else {
          assert_true(ev->kind == WS_EVENT_MESSAGE ||
                      ev->kind == WS_EVENT_PONG);
          check_payload(c->id, &ev->payload);
        }
      }
    }
  }
}

/* ---- Flags and close rules, committed ----------------------------------- */

static const char *const non_strict_ids[] = {
    "3.2",   "3.3",   "3.4",   "4.1.3", "4.1.4", "4.1.5", "4.2.3",
    "4.2.4", "4.2.5", "5.15",  "6.4.1", "6.4.2", "6.4.3", "6.4.4",
};
static const char *const informational_ids[] = {"7.1.6", "7.13.1",
                                                 "7.13.2"};

static int same_codes(const struct ws_case_close *cl, uint16_t a, uint16_t b,
                      uint16_t c, unsigned n) {
  uint16_t want[3] = {a, b, c};
  if (cl->n_codes != n) return 0;
  for (unsigned i = 0; i < n; i++)
    if (cl->codes[i] != want[i]) return 0;
  return 1;
}

static void test_flag_sets(void **state) {
  unsigned fatal = 0, ns = 0, info = 0, wcf = 0;
  unsigned normal = 0, peer1002 = 0, peer1007 = 0, rejected = 0, echo7 = 0;
  (void)state;
  for (size_t i = 0; i < ws_case_count(); i++) {
    const struct ws_case *c = ws_case_get(i);
    const struct ws_case_close *cl = &c->close;
    int is_ns = in_list(c->id, non_strict_ids, N(non_strict_ids));
    int is_info = in_list(c->id, informational_ids, N(informational_ids));
    if ((c->n_outcomes == 2) != is_ns) fail_msg("%s: NON-STRICT", c->id);
    if (!!(c->flags & WS_CASE_F_INFORMATIONAL) != is_info)
      fail_msg("%s: INFORMATIONAL", c->id);
    /* WRONG CODE fails the case in category 7 except the informational. */
    if (!!(c->flags & WS_CASE_F_WRONG_CODE_FAILS) !=
        (c->category == WS_CAT_CLOSE && !is_info))
      fail_msg("%s: WRONG_CODE_FAILS", c->id);
    /* The fatal flag goes with "the peer must fail with 1007". */
    int peer_utf8 = !cl->closed_by_me && same_codes(cl, 1007, 0, 0, 1);
    if (!!(c->flags & WS_CASE_F_FATAL) != peer_utf8)
      fail_msg("%s: FATAL", c->id);
    if (!!(c->flags & WS_CASE_F_SUPPRESS_CLOSE) != !strcmp(c->id, "7.1.6"))
      fail_msg("%s: SUPPRESS_CLOSE", c->id);
    if (!!(c->flags & WS_CASE_F_TX_FRAME_CHECK) != !strcmp(c->id, "10.1.1"))
      fail_msg("%s: TX_FRAME_CHECK", c->id);
    fatal += !!(c->flags & WS_CASE_F_FATAL);
    ns += is_ns;
    info += is_info;
    wcf += !!(c->flags & WS_CASE_F_WRONG_CODE_FAILS);
    if (cl->closed_by_me && cl->require_clean && same_codes(cl, 1000, 0, 0, 1))
      normal++;
    else if (!cl->closed_by_me && !cl->require_clean &&
             same_codes(cl, 1002, 0, 0, 1))
      peer1002++;
    else if (!cl->closed_by_me && !cl->require_clean &&
             same_codes(cl, 1007, 0, 0, 1))
      peer1007++;
    else if (cl->closed_by_me && !cl->require_clean &&
             cl->codes[0] == 1002 && cl->n_codes <= 2)
      rejected++;
    else if (cl->closed_by_me && cl->require_clean && cl->n_codes == 2 &&
             cl->codes[0] == 1000)
      echo7++;
    else if (!is_info)
      fail_msg("%s: unexpected close rule", c->id);
  }
  assert_int_equal(fatal, 75);
  assert_int_equal(ns, 14);
  assert_int_equal(info, 3);
  assert_int_equal(wcf, 34);
  /* Autobahn's expectedClose shapes within categories 1-10 (7.1.6 is a
   * normal one). */
  assert_int_equal(normal, 168 + 1);
  assert_int_equal(peer1002, 30);
  assert_int_equal(peer1007, 75);
  assert_int_equal(rejected, 12); /* 7.3.2, 7.3.6, 7.5.1, 7.9.1-9 */
  assert_int_equal(echo7, 13);    /* 7.7.x: 1000 or the echoed code */
  const struct ws_case *c = ws_case_find("7.5.1");
  assert_true(same_codes(&c->close, 1002, 1007, 0, 2));
  c = ws_case_find("7.13.2");
  assert_true(same_codes(&c->close, 1000, 65535, 1002, 3));
  c = ws_case_find("7.7.10");
  assert_true(same_codes(&c->close, 1000, 3000, 0, 2));
}

/* ---- UTF-8: the vectors against our own validator ----------------------- */

/* The octets of the one text message a category-6 case sends. */
static size_t message_bytes(const struct ws_case *c, uint8_t *out,
                            size_t cap) {
  size_t n = 0;
  for (uint32_t i = 0; i < c->n_actions; i++) {
    const struct ws_case_action *a = &c->actions[i];
    int data = a->kind == WS_ACT_MESSAGE || a->kind == WS_ACT_FRAME_HEAD ||
               (a->kind == WS_ACT_FRAME &&
                (a->frame.opcode == WS_OP_TEXT ||
                 a->frame.opcode == WS_OP_CONTINUATION));
    if (!data) continue;
    size_t len = (size_t)ws_payload_length(&a->frame.payload);
    assert_true(n + len <= cap);
    assert_int_equal(ws_payload_fill(&a->frame.payload, 0, out + n, len), 0);
    n += len;
  }
  return n;
}

static void test_utf8_vectors(void **state) {
  unsigned valid = 0, invalid = 0;
  (void)state;
  for (size_t i = 0; i < ws_case_count(); i++) {
    const struct ws_case *c = ws_case_get(i);
    uint8_t buf[128];
    uint64_t off = 0;
    if (c->category != WS_CAT_UTF8) continue;
    size_t n = message_bytes(c, buf, sizeof(buf));
    struct guarded g = guarded_copy(buf, n);
    int ok = ws_utf8_validate(g.data, n, &off) == WS_UTF8_VALID;
    if (ok == !!(c->flags & WS_CASE_F_FATAL))
      fail_msg("%s: our validator says %s", c->id, ok ? "valid" : "invalid");
    if (ok) {
      /* A valid message must come back as exactly one identical text. */
      const struct ws_case_outcome *o = &c->outcomes[0];
      assert_int_equal(c->n_outcomes, 1);
      assert_int_equal(o->n_events, 1);
      assert_int_equal(o->events[0].kind, WS_EVENT_MESSAGE);
      assert_int_equal(o->events[0].binary, 0);
      if (!ws_payload_equal(&o->events[0].payload, g.data, n))
        fail_msg("%s: expected echo differs from what is sent", c->id);
      valid++;
    } else {
      invalid++;
    }
    guarded_free(&g);
  }
  /* 6.1-6.2: 7 valid; 6.3-6.4: 6 invalid; vectors: 63 + 69. */
  assert_int_equal(valid, 7 + 63);
  assert_int_equal(invalid, 6 + 69);
}

/* 6.3.x and 6.4.x: the message is "κόσμε" + an invalid code point whose
 * 2nd octet (message octet 12) is the fail-fast point; in 6.4.x it lies in
 * part 2 of 3, part 1 is a valid prefix. */
static void test_utf8_fail_fast(void **state) {
  static const char *const ids[] = {"6.3.1", "6.3.2", "6.4.1",
                                    "6.4.2", "6.4.3", "6.4.4"};
  (void)state;
  for (size_t k = 0; k < N(ids); k++) {
    const struct ws_case *c = ws_case_find(ids[k]);
    uint8_t buf[64];
    uint64_t off = 0;
    size_t n = message_bytes(c, buf, sizeof(buf));
    assert_int_equal(n, k < 2 ? 20 : 21);
    assert_int_equal(ws_utf8_validate(buf, n, &off), WS_UTF8_INVALID);
    assert_int_equal(off, 12);
    if (k < 2) continue;
    /* The parts: data frames or FRAME_DATA pieces, split by pauses. */
    size_t parts[3] = {0, 0, 0}, p = 0;
    for (uint32_t i = 0; i < c->n_actions; i++) {
      const struct ws_case_action *a = &c->actions[i];
      if (a->kind == WS_ACT_PAUSE) {
        assert_int_equal(a->tag, p == 0 ? 'A' : 'B');
        assert_int_equal(a->ms, 1000);
        p++;
      } else if (a->kind == WS_ACT_FRAME_DATA ||
                 (a->kind == WS_ACT_FRAME && a->frame.opcode <= 1)) {
        parts[p] += (size_t)ws_payload_length(&a->frame.payload);
      }
    }
    assert_int_equal(p, 2);
    assert_int_equal(parts[0] + parts[1] + parts[2], 21);
    assert_true(parts[0] <= 12 && 12 < parts[0] + parts[1]);
    struct ws_utf8 v;
    ws_utf8_init(&v, WS_UTF8_AUTO);
    assert_int_equal(ws_utf8_feed(&v, buf, parts[0], NULL), WS_UTF8_VALID);
    /* [A] is OK (failed within 1 s of part 2), [A, B] NON-STRICT. */
    assert_int_equal(c->n_outcomes, 2);
    assert_int_equal(c->outcomes[0].n_events, 1);
    assert_int_equal(c->outcomes[0].events[0].tag, 'A');
    assert_int_equal(c->outcomes[1].n_events, 2);
    assert_int_equal(c->outcomes[1].events[1].tag, 'B');
    assert_int_equal(c->actions[c->n_actions - 1].kind, WS_ACT_KILL_AFTER);
  }
}

/* The first hex string of a description, decoded into |out|: digits
 * after "payload 0x", or a free-standing run of 8 or more lower-case hex digits
 * with a letter in it. Returns 0 when there is none. */
static size_t description_hex(const char *d, uint8_t *out, size_t cap) {
  for (const char *p = d; *p != '\0'; p++) {
    size_t n = strspn(p, "0123456789abcdef");
    int after_0x = p - d >= 10 && strncmp(p - 10, "payload 0x", 10) == 0;
    int alone = p == d || p[-1] == ' ' || p[-1] == '(';
    int word = n > 0 && !isalnum((unsigned char)p[n]);
    if (word && ((after_0x && n % 2 == 0) ||
                 (alone && n >= 8 && strcspn(p, "abcdef") < n))) {
      char digits[300];
      size_t len = 0;
      assert_true(n < sizeof(digits) && n / 2 <= cap);
      memcpy(digits, p, n);
      digits[n] = '\0';
      uint8_t *b = hex_decode(digits, &len);
      memcpy(out, b, len);
      free(b);
      return len;
    }
    if (n > 0) p += n - 1;
  }
  return 0;
}

/* Where a description spells the octets in hex (the 132 vectors, 6.2.1,
 * 6.2.4, 6.3.1, 7.5.1's close reason), the case sends exactly those. */
static void test_description_hex(void **state) {
  unsigned checked = 0;
  (void)state;
  for (size_t i = 0; i < ws_case_count(); i++) {
    const struct ws_case *c = ws_case_get(i);
    uint8_t want[128], got[128];
    size_t n = description_hex(c->description, want, sizeof(want)), m;
    if (n == 0) continue;
    if (c->category == WS_CAT_UTF8) {
      m = message_bytes(c, got, sizeof(got));
    } else {
      /* 7.5.1: the reason of the runner's Close. */
      const struct ws_case_action *a = &c->actions[0];
      assert_string_equal(c->id, "7.5.1");
      assert_int_equal(a->kind, WS_ACT_CLOSE);
      m = (size_t)ws_payload_length(&a->frame.payload);
      assert_int_equal(ws_payload_fill(&a->frame.payload, 0, got, m), 0);
    }
    if (m != n || memcmp(want, got, n) != 0)
      fail_msg("%s: the octets sent differ from the description's hex",
               c->id);
    checked++;
  }
  assert_int_equal(checked, 132 + 4);
}

/* Every text of the catalogue is valid UTF-8 without control characters
 * or stray spaces (it is printed as is, also inside JSON). */
static void test_texts(void **state) {
  (void)state;
  for (size_t i = 0; i < ws_case_count(); i++) {
    const struct ws_case *c = ws_case_get(i);
    const char *texts[] = {c->id, c->section, c->description,
                           c->expectation,
                           c->subcategory ? c->subcategory : "x"};
    for (size_t k = 0; k < N(texts); k++) {
      const char *s = texts[k];
      size_t len = strlen(s);
      if (ws_utf8_validate((const uint8_t *)s, len, NULL) != WS_UTF8_VALID)
        fail_msg("%s: text %zu is not UTF-8", c->id, k);
      for (size_t j = 0; j < len; j++)
        if ((unsigned char)s[j] < 0x20 || s[j] == 0x7f)
          fail_msg("%s: control character in text %zu", c->id, k);
      if (len == 0 || s[0] == ' ' || s[len - 1] == ' ' || strstr(s, "  "))
        fail_msg("%s: spacing in text %zu: '%s'", c->id, k, s);
    }
  }
}

/* ---- What a correct peer echoes, from the wire --------------------------- */

/* The messages and pongs a correct peer sends back for the frames a case
 * sends, modelled independently of the case's outcome lists: complete
 * valid messages are echoed, valid Pings answered, and everything stops at
 * the first frame that must fail the connection or at the runner's Close
 * (RFC 6455 Sections 5.2, 5.4, 5.5, 8.1). */
struct wire_model {
  uint8_t *msg[8];
  size_t msg_len[8];
  int msg_binary[8];
  size_t n_msgs;
  const struct ws_payload *pong[16];
  size_t n_pongs;
};

static void add_bytes(uint8_t **buf, size_t *len, const struct ws_payload *p) {
  size_t n = (size_t)ws_payload_length(p);
  *buf = realloc(*buf, *len + n + 1);
  assert_non_null(*buf);
  assert_int_equal(ws_payload_fill(p, 0, *buf + *len, n), 0);
  *len += n;
}

/* Completes the open message; returns 0 when it is invalid text. */
static int complete(struct wire_model *m, uint8_t **buf, size_t len,
                    int binary) {
  if (!binary && ws_utf8_validate(*buf, len, NULL) != WS_UTF8_VALID)
    return 0;
  assert_true(m->n_msgs < N(m->msg));
  m->msg[m->n_msgs] = *buf;
  m->msg_len[m->n_msgs] = len;
  m->msg_binary[m->n_msgs++] = binary;
  *buf = NULL;
  return 1;
}

static void model_wire(const struct ws_case *c, struct wire_model *m) {
  uint8_t *open = NULL;
  size_t len = 0;
  int in_msg = 0, binary = 0;
  memset(m, 0, sizeof(*m));
  for (uint32_t i = 0; i < c->n_actions; i++) {
    const struct ws_case_action *a = &c->actions[i];
    const struct ws_case_frame *f = &a->frame;
    uint64_t plen = ws_payload_length(&f->payload);
    if (a->kind == WS_ACT_PAUSE || a->kind == WS_ACT_KILL_AFTER ||
        a->kind == WS_ACT_CLOSE_AFTER)
      continue;
    if (a->kind == WS_ACT_MESSAGE && !in_msg) {
      len = 0;
      add_bytes(&open, &len, &f->payload);
      if (!complete(m, &open, len, f->opcode == WS_OP_BINARY)) break;
      continue;
    }
    if (a->kind != WS_ACT_FRAME || f->rsv != 0) break;
    if (f->opcode >= 8) { /* control */
      if (!f->fin || plen > 125 || f->opcode == WS_OP_CLOSE ||
          (f->opcode != WS_OP_PING && f->opcode != WS_OP_PONG))
        break;
      if (f->opcode == WS_OP_PING) {
        assert_true(m->n_pongs < N(m->pong));
        m->pong[m->n_pongs++] = &f->payload;
      }
      continue;
    }
    if (f->opcode > WS_OP_BINARY || (f->opcode == 0) != in_msg) break;
    if (f->opcode != 0) {
      in_msg = 1;
      binary = f->opcode == WS_OP_BINARY;
      len = 0;
    }
    add_bytes(&open, &len, &f->payload);
    if (f->fin) {
      in_msg = 0;
      if (!complete(m, &open, len, binary)) break;
    }
  }
  free(open);
}

static void test_expected_echoes(void **state) {
  unsigned checked = 0;
  (void)state;
  for (size_t i = 0; i < ws_case_count(); i++) {
    const struct ws_case *c = ws_case_get(i);
    struct wire_model m;
    size_t nm = 0, np = 0;
    if (c->grading != WS_GRADE_EVENTS || c->n_outcomes == 0) continue;
    model_wire(c, &m);
    const struct ws_case_outcome *ok = &c->outcomes[0];
    for (uint32_t e = 0; e < ok->n_events; e++) {
      const struct ws_case_event *ev = &ok->events[e];
      if (ev->kind == WS_EVENT_MESSAGE) {
        if (nm >= m.n_msgs || ev->binary != m.msg_binary[nm] ||
            !ws_payload_equal(&ev->payload, m.msg[nm], m.msg_len[nm]))
          fail_msg("%s: expected message %zu is not what is sent", c->id,
                   nm);
        nm++;
      } else if (ev->kind == WS_EVENT_PONG) {
        uint8_t buf[125];
        if (np >= m.n_pongs) fail_msg("%s: unexpected pong", c->id);
        size_t n = (size_t)ws_payload_length(m.pong[np]);
        if (n > sizeof(buf) || ws_payload_fill(m.pong[np], 0, buf, n) != 0 ||
            !ws_payload_equal(&ev->payload, buf, n))
          fail_msg("%s: expected pong %zu is not a Ping sent", c->id, np);
        np++;
      }
    }
    if (nm != m.n_msgs || np != m.n_pongs)
      fail_msg("%s: %zu/%zu messages, %zu/%zu pongs expected", c->id, nm,
               m.n_msgs, np, m.n_pongs);
    for (size_t k = 0; k < m.n_msgs; k++) free(m.msg[k]);
    checked++;
  }
  assert_int_equal(checked, NCASES - 54 - 1); /* all but 9.x and 7.1.6 */
}

/* ---- Golden wire signatures ---------------------------------------------- */

/* One token per action: frame opcode, "~" for FIN = 0, "+rsvN", payload
 * length, write mode; the runner's Close with its code and reason length;
 * timers in ms. */
static const char *op_name(unsigned op, char *buf, size_t cap) {
  static const char *const names[16] = {"cont", "text", "binary", NULL,
                                        NULL,   NULL,   NULL,     NULL,
                                        "close", "ping", "pong"};
  if (op < 16 && names[op] != NULL) return names[op];
  snprintf(buf, cap, "op%u", op);
  return buf;
}

static void signature(const struct ws_case *c, char *out, size_t cap) {
  size_t n = 0;
  out[0] = '\0';
  for (uint32_t i = 0; i < c->n_actions && n < cap; i++) {
    const struct ws_case_action *a = &c->actions[i];
    const struct ws_case_frame *f = &a->frame;
    unsigned long long len = ws_payload_length(&f->payload);
    char opb[8], wr[16] = "";
    const char *op = op_name(f->opcode, opb, sizeof(opb));
    const char *sep = i ? " " : "";
    if (a->write == WS_WRITE_SYNC) snprintf(wr, sizeof(wr), "/sync");
    if (a->write == WS_WRITE_CHOP) snprintf(wr, sizeof(wr), "/chop%u", a->chop);
    switch (a->kind) {
    case WS_ACT_FRAME:
      n += (size_t)snprintf(out + n, cap - n, "%s%s%s", sep, op,
                            f->fin ? "" : "~");
      if (f->rsv && n < cap)
        n += (size_t)snprintf(out + n, cap - n, "+rsv%u", f->rsv);
      if (n < cap) n += (size_t)snprintf(out + n, cap - n, ":%llu%s", len, wr);
      break;
    case WS_ACT_FRAME_HEAD:
      n += (size_t)snprintf(out + n, cap - n, "%shead-%s%s:%llu", sep, op,
                            f->fin ? "" : "~", len);
      break;
    case WS_ACT_FRAME_DATA:
      n += (size_t)snprintf(out + n, cap - n, "%sdata:%llu", sep, len);
      break;
    case WS_ACT_MESSAGE:
      n += (size_t)snprintf(out + n, cap - n, "%smessage-%s:%llu/frag%u%s",
                            sep, op, len, a->fragment, wr);
      break;
    case WS_ACT_CLOSE:
      if (a->has_code)
        n += (size_t)snprintf(out + n, cap - n, "%sCLOSE(%u):%llu", sep,
                              a->close_code, len);
      else
        n += (size_t)snprintf(out + n, cap - n, "%sCLOSE(-):%llu", sep, len);
      break;
    case WS_ACT_PAUSE:
      n += (size_t)snprintf(out + n, cap - n, "%spause%u%c", sep, a->ms,
                            a->tag ? a->tag : '-');
      break;
    case WS_ACT_KILL_AFTER:
      n += (size_t)snprintf(out + n, cap - n, "%skill%u", sep, a->ms);
      break;
    case WS_ACT_CLOSE_AFTER:
      n += (size_t)snprintf(out + n, cap - n, "%scloseafter%u", sep, a->ms);
      break;
    case WS_ACT_ECHO:
      n += (size_t)snprintf(out + n, cap - n, "%secho%u-%s:%llu/frag%u%s",
                            sep, a->count, op, len, a->fragment, wr);
      break;
    }
  }
  assert_true(n < cap);
}

/* Reviewed by hand against the descriptions. Regenerate after an
 * intended change with WSSPEC_PRINT_WIRE=1 and review the diff. The
 * UTF-8 vectors (6.5-6.23) are covered by test_description_hex. */
static const struct {
  const char *id, *wire;
} wires[] = {
    {"1.1.1", "text:0 kill1000"}, {"1.1.2", "text:125 kill1000"},
    {"1.1.3", "text:126 kill1000"}, {"1.1.4", "text:127 kill1000"},
    {"1.1.5", "text:128 kill1000"}, {"1.1.6", "text:65535 kill10000"},
    {"1.1.7", "text:65536 kill10000"},
    {"1.1.8", "text:65536/chop997 kill10000"}, {"1.2.1", "binary:0 kill1000"},
    {"1.2.2", "binary:125 kill1000"}, {"1.2.3", "binary:126 kill1000"},
    {"1.2.4", "binary:127 kill1000"}, {"1.2.5", "binary:128 kill1000"},
    {"1.2.6", "binary:65535 kill10000"}, {"1.2.7", "binary:65536 kill10000"},
    {"1.2.8", "binary:65536/chop997 kill10000"},
    {"2.1", "ping:0 closeafter1000"}, {"2.2", "ping:13 closeafter1000"},
    {"2.3", "ping:8 closeafter1000"}, {"2.4", "ping:125 closeafter1000"},
    {"2.5", "ping:126 kill1000"}, {"2.6", "ping:125/chop1 closeafter2000"},
    {"2.7", "pong:0 CLOSE(1000):0 closeafter1000"},
    {"2.8", "pong:24 CLOSE(1000):0 closeafter1000"},
    {"2.9", "pong:24 ping:12 closeafter1000"},
    {"2.10",
     "ping:9 ping:9 ping:9 ping:9 ping:9 ping:9 ping:9 ping:9 ping:9 "
     "ping:9 closeafter3000"},
    {"2.11",
     "ping:9/chop1 ping:9/chop1 ping:9/chop1 ping:9/chop1 ping:9/chop1 "
     "ping:9/chop1 ping:9/chop1 ping:9/chop1 ping:9/chop1 ping:9/chop1 "
     "closeafter3000"},
    {"3.1", "text+rsv1:13 kill1000"},
    {"3.2", "text:13 text+rsv2:13 ping:0 kill1000"},
    {"3.3", "text:13/sync text+rsv3:13/sync ping:0/sync kill1000"},
    {"3.4", "text:13/chop1 text+rsv4:13/chop1 ping:0/chop1 kill1000"},
    {"3.5", "binary+rsv5:8 kill1000"}, {"3.6", "binary+rsv6:13 kill1000"},
    {"3.7", "close+rsv7:0 kill1000"}, {"4.1.1", "op3:0 kill1000"},
    {"4.1.2", "op4:23 kill1000"}, {"4.1.3", "text:13 op5:0 ping:0 kill1000"},
    {"4.1.4", "text:13 op6:13 ping:0 kill1000"},
    {"4.1.5", "text:13/chop1 op7:13/chop1 ping:0/chop1 kill1000"},
    {"4.2.1", "op11:0 kill1000"}, {"4.2.2", "op12:23 kill1000"},
    {"4.2.3", "text:13 op13:0 ping:0 kill1000"},
    {"4.2.4", "text:13 op14:13 ping:0 kill1000"},
    {"4.2.5", "text:13/chop1 op15:13/chop1 ping:0/chop1 kill1000"},
    {"5.1", "ping~:9 cont:9 kill1000"}, {"5.2", "pong~:9 cont:9 kill1000"},
    {"5.3", "text~:9 cont:9 closeafter1000"},
    {"5.4", "text~:9/sync cont:9/sync closeafter1000"},
    {"5.5", "text~:9/chop1 cont:9/chop1 closeafter1000"},
    {"5.6", "text~:9 ping:12 cont:9 closeafter1000"},
    {"5.7", "text~:9/sync ping:12/sync cont:9/sync closeafter1000"},
    {"5.8", "text~:9/chop1 ping:12/chop1 cont:9/chop1 closeafter1000"},
    {"5.9", "cont:24 text:13 kill1000"},
    {"5.10", "cont:24/sync text:13/sync kill1000"},
    {"5.11", "cont:24/chop1 text:13/chop1 kill1000"},
    {"5.12", "cont~:24 text:13 kill1000"},
    {"5.13", "cont~:24/sync text:13/sync kill1000"},
    {"5.14", "cont~:24/chop1 text:13/chop1 kill1000"},
    {"5.15", "text~:9 cont:9 cont~:9 text:9 kill1000"},
    {"5.16", "cont~:9 text~:9 cont:9 cont~:9 text~:9 cont:9 kill1000"},
    {"5.17", "cont:9 text~:9 cont:9 cont:9 text~:9 cont:9 kill1000"},
    {"5.18", "text~:9 text:9 kill1000"},
    {"5.19",
     "text~:9 cont~:9 ping:9 pause1000- cont~:9 cont~:9 ping:9 cont:9 "
     "closeafter1000"},
    {"5.20",
     "text~:9/sync cont~:9/sync ping:9/sync pause1000- cont~:9/sync "
     "cont~:9/sync ping:9/sync cont:9/sync closeafter1000"},
    {"6.1.1", "text:0 closeafter1000"},
    {"6.1.2", "text~:0 cont~:0 cont:0 closeafter1000"},
    {"6.1.3", "text~:0 cont~:20 cont:0 closeafter1000"},
    {"6.2.1", "text:29 closeafter1000"},
    {"6.2.2", "text~:15 cont:14 closeafter1000"},
    {"6.2.3", "message-text:29/frag1 closeafter1000"},
    {"6.2.4", "message-text:11/frag1 closeafter1000"},
    {"6.3.1", "text:20 kill1000"}, {"6.3.2", "message-text:20/frag1 kill1000"},
    {"6.4.1", "text~:11 pause1000A cont~:4 pause1000B cont:6 kill1000"},
    {"6.4.2", "text~:12 pause1000A cont~:1 pause1000B cont:8 kill1000"},
    {"6.4.3",
     "head-text~:21 data:11 pause1000A data:4 pause1000B data:6 cont:0 kill1000"},
    {"6.4.4",
     "head-text~:21 data:12 pause1000A data:1 pause1000B data:8 cont:0 kill1000"},
    {"7.1.1", "text:12 kill1000"}, {"7.1.2", "CLOSE(1000):0 close:0 kill1000"},
    {"7.1.3", "CLOSE(1000):0 ping:0 kill1000"},
    {"7.1.4", "CLOSE(1000):0 text:12 kill1000"},
    {"7.1.5", "text~:9 CLOSE(1000):0 cont:9 kill1000"},
    {"7.1.6", "text:262144 text:12 CLOSE(1000):0 ping:0 kill1000"},
    {"7.3.1", "CLOSE(-):0 kill1000"}, {"7.3.2", "CLOSE(-):1 kill1000"},
    {"7.3.3", "CLOSE(1000):0 kill1000"}, {"7.3.4", "CLOSE(1000):12 kill1000"},
    {"7.3.5", "CLOSE(1000):123 kill1000"},
    {"7.3.6", "CLOSE(1000):124 kill1000"},
    {"7.5.1", "CLOSE(1000):20 kill1000"}, {"7.7.1", "CLOSE(1000):0 kill1000"},
    {"7.7.2", "CLOSE(1001):0 kill1000"}, {"7.7.3", "CLOSE(1002):0 kill1000"},
    {"7.7.4", "CLOSE(1003):0 kill1000"}, {"7.7.5", "CLOSE(1007):0 kill1000"},
    {"7.7.6", "CLOSE(1008):0 kill1000"}, {"7.7.7", "CLOSE(1009):0 kill1000"},
    {"7.7.8", "CLOSE(1010):0 kill1000"}, {"7.7.9", "CLOSE(1011):0 kill1000"},
    {"7.7.10", "CLOSE(3000):0 kill1000"}, {"7.7.11", "CLOSE(3999):0 kill1000"},
    {"7.7.12", "CLOSE(4000):0 kill1000"}, {"7.7.13", "CLOSE(4999):0 kill1000"},
    {"7.9.1", "CLOSE(0):0 kill1000"}, {"7.9.2", "CLOSE(999):0 kill1000"},
    {"7.9.3", "CLOSE(1004):0 kill1000"}, {"7.9.4", "CLOSE(1005):0 kill1000"},
    {"7.9.5", "CLOSE(1006):0 kill1000"}, {"7.9.6", "CLOSE(1016):0 kill1000"},
    {"7.9.7", "CLOSE(1100):0 kill1000"}, {"7.9.8", "CLOSE(2000):0 kill1000"},
    {"7.9.9", "CLOSE(2999):0 kill1000"}, {"7.13.1", "CLOSE(5000):0 kill1000"},
    {"7.13.2", "CLOSE(65535):0 kill1000"},
    {"9.1.1", "closeafter10000 echo1-text:65536/frag0"},
    {"9.1.2", "closeafter10000 echo1-text:262144/frag0"},
    {"9.1.3", "closeafter100000 echo1-text:1048576/frag0"},
    {"9.1.4", "closeafter100000 echo1-text:4194304/frag0"},
    {"9.1.5", "closeafter100000 echo1-text:8388608/frag0"},
    {"9.1.6", "closeafter100000 echo1-text:16777216/frag0"},
    {"9.2.1", "closeafter10000 echo1-binary:65536/frag0"},
    {"9.2.2", "closeafter10000 echo1-binary:262144/frag0"},
    {"9.2.3", "closeafter10000 echo1-binary:1048576/frag0"},
    {"9.2.4", "closeafter10000 echo1-binary:4194304/frag0"},
    {"9.2.5", "closeafter100000 echo1-binary:8388608/frag0"},
    {"9.2.6", "closeafter100000 echo1-binary:16777216/frag0"},
    {"9.3.1", "closeafter100000 echo1-text:4194304/frag64"},
    {"9.3.2", "closeafter100000 echo1-text:4194304/frag256"},
    {"9.3.3", "closeafter100000 echo1-text:4194304/frag1024"},
    {"9.3.4", "closeafter100000 echo1-text:4194304/frag4096"},
    {"9.3.5", "closeafter100000 echo1-text:4194304/frag16384"},
    {"9.3.6", "closeafter100000 echo1-text:4194304/frag65536"},
    {"9.3.7", "closeafter100000 echo1-text:4194304/frag262144"},
    {"9.3.8", "closeafter100000 echo1-text:4194304/frag1048576"},
    {"9.3.9", "closeafter100000 echo1-text:4194304/frag4194304"},
    {"9.4.1", "closeafter100000 echo1-binary:4194304/frag64"},
    {"9.4.2", "closeafter100000 echo1-binary:4194304/frag256"},
    {"9.4.3", "closeafter100000 echo1-binary:4194304/frag1024"},
    {"9.4.4", "closeafter100000 echo1-binary:4194304/frag4096"},
    {"9.4.5", "closeafter100000 echo1-binary:4194304/frag16384"},
    {"9.4.6", "closeafter100000 echo1-binary:4194304/frag65536"},
    {"9.4.7", "closeafter100000 echo1-binary:4194304/frag262144"},
    {"9.4.8", "closeafter100000 echo1-binary:4194304/frag1048576"},
    {"9.4.9", "closeafter100000 echo1-binary:4194304/frag4194304"},
    {"9.5.1", "closeafter1000000 echo1-text:1048576/frag0/chop64"},
    {"9.5.2", "closeafter1000000 echo1-text:1048576/frag0/chop128"},
    {"9.5.3", "closeafter1000000 echo1-text:1048576/frag0/chop256"},
    {"9.5.4", "closeafter1000000 echo1-text:1048576/frag0/chop512"},
    {"9.5.5", "closeafter1000000 echo1-text:1048576/frag0/chop1024"},
    {"9.5.6", "closeafter1000000 echo1-text:1048576/frag0/chop2048"},
    {"9.6.1", "closeafter1000000 echo1-binary:1048576/frag0/chop64"},
    {"9.6.2", "closeafter1000000 echo1-binary:1048576/frag0/chop128"},
    {"9.6.3", "closeafter1000000 echo1-binary:1048576/frag0/chop256"},
    {"9.6.4", "closeafter1000000 echo1-binary:1048576/frag0/chop512"},
    {"9.6.5", "closeafter1000000 echo1-binary:1048576/frag0/chop1024"},
    {"9.6.6", "closeafter1000000 echo1-binary:1048576/frag0/chop2048"},
    {"9.7.1", "closeafter60000 echo1000-text:0/frag0"},
    {"9.7.2", "closeafter60000 echo1000-text:16/frag0"},
    {"9.7.3", "closeafter60000 echo1000-text:64/frag0"},
    {"9.7.4", "closeafter120000 echo1000-text:256/frag0"},
    {"9.7.5", "closeafter240000 echo1000-text:1024/frag0"},
    {"9.7.6", "closeafter480000 echo1000-text:4096/frag0"},
    {"9.8.1", "closeafter60000 echo1000-binary:0/frag0"},
    {"9.8.2", "closeafter60000 echo1000-binary:16/frag0"},
    {"9.8.3", "closeafter60000 echo1000-binary:64/frag0"},
    {"9.8.4", "closeafter120000 echo1000-binary:256/frag0"},
    {"9.8.5", "closeafter240000 echo1000-binary:1024/frag0"},
    {"9.8.6", "closeafter480000 echo1000-binary:4096/frag0"},
    {"10.1.1", "message-text:65536/frag1300 kill10000"},
};

static void test_wire_signatures(void **state) {
  char sig[1024];
  size_t k = 0;
  int print = getenv("WSSPEC_PRINT_WIRE") != NULL;
  (void)state;
  for (size_t i = 0; i < ws_case_count(); i++) {
    const struct ws_case *c = ws_case_get(i);
    if (c->category == WS_CAT_UTF8 && ws_case_id_compare(c->id, "6.5") > 0)
      continue;
    signature(c, sig, sizeof(sig));
    if (print) {
      printf("%s\t%s\n", c->id, sig);
      continue;
    }
    if (k >= N(wires) || strcmp(wires[k].id, c->id) != 0)
      fail_msg("%s: no golden wire signature", c->id);
    if (strcmp(wires[k].wire, sig) != 0)
      fail_msg("%s: wire\n  ours:   %s\n  golden: %s", c->id, sig,
               wires[k].wire);
    k++;
  }
  if (!print) assert_int_equal(k, N(wires));
}

/* ---- Payload generators -------------------------------------------------- */

static void test_payload(void **state) {
  static const struct ws_payload bytes = {
      .kind = WS_PAYLOAD_BYTES, .len = 5, .data = (const uint8_t *)"ab\0cd"};
  static const struct ws_payload rep = {
      .kind = WS_PAYLOAD_REPEAT, .len = 10,
      .data = (const uint8_t *)"BAsd7&jh23", .total = 25};
  static const struct ws_payload counter = {.kind = WS_PAYLOAD_COUNTER,
                                            .total = 300};
  static const struct ws_payload broken = {.kind = WS_PAYLOAD_REPEAT,
                                           .total = 5};
  static const struct ws_payload empty = {.kind = WS_PAYLOAD_BYTES};
  uint8_t out[300];
  (void)state;
  assert_true(ws_payload_length(&bytes) == 5);
  assert_true(ws_payload_length(&rep) == 25);
  assert_true(ws_payload_length(&empty) == 0);

  assert_int_equal(ws_payload_fill(&bytes, 1, out, 3), 0);
  assert_memory_equal(out, "b\0c", 3);
  assert_int_equal(ws_payload_fill(&rep, 0, out, 25), 0);
  assert_memory_equal(out, "BAsd7&jh23BAsd7&jh23BAsd7", 25);
  assert_int_equal(ws_payload_fill(&rep, 7, out, 10), 0);
  assert_memory_equal(out, "h23BAsd7&j", 10);
  assert_int_equal(ws_payload_fill(&rep, 25, out, 0), 0);
  assert_int_equal(ws_payload_fill(&counter, 250, out, 10), 0);
  assert_memory_equal(out, "\xfa\xfb\xfc\xfd\xfe\xff\x00\x01\x02\x03", 10);

  /* Every window of a long pattern payload equals the octet-by-octet
   * definition, whatever its alignment to the period. */
  {
    static const struct ws_payload longrep = {
        .kind = WS_PAYLOAD_REPEAT, .len = 10,
        .data = (const uint8_t *)"BAsd7&jh23", .total = 5000};
    static const struct ws_payload longcount = {.kind = WS_PAYLOAD_COUNTER,
                                                .total = 5000};
    static uint8_t win[5000];
    const size_t offs[] = {0, 1, 9, 10, 11, 255, 256, 257, 1234, 4999, 5000};
    const size_t lens[] = {0, 1, 9, 10, 11, 19, 20, 21, 255, 256, 257,
                           511, 512, 513, 3001};
    for (size_t a = 0; a < sizeof(offs) / sizeof(offs[0]); a++)
      for (size_t b = 0; b < sizeof(lens) / sizeof(lens[0]); b++) {
        size_t o = offs[a], l = lens[b];
        if (o + l > 5000) continue;
        memset(win, 0xAA, sizeof(win));
        assert_int_equal(ws_payload_fill(&longrep, o, win, l), 0);
        for (size_t i = 0; i < l; i++)
          assert_int_equal(win[i], "BAsd7&jh23"[(o + i) % 10]);
        assert_int_equal(ws_payload_fill(&longcount, o, win, l), 0);
        for (size_t i = 0; i < l; i++)
          assert_int_equal(win[i], (uint8_t)(o + i));
        if (l < sizeof(win)) /* nothing written past the window */
          assert_int_equal(win[l], 0xAA);
      }
  }

  /* Windows past the end, a NULL output, a pattern without octets. */
  assert_int_equal(ws_payload_fill(&rep, 20, out, 6), WS_EINVAL);
  assert_int_equal(ws_payload_fill(&rep, 26, out, 0), WS_EINVAL);
  assert_int_equal(ws_payload_fill(&bytes, 0, NULL, 1), WS_EINVAL);
  assert_int_equal(ws_payload_fill(&bytes, 0, NULL, 0), 0);
  assert_int_equal(ws_payload_fill(&broken, 0, out, 1), WS_EINVAL);
  assert_int_equal(ws_payload_fill(&rep, UINT64_MAX, out, 2), WS_EINVAL);

  /* Equality reads exactly |len| octets (guard page right after). */
  struct guarded g = guarded_copy("BAsd7&jh23BAsd7&jh23BAsd7", 25);
  assert_int_equal(ws_payload_equal(&rep, g.data, 25), 1);
  assert_int_equal(ws_payload_equal(&rep, g.data + 1, 24), 0);
  g.data[24] = '8';
  assert_int_equal(ws_payload_equal(&rep, g.data, 25), 0);
  guarded_free(&g);
  for (size_t i = 0; i < 300; i++) out[i] = (uint8_t)i;
  g = guarded_copy(out, 300);
  assert_int_equal(ws_payload_equal(&counter, g.data, 300), 1);
  g.data[256] = 1;
  assert_int_equal(ws_payload_equal(&counter, g.data, 300), 0);
  guarded_free(&g);
  g = guarded_copy(NULL, 0);
  assert_int_equal(ws_payload_equal(&empty, g.data, 0), 1);
  assert_int_equal(ws_payload_equal(&empty, NULL, 0), 1);
  assert_int_equal(ws_payload_equal(&broken, g.data, 0), 0);
  guarded_free(&g);

  /* Autobahn's patterns: the first 6 octets of the big payloads. */
  static const struct {
    const char *id;
    const char *head;
  } pat[] = {
      {"1.1.7", "******"},   {"1.2.7", "\xfe\xfe\xfe\xfe\xfe\xfe"},
      {"9.1.1", "BAsd7&"},   {"9.2.1", "\x00\xfe\x23\xfa\xf0\x00"},
      {"9.3.1", "******"},   {"9.4.1", "\xfe\xfe\xfe\xfe\xfe\xfe"},
      {"9.4.2", "******"},   {"9.5.6", "BAsd7&"},
      {"9.6.1", "\x00\xfe\x23\xfa\xf0\x00"},
      {"9.7.2", "******"},   {"9.8.2", "\xfe\xfe\xfe\xfe\xfe\xfe"},
      {"7.1.6", "BAsd7&"},   {"10.1.1", "******"},
  };
  for (size_t i = 0; i < N(pat); i++) {
    const struct ws_case *pc = ws_case_find(pat[i].id);
    const struct ws_case_action *a =
        &pc->actions[pc->grading == WS_GRADE_ECHO ? pc->n_actions - 1 : 0];
    assert_int_equal(ws_payload_fill(&a->frame.payload, 0, out, 6), 0);
    if (memcmp(out, pat[i].head, 6) != 0)
      fail_msg("%s: payload pattern", pat[i].id);
  }

  /* 9.1.6's 16 MiB are never expanded; its last octets are the pattern's
   * 7th to 10th and 1st to 6th. */
  const struct ws_case *c = ws_case_find("9.1.6");
  const struct ws_payload *big = &c->actions[c->n_actions - 1].frame.payload;
  assert_true(ws_payload_length(big) == 16777216);
  assert_int_equal(ws_payload_fill(big, 16777206, out, 10), 0);
  assert_memory_equal(out, "jh23BAsd7&", 10);
  assert_int_equal(ws_payload_fill(big, 16777207, out, 10), WS_EINVAL);
  uint8_t *whole = malloc(16777216);
  assert_non_null(whole);
  assert_int_equal(ws_payload_fill(big, 0, whole, 16777216), 0);
  assert_int_equal(ws_payload_equal(big, whole, 16777216), 1);
  whole[9999999] ^= 1;
  assert_int_equal(ws_payload_equal(big, whole, 16777216), 0);
  free(whole);
}

/* ---- Autobahn's fragmenter ----------------------------------------------- */

/* Walks the whole plan: contiguous, FIN only on the last frame, at most
 * |frag| octets each, only the last may be empty. */
static void check_plan(uint64_t len, uint64_t frag) {
  uint64_t count = ws_fragment_count(len, frag), next = 0;
  struct ws_fragment f;
  for (uint64_t i = 0; i < count; i++) {
    assert_int_equal(ws_fragment_get(len, frag, i, &f), 0);
    assert_true(f.offset == next);
    assert_int_equal(f.fin, i + 1 == count);
    assert_int_equal(f.first, i == 0);
    if (frag != 0 && count > 1) assert_true(f.length <= frag);
    if (f.length == 0 && count > 1) assert_true(i + 1 == count);
    next += f.length;
  }
  assert_true(next == len);
  assert_int_equal(ws_fragment_get(len, frag, count, &f), WS_EINVAL);
}

static void test_fragmenter(void **state) {
  struct ws_fragment f;
  (void)state;
  /* Exact multiples end with an empty FIN frame (6.2.3, 6.2.4, 6.3.2,
   * 9.3.1). */
  assert_true(ws_fragment_count(29, 1) == 30);
  assert_int_equal(ws_fragment_get(29, 1, 28, &f), 0);
  assert_true(f.offset == 28 && f.length == 1 && !f.fin && !f.first);
  assert_int_equal(ws_fragment_get(29, 1, 29, &f), 0);
  assert_true(f.offset == 29 && f.length == 0 && f.fin);
  assert_true(ws_fragment_count(11, 1) == 12);
  assert_true(ws_fragment_count(20, 1) == 21);
  assert_true(ws_fragment_count(4194304, 64) == 65537);
  assert_true(ws_fragment_count(4194304, 1048576) == 5);
  assert_true(ws_fragment_count(8, 4) == 3);
  /* A message that fits is one frame, FIN set (9.3.9: frag == len). */
  assert_true(ws_fragment_count(4194304, 4194304) == 1);
  assert_int_equal(ws_fragment_get(4194304, 4194304, 0, &f), 0);
  assert_true(f.offset == 0 && f.length == 4194304 && f.fin && f.first);
  assert_true(ws_fragment_count(0, 1) == 1);
  assert_true(ws_fragment_count(7, 0) == 1);
  assert_true(ws_fragment_count(0, 0) == 1);
  /* 10.1.1: 65,536 at 1,300 = 1 text + 50 continuations, the last 536. */
  assert_true(ws_fragment_count(65536, 1300) == 51);
  assert_int_equal(ws_fragment_get(65536, 1300, 50, &f), 0);
  assert_true(f.offset == 65000 && f.length == 536 && f.fin);
  assert_int_equal(ws_fragment_get(65536, 1300, 0, &f), 0);
  assert_true(f.length == 1300 && f.first && !f.fin);
  /* Errors. */
  assert_int_equal(ws_fragment_get(29, 1, 30, &f), WS_EINVAL);
  assert_int_equal(ws_fragment_get(29, 1, 0, NULL), WS_EINVAL);
  assert_int_equal(ws_fragment_get(5, 0, 1, &f), WS_EINVAL);

  static const uint64_t lens[] = {0, 1, 2, 3, 7, 8, 9, 64, 65};
  static const uint64_t frags[] = {0, 1, 2, 3, 4, 8, 64};
  for (size_t i = 0; i < N(lens); i++)
    for (size_t j = 0; j < N(frags); j++) check_plan(lens[i], frags[j]);

  /* The catalogue's fragmented messages: the frame counts the
   * descriptions announce. */
  for (size_t i = 0; i < ws_case_count(); i++) {
    const struct ws_case *c = ws_case_get(i);
    for (uint32_t k = 0; k < c->n_actions; k++) {
      const struct ws_case_action *a = &c->actions[k];
      if (a->kind != WS_ACT_MESSAGE && a->kind != WS_ACT_ECHO) continue;
      uint64_t len = ws_payload_length(&a->frame.payload);
      uint64_t n = ws_fragment_count(len, a->fragment);
      check_plan(len, a->fragment);
      if (c->category == WS_CAT_LIMITS && a->fragment != 0) {
        char want[32];
        snprintf(want, sizeof(want), "(%llu frames", (unsigned long long)n);
        if (strstr(c->description, want) == NULL)
          fail_msg("%s: %s not in the description", c->id, want);
      }
      if (!strcmp(c->id, "6.2.3")) assert_true(n == 30);
      if (!strcmp(c->id, "6.2.4")) assert_true(n == 12);
      if (!strcmp(c->id, "6.3.2")) assert_true(n == 21);
      if (!strcmp(c->id, "10.1.1")) assert_true(n == 51);
    }
  }
}

/* ---- Small things -------------------------------------------------------- */

static void test_durations(void **state) {
  static const struct {
    const char *id;
    uint64_t ms;
  } t[] = {
      {"1.1.1", 1000 + 2000},  {"1.1.6", 10000 + 2000},
      {"2.7", 1000 + 2000},    {"5.19", 1000 + 1000 + 2000},
      {"6.4.1", 2000 + 1000 + 2000}, {"6.5.1", 500 + 2000},
      {"9.5.1", 1000000 + 2000}, {"9.7.6", 480000 + 2000},
  };
  (void)state;
  for (size_t i = 0; i < N(t); i++) {
    uint64_t ms = ws_case_max_duration_ms(ws_case_find(t[i].id));
    if (ms != t[i].ms)
      fail_msg("%s: %llu ms", t[i].id, (unsigned long long)ms);
  }
}

static void test_names(void **state) {
  (void)state;
  assert_string_equal(ws_verdict_name(WS_VERDICT_OK), "OK");
  assert_string_equal(ws_verdict_name(WS_VERDICT_NON_STRICT), "NON-STRICT");
  assert_string_equal(ws_verdict_name(WS_VERDICT_INFORMATIONAL),
                      "INFORMATIONAL");
  assert_string_equal(ws_verdict_name(WS_VERDICT_UNIMPLEMENTED),
                      "UNIMPLEMENTED");
  assert_string_equal(ws_verdict_name(WS_VERDICT_FAILED), "FAILED");
  assert_string_equal(ws_verdict_name(WS_VERDICT_WRONG_CODE), "WRONG CODE");
  assert_string_equal(ws_verdict_name(WS_VERDICT_UNCLEAN), "UNCLEAN");
  assert_string_equal(ws_verdict_name(WS_VERDICT_FAILED_BY_CLIENT),
                      "FAILED BY CLIENT");
  assert_null(ws_verdict_name(WS_VERDICT_NONE));
  assert_null(ws_verdict_name((enum ws_verdict)99));
  assert_string_equal(ws_case_category_title(0), "Handshake");
  assert_string_equal(ws_case_category_title(6), "UTF-8 Handling");
  assert_string_equal(ws_case_category_title(9), "Limits/Performance");
  assert_string_equal(ws_case_category_title(13),
                      "WebSocket Compression (different parameters)");
  assert_null(ws_case_category_title(8));
  assert_null(ws_case_category_title(11));
  assert_null(ws_case_category_title(14));
}

/* ---- Against the reference TSV ------------------------------------------ */

enum { F_ID, F_CATEGORY, F_DESC, F_EXPECT, F_GRADING, F_DEFLATE, F_SUB,
       F_CLOSE, F_TIMERS, F_COUNT };

/* Reads the whole file; NULL when it cannot be opened. */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  size_t cap = 1 << 20, n = 0;
  char *buf = malloc(cap);
  for (size_t got; buf != NULL && (got = fread(buf + n, 1, cap - n - 1, f));) {
    n += got;
    if (n + 1 == cap) {
      char *p = realloc(buf, cap * 2);
      if (p == NULL) free(buf);
      buf = p;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf != NULL) buf[n] = '\0';
  return buf;
}

static char *tsv_text(char *path, size_t cap) {
  const char *env = getenv("WSSPEC_AUTOBAHN_TSV");
  if (env != NULL && env[0] != '\0') {
    snprintf(path, cap, "%s", env);
  } else {
    /* __FILE__ is tests/test_cases.c under the repository root. */
    snprintf(path, cap, "%s", __FILE__);
    for (int up = 0; up < 2; up++) {
      char *slash = strrchr(path, '/');
      if (slash == NULL) {
        snprintf(path, cap, ".");
        break;
      }
      *slash = '\0';
    }
    if (strcmp(path, "tests") == 0) snprintf(path, cap, ".");
    size_t len = strlen(path);
    snprintf(path + len, cap - len,
             "/conformance/autobahn/autobahn_cases.tsv");
  }
  return slurp(path);
}

/* "killAfter 1s", "continueLater 1s (A), continueLater 1s (B), killAfter
 * 1s", "closeAfter 1s (Close already sent)", "continueLater 1s, then
 * closeAfter 1s (case lasts >= 1 s)" -> kinds, ms and tags. */
struct timer {
  int kind;
  uint64_t ms;
  char tag;
};

static size_t parse_timers(const char *s, struct timer *t, size_t max) {
  size_t n = 0;
  while (*s != '\0' && n < max) {
    if (strncmp(s, "then ", 5) == 0) s += 5;
    if (strncmp(s, "killAfter ", 10) == 0)
      t[n].kind = WS_ACT_KILL_AFTER, s += 10;
    else if (strncmp(s, "closeAfter ", 11) == 0)
      t[n].kind = WS_ACT_CLOSE_AFTER, s += 11;
    else if (strncmp(s, "continueLater ", 14) == 0)
      t[n].kind = WS_ACT_PAUSE, s += 14;
    else
      fail_msg("timers: cannot parse '%s'", s);
    char *end;
    double secs = strtod(s, &end);
    if (end == s || *end != 's') fail_msg("timers: no seconds in '%s'", s);
    t[n].ms = (uint64_t)(secs * 1000 + 0.5);
    t[n].tag = 0;
    s = end + 1;
    if (s[0] == ' ' && s[1] == '(' && s[3] == ')' &&
        (s[2] == 'A' || s[2] == 'B'))
      t[n].tag = s[2];
    n++;
    const char *comma = strstr(s, ", ");
    if (comma == NULL) break;
    s = comma + 2;
  }
  return n;
}

static void check_timers(const struct ws_case *c, const char *col) {
  struct timer want[8];
  size_t n = parse_timers(col, want, N(want)), k = 0;
  for (uint32_t i = 0; i < c->n_actions; i++) {
    const struct ws_case_action *a = &c->actions[i];
    if (a->kind != WS_ACT_PAUSE && a->kind != WS_ACT_KILL_AFTER &&
        a->kind != WS_ACT_CLOSE_AFTER)
      continue;
    if (k >= n || a->kind != want[k].kind || a->ms != want[k].ms ||
        a->tag != want[k].tag)
      fail_msg("%s: timer %zu differs from '%s'", c->id, k, col);
    k++;
  }
  if (k != n) fail_msg("%s: %zu timers, TSV '%s'", c->id, k, col);
}

/* "fuzzer closes: closedByMe=true; codes=[1000,1001] ...; requireClean=true
 * ..." or "informational; codes listed [1000,5000,1002] but not used". */
static void check_close(const struct ws_case *c, const char *col) {
  const char *list = strstr(col, "codes=[");
  int info = strncmp(col, "informational", 13) == 0;
  if (info) list = strstr(col, "codes listed [");
  if (list == NULL) fail_msg("%s: no codes in '%s'", c->id, col);
  list = strchr(list, '[') + 1;
  unsigned n = 0;
  while (*list != ']') {
    char *end;
    unsigned long code = strtoul(list, &end, 10);
    if (end == list || n >= c->close.n_codes || c->close.codes[n] != code)
      fail_msg("%s: close codes differ from '%s'", c->id, col);
    n++;
    list = *end == ',' ? end + 1 : end;
  }
  if (n != c->close.n_codes) fail_msg("%s: close code count", c->id);
  if (!!strstr(col, "closedByWrongEndpointIsFatal=true") !=
      !!(c->flags & WS_CASE_F_FATAL))
    fail_msg("%s: fatal flag differs from '%s'", c->id, col);
  if (info) return; /* closedByMe / requireClean unused there */
  if (!!strstr(col, "closedByMe=true") != c->close.closed_by_me ||
      !!strstr(col, "closedByMe=false") == c->close.closed_by_me ||
      !!strstr(col, "requireClean=true") != c->close.require_clean ||
      !!strstr(col, "requireClean=false") == c->close.require_clean)
    fail_msg("%s: close rule differs from '%s'", c->id, col);
}

static void check_row(const struct ws_case *c, char **f) {
  char buf[160];
  snprintf(buf, sizeof(buf), "%u %s", c->category,
           ws_case_category_title(c->category));
  if (strcmp(buf, f[F_CATEGORY]) != 0)
    fail_msg("%s: category '%s' vs '%s'", c->id, buf, f[F_CATEGORY]);
  if (c->subcategory == NULL) {
    buf[0] = '\0';
  } else {
    size_t dot = strcspn(c->id, ".");
    dot += 1 + strcspn(c->id + dot + 1, ".");
    snprintf(buf, sizeof(buf), "%.*s %s", (int)dot, c->id, c->subcategory);
  }
  if (strcmp(buf, f[F_SUB]) != 0)
    fail_msg("%s: subcategory '%s' vs '%s'", c->id, buf, f[F_SUB]);
  if (strcmp(c->description, f[F_DESC]) != 0)
    fail_msg("%s: description\n  ours: %s\n  tsv:  %s", c->id,
             c->description, f[F_DESC]);
  if (strcmp(c->expectation, f[F_EXPECT]) != 0)
    fail_msg("%s: expectation\n  ours: %s\n  tsv:  %s", c->id,
             c->expectation, f[F_EXPECT]);
  assert_string_equal(f[F_DEFLATE], "no");
  check_timers(c, f[F_TIMERS]);
  check_close(c, f[F_CLOSE]);
  /* The grading column, in the words the TSV uses. */
  const char *g = f[F_GRADING];
  if (!!strstr(g, "NON-STRICT iff") != (c->n_outcomes == 2))
    fail_msg("%s: NON-STRICT vs '%s'", c->id, g);
  if (!!strstr(g, "Always INFORMATIONAL") !=
      !!(c->flags & WS_CASE_F_INFORMATIONAL))
    fail_msg("%s: INFORMATIONAL vs '%s'", c->id, g);
  if (!!(strstr(g, "WRONG CODE close verdict is turned into behavior "
                   "FAILED") ||
         strstr(g, "WRONG CODE on close turns behavior into FAILED")) !=
      !!(c->flags & WS_CASE_F_WRONG_CODE_FAILS))
    fail_msg("%s: WRONG CODE rule vs '%s'", c->id, g);
  /* All of 9.x, and only 9.x, is self-graded and timed. */
  if (!!strstr(g, "reportTime=true") != (c->grading == WS_GRADE_ECHO) ||
      !!strstr(g, "reportTime=true") != !!(c->flags & WS_CASE_F_REPORT_TIME))
    fail_msg("%s: self-grading vs '%s'", c->id, g);
}

static void test_tsv(void **state) {
  char path[4096];
  char *text = tsv_text(path, sizeof(path));
  unsigned ours = 0, later = 0;
  (void)state;
  if (text == NULL)
    fail_msg("reference TSV not found at %s", path);
  char *line = strchr(text, '\n'); /* skip the header */
  assert_non_null(line);
  assert_true(strncmp(text, "case_id\tcategory\tdescription", 28) == 0);
  for (line++; *line != '\0';) {
    char *next = strchr(line, '\n');
    if (next != NULL) *next = '\0';
    char *f[F_COUNT];
    size_t nf = 0;
    for (char *s = line; nf < F_COUNT; nf++) {
      f[nf] = s;
      s = strchr(s, '\t');
      if (s == NULL) {
        nf++;
        break;
      }
      *s++ = '\0';
    }
    if (nf != F_COUNT) fail_msg("TSV row '%s': %zu fields", f[0], nf);
    const struct ws_case *c = ws_case_find(f[F_ID]);
    unsigned cat = (unsigned)strtoul(f[F_CATEGORY], NULL, 10);
    if (cat == 12 || cat == 13) {
      /* Later, with permessage-deflate: not in this catalogue yet. */
      assert_null(c);
      assert_string_equal(f[F_DEFLATE], "yes");
      later++;
    } else {
      if (c == NULL) fail_msg("TSV case %s missing", f[F_ID]);
      if (c != ws_case_get(ours))
        fail_msg("TSV case %s out of order", f[F_ID]);
      check_row(c, f);
      ours++;
    }
    if (next == NULL) break;
    line = next + 1;
  }
  free(text);
  assert_int_equal(ours, NCASES);
  assert_int_equal(later, 216);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_catalogue_ids),
      cmocka_unit_test(test_catalogue_order),
      cmocka_unit_test(test_id_compare),
      cmocka_unit_test(test_match),
      cmocka_unit_test(test_select),
      cmocka_unit_test(test_select_errors),
      cmocka_unit_test(test_case_invariants),
      cmocka_unit_test(test_flag_sets),
      cmocka_unit_test(test_utf8_vectors),
      cmocka_unit_test(test_utf8_fail_fast),
      cmocka_unit_test(test_description_hex),
      cmocka_unit_test(test_expected_echoes),
      cmocka_unit_test(test_wire_signatures),
      cmocka_unit_test(test_texts),
      cmocka_unit_test(test_payload),
      cmocka_unit_test(test_fragmenter),
      cmocka_unit_test(test_durations),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_tsv),
      cmocka_unit_test(test_extended),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
