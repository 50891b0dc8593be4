// SPDX-License-Identifier: GPL-2.0
/*
 * zmtrace kernel side: process lifecycles and zombies.
 *
 * What is decided here, where it is cheapest and exact:
 *  - a process's last thread died (sched_process_exit, group_dead): will the
 *    kernel release it at once (the parent ignores SIGCHLD or set
 *    SA_NOCLDWAIT) or does it become a zombie? A zombie goes into "watched";
 *  - a wait4()/waitid() return that really reaped a watched zombie (not a
 *    WNOWAIT peek, not a stopped/continued child) ends it, with the reaper;
 *  - sched_process_free of a still-watched zombie is the catch-all for reaps
 *    no wait syscall performed (io_uring waitid, autoreap on reparenting);
 *  - the pid / command-name filter, following descendants as they fork.
 * Everything else (durations, parents, rankings) is user space's job.
 *
 * Cost: tp_btf arguments and bpf_get_current_task_btf() are typed pointers,
 * so fields are read with direct loads (no helper calls); CO-RE relocates
 * the offsets. Events are submitted without a wake-up (a self-IPI costs
 * microseconds in a VM); user space polls on a short timer and is woken only
 * when the ring buffer is filling up.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "zmtrace.h"

char LICENSE[] SEC("license") = "GPL";

#define SIGCHLD_NR 17
#define SIG_IGN_HANDLER 1
#define SA_NOCLDWAIT_FLAG 2
#define SIGNAL_GROUP_EXIT_FLAG 0x4
#define WNOWAIT_FLAG 0x01000000
#define CLD_EXITED_CODE 1
#define CLD_DUMPED_CODE 3
#define USER_HZ_NS 10000000ULL /* /proc start times are in 1/100 s */
#define PF_EXITING_FLAG 0x00000004
#define PF_KTHREAD_FLAG 0x00200000
#define ZM_STR(x) #x
#define ZM_XSTR(x) ZM_STR(x)

/* Set by user space before load. */
const volatile unsigned int filter_mode = ZM_FILTER_NONE;
const volatile char filter_comm[ZM_COMM_LEN] = {};
const volatile bool emit_lifecycle = false;
const volatile bool track_zombies = true;   /* zombie events (exit, reaps) */
const volatile bool track_rss = false;	      /* memory events (rss/top/record) */
const volatile __u64 rss_threshold_pages = 256; /* --threshold, in pages */
const volatile __u32 page_shift = 12;	      /* log2(page size) */
const volatile bool test_old_exit = false;    /* tests: zm_exit acts as on a
						 kernel without group_dead */
const volatile __u32 ncpus = 0;		      /* entries in cpu_off; 0: unknown */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ZM_DROP_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Zombies whose reap is awaited, by pid. Preallocated: before 6.1 a map
 * that allocates at run time may not be used from the classic syscall
 * tracepoint programs (a kernel warning, refused on PREEMPT_RT). 32k zombies
 * at once is far past any real machine; more are counted as untracked. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct zm_zombie);
} watched SEC(".maps");

/* ZM_FILTER_FOLLOW: the processes followed, by pid; value = start_ns, or 0
 * when user space seeded it from /proc and any start time matches. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} followed SEC(".maps");

/* waitid() in flight, by thread id: where the kernel will write siginfo. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} waitid_infop SEC(".maps");

/* Each possible CPU's per-CPU offset (__per_cpu_offset[]), as user space
 * found it (user/percpu.c) and filled in before attaching. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set to ncpus at load */
	__type(key, __u32);
	__type(value, __u64);
} cpu_off SEC(".maps");

/*
 * Memory tracking state: one 32-byte slot per mm, in a 2-way set-associative
 * table indexed by a hash of the mm. An array map, whose lookups the
 * verifier inlines, so the rss_stat handler makes no helper call; and small
 * (16 KiB), so the kernel allocates it from the direct map rather than
 * vmalloc: with page-table isolation and no PCID, every page fault flushes
 * the TLB, and each page the fault path has not touched costs a page walk.
 * An mm that finds both ways of its set taken takes one, sending a
 * ZM_M_FIRST event (exact figures, one more event: never a lost change).
 *
 * The slot keeps the figures as last sent, to compare with, and the
 * threshold: deciding reads the slot's cache line and the counters.
 */
#define MM_SETS_LOG2 8
enum { SLOT_LIVE = 1, SLOT_IGNORED = 2 /* not selected, or exiting */ };

struct zm_mm_slot {
	__u32 mm;	   /* mm_key(): the owner's tgid */
	__u32 pad[3];
	__u32 sent_res;	   /* resident pages, as last sent */
	__u32 sent_swap;   /* swap entries, as last sent */
	__u32 threshold;   /* rss_threshold_pages, kept here: one cache line
			      to read instead of two */
	__u16 state;
	__u16 next_victim; /* way[0] only: the way to take next */
};

