/*
 * Unit tests for core/db_sqlite with several processes on one database
 * file: db_generation reads the WAL-index header through the connection's
 * own mapping, and nothing in db_open or db_close may disturb the locks
 * SQLite holds on the "-shm" file. (An earlier version opened and closed
 * that file itself; the close dropped the process's POSIX locks, another
 * process then took itself for the first opener and truncated the file,
 * and readers died of SIGBUS.) Children open, write and close the database
 * over and over, with nobody else holding it; every child must exit 0, and
 * the parent must then see every child's rows and a new generation.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testdb.h"

#define CHILDREN 16
#define ROUNDS 40

static int child(const char *path, int id)
{
	for (int r = 0; r < ROUNDS; r++) {
		struct db *db = NULL;
		struct db_gen g;
		char sql[128];

		if (db_open(path, &db)) {
			db_close(db);
			return 2;
		}
		snprintf(sql, sizeof(sql), "INSERT INTO t (child, round) VALUES (%d, %d);", id, r);
		if (db_generation(db, &g) || g.kind == DB_GEN_NONE || db_exec(db, sql)) {
			db_close(db);
			return 3;
		}
		db_close(db);
	}
	return 0;
}

static void test_processes_open_write_close(void **state)
{
	struct testdb t;
	struct db_gen before, after, now;
	struct db_stmt *st;
	pid_t pids[CHILDREN];

	(void)state;
	testdb_open_empty(&t);
	assert_int_equal(db_exec(t.db, "CREATE TABLE t (child INTEGER, round INTEGER);"), 0);
	assert_int_equal(db_generation(t.db, &before), 0);
	assert_int_equal(before.kind, DB_GEN_WAL);
	/* No process holds the database between the children's turns, as when
	 * several CLI commands run at once: each open may be the first. */
	db_close(t.db);
	t.db = NULL;
	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(child(t.path, i));
	}
	for (int i = 0; i < CHILDREN; i++) {
		int status = 0;

		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("child %d: %s %d", i, WIFEXITED(status) ? "exit" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	}
	assert_int_equal(db_open(t.path, &t.db), 0);
	assert_int_equal(db_generation(t.db, &after), 0);
	assert_int_equal(after.kind, DB_GEN_WAL);
	assert_false(db_gen_equal(&before, &after));
	assert_int_equal(db_generation(t.db, &now), 0);
	assert_true(db_gen_equal(&after, &now));
	assert_int_equal(db_prepare(t.db, "SELECT count(*) FROM t", &st), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_int(st, 0), CHILDREN * ROUNDS);
	db_finalize(st);
	testdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_processes_open_write_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
