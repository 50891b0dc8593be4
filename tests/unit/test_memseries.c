/* Unit tests for user/memseries.c: the step fit, the leak rules and the
 * bounded series, fed with synthetic processes sampled the way the kernel
 * side reports them (an event when RSS has moved by the threshold since the
 * last one, one at start and one at the end). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "memseries.h"

#define MS (1000ULL * 1000)
#define SEC (1000ULL * MS)
#define MIB 1024.0 /* in kB */
#define BASE_NS (1000 * SEC) /* boot time of the first event */

enum shape {
	LINEAR,	   /* base + rate * t */
	STAIRS,	   /* base + step * floor(t / period) */
	SAW,	   /* base + creep * cycle + amp * frac(t / period) */
	RAMP,	   /* base + amp * min(t / ramp, 1) */
	JITTER,	   /* base + uniform(-amp, amp), a new value every period */
	HOCKEY,	   /* base, then + rate * (t - ramp) after ramp */
	RAMP_LEAK, /* RAMP, then + rate * (t - ramp) */
	GC_DIPS,   /* LINEAR, minus step during the last 10% of each period */
};

struct gen {
	enum shape shape;
	double base, rate, step, period, amp, creep, ramp; /* kB, kB/s, s */
};

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static double gen_y(const struct gen *g, double t)
{
	switch (g->shape) {
	case LINEAR:
		return g->base + g->rate * t;
	case STAIRS:
		return g->base + g->step * floor(t / g->period);
	case SAW: {
		double c = floor(t / g->period);

		return g->base + g->creep * c + g->amp * (t / g->period - c);
	}
	case RAMP:
		return g->base + g->amp * (t < g->ramp ? t / g->ramp : 1);
	case JITTER: {
		uint64_t r = splitmix((uint64_t)(t / g->period));

		return g->base + g->amp * (2.0 * (double)(r >> 11) / (double)(1ULL << 53) - 1);
	}
	case HOCKEY:
		return g->base + (t > g->ramp ? g->rate * (t - g->ramp) : 0);
	case RAMP_LEAK:
		if (t < g->ramp)
			return g->base + g->amp * t / g->ramp;
		return g->base + g->amp + g->rate * (t - g->ramp);
	case GC_DIPS: {
		double c = floor(t / g->period);

		return g->base + g->rate * t - (t / g->period - c > 0.9 ? g->step : 0);
	}
	}
	return 0;
}

/* Every event fed, for the full-resolution reference. */
struct events {
	struct ms_point *p;
	size_t n, cap;
};

static void rec_add(struct events *ev, uint64_t ts, uint64_t rss, uint64_t vsize)
{
	if (!ev)
		return;
	if (ev->n == ev->cap) {
		size_t cap = ev->cap ? ev->cap * 2 : 1024;
		struct ms_point *p = realloc(ev->p, cap * sizeof(*p));

		assert_non_null(p);
		ev->p = p;
		ev->cap = cap;
	}
	ev->p[ev->n++] = (struct ms_point){ .ts_ns = ts, .rss_kb = rss, .vsize_kb = vsize };
}

static void add(struct memseries *m, struct events *ev, uint64_t ts, uint64_t rss, uint64_t vsize)
{
	ms_add(m, ts, rss, vsize);
	assert_true(m->n >= 1 && m->n <= MS_POINTS);
	rec_add(ev, ts, rss, vsize);
}

/* What the kernel side reports of g over [0, dur] s, RSS sampled every dt s
 * with a threshold of thr kB; VSIZE is twice RSS. Returns the number of events; the last one is
 * at dur. */
static size_t feed(struct memseries *m, struct events *ev, const struct gen *g, double dur,
		   double dt, double thr)
{
	size_t n = 0, steps = (size_t)llround(dur / dt);
	uint64_t last = 0;

	for (size_t i = 0; i <= steps; i++) {
		double t = (double)i * dt;
		double y = gen_y(g, t);
		uint64_t rss = y > 0 ? (uint64_t)y : 0;
		uint64_t vsize = 2 * rss;

		if (i == 0 || i == steps || (rss > last ? rss - last : last - rss) >= thr) {
			add(m, ev, BASE_NS + (uint64_t)llround(t * 1e9), rss, vsize);
			last = rss;
			n++;
		}
	}
	return n;
}

