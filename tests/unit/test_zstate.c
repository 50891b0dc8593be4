/* Unit tests for user/zstate.c: the zombie state machine, fed with synthetic
 * struct zm_event records; every record it delivers goes to a recording sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"
#include "zmtrace.h"
#include "zstate.h"

#define MS (1000ULL * 1000)
#define SEC (1000ULL * MS)
#define MAXREC 256

/* A copy of a reap record: r.z points into the state machine's memory only
 * during the callback, so the zombie is copied too. */
struct rec_reap {
	struct zs_reap r;
	struct zs_zombie z;
};

struct rec {
	size_t nzombie, nreap;
	struct zs_zombie zombie[MAXREC];
	struct rec_reap reap[MAXREC];
};

struct fix {
	struct rec rec;
	struct zstate *s;
};


/* A zombie found in /proc at start, by fields. */
static int preexist(struct zstate *s, uint32_t pid, uint64_t start_ns, uint32_t ppid,
		    uint64_t pstart_ns, const char *comm, const char *pcomm, uint64_t found_ns)
{
	struct zs_zombie z = {
		.pid = pid, .ppid = ppid, .start_ns = start_ns, .pstart_ns = pstart_ns,
		.exit_ns = found_ns,
	};
	copy_comm(z.comm, comm);
	copy_comm(z.pcomm, pcomm);
	return zs_preexisting(s, &z);
}

static void on_zombie(void *ctx, const struct zs_zombie *z)
{
	struct rec *r = ctx;

	if (r->nzombie < MAXREC)
		r->zombie[r->nzombie] = *z;
	r->nzombie++;
}

static void on_reap(void *ctx, const struct zs_reap *rp)
{
	struct rec *r = ctx;

	assert_non_null(rp->z);
	if (r->nreap < MAXREC) {
		r->reap[r->nreap].r = *rp;
		r->reap[r->nreap].z = *rp->z;
		r->reap[r->nreap].r.z = NULL; /* not valid after the callback */
	}
	r->nreap++;
}

static struct zstate *new_state(struct fix *f, size_t max_parents)
{
	struct zs_sink sink = { .ctx = &f->rec, .zombie = on_zombie, .reap = on_reap };
	struct zstate *s = zs_new(&sink, max_parents);

	assert_non_null(s);
	return s;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->s = new_state(f, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	zs_free(f->s);
	free(f);
	return 0;
}

/* A process (pid, start) whose parent is (ppid, pstart) exits at ts. */
static void do_exit(struct zstate *s, uint32_t pid, uint64_t start, uint32_t ppid,
		    uint64_t pstart, uint64_t ts, const char *comm, const char *pcomm,
		    uint32_t flags)
{
	struct zm_event e = {
		.type = ZM_EV_EXIT,
		.ts_ns = ts,
		.start_ns = start,
		.aux_ns = pstart,
		.pid = pid,
		.ppid = ppid,
		.other_pid = pid,
		.code = 0x100, /* exit(1) */
		.flags = flags,
	};
	copy_comm(e.comm, comm);
	copy_comm(e.pcomm, pcomm);
	assert_int_equal(zs_event(s, &e), 0);
}

/* The zombie (pid, start) of parent-at-exit ppid, exited at exit_ts (0:
 * unknown), is reaped by reaper at ts. */
static void do_reap(struct zstate *s, uint32_t pid, uint64_t start, uint32_t ppid,
		    uint32_t reaper, uint64_t ts, uint64_t exit_ts, const char *comm,
		    const char *reaper_comm, enum zm_reap_via via, uint32_t flags)
{
	struct zm_event e = {
		.type = ZM_EV_REAP,
		.ts_ns = ts,
		.start_ns = start,
		.aux_ns = exit_ts,
		.pid = pid,
		.ppid = ppid,
		.other_pid = reaper,
		.code = via,
		.flags = flags,
	};
	copy_comm(e.comm, comm);
	copy_comm(e.pcomm, reaper_comm);
	assert_int_equal(zs_event(s, &e), 0);
}

/* zs_parents(), checked for a count; caller frees. */
static struct zs_parent_stat *parents(struct zstate *s, long want)
{
	struct zs_parent_stat *v = NULL;
	long n = zs_parents(s, &v);

