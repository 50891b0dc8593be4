/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * zombie_factory: a workload generator for zmtrace's tests.
 *
 * Each subcommand produces one zombie behaviour exactly and prints the facts
 * a test needs to check zmtrace against (pids, wait statuses, CLOCK_BOOTTIME
 * timestamps in ns) as JSON Lines on stdout, one object per line, flushed at
 * once. Every line has an "event" key. Processes get distinctive comm names
 * (zf-...) with prctl(PR_SET_NAME).
 *
 * Timestamps, all CLOCK_BOOTTIME ns (the clock of bpf_ktime_get_boot_ns):
 *   t_exit  taken by the child right before it calls _exit (a lower bound of
 *           its exit time)
 *   t0      taken by the parent right after waitid(WEXITED|WNOWAIT) said the
 *           child is a zombie (an upper bound of the zombie's birth)
 *   t1      taken right before the reaping wait call
 *   t2      taken right after it returned
 * So: t_exit <= zombie time <= t0, t1 <= reap time <= t2, and the zombie's
 * life lies in [t1 - t0, t2 - t_exit].
 *
 * `-o FILE` (before the mode) writes the facts to FILE instead of stdout:
 * under `zmtrace -- zombie_factory ...` stdout is zmtrace's own.
 *
 * Exit status: 0 on success, 1 on a failure (a line {"event":"error",...}
 * on stdout says what), 2 on a usage error, 77 when the machine cannot do
 * what was asked (tests skip).
 *
 * Build: cc -O2 -pthread -o tools/zombie_factory tools/zombie_factory.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_SKIP 77

/* ---------------------------------------------------------------- basics */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One JSON object per line, flushed at once (stdout is often a file). */
static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void die(const char *what) __attribute__((noreturn));
static void die(const char *what)
{
	int e = errno;

	emit("{\"event\":\"error\",\"pid\":%d,\"what\":\"%s\",\"errno\":%d,"
	     "\"error\":\"%s\"}",
	     (int)getpid(), what, e, strerror(e));
	fprintf(stderr, "zombie_factory: %s: %s\n", what, strerror(e));
	exit(1);
}

static void fail(const char *what) __attribute__((noreturn));
static void fail(const char *what)
{
	emit("{\"event\":\"error\",\"pid\":%d,\"what\":\"%s\"}", (int)getpid(),
	     what);
	fprintf(stderr, "zombie_factory: %s\n", what);
	exit(1);
}

static void skip(const char *why) __attribute__((noreturn));
static void skip(const char *why)
{
	emit("{\"event\":\"skip\",\"reason\":\"%s\"}", why);
	fprintf(stderr, "zombie_factory: skipped: %s\n", why);
	exit(EXIT_SKIP);
}

static void set_name(const char *name)
{
	if (prctl(PR_SET_NAME, name, 0, 0, 0))
		die("prctl(PR_SET_NAME)");
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

static long parse_num(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "zombie_factory: bad %s '%s' (%ld..%ld)\n",
			what, s, lo, hi);
		exit(2);
	}
	return v;
}

/* Timestamps children write right before they exit: a shared page array. */
static volatile int64_t *t_exit_slot;
static int n_slots;

static void alloc_slots(int n)
{
	void *p = mmap(NULL, sizeof(int64_t) * (size_t)(n + 1),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		       0);

	if (p == MAP_FAILED)
		die("mmap");
	t_exit_slot = p;
	n_slots = n + 1;
}

static int64_t slot(int i)
{
	return i >= 0 && i < n_slots ? t_exit_slot[i] : 0;
}

/* In a child: stamp slot i and exit with code. */
static void child_exit(int i, int code) __attribute__((noreturn));
static void child_exit(int i, int code)
{
	if (i >= 0 && i < n_slots)
		t_exit_slot[i] = now_ns();
	_exit(code);
}

/* fork() with stdout flushed so that no buffered line is printed twice. */
static pid_t xfork(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		die("fork");
	return pid;
}

/* Fork a child named comm that exits with code at once. */
static pid_t spawn_exiting(const char *comm, int i, int code)
{
	pid_t pid = xfork();

	if (pid == 0) {
		set_name(comm);
		child_exit(i, code);
	}
	return pid;
}

/* Block until pid is a zombie, without reaping it (a WNOWAIT peek). */
static void wait_zombie(pid_t pid)
{
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0)
			break;
		if (errno != EINTR)
			die("waitid(WNOWAIT)");
	}
	if (si.si_pid != pid)
		fail("waitid(WNOWAIT) returned another pid");
}

/* Reap pid with wait4() (glibc's waitpid is wait4). Returns the status. */
static int reap_wait4(pid_t pid)
{
	int status;
	pid_t r;

	while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (r < 0)
		die("waitpid");
	if (r != pid)
		fail("waitpid returned another pid");
	return status;
}

