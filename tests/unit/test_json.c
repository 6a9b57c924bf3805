/*
 * Unit tests for core/json: strict parsing of request bodies (RFC 8259
 * grammar, one object at the top level, nothing after it, valid UTF-8,
 * depth limit) and the typed field getters.
 */
#include "core/err.h"
#include "core/json.h"

#include <json-c/json.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct parse_row {
	const char *in;
	size_t len;
	int err;
};

#define P(lit, err) { lit, sizeof(lit) - 1, err }
#define OK(lit) P(lit, 0)
#define BAD(lit) P(lit, COHORT_E_JSON)

static const struct parse_row parse_rows[] = {
	/* Accepted. */
	OK("{}"),
	OK("{ }"),
	OK(" \t\r\n{}\n"),
	OK("{}\r\n\r\n"),
	OK("{\"a\":1}"),
	OK("{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }"),
	OK("{\"s\":\"\",\"t\":true,\"f\":false,\"n\":null}"),
	OK("{\"n\":0,\"m\":-0,\"x\":-12,\"y\":1.5,\"z\":-0.0e-0,\"e\":1E+2,\"g\":2e-3}"),
	OK("{\"big\":1e400}"), /* valid grammar; the value is json-c's business */
	OK("{\"esc\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\uD83D\\uDE00\"}"),
	OK("{\"nul\":\"\\u0000\"}"),
	OK("{\"utf8\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}"),
	OK("{\"\":1}"),
	OK("{\"a\":1,\"a\":2}"), /* duplicate names: the last wins */
	OK("{\"a\":{\"b\":{\"c\":[[],{}]}}}"),
	OK("{\"del\":\"\x7f\"}"), /* DEL is not a control character in JSON */

	/* Not an object at the top level. */
	BAD(""),
	BAD("   "),
	BAD("[]"),
	BAD("[{}]"),
	BAD("1"),
	BAD("\"s\""),
	BAD("null"),
	BAD("true"),

	/* Trailing garbage. */
	BAD("{}{}"),
	BAD("{} x"),
	BAD("{},"),
	BAD("{}}"),
	BAD("{}\0"),
	BAD("{}\0x"),
	BAD("{} \0"),
	BAD("{}\v"),
	BAD("{}\f"),
	BAD("{\"a\":1}garbage"),

	/* Truncated. */
	BAD("{"),
	BAD("{\"a\""),
	BAD("{\"a\":"),
	BAD("{\"a\":1"),
	BAD("{\"a\":1,"),
	BAD("{\"a\":\"b"),
	BAD("{\"a\":\"\\"),
	BAD("{\"a\":\"\\u00"),
	BAD("{\"a\":[1,2"),
	BAD("{\"a\":tr"),

	/* Leniencies that json-c allows and a strict parser must not. */
	BAD("{'a':1}"),
	BAD("{\"a\":'b'}"),
	BAD("{a:1}"),
	BAD("{\"a\":NaN}"),
	BAD("{\"a\":nan}"),
	BAD("{\"a\":Infinity}"),
	BAD("{\"a\":-Infinity}"),
	BAD("{\"a\":1.}"),
	BAD("{\"a\":.5}"),
	BAD("{\"a\":+1}"),
	BAD("{\"a\":01}"),
	BAD("{\"a\":-01}"),
	BAD("{\"a\":1e}"),
	BAD("{\"a\":1e+}"),
	BAD("{\"a\":-}"),
	BAD("{\"a\":0x10}"),
	BAD("{\"a\":1,}"),
	BAD("{,\"a\":1}"),
	BAD("{\"a\":[1,2,]}"),
	BAD("{\"a\":[,1]}"),
	BAD("{\"a\" 1}"),
	BAD("{\"a\"::1}"),
	BAD("{\"a\":1 \"b\":2}"),
	BAD("{\"a\":1 /*c*/}"),
	BAD("{\"a\":1} // c"),
	BAD("{\"a\":tru}"),
	BAD("{\"a\":True}"),
	BAD("{\"a\":nul}"),
	BAD("{\"a\":undefined}"),
	BAD("{\"a\":\"tab\there\"}"),
	BAD("{\"a\":\"nl\nhere\"}"),
	BAD("{\"a\":\"\x01\"}"),
	BAD("{\"a\":\"\0\"}"),
	BAD("{\"a\":\"\\x41\"}"),
	BAD("{\"a\":\"\\u12\"}"),
	BAD("{\"a\":\"\\u12G4\"}"),

	/* Escaped surrogates: only a high one followed by a low one names a character. */
	BAD("{\"a\":\"\\ud83d\"}"),
	BAD("{\"a\":\"\\ude00\"}"),
	BAD("{\"a\":\"\\ude00\\ud83d\"}"),
	BAD("{\"a\":\"\\ud83dx\"}"),
	BAD("{\"a\":\"\\ud83d\\n\"}"),
	BAD("{\"a\":\"\\ud83d\\ud83d\"}"),
	BAD("{\"a\":\"\\ud83d\\u0041\"}"),
	BAD("{\"a\":\"\\ud83d\\u"),
	BAD("{\"\\udfff\":1}"),
	OK("{\"a\":\"\\udbff\\udfff\\ud800\\udc00x\"}"),
	BAD("{\"a\":\"\\U0041\"}"),
	BAD("{\"a\":\"\\'\"}"),
	BAD("{\"a\":\"\\\0\"}"),
	BAD("\xef\xbb\xbf{}"), /* a byte-order mark is not whitespace */
	BAD("{\"a\":1}\xc2\xa0"),

	/* Invalid UTF-8 anywhere, even inside a string. */
	P("{\"a\":\"\xff\"}", COHORT_E_UTF8),
	P("{\"a\":\"\xc0\x80\"}", COHORT_E_UTF8),
	P("{\"a\":\"\xed\xa0\x80\"}", COHORT_E_UTF8),
	P("{\"a\":\"\xf4\x90\x80\x80\"}", COHORT_E_UTF8),
	P("{\"a\":\"\xe2\x82\"}", COHORT_E_UTF8),
	P("{}\x80", COHORT_E_UTF8),
	P("\xff", COHORT_E_UTF8),
};

