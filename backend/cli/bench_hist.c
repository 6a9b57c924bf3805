#include "cli/bench_hist.h"

#include <string.h>

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static size_t bucket_of(uint64_t v)
{
	unsigned msb, shift;

	if (v < 2 * HIST_SUB)
		return (size_t)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS; /* v >> shift is in [HIST_SUB, 2 * HIST_SUB) */
	if (shift > HIST_MAX_SHIFT)
		return HIST_BUCKETS - 1;
	return 2 * HIST_SUB + (size_t)(shift - 1) * HIST_SUB + (size_t)((v >> shift) - HIST_SUB);
}

uint64_t hist_bucket_low(size_t i)
{
	size_t shift;

	if (i < 2 * HIST_SUB)
		return i;
	shift = (i - 2 * HIST_SUB) / HIST_SUB + 1;
	return ((uint64_t)(HIST_SUB + (i - 2 * HIST_SUB) % HIST_SUB)) << shift;
}

uint64_t hist_bucket_high(size_t i)
{
	size_t shift;

	if (i < 2 * HIST_SUB)
		return i;
	shift = (i - 2 * HIST_SUB) / HIST_SUB + 1;
	return hist_bucket_low(i) + ((uint64_t)1 << shift) - 1;
}

void hist_record(struct hist *h, uint64_t v)
{
	h->buckets[bucket_of(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *into, const struct hist *from)
{
	if (!from->count)
		return;
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		into->buckets[i] += from->buckets[i];
	into->count += from->count;
	into->sum += from->sum;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min;
	/* The smallest value with at least ceil(q * count) values at or below it. */
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank >= h->count)
		return h->max;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			uint64_t hi = hist_bucket_high(i);

			return hi > h->max ? h->max : hi < h->min ? h->min : hi;
		}
	}
	return h->max;
}

double hist_mean(const struct hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}