/* Reap pid with waitid(WEXITED); returns a waitpid()-style status. */
static int reap_waitid(pid_t pid)
{
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED) == 0)
			break;
		if (errno != EINTR)
			die("waitid");
	}
	if (si.si_pid != pid)
		fail("waitid returned another pid");
	switch (si.si_code) {
	case CLD_EXITED:
		return (si.si_status & 0xff) << 8;
	case CLD_KILLED:
		return si.si_status & 0x7f;
	case CLD_DUMPED:
		return (si.si_status & 0x7f) | 0x80;
	}
	fail("waitid: unexpected si_code");
}

static char proc_state(pid_t pid, pid_t *ppid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;
	char st;
	int pp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '-';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '-';
	buf[n] = 0;
	p = strrchr(buf, ')'); /* comm may hold spaces and parens */
	if (!p || sscanf(p + 1, " %c %d", &st, &pp) != 2)
		return '?';
	if (ppid)
		*ppid = pp;
	return st;
}

static int gone(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

/* Poll (1 ms steps, bounded) until every pid is gone. 1 when all are. */
static int wait_gone(const pid_t *pids, int n, long timeout_ms)
{
	int64_t deadline = now_ns() + timeout_ms * 1000000;

	for (;;) {
		int left = 0;

		for (int i = 0; i < n; i++)
			left += !gone(pids[i]);
		if (!left)
			return 1;
		if (now_ns() > deadline)
			return 0;
		sleep_ms(1);
	}
}

static void status_json(int status, char *buf, size_t len)
{
	snprintf(buf, len,
		 "\"status\":%d,\"exit_code\":%d,\"signal\":%d,"
		 "\"core_dumped\":%s",
		 status, WIFEXITED(status) ? WEXITSTATUS(status) : 0,
		 WIFSIGNALED(status) ? WTERMSIG(status) : 0,
		 WIFSIGNALED(status) && WCOREDUMP(status) ? "true" : "false");
}

static void emit_start(const char *mode)
{
	emit("{\"event\":\"start\",\"mode\":\"%s\",\"pid\":%d,\"ppid\":%d,"
	     "\"t\":%lld}",
	     mode, (int)getpid(), (int)getppid(), (long long)now_ns());
}

/* Reap pid late: t0 at zombie, sleep, t1, reap, t2; print all. */
static void late_reap(pid_t pid, int i, long delay_ms, int use_waitid,
		      const char *extra)
{
	int64_t t0, t1, t2;
	char st[160];
	int status;

	wait_zombie(pid);
	t0 = now_ns();
	sleep_ms(delay_ms);
	t1 = now_ns();
	status = use_waitid ? reap_waitid(pid) : reap_wait4(pid);
	t2 = now_ns();
	status_json(status, st, sizeof(st));
	emit("{\"event\":\"reaped\",\"pid\":%d,\"ppid\":%d,\"via\":\"%s\","
	     "\"t_exit\":%lld,\"t0\":%lld,\"t1\":%lld,\"t2\":%lld,%s%s}",
	     (int)pid, (int)getpid(), use_waitid ? "waitid" : "wait4",
	     (long long)slot(i), (long long)t0, (long long)t1, (long long)t2,
	     st, extra ? extra : "");
}

/* Signals a holding process waits for. Blocked early so none is lost. */
static sigset_t hold_set;

static void block_hold_signals(void)
{
	sigemptyset(&hold_set);
	sigaddset(&hold_set, SIGUSR1);
	sigaddset(&hold_set, SIGTERM);
	sigaddset(&hold_set, SIGINT);
	sigaddset(&hold_set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &hold_set, NULL))
		die("sigprocmask");
}

/* Wait for one of hold_set, at most timeout_ms (<0: forever). Returns the
 * signal, 0 on timeout. */
static int hold_wait(long timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };
	int sig;

	for (;;) {
		sig = sigtimedwait(&hold_set, NULL, timeout_ms < 0 ? NULL : &ts);
		if (sig > 0)
			return sig;
		if (errno == EAGAIN)
			return 0;
		if (errno != EINTR)
			die("sigtimedwait");
	}
}

/* ------------------------------------------------------------------ leak */

static int cmd_leak(int argc, char **argv)
{
	long n, hold_ms = 200;
	int until_signal = 0;
	pid_t *pids;

	if (argc < 1)
		return 2;
	n = parse_num(argv[0], 0, 10000, "N");
	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--hold-ms") && a + 1 < argc)
			hold_ms = parse_num(argv[++a], 0, 3600000, "MS");
		else if (!strcmp(argv[a], "--until-signal"))
			until_signal = 1;
		else
			return 2;
	}
	set_name("zf-leaker");
	block_hold_signals();
	emit_start("leak");
	alloc_slots((int)n);
	pids = calloc((size_t)n + 1, sizeof(*pids));
	if (!pids)
		die("calloc");
	for (int i = 0; i < n; i++)
		pids[i] = spawn_exiting("zf-child", i, i % 256);
	for (int i = 0; i < n; i++) {
		wait_zombie(pids[i]);
		emit("{\"event\":\"child\",\"pid\":%d,\"ppid\":%d,"
		     "\"comm\":\"zf-child\",\"exit_code\":%d,\"t_exit\":%lld,"
		     "\"t0\":%lld}",
		     (int)pids[i], (int)getpid(), i % 256,
		     (long long)slot(i), (long long)now_ns());
	}
	emit("{\"event\":\"ready\",\"pid\":%d,\"zombies\":%ld,\"t\":%lld}",
	     (int)getpid(), n, (long long)now_ns());
	if (until_signal) {
		int sig = hold_wait(600000);

		emit("{\"event\":\"signal\",\"signal\":%d}", sig);
	} else {
		sleep_ms(hold_ms);
	}
	emit("{\"event\":\"exit\",\"pid\":%d,\"t\":%lld}", (int)getpid(),
	     (long long)now_ns());
	free(pids);
	return 0; /* the zombies go to the nearest reaper */
}

