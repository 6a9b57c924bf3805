/*
 * hub.h — the streams this process follows, and the fan-out.
 *
 * Every Redis stream that at least one connection follows has one
 * hub_stream, which keeps the process position (the newest entry the reader
 * has read) and the list of its followers. The reader (feed.c) reads each
 * stream once for the whole process; every entry is finalized once into an
 * evbuf and offered to each follower's filter.
 *
 * Fan-out is paced: at most `budget` bytes of events are offered per loop
 * iteration, and the reader waits until a reply is fully offered, so that
 * connections get to write between steps and a burst read in one XREAD does
 * not count against a healthy client's queue all at once.
 */
#ifndef COHORT_STREAM_HUB_H
#define COHORT_STREAM_HUB_H

#include "core/streamid.h"
#include "stream/outq.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct feed;
struct feed_entry;
struct uv_loop_s;
struct feed_source;
struct follow;
struct sub_target;

struct hub;

struct hub_stream {
	struct hub *hub;
	struct hub_stream *chain;  /* hash bucket chain */
	struct follow *followers;  /* doubly linked through follow.prev/next */
	uint32_t nfollowers;
	bool ready;                /* pos is known and the reader reads the stream */
	struct stream_id pos;      /* newest entry the reader has read */
	struct feed_req *init;     /* the last-id request in flight */
	struct outq backlog;       /* read but not yet offered to the followers */
	struct hub_stream *bprev, *bnext; /* the hub's list of streams with a backlog */
	bool queued;               /* on that list */
	char *scope;               /* canonical scope name */
	char key[];                /* Redis stream key */
};

struct hub_limits {
	unsigned catchup_batch; /* entries per catch-up page */
	size_t queue_max;       /* per-connection queue bound, bytes */
};

int hub_new(struct hub **out, const struct hub_limits *lim, struct uv_loop_s *loop);
/* Closes the hub's loop handle (shutdown); hub_free after the loop ended. */
void hub_close(struct hub *h);
/* The feed is created after the hub (its hooks point here). */
void hub_set_feed(struct hub *h, struct feed *feed);
struct feed *hub_feed(const struct hub *h);
const struct hub_limits *hub_limits(const struct hub *h);
/* Frees the table; every follower must have left. NULL is fine. */
void hub_free(struct hub *h);

/* Adds f to the stream of t (creating it and asking Redis for its last id
 * when it is new). NULL on allocation failure. */
struct hub_stream *hub_attach(struct hub *h, const struct sub_target *t, struct follow *f);
/* Removes f; the stream goes away with its last follower. */
void hub_detach(struct follow *f);

/* feed_hooks for the reader. */
size_t hub_sources(void *arg, struct feed_source *out, size_t max);
void hub_entries(void *arg, const char *key, size_t keylen, const struct feed_entry *ents, size_t n);
bool hub_batch_done(void *arg);

/* Number of streams in the table (tests, metrics). */
size_t hub_count(const struct hub *h);

#endif
