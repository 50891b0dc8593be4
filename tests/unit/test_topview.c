/* Unit tests of user/topview.c (and the frames of user/screen.c): zmtrace
 * top's content from synthetic state, laid out on frames of several sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "screen.h"
#include "topview.h"
#include "util.h"

#define SEC 1000000000ULL
#define NOW (1000 * SEC)

struct fix {
	struct zstate *zs;
	struct memstate *m;
	struct sysmem_hist sys;
	struct top_snapshot t;
	struct top_view v;
	struct frame f;
};

static void rss(struct memstate *m, uint32_t pid, const char *comm, uint64_t ts, uint64_t kb,
		uint32_t flags)
{
	struct zm_mem_event e = {
		.ts_ns = ts, .type = ZM_EV_RSS, .pid = pid, .anon_kb = kb, .vsize_kb = kb + 1024,
		.flags = flags,
	};
	copy_comm(e.comm, comm);
	assert_int_equal(mst_event(m, &e, NULL), 0);
}

static void zombie(struct zstate *zs, uint32_t pid, uint32_t ppid, const char *pcomm,
		   uint64_t found_ns)
{
	struct zs_zombie z = {
		.pid = pid, .ppid = ppid, .start_ns = SEC, .pstart_ns = SEC, .exit_ns = found_ns,
	};
	copy_comm(z.comm, "child");
	copy_comm(z.pcomm, pcomm);
	assert_int_equal(zs_preexisting(zs, &z), 0);
}

/*
 * The state: a leaker with 3 zombies 5 s old, a parent with one zombie
 * 0.2 s old (about to reap it), a steady grower (1 MiB/s for 60 s), a big
 * flat process, one that started 1 s ago, one with a comm of control bytes,
 * and 30 small flat ones; system memory every second for 100 s.
 */
static int setup(void **state)
{
	struct fix *x = calloc(1, sizeof(*x));
	struct zs_sink none = { 0 };

	assert_non_null(x);
	x->zs = zs_new(&none, 0);
	x->m = mst_new(0);
	assert_non_null(x->zs);
	assert_non_null(x->m);
	for (uint32_t i = 0; i < 3; i++)
		zombie(x->zs, 500 + i, 50, "leaker", NOW - 5 * SEC);
	zombie(x->zs, 600, 60, "busy", NOW - SEC / 5);
	for (uint64_t s = 0; s <= 60; s++)
		rss(x->m, 100, "grower", NOW - 60 * SEC + s * SEC, 10240 + s * 1024,
		    s ? 0 : ZM_M_FIRST);
	rss(x->m, 200, "big", NOW - 60 * SEC, 4 << 20, ZM_M_FIRST);
	rss(x->m, 300, "newborn", NOW - SEC, 2048, ZM_M_EXEC);
	rss(x->m, 300, "newborn", NOW - SEC / 2, 8192, 0);
	rss(x->m, 400, "bad\x01\x7f" "name", NOW - 60 * SEC, 3000, ZM_M_FIRST);
	for (uint32_t i = 0; i < 30; i++)
		rss(x->m, 1000 + i, "small", NOW - 60 * SEC, 1000 + i, ZM_M_FIRST);
	sysmem_hist_init(&x->sys);
	for (uint64_t s = 0; s < 100; s++) {
		struct sysmem m = {
			.ts_ns = NOW - 100 * SEC + s * SEC, .total_kb = 16 << 20, .used_kb = 8 << 20,
			.buffers_kb = 1 << 20, .cached_kb = 2 << 20, .app_kb = (5 << 20) + s * 1024,
			.swap_total_kb = 2 << 20,
		};
		sysmem_hist_add(&x->sys, &m);
	}
	x->v = (struct top_view){ .what = "all processes", .interval = 1, .utf8 = true };
	assert_int_equal(top_take(&x->t, x->zs, x->m, &x->sys, NOW), 0);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fix *x = *state;

	top_snapshot_free(&x->t);
	frame_free(&x->f);
	zs_free(x->zs);
	mst_free(x->m);
	free(x);
	return 0;
}

