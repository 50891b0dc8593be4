/* Unit tests for user/dist.c: exact and histogram quantiles of durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "dist.h"

#define REL_ERR 0.032 /* dist.h: within 3.2% of the true value */

static const double qs[] = { 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0 };

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void) /* xorshift64*: deterministic */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static void shuffle(uint64_t *v, size_t n)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(rng() % (i + 1));
		uint64_t t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank q-quantile of sorted[0..n). */
static uint64_t true_quantile(const uint64_t *sorted, size_t n, double q)
{
	uint64_t rank = (uint64_t)ceil(q * (double)n);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static void assert_close(uint64_t got, uint64_t want, double q)
{
	double err = want ? fabs((double)got - (double)want) / (double)want : (double)got;

	if (err > REL_ERR)
		fail_msg("q=%g: got %llu, want %llu (rel err %.4f > %.3f)", q,
			 (unsigned long long)got, (unsigned long long)want, err, REL_ERR);
}

/* Feeds v[0..n) in order; checks count, max and every quantile in qs[]. */
static void check_samples(uint64_t *v, size_t n, int exact)
{
	struct dist d = { 0 };
	uint64_t *sorted = malloc(n * sizeof(*sorted));

	assert_non_null(sorted);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(dist_add(&d, v[i]), 0);
	memcpy(sorted, v, n * sizeof(*v));
	qsort(sorted, n, sizeof(*sorted), cmp_u64);

	assert_int_equal(d.count, n);
	assert_int_equal(d.max, sorted[n - 1]);
	if (n > DIST_EXACT)
		assert_non_null(d.hist);
	else
		assert_null(d.hist);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t got = dist_quantile(&d, qs[i]), want = true_quantile(sorted, n, qs[i]);

		if (exact || qs[i] == 1.0)
			assert_int_equal(got, want);
		else
			assert_close(got, want, qs[i]);
		assert_true(got <= d.max);
	}
	dist_free(&d);
	assert_null(d.hist);
	free(sorted);
}

static void test_empty(void **state)
{
	(void)state;
	struct dist d = { 0 };

	assert_int_equal(dist_quantile(&d, 0.5), 0);
	assert_int_equal(dist_quantile(&d, 0.99), 0);
	assert_int_equal(dist_quantile(&d, 1.0), 0);
	assert_int_equal(d.max, 0);
	dist_free(&d);
	dist_free(&d); /* twice is fine */
}

static void test_one_sample(void **state)
{
	(void)state;
	struct dist d = { 0 };

	assert_int_equal(dist_add(&d, 1234567), 0);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.max, 1234567);
	assert_int_equal(dist_quantile(&d, 0.001), 1234567);
	assert_int_equal(dist_quantile(&d, 0.5), 1234567);
	assert_int_equal(dist_quantile(&d, 0.99), 1234567);
	assert_int_equal(dist_quantile(&d, 1.0), 1234567);
	dist_free(&d);
}

static void test_one_zero_sample(void **state)
{
	(void)state;
	struct dist d = { 0 };

	assert_int_equal(dist_add(&d, 0), 0);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.max, 0);
	assert_int_equal(dist_quantile(&d, 0.5), 0);
	dist_free(&d);
}

/* Nearest rank, hand-checked: {10,20,...,100} fed out of order. */
static void test_exact_nearest_rank(void **state)
{
	(void)state;
	static const uint64_t in[] = { 70, 10, 100, 40, 30, 90, 20, 60, 50, 80 };
	struct dist d = { 0 };

	for (size_t i = 0; i < 10; i++)
		assert_int_equal(dist_add(&d, in[i]), 0);
	assert_int_equal(dist_quantile(&d, 0.05), 10);	/* rank 1 */
	assert_int_equal(dist_quantile(&d, 0.1), 10);	/* rank 1 */
	assert_int_equal(dist_quantile(&d, 0.11), 20);	/* rank 2 */
	assert_int_equal(dist_quantile(&d, 0.5), 50);	/* rank 5 */
	assert_int_equal(dist_quantile(&d, 0.51), 60);	/* rank 6 */
	assert_int_equal(dist_quantile(&d, 0.9), 90);	/* rank 9 */
	assert_int_equal(dist_quantile(&d, 0.99), 100); /* rank 10 */
	assert_int_equal(dist_quantile(&d, 1.0), 100);
	assert_int_equal(d.max, 100);
	/* Querying does not disturb later adds (the exact array is not sorted
	 * in place). */
	assert_int_equal(dist_add(&d, 5), 0);
	assert_int_equal(dist_quantile(&d, 0.01), 5);
	assert_int_equal(dist_quantile(&d, 0.5), 50); /* rank 6 of 11 */
	dist_free(&d);
}

/* Up to DIST_EXACT samples every quantile is exact, for every n. */
static void test_exact_up_to_32(void **state)
{
	(void)state;
	uint64_t v[DIST_EXACT];

	for (size_t n = 1; n <= DIST_EXACT; n++) {
		for (size_t i = 0; i < n; i++)
			v[i] = rng() % 1000000007ULL;
		check_samples(v, n, 1);
	}
	/* With duplicates. */
	for (size_t i = 0; i < DIST_EXACT; i++)
		v[i] = (i % 3) * 1000;
	check_samples(v, DIST_EXACT, 1);
}

