/*
 * Unit tests for core/event: the stored envelope (with and without its
 * optional fields), splicing the id in (event_finalize), refusing stored
 * text that is not an object, and event type validation.
 */
#include "core/err.h"
#include "core/event.h"
#include "core/json.h"
#include "core/strbuf.h"

#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static const struct {
	const char *what;
	struct event ev;
	const char *want;
} enc_rows[] = {
	{ "minimal: optional fields absent",
	  { "note", "dev:demo", NULL, NULL, -1, NULL, NULL, 1, 2, NULL },
	  "{\"type\":\"note\",\"stream\":\"dev:demo\",\"project\":null,\"actor\":{\"user\":null,\"client\":null},"
	  "\"ts\":{\"recv\":1,\"pub\":2},\"data\":null}" },
	{ "all fields",
	  { "file.saved", "dev:demo", "p1", "src/main.c", 7, "u1", "c1", 1712345678901234LL, 1712345678901999LL,
	    "{\"a\":[1,2]}" },
	  "{\"type\":\"file.saved\",\"stream\":\"dev:demo\",\"project\":\"p1\",\"file\":\"src/main.c\",\"version\":7,"
	  "\"actor\":{\"user\":\"u1\",\"client\":\"c1\"},\"ts\":{\"recv\":1712345678901234,\"pub\":1712345678901999},"
	  "\"data\":{\"a\":[1,2]}}" },
	{ "version 0 is present, file without version",
	  { "t", "dev:x", "p", "f", 0, NULL, NULL, 0, 0, "1" },
	  "{\"type\":\"t\",\"stream\":\"dev:x\",\"project\":\"p\",\"file\":\"f\",\"version\":0,"
	  "\"actor\":{\"user\":null,\"client\":null},\"ts\":{\"recv\":0,\"pub\":0},\"data\":1}" },
	{ "version without file",
	  { "t", "dev:x", NULL, NULL, 3, "u", NULL, 5, 6, "\"s\"" },
	  "{\"type\":\"t\",\"stream\":\"dev:x\",\"project\":null,\"version\":3,"
	  "\"actor\":{\"user\":\"u\",\"client\":null},\"ts\":{\"recv\":5,\"pub\":6},\"data\":\"s\"}" },
	{ "client without user",
	  { "t", "dev:x", NULL, NULL, -5, NULL, "c", 5, 6, "[]" },
	  "{\"type\":\"t\",\"stream\":\"dev:x\",\"project\":null,"
	  "\"actor\":{\"user\":null,\"client\":\"c\"},\"ts\":{\"recv\":5,\"pub\":6},\"data\":[]}" },
	{ "strings are escaped",
	  { "t", "dev:x", "p\"q", "dir\\f\n", 1, "u\x01", "c\t", -1, INT64_MAX, "{}" },
	  "{\"type\":\"t\",\"stream\":\"dev:x\",\"project\":\"p\\\"q\",\"file\":\"dir\\\\f\\n\",\"version\":1,"
	  "\"actor\":{\"user\":\"u\\u0001\",\"client\":\"c\\t\"},\"ts\":{\"recv\":-1,\"pub\":9223372036854775807},"
	  "\"data\":{}}" },
	{ "no stream",
	  { "t", NULL, NULL, NULL, -1, NULL, NULL, 0, 0, NULL },
	  "{\"type\":\"t\",\"stream\":null,\"project\":null,\"actor\":{\"user\":null,\"client\":null},"
	  "\"ts\":{\"recv\":0,\"pub\":0},\"data\":null}" },
};

static void test_encode_stored(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(enc_rows) / sizeof(enc_rows[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		struct json_object *o;

		assert_int_equal(event_encode_stored(&sb, &enc_rows[i].ev), 0);
		if (strcmp(sb.buf, enc_rows[i].want))
			fail_msg("row %zu (%s):\n got %s\nwant %s", i, enc_rows[i].what, sb.buf, enc_rows[i].want);
		/* The stored form is itself a strict JSON object without "id". */
		assert_int_equal(json_parse_object(sb.buf, sb.len, &o), 0);
		assert_false(json_object_object_get_ex(o, "id", NULL));
		json_put(o);
		strbuf_release(&sb);
	}
}

/* Encoding into a buffer whose bound is too small fails with LIMIT. */
static void test_encode_stored_bound(void **state)
{
	const struct event *ev = &enc_rows[1].ev;
	size_t full = strlen(enc_rows[1].want);
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb, full);
	assert_int_equal(event_encode_stored(&sb, ev), 0);
	assert_int_equal(sb.len, full);
	strbuf_release(&sb);
	for (size_t max = 1; max < full; max += 7) {
		strbuf_init(&sb, max);
		assert_int_equal(event_encode_stored(&sb, ev), COHORT_E_LIMIT);
		assert_true(sb.len <= max);
		strbuf_release(&sb);
	}
}

