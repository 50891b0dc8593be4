/* Unit tests for user/records.c and user/recorder.c: every record type
 * survives the encoding and a capture file exactly, chunk after chunk;
 * damaged records are refused, never misread; a busy host's events take a
 * few bytes each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture.h"
#include "model.h"
#include "recorder.h"
#include "records.h"

/* A small deterministic generator (xorshift64*). */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* Values that stress the varints: small, huge, around the edges. */
static uint64_t edgy(uint64_t *s)
{
	static const uint64_t edge[] = { 0, 1, 127, 128, 16383, 16384, UINT32_MAX,
					 (uint64_t)UINT32_MAX + 1, INT64_MAX, UINT64_MAX };
	uint64_t r = rnd(s);

	switch (r % 4) {
	case 0:
		return edge[(r >> 8) % (sizeof(edge) / sizeof(edge[0]))];
	case 1:
		return r >> (r % 64);
	default:
		return r;
	}
}

static void name(uint64_t *s, char out[ZM_COMM_LEN])
{
	static const char *const names[] = { "sh", "bash", "make", "cc1", "", "a,b \"q\"",
					     "\x01\xff\xfe tab\t", "fifteen-chars-x" };
	uint64_t r = rnd(s);

	memset(out, 0, ZM_COMM_LEN);
	if (r % 5 == 0) { /* a fresh name: fills the table */
		snprintf(out, ZM_COMM_LEN, "p%llu", (unsigned long long)(r >> 40));
		return;
	}
	memcpy(out, names[(r >> 8) % 8], strlen(names[(r >> 8) % 8]));
}

