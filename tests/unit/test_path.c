/*
 * Unit tests for core/path: one table of inputs (hostile ones included) with
 * the expected canonical form or error, in strict and lenient mode, then the
 * helpers.
 */
#include "core/err.h"
#include "core/path.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

struct row {
	const char *in;
	size_t len;
	unsigned flags;
	int err;
	const char *want;
};

#define S(lit, err, want) { lit, sizeof(lit) - 1, 0, err, want }
#define L(lit, err, want) { lit, sizeof(lit) - 1, PATH_LENIENT, err, want }
#define LR(lit, err, want) { lit, sizeof(lit) - 1, PATH_LENIENT | PATH_ALLOW_ROOT, err, want }

static const struct row rows[] = {
	S("a", 0, "a"),
	S("src/main.c", 0, "src/main.c"),
	S("a/b/c/d.txt", 0, "a/b/c/d.txt"),
	S(".hidden", 0, ".hidden"),
	S("..dots", 0, "..dots"),
	S("a/...", 0, "a/..."),
	S("with space/x y", 0, "with space/x y"),
	S("caf\xc3\xa9/\xf0\x9f\x98\x80.txt", 0, "caf\xc3\xa9/\xf0\x9f\x98\x80.txt"),
	S("", COHORT_E_FIELD, NULL),
	S("/", COHORT_E_FIELD, NULL),
	S("/etc/passwd", COHORT_E_FIELD, NULL),
	S("a/", COHORT_E_FIELD, NULL),
	S("a//b", COHORT_E_FIELD, NULL),
	S("./a", COHORT_E_FIELD, NULL),
	S("a/./b", COHORT_E_FIELD, NULL),
	S("..", COHORT_E_FIELD, NULL),
	S("../etc/passwd", COHORT_E_FIELD, NULL),
	S("a/../../b", COHORT_E_FIELD, NULL),
	S("a/..", COHORT_E_FIELD, NULL),
	S("a\\b", COHORT_E_FIELD, NULL),
	S("..\\..\\windows", COHORT_E_FIELD, NULL),
	S("a\0b", COHORT_E_FIELD, NULL),
	S("a\nb", COHORT_E_FIELD, NULL),
	S("a\x1b[31m", COHORT_E_FIELD, NULL),
	S("a\x7f", COHORT_E_FIELD, NULL),
	S("a\xc2\x85", COHORT_E_FIELD, NULL),          /* U+0085 NEL, a C1 control */
	S("a\xc2\xa0", 0, "a\xc2\xa0"),                /* U+00A0 is fine */
	S("\xc0\xaf", COHORT_E_FIELD, NULL),           /* overlong '/' */
	S("\xc0\xae\xc0\xae/x", COHORT_E_FIELD, NULL), /* overlong ".." */
	S("\xed\xa0\x80", COHORT_E_FIELD, NULL),       /* surrogate */
	S("\xff", COHORT_E_FIELD, NULL),
	L("./a", 0, "a"),
	L("a//b/", 0, "a/b"),
	L("./src/./x.c", 0, "src/x.c"),
	L("dir/", 0, "dir"),
	L("./", COHORT_E_FIELD, NULL),
	LR("./", 0, ""),
	LR("", 0, ""),
	L("../x", COHORT_E_FIELD, NULL),
	L("a/../x", COHORT_E_FIELD, NULL),
	L("/abs", COHORT_E_FIELD, NULL),
	L("//abs", COHORT_E_FIELD, NULL),
	L("a\\..\\..\\x", COHORT_E_FIELD, NULL),
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[PATH_BUF];
		const char *reason = NULL;
		int rc = path_normalize(rows[i].in, rows[i].len, out, sizeof(out), rows[i].flags, &reason);

		if (rc != rows[i].err)
			fail_msg("row %zu (%s): got %d want %d", i, rows[i].in, rc, rows[i].err);
		if (!rc) {
			assert_string_equal(out, rows[i].want);
		} else {
			assert_non_null(reason);
			assert_string_equal(out, "");
		}
	}
}