static void test_parse_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		struct json_object *o = (struct json_object *)1;
		int err = json_parse_object(parse_rows[i].in, parse_rows[i].len, &o);

		if (err != parse_rows[i].err)
			fail_msg("row %zu [%.*s]: err %d, want %d", i, (int)parse_rows[i].len, parse_rows[i].in, err,
				 parse_rows[i].err);
		if (err)
			assert_null(o);
		else
			assert_non_null(o);
		json_put(o);
	}
	json_put(NULL);
}

/* Nesting: the top-level object counts as one level; JSON_MAX_DEPTH levels
 * are accepted and one more is not, for arrays and objects alike. */
static char *nested(int levels, int objects, size_t *len)
{
	size_t cap = (size_t)levels * 8 + 16, n = 0;
	char *p = malloc(cap);

	assert_non_null(p);
	p[n++] = '{';
	for (int i = 1; i < levels; i++) {
		memcpy(p + n, "\"k\":", 4);
		n += 4;
		p[n++] = objects ? '{' : '[';
		if (!objects) {
			/* Arrays hold the next level directly. */
			for (int j = i + 1; j < levels; j++)
				p[n++] = '[';
			for (int j = i + 1; j < levels; j++)
				p[n++] = ']';
			p[n++] = ']';
			break;
		}
	}
	if (objects)
		for (int i = 1; i < levels; i++)
			p[n++] = '}';
	p[n++] = '}';
	*len = n;
	return p;
}

