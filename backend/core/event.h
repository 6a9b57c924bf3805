/*
 * event.h — the one event envelope, whatever the transport:
 *
 *   {"id","type","stream","project","file"?,"version"?,
 *    "actor":{"user","client"},"ts":{"recv","pub"},"data"}
 *
 * Producers store the envelope without "id" in the Redis stream entry
 * (field EVENT_FIELD), because the id is only known once XADD returns. The
 * streamer then finalizes it once per event, splicing the entry id in front,
 * and sends those same bytes to every subscriber.
 */
#ifndef COHORT_EVENT_H
#define COHORT_EVENT_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

#define EVENT_FIELD "e"
#define EVENT_TYPE_MAX 64
#define EVENT_DATA_MAX (64 * 1024)

struct event {
	const char *type;
	const char *stream;       /* scope name, e.g. "dev:demo" */
	const char *project;      /* NULL when not about a project */
	const char *file;         /* NULL when not about a file */
	long long version;        /* < 0 when absent */
	const char *actor_user;   /* NULL for the system */
	const char *actor_client; /* NULL when not from an editor session */
	int64_t ts_recv;          /* microseconds, server receive time */
	int64_t ts_pub;           /* microseconds, publish time */
	const char *data_json;    /* already-valid JSON; NULL means null */
};

/* Appends the stored form (envelope without "id"). */
int event_encode_stored(struct strbuf *out, const struct event *ev);

/* Appends the final envelope: stored form with "id":"<id>" spliced in first.
 * COHORT_E_INVAL when stored is not an object. */
int event_finalize(struct strbuf *out, const char *id, const char *stored, size_t len);

/* A valid event type: 1..EVENT_TYPE_MAX of [a-z0-9_.-]. */
int event_type_valid(const char *type, size_t len);

#endif
