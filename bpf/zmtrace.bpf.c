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

/* Set by user space before load. */
const volatile unsigned int filter_mode = ZM_FILTER_NONE;
const volatile char filter_comm[ZM_COMM_LEN] = {};
const volatile bool emit_lifecycle = false;

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

/* Zombies whose reap is awaited, by pid. Not preallocated: creating 64k
 * entries up front costs ~10 ms of start-up, and exits are not a hot path. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
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
	if (!emit_lifecycle)
		return 0;
	struct task_struct *parent = p->real_parent;

	if (!selected(p, parent))
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

static __always_inline int on_group_exit(struct task_struct *task)
{
	struct task_struct *leader = task->group_leader;
	struct task_struct *parent = leader->real_parent;
	__u32 pid = task->tgid;

	if (!selected(leader, parent))
		return 0;
	bool autoreap = parent_autoreaps(leader, parent);

	if (autoreap && !emit_lifecycle)
		return 0;
	__u64 now = bpf_ktime_get_boot_ns();
	struct zm_zombie z = {
		.start_ns = leader->start_boottime,
		.exit_ns = now,
		.ppid = parent->tgid,
		.flags = 0,
	};
	read_comm(z.comm, leader);
	if (!autoreap && bpf_map_update_elem(&watched, &pid, &z, BPF_ANY))
		count_drop(ZM_DROP_TRACKED);

	struct zm_event *e = reserve();

	if (!e)
		return 0;
	__u32 status = wait_status(leader);
	__u32 flags = autoreap ? ZM_F_AUTOREAP : 0;

	if (status & 0x80)
		flags |= ZM_F_CORE;
	if (task->pid != pid)
		flags |= ZM_F_THREAD_LAST;
	e->type = ZM_EV_EXIT;
	e->ts_ns = now;
	e->start_ns = z.start_ns;
	e->aux_ns = parent->start_boottime;
	e->pid = pid;
	e->ppid = z.ppid;
	e->other_pid = task->pid;
	e->code = status;
	e->flags = flags;
	__builtin_memcpy(e->comm, z.comm, sizeof(e->comm));
	read_comm(e->pcomm, parent);
	submit(e);
	return 0;
}

/* Kernels with sched_process_exit(p, group_dead) (6.16 and later). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(zm_exit, struct task_struct *p, bool group_dead)
{
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
	 * reap (a stopped or continued child was never watched). */
	if (ret > 0)
		reap((__u32)ret, 0, ZM_VIA_WAIT4, bpf_get_current_task_btf());
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_waitid")
int zm_waitid_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 infop = ctx->args[2];
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	/* A WNOWAIT peek never reaps; without infop the pid is not known
	 * here and the free catch-all sees the reap. */
	if (!infop || (ctx->args[3] & WNOWAIT_FLAG))
		return 0;
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
	reap((__u32)si_pid, 0, ZM_VIA_WAITID, bpf_get_current_task_btf());
	return 0;
}