static void test_depth_limit(void **state)
{
	static const struct {
		int levels;
		int err;
	} rows[] = {
		{ 1, 0 },
		{ 2, 0 },
		{ JSON_MAX_DEPTH - 1, 0 },
		{ JSON_MAX_DEPTH, 0 },
		{ JSON_MAX_DEPTH + 1, COHORT_E_JSON },
		{ JSON_MAX_DEPTH + 2, COHORT_E_JSON },
		{ 1000, COHORT_E_JSON },
		{ 100000, COHORT_E_JSON },
	};

	(void)state;
	for (int objects = 0; objects <= 1; objects++)
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			size_t len;
			char *p = nested(rows[i].levels, objects, &len);
			struct json_object *o;
			int err = json_parse_object(p, len, &o);

			if (err != rows[i].err)
				fail_msg("%d levels of %s: err %d, want %d", rows[i].levels,
					 objects ? "objects" : "arrays", err, rows[i].err);
			json_put(o);
			free(p);
		}
}

/* The parser reads exactly len bytes: no NUL terminator is needed and bytes
 * past len are ignored. The buffer is heap-allocated to its exact size. */
static void test_exact_length(void **state)
{
	static const char text[] = "{\"a\":[1,2,3]}";
	size_t n = sizeof(text) - 1;
	char *p = malloc(n);
	struct json_object *o;

	(void)state;
	assert_non_null(p);
	memcpy(p, text, n);
	assert_int_equal(json_parse_object(p, n, &o), 0);
	json_put(o);
	assert_int_equal(json_parse_object(p, n - 1, &o), COHORT_E_JSON);
	free(p);
	assert_int_equal(json_parse_object("{}xyz", 2, &o), 0);
	json_put(o);
}

/* json_parse_value: any top-level value, with the same strictness. A number
 * that ends the text must not need a delimiter after it. */
static void test_parse_value(void **state)
{
	static const struct {
		const char *text;
		int rc;
		const char *json; /* json-c's plain serialization when accepted */
	} rows[] = {
		{ "[1,[2,\"a\"]]", 0, "[1,[2,\"a\"]]" },
		{ "5", 0, "5" },
		{ " 7 ", 0, "7" },
		{ "-0", 0, "0" },
		{ "1.5", 0, "1.5" },
		{ "true", 0, "true" },
		{ "\"s\"", 0, "\"s\"" },
		{ "{}", 0, "{}" },
		{ "null", COHORT_E_JSON, NULL },
		{ "5x", COHORT_E_JSON, NULL },
		{ "1 2", COHORT_E_JSON, NULL },
		{ "[1", COHORT_E_JSON, NULL },
		{ "01", COHORT_E_JSON, NULL },
		{ "", COHORT_E_JSON, NULL },
		{ "\"\xff\"", COHORT_E_UTF8, NULL },
	};
	char *p;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct json_object *o = NULL;
		int rc = json_parse_value(rows[i].text, strlen(rows[i].text), &o);

		if (rc != rows[i].rc)
			fail_msg("%s: got %d, want %d", rows[i].text, rc, rows[i].rc);
		if (!rc && strcmp(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), rows[i].json) != 0)
			fail_msg("%s: parsed as %s", rows[i].text, json_object_to_json_string(o));
		json_put(o);
	}
	/* The length bounds a trailing number: "123" read as 2 bytes is 12. */
	p = malloc(3);
	assert_non_null(p);
	memcpy(p, "123", 3);
	{
		struct json_object *o = NULL;

		assert_int_equal(json_parse_value(p, 2, &o), 0);
		assert_int_equal(json_object_get_int(o), 12);
		json_put(o);
	}
	free(p);
}

/* The getters, over one parsed object. */
static const char getter_doc[] =
	"{\"s\":\"hello\",\"empty\":\"\",\"nul\":\"a\\u0000b\",\"utf\":\"\xc3\xa9t\xc3\xa9\","
	"\"i\":42,\"neg\":-7,\"zero\":0,\"max\":9223372036854775807,\"min\":-9223372036854775808,"
	"\"huge\":99999999999999999999,\"d\":1.5,\"e\":1e3,"
	"\"t\":true,\"f\":false,\"null\":null,\"arr\":[1,\"x\",{\"y\":null}],\"obj\":{\"k\":\"v\"},"
	"\"istr\":\"42\",\"ctl\":\"\\n\\u0001\\\"\"}";

