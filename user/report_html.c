/*
 * A capture as one HTML page (out_html.h draws it): (a) system memory over
 * time, (b) RSS and VSIZE of every process that went above 10% of memory
 * (the largest few when none did), (c) unreaped zombies per parent, then
 * the text report. The capture is read twice: the first pass finds the
 * processes and parents to draw, the second keeps those parents' counts
 * over time (keeping every parent's would take memory without bound).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "out_html.h"
#include "report.h"
#include "util.h"

#define MAX_PROCS 12   /* lines on a process chart */
#define FEW_PROCS 5    /* drawn when none went above 10% */
#define MAX_PARENTS 10 /* lines on the zombie chart */

/* A line: its points and its legend. */
struct line {
	struct model_series pts;
	char label[64];
};

struct picked {
	const struct mp_proc *p[MAX_PROCS];
	size_t n;
	uint64_t over_kb; /* 10% of MemTotal (0: unknown) */
};

static int pick(void *ctx, const struct mp_proc *p)
{
	struct picked *k = ctx;
	size_t i = k->n;

	/* Keep the MAX_PROCS largest by peak, in order. */
	if (i == MAX_PROCS) {
		if (p->rss_max_kb <= k->p[i - 1]->rss_max_kb)
			return 0;
		i--;
	} else {
		k->n++;
	}
	while (i > 0 && k->p[i - 1]->rss_max_kb < p->rss_max_kb) {
		k->p[i] = k->p[i - 1];
		i--;
	}
	k->p[i] = p;
	return 0;
}

/* The picked processes' lines: RSS (rss true) or VSIZE. A process that
 * exited drops to 0 there. */
static int proc_line(struct line *l, const struct mp_proc *p, bool rss)
{
	const struct memseries *s = &p->series;
	int err = 0;

	snprintf(l->label, sizeof(l->label), "%u %.15s", p->pid, p->comm);
	for (unsigned i = 0; i < s->n && !err; i++)
		err = model_series_add(&l->pts, s->pt[i].ts_ns, (double)(rss ? s->pt[i].rss_kb : s->pt[i].vsize_kb));
	/* The series' last point is its bucket's last event; the very last
	 * figures are kept apart. */
	if (!err && s->n)
		err = model_series_add(&l->pts, s->last_ns, (double)(rss ? s->rss_last_kb : s->vsize_last_kb));
	if (!err && p->exited)
		err = model_series_add(&l->pts, s->last_ns + 1, 0);
	return err;
}

static void free_lines(struct line *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		model_series_free(&l[i].pts);
}

