/*
 * DESIGN: a connection never writes from the Redis path. Producers (the
 * hub's fan-out, catch-up pages) only append references to shared evbufs to
 * the connection's queue and put the connection on the server's dirty list;
 * once per loop iteration the flusher writes everything queued since the
 * last time, coalesced into one buffer and framed for the transport, with
 * one lws_write (directly for SSE while the socket takes it, through lws's
 * writable callback otherwise and for WebSocket). A connection whose queue
 * would exceed stream.queue_max is closed instead (the client resumes from
 * the last position it received), so a slow client costs bounded memory and
 * never slows the others. One event is always accepted into an empty queue,
 * so an event larger than the bound still flows.
 *
 * Nothing is written until every followed stream has a known position, so
 * the first position a client sees names all of its streams.
 */
#include "stream/conn.h"
#include "stream/acl.h"
#include "stream/authz.h"
#include "stream/edit.h"
#include "stream/evbuf.h"
#include "stream/hub.h"
#include "stream/presence.h"
#include "stream/server.h"
#include "stream/subscription.h"
#include "stream/wsmsg.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/problem.h"
#include "core/strbuf.h"

#include <errno.h>
#include <libwebsockets.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

/* Stop adding events to one write beyond this many bytes. */
#define WRITE_CHUNK (64 * 1024)

enum conn_flag {
	CONN_OPEN = 1 << 0,       /* counted and logged as open */
	CONN_DEAD = 1 << 1,       /* closing: nothing more is queued or written */
	CONN_STARTED = 1 << 2,    /* SSE response headers written */
	CONN_ANNOUNCED = 1 << 3,  /* the start position was sent */
	CONN_SUBSCRIBED = 1 << 4, /* follows a set of streams */
	CONN_HB_DUE = 1 << 5,     /* idle: send a heartbeat */
	CONN_PONG_DUE = 1 << 6,   /* WebSocket: answer a ping message */
	CONN_REFUSED = 1 << 7,    /* SSE: a problem response is waiting in ctl */
	CONN_RESUMED = 1 << 8,    /* the current subscription resumed from a position */
	CONN_RX_ON = 1 << 9,      /* SSE: lws polls the socket for input (see sse_rx) */
	CONN_CLOSE_LOGGED = 1 << 10,
	CONN_WANT_WRITE = 1 << 11, /* a writable callback is requested and not yet run */
	CONN_DIRTY = 1 << 12,      /* on srv->dirty */
	CONN_AUTHED = 1 << 13,     /* the principal is known (user_id, CONN_ADMIN) */
	CONN_ADMIN = 1 << 14,
};

enum close_reason { CLOSE_PEER, CLOSE_OVERFLOW, CLOSE_FAILED, CLOSE_SHUTDOWN };
static const char *const close_reasons[] = { "peer", "overflow", "failed", "shutdown" };
static const char *const transport_names[TRANSPORT__N] = { "sse", "ws" };

/* Answers to push and cursor messages not written yet, oldest first. A
 * client that stops reading them while sending more is closed at
 * CONN_REPLIES_MAX rather than buffered without bound. */
#define CONN_REPLIES_MAX 64

struct conn_edits {
	struct edit_job *jobs[EDIT_CONN_MAX];
	char *replies[CONN_REPLIES_MAX];
	uint8_t njobs;
	uint8_t rhead, rcount;
};

struct conn_sub_req {
	struct sub_request req;
	struct authz_req *az;     /* the pending authorization */
	struct stream_id *start;
	bool *has;
	bool resume;
};

static uint32_t next_conn_id;

static uint32_t now_s(void)
{
	return (uint32_t)(clock_mono_us() / 1000000);
}

static struct strbuf *wbuf(struct conn *c)
{
	return &c->srv->wbuf;
}

struct conn *conn_new(struct server *srv, struct lws *wsi, enum transport t)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->wsi = wsi;
	c->srv = srv;
	c->transport = (uint8_t)t;
	c->last_io_s = now_s();
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	return c;
}

static void log_streams(struct conn *c, struct strbuf *sb)
{
	for (uint16_t i = 0; i < c->n; i++) {
		if (i)
			strbuf_addch(sb, ',');
		strbuf_adds(sb, c->subs[i].scope ? c->subs[i].scope : "?");
	}
}

void conn_open(struct conn *c)
{
	struct strbuf sb = STRBUF_INIT;
	char peer[64] = "";

	if (c->flags & CONN_OPEN)
		return;
	c->flags |= CONN_OPEN;
	c->id = next_conn_id++;
	stream_metrics.conns_current[c->transport]++;
	stream_metrics.conns_total[c->transport]++;
	if (!log_level_enabled(LOG_INFO))
		return;
	lws_get_peer_simple(c->wsi, peer, sizeof(peer));
	log_streams(c, &sb);
	log_info("conn_open", LF_I("conn", c->id), LF_S("transport", transport_names[c->transport]),
		 LF_S("peer", peer), LF_S("streams", sb.buf ? sb.buf : ""),
		 LF_I("resume", (c->flags & CONN_RESUMED) != 0));
	strbuf_release(&sb);
}

