#include "api/metrics.h"
#include "api/rcache.h"
#include "api/request.h"
#include "api/router.h"
#include "core/err.h"
#include "core/rconn.h"
#include "core/strbuf.h"

#include <stdatomic.h>
#include <string.h>

/* Every status cohort-api answers with has a slot; err.h's statuses are
 * all here (a unit test checks), the last slot counts anything else. */
static const int statuses[] = { 200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 406,
				409, 410, 412, 413, 415, 422, 428, 429, 500, 502, 503, 504 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)

/* Histogram bucket bounds in microseconds; long-poll requests wait up to a minute. */
static const int64_t bounds_us[] = { 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
				     250000, 500000, 1000000, 2500000, 5000000, 10000000,
				     30000000, 60000000 };
static const char *const bounds_label[] = { "0.0005", "0.001", "0.0025", "0.005", "0.01",
					    "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5",
					    "5", "10", "30", "60" };
#define NBOUNDS (sizeof(bounds_us) / sizeof(bounds_us[0]))

/* Row METRICS_MAX_ROUTES is "none". */
#define NROWS (METRICS_MAX_ROUTES + 1)

static atomic_uint_fast64_t requests[NROWS][NSTATUS];
static atomic_uint_fast64_t buckets[NROWS][NBOUNDS + 1]; /* per bucket, not cumulative */
static atomic_uint_fast64_t sum_us[NROWS];
static atomic_long in_flight;
static const struct route *routes;
static size_t nroutes;

void metrics_init(const struct route *table, size_t n)
{
	BUG_ON(n > METRICS_MAX_ROUTES);
	routes = table;
	nroutes = n;
	for (size_t r = 0; r < NROWS; r++) {
		for (size_t s = 0; s < NSTATUS; s++)
			atomic_store_explicit(&requests[r][s], 0, memory_order_relaxed);
		for (size_t b = 0; b <= NBOUNDS; b++)
			atomic_store_explicit(&buckets[r][b], 0, memory_order_relaxed);
		atomic_store_explicit(&sum_us[r], 0, memory_order_relaxed);
	}
	atomic_store(&in_flight, 0);
}

