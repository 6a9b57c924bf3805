/*
 * rooms.c — anonymous rooms over REST (docs/rooms.md): joining, renaming,
 * leaving, heartbeats, the room's member list, and the editing calls of the
 * room's document, which are api/docs.c's own handlers pointed at it.
 *
 * Every route is public (no account); members prove who they are with the
 * X-Room-Member header. Each call first checks that rooms are enabled and
 * counts against the caller's address (rooms.msgs_per_s), then names the
 * room (room name rules of core/room.h).
 */
#include "api/rooms.h"
#include "api/docs.h"
#include "api/request.h"
#include "api/worker.h"
#include "core/collab.h"
#include "core/config.h"
#include "core/cursor.h"
#include "core/err.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/room.h"
#include "core/strbuf.h"
#include "core/workspace.h"

#include <json-c/json.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int room_fail(struct response *res, const struct room *r, int err)
{
	if (r->reason)
		response_detail(res, "%s", r->reason);
	return err;
}

static const char *addr_of(const struct request *req)
{
	return req->remote_addr ? req->remote_addr : "unknown";
}

static int rate(struct request *req, struct response *res, enum room_rate kind, int limit)
{
	bool over = false;
	int retry = 1;
	int err = room_rate_hit(req->worker->redis, kind, addr_of(req), limit, &over, &retry);

	if (err)
		return err;
	if (over) {
		res->retry_after_s = retry > 0 ? retry : 1;
		response_detail(res, kind == ROOM_RATE_CREATE ? "too many rooms created from this address; try again in %d s"
							      : "too many room calls from this address; try again in %d s",
				res->retry_after_s);
		return COHORT_E_RATE;
	}
	return 0;
}

/* Rooms enabled, the address under its call rate, and the room named. */
static int room_begin(struct request *req, struct response *res, struct room *r)
{
	const struct cohort_config *cfg = req->cfg;
	struct room_config rcfg = {
		.member_timeout_s = cfg->rooms_member_timeout_s,
		.idle_drop_s = cfg->rooms_idle_drop_s,
		.max_members = cfg->rooms_max_members,
		.events_maxlen = cfg->events_maxlen,
	};
	char name[ROOM_NAME_MAX + 1];
	const char *v;
	size_t len;
	int err;

	if (!cfg->rooms_enabled) {
		response_detail(res, "anonymous rooms are not enabled (rooms.enabled)");
		return COHORT_E_DISABLED;
	}
	if ((err = rate(req, res, ROOM_RATE_MSGS, cfg->rooms_msgs_per_s)))
		return err;
	if (route_param(&req->match, "room", &v, &len) || !room_name_ok(v, len)) {
		response_detail(res, "a room name is 1 to 64 characters of [a-z0-9_-]");
		return COHORT_E_FIELD;
	}
	memcpy(name, v, len);
	name[len] = '\0';
	err = room_init(r, req->worker->redis, name, &rcfg, req->recv_wall_us);
	return err ? room_fail(res, r, err) : 0;
}

/* The member header, split: 401 unauthenticated when missing, 401
 * invalid_token when malformed. */
static int credentials(struct request *req, struct response *res, char id[ROOM_MEMBER_ID_LEN + 1],
		       char secret[ROOM_SECRET_LEN + 1])
{
	if (!req->room_member) {
		response_detail(res, "the X-Room-Member header (<member id>.<secret>) is required");
		return COHORT_E_AUTH;
	}
	if (!room_credential_parse(req->room_member, id, secret)) {
		response_detail(res, "X-Room-Member must be <member id>.<secret> as the join answered");
		return COHORT_E_BADTOKEN;
	}
	return 0;
}

/* The route's {member} must be the header's: 403 forbidden otherwise. */
static int own_member(struct request *req, struct response *res, const char *id)
{
	const char *v;
	size_t len;

	if (route_param(&req->match, "member", &v, &len) || len != strlen(id) || memcmp(v, id, len)) {
		response_detail(res, "a member may only act as itself");
		return COHORT_E_FORBIDDEN;
	}
	return 0;
}

static void member_json(struct jsonw *w, const char *key, const struct room_member *m, bool times)
{
	jsonw_obj(w, key);
	jsonw_str(w, "id", m->id);
	jsonw_str(w, "name", m->name);
	jsonw_str(w, "color", m->color);
	if (times) {
		jsonw_int(w, "joined", m->joined);
		jsonw_int(w, "last_seen", m->last_seen);
	}
	jsonw_end(w);
}

