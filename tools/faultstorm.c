/* faultstorm [MIB [ROUNDS]]: the page-fault storm of the memory benchmark.
 * Each round maps MIB MiB of anonymous memory, touches every page (one page
 * fault and one rss_stat event each), and unmaps it. Prints the elapsed time
 * as JSON. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 256, rounds = argc > 2 ? atol(argv[2]) : 4;
	long page = sysconf(_SC_PAGESIZE);
	struct timespec a, b;

	if (mib <= 0 || rounds <= 0 || page <= 0) {
		fprintf(stderr, "usage: faultstorm [MIB [ROUNDS]]\n");
		return 2;
	}
	size_t len = (size_t)mib << 20;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long r = 0; r < rounds; r++) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			perror("faultstorm: mmap");
			return 1;
		}
		for (size_t off = 0; off < len; off += (size_t)page)
			p[off] = 1;
		munmap(p, len);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
	long faults = (long)(len / (size_t)page) * rounds;

	printf("{\"faults\":%ld,\"ns\":%.0f,\"ns_per_fault\":%.1f}\n", faults, ns, ns / (double)faults);
	return 0;
}
