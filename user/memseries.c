/* One process's memory over time, bounded, and the leak verdict. */
#include "memseries.h"

#include <string.h>

#define NS_PER_S 1e9

/*
 * The thresholds, and why:
 * - 10 s and 4 levels at least: with a 1 MiB reporting threshold, fewer
 *   levels is growth of a couple of MiB, indistinguishable from start-up;
 * - a fitted rise of 2 MiB and 1% of the starting RSS: a leak of 100 kB/s in
 *   a 1 GiB process shows after about 100 s. R2, drawdown and recency reject
 *   the shapes that are not leaks; the size rule only rejects growth too
 *   small to matter;
 * - frees of more than a quarter of the rise make it a sawtooth: a program
 *   that frees most of what it allocates each cycle is not a suspect even if
 *   its troughs creep up, until the creep outgrows the cycles four times;
 * - the last third of the window must still rise by a quarter of what the
 *   fit predicts there: a ramp that has stopped is not a leak;
 * - R2 >= 0.8: a single step anywhere gives R2 <= 0.75 (3p(1-p)), so a
 *   process that grew once never passes on fit alone.
 */
const struct ms_rules ms_rss_rules = {
	.min_span_ns = 10ULL * 1000 * 1000 * 1000,
	.min_levels = 4,
	.min_growth = 2048,
	.min_growth_frac = 0.01,
	.max_drawdown_frac = 0.25,
	.sawtooth_frac = 0.05,
	.min_recent_frac = 0.25,
	.min_recent = 1024, /* the default reporting threshold: 1 MiB */
	.min_r2 = 0.8,
	.steps_max = 20,
};

const char *ms_trend_str(enum ms_trend t)
{
	switch (t) {
	case MS_TOO_SHORT:
		return "too short";
	case MS_TOO_FEW:
		return "too few changes";
	case MS_FLAT:
		return "flat";
	case MS_SHRINKS:
		return "shrinks";
	case MS_SAWTOOTH:
		return "frees memory (sawtooth)";
	case MS_STOPPED:
		return "grew, then stopped";
	case MS_IRREGULAR:
		return "irregular growth";
	case MS_STEPS:
		return "grows in steps, never frees";
	case MS_STEADY:
		return "steady growth";
	}
	return "?";
}

/* ---- the step fit ---- */

static const void *view_elem(const struct ms_view *v, size_t i)
{
	return (const char *)v->base + ((v->first + i) % v->cap) * v->stride;
}

static uint64_t view_u64(const struct ms_view *v, size_t i, size_t off)
{
	uint64_t x;

	memcpy(&x, (const char *)view_elem(v, i) + off, sizeof(x));
	return x;
}

static uint64_t view_ts(const struct ms_view *v, size_t i)
{
	return view_u64(v, i, v->ts_off);
}

static double view_y(const struct ms_view *v, size_t i)
{
	return (double)view_u64(v, i, v->y_off);
}

/* The index of the last element at or before t (0 if none). */
static size_t view_find(const struct ms_view *v, uint64_t t)
{
	size_t k = 0;

	for (size_t i = 1; i < v->n && view_ts(v, i) <= t; i++)
		k = i;
	return k;
}

/* Integrals of 1, t, t^2, y, y^2, t*y over the steps (t in s, centred). */
struct moments {
	double w, t1, t2, y1, y2, ty;
};

static void add_step(struct moments *m, double s, double e, double y)
{
	double d = e - s;

	m->w += d;
	m->t1 += (e * e - s * s) / 2;
	m->t2 += (e * e * e - s * s * s) / 3;
	m->y1 += y * d;
	m->y2 += y * y * d;
	m->ty += y * (e * e - s * s) / 2;
}

