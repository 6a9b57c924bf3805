/*
 * testdb.h — a real SQLite database for unit tests of the people model: a
 * fresh temporary directory, the database file in it, and the real
 * migrations from sql/sqlite applied (tests run from the repository root).
 * Header-only because each unit test is one translation unit; include it
 * after <cmocka.h>.
 *
 * Users are made without passwords (user_create then skips Argon2id, which
 * costs about 0.1 s and 64 MiB per hash); tests of passwords hash on purpose.
 */
#ifndef COHORT_TESTS_TESTDB_H
#define COHORT_TESTS_TESTDB_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/course.h"
#include "core/db.h"
#include "core/err.h"
#include "core/migrate.h"
#include "core/user.h"

#define TESTDB_MIGRATIONS "sql/sqlite"

struct testdb {
	char dir[64];
	char path[128];
	struct db *db;
};

static inline int testdb__rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

/* Removes a directory tree made by a test (never follows symlinks). */
static inline void testdb_rmtree(const char *dir)
{
	nftw(dir, testdb__rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new empty temporary directory; dir receives its path. */
static inline void testdb_tmpdir(char dir[64])
{
	snprintf(dir, 64, "%s", "/tmp/cohort-unit-XXXXXX");
	if (!mkdtemp(dir))
		fail_msg("mkdtemp failed");
}

/* Opens a fresh database without migrating it. */
static inline void testdb_open_empty(struct testdb *t)
{
	memset(t, 0, sizeof(*t));
	testdb_tmpdir(t->dir);
	snprintf(t->path, sizeof(t->path), "%s/test.db", t->dir);
	assert_int_equal(db_open(t->path, &t->db), 0);
}

/* Opens a fresh database at the current schema. */
static inline void testdb_open(struct testdb *t)
{
	char errbuf[256] = "";
	int from = -1, to = -1, err;

	testdb_open_empty(t);
	err = migrate_apply(t->db, TESTDB_MIGRATIONS, &from, &to, errbuf, sizeof(errbuf));
	if (err)
		fail_msg("migrate_apply: %s", errbuf);
	assert_int_equal(to, MIGRATE_SCHEMA_VERSION);
}

static inline void testdb_close(struct testdb *t)
{
	db_close(t->db);
	t->db = NULL;
	if (t->dir[0])
		testdb_rmtree(t->dir);
	t->dir[0] = '\0';
}

/* cmocka setup/teardown pair: *state is a struct testdb. */
static inline int testdb_setup(void **state)
{
	struct testdb *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	testdb_open(t);
	*state = t;
	return 0;
}

static inline int testdb_teardown(void **state)
{
	struct testdb *t = *state;

	if (t)
		testdb_close(t);
	free(t);
	return 0;
}

static inline struct db *testdb_of(void **state)
{
	return ((struct testdb *)*state)->db;
}

/* Runs one SQL query returning one integer (for checking state directly). */
static inline int64_t testdb_int(struct db *db, const char *sql)
{
	struct db_stmt *st = NULL;
	int64_t v;

	if (db_prepare(db, sql, &st))
		fail_msg("prepare %s: %s", sql, db_last_error(db));
	if (db_step(st) != DB_ROW)
		fail_msg("no row from %s: %s", sql, db_last_error(db));
	v = db_col_int(st, 0);
	db_finalize(st);
	return v;
}

/* A user without a password (no Argon2id cost); returns the id. */
static inline int64_t testdb_user(struct db *db, const char *login, bool admin)
{
	struct user_new in;
	struct user u;
	int err;

	memset(&in, 0, sizeof(in));
	in.login = login;
	in.login_len = strlen(login);
	in.display_name = login;
	in.display_name_len = strlen(login);
	in.is_admin = admin;
	err = user_create(db, &in, &u);
	if (err)
		fail_msg("user_create %s: %s", login, cohort_strerror(err));
	return u.id;
}

/* A course owned by user_id (its teacher); code receives the join code. */
static inline int64_t testdb_course(struct db *db, int64_t user_id, const char *name, struct participant *teacher,
				    char code[JOIN_CODE_LEN + 1])
{
	struct participant tmp_teacher;
	char tmp_code[JOIN_CODE_LEN + 1];
	struct course c;
	int err = course_create(db, user_id, name, strlen(name), NULL, 0, NULL, 0, &c,
				teacher ? teacher : &tmp_teacher, code ? code : tmp_code);

	if (err)
		fail_msg("course_create %s: %s", name, cohort_strerror(err));
	return c.id;
}

/* Joins user_id to the course with that code; returns the participant id. */
static inline int64_t testdb_join(struct db *db, int64_t user_id, const char *code, const char *nick)
{
	struct participant p;
	struct course c;
	int err = course_join(db, user_id, code, strlen(code), nick, strlen(nick), &c, &p);

	if (err)
		fail_msg("course_join %s: %s", nick, cohort_strerror(err));
	return p.id;
}

#endif
