/* Unit tests for user/model.c: a capture's records (synthetic here) through
 * the replay: parents' peaks and longest-lived zombies, lost exits and
 * reaps, zombies gone at the end, the recorder's own child, leak suspects
 * that exited long before the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"
#include "util.h"

#define S NSEC_PER_SEC

static void feed(struct model *m, const struct rec *r)
{
	assert_int_equal(model_apply(m, r), 0);
}

static void start(struct model *m, uint32_t self)
{
	struct rec r = { .type = REC_START };

	r.start.ts_ns = 1;
	r.start.self_pid = self;
	feed(m, &r);
}

/* pid (started at pid * S / 1000) exits at ts, a zombie of ppid */
static void exit_ev(struct model *m, uint32_t pid, uint32_t ppid, uint64_t ts)
{
	struct rec r = { .type = ZM_EV_EXIT };

	r.ev = (struct zm_event){ .type = ZM_EV_EXIT, .ts_ns = ts, .pid = pid, .ppid = ppid,
				  .start_ns = pid * S / 1000, .aux_ns = ppid, .other_pid = pid };
	strcpy(r.ev.comm, "child");
	strcpy(r.ev.pcomm, "parent");
	feed(m, &r);
}

static void reap_ev(struct model *m, uint32_t pid, uint32_t ppid, uint64_t exit_ns, uint64_t ts)
{
	struct rec r = { .type = ZM_EV_REAP };

	r.ev = (struct zm_event){ .type = ZM_EV_REAP, .ts_ns = ts, .pid = pid, .ppid = ppid,
				  .start_ns = pid * S / 1000, .aux_ns = exit_ns, .other_pid = ppid,
				  .code = ZM_VIA_WAIT4 };
	strcpy(r.ev.comm, "child");
	strcpy(r.ev.pcomm, "parent");
	feed(m, &r);
}

static const struct model_parent *parent(const struct model *m, uint32_t pid)
{
	return model_parent(m, pid, 0);
}

static void test_peaks_and_longest(void **state)
{
	(void)state;
	struct model m;

	assert_int_equal(model_init(&m, NULL), 0);
	m.long_ns = S;
	start(&m, 7);
	/* parent 10: three zombies at once, reaped after 2, 3 and 0.5 s */
	exit_ev(&m, 100, 10, 1 * S);
	exit_ev(&m, 101, 10, 1 * S + 1);
	exit_ev(&m, 102, 10, 2 * S);
	reap_ev(&m, 100, 10, 1 * S, 3 * S);
	reap_ev(&m, 101, 10, 1 * S + 1, 4 * S + 1);
	reap_ev(&m, 102, 10, 2 * S, 2 * S + S / 2);
	/* the recorder's own child: not counted */
	exit_ev(&m, 120, 7, 5 * S);
	reap_ev(&m, 120, 7, 5 * S, 6 * S);
	model_finish(&m);
	const struct model_parent *p = parent(&m, 10);

	assert_non_null(p);
	assert_int_equal(p->zombies, 3);
	assert_int_equal(p->peak, 3);
	assert_int_equal(p->unreaped, 0);
	assert_int_equal(p->worst_ns, 3 * S);
	assert_int_equal(p->worst_pid, 101);
	assert_int_equal(p->long_zombies, 2);
	assert_null(parent(&m, 7));
	assert_int_equal(m.life.count, 3);
	assert_int_equal(m.life_bucket[4], 2); /* 1-10 s */
	assert_int_equal(m.life_bucket[3], 1); /* 0.1-1 s */
	model_free(&m);
}

/* A reap whose exit was lost still counts its zombie and its age; a zombie
 * gone at the end (REC_GONE) and one whose pid exited again (its reap
 * lost) stop counting as unreaped. */
static void test_lost_events(void **state)
{
	(void)state;
	struct model m;
	struct rec gone = { .type = REC_GONE };

	assert_int_equal(model_init(&m, NULL), 0);
	m.long_ns = S;
	start(&m, 7);
	reap_ev(&m, 200, 20, 1 * S, 5 * S);
	assert_int_equal(parent(&m, 20)->zombies, 1);
	assert_int_equal(parent(&m, 20)->worst_ns, 4 * S);
	assert_int_equal(parent(&m, 20)->long_zombies, 1);

	exit_ev(&m, 300, 30, 5 * S);
	gone.hdr = (struct zm_hdr){ .ts_ns = 7 * S, .type = REC_GONE, .pid = 300 };
	feed(&m, &gone);
	assert_int_equal(parent(&m, 30)->unreaped, 0);
	assert_int_equal(parent(&m, 30)->peak, 1);
	assert_int_equal(parent(&m, 30)->worst_ns, 2 * S);

	exit_ev(&m, 400, 40, 8 * S);
	/* pid 400 again, another process (another start), another parent */
	struct rec again = { .type = ZM_EV_EXIT };

	again.ev = (struct zm_event){ .type = ZM_EV_EXIT, .ts_ns = 9 * S, .pid = 400, .ppid = 41,
				      .start_ns = 8 * S + 5, .aux_ns = 41, .other_pid = 400 };
	feed(&m, &again);
	model_finish(&m);
	assert_int_equal(parent(&m, 40)->unreaped, 0);
	assert_int_equal(model_parent(&m, 41, 0)->unreaped, 1);
	model_free(&m);
}

/* A process that leaked for 20 s and exited is kept as a suspect, though
 * memstate forgets it after 4096 others exit. */
static void test_exited_suspect(void **state)
{
	(void)state;
	struct model m;

	assert_int_equal(model_init(&m, NULL), 0);
	m.keep_suspects = true;
	start(&m, 7);
	for (int i = 0; i <= 40; i++) {
		struct rec r = { .type = ZM_EV_RSS };

		r.mem = (struct zm_mem_event){ .type = ZM_EV_RSS, .ts_ns = S + (uint64_t)i * S / 2,
					       .pid = 500, .anon_kb = 10000 + (uint64_t)i * 1024,
					       .vsize_kb = 50000 + (uint64_t)i * 1024,
					       .flags = ZM_M_EXACT | (i == 40 ? ZM_M_EXIT : 0) };
		strcpy(r.mem.comm, "leaky");
		feed(&m, &r);
	}
	/* 5000 short-lived processes after it */
	for (uint32_t pid = 1000; pid < 6000; pid++) {
		struct rec r = { .type = ZM_EV_RSS };

		r.mem = (struct zm_mem_event){ .type = ZM_EV_RSS, .ts_ns = 30 * S + pid, .pid = pid,
					       .anon_kb = 100, .flags = ZM_M_EXACT | ZM_M_EXIT };
		feed(&m, &r);
	}
	model_finish(&m);
	assert_null(mst_get(m.mem, 500));
	assert_int_equal(m.nsuspects, 1);
	assert_int_equal(m.suspects[0].pid, 500);
	assert_string_equal(m.suspects[0].comm, "leaky");
	assert_true(m.suspects[0].v.rss_slope_kb_s > 1900 && m.suspects[0].v.rss_slope_kb_s < 2200);
	model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peaks_and_longest),
		cmocka_unit_test(test_lost_events),
		cmocka_unit_test(test_exited_suspect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
