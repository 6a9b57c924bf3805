/*
 * DESIGN: the SQLite driver of db.h. Connections are opened with
 * SQLITE_OPEN_NOMUTEX because each one is used by a single thread; WAL lets
 * readers proceed while one writer commits, and the busy timeout turns lock
 * contention between API workers into short waits rather than errors.
 *
 * Statement cache: parsing and planning a statement costs far more than
 * running the one-row lookups cohort-api makes per request (sqlite3Parser
 * and friends were a third of cohort-api's CPU time on a file read). So each
 * connection keeps its last DB_STMT_CACHE prepared statements, keyed by their
 * SQL text. db_prepare hands out a cached statement that is not in use;
 * db_finalize on a cached statement only resets it and clears its bindings
 * (which also ends the implicit read transaction a half-stepped SELECT holds)
 * and gives it back. When the table is full the least recently used idle
 * entry is replaced; when every entry is in use (nesting deeper than the
 * table) the statement is prepared outside the cache and finalized as before.
 * Callers see no difference: the same prepare/step/finalize sequence, and a
 * schema change re-prepares a cached statement inside sqlite3_step.
 *
 * Generation (db_generation): PRAGMA data_version needs a read transaction,
 * with its file locks, and cohort-api asks once per request. In WAL mode
 * every commit, by any connection of any process, rewrites the WAL-index
 * header at the start of the "-shm" file that all of them map: its change
 * counter, last valid frame and salts (the format is fixed across SQLite
 * versions, since they share the file: https://www.sqlite.org/walformat.html,
 * "The WAL-Index Header"). So the handle reads that header from the
 * connection's own mapping of the WAL index (the VFS's xShmMap, region 0)
 * the way SQLite's readers do: both copies, the first then the second,
 * equal and initialized, else the PRAGMA.
 */
#include "core/db.h"
#include "core/err.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_BUSY_TIMEOUT_MS 5000
/* More than the distinct statements one request runs, fewer than all the
 * statements in the code base (about 45): the hot ones stay. */
#define DB_STMT_CACHE 32

struct db_stmt {
	struct db *db;
	sqlite3_stmt *s;
	uint32_t hash;    /* of the SQL text, cached entries only */
	bool cached;      /* an entry of db->cache: finalize gives it back */
	bool in_use;      /* handed out by db_prepare, not yet finalized */
	uint64_t last;    /* db->tick when last handed out, for LRU */
};

/* One copy of the WAL-index header (walformat.html); two lie at offset 0. */
struct walhdr {
	uint32_t version;
	uint32_t unused;
	uint32_t change;
	uint8_t init;
	uint8_t big_endian_cksum;
	uint16_t page_size;
	uint32_t max_frame;
	uint32_t npage;
	uint32_t frame_cksum[2];
	uint32_t salt[2];
	uint32_t cksum[2];
};
#define WALHDR_VERSION 3007000u
#define WAL_INDEX_REGION 32768 /* SQLite's region size for the WAL index */

struct db {
	sqlite3 *h;
	const volatile unsigned char *shm; /* SQLite's mapping of the WAL index; NULL: use the PRAGMA */
	struct db_stmt cache[DB_STMT_CACHE];
	size_t ncache;
	uint64_t tick;
	struct db_stats stats;
	char err[200];
};

static int record(struct db *db, const char *what, int rc)
{
	if ((rc & 0xff) != SQLITE_CONSTRAINT)
		db->stats.errors++;
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

/* Whether the handle has the database in WAL mode. Run outside the
 * statement cache (its counters describe the caller's statements). */
static bool in_wal_mode(struct db *db)
{
	sqlite3_stmt *st = NULL;
	bool wal = false;

	/* A read of the schema cookie opens the WAL and its index. */
	if (sqlite3_exec(db->h, "PRAGMA schema_version", NULL, NULL, NULL) != SQLITE_OK)
		return false;
	if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *m = sqlite3_column_text(st, 0);

		wal = m && !strcmp((const char *)m, "wal");
	}
	sqlite3_finalize(st);
	return wal;
}

/* The handle's own mapping of the WAL index (region 0, where the header
 * is), through the VFS's xShmMap, once the handle has the database open in
 * WAL mode. Not opening the "-shm" file here is the point: closing any
 * descriptor of a file drops every POSIX lock this process holds on it,
 * SQLite's included. The mapping is SQLite's and lives as long as the
 * connection's WAL, that is until db_close. Failing to get it is not an
 * error: db_generation then runs the PRAGMA. */
