/*
 * A synthetic capture shaped like a busy host's lifecycle and memory, for
 * timing `zmtrace report` (tools/bench-report.sh) without root or a kernel
 * that could produce ten million events on demand:
 *
 *   gen_capture [-n EVENTS] [-s SEED] FILE
 *
 * EVENTS (default 10,000,000) counts every record written, START and END
 * included. The records are written with the project's own writer
 * (recorder.h), so the file is exactly what `zmtrace record` would write for
 * the same events. The records depend on SEED only; the header names this
 * host and clock, as the recorder's always does.
 *
 * The shape: a few hundred long-lived parents (forked first, children of
 * init) each fork short-lived children that exec, move their memory by
 * 1 MiB a few times, exit and are reaped with wait4. About a thousand
 * children are in flight at once, interleaved at random, so zombies live a
 * few milliseconds. A tenth of the parents leak: they never reap a third of
 * their children, which stay zombies to the end. A few long-lived processes
 * grow by 1 MiB steadily all along, so that a capture longer than 10 s of
 * synthetic time (a million events or so) has leak suspects. Time advances
 * by about 10 us a record; a /proc/meminfo sample is written every
 * simulated second. Pids are handed out in order, as the kernel does,
 * skipping those still held by a process or a zombie, so no record ever
 * reuses a pid too early.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recorder.h"
#include "records.h"

#define PID_MAX (1u << 22)	   /* the kernel's limit on 64-bit: 4194304 */
#define PID_FIRST 300		   /* the kernel's RESERVED_PIDS: wrapping starts here */
#define NPARENTS 300
#define INFLIGHT 1024		   /* children alive or zombie at once */
#define NLEAKERS 6		   /* long-lived processes that grow steadily */
#define LEAK_EVERY 2000		   /* a leaker's growth: about one record in this */
#define STEP_NS 10000ull	   /* mean time between records */
#define START_NS (1000ull * 1000000000ull) /* the synthetic boot time of the first record */
#define KB_STEP 1024ull		   /* the default threshold: 1 MiB */

static const char *const child_names[] = {
	"sh",	     "bash",	"grep",	   "sed",	"awk",	    "cat",	"ls",
	"python3",   "perl",	"cc1",	   "as",	"ld",	    "make",	"git",
	"curl",	     "ssh",	"rsync",   "tar",	"gzip",	    "sort",	"uniq",
	"find",	     "xargs",	"cron",	   "logrotate", "systemctl", "journalctl",
	"ps",	     "top",	"df",	   "du",	"sleep",    "true",	"date",
	"hostname",  "id",	"stat",	   "readlink",	"basename", "dirname",	"env",
};

static const char *const parent_names[] = {
	"sshd", "cron", "nginx", "postgres", "containerd-shim", "runc", "bash",
	"make", "ninja", "supervisord", "gunicorn", "php-fpm", "jenkins-agent",
	"buildkitd", "kubelet",
};

static const char *const leaker_names[] = {
	"java", "node", "python3", "ruby", "mysqld", "redis-server",
};

/* splitmix64: small, fast, and the same sequence everywhere. */
struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* 0 .. n-1 (n small: the modulo bias does not matter here) */
static uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(rnd(r) % n);
}

struct parent {
	uint32_t pid;
	uint64_t start_ns;
	char comm[ZM_COMM_LEN];
	bool leaky; /* never reaps some of its children */
};

/* What a child does next. */
enum step { S_FORK, S_EXEC, S_RSS, S_EXIT_RSS, S_EXIT, S_REAP };

struct child {
	uint32_t pid;
	uint32_t parent; /* index into gen.parents */
	uint64_t start_ns, exit_ns;
	char comm[ZM_COMM_LEN];
	enum step next;
	unsigned rss_left; /* S_RSS steps still to come */
	uint64_t anon_kb, file_kb, vsize_kb, peak_rss_kb;
	bool leaked; /* its parent will not reap it */
};