/* ------------------------------------------------------------------ late */

static int cmd_late(int argc, char **argv)
{
	long n, ms;
	int use_waitid = 0;

	if (argc < 2)
		return 2;
	n = parse_num(argv[0], 1, 10000, "N");
	ms = parse_num(argv[1], 0, 3600000, "MS");
	for (int a = 2; a < argc; a++) {
		if (!strcmp(argv[a], "--waitid"))
			use_waitid = 1;
		else
			return 2;
	}
	set_name("zf-late");
	emit_start("late");
	alloc_slots((int)n);
	for (int i = 0; i < n; i++) {
		pid_t pid = spawn_exiting("zf-child", i, (i + 1) % 256);

		late_reap(pid, i, ms, use_waitid, NULL);
	}
	return 0;
}

/* --------------------------------------------------------------- threads */

struct thr_arg {
	pid_t tgid;
	long ms;
};

static void *last_thread(void *p)
{
	struct thr_arg *a = p;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int64_t deadline = now_ns() + 5000000000LL;
	char st, tst;

	/* Wait until the leader is dead: /proc/TGID/stat shows Z. */
	while ((st = proc_state(a->tgid, NULL)) != 'Z' && now_ns() < deadline)
		sleep_ms(1);
	tst = proc_state(tid, NULL); /* /proc/TID works for threads too */
	emit("{\"event\":\"leader_state\",\"pid\":%d,\"tid\":%d,"
	     "\"state\":\"%c\",\"thread_state\":\"%c\",\"t\":%lld}",
	     (int)a->tgid, (int)tid, st, tst, (long long)now_ns());
	sleep_ms(a->ms);
	emit("{\"event\":\"last_thread_exit\",\"pid\":%d,\"tid\":%d,"
	     "\"t\":%lld}",
	     (int)a->tgid, (int)tid, (long long)now_ns());
	syscall(SYS_exit, 9); /* the thread only: the group ends here */
	return NULL;
}

static int cmd_threads(int argc, char **argv)
{
	long ms, delay = 20;
	pid_t pid;

	if (argc < 1)
		return 2;
	ms = parse_num(argv[0], 0, 3600000, "MS");
	if (argc >= 3 && !strcmp(argv[1], "--reap-delay-ms"))
		delay = parse_num(argv[2], 0, 3600000, "MS");
	else if (argc != 1)
		return 2;
	set_name("zf-threads");
	emit_start("threads");
	alloc_slots(1);
	pid = xfork();
	if (pid == 0) {
		static struct thr_arg a;
		pthread_t t;

		set_name("zf-thr"); /* both threads carry it */
		a.tgid = getpid();
		a.ms = ms;
		if (pthread_create(&t, NULL, last_thread, &a))
			_exit(99);
		/* The leader exits alone with status 7: it stays <defunct>
		 * while the other thread runs; the group's wait status is the
		 * leader's. */
		t_exit_slot[0] = now_ns();
		syscall(SYS_exit, 7);
		_exit(98);
	}
	emit("{\"event\":\"child\",\"pid\":%d,\"ppid\":%d,\"comm\":\"zf-thr\"}",
	     (int)pid, (int)getpid());
	/* t_exit of the group is the last thread's: printed by the thread. */
	late_reap(pid, -1, delay, 0, NULL);
	emit("{\"event\":\"leader\",\"pid\":%d,\"t_leader_exit\":%lld}",
	     (int)pid, (long long)slot(0));
	return 0;
}

/* ------------------------------------------------------- ignore/nocldwait */

static void noop_handler(int sig)
{
	(void)sig;
}

