/*
 * subscription.h — what a connection asks to follow: naming and
 * authorization of subscriptions, in one place.
 *
 * Clients name streams by scope ("<kind>:<id>", core scope.h); this module
 * turns a client's list into canonical scopes and their Redis stream keys,
 * enforces the per-connection stream limit, and decides whether the client
 * may follow each one. Today the only kind is `dev` (allowed whenever the
 * policy enables it). Project, lesson and personal scopes add a row to the
 * kind table below with an authorization check; such checks may touch SQL,
 * so they will run on the uv_queue_work pool and complete through the
 * callback — callers already treat authorization as asynchronous.
 */
#ifndef COHORT_STREAM_SUBSCRIPTION_H
#define COHORT_STREAM_SUBSCRIPTION_H

#include "core/kv.h"
#include "core/scope.h"

#include <stddef.h>

struct sub_target {
	struct scope scope;     /* canonical name */
	char key[KV_KEY_MAX];   /* its Redis stream key */
};

struct sub_request {
	size_t n;
	struct sub_target *targets; /* n entries, in the client's order */
};

#define SUB_DETAIL_MAX 160

/* Parses a comma-separated list ("dev:a,dev:b"). Errors: COHORT_E_BADSTREAM
 * (malformed, empty or duplicate name), COHORT_E_UNKNOWNSTREAM (kind unknown
 * or disabled), COHORT_E_LIMIT (more than max names). detail gets a
 * client-facing sentence. */
int subscription_parse_list(const char *list, size_t len, const struct scope_policy *pol,
			    size_t max, struct sub_request *out, char *detail, size_t dlen);

/* The same from separate names (a WebSocket subscribe message). */
int subscription_parse_names(const char *const *names, const size_t *lens, size_t n,
			     const struct scope_policy *pol, size_t max, struct sub_request *out,
			     char *detail, size_t dlen);

void subscription_release(struct sub_request *req);

/* Decides whether the connection may follow every target. Calls done exactly
 * once — today before returning; for kinds whose check needs the database,
 * later from the loop after the worker pool answered. err is 0 or
 * COHORT_E_FORBIDDEN with detail set. */
typedef void subscription_done_fn(void *arg, int err, const char *detail);
void subscription_authorize(const struct sub_request *req, subscription_done_fn *done, void *arg);

#endif
