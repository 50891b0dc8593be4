/* zmtrace record: every kind of event to a capture file, for `zmtrace
 * report` later or elsewhere. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "memintake.h"
#include "recorder.h"
#include "session.h"
#include "sysmem.h"
#include "util.h"
#include "zintake.h"

struct record {
	struct recorder *rec;
	struct zintake zi; /* pre-existing zombies, reaps awaited at the end */
	const struct session_opts *so;
	uint64_t drops[ZM_DROP_KINDS]; /* last written */
	int err;		       /* a write failed: the session's stop value */
};

static int put(struct record *r, const struct rec *rec)
{
	if (!r->err && recorder_put(r->rec, rec))
		r->err = -EIO;
	return r->err;
}

static int on_event(void *ctx, const struct zm_hdr *h, size_t size)
{
	struct record *r = ctx;

	if (!r->err && recorder_event(r->rec, h, size))
		r->err = -EIO;
	zi_event(&r->zi, h, size);
	if (r->zi.err && !r->err) {
		fprintf(stderr, "zmtrace: out of memory\n");
		r->err = -ENOMEM;
	}
	return r->err;
}

static int put_proc(void *ctx, const struct ps_proc *p, const struct zm_mem_event *figures)
{
	struct rec rec = { .type = REC_PROC };

	rec.proc.ppid = p->ppid;
	rec.proc.start_ns = p->start_ns;
	rec.proc.state = p->state;
	rec.proc.has_mem = true;
	rec.proc.mem = *figures;
	rec.proc.mem.ts_ns = now_boot_ns();
	rec.proc.mem.pid = p->pid;
	copy_comm(rec.proc.mem.comm, p->comm);
	return put(ctx, &rec) ? -ECANCELED : 0;
}

static int put_zombie(void *ctx, const struct zs_zombie *z)
{
	struct rec rec = { .type = REC_ZOMBIE, .zombie = *z };

	return put(ctx, &rec);
}

/* A zombie gone at the end whose reap was never seen (its event lost). */
static void put_gone(void *ctx, const struct zs_zombie *z)
{
	struct rec rec = { .type = REC_GONE };

	rec.hdr.ts_ns = now_boot_ns();
	rec.hdr.pid = z->pid;
	put(ctx, &rec);
}

static int put_sysmem(struct record *r)
{
	struct rec rec = { .type = REC_SYSMEM };

	/* Unreadable /proc/meminfo: no sample (the kernel's events go on). */
	if (sysmem_read(&rec.sys, now_boot_ns()))
		return 0;
	return put(r, &rec);
}

/* The kernel's drop counters, when they moved (type REC_DROPS), or at the
 * end (REC_END, always). */
static int put_drops(struct record *r, struct session *s, uint8_t type)
{
	struct tracer *t = session_tracer(s);
	struct rec rec = { .type = type };

	rec.drops.ts_ns = now_boot_ns();
	rec.drops.ringbuf = tracer_drops(t, ZM_DROP_RINGBUF);
	rec.drops.tracked = tracer_drops(t, ZM_DROP_TRACKED);
	if (type == REC_DROPS && rec.drops.ringbuf == r->drops[ZM_DROP_RINGBUF] &&
	    rec.drops.tracked == r->drops[ZM_DROP_TRACKED])
		return 0;
	r->drops[ZM_DROP_RINGBUF] = rec.drops.ringbuf;
	r->drops[ZM_DROP_TRACKED] = rec.drops.tracked;
	return put(r, &rec);
}

static void describe(const struct session_opts *o, char *buf, size_t len)
{
	if (o->command)
		snprintf(buf, len, "%s and its descendants", o->command[0]);
	else if (o->pid)
		snprintf(buf, len, "pid %u and its descendants", o->pid);
	else if (o->comm)
		snprintf(buf, len, "processes named %s and their children", o->comm);
	else
		snprintf(buf, len, "all processes");
}

