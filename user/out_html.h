/*
 * The HTML report: one self-contained file (inline CSS and SVG, no script,
 * no network) with line charts an operator can read at a glance: axes with
 * units, a legend, a title. The report (report.c) gathers the series; this
 * module only draws.
 */
#ifndef ZM_OUT_HTML_H
#define ZM_OUT_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum html_unit {
	HTML_KB,    /* y values are KiB: ticks in KiB/MiB/GiB */
	HTML_COUNT, /* y values are counts: integer ticks */
};

/* One line. Points in time order; the value holds until the next point
 * (steps) and the last one until the chart's end. */
struct html_series {
	const char *label; /* legend text (escaped by the writer) */
	size_t n;
	const uint64_t *ts_ns; /* CLOCK_BOOTTIME, as in the events */
	const double *y;
	bool dashed; /* e.g. VSIZE beside RSS */
	int color;   /* index into the palette; series sharing one process share it */
};

struct html_chart {
	const char *title;  /* "System memory" */
	const char *note;   /* a line under the title, or NULL */
	enum html_unit unit;
	const struct html_series *series;
	size_t nseries;
	const char *empty; /* shown instead of the chart when nseries is 0 */
};

struct html_doc {
	const char *title;     /* <title> and the page heading */
	const char *subtitle;  /* host, kernel, time range: one line, or NULL */
	uint64_t start_ns, end_ns; /* the x axis of every chart (boot time) */
	uint64_t boot_wall_ns; /* wall clock = boot time + this: x ticks as HH:MM:SS */
	const struct html_chart *charts;
	size_t ncharts;
	const char *summary; /* the text report, shown preformatted below, or NULL */
};

/* The series colours, 0xRRGGBB, written as "#rrggbb"; a series' color is
 * taken modulo html_palette_n. Const data: tests and the screenshot check
 * (tools/png-colors.py) look for these exact colours in the page. */
extern const uint32_t html_palette[];
extern const size_t html_palette_n;

/* Chart geometry in SVG user units (each chart's viewBox is 0 0 W H, scaled
 * to the page width): the plot area spans x in [LEFT, W - RIGHT] and y in
 * [TOP, H - BOTTOM]; start_ns maps to LEFT, end_ns to W - RIGHT, 0 to
 * H - BOTTOM. Exposed so tests can check coordinates. */
#define HTML_CHART_W 960
#define HTML_CHART_H 320
#define HTML_PLOT_LEFT 88
#define HTML_PLOT_RIGHT 36
#define HTML_PLOT_TOP 14
#define HTML_PLOT_BOTTOM 54

/* Write the page. 0, or -EIO when f reports a write error. */
int html_write(FILE *f, const struct html_doc *d);

#endif
