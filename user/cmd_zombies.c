/* zmtrace zombies: every zombie, who leaked it, how long it stayed, and who
 * reaped it; at the end, the parents ranked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "procscan.h"
#include "util.h"
#include "zintake.h"
#include "zstate.h"

struct zombies {
	struct zintake zi; /* events and pre-existing zombies into zi.zs */
	struct out out;
	int werr; /* writing the records failed: the session's stop value */
};

/* After each record: a write error stops the session (see output.h). */
static void sink_zombie(void *ctx, const struct zs_zombie *zz)
{
	struct zombies *z = ctx;

	if (z->werr)
		return;
	out_zombie(&z->out, zz);
	z->werr = out_check(z->out.f);
}

static void sink_reap(void *ctx, const struct zs_reap *r)
{
	struct zombies *z = ctx;

	if (z->werr)
		return;
	out_reap(&z->out, r);
	z->werr = out_check(z->out.f);
}

static int on_event(void *ctx, const struct zm_hdr *h, size_t size)
{
	struct zombies *z = ctx;

	zi_event(&z->zi, h, size);
	return z->werr;
}

static int on_ready(void *ctx, struct session *s)
{
	return zi_ready(&((struct zombies *)ctx)->zi, s);
}

static int on_end(void *ctx, struct session *s)
{
	struct zombies *z = ctx;
	struct tracer *t = session_tracer(s);
	struct out_totals tot = {
		.lost_ringbuf = tracer_drops(t, ZM_DROP_RINGBUF),
		.untracked = tracer_drops(t, ZM_DROP_TRACKED),
		.exact_reaps = tracer_exact_reaps(t),
	};

	/* The age of the zombies left is taken when tracing stopped. */
	tot.end_ns = now_boot_ns();
	if (zi_reconcile(&z->zi, t) || z->zi.err || (!z->werr && out_summary(&z->out, z->zi.zs, &tot))) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return -1;
	}
	if (!z->werr)
		z->werr = out_check(z->out.f);
	return z->werr;
}

int cmd_zombies(int argc, char **argv)
{
	static const char usage[] =
		"zmtrace zombies [--json] [-o FILE] [--duration SEC] [-p PID] [-c COMM] [-v] "
		"[-- COMMAND [ARG...]]";
	struct trace_args a = { .s = { .what = "zombies", .zombies = true } };
	int ret = parse_trace_args(argc, argv, usage, &a);

	if (ret)
		return ret == 1 ? 0 : 2;
	struct zombies z = { .out = { .f = a.out, .json = a.json } };
	struct zs_sink sink = { .ctx = &z, .zombie = sink_zombie, .reap = sink_reap };

	z.zi.self = (uint32_t)getpid();
	z.zi.stop = &z.werr;
	z.zi.zs = zs_new(&sink, 0);
	if (!z.zi.zs) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return trace_output_close(&a, 1);
	}
	a.s.ctx = &z;
	a.s.on_event = on_event;
	a.s.on_ready = on_ready;
	a.s.on_end = on_end;
	ret = session_run(&a.s);
	zs_free(z.zi.zs);
	return trace_output_close(&a, ret);
}
