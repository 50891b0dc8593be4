// SPDX-License-Identifier: GPL-2.0
/*
 * Synthetic load for the capture benchmark (tools/capture_load.c,
 * tools/bench-capture.sh): each run of this program (BPF_PROG_TEST_RUN)
 * puts a batch of events into zmtrace's own ring buffer, which the real
 * collector then reads. No workload on the benchmark machine reaches
 * 100,000 events/s (a fork + exit costs ~700 us there), so the events are
 * made up, but they are made up to look like a busy host's: processes fork
 * from a few long-lived parents with pids counting up as real pids do,
 * exec, move their memory in 1 MiB steps, exit and are reaped, several at a
 * time, interleaved. What a capture writer compresses, and what the
 * collector's per-process state costs, depends on that, so it matters.
 *
 * Per process (with the default of 5 memory events):
 *   FORK, RSS (ZM_M_EXEC), EXEC, RSS, RSS, RSS, RSS (ZM_M_EXIT), EXIT, REAP
 * in the order zmtrace's kernel side sends them (the exec's figures come
 * from its exec handler before the EXEC event; the exit's figures before
 * the EXIT). All memory events carry ZM_M_EXACT, as on a kernel where
 * zmtrace sums the per-CPU counters.
 *
 * Times are CLOCK_BOOTTIME (bpf_ktime_get_boot_ns), as the real events'.
 * A run sends its events within microseconds, then nothing until the next
 * run a millisecond later; a steady stream of 100,000 events/s has them
 * 10 us apart, and a capture's delta-encoded times take more room so. By
 * default (args->spread_ns) a run's events are therefore spread over the
 * time since the previous run, each at a random moment of its equal share:
 * in order, all in the past, about as far apart as a steady stream's.
 *
 * "events" is declared here only for its type: user space replaces it with
 * zmtrace's map (bpf_map__reuse_fd) before load, and "drops" likewise, so
 * that a full ring buffer counts in zmtrace's lost-event figure as it
 * would for a real event. The .bss totals are this program's own count.
 *
 * One user-space thread runs the program at a time (the benchmark's
 * injector), so the process table in .bss needs no locking.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "zmtrace.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * The program's context: test_run copies it in, and back out after the
 * run. tools/capture_load.c has the same struct (it cannot include this
 * file); keep the two alike.
 */
struct capload_args {
	__u32 count;	  /* in: events to send in this run */
	__u32 rss_events; /* in: memory events per process (0..CAPLOAD_MAX_RSS) */
	__u32 sent;	  /* out: events put into the ring buffer */
	__u32 failed;	  /* out: events lost, the ring buffer full */
	__u64 spread_ns;  /* in: 0, each event's time is the clock's when it is
			     made (a run's events are back to back); else the
			     run's events are spread over the time since the
			     last run (at most this long ago), as a steady
			     stream's would be */
};

#define CAPLOAD_MAX_BATCH 65536
#define CAPLOAD_MAX_RSS 64

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* replaced by zmtrace's map's size */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ZM_DROP_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* The pid range the made-up processes take (set by user space): above
 * this machine's pid_max where there is room, so that no made-up pid is a
 * real process's. */
const volatile __u32 pid_base = 3000000;
const volatile __u32 pid_limit = 4194304; /* PID_MAX_LIMIT: wrap here */

/* The time of the last event sent, for spreading (args->spread_ns). */
static __u64 last_ts;

/* Totals since load, read by user space through the mmapped .bss. */
__u64 total_sent = 0;
__u64 total_failed = 0; /* the ring buffer was full: lost events */

/* As zmtrace does: wake the consumer only when this much is waiting. */
#define WAKEUP_BYTES (256 * 1024)
#define MiB_KB 1024ULL
#define PAGE_KB 4ULL

/* A few long-lived parents (a shell, a build, a service manager...), each
 * with a pid just below pid_base and a start time soon after boot. */
