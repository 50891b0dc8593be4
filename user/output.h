/* Output modules for the zombie records: human text and JSON Lines. */
#ifndef ZM_OUTPUT_H
#define ZM_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "zstate.h"

struct out {
	FILE *f;
	bool json;
	bool header_done;
	uint64_t boot_wall_ns; /* times of a capture's boot (0: this boot's) */
};

struct out_totals {
	uint64_t end_ns;       /* when tracing ended (CLOCK_BOOTTIME; 0: now): the
				  unreaped zombies' age */
	uint64_t lost_ringbuf; /* events the kernel could not send */
	uint64_t untracked;    /* processes the kernel's maps had no room for */
	bool exact_reaps;      /* wait syscalls traced (else reap times are bounds) */
};

/* A JSON string literal for s (at most len bytes): escapes, and replaces
 * invalid UTF-8 with U+FFFD, so that any comm gives valid JSON. */
void json_str(FILE *f, const char *s, size_t len);

/* Text: a printable copy of a comm (control bytes shown as '?'). */
void out_printable(char dst[ZM_COMM_LEN], const char *src);

void out_zombie(struct out *o, const struct zs_zombie *z);
void out_reap(struct out *o, const struct zs_reap *r);
/* The closing table (text) or the summary line (JSON), with the zombies
 * still unreaped, oldest first. 0 or -ENOMEM. */
int out_summary(struct out *o, const struct zstate *s, const struct out_totals *t);

/* The text summary's list of the zombies still unreaped, oldest first
 * (nothing when there is none). 0 or -ENOMEM. */
int out_text_unreaped(FILE *f, const struct zstate *s, uint64_t end_ns);

/*
 * Write errors on the records' stream. Records are line-buffered, so a
 * failed write shows in ferror() right after the record. out_check(f),
 * called after each record (or batch of them), returns 0, or the value a
 * session callback returns to stop the session (see session.h):
 *   -EPIPE  the reader went away (`zmtrace ... | head`): nothing printed,
 *           zmtrace ends with status 141 (128 + SIGPIPE, the shell's way);
 *   -EIO    another error (ENOSPC, EIO, ...): "zmtrace: writing output: ..."
 *           printed (once per run), status 1.
 */
int out_check(FILE *f);
/* The same for an error already known (err: a positive errno). */
int out_write_error(int err);

#endif
