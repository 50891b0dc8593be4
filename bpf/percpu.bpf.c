// SPDX-License-Identifier: GPL-2.0
/*
 * Run once at start-up (BPF_PROG_TEST_RUN) to learn each possible CPU's
 * per-CPU offset (__per_cpu_offset[cpu]), which this kernel does not list
 * in kallsyms: the address of CPU n's copy of a per-CPU map value, minus
 * the value's per-CPU address (the array's pptrs[0]). zmtrace reads the
 * per-CPU parts of mm counters with them (user/percpu.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 ncpus = 1; /* possible CPUs */
__u64 pcpu_base;		/* the value's per-CPU address */
__u64 map_addr;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} probe SEC(".maps");

/* CPU n's copy of probe's value, by address: n entries. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set to ncpus */
	__type(key, __u32);
	__type(value, __u64);
} copies SEC(".maps");

static long one_cpu(__u64 i, void *ctx)
{
	__u32 key = 0, cpu = (__u32)i;
	void *copy = bpf_map_lookup_percpu_elem(&probe, &key, cpu);
	__u64 *out = bpf_map_lookup_elem(&copies, &cpu);

	if (!out)
		return 1;
	*out = copy ? (__u64)copy : 0; /* 0: not a CPU (user space checks) */
	return 0;
}

SEC("syscall")
int zm_percpu_offsets(void *ctx)
{
	/* The map's address as a number (no arithmetic on a map pointer),
	 * read back through memory. */
	map_addr = (__u64)&probe;
	__u64 arr = *(volatile __u64 *)&map_addr;
	void *base;

	if (bpf_probe_read_kernel(&base, sizeof(base),
				  (void *)(arr + bpf_core_field_offset(struct bpf_array, pptrs))))
		return 1;
	pcpu_base = (__u64)base;
	return bpf_loop(ncpus, one_cpu, NULL, 0) == (long)ncpus ? 0 : 2;
}
