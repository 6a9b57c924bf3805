/*
 * DESIGN: nothing here blocks the loop. A check that needs the token or SQL
 * becomes a job on libuv's worker pool; the job owns copies of everything it
 * reads (token, scopes) so the connection may go away meanwhile — then the
 * check is only marked cancelled and freed when the job is back on the
 * loop. SQLite handles live in a fixed set of slots: a job takes a free
 * slot (opening its handle on first use) under the pool mutex and gives it
 * back after, so each handle is used by one thread at a time while the
 * number of handles stays bounded whatever UV_THREADPOOL_SIZE says.
 *
 * After the job, a token with a jti is checked against the signed-out set
 * in Redis on the feed's command connection (on the loop, asynchronous). If
 * Redis cannot answer the check fails closed (503). A Redis link that is
 * down queues the check until it is back; lws's own timeout ends a request
 * that waits too long.
 */
#include "stream/authz.h"
#include "stream/feed.h"
#include "stream/metrics.h"
#include "stream/subscription.h"
#include "core/auth.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/db.h"
#include "core/err.h"
#include "core/jwt.h"
#include "core/kv.h"
#include "core/log.h"
#include "core/principal.h"
#include "core/scope.h"
#include "core/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define DB_SLOTS 8
#define DETAIL_MAX 160

struct authz {
	uv_loop_t *loop;
	struct feed *feed;
	struct jwt_keyring kr;
	char *db_path;
	size_t pending, pending_max;
	uv_mutex_t mu;
	uv_cond_t cv;
	struct db *slots[DB_SLOTS];
	bool busy[DB_SLOTS];
};

enum req_state { REQ_WORK, REQ_REDIS };

struct authz_req {
	uv_work_t work;
	struct authz *a;
	enum req_state state;
	bool cancelled;
	authz_done_fn *done;
	void *arg;
	struct feed_req *freq;
	/* in: */
	char *tok;
	size_t toklen;
	bool known;
	struct authz_who who;
	size_t n;
	struct scope *scopes;
	/* out: */
	int err;
	bool have_who;
	char jti[JWT_JTI_MAX + 1];
	char detail[DETAIL_MAX];
};

int authz_new(struct authz **out, uv_loop_t *loop, const struct cohort_config *cfg, char *errbuf, size_t errlen)
{
	struct authz *a = calloc(1, sizeof(*a));
	struct db *db = NULL;
	int err;

	*out = NULL;
	if (!a)
		return COHORT_E_NOMEM;
	a->loop = loop;
	a->pending_max = (size_t)cfg->stream_auth_pending_max;
	uv_mutex_init(&a->mu);
	uv_cond_init(&a->cv);
	a->db_path = strdup(cfg->db_path ? cfg->db_path : "");
	if (!a->db_path) {
		authz_free(a);
		return COHORT_E_NOMEM;
	}
	err = auth_keyring_load(cfg, &a->kr, errbuf, errlen);
	if (err) {
		authz_free(a);
		return err;
	}
	/* Fail at start, not at the first client, when the database is unusable. */
	err = db_open(a->db_path, &db);
	if (!err)
		err = db_ping(db);
	if (err) {
		snprintf(errbuf, errlen, "database %s: %s", a->db_path, db ? db_last_error(db) : cohort_strerror(err));
		db_close(db);
		authz_free(a);
		return err;
	}
	a->slots[0] = db;
	*out = a;
	return 0;
}

void authz_set_feed(struct authz *a, struct feed *f)
{
	a->feed = f;
}

void authz_free(struct authz *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < DB_SLOTS; i++)
		db_close(a->slots[i]);
	uv_cond_destroy(&a->cv);
	uv_mutex_destroy(&a->mu);
	memset(&a->kr, 0, sizeof(a->kr));
	free(a->db_path);
	free(a);
}

size_t authz_pending(const struct authz *a)
{
	return a->pending;
}

/* ---- the worker side ---- */

