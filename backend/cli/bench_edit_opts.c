/*
 * bench_edit_opts.c — the options of `cohort-bench edit`: one table (also
 * the --help text), scenario defaults, and the checks that give bad options
 * a clean message.
 */
#include "cli/bench_edit_report.h"
#include "core/err.h"
#include "core/num.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHO "cohort-bench edit"
#define EDIT_MAX_FILES 1000
#define EDIT_MAX_WRITERS 2000
#define EDIT_MAX_CONNS 20000

static const struct bench_opt opts[] = {
	{ "url", BENCH_OPT_STR, offsetof(struct edit_opts, url), "URL", "nginx in front of cohort (required)" },
	{ "course", BENCH_OPT_LONG, offsetof(struct edit_opts, course), "ID",
	  "a course the token's user teaches: one lesson and project per file are made in it (required)" },
	{ "token-file", BENCH_OPT_STR, offsetof(struct edit_opts, token_file), "FILE",
	  "file holding the Bearer token (else $COHORT_BENCH_TOKEN)" },
	{ "files", BENCH_OPT_LONG, offsetof(struct edit_opts, files), "F",
	  "files, each in its own project (fanout 100, hot 1)" },
	{ "subscribers", BENCH_OPT_LONG, offsetof(struct edit_opts, subscribers), "S",
	  "SSE subscribers per file (fanout 30, hot 200, size 0)" },
	{ "writers", BENCH_OPT_LONG, offsetof(struct edit_opts, writers), "W",
	  "writers per file, each a distinct clientID (fanout 3, hot 200, size 8)" },
	{ "rate", BENCH_OPT_DBL, offsetof(struct edit_opts, rate), "R",
	  "edits/s per writer (5; size: 0 = closed loop)" },
	{ "duration", BENCH_OPT_DBL, offsetof(struct edit_opts, duration), "S",
	  "seconds of writing (fanout, hot 10; size: per phase, 5)" },
	{ "warmup", BENCH_OPT_DBL, offsetof(struct edit_opts, warmup), "S",
	  "first seconds whose edits are not in the latency (1; size: unmeasured phase per file)" },
	{ "settle", BENCH_OPT_DBL, offsetof(struct edit_opts, settle), "S",
	  "wait after the subscribers connected (1)" },
	{ "drain", BENCH_OPT_DBL, offsetof(struct edit_opts, drain), "S",
	  "most seconds to wait for the last updates after writing (10)" },
	{ "initial", BENCH_OPT_LONG, offsetof(struct edit_opts, initial), "BYTES",
	  "fanout, hot: size of each file at the start (1024)" },
	{ "small", BENCH_OPT_LONG, offsetof(struct edit_opts, small), "BYTES", "size: the small file (1024)" },
	{ "large", BENCH_OPT_LONG, offsetof(struct edit_opts, large), "BYTES",
	  "size: the large file (1000000; api.max_body is 1 MiB)" },
	{ "rounds", BENCH_OPT_LONG, offsetof(struct edit_opts, rounds), "N",
	  "size: alternating small/large phase pairs (2)" },
	{ "path", BENCH_OPT_STR, offsetof(struct edit_opts, path), "P", "file path in each project (edit.txt)" },
	{ "threads", BENCH_OPT_LONG, offsetof(struct edit_opts, threads), "T", "subscriber epoll threads (1)" },
	{ "timeout", BENCH_OPT_DBL, offsetof(struct edit_opts, timeout), "S", "per request and per connect (10)" },
	{ "cpu-pid", BENCH_OPT_MULTI, offsetof(struct edit_opts, cpu_pids), "NAME=PID",
	  "report CPU use of this process and its children (repeatable)" },
	{ "out", BENCH_OPT_STR, offsetof(struct edit_opts, out), "FILE", "write the JSON report here" },
	{ "name", BENCH_OPT_STR, offsetof(struct edit_opts, name), "NAME", "scenario name in the report" },
	{ "note", BENCH_OPT_STR, offsetof(struct edit_opts, note), "TEXT", "free text kept in the JSON" },
	{ "target", BENCH_OPT_MULTI, offsetof(struct edit_opts, targets), "EXPR",
	  "a goal such as p99_ms<=10 or lost==0, reported as pass/fail (repeatable)" },
	{ "help", BENCH_OPT_FLAG, offsetof(struct edit_opts, help), NULL, "this text" },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *f)
{
	bench_opts_usage(f, "cohort-bench edit fanout|hot|size --url URL --course ID [options]", opts, NOPTS);
	fprintf(f, "\ntarget metrics: p50_ms p95_ms p99_ms max_ms lost duplicates edit_duplicates\n"
		   "                edits_missing accepted_per_s offered_per_s ratio (size) errors\n"
		   "                server_mismatches\n");
}

