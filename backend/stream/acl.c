/*
 * DESIGN: a check is per user, not per connection. A notice (or a
 * subscription, watch or presence change) marks the user; the check
 * collects the scopes of all of that user's local connections — what they
 * follow and what they watch — and the lessons they want presence in,
 * answers each one on the worker pool, and applies the answers on the loop
 * to whatever connections the user has by then, matching by scope name.
 * At most one check per user is in flight: a mark that arrives meanwhile
 * makes it run once more when the first one is back, so a revocation that
 * lands during a check is never missed.
 *
 * Answers that are not a refusal (the database could not answer) change
 * nothing: connections keep what they have rather than be cut off by a
 * database hiccup, and the next notice checks again.
 *
 * The control stream is one more source of the process's XREAD. Its start
 * is its last entry when the streamer starts (entries from before are about
 * connections that no longer exist), read once on the command connection;
 * from then on its position moves with each entry read, also across
 * reconnects.
 */
#include "stream/acl.h"
#include "stream/authz.h"
#include "stream/conn.h"
#include "stream/evbuf.h"
#include "stream/feed.h"
#include "stream/follow.h"
#include "stream/hub.h"
#include "stream/metrics.h"
#include "stream/presence.h"
#include "stream/server.h"
#include "stream/subscription.h"
#include "stream/wsmsg.h"
#include "core/aclnote.h"
#include "core/config.h"
#include "core/course.h"
#include "core/db.h"
#include "core/err.h"
#include "core/kv.h"
#include "core/lesson.h"
#include "core/log.h"
#include "core/num.h"
#include "core/presence.h"
#include "core/project.h"
#include "core/principal.h"
#include "core/scope.h"
#include "core/strbuf.h"
#include "core/streamid.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define USER_BUCKETS 1024
#define ARG_MAX 4096
#define REASON_MAX ACLNOTE_REASON_MAX

struct acl_user {
	int64_t id;
	struct acl_user *chain;
	struct acl_conn *conns;
	struct acl_job *job;  /* in flight */
	bool again;           /* marked while the job ran */
	char reason[REASON_MAX + 1];
};

struct acl_conn {
	struct conn *c;
	struct acl_user *u;
	struct acl_conn *prev, *next; /* u->conns */
	size_t nwatch;
	struct sub_target *watch;
	char *resume;                 /* SSE: the request's position, for watched scopes */
};

struct acl {
	struct server *srv;
	struct feed *feed;
	struct feed_hooks inner;
	char key[KV_KEY_MAX];
	bool ready;
	bool stopping;
	struct stream_id pos;
	struct feed_req *init;
	struct acl_user *buckets[USER_BUCKETS];
	char *db_path;
	uv_mutex_t mu;
	struct db *db;
	size_t jobs;
};

struct acl_job {
	uv_work_t work;
	struct acl *a;
	int64_t user;
	struct principal who;
	bool cancelled; /* the user went away: nothing to apply */
	size_t n;
	struct scope *scopes;
	int *errs;
	size_t nl;
	int64_t *lessons;
	int64_t *projects; /* with lessons[i]: the project the session says it is at, or 0 */
	int *lerrs;
	char (*names)[NICKNAME_MAX_BYTES + 1];
};

/* ---- setup ---- */

int acl_new(struct acl **out, struct server *srv, char *errbuf, size_t errlen)
{
	struct acl *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a)
		return COHORT_E_NOMEM;
	a->srv = srv;
	uv_mutex_init(&a->mu);
	a->db_path = strdup(srv->cfg->db_path ? srv->cfg->db_path : "");
	if (!a->db_path || kv_acl_stream(a->key, sizeof(a->key))) {
		snprintf(errbuf, errlen, "out of memory");
		acl_free(a);
		return COHORT_E_NOMEM;
	}
	*out = a;
	return 0;
}

void acl_free(struct acl *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < USER_BUCKETS; i++)
		while (a->buckets[i]) {
			struct acl_user *u = a->buckets[i];

			a->buckets[i] = u->chain;
			free(u);
		}
	db_close(a->db);
	uv_mutex_destroy(&a->mu);
	free(a->db_path);
	free(a);
}

/* ---- users ---- */

static struct acl_user **slot(struct acl *a, int64_t id)
{
	struct acl_user **p = &a->buckets[(uint64_t)id % USER_BUCKETS];

