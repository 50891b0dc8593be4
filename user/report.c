/* zmtrace report: a capture as text, JSON Lines or CSV (and, in their own
 * files, HTML and Perfetto); see report.h. */
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "out_mem.h"
#include "output.h"
#include "util.h"

int report_finish(const char *path, const struct model *m, int read)
{
	if (read < 0)
		return -1;
	if (m->stop) {
		fprintf(stderr,
			"zmtrace: %s: read up to byte %" PRIu64 " (%" PRIu64
			" records), then stopped: %s\n",
			path, m->stop_at, m->records, m->stop);
		return 1;
	}
	if (!m->has_end) {
		fprintf(stderr,
			"zmtrace: %s: the capture has no end: the recorder did not finish (killed, "
			"or its disk filled up); %" PRIu64 " records read\n",
			path, m->records);
		return 1;
	}
	return 0;
}

/* "2026-11-30 11:42:03" local time of a capture's boot-time instant. */
static void fmt_date(char *buf, size_t len, uint64_t boot_ns, uint64_t boot_wall_ns)
{
	time_t secs = (time_t)((boot_ns + boot_wall_ns) / NSEC_PER_SEC);
	struct tm tm;

	if (!localtime_r(&secs, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm))
		snprintf(buf, len, "?");
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void text_head(FILE *f, const char *path, const struct model *m)
{
	char from[64], to[64], span[16];
	uint64_t end = model_end_ns(m);
	const uint64_t *n = m->by_type;

	fmt_date(from, sizeof(from), m->first_ns, m->hdr.boot_wall_ns);
	fmt_date(to, sizeof(to), end, m->hdr.boot_wall_ns);
	fmt_duration(span, sizeof(span), end > m->first_ns ? end - m->first_ns : 0);
	fprintf(f, "zmtrace report of %s\n", path);
	fprintf(f, "  host %s, Linux %s; recorded by: %s\n", m->hdr.host, m->hdr.kernel,
		m->hdr.options);
	fprintf(f, "  %s to %s (%s), %s\n", from, to, span,
		m->has_start ? m->start.what : "?");
	static const struct {
		int type;
		const char *one, *many;
	} kinds[] = {
		{ ZM_EV_FORK, "fork", "forks" },
		{ ZM_EV_EXEC, "exec", "execs" },
		{ ZM_EV_EXIT, "exit", "exits" },
		{ ZM_EV_REAP, "reap", "reaps" },
		{ ZM_EV_RSS, "memory change", "memory changes" },
		{ ZM_EV_OOM, "OOM kill", "OOM kills" },
		{ REC_SYSMEM, "system sample", "system samples" },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		fprintf(f, "%s%" PRIu64 " %s", i ? ", " : "  ", n[kinds[i].type],
			plural(n[kinds[i].type], kinds[i].one, kinds[i].many));
	fputc('\n', f);
}

static const char *const life_label[MODEL_LIFE_BUCKETS] = {
	"< 1ms", "1-10ms", "10-100ms", "0.1-1s", "1-10s", "10s-1m40", "1m40-16m", ">= 16m40",
};

static void text_zombies(FILE *f, const struct model *m, const struct model_parent **ps, long n)
{
	const struct zs_counters *c = zs_counters(m->zs);

	fprintf(f, "\nZombie leakers: %ld parent%s made %" PRIu64 " zombie%s, %" PRIu64 " reaped\n",
		n, plural((uint64_t)n, "", "s"), c->zombies, plural(c->zombies, "", "s"), c->reaps);
	if (n)
		fprintf(f, "%7s %-15s %8s %6s %8s %8s  %s\n", "PID", "PARENT", "ZOMBIES", "PEAK",
			"UNREAPED", "LONGEST", "LONGEST-LIVED ZOMBIE");
	for (long i = 0; i < n && i < 20; i++) {
		const struct model_parent *p = ps[i];
		char longest[16], comm[ZM_COMM_LEN], wcomm[ZM_COMM_LEN];

		fmt_duration(longest, sizeof(longest), p->worst_ns);
		out_printable(comm, p->comm);
		out_printable(wcomm, p->worst_comm);
		fprintf(f, "%7u %-15s %8" PRIu64 " %6u %8u %8s  %u %s\n", p->pid, comm, p->zombies,
			p->peak, p->unreaped, longest, p->worst_pid, wcomm);
	}
	if (n > 20)
		fprintf(f, "(%ld more parents: --format json lists all)\n", n - 20);
	/* PEAK: the most unreaped at once; a leaker that died had its zombies
	 * reaped by its adopter, so it shows here, not in UNREAPED. */
	uint64_t reaped = m->life.count;

	if (!reaped)
		return;
	char p50[16], p90[16], p99[16], mx[16];

	fmt_duration(p50, sizeof(p50), dist_quantile(&m->life, 0.5));
	fmt_duration(p90, sizeof(p90), dist_quantile(&m->life, 0.9));
	fmt_duration(p99, sizeof(p99), dist_quantile(&m->life, 0.99));
	fmt_duration(mx, sizeof(mx), m->life.max);
	fprintf(f, "\nZombie lifetimes (%" PRIu64 " reaped): p50 %s, p90 %s, p99 %s, max %s\n",
		reaped, p50, p90, p99, mx);
	for (int b = 0; b < MODEL_LIFE_BUCKETS; b++) {
		uint64_t k = m->life_bucket[b];
		int bar = (int)((k * 40 + reaped - 1) / reaped);

		if (!k)
			continue;
		fprintf(f, "  %-9s %8" PRIu64 " %5.1f%% %.*s\n", life_label[b], k,
			100.0 * (double)k / (double)reaped, bar,
			"########################################");
	}
}

int report_text_body(FILE *out, const char *path, const struct model *m)
{
	const struct model_parent **ps = NULL;
	long n = model_parents(m, &ps);
	uint64_t end = model_end_ns(m);
	struct out_mem om = { .f = out, .boot_wall_ns = m->hdr.boot_wall_ns };
	/* Lost events are said below, once for both halves. */
	struct mem_summary_opts so = { .now_ns = end, .sys = m->sys.n ? &m->sys : NULL };

	text_head(out, path, m);
	if (n >= 0) {
		text_zombies(out, m, ps, n);
		if (out_text_unreaped(out, m->zs, end) || out_mem_summary(&om, m->mem, &so))
			n = -ENOMEM;
	}
	free(ps);
	if (n < 0) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return -1;
	}
	fprintf(out, "\nLost: %" PRIu64 " events (ring buffer full), %" PRIu64
		" processes untracked (kernel maps full)%s\n",
		m->drops.ringbuf, m->drops.tracked,
		m->drops.ringbuf || m->drops.tracked ? ": counts are low" : "");
	if (m->stop)
		fprintf(out, "INCOMPLETE: reading stopped at byte %" PRIu64 ": %s\n", m->stop_at,
			m->stop);
	else if (!m->has_end)
		fprintf(out, "INCOMPLETE: the capture has no end (the recorder was killed or its "
			"disk filled up)\n");
	return 0;
}

int report_text(const char *path, FILE *out)
{
	struct model m;

	if (model_init(&m, NULL))
		return -1;
	int read = model_read(&m, path);

	if (read >= 0 && report_text_body(out, path, &m))
		read = -1;
	int ret = report_finish(path, &m, read);

	model_free(&m);
	return ret;
}

/* ------------------------------------------------------------ JSON Lines */

struct jsonl {
	struct out z;
	struct out_mem mem;
};

static void json_zombie(void *ctx, const struct zs_zombie *z)
{
	out_zombie(&((struct jsonl *)ctx)->z, z);
}

static void json_reap(void *ctx, const struct zs_reap *r)
{
	out_reap(&((struct jsonl *)ctx)->z, r);
}

static void json_mem(void *ctx, const struct zm_mem_event *e)
{
	struct jsonl *j = ctx;

	if (e->type == ZM_EV_OOM)
		out_oom(&j->mem, e);
	else
		out_rss(&j->mem, e);
}

static void json_sys(void *ctx, const struct sysmem *s)
{
	out_sysmem(&((struct jsonl *)ctx)->mem, s);
}

static const char *const kind_name[] = {
	[ZM_EV_FORK] = "fork",	    [ZM_EV_EXEC] = "exec",    [ZM_EV_EXIT] = "exit",
	[ZM_EV_REAP] = "reap",	    [ZM_EV_RSS] = "rss",      [ZM_EV_OOM] = "oom_kill",
	[REC_START] = "start",	    [REC_PROC] = "proc",      [REC_ZOMBIE] = "zombie",
	[REC_SYSMEM] = "sysmem",    [REC_DROPS] = "drops",    [REC_END] = "end",
	[REC_GONE] = "gone",
};

static const char *kind_of(uint8_t type)
{
	return type < sizeof(kind_name) / sizeof(kind_name[0]) && kind_name[type] ? kind_name[type]
										  : "?";
}

static void json_capture(FILE *f, const char *path, const struct model *m)
{
	fprintf(f, "{\"event\":\"capture\",\"file\":");
	json_str(f, path, 4096);
	fprintf(f, ",\"host\":");
	json_str(f, m->hdr.host, sizeof(m->hdr.host));
	fprintf(f, ",\"kernel\":");
	json_str(f, m->hdr.kernel, sizeof(m->hdr.kernel));
	fprintf(f, ",\"options\":");
	json_str(f, m->hdr.options, sizeof(m->hdr.options));
	fprintf(f,
		",\"boot_wall_ns\":%" PRIu64 ",\"first_ns\":%" PRIu64 ",\"end_ns\":%" PRIu64
		",\"records\":%" PRIu64 ",\"counts\":{",
		m->hdr.boot_wall_ns, m->first_ns, model_end_ns(m), m->records);
	bool first = true;

	for (size_t t = 1; t < sizeof(kind_name) / sizeof(kind_name[0]); t++) {
		if (!kind_name[t])
			continue;
		fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", kind_name[t], m->by_type[t]);
		first = false;
	}
	fprintf(f, "},\"lost_events\":%" PRIu64 ",\"untracked\":%" PRIu64 ",\"complete\":%s",
		m->drops.ringbuf, m->drops.tracked, m->has_end && !m->stop ? "true" : "false");
	if (m->stop) {
		fprintf(f, ",\"stopped_at\":%" PRIu64 ",\"stop_reason\":", m->stop_at);
		json_str(f, m->stop, sizeof(m->stop_buf));
	}
	fputs("}\n", f);
}

int report_json(const char *path, FILE *out)
{
	struct model m;
	struct jsonl j = { .z = { .f = out, .json = true }, .mem = { .f = out, .json = true } };
	struct model_observer obs = {
		.ctx = &j, .zombie = json_zombie, .reap = json_reap, .mem = json_mem, .sys = json_sys,
	};

	if (model_init(&m, &obs))
		return -1;
	int read = model_read(&m, path);

	if (read >= 0) {
		struct out_totals tot = {
			.end_ns = model_end_ns(&m),
			.lost_ringbuf = m.drops.ringbuf,
			.untracked = m.drops.tracked,
			.exact_reaps = m.has_start && (m.start.flags & REC_S_EXACT_REAPS),
		};
		struct mem_summary_opts so = {
			.now_ns = tot.end_ns,
			.lost_ringbuf = m.drops.ringbuf,
			.sys = m.sys.n ? &m.sys : NULL,
		};

		if (out_summary(&j.z, m.zs, &tot) || out_mem_summary(&j.mem, m.mem, &so)) {
			fprintf(stderr, "zmtrace: out of memory\n");
			read = -1;
		} else {
			json_capture(out, path, &m);
		}
	}
	int ret = report_finish(path, &m, read);

	model_free(&m);
	return ret;
}

/* ------------------------------------------------------------ CSV */

#define CSV_COLUMNS                                                                        \
	"kind,ts_ns,time_utc,pid,comm,ppid,parent_comm,other_pid,start_ns,code,flags,zombie_ns," \
	"rss_kb,anon_kb,file_kb,shmem_kb,swap_kb,vsize_kb,peak_rss_kb,peak_vsize_kb,"          \
	"mem_total_kb,mem_used_kb,mem_app_kb,buffers_kb,cached_kb,swap_used_kb,lost_events,"  \
	"untracked"

struct csv {
	FILE *f;
	uint64_t boot_wall_ns;
};

/* A text cell: quoted when it holds a comma, quote or line break (RFC 4180);
 * control bytes shown as '?'. */
static void csv_str(FILE *f, const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	bool quote = strcspn(s, ",\"\r\n") < n || (n && (s[0] == ' ' || s[n - 1] == ' '));

	if (quote)
		fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"')
			fputs("\"\"", f);
		else
			fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
	}
	if (quote)
		fputc('"', f);
}

