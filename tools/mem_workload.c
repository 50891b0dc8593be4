/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * mem_workload: memory shapes for zmtrace rss's tests.
 *
 * Each mode makes one memory shape with private anonymous pages (mmap,
 * every page written once, transparent huge pages off so RSS moves a page at
 * a time) and prints the facts a test checks zmtrace against as JSON Lines,
 * one object per line, each with an "event" key, written with one write(2)
 * each (so several workloads can share one -o file). The process names
 * itself (prctl PR_SET_NAME) mw-MODE unless --name says otherwise.
 *
 *   grow MIB_PER_S SECONDS      steady linear growth: every tick (100 ms) the
 *                               pages due by then are mapped and touched
 *   steps MIB EVERY_S SECONDS   MIB at once at t = 0, EVERY_S, 2 EVERY_S, ...
 *                               (while t < SECONDS), never freed; exits at
 *                               SECONDS
 *   sawtooth PEAK_MIB PERIOD_S SECONDS
 *                               grows linearly to PEAK_MIB over each period,
 *                               then unmaps it all, repeatedly, for SECONDS
 *   plateau MIB SECONDS         MIB at once, then flat until SECONDS
 *   hold MIB                    MIB at once, then waits for SIGUSR1 (or EOF
 *                               on stdin when stdin is a pipe or socket)
 *   forker MIB COUNT            MIB at once, then forks COUNT children that
 *                               exit at once, reaping each
 *   oom MIB                     1 MiB at a time up to MIB, until killed
 *                               (exit 3 if MIB was reached alive)
 *
 * Facts (all times CLOCK_BOOTTIME ns, the clock of zmtrace's ts_ns):
 *   {"event":"start","pid","comm","mode","ts_ns"}     once, after naming
 *   {"event":"status","what","pid","ts_ns","vmrss_kb","vmsize_kb",
 *    "vmhwm_kb","vmpeak_kb","rss_anon_kb","rss_file_kb","rss_shmem_kb",
 *    "vmswap_kb","mapped_kb"}
 *       this process's own /proc/self/status at a chosen moment (ts_ns is
 *       taken right before the read; mapped_kb is what the workload has
 *       mapped and touched itself). "what": begin (before the shape), end
 *       (after it), step (after each step), peak (a sawtooth's top, before
 *       the unmap), trough (after it), full (plateau, hold, forker: after the
 *       allocation), release (hold: after the trigger), mib (oom: every
 *       8 MiB), exit (right before exiting)
 *   {"event":"ready","pid","ts_ns"}   --go: waiting for the trigger
 *   {"event":"child","pid","ppid","ts_ns"}   forker: a child forked and reaped
 *   {"event":"error",...} / {"event":"skip","reason"}
 *
 * Options (before MODE):
 *   -o FILE       facts to FILE (appended; created if missing) instead of
 *                 stdout: under `zmtrace -- mem_workload ...` stdout is
 *                 zmtrace's own
 *   --name COMM   the process's comm (default mw-MODE)
 *   --go          print "ready", then wait for SIGUSR1 (or EOF on a piped
 *                 stdin) before the shape
 *   --busy        pace by spinning instead of sleeping (stay on the CPU:
 *                 for zmtrace's --sample mode)
 *   --tick-ms MS  pacing tick of grow and sawtooth (default 100)
 *   --tail-ms MS  after the shape (and its "end" status), stay still MS
 *                 more before the "exit" status (sleeping, or spinning with
 *                 --busy)
 *
 * Exit status: 0 on success, 1 on a failure, 2 on a usage error, 3 when the
 * oom mode reached MIB alive, 77 when the machine cannot do it.
 *
 * Build: cc -O2 -std=c11 -Wall -Wextra -Werror -Iinclude \
 *            tools/mem_workload.c -pthread -o tools/mem_workload
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_SKIP 77
#define MIB (1024UL * 1024)

static int out_fd = STDOUT_FILENO;
static long page_size;
static bool opt_busy;
static long opt_tick_ms = 100;
static long opt_tail_ms;
static bool opt_go;
static const char *opt_name;

/* ---------------------------------------------------------------- basics */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * One JSON object per line, one write(2): no stdio buffer, no malloc, so
 * printing a fact never changes the RSS or VSIZE the facts are about.
 */
static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	for (char *p = buf; n > 0;) {
		ssize_t w = write(out_fd, p, (size_t)n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (int)w;
	}
}

static void die(const char *what) __attribute__((noreturn));
static void die(const char *what)
{
	int e = errno;

	emit("{\"event\":\"error\",\"pid\":%d,\"what\":\"%s\",\"errno\":%d,"
	     "\"error\":\"%s\"}",
	     (int)getpid(), what, e, strerror(e));
	fprintf(stderr, "mem_workload: %s: %s\n", what, strerror(e));
	exit(1);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mem_workload [-o FILE] [--name COMM] [--go] [--busy] [--tick-ms MS]\n"
		"                    [--tail-ms MS] MODE ARGS...\n"
		"  grow MIB_PER_S SECONDS\n"
		"  steps MIB EVERY_S SECONDS\n"
		"  sawtooth PEAK_MIB PERIOD_S SECONDS\n"
		"  plateau MIB SECONDS\n"
		"  hold MIB\n"
		"  forker MIB COUNT\n"
		"  oom MIB\n");
}

