/*
 * Unit tests for core/lesson against a real SQLite database with the real
 * migrations: lessons are appended in order, updated field by field,
 * deleted without leaving gaps, and reordered only by a true permutation of
 * the course's lessons — a refused reorder changes nothing.
 */
#include "core/course.h"
#include "core/db.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/lesson.h"
#include "core/log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testdb.h"

struct fixture {
	struct testdb t;
	int64_t course, other_course;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int64_t uid;

	if (!f)
		return -1;
	testdb_open(&f->t);
	uid = testdb_user(f->t.db, "teacher", false);
	f->course = testdb_course(f->t.db, uid, "Course", NULL, NULL);
	f->other_course = testdb_course(f->t.db, uid, "Other", NULL, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	testdb_close(&f->t);
	free(f);
	return 0;
}

static int64_t make(struct db *db, int64_t course, const char *name)
{
	struct lesson l;
	int err = lesson_create(db, course, name, strlen(name), NULL, 0, &l);

	if (err)
		fail_msg("lesson_create %s: %s", name, cohort_strerror(err));
	return l.id;
}

struct order {
	size_t n;
	int64_t ids[16];
	int64_t pos[16];
};

static int collect(const struct lesson *l, void *arg)
{
	struct order *o = arg;

	assert_true(o->n < 16);
	o->ids[o->n] = l->id;
	o->pos[o->n] = l->position;
	o->n++;
	return 0;
}

/* The course's lessons in order, checking positions run 1..n. */
static struct order order_of(struct db *db, int64_t course)
{
	struct order o;

	memset(&o, 0, sizeof(o));
	assert_int_equal(lesson_list(db, course, collect, &o), 0);
	for (size_t i = 0; i < o.n; i++)
		if (o.pos[i] != (int64_t)i + 1)
			fail_msg("lesson %lld at position %lld, want %zu", (long long)o.ids[i], (long long)o.pos[i], i + 1);
	return o;
}

static void assert_order(struct db *db, int64_t course, const int64_t *want, size_t n)
{
	struct order o = order_of(db, course);

	assert_int_equal(o.n, n);
	for (size_t i = 0; i < n; i++)
		if (o.ids[i] != want[i])
			fail_msg("position %zu holds lesson %lld, want %lld", i + 1, (long long)o.ids[i], (long long)want[i]);
}

static void test_create_order(void **state)
{
	struct fixture *f = *state;
	struct db *db = f->t.db;
	const char desc[] = "Say hello.\n\tThen say it again.";
	struct lesson l, got;
	int64_t ids[3];

	assert_int_equal(lesson_create(db, f->course, "Hello, world", 12, desc, sizeof(desc) - 1, &l), 0);
	assert_int_equal(l.position, 1);
	assert_int_equal(l.course_id, f->course);
	assert_string_equal(l.name, "Hello, world");
	assert_string_equal(l.description, desc);
	assert_string_equal(l.template_ref, "");
	assert_true(l.created_at > 0);
	ids[0] = l.id;
	ids[1] = make(db, f->course, "Pointers");
	ids[2] = make(db, f->course, "Structs");
	assert_int_equal(lesson_get(db, ids[2], &got), 0);
	assert_int_equal(got.position, 3);
	assert_string_equal(got.description, "");
	assert_order(db, f->course, ids, 3);
	/* Another course numbers its own lessons from 1. */
	assert_int_equal(lesson_create(db, f->other_course, "First", 5, NULL, 0, &l), 0);
	assert_int_equal(l.position, 1);
}

static void test_create_bad(void **state)
{
	struct fixture *f = *state;
	struct db *db = f->t.db;
	char big[DESCRIPTION_MAX_BYTES + 1];
	struct lesson l;

	memset(big, 'd', sizeof(big));
	assert_int_equal(lesson_create(db, f->course, "", 0, NULL, 0, &l), COHORT_E_FIELD);
	assert_int_equal(lesson_create(db, f->course, "a\nb", 3, NULL, 0, &l), COHORT_E_FIELD);
	assert_int_equal(lesson_create(db, f->course, "ok", 2, "\x01", 1, &l), COHORT_E_FIELD);
	assert_int_equal(lesson_create(db, f->course, "ok", 2, big, sizeof(big), &l), COHORT_E_FIELD);
	assert_int_equal(lesson_create(db, f->course, big, NAME_MAX_BYTES + 1, NULL, 0, &l), COHORT_E_FIELD);
	/* A course that does not exist: refused by the foreign key. */
	assert_true(lesson_create(db, f->course + 1000, "ok", 2, NULL, 0, &l) < 0);
	assert_int_equal(testdb_int(db, "SELECT COUNT(*) FROM lessons"), 0);
	/* Not left inside a transaction. */
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_rollback(db), 0);
}

