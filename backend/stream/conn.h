/*
 * conn.h — one client streaming connection (SSE or WebSocket): the streams it
 * follows, its bounded output queue, and the coalesced writer.
 *
 * Memory: an idle connection holds this struct (one follow inline) and
 * nothing else; the queue's ring is freed by the sweep once it is empty and
 * the WebSocket receive buffer only exists while a message is assembled.
 */
#ifndef COHORT_STREAM_CONN_H
#define COHORT_STREAM_CONN_H

#include "stream/follow.h"
#include "stream/metrics.h"
#include "stream/outq.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuf;
struct lws;
struct server;
struct sub_request;

struct conn_sub_req; /* a subscription waiting for its authorization */
struct conn_edits;   /* WebSocket editing: running jobs and unsent answers */
struct acl_conn;
struct presence_conn;
struct authz_who;
struct sub_target;

struct conn {
	struct lws *wsi;
	struct server *srv;
	struct conn *prev, *next; /* srv->conns */
	struct conn *dirty_next;  /* srv->dirty: events queued since the last flush */
	struct outq q;
	size_t held;              /* bytes of live events held by follows in catch-up */
	struct follow *subs;      /* n follows; &sub1 when n == 1 */
	struct conn_sub_req *sreq;
	char *token;              /* until the principal is known (WebSocket) or the check ends (SSE) */
	int64_t user_id;          /* the principal, once known (CONN_AUTHED); 0: anonymous */
	char *login;              /* its login (CONN_AUTHED), the actor of its edits */
	struct conn_edits *ed;    /* only once the client sent push or cursor */
	struct acl_conn *acl;     /* issue 6: watch list, user index (acl.c) */
	struct presence_conn *pres; /* issue 6: presence in a lesson (presence.c) */
	char *rx;                 /* WebSocket: message being assembled */
	char *ctl;                /* a control message or problem body to write next */
	uint32_t rxlen;
	uint32_t rxcap;
	uint32_t id;              /* for log lines */
	uint32_t last_io_s;       /* monotonic seconds of the last write */
	uint16_t n;
	uint16_t waiting;         /* follows whose start position is not known yet */
	uint16_t flags;
	uint16_t ctl_status;      /* SSE: HTTP status of a pending problem response */
	uint8_t transport;
	uint8_t close_reason;
	struct follow sub1;
};

/* Allocates a connection (not yet counted or logged). */
struct conn *conn_new(struct server *srv, struct lws *wsi, enum transport t);
/* Counts and logs the connection as open. */
void conn_open(struct conn *c);
/* Stops everything and frees; logs the close when conn_open ran. NULL is fine. */
void conn_free(struct conn *c);

/* The token the request carried (copied). An empty token stands for a
 * malformed one: its checks fail with COHORT_E_BADTOKEN. */
int conn_set_token(struct conn *c, const char *tok, size_t len);

/* Replaces the connection's subscription set with req (taken over) resumed
 * from `resume` (NULL: start now), once authz.c allowed it. Synchronous
 * errors: COHORT_E_BADID, COHORT_E_UNAVAILABLE (too many checks pending).
 * A refusal arrives later: an SSE request gets its problem response, a
 * WebSocket an error message. */
int conn_subscribe(struct conn *c, struct sub_request *req, const char *resume, size_t rlen);

/* WebSocket: sends {"type":"error",...} next. */
void conn_ws_error(struct conn *c, int err, const char *detail);

/* lws callbacks. Return -1 to close the connection. */
int conn_writable(struct conn *c);
int conn_ws_receive(struct conn *c, const void *in, size_t len, bool first, bool final, bool binary);

/* Writes what was queued since the last call, for every connection that got
 * events (the server's flusher runs it once per loop iteration). */
void conn_flush_dirty(struct server *srv);

/* Heartbeats and trimming, once per sweep tick. */
void conn_sweep(struct server *srv, uint32_t now_s);

/* For follow.c: */
void conn_enqueue(struct conn *c, struct evbuf *ev, uint16_t idx);
int conn_hold(struct conn *c, size_t bytes);
void conn_unhold(struct conn *c, size_t bytes);
size_t conn_queued_bytes(const struct conn *c);
void conn_position_known(struct conn *c);
void conn_fail(struct conn *c, const char *why);
bool conn_dead(const struct conn *c);

/* The principal, when known (false: not yet, or anonymous). */
bool conn_principal(const struct conn *c, struct authz_who *who);

/* Queue tag of server notices (revoked, granted): no follow's position. */
#define CONN_TAG_NOTE UINT16_MAX

/* Replaces the followed set without authorization (acl.c decided): keeps
 * subs[i] where keep[i] (resumed from the position written to the client),
 * adds add[0..nadd) (from add_start[i] where add_has[i], else at the
 * stream's current end), and queues notes before any event of the new set.
 * Events queued for the old set are dropped (kept streams get them again
 * from history). The client sees a new start position (SSE `id:` block,
 * WebSocket `subscribed`). A failure closes the connection. */
int conn_reshape(struct conn *c, const bool *keep, const struct sub_target *add, const struct stream_id *add_start,
		 const bool *add_has, size_t nadd, struct evbuf *const *notes, size_t nnotes);

/* Shutdown: leaves every stream (no Redis work from here on) and closes. */
void conn_shutdown(struct conn *c);

#endif
