#include "stream/follow.h"
#include "stream/conn.h"
#include "stream/evbuf.h"
#include "stream/feed.h"
#include "stream/hub.h"
#include "stream/metrics.h"
#include "stream/outq.h"
#include "stream/subscription.h"
#include "core/err.h"
#include "core/log.h"
#include "core/strbuf.h"

#include <stdlib.h>
#include <string.h>

bool follow_accept(struct follow *f, const struct stream_id *id)
{
	if (stream_id_cmp(id, &f->pos) <= 0)
		return false;
	f->pos = *id;
	return true;
}

struct resume_ctx {
	const struct sub_request *req;
	struct stream_id *start;
	bool *has;
};

static int resume_item(const struct position_item *item, void *arg)
{
	struct resume_ctx *ctx = arg;

	for (size_t i = 0; i < ctx->req->n; i++) {
		const char *name = ctx->req->targets[i].scope.name;

		if (strlen(name) == item->scope_len && !memcmp(name, item->scope, item->scope_len)) {
			ctx->start[i] = item->id;
			ctx->has[i] = true;
			break;
		}
	}
	return 0;
}

int follow_resume_parse(const char *text, size_t len, const struct sub_request *req,
			struct stream_id *start, bool *has)
{
	struct resume_ctx ctx = { req, start, has };

	for (size_t i = 0; i < req->n; i++) {
		has[i] = false;
		start[i].ms = start[i].seq = 0;
	}
	return position_parse(text, len, resume_item, &ctx);
}

/* Decimal digits of v at the end of buf; returns where they start. This
 * runs for every event written to every connection, hence no printf. */
static char *u64_digits(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

int follow_format(struct strbuf *out, const struct follow *fs, size_t n)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		char id[STREAM_ID_STRMAX], *end = id + sizeof(id), *p;

		p = u64_digits(end, fs[i].wpos.seq);
		*--p = '-';
		p = u64_digits(p, fs[i].wpos.ms);
		if (i)
			err = strbuf_addch(out, ',');
		err = err ? err : strbuf_adds(out, fs[i].scope);
		err = err ? err : strbuf_addch(out, '=');
		err = err ? err : strbuf_add(out, p, (size_t)(end - p));
	}
	return err;
}

bool follow_history_lost(const struct feed_page *p, const struct stream_id *after)
{
	if (!p->exists)
		return false;
	if (p->length == 0) {
		/* Everything was trimmed: lost if anything newer than `after` ever existed. */
		return (!p->have_added || p->entries_added > 0) && stream_id_cmp(&p->last_generated, after) > 0;
	}
	if (stream_id_cmp(&p->first, after) <= 0)
		return false; /* history reaches back to `after`: nothing after it is missing */
	if (p->have_added)
		return p->entries_added > p->length;
	/* Without entries-added (Redis < 7) a start from 0-0 is a full read, not a loss. */
	return !stream_id_is_zero(after);
}

/* ---- the state machine ---- */

static void release_pending(struct follow *f)
{
	if (!f->pending)
		return;
	conn_unhold(f->conn, f->pending->bytes);
	outq_release(f->pending);
	free(f->pending);
	f->pending = NULL;
}

static void go_live(struct follow *f)
{
	struct outq *q = f->pending;

	f->state = FOLLOW_LIVE;
	f->more = false;
	if (!q)
		return;
	while (q->count) {
		const struct outq_ent *e = outq_peek(q);

		conn_unhold(f->conn, outq_cost(e->ev));
		if (follow_accept(f, &e->ev->id))
			conn_enqueue(f->conn, e->ev, f->idx);
		outq_pop(q);
	}
	release_pending(f);
}

static void hold(struct follow *f, struct evbuf *ev)
{
	if (!f->pending) {
		f->pending = calloc(1, sizeof(*f->pending));
		if (!f->pending) {
			conn_fail(f->conn, "out of memory");
			return;
		}
	}
	if (conn_hold(f->conn, outq_cost(ev)))
		return; /* the connection overflowed and is closing */
	if (outq_push(f->pending, ev, f->idx)) {
		conn_unhold(f->conn, outq_cost(ev));
		conn_fail(f->conn, "out of memory");
	}
}