static void test_create_limit(void **state)
{
	struct fixture *f = *state;
	struct db *db = f->t.db;
	struct db_stmt *st = NULL;
	struct lesson l;

	/* Fill to one below the limit directly, then let the API take the last place. */
	assert_int_equal(db_prepare(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)"
					" INSERT INTO lessons (course_id, name, position, created_at)"
					" SELECT ?1, 'L' || i, i, 0 FROM n", &st), 0);
	db_bind_int(st, 1, f->course);
	db_bind_int(st, 2, LESSONS_MAX - 1);
	assert_int_equal(db_step(st), DB_DONE);
	db_finalize(st);
	assert_int_equal(lesson_create(db, f->course, "Last", 4, NULL, 0, &l), 0);
	assert_int_equal(l.position, LESSONS_MAX);
	assert_int_equal(lesson_create(db, f->course, "One too many", 12, NULL, 0, &l), COHORT_E_LIMIT);
	assert_int_equal(testdb_int(db, "SELECT COUNT(*) FROM lessons"), LESSONS_MAX);
	/* Other courses are not affected by this course's limit. */
	assert_int_equal(lesson_create(db, f->other_course, "Fine", 4, NULL, 0, &l), 0);
}

static void test_update(void **state)
{
	struct fixture *f = *state;
	struct db *db = f->t.db;
	int64_t a = make(db, f->course, "A"), b = make(db, f->course, "B");
	struct lesson l;

	assert_int_equal(lesson_update(db, b, "Bee", 3, NULL, 0, &l), 0);
	assert_string_equal(l.name, "Bee");
	assert_string_equal(l.description, "");
	assert_int_equal(l.position, 2);
	assert_int_equal(lesson_update(db, b, NULL, 0, "About bees", 10, &l), 0);
	assert_string_equal(l.name, "Bee");
	assert_string_equal(l.description, "About bees");
	assert_int_equal(lesson_update(db, b, "B2", 2, "", 0, &l), 0);
	assert_string_equal(l.name, "B2");
	assert_string_equal(l.description, "");
	assert_int_equal(lesson_update(db, b, NULL, 0, NULL, 0, &l), 0);
	assert_string_equal(l.name, "B2");

	assert_int_equal(lesson_update(db, b, "", 0, NULL, 0, &l), COHORT_E_FIELD);
	assert_int_equal(lesson_update(db, b, " B", 2, NULL, 0, &l), COHORT_E_FIELD);
	assert_int_equal(lesson_update(db, b, NULL, 0, "\x7f", 1, &l), COHORT_E_FIELD);
	assert_int_equal(lesson_update(db, b + 100, "X", 1, NULL, 0, &l), COHORT_E_NOTFOUND);
	assert_int_equal(lesson_get(db, b, &l), 0);
	assert_string_equal(l.name, "B2");
	assert_int_equal(lesson_get(db, a, &l), 0);
	assert_string_equal(l.name, "A");
}

static void test_delete_closes_gaps(void **state)
{
	struct fixture *f = *state;
	struct db *db = f->t.db;
	int64_t ids[4], other;
	struct lesson l;

	for (int i = 0; i < 4; i++)
		ids[i] = make(db, f->course, (const char *[]){ "A", "B", "C", "D" }[i]);
	other = make(db, f->other_course, "Other");

	assert_int_equal(lesson_delete(db, ids[1]), 0);
	assert_int_equal(lesson_get(db, ids[1], &l), COHORT_E_NOTFOUND);
	{
		const int64_t want[] = { ids[0], ids[2], ids[3] };

		assert_order(db, f->course, want, 3);
	}
	assert_int_equal(lesson_delete(db, ids[3]), 0); /* the last */
	assert_int_equal(lesson_delete(db, ids[0]), 0); /* the first */
	assert_order(db, f->course, &ids[2], 1);
	assert_int_equal(lesson_delete(db, ids[0]), COHORT_E_NOTFOUND);
	assert_int_equal(lesson_get(db, other, &l), 0);
	assert_int_equal(l.position, 1);
	/* Appending after deletes continues from the new end. */
	assert_int_equal(lesson_create(db, f->course, "E", 1, NULL, 0, &l), 0);
	assert_int_equal(l.position, 2);
}

