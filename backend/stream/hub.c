/*
 * DESIGN: why no event is lost between history and live delivery.
 *
 * A follower is linked into its hub_stream *before* any Redis command is
 * sent on its behalf, and the hub offers it every entry the reader reads
 * from then on. The reader reads a stream strictly after the hub's position
 * H, which only grows. So, for a follower attached when the hub was at H:
 *  - every entry > H reaches it live (held during its catch-up);
 *  - every entry <= H existed in Redis before the follower's first catch-up
 *    page was requested, so the pages (which run to the end of the stream
 *    at their time) include it, unless it was trimmed — which the page's
 *    XINFO reveals (reset).
 * A new hub_stream learns H with XREVRANGE on the command connection; the
 * follower's own pages are queued behind that request on the same
 * connection (FIFO, also across reconnects), so they see everything <= H too.
 * Overlaps between the two sources are removed by the follower's filter.
 *
 * A follower without a resume position starts at H itself once the stream is
 * ready, which is "now" as far as this process can tell, and then receives
 * every entry > H.
 */
#include "stream/hub.h"
#include "stream/evbuf.h"
#include "stream/feed.h"
#include "stream/follow.h"
#include "stream/metrics.h"
#include "stream/subscription.h"
#include "core/err.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct hub {
	struct feed *feed;
	struct hub_limits lim;
	struct hub_stream **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	size_t nready;
	size_t budget;   /* event bytes offered per loop iteration */
	struct hub_stream *bhead, *btail; /* streams with a backlog, round robin */
	uv_idle_t idle;  /* runs the fan-out between loop iterations */
	bool idle_open;
};

static uint64_t hash_key(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

int hub_new(struct hub **out, const struct hub_limits *lim, struct uv_loop_s *loop)
{
	struct hub *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		return COHORT_E_NOMEM;
	h->lim = *lim;
	/* A quarter of a connection's queue per step: a client that keeps up
	 * drains that much (and more) on each writable callback. */
	h->budget = lim->queue_max / 4;
	if (h->budget < 4096)
		h->budget = 4096;
	if (h->budget > 256 * 1024)
		h->budget = 256 * 1024;
	if (loop) {
		uv_idle_init(loop, &h->idle);
		h->idle.data = h;
		h->idle_open = true;
	}
	h->nbuckets = 64;
	h->buckets = calloc(h->nbuckets, sizeof(*h->buckets));
	if (!h->buckets) {
		free(h);
		return COHORT_E_NOMEM;
	}
	*out = h;
	return 0;
}

void hub_set_feed(struct hub *h, struct feed *feed)
{
	h->feed = feed;
}

struct feed *hub_feed(const struct hub *h)
{
	return h->feed;
}

const struct hub_limits *hub_limits(const struct hub *h)
{
	return &h->lim;
}

size_t hub_count(const struct hub *h)
{
	return h->count;
}

void hub_close(struct hub *h)
{
	if (h && h->idle_open) {
		h->idle_open = false;
		uv_close((uv_handle_t *)&h->idle, NULL);
	}
}

void hub_free(struct hub *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nbuckets; i++) {
		struct hub_stream *hs = h->buckets[i];

		while (hs) {
			struct hub_stream *next = hs->chain;

			BUG_ON(hs->nfollowers);
			feed_cancel(hs->init);
			outq_release(&hs->backlog);
			free(hs->scope);
			free(hs);
			hs = next;
		}
	}
	free(h->buckets);
	free(h);
}

static struct hub_stream **slot(struct hub *h, const char *key, size_t len)
{
	struct hub_stream **p = &h->buckets[hash_key(key, len) & (h->nbuckets - 1)];

	while (*p && !(strlen((*p)->key) == len && !memcmp((*p)->key, key, len)))
		p = &(*p)->chain;
	return p;
}