static int members_json(struct room *r, struct jsonw *w)
{
	struct room_member *v = NULL;
	size_t n = 0;
	int err = room_list(r, &v, &n);

	if (err)
		return err;
	jsonw_arr(w, "members");
	for (size_t i = 0; i < n; i++)
		member_json(w, NULL, &v[i], true);
	jsonw_end(w);
	free(v);
	return 0;
}

static void room_ws(struct request *req, const struct room *r, const char *actor, struct workspace *ws)
{
	struct ws_limits lim = {
		.max_file = (uint64_t)req->cfg->files_max_file,
		.max_project = (uint64_t)req->cfg->files_max_file,
		.max_entries = 1,
	};

	/* room_workspace cannot fail for a valid room name and generation. */
	if (room_workspace(r, ws, &lim))
		BUG("room workspace names do not fit");
	ws->actor_user = actor;
	ws->ts_recv = req->recv_wall_us;
	ws->events_maxlen = req->cfg->events_maxlen;
	ws->log_max = req->cfg->collab_log_max;
}

int room_join_post(struct request *req, struct response *res)
{
	static const char *const keys[] = { "name", NULL };
	char secret[ROOM_SECRET_LEN + 1];
	struct room r;
	struct room_member me;
	struct workspace ws;
	struct collab_doc d;
	struct strbuf text = STRBUF_INIT;
	struct json_object *root = NULL;
	const char *name, *unknown;
	size_t len;
	bool exists = true, created = false;
	struct jsonw w;
	int err;

	jsonw_init(&w);
	strbuf_init(&text, STRBUF_DEFAULT_MAX);
	if ((err = room_begin(req, res, &r)))
		goto out;
	if ((err = request_json(req, res, &root)))
		goto out;
	if (json_only_keys(root, keys, &unknown)) {
		response_detail(res, "unknown field %s", unknown);
		err = COHORT_E_FIELD;
		goto out;
	}
	if (json_get_str(root, "name", true, ROOM_MEMBER_NAME_BYTES, &name, &len) ||
	    !room_member_name_ok(name, len)) {
		response_detail(res, "name must be 1 to 40 characters without control characters or surrounding spaces");
		err = COHORT_E_FIELD;
		goto out;
	}
	if ((err = room_exists(&r, &exists)))
		goto out;
	if (!exists && (err = rate(req, res, ROOM_RATE_CREATE, req->cfg->rooms_create_per_min)))
		goto out;
	if ((err = room_join(&r, name, len, &me, secret, &created))) {
		err = room_fail(res, &r, err);
		goto out;
	}
	room_ws(req, &r, me.id, &ws);
	if ((err = collab_get(&ws, ROOM_DOC_PATH, &text, true, &d))) {
		if (ws.reason)
			response_detail(res, "%s", ws.reason);
		goto out;
	}
	jsonw_obj(&w, NULL);
	jsonw_str(&w, "room", r.name);
	member_json(&w, "member", &me, false);
	jsonw_str(&w, "secret", secret);
	jsonw_obj(&w, "doc");
	jsonw_str(&w, "path", ROOM_DOC_PATH);
	jsonw_int(&w, "version", d.version);
	jsonw_strn(&w, "text", text.buf ? text.buf : "", text.len);
	jsonw_str(&w, "sum", d.sum);
	jsonw_end(&w);
	if ((err = members_json(&r, &w)))
		goto out;
	jsonw_end(&w);
	err = response_jsonw(res, 201, &w);
out:
	sodium_memzero(secret, sizeof(secret));
	json_put(root);
	strbuf_release(&text);
	jsonw_release(&w);
	return err;
}

int room_get_one(struct request *req, struct response *res)
{
	struct room r;
	struct workspace ws;
	struct ws_stat st;
	struct jsonw w;
	int err;

	jsonw_init(&w);
	if ((err = room_begin(req, res, &r)))
		goto out;
	jsonw_obj(&w, NULL);
	jsonw_str(&w, "room", r.name);
	if ((err = members_json(&r, &w))) {
		err = room_fail(res, &r, err);
		goto out;
	}
	room_ws(req, &r, NULL, &ws);
	memset(&st, 0, sizeof(st));
	err = workspace_stat(&ws, ROOM_DOC_PATH, &st);
	if (err && err != COHORT_E_NOTFOUND)
		goto out;
	jsonw_int(&w, "version", st.version);
	jsonw_end(&w);
	err = response_jsonw(res, 200, &w);
out:
	jsonw_release(&w);
	return err;
}

