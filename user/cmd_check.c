/*
 * zmtrace check: run a command traced with its descendants, recorded to a
 * capture (-o FILE, or memory), then judge the capture against limits:
 * exit 0 when it stayed within them, 3 with a short report naming each
 * offending process and parent when not. Meant for CI: "this test suite
 * leaves no zombie older than 500 ms and no growing process".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "model.h"
#include "recorder.h"
#include "report.h"
#include "util.h"

/* The status when a limit was exceeded: not one a shell gives a command
 * that ran (126, 127, 128+n) nor zmtrace's own 1 and 2. */
#define CHECK_FAILED 3

struct limits {
	uint64_t max_zombie_ns; /* 0: none */
	long max_unreaped;	/* -1: none */
	bool no_leak;
};

static int parse_limit(const char *opt, const char *arg, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-') {
		fprintf(stderr, "zmtrace: %s wants a whole number >= 0, not '%s'\n", opt, arg);
		return -1;
	}
	*out = v;
	return 0;
}

/* Takes check's own options out of argv (they come before the tracing
 * options and --); the rest goes to parse_trace_args. Returns the index of
 * the first argument left, or -1 after a usage error. */
static int parse_limits(int argc, char **argv, struct limits *l, const char *usage)
{
	bool any = false;
	int i = 1;

	for (; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		uint64_t n;
		size_t len = strcspn(a, "=");

		if (!strcmp(a, "--no-leak")) {
			l->no_leak = any = true;
			continue;
		}
		if (strncmp(a, "--max-zombie-ms", len) && strncmp(a, "--max-unreaped", len))
			break;
		if (len < 7) /* "--max-": ambiguous */
			break;
		v = a[len] ? a + len + 1 : i + 1 < argc ? argv[++i] : NULL;
		if (!v) {
			fprintf(stderr, "zmtrace: %.*s wants a number (usage: %s)\n", (int)len, a, usage);
			return -1;
		}
		if (!strncmp(a, "--max-zombie-ms", len)) {
			if (parse_limit("--max-zombie-ms", v, &n) || n > UINT64_MAX / NSEC_PER_MSEC)
				return -1;
			l->max_zombie_ns = n * NSEC_PER_MSEC;
			if (!n) /* a limit of 0 ms: every zombie counts */
				l->max_zombie_ns = 1;
		} else {
			if (parse_limit("--max-unreaped", v, &n) || n > INT32_MAX)
				return -1;
			l->max_unreaped = (long)n;
		}
		any = true;
	}
	if (!any) { /* the defaults: documented in the README */
		l->max_zombie_ns = 1000 * NSEC_PER_MSEC;
		l->no_leak = true;
	}
	return i;
}

static void printable(char dst[ZM_COMM_LEN], const char *src)
{
	copy_comm(dst, src);
	for (char *c = dst; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

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
	printable(comm, name);
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
static int judge(const struct model *m, const struct limits *l, const char *what, int status)
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

		printable(comm, p->comm);
		printable(wcomm, p->worst_comm);
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
	struct limits l = { .max_unreaped = -1 };
	struct trace_args a = {
		.s = { .what = "events", .lifecycle = true, .zombies = true, .rss = true,
		       .rss_threshold = 1 << 20, .interval = 1 },
		.memory_options = true,
		.capture = true,
	};
	int first = parse_limits(argc, argv, &l, usage);

	if (first < 0)
		return 2;
	/* The rest as any tracing command's, with argv[0] in front (in a copy:
	 * the capture's header keeps the command line as it was). */
	char **targv = calloc((size_t)(argc - first + 2), sizeof(*targv));

	if (!targv) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return 1;
	}
	targv[0] = argv[0];
	memcpy(targv + 1, argv + first, (size_t)(argc - first) * sizeof(*targv));
	int ret = parse_trace_args(argc - first + 1, targv, usage, &a);

	if (ret) {
		free(targv);
		return ret == 1 ? 0 : 2;
	}
	if (!a.s.command || a.s.pid || a.s.comm || a.s.duration > 0) {
		fprintf(stderr, "zmtrace: check runs a command: -- COMMAND [ARG...] (usage: %s)\n",
			usage);
		free(targv);
		return 2;
	}
	/* The model takes the records as they come: no file is read back, and
	 * without -o nothing is kept but the model's bounded state. */
	struct model m;
	struct recorder *rec;
	int status = 1;

	if (model_init(&m, NULL)) {
		free(targv);
		return 1;
	}
	m.long_ns = l.max_zombie_ns;
	m.keep_suspects = l.no_leak;
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
		int v = judge(&m, &l, a.s.command[0], status);

		status = v > 0 ? CHECK_FAILED : v < 0 ? 1 : status;
	} else if (!status) {
		status = 1;
	}
out:
	model_free(&m);
	free(targv);
	return status;
}
