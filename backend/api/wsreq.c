/*
 * wsreq.c — see wsreq.h.
 */
#include "api/wsreq.h"
#include "api/query.h"
#include "api/request.h"
#include "api/worker.h"
#include "core/config.h"
#include "core/err.h"
#include "core/path.h"
#include "core/workspace.h"

#include <string.h>

void ws_open(struct request *req, struct workspace *ws)
{
	struct ws_limits lim = {
		.max_file = (uint64_t)req->cfg->files_max_file,
		.max_project = (uint64_t)req->cfg->files_max_project,
		.max_entries = (uint64_t)req->cfg->files_max_entries,
	};

	workspace_init(ws, req->worker->redis, req->project.id, &lim);
	ws->actor_user = req->who.login;
	ws->ts_recv = req->recv_wall_us;
	ws->events_maxlen = req->cfg->events_maxlen;
	ws->log_max = req->cfg->collab_log_max;
}

/* The workspace's reason (when there is one) as the problem detail. */
int ws_fail(struct response *res, const struct workspace *ws, int err)
{
	if (ws->reason)
		response_detail(res, "%s", ws->reason);
	return err;
}

/* A canonical path from s (strict); 422 with the normalizer's reason. */
int path_field(struct response *res, const char *what, const char *s, size_t len, bool root,
		char out[PATH_BUF])
{
	const char *reason = NULL;
	int err = path_normalize(s, len, out, PATH_BUF, root ? PATH_ALLOW_ROOT : 0, &reason);

	if (err) {
		response_detail(res, "%s: %s", what, reason ? reason : "not a canonical path");
		return COHORT_E_FIELD;
	}
	return 0;
}

/* ?name= as a canonical path; missing: 422 unless optional (then ""). */
int query_path(struct request *req, struct response *res, const char *name, bool optional,
		      char out[PATH_BUF])
{
	const struct query *q;
	const char *v;
	int err = request_query(req, &q);

	if (err)
		return err;
	v = query_get(q, name);
	if (!v) {
		if (optional) {
			out[0] = '\0';
			return 0;
		}
		response_detail(res, "the query parameter %s is required", name);
		return COHORT_E_FIELD;
	}
	return path_field(res, name, v, strlen(v), optional, out);
}

bool query_flag(struct request *req, const char *name)
{
	const struct query *q;
	const char *v;

	if (request_query(req, &q))
		return false;
	v = query_get(q, name);
	return v && (!strcmp(v, "1") || !strcmp(v, "true") || !*v);
}
