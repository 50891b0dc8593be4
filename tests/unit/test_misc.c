/* Unit tests for user/hashmap.c, user/util.c and percpu_split(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hashmap.h"
#include "percpu.h"
#include "util.h"

#define V(x) ((void *)(uintptr_t)(x))

/* ---- hashmap ---- */

static void test_hm_basic(void **state)
{
	(void)state;
	struct hashmap m;
	int a = 1, b = 2, c = 3;

	assert_int_equal(hm_init(&m), 0);
	assert_int_equal(m.count, 0);
	assert_null(hm_get(&m, 42));
	assert_null(hm_del(&m, 42));

	assert_int_equal(hm_put(&m, 42, &a), 0);
	assert_int_equal(hm_put(&m, 0, &b), 0);
	assert_int_equal(hm_put(&m, UINT64_MAX, &c), 0);
	assert_int_equal(m.count, 3);
	assert_ptr_equal(hm_get(&m, 42), &a);
	assert_ptr_equal(hm_get(&m, 0), &b);
	assert_ptr_equal(hm_get(&m, UINT64_MAX), &c);
	assert_null(hm_get(&m, 43));

	assert_ptr_equal(hm_del(&m, 42), &a);
	assert_int_equal(m.count, 2);
	assert_null(hm_get(&m, 42));
	assert_null(hm_del(&m, 42));
	assert_int_equal(m.count, 2);
	assert_ptr_equal(hm_get(&m, 0), &b);

	hm_destroy(&m);
	assert_null(m.buckets);
	assert_int_equal(m.count, 0);
	hm_destroy(&m); /* twice is fine */
}

static void test_hm_replace(void **state)
{
	(void)state;
	struct hashmap m;
	int a = 1, b = 2;

	assert_int_equal(hm_init(&m), 0);
	assert_int_equal(hm_put(&m, 7, &a), 0);
	assert_int_equal(hm_put(&m, 7, &b), 0);
	assert_int_equal(m.count, 1);
	assert_ptr_equal(hm_get(&m, 7), &b);
	assert_ptr_equal(hm_del(&m, 7), &b);
	assert_int_equal(m.count, 0);
	assert_null(hm_get(&m, 7));
	/* A NULL value is stored (though hm_get cannot tell it from absent). */
	assert_int_equal(hm_put(&m, 8, NULL), 0);
	assert_int_equal(m.count, 1);
	hm_destroy(&m);
}

/* Keys shaped like the collector's: pids, and (tick << 32 ^ pid). */
static uint64_t key_of(size_t i)
{
	return i % 2 ? (uint64_t)(i / 2) : ((uint64_t)(i / 2 + 1) << 32 ^ (i % 97));
}

static void test_hm_growth_100k(void **state)
{
	(void)state;
	const size_t n = 100000;
	struct hashmap m;

	assert_int_equal(hm_init(&m), 0);
	size_t nb0 = m.nbuckets;

	for (size_t i = 0; i < n; i++)
		assert_int_equal(hm_put(&m, key_of(i), V(i + 1)), 0);
	assert_int_equal(m.count, n);
	assert_true(m.nbuckets > nb0);
	assert_true(m.nbuckets >= n / 2);
	assert_int_equal(m.nbuckets & (m.nbuckets - 1), 0); /* a power of two */
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(hm_get(&m, key_of(i)), V(i + 1));
	assert_null(hm_get(&m, (uint64_t)n << 40));

	/* Delete every third; the rest stay. */
	for (size_t i = 0; i < n; i += 3)
		assert_ptr_equal(hm_del(&m, key_of(i)), V(i + 1));
	assert_int_equal(m.count, n - (n + 2) / 3);
	for (size_t i = 0; i < n; i++) {
		if (i % 3 == 0)
			assert_null(hm_get(&m, key_of(i)));
		else
			assert_ptr_equal(hm_get(&m, key_of(i)), V(i + 1));
	}
	/* And back. */
	for (size_t i = 0; i < n; i += 3)
		assert_int_equal(hm_put(&m, key_of(i), V(i + 1)), 0);
	assert_int_equal(m.count, n);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(hm_get(&m, key_of(i)), V(i + 1));
	hm_destroy(&m);
}

