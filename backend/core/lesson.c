#include "core/lesson.h"
#include "core/db.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LESSON_COLS "id, course_id, name, description, COALESCE(template_ref, ''), position, created_at"

static void read_lesson(struct db_stmt *st, struct lesson *l)
{
	l->id = db_col_int(st, 0);
	l->course_id = db_col_int(st, 1);
	db_col_copy(st, 2, l->name, sizeof(l->name));
	db_col_copy(st, 3, l->description, sizeof(l->description));
	db_col_copy(st, 4, l->template_ref, sizeof(l->template_ref));
	l->position = db_col_int(st, 5);
	l->created_at = db_col_int(st, 6);
}

static int count_lessons(struct db *db, int64_t course_id, int64_t *n)
{
	struct db_stmt *st = NULL;
	int err = db_prepare(db, "SELECT COUNT(*) FROM lessons WHERE course_id = ?1", &st);

	if (err)
		return err;
	db_bind_int(st, 1, course_id);
	err = db_step(st) == DB_ROW ? 0 : COHORT_E_DB;
	*n = err ? 0 : db_col_int(st, 0);
	db_finalize(st);
	return err;
}

int lesson_create(struct db *db, int64_t course_id, const char *name, size_t name_len, const char *desc,
		  size_t desc_len, struct lesson *out)
{
	struct db_stmt *st = NULL;
	int64_t n;
	int err, rc;

	if (!text_name_ok(name, name_len, NAME_MAX_BYTES) ||
	    (desc && !text_body_ok(desc, desc_len, DESCRIPTION_MAX_BYTES)))
		return COHORT_E_FIELD;
	err = db_begin_immediate(db);
	if (err)
		return err;
	err = count_lessons(db, course_id, &n);
	if (!err && n >= LESSONS_MAX)
		err = COHORT_E_LIMIT;
	if (!err)
		err = db_prepare(db, "INSERT INTO lessons (course_id, name, description, position, created_at)"
				     " VALUES (?1, ?2, ?3, ?4, ?5) RETURNING " LESSON_COLS, &st);
	if (!err) {
		db_bind_int(st, 1, course_id);
		db_bind_text(st, 2, name, name_len);
		db_bind_text(st, 3, desc ? desc : "", desc ? desc_len : 0);
		db_bind_int(st, 4, n + 1);
		db_bind_int(st, 5, (int64_t)time(NULL));
		rc = db_step(st);
		if (rc == DB_ROW)
			read_lesson(st, out);
		else
			err = rc < 0 ? rc : COHORT_E_DB;
		/* RETURNING rows must be fully stepped before COMMIT. */
		if (!err)
			db_step(st);
	}
	db_finalize(st);
	if (!err)
		err = db_commit(db);
	if (err)
		db_rollback(db);
	return err;
}

int lesson_get(struct db *db, int64_t id, struct lesson *out)
{
	struct db_stmt *st = NULL;
	int err = db_prepare(db, "SELECT " LESSON_COLS " FROM lessons WHERE id = ?1", &st), rc;

	if (err)
		return err;
	db_bind_int(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW)
		read_lesson(st, out);
	db_finalize(st);
	return rc == DB_ROW ? 0 : rc < 0 ? rc : COHORT_E_NOTFOUND;
}

int lesson_update(struct db *db, int64_t id, const char *name, size_t name_len, const char *desc,
		  size_t desc_len, struct lesson *out)
{
	struct db_stmt *st = NULL;
	int err, rc;

	if ((name && !text_name_ok(name, name_len, NAME_MAX_BYTES)) ||
	    (desc && !text_body_ok(desc, desc_len, DESCRIPTION_MAX_BYTES)))
		return COHORT_E_FIELD;
	err = db_prepare(db, "UPDATE lessons SET name = COALESCE(?2, name), description = COALESCE(?3, description)"
			     " WHERE id = ?1", &st);
	if (err)
		return err;
	db_bind_int(st, 1, id);
	if (name)
		db_bind_text(st, 2, name, name_len);
	if (desc)
		db_bind_text(st, 3, desc, desc_len);
	rc = db_step(st);
	db_finalize(st);
	if (rc < 0)
		return rc;
	if (db_changes(db) == 0)
		return COHORT_E_NOTFOUND;
	return lesson_get(db, id, out);
}

