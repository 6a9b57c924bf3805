/*
 * Unit tests for api/dispatch with the real route table and handlers: the
 * order of checks (request line, body limit, route, method, permission,
 * handler), the problem+json every error becomes, and every way a
 * development event can be refused. Redis points at a closed port, so a
 * request that got past validation shows up as 503 redis_error — and
 * nothing here can append anything.
 */
#include "api/dispatch.h"
#include "api/metrics.h"
#include "api/permission.h"
#include "api/request.h"
#include "api/router.h"
#include "api/routes.h"
#include "api/worker.h"
#include "core/config.h"
#include "core/err.h"
#include "core/event.h"
#include "core/ids.h"
#include "core/log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct cohort_config cfg;
static struct worker worker;

static int setup(void **state)
{
	const struct route *table;
	char err[256];
	size_t n;

	(void)state;
	log_init("test", "error");
	if (ids_init() || config_load(&cfg, NULL, err, sizeof(err)))
		return -1;
	free(cfg.db_path);
	cfg.db_path = strdup(":memory:");
	free(cfg.redis_host);
	cfg.redis_host = strdup("127.0.0.1");
	cfg.redis_port = 1; /* nothing listens there */
	free(cfg.redis_socket);
	cfg.redis_socket = strdup("");
	cfg.redis_timeout_ms = 200;
	cfg.api_max_body = 1 << 20;
	table = routes_table(&n);
	metrics_init(table, n);
	return worker_init(&worker, 0, &cfg);
}

static int teardown(void **state)
{
	(void)state;
	worker_release(&worker);
	config_release(&cfg);
	return 0;
}

struct body_reader {
	const char *data;
	size_t len, pos;
	int calls;
};

static long read_body(void *ctx, char *buf, size_t len)
{
	struct body_reader *b = ctx;
	size_t n = b->len - b->pos;

	b->calls++;
	if (n > len)
		n = len;
	memcpy(buf, b->data + b->pos, n);
	b->pos += n;
	return (long)n;
}

struct dcase {
	bool dev;
	const char *method;
	const char *uri;
	const char *content_type; /* NULL: none */
	const char *body;         /* NULL: none */
	int status;
	const char *code;   /* problem code, NULL for a success */
	const char *detail; /* substring of the detail, or NULL */
};

