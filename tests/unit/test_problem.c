/*
 * Unit tests for core/problem: the problem+json body has the documented
 * shape, agrees with err.h for every error, and escapes what it is given.
 */
#include "core/err.h"
#include "core/json.h"
#include "core/problem.h"
#include "core/strbuf.h"

#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* Parses the body strictly and checks the fields every problem carries. */
static struct json_object *parse_problem(const struct strbuf *sb, int err)
{
	struct json_object *o;
	const char *s;
	long long n;
	char type[128];

	if (json_parse_object(sb->buf, sb->len, &o))
		fail_msg("problem body is not a strict JSON object: %s", sb->buf);
	snprintf(type, sizeof(type), "urn:cohort:problem:%s", cohort_errcode(err));
	assert_int_equal(json_get_str(o, "type", true, 256, &s, NULL), 0);
	assert_string_equal(s, type);
	assert_int_equal(json_get_str(o, "title", true, 256, &s, NULL), 0);
	assert_string_equal(s, cohort_strerror(err));
	assert_int_equal(json_get_str(o, "code", true, 256, &s, NULL), 0);
	assert_string_equal(s, cohort_errcode(err));
	assert_int_equal(json_get_int(o, "status", true, 100, 599, &n), 0);
	assert_int_equal(n, cohort_http_status(err));
	return o;
}

static void test_every_error(void **state)
{
	(void)state;
	for (int e = COHORT_E__FIRST + 1; e < COHORT_E__END; e++) {
		struct strbuf sb = STRBUF_INIT;
		struct json_object *o;
		int status = problem_build(&sb, e, NULL, NULL);

		assert_int_equal(status, cohort_http_status(e));
		assert_in_range(status, 400, 599);
		o = parse_problem(&sb, e);
		/* Without detail and request id, exactly the four fields. */
		assert_int_equal(json_object_object_length(o), 4);
		json_put(o);
		strbuf_release(&sb);
	}
}

static const struct {
	int err;
	const char *detail;
	const char *rid;
	const char *want; /* exact body */
} rows[] = {
	{ COHORT_E_NOTFOUND, NULL, NULL,
	  "{\"type\":\"urn:cohort:problem:not_found\",\"title\":\"not found\",\"status\":404,\"code\":\"not_found\"}" },
	{ COHORT_E_FIELD, "name is required", NULL,
	  "{\"type\":\"urn:cohort:problem:invalid_field\",\"title\":\"a field is missing or invalid\","
	  "\"status\":422,\"code\":\"invalid_field\",\"detail\":\"name is required\"}" },
	{ COHORT_E_RATE, NULL, "abcdefghijklmnop",
	  "{\"type\":\"urn:cohort:problem:rate_limited\",\"title\":\"too many requests\",\"status\":429,"
	  "\"code\":\"rate_limited\",\"request_id\":\"abcdefghijklmnop\"}" },
	{ COHORT_E_JSON, "bad \"quote\" and \\ and\nnewline\x01", "r\"1",
	  "{\"type\":\"urn:cohort:problem:malformed_json\",\"title\":\"body is not valid JSON\",\"status\":400,"
	  "\"code\":\"malformed_json\",\"detail\":\"bad \\\"quote\\\" and \\\\ and\\nnewline\\u0001\","
	  "\"request_id\":\"r\\\"1\"}" },
	{ COHORT_E_INVAL, "", "",
	  "{\"type\":\"urn:cohort:problem:invalid_request\",\"title\":\"invalid request\",\"status\":400,"
	  "\"code\":\"invalid_request\",\"detail\":\"\",\"request_id\":\"\"}" },
	/* Out-of-list values map to a generic 500, never to garbage. */
	{ 12345, NULL, NULL,
	  "{\"type\":\"urn:cohort:problem:internal\",\"title\":\"unknown error\",\"status\":500,\"code\":\"internal\"}" },
};

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		struct json_object *o;
		const char *s;
		int status = problem_build(&sb, rows[i].err, rows[i].detail, rows[i].rid);

		assert_int_equal(status, cohort_http_status(rows[i].err));
		if (strcmp(sb.buf, rows[i].want))
			fail_msg("row %zu:\n got %s\nwant %s", i, sb.buf, rows[i].want);
		assert_int_equal(json_parse_object(sb.buf, sb.len, &o), 0);
		if (rows[i].detail) {
			assert_int_equal(json_get_str(o, "detail", true, 1024, &s, NULL), 0);
			assert_string_equal(s, rows[i].detail);
		}
		if (rows[i].rid) {
			assert_int_equal(json_get_str(o, "request_id", true, 1024, &s, NULL), 0);
			assert_string_equal(s, rows[i].rid);
		}
		json_put(o);
		strbuf_release(&sb);
	}
}

/* The body is appended: a caller may build it after other bytes. */
static void test_appends(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(strbuf_adds(&sb, "prefix"), 0);
	assert_int_equal(problem_build(&sb, COHORT_E_AUTH, NULL, NULL), 401);
	assert_memory_equal(sb.buf, "prefix{\"type\":", 14);
	assert_int_equal(sb.buf[sb.len - 1], '}');
	strbuf_release(&sb);
}

static void test_content_type(void **state)
{
	(void)state;
	assert_string_equal(PROBLEM_CONTENT_TYPE, "application/problem+json");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_error),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_content_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
