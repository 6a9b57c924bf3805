/*
 * Unit tests for core/kv: Redis key names, their hash tags and the refusal
 * to truncate a key into a buffer that is too small.
 */
#include "core/err.h"
#include "core/kv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static const struct {
	const char *name;
	size_t buflen;
	int err;
	const char *want;
} dev_rows[] = {
	{ "demo", KV_KEY_MAX, 0, "{dev:demo}:events" },
	{ "a", KV_KEY_MAX, 0, "{dev:a}:events" },
	{ "", KV_KEY_MAX, 0, "{dev:}:events" },
	{ "demo", sizeof("{dev:demo}:events"), 0, "{dev:demo}:events" }, /* exact fit with NUL */
	{ "demo", sizeof("{dev:demo}:events") - 1, COHORT_E_LIMIT, NULL },
	{ "demo", 1, COHORT_E_LIMIT, NULL },
};

static void test_dev_stream(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dev_rows) / sizeof(dev_rows[0]); i++) {
		char buf[KV_KEY_MAX];

		assert_int_equal(kv_dev_stream(buf, dev_rows[i].buflen, dev_rows[i].name), dev_rows[i].err);
		if (!dev_rows[i].err)
			assert_string_equal(buf, dev_rows[i].want);
	}
}

/* The hash tag is the whole scope, so all keys of one scope share a slot. */
static void test_dev_stream_hash_tag(void **state)
{
	char buf[KV_KEY_MAX];
	const char *open, *close;

	(void)state;
	assert_int_equal(kv_dev_stream(buf, sizeof(buf), "demo"), 0);
	open = strchr(buf, '{');
	close = strchr(buf, '}');
	assert_true(open == buf && close != NULL);
	assert_int_equal(close - open - 1, (int)strlen("dev:demo"));
	assert_memory_equal(open + 1, "dev:demo", 8);
}

/* A 64-character scope id (the scope maximum) fits KV_KEY_MAX. */
static void test_longest_fits(void **state)
{
	char buf[KV_KEY_MAX];
	char name[65];

	(void)state;
	memset(name, 'x', 64);
	name[64] = '\0';
	assert_int_equal(kv_dev_stream(buf, sizeof(buf), name), 0);
	assert_int_equal(strlen(buf), 64 + strlen("{dev:}:events"));
}

/* Workspace keys: one hash tag per project, file keys by file id. */
static void test_workspace_keys(void **state)
{
	char buf[KV_KEY_MAX];

	(void)state;
	assert_int_equal(kv_ws_tree(buf, sizeof(buf), 42), 0);
	assert_string_equal(buf, "{p:42}:tree");
	assert_int_equal(kv_ws_meta(buf, sizeof(buf), 42), 0);
	assert_string_equal(buf, "{p:42}:meta");
	assert_int_equal(kv_ws_info(buf, sizeof(buf), 42), 0);
	assert_string_equal(buf, "{p:42}:info");
	assert_int_equal(kv_ws_content_prefix(buf, sizeof(buf), 42), 0);
	assert_string_equal(buf, "{p:42}:c:");
	assert_int_equal(kv_ws_cursor_prefix(buf, sizeof(buf), 42), 0);
	assert_string_equal(buf, "{p:42}:cur:");
	assert_int_equal(kv_ws_content(buf, sizeof(buf), 42, 7), 0);
	assert_string_equal(buf, "{p:42}:c:7");
	assert_int_equal(kv_ws_cursors(buf, sizeof(buf), 42, 7), 0);
	assert_string_equal(buf, "{p:42}:cur:7");
	assert_int_equal(kv_ws_tree(buf, 5, 42), COHORT_E_LIMIT);
	assert_int_equal(kv_ws_content(buf, sizeof("{p:42}:c:7") - 1, 42, 7), COHORT_E_LIMIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dev_stream),
		cmocka_unit_test(test_dev_stream_hash_tag),
		cmocka_unit_test(test_longest_fits),
		cmocka_unit_test(test_workspace_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