static int on_ready(void *ctx, struct session *s)
{
	struct record *r = ctx;
	struct tracer *t = session_tracer(s);
	struct rec rec = { .type = REC_START };
	struct rec_start *st = &rec.start;
	int ret;

	st->ts_ns = now_boot_ns();
	st->self_pid = (uint32_t)getpid();
	st->flags = (tracer_exact_reaps(t) ? REC_S_EXACT_REAPS : 0) |
		    (r->so->command ? REC_S_COMMAND : 0);
	st->threshold = r->so->rss_threshold;
	st->interval_ns = (uint64_t)(r->so->interval * 1e9);
	st->sample_hz = r->so->sample_hz;
	snprintf(st->rss_path, sizeof(st->rss_path), "%s", tracer_rss_path(t));
	describe(r->so, st->what, sizeof(st->what));
	if (put(r, &rec) || put_sysmem(r))
		return r->err;
	if (mi_scan_proc(s, put_proc, r))
		return r->err ? r->err : -1;
	ret = zi_ready(&r->zi, s);
	return ret ? ret : recorder_flush(r->rec) ? -EIO : 0;
}

static int on_tick(void *ctx, struct session *s)
{
	struct record *r = ctx;

	if (put_sysmem(r) || put_drops(r, s, REC_DROPS))
		return r->err;
	/* Once an interval the records so far become a chunk: a kill -9
	 * loses at most an interval. */
	if (!r->err && recorder_flush(r->rec))
		r->err = -EIO;
	return r->err;
}

static int on_end(void *ctx, struct session *s)
{
	struct record *r = ctx;

	if (zi_reconcile(&r->zi, session_tracer(s))) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return -1;
	}
	if (put_sysmem(r) || put_drops(r, s, REC_END))
		return r->err;
	return 0;
}

int record_session(struct trace_args *a, struct recorder *rec)
{
	struct record *r = calloc(1, sizeof(*r));
	struct zs_sink none = { 0 };
	int ret;

	if (!r || !(r->zi.zs = zs_new(&none, 0))) {
		free(r);
		fprintf(stderr, "zmtrace: out of memory\n");
		return 1;
	}
	r->rec = rec;
	r->so = &a->s;
	r->zi.self = (uint32_t)getpid();
	r->zi.stop = &r->err;
	r->zi.on_seed = put_zombie;
	r->zi.on_forget = put_gone;
	r->zi.ctx = r;
	a->s.ctx = r;
	a->s.on_event = on_event;
	a->s.on_ready = on_ready;
	a->s.on_tick = on_tick;
	a->s.on_end = on_end;
	ret = session_run(&a->s);
	/* A failed write was said; the session's status may not show it. */
	if (r->err && !ret)
		ret = 1;
	zs_free(r->zi.zs);
	free(r);
	return ret;
}

int cmd_record(int argc, char **argv)
{
	static const char usage[] =
		"zmtrace record -o FILE [--duration SEC] [--interval SEC] [--threshold SIZE] "
		"[--sample HZ] [-p PID] [-c COMM] [-v] [-- COMMAND [ARG...]]";
	struct trace_args a = {
		.s = { .what = "events", .lifecycle = true, .zombies = true, .rss = true,
		       .rss_threshold = 1 << 20, .interval = 1 },
		.memory_options = true,
		.capture = true,
	};
	struct recorder *rec;
	int ret = parse_trace_args(argc, argv, usage, &a);

	if (ret)
		return ret == 1 ? 0 : 2;
	if (!a.capture_path) {
		fprintf(stderr, "zmtrace: record wants -o FILE (usage: %s)\n", usage);
		return 2;
	}
	/* argv[-1] is "zmtrace": the header keeps the whole command line. */
	if (recorder_open(&rec, a.capture_path, argc + 1, argv - 1))
		return 1;
	ret = record_session(&a, rec);
	uint64_t records = recorder_records(rec);

	if (recorder_close(rec))
		ret = ret ? ret : 1;
	else if (!ret || a.s.command)
		fprintf(stderr, "zmtrace: recorded %llu records in %s\n",
			(unsigned long long)records, a.capture_path);
	return ret;
}
