/*
 * DESIGN: libwebsockets runs on our libuv loop (LWS_SERVER_OPTION_LIBUV with
 * a foreign loop), next to hiredis's async client, our timers and signal
 * watchers. One lws protocol, the first in the list, serves plain HTTP
 * (routes below) and the WebSocket upgrade of /stream/ws.
 *
 * Connections carry `struct conn` as their lws user pointer (allocated by
 * us, per_session_data_size 0) so that plain HTTP requests (metrics, health)
 * cost nothing beyond lws's own structures.
 *
 * Shutdown: every connection first leaves its streams (so no Redis work can
 * start), then the Redis links close, then lws closes its sockets and our own
 * handles close; the loop ends when the last handle is gone.
 */
#include "stream/server.h"
#include "stream/acl.h"
#include "stream/authz.h"
#include "stream/conn.h"
#include "stream/edit.h"
#include "stream/evbuf.h"
#include "stream/feed.h"
#include "stream/hub.h"
#include "stream/metrics.h"
#include "stream/presence.h"
#include "stream/subscription.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/jwt.h"
#include "core/problem.h"
#include "core/session.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define SWEEP_MS 1000
#define SERVER_HANDLES 4 /* sweep, sigterm, sigint, flusher */
#define XREAD_BLOCK_MS 5000
#define ARG_MAX_LEN 8192

/* ---- plain HTTP responses ---- */

