/*
 * Unit tests for core/streamid: Redis stream ids ("<ms>-<seq>") and the
 * composite positions clients resume from ("scope=ms-seq,scope=ms-seq").
 */
#include "core/err.h"
#include "core/strbuf.h"
#include "core/streamid.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define U64MAX_S "18446744073709551615"

static const struct {
	const char *in;
	int err;
	uint64_t ms, seq;
} id_rows[] = {
	{ "0-0", 0, 0, 0 },
	{ "0-1", 0, 0, 1 },
	{ "1712345678901-0", 0, 1712345678901ULL, 0 },
	{ "1712345678901-42", 0, 1712345678901ULL, 42 },
	{ U64MAX_S "-" U64MAX_S, 0, UINT64_MAX, UINT64_MAX },
	{ "007-008", 0, 7, 8 },
	{ "18446744073709551616-0", COHORT_E_BADID, 0, 0 }, /* ms overflows u64 */
	{ "0-18446744073709551616", COHORT_E_BADID, 0, 0 }, /* seq overflows u64 */
	{ "99999999999999999999-0", COHORT_E_BADID, 0, 0 },
	{ "000000000000000000001-0", COHORT_E_BADID, 0, 0 }, /* more than 20 digits */
	{ "", COHORT_E_BADID, 0, 0 },
	{ "-", COHORT_E_BADID, 0, 0 },
	{ "1", COHORT_E_BADID, 0, 0 },
	{ "1-", COHORT_E_BADID, 0, 0 },
	{ "-1", COHORT_E_BADID, 0, 0 },
	{ "1--1", COHORT_E_BADID, 0, 0 },
	{ "1-2-3", COHORT_E_BADID, 0, 0 },
	{ "1-+2", COHORT_E_BADID, 0, 0 },
	{ "+1-2", COHORT_E_BADID, 0, 0 },
	{ " 1-2", COHORT_E_BADID, 0, 0 },
	{ "1-2 ", COHORT_E_BADID, 0, 0 },
	{ "1 -2", COHORT_E_BADID, 0, 0 },
	{ "a-b", COHORT_E_BADID, 0, 0 },
	{ "1-2x", COHORT_E_BADID, 0, 0 },
	{ "1-*", COHORT_E_BADID, 0, 0 },   /* XADD's '*' is not a position */
	{ "$", COHORT_E_BADID, 0, 0 },
	{ "1.5-2", COHORT_E_BADID, 0, 0 },
};

static void test_stream_id_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(id_rows) / sizeof(id_rows[0]); i++) {
		struct stream_id id = { 0, 0 };
		size_t n = strlen(id_rows[i].in);
		/* Exact-size heap copy: the parser must not need a terminator. */
		char *p = malloc(n ? n : 1);
		int err;

		assert_non_null(p);
		memcpy(p, id_rows[i].in, n);
		err = stream_id_parse(p, n, &id);
		free(p);
		if (err != id_rows[i].err)
			fail_msg("row %zu '%s': err %d, want %d", i, id_rows[i].in, err, id_rows[i].err);
		if (!err)
			assert_true(id.ms == id_rows[i].ms && id.seq == id_rows[i].seq);
	}
	/* Only len bytes count. */
	{
		struct stream_id id;

		assert_int_equal(stream_id_parse("5-6,7-8", 3, &id), 0);
		assert_true(id.ms == 5 && id.seq == 6);
	}
}

static void test_stream_id_format(void **state)
{
	static const struct {
		uint64_t ms, seq;
		const char *want;
	} rows[] = {
		{ 0, 0, "0-0" },
		{ 1712345678901ULL, 7, "1712345678901-7" },
		{ UINT64_MAX, UINT64_MAX, U64MAX_S "-" U64MAX_S },
	};
	char buf[STREAM_ID_STRMAX];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct stream_id id = { rows[i].ms, rows[i].seq }, back;
		int n = stream_id_format(&id, buf, sizeof(buf));

		assert_int_equal(n, (int)strlen(rows[i].want));
		assert_string_equal(buf, rows[i].want);
		/* Round trip. */
		assert_int_equal(stream_id_parse(buf, (size_t)n, &back), 0);
		assert_int_equal(stream_id_cmp(&id, &back), 0);
	}
	/* The largest id fits STREAM_ID_STRMAX with its NUL. */
	assert_int_equal(strlen(U64MAX_S "-" U64MAX_S) + 1, STREAM_ID_STRMAX);
	/* A short buffer truncates like snprintf and reports the full length. */
	{
		struct stream_id id = { 123, 456 };
		char small[4];

		assert_int_equal(stream_id_format(&id, small, sizeof(small)), 7);
		assert_string_equal(small, "123");
	}
}

