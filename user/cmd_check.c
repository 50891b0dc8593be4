/*
 * zmtrace check: run a command traced with its descendants, replay its
 * events as they come (and record them with -o FILE), then judge against
 * limits:
 * exit 0 when it stayed within them, 3 with a short report naming each
 * offending process and parent when not. Meant for CI: "this test suite
 * leaves no zombie older than 500 ms and no growing process".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "model.h"
#include "output.h"
#include "recorder.h"
#include "report.h"
#include "util.h"

/* The status when a limit was exceeded: not one a shell gives a command
 * that ran (126, 127, 128+n) nor zmtrace's own 1 and 2. */
#define CHECK_FAILED 3

struct verdict {
	const char *what; /* the command */
	size_t offences;
	uint64_t end_ns;
};

/* The heading comes with the first offence. */
static void offence(struct verdict *v)
{
	if (!v->offences++)
		fprintf(stderr, "zmtrace check: FAILED (%s)\n", v->what);
}

static void leak_line(struct verdict *vd, uint32_t pid, const char *name, uint64_t rss_kb,
		      const struct ms_verdict *v)
{
	char comm[ZM_COMM_LEN], rss[16];

	offence(vd);
	out_printable(comm, name);
	fmt_kb(rss, sizeof(rss), rss_kb);
	fprintf(stderr, "  pid %u %s: memory keeps growing (--no-leak): RSS %s, +%.1f KiB/s (R² %.2f) "
		"over %.1f s, %s\n", pid, comm, rss, v->rss_slope_kb_s, v->rss_r2,
		(double)v->span_ns / 1e9, v->why);
}

/* The processes still there at the end (those that exited were judged
 * as they did: model.suspects). */
static int live_leak(void *ctx, const struct mp_proc *p)
{
	struct verdict *vd = ctx;
	struct ms_verdict v;

	if (p->exited)
		return 0;
	ms_verdict(&p->series, vd->end_ns, 0, &v);
	if (v.suspect)
		leak_line(vd, p->pid, p->comm, p->rss_kb, &v);
	return 0;
}

/* The verdict, said on stderr: 0 within the limits, 1 not, -1 after an
 * error (said). */
static int judge(const struct model *m, const struct check_limits *l, const char *what, int status)
{
	const struct model_parent **ps;
	long n = model_parents(m, &ps);
	struct verdict vd = { .what = what, .end_ns = model_end_ns(m) };

	if (n < 0) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return -1;
	}
	for (long i = 0; i < n; i++) {
		const struct model_parent *p = ps[i];
		char comm[ZM_COMM_LEN], wcomm[ZM_COMM_LEN], longest[16], lim[16];

		out_printable(comm, p->comm);
		out_printable(wcomm, p->worst_comm);
		if (l->max_zombie_ns && p->long_zombies) {
			offence(&vd);
			fmt_duration(longest, sizeof(longest), p->worst_ns);
			fmt_duration(lim, sizeof(lim), l->max_zombie_ns);
			fprintf(stderr,
				"  parent %u %s: %" PRIu64 " zombie%s lived longer than %s "
				"(--max-zombie-ms); the longest, pid %u %s, %s\n",
				p->pid, comm, p->long_zombies, p->long_zombies == 1 ? "" : "s", lim,
				p->worst_pid, wcomm, longest);
		}
		if (l->max_unreaped >= 0 && p->peak > (uint64_t)l->max_unreaped) {
			offence(&vd);
			fprintf(stderr,
				"  parent %u %s: %u zombies unreaped at once (--max-unreaped %ld); %u "
				"still unreaped at the end\n",
				p->pid, comm, p->peak, l->max_unreaped, p->unreaped);
		}
	}
	free(ps);
	if (l->no_leak) {
		for (size_t i = 0; i < m->nsuspects; i++)
			leak_line(&vd, m->suspects[i].pid, m->suspects[i].comm, m->suspects[i].rss_kb,
				  &m->suspects[i].v);
		mst_each(m->mem, live_leak, &vd);
	}
	if (m->drops.ringbuf || m->drops.tracked || m->parents_dropped || m->suspects_dropped)
		fprintf(stderr,
			"zmtrace check: warning: %" PRIu64 " events lost, %" PRIu64
			" processes untracked, %" PRIu64 " parents and %" PRIu64
			" leak suspects past the tables: the verdict may miss some\n",
			m->drops.ringbuf, m->drops.tracked, m->parents_dropped, m->suspects_dropped);
	if (!vd.offences && status)
		fprintf(stderr, "zmtrace check: within the limits, but %s exited with status %d\n",
			what, status);
	else if (!vd.offences)
		fprintf(stderr, "zmtrace check: passed (%s)\n", what);
	return vd.offences != 0;
}

/* The recorder's tap: each record into the model as it is written. */
static int tap(void *ctx, const struct rec *r)
{
	if (!model_apply(ctx, r))
		return 0;
	fprintf(stderr, "zmtrace: out of memory\n");
	return -1;
}

int cmd_check(int argc, char **argv)
{
	static const char usage[] =
		"zmtrace check [--max-zombie-ms N] [--max-unreaped N] [--no-leak] [-o FILE] "
		"[--threshold SIZE] [--interval SEC] [-v] -- COMMAND [ARG...]";
	struct trace_args a = {
		.s = { .what = "events", .lifecycle = true, .zombies = true, .rss = true,
		       .rss_threshold = 1 << 20, .interval = 1 },
		.memory_options = true,
		.capture = true,
		.check_options = true,
		.limits = { .max_unreaped = -1 },
	};
	struct check_limits *l = &a.limits;
	int ret = parse_trace_args(argc, argv, usage, &a);

	if (ret)
		return ret == 1 ? 0 : 2;
	if (!a.s.command || a.s.pid || a.s.comm || a.s.duration > 0) {
		fprintf(stderr, "zmtrace: check runs a command: -- COMMAND [ARG...] (usage: %s)\n",
			usage);
		return 2;
	}
	if (!l->given) { /* the defaults: documented in the README */
		l->max_zombie_ns = 1000 * NSEC_PER_MSEC;
		l->no_leak = true;
	}
	/* The model takes the records as they come: no file is read back, and
	 * without -o nothing is kept but the model's bounded state. */
	struct model m;
	struct recorder *rec;
	int status = 1;

	if (model_init(&m, NULL))
		return 1;
	m.long_ns = l->max_zombie_ns;
	m.keep_suspects = l->no_leak;
	/* argv[-1] is "zmtrace": the header keeps the whole command line. */
	if (a.capture_path ? recorder_open(&rec, a.capture_path, argc + 1, argv - 1)
			   : recorder_open_null(&rec))
		goto out;
	recorder_tap(rec, tap, &m);
	status = record_session(&a, rec);
	if (recorder_close(rec) && status == 0)
		status = 1;
	model_finish(&m);
	/* Without an end, the session failed and said why: no verdict. */
	if (m.has_end && !m.err) {
		int v = judge(&m, l, a.s.command[0], status);

		status = v > 0 ? CHECK_FAILED : v < 0 ? 1 : status;
	} else if (!status) {
		status = 1;
	}
out:
	model_free(&m);
	return status;
}
