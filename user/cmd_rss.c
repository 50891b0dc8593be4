/* zmtrace rss: every process's memory as it changes (RSS, VSIZE, swap),
 * system memory every interval, OOM kills; at the end, the leak suspects. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "memintake.h"
#include "memstate.h"
#include "out_mem.h"
#include "output.h"
#include "procscan.h"
#include "sysmem.h"
#include "util.h"

struct rss {
	struct out_mem out;
	struct memstate *mem;
	struct sysmem_hist sys;
	bool sys_ok; /* /proc/meminfo readable */
	int err;
};

static int on_event(void *ctx, const struct zm_hdr *h, size_t size)
{
	struct rss *r = ctx;
	const struct zm_mem_event *e = (const struct zm_mem_event *)h;

	if ((h->type != ZM_EV_RSS && h->type != ZM_EV_OOM) || size < sizeof(*e))
		return 0;
	const struct mp_proc *p = NULL;
	struct zm_mem_event ev = *e;

	if (mst_event(r->mem, e, &p))
		r->err = -ENOMEM;
	mst_fix_peaks(p, &ev);
	if (h->type == ZM_EV_OOM)
		out_oom(&r->out, &ev);
	else
		out_rss(&r->out, &ev);
	return out_check(r->out.f);
}

static int sample_system(struct rss *r)
{
	struct sysmem s;

	if (!mi_sample_system(&r->sys, &r->sys_ok, &s))
		return 0;
	out_sysmem(&r->out, &s);
	return out_check(r->out.f);
}

static int on_tick(void *ctx, struct session *s)
{
	(void)s;
	return sample_system(ctx);
}

static int on_ready(void *ctx, struct session *s)
{
	struct rss *r = ctx;

	if (mi_seed_from_proc(r->mem, s))
		return -1;
	return sample_system(r);
}

static int on_end(void *ctx, struct session *s)
{
	struct rss *r = ctx;
	struct mem_summary_opts so = {
		.now_ns = now_boot_ns(),
		.lost_ringbuf = tracer_drops(session_tracer(s), ZM_DROP_RINGBUF),
		.sys = r->sys_ok ? &r->sys : NULL,
	};

	if (r->err || out_mem_summary(&r->out, r->mem, &so)) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return -1;
	}
	return out_check(r->out.f);
}

int cmd_rss(int argc, char **argv)
{
	static const char usage[] =
		"zmtrace rss [--json] [--threshold SIZE] [--interval SEC] [--duration SEC] "
		"[--sample HZ] [-p PID] [-c COMM] [-o FILE] [-v] [-- COMMAND [ARG...]]";
	struct trace_args a = {
		.s = { .what = "memory", .rss = true, .rss_threshold = 1 << 20, .interval = 1 },
		.memory_options = true,
	};
	int ret = parse_trace_args(argc, argv, usage, &a);

	if (ret)
		return ret == 1 ? 0 : 2;
	struct rss *r = calloc(1, sizeof(*r));

	if (!r || !(r->mem = mst_new(0))) {
		free(r);
		fprintf(stderr, "zmtrace: out of memory\n");
		return trace_output_close(&a, 1);
	}
	r->out = (struct out_mem){ .f = a.out, .json = a.json };
	sysmem_hist_init(&r->sys);
	a.s.ctx = r;
	a.s.on_event = on_event;
	a.s.on_ready = on_ready;
	a.s.on_tick = on_tick;
	a.s.on_end = on_end;
	ret = session_run(&a.s);
	mst_free(r->mem);
	free(r);
	return trace_output_close(&a, ret);
}
