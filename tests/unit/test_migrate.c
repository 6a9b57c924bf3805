/*
 * Unit tests for core/migrate against real SQLite files: a fresh database
 * goes to MIGRATE_SCHEMA_VERSION with the real sql/sqlite migrations, a
 * second run changes nothing, a newer database is refused, migration
 * directories with gaps, duplicates or the wrong count are refused, and a
 * failing migration is rolled back completely. Runs from the repository
 * root (the real migrations are read from sql/sqlite).
 */
#include "core/db.h"
#include "core/err.h"
#include "core/log.h"
#include "core/migrate.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testdb.h"

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static bool table_exists(struct db *db, const char *name)
{
	struct db_stmt *st = NULL;
	int rc;

	assert_int_equal(db_prepare(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", &st), 0);
	db_bind_str(st, 1, name);
	rc = db_step(st);
	db_finalize(st);
	assert_true(rc >= 0);
	return rc == DB_ROW;
}

static void test_fresh_database(void **state)
{
	static const char *const tables[] = { "users", "courses", "participants", "lessons", "projects",
					      "project_grants", "schema_migrations" };
	struct testdb t;
	char errbuf[256] = "";
	int version = -1, from = -1, to = -1;

	(void)state;
	testdb_open_empty(&t);
	assert_int_equal(migrate_current(t.db, &version), 0);
	assert_int_equal(version, 0);
	assert_int_equal(migrate_check(t.db, errbuf, sizeof(errbuf)), COHORT_E_CONFLICT);
	assert_non_null(strstr(errbuf, "cohort migrate"));

	assert_int_equal(migrate_apply(t.db, TESTDB_MIGRATIONS, &from, &to, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(from, 0);
	assert_int_equal(to, MIGRATE_SCHEMA_VERSION);
	assert_int_equal(migrate_current(t.db, &version), 0);
	assert_int_equal(version, MIGRATE_SCHEMA_VERSION);
	assert_int_equal(migrate_check(t.db, errbuf, sizeof(errbuf)), 0);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (!table_exists(t.db, tables[i]))
			fail_msg("table %s missing after migration", tables[i]);
	assert_int_equal(testdb_int(t.db, "SELECT COUNT(*) FROM schema_migrations"), MIGRATE_SCHEMA_VERSION);
	testdb_close(&t);
}

static void test_idempotent(void **state)
{
	struct testdb t;
	char errbuf[256] = "";
	int from = -1, to = -1;

	(void)state;
	testdb_open(&t);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(migrate_apply(t.db, TESTDB_MIGRATIONS, &from, &to, errbuf, sizeof(errbuf)), 0);
		assert_int_equal(from, MIGRATE_SCHEMA_VERSION);
		assert_int_equal(to, MIGRATE_SCHEMA_VERSION);
	}
	assert_int_equal(testdb_int(t.db, "SELECT COUNT(*) FROM schema_migrations"), MIGRATE_SCHEMA_VERSION);
	testdb_close(&t);
}

/* The constant the servers check must follow the newest migration file. */
static void test_schema_version_is_newest_file(void **state)
{
	DIR *d = opendir(TESTDB_MIGRATIONS);
	struct dirent *de;
	int newest = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		int v = 0;

		if (n < 10 || strcmp(de->d_name + n - 4, ".sql"))
			continue;
		for (int i = 0; i < 4; i++) {
			assert_true(de->d_name[i] >= '0' && de->d_name[i] <= '9');
			v = v * 10 + (de->d_name[i] - '0');
		}
		if (v > newest)
			newest = v;
	}
	closedir(d);
	assert_int_equal(newest, MIGRATE_SCHEMA_VERSION);
}

static void test_newer_database_refused(void **state)
{
	struct testdb t;
	char errbuf[256] = "";
	int from = -1, to = -1, version = -1;

	(void)state;
	testdb_open(&t);
	assert_int_equal(db_exec(t.db, "INSERT INTO schema_migrations (version, name, applied_at)"
				       " VALUES (999, '0999_future.sql', 0)"), 0);
	assert_int_equal(migrate_apply(t.db, TESTDB_MIGRATIONS, &from, &to, errbuf, sizeof(errbuf)),
			 COHORT_E_CONFLICT);
	assert_non_null(strstr(errbuf, "newer"));
	assert_int_equal(from, 999);
	assert_int_equal(to, 999);
	assert_int_equal(migrate_check(t.db, errbuf, sizeof(errbuf)), COHORT_E_CONFLICT);
	assert_non_null(strstr(errbuf, "newer"));
	assert_int_equal(migrate_current(t.db, &version), 0);
	assert_int_equal(version, 999);
	assert_int_equal(testdb_int(t.db, "SELECT COUNT(*) FROM schema_migrations"), MIGRATE_SCHEMA_VERSION + 1);
	testdb_close(&t);
}

/* Migration directories that must be refused before anything runs. Each
 * file creates a table named after itself, so a test can see that none ran. */
static const struct {
	const char *what;
	const char *files[4];
	const char *msg; /* expected in the error text */
} bad_dirs[] = {
	{ "empty directory", { NULL }, "expects" },
	{ "gap", { "0001_a.sql", "0003_c.sql" }, "without gaps" },
	{ "duplicate number", { "0001_a.sql", "0001_b.sql" }, "without gaps" },
	{ "starts at 2", { "0002_b.sql" }, "without gaps" },
	{ "more than this build knows", { "0001_a.sql", "0002_b.sql" }, "expects" },
	{ "only non-migrations", { "README", "0001_a.sql.bak", "1_a.sql", "000a_x.sql" }, "expects" },
};

static void test_bad_directories(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_dirs) / sizeof(bad_dirs[0]); i++) {
		struct testdb t;
		char dir[64], errbuf[256] = "";
		int from = -1, to = -1, version = -1, err;

		testdb_open_empty(&t);
		testdb_tmpdir(dir);
		for (size_t k = 0; k < 4 && bad_dirs[i].files[k]; k++) {
			char sql[128];

			snprintf(sql, sizeof(sql), "CREATE TABLE t%zu (x);", k);
			write_file(dir, bad_dirs[i].files[k], sql);
		}
		err = migrate_apply(t.db, dir, &from, &to, errbuf, sizeof(errbuf));
		if (err != COHORT_E_IO || !strstr(errbuf, bad_dirs[i].msg))
			fail_msg("%s: err %d (%s), want io_error with '%s'", bad_dirs[i].what, err, errbuf, bad_dirs[i].msg);
		assert_int_equal(migrate_current(t.db, &version), 0);
		assert_int_equal(version, 0);
		assert_false(table_exists(t.db, "t0"));
		assert_false(table_exists(t.db, "t1"));
		testdb_rmtree(dir);
		testdb_close(&t);
	}
}