static void stop_follows(struct conn *c)
{
	for (uint16_t i = 0; i < c->n; i++)
		follow_stop(&c->subs[i]);
	if (c->subs != &c->sub1)
		free(c->subs);
	c->subs = NULL;
	c->n = 0;
	c->waiting = 0;
	c->held = 0;
}

static void sub_req_free(struct conn_sub_req *sr)
{
	if (!sr)
		return;
	authz_cancel(sr->az);
	subscription_release(&sr->req);
	free(sr->start);
	free(sr->has);
	free(sr);
}

static void drop_token(struct conn *c)
{
	if (c->token) {
		memset(c->token, 0, strlen(c->token));
		free(c->token);
		c->token = NULL;
	}
}

int conn_set_token(struct conn *c, const char *tok, size_t len)
{
	drop_token(c);
	c->token = malloc(len + 1);
	if (!c->token)
		return COHORT_E_NOMEM;
	memcpy(c->token, tok, len);
	c->token[len] = '\0';
	return 0;
}

/* Cancels the running jobs (they finish on the workers, unseen) and drops
 * the unsent answers. */
static void edits_free(struct conn *c)
{
	struct conn_edits *ed = c->ed;

	if (!ed)
		return;
	for (unsigned i = 0; i < ed->njobs; i++)
		edit_cancel(ed->jobs[i]);
	while (ed->rcount) {
		free(ed->replies[ed->rhead]);
		ed->rhead = (uint8_t)((ed->rhead + 1) % CONN_REPLIES_MAX);
		ed->rcount--;
	}
	free(ed);
	c->ed = NULL;
}

static void log_close(struct conn *c)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned reason = (c->flags & CONN_DEAD) ? c->close_reason : CLOSE_PEER;

	if (!(c->flags & CONN_OPEN) || (c->flags & CONN_CLOSE_LOGGED))
		return;
	c->flags |= CONN_CLOSE_LOGGED;
	stream_metrics.conns_current[c->transport]--;
	if (!log_level_enabled(LOG_INFO))
		return;
	log_streams(c, &sb);
	log_info("conn_close", LF_I("conn", c->id), LF_S("transport", transport_names[c->transport]),
		 LF_S("streams", sb.buf ? sb.buf : ""), LF_S("reason", close_reasons[reason]),
		 LF_I("queued", c->q.count));
	strbuf_release(&sb);
}

void conn_free(struct conn *c)
{
	struct server *srv;

	if (!c)
		return;
	srv = c->srv;
	log_close(c);
	if (c->flags & CONN_DIRTY) {
		struct conn **p = &srv->dirty;

		while (*p != c)
			p = &(*p)->dirty_next;
		*p = c->dirty_next;
	}
	presence_conn_free(c);
	acl_conn_free(c);
	stop_follows(c);
	outq_release(&c->q);
	sub_req_free(c->sreq);
	edits_free(c);
	drop_token(c);
	free(c->login);
	free(c->rx);
	free(c->ctl);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nconns--;
	free(c);
}

bool conn_dead(const struct conn *c)
{
	return (c->flags & CONN_DEAD) != 0;
}

/*
 * SSE and lws 4.1: once the response has started, an HTTP/1 connection is
 * in lws's "doing transaction" state, in which lws neither reads nor
 * disables POLLIN. A client that closes its end would make the level-
 * triggered poll report readable forever (a busy loop), and many clients
 * closing at once would slow the whole loop down until each is noticed. So
 * input polling is off (rx flow control) for an SSE connection except while
 * it waits for a writable callback: lws services POLLOUT, and flushes bytes it
 * buffered, only for a connection that is not flow-controlled. Events are
 * normally written directly (flush_one), which needs no polling at all. A
 * closed peer is noticed by the sweep's probe or by the next write.
 *
 * Polling is turned off from the flusher (the idle phase), never from a
 * writable callback: libuv 1.44 restarts a poll handle with a stop, and a
 * stop while libuv dispatches I/O events scans all of that iteration's
 * events — with many connections per event that scan dominated the profile.
 */
static void sse_rx(struct conn *c, bool on)
{
	if (c->transport != TRANSPORT_SSE || !(c->flags & CONN_STARTED) || (c->flags & CONN_DEAD))
		return;
	if (on == ((c->flags & CONN_RX_ON) != 0))
		return;
	lws_rx_flow_control(c->wsi, on ? 1 | LWS_RXFLOW_REASON_FLAG_PROCESS_NOW : 0);
	if (on)
		c->flags |= CONN_RX_ON;
	else
		c->flags &= (uint16_t)~CONN_RX_ON;
}

/* Asks lws for a writable callback, once until it runs: every request
 * restarts the socket's libuv poll handle (see sse_rx), so repeating it for
 * each event queued would cost a syscall pair per event per connection. */
static void kick(struct conn *c)
{
	if (c->flags & CONN_DEAD)
		return;
	sse_rx(c, true);
	if (c->flags & CONN_WANT_WRITE)
		return;
	c->flags |= CONN_WANT_WRITE;
	lws_callback_on_writable(c->wsi);
}

/* Puts c on the server's dirty list: the flusher writes its queue (or turns
 * its input polling off) in the next idle phase. */
