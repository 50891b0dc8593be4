/* Writes the fuzzers' seed corpora:
 *   build/fuzz_seeds DIR [RECDIR]
 * DIR gets real captures: framing-only ones (arbitrary payloads, for
 * fuzz_capture) and ones of real records written with the recorder, so
 * that the fuzzers start from valid encodings of every record type. RECDIR
 * (fuzz_report's own seeds) gets what those captures' chunks hold, as bare
 * streams of the capture's records, (u8 type, varint len, bytes)* with a
 * type 0 where a chunk ends: the form fuzz_report packs into a capture
 * itself (see fuzz_report.c). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "recorder.h"
#include "records.h"

static int one(const char *dir, const char *name, int records, int per_chunk)
{
	char path[512], err[256];
	struct cap_header h;
	struct cap_writer *w;

	memset(&h, 0, sizeof(h));
	strcpy(h.host, "seed");
	strcpy(h.kernel, "6.18");
	strcpy(h.options, "zmtrace record -o seed");
	h.abi = 1;
	h.page_size = 4096;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (cap_create(&w, path, &h, err, sizeof(err))) {
		fprintf(stderr, "fuzz_seeds: %s\n", err);
		return 1;
	}
	for (int i = 0; i < records; i++) {
		unsigned char b[64];

		for (size_t k = 0; k < sizeof(b); k++)
			b[k] = (unsigned char)(i + k);
		if (cap_append(w, (unsigned char)(i % 5), b, (size_t)(i % 64), err, sizeof(err)) ||
		    ((i + 1) % per_chunk == 0 && cap_flush(w, err, sizeof(err)))) {
			fprintf(stderr, "fuzz_seeds: %s\n", err);
			return 1;
		}
	}
	return cap_close(w, err, sizeof(err)) != 0;
}

/* ------------------------------------------------------------ records */

/* A growing list of records. */
struct recs {
	struct rec *v;
	size_t n, cap;
	unsigned long long ts; /* the next record's time */
	int nomem;
};

static struct rec *add(struct recs *rs, unsigned char type)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 64;
		struct rec *v = realloc(rs->v, cap * sizeof(*v));

		if (!v) {
			rs->nomem = 1;
			return NULL;
		}
		rs->v = v;
		rs->cap = cap;
	}
	struct rec *r = &rs->v[rs->n++];

	memset(r, 0, sizeof(*r));
	r->type = type;
	rs->ts += 10000 + 7919 * (rs->n % 13); /* uneven steps, as real ones */
	return r;
}

static void name(char dst[ZM_COMM_LEN], const char *s)
{
	memset(dst, 0, ZM_COMM_LEN);
	strncpy(dst, s, ZM_COMM_LEN - 1);
}

/* A lifecycle event; start: the subject's start, pstart: its parent's. */
static void ev(struct recs *rs, unsigned type, unsigned pid, unsigned ppid,
	       unsigned long long start, unsigned long long aux, unsigned other, unsigned code,
	       unsigned flags, const char *comm, const char *pcomm)
{
	struct rec *r = add(rs, (unsigned char)type);

	if (!r)
		return;
	r->ev.ts_ns = rs->ts;
	r->ev.type = type;
	r->ev.pid = pid;
	r->ev.ppid = ppid;
	r->ev.start_ns = start;
	r->ev.aux_ns = aux;
	r->ev.other_pid = other;
	r->ev.code = code;
	r->ev.flags = flags;
	name(r->ev.comm, comm);
	name(r->ev.pcomm, pcomm);
}

static void mem(struct recs *rs, unsigned type, unsigned pid, const char *comm,
		unsigned long long anon, unsigned flags)
{
	struct rec *r = add(rs, (unsigned char)type);

	if (!r)
		return;
	r->mem.ts_ns = rs->ts;
	r->mem.type = type;
	r->mem.pid = pid;
	r->mem.anon_kb = anon;
	r->mem.file_kb = 4096;
	r->mem.shmem_kb = 128;
	r->mem.swap_kb = flags & ZM_M_REMOTE ? 2048 : 0;
	r->mem.vsize_kb = anon + 65536;
	r->mem.flags = flags;
	if (flags & ZM_M_REMOTE)
		r->mem.actor = 77;
	if (flags & ZM_M_EXIT || type == ZM_EV_OOM) {
		r->mem.peak_rss_kb = anon + 8192;
		r->mem.peak_vm_kb = anon + 70000;
	}
	name(r->mem.comm, comm);
}

