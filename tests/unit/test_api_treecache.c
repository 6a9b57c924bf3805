/*
 * Unit tests for api/treecache: a body is found only under its key and at
 * its generation, a new put replaces the key's body, bodies without a
 * generation or over the size bound are not kept, and the cache stays within
 * TREECACHE_ENTRIES entries and TREECACHE_MAX_BYTES, least recently used out.
 */
#include "api/treecache.h"
#include "core/err.h"
#include "core/strbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int clear(void **state)
{
	(void)state;
	treecache_clear();
	return 0;
}

static void expect_body(const char *key, const char *gen, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	char g[64];

	assert_int_equal(treecache_gen(key, g, sizeof(g)), 0);
	assert_string_equal(g, gen);
	assert_int_equal(strbuf_adds(&sb, "pre:"), 0);
	assert_int_equal(treecache_copy(key, gen, &sb), 0);
	assert_int_equal(sb.len, 4 + strlen(want));
	assert_memory_equal(sb.buf + 4, want, strlen(want));
	strbuf_release(&sb);
}

static void expect_absent(const char *key)
{
	char g[64];

	assert_int_equal(treecache_gen(key, g, sizeof(g)), COHORT_E_NOTFOUND);
}

static void test_put_get_replace(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char g[4];

	(void)state;
	expect_absent("p1\n\n1");
	treecache_put("p1\n\n1", "10.1.1", "{\"a\":1}", 7);
	expect_body("p1\n\n1", "10.1.1", "{\"a\":1}");
	/* Another generation of the same key is not answered. */
	assert_int_equal(treecache_copy("p1\n\n1", "10.1.2", &sb), COHORT_E_NOTFOUND);
	assert_int_equal(sb.len, 0);
	/* Other keys (other dir, other mode) are other entries. */
	expect_absent("p1\nsrc\n1");
	expect_absent("p1\n\n0");
	/* A put replaces the key's body and generation. */
	treecache_put("p1\n\n1", "10.1.2", "{\"a\":2}", 7);
	expect_body("p1\n\n1", "10.1.2", "{\"a\":2}");
	assert_int_equal(treecache_copy("p1\n\n1", "10.1.1", &sb), COHORT_E_NOTFOUND);
	/* A generation that does not fit the caller's buffer is not reported. */
	assert_int_equal(treecache_gen("p1\n\n1", g, sizeof(g)), COHORT_E_NOTFOUND);
	strbuf_release(&sb);
}

static void test_not_kept(void **state)
{
	size_t big = TREECACHE_MAX_BYTES / 4 + 1;
	char *body = calloc(1, big);

	(void)state;
	assert_non_null(body);
	treecache_put("nogen", "", "{}", 2);
	expect_absent("nogen");
	treecache_put("big", "1.1.1", body, big);
	expect_absent("big");
	treecache_put("fits", "1.1.1", body, big - 1);
	{
		struct strbuf sb;

		strbuf_init(&sb, big);
		assert_int_equal(treecache_copy("fits", "1.1.1", &sb), 0);
		assert_int_equal(sb.len, big - 1);
		strbuf_release(&sb);
	}
	free(body);
}

/* More keys than entries: the least recently used goes; a copy counts as a use. */
static void test_entry_bound(void **state)
{
	char key[32];

	(void)state;
	for (int i = 0; i < TREECACHE_ENTRIES; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		treecache_put(key, "1.1.1", key, strlen(key));
	}
	expect_body("k0", "1.1.1", "k0"); /* k0 is now the most recent */
	treecache_put("new", "1.1.1", "new", 3);
	expect_body("k0", "1.1.1", "k0");
	expect_absent("k1");
	expect_body("new", "1.1.1", "new");
	for (int i = 2; i < TREECACHE_ENTRIES; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		expect_body(key, "1.1.1", key);
	}
}

/* Bodies that together pass the byte bound push out the oldest. */
static void test_byte_bound(void **state)
{
	size_t quarter = TREECACHE_MAX_BYTES / 4;
	char *body = malloc(quarter);

	(void)state;
	assert_non_null(body);
	memset(body, 'x', quarter);
	for (int i = 0; i < 4; i++) {
		char key[16];

		snprintf(key, sizeof(key), "b%d", i);
		treecache_put(key, "1.1.1", body, quarter);
	}
	treecache_put("small", "1.1.1", "s", 1);
	expect_absent("b0");
	{
		char g[64];

		assert_int_equal(treecache_gen("b1", g, sizeof(g)), 0);
		assert_int_equal(treecache_gen("b3", g, sizeof(g)), 0);
	}
	expect_body("small", "1.1.1", "s");
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_replace, clear, clear),
		cmocka_unit_test_setup_teardown(test_not_kept, clear, clear),
		cmocka_unit_test_setup_teardown(test_entry_bound, clear, clear),
		cmocka_unit_test_setup_teardown(test_byte_bound, clear, clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
