/*
 * The zombie state machine: turns EXIT/REAP events (kernel, or synthetic in
 * unit tests) and the zombies found in /proc at start into zombie and reap
 * records, and keeps per-parent statistics. It does no I/O: records go to a
 * sink, and the summary is read with zs_parents().
 *
 * A zombie is charged to the parent it had when it exited (the one that
 * leaked it), whoever reaps it after reparenting. Parents are told apart by
 * (pid, start time), so a recycled pid never inherits another's counts.
 */
#ifndef ZM_ZSTATE_H
#define ZM_ZSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zmtrace.h"

struct zs_zombie {
	uint32_t pid;
	uint32_t ppid;	    /* parent at exit */
	uint64_t start_ns;  /* the zombie's start time */
	uint64_t pstart_ns; /* the parent's start time */
	uint64_t exit_ns;   /* when it became a zombie (preexisting: found) */
	uint32_t status;    /* wait status */
	bool preexisting;   /* there before tracing: exit_ns is a lower bound */
	char comm[ZM_COMM_LEN];
	char pcomm[ZM_COMM_LEN];
};

struct zs_reap {
	const struct zs_zombie *z;
	uint64_t ts_ns;
	uint64_t zombie_ns; /* a lower bound when z->preexisting */
	uint32_t reaper_pid;
	char reaper_comm[ZM_COMM_LEN];
	enum zm_reap_via via;
	bool reparented; /* reaped by another process than the parent at exit */
	bool exit_unseen; /* its EXIT event was lost: parent comm unknown */
};

struct zs_sink {
	void *ctx;
	void (*zombie)(void *ctx, const struct zs_zombie *z);
	void (*reap)(void *ctx, const struct zs_reap *r);
	/* Optional: a zombie that stops being one without a reap seen (its
	 * pid's next EXIT came, or zs_forget()): no longer unreaped. */
	void (*drop)(void *ctx, const struct zs_zombie *z);
};

struct zs_parent_stat {
	uint32_t pid;
	char comm[ZM_COMM_LEN];
	uint64_t zombies;  /* zombies it made */
	uint64_t unreaped; /* of those, not reaped yet */
	uint64_t zombie_ns_max, zombie_ns_p50, zombie_ns_p99; /* reaped ones */
};

struct zs_counters {
	uint64_t zombies, reaps, autoreaped;
	uint64_t reaps_without_exit; /* REAP whose EXIT was lost */
	uint64_t duplicate_exits;    /* EXIT seen twice for one process */
	uint64_t stale_zombies;	     /* zombie replaced by a new process with its
					pid: its reap was lost */
	uint64_t parents_evicted;    /* parent stats dropped to bound memory */
	uint64_t nomem;		     /* allocation failures */
};

struct zstate;

/* A parent's identity as a key: its pid and its start to the /proc tick
 * (1/100 s: all a pre-existing zombie's parent may be known by). */
static inline uint64_t zs_parent_key(uint32_t pid, uint64_t start_ns)
{
	return (start_ns / 10000000ULL) << 32 ^ pid;
}

/* max_parents bounds memory (0: a default of 16384). */
struct zstate *zs_new(const struct zs_sink *sink, size_t max_parents);
void zs_free(struct zstate *s);

/* Feed one kernel event (FORK and EXEC are ignored here). 0 or -ENOMEM. */
int zs_event(struct zstate *s, const struct zm_event *e);

/* A zombie found in /proc when tracing started; z->exit_ns is when it was
 * found (its age is a lower bound), z->preexisting is implied. */
int zs_preexisting(struct zstate *s, const struct zs_zombie *z);

/* Is pid an unreaped zombie here? */
const struct zs_zombie *zs_zombie(const struct zstate *s, uint32_t pid);

/* Forget a zombie that is gone without a seen reap (for reconciling with
 * /proc after lost events); it no longer counts as unreaped. */
void zs_forget(struct zstate *s, uint32_t pid);

/* Calls fn for every unreaped zombie. */
void zs_each_zombie(const struct zstate *s, void (*fn)(void *, const struct zs_zombie *),
		    void *ctx);

/* The parents that made zombies, sorted by unreaped then zombies (both
 * descending), then pid. *out is malloc'd; returns the count or -ENOMEM. */
long zs_parents(const struct zstate *s, struct zs_parent_stat **out);

const struct zs_counters *zs_counters(const struct zstate *s);

#endif