static void sys(struct recs *rs, unsigned long long swap_used)
{
	struct rec *r = add(rs, REC_SYSMEM);

	if (!r)
		return;
	r->sys.ts_ns = rs->ts;
	r->sys.total_kb = 8ull << 20;
	r->sys.free_kb = 1ull << 20;
	r->sys.used_kb = 7ull << 20;
	r->sys.buffers_kb = 100000;
	r->sys.cached_kb = 2ull << 20;
	r->sys.app_kb = r->sys.used_kb - r->sys.buffers_kb - r->sys.cached_kb;
	r->sys.swap_total_kb = 1ull << 20;
	r->sys.swap_used_kb = swap_used;
}

static void drops(struct recs *rs, unsigned char type, unsigned long long ringbuf)
{
	struct rec *r = add(rs, type);

	if (!r)
		return;
	r->drops.ts_ns = rs->ts;
	r->drops.ringbuf = ringbuf;
	r->drops.tracked = ringbuf / 2;
}

/*
 * A short session that has every record type and the cases the model
 * tells apart: processes and a zombie there at the start, a full
 * lifecycle, an autoreap, a reap by a subreaper, a reap seen only at free,
 * a reap whose exit was lost, a pre-existing zombie's reap, a zombie gone
 * without a reap, an OOM kill, a remote change, a process that grows
 * steadily, names that need escaping, drops and the end. ended: with END.
 */