static int slot_take(struct authz *a, struct db **db)
{
	int err = 0;
	size_t i;

	uv_mutex_lock(&a->mu);
	for (;;) {
		/* Prefer a slot whose handle is open already. */
		for (i = 0; i < DB_SLOTS; i++)
			if (!a->busy[i] && a->slots[i])
				goto found;
		for (i = 0; i < DB_SLOTS; i++)
			if (!a->busy[i])
				goto found;
		uv_cond_wait(&a->cv, &a->mu);
	}
found:
	a->busy[i] = true;
	uv_mutex_unlock(&a->mu);
	/* The slot is ours alone now: opening outside the lock is safe. */
	if (!a->slots[i]) {
		err = db_open(a->db_path, &a->slots[i]);
		if (err) {
			log_error("db_open_failed", LF_S("path", a->db_path), LF_S("error", cohort_strerror(err)));
			a->slots[i] = NULL;
		}
	}
	*db = a->slots[i];
	return err ? -1 : (int)i;
}

static void slot_give(struct authz *a, int i)
{
	uv_mutex_lock(&a->mu);
	a->busy[i] = false;
	uv_cond_signal(&a->cv);
	uv_mutex_unlock(&a->mu);
}

static void say_scope(struct authz_req *r, const char *what, const struct scope *sc)
{
	snprintf(r->detail, sizeof(r->detail), "%s: '%s'", what, sc->name);
}

static void refuse_scope(struct authz_req *r, int err, const struct scope *sc)
{
	r->err = err;
	switch (err) {
	case COHORT_E_AUTH:
		say_scope(r, "sign in to follow", sc);
		break;
	case COHORT_E_FORBIDDEN:
		say_scope(r, "not allowed to follow", sc);
		break;
	case COHORT_E_NOTFOUND:
		say_scope(r, "no such stream", sc);
		break;
	default:
		r->err = COHORT_E_UNAVAILABLE;
		snprintf(r->detail, sizeof(r->detail), "the authorization could not be completed");
		break;
	}
}

static void work_cb(uv_work_t *w)
{
	struct authz_req *r = w->data;
	struct authz *a = r->a;
	struct principal who;
	struct jwt_claims claims;
	struct db *db = NULL;
	int slot, err;

	memset(&who, 0, sizeof(who));
	slot = slot_take(a, &db);
	if (slot < 0) {
		r->err = COHORT_E_UNAVAILABLE;
		snprintf(r->detail, sizeof(r->detail), "the authorization could not be completed");
		return;
	}
	if (r->known) {
		who.user_id = r->who.user_id;
		who.is_admin = r->who.is_admin;
		memcpy(who.login, r->who.login, sizeof(who.login));
	} else if (r->tok) {
		memset(&claims, 0, sizeof(claims));
		err = session_principal(db, &a->kr, r->tok, r->toklen, clock_wall_us() / 1000000, &who, &claims);
		if (err) {
			r->err = err == COHORT_E_DB ? COHORT_E_UNAVAILABLE : err;
			snprintf(r->detail, sizeof(r->detail), "%s",
				 err == COHORT_E_BADTOKEN	 ? "the token is invalid or expired, or names no user"
				 : err == COHORT_E_USERDISABLED ? "this account is disabled"
								: "the authorization could not be completed");
			goto out;
		}
		r->have_who = true;
		r->who.user_id = who.user_id;
		r->who.is_admin = who.is_admin;
		memcpy(r->who.login, who.login, sizeof(r->who.login));
		memcpy(r->jti, claims.jti, sizeof(r->jti));
	}
	for (size_t i = 0; i < r->n; i++) {
		err = scope_authorize(db, &who, &r->scopes[i]);
		if (err) {
			refuse_scope(r, err, &r->scopes[i]);
			break;
		}
	}
out:
	slot_give(a, slot);
}

/* ---- back on the loop ---- */

static void req_free(struct authz_req *r)
{
	if (!r)
		return;
	r->a->pending--;
	if (r->tok) {
		memset(r->tok, 0, r->toklen);
		free(r->tok);
	}
	free(r->scopes);
	free(r);
}

static void finish(struct authz_req *r, int err, const char *detail)
{
	const struct authz_who *who = r->have_who ? &r->who : NULL;

	if (!r->cancelled)
		r->done(r->arg, err, detail && *detail ? detail : NULL, who);
	req_free(r);
}