struct zm_mm_set {
	struct zm_mm_slot way[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << MM_SETS_LOG2);
	__type(key, __u32);
	__type(value, struct zm_mm_set);
} mmslots SEC(".maps");

static __always_inline void count_drop(__u32 kind)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &kind);

	if (n)
		(*n)++;
}

static __always_inline struct zm_event *reserve(void)
{
	struct zm_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		count_drop(ZM_DROP_RINGBUF);
	return e;
}

/* Wake the consumer only when this much is waiting (it polls anyway). */
#define WAKEUP_BYTES (256 * 1024)

static __always_inline void submit(struct zm_event *e)
{
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= WAKEUP_BYTES ?
			      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;

	bpf_ringbuf_submit(e, flags);
}

/* A comm is 16 bytes, NUL-padded by the kernel: two loads. */
static __always_inline void read_comm(char *dst, struct task_struct *t)
{
	((__u64 *)dst)[0] = *(__u64 *)&t->comm[0];
	((__u64 *)dst)[1] = *(__u64 *)&t->comm[8];
}

static __always_inline bool comm_is_filter(const char *comm)
{
	for (int i = 0; i < ZM_COMM_LEN; i++) {
		if (comm[i] != filter_comm[i])
			return false;
		if (!comm[i])
			return true;
	}
	return true;
}

static __always_inline bool is_followed(__u32 pid)
{
	return bpf_map_lookup_elem(&followed, &pid) != NULL;
}

/* Does a process with this leader and parent pass the user's filter? */
static __always_inline bool selected(struct task_struct *leader,
				     struct task_struct *parent)
{
	if (filter_mode == ZM_FILTER_NONE)
		return true;
	if (filter_mode == ZM_FILTER_FOLLOW)
		return is_followed(leader->tgid);
	char comm[ZM_COMM_LEN];

	read_comm(comm, leader);
	if (comm_is_filter(comm))
		return true;
	read_comm(comm, parent);
	return comm_is_filter(comm);
}

/* Kernels before 6.2 kept mm counters as atomics. */
struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

/* The counter the rss_stat tracepoint reports (percpu_counter_read:
 * the shared count, not the per-CPU sum). */
static __always_inline __s64 mm_counter(struct mm_struct *mm, int member)
{
	if (bpf_core_type_exists(struct mm_rss_stat___pre62)) {
		struct mm_struct___pre62 *old = (void *)mm;

		return old->rss_stat.count[member & 3].counter;
	}
	return mm->rss_stat[member & 3].count;
}

/* This CPU's part of an mm counter: the per-CPU s32 of its percpu_counter. */
static __always_inline __s32 *mm_counter_part(struct mm_struct *mm, int member)
{
	__s32 *p;

	/* A load in each branch (the barriers stop clang from merging them
	 * into one load at a variable offset, which the verifier refuses). */
	switch (member) {
	case MM_FILEPAGES:
		p = mm->rss_stat[MM_FILEPAGES].counters;
		barrier_var(p);
		break;
	case MM_ANONPAGES:
		p = mm->rss_stat[MM_ANONPAGES].counters;
		barrier_var(p);
		break;
	case MM_SWAPENTS:
		p = mm->rss_stat[MM_SWAPENTS].counters;
		barrier_var(p);
		break;
	default:
		p = mm->rss_stat[MM_SHMEMPAGES].counters;
		barrier_var(p);
		break;
	}
	return p;
}

struct exact_sum {
	void *parts[4]; /* the counters' per-CPU pointers */
	__s64 sum[4];
};

/* bpf_loop() body: add CPU i's parts of the four counters. */
static long add_cpu_parts(__u64 i, void *ctx)
{
	struct exact_sum *x = ctx;
	__u32 cpu = (__u32)i;
	__u64 *off = bpf_map_lookup_elem(&cpu_off, &cpu);

	if (!off)
		return 1;
	if (!*off)
		return 0; /* not a possible CPU (a hole in the possible mask) */
	/* Direct loads (faults are caught, as for any load through an
	 * untrusted pointer): no helper calls. */
	for (int m = 0; m < 4; m++)
		x->sum[m] += *(__s32 *)(x->parts[m] + *off);
	return 0;
}

/*
 * mm's four counters (indexed by MM_*) as /proc sums them: the shared count
 * plus every CPU's part (percpu_counter_sum(), without its lock: a fold on
 * another CPU between the reads can leave one batch out). Without the
 * per-CPU offsets (ncpus 0, or a kernel before 6.2), the shared counts.
 * Returns ZM_M_EXACT or 0. Off the hot path: for events being sent only.
 */
