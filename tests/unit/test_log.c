/*
 * Unit tests for core/log: each call writes one strict-JSON line to stderr
 * with ts, level, proc and event first; secret-named fields are redacted;
 * strings are escaped so a value can never break the line; levels filter.
 *
 * stderr is redirected to a temporary file with dup2() around each logging
 * call and restored before any assertion, so cmocka's own messages still
 * reach the terminal.
 */
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"

#include <json-c/json.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

struct capture {
	FILE *file;
	int saved;
};

static void capture_begin(struct capture *c)
{
	c->file = tmpfile();
	assert_non_null(c->file);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->file), STDERR_FILENO) >= 0);
}

/* Restores stderr and returns what was written (caller frees). */
static char *capture_end(struct capture *c, size_t *len)
{
	char *buf;
	long n;

	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	n = ftell(c->file);
	assert_true(n >= 0);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	rewind(c->file);
	assert_int_equal(fread(buf, 1, (size_t)n, c->file), (size_t)n);
	buf[n] = '\0';
	fclose(c->file);
	if (len)
		*len = (size_t)n;
	return buf;
}

/* The output must be exactly one line; returns it parsed. */
static struct json_object *one_line(const char *out, size_t len)
{
	struct json_object *o;

	if (len == 0 || out[len - 1] != '\n')
		fail_msg("log output is not one terminated line: [%s]", out);
	if (memchr(out, '\n', len - 1))
		fail_msg("log output has more than one line: [%s]", out);
	if (json_parse_object(out, len - 1, &o))
		fail_msg("log line is not a strict JSON object: [%s]", out);
	return o;
}

static const char *get_s(struct json_object *o, const char *key)
{
	const char *s = NULL;

	if (json_get_str(o, key, true, 1 << 20, &s, NULL))
		fail_msg("field '%s' missing or not a string", key);
	return s;
}

static int setup(void **state)
{
	(void)state;
	log_init("test-proc", "debug");
	return 0;
}

static void test_envelope(void **state)
{
	struct capture c;
	struct json_object *o;
	const char *ts;
	char *out;
	size_t len;

	(void)state;
	capture_begin(&c);
	log_info("request.done", LF_S("path", "/api/v1/x"), LF_I("status", 200), LF_D("ms", 1.5));
	out = capture_end(&c, &len);
	/* The fixed fields come first, in this order. */
	assert_memory_equal(out, "{\"ts\":\"", 7);
	assert_non_null(strstr(out, "\",\"level\":\"info\",\"proc\":\"test-proc\",\"event\":\"request.done\","
				    "\"path\":\"/api/v1/x\",\"status\":200,\"ms\":1.5}\n"));
	o = one_line(out, len);
	ts = get_s(o, "ts");
	/* 2024-01-02T03:04:05.123456Z */
	assert_int_equal(strlen(ts), 27);
	assert_true(ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' && ts[13] == ':' && ts[16] == ':' &&
		    ts[19] == '.' && ts[26] == 'Z');
	json_put(o);
	free(out);
}

static const struct {
	const char *key;
	int redacted;
} secret_rows[] = {
	{ "token", 1 },
	{ "access_token", 1 },
	{ "Token", 1 },
	{ "REFRESH_TOKEN", 1 },
	{ "password", 1 },
	{ "new_Password", 1 },
	{ "secret", 1 },
	{ "client_secret", 1 },
	{ "authorization", 1 },
	{ "Authorization", 1 },
	{ "http_authorization", 1 },
	{ "cookie", 1 },
	{ "set-cookie", 1 },
	{ "HTTP_COOKIE", 1 },
	{ "user", 0 },
	{ "path", 0 },
	{ "tok", 0 },
	{ "status", 0 },
	{ "author", 0 },
};

static void test_redaction(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(secret_rows) / sizeof(secret_rows[0]); i++) {
		struct log_field f[2] = {
			{ secret_rows[i].key, LOG_F_STR, "hunter2-value", 0, 0 },
			{ "n", LOG_F_INT, NULL, 5, 0 },
		};
		struct capture c;
		struct json_object *o;
		char *out;
		size_t len;

		capture_begin(&c);
		log_write(LOG_INFO, "ev", f, 2);
		out = capture_end(&c, &len);
		o = one_line(out, len);
		if (secret_rows[i].redacted) {
			assert_string_equal(get_s(o, secret_rows[i].key), "[redacted]");
			assert_null(strstr(out, "hunter2"));
		} else {
			assert_string_equal(get_s(o, secret_rows[i].key), "hunter2-value");
		}
		json_put(o);
		free(out);
	}
}

/* Numbers under a secret name are redacted too. */
static void test_redaction_of_numbers(void **state)
{
	struct capture c;
	struct json_object *o;
	char *out;
	size_t len;

	(void)state;
	capture_begin(&c);
	log_info("ev", LF_I("pin_secret", 123456), LF_D("token_ratio", 0.25), LF_S("password", NULL));
	out = capture_end(&c, &len);
	o = one_line(out, len);
	assert_string_equal(get_s(o, "pin_secret"), "[redacted]");
	assert_string_equal(get_s(o, "token_ratio"), "[redacted]");
	assert_string_equal(get_s(o, "password"), "[redacted]");
	assert_null(strstr(out, "123456"));
	json_put(o);
	free(out);
}

/* Values, keys and the event name are escaped; the line stays one line. */
static const struct {
	const char *value;
} escape_rows[] = {
	{ "plain" },
	{ "quote\"inside" },
	{ "back\\slash" },
	{ "new\nline" },
	{ "cr\rlf\n" },
	{ "tab\there" },
	{ "\x01\x02\x1f\x7f" },
	{ "\"}\n{\"level\":\"error\",\"forged\":\"" }, /* a log-injection attempt */
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
	{ "" },
};

