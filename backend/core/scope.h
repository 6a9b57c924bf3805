/*
 * scope.h — what a client may subscribe to, named and authorized in one place.
 *
 * A scope is "<kind>:<id>". Each kind maps to exactly one Redis stream key
 * (built by kv.c):
 *   dev:<name>      development streams, enabled only by api.dev_events;
 *                   anyone (also anonymous clients) may follow them.
 *   project:<id>    a project's events: who may read the project
 *                   (project_access, the one place that decides it).
 *   lesson:<id>     a lesson's events (presence, ...): participants of the
 *                   lesson's course, and admins.
 *   user:<id>       a user's personal stream (grant changes, ...): that user
 *                   and admins.
 *   room:<name>     an anonymous room's events (core/room.h), enabled only by
 *                   rooms.enabled; anyone (also anonymous clients) may
 *                   follow them. <name> is a room name (1..64 of [a-z0-9_-]).
 * Numeric ids are canonical decimal (1..2^63-1, no sign, no leading zero),
 * so one stream has exactly one name.
 */
#ifndef COHORT_SCOPE_H
#define COHORT_SCOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct principal;

#define SCOPE_MAX 96

enum scope_kind {
	SCOPE_DEV,
	SCOPE_PROJECT,
	SCOPE_LESSON,
	SCOPE_USER,
	SCOPE_ROOM,
};

struct scope {
	enum scope_kind kind;
	char name[SCOPE_MAX + 1]; /* canonical "<kind>:<id>" */
	size_t id_off;            /* where <id> starts in name */
	int64_t id;               /* numeric kinds: the id; dev, room: 0 */
};

struct scope_policy {
	bool dev_enabled;
	bool rooms_enabled;
};

/* COHORT_E_BADSTREAM for malformed text, COHORT_E_UNKNOWNSTREAM for a kind
 * that does not exist or is disabled by the policy. */
int scope_parse(const char *s, size_t len, const struct scope_policy *pol, struct scope *out);

/* Redis stream key of the scope. */
int scope_stream_key(const struct scope *sc, char *buf, size_t len);

/* Whether the kind's authorization needs the database (and a principal). */
bool scope_needs_db(const struct scope *sc);

/* May `who` follow sc? 0 when allowed. dev, room: always (scope_parse already
 * refused it when disabled). Every other kind: COHORT_E_AUTH for an
 * anonymous principal (user_id 0), COHORT_E_NOTFOUND when the project,
 * lesson or user does not exist, COHORT_E_FORBIDDEN when it exists and who
 * may not follow it; COHORT_E_DB when the database fails. Runs SQL: never
 * call it on an event loop. db may be NULL for dev scopes only. */
int scope_authorize(struct db *db, const struct principal *who, const struct scope *sc);

#endif
