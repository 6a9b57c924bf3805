/*
 * rcache.c — see rcache.h.
 *
 * Entries live in one hash table (chained, sized for the budget), on one
 * LRU list, and on the list of their group, so an invalidation drops a
 * project's entries without a scan. The race between a read and an
 * invalidation of what it read is settled with a counter: every group
 * invalidation takes the next sequence number and is remembered in a ring
 * of the last RING ones; a store whose ticket is older than an
 * invalidation of its group still in the ring, older than the last
 * flush, or older than the whole ring, is refused.
 */
#include "api/rcache.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/kv.h"
#include "core/log.h"
#include "core/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define RING 256
#define GROUP_BUCKETS 1024
#define RECONNECT_US (1000 * 1000)
#define INVALIDATE_CHANNEL "__redis__:invalidate"

struct entry {
	struct entry *hnext;         /* hash chain */
	struct entry *lprev, *lnext; /* LRU list, most recent first */
	struct entry *gprev, *gnext; /* the group's list */
	struct group *group;
	uint64_t hash;
	size_t klen, vlen, mlen, size;
	unsigned char data[]; /* key, value, meta */
};

struct group {
	struct group *next;
	int64_t id;
	struct entry *head;
};

static struct {
	pthread_mutex_t lock;
	bool enabled;
	size_t budget, max_value;
	struct entry **buckets;
	size_t nbuckets;
	struct group *groups[GROUP_BUCKETS];
	struct entry *lru_head, *lru_tail;
	size_t entries, bytes;

	uint64_t seq, flush_seq;
	struct {
		uint64_t seq;
		int64_t group;
	} ring[RING];

	/* The invalidation connection. */
	char *host, *socket;
	int port, timeout_ms;
	redisContext *ctx;
	long long client_id;
	uint64_t incarnation;
	bool connecting;
	int64_t next_try_us;

	struct rcache_stats st;
} rc = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Requests of this thread (rcache_request_start) and the last one whose
 * lookups read the invalidations that had arrived. */
static __thread bool tl_in_request;
static __thread uint64_t tl_request, tl_drained;

void rcache_request_start(void)
{
	tl_in_request = true;
	tl_request++;
}

static uint64_t hash_bytes(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static size_t group_bucket(int64_t id)
{
	return (size_t)(((uint64_t)id * 11400714819323198485ULL) >> 54) % GROUP_BUCKETS;
}

static struct group *group_find(int64_t id)
{
	struct group *g = rc.groups[group_bucket(id)];

	while (g && g->id != id)
		g = g->next;
	return g;
}

static struct group *group_get_locked(int64_t id)
{
	struct group *g = group_find(id);
	size_t b = group_bucket(id);

	if (g || !(g = calloc(1, sizeof(*g))))
		return g;
	g->id = id;
	g->next = rc.groups[b];
	rc.groups[b] = g;
	return g;
}

/* Called with the lock held. */
static void unlink_entry(struct entry *e)
{
	struct entry **pp = &rc.buckets[e->hash & (rc.nbuckets - 1)];
	struct group *g = e->group;

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else
		rc.lru_head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else
		rc.lru_tail = e->lprev;
	if (e->gprev)
		e->gprev->gnext = e->gnext;
	else
		g->head = e->gnext;
	if (e->gnext)
		e->gnext->gprev = e->gprev;
	if (!g->head) {
		struct group **gp = &rc.groups[group_bucket(g->id)];

		while (*gp != g)
			gp = &(*gp)->next;
		*gp = g->next;
		free(g);
	}
	rc.entries--;
	rc.bytes -= e->size;
	free(e);
}

static void flush_locked(void)
{
	while (rc.lru_head)
		unlink_entry(rc.lru_head);
	rc.flush_seq = ++rc.seq;
	rc.st.flushes++;
}

static void invalidate_locked(int64_t id)
{
	struct group *g;

	rc.seq++;
	rc.ring[rc.seq % RING].seq = rc.seq;
	rc.ring[rc.seq % RING].group = id;
	rc.st.invalidations++;
	while ((g = group_find(id)))
		unlink_entry(g->head); /* frees g with its last entry */
}

static void disconnect_locked(const char *why)
{
	if (!rc.ctx)
		return;
	log_warn("read_cache_disconnected", LF_S("reason", why));
	redisFree(rc.ctx);
	rc.ctx = NULL;
	rc.client_id = 0;
	rc.incarnation++;
	flush_locked();
}

/* One key named by an invalidation message. */
static void invalidate_key(const char *k, size_t len)
{
	int64_t project = kv_project_of(k, len);

	if (project > 0)
		invalidate_locked(project);
	else if (kv_is_revoked_token(k, len))
		invalidate_locked(RCACHE_GROUP_REVOKED);
	/* Any other key holds nothing this cache keeps. */
}

/* A pub/sub message: ["message", channel, payload]; the payload is an
 * array of key names, or nil when Redis dropped everything (FLUSHALL,
 * FLUSHDB, or a key table too full to track). */
static void handle_message(const redisReply *r)
{
	const redisReply *p;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(r->element[0]->str, "message"))
		return; /* the subscribe confirmation */
	p = r->element[2];
	if (p->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < p->elements; i++)
			if (p->element[i]->type == REDIS_REPLY_STRING)
				invalidate_key(p->element[i]->str, p->element[i]->len);
	} else {
		flush_locked();
	}
}

