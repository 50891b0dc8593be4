/* zmtrace: which parent leaks zombies, which process's memory keeps growing.
 * This file only dispatches to the subcommands (cmd_*.c). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "zmtrace.h"

#define ZMTRACE_VERSION "0.1.0"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "zombies", cmd_zombies, "every zombie, its parent, how long until reaped; parents ranked" },
	{ "rss", cmd_rss, "every process's memory as it changes, system memory, leak suspects" },
	{ "top", cmd_top, "live screen: system memory, zombie leakers, biggest and growing processes" },
	{ "record", cmd_record, "every event to a capture file, for report" },
	{ "report", cmd_report, "a capture's diagnosis: text, json, csv, html graphs, perfetto trace" },
	{ "check", cmd_check, "run a command; fail when it leaks zombies or memory (for CI)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: zmtrace COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'zmtrace COMMAND --help' shows a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[1];

	if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(name, "-V") || !strcmp(name, "--version")) {
		printf("zmtrace %s (event ABI %d)\n", ZMTRACE_VERSION, ZM_ABI_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "zmtrace: unknown command '%s' (try zmtrace --help)\n", name);
	return 2;
}
