/* The zombie state machine: see zstate.h. */
#include "zstate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "hashmap.h"
#include "util.h"

#define RECENT 64 /* reaps remembered, to drop an EXIT that arrives late */

struct parent {
	uint64_t key; /* zs_parent_key() */
	uint32_t pid;
	char comm[ZM_COMM_LEN];
	uint64_t zombies, unreaped, last_ns;
	struct dist dist;
};

struct recent {
	uint32_t pid;
	uint64_t start_ns;
};

struct zstate {
	struct zs_sink sink;
	size_t max_parents;
	struct hashmap zombies; /* pid -> struct zs_zombie */
	struct hashmap parents; /* zs_parent_key() -> struct parent */
	struct recent recent[RECENT];
	unsigned recent_next;
	struct zs_counters n;
};

/* One process, though one start time may be known only to a /proc tick? */
static bool same_start(uint64_t a, uint64_t b, bool approx)
{
	return approx ? a / USER_HZ_NS == b / USER_HZ_NS : a == b;
}

struct zstate *zs_new(const struct zs_sink *sink, size_t max_parents)
{
	struct zstate *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->sink = *sink;
	s->max_parents = max_parents ? max_parents : 16384;
	if (hm_init(&s->zombies) || hm_init(&s->parents)) {
		hm_destroy(&s->zombies);
		free(s);
		return NULL;
	}
	return s;
}

static void free_values(struct hashmap *m, bool parents)
{
	size_t b;

	for (struct hm_entry *e = hm_first(m, &b); e; e = hm_next(m, e, &b)) {
		if (parents)
			dist_free(&((struct parent *)e->val)->dist);
		free(e->val);
	}
	hm_destroy(m);
}

void zs_free(struct zstate *s)
{
	if (!s)
		return;
	free_values(&s->zombies, false);
	free_values(&s->parents, true);
	free(s);
}

static int cmp_evict(const void *a, const void *b)
{
	const struct parent *x = *(struct parent *const *)a, *y = *(struct parent *const *)b;

	if (x->zombies != y->zombies)
		return x->zombies < y->zombies ? -1 : 1;
	return x->last_ns < y->last_ns ? -1 : x->last_ns > y->last_ns;
}

/* Over the bound: drop an eighth of the parents that owe nothing, the least
 * significant first (fewest zombies, then longest quiet). */
static void evict_parents(struct zstate *s)
{
	struct parent **cand = malloc(s->parents.count * sizeof(*cand));
	size_t n = 0, b;

	if (!cand) {
		s->n.nomem++;
		return;
	}
	for (struct hm_entry *e = hm_first(&s->parents, &b); e; e = hm_next(&s->parents, e, &b)) {
		struct parent *p = e->val;

		if (!p->unreaped)
			cand[n++] = p;
	}
	qsort(cand, n, sizeof(*cand), cmp_evict);
	size_t want = s->parents.count / 8 ? s->parents.count / 8 : 1;

	for (size_t i = 0; i < n && i < want; i++) {
		hm_del(&s->parents, cand[i]->key);
		dist_free(&cand[i]->dist);
		free(cand[i]);
		s->n.parents_evicted++;
	}
	free(cand);
}

static struct parent *get_parent(struct zstate *s, uint32_t pid, uint64_t pstart_ns,
				 const char *comm)
{
	uint64_t key = zs_parent_key(pid, pstart_ns);
	struct parent *p = hm_get(&s->parents, key);

	if (p) {
		if (comm && comm[0])
			copy_comm(p->comm, comm); /* it may have exec'd since */
		return p;
	}
	if (s->parents.count >= s->max_parents)
		evict_parents(s);
	p = calloc(1, sizeof(*p));
	if (!p || hm_put(&s->parents, key, p)) {
		free(p);
		s->n.nomem++;
		return NULL;
	}
	p->key = key;
	p->pid = pid;
	copy_comm(p->comm, comm ? comm : "?");
	return p;
}