static void test_limits(void **state)
{
	char in[4 * PATH_BUF], out[PATH_BUF];
	const char *reason = NULL;
	size_t n = 0;

	(void)state;
	/* A segment of exactly PATH_MAX_SEGMENT bytes passes, one more fails. */
	memset(in, 'x', PATH_MAX_SEGMENT + 1);
	assert_int_equal(path_normalize(in, PATH_MAX_SEGMENT, out, sizeof(out), 0, &reason), 0);
	assert_int_equal(path_normalize(in, PATH_MAX_SEGMENT + 1, out, sizeof(out), 0, &reason),
			 COHORT_E_LIMIT);
	/* Depth: PATH_MAX_DEPTH segments "a/a/..." pass, one more fails. */
	for (size_t d = 0; d < PATH_MAX_DEPTH; d++) {
		in[n++] = 'a';
		in[n++] = '/';
	}
	assert_int_equal(path_normalize(in, n - 1, out, sizeof(out), 0, &reason), 0);
	assert_int_equal(path_depth(out), PATH_MAX_DEPTH);
	in[n] = 'a';
	assert_int_equal(path_normalize(in, n + 1, out, sizeof(out), 0, &reason), COHORT_E_LIMIT);
	/* Total bytes: 5 segments of 200 = 1004 bytes pass; 6 would be 1205. */
	n = 0;
	for (int s = 0; s < 6; s++) {
		memset(in + n, 'b', 200);
		n += 200;
		in[n++] = '/';
	}
	assert_int_equal(path_normalize(in, 5 * 201 - 1, out, sizeof(out), 0, &reason), 0);
	assert_int_equal(strlen(out), PATH_MAX_BYTES - 20);
	assert_int_equal(path_normalize(in, n - 1, out, sizeof(out), 0, &reason), COHORT_E_LIMIT);
	assert_string_equal(reason, "path is too long");
	/* A small output buffer is a limit, never an overflow. */
	assert_int_equal(path_normalize("abcdef", 6, out, 4, 0, &reason), COHORT_E_LIMIT);
	/* Lenient mode cannot be used to smuggle in an endless run of "./". */
	memset(in, '/', sizeof(in));
	for (size_t k = 0; k + 1 < sizeof(in); k += 2)
		in[k] = '.';
	assert_int_equal(path_normalize(in, sizeof(in), out, sizeof(out), PATH_LENIENT, &reason),
			 COHORT_E_LIMIT);
}

static void test_helpers(void **state)
{
	char out[PATH_BUF];
	const char *reason;

	(void)state;
	assert_int_equal(path_parent("a/b/c", out, sizeof(out)), 0);
	assert_string_equal(out, "a/b");
	assert_int_equal(path_parent("top", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(path_parent("a/b", out, 1), COHORT_E_LIMIT);
	assert_string_equal(path_basename("a/b/c.txt"), "c.txt");
	assert_string_equal(path_basename("c.txt"), "c.txt");

	assert_true(path_is_inside("src/a.c", "src"));
	assert_true(path_is_inside("src/x/y", "src"));
	assert_false(path_is_inside("src2/a.c", "src"));
	assert_false(path_is_inside("src", "src"));
	assert_false(path_is_inside("sr", "src"));
	assert_false(path_is_inside("srcx", "src"));
	assert_true(path_is_inside("anything", ""));
	assert_false(path_is_inside("", ""));
	assert_true(path_is_inside("a/b/c", "a/b"));
	assert_false(path_is_inside("a/bc", "a/b"));

	assert_int_equal(path_depth(""), 0);
	assert_int_equal(path_depth("a"), 1);
	assert_int_equal(path_depth("a/b/c"), 3);

	assert_true(path_is_canonical("a/b"));
	assert_false(path_is_canonical("a//b"));
	assert_false(path_is_canonical(""));
	assert_false(path_is_canonical(NULL));

	assert_int_equal(path_join("src", "main.c", out, sizeof(out), &reason), 0);
	assert_string_equal(out, "src/main.c");
	assert_int_equal(path_join("", "main.c", out, sizeof(out), &reason), 0);
	assert_string_equal(out, "main.c");
	assert_int_equal(path_join("src", "..", out, sizeof(out), &reason), COHORT_E_FIELD);
	assert_int_equal(path_join("src", "a/../../x", out, sizeof(out), &reason), COHORT_E_FIELD);
	assert_int_equal(path_join("src", "", out, sizeof(out), &reason), COHORT_E_FIELD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