	assert_int_equal(n, want);
	assert_non_null(v);
	return v;
}

static const struct zs_parent_stat *find_parent(const struct zs_parent_stat *v, long n,
						uint32_t pid)
{
	for (long i = 0; i < n; i++)
		if (v[i].pid == pid)
			return &v[i];
	return NULL;
}

static void assert_counters(struct zstate *s, uint64_t zombies, uint64_t reaps,
			    uint64_t autoreaped, uint64_t without_exit, uint64_t dup_exits,
			    uint64_t stale)
{
	const struct zs_counters *c = zs_counters(s);

	assert_int_equal(c->zombies, zombies);
	assert_int_equal(c->reaps, reaps);
	assert_int_equal(c->autoreaped, autoreaped);
	assert_int_equal(c->reaps_without_exit, without_exit);
	assert_int_equal(c->duplicate_exits, dup_exits);
	assert_int_equal(c->stale_zombies, stale);
	assert_int_equal(c->nomem, 0);
}

static void count_cb(void *ctx, const struct zs_zombie *z)
{
	(void)z;
	++*(size_t *)ctx;
}

static size_t count_zombies(struct zstate *s)
{
	size_t n = 0;

	zs_each_zombie(s, count_cb, &n);
	return n;
}

/* 1. EXIT, then the parent reaps it with wait4. */
static void test_exit_then_reap_by_parent(void **state)
{
	struct fix *f = *state;
	const uint64_t start = 5 * SEC + 123, pstart = 1 * SEC + 456, t0 = 10 * SEC;

	do_exit(f->s, 100, start, 10, pstart, t0, "child", "parent", 0);

	assert_int_equal(f->rec.nzombie, 1);
	assert_int_equal(f->rec.nreap, 0);
	const struct zs_zombie *z = &f->rec.zombie[0];

	assert_int_equal(z->pid, 100);
	assert_int_equal(z->ppid, 10);
	assert_int_equal(z->start_ns, start);
	assert_int_equal(z->pstart_ns, pstart);
	assert_int_equal(z->exit_ns, t0);
	assert_int_equal(z->status, 0x100);
	assert_false(z->preexisting);
	assert_string_equal(z->comm, "child");
	assert_string_equal(z->pcomm, "parent");

	const struct zs_zombie *live = zs_zombie(f->s, 100);

	assert_non_null(live);
	assert_int_equal(live->start_ns, start);
	assert_int_equal(count_zombies(f->s), 1);

	struct zs_parent_stat *v = parents(f->s, 1);

	assert_int_equal(v[0].pid, 10);
	assert_int_equal(v[0].zombies, 1);
	assert_int_equal(v[0].unreaped, 1);
	assert_int_equal(v[0].zombie_ns_max, 0);
	free(v);

	do_reap(f->s, 100, start, 10, 10, t0 + 1500 * 1000, t0, "child", "parent", ZM_VIA_WAIT4,
		0);

	assert_int_equal(f->rec.nzombie, 1);
	assert_int_equal(f->rec.nreap, 1);
	const struct rec_reap *r = &f->rec.reap[0];

	assert_int_equal(r->r.ts_ns, t0 + 1500 * 1000);
	assert_int_equal(r->r.zombie_ns, 1500 * 1000);
	assert_int_equal(r->r.reaper_pid, 10);
	assert_string_equal(r->r.reaper_comm, "parent");
	assert_int_equal(r->r.via, ZM_VIA_WAIT4);
	assert_false(r->r.reparented);
	assert_false(r->r.exit_unseen);
	assert_int_equal(r->z.pid, 100);
	assert_int_equal(r->z.ppid, 10);
	assert_int_equal(r->z.start_ns, start);
	assert_int_equal(r->z.exit_ns, t0);
	assert_false(r->z.preexisting);
	assert_string_equal(r->z.comm, "child");
	assert_string_equal(r->z.pcomm, "parent");

	assert_null(zs_zombie(f->s, 100));
	assert_int_equal(count_zombies(f->s), 0);
	assert_counters(f->s, 1, 1, 0, 0, 0, 0);

	v = parents(f->s, 1);
	assert_int_equal(v[0].pid, 10);
	assert_string_equal(v[0].comm, "parent");
	assert_int_equal(v[0].zombies, 1);
	assert_int_equal(v[0].unreaped, 0);
	assert_int_equal(v[0].zombie_ns_max, 1500 * 1000);
	assert_int_equal(v[0].zombie_ns_p50, 1500 * 1000);
	assert_int_equal(v[0].zombie_ns_p99, 1500 * 1000);
	free(v);
}

/* Reaped with waitid, and a reap whose clock reads earlier than the exit. */
static void test_reap_via_waitid_and_clock_skew(void **state)
{
	struct fix *f = *state;

	do_exit(f->s, 101, 7 * SEC, 10, 1 * SEC, 20 * SEC, "c", "p", 0);
	do_reap(f->s, 101, 7 * SEC, 10, 10, 20 * SEC - 5, 20 * SEC, "c", "p", ZM_VIA_WAITID, 0);

	assert_int_equal(f->rec.nreap, 1);
	assert_int_equal(f->rec.reap[0].r.via, ZM_VIA_WAITID);
	assert_int_equal(f->rec.reap[0].r.zombie_ns, 0);
	assert_counters(f->s, 1, 1, 0, 0, 0, 0);
}

/* 2. A child of a parent that ignores SIGCHLD is never a zombie. */
static void test_autoreap(void **state)
{
	struct fix *f = *state;

	do_exit(f->s, 110, 3 * SEC, 11, 1 * SEC, 10 * SEC, "child", "parent", ZM_F_AUTOREAP);

	assert_int_equal(f->rec.nzombie, 0);
	assert_int_equal(f->rec.nreap, 0);
	assert_null(zs_zombie(f->s, 110));
	assert_counters(f->s, 0, 0, 1, 0, 0, 0);

	struct zs_parent_stat *v = parents(f->s, 0);

	free(v);
}

/* FORK and EXEC (and unknown types) leave the state alone. */
static void test_fork_exec_ignored(void **state)
{
	struct fix *f = *state;
	struct zm_event e = { .type = ZM_EV_FORK, .pid = 5, .ppid = 1, .ts_ns = SEC };

	assert_int_equal(zs_event(f->s, &e), 0);
	e.type = ZM_EV_EXEC;
	assert_int_equal(zs_event(f->s, &e), 0);
	e.type = 99;
	assert_int_equal(zs_event(f->s, &e), 0);
	assert_int_equal(f->rec.nzombie + f->rec.nreap, 0);
	assert_counters(f->s, 0, 0, 0, 0, 0, 0);
	free(parents(f->s, 0));
}

/* Parent ppid makes `made` zombies and reaps the first `reaped` of them. */
static void make_zombies(struct zstate *s, uint32_t ppid, uint32_t first_pid, int made,
			 int reaped, uint64_t t)
{
	for (int i = 0; i < made; i++)
		do_exit(s, first_pid + (uint32_t)i, t + (uint64_t)i * SEC, ppid, SEC, t + 100 * SEC,
			"kid", "parent", 0);
	for (int i = 0; i < reaped; i++)
		do_reap(s, first_pid + (uint32_t)i, t + (uint64_t)i * SEC, ppid, ppid,
			t + 100 * SEC + (uint64_t)(i + 1) * MS, t + 100 * SEC, "kid", "parent",
			ZM_VIA_WAIT4, 0);
}

/* 3. Leaked zombies stay unreaped; parents rank by unreaped, zombies, pid. */
static void test_leak_and_ranking(void **state)
{
	struct fix *f = *state;

	make_zombies(f->s, 20, 1000, 10, 0, 0);	  /* A: 10 made, 10 unreaped */
	make_zombies(f->s, 30, 2000, 5, 4, 0);	  /* B: 5 made, 1 unreaped */
	make_zombies(f->s, 40, 3000, 2, 1, 0);	  /* C: 2 made, 1 unreaped */
	make_zombies(f->s, 50, 4000, 1, 1, 0);	  /* D: 1 made, 0 unreaped */
	make_zombies(f->s, 15, 5000, 2, 1, 0);	  /* E: ties C: lower pid first */
	make_zombies(f->s, 60, 6000, 7, 7, 0);	  /* F: 7 made, 0 unreaped */

	assert_int_equal(f->rec.nzombie, 27);
	assert_int_equal(f->rec.nreap, 14);
	assert_int_equal(count_zombies(f->s), 13);
	assert_counters(f->s, 27, 14, 0, 0, 0, 0);

	struct zs_parent_stat *v = parents(f->s, 6);
	static const struct {
		uint32_t pid;
		uint64_t zombies, unreaped;
	} want[] = {
		{ 20, 10, 10 }, { 30, 5, 1 }, { 15, 2, 1 }, { 40, 2, 1 }, { 60, 7, 0 }, { 50, 1, 0 },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(v[i].pid, want[i].pid);
		assert_int_equal(v[i].zombies, want[i].zombies);
		assert_int_equal(v[i].unreaped, want[i].unreaped);
	}
	/* A reaped nothing: no durations. */
	assert_int_equal(v[0].zombie_ns_max, 0);
	assert_int_equal(v[0].zombie_ns_p50, 0);
	/* F reaped 7 after 1..7 ms: nearest-rank p50 is the 4th, max the 7th. */
	assert_int_equal(v[4].zombie_ns_max, 7 * MS);
	assert_int_equal(v[4].zombie_ns_p50, 4 * MS);
	assert_int_equal(v[4].zombie_ns_p99, 7 * MS);
	free(v);
}

/* 4. Reaped by init or a subreaper after the parent died: still charged to
 * the parent at exit. */
static void test_reparented_reap(void **state)
{
	struct fix *f = *state;

	do_exit(f->s, 200, 2 * SEC, 20, SEC, 10 * SEC, "orphan", "leaker", 0);
	do_exit(f->s, 201, 3 * SEC, 20, SEC, 11 * SEC, "orphan2", "leaker", 0);

	struct zs_parent_stat *v = parents(f->s, 1);

	assert_int_equal(v[0].unreaped, 2);
	free(v);

	do_reap(f->s, 200, 2 * SEC, 20, 1, 12 * SEC, 10 * SEC, "orphan", "systemd", ZM_VIA_WAIT4,
		0);
	do_reap(f->s, 201, 3 * SEC, 20, 777, 14 * SEC, 11 * SEC, "orphan2", "subreaper",
		ZM_VIA_FREE, 0);

	assert_int_equal(f->rec.nreap, 2);
	const struct rec_reap *r = &f->rec.reap[0];

	assert_true(r->r.reparented);
	assert_false(r->r.exit_unseen);
	assert_int_equal(r->r.reaper_pid, 1);
	assert_string_equal(r->r.reaper_comm, "systemd");
	assert_int_equal(r->r.zombie_ns, 2 * SEC);
	assert_int_equal(r->z.ppid, 20);
	assert_string_equal(r->z.pcomm, "leaker");
	assert_string_equal(r->z.comm, "orphan");

	r = &f->rec.reap[1];
	assert_true(r->r.reparented);
	assert_int_equal(r->r.reaper_pid, 777);
	assert_string_equal(r->r.reaper_comm, "subreaper");
	assert_int_equal(r->r.via, ZM_VIA_FREE);
	assert_int_equal(r->r.zombie_ns, 3 * SEC);
	assert_int_equal(r->z.ppid, 20);

	assert_counters(f->s, 2, 2, 0, 0, 0, 0);
	/* Only the leaker is a parent here: no entry for the reapers. */
	v = parents(f->s, 1);
	assert_int_equal(v[0].pid, 20);
	assert_string_equal(v[0].comm, "leaker");
	assert_int_equal(v[0].zombies, 2);
	assert_int_equal(v[0].unreaped, 0);
	assert_int_equal(v[0].zombie_ns_max, 3 * SEC);
	assert_int_equal(v[0].zombie_ns_p50, 2 * SEC);
	assert_int_equal(v[0].zombie_ns_p99, 3 * SEC);
	free(v);
}

/* 5. A zombie found in /proc at start (start times to 1/USER_HZ only). */
static void test_preexisting_then_reap(void **state)
{
	struct fix *f = *state;
	const uint64_t start = 723 * USER_HZ_NS, pstart = 100 * USER_HZ_NS, found = 50 * SEC;

	assert_int_equal(preexist(f->s, 300, start, 30, pstart, "old", "daddy", found), 0);

	assert_int_equal(f->rec.nzombie, 1);
	assert_true(f->rec.zombie[0].preexisting);
	assert_int_equal(f->rec.zombie[0].exit_ns, found);
	assert_int_equal(f->rec.zombie[0].start_ns, start);
	assert_string_equal(f->rec.zombie[0].comm, "old");
	assert_string_equal(f->rec.zombie[0].pcomm, "daddy");
	const struct zs_zombie *z = zs_zombie(f->s, 300);

	assert_non_null(z);
	assert_true(z->preexisting);

	do_reap(f->s, 300, start, 30, 30, found + 3 * SEC, 0, "old", "daddy", ZM_VIA_WAIT4,
		ZM_F_PREEXISTING);

	assert_int_equal(f->rec.nreap, 1);
	const struct rec_reap *r = &f->rec.reap[0];

	assert_true(r->z.preexisting);
	assert_false(r->r.exit_unseen);
	assert_false(r->r.reparented);
	assert_int_equal(r->r.zombie_ns, 3 * SEC);
	assert_int_equal(r->z.exit_ns, found);
	assert_string_equal(r->z.comm, "old");
	assert_null(zs_zombie(f->s, 300));
	assert_counters(f->s, 1, 1, 0, 0, 0, 0);

	struct zs_parent_stat *v = parents(f->s, 1);

	assert_int_equal(v[0].pid, 30);
	assert_int_equal(v[0].zombies, 1);
	assert_int_equal(v[0].unreaped, 0);
	assert_int_equal(v[0].zombie_ns_max, 3 * SEC);
	free(v);
}

/* A pre-existing zombie matches a REAP that carries its exact start time
 * (same tick), and /proc finding a zombie whose EXIT was seen adds nothing. */
static void test_preexisting_tick_match(void **state)
{
	struct fix *f = *state;
	const uint64_t exact = 723 * USER_HZ_NS + 4567891, tick = 723 * USER_HZ_NS;

	assert_int_equal(preexist(f->s, 301, tick, 31, 0, "old", "p", 50 * SEC), 0);
	do_reap(f->s, 301, exact, 31, 31, 51 * SEC, 0, "old", "p", ZM_VIA_WAIT4, 0);
	assert_int_equal(f->rec.nreap, 1);
	assert_false(f->rec.reap[0].r.exit_unseen);
	assert_true(f->rec.reap[0].z.preexisting);
	assert_int_equal(f->rec.reap[0].r.zombie_ns, SEC);

	do_exit(f->s, 302, exact, 31, 0, 60 * SEC, "new", "p", 0);
	assert_int_equal(preexist(f->s, 302, tick, 31, 0, "new", "p", 61 * SEC), 0);
	assert_int_equal(f->rec.nzombie, 2);
	const struct zs_zombie *z = zs_zombie(f->s, 302);

	assert_non_null(z);
	assert_false(z->preexisting);
	assert_int_equal(z->exit_ns, 60 * SEC);
	assert_counters(f->s, 2, 1, 0, 0, 1, 0);

	struct zs_parent_stat *v = parents(f->s, 1);

	assert_int_equal(v[0].zombies, 2);
	assert_int_equal(v[0].unreaped, 1);
	free(v);
}

/* 6a. A reused pid is a new process: nothing carries over. */
static void test_pid_reuse(void **state)
{
	struct fix *f = *state;

	do_exit(f->s, 400, 1 * SEC, 40, 500 * MS, 10 * SEC, "a", "pa", 0);
	do_reap(f->s, 400, 1 * SEC, 40, 40, 11 * SEC, 10 * SEC, "a", "pa", ZM_VIA_WAIT4, 0);
	do_exit(f->s, 400, 31 * SEC, 41, 600 * MS, 20 * SEC, "b", "pb", 0);

	const struct zs_zombie *z = zs_zombie(f->s, 400);

	assert_non_null(z);
	assert_int_equal(z->start_ns, 31 * SEC);
	assert_string_equal(z->comm, "b");

	do_reap(f->s, 400, 31 * SEC, 41, 41, 20 * SEC + 250 * MS, 20 * SEC, "b", "pb",
		ZM_VIA_WAIT4, 0);

	assert_int_equal(f->rec.nzombie, 2);
	assert_int_equal(f->rec.nreap, 2);
	const struct rec_reap *r = &f->rec.reap[1];

	assert_string_equal(r->z.comm, "b");
	assert_string_equal(r->z.pcomm, "pb");
	assert_int_equal(r->z.ppid, 41);
	assert_int_equal(r->z.start_ns, 31 * SEC);
	assert_int_equal(r->z.pstart_ns, 600 * MS);
	assert_int_equal(r->z.exit_ns, 20 * SEC);
	assert_int_equal(r->r.zombie_ns, 250 * MS);
	assert_false(r->r.reparented);
	assert_false(r->r.exit_unseen);
	assert_counters(f->s, 2, 2, 0, 0, 0, 0);

	struct zs_parent_stat *v = parents(f->s, 2);

	assert_int_equal(v[0].pid, 40); /* tie on counts: by pid */
	assert_int_equal(v[0].zombie_ns_max, 1 * SEC);
	assert_int_equal(v[1].pid, 41);
	assert_int_equal(v[1].zombies, 1);
	assert_int_equal(v[1].unreaped, 0);
	assert_int_equal(v[1].zombie_ns_max, 250 * MS);
	free(v);
}

/* 6b. A's reap was lost; a new process B with A's pid exits: A is stale. */
static void test_pid_reuse_lost_reap(void **state)
{
	struct fix *f = *state;

	do_exit(f->s, 401, 1 * SEC, 40, 500 * MS, 10 * SEC, "a", "pa", 0);
	do_exit(f->s, 401, 31 * SEC, 42, 700 * MS, 30 * SEC, "b", "pb", 0);

	assert_int_equal(f->rec.nzombie, 2);
	assert_counters(f->s, 2, 0, 0, 0, 0, 1);
	const struct zs_zombie *z = zs_zombie(f->s, 401);

	assert_non_null(z);
	assert_int_equal(z->start_ns, 31 * SEC);
	assert_int_equal(z->ppid, 42);
	assert_string_equal(z->comm, "b");
	assert_int_equal(count_zombies(f->s), 1);

	struct zs_parent_stat *v = parents(f->s, 2);

	assert_int_equal(v[0].pid, 42);
	assert_int_equal(v[0].unreaped, 1);
	assert_int_equal(v[1].pid, 40);
	assert_int_equal(v[1].zombies, 1);
	assert_int_equal(v[1].unreaped, 0); /* A no longer counts as unreaped */
	free(v);

	do_reap(f->s, 401, 31 * SEC, 42, 42, 32 * SEC, 30 * SEC, "b", "pb", ZM_VIA_WAIT4, 0);
	assert_int_equal(f->rec.nreap, 1);
	assert_string_equal(f->rec.reap[0].z.comm, "b");
	assert_int_equal(f->rec.reap[0].r.zombie_ns, 2 * SEC);
	assert_false(f->rec.reap[0].r.exit_unseen);
	assert_counters(f->s, 2, 1, 0, 0, 0, 1);
}

/* 7a. REAP whose EXIT was lost; then the EXIT arrives late. */
static void test_reap_without_exit_then_late_exit(void **state)
{
	struct fix *f = *state;

	do_reap(f->s, 500, 4 * SEC, 50, 50, 20 * SEC, 19 * SEC + 500 * MS, "lost", "p50",
		ZM_VIA_WAIT4, 0);

	assert_int_equal(f->rec.nzombie, 0);
	assert_int_equal(f->rec.nreap, 1);
	const struct rec_reap *r = &f->rec.reap[0];

	assert_true(r->r.exit_unseen);
	assert_false(r->r.reparented);
	assert_int_equal(r->r.zombie_ns, 500 * MS);
	assert_int_equal(r->r.reaper_pid, 50);
	assert_string_equal(r->r.reaper_comm, "p50");
	assert_int_equal(r->z.pid, 500);
	assert_int_equal(r->z.ppid, 50);
	assert_int_equal(r->z.start_ns, 4 * SEC);
	assert_int_equal(r->z.exit_ns, 19 * SEC + 500 * MS);
	assert_false(r->z.preexisting);
	assert_string_equal(r->z.comm, "lost");
	assert_string_equal(r->z.pcomm, "p50");
	assert_null(zs_zombie(f->s, 500));
	assert_counters(f->s, 1, 1, 0, 1, 0, 0);

	struct zs_parent_stat *v = parents(f->s, 1);

	assert_int_equal(v[0].pid, 50);
	assert_int_equal(v[0].zombies, 1);
	assert_int_equal(v[0].unreaped, 0);
	assert_int_equal(v[0].zombie_ns_max, 500 * MS);
	free(v);

	/* The late EXIT for the same process must not make a zombie. */
	do_exit(f->s, 500, 4 * SEC, 50, 2 * SEC, 19 * SEC + 500 * MS, "lost", "p50", 0);
	assert_int_equal(f->rec.nzombie, 0);
	assert_null(zs_zombie(f->s, 500));
	assert_int_equal(count_zombies(f->s), 0);
	assert_counters(f->s, 1, 1, 0, 1, 1, 0);

	v = parents(f->s, 1);
	assert_int_equal(v[0].zombies, 1);
	assert_int_equal(v[0].unreaped, 0);
	free(v);

	/* A new process with that pid is not "late": it is a zombie. */
	do_exit(f->s, 500, 40 * SEC, 50, 2 * SEC, 41 * SEC, "next", "p50", 0);
	assert_int_equal(f->rec.nzombie, 1);
	assert_non_null(zs_zombie(f->s, 500));
	assert_counters(f->s, 2, 1, 0, 1, 1, 0);
}

/* A REAP without EXIT and without an exit time: zombie_ns is 0. */
static void test_reap_without_exit_unknown_exit_time(void **state)
{
	struct fix *f = *state;

	do_reap(f->s, 501, 4 * SEC, 50, 1, 20 * SEC, 0, "lost", "init", ZM_VIA_FREE, 0);
	assert_int_equal(f->rec.nreap, 1);
	assert_true(f->rec.reap[0].r.exit_unseen);
	assert_true(f->rec.reap[0].r.reparented);
	assert_int_equal(f->rec.reap[0].r.zombie_ns, 0);
	assert_int_equal(f->rec.reap[0].z.exit_ns, 20 * SEC);
	assert_false(f->rec.reap[0].z.preexisting);
	assert_counters(f->s, 1, 1, 0, 1, 0, 0);

	/* A pre-existing zombie the collector did not know (seeded in the BPF
	 * map only): still flagged pre-existing. */
	do_reap(f->s, 502, 3 * SEC, 50, 50, 25 * SEC, 0, "old", "p50", ZM_VIA_WAIT4,
		ZM_F_PREEXISTING);
	assert_int_equal(f->rec.nreap, 2);
	assert_true(f->rec.reap[1].r.exit_unseen);
	assert_true(f->rec.reap[1].z.preexisting);
	assert_int_equal(f->rec.reap[1].r.zombie_ns, 0);
	assert_counters(f->s, 2, 2, 0, 2, 0, 0);
}

/* 7b. The same EXIT twice counts once, and times from the first. */
static void test_duplicate_exit(void **state)
{
	struct fix *f = *state;

	do_exit(f->s, 510, 4 * SEC, 51, SEC, 10 * SEC, "dup", "p51", 0);
	do_exit(f->s, 510, 4 * SEC, 51, SEC, 10 * SEC + 7, "dup", "p51", 0);

	assert_int_equal(f->rec.nzombie, 1);
	assert_counters(f->s, 1, 0, 0, 0, 1, 0);
	struct zs_parent_stat *v = parents(f->s, 1);

	assert_int_equal(v[0].zombies, 1);
	assert_int_equal(v[0].unreaped, 1);
	free(v);

	do_reap(f->s, 510, 4 * SEC, 51, 51, 11 * SEC, 10 * SEC, "dup", "p51", ZM_VIA_WAIT4, 0);
	assert_int_equal(f->rec.nreap, 1);
	assert_int_equal(f->rec.reap[0].r.zombie_ns, SEC);
	assert_counters(f->s, 1, 1, 0, 0, 1, 0);

	v = parents(f->s, 1);
	assert_int_equal(v[0].zombies, 1);
	assert_int_equal(v[0].unreaped, 0);
	free(v);
}

/* 7c. A REAP for the zombie's pid but another start time: the known zombie
 * is stale, and this one's EXIT was lost. */
static void test_reap_start_mismatch(void **state)
{
	struct fix *f = *state;

	do_exit(f->s, 600, 4 * SEC, 60, SEC, 10 * SEC, "old", "p60", 0);
	do_reap(f->s, 600, 9 * SEC, 61, 61, 30 * SEC, 29 * SEC, "new", "p61", ZM_VIA_WAIT4, 0);

	assert_int_equal(f->rec.nzombie, 1);
	assert_int_equal(f->rec.nreap, 1);
	const struct rec_reap *r = &f->rec.reap[0];

	assert_true(r->r.exit_unseen);
	assert_false(r->r.reparented);
	assert_int_equal(r->z.start_ns, 9 * SEC);
	assert_int_equal(r->z.ppid, 61);
	assert_string_equal(r->z.comm, "new");
	assert_int_equal(r->r.zombie_ns, SEC);
	assert_null(zs_zombie(f->s, 600));
	assert_counters(f->s, 2, 1, 0, 1, 0, 1);

	struct zs_parent_stat *v = parents(f->s, 2);

	assert_int_equal(v[0].pid, 60);
	assert_int_equal(v[0].zombies, 1);
	assert_int_equal(v[0].unreaped, 0);
	assert_int_equal(v[0].zombie_ns_max, 0);
	assert_int_equal(v[1].pid, 61);
	assert_int_equal(v[1].zombies, 1);
	assert_int_equal(v[1].unreaped, 0);
	assert_int_equal(v[1].zombie_ns_max, SEC);
	free(v);
}

/* 8. zs_forget: a zombie gone without a seen reap. */
static void test_forget(void **state)
{
	struct fix *f = *state;

	do_exit(f->s, 700, 4 * SEC, 70, SEC, 10 * SEC, "a", "p70", 0);
	do_exit(f->s, 701, 5 * SEC, 70, SEC, 11 * SEC, "b", "p70", 0);
	zs_forget(f->s, 700);
	zs_forget(f->s, 12345); /* not a zombie: no-op */

	assert_null(zs_zombie(f->s, 700));
	assert_non_null(zs_zombie(f->s, 701));
	assert_int_equal(count_zombies(f->s), 1);
	assert_int_equal(f->rec.nreap, 0);
	assert_counters(f->s, 2, 0, 0, 0, 0, 0);

	struct zs_parent_stat *v = parents(f->s, 1);

	assert_int_equal(v[0].zombies, 2);
	assert_int_equal(v[0].unreaped, 1);
	free(v);

	zs_forget(f->s, 701);
	assert_int_equal(count_zombies(f->s), 0);
	v = parents(f->s, 1);
	assert_int_equal(v[0].zombies, 2);
	assert_int_equal(v[0].unreaped, 0);
	assert_int_equal(v[0].zombie_ns_max, 0);
	free(v);
}

/* 9. Parents are (pid, start): a recycled parent pid is another parent, and
 * an exact start and its /proc tick are one parent. */
static void test_parent_identity(void **state)
{
	struct fix *f = *state;
	const uint64_t p1 = 100 * USER_HZ_NS + 1234, p2 = 101 * USER_HZ_NS + 1234;

	do_exit(f->s, 800, 200 * SEC, 80, p1, 300 * SEC, "k1", "gen1", 0);
	do_exit(f->s, 801, 201 * SEC, 80, p2, 301 * SEC, "k2", "gen2", 0);
	do_reap(f->s, 801, 201 * SEC, 80, 80, 302 * SEC, 301 * SEC, "k2", "gen2", ZM_VIA_WAIT4,
		0);

	struct zs_parent_stat *v = parents(f->s, 2);

	assert_int_equal(v[0].pid, 80);
	assert_string_equal(v[0].comm, "gen1");
	assert_int_equal(v[0].zombies, 1);
	assert_int_equal(v[0].unreaped, 1);
	assert_int_equal(v[1].pid, 80);
	assert_string_equal(v[1].comm, "gen2");
	assert_int_equal(v[1].zombies, 1);
	assert_int_equal(v[1].unreaped, 0);
	assert_int_equal(v[1].zombie_ns_max, SEC);
	free(v);

	/* Parent 81: exact start in EXIT events, the tick from /proc. */
	const uint64_t exact = 234 * USER_HZ_NS + 5678901, tick = 234 * USER_HZ_NS;

	do_exit(f->s, 810, 300 * SEC, 81, exact, 400 * SEC, "k", "same", 0);
	assert_int_equal(preexist(f->s, 811, 299 * SEC, 81, tick, "k0", "same", 401 * SEC),
			 0);
	do_reap(f->s, 810, 300 * SEC, 81, 81, 402 * SEC, 400 * SEC, "k", "same", ZM_VIA_WAIT4, 0);

	v = parents(f->s, 3);
	const struct zs_parent_stat *p = find_parent(v, 3, 81);

	assert_non_null(p);
	assert_int_equal(p->zombies, 2);
	assert_int_equal(p->unreaped, 1);
	assert_int_equal(p->zombie_ns_max, 2 * SEC);
	free(v);

	do_reap(f->s, 811, 299 * SEC, 81, 81, 403 * SEC, 0, "k0", "same", ZM_VIA_WAIT4,
		ZM_F_PREEXISTING);
	v = parents(f->s, 3);
	p = find_parent(v, 3, 81);
	assert_non_null(p);
	assert_int_equal(p->zombies, 2);
	assert_int_equal(p->unreaped, 0);
	free(v);
	assert_counters(f->s, 4, 3, 0, 0, 0, 0);
}

/* A parent that exec'd since its last zombie is shown with its new name. */
static void test_parent_comm_updates(void **state)
{
	struct fix *f = *state;

	do_exit(f->s, 820, 10 * SEC, 82, SEC, 20 * SEC, "k", "sh", 0);
	do_exit(f->s, 821, 11 * SEC, 82, SEC, 21 * SEC, "k", "daemon", 0);

	struct zs_parent_stat *v = parents(f->s, 1);

	assert_string_equal(v[0].comm, "daemon");
	assert_int_equal(v[0].zombies, 2);
	free(v);
}

/* 10. Parents that owe nothing are evicted past max_parents; parents with
 * unreaped zombies never are. */
static void test_parent_eviction(void **state)
{
	struct fix *f = *state;
	struct zstate *s = new_state(f, 16);
	const uint32_t many = 200;

	do_exit(s, 100000, 1 * SEC, 9000, SEC, 10 * SEC, "kept", "owes", 0);
	do_exit(s, 100001, 2 * SEC, 9001, SEC, 10 * SEC, "kept", "owes2", 0);
	/* A quiet parent with more zombies outlives those with fewer, though
	 * it has been quiet the longest. */
	make_zombies(s, 9500, 150000, 5, 5, 0);
	for (uint32_t i = 0; i < many; i++) {
		uint64_t t = 200 * SEC + i * MS;

		do_exit(s, 200000 + i, 5 * SEC, 10000 + i, SEC, t, "k", "quiet", 0);
		do_reap(s, 200000 + i, 5 * SEC, 10000 + i, 10000 + i, t + MS, t, "k", "quiet",
			ZM_VIA_WAIT4, 0);
	}

	const struct zs_counters *c = zs_counters(s);

	assert_true(c->parents_evicted > 0);
	assert_int_equal(c->zombies, many + 7);
	assert_int_equal(c->reaps, many + 5);
	assert_int_equal(c->nomem, 0);

	struct zs_parent_stat *v = NULL;
	long n = zs_parents(s, &v);

	assert_true(n > 3);
	assert_true(n <= 16);
	assert_int_equal((uint64_t)n + c->parents_evicted, many + 3);
	assert_int_equal(v[0].pid, 9000);
	assert_int_equal(v[0].unreaped, 1);
	assert_int_equal(v[1].pid, 9001);
	assert_int_equal(v[1].unreaped, 1);
	assert_int_equal(v[2].pid, 9500); /* 5 zombies: ranks before the rest */
	assert_int_equal(v[2].zombies, 5);
	/* Among equals the longest quiet go first: the survivors are exactly
	 * the n - 3 most recent. */
	for (long i = 3; i < n; i++) {
		assert_true(v[i].pid >= 10000 + many - (uint32_t)(n - 3));
		assert_true(v[i].pid < 10000 + many);
		assert_int_equal(v[i].zombies, 1);
		assert_int_equal(v[i].unreaped, 0);
	}
	free(v);

	/* Both still count as parents when their zombies are reaped. */
	do_reap(s, 100000, 1 * SEC, 9000, 9000, 30 * SEC, 10 * SEC, "kept", "owes", ZM_VIA_WAIT4,
		0);
	n = zs_parents(s, &v);
	const struct zs_parent_stat *p = find_parent(v, n, 9000);

	assert_non_null(p);
	assert_int_equal(p->zombies, 1);
	assert_int_equal(p->unreaped, 0);
	assert_int_equal(p->zombie_ns_max, 20 * SEC);
	free(v);
	zs_free(s);
}

/* When every parent owes zombies, none is evicted (the bound is exceeded). */
static void test_no_eviction_when_all_owe(void **state)
{
	struct fix *f = *state;
	struct zstate *s = new_state(f, 4);

	for (uint32_t i = 0; i < 10; i++)
		do_exit(s, 300000 + i, 5 * SEC, 11000 + i, SEC, 20 * SEC, "k", "leaky", 0);

	assert_int_equal(zs_counters(s)->parents_evicted, 0);
	assert_int_equal(zs_counters(s)->nomem, 0);
	struct zs_parent_stat *v = parents(s, 10);

	for (long i = 0; i < 10; i++) {
		assert_int_equal(v[i].pid, 11000 + i);
		assert_int_equal(v[i].unreaped, 1);
	}
	free(v);
	zs_free(s);
}

/* A sink without callbacks is allowed; zs_free(NULL) is a no-op. */
static void test_null_sink(void **state)
{
	(void)state;
	struct zs_sink sink = { 0 };
	struct zstate *s = zs_new(&sink, 0);

	assert_non_null(s);
	do_exit(s, 900, SEC, 90, SEC, 2 * SEC, "k", "p", 0);
	do_reap(s, 900, SEC, 90, 90, 3 * SEC, 2 * SEC, "k", "p", ZM_VIA_WAIT4, 0);
	do_reap(s, 901, SEC, 90, 90, 3 * SEC, 2 * SEC, "k", "p", ZM_VIA_WAIT4, 0);
	assert_counters(s, 2, 2, 0, 1, 0, 0);
	zs_free(s);
	zs_free(NULL);
}

/* More reaps than the recent-reap memory: every (pid, start) still works. */
static void test_many_cycles(void **state)
{
	struct fix *f = *state;

	for (uint32_t i = 0; i < 1000; i++) {
		uint64_t t = 100 * SEC + i * SEC;

		do_exit(f->s, 950, 10 * SEC + i * SEC, 95, SEC, t, "loop", "p95", 0);
		do_reap(f->s, 950, 10 * SEC + i * SEC, 95, 95, t + (i % 10 + 1) * MS, t, "loop",
			"p95", ZM_VIA_WAIT4, 0);
	}
	assert_counters(f->s, 1000, 1000, 0, 0, 0, 0);
	assert_int_equal(count_zombies(f->s), 0);

	struct zs_parent_stat *v = parents(f->s, 1);

	assert_int_equal(v[0].zombies, 1000);
	assert_int_equal(v[0].unreaped, 0);
	assert_int_equal(v[0].zombie_ns_max, 10 * MS);
	/* 1..10 ms, 100 each: p50 is 5 ms, p99 10 ms (within 3.2%). */
	assert_in_range(v[0].zombie_ns_p50, 5 * MS * 968 / 1000, 5 * MS * 1032 / 1000);
	assert_in_range(v[0].zombie_ns_p99, 10 * MS * 968 / 1000, 10 * MS);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_exit_then_reap_by_parent),
		T(test_reap_via_waitid_and_clock_skew),
		T(test_autoreap),
		T(test_fork_exec_ignored),
		T(test_leak_and_ranking),
		T(test_reparented_reap),
		T(test_preexisting_then_reap),
		T(test_preexisting_tick_match),
		T(test_pid_reuse),
		T(test_pid_reuse_lost_reap),
		T(test_reap_without_exit_then_late_exit),
		T(test_reap_without_exit_unknown_exit_time),
		T(test_duplicate_exit),
		T(test_reap_start_mismatch),
		T(test_forget),
		T(test_parent_identity),
		T(test_parent_comm_updates),
		T(test_parent_eviction),
		T(test_no_eviction_when_all_owe),
		T(test_null_sink),
		T(test_many_cycles),
#undef T
	};

	return cmocka_run_group_tests_name("zstate", tests, NULL, NULL);
}
