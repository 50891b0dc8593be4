/*
 * System memory from /proc/meminfo, a bounded history of samples, and the
 * system verdict: are applications leaving little room for the page cache,
 * and does swap use keep rising. No I/O except sysmem_read().
 */
#ifndef ZM_SYSMEM_H
#define ZM_SYSMEM_H

#include <stdbool.h>
#include <stdint.h>

/* All in KiB (meminfo's "kB"). */
struct sysmem {
	uint64_t ts_ns, total_kb, free_kb, used_kb, buffers_kb, cached_kb, app_kb, swap_total_kb,
		swap_used_kb;
};

/* Parse the text of /proc/meminfo. used = MemTotal - MemFree; cached =
 * Cached + SReclaimable (as free(1) does for buff/cache); app = used -
 * buffers - cached; swap_used = SwapTotal - SwapFree (differences clamped at
 * 0). Other fields may be missing (0). 0, or -EINVAL: MemTotal or MemFree
 * missing, or one of the fields used not a decimal number of kB that fits in
 * 64 bits. out->ts_ns is left 0. */
int sysmem_parse(const char *text, struct sysmem *out);
/* Read /proc/meminfo: 0, or -errno (-EINVAL when it does not parse). */
int sysmem_read(struct sysmem *out, uint64_t ts_ns);

/* The last SYSMEM_HIST samples (10 minutes at the default 1 s interval). */
#define SYSMEM_HIST 600

struct sysmem_hist {
	struct sysmem s[SYSMEM_HIST];
	unsigned first, n; /* oldest at s[first] */
};

void sysmem_hist_init(struct sysmem_hist *h);
/* Add a sample; the oldest goes when full. A time earlier than the newest
 * sample's is taken as the newest's. */
void sysmem_hist_add(struct sysmem_hist *h, const struct sysmem *s);
/* Sample i, 0 the oldest; NULL when i >= h->n. */
const struct sysmem *sysmem_hist_at(const struct sysmem_hist *h, unsigned i);
/* The newest sample, or NULL. */
const struct sysmem *sysmem_hist_last(const struct sysmem_hist *h);

#define SYS_APP_HIGH_PCT 75.0

struct sys_verdict {
	double app_pct_of_used;	    /* newest sample's app / used, in % */
	bool app_high;		    /* app >= SYS_APP_HIGH_PCT of used */
	double swap_slope_kb_s, swap_r2; /* over the whole history */
	bool swap_rising;
	/* "ok", "apps use 82% of used memory (little cache left)", "swap use
	 * keeps rising (+3.1 MiB/s)", the two joined by "; ", or "no data". */
	char verdict[112];
};

void sysmem_verdict(const struct sysmem_hist *h, struct sys_verdict *v);

#endif
