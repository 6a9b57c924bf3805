/*
 * dispatch.h — one request through the route table.
 *
 * The order is fixed and the same for every route: a request the request
 * layer could not parse is answered at once; a Content-Length over
 * api.max_body is refused before any body is read; then the router picks the
 * row, the row's permission is checked, and only then does the handler run.
 * Any error on the way becomes one problem+json response (status from
 * err.h). dispatch_finish writes the access-log line and the metrics.
 */
#ifndef COHORT_API_DISPATCH_H
#define COHORT_API_DISPATCH_H

#include <stddef.h>

struct request;
struct response;

struct route;

/* Dispatches over cohort-api's route table (routes.c). */
void dispatch(struct request *req, struct response *res);
/* The same over any table (tests). */
void dispatch_table(const struct route *table, size_t n, struct request *req, struct response *res);

/* Opens the read transaction that authorization's lookups share, before
 * the first of them (authn.c, permission.c); a no-op once it is open. */
void dispatch_auth_txn(struct request *req);

/* After the response went out: bytes is the body length written. */
void dispatch_finish(const struct request *req, const struct response *res, size_t bytes);

#endif
