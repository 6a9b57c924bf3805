/*
 * template.h — lesson templates: an archive a teacher stores for a lesson,
 * copied into each participant's project the first time they open it.
 *
 * Storage: the archive's bytes, as uploaded, are an object in the object
 * store (core/objects.h) under a fresh key per upload,
 *   templates/lesson-<lesson id>-<sha256 prefix>-<random>.<ext>
 * (ext from the bytes: zip, tar, tar.gz, tar.xz, tar.bz2, tar.zst, archive),
 * and its summary next to it under the same key plus ".json". The lesson's
 * template_ref column names the archive's key. A new upload never overwrites
 * an object a project may be importing from: it writes new keys, switches
 * template_ref in one transaction, then deletes the objects it replaced.
 *
 * Validation: template_store runs arch_read (core/archive.h) with the
 * template limits before anything is stored; a refused archive stores
 * nothing and changes nothing, and the error is arch_read's.
 *
 * First access (template_apply): when the lesson has a template and the
 * project was never imported into and is still empty, the archive is read
 * again and imported with workspace_import under the tag
 * "lesson:<id>@<ref>" — at most once per project, whatever the races.
 * A project that was imported into (or already has entries) is never
 * touched again: a template that changes later only reaches new projects.
 *
 * Blocking (SQL, Redis, files, libarchive): never call on an event loop.
 */
#ifndef COHORT_TEMPLATE_H
#define COHORT_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/archive.h"
#include "core/lesson.h"
#include "core/workspace.h"

struct cohort_config;
struct db;
struct objects;

#define TEMPLATE_FORMAT_MAX 15

struct template_limits {
	struct arch_limits arch; /* templates.max_entries / max_file / max_total / max_ratio */
	uint64_t max_archive;    /* templates.max_upload: the archive's own bytes */
};

/* The summary kept with a stored template. */
struct template_info {
	char ref[TEMPLATE_REF_MAX + 1];
	char format[TEMPLATE_FORMAT_MAX + 1]; /* the ext above */
	char sha256[65];                      /* of the archive's bytes, hex */
	uint64_t size;                        /* archive bytes */
	uint64_t entries;                     /* files + directories (implicit parents included) */
	uint64_t files;
	uint64_t bytes;                       /* uncompressed file bytes */
	int64_t uploaded_at;                  /* Unix time */
};

/* What template_apply did. */
struct template_applied {
	char ref[TEMPLATE_REF_MAX + 1]; /* the template imported ("" when none) */
	bool imported;                  /* this call imported it */
	size_t entries;                 /* entries it wrote */
};

void template_limits_from_config(const struct cohort_config *cfg, struct template_limits *out);

/* "application/zip" etc. for a format (application/octet-stream otherwise). */
const char *template_content_type(const char *format);

/* Validates data (arch_read with lim) and stores it as the lesson's template,
 * replacing (and then deleting) the previous one. Errors: arch_read's
 * (MEDIATYPE, FIELD, LIMIT) with err naming the entry, COHORT_E_LIMIT when
 * len exceeds lim->max_archive, NOTFOUND for a missing lesson, or the
 * store's and the database's; on any error nothing is stored. */
int template_store(struct db *db, struct objects *o, int64_t lesson_id, const void *data, size_t len,
		   const struct template_limits *lim, struct template_info *out, char *err, size_t errlen);

/* The summary of the stored template ref (NOTFOUND when it is gone). */
int template_info_get(struct objects *o, const char *ref, struct template_info *out);

/* Clears the lesson's template and deletes its objects; NOTFOUND when the
 * lesson had none. Existing projects keep their files. */
int template_remove(struct db *db, struct objects *o, int64_t lesson_id);

/* Deletes a template's objects (archive and summary) by ref, for a lesson
 * that is gone; missing objects are fine, other failures are logged. */
void template_drop(struct objects *o, const char *ref);

/* The first-access import described above, into ws (the project of
 * lesson_id). The object store objects_url is opened only when there is
 * something to import. A stored template that no longer passes lim, or
 * that would not fit the project's limits, is logged and skipped (the
 * project stays empty and a later access tries again); err gets why.
 * Errors are the database's, Redis's and the store's. */
int template_apply(struct db *db, const char *objects_url, struct workspace *ws, int64_t lesson_id,
		   const struct template_limits *lim, struct template_applied *out, char *err,
		   size_t errlen);

#endif
