/* Memory intake: see memintake.h. */
#include "memintake.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "procscan.h"
#include "util.h"

struct scan {
	struct session *s;
	int (*fn)(void *ctx, const struct ps_proc *p, const struct zm_mem_event *figures);
	void *ctx;
};

static int scan_one(void *ctx, const struct ps_proc *p)
{
	struct scan *sc = ctx;
	struct ps_proc parent = { .comm = "?" };
	struct zm_mem_event figures = { 0 };

	if (p->state == 'Z' || ps_read_mem(p->pid, &figures))
		return 0; /* a zombie or kernel thread has no memory */
	if (ps_read(p->ppid, &parent))
		parent.comm[0] = 0;
	if (!session_selects(sc->s, p->pid, p->comm, parent.comm))
		return 0;
	return sc->fn(sc->ctx, p, &figures);
}

int mi_scan_proc(struct session *s,
		 int (*fn)(void *ctx, const struct ps_proc *p, const struct zm_mem_event *figures),
		 void *ctx)
{
	struct scan sc = { .s = s, .fn = fn, .ctx = ctx };
	int err = ps_scan(scan_one, &sc);

	if (err == -ECANCELED)
		return -1;
	if (err) {
		fprintf(stderr, "zmtrace: reading /proc: %s\n",
			err == -ENOMEM ? "out of memory" : strerror(-err));
		return -1;
	}
	return 0;
}

static int seed(void *ctx, const struct ps_proc *p, const struct zm_mem_event *figures)
{
	return mst_seed(ctx, p->pid, p->comm, now_boot_ns(), figures);
}

int mi_seed_from_proc(struct memstate *m, struct session *s)
{
	return mi_scan_proc(s, seed, m);
}

bool mi_sample_system(struct sysmem_hist *h, bool *ok, struct sysmem *s)
{
	int err = sysmem_read(s, now_boot_ns());

	if (err) {
		if (*ok)
			fprintf(stderr, "zmtrace: reading /proc/meminfo: %s\n", strerror(-err));
		*ok = false;
		return false; /* the per-process figures go on */
	}
	*ok = true;
	sysmem_hist_add(h, s);
	return true;
}