static void session(struct recs *rs, int ended)
{
	const unsigned long long t0 = 5000000000ull;
	struct rec *r;

	rs->ts = t0;
	r = add(rs, REC_START);
	if (!r)
		return;
	r->start.ts_ns = rs->ts;
	r->start.self_pid = 900;
	r->start.flags = REC_S_EXACT_REAPS;
	r->start.threshold = 1 << 20;
	r->start.interval_ns = 1000000000ull;
	strcpy(r->start.rss_path, "linear");
	strcpy(r->start.what, "all processes");

	/* There at the start: init, a shell without figures, a zombie. */
	r = add(rs, REC_PROC);
	if (!r)
		return;
	r->proc.ppid = 0;
	r->proc.start_ns = 1000000;
	r->proc.state = 'S';
	r->proc.has_mem = 1;
	r->proc.mem.ts_ns = rs->ts;
	r->proc.mem.type = ZM_EV_RSS;
	r->proc.mem.pid = 1;
	r->proc.mem.anon_kb = 8000;
	r->proc.mem.file_kb = 4000;
	r->proc.mem.vsize_kb = 160000;
	name(r->proc.mem.comm, "systemd");
	r = add(rs, REC_PROC);
	if (!r)
		return;
	r->proc.ppid = 1;
	r->proc.start_ns = 2000000000ull;
	r->proc.state = 'Z';
	r->proc.mem.ts_ns = rs->ts;
	r->proc.mem.pid = 100;
	name(r->proc.mem.comm, "kworker/0:1");
	r = add(rs, REC_ZOMBIE);
	if (!r)
		return;
	r->zombie.pid = 101;
	r->zombie.ppid = 1;
	r->zombie.start_ns = 3000000000ull;
	r->zombie.pstart_ns = 1000000;
	r->zombie.exit_ns = rs->ts;
	r->zombie.preexisting = 1;
	name(r->zombie.comm, "old-zombie");
	name(r->zombie.pcomm, "systemd");
	sys(rs, 1000);

	/* A full life: fork, exec, memory, exit, reap by wait4. */
	unsigned long long ps = 4000000000ull, s = rs->ts + 1;

	ev(rs, ZM_EV_FORK, 200, 150, s, ps, 150, 0, 0, "bash", "bash");
	ev(rs, ZM_EV_EXEC, 200, 150, s, ps, 200, 0, 0, "worker,\"x\"", "bash");
	mem(rs, ZM_EV_RSS, 200, "worker,\"x\"", 1024, ZM_M_EXEC | ZM_M_FIRST | ZM_M_EXACT);
	mem(rs, ZM_EV_RSS, 200, "worker,\"x\"", 2048, ZM_M_EXACT);
	mem(rs, ZM_EV_RSS, 200, "worker,\"x\"", 1024, ZM_M_REMOTE);
	mem(rs, ZM_EV_RSS, 200, "worker,\"x\"", 3072, ZM_M_EXIT | ZM_M_EXACT);
	ev(rs, ZM_EV_EXIT, 200, 150, s, ps, 200, 1 << 8, 0, "worker,\"x\"", "bash");
	unsigned long long exit200 = rs->ts;

	ev(rs, ZM_EV_REAP, 200, 150, s, exit200, 150, ZM_VIA_WAIT4, 0, "worker,\"x\"", "bash");

	/* An autoreap, a core dump, and a leak: the parent dies, a subreaper
	 * reaps by waitid, another reap seen only at free. */
	s = rs->ts;
	ev(rs, ZM_EV_FORK, 201, 150, s, ps, 150, 0, 0, "bash", "bash");
	ev(rs, ZM_EV_EXIT, 201, 150, s, ps, 201, 0, ZM_F_AUTOREAP, "bash", "bash");
	s = rs->ts;
	ev(rs, ZM_EV_FORK, 300, 250, s, ps, 250, 0, 0, "leaker", "leaker");
	ev(rs, ZM_EV_FORK, 301, 300, s + 1, s, 300, 0, 0, "leaker", "leaker");
	ev(rs, ZM_EV_FORK, 302, 300, s + 2, s, 300, 0, 0, "leaker", "leaker");
	ev(rs, ZM_EV_EXIT, 301, 300, s + 1, s, 301, 11 | 0x80, ZM_F_CORE, "child\t1", "leaker");
	unsigned long long exit301 = rs->ts;

	ev(rs, ZM_EV_EXIT, 302, 300, s + 2, s, 302, 0, ZM_F_THREAD_LAST, "child2", "leaker");
	unsigned long long exit302 = rs->ts;

	ev(rs, ZM_EV_EXIT, 300, 250, s, ps, 300, 0, 0, "leaker", "sub");
	ev(rs, ZM_EV_REAP, 300, 250, s, rs->ts, 250, ZM_VIA_WAIT4, 0, "leaker", "sub");
	ev(rs, ZM_EV_REAP, 301, 300, s + 1, exit301, 250, ZM_VIA_WAITID, 0, "child\t1", "sub");
	ev(rs, ZM_EV_REAP, 302, 300, s + 2, exit302, 1, ZM_VIA_FREE, 0, "child2", "systemd");

	/* A reap whose exit was lost; the pre-existing zombie reaped; a
	 * zombie gone without its reap. */
	ev(rs, ZM_EV_REAP, 400, 1, 3500000000ull, rs->ts - 5000, 1, ZM_VIA_WAIT4, 0, "lost-exit",
	   "systemd");
	ev(rs, ZM_EV_REAP, 101, 1, 3000000000ull, 0, 1, ZM_VIA_WAIT4, ZM_F_PREEXISTING,
	   "old-zombie", "systemd");
	s = rs->ts;
	ev(rs, ZM_EV_FORK, 500, 1, s, 1000000, 1, 0, 0, "systemd", "systemd");
	ev(rs, ZM_EV_EXIT, 500, 1, s, 1000000, 500, 0, 0, "gone", "systemd");
	r = add(rs, REC_GONE);
	if (!r)
		return;
	r->hdr.ts_ns = rs->ts;
	r->hdr.type = REC_GONE;
	r->hdr.pid = 500;
	drops(rs, REC_DROPS, 3);

	/* A steady grower over 20 s (a leak suspect), system samples, an
	 * OOM kill. */
	for (int i = 0; i < 24; i++) {
		rs->ts += 1000000000ull;
		mem(rs, ZM_EV_RSS, 600, "grower", 10000 + 1024ull * (unsigned)i,
		    (i ? 0 : ZM_M_FIRST) | ZM_M_EXACT);
		if (i % 4 == 0)
			sys(rs, 1000 + 4096ull * (unsigned)i);
	}
	mem(rs, ZM_EV_OOM, 600, "grower", 40000, ZM_M_EXACT);
	if (ended)
		drops(rs, REC_END, 3);
}

/*
 * Many processes and names: more command names than a chunk's table holds
 * (REC_NAMES) and pids that share the decoder's slots (pid % REC_PID_SLOTS),
 * so that the table's overflow and the slots' eviction are in the seeds.
 */
