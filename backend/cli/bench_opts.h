/*
 * bench_opts.h — the option tables of cohort-bench's commands (fanout,
 * files, edit): one row per option, also the --help text, parsed into the
 * command's own struct through the rows' offsets.
 */
#ifndef COHORT_BENCH_OPTS_H
#define COHORT_BENCH_OPTS_H

#include <stddef.h>
#include <stdio.h>

/* A repeatable option (--target, --cpu-pid). */
#define BENCH_MAX_MULTI 16

struct bench_multi {
	const char *v[BENCH_MAX_MULTI];
	int n;
};

enum bench_opt_type {
	BENCH_OPT_STR,   /* const char * */
	BENCH_OPT_LONG,  /* long */
	BENCH_OPT_DBL,   /* double, finite */
	BENCH_OPT_FLAG,  /* bool, takes no value */
	BENCH_OPT_MULTI, /* struct bench_multi, up to BENCH_MAX_MULTI values */
};

struct bench_opt {
	const char *name; /* without the leading "--" */
	enum bench_opt_type type;
	size_t off;       /* offsetof the field in the command's options struct */
	const char *arg;  /* the value's name in --help, NULL for a flag */
	const char *help;
};

/*
 * Parses argv[1..argc): "--name value", "--name=value" and flags into dst.
 * When scenario is not NULL, the first argument that is not an option is
 * stored there; any other one is an error. Problems are one line on stderr
 * prefixed with who; the return is then COHORT_E_INVAL.
 */
int bench_opts_parse(const char *who, int argc, char **argv, const struct bench_opt *opts, size_t nopts,
		     void *dst, const char **scenario);

/* "usage: <synopsis>", a blank line, then one line per option. */
void bench_opts_usage(FILE *f, const char *synopsis, const struct bench_opt *opts, size_t nopts);

#endif