static int exec_bound(struct db *db, const char *sql, int64_t a, int64_t b)
{
	struct db_stmt *st = NULL;
	int err = db_prepare(db, sql, &st), rc;

	if (err)
		return err;
	db_bind_int(st, 1, a);
	db_bind_int(st, 2, b);
	rc = db_step(st);
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

int lesson_delete(struct db *db, int64_t id)
{
	struct lesson l;
	int err = db_begin_immediate(db);

	if (err)
		return err;
	err = lesson_get(db, id, &l);
	if (!err)
		err = exec_bound(db, "DELETE FROM lessons WHERE id = ?1 AND ?2 = ?2", id, 0);
	if (!err)
		err = exec_bound(db, "UPDATE lessons SET position = position - 1 WHERE course_id = ?1 AND position > ?2",
				 l.course_id, l.position);
	if (!err)
		err = db_commit(db);
	if (err)
		db_rollback(db);
	return err;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int lesson_reorder(struct db *db, int64_t course_id, const int64_t *ids, size_t n)
{
	struct db_stmt *st = NULL;
	int64_t *sorted = NULL, count = 0;
	int err, rc;
	size_t i = 0;

	if (n > LESSONS_MAX)
		return COHORT_E_FIELD;
	err = db_begin_immediate(db);
	if (err)
		return err;
	/* The request must name every lesson of the course exactly once. */
	err = count_lessons(db, course_id, &count);
	if (!err && (size_t)count != n)
		err = COHORT_E_FIELD;
	if (!err && n) {
		sorted = malloc(n * sizeof(*sorted));
		if (!sorted)
			err = COHORT_E_NOMEM;
	}
	if (!err && n) {
		memcpy(sorted, ids, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), cmp_i64);
		for (i = 1; i < n; i++)
			if (sorted[i] == sorted[i - 1])
				err = COHORT_E_FIELD;
	}
	if (!err)
		err = db_prepare(db, "UPDATE lessons SET position = ?3 WHERE id = ?1 AND course_id = ?2", &st);
	for (i = 0; !err && i < n; i++) {
		db_reset(st);
		db_bind_int(st, 1, ids[i]);
		db_bind_int(st, 2, course_id);
		db_bind_int(st, 3, (int64_t)i + 1);
		rc = db_step(st);
		if (rc < 0)
			err = rc;
		else if (db_changes(db) != 1)
			err = COHORT_E_FIELD; /* not a lesson of this course */
	}
	db_finalize(st);
	free(sorted);
	if (!err)
		err = db_commit(db);
	if (err)
		db_rollback(db);
	return err;
}

int lesson_list(struct db *db, int64_t course_id, int (*fn)(const struct lesson *l, void *arg), void *arg)
{
	struct db_stmt *st = NULL;
	int err = db_prepare(db, "SELECT " LESSON_COLS " FROM lessons WHERE course_id = ?1 ORDER BY position", &st);
	int rc;

	if (err)
		return err;
	db_bind_int(st, 1, course_id);
	while ((rc = db_step(st)) == DB_ROW) {
		struct lesson l;

		read_lesson(st, &l);
		err = fn(&l, arg);
		if (err)
			break;
	}
	if (!err && rc < 0)
		err = rc;
	db_finalize(st);
	return err;
}

int lesson_set_template(struct db *db, int64_t id, const char *ref, char old[TEMPLATE_REF_MAX + 1])
{
	struct db_stmt *st = NULL;
	struct lesson l;
	int err, rc;

	old[0] = '\0';
	if (ref && strlen(ref) > TEMPLATE_REF_MAX)
		return COHORT_E_FIELD;
	err = db_begin_immediate(db);
	if (err)
		return err;
	err = lesson_get(db, id, &l);
	if (!err)
		err = db_prepare(db, "UPDATE lessons SET template_ref = ?2 WHERE id = ?1", &st);
	if (!err) {
		db_bind_int(st, 1, id);
		db_bind_str(st, 2, ref && *ref ? ref : NULL);
		rc = db_step(st);
		if (rc < 0)
			err = rc;
	}
	db_finalize(st);
	if (!err)
		err = db_commit(db);
	if (err) {
		db_rollback(db);
		return err;
	}
	memcpy(old, l.template_ref, sizeof(l.template_ref));
	return 0;
}
