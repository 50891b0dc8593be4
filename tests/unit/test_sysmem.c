/* Unit tests for user/sysmem.c: /proc/meminfo parsing, the history ring and
 * the system verdict. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sysmem.h"

#define SEC 1000000000ULL
#define MIB 1024ULL /* in kB */

/* A real /proc/meminfo (Linux 6.x, 24 GiB VM, no swap). */
static const char meminfo_real[] =
	"MemTotal:       24683620 kB\n"
	"MemFree:        24160084 kB\n"
	"MemAvailable:   24295912 kB\n"
	"Buffers:            1172 kB\n"
	"Cached:           324164 kB\n"
	"SwapCached:            0 kB\n"
	"Active:           171404 kB\n"
	"Inactive:         150424 kB\n"
	"Active(anon):       1520 kB\n"
	"Inactive(anon):     3932 kB\n"
	"Active(file):     169884 kB\n"
	"Inactive(file):   146492 kB\n"
	"Unevictable:       11296 kB\n"
	"Mlocked:           10468 kB\n"
	"SwapTotal:             0 kB\n"
	"SwapFree:              0 kB\n"
	"Zswap:                 0 kB\n"
	"Zswapped:              0 kB\n"
	"Dirty:              2324 kB\n"
	"Writeback:             0 kB\n"
	"AnonPages:          7820 kB\n"
	"Mapped:            10928 kB\n"
	"Shmem:              8952 kB\n"
	"KReclaimable:      55264 kB\n"
	"Slab:              78404 kB\n"
	"SReclaimable:      55264 kB\n"
	"SUnreclaim:        23140 kB\n"
	"KernelStack:        1356 kB\n"
	"PageTables:         1652 kB\n"
	"SecPageTables:         0 kB\n"
	"NFS_Unstable:          0 kB\n"
	"Bounce:                0 kB\n"
	"WritebackTmp:          0 kB\n"
	"CommitLimit:    12341808 kB\n"
	"Committed_AS:      51756 kB\n"
	"VmallocTotal:   34359738367 kB\n"
	"VmallocUsed:       14124 kB\n"
	"VmallocChunk:          0 kB\n"
	"Percpu:              744 kB\n"
	"AnonHugePages:         0 kB\n"
	"ShmemHugePages:        0 kB\n"
	"ShmemPmdMapped:        0 kB\n"
	"FileHugePages:         0 kB\n"
	"FilePmdMapped:         0 kB\n"
	"Balloon:               0 kB\n"
	"HugePages_Total:       0\n"
	"HugePages_Free:        0\n"
	"HugePages_Rsvd:        0\n"
	"HugePages_Surp:        0\n"
	"Hugepagesize:       2048 kB\n"
	"Hugetlb:               0 kB\n"
	"DirectMap4k:       30720 kB\n"
	"DirectMap2M:    25135104 kB\n";

/* Trimmed, with swap in use and no SReclaimable line. */
static const char meminfo_swap[] =
	"MemTotal:        8052512 kB\n"
	"MemFree:          151748 kB\n"
	"Buffers:           20480 kB\n"
	"Cached:           412300 kB\n"
	"SwapCached:        90112 kB\n"
	"Active:          5900000 kB\n"
	"SwapTotal:       2097148 kB\n"
	"SwapFree:        1048572 kB\n"
	"Dirty:               412 kB\n";

static void test_parse_real(void **state)
{
	(void)state;
	struct sysmem s;

	memset(&s, 0xff, sizeof(s));
	assert_int_equal(sysmem_parse(meminfo_real, &s), 0);
	assert_int_equal(s.ts_ns, 0);
	assert_int_equal(s.total_kb, 24683620);
	assert_int_equal(s.free_kb, 24160084);
	assert_int_equal(s.used_kb, 24683620 - 24160084);
	assert_int_equal(s.buffers_kb, 1172);
	assert_int_equal(s.cached_kb, 324164 + 55264);
	assert_int_equal(s.app_kb, 24683620 - 24160084 - 1172 - 324164 - 55264);
	assert_int_equal(s.swap_total_kb, 0);
	assert_int_equal(s.swap_used_kb, 0);
}

static void test_parse_swap_no_sreclaimable(void **state)
{
	(void)state;
	struct sysmem s;

	assert_int_equal(sysmem_parse(meminfo_swap, &s), 0);
	assert_int_equal(s.used_kb, 8052512 - 151748);
	/* "SwapCached" is not "Cached". */
	assert_int_equal(s.cached_kb, 412300);
	assert_int_equal(s.app_kb, 8052512 - 151748 - 20480 - 412300);
	assert_int_equal(s.swap_total_kb, 2097148);
	assert_int_equal(s.swap_used_kb, 2097148 - 1048572);
}

