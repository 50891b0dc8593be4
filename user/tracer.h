/*
 * The kernel side's lifecycle, written once: check privileges and BTF, open
 * the skeleton, set the filter, pick the programs this kernel supports, load,
 * attach (mounting tracefs for the syscall tracepoints when needed), and
 * deliver ring-buffer events to a callback.
 */
#ifndef ZM_TRACER_H
#define ZM_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zmtrace.h"

struct tracer_opts {
	enum zm_filter filter;
	char comm[ZM_COMM_LEN]; /* ZM_FILTER_COMM */
	bool lifecycle;		/* also send FORK, EXEC and autoreaped EXIT */
	bool zombies;		/* the zombie programs (exit, reaps) */
	bool rss;		/* memory: rss_stat (or sampling), OOM kills */
	uint64_t rss_threshold; /* bytes of change that make an RSS event */
	unsigned sample_hz;	/* memory by sampling at this rate, not rss_stat */
	size_t ringbuf_bytes;	/* 0: 4 MiB */
	bool verbose;		/* libbpf's messages on stderr */
	/* Called for every record (a struct zm_event or zm_mem_event, which
	 * both start with a struct zm_hdr); non-zero stops the current poll. */
	int (*on_event)(void *ctx, const struct zm_hdr *h, size_t size);
	void *ctx;
};

struct tracer;

/* How the kernel side takes rss_stat events (bpf/zmtrace.bpf.c). */
enum rss_path {
	RSS_PATH_LINEAR, /* per-CPU parts read at BASE + cpu * STEP */
	RSS_PATH_PIECES, /* the same, one BASE per group of CPUs (up to 4) */
	RSS_PATH_TABLE,	 /* per-CPU parts read through a table of offsets */
	RSS_PATH_EVERY,	 /* no per-CPU reads on the hot path; exact figures */
	RSS_PATH_SHARED, /* no per-CPU reads at all: the shared counts */
};

/* 0, or -errno with a one-line reason in err (no "zmtrace:" prefix). */
int tracer_open(struct tracer **out, const struct tracer_opts *o, char *err, size_t errlen);
void tracer_close(struct tracer *t);

/* Why a part of the tracing is degraded, or NULL: one line to print. */
const char *tracer_warning(const struct tracer *t);
/* The rss_stat path taken: "linear", "pieces", "table", "every" or "shared". */
const char *tracer_rss_path(const struct tracer *t);
/* Were the wait4/waitid tracepoints attached (exact reap times)? */
bool tracer_exact_reaps(const struct tracer *t);

/* ZM_FILTER_FOLLOW: follow pid (start_ns 0: whatever process has it now). */
int tracer_follow(struct tracer *t, uint32_t pid, uint64_t start_ns);
/* Await the reap of a zombie found in /proc; does not replace a zombie the
 * kernel side already watches. */
int tracer_watch(struct tracer *t, uint32_t pid, const struct zm_zombie *z);

/* An fd that polls readable when events wait; then call tracer_consume(). */
int tracer_fd(const struct tracer *t);
/* Deliver waiting events; returns how many, or -errno. */
int tracer_consume(struct tracer *t);
/* Wait up to ms for the kernel side, then deliver what is waiting. */
int tracer_wait(struct tracer *t, int ms);
/* Events the kernel side could not send (ring buffer full) and processes it
 * could not track (map full), summed over CPUs. */
uint64_t tracer_drops(const struct tracer *t, enum zm_drop_kind kind);

#endif