static int cmd_autoreap(int argc, char **argv, int nocldwait)
{
	struct sigaction sa;
	long n;
	pid_t *pids;
	int ok, err;

	if (argc != 1)
		return 2;
	n = parse_num(argv[0], 1, 10000, "N");
	set_name(nocldwait ? "zf-nocldwait" : "zf-ignore");
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	if (nocldwait) {
		sa.sa_handler = noop_handler;
		sa.sa_flags = SA_NOCLDWAIT | SA_RESTART;
	} else {
		sa.sa_handler = SIG_IGN;
	}
	if (sigaction(SIGCHLD, &sa, NULL))
		die("sigaction(SIGCHLD)");
	emit_start(nocldwait ? "nocldwait" : "ignore");
	pids = calloc((size_t)n, sizeof(*pids));
	if (!pids)
		die("calloc");
	for (int i = 0; i < n; i++) {
		pids[i] = spawn_exiting("zf-child", -1, (i + 1) % 256);
		emit("{\"event\":\"child\",\"pid\":%d,\"ppid\":%d,"
		     "\"comm\":\"zf-child\",\"exit_code\":%d}",
		     (int)pids[i], (int)getpid(), (i + 1) % 256);
	}
	/* POSIX: wait blocks until all children are gone, then ECHILD. */
	while (wait(NULL) >= 0 || errno == EINTR)
		;
	err = errno;
	ok = wait_gone(pids, (int)n, 5000);
	emit("{\"event\":\"all_gone\",\"ok\":%s,\"wait_errno\":%d,\"t\":%lld}",
	     ok ? "true" : "false", err, (long long)now_ns());
	free(pids);
	return ok && err == ECHILD ? 0 : 1;
}

/* ---------------------------------------------------------------- orphan */

static void xpipe(int fd[2])
{
	if (pipe2(fd, O_CLOEXEC))
		die("pipe2");
}

