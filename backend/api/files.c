#include "api/files.h"
#include "api/wsreq.h"
#include "api/query.h"
#include "api/rcache.h"
#include "api/request.h"
#include "api/treecache.h"
#include "api/worker.h"
#include "core/archive.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/event.h"
#include "core/export.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/kv.h"
#include "core/log.h"
#include "core/num.h"
#include "core/path.h"
#include "core/rconn.h"
#include "core/strbuf.h"
#include "core/workspace.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
 * A "file" event: data {"action","path","from"?,"kind","version"?}. The change
 * is committed already; a failure to publish is logged, not answered.
 */
static void file_event(struct request *req, const char *action, const char *path, const char *from,
		       enum ws_kind kind, long long version)
{
	char key[KV_KEY_MAX], scope[64], project[24];
	struct jsonw d;
	struct event ev = {
		.type = "file",
		.project = project,
		.file = path,
		.version = version > 0 ? version : -1,
		.actor_user = req->who.login,
		.ts_recv = req->recv_wall_us,
	};
	int err;

	jsonw_init(&d);
	jsonw_obj(&d, NULL);
	jsonw_str(&d, "action", action);
	jsonw_str(&d, "path", path);
	if (from)
		jsonw_str(&d, "from", from);
	jsonw_str(&d, "kind", kind == WS_DIR ? "dir" : "file");
	if (version > 0)
		jsonw_int(&d, "version", version);
	jsonw_end(&d);
	err = jsonw_finish(&d);
	snprintf(project, sizeof(project), "%lld", (long long)req->project.id);
	snprintf(scope, sizeof(scope), "project:%lld", (long long)req->project.id);
	ev.stream = scope;
	ev.data_json = d.sb.buf;
	ev.ts_pub = clock_wall_us();
	if (!err)
		err = kv_project_stream(key, sizeof(key), req->project.id);
	if (!err)
		err = publish(req, key, &ev);
	if (err)
		log_warn("file_event_failed", LF_S("rid", req->id), LF_I("project", req->project.id),
			 LF_S("error", rconn_last_error(req->worker->redis)));
	jsonw_release(&d);
}

static void render_stat(struct jsonw *w, const char *path, const struct ws_stat *st)
{
	jsonw_str(w, "path", path);
	jsonw_str(w, "kind", st->kind == WS_DIR ? "dir" : "file");
	if (st->kind == WS_FILE) {
		jsonw_int(w, "size", (int64_t)st->size);
		jsonw_int(w, "version", st->version);
		jsonw_bool(w, "binary", st->binary);
		jsonw_str(w, "content_type", st->ctype);
	}
}

/* The tree cache's key: the workspace (its metadata key names the project
 * or the room generation), the directory and the mode. */
static int tree_key(const struct workspace *ws, const char *dir, bool recursive, char *key, size_t cap)
{
	int n = snprintf(key, cap, "%s\n%s\n%d", ws->k_meta, dir, recursive);

	return n < 0 || (size_t)n >= cap ? COHORT_E_LIMIT : 0;
}

int files_tree(struct request *req, struct response *res)
{
	char dir[PATH_BUF], key[KV_KEY_MAX + PATH_BUF + 8], gen[WS_GEN_MAX] = "";
	struct workspace ws;
	struct ws_list l = { 0 };
	struct jsonw w;
	bool recursive;
	int err = query_path(req, res, "dir", true, dir);

	if (err)
		return err;
	recursive = !dir[0] || query_flag(req, "recursive");
	ws_open(req, &ws);
	err = tree_key(&ws, dir, recursive, key, sizeof(key));
	if (!err && treecache_gen(key, gen, sizeof(gen)))
		gen[0] = '\0';
	if (!err)
		err = workspace_list_since(&ws, dir, recursive, gen, &l);
	if (err == WS_UNCHANGED) {
		strbuf_reset(&res->body);
		err = treecache_copy(key, gen, &res->body);
		if (!err) {
			response_json(res, 200);
			return 0;
		}
		/* Replaced by another thread in between: list in full. */
		strbuf_reset(&res->body);
		err = workspace_list(&ws, dir, recursive, &l);
	}
	if (err)
		return ws_fail(res, &ws, err);
	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	jsonw_int(&w, "project_id", req->project.id);
	jsonw_str(&w, "dir", dir);
	jsonw_bool(&w, "recursive", recursive);
	jsonw_arr(&w, "entries");
	for (size_t i = 0; i < l.n; i++) {
		jsonw_obj(&w, NULL);
		render_stat(&w, l.v[i].path, &l.v[i].st);
		jsonw_end(&w);
	}
	jsonw_end(&w);
	jsonw_end(&w);
	err = response_jsonw(res, 200, &w);
	if (!err)
		treecache_put(key, l.gen, res->body.buf, res->body.len);
	jsonw_release(&w);
	ws_list_release(&l);
	return err;
}

