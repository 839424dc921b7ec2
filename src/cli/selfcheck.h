/* selfcheck.h: `wsspec selfcheck`, the core checked against RFC examples. */
#ifndef WS_CLI_SELFCHECK_H
#define WS_CLI_SELFCHECK_H

/* Runs the checks, prints one line each; returns 0 when all pass, 1
 * otherwise. */
int ws_cli_selfcheck(int argc, char **argv);

#endif
