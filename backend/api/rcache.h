/*
 * rcache.h — a process-wide cache of Redis reads that Redis itself keeps
 * fresh (client-side caching with key tracking), so that a hot file read or
 * the signed-out check of a token costs no Redis round trip.
 *
 * One connection per process subscribes to Redis's invalidation channel; a
 * read that may be cached goes out with CLIENT CACHING yes on the worker's
 * own connection (rconn_cmd_tracked, redirecting its invalidations there).
 * When any client changes, deletes or expires a key such a read touched,
 * Redis sends its name; the entries of its group (the project of a
 * "{p:<id>}:…" key, or all signed-out answers for an "auth:revoked:…" key)
 * are dropped. Every lookup and every store first reads whatever
 * invalidations have arrived (a non-blocking read), so an answer is served
 * only if no invalidation for it was sent before the lookup began.
 *
 * Without the invalidation connection (Redis down, a broken connection, a
 * FLUSHALL) everything is dropped and nothing is served or stored until it
 * is back. A read races its own invalidation when the key changes between
 * Redis answering and the answer being stored; a ticket taken before the
 * read (rcache_begin) refuses such a store (docs/files.md, "Read cache").
 *
 * Bounded by api.read_cache bytes (keys, values and bookkeeping), least
 * recently used out first; one value is at most an eighth of that. 0 turns
 * the cache off. Thread-safe: one mutex, values are copied under it.
 */
#ifndef COHORT_API_RCACHE_H
#define COHORT_API_RCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cohort_config;
struct strbuf;

/* The group of the signed-out answers; projects are groups by their id. */
#define RCACHE_GROUP_REVOKED (-1)

struct rcache_ticket {
	uint64_t seq;         /* invalidations seen when the read began */
	uint64_t incarnation; /* of the invalidation connection */
	long long redirect;   /* its Redis client id, for CLIENT TRACKING */
};

struct rcache_stats {
	bool enabled, connected;
	uint64_t hits, misses, stores, refused; /* refused: a store raced an invalidation */
	uint64_t invalidations, flushes, evictions;
	size_t entries, bytes, budget;
};

/* Reads api.read_cache; the invalidation connection is made on first use. */
void rcache_init(const struct cohort_config *cfg);
void rcache_shutdown(void);

/* A new request on this thread: its first lookup reads the invalidations
 * that have arrived, later lookups of the same request need not (what
 * arrives meanwhile was sent after the request began). Threads that never
 * call it read them before every lookup. */
void rcache_request_start(void);
/* Copies the value cached under key into *val (appended; may be NULL when
 * the value is empty) and its meta (exactly meta_len bytes): true on a hit. */
bool rcache_get(const void *key, size_t klen, struct strbuf *val, void *meta, size_t meta_len);
/* Before the Redis read of a miss: false when nothing could be stored now
 * (the cache is off or has no invalidation connection); then read without
 * tracking. */
bool rcache_begin(struct rcache_ticket *t);
/* After a read that Redis tracked (rconn_cmd_tracked said so): keeps value
 * and meta under key in group, unless an invalidation of the group arrived
 * since t was taken, or the connection changed. */
void rcache_put(const struct rcache_ticket *t, int64_t group, const void *key, size_t klen, const void *val,
		size_t vlen, const void *meta, size_t meta_len);
/* Drops a group now: a write made by this process, whose invalidation
 * would otherwise arrive only through Redis. */
void rcache_invalidate(int64_t group);
void rcache_get_stats(struct rcache_stats *out);

#endif
