/*
 * bench_hist.h — a latency histogram with bounded memory and bounded error.
 *
 * Values (microseconds, >= 0) fall into log-linear buckets in the manner of
 * HdrHistogram: exact below 128, then 64 sub-buckets per power of two, so a
 * reported percentile is within 1/64 (1.6 %) of the true value. Recording is
 * a few instructions and no allocation; one histogram per thread, merged at
 * the end.
 */
#ifndef COHORT_BENCH_HIST_H
#define COHORT_BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_SHIFT 36 /* values up to 2^43 us (about 100 days) */
#define HIST_BUCKETS (2 * HIST_SUB + HIST_MAX_SHIFT * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
	uint64_t buckets[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t v);
void hist_merge(struct hist *into, const struct hist *from);

/* The value at quantile q (0..1): the highest value of the bucket that holds
 * it, never above the exact maximum. 0 for an empty histogram. */
uint64_t hist_quantile(const struct hist *h, double q);
double hist_mean(const struct hist *h);

/* Bucket i covers [hist_bucket_low(i), hist_bucket_high(i)]. */
uint64_t hist_bucket_low(size_t i);
uint64_t hist_bucket_high(size_t i);

#endif
