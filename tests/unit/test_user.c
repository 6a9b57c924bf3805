/*
 * Unit tests for core/user against a real SQLite database with the real
 * migrations: creating users (with and without a password), uniqueness of
 * logins, field validation, lookups with the password hash, disabling, and
 * the principal of a user. Only two Argon2id operations run (one hash, one
 * verify); every other user has no password.
 */
#include "core/auth.h"
#include "core/db.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/user.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "testdb.h"

static struct user_new new_user(const char *login, const char *name)
{
	struct user_new in;

	memset(&in, 0, sizeof(in));
	in.login = login;
	in.login_len = strlen(login);
	in.display_name = name;
	in.display_name_len = strlen(name);
	return in;
}

static void test_create_with_password(void **state)
{
	struct db *db = testdb_of(state);
	const char pw[] = "12345678"; /* exactly AUTH_PASSWORD_MIN */
	struct user_new in = new_user("alice", "Alice Liddell");
	char hash[AUTH_HASH_MAX];
	struct user u, got;
	bool has_hash = false;
	int64_t before = (int64_t)time(NULL);

	assert_int_equal(sizeof(pw) - 1, AUTH_PASSWORD_MIN);
	in.password = pw;
	in.password_len = sizeof(pw) - 1;
	assert_int_equal(user_create(db, &in, &u), 0);
	assert_true(u.id > 0);
	assert_string_equal(u.login, "alice");
	assert_string_equal(u.display_name, "Alice Liddell");
	assert_false(u.is_admin);
	assert_false(u.disabled);
	assert_true(u.created_at >= before && u.created_at <= (int64_t)time(NULL));

	assert_int_equal(user_get_by_login(db, "alice", &got, hash, &has_hash), 0);
	assert_true(has_hash);
	assert_int_equal(got.id, u.id);
	assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);
	assert_null(strstr(hash, pw)); /* stored hashed, never as given */
	assert_true(auth_password_verify(hash, pw, sizeof(pw) - 1));
}

static void test_create_without_password(void **state)
{
	struct db *db = testdb_of(state);
	struct user_new in = new_user("lms.user", "Zoë from the LMS");
	char hash[AUTH_HASH_MAX];
	struct user u, got;
	bool has_hash = true;

	in.is_admin = true;
	assert_int_equal(user_create(db, &in, &u), 0);
	assert_true(u.is_admin);
	assert_int_equal(user_get_by_login(db, "lms.user", &got, hash, &has_hash), 0);
	assert_false(has_hash);
	assert_string_equal(hash, "");
	assert_string_equal(got.display_name, "Zoë from the LMS");
	assert_int_equal(user_get(db, u.id, &got), 0);
	assert_string_equal(got.login, "lms.user");
	assert_true(got.is_admin);
	/* No hash pointer: the caller only wants the user. */
	assert_int_equal(user_get_by_login(db, "lms.user", &got, NULL, NULL), 0);
}

static void test_duplicate_login(void **state)
{
	struct db *db = testdb_of(state);
	struct user_new in = new_user("bob", "Bob");
	struct user u;
	int64_t n = 0;

	assert_int_equal(user_create(db, &in, &u), 0);
	in.display_name = "Another Bob";
	in.display_name_len = strlen(in.display_name);
	assert_int_equal(user_create(db, &in, &u), COHORT_E_EXISTS);
	assert_int_equal(user_count(db, &n), 0);
	assert_int_equal(n, 1);
}

static const struct {
	const char *login;
	const char *name;
	size_t pw_len; /* 0: no password */
	int err;
} bad_rows[] = {
	{ "", "Empty Login", 0, COHORT_E_FIELD },
	{ "Upper", "Upper-case login", 0, COHORT_E_FIELD },
	{ "has space", "Space", 0, COHORT_E_FIELD },
	{ ".dot", "Leading dot", 0, COHORT_E_FIELD },
	{ "x12345678901234567890123456789012345678901234567890123456789012345", "Too long", 0, COHORT_E_FIELD },
	{ "okname", "", 0, COHORT_E_FIELD },
	{ "okname", " padded", 0, COHORT_E_FIELD },
	{ "okname", "line\nbreak", 0, COHORT_E_FIELD },
	{ "okname", "bad \xff", 0, COHORT_E_FIELD },
	{ "okname", "OK Name", AUTH_PASSWORD_MIN - 1, COHORT_E_RANGE },
	{ "okname", "OK Name", AUTH_PASSWORD_MAX + 1, COHORT_E_RANGE },
	{ "Bad", "OK Name", AUTH_PASSWORD_MIN - 1, COHORT_E_FIELD }, /* fields are checked first */
};

