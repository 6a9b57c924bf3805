/*
 * Unit tests for core/room: room and member name rules, the member header,
 * the palette, and the Redis keys of a room (core/kv.c).
 */
#include "core/kv.h"
#include "core/room.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_room_names(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} rows[] = {
		{ "demo", true }, { "a", true }, { "a-b_c9", true }, { "0", true },
		{ "", false }, { "Demo", false }, { "a.b", false }, { "a b", false }, { "a/b", false },
		{ "a{b}", false }, { "caf\xc3\xa9", false }, { "a%41", false }, { "a:b", false },
	};
	char longest[ROOM_NAME_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (room_name_ok(rows[i].s, strlen(rows[i].s)) != rows[i].ok)
			fail_msg("'%s': want %d", rows[i].s, rows[i].ok);
	memset(longest, 'x', sizeof(longest));
	assert_true(room_name_ok(longest, ROOM_NAME_MAX));
	assert_false(room_name_ok(longest, ROOM_NAME_MAX + 1));
	assert_false(room_name_ok(NULL, 0));
}

static void test_member_names(void **state)
{
	static const struct {
		const char *s;
		size_t len; /* 0: strlen */
		bool ok;
	} rows[] = {
		{ "Ada", 0, true },
		{ "<img src=x onerror=alert(1)>", 0, true }, /* text, not markup: allowed, shown literally */
		{ "a \"quoted\" \\ name", 0, true },
		{ "\xe5\xad\xa6\xe7\x94\x9f", 0, true },
		{ "", 0, false },
		{ " Ada", 0, false },
		{ "Ada ", 0, false },
		{ "a\nb", 0, false },
		{ "a\tb", 0, false },
		{ "a\x07" "b", 0, false },
		{ "a\x1b" "b", 0, false },
		{ "a\x7f" "b", 0, false },      /* DEL */
		{ "a\xc2\x85" "b", 0, false }, /* NEL, a C1 control */
		{ "a\0b", 3, false },
		{ "\xc3", 0, false },        /* invalid UTF-8 */
		{ "\xed\xa0\x80", 0, false }, /* a surrogate */
	};
	char buf[4 * 41 + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len = rows[i].len ? rows[i].len : strlen(rows[i].s);

		if (room_member_name_ok(rows[i].s, len) != rows[i].ok)
			fail_msg("row %zu: want %d", i, rows[i].ok);
	}
	/* 40 characters, whatever their size; 41 is too many. */
	memset(buf, 'x', 41);
	assert_true(room_member_name_ok(buf, 40));
	assert_false(room_member_name_ok(buf, 41));
	for (size_t i = 0; i < 41; i++)
		memcpy(buf + 4 * i, "\xf0\x9f\x98\x80", 4);
	assert_true(room_member_name_ok(buf, 4 * 40));
	assert_false(room_member_name_ok(buf, 4 * 41));
}

static void test_credentials(void **state)
{
	char id[ROOM_MEMBER_ID_LEN + 1], secret[ROOM_SECRET_LEN + 1];
	const char *good = "AbCdEfGh_-123456.0123456789abcdefghijklmnopqrstuvwxyzABCDE_-";

	(void)state;
	assert_int_equal(strlen(good), ROOM_MEMBER_ID_LEN + 1 + ROOM_SECRET_LEN);
	assert_true(room_credential_parse(good, id, secret));
	assert_string_equal(id, "AbCdEfGh_-123456");
	assert_string_equal(secret, "0123456789abcdefghijklmnopqrstuvwxyzABCDE_-");
	assert_false(room_credential_parse(NULL, id, secret));
	assert_false(room_credential_parse("", id, secret));
	assert_false(room_credential_parse("AbCdEfGh_-123456", id, secret));
	assert_false(room_credential_parse("AbCdEfGh_-123456:0123456789abcdefghijklmnopqrstuvwxyzABCDE_-", id, secret));
	assert_false(room_credential_parse("AbCdEfGh_-12345.60123456789abcdefghijklmnopqrstuvwxyzABCDE_-", id, secret));
	assert_false(room_credential_parse("AbCdEfGh_-123456.0123456789abcdefghijklmnopqrstuvwxyzABCD=_-", id, secret));
	assert_false(room_credential_parse("AbCdEfGh_-123456.0123456789abcdefghijklmnopqrstuvwxyzABCDE_-x", id, secret));
	assert_false(room_credential_parse("AbCdEfGh_-12345 .0123456789abcdefghijklmnopqrstuvwxyzABCDE_-", id, secret));
}

static void test_palette(void **state)
{
	(void)state;
	assert_true(room_palette_size() >= 12);
	for (size_t i = 0; i < room_palette_size(); i++) {
		assert_non_null(room_palette(i));
		assert_int_equal(strlen(room_palette(i)), 7);
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(room_palette(i), room_palette(k));
	}
	assert_null(room_palette(room_palette_size()));
}

static void test_keys(void **state)
{
	char k[KV_KEY_MAX];

	(void)state;
	assert_int_equal(kv_room_state(k, sizeof(k), "demo"), 0);
	assert_string_equal(k, "{r:demo}:room");
	assert_int_equal(kv_room_members(k, sizeof(k), "demo"), 0);
	assert_string_equal(k, "{r:demo}:members");
	assert_int_equal(kv_room_seen(k, sizeof(k), "demo"), 0);
	assert_string_equal(k, "{r:demo}:seen");
	assert_int_equal(kv_room_stream(k, sizeof(k), "demo"), 0);
	assert_string_equal(k, "{r:demo}:events");
	assert_int_equal(kv_room_ws_base(k, sizeof(k), "demo"), 0);
	assert_string_equal(k, "{r:demo}:g:");
	assert_int_equal(kv_room_ws(k, sizeof(k), "demo", "G3n", KV_ROOM_WS_META), 0);
	assert_string_equal(k, "{r:demo}:g:G3n:meta");
	assert_int_equal(kv_room_rate_msgs(k, sizeof(k), "::1", 12), 0);
	assert_string_equal(k, "rooms:rate:msgs:::1:12");
	assert_int_equal(kv_room_rate_create(k, sizeof(k), "10.0.0.1", 7), 0);
	assert_string_equal(k, "rooms:rate:create:10.0.0.1:7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_room_names),
		cmocka_unit_test(test_member_names),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_palette),
		cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
