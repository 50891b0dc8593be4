/* What zmtrace top shows: see topview.h. */
#include "topview.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "util.h"

/* ---- the snapshot ---- */

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 256;
	void *p = realloc(*v, c * size);

	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

struct take {
	struct top_snapshot *t;
	struct hashmap by_pid; /* parent pid -> index + 1 */
	int err;
};

static int add_proc(void *ctx, const struct mp_proc *p)
{
	struct take *k = ctx;
	struct top_snapshot *t = k->t;
	struct ms_verdict v;

	if (p->exited)
		return 0;
	if (grow((void **)&t->proc, &t->proc_cap, t->nprocs, sizeof(*t->proc))) {
		k->err = -ENOMEM;
		return 1;
	}
	ms_verdict(&p->series, t->now_ns, 0, &v);
	struct top_proc *o = &t->proc[t->nprocs++];

	o->pid = p->pid;
	memcpy(o->comm, p->comm, sizeof(o->comm));
	o->comm[sizeof(o->comm) - 1] = 0;
	o->rss_kb = p->rss_kb;
	o->vsize_kb = p->vsize_kb;
	o->growth_known = v.span_ns >= TOP_GROWTH_SPAN_NS;
	o->growth_kb_s = o->growth_known ? v.rss_slope_kb_s : 0;
	o->trend = v.trend;
	o->suspect = v.suspect;
	t->suspects += v.suspect;
	return 0;
}

/* An unreaped zombie: its parent's oldest? */
static void oldest(void *ctx, const struct zs_zombie *z)
{
	struct take *k = ctx;
	uintptr_t i = (uintptr_t)hm_get(&k->by_pid, z->ppid);

	if (!i)
		return;
	struct top_parent *p = &k->t->parent[i - 1];
	uint64_t age = k->t->now_ns > z->exit_ns ? k->t->now_ns - z->exit_ns : 0;

	if (age < p->oldest_ns)
		return;
	p->oldest_ns = age;
	p->oldest_preexisting = z->preexisting;
}

static int take_parents(struct take *k, const struct zstate *zs)
{
	struct top_snapshot *t = k->t;
	struct zs_parent_stat *ps;
	long n = zs_parents(zs, &ps);

	if (n < 0)
		return -ENOMEM;
	for (long i = 0; i < n; i++) {
		if (!ps[i].unreaped)
			continue;
		if (grow((void **)&t->parent, &t->parent_cap, t->nparents, sizeof(*t->parent))) {
			free(ps);
			return -ENOMEM;
		}
		struct top_parent *p = &t->parent[t->nparents++];

		*p = (struct top_parent){
			.pid = ps[i].pid,
			.unreaped = ps[i].unreaped,
			.zombies = ps[i].zombies,
		};
		memcpy(p->comm, ps[i].comm, sizeof(p->comm));
		p->comm[sizeof(p->comm) - 1] = 0;
		/* A recycled pid with two entries: the first (most unreaped)
		 * gets the ages. */
		if (!hm_get(&k->by_pid, p->pid) &&
		    hm_put(&k->by_pid, p->pid, (void *)(uintptr_t)t->nparents)) {
			free(ps);
			return -ENOMEM;
		}
	}
	free(ps);
	if (!t->nparents)
		return 0;
	zs_each_zombie(zs, oldest, k);
	/* A parent about to reap is not news: only those whose oldest
	 * zombie has waited TOP_ZOMBIE_AGE_NS stay. */
	size_t kept = 0;

	t->unreaped = 0;
	for (size_t i = 0; i < t->nparents; i++) {
		if (t->parent[i].oldest_ns < TOP_ZOMBIE_AGE_NS)
			continue;
		t->unreaped += t->parent[i].unreaped;
		t->parent[kept++] = t->parent[i];
	}
	t->nparents = kept;
	return 0;
}

int top_take(struct top_snapshot *t, const struct zstate *zs, const struct memstate *m,
	     const struct sysmem_hist *sys, uint64_t now_ns)
{
	struct take k = { .t = t };
	const struct sysmem *last = sys ? sysmem_hist_last(sys) : NULL;
	int err;

	t->now_ns = now_ns;
	t->sys_ok = last != NULL;
	t->nspark = 0;
	if (last) {
		unsigned n = sys->n < TOP_SPARK ? sys->n : TOP_SPARK;

		t->sys = *last;
		sysmem_verdict(sys, &t->sv);
		for (unsigned i = 0; i < n; i++)
			t->spark[t->nspark++] = sysmem_hist_at(sys, sys->n - n + i)->app_kb;
	}
	t->nparents = t->nprocs = t->suspects = 0;
	t->unreaped = 0;
	t->zombies = zs_counters(zs)->zombies;
	if (hm_init(&k.by_pid))
		return -ENOMEM;
	err = take_parents(&k, zs);
	hm_destroy(&k.by_pid);
	if (err)
		return err;
	mst_each(m, add_proc, &k);
	return k.err;
}

