/* Command-line parsing shared by the subcommands that trace. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "util.h"

FILE *open_output(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

	if (!f) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		fprintf(stderr, "zmtrace: cannot open %s: %s\n", path, strerror(err));
	}
	return f;
}

int trace_output_close(struct trace_args *a, int status)
{
	FILE *f = a->out ? a->out : stdout;
	int err = 0;

	if (fflush(f) == EOF)
		err = errno;
	else if (ferror(f))
		err = EIO; /* met earlier: reported then, if out_check() was used */
	if (f != stdout && fclose(f) == EOF && !err)
		err = errno;
	a->out = a->s.out = NULL;
	if (!err || status == 141)
		return status;
	return out_write_error(err) == -EPIPE ? 141 : 1;
}

/* One of check's limits (c: its option's letter). 0, or -1 after a
 * one-line error. */
static int parse_limit(int c, const char *arg, struct check_limits *l)
{
	const char *opt = c == 'Z' ? "--max-zombie-ms" : "--max-unreaped";
	unsigned long long v;
	char *end;

	l->given = true;
	if (c == 'L') {
		l->no_leak = true;
		return 0;
	}
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' ||
	    v > (c == 'Z' ? UINT64_MAX / NSEC_PER_MSEC : INT32_MAX)) {
		fprintf(stderr, "zmtrace: %s wants a whole number >= 0, not '%s'\n", opt, arg);
		return -1;
	}
	if (c == 'U')
		l->max_unreaped = (long)v;
	else /* a limit of 0 ms: every zombie counts */
		l->max_zombie_ns = v ? v * NSEC_PER_MSEC : 1;
	return 0;
}

int parse_trace_args(int argc, char **argv, const char *usage, struct trace_args *a)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },   { "duration", required_argument, NULL, 'd' },
		{ "pid", required_argument, NULL, 'p' }, { "comm", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "threshold", required_argument, NULL, 'T' },
		{ "interval", required_argument, NULL, 'i' },
		{ "sample", required_argument, NULL, 'S' },
		{ "max-zombie-ms", required_argument, NULL, 'Z' },
		{ "max-unreaped", required_argument, NULL, 'U' },
		{ "no-leak", no_argument, NULL, 'L' },
		{ 0 },
	};
	const char *output = NULL;
	int c;

	a->out = a->s.out = stdout;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+jo:d:p:c:vhT:i:S:", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (a->capture) {
				fprintf(stderr, "zmtrace: unknown option --json (usage: %s)\n", usage);
				return 2;
			}
			a->json = true;
			break;
		case 'o':
			if (!optarg[0]) {
				fprintf(stderr, "zmtrace: -o wants a file name\n");
				return 2;
			}
			output = optarg;
			break;
		case 'd':
			if (parse_seconds(optarg, &a->s.duration)) {
				fprintf(stderr, "zmtrace: --duration wants seconds > 0, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'p':
			if (parse_pid(optarg, &a->s.pid)) {
				fprintf(stderr, "zmtrace: -p wants a pid, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'c':
			if (!optarg[0] || strlen(optarg) > ZM_COMM_LEN - 1) {
				fprintf(stderr,
					"zmtrace: -c wants a command name of 1 to 15 characters (the "
					"kernel's comm), not '%s'\n",
					optarg);
				return 2;
			}
			a->s.comm = optarg;
			break;
		case 'v':
			a->s.verbose = true;
			break;
		case 'T':
		case 'i':
		case 'S':
			if (!a->memory_options) {
				fprintf(stderr, "zmtrace: unknown option %s (usage: %s)\n",
					argv[optind - 1], usage);
				return 2;
			}
			if (c == 'T' && (parse_size(optarg, &a->s.rss_threshold) ||
					 a->s.rss_threshold < 4096 || a->s.rss_threshold > (1ULL << 40))) {
				fprintf(stderr, "zmtrace: --threshold wants a size from 4K to 1T (like "
					"512K, 1M, 2G), not '%s'\n", optarg);
				return 2;
			}
			if (c == 'i' && (parse_seconds(optarg, &a->s.interval) || a->s.interval < 0.01)) {
				fprintf(stderr, "zmtrace: --interval wants seconds >= 0.01, not '%s'\n",
					optarg);
				return 2;
			}
			if (c == 'S') {
				uint32_t hz;

				if (parse_pid(optarg, &hz) || hz > 10000) {
					fprintf(stderr, "zmtrace: --sample wants a rate from 1 to 10000 Hz, "
						"not '%s'\n", optarg);
					return 2;
				}
				a->s.sample_hz = hz;
			}
			break;
		case 'Z':
		case 'U':
		case 'L':
			if (!a->check_options) {
				fprintf(stderr, "zmtrace: unknown option %s (usage: %s)\n",
					argv[optind - 1], usage);
				return 2;
			}
			if (parse_limit(c, optarg, &a->limits))
				return 2;
			break;
		case 'h':
			printf("usage: %s\n", usage);
			return 1;
		default:
			/* optopt is also set for a long-only option missing its
			 * value: name that one as given. */
			if (optopt == 'Z' || optopt == 'U')
				fprintf(stderr, "zmtrace: %s wants a value (usage: %s)\n",
					argv[optind - 1], usage);
			else if (optopt)
				fprintf(stderr, "zmtrace: unknown option or missing value: -%c (usage: %s)\n",
					optopt, usage);
			else
				fprintf(stderr, "zmtrace: unknown option %s (usage: %s)\n",
					argv[optind - 1], usage);
			return 2;
		}
	}
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--")) {
			fprintf(stderr, "zmtrace: unexpected argument '%s' (a command to run goes "
				"after --)\n", argv[optind]);
			return 2;
		}
		a->s.command = argv + optind;
	}
	int modes = !!a->s.pid + !!a->s.comm + !!a->s.command;

	if (modes > 1) {
		fprintf(stderr, "zmtrace: -p, -c and -- COMMAND exclude each other\n");
		return 2;
	}
	if (a->capture) {
		/* Nothing goes to stdout: its reader going away (`zmtrace
		 * check -- make test | head`) must not end the session. */
		a->capture_path = output;
		a->s.out = NULL;
		return 0;
	}
	/* Opened last: nothing is created when the command line is wrong. */
	if (output && !(a->out = a->s.out = open_output(output))) {
		a->out = a->s.out = stdout;
		return 2;
	}
	/* Each record is written whole, at once: live output, and a write
	 * error shows right after the record that met it. */
	setvbuf(a->out, NULL, _IOLBF, 0);
	return 0;
}
