/*
 * subscription.h — what a connection asks to follow: naming and
 * authorization of subscriptions, in one place.
 *
 * Clients name streams by scope ("<kind>:<id>", core scope.h); this module
 * turns a client's list into canonical scopes and their Redis stream keys
 * and enforces the per-connection stream limit. Whether the client may
 * follow them is decided by core scope_authorize, run off the loop by
 * authz.c.
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

#endif
