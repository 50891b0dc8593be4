/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * zmtrace event ABI: the one header shared by the BPF programs (bpf/) and the
 * collector (user/). Every record that crosses the ring buffer is a
 * struct zm_event; fields are fixed-size and naturally aligned so that both
 * compilers lay it out the same way. Bump ZM_ABI_VERSION on any change.
 */
#ifndef ZMTRACE_H
#define ZMTRACE_H

#define ZM_ABI_VERSION 1
#define ZM_COMM_LEN 16

/* What happened. Values are part of the ABI (captures store them). */
enum zm_event_type {
	ZM_EV_FORK = 1, /* a new process (not a thread): pid, ppid, comm */
	ZM_EV_EXEC = 2, /* pid ran exec; comm is the new command name */
	ZM_EV_EXIT = 3, /* the last thread of pid died: it is a zombie now,
			   or (ZM_F_AUTOREAP) it is released at once */
	ZM_EV_REAP = 4, /* a zombie was reaped (see zm_reap_via) */
	ZM_EV_RSS = 5,	/* struct zm_mem_event: a process's memory moved */
	ZM_EV_OOM = 6,	/* struct zm_mem_event: the OOM killer chose pid */
	ZM_EV_TYPES
};

/* Every record starts with this: dispatch on type. */
struct zm_hdr {
	unsigned long long ts_ns;
	unsigned int type;
	unsigned int pid;
};

/* ZM_EV_REAP: how the reap was seen. */
enum zm_reap_via {
	ZM_VIA_WAIT4 = 1,  /* wait4() returned its pid: exact time */
	ZM_VIA_WAITID = 2, /* waitid() filled its pid in: exact time */
	ZM_VIA_FREE = 3,   /* sched_process_free, no wait syscall saw it
			      (io_uring waitid, kernel autoreap after
			      reparenting, a lost event): an upper bound */
};

/* zm_event.flags */
#define ZM_F_AUTOREAP (1u << 0)	   /* EXIT: parent ignores SIGCHLD or has
				      SA_NOCLDWAIT: never a zombie */
#define ZM_F_CORE (1u << 1)	   /* EXIT: core dumped */
#define ZM_F_PREEXISTING (1u << 2) /* REAP: zombie was there before tracing */
#define ZM_F_THREAD_LAST (1u << 3) /* EXIT: the group leader died first, a
				      later thread ended the group */
#define ZM_F_PENDING (1u << 4)	   /* watched: exited, parent not notified yet
				      (the zombie starts at the notification) */
#define ZM_F_TRACED (1u << 5)	   /* watched: ptraced at exit: a tracer's wait
				      that is not the parent's is no reap */

/* Lost-event counters: index into the per-CPU "drops" array. */
enum zm_drop_kind {
	ZM_DROP_RINGBUF = 0, /* ring buffer full: an event was not sent */
	ZM_DROP_TRACKED = 1, /* watched/followed map full: a process untracked */
	ZM_DROP_KINDS
};

/*
 * One event. pid is always a thread-group id (a "process"), as user space
 * sees it. ts_ns is CLOCK_BOOTTIME. start_ns is the subject process's
 * start_boottime: (pid, start_ns) names a process uniquely even when the pid
 * is reused.
 *
 *            pid        ppid                  other_pid     comm / pcomm
 *  FORK      child      parent                -             child / parent
 *  EXEC      process    parent                old tid       new comm / parent
 *  EXIT      process    parent at exit        exiting tid   process / parent
 *  REAP      zombie     parent at exit        reaper tgid   zombie / reaper
 *
 * EXIT.code is the wait status (as waitpid() would return it);
 * REAP.code is a zm_reap_via.
 */
struct zm_event {
	unsigned long long ts_ns;
	unsigned int type;
	unsigned int pid;
	unsigned long long start_ns;
	unsigned long long aux_ns; /* FORK/EXEC/EXIT: the parent's start_ns;
				      REAP: when the zombie exited (0 unknown) */
	unsigned int ppid;
	unsigned int other_pid;
	unsigned int code;
	unsigned int flags;
	char comm[ZM_COMM_LEN];
	char pcomm[ZM_COMM_LEN];
};