static int set_etag(struct response *res, long long version)
{
	char v[32];

	snprintf(v, sizeof(v), "\"%lld\"", version);
	return response_header(res, "ETag", v);
}

/* A file's key in the read cache (api/rcache.h): 'F', the project id, the
 * path; its group is the project. */
static size_t file_cache_key(char *key, long long project, const char *path)
{
	size_t n = strlen(path);

	key[0] = 'F';
	memcpy(key + 1, &project, sizeof(project));
	memcpy(key + 1 + sizeof(project), path, n);
	return 1 + sizeof(project) + n;
}

/* The content and stat of a file: from the read cache, or read from Redis
 * with tracking and kept there. Reads that ran no script keep nothing. */
static int read_file(struct request *req, struct workspace *ws, const char *path, struct strbuf *body,
		     struct ws_stat *st)
{
	char key[1 + sizeof(long long) + PATH_BUF];
	size_t klen = file_cache_key(key, req->project.id, path);
	struct rcache_ticket t;
	int err;

	if (rcache_get(key, klen, body, st, sizeof(*st)))
		return 0;
	ws_open(req, ws);
	if (rcache_begin(&t))
		ws->track_redirect = t.redirect;
	err = workspace_read(ws, path, body, st);
	if (!err && ws->tracked)
		rcache_put(&t, req->project.id, key, klen, body->buf, body->len, st, sizeof(*st));
	return err;
}

int file_get(struct request *req, struct response *res)
{
	char path[PATH_BUF], v[24];
	struct workspace ws;
	struct ws_stat st;
	int err = query_path(req, res, "path", false, path);

	if (err)
		return err;
	strbuf_reset(&res->body);
	err = read_file(req, &ws, path, &res->body, &st);
	if (err) {
		strbuf_reset(&res->body);
		return ws_fail(res, &ws, err);
	}
	res->status = 200;
	if (st.binary)
		res->content_type = "application/octet-stream";
	else
		res->content_type = "text/plain; charset=utf-8";
	snprintf(v, sizeof(v), "%lld", st.version);
	err = set_etag(res, st.version);
	if (!err)
		err = response_header(res, "X-Cohort-Version", v);
	if (!err)
		err = response_header(res, "X-Cohort-Binary", st.binary ? "true" : "false");
	return err;
}

/* If-Match: exactly "\"<version>\"" (or a bare number); anything else 412. */
static int parse_if_match(struct request *req, struct response *res, long long *version)
{
	const char *s = req->if_match;
	size_t n = strlen(s);
	char buf[24];
	long v;

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(buf)) {
		response_detail(res, "If-Match must be the ETag of the file's current version");
		return COHORT_E_PRECONDITION;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (parse_long(buf, &v) || v < 1) {
		response_detail(res, "If-Match must be the ETag of the file's current version");
		return COHORT_E_PRECONDITION;
	}
	*version = v;
	return 0;
}

static int reply_stat(struct response *res, int status, const char *path, const struct ws_stat *st)
{
	struct jsonw w;
	int err;

	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	render_stat(&w, path, st);
	jsonw_end(&w);
	err = response_jsonw(res, status, &w);
	jsonw_release(&w);
	if (!err && st->kind == WS_FILE)
		err = set_etag(res, st->version);
	return err;
}

/*
 * PUT ?path=[&binary=1][&parents=1]: create (no If-Match needed; If-Match on
 * a missing file is 412) or replace (If-Match required: 428 without it).
 */