struct leaker {
	uint32_t pid;
	uint64_t anon_kb;
	char comm[ZM_COMM_LEN];
};

struct gen {
	struct rng rng;
	struct recorder *rec;
	uint64_t written, want;
	uint64_t ts, next_sys_ns;
	uint8_t *pid_used; /* a bit per pid: held by a process or a zombie */
	uint32_t next_pid;
	struct parent parents[NPARENTS];
	struct child kids[INFLIGHT];
	struct leaker leakers[NLEAKERS];
	uint64_t zombies_leaked;
};

static void set_comm(char dst[ZM_COMM_LEN], const char *s)
{
	memset(dst, 0, ZM_COMM_LEN);
	strncpy(dst, s, ZM_COMM_LEN - 1);
}

static bool pid_busy(const struct gen *g, uint32_t pid)
{
	return g->pid_used[pid / 8] & (1u << (pid % 8));
}

static void pid_mark(struct gen *g, uint32_t pid, bool used)
{
	if (used)
		g->pid_used[pid / 8] |= (uint8_t)(1u << (pid % 8));
	else
		g->pid_used[pid / 8] &= (uint8_t)~(1u << (pid % 8));
}

/* The next free pid, in order, as alloc_pid() hands them out. 0 when every
 * pid is taken (cannot happen with the bounds above, but say so). */
static uint32_t pid_alloc(struct gen *g)
{
	for (uint32_t tries = 0; tries < PID_MAX; tries++) {
		uint32_t pid = g->next_pid;

		g->next_pid = pid + 1 < PID_MAX ? pid + 1 : PID_FIRST;
		if (!pid_busy(g, pid)) {
			pid_mark(g, pid, true);
			return pid;
		}
	}
	return 0;
}

static int put(struct gen *g, const struct rec *r)
{
	if (recorder_put(g->rec, r))
		return -1; /* the recorder said why */
	g->written++;
	return 0;
}

/* Time moves on by 5..15 us: a busy host's pace. */
static void tick(struct gen *g)
{
	g->ts += STEP_NS / 2 + rnd(&g->rng) % STEP_NS;
}

static int put_sysmem(struct gen *g)
{
	const uint64_t total = 16ull << 20; /* 16 GiB, in KiB */
	struct rec r = { .type = REC_SYSMEM };
	uint64_t secs = (g->ts - START_NS) / 1000000000ull;
	/* Applications creep up as the leakers grow; cache fills the rest. */
	uint64_t app = (4ull << 20) + secs * 6 * KB_STEP + below(&g->rng, 65536);

	if (app > total - (1ull << 20))
		app = total - (1ull << 20);
	r.sys.ts_ns = g->ts;
	r.sys.total_kb = total;
	r.sys.buffers_kb = 200ull << 10;
	r.sys.cached_kb = (total - app) / 2;
	r.sys.app_kb = app;
	r.sys.used_kb = app + r.sys.buffers_kb + r.sys.cached_kb;
	r.sys.free_kb = total - r.sys.used_kb;
	r.sys.swap_total_kb = 4ull << 20;
	r.sys.swap_used_kb = 12ull << 10;
	return put(g, &r);
}

static void fill_event(struct rec *r, uint8_t type, uint64_t ts, uint32_t pid, uint32_t ppid)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->ev.ts_ns = ts;
	r->ev.type = type;
	r->ev.pid = pid;
	r->ev.ppid = ppid;
}

static void fill_mem(struct rec *r, uint64_t ts, uint32_t pid, const char *comm, uint32_t flags)
{
	memset(r, 0, sizeof(*r));
	r->type = ZM_EV_RSS;
	r->mem.ts_ns = ts;
	r->mem.type = ZM_EV_RSS;
	r->mem.pid = pid;
	r->mem.flags = flags;
	set_comm(r->mem.comm, comm);
}

