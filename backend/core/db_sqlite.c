#include "core/db.h"
#include "core/err.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

struct db {
	sqlite3 *h;
	char err[160];
};

static void record(struct db *db, const char *what)
{
	snprintf(db->err, sizeof(db->err), "%s: %s", what, db->h ? sqlite3_errmsg(db->h) : "no handle");
}

int db_open(const char *path, struct db **out)
{
	struct db *db = calloc(1, sizeof(*db));
	int err = 0;

	*out = NULL;
	if (!db)
		return COHORT_E_NOMEM;
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		record(db, "open");
		err = COHORT_E_DB;
		goto out;
	}
	sqlite3_busy_timeout(db->h, 5000);
	if (sqlite3_exec(db->h, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		record(db, "pragma");
		err = COHORT_E_DB;
	}
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
	if (sqlite3_exec(db->h, "SELECT 1", NULL, NULL, NULL) != SQLITE_OK) {
		record(db, "ping");
		return COHORT_E_DB;
	}
	return 0;
}

const char *db_version(void)
{
	static char v[48];

	if (!v[0])
		snprintf(v, sizeof(v), "sqlite %s", sqlite3_libversion());
	return v;
}

const char *db_last_error(const struct db *db)
{
	return db ? db->err : "no database";
}
