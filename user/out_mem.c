/* Output of the memory records: human text and JSON Lines. */
#include "out_mem.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "util.h"

/* The text summary lists this many of the largest processes. */
#define TEXT_LARGEST 15

static const char *why_str(const struct zm_mem_event *e)
{
	if (e->type == ZM_EV_OOM)
		return "oom";
	if (e->flags & ZM_M_EXIT)
		return "exit";
	if (e->flags & ZM_M_EXEC)
		return "exec";
	if (e->flags & ZM_M_FIRST)
		return "first";
	if (e->flags & ZM_M_SAMPLE)
		return "sample";
	return "change";
}

static uint64_t rss_of(const struct zm_mem_event *e)
{
	return e->anon_kb + e->file_kb + e->shmem_kb;
}

static void text_header(struct out_mem *o)
{
	if (o->header_done)
		return;
	o->header_done = true;
	fprintf(o->f, "%-8s %7s %-15s %6s %6s %6s %6s %6s %6s %s\n", "TIME", "PID", "COMM", "RSS",
		"ANON", "FILE", "SHMEM", "SWAP", "VSIZE", "WHY");
}

static void json_mem_fields(FILE *f, const struct zm_mem_event *e)
{
	fprintf(f, "\"ts_ns\":%" PRIu64 ",\"pid\":%u,\"comm\":", (uint64_t)e->ts_ns, e->pid);
	json_str(f, e->comm, ZM_COMM_LEN);
	fprintf(f,
		",\"rss_kb\":%" PRIu64 ",\"anon_kb\":%" PRIu64 ",\"file_kb\":%" PRIu64
		",\"shmem_kb\":%" PRIu64 ",\"swap_kb\":%" PRIu64 ",\"vsize_kb\":%" PRIu64,
		rss_of(e), (uint64_t)e->anon_kb, (uint64_t)e->file_kb, (uint64_t)e->shmem_kb,
		(uint64_t)e->swap_kb, (uint64_t)e->vsize_kb);
}

static void text_mem_line(struct out_mem *o, const struct zm_mem_event *e, const char *why)
{
	char when[16], v[6][16], comm[ZM_COMM_LEN];
	uint64_t kb[6] = { rss_of(e), e->anon_kb, e->file_kb, e->shmem_kb, e->swap_kb, e->vsize_kb };

	text_header(o);
	fmt_clock_at(when, 9, e->ts_ns, o->boot_wall_ns); /* 9: HH:MM:SS only */
	for (int i = 0; i < 6; i++)
		fmt_kb(v[i], sizeof(v[i]), kb[i]);
	out_printable(comm, e->comm);
	fprintf(o->f, "%-8s %7u %-15s %6s %6s %6s %6s %6s %6s %s\n", when, e->pid, comm, v[0], v[1],
		v[2], v[3], v[4], v[5], why);
}

void out_rss(struct out_mem *o, const struct zm_mem_event *e)
{
	if (!o->json) {
		text_mem_line(o, e, why_str(e));
		return;
	}
	fprintf(o->f, "{\"event\":\"rss\",");
	json_mem_fields(o->f, e);
	fprintf(o->f, ",\"why\":\"%s\"", why_str(e));
	if (e->flags & ZM_M_EXIT)
		fprintf(o->f, ",\"rss_kb_peak\":%" PRIu64 ",\"vsize_kb_peak\":%" PRIu64,
			(uint64_t)e->peak_rss_kb, (uint64_t)e->peak_vm_kb);
	if (e->flags & ZM_M_REMOTE)
		fprintf(o->f, ",\"actor\":%u", e->actor);
	fprintf(o->f, "}\n");
}

void out_oom(struct out_mem *o, const struct zm_mem_event *e)
{
	if (!o->json) {
		text_mem_line(o, e, "OOM-KILLED");
		return;
	}
	fprintf(o->f, "{\"event\":\"oom_kill\",");
	json_mem_fields(o->f, e);
	fprintf(o->f, ",\"rss_kb_peak\":%" PRIu64 "}\n", (uint64_t)e->peak_rss_kb);
}