/* A long-lived process forked (and exec'd) by init before the children. */
static int spawn_init_child(struct gen *g, uint32_t pid, uint64_t *start, char *comm,
			    const char *name)
{
	struct rec r;

	tick(g);
	*start = g->ts;
	fill_event(&r, ZM_EV_FORK, g->ts, pid, 1);
	r.ev.start_ns = *start;
	r.ev.aux_ns = 0; /* init started at boot */
	r.ev.other_pid = 1;
	set_comm(r.ev.comm, "systemd");
	set_comm(r.ev.pcomm, "systemd");
	if (put(g, &r))
		return -1;
	tick(g);
	fill_event(&r, ZM_EV_EXEC, g->ts, pid, 1);
	r.ev.start_ns = *start;
	r.ev.other_pid = pid;
	set_comm(r.ev.comm, name);
	set_comm(r.ev.pcomm, "systemd");
	set_comm(comm, name);
	return put(g, &r);
}

static int start_parents(struct gen *g)
{
	for (uint32_t i = 0; i < NPARENTS; i++) {
		struct parent *p = &g->parents[i];

		p->pid = pid_alloc(g);
		/* One in ten leaks; parent 0 is never one, so leaks are
		 * not all at the top of the table by pid alone. */
		p->leaky = i && below(&g->rng, 10) == 0;
		if (spawn_init_child(g, p->pid, &p->start_ns, p->comm,
				     parent_names[i % (sizeof(parent_names) / sizeof(parent_names[0]))]))
			return -1;
	}
	for (uint32_t i = 0; i < NLEAKERS; i++) {
		struct leaker *l = &g->leakers[i];
		uint64_t start;
		struct rec r;

		l->pid = pid_alloc(g);
		l->anon_kb = 64ull << 10;
		if (spawn_init_child(g, l->pid, &start, l->comm, leaker_names[i]))
			return -1;
		tick(g);
		fill_mem(&r, g->ts, l->pid, l->comm, ZM_M_EXEC | ZM_M_EXACT);
		r.mem.anon_kb = l->anon_kb;
		r.mem.file_kb = 20ull << 10;
		r.mem.vsize_kb = 2ull << 20;
		if (put(g, &r))
			return -1;
	}
	return 0;
}

/* A new child of a random parent, about to fork. 0 or -1 (no pid left). */
static int new_child(struct gen *g, struct child *c)
{
	memset(c, 0, sizeof(*c));
	c->pid = pid_alloc(g);
	if (!c->pid) {
		fprintf(stderr, "gen_capture: out of pids\n");
		return -1;
	}
	c->parent = below(&g->rng, NPARENTS);
	c->next = S_FORK;
	c->rss_left = 1 + below(&g->rng, 5);
	c->leaked = g->parents[c->parent].leaky && below(&g->rng, 3) == 0;
	set_comm(c->comm, g->parents[c->parent].comm); /* a fork keeps the name */
	return 0;
}

static void child_mem(struct rec *r, const struct child *c, uint64_t rss_kb)
{
	r->mem.anon_kb = rss_kb - c->file_kb;
	r->mem.file_kb = c->file_kb;
	r->mem.vsize_kb = c->vsize_kb;
}

