/*
 * DESIGN: two hiredis async contexts ("links") share one small state machine:
 * IDLE → (RESOLVING) → CONNECTING → UP, and back to IDLE on any failure, with
 * a backoff timer for the next attempt. hiredis runs the callbacks of every
 * command still pending with a NULL reply when a context goes away (whether
 * Redis closed it or we freed it), always before its disconnect callback; the
 * command link uses that to put its requests back into the waiting FIFO in
 * their original order. A link that we drop ourselves (watchdog, shutdown)
 * is detached first (l->ac = NULL) so its late disconnect callback is
 * recognized and ignored.
 *
 * The reader keeps at most one XREAD in flight. When the hub's set of
 * streams changes while it is blocked, CLIENT UNBLOCK (on the command link)
 * makes Redis answer it at once as if it had timed out; the reply handler
 * then re-issues XREAD with the current set. An UNBLOCK that arrives before
 * the XREAD reached Redis unblocks nothing (reply 0) and is retried briefly.
 */
#include "stream/feed.h"
#include "stream/metrics.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define WATCHDOG_MS 250
#define XREAD_COUNT 1000
#define ERROR_PAUSE_MS 1000
#define UNBLOCK_RETRY_MS 2
#define UNBLOCK_RETRIES 50

enum link_state { LINK_IDLE, LINK_RESOLVING, LINK_CONNECTING, LINK_UP };
enum req_kind { REQ_LAST, REQ_PAGE, REQ_UNBLOCK, REQ_EXISTS, REQ_ARGV };

struct link {
	struct feed *feed;
	const char *name;
	redisAsyncContext *ac;
	enum link_state state;
	uv_timer_t timer;   /* reconnect backoff; the reader's pause after an error */
	uv_getaddrinfo_t gai;
	bool gai_busy;
	bool was_up;
	unsigned backoff_ms;
	int64_t since_us;   /* start of the current connect attempt */
	void (*on_up)(struct link *l);
	void (*on_down)(struct link *l);
};

struct feed_req {
	struct feed_req *next;
	struct feed *feed;
	enum req_kind kind;
	bool cancelled;
	union {
		feed_last_fn *last;
		feed_page_fn *page;
		feed_exists_fn *exists;
		feed_reply_fn *reply;
	} cb;
	void *arg;
	int64_t sent_us;
	struct stream_id after;
	unsigned count;
	char key[];
};

struct req_fifo {
	struct feed_req *head, *tail;
};

struct feed {
	uv_loop_t *loop;
	struct feed_hooks hooks;
	char *host;
	char *socket;
	int port;
	int timeout_ms;
	int block_ms;
	bool numeric_host;
	bool stopping;
	int open_handles; /* uv handles and requests still to complete (feed_free) */

	struct link reader, cmd;
	uv_timer_t watchdog;

	/* reader */
	long long reader_id;
	bool have_id;
	bool xread_inflight;
	bool in_reply;
	bool held;          /* the hub is still fanning out the last reply */
	uint64_t gen;       /* bumped whenever the hub's sources change */
	uint64_t xread_gen; /* gen the XREAD in flight was built from */
	int64_t xread_sent_us;
	struct feed_source *src;
	size_t src_cap;
	const char **argv;
	size_t *argvlen;
	char *idtext;
	size_t argv_cap;

	/* waking the reader */
	bool unblock_pending;
	int unblock_retries;
	uv_timer_t unblock_timer;

	/* command link */
	struct req_fifo waiting;  /* not sent yet (link down) */
	struct req_fifo inflight; /* sent, oldest first */

	struct feed_entry *ents;
	size_t ents_cap;
};

static void link_connect(struct link *l);
static void xread_issue(struct feed *f);

/* ---- small helpers ---- */

static void fifo_push(struct req_fifo *q, struct feed_req *r)
{
	r->next = NULL;
	if (q->tail)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
}

static struct feed_req *fifo_pop(struct req_fifo *q)
{
	struct feed_req *r = q->head;

	if (r) {
		q->head = r->next;
		if (!q->head)
			q->tail = NULL;
		r->next = NULL;
	}
	return r;
}

static int parse_id_reply(const redisReply *r, struct stream_id *out)
{
	if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS))
		return COHORT_E_REDIS;
	return stream_id_parse(r->str, r->len, out) ? COHORT_E_REDIS : 0;
}