bool edit_is_size(const struct edit_opts *o)
{
	return !strcmp(o->scenario, "size");
}

/* Scenario defaults for every option left at -1. */
static void defaults(struct edit_opts *o)
{
	bool fan = !strcmp(o->scenario, "fanout"), hot = !strcmp(o->scenario, "hot");

#define DEF(f, vf, vh, vs) \
	if (o->f < 0)      \
		o->f = fan ? (vf) : hot ? (vh) : (vs)
	DEF(files, 100, 1, 1);
	DEF(subscribers, 30, 200, 0);
	DEF(writers, 3, 200, 8);
	DEF(rate, 5, 5, 0);
	DEF(duration, 10, 10, 5);
#undef DEF
}

static int check_opts(const struct edit_opts *o)
{
	const char *why = NULL;

	if (!o->url)
		why = "--url is required";
	else if (o->course < 1)
		why = "--course is required";
	else if (o->files < 1 || o->files > EDIT_MAX_FILES)
		why = "--files must be 1..1000";
	else if (o->writers < 1 || o->files * o->writers > EDIT_MAX_WRITERS)
		why = "--writers must be >= 1, and files x writers at most 2000";
	else if (o->subscribers < 0 || o->files * o->subscribers > EDIT_MAX_CONNS)
		why = "--subscribers must be >= 0, and files x subscribers at most 20000";
	else if (edit_is_size(o) && o->subscribers)
		why = "size has no subscribers (--subscribers 0)";
	else if (o->rate < 0 || o->rate > 1000 || (!edit_is_size(o) && o->rate == 0))
		why = "--rate must be 0..1000 edits/s (0, closed loop, only for size)";
	else if (o->duration <= 0 || o->duration > 3600 || o->warmup < 0 || o->settle < 0 ||
		 o->drain < 0 || o->timeout <= 0)
		why = "--duration must be 0..3600 s, --timeout > 0, --warmup, --settle, --drain >= 0";
	else if (!edit_is_size(o) && o->warmup >= o->duration)
		why = "--warmup must be shorter than --duration";
	else if (o->threads < 1 || o->threads > 16)
		why = "--threads must be 1..16";
	else if (o->initial < 0 || o->initial > (8L << 20) || o->small < 0 || o->small > (8L << 20) ||
		 o->large < 0 || o->large > (8L << 20))
		why = "--initial, --small and --large must be 0..8388608";
	else if (o->rounds < 1 || o->rounds > 50)
		why = "--rounds must be 1..50";
	else if (!o->path || !o->path[0] || strlen(o->path) > 200 || strpbrk(o->path, " %&?#+\"\\\r\n"))
		why = "--path must be a plain relative path";
	if (why)
		fprintf(stderr, WHO ": %s\n", why);
	return why ? COHORT_E_INVAL : 0;
}


int edit_opts_parse(int argc, char **argv, struct edit_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->files = o->subscribers = o->writers = -1;
	o->rate = o->duration = -1;
	o->threads = 1;
	o->initial = 1024;
	o->small = 1024;
	o->large = 1000000;
	o->rounds = 2;
	o->warmup = 1;
	o->settle = 1;
	o->drain = 10;
	o->timeout = 10;
	o->path = "edit.txt";
	if (bench_opts_parse(WHO, argc, argv, opts, NOPTS, o, &o->scenario))
		return COHORT_E_INVAL;
	if (o->help) {
		usage(stdout);
		return 1;
	}
	if (!o->scenario || (strcmp(o->scenario, "fanout") && strcmp(o->scenario, "hot") &&
			     strcmp(o->scenario, "size"))) {
		fprintf(stderr, WHO ": the scenario must be fanout, hot or size (see --help)\n");
		return COHORT_E_INVAL;
	}
	defaults(o);
	return check_opts(o);
}