static void grow(struct hub *h)
{
	size_t n = h->nbuckets * 2;
	struct hub_stream **b = calloc(n, sizeof(*b));

	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < h->nbuckets; i++) {
		struct hub_stream *hs = h->buckets[i];

		while (hs) {
			struct hub_stream *next = hs->chain;
			size_t k = hash_key(hs->key, strlen(hs->key)) & (n - 1);

			hs->chain = b[k];
			b[k] = hs;
			hs = next;
		}
	}
	free(h->buckets);
	h->buckets = b;
	h->nbuckets = n;
}

/* ---- the paced fan-out ---- */

static void blist_add(struct hub *h, struct hub_stream *hs)
{
	hs->bnext = NULL;
	hs->bprev = h->btail;
	if (h->btail)
		h->btail->bnext = hs;
	else
		h->bhead = hs;
	h->btail = hs;
	hs->queued = true;
}

static void blist_del(struct hub *h, struct hub_stream *hs)
{
	if (!hs->queued)
		return;
	if (hs->bprev)
		hs->bprev->bnext = hs->bnext;
	else
		h->bhead = hs->bnext;
	if (hs->bnext)
		hs->bnext->bprev = hs->bprev;
	else
		h->btail = hs->bprev;
	hs->bprev = hs->bnext = NULL;
	hs->queued = false;
}

static void fanout(struct hub_stream *hs, struct evbuf *ev)
{
	struct follow *f, *next;

	for (f = hs->followers; f; f = next) {
		next = f->next;
		follow_on_event(f, ev);
	}
}

/* Offers up to budget bytes of backlog, one event per stream in turn. */
static void pump(struct hub *h, size_t budget)
{
	size_t spent = 0;

	while (h->bhead && spent < budget) {
		struct hub_stream *hs = h->bhead;
		const struct outq_ent *e = outq_peek(&hs->backlog);

		spent += e->ev->len;
		fanout(hs, e->ev);
		outq_pop(&hs->backlog);
		blist_del(h, hs);
		if (hs->backlog.count)
			blist_add(h, hs);
		else
			outq_shrink(&hs->backlog);
	}
}

static void idle_cb(uv_idle_t *t)
{
	struct hub *h = t->data;

	pump(h, h->budget);
	if (!h->bhead) {
		uv_idle_stop(&h->idle);
		feed_reader_release(h->feed);
	}
}

/* The fan-out runs from the idle phase, never from the Redis reply itself:
 * queueing events asks lws for writable callbacks, which restart libuv poll
 * handles, and restarting one while libuv dispatches I/O events costs a scan
 * of all of that iteration's events. */
bool hub_batch_done(void *arg)
{
	struct hub *h = arg;

	if (!h->bhead)
		return false;
	if (!h->idle_open) {
		pump(h, SIZE_MAX); /* no loop (tests): everything at once */
		return false;
	}
	uv_idle_start(&h->idle, idle_cb);
	return true;
}

static void on_init(void *arg, int err, const struct stream_id *last)
{
	struct hub_stream *hs = arg;
	struct follow *f, *next;

	hs->init = NULL;
	if (err) {
		/* Not a stream (wrong type) or Redis refused: its followers cannot be served. */
		log_error("stream_init_failed", LF_S("stream", hs->scope));
		for (f = hs->followers; f; f = next) {
			next = f->next;
			follow_on_failed(f);
		}
		return;
	}
	hs->pos = *last;
	hs->ready = true;
	hs->hub->nready++;
	log_debug("stream_followed", LF_S("stream", hs->scope), LF_I("followers", hs->nfollowers));
	for (f = hs->followers; f; f = next) {
		next = f->next;
		if (f->state == FOLLOW_WAIT)
			follow_on_ready(f, &hs->pos);
	}
	feed_sources_changed(hs->hub->feed);
}

struct hub_stream *hub_attach(struct hub *h, const struct sub_target *t, struct follow *f)
{
	size_t klen = strlen(t->key);
	struct hub_stream **p = slot(h, t->key, klen);
	struct hub_stream *hs = *p;