/* A random record of any type, its unused bytes zero (as decoded). */
static void random_rec(uint64_t *s, struct rec *r)
{
	static const uint8_t types[] = { ZM_EV_FORK, ZM_EV_EXEC, ZM_EV_EXIT,  ZM_EV_REAP,
					 ZM_EV_RSS,  ZM_EV_OOM,	 REC_START,   REC_PROC,
					 REC_ZOMBIE, REC_SYSMEM, REC_DROPS,   REC_END,
					 REC_GONE };

	memset(r, 0, sizeof(*r));
	r->type = types[rnd(s) % sizeof(types)];
	switch (r->type) {
	case ZM_EV_FORK:
	case ZM_EV_EXEC:
	case ZM_EV_EXIT:
	case ZM_EV_REAP:
		r->ev.type = r->type;
		r->ev.ts_ns = edgy(s);
		r->ev.pid = (uint32_t)edgy(s);
		r->ev.start_ns = edgy(s);
		r->ev.aux_ns = edgy(s);
		r->ev.ppid = (uint32_t)edgy(s);
		r->ev.other_pid = (uint32_t)edgy(s);
		r->ev.code = (uint32_t)edgy(s);
		r->ev.flags = (uint32_t)edgy(s);
		name(s, r->ev.comm);
		name(s, r->ev.pcomm);
		break;
	case ZM_EV_RSS:
	case ZM_EV_OOM:
		r->mem.type = r->type;
		r->mem.ts_ns = edgy(s);
		r->mem.pid = (uint32_t)(rnd(s) % 700); /* repeats: deltas from the last */
		r->mem.anon_kb = edgy(s);
		r->mem.file_kb = edgy(s);
		r->mem.shmem_kb = edgy(s);
		r->mem.swap_kb = edgy(s);
		r->mem.vsize_kb = edgy(s);
		if (rnd(s) & 1) {
			r->mem.peak_rss_kb = edgy(s);
			r->mem.peak_vm_kb = edgy(s);
		}
		r->mem.actor = rnd(s) & 1 ? (uint32_t)edgy(s) : 0;
		r->mem.flags = (uint32_t)edgy(s);
		name(s, r->mem.comm);
		break;
	case REC_START:
		r->start.ts_ns = edgy(s);
		r->start.self_pid = (uint32_t)edgy(s);
		r->start.flags = (uint32_t)edgy(s);
		r->start.threshold = edgy(s);
		r->start.interval_ns = edgy(s);
		r->start.sample_hz = (uint32_t)edgy(s);
		strcpy(r->start.rss_path, "linear");
		memset(r->start.what, 'w', rnd(s) % sizeof(r->start.what));
		break;
	case REC_PROC:
		r->proc.ppid = (uint32_t)edgy(s);
		r->proc.start_ns = edgy(s);
		r->proc.state = "RSDT"[rnd(s) % 4];
		r->proc.has_mem = rnd(s) & 1;
		r->proc.mem.type = ZM_EV_RSS;
		r->proc.mem.ts_ns = edgy(s);
		r->proc.mem.pid = (uint32_t)(rnd(s) % 700);
		if (r->proc.has_mem) {
			r->proc.mem.anon_kb = edgy(s);
			r->proc.mem.file_kb = edgy(s);
			r->proc.mem.vsize_kb = edgy(s);
			r->proc.mem.flags = (uint32_t)edgy(s);
		}
		name(s, r->proc.mem.comm);
		break;
	case REC_ZOMBIE:
		r->zombie.pid = (uint32_t)edgy(s);
		r->zombie.ppid = (uint32_t)edgy(s);
		r->zombie.start_ns = edgy(s);
		r->zombie.pstart_ns = edgy(s);
		r->zombie.exit_ns = edgy(s);
		r->zombie.status = (uint32_t)edgy(s);
		r->zombie.preexisting = rnd(s) & 1;
		name(s, r->zombie.comm);
		name(s, r->zombie.pcomm);
		break;
	case REC_SYSMEM:
		r->sys.ts_ns = edgy(s);
		r->sys.total_kb = edgy(s);
		r->sys.free_kb = edgy(s);
		r->sys.used_kb = edgy(s);
		r->sys.buffers_kb = edgy(s);
		r->sys.cached_kb = edgy(s);
		r->sys.app_kb = edgy(s);
		r->sys.swap_total_kb = edgy(s);
		r->sys.swap_used_kb = edgy(s);
		break;
	case REC_DROPS:
	case REC_END:
		r->drops.ts_ns = edgy(s);
		r->drops.ringbuf = edgy(s);
		r->drops.tracked = edgy(s);
		break;
	case REC_GONE:
		r->hdr.type = REC_GONE;
		r->hdr.ts_ns = edgy(s);
		r->hdr.pid = (uint32_t)edgy(s);
		break;
	}
}

