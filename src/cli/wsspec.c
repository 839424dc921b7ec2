/*
 * wsspec.c: the command-line front end: the version, the help text and
 * the subcommands (selfcheck, echo, send, list, run; later issues add
 * serve, bench).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_list.h"
#include "cmd_run.h"
#include "core/ws_core.h"
#include "selfcheck.h"

static void usage(FILE *out) {
  fputs("usage: wsspec [--version] [--help] <command> [args]\n"
        "\n"
        "WebSocket (RFC 6455) conformance and fuzz-testing harness.\n"
        "\n"
        "commands:\n"
        "  selfcheck    run the protocol core against the RFC examples\n"
        "  echo         run the reference echo servers (WebSocket, RFC 862\n"
        "               TCP and UDP): wsspec echo [--ws ADDR] [--tcp ADDR]\n"
        "               [--udp ADDR] [options]\n"
        "  send         send one message to a WebSocket server and print\n"
        "               the reply: wsspec send URL MESSAGE [options]\n"
        "  list         list the conformance cases: wsspec list [PATTERN...]\n"
        "               [--exclude PATTERN,...] [--json]\n"
        "  run          grade WebSocket servers with the Autobahn cases:\n"
        "               wsspec run URL... [--cases P,...] [--junit FILE]\n"
        "               [--expect GOLDEN.json] [options], or\n"
        "               wsspec run --spec fuzzingclient.json; tcp:// and\n"
        "               udp:// URLs get the RFC 862 echo checks\n"
        "\n"
        "options:\n"
        "  --version    print the version and exit\n"
        "  --help       print this help and exit\n"
        "\n"
        "'wsspec COMMAND --help' describes a command.\n"
        "exit codes: 0 success, 1 a check or the command failed, 2 usage "
        "error\n",
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
  if (strcmp(argv[1], "echo") == 0)
    return ws_cli_echo(argc - 1, argv + 1);
  if (strcmp(argv[1], "send") == 0)
    return ws_cli_send(argc - 1, argv + 1);
  if (strcmp(argv[1], "list") == 0)
    return ws_cli_list(argc - 1, argv + 1);
  if (strcmp(argv[1], "run") == 0)
    return ws_cli_run(argc - 1, argv + 1);
  fprintf(stderr, "wsspec: unknown command '%s' (see wsspec --help)\n",
          argv[1]);
  return 2;
}
