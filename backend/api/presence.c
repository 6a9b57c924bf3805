/*
 * Presence in a lesson (issue 6, docs/presence.md): the roster, and where
 * an SSE client's editor session is. The live state is in Redis (core
 * presence.h); the roster sweeps it first, so users whose connections
 * expired (a crashed streamer) are offline here even when no streamer has
 * swept their lesson.
 */
#include "api/presence.h"
#include "api/request.h"
#include "api/worker.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/course.h"
#include "core/err.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/kv.h"
#include "core/num.h"
#include "core/path.h"
#include "core/presence.h"
#include "core/project.h"
#include "core/rconn.h"

#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

static void call_base(const struct request *req, struct presence_call *call)
{
	memset(call, 0, sizeof(*call));
	call->lesson_id = req->lesson.id;
	call->now_us = clock_wall_us();
	call->ttl_ms = (long)req->cfg->presence_ttl_s * 1000;
	call->grace_ms = (long)req->cfg->presence_grace_s * 1000;
	call->maxlen = req->cfg->events_maxlen;
}

struct online {
	int64_t user_id;
	char *where;
};

struct roster {
	struct online *v;
	size_t n, alloc;
	struct access_listing al;
};

static int add_online(const struct presence_user *u, void *arg)
{
	struct roster *r = arg;

	if (r->n == r->alloc) {
		size_t na = r->alloc ? r->alloc * 2 : 16;
		struct online *nv = realloc(r->v, na * sizeof(*nv));

		if (!nv)
			return COHORT_E_NOMEM;
		r->v = nv;
		r->alloc = na;
	}
	r->v[r->n].user_id = u->user_id;
	r->v[r->n].where = strndup(u->where_json, u->where_len);
	if (!r->v[r->n].where)
		return COHORT_E_NOMEM;
	r->n++;
	return 0;
}

struct render_ctx {
	struct request *req;
	struct roster *r;
	struct jsonw *w;
};

/* The project's last activity (ms), 0 when unknown. */
static long long active_at(struct request *req, int64_t project_id)
{
	char key[KV_KEY_MAX];
	struct redisReply *rep = NULL;
	long long v = 0;

	if (!project_id || kv_ws_info(key, sizeof(key), project_id))
		return 0;
	{
		const char *argv[] = { "HGET", key, "active_at" };
		size_t lens[] = { 4, strlen(key), 9 };

		uint64_t u = 0;

		if (!rconn_cmd(req->worker->redis, &rep, 3, argv, lens) && rep->type == REDIS_REPLY_STRING &&
		    !parse_u64n(rep->str, rep->len, &u) && u <= INT64_MAX)
			v = (long long)u;
	}
	rconn_reply_free(rep);
	return v;
}

static int render_one(const struct participant *p, void *arg)
{
	struct render_ctx *ctx = arg;
	struct jsonw *w = ctx->w;
	const struct online *on = NULL;
	int64_t project = 0;

	for (size_t i = 0; i < ctx->r->n; i++)
		if (ctx->r->v[i].user_id == p->user_id)
			on = &ctx->r->v[i];
	/* Projects the viewer may read (teachers: all; students: granted ones). */
	for (size_t i = 0; i < ctx->r->al.n[0]; i++)
		if (ctx->r->al.v[0][i].participant_id == p->id)
			project = ctx->r->al.v[0][i].project_id;
	if (p->id == ctx->req->me.id)
		project = 0; /* one's own project: GET .../project */
	jsonw_obj(w, NULL);
	jsonw_int(w, "participant", p->id);
	jsonw_int(w, "user", p->user_id);
	jsonw_str(w, "role", role_name(p->role));
	jsonw_str(w, "nickname", p->nickname);
	jsonw_bool(w, "online", on != NULL);
	jsonw_raw(w, "sessions", on ? on->where : "{}", on ? strlen(on->where) : 2);
	if (project) {
		long long at = active_at(ctx->req, project);

		jsonw_int(w, "project", project);
		if (at)
			jsonw_int(w, "active_at", at);
		else
			jsonw_null(w, "active_at");
	} else {
		jsonw_null(w, "project");
		jsonw_null(w, "active_at");
	}
	jsonw_end(w);
	return w->err;
}

