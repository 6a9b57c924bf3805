/*
 * bench_sse.h — an incremental reader of one Server-Sent Events response, as
 * it arrives from a non-blocking socket: the HTTP/1.1 response head, then the
 * body (chunked or read-until-close), then SSE lines and events (WHATWG
 * "event stream interpretation": data lines joined by '\n', a persistent last
 * event id, comments ignored, LF, CRLF or CR line ends).
 *
 * Memory is bounded and lazy: the parser holds no heap memory until a line or
 * an event spans two reads, and never more than max_line bytes per buffer, so
 * ten thousand idle connections cost a few hundred bytes each.
 */
#ifndef COHORT_BENCH_SSE_H
#define COHORT_BENCH_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSE_HEAD_MAX 16384
#define SSE_ID_MAX 4096
#define SSE_SERVER_MAX 48

struct sse_event {
	const char *id; /* the last event id (persists across events, may be empty) */
	size_t id_len;
	const char *type; /* "message" when the event had no event: field */
	size_t type_len;
	const char *data; /* data lines joined by '\n', not NUL-terminated */
	size_t data_len;
};

struct sse_parser;

struct sse_callbacks {
	/* The head is complete: status, chunked and server are set. A nonzero
	 * return stops feeding and is returned by sse_parser_feed. */
	int (*head)(void *arg, const struct sse_parser *p);
	/* One event with non-empty data. Nonzero return stops, as above. */
	int (*event)(void *arg, const struct sse_event *ev);
};

enum sse_state {
	SSE_S_HEAD,
	SSE_S_BODY,
	SSE_S_DONE,  /* the chunked body ended */
	SSE_S_ERROR,
};

struct sse_lbuf {
	char *buf;
	uint32_t len;
	uint32_t alloc;
};

struct sse_parser {
	uint8_t state;   /* enum sse_state */
	uint8_t cstate;  /* chunk decoder state */
	bool chunked;
	bool event_stream; /* Content-Type is text/event-stream */
	bool cr_pending; /* last byte was CR: swallow a following LF */
	bool has_data;   /* the event being read has a data field */
	uint16_t status;
	uint32_t max_line;
	uint64_t chunk_left;
	struct sse_lbuf line; /* a partial line (or, before the body, the head) */
	struct sse_lbuf id;   /* the last event id */
	struct sse_lbuf data; /* data of the event being read */
	struct sse_lbuf type; /* event: field of the event being read */
	char server[SSE_SERVER_MAX];
};

/* max_line bounds a line and an event's data (0 means 256 KiB). */
void sse_parser_init(struct sse_parser *p, size_t max_line);
void sse_parser_release(struct sse_parser *p);

/*
 * Feeds bytes read from the socket. Returns 0, a callback's nonzero return,
 * or a negative error: COHORT_E_INVAL for a malformed head or chunk framing,
 * COHORT_E_LIMIT for a line over the bound, COHORT_E_NOMEM. After an error
 * the parser stays in SSE_S_ERROR.
 */
int sse_parser_feed(struct sse_parser *p, const char *buf, size_t len,
		    const struct sse_callbacks *cb, void *arg);

/* Bytes of heap the parser holds now (for the bench's own accounting). */
size_t sse_parser_heap(const struct sse_parser *p);

#endif