static void test_reorder_permutation(void **state)
{
	struct fixture *f = *state;
	struct db *db = f->t.db;
	int64_t ids[4];

	for (int i = 0; i < 4; i++)
		ids[i] = make(db, f->course, (const char *[]){ "A", "B", "C", "D" }[i]);
	{
		const int64_t want[] = { ids[3], ids[1], ids[0], ids[2] };

		assert_int_equal(lesson_reorder(db, f->course, want, 4), 0);
		assert_order(db, f->course, want, 4);
	}
	{
		const int64_t want[] = { ids[0], ids[1], ids[2], ids[3] };

		assert_int_equal(lesson_reorder(db, f->course, want, 4), 0);
		assert_order(db, f->course, want, 4);
		/* The same order again is fine. */
		assert_int_equal(lesson_reorder(db, f->course, want, 4), 0);
		assert_order(db, f->course, want, 4);
	}
	/* A course without lessons: the empty list is its only permutation. */
	assert_int_equal(lesson_reorder(db, f->other_course, NULL, 0), 0);
}

static void test_reorder_refused(void **state)
{
	struct fixture *f = *state;
	struct db *db = f->t.db;
	int64_t a, b, c, foreign;
	int64_t many[LESSONS_MAX + 1];

	a = make(db, f->course, "A");
	b = make(db, f->course, "B");
	c = make(db, f->course, "C");
	foreign = make(db, f->other_course, "Foreign");
	{
		const int64_t start[] = { c, a, b };

		assert_int_equal(lesson_reorder(db, f->course, start, 3), 0);
	}
	for (size_t i = 0; i < LESSONS_MAX + 1; i++)
		many[i] = a;
	{
		const struct {
			const char *what;
			int64_t ids[4];
			size_t n;
		} rows[] = {
			{ "one missing", { a, b }, 2 },
			{ "none", { 0 }, 0 },
			{ "duplicate instead of one", { a, a, b }, 3 },
			{ "duplicate added", { a, b, c, c }, 4 },
			{ "foreign lesson instead of one", { a, b, foreign }, 3 },
			{ "foreign lesson added", { a, b, c, foreign }, 4 },
			{ "unknown id", { a, b, 99999 }, 3 },
			{ "zero id", { a, b, 0 }, 3 },
			{ "negative id", { a, -1, c }, 3 },
		};
		const int64_t unchanged[] = { c, a, b };

		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			int err = lesson_reorder(db, f->course, rows[i].ids, rows[i].n);

			if (err != COHORT_E_FIELD)
				fail_msg("%s: err %d, want invalid_field", rows[i].what, err);
			assert_order(db, f->course, unchanged, 3);
		}
		assert_int_equal(lesson_reorder(db, f->course, many, LESSONS_MAX + 1), COHORT_E_FIELD);
		assert_order(db, f->course, unchanged, 3);
	}
	/* The other course is untouched by a reorder that named its lesson. */
	assert_order(db, f->other_course, &foreign, 1);
	/* Reordering a course with another course's complete list. */
	assert_int_equal(lesson_reorder(db, f->other_course, &a, 1), COHORT_E_FIELD);
	assert_order(db, f->other_course, &foreign, 1);
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_rollback(db), 0);
}

static int stop_at_two(const struct lesson *l, void *arg)
{
	int *n = arg;

	(void)l;
	return ++*n == 2 ? 9 : 0;
}

static void test_get_and_list(void **state)
{
	struct fixture *f = *state;
	struct db *db = f->t.db;
	struct lesson l;
	int n = 0;

	assert_int_equal(lesson_get(db, 1, &l), COHORT_E_NOTFOUND);
	make(db, f->course, "A");
	make(db, f->course, "B");
	make(db, f->course, "C");
	assert_int_equal(lesson_list(db, f->course, stop_at_two, &n), 9);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(lesson_list(db, f->course + 100, stop_at_two, &n), 0);
	assert_int_equal(n, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_order),
		T(test_create_bad),
		T(test_create_limit),
		T(test_update),
		T(test_delete_closes_gaps),
		T(test_reorder_permutation),
		T(test_reorder_refused),
		T(test_get_and_list),
	};

	log_init("test", "error");
	if (ids_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
