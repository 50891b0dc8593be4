/*
 * Synthetic load for the capture benchmark (tools/bench-capture.sh): puts
 * made-up but realistic events (bpf/capload.bpf.c) into a running zmtrace's
 * own ring buffer, at a steady rate, for the real collector to read.
 *
 *   capture_load --pid ZMTRACE_PID --rate EVENTS_PER_S --seconds N
 *                [--batch K] [--rss N] [--tick-us T] [--burst]
 *
 * The ring buffer is found among the process's file descriptors (fdinfo's
 * map_id lines): the map named "events" of type BPF_MAP_TYPE_RINGBUF. Its
 * "drops" counters are shared too when found, so a full ring buffer counts
 * in zmtrace's own lost-event figure as a real event's loss would.
 *
 * Pacing: every tick (1 ms; --tick-us; absolute deadlines, clock_nanosleep)
 * the events due by then are sent, in runs of --batch events (default: a
 * tick's worth, one run a tick). Being late (a descheduled injector) is made
 * up at the next tick, so the total is right, and so is the rate over any
 * second without a longer stall (max_late_ms says). A run makes its events
 * back to back (well under a microsecond apart), then nothing until the
 * next tick; their timestamps are spread over the time since the previous
 * run, at random moments, about as far apart as a steady stream's
 * (--burst: the clock's, bunched by run).
 *
 * Prints one line of key=value figures at the end; exits 1 on any error
 * (with a one-line message), 2 on a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capload.skel.h"
#include "zmtrace.h"

/* The program's context; the same struct as in bpf/capload.bpf.c. */
struct capload_args {
	uint32_t count;
	uint32_t rss_events;
	uint32_t sent;
	uint32_t failed;
	uint64_t spread_ns;
};
_Static_assert(sizeof(struct capload_args) == 24, "capload_args is shared with BPF");

#define CAPLOAD_MAX_BATCH 65536 /* as bpf/capload.bpf.c caps it */
#define CAPLOAD_MAX_RSS 64
#define PID_MAX_LIMIT 4194304u	/* the kernel's highest pid_max */
#define SPREAD_MAX_NS 100000000ull /* spread events over at most 100 ms */

static void usage(FILE *f)
{
	fprintf(f, "usage: capture_load --pid ZMTRACE_PID --rate EVENTS_PER_S --seconds N "
		   "[--batch K] [--rss N] [--tick-us T] [--burst]\n"
		   "  --batch K    events per BPF program run (default a tick's worth, at most %d)\n"
		   "  --rss N      memory events per made-up process: at exec, N-2 more, at exit\n"
		   "               (default 5, at most %d)\n"
		   "  --tick-us T  pacing period in microseconds (default 1000, from 10)\n"
		   "  --burst      event times as the clock reads them, bunched by run, not\n"
		   "               spread over the time since the previous run\n",
		CAPLOAD_MAX_BATCH, CAPLOAD_MAX_RSS);
}

/* A whole decimal number in [min, max], or false. */
static bool parse_num(const char *s, unsigned long long min, unsigned long long max,
		      unsigned long long *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);

	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Silence libbpf's chatter, but not its warnings and errors. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

struct found {
	int events_fd, drops_fd; /* -1: none */
	struct bpf_map_info events_info;
};

/* Is map fd the one we look for? Keeps it (and its info) if so. */
static void consider_map(struct found *f, int fd)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return;
	}
	if (f->events_fd < 0 && info.type == BPF_MAP_TYPE_RINGBUF &&
	    !strcmp(info.name, "events")) {
		f->events_fd = fd;
		f->events_info = info;
		return;
	}
	/* zmtrace's lost-event counters: per-CPU u64 by zm_drop_kind. */
	if (f->drops_fd < 0 && info.type == BPF_MAP_TYPE_PERCPU_ARRAY &&
	    !strcmp(info.name, "drops") && info.key_size == 4 && info.value_size == 8 &&
	    info.max_entries == ZM_DROP_KINDS) {
		f->drops_fd = fd;
		return;
	}
	close(fd);
}

/*
 * Find pid's "events" ring buffer (and "drops") through /proc/PID/fdinfo:
 * a BPF map's fdinfo has a "map_id:" line, and the id opens the map from
 * here (CAP_SYS_ADMIN). Returns 0, or -1 with a message in err.
 */