static void csv_time(struct csv *c, uint64_t ts)
{
	uint64_t real = ts + c->boot_wall_ns;
	time_t secs = (time_t)(real / NSEC_PER_SEC);
	struct tm tm;
	char buf[40];

	if (gmtime_r(&secs, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm))
		fprintf(c->f, ",%s.%06uZ", buf, (unsigned)(real % NSEC_PER_SEC / 1000));
	else
		fputs(",", c->f);
}

static void csv_u64(FILE *f, uint64_t v)
{
	fprintf(f, ",%" PRIu64, v);
}

/* n empty cells */
static void csv_skip(FILE *f, int n)
{
	while (n-- > 0)
		fputc(',', f);
}

static void csv_mem(FILE *f, const struct zm_mem_event *e, bool peaks)
{
	csv_u64(f, e->anon_kb + e->file_kb + e->shmem_kb);
	csv_u64(f, e->anon_kb);
	csv_u64(f, e->file_kb);
	csv_u64(f, e->shmem_kb);
	csv_u64(f, e->swap_kb);
	csv_u64(f, e->vsize_kb);
	if (peaks) {
		csv_u64(f, e->peak_rss_kb);
		csv_u64(f, e->peak_vm_kb);
	} else {
		csv_skip(f, 2);
	}
}

