/*
 * Unit tests for core/scope: parsing "<kind>:<id>" subscription scopes,
 * the policy that enables kinds, and the mapping to Redis stream keys.
 */
#include "core/err.h"
#include "core/kv.h"
#include "core/scope.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ID64 "0123456789012345678901234567890123456789012345678901234567890123"

static const struct scope_policy dev_on = { .dev_enabled = true };
static const struct scope_policy dev_off = { .dev_enabled = false };

static const struct {
	const char *in;
	const struct scope_policy *pol;
	int err;
	const char *key; /* Redis stream key on success */
} rows[] = {
	{ "dev:demo", &dev_on, 0, "{dev:demo}:events" },
	{ "dev:a", &dev_on, 0, "{dev:a}:events" },
	{ "dev:A-Z_a.z-0.9", &dev_on, 0, "{dev:A-Z_a.z-0.9}:events" },
	{ "dev:..", &dev_on, 0, "{dev:..}:events" }, /* no path meaning: it only names a key */
	{ "dev:" ID64, &dev_on, 0, "{dev:" ID64 "}:events" }, /* 64-char id is the longest */

	/* Disabled by policy, or no policy at all. */
	{ "dev:demo", &dev_off, COHORT_E_UNKNOWNSTREAM, NULL },
	{ "dev:demo", NULL, COHORT_E_UNKNOWNSTREAM, NULL },

	/* Unknown kinds (kind names are exact and case-sensitive). */
	{ "projects:1", &dev_on, COHORT_E_UNKNOWNSTREAM, NULL },
	{ "Project:1", &dev_on, COHORT_E_UNKNOWNSTREAM, NULL },
	{ "DEV:demo", &dev_on, COHORT_E_UNKNOWNSTREAM, NULL },
	{ "de:demo", &dev_on, COHORT_E_UNKNOWNSTREAM, NULL },
	{ "devx:demo", &dev_on, COHORT_E_UNKNOWNSTREAM, NULL },
	{ "x:y", &dev_off, COHORT_E_UNKNOWNSTREAM, NULL },

	/* Malformed. */
	{ "", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "dev", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "dev:", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ ":demo", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ ":", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "dev:a:b", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "dev::a", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "dev:a b", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "dev: a", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "dev:a\n", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "dev:a/b", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "dev:a{b}", &dev_on, COHORT_E_BADSTREAM, NULL }, /* braces would break the hash tag */
	{ "dev:a}", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "dev:a*", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "dev:a=1-1", &dev_on, COHORT_E_BADSTREAM, NULL }, /* a whole position item is not a scope */
	{ "dev:a,dev:b", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "dev:a;", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "dev:caf\xc3\xa9", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "dev:a\x7f", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "d v:a", &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "dev:" ID64 "x", &dev_on, COHORT_E_BADSTREAM, NULL }, /* 65-char id */
	/* Over SCOPE_MAX in total, with a kind nobody defines. */
	{ "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk:" ID64, &dev_on, COHORT_E_BADSTREAM, NULL },
	{ "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk:" ID64, &dev_on, COHORT_E_UNKNOWNSTREAM, NULL }, /* exactly 96 */
};

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct scope sc;
		char key[KV_KEY_MAX];
		size_t n = strlen(rows[i].in);
		char *p = malloc(n ? n : 1); /* exact size: no terminator is read */
		int err;

		assert_non_null(p);
		memcpy(p, rows[i].in, n);
		memset(&sc, 0x5a, sizeof(sc));
		err = scope_parse(p, n, rows[i].pol, &sc);
		free(p);
		if (err != rows[i].err)
			fail_msg("row %zu '%s': err %d, want %d", i, rows[i].in, err, rows[i].err);
		if (err)
			continue;
		assert_int_equal(sc.kind, SCOPE_DEV);
		assert_string_equal(sc.name, rows[i].in);
		assert_int_equal(sc.id_off, 4);
		assert_int_equal(sc.id, 0);
		assert_string_equal(sc.name + sc.id_off, rows[i].in + 4);
		assert_int_equal(scope_stream_key(&sc, key, sizeof(key)), 0);
		assert_string_equal(key, rows[i].key);
	}
}

/* Numeric kinds: canonical positive decimal ids, enabled whatever the
 * policy says about dev. */
static const struct {
	const char *in;
	int err;
	enum scope_kind kind;
	int64_t id;
	const char *key;
} numeric_rows[] = {
	{ "project:1", 0, SCOPE_PROJECT, 1, "{p:1}:events" },
	{ "project:42", 0, SCOPE_PROJECT, 42, "{p:42}:events" },
	{ "lesson:7", 0, SCOPE_LESSON, 7, "{l:7}:events" },
	{ "user:9", 0, SCOPE_USER, 9, "{u:9}:events" },
	{ "project:9223372036854775807", 0, SCOPE_PROJECT, INT64_MAX, "{p:9223372036854775807}:events" },
	{ "project:9223372036854775808", COHORT_E_BADSTREAM, 0, 0, NULL }, /* over INT64_MAX */
	{ "project:99999999999999999999", COHORT_E_BADSTREAM, 0, 0, NULL },
	{ "project:0", COHORT_E_BADSTREAM, 0, 0, NULL },
	{ "project:01", COHORT_E_BADSTREAM, 0, 0, NULL }, /* one stream, one name */
	{ "project:-1", COHORT_E_BADSTREAM, 0, 0, NULL },
	{ "project:+1", COHORT_E_BADSTREAM, 0, 0, NULL },
	{ "project:1a", COHORT_E_BADSTREAM, 0, 0, NULL },
	{ "project:a", COHORT_E_BADSTREAM, 0, 0, NULL },
	{ "project: 1", COHORT_E_BADSTREAM, 0, 0, NULL },
	{ "project:1.0", COHORT_E_BADSTREAM, 0, 0, NULL },
	{ "lesson:", COHORT_E_BADSTREAM, 0, 0, NULL },
	{ "user:x", COHORT_E_BADSTREAM, 0, 0, NULL },
	{ "user:1:2", COHORT_E_BADSTREAM, 0, 0, NULL },
};

