/*
 * Unit tests for core/strbuf: growth, the hard bound (an append past max
 * fails with COHORT_E_LIMIT and leaves the content unchanged), formatting,
 * detach, and JSON string escaping.
 */
#include "core/err.h"
#include "core/strbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void assert_sb(const struct strbuf *sb, const char *want, size_t wantlen)
{
	assert_int_equal(sb->len, wantlen);
	assert_non_null(sb->buf);
	assert_memory_equal(sb->buf, want, wantlen);
	assert_int_equal(sb->buf[wantlen], '\0');
	assert_true(sb->alloc > sb->len);
	assert_true(sb->len <= (sb->max ? sb->max : STRBUF_DEFAULT_MAX));
}

static void test_init_release_reset(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_null(sb.buf);
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb); /* releasing an empty buffer is fine */
	strbuf_release(NULL);
	strbuf_reset(&sb);   /* so is resetting one */
	assert_int_equal(strbuf_adds(&sb, "abc"), 0);
	assert_sb(&sb, "abc", 3);
	strbuf_reset(&sb);
	assert_sb(&sb, "", 0);
	assert_int_equal(strbuf_addch(&sb, 'x'), 0);
	assert_sb(&sb, "x", 1);
	strbuf_release(&sb);
	assert_null(sb.buf);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.alloc, 0);
	/* Usable again after release. */
	assert_int_equal(strbuf_adds(&sb, "again"), 0);
	assert_sb(&sb, "again", 5);
	strbuf_release(&sb);
}

static void test_empty_append_allocates_terminator(void **state)
{
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb, 16);
	assert_int_equal(strbuf_add(&sb, "", 0), 0);
	assert_sb(&sb, "", 0);
	strbuf_release(&sb);
}

static void test_growth_keeps_content(void **state)
{
	struct strbuf sb;
	char want[5000];

	(void)state;
	strbuf_init(&sb, 0);
	for (size_t i = 0; i < sizeof(want); i++) {
		want[i] = (char)('a' + i % 26);
		assert_int_equal(strbuf_addch(&sb, want[i]), 0);
	}
	assert_sb(&sb, want, sizeof(want));
	/* Binary data with NULs inside is kept byte for byte. */
	strbuf_reset(&sb);
	assert_int_equal(strbuf_add(&sb, "a\0b\0", 4), 0);
	assert_sb(&sb, "a\0b\0", 4);
	strbuf_release(&sb);
}

/* Bound enforcement, table-driven: start with `pre` in a buffer of max
 * `max`, append `add`; expect `err` and the resulting content. */
static const struct {
	size_t max;
	const char *pre;
	const char *add;
	int err;
	const char *want;
} bound_rows[] = {
	{ 5, "", "abcde", 0, "abcde" },          /* exactly max fits */
	{ 5, "", "abcdef", COHORT_E_LIMIT, "" }, /* one past fails */
	{ 5, "abc", "de", 0, "abcde" },
	{ 5, "abc", "def", COHORT_E_LIMIT, "abc" },
	{ 5, "abcde", "x", COHORT_E_LIMIT, "abcde" },
	{ 5, "abcde", "", 0, "abcde" },          /* nothing added to a full buffer */
	{ 1, "", "x", 0, "x" },
	{ 1, "x", "y", COHORT_E_LIMIT, "x" },
	{ 100, "abc", "0123456789012345678901234567890123456789012345678901234567890123456789"
		      "0123456789012345678901234567", COHORT_E_LIMIT, "abc" },
};

static void test_bound_add(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bound_rows) / sizeof(bound_rows[0]); i++) {
		struct strbuf sb;

		strbuf_init(&sb, bound_rows[i].max);
		assert_int_equal(strbuf_adds(&sb, bound_rows[i].pre), 0);
		assert_int_equal(strbuf_adds(&sb, bound_rows[i].add), bound_rows[i].err);
		assert_sb(&sb, bound_rows[i].want, strlen(bound_rows[i].want));
		strbuf_release(&sb);
	}
}

