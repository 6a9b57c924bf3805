/*
 * bench_api.h — a blocking HTTP/1.1 client of the REST API for the bench's
 * own requests: setup (courses, lessons, projects, files) and the edit
 * writers, one connection per caller, kept alive between requests.
 *
 * Each call sends one request with the Bearer token and reads the whole
 * response: the status and the body (bounded by the caller's strbuf max).
 * Every read and write has the connection's timeout. A kept-alive
 * connection the server closed before our request reached it is reopened
 * once, transparently; any other failure closes the connection (the next
 * call opens a new one).
 */
#ifndef COHORT_BENCH_API_H
#define COHORT_BENCH_API_H

#include "cli/bench_sys.h"

#include <stddef.h>
#include <stdint.h>

struct strbuf;

#define BENCH_TOKEN_MAX 4096

struct bench_api {
	const struct sys_url *url;
	const char *token;  /* Bearer token, or NULL */
	int timeout_ms;
	int fd;             /* -1 when not connected */
	uint64_t reconnects; /* keep-alive ended by the server between requests */
	char *rbuf;         /* BENCH_API_RBUF bytes, allocated on first use */
	size_t rlen, roff;  /* bytes buffered and read so far */
};

/* url and token must outlive the client. */
void bench_api_init(struct bench_api *a, const struct sys_url *url, const char *token,
		    int timeout_ms);
void bench_api_release(struct bench_api *a);

/*
 * One request: method, target (path and query, the URL's prefix is put in
 * front), an optional body (content type application/json unless ctype is
 * given). On return *status is the HTTP status and body holds the response
 * body (reset first; may be NULL to discard it). Returns 0 when a response
 * was read, whatever its status; COHORT_E_TIMEOUT, COHORT_E_IO (connect,
 * read, write, closed mid-response), COHORT_E_INVAL (not HTTP) or
 * COHORT_E_LIMIT (a body over body's bound).
 */
int bench_api_call(struct bench_api *a, const char *method, const char *target,
		   const char *ctype, const char *req_body, size_t req_len, int *status,
		   struct strbuf *body);

/* The token from `file`, or else $COHORT_BENCH_TOKEN, trimmed; refuses an
 * empty one or one with whitespace inside. `who` prefixes error messages
 * ("cohort-bench edit"). 0 or a negative error (already reported). */
int bench_token_load(const char *file, const char *who, char *tok, size_t cap);

#endif