	while (*p && (*p)->id != id)
		p = &(*p)->chain;
	return p;
}

static void user_drop_if_idle(struct acl *a, struct acl_user *u)
{
	struct acl_user **p;

	if (u->conns || u->job)
		return;
	p = slot(a, u->id);
	if (*p == u)
		*p = u->chain;
	free(u);
}

/* ---- the worker side ---- */

static void work_cb(uv_work_t *w)
{
	struct acl_job *j = w->data;
	struct acl *a = j->a;
	int err;

	uv_mutex_lock(&a->mu);
	if (!a->db && db_open(a->db_path, &a->db)) {
		db_close(a->db);
		a->db = NULL;
	}
	for (size_t i = 0; i < j->n; i++)
		j->errs[i] = a->db ? scope_authorize(a->db, &j->who, &j->scopes[i]) : COHORT_E_DB;
	for (size_t i = 0; i < j->nl; i++) {
		struct scope sc;
		struct lesson l;
		struct participant me;
		struct scope_policy pol = { false };
		char name[SCOPE_MAX + 1];

		snprintf(name, sizeof(name), "lesson:%lld", (long long)j->lessons[i]);
		err = a->db ? scope_parse(name, strlen(name), &pol, &sc) : COHORT_E_DB;
		err = err ? err : scope_authorize(a->db, &j->who, &sc);
		err = err ? err : lesson_get(a->db, j->lessons[i], &l);
		err = err ? err : course_participation(a->db, l.course_id, j->who.user_id, &me);
		/* A place one may not read, or of another lesson, is not a place one can be. */
		if (!err && j->projects[i]) {
			struct project p;
			struct access acc;

			err = project_check(a->db, &j->who, j->projects[i], false, &p, &acc);
			if (!err && p.lesson_id != j->lessons[i])
				err = COHORT_E_FORBIDDEN;
		}
		/* An admin outside the course shows up by login. */
		if (!err)
			snprintf(j->names[i], sizeof(j->names[i]), "%s", me.id ? me.nickname : j->who.login);
		j->lerrs[i] = err;
	}
	uv_mutex_unlock(&a->mu);
}

static void job_free(struct acl_job *j)
{
	if (!j)
		return;
	free(j->scopes);
	free(j->errs);
	free(j->lessons);
	free(j->projects);
	free(j->lerrs);
	free(j->names);
	free(j);
}

/* A refusal, as opposed to "could not tell". */
static bool refused(int err)
{
	return err == COHORT_E_FORBIDDEN || err == COHORT_E_NOTFOUND || err == COHORT_E_AUTH;
}

static int find_scope(const struct acl_job *j, const char *name)
{
	for (size_t i = 0; i < j->n; i++)
		if (!strcmp(j->scopes[i].name, name))
			return (int)i;
	return -1;
}

static struct evbuf *notice(const char *type, const char *scope, const char *reason)
{
	struct strbuf sb = STRBUF_INIT;
	struct stream_id zero = { 0, 0 };
	struct evbuf *ev = NULL;

	strbuf_adds(&sb, "{\"type\":");
	strbuf_add_json_str(&sb, type, strlen(type));
	strbuf_adds(&sb, ",\"stream\":");
	strbuf_add_json_str(&sb, scope, strlen(scope));
	strbuf_adds(&sb, ",\"data\":{");
	if (reason) {
		strbuf_adds(&sb, "\"reason\":");
		strbuf_add_json_str(&sb, reason, strlen(reason));
	}
	strbuf_adds(&sb, "}}");
	if (!sb.buf || evbuf_new(&ev, &zero, sb.buf, sb.len))
		ev = NULL;
	strbuf_release(&sb);
	return ev;
}

static bool follows(const struct conn *c, const char *name)
{
	for (uint16_t i = 0; i < c->n; i++)
		if (!strcmp(c->subs[i].scope, name))
			return true;
	return false;
}

/* Where a watched scope resumes from: the SSE request's position, once. */
static bool resume_of(struct acl_conn *x, const struct sub_target *t, struct stream_id *out)
{
	struct sub_target copy = *t;
	struct sub_request one = { 1, &copy };
	bool has = false;

	if (!x->resume)
		return false;
	if (follow_resume_parse(x->resume, strlen(x->resume), &one, out, &has))
		return false;
	return has;
}

