/*
 * The HTML report page: one file, inline CSS and SVG, no script, nothing
 * fetched. Each chart is a step plot (a value holds until the next point)
 * against wall-clock UTC, with nice ticks, units, gridlines and an HTML
 * legend under it. Series of any length are drawn with a bounded number of
 * path vertices: points are binned per horizontal pixel, keeping the
 * extremes so that a one-sample spike still shows.
 *
 * Numbers are formatted by hand, not with "%f": a caller may have set a
 * locale whose decimal separator is a comma, which would break the SVG.
 */
#include "out_html.h"

#include <errno.h>
#include <math.h>
#include <time.h>

#include "util.h"

/*
 * Okabe-Ito's colour-blind-safe set first (without its black, which reads
 * as an axis, and its yellow, invisible on white), then Tableau's brown and
 * Paul Tol's indigo, olive, wine, teal and sand for the rare chart with
 * more processes. The first three (used, used - cache, swap on the system
 * chart) are the most distinct for every kind of colour vision.
 *
 *    0 #0072b2 blue             6 #9c755f brown
 *    1 #e69f00 orange           7 #332288 indigo
 *    2 #009e73 bluish green     8 #999933 olive
 *    3 #d55e00 vermillion       9 #882255 wine
 *    4 #cc79a7 reddish purple  10 #44aa99 teal
 *    5 #56b4e9 sky blue        11 #ddcc77 sand
 *
 * No grey: anti-aliased text passes through every grey, so a screenshot
 * test could not tell a grey line from a heading. None of them is the
 * page's own ink either (text #1f2328 and #57606a, axes #8c959f, grid
 * #e4e7eb, borders #d0d7de, background #f6f8fa and #ffffff).
 */
const uint32_t html_palette[] = {
	0x0072b2, 0xe69f00, 0x009e73, 0xd55e00, 0xcc79a7, 0x56b4e9,
	0x9c755f, 0x332288, 0x999933, 0x882255, 0x44aa99, 0xddcc77,
};
const size_t html_palette_n = sizeof(html_palette) / sizeof(html_palette[0]);

#define PX0 HTML_PLOT_LEFT
#define PX1 (HTML_CHART_W - HTML_PLOT_RIGHT)
#define PY0 HTML_PLOT_TOP
#define PY1 (HTML_CHART_H - HTML_PLOT_BOTTOM)

/* Room per x tick label ("HH:MM:SS" at 13 px is about 60 units wide). */
#define X_TICK_ROOM 92
/* The y axis gets about this many intervals ({1, 2, 5} steps make it 3 to 8). */
#define Y_INTERVALS 5
/* Headroom above the largest value before rounding up to a tick. */
#define Y_HEADROOM 1.05

static const char page_css[] =
	"*{box-sizing:border-box}"
	"body{margin:0;background:#f6f8fa;color:#1f2328;"
	"font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',"
	"'Liberation Sans',sans-serif}"
	"main{max-width:1000px;margin:0 auto;padding:24px 16px 40px}"
	"h1{font-size:24px;margin:0 0 2px;font-weight:600}"
	".sub{margin:0 0 20px;color:#57606a}"
	"section{background:#fff;border:1px solid #d0d7de;border-radius:6px;"
	"padding:14px 16px 12px;margin:0 0 18px}"
	"h2{font-size:17px;margin:0;font-weight:600}"
	".note{margin:2px 0 0;color:#57606a;font-size:13px}"
	"svg.plot{display:block;width:100%;height:auto;margin-top:8px}"
	".plot text{font-size:13px;fill:#57606a}"
	".plot .yt{text-anchor:end}"
	".plot .xt,.plot .at{text-anchor:middle}"
	".plot .at{fill:#1f2328}"
	".grid{stroke:#e4e7eb;stroke-width:1;fill:none}"
	".axis{stroke:#8c959f;stroke-width:1;fill:none}"
	".lines path{fill:none;stroke-width:2;stroke-linejoin:miter}"
	".legend{list-style:none;margin:8px 0 0;padding:0;display:grid;"
	"grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:4px 24px;"
	"font-size:13px}"
	".legend li{display:flex;align-items:center;gap:8px;min-width:0}"
	".legend svg{flex:none}"
	".legend .lb{overflow-wrap:anywhere}"
	".legend .mx{color:#57606a;white-space:nowrap}"
	".empty{margin-top:10px;padding:36px 16px;border:1px dashed #afb8c1;"
	"border-radius:6px;text-align:center;color:#57606a;background:#f6f8fa}"
	"pre{margin:8px 0 0;overflow-x:auto;"
	"font:12.5px/1.4 ui-monospace,'DejaVu Sans Mono','Liberation Mono',monospace}";