/* The 33rd sample moves everything into the histogram. */
static void test_exact_to_hist_boundary(void **state)
{
	(void)state;
	struct dist d = { 0 };

	for (uint64_t i = 1; i <= DIST_EXACT; i++)
		assert_int_equal(dist_add(&d, i * 1000000), 0);
	assert_null(d.hist);
	assert_int_equal(dist_quantile(&d, 0.5), 16000000);
	assert_int_equal(dist_add(&d, 33000000), 0);
	assert_non_null(d.hist);
	assert_int_equal(d.count, 33);
	assert_int_equal(d.max, 33000000);
	assert_close(dist_quantile(&d, 0.5), 17000000, 0.5);  /* rank 17 */
	assert_close(dist_quantile(&d, 0.03), 1000000, 0.03); /* rank 1 */
	assert_int_equal(dist_quantile(&d, 1.0), 33000000);
	dist_free(&d);
}

/* 10,000 samples, uniform 1..10000 us, shuffled. */
static void test_uniform_us(void **state)
{
	(void)state;
	size_t n = 10000;
	uint64_t *v = malloc(n * sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = (i + 1) * 1000;
	shuffle(v, n);
	check_samples(v, n, 0);

	struct dist d = { 0 };

	for (size_t i = 0; i < n; i++)
		dist_add(&d, v[i]);
	assert_close(dist_quantile(&d, 0.5), 5000000, 0.5);
	assert_close(dist_quantile(&d, 0.99), 9900000, 0.99);
	assert_int_equal(d.max, 10000000);
	dist_free(&d);
	free(v);
}

/* A constant: every quantile is within the error, and never above max. */
static void test_constant(void **state)
{
	(void)state;
	static const uint64_t c[] = { 0, 1, 31, 32, 33, 1000, 123456789, 999999999999ULL };

	for (size_t k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		struct dist d = { 0 };

		for (int i = 0; i < 10000; i++)
			assert_int_equal(dist_add(&d, c[k]), 0);
		assert_int_equal(d.max, c[k]);
		for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
			uint64_t got = dist_quantile(&d, qs[i]);

			assert_close(got, c[k], qs[i]);
			assert_true(got <= c[k]);
		}
		dist_free(&d);
	}
}

/* Small values (< 32) have one bucket each: exact even from the histogram. */
static void test_small_values_exact(void **state)
{
	(void)state;
	size_t n = 3200;
	uint64_t *v = malloc(n * sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = i % 32;
	shuffle(v, n);
	check_samples(v, n, 1);
	free(v);
}

/* Log-uniform over 1 ns .. ~1000 s: every magnitude the tracer sees. */
static void test_log_uniform(void **state)
{
	(void)state;
	size_t n = 20000;
	uint64_t *v = malloc(n * sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		unsigned bits = (unsigned)(rng() % 40) + 1;

		v[i] = rng() >> (64 - bits);
	}
	check_samples(v, n, 0);
	free(v);
}

/* Two clusters: p50 in the low one, p99 in the high one. */
static void test_bimodal(void **state)
{
	(void)state;
	size_t n = 10000;
	uint64_t *v = malloc(n * sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = i < 9000 ? 50000 + rng() % 1000 : 5000000000ULL + rng() % 1000000;
	shuffle(v, n);
	check_samples(v, n, 0);
	free(v);
}

/* Values near and above 2^63, and UINT64_MAX: no overflow in the buckets. */
static void test_huge_values(void **state)
{
	(void)state;
	uint64_t v[200];
	size_t n = sizeof(v) / sizeof(v[0]);

	for (size_t i = 0; i < n; i++)
		v[i] = (1ULL << 63) - 100 + i * 1000000007ULL;
	check_samples(v, n, 0);

	for (size_t i = 0; i < n; i++)
		v[i] = UINT64_MAX - i;
	check_samples(v, n, 0);

	struct dist d = { 0 };

	for (size_t i = 0; i < 100; i++)
		assert_int_equal(dist_add(&d, i < 50 ? 1 : UINT64_MAX), 0);
	assert_int_equal(d.max, UINT64_MAX);
	assert_int_equal(dist_quantile(&d, 0.5), 1);
	assert_close(dist_quantile(&d, 0.51), UINT64_MAX, 0.51);
	assert_int_equal(dist_quantile(&d, 1.0), UINT64_MAX);
	dist_free(&d);
}

/* The quantile never decreases with q. */
static void test_monotonic_in_q(void **state)
{
	(void)state;
	struct dist d = { 0 };

	for (int i = 0; i < 5000; i++)
		dist_add(&d, rng() >> (rng() % 60));
	uint64_t prev = 0;

	for (int i = 1; i <= 1000; i++) {
		uint64_t x = dist_quantile(&d, i / 1000.0);

		assert_true(x >= prev);
		prev = x;
	}
	assert_int_equal(prev, d.max);
	dist_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_one_sample),
		cmocka_unit_test(test_one_zero_sample),
		cmocka_unit_test(test_exact_nearest_rank),
		cmocka_unit_test(test_exact_up_to_32),
		cmocka_unit_test(test_exact_to_hist_boundary),
		cmocka_unit_test(test_uniform_us),
		cmocka_unit_test(test_constant),
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_log_uniform),
		cmocka_unit_test(test_bimodal),
		cmocka_unit_test(test_huge_values),
		cmocka_unit_test(test_monotonic_in_q),
	};

	return cmocka_run_group_tests_name("dist", tests, NULL, NULL);
}