void out_sysmem(struct out_mem *o, const struct sysmem *s)
{
	if (o->json) {
		fprintf(o->f,
			"{\"event\":\"sysmem\",\"ts_ns\":%" PRIu64 ",\"total_kb\":%" PRIu64
			",\"used_kb\":%" PRIu64 ",\"buffers_kb\":%" PRIu64 ",\"cached_kb\":%" PRIu64
			",\"app_kb\":%" PRIu64 ",\"swap_used_kb\":%" PRIu64 "}\n",
			s->ts_ns, s->total_kb, s->used_kb, s->buffers_kb, s->cached_kb, s->app_kb,
			s->swap_used_kb);
		return;
	}
	char when[16], used[16], app[16], buf[16], cache[16], swap[16];

	text_header(o);
	fmt_clock_at(when, 9, s->ts_ns, o->boot_wall_ns);
	fmt_kb(used, sizeof(used), s->used_kb);
	fmt_kb(app, sizeof(app), s->app_kb);
	fmt_kb(buf, sizeof(buf), s->buffers_kb);
	fmt_kb(cache, sizeof(cache), s->cached_kb);
	fmt_kb(swap, sizeof(swap), s->swap_used_kb);
	fprintf(o->f, "%-8s  system used %s, apps %s (%.0f%%), buffers %s, cache %s, swap %s\n", when,
		used, app, s->used_kb ? 100.0 * (double)s->app_kb / (double)s->used_kb : 0.0, buf,
		cache, swap);
}

struct row {
	const struct mp_proc *p;
	struct ms_verdict v;
};

struct rows {
	struct row *r;
	size_t n, cap;
	const struct mem_summary_opts *so;
	bool nomem;
};

static int add_row(void *ctx, const struct mp_proc *p)
{
	struct rows *rs = ctx;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 256;
		struct row *r = realloc(rs->r, cap * sizeof(*r));

		if (!r) {
			rs->nomem = true;
			return 1;
		}
		rs->r = r;
		rs->cap = cap;
	}
	struct row *r = &rs->r[rs->n++];

	r->p = p;
	/* A process that exited is judged over its life, up to its exit. */
	ms_verdict(&p->series, p->exited ? p->last_ns : rs->so->now_ns, rs->so->window_ns, &r->v);
	return 0;
}

static int by_rss_max(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->p->rss_max_kb != y->p->rss_max_kb)
		return x->p->rss_max_kb > y->p->rss_max_kb ? -1 : 1;
	return x->p->pid < y->p->pid ? -1 : x->p->pid > y->p->pid;
}

static void json_num(FILE *f, const char *key, double v)
{
	fprintf(f, ",\"%s\":%.3f", key, v);
}

