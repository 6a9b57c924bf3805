/*
 * Unit tests for core/presence (argument vectors of the presence scripts,
 * member text, editor session ids), the issue-6 key names of core/kv, and
 * core/aclnote's parsing of control entries. The scripts themselves run
 * against a real Redis in tests/integ/t2100-stream-presence.test.mjs.
 */
#include "core/aclnote.h"
#include "core/err.h"
#include "core/kv.h"
#include "core/presence.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_keys(void **state)
{
	static const struct {
		int (*fn)(char *, size_t, long long);
		const char *want;
	} rows[] = {
		{ kv_pres_conns, "{l:42}:pres:conns" },
		{ kv_pres_users, "{l:42}:pres:users" },
		{ kv_pres_pending, "{l:42}:pres:pending" },
		{ kv_pres_where, "{l:42}:pres:where" },
		{ kv_lesson_stream, "{l:42}:events" }, /* same hash tag: one slot per lesson */
	};
	char buf[KV_KEY_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(rows[i].fn(buf, sizeof(buf), 42), 0);
		assert_string_equal(buf, rows[i].want);
		assert_int_equal(rows[i].fn(buf, 5, 42), COHORT_E_LIMIT);
	}
	assert_int_equal(kv_follows(buf, sizeof(buf), 42, 7), 0);
	assert_string_equal(buf, "{l:42}:follows:7");
	assert_int_equal(kv_acl_stream(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "{sys}:acl");
}

static void test_client_ok(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} rows[] = {
		{ "k2x9", true },     { "A_b-9", true }, { "", false },        { "a b", false },
		{ "a|b", false },     { "é", false },    { "a/b", false },
		{ "0123456789012345678901234567890123456789012345678901234567890123", true },
		{ "01234567890123456789012345678901234567890123456789012345678901234", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(presence_client_ok(rows[i].s, strlen(rows[i].s)), rows[i].ok);
}

static void test_member(void **state)
{
	char buf[PRESENCE_MEMBER_MAX];

	(void)state;
	assert_int_equal(presence_member(buf, sizeof(buf), 5, "abcdefghijklmnop", 17, "k2x9"), 0);
	assert_string_equal(buf, "5|abcdefghijklmnop|17|k2x9");
	assert_int_equal(presence_member(buf, sizeof(buf), 5, "i", 1, NULL), 0);
	assert_string_equal(buf, "5|i|1|");
	assert_int_equal(presence_member(buf, 4, 5, "i", 1, "c"), COHORT_E_LIMIT);
}

/* Each operation: EVAL, its script, 5 keys of the lesson, the common
 * arguments, then its own — in the order the scripts read them. */
static void test_cmd_build(void **state)
{
	struct presence_call call = {
		.lesson_id = 3, .user_id = 5, .member = "5|i|1|k", .login = "alice", .name = "Alice B.",
		.client = "k", .project = 7, .file = "src/a.py", .where = true,
		.now_us = 1700000000123456, .ttl_ms = 25000, .grace_ms = 5000, .maxlen = 1000,
	};
	static const int argc[PRESENCE__N] = { 21, 15, 12, 16 };
	struct presence_cmd cmd;

	(void)state;
	for (int op = 0; op < PRESENCE__N; op++) {
		assert_int_equal(presence_cmd_build(&cmd, (enum presence_op)op, &call), 0);
		assert_int_equal(cmd.argc, argc[op]);
		assert_string_equal(cmd.argv[0], "EVAL");
		assert_non_null(strstr(cmd.argv[1], "redis.call"));
		assert_string_equal(cmd.argv[2], "5");
		assert_string_equal(cmd.argv[3], "{l:3}:pres:conns");
		assert_string_equal(cmd.argv[7], "{l:3}:events");
		assert_string_equal(cmd.argv[8], "1700000000123");
		assert_string_equal(cmd.argv[9], "1700000000123456");
		assert_string_equal(cmd.argv[10], "1000");
		assert_string_equal(cmd.argv[11], "lesson:3");
		for (int i = 0; i < cmd.argc; i++)
			assert_int_equal(cmd.lens[i], strlen(cmd.argv[i]));
	}
	assert_int_equal(presence_cmd_build(&cmd, PRESENCE_TOUCH, &call), 0);
	assert_string_equal(cmd.argv[12], "5");
	assert_string_equal(cmd.argv[13], "5|i|1|k");
	assert_string_equal(cmd.argv[14], "1700000025123"); /* expiry: now + ttl */
	assert_string_equal(cmd.argv[17], "k");
	assert_string_equal(cmd.argv[18], "7");
	assert_string_equal(cmd.argv[19], "src/a.py");
	assert_string_equal(cmd.argv[20], "1");
	assert_int_equal(presence_cmd_build(&cmd, PRESENCE_LEAVE, &call), 0);
	assert_string_equal(cmd.argv[14], "1700000005123"); /* offline deadline: now + grace */
	call.file = NULL;
	call.client = NULL;
	assert_int_equal(presence_cmd_build(&cmd, PRESENCE_MOVE, &call), 0);
	assert_string_equal(cmd.argv[13], "");
	assert_string_equal(cmd.argv[15], "");
}

static void test_aclnote_parse(void **state)
{
	static const struct {
		const char *json;
		int err;
		int64_t user;
		const char *scope, *reason;
	} rows[] = {
		{ "{\"user\":5,\"scope\":\"project:7\",\"reason\":\"grant_revoked\"}", 0, 5, "project:7", "grant_revoked" },
		{ "{\"user\":9}", 0, 9, "", "" },
		{ "{\"user\":0}", COHORT_E_INVAL, 0, NULL, NULL },
		{ "{\"user\":\"5\"}", COHORT_E_INVAL, 0, NULL, NULL },
		{ "{\"scope\":\"project:7\"}", COHORT_E_INVAL, 0, NULL, NULL },
		{ "[1]", COHORT_E_INVAL, 0, NULL, NULL },
		{ "{", COHORT_E_INVAL, 0, NULL, NULL },
	};
	struct aclnote n;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(aclnote_parse(rows[i].json, strlen(rows[i].json), &n), rows[i].err);
		if (rows[i].err)
			continue;
		assert_int_equal(n.user_id, rows[i].user);
		assert_string_equal(n.scope, rows[i].scope);
		assert_string_equal(n.reason, rows[i].reason);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_client_ok),
		cmocka_unit_test(test_member),
		cmocka_unit_test(test_cmd_build),
		cmocka_unit_test(test_aclnote_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
