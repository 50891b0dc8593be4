/* A capture replayed: see model.h. */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Samples kept for the graphs: past this, every other one goes (a day at
 * 1 s fits at 1 in 16). */
#define MODEL_SYS_MAX 8192
/* A watched parent's series: past this, every other point goes. */
#define MODEL_SERIES_MAX 8192

static void nomem(struct model *m)
{
	m->err = -ENOMEM;
}

/* The table is full: forget the parents that tell nothing (none unreaped,
 * never more than one at once, no zombie past long_ns, no series kept): a
 * shell or make that reaps each child as it ends. */
static void evict_parents(struct model *m)
{
	struct model_parent **quiet = malloc(m->parents.count * sizeof(*quiet));
	size_t n = 0, b;

	if (!quiet)
		return; /* then the new parent is dropped, and counted */
	for (struct hm_entry *e = hm_first(&m->parents, &b); e; e = hm_next(&m->parents, e, &b)) {
		struct model_parent *p = e->val;

		if (!p->unreaped && p->peak <= 1 && !p->long_zombies && !p->watched)
			quiet[n++] = p;
	}
	for (size_t i = 0; i < n; i++) {
		hm_del(&m->parents, zs_parent_key(quiet[i]->pid, quiet[i]->start_ns));
		free(quiet[i]);
	}
	free(quiet);
}

static struct model_parent *parent_of(struct model *m, uint32_t pid, uint64_t start_ns,
				      const char *comm, bool create)
{
	uint64_t key = zs_parent_key(pid, start_ns);
	struct model_parent *p = hm_get(&m->parents, key);

	if (p || !create)
		return p;
	if (m->parents.count >= MODEL_MAX_PARENTS)
		evict_parents(m);
	if (m->parents.count >= MODEL_MAX_PARENTS) {
		m->parents_dropped++;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p || hm_put(&m->parents, key, p)) {
		free(p);
		nomem(m);
		return NULL;
	}
	p->pid = pid;
	p->start_ns = start_ns;
	copy_comm(p->comm, comm ? comm : "?");
	return p;
}

int model_series_add(struct model_series *s, uint64_t ts, double y)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *t = realloc(s->ts, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		s->ts = t;
		double *v = realloc(s->y, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->y = v;
		s->cap = cap;
	}
	s->ts[s->n] = ts;
	s->y[s->n++] = y;
	return 0;
}

void model_series_free(struct model_series *s)
{
	free(s->ts);
	free(s->y);
	memset(s, 0, sizeof(*s));
}

/* A point of a watched parent's unreaped count. */
static void series_add(struct model *m, struct model_parent *p, uint64_t ts)
{
	struct model_series *s = &p->series;

	if (!p->watched)
		return;
	/* Full: halve, keeping each pair's higher count, at its time. */
	if (s->n == MODEL_SERIES_MAX) {
		size_t k = 0;

		for (size_t i = 0; i + 1 < s->n; i += 2, k++) {
			size_t j = s->y[i] >= s->y[i + 1] ? i : i + 1;

			s->ts[k] = s->ts[j];
			s->y[k] = s->y[j];
		}
		s->n = k;
	}
	if (model_series_add(s, ts, p->unreaped))
		nomem(m);
}

static void worst(const struct model *m, struct model_parent *p, uint64_t ns,
		  const struct zs_zombie *z)
{
	if (m->long_ns && ns > m->long_ns)
		p->long_zombies++;
	if (ns < p->worst_ns || (ns == p->worst_ns && p->worst_pid))
		return;
	p->worst_ns = ns;
	p->worst_pid = z->pid;
	copy_comm(p->worst_comm, z->comm);
}

static void on_zombie(void *ctx, const struct zs_zombie *z)
{
	struct model *m = ctx;
	struct model_parent *p = parent_of(m, z->ppid, z->pstart_ns, z->pcomm, true);

	if (p) {
		p->zombies++;
		if (++p->unreaped > p->peak) {
			p->peak = p->unreaped;
			p->peak_ns = z->exit_ns;
		}
		series_add(m, p, z->exit_ns);
	}
	if (m->obs && m->obs->zombie)
		m->obs->zombie(m->obs->ctx, z);
}