static void xread1(int fd)
{
	char c;
	ssize_t r;

	while ((r = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	if (r != 1)
		fail("pipe read: peer died");
}

static void xwrite1(int fd)
{
	ssize_t r;

	while ((r = write(fd, "x", 1)) < 0 && errno == EINTR)
		;
	if (r != 1)
		die("pipe write");
}

static int cmd_orphan(int argc, char **argv)
{
	long n;
	int subreaper = 0, ignore = 0, up[2], down[2], ok;
	pid_t middle, *kids;
	char st[160];
	int status;

	if (argc < 1)
		return 2;
	n = parse_num(argv[0], 1, 10000, "N");
	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--subreaper"))
			subreaper = 1;
		else if (!strcmp(argv[a], "--ignore-in-reaper"))
			ignore = 1;
		else
			return 2;
	}
	if (ignore && !subreaper) {
		fprintf(stderr, "zombie_factory: --ignore-in-reaper needs "
				"--subreaper\n");
		return 2;
	}
	set_name("zf-top");
	if (subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		die("prctl(PR_SET_CHILD_SUBREAPER)");
	emit_start("orphan");
	alloc_slots((int)n);
	/* Children pids come back from the middle through this page. */
	kids = mmap(NULL, sizeof(pid_t) * (size_t)n, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (kids == MAP_FAILED)
		die("mmap");
	xpipe(up);
	xpipe(down);
	middle = xfork();
	if (middle == 0) {
		set_name("zf-middle");
		for (int i = 0; i < n; i++)
			kids[i] = spawn_exiting("zf-child", i, (i + 3) % 256);
		for (int i = 0; i < n; i++) {
			wait_zombie(kids[i]);
			emit("{\"event\":\"child\",\"pid\":%d,\"ppid\":%d,"
			     "\"comm\":\"zf-child\",\"parent_comm\":"
			     "\"zf-middle\",\"exit_code\":%d,\"t_exit\":%lld}",
			     (int)kids[i], (int)getpid(), (i + 3) % 256,
			     (long long)slot(i));
		}
		xwrite1(up[1]);
		xread1(down[0]);
		emit("{\"event\":\"middle_exit\",\"pid\":%d,\"t\":%lld}",
		     (int)getpid(), (long long)now_ns());
		_exit(0); /* its zombies are orphaned now */
	}
	emit("{\"event\":\"middle\",\"pid\":%d,\"ppid\":%d,"
	     "\"comm\":\"zf-middle\"}",
	     (int)middle, (int)getpid());
	xread1(up[0]);
	if (ignore) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		if (sigaction(SIGCHLD, &sa, NULL))
			die("sigaction(SIGCHLD)");
	}
	xwrite1(down[1]);
	if (ignore) {
		/* The middle and its orphans are autoreaped: wait gives
		 * ECHILD once every child is gone. */
		while (waitpid(middle, NULL, 0) >= 0 || errno == EINTR)
			;
		ok = wait_gone(&middle, 1, 5000) && wait_gone(kids, (int)n, 5000);
		emit("{\"event\":\"orphans_gone\",\"ok\":%s,\"t\":%lld}",
		     ok ? "true" : "false", (long long)now_ns());
		return ok ? 0 : 1;
	}
	status = reap_wait4(middle);
	status_json(status, st, sizeof(st));
	emit("{\"event\":\"middle_reaped\",\"pid\":%d,\"t\":%lld,%s}",
	     (int)middle, (long long)now_ns(), st);
	/* The middle's exit reparented its zombies: to us or to init. */
	for (int i = 0; i < n; i++) {
		pid_t pp = 0;
		char s = proc_state(kids[i], &pp);

		emit("{\"event\":\"reparented\",\"pid\":%d,\"state\":\"%c\","
		     "\"new_ppid\":%d}",
		     (int)kids[i], s, (int)pp);
	}
	if (subreaper) {
		for (;;) {
			int64_t t1 = now_ns(), t2;
			pid_t r = waitpid(-1, &status, 0);

			t2 = now_ns();
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				break;
			status_json(status, st, sizeof(st));
			emit("{\"event\":\"reaped\",\"pid\":%d,\"ppid\":%d,"
			     "\"via\":\"wait4\",\"t1\":%lld,\"t2\":%lld,%s}",
			     (int)r, (int)getpid(), (long long)t1,
			     (long long)t2, st);
		}
		if (errno != ECHILD)
			die("waitpid(-1)");
	}
	ok = wait_gone(kids, (int)n, 30000);
	emit("{\"event\":\"orphans_gone\",\"ok\":%s,\"t\":%lld}",
	     ok ? "true" : "false", (long long)now_ns());
	return ok ? 0 : 1;
}

/* ----------------------------------------------------------------- reuse */

/* Fork a child with exactly pid want. Returns the pid (0 in the child),
 * or -1 when the machine lets us not. *method says how. */
static pid_t fork_with_pid(pid_t want, const char **method)
{
	struct clone_args ca;
	pid_t tid = want, pid;

	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	ca.set_tid = (uint64_t)(uintptr_t)&tid;
	ca.set_tid_size = 1;
	fflush(stdout);
	fflush(stderr);
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid >= 0) {
		*method = "clone3";
		return pid;
	}
	/* Fall back to ns_last_pid, a few tries if someone else forks. */
	for (int tries = 0; tries < 50; tries++) {
		char buf[32];
		int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
		int len;

		if (fd < 0)
			return -1;
		len = snprintf(buf, sizeof(buf), "%d", (int)want - 1);
		if (write(fd, buf, (size_t)len) != len) {
			close(fd);
			return -1;
		}
		close(fd);
		pid = xfork();
		if (pid == 0) {
			if (getpid() == want)
				return 0;
			_exit(0); /* missed: leave quietly */
		}
		if (pid == want) {
			*method = "ns_last_pid";
			return pid;
		}
		reap_wait4(pid);
	}
	return -1;
}

static int cmd_reuse(int argc, char **argv)
{
	long delay_a = 30, delay_b = 90;
	const char *method = "fork";
	char extra[64];
	pid_t a, b;

	if (argc == 2) {
		delay_a = parse_num(argv[0], 0, 3600000, "MS");
		delay_b = parse_num(argv[1], 0, 3600000, "MS");
	} else if (argc != 0) {
		return 2;
	}
	set_name("zf-reuse");
	emit_start("reuse");
	alloc_slots(2);
	a = spawn_exiting("zf-a", 0, 1);
	late_reap(a, 0, delay_a, 0, ",\"name\":\"zf-a\"");
	b = fork_with_pid(a, &method);
	if (b == 0) {
		set_name("zf-b");
		child_exit(1, 2);
	}
	if (b < 0)
		skip("cannot fork with a chosen pid (clone3 set_tid, ns_last_pid)");
	snprintf(extra, sizeof(extra), ",\"name\":\"zf-b\",\"method\":\"%s\"",
		 method);
	late_reap(b, 1, delay_b, 0, extra);
	return 0;
}

/* ------------------------------------------------------------------ stop */

static int cmd_stop(int argc, char **argv)
{
	int go[2], status;
	siginfo_t si;
	pid_t pid, r;
	long delay = 20;

	if (argc == 1)
		delay = parse_num(argv[0], 0, 3600000, "MS");
	else if (argc != 0)
		return 2;
	set_name("zf-stop");
	emit_start("stop");
	alloc_slots(1);
	xpipe(go);
	pid = xfork();
	if (pid == 0) {
		set_name("zf-stopper");
		close(go[1]);
		raise(SIGSTOP); /* cycle 1 */
		xread1(go[0]);
		raise(SIGSTOP); /* cycle 2 */
		xread1(go[0]);
		child_exit(0, 5);
	}
	close(go[0]);
	emit("{\"event\":\"child\",\"pid\":%d,\"ppid\":%d,"
	     "\"comm\":\"zf-stopper\",\"exit_code\":5}",
	     (int)pid, (int)getpid());

	/* Cycle 1: peek with waitid(WNOWAIT), consume with wait4. Each of
	 * these calls returns or fills in the child's pid: none is a reap. */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WSTOPPED | WEXITED | WNOWAIT) ||
	    si.si_code != CLD_STOPPED)
		fail("cycle 1: waitid(WSTOPPED|WNOWAIT)");
	r = waitpid(pid, &status, WUNTRACED);
	if (r != pid || !WIFSTOPPED(status))
		fail("cycle 1: waitpid(WUNTRACED)");
	emit("{\"event\":\"stopped\",\"pid\":%d,\"cycle\":1,\"t\":%lld}",
	     (int)pid, (long long)now_ns());
	kill(pid, SIGCONT);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WCONTINUED | WNOWAIT) ||
	    si.si_code != CLD_CONTINUED)
		fail("cycle 1: waitid(WCONTINUED|WNOWAIT)");
	r = waitpid(pid, &status, WCONTINUED);
	if (r != pid || !WIFCONTINUED(status))
		fail("cycle 1: waitpid(WCONTINUED)");
	emit("{\"event\":\"continued\",\"pid\":%d,\"cycle\":1,\"t\":%lld}",
	     (int)pid, (long long)now_ns());

	/* Cycle 2: everything through waitid, consuming. */
	xwrite1(go[1]);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WSTOPPED) ||
	    si.si_code != CLD_STOPPED)
		fail("cycle 2: waitid(WSTOPPED)");
	emit("{\"event\":\"stopped\",\"pid\":%d,\"cycle\":2,\"t\":%lld}",
	     (int)pid, (long long)now_ns());
	kill(pid, SIGCONT);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WCONTINUED) ||
	    si.si_code != CLD_CONTINUED)
		fail("cycle 2: waitid(WCONTINUED)");
	emit("{\"event\":\"continued\",\"pid\":%d,\"cycle\":2,\"t\":%lld}",
	     (int)pid, (long long)now_ns());
	/* A peek at a running child finds nothing. */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si,
		   WEXITED | WSTOPPED | WCONTINUED | WNOWAIT | WNOHANG) ||
	    si.si_pid != 0)
		fail("peek at running child found something");
	/* Now the real exit. */
	xwrite1(go[1]);
	late_reap(pid, 0, delay, 0, NULL);
	return 0;
}