/* The length of the valid UTF-8 sequence at p (1 to 4), or 0: overlong
 * forms, surrogates and code points past U+10FFFF are invalid. p is
 * NUL-terminated, and NUL is no continuation byte, so reads stop there. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
				       (p[3] & 0xc0) == 0x80 ?
			       4 :
			       0;
	}
	return 0;
}

/* Write s as HTML text, fit for element content and quoted attributes:
 * markup characters as entities, control characters (C0, DEL, C1) as '?',
 * each byte that is not part of valid UTF-8 as U+FFFD. pre keeps newlines
 * and tabs, for the <pre> summary. NULL writes nothing. */
static void put_text(FILE *f, const char *s, bool pre)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		size_t len;

		if (*p < 0x80) {
			switch (*p) {
			case '<':
				fputs("&lt;", f);
				break;
			case '>':
				fputs("&gt;", f);
				break;
			case '&':
				fputs("&amp;", f);
				break;
			case '"':
				fputs("&quot;", f);
				break;
			case '\'':
				fputs("&#39;", f);
				break;
			default:
				if ((*p < 0x20 || *p == 0x7f) && !(pre && (*p == '\n' || *p == '\t')))
					putc('?', f);
				else
					putc(*p, f);
			}
			p++;
			continue;
		}
		len = utf8_len(p);
		if (!len) {
			fputs("\xef\xbf\xbd", f);
			p++;
		} else if (p[0] == 0xc2 && p[1] < 0xa0) {
			putc('?', f); /* U+0080..U+009F, the C1 controls */
			p += len;
		} else {
			fwrite(p, 1, len, f);
			p += len;
		}
	}
}

/* v with dec decimals, whatever the locale. */
static void fmt_fixed(char *buf, size_t len, double v, int dec)
{
	long long scale = 1, r;

	if (dec < 0)
		dec = 0;
	if (dec > 6)
		dec = 6;
	for (int i = 0; i < dec; i++)
		scale *= 10;
	r = llround(fabs(v) * (double)scale);
	if (dec > 0)
		snprintf(buf, len, "%s%lld.%0*lld", v < 0 && r ? "-" : "", r / scale, dec,
			 r % scale);
	else
		snprintf(buf, len, "%s%lld", v < 0 && r ? "-" : "", r);
}

/* A coordinate in tenths of a user unit: paths are written with one
 * decimal, and comparing tenths tells which moves would be no-ops. */
static long tenths(double v)
{
	return lround(v * 10);
}

static void put_tenths(FILE *f, long t)
{
	if (t < 0) {
		putc('-', f);
		t = -t;
	}
	fprintf(f, "%ld.%ld", t / 10, t % 10);
}

static void put_color(FILE *f, int color)
{
	size_t n = html_palette_n;
	/* Modulo on the absolute value: a negative index still picks a colour. */
	size_t i = color < 0 ? (size_t)(-(long long)color) % n : (size_t)color % n;

	fprintf(f, "#%06x", (unsigned)html_palette[i]);
}

/* The binary units of the memory axis, from KiB. */
static const struct {
	double kb;
	const char *name;
} kb_units[] = {
	{ 1.0, "KiB" },
	{ 1024.0, "MiB" },
	{ 1024.0 * 1024, "GiB" },
	{ 1024.0 * 1024 * 1024, "TiB" },
};
#define N_KB_UNITS (sizeof(kb_units) / sizeof(kb_units[0]))

static size_t kb_unit_for(double kb)
{
	size_t u = 0;

	while (u + 1 < N_KB_UNITS && kb >= kb_units[u + 1].kb)
		u++;
	return u;
}

/* A value for the legend: counts as integers, memory with three
 * significant digits in the largest unit that keeps it >= 1. */
static void fmt_value(char *buf, size_t len, enum html_unit unit, double v)
{
	char num[32];
	size_t u;
	double x;

	if (unit == HTML_COUNT) {
		fmt_fixed(buf, len, v, 0);
		return;
	}
	u = kb_unit_for(v);
	x = v / kb_units[u].kb;
	fmt_fixed(num, sizeof(num), x, u == 0 || x >= 100 ? 0 : x >= 10 ? 1 : 2);
	snprintf(buf, len, "%s %s", num, kb_units[u].name);
}