static void mark_dirty(struct conn *c)
{
	if (c->flags & CONN_DIRTY)
		return;
	c->flags |= CONN_DIRTY;
	c->dirty_next = c->srv->dirty;
	c->srv->dirty = c;
	server_mark_dirty(c->srv);
}

static void close_with(struct conn *c, enum close_reason reason)
{
	if (c->flags & CONN_DEAD)
		return;
	sse_rx(c, true); /* lws's closing handshake reads the socket */
	c->flags |= CONN_DEAD;
	c->close_reason = (uint8_t)reason;
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void conn_shutdown(struct conn *c)
{
	/* The close is abrupt for WebSocket clients too (code 1006 on their
	 * side): lws 4.1 sends no close frame for a connection closed from
	 * outside a receive callback. Clients reconnect and resume either way.
	 * A connection already closing (the sweep saw its peer go, an
	 * overflow) still leaves its streams and its pending authorization
	 * here: lws frees it only after the hub and the feed are gone. */
	if (!(c->flags & CONN_DEAD))
		close_with(c, CLOSE_SHUTDOWN);
	log_close(c);
	sub_req_free(c->sreq); /* no authorization completes from here on */
	c->sreq = NULL;
	edits_free(c); /* nor any edit answer */
	presence_conn_free(c); /* its leave goes out if the feed still runs */
	acl_conn_free(c);
	stop_follows(c);
	outq_clear(&c->q);
}

void conn_fail(struct conn *c, const char *why)
{
	if (c->flags & CONN_DEAD)
		return;
	log_warn("conn_failed", LF_I("conn", c->id), LF_S("transport", transport_names[c->transport]),
		 LF_S("error", why));
	close_with(c, CLOSE_FAILED);
}

static void overflow(struct conn *c)
{
	stream_metrics.queue_drops++;
	log_warn("conn_overflow", LF_I("conn", c->id), LF_S("transport", transport_names[c->transport]),
		 LF_I("queued_bytes", conn_queued_bytes(c)), LF_I("queue_max", c->srv->cfg->stream_queue_max));
	outq_clear(&c->q);
	close_with(c, CLOSE_OVERFLOW);
}

size_t conn_queued_bytes(const struct conn *c)
{
	return c->q.bytes + c->held;
}

static bool over_limit(const struct conn *c, size_t cost)
{
	size_t have = conn_queued_bytes(c);

	return have > 0 && have + cost > (size_t)c->srv->cfg->stream_queue_max;
}

void conn_enqueue(struct conn *c, struct evbuf *ev, uint16_t idx)
{
	if (c->flags & CONN_DEAD)
		return;
	/* A slow consumer gets only the newest cursor of a user in a file. */
	if (ev->ckey_len && outq_drop_older(&c->q, ev, idx))
		stream_metrics.cursors_coalesced++;
	if (over_limit(c, outq_cost(ev))) {
		overflow(c);
		return;
	}
	if (outq_push(&c->q, ev, idx)) {
		conn_fail(c, "out of memory");
		return;
	}
	if (!c->waiting)
		mark_dirty(c);
}

int conn_hold(struct conn *c, size_t bytes)
{
	if (c->flags & CONN_DEAD)
		return COHORT_E_UNAVAILABLE;
	if (over_limit(c, bytes)) {
		overflow(c);
		return COHORT_E_LIMIT;
	}
	c->held += bytes;
	return 0;
}

void conn_unhold(struct conn *c, size_t bytes)
{
	c->held = bytes > c->held ? 0 : c->held - bytes;
}

void conn_position_known(struct conn *c)
{
	if (c->waiting && --c->waiting == 0)
		kick(c);
}

/* ---- subscribing ---- */

static void set_ws_error(struct conn *c, int err, const char *detail)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_adds(&sb, "{\"type\":\"error\",\"code\":");
	strbuf_add_json_str(&sb, cohort_errcode(err), strlen(cohort_errcode(err)));
	if (detail && *detail) {
		strbuf_adds(&sb, ",\"detail\":");
		strbuf_add_json_str(&sb, detail, strlen(detail));
	}
	strbuf_addch(&sb, '}');
	free(c->ctl);
	c->ctl = strbuf_detach(&sb, NULL);
	kick(c);
}

void conn_ws_error(struct conn *c, int err, const char *detail)
{
	stream_metrics.ws_bad_messages++;
	set_ws_error(c, err, detail);
}

static void apply(struct conn *c, struct conn_sub_req *sr)
{
	struct hub *hub = c->srv->hub;
	size_t n = sr->req.n;

	stop_follows(c);
	outq_clear(&c->q); /* events of the old set are not wanted any more */
	c->subs = n == 1 ? &c->sub1 : calloc(n, sizeof(*c->subs));
	if (!c->subs) {
		conn_fail(c, "out of memory");
		return;
	}
	memset(c->subs, 0, n * sizeof(*c->subs));
	c->flags &= (uint16_t)~(CONN_ANNOUNCED | CONN_RESUMED);
	c->flags |= CONN_SUBSCRIBED;
	if (sr->resume) {
		c->flags |= CONN_RESUMED;
		stream_metrics.resume_requests++;
	}
	for (size_t i = 0; i < n; i++) {
		struct follow *f = &c->subs[i];

		f->conn = c;
		f->idx = (uint16_t)i;
		c->n = (uint16_t)(i + 1);
		if (follow_start(f, hub, &sr->req.targets[i], sr->has[i] ? &sr->start[i] : NULL)) {
			conn_fail(c, "out of memory");
			return;
		}
		if (f->state == FOLLOW_WAIT)
			c->waiting++;
	}
	if (c->flags & CONN_OPEN) {
		struct strbuf sb = STRBUF_INIT;

		log_streams(c, &sb);
		log_info("conn_subscribe", LF_I("conn", c->id), LF_S("streams", sb.buf ? sb.buf : ""),
			 LF_I("resume", sr->resume));
		strbuf_release(&sb);
	}
	conn_open(c);
	kick(c);
	acl_conn_subscribed(c); /* watched scopes and presence (issue 6) */
}

