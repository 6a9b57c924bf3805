/*
 * acl.h — live revocation and granting for running connections (issue 6;
 * docs/presence.md, docs/protocol.md section 10).
 *
 * The streamer reads the system-wide control stream (core/aclnote.h) in
 * its one XREAD, next to the event streams: acl wraps the hub's feed hooks.
 * Each entry names a user whose access changed. Every local connection of
 * that user (connections are indexed by user id once their principal is
 * known) then has its scopes re-checked off the loop with core
 * scope_authorize: a followed scope now refused is removed from the
 * connection (its queued events dropped) and the client gets a `revoked`
 * event; a scope on the connection's *watch list* that is now allowed
 * starts flowing (at the stream's current end) with a `granted` event.
 *
 * The same check runs when a connection's subscription is applied and when
 * a WebSocket sends `watch` or `presence`; it also looks up the user's
 * course nickname for presence (stream/presence.h).
 *
 * SQL runs on libuv's worker pool on acl's own SQLite handle; one check per
 * user is in flight at a time (a notice arriving meanwhile runs it again).
 */
#ifndef COHORT_STREAM_ACL_H
#define COHORT_STREAM_ACL_H

#include <stddef.h>
#include <stdint.h>

struct acl;
struct conn;
struct feed;
struct feed_hooks;
struct lws;
struct server;
struct sub_request;
struct wsmsg;

int acl_new(struct acl **out, struct server *srv, char *errbuf, size_t errlen);
/* Replaces *h (the hub's hooks) by acl's, which pass everything but the
 * control stream on to the hub. Before feed_new. */
void acl_wrap_hooks(struct acl *a, struct feed_hooks *h);
/* Learns the control stream's end on f's command connection, then reads it. */
void acl_start(struct acl *a, struct feed *f);
/* Shutdown: no Redis work from here on. */
void acl_stop(struct acl *a);
/* After the loop ended (no job running). NULL is fine. */
void acl_free(struct acl *a);

/* SSE request parameters of issue 6 — watch=<scopes>, presence=<lesson>,
 * client=<editor session> — for connection c: presence adds lesson:<id> to
 * req (so the request's own authorization covers it). detail gets a
 * client-facing sentence on errors (COHORT_E_BADSTREAM, COHORT_E_LIMIT,
 * COHORT_E_INVAL, COHORT_E_UNKNOWNSTREAM). resume is the request's
 * position (watched scopes named in it resume from there once allowed). */
int acl_sse_params(struct conn *c, struct lws *wsi, struct sub_request *req, const char *resume, char *detail,
		   size_t dlen);

/* conn.c hooks. */
void acl_conn_authed(struct conn *c);     /* the principal is known */
void acl_conn_subscribed(struct conn *c); /* a subscription set was applied */
void acl_conn_free(struct conn *c);

/* WebSocket messages. */
void acl_ws_watch(struct conn *c, struct wsmsg *m);
void acl_ws_presence(struct conn *c, struct wsmsg *m);

/* Starts (or re-runs) the check of every local connection of c's user. */
void acl_recheck(struct conn *c, const char *reason);

#endif
