/* Zombie intake: see zintake.h. */
#include "zintake.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "procscan.h"
#include "util.h"

void zi_event(struct zintake *zi, const struct zm_hdr *h, size_t size)
{
	const struct zm_event *e = (const struct zm_event *)h;

	if ((h->type != ZM_EV_EXIT && h->type != ZM_EV_REAP) || size < sizeof(*e))
		return;
	if (e->ppid == zi->self)
		return;
	if (zi->exited && h->type == ZM_EV_EXIT && hm_put(zi->exited, e->pid, (void *)1))
		zi->err = -ENOMEM;
	if (zs_event(zi->zs, e))
		zi->err = -ENOMEM;
}

/* A list of pids: zombies found in /proc, or left at the end. */
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
static int seed_zombie(struct zintake *zi, struct session *s, uint32_t pid)
{
	struct ps_proc p, parent = { .comm = "?" };

	/* Gone or reaped since the scan: nothing to seed. */
	if (ps_read(pid, &p) || p.state != 'Z')
		return 0;
	if (ps_read(p.ppid, &parent))
		parent.start_ns = 0;
	if (!session_selects(s, p.pid, p.comm, parent.comm))
		return 0;
	struct zm_zombie w = {
		.start_ns = p.start_ns,
		.ppid = p.ppid,
		.flags = ZM_F_PREEXISTING,
	};
	copy_comm(w.comm, p.comm);
	int err = tracer_watch(session_tracer(s), p.pid, &w);

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
		.preexisting = true,
	};
	copy_comm(found.comm, p.comm);
	copy_comm(found.pcomm, parent.comm);
	if (zs_preexisting(zi->zs, &found)) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return -1;
	}
	return zi->on_seed ? zi->on_seed(zi->ctx, &found) : 0;
}

static int stopped(const struct zintake *zi)
{
	return zi->stop ? *zi->stop : 0;
}

int zi_ready(struct zintake *zi, struct session *s)
{
	struct tracer *t = session_tracer(s);
	struct hashmap exited;
	struct pids found = { 0 };
	int ret = 0, err;

	if (hm_init(&exited)) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return -1;
	}
	zi->exited = &exited;
	err = tracer_consume(t);
	if (err >= 0 && !stopped(zi)) {
		err = ps_scan(find_zombie, &found);
		if (err) {
			fprintf(stderr, "zmtrace: reading /proc: %s\n", strerror(-err));
			ret = -1;
		} else {
			err = tracer_consume(t);
		}
	}
	if (!ret && stopped(zi)) {
		ret = stopped(zi);
	} else if (!ret && err < 0) {
		fprintf(stderr, "zmtrace: reading events: %s\n", strerror(-err));
		ret = -1;
	}
	for (size_t i = 0; !ret && i < found.n; i++) {
		uint32_t pid = found.v[i];

		if (zs_zombie(zi->zs, pid) || hm_get(&exited, pid))
			continue;
		ret = seed_zombie(zi, s, pid);
		if (!ret)
			ret = stopped(zi);
	}
	zi->exited = NULL;
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

#define REAP_GRACE_NS (500 * NSEC_PER_MSEC)

int zi_reconcile(struct zintake *zi, struct tracer *t)
{
	uint64_t deadline = now_boot_ns() + REAP_GRACE_NS;
	struct pids p = { 0 };
	size_t pending;

	do {
		p.n = 0;
		zs_each_zombie(zi->zs, collect_zombie, &p);
		pending = 0;
		for (size_t i = 0; i < p.n; i++) {
			const struct zs_zombie *zz = zs_zombie(zi->zs, p.v[i]);

			pending += zz && gone(zz);
		}
		if (pending && now_boot_ns() < deadline && tracer_wait(t, 10) < 0)
			break;
	} while (pending && now_boot_ns() < deadline);
	for (size_t i = 0; pending && i < p.n; i++) {
		const struct zs_zombie *zz = zs_zombie(zi->zs, p.v[i]);

		if (zz && gone(zz)) {
			if (zi->on_forget)
				zi->on_forget(zi->ctx, zz);
			zs_forget(zi->zs, p.v[i]);
		}
	}
	free(p.v);
	return p.nomem ? -ENOMEM : 0;
}
