/*
 * server.h — the cohort-stream process: one libuv loop carrying
 * libwebsockets (HTTP/1.1, SSE, WebSocket) and the hiredis reader, the HTTP
 * route table, and graceful shutdown.
 */
#ifndef COHORT_STREAM_SERVER_H
#define COHORT_STREAM_SERVER_H

#include "core/scope.h"
#include "core/strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct acl;
struct authz;
struct presence;
struct edit;
struct cohort_config;
struct conn;
struct feed;
struct hub;
struct lws_context;

struct server {
	const struct cohort_config *cfg;
	struct scope_policy policy;
	uv_loop_t *loop;
	struct lws_context *lws;
	struct hub *hub;
	struct feed *feed;
	struct authz *authz; /* token and subscription checks, off the loop */
	struct edit *edit;   /* WebSocket push and cursor jobs, off the loop */
	struct acl *acl;     /* issue 6: live revocation and granting */
	struct presence *presence; /* issue 6: presence in lessons */
	struct conn *conns;  /* every streaming connection (SSE and WebSocket) */
	size_t nconns;
	struct conn *dirty;  /* connections with events queued since the last flush */
	uv_idle_t flusher;   /* runs conn_flush_dirty while dirty is not empty */
	struct strbuf wbuf;  /* the coalescing write buffer, LWS_PRE bytes of headroom */
	uv_timer_t sweep;    /* heartbeats and idle-memory trimming */
	uv_signal_t sigterm, sigint;
	int open_handles;
	bool stopping;
};

/* Sets everything up on loop and starts listening. */
int server_start(struct server *srv, uv_loop_t *loop, const struct cohort_config *cfg);
/* Graceful stop: stop accepting, close every connection and Redis, close
 * our handles; the loop then runs out. Safe to call twice. */
void server_stop(struct server *srv);
/* Frees what is left once the loop has ended. */
void server_release(struct server *srv);

/* A connection joined srv->dirty: make sure the flusher runs. */
void server_mark_dirty(struct server *srv);

#endif