static unsigned life_bucket(uint64_t ns)
{
	unsigned b = 0;

	for (uint64_t lim = NSEC_PER_MSEC; b < MODEL_LIFE_BUCKETS - 1 && ns >= lim; lim *= 10)
		b++;
	return b;
}

/* A zombie no longer unreaped: reaped, or forgotten (lost reap). */
static void unreaped_less(struct model *m, const struct zs_zombie *z, uint64_t ts)
{
	struct model_parent *p = parent_of(m, z->ppid, z->pstart_ns, NULL, false);

	if (p && p->unreaped) {
		p->unreaped--;
		series_add(m, p, ts);
	}
}

static void on_reap(void *ctx, const struct zs_reap *r)
{
	struct model *m = ctx;
	struct model_parent *p;

	if (r->exit_unseen) {
		/* Its EXIT was lost: the zombie was never counted, but the
		 * reap says how long it lived. */
		p = parent_of(m, r->z->ppid, r->z->pstart_ns, r->z->pcomm, true);
		if (p)
			p->zombies++;
	} else {
		p = parent_of(m, r->z->ppid, r->z->pstart_ns, NULL, false);
		unreaped_less(m, r->z, r->ts_ns);
	}
	if (p)
		worst(m, p, r->zombie_ns, r->z);
	/* A pre-existing zombie's time is a lower bound: not in the
	 * distribution. */
	if (!r->z->preexisting) {
		if (dist_add(&m->life, r->zombie_ns))
			nomem(m);
		m->life_bucket[life_bucket(r->zombie_ns)]++;
	}
	if (m->obs && m->obs->reap)
		m->obs->reap(m->obs->ctx, r);
}

/* A zombie gone without a reap seen (zstate found its pid exit again, or
 * the recorder saw it gone at the end): it counts as a zombie until now. */
static void on_drop(void *ctx, const struct zs_zombie *z)
{
	struct model *m = ctx;
	struct model_parent *p = parent_of(m, z->ppid, z->pstart_ns, NULL, false);

	if (p)
		worst(m, p, m->last_ns > z->exit_ns ? m->last_ns - z->exit_ns : 0, z);
	unreaped_less(m, z, m->last_ns);
	if (m->obs && m->obs->drop)
		m->obs->drop(m->obs->ctx, z, m->last_ns);
}

int model_init(struct model *m, const struct model_observer *obs)
{
	struct zs_sink sink = { .ctx = m, .zombie = on_zombie, .reap = on_reap, .drop = on_drop };

	memset(m, 0, sizeof(*m));
	m->obs = obs;
	sysmem_hist_init(&m->sys);
	if (hm_init(&m->parents) || !(m->zs = zs_new(&sink, 0)) || !(m->mem = mst_new(0))) {
		fprintf(stderr, "zmtrace: out of memory\n");
		model_free(m);
		return -1;
	}
	return 0;
}

void model_free(struct model *m)
{
	size_t b;

	for (struct hm_entry *e = hm_first(&m->parents, &b); e; e = hm_next(&m->parents, e, &b)) {
		struct model_parent *p = e->val;

		model_series_free(&p->series);
		free(p);
	}
	hm_destroy(&m->parents);
	zs_free(m->zs);
	mst_free(m->mem);
	dist_free(&m->life);
	free(m->sys_all);
	free(m->suspects);
	m->suspects = NULL;
	m->zs = NULL;
	m->mem = NULL;
	m->sys_all = NULL;
}

int model_watch_parent(struct model *m, uint32_t pid, uint64_t start_ns)
{
	struct model_parent *p = parent_of(m, pid, start_ns, NULL, true);

	if (!p)
		return -ENOMEM;
	p->watched = true;
	return 0;
}

const struct model_parent *model_parent(const struct model *m, uint32_t pid, uint64_t start_ns)
{
	return hm_get(&m->parents, zs_parent_key(pid, start_ns));
}