static int respond(struct lws *wsi, unsigned status, const char *type, const char *body, size_t len)
{
	unsigned char hbuf[LWS_PRE + 512], *start = hbuf + LWS_PRE, *p = start, *end = hbuf + sizeof(hbuf) - 1;
	unsigned char *bbuf = malloc(LWS_PRE + len + 1);
	int r = -1;

	if (!bbuf)
		return -1;
	if (lws_add_http_common_headers(wsi, status, type, len, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		goto out;
	memcpy(bbuf + LWS_PRE, body, len);
	if (lws_write(wsi, bbuf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL) != (int)len)
		goto out;
	r = lws_http_transaction_completed(wsi) ? -1 : 0;
out:
	free(bbuf);
	return r;
}

static int respond_problem(struct lws *wsi, int err, const char *detail)
{
	struct strbuf sb = STRBUF_INIT;
	int status = problem_build(&sb, err, detail, NULL), r;

	r = sb.buf ? respond(wsi, (unsigned)status, PROBLEM_CONTENT_TYPE, sb.buf, sb.len) : -1;
	strbuf_release(&sb);
	return r;
}

/* Copies a query argument's value (lws decodes %xx); NULL when absent. */
static const char *urlarg(struct lws *wsi, const char *name, char *buf, int len)
{
	return lws_get_urlarg_by_name(wsi, name, buf, len);
}

/* Last-Event-ID header (lws keeps unknown headers by their lower-case name),
 * else the lastEventId query parameter. */
static const char *resume_arg(struct lws *wsi, char *buf, int len)
{
	int n = lws_hdr_custom_copy(wsi, buf, len, "last-event-id:", 14);

	if (n > 0)
		return buf;
	return urlarg(wsi, "lastEventId=", buf, len);
}

/*
 * The request's token: an Authorization header (Bearer), else an
 * access_token query parameter (EventSource cannot set headers), else the
 * session cookie. The explicit kinds win over the ambient cookie. 0 with
 * *tok NULL when there is none; COHORT_E_BADTOKEN when a header or the
 * parameter is malformed or too long. buf holds the token (ARG_MAX_LEN).
 */
static int request_token(struct server *srv, struct lws *wsi, char *buf, const char **tok, size_t *len)
{
	const char *t;
	size_t n;
	int hl, err;

	*tok = NULL;
	*len = 0;
	hl = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (hl > 0) {
		if (hl >= ARG_MAX_LEN || lws_hdr_copy(wsi, buf, ARG_MAX_LEN, WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
			return COHORT_E_BADTOKEN;
		err = session_token_from_headers(buf, NULL, srv->cfg->auth_cookie_name, &t, &n);
		if (err)
			return COHORT_E_BADTOKEN;
		memmove(buf, t, n);
		buf[n] = '\0';
		*tok = buf;
		*len = n;
		return 0;
	}
	t = urlarg(wsi, "access_token=", buf, ARG_MAX_LEN);
	if (t) {
		/* lws copies "name=value" into buf and points past the name. */
		n = strlen(t);
		if (n == 0 || n > JWT_MAX_LEN)
			return COHORT_E_BADTOKEN;
		memmove(buf, t, n + 1);
		*tok = buf;
		*len = n;
		return 0;
	}
	hl = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_COOKIE);
	if (hl <= 0)
		return 0;
	if (hl >= ARG_MAX_LEN || lws_hdr_copy(wsi, buf, ARG_MAX_LEN, WSI_TOKEN_HTTP_COOKIE) < 0)
		return 0; /* an oversized Cookie header carries no usable session */
	err = session_token_from_headers(NULL, buf, srv->cfg->auth_cookie_name, &t, &n);
	if (err == COHORT_E_AUTH)
		return 0;
	if (err)
		return COHORT_E_BADTOKEN;
	memmove(buf, t, n);
	buf[n] = '\0';
	*tok = buf;
	*len = n;
	return 0;
}

static bool at_capacity(struct server *srv)
{
	if (srv->nconns < (size_t)srv->cfg->stream_max_conns && !srv->stopping)
		return false;
	stream_metrics.conns_rejected++;
	return true;
}

/* ---- routes ---- */

static int route_events(struct server *srv, struct lws *wsi)
{
	char *lists = malloc(3 * ARG_MAX_LEN), detail[SUB_DETAIL_MAX] = "";
	const char *streams, *resume, *tok;
	size_t toklen;
	struct sub_request req;
	struct conn *c;
	int err, r;

	if (!lists)
		return -1;
	if (at_capacity(srv)) {
		r = respond_problem(wsi, COHORT_E_UNAVAILABLE, "too many connections");
		goto out;
	}
	streams = urlarg(wsi, "streams=", lists, ARG_MAX_LEN);
	err = subscription_parse_list(streams, streams ? strlen(streams) : 0, &srv->policy,
				      (size_t)srv->cfg->stream_max_streams, &req, detail, sizeof(detail));
	if (err) {
		r = respond_problem(wsi, err, detail);
		goto out;
	}
	err = request_token(srv, wsi, lists + 2 * ARG_MAX_LEN, &tok, &toklen);
	if (err) {
		subscription_release(&req);
		r = respond_problem(wsi, err, "the token is malformed (Authorization: Bearer <token>, or access_token)");
		goto out;
	}
	resume = resume_arg(wsi, lists + ARG_MAX_LEN, ARG_MAX_LEN);
	c = conn_new(srv, wsi, TRANSPORT_SSE);
	if (!c || (tok && conn_set_token(c, tok, toklen))) {
		conn_free(c);
		subscription_release(&req);
		r = -1;
		goto out;
	}
	lws_set_wsi_user(wsi, c);
	/* Issue 6: watch=, presence= and client= (presence adds its lesson to req). */
	err = acl_sse_params(c, wsi, &req, resume, detail, sizeof(detail));
	if (err) {
		lws_set_wsi_user(wsi, NULL);
		conn_free(c);
		subscription_release(&req);
		r = respond_problem(wsi, err, detail);
		goto out;
	}
	/* Parked until authorized: headers, the start position and events then
	 * go out from the writable callback (or the refusal does). */
	err = conn_subscribe(c, &req, resume, resume ? strlen(resume) : 0);
	if (err) {
		lws_set_wsi_user(wsi, NULL);
		conn_free(c);
		r = respond_problem(wsi, err,
				    err == COHORT_E_BADID ? "Last-Event-ID is not a valid position"
				    : err == COHORT_E_UNAVAILABLE ? "too many authorizations pending"
								   : NULL);
		goto out;
	}
	r = 0;
out:
	free(lists);
	return r;
}

static int route_ws_plain(struct server *srv, struct lws *wsi)
{
	(void)srv;
	return respond_problem(wsi, COHORT_E_INVAL, "this endpoint needs a WebSocket upgrade");
}

static int route_metrics(struct server *srv, struct lws *wsi)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	stream_metrics.streams_followed = hub_count(srv->hub);
	stream_metrics.auth_pending = srv->authz ? authz_pending(srv->authz) : 0;
	stream_metrics.edits_pending = srv->edit ? edit_pending(srv->edit) : 0;
	metrics_render(&sb);
	r = sb.buf ? respond(wsi, 200, "text/plain; version=0.0.4", sb.buf, sb.len) : -1;
	strbuf_release(&sb);
	return r;
}

static int route_health(struct server *srv, struct lws *wsi)
{
	struct strbuf sb = STRBUF_INIT;
	bool up = feed_reader_ready(srv->feed) && !srv->stopping;
	int r;

	strbuf_addf(&sb, "{\"status\":\"%s\",\"redis\":\"%s\",\"connections\":%zu}", up ? "ok" : "unavailable",
		    up ? "up" : "down", srv->nconns);
	r = sb.buf ? respond(wsi, up ? 200 : 503, "application/json", sb.buf, sb.len) : -1;
	strbuf_release(&sb);
	return r;
}

/* The HTTP route table: exact paths, GET only. */
static const struct route {
	const char *path;
	int (*handler)(struct server *srv, struct lws *wsi);
} routes[] = {
	{ "/stream/events", route_events },
	{ "/stream/ws", route_ws_plain },
	{ "/stream/metrics", route_metrics },
	{ "/stream/health", route_health },
};

static int route_http(struct server *srv, struct lws *wsi, const char *path)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(routes[i].path, path))
			continue;
		if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
			return respond_problem(wsi, COHORT_E_METHOD, "only GET is supported");
		return routes[i].handler(srv, wsi);
	}
	return respond_problem(wsi, COHORT_E_NOROUTE, NULL);
}