static int getter_setup(void **state)
{
	struct json_object *o;

	if (json_parse_object(getter_doc, sizeof(getter_doc) - 1, &o))
		return -1;
	*state = o;
	return 0;
}

static int getter_teardown(void **state)
{
	json_put(*state);
	return 0;
}

static const struct {
	const char *key;
	bool required;
	size_t maxlen;
	int err;
	const char *want; /* NULL: *out must be NULL */
	size_t wantlen;
} str_rows[] = {
	{ "s", true, 100, 0, "hello", 5 },
	{ "s", false, 100, 0, "hello", 5 },
	{ "s", true, 5, 0, "hello", 5 },            /* exactly maxlen */
	{ "s", true, 4, COHORT_E_RANGE, NULL, 0 },   /* one over */
	{ "s", true, 0, COHORT_E_RANGE, NULL, 0 },
	{ "empty", true, 0, 0, "", 0 },
	{ "utf", true, 5, 0, "\xc3\xa9t\xc3\xa9", 5 }, /* maxlen counts bytes */
	{ "utf", true, 4, COHORT_E_RANGE, NULL, 0 },
	{ "ctl", true, 100, 0, "\n\x01\"", 3 },
	{ "missing", true, 100, COHORT_E_FIELD, NULL, 0 },
	{ "missing", false, 100, 0, NULL, 0 },
	{ "null", true, 100, COHORT_E_FIELD, NULL, 0 }, /* null counts as missing */
	{ "null", false, 100, 0, NULL, 0 },
	{ "i", true, 100, COHORT_E_FIELD, NULL, 0 },
	{ "i", false, 100, COHORT_E_FIELD, NULL, 0 },   /* wrong type fails even when optional */
	{ "t", false, 100, COHORT_E_FIELD, NULL, 0 },
	{ "arr", true, 100, COHORT_E_FIELD, NULL, 0 },
	{ "obj", true, 100, COHORT_E_FIELD, NULL, 0 },
	{ "d", true, 100, COHORT_E_FIELD, NULL, 0 },
	{ "S", true, 100, COHORT_E_FIELD, NULL, 0 },    /* names are case-sensitive */
	{ "", false, 100, 0, NULL, 0 },
};

static void test_get_str(void **state)
{
	struct json_object *o = *state;

	for (size_t i = 0; i < sizeof(str_rows) / sizeof(str_rows[0]); i++) {
		const char *out = "unset";
		size_t outlen = 99;
		int err = json_get_str(o, str_rows[i].key, str_rows[i].required, str_rows[i].maxlen, &out, &outlen);

		if (err != str_rows[i].err)
			fail_msg("row %zu (%s): err %d, want %d", i, str_rows[i].key, err, str_rows[i].err);
		if (err)
			continue; /* *out is unspecified on error */
		if (!str_rows[i].want) {
			assert_null(out);
			assert_int_equal(outlen, 0);
		} else {
			assert_non_null(out);
			assert_int_equal(outlen, str_rows[i].wantlen);
			assert_memory_equal(out, str_rows[i].want, outlen);
			assert_int_equal(out[outlen], '\0');
		}
	}
}

/* A string with an embedded NUL is refused: C code downstream would truncate it. */
static void test_get_str_embedded_nul(void **state)
{
	const char *out;
	size_t outlen;

	assert_int_equal(json_get_str(*state, "nul", true, 100, &out, &outlen), COHORT_E_FIELD);
	assert_int_equal(json_get_str(*state, "nul", false, 100, &out, NULL), COHORT_E_FIELD);
	/* outlen may be NULL on success too. */
	assert_int_equal(json_get_str(*state, "s", true, 100, &out, NULL), 0);
	assert_string_equal(out, "hello");
}