/* zm_mem_event.flags */
#define ZM_M_EXEC (1u << 0)   /* at exec: the new image's first figures */
#define ZM_M_EXIT (1u << 1)   /* at exit: the final figures, and the peaks */
#define ZM_M_SAMPLE (1u << 2) /* from --sample, not from rss_stat */
#define ZM_M_REMOTE (1u << 3) /* changed by another task (reclaim, swap-out,
				 process_madvise): actor is that task's tgid */
#define ZM_M_FIRST (1u << 4)  /* first figures seen for this mm since tracing
				 (or since its slot was taken by another mm) */
#define ZM_M_EXACT (1u << 5)  /* the counters' exact sums, as /proc reports
				 them; else the kernel's shared counts, which
				 lag by up to a batch (32+ pages) per CPU */

/*
 * Markers in the rss_stat programs' instructions that user space replaces,
 * before load, with this machine's per-CPU layout (user/percpu.c): CPU n's
 * offset is BASE + n * STEP, or with up to four pieces (NUMA groups),
 * BASE_k + n * STEP for the last piece k whose first CPU START_k <= n.
 * Constants in the instructions cost nothing; the same numbers read from a
 * map would cost a TLB miss on every page fault.
 */
#define ZM_PATCH_CPU_BASE 0x7a6d5f6370755f61  /* "zm_cpu_a" */
#define ZM_PATCH_CPU_STEP 0x7a6d5f6370755f73  /* "zm_cpu_s" */
#define ZM_PATCH_CPU_BASE1 0x7a6d5f6370753161 /* "zm_cpu1a" */
#define ZM_PATCH_CPU_BASE2 0x7a6d5f6370753261 /* "zm_cpu2a" */
#define ZM_PATCH_CPU_BASE3 0x7a6d5f6370753361 /* "zm_cpu3a" */
#define ZM_PATCH_CPU_START1 0x7a6d5f6370753173 /* "zm_cpu1s" */
#define ZM_PATCH_CPU_START2 0x7a6d5f6370753273 /* "zm_cpu2s" */
#define ZM_PATCH_CPU_START3 0x7a6d5f6370753373 /* "zm_cpu3s" */
#define ZM_CPU_PIECES 4

/*
 * ZM_EV_RSS and ZM_EV_OOM: a process's memory (in KiB), charged to the
 * process that owns the mm (mm->owner), whoever changed it. RSS = anon +
 * file + shmem. Sent when resident memory or swap moved by the threshold
 * since the last event for that mm, and at exec and exit.
 */
struct zm_mem_event {
	unsigned long long ts_ns;
	unsigned int type;
	unsigned int pid;
	unsigned long long anon_kb, file_kb, shmem_kb, swap_kb, vsize_kb;
	unsigned long long peak_rss_kb, peak_vm_kb; /* ZM_M_EXIT and OOM only */
	unsigned int actor; /* ZM_M_REMOTE: the tgid that made the change */
	unsigned int flags;
	char comm[ZM_COMM_LEN];
};

/* Value of the BPF "watched" map, key = zombie pid: a zombie whose reap is
 * awaited. User space seeds it with zombies found in /proc at start. */
struct zm_zombie {
	unsigned long long start_ns; /* ZM_F_PREEXISTING: only to 1/USER_HZ */
	unsigned long long exit_ns;  /* 0 when unknown (pre-existing) */
	unsigned int ppid;
	unsigned int flags;
	char comm[ZM_COMM_LEN];
};

/* Filter modes (rodata filter_mode). */
enum zm_filter {
	ZM_FILTER_NONE = 0,
	ZM_FILTER_FOLLOW = 1, /* processes in the "followed" map and their
				 descendants, added as they fork */
	ZM_FILTER_COMM = 2,   /* a process named filter_comm, or whose parent
				 is */
};

#endif /* ZMTRACE_H */
