/*
 * wsreq.h — what the workspace routes (files.c, docs.c) share: the request's
 * workspace (limits from the configuration, the actor for events), paths
 * from the query through core/path.h strict, and the workspace's reason as
 * the problem detail.
 */
#ifndef COHORT_API_WSREQ_H
#define COHORT_API_WSREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "core/path.h"

struct request;
struct response;
struct workspace;

void ws_open(struct request *req, struct workspace *ws);
/* Returns err, with the workspace's reason (if any) as the detail. */
int ws_fail(struct response *res, const struct workspace *ws, int err);
/* A canonical path from s (strict; root allows ""): 422 with the
 * normalizer's reason, naming the field `what`. */
int path_field(struct response *res, const char *what, const char *s, size_t len, bool root,
	       char out[PATH_BUF]);
/* ?name= as a canonical path; missing: 422 unless optional (then ""). */
int query_path(struct request *req, struct response *res, const char *name, bool optional,
	       char out[PATH_BUF]);
/* ?name=1, ?name=true or a bare ?name. */
bool query_flag(struct request *req, const char *name);

#endif
