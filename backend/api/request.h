/*
 * request.h — the request layer of cohort-api: a typed request built once
 * from the FastCGI parameters, its bounded body and query, and the response
 * a handler fills.
 *
 * Nothing here knows about libfcgi: the worker hands in the parameter array
 * and a body reader, and writes out the head and body this module formats.
 * That keeps the layer testable without a web server.
 *
 * Lifetime: every const char * in struct request borrows from the FastCGI
 * parameters and is valid until the request is finished.
 */
#ifndef COHORT_API_REQUEST_H
#define COHORT_API_REQUEST_H

#include "api/router.h"
#include "core/course.h"
#include "core/db.h"
#include "core/jwt.h"
#include "core/lesson.h"
#include "core/principal.h"
#include "core/project.h"
#include "core/strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cohort_config;
struct worker;
struct query;
struct jsonw;
struct json_object;

#define REQUEST_ID_MIN 8
#define REQUEST_ID_MAX 64
#define REQUEST_PATH_MAX 2048
#define REQUEST_METHOD_MAX 16
/* Unread body left on a kept-alive connection is read and dropped up to this
 * much, so the web server can reuse the connection; beyond it libfcgi closes
 * the connection instead. */
#define REQUEST_DRAIN_MAX (1L << 20)

/* Reads up to len body bytes; returns the count (0 at the end) or a negative
 * enum cohort_err. */
typedef long (*request_reader)(void *ctx, char *buf, size_t len);

struct request {
	/* From the FastCGI parameters. */
	char method[REQUEST_METHOD_MAX + 1];
	char path[REQUEST_PATH_MAX + 1]; /* as in the request URI, without the query */
	size_t path_len;
	const char *query;        /* raw, without '?'; "" when there is none */
	const char *content_type; /* NULL when absent */
	long long content_length; /* -1 when absent */
	const char *remote_addr;
	const char *authorization; /* for the authentication layer; never logged */
	const char *cookie;        /* likewise */
	const char *if_match;      /* If-Match, NULL when absent */
	const char *room_member;   /* X-Room-Member (docs/rooms.md); a secret, never logged */
	char id[REQUEST_ID_MAX + 1];
	int err; /* a problem found while parsing the parameters, answered before routing */
	const char *err_detail;

	int64_t recv_wall_us;  /* when the request arrived (wall clock, for event stamps) */
	int64_t start_mono_us; /* the same instant on the monotonic clock, for durations */

	/* Per-worker resources and configuration. */
	const struct cohort_config *cfg;
	struct worker *worker;

	/* Set by the dispatcher. */
	struct route_match match;

	/* Body, read on demand by request_body(), at most max_body bytes:
	 * api.max_body, or the matched route's own limit (routes_max_body). */
	long max_body;
	request_reader reader;
	void *reader_ctx;
	struct strbuf body;
	bool body_read;
	int body_err;       /* what reading the body failed with, answered again on later calls */
	bool body_complete; /* the reader reached the end of the body */

	struct query *q; /* parsed on demand by request_query() */

	/* Set by authentication (authn_resolve) before the permission check,
	 * for every route that is not public. who.user_id is 0 for anonymous. */
	struct principal who;
	struct jwt_claims claims; /* of the token presented; kind and jti say how to sign it out */
	bool token_cookie;        /* the token came from the session cookie */

	/* Resolved by the permission check (permission.c) from the route's
	 * parameters; handlers use these and never look the ids up again. */
	struct db *db;              /* this worker's database handle */
	struct db_gen auth_gen;     /* the database's generation when authorization began */
	bool auth_gen_ok;           /* auth_gen was read: api/authcache.h may answer */
	bool auth_txn_allowed;      /* inside authorization: its lookups may open one */
	bool auth_txn;              /* authorization's lookups opened a read transaction */
	bool has_course, has_lesson, has_project;
	struct course course;       /* from {course}, or the course of {lesson} / {project} */
	struct lesson lesson;       /* from {lesson} */
	struct project project;     /* from {project} */
	struct participant me;      /* who's participation in course (id 0: none, e.g. an admin) */
	struct access access;       /* who's access to project */
	bool has_target;
	struct participant target;  /* from {participant}, checked to be in course */
};

