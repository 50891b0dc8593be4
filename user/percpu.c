/* Per-CPU offsets: see percpu.h. */
#include "percpu.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>

#include "percpu.skel.h"

int percpu_offsets(uint64_t **offs, int *n)
{
	*offs = NULL;
	*n = 0;
	int ncpus = libbpf_num_possible_cpus();

	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	struct percpu_bpf *skel = percpu_bpf__open();

	if (!skel)
		return -errno;
	int ret = -ENOMEM;
	uint64_t *v = calloc((size_t)ncpus, sizeof(*v));

	if (!v)
		goto out;
	skel->rodata->ncpus = (uint32_t)ncpus;
	bpf_map__set_max_entries(skel->maps.copies, (uint32_t)ncpus);
	if ((ret = percpu_bpf__load(skel)))
		goto out;
	LIBBPF_OPTS(bpf_test_run_opts, run);
	if ((ret = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.zm_percpu_offsets), &run)))
		goto out;
	ret = -ENOTSUP;
	if (run.retval || !skel->bss->pcpu_base)
		goto out;
	int fd = bpf_map__fd(skel->maps.copies);

	for (uint32_t cpu = 0; cpu < (uint32_t)ncpus; cpu++) {
		uint64_t copy = 0;

		if (bpf_map_lookup_elem(fd, &cpu, &copy) || !copy)
			goto out;
		v[cpu] = copy - skel->bss->pcpu_base;
	}
	*offs = v;
	*n = ncpus;
	v = NULL;
	ret = 0;
out:
	free(v);
	percpu_bpf__destroy(skel);
	return ret;
}

bool percpu_linear(const uint64_t *offs, int n, uint64_t *base, uint64_t *step)
{
	if (n <= 0)
		return false;
	*base = offs[0];
	*step = n > 1 ? offs[1] - offs[0] : 0;
	for (int i = 2; i < n; i++)
		if (offs[i] != *base + (uint64_t)i * *step)
			return false;
	return true;
}
