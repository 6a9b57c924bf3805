/*
 * outq.h — a connection's output queue: a FIFO ring of references to shared
 * event buffers, with the byte count that the per-connection limit
 * (stream.queue_max) is checked against.
 *
 * An empty queue owns no memory once outq_shrink() ran, so idle connections
 * stay small. Each entry carries a tag (the index of the subscription the
 * event belongs to).
 */
#ifndef COHORT_STREAM_OUTQ_H
#define COHORT_STREAM_OUTQ_H

#include <stddef.h>
#include <stdint.h>

struct evbuf;

struct outq_ent {
	struct evbuf *ev;
	uint32_t tag;
};

struct outq {
	struct outq_ent *ents;
	uint32_t cap;   /* a power of two, or 0 */
	uint32_t head;
	uint32_t count;
	size_t bytes;   /* sum of outq_cost() over the entries */
};

#define OUTQ_INIT { NULL, 0, 0, 0, 0 }

/* Bytes an event is charged in a queue: its JSON plus the entry itself. */
size_t outq_cost(const struct evbuf *ev);

void outq_init(struct outq *q);
/* Takes a new reference to ev. COHORT_E_NOMEM leaves q unchanged. */
int outq_push(struct outq *q, struct evbuf *ev, uint32_t tag);
/* The oldest entry, or NULL. */
const struct outq_ent *outq_peek(const struct outq *q);
/* Drops the oldest entry (and its reference). */
void outq_pop(struct outq *q);
/* For an event with a coalescing key (evbuf.h): drops the queued entry with
 * the same tag and key, if there is one, so that ev — pushed next — takes
 * its place at the end. The entries keep their order, so positions still
 * only move forward. Returns 1 when an entry was dropped, else 0. */
int outq_drop_older(struct outq *q, const struct evbuf *ev, uint32_t tag);
/* Moves every entry of from to the end of to, in order (from ends empty). */
int outq_splice(struct outq *to, struct outq *from);
/* Drops every entry but keeps the storage. */
void outq_clear(struct outq *q);
/* Frees the storage when the queue is empty. */
void outq_shrink(struct outq *q);
/* Drops every entry and frees the storage. */
void outq_release(struct outq *q);

#endif