static void revoked_cb(void *arg, int err, bool exists)
{
	struct authz_req *r = arg;

	r->freq = NULL;
	/* A token that was signed out, or could not be checked, names nobody. */
	if (err || exists)
		r->have_who = false;
	if (err)
		finish(r, COHORT_E_UNAVAILABLE, "the sign-out check could not be completed");
	else if (exists)
		finish(r, COHORT_E_BADTOKEN, "this token was signed out");
	else
		finish(r, r->err, r->detail);
}

static void after_work_cb(uv_work_t *w, int status)
{
	struct authz_req *r = w->data;
	char key[KV_KEY_MAX];

	if (status)
		r->err = COHORT_E_UNAVAILABLE;
	if (r->cancelled) {
		req_free(r);
		return;
	}
	/* A refused token needs no sign-out check; neither does one without jti. */
	if (!r->have_who || !r->jti[0]) {
		finish(r, r->err, r->detail);
		return;
	}
	if (!r->a->feed || kv_revoked_token(key, sizeof(key), r->jti)) {
		r->have_who = false;
		finish(r, COHORT_E_UNAVAILABLE, "the sign-out check could not be completed");
		return;
	}
	r->state = REQ_REDIS;
	r->freq = feed_exists(r->a->feed, key, revoked_cb, r);
	if (!r->freq) {
		r->have_who = false;
		finish(r, COHORT_E_UNAVAILABLE, "the sign-out check could not be completed");
	}
}

void authz_cancel(struct authz_req *r)
{
	if (!r || r->cancelled)
		return;
	r->cancelled = true;
	if (r->state == REQ_REDIS) {
		feed_cancel(r->freq);
		req_free(r);
	}
	/* REQ_WORK: after_work_cb frees it. */
}

static bool needs_db(const struct sub_request *req)
{
	for (size_t i = 0; i < req->n; i++)
		if (scope_needs_db(&req->targets[i].scope))
			return true;
	return false;
}

int authz_start(struct authz *a, const char *tok, size_t toklen, const struct authz_who *known,
		const struct sub_request *req, authz_done_fn *done, void *arg, struct authz_req **out)
{
	struct authz_req *r;
	int err;

	if (!known && !tok) {
		/* Anonymous: dev scopes only, nothing to look up. */
		for (size_t i = 0; i < req->n; i++) {
			const struct scope *sc = &req->targets[i].scope;

			if (scope_needs_db(sc)) {
				char detail[DETAIL_MAX];

				snprintf(detail, sizeof(detail), "sign in to follow: '%s'", sc->name);
				done(arg, COHORT_E_AUTH, detail, NULL);
				return 0;
			}
		}
		done(arg, 0, NULL, NULL);
		return 0;
	}
	if (known && !needs_db(req)) {
		done(arg, 0, NULL, known);
		return 0;
	}
	if (a->pending >= a->pending_max) {
		stream_metrics.auth_busy++;
		return COHORT_E_UNAVAILABLE;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return COHORT_E_NOMEM;
	a->pending++;
	r->a = a;
	r->done = done;
	r->arg = arg;
	r->work.data = r;
	if (known) {
		r->known = true;
		r->who = *known;
		r->have_who = true;
	} else {
		r->tok = malloc(toklen + 1);
		if (!r->tok) {
			req_free(r);
			return COHORT_E_NOMEM;
		}
		memcpy(r->tok, tok, toklen);
		r->tok[toklen] = '\0';
		r->toklen = toklen;
	}
	r->n = req->n;
	r->scopes = calloc(req->n ? req->n : 1, sizeof(*r->scopes));
	if (!r->scopes) {
		req_free(r);
		return COHORT_E_NOMEM;
	}
	for (size_t i = 0; i < req->n; i++)
		r->scopes[i] = req->targets[i].scope;
	err = uv_queue_work(a->loop, &r->work, work_cb, after_work_cb);
	if (err) {
		req_free(r);
		return COHORT_E_UNAVAILABLE;
	}
	stream_metrics.auth_checks++;
	*out = r;
	return 0;
}
