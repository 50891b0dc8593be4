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
#include <stdio.h>

#include "tracer.h"

struct session;

struct session_opts {
	const char *what; /* for the "zmtrace: tracing WHAT ..." line */
	double duration;  /* seconds, 0 for none */
	uint32_t pid;	  /* -p: follow this process and its descendants */
	const char *comm; /* -c: processes named this, or whose parent is */
	char **command;	  /* -- COMMAND ARGS: run and follow it (NULL-ended) */
	bool lifecycle;	  /* the kernel side also sends FORK/EXEC/autoreaps */
	bool zombies;	  /* zombie events */
	bool rss;	  /* memory events */
	uint64_t rss_threshold; /* bytes */
	unsigned sample_hz;	/* memory by sampling */
	double interval;	/* seconds between on_tick calls (0: none) */
	bool verbose;
	/* Where the records go (cli.h sets it), or NULL. A pipe or socket is
	 * watched: when its reader goes away, the session ends at once (as
	 * for -EPIPE below) even if no record is due. */
	FILE *out;
	void *ctx;
	/*
	 * The callbacks return 0 to go on. Any other value stops the session
	 * (no more callbacks; the -- COMMAND is ended as on Ctrl-C); the
	 * callback has printed a one-line error, and zmtrace exits with
	 * status 1, except after -EPIPE (out_check() in output.h): the output's
	 * reader went away, nothing is printed, and the status is 141.
	 */
	int (*on_event)(void *ctx, const struct zm_hdr *h, size_t size);
	/* Every interval seconds (system memory samples, screen refresh). */
	int (*on_tick)(void *ctx, struct session *s);
	/* Attached, before the "tracing" line: read what already exists. */
	int (*on_ready)(void *ctx, struct session *s);
	/* Stopped and drained: conclude (print the summary). */
	int (*on_end)(void *ctx, struct session *s);
	/*
	 * Input (a terminal's keys), when on_input is set: the loop also
	 * watches input_fd and calls on_input when it is readable or hung up.
	 * It is watched level-triggered: on_input reads what is there, or ends
	 * the session (a hung-up fd stays ready). It returns 0 to go on,
	 * SESSION_QUIT to end the session as a signal does (the user quit:
	 * the -- COMMAND still running is ended, on_end is called, the status
	 * is 0 or the command's), or another value as the callbacks above.
	 */
	int input_fd;
	int (*on_input)(void *ctx, struct session *s);
};

/* on_input's return: the user asked to quit. */
#define SESSION_QUIT 1

/*
 * Runs the session; returns the status zmtrace should exit with: the
 * command's (128+signal when it was killed) in -- mode, else 0; 1 after an
 * error, printed as one line on stderr; 141 when the output's reader went
 * away.
 *
 * Signals (SIGINT, SIGTERM, SIGHUP) stop the session. In -- mode the first
 * one is the command's, and only the second stops zmtrace:
 *  - one from the terminal (Ctrl-C, hangup: si_code SI_KERNEL) is not
 *    passed on: the terminal signals its whole foreground process group,
 *    and the command, in ours, has it already;
 *  - one sent with kill(), sigqueue() or tgkill() (SI_USER, SI_QUEUE,
 *    SI_TKILL, with the sender's pid) was addressed to zmtrace: it is
 *    passed on to the command. A kill() to our whole process group (a
 *    shell's job control, a `kill 0` in the command) cannot be told from
 *    one to zmtrace alone and reaches the command twice: signal zmtrace's
 *    pid instead.
 * When the session stops with the command still running (second signal,
 * --duration, an error, a closed output), the command gets SIGTERM, then
 * SIGKILL 2 s later (at once on a further signal to zmtrace). After a
 * signal or --duration, zmtrace then writes the summary and exits with the
 * command's status (143, 137, ...).
 */
int session_run(const struct session_opts *o);

struct tracer *session_tracer(struct session *s);
/* Does the user's filter take this process (as /proc showed it at start)? */
bool session_selects(const struct session *s, uint32_t pid, const char *comm,
		     const char *pcomm);

#endif