static void test_parse_minimal_and_variants(void **state)
{
	(void)state;
	struct sysmem s;

	/* Only the two required fields, no unit, no final newline, CRLF. */
	assert_int_equal(sysmem_parse("MemTotal: 1000\nMemFree: 400", &s), 0);
	assert_int_equal(s.used_kb, 600);
	assert_int_equal(s.app_kb, 600);
	assert_int_equal(s.cached_kb + s.buffers_kb + s.swap_total_kb + s.swap_used_kb, 0);
	assert_int_equal(sysmem_parse("MemFree:\t400 kB\r\nMemTotal:\t1000 kB\r\n", &s), 0);
	assert_int_equal(s.used_kb, 600);
	/* Unknown and odd lines are skipped. */
	assert_int_equal(sysmem_parse("hello\n\n:::\nFoo: bar baz\nMemTotal: 1000 kB\n"
				      "NoColonHere 12\nMemFree: 10 kB\nCachedX: zz\n", &s), 0);
	assert_int_equal(s.free_kb, 10);
}

static void test_parse_missing_fields(void **state)
{
	(void)state;
	struct sysmem s;

	assert_int_equal(sysmem_parse("", &s), -EINVAL);
	assert_int_equal(sysmem_parse("MemTotal: 1000 kB\n", &s), -EINVAL);
	assert_int_equal(sysmem_parse("MemFree: 1000 kB\nCached: 5 kB\n", &s), -EINVAL);
	/* A prefix or a longer key is not the key. */
	assert_int_equal(sysmem_parse("MemTota: 1000 kB\nMemFree: 10 kB\n", &s), -EINVAL);
	assert_int_equal(sysmem_parse("MemTotalX: 1000 kB\nMemFree: 10 kB\n", &s), -EINVAL);
	assert_int_equal(sysmem_parse(" MemTotal: 1000 kB\nMemFree: 10 kB\n", &s), -EINVAL);
}

static void test_parse_garbage(void **state)
{
	(void)state;
	struct sysmem s;
	char buf[4096];

	assert_int_equal(sysmem_parse("\x01\x02\xff\xfe garbage\n", &s), -EINVAL);
	/* A field we use that is not a number of kB. */
	assert_int_equal(sysmem_parse("MemTotal: lots kB\nMemFree: 10 kB\n", &s), -EINVAL);
	assert_int_equal(sysmem_parse("MemTotal: 1000 kB\nMemFree: -10 kB\n", &s), -EINVAL);
	assert_int_equal(sysmem_parse("MemTotal: 1000 MB\nMemFree: 10 kB\n", &s), -EINVAL);
	assert_int_equal(sysmem_parse("MemTotal: 1000 kB\nMemFree: 10 kB\nCached: 1e6 kB\n", &s),
			 -EINVAL);
	assert_int_equal(sysmem_parse("MemTotal: 1000 kB\nMemFree: 10 kB\nSwapFree:\n", &s),
			 -EINVAL);
	/* Fields we do not use may hold anything. */
	assert_int_equal(sysmem_parse("MemTotal: 1000 kB\nMemFree: 10 kB\nDirty: ???\n", &s), 0);
	/* Pseudo-random bytes never crash it. */
	uint64_t x = 88172645463325252ULL;

	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(round % (int)(sizeof(buf) - 1));

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[i] = "MemTotalFreeCachedSwap: 0123456789kB\n\t\r"[x % 40];
		}
		buf[n] = '\0';
		int r = sysmem_parse(buf, &s);

		assert_true(r == 0 || r == -EINVAL);
		if (r == 0)
			assert_true(s.used_kb <= s.total_kb && s.app_kb <= s.used_kb);
	}
}

static void test_parse_huge_numbers(void **state)
{
	(void)state;
	struct sysmem s;

	assert_int_equal(sysmem_parse("MemTotal: 18446744073709551615 kB\n"
				      "MemFree: 0 kB\n"
				      "Buffers: 18446744073709551615 kB\n"
				      "Cached: 18446744073709551615 kB\n"
				      "SReclaimable: 18446744073709551615 kB\n"
				      "SwapTotal: 18446744073709551615 kB\n"
				      "SwapFree: 1 kB\n", &s), 0);
	assert_true(s.total_kb == UINT64_MAX && s.used_kb == UINT64_MAX);
	assert_true(s.cached_kb == UINT64_MAX); /* saturated, not wrapped */
	assert_int_equal(s.app_kb, 0);
	assert_true(s.swap_used_kb == UINT64_MAX - 1);
	/* One more does not fit. */
	assert_int_equal(sysmem_parse("MemTotal: 18446744073709551616 kB\nMemFree: 0 kB\n", &s),
			 -EINVAL);
	assert_int_equal(sysmem_parse("MemTotal: 99999999999999999999999 kB\nMemFree: 0 kB\n",
				      &s), -EINVAL);
	/* Inconsistent figures clamp at 0 instead of wrapping. */
	assert_int_equal(sysmem_parse("MemTotal: 100 kB\nMemFree: 200 kB\n"
				      "SwapTotal: 5 kB\nSwapFree: 9 kB\n", &s), 0);
	assert_int_equal(s.used_kb, 0);
	assert_int_equal(s.app_kb, 0);
	assert_int_equal(s.swap_used_kb, 0);
}