static int ensure_ents(struct feed *f, size_t n)
{
	struct feed_entry *e;

	if (n <= f->ents_cap)
		return 0;
	e = realloc(f->ents, n * sizeof(*e));
	if (!e)
		return COHORT_E_NOMEM;
	f->ents = e;
	f->ents_cap = n;
	return 0;
}

/* Turns an array of stream entries ([id, [field, value, ...]]) into f->ents.
 * Entries whose id cannot be parsed are a protocol error. */
static int parse_entries(struct feed *f, const redisReply *arr, size_t *n)
{
	*n = 0;
	if (!arr || arr->type != REDIS_REPLY_ARRAY)
		return arr && arr->type == REDIS_REPLY_NIL ? 0 : COHORT_E_REDIS;
	if (ensure_ents(f, arr->elements))
		return COHORT_E_NOMEM;
	for (size_t i = 0; i < arr->elements; i++) {
		const redisReply *ent = arr->element[i];
		struct feed_entry *fe = &f->ents[*n];

		if (ent->type != REDIS_REPLY_ARRAY || ent->elements < 1 || parse_id_reply(ent->element[0], &fe->id))
			return COHORT_E_REDIS;
		fe->e = NULL;
		fe->elen = 0;
		if (ent->elements >= 2 && ent->element[1]->type == REDIS_REPLY_ARRAY) {
			const redisReply *fv = ent->element[1];

			for (size_t k = 0; k + 1 < fv->elements; k += 2) {
				const redisReply *name = fv->element[k], *val = fv->element[k + 1];

				if (name->type == REDIS_REPLY_STRING && name->len == 1 && name->str[0] == 'e' &&
				    val->type == REDIS_REPLY_STRING) {
					fe->e = val->str;
					fe->elen = val->len;
					break;
				}
			}
		}
		(*n)++;
	}
	return 0;
}

/* ---- links ---- */

static void link_timer_cb(uv_timer_t *t);

static unsigned link_schedule(struct link *l)
{
	unsigned delay;

	if (l->feed->stopping)
		return 0;
	delay = l->backoff_ms ? l->backoff_ms : BACKOFF_MIN_MS;
	uv_timer_start(&l->timer, link_timer_cb, delay, 0);
	l->backoff_ms = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
	return delay;
}

static void link_failed(struct link *l, const char *what, const char *why)
{
	unsigned delay;

	stream_metrics.redis_errors++;
	l->state = LINK_IDLE;
	delay = link_schedule(l);
	log_warn(what, LF_S("link", l->name), LF_S("error", why), LF_I("retry_ms", delay));
}

static void on_connect(const redisAsyncContext *cac, int status)
{
	redisAsyncContext *ac = (redisAsyncContext *)(uintptr_t)cac;
	struct link *l = ac->data;

	if (l->ac != ac)
		return;
	if (status != REDIS_OK) {
		l->ac = NULL; /* hiredis frees it after this callback */
		link_failed(l, "redis_connect_failed", ac->errstr[0] ? ac->errstr : "connect failed");
		return;
	}
	l->state = LINK_UP;
	l->backoff_ms = 0;
	if (l->was_up)
		stream_metrics.redis_reconnects++;
	l->was_up = true;
	log_info("redis_connected", LF_S("link", l->name));
	l->on_up(l);
}

static void on_disconnect(const redisAsyncContext *cac, int status)
{
	redisAsyncContext *ac = (redisAsyncContext *)(uintptr_t)cac;
	struct link *l = ac->data;

	(void)status;
	if (l->ac != ac)
		return; /* we dropped it ourselves and already moved on */
	l->ac = NULL;
	l->state = LINK_IDLE;
	l->on_down(l);
	if (l->feed->stopping)
		return;
	stream_metrics.redis_errors++;
	log_warn("redis_disconnected", LF_S("link", l->name), LF_S("error", ac->errstr[0] ? ac->errstr : "closed"));
	link_schedule(l);
}

