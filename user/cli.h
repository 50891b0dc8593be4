/* Command-line parsing shared by the subcommands that trace. */
#ifndef ZM_CLI_H
#define ZM_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "session.h"

/* zmtrace check's limits (check_options). */
struct check_limits {
	uint64_t max_zombie_ns; /* --max-zombie-ms, in ns (0: none; 0 ms is 1 ns) */
	long max_unreaped;	/* --max-unreaped (-1: none; the caller sets it) */
	bool no_leak;		/* --no-leak */
	bool given;		/* any of the three */
};

struct trace_args {
	struct session_opts s;
	bool json;
	bool memory_options; /* set by the caller: accept --threshold, --interval, --sample */
	/* Set by the caller: -o FILE names a capture, which the caller writes
	 * (capture_path); no --json; the records' stream stays stdout. */
	bool capture;
	const char *capture_path;
	/* Set by the caller: accept --max-zombie-ms N, --max-unreaped N and
	 * --no-leak into limits. */
	bool check_options;
	struct check_limits limits;
	/* Where the records go: stdout, or -o FILE (created mode 0600,
	 * truncated, line-buffered). Also in s.out, for the session to watch.
	 * trace_output_close() flushes and closes it. */
	FILE *out;
};

/* Parses [--json] [-o FILE] [--duration SEC] [-p PID] [-c COMM] [-v]
 * [-- COMMAND...] (and, with memory_options, [--threshold SIZE]
 * [--interval SEC] [--sample HZ]; with check_options, check's limits) into a. Returns 0, 1 after --help
 * (printed), or 2 after a usage error or a FILE that cannot be opened (one
 * line printed). usage: the subcommand's synopsis. */
int parse_trace_args(int argc, char **argv, const char *usage, struct trace_args *a);

/* After session_run() returned status: flush and close a->out. Returns the
 * status to exit with: status, or, when the output could not be written,
 * 141 if its reader went away (nothing printed) or 1 after one line
 * "zmtrace: writing output: ..." (not printed twice; see output.h). */
/* -o FILE: created mode 0600 (traces name processes), truncated, not
 * inherited by a -- COMMAND. NULL after a one-line error. */
FILE *open_output(const char *path);

int trace_output_close(struct trace_args *a, int status);

#endif
