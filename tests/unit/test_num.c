/*
 * Unit tests for core/num: the checked number parsers. Rows give the input,
 * the expected return and, on success, the value; on failure the output
 * must be left untouched.
 */
#include "core/err.h"
#include "core/num.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define SENTINEL_L 0x5a5a5a5aL

static const struct {
	const char *in;
	int err;
	long want;
} long_rows[] = {
	{ "0", 0, 0 },
	{ "7", 0, 7 },
	{ "-7", 0, -7 },
	{ "-0", 0, 0 },
	{ "007", 0, 7 },
	{ "123456789", 0, 123456789 },
	{ "9223372036854775807", 0, LONG_MAX },
	{ "-9223372036854775808", 0, LONG_MIN },
	{ "9223372036854775808", COHORT_E_RANGE, 0 },
	{ "-9223372036854775809", COHORT_E_RANGE, 0 },
	{ "99999999999999999999999999", COHORT_E_RANGE, 0 },
	{ "", COHORT_E_INVAL, 0 },
	{ "-", COHORT_E_INVAL, 0 },
	{ "+5", COHORT_E_INVAL, 0 },
	{ "--5", COHORT_E_INVAL, 0 },
	{ "-+5", COHORT_E_INVAL, 0 },
	{ " 5", COHORT_E_INVAL, 0 },
	{ "\t5", COHORT_E_INVAL, 0 },
	{ "5 ", COHORT_E_INVAL, 0 },
	{ "- 5", COHORT_E_INVAL, 0 },
	{ "5x", COHORT_E_INVAL, 0 },
	{ "12abc", COHORT_E_INVAL, 0 },
	{ "0x10", COHORT_E_INVAL, 0 },
	{ "1e3", COHORT_E_INVAL, 0 },
	{ "1.5", COHORT_E_INVAL, 0 },
	{ "1,000", COHORT_E_INVAL, 0 },
	{ "abc", COHORT_E_INVAL, 0 },
	{ "5K", COHORT_E_INVAL, 0 }, /* suffixes are parse_size's */
};

static void test_parse_long(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(long_rows) / sizeof(long_rows[0]); i++) {
		long v = SENTINEL_L;
		int err = parse_long(long_rows[i].in, &v);

		if (err != long_rows[i].err)
			fail_msg("row %zu '%s': err %d, want %d", i, long_rows[i].in, err, long_rows[i].err);
		assert_int_equal(v, err ? SENTINEL_L : long_rows[i].want);
	}
}

static void test_parse_long_null(void **state)
{
	long v = SENTINEL_L;

	(void)state;
	assert_int_equal(parse_long(NULL, &v), COHORT_E_INVAL);
	assert_int_equal(v, SENTINEL_L);
}

static const struct {
	const char *in;
	int err;
	long want;
} size_rows[] = {
	{ "0", 0, 0 },
	{ "1024", 0, 1024 },
	{ "1k", 0, 1024 },
	{ "1K", 0, 1024 },
	{ "256K", 0, 256 * 1024 },
	{ "1m", 0, 1L << 20 },
	{ "1M", 0, 1L << 20 },
	{ "3G", 0, 3L << 30 },
	{ "1g", 0, 1L << 30 },
	{ "0K", 0, 0 },
	{ "-0", 0, 0 },
	{ "9223372036854775807", 0, LONG_MAX },
	{ "8589934591G", 0, 8589934591L << 30 }, /* largest multiple of 1G that fits */
	{ "8589934592G", COHORT_E_RANGE, 0 },
	{ "9007199254740991K", 0, 9007199254740991L << 10 },
	{ "9007199254740992K", COHORT_E_RANGE, 0 },
	{ "8796093022208M", COHORT_E_RANGE, 0 },
	{ "8796093022207M", 0, 8796093022207L << 20 },
	{ "9223372036854775808", COHORT_E_RANGE, 0 },
	{ "-1", COHORT_E_RANGE, 0 },
	{ "-1K", COHORT_E_RANGE, 0 },
	{ "", COHORT_E_INVAL, 0 },
	{ "K", COHORT_E_INVAL, 0 },
	{ "M", COHORT_E_INVAL, 0 },
	{ "1KB", COHORT_E_INVAL, 0 },
	{ "1KK", COHORT_E_INVAL, 0 },
	{ "1T", COHORT_E_INVAL, 0 },
	{ "1b", COHORT_E_INVAL, 0 },
	{ "1 K", COHORT_E_INVAL, 0 },
	{ " 1K", COHORT_E_INVAL, 0 },
	{ "1K ", COHORT_E_INVAL, 0 },
	{ "+1K", COHORT_E_INVAL, 0 },
	{ "1.5M", COHORT_E_INVAL, 0 },
	{ "0x1K", COHORT_E_INVAL, 0 },
	/* Longer than the internal copy: rejected, not truncated. */
	{ "00000000000000000000000000000001", COHORT_E_INVAL, 0 }, /* 32 chars */
	{ "0000000000000000000000000000001", 0, 1 },                /* 31 chars */
};

