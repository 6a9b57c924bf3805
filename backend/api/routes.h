/*
 * routes.h — cohort-api's route table: every route, its permission and its
 * handler, in one place (routes.c). `cohort-api --routes` prints it, and a
 * test checks docs/openapi.yaml against that listing.
 */
#ifndef COHORT_API_ROUTES_H
#define COHORT_API_ROUTES_H

#include <stddef.h>
#include <stdio.h>

struct route;
struct cohort_config;

const struct route *routes_table(size_t *n);

/* The largest body the route accepts: api.max_body, except for the few
 * routes with their own limit (a template upload: templates.max_upload). */
long routes_max_body(const struct route *r, const struct cohort_config *cfg);

/* One line per route: method, pattern, permission, name (tab-separated). */
void routes_print(FILE *out);

#endif
