/*
 * metrics.h — the streamer's counters, rendered as Prometheus text by
 * GET /stream/metrics. One process-wide set (the process has one event loop,
 * so plain integers suffice), in the manner of redis's server.stat_* fields.
 */
#ifndef COHORT_STREAM_METRICS_H
#define COHORT_STREAM_METRICS_H

#include <stdint.h>

struct strbuf;

enum transport { TRANSPORT_SSE, TRANSPORT_WS, TRANSPORT__N };

struct stream_metrics {
	uint64_t conns_current[TRANSPORT__N];
	uint64_t conns_total[TRANSPORT__N];
	uint64_t conns_rejected;    /* refused: stream.max_conns reached */
	uint64_t events_in;         /* entries read from Redis by the reader */
	uint64_t events_catchup;    /* entries read by resuming connections */
	uint64_t events_skipped;    /* entries without a usable envelope */
	uint64_t deliveries;        /* events written to a connection */
	uint64_t bytes_out;         /* bytes handed to the sockets */
	uint64_t queue_drops;       /* connections closed because their queue overflowed */
	uint64_t resume_requests;   /* connections that asked to resume from an id */
	uint64_t resets;            /* reset events sent */
	uint64_t redis_reconnects;  /* successful reconnects of either Redis connection */
	uint64_t redis_errors;      /* Redis error replies and failed connects */
	uint64_t heartbeats;        /* SSE heartbeat comments and WebSocket pings */
	uint64_t ws_messages_in;    /* client WebSocket messages handled */
	uint64_t ws_bad_messages;   /* of which rejected */
	uint64_t xread_calls;       /* XREAD commands issued */
	uint64_t streams_followed;  /* Redis streams the reader follows now */
	uint64_t redis_up;          /* 1 when the reader connection is ready */
	uint64_t auth_checks;       /* authorizations sent to the worker pool */
	uint64_t auth_refused;      /* subscriptions refused by authentication or authorization */
	uint64_t auth_busy;         /* refused because stream.auth_pending_max checks were pending */
	uint64_t auth_pending;      /* checks under way now (set when rendered) */
	uint64_t edit_pushes;       /* WebSocket push messages sent to the worker pool */
	uint64_t edit_cursors;      /* WebSocket cursor messages sent to the worker pool */
	uint64_t edits_refused;     /* push and cursor messages answered with an error */
	uint64_t edits_pending;     /* push and cursor jobs under way now (set when rendered) */
	uint64_t cursors_coalesced; /* queued cursor events replaced by a newer one of the same user and file */
	uint64_t acl_notices;       /* issue 6: access notices read from the control stream */
	uint64_t acl_checks;        /* per-user re-checks run on the worker pool */
	uint64_t revoked;           /* streams taken off a connection (revoked events) */
	uint64_t granted;           /* watched streams added to a connection (granted events) */
	uint64_t presence_conns;    /* connections present in a lesson now */
};

extern struct stream_metrics stream_metrics;

int metrics_render(struct strbuf *out);

#endif