static void link_attach(struct link *l, redisAsyncContext *ac)
{
	if (!ac || ac->err) {
		char why[160];

		snprintf(why, sizeof(why), "%s", ac ? ac->errstr : "out of memory");
		if (ac)
			redisAsyncFree(ac);
		link_failed(l, "redis_connect_failed", why);
		return;
	}
	ac->data = l;
	if (redisLibuvAttach(ac, l->feed->loop) != REDIS_OK) {
		redisAsyncFree(ac);
		link_failed(l, "redis_connect_failed", "cannot attach to the event loop");
		return;
	}
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	l->ac = ac;
	l->state = LINK_CONNECTING;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct link *l = req->data;
	struct feed *f = l->feed;
	char ip[INET6_ADDRSTRLEN] = "";

	l->gai_busy = false;
	f->open_handles--;
	if (f->stopping) {
		uv_freeaddrinfo(res);
		if (f->open_handles == 0)
			free(f);
		return;
	}
	if (status < 0 || !res) {
		uv_freeaddrinfo(res);
		link_failed(l, "redis_connect_failed", uv_strerror(status));
		return;
	}
	if (res->ai_family == AF_INET6)
		uv_ip6_name((const struct sockaddr_in6 *)(const void *)res->ai_addr, ip, sizeof(ip));
	else
		uv_ip4_name((const struct sockaddr_in *)(const void *)res->ai_addr, ip, sizeof(ip));
	uv_freeaddrinfo(res);
	link_attach(l, redisAsyncConnect(ip, f->port));
}

static void link_connect(struct link *l)
{
	struct feed *f = l->feed;
	struct addrinfo hints;

	if (f->stopping || l->state != LINK_IDLE)
		return;
	l->since_us = clock_mono_us();
	if (f->socket[0]) {
		link_attach(l, redisAsyncConnectUnix(f->socket));
		return;
	}
	if (f->numeric_host) {
		link_attach(l, redisAsyncConnect(f->host, f->port));
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	l->gai.data = l;
	if (uv_getaddrinfo(f->loop, &l->gai, on_resolved, f->host, NULL, &hints) < 0) {
		link_failed(l, "redis_connect_failed", "cannot resolve host");
		return;
	}
	l->gai_busy = true;
	f->open_handles++;
	l->state = LINK_RESOLVING;
}

/* Drops a live or connecting link ourselves (watchdog, shutdown). */
static void link_drop(struct link *l, const char *why)
{
	redisAsyncContext *ac = l->ac;

	if (!ac)
		return;
	l->ac = NULL;
	if (l->state == LINK_UP)
		l->on_down(l);
	l->state = LINK_IDLE;
	if (!l->feed->stopping) {
		stream_metrics.redis_errors++;
		log_warn("redis_disconnected", LF_S("link", l->name), LF_S("error", why));
	}
	redisAsyncFree(ac); /* pending callbacks run now, with NULL replies */
	link_schedule(l);
}

/* ---- the reader ---- */

static void reader_pause_or_connect(struct feed *f)
{
	if (f->reader.state == LINK_UP)
		xread_issue(f);
	else
		link_connect(&f->reader);
}

static void on_xread(redisAsyncContext *ac, void *reply, void *priv)
{
	struct link *l = ac->data;
	struct feed *f = l->feed;
	const redisReply *r = reply;

	(void)priv;
	f->xread_inflight = false;
	if (!r || f->stopping)
		return; /* the link is going away; the next connect re-issues */
	if (r->type == REDIS_REPLY_ERROR) {
		stream_metrics.redis_errors++;
		log_error("redis_xread_error", LF_S("error", r->str));
		uv_timer_start(&l->timer, link_timer_cb, ERROR_PAUSE_MS, 0);
		return;
	}
	f->in_reply = true;
	if (r->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < r->elements; i++) {
			const redisReply *kv = r->element[i];
			size_t n;

			if (kv->type != REDIS_REPLY_ARRAY || kv->elements != 2 || kv->element[0]->type != REDIS_REPLY_STRING)
				continue;
			if (parse_entries(f, kv->element[1], &n)) {
				log_error("redis_bad_reply", LF_S("command", "XREAD"), LF_S("key", kv->element[0]->str));
				continue;
			}
			if (n)
				f->hooks.entries(f->hooks.arg, kv->element[0]->str, kv->element[0]->len, f->ents, n);
		}
	}
	f->held = f->hooks.batch_done && f->hooks.batch_done(f->hooks.arg);
	f->in_reply = false;
	if (f->reader.state == LINK_UP && f->have_id)
		xread_issue(f);
}

