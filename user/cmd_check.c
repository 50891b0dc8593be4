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

static int leak_line(void *ctx, const struct mp_proc *p)
{
	struct verdict *vd = ctx;
	struct ms_verdict v;
	char comm[ZM_COMM_LEN], rss[16];

	ms_verdict(&p->series, p->exited ? p->last_ns : vd->end_ns, 0, &v);
	if (!v.suspect)
		return 0;
	offence(vd);
	printable(comm, p->comm);
	fmt_kb(rss, sizeof(rss), p->rss_kb);
	fprintf(stderr, "  pid %u %s: memory keeps growing (--no-leak): RSS %s, +%.1f KiB/s (R² %.2f) "
		"over %.1f s, %s\n", p->pid, comm, rss, v.rss_slope_kb_s, v.rss_r2,
		(double)v.span_ns / 1e9, v.why);
	return 0;
}

/* The verdict, said on stderr. true when a limit was exceeded. */
static bool judge(const struct model *m, const struct limits *l, const char *what, int status)
{
	const struct model_parent **ps;
	long n = model_parents(m, &ps);
	struct verdict vd = { .what = what, .end_ns = model_end_ns(m) };

	if (n < 0) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return true;
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
	if (l->no_leak)
		mst_each(m->mem, leak_line, &vd);
	if (m->drops.ringbuf || m->drops.tracked)
		fprintf(stderr,
			"zmtrace check: warning: %" PRIu64 " events lost, %" PRIu64
			" processes untracked: the counts above may be low\n",
			m->drops.ringbuf, m->drops.tracked);
	if (!vd.offences && status)
		fprintf(stderr, "zmtrace check: within the limits, but %s exited with status %d\n",
			what, status);
	else if (!vd.offences)
		fprintf(stderr, "zmtrace check: passed (%s)\n", what);
	return vd.offences != 0;
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
	/* The rest as any tracing command's, with argv[0] in front. */
	argv[first - 1] = argv[0];
	int ret = parse_trace_args(argc - first + 1, argv + first - 1, usage, &a);

	if (ret)
		return ret == 1 ? 0 : 2;
	if (!a.s.command || a.s.pid || a.s.comm || a.s.duration > 0) {
		fprintf(stderr, "zmtrace: check runs a command: -- COMMAND [ARG...] (usage: %s)\n",
			usage);
		return 2;
	}
	struct recorder *rec;
	char path[64];
	int fd = -1;

	if (a.capture_path) {
		if (recorder_open(&rec, a.capture_path, argc, argv))
			return 1;
	} else {
		/* No file asked for: the capture lives in memory. */
		fd = memfd_create("zmtrace-check", MFD_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "zmtrace: memfd_create: %s\n", strerror(errno));
			return 1;
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (recorder_open_fd(&rec, fd, "the capture in memory", argc, argv)) {
			close(fd);
			return 1;
		}
	}
	const char *file = a.capture_path ? a.capture_path : path;
	int status = record_session(&a, rec);

	if (recorder_close(rec) && status == 0)
		status = 1;
	struct model m;
	int read = -1;

	if (model_init(&m, NULL) == 0) {
		m.long_ns = l.max_zombie_ns;
		read = model_read(&m, file);
		/* Without an end, the session failed (and said why). */
		if (read >= 0 && m.has_end && judge(&m, &l, a.s.command[0], status))
			status = CHECK_FAILED;
		if (read > 0)
			report_finish(a.capture_path ? a.capture_path : "the capture", &m, read);
		model_free(&m);
	}
	if (read < 0 && status == 0)
		status = 1;
	if (fd >= 0)
		close(fd);
	return status;
}
