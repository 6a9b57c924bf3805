/*
 * evbuf.h — one event as clients receive it: the finalized JSON envelope,
 * built once per event read from Redis and shared by every connection queue
 * that holds it (reference counted, single-threaded: the event loop only).
 *
 * The same bytes serve both transports: SSE frames them as `data: <json>`,
 * WebSocket places them inside an "events" array (docs/protocol.md).
 */
#ifndef COHORT_STREAM_EVBUF_H
#define COHORT_STREAM_EVBUF_H

#include "core/streamid.h"

#include <stddef.h>
#include <stdint.h>

/* Stored envelopes above this size are skipped (and logged) by the reader. */
#define EVBUF_MAX (1024 * 1024)
/* Longest user or file name in a coalescing key; longer ones are not coalesced. */
#define EVBUF_KEY_MAX 2048

struct evbuf {
	uint32_t refs;
	uint32_t len;        /* bytes of json, without the NUL */
	uint32_t ckey_len;   /* 0, or the bytes of the coalescing key (evbuf_ckey) */
	struct stream_id id; /* the stream position this event moves its reader to */
	char json[];         /* NUL-terminated, never contains CR or LF; the key follows */
};

/*
 * Coalescing: a `cursor` event may be replaced by a newer one of the same
 * user and file that a slow connection has not been sent yet (the one kind
 * of event that may be collapsed, docs/protocol.md section 6). Its key,
 * "<actor.user>\0<file>", is extracted once when the event is built from
 * Redis and stored after the JSON, so queues compare bytes, never parse.
 */
static inline const char *evbuf_ckey(const struct evbuf *ev)
{
	return ev->json + ev->len + 1;
}

/* Builds the final envelope from a stored one (event_finalize with the entry
 * id spliced in). Raw CR/LF bytes, which valid JSON can only hold as
 * insignificant whitespace, become spaces so SSE framing stays one line.
 * COHORT_E_INVAL when stored is not an object, COHORT_E_LIMIT when too big. */
int evbuf_finalize(struct evbuf **out, const struct stream_id *id, const char *stored, size_t len);

/* An evbuf holding json as is (server-made events such as `reset`). */
int evbuf_new(struct evbuf **out, const struct stream_id *id, const char *json, size_t len);

/* Frees the finalizing scratch buffer (at exit). */
void evbuf_cleanup(void);

struct evbuf *evbuf_ref(struct evbuf *ev);
void evbuf_unref(struct evbuf *ev);

#endif