/* The verdict of a whole life fed with g, as of its end. */
static void life(struct memseries *m, const struct gen *g, double dur, double dt,
		 struct ms_verdict *v)
{
	ms_init(m);
	feed(m, NULL, g, dur, dt, MIB);
	ms_verdict(m, m->last_ns, 0, v);
}

/* The fixture: a memseries is 8 KiB, kept off the stack. */
static int setup(void **state)
{
	struct memseries *m = malloc(sizeof(*m));

	if (!m)
		return -1;
	ms_init(m);
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void assert_near(double got, double want, double rel)
{
	if (fabs(got - want) > rel * fabs(want))
		fail_msg("%g is not within %g%% of %g", got, rel * 100, want);
}

/* ---- the fit itself ---- */

struct tv {
	uint64_t ts, y;
};

static struct ms_view tv_view(const struct tv *a, size_t n)
{
	return (struct ms_view){
		.base = a, .n = n, .first = 0, .cap = n, .stride = sizeof(a[0]),
		.ts_off = offsetof(struct tv, ts), .y_off = offsetof(struct tv, y),
		.drop_off = MS_NO_FIELD,
	};
}

static void test_fit_one_step(void **state)
{
	(void)state;
	/* 0 on [0, 1 s), 1 on [1 s, 2 s]: the continuous fit has slope 3/4 per
	 * second and R2 = 3p(1-p) = 3/4. */
	struct tv a[] = { { 5 * SEC, 0 }, { 6 * SEC, 1 } };
	struct ms_view v = tv_view(a, 2);
	struct ms_fit f;

	ms_fit_view(&v, 0, 7 * SEC, &f);
	assert_true(fabs(f.slope - 0.75) < 1e-9);
	assert_true(fabs(f.r2 - 0.75) < 1e-9);
	assert_true(fabs(f.growth - 1.5) < 1e-9);
	assert_int_equal(f.span_ns, 2 * SEC);
	assert_int_equal(f.start_ns, 5 * SEC);
	assert_int_equal(f.levels, 2);
	assert_true(f.start == 0 && f.end == 1 && f.peak == 1 && f.drawdown == 0);
	/* The last third starts at 6.33 s, after the step. */
	assert_true(f.recent_rise == 0);

	/* Held until a later end: the plateau weighs more. */
	ms_fit_view(&v, 0, 9 * SEC, &f);
	assert_true(f.slope < 0.75 && f.slope > 0);
	/* An empty view, a single point, a window before the data. */
	v.n = 0;
	ms_fit_view(&v, 0, 9 * SEC, &f);
	assert_true(f.slope == 0 && f.r2 == 0 && f.span_ns == 0);
	v.n = 1;
	ms_fit_view(&v, 0, 9 * SEC, &f);
	assert_true(f.slope == 0 && f.r2 == 0 && f.levels == 1);
	assert_int_equal(f.span_ns, 4 * SEC);
}

/* The continuous fit is the limit of an ordinary fit of the step function
 * sampled on a fine regular grid. */
static void test_fit_matches_grid(void **state)
{
	(void)state;
	struct tv a[40];
	uint64_t t = 0;

	for (size_t i = 0; i < 40; i++) {
		t += 1 + splitmix(i) % (3 * SEC);
		a[i].ts = t;
		a[i].y = 1000000 + splitmix(i + 100) % 50000 + 2000 * i;
	}
	uint64_t S = a[3].ts + SEC / 3, E = a[39].ts + 2 * SEC;
	struct ms_view v = tv_view(a, 40);
	struct ms_fit f;

	ms_fit_view(&v, S, E, &f);

	const size_t N = 1000000;
	double st = 0, sy = 0, stt = 0, syy = 0, sty = 0;
	size_t k = 0;

	for (size_t i = 0; i < N; i++) {
		uint64_t ts = S + (uint64_t)((double)(E - S) * ((double)i + 0.5) / (double)N);

		while (k + 1 < 40 && a[k + 1].ts <= ts)
			k++;
		double x = (double)(ts - S) / 1e9, y = (double)a[k].y;

		st += x;
		sy += y;
		stt += x * x;
		syy += y * y;
		sty += x * y;
	}
	double mt = st / N, my = sy / N;
	double vt = stt / N - mt * mt, vy = syy / N - my * my, cty = sty / N - mt * my;

	assert_near(f.slope, cty / vt, 1e-3);
	assert_near(f.r2, cty * cty / (vt * vy), 1e-3);
}

/* A ring view: elements wrap around the end of the array. */
static void test_fit_ring(void **state)
{
	(void)state;
	struct tv ring[5] = {
		{ 13 * SEC, 300 }, { 14 * SEC, 400 }, /* newest, at the front */
		{ 1 * SEC, 999 },		       /* not in the view */
		{ 11 * SEC, 100 }, { 12 * SEC, 200 },
	};
	struct ms_view v = tv_view(ring, 5);
	struct ms_fit f;

	v.first = 3;
	v.n = 4;
	ms_fit_view(&v, 0, 15 * SEC, &f);
	assert_int_equal(f.start_ns, 11 * SEC);
	assert_int_equal(f.levels, 4);
	assert_true(f.start == 100 && f.end == 400 && f.peak == 400);
	/* n equal steps of h every tau fit a slope of h/tau * (1 - 1/n^2). */
	assert_near(f.slope, 100 * (1 - 1.0 / 16), 1e-9);
	assert_true(f.r2 > 0.9);
}

/* ---- the shapes the verdict must get right ---- */

static void test_linear(void **state)
{
	struct memseries *m = *state;
	struct gen g = { .shape = LINEAR, .base = 20 * MIB, .rate = MIB };
	struct ms_verdict v;

	life(m, &g, 60, 0.01, &v);
	assert_true(v.suspect);
	assert_int_equal(v.trend, MS_STEADY);
	assert_string_equal(v.why, "steady growth");
	assert_near(v.rss_slope_kb_s, MIB, 0.03);
	assert_true(v.rss_r2 > 0.99);
	assert_near(v.vsize_slope_kb_s, 2 * MIB, 0.03);
	assert_int_equal(v.span_ns, 60 * SEC);
	assert_near(v.rss_growth_kb, 60 * MIB, 0.05);
	assert_true(v.rss_drawdown_kb == 0);
}

static void test_staircase(void **state)
{
	struct memseries *m = *state;
	struct gen g = { .shape = STAIRS, .base = 20 * MIB, .step = 8 * MIB, .period = 5 };
	struct ms_verdict v;

	life(m, &g, 60, 0.01, &v);
	assert_true(v.suspect);
	assert_int_equal(v.trend, MS_STEPS);
	assert_string_equal(v.why, "grows in steps, never frees");
	assert_near(v.rss_slope_kb_s, 8 * MIB / 5, 0.1);
	assert_true(v.rss_r2 > 0.95);
}

static void test_sawtooth(void **state)
{
	struct memseries *m = *state;
	struct gen g = { .shape = SAW, .base = 5 * MIB, .amp = 200 * MIB, .period = 10 };
	struct ms_verdict v;

	life(m, &g, 60, 0.01, &v);
	assert_false(v.suspect);
	assert_int_equal(v.trend, MS_SAWTOOTH);
	assert_string_equal(v.why, "frees memory (sawtooth)");
	assert_true(v.rss_drawdown_kb > 190 * MIB);
	/* Ending at a peak (mid-rise) changes nothing. */
	life(m, &g, 59.5, 0.01, &v);
	assert_false(v.suspect);
	assert_int_equal(v.trend, MS_SAWTOOTH);
}

/* The choice: a sawtooth whose troughs creep up is not a suspect while it
 * frees more than a quarter of what it gained over the window; it becomes
 * one when the creep outgrows the cycles four times over (here after about
 * 1000 s), or when the leak dominates each cycle. */
static void test_sawtooth_rising_baseline(void **state)
{
	struct memseries *m = *state;
	struct gen g = {
		.shape = SAW, .base = 50 * MIB, .amp = 200 * MIB, .creep = 2 * MIB, .period = 10,
	};
	struct ms_verdict v;

	life(m, &g, 60, 0.01, &v);
	assert_false(v.suspect);
	assert_int_equal(v.trend, MS_SAWTOOTH);
	assert_true(v.rss_slope_kb_s > 0);

	life(m, &g, 600, 0.01, &v);
	assert_false(v.suspect);
	assert_int_equal(v.trend, MS_SAWTOOTH);

	life(m, &g, 10000, 0.01, &v);
	assert_true(v.suspect);
	assert_near(v.rss_slope_kb_s, 2 * MIB / 10, 0.1);

	/* Grows 50 MiB a cycle, frees 20: a leak with a small sawtooth on it. */
	struct gen g2 = {
		.shape = SAW, .base = 50 * MIB, .amp = 70 * MIB, .creep = 50 * MIB, .period = 10,
	};
	life(m, &g2, 120, 0.01, &v);
	assert_true(v.suspect);
}

static void test_flat_large(void **state)
{
	struct memseries *m = *state;
	struct gen g = { .shape = LINEAR, .base = 2048 * MIB };
	struct ms_verdict v;

	life(m, &g, 60, 0.1, &v);
	assert_int_equal(m->n, 2);
	assert_false(v.suspect);
	assert_int_equal(v.trend, MS_FLAT);
	assert_string_equal(v.why, "flat");
	assert_true(v.rss_slope_kb_s == 0);
	/* Still flat an hour later. */
	ms_verdict(m, m->last_ns + 3600 * SEC, 0, &v);
	assert_int_equal(v.trend, MS_FLAT);
	assert_int_equal(v.span_ns, 3660 * SEC);
}

static void test_ramp_then_flat(void **state)
{
	struct memseries *m = *state;
	struct gen g = { .shape = RAMP, .base = 10 * MIB, .amp = 500 * MIB, .ramp = 5 };
	struct ms_verdict v;

	life(m, &g, 60, 0.01, &v);
	assert_false(v.suspect);
	assert_int_equal(v.trend, MS_STOPPED);
	assert_string_equal(v.why, "grew, then stopped");

	/* Ramping over the first 20% of its life. */
	g.ramp = 12;
	life(m, &g, 60, 0.01, &v);
	assert_false(v.suspect);
	assert_int_equal(v.trend, MS_STOPPED);

	/* Even over the first half. */
	g.ramp = 30;
	life(m, &g, 60, 0.01, &v);
	assert_false(v.suspect);
}

static void test_slow_leak(void **state)
{
	struct memseries *m = *state;
	struct gen g = { .shape = LINEAR, .base = 1024 * MIB, .rate = 100 };
	struct ms_verdict v;

	life(m, &g, 300, 0.1, &v);
	assert_true(v.suspect);
	assert_near(v.rss_slope_kb_s, 100, 0.05);
	assert_true(v.rss_r2 > 0.99);
	/* Half as long: 1.4% of its size, still flagged; 60 s: too little. */
	life(m, &g, 150, 0.1, &v);
	assert_true(v.suspect);
	life(m, &g, 60, 0.1, &v);
	assert_false(v.suspect);
}

static void test_jitter_on_flat(void **state)
{
	struct memseries *m = *state;
	struct gen g = { .shape = JITTER, .base = 2048 * MIB, .amp = 3 * MIB, .period = 0.5 };
	struct ms_verdict v;

	life(m, &g, 60, 0.05, &v);
	assert_true(m->n > 50);
	assert_false(v.suspect);
	assert_int_equal(v.trend, MS_FLAT);
	assert_true(v.rss_r2 < 0.5);

	/* The same jitter on a small process frees a large part of it. */
	g.base = 10 * MIB;
	life(m, &g, 60, 0.05, &v);
	assert_false(v.suspect);
}

static void test_few_points(void **state)
{
	struct memseries *m = *state;
	struct ms_verdict v;

	ms_add(m, BASE_NS, 10 * 1024, 20000);
	ms_add(m, BASE_NS + 30 * SEC, 50 * 1024, 60000);
	ms_add(m, BASE_NS + 60 * SEC, 90 * 1024, 100000);
	ms_verdict(m, m->last_ns, 0, &v);
	assert_false(v.suspect);
	assert_int_equal(v.trend, MS_TOO_FEW);
	assert_string_equal(v.why, "too few changes");
	assert_true(v.rss_slope_kb_s > 0);
	/* A fourth level makes it one. */
	ms_add(m, BASE_NS + 90 * SEC, 130 * 1024, 140000);
	ms_verdict(m, m->last_ns + SEC, 0, &v);
	assert_true(v.suspect);
}

static void test_too_short(void **state)
{
	struct memseries *m = *state;
	struct gen g = { .shape = LINEAR, .base = 20 * MIB, .rate = 10 * MIB };
	struct ms_verdict v;

	life(m, &g, 8, 0.01, &v);
	assert_false(v.suspect);
	assert_int_equal(v.trend, MS_TOO_SHORT);
	assert_string_equal(v.why, "too short");
	assert_near(v.rss_slope_kb_s, 10 * MIB, 0.05);
	/* Nothing at all. */
	ms_init(m);
	ms_verdict(m, 5 * SEC, 0, &v);
	assert_false(v.suspect);
	assert_int_equal(v.trend, MS_TOO_SHORT);
	assert_int_equal(v.span_ns, 0);
}

static void test_leak_with_gc_dips(void **state)
{
	struct memseries *m = *state;
	/* +1 MiB/s, 2 MiB freed for the last second of every 10. */
	struct gen g = { .shape = GC_DIPS, .base = 50 * MIB, .rate = MIB, .step = 2 * MIB,
			 .period = 10 };
	struct ms_verdict v;

	life(m, &g, 120, 0.01, &v);
	assert_true(v.suspect);
	/* The reported peak before a free may be up to 1 MiB under the true one. */
	assert_true(v.rss_drawdown_kb >= 1 * MIB);
}

/* A leak after a big start-up allocation: the whole life fits badly, its
 * later half is a clean line. */
static void test_startup_then_leak(void **state)
{
	struct memseries *m = *state;
	struct gen g = { .shape = RAMP_LEAK, .base = 10 * MIB, .amp = 500 * MIB, .ramp = 5,
			 .rate = MIB };
	struct ms_verdict v;

	life(m, &g, 120, 0.01, &v);
	assert_true(v.suspect);
	assert_int_equal(v.span_ns, 60 * SEC);
	assert_near(v.rss_slope_kb_s, MIB, 0.05);
}

/* Flat for a minute, then a leak: flagged. */
static void test_hockey_stick(void **state)
{
	struct memseries *m = *state;
	struct gen g = { .shape = HOCKEY, .base = 100 * MIB, .ramp = 60, .rate = MIB };
	struct ms_verdict v;

	life(m, &g, 120, 0.01, &v);
	assert_true(v.suspect);
}

/* VSIZE is fitted and reported; RSS alone decides. */
static void test_vsize_only(void **state)
{
	struct memseries *m = *state;
	struct ms_verdict v;

	for (unsigned i = 0; i <= 60; i++)
		ms_add(m, BASE_NS + i * SEC, 100 * 1024 + (i % 2) * 1024, 500000 + 2048 * i);
	ms_verdict(m, m->last_ns, 0, &v);
	assert_false(v.suspect);
	assert_near(v.vsize_slope_kb_s, 2048, 0.01);
	assert_true(v.vsize_r2 > 0.99);
	assert_int_equal(m->vsize_max_kb, 500000 + 2048 * 60);
}

/* ---- windows ---- */

static void test_window(void **state)
{
	struct memseries *m = *state;
	struct gen saw = { .shape = SAW, .base = 50 * MIB, .amp = 200 * MIB, .period = 10 };
	struct ms_verdict v;

	/* Ten minutes of sawtooth, then two minutes of leak. */
	feed(m, NULL, &saw, 600, 0.01, MIB);
	uint64_t t0 = m->last_ns, rss0 = m->rss_last_kb;

	for (unsigned i = 1; i <= 120; i++)
		ms_add(m, t0 + i * SEC, rss0 + i * 1024, 1000000);
	ms_verdict(m, m->last_ns, 100 * SEC, &v);
	assert_true(v.suspect);
	assert_int_equal(v.span_ns, 100 * SEC);
	assert_near(v.rss_slope_kb_s, 1024, 0.1);
	ms_verdict(m, m->last_ns, 0, &v);
	assert_false(v.suspect);

	/* The leak stopped five minutes ago: the last value is held. */
	ms_verdict(m, m->last_ns + 300 * SEC, 100 * SEC, &v);
	assert_false(v.suspect);
	assert_int_equal(v.trend, MS_FLAT);
	ms_verdict(m, m->last_ns + 300 * SEC, 400 * SEC, &v);
	assert_false(v.suspect);
	assert_int_equal(v.trend, MS_STOPPED);
	/* A window longer than the life is the whole life. */
	ms_verdict(m, m->last_ns, 100000 * SEC, &v);
	assert_int_equal(v.span_ns, 720 * SEC);
}

/* ---- bounded history ---- */

static void assert_points_sane(const struct memseries *m)
{
	assert_true(m->n >= 1 && m->n <= MS_POINTS);
	assert_int_equal(m->pt[0].ts_ns, m->first_ns);
	for (unsigned i = 1; i < m->n; i++)
		assert_true(m->pt[i].ts_ns >= m->pt[i - 1].ts_ns);
	assert_int_equal(m->pt[m->n - 1].ts_ns, m->last_ns);
	assert_int_equal(m->pt[m->n - 1].rss_kb, m->rss_last_kb);
	assert_int_equal(m->pt[m->n - 1].vsize_kb, m->vsize_last_kb);
}

/* The downsampled series gives the verdict that every event would. */
static void check_downsampled(struct memseries *m, const struct gen *g, double dur, double dt,
			      double thr)
{
	struct events ev = { 0 };
	struct ms_verdict v;
	struct ms_fit f;

	ms_init(m);
	size_t n = feed(m, &ev, g, dur, dt, thr);

	assert_true(n >= 100000);
	assert_points_sane(m);
	ms_verdict(m, m->last_ns, 0, &v);

	struct ms_view view = {
		.base = ev.p, .n = ev.n, .first = 0, .cap = ev.n, .stride = sizeof(ev.p[0]),
		.ts_off = offsetof(struct ms_point, ts_ns),
		.y_off = offsetof(struct ms_point, rss_kb), .drop_off = MS_NO_FIELD,
	};
	enum ms_trend t = ms_judge_window(&view, m->first_ns, m->last_ns, &ms_rss_rules, &f);

	if (v.trend != t)
		fail_msg("shape %d: downsampled says %s, every event says %s", g->shape, v.why,
			 ms_trend_str(t));
	assert_int_equal(v.span_ns, f.span_ns);
	if (v.suspect) {
		assert_near(v.rss_slope_kb_s, f.slope, 0.02);
		assert_true(fabs(v.rss_r2 - f.r2) < 0.02);
	}
	free(ev.p);
}

static void test_downsampling_keeps_verdicts(void **state)
{
	struct memseries *m = *state;
	struct gen lin = { .shape = LINEAR, .base = 20 * MIB, .rate = 100 * MIB };
	struct gen stairs = { .shape = STAIRS, .base = 20 * MIB, .step = 8 * MIB, .period = 5 };
	struct gen saw = { .shape = SAW, .base = 5 * MIB, .amp = 200 * MIB, .period = 10 };
	struct gen slow = { .shape = LINEAR, .base = 1024 * MIB, .rate = 100 };
	struct gen jit = { .shape = JITTER, .base = 2048 * MIB, .amp = 3 * MIB, .period = 0.5 };
	struct gen ramp = { .shape = RAMP, .base = 10 * MIB, .amp = 120000 * MIB, .ramp = 100 };
	struct gen creep = {
		.shape = SAW, .base = 50 * MIB, .amp = 200 * MIB, .creep = 2 * MIB, .period = 10,
	};

	check_downsampled(m, &lin, 1100, 0.001, MIB);
	assert_true(m->rss_max_kb == m->rss_last_kb);
	check_downsampled(m, &stairs, 510000, 1, MIB);
	check_downsampled(m, &saw, 5500, 0.01, MIB);
	check_downsampled(m, &slow, 1200000, 1, MIB);
	check_downsampled(m, &jit, 80000, 0.5, MIB);
	check_downsampled(m, &ramp, 1000, 0.001, MIB);
	check_downsampled(m, &creep, 5500, 0.01, MIB);
}

/* A sawtooth whose cycles line up with the buckets, each bucket's last event
 * at a trough that creeps up: kept last values alone would show a clean
 * staircase. The drops merged away keep it a sawtooth. */
static void test_downsampling_keeps_frees(void **state)
{
	struct memseries *m = *state;
	const uint64_t P = 1ULL << 30; /* ns */
	struct ms_verdict v;

	/* 256 events in 255 ns: the first buckets are 2 ns, then powers of two
	 * times that, aligned on the first event, like the cycles. */
	for (unsigned i = 0; i < MS_POINTS; i++)
		ms_add(m, BASE_NS + i, 100 * 1024, 0);
	assert_int_equal(m->min_gap_ns, 0);
	for (uint64_t c = 0; c < 300; c++) {
		uint64_t trough = 100 * 1024 + c * 1024;

		for (uint64_t j = 1; j < 200; j++)
			ms_add(m, BASE_NS + c * P + j * (P / 200), trough + j * 1024, 0);
		ms_add(m, BASE_NS + c * P + P - 1, trough + 1024, 0);
	}
	assert_true(m->min_gap_ns >= P);
	assert_int_equal(m->min_gap_ns & (m->min_gap_ns - 1), 0);
	/* Every point kept is a cycle's last event, at its trough. */
	for (unsigned i = 1; i < m->n; i++) {
		uint64_t c = (m->pt[i].ts_ns - BASE_NS) / P;

		assert_int_equal(m->pt[i].ts_ns, BASE_NS + c * P + P - 1);
		assert_int_equal(m->pt[i].rss_kb, 100 * 1024 + (c + 1) * 1024);
	}
	assert_points_sane(m);
	ms_verdict(m, m->last_ns, 0, &v);
	assert_false(v.suspect);
	assert_int_equal(v.trend, MS_SAWTOOTH);
	assert_true(v.rss_drawdown_kb >= 198 * 1024);
}

static void test_exact_max_and_last(void **state)
{
	struct memseries *m = *state;
	uint64_t ts = BASE_NS;

	for (unsigned i = 0; i < 100000; i++) {
		uint64_t rss = 1000 + (i % 1000) * 10, vsize = 5000 + i;

		if (i == 54321)
			rss = 987654321, vsize = 1;
		if (i == 12345)
			vsize = 123456789;
		ts += 1 + splitmix(i) % (10 * MS);
		ms_add(m, ts, rss, vsize);
		assert_true(m->n <= MS_POINTS);
	}
	assert_points_sane(m);
	assert_int_equal(m->rss_max_kb, 987654321);
	assert_int_equal(m->vsize_max_kb, 123456789);
	assert_int_equal(m->rss_last_kb, 1000 + 999 * 10);
	assert_int_equal(m->vsize_last_kb, 5000 + 99999);
	assert_int_equal(m->last_ns, ts);
	assert_int_equal(m->pt[0].rss_kb, 1000);
	assert_int_equal(m->pt[0].vsize_kb, 5000);
}

/* Events out of order (per-CPU timestamps) or at the same time. */
static void test_out_of_order_and_same_time(void **state)
{
	struct memseries *m = *state;

	ms_add(m, BASE_NS + 10 * SEC, 1000, 1);
	ms_add(m, BASE_NS + 9 * SEC, 2000, 2);
	assert_int_equal(m->last_ns, BASE_NS + 10 * SEC);
	assert_int_equal(m->rss_last_kb, 2000);
	for (unsigned i = 0; i < 1000; i++)
		ms_add(m, BASE_NS + 11 * SEC, 3000 + i, 3);
	assert_int_equal(m->n, 3);
	assert_int_equal(m->pt[2].rss_kb, 3999);
	for (unsigned i = 0; i < 100000; i++)
		ms_add(m, BASE_NS + 11 * SEC + (i % 2 ? i : i / 2), i, i);
	assert_points_sane(m);
	assert_int_equal(m->rss_max_kb, 99999);
	assert_int_equal(m->first_ns, BASE_NS + 10 * SEC);
	/* A 1 ns window is too short. */
	struct ms_verdict v;

	ms_verdict(m, 0, 1, &v);
	assert_false(v.suspect);
}

/* A plateau whose exit event catches up the per-CPU counts (+384 kB, less
 * than the reporting threshold) has stopped growing: not "irregular". */
static void test_plateau_exit_catch_up(void **state)
{
	struct memseries *m = *state;
	struct ms_verdict v;

	for (int i = 0; i <= 64; i++)
		ms_add(m, BASE_NS + (uint64_t)i * 3400 * 1000, (uint64_t)i * 1024 + 1080, 68144);
	ms_add(m, BASE_NS + 14 * SEC, 67004, 68144);
	ms_verdict(m, BASE_NS + 14 * SEC, 0, &v);
	assert_false(v.suspect);
	assert_int_equal(v.trend, MS_STOPPED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_fit_one_step),
		T(test_plateau_exit_catch_up),
		T(test_fit_matches_grid),
		T(test_fit_ring),
		T(test_linear),
		T(test_staircase),
		T(test_sawtooth),
		T(test_sawtooth_rising_baseline),
		T(test_flat_large),
		T(test_ramp_then_flat),
		T(test_slow_leak),
		T(test_jitter_on_flat),
		T(test_few_points),
		T(test_too_short),
		T(test_leak_with_gc_dips),
		T(test_startup_then_leak),
		T(test_hockey_stick),
		T(test_vsize_only),
		T(test_window),
		T(test_downsampling_keeps_verdicts),
		T(test_downsampling_keeps_frees),
		T(test_exact_max_and_last),
		T(test_out_of_order_and_same_time),
#undef T
	};

	return cmocka_run_group_tests_name("memseries", tests, NULL, NULL);
}