/* Applies a job's answers to one connection. */
static void apply_conn(struct acl *a, struct acl_conn *x, const struct acl_job *j, const char *reason)
{
	struct conn *c = x->c;
	size_t max = (size_t)a->srv->cfg->stream_max_streams, kept = 0, nadd = 0, nnotes = 0;
	bool *keep = NULL, *has = NULL, change = false;
	struct sub_target *add = NULL;
	struct stream_id *start = NULL;
	struct evbuf **notes = NULL;
	int64_t plesson;

	if (conn_dead(c))
		return;
	/* Presence first: a revoked lesson ends it, a waiting one gets its answer. */
	for (size_t i = 0; i < j->nl; i++)
		if (presence_waiting(c) == j->lessons[i] && presence_waiting_project(c) == j->projects[i])
			presence_named(c, j->lessons[i], j->projects[i], j->lerrs[i], j->names[i]);
	plesson = presence_lesson(c);
	if (plesson) {
		char name[SCOPE_MAX + 1];
		int k;

		snprintf(name, sizeof(name), "lesson:%lld", (long long)plesson);
		k = find_scope(j, name);
		if (k >= 0 && refused(j->errs[k]))
			presence_conn_free(c);
	}
	keep = calloc(c->n ? c->n : 1, sizeof(*keep));
	notes = calloc((size_t)c->n + x->nwatch + 1, sizeof(*notes));
	add = calloc(x->nwatch + 1, sizeof(*add));
	has = calloc(x->nwatch + 1, sizeof(*has));
	start = calloc(x->nwatch + 1, sizeof(*start));
	if (!keep || !notes || !add || !has || !start)
		goto out;
	for (uint16_t i = 0; i < c->n; i++) {
		int k = find_scope(j, c->subs[i].scope);

		keep[i] = !(k >= 0 && refused(j->errs[k]));
		if (keep[i]) {
			kept++;
			continue;
		}
		change = true;
		stream_metrics.revoked++;
		notes[nnotes] = notice("revoked", c->subs[i].scope, reason);
		if (notes[nnotes])
			nnotes++;
		log_info("stream_revoked", LF_I("conn", c->id), LF_I("user", c->user_id),
			 LF_S("stream", c->subs[i].scope), LF_S("reason", reason));
	}
	for (size_t w = 0; w < x->nwatch; w++) {
		const struct sub_target *t = &x->watch[w];
		int k = find_scope(j, t->scope.name);

		if (k < 0 || j->errs[k] || follows(c, t->scope.name) || kept + nadd >= max)
			continue;
		add[nadd] = *t;
		has[nadd] = resume_of(x, t, &start[nadd]);
		notes[nnotes] = notice("granted", t->scope.name, NULL);
		if (notes[nnotes])
			nnotes++;
		log_info("stream_granted", LF_I("conn", c->id), LF_I("user", c->user_id),
			 LF_S("stream", t->scope.name));
		nadd++;
		stream_metrics.granted++;
		change = true;
	}
	if (change)
		conn_reshape(c, keep, add, start, has, nadd, notes, nnotes);
	/* The request's position served the first grant of each scope. */
	free(x->resume);
	x->resume = NULL;
out:
	for (size_t i = 0; notes && i < nnotes; i++)
		evbuf_unref(notes[i]);
	free(notes);
	free(keep);
	free(add);
	free(has);
	free(start);
}

static void job_start(struct acl *a, struct acl_user *u);

static void after_work_cb(uv_work_t *w, int status)
{
	struct acl_job *j = w->data;
	struct acl *a = j->a;
	struct acl_user *u;

	a->jobs--;
	if (j->cancelled || a->stopping) {
		job_free(j);
		return;
	}
	u = *slot(a, j->user);
	if (!u) {
		job_free(j);
		return;
	}
	u->job = NULL;
	if (status == 0) {
		char reason[REASON_MAX + 1];

		snprintf(reason, sizeof(reason), "%s", u->reason[0] ? u->reason : "access_changed");
		for (struct acl_conn *x = u->conns, *next; x; x = next) {
			next = x->next; /* apply may end presence, never the connection */
			apply_conn(a, x, j, reason);
		}
	}
	job_free(j);
	if (u->again) {
		u->again = false;
		job_start(a, u);
	} else {
		u->reason[0] = '\0';
		user_drop_if_idle(a, u);
	}
}

static bool job_has(const struct acl_job *j, const char *name)
{
	return find_scope(j, name) >= 0;
}

