/*
 * What zmtrace top shows, without a terminal: a snapshot of the state
 * (system memory and its recent history, the parents with unreaped zombies,
 * the live processes with their memory and leak verdicts), sorted as the
 * user asked, and laid out as a frame (screen.h) of any size; and what the
 * keys do to the view. No I/O.
 */
#ifndef ZM_TOPVIEW_H
#define ZM_TOPVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memseries.h"
#include "memstate.h"
#include "screen.h"
#include "sysmem.h"
#include "zmtrace.h"
#include "zstate.h"

struct top_proc {
	uint32_t pid;
	char comm[ZM_COMM_LEN];
	uint64_t rss_kb, vsize_kb;
	double growth_kb_s; /* RSS slope of the leak verdict (0 when unknown) */
	bool growth_known;  /* the fit spans TOP_GROWTH_SPAN_NS at least */
	enum ms_trend trend;
	bool suspect;
};

struct top_parent {
	uint32_t pid;
	char comm[ZM_COMM_LEN];
	uint64_t unreaped, zombies;
	uint64_t oldest_ns;	  /* age of its oldest unreaped zombie */
	bool oldest_preexisting; /* that zombie was there before tracing:
				    the age is a lower bound */
};

/* A slope over a shorter time is noise (a process that just started and
 * mapped its libraries "grows" by megabytes a second): not shown. */
#define TOP_GROWTH_SPAN_NS (3 * 1000000000ULL)

/* A parent whose zombies are younger is about to reap them: not shown. */
#define TOP_ZOMBIE_AGE_NS (1000000000ULL)

/* Samples of the apps history kept in a snapshot. */
#define TOP_SPARK 256

struct top_snapshot {
	uint64_t now_ns;
	bool sys_ok; /* sys and sv are valid */
	struct sysmem sys;
	struct sys_verdict sv;
	uint64_t spark[TOP_SPARK]; /* app_kb, oldest first */
	unsigned nspark;
	/* Parents whose oldest unreaped zombie is TOP_ZOMBIE_AGE_NS old or
	 * more, as zs_parents() ranks them. */
	struct top_parent *parent;
	size_t nparents, parent_cap;
	uint64_t unreaped, zombies; /* those parents' unreaped; all zombies seen */
	struct top_proc *proc;	    /* live processes */
	size_t nprocs, proc_cap;
	size_t suspects;
	uint64_t lost; /* events the kernel could not send (the caller sets it) */
};

enum top_sort { TOP_SORT_RSS, TOP_SORT_GROWTH, TOP_SORT_VSIZE, TOP_SORT_PID };

struct top_view {
	const char *what; /* "all processes", "pid 42 and descendants", ... */
	double interval;  /* seconds between snapshots */
	bool utf8;	  /* the sparkline may use block characters */
	enum top_sort sort;
	bool reverse, suspects_only, help;
};

/* Fill t from the state as of now_ns (sys: NULL when /proc/meminfo is not
 * readable). The snapshot's arrays are reused. 0 or -ENOMEM. */
int top_take(struct top_snapshot *t, const struct zstate *zs, const struct memstate *m,
	     const struct sysmem_hist *sys, uint64_t now_ns);
void top_snapshot_free(struct top_snapshot *t);
/* Order the processes as the view says. */
void top_sort(struct top_snapshot *t, const struct top_view *v);
/* Lay the snapshot out on f (of any size; made for 80x24 and up). */
void top_render(const struct top_snapshot *t, const struct top_view *v, struct frame *f);

enum top_action {
	TOP_NONE,    /* not a key of ours */
	TOP_REDRAW,  /* the view changed: sort and render again */
	TOP_REFRESH, /* take a new snapshot now, repaint everything */
	TOP_QUIT,
};
/*
 * A key, in top's habits: q quit; M sort by memory (RSS), G or g by growth,
 * V by VSIZE, N by pid, R reverse the order; L leak suspects only; h or ?
 * the help line; space or Ctrl-L refresh now.
 */
enum top_action top_key(struct top_view *v, int key);

#endif
