/*
 * Unit tests for api/request: request-id validation, the typed request built
 * from FastCGI parameters, the bounded body reader, media types, and the
 * response head.
 */
#include "api/query.h"
#include "api/request.h"
#include "core/config.h"
#include "core/err.h"
#include "core/ids.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct cohort_config cfg;

static int setup(void **state)
{
	char err[256];

	(void)state;
	if (ids_init() || config_load(&cfg, NULL, err, sizeof(err)))
		return -1;
	cfg.api_max_body = 100;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_release(&cfg);
	return 0;
}

struct rid_case {
	const char *id;
	bool valid;
};

static const struct rid_case rids[] = {
	{ "abcdefgh", true },
	{ "ABCD-efg_1234", true },
	{ "0123456789012345678901234567890123456789012345678901234567890123", true }, /* 64 */
	{ "01234567890123456789012345678901234567890123456789012345678901234", false }, /* 65 */
	{ "abcdefg", false },  /* 7 */
	{ "", false },
	{ NULL, false },
	{ "abcd efgh", false },
	{ "abcdefgh\n", false },
	{ "abcd.efgh", false },
	{ "abcd/efgh", false },
	{ "abcd\"efgh", false },
	{ "abcd%20efgh", false },
	{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", false },
};

static void test_request_id_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rids) / sizeof(rids[0]); i++) {
		print_message("rid %zu: %s\n", i, rids[i].id ? rids[i].id : "(null)");
		assert_int_equal(request_id_valid(rids[i].id), rids[i].valid);
	}
}