#define NPARENTS 8
static const char parent_comm[NPARENTS][ZM_COMM_LEN] __attribute__((aligned(8))) = {
	"systemd", "bash", "make", "containerd-shim", "cron", "sshd", "python3", "node",
};

/* What the children exec. */
#define NNAMES 20
static const char exec_comm[NNAMES][ZM_COMM_LEN] __attribute__((aligned(8))) = {
	"sh",	   "gcc",	"cc1",	   "ld",      "git",	"grep",	 "sed",
	"awk",	   "curl",	"python3", "node",    "java",	"nginx", "postgres",
	"runc",	   "containerd", "kubelet", "ssh",    "tar",	"gzip",
};

/* A process's command name after exec. The index is checked here, where it
 * is used (a "% NNAMES" would leave the verifier without a bound). */
static __always_inline const char *exec_name(__u32 i)
{
	if (i >= NNAMES)
		i = 0;
	return exec_comm[i];
}

/* Processes alive at once; a power of two (a random slot is a mask). */
#define NSLOTS 32

/* Stages of a process's life, one event each. rss_events memory events:
 * the first at exec, the last at exit, the others in STAGE_RSS. */
enum stage {
	STAGE_FORK = 0,
	STAGE_EXEC_RSS,
	STAGE_EXEC,
	STAGE_RSS,
	STAGE_EXIT_RSS,
	STAGE_EXIT,
	STAGE_REAP,
};

struct proc {
	__u64 start_ns;
	__u64 exit_ns;
	__u64 anon_kb, file_kb, shmem_kb, vsize_kb, peak_rss_kb, peak_vm_kb;
	__u32 pid;
	__u32 parent; /* index into parent_comm */
	__u32 stage;
	__u32 rss_left; /* STAGE_RSS events still to send */
	__u32 name;	/* index into exec_comm, after exec */
	__u32 status;	/* the wait status it will exit with */
};

static struct proc procs[NSLOTS];
static __u32 next_pid; /* 0: start at pid_base */

static __always_inline __u32 parent_pid(__u32 i)
{
	return pid_base - NPARENTS + i;
}

static __always_inline __u64 parent_start(__u32 i)
{
	return 5000000000ULL + i * 1370000000ULL; /* 5 s, 6.37 s... after boot */
}

static __always_inline void copy_comm(char *dst, const char *src)
{
	((__u64 *)dst)[0] = ((const __u64 *)src)[0];
	((__u64 *)dst)[1] = ((const __u64 *)src)[1];
}

static __always_inline void count_drop(void)
{
	__u32 kind = ZM_DROP_RINGBUF;
	__u64 *n = bpf_map_lookup_elem(&drops, &kind);

	if (n)
		(*n)++;
	total_failed++;
}

static __always_inline void submit(void *e)
{
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= WAKEUP_BYTES ?
			      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;

	bpf_ringbuf_submit(e, flags);
	total_sent++;
}

/* A new process in slot p: the next pid (a real host's pids skip a few
 * now and then, taken by threads), a parent, memory figures to walk. */
static __always_inline void new_proc(struct proc *p)
{
	__u32 r = bpf_get_prandom_u32();
	__u32 pid = next_pid ? next_pid : pid_base;

	pid += (r & 7) == 0 ? 1 + ((r >> 3) & 3) : 1;
	if (pid >= pid_limit || pid < pid_base)
		pid = pid_base;
	next_pid = pid;
	p->pid = pid;
	p->parent = (r >> 5) % NPARENTS;
	p->name = (r >> 8) % NNAMES;
	p->status = ((r >> 13) & 7) == 0 ? 256 : 0; /* exit(1) now and then */
	p->stage = STAGE_FORK;
	p->exit_ns = 0;
	/* Figures in whole pages, as the kernel counts them. */
	r = bpf_get_prandom_u32();
	p->anon_kb = (256 + (r & 4095)) * PAGE_KB;
	p->file_kb = (512 + ((r >> 12) & 2047)) * PAGE_KB;
	p->shmem_kb = ((r >> 23) & 1) ? ((r >> 24) & 63) * PAGE_KB : 0;
	p->vsize_kb = p->anon_kb + p->file_kb + p->shmem_kb +
		      (64 + (bpf_get_prandom_u32() & 2047)) * MiB_KB;
	p->peak_rss_kb = p->anon_kb + p->file_kb + p->shmem_kb;
	p->peak_vm_kb = p->vsize_kb;
}

