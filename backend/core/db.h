/*
 * db.h — the SQL interface (SQLite now; the shape leaves room for a
 * PostgreSQL driver behind the same calls). This first cut opens the
 * database and answers health checks; prepared statements, transactions and
 * migrations arrive with the people-and-permissions issue.
 */
#ifndef COHORT_DB_H
#define COHORT_DB_H

struct db;

/* Opens (creating if needed) the database; WAL, busy timeout, foreign keys on. */
int db_open(const char *path, struct db **out);
void db_close(struct db *db);
/* Runs a trivial query; 0 when the database answers. */
int db_ping(struct db *db);
/* Driver name and library version, e.g. "sqlite 3.40.1". */
const char *db_version(void);
const char *db_last_error(const struct db *db);

#endif
