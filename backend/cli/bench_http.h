/*
 * bench_http.h — a closed-loop HTTP/1.1 load client for request/response
 * routes: C keep-alive connections, each sending its next request as soon
 * as the previous response has been read to its end. One epoll loop in the
 * calling thread, so what is measured is the server's pace, not the
 * client's scheduling (with C connections there are never more than C
 * requests in flight).
 *
 * Responses are parsed just enough to find their end (Content-Length or
 * chunked) and never kept: memory is bounded by one read buffer and one
 * response head per connection, whatever the body size. Latency is the time
 * from the first byte of a request written to the last byte of its response
 * read, recorded in a bench_hist histogram.
 */
#ifndef COHORT_BENCH_HTTP_H
#define COHORT_BENCH_HTTP_H

#include "cli/bench_hist.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct strbuf;

/* Appends request number seq (0, 1, ...) to out. Returns 0, 1 when there
 * are no more requests, or a negative error (the run stops). */
typedef int (*http_make_fn)(void *arg, uint64_t seq, struct strbuf *out);

struct http_load_opts {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int conns;           /* concurrent connections (1..4096) */
	double duration_s;   /* start no request after this (0: no time limit) */
	uint64_t max_requests; /* start at most this many (0: no limit) */
	int timeout_ms;      /* per request, connect included */
	http_make_fn make;   /* builds each request, or NULL: */
	const char *fixed;   /* ... every request is these bytes */
	size_t fixed_len;
	void *arg;
	struct strbuf *capture; /* if set, holds the body of the last response
				 * (meant for conns 1; bounded by its max) */
};

/* Responses by status class: status[1] is 1xx ... status[5] 5xx, status[0]
 * anything else. */
struct http_load_result {
	uint64_t requests;       /* complete responses */
	uint64_t status[6];
	uint64_t connect_errors; /* refused, reset or failed before a response started */
	uint64_t read_errors;    /* a read or write failed mid-request */
	uint64_t parse_errors;   /* not HTTP, or a head over the bound */
	uint64_t timeouts;       /* a request took longer than timeout_ms */
	uint64_t closed;         /* the server closed a connection mid-response */
	uint64_t reconnects;     /* keep-alive ended by the server between requests (not an error) */
	uint64_t bytes;          /* every byte read */
	uint64_t body_bytes;
	int last_bad_status;     /* the last status outside 2xx */
	double wall_s;           /* first request started .. last response ended */
	double rps;              /* requests / wall_s */
	struct hist latency_us;
	char server[64];         /* Server header of the first response */
	char error[160];         /* the first transport or parse error, "" when none */
};

/* Runs the load until the time or request limit, then waits for the
 * requests in flight (at most timeout_ms). 0, or a negative enum cohort_err
 * when the run could not start (options, sockets) or the generator failed;
 * failed requests are counted in *r, not returned. */
int http_load_run(const struct http_load_opts *o, struct http_load_result *r);

/* Transport errors, parse errors, timeouts, mid-response closes and every
 * response outside 2xx. */
uint64_t http_load_errors(const struct http_load_result *r);

#endif
