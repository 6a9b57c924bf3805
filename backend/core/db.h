/*
 * db.h — the SQL interface: one small set of calls with an SQLite driver
 * (db_sqlite.c) and room for a PostgreSQL one (db_pg.c) behind it.
 *
 * SQL text uses numbered parameters "?1", "?2", … (SQLite's native form; a
 * PostgreSQL driver rewrites them to "$1"). Inserted ids come back through
 * RETURNING, which both engines support, so there is no last-insert-id call.
 *
 * A struct db is used by one thread at a time (cohort-api keeps one per
 * worker thread). Statements belong to their db and are finalized before it
 * is closed.
 *
 * Prepared statements are cached per connection, keyed by their SQL text
 * (db_sqlite.c explains): db_prepare of a text prepared before is cheap, and
 * db_finalize of a cached statement resets it for the next db_prepare. So
 * pass constant SQL texts (parameters, not values spliced into the text), and
 * always db_finalize what db_prepare gave, even after an error.
 */
#ifndef COHORT_DB_H
#define COHORT_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct db_stmt;

enum db_step_result {
	DB_DONE = 0, /* no (more) rows */
	DB_ROW = 1,  /* a row is available through db_col_* */
};

/* Opens (creating if needed) the database; WAL, busy timeout, foreign keys on. */
int db_open(const char *path, struct db **out);
void db_close(struct db *db);
/* Runs a trivial query; 0 when the database answers. */
int db_ping(struct db *db);

/* Counters of one connection, for tests and diagnostics. */
struct db_stats {
	uint64_t hits;      /* db_prepare answered from the statement cache */
	uint64_t misses;    /* db_prepare had to parse the SQL */
	uint64_t evictions; /* cached statements finalized to make room */
	uint64_t errors;    /* failures other than constraint violations */
	size_t cached;      /* statements in the cache now */
};
void db_get_stats(const struct db *db, struct db_stats *out);
/* Driver name and library version, e.g. "sqlite 3.40.1". */
const char *db_version(void);
/* The last error of this handle, for logs (never shown to clients). */
const char *db_last_error(const struct db *db);

/* Where the database stands, for caches of what was read from it: two
 * generations compare equal only if no transaction changed the database in
 * between, through this handle or any other, in any process. In WAL mode it
 * is read from the WAL-index header all connections share (no lock, no
 * system call; db_sqlite.c explains), else from PRAGMA data_version and the
 * handle's change count, which takes a read transaction. */
enum db_gen_kind { DB_GEN_NONE, DB_GEN_WAL, DB_GEN_PRAGMA };
struct db_gen {
	enum db_gen_kind kind;
	int64_t data_version;
	int64_t changes;
};
int db_generation(struct db *db, struct db_gen *out);
static inline bool db_gen_equal(const struct db_gen *a, const struct db_gen *b)
{
	return a->kind != DB_GEN_NONE && a->kind == b->kind && a->data_version == b->data_version &&
	       a->changes == b->changes;
}

/* Runs one or more statements without parameters (migrations, pragmas). */
int db_exec(struct db *db, const char *sql);

int db_prepare(struct db *db, const char *sql, struct db_stmt **out);
void db_finalize(struct db_stmt *st);
int db_reset(struct db_stmt *st);

/* Parameters are numbered from 1. Text is copied by the driver. */
int db_bind_int(struct db_stmt *st, int idx, int64_t v);
int db_bind_text(struct db_stmt *st, int idx, const char *s, size_t len);
int db_bind_str(struct db_stmt *st, int idx, const char *s); /* NULL binds NULL */
int db_bind_null(struct db_stmt *st, int idx);

/* DB_ROW, DB_DONE, or a negative error: COHORT_E_EXISTS for a uniqueness
 * violation, COHORT_E_CONFLICT for other constraint failures, COHORT_E_DB
 * otherwise (including a lock wait that outlasted the busy timeout). */
int db_step(struct db_stmt *st);

/* Columns are numbered from 0 and valid until the next step/reset. */
int64_t db_col_int(struct db_stmt *st, int col);
const char *db_col_text(struct db_stmt *st, int col, size_t *len); /* NULL for SQL NULL */
bool db_col_is_null(struct db_stmt *st, int col);
/* Copies a text column into dst (cap bytes with the NUL); NULL or a value
 * that does not fit gives "" (callers size dst for their validated limits). */
void db_col_copy(struct db_stmt *st, int col, char *dst, size_t cap);
int db_changes(struct db *db);

/* Transactions. begin_immediate takes the write lock up front, so
 * read-then-write sequences cannot deadlock on lock upgrades. */
int db_begin(struct db *db);
int db_begin_immediate(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);
/* True between a begin and its commit or rollback. */
bool db_in_transaction(const struct db *db);

#endif