static void test_escaping(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(escape_rows) / sizeof(escape_rows[0]); i++) {
		struct capture c;
		struct json_object *o;
		char *out;
		size_t len;

		capture_begin(&c);
		log_warn("ev\"\n", LF_S("v", escape_rows[i].value), LF_S("k\"\n", "x"));
		out = capture_end(&c, &len);
		o = one_line(out, len);
		assert_string_equal(get_s(o, "v"), escape_rows[i].value);
		assert_string_equal(get_s(o, "event"), "ev\"\n");
		assert_string_equal(get_s(o, "k\"\n"), "x");
		assert_string_equal(get_s(o, "level"), "warn");
		json_put(o);
		free(out);
	}
}

static void test_null_and_numbers(void **state)
{
	struct capture c;
	struct json_object *o, *v;
	char *out;
	size_t len;

	(void)state;
	capture_begin(&c);
	log_error("ev", LF_S("s", NULL), LF_I("min", INT64_MIN), LF_I("max", INT64_MAX), LF_D("d", -2.5e-7));
	out = capture_end(&c, &len);
	o = one_line(out, len);
	assert_true(json_object_object_get_ex(o, "s", &v) && json_object_is_type(v, json_type_null));
	assert_true(json_object_object_get_ex(o, "min", &v) && json_object_get_int64(v) == INT64_MIN);
	assert_true(json_object_object_get_ex(o, "max", &v) && json_object_get_int64(v) == INT64_MAX);
	assert_true(json_object_object_get_ex(o, "d", &v) && json_object_is_type(v, json_type_double));
	assert_string_equal(get_s(o, "level"), "error");
	json_put(o);
	free(out);

	/* JSON has no NaN or Infinity: they are written as null. */
	capture_begin(&c);
	log_error("ev", LF_D("nan", NAN), LF_D("inf", INFINITY), LF_D("ninf", -INFINITY), LF_D("zero", 0.0));
	out = capture_end(&c, &len);
	o = one_line(out, len);
	assert_true(json_object_object_get_ex(o, "nan", &v) && json_object_is_type(v, json_type_null));
	assert_true(json_object_object_get_ex(o, "inf", &v) && json_object_is_type(v, json_type_null));
	assert_true(json_object_object_get_ex(o, "ninf", &v) && json_object_is_type(v, json_type_null));
	assert_true(json_object_object_get_ex(o, "zero", &v) && json_object_get_double(v) == 0.0);
	assert_string_equal(get_s(o, "level"), "error");
	json_put(o);
	free(out);
}

/* A value too large for one line still yields one valid line. */
static void test_oversized_value(void **state)
{
	static const size_t sizes[] = { 60 * 1024, 64 * 1024, 200 * 1024 };

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *big = malloc(sizes[i] + 1);
		struct capture c;
		struct json_object *o;
		char *out;
		size_t len;

		assert_non_null(big);
		memset(big, 'x', sizes[i]);
		big[sizes[i]] = '\0';
		capture_begin(&c);
		log_info("big", LF_S("a", big), LF_I("after", 1));
		out = capture_end(&c, &len);
		o = one_line(out, len);
		assert_string_equal(get_s(o, "event"), "big");
		if (sizes[i] < 64 * 1000) {
			assert_int_equal(strlen(get_s(o, "a")), sizes[i]);
		} else {
			/* Too big for the line: the fields are dropped and the line says so. */
			bool truncated = false;

			assert_int_equal(json_get_bool(o, "truncated", true, &truncated), 0);
			assert_true(truncated);
		}
		json_put(o);
		free(out);
		free(big);
	}
}

static const struct {
	const char *min;
	enum log_level level;
	int written;
} level_rows[] = {
	{ "debug", LOG_DEBUG, 1 },
	{ "debug", LOG_ERROR, 1 },
	{ "info", LOG_DEBUG, 0 },
	{ "info", LOG_INFO, 1 },
	{ "INFO", LOG_DEBUG, 0 }, /* level names are case-insensitive */
	{ "warn", LOG_INFO, 0 },
	{ "warn", LOG_WARN, 1 },
	{ "error", LOG_WARN, 0 },
	{ "error", LOG_ERROR, 1 },
};

static void test_levels(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(level_rows) / sizeof(level_rows[0]); i++) {
		struct capture c;
		char *out;
		size_t len;

		log_init(NULL, level_rows[i].min);
		assert_int_equal(log_level_enabled(level_rows[i].level), level_rows[i].written);
		capture_begin(&c);
		log_write(level_rows[i].level, "lvl", NULL, 0);
		out = capture_end(&c, &len);
		assert_int_equal(len > 0, level_rows[i].written);
		if (len) {
			struct json_object *o = one_line(out, len);

			/* log_init(NULL, ...) keeps the process name. */
			assert_string_equal(get_s(o, "proc"), "test-proc");
			json_put(o);
		}
		free(out);
	}
	/* An unknown level name leaves the level as it was. */
	log_init(NULL, "warn");
	log_init(NULL, "loud");
	assert_false(log_level_enabled(LOG_INFO));
	assert_true(log_level_enabled(LOG_WARN));
	log_init(NULL, NULL);
	assert_true(log_level_enabled(LOG_WARN));
	log_init(NULL, "debug");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_envelope, setup),
		cmocka_unit_test_setup(test_redaction, setup),
		cmocka_unit_test_setup(test_redaction_of_numbers, setup),
		cmocka_unit_test_setup(test_escaping, setup),
		cmocka_unit_test_setup(test_null_and_numbers, setup),
		cmocka_unit_test_setup(test_oversized_value, setup),
		cmocka_unit_test_setup(test_levels, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
