/*
 * DESIGN: the loop only parses (wsmsg.c) and queues; everything that
 * touches SQL or Redis runs in work_cb on a worker thread. A job owns copies
 * of all it reads (path, client id, token, the parsed updates or ranges,
 * whose json-c references are handed over whole and never touched by the
 * loop meanwhile), so the connection may close while it runs: it is then
 * only marked cancelled and freed in after_work_cb.
 *
 * Slots: each running job holds one slot (an SQLite handle and a sync
 * Redis connection, both opened on first use). There are as many slots as
 * libuv has worker threads (UV_THREADPOOL_SIZE, default 4), so a job never
 * waits for one unless authorization jobs share the threads; the wait is
 * then for a slot, never for a thread.
 *
 * Tokens: a WebSocket whose principal is not known yet (no subscription
 * has proved its token) has the token verified here exactly as authz.c
 * does (core session_principal, then the signed-out check, done here with
 * the slot's sync Redis connection since we are off the loop anyway).
 */
#include "stream/edit.h"
#include "stream/authz.h"
#include "stream/metrics.h"
#include "stream/wsmsg.h"
#include "core/auth.h"
#include "core/clock.h"
#include "core/collab.h"
#include "core/config.h"
#include "core/course.h"
#include "core/cursor.h"
#include "core/db.h"
#include "core/err.h"
#include "core/json.h"
#include "core/jwt.h"
#include "core/kv.h"
#include "core/log.h"
#include "core/num.h"
#include "core/principal.h"
#include "core/project.h"
#include "core/rconn.h"
#include "core/session.h"
#include "core/strbuf.h"
#include "core/workspace.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define DETAIL_MAX 256
#define SLOTS_DEFAULT 4 /* libuv's default UV_THREADPOOL_SIZE */
#define SLOTS_MAX 128

struct slot {
	struct db *db;
	struct rconn *rc;
	bool busy;
};

struct edit {
	uv_loop_t *loop;
	const struct cohort_config *cfg;
	struct jwt_keyring kr;
	size_t pending, pending_max;
	uv_mutex_t mu;
	uv_cond_t cv;
	size_t nslots;
	struct slot *slots;
};

struct edit_job {
	uv_work_t work;
	struct edit *e;
	bool cancelled;
	edit_done_fn *done;
	void *arg;
	/* in: */
	enum wsmsg_type type;
	char id[WSMSG_ID_MAX + 3];
	long long project, version, main;
	char *path;
	char *client;
	size_t client_len;
	struct json_object *payload;
	int64_t recv_us;
	bool known;
	struct authz_who who;
	char *tok;
	size_t toklen;
	/* out: */
	bool have_who; /* resolved from tok */
	int err;
	char *reply;
};

int edit_new(struct edit **out, uv_loop_t *loop, const struct cohort_config *cfg, char *errbuf, size_t errlen)
{
	struct edit *e = calloc(1, sizeof(*e));
	const char *env = getenv("UV_THREADPOOL_SIZE");
	long n = SLOTS_DEFAULT;
	int err;

	*out = NULL;
	if (!e)
		return COHORT_E_NOMEM;
	/* Read the way libuv reads it: an unusable value means the default. */
	if (env && (parse_long(env, &n) || n < 1))
		n = SLOTS_DEFAULT;
	e->nslots = n > SLOTS_MAX ? SLOTS_MAX : (size_t)n;
	e->loop = loop;
	e->cfg = cfg;
	e->pending_max = (size_t)cfg->stream_edit_pending_max;
	uv_mutex_init(&e->mu);
	uv_cond_init(&e->cv);
	e->slots = calloc(e->nslots, sizeof(*e->slots));
	if (!e->slots) {
		edit_free(e);
		return COHORT_E_NOMEM;
	}
	err = auth_keyring_load(cfg, &e->kr, errbuf, errlen);
	if (err) {
		edit_free(e);
		return err;
	}
	*out = e;
	return 0;
}

void edit_free(struct edit *e)
{
	if (!e)
		return;
	for (size_t i = 0; e->slots && i < e->nslots; i++) {
		db_close(e->slots[i].db);
		rconn_free(e->slots[i].rc);
	}
	free(e->slots);
	uv_cond_destroy(&e->cv);
	uv_mutex_destroy(&e->mu);
	memset(&e->kr, 0, sizeof(e->kr));
	free(e);
}

size_t edit_pending(const struct edit *e)
{
	return e->pending;
}

char *edit_error_reply(const char *idjson, int err, const char *detail)
{
	struct strbuf sb = STRBUF_INIT;
	const char *code = cohort_errcode(err);

	strbuf_adds(&sb, "{\"type\":\"error\"");
	if (idjson && idjson[0]) {
		strbuf_adds(&sb, ",\"id\":");
		strbuf_adds(&sb, idjson);
	}
	strbuf_adds(&sb, ",\"code\":");
	strbuf_add_json_str(&sb, code, strlen(code));
	strbuf_adds(&sb, ",\"detail\":");
	if (!detail || !detail[0])
		detail = cohort_strerror(err);
	strbuf_add_json_str(&sb, detail, strlen(detail));
	strbuf_addch(&sb, '}');
	return strbuf_detach(&sb, NULL);
}

