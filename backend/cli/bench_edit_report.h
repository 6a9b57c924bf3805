/*
 * bench_edit_report.h — what one `cohort-bench edit` run measured, and its
 * two outputs (text on stdout, JSON; schema in docs/bench.md). Shared by
 * bench_edit.c (options, setup, writers, subscribers) and
 * bench_edit_report.c.
 */
#ifndef COHORT_BENCH_EDIT_REPORT_H
#define COHORT_BENCH_EDIT_REPORT_H

#include "cli/bench_edit_check.h"
#include "cli/bench_files_report.h"
#include "cli/bench_hist.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define EDIT_MAX_CPU 8

struct edit_opts {
	const char *scenario; /* fanout, hot, size */
	const char *url;
	const char *token_file;
	const char *out;
	const char *name;
	const char *note;
	const char *path;
	long course;
	long files;
	long subscribers; /* per file */
	long writers;     /* per file */
	long threads;     /* SSE epoll threads */
	long initial;     /* bytes of each file (fanout, hot) */
	long small, large; /* size: the two files */
	long rounds;
	double rate;      /* edits/s per writer; 0: closed loop */
	double duration;
	double warmup;
	double settle;
	double drain;
	double timeout;
	bool help;
	struct bench_multi targets;
	struct bench_multi cpu_pids;
};

/* Writers' totals over one side (fanout, hot: the one run; size: each file). */
struct edit_push {
	const char *label;
	long file_bytes;
	double wall_s;        /* measured seconds (sum over phases) */
	int phases;
	uint64_t offered;     /* edits due by the schedule (rate mode) */
	uint64_t edits;       /* edits started (first attempts) */
	uint64_t attempts;    /* pushes sent, retries included */
	uint64_t accepted;    /* answered accepted 1 (or skipped: accepted before) */
	uint64_t skipped;     /* of those, answered skipped (a retry of an accepted push) */
	uint64_t unconfirmed; /* of those, given up but found in the document at the end */
	uint64_t conflicts;   /* 409 answers, retried */
	uint64_t retried;     /* retries of any cause */
	uint64_t gone;        /* 410 answers (reloaded) */
	uint64_t failed;      /* edits given up */
	uint64_t http_errors; /* answers other than 200, 409, 410 */
	uint64_t transport_errors;
	uint64_t late;        /* started more than one period after their due time */
	int last_status;
	struct hist push_us;   /* one push, request to answer */
	struct hist accept_us; /* first attempt to the accepting answer */
	double cpu_s[EDIT_MAX_CPU];
	uint64_t host_busy, host_total;
	/* server check after the side's last phase */
	long files_checked;
	long version_mismatches;
	long length_mismatches;
	char check[160];
};

struct edit_cpu {
	char name[32];
	int pid;
};

struct edit_result {
	char date[32];
	char server[64];
	char error[320];
	double setup_s;
	long projects;
	/* subscribers */
	uint64_t connected, connect_failed, closed, http_errors;
	uint64_t updates_expected;   /* Σ over connected subscribers of the versions their file gained */
	uint64_t updates_delivered;  /* distinct versions received */
	uint64_t lost;               /* versions skipped, or missing at the end */
	uint64_t duplicates;         /* a version received again (or older) */
	uint64_t edit_duplicates;    /* one writer's edit received twice under two versions */
	uint64_t edits_missing;      /* accepted edits a subscriber never received */
	uint64_t edit_gaps;          /* a writer's edit numbers skipped in arrival */
	uint64_t foreign;            /* other events on the streams */
	uint64_t resets;
	uint64_t per_conn_min, per_conn_max;
	double drain_s;
	struct hist latency_us;      /* push (first attempt) to delivery, measured edits */
	struct edit_push sides[2];
	int nsides;
	struct edit_cpu cpu[EDIT_MAX_CPU];
	int ncpu;
};

/* Parses argv (argv[0] is "edit") with the scenario's defaults and checks
 * the result: 0, 1 when --help was printed, or COHORT_E_INVAL after a
 * message on stderr. */
int edit_opts_parse(int argc, char **argv, struct edit_opts *o);
bool edit_is_size(const struct edit_opts *o);

double edit_push_rate(const struct edit_push *p);
uint64_t edit_errors(const struct edit_result *r);
/* Target metrics: p50_ms p95_ms p99_ms max_ms lost duplicates edit_duplicates
 * edits_missing accepted_per_s offered_per_s ratio errors server_mismatches. */
bool edit_metric(const struct edit_result *r, const char *m, double *v);

void edit_report_print(const struct edit_result *r, const struct edit_opts *o,
		       const struct files_target *t, int nt, FILE *f);
int edit_report_json(const struct edit_result *r, const struct edit_opts *o,
		     const struct files_target *t, int nt, bool pass, const char *path);

#endif
