/* Unit tests for user/out_html.c: the page is rendered to memory and read
 * back the way a browser or a careless reader would: tags balanced, text
 * escaped, ticks where an operator expects them, step paths at the exact
 * coordinates of the geometry in out_html.h, and a bounded size whatever
 * the number of points.
 *
 * ZM_HTML_SAMPLE=1 (or =PATH) also writes a realistic sample page to
 * /tmp/zm-html-sample.html (or PATH), for tools/html-shot.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>

#include <cmocka.h>

#include "out_html.h"

#define MS (1000ULL * 1000)
#define SEC (1000ULL * MS)
#define T0 (1000 * SEC) /* boot time of the window's start */
/* 2024-05-01 08:14:32.500 UTC at boot time T0. */
#define WALL_T0 (1714551272ULL * SEC + 500 * MS)
#define WALL (WALL_T0 - T0)

#define PW (HTML_CHART_W - HTML_PLOT_RIGHT - HTML_PLOT_LEFT)
#define PH (HTML_CHART_H - HTML_PLOT_BOTTOM - HTML_PLOT_TOP)

static char *render(const struct html_doc *d, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	assert_int_equal(html_write(f, d), 0);
	assert_int_equal(fclose(f), 0);
	if (len)
		*len = n;
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* One chart of the given series over [T0, T0 + span]. */
static struct html_doc doc1(struct html_chart *c, uint64_t span)
{
	return (struct html_doc){
		.title = "zmtrace report",
		.subtitle = "host test",
		.start_ns = T0,
		.end_ns = T0 + span,
		.boot_wall_ns = WALL,
		.charts = c,
		.ncharts = 1,
	};
}

/* The text of each <text class="CLS" ...>...</text>, in page order, into
 * out[]; the number found (at most max). */
static size_t texts(const char *html, const char *cls, char out[][64], size_t max)
{
	char open[64];
	size_t n = 0;
	const char *p = html;

	snprintf(open, sizeof(open), "<text class=\"%s\"", cls);
	while (n < max && (p = strstr(p, open))) {
		const char *b = strchr(p, '>'), *e;

		assert_non_null(b);
		e = strstr(b, "</text>");
		assert_non_null(e);
		assert_true((size_t)(e - b - 1) < 64);
		memcpy(out[n], b + 1, (size_t)(e - b - 1));
		out[n][e - b - 1] = '\0';
		n++;
		p = e;
	}
	return n;
}

/* The d attribute of the i-th series path (inside <g class="lines">). */
static char *series_d(const char *html, size_t i)
{
	const char *p = strstr(html, "<g class=\"lines\"");
	const char *d, *e;
	char *out;

	assert_non_null(p);
	for (size_t k = 0; k <= i; k++) {
		p = strstr(p + 1, "<path ");
		assert_non_null(p);
	}
	d = strstr(p, " d=\"");
	assert_non_null(d);
	d += 4;
	e = strchr(d, '"');
	assert_non_null(e);
	out = strndup(d, (size_t)(e - d));
	assert_non_null(out);
	return out;
}

/* Walk a path of M x,y / H x / V y commands: the vertices, the smallest
 * y (the highest point drawn) and checks that x never goes backwards. */
static size_t path_walk(const char *d, double *min_y, double *max_y)
{
	double x = -1, y = 0;
	size_t n = 0;
	char *end;

	*min_y = INFINITY;
	*max_y = -INFINITY;
	while (*d) {
		char cmd = *d++;

		if (cmd == 'M') {
			x = strtod(d, &end);
			assert_int_equal(*end, ',');
			y = strtod(end + 1, &end);
		} else if (cmd == 'H') {
			double nx = strtod(d, &end);

			assert_true(nx >= x);
			x = nx;
		} else if (cmd == 'V') {
			y = strtod(d, &end);
		} else {
			fail_msg("unexpected path command '%c'", cmd);
			return 0;
		}
		assert_true(x >= HTML_PLOT_LEFT && x <= HTML_CHART_W - HTML_PLOT_RIGHT);
		assert_true(y >= HTML_PLOT_TOP && y <= HTML_CHART_H - HTML_PLOT_BOTTOM);
		*min_y = y < *min_y ? y : *min_y;
		*max_y = y > *max_y ? y : *max_y;
		d = end;
		n++;
	}
	return n;
}

static void test_well_formed(void **state)
{
	uint64_t ts[] = { T0, T0 + 5 * SEC };
	double y[] = { 100, 200 };
	struct html_series s = { .label = "a", .n = 2, .ts_ns = ts, .y = y };
	struct html_chart c[2] = {
		{ .title = "Chart one", .note = "a note", .unit = HTML_KB, .series = &s, .nseries = 1 },
		{ .title = "Chart two", .unit = HTML_COUNT, .empty = "nothing" },
	};
	struct html_doc d = doc1(c, 10 * SEC);
	char *h;

	(void)state;
	d.ncharts = 2;
	d.summary = "line 1\n\tline 2\n";
	h = render(&d, NULL);
	assert_true(strncmp(h, "<!DOCTYPE html>", 15) == 0);
	assert_int_equal(count(h, "<html"), 1);
	assert_int_equal(count(h, "</html>"), 1);
	assert_true(strstr(h, "</html>") > strstr(h, "</body>"));
	assert_int_equal(count(h, "<svg"), count(h, "</svg>"));
	assert_int_equal(count(h, "<svg class=\"plot\""), 1);
	assert_int_equal(count(h, "<section>"), count(h, "</section>"));
	assert_int_equal(count(h, "<text"), count(h, "</text>"));
	assert_int_equal(count(h, "<li>"), count(h, "</li>"));
	assert_non_null(strstr(h, "<title>zmtrace report</title>"));
	assert_non_null(strstr(h, "<p class=\"note\">a note</p>"));
	/* The summary keeps its layout. */
	assert_non_null(strstr(h, "<pre>line 1\n\tline 2\n</pre>"));
	/* Self-contained: nothing to fetch, nothing to run. */
	assert_null(strstr(h, "<script"));
	assert_null(strstr(h, "http://"));
	assert_null(strstr(h, "https://"));
	assert_null(strstr(h, "url("));
	/* Axis titles. */
	assert_non_null(strstr(h, ">time (UTC)</text>"));
	assert_non_null(strstr(h, ">memory</text>"));
	free(h);
}

static void test_escaping(void **state)
{
	static const char label[] = "<b>&\"x";
	/* Invalid UTF-8 (a lone continuation, a truncated sequence, an
	 * overlong '/', a surrogate), control characters, and valid UTF-8. */
	static const char odd[] = "a\x80" "b\xe2\x82" "c\xc0\xaf" "d\xed\xa0\x80" "e\x01\n\x7f"
				  "\xc2\x85" "f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
	uint64_t ts[] = { T0 };
	double y[] = { 1 };
	struct html_series s[2] = {
		{ .label = label, .n = 1, .ts_ns = ts, .y = y },
		{ .label = odd, .n = 1, .ts_ns = ts, .y = y, .color = 1 },
	};
	struct html_chart c = { .title = "t<i>", .note = "n&'", .unit = HTML_COUNT, .series = s,
				.nseries = 2 };
	struct html_doc d = doc1(&c, 10 * SEC);
	char *h;

	(void)state;
	d.title = "</title><script>";
	d.summary = "pid 1 <init> & \"x\"\n\x1b[1m";
	h = render(&d, NULL);
	assert_null(strstr(h, label));
	assert_null(strstr(h, "<b>"));
	assert_null(strstr(h, "<i>"));
	assert_null(strstr(h, "<script>"));
	assert_null(strstr(h, "<init>"));
	assert_non_null(strstr(h, "&lt;b&gt;&amp;&quot;x"));
	assert_non_null(strstr(h, "t&lt;i&gt;"));
	assert_non_null(strstr(h, "n&amp;&#39;"));
	assert_non_null(strstr(h, "pid 1 &lt;init&gt; &amp; &quot;x&quot;\n?[1m"));
	/* Each invalid byte is one U+FFFD; controls (C0, DEL, C1) are '?'. */
	assert_non_null(strstr(h, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
				  "c\xef\xbf\xbd\xef\xbf\xbd"
				  "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				  "e????f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
	/* Nothing but valid UTF-8 anywhere in the page. */
	for (const unsigned char *p = (const unsigned char *)h; *p; p++) {
		if (*p < 0x80)
			continue;
		assert_true(*p >= 0xc2 && *p <= 0xf4);
		p++;
		while ((*p & 0xc0) == 0x80 && (p[1] & 0xc0) == 0x80)
			p++;
	}
	free(h);
}

static void test_count_ticks_are_integers(void **state)
{
	static const double maxes[] = { 0, 1, 2, 3, 7, 12, 99, 1234 };

	(void)state;
	for (size_t k = 0; k < sizeof(maxes) / sizeof(maxes[0]); k++) {
		uint64_t ts[] = { T0, T0 + 3 * SEC };
		double y[] = { 0, maxes[k] };
		struct html_series s = { .label = "zombies", .n = 2, .ts_ns = ts, .y = y };
		struct html_chart c = { .title = "Zombies", .unit = HTML_COUNT, .series = &s,
					.nseries = 1 };
		struct html_doc d = doc1(&c, 10 * SEC);
		char lab[32][64], *h = render(&d, NULL);
		size_t n = texts(h, "yt", lab, 32);
		long prev = -1;

		assert_true(n >= 2 && n <= 10);
		for (size_t i = 0; i < n; i++) {
			char *end;
			long v = strtol(lab[i], &end, 10);

			assert_string_equal(end, "");
			assert_true(isdigit((unsigned char)lab[i][0]));
			assert_true(v > prev);
			prev = v;
		}
		assert_string_equal(lab[0], "0");
		/* The axis goes above the largest value. */
		assert_true(prev > maxes[k]);
		assert_true(prev <= 2 * maxes[k] + 2);
		assert_non_null(strstr(h, ">count</text>"));
		free(h);
	}
}

/* The y tick labels of a memory chart whose largest value is kb. */
static void kb_ticks(double kb, const char *unit)
{
	uint64_t ts[] = { T0 };
	double y[] = { kb };
	struct html_series s = { .label = "rss", .n = 1, .ts_ns = ts, .y = y };
	struct html_chart c = { .title = "RSS", .unit = HTML_KB, .series = &s, .nseries = 1 };
	struct html_doc d = doc1(&c, 10 * SEC);
	char lab[32][64], *h = render(&d, NULL);
	size_t n = texts(h, "yt", lab, 32);
	double prev = -1;

	assert_true(n >= 3 && n <= 10);
	assert_string_equal(lab[0], "0");
	for (size_t i = 1; i < n; i++) {
		char *end;
		double v = strtod(lab[i], &end);

		assert_true(v > prev);
		prev = v;
		assert_true(*end == ' ');
		assert_string_equal(end + 1, unit);
	}
	free(h);
}

static void test_kb_units(void **state)
{
	(void)state;
	kb_ticks(300, "KiB");
	kb_ticks(300 * 1024.0, "MiB");
	kb_ticks(3 * 1024.0 * 1024, "GiB");
	kb_ticks(0.8 * 1024 * 1024, "MiB");
	kb_ticks(1.5 * 1024 * 1024, "GiB");
	kb_ticks(5 * 1024.0 * 1024 * 1024, "TiB");
}

static void test_step_path(void **state)
{
	uint64_t ts[] = { T0 + 2 * SEC, T0 + 5 * SEC, T0 + 7 * SEC };
	double y[] = { 1, 3, 2 };
	/* A point before the window holds at its start; one after it is cut. */
	uint64_t ts2[] = { T0 - 5 * SEC, T0 + 12 * SEC };
	double y2[] = { 2, 40 };
	struct html_series s[2] = {
		{ .label = "a", .n = 3, .ts_ns = ts, .y = y },
		{ .label = "b", .n = 2, .ts_ns = ts2, .y = y2, .color = 1, .dashed = true },
	};
	struct html_chart c = { .title = "Zombies", .unit = HTML_COUNT, .series = s, .nseries = 2 };
	struct html_doc d = doc1(&c, 10 * SEC);
	char lab[32][64], *h = render(&d, NULL), *p;

	(void)state;
	/* Max 3: the axis is 0..4 in steps of 1. Plot x 88..924 (836 wide),
	 * y 266 (0) .. 14 (4), 63 a step. */
	assert_int_equal(texts(h, "yt", lab, 32), 5);
	assert_string_equal(lab[4], "4");
	p = series_d(h, 0);
	assert_string_equal(p, "M255.2,203.0H506.0V77.0H673.2V140.0H924.0");
	free(p);
	p = series_d(h, 1);
	assert_string_equal(p, "M88.0,140.0H924.0");
	free(p);
	assert_non_null(strstr(h, "stroke-dasharray"));
	free(h);
}

static void test_dense_series_is_bounded(void **state)
{
	enum { N = 100000 };
	uint64_t *ts = malloc(N * sizeof(*ts));
	double *y = malloc(N * sizeof(*y)), min_y, max_y;
	struct html_series s[2] = {
		{ .label = "busy", .n = N, .ts_ns = ts, .y = y, .color = 0 },
		{ .label = "busy vsize", .n = N, .ts_ns = ts, .y = y, .color = 0, .dashed = true },
	};
	struct html_chart c = { .title = "RSS", .unit = HTML_KB, .series = s, .nseries = 2 };
	struct html_doc d = doc1(&c, 100 * SEC);
	size_t len, vertices;
	char *h, *p;

	(void)state;
	assert_non_null(ts);
	assert_non_null(y);
	/* 1 ms apart, a sawtooth between 50 and 60 MiB, one 1 ms spike to
	 * 100 MiB and one dip to 0 in the middle. */
	for (size_t i = 0; i < N; i++) {
		ts[i] = T0 + i * MS;
		y[i] = 51200 + (double)(i % 1000) * 10.24;
	}
	y[31337] = 102400;
	y[77777] = 0;
	h = render(&d, &len);
	assert_true(len < 200 * 1024);
	p = series_d(h, 0);
	vertices = path_walk(p, &min_y, &max_y);
	/* At most one H and three V per pixel column. */
	assert_true(vertices <= 4 * (size_t)PW + 2);
	/* The spike and the dip survive: 100 MiB on a 0..120 MiB axis, and 0. */
	assert_true(fabs(min_y - (HTML_CHART_H - HTML_PLOT_BOTTOM - PH * 100.0 / 120)) < 0.11);
	assert_true(fabs(max_y - (HTML_CHART_H - HTML_PLOT_BOTTOM)) < 0.01);
	assert_non_null(strstr(h, "max 100 MiB"));
	free(p);
	free(h);
	free(ts);
	free(y);
}

static void test_empty_chart(void **state)
{
	struct html_chart c = { .title = "Zombies", .unit = HTML_COUNT,
				.empty = "No zombie was left <unreaped>." };
	struct html_doc d = doc1(&c, 10 * SEC);
	char *h = render(&d, NULL);

	(void)state;
	assert_non_null(strstr(h, "<div class=\"empty\">No zombie was left &lt;unreaped&gt;.</div>"));
	assert_null(strstr(h, "<svg class=\"plot\""));
	free(h);
}

static void test_palette(void **state)
{
	uint64_t ts[] = { T0 };
	double y[] = { 5 };
	struct html_series s[4] = {
		{ .label = "a", .n = 1, .ts_ns = ts, .y = y, .color = 0 },
		{ .label = "b", .n = 1, .ts_ns = ts, .y = y, .color = 1 },
		{ .label = "c", .n = 1, .ts_ns = ts, .y = y, .color = 2 },
		{ .label = "d", .n = 1, .ts_ns = ts, .y = y, .color = (int)html_palette_n + 4 },
	};
	struct html_chart c = { .title = "Mem", .unit = HTML_KB, .series = s, .nseries = 4 };
	struct html_doc d = doc1(&c, 10 * SEC);
	char *h = render(&d, NULL), hex[16];

	(void)state;
	assert_true(html_palette_n >= 12);
	for (size_t i = 0; i < html_palette_n; i++) {
		assert_true(html_palette[i] <= 0xffffff);
		for (size_t j = 0; j < i; j++)
			assert_true(html_palette[i] != html_palette[j]);
	}
	for (size_t i = 0; i < html_palette_n; i++) {
		snprintf(hex, sizeof(hex), "#%06x", (unsigned)html_palette[i]);
		/* Each used colour twice (line and legend swatch), others never. */
		if (i <= 2 || i == 4)
			assert_int_equal(count(h, hex), 2);
		else
			assert_int_equal(count(h, hex), 0);
	}
	free(h);
}

static void test_time_ticks(void **state)
{
	uint64_t ts[] = { T0 };
	double y[] = { 5 };
	struct html_series s = { .label = "a", .n = 1, .ts_ns = ts, .y = y };
	struct html_chart c = { .title = "Mem", .unit = HTML_KB, .series = &s, .nseries = 1 };
	struct html_doc d = doc1(&c, 10 * 60 * SEC);
	char lab[32][64], *h = render(&d, NULL);
	size_t n = texts(h, "xt", lab, 32);

	(void)state;
	/* 08:14:32.5 to 08:24:32.5: ticks every 2 minutes, the date under the
	 * first. */
	assert_int_equal(n, 6);
	assert_string_equal(lab[0], "08:16:00");
	assert_string_equal(lab[1], "2024-05-01");
	assert_string_equal(lab[2], "08:18:00");
	assert_string_equal(lab[5], "08:24:00");
	free(h);

	/* 40 s: every 5 s. */
	d.end_ns = T0 + 40 * SEC;
	h = render(&d, NULL);
	n = texts(h, "xt", lab, 32);
	assert_int_equal(n, 9);
	assert_string_equal(lab[0], "08:14:35");
	assert_string_equal(lab[2], "08:14:40");
	free(h);

	/* 3 days: every 12 h, the date under each midnight tick. */
	d.end_ns = T0 + 3 * 86400 * SEC;
	h = render(&d, NULL);
	n = texts(h, "xt", lab, 32);
	assert_string_equal(lab[0], "12:00:00");
	assert_string_equal(lab[1], "2024-05-01");
	assert_string_equal(lab[2], "00:00:00");
	assert_string_equal(lab[3], "2024-05-02");
	free(h);

	/* 50 ms: no tick fits; the start is written out instead. */
	d.start_ns = T0 + 10 * MS;
	d.end_ns = T0 + 60 * MS;
	h = render(&d, NULL);
	n = texts(h, "xt", lab, 32);
	assert_int_equal(n, 1);
	assert_string_equal(lab[0], "2024-05-01 08:14:32.510");
	free(h);
}

static void test_write_error(void **state)
{
	struct html_chart c = { .title = "x", .unit = HTML_COUNT, .empty = "none" };
	struct html_doc d = doc1(&c, 10 * SEC);
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	if (!f)
		skip();
	assert_int_equal(html_write(f, &d), -EIO);
	fclose(f);
}

/* The fuzzer's finding: times near 2^64 (a damaged capture's) made the
 * tick loops wrap and never end. Now the page comes, with few ticks even
 * over centuries. */
static void test_huge_times(void **state)
{
	static const uint64_t ts[] = { UINT64_MAX - 600ULL * 365 * 86400 * SEC, UINT64_MAX - 5 };
	static const double y[] = { 1, 2 };
	struct html_series s = { .label = "x", .n = 2, .ts_ns = ts, .y = y };
	struct html_chart c = { .title = "x", .unit = HTML_COUNT, .series = &s, .nseries = 1 };
	struct html_doc d = doc1(&c, 0);
	size_t len;

	(void)state;
	d.start_ns = ts[0];
	d.end_ns = ts[1];
	d.boot_wall_ns = 1796021160298532181ULL;
	char *html = render(&d, &len);

	assert_true(count(html, "class=\"xt\"") < 40);
	free(html);
}

/* A page like `zmtrace report --format html` makes: the system chart, 6
 * processes (RSS solid, VSIZE dashed), zombies per parent, and a chart with
 * nothing to show; written to /tmp/zm-html-sample.html (or $ZM_HTML_SAMPLE) when
 * ZM_HTML_SAMPLE is set, else to /dev/null. */
static void test_sample_page(void **state)
{
	enum { NP = 600, NPROC = 6, NZ = 3 };
	static const char *const procs[NPROC] = {
		"1412 java", "877 postgres", "2301 node <worker>", "90 systemd-journal",
		"3110 python3", "4242 leaky-\xff-svc",
	};
	static const char *const parents[NZ] = { "1234 zf-leaker", "88 cron", "4242 leaky-svc" };
	const char *env = getenv("ZM_HTML_SAMPLE");
	/* Without ZM_HTML_SAMPLE, the page is still made (to /dev/null). */
	const char *path = !env || !*env	? "/dev/null"
			   : strcmp(env, "1") ? env
					      : "/tmp/zm-html-sample.html";
	uint64_t *ts = calloc(NP, sizeof(*ts));
	double *sys = calloc(3 * NP, sizeof(*sys)), *mem = calloc(2 * NPROC * NP, sizeof(*mem));
	double *zy = calloc(NZ * NP, sizeof(*zy));
	struct html_series ss[3], ps[2 * NPROC], zs[NZ];
	char labels[2 * NPROC][64];
	struct html_chart charts[4] = {
		{ .title = "System memory", .note = "From /proc/meminfo, sampled every second.",
		  .unit = HTML_KB, .series = ss, .nseries = 3 },
		{ .title = "Process memory", .note = "RSS solid, VSIZE dashed; one colour per process.",
		  .unit = HTML_KB, .series = ps, .nseries = 2 * NPROC },
		{ .title = "Unreaped zombies per parent", .unit = HTML_COUNT, .series = zs,
		  .nseries = NZ },
		{ .title = "Out-of-memory kills", .unit = HTML_COUNT,
		  .empty = "No process was killed for memory during the capture." },
	};
	struct html_doc d = doc1(charts, 10 * 60 * SEC);
	FILE *f;

	(void)state;
	assert_non_null(ts);
	assert_non_null(sys);
	assert_non_null(mem);
	assert_non_null(zy);
	for (size_t i = 0; i < NP; i++) {
		double t = (double)i;

		ts[i] = T0 + i * SEC;
		sys[i] = 6.1e6 + 2.2e6 * (t / NP) + 2e5 * sin(t / 20);
		sys[NP + i] = 2.9e6 + 1.9e6 * (t / NP) + 1e5 * sin(t / 13);
		sys[2 * NP + i] = i < 300 ? 0 : 4e5 * (t - 300) / 300;
		for (size_t p = 0; p < NPROC; p++) {
			double base = 1.5e5 * (double)(NPROC - p) * (1 + 0.3 * (double)p);
			double grow = p == 5 ? 1.5e3 * t : p == 0 ? 2e5 * floor(t / 150) : 0;

			mem[2 * p * NP + i] = base + grow + 2e4 * sin(t / (7 + (double)p));
			mem[(2 * p + 1) * NP + i] = 2.6 * base + 1.2 * grow + 3e5;
		}
		zy[i] = floor(t / 60);
		zy[NP + i] = (i / 45) % 3 == 2 ? 2 : (i / 45) % 3;
		zy[2 * NP + i] = i > 400 ? 4 : i > 200 ? 1 : 0;
	}
	ss[0] = (struct html_series){ "used", NP, ts, sys, false, 0 };
	ss[1] = (struct html_series){ "used - buffers/cache", NP, ts, sys + NP, false, 1 };
	ss[2] = (struct html_series){ "swap used", NP, ts, sys + 2 * NP, false, 2 };
	for (size_t p = 0; p < NPROC; p++) {
		snprintf(labels[2 * p], 64, "%s RSS", procs[p]);
		snprintf(labels[2 * p + 1], 64, "%s VSIZE", procs[p]);
		ps[2 * p] = (struct html_series){ labels[2 * p], NP, ts, mem + 2 * p * NP, false, (int)p };
		ps[2 * p + 1] = (struct html_series){ labels[2 * p + 1], NP, ts,
						      mem + (2 * p + 1) * NP, true, (int)p };
	}
	for (size_t z = 0; z < NZ; z++)
		zs[z] = (struct html_series){ parents[z], NP, ts, zy + z * NP, false, (int)z + 3 };
	d.title = "zmtrace report";
	d.subtitle = "host db-7 \xc2\xb7 Linux 6.1.0-18-amd64 \xc2\xb7 2024-05-01 08:14:32 to 08:24:32 UTC "
		     "(10m00s)";
	d.ncharts = 4;
	d.summary = "12 zombies, 9 reaped.\n\n"
		    "    PID PARENT           ZOMBIES UNREAPED      MAX\n"
		    "   1234 zf-leaker              3        3        -\n"
		    "     88 cron                   3        0    1.6ms\n";
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(html_write(f, &d), 0);
	assert_int_equal(fclose(f), 0);
	free(ts);
	free(sys);
	free(mem);
	free(zy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_count_ticks_are_integers),
		cmocka_unit_test(test_kb_units),
		cmocka_unit_test(test_step_path),
		cmocka_unit_test(test_dense_series_is_bounded),
		cmocka_unit_test(test_empty_chart),
		cmocka_unit_test(test_palette),
		cmocka_unit_test(test_time_ticks),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_huge_times),
		cmocka_unit_test(test_sample_page),
	};

	return cmocka_run_group_tests_name("html", tests, NULL, NULL);
}