int presence_get(struct request *req, struct response *res)
{
	struct presence_call base;
	struct roster r;
	struct render_ctx ctx = { req, &r, NULL };
	struct jsonw w;
	int err;

	memset(&r, 0, sizeof(r));
	jsonw_init(&w);
	ctx.w = &w;
	call_base(req, &base);
	err = presence_roster(req->worker->redis, req->lesson.id, &base, add_online, &r);
	if (err == COHORT_E_REDIS)
		err = COHORT_E_UNAVAILABLE;
	if (!err)
		err = lesson_access_collect(req->db, req->lesson.id, &req->me, &r.al);
	if (err)
		goto out;
	jsonw_obj(&w, NULL);
	jsonw_int(&w, "lesson_id", req->lesson.id);
	jsonw_arr(&w, "participants");
	err = course_participants(req->db, req->course.id, render_one, &ctx);
	jsonw_end(&w);
	jsonw_end(&w);
	if (!err)
		err = response_jsonw(res, 200, &w);
out:
	for (size_t i = 0; i < r.n; i++)
		free(r.v[i].where);
	free(r.v);
	access_listing_release(&r.al);
	jsonw_release(&w);
	return err;
}

int presence_put(struct request *req, struct response *res)
{
	static const char *const keys[] = { "client", "project", "file", NULL };
	struct json_object *root = NULL;
	const char *client = NULL, *file = NULL, *unknown, *reason = NULL;
	size_t clen = 0, flen = 0;
	long long project = 0, result = 0;
	char path[PATH_BUF] = "", cl[PRESENCE_CLIENT_MAX + 1];
	struct presence_call call;
	struct project p;
	struct access acc;
	struct jsonw w;
	int err = request_json(req, res, &root);

	if (err)
		return err;
	if (json_only_keys(root, keys, &unknown) || json_get_str(root, "client", true, PRESENCE_CLIENT_MAX, &client, &clen) ||
	    !presence_client_ok(client, clen) || json_get_int(root, "project", false, 1, INT64_MAX, &project) ||
	    json_get_str(root, "file", false, PATH_MAX_BYTES, &file, &flen) ||
	    (file && path_normalize(file, flen, path, sizeof(path), 0, &reason))) {
		response_detail(res, "%s", reason ? reason
					      : "the body must be {\"client\": editor session id, \"project\"?: id, "
						"\"file\"?: canonical path}");
		err = COHORT_E_FIELD;
		goto out;
	}
	memcpy(cl, client, clen);
	cl[clen] = '\0';
	/* A place one may not read is not a place one can be. */
	if (project) {
		err = project_check(req->db, &req->who, project, false, &p, &acc);
		if (!err && p.lesson_id != req->lesson.id) {
			response_detail(res, "project %lld is not in lesson %lld", project, (long long)req->lesson.id);
			err = COHORT_E_FIELD;
		}
		if (err)
			goto out;
	}
	call_base(req, &call);
	call.user_id = req->who.user_id;
	call.client = cl;
	call.project = project;
	call.file = path;
	err = presence_run(req->worker->redis, PRESENCE_MOVE, &call, &result);
	if (err == COHORT_E_REDIS)
		err = COHORT_E_UNAVAILABLE;
	if (err)
		goto out;
	if (result < 0) {
		response_detail(res, "editor session '%s' has no live stream connection with presence in this lesson", cl);
		err = COHORT_E_CONFLICT;
		goto out;
	}
	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	jsonw_bool(&w, "moved", result == 1);
	jsonw_end(&w);
	err = response_jsonw(res, 200, &w);
	jsonw_release(&w);
out:
	json_put(root);
	return err;
}