/* --------------------------------------------------------------- iouring */

#ifndef IORING_OP_WAITID
#define IORING_OP_WAITID 50
#endif

struct ring {
	int fd;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static int ring_init(struct ring *r)
{
	struct io_uring_params p;
	size_t sq_len, cq_len;
	void *sq, *cq;

	memset(&p, 0, sizeof(p));
	r->fd = (int)syscall(SYS_io_uring_setup, 4, &p);
	if (r->fd < 0)
		return -1;
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (cq_len > sq_len)
			sq_len = cq_len;
		cq_len = sq_len;
	}
	sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	if (sq == MAP_FAILED)
		return -1;
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		cq = sq;
	} else {
		cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
		if (cq == MAP_FAILED)
			return -1;
	}
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		return -1;
	r->sq_head = (unsigned *)((char *)sq + p.sq_off.head);
	r->sq_tail = (unsigned *)((char *)sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)((char *)sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)((char *)sq + p.sq_off.array);
	r->cq_head = (unsigned *)((char *)cq + p.cq_off.head);
	r->cq_tail = (unsigned *)((char *)cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)((char *)cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)((char *)cq + p.cq_off.cqes);
	return 0;
}

/* Submit one waitid(P_PID, pid, WEXITED) and wait for its completion.
 * Returns the CQE result (0 or -errno), or -1000 - errno on enter error. */