/* One more step of p's random walk: anon moves by about 1 MiB (zmtrace's
 * default threshold), up more often than down, and vsize with it. */
static __always_inline void walk(struct proc *p)
{
	__u32 r = bpf_get_prandom_u32();
	__u64 step = 256 * PAGE_KB + (r & 63) * PAGE_KB;

	if ((r >> 6) % 3 == 0 && p->anon_kb > step + 64 * PAGE_KB) {
		p->anon_kb -= step;
		p->vsize_kb -= step;
	} else {
		p->anon_kb += step;
		p->vsize_kb += step;
	}
	__u64 rss = p->anon_kb + p->file_kb + p->shmem_kb;

	if (rss > p->peak_rss_kb)
		p->peak_rss_kb = rss;
	if (p->vsize_kb > p->peak_vm_kb)
		p->peak_vm_kb = p->vsize_kb;
}

static __always_inline int emit_mem(struct proc *p, __u32 flags, __u64 now)
{
	struct zm_mem_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count_drop();
		return 0;
	}
	e->ts_ns = now;
	e->type = ZM_EV_RSS;
	e->pid = p->pid;
	e->anon_kb = p->anon_kb;
	e->file_kb = p->file_kb;
	e->shmem_kb = p->shmem_kb;
	e->swap_kb = 0;
	e->vsize_kb = p->vsize_kb;
	e->peak_rss_kb = flags & ZM_M_EXIT ? p->peak_rss_kb : 0;
	e->peak_vm_kb = flags & ZM_M_EXIT ? p->peak_vm_kb : 0;
	e->actor = 0;
	e->flags = flags | ZM_M_EXACT;
	copy_comm(e->comm, exec_name(p->name));
	submit(e);
	return 1;
}

/* A lifecycle event of p: the fields as zmtrace's handlers fill them. */
static __always_inline int emit_life(struct proc *p, __u32 type, __u64 now)
{
	struct zm_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u32 par = p->parent % NPARENTS;

	if (!e) {
		count_drop();
		return 0;
	}
	e->ts_ns = now;
	e->type = type;
	e->pid = p->pid;
	e->start_ns = p->start_ns;
	e->aux_ns = parent_start(par); /* the parent's start_ns */
	e->ppid = parent_pid(par);
	e->other_pid = p->pid;
	e->code = 0;
	e->flags = 0;
	switch (type) {
	case ZM_EV_FORK: /* the child has its parent's name until exec */
		e->other_pid = parent_pid(par); /* the forking thread */
		copy_comm(e->comm, parent_comm[par]);
		break;
	case ZM_EV_EXIT:
		e->code = p->status;
		copy_comm(e->comm, exec_name(p->name));
		break;
	case ZM_EV_REAP:
		e->aux_ns = p->exit_ns;
		e->other_pid = parent_pid(par); /* the reaper */
		e->code = ZM_VIA_WAIT4;
		copy_comm(e->comm, exec_name(p->name));
		break;
	default: /* ZM_EV_EXEC */
		copy_comm(e->comm, exec_name(p->name));
		break;
	}
	copy_comm(e->pcomm, parent_comm[par]);
	submit(e);
	return 1;
}

/* Send slot p's next event and move it on. Returns 1 if the event went
 * into the ring buffer. (A lost event still moves the process on, as a
 * real process goes on living when its event is dropped.) */
