/*
 * Unit tests for core/db_sqlite's statement cache: a statement given back
 * with db_finalize is handed out again reset and without its bindings, a
 * text in use gets a second independent statement, bad SQL is an error and
 * is not cached, the cache stays bounded (least recently used out), a schema
 * change re-prepares a cached statement, and db_close frees what is cached
 * (ASan checks the last part). db_generation stays equal while nothing is
 * written and changes after a write through the same handle or a commit
 * through another one.
 */
#include "core/db.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testdb.h"

static int empty_setup(void **state)
{
	struct testdb *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	testdb_open_empty(t);
	assert_int_equal(db_exec(t->db, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);"
					"INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three');"),
			 0);
	*state = t;
	return 0;
}

static struct db_stats stats(struct db *db)
{
	struct db_stats s;

	db_get_stats(db, &s);
	return s;
}

static void test_reuse_after_finalize(void **state)
{
	struct db *db = testdb_of(state);
	const char *sql = "SELECT name FROM t WHERE id = ?1";
	struct db_stmt *st = NULL;
	struct db_stats before = stats(db);

	assert_int_equal(db_prepare(db, sql, &st), 0);
	assert_int_equal(db_bind_int(st, 1, 2), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 0, NULL), "two");
	db_finalize(st);
	assert_int_equal(stats(db).misses, before.misses + 1);

	/* Same text: from the cache, bindings cleared (?1 is NULL: no row). */
	assert_int_equal(db_prepare(db, sql, &st), 0);
	assert_int_equal(stats(db).hits, before.hits + 1);
	assert_int_equal(stats(db).misses, before.misses + 1);
	assert_int_equal(db_step(st), DB_DONE);
	assert_int_equal(db_reset(st), 0);
	assert_int_equal(db_bind_int(st, 1, 3), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 0, NULL), "three");
	db_finalize(st);

	/* A text that differs by one character is another statement. */
	assert_int_equal(db_prepare(db, "SELECT name FROM t WHERE id = ?1 ", &st), 0);
	assert_int_equal(stats(db).misses, before.misses + 2);
	db_finalize(st);
}

/* A SELECT given back before its last row starts again from the first. */
static void test_half_stepped_is_reset(void **state)
{
	struct db *db = testdb_of(state), *other = NULL;
	const char *sql = "SELECT id FROM t ORDER BY id";
	struct db_stmt *st = NULL;

	assert_int_equal(db_prepare(db, sql, &st), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_int(st, 0), 1);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_int(st, 0), 2);
	db_finalize(st);
	/* Another connection writes; the next use reads a new snapshot (a
	 * statement left mid-way would still see the old one). */
	assert_int_equal(db_open(((struct testdb *)*state)->path, &other), 0);
	assert_int_equal(db_exec(other, "INSERT INTO t VALUES (4, 'four')"), 0);
	db_close(other);

	assert_int_equal(db_prepare(db, sql, &st), 0);
	for (int64_t want = 1; want <= 4; want++) {
		assert_int_equal(db_step(st), DB_ROW);
		assert_int_equal(db_col_int(st, 0), want);
	}
	assert_int_equal(db_step(st), DB_DONE);
	db_finalize(st);
}

/* The same text twice at once (nested use): two independent statements. */
static void test_same_text_nested(void **state)
{
	struct db *db = testdb_of(state);
	const char *sql = "SELECT id FROM t WHERE id >= ?1 ORDER BY id";
	struct db_stmt *a = NULL, *b = NULL;

	assert_int_equal(db_prepare(db, sql, &a), 0);
	assert_int_equal(db_bind_int(a, 1, 1), 0);
	assert_int_equal(db_step(a), DB_ROW);
	assert_int_equal(db_prepare(db, sql, &b), 0);
	assert_ptr_not_equal(a, b);
	assert_int_equal(db_bind_int(b, 1, 3), 0);
	assert_int_equal(db_step(b), DB_ROW);
	assert_int_equal(db_col_int(b, 0), 3);
	assert_int_equal(db_step(a), DB_ROW);
	assert_int_equal(db_col_int(a, 0), 2);
	db_finalize(b);
	db_finalize(a);
	/* Both are cached now; two more at once are both hits. */
	{
		struct db_stats before = stats(db);

		assert_int_equal(db_prepare(db, sql, &a), 0);
		assert_int_equal(db_prepare(db, sql, &b), 0);
		assert_int_equal(stats(db).hits, before.hits + 2);
		db_finalize(a);
		db_finalize(b);
	}
}

static void test_bad_statement(void **state)
{
	struct db *db = testdb_of(state);
	struct db_stmt *st = (struct db_stmt *)&st;
	struct db_stats before = stats(db);

	assert_int_equal(db_prepare(db, "SELEC name FROM t", &st), COHORT_E_DB);
	assert_null(st);
	assert_non_null(strstr(db_last_error(db), "prepare"));
	assert_int_equal(db_prepare(db, "SELECT nope FROM t", &st), COHORT_E_DB);
	assert_null(st);
	/* Nothing to run is an error too, not a NULL statement. */
	assert_int_equal(db_prepare(db, "  -- nothing\n", &st), COHORT_E_DB);
	assert_null(st);
	assert_int_equal(stats(db).cached, before.cached);
	assert_int_equal(stats(db).errors, before.errors + 3);
	db_finalize(NULL);
	/* The same bad text fails again (it was not cached as good). */
	assert_int_equal(db_prepare(db, "SELEC name FROM t", &st), COHORT_E_DB);
	/* And a good statement still works afterwards. */
	assert_int_equal(testdb_int(db, "SELECT COUNT(*) FROM t"), 3);
}