static void test_parse_size(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(size_rows) / sizeof(size_rows[0]); i++) {
		long v = SENTINEL_L;
		int err = parse_size(size_rows[i].in, &v);

		if (err != size_rows[i].err)
			fail_msg("row %zu '%s': err %d, want %d", i, size_rows[i].in, err, size_rows[i].err);
		assert_int_equal(v, err ? SENTINEL_L : size_rows[i].want);
	}
}

static void test_parse_size_null(void **state)
{
	long v = SENTINEL_L;

	(void)state;
	assert_int_equal(parse_size(NULL, &v), COHORT_E_INVAL);
	assert_int_equal(v, SENTINEL_L);
}

/* parse_u64n reads exactly len bytes; the row's string may go on past len. */
#define U(s, len, err, want) { s, len, err, want }
static const struct {
	const char *in;
	size_t len;
	int err;
	uint64_t want;
} u64_rows[] = {
	U("0", 1, 0, 0),
	U("1", 1, 0, 1),
	U("42", 2, 0, 42),
	U("000", 3, 0, 0),
	U("1712345678901", 13, 0, 1712345678901ULL),
	U("18446744073709551615", 20, 0, UINT64_MAX),
	U("18446744073709551616", 20, COHORT_E_RANGE, 0),
	U("18446744073709551620", 20, COHORT_E_RANGE, 0),
	U("99999999999999999999", 20, COHORT_E_RANGE, 0),
	U("00000000000000000001", 20, 0, 1),
	U("000000000000000000001", 21, COHORT_E_INVAL, 0), /* more than 20 digits */
	U("184467440737095516150", 21, COHORT_E_INVAL, 0),
	U("", 0, COHORT_E_INVAL, 0),
	U("123", 0, COHORT_E_INVAL, 0),
	U("-1", 2, COHORT_E_INVAL, 0),
	U("+1", 2, COHORT_E_INVAL, 0),
	U(" 1", 2, COHORT_E_INVAL, 0),
	U("1 ", 2, COHORT_E_INVAL, 0),
	U("1a", 2, COHORT_E_INVAL, 0),
	U("1\0", 2, COHORT_E_INVAL, 0),
	/* Prefix parsing: only len bytes count. */
	U("123-456", 3, 0, 123),
	U("12x", 2, 0, 12),
	U("9junk", 1, 0, 9),
};

static void test_parse_u64n(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(u64_rows) / sizeof(u64_rows[0]); i++) {
		uint64_t v = 0xa5a5a5a5a5a5a5a5ULL;
		int err = parse_u64n(u64_rows[i].in, u64_rows[i].len, &v);

		if (err != u64_rows[i].err)
			fail_msg("row %zu '%.*s': err %d, want %d", i, (int)u64_rows[i].len, u64_rows[i].in,
				 err, u64_rows[i].err);
		if (err)
			assert_true(v == 0xa5a5a5a5a5a5a5a5ULL);
		else
			assert_true(v == u64_rows[i].want);
	}
}

/* Reads no byte past len: the digits sit at the end of an exact-size heap block. */
static void test_parse_u64n_exact_buffer(void **state)
{
	char *p = test_malloc(5);
	uint64_t v = 0;

	(void)state;
	memcpy(p, "54321", 5);
	assert_int_equal(parse_u64n(p, 5, &v), 0);
	assert_true(v == 54321);
	test_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_parse_long_null),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_size_null),
		cmocka_unit_test(test_parse_u64n),
		cmocka_unit_test(test_parse_u64n_exact_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
