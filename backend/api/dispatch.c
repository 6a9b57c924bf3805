#include "api/dispatch.h"
#include "api/authn.h"
#include "api/metrics.h"
#include "api/permission.h"
#include "api/rcache.h"
#include "api/request.h"
#include "api/routes.h"
#include "api/worker.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/db.h"
#include "core/err.h"
#include "core/log.h"
#include "core/rconn.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/*
 * Who is asking, once, for every route that is not public (a bad token is
 * refused even where anonymous callers would pass), then whether they may.
 * The database's generation is read first: while it stands, the answers
 * kept in the worker's authcache are still true and no lookup runs. Lookups
 * that do run (a handful of one-row reads: user, project, course, grants,
 * participation) share one read transaction, opened by the first of them
 * (dispatch_auth_txn), so they see one snapshot and take SQLite's locks
 * once; it ends here, before the handler, which may write.
 */
static int authorize(struct request *req, struct response *res)
{
	enum permission p = req->match.route->perm;
	int err = 0;

	req->auth_txn_allowed = true;
	if (p != PERM_PUBLIC && p != PERM_DEV) {
		struct db *db;

		if (worker_db(req->worker, &db) == 0)
			req->auth_gen_ok = db_generation(db, &req->auth_gen) == 0;
		err = authn_resolve(req, res);
	}
	if (!err)
		err = permission_check(p, req, res);
	if (req->auth_txn && db_commit(req->db))
		db_rollback(req->db);
	req->auth_txn = req->auth_txn_allowed = false;
	if (req->db && db_in_transaction(req->db)) {
		/* The handler must start outside any transaction: give up this
		 * connection rather than run it inside a stuck one. */
		log_error("db_transaction_stuck", LF_S("rid", req->id), LF_S("error", db_last_error(req->db)));
		worker_db_close(req->worker);
		req->db = NULL;
		if (!err)
			err = COHORT_E_DB;
	}
	return err;
}

void dispatch_auth_txn(struct request *req)
{
	if (req->auth_txn_allowed && !req->auth_txn && req->db && !db_in_transaction(req->db))
		req->auth_txn = db_begin(req->db) == 0;
}

static int route_request(const struct route *table, size_t n, struct request *req, struct response *res)
{
	int err;

	if (req->err) {
		if (req->err_detail)
			response_detail(res, "%s", req->err_detail);
		return req->err;
	}
	err = router_match(table, n, req->method, req->path, req->path_len, &req->match);
	/* The body limit comes first, for any request, before a byte of the body
	 * is read: api.max_body, or the matched route's own (a template upload). */
	req->max_body = err ? req->cfg->api_max_body : routes_max_body(req->match.route, req->cfg);
	if (req->content_length > req->max_body) {
		response_detail(res, "Content-Length %lld exceeds the limit of %ld bytes",
				req->content_length, req->max_body);
		return COHORT_E_TOOBIG;
	}
	if (err == COHORT_E_METHOD) {
		response_detail(res, "%s is not allowed here; allowed: %s", req->method, req->match.allow);
		return err;
	}
	if (err)
		return err;
	err = authorize(req, res);
	if (err)
		return err;
	res->detail[0] = '\0';
	err = req->match.route->handler(req, res);
	/* What this process wrote to a project is dropped from its read cache
	 * at once; other processes hear of it from Redis (api/rcache.h), and
	 * the barrier makes sure they have before the answer goes out. */
	if (req->has_project && strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		rcache_invalidate(req->project.id);
		(void)rconn_barrier(req->worker->redis);
	}
	if (!err && res->status == 0) {
		log_error("handler_without_status", LF_S("rid", req->id), LF_S("route", req->match.route->name));
		err = COHORT_E_INTERNAL;
	}
	return err;
}

void dispatch(struct request *req, struct response *res)
{
	size_t n;
	const struct route *table = routes_table(&n);

	dispatch_table(table, n, req, res);
}

void dispatch_table(const struct route *table, size_t n, struct request *req, struct response *res)
{
	int err;

	metrics_begin();
	err = route_request(table, n, req, res);
	if (!err)
		return;
	response_problem(res, err, res->detail[0] ? res->detail : NULL, req->id);
	/* Headers that belong to particular errors. */
	if (err == COHORT_E_METHOD)
		response_header(res, "Allow", req->match.allow);
	else if (err == COHORT_E_AUTH)
		response_header(res, "WWW-Authenticate", "Bearer realm=\"cohort\"");
	else if (err == COHORT_E_BADTOKEN)
		response_header(res, "WWW-Authenticate", "Bearer realm=\"cohort\", error=\"invalid_token\"");
	else if (err == COHORT_E_RATE && res->retry_after_s > 0) {
		char v[24];

		snprintf(v, sizeof(v), "%d", res->retry_after_s);
		response_header(res, "Retry-After", v);
	}
	if (res->status >= 500)
		log_warn("request_failed", LF_S("rid", req->id), LF_S("code", res->err_code),
			 LF_S("detail", res->detail[0] ? res->detail : NULL));
}

void dispatch_finish(const struct request *req, const struct response *res, size_t bytes)
{
	int64_t us = clock_mono_us() - req->start_mono_us;
	const struct route *route = req->match.route;

	metrics_end(route ? (long)req->match.index : -1, res->status, us);
	/* The query string is never logged (it may carry an access token), and
	 * neither is any header. */
	log_info("request", LF_S("rid", req->id), LF_S("method", req->method), LF_S("path", req->path),
		 LF_S("route", route ? route->name : NULL), LF_I("status", res->status),
		 LF_S("code", res->err_code), LF_I("duration_us", us), LF_I("bytes", bytes),
		 LF_S("remote", req->remote_addr));
}
