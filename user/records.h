/*
 * The records of a capture (`zmtrace record`) and their compact encoding.
 *
 * The kernel's events keep their ABI type numbers (ZM_EV_FORK .. ZM_EV_OOM);
 * the collector adds what it learns in user space: the session's settings,
 * the processes and zombies there at the start, system memory samples, drop
 * counts and the end.
 *
 * Encoding: varints throughout; times and pids as zigzag deltas from the
 * record before; a process's memory as deltas from its previous figures;
 * command names as indexes into a table of the names seen before. That state
 * lives within one chunk (rec_enc_reset / rec_dec_reset at each chunk's
 * first record), so every chunk decodes on its own. Fields are appended at
 * the end of a record in later versions: a decoder ignores trailing bytes.
 */
#ifndef ZM_RECORDS_H
#define ZM_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sysmem.h"
#include "zmtrace.h"
#include "zstate.h"

enum rec_type {
	/* 1..6: the kernel's events, enum zm_event_type */
	REC_START = 16,	 /* struct rec_start: the session */
	REC_PROC = 17,	 /* struct rec_proc: a process there at the start */
	REC_ZOMBIE = 18, /* struct zs_zombie: a zombie there at the start */
	REC_SYSMEM = 19, /* struct sysmem: /proc/meminfo */
	REC_DROPS = 20,	 /* struct rec_drops: the kernel's drop counters */
	REC_END = 21,	 /* struct rec_drops: the recording ended cleanly */
	REC_GONE = 22,	 /* hdr (ts_ns, pid): a zombie gone at the end without a
			    reap seen (its event lost): no longer unreaped */
};

/* rec_start.flags */
#define REC_S_EXACT_REAPS (1u << 0) /* wait syscalls traced */
#define REC_S_COMMAND (1u << 1)	    /* -- COMMAND: the first child of self_pid */

struct rec_start {
	uint64_t ts_ns;
	uint32_t self_pid; /* the recorder: its own children are not news */
	uint32_t flags;
	uint64_t threshold; /* bytes of RSS change per event */
	uint64_t interval_ns; /* between system memory samples */
	uint32_t sample_hz;
	char rss_path[16]; /* tracer_rss_path() */
	char what[192];	   /* "all processes", "pid 42 and its descendants", ... */
};

struct rec_proc {
	uint32_t ppid;
	uint64_t start_ns;
	char state; /* as /proc shows it: R, S, D, Z, ... */
	bool has_mem; /* mem's figures were read (not a kernel thread) */
	struct zm_mem_event mem; /* ts_ns, pid, comm always; figures if has_mem */
};

struct rec_drops {
	uint64_t ts_ns;
	uint64_t ringbuf; /* events the kernel could not send, since the start */
	uint64_t tracked; /* processes the kernel's maps had no room for */
};

struct rec {
	uint8_t type;
	union {
		struct zm_hdr hdr; /* types 1..6, GONE */
		struct zm_event ev;	 /* FORK, EXEC, EXIT, REAP */
		struct zm_mem_event mem; /* RSS, OOM */
		struct rec_start start;
		struct rec_proc proc;
		struct zs_zombie zombie;
		struct sysmem sys;
		struct rec_drops drops; /* DROPS, END */
	};
};

/* The time of any record (START: its ts_ns; PROC: when read). */
uint64_t rec_ts(const struct rec *r);

/* Longest encoding of one record. */
#define REC_MAX 512

#define REC_NAMES 1024	/* command names remembered per chunk */
#define REC_PID_SLOTS 512 /* processes' start and figures remembered per chunk */

struct rec_names {
	char name[REC_NAMES][ZM_COMM_LEN];
	unsigned n;
	uint16_t hash[2 * REC_NAMES]; /* encoder: index + 1, 0 empty */
};

/* What the chunk said last of a pid (slot pid % REC_PID_SLOTS). */
struct rec_pidslot {
	uint32_t pid;
	bool has_start, has_kb;
	uint64_t start;
	uint64_t kb[5]; /* anon, file, shmem, swap, vsize */
};

struct rec_state {
	uint64_t ts, pstart;
	uint32_t pid, ppid;
	struct rec_names names;
	struct rec_pidslot slot[REC_PID_SLOTS];
};

/* Encoder and decoder share one state shape (about 60 KiB: allocate it). */
void rec_reset(struct rec_state *st);

/* Encode r into buf (REC_MAX bytes); returns the length. The caller stores
 * r->type beside it (the capture's record type). */
size_t rec_encode(struct rec_state *st, const struct rec *r, uint8_t *buf);

/*
 * Decode a record of this type. 1 when decoded, 0 for a type this version
 * does not know (skip it), -1 when damaged (*why: a static reason).
 */
int rec_decode(struct rec_state *st, uint8_t type, const uint8_t *p, size_t len, struct rec *out,
	       const char **why);

#endif
