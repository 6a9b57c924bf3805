#include "api/projects.h"
#include "api/request.h"
#include "api/worker.h"
#include "core/aclnote.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/course.h"
#include "core/err.h"
#include "core/event.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/kv.h"
#include "core/log.h"
#include "core/project.h"
#include "core/rconn.h"
#include "core/render.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

int project_get_one(struct request *req, struct response *res)
{
	struct jsonw w;
	int err;

	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	render_project(&w, "project", &req->project);
	render_access(&w, "access", &req->access);
	jsonw_end(&w);
	err = response_jsonw(res, 200, &w);
	jsonw_release(&w);
	return err;
}

static int list_row(const struct grant_row *g, void *arg)
{
	struct jsonw *w = arg;

	jsonw_obj(w, NULL);
	render_participant(w, "grantee", &g->grantee);
	render_bits(w, "bits", true, &g->bits);
	jsonw_int(w, "granted_by", g->granted_by);
	jsonw_int(w, "granted_at", g->granted_at);
	jsonw_end(w);
	return w->err;
}

static int list_reader(const struct access_entry *e, void *arg)
{
	struct jsonw *w = arg;

	render_access_entry(w, NULL, e);
	return w->err;
}

static int skip(const struct access_entry *e, void *arg)
{
	(void)e;
	(void)arg;
	return 0;
}

/* The grant rows as set, and who can open the project as a result (rows
 * and default rules together). */
int grants_list(struct request *req, struct response *res)
{
	struct participant owner;
	struct jsonw w;
	int err = participant_get(req->db, req->project.owner_id, &owner);

	if (err)
		return err;
	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	jsonw_int(&w, "project_id", req->project.id);
	jsonw_arr(&w, "grants");
	err = grant_list(req->db, req->project.id, list_row, &w);
	jsonw_end(&w);
	jsonw_arr(&w, "can_open");
	if (!err)
		err = lesson_access(req->db, req->project.lesson_id, &owner, skip, list_reader, &w);
	jsonw_end(&w);
	jsonw_end(&w);
	if (!err)
		err = response_jsonw(res, 200, &w);
	jsonw_release(&w);
	return err;
}

/* XADD of one stored envelope, bounded by events.maxlen. */
static int publish(struct request *req, const char *key, const struct event *ev)
{
	struct strbuf stored = STRBUF_INIT;
	struct redisReply *reply = NULL;
	char maxlen[24];
	int err = event_encode_stored(&stored, ev);

	snprintf(maxlen, sizeof(maxlen), "%ld", req->cfg->events_maxlen);
	if (!err) {
		const char *argv[] = { "XADD", key, "MAXLEN", "~", maxlen, "*", EVENT_FIELD, stored.buf };
		size_t lens[] = { 4, strlen(key), 6, 1, strlen(maxlen), 1, strlen(EVENT_FIELD), stored.len };

		err = rconn_cmd(req->worker->redis, &reply, 8, argv, lens);
	}
	rconn_reply_free(reply);
	strbuf_release(&stored);
	return err;
}

/*
 * The change is already committed when this runs; a Redis failure is logged
 * and does not turn the answer into an error (the grant holds either way,
 * and streams re-check access when they resubscribe).
 */
static void publish_change(struct request *req, const char *data)
{
	char key[KV_KEY_MAX], scope[64], project[24];
	struct event ev = {
		.type = "grant",
		.project = project,
		.version = -1,
		.actor_user = req->who.login,
		.ts_recv = req->recv_wall_us,
		.data_json = data,
	};
	int err;

	snprintf(project, sizeof(project), "%lld", (long long)req->project.id);
	snprintf(scope, sizeof(scope), "project:%lld", (long long)req->project.id);
	ev.stream = scope;
	ev.ts_pub = clock_wall_us();
	err = kv_project_stream(key, sizeof(key), req->project.id);
	if (!err)
		err = publish(req, key, &ev);
	if (!err) {
		snprintf(scope, sizeof(scope), "user:%lld", (long long)req->target.user_id);
		ev.ts_pub = clock_wall_us();
		err = kv_user_stream(key, sizeof(key), req->target.user_id);
	}
	if (!err)
		err = publish(req, key, &ev);
	if (err)
		log_warn("grant_event_failed", LF_S("rid", req->id), LF_I("project", req->project.id),
			 LF_S("error", rconn_last_error(req->worker->redis)));
}

