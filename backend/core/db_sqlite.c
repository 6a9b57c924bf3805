/*
 * DESIGN: the SQLite driver of db.h. Connections are opened with
 * SQLITE_OPEN_NOMUTEX because each one is used by a single thread; WAL lets
 * readers proceed while one writer commits, and the busy timeout turns lock
 * contention between API workers into short waits rather than errors.
 */
#include "core/db.h"
#include "core/err.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_BUSY_TIMEOUT_MS 5000

struct db {
	sqlite3 *h;
	char err[200];
};

struct db_stmt {
	struct db *db;
	sqlite3_stmt *s;
};

static int record(struct db *db, const char *what, int rc)
{
	snprintf(db->err, sizeof(db->err), "%s: %s (%d)", what, db->h ? sqlite3_errmsg(db->h) : "no handle",
		 rc);
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return COHORT_E_EXISTS;
		return COHORT_E_CONFLICT;
	case SQLITE_NOMEM:
		return COHORT_E_NOMEM;
	case SQLITE_TOOBIG:
		return COHORT_E_LIMIT;
	default:
		return COHORT_E_DB;
	}
}

int db_open(const char *path, struct db **out)
{
	struct db *db = calloc(1, sizeof(*db));
	int rc, err = 0;

	*out = NULL;
	if (!db)
		return COHORT_E_NOMEM;
	rc = sqlite3_open_v2(path, &db->h,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err = record(db, "open", rc);
		goto out;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
	err = db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;");
out:
	*out = db;
	return err;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	sqlite3_close_v2(db->h);
	free(db);
}

int db_ping(struct db *db)
{
	if (!db || !db->h)
		return COHORT_E_DB;
	return db_exec(db, "SELECT 1");
}

const char *db_version(void)
{
	return "sqlite " SQLITE_VERSION;
}

const char *db_last_error(const struct db *db)
{
	return db ? db->err : "no database";
}

int db_exec(struct db *db, const char *sql)
{
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : record(db, "exec", rc);
}

int db_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	struct db_stmt *st;
	int rc;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return COHORT_E_NOMEM;
	st->db = db;
	rc = sqlite3_prepare_v2(db->h, sql, -1, &st->s, NULL);
	if (rc != SQLITE_OK) {
		free(st);
		return record(db, "prepare", rc);
	}
	*out = st;
	return 0;
}

void db_finalize(struct db_stmt *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->s);
	free(st);
}

int db_reset(struct db_stmt *st)
{
	sqlite3_reset(st->s);
	sqlite3_clear_bindings(st->s);
	return 0;
}

static int bind_rc(struct db_stmt *st, int rc)
{
	return rc == SQLITE_OK ? 0 : record(st->db, "bind", rc);
}

int db_bind_int(struct db_stmt *st, int idx, int64_t v)
{
	return bind_rc(st, sqlite3_bind_int64(st->s, idx, v));
}

int db_bind_text(struct db_stmt *st, int idx, const char *s, size_t len)
{
	if (len > 0x7fffffff)
		return COHORT_E_LIMIT;
	return bind_rc(st, sqlite3_bind_text(st->s, idx, s, (int)len, SQLITE_TRANSIENT));
}

int db_bind_str(struct db_stmt *st, int idx, const char *s)
{
	return s ? db_bind_text(st, idx, s, strlen(s)) : db_bind_null(st, idx);
}

int db_bind_null(struct db_stmt *st, int idx)
{
	return bind_rc(st, sqlite3_bind_null(st->s, idx));
}

int db_step(struct db_stmt *st)
{
	int rc = sqlite3_step(st->s);

	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	rc = record(st->db, "step", sqlite3_extended_errcode(st->db->h));
	sqlite3_reset(st->s);
	return rc;
}

int64_t db_col_int(struct db_stmt *st, int col)
{
	return sqlite3_column_int64(st->s, col);
}

const char *db_col_text(struct db_stmt *st, int col, size_t *len)
{
	const unsigned char *t = sqlite3_column_text(st->s, col);

	if (len)
		*len = t ? (size_t)sqlite3_column_bytes(st->s, col) : 0;
	return (const char *)t;
}

void db_col_copy(struct db_stmt *st, int col, char *dst, size_t cap)
{
	size_t n = 0;
	const char *s = db_col_text(st, col, &n);

	if (!s || n >= cap)
		n = 0;
	if (n)
		memcpy(dst, s, n);
	dst[n] = '\0';
}

bool db_col_is_null(struct db_stmt *st, int col)
{
	return sqlite3_column_type(st->s, col) == SQLITE_NULL;
}

int db_changes(struct db *db)
{
	return sqlite3_changes(db->h);
}

int db_begin(struct db *db)
{
	return db_exec(db, "BEGIN");
}

int db_begin_immediate(struct db *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int db_commit(struct db *db)
{
	return db_exec(db, "COMMIT");
}

int db_rollback(struct db *db)
{
	return db_exec(db, "ROLLBACK");
}