/* The x range of every chart, and the clock to label it. */
struct xrange {
	uint64_t t0, t1; /* boot time, t1 > t0 */
	uint64_t wall;	 /* wall clock ns = boot ns + wall */
};

static double x_of(const struct xrange *xr, uint64_t ts)
{
	if (ts <= xr->t0)
		return PX0;
	if (ts >= xr->t1)
		return PX1;
	return PX0 + (double)(PX1 - PX0) * (double)(ts - xr->t0) / (double)(xr->t1 - xr->t0);
}

/* The y axis: ticks at 0, step, 2 step ... top, in values of the series
 * (KiB or counts); labels show tick / div with dec decimals and the unit. */
struct yaxis {
	double step, top, div;
	int dec;
	const char *unit; /* "" for counts */
};

/* A {1, 2, 5} x 10^k step near raw (> 0), and k. */
static double nice_step(double raw, int *k)
{
	int e = (int)floor(log10(raw));
	double p = pow(10, e), m = raw / p;

	if (m < 1.5)
		m = 1;
	else if (m < 3.5)
		m = 2;
	else if (m < 7.5)
		m = 5;
	else {
		m = 1;
		p *= 10;
		e++;
	}
	*k = e;
	return m * p;
}

static void y_axis(struct yaxis *ya, enum html_unit unit, double vmax)
{
	double want, raw;
	int k = 0;

	if (!(vmax > 0))
		vmax = 0;
	want = vmax * Y_HEADROOM;
	ya->div = 1;
	ya->unit = "";
	if (unit == HTML_KB) {
		size_t u = kb_unit_for(want);

		ya->div = kb_units[u].kb;
		ya->unit = kb_units[u].name;
	}
	raw = want / ya->div / Y_INTERVALS;
	/* Counts and KiB are whole numbers: a step below 1 would only draw
	 * ticks between values that cannot occur. */
	if (raw <= 1 && ya->div == 1) {
		ya->step = 1;
		k = 0;
	} else {
		ya->step = nice_step(raw, &k);
	}
	ya->dec = k < 0 ? -k : 0;
	ya->step *= ya->div;
	ya->top = ceil(want / ya->step) * ya->step;
	if (ya->top < ya->step)
		ya->top = ya->step;
}

static double y_of(const struct yaxis *ya, double v)
{
	if (!(v > 0))
		v = 0;
	if (v > ya->top)
		v = ya->top;
	return PY1 - (double)(PY1 - PY0) * v / ya->top;
}

/* The largest value series s shows in the window: the one holding at t0
 * (the last point at or before it) and those inside. false if none. */
static bool series_max(const struct html_series *s, const struct xrange *xr, double *max)
{
	bool any = false, held = false;
	double hold = 0;

	*max = 0;
	for (size_t i = 0; i < s->n && s->ts_ns[i] <= xr->t1; i++) {
		double v = s->y[i];

		if (!isfinite(v))
			continue;
		if (s->ts_ns[i] <= xr->t0) {
			hold = v;
			held = true;
			continue;
		}
		if (!any || v > *max)
			*max = v;
		any = true;
	}
	if (held && (!any || hold > *max))
		*max = hold;
	return any || held;
}

/* The pen of a path: writes H/V moves, skipping those that go nowhere. */
struct pen {
	FILE *f;
	long x, y; /* tenths */
};

static void pen_h(struct pen *p, long x)
{
	if (x == p->x)
		return;
	putc('H', p->f);
	put_tenths(p->f, x);
	p->x = x;
}

static void pen_v(struct pen *p, long y)
{
	if (y == p->y)
		return;
	putc('V', p->f);
	put_tenths(p->f, y);
	p->y = y;
}

/* The points of one pixel column, in tenths: where it starts, the extremes
 * and the value it leaves with. */
struct column {
	bool used;
	long col, x, lo, hi, last; /* lo/hi are y in pixels: lo is the top */
};

/* Draw a column: step across to it, then cover every value it held
 * (including the one the pen arrives with) with vertical moves, ending on
 * the last. At most one H and three V per column, whatever the points. */
