/* A distribution of durations with exact max and bounded-error quantiles. */
#include "dist.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB_BITS 5
#define SUB (1u << SUB_BITS)
#define NBUCKETS ((64 - SUB_BITS + 1) * SUB)

static unsigned bucket_of(uint64_t v)
{
	if (v < SUB)
		return (unsigned)v;
	unsigned e = 63 - (unsigned)__builtin_clzll(v); /* e >= SUB_BITS */

	return (e - SUB_BITS + 1) * SUB + (unsigned)((v >> (e - SUB_BITS)) & (SUB - 1));
}

/* The middle of bucket b's range. */
static uint64_t bucket_mid(unsigned b)
{
	if (b < SUB)
		return b;
	unsigned e = b / SUB + SUB_BITS - 1, sub = b % SUB;
	uint64_t lo = ((uint64_t)(SUB + sub)) << (e - SUB_BITS);
	uint64_t width = 1ULL << (e - SUB_BITS);

	return lo + width / 2;
}

int dist_add(struct dist *d, uint64_t v)
{
	if (v > d->max)
		d->max = v;
	if (d->count < DIST_EXACT) {
		d->exact[d->count++] = v;
		return 0;
	}
	if (!d->hist) {
		d->hist = calloc(NBUCKETS, sizeof(*d->hist));
		if (!d->hist) {
			d->count++;
			return -ENOMEM;
		}
		for (unsigned i = 0; i < DIST_EXACT; i++)
			d->hist[bucket_of(d->exact[i])]++;
	}
	d->hist[bucket_of(v)]++;
	d->count++;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t dist_quantile(const struct dist *d, double q)
{
	if (!d->count)
		return 0;
	uint64_t rank = (uint64_t)ceil(q * (double)d->count);

	if (rank < 1)
		rank = 1;
	if (rank > d->count)
		rank = d->count;
	if (rank == d->count)
		return d->max;
	if (!d->hist) {
		uint64_t tmp[DIST_EXACT];
		uint64_t n = d->count < DIST_EXACT ? d->count : DIST_EXACT;

		memcpy(tmp, d->exact, n * sizeof(tmp[0]));
		qsort(tmp, n, sizeof(tmp[0]), cmp_u64);
		return tmp[rank - 1 < n ? rank - 1 : n - 1];
	}
	uint64_t seen = 0;

	for (unsigned b = 0; b < NBUCKETS; b++) {
		seen += d->hist[b];
		if (seen >= rank) {
			uint64_t mid = bucket_mid(b);

			return mid > d->max ? d->max : mid;
		}
	}
	return d->max;
}

void dist_free(struct dist *d)
{
	free(d->hist);
	d->hist = NULL;
}