static int by_peak(const void *a, const void *b)
{
	const struct model_parent *x = *(const struct model_parent *const *)a;
	const struct model_parent *y = *(const struct model_parent *const *)b;

	if (x->peak != y->peak)
		return x->peak > y->peak ? -1 : 1;
	if (x->zombies != y->zombies)
		return x->zombies > y->zombies ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

long model_parents(const struct model *m, const struct model_parent ***out)
{
	const struct model_parent **v = malloc((m->parents.count + 1) * sizeof(*v));
	size_t n = 0, b;

	if (!v)
		return -ENOMEM;
	for (struct hm_entry *e = hm_first(&m->parents, &b); e; e = hm_next(&m->parents, e, &b)) {
		const struct model_parent *p = e->val;

		/* Watched before reading, but made no zombie. */
		if (p->zombies)
			v[n++] = p;
	}
	qsort(v, n, sizeof(*v), by_peak);
	*out = v;
	return (long)n;
}

uint64_t model_end_ns(const struct model *m)
{
	return m->has_end ? m->drops.ts_ns : m->last_ns;
}

static void add_sys(struct model *m, const struct sysmem *s)
{
	sysmem_hist_add(&m->sys, s);
	if (s->total_kb)
		m->mem_total_kb = s->total_kb;
	if (m->nsys == m->capsys) {
		if (m->capsys >= MODEL_SYS_MAX) {
			for (size_t i = 0; 2 * i < m->nsys; i++)
				m->sys_all[i] = m->sys_all[2 * i];
			m->nsys = (m->nsys + 1) / 2;
		} else {
			size_t cap = m->capsys ? m->capsys * 2 : 256;
			struct sysmem *v = realloc(m->sys_all, cap * sizeof(*v));

			if (!v)
				return nomem(m);
			m->sys_all = v;
			m->capsys = cap;
		}
	}
	m->sys_all[m->nsys++] = *s;
}

/* A process that exited: a leak suspect is kept, whatever memstate
 * forgets later. Only a life long enough to be judged is judged (the rest
 * would cost a fit each, for nothing). */
static void keep_suspect(struct model *m, const struct mp_proc *p)
{
	struct ms_verdict v;

	if (p->last_ns - p->first_ns < ms_rss_rules.min_span_ns)
		return;
	ms_verdict(&p->series, p->last_ns, 0, &v);
	if (!v.suspect)
		return;
	if (m->nsuspects == MODEL_MAX_SUSPECTS) {
		m->suspects_dropped++;
		return;
	}
	if (m->nsuspects == m->capsuspects) {
		size_t cap = m->capsuspects ? m->capsuspects * 2 : 16;
		struct model_suspect *s = realloc(m->suspects, cap * sizeof(*s));

		if (!s)
			return nomem(m);
		m->suspects = s;
		m->capsuspects = cap;
	}
	struct model_suspect *s = &m->suspects[m->nsuspects++];

	s->pid = p->pid;
	copy_comm(s->comm, p->comm);
	s->rss_kb = p->rss_kb;
	s->v = v;
}

/* Is this lifecycle event the recorder's own business (the -- COMMAND's
 * reap by zmtrace)? The live commands leave those out too. */
static bool own(const struct model *m, const struct zm_event *e)
{
	return m->has_start && e->ppid == m->start.self_pid;
}

static void apply(struct model *m, const struct rec *r)
{
	uint64_t ts = rec_ts(r);

	m->records++;
	m->by_type[r->type < 32 ? r->type : 0]++;
	if (ts && r->type != REC_START) {
		if (!m->first_ns || ts < m->first_ns)
			m->first_ns = ts;
		if (ts > m->last_ns)
			m->last_ns = ts;
	}
	switch (r->type) {
	case ZM_EV_EXIT:
	case ZM_EV_REAP:
		if (!own(m, &r->ev) && zs_event(m->zs, &r->ev))
			nomem(m);
		break;
	case ZM_EV_RSS:
	case ZM_EV_OOM: {
		const struct mp_proc *p = NULL;
		struct zm_mem_event e = r->mem;

		if (mst_event(m->mem, &r->mem, &p))
			nomem(m);
		if (p && p->exited && m->keep_suspects)
			keep_suspect(m, p);
		mst_fix_peaks(p, &e);
		if (m->obs && m->obs->mem)
			m->obs->mem(m->obs->ctx, &e);
		break;
	}
	case REC_START:
		m->start = r->start;
		m->has_start = true;
		break;
	case REC_PROC:
		if (r->proc.has_mem && mst_seed(m->mem, r->proc.mem.pid, r->proc.mem.comm,
						r->proc.mem.ts_ns, &r->proc.mem))
			nomem(m);
		break;
	case REC_ZOMBIE:
		if (zs_preexisting(m->zs, &r->zombie))
			nomem(m);
		break;
	case REC_SYSMEM:
		add_sys(m, &r->sys);
		if (m->obs && m->obs->sys)
			m->obs->sys(m->obs->ctx, &r->sys);
		break;
	case REC_GONE:
		zs_forget(m->zs, r->hdr.pid); /* on_drop() counts it */
		break;
	case REC_DROPS:
		m->drops = r->drops;
		break;
	case REC_END:
		m->drops = r->drops;
		m->has_end = true;
		break;
	}
}

int model_apply(struct model *m, const struct rec *r)
{
	apply(m, r);
	return m->err;
}

/* The zombies still unreaped at the end count toward their parents'
 * longest-lived zombie. */
static void age_at_end(void *ctx, const struct zs_zombie *z)
{
	struct model *m = ctx;
	struct model_parent *p = parent_of(m, z->ppid, z->pstart_ns, NULL, false);
	uint64_t end = model_end_ns(m);

	if (p)
		worst(m, p, end > z->exit_ns ? end - z->exit_ns : 0, z);
}

void model_finish(struct model *m)
{
	if (!m->err)
		zs_each_zombie(m->zs, age_at_end, m);
}

static int stopped(struct model *m, uint64_t at, const char *fmt, const char *why)
{
	snprintf(m->stop_buf, sizeof(m->stop_buf), fmt, why);
	m->stop = m->stop_buf;
	m->stop_at = at;
	return 1;
}

/* The records of one block (a chunk of the file). 0, or 1 when reading
 * stops (m->stop set). */
static int read_block(struct model *m, struct rec_dec *d, const uint8_t *data, size_t len,
		      uint64_t at)
{
	const char *why = NULL;
	struct rec r;
	int n;

	if (rec_dec_open(d, data, len, &why))
		return stopped(m, at, "the chunk's records do not decode: %s", why);
	while ((n = rec_dec_next(d, &r, &why)) == 1) {
		if (m->obs && m->obs->rec && m->obs->rec(m->obs->ctx, &r))
			return stopped(m, at, "%s", "stopped by the output");
		apply(m, &r);
		if (m->err)
			return 0;
	}
	return n < 0 ? stopped(m, at, "the chunk's records do not decode: %s", why) : 0;
}

int model_read(struct model *m, const char *path)
{
	struct cap_reader *cr;
	char err[512];
	struct rec_dec *d = malloc(sizeof(*d));
	int ret = 0;

	if (!d) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return -1;
	}
	if (cap_open(&cr, path, &m->hdr, err, sizeof(err))) {
		fprintf(stderr, "zmtrace: %s\n", err);
		free(d);
		return -1;
	}
	if (m->obs && m->obs->header)
		m->obs->header(m->obs->ctx, &m->hdr);
	while (!ret && !m->err) {
		uint8_t type;
		const void *data;
		size_t len;
		int n = cap_next(cr, &type, &data, &len);

		if (n == 0)
			break;
		if (n < 0) {
			uint64_t at;
			const char *why = cap_stop(cr, &at);

			ret = stopped(m, at, "%s", why ? why : "unreadable");
			break;
		}
		if (type != REC_BLOCK) {
			m->skipped++; /* a later version's: not ours to read */
			continue;
		}
		ret = read_block(m, d, data, len, cap_chunk_offset(cr));
	}
	cap_free(cr);
	free(d);
	model_finish(m);
	if (m->err) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return -1;
	}
	return ret;
}
