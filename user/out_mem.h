/* Output of the memory records: human text and JSON Lines. */
#ifndef ZM_OUT_MEM_H
#define ZM_OUT_MEM_H

#include <stdbool.h>
#include <stdio.h>

#include "memstate.h"
#include "sysmem.h"

struct out_mem {
	FILE *f;
	bool json;
	bool header_done;
	uint64_t boot_wall_ns; /* times of a capture's boot (0: this boot's) */
};

struct mem_summary_opts {
	uint64_t now_ns;
	uint64_t window_ns; /* the verdict's window (0: all) */
	uint64_t lost_ringbuf;
	const struct sysmem_hist *sys; /* NULL: no system samples */
};

void out_rss(struct out_mem *o, const struct zm_mem_event *e);
void out_oom(struct out_mem *o, const struct zm_mem_event *e);
void out_sysmem(struct out_mem *o, const struct sysmem *s);
/* The closing summary. 0 or -ENOMEM. */
int out_mem_summary(struct out_mem *o, const struct memstate *m, const struct mem_summary_opts *so);

#endif
