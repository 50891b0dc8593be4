/*
 * Processes' memory: the last figures, the peaks and a bounded history per
 * process (memseries), fed by ZM_EV_RSS / ZM_EV_OOM events and by /proc at
 * start. No I/O. Processes that exited stay (for the summary) up to a bound;
 * a pid reused after an exit starts a new entry.
 */
#ifndef ZM_MEMSTATE_H
#define ZM_MEMSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memseries.h"
#include "zmtrace.h"

struct mp_proc {
	uint32_t pid;
	char comm[ZM_COMM_LEN];
	uint64_t anon_kb, file_kb, shmem_kb, swap_kb, rss_kb, vsize_kb; /* last */
	uint64_t rss_max_kb, vsize_max_kb; /* including the kernel's peaks */
	uint64_t first_ns, last_ns;
	bool exited, oom_killed;
	struct memseries series;
};

struct mst_counters {
	uint64_t events, exited_evicted, nomem;
};

struct memstate;

/* Keep at most max_exited processes that exited (0: 4096). */
struct memstate *mst_new(size_t max_exited);
void mst_free(struct memstate *m);

/* Feed a ZM_EV_RSS or ZM_EV_OOM event; *out (if not NULL) gets the process
 * it updated. 0 or -ENOMEM. */
int mst_event(struct memstate *m, const struct zm_mem_event *e, const struct mp_proc **out);
/* A process seen in /proc at start (figures in KiB). */
int mst_seed(struct memstate *m, uint32_t pid, const char *comm, uint64_t ts_ns,
	     const struct zm_mem_event *figures);

/* An exit or OOM event's peaks: the kernel keeps its high-water marks from
 * the shared counts, which lag the exact figures sent before; the peak is
 * the larger of the two. p: the process as mst_event() left it, or NULL. */
void mst_fix_peaks(const struct mp_proc *p, struct zm_mem_event *e);

const struct mp_proc *mst_get(const struct memstate *m, uint32_t pid);
/* Every process, live and exited; fn returns non-zero to stop. */
void mst_each(const struct memstate *m, int (*fn)(void *ctx, const struct mp_proc *p),
	      void *ctx);
size_t mst_count(const struct memstate *m);
const struct mst_counters *mst_counters(const struct memstate *m);

#endif