/* ---- the worker side ---- */

static struct slot *slot_take(struct edit *e)
{
	struct slot *s = NULL;

	uv_mutex_lock(&e->mu);
	for (;;) {
		for (size_t i = 0; i < e->nslots && !s; i++)
			if (!e->slots[i].busy)
				s = &e->slots[i];
		if (s)
			break;
		uv_cond_wait(&e->cv, &e->mu);
	}
	s->busy = true;
	uv_mutex_unlock(&e->mu);
	/* The slot is ours alone now: opening outside the lock is safe. */
	if (!s->db && db_open(e->cfg->db_path, &s->db)) {
		log_error("db_open_failed", LF_S("path", e->cfg->db_path));
		s->db = NULL;
	}
	if (!s->rc)
		s->rc = rconn_new(e->cfg);
	return s;
}

static void slot_give(struct edit *e, struct slot *s)
{
	uv_mutex_lock(&e->mu);
	s->busy = false;
	uv_cond_signal(&e->cv);
	uv_mutex_unlock(&e->mu);
}

/* Whether the token's id was signed out (kv_revoked_token). */
static int signed_out(struct rconn *rc, const char *jti, bool *out)
{
	char key[KV_KEY_MAX];
	const char *argv[2] = { "EXISTS", key };
	redisReply *r = NULL;
	int err = kv_revoked_token(key, sizeof(key), jti);

	if (!err)
		err = rconn_cmd(rc, &r, 2, argv, NULL);
	if (!err)
		*out = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
	rconn_reply_free(r);
	return err;
}

/* The principal: known, or from the token. */
static int resolve(struct edit_job *j, struct slot *s, struct principal *who, char *detail)
{
	struct jwt_claims claims;
	bool out = false;
	int err;

	memset(who, 0, sizeof(*who));
	if (j->known) {
		who->user_id = j->who.user_id;
		who->is_admin = j->who.is_admin;
		memcpy(who->login, j->who.login, sizeof(who->login));
		return 0;
	}
	memset(&claims, 0, sizeof(claims));
	err = session_principal(s->db, &j->e->kr, j->tok, j->toklen, clock_wall_us() / 1000000, who, &claims);
	if (err == COHORT_E_DB)
		return COHORT_E_UNAVAILABLE;
	if (err) {
		snprintf(detail, DETAIL_MAX, "%s",
			 err == COHORT_E_USERDISABLED ? "this account is disabled"
						      : "the token is invalid or expired, or names no user");
		return err;
	}
	if (claims.jti[0]) {
		err = signed_out(s->rc, claims.jti, &out);
		if (err)
			return COHORT_E_UNAVAILABLE;
		if (out) {
			snprintf(detail, DETAIL_MAX, "this token was signed out");
			return COHORT_E_BADTOKEN;
		}
	}
	j->have_who = true;
	j->who.user_id = who->user_id;
	j->who.is_admin = who->is_admin;
	memcpy(j->who.login, who->login, sizeof(j->who.login));
	return 0;
}

static int run_push(struct edit_job *j, struct workspace *ws, char *detail)
{
	struct collab_push_result pr;
	struct strbuf sb = STRBUF_INIT;
	int err = collab_push(ws, j->path, j->version, j->payload, &pr, detail, DETAIL_MAX);

	if (err)
		return err;
	/* cohort-api processes cache file reads (api/rcache.h): the ack goes
	 * out only once their invalidations have (core/rconn.h). */
	(void)rconn_barrier(ws->rc);
	strbuf_addf(&sb, "{\"type\":\"ack\",\"id\":%s,\"version\":%lld,\"accepted\":%zu,\"skipped\":%zu}", j->id,
		    pr.version, pr.accepted, pr.skipped);
	j->reply = strbuf_detach(&sb, NULL);
	return j->reply ? 0 : COHORT_E_NOMEM;
}

static int run_cursor(struct edit_job *j, struct slot *s, const struct principal *who, const struct project *p,
		      struct workspace *ws, char *detail)
{
	struct participant me;
	struct cursor_req cr = {
		.version = j->version,
		.ranges = j->payload,
		.main = j->main,
		.client = j->client,
		.client_len = j->client_len,
	};
	struct cursor_who cw = { who->user_id, who->login, NULL };
	int err;

	memset(&me, 0, sizeof(me));
	err = course_participation(s->db, p->course_id, who->user_id, &me);
	if (err)
		return err;
	if (me.id)
		cw.name = me.nickname;
	return cursor_publish(ws, j->path, &cr, &cw, detail, DETAIL_MAX);
}