/* ---- WebSocket ---- */

static int ws_filter(struct server *srv, struct lws *wsi)
{
	char path[64];

	if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0 || strcmp(path, "/stream/ws"))
		return 1;
	if (at_capacity(srv))
		return 1;
	return 0;
}

/* The upgrade's token, then an optional first subscription from its query
 * string. -1 closes the connection. */
static int ws_initial_subscribe(struct server *srv, struct conn *c)
{
	char *args = malloc(3 * ARG_MAX_LEN), detail[SUB_DETAIL_MAX] = "";
	const char *streams, *resume, *tok;
	size_t toklen;
	struct sub_request req;
	int err;

	if (!args)
		return -1;
	err = request_token(srv, c->wsi, args + 2 * ARG_MAX_LEN, &tok, &toklen);
	/* A malformed token is kept as an empty one: every check then says invalid_token. */
	if (err ? conn_set_token(c, "", 0) : tok ? conn_set_token(c, tok, toklen) : 0) {
		free(args);
		return -1;
	}
	streams = urlarg(c->wsi, "streams=", args, ARG_MAX_LEN);
	if (streams) {
		resume = urlarg(c->wsi, "lastEventId=", args + ARG_MAX_LEN, ARG_MAX_LEN);
		err = subscription_parse_list(streams, strlen(streams), &srv->policy,
					      (size_t)srv->cfg->stream_max_streams, &req, detail, sizeof(detail));
		if (!err)
			err = conn_subscribe(c, &req, resume, resume ? strlen(resume) : 0);
		if (err) {
			/* The socket stays open: the client may still subscribe with a message. */
			if (err == COHORT_E_BADID)
				snprintf(detail, sizeof(detail), "lastEventId is not a valid position");
			else if (err == COHORT_E_UNAVAILABLE)
				snprintf(detail, sizeof(detail), "too many authorizations pending");
			conn_ws_error(c, err, detail);
		}
	}
	free(args);
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct lws_context *ctx = lws_get_context(wsi);
	struct server *srv = ctx ? lws_context_user(ctx) : NULL;
	struct conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return route_http(srv, wsi, in ? (const char *)in : "");
	case LWS_CALLBACK_HTTP_WRITEABLE:
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return c ? conn_writable(c) : 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return ws_filter(srv, wsi);
	case LWS_CALLBACK_ESTABLISHED:
		c = conn_new(srv, wsi, TRANSPORT_WS);
		if (!c)
			return -1;
		lws_set_wsi_user(wsi, c);
		conn_open(c);
		return ws_initial_subscribe(srv, c);
	case LWS_CALLBACK_RECEIVE:
		if (!c)
			return -1;
		return conn_ws_receive(c, in, len, lws_is_first_fragment(wsi), lws_is_final_fragment(wsi),
				       lws_frame_is_binary(wsi));
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_CLOSED:
	case LWS_CALLBACK_WSI_DESTROY:
		if (c) {
			lws_set_wsi_user(wsi, NULL);
			conn_free(c);
		}
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{ "cohort", callback, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 } /* terminator */
};

