/*
 * lesson.h — the lessons of a course, kept in a teacher-defined order
 * (positions 1..n without gaps; reordering rewrites them in one transaction).
 */
#ifndef COHORT_LESSON_H
#define COHORT_LESSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/text.h"

struct db;

#define LESSONS_MAX 500
#define TEMPLATE_REF_MAX 256

struct lesson {
	int64_t id;
	int64_t course_id;
	char name[NAME_MAX_BYTES + 1];
	char description[DESCRIPTION_MAX_BYTES + 1];
	char template_ref[TEMPLATE_REF_MAX + 1]; /* "" when none */
	int64_t position;
	int64_t created_at;
};

/* Appends a lesson at the end. COHORT_E_LIMIT beyond LESSONS_MAX. */
int lesson_create(struct db *db, int64_t course_id, const char *name, size_t name_len, const char *desc,
		  size_t desc_len, struct lesson *out);
int lesson_get(struct db *db, int64_t id, struct lesson *out);
/* NULL leaves a field unchanged. */
int lesson_update(struct db *db, int64_t id, const char *name, size_t name_len, const char *desc,
		  size_t desc_len, struct lesson *out);
/* Deletes and closes the gap in positions. */
int lesson_delete(struct db *db, int64_t id);
/* ids must be exactly the course's lessons, in their new order
 * (COHORT_E_FIELD otherwise). */
int lesson_reorder(struct db *db, int64_t course_id, const int64_t *ids, size_t n);
/* Sets the lesson's template_ref (ref NULL or "": none) in one transaction
 * and returns the ref it replaced in old ("" when there was none), so the
 * caller can delete exactly the object it replaced even when two uploads
 * race. COHORT_E_NOTFOUND for a missing lesson, COHORT_E_FIELD for a ref
 * longer than TEMPLATE_REF_MAX. */
int lesson_set_template(struct db *db, int64_t id, const char *ref, char old[TEMPLATE_REF_MAX + 1]);
int lesson_list(struct db *db, int64_t course_id, int (*fn)(const struct lesson *l, void *arg), void *arg);

#endif