static void set_principal(struct conn *c, const struct authz_who *who)
{
	if (c->flags & CONN_AUTHED)
		return;
	c->user_id = who->user_id;
	c->login = strdup(who->login);
	c->flags |= CONN_AUTHED;
	if (who->is_admin)
		c->flags |= CONN_ADMIN;
	acl_conn_authed(c);
}

static void on_authorized(void *arg, int err, const char *detail, const struct authz_who *who)
{
	struct conn *c = arg;
	struct conn_sub_req *sr = c->sreq;

	c->sreq = NULL;
	sr->az = NULL; /* finishing: nothing to cancel */
	if (who)
		set_principal(c, who);
	/* SSE checks its token once; a WebSocket keeps it until it proved good. */
	if (c->transport == TRANSPORT_SSE || (c->flags & CONN_AUTHED))
		drop_token(c);
	if (err)
		stream_metrics.auth_refused++;
	if (err)
		log_info("subscribe_refused", LF_I("conn", c->id), LF_S("transport", transport_names[c->transport]),
			 LF_I("user", c->user_id), LF_S("code", cohort_errcode(err)), LF_S("detail", detail ? detail : ""));
	if (!err) {
		apply(c, sr);
	} else if (c->transport == TRANSPORT_WS) {
		set_ws_error(c, err, detail);
	} else {
		struct strbuf sb = STRBUF_INIT;

		c->ctl_status = (uint16_t)cohort_http_status(err);
		problem_build(&sb, err, detail, NULL);
		free(c->ctl);
		c->ctl = strbuf_detach(&sb, NULL);
		c->flags |= CONN_REFUSED;
		kick(c);
	}
	sub_req_free(sr);
}

static void known_who(const struct conn *c, struct authz_who *who)
{
	memset(who, 0, sizeof(*who));
	who->user_id = c->user_id;
	who->is_admin = (c->flags & CONN_ADMIN) != 0;
	if (c->login)
		snprintf(who->login, sizeof(who->login), "%s", c->login);
}

int conn_subscribe(struct conn *c, struct sub_request *req, const char *resume, size_t rlen)
{
	struct conn_sub_req *sr = calloc(1, sizeof(*sr));
	int err = 0;

	if (!sr) {
		subscription_release(req);
		return COHORT_E_NOMEM;
	}
	sr->req = *req;
	req->targets = NULL;
	req->n = 0;
	sr->start = calloc(sr->req.n, sizeof(*sr->start));
	sr->has = calloc(sr->req.n, sizeof(*sr->has));
	if (!sr->start || !sr->has) {
		err = COHORT_E_NOMEM;
		goto fail;
	}
	if (resume && rlen) {
		err = follow_resume_parse(resume, rlen, &sr->req, sr->start, sr->has);
		if (err)
			goto fail;
		sr->resume = true;
	}
	sub_req_free(c->sreq); /* a newer subscribe wins over one still being authorized */
	c->sreq = sr;
	if (c->flags & CONN_AUTHED) {
		struct authz_who who;

		known_who(c, &who);
		err = authz_start(c->srv->authz, NULL, 0, &who, &sr->req, on_authorized, c, &sr->az);
	} else {
		err = authz_start(c->srv->authz, c->token, c->token ? strlen(c->token) : 0, NULL, &sr->req,
				  on_authorized, c, &sr->az);
	}
	if (err) {
		c->sreq = NULL;
		goto fail;
	}
	/* sr may be gone already: a check that needed no lookup is done. */
	return 0;
fail:
	sub_req_free(sr);
	return err;
}

bool conn_principal(const struct conn *c, struct authz_who *who)
{
	if (!(c->flags & CONN_AUTHED))
		return false;
	known_who(c, who);
	return true;
}

/* Issue 6: the set changes without a new authorization (acl.c decided).
 * Rebuilding is simpler than editing the set in place (the hub links each
 * follow by address and the queue tags them by index), and exact: kept
 * streams resume from what was written, so the events dropped from the
 * queue come again from history. */