static int find_maps(unsigned pid, struct found *f, char *err, size_t errlen)
{
	char path[64];

	f->events_fd = f->drops_fd = -1;
	snprintf(path, sizeof(path), "/proc/%u/fdinfo", pid);
	DIR *d = opendir(path);

	if (!d) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct dirent *de;

	while ((de = readdir(d)) && (f->events_fd < 0 || f->drops_fd < 0)) {
		if (de->d_name[0] == '.')
			continue;
		char file[128], line[256];

		snprintf(file, sizeof(file), "%s/%.32s", path, de->d_name);
		FILE *in = fopen(file, "r");

		if (!in)
			continue; /* the fd was closed meanwhile */
		unsigned long id = 0;

		while (fgets(line, sizeof(line), in))
			if (sscanf(line, "map_id: %lu", &id) == 1)
				break;
		fclose(in);
		if (!id || id > UINT32_MAX)
			continue;
		int fd = bpf_map_get_fd_by_id((uint32_t)id);

		if (fd >= 0)
			consider_map(f, fd);
	}
	closedir(d);
	if (f->events_fd < 0) {
		snprintf(err, errlen, "process %u holds no BPF ring buffer map named \"events\"",
			 pid);
		return -1;
	}
	return 0;
}

/* The smallest pid above this machine's pid_max: the made-up processes'
 * pids start there, so none is a real process's. */
static uint32_t synthetic_pid_base(void)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
	unsigned long max = 0;

	if (f) {
		if (fscanf(f, "%lu", &max) != 1)
			max = 0;
		fclose(f);
	}
	/* pid_max at its limit (4194304): nothing is free above it; take the
	 * top quarter, where pids are rarely reached. */
	if (!max || max + 1000000 > PID_MAX_LIMIT)
		return PID_MAX_LIMIT - PID_MAX_LIMIT / 4;
	return (uint32_t)max + 1000; /* the parents' pids are just below */
}