/* The room, the member of the header and the route's {member} checked.
 * Acting on another member is 403 only for valid credentials (401 first). */
static int member_begin(struct request *req, struct response *res, struct room *r, char *id, char *secret,
			bool own)
{
	struct room_member me;
	int err = room_begin(req, res, r);

	if (!err)
		err = credentials(req, res, id, secret);
	if (!err && own && own_member(req, res, id)) {
		err = room_auth(r, id, secret, &me);
		err = err ? room_fail(res, r, err) : COHORT_E_FORBIDDEN;
	}
	return err;
}

int room_member_patch(struct request *req, struct response *res)
{
	static const char *const keys[] = { "name", NULL };
	char id[ROOM_MEMBER_ID_LEN + 1], secret[ROOM_SECRET_LEN + 1];
	struct room r;
	struct room_member me;
	struct json_object *root = NULL;
	const char *name, *unknown;
	size_t len;
	struct jsonw w;
	int err;

	jsonw_init(&w);
	if ((err = member_begin(req, res, &r, id, secret, true)))
		goto out;
	if ((err = request_json(req, res, &root)))
		goto out;
	if (json_only_keys(root, keys, &unknown)) {
		response_detail(res, "unknown field %s", unknown);
		err = COHORT_E_FIELD;
		goto out;
	}
	if (json_get_str(root, "name", true, ROOM_MEMBER_NAME_BYTES, &name, &len) ||
	    !room_member_name_ok(name, len)) {
		response_detail(res, "name must be 1 to 40 characters without control characters or surrounding spaces");
		err = COHORT_E_FIELD;
		goto out;
	}
	if ((err = room_rename(&r, id, secret, name, len, &me))) {
		err = room_fail(res, &r, err);
		goto out;
	}
	member_json(&w, NULL, &me, false);
	err = response_jsonw(res, 200, &w);
out:
	json_put(root);
	jsonw_release(&w);
	return err;
}

int room_member_delete(struct request *req, struct response *res)
{
	char id[ROOM_MEMBER_ID_LEN + 1], secret[ROOM_SECRET_LEN + 1];
	struct room r;
	int err = member_begin(req, res, &r, id, secret, true);

	if (err)
		return err;
	if ((err = room_leave(&r, id, secret)))
		return room_fail(res, &r, err);
	res->status = 204;
	return 0;
}

int room_member_heartbeat(struct request *req, struct response *res)
{
	char id[ROOM_MEMBER_ID_LEN + 1], secret[ROOM_SECRET_LEN + 1];
	struct room r;
	struct room_member me;
	int err = member_begin(req, res, &r, id, secret, true);

	if (err)
		return err;
	if ((err = room_auth(&r, id, secret, &me)))
		return room_fail(res, &r, err);
	res->status = 204;
	return 0;
}

typedef int (*doc_call)(struct request *req, struct response *res, const struct doc_target *t);

/* A document call as the header's member: api/docs.c's handler on the
 * room's document. */
static int room_doc(struct request *req, struct response *res, doc_call call, bool writes)
{
	char id[ROOM_MEMBER_ID_LEN + 1], secret[ROOM_SECRET_LEN + 1];
	struct room r;
	struct room_member me;
	struct workspace ws;
	struct cursor_member cm;
	struct doc_target t;
	int err = member_begin(req, res, &r, id, secret, false);

	if (err)
		return err;
	if ((err = room_auth(&r, id, secret, &me)))
		return room_fail(res, &r, err);
	room_ws(req, &r, me.id, &ws);
	cm.id = me.id;
	cm.name = me.name;
	cm.color = me.color;
	memset(&t, 0, sizeof(t));
	t.ws = &ws;
	t.path = ROOM_DOC_PATH;
	t.member = &cm;
	err = call(req, res, &t);
	/* A push may have made the document's update log: give it the room's
	 * expiry too. The answer stands whatever this does. */
	if (!err && writes)
		(void)room_touch(&r);
	return err;
}

int room_doc_get(struct request *req, struct response *res)
{
	return room_doc(req, res, doc_get_at, false);
}

int room_doc_push(struct request *req, struct response *res)
{
	return room_doc(req, res, doc_push_at, true);
}

int room_doc_pull(struct request *req, struct response *res)
{
	return room_doc(req, res, doc_pull_at, false);
}

int room_doc_sum(struct request *req, struct response *res)
{
	return room_doc(req, res, doc_sum_at, false);
}

int room_doc_cursor(struct request *req, struct response *res)
{
	return room_doc(req, res, doc_cursor_at, false);
}
