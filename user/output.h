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
};

struct out_totals {
	uint64_t lost_ringbuf; /* events the kernel could not send */
	uint64_t untracked;    /* processes the kernel's maps had no room for */
	bool exact_reaps;      /* wait syscalls traced (else reap times are bounds) */
};

/* A JSON string literal for s (at most len bytes): escapes, and replaces
 * invalid UTF-8 with U+FFFD, so that any comm gives valid JSON. */
void json_str(FILE *f, const char *s, size_t len);

void out_zombie(struct out *o, const struct zs_zombie *z);
void out_reap(struct out *o, const struct zs_reap *r);
/* The closing table (text) or the summary line (JSON). 0 or -ENOMEM. */
int out_summary(struct out *o, const struct zstate *s, const struct out_totals *t);

#endif