#define F(stored, id, err, want) { stored, sizeof(stored) - 1, id, err, want }
static const struct {
	const char *stored;
	size_t len;
	const char *id;
	int err;
	const char *want;
} fin_rows[] = {
	F("{\"type\":\"t\"}", "1-0", 0, "{\"id\":\"1-0\",\"type\":\"t\"}"),
	F("{\"a\":1,\"b\":2}", "1712345678901-42", 0, "{\"id\":\"1712345678901-42\",\"a\":1,\"b\":2}"),
	F("{}", "0-1", 0, "{\"id\":\"0-1\"}"),
	F("{ }", "0-1", 0, "{\"id\":\"0-1\" }"),
	F("{\n\t}", "0-1", 0, "{\"id\":\"0-1\"\n\t}"),
	F("{ \"a\":1}", "0-1", 0, "{\"id\":\"0-1\", \"a\":1}"),
	F("{\"a\":1}", "we\"ird", 0, "{\"id\":\"we\\\"ird\",\"a\":1}"), /* the id is escaped */
	/* Not an object. */
	F("", "1-0", COHORT_E_INVAL, ""),
	F("{", "1-0", COHORT_E_INVAL, ""),
	F("}", "1-0", COHORT_E_INVAL, ""),
	F("[]", "1-0", COHORT_E_INVAL, ""),
	F("null", "1-0", COHORT_E_INVAL, ""),
	F("\"{}\"", "1-0", COHORT_E_INVAL, ""),
	F(" {}", "1-0", COHORT_E_INVAL, ""),
	F("{} ", "1-0", COHORT_E_INVAL, ""),
	F("x{}", "1-0", COHORT_E_INVAL, ""),
	F("{\"a\":1", "1-0", COHORT_E_INVAL, ""),
};

static void test_finalize(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fin_rows) / sizeof(fin_rows[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		int err = event_finalize(&sb, fin_rows[i].id, fin_rows[i].stored, fin_rows[i].len);

		if (err != fin_rows[i].err)
			fail_msg("row %zu [%s]: err %d, want %d", i, fin_rows[i].stored, err, fin_rows[i].err);
		if (!err) {
			struct json_object *o;

			if (strcmp(sb.buf, fin_rows[i].want))
				fail_msg("row %zu:\n got %s\nwant %s", i, sb.buf, fin_rows[i].want);
			if (json_parse_object(sb.buf, sb.len, &o))
				fail_msg("row %zu: finalized event is not a JSON object: %s", i, sb.buf);
			json_put(o);
		} else {
			/* Nothing is appended on refusal. */
			assert_int_equal(sb.len, 0);
		}
		strbuf_release(&sb);
	}
}

/* Producer → Redis → streamer: the final envelope has "id" first and every
 * stored field after it, unchanged. */
static void test_encode_then_finalize(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(enc_rows) / sizeof(enc_rows[0]); i++) {
		struct strbuf stored = STRBUF_INIT, fin = STRBUF_INIT;
		struct json_object *o, *v;

		assert_int_equal(event_encode_stored(&stored, &enc_rows[i].ev), 0);
		assert_int_equal(event_finalize(&fin, "1712345678901-3", stored.buf, stored.len), 0);
		assert_memory_equal(fin.buf, "{\"id\":\"1712345678901-3\",", 24);
		assert_string_equal(fin.buf + 24, stored.buf + 1);
		assert_int_equal(json_parse_object(fin.buf, fin.len, &o), 0);
		assert_true(json_object_object_get_ex(o, "id", &v));
		assert_string_equal(json_object_get_string(v), "1712345678901-3");
		json_put(o);
		strbuf_release(&stored);
		strbuf_release(&fin);
	}
}

/* Finalizing appends after what is already in the buffer. */
static void test_finalize_appends(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(strbuf_adds(&sb, "data: "), 0);
	assert_int_equal(event_finalize(&sb, "1-1", "{\"a\":1}", 7), 0);
	assert_string_equal(sb.buf, "data: {\"id\":\"1-1\",\"a\":1}");
	strbuf_release(&sb);
}

#define TYPE64 "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01"
static const struct {
	const char *type;
	int valid;
} type_rows[] = {
	{ "note", 1 },
	{ "file.saved", 1 },
	{ "a-b_c.d", 1 },
	{ "0", 1 },
	{ "...", 1 },
	{ TYPE64, 1 },
	{ TYPE64 "x", 0 },
	{ "", 0 },
	{ "Note", 0 },
	{ "a b", 0 },
	{ "a:b", 0 },
	{ "a/b", 0 },
	{ "a\"b", 0 },
	{ "a\nb", 0 },
	{ "caf\xc3\xa9", 0 },
	{ "a*", 0 },
};

static void test_type_valid(void **state)
{
	(void)state;
	assert_int_equal(strlen(TYPE64), EVENT_TYPE_MAX);
	for (size_t i = 0; i < sizeof(type_rows) / sizeof(type_rows[0]); i++) {
		if (event_type_valid(type_rows[i].type, strlen(type_rows[i].type)) != type_rows[i].valid)
			fail_msg("row %zu '%s': want %d", i, type_rows[i].type, type_rows[i].valid);
	}
	/* len counts, not the terminator: an embedded NUL is invalid, a prefix is judged alone. */
	assert_int_equal(event_type_valid("ab\0cd", 5), 0);
	assert_int_equal(event_type_valid("ab CD", 2), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_stored),
		cmocka_unit_test(test_encode_stored_bound),
		cmocka_unit_test(test_finalize),
		cmocka_unit_test(test_encode_then_finalize),
		cmocka_unit_test(test_finalize_appends),
		cmocka_unit_test(test_type_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
