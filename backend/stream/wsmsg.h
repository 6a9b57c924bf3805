/*
 * wsmsg.h — messages a WebSocket client sends, parsed at the edge into a
 * typed struct. One table (wsmsg.c) lists the message types; the handlers
 * live with the connection (conn.c), indexed by enum wsmsg_type.
 *
 *   {"type":"subscribe","streams":["dev:a",...],"after":"<composite>"?}
 *   {"type":"ping"}
 */
#ifndef COHORT_STREAM_WSMSG_H
#define COHORT_STREAM_WSMSG_H

#include <stddef.h>

/* Largest client message accepted, in bytes (a subscribe naming the maximum
 * number of streams with a full position fits easily). */
#define WSMSG_MAX (16 * 1024)
#define WSMSG_MAX_STREAMS 1024

enum wsmsg_type {
	WSMSG_SUBSCRIBE,
	WSMSG_PING,
	WSMSG__N
};

struct wsmsg {
	enum wsmsg_type type;
	size_t nstreams;
	char **streams;    /* subscribe: the names, NUL-terminated copies */
	size_t *lens;
	char *after;       /* subscribe: resume position, or NULL */
	size_t after_len;
};

#define WSMSG_DETAIL_MAX 160

/* Errors: COHORT_E_TOOBIG, COHORT_E_UTF8, COHORT_E_JSON, COHORT_E_FIELD
 * (missing or mistyped field), COHORT_E_INVAL (unknown type). detail gets a
 * client-facing sentence. */
int wsmsg_parse(const char *buf, size_t len, struct wsmsg *out, char *detail, size_t dlen);
void wsmsg_release(struct wsmsg *m);
const char *wsmsg_type_name(enum wsmsg_type type);

#endif
