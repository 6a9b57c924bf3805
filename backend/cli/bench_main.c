/*
 * cohort-bench — the load generator of cohort. One command per mode, from
 * one table; see docs/bench.md.
 */
#include "cli/bench_edit.h"
#include "cli/bench_fanout.h"
#include "cli/bench_files.h"
#include "cli/bench_hello.h"
#include "cli/bench_html.h"

#include <stdio.h>
#include <string.h>

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "fanout", bench_fanout_main,
	  "SSE subscribers on dev streams, events appended to Redis; --idle for memory only" },
	{ "files", bench_files_main,
	  "REST load through nginx: read4k (a 4 KiB file vs hello-fcgi), list2000 (a tree)" },
	{ "edit", bench_edit_main,
	  "live editing through nginx: fanout (100 files), hot (1 file, 200 authors), size (1 MB vs 1 KB)" },
	{ "hello-fcgi", bench_hello_main, "the trivial FastCGI responder files read4k compares with" },
	{ "report", bench_report_main, "HTML report from JSON results: report --out F.html A.json..." },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cohort-bench <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n`cohort-bench <command> --help` lists a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "cohort-bench: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
