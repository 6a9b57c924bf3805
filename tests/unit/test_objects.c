/*
 * Unit tests for core/objects with the directory backend: put/get/delete/
 * exists/list in a fresh temporary directory, key validation (no traversal),
 * bounded reads, atomic replacement, and URL dispatch.
 */
#include "core/err.h"
#include "core/objects.h"
#include "core/strbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char root[64];

static int setup(void **state)
{
	char url[96];
	struct objects *o;

	snprintf(root, sizeof(root), "/tmp/cohort-objects-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(url, sizeof(url), "file:%s/store", root);
	if (objects_open(url, &o))
		return -1;
	*state = o;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	objects_free(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_put_get(void **state)
{
	struct objects *o = *state;
	struct strbuf sb = STRBUF_INIT;
	static const char bin[] = { 'a', 0, (char)0xff, '\n', 'z' };
	bool ex;

	assert_int_equal(objects_put(o, "templates/lesson-1.zip", bin, sizeof(bin)), 0);
	assert_int_equal(objects_exists(o, "templates/lesson-1.zip", &ex), 0);
	assert_true(ex);
	assert_int_equal(objects_get_buf(o, "templates/lesson-1.zip", &sb), 0);
	assert_int_equal(sb.len, sizeof(bin));
	assert_memory_equal(sb.buf, bin, sizeof(bin));
	/* Replace: the new content wins whole. */
	strbuf_reset(&sb);
	assert_int_equal(objects_put(o, "templates/lesson-1.zip", "new", 3), 0);
	assert_int_equal(objects_get_buf(o, "templates/lesson-1.zip", &sb), 0);
	assert_string_equal(sb.buf, "new");
	/* Empty objects exist. */
	assert_int_equal(objects_put(o, "empty", "", 0), 0);
	strbuf_reset(&sb);
	assert_int_equal(objects_get_buf(o, "empty", &sb), 0);
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb);
	/* No temporary files are left behind. */
	{
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s/store/.tmp')\"", root);
		assert_int_equal(system(cmd), 0);
	}
}

static void test_missing_and_delete(void **state)
{
	struct objects *o = *state;
	struct strbuf sb = STRBUF_INIT;
	bool ex = true;

	assert_int_equal(objects_get_buf(o, "nope", &sb), COHORT_E_NOTFOUND);
	assert_int_equal(objects_delete(o, "nope"), COHORT_E_NOTFOUND);
	assert_int_equal(objects_exists(o, "nope", &ex), 0);
	assert_false(ex);
	assert_int_equal(objects_put(o, "d/x", "1", 1), 0);
	/* A directory is not an object. */
	assert_int_equal(objects_get_buf(o, "d", &sb), COHORT_E_NOTFOUND);
	assert_int_equal(objects_delete(o, "d"), COHORT_E_NOTFOUND);
	assert_int_equal(objects_exists(o, "d", &ex), 0);
	assert_false(ex);
	/* A key below an existing object cannot be created. */
	assert_int_equal(objects_put(o, "d/x/y", "1", 1), COHORT_E_CONFLICT);
	assert_int_equal(objects_delete(o, "d/x"), 0);
	assert_int_equal(objects_exists(o, "d/x", &ex), 0);
	assert_false(ex);
	strbuf_release(&sb);
}

static void test_bad_keys(void **state)
{
	static const char *const bad[] = {
		"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/", "./a", "a\\b", "a\nb",
		".tmp", ".tmp/put-123", ".tmpx/y", "\xff",
	};
	struct objects *o = *state;
	struct strbuf sb = STRBUF_INIT;
	bool ex;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(objects_put(o, bad[i], "x", 1), COHORT_E_FIELD);
		assert_int_equal(objects_get_buf(o, bad[i], &sb), COHORT_E_FIELD);
		assert_int_equal(objects_delete(o, bad[i]), COHORT_E_FIELD);
		assert_int_equal(objects_exists(o, bad[i], &ex), COHORT_E_FIELD);
	}
	assert_int_equal(objects_put(o, NULL, "x", 1), COHORT_E_FIELD);
	assert_int_equal(objects_list(o, "/abs", NULL, NULL), COHORT_E_FIELD);
	strbuf_release(&sb);
}

static void test_bounded_get(void **state)
{
	struct objects *o = *state;
	struct strbuf sb;
	char big[200000];

	memset(big, 'q', sizeof(big));
	assert_int_equal(objects_put(o, "big", big, sizeof(big)), 0);
	strbuf_init(&sb, 100000);
	assert_int_equal(strbuf_adds(&sb, "keep"), 0);
	assert_int_equal(objects_get_buf(o, "big", &sb), COHORT_E_LIMIT);
	assert_string_equal(sb.buf, "keep");
	strbuf_release(&sb);
	strbuf_init(&sb, sizeof(big));
	assert_int_equal(objects_get_buf(o, "big", &sb), 0);
	assert_int_equal(sb.len, sizeof(big));
	strbuf_release(&sb);
}

struct seen {
	char keys[16][64];
	uint64_t sizes[16];
	size_t n;
};

static int collect(void *ctx, const char *key, uint64_t size)
{
	struct seen *s = ctx;

	if (s->n == 16)
		return COHORT_E_LIMIT;
	snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
	s->sizes[s->n++] = size;
	return 0;
}

static void test_list(void **state)
{
	struct objects *o = *state;
	struct seen s;

	assert_int_equal(objects_put(o, "b/2", "22", 2), 0);
	assert_int_equal(objects_put(o, "b/1", "1", 1), 0);
	assert_int_equal(objects_put(o, "b2/x", "x", 1), 0);
	assert_int_equal(objects_put(o, "a", "aaa", 3), 0);
	assert_int_equal(objects_put(o, "b/c/d", "dddd", 4), 0);

	memset(&s, 0, sizeof(s));
	assert_int_equal(objects_list(o, "b/", collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.keys[0], "b/1");
	assert_string_equal(s.keys[1], "b/2");
	assert_string_equal(s.keys[2], "b/c/d");
	assert_int_equal(s.sizes[2], 4);

	memset(&s, 0, sizeof(s));
	assert_int_equal(objects_list(o, "b", collect, &s), 0);
	assert_int_equal(s.n, 4); /* S3-style byte prefix: b2/x matches "b" */
	assert_string_equal(s.keys[3], "b2/x");

	memset(&s, 0, sizeof(s));
	assert_int_equal(objects_list(o, "", collect, &s), 0);
	assert_int_equal(s.n, 5); /* never the .tmp directory */
	assert_string_equal(s.keys[0], "a");

	memset(&s, 0, sizeof(s));
	assert_int_equal(objects_list(o, "zzz", collect, &s), 0);
	assert_int_equal(s.n, 0);
}

static void test_open(void **state)
{
	struct objects *o = (void *)1;

	(void)state;
	assert_int_equal(objects_open("s4://bucket", &o), COHORT_E_CONFIG);
	assert_null(o);
	assert_int_equal(objects_open("nocolon", &o), COHORT_E_CONFIG);
	assert_int_equal(objects_open("file:", &o), COHORT_E_CONFIG);
	assert_int_equal(objects_open("file:/proc/no/such/place", &o), COHORT_E_CONFIG);
	objects_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test(test_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