static void test_bound_addch_addf(void **state)
{
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb, 4);
	assert_int_equal(strbuf_addf(&sb, "%d", 123), 0);
	assert_int_equal(strbuf_addf(&sb, "%s", "45"), COHORT_E_LIMIT);
	assert_sb(&sb, "123", 3);
	assert_int_equal(strbuf_addch(&sb, '4'), 0);
	assert_int_equal(strbuf_addch(&sb, '5'), COHORT_E_LIMIT);
	assert_sb(&sb, "1234", 4);
	assert_int_equal(strbuf_addf(&sb, "%s", ""), 0);
	assert_sb(&sb, "1234", 4);
	strbuf_release(&sb);
}

/* Lengths near SIZE_MAX must not wrap around the bound check. */
static void test_bound_huge_lengths(void **state)
{
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb, 0);
	assert_int_equal(strbuf_adds(&sb, "abc"), 0);
	assert_int_equal(strbuf_add(&sb, "x", SIZE_MAX), COHORT_E_LIMIT);
	assert_int_equal(strbuf_add(&sb, "x", SIZE_MAX - 2), COHORT_E_LIMIT);
	assert_int_equal(strbuf_add(&sb, "x", STRBUF_DEFAULT_MAX), COHORT_E_LIMIT);
	assert_int_equal(strbuf_add(&sb, "x", STRBUF_DEFAULT_MAX - 2), COHORT_E_LIMIT);
	assert_sb(&sb, "abc", 3);
	strbuf_release(&sb);

	strbuf_init(&sb, SIZE_MAX);
	assert_int_equal(strbuf_adds(&sb, "abc"), 0);
	assert_int_equal(strbuf_add(&sb, "x", SIZE_MAX - 1), COHORT_E_LIMIT);
	assert_sb(&sb, "abc", 3);
	strbuf_release(&sb);
}

static void test_addf(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(strbuf_addf(&sb, "%d", -42), 0);
	assert_string_equal(sb.buf, "-42");
	strbuf_reset(&sb);
	assert_int_equal(strbuf_addf(&sb, "%s", "hello"), 0);
	assert_string_equal(sb.buf, "hello");
	strbuf_reset(&sb);
	assert_int_equal(strbuf_addf(&sb, "a=%d,b=%s,c=%.2f", 1, "two", 3.5), 0);
	assert_string_equal(sb.buf, "a=1,b=two,c=3.50");
	strbuf_reset(&sb);
	assert_int_equal(strbuf_addf(&sb, "%ld", 9223372036854775807L), 0);
	assert_string_equal(sb.buf, "9223372036854775807");
	/* Appends, never overwrites; a long expansion crosses the initial allocation. */
	assert_int_equal(strbuf_addf(&sb, "%0200d", 7), 0);
	assert_int_equal(sb.len, 19 + 200);
	assert_memory_equal(sb.buf, "9223372036854775807000", 22);
	assert_int_equal(sb.buf[sb.len - 1], '7');
	assert_int_equal(sb.buf[sb.len], '\0');
	strbuf_release(&sb);
}

static void test_detach(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len = 99;
	char *p;

	(void)state;
	/* Detaching an empty buffer still gives an owned, empty string. */
	p = strbuf_detach(&sb, &len);
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);

	assert_int_equal(strbuf_adds(&sb, "payload"), 0);
	p = strbuf_detach(&sb, &len);
	assert_string_equal(p, "payload");
	assert_int_equal(len, 7);
	assert_null(sb.buf);
	assert_int_equal(sb.len, 0);
	free(p);

	assert_int_equal(strbuf_adds(&sb, "x"), 0);
	p = strbuf_detach(&sb, NULL);
	assert_string_equal(p, "x");
	free(p);
	strbuf_release(&sb);
}