int conn_reshape(struct conn *c, const bool *keep, const struct sub_target *add, const struct stream_id *add_start,
		 const bool *add_has, size_t nadd, struct evbuf *const *notes, size_t nnotes)
{
	size_t n = nadd, j = 0;
	struct sub_target *t = NULL;
	struct stream_id *start = NULL;
	bool *has = NULL;
	int err = 0;

	if (c->flags & CONN_DEAD)
		return 0;
	for (uint16_t i = 0; i < c->n; i++)
		n += keep[i];
	t = calloc(n ? n : 1, sizeof(*t));
	start = calloc(n ? n : 1, sizeof(*start));
	has = calloc(n ? n : 1, sizeof(*has));
	if (!t || !start || !has) {
		err = COHORT_E_NOMEM;
		goto out;
	}
	for (uint16_t i = 0; i < c->n; i++) {
		const struct follow *f = &c->subs[i];

		if (!keep[i])
			continue;
		if (scope_parse(f->scope, strlen(f->scope), &c->srv->policy, &t[j].scope) ||
		    scope_stream_key(&t[j].scope, t[j].key, sizeof(t[j].key))) {
			err = COHORT_E_INVAL;
			goto out;
		}
		/* A stream whose start was not known yet starts now, as it would have. */
		has[j] = f->state != FOLLOW_WAIT;
		start[j] = f->wpos;
		j++;
	}
	for (size_t i = 0; i < nadd; i++, j++) {
		t[j] = add[i];
		has[j] = add_has && add_has[i];
		if (has[j])
			start[j] = add_start[i];
	}
	stop_follows(c);
	outq_clear(&c->q);
	c->flags &= (uint16_t)~CONN_ANNOUNCED;
	c->flags |= CONN_SUBSCRIBED;
	c->subs = n == 0 ? NULL : n == 1 ? &c->sub1 : calloc(n, sizeof(*c->subs));
	if (n && !c->subs) {
		err = COHORT_E_NOMEM;
		goto out;
	}
	if (n)
		memset(c->subs, 0, n * sizeof(*c->subs));
	for (size_t i = 0; i < n; i++) {
		struct follow *f = &c->subs[i];

		f->conn = c;
		f->idx = (uint16_t)i;
		c->n = (uint16_t)(i + 1);
		if (follow_start(f, c->srv->hub, &t[i], has[i] ? &start[i] : NULL)) {
			err = COHORT_E_NOMEM;
			goto out;
		}
		if (f->state == FOLLOW_WAIT)
			c->waiting++;
	}
	for (size_t i = 0; i < nnotes; i++)
		conn_enqueue(c, notes[i], CONN_TAG_NOTE);
	if (c->flags & CONN_OPEN) {
		struct strbuf sb = STRBUF_INIT;

		log_streams(c, &sb);
		log_info("conn_reshape", LF_I("conn", c->id), LF_I("user", c->user_id),
			 LF_S("streams", sb.buf ? sb.buf : ""));
		strbuf_release(&sb);
	}
	kick(c);
out:
	if (err)
		conn_fail(c, "could not change the subscription");
	free(t);
	free(start);
	free(has);
	return err;
}

/* ---- writing ---- */

static int write_out(struct conn *c, enum lws_write_protocol proto)
{
	struct strbuf *b = wbuf(c);
	size_t len = b->len - LWS_PRE;
	int n = lws_write(c->wsi, (unsigned char *)b->buf + LWS_PRE, len, proto);

	if (n < 0 || (size_t)n < len)
		return -1;
	stream_metrics.bytes_out += len;
	c->last_io_s = now_s();
	c->flags &= (uint16_t)~CONN_HB_DUE;
	return 0;
}

static void wbuf_reset(struct conn *c)
{
	static const char headroom[LWS_PRE];
	struct strbuf *b = wbuf(c);

	strbuf_reset(b);
	strbuf_add(b, headroom, LWS_PRE);
}

