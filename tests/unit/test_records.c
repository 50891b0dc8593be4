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

/* 100,000 random records through a capture, blocks flushed at random
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
	struct rec_dec *d = malloc(sizeof(*d));
	uint8_t type;
	const void *data;
	size_t len;
	uint64_t i = 0, blocks = 0;
	const char *why = NULL;

	assert_non_null(d);
	assert_int_equal(cap_open(&cr, path, &h, err, sizeof(err)), 0);
	assert_int_equal(strncmp(h.options, "zmtrace record -o /tmp/zm-rec-", 30), 0);
	s = 42;
	while (cap_next(cr, &type, &data, &len) == 1) {
		assert_int_equal(type, REC_BLOCK);
		assert_true(cap_chunk_first(cr)); /* a chunk a block */
		assert_int_equal(rec_dec_open(d, data, len, &why), 0);
		blocks++;
		while (rec_dec_next(d, &back, &why) == 1) {
			random_rec(&s, &r);
			(void)rnd(&s); /* the writer's draw for a flush */
			assert_memory_equal(&back, &r, sizeof(r));
			i++;
		}
		assert_int_equal(rec_dec_next(d, &back, &why), 0);
	}
	assert_null(cap_stop(cr, NULL));
	assert_int_equal(i, n);
	assert_true(blocks > 50); /* the random flushes, and the full blocks */
	cap_free(cr);
	free(d);
	unlink(path);
}

/* A block's bytes from streams given one by one. */
static size_t make_block(uint8_t *out, uint32_t n, const uint8_t *const *streams,
			 const size_t *lens)
{
	uint8_t *p = out;
	uint64_t head[RS_COUNT + 2];

	head[0] = n;
	head[1] = RS_COUNT;
	for (int i = 0; i < RS_COUNT; i++)
		head[i + 2] = lens[i];
	for (int i = 0; i < RS_COUNT + 2; i++) {
		uint64_t v = head[i];

		while (v >= 0x80) {
			*p++ = (uint8_t)(v | 0x80);
			v >>= 7;
		}
		*p++ = (uint8_t)v;
	}
	for (int i = 0; i < RS_COUNT; i++) {
		memcpy(p, streams[i], lens[i]);
		p += lens[i];
	}
	return (size_t)(p - out);
}

/* Split a block from the encoder into its streams (pointers into it). */
static void split_block(const uint8_t *b, const uint8_t **streams, size_t *lens)
{
	const uint8_t *p = b;
	uint64_t v[RS_COUNT + 2];

	for (int i = 0; i < RS_COUNT + 2; i++) {
		v[i] = 0;
		for (int sh = 0;; sh += 7) {
			v[i] |= (uint64_t)(*p & 0x7f) << sh;
			if (!(*p++ & 0x80))
				break;
		}
	}
	for (int i = 0; i < RS_COUNT; i++) {
		lens[i] = v[i + 2];
		streams[i] = p;
		p += lens[i];
	}
}

/* One record as a block: every stream cut short by every amount, or
 * given a byte too many, is refused with a reason, never misread; every
 * cut of the block's bytes is refused at once. */
static void test_cut_records(void **state)
{
	(void)state;
	struct rec_enc *e = malloc(sizeof(*e));
	struct rec_dec *d = malloc(sizeof(*d));
	uint8_t *blk = malloc(8192), *mod = malloc(8192);
	uint64_t s = 7;

	assert_non_null(e);
	assert_non_null(d);
	assert_non_null(blk);
	assert_non_null(mod);
	for (int i = 0; i < 2000; i++) {
		struct rec r, back;
		const char *why = NULL;
		const uint8_t *data, *streams[RS_COUNT];
		size_t len, lens[RS_COUNT];

		random_rec(&s, &r);
		rec_enc_init(e);
		assert_int_equal(rec_enc_add(e, &r), 0);
		assert_int_equal(rec_enc_take(e, &data, &len), 0);
		assert_true(len < 8192);
		memcpy(blk, data, len);
		rec_enc_free(e);
		assert_int_equal(rec_dec_open(d, blk, len, &why), 0);
		assert_int_equal(rec_dec_next(d, &back, &why), 1);
		assert_memory_equal(&back, &r, sizeof(r));
		assert_int_equal(rec_dec_next(d, &back, &why), 0);
		for (size_t cut = 0; cut < len; cut++)
			assert_int_equal(rec_dec_open(d, blk, cut, &why), -1);
		split_block(blk, streams, lens);
		for (int k = 0; k < RS_COUNT; k++) {
			size_t keep = lens[k];

			for (size_t c = 0; c < keep; c++) {
				lens[k] = c;
				size_t n = make_block(mod, 1, streams, lens);

				why = NULL;
				assert_int_equal(rec_dec_open(d, mod, n, &why), 0);
				assert_int_equal(rec_dec_next(d, &back, &why), -1);
				assert_non_null(why);
			}
			/* A byte too many in stream k (a copy of the block with
			 * stream k one byte longer, the byte 0). */
			uint8_t more[REC_MAX + 1] = { 0 };

			memcpy(more, streams[k], keep);
			const uint8_t *saved = streams[k];

			streams[k] = more;
			lens[k] = keep + 1;
			size_t n = make_block(mod, 1, streams, lens);

			streams[k] = saved;
			lens[k] = keep;
			assert_int_equal(rec_dec_open(d, mod, n, &why), 0);
			int ret = rec_dec_next(d, &back, &why);

			if (ret == 1) /* read the same, then the byte is left over */
				ret = rec_dec_next(d, &back, &why);
			assert_int_equal(ret, -1);
		}
	}
	free(e);
	free(d);
	free(blk);
	free(mod);
}

