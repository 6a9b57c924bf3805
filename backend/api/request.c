#include "api/request.h"
#include "api/query.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/num.h"
#include "core/problem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool request_id_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];

		if (n == REQUEST_ID_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return n >= REQUEST_ID_MIN;
}

const char *request_param(const char *const *params, const char *name)
{
	size_t n = strlen(name);

	for (; params && *params; params++)
		if (!strncmp(*params, name, n) && (*params)[n] == '=')
			return *params + n + 1;
	return NULL;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

static void fail(struct request *req, int err, const char *detail)
{
	if (!req->err) {
		req->err = err;
		req->err_detail = detail;
	}
}

static void parse_method(struct request *req, const char *m)
{
	size_t n = m ? strlen(m) : 0;
	bool ok = n > 0 && n <= REQUEST_METHOD_MAX;

	for (size_t i = 0; ok && i < n; i++)
		ok = m[i] >= 'A' && m[i] <= 'Z';
	if (!ok) {
		snprintf(req->method, sizeof(req->method), "-");
		fail(req, COHORT_E_INVAL, "missing or malformed request method");
		return;
	}
	memcpy(req->method, m, n + 1);
}

/*
 * The path is taken from REQUEST_URI (the URI exactly as the client sent it)
 * so that literal route segments are compared with what the client asked
 * for, and "%2F" inside a parameter stays inside it. Servers that do not
 * pass REQUEST_URI give SCRIPT_NAME + PATH_INFO, already decoded.
 */
static void parse_path(struct request *req, const char *const *params)
{
	const char *uri = nonempty(request_param(params, "REQUEST_URI"));
	const char *q;
	size_t n;

	req->query = "";
	if (uri) {
		q = strchr(uri, '?');
		n = q ? (size_t)(q - uri) : strlen(uri);
		if (q)
			req->query = q + 1;
		if (n > REQUEST_PATH_MAX) {
			fail(req, COHORT_E_LIMIT, "request path longer than 2048 bytes");
			n = REQUEST_PATH_MAX;
		}
		memcpy(req->path, uri, n);
		req->path[n] = '\0';
	} else {
		const char *script = request_param(params, "SCRIPT_NAME");
		const char *info = request_param(params, "PATH_INFO");
		int w = snprintf(req->path, sizeof(req->path), "%s%s", script ? script : "", info ? info : "");

		if (w < 0 || (size_t)w >= sizeof(req->path))
			fail(req, COHORT_E_LIMIT, "request path longer than 2048 bytes");
		n = strlen(req->path);
		q = request_param(params, "QUERY_STRING");
		req->query = q ? q : "";
	}
	req->path_len = n;
	if (n == 0 || req->path[0] != '/')
		fail(req, COHORT_E_INVAL, "request path must start with '/'");
	/* Only printable ASCII reaches the router and the log; anything else
	 * must be percent-encoded. The copy is made printable for the log. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)req->path[i];

		if (c <= 0x20 || c >= 0x7f) {
			fail(req, COHORT_E_INVAL, "request path with a byte that must be percent-encoded");
			req->path[i] = '?';
		}
	}
}

static void parse_content_length(struct request *req, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	uint64_t v;

	req->content_length = -1;
	if (n == 0)
		return;
	if (strspn(s, "0123456789") != n) {
		fail(req, COHORT_E_INVAL, "malformed Content-Length");
		return;
	}
	/* All digits: a number too large for parse_u64n is simply too large. */
	if (parse_u64n(s, n, &v) || v > INT64_MAX)
		req->content_length = INT64_MAX;
	else
		req->content_length = (long long)v;
}

void request_init(struct request *req, const char *const *params, const struct cohort_config *cfg,
		  struct worker *w, request_reader reader, void *reader_ctx)
{
	const char *rid = request_param(params, "HTTP_X_REQUEST_ID");

	memset(req, 0, sizeof(*req));
	req->recv_wall_us = clock_wall_us();
	req->start_mono_us = clock_mono_us();
	req->cfg = cfg;
	req->worker = w;
	req->reader = reader;
	req->reader_ctx = reader_ctx;
	req->max_body = cfg->api_max_body;
	strbuf_init(&req->body, (size_t)cfg->api_max_body);
	if (request_id_valid(rid))
		snprintf(req->id, sizeof(req->id), "%s", rid);
	else
		ids_request(req->id);
	parse_method(req, request_param(params, "REQUEST_METHOD"));
	parse_path(req, params);
	parse_content_length(req, request_param(params, "CONTENT_LENGTH"));
	req->content_type = nonempty(request_param(params, "CONTENT_TYPE"));
	req->remote_addr = nonempty(request_param(params, "REMOTE_ADDR"));
	req->authorization = nonempty(request_param(params, "HTTP_AUTHORIZATION"));
	req->cookie = nonempty(request_param(params, "HTTP_COOKIE"));
	req->if_match = nonempty(request_param(params, "HTTP_IF_MATCH"));
	req->room_member = nonempty(request_param(params, "HTTP_X_ROOM_MEMBER"));
}

void request_release(struct request *req)
{
	if (!req)
		return;
	strbuf_release(&req->body);
	free(req->q);
	req->q = NULL;
}

static int read_all(struct request *req)
{
	long max = req->max_body;
	char chunk[16384];

	if (req->content_length > max)
		return COHORT_E_TOOBIG;
	req->body.max = (size_t)max;
	for (;;) {
		/* Ask for at most one byte past the limit: enough to know the
		 * body is too large without reading the rest of it. */
		size_t room = (size_t)max + 1 - req->body.len;
		long n = req->reader ? req->reader(req->reader_ctx, chunk, room < sizeof(chunk) ? room : sizeof(chunk))
				     : 0;
		int err;

		if (n < 0)
			return (int)n;
		if (n == 0) {
			req->body_complete = true;
			break;
		}
		if (req->body.len + (size_t)n > (size_t)max)
			return COHORT_E_TOOBIG;
		err = strbuf_add(&req->body, chunk, (size_t)n);
		if (err)
			return err;
	}
	if (req->content_length >= 0 && (long long)req->body.len != req->content_length)
		return COHORT_E_INVAL;
	return 0;
}

int request_body(struct request *req, const char **buf, size_t *len)
{
	if (!req->body_read) {
		req->body_read = true;
		req->body_err = read_all(req);
		if (req->body_err)
			strbuf_reset(&req->body);
	}
	*buf = req->body.buf ? req->body.buf : "";
	*len = req->body.len;
	return req->body_err;
}

bool request_drain(struct request *req, long max)
{
	char chunk[16384];
	long left = max;

	while (!req->body_complete && left > 0 && req->reader) {
		long n = req->reader(req->reader_ctx, chunk, (size_t)left < sizeof(chunk) ? (size_t)left : sizeof(chunk));

		if (n < 0)
			return false;
		if (n == 0)
			req->body_complete = true;
		left -= n;
	}
	return req->body_complete || !req->reader;
}

int request_query(struct request *req, const struct query **out)
{
	int err;

	*out = NULL;
	if (!req->q) {
		req->q = malloc(sizeof(*req->q));
		if (!req->q)
			return COHORT_E_NOMEM;
		err = query_parse(req->q, req->query, strlen(req->query));
		if (err) {
			free(req->q);
			req->q = NULL;
			return err;
		}
	}
	*out = req->q;
	return 0;
}

int request_id_param(const struct request *req, const char *name, int64_t *out)
{
	const char *v;
	size_t len;
	uint64_t n;

	*out = 0;
	if (route_param(&req->match, name, &v, &len))
		return 1;
	if (len == 0 || len > 19 || strspn(v, "0123456789") < len || v[0] == '0' || parse_u64n(v, len, &n) ||
	    n > INT64_MAX)
		return COHORT_E_NOTFOUND;
	*out = (int64_t)n;
	return 0;
}

bool request_is_json(const struct request *req)
{
	const char *ct = req->content_type;
	static const char json[] = "application/json";

	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, json, sizeof(json) - 1))
		return false;
	ct += sizeof(json) - 1;
	return *ct == '\0' || *ct == ';' || *ct == ' ' || *ct == '\t';
}

