/*
 * migrate.h — schema migrations: numbered plain SQL files "NNNN_name.sql" in
 * sql/<driver>/, applied in order, each inside its own transaction, and
 * recorded in the table schema_migrations. The code knows which version it
 * was written for (MIGRATE_SCHEMA_VERSION); it refuses to touch a database
 * that is newer, and servers refuse to start on a database that is not
 * exactly at that version.
 */
#ifndef COHORT_MIGRATE_H
#define COHORT_MIGRATE_H

#include <stddef.h>

struct db;

/* The highest migration number this build knows; a test keeps it equal to
 * the newest file in sql/sqlite/. */
#define MIGRATE_SCHEMA_VERSION 1

/* Current version of the database (0 when never migrated). */
int migrate_current(struct db *db, int *version);

/* Applies every migration in dir above the current version. *from and *to
 * report the versions before and after. COHORT_E_CONFLICT when the
 * database is newer than this build; COHORT_E_IO when dir cannot be read or
 * has a gap; COHORT_E_DB when a migration fails (that migration is rolled
 * back; earlier ones stay). */
int migrate_apply(struct db *db, const char *dir, int *from, int *to, char *errbuf, size_t errlen);

/* 0 when the database is at MIGRATE_SCHEMA_VERSION, else an error with a
 * one-line explanation for the operator. */
int migrate_check(struct db *db, char *errbuf, size_t errlen);

#endif
