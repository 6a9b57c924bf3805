/*
 * bench_files_report.h — what one `cohort-bench files` run measured, its
 * targets, and its two outputs (text on stdout, JSON; schema in
 * docs/bench.md). Shared by bench_files.c (options, setup, phases) and
 * bench_files_report.c.
 */
#ifndef COHORT_BENCH_FILES_REPORT_H
#define COHORT_BENCH_FILES_REPORT_H

#include "cli/bench_http.h"
#include "cli/bench_opts.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define FILES_MAX_CPU 8

struct files_opts {
	const char *scenario;
	const char *url;
	const char *token_file;
	const char *out;
	const char *name;
	const char *note;
	const char *hello;
	const char *path;
	long project;
	long connections;
	long setup_connections;
	long rounds;
	long size;
	long files;
	double duration;
	double warmup;
	double timeout;
	bool help;
	struct bench_multi targets;
	struct bench_multi cpu_pids;
};


struct files_cpu {
	char name[32];
	int pid;
	int64_t start_us;
};

/* One side's totals over all its measured phases. */
struct files_side {
	const char *name;
	struct http_load_result sum;
	double wall_s;
	int phases;
	double cpu_s[FILES_MAX_CPU];
	uint64_t host_busy, host_total;
	double round_rps[100];
};

struct files_run {
	struct files_cpu cpu[FILES_MAX_CPU];
	int ncpu;
	struct files_side sides[2];
	int nsides;
	/* setup */
	uint64_t created, existing, setup_failed;
	double setup_s;
	int setup_status;
	uint64_t tree_entries, tree_files, tree_bytes;
	char date[32];
	char server[64];
	char error[320];
};


struct files_target {
	char expr[64];
	char metric[32];
	char op[3];
	double threshold, value;
	bool known, pass;
};

bool files_is_read4k(const struct files_opts *o);
/* The side single-side metrics refer to: the file (read4k) or the list. */
const struct files_side *files_main_side(const struct files_run *fr);

/* Parses "metric<op>number" (ops <= >= < > ==); the metric is checked when
 * evaluated (an unknown one fails). */
int files_target_parse(struct files_target *t, const char *expr);
void files_target_eval(struct files_target *t, const struct files_run *fr);
/* Sets known, value and pass for a metric measured elsewhere (also used by
 * cohort-bench edit). */
void files_target_decide(struct files_target *t, bool known, double v);

void files_report_print(const struct files_run *fr, const struct files_opts *o,
			const struct files_target *t, int nt, FILE *f);
/* targets[i] is side i's request path. 0 or COHORT_E_IO. */
int files_report_json(const struct files_run *fr, const struct files_opts *o,
		      const struct files_target *t, int nt, bool pass, const char *const targets[2],
		      const char *path);

#endif