int request_json(struct request *req, struct response *res, struct json_object **root)
{
	const char *body;
	size_t len;
	int err;

	*root = NULL;
	if (!request_is_json(req)) {
		response_detail(res, "Content-Type must be application/json");
		return COHORT_E_MEDIATYPE;
	}
	err = request_body(req, &body, &len);
	if (err == COHORT_E_TOOBIG)
		response_detail(res, "the body exceeds the limit of %ld bytes", req->max_body);
	else if (err == COHORT_E_INVAL)
		response_detail(res, "the body is shorter than its Content-Length");
	if (err)
		return err;
	err = json_parse_object(body, len, root);
	if (err)
		response_detail(res, err == COHORT_E_UTF8 ? "the body is not valid UTF-8"
							  : "the body must be one JSON object");
	return err;
}

/* ---- responses ---- */

int response_jsonw(struct response *res, int status, struct jsonw *w)
{
	int err = jsonw_finish(w);

	if (!err) {
		strbuf_reset(&res->body);
		err = strbuf_add(&res->body, w->sb.buf, w->sb.len);
	}
	if (!err)
		response_json(res, status);
	return err;
}

void response_init(struct response *res)
{
	memset(res, 0, sizeof(*res));
	strbuf_init(&res->headers, 16384);
	strbuf_init(&res->body, 0);
}

