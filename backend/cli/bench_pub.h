/*
 * bench_pub.h — the event source of a fanout run: appends events straight
 * to Redis with XADD (pipelined), at a steady rate spread round-robin over
 * the streams, so that no API process sits between the clock and Redis.
 *
 * Each event is a stored envelope (core event.h) whose data is
 *   {"bench_us":<wall us at append>,"bench_stream":<i>,"bench_seq":<n>,
 *    "bench_m":<0 warmup | 1 measured>,"pad":"..."}
 * so subscribers can compute latency, order and loss without shared state.
 */
#ifndef COHORT_BENCH_PUB_H
#define COHORT_BENCH_PUB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scope;
struct pub_ctx;

struct bench_pub_opts {
	const char *redis_host;
	int redis_port;
	const struct scope *scopes; /* one per stream */
	size_t nstreams;
	double rate;       /* events per second, all streams together */
	double warmup_s;
	double duration_s;
	size_t payload;    /* bytes of padding in each event's data */
	long maxlen;       /* XADD MAXLEN ~ */
	int max_pipeline;  /* most events in one round trip */
};

struct bench_pub {
	struct bench_pub_opts o;
	struct pub_ctx *ctx;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	atomic_bool done;
	/* Results, valid after bench_pub_join. */
	uint64_t *published;          /* per stream, all phases */
	uint64_t *published_measured; /* per stream, measured phase */
	uint64_t total;
	uint64_t measured;
	uint64_t errors;
	uint64_t round_trips;
	int64_t measure_start_us; /* wall time of the first measured append */
	int64_t measure_end_us;   /* wall time after the last measured append */
	int64_t max_lag_us;       /* worst delay behind the schedule */
	size_t event_bytes;       /* size of one stored envelope */
	char err[256];
};

/* Connects to Redis and starts the publishing thread. 0 or a negative error
 * with the reason in p->err. */
int bench_pub_start(struct bench_pub *p, const struct bench_pub_opts *o);
/* Waits for the schedule to finish (or stops it early when abort is set). */
int bench_pub_join(struct bench_pub *p, bool abort);
void bench_pub_release(struct bench_pub *p);

#endif