static void test_numeric_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(numeric_rows) / sizeof(numeric_rows[0]); i++) {
		const struct scope_policy *pols[] = { &dev_on, &dev_off, NULL };

		for (size_t k = 0; k < 3; k++) {
			struct scope sc;
			char key[KV_KEY_MAX];
			int err = scope_parse(numeric_rows[i].in, strlen(numeric_rows[i].in), pols[k], &sc);

			if (err != numeric_rows[i].err)
				fail_msg("row %zu '%s': err %d, want %d", i, numeric_rows[i].in, err,
					 numeric_rows[i].err);
			if (err)
				continue;
			assert_int_equal(sc.kind, numeric_rows[i].kind);
			assert_true(sc.id == numeric_rows[i].id);
			assert_string_equal(sc.name, numeric_rows[i].in);
			assert_true(scope_needs_db(&sc));
			assert_int_equal(scope_stream_key(&sc, key, sizeof(key)), 0);
			assert_string_equal(key, numeric_rows[i].key);
		}
	}
}

/* Room scopes: anonymous, enabled only by rooms_enabled, names as rooms
 * have them (lower case [a-z0-9_-]). */
static void test_room_rows(void **state)
{
	static const struct scope_policy rooms_on = { .rooms_enabled = true };
	static const struct {
		const char *in;
		const struct scope_policy *pol;
		int err;
		const char *key;
	} room_rows[] = {
		{ "room:demo", &rooms_on, 0, "{r:demo}:events" },
		{ "room:a-b_9", &rooms_on, 0, "{r:a-b_9}:events" },
		{ "room:" ID64, &rooms_on, 0, "{r:" ID64 "}:events" },
		{ "room:demo", &dev_on, COHORT_E_UNKNOWNSTREAM, NULL },
		{ "room:demo", NULL, COHORT_E_UNKNOWNSTREAM, NULL },
		{ "room:Demo", &rooms_on, COHORT_E_BADSTREAM, NULL },
		{ "room:a.b", &rooms_on, COHORT_E_BADSTREAM, NULL },
		{ "room:", &rooms_on, COHORT_E_BADSTREAM, NULL },
		{ "room:" ID64 "x", &rooms_on, COHORT_E_BADSTREAM, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(room_rows) / sizeof(room_rows[0]); i++) {
		struct scope sc;
		char key[KV_KEY_MAX];
		int err = scope_parse(room_rows[i].in, strlen(room_rows[i].in), room_rows[i].pol, &sc);

		if (err != room_rows[i].err)
			fail_msg("row %zu '%s': err %d, want %d", i, room_rows[i].in, err, room_rows[i].err);
		if (err)
			continue;
		assert_int_equal(sc.kind, SCOPE_ROOM);
		assert_false(scope_needs_db(&sc));
		assert_int_equal(scope_authorize(NULL, NULL, &sc), 0);
		assert_int_equal(scope_stream_key(&sc, key, sizeof(key)), 0);
		assert_string_equal(key, room_rows[i].key);
	}
}

/* Only len bytes are the scope, even when more text follows. */
static void test_len_bounds_the_text(void **state)
{
	struct scope sc;

	(void)state;
	assert_int_equal(scope_parse("dev:demo=1-1", 8, &dev_on, &sc), 0);
	assert_string_equal(sc.name, "dev:demo");
	assert_int_equal(scope_parse("dev:demo", 3, &dev_on, &sc), COHORT_E_BADSTREAM);
}

/* The longest canonical name fits the struct, NUL included. */
static void test_name_capacity(void **state)
{
	static const char longest[] = "dev:" ID64;
	struct scope sc;

	(void)state;
	assert_true(sizeof(longest) - 1 <= SCOPE_MAX);
	assert_int_equal(scope_parse(longest, sizeof(longest) - 1, &dev_on, &sc), 0);
	assert_int_equal(strlen(sc.name), sizeof(longest) - 1);
}

/* A key buffer too small for the key is an error, not a truncated key. */
static void test_stream_key_buffer(void **state)
{
	struct scope sc;
	char small[8], exact[sizeof("{dev:demo}:events")];

	(void)state;
	assert_int_equal(scope_parse("dev:demo", 8, &dev_on, &sc), 0);
	assert_int_equal(scope_stream_key(&sc, small, sizeof(small)), COHORT_E_LIMIT);
	assert_int_equal(scope_stream_key(&sc, exact, sizeof(exact)), 0);
	assert_string_equal(exact, "{dev:demo}:events");
	assert_int_equal(scope_stream_key(&sc, exact, sizeof(exact) - 1), COHORT_E_LIMIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_numeric_rows),
		cmocka_unit_test(test_room_rows),
		cmocka_unit_test(test_len_bounds_the_text),
		cmocka_unit_test(test_name_capacity),
		cmocka_unit_test(test_stream_key_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