int file_put(struct request *req, struct response *res)
{
	char path[PATH_BUF], ctype[WS_CTYPE_MAX + 1] = "";
	struct workspace ws;
	struct ws_stat st;
	const char *body;
	size_t len;
	bool binary = query_flag(req, "binary");
	long long expected = 0;
	int err = query_path(req, res, "path", false, path);

	if (err)
		return err;
	if (req->content_type && strlen(req->content_type) <= WS_CTYPE_MAX)
		snprintf(ctype, sizeof(ctype), "%s", req->content_type);
	err = request_body(req, &body, &len);
	if (err) {
		if (err == COHORT_E_TOOBIG)
			response_detail(res, "the body exceeds api.max_body (%ld bytes)", req->cfg->api_max_body);
		return err;
	}
	if (!binary && workspace_is_binary(body, len)) {
		response_detail(res, "the content is not valid UTF-8 text (send ?binary=1 for binary files)");
		return COHORT_E_UTF8;
	}
	if (req->if_match) {
		err = parse_if_match(req, res, &expected);
		if (err)
			return err;
	}
	ws_open(req, &ws);
	err = workspace_stat(&ws, path, &st);
	if (err == COHORT_E_NOTFOUND) {
		if (req->if_match) {
			response_detail(res, "If-Match was given but the file does not exist");
			return COHORT_E_PRECONDITION;
		}
		err = workspace_create(&ws, path, WS_FILE, body, len, ctype,
				       query_flag(req, "parents") ? WS_PARENTS : 0, &st);
		if (err)
			return ws_fail(res, &ws, err);
		file_event(req, "created", path, NULL, WS_FILE, st.version);
		return reply_stat(res, 201, path, &st);
	}
	if (err)
		return ws_fail(res, &ws, err);
	if (st.kind == WS_DIR) {
		response_detail(res, "%s is a directory", path);
		return COHORT_E_CONFLICT;
	}
	if (!req->if_match) {
		response_detail(res, "the file exists: replacing it needs If-Match with its ETag");
		return COHORT_E_PRECONDREQ;
	}
	err = workspace_replace(&ws, path, body, len, ctype[0] ? ctype : NULL, expected, &st.version);
	if (err) {
		if (err == COHORT_E_PRECONDITION && !ws.reason)
			response_detail(res, "the file changed since version %lld", expected);
		return ws_fail(res, &ws, err);
	}
	err = workspace_stat(&ws, path, &st);
	if (err)
		return ws_fail(res, &ws, err);
	file_event(req, "updated", path, NULL, WS_FILE, st.version);
	return reply_stat(res, 200, path, &st);
}

int file_delete(struct request *req, struct response *res)
{
	char path[PATH_BUF];
	struct workspace ws;
	struct ws_stat st;
	size_t removed = 0;
	int err = query_path(req, res, "path", false, path);

	if (err)
		return err;
	ws_open(req, &ws);
	err = workspace_stat(&ws, path, &st);
	if (!err)
		err = workspace_delete(&ws, path, &removed);
	if (err)
		return ws_fail(res, &ws, err);
	file_event(req, "deleted", path, NULL, st.kind, -1);
	res->status = 204;
	return 0;
}

/* POST /dirs {"path": "...", "parents": bool} */
int dir_post(struct request *req, struct response *res)
{
	static const char *const keys[] = { "path", "parents", NULL };
	struct json_object *root = NULL;
	const char *s, *unknown;
	size_t n;
	bool parents = false;
	char path[PATH_BUF];
	struct workspace ws;
	struct ws_stat st;
	int err = request_json(req, res, &root);

	if (err)
		return err;
	err = json_only_keys(root, keys, &unknown);
	if (err)
		response_detail(res, "unknown field %s", unknown);
	if (!err && (err = json_get_str(root, "path", true, PATH_BUF * 4, &s, &n)) != 0)
		response_detail(res, "path must be a string");
	if (!err && (err = json_get_bool(root, "parents", false, &parents)) != 0)
		response_detail(res, "parents must be a boolean");
	if (!err)
		err = path_field(res, "path", s, n, false, path);
	json_put(root);
	if (err)
		return err;
	ws_open(req, &ws);
	err = workspace_create(&ws, path, WS_DIR, NULL, 0, NULL, parents ? WS_PARENTS : 0, &st);
	if (err)
		return ws_fail(res, &ws, err);
	file_event(req, "created", path, NULL, WS_DIR, -1);
	return reply_stat(res, 201, path, &st);
}

