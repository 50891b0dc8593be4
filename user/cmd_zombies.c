/* zmtrace zombies: every zombie, who leaked it, how long it stayed, and who
 * reaped it; at the end, the parents ranked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "hashmap.h"
#include "output.h"
#include "procscan.h"
#include "util.h"
#include "zstate.h"

struct zombies {
	uint32_t self; /* our pid: the -- COMMAND's reap is ours, not news */
	struct out out;
	struct zstate *zs;
	struct session *session;
	int err;  /* -ENOMEM: reported at the end */
	int werr; /* writing the records failed: the session's stop value */
	/* Until the /proc scan is done: pids whose exit the kernel side
	 * reported (those zombies are not pre-existing). */
	struct hashmap *exited;
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
	const struct zm_event *e = (const struct zm_event *)h;

	if ((h->type != ZM_EV_EXIT && h->type != ZM_EV_REAP) || size < sizeof(*e))
		return 0;
	if (e->ppid == z->self)
		return 0;
	if (z->exited && h->type == ZM_EV_EXIT && hm_put(z->exited, e->pid, (void *)1))
		z->err = -ENOMEM;
	if (zs_event(z->zs, e))
		z->err = -ENOMEM;
	return z->werr;
}

/* A list of pids: the zombies /proc shows at start, those left at the end. */
struct pids {
	uint32_t *v;
	size_t n, cap;
	bool nomem;
};

static int push_pid(struct pids *p, uint32_t pid)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		uint32_t *v = realloc(p->v, cap * sizeof(*v));

		if (!v) {
			p->nomem = true;
			return -ENOMEM;
		}
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = pid;
	return 0;
}

static int find_zombie(void *ctx, const struct ps_proc *p)
{
	return p->state == 'Z' ? push_pid(ctx, p->pid) : 0;
}

/* A zombie found in /proc: watched by the kernel side from now on. */
static int seed_zombie(struct zombies *z, uint32_t pid)
{
	struct ps_proc p, parent = { .comm = "?" };

	/* Gone or reaped since the scan: nothing to seed. */
	if (ps_read(pid, &p) || p.state != 'Z')
		return 0;
	if (ps_read(p.ppid, &parent))
		parent.start_ns = 0;
	if (!session_selects(z->session, p.pid, p.comm, parent.comm))
		return 0;
	struct zm_zombie w = {
		.start_ns = p.start_ns,
		.ppid = p.ppid,
		.flags = ZM_F_PREEXISTING,
	};
	copy_comm(w.comm, p.comm);
	int err = tracer_watch(session_tracer(z->session), p.pid, &w);

	if (err) {
		fprintf(stderr, "zmtrace: cannot watch zombie %u: %s\n", p.pid, strerror(-err));
		return -1;
	}
	struct zs_zombie found = {
		.pid = p.pid,
		.ppid = p.ppid,
		.start_ns = p.start_ns,
		.pstart_ns = parent.start_ns,
		.exit_ns = now_boot_ns(),
		.status = p.exit_code,
	};
	copy_comm(found.comm, p.comm);
	copy_comm(found.pcomm, parent.comm);
	if (zs_preexisting(z->zs, &found)) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return -1;
	}
	return 0;
}

/*
 * The zombies that exist already. The kernel side is attached: a process
 * that exited since then has its EXIT event in the ring buffer, though /proc
 * shows it as a zombie too. So: read the buffer, list /proc's zombies, read
 * the buffer again (an exit seen in /proc has sent its event before), and
 * seed only the zombies whose exit was not reported.
 */
static int on_ready(void *ctx, struct session *s)
{
	struct zombies *z = ctx;
	struct tracer *t = session_tracer(s);
	struct hashmap exited;
	struct pids found = { 0 };
	int ret = 0, err;

	z->session = s;
	if (hm_init(&exited)) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return -1;
	}
	z->exited = &exited;
	err = tracer_consume(t);
	if (err >= 0 && !z->werr) {
		err = ps_scan(find_zombie, &found);
		if (err) {
			fprintf(stderr, "zmtrace: reading /proc: %s\n", strerror(-err));
			ret = -1;
		} else {
			err = tracer_consume(t);
		}
	}
	if (!ret && z->werr) {
		ret = z->werr;
	} else if (!ret && err < 0) {
		fprintf(stderr, "zmtrace: reading events: %s\n", strerror(-err));
		ret = -1;
	}
	for (size_t i = 0; !ret && i < found.n; i++) {
		uint32_t pid = found.v[i];

		if (zs_zombie(z->zs, pid) || hm_get(&exited, pid))
			continue;
		ret = seed_zombie(z, pid);
		if (!ret)
			ret = z->werr;
	}
	z->exited = NULL;
	hm_destroy(&exited);
	free(found.v);
	return ret;
}

static void collect_zombie(void *ctx, const struct zs_zombie *z)
{
	push_pid(ctx, z->pid);
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

	/* The age of the zombies left is taken when tracing stopped. */
	tot.end_ns = now_boot_ns();
	if (reconcile(z, t) || z->err || (!z->werr && out_summary(&z->out, z->zs, &tot))) {
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
	struct zombies z = { .self = (uint32_t)getpid(), .out = { .f = a.out, .json = a.json } };
	struct zs_sink sink = { .ctx = &z, .zombie = sink_zombie, .reap = sink_reap };

	z.zs = zs_new(&sink, 0);
	if (!z.zs) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return trace_output_close(&a, 1);
	}
	a.s.ctx = &z;
	a.s.on_event = on_event;
	a.s.on_ready = on_ready;
	a.s.on_end = on_end;
	ret = session_run(&a.s);
	zs_free(z.zs);
	return trace_output_close(&a, ret);
}