static size_t status_slot(int status)
{
	for (size_t i = 0; i < NSTATUS - 1; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUS - 1;
}

const char *metrics_status_label(int status)
{
	static const char *const labels[] = { "200", "201", "202", "204", "304", "400", "401",
					      "403", "404", "405", "406", "409", "410", "412", "413",
					      "415", "422", "428", "429", "500", "502", "503", "504", "other" };
	_Static_assert(sizeof(labels) / sizeof(labels[0]) == NSTATUS, "one label per status slot");

	return labels[status_slot(status)];
}

void metrics_begin(void)
{
	atomic_fetch_add_explicit(&in_flight, 1, memory_order_relaxed);
}

void metrics_end(long route_index, int status, int64_t duration_us)
{
	size_t row = route_index >= 0 && (size_t)route_index < nroutes ? (size_t)route_index : METRICS_MAX_ROUTES;
	size_t b = 0;

	if (duration_us < 0)
		duration_us = 0;
	while (b < NBOUNDS && duration_us > bounds_us[b])
		b++;
	atomic_fetch_add_explicit(&requests[row][status_slot(status)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&buckets[row][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sum_us[row], (uint_fast64_t)duration_us, memory_order_relaxed);
	atomic_fetch_sub_explicit(&in_flight, 1, memory_order_relaxed);
}

static const char *row_name(size_t row)
{
	return row < nroutes ? routes[row].name : "none";
}

static bool row_used(size_t row)
{
	return row < nroutes || row == METRICS_MAX_ROUTES;
}

/* The read cache (api/rcache.h). */
static int render_rcache(struct strbuf *out)
{
	struct rcache_stats st;

	rcache_get_stats(&st);
	return strbuf_addf(
		out,
		"# HELP cohort_api_read_cache_requests_total Lookups in the read cache, by result.\n"
		"# TYPE cohort_api_read_cache_requests_total counter\n"
		"cohort_api_read_cache_requests_total{result=\"hit\"} %llu\n"
		"cohort_api_read_cache_requests_total{result=\"miss\"} %llu\n"
		"# HELP cohort_api_read_cache_stores_total Reads kept, and reads not kept because an invalidation raced them.\n"
		"# TYPE cohort_api_read_cache_stores_total counter\n"
		"cohort_api_read_cache_stores_total{result=\"stored\"} %llu\n"
		"cohort_api_read_cache_stores_total{result=\"refused\"} %llu\n"
		"# HELP cohort_api_read_cache_invalidations_total Groups dropped (a project, or the signed-out answers), and whole flushes.\n"
		"# TYPE cohort_api_read_cache_invalidations_total counter\n"
		"cohort_api_read_cache_invalidations_total{kind=\"group\"} %llu\n"
		"cohort_api_read_cache_invalidations_total{kind=\"flush\"} %llu\n"
		"# HELP cohort_api_read_cache_evictions_total Entries dropped to stay within api.read_cache.\n"
		"# TYPE cohort_api_read_cache_evictions_total counter\n"
		"cohort_api_read_cache_evictions_total %llu\n"
		"# HELP cohort_api_read_cache_entries Entries in the read cache.\n"
		"# TYPE cohort_api_read_cache_entries gauge\n"
		"cohort_api_read_cache_entries %zu\n"
		"# HELP cohort_api_read_cache_bytes Bytes the read cache holds, of api.read_cache.\n"
		"# TYPE cohort_api_read_cache_bytes gauge\n"
		"cohort_api_read_cache_bytes %zu\n"
		"# HELP cohort_api_read_cache_connected 1 while the invalidation connection to Redis is up.\n"
		"# TYPE cohort_api_read_cache_connected gauge\n"
		"cohort_api_read_cache_connected %d\n",
		(unsigned long long)st.hits, (unsigned long long)st.misses, (unsigned long long)st.stores,
		(unsigned long long)st.refused, (unsigned long long)st.invalidations, (unsigned long long)st.flushes,
		(unsigned long long)st.evictions, st.entries, st.bytes, st.connected ? 1 : 0);
}

int metrics_render(struct strbuf *out)
{
	int err = strbuf_adds(out, "# HELP cohort_api_requests_total Requests answered, by route and status.\n"
				   "# TYPE cohort_api_requests_total counter\n");

	for (size_t r = 0; !err && r < NROWS; r++) {
		if (!row_used(r))
			continue;
		for (size_t s = 0; !err && s < NSTATUS; s++) {
			uint64_t v = atomic_load_explicit(&requests[r][s], memory_order_relaxed);

			if (v)
				err = strbuf_addf(out, "cohort_api_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
						  row_name(r),
						  s < NSTATUS - 1 ? metrics_status_label(statuses[s]) : "other",
						  (unsigned long long)v);
		}
	}
	if (!err)
		err = strbuf_adds(out, "# HELP cohort_api_request_duration_seconds Time from accepting a request to "
				       "finishing its response, by route.\n"
				       "# TYPE cohort_api_request_duration_seconds histogram\n");
	for (size_t r = 0; !err && r < NROWS; r++) {
		uint64_t cum = 0;

		if (!row_used(r))
			continue;
		for (size_t b = 0; !err && b <= NBOUNDS; b++) {
			cum += atomic_load_explicit(&buckets[r][b], memory_order_relaxed);
			err = strbuf_addf(out, "cohort_api_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %llu\n",
					  row_name(r), b < NBOUNDS ? bounds_label[b] : "+Inf",
					  (unsigned long long)cum);
		}
		if (!err) {
			uint64_t us = atomic_load_explicit(&sum_us[r], memory_order_relaxed);

			err = strbuf_addf(out,
					  "cohort_api_request_duration_seconds_sum{route=\"%s\"} %llu.%06llu\n"
					  "cohort_api_request_duration_seconds_count{route=\"%s\"} %llu\n",
					  row_name(r), (unsigned long long)(us / 1000000),
					  (unsigned long long)(us % 1000000), row_name(r), (unsigned long long)cum);
		}
	}
	if (!err)
		err = strbuf_addf(out,
				  "# HELP cohort_api_requests_in_flight Requests being handled right now.\n"
				  "# TYPE cohort_api_requests_in_flight gauge\n"
				  "cohort_api_requests_in_flight %ld\n"
				  "# HELP cohort_api_redis_errors_total Failed Redis calls (connect, I/O, error replies).\n"
				  "# TYPE cohort_api_redis_errors_total counter\n"
				  "cohort_api_redis_errors_total %llu\n",
				  atomic_load_explicit(&in_flight, memory_order_relaxed),
				  (unsigned long long)rconn_error_count());
	if (!err)
		err = render_rcache(out);
	return err;
}

int metrics_get(struct request *req, struct response *res)
{
	int err;

	(void)req;
	err = metrics_render(&res->body);
	if (err)
		return err;
	res->status = 200;
	res->content_type = METRICS_CONTENT_TYPE;
	return 0;
}
