/*
 * cmd_run862.h: `wsspec run tcp://HOST:PORT` and `wsspec run udp://HOST:PORT`,
 * the RFC 862 echo checks (conformance/ws_rfc862.h) on the command line.
 */
#ifndef WS_CLI_CMD_RUN862_H
#define WS_CLI_CMD_RUN862_H

/*
 * `wsspec run URL... [--cases P,...] [--exclude P,...] [--agent NAME]
 * [--report-dir DIR] [--junit FILE] [--quiet]` where every URL is tcp://
 * or udp://: runs the selected checks against each URL in turn, writes
 * DIR/rfc862.json (default DIR: ./reports/servers) and optionally JUnit
 * XML, and prints a summary on stdout (one PASS/FAIL line with its reason
 * per check); on a terminal a progress line on stderr.
 *
 * argv[0] is the subcommand name ("run"). Returns the exit code:
 *   0  every selected check passed
 *   1  some check failed
 *   2  usage error, unknown check id, a ws:// URL mixed in, a server that
 *      cannot be reached ("wsspec run: cannot connect to
 *      tcp://127.0.0.1:1: connection refused"), unwritable report; one
 *      line on stderr says why
 */
int ws_cli_run_rfc862(int argc, char **argv);

/*
 * Returns 1 when the first URL of a `wsspec run` command line (argv[0] is
 * "run"; options and their values skipped) is tcp:// or udp://, so that
 * ws_cli_run() can hand the whole command line to ws_cli_run_rfc862().
 */
int ws_cli_run_is_rfc862(int argc, char **argv);

#endif /* WS_CLI_CMD_RUN862_H */
