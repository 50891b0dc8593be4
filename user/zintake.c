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

struct pids {
	uint32_t *v;
	size_t n, cap;
};

static int find_zombie(void *ctx, const struct ps_proc *p)
{
	struct pids *z = ctx;

	if (p->state != 'Z')
		return 0;
	if (z->n == z->cap) {
		size_t cap = z->cap ? z->cap * 2 : 64;
		uint32_t *v = realloc(z->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		z->v = v;
		z->cap = cap;
	}
	z->v[z->n++] = p->pid;
	return 0;
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
	};
	copy_comm(found.comm, p.comm);
	copy_comm(found.pcomm, parent.comm);
	if (zs_preexisting(zi->zs, &found)) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return -1;
	}
	return 0;
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
