/*
 * follow.h — one stream followed by one connection: its two positions, its
 * state, and the delivery filter.
 *
 * The filter is the single guarantee of "exactly once, in order": an event
 * reaches the connection's queue only if its id is greater than `pos`, the
 * newest id already queued for that stream, and queuing it moves `pos` to
 * it. Live events (from the process-wide reader), catch-up pages and events
 * held back during a catch-up all pass through it, so overlaps between them
 * are harmless and gaps are impossible as long as every event reaches the
 * filter once from some source (see hub.c for why it does).
 *
 * `wpos` trails `pos`: it is the newest id actually written to the client and
 * is what the positions (SSE `id:`, WebSocket "pos") report.
 */
#ifndef COHORT_STREAM_FOLLOW_H
#define COHORT_STREAM_FOLLOW_H

#include "core/streamid.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct evbuf;
struct feed_page;
struct feed_req;
struct hub;
struct hub_stream;
struct outq;
struct strbuf;
struct sub_request;
struct sub_target;

enum follow_state {
	FOLLOW_WAIT,    /* no resume position: starts where the reader is, once the hub knows */
	FOLLOW_CATCHUP, /* reading history after pos page by page; live events are held */
	FOLLOW_LIVE,    /* every live event goes through the filter to the queue */
};

struct follow {
	struct conn *conn;
	struct hub_stream *hs;
	const char *scope;          /* canonical scope name, owned by hs */
	struct follow *prev, *next; /* hs's subscriber list */
	struct feed_req *req;       /* catch-up page in flight, or NULL */
	struct outq *pending;       /* live events held during catch-up, or NULL */
	struct stream_id pos;       /* newest id queued: the delivery filter */
	struct stream_id wpos;      /* newest id written: what positions report */
	uint16_t idx;               /* index in the connection's list */
	uint8_t state;
	bool more;                  /* catch-up: another page is wanted */
};

/* The filter: true (and pos = id) when id is new for this follow. */
bool follow_accept(struct follow *f, const struct stream_id *id);

/* Maps a resume position ("scope=ms-seq,...") onto the requested streams:
 * start[i]/has[i] for the i-th target. Scopes in text that were not requested
 * are ignored. COHORT_E_BADID when text is malformed. */
int follow_resume_parse(const char *text, size_t len, const struct sub_request *req,
			struct stream_id *start, bool *has);

/* Appends the composite position "scope=ms-seq,..." of the written ids. */
int follow_format(struct strbuf *out, const struct follow *fs, size_t n);

/* Whether the page shows that entries after `after` may have been trimmed
 * away. Conservative: see docs/protocol.md ("reset"). */
bool follow_history_lost(const struct feed_page *p, const struct stream_id *after);

/* Starts following t for f->conn: at `resume` (catch-up from there) or, when
 * resume is NULL, at the stream's current end. */
int follow_start(struct follow *f, struct hub *hub, const struct sub_target *t,
		 const struct stream_id *resume);
/* Stops following: cancels Redis work, drops held events, leaves the hub. */
void follow_stop(struct follow *f);
/* The connection has room again: fetch the next catch-up page if one is due. */
void follow_continue(struct follow *f);

/* Called by the hub. */
void follow_on_ready(struct follow *f, const struct stream_id *start);
void follow_on_event(struct follow *f, struct evbuf *ev);
void follow_on_failed(struct follow *f);

#endif