int main(int argc, char **argv)
{
	unsigned long long pid = 0, rate = 0, seconds = 0, batch = 0, rss = 5, tick_us = 1000;
	bool burst = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--burst")) {
			burst = true;
			continue;
		}
		if (!strcmp(a, "--pid"))
			ok = parse_num(v, 1, INT_MAX, &pid);
		else if (!strcmp(a, "--rate"))
			ok = parse_num(v, 1, 100000000, &rate);
		else if (!strcmp(a, "--seconds"))
			ok = parse_num(v, 1, 86400, &seconds);
		else if (!strcmp(a, "--batch"))
			ok = parse_num(v, 1, CAPLOAD_MAX_BATCH, &batch);
		else if (!strcmp(a, "--tick-us"))
			ok = parse_num(v, 10, 1000000, &tick_us);
		else if (!strcmp(a, "--rss"))
			ok = parse_num(v, 0, CAPLOAD_MAX_RSS, &rss);
		else {
			fprintf(stderr, "capture_load: unknown argument '%s'\n", a);
			usage(stderr);
			return 2;
		}
		if (!ok) {
			fprintf(stderr, "capture_load: %s wants a number in range, not '%s'\n", a,
				v ? v : "(nothing)");
			return 2;
		}
		i++;
	}
	if (!pid || !rate || !seconds) {
		usage(stderr);
		return 2;
	}
	const long long tick_ns = (long long)tick_us * 1000;

	if (!batch) /* one run a tick */
		batch = rate * tick_us / 1000000 ? rate * tick_us / 1000000 : 1;
	if (batch > CAPLOAD_MAX_BATCH)
		batch = CAPLOAD_MAX_BATCH;
	libbpf_set_print(libbpf_print);

	char err[256];
	struct found f = { .events_fd = -1, .drops_fd = -1 };

	if (find_maps((unsigned)pid, &f, err, sizeof(err))) {
		fprintf(stderr, "capture_load: %s\n", err);
		return 1;
	}
	struct capload_bpf *skel = capload_bpf__open();
	int ret = 1;

	if (!skel) {
		fprintf(stderr, "capture_load: cannot open the BPF object: %s\n", strerror(errno));
		goto out;
	}
	skel->rodata->pid_base = synthetic_pid_base();
	skel->rodata->pid_limit = PID_MAX_LIMIT;
	/*
	 * The map given to reuse_fd must match the declared one in type, key,
	 * value, size and flags or the load fails: its size is zmtrace's
	 * (ZMTRACE_RINGBUF_KB), so it is taken from the map itself.
	 */
	int e;

	if ((e = bpf_map__set_max_entries(skel->maps.events, f.events_info.max_entries)) ||
	    (e = bpf_map__reuse_fd(skel->maps.events, f.events_fd)) ||
	    (f.drops_fd >= 0 && (e = bpf_map__reuse_fd(skel->maps.drops, f.drops_fd)))) {
		fprintf(stderr, "capture_load: cannot reuse zmtrace's maps: %s\n", strerror(-e));
		goto out;
	}
	if ((e = capload_bpf__load(skel))) {
		fprintf(stderr, "capture_load: cannot load the BPF program: %s\n", strerror(-e));
		goto out;
	}
	int prog_fd = bpf_program__fd(skel->progs.capload);
	struct capload_args args = {
		.rss_events = (uint32_t)rss,
		.spread_ns = burst ? 0 : SPREAD_MAX_NS,
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &args, .ctx_size_in = sizeof(args));
	uint64_t total = rate * seconds, done = 0, sent = 0, failed = 0, runs = 0;
	long long t0 = now_ns(), max_late = 0;
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	while (done < total) {
		/* Events due by now (rate * elapsed, in two parts so that no
		 * product passes 64 bits), never past the total. */
		uint64_t el = (uint64_t)(now_ns() - t0);
		uint64_t due = rate * (el / 1000000000u) + rate * (el % 1000000000u) / 1000000000u;

		if (due > total)
			due = total;

		while (done < due) {
			uint64_t n = due - done < batch ? due - done : batch;

			args.count = (uint32_t)n;
			args.sent = args.failed = 0;
			if ((e = bpf_prog_test_run_opts(prog_fd, &opts)) || opts.retval) {
				fprintf(stderr, "capture_load: running the BPF program: %s\n",
					strerror(e ? -e : (int)-opts.retval));
				goto out;
			}
			sent += args.sent;
			failed += args.failed;
			done += n;
			runs++;
		}
		if (done >= total)
			break;
		/* The next tick (absolute: sleeping late never drifts). */
		deadline.tv_nsec += tick_ns;
		while (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_nsec -= 1000000000L;
			deadline.tv_sec++;
		}
		while ((e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL)) ==
		       EINTR)
			;
		if (e) {
			fprintf(stderr, "capture_load: clock_nanosleep: %s\n", strerror(e));
			goto out;
		}
		/* How late the wake-up was: the pacing's accuracy. */
		long long late = now_ns() - (deadline.tv_sec * 1000000000LL + deadline.tv_nsec);

		if (late > max_late)
			max_late = late;
		if (late > 100 * tick_ns) /* far behind (stopped?): no catching up in ticks */
			clock_gettime(CLOCK_MONOTONIC, &deadline);
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		     ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;

	/* The per-run counts and the program's own totals must agree. */
	if (skel->bss->total_sent != sent || skel->bss->total_failed != failed)
		fprintf(stderr, "capture_load: warning: totals disagree (runs %" PRIu64 "+%" PRIu64
			", program %llu+%llu)\n", sent, failed,
			(unsigned long long)skel->bss->total_sent,
			(unsigned long long)skel->bss->total_failed);
	printf("events_sent=%" PRIu64 " events_failed=%" PRIu64 " seconds=%.3f rate=%.0f "
	       "target_rate=%llu runs=%" PRIu64 " batch=%llu tick_us=%llu spread=%d "
	       "max_late_ms=%.1f injector_cpu_pct=%.1f ringbuf_bytes=%u drops_shared=%d\n",
	       sent, failed, secs, (double)done / secs, rate, runs, batch, tick_us, !burst,
	       (double)max_late / 1e6, secs > 0 ? 100 * cpu / secs : 0.0,
	       f.events_info.max_entries, f.drops_fd >= 0);
	ret = 0;
out:
	capload_bpf__destroy(skel);
	close(f.events_fd);
	if (f.drops_fd >= 0)
		close(f.drops_fd);
	return ret;
}
