/*
 * The records of a capture (`zmtrace record`) and their compact encoding.
 *
 * The kernel's events keep their ABI type numbers (ZM_EV_FORK .. ZM_EV_OOM);
 * the collector adds what it learns in user space: the session's settings,
 * the processes and zombies there at the start, system memory samples, drop
 * counts and the end.
 *
 * Encoding: varints throughout; times and pids as zigzag differences from
 * the record before; a process's start and memory as differences from what
 * the block last said of that pid; command names as indexes into the
 * block's table of names; each kind of field in a stream of its own (see
 * REC_BLOCK). That state lives within one block, so every block (a chunk
 * of the file) decodes on its own.
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

/* Longest encoding of one record in any one stream. */
#define REC_MAX 512

#define REC_NAMES 1024	  /* command names remembered per block */
#define REC_TYPES 32	  /* record types are below this */
#define REC_PID_SLOTS 512 /* processes' start and figures remembered per block */

struct rec_names {
	char name[REC_NAMES][ZM_COMM_LEN];
	unsigned n;
	uint16_t hash[2 * REC_NAMES]; /* encoder: index + 1, 0 empty */
};

/* What the block said last of a pid (slot pid % REC_PID_SLOTS). */
struct rec_pidslot {
	uint32_t pid;
	bool has_start, has_kb;
	uint16_t name; /* its command's index + 1 in the names, 0: none */
	uint8_t type;  /* its last record's type, 0: none */
	uint64_t start;
	uint64_t kb[5]; /* anon, file, shmem, swap, vsize */
};

/* The state that makes records differences from earlier ones: encoder and
 * decoder keep the same, and both start it afresh with each block. */
struct rec_state {
	uint64_t ts, pstart;
	uint32_t pid, ppid;
	uint64_t kb[5]; /* the last memory figures of any pid */
	uint8_t after[REC_TYPES]; /* the type that last followed each type */
	struct rec_names names;
	struct rec_pidslot slot[REC_PID_SLOTS];
};

/*
 * A block of records, stored as one record of the capture (type
 * REC_BLOCK) in a chunk of its own. Each field of a record goes to the
 * stream of its kind: times with times, pids with pids, memory figures
 * with figures... so that zlib, which adapts its codes block by block,
 * codes each kind by its own statistics (a busy host's events take a third
 * less room than with records laid end to end).
 *
 *   block := varint records, varint streams, varint length (per stream),
 *            the streams' bytes, one after the other
 *
 * A decoder ignores streams past the ones it knows (a later version's).
 */
#define REC_BLOCK 0x42

enum rec_stream {
	RS_TYPE,  /* record types, most often guessed (0) */
	RS_TS,	  /* times */
	RS_PID,	  /* pids */
	RS_START, /* start times */
	RS_AUX,	  /* the parent's start; a reap's exit time */
	RS_PPID,  /* parents */
	RS_OTHER, /* other pids: old tid, reaper, actor */
	RS_CODE,  /* wait status, reap mode */
	RS_FLAGS, /* event flags */
	RS_NAME,  /* command names: an index, or 0 and the name in RS_STR */
	RS_STR,	  /* strings */
	RS_MFLAGS, /* memory events' flags */
	RS_ANON,
	RS_FILE,
	RS_SHMEM,
	RS_SWAP,
	RS_VSIZE,
	RS_PEAK,  /* peaks */
	RS_MISC,  /* the rest: session, system samples, counters */
	RS_COUNT
};

struct rec_buf {
	uint8_t *p;
	size_t len, cap;
};

struct rec_enc {
	struct rec_state st;
	struct rec_buf s[RS_COUNT];
	struct rec_buf out; /* the block, as rec_enc_take() gives it */
	uint32_t n;	    /* records in the block */
};

/* An empty block (nothing allocated until the first record). */
void rec_enc_init(struct rec_enc *e);
void rec_enc_free(struct rec_enc *e);
/* Add a record to the block: 0 or -ENOMEM. */
int rec_enc_add(struct rec_enc *e, const struct rec *r);
/* The block's size so far, in bytes, and its records. */
size_t rec_enc_bytes(const struct rec_enc *e);
/* The block, valid until the next call; the next record starts a new one.
 * 0 or -ENOMEM. */
int rec_enc_take(struct rec_enc *e, const uint8_t **data, size_t *len);

struct rec_dec {
	struct rec_state st;
	const uint8_t *p[RS_COUNT], *end[RS_COUNT];
	uint32_t n, done;
};

/* Start reading a block: 0, or -1 (*why: a static reason). */
int rec_dec_open(struct rec_dec *d, const uint8_t *data, size_t len, const char **why);
/* The next record: 1, 0 after the last (every stream read to its end), or
 * -1 when the block is damaged (*why). */
int rec_dec_next(struct rec_dec *d, struct rec *out, const char **why);

#endif
