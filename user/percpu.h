/*
 * Each possible CPU's per-CPU offset (the kernel's __per_cpu_offset[]),
 * learnt once at start-up by running bpf/percpu.bpf.c: with them the
 * kernel side reads the per-CPU parts of mm counters, for exact figures
 * and for the rss_stat handler's cheap test (bpf/zmtrace.bpf.c).
 */
#ifndef ZM_PERCPU_H
#define ZM_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

/* *offs (malloc'd, *n entries: CPU ids 0 to the highest possible; 0 for an id
 * that is not a possible CPU), or -errno. */
int percpu_offsets(uint64_t **offs, int *n);

/* The layout as up to max pieces: CPU n's offset is base[k] + n * step for
 * the last piece k with start[k] <= n (start[0] = 0). The step is the
 * commonest difference between successive CPUs. Returns the number of
 * pieces (1: linear, offs[cpu] == base[0] + cpu * step for every CPU, ids
 * with offset 0 aside), or 0 when more than max are needed. */
struct percpu_pieces {
	uint64_t step;
	uint64_t start[8], base[8];
};
int percpu_split(const uint64_t *offs, int n, int max, struct percpu_pieces *out);

#endif