/* Tells every cohort-stream to re-check the grantee's connections (live
 * revocation and granting, core/aclnote.h). Like the events, a failure is
 * logged only: the change is committed. */
static void notify_streamers(struct request *req, const struct grant_change *chg)
{
	char scope[64];
	int err;

	snprintf(scope, sizeof(scope), "project:%lld", (long long)req->project.id);
	err = aclnote_publish(req->worker->redis, req->target.user_id, scope,
			      chg->after.read ? "grant_changed" : "grant_revoked");
	if (err)
		log_warn("acl_notice_failed", LF_S("rid", req->id), LF_I("project", req->project.id),
			 LF_S("error", rconn_last_error(req->worker->redis)));
}

static int reply_change(struct request *req, struct response *res, const struct grant_change *chg,
			bool row_after)
{
	struct participant grantee = req->target;
	struct jsonw w, ev;
	int err;

	jsonw_init(&w);
	jsonw_init(&ev);
	render_grant_change(&w, NULL, &req->project, &req->target, chg, row_after);
	err = response_jsonw(res, 200, &w);
	/* The event goes to everyone who reads the project, students included,
	 * who do not see logins (see participants_list): it carries none. */
	grantee.login[0] = '\0';
	render_grant_change(&ev, NULL, &req->project, &grantee, chg, row_after);
	if (!err && !jsonw_finish(&ev))
		publish_change(req, ev.sb.buf);
	if (!err)
		notify_streamers(req, chg);
	jsonw_release(&ev);
	jsonw_release(&w);
	return err;
}

static int grant_error(struct request *req, struct response *res, int err)
{
	if (err == COHORT_E_NOTMEMBER)
		response_detail(res, "participant %lld is not in the project's course", (long long)req->target.id);
	else if (err == COHORT_E_BADBITS)
		response_detail(res, "the owner's own access cannot be changed, and write needs read");
	else if (err == COHORT_E_NOTFOUND)
		response_detail(res, "participant %lld has no grant on this project", (long long)req->target.id);
	return err;
}

int grant_put(struct request *req, struct response *res)
{
	static const char *const keys[] = { "read", "write", NULL };
	struct json_object *root = NULL;
	struct grant_bits bits = { false, false };
	struct grant_change chg;
	const char *unknown;
	int err = request_json(req, res, &root);

	if (!err && (json_only_keys(root, keys, &unknown) || json_get_bool(root, "read", true, &bits.read) ||
		     json_get_bool(root, "write", true, &bits.write))) {
		response_detail(res, "the body must be {\"read\": true|false, \"write\": true|false} and nothing else");
		err = COHORT_E_BADBITS;
	}
	if (!err && bits.write && !bits.read) {
		response_detail(res, "write without read grants nothing; set read as well");
		err = COHORT_E_BADBITS;
	}
	/* An administrator acting on someone's project records the owner as
	 * the one who granted. */
	if (!err)
		err = grant_set(req->db, &req->project, req->target.id, bits,
				req->me.id ? req->me.id : req->project.owner_id, &chg);
	json_put(root);
	if (err)
		return grant_error(req, res, err);
	return reply_change(req, res, &chg, true);
}

int grant_delete_one(struct request *req, struct response *res)
{
	struct grant_change chg;
	int err = grant_delete(req->db, &req->project, req->target.id, &chg);

	if (err)
		return grant_error(req, res, err);
	return reply_change(req, res, &chg, false);
}