static char *tmp_path(void)
{
	static char path[64];

	strcpy(path, "/tmp/zm-rec-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	return path;
}

/* 100,000 random records through a capture, chunks flushed at random
 * points too: each read back equal to the one written. */
static void test_round_trip(void **state)
{
	(void)state;
	const uint64_t n = 100000;
	char *path = tmp_path(), *argv[] = { "zmtrace", "record", "-o", path };
	struct recorder *w;
	uint64_t s = 42;
	struct rec r, back;

	assert_int_equal(recorder_open(&w, path, 4, argv), 0);
	for (uint64_t i = 0; i < n; i++) {
		random_rec(&s, &r);
		assert_int_equal(recorder_put(w, &r), 0);
		if (rnd(&s) % 997 == 0)
			assert_int_equal(recorder_flush(w), 0);
	}
	assert_int_equal(recorder_close(w), 0);

	struct cap_reader *cr;
	struct cap_header h;
	char err[256];
	struct rec_state *st = malloc(sizeof(*st));
	uint8_t type;
	const void *data;
	size_t len;
	uint64_t i = 0, chunks = 0;

	assert_non_null(st);
	assert_int_equal(cap_open(&cr, path, &h, err, sizeof(err)), 0);
	assert_int_equal(strncmp(h.options, "zmtrace record -o /tmp/zm-rec-", 30), 0);
	s = 42;
	while (cap_next(cr, &type, &data, &len) == 1) {
		const char *why = NULL;

		if (cap_chunk_first(cr)) {
			rec_reset(st);
			chunks++;
		}
		random_rec(&s, &r);
		(void)rnd(&s); /* the writer's draw for a flush */
		assert_int_equal(type, r.type);
		assert_int_equal(rec_decode(st, type, data, len, &back, &why), 1);
		assert_memory_equal(&back, &r, sizeof(r));
		i++;
	}
	assert_null(cap_stop(cr, NULL));
	assert_int_equal(i, n);
	assert_true(chunks > 50); /* the random flushes, and the 64 KiB ones */
	cap_free(cr);
	free(st);
	unlink(path);
}

/* Every prefix of every record of a stream is refused (or, for a record
 * whose tail is optional, read the same), never misread or crashing. */
static void test_cut_records(void **state)
{
	(void)state;
	struct rec_state *enc = malloc(sizeof(*enc)), *dec = malloc(sizeof(*dec));
	uint64_t s = 7;
	uint8_t buf[REC_MAX];

	assert_non_null(enc);
	assert_non_null(dec);
	for (int i = 0; i < 3000; i++) {
		struct rec r, back;
		const char *why = NULL;

		rec_reset(enc);
		rec_reset(dec);
		random_rec(&s, &r);
		size_t n = rec_encode(enc, &r, buf);

		assert_true(n > 0 && n <= REC_MAX);
		for (size_t cut = 0; cut < n; cut++) {
			struct rec_state *d = malloc(sizeof(*d));

			assert_non_null(d);
			rec_reset(d);
			why = NULL;
			int ret = rec_decode(d, r.type, buf, cut, &back, &why);

			assert_int_equal(ret, -1);
			assert_non_null(why);
			free(d);
		}
		assert_int_equal(rec_decode(dec, r.type, buf, n, &back, &why), 1);
		assert_memory_equal(&back, &r, sizeof(r));
	}
	free(enc);
	free(dec);
}

/* A name index the chunk never defined, a number of 11 bytes, a string
 * longer than a comm: refused with a reason. Unknown types are skipped. */
static void test_damaged(void **state)
{
	(void)state;
	struct rec_state *st = malloc(sizeof(*st));
	struct rec out;
	const char *why = NULL;
	/* FORK: ts 0, pid 0, start, aux, ppid, other, code, flags, comm index 5 */
	const uint8_t bad_index[] = { 0, 0, 0, 0, 0, 0, 0, 0, 5, 0 };
	const uint8_t long_num[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };
	uint8_t long_str[40] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 30 };

	assert_non_null(st);
	rec_reset(st);
	assert_int_equal(rec_decode(st, ZM_EV_FORK, bad_index, sizeof(bad_index), &out, &why), -1);
	assert_string_equal(why, "unknown name index");
	rec_reset(st);
	assert_int_equal(rec_decode(st, ZM_EV_EXIT, long_num, sizeof(long_num), &out, &why), -1);
	assert_string_equal(why, "number too long");
	rec_reset(st);
	assert_int_equal(rec_decode(st, ZM_EV_EXEC, long_str, sizeof(long_str), &out, &why), -1);
	assert_string_equal(why, "string too long");
	assert_int_equal(rec_decode(st, 99, long_str, sizeof(long_str), &out, &why), 0);
	free(st);
}

/* More distinct names than a chunk's table holds: the ones past it are
 * written out each time, and all read back. */
static void test_name_table_full(void **state)
{
	(void)state;
	struct rec_state *enc = malloc(sizeof(*enc)), *dec = malloc(sizeof(*dec));
	uint8_t buf[REC_MAX];

	assert_non_null(enc);
	assert_non_null(dec);
	rec_reset(enc);
	rec_reset(dec);
	for (int i = 0; i < 3 * REC_NAMES; i++) {
		struct rec r = { .type = ZM_EV_EXEC }, back;
		const char *why;

		r.ev.type = ZM_EV_EXEC;
		r.ev.pid = (uint32_t)i;
		snprintf(r.ev.comm, ZM_COMM_LEN, "n%d", i % (2 * REC_NAMES));
		snprintf(r.ev.pcomm, ZM_COMM_LEN, "parent");
		size_t n = rec_encode(enc, &r, buf);

		assert_int_equal(rec_decode(dec, r.type, buf, n, &back, &why), 1);
		assert_memory_equal(&back, &r, sizeof(r));
	}
	free(enc);
	free(dec);
}