static void test_hm_iterate(void **state)
{
	(void)state;
	const size_t n = 100000;
	struct hashmap m;
	size_t b, visited = 0;
	unsigned char *seen = calloc(n, 1);

	assert_non_null(seen);
	assert_int_equal(hm_init(&m), 0);
	assert_null(hm_first(&m, &b));

	assert_int_equal(hm_put(&m, 5, V(1)), 0);
	struct hm_entry *e = hm_first(&m, &b);

	assert_non_null(e);
	assert_int_equal(e->key, 5);
	assert_null(hm_next(&m, e, &b));
	assert_ptr_equal(hm_del(&m, 5), V(1));
	assert_null(hm_first(&m, &b));

	for (size_t i = 0; i < n; i++)
		assert_int_equal(hm_put(&m, key_of(i), V(i + 1)), 0);
	for (e = hm_first(&m, &b); e; e = hm_next(&m, e, &b)) {
		size_t i = (size_t)(uintptr_t)e->val - 1;

		assert_true(i < n);
		assert_int_equal(e->key, key_of(i));
		assert_int_equal(seen[i], 0);
		seen[i] = 1;
		visited++;
	}
	assert_int_equal(visited, n);
	assert_int_equal(visited, m.count);
	hm_destroy(&m);
	free(seen);
}

/* ---- util ---- */

static const char *dur(uint64_t ns)
{
	static char buf[64];

	memset(buf, 'X', sizeof(buf));
	fmt_duration(buf, sizeof(buf), ns);
	return buf;
}

#define US 1000ULL
#define MS 1000000ULL
#define S 1000000000ULL