int report_html(const char *path, FILE *out)
{
	struct model m, m2;
	int read;

	if (model_init(&m, NULL))
		return -1;
	read = model_read(&m, path);
	if (read < 0) {
		model_free(&m);
		return -1;
	}
	/* The text report, shown under the graphs. */
	char *text = NULL;
	size_t textlen = 0;
	FILE *tf = open_memstream(&text, &textlen);
	/* said: the error was said already (by the text report, or a read) */
	bool said = tf && report_text_body(tf, path, &m);
	int err = !tf || said;

	if (tf && fclose(tf))
		err = 1;
	/* (b): over 10% of memory, or the few largest. */
	struct picked k = { .over_kb = m.mem_total_kb / 10 };

	mst_each(m.mem, pick, &k);
	size_t big = 0;

	while (big < k.n && k.over_kb && k.p[big]->rss_max_kb > k.over_kb)
		big++;
	size_t nproc = big ? big : (k.n < FEW_PROCS ? k.n : FEW_PROCS);
	/* (c): the parents with the most unreaped zombies at once, counted
	 * again in a second pass with their series kept. */
	const struct model_parent **ps = NULL;
	long npar = err ? 0 : model_parents(&m, &ps);

	if (npar < 0)
		err = 1;
	if (npar > MAX_PARENTS)
		npar = MAX_PARENTS;
	int read2 = 0;
	bool m2_init = false;

	if (!err && npar > 0) {
		err = model_init(&m2, NULL) != 0;
		said = err;
		m2_init = !err;
		for (long i = 0; !err && i < npar; i++)
			err = model_watch_parent(&m2, ps[i]->pid, ps[i]->start_ns) != 0;
		if (!err)
			read2 = model_read(&m2, path);
		said = said || read2 < 0;
		err = err || read2 < 0;
	}
	struct line lines[3 + 2 * MAX_PROCS + MAX_PARENTS];
	struct html_series series[3 + 2 * MAX_PROCS + MAX_PARENTS];
	size_t nl = 0;

	memset(lines, 0, sizeof(lines));
	/* (a) */
	static const char *const sys_label[] = { "used", "used minus buffers and cache",
						 "swap used" };

	for (int j = 0; j < 3 && !err; j++, nl++) {
		snprintf(lines[nl].label, sizeof(lines[nl].label), "%s", sys_label[j]);
		for (size_t i = 0; i < m.nsys && !err; i++) {
			const struct sysmem *s = &m.sys_all[i];
			uint64_t v = j == 0 ? s->used_kb : j == 1 ? s->app_kb : s->swap_used_kb;

			err = model_series_add(&lines[nl].pts, s->ts_ns, (double)v);
		}
	}
	size_t proc0 = nl;

	for (int rss = 1; rss >= 0 && !err; rss--)
		for (size_t i = 0; i < nproc && !err; i++, nl++)
			err = proc_line(&lines[nl], k.p[i], rss);
	size_t par0 = nl;

	for (long i = 0; i < npar && !err; i++, nl++) {
		const struct model_parent *p = model_parent(&m2, ps[i]->pid, ps[i]->start_ns);

		snprintf(lines[nl].label, sizeof(lines[nl].label), "%u %.15s (peak %u)", ps[i]->pid,
			 ps[i]->comm, ps[i]->peak);
		if (p && p->series.n && p->series.ts[0] > m.first_ns)
			err = model_series_add(&lines[nl].pts, m.first_ns, 0);
		for (size_t j = 0; p && j < p->series.n && !err; j++)
			err = model_series_add(&lines[nl].pts, p->series.ts[j], p->series.y[j]);
	}
	for (size_t i = 0; i < nl; i++)
		series[i] = (struct html_series){
			.label = lines[i].label,
			.n = lines[i].pts.n,
			.ts_ns = lines[i].pts.ts,
			.y = lines[i].pts.y,
			.color = (int)(i < proc0 ? i : i < par0 ? (i - proc0) % (nproc ? nproc : 1) : i - par0),
			.dashed = false,
		};
	char total[16], note_b[160], subtitle[5120], tenth[32], title[300];

	fmt_kb(total, sizeof(total), m.mem_total_kb);
	fmt_kb(tenth, sizeof(tenth), k.over_kb);
	if (big)
		snprintf(note_b, sizeof(note_b),
			 "the %zu process%s that went above 10%% of memory (%s of %s); a line drops "
			 "to 0 when its process exits", big, big == 1 ? "" : "es", tenth, total);
	else
		snprintf(note_b, sizeof(note_b),
			 "none went above 10%% of memory (%s): the %zu largest; a line drops to 0 "
			 "when its process exits", total, nproc);
	struct html_chart charts[] = {
		{ .title = "System memory", .unit = HTML_KB, .series = series, .nseries = 3,
		  .note = "used = MemTotal - MemFree; buffers and cache (Buffers, Cached, "
			  "SReclaimable) are what the kernel can give back",
		  .empty = "no system memory samples" },
		{ .title = "Resident memory (RSS) per process", .unit = HTML_KB,
		  .series = series + proc0, .nseries = nproc, .note = note_b,
		  .empty = "no process memory in this capture" },
		{ .title = "Virtual memory (VSIZE) per process", .unit = HTML_KB,
		  .series = series + proc0 + nproc, .nseries = nproc, .note = note_b,
		  .empty = "no process memory in this capture" },
		{ .title = "Unreaped zombies per parent", .unit = HTML_COUNT, .series = series + par0,
		  .nseries = (size_t)(npar > 0 ? npar : 0),
		  .note = "each parent's zombies not yet reaped (waited for); the parents with the "
			  "most at once",
		  .empty = "no zombies in this capture" },
	};
	if (!m.nsys)
		charts[0].nseries = 0;
	snprintf(title, sizeof(title), "zmtrace: %s", m.hdr.host);
	snprintf(subtitle, sizeof(subtitle), "host %s, Linux %s; %s; recorded by: %s", m.hdr.host,
		 m.hdr.kernel, m.has_start ? m.start.what : "?", m.hdr.options);
	struct html_doc doc = {
		.title = title,
		.subtitle = subtitle,
		.start_ns = m.first_ns,
		.end_ns = model_end_ns(&m),
		.boot_wall_ns = m.hdr.boot_wall_ns,
		.charts = charts,
		.ncharts = sizeof(charts) / sizeof(charts[0]),
		.summary = text,
	};

	if (!err && html_write(out, &doc) == -ENOMEM)
		err = 1;
	if (err) {
		if (!said)
			fprintf(stderr, "zmtrace: out of memory\n");
		read = -1;
	}
	free_lines(lines, sizeof(lines) / sizeof(lines[0]));
	free(ps);
	free(text);
	if (m2_init)
		model_free(&m2);
	int ret = report_finish(path, &m, read);

	model_free(&m);
	return ret;
}