static void busy(struct recs *rs)
{
	const unsigned long long ps = 1000000;

	rs->ts = 7000000000ull;
	for (unsigned i = 0; i < REC_NAMES + 40 && !rs->nomem; i++) {
		/* Every other pid shares a slot with pid 1000. */
		unsigned pid = 1000 + (i % 2 ? REC_PID_SLOTS * i : i);
		unsigned long long s = rs->ts;
		char comm[ZM_COMM_LEN];

		snprintf(comm, sizeof(comm), "job-%u", i);
		/* A name each (an exec is the shortest record with one);
		 * every 16th a whole life, to keep the seed small. */
		ev(rs, ZM_EV_EXEC, pid, 1, s, ps, pid, 0, 0, comm, "systemd");
		if (i % 16)
			continue;
		mem(rs, ZM_EV_RSS, pid, comm, 512 + i, ZM_M_EXEC | ZM_M_EXACT);
		mem(rs, ZM_EV_RSS, pid, comm, 1536 + i, ZM_M_EXIT | ZM_M_EXACT);
		ev(rs, ZM_EV_EXIT, pid, 1, s, ps, pid, 0, 0, comm, "systemd");
		if (i % 32)
			ev(rs, ZM_EV_REAP, pid, 1, s, rs->ts, 1, ZM_VIA_WAIT4, 0, comm, "systemd");
	}
	drops(rs, REC_END, 0);
}

/* The records as a capture, with the recorder; a chunk every per_chunk
 * records (0: only when the writer wants one). */
static int write_capture(const char *dir, const char *file, const struct recs *rs,
			 size_t per_chunk)
{
	char path[512];
	char *argv[] = { "zmtrace", "record", "-o", "seed", NULL };
	struct recorder *w;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (recorder_open(&w, path, 4, argv))
		return 1;
	for (size_t i = 0; i < rs->n; i++)
		if (recorder_put(w, &rs->v[i]) ||
		    (per_chunk && (i + 1) % per_chunk == 0 && recorder_flush(w)))
			break; /* recorder_close fails too, after saying why */
	return recorder_close(w) != 0;
}

/* A capture's records as a bare record stream for fuzz_report, a type 0
 * where each chunk ends. Read back from the capture rather than encoded
 * here, so that the streams hold whatever the recorder writes, however
 * records.c encodes records. */
static int write_stream(const char *dir, const char *capfile, const char *recdir,
			const char *file)
{
	char cap[512], path[512], err[256];
	struct cap_reader *r;
	struct cap_header h;

	snprintf(cap, sizeof(cap), "%s/%s", dir, capfile);
	snprintf(path, sizeof(path), "%s/%s", recdir, file);
	if (cap_open(&r, cap, &h, err, sizeof(err))) {
		fprintf(stderr, "fuzz_seeds: %s\n", err);
		return 1;
	}
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "fuzz_seeds: cannot create %s\n", path);
		cap_free(r);
		return 1;
	}
	uint8_t type;
	const void *data;
	size_t len;
	bool first = true;
	int ret;

	while ((ret = cap_next(r, &type, &data, &len)) == 1) {
		if (cap_chunk_first(r) && !first)
			fputc(0, f);
		first = false;
		fputc(type, f);
		for (size_t v = len;; v >>= 7) {
			fputc((int)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0)), f);
			if (v < 0x80)
				break;
		}
		fwrite(data, 1, len, f);
	}
	if (ret < 0)
		fprintf(stderr, "fuzz_seeds: %s: %s\n", cap, cap_stop(r, NULL));
	cap_free(r);
	if (ferror(f) | fclose(f)) {
		fprintf(stderr, "fuzz_seeds: cannot write %s\n", path);
		return 1;
	}
	return ret < 0;
}

static int records(const char *dir, const char *recdir)
{
	struct recs full = { 0 }, cut = { 0 }, many = { 0 };
	int ret = 0;

	session(&full, 1);
	session(&cut, 0);
	busy(&many);
	if (full.nomem || cut.nomem || many.nomem) {
		fprintf(stderr, "fuzz_seeds: out of memory\n");
		ret = 1;
	} else {
		ret |= write_capture(dir, "session.cap", &full, 0);
		ret |= write_capture(dir, "session-chunks.cap", &full, 7);
		ret |= write_capture(dir, "session-cut.cap", &cut, 0);
		ret |= write_capture(dir, "busy.cap", &many, 0);
		if (recdir) {
			static const char *const caps[] = {
				"session.cap", "session-chunks.cap", "session-cut.cap", "busy.cap",
			};

			for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
				char rec[64];

				snprintf(rec, sizeof(rec), "%.*s.rec", (int)strlen(caps[i]) - 4,
					 caps[i]);
				ret |= write_stream(dir, caps[i], recdir, rec);
			}
		}
	}
	free(full.v);
	free(cut.v);
	free(many.v);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: fuzz_seeds DIR [RECDIR]\n");
		return 2;
	}
	return one(argv[1], "empty.cap", 0, 1) | one(argv[1], "one.cap", 1, 1) |
	       one(argv[1], "chunks.cap", 30, 10) | records(argv[1], argc == 3 ? argv[2] : NULL);
}
