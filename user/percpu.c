/* Per-CPU offsets: see percpu.h. */
#include "percpu.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "percpu.skel.h"

#define MAX_CPU_IDS 65536

/* The possible CPUs ("0-3,8-11"): ids[i] set for each; their highest + 1,
 * or -errno. (CPU ids, unlike libbpf_num_possible_cpus(), may have holes.) */
static int possible_cpus(bool **ids)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	char buf[4096];

	*ids = NULL;
	if (!f)
		return -errno;
	bool got = fgets(buf, sizeof(buf), f) != NULL;

	fclose(f);
	if (!got)
		return -EIO;
	bool *v = calloc(MAX_CPU_IDS, sizeof(*v));

	if (!v)
		return -ENOMEM;
	int n = 0;

	for (char *p = buf; *p && *p != '\n';) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;

		if (end == p)
			break;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		if (lo < 0 || hi < lo || hi >= MAX_CPU_IDS) {
			free(v);
			return -ERANGE;
		}
		for (long c = lo; c <= hi; c++)
			v[c] = true;
		if (hi + 1 > n)
			n = (int)hi + 1;
		p = *end == ',' ? end + 1 : end;
	}
	if (!n) {
		free(v);
		return -EINVAL;
	}
	*ids = v;
	return n;
}

int percpu_offsets(uint64_t **offs, int *n)
{
	*offs = NULL;
	*n = 0;
	bool *possible;
	int ncpus = possible_cpus(&possible);

	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	struct percpu_bpf *skel = percpu_bpf__open();
	int ret = -errno;
	uint64_t *v = NULL;

	if (!skel)
		goto out;
	ret = -ENOMEM;
	if (!(v = calloc((size_t)ncpus, sizeof(*v))))
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

		if (!possible[cpu])
			continue; /* offset 0: not a CPU */
		if (bpf_map_lookup_elem(fd, &cpu, &copy) || !copy)
			goto out;
		v[cpu] = copy - skel->bss->pcpu_base;
		if (!v[cpu])
			goto out;
	}
	*offs = v;
	*n = ncpus;
	v = NULL;
	ret = 0;
out:
	free(v);
	free(possible);
	percpu_bpf__destroy(skel);
	return ret;
}

int percpu_split(const uint64_t *offs, int n, int max, struct percpu_pieces *out)
{
	if (max > 8)
		max = 8;
	/* The commonest step from one CPU to the next (a unit's size; across
	 * a hole in the ids, the difference over the ids between, when it
	 * divides): Boyer-Moore majority vote, then checked by use. */
	uint64_t step = 0;
	int votes = 0;

	for (int i = 0, prev = -1; i < n; i++) {
		if (!offs[i])
			continue;
		uint64_t d = prev < 0 ? 0 : offs[i] - offs[prev], ids = (uint64_t)(i - prev);

		if (prev >= 0 && d % ids == 0) {
			d /= ids;
			if (!votes)
				step = d, votes = 1;
			else
				votes += d == step ? 1 : -1;
		}
		prev = i;
	}
	out->step = step;
	int k = 0;

	for (int i = 0; i < n; i++) {
		if (!offs[i])
			continue;
		if (k && offs[i] == out->base[k - 1] + (uint64_t)i * step)
			continue;
		if (k == max)
			return 0;
		out->start[k] = k ? (uint64_t)i : 0;
		out->base[k] = offs[i] - (uint64_t)i * step;
		k++;
	}
	return k;
}
