/*
 * cursor.h — a user's cursor and selections in a file (docs/protocol.md
 * section 9, "Cursors"): validated against the document, stored as the
 * user's last cursor for the file and published as a `cursor` event on the
 * project's stream. Shared by the REST route (api/docs.c) and the
 * streamer's WebSocket editing jobs (stream/edit.c), so both transports
 * check and publish exactly the same thing.
 */
#ifndef COHORT_CURSOR_H
#define COHORT_CURSOR_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct workspace;

#define CURSOR_RANGES_MAX 32

/* What the client sent. version, main and the client id are checked by the
 * caller's parser (collab_client_ok); ranges is the parsed "ranges" value. */
struct cursor_req {
	long long version;
	struct json_object *ranges;
	long long main;
	const char *client;
	size_t client_len;
};

/* Who moved it: name is the course nickname, or NULL/"" for the login. */
struct cursor_who {
	int64_t user_id;
	const char *login;
	const char *name;
};

/* A member of an anonymous room (core/room.h) instead of a user. */
struct cursor_member {
	const char *id;
	const char *name;
	const char *color;
};

/* The colour of a user's cursor, fixed by the user id. */
const char *cursor_color(int64_t user_id);

/* Checks the cursor against the file (ws's project; ws->actor_user,
 * ts_recv and events_maxlen as for any event), stores it and publishes the
 * event. Errors, nothing stored: the workspace_doc_sync errors
 * (COHORT_E_NOTFOUND, COHORT_E_BINARY, ... with ws->reason),
 * COHORT_E_RANGE (version newer than the file; a position outside the
 * document), COHORT_E_FIELD (no ranges, too many, or main out of them),
 * COHORT_E_REDIS. err receives a client-facing sentence (or ""). */
int cursor_publish(struct workspace *ws, const char *path, const struct cursor_req *cr,
		   const struct cursor_who *who, char *err, size_t errlen);

/* The same for a room member: the event's data names the member ("member",
 * "name", "color" in place of "user", "login", "name", "color") and nothing
 * is stored (rooms keep no cursors). */
int cursor_publish_member(struct workspace *ws, const char *path, const struct cursor_req *cr,
			  const struct cursor_member *m, char *err, size_t errlen);

#endif