static void test_fmt_duration(void **state)
{
	(void)state;
	static const struct {
		uint64_t ns;
		const char *want;
	} t[] = {
		{ 0, "0ns" },
		{ 1, "1ns" },
		{ 999, "999ns" },
		{ 1 * US, "1.0us" },
		{ 1 * US + 99, "1.0us" },
		{ 9900, "9.9us" },
		{ 9999, "9.9us" }, /* truncated, never "10.0us" */
		{ 10 * US, "10us" },
		{ 850 * US, "850us" },
		{ 999999, "999us" },
		{ 1 * MS, "1.0ms" },
		{ 12300 * US, "12.3ms" },
		{ 99999999, "99.9ms" }, /* never "100.0ms" */
		{ 100 * MS, "100ms" },
		{ 999999999, "999ms" },
		{ 1 * S, "1.0s" },
		{ 4100 * MS, "4.1s" },
		{ 59999999999ULL, "59.9s" }, /* never "60.0s" */
		{ 60 * S, "1m00s" },
		{ 61 * S, "1m01s" },
		{ 125 * S, "2m05s" },
		{ 3599 * S + 999 * MS, "59m59s" },
		{ 3600 * S, "1h00m" },
		{ (3 * 3600 + 12 * 60) * S, "3h12m" },
		{ (3 * 3600 + 12 * 60 + 59) * S, "3h12m" },
		{ 100 * 3600 * S, "100h00m" },
		{ (999 * 3600 + 59 * 60 + 59) * S, "999h59m" },
		{ 1000 * 3600 * S, "41d16h" },
		{ (999 * 86400 + 23 * 3600) * S, "999d23h" },
		{ 1000 * 86400 * S, "1000d" },
		{ UINT64_MAX, "213503d" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(dur(t[i].ns), t[i].want);
}

/* At most 7 characters for any duration, at every unit boundary +-1 ns. */
static void test_fmt_duration_width(void **state)
{
	(void)state;
	uint64_t x = 1;

	for (int i = 0; i < 20; i++, x *= 10) {
		for (uint64_t m = 1; m <= 99; m++) {
			for (int d = -1; d <= 1; d++) {
				uint64_t ns = x * m + (uint64_t)(int64_t)d;

				if (strlen(dur(ns)) > 7)
					fail_msg("fmt_duration(%llu) = \"%s\": over 7 chars",
						 (unsigned long long)ns, dur(ns));
			}
		}
	}
	static const uint64_t edge[] = { 60 * S, 3600 * S, 86400 * S, 1000 * 3600 * S,
					 1000 * 86400 * S, UINT64_MAX };

	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		assert_true(strlen(dur(edge[i] - 1)) <= 7);
		assert_true(strlen(dur(edge[i])) <= 7);
	}
	for (int i = 0; i < 100000; i++) {
		uint64_t ns = ((uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^ (uint64_t)rand()) >>
			      (rand() % 64);

		assert_true(strlen(dur(ns)) <= 7);
	}
}

static void test_fmt_duration_small_buffer(void **state)
{
	(void)state;
	char buf[4] = "zzz";

	fmt_duration(buf, sizeof(buf), 12300 * US); /* "12.3ms" */
	assert_string_equal(buf, "12.");
	fmt_duration(buf, 1, 5);
	assert_string_equal(buf, "");
}

static void test_parse_seconds(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		double want;
	} ok[] = {
		{ "10", 10.0 }, { "1.5", 1.5 }, { "0.25", 0.25 }, { "1e3", 1000.0 },
		{ "1000000000", 1e9 },
	};
	static const char *bad[] = {
		"", " ", "abc", "10s", "1.5.2", "10 ", "-1", "-0.5", "0", "0.0", "-0",
		"nan", "inf", "-inf", "1e10", "1000000001", "--1", "1,5",
	};
	double v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -1;
		if (parse_seconds(ok[i].s, &v))
			fail_msg("parse_seconds(\"%s\") failed", ok[i].s);
		assert_true(v == ok[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		if (!parse_seconds(bad[i], &v))
			fail_msg("parse_seconds(\"%s\") accepted: %g", bad[i], v);
		assert_true(v == 42); /* untouched */
	}
}

static void test_parse_pid(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint32_t want;
	} ok[] = {
		{ "1", 1 }, { "42", 42 }, { "007", 7 }, { "4194304", 4194304 },
		{ "1073741823", 1073741823 },
	};
	static const char *bad[] = {
		"", " ", "abc", "12a", "1.5", "0x10", "0", "00", "-0", "-1", "-42", "+5", " 5",
		"5 ", "1073741824", "4294967296", "99999999999999999999",
		"-18446744073709551615", " -18446744073709551615", "\t-18446744073709551615",
	};
	uint32_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 0;
		if (parse_pid(ok[i].s, &v))
			fail_msg("parse_pid(\"%s\") failed", ok[i].s);
		assert_int_equal(v, ok[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 4242;
		if (!parse_pid(bad[i], &v))
			fail_msg("parse_pid(\"%s\") accepted: %u", bad[i], v);
		assert_int_equal(v, 4242); /* untouched */
	}
}

static void test_copy_comm(void **state)
{
	(void)state;
	char dst[16];
	const char src16[16] = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h',
				 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p' }; /* no NUL */

	memset(dst, 'X', sizeof(dst));
	copy_comm(dst, "sh");
	assert_string_equal(dst, "sh");
	for (size_t i = 2; i < sizeof(dst); i++)
		assert_int_equal(dst[i], 0);

	copy_comm(dst, "abcdefghijklmnopqrstuvwxyz");
	assert_string_equal(dst, "abcdefghijklmno");

	copy_comm(dst, src16);
	assert_string_equal(dst, "abcdefghijklmno");

	copy_comm(dst, "");
	assert_string_equal(dst, "");
}

static void test_clocks(void **state)
{
	(void)state;
	uint64_t a = now_boot_ns(), b = now_boot_ns();
	struct timespec ts;

	assert_true(a > 0);
	assert_true(b >= a);

	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t real = (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	uint64_t conv = boot_to_real_ns(now_boot_ns());

	assert_true(conv >= real - NSEC_PER_SEC && conv <= real + NSEC_PER_SEC);

	char buf[32];

	fmt_clock(buf, sizeof(buf), now_boot_ns());
	assert_int_equal(strlen(buf), 12); /* HH:MM:SS.mmm */
	assert_int_equal(buf[2], ':');
	assert_int_equal(buf[5], ':');
	assert_int_equal(buf[8], '.');
}

/* ---- percpu_split ---- */

/* The layout is linear: one piece (base, step). */
static bool percpu_linear(const uint64_t *offs, int n, uint64_t *base, uint64_t *step)
{
	struct percpu_pieces p;

	if (percpu_split(offs, n, 1, &p) != 1)
		return false;
	*base = p.base[0];
	*step = p.step;
	return true;
}

static void test_percpu_linear(void **state)
{
	(void)state;
	uint64_t base = 0, step = 0;
	/* One group of 1 MiB units (as on this project's VMs). */
	const uint64_t one[] = { 0xffff8886a4109000, 0xffff8886a4209000, 0xffff8886a4309000,
				 0xffff8886a4409000 };

	assert_true(percpu_linear(one, 4, &base, &step));
	assert_int_equal(base, 0xffff8886a4109000);
	assert_int_equal(step, 0x100000);
	assert_true(percpu_linear(one, 1, &base, &step));
	assert_int_equal(step, 0);
	assert_false(percpu_linear(one, 0, &base, &step));
	/* Two NUMA groups: CPUs 2 and 3 live elsewhere. */
	const uint64_t two[] = { 0xffff888100000000, 0xffff888100100000, 0xffff889100000000,
				 0xffff889100100000 };

	assert_true(percpu_linear(two, 2, &base, &step));
	assert_false(percpu_linear(two, 4, &base, &step));
	/* Interleaved numbering: even CPUs first. */
	const uint64_t inter[] = { 0x1000000, 0x1200000, 0x1100000, 0x1300000 };

	assert_false(percpu_linear(inter, 4, &base, &step));
	/* Holes in the CPU ids (offset 0) do not count. */
	const uint64_t holes[] = { 0, 0x2100000, 0, 0x2300000, 0x2400000 };

	assert_true(percpu_linear(holes, 5, &base, &step));
	assert_int_equal(base, 0x2000000);
	assert_int_equal(step, 0x100000);
	const uint64_t gap[] = { 0x1000000, 0, 0x1300000 };

	assert_true(percpu_linear(gap, 3, &base, &step)); /* CPU 1 absent: steps of 0x180000 */
	assert_int_equal(step, 0x180000);
	const uint64_t none[] = { 0, 0 };

	assert_false(percpu_linear(none, 2, &base, &step));
}

static void test_percpu_split(void **state)
{
	(void)state;
	struct percpu_pieces p;
	/* One group: one piece, the linear layout. */
	const uint64_t one[] = { 0x1000000, 0x1100000, 0x1200000, 0x1300000 };

	assert_int_equal(percpu_split(one, 4, 4, &p), 1);
	assert_int_equal(p.step, 0x100000);
	assert_int_equal(p.start[0], 0);
	assert_int_equal(p.base[0], 0x1000000);
	/* Two nodes, then their hyperthreads (0-1 node 0, 2-3 node 1, 4-5
	 * node 0, 6-7 node 1): four pieces. */
	const uint64_t ht[] = { 0xa000000, 0xa100000, 0xb000000, 0xb100000,
				0xa200000, 0xa300000, 0xb200000, 0xb300000 };

	assert_int_equal(percpu_split(ht, 8, 4, &p), 4);
	assert_int_equal(p.step, 0x100000);
	for (int cpu = 0; cpu < 8; cpu++) {
		int k = 0;

		while (k < 3 && cpu >= (int)p.start[k + 1])
			k++;
		assert_int_equal(p.base[k] + (uint64_t)cpu * p.step, ht[cpu]);
	}
	assert_int_equal(percpu_split(ht, 8, 3, &p), 0); /* too many */
	/* Interleaved numbering (even CPUs on node 0): a piece every other
	 * CPU; any split found must give every CPU its offset. */
	uint64_t inter[16];

	for (int cpu = 0; cpu < 16; cpu++)
		inter[cpu] = (cpu & 1 ? 0x9000000 : 0x1000000) + (uint64_t)(cpu / 2) * 0x100000;
	assert_int_equal(percpu_split(inter, 16, 4, &p), 0);
	int k = percpu_split(inter, 5, 4, &p);

	assert_in_range(k, 1, 4);
	for (int cpu = 0; cpu < 5; cpu++) {
		int j = 0;

		while (j + 1 < k && cpu >= (int)p.start[j + 1])
			j++;
		assert_int_equal(p.base[j] + (uint64_t)cpu * p.step, inter[cpu]);
	}
	/* Holes in the ids do not start pieces. */
	const uint64_t holes[] = { 0x1000000, 0, 0x1200000, 0x1300000 };

	assert_int_equal(percpu_split(holes, 4, 4, &p), 1);
	assert_int_equal(p.base[0], 0x1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hm_basic),
		cmocka_unit_test(test_hm_replace),
		cmocka_unit_test(test_hm_growth_100k),
		cmocka_unit_test(test_hm_iterate),
		cmocka_unit_test(test_fmt_duration),
		cmocka_unit_test(test_fmt_duration_width),
		cmocka_unit_test(test_fmt_duration_small_buffer),
		cmocka_unit_test(test_parse_seconds),
		cmocka_unit_test(test_parse_pid),
		cmocka_unit_test(test_copy_comm),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_percpu_linear),
		cmocka_unit_test(test_percpu_split),
	};

	return cmocka_run_group_tests_name("misc", tests, NULL, NULL);
}
