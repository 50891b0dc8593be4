/* One tracing session: see session.h. */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hashmap.h"
#include "procscan.h"
#include "util.h"

struct session {
	const struct session_opts *o;
	struct tracer *tracer;
	struct hashmap followed; /* -p/--: pids followed at start */
	pid_t child;		 /* -- COMMAND, or 0 */
	int child_pidfd;
	int child_status;
	bool child_done;
	int stop; /* a callback's non-zero return: the session ends */
};

/* The tracer's callback: the subcommand's, until one of its returns stops
 * the session. A negative return makes the ring buffer's consume stop and
 * return it (libbpf ignores positive ones). */
static int deliver(void *ctx, const struct zm_hdr *h, size_t size)
{
	struct session *s = ctx;
	int ret;

	if (s->stop)
		return s->stop;
	ret = s->o->on_event ? s->o->on_event(s->o->ctx, h, size) : 0;
	if (ret)
		s->stop = ret < 0 ? ret : -ECANCELED;
	return s->stop;
}

/* A callback's return: remember the first that stops the session. */
static int stopped_by(struct session *s, int ret)
{
	if (ret && !s->stop)
		s->stop = ret < 0 ? ret : -ECANCELED;
	return s->stop;
}

struct tracer *session_tracer(struct session *s)
{
	return s->tracer;
}

bool session_selects(const struct session *s, uint32_t pid, const char *comm, const char *pcomm)
{
	if (s->o->pid || s->o->command)
		return hm_get(&s->followed, pid) != NULL;
	if (s->o->comm)
		return !strncmp(comm, s->o->comm, ZM_COMM_LEN - 1) ||
		       !strncmp(pcomm, s->o->comm, ZM_COMM_LEN - 1);
	return true;
}

/* Every process's (pid, ppid), as /proc shows them. */
struct tree {
	uint32_t *pid, *ppid;
	size_t n, cap;
};

static int collect(void *ctx, const struct ps_proc *p)
{
	struct tree *t = ctx;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		uint32_t *a = realloc(t->pid, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		t->pid = a;
		uint32_t *b = realloc(t->ppid, cap * sizeof(*b));

		if (!b)
			return -ENOMEM;
		t->ppid = b;
		t->cap = cap;
	}
	t->pid[t->n] = p->pid;
	t->ppid[t->n++] = p->ppid;
	return 0;
}

static int follow(struct session *s, uint32_t pid)
{
	int err = tracer_follow(s->tracer, pid, 0);

	if (!err)
		err = hm_put(&s->followed, pid, (void *)1);
	return err;
}

/* -p PID: follow it and the descendants it already has. The pid goes into
 * the kernel's map first, so a child forked from now on is followed by the
 * kernel, and one forked before is in /proc. */
static int follow_tree(struct session *s, uint32_t root)
{
	struct tree t = { 0 };
	int err = follow(s, root);

	if (err)
		return err;
	err = ps_scan(collect, &t);
	/* Closure over the parent relation: repeat until nothing is added. */
	for (bool added = true; !err && added;) {
		added = false;
		for (size_t i = 0; i < t.n && !err; i++) {
			if (hm_get(&s->followed, t.ppid[i]) && !hm_get(&s->followed, t.pid[i])) {
				err = follow(s, t.pid[i]);
				added = true;
			}
		}
	}
	free(t.pid);
	free(t.ppid);
	return err;
}

/* Start COMMAND held on a pipe until it is followed; report exec failure
 * through a close-on-exec pipe. */
