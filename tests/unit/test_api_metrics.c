/*
 * Unit tests for api/metrics: bounded labels (every status err.h produces
 * has its own label), counters by route and status, a cumulative histogram
 * whose +Inf bucket equals its count, the in-flight gauge, and counts that
 * add up when many threads record at once.
 */
#include "api/metrics.h"
#include "api/router.h"
#include "core/err.h"
#include "core/strbuf.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int h(struct request *req, struct response *res)
{
	(void)req;
	(void)res;
	return 0;
}

static const struct route table[] = {
	{ "GET", "/a", PERM_PUBLIC, h, "alpha" },
	{ "POST", "/b", PERM_PUBLIC, h, "beta" },
};

static char *render(void)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(metrics_render(&sb), 0);
	return strbuf_detach(&sb, NULL);
}

/* The value of the sample whose line starts with name (labels included). */
static long long sample(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *p = text;
	long long v = -1;

	while ((p = strstr(p, name))) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ') {
			assert_int_equal(sscanf(p + n + 1, "%lld", &v), 1);
			return v;
		}
		p += n;
	}
	return -1;
}

static void test_status_labels(void **state)
{
	(void)state;
	for (int e = COHORT_E__FIRST + 1; e < COHORT_E__END; e++)
		assert_string_not_equal(metrics_status_label(cohort_http_status(e)), "other");
	assert_string_equal(metrics_status_label(200), "200");
	assert_string_equal(metrics_status_label(201), "201");
	assert_string_equal(metrics_status_label(299), "other");
	assert_string_equal(metrics_status_label(-1), "other");
}

static void test_counters_and_histogram(void **state)
{
	char *t;

	(void)state;
	metrics_init(table, 2);
	for (int i = 0; i < 3; i++) {
		metrics_begin();
		metrics_end(0, 200, 300); /* <= 0.0005 s */
	}
	metrics_begin();
	metrics_end(0, 503, 2000000); /* 2 s */
	metrics_begin();
	metrics_end(1, 201, 1000); /* exactly on the 0.001 bound: counted in it */
	metrics_begin();
	metrics_end(-1, 404, 100);
	metrics_begin();
	metrics_end(7, 299, 120000000); /* unknown row and status, over the last bound */
	metrics_begin(); /* still in flight */

	t = render();
	assert_int_equal(sample(t, "cohort_api_requests_total{route=\"alpha\",status=\"200\"}"), 3);
	assert_int_equal(sample(t, "cohort_api_requests_total{route=\"alpha\",status=\"503\"}"), 1);
	assert_int_equal(sample(t, "cohort_api_requests_total{route=\"beta\",status=\"201\"}"), 1);
	assert_int_equal(sample(t, "cohort_api_requests_total{route=\"none\",status=\"404\"}"), 1);
	assert_int_equal(sample(t, "cohort_api_requests_total{route=\"none\",status=\"other\"}"), 1);
	assert_int_equal(sample(t, "cohort_api_requests_total{route=\"beta\",status=\"200\"}"), -1); /* zero: omitted */

	assert_int_equal(sample(t, "cohort_api_request_duration_seconds_bucket{route=\"alpha\",le=\"0.0005\"}"), 3);
	assert_int_equal(sample(t, "cohort_api_request_duration_seconds_bucket{route=\"alpha\",le=\"1\"}"), 3);
	assert_int_equal(sample(t, "cohort_api_request_duration_seconds_bucket{route=\"alpha\",le=\"2.5\"}"), 4);
	assert_int_equal(sample(t, "cohort_api_request_duration_seconds_bucket{route=\"alpha\",le=\"+Inf\"}"), 4);
	assert_int_equal(sample(t, "cohort_api_request_duration_seconds_count{route=\"alpha\"}"), 4);
	assert_non_null(strstr(t, "cohort_api_request_duration_seconds_sum{route=\"alpha\"} 2.000900\n"));
	assert_int_equal(sample(t, "cohort_api_request_duration_seconds_bucket{route=\"beta\",le=\"0.0005\"}"), 0);
	assert_int_equal(sample(t, "cohort_api_request_duration_seconds_bucket{route=\"beta\",le=\"0.001\"}"), 1);
	assert_int_equal(sample(t, "cohort_api_request_duration_seconds_bucket{route=\"none\",le=\"60\"}"), 1);
	assert_int_equal(sample(t, "cohort_api_request_duration_seconds_bucket{route=\"none\",le=\"+Inf\"}"), 2);
	assert_int_equal(sample(t, "cohort_api_requests_in_flight"), 1);
	assert_true(sample(t, "cohort_api_redis_errors_total") >= 0);
	assert_non_null(strstr(t, "# TYPE cohort_api_requests_total counter\n"));
	assert_non_null(strstr(t, "# TYPE cohort_api_request_duration_seconds histogram\n"));
	assert_non_null(strstr(t, "# TYPE cohort_api_requests_in_flight gauge\n"));
	assert_non_null(strstr(t, "# TYPE cohort_api_redis_errors_total counter\n"));
	/* Only table routes and "none": no label value from anywhere else. */
	assert_null(strstr(t, "route=\"7\""));
	free(t);
	metrics_end(0, 200, 1);

	/* Re-initializing starts from zero. */
	metrics_init(table, 2);
	t = render();
	assert_int_equal(sample(t, "cohort_api_requests_total{route=\"alpha\",status=\"200\"}"), -1);
	assert_int_equal(sample(t, "cohort_api_request_duration_seconds_count{route=\"alpha\"}"), 0);
	assert_int_equal(sample(t, "cohort_api_requests_in_flight"), 0);
	free(t);
}

#define THREADS 8
#define PER_THREAD 20000

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		metrics_begin();
		metrics_end(i % 2, 200, i % 5000);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t th[THREADS];
	char *t;

	(void)state;
	metrics_init(table, 2);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	t = render();
	assert_int_equal(sample(t, "cohort_api_requests_total{route=\"alpha\",status=\"200\"}"), THREADS * PER_THREAD / 2);
	assert_int_equal(sample(t, "cohort_api_requests_total{route=\"beta\",status=\"200\"}"), THREADS * PER_THREAD / 2);
	assert_int_equal(sample(t, "cohort_api_request_duration_seconds_count{route=\"beta\"}"), THREADS * PER_THREAD / 2);
	assert_int_equal(sample(t, "cohort_api_requests_in_flight"), 0);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_labels),
		cmocka_unit_test(test_counters_and_histogram),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
