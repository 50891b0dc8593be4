// SPDX-License-Identifier: GPL-2.0
/*
 * Empty programs on the hooks zmtrace uses: the baseline that benchmarks
 * (tools/bench-lifecycle.sh) set each zmtrace handler's cost against. They
 * do nothing; what they cost is the price of having any program there.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sched_process_fork")
int BPF_PROG(empty_fork) { return 0; }

SEC("tp_btf/sched_process_exec")
int BPF_PROG(empty_exec) { return 0; }

SEC("tp_btf/sched_process_exit")
int BPF_PROG(empty_exit) { return 0; }

SEC("tp_btf/sched_process_free")
int BPF_PROG(empty_free) { return 0; }

SEC("tracepoint/syscalls/sys_exit_wait4")
int empty_wait4_exit(void *ctx) { return 0; }

SEC("tp_btf/rss_stat")
int BPF_PROG(empty_rss) { return 0; }

SEC("tp_btf/signal_generate")
int BPF_PROG(empty_signal) { return 0; }