	if (!hs) {
		hs = calloc(1, sizeof(*hs) + klen + 1);
		if (!hs)
			return NULL;
		hs->scope = strdup(t->scope.name);
		if (!hs->scope) {
			free(hs);
			return NULL;
		}
		memcpy(hs->key, t->key, klen + 1);
		hs->hub = h;
		hs->init = feed_last_id(h->feed, hs->key, on_init, hs);
		if (!hs->init) {
			free(hs->scope);
			free(hs);
			return NULL;
		}
		*p = hs;
		h->count++;
		if (h->count > h->nbuckets)
			grow(h);
	} else if (!hs->ready && !hs->init) {
		/* Its first start failed: try again for the newcomer. */
		hs->init = feed_last_id(h->feed, hs->key, on_init, hs);
		if (!hs->init)
			return NULL;
	}
	f->hs = hs;
	f->scope = hs->scope;
	f->prev = NULL;
	f->next = hs->followers;
	if (hs->followers)
		hs->followers->prev = f;
	hs->followers = f;
	hs->nfollowers++;
	return hs;
}

void hub_detach(struct follow *f)
{
	struct hub_stream *hs = f->hs;
	struct hub *h;

	if (!hs)
		return;
	h = hs->hub;
	if (f->prev)
		f->prev->next = f->next;
	else
		hs->followers = f->next;
	if (f->next)
		f->next->prev = f->prev;
	f->prev = f->next = NULL;
	f->hs = NULL;
	if (--hs->nfollowers)
		return;
	*slot(h, hs->key, strlen(hs->key)) = hs->chain;
	h->count--;
	feed_cancel(hs->init);
	if (hs->ready) {
		h->nready--;
		feed_sources_changed(h->feed);
	}
	log_debug("stream_unfollowed", LF_S("stream", hs->scope));
	blist_del(h, hs);
	outq_release(&hs->backlog);
	if (!h->bhead && h->idle_open && uv_is_active((uv_handle_t *)&h->idle)) {
		uv_idle_stop(&h->idle);
		feed_reader_release(h->feed);
	}
	free(hs->scope);
	free(hs);
}

size_t hub_sources(void *arg, struct feed_source *out, size_t max)
{
	struct hub *h = arg;
	size_t n = 0;

	if (h->nready > max)
		return h->nready;
	for (size_t i = 0; i < h->nbuckets; i++)
		for (struct hub_stream *hs = h->buckets[i]; hs; hs = hs->chain)
			if (hs->ready) {
				out[n].key = hs->key;
				out[n].after = hs->pos;
				n++;
			}
	return n;
}

void hub_entries(void *arg, const char *key, size_t keylen, const struct feed_entry *ents, size_t n)
{
	struct hub *h = arg;
	struct hub_stream *hs = *slot(h, key, keylen);

	/* A reply for a stream that was dropped (or dropped and re-added) meanwhile. */
	if (!hs || !hs->ready)
		return;
	for (size_t i = 0; i < n; i++) {
		struct evbuf *ev = NULL;
		int err;

		if (stream_id_cmp(&ents[i].id, &hs->pos) <= 0)
			continue;
		hs->pos = ents[i].id;
		stream_metrics.events_in++;
		err = ents[i].e ? evbuf_finalize(&ev, &ents[i].id, ents[i].e, ents[i].elen) : COHORT_E_INVAL;
		if (err) {
			stream_metrics.events_skipped++;
			log_warn("event_skipped", LF_S("stream", hs->scope), LF_S("error", cohort_strerror(err)));
			continue;
		}
		/* Followers see it when the pump gets to it (hub_batch_done). */
		if (outq_push(&hs->backlog, ev, 0))
			log_error("event_dropped", LF_S("stream", hs->scope), LF_S("error", "out of memory"));
		else if (!hs->queued)
			blist_add(h, hs);
		evbuf_unref(ev);
	}
}
