/*
 * cli.h: the subcommands of the wsspec front end, and the small option
 * parsing helpers they share (cli_args.c).
 *
 * Every subcommand takes its own argv (argv[0] is the subcommand name),
 * prints one-line errors to stderr prefixed with "wsspec NAME: ", and
 * returns the process exit code: 0 success, 1 failure, 2 usage error.
 */
#ifndef WS_CLI_H
#define WS_CLI_H

#include <stddef.h>
#include <stdint.h>

/* `wsspec echo`: the WebSocket / TCP / UDP echo servers. */
int ws_cli_echo(int argc, char **argv);

/* `wsspec send URL MESSAGE`: one message through a WebSocket echo. */
int ws_cli_send(int argc, char **argv);

/*
 * Matches argv[*i] against the long option |name| ("--timeout"), in the
 * forms "--timeout VALUE" and "--timeout=VALUE". Returns 1 with *value
 * set (and *i advanced past a separate value), 0 when argv[*i] is another
 * argument, or -1 when the value is missing (a message has been printed
 * with |cmd| as the prefix).
 */
int ws_cli_opt(const char *cmd, int argc, char **argv, int *i,
               const char *name, const char **value);

/* Parses a byte count: digits with an optional suffix K, M, G (also KiB,
 * MiB, GiB; binary multiples). Returns 0, or -1 for anything else. */
int ws_cli_parse_size(const char *s, uint64_t *out);

/* Parses a duration into milliseconds: seconds ("5", "0.25"), or with a
 * suffix "ms" or "s". Returns 0, or -1 for anything else. */
int ws_cli_parse_ms(const char *s, uint64_t *out);

/* Prints "wsspec CMD: <|fmt| with |arg|> (see wsspec HELP --help)" on
 * stderr and returns 2, the usage-error exit code. */
int ws_cli_usage_error(const char *cmd, const char *help, const char *fmt,
                       const char *arg);

/* A growing list of malloc'd strings; zero-initialise it, free it with
 * ws_cli_strv_clear(). */
struct ws_cli_strv {
  char **v;
  size_t n, cap;
};

/* Appends a copy of |str|. Returns 0, or -1 when out of memory. */
int ws_cli_strv_add(struct ws_cli_strv *s, const char *str);

/* Appends the comma-separated items of |arg| ("6.4.*,7.1.1"); empty items
 * are skipped. Returns 0, or -1 when out of memory. */
int ws_cli_strv_split(struct ws_cli_strv *s, const char *arg);

/* Frees the strings and the array, and zeroes |s|. */
void ws_cli_strv_clear(struct ws_cli_strv *s);

/* CLOCK_MONOTONIC in seconds, for the run times the commands print. */
double ws_cli_now_s(void);

#endif /* WS_CLI_H */
