/*
 * scope.h — what a client may subscribe to, named and authorized in one place.
 *
 * A scope is "<kind>:<id>". Each kind maps to exactly one Redis stream key
 * (built by kv.c). This issue has one kind, `dev`, enabled only by the
 * api.dev_events flag; projects, lessons and personal streams are added here
 * as rows of the kind table, with their authorization check.
 */
#ifndef COHORT_SCOPE_H
#define COHORT_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#define SCOPE_MAX 96

enum scope_kind {
	SCOPE_DEV,
};

struct scope {
	enum scope_kind kind;
	char name[SCOPE_MAX + 1]; /* canonical "<kind>:<id>" */
	size_t id_off;            /* where <id> starts in name */
};

struct scope_policy {
	bool dev_enabled;
};

/* COHORT_E_BADSTREAM for malformed text, COHORT_E_UNKNOWNSTREAM for a kind
 * that does not exist or is disabled by the policy. */
int scope_parse(const char *s, size_t len, const struct scope_policy *pol, struct scope *out);

/* Redis stream key of the scope. */
int scope_stream_key(const struct scope *sc, char *buf, size_t len);

#endif
