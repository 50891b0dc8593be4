/* A distribution of durations (ns) with exact max and quantiles: exact for
 * the first DIST_EXACT samples, then from a log-linear histogram (32
 * sub-buckets per power of two: within 3.2% of the true value). Memory: a
 * few hundred bytes, plus 7.5 KiB once past DIST_EXACT samples. */
#ifndef ZM_DIST_H
#define ZM_DIST_H

#include <stdint.h>

#define DIST_EXACT 32

struct dist {
	uint64_t count;
	uint64_t max;
	uint64_t exact[DIST_EXACT];
	uint32_t *hist; /* NULL until count > DIST_EXACT */
};

/* 0, or -ENOMEM (the sample still counts in count and max). */
int dist_add(struct dist *d, uint64_t v);
/* The nearest-rank q-quantile (0 < q <= 1); 0 when empty. */
uint64_t dist_quantile(const struct dist *d, double q);
void dist_free(struct dist *d);

#endif
