/*
 * feed.h — cohort-stream's side of Redis: two asynchronous hiredis
 * connections on the event loop (libuv adapter).
 *
 *  - The reader runs one `XREAD BLOCK` over every stream the process
 *    follows, each from the process position the hub keeps, and hands every
 *    batch of entries to the hub. One reader per process, never per client.
 *  - The command connection does everything else: the last id of a stream
 *    the hub starts to follow, catch-up pages for resuming connections, and
 *    `CLIENT UNBLOCK <reader id>` to wake the reader when the set of streams
 *    changes so that it re-issues XREAD with the new set.
 *
 * Both reconnect with capped exponential backoff and a watchdog drops a
 * connection whose reply is overdue. Requests in flight when the command
 * connection drops are sent again, in their original order, once it is back:
 * a caller's callback runs exactly once per request unless it cancelled it.
 * Nothing here blocks: host names are resolved with uv_getaddrinfo.
 */
#ifndef COHORT_STREAM_FEED_H
#define COHORT_STREAM_FEED_H

#include "core/streamid.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct feed;
struct feed_req;
struct redisReply;
struct uv_loop_s;
struct cohort_config;

/* One stream entry; e points into the Redis reply (valid during the callback). */
struct feed_entry {
	struct stream_id id;
	const char *e;  /* the stored envelope (field "e"), or NULL when absent */
	size_t elen;
};

/* One catch-up step, read atomically (MULTI: XINFO STREAM + XRANGE). */
struct feed_page {
	bool exists;                    /* false: the key does not exist */
	bool have_added;                /* entries_added is known (Redis >= 7.0) */
	uint64_t length;                /* entries retained */
	uint64_t entries_added;         /* entries ever added */
	struct stream_id first;         /* first retained entry (when length > 0) */
	struct stream_id last_generated;
	const struct feed_entry *ents;  /* the entries after the requested id */
	size_t n;
};

/* A stream the reader should follow, read after `after`. */
struct feed_source {
	const char *key;
	struct stream_id after;
};

struct feed_hooks {
	void *arg;
	/* Fills out[0..max) and returns how many sources there are in total. */
	size_t (*sources)(void *arg, struct feed_source *out, size_t max);
	/* Entries the reader got for key, oldest first. */
	void (*entries)(void *arg, const char *key, size_t keylen, const struct feed_entry *ents, size_t n);
	/* The whole reply was handed over. Returning true holds the reader (no
	 * new XREAD) until feed_reader_release(). */
	bool (*batch_done)(void *arg);
};

typedef void feed_last_fn(void *arg, int err, const struct stream_id *last);
typedef void feed_page_fn(void *arg, int err, const struct feed_page *page);
typedef void feed_exists_fn(void *arg, int err, bool exists);
/* r is the reply (valid during the callback); err is COHORT_E_REDIS for an
 * error reply (r then holds it). */
typedef void feed_reply_fn(void *arg, int err, const struct redisReply *r);

/* Starts connecting at once. block_ms is the XREAD BLOCK time. */
int feed_new(struct feed **out, struct uv_loop_s *loop, const struct cohort_config *cfg,
	     const struct feed_hooks *hooks, int block_ms);
/* Closes both connections; no callback runs afterwards. Handles close on
 * the loop, so run it once more before closing the loop. NULL is fine. */
void feed_free(struct feed *f);

/* The reader is connected and has its client id (health). */
bool feed_reader_ready(const struct feed *f);

/* The set of sources changed (a stream was added, became ready or removed). */
void feed_sources_changed(struct feed *f);
/* Ends a hold asked for by batch_done: the reader reads again. */
void feed_reader_release(struct feed *f);

/* Last entry id of key (0-0 for an empty or missing stream). */
struct feed_req *feed_last_id(struct feed *f, const char *key, feed_last_fn *cb, void *arg);
/* Up to count entries of key after `after`, with the stream's XINFO. */
struct feed_req *feed_page(struct feed *f, const char *key, const struct stream_id *after,
			   unsigned count, feed_page_fn *cb, void *arg);
/* Whether key exists (EXISTS; the key is logged on errors only by command). */
struct feed_req *feed_exists(struct feed *f, const char *key, feed_exists_fn *cb, void *arg);
/* Any command (at most FEED_ARGV_MAX arguments, copied) on the command
 * connection: presence scripts and the like. Like every request it is sent
 * again after a reconnect, so it must be safe to run twice. NULL when
 * stopping or out of memory. */
#define FEED_ARGV_MAX 32
struct feed_req *feed_command(struct feed *f, int argc, const char *const *argv, const size_t *lens,
			      feed_reply_fn *cb, void *arg);
/* The request's callback will not run. NULL is fine. */
void feed_cancel(struct feed_req *req);

#endif
