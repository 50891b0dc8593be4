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
#include "zstate.h"

struct zombies {
	uint32_t self; /* our pid: the -- COMMAND's reap is ours, not news */
	struct out out;
	struct zstate *zs;
	struct session *session;
	int err;
};

static void sink_zombie(void *ctx, const struct zs_zombie *z)
{
	out_zombie(&((struct zombies *)ctx)->out, z);
}

static void sink_reap(void *ctx, const struct zs_reap *r)
{
	out_reap(&((struct zombies *)ctx)->out, r);
}

static int on_event(void *ctx, const struct zm_hdr *h, size_t size)
{
	struct zombies *z = ctx;
	const struct zm_event *e = (const struct zm_event *)h;

	if ((h->type != ZM_EV_EXIT && h->type != ZM_EV_REAP) || size < sizeof(*e))
		return 0;
	if (e->ppid == z->self)
		return 0;
	if (zs_event(z->zs, e))
		z->err = -ENOMEM;
	return 0;
}

/* A zombie found in /proc: watched by the kernel side from now on. */
static int seed_zombie(void *ctx, const struct ps_proc *p)
{
	struct zombies *z = ctx;
	struct ps_proc parent = { .comm = "?" };

	if (p->state != 'Z')
		return 0;
	if (ps_read(p->ppid, &parent))
		parent.start_ns = 0;
	if (!session_selects(z->session, p->pid, p->comm, parent.comm))
		return 0;
	struct zm_zombie w = {
		.start_ns = p->start_ns,
		.ppid = p->ppid,
		.flags = ZM_F_PREEXISTING,
	};
	copy_comm(w.comm, p->comm);
	int err = tracer_watch(session_tracer(z->session), p->pid, &w);

	if (err) {
		fprintf(stderr, "zmtrace: cannot watch zombie %u: %s\n", p->pid, strerror(-err));
		return err;
	}
	struct zs_zombie found = {
		.pid = p->pid,
		.ppid = p->ppid,
		.start_ns = p->start_ns,
		.pstart_ns = parent.start_ns,
		.exit_ns = now_boot_ns(),
		.status = p->exit_code,
	};
	copy_comm(found.comm, p->comm);
	copy_comm(found.pcomm, parent.comm);
	return zs_preexisting(z->zs, &found);
}

static int on_ready(void *ctx, struct session *s)
{
	struct zombies *z = ctx;

	z->session = s;
	int err = ps_scan(seed_zombie, z);

	if (err) {
		fprintf(stderr, "zmtrace: reading /proc: %s\n", strerror(-err));
		return -1;
	}
	return 0;
}

struct pids {
	uint32_t *v;
	size_t n, cap;
	bool nomem;
};

static void collect_zombie(void *ctx, const struct zs_zombie *z)
{
	struct pids *p = ctx;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		uint32_t *v = realloc(p->v, cap * sizeof(*v));

		if (!v) {
			p->nomem = true;
			return;
		}
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = z->pid;
}

/* Is this zombie gone from /proc (reaped, or its pid reused)? */
static bool gone(const struct zs_zombie *z)
{
	struct ps_proc now;

	return ps_read(z->pid, &now) || now.state != 'Z' ||
	       now.start_ns / USER_HZ_NS != z->start_ns / USER_HZ_NS;
}

/*
 * At the end, an unreaped zombie that is gone from /proc was reaped, and
 * its REAP is on the way: the free catch-all fires one RCU grace period
 * after the release. Wait for those (a bounded wait for events, not a
 * sleep), then forget any whose event was lost, so they do not count as
 * unreaped.
 */
#define REAP_GRACE_NS (500 * NSEC_PER_MSEC)

static int reconcile(struct zombies *z, struct tracer *t)
{
	uint64_t deadline = now_boot_ns() + REAP_GRACE_NS;
	struct pids p = { 0 };
	size_t pending;

	do {
		p.n = 0;
		zs_each_zombie(z->zs, collect_zombie, &p);
		pending = 0;
		for (size_t i = 0; i < p.n; i++) {
			const struct zs_zombie *zz = zs_zombie(z->zs, p.v[i]);

			pending += zz && gone(zz);
		}
		if (pending && now_boot_ns() < deadline && tracer_wait(t, 10) < 0)
			break;
	} while (pending && now_boot_ns() < deadline);
	for (size_t i = 0; pending && i < p.n; i++) {
		const struct zs_zombie *zz = zs_zombie(z->zs, p.v[i]);

		if (zz && gone(zz))
			zs_forget(z->zs, p.v[i]);
	}
	free(p.v);
	return p.nomem ? -ENOMEM : 0;
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

	if (reconcile(z, t) || z->err || out_summary(&z->out, z->zs, &tot)) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return -1;
	}
	return 0;
}

int cmd_zombies(int argc, char **argv)
{
	static const char usage[] =
		"zmtrace zombies [--json] [--duration SEC] [-p PID] [-c COMM] [-v] "
		"[-- COMMAND [ARG...]]";
	struct trace_args a = { .s = { .what = "zombies", .zombies = true } };
	int ret = parse_trace_args(argc, argv, usage, &a);

	if (ret)
		return ret == 1 ? 0 : 2;
	struct zombies z = { .self = (uint32_t)getpid(), .out = { .f = stdout, .json = a.json } };
	struct zs_sink sink = { .ctx = &z, .zombie = sink_zombie, .reap = sink_reap };

	z.zs = zs_new(&sink, 0);
	if (!z.zs) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	a.s.ctx = &z;
	a.s.on_event = on_event;
	a.s.on_ready = on_ready;
	a.s.on_end = on_end;
	ret = session_run(&a.s);
	zs_free(z.zs);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "zmtrace: writing output: %s\n", strerror(errno));
		return ret ? ret : 1;
	}
	return ret;
}