static void column_flush(struct pen *p, struct column *c)
{
	long lo = c->lo < p->y ? c->lo : p->y, hi = c->hi > p->y ? c->hi : p->y;

	pen_h(p, c->x);
	if (lo < p->y && hi > p->y) {
		/* Visit the extreme farther from the last value first. */
		if (c->last - lo < hi - c->last) {
			pen_v(p, hi);
			pen_v(p, lo);
		} else {
			pen_v(p, lo);
			pen_v(p, hi);
		}
	} else if (lo < p->y) {
		pen_v(p, lo);
	} else if (hi > p->y) {
		pen_v(p, hi);
	}
	pen_v(p, c->last);
	c->used = false;
}

/* The d attribute of s as a step path: from t0 (if a point holds there) or
 * its first point inside the window, to t1. The caller knows (series_max)
 * that some point shows. */
static void series_path(FILE *f, const struct html_series *s, const struct xrange *xr,
			const struct yaxis *ya)
{
	struct pen pen = { .f = f };
	struct column c = { .used = false };
	bool started = false, held = false;
	double hold = 0;
	size_t i = 0;

	for (; i < s->n && s->ts_ns[i] <= xr->t0; i++) {
		if (isfinite(s->y[i])) {
			hold = s->y[i];
			held = true;
		}
	}
	if (held) {
		pen.x = tenths(PX0);
		pen.y = tenths(y_of(ya, hold));
		started = true;
		fputs("M", f);
		put_tenths(f, pen.x);
		putc(',', f);
		put_tenths(f, pen.y);
	}
	for (; i < s->n && s->ts_ns[i] <= xr->t1; i++) {
		long x, y, col;

		if (!isfinite(s->y[i]))
			continue;
		x = tenths(x_of(xr, s->ts_ns[i]));
		y = tenths(y_of(ya, s->y[i]));
		col = (x - tenths(PX0)) / 10;
		if (!started) {
			pen.x = x;
			pen.y = y;
			started = true;
			fputs("M", f);
			put_tenths(f, x);
			putc(',', f);
			put_tenths(f, y);
		}
		if (c.used && col != c.col)
			column_flush(&pen, &c);
		if (!c.used) {
			c = (struct column){
				.used = true, .col = col, .x = x, .lo = y, .hi = y, .last = y
			};
			continue;
		}
		c.lo = y < c.lo ? y : c.lo;
		c.hi = y > c.hi ? y : c.hi;
		c.last = y;
	}
	if (c.used)
		column_flush(&pen, &c);
	if (started)
		pen_h(&pen, tenths(PX1));
}

/* x tick steps, ms: the first that leaves room for every label wins. */
static const uint64_t x_steps_ms[] = {
	100,	  200,	    500,      1000,	 2000,	    5000,      10000,	  15000,
	30000,	  60000,    120000,   300000,	 600000,    900000,    1800000,	  3600000,
	7200000,  10800000, 21600000, 43200000,	 86400000,  172800000, 604800000, 1209600000,
	2419200000, 7776000000, 31536000000, 315360000000, 3153600000000,
};
#define N_X_STEPS (sizeof(x_steps_ms) / sizeof(x_steps_ms[0]))

static uint64_t x_step_ns(const struct xrange *xr)
{
	uint64_t span = xr->t1 - xr->t0, nmax = (PX1 - PX0) / X_TICK_ROOM;
	size_t i;

	for (i = 0; i + 1 < N_X_STEPS; i++)
		if (span <= x_steps_ms[i] * NSEC_PER_MSEC * (nmax - 1))
			break;
	return x_steps_ms[i] * NSEC_PER_MSEC;
}

/* a + b, or UINT64_MAX past it: a capture's times are whatever its file
 * says, and a tick loop that wraps never ends. */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The first tick, in wall-clock ns: the first multiple of step at or after
 * t0, so that ticks fall on round UTC times. */
static uint64_t x_first_tick(const struct xrange *xr, uint64_t step)
{
	uint64_t w0 = sat_add(xr->t0, xr->wall);

	if (w0 > UINT64_MAX - (step - 1))
		return UINT64_MAX;
	return (w0 + step - 1) / step * step;
}

static bool utc_of(uint64_t wall_ns, struct tm *tm)
{
	time_t secs = (time_t)(wall_ns / NSEC_PER_SEC);

	return gmtime_r(&secs, tm) != NULL;
}