void ms_fit_view(const struct ms_view *v, uint64_t start_ns, uint64_t end_ns, struct ms_fit *f)
{
	memset(f, 0, sizeof(*f));
	if (!v->n)
		return;
	uint64_t s0 = view_ts(v, 0);
	uint64_t S = start_ns > s0 ? start_ns : s0, E = end_ns > S ? end_ns : S;
	size_t k = view_find(v, S);
	/* Values relative to the starting level and times centred on the
	 * window keep the sums well-conditioned (a flat 2 GiB with 3 MiB of
	 * noise, a window of days). */
	double yref = view_y(v, k), mid = (double)(E - S) / 2;
	struct moments m = { 0 };
	double peak = yref, prev = 0, dd = 0;
	bool have_prev = false;

	f->start_ns = S;
	f->span_ns = E - S;
	f->start = yref;
	for (size_t i = k; i < v->n; i++) {
		uint64_t ts = view_ts(v, i);

		if (ts > E)
			break;
		double y = view_y(v, i);

		if (i > k) {
			if (v->drop_off != MS_NO_FIELD) {
				double d = (double)view_u64(v, i, v->drop_off);

				if (d > dd)
					dd = d;
			}
			if (peak - y > dd)
				dd = peak - y;
			if (y > peak)
				peak = y;
		}
		f->end = y;
		uint64_t s = ts > S ? ts : S;
		uint64_t e = E;

		if (i + 1 < v->n && view_ts(v, i + 1) < E)
			e = view_ts(v, i + 1);
		if (e <= s)
			continue;
		if (!have_prev || y != prev)
			f->levels++;
		have_prev = true;
		prev = y;
		add_step(&m, ((double)(s - S) - mid) / NS_PER_S, ((double)(e - S) - mid) / NS_PER_S,
			 y - yref);
	}
	f->peak = peak;
	f->drawdown = dd;
	if (f->span_ns) {
		uint64_t t3 = E - f->span_ns / 3;

		f->recent_rise = f->end - view_y(v, view_find(v, t3 > S ? t3 : S));
	}
	if (m.w <= 0)
		return;
	double mt = m.t1 / m.w, my = m.y1 / m.w;
	double stt = m.t2 / m.w - mt * mt, syy = m.y2 / m.w - my * my;
	double sty = m.ty / m.w - mt * my;

	if (stt <= 0)
		return;
	f->slope = sty / stt;
	f->growth = f->slope * ((double)f->span_ns / NS_PER_S);
	if (syy > 0) {
		f->r2 = sty * sty / (stt * syy);
		if (f->r2 > 1)
			f->r2 = 1;
	}
}

/* ---- the rules ---- */

enum ms_trend ms_judge(const struct ms_fit *f, const struct ms_rules *r)
{
	if (f->span_ns < r->min_span_ns)
		return MS_TOO_SHORT;
	if (f->levels <= 1)
		return MS_FLAT;
	if (f->levels < r->min_levels)
		return MS_TOO_FEW;
	double need = r->min_growth;

	if (f->start * r->min_growth_frac > need)
		need = f->start * r->min_growth_frac;
	if (f->growth < need) {
		if (f->drawdown >= need && f->drawdown >= r->sawtooth_frac * f->peak)
			return MS_SAWTOOTH;
		return f->growth <= -need ? MS_SHRINKS : MS_FLAT;
	}
	if (f->drawdown > r->max_drawdown_frac * f->growth)
		return MS_SAWTOOTH;
	if (f->recent_rise < r->min_recent_frac * f->growth / 3 || f->recent_rise < r->min_recent)
		return MS_STOPPED;
	if (f->r2 < r->min_r2)
		return MS_IRREGULAR;
	return f->levels - 1 < r->steps_max ? MS_STEPS : MS_STEADY;
}

enum ms_trend ms_judge_window(const struct ms_view *v, uint64_t start_ns, uint64_t end_ns,
			      const struct ms_rules *r, struct ms_fit *f)
{
	ms_fit_view(v, start_ns, end_ns, f);
	enum ms_trend t = ms_judge(f, r);

	if (ms_trend_grows(t) || f->span_ns / 2 < r->min_span_ns)
		return t;
	struct ms_fit late;
	enum ms_trend lt;

	ms_fit_view(v, f->start_ns + f->span_ns / 2, f->start_ns + f->span_ns, &late);
	lt = ms_judge(&late, r);
	if (ms_trend_grows(lt)) {
		*f = late;
		return lt;
	}
	return t;
}

/* ---- the bounded series ---- */

void ms_init(struct memseries *m)
{
	/* Everything but pt[], which is written before it is read (pt[0] at
	 * the first event, pt[n] as n grows): zeroing its 8 KiB for each of a
	 * capture's million processes took a tenth of a report's time. */
	_Static_assert(offsetof(struct memseries, pt) == 0, "pt[] comes first");
	memset((char *)m + sizeof(m->pt), 0, sizeof(*m) - sizeof(m->pt));
}

static bool same_bucket(const struct memseries *m, uint64_t a, uint64_t b)
{
	if (!m->min_gap_ns)
		return a == b;
	return (a - m->first_ns) / m->min_gap_ns == (b - m->first_ns) / m->min_gap_ns;
}

/* Merge the points of pt[1..] that share a bucket into the later one. */
static void merge_buckets(struct memseries *m)
{
	unsigned out = 1;

	for (unsigned i = 1; i < m->n; i++) {
		struct ms_point *o = &m->pt[out - 1];

		if (out >= 2 && same_bucket(m, o->ts_ns, m->pt[i].ts_ns)) {
			uint64_t drop = o->drop_kb;

			if (m->pt[i].drop_kb > drop)
				drop = m->pt[i].drop_kb;
			*o = m->pt[i];
			o->drop_kb = drop;
		} else {
			m->pt[out++] = m->pt[i];
		}
	}
	m->n = out;
}

