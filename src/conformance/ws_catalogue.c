/*
 * ws_catalogue.c: the Autobahn catalogue as one ordered list, lookup by
 * id, and case selection with Autobahn's pattern semantics (caseset.py).
 */
#include <string.h>

#include "conformance/ws_case.h"
#include "conformance/ws_case_data.h"

/* Category files in id order; each table is in id order itself (checked by
 * tests/test_cases.c). */
static const struct ws__case_table *const tables[] = {
    &ws__autobahn_cat01, &ws__autobahn_cat02, &ws__autobahn_cat03,
    &ws__autobahn_cat04, &ws__autobahn_cat05, &ws__autobahn_cat06,
    &ws__autobahn_cat06_vectors, &ws__autobahn_cat07, &ws__autobahn_cat09,
    &ws__autobahn_cat10,
};

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

size_t ws_case_count(void) {
  size_t n = 0;
  for (size_t t = 0; t < NTABLES; t++) n += tables[t]->n;
  return n;
}

const struct ws_case *ws_case_get(size_t index) {
  for (size_t t = 0; t < NTABLES; t++) {
    if (index < tables[t]->n) return &tables[t]->cases[index];
    index -= tables[t]->n;
  }
  return NULL;
}

size_t ws_case_extended_count(void) { return ws__wsspec_extended.n; }

const struct ws_case *ws_case_extended_get(size_t index) {
  return index < ws__wsspec_extended.n ? &ws__wsspec_extended.cases[index]
                                       : NULL;
}

const struct ws_case *ws_case_find(const char *id) {
  if (id == NULL) return NULL;
  for (size_t t = 0; t < NTABLES; t++)
    for (size_t i = 0; i < tables[t]->n; i++)
      if (strcmp(tables[t]->cases[i].id, id) == 0)
        return &tables[t]->cases[i];
  for (size_t i = 0; i < ws__wsspec_extended.n; i++)
    if (strcmp(ws__wsspec_extended.cases[i].id, id) == 0)
      return &ws__wsspec_extended.cases[i];
  return NULL;
}

/* Length of the component starting at |s| (up to '.' or the end), and
 * whether it is a non-empty run of digits. */
static size_t component(const char *s, int *numeric) {
  size_t n = 0;
  *numeric = 1;
  while (s[n] != '\0' && s[n] != '.') {
    if (s[n] < '0' || s[n] > '9') *numeric = 0;
    n++;
  }
  if (n == 0) *numeric = 0;
  return n;
}

/* Numeric comparison of two digit runs of any length. */
static int compare_numbers(const char *a, size_t na, const char *b,
                           size_t nb) {
  while (na > 1 && *a == '0') a++, na--;
  while (nb > 1 && *b == '0') b++, nb--;
  if (na != nb) return na < nb ? -1 : 1;
  return memcmp(a, b, na);
}

int ws_case_id_compare(const char *a, const char *b) {
  /* Autobahn sorts ids as tuples of ints: component by component, and a
   * tuple that is a prefix of another first. */
  for (;;) {
    int num_a, num_b, r;
    size_t na = component(a, &num_a), nb = component(b, &num_b);
    if (num_a && num_b) {
      r = compare_numbers(a, na, b, nb);
    } else if (num_a != num_b) {
      r = num_a ? -1 : 1;
    } else {
      r = memcmp(a, b, na < nb ? na : nb);
      if (r == 0 && na != nb) r = na < nb ? -1 : 1;
    }
    if (r != 0) return r < 0 ? -1 : 1;
    a += na;
    b += nb;
    if (*a == '\0' || *b == '\0')
      return *a == *b ? 0 : (*a == '\0' ? -1 : 1);
    a++; /* both at '.' */
    b++;
  }
}

/* '*' wildcard match with one backtrack point (the last star). With
 * |full| 0 the end is not anchored: Autobahn turns "9.*" into the regex
 * "9\..*" and uses re.match, which anchors only the start. */
static int glob(const char *p, const char *s, int full) {
  const char *star = NULL, *resume = NULL;
  for (;;) {
    if (*p == '*') {
      star = ++p;
      resume = s;
      continue;
    }
    if (*p == '\0' && (!full || *s == '\0')) return 1;
    if (*p != '\0' && *s != '\0' && *p == *s) {
      p++;
      s++;
      continue;
    }
    if (star == NULL || *resume == '\0') return 0;
    p = star;
    s = ++resume;
  }
}

int ws_case_match(const char *pattern, const char *id,
                  enum ws_match_mode mode) {
  if (pattern == NULL || id == NULL) return 0;
  if (mode == WS_MATCH_PREFIX && strchr(pattern, '*') == NULL)
    return strcmp(pattern, id) == 0; /* a literal id */
  return glob(pattern, id, mode == WS_MATCH_FULL);
}

static int any_match(const char *const *patterns, size_t n, const char *id) {
  for (size_t i = 0; i < n; i++) {
    /* Extended ids ("x.1.1") only answer to patterns naming them: "*" and
     * the other Autobahn patterns keep Autobahn's selections. */
    if (id[0] == 'x' && patterns[i][0] != 'x') continue;
    if (ws_case_match(patterns[i], id, WS_MATCH_PREFIX)) return 1;
  }
  return 0;
}

ws_ssize ws_case_select(const char *const *include, size_t n_include,
                        const char *const *exclude, size_t n_exclude,
                        const struct ws_case **out, size_t out_cap,
                        size_t *bad) {
  if ((include == NULL && n_include > 0) ||
      (exclude == NULL && n_exclude > 0))
    return WS_EINVAL;
  for (size_t i = 0; i < n_include + n_exclude; i++) {
    const char *p = i < n_include ? include[i] : exclude[i - n_include];
    /* Autobahn takes a literal include id on trust and crashes on an
     * unknown one later; this is reported up front instead. */
    if (p == NULL ||
        (i < n_include && strchr(p, '*') == NULL && !ws_case_find(p))) {
      if (bad != NULL) *bad = i;
      return WS_EINVAL;
    }
  }
  /* set(cases) - set(exclude-cases), sorted: the catalogue is sorted, so
   * one pass in catalogue order gives each case once, in order. */
  size_t n = 0, total = ws_case_count();
  for (size_t i = 0; i < total + ws__wsspec_extended.n; i++) {
    const struct ws_case *c = i < total ? ws_case_get(i)
                                        : ws_case_extended_get(i - total);
    if (!any_match(include, n_include, c->id) ||
        any_match(exclude, n_exclude, c->id))
      continue;
    if (n < out_cap && out != NULL) out[n] = c;
    n++;
  }
  if (n > out_cap || (out == NULL && n > 0)) return WS_ENOBUFS;
  return (ws_ssize)n;
}
