/*
 * Unit tests for api/query: strict percent-decoding and the bounded query
 * string parser.
 */
#include "api/query.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct decode_case {
	const char *in;
	bool plus;
	int ret;         /* decoded length or error */
	const char *out; /* expected text when ret >= 0 */
};

static const struct decode_case decodes[] = {
	{ "", true, 0, "" },
	{ "abc", true, 3, "abc" },
	{ "a%20b", true, 3, "a b" },
	{ "a+b", true, 3, "a b" },
	{ "a+b", false, 3, "a+b" },
	{ "%2B", true, 1, "+" },
	{ "%2f%2F", true, 2, "//" },
	{ "%C3%A9", true, 2, "\xc3\xa9" },          /* é */
	{ "%F0%9F%98%80", true, 4, "\xf0\x9f\x98\x80" }, /* U+1F600 */
	{ "%", true, COHORT_E_INVAL, NULL },
	{ "%2", true, COHORT_E_INVAL, NULL },
	{ "a%", true, COHORT_E_INVAL, NULL },
	{ "%G0", true, COHORT_E_INVAL, NULL },
	{ "%0G", true, COHORT_E_INVAL, NULL },
	{ "%%", true, COHORT_E_INVAL, NULL },
	{ "%00", true, COHORT_E_INVAL, NULL },        /* NUL */
	{ "%C3", true, COHORT_E_INVAL, NULL },        /* truncated sequence */
	{ "%C0%AF", true, COHORT_E_INVAL, NULL },     /* overlong '/' */
	{ "%ED%A0%80", true, COHORT_E_INVAL, NULL },  /* surrogate */
	{ "%FF", true, COHORT_E_INVAL, NULL },
	{ "\xff", true, COHORT_E_INVAL, NULL },       /* raw invalid byte */
};

static void test_pct_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(decodes) / sizeof(decodes[0]); i++) {
		const struct decode_case *c = &decodes[i];
		char out[64];
		int r = pct_decode(c->in, strlen(c->in), out, sizeof(out), c->plus);

		print_message("decode %zu: '%s'\n", i, c->in);
		assert_int_equal(r, c->ret);
		if (r >= 0) {
			assert_int_equal((size_t)r, strlen(c->out));
			assert_memory_equal(out, c->out, (size_t)r + 1);
		}
	}
}

static void test_pct_decode_bounds(void **state)
{
	char out[4];

	(void)state;
	assert_int_equal(pct_decode("abc", 3, out, sizeof(out), true), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(pct_decode("abcd", 4, out, sizeof(out), true), COHORT_E_LIMIT);
	assert_int_equal(pct_decode("%41%42%43", 9, out, sizeof(out), true), 3);
	assert_int_equal(pct_decode("", 0, out, 0, true), COHORT_E_LIMIT);
	/* Only len bytes are read: a '%' cut by len is an error even when the
	 * bytes after it would complete the escape. */
	assert_int_equal(pct_decode("a%41", 2, out, sizeof(out), true), COHORT_E_INVAL);
	assert_int_equal(pct_decode("ab%41", 2, out, sizeof(out), true), 2);
}

struct query_case {
	const char *in;
	int err;
	const char *pairs; /* "name=value|name=value" after decoding */
};

static const struct query_case queries[] = {
	{ "", 0, "" },
	{ "a=1", 0, "a=1" },
	{ "a=1&b=2", 0, "a=1|b=2" },
	{ "a", 0, "a=" },
	{ "a=", 0, "a=" },
	{ "=x", 0, "=x" },
	{ "a=1&&b=2&", 0, "a=1|b=2" },
	{ "&&&", 0, "" },
	{ "a=1=2", 0, "a=1=2" },
	{ "streams=dev%3Aa%2Cdev%3Ab", 0, "streams=dev:a,dev:b" },
	{ "q=a+b&r=a%2Bb", 0, "q=a b|r=a+b" },
	{ "lastEventId=dev%3Aa%3D1-0", 0, "lastEventId=dev:a=1-0" },
	{ "n%C3%A9=%C3%A9", 0, "n\xc3\xa9=\xc3\xa9" },
	{ "a=%", COHORT_E_INVAL, NULL },
	{ "a%zz=1", COHORT_E_INVAL, NULL },
	{ "a=%00", COHORT_E_INVAL, NULL },
	{ "a=%FF", COHORT_E_INVAL, NULL },
};

static void pairs_string(const struct query *q, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < q->n; i++) {
		size_t need = (i ? 1 : 0) + q->params[i].name_len + 1 + q->params[i].value_len;

		assert_true(o + need < len);
		if (i)
			out[o++] = '|';
		memcpy(out + o, q->params[i].name, q->params[i].name_len);
		o += q->params[i].name_len;
		out[o++] = '=';
		memcpy(out + o, q->params[i].value, q->params[i].value_len);
		o += q->params[i].value_len;
		out[o] = '\0';
	}
}