static int job_add(struct acl_job *j, size_t cap, const struct scope *sc)
{
	if (sc->kind == SCOPE_DEV || job_has(j, sc->name))
		return 0;
	if (j->n >= cap)
		return COHORT_E_LIMIT;
	j->scopes[j->n++] = *sc;
	return 0;
}

static void job_start(struct acl *a, struct acl_user *u)
{
	struct acl_job *j;
	size_t cap = 0, ncon = 0;
	struct authz_who who;
	bool have_who = false;

	if (a->stopping)
		return;
	if (u->job) {
		u->again = true;
		return;
	}
	for (struct acl_conn *x = u->conns; x; x = x->next) {
		cap += x->c->n + x->nwatch + 1;
		ncon++;
		if (!have_who)
			have_who = conn_principal(x->c, &who);
	}
	if (!ncon || !have_who)
		return;
	j = calloc(1, sizeof(*j));
	if (!j)
		goto nomem;
	j->work.data = j;
	j->a = a;
	j->user = u->id;
	j->who.user_id = who.user_id;
	j->who.is_admin = who.is_admin;
	snprintf(j->who.login, sizeof(j->who.login), "%s", who.login);
	j->scopes = calloc(cap, sizeof(*j->scopes));
	j->errs = calloc(cap, sizeof(*j->errs));
	j->lessons = calloc(ncon, sizeof(*j->lessons));
	j->projects = calloc(ncon, sizeof(*j->projects));
	j->lerrs = calloc(ncon, sizeof(*j->lerrs));
	j->names = calloc(ncon, sizeof(*j->names));
	if (!j->scopes || !j->errs || !j->lessons || !j->projects || !j->lerrs || !j->names)
		goto nomem;
	for (struct acl_conn *x = u->conns; x; x = x->next) {
		struct conn *c = x->c;
		int64_t l = presence_waiting(c);

		for (uint16_t i = 0; i < c->n; i++) {
			struct scope sc;

			if (!scope_parse(c->subs[i].scope, strlen(c->subs[i].scope), &a->srv->policy, &sc))
				job_add(j, cap, &sc);
		}
		for (size_t w = 0; w < x->nwatch; w++)
			job_add(j, cap, &x->watch[w].scope);
		if (l) {
			int64_t pr = presence_waiting_project(c);
			size_t k;

			for (k = 0; k < j->nl && !(j->lessons[k] == l && j->projects[k] == pr); k++)
				;
			if (k == j->nl) {
				j->lessons[j->nl] = l;
				j->projects[j->nl++] = pr;
			}
		}
		/* The presence lesson is re-checked too: a removed participant leaves it. */
		if (presence_lesson(c)) {
			struct scope sc;
			char name[SCOPE_MAX + 1];

			snprintf(name, sizeof(name), "lesson:%lld", (long long)presence_lesson(c));
			if (!scope_parse(name, strlen(name), &a->srv->policy, &sc))
				job_add(j, cap, &sc);
		}
	}
	log_debug("acl_check", LF_I("user", u->id), LF_I("scopes", j->n), LF_I("lessons", j->nl));
	if (uv_queue_work(a->srv->loop, &j->work, work_cb, after_work_cb))
		goto nomem;
	a->jobs++;
	stream_metrics.acl_checks++;
	u->job = j;
	return;
nomem:
	log_error("acl_check_failed", LF_I("user", u->id), LF_S("error", "could not start the check"));
	job_free(j);
}

static void mark_user(struct acl *a, int64_t user, const char *reason)
{
	struct acl_user *u = *slot(a, user);

	if (!u)
		return; /* no connection of that user here */
	if (reason)
		snprintf(u->reason, sizeof(u->reason), "%s", reason);
	job_start(a, u);
}

void acl_recheck(struct conn *c, const char *reason)
{
	struct acl_conn *x = c->acl;

	if (!x || !x->u)
		return;
	if (reason && !x->u->reason[0])
		snprintf(x->u->reason, sizeof(x->u->reason), "%s", reason);
	job_start(c->srv->acl, x->u);
}

/* ---- the control stream in the reader ---- */

static size_t sources(void *arg, struct feed_source *out, size_t max)
{
	struct acl *a = arg;
	size_t n = a->inner.sources(a->inner.arg, out, max);

	if (!a->ready)
		return n;
	if (n < max) {
		out[n].key = a->key;
		out[n].after = a->pos;
	}
	return n + 1;
}