static const struct dcase cases[] = {
	{ true, "GET", "/api/v1/nope", NULL, NULL, 404, "no_route", NULL },
	{ true, "GET", "/api/v1/health/", NULL, NULL, 404, "no_route", NULL },
	{ true, "POST", "/api/v1/health", NULL, NULL, 405, "method_not_allowed", "allowed: GET, HEAD" },
	{ true, "DELETE", "/api/v1/dev/events", NULL, NULL, 405, "method_not_allowed", "allowed: POST" },
	{ true, "get", "/api/v1/health", NULL, NULL, 400, "invalid_request", "method" },
	{ true, "GET", "api/v1/health", NULL, NULL, 400, "invalid_request", "start with '/'" },
	{ true, "GET", "/api/v1/h\xc3\xa9", NULL, NULL, 400, "invalid_request", "percent-encoded" },
	/* The permission is checked before the handler: with the flag off the
	 * route does not exist for clients, whatever the body. */
	{ false, "POST", "/api/v1/dev/events", "application/json", "{\"stream\":\"dev:a\",\"type\":\"t\",\"data\":1}",
	  404, "feature_disabled", NULL },
	{ false, "POST", "/api/v1/dev/events", "text/plain", "x", 404, "feature_disabled", NULL },
	{ true, "POST", "/api/v1/dev/events", "text/plain", "{}", 415, "unsupported_media", "application/json" },
	{ true, "POST", "/api/v1/dev/events", NULL, "{}", 415, "unsupported_media", NULL },
	{ true, "POST", "/api/v1/dev/events", "application/json", "", 400, "malformed_json", NULL },
	{ true, "POST", "/api/v1/dev/events", "application/json", "not json", 400, "malformed_json", NULL },
	{ true, "POST", "/api/v1/dev/events", "application/json", "[1,2]", 400, "malformed_json", NULL },
	{ true, "POST", "/api/v1/dev/events", "application/json", "{\"stream\":\"dev:a\"", 400, "malformed_json", NULL },
	{ true, "POST", "/api/v1/dev/events", "application/json",
	  "{\"stream\":\"dev:a\",\"type\":\"t\",\"data\":1} {}", 400, "malformed_json", NULL },
	{ true, "POST", "/api/v1/dev/events", "application/json", "{'stream':'dev:a'}", 400, "malformed_json", NULL },
	{ true, "POST", "/api/v1/dev/events", "application/json",
	  "{\"stream\":\"dev:a\",\"type\":\"t\",\"data\":\"\xff\"}", 400, "invalid_utf8", NULL },
	{ true, "POST", "/api/v1/dev/events", "application/json",
	  "{\"stream\":\"dev:a\",\"type\":\"t\",\"data\":\"\xed\xa0\x80\"}", 400, "invalid_utf8", NULL },
	{ true, "POST", "/api/v1/dev/events", "application/json", "{}", 422, "invalid_field", "stream" },
	{ true, "POST", "/api/v1/dev/events", "application/json", "{\"stream\":5,\"type\":\"t\",\"data\":1}", 422,
	  "invalid_field", "stream" },
	{ true, "POST", "/api/v1/dev/events", "application/json", "{\"stream\":null,\"type\":\"t\",\"data\":1}", 422,
	  "invalid_field", "stream" },
	{ true, "POST", "/api/v1/dev/events", "application/json", "{\"stream\":\"nocolon\",\"type\":\"t\",\"data\":1}",
	  400, "invalid_stream", NULL },
	{ true, "POST", "/api/v1/dev/events", "application/json", "{\"stream\":\"dev:\",\"type\":\"t\",\"data\":1}",
	  400, "invalid_stream", NULL },
	{ true, "POST", "/api/v1/dev/events", "application/json", "{\"stream\":\"dev:a b\",\"type\":\"t\",\"data\":1}",
	  400, "invalid_stream", NULL },
	{ true, "POST", "/api/v1/dev/events", "application/json",
	  "{\"stream\":\"dev:a\\u0000b\",\"type\":\"t\",\"data\":1}", 422, "invalid_field", "stream" },
	{ true, "POST", "/api/v1/dev/events", "application/json", "{\"stream\":\"project:1\",\"type\":\"t\",\"data\":1}",
	  400, "unknown_stream", NULL },
	{ true, "POST", "/api/v1/dev/events", "application/json", "{\"stream\":\"dev:a\"}", 422, "invalid_field",
	  "type" },
	{ true, "POST", "/api/v1/dev/events", "application/json", "{\"stream\":\"dev:a\",\"type\":5,\"data\":1}", 422,
	  "invalid_field", "type" },
	{ true, "POST", "/api/v1/dev/events", "application/json", "{\"stream\":\"dev:a\",\"type\":\"\",\"data\":1}",
	  422, "invalid_field", "type" },
	{ true, "POST", "/api/v1/dev/events", "application/json",
	  "{\"stream\":\"dev:a\",\"type\":\"Bad Type\",\"data\":1}", 422, "invalid_field", "type" },
	{ true, "POST", "/api/v1/dev/events", "application/json",
	  "{\"stream\":\"dev:a\",\"type\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"data\":1}",
	  422, "invalid_field", "type" }, /* 65 characters */
	{ true, "POST", "/api/v1/dev/events", "application/json", "{\"stream\":\"dev:a\",\"type\":\"t\"}", 422,
	  "invalid_field", "data" },
	/* Valid: only Redis is missing. */
	{ true, "POST", "/api/v1/dev/events", "application/json", "{\"stream\":\"dev:a\",\"type\":\"t\",\"data\":null}",
	  503, "redis_error", NULL },
	{ true, "POST", "/api/v1/dev/events", "application/json; charset=utf-8",
	  "{\"type\":\"a.b-c_1\",\"data\":{\"x\":[1,\"\xc3\xa9\"]},\"stream\":\"dev:A-b_c.1\",\"extra\":true}", 503,
	  "redis_error", NULL },
	{ true, "GET", "/api/v1/health", NULL, NULL, 503, NULL, NULL },
	{ true, "HEAD", "/api/v1/health", NULL, NULL, 503, NULL, NULL },
	{ true, "GET", "/api/v1/metrics", NULL, NULL, 200, NULL, NULL },
};