/*
 * A busy host's lifecycle and memory, as the kernel sends them: per
 * process a fork, an exec, five RSS changes of 1 MiB, an exit and a reap,
 * processes overlapping, times a few microseconds apart. The capture takes
 * at most 8 bytes an event (the bound), compression included.
 */
static void test_compact(void **state)
{
	(void)state;
	char *path = tmp_path(), *argv[] = { "zmtrace" };
	struct recorder *w;
	uint64_t s = 99, ts = 1000000000, events = 0;
	static const char *const cmds[] = { "sh", "make", "cc1", "as", "ld", "sed", "grep", "cat" };
	uint32_t parent = 4000;

	assert_int_equal(recorder_open(&w, path, 1, argv), 0);
	for (uint32_t pid = 5000; pid < 25000; pid++) {
		struct rec r = { .type = ZM_EV_FORK };
		const char *cmd = cmds[rnd(&s) % 8];
		uint64_t start = ts, rss = 1000 + rnd(&s) % 4000;

		r.ev = (struct zm_event){ .ts_ns = ts, .type = ZM_EV_FORK, .pid = pid,
					  .start_ns = ts - 2000, .aux_ns = 12345678, .ppid = parent,
					  .other_pid = parent };
		strcpy(r.ev.comm, "make");
		strcpy(r.ev.pcomm, "make");
		assert_int_equal(recorder_put(w, &r), 0);
		ts += 3000 + rnd(&s) % 20000;
		r.ev.type = r.type = ZM_EV_EXEC;
		r.ev.ts_ns = ts;
		r.ev.other_pid = pid;
		strcpy(r.ev.comm, cmd);
		assert_int_equal(recorder_put(w, &r), 0);
		for (int k = 0; k < 5; k++) {
			struct rec m = { .type = ZM_EV_RSS };

			ts += 10000 + rnd(&s) % 100000;
			rss += 1024;
			m.mem = (struct zm_mem_event){ .ts_ns = ts, .type = ZM_EV_RSS, .pid = pid,
						       .anon_kb = rss, .file_kb = 1800,
						       .shmem_kb = 4, .vsize_kb = rss + 9000,
						       .flags = ZM_M_EXACT };
			strcpy(m.mem.comm, cmd);
			assert_int_equal(recorder_put(w, &m), 0);
		}
		ts += 5000 + rnd(&s) % 10000;
		r.ev.type = r.type = ZM_EV_EXIT;
		r.ev.ts_ns = ts;
		r.ev.start_ns = start - 2000;
		r.ev.code = rnd(&s) % 8 ? 0 : 256;
		assert_int_equal(recorder_put(w, &r), 0);
		uint64_t exit_ns = ts;

		ts += 2000 + rnd(&s) % 8000;
		r.ev.type = r.type = ZM_EV_REAP;
		r.ev.ts_ns = ts;
		r.ev.aux_ns = exit_ns;
		r.ev.code = ZM_VIA_WAIT4;
		r.ev.other_pid = parent;
		strcpy(r.ev.pcomm, "make");
		assert_int_equal(recorder_put(w, &r), 0);
		events += 9;
		if (pid % 500 == 0)
			parent++;
	}
	assert_int_equal(recorder_close(w), 0);
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long bytes = ftell(f);

	fclose(f);
	unlink(path);
	print_message("%llu events, %ld bytes: %.2f bytes/event\n", (unsigned long long)events,
		      bytes, (double)bytes / (double)events);
	assert_true((double)bytes / (double)events <= 8.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),	cmocka_unit_test(test_cut_records),
		cmocka_unit_test(test_damaged),		cmocka_unit_test(test_name_table_full),
		cmocka_unit_test(test_compact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
