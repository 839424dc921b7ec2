/*
 * cmd_run.h: `wsspec run`, the conformance runner on the command line.
 */
#ifndef WS_CLI_CMD_RUN_H
#define WS_CLI_CMD_RUN_H

/*
 * `wsspec run URL... [options]` or `wsspec run --spec fuzzingclient.json`:
 * runs the selected Autobahn cases against each server in turn (one agent
 * per server), writes the reports (index.json, per-case JSON, index.html,
 * optionally JUnit XML) and prints a summary on stdout; on a terminal a
 * progress line on stderr. `wsspec run --help` documents the options.
 *
 * argv[0] is the subcommand name. Returns the exit code:
 *   0  every selected case passes the pass rule (with --expect: the results
 *      equal the golden index.json)
 *   1  some case failed (with --expect: some difference, each printed)
 *   2  usage error, bad spec file, unknown case id, unreachable server,
 *      unwritable report; one line on stderr says why
 */
int ws_cli_run(int argc, char **argv);

#endif /* WS_CLI_CMD_RUN_H */
