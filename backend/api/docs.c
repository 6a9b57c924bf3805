/*
 * docs.c — live editing over REST (docs/protocol.md section 9): get a
 * document, push updates, pull (long-poll) updates, cursors, sync proof.
 * The authority is core/collab.c; this file only speaks HTTP.
 */
#include "api/docs.h"
#include "api/query.h"
#include "api/request.h"
#include "api/worker.h"
#include "api/wsreq.h"
#include "core/collab.h"
#include "core/config.h"
#include "core/cursor.h"
#include "core/err.h"
#include "core/event.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/kv.h"
#include "core/log.h"
#include "core/num.h"
#include "core/rconn.h"
#include "core/strbuf.h"
#include "core/workspace.h"

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PULL_WAIT_MAX_S 30

/* Long-polls waiting at once in this process; beyond the bound a pull
 * answers at once (the client simply asks again). */
static atomic_int waiting;

static int doc_fail(struct response *res, const struct workspace *ws, const char *err, int rc)
{
	if (err && err[0])
		response_detail(res, "%s", err);
	else if (ws->reason)
		response_detail(res, "%s", ws->reason);
	return rc;
}

static int query_ll(struct request *req, struct response *res, const char *name, bool required,
		    long long min, long long max, long long *out)
{
	const struct query *q;
	const char *v;
	long n;
	int err = request_query(req, &q);

	if (err)
		return err;
	v = query_get(q, name);
	if (!v) {
		if (!required)
			return 0;
		response_detail(res, "the query parameter %s is required", name);
		return COHORT_E_FIELD;
	}
	if (parse_long(v, &n) || n < min || n > max) {
		response_detail(res, "%s must be an integer from %lld to %lld", name, min, max);
		return COHORT_E_FIELD;
	}
	*out = n;
	return 0;
}

/* The stored cursors of the file, as a JSON array of their objects (none
 * for targets without stored cursors). */
static int render_cursors(struct request *req, long long project, long long fid, struct jsonw *w)
{
	char key[KV_KEY_MAX];
	const char *argv[2] = { "HGETALL", key };
	redisReply *r = NULL;
	int err;

	if (project <= 0) {
		jsonw_arr(w, "cursors");
		jsonw_end(w);
		return 0;
	}
	err = kv_ws_cursors(key, sizeof(key), project, fid);
	if (!err)
		err = rconn_cmd(req->worker->redis, &r, 2, argv, NULL);
	jsonw_arr(w, "cursors");
	for (size_t i = 0; !err && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
		const redisReply *v = r->element[i + 1];

		if (v->type == REDIS_REPLY_STRING && v->len && v->str[0] == '{')
			jsonw_raw(w, NULL, v->str, v->len); /* stored by doc_cursor, already JSON */
	}
	jsonw_end(w);
	rconn_reply_free(r);
	return err;
}

/* The project file of ?path=: fills the target with ws, path and who. */
static int project_target(struct request *req, struct response *res, struct workspace *ws,
			  char path[PATH_BUF], struct cursor_who *who, struct doc_target *t)
{
	int err = query_path(req, res, "path", false, path);

	if (err)
		return err;
	ws_open(req, ws);
	who->user_id = req->who.user_id;
	who->login = req->who.login;
	who->name = req->me.id ? req->me.nickname : NULL;
	memset(t, 0, sizeof(*t));
	t->ws = ws;
	t->path = path;
	t->cursor_project = req->project.id;
	t->who = who;
	return 0;
}

#define PROJECT_ROUTE(fn, at)                                                              \
	int fn(struct request *req, struct response *res)                                  \
	{                                                                                  \
		char path[PATH_BUF];                                                       \
		struct workspace ws;                                                       \
		struct cursor_who who;                                                     \
		struct doc_target t;                                                       \
		int err = project_target(req, res, &ws, path, &who, &t);                   \
                                                                                           \
		return err ? err : at(req, res, &t);                                       \
	}

PROJECT_ROUTE(doc_get, doc_get_at)
PROJECT_ROUTE(doc_push, doc_push_at)
PROJECT_ROUTE(doc_pull, doc_pull_at)
PROJECT_ROUTE(doc_sum, doc_sum_at)
PROJECT_ROUTE(doc_cursor, doc_cursor_at)

int doc_get_at(struct request *req, struct response *res, const struct doc_target *t)
{
	struct workspace *ws = t->ws;
	struct collab_doc d;
	struct strbuf text = STRBUF_INIT;
	struct jsonw w;
	int err;

	strbuf_init(&text, STRBUF_DEFAULT_MAX);
	jsonw_init(&w);
	err = collab_get(ws, t->path, &text, true, &d);
	if (err) {
		err = ws_fail(res, ws, err);
		goto out;
	}
	workspace_touch_active(ws); /* the roster's last activity; a failure costs only that */
	jsonw_obj(&w, NULL);
	jsonw_str(&w, "path", t->path);
	jsonw_int(&w, "version", d.version);
	jsonw_strn(&w, "text", text.buf ? text.buf : "", text.len);
	jsonw_str(&w, "sum", d.sum);
	jsonw_str(&w, "eol", d.crlf ? "crlf" : "lf");
	err = render_cursors(req, t->cursor_project, d.fid, &w);
	jsonw_end(&w);
	if (!err)
		err = response_jsonw(res, 200, &w);
out:
	jsonw_release(&w);
	strbuf_release(&text);
	return err;
}