static void test_read_proc(void **state)
{
	(void)state;
	struct sysmem s;

	assert_int_equal(sysmem_read(&s, 42), 0);
	assert_int_equal(s.ts_ns, 42);
	assert_true(s.total_kb > 0);
	assert_true(s.used_kb <= s.total_kb);
	assert_true(s.app_kb <= s.used_kb);
	assert_true(s.swap_used_kb <= s.swap_total_kb);
}

/* ---- history and verdict ---- */

static int setup(void **state)
{
	struct sysmem_hist *h = malloc(sizeof(*h));

	if (!h)
		return -1;
	sysmem_hist_init(h);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* A sample: 16 GiB, used and app in MiB, swap used in kB. */
static struct sysmem sample(uint64_t ts_ns, uint64_t used_mib, uint64_t app_mib,
			    uint64_t swap_kb)
{
	struct sysmem s = {
		.ts_ns = ts_ns,
		.total_kb = 16384 * MIB,
		.used_kb = used_mib * MIB,
		.app_kb = app_mib * MIB,
		.buffers_kb = 100 * MIB,
		.swap_total_kb = 4096 * MIB,
		.swap_used_kb = swap_kb,
	};
	s.free_kb = s.total_kb - s.used_kb;
	s.cached_kb = s.used_kb - s.app_kb - s.buffers_kb;
	return s;
}

static void test_hist_ring(void **state)
{
	struct sysmem_hist *h = *state;

	assert_null(sysmem_hist_last(h));
	assert_null(sysmem_hist_at(h, 0));
	for (unsigned i = 0; i < SYSMEM_HIST + 250; i++) {
		struct sysmem s = sample(i * SEC, 1000 + i, 500, 0);

		sysmem_hist_add(h, &s);
		assert_true(h->n <= SYSMEM_HIST);
	}
	assert_int_equal(h->n, SYSMEM_HIST);
	assert_int_equal(sysmem_hist_at(h, 0)->ts_ns, 250 * SEC);
	assert_int_equal(sysmem_hist_at(h, SYSMEM_HIST - 1)->ts_ns, (SYSMEM_HIST + 249) * SEC);
	assert_ptr_equal(sysmem_hist_last(h), sysmem_hist_at(h, SYSMEM_HIST - 1));
	assert_null(sysmem_hist_at(h, SYSMEM_HIST));
	for (unsigned i = 1; i < h->n; i++)
		assert_true(sysmem_hist_at(h, i)->ts_ns > sysmem_hist_at(h, i - 1)->ts_ns);
	/* A sample from the past is taken as now. */
	struct sysmem old = sample(3 * SEC, 1, 1, 0);

	sysmem_hist_add(h, &old);
	assert_int_equal(sysmem_hist_last(h)->ts_ns, (SYSMEM_HIST + 249) * SEC);
	assert_int_equal(sysmem_hist_last(h)->used_kb, 1 * MIB);
}

static void fill(struct sysmem_hist *h, unsigned n, uint64_t used_mib, uint64_t app_mib,
		 uint64_t (*swap)(unsigned i))
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t sw = swap ? swap(i) : 0;
		struct sysmem s = sample(1000 * SEC + i * SEC, used_mib, app_mib, sw);

		sysmem_hist_add(h, &s);
	}
}

static void test_verdict_empty(void **state)
{
	struct sysmem_hist *h = *state;
	struct sys_verdict v;

	sysmem_verdict(h, &v);
	assert_string_equal(v.verdict, "no data");
	assert_false(v.app_high);
	assert_false(v.swap_rising);
}

static void test_verdict_ok_no_swap(void **state)
{
	struct sysmem_hist *h = *state;
	struct sys_verdict v;

	fill(h, 300, 8000, 4000, NULL);
	sysmem_verdict(h, &v);
	assert_string_equal(v.verdict, "ok");
	assert_true(v.app_pct_of_used == 50.0);
	assert_false(v.app_high);
	assert_false(v.swap_rising);
	assert_true(v.swap_slope_kb_s == 0);
}