void top_snapshot_free(struct top_snapshot *t)
{
	free(t->parent);
	free(t->proc);
	t->parent = NULL;
	t->proc = NULL;
	t->nparents = t->nprocs = t->parent_cap = t->proc_cap = 0;
}

static int by_pid(const void *a, const void *b)
{
	const struct top_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int by_rss(const void *a, const void *b)
{
	const struct top_proc *x = a, *y = b;

	if (x->rss_kb != y->rss_kb)
		return x->rss_kb < y->rss_kb ? 1 : -1;
	return by_pid(a, b);
}

static int by_vsize(const void *a, const void *b)
{
	const struct top_proc *x = a, *y = b;

	if (x->vsize_kb != y->vsize_kb)
		return x->vsize_kb < y->vsize_kb ? 1 : -1;
	return by_rss(a, b);
}

static int by_growth(const void *a, const void *b)
{
	const struct top_proc *x = a, *y = b;

	if (x->growth_kb_s != y->growth_kb_s)
		return x->growth_kb_s < y->growth_kb_s ? 1 : -1;
	return by_rss(a, b);
}

void top_sort(struct top_snapshot *t, const struct top_view *v)
{
	static int (*const cmp[])(const void *, const void *) = {
		[TOP_SORT_RSS] = by_rss,
		[TOP_SORT_GROWTH] = by_growth,
		[TOP_SORT_VSIZE] = by_vsize,
		[TOP_SORT_PID] = by_pid,
	};

	if (!t->nprocs)
		return;
	qsort(t->proc, t->nprocs, sizeof(*t->proc), cmp[v->sort]);
	for (size_t i = 0, j = t->nprocs - 1; v->reverse && i < j; i++, j--) {
		struct top_proc x = t->proc[i];

		t->proc[i] = t->proc[j];
		t->proc[j] = x;
	}
}

/* ---- the layout ---- */

/* Printable ASCII only: a comm may hold any byte, and every character on
 * the screen must be one column wide. */
static void safe(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	for (; src[i] && i + 1 < len; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = 0;
}

/* "+10.0M", "-512K", "0": a rate in KiB/s, at most 7 characters. */
static void fmt_rate(char *buf, size_t len, double kb_s)
{
	char v[8];

	if (fabs(kb_s) < 1) {
		snprintf(buf, len, "0");
		return;
	}
	fmt_kb(v, sizeof(v), (uint64_t)(fabs(kb_s) + 0.5));
	snprintf(buf, len, "%c%s", kb_s < 0 ? '-' : '+', v);
}

static const char *sort_name(enum top_sort s)
{
	switch (s) {
	case TOP_SORT_GROWTH:
		return "growth";
	case TOP_SORT_VSIZE:
		return "VSIZE";
	case TOP_SORT_PID:
		return "PID";
	case TOP_SORT_RSS:
		break;
	}
	return "RSS";
}

static void render_title(const struct top_snapshot *t, const struct top_view *v,
			 struct frame *f)
{
	char clock[9], what[64], right[96];
	int left_len, room;

	fmt_clock(clock, sizeof(clock), t->now_ns);
	safe(what, sizeof(what), v->what ? v->what : "");
	snprintf(right, sizeof(right), "%zu procs, %zu suspect%s  sort %s%s  h help", t->nprocs,
		 t->suspects, t->suspects == 1 ? "" : "s", sort_name(v->sort),
		 v->reverse ? " (rev)" : "");
	left_len = (int)strlen("zmtrace top  ") + (int)strlen(clock) + 2;
	room = (int)f->cols - left_len - (int)strlen(right) - 2;
	if (room < 0)
		room = 0;
	if ((int)strlen(what) > room)
		what[room] = 0;
	frame_printf(f, 0, FR_TITLE, "zmtrace top  %s  %-*s  %s", clock, room, what, right);
}

/* The apps history: one character per sample, the newest on the right,
 * scaled between the lowest and the highest shown. */
static void sparkline(char *buf, size_t len, const struct top_snapshot *t, unsigned w, bool utf8,
		      uint64_t *lo, uint64_t *hi)
{
	static const char *const blocks[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	static const char ascii[] = "_.-:=+*#";
	const uint64_t *s = t->spark + t->nspark - w;
	size_t at = 0;

	*lo = *hi = s[0];
	for (unsigned i = 1; i < w; i++) {
		if (s[i] < *lo)
			*lo = s[i];
		if (s[i] > *hi)
			*hi = s[i];
	}
	/* Less than 1 MiB of change, or a thousandth: flat. */
	uint64_t span = *hi - *lo;
	bool flat = span < 1024 || span < *hi / 1000;

	for (unsigned i = 0; i < w && at + 4 < len; i++) {
		unsigned lvl = flat ? 0 : (unsigned)((s[i] - *lo) * 7 / span);

		if (utf8) {
			size_t n = strlen(blocks[lvl]);

			memcpy(buf + at, blocks[lvl], n);
			at += n;
		} else {
			buf[at++] = ascii[lvl];
		}
	}
	buf[at] = 0;
}

static unsigned render_system(const struct top_snapshot *t, const struct top_view *v,
			      struct frame *f, unsigned r)
{
	char total[16], used[16], app[16], buf[16], cache[16], sw[16], swt[16], pre[96], tail[48];
	char spark[TOP_SPARK * 4 + 1], span[16];
	const struct sysmem *s = &t->sys;

	if (!t->sys_ok) {
		frame_printf(f, r++, FR_ALERT, "Mem: /proc/meminfo cannot be read");
		return r;
	}
	fmt_kb(total, sizeof(total), s->total_kb);
	fmt_kb(used, sizeof(used), s->used_kb);
	fmt_kb(app, sizeof(app), s->app_kb);
	fmt_kb(buf, sizeof(buf), s->buffers_kb);
	fmt_kb(cache, sizeof(cache), s->cached_kb);
	fmt_kb(sw, sizeof(sw), s->swap_used_kb);
	fmt_kb(swt, sizeof(swt), s->swap_total_kb);
	int at = snprintf(pre, sizeof(pre), "Mem %s  used %s  ", total, used);

	frame_printf(f, r, FR_NORMAL, "%sapps %s %.0f%%  buffers %s  cache %s", pre, app,
		     t->sv.app_pct_of_used, buf, cache);
	if (t->sv.app_high)
		frame_highlight(f, r, (unsigned)at,
				(unsigned)snprintf(tail, sizeof(tail), "apps %s %.0f%%", app,
						   t->sv.app_pct_of_used),
				FR_ALERT);
	r++;

	/* Swap, and the apps history as wide as the line allows. */
	int swlen = snprintf(pre, sizeof(pre), "Swap %s/%s", sw, swt);
	unsigned fixed = (unsigned)swlen + (unsigned)strlen("  apps, last 1m00s: ") + 16;
	unsigned w = t->nspark;

	if (w > 60)
		w = 60;
	if (fixed + w > f->cols)
		w = f->cols > fixed ? f->cols - fixed : 0;
	if (w >= 4) {
		uint64_t lo, hi;
		char l[16], h[16];

		sparkline(spark, sizeof(spark), t, w, v->utf8, &lo, &hi);
		/* The bottom and the height of the graph: a few MiB of change
		 * in GiB would not show in "5.1G-5.1G". */
		fmt_kb(l, sizeof(l), lo);
		fmt_kb(h, sizeof(h), hi - lo);
		fmt_duration(span, sizeof(span), (uint64_t)(w * v->interval * 1e9));
		frame_printf(f, r, FR_NORMAL, "%s  apps, last %s: %s %s +%s", pre, span, spark, l, h);
	} else {
		frame_printf(f, r, FR_NORMAL, "%s", pre);
	}
	if (t->sv.swap_rising)
		frame_highlight(f, r, 0, (unsigned)swlen, FR_ALERT);
	r++;
	if (strcmp(t->sv.verdict, "ok"))
		frame_printf(f, r++, FR_ALERT, "System: %s", t->sv.verdict);
	return r;
}

/* The parents with unreaped zombies, at most max lines (title included). */
static unsigned render_zombies(const struct top_snapshot *t, struct frame *f, unsigned r,
			       unsigned max)
{
	char comm[ZM_COMM_LEN], age[16];

	if (!t->nparents) {
		frame_printf(f, r++, FR_BOLD, "Parents with unreaped zombies: none (%llu zombie%s seen)",
			     (unsigned long long)t->zombies, t->zombies == 1 ? "" : "s");
		return r;
	}
	frame_printf(f, r++, FR_BOLD, "Parents with unreaped zombies: %zu (%llu unreaped)",
		     t->nparents, (unsigned long long)t->unreaped);
	frame_printf(f, r++, FR_HEAD, "%7s %-15s %8s %8s %8s", "PID", "PARENT", "UNREAPED",
		     "ZOMBIES", "OLDEST");
	unsigned room = max > 2 ? max - 2 : 1;
	size_t shown = t->nparents <= room ? t->nparents : room - 1;

	for (size_t i = 0; i < shown; i++) {
		const struct top_parent *p = &t->parent[i];

		fmt_duration(age + 1, sizeof(age) - 1, p->oldest_ns);
		age[0] = '>';
		safe(comm, sizeof(comm), p->comm);
		frame_printf(f, r, FR_NORMAL, "%7u %-15s %8llu %8llu %8s", p->pid, comm,
			     (unsigned long long)p->unreaped, (unsigned long long)p->zombies,
			     p->oldest_preexisting ? age : age + 1);
		frame_highlight(f, r++, 24, 8, FR_ALERT);
	}
	if (shown < t->nparents)
		frame_printf(f, r++, FR_DIM, "%7s ... and %zu more", "", t->nparents - shown);
	return r;
}

/* Columns of the process table's header, for the sort mark. */
static const struct {
	unsigned col, len;
} sort_col[] = {
	[TOP_SORT_PID] = { 0, 7 },
	[TOP_SORT_RSS] = { 24, 6 },
	[TOP_SORT_VSIZE] = { 31, 6 },
	[TOP_SORT_GROWTH] = { 38, 7 },
};

/* The LEAK? mark's column. */
#define LEAK_COL 47

static unsigned render_procs(const struct top_snapshot *t, const struct top_view *v,
			     struct frame *f, unsigned r, unsigned end)
{
	char comm[ZM_COMM_LEN], rss[16], vsz[16], rate[16];
	size_t shown = 0;

	frame_printf(f, r, FR_HEAD, "%7s %-15s %6s %6s %7s  %s", "PID", "COMM", "RSS", "VSIZE",
		     "GROW/s", v->suspects_only ? "TREND (leak suspects only)" : "TREND");
	frame_highlight(f, r++, sort_col[v->sort].col, sort_col[v->sort].len, FR_HEAD_SORT);
	for (size_t i = 0; i < t->nprocs && r < end; i++) {
		const struct top_proc *p = &t->proc[i];

		if (v->suspects_only && !p->suspect)
			continue;
		safe(comm, sizeof(comm), p->comm);
		fmt_kb(rss, sizeof(rss), p->rss_kb);
		fmt_kb(vsz, sizeof(vsz), p->vsize_kb);
		if (p->growth_known)
			fmt_rate(rate, sizeof(rate), p->growth_kb_s);
		else
			snprintf(rate, sizeof(rate), "-");
		frame_printf(f, r, FR_NORMAL, "%7u %-15s %6s %6s %7s  %s%s", p->pid, comm, rss, vsz,
			     rate, p->suspect ? "LEAK? " : "", ms_trend_str(p->trend));
		if (p->suspect)
			frame_highlight(f, r, LEAK_COL, 5, FR_ALERT);
		r++;
		shown++;
	}
	if (!shown && r < end)
		frame_printf(f, r++, FR_DIM, "%7s %s", "",
			     v->suspects_only ? "no leak suspect" : "no process");
	return r;
}

void top_render(const struct top_snapshot *t, const struct top_view *v, struct frame *f)
{
	unsigned r = 0, end = f->rows;

	frame_clear(f);
	if (!f->rows)
		return;
	/* The last line: the keys, or a warning. */
	if (v->help) {
		end--;
		frame_printf(f, end, FR_TITLE,
			     "q quit  M memory  G growth  V vsize  N pid  R reverse  L suspects  "
			     "h help");
	} else if (t->lost) {
		end--;
		frame_printf(f, end, FR_ALERT,
			     "warning: %llu events lost (ring buffer full): figures may be off",
			     (unsigned long long)t->lost);
	}
	render_title(t, v, f);
	r = render_system(t, v, f, 1);
	r++;
	/* Zombies: a third of what is left at most, the processes the rest. */
	unsigned left = end > r ? end - r : 0;

	r = render_zombies(t, f, r, left > 6 ? left / 3 + 1 : 3);
	r++;
	if (r < end)
		render_procs(t, v, f, r, end);
}

enum top_action top_key(struct top_view *v, int key)
{
	enum top_sort sort;

	switch (key) {
	case 'q':
	case 'Q':
		return TOP_QUIT;
	case 'M':
	case 'm':
		sort = TOP_SORT_RSS;
		break;
	case 'G':
	case 'g':
		sort = TOP_SORT_GROWTH;
		break;
	case 'V':
	case 'v':
		sort = TOP_SORT_VSIZE;
		break;
	case 'N':
	case 'n':
	case 'P':
	case 'p':
		sort = TOP_SORT_PID;
		break;
	case 'R':
	case 'r':
		v->reverse = !v->reverse;
		return TOP_REDRAW;
	case 'L':
	case 'l':
		v->suspects_only = !v->suspects_only;
		return TOP_REDRAW;
	case 'h':
	case 'H':
	case '?':
		v->help = !v->help;
		return TOP_REDRAW;
	case ' ':
	case 'L' & 0x1f: /* Ctrl-L */
		return TOP_REFRESH;
	default:
		return TOP_NONE;
	}
	v->sort = sort;
	v->reverse = false;
	return TOP_REDRAW;
}