/* Writes one piece of a streamed body; non-zero when the client is gone. */
typedef int (*response_write_fn)(void *out, const void *data, size_t len);

struct response {
	int status;
	const char *content_type;
	struct strbuf headers; /* extra "Name: value\r\n" lines */
	struct strbuf body;
	char detail[256];      /* problem detail for the error a handler returns */
	const char *err_code;  /* stable code of the error answered, for the access log */
	int retry_after_s;     /* > 0: sent as Retry-After with a 429 */
	/* A streamed body (set by a handler that already answered every error
	 * it could): the head goes out without Content-Length, then stream()
	 * writes the body through write(out, ..). An error it returns cannot
	 * change the status any more; it is logged and the body ends short.
	 * stream_free (may be NULL) releases stream_ctx in every case. */
	int (*stream)(void *ctx, response_write_fn write, void *out);
	void *stream_ctx;
	void (*stream_free)(void *ctx);
};

/* true when s is 8..64 characters of [A-Za-z0-9_-]: a request id a client
 * may choose (anything else is replaced by a generated one). */
bool request_id_valid(const char *s);

/*
 * Fills req from a NULL-terminated "NAME=value" array. Never fails: a problem
 * with the request line (bad method, path not absolute or too long) is
 * recorded in req->err and answered by the dispatcher.
 */
void request_init(struct request *req, const char *const *params, const struct cohort_config *cfg,
		  struct worker *w, request_reader reader, void *reader_ctx);
void request_release(struct request *req);

/* A parameter of the request, or NULL. */
const char *request_param(const char *const *params, const char *name);

/*
 * Reads the whole body (once; later calls return the same bytes). Fails with
 * COHORT_E_TOOBIG when Content-Length or the bytes sent exceed req->max_body
 * (reading stops at the limit), COHORT_E_INVAL when fewer bytes arrive than
 * Content-Length promised.
 */
int request_body(struct request *req, const char **buf, size_t *len);

/* Reads and drops what is left of the body, up to max bytes. true when the
 * body was consumed to its end. */
bool request_drain(struct request *req, long max);

/* The parsed query string (COHORT_E_INVAL / COHORT_E_LIMIT when it is bad). */
int request_query(struct request *req, const struct query **out);

/* The route parameter name as an id (1..2^63-1, decimal): 0 with *out set;
 * 1 when the matched route has no such parameter; COHORT_E_NOTFOUND when
 * the value is not an id (no resource can have it). */
int request_id_param(const struct request *req, const char *name, int64_t *out);

/* true when Content-Type is application/json (any case, parameters allowed). */
bool request_is_json(const struct request *req);

/*
 * The body as one JSON object, for handlers that take one: checks the
 * Content-Type (415), reads the body within api.max_body (413) and parses it
 * (400 malformed_json / invalid_utf8), with the detail set in res. The
 * caller json_put()s *root.
 */
int request_json(struct request *req, struct response *res, struct json_object **root);

void response_init(struct response *res);
void response_release(struct response *res);
/* Adds a header line; name and value must not contain CR or LF (BUG). */
int response_header(struct response *res, const char *name, const char *value);
/* Sets the problem detail (printf-style) that goes with the error a handler returns. */
void response_detail(struct response *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Status and Content-Type application/json; the body is what is in res->body. */
void response_json(struct response *res, int status);
/* Finishes w and makes it the JSON body with status. */
int response_jsonw(struct response *res, int status, struct jsonw *w);
/* Replaces the body with the problem+json for err (detail may be NULL),
 * sets status and content type, and the headers that go with some errors. */
void response_problem(struct response *res, int err, const char *detail, const char *request_id);

/* Runs res->stream_free(res->stream_ctx) once and clears the stream. */
void response_stream_release(struct response *res);

/* The CGI response head: Status, Content-Type, Content-Length (not for a
 * streamed body), X-Request-Id,
 * Cache-Control, extra headers, blank line. */
int response_head(const struct response *res, const char *request_id, struct strbuf *out);

/* "OK", "Not Found", ...; "Unknown" for codes outside the table. */
const char *http_reason(int status);

#endif
