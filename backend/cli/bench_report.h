/*
 * bench_report.h — the result of one run, its targets, and its two outputs:
 * a short text summary on stdout and a JSON document (schema in
 * docs/bench.md). The HTML report (bench_html.c) is built from the JSON.
 */
#ifndef COHORT_BENCH_REPORT_H
#define COHORT_BENCH_REPORT_H

#include "cli/bench_hist.h"
#include "cli/bench_sys.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_MAX_TARGETS 16
#define BENCH_MAX_CPU 8
#define BENCH_JSON_VERSION 1

struct bench_target {
	char expr[64];   /* as given, e.g. "p99_ms<=50" */
	char metric[32];
	char op[3];
	double threshold;
	double value;
	bool known; /* the metric exists and was measured */
	bool pass;
};

struct bench_cpu {
	char name[32];
	int pid;
	int64_t start_us;
	int64_t us; /* CPU time used during the measured window */
};

struct bench_result {
	/* what was run */
	const char *name;
	bool idle;
	const char *url;
	const char *via;
	const char *note;
	char server[64];
	long subscribers;
	long streams;
	double rate;
	double warmup_s;
	double duration_s;
	long payload;
	int threads;
	int connect_batch;
	double read_interval_ms;
	char date[32];
	long cpus;
	long nofile;

	/* connections */
	uint64_t connected;
	uint64_t connect_failed;
	uint64_t http_errors;
	uint64_t not_event_stream;
	int last_status;
	double connect_wall_s;
	struct hist connect_us;
	uint64_t closed;

	/* events */
	uint64_t published;
	uint64_t published_measured;
	uint64_t expected;
	uint64_t expected_measured;
	uint64_t delivered;
	uint64_t delivered_measured;
	uint64_t lost;
	uint64_t unexpected; /* delivered beyond what was expected */
	uint64_t duplicates;
	uint64_t out_of_order;
	uint64_t gaps;
	uint64_t wrong_stream;
	uint64_t bad_ids;
	uint64_t foreign;
	uint64_t resets;
	uint64_t negative_latency;
	uint64_t read_errors;
	uint64_t parse_errors;
	uint64_t bytes;
	uint64_t per_conn_min;
	uint64_t per_conn_max;
	size_t event_bytes;
	int64_t publish_max_lag_us;
	uint64_t publish_round_trips;
	uint64_t publish_errors;
	double drain_s;
	double window_s;
	double deliveries_per_s;
	double events_per_s;
	double bytes_per_s;
	struct hist latency_us;
	uint64_t *timeline; /* deliveries per TIMELINE_STEP_US since timeline_origin_us */
	size_t timeline_len;
	int64_t timeline_origin_us;
	int64_t window_start_us;
	int64_t window_end_us;

	/* the measured streamer */
	int stream_pid;
	bool have_mem;
	struct proc_mem mem_before, mem_connected, mem_after;
	double rss_per_conn_bytes;
	double anon_per_conn_bytes;
	struct bench_cpu cpu[BENCH_MAX_CPU];
	int ncpu;
	int64_t cpu_t0_us;                /* monotonic, when CPU use was first read */
	double cpu_wall_s;                /* time between the two CPU readings */
	uint64_t host_busy0, host_total0; /* /proc/stat ticks at the window start */
	double host_busy_pct;             /* of all CPUs, over the window; < 0 unknown */
	char *metrics_before; /* Prometheus text, or NULL */
	char *metrics_after;

	struct bench_target targets[BENCH_MAX_TARGETS];
	int ntargets;
	char error[256];
};

/* Parses "metric<op>number" (ops <= >= < > ==) into r->targets. */
int report_target_add(struct bench_result *r, const char *expr);
/* Looks up each target's metric and sets value, known and pass. */
void report_targets_eval(struct bench_result *r);
/* Names of the metrics a target may use, for --help. */
const char *report_target_metrics(void);
bool report_all_pass(const struct bench_result *r);

int report_write_json(const struct bench_result *r, const char *path);
void report_print(const struct bench_result *r, FILE *f);
void report_release(struct bench_result *r);

struct json_object;
/* JSON numbers and strings for the reports: a finite double printed with 0,
 * 1, 2, 3, 6 or (any other value) 9 decimals, NULL (JSON null) when not
 * finite; an unsigned count clamped to INT64_MAX; a string, NULL for NULL. */
struct json_object *report_jd(double v, int decimals);
struct json_object *report_ju(uint64_t v);
struct json_object *report_js(const char *s);

/* A latency histogram as {"count", "min", "mean", "p50", "p90", ["p95",]
 * "p99", "p999", "max"} in milliseconds (the reports' "latency_ms"). */
struct json_object *report_latency_json(const struct hist *h, bool with_p95);

/* A histogram's non-empty buckets as [[low_us, high_us, count], ...] (the
 * report's "latency_histogram_us"; also used by cohort-bench edit). */
struct json_object *report_hist_json(const struct hist *h);

#endif
