/*
 * Unit tests for core/text: names, free text and logins, one row per case.
 * Lengths are given explicitly so embedded NULs and limits can be tested.
 */
#include "core/principal.h"
#include "core/text.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define S(lit) lit, sizeof(lit) - 1

static const struct {
	const char *s;
	size_t len;
	size_t max;
	bool ok;
} name_rows[] = {
	{ S("Intro to C"), NAME_MAX_BYTES, true },
	{ S("a"), NAME_MAX_BYTES, true },
	{ S("Hello, world"), NAME_MAX_BYTES, true },
	{ S("Zoë Ångström"), NAME_MAX_BYTES, true },
	{ S("日本語の授業"), NAME_MAX_BYTES, true },
	{ S("emoji 🎉"), NAME_MAX_BYTES, true },
	{ S("inner  spaces"), NAME_MAX_BYTES, true },
	{ S("<b>not html</b>"), NAME_MAX_BYTES, true }, /* displayed as text, never HTML */
	{ S("abc"), 3, true },                          /* exactly at the limit */
	{ S("abcd"), 3, false },                        /* one byte over */
	{ S("é"), 1, false },                           /* two bytes over a one-byte limit */
	{ S(""), NAME_MAX_BYTES, false },
	{ S(" leading"), NAME_MAX_BYTES, false },
	{ S("trailing "), NAME_MAX_BYTES, false },
	{ S(" "), NAME_MAX_BYTES, false },
	{ S("tab\there"), NAME_MAX_BYTES, false },
	{ S("line\nbreak"), NAME_MAX_BYTES, false },
	{ S("carriage\rreturn"), NAME_MAX_BYTES, false },
	{ S("nul\0inside"), NAME_MAX_BYTES, false },
	{ S("escape\x1b[31m"), NAME_MAX_BYTES, false },
	{ S("delete\x7f"), NAME_MAX_BYTES, false },
	{ S("c1 \xc2\x85 next line"), NAME_MAX_BYTES, false },   /* U+0085 */
	{ S("c1 \xc2\x9f"), NAME_MAX_BYTES, false },             /* U+009F */
	{ S("nbsp \xc2\xa0 ok"), NAME_MAX_BYTES, true },         /* U+00A0 is not a control */
	{ S("bad \xff utf8"), NAME_MAX_BYTES, false },
	{ S("overlong \xc0\xaf"), NAME_MAX_BYTES, false },
	{ S("surrogate \xed\xa0\x80"), NAME_MAX_BYTES, false },
	{ S("truncated \xe6\x97"), NAME_MAX_BYTES, false },
};

static void test_name(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(name_rows) / sizeof(name_rows[0]); i++)
		if (text_name_ok(name_rows[i].s, name_rows[i].len, name_rows[i].max) != name_rows[i].ok)
			fail_msg("name row %zu: want %s", i, name_rows[i].ok ? "ok" : "refused");
}

static void test_name_limits(void **state)
{
	char buf[NAME_MAX_BYTES + 2];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	assert_true(text_name_ok(buf, NAME_MAX_BYTES, NAME_MAX_BYTES));
	assert_false(text_name_ok(buf, NAME_MAX_BYTES + 1, NAME_MAX_BYTES));
	assert_false(text_name_ok(NULL, 0, NAME_MAX_BYTES));
	assert_false(text_name_ok(NULL, 5, NAME_MAX_BYTES));
}

static const struct {
	const char *s;
	size_t len;
	size_t max;
	bool ok;
} body_rows[] = {
	{ S(""), DESCRIPTION_MAX_BYTES, true },
	{ S("one line"), DESCRIPTION_MAX_BYTES, true },
	{ S("two\nlines"), DESCRIPTION_MAX_BYTES, true },
	{ S("tab\tseparated"), DESCRIPTION_MAX_BYTES, true },
	{ S("  leading and trailing spaces are fine  "), DESCRIPTION_MAX_BYTES, true },
	{ S("Größe"), DESCRIPTION_MAX_BYTES, true },
	{ S("crlf\r\nline"), DESCRIPTION_MAX_BYTES, false },
	{ S("nul\0inside"), DESCRIPTION_MAX_BYTES, false },
	{ S("bell\a"), DESCRIPTION_MAX_BYTES, false },
	{ S("del\x7f"), DESCRIPTION_MAX_BYTES, false },
	{ S("c1 \xc2\x80"), DESCRIPTION_MAX_BYTES, false },
	{ S("bad \xfe"), DESCRIPTION_MAX_BYTES, false },
	{ S("abc"), 3, true },
	{ S("abcd"), 3, false },
};

static void test_body(void **state)
{
	char big[DESCRIPTION_MAX_BYTES + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(body_rows) / sizeof(body_rows[0]); i++)
		if (text_body_ok(body_rows[i].s, body_rows[i].len, body_rows[i].max) != body_rows[i].ok)
			fail_msg("body row %zu: want %s", i, body_rows[i].ok ? "ok" : "refused");
	memset(big, 'y', sizeof(big));
	assert_true(text_body_ok(big, DESCRIPTION_MAX_BYTES, DESCRIPTION_MAX_BYTES));
	assert_false(text_body_ok(big, DESCRIPTION_MAX_BYTES + 1, DESCRIPTION_MAX_BYTES));
	assert_false(text_body_ok(NULL, 0, DESCRIPTION_MAX_BYTES));
}

static const struct {
	const char *s;
	size_t len;
	bool ok;
} login_rows[] = {
	{ S("alice"), true },
	{ S("a"), true },
	{ S("7"), true },
	{ S("bob.smith"), true },
	{ S("carol_99"), true },
	{ S("d-e-f"), true },
	{ S("x..y"), true },
	{ S("a-"), true },
	{ S(""), false },
	{ S("Alice"), false }, /* logins are lower case */
	{ S("aliCe"), false },
	{ S(".alice"), false },
	{ S("_alice"), false },
	{ S("-alice"), false },
	{ S("al ice"), false },
	{ S("alice@example"), false },
	{ S("al/ice"), false },
	{ S("al\0ice"), false },
	{ S("zoë"), false },
	{ S("alice\n"), false },
};

static void test_login(void **state)
{
	char buf[LOGIN_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(login_rows) / sizeof(login_rows[0]); i++)
		if (text_login_ok(login_rows[i].s, login_rows[i].len) != login_rows[i].ok)
			fail_msg("login row %zu: want %s", i, login_rows[i].ok ? "ok" : "refused");
	memset(buf, 'q', sizeof(buf));
	assert_true(text_login_ok(buf, LOGIN_MAX));
	assert_false(text_login_ok(buf, LOGIN_MAX + 1));
	assert_false(text_login_ok(NULL, 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_name_limits),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_login),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
