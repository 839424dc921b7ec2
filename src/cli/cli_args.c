/* cli_args.c: option helpers shared by the subcommands (cli.h). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ws_cli_opt(const char *cmd, int argc, char **argv, int *i,
               const char *name, const char **value) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0)
    return 0;
  if (a[n] == '=') {
    *value = a + n + 1;
    return 1;
  }
  if (a[n] != '\0')
    return 0;
  if (*i + 1 >= argc) {
    fprintf(stderr, "wsspec %s: option %s needs a value\n", cmd, name);
    return -1;
  }
  *value = argv[++*i];
  return 1;
}

/* Reads decimal digits; returns the number of digits, 0 on overflow. */
static size_t digits(const char *s, uint64_t *v) {
  size_t n = 0;
  *v = 0;
  while (s[n] >= '0' && s[n] <= '9') {
    uint64_t d = (uint64_t)(s[n] - '0');
    if (*v > (UINT64_MAX - d) / 10)
      return 0;
    *v = *v * 10 + d;
    n++;
  }
  return n;
}

int ws_cli_parse_size(const char *s, uint64_t *out) {
  uint64_t v, mul = 1;
  size_t n = digits(s, &v);
  const char *u = s + n;
  if (n == 0)
    return -1;
  if (*u == 'k' || *u == 'K')
    mul = (uint64_t)1 << 10;
  else if (*u == 'm' || *u == 'M')
    mul = (uint64_t)1 << 20;
  else if (*u == 'g' || *u == 'G')
    mul = (uint64_t)1 << 30;
  else if (*u != '\0')
    return -1;
  if (mul > 1) {
    u++;
    if (strcmp(u, "iB") != 0 && strcmp(u, "B") != 0 && *u != '\0')
      return -1;
    if (v > UINT64_MAX / mul)
      return -1;
  }
  *out = v * mul;
  return 0;
}

int ws_cli_parse_ms(const char *s, uint64_t *out) {
  uint64_t whole, frac = 0, scale = 1;
  size_t n = digits(s, &whole), f = 0;
  const char *u = s + n;
  if (n == 0)
    return -1;
  if (*u == '.') {
    u++;
    /* Up to millisecond precision; further digits are dropped. */
    while (u[f] >= '0' && u[f] <= '9') {
      if (f < 3) {
        frac = frac * 10 + (uint64_t)(u[f] - '0');
        scale *= 10;
      }
      f++;
    }
    if (f == 0)
      return -1;
    u += f;
  }
  if (strcmp(u, "ms") == 0) {
    if (f > 0)
      return -1;
    *out = whole;
    return 0;
  }
  if (*u != '\0' && strcmp(u, "s") != 0)
    return -1;
  if (whole > UINT64_MAX / 1000 - 1)
    return -1;
  *out = whole * 1000 + frac * (1000 / scale);
  return 0;
}

int ws_cli_usage_error(const char *cmd, const char *help, const char *fmt,
                       const char *arg) {
  fprintf(stderr, "wsspec %s: ", cmd);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, " (see wsspec %s --help)\n", help);
  return 2;
}

static int strv_addn(struct ws_cli_strv *s, const char *str, size_t len) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 8;
    char **v = realloc(s->v, cap * sizeof(*v));
    if (v == NULL)
      return -1;
    s->v = v;
    s->cap = cap;
  }
  if ((s->v[s->n] = strndup(str, len)) == NULL)
    return -1;
  s->n++;
  return 0;
}

int ws_cli_strv_add(struct ws_cli_strv *s, const char *str) {
  return strv_addn(s, str, strlen(str));
}

int ws_cli_strv_split(struct ws_cli_strv *s, const char *arg) {
  for (;;) {
    size_t len = strcspn(arg, ",");
    if (len > 0 && strv_addn(s, arg, len) != 0)
      return -1;
    if (arg[len] == '\0')
      return 0;
    arg += len + 1;
  }
}

void ws_cli_strv_clear(struct ws_cli_strv *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
  memset(s, 0, sizeof(*s));
}

double ws_cli_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
