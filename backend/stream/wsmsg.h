/*
 * wsmsg.h — messages a WebSocket client sends, parsed at the edge into a
 * typed struct. One table (wsmsg.c) lists the message types; the handlers
 * live with the connection (conn.c), indexed by enum wsmsg_type.
 *
 *   {"type":"subscribe","streams":["dev:a",...],"after":"<composite>"?}
 *   {"type":"ping"}
 *   {"type":"push","id":…,"project":7,"path":"src/a.py","version":V,"updates":[…]}
 *   {"type":"cursor","id":…?,"project":7,"path":"src/a.py","version":V,
 *    "ranges":[…],"main":0,"clientID":"…"}
 *   {"type":"watch","streams":["project:7",…]}
 *   {"type":"presence","lesson":3,"client":"…","project":7?,"file":"src/a.py"?}
 *
 * Only cheap checks run here, on the event loop: field types and bounds and
 * the path's canonical form. The updates and ranges stay parsed json-c
 * values (owned by the message, handed on to the worker pool whole) and are
 * validated there by core/collab.c and core/cursor.c.
 */
#ifndef COHORT_STREAM_WSMSG_H
#define COHORT_STREAM_WSMSG_H

#include <stddef.h>

struct json_object;

/* Largest client message accepted, in bytes: a subscribe naming the maximum
 * number of streams with a full position fits easily, and so does a push of
 * a large paste (bigger ones go through the REST push). */
#define WSMSG_MAX (256 * 1024)
/* A request id: a string of 1..64 of [A-Za-z0-9_.:-], or an integer 0..2^53. */
#define WSMSG_ID_MAX 64
#define WSMSG_MAX_STREAMS 1024

enum wsmsg_type {
	WSMSG_SUBSCRIBE,
	WSMSG_PING,
	WSMSG_PUSH,
	WSMSG_CURSOR,
	WSMSG_WATCH,    /* issue 6: scopes to follow whenever allowed */
	WSMSG_PRESENCE, /* issue 6: present in a lesson, and where */
	WSMSG__N
};

struct wsmsg {
	enum wsmsg_type type;
	size_t nstreams;
	char **streams;    /* subscribe: the names, NUL-terminated copies */
	size_t *lens;
	char *after;       /* subscribe: resume position, or NULL */
	size_t after_len;
	/* push and cursor: */
	char id[WSMSG_ID_MAX + 3]; /* the id as JSON text ("" when absent); kept when parsing fails */
	long long project;         /* push, cursor; presence: 0 when absent */
	long long lesson;          /* presence */
	char *path;                /* canonical (core/path.h) */
	long long version;
	long long main;            /* cursor */
	char *client;              /* cursor: clientID (collab_client_ok) */
	size_t client_len;
	struct json_object *payload; /* push: "updates" (an array); cursor: "ranges" */
};

#define WSMSG_DETAIL_MAX 160

/* Errors: COHORT_E_TOOBIG, COHORT_E_UTF8, COHORT_E_JSON, COHORT_E_FIELD
 * (missing or mistyped field), COHORT_E_INVAL (unknown type), COHORT_E_LIMIT
 * (too many streams or updates). detail gets a client-facing sentence.
 * out->id survives a refusal (the error names the message it answers).
 * wsmsg_release is needed after success only. */
int wsmsg_parse(const char *buf, size_t len, struct wsmsg *out, char *detail, size_t dlen);
void wsmsg_release(struct wsmsg *m);
/* Takes the payload out of m (the caller then owns that reference). */
struct json_object *wsmsg_take_payload(struct wsmsg *m);
const char *wsmsg_type_name(enum wsmsg_type type);

#endif
