/*
 * Unit tests for core/utf8: strict RFC 3629 validation. Each row is a byte
 * string (with explicit length, so NULs and truncation are expressible) and
 * whether it must be accepted.
 */
#include "core/utf8.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

struct row {
	const char *what;
	const char *s;
	size_t len;
	bool valid;
};

#define R(what, lit, valid) { what, lit, sizeof(lit) - 1, valid }

static const struct row rows[] = {
	/* Accepted. */
	R("empty", "", true),
	R("ascii", "hello, world", true),
	R("embedded NUL is ASCII", "a\0b", true),
	R("all ASCII controls", "\x01\x1f\x7f", true),
	R("2-byte lowest U+0080", "\xc2\x80", true),
	R("2-byte e-acute", "\xc3\xa9", true),
	R("2-byte highest U+07FF", "\xdf\xbf", true),
	R("3-byte lowest U+0800", "\xe0\xa0\x80", true),
	R("3-byte euro", "\xe2\x82\xac", true),
	R("3-byte just below surrogates U+D7FF", "\xed\x9f\xbf", true),
	R("3-byte just above surrogates U+E000", "\xee\x80\x80", true),
	R("3-byte BOM U+FEFF", "\xef\xbb\xbf", true),
	R("3-byte U+FFFD", "\xef\xbf\xbd", true),
	R("3-byte nonchar U+FFFF", "\xef\xbf\xbf", true),
	R("4-byte lowest U+10000", "\xf0\x90\x80\x80", true),
	R("4-byte astral emoji U+1F600", "\xf0\x9f\x98\x80", true),
	R("4-byte highest U+10FFFF", "\xf4\x8f\xbf\xbf", true),
	R("mixed widths", "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", true),

	/* Overlong encodings. */
	R("overlong NUL C0 80", "\xc0\x80", false),
	R("overlong slash C0 AF", "\xc0\xaf", false),
	R("overlong C1 BF", "\xc1\xbf", false),
	R("overlong 3-byte U+007F", "\xe0\x81\xbf", false),
	R("overlong 3-byte U+07FF", "\xe0\x9f\xbf", false),
	R("overlong 4-byte U+FFFF", "\xf0\x8f\xbf\xbf", false),
	R("overlong 4-byte NUL", "\xf0\x80\x80\x80", false),

	/* UTF-16 surrogates. */
	R("surrogate U+D800", "\xed\xa0\x80", false),
	R("surrogate U+DBFF", "\xed\xaf\xbf", false),
	R("surrogate U+DC00", "\xed\xb0\x80", false),
	R("surrogate U+DFFF", "\xed\xbf\xbf", false),
	R("surrogate pair as CESU-8", "\xed\xa0\xbd\xed\xb8\x80", false),

	/* Beyond U+10FFFF and bytes that never appear. */
	R("U+110000", "\xf4\x90\x80\x80", false),
	R("F5 lead", "\xf5\x80\x80\x80", false),
	R("F7 lead max", "\xf7\xbf\xbf\xbf", false),
	R("F8 5-byte lead", "\xf8\x88\x80\x80\x80", false),
	R("FC 6-byte lead", "\xfc\x84\x80\x80\x80\x80", false),
	R("FE", "\xfe", false),
	R("FF", "\xff", false),

	/* Stray and missing continuation bytes. */
	R("lone continuation 80", "\x80", false),
	R("lone continuation BF", "\xbf", false),
	R("continuation after ASCII", "a\x80", false),
	R("extra continuation", "\xc3\xa9\xa9", false),
	R("2-byte lead then ASCII", "\xc3" "a", false),
	R("3-byte lead, bad 2nd", "\xe2" "a\xac", false),
	R("3-byte lead, bad 3rd", "\xe2\x82" "a", false),
	R("4-byte lead, bad 4th", "\xf0\x9f\x98" "a", false),
	R("lead followed by lead", "\xc3\xc3\xa9", false),

	/* Truncated at the end of the buffer. */
	R("truncated 2-byte", "\xc3", false),
	R("truncated 3-byte after 1", "\xe2", false),
	R("truncated 3-byte after 2", "\xe2\x82", false),
	R("truncated 4-byte after 1", "\xf0", false),
	R("truncated 4-byte after 2", "\xf0\x9f", false),
	R("truncated 4-byte after 3", "\xf0\x9f\x98", false),
	R("valid then truncated", "ok\xf0\x9f\x98", false),
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool got = utf8_valid(rows[i].s, rows[i].len);

		if (got != rows[i].valid)
			fail_msg("row %zu (%s): expected %s", i, rows[i].what,
				 rows[i].valid ? "valid" : "invalid");
	}
}

/* The length is honoured: bytes past len are never read, and a valid
 * sequence cut by len is invalid. The buffer is heap-allocated to exactly
 * len bytes so ASan/valgrind catch a read past it. */
static void test_length_is_the_bound(void **state)
{
	static const char euro[] = "\xe2\x82\xac";
	char *p;

	(void)state;
	for (size_t cut = 0; cut <= 3; cut++) {
		p = test_malloc(cut ? cut : 1);
		memcpy(p, euro, cut);
		assert_int_equal(utf8_valid(p, cut), cut == 0 || cut == 3);
		test_free(p);
	}
	/* Garbage after len does not matter. */
	assert_true(utf8_valid("ab\xff", 2));
}

/* Exhaustive check of every 2-byte and 3-byte sequence against the
 * definition, so no boundary between the rows above is missed. */
static bool reference_valid(uint32_t cp, int n)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };

	return cp >= min[n] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
}

static void test_exhaustive_2_and_3_bytes(void **state)
{
	unsigned char b[3];

	(void)state;
	for (unsigned a = 0xc0; a <= 0xdf; a++)
		for (unsigned c = 0; c <= 0xff; c++) {
			bool cont = (c & 0xc0) == 0x80;
			uint32_t cp = ((a & 0x1fu) << 6) | (c & 0x3fu);

			b[0] = (unsigned char)a, b[1] = (unsigned char)c;
			assert_int_equal(utf8_valid((const char *)b, 2), cont && reference_valid(cp, 2));
		}
	for (unsigned a = 0xe0; a <= 0xef; a++)
		for (unsigned c = 0x80; c <= 0xbf; c++)
			for (unsigned d = 0x80; d <= 0xbf; d++) {
				uint32_t cp = ((a & 0x0fu) << 12) | ((c & 0x3fu) << 6) | (d & 0x3fu);

				b[0] = (unsigned char)a, b[1] = (unsigned char)c, b[2] = (unsigned char)d;
				assert_int_equal(utf8_valid((const char *)b, 3), reference_valid(cp, 3));
			}
}

/* Every 4-byte lead with the boundary continuations. */
static void test_4_byte_leads(void **state)
{
	static const unsigned char conts[] = { 0x80, 0x8f, 0x90, 0xbf };
	unsigned char b[4];

	(void)state;
	for (unsigned a = 0xf0; a <= 0xff; a++)
		for (size_t i = 0; i < sizeof(conts); i++) {
			uint32_t cp = ((a & 0x07u) << 18) | ((conts[i] & 0x3fu) << 12) | (0x3fu << 6) | 0x3fu;
			bool want = a <= 0xf7 && reference_valid(cp, 4);

			b[0] = (unsigned char)a, b[1] = conts[i], b[2] = 0xbf, b[3] = 0xbf;
			assert_int_equal(utf8_valid((const char *)b, 4), want);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_length_is_the_bound),
		cmocka_unit_test(test_exhaustive_2_and_3_bytes),
		cmocka_unit_test(test_4_byte_leads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