/* "HH:MM:SS", with tenths when ticks are less than a second apart. */
static void fmt_tick_time(char *buf, size_t len, uint64_t wall_ns, uint64_t step)
{
	struct tm tm;

	if (!utc_of(wall_ns, &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	if (step < NSEC_PER_SEC)
		snprintf(buf, len, "%02d:%02d:%02d.%u", tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (unsigned)(wall_ns % NSEC_PER_SEC / (NSEC_PER_SEC / 10)));
	else
		snprintf(buf, len, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void put_xy_attr(FILE *f, double x, double y)
{
	fputs(" x=\"", f);
	put_tenths(f, tenths(x));
	fputs("\" y=\"", f);
	put_tenths(f, tenths(y));
	putc('"', f);
}

/* Gridlines, axes and tick labels. */
static void chart_axes(FILE *f, const struct xrange *xr, const struct yaxis *ya)
{
	uint64_t step = x_step_ns(xr), first = x_first_tick(xr, step);
	uint64_t wend = sat_add(xr->t1, xr->wall);
	int last_yday = -1, last_year = -1;
	char buf[48];
	int nticks = 0;

	/* One path for all gridlines: horizontal at y ticks (not at 0, the
	 * axis), vertical at x ticks. */
	fputs("<path class=\"grid\" d=\"", f);
	for (int i = 1; i * ya->step <= ya->top * (1 + 1e-9); i++) {
		fprintf(f, "M%d,", PX0);
		put_tenths(f, tenths(y_of(ya, i * ya->step)));
		fprintf(f, "H%d", PX1);
	}
	for (uint64_t w = first; w <= wend; w += step) {
		putc('M', f);
		put_tenths(f, tenths(x_of(xr, w - xr->wall)));
		fprintf(f, ",%dV%d", PY0, PY1);
		if (wend - w < step)
			break; /* the next would pass wend, or wrap */
	}
	fputs("\"/>\n", f);
	/* The axes, with tick marks under the x axis. */
	fprintf(f, "<path class=\"axis\" d=\"M%d,%dV%dH%d", PX0, PY0, PY1, PX1);
	for (uint64_t w = first; w <= wend; w += step) {
		putc('M', f);
		put_tenths(f, tenths(x_of(xr, w - xr->wall)));
		fprintf(f, ",%dv5", PY1);
		if (wend - w < step)
			break;
	}
	fputs("\"/>\n", f);

	for (int i = 0; i * ya->step <= ya->top * (1 + 1e-9); i++) {
		char num[32];

		if (i == 0) {
			snprintf(buf, sizeof(buf), "0");
		} else {
			fmt_fixed(num, sizeof(num), i * ya->step / ya->div, ya->dec);
			snprintf(buf, sizeof(buf), "%s%s%s", num, *ya->unit ? " " : "", ya->unit);
		}
		fputs("<text class=\"yt\"", f);
		put_xy_attr(f, PX0 - 8, y_of(ya, i * ya->step) + 4.5);
		fprintf(f, ">%s</text>\n", buf);
	}

	/* Time labels; the date goes on a second line under the first one
	 * and wherever it changes (a capture across midnight). */
	for (uint64_t w = first; w <= wend; w += step) {
		double x = x_of(xr, w - xr->wall);
		struct tm tm;

		fmt_tick_time(buf, sizeof(buf), w, step);
		fputs("<text class=\"xt\"", f);
		put_xy_attr(f, x, PY1 + 19);
		fprintf(f, ">%s</text>\n", buf);
		if (utc_of(w, &tm) && (tm.tm_yday != last_yday || tm.tm_year != last_year)) {
			strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
			fputs("<text class=\"xt\"", f);
			put_xy_attr(f, x, PY1 + 34);
			fprintf(f, ">%s</text>\n", buf);
			last_yday = tm.tm_yday;
			last_year = tm.tm_year;
		}
		nticks++;
		if (wend - w < step)
			break;
	}
	/* A window shorter than the smallest step has no tick: say when it
	 * starts instead. */
	if (!nticks) {
		struct tm tm;
		uint64_t w0 = sat_add(xr->t0, xr->wall);

		if (utc_of(w0, &tm)) {
			strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
			fprintf(f,
				"<text class=\"xt\" style=\"text-anchor:start\" x=\"%d\" y=\"%d\">"
				"%s.%03u</text>\n",
				PX0, PY1 + 19, buf, (unsigned)(w0 % NSEC_PER_SEC / NSEC_PER_MSEC));
		}
	}

	fprintf(f, "<text class=\"at\" x=\"%d\" y=\"%d\">time (UTC)</text>\n", (PX0 + PX1) / 2,
		HTML_CHART_H - 5);
	fprintf(f, "<text class=\"at\" transform=\"translate(18,%d) rotate(-90)\">%s</text>\n",
		(PY0 + PY1) / 2, *ya->unit ? "memory" : "count");
}

static void legend_swatch(FILE *f, const struct html_series *s)
{
	fputs("<svg width=\"30\" height=\"12\" viewBox=\"0 0 30 12\" aria-hidden=\"true\">"
	      "<path d=\"M1,6H29\" stroke-width=\"3\" stroke=\"",
	      f);
	put_color(f, s->color);
	fputs(s->dashed ? "\" stroke-dasharray=\"7 3\"/></svg>" : "\"/></svg>", f);
}

static void chart_legend(FILE *f, const struct html_chart *c, const struct xrange *xr)
{
	fputs("<ul class=\"legend\">\n", f);
	for (size_t i = 0; i < c->nseries; i++) {
		const struct html_series *s = &c->series[i];
		char buf[48];
		double max;

		fputs("<li>", f);
		legend_swatch(f, s);
		fputs("<span class=\"lb\">", f);
		put_text(f, s->label, false);
		fputs(" <span class=\"mx\">", f);
		if (series_max(s, xr, &max)) {
			fmt_value(buf, sizeof(buf), c->unit, max);
			fprintf(f, "max %s", buf);
		} else {
			fputs("no data", f);
		}
		fputs("</span></span></li>\n", f);
	}
	fputs("</ul>\n", f);
}

static void write_chart(FILE *f, const struct html_chart *c, const struct xrange *xr)
{
	struct yaxis ya;
	double vmax = 0;

	fputs("<section>\n<h2>", f);
	put_text(f, c->title, false);
	fputs("</h2>\n", f);
	if (c->note) {
		fputs("<p class=\"note\">", f);
		put_text(f, c->note, false);
		fputs("</p>\n", f);
	}
	if (!c->nseries) {
		fputs("<div class=\"empty\">", f);
		put_text(f, c->empty, false);
		fputs("</div>\n</section>\n", f);
		return;
	}

	for (size_t i = 0; i < c->nseries; i++) {
		double m;

		if (series_max(&c->series[i], xr, &m) && m > vmax)
			vmax = m;
	}
	y_axis(&ya, c->unit, vmax);

	fprintf(f, "<svg class=\"plot\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", HTML_CHART_W,
		HTML_CHART_H);
	put_text(f, c->title, false);
	fputs("\">\n", f);
	chart_axes(f, xr, &ya);
	/* Steps are horizontal and vertical only: crisp edges keep them sharp
	 * and in their exact colour. */
	fputs("<g class=\"lines\" shape-rendering=\"crispEdges\">\n", f);
	for (size_t i = 0; i < c->nseries; i++) {
		const struct html_series *s = &c->series[i];
		double m;

		if (!series_max(s, xr, &m))
			continue;
		fputs("<path stroke=\"", f);
		put_color(f, s->color);
		fputs(s->dashed ? "\" stroke-dasharray=\"7 3\" d=\"" : "\" d=\"", f);
		series_path(f, s, xr, &ya);
		fputs("\"><title>", f);
		put_text(f, s->label, false);
		fputs("</title></path>\n", f);
	}
	fputs("</g>\n</svg>\n", f);
	chart_legend(f, c, xr);
	fputs("</section>\n", f);
}

int html_write(FILE *f, const struct html_doc *d)
{
	struct xrange xr = { .t0 = d->start_ns, .t1 = d->end_ns, .wall = d->boot_wall_ns };

	/* A window of no length still needs an axis. */
	if (xr.t1 <= xr.t0)
		xr.t1 = xr.t0 + NSEC_PER_SEC;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" "
	      "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	      "<meta name=\"generator\" content=\"zmtrace\">\n<title>",
	      f);
	put_text(f, d->title, false);
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n<h1>", page_css);
	put_text(f, d->title, false);
	fputs("</h1>\n", f);
	if (d->subtitle) {
		fputs("<p class=\"sub\">", f);
		put_text(f, d->subtitle, false);
		fputs("</p>\n", f);
	}
	for (size_t i = 0; i < d->ncharts; i++)
		write_chart(f, &d->charts[i], &xr);
	if (d->summary) {
		fputs("<section>\n<h2>Summary</h2>\n<pre>", f);
		put_text(f, d->summary, true);
		fputs("</pre>\n</section>\n", f);
	}
	fputs("</main>\n</body>\n</html>\n", f);
	if (fflush(f) || ferror(f))
		return -EIO;
	return 0;
}