static void render(struct fix *x, unsigned rows, unsigned cols)
{
	assert_int_equal(frame_resize(&x->f, rows, cols), 0);
	top_sort(&x->t, &x->v);
	top_render(&x->t, &x->v, &x->f);
	for (unsigned r = 0; r < rows; r++)
		assert_true(utf8_width(x->f.line[r].text) <= cols);
}

/* The row whose text starts (after blanks) with pid, or -1. */
static int row_of(const struct frame *f, uint32_t pid, const char *comm)
{
	char want[64];

	snprintf(want, sizeof(want), "%7u %-15s", pid, comm);
	for (unsigned r = 0; r < f->rows; r++)
		if (!strncmp(f->line[r].text, want, strlen(want)))
			return (int)r;
	return -1;
}

static int row_starting(const struct frame *f, const char *prefix)
{
	for (unsigned r = 0; r < f->rows; r++)
		if (!strncmp(f->line[r].text, prefix, strlen(prefix)))
			return (int)r;
	return -1;
}

/* At 80x24: every section, the leaker with its counts and age, the parent
 * about to reap left out, the grower marked at the LEAK? column. */
static void test_screen_80x24(void **state)
{
	struct fix *x = *state;

	render(x, 24, 80);
	assert_int_equal(strncmp(x->f.line[0].text, "zmtrace top  ", 13), 0);
	assert_non_null(strstr(x->f.line[0].text, "34 procs, 1 suspect  sort RSS  h help"));
	assert_int_equal(x->f.line[0].style, FR_TITLE);
	assert_true(row_starting(&x->f, "Mem 16.0G  used 8.0G  apps ") == 1);
	/* As many samples as fit (32, one a second), then the bottom and
	 * the height of the graph. */
	assert_true(row_starting(&x->f, "Swap 0K/2.0G  apps, last 32.0s: ▁▁▁▁▁▂") == 2);
	assert_non_null(strstr(x->f.line[2].text, "▇▇█ 5.1G +31.0M"));
	assert_true(row_starting(&x->f, "Parents with unreaped zombies: 1 (3 unreaped)") > 2);

	int z = row_of(&x->f, 50, "leaker");

	assert_true(z > 0);
	/* Found in /proc: their age is a lower bound. */
	assert_string_equal(x->f.line[z].text, "     50 leaker                 3        3    >5.0s");
	assert_int_equal(row_of(&x->f, 60, "busy"), -1);

	int g = row_of(&x->f, 100, "grower");

	assert_true(g > z);
	assert_non_null(strstr(x->f.line[g].text, "  +1.0M  LEAK? steady growth"));
	assert_int_equal(x->f.line[g].hl_col, 47);
	assert_int_equal(strncmp(x->f.line[g].text + 47, "LEAK?", 5), 0);
	assert_int_equal(x->f.line[g].hl_style, FR_ALERT);
	/* Under M, the big one first. */
	int h = row_starting(&x->f, "    PID COMM ");

	assert_int_equal(row_of(&x->f, 200, "big"), h + 1);
	assert_true(row_of(&x->f, 400, "bad??name") > h);
	/* The newborn's slope is noise: not shown. */
	x->v.sort = TOP_SORT_PID;
	render(x, 60, 80);
	int n = row_of(&x->f, 300, "newborn");

	assert_true(n > 0);
	assert_non_null(strstr(x->f.line[n].text, "      -  too short"));
}

/* G puts the grower first; R reverses; L keeps the suspects only. */
static void test_sorts(void **state)
{
	struct fix *x = *state;
	int h;

	x->v.sort = TOP_SORT_GROWTH;
	render(x, 24, 80);
	h = row_starting(&x->f, "    PID COMM ");
	assert_int_equal(row_of(&x->f, 100, "grower"), h + 1);
	assert_int_equal(x->f.line[h].hl_col, 38);
	assert_int_equal(x->f.line[h].hl_style, FR_HEAD_SORT);
	x->v.reverse = true;
	render(x, 60, 80);
	assert_true(row_of(&x->f, 100, "grower") > h + 30);
	x->v.reverse = false;
	x->v.suspects_only = true;
	render(x, 24, 80);
	assert_int_equal(row_of(&x->f, 100, "grower"), h + 1);
	assert_int_equal(row_of(&x->f, 200, "big"), -1);
	assert_true(x->f.line[h + 2].text[0] == 0);
}