static __always_inline __u32 mm_counters(struct mm_struct *mm, __s64 v[4])
{
	/* Constant indices: a typed pointer takes no variable offset. */
	v[MM_FILEPAGES] = mm_counter(mm, MM_FILEPAGES);
	v[MM_ANONPAGES] = mm_counter(mm, MM_ANONPAGES);
	v[MM_SWAPENTS] = mm_counter(mm, MM_SWAPENTS);
	v[MM_SHMEMPAGES] = mm_counter(mm, MM_SHMEMPAGES);
	if (!ncpus || bpf_core_type_exists(struct mm_rss_stat___pre62))
		return 0;
	struct exact_sum x = {
		.parts = { mm_counter_part(mm, MM_FILEPAGES), mm_counter_part(mm, MM_ANONPAGES),
			   mm_counter_part(mm, MM_SWAPENTS), mm_counter_part(mm, MM_SHMEMPAGES) },
		.sum = { v[0], v[1], v[2], v[3] },
	};

	if (bpf_loop(ncpus, add_cpu_parts, &x, 0) != (long)ncpus)
		return 0;
	for (int m = 0; m < 4; m++)
		v[m] = x.sum[m];
	return ZM_M_EXACT;
}

static __always_inline __u64 pos(__s64 v)
{
	return v > 0 ? (__u64)v : 0;
}

static __always_inline __u64 resident_pages(struct mm_struct *mm)
{
	return pos(mm_counter(mm, MM_FILEPAGES)) + pos(mm_counter(mm, MM_ANONPAGES)) +
	       pos(mm_counter(mm, MM_SHMEMPAGES));
}

static __always_inline __u64 absdiff(__u64 a, __u64 b)
{
	return a > b ? a - b : b - a;
}

/* The task that owns mm (CONFIG_MEMCG), or NULL. */
static __always_inline struct task_struct *mm_owner(struct mm_struct *mm)
{
	if (bpf_core_field_exists(mm->owner))
		return mm->owner;
	return NULL;
}

/*
 * Slots are named by the tgid of the process that owns the mm. In the
 * common case (a process faulting in its own memory) that is current's,
 * read from the task struct the fault path has just used: cheaper than any
 * field of the mm (the verifier forbids arithmetic on the typed mm pointer,
 * which would make it a key). Another task changing this mm (reclaim,
 * swap-out, process_madvise) names it by mm->owner. A pid reused by a new
 * process gets its slot reset at fork; exec resets it for the new mm.
 */
static __always_inline __u64 mm_key(struct mm_struct *mm)
{
	struct task_struct *cur = bpf_get_current_task_btf();

	if (cur->mm == mm)
		return cur->tgid;
	struct task_struct *owner = mm_owner(mm);

	/* An mm being built, by fork (its owner is the child, which still
	 * has the parent's ids) or by exec (owned by current, not yet its
	 * mm): no news; the fork and exec handlers then set it up. */
	if (!owner || owner->tgid == cur->tgid)
		return 0;
	return owner->tgid;
}

static __always_inline struct zm_mm_set *set_for(__u64 key)
{
	__u32 idx = (__u32)((key * 0x9E3779B97F4A7C15ULL) >> (64 - MM_SETS_LOG2));

	return bpf_map_lookup_elem(&mmslots, &idx);
}

/* The slot of the mm named key, or NULL. */
static __always_inline struct zm_mm_slot *slot_find(struct zm_mm_set *set, __u64 key)
{
	if (set->way[0].mm == key)
		return &set->way[0];
	if (set->way[1].mm == key)
		return &set->way[1];
	return NULL;
}

/* Take a slot for key: an empty or ignored way first, else in turn. */
static __always_inline struct zm_mm_slot *slot_take(struct zm_mm_set *set, __u64 key)
{
	struct zm_mm_slot *s;

	if (set->way[0].state != SLOT_LIVE)
		s = &set->way[0];
	else if (set->way[1].state != SLOT_LIVE)
		s = &set->way[1];
	else
		s = &set->way[set->way[0].next_victim & 1];
	set->way[0].next_victim ^= 1;
	s->mm = key;
	s->threshold = (__u32)rss_threshold_pages;
	return s;
}

static __always_inline __u64 kb(__u64 pages)
{
	return pages << (page_shift - 10);
}

/* Send mm's figures, charged to its owner. */
static __always_inline void emit_mem(__u32 type, struct mm_struct *mm,
				     struct task_struct *owner, __u32 flags)
{
	struct zm_mem_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count_drop(ZM_DROP_RINGBUF);
		return;
	}
	struct task_struct *cur = bpf_get_current_task_btf();
	__u64 vm = mm->total_vm;
	__s64 v[4];

	flags |= mm_counters(mm, v);
	__u64 anon = pos(v[MM_ANONPAGES]), file = pos(v[MM_FILEPAGES]);
	__u64 shmem = pos(v[MM_SHMEMPAGES]);
	__u64 res = anon + file + shmem;

	e->ts_ns = bpf_ktime_get_boot_ns();
	e->type = type;
	e->pid = owner ? owner->tgid : cur->tgid;
	e->anon_kb = kb(anon);
	e->file_kb = kb(file);
	e->shmem_kb = kb(shmem);
	e->swap_kb = kb(pos(v[MM_SWAPENTS]));
	e->vsize_kb = kb(vm);
	e->peak_rss_kb = 0;
	e->peak_vm_kb = 0;
	if (flags & ZM_M_EXIT || type == ZM_EV_OOM) {
		__u64 hw = mm->hiwater_rss, hv = mm->hiwater_vm;

		e->peak_rss_kb = kb(hw > res ? hw : res);
		e->peak_vm_kb = kb(hv > vm ? hv : vm);
	}
	e->actor = 0;
	if (cur->mm != mm) {
		flags |= ZM_M_REMOTE;
		e->actor = cur->tgid;
	}
	e->flags = flags;
	if (owner)
		read_comm(e->comm, owner);
	else
		read_comm(e->comm, cur);
	submit((struct zm_event *)e);
}

