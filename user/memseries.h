/*
 * One process's memory over time, in bounded memory, and its leak verdict.
 *
 * The kernel side reports a process's memory only when its RSS has moved by
 * a threshold (1 MiB by default), at exec and at exit: the series is a step
 * function, each value held until the next event. A struct memseries keeps
 * at most MS_POINTS points covering the process's whole life: while there is
 * room every event is a point; when full, time is cut into buckets of
 * min_gap_ns (from the first event on), doubled until the points fit, and
 * each bucket keeps its last event (time, RSS, VSIZE: real observations, so
 * a monotone series stays monotone) plus the largest drop of RSS the merged
 * events hid (so frees inside a bucket still count against a leak verdict).
 * The very first point, the maximum and the last value are kept exactly.
 * Size: about 8 KiB, no allocation.
 *
 * The fit is a time-weighted least squares of the step function: the
 * continuous fit of a line to y(t) over the window, the limit of sampling the
 * step function on an ever finer regular grid, computed exactly from each
 * step's integrals. So a burst of events counts for the little time it
 * covers, and a long plateau for its whole length.
 *
 * The same fit and the same rules serve the system verdict (sysmem.c), on a
 * ring of /proc/meminfo samples, through struct ms_view.
 */
#ifndef ZM_MEMSERIES_H
#define ZM_MEMSERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ms_point {
	uint64_t ts_ns;
	uint64_t rss_kb;   /* the last event of the bucket */
	uint64_t vsize_kb;
	uint64_t drop_kb;  /* largest fall of RSS below its running peak among
			    * the events this point stands for (the peak starts
			    * at the previous point's RSS): frees a merge hid */
};

#define MS_POINTS 256

struct memseries {
	struct ms_point pt[MS_POINTS]; /* pt[0] is the first event, exact */
	unsigned n;
	uint64_t min_gap_ns; /* bucket width; 0 = every event is a point */
	uint64_t open_peak_kb; /* running RSS peak within pt[n - 1]'s bucket */
	uint64_t first_ns, rss_max_kb, vsize_max_kb, rss_last_kb, vsize_last_kb, last_ns;
};

void ms_init(struct memseries *m);
/* An event. A time earlier than the last one is taken as the last one. */
void ms_add(struct memseries *m, uint64_t ts_ns, uint64_t rss_kb, uint64_t vsize_kb);

/* What a series does over a window (see ms_judge for the order of tests). */
enum ms_trend {
	MS_TOO_SHORT,  /* span < min_span_ns */
	MS_TOO_FEW,    /* fewer than min_levels distinct levels */
	MS_FLAT,       /* no meaningful growth */
	MS_SHRINKS,    /* meaningful decline */
	MS_SAWTOOTH,   /* frees a large part of what it grows */
	MS_STOPPED,    /* grew, but not in the last third of the window */
	MS_IRREGULAR,  /* grows, but a line fits badly (R2 too low) */
	MS_STEPS,      /* suspect: grows steadily in a few big steps */
	MS_STEADY,     /* suspect: grows steadily */
};

/* A short static description: "steady growth", "frees memory (sawtooth)"... */
const char *ms_trend_str(enum ms_trend t);
static inline bool ms_trend_grows(enum ms_trend t)
{
	return t == MS_STEPS || t == MS_STEADY;
}

struct ms_verdict {
	double rss_slope_kb_s, rss_r2, vsize_slope_kb_s, vsize_r2;
	uint64_t span_ns;       /* time the fit covers */
	bool suspect;           /* leak suspect */
	const char *why;        /* ms_trend_str(trend) */
	enum ms_trend trend;
	double rss_growth_kb;   /* slope * span */
	double rss_drawdown_kb; /* largest fall below a running peak */
};

/* Verdict over the last window_ns (0 = everything kept) as of now_ns: the
 * last value is held until now_ns (no event = no change). For a process that
 * has exited, pass its last_ns. RSS decides: a process is a suspect when its
 * RSS grows steadily over the window or, failing that, over the window's
 * later half (so a start-up ramp does not hide a leak that follows it). The
 * slopes, R2 and span_ns are those of the fit that decided. */
void ms_verdict(const struct memseries *m, uint64_t now_ns, uint64_t window_ns,
		struct ms_verdict *v);

/* ---- shared machinery: step fit and rules (also used by sysmem.c) ---- */

#define MS_NO_FIELD ((size_t)-1)

/* A read-only step series in an array or ring of structs: element i (0 is
 * the oldest) is at base + ((first + i) % cap) * stride; its time and value
 * are uint64_t fields at ts_off and y_off, times non-decreasing; drop_off is
 * MS_NO_FIELD or a uint64_t field like ms_point's drop_kb. */
struct ms_view {
	const void *base;
	size_t n, first, cap, stride;
	size_t ts_off, y_off, drop_off;
};

struct ms_fit {
	double slope;	     /* y units per second */
	double r2;	     /* 0 when y is constant over the window */
	uint64_t start_ns, span_ns;
	double start, end;   /* the step function at the window's ends */
	double peak;	     /* highest level in the window */
	double growth;	     /* slope * span: the fitted rise */
	double drawdown;     /* largest fall below a running peak */
	double recent_rise;  /* end - level at the start of the last third */
	unsigned levels;     /* distinct consecutive levels held for some time */
};

/* Fit the step function over [start_ns, end_ns] (start clamped to the first
 * element, end to at least start). An empty view gives a zero fit. */
void ms_fit_view(const struct ms_view *v, uint64_t start_ns, uint64_t end_ns, struct ms_fit *f);

struct ms_rules {
	uint64_t min_span_ns;	  /* shorter: MS_TOO_SHORT */
	unsigned min_levels;	  /* fewer: MS_TOO_FEW */
	double min_growth;	  /* fitted rise needed, y units */
	double min_growth_frac;	  /* and this fraction of the starting level */
	double max_drawdown_frac; /* of the rise, more: MS_SAWTOOTH */
	double sawtooth_frac;	  /* without growth, a drawdown of this fraction
				   * of the peak (and >= the needed rise) is a
				   * sawtooth rather than flat */
	double min_recent_frac;	  /* rise in the last third / fitted rise there */
	double min_recent;	  /* and at least this (y units): less is noise,
				   * e.g. RSS catching up per-CPU counts at exit */
	double min_r2;
	unsigned steps_max;	  /* fewer changes than this: MS_STEPS */
};

/* The rules for a process's RSS (kB). */
extern const struct ms_rules ms_rss_rules;

enum ms_trend ms_judge(const struct ms_fit *f, const struct ms_rules *r);
/* Fit and judge [start_ns, end_ns]; when that does not grow and its later
 * half is long enough, fit and judge the later half too and keep that if it
 * grows. *f gets the fit that decided. */
enum ms_trend ms_judge_window(const struct ms_view *v, uint64_t start_ns, uint64_t end_ns,
			      const struct ms_rules *r, struct ms_fit *f);

#endif