static void test_stream_id_cmp(void **state)
{
	static const struct {
		struct stream_id a, b;
		int want;
	} rows[] = {
		{ { 0, 0 }, { 0, 0 }, 0 },
		{ { 1, 0 }, { 0, 0 }, 1 },
		{ { 0, 1 }, { 0, 0 }, 1 },
		{ { 1, 0 }, { 0, UINT64_MAX }, 1 }, /* ms dominates */
		{ { 5, 5 }, { 5, 6 }, -1 },
		{ { 5, 6 }, { 6, 0 }, -1 },
		{ { UINT64_MAX, UINT64_MAX }, { UINT64_MAX, UINT64_MAX }, 0 },
		{ { UINT64_MAX, 0 }, { 0, UINT64_MAX }, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(stream_id_cmp(&rows[i].a, &rows[i].b), rows[i].want);
		assert_int_equal(stream_id_cmp(&rows[i].b, &rows[i].a), -rows[i].want);
	}
}

static void test_stream_id_is_zero(void **state)
{
	struct stream_id z = { 0, 0 }, a = { 0, 1 }, b = { 1, 0 };

	(void)state;
	assert_true(stream_id_is_zero(&z));
	assert_false(stream_id_is_zero(&a));
	assert_false(stream_id_is_zero(&b));
}

/* position_parse collects items through this callback. */
struct collect {
	struct strbuf text; /* "scope=ms-seq;" per item, re-formatted from the parsed values */
	size_t count;
	size_t stop_after; /* 0: never stop */
	int stop_with;
};

static int collect_fn(const struct position_item *item, void *arg)
{
	struct collect *c = arg;

	assert_true(item->scope_len > 0);
	assert_int_equal(strbuf_add(&c->text, item->scope, item->scope_len), 0);
	assert_int_equal(strbuf_addf(&c->text, "=%llu-%llu;", (unsigned long long)item->id.ms,
				     (unsigned long long)item->id.seq), 0);
	c->count++;
	if (c->stop_after && c->count == c->stop_after)
		return c->stop_with;
	return 0;
}

static const struct {
	const char *in;
	int err;
	const char *want; /* items seen, as collect_fn formats them */
} pos_rows[] = {
	{ "dev:a=1-2", 0, "dev:a=1-2;" },
	{ "dev:a=0-0", 0, "dev:a=0-0;" },
	{ "dev:a=1-2,dev:b=3-4", 0, "dev:a=1-2;dev:b=3-4;" },
	{ "a=1-1,b=2-2,c=3-3", 0, "a=1-1;b=2-2;c=3-3;" },
	{ "dev:a=" U64MAX_S "-" U64MAX_S, 0, "dev:a=" U64MAX_S "-" U64MAX_S ";" },
	{ "dev:a=1-2,dev:a=3-4", 0, "dev:a=1-2;dev:a=3-4;" }, /* duplicates are the caller's to judge */
	{ "a=b=1-2", 0, "a=b=1-2;" },                          /* the last '=' splits */
	{ "x y=1-2", 0, "x y=1-2;" },                          /* scope text is the caller's to validate */

	{ "", COHORT_E_BADID, "" },
	{ ",", COHORT_E_BADID, "" },
	{ "=1-2", COHORT_E_BADID, "" },
	{ "dev:a", COHORT_E_BADID, "" },
	{ "dev:a=", COHORT_E_BADID, "" },
	{ "dev:a=1", COHORT_E_BADID, "" },
	{ "dev:a=1-", COHORT_E_BADID, "" },
	{ "dev:a=-1", COHORT_E_BADID, "" },
	{ "dev:a=x-1", COHORT_E_BADID, "" },
	{ "dev:a=1-2 ", COHORT_E_BADID, "" },
	{ "dev:a=1-2=", COHORT_E_BADID, "" },
	{ "dev:a=18446744073709551616-0", COHORT_E_BADID, "" },
	{ "dev:a=0-18446744073709551616", COHORT_E_BADID, "" },
	/* An item is reported before a later one fails: callers must not act until the end. */
	{ "dev:a=1-2,", COHORT_E_BADID, "dev:a=1-2;" },
	{ "dev:a=1-2,,dev:b=3-4", COHORT_E_BADID, "dev:a=1-2;" },
	{ ",dev:a=1-2", COHORT_E_BADID, "" },
	{ "dev:a=1-2,dev:b", COHORT_E_BADID, "dev:a=1-2;" },
	/* ';' is not a separator: this is one item whose scope scope_parse will refuse. */
	{ "dev:a=1-2;dev:b=3-4", 0, "dev:a=1-2;dev:b=3-4;" },
};

static void test_position_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pos_rows) / sizeof(pos_rows[0]); i++) {
		struct collect c = { STRBUF_INIT, 0, 0, 0 };
		size_t n = strlen(pos_rows[i].in);
		char *p = malloc(n ? n : 1);
		int err;

		assert_non_null(p);
		memcpy(p, pos_rows[i].in, n);
		err = position_parse(p, n, collect_fn, &c);
		free(p);
		if (err != pos_rows[i].err)
			fail_msg("row %zu '%s': err %d, want %d", i, pos_rows[i].in, err, pos_rows[i].err);
		if (strcmp(c.text.buf ? c.text.buf : "", pos_rows[i].want))
			fail_msg("row %zu '%s': items '%s', want '%s'", i, pos_rows[i].in, c.text.buf, pos_rows[i].want);
		strbuf_release(&c.text);
	}
}

