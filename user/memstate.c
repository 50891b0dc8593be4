/* Processes' memory: see memstate.h. */
#include "memstate.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "util.h"

struct memstate {
	struct hashmap live;	 /* pid -> struct mp_proc */
	struct mp_proc **exited; /* a ring, in the order they exited */
	size_t max_exited, nexited, head; /* head: the oldest */
	struct mst_counters n;
	struct mp_proc *spare; /* the last evicted, for the next new process */
};

struct memstate *mst_new(size_t max_exited)
{
	struct memstate *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->max_exited = max_exited ? max_exited : 4096;
	m->exited = calloc(m->max_exited, sizeof(*m->exited));
	if (!m->exited || hm_init(&m->live)) {
		free(m->exited);
		free(m);
		return NULL;
	}
	return m;
}

static void free_all(struct hashmap *h)
{
	size_t b;

	for (struct hm_entry *e = hm_first(h, &b); e; e = hm_next(h, e, &b))
		free(e->val);
	hm_destroy(h);
}

void mst_free(struct memstate *m)
{
	if (!m)
		return;
	free_all(&m->live);
	for (size_t i = 0; i < m->nexited; i++)
		free(m->exited[(m->head + i) % m->max_exited]);
	free(m->exited);
	free(m->spare);
	free(m);
}

static struct mp_proc *get_live(struct memstate *m, uint32_t pid, const char *comm,
				uint64_t ts_ns)
{
	struct mp_proc *p = hm_get(&m->live, pid);

	if (p)
		return p;
	p = m->spare ? m->spare : malloc(sizeof(*p));
	m->spare = NULL;
	if (!p || hm_put(&m->live, pid, p)) {
		free(p);
		m->n.nomem++;
		return NULL;
	}
	memset(p, 0, offsetof(struct mp_proc, series));
	p->pid = pid;
	p->first_ns = ts_ns;
	copy_comm(p->comm, comm);
	ms_init(&p->series);
	return p;
}

static void update(struct mp_proc *p, const struct zm_mem_event *e, uint64_t ts_ns)
{
	p->anon_kb = e->anon_kb;
	p->file_kb = e->file_kb;
	p->shmem_kb = e->shmem_kb;
	p->swap_kb = e->swap_kb;
	p->rss_kb = e->anon_kb + e->file_kb + e->shmem_kb;
	p->vsize_kb = e->vsize_kb;
	if (p->rss_kb > p->rss_max_kb)
		p->rss_max_kb = p->rss_kb;
	if (p->vsize_kb > p->vsize_max_kb)
		p->vsize_max_kb = p->vsize_kb;
	if (e->peak_rss_kb > p->rss_max_kb)
		p->rss_max_kb = e->peak_rss_kb;
	if (e->peak_vm_kb > p->vsize_max_kb)
		p->vsize_max_kb = e->peak_vm_kb;
	p->last_ns = ts_ns;
	ms_add(&p->series, ts_ns, p->rss_kb, p->vsize_kb);
}

/* Keep p among the exited; the oldest of them goes when there are too many. */
static void retire(struct memstate *m, struct mp_proc *p)
{
	hm_del(&m->live, p->pid);
	p->exited = true;
	if (m->nexited == m->max_exited) {
		free(m->spare);
		m->spare = m->exited[m->head];
		m->exited[m->head] = p;
		m->head = (m->head + 1) % m->max_exited;
		m->n.exited_evicted++;
		return;
	}
	m->exited[(m->head + m->nexited++) % m->max_exited] = p;
}

int mst_event(struct memstate *m, const struct zm_mem_event *e, const struct mp_proc **out)
{
	struct mp_proc *p = get_live(m, e->pid, e->comm, e->ts_ns);

	if (out)
		*out = p;
	if (!p)
		return -ENOMEM;
	m->n.events++;
	if (e->comm[0] && (e->flags & (ZM_M_EXEC | ZM_M_FIRST | ZM_M_EXIT)))
		copy_comm(p->comm, e->comm); /* exec renames it */
	update(p, e, e->ts_ns);
	if (e->type == ZM_EV_OOM)
		p->oom_killed = true;
	if (e->flags & ZM_M_EXIT)
		retire(m, p);
	return 0;
}

int mst_seed(struct memstate *m, uint32_t pid, const char *comm, uint64_t ts_ns,
	     const struct zm_mem_event *figures)
{
	struct mp_proc *p = get_live(m, pid, comm, ts_ns);

	if (!p)
		return -ENOMEM;
	update(p, figures, ts_ns);
	return 0;
}

const struct mp_proc *mst_get(const struct memstate *m, uint32_t pid)
{
	return hm_get(&m->live, pid);
}

void mst_each(const struct memstate *m, int (*fn)(void *ctx, const struct mp_proc *p),
	      void *ctx)
{
	size_t b;

	for (struct hm_entry *e = hm_first(&m->live, &b); e; e = hm_next(&m->live, e, &b))
		if (fn(ctx, e->val))
			return;
	for (size_t i = 0; i < m->nexited; i++)
		if (fn(ctx, m->exited[(m->head + i) % m->max_exited]))
			return;
}

size_t mst_count(const struct memstate *m)
{
	return m->live.count + m->nexited;
}

const struct mst_counters *mst_counters(const struct memstate *m)
{
	return &m->n;
}

void mst_fix_peaks(const struct mp_proc *p, struct zm_mem_event *e)
{
	if (!p || !(e->flags & ZM_M_EXIT || e->type == ZM_EV_OOM))
		return;
	if (p->rss_max_kb > e->peak_rss_kb)
		e->peak_rss_kb = p->rss_max_kb;
	if (p->vsize_max_kb > e->peak_vm_kb)
		e->peak_vm_kb = p->vsize_max_kb;
}