/* The child's next record; a child that is done is replaced. */
static int child_step(struct gen *g, struct child *c)
{
	const struct parent *p = &g->parents[c->parent];
	struct rec r;

	switch (c->next) {
	case S_FORK:
		c->start_ns = g->ts;
		fill_event(&r, ZM_EV_FORK, g->ts, c->pid, p->pid);
		r.ev.start_ns = c->start_ns;
		r.ev.aux_ns = p->start_ns;
		r.ev.other_pid = p->pid;
		memcpy(r.ev.comm, c->comm, ZM_COMM_LEN);
		memcpy(r.ev.pcomm, p->comm, ZM_COMM_LEN);
		c->next = S_EXEC;
		return put(g, &r);
	case S_EXEC:
		set_comm(c->comm, child_names[below(&g->rng, sizeof(child_names) /
								 sizeof(child_names[0]))]);
		fill_event(&r, ZM_EV_EXEC, g->ts, c->pid, p->pid);
		r.ev.start_ns = c->start_ns;
		r.ev.aux_ns = p->start_ns;
		r.ev.other_pid = c->pid;
		memcpy(r.ev.comm, c->comm, ZM_COMM_LEN);
		memcpy(r.ev.pcomm, p->comm, ZM_COMM_LEN);
		if (put(g, &r))
			return -1;
		/* exec's first figures come with it, in the same record burst */
		c->file_kb = 1024 + below(&g->rng, 8192);
		c->vsize_kb = c->file_kb + 8192 + below(&g->rng, 65536);
		c->anon_kb = 512 + below(&g->rng, 4096);
		c->peak_rss_kb = c->anon_kb + c->file_kb;
		tick(g);
		fill_mem(&r, g->ts, c->pid, c->comm, ZM_M_EXEC | ZM_M_EXACT);
		child_mem(&r, c, c->anon_kb + c->file_kb);
		c->next = S_RSS;
		return put(g, &r);
	case S_RSS:
		c->anon_kb += KB_STEP;
		c->vsize_kb += KB_STEP;
		c->peak_rss_kb = c->anon_kb + c->file_kb;
		fill_mem(&r, g->ts, c->pid, c->comm, ZM_M_EXACT);
		child_mem(&r, c, c->anon_kb + c->file_kb);
		if (!--c->rss_left)
			c->next = S_EXIT_RSS;
		return put(g, &r);
	case S_EXIT_RSS:
		/* The final figures, with the kernel's peaks: the process
		 * leaves memstate's live table here. */
		fill_mem(&r, g->ts, c->pid, c->comm, ZM_M_EXIT | ZM_M_EXACT);
		child_mem(&r, c, c->anon_kb + c->file_kb);
		r.mem.peak_rss_kb = c->peak_rss_kb;
		r.mem.peak_vm_kb = c->vsize_kb;
		c->next = S_EXIT;
		return put(g, &r);
	case S_EXIT:
		c->exit_ns = g->ts;
		fill_event(&r, ZM_EV_EXIT, g->ts, c->pid, p->pid);
		r.ev.start_ns = c->start_ns;
		r.ev.aux_ns = p->start_ns;
		r.ev.other_pid = c->pid;
		r.ev.code = below(&g->rng, 8) ? 0 : 1u << 8; /* exit 0, now and then exit 1 */
		memcpy(r.ev.comm, c->comm, ZM_COMM_LEN);
		memcpy(r.ev.pcomm, p->comm, ZM_COMM_LEN);
		if (put(g, &r))
			return -1;
		if (c->leaked) {
			/* A zombie to the end: its pid stays taken. */
			g->zombies_leaked++;
			return new_child(g, c);
		}
		c->next = S_REAP;
		return 0;
	case S_REAP:
		fill_event(&r, ZM_EV_REAP, g->ts, c->pid, p->pid);
		r.ev.start_ns = c->start_ns;
		r.ev.aux_ns = c->exit_ns;
		r.ev.other_pid = p->pid;
		r.ev.code = ZM_VIA_WAIT4;
		memcpy(r.ev.comm, c->comm, ZM_COMM_LEN);
		memcpy(r.ev.pcomm, p->comm, ZM_COMM_LEN);
		if (put(g, &r))
			return -1;
		pid_mark(g, c->pid, false);
		return new_child(g, c);
	}
	return 0;
}

static int leaker_step(struct gen *g, struct leaker *l)
{
	struct rec r;

	l->anon_kb += KB_STEP;
	fill_mem(&r, g->ts, l->pid, l->comm, ZM_M_EXACT);
	r.mem.anon_kb = l->anon_kb;
	r.mem.file_kb = 20ull << 10;
	r.mem.vsize_kb = (2ull << 20) + l->anon_kb;
	return put(g, &r);
}

