/*
 * streamid.h — Redis stream entry ids ("<ms>-<seq>") as numbers, and the
 * composite position a client resumes from.
 *
 * A connection may follow several streams, so the SSE `id:` it receives is a
 * position in each of them: "<scope>=<ms>-<seq>" items joined by ','. See
 * docs/protocol.md. The codec lives in core so every transport (SSE,
 * WebSocket, long-poll) and every tool reads positions the same way.
 */
#ifndef COHORT_STREAMID_H
#define COHORT_STREAMID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stream_id {
	uint64_t ms;
	uint64_t seq;
};

#define STREAM_ID_STRMAX 42 /* two 20-digit numbers, a dash and the NUL */

int stream_id_parse(const char *s, size_t len, struct stream_id *out);
/* Writes "<ms>-<seq>" and returns its length. */
int stream_id_format(const struct stream_id *id, char *buf, size_t len);
int stream_id_cmp(const struct stream_id *a, const struct stream_id *b);
bool stream_id_is_zero(const struct stream_id *id);

/* One scope's position inside a composite id. */
struct position_item {
	const char *scope; /* points into the parsed text */
	size_t scope_len;
	struct stream_id id;
};

#define POSITION_MAX_ITEMS 1024
#define POSITION_MAX_LEN 65536

/* Parses "scope=ms-seq,scope=ms-seq". Calls fn for each item; stops at the
 * first non-zero return. COHORT_E_BADID on malformed text. */
int position_parse(const char *s, size_t len,
		   int (*fn)(const struct position_item *item, void *arg), void *arg);

#endif
