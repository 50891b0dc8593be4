/* Memory intake shared by the subcommands that keep a memstate (rss, top):
 * the processes that exist at start, with their figures from /proc, and
 * the system memory samples. */
#ifndef ZM_MEMINTAKE_H
#define ZM_MEMINTAKE_H

#include <stdbool.h>

#include "memstate.h"
#include "procscan.h"
#include "session.h"
#include "sysmem.h"

/* Seed m with every process /proc shows that the session's filter takes.
 * 0, or -1 after a one-line error. */
int mi_seed_from_proc(struct memstate *m, struct session *s);
/* The same, but each process (with its figures, in KiB) goes to fn, which
 * returns 0 to go on, -ENOMEM, or -ECANCELED after printing its own one-line
 * error. 0, or -1 after a one-line error. */
int mi_scan_proc(struct session *s,
		 int (*fn)(void *ctx, const struct ps_proc *p, const struct zm_mem_event *figures),
		 void *ctx);


/* Read /proc/meminfo into *s and add it to h: true. False when it cannot
 * be read (said once on stderr, until it can be again: *ok tracks it). */
bool mi_sample_system(struct sysmem_hist *h, bool *ok, struct sysmem *s);

#endif
