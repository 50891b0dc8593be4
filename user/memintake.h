/* Memory intake shared by the subcommands that keep a memstate (rss, top):
 * the processes that exist at start, with their figures from /proc. */
#ifndef ZM_MEMINTAKE_H
#define ZM_MEMINTAKE_H

#include "memstate.h"
#include "session.h"

/* Seed m with every process /proc shows that the session's filter takes.
 * 0, or -1 after a one-line error. */
int mi_seed_from_proc(struct memstate *m, struct session *s);

#endif