/* Is the owner of mm one the user's filter takes? */
static __always_inline bool mm_selected(struct task_struct *owner)
{
	if (filter_mode == ZM_FILTER_NONE)
		return true;
	if (!owner)
		return false;
	return selected(owner, owner->real_parent);
}

/* Record the figures just sent (or seen first). */
static __always_inline void remember(struct zm_mm_slot *s, struct mm_struct *mm)
{
	__u64 file = pos(mm_counter(mm, MM_FILEPAGES)), anon = pos(mm_counter(mm, MM_ANONPAGES));
	__u64 shmem = pos(mm_counter(mm, MM_SHMEMPAGES));

	s->sent_res = (__u32)(file + anon + shmem);
	s->sent_swap = (__u32)pos(mm_counter(mm, MM_SWAPENTS));
}

/*
 * Has mm's resident memory or swap moved by the threshold since its last
 * event (or is it new)? Then send its figures. The slot (one cache line) and
 * the counters first; the rest only when there is something to send.
 */
static __always_inline void check_slot(struct mm_struct *mm, __u64 key, struct zm_mm_set *set,
				       struct zm_mm_slot *s, __u32 flags)
{
	if (s) {
		if (s->state != SLOT_LIVE)
			return;
		__u64 res = resident_pages(mm), swap = pos(mm_counter(mm, MM_SWAPENTS));

		if (absdiff(res, s->sent_res) < s->threshold &&
		    absdiff(swap, s->sent_swap) < s->threshold)
			return;
	}
	/* exec has installed the new mm but not yet said so: the exec event
	 * reports it. */
	struct task_struct *cur = bpf_get_current_task_btf();

	if (BPF_CORE_READ_BITFIELD(cur, in_execve))
		return;
	struct task_struct *owner = mm_owner(mm);

	if (!s) {
		s = slot_take(set, key);
		s->state = mm_selected(owner) ? SLOT_LIVE : SLOT_IGNORED;
		if (s->state != SLOT_LIVE)
			return;
		flags |= ZM_M_FIRST;
	}
	remember(s, mm);
	emit_mem(ZM_EV_RSS, mm, owner, flags);
}

/* check_slot() from the rss_stat handler: a function of its own, so that
 * its code stays out of the handler's few hot cache lines. */
static __noinline int rss_check(struct mm_struct *mm, __u64 key, struct zm_mm_set *set,
				struct zm_mm_slot *s)
{
	check_slot(mm, key, set, s, 0);
	return 0;
}

/* check_slot() for mm, finding its slot first (the sampling path). */
static __always_inline void check_mm(struct mm_struct *mm, __u32 flags)
{
	__u64 key = mm_key(mm);
	struct zm_mm_set *set = set_for(key);

	if (key && set)
		check_slot(mm, key, set, slot_find(set, key), flags);
}

/* A new mm (fork, exec): it starts with a slot of its own, and an event. */
static __always_inline void fresh_mm(struct mm_struct *mm, struct task_struct *owner,
				     __u32 flags)
{
	__u64 key = owner->tgid;
	struct zm_mm_set *set = set_for(key);

	if (!set)
		return;
	struct zm_mm_slot *s = slot_find(set, key);

	if (!s)
		s = slot_take(set, key);
	remember(s, mm);
	s->state = mm_selected(owner) ? SLOT_LIVE : SLOT_IGNORED;
	if (s->state == SLOT_LIVE && flags)
		emit_mem(ZM_EV_RSS, mm, owner, flags);
}

/*
 * rss_stat fires after every change of an mm counter: about once per page
 * fault, the hottest path there is. Three ways to take it, one loaded:
 *
 * RSS_LINEAR, RSS_TABLE: the count the kernel shares (which the threshold
 * is judged by) moves only when a CPU folds its own part into it, and that
 * part is then zero (percpu_counter_add_batch()). So the handler reads this
 * CPU's part of the counter that changed, which the kernel has just
 * written (in cache, and in the TLB that page-table isolation flushes on
 * every kernel entry), and goes on only when it is zero: about one event
 * in 28 on a page-fault storm, one per fault of a huge page, one per
 * munmap() batch. Everything else (the slot, the threshold, the filter) is
 * touched then only. A fold can escape: the task may move to another CPU
 * between the change and the tracepoint, and a CPU going offline folds
 * its parts with no tracepoint; the next fold of any counter of the mm
 * then sees the change. The per-CPU offset is BASE + cpu * STEP, constants
 * user space writes into the instructions (RSS_LINEAR); with NUMA groups,
 * one BASE per group of CPUs, up to four (RSS_PIECES); else a map read
 * (RSS_TABLE).
 *
 * RSS_EVERY: each event looks up its mm's slot (the way for kernels that
 * give no access to the per-CPU parts, with ncpus 0: user space's "shared"
 * path; with the offsets, "every", for comparison).
 */