static bool recently_reaped(const struct zstate *s, uint32_t pid, uint64_t start_ns)
{
	for (unsigned i = 0; i < RECENT; i++)
		if (s->recent[i].pid == pid && s->recent[i].start_ns == start_ns)
			return true;
	return false;
}

static void remember_reap(struct zstate *s, uint32_t pid, uint64_t start_ns)
{
	s->recent[s->recent_next].pid = pid;
	s->recent[s->recent_next].start_ns = start_ns;
	s->recent_next = (s->recent_next + 1) % RECENT;
}

/* A zombie that stops being one without a reap we saw. */
static void drop_zombie(struct zstate *s, struct zs_zombie *z)
{
	struct parent *p = hm_get(&s->parents, zs_parent_key(z->ppid, z->pstart_ns));

	if (p && p->unreaped)
		p->unreaped--;
	if (s->sink.drop)
		s->sink.drop(s->sink.ctx, z);
	hm_del(&s->zombies, z->pid);
	free(z);
}

static int add_zombie(struct zstate *s, const struct zs_zombie *src)
{
	struct zs_zombie *old = hm_get(&s->zombies, src->pid);

	if (old) {
		if (same_start(old->start_ns, src->start_ns, old->preexisting || src->preexisting)) {
			/* Found in /proc just as its EXIT arrived: the event
			 * has the exact times. */
			if (old->preexisting && !src->preexisting) {
				old->preexisting = false;
				old->start_ns = src->start_ns;
				old->exit_ns = src->exit_ns;
			}
			s->n.duplicate_exits++;
			return 0;
		}
		s->n.stale_zombies++;
		drop_zombie(s, old);
	}
	struct zs_zombie *z = malloc(sizeof(*z));

	if (!z || hm_put(&s->zombies, z->pid = src->pid, z)) {
		free(z);
		s->n.nomem++;
		return -ENOMEM;
	}
	*z = *src;
	struct parent *p = get_parent(s, z->ppid, z->pstart_ns, z->pcomm);

	if (p) {
		p->zombies++;
		p->unreaped++;
		p->last_ns = z->exit_ns;
	}
	s->n.zombies++;
	if (s->sink.zombie)
		s->sink.zombie(s->sink.ctx, z);
	return 0;
}

static int on_exit_event(struct zstate *s, const struct zm_event *e)
{
	if (e->flags & ZM_F_AUTOREAP) {
		s->n.autoreaped++;
		return 0;
	}
	if (recently_reaped(s, e->pid, e->start_ns)) {
		s->n.duplicate_exits++; /* its reap came first: already counted */
		return 0;
	}
	struct zs_zombie z = {
		.pid = e->pid,
		.ppid = e->ppid,
		.start_ns = e->start_ns,
		.pstart_ns = e->aux_ns,
		.exit_ns = e->ts_ns,
		.status = e->code,
	};
	copy_comm(z.comm, e->comm);
	copy_comm(z.pcomm, e->pcomm);
	return add_zombie(s, &z);
}