static void test_bad_fields(void **state)
{
	struct db *db = testdb_of(state);
	char pw[AUTH_PASSWORD_MAX + 2];
	int64_t n = -1;

	memset(pw, 'p', sizeof(pw));
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		struct user_new in = new_user(bad_rows[i].login, bad_rows[i].name);
		struct user u;
		int err;

		if (bad_rows[i].pw_len) {
			in.password = pw;
			in.password_len = bad_rows[i].pw_len;
		}
		err = user_create(db, &in, &u);
		if (err != bad_rows[i].err)
			fail_msg("row %zu (%s): err %d, want %d", i, bad_rows[i].login, err, bad_rows[i].err);
	}
	assert_int_equal(user_count(db, &n), 0);
	assert_int_equal(n, 0);
}

static void test_display_name_limit(void **state)
{
	struct db *db = testdb_of(state);
	char name[NAME_MAX_BYTES + 2];
	struct user_new in;
	struct user u;

	memset(name, 'N', sizeof(name));
	name[NAME_MAX_BYTES + 1] = '\0';
	in = new_user("longname", name);
	assert_int_equal(user_create(db, &in, &u), COHORT_E_FIELD);
	in.display_name_len = NAME_MAX_BYTES;
	assert_int_equal(user_create(db, &in, &u), 0);
	assert_int_equal(strlen(u.display_name), NAME_MAX_BYTES);
}

static void test_not_found(void **state)
{
	struct db *db = testdb_of(state);
	char hash[AUTH_HASH_MAX];
	struct user u;
	bool has_hash;

	assert_int_equal(user_get(db, 12345, &u), COHORT_E_NOTFOUND);
	assert_int_equal(user_get_by_login(db, "nobody", &u, hash, &has_hash), COHORT_E_NOTFOUND);
	assert_int_equal(user_set_disabled(db, 12345, true), COHORT_E_NOTFOUND);
}

static void test_disable_enable(void **state)
{
	struct db *db = testdb_of(state);
	int64_t id = testdb_user(db, "carol", true), first;
	struct principal p;
	struct user u;

	assert_int_equal(user_get(db, id, &u), 0);
	assert_int_equal(user_principal(db, &u, &p), 0);
	assert_int_equal(p.user_id, id);
	assert_true(p.is_admin);
	assert_string_equal(p.login, "carol");

	assert_int_equal(user_set_disabled(db, id, true), 0);
	assert_int_equal(user_get(db, id, &u), 0);
	assert_true(u.disabled);
	memset(&p, 0, sizeof(p));
	assert_int_equal(user_principal(db, &u, &p), COHORT_E_USERDISABLED);
	assert_int_equal(p.user_id, 0);

	/* Disabling again keeps the first time it happened. */
	assert_int_equal(db_exec(db, "UPDATE users SET disabled_at = 1000 WHERE login = 'carol'"), 0);
	assert_int_equal(user_set_disabled(db, id, true), 0);
	first = testdb_int(db, "SELECT disabled_at FROM users WHERE login = 'carol'");
	assert_int_equal(first, 1000);

	assert_int_equal(user_set_disabled(db, id, false), 0);
	assert_int_equal(user_get(db, id, &u), 0);
	assert_false(u.disabled);
	assert_int_equal(testdb_int(db, "SELECT disabled_at IS NULL FROM users WHERE login = 'carol'"), 1);
	assert_int_equal(user_principal(db, &u, &p), 0);
	/* Enabling an enabled user is not an error. */
	assert_int_equal(user_set_disabled(db, id, false), 0);
}

static void test_count(void **state)
{
	struct db *db = testdb_of(state);
	int64_t n = -1;

	assert_int_equal(user_count(db, &n), 0);
	assert_int_equal(n, 0);
	testdb_user(db, "u1", false);
	testdb_user(db, "u2", false);
	testdb_user(db, "u3", false);
	assert_int_equal(user_count(db, &n), 0);
	assert_int_equal(n, 3);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, testdb_setup, testdb_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_with_password),
		T(test_create_without_password),
		T(test_duplicate_login),
		T(test_bad_fields),
		T(test_display_name_limit),
		T(test_not_found),
		T(test_disable_enable),
		T(test_count),
	};

	log_init("test", "error");
	if (ids_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