static void test_query_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		const struct query_case *c = &queries[i];
		struct query *q = malloc(sizeof(*q));
		char pairs[512];

		assert_non_null(q);
		print_message("query %zu: '%s'\n", i, c->in);
		assert_int_equal(query_parse(q, c->in, strlen(c->in)), c->err);
		if (!c->err) {
			pairs_string(q, pairs, sizeof(pairs));
			assert_string_equal(pairs, c->pairs);
			for (size_t k = 0; k < q->n; k++) {
				assert_int_equal(strlen(q->params[k].name), q->params[k].name_len);
				assert_int_equal(strlen(q->params[k].value), q->params[k].value_len);
			}
		}
		free(q);
	}
}

static void test_query_get(void **state)
{
	struct query *q = malloc(sizeof(*q));
	const char *s = "a=1&b=&a=2&c";

	(void)state;
	assert_non_null(q);
	assert_int_equal(query_parse(q, s, strlen(s)), 0);
	assert_string_equal(query_get(q, "a"), "1"); /* the first one */
	assert_string_equal(query_get(q, "b"), "");
	assert_string_equal(query_get(q, "c"), "");
	assert_null(query_get(q, "d"));
	assert_null(query_get(q, "A"));
	free(q);
}

static void test_query_limits(void **state)
{
	struct query *q = malloc(sizeof(*q));
	char *s = malloc(QUERY_MAX_LEN + 2);
	size_t n = 0;

	(void)state;
	assert_non_null(q);
	assert_non_null(s);

	/* Exactly QUERY_MAX_PARAMS pairs is fine, one more is not. */
	for (int i = 0; i < QUERY_MAX_PARAMS; i++)
		n += (size_t)snprintf(s + n, QUERY_MAX_LEN - n, "%sk%d=v", i ? "&" : "", i);
	assert_int_equal(query_parse(q, s, n), 0);
	assert_int_equal(q->n, QUERY_MAX_PARAMS);
	assert_string_equal(query_get(q, "k31"), "v");
	n += (size_t)snprintf(s + n, QUERY_MAX_LEN - n, "&x=y");
	assert_int_equal(query_parse(q, s, n), COHORT_E_LIMIT);

	/* Exactly QUERY_MAX_LEN bytes is fine, one more is not. */
	memset(s, 'a', QUERY_MAX_LEN + 1);
	s[0] = 'k';
	s[1] = '=';
	assert_int_equal(query_parse(q, s, QUERY_MAX_LEN), 0);
	assert_int_equal(q->params[0].value_len, QUERY_MAX_LEN - 2);
	assert_int_equal(query_parse(q, s, QUERY_MAX_LEN + 1), COHORT_E_LIMIT);

	/* The worst case for the decode buffer: QUERY_MAX_PARAMS tiny pairs
	 * plus one long value, every pair needing two terminators. */
	n = 0;
	for (int i = 0; i < QUERY_MAX_PARAMS - 1; i++)
		n += (size_t)snprintf(s + n, QUERY_MAX_LEN + 1 - n, "a&");
	memset(s + n, 'b', QUERY_MAX_LEN - n);
	assert_int_equal(query_parse(q, s, QUERY_MAX_LEN), 0);
	assert_int_equal(q->n, QUERY_MAX_PARAMS);
	free(s);
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pct_decode),
		cmocka_unit_test(test_pct_decode_bounds),
		cmocka_unit_test(test_query_parse),
		cmocka_unit_test(test_query_get),
		cmocka_unit_test(test_query_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