#define UNSET_LL 0x1234567LL
static const struct {
	const char *key;
	bool required;
	long long min, max;
	int err;
	long long want; /* UNSET_LL: *out untouched */
} int_rows[] = {
	{ "i", true, 0, 100, 0, 42 },
	{ "i", true, 42, 42, 0, 42 },
	{ "i", true, 43, 100, COHORT_E_RANGE, UNSET_LL },
	{ "i", true, 0, 41, COHORT_E_RANGE, UNSET_LL },
	{ "neg", true, -10, 10, 0, -7 },
	{ "neg", true, 0, 10, COHORT_E_RANGE, UNSET_LL },
	{ "zero", true, 0, 0, 0, 0 },
	{ "max", true, LLONG_MIN, LLONG_MAX, 0, LLONG_MAX },
	{ "max", true, 0, LLONG_MAX - 1, COHORT_E_RANGE, UNSET_LL },
	{ "min", true, LLONG_MIN, LLONG_MAX, 0, LLONG_MIN },
	{ "min", true, LLONG_MIN + 1, 0, COHORT_E_RANGE, UNSET_LL },
	/* Beyond int64: json-c clamps the value, so a bounded range rejects it. */
	{ "huge", true, 0, 1000000, COHORT_E_RANGE, UNSET_LL },
	{ "missing", true, 0, 10, COHORT_E_FIELD, UNSET_LL },
	{ "missing", false, 0, 10, 0, UNSET_LL },
	{ "null", true, 0, 10, COHORT_E_FIELD, UNSET_LL },
	{ "null", false, 0, 10, 0, UNSET_LL },
	{ "d", true, 0, 10, COHORT_E_FIELD, UNSET_LL },   /* 1.5 is not an integer */
	{ "e", true, 0, 10000, COHORT_E_FIELD, UNSET_LL }, /* nor is 1e3 */
	{ "istr", true, 0, 100, COHORT_E_FIELD, UNSET_LL }, /* nor is "42" */
	{ "t", false, 0, 1, COHORT_E_FIELD, UNSET_LL },
	{ "arr", true, 0, 10, COHORT_E_FIELD, UNSET_LL },
};

static void test_get_int(void **state)
{
	struct json_object *o = *state;

	for (size_t i = 0; i < sizeof(int_rows) / sizeof(int_rows[0]); i++) {
		long long out = UNSET_LL;
		int err = json_get_int(o, int_rows[i].key, int_rows[i].required, int_rows[i].min, int_rows[i].max, &out);

		if (err != int_rows[i].err)
			fail_msg("row %zu (%s): err %d, want %d", i, int_rows[i].key, err, int_rows[i].err);
		if (out != int_rows[i].want)
			fail_msg("row %zu (%s): out %lld, want %lld", i, int_rows[i].key, out, int_rows[i].want);
	}
}

static const struct {
	const char *key;
	bool required;
	int err;
	int want; /* -1: untouched */
} bool_rows[] = {
	{ "t", true, 0, 1 },
	{ "f", true, 0, 0 },
	{ "f", false, 0, 0 },
	{ "missing", true, COHORT_E_FIELD, -1 },
	{ "missing", false, 0, -1 },
	{ "null", true, COHORT_E_FIELD, -1 },
	{ "null", false, 0, -1 },
	{ "i", true, COHORT_E_FIELD, -1 }, /* 42 is not a boolean */
	{ "zero", false, COHORT_E_FIELD, -1 },
	{ "s", true, COHORT_E_FIELD, -1 },
	{ "obj", true, COHORT_E_FIELD, -1 },
};