static void entries(void *arg, const char *key, size_t keylen, const struct feed_entry *ents, size_t n)
{
	struct acl *a = arg;

	if (keylen != strlen(a->key) || memcmp(key, a->key, keylen)) {
		a->inner.entries(a->inner.arg, key, keylen, ents, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct aclnote note;

		if (stream_id_cmp(&ents[i].id, &a->pos) <= 0)
			continue;
		a->pos = ents[i].id;
		if (!ents[i].e || aclnote_parse(ents[i].e, ents[i].elen, &note)) {
			log_warn("acl_notice_bad", LF_S("error", "malformed control entry"));
			continue;
		}
		log_debug("acl_notice", LF_I("user", note.user_id), LF_S("scope", note.scope),
			  LF_S("reason", note.reason));
		stream_metrics.acl_notices++;
		mark_user(a, note.user_id, note.reason[0] ? note.reason : NULL);
	}
}

static bool batch_done(void *arg)
{
	struct acl *a = arg;

	return a->inner.batch_done(a->inner.arg);
}

void acl_wrap_hooks(struct acl *a, struct feed_hooks *h)
{
	a->inner = *h;
	h->arg = a;
	h->sources = sources;
	h->entries = entries;
	h->batch_done = batch_done;
}

static void on_last(void *arg, int err, const struct stream_id *last)
{
	struct acl *a = arg;

	a->init = NULL;
	if (err)
		log_warn("acl_start", LF_S("error", "could not read the control stream's end; reading it all"));
	else
		a->pos = *last;
	a->ready = true;
	feed_sources_changed(a->feed);
}

void acl_start(struct acl *a, struct feed *f)
{
	a->feed = f;
	a->init = feed_last_id(f, a->key, on_last, a);
	if (!a->init) {
		a->ready = true;
		feed_sources_changed(f);
	}
}

void acl_stop(struct acl *a)
{
	if (!a)
		return;
	a->stopping = true;
	feed_cancel(a->init);
	a->init = NULL;
}

/* ---- connections ---- */

static struct acl_conn *conn_x(struct conn *c)
{
	if (!c->acl) {
		c->acl = calloc(1, sizeof(*c->acl));
		if (c->acl)
			c->acl->c = c;
	}
	return c->acl;
}

void acl_conn_authed(struct conn *c)
{
	struct acl *a = c->srv->acl;
	struct acl_conn *x;
	struct acl_user **p, *u;

	if (!a || c->user_id <= 0 || !(x = conn_x(c)) || x->u)
		return;
	p = slot(a, c->user_id);
	u = *p;
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u)
			return;
		u->id = c->user_id;
		*p = u;
	}
	x->u = u;
	x->next = u->conns;
	if (u->conns)
		u->conns->prev = x;
	u->conns = x;
}

void acl_conn_subscribed(struct conn *c)
{
	struct acl_conn *x = c->acl;

	if ((x && x->nwatch) || presence_waiting(c))
		acl_recheck(c, NULL);
}

void acl_conn_free(struct conn *c)
{
	struct acl_conn *x = c->acl;
	struct acl_user *u;

	if (!x)
		return;
	u = x->u;
	if (u) {
		if (x->prev)
			x->prev->next = x->next;
		else
			u->conns = x->next;
		if (x->next)
			x->next->prev = x->prev;
		user_drop_if_idle(c->srv->acl, u);
	}
	free(x->watch);
	free(x->resume);
	free(x);
	c->acl = NULL;
}

/* Sets the watch list (taken over from req). */
static void set_watch(struct acl_conn *x, struct sub_request *req)
{
	free(x->watch);
	x->watch = req->targets;
	x->nwatch = req->n;
	req->targets = NULL;
	req->n = 0;
}

static const char *urlarg(struct lws *wsi, const char *name, char *buf, int len)
{
	return lws_get_urlarg_by_name(wsi, name, buf, len);
}

