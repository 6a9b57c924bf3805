/*
 * kv.h — every Redis key name cohort uses is built here and nowhere else.
 * See docs/data-model.md. Keys of one project share the hash tag {p:<id>}
 * so the layout is Redis Cluster ready.
 */
#ifndef COHORT_KV_H
#define COHORT_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KV_KEY_MAX 256

/* Event stream of the development scope dev:<name>. */
int kv_dev_stream(char *buf, size_t len, const char *name);

/* Event streams of a project, a lesson, and a user's personal stream. */
int kv_project_stream(char *buf, size_t len, long long project_id);
int kv_lesson_stream(char *buf, size_t len, long long lesson_id);
int kv_user_stream(char *buf, size_t len, long long user_id);

/* The access-control notices (issue 6): cohort-api appends an entry whenever
 * a user's access may have shrunk or grown (a grant changed, a participant
 * was removed); every cohort-stream reads it and re-checks that user's
 * connections. One stream for the whole system, hash tag {sys}. */
int kv_acl_stream(char *buf, size_t len);

/*
 * Presence in a lesson (core/presence.h), all under the lesson's hash tag
 * {l:<id>} next to its event stream: the sorted set of live connections
 * (member "<user>|<instance>|<conn>|<client>", score = expiry in ms), the
 * hash of users online (user -> {"login","name"}), the hash of users whose
 * last connection closed (user -> offline deadline in ms), the hash of
 * where each user's editor sessions are (user -> {client: {project, file,
 * at}}), and the per-user set of followed participants.
 */
int kv_pres_conns(char *buf, size_t len, long long lesson_id);
int kv_pres_users(char *buf, size_t len, long long lesson_id);
int kv_pres_pending(char *buf, size_t len, long long lesson_id);
int kv_pres_where(char *buf, size_t len, long long lesson_id);
int kv_follows(char *buf, size_t len, long long lesson_id, long long user_id);

/* Failed sign-in counters (INCR + EXPIRE), per login and per client address. */
int kv_login_failures(char *buf, size_t len, const char *login);
int kv_addr_failures(char *buf, size_t len, const char *addr);

/* Marks a token id as signed out until the token would have expired. */
int kv_revoked_token(char *buf, size_t len, const char *jti);
/* Whether key (len bytes, not NUL-terminated) is a kv_revoked_token key. */
bool kv_is_revoked_token(const char *key, size_t len);
/* The project of a project key ("{p:<id>}:…"), or 0 for any other key. */
int64_t kv_project_of(const char *key, size_t len);

/*
 * A project's workspace (core/workspace.h, docs/data-model.md), all under the
 * hash tag {p:<id>}: the sorted set of paths, the hash of per-path metadata,
 * the hash of totals and counters, and the per-file content string and cursor
 * hash, which are named by a file id (prefix + id) so that a rename never
 * moves them. The prefixes are handed to the workspace's Lua scripts, which
 * append the file id.
 */
int kv_ws_tree(char *buf, size_t len, long long project_id);
int kv_ws_meta(char *buf, size_t len, long long project_id);
int kv_ws_info(char *buf, size_t len, long long project_id);
int kv_ws_content_prefix(char *buf, size_t len, long long project_id);
int kv_ws_cursor_prefix(char *buf, size_t len, long long project_id);
int kv_ws_content(char *buf, size_t len, long long project_id, long long file_id);
int kv_ws_cursors(char *buf, size_t len, long long project_id, long long file_id);

/*
 * An anonymous room (core/room.h, docs/rooms.md), all under the hash tag
 * {r:<name>}: its state hash (gen, created, empty_since), the hash of its
 * members (id -> "<color> <joined ms> <secret sha256> <name as JSON>"), the
 * sorted set of members by last call (score ms) and its event stream. The
 * room's document is a workspace whose keys also carry the room's
 * generation (a random id made when the room is created), so a room dropped
 * and created again never shares a key — nor a cached text — with its
 * predecessor: kv_room_ws_* give them, and the room's scripts, which learn
 * the generation inside Redis, append KV_ROOM_WS_* to kv_room_ws_base.
 */
int kv_room_state(char *buf, size_t len, const char *room);
int kv_room_members(char *buf, size_t len, const char *room);
int kv_room_seen(char *buf, size_t len, const char *room);
int kv_room_stream(char *buf, size_t len, const char *room);
int kv_room_ws_base(char *buf, size_t len, const char *room);
#define KV_ROOM_WS_TREE ":tree"
#define KV_ROOM_WS_META ":meta"
#define KV_ROOM_WS_INFO ":info"
#define KV_ROOM_WS_CONTENT ":c:"
#define KV_ROOM_WS_CURSOR ":cur:"
int kv_room_ws(char *buf, size_t len, const char *room, const char *gen, const char *suffix);

/* Per client address rate counters of rooms (INCR + EXPIRE): rooms created
 * in the current minute and room calls in the current second (window is
 * the minute or second number). */
int kv_room_rate_create(char *buf, size_t len, const char *addr, long long window);
int kv_room_rate_msgs(char *buf, size_t len, const char *addr, long long window);

/* A text file's live-editing state (core/collab.h) sits next to its content:
 * content key + KV_WS_DOC_SUFFIX is a hash (base, len, eol) and content key +
 * KV_WS_LOG_SUFFIX the list of retained updates. The Lua scripts append them. */
#define KV_WS_DOC_SUFFIX ":d"
#define KV_WS_LOG_SUFFIX ":u"

#endif
