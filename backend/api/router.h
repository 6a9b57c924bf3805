/*
 * router.h — matching a request's method and path against the route table.
 *
 * A route is one row {method, pattern, permission, handler, name}; the
 * table itself lives in routes.c. A pattern is an absolute path whose
 * segments are literals or whole-segment parameters:
 *
 *   /api/v1/projects/{id}/grants/{participant}
 *
 * A parameter matches one non-empty segment, taken as it appears in the
 * request URI (still percent-encoded; see pct_decode in query.h). Literal
 * segments are compared byte for byte, so the router never sees a path that
 * a proxy normalized differently from the one it matched. Rows are tried in
 * table order and the first match wins. HEAD is answered by GET rows.
 */
#ifndef COHORT_API_ROUTER_H
#define COHORT_API_ROUTER_H

#include "api/permission.h"

#include <stddef.h>

struct request;
struct response;

/* Fills res and returns 0, or returns a negative enum cohort_err (with an
 * optional detail set by response_detail) that the dispatcher turns into
 * problem+json. */
typedef int (*route_handler)(struct request *req, struct response *res);

struct route {
	const char *method; /* GET, POST, PUT, PATCH or DELETE */
	const char *pattern;
	enum permission perm;
	route_handler handler;
	const char *name; /* unique; metrics label, access-log field, OpenAPI operationId */
};

#define ROUTE_MAX_PARAMS 8
#define ROUTE_ALLOW_MAX 64

struct route_param {
	const char *name; /* points into the pattern, not NUL-terminated */
	size_t name_len;
	const char *value; /* points into the path, not NUL-terminated */
	size_t value_len;
};

struct route_match {
	const struct route *route; /* NULL unless router_match returned 0 */
	size_t index;              /* the row's position in the table */
	size_t nparams;
	struct route_param params[ROUTE_MAX_PARAMS];
	char allow[ROUTE_ALLOW_MAX]; /* after COHORT_E_METHOD: "GET, HEAD, POST" */
};

/* 0 with m->route set; COHORT_E_NOROUTE when no pattern matches the path;
 * COHORT_E_METHOD when some pattern matches but not for this method. */
int router_match(const struct route *table, size_t n, const char *method, const char *path,
		 size_t path_len, struct route_match *m);

/* The raw value of parameter name of the matched route; COHORT_E_NOTFOUND
 * when the route has no such parameter. */
int route_param(const struct route_match *m, const char *name, const char **value, size_t *len);

/* Checks a table once at startup: known methods, well-formed patterns,
 * unique names, no row hidden by an earlier one with the same method and
 * shape. COHORT_E_CONFIG with a one-line reason in err. */
int router_check(const struct route *table, size_t n, char *err, size_t errlen);

#endif
