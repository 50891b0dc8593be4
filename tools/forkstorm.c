/* forkstorm N: fork N children that exit at once, each reaped by wait4 — a
 * process-lifecycle storm (fork, exit, zombie, reap, free per iteration).
 * Prints the elapsed time in ns and per iteration. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000;
	struct timespec a, b;

	if (n <= 0) {
		fprintf(stderr, "usage: forkstorm N\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) != pid) {
			perror("waitpid");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);

	printf("{\"iterations\":%ld,\"ns\":%.0f,\"ns_per_iter\":%.0f}\n", n, ns, ns / n);
	return 0;
}
