/*
 * replay_main.c: runs a fuzz target over files and directories without a
 * fuzzing engine, so any compiler (gcc with ASan/UBSan in CI) replays the
 * corpora and the regressions (curl-fuzzer's standalone runner, OpenSSL's
 * fuzz/test-corpus.c).
 *
 *   replay_<target> [-v] PATH...
 *
 * Each PATH is a file or a directory, walked recursively in name order.
 * Every input is copied into an exact-size heap block, so a read past its
 * end is an ASan report like under libFuzzer; -v prints each name before
 * running it, to find a crashing one. Arguments starting with '-'
 * other than -v are ignored, so libFuzzer-style flags do no harm. A PATH
 * that does not exist is reported and skipped: an empty regressions
 * directory is not kept by git. Exits 0 when every input ran; a crashing
 * input aborts the process (its name is printed first).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct stats {
  unsigned long inputs;
  unsigned long long bytes;
  int verbose;
  int errors;
};

static int run_file(const char *path, struct stats *st) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    st->errors++;
    return -1;
  }
  uint8_t *data = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 4096;
      uint8_t *grown = realloc(data, cap);
      if (!grown) {
        fprintf(stderr, "replay: out of memory\n");
        exit(2);
      }
      data = grown;
    }
    size_t got = fread(data + len, 1, cap - len, f);
    len += got;
    if (got == 0)
      break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    fprintf(stderr, "replay: %s: read error\n", path);
    free(data);
    st->errors++;
    return -1;
  }
  /* Exact size: ASan sees any read past the input. */
  uint8_t *exact = len ? malloc(len) : NULL;
  if (len && !exact) {
    fprintf(stderr, "replay: out of memory\n");
    exit(2);
  }
  if (len)
    memcpy(exact, data, len);
  free(data);
  /* With -v the name comes first, so a crash names its input. */
  if (st->verbose)
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
  LLVMFuzzerTestOneInput(exact ? exact : (const uint8_t *)"", len);
  free(exact);
  st->inputs++;
  st->bytes += len;
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path, struct stats *st);

static void run_dir(const char *path, struct stats *st) {
  DIR *d = opendir(path);
  if (!d) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    st->errors++;
    return;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **grown = realloc(names, cap * sizeof(*names));
      if (!grown) {
        fprintf(stderr, "replay: out of memory\n");
        exit(2);
      }
      names = grown;
    }
    size_t len = strlen(path) + 1 + strlen(e->d_name) + 1;
    names[n] = malloc(len);
    if (!names[n]) {
      fprintf(stderr, "replay: out of memory\n");
      exit(2);
    }
    snprintf(names[n], len, "%s/%s", path, e->d_name);
    n++;
  }
  closedir(d);
  qsort(names, n, sizeof(*names), by_name);
  for (size_t k = 0; k < n; k++) {
    run_path(names[k], st);
    free(names[k]);
  }
  free(names);
}

static void run_path(const char *path, struct stats *st) {
  struct stat sb;
  if (stat(path, &sb) != 0) {
    fprintf(stderr, "replay: %s: %s (skipped)\n", path, strerror(errno));
    return;
  }
  if (S_ISDIR(sb.st_mode))
    run_dir(path, st);
  else if (S_ISREG(sb.st_mode))
    run_file(path, st);
}

int main(int argc, char **argv) {
  struct stats st = {0, 0, 0, 0};
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-v") == 0)
      st.verbose = 1;
  for (int i = 1; i < argc; i++)
    if (argv[i][0] != '-')
      run_path(argv[i], &st);
  fprintf(stderr, "replay: %lu inputs, %llu bytes, %d unreadable\n", st.inputs,
          st.bytes, st.errors);
  return st.errors ? 1 : 0;
}
