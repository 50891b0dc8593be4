/* Command-line parsing shared by the subcommands that trace. */
#ifndef ZM_CLI_H
#define ZM_CLI_H

#include <stdbool.h>

#include "session.h"

struct trace_args {
	struct session_opts s;
	bool json;
	bool memory_options; /* set by the caller: accept --threshold, --interval, --sample */
};

/* Parses [--json] [--duration SEC] [-p PID] [-c COMM] [-v] [-- COMMAND...]
 * (and, with memory_options, [--threshold SIZE] [--interval SEC] [--sample HZ])
 * into a. Returns 0, 1 after --help (printed), or 2 after a usage error
 * (one line printed). usage: the subcommand's synopsis. */
int parse_trace_args(int argc, char **argv, const char *usage, struct trace_args *a);

#endif