/* Reads every invalidation that has arrived, without waiting. */
static void drain_locked(void)
{
	char buf[16384];
	void *r;

	while (rc.ctx) {
		ssize_t n = recv(rc.ctx->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			disconnect_locked(n == 0 ? "closed by Redis" : strerror(errno));
			return;
		}
		if (redisReaderFeed(rc.ctx->reader, buf, (size_t)n) != REDIS_OK) {
			disconnect_locked("unreadable reply");
			return;
		}
		for (;;) {
			r = NULL;
			if (redisReaderGetReply(rc.ctx->reader, &r) != REDIS_OK) {
				disconnect_locked("unreadable reply");
				return;
			}
			if (!r)
				break;
			handle_message(r);
			freeReplyObject(r);
		}
	}
}

/* Connects and subscribes outside the lock (a connect may take up to
 * redis.timeout_ms); one thread at a time, at most once a second. */
static void maybe_connect(void)
{
	struct timeval tv;
	redisContext *ctx;
	redisReply *r;
	long long id = 0;
	int64_t now = clock_mono_us();
	int fl;

	pthread_mutex_lock(&rc.lock);
	if (rc.ctx || rc.connecting || now < rc.next_try_us) {
		pthread_mutex_unlock(&rc.lock);
		return;
	}
	rc.connecting = true;
	rc.next_try_us = now + RECONNECT_US;
	pthread_mutex_unlock(&rc.lock);

	tv.tv_sec = rc.timeout_ms / 1000;
	tv.tv_usec = (rc.timeout_ms % 1000) * 1000;
	if (rc.socket[0])
		ctx = redisConnectUnixWithTimeout(rc.socket, tv);
	else
		ctx = redisConnectWithTimeout(rc.host, rc.port, tv);
	if (ctx && !ctx->err && redisSetTimeout(ctx, tv) == REDIS_OK) {
		r = redisCommand(ctx, "CLIENT ID");
		if (r && r->type == REDIS_REPLY_INTEGER)
			id = r->integer;
		if (r)
			freeReplyObject(r);
		r = id > 0 ? redisCommand(ctx, "SUBSCRIBE %s", INVALIDATE_CHANNEL) : NULL;
		if (!r || r->type != REDIS_REPLY_ARRAY)
			id = 0;
		if (r)
			freeReplyObject(r);
	}
	fl = id > 0 ? fcntl(ctx->fd, F_GETFL) : -1;
	if (fl < 0 || fcntl(ctx->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		id = 0;
	if (id <= 0) {
		log_warn("read_cache_connect_failed", LF_S("error", ctx && ctx->err ? ctx->errstr : "no CLIENT ID or SUBSCRIBE"));
		if (ctx)
			redisFree(ctx);
		ctx = NULL;
	}
	pthread_mutex_lock(&rc.lock);
	rc.connecting = false;
	if (ctx) {
		flush_locked();
		rc.ctx = ctx;
		rc.client_id = id;
		rc.incarnation++;
	}
	pthread_mutex_unlock(&rc.lock);
}

void rcache_init(const struct cohort_config *cfg)
{
	size_t want;

	pthread_mutex_lock(&rc.lock);
	rc.budget = cfg->api_read_cache > 0 ? (size_t)cfg->api_read_cache : 0;
	rc.max_value = rc.budget / 8;
	rc.host = strdup(cfg->redis_host);
	rc.socket = strdup(cfg->redis_socket ? cfg->redis_socket : "");
	rc.port = cfg->redis_port;
	rc.timeout_ms = cfg->redis_timeout_ms;
	want = rc.budget / 4096;
	for (rc.nbuckets = 1024; rc.nbuckets < want && rc.nbuckets < ((size_t)1 << 20);)
		rc.nbuckets <<= 1;
	rc.buckets = rc.budget ? calloc(rc.nbuckets, sizeof(*rc.buckets)) : NULL;
	rc.enabled = rc.buckets && rc.host && rc.socket;
	pthread_mutex_unlock(&rc.lock);
	if (rc.budget && !rc.enabled)
		log_warn("read_cache_off", LF_S("reason", "cannot allocate"));
}

void rcache_shutdown(void)
{
	pthread_mutex_lock(&rc.lock);
	if (rc.ctx)
		redisFree(rc.ctx);
	rc.ctx = NULL;
	if (rc.buckets)
		flush_locked();
	free(rc.buckets);
	free(rc.host);
	free(rc.socket);
	rc.buckets = NULL;
	rc.host = rc.socket = NULL;
	rc.enabled = false;
	pthread_mutex_unlock(&rc.lock);
}

static struct entry *find_locked(const void *key, size_t klen, uint64_t h)
{
	struct entry *e = rc.buckets[h & (rc.nbuckets - 1)];

	while (e && (e->hash != h || e->klen != klen || memcmp(e->data, key, klen)))
		e = e->hnext;
	return e;
}

bool rcache_get(const void *key, size_t klen, struct strbuf *val, void *meta, size_t meta_len)
{
	uint64_t h = hash_bytes(key, klen);
	struct entry *e;
	bool hit = false;

	if (!rc.enabled)
		return false;
	pthread_mutex_lock(&rc.lock);
	if (!tl_in_request || tl_drained != tl_request) {
		drain_locked();
		tl_drained = tl_request;
	}
	e = rc.ctx ? find_locked(key, klen, h) : NULL;
	if (e && e->mlen == meta_len && (e->vlen == 0 || val)) {
		hit = !val || strbuf_add(val, e->data + e->klen, e->vlen) == 0;
		if (hit && meta_len)
			memcpy(meta, e->data + e->klen + e->vlen, meta_len);
		if (hit && e != rc.lru_head) {
			/* Most recently used first. */
			e->lprev->lnext = e->lnext;
			if (e->lnext)
				e->lnext->lprev = e->lprev;
			else
				rc.lru_tail = e->lprev;
			e->lprev = NULL;
			e->lnext = rc.lru_head;
			rc.lru_head->lprev = e;
			rc.lru_head = e;
		}
	}
	if (hit)
		rc.st.hits++;
	else
		rc.st.misses++;
	pthread_mutex_unlock(&rc.lock);
	return hit;
}

bool rcache_begin(struct rcache_ticket *t)
{
	bool ok;

	memset(t, 0, sizeof(*t));
	if (!rc.enabled)
		return false;
	maybe_connect();
	pthread_mutex_lock(&rc.lock);
	drain_locked();
	ok = rc.ctx != NULL;
	if (ok) {
		t->seq = rc.seq;
		t->incarnation = rc.incarnation;
		t->redirect = rc.client_id;
	}
	pthread_mutex_unlock(&rc.lock);
	return ok;
}

/* Whether a read that began at t may be stored in group now. */
static bool still_valid_locked(const struct rcache_ticket *t, int64_t group)
{
	if (!rc.ctx || t->incarnation != rc.incarnation || rc.flush_seq > t->seq || rc.seq - t->seq >= RING)
		return false;
	for (uint64_t s = t->seq + 1; s <= rc.seq; s++)
		if (rc.ring[s % RING].group == group)
			return false;
	return true;
}

void rcache_put(const struct rcache_ticket *t, int64_t group, const void *key, size_t klen, const void *val,
		size_t vlen, const void *meta, size_t meta_len)
{
	size_t size = sizeof(struct entry) + klen + vlen + meta_len;
	uint64_t h = hash_bytes(key, klen);
	struct entry *e, *old;
	struct group *g;

	if (!rc.enabled || !t->redirect || vlen > rc.max_value || size > rc.budget)
		return;
	e = malloc(size);
	if (!e)
		return;
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->klen = klen;
	e->vlen = vlen;
	e->mlen = meta_len;
	e->size = size;
	memcpy(e->data, key, klen);
	if (vlen)
		memcpy(e->data + klen, val, vlen);
	if (meta_len)
		memcpy(e->data + klen + vlen, meta, meta_len);

	pthread_mutex_lock(&rc.lock);
	drain_locked();
	if (!still_valid_locked(t, group)) {
		rc.st.refused++;
		pthread_mutex_unlock(&rc.lock);
		free(e);
		return;
	}
	if ((old = find_locked(key, klen, h)))
		unlink_entry(old);
	if (!(g = group_get_locked(group))) {
		pthread_mutex_unlock(&rc.lock);
		free(e);
		return;
	}
	e->group = g;
	e->gnext = g->head;
	if (g->head)
		g->head->gprev = e;
	g->head = e;
	e->hnext = rc.buckets[h & (rc.nbuckets - 1)];
	rc.buckets[h & (rc.nbuckets - 1)] = e;
	e->lnext = rc.lru_head;
	if (rc.lru_head)
		rc.lru_head->lprev = e;
	else
		rc.lru_tail = e;
	rc.lru_head = e;
	rc.entries++;
	rc.bytes += size;
	rc.st.stores++;
	while (rc.bytes > rc.budget && rc.lru_tail && rc.lru_tail != e) {
		unlink_entry(rc.lru_tail);
		rc.st.evictions++;
	}
	pthread_mutex_unlock(&rc.lock);
}

void rcache_invalidate(int64_t group)
{
	if (!rc.enabled)
		return;
	pthread_mutex_lock(&rc.lock);
	invalidate_locked(group);
	pthread_mutex_unlock(&rc.lock);
}

void rcache_get_stats(struct rcache_stats *out)
{
	pthread_mutex_lock(&rc.lock);
	*out = rc.st;
	out->enabled = rc.enabled;
	out->connected = rc.ctx != NULL;
	out->entries = rc.entries;
	out->bytes = rc.bytes;
	out->budget = rc.budget;
	pthread_mutex_unlock(&rc.lock);
}