static void map_wal_header(struct db *db)
{
	sqlite3_file *f = NULL;
	volatile void *p = NULL;

	if (!in_wal_mode(db))
		return;
	if (sqlite3_file_control(db->h, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f ||
	    !f->pMethods || f->pMethods->iVersion < 2 || !f->pMethods->xShmMap)
		return;
	if (f->pMethods->xShmMap(f, 0, WAL_INDEX_REGION, 0, &p) == SQLITE_OK && p)
		db->shm = (const volatile unsigned char *)p;
}

/* The header as SQLite's readers take it: copy 0, then copy 1, equal. */
static bool wal_generation(const struct db *db, struct db_gen *out)
{
	struct walhdr h[2];

	memcpy(&h[0], (const void *)(uintptr_t)db->shm, sizeof(h[0]));
	atomic_thread_fence(memory_order_acquire);
	memcpy(&h[1], (const void *)(uintptr_t)(db->shm + sizeof(h[0])), sizeof(h[1]));
	if (memcmp(&h[0], &h[1], sizeof(h[0])) || !h[0].init || h[0].version != WALHDR_VERSION)
		return false;
	out->kind = DB_GEN_WAL;
	out->data_version = (int64_t)(((uint64_t)h[0].change << 32) | h[0].max_frame);
	out->changes = (int64_t)(((uint64_t)h[0].salt[0] << 32) | h[0].salt[1]);
	return true;
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
	if (!err)
		map_wal_header(db);
out:
	*out = db;
	return err;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	db->shm = NULL; /* SQLite's mapping, gone with the connection */
	for (size_t i = 0; i < db->ncache; i++)
		sqlite3_finalize(db->cache[i].s);
	sqlite3_close_v2(db->h);
	free(db);
}

int db_ping(struct db *db)
{
	struct db_stmt *st;
	int err;

	if (!db || !db->h)
		return COHORT_E_DB;
	err = db_prepare(db, "SELECT 1", &st);
	if (!err)
		err = db_step(st);
	db_finalize(st);
	return err == DB_ROW ? 0 : err ? err : COHORT_E_DB;
}

int db_generation(struct db *db, struct db_gen *out)
{
	struct db_stmt *st;
	int err;

	memset(out, 0, sizeof(*out));
	if (!db || !db->h)
		return COHORT_E_DB;
	if (db->shm && wal_generation(db, out))
		return 0;
	out->kind = DB_GEN_PRAGMA;
	err = db_prepare(db, "PRAGMA data_version", &st);
	if (!err)
		err = db_step(st);
	if (err == DB_ROW)
		out->data_version = db_col_int(st, 0);
	db_finalize(st);
	out->changes = (int64_t)sqlite3_total_changes64(db->h);
	return err == DB_ROW ? 0 : err ? err : COHORT_E_DB;
}

void db_get_stats(const struct db *db, struct db_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (db) {
		*out = db->stats;
		out->cached = db->ncache;
	}
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

/* FNV-1a: the SQL texts are short and few, any spread will do. */
static uint32_t sql_hash(const char *sql)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

/* An idle cache entry for sql, or NULL. sqlite3_sql() is the text the
 * statement was prepared from, so no copy of it is kept. */
static struct db_stmt *cache_find(struct db *db, const char *sql, uint32_t hash)
{
	for (size_t i = 0; i < db->ncache; i++) {
		struct db_stmt *c = &db->cache[i];

		if (!c->in_use && c->hash == hash && !strcmp(sqlite3_sql(c->s), sql))
			return c;
	}
	return NULL;
}

/* The entry a new statement goes to: a never used one, else the least
 * recently used idle one (finalized here), else NULL when all are in use. */
static struct db_stmt *cache_victim(struct db *db)
{
	struct db_stmt *v = NULL;

	if (db->ncache < DB_STMT_CACHE)
		return &db->cache[db->ncache++];
	for (size_t i = 0; i < db->ncache; i++) {
		struct db_stmt *c = &db->cache[i];

		if (!c->in_use && (!v || c->last < v->last))
			v = c;
	}
	if (v) {
		sqlite3_finalize(v->s);
		v->s = NULL;
		db->stats.evictions++;
	}
	return v;
}

int db_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	uint32_t hash = sql_hash(sql);
	sqlite3_stmt *s = NULL;
	struct db_stmt *st;
	int rc;

	*out = NULL;
	st = cache_find(db, sql, hash);
	if (st) {
		db->stats.hits++;
		goto out;
	}
	db->stats.misses++;
	rc = sqlite3_prepare_v2(db->h, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return record(db, "prepare", rc);
	if (!s) /* only a comment or white space: nothing to run */
		return record(db, "prepare", SQLITE_MISUSE);
	st = cache_victim(db);
	if (st) {
		st->cached = true;
		st->hash = hash;
	} else if (!(st = calloc(1, sizeof(*st)))) {
		sqlite3_finalize(s);
		return COHORT_E_NOMEM;
	}
	st->db = db;
	st->s = s;
out:
	st->in_use = true;
	st->last = ++db->tick;
	*out = st;
	return 0;
}

void db_finalize(struct db_stmt *st)
{
	if (!st)
		return;
	if (st->cached) {
		sqlite3_reset(st->s);
		sqlite3_clear_bindings(st->s);
		st->in_use = false;
		return;
	}
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

/* One statement without parameters or rows, through the statement cache:
 * transactions begin and end on every request, sqlite3_exec would parse
 * the text each time. */
static int exec_cached(struct db *db, const char *sql)
{
	struct db_stmt *st;
	int err = db_prepare(db, sql, &st);

	if (!err)
		err = db_step(st);
	db_finalize(st);
	return err == DB_ROW ? 0 : err;
}

int db_begin(struct db *db)
{
	return exec_cached(db, "BEGIN");
}

int db_begin_immediate(struct db *db)
{
	return exec_cached(db, "BEGIN IMMEDIATE");
}

int db_commit(struct db *db)
{
	return exec_cached(db, "COMMIT");
}

int db_rollback(struct db *db)
{
	return exec_cached(db, "ROLLBACK");
}

bool db_in_transaction(const struct db *db)
{
	return db && db->h && !sqlite3_get_autocommit(db->h);
}