/* JSON string escaping: input bytes (explicit length) and the exact literal. */
#define J(in, out) { in, sizeof(in) - 1, out }
static const struct {
	const char *in;
	size_t len;
	const char *want;
} json_rows[] = {
	J("", "\"\""),
	J("plain", "\"plain\""),
	J("say \"hi\"", "\"say \\\"hi\\\"\""),
	J("back\\slash", "\"back\\\\slash\""),
	J("a/b", "\"a/b\""), /* '/' needs no escape */
	J("\n\r\t", "\"\\n\\r\\t\""),
	J("\b\f", "\"\\u0008\\u000c\""),
	J("\x01\x1f", "\"\\u0001\\u001f\""),
	J("\x7f", "\"\\u007f\""),
	J("\0", "\"\\u0000\""),
	J("a\0b", "\"a\\u0000b\""),
	J(" ~", "\" ~\""), /* 0x20 and 0x7e pass through */
	J("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""),
	J("</script>", "\"</script>\""),
	J("\"\\\"", "\"\\\"\\\\\\\"\""),
	/* Runs of plain bytes between escapes, at either end and in between. */
	J("src/main.c", "\"src/main.c\""),
	J("\"lead", "\"\\\"lead\""),
	J("trail\n", "\"trail\\n\""),
	J("ab\"cd\\ef\ngh\x01ij", "\"ab\\\"cd\\\\ef\\ngh\\u0001ij\""),
	J("\t\t\tx\t\t", "\"\\t\\t\\tx\\t\\t\""),
	J("caf\xc3\xa9 \"\xe2\x82\xac\"\x7f!", "\"caf\xc3\xa9 \\\"\xe2\x82\xac\\\"\\u007f!\""),
};

static void test_json_escape(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(json_rows) / sizeof(json_rows[0]); i++) {
		struct strbuf sb = STRBUF_INIT;

		assert_int_equal(strbuf_adds(&sb, "pre:"), 0);
		assert_int_equal(strbuf_add_json_str(&sb, json_rows[i].in, json_rows[i].len), 0);
		if (sb.len != 4 + strlen(json_rows[i].want) || strcmp(sb.buf + 4, json_rows[i].want))
			fail_msg("row %zu: got [%s] want [%s]", i, sb.buf + 4, json_rows[i].want);
		assert_memory_equal(sb.buf, "pre:", 4);
		strbuf_release(&sb);
	}
}

/* Every control byte is escaped and nothing else below 0x80 is, except '"' and '\'. */
static void test_json_escape_all_ascii(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 0x80; c++) {
		struct strbuf sb = STRBUF_INIT;
		char ch = (char)c;

		assert_int_equal(strbuf_add_json_str(&sb, &ch, 1), 0);
		if (c < 0x20 || c == 0x7f)
			assert_true(sb.buf[1] == '\\' && (sb.len == 4 || sb.len == 8));
		else if (c == '"' || c == '\\')
			assert_true(sb.len == 4 && sb.buf[1] == '\\' && sb.buf[2] == ch);
		else
			assert_true(sb.len == 3 && sb.buf[1] == ch);
		strbuf_release(&sb);
	}
}

/* The escaping done one byte at a time, as the model the run-copying
 * implementation must agree with. */
static void json_model(struct strbuf *sb, const unsigned char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	assert_int_equal(strbuf_addch(sb, '"'), 0);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		if (c == '"' || c == '\\')
			assert_int_equal(strbuf_add(sb, (char[]){ '\\', (char)c }, 2), 0);
		else if (c == '\n')
			assert_int_equal(strbuf_adds(sb, "\\n"), 0);
		else if (c == '\r')
			assert_int_equal(strbuf_adds(sb, "\\r"), 0);
		else if (c == '\t')
			assert_int_equal(strbuf_adds(sb, "\\t"), 0);
		else if (c < 0x20 || c == 0x7f)
			assert_int_equal(strbuf_add(sb, esc, sizeof(esc)), 0);
		else
			assert_int_equal(strbuf_addch(sb, (char)c), 0);
	}
	assert_int_equal(strbuf_addch(sb, '"'), 0);
}

