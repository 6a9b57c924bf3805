/*
 * metrics.h — cohort-api's Prometheus metrics and GET /api/v1/metrics.
 *
 * Process-wide counters updated with relaxed atomics by every worker. Label
 * sets are bounded by construction: the route label takes the names of the
 * route table (plus "none" for requests no route matched) and the status
 * label a fixed list of codes (plus "other").
 */
#ifndef COHORT_API_METRICS_H
#define COHORT_API_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct route;
struct strbuf;
struct request;
struct response;

#define METRICS_MAX_ROUTES 256
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Names the route label values; table must outlive the process's use of
 * metrics. Resets every counter. */
void metrics_init(const struct route *table, size_t n);

/* A request was accepted / has been answered. route_index is the row of the
 * matched route, or -1 when none matched. */
void metrics_begin(void);
void metrics_end(long route_index, int status, int64_t duration_us);

/* Appends the exposition (text format 0.0.4). */
int metrics_render(struct strbuf *out);

/* The label value used for status, or "other". */
const char *metrics_status_label(int status);

/* GET /api/v1/metrics */
int metrics_get(struct request *req, struct response *res);

#endif
