#include "core/migrate.h"
#include "core/db.h"
#include "core/err.h"
#include "core/log.h"
#include "core/num.h"
#include "core/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATE_MAX_FILES 1000
#define MIGRATE_MAX_FILE_SIZE (4 << 20)

static const char create_table[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" applied_at INTEGER NOT NULL)";

struct mfile {
	int version;
	char name[256];
};

int migrate_current(struct db *db, int *version)
{
	struct db_stmt *st = NULL;
	int err, rc;

	*version = 0;
	err = db_exec(db, create_table);
	if (err)
		return err;
	err = db_prepare(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &st);
	if (err)
		return err;
	rc = db_step(st);
	if (rc == DB_ROW)
		*version = (int)db_col_int(st, 0);
	else if (rc < 0)
		err = rc;
	db_finalize(st);
	return err;
}

static int cmp_mfile(const void *a, const void *b)
{
	return ((const struct mfile *)a)->version - ((const struct mfile *)b)->version;
}

/* "NNNN_name.sql" → version NNNN; anything else is not a migration. */
static int file_version(const char *name)
{
	size_t n = strlen(name);
	uint64_t v;

	if (n < 10 || name[4] != '_' || strcmp(name + n - 4, ".sql"))
		return -1;
	if (parse_u64n(name, 4, &v) || v == 0)
		return -1;
	return (int)v;
}

static int list_files(const char *dir, struct mfile **out, size_t *count, char *errbuf, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct mfile *files = NULL;
	size_t n = 0;

	*out = NULL;
	*count = 0;
	if (!d) {
		snprintf(errbuf, errlen, "cannot read %s: %s", dir, strerror(errno));
		return COHORT_E_IO;
	}
	files = calloc(MIGRATE_MAX_FILES, sizeof(*files));
	if (!files) {
		closedir(d);
		return COHORT_E_NOMEM;
	}
	while ((de = readdir(d)) && n < MIGRATE_MAX_FILES) {
		int v = file_version(de->d_name);

		if (v < 0 || strlen(de->d_name) >= sizeof(files[n].name))
			continue;
		files[n].version = v;
		memcpy(files[n].name, de->d_name, strlen(de->d_name) + 1);
		n++;
	}
	closedir(d);
	qsort(files, n, sizeof(*files), cmp_mfile);
	for (size_t i = 0; i < n; i++) {
		if (files[i].version != (int)i + 1) {
			snprintf(errbuf, errlen, "%s: migrations must be numbered 1, 2, 3… without gaps or duplicates (found %s)",
				 dir, files[i].name);
			free(files);
			return COHORT_E_IO;
		}
	}
	*out = files;
	*count = n;
	return 0;
}

static int read_file(const char *path, struct strbuf *sb)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;
	int err = 0;

	if (!f)
		return COHORT_E_IO;
	while (!err && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		err = strbuf_add(sb, buf, n);
	if (ferror(f))
		err = COHORT_E_IO;
	fclose(f);
	return err;
}

static int apply_one(struct db *db, const char *dir, const struct mfile *m, char *errbuf, size_t errlen)
{
	struct strbuf sql = STRBUF_INIT;
	struct strbuf path = STRBUF_INIT;
	struct db_stmt *st = NULL;
	int err;

	strbuf_init(&sql, MIGRATE_MAX_FILE_SIZE);
	err = strbuf_addf(&path, "%s/%s", dir, m->name);
	err = err ? err : read_file(path.buf, &sql);
	if (err) {
		snprintf(errbuf, errlen, "cannot read %s", path.buf ? path.buf : m->name);
		goto out;
	}
	err = db_begin_immediate(db);
	if (err)
		goto out;
	err = db_exec(db, sql.buf);
	if (!err)
		err = db_prepare(db, "INSERT INTO schema_migrations (version, name, applied_at)"
				     " VALUES (?1, ?2, CAST(strftime('%s','now') AS INTEGER))", &st);
	if (!err) {
		db_bind_int(st, 1, m->version);
		db_bind_str(st, 2, m->name);
		err = db_step(st) == DB_DONE ? 0 : COHORT_E_DB;
	}
	if (!err)
		err = db_commit(db);
	if (err) {
		snprintf(errbuf, errlen, "migration %s failed: %s", m->name, db_last_error(db));
		db_rollback(db);
	}
out:
	db_finalize(st);
	strbuf_release(&sql);
	strbuf_release(&path);
	return err;
}

int migrate_apply(struct db *db, const char *dir, int *from, int *to, char *errbuf, size_t errlen)
{
	struct mfile *files = NULL;
	size_t n = 0;
	int cur, err;

	err = migrate_current(db, &cur);
	if (err) {
		snprintf(errbuf, errlen, "cannot read schema version: %s", db_last_error(db));
		return err;
	}
	*from = *to = cur;
	if (cur > MIGRATE_SCHEMA_VERSION) {
		snprintf(errbuf, errlen, "the database is at schema version %d, newer than this build (%d); refusing to touch it",
			 cur, MIGRATE_SCHEMA_VERSION);
		return COHORT_E_CONFLICT;
	}
	err = list_files(dir, &files, &n, errbuf, errlen);
	if (err)
		return err;
	if ((int)n != MIGRATE_SCHEMA_VERSION) {
		snprintf(errbuf, errlen, "%s has %zu migrations but this build expects %d", dir, n,
			 MIGRATE_SCHEMA_VERSION);
		err = COHORT_E_IO;
		goto out;
	}
	for (size_t i = (size_t)cur; i < n; i++) {
		err = apply_one(db, dir, &files[i], errbuf, errlen);
		if (err)
			break;
		*to = files[i].version;
		log_info("migration_applied", LF_I("version", files[i].version), LF_S("name", files[i].name));
	}
out:
	free(files);
	return err;
}

int migrate_check(struct db *db, char *errbuf, size_t errlen)
{
	int cur, err = migrate_current(db, &cur);

	if (err) {
		snprintf(errbuf, errlen, "cannot read schema version: %s", db_last_error(db));
		return err;
	}
	if (cur > MIGRATE_SCHEMA_VERSION) {
		snprintf(errbuf, errlen, "database schema %d is newer than this build (%d)", cur, MIGRATE_SCHEMA_VERSION);
		return COHORT_E_CONFLICT;
	}
	if (cur < MIGRATE_SCHEMA_VERSION) {
		snprintf(errbuf, errlen, "database schema %d is older than this build (%d): run `cohort migrate`", cur,
			 MIGRATE_SCHEMA_VERSION);
		return COHORT_E_CONFLICT;
	}
	return 0;
}