static double parse_num(const char *s, double lo, double hi, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi)) {
		fprintf(stderr, "mem_workload: bad %s '%s' (%g..%g)\n", what, s,
			lo, hi);
		exit(2);
	}
	return v;
}

static int64_t to_ns(double s)
{
	return (int64_t)(s * 1e9 + 0.5);
}

/* Sleep (or spin, with --busy) until CLOCK_BOOTTIME reaches deadline. */
static void pace_until(int64_t deadline)
{
	if (opt_busy) {
		while (now_ns() < deadline)
			;
		return;
	}
	for (;;) {
		int64_t left = deadline - now_ns();

		if (left <= 0)
			return;
		struct timespec ts = { (time_t)(left / 1000000000),
				       (long)(left % 1000000000) };

		clock_nanosleep(CLOCK_BOOTTIME, 0, &ts, NULL);
	}
}

/* ---------------------------------------------------------- /proc facts */

struct pstatus {
	long vmrss, vmsize, vmhwm, vmpeak, anon, file, shmem, swap;
};

static long status_field(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, klen) && p[klen] == ':')
			return strtol(p + klen + 1, NULL, 10);
	}
	return -1;
}

/* /proc/self/status into a stack buffer: open/read, no allocation. */
static void read_status(struct pstatus *s)
{
	char buf[8192];
	size_t len = 0;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("open /proc/self/status");
	for (;;) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read /proc/self/status");
		if (r == 0 || (len += (size_t)r) == sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[len] = 0;
	s->vmrss = status_field(buf, "VmRSS");
	s->vmsize = status_field(buf, "VmSize");
	s->vmhwm = status_field(buf, "VmHWM");
	s->vmpeak = status_field(buf, "VmPeak");
	s->anon = status_field(buf, "RssAnon");
	s->file = status_field(buf, "RssFile");
	s->shmem = status_field(buf, "RssShmem");
	s->swap = status_field(buf, "VmSwap");
}

/* ------------------------------------------------------------ the pages */

/* What this process mapped itself, as a list of mappings. */
#define MAX_MAPS 16384
static struct {
	char *addr;
	size_t len;
} maps[MAX_MAPS];
static size_t nmaps;
static size_t mapped_bytes;

static void emit_status(const char *what)
{
	struct pstatus s;
	int64_t ts = now_ns();

	read_status(&s);
	emit("{\"event\":\"status\",\"what\":\"%s\",\"pid\":%d,\"ts_ns\":%lld,"
	     "\"vmrss_kb\":%ld,\"vmsize_kb\":%ld,\"vmhwm_kb\":%ld,\"vmpeak_kb\":%ld,"
	     "\"rss_anon_kb\":%ld,\"rss_file_kb\":%ld,\"rss_shmem_kb\":%ld,"
	     "\"vmswap_kb\":%ld,\"mapped_kb\":%zu}",
	     what, (int)getpid(), (long long)ts, s.vmrss, s.vmsize, s.vmhwm,
	     s.vmpeak, s.anon, s.file, s.shmem, s.swap, mapped_bytes / 1024);
}

/* Map len bytes (whole pages) and write every page once. */
static void grab(size_t len)
{
	char *p;

	len = (len + (size_t)page_size - 1) & ~((size_t)page_size - 1);
	if (!len)
		return;
	if (nmaps == MAX_MAPS)
		die("too many mappings");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	/* A page at a time, whatever the THP setting. */
	madvise(p, len, MADV_NOHUGEPAGE);
	for (size_t off = 0; off < len; off += (size_t)page_size)
		((volatile char *)p)[off] = 1;
	maps[nmaps].addr = p;
	maps[nmaps].len = len;
	nmaps++;
	mapped_bytes += len;
}

/* Unmap everything grab() mapped. */
static void release_all(void)
{
	for (size_t i = 0; i < nmaps; i++)
		if (munmap(maps[i].addr, maps[i].len))
			die("munmap");
	nmaps = 0;
	mapped_bytes = 0;
}

/* ----------------------------------------------------------- triggering */

static int trigger_fd = -1;

/* Block SIGUSR1 (from now on it is read from a signalfd, never lost). */
static void trigger_arm(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		die("sigprocmask");
	trigger_fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (trigger_fd < 0)
		die("signalfd");
}

/* Wait for SIGUSR1, or EOF on stdin when stdin is a pipe or a socket. */
static void trigger_wait(void)
{
	struct pollfd pf[2] = { { .fd = trigger_fd, .events = POLLIN } };
	struct stat st;
	int n = 1;

	if (!fstat(STDIN_FILENO, &st) && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		pf[1].fd = STDIN_FILENO;
		pf[1].events = POLLIN;
		n = 2;
	}
	for (;;) {
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(trigger_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				return;
		}
		if (n == 2 && pf[1].revents) {
			char c[256];
			ssize_t r = read(STDIN_FILENO, c, sizeof(c));

			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
				return; /* EOF: the other end closed */
		}
	}
}

/* --------------------------------------------------------------- modes */

static void finish(void) __attribute__((noreturn));
static void finish(void)
{
	if (opt_tail_ms)
		pace_until(now_ns() + opt_tail_ms * 1000000);
	emit_status("exit");
	exit(0);
}

/* Map and touch, at each tick, what a line of slope bytes_per_s asks by
 * then, from t0 until end (both CLOCK_BOOTTIME ns). Returns the bytes
 * grabbed. */
static size_t ramp(double bytes_per_s, int64_t t0, int64_t end, size_t already)
{
	int64_t tick = opt_tick_ms * 1000000;
	size_t done = already;

	for (int64_t k = 1;; k++) {
		int64_t t = t0 + k * tick;

		if (t > end)
			t = end;
		pace_until(t);
		size_t due = (size_t)(bytes_per_s * (double)(t - t0) / 1e9);

		due &= ~((size_t)page_size - 1);
		if (due > done) {
			grab(due - done);
			done = due;
		}
		if (t >= end)
			return done;
	}
}

static int cmd_grow(int argc, char **argv)
{
	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	double rate = parse_num(argv[0], 0, 1 << 20, "MIB_PER_S");
	double secs = parse_num(argv[1], 0, 86400, "SECONDS");

	emit_status("begin");
	int64_t t0 = now_ns();

	ramp(rate * MIB, t0, t0 + to_ns(secs), 0);
	emit_status("end");
	finish();
}

static int cmd_steps(int argc, char **argv)
{
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	size_t mib = (size_t)parse_num(argv[0], 0, 1 << 20, "MIB");
	double every = parse_num(argv[1], 0.001, 86400, "EVERY_S");
	double secs = parse_num(argv[2], 0, 86400, "SECONDS");

	emit_status("begin");
	int64_t t0 = now_ns(), end = t0 + to_ns(secs);

	for (int64_t k = 0;; k++) {
		int64_t t = t0 + k * to_ns(every);

		if (t >= end)
			break;
		pace_until(t);
		grab(mib * MIB);
		emit_status("step");
	}
	pace_until(end);
	emit_status("end");
	finish();
}

static int cmd_sawtooth(int argc, char **argv)
{
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	double peak = parse_num(argv[0], 0, 1 << 20, "PEAK_MIB");
	double period = parse_num(argv[1], 0.01, 86400, "PERIOD_S");
	double secs = parse_num(argv[2], 0, 86400, "SECONDS");

	emit_status("begin");
	int64_t t0 = now_ns(), end = t0 + to_ns(secs);

	for (int64_t c = 0;; c++) {
		int64_t cs = t0 + c * to_ns(period), ce = cs + to_ns(period);

		if (cs >= end)
			break;
		if (ce > end)
			ce = end;
		ramp(peak * MIB / period, cs, ce, 0);
		if (ce < end || cs + to_ns(period) == end) {
			emit_status("peak");
			release_all();
			emit_status("trough");
		}
	}
	emit_status("end");
	finish();
}

static int cmd_plateau(int argc, char **argv)
{
	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	size_t mib = (size_t)parse_num(argv[0], 0, 1 << 20, "MIB");
	double secs = parse_num(argv[1], 0, 86400, "SECONDS");

	emit_status("begin");
	int64_t t0 = now_ns();

	grab(mib * MIB);
	emit_status("full");
	pace_until(t0 + to_ns(secs));
	emit_status("end");
	finish();
}

static int cmd_hold(int argc, char **argv)
{
	if (argc != 1) {
		usage(stderr);
		return 2;
	}
	size_t mib = (size_t)parse_num(argv[0], 0, 1 << 20, "MIB");

	if (trigger_fd < 0)
		trigger_arm();
	emit_status("begin");
	grab(mib * MIB);
	emit_status("full");
	trigger_wait();
	emit_status("release");
	finish();
}

static int cmd_forker(int argc, char **argv)
{
	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	size_t mib = (size_t)parse_num(argv[0], 0, 1 << 20, "MIB");
	int count = (int)parse_num(argv[1], 0, 100000, "COUNT");

	emit_status("begin");
	grab(mib * MIB);
	emit_status("full");
	for (int i = 0; i < count; i++) {
		pid_t pid = fork();
		int st;

		if (pid < 0)
			die("fork");
		if (pid == 0)
			_exit(0);
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		emit("{\"event\":\"child\",\"pid\":%d,\"ppid\":%d,\"ts_ns\":%lld}",
		     (int)pid, (int)getpid(), (long long)now_ns());
	}
	emit_status("end");
	finish();
}

static int cmd_oom(int argc, char **argv)
{
	if (argc != 1) {
		usage(stderr);
		return 2;
	}
	size_t mib = (size_t)parse_num(argv[0], 1, 1 << 20, "MIB");

	emit_status("begin");
	for (size_t i = 1; i <= mib; i++) {
		grab(MIB);
		if (i % 8 == 0)
			emit_status("mib");
	}
	emit_status("end");
	emit("{\"event\":\"error\",\"pid\":%d,\"what\":\"not killed after %zu MiB\"}",
	     (int)getpid(), mib);
	return 3;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} modes[] = {
		{ "grow", cmd_grow },	    { "steps", cmd_steps },   { "sawtooth", cmd_sawtooth },
		{ "plateau", cmd_plateau }, { "hold", cmd_hold },     { "forker", cmd_forker },
		{ "oom", cmd_oom },
	};
	int (*fn)(int, char **) = NULL;
	const char *mode;
	char comm[16];
	int i = 1;

	page_size = sysconf(_SC_PAGESIZE);
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(o, "--go")) {
			opt_go = true;
		} else if (!strcmp(o, "--busy")) {
			opt_busy = true;
		} else if (i + 1 >= argc) {
			usage(stderr);
			return 2;
		} else if (!strcmp(o, "-o")) {
			out_fd = open(argv[++i], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
			if (out_fd < 0) {
				fprintf(stderr, "mem_workload: %s: %s\n", argv[i], strerror(errno));
				return 2;
			}
		} else if (!strcmp(o, "--name")) {
			opt_name = argv[++i];
			/* It goes into JSON strings unescaped. */
			for (const char *c = opt_name; *c; c++)
				if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20) {
					fprintf(stderr, "mem_workload: bad --name\n");
					return 2;
				}
		} else if (!strcmp(o, "--tick-ms")) {
			opt_tick_ms = (long)parse_num(argv[++i], 1, 60000, "--tick-ms");
		} else if (!strcmp(o, "--tail-ms")) {
			opt_tail_ms = (long)parse_num(argv[++i], 0, 86400000, "--tail-ms");
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	mode = argv[i++];
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
		if (!strcmp(mode, modes[m].name))
			fn = modes[m].fn;
	if (!fn) {
		usage(stderr);
		return 2;
	}
	snprintf(comm, sizeof(comm), "%s", opt_name ? opt_name : "");
	if (!opt_name)
		snprintf(comm, sizeof(comm), "mw-%s", mode);
	if (prctl(PR_SET_NAME, comm, 0, 0, 0))
		die("prctl(PR_SET_NAME)");
	/* What the caller left us could stop the shape early: SIGUSR1 is ours. */
	signal(SIGPIPE, SIG_IGN);
	if (opt_go || !strcmp(mode, "hold"))
		trigger_arm();
	emit("{\"event\":\"start\",\"pid\":%d,\"ppid\":%d,\"comm\":\"%s\",\"mode\":\"%s\","
	     "\"ts_ns\":%lld}",
	     (int)getpid(), (int)getppid(), comm, mode, (long long)now_ns());
	if (opt_go) {
		emit("{\"event\":\"ready\",\"pid\":%d,\"ts_ns\":%lld}", (int)getpid(),
		     (long long)now_ns());
		trigger_wait();
	}
	return fn(argc - i, argv + i);
}