/* Small, odd and large frames: nothing overflows. */
static void test_sizes(void **state)
{
	struct fix *x = *state;
	static const unsigned size[][2] = { { 1, 1 }, { 3, 20 }, { 10, 40 }, { 24, 79 },
					    { 25, 81 }, { 60, 200 }, { 0, 80 } };

	for (size_t i = 0; i < sizeof(size) / sizeof(size[0]); i++) {
		x->v.help = i % 2;
		render(x, size[i][0], size[i][1]);
	}
	x->v.help = true;
	render(x, 24, 80);
	assert_string_equal(x->f.line[23].text,
			    "q quit  M memory  G growth  V vsize  N pid  R reverse  L suspects  h help");
}

/* Without UTF-8, the sparkline is ASCII; it rises to the right. */
static void test_ascii_sparkline(void **state)
{
	struct fix *x = *state;

	x->v.utf8 = false;
	render(x, 24, 80);
	const char *s = strstr(x->f.line[2].text, ": ");

	assert_non_null(s);
	for (const char *c = x->f.line[2].text; *c; c++)
		assert_true(*c >= 0x20 && *c < 0x7f);
	assert_int_equal(s[2], '_');
	assert_non_null(strstr(s, "# 5.1G +31.0M"));
}

static void test_keys(void **state)
{
	struct top_view v = { .sort = TOP_SORT_GROWTH, .reverse = true };

	(void)state;
	assert_int_equal(top_key(&v, 'M'), TOP_REDRAW);
	assert_int_equal(v.sort, TOP_SORT_RSS);
	assert_false(v.reverse);
	assert_int_equal(top_key(&v, 'g'), TOP_REDRAW);
	assert_int_equal(v.sort, TOP_SORT_GROWTH);
	assert_int_equal(top_key(&v, 'G'), TOP_REDRAW);
	assert_int_equal(top_key(&v, 'V'), TOP_REDRAW);
	assert_int_equal(v.sort, TOP_SORT_VSIZE);
	assert_int_equal(top_key(&v, 'N'), TOP_REDRAW);
	assert_int_equal(v.sort, TOP_SORT_PID);
	assert_int_equal(top_key(&v, 'R'), TOP_REDRAW);
	assert_true(v.reverse);
	assert_int_equal(top_key(&v, 'h'), TOP_REDRAW);
	assert_true(v.help);
	assert_int_equal(top_key(&v, '?'), TOP_REDRAW);
	assert_false(v.help);
	assert_int_equal(top_key(&v, 'L'), TOP_REDRAW);
	assert_true(v.suspects_only);
	assert_int_equal(top_key(&v, ' '), TOP_REFRESH);
	assert_int_equal(top_key(&v, 'L' & 0x1f), TOP_REFRESH);
	assert_int_equal(top_key(&v, 'q'), TOP_QUIT);
	assert_int_equal(top_key(&v, 'x'), TOP_NONE);
}

/* Plain text: no trailing blanks, no trailing empty lines. */
static void test_frame_print(void **state)
{
	struct frame f = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(out);
	assert_int_equal(frame_resize(&f, 5, 10), 0);
	frame_printf(&f, 0, FR_TITLE, "%-10s", "title");
	frame_printf(&f, 2, FR_NORMAL, "0123456789abcdef");
	frame_print(out, &f);
	fclose(out);
	assert_string_equal(buf, "title\n\n0123456789\n");
	free(buf);
	frame_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_screen_80x24, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sorts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ascii_sparkline, setup, teardown),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_frame_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
