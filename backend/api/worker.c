#include "api/worker.h"
#include "api/authcache.h"
#include "api/rcache.h"
#include "api/dispatch.h"
#include "api/request.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/db.h"
#include "core/err.h"
#include "core/log.h"
#include "core/rconn.h"
#include "core/strbuf.h"

#include <fcgiapp.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

int worker_init(struct worker *w, size_t index, const struct cohort_config *cfg)
{
	struct db *db;

	memset(w, 0, sizeof(*w));
	w->index = index;
	w->cfg = cfg;
	w->redis = rconn_new(cfg);
	w->auth = authcache_new();
	if (!w->redis || !w->auth)
		return COHORT_E_NOMEM;
	/* A database that is not there yet is not fatal: health reports it
	 * and the next request that needs it tries again. */
	(void)worker_db(w, &db);
	return 0;
}

void worker_release(struct worker *w)
{
	if (!w)
		return;
	rconn_free(w->redis);
	db_close(w->db);
	authcache_free(w->auth);
	w->auth = NULL;
	w->redis = NULL;
	w->db = NULL;
}

/* A ping per request was two of the six SQL statements of a file read.
 * SQLite is a file in this process: a handle that answered once keeps
 * answering unless a call on it failed, so a ping once in a while (and
 * after any error) is as good as one per request. */
#define WORKER_DB_PING_US (5 * 1000000LL)

static bool db_fresh(struct worker *w, int64_t now)
{
	struct db_stats st;

	db_get_stats(w->db, &st);
	return st.errors == w->db_errors && now - w->db_checked_us < WORKER_DB_PING_US;
}

static void db_checked(struct worker *w, int64_t now)
{
	struct db_stats st;

	db_get_stats(w->db, &st);
	w->db_errors = st.errors;
	w->db_checked_us = now;
}

int worker_db(struct worker *w, struct db **out)
{
	int64_t now = clock_mono_us();
	int err;

	*out = NULL;
	if (w->db && db_fresh(w, now)) {
		*out = w->db;
		return 0;
	}
	if (w->db && db_ping(w->db) == 0) {
		db_checked(w, now);
		*out = w->db;
		return 0;
	}
	db_close(w->db);
	w->db = NULL;
	err = db_open(w->cfg->db_path, &w->db);
	if (!err)
		err = db_ping(w->db);
	if (err) {
		log_warn("db_unavailable", LF_S("path", w->cfg->db_path), LF_S("error", db_last_error(w->db)));
		db_close(w->db);
		w->db = NULL;
		return COHORT_E_DB;
	}
	db_checked(w, now);
	*out = w->db;
	return 0;
}

void worker_db_close(struct worker *w)
{
	db_close(w->db);
	w->db = NULL;
}

/* request_reader over the FastCGI stdin stream. FCGX_GetStr returns fewer
 * bytes than asked only at the end of the stream. */
static long fcgx_read(void *ctx, char *buf, size_t len)
{
	FCGX_Stream *in = ctx;
	int n = FCGX_GetStr(buf, len > INT_MAX ? INT_MAX : (int)len, in);

	if (n < 0 || FCGX_GetError(in))
		return COHORT_E_IO;
	return n;
}

struct fcgx_out {
	FCGX_Stream *out;
	size_t sent;
};

static int fcgx_write(void *ctx, const void *data, size_t len)
{
	struct fcgx_out *o = ctx;

	while (len) {
		int n = len > INT_MAX ? INT_MAX : (int)len;

		if (FCGX_PutStr(data, n, o->out) != n)
			return COHORT_E_IO;
		o->sent += (size_t)n;
		data = (const char *)data + n;
		len -= (size_t)n;
	}
	return 0;
}

static size_t send_response(FCGX_Request *fcgx, const struct request *req, const struct response *res)
{
	struct strbuf head = STRBUF_INIT;
	size_t sent = 0;

	if (response_head(res, req->id, &head) == 0 &&
	    FCGX_PutStr(head.buf, (int)head.len, fcgx->out) == (int)head.len) {
		/* HEAD gets GET's headers, Content-Length included, without the body. */
		if (res->stream) {
			struct fcgx_out o = { fcgx->out, 0 };
			int err = strcmp(req->method, "HEAD") ? res->stream(res->stream_ctx, fcgx_write, &o) : 0;

			if (err)
				log_warn("response_stream_failed", LF_S("rid", req->id), LF_S("error", cohort_errcode(err)),
					 LF_I("bytes", (long long)o.sent));
			sent = o.sent;
			FCGX_FFlush(fcgx->out);
		} else if (strcmp(req->method, "HEAD") && res->body.len &&
			   FCGX_PutStr(res->body.buf, (int)res->body.len, fcgx->out) == (int)res->body.len) {
			sent = res->body.len;
		}
		/* A buffered response goes out with FCGX_Finish_r, in the same
		 * write as the end-of-request records when it fits libfcgi's
		 * buffer (8 KiB): one write here, one read in the web server.
		 * Unless a request body is left to drain: then the answer goes
		 * first, as it did before the drain could take a while. */
		if (req->content_length > 0 && !req->body_complete)
			FCGX_FFlush(fcgx->out);
	}
	if (FCGX_GetError(fcgx->out))
		log_debug("response_write_failed", LF_S("rid", req->id));
	strbuf_release(&head);
	return sent;
}

void worker_serve(struct worker *w, struct FCGX_Request *fcgx)
{
	struct request req;
	struct response res;
	size_t sent;

	rcache_request_start();
	request_init(&req, (const char *const *)fcgx->envp, w->cfg, w, fcgx_read, fcgx->in);
	response_init(&res);
	dispatch(&req, &res);
	sent = send_response(fcgx, &req, &res);
	/* Leave the connection clean for the next request on it: whatever the
	 * handler did not read of the body is read and dropped (bounded). */
	request_drain(&req, REQUEST_DRAIN_MAX);
	dispatch_finish(&req, &res, sent);
	response_release(&res);
	request_release(&req);
}