static void run(const struct dcase *c, long long content_length, struct body_reader *b, struct request *req,
		struct response *res)
{
	char m[64], u[4200], ct[128], cl[64];
	const char *params[] = { m, u, ct, cl, "HTTP_X_REQUEST_ID=test-request-1", NULL };

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", c->method);
	snprintf(u, sizeof(u), "REQUEST_URI=%s", c->uri);
	snprintf(ct, sizeof(ct), "CONTENT_TYPE=%s", c->content_type ? c->content_type : "");
	if (content_length >= 0)
		snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%lld", content_length);
	else
		snprintf(cl, sizeof(cl), "CONTENT_LENGTH=");
	cfg.dev_events = c->dev;
	request_init(req, params, &cfg, &worker, read_body, b);
	response_init(res);
	dispatch(req, res);
	dispatch_finish(req, res, res->body.len);
}

static void test_dispatch_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct dcase *c = &cases[i];
		struct body_reader b = { c->body ? c->body : "", c->body ? strlen(c->body) : 0, 0, 0 };
		struct request req;
		struct response res;
		char want[96];

		print_message("case %zu: %s %s %s\n", i, c->method, c->uri, c->body ? c->body : "");
		run(c, c->body ? (long long)strlen(c->body) : -1, &b, &req, &res);
		assert_int_equal(res.status, c->status);
		if (c->code) {
			assert_string_equal(res.content_type, "application/problem+json");
			snprintf(want, sizeof(want), "\"code\":\"%s\"", c->code);
			assert_non_null(strstr(res.body.buf, want));
			assert_string_equal(res.err_code, c->code);
			assert_non_null(strstr(res.body.buf, "\"request_id\":\"test-request-1\""));
			if (c->detail)
				assert_non_null(strstr(res.body.buf, c->detail));
		} else {
			assert_null(res.err_code);
		}
		if (c->status == 405) {
			assert_non_null(res.headers.buf);
			assert_non_null(strstr(res.headers.buf, "Allow: "));
		}
		response_release(&res);
		request_release(&req);
	}
}

static void test_health_when_redis_is_down(void **state)
{
	static const struct dcase c = { true, "GET", "/api/v1/health", NULL, NULL, 503, NULL, NULL };
	struct body_reader b = { "", 0, 0, 0 };
	struct request req;
	struct response res;

	(void)state;
	run(&c, -1, &b, &req, &res);
	assert_int_equal(res.status, 503);
	assert_string_equal(res.content_type, "application/json");
	assert_non_null(strstr(res.body.buf, "\"status\":\"unavailable\""));
	assert_non_null(strstr(res.body.buf, "\"redis\":{\"ok\":false,\"version\":null,\"error\":"));
	assert_non_null(strstr(res.body.buf, "\"database\":{\"ok\":true,\"version\":\"sqlite "));
	assert_non_null(strstr(res.body.buf, "\"libraries\":{\"hiredis\":"));
	response_release(&res);
	request_release(&req);
}

static void test_body_limits(void **state)
{
	static const struct dcase c = { true, "POST", "/api/v1/dev/events", "application/json", NULL, 413,
					"body_too_large", NULL };
	size_t big = EVENT_DATA_MAX + 100;
	char *body = malloc(big + 200);
	struct body_reader b;
	struct request req;
	struct response res;
	size_t n;

	(void)state;
	assert_non_null(body);
	cfg.api_max_body = 2048;

	/* Content-Length over the limit: refused before a byte is read. */
	b = (struct body_reader){ "{}", 2, 0, 0 };
	run(&c, 2049, &b, &req, &res);
	assert_int_equal(res.status, 413);
	assert_non_null(strstr(res.body.buf, "\"code\":\"body_too_large\""));
	assert_int_equal(b.calls, 0);
	response_release(&res);
	request_release(&req);

	/* No Content-Length, more bytes than the limit: reading stops there. */
	n = (size_t)snprintf(body, big + 200, "{\"stream\":\"dev:a\",\"type\":\"t\",\"data\":\"");
	memset(body + n, 'x', 3000);
	n += 3000;
	n += (size_t)snprintf(body + n, big + 200 - n, "\"}");
	b = (struct body_reader){ body, n, 0, 0 };
	run(&c, -1, &b, &req, &res);
	assert_int_equal(res.status, 413);
	assert_non_null(strstr(res.body.buf, "\"code\":\"body_too_large\""));
	assert_true(b.pos <= 2049);
	response_release(&res);
	request_release(&req);

	/* Within api.max_body but data over EVENT_DATA_MAX: 413 limit_exceeded. */
	cfg.api_max_body = 1 << 20;
	n = (size_t)snprintf(body, big + 200, "{\"stream\":\"dev:a\",\"type\":\"t\",\"data\":\"");
	memset(body + n, 'x', big);
	n += big;
	n += (size_t)snprintf(body + n, 200, "\"}");
	b = (struct body_reader){ body, n, 0, 0 };
	run(&c, (long long)n, &b, &req, &res);
	assert_int_equal(res.status, 413);
	assert_non_null(strstr(res.body.buf, "\"code\":\"limit_exceeded\""));
	assert_non_null(strstr(res.body.buf, "data"));
	response_release(&res);
	request_release(&req);
	free(body);
}