static void test_missing_directory(void **state)
{
	struct testdb t;
	char errbuf[256] = "";
	int from = -1, to = -1;

	(void)state;
	testdb_open_empty(&t);
	assert_int_equal(migrate_apply(t.db, "/nonexistent/cohort/migrations", &from, &to, errbuf, sizeof(errbuf)),
			 COHORT_E_IO);
	assert_non_null(strstr(errbuf, "/nonexistent/cohort/migrations"));
	testdb_close(&t);
}

/* Files that are not NNNN_name.sql sit beside migrations harmlessly. */
static void test_other_files_ignored(void **state)
{
	struct testdb t;
	char dir[64], errbuf[256] = "";
	int from = -1, to = -1;

	(void)state;
	testdb_open_empty(&t);
	testdb_tmpdir(dir);
	write_file(dir, "0001_only.sql", "CREATE TABLE only_one (x);");
	write_file(dir, "README", "not SQL");
	write_file(dir, "0001_only.sql~", "CREATE TABLE backup (x);");
	write_file(dir, "0002.sql", "CREATE TABLE short (x);");
	assert_int_equal(migrate_apply(t.db, dir, &from, &to, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(to, 1);
	assert_true(table_exists(t.db, "only_one"));
	assert_false(table_exists(t.db, "backup"));
	assert_false(table_exists(t.db, "short"));
	testdb_rmtree(dir);
	testdb_close(&t);
}

/* A migration that fails part-way leaves nothing of itself behind, and the
 * database is usable (not stuck in a transaction) for a corrected retry. */
static const struct {
	const char *what;
	const char *sql;
} failing[] = {
	{ "unknown table after good statements",
	  "CREATE TABLE t0 (x);\nINSERT INTO t0 VALUES (1);\nINSERT INTO no_such_table VALUES (1);\n" },
	{ "syntax error at the end", "CREATE TABLE t0 (x);\nCREATE TABLE t1 (y;\n" },
	{ "constraint violation",
	  "CREATE TABLE t0 (x UNIQUE);\nINSERT INTO t0 VALUES (1);\nINSERT INTO t0 VALUES (1);\n" },
};

static void test_failing_migration_rolled_back(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(failing) / sizeof(failing[0]); i++) {
		struct testdb t;
		char dir[64], errbuf[256] = "";
		int from = -1, to = -1, version = -1, err;

		testdb_open_empty(&t);
		testdb_tmpdir(dir);
		write_file(dir, "0001_bad.sql", failing[i].sql);
		err = migrate_apply(t.db, dir, &from, &to, errbuf, sizeof(errbuf));
		if (err >= 0)
			fail_msg("%s: applied", failing[i].what);
		assert_non_null(strstr(errbuf, "0001_bad.sql"));
		assert_int_equal(from, 0);
		assert_int_equal(to, 0);
		assert_int_equal(migrate_current(t.db, &version), 0);
		assert_int_equal(version, 0);
		if (table_exists(t.db, "t0") || table_exists(t.db, "t1"))
			fail_msg("%s: a table of the failed migration survived", failing[i].what);

		write_file(dir, "0001_bad.sql", "CREATE TABLE t0 (x);\n");
		assert_int_equal(migrate_apply(t.db, dir, &from, &to, errbuf, sizeof(errbuf)), 0);
		assert_int_equal(to, 1);
		assert_true(table_exists(t.db, "t0"));
		testdb_rmtree(dir);
		testdb_close(&t);
	}
}

static void test_empty_migration_file(void **state)
{
	struct testdb t;
	char dir[64], errbuf[256] = "";
	int from = -1, to = -1;

	(void)state;
	testdb_open_empty(&t);
	testdb_tmpdir(dir);
	write_file(dir, "0001_empty.sql", "");
	assert_int_equal(migrate_apply(t.db, dir, &from, &to, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(to, 1);
	testdb_rmtree(dir);
	testdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_database),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_schema_version_is_newest_file),
		cmocka_unit_test(test_newer_database_refused),
		cmocka_unit_test(test_bad_directories),
		cmocka_unit_test(test_missing_directory),
		cmocka_unit_test(test_other_files_ignored),
		cmocka_unit_test(test_failing_migration_rolled_back),
		cmocka_unit_test(test_empty_migration_file),
	};

	log_init("test", "error");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