/* ---- lws's own log lines, as ours ---- */

static void lws_log_bridge(int level, const char *line)
{
	char msg[512];
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (n >= sizeof(msg))
		n = sizeof(msg) - 1;
	memcpy(msg, line, n);
	msg[n] = '\0';
	if (level & LLL_ERR)
		log_error("lws", LF_S("msg", msg));
	else if (level & LLL_WARN)
		log_warn("lws", LF_S("msg", msg));
	else
		log_debug("lws", LF_S("msg", msg));
}

/* ---- timers and signals ---- */

static void sweep_cb(uv_timer_t *t)
{
	struct server *srv = t->data;

	conn_sweep(srv, (uint32_t)(clock_mono_us() / 1000000));
}

static void flusher_cb(uv_idle_t *t)
{
	struct server *srv = t->data;

	conn_flush_dirty(srv);
	if (!srv->dirty)
		uv_idle_stop(&srv->flusher);
}

void server_mark_dirty(struct server *srv)
{
	if (srv->open_handles == SERVER_HANDLES && !uv_is_active((uv_handle_t *)&srv->flusher))
		uv_idle_start(&srv->flusher, flusher_cb);
}

static void signal_cb(uv_signal_t *h, int signum)
{
	struct server *srv = h->data;

	log_info("signal", LF_I("signum", signum));
	server_stop(srv);
}

static void on_closed(uv_handle_t *h)
{
	struct server *srv = h->data;

	srv->open_handles--;
}

/* lws looks fds up in a table indexed by fd, sized by fd_limit_per_thread;
 * below the process limit it falls back to a linear search. So the limit is
 * raised to the hard limit and lws is told exactly that. */
static unsigned raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur > 1000000 ? 1000000 : (unsigned)rl.rlim_cur;
}

int server_start(struct server *srv, uv_loop_t *loop, const struct cohort_config *cfg)
{
	struct lws_context_creation_info info;
	struct hub_limits lim;
	struct feed_hooks hooks;
	void *loops[1] = { loop };
	unsigned nofile = raise_nofile();
	struct in_addr v4;
	int err;

	memset(srv, 0, sizeof(*srv));
	srv->cfg = cfg;
	srv->loop = loop;
	srv->policy.dev_enabled = cfg->dev_events;
	srv->policy.rooms_enabled = cfg->rooms_enabled;
	strbuf_init(&srv->wbuf, (size_t)EVBUF_MAX * 2 + 65536);

	lim.catchup_batch = (unsigned)cfg->stream_catchup_batch;
	lim.queue_max = (size_t)cfg->stream_queue_max;
	err = hub_new(&srv->hub, &lim, loop);
	if (err)
		return err;
	memset(&hooks, 0, sizeof(hooks));
	hooks.arg = srv->hub;
	hooks.sources = hub_sources;
	hooks.entries = hub_entries;
	hooks.batch_done = hub_batch_done;
	{
		char errbuf[256] = "";

		/* Issue 6: the control stream rides in the same XREAD (acl.c). */
		err = acl_new(&srv->acl, srv, errbuf, sizeof(errbuf));
		err = err ? err : presence_new(&srv->presence, srv);
		if (err)
			return err;
		acl_wrap_hooks(srv->acl, &hooks);
	}
	err = feed_new(&srv->feed, loop, cfg, &hooks, XREAD_BLOCK_MS);
	if (err)
		return err;
	hub_set_feed(srv->hub, srv->feed);
	acl_start(srv->acl, srv->feed);
	presence_set_feed(srv->presence, srv->feed);
	{
		char errbuf[256] = "";

		err = authz_new(&srv->authz, loop, cfg, errbuf, sizeof(errbuf));
		if (err) {
			log_error("auth_setup_failed", LF_S("error", errbuf[0] ? errbuf : cohort_strerror(err)));
			return err;
		}
		authz_set_feed(srv->authz, srv->feed);
		err = edit_new(&srv->edit, loop, cfg, errbuf, sizeof(errbuf));
		if (err) {
			log_error("edit_setup_failed", LF_S("error", errbuf[0] ? errbuf : cohort_strerror(err)));
			return err;
		}
	}

	lws_set_log_level(LLL_ERR | LLL_WARN | (log_level_enabled(LOG_DEBUG) ? LLL_NOTICE : 0), lws_log_bridge);
	memset(&info, 0, sizeof(info));
	info.port = cfg->stream_port;
	info.iface = cfg->stream_host && *cfg->stream_host ? cfg->stream_host : NULL;
	info.protocols = protocols;
	/* The vhost is created explicitly so that a listen failure is an error
	 * (lws_create_context succeeds without its default vhost). An IPv4
	 * literal host needs an IPv4 socket: lws 4.1 binds an IPv6 socket to
	 * every address when given one. */
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8 |
		       LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	if (info.iface && inet_pton(AF_INET, info.iface, &v4) == 1)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.foreign_loops = loops;
	info.user = srv;
	info.pcontext = &srv->lws;
	info.fd_limit_per_thread = nofile;
	/* The per-thread service buffer; also the largest read from a socket. */
	info.pt_serv_buf_size = 16 * 1024;
	/* Header storage is only held while a request is parsed; SSE detaches it. */
	info.max_http_header_data = ARG_MAX_LEN * 2 + 4096;
	info.max_http_header_pool = 256;
	info.keepalive_timeout = 60;
	info.timeout_secs = 20;
	info.server_string = "cohort-stream";
	srv->lws = lws_create_context(&info);
	if (!srv->lws || !lws_create_vhost(srv->lws, &info)) {
		log_error("listen_failed", LF_S("host", cfg->stream_host), LF_I("port", cfg->stream_port));
		return COHORT_E_IO;
	}

	uv_timer_init(loop, &srv->sweep);
	srv->sweep.data = srv;
	uv_timer_start(&srv->sweep, sweep_cb, SWEEP_MS, SWEEP_MS);
	uv_signal_init(loop, &srv->sigterm);
	srv->sigterm.data = srv;
	uv_signal_start(&srv->sigterm, signal_cb, SIGTERM);
	uv_signal_init(loop, &srv->sigint);
	srv->sigint.data = srv;
	uv_signal_start(&srv->sigint, signal_cb, SIGINT);
	uv_idle_init(loop, &srv->flusher);
	srv->flusher.data = srv;
	srv->open_handles = SERVER_HANDLES;
	log_info("listening", LF_S("host", cfg->stream_host), LF_I("port", cfg->stream_port),
		 LF_I("max_conns", cfg->stream_max_conns), LF_I("nofile", nofile));
	return 0;
}