static int csv_rec(void *ctx, const struct rec *r)
{
	struct csv *c = ctx;
	FILE *f = c->f;
	uint64_t ts = rec_ts(r);

	fputs(kind_of(r->type), f);
	csv_u64(f, ts);
	csv_time(c, ts);
	switch (r->type) {
	case ZM_EV_FORK:
	case ZM_EV_EXEC:
	case ZM_EV_EXIT:
	case ZM_EV_REAP: {
		const struct zm_event *e = &r->ev;

		fprintf(f, ",%u,", e->pid);
		csv_str(f, e->comm, ZM_COMM_LEN);
		fprintf(f, ",%u,", e->ppid);
		csv_str(f, e->pcomm, ZM_COMM_LEN);
		fprintf(f, ",%u,%" PRIu64 ",%u,%u,", e->other_pid, (uint64_t)e->start_ns, e->code,
			e->flags);
		if (e->type == ZM_EV_REAP && e->aux_ns && e->aux_ns <= e->ts_ns)
			fprintf(f, "%" PRIu64, (uint64_t)(e->ts_ns - e->aux_ns));
		csv_skip(f, 16);
		break;
	}
	case ZM_EV_RSS:
	case ZM_EV_OOM:
		fprintf(f, ",%u,", r->mem.pid);
		csv_str(f, r->mem.comm, ZM_COMM_LEN);
		csv_skip(f, 3);
		fprintf(f, ",,,%u,", r->mem.flags);
		csv_mem(f, &r->mem, r->mem.flags & ZM_M_EXIT || r->type == ZM_EV_OOM);
		csv_skip(f, 8);
		break;
	case REC_PROC:
		fprintf(f, ",%u,", r->proc.mem.pid);
		csv_str(f, r->proc.mem.comm, ZM_COMM_LEN);
		fprintf(f, ",%u,,,%" PRIu64 ",,,", r->proc.ppid, r->proc.start_ns);
		if (r->proc.has_mem)
			csv_mem(f, &r->proc.mem, false);
		else
			csv_skip(f, 8);
		csv_skip(f, 8);
		break;
	case REC_ZOMBIE:
		fprintf(f, ",%u,", r->zombie.pid);
		csv_str(f, r->zombie.comm, ZM_COMM_LEN);
		fprintf(f, ",%u,", r->zombie.ppid);
		csv_str(f, r->zombie.pcomm, ZM_COMM_LEN);
		fprintf(f, ",,%" PRIu64 ",%u,,", r->zombie.start_ns, r->zombie.status);
		csv_skip(f, 16);
		break;
	case REC_SYSMEM:
		csv_skip(f, 17);
		csv_u64(f, r->sys.total_kb);
		csv_u64(f, r->sys.used_kb);
		csv_u64(f, r->sys.app_kb);
		csv_u64(f, r->sys.buffers_kb);
		csv_u64(f, r->sys.cached_kb);
		csv_u64(f, r->sys.swap_used_kb);
		csv_skip(f, 2);
		break;
	case REC_DROPS:
	case REC_END:
		csv_skip(f, 23);
		csv_u64(f, r->drops.ringbuf);
		csv_u64(f, r->drops.tracked);
		break;
	case REC_GONE:
		fprintf(f, ",%u", r->hdr.pid);
		csv_skip(f, 24);
		break;
	default: /* START */
		csv_skip(f, 25);
		break;
	}
	fputc('\n', f);
	return 0;
}

