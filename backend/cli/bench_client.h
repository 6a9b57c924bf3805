/*
 * bench_client.h — many SSE subscribers on a few epoll threads.
 *
 * Each thread owns a slice of the connections, one epoll set and one large
 * read buffer. It opens its connections with at most connect_batch of them
 * in flight (so the server's listen backlog is never overrun), sends a plain
 * HTTP/1.1 GET, reads the response with bench_sse, and checks every bench
 * event: per-stream order and duplicates by the SSE id, gaps by the event's
 * sequence number, latency from the append timestamp in its data.
 *
 * The main thread only reads the atomic progress counters while threads run;
 * everything else is read after bench_clients_stop.
 */
#ifndef COHORT_BENCH_CLIENT_H
#define COHORT_BENCH_CLIENT_H

#include "cli/bench_hist.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct scope;
struct bench_conn;

/* The timeline counts deliveries per TIMELINE_STEP_US of receive time. */
#define TIMELINE_STEP_US 10000
#define TIMELINE_MAX 60000 /* ten minutes */

struct sse_event;

/*
 * An event handler that replaces the fanout checks (cohort-bench edit has its
 * own events): called on the connection's thread for every event with data,
 * with the wall time right after the read that brought it. Returns true when
 * the event counts as a delivery (progress counter and timeline).
 */
typedef bool (*bench_event_fn)(void *arg, int thread, size_t conn, const struct sse_event *ev,
			       int64_t recv_us);

struct bench_client_opts {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const char *host_header; /* "127.0.0.1:8080" */
	const char *path;        /* "/stream/events" (a base path prefix included) */
	const struct scope *scopes;
	size_t nstreams;
	size_t nconns;  /* connection i follows stream i mod nstreams */
	int threads;
	int connect_batch;
	int connect_timeout_ms;
	size_t max_line;
	int read_interval_us; /* least time between two epoll waits (0: none) */
	int64_t origin_us; /* wall time that timeline slot 0 starts at */
	const char *token; /* sent as a Bearer token when set */
	bench_event_fn on_event; /* NULL: the fanout checks */
	void *event_arg;
};

/* Totals of one thread, summed over threads by bench_clients_totals. */
struct bench_counts {
	uint64_t connected;
	uint64_t connect_failed;   /* refused, reset, timed out */
	uint64_t http_errors;      /* a status other than 200 */
	uint64_t not_event_stream; /* 200 without text/event-stream */
	uint64_t closed;           /* closed by the peer, or the body ended, after the head */
	uint64_t read_errors;
	uint64_t parse_errors;
	uint64_t events;           /* every dispatched event */
	uint64_t foreign;          /* events without bench fields (e.g. reset) */
	uint64_t resets;           /* events of type reset */
	uint64_t delivered;        /* bench events */
	uint64_t delivered_measured;
	uint64_t duplicates;       /* an id (or sequence number) seen again */
	uint64_t out_of_order;     /* an id lower than the last one */
	uint64_t gaps;             /* sequence numbers skipped (events missed) */
	uint64_t wrong_stream;     /* event of a stream the connection did not ask for */
	uint64_t bad_ids;          /* id missing, malformed or without our scope */
	uint64_t negative_latency; /* receive time before the append time */
	uint64_t bytes;
	int last_status;           /* of an http error */
};

struct bench_thread;

struct bench_clients {
	struct bench_client_opts o;
	struct bench_conn *conns;
	struct bench_thread *threads;
	char **requests;
	size_t *request_lens;
	atomic_bool stop;
};

int bench_clients_start(struct bench_clients *bc, const struct bench_client_opts *o);
/* Progress, safe while threads run. */
uint64_t bench_clients_resolved(struct bench_clients *bc); /* connected + failed */
uint64_t bench_clients_connected(struct bench_clients *bc);
uint64_t bench_clients_delivered(struct bench_clients *bc);
/* Stops the threads and closes every connection. */
void bench_clients_stop(struct bench_clients *bc);

/* After stop. */
void bench_clients_totals(const struct bench_clients *bc, struct bench_counts *out,
			  struct hist *latency, struct hist *connect);
/* Connections that did connect, per stream (caller frees). */
uint64_t *bench_clients_per_stream(const struct bench_clients *bc);
/* Fewest and most bench events delivered on one connected connection. */
void bench_clients_spread(const struct bench_clients *bc, uint64_t *min, uint64_t *max);
/* Deliveries received in [from_us, to_us) of wall time, from the timelines. */
uint64_t bench_clients_received_between(const struct bench_clients *bc, int64_t from_us,
					int64_t to_us);
/* The summed timeline; *len slots (caller frees). */
uint64_t *bench_clients_timeline(const struct bench_clients *bc, size_t *len);
/* Whether connection i got its 200 event-stream head (and may since have
 * been closed). After stop. */
bool bench_clients_conn_ok(const struct bench_clients *bc, size_t i);
/* The Server header of the first response ("" when none). */
const char *bench_clients_server(const struct bench_clients *bc);
void bench_clients_release(struct bench_clients *bc);

#endif