void server_stop(struct server *srv)
{
	if (srv->stopping)
		return;
	srv->stopping = true;
	log_info("stopping", LF_I("connections", srv->nconns));
	/* Every connection leaves its streams first, so no Redis work starts. */
	for (struct conn *c = srv->conns; c; c = c->next)
		conn_shutdown(c);
	acl_stop(srv->acl);
	presence_stop(srv->presence);
	hub_set_feed(srv->hub, NULL);
	hub_close(srv->hub);
	if (srv->authz)
		authz_set_feed(srv->authz, NULL);
	feed_free(srv->feed);
	srv->feed = NULL;
	/* lws closes the listener and every connection; with a foreign loop its
	 * handles finish closing on the loop (server_release completes it). */
	if (srv->lws)
		lws_context_destroy(srv->lws);
	if (srv->open_handles == SERVER_HANDLES) {
		uv_close((uv_handle_t *)&srv->sigterm, on_closed);
		uv_close((uv_handle_t *)&srv->sigint, on_closed);
		uv_close((uv_handle_t *)&srv->sweep, on_closed);
		uv_close((uv_handle_t *)&srv->flusher, on_closed);
	}
}

void server_release(struct server *srv)
{
	if (srv->lws)
		lws_context_destroy(srv->lws); /* completes a foreign-loop destroy */
	srv->lws = NULL;
	/* lws closed every connection while it was destroyed; this is a safety net. */
	while (srv->conns)
		conn_free(srv->conns);
	feed_free(srv->feed);
	srv->feed = NULL;
	hub_free(srv->hub);
	srv->hub = NULL;
	authz_free(srv->authz); /* the loop has ended: no job is running */
	srv->authz = NULL;
	edit_free(srv->edit);
	srv->edit = NULL;
	acl_free(srv->acl); /* after the connections: they leave its index */
	srv->acl = NULL;
	presence_free(srv->presence);
	srv->presence = NULL;
	strbuf_release(&srv->wbuf);
	evbuf_cleanup();
}
