/*
 * presence.h — who is online in a lesson, and where their editors are
 * (issue 6; docs/presence.md).
 *
 * A user is online in a lesson while at least one of their streaming
 * connections (any tab, any cohort-stream instance) says so. Each such
 * connection is a member of the lesson's sorted set whose score is its
 * expiry time: cohort-stream touches it when it opens and on every
 * heartbeat, and removes it when it closes. A crashed streamer's members
 * simply expire. All state changes are Lua scripts (one atomic step each)
 * that also publish the resulting `presence` events on the lesson's stream,
 * so the two callers — cohort-stream's asynchronous hiredis and cohort-api's
 * synchronous rconn — share the same text and the same arguments:
 * presence_cmd_build() fills an EVAL argument vector for either.
 *
 *  touch  adds/refreshes a connection; the user's first one publishes
 *         `online`; a new place (project, file) for an editor session
 *         publishes `moved`; cancels a pending offline.
 *  leave  removes a connection; the user's last one starts the grace
 *         period (no event yet: a reload does not flap).
 *  sweep  drops expired connections and publishes `offline` for every
 *         user without live connections whose grace period is over (or
 *         whose connections all expired).
 *  move   records where an editor session is (REST, for SSE clients) and
 *         publishes `moved`; the session needs a live connection.
 */
#ifndef COHORT_PRESENCE_H
#define COHORT_PRESENCE_H

#include "core/kv.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rconn;

enum presence_op {
	PRESENCE_TOUCH,
	PRESENCE_LEAVE,
	PRESENCE_SWEEP,
	PRESENCE_MOVE,
	PRESENCE__N
};

/* An editor session id: 1..64 of [A-Za-z0-9_-] (the live-editing clientID). */
#define PRESENCE_CLIENT_MAX 64
/* A connection's member text: "<user>|<instance>|<conn>|<client>". */
#define PRESENCE_MEMBER_MAX 192

struct presence_call {
	int64_t lesson_id;
	int64_t user_id;
	const char *member;  /* touch, leave */
	const char *login;   /* touch */
	const char *name;    /* touch: the course nickname */
	const char *client;  /* touch, move; "" or NULL for none */
	int64_t project;     /* touch (with where), move; 0 for none */
	const char *file;    /* touch (with where), move; "" or NULL for none */
	bool where;          /* touch: project/file say where the session is */
	int64_t now_us;      /* wall clock */
	long ttl_ms;         /* touch: expiry of the member */
	long grace_ms;       /* leave */
	long maxlen;         /* events.maxlen */
};

#define PRESENCE_ARGC_MAX 24

/* An EVAL argument vector; argv points into the struct (and the call's strings). */
struct presence_cmd {
	int argc;
	const char *argv[PRESENCE_ARGC_MAX];
	size_t lens[PRESENCE_ARGC_MAX];
	char keys[5][KV_KEY_MAX];
	char nums[6][24];
	char scope[40];
};

/* Fills cmd for op. COHORT_E_LIMIT when a key does not fit. */
int presence_cmd_build(struct presence_cmd *cmd, enum presence_op op, const struct presence_call *call);

/* Whether s is a valid editor session id (empty is not). */
bool presence_client_ok(const char *s, size_t len);

/* The member text of a connection. */
int presence_member(char *buf, size_t len, int64_t user_id, const char *instance, uint64_t conn_id,
		    const char *client);

/* Synchronous (cohort-api): runs op, *result gets the script's integer
 * answer (touch: 1 online, 2 moved, 0 neither; leave: 1 still online;
 * sweep: offline events published; move: 1 moved, 0 same place, -1 no
 * live connection of that session, -2 the user is not online). */
int presence_run(struct rconn *rc, enum presence_op op, const struct presence_call *call, long long *result);

/* One online user of a lesson as the roster shows it. where_json is the
 * stored {client: {"project","file","at"}} object (our own JSON text, "{}"
 * when none). */
struct presence_user {
	int64_t user_id;
	const char *where_json;
	size_t where_len;
};

/* Sweeps the lesson, then calls fn for every online user (order
 * unspecified). fn returns non-zero to stop (returned). */
int presence_roster(struct rconn *rc, int64_t lesson_id, const struct presence_call *base,
		    int (*fn)(const struct presence_user *u, void *arg), void *arg);

#endif