/* POST /move {"from", "to", "replace"} */
int files_move(struct request *req, struct response *res)
{
	static const char *const keys[] = { "from", "to", "replace", NULL };
	struct json_object *root = NULL;
	const char *f = NULL, *t = NULL, *unknown;
	size_t fn = 0, tn = 0, moved = 0;
	bool replace = false;
	char from[PATH_BUF], to[PATH_BUF];
	struct workspace ws;
	struct ws_stat st;
	struct jsonw w;
	int err = request_json(req, res, &root);

	if (err)
		return err;
	err = json_only_keys(root, keys, &unknown);
	if (err)
		response_detail(res, "unknown field %s", unknown);
	if (!err && (err = json_get_str(root, "from", true, PATH_BUF * 4, &f, &fn)) != 0)
		response_detail(res, "from must be a string");
	if (!err && (err = json_get_str(root, "to", true, PATH_BUF * 4, &t, &tn)) != 0)
		response_detail(res, "to must be a string");
	if (!err && (err = json_get_bool(root, "replace", false, &replace)) != 0)
		response_detail(res, "replace must be a boolean");
	if (!err)
		err = path_field(res, "from", f, fn, false, from);
	if (!err)
		err = path_field(res, "to", t, tn, false, to);
	json_put(root);
	if (err)
		return err;
	ws_open(req, &ws);
	err = workspace_rename(&ws, from, to, replace ? WS_REPLACE : 0, &moved);
	if (!err)
		err = workspace_stat(&ws, to, &st);
	if (err)
		return ws_fail(res, &ws, err);
	file_event(req, "renamed", to, from, st.kind, st.kind == WS_FILE ? st.version : -1);
	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	jsonw_str(&w, "from", from);
	jsonw_int(&w, "moved", (int64_t)moved);
	jsonw_obj(&w, "entry");
	render_stat(&w, to, &st);
	jsonw_end(&w);
	jsonw_end(&w);
	err = response_jsonw(res, 200, &w);
	jsonw_release(&w);
	return err;
}

struct archive_job {
	struct workspace ws;
	struct ws_list l;
	enum arch_format fmt;
	long long project;
};

static void archive_job_free(void *ctx)
{
	struct archive_job *j = ctx;

	if (!j)
		return;
	ws_list_release(&j->l);
	free(j);
}

/*
 * Writes the archive through write(out, ..) entry by entry: libarchive's
 * writer hands over each compressed piece as it is produced, and only one
 * file's content is held at a time.
 */
static int archive_stream(void *ctx, response_write_fn write, void *out)
{
	struct archive_job *j = ctx;
	size_t files = 0;
	int err = export_write(&j->ws, &j->l, j->fmt, write, out, &files);

	log_debug("archive_sent", LF_I("project", j->project), LF_I("files", (long long)files),
		  LF_S("error", err ? cohort_errcode(err) : NULL));
	return err;
}

/*
 * GET /archive?format=zip|tar.gz: the tree is listed here (so a Redis
 * failure is still an error status); the body is streamed afterwards.
 */
int project_archive(struct request *req, struct response *res)
{
	const struct query *q;
	const char *fmt;
	struct archive_job *j;
	char disp[128];
	int err = request_query(req, &q);

	if (err)
		return err;
	j = calloc(1, sizeof(*j));
	if (!j)
		return COHORT_E_NOMEM;
	fmt = query_get(q, "format");
	if (!fmt || !strcmp(fmt, "zip"))
		j->fmt = ARCH_ZIP;
	else if (!strcmp(fmt, "tar.gz"))
		j->fmt = ARCH_TAR_GZ;
	else {
		free(j);
		response_detail(res, "format must be zip or tar.gz");
		return COHORT_E_FIELD;
	}
	j->project = req->project.id;
	ws_open(req, &j->ws);
	err = workspace_list(&j->ws, "", true, &j->l);
	if (err) {
		if (j->ws.reason)
			response_detail(res, "%s", j->ws.reason);
		archive_job_free(j);
		return err;
	}
	snprintf(disp, sizeof(disp), "attachment; filename=\"project-%lld.%s\"", (long long)req->project.id,
		 j->fmt == ARCH_ZIP ? "zip" : "tar.gz");
	err = response_header(res, "Content-Disposition", disp);
	if (err) {
		archive_job_free(j);
		return err;
	}
	res->status = 200;
	res->content_type = j->fmt == ARCH_ZIP ? "application/zip" : "application/gzip";
	res->stream = archive_stream;
	res->stream_ctx = j;
	res->stream_free = archive_job_free;
	return 0;
}