/* Make room: widen the buckets until at least a quarter of the points are
 * free. The first widening gives MS_POINTS / 2 buckets over the span so far,
 * later ones double, so each pass keeps about half and an event costs O(1)
 * amortised. */
static void compact(struct memseries *m)
{
	uint64_t span = m->pt[m->n - 1].ts_ns - m->first_ns;

	while (m->n > MS_POINTS - MS_POINTS / 4) {
		if (!m->min_gap_ns)
			m->min_gap_ns = span / (MS_POINTS / 2) + 1;
		else if (m->min_gap_ns > UINT64_MAX / 2)
			m->min_gap_ns = UINT64_MAX;
		else
			m->min_gap_ns *= 2;
		merge_buckets(m);
	}
}

void ms_add(struct memseries *m, uint64_t ts_ns, uint64_t rss_kb, uint64_t vsize_kb)
{
	if (!m->n) {
		m->pt[0] = (struct ms_point){
			.ts_ns = ts_ns, .rss_kb = rss_kb, .vsize_kb = vsize_kb,
		};
		m->n = 1;
		m->first_ns = m->last_ns = ts_ns;
		m->rss_max_kb = m->rss_last_kb = m->open_peak_kb = rss_kb;
		m->vsize_max_kb = m->vsize_last_kb = vsize_kb;
		return;
	}
	if (ts_ns < m->last_ns)
		ts_ns = m->last_ns;
	m->last_ns = ts_ns;
	m->rss_last_kb = rss_kb;
	m->vsize_last_kb = vsize_kb;
	if (rss_kb > m->rss_max_kb)
		m->rss_max_kb = rss_kb;
	if (vsize_kb > m->vsize_max_kb)
		m->vsize_max_kb = vsize_kb;

	struct ms_point *lp = &m->pt[m->n - 1];

	if (m->n == MS_POINTS && !same_bucket(m, lp->ts_ns, ts_ns)) {
		compact(m);
		lp = &m->pt[m->n - 1];
	}
	if (m->n >= 2 && same_bucket(m, lp->ts_ns, ts_ns)) {
		/* The open bucket takes the event. */
		if (m->open_peak_kb > rss_kb && m->open_peak_kb - rss_kb > lp->drop_kb)
			lp->drop_kb = m->open_peak_kb - rss_kb;
		if (rss_kb > m->open_peak_kb)
			m->open_peak_kb = rss_kb;
		lp->ts_ns = ts_ns;
		lp->rss_kb = rss_kb;
		lp->vsize_kb = vsize_kb;
		return;
	}
	uint64_t prev = lp->rss_kb;

	m->pt[m->n++] = (struct ms_point){
		.ts_ns = ts_ns,
		.rss_kb = rss_kb,
		.vsize_kb = vsize_kb,
		.drop_kb = prev > rss_kb ? prev - rss_kb : 0,
	};
	m->open_peak_kb = prev > rss_kb ? prev : rss_kb;
}

void ms_verdict(const struct memseries *m, uint64_t now_ns, uint64_t window_ns,
		struct ms_verdict *v)
{
	struct ms_view view = {
		.base = m->pt,
		.n = m->n,
		.first = 0,
		.cap = MS_POINTS,
		.stride = sizeof(m->pt[0]),
		.ts_off = offsetof(struct ms_point, ts_ns),
		.y_off = offsetof(struct ms_point, rss_kb),
		.drop_off = offsetof(struct ms_point, drop_kb),
	};
	uint64_t end = now_ns > m->last_ns ? now_ns : m->last_ns;
	uint64_t start = m->first_ns;
	struct ms_fit f, vf;

	if (window_ns && end - start > window_ns)
		start = end - window_ns;
	memset(v, 0, sizeof(*v));
	v->trend = ms_judge_window(&view, start, end, &ms_rss_rules, &f);
	view.y_off = offsetof(struct ms_point, vsize_kb);
	view.drop_off = MS_NO_FIELD;
	ms_fit_view(&view, f.start_ns, f.start_ns + f.span_ns, &vf);
	v->rss_slope_kb_s = f.slope;
	v->rss_r2 = f.r2;
	v->vsize_slope_kb_s = vf.slope;
	v->vsize_r2 = vf.r2;
	v->span_ns = f.span_ns;
	v->suspect = ms_trend_grows(v->trend);
	v->why = ms_trend_str(v->trend);
	v->rss_growth_kb = f.growth;
	v->rss_drawdown_kb = f.drawdown;
}