static int h_ok(struct request *req, struct response *res)
{
	(void)req;
	response_json(res, 200);
	return strbuf_adds(&res->body, "{}");
}

static int h_no_status(struct request *req, struct response *res)
{
	(void)req;
	(void)res;
	return 0;
}

static int h_fail(struct request *req, struct response *res)
{
	(void)req;
	response_header(res, "X-Dropped", "1");
	strbuf_adds(&res->body, "partial");
	response_detail(res, "field %s is wrong", "x");
	return COHORT_E_FIELD;
}

static void test_permissions_before_handler(void **state)
{
	static const struct route t[] = {
		{ "GET", "/pub", PERM_PUBLIC, h_ok, "pub" },
		{ "GET", "/user", PERM_USER, h_ok, "user" },
		{ "GET", "/admin", PERM_ADMIN, h_ok, "admin" },
		{ "GET", "/p/{id}", PERM_PROJECT_WRITE, h_ok, "proj" },
		{ "GET", "/dev", PERM_DEV, h_ok, "dev" },
		{ "GET", "/nostatus", PERM_PUBLIC, h_no_status, "nostatus" },
		{ "GET", "/fail", PERM_PUBLIC, h_fail, "fail" },
	};
	static const struct {
		const char *uri;
		bool dev;
		int status;
		const char *header;
	} rows[] = {
		{ "/pub", false, 200, NULL },
		{ "/user", true, 401, "WWW-Authenticate: Bearer" },
		{ "/admin", true, 401, "WWW-Authenticate: Bearer" },
		{ "/p/1", true, 401, "WWW-Authenticate: Bearer" },
		{ "/dev", false, 404, NULL },
		{ "/dev", true, 200, NULL },
		{ "/nostatus", false, 500, NULL },
		{ "/fail", false, 422, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char u[64];
		const char *params[] = { "REQUEST_METHOD=GET", u, NULL };
		struct request req;
		struct response res;

		snprintf(u, sizeof(u), "REQUEST_URI=%s", rows[i].uri);
		cfg.dev_events = rows[i].dev;
		request_init(&req, params, &cfg, &worker, NULL, NULL);
		response_init(&res);
		dispatch_table(t, sizeof(t) / sizeof(t[0]), &req, &res);
		print_message("permission %zu: %s\n", i, rows[i].uri);
		assert_int_equal(res.status, rows[i].status);
		if (rows[i].header)
			assert_non_null(strstr(res.headers.buf, rows[i].header));
		if (rows[i].status == 422) {
			/* The handler's partial body and headers are replaced. */
			assert_null(strstr(res.body.buf, "partial"));
			assert_int_equal(res.headers.len, 0);
			assert_non_null(strstr(res.body.buf, "\"detail\":\"field x is wrong\""));
		}
		response_release(&res);
		request_release(&req);
	}
}

static void test_permission_check(void **state)
{
	struct request req = { 0 };

	(void)state;
	req.cfg = &cfg;
	for (int dev = 0; dev <= 1; dev++) {
		cfg.dev_events = dev;
		for (int p = 0; p < PERM__COUNT; p++) {
			int want = p == PERM_PUBLIC ? 0
				   : p == PERM_DEV  ? (dev ? 0 : COHORT_E_DISABLED)
						    : COHORT_E_AUTH; /* anonymous */

			assert_int_equal(permission_check((enum permission)p, &req, NULL), want);
			assert_string_not_equal(permission_name((enum permission)p), "?");
		}
	}
	assert_int_equal(permission_check(PERM__COUNT, &req, NULL), COHORT_E_FORBIDDEN);
	assert_string_equal(permission_name(PERM__COUNT), "?");
	assert_string_equal(permission_name(PERM_COURSE_TEACHER), "course_teacher");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch_cases),
		cmocka_unit_test(test_health_when_redis_is_down),
		cmocka_unit_test(test_body_limits),
		cmocka_unit_test(test_permissions_before_handler),
		cmocka_unit_test(test_permission_check),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