/* A name index the block never defined, a number of 11 bytes, a string
 * longer than a comm, a type this version does not know: refused with a
 * reason. */
static void test_damaged(void **state)
{
	(void)state;
	struct rec_dec *d = malloc(sizeof(*d));
	struct rec out;
	const char *why = NULL;
	uint8_t blk[256];
	const uint8_t zeros[16] = { 0 }, fork[] = { ZM_EV_FORK + 1 }, exit_[] = { ZM_EV_EXIT + 1 };
	const uint8_t idx5[] = { 5, 1 }, longnum[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						       0xff, 0xff, 0xff, 0x7f };
	const uint8_t lit[] = { 0, 0 }, longstr[] = { 30, 'x' }, unknown[] = { 99 + 1 };
	const uint8_t *st[RS_COUNT];
	size_t ln[RS_COUNT];

	assert_non_null(d);
	/* every stream of zeros (types are stored + 1), enough for one FORK but its name */
	for (int i = 0; i < RS_COUNT; i++) {
		st[i] = zeros;
		ln[i] = 1;
	}
	st[RS_TYPE] = fork;
	st[RS_NAME] = idx5;
	ln[RS_NAME] = 2;
	ln[RS_STR] = 0;
	assert_int_equal(rec_dec_open(d, blk, make_block(blk, 1, st, ln), &why), 0);
	assert_int_equal(rec_dec_next(d, &out, &why), -1);
	assert_string_equal(why, "unknown name index");

	st[RS_TYPE] = exit_;
	st[RS_TS] = longnum;
	ln[RS_TS] = sizeof(longnum);
	assert_int_equal(rec_dec_open(d, blk, make_block(blk, 1, st, ln), &why), 0);
	assert_int_equal(rec_dec_next(d, &out, &why), -1);
	assert_string_equal(why, "number too long");

	st[RS_TS] = zeros;
	ln[RS_TS] = 1;
	st[RS_NAME] = lit;
	st[RS_STR] = longstr;
	ln[RS_STR] = 2;
	assert_int_equal(rec_dec_open(d, blk, make_block(blk, 1, st, ln), &why), 0);
	assert_int_equal(rec_dec_next(d, &out, &why), -1);
	assert_string_equal(why, "string too long");

	st[RS_TYPE] = unknown;
	assert_int_equal(rec_dec_open(d, blk, make_block(blk, 1, st, ln), &why), 0);
	assert_int_equal(rec_dec_next(d, &out, &why), -1);
	assert_string_equal(why, "unknown record type");
	free(d);
}

/* More distinct names than a block's table holds: the ones past it are
 * written out each time, and all read back. */
static void test_name_table_full(void **state)
{
	(void)state;
	struct rec_enc *e = malloc(sizeof(*e));
	struct rec_dec *d = malloc(sizeof(*d));
	const uint8_t *data;
	size_t len;
	const char *why;

	assert_non_null(e);
	assert_non_null(d);
	rec_enc_init(e);
	for (int i = 0; i < 3 * REC_NAMES; i++) {
		struct rec r = { .type = ZM_EV_EXEC };

		r.ev.type = ZM_EV_EXEC;
		r.ev.pid = (uint32_t)i;
		snprintf(r.ev.comm, ZM_COMM_LEN, "n%d", i % (2 * REC_NAMES));
		snprintf(r.ev.pcomm, ZM_COMM_LEN, "parent");
		assert_int_equal(rec_enc_add(e, &r), 0);
	}
	assert_int_equal(rec_enc_take(e, &data, &len), 0);
	assert_int_equal(rec_dec_open(d, data, len, &why), 0);
	for (int i = 0; i < 3 * REC_NAMES; i++) {
		struct rec back;
		char want[ZM_COMM_LEN] = { 0 };

		assert_int_equal(rec_dec_next(d, &back, &why), 1);
		snprintf(want, ZM_COMM_LEN, "n%d", i % (2 * REC_NAMES));
		assert_memory_equal(back.ev.comm, want, ZM_COMM_LEN);
		assert_int_equal(back.ev.pid, i);
	}
	assert_int_equal(rec_dec_next(d, &(struct rec){ 0 }, &why), 0);
	rec_enc_free(e);
	free(e);
	free(d);
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