static int start_command(struct session *s, char **argv, char *err, size_t errlen)
{
	int go[2], fail[2];

	if (pipe2(go, O_CLOEXEC) || pipe2(fail, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();

	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		char c;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		close(go[1]);
		close(fail[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		int e = errno;

		if (write(fail[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(fail[1]);
	s->child = pid;
	int ret = follow(s, (uint32_t)pid);

	if (ret) {
		snprintf(err, errlen, "cannot follow the command: %s", strerror(-ret));
		kill(pid, SIGKILL);
		close(go[1]);
		close(fail[0]);
		return -1;
	}
	ret = write(go[1], "x", 1) == 1 ? 0 : -1;
	close(go[1]);
	int e = 0;
	ssize_t n = read(fail[0], &e, sizeof(e));

	close(fail[0]);
	if (ret || n == (ssize_t)sizeof(e)) {
		snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(ret ? errno : e));
		waitpid(pid, NULL, 0);
		s->child = 0;
		return -1;
	}
	s->child_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return 0;
}

static void describe(const struct session *s, char *buf, size_t len)
{
	const struct session_opts *o = s->o;

	if (o->command)
		snprintf(buf, len, "%s of %s (pid %d) and its descendants", o->what, o->command[0],
			 (int)s->child);
	else if (o->pid)
		snprintf(buf, len, "%s of pid %u and its descendants", o->what, o->pid);
	else if (o->comm)
		snprintf(buf, len, "%s of processes named %s and their children", o->what, o->comm);
	else
		snprintf(buf, len, "%s of all processes", o->what);
}

static int add_fd(int ep, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

enum { TAG_EVENTS, TAG_SIGNAL, TAG_TIMER, TAG_CHILD, TAG_TICK, TAG_OUTPUT, TAG_INPUT };

/* How often events are read when the kernel side does not wake us: the
 * latency of live output. */
#define POLL_MS 50

/* A timerfd that fires after secs, and every secs if periodic. */
static int make_timer(double secs, bool periodic)
{
	struct itimerspec its = { 0 };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	its.it_value.tv_sec = (time_t)secs;
	its.it_value.tv_nsec = (long)((secs - (double)its.it_value.tv_sec) * 1e9);
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	if (periodic)
		its.it_interval = its.it_value;
	if (fd >= 0 && timerfd_settime(fd, 0, &its, NULL)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int exit_status_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* The output's fd when it is a pipe or socket (its reader can go away),
 * else -1. */
static int out_pipe_fd(const struct session_opts *o)
{
	struct stat st;
	int fd = o->out ? fileno(o->out) : -1;

	if (fd < 0 || fstat(fd, &st))
		return -1;
	return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ? fd : -1;
}

/*
 * Is this first signal in -- mode for us to pass on to the command? Not when
 * the terminal sent it (Ctrl-C, hangup: SI_KERNEL): the terminal signals its
 * whole foreground process group, the command with us. A signal from kill()
 * (SI_USER, with ssi_pid), sigqueue() or tgkill() was addressed to zmtrace:
 * pass it on. See session.h.
 */
static bool forward_signal(const struct signalfd_siginfo *si)
{
	return si->ssi_code != SI_KERNEL;
}

/* Wait for events and stop conditions; returns 0 when stopped, -EPIPE when
 * the output's reader went away, another non-zero value after an error
 * (message printed) or a callback's stop. */
static int loop(struct session *s, int sigfd)
{
	const struct session_opts *o = s->o;
	int ep = epoll_create1(EPOLL_CLOEXEC), tfd = -1, tick = -1, ret = -1, signals = 0;
	int outfd = out_pipe_fd(o);
	/* No EPOLLIN: a pipe's write end reports EPOLLERR when its reader
	 * is gone (and a socket EPOLLHUP); those need not be asked for. */
	struct epoll_event oev = { .events = 0, .data.u32 = TAG_OUTPUT };

	if (ep < 0 || add_fd(ep, tracer_fd(s->tracer), TAG_EVENTS) ||
	    add_fd(ep, sigfd, TAG_SIGNAL) ||
	    (outfd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, outfd, &oev))) {
		fprintf(stderr, "zmtrace: epoll: %s\n", strerror(errno));
		goto out;
	}
	if (o->duration > 0 &&
	    ((tfd = make_timer(o->duration, false)) < 0 || add_fd(ep, tfd, TAG_TIMER))) {
		fprintf(stderr, "zmtrace: timer: %s\n", strerror(errno));
		goto out;
	}
	if (o->on_tick && o->interval > 0 &&
	    ((tick = make_timer(o->interval, true)) < 0 || add_fd(ep, tick, TAG_TICK))) {
		fprintf(stderr, "zmtrace: timer: %s\n", strerror(errno));
		goto out;
	}
	if (s->child && s->child_pidfd >= 0 && add_fd(ep, s->child_pidfd, TAG_CHILD)) {
		fprintf(stderr, "zmtrace: epoll: %s\n", strerror(errno));
		goto out;
	}
	if (o->on_input && add_fd(ep, o->input_fd, TAG_INPUT)) {
		fprintf(stderr, "zmtrace: epoll: input: %s\n", strerror(errno));
		goto out;
	}
	for (;;) {
		struct epoll_event evs[8];
		/* The kernel side wakes us only when its buffer fills up:
		 * events are read on this tick, and whenever woken. */
		int n = epoll_wait(ep, evs, 8, POLL_MS);

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "zmtrace: epoll_wait: %s\n", strerror(errno));
			goto out;
		}
		int c = tracer_consume(s->tracer);

		if (s->stop) {
			ret = s->stop;
			goto out;
		}
		if (c < 0 && c != -EINTR) {
			fprintf(stderr, "zmtrace: reading events: %s\n", strerror(-c));
			goto out;
		}
		/* Without a pidfd (old kernel), poll the child. */
		if (s->child && s->child_pidfd < 0 &&
		    waitpid(s->child, &s->child_status, WNOHANG) == s->child) {
			s->child_done = true;
			ret = 0;
			goto out;
		}
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case TAG_EVENTS:
				break; /* consumed above */
			case TAG_OUTPUT:
				ret = -EPIPE;
				goto out;
			case TAG_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(sigfd, &si, sizeof(si)) != sizeof(si))
					break;
				/* The first signal in -- mode is the command's
				 * (like strace); a second one stops us. */
				if (s->child && !s->child_done && !signals++) {
					if (forward_signal(&si))
						kill(s->child, (int)si.ssi_signo);
					break;
				}
				ret = 0;
				goto out;
			}
			case TAG_TIMER:
				ret = 0;
				goto out;
			case TAG_TICK: {
				uint64_t ticks;

				if (read(tick, &ticks, sizeof(ticks)) == sizeof(ticks) &&
				    stopped_by(s, o->on_tick(o->ctx, s))) {
					ret = s->stop;
					goto out;
				}
				break;
			}
			case TAG_INPUT: {
				int r = o->on_input(o->ctx, s);

				if (r == SESSION_QUIT) {
					ret = 0;
					goto out;
				}
				if (stopped_by(s, r)) {
					ret = s->stop;
					goto out;
				}
				break;
			}
			case TAG_CHILD:
				if (waitpid(s->child, &s->child_status, 0) == s->child) {
					s->child_done = true;
					ret = 0;
					goto out;
				}
				break;
			}
		}
	}
out:
	if (tfd >= 0)
		close(tfd);
	if (tick >= 0)
		close(tick);
	if (ep >= 0)
		close(ep);
	return ret;
}

/* How long a command that outlives the session has between SIGTERM and
 * SIGKILL. */
#define TERM_GRACE_MS 2000

/* Has the command ended? Reaps it if so. */
static bool child_reaped(struct session *s)
{
	pid_t r = waitpid(s->child, &s->child_status, WNOHANG);

	if (r == s->child || (r < 0 && errno == ECHILD)) {
		if (r < 0) /* reaped elsewhere: the status is lost; not 0 */
			s->child_status = 1 << 8;
		s->child_done = true;
	}
	return s->child_done;
}

/*
 * The session stopped with the command still running: SIGTERM (and SIGCONT,
 * should it be stopped), then up to TERM_GRACE_MS for it to end (a further
 * signal to zmtrace cuts that short), then SIGKILL. Its status is kept:
 * zmtrace exits with it.
 */
static void stop_command(struct session *s, int sigfd)
{
	if (!s->child || s->child_done || child_reaped(s))
		return;
	kill(s->child, SIGTERM);
	kill(s->child, SIGCONT);
	uint64_t deadline = now_boot_ns() + TERM_GRACE_MS * NSEC_PER_MSEC;
	bool hurry = false;

	while (!child_reaped(s) && !hurry) {
		uint64_t now = now_boot_ns();

		if (now >= deadline)
			break;
		/* The pidfd polls readable when the command ends; without
		 * one (old kernel), look again every 20 ms. */
		struct pollfd pfd[2] = {
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = s->child_pidfd, .events = POLLIN },
		};
		int ms = (int)((deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);

		if (s->child_pidfd < 0 && ms > 20)
			ms = 20;
		if (poll(pfd, s->child_pidfd >= 0 ? 2 : 1, ms) > 0 && (pfd[0].revents & POLLIN)) {
			struct signalfd_siginfo si;

			hurry = read(sigfd, &si, sizeof(si)) == sizeof(si);
		}
	}
	if (s->child_done)
		return;
	kill(s->child, SIGKILL);
	while (waitpid(s->child, &s->child_status, 0) < 0 && errno == EINTR)
		;
	s->child_done = true;
}

int session_run(const struct session_opts *o)
{
	struct session s = { .o = o, .child_pidfd = -1 };
	struct tracer_opts to = {
		.filter = o->pid || o->command ? ZM_FILTER_FOLLOW
			  : o->comm	       ? ZM_FILTER_COMM
					       : ZM_FILTER_NONE,
		.lifecycle = o->lifecycle,
		.zombies = o->zombies,
		.rss = o->rss,
		.rss_threshold = o->rss_threshold,
		.sample_hz = o->sample_hz,
		.verbose = o->verbose,
		.on_event = deliver,
		.ctx = &s,
	};
	char err[768], what[256];
	int status = 1, sigfd = -1, ret;
	bool epipe = false; /* the output's reader went away */
	sigset_t mask;

	if (o->comm)
		copy_comm(to.comm, o->comm);
	/* ZMTRACE_RINGBUF_KB: the ring buffer's size (a power of two, from 4;
	 * default 4096). Small sizes are for testing what a full one does. */
	const char *rb = getenv("ZMTRACE_RINGBUF_KB");

	if (rb) {
		char *end;
		unsigned long kb = strtoul(rb, &end, 10);

		if (*end || kb < 4 || kb > (1ul << 20) || (kb & (kb - 1))) {
			fprintf(stderr, "zmtrace: ZMTRACE_RINGBUF_KB wants a power of two from 4 to "
				"1048576, not '%s'\n", rb);
			return 1;
		}
		to.ringbuf_bytes = kb << 10;
	}
	if (hm_init(&s.followed)) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return 1;
	}
	if (o->pid && kill((pid_t)o->pid, 0) && errno == ESRCH) {
		fprintf(stderr, "zmtrace: no process with pid %u\n", o->pid);
		goto out;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sigfd < 0) {
		fprintf(stderr, "zmtrace: signalfd: %s\n", strerror(errno));
		goto out;
	}
	ret = tracer_open(&s.tracer, &to, err, sizeof(err));

	if (ret) {
		fprintf(stderr, "zmtrace: %s\n", err);
		goto out;
	}
	if (tracer_warning(s.tracer))
		fprintf(stderr, "zmtrace: warning: %s\n", tracer_warning(s.tracer));
	if (o->verbose && to.rss)
		fprintf(stderr, "zmtrace: rss_stat path: %s\n", tracer_rss_path(s.tracer));
	if (o->pid && (ret = follow_tree(&s, o->pid))) {
		fprintf(stderr, "zmtrace: cannot follow pid %u: %s\n", o->pid, strerror(-ret));
		goto out;
	}
	if (o->on_ready && stopped_by(&s, o->on_ready(o->ctx, &s)))
		goto out;
	if (o->command && start_command(&s, o->command, err, sizeof(err))) {
		fprintf(stderr, "zmtrace: %s\n", err);
		status = 127;
		goto out;
	}
	describe(&s, what, sizeof(what));
	fprintf(stderr, "zmtrace: tracing %s%s\n", what,
		o->command ? "" : "; Ctrl-C to end");
	ret = loop(&s, sigfd);
	epipe = ret == -EPIPE && !s.stop;
	/* Stopped by a signal, --duration, an error or a callback: a
	 * command still running is ended, its zombies seen. */
	stop_command(&s, sigfd);
	if (ret)
		goto out;
	/* Everything that happened before the stop is in the ring buffer. */
	ret = tracer_consume(s.tracer);
	if (s.stop)
		goto out;
	if (ret < 0) {
		fprintf(stderr, "zmtrace: reading events: %s\n", strerror(-ret));
		goto out;
	}
	if (o->on_end && stopped_by(&s, o->on_end(o->ctx, &s)))
		goto out;
	status = o->command ? exit_status_of(s.child_status) : 0;
out:
	if (epipe || s.stop == -EPIPE)
		status = 141; /* as if killed by SIGPIPE, the shell's way */
	stop_command(&s, sigfd);
	if (s.child_pidfd >= 0)
		close(s.child_pidfd);
	if (sigfd >= 0)
		close(sigfd);
	tracer_close(s.tracer);
	hm_destroy(&s.followed);
	return status;
}