int out_mem_summary(struct out_mem *o, const struct memstate *m, const struct mem_summary_opts *so)
{
	struct rows rs = { .so = so };
	struct sys_verdict sv = { 0 };

	mst_each(m, add_row, &rs);
	if (rs.nomem) {
		free(rs.r);
		return -ENOMEM;
	}
	if (rs.n > 1)
		qsort(rs.r, rs.n, sizeof(*rs.r), by_rss_max);
	if (so->sys)
		sysmem_verdict(so->sys, &sv);
	if (o->json) {
		fprintf(o->f, "{\"event\":\"summary\",\"processes\":[");
		for (size_t i = 0; i < rs.n; i++) {
			const struct mp_proc *p = rs.r[i].p;
			const struct ms_verdict *v = &rs.r[i].v;

			fprintf(o->f, "%s{\"pid\":%u,\"comm\":", i ? "," : "", p->pid);
			json_str(o->f, p->comm, ZM_COMM_LEN);
			fprintf(o->f,
				",\"rss_kb_max\":%" PRIu64 ",\"rss_kb_last\":%" PRIu64
				",\"vsize_kb_max\":%" PRIu64 ",\"vsize_kb_last\":%" PRIu64,
				p->rss_max_kb, p->rss_kb, p->vsize_max_kb, p->vsize_kb);
			json_num(o->f, "rss_slope_kb_s", v->rss_slope_kb_s);
			json_num(o->f, "rss_r2", v->rss_r2);
			json_num(o->f, "vsize_slope_kb_s", v->vsize_slope_kb_s);
			json_num(o->f, "vsize_r2", v->vsize_r2);
			fprintf(o->f, ",\"span_s\":%.1f,\"leak_suspect\":%s,\"why\":",
				(double)v->span_ns / 1e9, v->suspect ? "true" : "false");
			json_str(o->f, v->why ? v->why : "", 128);
			fprintf(o->f, ",\"exited\":%s,\"oom_killed\":%s}", p->exited ? "true" : "false",
				p->oom_killed ? "true" : "false");
		}
		fprintf(o->f, "],\"system\":{");
		if (so->sys) {
			fprintf(o->f, "\"app_pct_of_used\":%.1f,\"app_high\":%s", sv.app_pct_of_used,
				sv.app_high ? "true" : "false");
			json_num(o->f, "swap_slope_kb_s", sv.swap_slope_kb_s);
			fprintf(o->f, ",\"swap_rising\":%s,\"verdict\":", sv.swap_rising ? "true" : "false");
			json_str(o->f, sv.verdict, sizeof(sv.verdict));
		}
		fprintf(o->f, "},\"lost_events\":%" PRIu64 "}\n", so->lost_ringbuf);
		free(rs.r);
		return 0;
	}
	size_t suspects = 0;

	for (size_t i = 0; i < rs.n; i++)
		suspects += rs.r[i].v.suspect;
	fprintf(o->f, "\nLeak suspects: %zu\n", suspects);
	for (size_t i = 0; i < rs.n; i++) {
		const struct row *r = &rs.r[i];
		char last[16];

		if (!r->v.suspect)
			continue;
		fmt_kb(last, sizeof(last), r->p->rss_kb);
		fprintf(o->f, "  %7u %-15s RSS %s, +%.1f KiB/s (R² %.2f) over %.0f s: %s\n", r->p->pid,
			r->p->comm, last, r->v.rss_slope_kb_s, r->v.rss_r2, (double)r->v.span_ns / 1e9,
			r->v.why ? r->v.why : "");
	}
	if (so->sys)
		fprintf(o->f, "\nSystem: %s\n", sv.verdict[0] ? sv.verdict : "ok");
	fprintf(o->f, "\nLargest (by peak RSS):\n%7s %-15s %7s %7s %7s %9s %s\n", "PID", "COMM",
		"RSS-MAX", "RSS", "VSZ-MAX", "KiB/s", "");
	for (size_t i = 0; i < rs.n && i < TEXT_LARGEST; i++) {
		const struct row *r = &rs.r[i];
		char mx[16], last[16], vmx[16];

		fmt_kb(mx, sizeof(mx), r->p->rss_max_kb);
		fmt_kb(last, sizeof(last), r->p->rss_kb);
		fmt_kb(vmx, sizeof(vmx), r->p->vsize_max_kb);
		fprintf(o->f, "%7u %-15s %7s %7s %7s %9.1f %s%s\n", r->p->pid, r->p->comm, mx, last, vmx,
			r->v.rss_slope_kb_s, r->v.suspect ? "LEAK? " : "",
			r->p->oom_killed ? "oom-killed" : r->p->exited ? "exited" : "");
	}
	if (so->lost_ringbuf)
		fprintf(o->f, "\nWARNING: %" PRIu64 " events lost (ring buffer full): figures may lag.\n",
			so->lost_ringbuf);
	free(rs.r);
	return 0;
}