static int ring_waitid(struct ring *r, pid_t pid, siginfo_t *si)
{
	unsigned tail = *r->sq_tail, idx = tail & *r->sq_mask, head;
	struct io_uring_sqe *sqe = &r->sqes[idx];
	int res;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_WAITID;
	sqe->len = P_PID;		/* idtype */
	sqe->fd = (int)pid;		/* id */
	sqe->file_index = WEXITED;	/* options */
	sqe->addr2 = (uint64_t)(uintptr_t)si;
	sqe->user_data = 0x7a66;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	for (;;) {
		long ret = syscall(SYS_io_uring_enter, r->fd, 1, 1,
				   IORING_ENTER_GETEVENTS, NULL, 0);

		if (ret >= 0)
			break;
		if (errno != EINTR)
			return -1000 - errno;
	}
	for (;;) {
		head = *r->cq_head;
		if (head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
			break;
		if (syscall(SYS_io_uring_enter, r->fd, 0, 1,
			    IORING_ENTER_GETEVENTS, NULL, 0) < 0 &&
		    errno != EINTR)
			return -1000 - errno;
	}
	res = r->cqes[head & *r->cq_mask].res;
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

static int cmd_iouring(int argc, char **argv)
{
	struct ring r;
	siginfo_t si;
	int64_t t0, t1, t2;
	pid_t pid;
	int res;
	long delay = 20;

	if (argc == 1)
		delay = parse_num(argv[0], 0, 3600000, "MS");
	else if (argc != 0)
		return 2;
	set_name("zf-iouring");
	if (ring_init(&r))
		skip("io_uring_setup failed (no io_uring, or disabled)");
	emit_start("iouring");
	alloc_slots(1);
	pid = spawn_exiting("zf-child", 0, 9);
	emit("{\"event\":\"child\",\"pid\":%d,\"ppid\":%d,"
	     "\"comm\":\"zf-child\",\"exit_code\":9}",
	     (int)pid, (int)getpid());
	wait_zombie(pid);
	t0 = now_ns();
	sleep_ms(delay);
	memset(&si, 0, sizeof(si));
	t1 = now_ns();
	res = ring_waitid(&r, pid, &si);
	t2 = now_ns();
	if (res == -EINVAL || res == -EOPNOTSUPP) {
		reap_wait4(pid);
		skip("io_uring has no IORING_OP_WAITID (kernel < 6.7)");
	}
	if (res != 0) {
		errno = res < -1000 ? -(res + 1000) : -res;
		die("io_uring waitid");
	}
	if (si.si_pid != pid || si.si_code != CLD_EXITED || si.si_status != 9)
		fail("io_uring waitid: wrong siginfo");
	emit("{\"event\":\"reaped\",\"pid\":%d,\"ppid\":%d,\"via\":\"io_uring\","
	     "\"t_exit\":%lld,\"t0\":%lld,\"t1\":%lld,\"t2\":%lld,"
	     "\"status\":%d,\"exit_code\":9,\"signal\":0,\"core_dumped\":false,"
	     "\"gone\":%s}",
	     (int)pid, (int)getpid(), (long long)slot(0), (long long)t0,
	     (long long)t1, (long long)t2, 9 << 8, gone(pid) ? "true" : "false");
	if (!wait_gone(&pid, 1, 2000))
		fail("io_uring waitid did not reap the child");
	return 0;
}

/* -------------------------------------------------------------- preexist */

static int cmd_preexist(int argc, char **argv)
{
	long n, timeout_ms = 120000;
	pid_t *pids;
	int sig;

	if (argc < 1)
		return 2;
	n = parse_num(argv[0], 1, 10000, "N");
	if (argc == 3 && !strcmp(argv[1], "--timeout-ms"))
		timeout_ms = parse_num(argv[2], 1, 3600000, "MS");
	else if (argc != 1)
		return 2;
	set_name("zf-pre");
	block_hold_signals();
	emit_start("preexist");
	alloc_slots((int)n);
	pids = calloc((size_t)n, sizeof(*pids));
	if (!pids)
		die("calloc");
	for (int i = 0; i < n; i++)
		pids[i] = spawn_exiting("zf-child", i, (i + 11) % 256);
	for (int i = 0; i < n; i++) {
		wait_zombie(pids[i]);
		emit("{\"event\":\"child\",\"pid\":%d,\"ppid\":%d,"
		     "\"comm\":\"zf-child\",\"exit_code\":%d,\"t_exit\":%lld}",
		     (int)pids[i], (int)getpid(), (i + 11) % 256,
		     (long long)slot(i));
	}
	emit("{\"event\":\"ready\",\"pid\":%d,\"zombies\":%ld,\"t\":%lld}",
	     (int)getpid(), n, (long long)now_ns());
	sig = hold_wait(timeout_ms);
	emit("{\"event\":\"signal\",\"signal\":%d,\"t\":%lld}", sig,
	     (long long)now_ns());
	for (int i = 0; i < n; i++) {
		int64_t t1 = now_ns(), t2;
		int status = reap_wait4(pids[i]);
		char st[160];

		t2 = now_ns();
		status_json(status, st, sizeof(st));
		emit("{\"event\":\"reaped\",\"pid\":%d,\"ppid\":%d,"
		     "\"via\":\"wait4\",\"t_exit\":%lld,\"t1\":%lld,"
		     "\"t2\":%lld,%s}",
		     (int)pids[i], (int)getpid(), (long long)slot(i),
		     (long long)t1, (long long)t2, st);
	}
	free(pids);
	return sig ? 0 : 1;
}

/* --------------------------------------------------------------- signals */

static int cmd_signals(int argc, char **argv)
{
	const char *core_dir = NULL;
	enum { K_EXIT, K_TERM, K_KILL, K_ABRT_NOCORE, K_SEGV_CORE, K_N };
	static const char *names[K_N] = { "exit", "sigterm", "sigkill",
					  "sigabrt-nocore", "sigsegv-core" };
	int kinds = K_SEGV_CORE;

	if (argc == 2 && !strcmp(argv[0], "--core-dir")) {
		core_dir = argv[1];
		kinds = K_N;
	} else if (argc != 0) {
		return 2;
	}
	set_name("zf-signals");
	emit_start("signals");
	alloc_slots(K_N);
	for (int k = 0; k < kinds; k++) {
		pid_t pid = xfork();
		struct rlimit rl;
		char extra[64];

		if (pid == 0) {
			set_name("zf-child");
			signal(SIGTERM, SIG_DFL);
			t_exit_slot[k] = now_ns();
			switch (k) {
			case K_EXIT:
				_exit(3);
			case K_TERM:
				raise(SIGTERM);
				break;
			case K_KILL:
				raise(SIGKILL);
				break;
			case K_ABRT_NOCORE:
				rl.rlim_cur = rl.rlim_max = 0;
				setrlimit(RLIMIT_CORE, &rl);
				raise(SIGABRT);
				break;
			case K_SEGV_CORE:
				if (chdir(core_dir))
					_exit(97);
				rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
				setrlimit(RLIMIT_CORE, &rl);
				raise(SIGSEGV);
				break;
			}
			_exit(96);
		}
		snprintf(extra, sizeof(extra), ",\"kind\":\"%s\"", names[k]);
		late_reap(pid, k, 5, 0, extra);
	}
	return 0;
}

/* ----------------------------------------------------------------- burst */

static int cmd_burst(int argc, char **argv)
{
	long n, got = 0;
	pid_t *pids;
	int status;

	if (argc != 1)
		return 2;
	n = parse_num(argv[0], 1, 100000, "N");
	set_name("zf-burst");
	emit_start("burst");
	pids = calloc((size_t)n, sizeof(*pids));
	if (!pids)
		die("calloc");
	for (int i = 0; i < n; i++) {
		pid_t pid = xfork();

		if (pid == 0) {
			set_name("zf-child");
			_exit(i % 256);
		}
		pids[i] = pid;
		/* Keep at most ~200 alive: pid_max and memory are small. */
		if (i >= 200) {
			while (waitpid(-1, &status, 0) < 0 && errno == EINTR)
				;
			got++;
		}
	}
	for (;;) {
		pid_t r = waitpid(-1, &status, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		got++;
	}
	printf("{\"event\":\"burst\",\"n\":%ld,\"reaped\":%ld,\"pids\":[", n,
	       got);
	for (int i = 0; i < n; i++)
		printf("%s%d", i ? "," : "", (int)pids[i]);
	emit("]}");
	free(pids);
	return got == n ? 0 : 1;
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fputs("usage: zombie_factory [-o FILE] MODE [ARGS]\n"
	      "  leak N [--hold-ms MS | --until-signal]\n"
	      "  late N MS [--waitid]\n"
	      "  threads MS [--reap-delay-ms MS]\n"
	      "  ignore N\n"
	      "  nocldwait N\n"
	      "  orphan N [--subreaper [--ignore-in-reaper]]\n"
	      "  reuse [DELAY_A_MS DELAY_B_MS]\n"
	      "  stop [REAP_DELAY_MS]\n"
	      "  iouring [REAP_DELAY_MS]\n"
	      "  preexist N [--timeout-ms MS]     (reaps on SIGUSR1/SIGTERM)\n"
	      "  signals [--core-dir DIR]\n"
	      "  burst N\n"
	      "Facts are printed as JSON Lines on stdout; exit 77 = "
	      "unsupported here.\n",
	      f);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t none;
	const char *mode;
	int rc;

	if (argc >= 3 && !strcmp(argv[1], "-o")) {
		/* Facts to a file: under `zmtrace -- zombie_factory ...` our
		 * stdout would be mixed into zmtrace's own. O_APPEND: the
		 * processes of one run share the file. */
		if (!freopen(argv[2], "w", stdout)) {
			fprintf(stderr, "zombie_factory: %s: %s\n", argv[2],
				strerror(errno));
			return 2;
		}
		fcntl(fileno(stdout), F_SETFL,
		      fcntl(fileno(stdout), F_GETFL) | O_APPEND);
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	mode = argv[1];
	if (!strcmp(mode, "-h") || !strcmp(mode, "--help")) {
		usage(stdout);
		return 0;
	}
	/* Whatever the caller left us (an ignored SIGCHLD is inherited
	 * across exec and would autoreap our children), start clean. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	argc -= 2;
	argv += 2;
	if (!strcmp(mode, "leak"))
		rc = cmd_leak(argc, argv);
	else if (!strcmp(mode, "late"))
		rc = cmd_late(argc, argv);
	else if (!strcmp(mode, "threads"))
		rc = cmd_threads(argc, argv);
	else if (!strcmp(mode, "ignore"))
		rc = cmd_autoreap(argc, argv, 0);
	else if (!strcmp(mode, "nocldwait"))
		rc = cmd_autoreap(argc, argv, 1);
	else if (!strcmp(mode, "orphan"))
		rc = cmd_orphan(argc, argv);
	else if (!strcmp(mode, "reuse"))
		rc = cmd_reuse(argc, argv);
	else if (!strcmp(mode, "stop"))
		rc = cmd_stop(argc, argv);
	else if (!strcmp(mode, "iouring"))
		rc = cmd_iouring(argc, argv);
	else if (!strcmp(mode, "preexist"))
		rc = cmd_preexist(argc, argv);
	else if (!strcmp(mode, "signals"))
		rc = cmd_signals(argc, argv);
	else if (!strcmp(mode, "burst"))
		rc = cmd_burst(argc, argv);
	else
		rc = 2;
	if (rc == 2)
		usage(stderr);
	fflush(stdout);
	return rc;
}