static void send_reset(struct follow *f, const struct stream_id *to)
{
	struct strbuf sb = STRBUF_INIT;
	struct evbuf *ev = NULL;

	strbuf_adds(&sb, "{\"type\":\"reset\",\"stream\":");
	strbuf_add_json_str(&sb, f->scope, strlen(f->scope));
	strbuf_adds(&sb, ",\"data\":{\"reason\":\"trimmed\"}}");
	if (sb.buf && !evbuf_new(&ev, to, sb.buf, sb.len)) {
		f->pos = *to;
		stream_metrics.resets++;
		log_info("stream_reset", LF_S("stream", f->scope), LF_S("reason", "trimmed"));
		conn_enqueue(f->conn, ev, f->idx);
		evbuf_unref(ev);
	} else {
		conn_fail(f->conn, "out of memory");
	}
	strbuf_release(&sb);
}

static void on_page(void *arg, int err, const struct feed_page *p)
{
	struct follow *f = arg;
	const struct hub_limits *lim = hub_limits(f->hs->hub);
	size_t budget = lim->queue_max / 2;
	bool stopped = false;

	f->req = NULL;
	if (err) {
		conn_fail(f->conn, "Redis error while catching up");
		return;
	}
	if (follow_history_lost(p, &f->pos)) {
		/* Continue live from the newest id the stream ever had. */
		send_reset(f, &p->last_generated);
		go_live(f);
		return;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct evbuf *ev = NULL;

		if (stream_id_cmp(&p->ents[i].id, &f->pos) <= 0)
			continue;
		if (!p->ents[i].e || evbuf_finalize(&ev, &p->ents[i].id, p->ents[i].e, p->ents[i].elen)) {
			stream_metrics.events_skipped++;
			follow_accept(f, &p->ents[i].id);
			continue;
		}
		/* Leave room for live traffic: the rest of the page comes again later. */
		if (conn_queued_bytes(f->conn) + outq_cost(ev) > budget && conn_queued_bytes(f->conn) > 0) {
			evbuf_unref(ev);
			stopped = true;
			break;
		}
		stream_metrics.events_catchup++;
		follow_accept(f, &ev->id);
		conn_enqueue(f->conn, ev, f->idx);
		evbuf_unref(ev);
	}
	if (!stopped && p->n < lim->catchup_batch) {
		go_live(f);
		return;
	}
	f->more = true;
	follow_continue(f);
}

void follow_continue(struct follow *f)
{
	const struct hub_limits *lim;

	if (f->state != FOLLOW_CATCHUP || !f->more || f->req || !f->hs || conn_dead(f->conn))
		return;
	lim = hub_limits(f->hs->hub);
	if (conn_queued_bytes(f->conn) > lim->queue_max / 2)
		return; /* conn.c calls again once the queue drained */
	f->more = false;
	f->req = feed_page(hub_feed(f->hs->hub), f->hs->key, &f->pos, lim->catchup_batch, on_page, f);
	if (!f->req)
		conn_fail(f->conn, "out of memory");
}

int follow_start(struct follow *f, struct hub *hub, const struct sub_target *t,
		 const struct stream_id *resume)
{
	if (!hub_attach(hub, t, f))
		return COHORT_E_NOMEM;
	if (resume) {
		f->pos = f->wpos = *resume;
		f->state = FOLLOW_CATCHUP;
		f->more = true;
		follow_continue(f);
		return 0;
	}
	if (f->hs->ready) {
		f->pos = f->wpos = f->hs->pos;
		f->state = FOLLOW_LIVE;
		return 0;
	}
	f->state = FOLLOW_WAIT;
	return 0;
}

void follow_stop(struct follow *f)
{
	feed_cancel(f->req);
	f->req = NULL;
	release_pending(f);
	hub_detach(f);
}

void follow_on_ready(struct follow *f, const struct stream_id *start)
{
	if (f->state != FOLLOW_WAIT)
		return;
	f->pos = f->wpos = *start;
	go_live(f);
	conn_position_known(f->conn);
}

void follow_on_event(struct follow *f, struct evbuf *ev)
{
	switch (f->state) {
	case FOLLOW_LIVE:
		if (follow_accept(f, &ev->id))
			conn_enqueue(f->conn, ev, f->idx);
		break;
	case FOLLOW_WAIT:
	case FOLLOW_CATCHUP:
		hold(f, ev);
		break;
	}
}

void follow_on_failed(struct follow *f)
{
	conn_fail(f->conn, "stream unavailable");
}