static void test_request_id_echoed_or_generated(void **state)
{
	const char *given[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/x", "HTTP_X_REQUEST_ID=client-chosen_id1", NULL };
	const char *bad[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/x", "HTTP_X_REQUEST_ID=bad id", NULL };
	const char *none[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/x", NULL };
	struct request a, b, c, d;

	(void)state;
	request_init(&a, given, &cfg, NULL, NULL, NULL);
	assert_string_equal(a.id, "client-chosen_id1");
	request_init(&b, bad, &cfg, NULL, NULL, NULL);
	assert_int_equal(strlen(b.id), IDS_REQUEST_LEN);
	assert_true(request_id_valid(b.id));
	request_init(&c, none, &cfg, NULL, NULL, NULL);
	request_init(&d, none, &cfg, NULL, NULL, NULL);
	assert_true(request_id_valid(c.id));
	assert_string_not_equal(c.id, d.id);
	assert_int_equal(a.err, 0);
	assert_int_equal(b.err, 0); /* a bad id is replaced, not refused */
	request_release(&a);
	request_release(&b);
	request_release(&c);
	request_release(&d);
}

struct init_case {
	const char *params[8];
	int err;
	const char *method;
	const char *path;
	const char *query;
	long long content_length;
};

static const struct init_case inits[] = {
	{ { "REQUEST_METHOD=GET", "REQUEST_URI=/api/v1/health" }, 0, "GET", "/api/v1/health", "", -1 },
	{ { "REQUEST_METHOD=GET", "REQUEST_URI=/a/b?x=1&y=%20" }, 0, "GET", "/a/b", "x=1&y=%20", -1 },
	{ { "REQUEST_METHOD=GET", "REQUEST_URI=/a?" }, 0, "GET", "/a", "", -1 },
	{ { "REQUEST_METHOD=GET", "REQUEST_URI=/a?b?c" }, 0, "GET", "/a", "b?c", -1 },
	/* REQUEST_URI wins over QUERY_STRING and the decoded names. */
	{ { "REQUEST_METHOD=GET", "REQUEST_URI=/a%2Fb?q", "QUERY_STRING=zzz", "DOCUMENT_URI=/a/b" }, 0, "GET",
	  "/a%2Fb", "q", -1 },
	{ { "REQUEST_METHOD=GET", "SCRIPT_NAME=/api", "PATH_INFO=/v1/x", "QUERY_STRING=k=v" }, 0, "GET",
	  "/api/v1/x", "k=v", -1 },
	{ { "REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_LENGTH=12" }, 0, "POST", "/x", "", 12 },
	{ { "REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_LENGTH=" }, 0, "POST", "/x", "", -1 },
	{ { "REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_LENGTH=0" }, 0, "POST", "/x", "", 0 },
	{ { "REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_LENGTH=99999999999999999999999" }, 0, "POST", "/x",
	  "", INT64_MAX },
	{ { "REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_LENGTH=-1" }, COHORT_E_INVAL, "POST", "/x", "", -1 },
	{ { "REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_LENGTH=1x" }, COHORT_E_INVAL, "POST", "/x", "", -1 },
	{ { "REQUEST_URI=/x" }, COHORT_E_INVAL, "-", "/x", "", -1 },
	{ { "REQUEST_METHOD=get", "REQUEST_URI=/x" }, COHORT_E_INVAL, "-", "/x", "", -1 },
	{ { "REQUEST_METHOD=GETTTTTTTTTTTTTTT", "REQUEST_URI=/x" }, COHORT_E_INVAL, "-", "/x", "", -1 },
	{ { "REQUEST_METHOD=GET", "REQUEST_URI=x" }, COHORT_E_INVAL, "GET", "x", "", -1 },
	{ { "REQUEST_METHOD=GET" }, COHORT_E_INVAL, "GET", "", "", -1 },
	{ { "REQUEST_METHOD=GET", "REQUEST_URI=/a b" }, COHORT_E_INVAL, "GET", "/a?b", "", -1 },
	{ { "REQUEST_METHOD=GET", "REQUEST_URI=/\xc3\xa9" }, COHORT_E_INVAL, "GET", "/??", "", -1 },
	{ { "REQUEST_METHOD=GET", "REQUEST_URI=/a\x7f" }, COHORT_E_INVAL, "GET", "/a?", "", -1 },
};

static void test_request_init(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(inits) / sizeof(inits[0]); i++) {
		const struct init_case *c = &inits[i];
		struct request req;

		print_message("init %zu: %s\n", i, c->params[1] ? c->params[1] : c->params[0]);
		request_init(&req, c->params, &cfg, NULL, NULL, NULL);
		assert_int_equal(req.err, c->err);
		assert_string_equal(req.method, c->method);
		assert_string_equal(req.path, c->path);
		assert_int_equal(req.path_len, strlen(c->path));
		assert_string_equal(req.query, c->query);
		assert_true(req.content_length == c->content_length);
		request_release(&req);
	}
}

static void test_request_headers(void **state)
{
	const char *p[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_TYPE=application/json",
		      "REMOTE_ADDR=127.0.0.1", "HTTP_AUTHORIZATION=Bearer abc", "HTTP_COOKIE=s=1",
		      "HTTP_COOKIE_X=no", NULL };
	const char *empty[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/x", "CONTENT_TYPE=", "REMOTE_ADDR=", NULL };
	struct request req;

	(void)state;
	request_init(&req, p, &cfg, NULL, NULL, NULL);
	assert_string_equal(req.content_type, "application/json");
	assert_string_equal(req.remote_addr, "127.0.0.1");
	assert_string_equal(req.authorization, "Bearer abc");
	assert_string_equal(req.cookie, "s=1");
	request_release(&req);
	request_init(&req, empty, &cfg, NULL, NULL, NULL);
	assert_null(req.content_type);
	assert_null(req.remote_addr);
	assert_null(req.authorization);
	request_release(&req);
}

static void test_request_path_too_long(void **state)
{
	const size_t pre = strlen("REQUEST_URI=");
	char *uri = malloc(pre + REQUEST_PATH_MAX + 2);
	const char *p[] = { "REQUEST_METHOD=GET", uri, NULL };
	struct request req;

	(void)state;
	assert_non_null(uri);
	memset(uri, 'a', pre + REQUEST_PATH_MAX + 1);
	memcpy(uri, "REQUEST_URI=/", pre + 1);
	uri[pre + REQUEST_PATH_MAX] = '\0'; /* a path of REQUEST_PATH_MAX bytes: fine */
	request_init(&req, p, &cfg, NULL, NULL, NULL);
	assert_int_equal(req.err, 0);
	assert_int_equal(req.path_len, REQUEST_PATH_MAX);
	request_release(&req);
	uri[pre + REQUEST_PATH_MAX] = 'a';
	uri[pre + REQUEST_PATH_MAX + 1] = '\0'; /* one byte more */
	request_init(&req, p, &cfg, NULL, NULL, NULL);
	assert_int_equal(req.err, COHORT_E_LIMIT);
	assert_int_equal(req.path_len, REQUEST_PATH_MAX);
	request_release(&req);
	free(uri);
}

/* A body reader over a string, handing out at most chunk bytes per call. */
struct fake_body {
	const char *data;
	size_t len, pos, chunk, calls, asked_max;
	int fail_at; /* call number that fails, 0: none */
};

static long fake_read(void *ctx, char *buf, size_t len)
{
	struct fake_body *f = ctx;
	size_t n = f->len - f->pos;

	f->calls++;
	if (len > f->asked_max)
		f->asked_max = len;
	if (f->fail_at && (int)f->calls == f->fail_at)
		return COHORT_E_IO;
	if (n > len)
		n = len;
	if (n > f->chunk)
		n = f->chunk;
	memcpy(buf, f->data + f->pos, n);
	f->pos += n;
	return (long)n;
}

struct body_case {
	const char *data;
	const char *content_length;
	size_t chunk;
	int fail_at;
	int err;
};

static const char hundred[] = "0123456789012345678901234567890123456789012345678901234567890123456789"
			      "012345678901234567890123456789";
static const char hundred_one[] = "0123456789012345678901234567890123456789012345678901234567890123456789"
				  "0123456789012345678901234567890";

static const struct body_case bodies[] = {
	{ "", "0", 10, 0, 0 },
	{ "", NULL, 10, 0, 0 },
	{ "{}", "2", 1, 0, 0 },
	{ "{\"a\":1}", NULL, 3, 0, 0 },
	{ hundred, "100", 7, 0, 0 },               /* exactly the limit */
	{ hundred, NULL, 100, 0, 0 },
	{ hundred_one, NULL, 7, 0, COHORT_E_TOOBIG }, /* one over, no Content-Length */
	{ hundred_one, "101", 7, 0, COHORT_E_TOOBIG }, /* refused by Content-Length */
	{ "abc", "5", 10, 0, COHORT_E_INVAL },     /* shorter than promised */
	{ "abcdef", "5", 10, 0, COHORT_E_INVAL },  /* longer than promised */
	{ "abc", NULL, 1, 2, COHORT_E_IO },        /* the connection failed */
};

static void test_request_body(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		const struct body_case *c = &bodies[i];
		struct fake_body f = { c->data, strlen(c->data), 0, c->chunk, 0, 0, c->fail_at };
		char cl[64];
		const char *p[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x", cl, NULL };
		struct request req;
		const char *buf;
		size_t len;
		int err;

		snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%s", c->content_length ? c->content_length : "");
		print_message("body %zu: %zu bytes, CL %s\n", i, f.len, c->content_length ? c->content_length : "-");
		request_init(&req, p, &cfg, NULL, fake_read, &f);
		err = request_body(&req, &buf, &len);
		assert_int_equal(err, c->err);
		if (!err) {
			assert_int_equal(len, f.len);
			assert_memory_equal(buf, c->data, len);
			assert_int_equal(buf[len], '\0');
			assert_true(req.body_complete);
		} else {
			assert_int_equal(len, 0);
			assert_string_equal(buf, "");
		}
		/* Never more than one byte past the limit is asked for. */
		assert_true(f.pos <= (size_t)cfg.api_max_body + 1);
		if (c->err == COHORT_E_TOOBIG && c->content_length)
			assert_int_equal(f.calls, 0); /* refused before reading */
		/* A second call answers the same without reading again. */
		{
			size_t calls = f.calls;

			assert_int_equal(request_body(&req, &buf, &len), c->err);
			assert_int_equal(f.calls, calls);
		}
		request_release(&req);
	}
}

static void test_request_drain(void **state)
{
	static char big[5000];
	struct fake_body f = { big, sizeof(big), 0, 512, 0, 0, 0 };
	const char *p[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x", NULL };
	struct request req;
	const char *buf;
	size_t len;

	(void)state;
	memset(big, 'x', sizeof(big));
	request_init(&req, p, &cfg, NULL, fake_read, &f);
	assert_int_equal(request_body(&req, &buf, &len), COHORT_E_TOOBIG);
	assert_false(request_drain(&req, 1000)); /* bounded: not all of it */
	assert_true(f.pos < sizeof(big));
	assert_true(request_drain(&req, 1L << 20));
	assert_int_equal(f.pos, sizeof(big));
	assert_true(req.body_complete);
	request_release(&req);

	/* A request whose body was never read is drained as well. */
	f = (struct fake_body){ big, 10, 0, 3, 0, 0, 0 };
	request_init(&req, p, &cfg, NULL, fake_read, &f);
	assert_true(request_drain(&req, 1L << 20));
	assert_int_equal(f.pos, 10);
	request_release(&req);
}

static void test_request_query(void **state)
{
	const char *p[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/x?streams=dev%3Aa&n=1", NULL };
	const char *bad[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/x?a=%zz", NULL };
	struct request req;
	const struct query *q;

	(void)state;
	request_init(&req, p, &cfg, NULL, NULL, NULL);
	assert_int_equal(request_query(&req, &q), 0);
	assert_string_equal(query_get(q, "streams"), "dev:a");
	assert_string_equal(query_get(q, "n"), "1");
	request_release(&req);
	request_init(&req, bad, &cfg, NULL, NULL, NULL);
	assert_int_equal(request_query(&req, &q), COHORT_E_INVAL);
	assert_null(q);
	request_release(&req);
}

struct ct_case {
	const char *ct;
	bool json;
};

static const struct ct_case cts[] = {
	{ "application/json", true },
	{ "application/json; charset=utf-8", true },
	{ "Application/JSON", true },
	{ " application/json", true },
	{ "application/json ;charset=utf-8", true },
	{ "application/jsonx", false },
	{ "application/problem+json", false },
	{ "text/json", false },
	{ "text/plain", false },
	{ "application/x-www-form-urlencoded", false },
	{ "", false },
	{ NULL, false },
};

static void test_request_is_json(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cts) / sizeof(cts[0]); i++) {
		char ct[128];
		const char *p[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x", cts[i].ct ? ct : NULL, NULL };
		struct request req;

		snprintf(ct, sizeof(ct), "CONTENT_TYPE=%s", cts[i].ct ? cts[i].ct : "");
		request_init(&req, p, &cfg, NULL, NULL, NULL);
		print_message("content type %zu: %s\n", i, cts[i].ct ? cts[i].ct : "(none)");
		assert_int_equal(request_is_json(&req), cts[i].json);
		request_release(&req);
	}
}

static int nop_stream(void *ctx, response_write_fn write, void *out)
{
	(void)ctx;
	return write(out, "x", 1);
}

static int freed;

static void count_free(void *ctx)
{
	(void)ctx;
	freed++;
}

/* A streamed body: no Content-Length; an error answer drops the stream and
 * frees its context exactly once. */
static void test_response_stream(void **state)
{
	struct response res;
	struct strbuf head = STRBUF_INIT;
	int ctx = 0;

	(void)state;
	freed = 0;
	response_init(&res);
	res.status = 200;
	res.content_type = "application/zip";
	res.stream = nop_stream;
	res.stream_ctx = &ctx;
	res.stream_free = count_free;
	assert_int_equal(response_head(&res, "rid12345", &head), 0);
	assert_string_equal(head.buf, "Status: 200 OK\r\n"
				      "Content-Type: application/zip\r\n"
				      "X-Request-Id: rid12345\r\n"
				      "Cache-Control: no-store\r\n"
				      "\r\n");
	strbuf_release(&head);
	response_problem(&res, COHORT_E_REDIS, NULL, "rid12345");
	assert_null(res.stream);
	assert_int_equal(freed, 1);
	response_release(&res);
	assert_int_equal(freed, 1);

	response_init(&res);
	res.stream = nop_stream;
	res.stream_ctx = &ctx;
	res.stream_free = count_free;
	response_release(&res);
	assert_int_equal(freed, 2);
}

static void test_response_head(void **state)
{
	struct response res;
	struct strbuf head = STRBUF_INIT;

	(void)state;
	response_init(&res);
	strbuf_adds(&res.body, "{\"a\":1}");
	response_json(&res, 201);
	response_header(&res, "Location", "/x/1");
	assert_int_equal(response_head(&res, "rid12345", &head), 0);
	assert_string_equal(head.buf, "Status: 201 Created\r\n"
				      "Content-Type: application/json\r\n"
				      "Content-Length: 7\r\n"
				      "X-Request-Id: rid12345\r\n"
				      "Cache-Control: no-store\r\n"
				      "Location: /x/1\r\n"
				      "\r\n");
	strbuf_release(&head);

	/* An error replaces body and headers; the request id is in the body. */
	response_problem(&res, COHORT_E_FIELD, "type: required", "rid12345");
	assert_int_equal(res.status, 422);
	assert_string_equal(res.content_type, "application/problem+json");
	assert_string_equal(res.err_code, "invalid_field");
	assert_int_equal(res.headers.len, 0);
	assert_non_null(strstr(res.body.buf, "\"code\":\"invalid_field\""));
	assert_non_null(strstr(res.body.buf, "\"detail\":\"type: required\""));
	assert_non_null(strstr(res.body.buf, "\"request_id\":\"rid12345\""));
	response_release(&res);
}

static void test_http_reason(void **state)
{
	(void)state;
	assert_string_equal(http_reason(200), "OK");
	assert_string_equal(http_reason(413), "Content Too Large");
	assert_string_equal(http_reason(503), "Service Unavailable");
	assert_string_equal(http_reason(299), "Unknown");
	/* Every status err.h can produce has its phrase. */
	for (int e = COHORT_E__FIRST + 1; e < COHORT_E__END; e++)
		assert_string_not_equal(http_reason(cohort_http_status(e)), "Unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_id_valid),
		cmocka_unit_test(test_request_id_echoed_or_generated),
		cmocka_unit_test(test_request_init),
		cmocka_unit_test(test_request_headers),
		cmocka_unit_test(test_request_path_too_long),
		cmocka_unit_test(test_request_body),
		cmocka_unit_test(test_request_drain),
		cmocka_unit_test(test_request_query),
		cmocka_unit_test(test_request_is_json),
		cmocka_unit_test(test_response_head),
		cmocka_unit_test(test_response_stream),
		cmocka_unit_test(test_http_reason),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