int acl_sse_params(struct conn *c, struct lws *wsi, struct sub_request *req, const char *resume, char *detail,
		   size_t dlen)
{
	struct server *srv = c->srv;
	size_t max = (size_t)srv->cfg->stream_max_streams;
	char *buf = malloc(ARG_MAX);
	const char *v;
	struct sub_request w = { 0, NULL };
	int err = 0;

	if (!buf)
		return COHORT_E_NOMEM;
	v = urlarg(wsi, "watch=", buf, ARG_MAX);
	if (v && *v) {
		size_t extra = 0;

		err = subscription_parse_list(v, strlen(v), &srv->policy, max, &w, detail, dlen);
		if (err)
			goto out;
		for (size_t i = 0; i < w.n; i++) {
			bool dup = false;

			for (size_t k = 0; k < req->n; k++)
				dup = dup || !strcmp(req->targets[k].scope.name, w.targets[i].scope.name);
			extra += !dup;
		}
		if (req->n + extra > max) {
			snprintf(detail, dlen, "streams and watch together name at most %zu streams", max);
			err = COHORT_E_LIMIT;
			goto out;
		}
		if (!conn_x(c)) {
			err = COHORT_E_NOMEM;
			goto out;
		}
		set_watch(c->acl, &w);
		if (resume && *resume && !(c->acl->resume = strdup(resume))) {
			err = COHORT_E_NOMEM;
			goto out;
		}
	}
	v = urlarg(wsi, "presence=", buf, ARG_MAX);
	if (v) {
		char name[SCOPE_MAX + 1], client[PRESENCE_CLIENT_MAX + 1] = "";
		struct sub_target t;
		bool listed = false;

		snprintf(name, sizeof(name), "lesson:%.80s", v);
		if (scope_parse(name, strlen(name), &srv->policy, &t.scope) ||
		    scope_stream_key(&t.scope, t.key, sizeof(t.key))) {
			snprintf(detail, dlen, "presence must be a lesson id");
			err = COHORT_E_BADSTREAM;
			goto out;
		}
		v = urlarg(wsi, "client=", buf, ARG_MAX);
		if (v) {
			if (!presence_client_ok(v, strlen(v))) {
				snprintf(detail, dlen, "client must be 1 to 64 of [A-Za-z0-9_-]");
				err = COHORT_E_INVAL;
				goto out;
			}
			snprintf(client, sizeof(client), "%s", v);
		}
		for (size_t k = 0; k < req->n; k++)
			listed = listed || !strcmp(req->targets[k].scope.name, t.scope.name);
		if (!listed) {
			struct sub_target *nt;

			if (req->n + (c->acl ? c->acl->nwatch : 0) + 1 > max) {
				snprintf(detail, dlen, "presence adds %s: at most %zu streams per connection", t.scope.name,
					 max);
				err = COHORT_E_LIMIT;
				goto out;
			}
			nt = realloc(req->targets, (req->n + 1) * sizeof(*nt));
			if (!nt) {
				err = COHORT_E_NOMEM;
				goto out;
			}
			req->targets = nt;
			req->targets[req->n++] = t;
		}
		err = presence_want(c, t.scope.id, client, 0, NULL);
	}
out:
	subscription_release(&w);
	free(buf);
	return err;
}

void acl_ws_watch(struct conn *c, struct wsmsg *m)
{
	char detail[SUB_DETAIL_MAX] = "";
	struct sub_request req;
	struct authz_who who;
	int err;

	if (!conn_principal(c, &who) || !who.user_id) {
		conn_ws_error(c, COHORT_E_AUTH, "sign in first: watch needs a subscribe with the connection's token");
		return;
	}
	memset(&req, 0, sizeof(req));
	/* An empty list clears the watch list. */
	err = m->nstreams ? subscription_parse_names((const char *const *)m->streams, m->lens, m->nstreams,
						     &c->srv->policy, (size_t)c->srv->cfg->stream_max_streams, &req,
						     detail, sizeof(detail))
			  : 0;
	if (!err && !conn_x(c))
		err = COHORT_E_NOMEM;
	if (err) {
		conn_ws_error(c, err, detail);
		subscription_release(&req);
		return;
	}
	set_watch(c->acl, &req);
	acl_recheck(c, NULL);
}

void acl_ws_presence(struct conn *c, struct wsmsg *m)
{
	struct authz_who who;
	int err;

	if (!conn_principal(c, &who) || !who.user_id) {
		conn_ws_error(c, COHORT_E_AUTH, "sign in first: presence needs a subscribe with the connection's token");
		return;
	}
	err = presence_want(c, m->lesson, m->client, m->project, m->path);
	if (err) {
		conn_ws_error(c, err, NULL);
		return;
	}
	if (presence_waiting(c))
		acl_recheck(c, NULL);
}
