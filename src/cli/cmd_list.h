/*
 * cmd_list.h: `wsspec list`, the conformance case catalogue on the command
 * line.
 */
#ifndef WS_CLI_CMD_LIST_H
#define WS_CLI_CMD_LIST_H

/*
 * `wsspec list [PATTERN...] [--exclude PATTERN,...] [--json]`: prints the
 * selected cases (default: all) in Autobahn order, one line each: id, RFC
 * 6455 section, description; or, with --json, a JSON array with one object
 * per case. PATTERNs follow Autobahn's "cases" semantics (ws_case_select):
 * a literal id, or a prefix-anchored pattern with '*' wildcards; several
 * may be given as separate arguments or separated by commas.
 *
 * argv[0] is the subcommand name. Writes to stdout, errors as one line on
 * stderr prefixed "wsspec list: ". Returns 0 when cases were listed, 1
 * when no case matches (or stdout failed), 2 on a usage error (an unknown
 * option, an unknown literal id).
 */
int ws_cli_list(int argc, char **argv);

#endif /* WS_CLI_CMD_LIST_H */