static int write_sse_headers(struct conn *c)
{
	unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;

	if (lws_add_http_common_headers(c->wsi, HTTP_STATUS_OK, "text/event-stream",
					LWS_ILLEGAL_HTTP_CONTENT_LEN, &p, end) ||
	    lws_add_http_header_by_name(c->wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-cache", 8, &p, end) ||
	    lws_add_http_header_by_name(c->wsi, (const unsigned char *)"x-accel-buffering:",
					(const unsigned char *)"no", 2, &p, end) ||
	    lws_finalize_write_http_header(c->wsi, start, &p, end))
		return -1;
	/* An event stream has no end: no lws timeout applies from here on (for
	 * HTTP/1, which is what lws_http_mark_sse does for h2 streams). */
	lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
	c->flags |= CONN_STARTED;
	c->last_io_s = now_s();
	return 0;
}

/* The problem response of a refused SSE request; the HTTP connection may
 * then carry another request, so the conn goes away here. */
static int write_refusal(struct conn *c)
{
	unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
	struct lws *wsi = c->wsi;
	size_t blen = strlen(c->ctl);
	unsigned status = c->ctl_status;

	if (lws_add_http_common_headers(wsi, status, PROBLEM_CONTENT_TYPE, blen, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	wbuf_reset(c);
	strbuf_add(wbuf(c), c->ctl, blen);
	if (write_out(c, LWS_WRITE_HTTP_FINAL))
		return -1;
	lws_set_wsi_user(wsi, NULL);
	conn_free(c);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static void announce_sse(struct conn *c)
{
	struct strbuf *b = wbuf(c);

	strbuf_adds(b, "id: ");
	follow_format(b, c->subs, c->n);
	strbuf_adds(b, "\n\n");
}

static void announce_ws(struct conn *c)
{
	struct strbuf *b = wbuf(c);

	strbuf_adds(b, "{\"type\":\"subscribed\",\"streams\":[");
	for (uint16_t i = 0; i < c->n; i++) {
		if (i)
			strbuf_addch(b, ',');
		strbuf_add_json_str(b, c->subs[i].scope, strlen(c->subs[i].scope));
	}
	strbuf_adds(b, "],\"pos\":\"");
	follow_format(b, c->subs, c->n);
	strbuf_adds(b, "\"}");
}

/* Moves queued events into the write buffer; returns how many. */
static unsigned drain(struct conn *c, bool sse)
{
	struct strbuf *b = wbuf(c);
	unsigned count = 0;
	const struct outq_ent *e;

	while ((e = outq_peek(&c->q)) && (count == 0 || b->len < WRITE_CHUNK)) {
		/* Server notices (revoked, granted) move no position. */
		if (e->tag < c->n)
			c->subs[e->tag].wpos = e->ev->id;
		if (sse) {
			/* The id after the data: a client that (against the spec)
			 * adopts an id before the event is complete, and then loses
			 * the rest of the event to a cut connection, adopts nothing. */
			strbuf_adds(b, "data: ");
			strbuf_add(b, e->ev->json, e->ev->len);
			strbuf_adds(b, "\nid: ");
			follow_format(b, c->subs, c->n);
			strbuf_adds(b, "\n\n");
		} else {
			if (count)
				strbuf_addch(b, ',');
			strbuf_add(b, e->ev->json, e->ev->len);
		}
		outq_pop(&c->q);
		count++;
	}
	stream_metrics.deliveries += count;
	return count;
}

static int writable_sse(struct conn *c)
{
	struct strbuf *b = wbuf(c);

	/* Parked until the authorization answers: no headers before that. */
	if (!(c->flags & (CONN_STARTED | CONN_SUBSCRIBED)))
		return 0;
	if (!(c->flags & CONN_STARTED)) {
		if (write_sse_headers(c))
			return -1;
		/* The request is fully read: give back lws's header storage. */
		lws_http_headers_detach(c->wsi);
		c->flags |= CONN_RX_ON;
		kick(c);
		return 0;
	}
	wbuf_reset(c);
	if (!c->waiting && (c->flags & CONN_SUBSCRIBED)) {
		if (!(c->flags & CONN_ANNOUNCED)) {
			announce_sse(c);
			c->flags |= CONN_ANNOUNCED;
		}
		drain(c, true);
	}
	if (b->len == LWS_PRE && (c->flags & CONN_HB_DUE)) {
		strbuf_adds(b, ": hb\n\n");
		stream_metrics.heartbeats++;
	}
	if (b->len > LWS_PRE && write_out(c, LWS_WRITE_HTTP))
		return -1;
	return 0;
}

static int writable_ws(struct conn *c)
{
	struct strbuf *b = wbuf(c);

	wbuf_reset(c);
	if (c->ctl) {
		strbuf_adds(b, c->ctl);
		free(c->ctl);
		c->ctl = NULL;
	} else if (c->ed && c->ed->rcount) {
		struct conn_edits *ed = c->ed;

		strbuf_adds(b, ed->replies[ed->rhead]);
		free(ed->replies[ed->rhead]);
		ed->replies[ed->rhead] = NULL;
		ed->rhead = (uint8_t)((ed->rhead + 1) % CONN_REPLIES_MAX);
		ed->rcount--;
	} else if (c->flags & CONN_PONG_DUE) {
		strbuf_adds(b, "{\"type\":\"pong\"}");
		c->flags &= (uint16_t)~CONN_PONG_DUE;
	} else if (!c->waiting && (c->flags & CONN_SUBSCRIBED) && !(c->flags & CONN_ANNOUNCED)) {
		announce_ws(c);
		c->flags |= CONN_ANNOUNCED;
	} else if (!c->waiting && (c->flags & CONN_SUBSCRIBED) && c->q.count) {
		strbuf_adds(b, "{\"type\":\"events\",\"events\":[");
		drain(c, false);
		strbuf_adds(b, "],\"pos\":\"");
		follow_format(b, c->subs, c->n);
		strbuf_adds(b, "\"}");
	} else if (c->flags & CONN_HB_DUE) {
		stream_metrics.heartbeats++;
		return write_out(c, LWS_WRITE_PING);
	}
	if (b->len > LWS_PRE)
		return write_out(c, LWS_WRITE_TEXT);
	return 0;
}

static bool more_to_write(const struct conn *c)
{
	bool ready = !c->waiting && (c->flags & CONN_SUBSCRIBED);

	if (c->ctl || (c->flags & CONN_PONG_DUE) || (c->ed && c->ed->rcount))
		return true;
	return ready && (c->q.count || !(c->flags & CONN_ANNOUNCED));
}

int conn_writable(struct conn *c)
{
	int r;

	c->flags &= (uint16_t)~CONN_WANT_WRITE;
	if (c->flags & CONN_DEAD)
		return -1;
	/* Frees c: nothing below may run for it. */
	if (c->transport == TRANSPORT_SSE && (c->flags & CONN_REFUSED))
		return write_refusal(c);
	r = c->transport == TRANSPORT_SSE ? writable_sse(c) : writable_ws(c);
	if (r)
		return r;
	/* lws flushes bytes it buffered on POLLOUT: ask for it as well. */
	if (more_to_write(c) || lws_partial_buffered(c->wsi))
		kick(c);
	else if (c->transport == TRANSPORT_SSE)
		mark_dirty(c); /* the flusher turns input polling off */
	/* Room again: catch-ups that paused for it may continue. */
	for (uint16_t i = 0; i < c->n; i++)
		if (c->subs[i].more)
			follow_continue(&c->subs[i]);
	return 0;
}

/*
 * Writing without waiting for POLLOUT. With lws 4.1 on libuv 1.44 each
 * writable request and its end restart the socket's poll handle (an epoll
 * delete and add); for a connection that gets a few events at a time that
 * was most of the cost of a delivery. An SSE connection whose socket has no
 * unsent bytes in lws is written right away instead, once per loop
 * iteration for everything queued since the last one; only a partial write
 * (the socket is full) falls back to lws's writable callback.
 */
static void flush_one(struct conn *c)
{
	bool direct = c->transport == TRANSPORT_SSE &&
		      (c->flags & (CONN_STARTED | CONN_ANNOUNCED | CONN_SUBSCRIBED)) ==
			      (CONN_STARTED | CONN_ANNOUNCED | CONN_SUBSCRIBED) &&
		      !c->waiting && !lws_partial_buffered(c->wsi);

	if (c->flags & CONN_DEAD)
		return;
	if (!direct) {
		if (c->q.count || c->transport == TRANSPORT_WS)
			kick(c);
		return;
	}
	wbuf_reset(c);
	if (drain(c, true) && write_out(c, LWS_WRITE_HTTP)) {
		close_with(c, CLOSE_FAILED);
		return;
	}
	/* A partial write: lws buffered the rest and asked for POLLOUT. */
	if (lws_partial_buffered(c->wsi) || c->q.count)
		kick(c);
	else if (!(c->flags & CONN_WANT_WRITE))
		sse_rx(c, false);
	for (uint16_t i = 0; i < c->n; i++)
		if (c->subs[i].more)
			follow_continue(&c->subs[i]);
}

void conn_flush_dirty(struct server *srv)
{
	while (srv->dirty) {
		struct conn *c = srv->dirty;

		srv->dirty = c->dirty_next;
		c->dirty_next = NULL;
		c->flags &= (uint16_t)~CONN_DIRTY;
		flush_one(c);
	}
}

/* ---- WebSocket messages ---- */

typedef void ws_handler(struct conn *c, struct wsmsg *m);

static void ws_subscribe(struct conn *c, struct wsmsg *m)
{
	char detail[SUB_DETAIL_MAX] = "";
	struct sub_request req;
	int err;

	err = subscription_parse_names((const char *const *)m->streams, m->lens, m->nstreams, &c->srv->policy,
				       (size_t)c->srv->cfg->stream_max_streams, &req, detail, sizeof(detail));
	if (!err) {
		err = conn_subscribe(c, &req, m->after, m->after_len);
		if (err == COHORT_E_BADID)
			snprintf(detail, sizeof(detail), "\"after\" is not a valid position");
	}
	if (err) {
		stream_metrics.ws_bad_messages++;
		set_ws_error(c, err, detail);
	}
}

static void ws_ping(struct conn *c, struct wsmsg *m)
{
	(void)m;
	c->flags |= CONN_PONG_DUE;
	kick(c);
}

/* Queues an answer to a push or cursor (taken); NULL is out of memory. */
static void queue_reply(struct conn *c, char *reply)
{
	struct conn_edits *ed = c->ed;

	if (!reply || !ed) {
		free(reply);
		conn_fail(c, "out of memory");
		return;
	}
	if (c->flags & CONN_DEAD) {
		free(reply);
		return;
	}
	if (ed->rcount == CONN_REPLIES_MAX) {
		free(reply);
		conn_fail(c, "the client does not read the answers to its messages");
		return;
	}
	ed->replies[(ed->rhead + ed->rcount) % CONN_REPLIES_MAX] = reply;
	ed->rcount++;
	kick(c);
}

static void edit_refuse(struct conn *c, const char *idjson, int err, const char *detail)
{
	stream_metrics.ws_bad_messages++;
	stream_metrics.edits_refused++;
	queue_reply(c, edit_error_reply(idjson, err, detail));
}

static void on_edit_done(void *arg, struct edit_job *job, char *reply, const struct authz_who *who)
{
	struct conn *c = arg;
	struct conn_edits *ed = c->ed;

	for (unsigned i = 0; i < ed->njobs; i++) {
		if (ed->jobs[i] != job)
			continue;
		ed->jobs[i] = ed->jobs[--ed->njobs];
		ed->jobs[ed->njobs] = NULL;
		break;
	}
	if (who) {
		/* The token proved good: the connection keeps the principal. */
		set_principal(c, who);
		drop_token(c);
	}
	if (reply)
		queue_reply(c, reply);
}

/* push and cursor: checked here, run on the worker pool (edit.c). */
static void ws_edit(struct conn *c, struct wsmsg *m)
{
	struct authz_who who;
	struct edit_job *job = NULL;
	int err;

	if (!c->ed && !(c->ed = calloc(1, sizeof(*c->ed)))) {
		conn_fail(c, "out of memory");
		return;
	}
	if (!(c->flags & CONN_AUTHED) && !c->token) {
		edit_refuse(c, m->id, COHORT_E_AUTH, "sign in to edit (a token on the WebSocket upgrade)");
		return;
	}
	if (c->ed->njobs >= EDIT_CONN_MAX) {
		edit_refuse(c, m->id, COHORT_E_RATE, "too many edits in flight on this connection; wait for their answers");
		return;
	}
	known_who(c, &who);
	err = edit_start(c->srv->edit, m, clock_wall_us(), (c->flags & CONN_AUTHED) ? &who : NULL, c->token,
			 on_edit_done, c, &job);
	if (err) {
		edit_refuse(c, m->id, err,
			    err == COHORT_E_UNAVAILABLE ? "too many edits pending in this server; try again" : NULL);
		return;
	}
	c->ed->jobs[c->ed->njobs++] = job;
}

/* Handlers by message type; wsmsg.c has the names. */
static ws_handler *const ws_handlers[WSMSG__N] = {
	[WSMSG_SUBSCRIBE] = ws_subscribe,
	[WSMSG_PING] = ws_ping,
	[WSMSG_PUSH] = ws_edit,
	[WSMSG_CURSOR] = ws_edit,
	[WSMSG_WATCH] = acl_ws_watch,
	[WSMSG_PRESENCE] = acl_ws_presence,
};

int conn_ws_receive(struct conn *c, const void *in, size_t len, bool first, bool final, bool binary)
{
	char detail[WSMSG_DETAIL_MAX] = "";
	struct wsmsg m;
	int err;

	if (binary) {
		if (final) {
			stream_metrics.ws_messages_in++;
			conn_ws_error(c, COHORT_E_INVAL, "only text messages are accepted");
		}
		return 0;
	}
	if (first)
		c->rxlen = 0;
	if ((size_t)c->rxlen + len > WSMSG_MAX) {
		unsigned char why[] = "message too large";

		stream_metrics.ws_bad_messages++;
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, why, sizeof(why) - 1);
		return -1;
	}
	/* Grown to the message's size: most messages are small. */
	if ((size_t)c->rxlen + len > c->rxcap) {
		size_t cap = c->rxcap ? c->rxcap : 1024;
		char *n;

		while (cap < (size_t)c->rxlen + len)
			cap *= 2;
		if (cap > WSMSG_MAX)
			cap = WSMSG_MAX;
		n = realloc(c->rx, cap);
		if (!n)
			return -1;
		c->rx = n;
		c->rxcap = (uint32_t)cap;
	}
	memcpy(c->rx + c->rxlen, in, len);
	c->rxlen += (uint32_t)len;
	if (!final)
		return 0;
	stream_metrics.ws_messages_in++;
	err = wsmsg_parse(c->rx, c->rxlen, &m, detail, sizeof(detail));
	free(c->rx);
	c->rx = NULL;
	c->rxlen = 0;
	c->rxcap = 0;
	if (err && m.id[0]) {
		/* A push or cursor that names itself gets its answer in order. */
		if (!c->ed && !(c->ed = calloc(1, sizeof(*c->ed))))
			return -1;
		edit_refuse(c, m.id, err, detail);
		return 0;
	}
	if (err) {
		stream_metrics.ws_bad_messages++;
		set_ws_error(c, err, detail);
		return 0;
	}
	ws_handlers[m.type](c, &m);
	wsmsg_release(&m);
	return 0;
}

/* ---- the sweep ---- */

/* Whether the client closed its end (see sse_rx). A client that sends bytes
 * on an event stream is not closing; those bytes are left unread. */
static bool peer_gone(struct conn *c)
{
	int fd = lws_get_socket_fd(c->wsi);
	char b;
	ssize_t n;

	if (fd < 0)
		return true;
	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void conn_sweep(struct server *srv, uint32_t now)
{
	uint32_t hb = (uint32_t)srv->cfg->stream_heartbeat_s;

	for (struct conn *c = srv->conns; c; c = c->next) {
		if (c->flags & CONN_DEAD)
			continue;
		if (!c->q.count)
			outq_shrink(&c->q);
		if (c->transport == TRANSPORT_SSE && (c->flags & CONN_STARTED)) {
			if (peer_gone(c)) {
				close_with(c, CLOSE_PEER);
				continue;
			}
			/* Idle since the last sweep and nothing unsent: stop input polling (see sse_rx). */
			if (!c->q.count && now != c->last_io_s && !(c->flags & CONN_WANT_WRITE) &&
			    !lws_partial_buffered(c->wsi))
				sse_rx(c, false);
		}
		if (now - c->last_io_s >= hb && (c->transport == TRANSPORT_WS || (c->flags & CONN_STARTED))) {
			c->flags |= CONN_HB_DUE;
			kick(c);
		}
	}
}