void feed_reader_release(struct feed *f)
{
	if (!f || !f->held)
		return;
	f->held = false;
	xread_issue(f);
}

static int ensure_argv(struct feed *f, size_t nsrc)
{
	size_t want = 6 + 2 * nsrc;

	if (want <= f->argv_cap)
		return 0;
	free(f->argv);
	free(f->argvlen);
	free(f->idtext);
	f->argv = malloc(want * sizeof(*f->argv));
	f->argvlen = malloc(want * sizeof(*f->argvlen));
	f->idtext = malloc(nsrc * STREAM_ID_STRMAX);
	if (!f->argv || !f->argvlen || !f->idtext) {
		f->argv_cap = 0;
		return COHORT_E_NOMEM;
	}
	f->argv_cap = want;
	return 0;
}

static void xread_issue(struct feed *f)
{
	char count[16], block[16];
	size_t n, argc = 0;

	if (f->xread_inflight || f->held || f->stopping || f->reader.state != LINK_UP || !f->have_id)
		return;
	n = f->hooks.sources(f->hooks.arg, f->src, f->src_cap);
	if (n > f->src_cap) {
		struct feed_source *s = realloc(f->src, n * 2 * sizeof(*s));

		if (!s)
			goto nomem;
		f->src = s;
		f->src_cap = n * 2;
		n = f->hooks.sources(f->hooks.arg, f->src, f->src_cap);
	}
	stream_metrics.streams_followed = n;
	f->xread_gen = f->gen;
	if (n == 0)
		return; /* idle until a stream is followed */
	if (ensure_argv(f, n))
		goto nomem;
	snprintf(count, sizeof(count), "%d", XREAD_COUNT);
	snprintf(block, sizeof(block), "%d", f->block_ms);
	f->argv[argc++] = "XREAD";
	f->argv[argc++] = "COUNT";
	f->argv[argc++] = count;
	f->argv[argc++] = "BLOCK";
	f->argv[argc++] = block;
	f->argv[argc++] = "STREAMS";
	for (size_t i = 0; i < n; i++)
		f->argv[argc++] = f->src[i].key;
	for (size_t i = 0; i < n; i++) {
		char *t = f->idtext + i * STREAM_ID_STRMAX;

		stream_id_format(&f->src[i].after, t, STREAM_ID_STRMAX);
		f->argv[argc++] = t;
	}
	for (size_t i = 0; i < argc; i++)
		f->argvlen[i] = strlen(f->argv[i]);
	if (redisAsyncCommandArgv(f->reader.ac, on_xread, NULL, (int)argc, f->argv, f->argvlen) != REDIS_OK)
		return; /* the link is going down; the next connect re-issues */
	f->xread_inflight = true;
	f->xread_sent_us = clock_mono_us();
	stream_metrics.xread_calls++;
	return;
nomem:
	log_error("xread_nomem", LF_I("streams", n));
	uv_timer_start(&f->reader.timer, link_timer_cb, ERROR_PAUSE_MS, 0);
}

static void on_client_id(redisAsyncContext *ac, void *reply, void *priv)
{
	struct link *l = ac->data;
	struct feed *f = l->feed;
	const redisReply *r = reply;

	(void)priv;
	if (!r || f->stopping)
		return;
	if (r->type != REDIS_REPLY_INTEGER) {
		log_error("redis_bad_reply", LF_S("command", "CLIENT ID"));
		link_drop(l, "CLIENT ID failed");
		return;
	}
	f->reader_id = r->integer;
	f->have_id = true;
	stream_metrics.redis_up = 1;
	log_info("redis_reader_ready", LF_I("client_id", f->reader_id));
	xread_issue(f);
}

static void reader_up(struct link *l)
{
	redisAsyncCommand(l->ac, NULL, NULL, "CLIENT SETNAME cohort-stream-reader");
	redisAsyncCommand(l->ac, on_client_id, NULL, "CLIENT ID");
}

static void reader_down(struct link *l)
{
	struct feed *f = l->feed;

	f->have_id = false;
	f->xread_inflight = false;
	stream_metrics.redis_up = 0;
	uv_timer_stop(&l->timer);
}

