/* Unit tests of user/memstate.c: processes' memory from synthetic events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memstate.h"
#include "util.h"

#define SEC 1000000000ULL

static struct zm_mem_event ev(uint32_t pid, const char *comm, uint64_t ts, uint64_t anon_kb,
			      uint64_t file_kb, uint64_t vsize_kb, uint32_t flags)
{
	struct zm_mem_event e = {
		.ts_ns = ts, .type = ZM_EV_RSS, .pid = pid, .anon_kb = anon_kb,
		.file_kb = file_kb, .vsize_kb = vsize_kb, .flags = flags,
	};
	copy_comm(e.comm, comm);
	return e;
}

static int count_cb(void *ctx, const struct mp_proc *p)
{
	(void)p;
	(*(int *)ctx)++;
	return 0;
}

/* Figures are the last event's; the maximum and RSS = anon + file + shmem. */
static void test_last_and_max(void **state)
{
	(void)state;
	struct memstate *m = mst_new(0);
	const struct mp_proc *p;

	assert_non_null(m);
	struct zm_mem_event e = ev(10, "app", SEC, 1000, 200, 5000, ZM_M_FIRST);

	e.shmem_kb = 50;
	e.swap_kb = 7;
	assert_int_equal(mst_event(m, &e, &p), 0);
	assert_int_equal(p->rss_kb, 1250);
	assert_int_equal(p->swap_kb, 7);
	e = ev(10, "app", 2 * SEC, 3000, 200, 9000, 0);
	assert_int_equal(mst_event(m, &e, &p), 0);
	e = ev(10, "app", 3 * SEC, 500, 200, 9000, 0);
	assert_int_equal(mst_event(m, &e, &p), 0);
	assert_int_equal(p->rss_kb, 700);
	assert_int_equal(p->rss_max_kb, 3200);
	assert_int_equal(p->vsize_max_kb, 9000);
	assert_string_equal(p->comm, "app");
	assert_int_equal(mst_counters(m)->events, 3);
	mst_free(m);
}

/* The kernel's peaks at exit count in the maximum; the process is retired,
 * and a later event for its pid is a new process. */
static void test_exit_then_pid_reuse(void **state)
{
	(void)state;
	struct memstate *m = mst_new(0);
	const struct mp_proc *p;
	struct zm_mem_event e = ev(20, "old", SEC, 100, 0, 1000, 0);

	assert_int_equal(mst_event(m, &e, NULL), 0);
	e = ev(20, "old", 2 * SEC, 50, 0, 800, ZM_M_EXIT);
	e.peak_rss_kb = 4096;
	e.peak_vm_kb = 8192;
	assert_int_equal(mst_event(m, &e, &p), 0);
	assert_true(p->exited);
	assert_int_equal(p->rss_max_kb, 4096);
	assert_int_equal(p->vsize_max_kb, 8192);
	assert_null(mst_get(m, 20));

	e = ev(20, "new", 3 * SEC, 10, 0, 100, ZM_M_EXEC);
	assert_int_equal(mst_event(m, &e, &p), 0);
	assert_false(p->exited);
	assert_string_equal(p->comm, "new");
	assert_int_equal(p->rss_max_kb, 10);
	assert_int_equal(mst_count(m), 2);
	mst_free(m);
}

/* Exec renames the process; an ordinary change does not. */
static void test_exec_renames(void **state)
{
	(void)state;
	struct memstate *m = mst_new(0);
	const struct mp_proc *p;
	struct zm_mem_event e = ev(30, "sh", SEC, 100, 0, 1000, ZM_M_FIRST);

	assert_int_equal(mst_event(m, &e, NULL), 0);
	e = ev(30, "python3", 2 * SEC, 100, 0, 1000, ZM_M_EXEC);
	assert_int_equal(mst_event(m, &e, &p), 0);
	assert_string_equal(p->comm, "python3");
	e = ev(30, "thread-name", 3 * SEC, 200, 0, 1000, 0);
	assert_int_equal(mst_event(m, &e, &p), 0);
	assert_string_equal(p->comm, "python3");
	mst_free(m);
}

/* An OOM kill marks the process. */
static void test_oom(void **state)
{
	(void)state;
	struct memstate *m = mst_new(0);
	const struct mp_proc *p;
	struct zm_mem_event e = ev(40, "hog", SEC, 60000, 0, 70000, 0);

	e.type = ZM_EV_OOM;
	e.peak_rss_kb = 65536;
	assert_int_equal(mst_event(m, &e, &p), 0);
	assert_true(p->oom_killed);
	assert_int_equal(p->rss_max_kb, 65536);
	mst_free(m);
}

/* Exited processes are kept up to the bound, the oldest exit going first. */
static void test_exited_bound(void **state)
{
	(void)state;
	struct memstate *m = mst_new(4);

	for (uint32_t pid = 100; pid < 110; pid++) {
		struct zm_mem_event e = ev(pid, "short", pid * SEC, 10, 0, 100, ZM_M_EXIT);

		assert_int_equal(mst_event(m, &e, NULL), 0);
	}
	assert_int_equal(mst_count(m), 4);
	assert_int_equal(mst_counters(m)->exited_evicted, 6);
	int n = 0;

	mst_each(m, count_cb, &n);
	assert_int_equal(n, 4);
	mst_free(m);
}

/* A process seen in /proc at start is there with its figures. */
static void test_seed(void **state)
{
	(void)state;
	struct memstate *m = mst_new(0);
	struct zm_mem_event f = ev(0, "", 0, 300, 100, 2000, 0);

	assert_int_equal(mst_seed(m, 50, "daemon", 5 * SEC, &f), 0);
	const struct mp_proc *p = mst_get(m, 50);

	assert_non_null(p);
	assert_int_equal(p->rss_kb, 400);
	assert_int_equal(p->vsize_kb, 2000);
	assert_string_equal(p->comm, "daemon");
	assert_int_equal(p->first_ns, 5 * SEC);
	mst_free(m);
	mst_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_last_and_max),	   cmocka_unit_test(test_exit_then_pid_reuse),
		cmocka_unit_test(test_exec_renames),	   cmocka_unit_test(test_oom),
		cmocka_unit_test(test_exited_bound),	   cmocka_unit_test(test_seed),
	};

	return cmocka_run_group_tests_name("memstate", tests, NULL, NULL);
}