int doc_push_at(struct request *req, struct response *res, const struct doc_target *t)
{
	static const char *const keys[] = { "version", "updates", NULL };
	char why[256] = "";
	struct collab_push_result pr;
	struct json_object *root = NULL, *updates = NULL;
	const char *unknown;
	long long version;
	struct jsonw w;
	int err;

	if ((err = request_json(req, res, &root)))
		return err;
	if (json_only_keys(root, keys, &unknown)) {
		response_detail(res, "unknown field %s", unknown);
		err = COHORT_E_FIELD;
		goto out;
	}
	if ((err = json_get_int(root, "version", true, 0, (1LL << 53), &version))) {
		response_detail(res, "version must be a non-negative integer");
		goto out;
	}
	json_object_object_get_ex(root, "updates", &updates);
	err = collab_push(t->ws, t->path, version, updates, &pr, why, sizeof(why));
	if (err) {
		err = doc_fail(res, t->ws, why, err);
		goto out;
	}
	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	jsonw_int(&w, "version", pr.version);
	jsonw_int(&w, "accepted", (int64_t)pr.accepted);
	jsonw_int(&w, "skipped", (int64_t)pr.skipped);
	jsonw_end(&w);
	err = response_jsonw(res, 200, &w);
	jsonw_release(&w);
out:
	json_put(root);
	return err;
}

int doc_pull_at(struct request *req, struct response *res, const struct doc_target *t)
{
	long long since = 0, wait = 0;
	int err = query_ll(req, res, "since", true, 0, 1LL << 53, &since);
	bool counted = false;

	if (!err)
		err = query_ll(req, res, "wait", false, 0, PULL_WAIT_MAX_S, &wait);
	if (err)
		return err;
	if (wait > 0) {
		/* Keep at least two workers free of long-polls. */
		int limit = req->cfg->api_threads > 2 ? req->cfg->api_threads - 2 : 0;

		if (atomic_fetch_add(&waiting, 1) >= limit)
			wait = 0;
		counted = true;
	}
	strbuf_reset(&res->body);
	err = collab_pull(t->ws, t->path, since, (int)wait * 1000, &res->body);
	if (counted)
		atomic_fetch_sub(&waiting, 1);
	if (err) {
		strbuf_reset(&res->body);
		return ws_fail(res, t->ws, err);
	}
	res->status = 200;
	res->content_type = "application/json";
	return 0;
}

int doc_sum_at(struct request *req, struct response *res, const struct doc_target *t)
{
	char sum[COLLAB_SUM_HEX];
	long long version = 0, current = 0;
	struct jsonw w;
	int err = query_ll(req, res, "version", true, 0, 1LL << 53, &version);

	if (err)
		return err;
	err = collab_sum(t->ws, t->path, version, sum, &current);
	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	if (err == COHORT_E_CONFLICT) {
		response_detail(res, "the file is at version %lld", current);
		jsonw_release(&w);
		return err;
	}
	if (err) {
		jsonw_release(&w);
		return ws_fail(res, t->ws, err);
	}
	jsonw_int(&w, "version", version);
	jsonw_str(&w, "sum", sum);
	jsonw_end(&w);
	err = response_jsonw(res, 200, &w);
	jsonw_release(&w);
	return err;
}

int doc_cursor_at(struct request *req, struct response *res, const struct doc_target *t)
{
	static const char *const keys[] = { "version", "ranges", "main", "clientID", NULL };
	char why[256] = "";
	struct json_object *root = NULL;
	struct cursor_req cr;
	const char *unknown;
	int err;

	memset(&cr, 0, sizeof(cr));
	if ((err = request_json(req, res, &root)))
		goto out;
	if (json_only_keys(root, keys, &unknown)) {
		response_detail(res, "unknown field %s", unknown);
		err = COHORT_E_FIELD;
		goto out;
	}
	if (json_get_int(root, "version", true, 0, 1LL << 53, &cr.version) ||
	    json_get_int(root, "main", false, 0, CURSOR_RANGES_MAX, &cr.main) ||
	    json_get_str(root, "clientID", true, COLLAB_CLIENT_MAX, &cr.client, &cr.client_len) ||
	    !collab_client_ok(cr.client, cr.client_len)) {
		response_detail(res, "version, clientID (1 to 64 of [A-Za-z0-9_-]) and ranges are required");
		err = COHORT_E_FIELD;
		goto out;
	}
	json_object_object_get_ex(root, "ranges", &cr.ranges);
	err = t->member ? cursor_publish_member(t->ws, t->path, &cr, t->member, why, sizeof(why))
			: cursor_publish(t->ws, t->path, &cr, t->who, why, sizeof(why));
	if (err) {
		err = doc_fail(res, t->ws, why, err);
		goto out;
	}
	res->status = 204;
out:
	json_put(root);
	return err;
}