static int on_reap_event(struct zstate *s, const struct zm_event *e)
{
	struct zs_zombie *z = hm_get(&s->zombies, e->pid);
	struct zs_zombie lost;
	bool unseen = false;

	if (!z || !same_start(z->start_ns, e->start_ns, z->preexisting)) {
		/* Its EXIT was lost: the REAP carries enough to account it. */
		if (z) {
			s->n.stale_zombies++;
			drop_zombie(s, z);
		}
		memset(&lost, 0, sizeof(lost));
		lost.pid = e->pid;
		lost.ppid = e->ppid;
		lost.start_ns = e->start_ns;
		lost.exit_ns = e->aux_ns ? e->aux_ns : e->ts_ns;
		lost.preexisting = e->flags & ZM_F_PREEXISTING;
		copy_comm(lost.comm, e->comm);
		/* The parent's name is known if it is the reaper. */
		copy_comm(lost.pcomm, e->other_pid == e->ppid ? e->pcomm : "?");
		z = &lost;
		unseen = true;
		s->n.reaps_without_exit++;
	}
	struct zs_reap r = {
		.z = z,
		.ts_ns = e->ts_ns,
		.zombie_ns = e->ts_ns > z->exit_ns ? e->ts_ns - z->exit_ns : 0,
		.reaper_pid = e->other_pid,
		.via = (enum zm_reap_via)e->code,
		.reparented = e->other_pid != z->ppid,
		.exit_unseen = unseen,
	};
	copy_comm(r.reaper_comm, e->pcomm);

	/* A lost EXIT's parent start time is unknown: charge by pid alone. */
	struct parent *p = unseen ? NULL : hm_get(&s->parents, zs_parent_key(z->ppid, z->pstart_ns));

	if (unseen) {
		s->n.zombies++;
		p = get_parent(s, z->ppid, z->pstart_ns, z->pcomm);
		if (p) {
			p->zombies++;
			p->unreaped++;
		}
	}
	if (p) {
		if (p->unreaped)
			p->unreaped--;
		p->last_ns = e->ts_ns;
		if (dist_add(&p->dist, r.zombie_ns))
			s->n.nomem++;
	}
	s->n.reaps++;
	remember_reap(s, z->pid, z->start_ns);
	if (s->sink.reap)
		s->sink.reap(s->sink.ctx, &r);
	if (!unseen) {
		hm_del(&s->zombies, z->pid);
		free(z);
	}
	return 0;
}

int zs_event(struct zstate *s, const struct zm_event *e)
{
	switch (e->type) {
	case ZM_EV_EXIT:
		return on_exit_event(s, e);
	case ZM_EV_REAP:
		return on_reap_event(s, e);
	default:
		return 0;
	}
}

int zs_preexisting(struct zstate *s, const struct zs_zombie *src)
{
	struct zs_zombie z = *src;

	z.preexisting = true;
	return add_zombie(s, &z);
}

const struct zs_zombie *zs_zombie(const struct zstate *s, uint32_t pid)
{
	return hm_get(&s->zombies, pid);
}

void zs_forget(struct zstate *s, uint32_t pid)
{
	struct zs_zombie *z = hm_get(&s->zombies, pid);

	if (z)
		drop_zombie(s, z);
}

void zs_each_zombie(const struct zstate *s, void (*fn)(void *, const struct zs_zombie *),
		    void *ctx)
{
	size_t b;

	for (struct hm_entry *e = hm_first(&s->zombies, &b); e; e = hm_next(&s->zombies, e, &b))
		fn(ctx, e->val);
}

static int cmp_rank(const void *a, const void *b)
{
	const struct zs_parent_stat *x = a, *y = b;

	if (x->unreaped != y->unreaped)
		return x->unreaped > y->unreaped ? -1 : 1;
	if (x->zombies != y->zombies)
		return x->zombies > y->zombies ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

long zs_parents(const struct zstate *s, struct zs_parent_stat **out)
{
	struct zs_parent_stat *v = calloc(s->parents.count ? s->parents.count : 1, sizeof(*v));
	size_t n = 0, b;

	if (!v)
		return -ENOMEM;
	for (struct hm_entry *e = hm_first(&s->parents, &b); e; e = hm_next(&s->parents, e, &b)) {
		const struct parent *p = e->val;
		struct zs_parent_stat *o = &v[n++];

		o->pid = p->pid;
		memcpy(o->comm, p->comm, sizeof(o->comm));
		o->zombies = p->zombies;
		o->unreaped = p->unreaped;
		o->zombie_ns_max = p->dist.max;
		o->zombie_ns_p50 = dist_quantile(&p->dist, 0.50);
		o->zombie_ns_p99 = dist_quantile(&p->dist, 0.99);
	}
	qsort(v, n, sizeof(*v), cmp_rank);
	*out = v;
	return (long)n;
}

const struct zs_counters *zs_counters(const struct zstate *s)
{
	return &s->n;
}