static int run(struct gen *g)
{
	struct rec r = { .type = REC_START };

	g->ts = START_NS;
	r.start.ts_ns = g->ts;
	/* The recorder: the first pid handed out, and never a parent here
	 * (the model leaves the recorder's own children out). */
	r.start.self_pid = pid_alloc(g);
	r.start.flags = REC_S_EXACT_REAPS;
	r.start.threshold = KB_STEP << 10;
	r.start.interval_ns = 1000000000ull;
	snprintf(r.start.rss_path, sizeof(r.start.rss_path), "linear");
	snprintf(r.start.what, sizeof(r.start.what), "all processes");
	if (put(g, &r))
		return -1;
	g->next_sys_ns = g->ts;
	if (start_parents(g))
		return -1;
	for (size_t i = 0; i < INFLIGHT; i++)
		if (new_child(g, &g->kids[i]))
			return -1;
	/* The last record is END. */
	while (g->written + 1 < g->want) {
		int ret;

		tick(g);
		if (g->ts >= g->next_sys_ns) {
			g->next_sys_ns += 1000000000ull;
			ret = put_sysmem(g);
		} else if (below(&g->rng, LEAK_EVERY) == 0) {
			ret = leaker_step(g, &g->leakers[below(&g->rng, NLEAKERS)]);
		} else {
			ret = child_step(g, &g->kids[below(&g->rng, INFLIGHT)]);
		}
		if (ret)
			return -1;
	}
	memset(&r, 0, sizeof(r));
	r.type = REC_END;
	r.drops.ts_ns = g->ts + STEP_NS;
	return put(g, &r);
}

static int usage(void)
{
	fprintf(stderr, "usage: gen_capture [-n EVENTS] [-s SEED] FILE\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t want = 10000000, seed = 1;
	char *end;
	int c;

	while ((c = getopt(argc, argv, "n:s:h")) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			want = strtoull(optarg, &end, 10);
			if (errno || *end || want < 2)
				return fprintf(stderr, "gen_capture: -n wants a count >= 2\n"), 2;
			break;
		case 's':
			errno = 0;
			seed = strtoull(optarg, &end, 0);
			if (errno || *end)
				return fprintf(stderr, "gen_capture: -s wants a number\n"), 2;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc - 1)
		return usage();
	/* The parents, leakers and first children alone take this many. */
	if (want < 1 + 2 * (NPARENTS + NLEAKERS) + NLEAKERS + 1) {
		fprintf(stderr, "gen_capture: -n wants at least %d records\n",
			1 + 2 * (NPARENTS + NLEAKERS) + NLEAKERS + 1);
		return 2;
	}
	/* About 100 KiB of state with the bitmap: on the heap, not in static
	 * storage, so the program keeps no global mutable state. */
	struct gen *g = calloc(1, sizeof(*g));

	if (!g || !(g->pid_used = calloc(PID_MAX / 8, 1))) {
		fprintf(stderr, "gen_capture: out of memory\n");
		free(g);
		return 1;
	}
	g->rng.s = seed;
	g->want = want;
	g->next_pid = PID_FIRST;
	/* init, and the pids below the kernel's reserved range, are taken */
	for (uint32_t pid = 0; pid < PID_FIRST; pid++)
		pid_mark(g, pid, true);
	if (recorder_open(&g->rec, argv[optind], argc, argv)) {
		free(g->pid_used);
		free(g);
		return 1;
	}
	int ret = run(g);

	if (recorder_close(g->rec))
		ret = -1;
	if (!ret)
		fprintf(stderr,
			"gen_capture: %s: %" PRIu64 " records, %" PRIu64
			" zombies left unreaped, %.1f s of synthetic time\n",
			argv[optind], g->written, g->zombies_leaked,
			(double)(g->ts - START_NS) / 1e9);
	free(g->pid_used);
	free(g);
	return ret ? 1 : 0;
}