/* ---- waking the reader ---- */

static void unblock_send(struct feed *f);

static void unblock_timer_cb(uv_timer_t *t)
{
	unblock_send(t->data);
}

static void unblock_done(struct feed *f, long long unblocked)
{
	f->unblock_pending = false;
	if (!f->xread_inflight || f->xread_gen == f->gen)
		return;
	/* Nothing was blocked: the XREAD had not reached Redis yet. */
	if (unblocked == 0 && f->unblock_retries++ < UNBLOCK_RETRIES)
		uv_timer_start(&f->unblock_timer, unblock_timer_cb, UNBLOCK_RETRY_MS, 0);
}

static struct feed_req *req_new(struct feed *f, enum req_kind kind, const char *key)
{
	size_t klen = key ? strlen(key) : 0;
	struct feed_req *q = calloc(1, sizeof(*q) + klen + 1);

	if (!q)
		return NULL;
	q->feed = f;
	q->kind = kind;
	if (key)
		memcpy(q->key, key, klen + 1);
	return q;
}

static void req_submit(struct feed *f, struct feed_req *q);

static void unblock_send(struct feed *f)
{
	struct feed_req *q;

	if (f->unblock_pending || f->stopping || !f->xread_inflight || !f->have_id || f->cmd.state != LINK_UP)
		return;
	q = req_new(f, REQ_UNBLOCK, NULL);
	if (!q)
		return; /* the XREAD ends at its BLOCK timeout anyway */
	q->after.ms = (uint64_t)f->reader_id; /* carries the client id */
	f->unblock_pending = true;
	req_submit(f, q);
}

void feed_sources_changed(struct feed *f)
{
	f->gen++;
	if (f->in_reply)
		return; /* the reply handler re-issues with the new set */
	if (!f->xread_inflight) {
		xread_issue(f);
		return;
	}
	f->unblock_retries = 0;
	unblock_send(f);
}

bool feed_reader_ready(const struct feed *f)
{
	return f && f->reader.state == LINK_UP && f->have_id;
}

/* ---- the command link ---- */

static void on_req_reply(redisAsyncContext *ac, void *reply, void *priv);

static void req_send(struct feed *f, struct feed_req *q)
{
	redisAsyncContext *ac = f->cmd.ac;
	char after[STREAM_ID_STRMAX];
	int rc = REDIS_ERR;

	switch (q->kind) {
	case REQ_LAST:
		rc = redisAsyncCommand(ac, on_req_reply, q, "XREVRANGE %s + - COUNT 1", q->key);
		break;
	case REQ_PAGE:
		stream_id_format(&q->after, after, sizeof(after));
		/* Atomic: the stream's history bounds and the page come from one instant. */
		rc = redisAsyncCommand(ac, NULL, NULL, "MULTI");
		if (rc == REDIS_OK)
			rc = redisAsyncCommand(ac, NULL, NULL, "XINFO STREAM %s", q->key);
		if (rc == REDIS_OK)
			rc = redisAsyncCommand(ac, NULL, NULL, "XRANGE %s (%s + COUNT %u", q->key, after, q->count);
		if (rc == REDIS_OK)
			rc = redisAsyncCommand(ac, on_req_reply, q, "EXEC");
		break;
	case REQ_UNBLOCK:
		rc = redisAsyncCommand(ac, on_req_reply, q, "CLIENT UNBLOCK %llu", (unsigned long long)q->after.ms);
		break;
	case REQ_EXISTS:
		rc = redisAsyncCommand(ac, on_req_reply, q, "EXISTS %s", q->key);
		break;
	case REQ_ARGV: {
		/* key[] holds count arguments, each a 4-byte length and its bytes. */
		const char *argv[FEED_ARGV_MAX];
		size_t lens[FEED_ARGV_MAX];
		const char *p = q->key;

		for (unsigned i = 0; i < q->count; i++) {
			uint32_t l;

			memcpy(&l, p, sizeof(l));
			argv[i] = p + sizeof(l);
			lens[i] = l;
			p += sizeof(l) + l;
		}
		rc = redisAsyncCommandArgv(ac, on_req_reply, q, (int)q->count, argv, lens);
		break;
	}
	}
	if (rc != REDIS_OK) {
		/* The context is shutting down; keep the request for the next link. */
		if (q->kind == REQ_UNBLOCK) {
			f->unblock_pending = false;
			free(q);
			return;
		}
		fifo_push(&f->waiting, q);
		return;
	}
	q->sent_us = clock_mono_us();
	fifo_push(&f->inflight, q);
}