static void csv_header(void *ctx, const struct cap_header *h)
{
	((struct csv *)ctx)->boot_wall_ns = h->boot_wall_ns;
}

int report_csv(const char *path, FILE *out)
{
	struct model m;
	struct csv c = { .f = out };
	struct model_observer obs = { .ctx = &c, .header = csv_header, .rec = csv_rec };

	if (model_init(&m, &obs))
		return -1;
	fputs(CSV_COLUMNS "\n", out);
	int read = model_read(&m, path);
	int ret = report_finish(path, &m, read);

	model_free(&m);
	return ret;
}

/* ------------------------------------------------------------ command */

static const struct format {
	const char *name;
	int (*run)(const char *path, FILE *out);
} formats[] = {
	{ "text", report_text }, { "json", report_json }, { "csv", report_csv },
	{ "html", report_html }, { "perfetto", report_perfetto },
};

int cmd_report(int argc, char **argv)
{
	static const char usage[] =
		"zmtrace report FILE [--format text|json|csv|html|perfetto] [-o OUT]";
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const struct format *fmt = &formats[0];
	const char *output = NULL;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			fmt = NULL;
			for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
				if (!strcmp(optarg, formats[i].name))
					fmt = &formats[i];
			if (!fmt) {
				fprintf(stderr, "zmtrace: --format wants text, json, csv, html or "
					"perfetto, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'o':
			if (!optarg[0]) {
				fprintf(stderr, "zmtrace: -o wants a file name\n");
				return 2;
			}
			output = optarg;
			break;
		case 'h':
			printf("usage: %s\n", usage);
			return 0;
		default:
			fprintf(stderr, "zmtrace: unknown option or missing value: %s (usage: %s)\n",
				argv[optind - 1], usage);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "zmtrace: report wants one capture file (usage: %s)\n", usage);
		return 2;
	}
	const char *path = argv[optind];
	struct stat in, o;

	/* Before -o creates or empties anything: the capture is there, and
	 * is not the output. */
	if (stat(path, &in)) {
		fprintf(stderr, "zmtrace: cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (output && !stat(output, &o) && o.st_dev == in.st_dev && o.st_ino == in.st_ino) {
		fprintf(stderr, "zmtrace: -o %s is the capture itself\n", output);
		return 2;
	}
	FILE *out = output ? open_output(output) : stdout;

	if (!out)
		return 2;
	int ret = fmt->run(path, out);
	int err = fflush(out) == EOF || ferror(out) ? errno : 0;

	if (out != stdout && fclose(out) == EOF && !err)
		err = errno;
	if (err && ret >= 0)
		return out_write_error(err) == -EPIPE ? 141 : 1;
	return ret < 0 ? 1 : ret;
}
