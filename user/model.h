/*
 * A capture replayed: its records through the same state machines as the
 * live commands (zstate for zombies, memstate for processes' memory, the
 * system memory history), plus what only a whole capture can tell: zombie
 * lifetimes, each parent's peak of unreaped zombies, counts by kind, where
 * and why reading stopped. `zmtrace report` and `zmtrace check` read a
 * capture through it; observers see each step as it happens (the JSON
 * Lines, CSV and Perfetto outputs stream from them).
 */
#ifndef ZM_MODEL_H
#define ZM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "dist.h"
#include "hashmap.h"
#include "memstate.h"
#include "records.h"
#include "sysmem.h"
#include "zstate.h"

/* Zombie lifetimes by decade: < 1 ms, < 10 ms, ..., < 10 min, longer. */
#define MODEL_LIFE_BUCKETS 8

/* Points over time, grown as needed (graphs). */
struct model_series {
	uint64_t *ts;
	double *y;
	size_t n, cap;
};

/* Append a point: 0 or -ENOMEM. */
int model_series_add(struct model_series *s, uint64_t ts, double y);
void model_series_free(struct model_series *s);

/* A parent that made zombies: (pid, start) names it. */
struct model_parent {
	uint32_t pid;
	uint64_t start_ns;
	char comm[ZM_COMM_LEN];
	uint64_t zombies;
	uint32_t unreaped, peak; /* now, and the most at once */
	uint64_t peak_ns;	 /* when the peak was first reached */
	/* Its longest-lived zombie (reaped, or unreaped at the end). */
	uint64_t worst_ns;
	uint32_t worst_pid;
	char worst_comm[ZM_COMM_LEN];
	/* Its zombies that lived longer than model.long_ns (reaped, or
	 * unreaped at the end). */
	uint64_t long_zombies;
	bool watched; /* series kept for it (model_watch_parent) */
	struct model_series series; /* its unreaped count, when watched */
};

struct model_observer {
	void *ctx;
	/* The capture's header, once it is open. */
	void (*header)(void *ctx, const struct cap_header *h);
	/* Every record read, decoded, before the model takes it: 0 to go
	 * on, else reading stops. */
	int (*rec)(void *ctx, const struct rec *r);
	/* What the live commands print. */
	void (*zombie)(void *ctx, const struct zs_zombie *z);
	void (*reap)(void *ctx, const struct zs_reap *r);
	/* A zombie no longer unreaped without a reap seen (lost events). */
	void (*drop)(void *ctx, const struct zs_zombie *z, uint64_t ts);
	/* A memory event (peaks as the live command gives them). */
	void (*mem)(void *ctx, const struct zm_mem_event *e);
	void (*sys)(void *ctx, const struct sysmem *s);
};

struct model {
	struct cap_header hdr;
	struct rec_start start;
	bool has_start, has_end;
	struct rec_drops drops; /* the last counters seen (END's when has_end) */
	uint64_t first_ns, last_ns; /* the records' time span */
	uint64_t records, by_type[32], skipped; /* skipped: unknown types */
	struct zstate *zs;
	struct memstate *mem;
	struct sysmem_hist sys;	 /* the last SYSMEM_HIST samples: the verdict */
	struct sysmem *sys_all;	 /* every sample, halved when full (html) */
	size_t nsys, capsys;
	uint64_t mem_total_kb;	 /* MemTotal, from the samples */
	struct dist life;	 /* reaped zombies' lifetimes (ns) */
	uint64_t life_bucket[MODEL_LIFE_BUCKETS];
	struct hashmap parents;	 /* zs_parent_key() -> struct model_parent */
	uint64_t parents_dropped; /* past MODEL_MAX_PARENTS */
	/* Reading stopped before the end: why (static or in stop_buf), at
	 * which byte. NULL when the file ended cleanly (has_end or not). */
	const char *stop;
	char stop_buf[192];
	uint64_t stop_at;
	int err; /* -ENOMEM met */
	const struct model_observer *obs;
	uint64_t long_ns; /* set before model_read: see long_zombies (0: off) */
	/* Set before reading: keep the processes that exited as leak suspects
	 * (memstate keeps only the last 4096 that exited). */
	bool keep_suspects;
	struct model_suspect *suspects;
	size_t nsuspects, capsuspects;
	uint64_t suspects_dropped; /* past MODEL_MAX_SUSPECTS */
};

/* A process that exited as a leak suspect. */
struct model_suspect {
	uint32_t pid;
	char comm[ZM_COMM_LEN];
	uint64_t rss_kb;
	struct ms_verdict v;
};

#define MODEL_MAX_SUSPECTS 10000

#define MODEL_MAX_PARENTS 65536

/* 0, or -1 after a one-line error (cannot open, not a capture). */
int model_init(struct model *m, const struct model_observer *obs);
void model_free(struct model *m);

/*
 * Read a capture into m. 0 when it ended cleanly, 1 when reading stopped
 * early (m->stop says why; everything before is in m), -1 when it could not
 * be opened or memory ran out (a one-line error printed).
 */
int model_read(struct model *m, const char *path);

/* Or feed it the records one by one (a live session: `check`), then
 * model_finish() once. 0, or -ENOMEM. */
int model_apply(struct model *m, const struct rec *r);
void model_finish(struct model *m);

/* Keep the unreaped-zombie count over time for this parent (before
 * model_read). 0 or -ENOMEM. */
int model_watch_parent(struct model *m, uint32_t pid, uint64_t start_ns);
const struct model_parent *model_parent(const struct model *m, uint32_t pid, uint64_t start_ns);
/* The parents, most unreaped at once first (then zombies, then pid);
 * malloc'd array of pointers, the count, or -ENOMEM. */
long model_parents(const struct model *m, const struct model_parent ***out);

/* When the capture ends: END's time, else the last record's. */
uint64_t model_end_ns(const struct model *m);

#endif