/* Random strings, mostly plain with escapes sprinkled at random places and
 * lengths up to a few KiB, agree with the model byte for byte. */
static void test_json_escape_random(void **state)
{
	static const unsigned char special[] = { '"', '\\', '\n', '\r', '\t', 0, 1, 0x1f, 0x7f, 0xc3, 0xa9 };
	unsigned char in[3000];
	uint32_t seed = 12345;

	(void)state;
	for (int round = 0; round < 500; round++) {
		struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;
		size_t len;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 8) % sizeof(in);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = (seed >> 16) % 16 == 0 ? special[(seed >> 20) % sizeof(special)]
							: (unsigned char)(' ' + (seed >> 20) % 95);
		}
		json_model(&want, in, len);
		assert_int_equal(strbuf_add_json_str(&got, (const char *)in, len), 0);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.buf, want.buf, want.len);
		strbuf_release(&got);
		strbuf_release(&want);
	}
}

/* An escape that would cross the bound fails as a whole: neither a partial
 * literal nor the opening quote is left behind. */
static const struct {
	size_t max;
	const char *in;
	int err;
	const char *want;
} json_bound_rows[] = {
	{ 6, "abcd", 0, "\"abcd\"" },
	{ 5, "abcd", COHORT_E_LIMIT, "" },
	{ 4, "\n", 0, "\"\\n\"" },
	{ 3, "\n", COHORT_E_LIMIT, "" },
	{ 8, "\x01", 0, "\"\\u0001\"" },
	{ 7, "\x01", COHORT_E_LIMIT, "" },
	{ 1, "", COHORT_E_LIMIT, "" },
	/* The bound falls inside a plain run, or on the escape after one. */
	{ 12, "abc\ndefgh", 0, "\"abc\\ndefgh\"" },
	{ 11, "abc\ndefgh", COHORT_E_LIMIT, "" },
	{ 7, "abc\"d", COHORT_E_LIMIT, "" },
	{ 8, "abc\"d", 0, "\"abc\\\"d\"" },
	{ 0, "", 0, "\"\"" }, /* 0 means the default bound */
};

static void test_json_escape_bound(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(json_bound_rows) / sizeof(json_bound_rows[0]); i++) {
		struct strbuf sb;

		strbuf_init(&sb, json_bound_rows[i].max);
		assert_int_equal(strbuf_add_json_str(&sb, json_bound_rows[i].in, strlen(json_bound_rows[i].in)),
				 json_bound_rows[i].err);
		assert_int_equal(sb.len, strlen(json_bound_rows[i].want));
		if (sb.buf)
			assert_string_equal(sb.buf, json_bound_rows[i].want);
		strbuf_release(&sb);
	}
}

static void test_json_escape_bound_keeps_prefix(void **state)
{
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb, 10);
	assert_int_equal(strbuf_adds(&sb, "key:"), 0);
	assert_int_equal(strbuf_add_json_str(&sb, "abcdef", 6), COHORT_E_LIMIT);
	assert_sb(&sb, "key:", 4);
	assert_int_equal(strbuf_add_json_str(&sb, "abcd", 4), 0);
	assert_sb(&sb, "key:\"abcd\"", 10);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_release_reset),
		cmocka_unit_test(test_empty_append_allocates_terminator),
		cmocka_unit_test(test_growth_keeps_content),
		cmocka_unit_test(test_bound_add),
		cmocka_unit_test(test_bound_addch_addf),
		cmocka_unit_test(test_bound_huge_lengths),
		cmocka_unit_test(test_addf),
		cmocka_unit_test(test_detach),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_json_escape_all_ascii),
		cmocka_unit_test(test_json_escape_random),
		cmocka_unit_test(test_json_escape_bound),
		cmocka_unit_test(test_json_escape_bound_keeps_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