static __always_inline int step(struct proc *p, __u32 rss_events, __u64 now)
{
	int ok = 0;

	switch (p->stage) {
	case STAGE_FORK:
		/* start_boottime is taken a little before the fork tracepoint. */
		p->start_ns = now - 20000 - (bpf_get_prandom_u32() & 32767);
		ok = emit_life(p, ZM_EV_FORK, now);
		p->stage = rss_events ? STAGE_EXEC_RSS : STAGE_EXEC;
		break;
	case STAGE_EXEC_RSS:
		ok = emit_mem(p, ZM_M_EXEC, now);
		p->stage = STAGE_EXEC;
		break;
	case STAGE_EXEC:
		ok = emit_life(p, ZM_EV_EXEC, now);
		p->rss_left = rss_events > 2 ? rss_events - 2 : 0;
		p->stage = p->rss_left ? STAGE_RSS : (rss_events >= 2 ? STAGE_EXIT_RSS : STAGE_EXIT);
		break;
	case STAGE_RSS:
		walk(p);
		ok = emit_mem(p, 0, now);
		if (--p->rss_left == 0)
			p->stage = STAGE_EXIT_RSS;
		break;
	case STAGE_EXIT_RSS:
		ok = emit_mem(p, ZM_M_EXIT, now);
		p->stage = STAGE_EXIT;
		break;
	case STAGE_EXIT:
		p->exit_ns = now;
		ok = emit_life(p, ZM_EV_EXIT, now);
		p->stage = STAGE_REAP;
		break;
	default: /* STAGE_REAP, then the slot takes a new process */
		ok = emit_life(p, ZM_EV_REAP, now);
		new_proc(p);
		break;
	}
	return ok;
}

struct loop_ctx {
	__u64 lo, step_ns; /* spreading: event i's time is in
			      [lo + i * step_ns, lo + (i + 1) * step_ns) */
	__u32 rss_events;
	__u32 sent;
	bool spread;
};

/* bpf_loop() body: one event from a random live process, so that several
 * processes' lives interleave as on a real host. */
static long one_event(__u64 i, void *data)
{
	struct loop_ctx *lc = data;
	struct proc *p = &procs[bpf_get_prandom_u32() & (NSLOTS - 1)];

	if (!p->pid)
		new_proc(p); /* first use of the slot */
	__u64 ts = bpf_ktime_get_boot_ns();

	/* A random moment in event i's share of the interval: in order, and
	 * unevenly apart, as real events are (evenly spaced times would
	 * compress better than real ones do). */
	if (lc->spread)
		ts = lc->lo + i * lc->step_ns +
		     (lc->step_ns ? bpf_get_prandom_u32() % lc->step_ns : 0);

	lc->sent += step(p, lc->rss_events, ts);
	return 0;
}

SEC("syscall")
int capload(struct capload_args *args)
{
	struct loop_ctx lc = {
		.rss_events = args->rss_events > CAPLOAD_MAX_RSS ? CAPLOAD_MAX_RSS
								  : args->rss_events,
		.sent = 0,
		.spread = args->spread_ns != 0,
	};
	__u32 n = args->count > CAPLOAD_MAX_BATCH ? CAPLOAD_MAX_BATCH : args->count;
	__u64 now = bpf_ktime_get_boot_ns();

	/* Spread over [last_ts, now): every time is in the past, in order,
	 * and after the previous run's. On the first run, or after a pause
	 * longer than spread_ns, the run's events are bunched at now. */
	if (lc.spread && n) {
		lc.lo = last_ts && last_ts < now && now - last_ts <= args->spread_ns ? last_ts
											: now;
		lc.step_ns = (now - lc.lo) / n;
		lc.lo = now - lc.step_ns * n;
	}
	long done = bpf_loop(n, one_event, &lc, 0);

	last_ts = now;
	args->sent = lc.sent;
	args->failed = done > 0 ? (__u32)done - lc.sent : 0;
	return done < 0 ? (int)done : 0;
}