/* More distinct texts than the cache holds: bounded, oldest out first. */
static void test_bounded_lru(void **state)
{
	struct db *db = testdb_of(state);
	char sql[64];
	struct db_stats s;
	size_t cap;

	for (int i = 0; i < 100; i++) {
		snprintf(sql, sizeof(sql), "SELECT %d", i);
		assert_int_equal(testdb_int(db, sql), i);
	}
	s = stats(db);
	cap = s.cached;
	assert_true(cap >= 8 && cap < 100);
	assert_int_equal(s.evictions, 100 - cap);
	/* The newest is still there, the oldest is not. */
	assert_int_equal(testdb_int(db, "SELECT 99"), 99);
	assert_int_equal(stats(db).hits, s.hits + 1);
	assert_int_equal(testdb_int(db, "SELECT 0"), 0);
	assert_int_equal(stats(db).misses, s.misses + 1);
	assert_int_equal(stats(db).cached, cap);
}

/* More statements in use at once than the cache holds: the extra ones live
 * outside it and are finalized for real (ASan reports a leak otherwise). */
static void test_all_in_use(void **state)
{
	struct db *db = testdb_of(state);
	struct db_stmt *st[80];
	char sql[64];

	for (int i = 0; i < 80; i++) {
		snprintf(sql, sizeof(sql), "SELECT %d + id FROM t WHERE id = 1", i);
		assert_int_equal(db_prepare(db, sql, &st[i]), 0);
	}
	for (int i = 0; i < 80; i++) {
		assert_int_equal(db_step(st[i]), DB_ROW);
		assert_int_equal(db_col_int(st[i], 0), i + 1);
	}
	for (int i = 0; i < 80; i++)
		db_finalize(st[i]);
	assert_true(stats(db).cached < 80);
}

static void test_schema_change(void **state)
{
	struct db *db = testdb_of(state);
	const char *sql = "SELECT * FROM t WHERE id = 1";
	struct db_stmt *st = NULL;

	assert_int_equal(db_prepare(db, sql, &st), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 1, NULL), "one");
	db_finalize(st);
	assert_int_equal(db_exec(db, "ALTER TABLE t ADD COLUMN extra TEXT DEFAULT 'x'"), 0);
	assert_int_equal(db_prepare(db, sql, &st), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 2, NULL), "x");
	db_finalize(st);
}

static void test_ping(void **state)
{
	struct db *db = testdb_of(state);
	struct db_stats before = stats(db);

	assert_int_equal(db_ping(db), 0);
	assert_int_equal(db_ping(db), 0);
	assert_int_equal(stats(db).hits, before.hits + 1);
	assert_int_equal(db_ping(NULL), COHORT_E_DB);
}


static struct db_gen gen(struct db *db)
{
	struct db_gen g;

	assert_int_equal(db_generation(db, &g), 0);
	return g;
}

/* The generation the read caches of cohort-api are keyed by (api/authcache.h):
 * equal only while no transaction changed the database, by any handle. */
static void test_generation(void **state)
{
	struct db *db = testdb_of(state), *other = NULL;
	struct db_gen a = gen(db), b;
	struct db_stmt *st = NULL;

	/* Reads, by this handle and another, change nothing. */
	assert_int_equal(db_prepare(db, "SELECT count(*) FROM t", &st), 0);
	assert_int_equal(db_step(st), DB_ROW);
	db_finalize(st);
	assert_int_equal(db_open(((struct testdb *)*state)->path, &other), 0);
	assert_int_equal(db_exec(other, "SELECT * FROM t"), 0);
	b = gen(db);
	assert_true(db_gen_equal(&a, &b));
	b = gen(db);
	assert_true(db_gen_equal(&a, &b));

	/* A write through this handle. */
	assert_int_equal(db_exec(db, "UPDATE t SET name = 'uno' WHERE id = 1"), 0);
	b = gen(db);
	assert_false(db_gen_equal(&a, &b));
	a = b;

	/* A commit through a second handle on the same file, once plain and
	 * once in an explicit transaction. */
	assert_int_equal(db_exec(other, "INSERT INTO t VALUES (5, 'five')"), 0);
	b = gen(db);
	assert_false(db_gen_equal(&a, &b));
	a = b;
	assert_int_equal(db_begin_immediate(other), 0);
	assert_int_equal(db_exec(other, "DELETE FROM t WHERE id = 5"), 0);
	/* Not committed yet: this handle still reads the old database. */
	b = gen(db);
	assert_true(db_gen_equal(&a, &b));
	assert_int_equal(db_commit(other), 0);
	b = gen(db);
	assert_false(db_gen_equal(&a, &b));
	a = b;

	/* A rolled-back transaction of the other handle changes nothing. */
	assert_int_equal(db_begin_immediate(other), 0);
	assert_int_equal(db_exec(other, "DELETE FROM t"), 0);
	assert_int_equal(db_rollback(other), 0);
	b = gen(db);
	assert_true(db_gen_equal(&a, &b));

	/* The other handle sees this handle's writes too. */
	a = gen(other);
	assert_int_equal(db_exec(db, "DELETE FROM t WHERE id = 2"), 0);
	b = gen(other);
	assert_false(db_gen_equal(&a, &b));
	db_close(other);

	assert_int_equal(db_generation(NULL, &b), COHORT_E_DB);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, empty_setup, testdb_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reuse_after_finalize),
		T(test_half_stepped_is_reset),
		T(test_same_text_nested),
		T(test_bad_statement),
		T(test_bounded_lru),
		T(test_all_in_use),
		T(test_schema_change),
		T(test_ping),
		T(test_generation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