static void test_get_bool(void **state)
{
	struct json_object *o = *state;

	for (size_t i = 0; i < sizeof(bool_rows) / sizeof(bool_rows[0]); i++) {
		bool out = true, touched;
		bool out2 = false;
		int err = json_get_bool(o, bool_rows[i].key, bool_rows[i].required, &out);

		assert_int_equal(json_get_bool(o, bool_rows[i].key, bool_rows[i].required, &out2), err);
		touched = out != true || out2 != false;
		if (err != bool_rows[i].err)
			fail_msg("row %zu (%s): err %d, want %d", i, bool_rows[i].key, err, bool_rows[i].err);
		if (bool_rows[i].want < 0)
			assert_false(touched);
		else
			assert_true(out == (bool_rows[i].want == 1) && out2 == out);
	}
}

static const struct {
	const char *key;
	bool required;
	size_t maxlen;
	int err;
	const char *want; /* NULL: *out is NULL */
} raw_rows[] = {
	{ "obj", true, 100, 0, "{\"k\":\"v\"}" },
	{ "arr", true, 100, 0, "[1,\"x\",{\"y\":null}]" },
	{ "s", true, 100, 0, "\"hello\"" },
	{ "i", true, 100, 0, "42" },
	{ "t", true, 100, 0, "true" },
	{ "null", true, 100, 0, "null" }, /* present null is a value here */
	{ "ctl", true, 100, 0, "\"\\n\\u0001\\\"\"" },
	{ "d", true, 100, 0, "1.5" },
	{ "obj", true, 9, 0, "{\"k\":\"v\"}" },   /* exactly maxlen */
	{ "obj", true, 8, COHORT_E_RANGE, NULL }, /* one over */
	{ "missing", true, 100, COHORT_E_FIELD, NULL },
	{ "missing", false, 100, 0, NULL },
};

static void test_get_raw(void **state)
{
	struct json_object *o = *state;

	for (size_t i = 0; i < sizeof(raw_rows) / sizeof(raw_rows[0]); i++) {
		static char unset[] = "unset";
		char *out = unset;
		int err = json_get_raw(o, raw_rows[i].key, raw_rows[i].required, raw_rows[i].maxlen, &out);

		if (err != raw_rows[i].err)
			fail_msg("row %zu (%s): err %d, want %d", i, raw_rows[i].key, err, raw_rows[i].err);
		if (!raw_rows[i].want) {
			assert_null(out);
		} else {
			assert_non_null(out);
			if (strcmp(out, raw_rows[i].want))
				fail_msg("row %zu (%s): got %s, want %s", i, raw_rows[i].key, out, raw_rows[i].want);
		}
		free(out);
	}
}

/* Whatever json_get_raw returns parses again as JSON (wrapped in an object),
 * so it can be spliced into an event envelope. */
static void test_get_raw_round_trips(void **state)
{
	static const char *const keys[] = { "obj", "arr", "s", "i", "neg", "max", "min", "d", "e",
					     "t", "f", "null", "ctl", "utf", "nul", "huge" };
	struct json_object *o = *state;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *raw, wrapped[512];
		struct json_object *again;
		int n;

		assert_int_equal(json_get_raw(o, keys[i], true, 400, &raw), 0);
		n = snprintf(wrapped, sizeof(wrapped), "{\"v\":%s}", raw);
		assert_true(n > 0 && (size_t)n < sizeof(wrapped));
		if (json_parse_object(wrapped, (size_t)n, &again))
			fail_msg("raw value of '%s' does not parse again: %s", keys[i], raw);
		json_put(again);
		free(raw);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_rows),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_exact_length),
		cmocka_unit_test(test_parse_value),
		cmocka_unit_test_setup_teardown(test_get_str, getter_setup, getter_teardown),
		cmocka_unit_test_setup_teardown(test_get_str_embedded_nul, getter_setup, getter_teardown),
		cmocka_unit_test_setup_teardown(test_get_int, getter_setup, getter_teardown),
		cmocka_unit_test_setup_teardown(test_get_bool, getter_setup, getter_teardown),
		cmocka_unit_test_setup_teardown(test_get_raw, getter_setup, getter_teardown),
		cmocka_unit_test_setup_teardown(test_get_raw_round_trips, getter_setup, getter_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
