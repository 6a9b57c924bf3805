#include "stream/metrics.h"
#include "core/strbuf.h"

#include <inttypes.h>
#include <stddef.h>

struct stream_metrics stream_metrics;

static const char *const transport_names[TRANSPORT__N] = { "sse", "ws" };

/* Scalar metrics: one table row each, so names, kinds and help never drift. */
struct metric_row {
	const char *name;
	const char *type;
	const char *help;
	size_t off;
};

#define M(f) offsetof(struct stream_metrics, f)

static const struct metric_row rows[] = {
	{ "cohort_stream_connections_rejected_total", "counter",
	  "Connections refused because stream.max_conns was reached.", M(conns_rejected) },
	{ "cohort_stream_events_in_total", "counter", "Events read from Redis by the stream reader.", M(events_in) },
	{ "cohort_stream_catchup_events_total", "counter", "Events read from Redis for resuming connections.",
	  M(events_catchup) },
	{ "cohort_stream_events_skipped_total", "counter", "Stream entries without a usable event envelope.",
	  M(events_skipped) },
	{ "cohort_stream_events_out_total", "counter", "Events written to client connections (deliveries).",
	  M(deliveries) },
	{ "cohort_stream_bytes_out_total", "counter", "Bytes written to client connections.", M(bytes_out) },
	{ "cohort_stream_queue_drops_total", "counter",
	  "Connections closed because their output queue overflowed.", M(queue_drops) },
	{ "cohort_stream_resume_requests_total", "counter", "Connections that resumed from an event id.",
	  M(resume_requests) },
	{ "cohort_stream_resets_total", "counter", "Reset events sent because history was trimmed.", M(resets) },
	{ "cohort_stream_redis_reconnects_total", "counter", "Reconnections to Redis.", M(redis_reconnects) },
	{ "cohort_stream_redis_errors_total", "counter", "Redis error replies and failed connection attempts.",
	  M(redis_errors) },
	{ "cohort_stream_heartbeats_total", "counter", "SSE heartbeat comments and WebSocket pings sent.",
	  M(heartbeats) },
	{ "cohort_stream_ws_messages_in_total", "counter", "WebSocket messages received from clients.",
	  M(ws_messages_in) },
	{ "cohort_stream_ws_bad_messages_total", "counter", "WebSocket client messages rejected.",
	  M(ws_bad_messages) },
	{ "cohort_stream_xread_total", "counter", "XREAD commands issued by the reader.", M(xread_calls) },
	{ "cohort_stream_streams_followed", "gauge", "Redis streams the reader follows.", M(streams_followed) },
	{ "cohort_stream_redis_up", "gauge", "1 when the Redis reader connection is ready.", M(redis_up) },
	{ "cohort_stream_auth_checks_total", "counter",
	  "Subscription checks run on the worker pool (token verification and SQL).", M(auth_checks) },
	{ "cohort_stream_auth_refused_total", "counter",
	  "Subscriptions refused: no, bad or signed-out token, forbidden or unknown scope.", M(auth_refused) },
	{ "cohort_stream_auth_busy_total", "counter",
	  "Subscriptions refused because stream.auth_pending_max checks were under way.", M(auth_busy) },
	{ "cohort_stream_auth_pending", "gauge", "Subscription checks under way.", M(auth_pending) },
	{ "cohort_stream_ws_pushes_total", "counter", "WebSocket push messages run on the worker pool.",
	  M(edit_pushes) },
	{ "cohort_stream_ws_cursors_total", "counter", "WebSocket cursor messages run on the worker pool.",
	  M(edit_cursors) },
	{ "cohort_stream_ws_edits_refused_total", "counter",
	  "WebSocket push and cursor messages answered with an error (invalid, forbidden, rate_limited, ...).",
	  M(edits_refused) },
	{ "cohort_stream_ws_edits_pending", "gauge", "WebSocket push and cursor jobs under way.", M(edits_pending) },
	{ "cohort_stream_cursors_coalesced_total", "counter",
	  "Queued cursor events dropped for a newer one of the same user and file (slow consumers).",
	  M(cursors_coalesced) },
	{ "cohort_stream_acl_notices_total", "counter", "Access notices read from the control stream.", M(acl_notices) },
	{ "cohort_stream_acl_checks_total", "counter", "Per-user access re-checks run on the worker pool.",
	  M(acl_checks) },
	{ "cohort_stream_revoked_total", "counter", "Streams taken off a connection because access was revoked.",
	  M(revoked) },
	{ "cohort_stream_granted_total", "counter", "Watched streams added to a connection because access was granted.",
	  M(granted) },
	{ "cohort_stream_presence_connections", "gauge", "Connections present in a lesson.", M(presence_conns) },
};

static void per_transport(struct strbuf *out, const char *name, const char *type, const char *help,
			  const uint64_t *v)
{
	strbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	for (int t = 0; t < TRANSPORT__N; t++)
		strbuf_addf(out, "%s{transport=\"%s\"} %" PRIu64 "\n", name, transport_names[t], v[t]);
}

int metrics_render(struct strbuf *out)
{
	const struct stream_metrics *m = &stream_metrics;

	per_transport(out, "cohort_stream_connections", "gauge", "Open client connections.", m->conns_current);
	per_transport(out, "cohort_stream_connections_total", "counter", "Client connections accepted.",
		      m->conns_total);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const uint64_t *v = (const uint64_t *)(const void *)((const char *)m + rows[i].off);

		strbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", rows[i].name, rows[i].help,
			    rows[i].name, rows[i].type, rows[i].name, *v);
	}
	return 0;
}