void response_release(struct response *res)
{
	if (!res)
		return;
	strbuf_release(&res->headers);
	strbuf_release(&res->body);
	response_stream_release(res);
}

void response_stream_release(struct response *res)
{
	if (res->stream_free && res->stream_ctx)
		res->stream_free(res->stream_ctx);
	res->stream = NULL;
	res->stream_ctx = NULL;
	res->stream_free = NULL;
}

static int add_header(struct strbuf *sb, const char *name, const char *value)
{
	int err = strbuf_adds(sb, name);

	if (!err)
		err = strbuf_add(sb, ": ", 2);
	if (!err)
		err = strbuf_adds(sb, value);
	return err ? err : strbuf_add(sb, "\r\n", 2);
}

int response_header(struct response *res, const char *name, const char *value)
{
	BUG_ON(strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"));
	return add_header(&res->headers, name, value);
}

void response_detail(struct response *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
}

void response_json(struct response *res, int status)
{
	res->status = status;
	res->content_type = "application/json";
}

void response_problem(struct response *res, int err, const char *detail, const char *request_id)
{
	strbuf_reset(&res->body);
	strbuf_reset(&res->headers);
	response_stream_release(res);
	res->status = problem_build(&res->body, err, detail, request_id);
	res->content_type = PROBLEM_CONTENT_TYPE;
	res->err_code = cohort_errcode(err);
}

int response_head(const struct response *res, const char *request_id, struct strbuf *out)
{
	int err = strbuf_adds(out, "Status: ");

	if (!err)
		err = strbuf_add_int(out, res->status);
	if (!err)
		err = strbuf_addch(out, ' ');
	if (!err)
		err = strbuf_adds(out, http_reason(res->status));
	if (!err)
		err = strbuf_add(out, "\r\n", 2);
	if (!err && res->content_type)
		err = add_header(out, "Content-Type", res->content_type);
	if (!err && !res->stream) {
		err = strbuf_adds(out, "Content-Length: ");
		if (!err)
			err = strbuf_add_int(out, (long long)res->body.len);
		if (!err)
			err = strbuf_add(out, "\r\n", 2);
	}
	if (!err)
		err = add_header(out, "X-Request-Id", request_id);
	if (!err)
		err = strbuf_adds(out, "Cache-Control: no-store\r\n");
	if (!err)
		err = strbuf_add(out, res->headers.buf ? res->headers.buf : "", res->headers.len);
	if (!err)
		err = strbuf_adds(out, "\r\n");
	return err;
}

const char *http_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} reasons[] = {
		{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" }, { 204, "No Content" },
		{ 304, "Not Modified" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 406, "Not Acceptable" }, { 409, "Conflict" }, { 410, "Gone" }, { 412, "Precondition Failed" },
		{ 413, "Content Too Large" }, { 428, "Precondition Required" }, { 415, "Unsupported Media Type" },
		{ 422, "Unprocessable Content" }, { 429, "Too Many Requests" },
		{ 500, "Internal Server Error" }, { 502, "Bad Gateway" },
		{ 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}
