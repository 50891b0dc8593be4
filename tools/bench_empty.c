/* Loads bpf/empty.bpf.c's empty programs and holds them until stdin closes
 * or a signal: the baseline for tools/bench-lifecycle.sh. Prints "ready". */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "empty.skel.h"

int main(void)
{
	struct empty_bpf *skel = empty_bpf__open_and_load();

	if (!skel || empty_bpf__attach(skel)) {
		fprintf(stderr, "bench_empty: cannot load or attach the empty programs\n");
		empty_bpf__destroy(skel);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	char c;

	while (read(0, &c, 1) > 0)
		;
	empty_bpf__destroy(skel);
	return 0;
}
