/*
 * One tracing session, shared by the subcommands: attach the kernel side with
 * the user's filter, optionally start and follow a command, announce
 * readiness on stderr, deliver events until Ctrl-C, --duration or the
 * command's end, drain what is left, and let the subcommand conclude.
 */
#ifndef ZM_SESSION_H
#define ZM_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "tracer.h"

struct session;

struct session_opts {
	const char *what; /* for the "zmtrace: tracing WHAT ..." line */
	double duration;  /* seconds, 0 for none */
	uint32_t pid;	  /* -p: follow this process and its descendants */
	const char *comm; /* -c: processes named this, or whose parent is */
	char **command;	  /* -- COMMAND ARGS: run and follow it (NULL-ended) */
	bool lifecycle;	  /* the kernel side also sends FORK/EXEC/autoreaps */
	bool verbose;
	void *ctx;
	int (*on_event)(void *ctx, const struct zm_event *e);
	/* Attached, before the "tracing" line: read what already exists. */
	int (*on_ready)(void *ctx, struct session *s);
	/* Stopped and drained: conclude (print the summary). */
	int (*on_end)(void *ctx, struct session *s);
};

/* Runs the session; returns the status zmtrace should exit with: the
 * command's (128+signal when it was killed) in -- mode, else 0; 1 after an
 * error, printed as one line on stderr. */
int session_run(const struct session_opts *o);

struct tracer *session_tracer(struct session *s);
/* Does the user's filter take this process (as /proc showed it at start)? */
bool session_selects(const struct session *s, uint32_t pid, const char *comm,
		     const char *pcomm);

#endif