#define RSS_LINEAR 0
#define RSS_TABLE 1
#define RSS_EVERY 2
#define RSS_PIECES 3

#define ZM_IMM64(var, marker) asm volatile("%0 = " ZM_XSTR(marker) " ll" : "=r"(var))

/* Is this CPU's part of mm's counter member zero (or unknown)? */
static __always_inline bool part_is_zero(struct mm_struct *mm, int member, int how)
{
	__u64 off;

	if (how == RSS_LINEAR) {
		__u64 base, step;

		ZM_IMM64(base, ZM_PATCH_CPU_BASE);
		ZM_IMM64(step, ZM_PATCH_CPU_STEP);
		off = base + (__u64)bpf_get_smp_processor_id() * step;
	} else if (how == RSS_PIECES) {
		__u64 base, step, b1, b2, b3, s1, s2, s3, cpu = bpf_get_smp_processor_id();

		ZM_IMM64(base, ZM_PATCH_CPU_BASE);
		ZM_IMM64(b1, ZM_PATCH_CPU_BASE1);
		ZM_IMM64(b2, ZM_PATCH_CPU_BASE2);
		ZM_IMM64(b3, ZM_PATCH_CPU_BASE3);
		ZM_IMM64(s1, ZM_PATCH_CPU_START1);
		ZM_IMM64(s2, ZM_PATCH_CPU_START2);
		ZM_IMM64(s3, ZM_PATCH_CPU_START3);
		ZM_IMM64(step, ZM_PATCH_CPU_STEP);
		if (cpu >= s3)
			base = b3;
		else if (cpu >= s2)
			base = b2;
		else if (cpu >= s1)
			base = b1;
		off = base + cpu * step;
	} else {
		__u32 cpu = bpf_get_smp_processor_id();
		__u64 *o = bpf_map_lookup_elem(&cpu_off, &cpu);

		if (!o)
			return true;
		off = *o;
	}
	__s32 *part = (void *)mm_counter_part(mm, member) + off;

	return *part == 0;
}

static __always_inline int on_rss_stat(struct mm_struct *mm, int member, int how)
{
	if (how != RSS_EVERY && !part_is_zero(mm, member, how))
		return 0;
	__u64 key = mm_key(mm);
	struct zm_mm_set *set = set_for(key);

	if (!key || !set)
		return 0;
	struct zm_mm_slot *s = slot_find(set, key);

	if (s) {
		if (s->state != SLOT_LIVE)
			return 0;
		/* All the counters, not just the one that changed: a fold this
		 * handler missed (the task moved to another CPU between the
		 * change and the tracepoint; a CPU going offline folds without
		 * one) is then caught at the next fold of any of them. */
		__u64 res = resident_pages(mm), swap = pos(mm_counter(mm, MM_SWAPENTS));

		if (absdiff(res, s->sent_res) < s->threshold &&
		    absdiff(swap, s->sent_swap) < s->threshold)
			return 0;
	}
	return rss_check(mm, key, set, s);
}

SEC("tp_btf/rss_stat")
int BPF_PROG(zm_rss, struct mm_struct *mm, int member)
{
	return on_rss_stat(mm, member, RSS_LINEAR);
}

SEC("tp_btf/rss_stat")
int BPF_PROG(zm_rss_table, struct mm_struct *mm, int member)
{
	return on_rss_stat(mm, member, RSS_TABLE);
}

SEC("tp_btf/rss_stat")
int BPF_PROG(zm_rss_pieces, struct mm_struct *mm, int member)
{
	return on_rss_stat(mm, member, RSS_PIECES);
}

SEC("tp_btf/rss_stat")
int BPF_PROG(zm_rss_every, struct mm_struct *mm, int member)
{
	return on_rss_stat(mm, member, RSS_EVERY);
}

/* -c COMM: a process renamed (prctl) is taken or dropped by its new name. */
SEC("tp_btf/task_rename")
int BPF_PROG(zm_rename, struct task_struct *task, const char *comm)
{
	if (filter_mode != ZM_FILTER_COMM || task->pid != task->tgid)
		return 0;
	__u64 key = task->tgid;
	struct zm_mm_set *set = set_for(key);
	struct zm_mm_slot *s = set ? slot_find(set, key) : NULL;

	if (!s || s->state == 0)
		return 0;
	char name[ZM_COMM_LEN] = {};

	bpf_probe_read_kernel_str(name, sizeof(name), comm);
	bool yes = comm_is_filter(name);

	if (!yes) {
		char pname[ZM_COMM_LEN];

		read_comm(pname, task->real_parent);
		yes = comm_is_filter(pname);
	}
	if (yes && s->state == SLOT_IGNORED && task->mm)
		remember(s, task->mm); /* figures from now on */
	s->state = yes ? SLOT_LIVE : SLOT_IGNORED;
	return 0;
}