/* The callback's non-zero return stops the walk and is returned as is. */
static void test_position_early_stop(void **state)
{
	static const struct {
		size_t stop_after;
		int stop_with;
		const char *want;
	} rows[] = {
		{ 1, 1, "a=1-1;" },
		{ 2, COHORT_E_UNKNOWNSTREAM, "a=1-1;b=2-2;" },
		{ 3, -1, "a=1-1;b=2-2;c=3-3;" },
		{ 4, 7, "a=1-1;b=2-2;c=3-3;" }, /* never reached */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct collect c = { STRBUF_INIT, 0, rows[i].stop_after, rows[i].stop_with };
		int err = position_parse("a=1-1,b=2-2,c=3-3", 17, collect_fn, &c);

		assert_int_equal(err, rows[i].stop_after <= 3 ? rows[i].stop_with : 0);
		assert_string_equal(c.text.buf, rows[i].want);
		strbuf_release(&c.text);
	}
}

static int count_fn(const struct position_item *item, void *arg)
{
	(void)item;
	(*(size_t *)arg)++;
	return 0;
}

/* Builds "s=1-1,s=1-1,..." with n items. */
static char *many_items(size_t n, size_t *len)
{
	char *p = malloc(n * 6 + 1);

	assert_non_null(p);
	*len = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(p + *len, i ? ",s=1-1" : "s=1-1", i ? 6 : 5);
		*len += i ? 6 : 5;
	}
	return p;
}

static void test_position_max_items(void **state)
{
	static const struct {
		size_t items;
		int err;
	} rows[] = {
		{ 1, 0 },
		{ POSITION_MAX_ITEMS - 1, 0 },
		{ POSITION_MAX_ITEMS, 0 },
		{ POSITION_MAX_ITEMS + 1, COHORT_E_BADID },
		{ 5000, COHORT_E_BADID },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len, count = 0;
		char *p = many_items(rows[i].items, &len);

		assert_int_equal(position_parse(p, len, count_fn, &count), rows[i].err);
		assert_int_equal(count, rows[i].err ? POSITION_MAX_ITEMS : rows[i].items);
		free(p);
	}
}

static void test_position_max_len(void **state)
{
	static const struct {
		size_t len;
		int err;
	} rows[] = {
		{ POSITION_MAX_LEN, 0 },
		{ POSITION_MAX_LEN + 1, COHORT_E_BADID },
		{ (size_t)1 << 20, COHORT_E_BADID },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		/* One item whose scope is padded to the wanted total length. */
		size_t len = rows[i].len, count = 0;
		char *p = malloc(len);

		assert_non_null(p);
		memset(p, 's', len);
		memcpy(p + len - 4, "=1-1", 4);
		assert_int_equal(position_parse(p, len, count_fn, &count), rows[i].err);
		assert_int_equal(count, rows[i].err ? 0 : 1);
		free(p);
	}
}

/* Items point into the caller's text. */
static int check_ptr_fn(const struct position_item *item, void *arg)
{
	const char *base = arg;

	assert_true(item->scope >= base && item->scope < base + 64);
	return 0;
}

static void test_position_items_borrow(void **state)
{
	static const char text[] = "dev:one=1-1,dev:two=2-2";

	(void)state;
	assert_int_equal(position_parse(text, sizeof(text) - 1, check_ptr_fn, (void *)(uintptr_t)text), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_id_parse),
		cmocka_unit_test(test_stream_id_format),
		cmocka_unit_test(test_stream_id_cmp),
		cmocka_unit_test(test_stream_id_is_zero),
		cmocka_unit_test(test_position_rows),
		cmocka_unit_test(test_position_early_stop),
		cmocka_unit_test(test_position_max_items),
		cmocka_unit_test(test_position_max_len),
		cmocka_unit_test(test_position_items_borrow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