static void req_submit(struct feed *f, struct feed_req *q)
{
	if (f->cmd.state == LINK_UP && !f->waiting.head)
		req_send(f, q);
	else
		fifo_push(&f->waiting, q);
}

static void parse_xinfo(const redisReply *r, struct feed_page *p)
{
	p->exists = r->type == REDIS_REPLY_ARRAY;
	if (!p->exists)
		return;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];

		if (k->type != REDIS_REPLY_STRING && k->type != REDIS_REPLY_STATUS)
			continue;
		if (!strcmp(k->str, "length") && v->type == REDIS_REPLY_INTEGER) {
			p->length = (uint64_t)v->integer;
		} else if (!strcmp(k->str, "entries-added") && v->type == REDIS_REPLY_INTEGER) {
			p->entries_added = (uint64_t)v->integer;
			p->have_added = true;
		} else if (!strcmp(k->str, "last-generated-id")) {
			parse_id_reply(v, &p->last_generated);
		} else if (!strcmp(k->str, "first-entry") && v->type == REDIS_REPLY_ARRAY && v->elements >= 1) {
			parse_id_reply(v->element[0], &p->first);
		}
	}
}

static void req_deliver(struct feed *f, struct feed_req *q, const redisReply *r)
{
	struct stream_id last = { 0, 0 };
	struct feed_page page;
	size_t n = 0;
	int err = 0;

	switch (q->kind) {
	case REQ_UNBLOCK:
		unblock_done(f, r->type == REDIS_REPLY_INTEGER ? r->integer : 0);
		return;
	case REQ_LAST:
		if (r->type != REDIS_REPLY_ARRAY)
			err = COHORT_E_REDIS;
		else if (r->elements > 0)
			err = r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements >= 1
				      ? parse_id_reply(r->element[0]->element[0], &last)
				      : COHORT_E_REDIS;
		if (err)
			log_error("redis_bad_reply", LF_S("command", "XREVRANGE"), LF_S("key", q->key),
				  LF_S("error", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply"));
		if (!q->cancelled)
			q->cb.last(q->arg, err, &last);
		return;
	case REQ_EXISTS:
		if (r->type != REDIS_REPLY_INTEGER) {
			err = COHORT_E_REDIS;
			log_error("redis_bad_reply", LF_S("command", "EXISTS"),
				  LF_S("error", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply"));
		}
		if (!q->cancelled)
			q->cb.exists(q->arg, err, !err && r->integer > 0);
		return;
	case REQ_ARGV:
		if (r->type == REDIS_REPLY_ERROR)
			log_error("redis_bad_reply", LF_S("command", "argv"), LF_S("error", r->str));
		if (!q->cancelled)
			q->cb.reply(q->arg, r->type == REDIS_REPLY_ERROR ? COHORT_E_REDIS : 0, r);
		return;
	case REQ_PAGE:
		memset(&page, 0, sizeof(page));
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    (r->element[0]->type != REDIS_REPLY_ARRAY && r->element[0]->type != REDIS_REPLY_ERROR)) {
			err = COHORT_E_REDIS;
		} else {
			parse_xinfo(r->element[0], &page);
			err = parse_entries(f, r->element[1], &n);
		}
		if (err)
			log_error("redis_bad_reply", LF_S("command", "XINFO/XRANGE"), LF_S("key", q->key),
				  LF_S("error", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply"));
		page.ents = f->ents;
		page.n = n;
		if (!q->cancelled)
			q->cb.page(q->arg, err, &page);
		return;
	}
}

/* Errors that say "not now" rather than "never". */
static bool transient_error(const char *msg)
{
	static const char *const prefixes[] = { "LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(msg, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static void on_req_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct feed_req *q = priv;
	struct feed *f = q->feed;
	const redisReply *r = reply;

	(void)ac;
	if (fifo_pop(&f->inflight) != q)
		BUG("Redis replies out of order");
	if (!r) {
		if (q->kind == REQ_UNBLOCK)
			f->unblock_pending = false;
		if (f->stopping || q->cancelled || q->kind == REQ_UNBLOCK)
			free(q);
		else
			fifo_push(&f->waiting, q); /* sent again once the link is back */
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		stream_metrics.redis_errors++;
		if (transient_error(r->str) && q->kind != REQ_UNBLOCK && !q->cancelled) {
			/* Redis is still loading (or similar): try again on a new
			 * connection. q goes first, the requests behind it follow
			 * it into the waiting FIFO as the old context goes away. */
			fifo_push(&f->waiting, q);
			link_drop(&f->cmd, r->str);
			return;
		}
	}
	req_deliver(f, q, r);
	free(q);
}

static void cmd_up(struct link *l)
{
	struct feed *f = l->feed;
	struct req_fifo todo = f->waiting;

	redisAsyncCommand(l->ac, NULL, NULL, "CLIENT SETNAME cohort-stream-command");
	f->waiting.head = f->waiting.tail = NULL;
	for (struct feed_req *q = fifo_pop(&todo); q; q = fifo_pop(&todo)) {
		if (q->cancelled) {
			free(q);
			continue;
		}
		req_send(f, q);
	}
	/* A change may have happened while we could not wake the reader. */
	if (f->xread_inflight && f->xread_gen != f->gen)
		unblock_send(f);
}

static void cmd_down(struct link *l)
{
	(void)l;
}

struct feed_req *feed_last_id(struct feed *f, const char *key, feed_last_fn *cb, void *arg)
{
	struct feed_req *q = req_new(f, REQ_LAST, key);

	if (!q)
		return NULL;
	q->cb.last = cb;
	q->arg = arg;
	req_submit(f, q);
	return q;
}

struct feed_req *feed_page(struct feed *f, const char *key, const struct stream_id *after,
			   unsigned count, feed_page_fn *cb, void *arg)
{
	struct feed_req *q = req_new(f, REQ_PAGE, key);

	if (!q)
		return NULL;
	q->cb.page = cb;
	q->arg = arg;
	q->after = *after;
	q->count = count;
	req_submit(f, q);
	return q;
}

struct feed_req *feed_exists(struct feed *f, const char *key, feed_exists_fn *cb, void *arg)
{
	struct feed_req *q = req_new(f, REQ_EXISTS, key);

	if (!q)
		return NULL;
	q->cb.exists = cb;
	q->arg = arg;
	req_submit(f, q);
	return q;
}

struct feed_req *feed_command(struct feed *f, int argc, const char *const *argv, const size_t *lens,
			      feed_reply_fn *cb, void *arg)
{
	struct feed_req *q;
	size_t total = 0;
	char *p;

	if (argc <= 0 || argc > FEED_ARGV_MAX || f->stopping)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (lens[i] > UINT32_MAX)
			return NULL;
		total += sizeof(uint32_t) + lens[i];
	}
	q = calloc(1, sizeof(*q) + total + 1);
	if (!q)
		return NULL;
	q->feed = f;
	q->kind = REQ_ARGV;
	q->count = (unsigned)argc;
	p = q->key;
	for (int i = 0; i < argc; i++) {
		uint32_t l = (uint32_t)lens[i];

		memcpy(p, &l, sizeof(l));
		memcpy(p + sizeof(l), argv[i], lens[i]);
		p += sizeof(l) + lens[i];
	}
	q->cb.reply = cb;
	q->arg = arg;
	req_submit(f, q);
	return q;
}

void feed_cancel(struct feed_req *req)
{
	if (req)
		req->cancelled = true;
}

/* ---- timers ---- */

static void link_timer_cb(uv_timer_t *t)
{
	struct link *l = t->data;

	if (l == &l->feed->reader)
		reader_pause_or_connect(l->feed);
	else
		link_connect(l);
}

static void watchdog_cb(uv_timer_t *t)
{
	struct feed *f = t->data;
	int64_t now = clock_mono_us(), limit = (int64_t)f->timeout_ms * 1000;
	struct link *links[2] = { &f->reader, &f->cmd };

	for (int i = 0; i < 2; i++)
		if (links[i]->state == LINK_CONNECTING && now - links[i]->since_us > limit)
			link_drop(links[i], "connect timed out");
	if (f->reader.state == LINK_UP && f->xread_inflight &&
	    now - f->xread_sent_us > limit + (int64_t)f->block_ms * 1000)
		link_drop(&f->reader, "XREAD reply overdue");
	if (f->cmd.state == LINK_UP && f->inflight.head && now - f->inflight.head->sent_us > limit)
		link_drop(&f->cmd, "command reply overdue");
}

/* ---- lifecycle ---- */

static void link_init(struct feed *f, struct link *l, const char *name, void (*up)(struct link *),
		      void (*down)(struct link *))
{
	l->feed = f;
	l->name = name;
	l->on_up = up;
	l->on_down = down;
	uv_timer_init(f->loop, &l->timer);
	l->timer.data = l;
	f->open_handles++;
}

int feed_new(struct feed **out, struct uv_loop_s *loop, const struct cohort_config *cfg,
	     const struct feed_hooks *hooks, int block_ms)
{
	struct feed *f = calloc(1, sizeof(*f));
	unsigned char addr[sizeof(struct in6_addr)];

	*out = NULL;
	if (!f)
		return COHORT_E_NOMEM;
	f->loop = loop;
	f->hooks = *hooks;
	f->host = strdup(cfg->redis_host ? cfg->redis_host : "127.0.0.1");
	f->socket = strdup(cfg->redis_socket ? cfg->redis_socket : "");
	if (!f->host || !f->socket) {
		free(f->host);
		free(f->socket);
		free(f);
		return COHORT_E_NOMEM;
	}
	f->port = cfg->redis_port;
	f->timeout_ms = cfg->redis_timeout_ms;
	f->block_ms = block_ms;
	f->numeric_host = inet_pton(AF_INET, f->host, addr) == 1 || inet_pton(AF_INET6, f->host, addr) == 1;
	link_init(f, &f->reader, "reader", reader_up, reader_down);
	link_init(f, &f->cmd, "command", cmd_up, cmd_down);
	uv_timer_init(loop, &f->watchdog);
	f->watchdog.data = f;
	f->open_handles++;
	uv_timer_init(loop, &f->unblock_timer);
	f->unblock_timer.data = f;
	f->open_handles++;
	uv_timer_start(&f->watchdog, watchdog_cb, WATCHDOG_MS, WATCHDOG_MS);
	link_connect(&f->cmd);
	link_connect(&f->reader);
	*out = f;
	return 0;
}

static void on_handle_closed(uv_handle_t *h)
{
	struct feed *f = h->data;

	if (--f->open_handles == 0)
		free(f);
}

void feed_free(struct feed *f)
{
	struct link *links[2];

	if (!f)
		return;
	links[0] = &f->reader;
	links[1] = &f->cmd;
	f->stopping = true;
	for (int i = 0; i < 2; i++) {
		struct link *l = links[i];
		redisAsyncContext *ac = l->ac;

		l->ac = NULL;
		if (ac)
			redisAsyncFree(ac); /* runs pending callbacks with NULL replies */
		l->state = LINK_IDLE;
		if (l->gai_busy)
			uv_cancel((uv_req_t *)&l->gai); /* on_resolved releases its count */
	}
	while (f->waiting.head)
		free(fifo_pop(&f->waiting));
	while (f->inflight.head)
		free(fifo_pop(&f->inflight));
	free(f->src);
	free(f->argv);
	free(f->argvlen);
	free(f->idtext);
	free(f->ents);
	free(f->host);
	free(f->socket);
	f->src = NULL;
	f->argv = NULL;
	f->argvlen = NULL;
	f->idtext = NULL;
	f->ents = NULL;
	f->host = f->socket = NULL;
	/* Every handle's data points at the feed from here on (for on_handle_closed). */
	f->reader.timer.data = f->cmd.timer.data = f;
	uv_close((uv_handle_t *)&f->reader.timer, on_handle_closed);
	uv_close((uv_handle_t *)&f->cmd.timer, on_handle_closed);
	uv_close((uv_handle_t *)&f->watchdog, on_handle_closed);
	uv_close((uv_handle_t *)&f->unblock_timer, on_handle_closed);
}
