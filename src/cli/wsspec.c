/*
 * wsspec.c: the command-line front end. Subcommands are added by later
 * issues (echo, send, run, list, serve, bench); today it offers the
 * version, the help text and a self-check of the protocol core.
 */
#include <stdio.h>
#include <string.h>

#include "core/ws_core.h"
#include "selfcheck.h"

static void usage(FILE *out) {
  fputs("usage: wsspec [--version] [--help] <command> [args]\n"
        "\n"
        "WebSocket (RFC 6455) conformance and fuzz-testing harness.\n"
        "\n"
        "commands:\n"
        "  selfcheck    run the protocol core against the RFC examples\n"
        "\n"
        "options:\n"
        "  --version    print the version and exit\n"
        "  --help       print this help and exit\n"
        "\n"
        "exit codes: 0 success, 1 a check failed, 2 usage error\n",
        out);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
    printf("wsspec %s\n", WS_VERSION_STRING);
    return 0;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "selfcheck") == 0)
    return ws_cli_selfcheck(argc - 1, argv + 1);
  fprintf(stderr, "wsspec: unknown command '%s' (see wsspec --help)\n",
          argv[1]);
  return 2;
}