static void test_verdict_app_high(void **state)
{
	struct sysmem_hist *h = *state;
	struct sys_verdict v;

	fill(h, 10, 10000, 8200, NULL);
	sysmem_verdict(h, &v);
	assert_true(v.app_high);
	assert_true(v.app_pct_of_used > 81.9 && v.app_pct_of_used < 82.1);
	assert_string_equal(v.verdict, "apps use 82% of used memory (little cache left)");

	/* 75% exactly is high, just under is not; the newest sample decides. */
	fill(h, 1, 10000, 7500, NULL);
	sysmem_verdict(h, &v);
	assert_true(v.app_high);
	fill(h, 1, 10000, 7499, NULL);
	sysmem_verdict(h, &v);
	assert_false(v.app_high);
	assert_string_equal(v.verdict, "ok");
	/* Nothing used at all. */
	fill(h, 1, 0, 0, NULL);
	sysmem_verdict(h, &v);
	assert_false(v.app_high);
	assert_true(v.app_pct_of_used == 0);
}

static uint64_t swap_steady(unsigned i)
{
	return 200 * MIB + (uint64_t)i * 3174; /* +3.1 MiB/s */
}

static uint64_t swap_slow_noisy(unsigned i)
{
	/* +50 kB/s over five minutes, with 400 kB of back-and-forth. */
	return 50 * MIB + (uint64_t)i * 50 + (i % 3) * 400;
}

static uint64_t swap_jump_once(unsigned i)
{
	return (i < 60 ? 10 * MIB : 900 * MIB) + (i % 2) * 100;
}

static uint64_t swap_jump_late(unsigned i)
{
	return (i < 250 ? 10 * MIB : 900 * MIB) + (i % 2) * 100;
}

static uint64_t swap_up_down(unsigned i)
{
	unsigned c = i % 120; /* up for a minute, down for a minute */

	return 100 * MIB + (c < 60 ? c : 120 - c) * 5 * MIB;
}

static uint64_t swap_ramp_stops(unsigned i)
{
	return 10 * MIB + (i < 100 ? i : 100) * 2 * MIB;
}

static void test_verdict_swap_rising(void **state)
{
	struct sysmem_hist *h = *state;
	struct sys_verdict v;

	fill(h, 120, 8000, 4000, swap_steady);
	sysmem_verdict(h, &v);
	assert_true(v.swap_rising);
	assert_true(v.swap_slope_kb_s > 3100 && v.swap_slope_kb_s < 3250);
	assert_true(v.swap_r2 > 0.99);
	assert_string_equal(v.verdict, "swap use keeps rising (+3.1 MiB/s)");

	sysmem_hist_init(h);
	fill(h, 300, 8000, 4000, swap_slow_noisy);
	sysmem_verdict(h, &v);
	assert_true(v.swap_rising);
	assert_string_equal(v.verdict, "swap use keeps rising (+50 kB/s)");

	/* Too short a history to say. */
	sysmem_hist_init(h);
	fill(h, 8, 8000, 4000, swap_steady);
	sysmem_verdict(h, &v);
	assert_false(v.swap_rising);
	assert_string_equal(v.verdict, "ok");
}

static void test_verdict_swap_not_rising(void **state)
{
	struct sysmem_hist *h = *state;
	struct sys_verdict v;
	uint64_t (*const shapes[])(unsigned) = {
		swap_jump_once, swap_jump_late, swap_up_down, swap_ramp_stops,
	};

	for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
		sysmem_hist_init(h);
		fill(h, 300, 8000, 4000, shapes[k]);
		sysmem_verdict(h, &v);
		if (v.swap_rising)
			fail_msg("shape %zu: %s", k, v.verdict);
		assert_string_equal(v.verdict, "ok");
	}
	/* Swap up and down over a history longer than the ring. */
	sysmem_hist_init(h);
	fill(h, 3 * SYSMEM_HIST + 17, 8000, 4000, swap_up_down);
	sysmem_verdict(h, &v);
	assert_false(v.swap_rising);
}

static void test_verdict_both(void **state)
{
	struct sysmem_hist *h = *state;
	struct sys_verdict v;

	fill(h, 60, 10000, 9000, swap_steady);
	sysmem_verdict(h, &v);
	assert_true(v.app_high && v.swap_rising);
	assert_string_equal(v.verdict, "apps use 90% of used memory (little cache left); "
				       "swap use keeps rising (+3.1 MiB/s)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_real),
		cmocka_unit_test(test_parse_swap_no_sreclaimable),
		cmocka_unit_test(test_parse_minimal_and_variants),
		cmocka_unit_test(test_parse_missing_fields),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_parse_huge_numbers),
		cmocka_unit_test(test_read_proc),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_hist_ring),
		T(test_verdict_empty),
		T(test_verdict_ok_no_swap),
		T(test_verdict_app_high),
		T(test_verdict_swap_rising),
		T(test_verdict_swap_not_rising),
		T(test_verdict_both),
#undef T
	};

	return cmocka_run_group_tests_name("sysmem", tests, NULL, NULL);
}