static void work_cb(uv_work_t *w)
{
	struct edit_job *j = w->data;
	struct edit *e = j->e;
	const struct cohort_config *cfg = e->cfg;
	struct ws_limits lim = {
		.max_file = (uint64_t)cfg->files_max_file,
		.max_project = (uint64_t)cfg->files_max_project,
		.max_entries = (uint64_t)cfg->files_max_entries,
	};
	char detail[DETAIL_MAX] = "";
	struct principal who;
	struct project p;
	struct access acc;
	struct workspace ws;
	struct slot *s;
	bool push = j->type == WSMSG_PUSH;
	int err;

	/* Runs even when the connection is gone meanwhile (cancelled is the
	 * loop's to read): what the client sent is applied, like an HTTP request
	 * whose client hung up. */
	s = slot_take(e);
	if (!s->db || !s->rc) {
		err = COHORT_E_UNAVAILABLE;
		goto out;
	}
	err = resolve(j, s, &who, detail);
	if (err)
		goto out;
	err = project_check(s->db, &who, j->project, push, &p, &acc);
	if (err == COHORT_E_NOTFOUND)
		snprintf(detail, sizeof(detail), "no project %lld", j->project);
	else if (err == COHORT_E_FORBIDDEN)
		snprintf(detail, sizeof(detail), "no %s access to this project", push ? "write" : "read");
	if (err)
		goto out;
	workspace_init(&ws, s->rc, j->project, &lim);
	ws.actor_user = who.login;
	ws.ts_recv = j->recv_us;
	ws.events_maxlen = cfg->events_maxlen;
	ws.log_max = cfg->collab_log_max;
	err = push ? run_push(j, &ws, detail) : run_cursor(j, s, &who, &p, &ws, detail);
	if (err && !detail[0] && ws.reason)
		snprintf(detail, sizeof(detail), "%s", ws.reason);
out:
	if (s)
		slot_give(e, s);
	j->err = err;
	if (err) {
		free(j->reply);
		j->reply = edit_error_reply(j->id, err == COHORT_E_DB ? COHORT_E_UNAVAILABLE : err, detail);
	}
}

/* ---- back on the loop ---- */

static void job_free(struct edit_job *j)
{
	if (!j)
		return;
	j->e->pending--;
	if (j->tok) {
		memset(j->tok, 0, j->toklen);
		free(j->tok);
	}
	free(j->path);
	free(j->client);
	json_put(j->payload);
	free(j->reply);
	free(j);
}

static void after_work_cb(uv_work_t *w, int status)
{
	struct edit_job *j = w->data;
	char *reply;

	if (!j->cancelled) {
		if (status && !j->err) {
			j->err = COHORT_E_UNAVAILABLE;
			free(j->reply);
			j->reply = edit_error_reply(j->id, j->err, NULL);
		}
		if (j->err)
			stream_metrics.edits_refused++;
		reply = j->reply;
		j->reply = NULL;
		j->done(j->arg, j, reply, j->have_who ? &j->who : NULL);
	}
	job_free(j);
}

void edit_cancel(struct edit_job *j)
{
	if (j)
		j->cancelled = true;
}

int edit_start(struct edit *e, struct wsmsg *m, int64_t recv_us, const struct authz_who *known, const char *tok,
	       edit_done_fn *done, void *arg, struct edit_job **out)
{
	struct edit_job *j;

	if (e->pending >= e->pending_max)
		return COHORT_E_UNAVAILABLE;
	j = calloc(1, sizeof(*j));
	if (!j)
		return COHORT_E_NOMEM;
	e->pending++;
	j->e = e;
	j->work.data = j;
	j->done = done;
	j->arg = arg;
	j->type = m->type;
	memcpy(j->id, m->id, sizeof(j->id)); /* a push always has one (wsmsg.c) */
	j->project = m->project;
	j->version = m->version;
	j->main = m->main;
	j->recv_us = recv_us;
	j->path = m->path;
	m->path = NULL;
	j->client = m->client;
	j->client_len = m->client_len;
	m->client = NULL;
	j->payload = wsmsg_take_payload(m);
	if (known) {
		j->known = true;
		j->who = *known;
	} else {
		size_t n = tok ? strlen(tok) : 0;

		j->tok = malloc(n + 1);
		if (!j->tok) {
			job_free(j);
			return COHORT_E_NOMEM;
		}
		memcpy(j->tok, tok ? tok : "", n + 1);
		j->toklen = n;
	}
	if (uv_queue_work(e->loop, &j->work, work_cb, after_work_cb)) {
		job_free(j);
		return COHORT_E_UNAVAILABLE;
	}
	if (m->type == WSMSG_PUSH)
		stream_metrics.edit_pushes++;
	else
		stream_metrics.edit_cursors++;
	*out = j;
	return 0;
}