/* --sample HZ: no per-fault hook; the CPU clock samples the running task. */
SEC("perf_event")
int zm_sample(struct bpf_perf_event_data *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct mm_struct *mm = t->mm;

	if (!mm || (t->flags & PF_KTHREAD_FLAG))
		return 0;
	check_mm(mm, ZM_M_SAMPLE);
	return 0;
}

/* The OOM killer chose this task (6.6+: mark_victim(task, uid)). */
SEC("tp_btf/mark_victim")
int BPF_PROG(zm_oom, struct task_struct *task, uid_t uid)
{
	struct mm_struct *mm = task->mm;

	if (!track_rss || !mm)
		return 0;
	if (!mm_selected(task))
		return 0;
	emit_mem(ZM_EV_OOM, mm, task, 0);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(zm_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 pid = child->tgid;

	if (child->pid != pid)
		return 0; /* a new thread, not a process */
	struct task_struct *real_parent = child->real_parent;
	__u64 start = child->start_boottime;

	if (filter_mode == ZM_FILTER_FOLLOW) {
		/* Started by a followed process (CLONE_PARENT makes it a
		 * sibling, but it is still the followed program's). */
		if (!is_followed(parent->tgid) && !is_followed(real_parent->tgid))
			return 0;
		if (bpf_map_update_elem(&followed, &pid, &start, BPF_ANY))
			count_drop(ZM_DROP_TRACKED);
	} else if (!selected(child, real_parent)) {
		return 0;
	}
	if (track_rss && child->mm && child->mm != parent->mm)
		fresh_mm(child->mm, child, 0);
	if (!emit_lifecycle)
		return 0;
	struct zm_event *e = reserve();

	if (!e)
		return 0;
	e->type = ZM_EV_FORK;
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->start_ns = start;
	e->aux_ns = real_parent->start_boottime;
	e->pid = pid;
	e->ppid = real_parent->tgid;
	e->other_pid = parent->pid;
	e->code = 0;
	e->flags = 0;
	read_comm(e->comm, child);
	read_comm(e->pcomm, real_parent);
	submit(e);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(zm_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct task_struct *parent = p->real_parent;

	if (track_rss && p->mm)
		fresh_mm(p->mm, p, ZM_M_EXEC);
	if (!emit_lifecycle || !selected(p, parent))
		return 0;
	struct zm_event *e = reserve();

	if (!e)
		return 0;
	e->type = ZM_EV_EXEC;
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->start_ns = p->start_boottime;
	e->aux_ns = parent->start_boottime;
	e->pid = p->tgid;
	e->ppid = parent->tgid;
	e->other_pid = old_pid;
	e->code = 0;
	e->flags = 0;
	read_comm(e->comm, p);
	read_comm(e->pcomm, parent);
	submit(e);
	return 0;
}

/*
 * Will exit_notify() release this process at once? The same test as the
 * kernel's do_notify_parent(): not traced, exit signal SIGCHLD, and the
 * parent's SIGCHLD action is SIG_IGN or carries SA_NOCLDWAIT.
 */
static __always_inline bool parent_autoreaps(struct task_struct *leader,
					     struct task_struct *parent)
{
	if (leader->ptrace || leader->exit_signal != SIGCHLD_NR)
		return false;
	struct sighand_struct *sh = parent->sighand;

	if (!sh)
		return false;
	struct sigaction *sa = &sh->action[SIGCHLD_NR - 1].sa;

	return (unsigned long)sa->sa_handler == SIG_IGN_HANDLER ||
	       (sa->sa_flags & SA_NOCLDWAIT_FLAG);
}

/* The status wait() will return: the group exit code when the group was
 * killed or called exit_group(), else the leader's own exit code. */
static __always_inline __u32 wait_status(struct task_struct *leader)
{
	struct signal_struct *sig = leader->signal;

	if (sig->flags & SIGNAL_GROUP_EXIT_FLAG)
		return sig->group_exit_code;
	return leader->exit_code;
}

/* The EXIT event of the process whose last thread is task. */
static __always_inline void emit_exit(struct task_struct *task, struct task_struct *leader,
				      struct task_struct *parent, struct zm_zombie *z,
				      bool autoreap)
{
	struct zm_event *e = reserve();

	if (!e)
		return;
	__u32 status = wait_status(leader);
	__u32 flags = autoreap ? ZM_F_AUTOREAP : 0;

	if (status & 0x80)
		flags |= ZM_F_CORE;
	if (task->pid != task->tgid)
		flags |= ZM_F_THREAD_LAST;
	e->type = ZM_EV_EXIT;
	e->ts_ns = z->exit_ns;
	e->start_ns = z->start_ns;
	e->aux_ns = parent->start_boottime;
	e->pid = task->tgid;
	e->ppid = z->ppid;
	e->other_pid = task->pid;
	e->code = status;
	e->flags = flags;
	__builtin_memcpy(e->comm, z->comm, sizeof(e->comm));
	read_comm(e->pcomm, parent);
	submit(e);
}

static __always_inline int on_group_exit(struct task_struct *task)
{
	struct task_struct *leader = task->group_leader;
	struct task_struct *parent = leader->real_parent;
	__u32 pid = task->tgid;

	if (track_rss && task->mm) {
		__u64 key = task->tgid;
		struct zm_mm_set *set = set_for(key);

		if (selected(leader, parent))
			emit_mem(ZM_EV_RSS, task->mm, leader, ZM_M_EXIT);
		if (set) { /* exit_mmap()'s unmapping is no news */
			struct zm_mm_slot *slot = slot_find(set, key);

			if (!slot)
				slot = slot_take(set, key);
			slot->state = SLOT_IGNORED;
		}
	}
	if (!track_zombies || !selected(leader, parent))
		return 0;
	bool autoreap = parent_autoreaps(leader, parent);

	if (autoreap && !emit_lifecycle)
		return 0;
	__u64 now = bpf_ktime_get_boot_ns();
	struct zm_zombie z = {
		.start_ns = leader->start_boottime,
		.exit_ns = now,
		.ppid = parent->tgid,
		.flags = leader->ptrace ? ZM_F_TRACED : 0,
	};
	/*
	 * Here (do_exit, before exit_mm) the process is still tearing down:
	 * it becomes a zombie in exit_notify(), when the parent is signalled,
	 * which may be many milliseconds later for a large process. With the
	 * usual SIGCHLD that moment is seen (zm_signal) and the EXIT is sent
	 * then; another exit signal (or none) is sent now.
	 */
	bool at_signal = !autoreap && leader->exit_signal == SIGCHLD_NR;

	if (at_signal)
		z.flags |= ZM_F_PENDING;
	read_comm(z.comm, leader);
	if (!autoreap && bpf_map_update_elem(&watched, &pid, &z, BPF_ANY))
		count_drop(ZM_DROP_TRACKED);
	if (!at_signal)
		emit_exit(task, leader, parent, &z, autoreap);
	return 0;
}

/* Kernels with sched_process_exit(p, group_dead) (6.16 and later). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(zm_exit, struct task_struct *p, bool group_dead)
{
	/* A third argument does not exist: the verifier refuses this, as a
	 * pre-6.16 kernel refuses reading group_dead. */
	if (test_old_exit && ctx[2])
		return 0;
	if (!group_dead)
		return 0;
	return on_group_exit(p);
}

/* Older kernels: signal->live reached zero in this thread's do_exit(). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(zm_exit_legacy, struct task_struct *p)
{
	if (p->signal->live.counter != 0)
		return 0;
	return on_group_exit(p);
}

/* The pid number of task's process as the pid namespace at level sees it.
 * (tgid is loaded first: were both paths to end in one load, the verifier
 * would refuse it for mixing a stack and a kernel pointer.) */
static __always_inline __u32 tgid_at_level(struct task_struct *task, __u32 level)
{
	__u32 nr = task->tgid;

	if (level) {
		struct pid *pid = task->group_leader->thread_pid;
		int v = 0;

		bpf_probe_read_kernel(&v, sizeof(v), &pid->numbers[level & 31].nr);
		nr = (__u32)v;
	}
	return nr;
}

/*
 * The parent is told of a child's death (do_notify_parent() sends SIGCHLD
 * from the exiting task, or from the last thread when the leader died
 * first): the process is a zombie from now. A SIGCHLD sent by a dying parent
 * about its children being reparented comes from an exiting task too; the
 * siginfo's pid tells them apart.
 */
SEC("tp_btf/signal_generate")
int BPF_PROG(zm_signal, int sig, struct kernel_siginfo *info, struct task_struct *target,
	     int group, int result)
{
	if (sig != SIGCHLD_NR)
		return 0;
	struct task_struct *cur = bpf_get_current_task_btf();

	if (!(cur->flags & PF_EXITING_FLAG))
		return 0;
	int code = info->si_code;

	if (code < CLD_EXITED_CODE || code > CLD_DUMPED_CODE)
		return 0;
	__u32 pid = cur->tgid;
	struct zm_zombie *z = bpf_map_lookup_elem(&watched, &pid);

	if (!z || !(z->flags & ZM_F_PENDING))
		return 0;
	if ((__u32)info->_sifields._sigchld._pid != tgid_at_level(cur, target->thread_pid->level))
		return 0;
	struct task_struct *leader = cur->group_leader;
	struct task_struct *parent = leader->real_parent;

	/* The parent may have changed its mind since the exit began. */
	if (parent_autoreaps(leader, parent)) {
		bpf_map_delete_elem(&watched, &pid);
		return 0;
	}
	z->flags &= ~ZM_F_PENDING;
	z->exit_ns = bpf_ktime_get_boot_ns();
	z->ppid = parent->tgid;
	emit_exit(cur, leader, parent, z, false);
	return 0;
}

/*
 * End a watched zombie: the one place a REAP event is made. Deleting from
 * "watched" is the arbiter, so a reap is reported once even when a wait
 * syscall and the free catch-all race.
 */
static __always_inline void reap(__u32 pid, __u64 start_ns, __u32 via,
				 struct task_struct *reaper)
{
	struct zm_zombie *found = bpf_map_lookup_elem(&watched, &pid);

	if (!found)
		return;
	struct zm_zombie z = *found;

	if (!start_ns && (z.flags & ZM_F_TRACED) && reaper->tgid != z.ppid) {
		/* A tracer's wait detaches it (EXIT_TRACE) and hands the
		 * zombie to its parent: no reap. */
		found->flags &= ~ZM_F_TRACED;
		return;
	}
	if (start_ns) {
		/* Free catch-all: the pid may already be another zombie's. */
		if (z.flags & ZM_F_PREEXISTING) {
			if (z.start_ns / USER_HZ_NS != start_ns / USER_HZ_NS)
				return;
		} else if (z.start_ns != start_ns) {
			return;
		}
	}
	if (bpf_map_delete_elem(&watched, &pid))
		return;
	if (z.flags & ZM_F_PENDING)
		return; /* released without ever being a zombie (autoreaped) */

	struct zm_event *e = reserve();

	if (!e)
		return;
	e->type = ZM_EV_REAP;
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->start_ns = z.start_ns;
	e->aux_ns = z.exit_ns;
	e->pid = pid;
	e->ppid = z.ppid;
	e->other_pid = reaper->tgid;
	e->code = via;
	e->flags = z.flags & ZM_F_PREEXISTING;
	__builtin_memcpy(e->comm, z.comm, sizeof(e->comm));
	read_comm(e->pcomm, reaper->group_leader);
	submit(e);
}

SEC("tp_btf/sched_process_free")
int BPF_PROG(zm_free, struct task_struct *p)
{
	__u32 pid = p->tgid;

	if (p->pid != pid)
		return 0; /* a thread, or a leader replaced by exec */
	__u64 start = p->start_boottime;

	if (filter_mode == ZM_FILTER_FOLLOW) {
		__u64 *seen = bpf_map_lookup_elem(&followed, &pid);

		if (seen && (*seen == 0 || *seen == start))
			bpf_map_delete_elem(&followed, &pid);
	}
	/* The reaper: whoever is the parent now (after reparenting). */
	reap(pid, start, ZM_VIA_FREE, p->real_parent);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_wait4")
int zm_wait4_exit(struct trace_event_raw_sys_exit *ctx)
{
	long ret = ctx->ret;

	/* wait4() refuses WNOWAIT: a pid returned for a watched zombie is a
	 * reap (a stopped or continued child was never watched). A caller in
	 * a pid namespace gets its namespace's pid numbers: the free
	 * catch-all sees those reaps. */
	struct task_struct *cur = bpf_get_current_task_btf();

	if (ret > 0 && !cur->thread_pid->level)
		reap((__u32)ret, 0, ZM_VIA_WAIT4, cur);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_waitid")
int zm_waitid_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 infop = ctx->args[2];
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	/* A WNOWAIT peek never reaps; without infop the pid is not known
	 * here and the free catch-all sees the reap. */
	if (!infop || (ctx->args[3] & WNOWAIT_FLAG)) {
		bpf_map_delete_elem(&waitid_infop, &tid); /* no stale slot */
		return 0;
	}
	bpf_map_update_elem(&waitid_infop, &tid, &infop, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_waitid")
int zm_waitid_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *slot = bpf_map_lookup_elem(&waitid_infop, &tid);

	if (!slot)
		return 0;
	__u64 infop = *slot;

	bpf_map_delete_elem(&waitid_infop, &tid);
	if (ctx->ret != 0)
		return 0;
	/* siginfo_t: si_signo, si_errno, si_code, then (64-bit) si_pid at
	 * offset 16. Only CLD_EXITED/KILLED/DUMPED are reaps. */
	int si_code = 0, si_pid = 0;

	if (bpf_probe_read_user(&si_code, sizeof(si_code), (void *)(infop + 8)) ||
	    bpf_probe_read_user(&si_pid, sizeof(si_pid), (void *)(infop + 16)))
		return 0;
	if (si_code < CLD_EXITED_CODE || si_code > CLD_DUMPED_CODE || si_pid <= 0)
		return 0;
	struct task_struct *cur = bpf_get_current_task_btf();

	if (!cur->thread_pid->level) /* else namespaced pids: see wait4 */
		reap((__u32)si_pid, 0, ZM_VIA_WAITID, cur);
	return 0;
}
