/*
 * room.h — anonymous rooms (docs/rooms.md): a shared document and the
 * members editing it, without accounts.
 *
 * A room lives in Redis under its own hash tag {r:<name>} (keys from kv.c):
 * a state hash (its generation, when it was created, since when it is
 * empty), its members (id -> colour, join time, the SHA-256 of the member's
 * secret, the name as a JSON string), the members' last calls, its event
 * stream (scope room:<name>) and a workspace holding one text file,
 * ROOM_DOC_PATH, edited with core/collab.h like any project file.
 *
 * Every call on a room runs one Lua script that first sweeps it: members
 * silent for member_timeout_s are removed with a member.leave event, and a
 * room that has been empty for idle_drop_s is deleted. Membership changes
 * and their events happen in the same atomic step. Room keys carry expiries
 * (member_timeout_s + idle_drop_s while the room has members, idle_drop_s
 * once it is empty), so Redis deletes rooms that nobody calls any more.
 *
 * A struct room is caller-owned (room_init, nothing to release) and borrows
 * the rconn; use it from one thread.
 */
#ifndef COHORT_ROOM_H
#define COHORT_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/kv.h"

struct rconn;
struct workspace;
struct ws_limits;

#define ROOM_NAME_MAX 64
#define ROOM_MEMBER_NAME_CHARS 40
#define ROOM_MEMBER_NAME_BYTES 160
#define ROOM_MEMBER_ID_LEN 16  /* base64url of 12 random bytes */
#define ROOM_SECRET_LEN 43     /* base64url of 32 random bytes, no padding */
#define ROOM_GEN_LEN 16
#define ROOM_COLOR_MAX 8       /* "#rrggbb" */
#define ROOM_NAME_JSON_MAX (2 * ROOM_MEMBER_NAME_BYTES + 3)
#define ROOM_DOC_PATH "room.txt"

struct room_config {
	int member_timeout_s;
	int idle_drop_s;
	int max_members;
	long long events_maxlen;
};

struct room {
	struct rconn *rc;
	struct room_config cfg;
	char name[ROOM_NAME_MAX + 1];
	char gen[ROOM_GEN_LEN + 1]; /* the room's generation, after a successful call */
	int64_t recv_us;            /* when the request arrived (event stamps) */
	const char *reason;         /* after a failure: why, for the problem detail (or NULL) */
	char k_state[KV_KEY_MAX], k_members[KV_KEY_MAX], k_seen[KV_KEY_MAX], k_events[KV_KEY_MAX];
	char ws_base[KV_KEY_MAX];
};

struct room_member {
	char id[ROOM_MEMBER_ID_LEN + 1];
	char color[ROOM_COLOR_MAX];
	char name[ROOM_MEMBER_NAME_BYTES + 1];      /* plain text */
	char name_json[ROOM_NAME_JSON_MAX + 1];     /* the same as a JSON string, quotes included */
	long long joined, last_seen;                /* ms since the epoch (last_seen: room_list only) */
};

/* 1..64 of [a-z0-9_-]. */
bool room_name_ok(const char *s, size_t len);
/* 1..40 characters of UTF-8 (at most 160 bytes), no control characters, no
 * leading or trailing space (core/text.h text_name_ok). */
bool room_member_name_ok(const char *s, size_t len);
/* The palette, in the order ties are broken. */
size_t room_palette_size(void);
const char *room_palette(size_t i);

/* Splits "<id>.<secret>" (the X-Room-Member header); false when malformed. */
bool room_credential_parse(const char *s, char id[ROOM_MEMBER_ID_LEN + 1],
			   char secret[ROOM_SECRET_LEN + 1]);

/* COHORT_E_FIELD for an invalid room name. */
int room_init(struct room *r, struct rconn *rc, const char *name, const struct room_config *cfg,
	      int64_t recv_us);

/* Whether the room exists now (without sweeping it). */
int room_exists(struct room *r, bool *exists);

/* Joins (name: valid, see room_member_name_ok), creating the room if need
 * be: *me gets the new member, secret its secret, *created whether the room
 * was made by this call. COHORT_E_LIMIT when the room is full. */
int room_join(struct room *r, const char *name, size_t len, struct room_member *me,
	      char secret[ROOM_SECRET_LEN + 1], bool *created);

/* Checks a member's credentials (sweeping the room first) and records the
 * call as a sign of life: COHORT_E_BADTOKEN when id/secret name no current
 * member. *me is the member. */
int room_auth(struct room *r, const char *id, const char *secret, struct room_member *me);
/* As room_auth, then renames the member (and publishes member.rename). */
int room_rename(struct room *r, const char *id, const char *secret, const char *name, size_t len,
		struct room_member *me);
/* As room_auth, then removes the member (and publishes member.leave). */
int room_leave(struct room *r, const char *id, const char *secret);

/* The current members (sweeping first), in order of their last call.
 * COHORT_E_NOTFOUND when the room does not exist. The
 * caller frees *v. */
int room_list(struct room *r, struct room_member **v, size_t *n);

/* Renews the expiries of every key of the room (after a write that may have
 * made a new key, e.g. the first push's update log). */
int room_touch(struct room *r);

/* Per client address rate limits (docs/rooms.md), fixed windows counted in
 * Redis: rooms created per minute, room calls per second. Counts one event
 * for addr; *over is true when it is beyond limit in the current window
 * (*retry_after: seconds until the window ends). */
enum room_rate { ROOM_RATE_CREATE, ROOM_RATE_MSGS };
int room_rate_hit(struct rconn *conn, enum room_rate kind, const char *addr, int limit, bool *over,
		  int *retry_after);

/* The workspace of the room's document (after a successful call above). */
int room_workspace(const struct room *r, struct workspace *ws, const struct ws_limits *lim);

#endif
