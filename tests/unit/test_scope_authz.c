/*
 * Unit tests for scope_authorize: who may follow project, lesson and
 * personal streams, against a real SQLite database with the migrations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testdb.h"
#include "core/lesson.h"
#include "core/principal.h"
#include "core/project.h"
#include "core/scope.h"

struct world {
	struct testdb t;
	struct principal admin, teacher, alice, bob, outsider, anon;
	int64_t lesson, other_lesson, alice_project, bob_project, teacher_project;
};

static void who(struct principal *p, int64_t id, bool admin)
{
	memset(p, 0, sizeof(*p));
	p->user_id = id;
	p->is_admin = admin;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct participant teacher;
	struct lesson l;
	struct project pr;
	char code[JOIN_CODE_LEN + 1], code2[JOIN_CODE_LEN + 1];
	int64_t course, course2, pa, pb, u;
	struct db *db;

	if (!w)
		return -1;
	testdb_open(&w->t);
	db = w->t.db;
	who(&w->admin, testdb_user(db, "root", true), true);
	u = testdb_user(db, "teach", false);
	who(&w->teacher, u, false);
	who(&w->alice, testdb_user(db, "alice", false), false);
	who(&w->bob, testdb_user(db, "bob", false), false);
	who(&w->outsider, testdb_user(db, "eve", false), false);
	who(&w->anon, 0, false);
	course = testdb_course(db, u, "Course", &teacher, code);
	course2 = testdb_course(db, w->outsider.user_id, "Other", NULL, code2);
	pa = testdb_join(db, w->alice.user_id, code, "alice");
	pb = testdb_join(db, w->bob.user_id, code, "bob");
	assert_int_equal(lesson_create(db, course, "L1", 2, "", 0, &l), 0);
	w->lesson = l.id;
	assert_int_equal(lesson_create(db, course2, "L2", 2, "", 0, &l), 0);
	w->other_lesson = l.id;
	assert_int_equal(project_ensure(db, w->lesson, pa, &pr), 0);
	w->alice_project = pr.id;
	assert_int_equal(project_ensure(db, w->lesson, pb, &pr), 0);
	w->bob_project = pr.id;
	assert_int_equal(project_ensure(db, w->lesson, teacher.id, &pr), 0);
	w->teacher_project = pr.id;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	testdb_close(&w->t);
	free(w);
	return 0;
}

static int check(struct world *w, const struct principal *p, const char *kind, int64_t id)
{
	char name[64];
	struct scope sc;
	int n = snprintf(name, sizeof(name), "%s:%lld", kind, (long long)id);

	assert_true(n > 0 && (size_t)n < sizeof(name));
	assert_int_equal(scope_parse(name, (size_t)n, NULL, &sc), 0);
	return scope_authorize(w->t.db, p, &sc);
}

static void test_dev_is_anyones(void **state)
{
	static const struct scope_policy on = { .dev_enabled = true };
	struct world *w = *state;
	struct scope sc;

	assert_int_equal(scope_parse("dev:x", 5, &on, &sc), 0);
	assert_false(scope_needs_db(&sc));
	assert_int_equal(scope_authorize(NULL, &w->anon, &sc), 0);
	assert_int_equal(scope_authorize(NULL, NULL, &sc), 0);
	assert_int_equal(scope_authorize(w->t.db, &w->alice, &sc), 0);
}

static void test_anonymous_needs_auth(void **state)
{
	struct world *w = *state;

	assert_int_equal(check(w, &w->anon, "project", w->alice_project), COHORT_E_AUTH);
	assert_int_equal(check(w, &w->anon, "lesson", w->lesson), COHORT_E_AUTH);
	assert_int_equal(check(w, &w->anon, "user", 1), COHORT_E_AUTH);
	/* Even for things that do not exist: nothing is revealed before sign-in. */
	assert_int_equal(check(w, &w->anon, "project", 999999), COHORT_E_AUTH);
}

static void test_project(void **state)
{
	struct world *w = *state;
	struct project p;
	struct grant_change chg;
	struct participant bob;
	struct grant_bits rd = { true, false };

	assert_int_equal(check(w, &w->alice, "project", w->alice_project), 0);
	assert_int_equal(check(w, &w->bob, "project", w->alice_project), COHORT_E_FORBIDDEN);
	assert_int_equal(check(w, &w->outsider, "project", w->alice_project), COHORT_E_FORBIDDEN);
	assert_int_equal(check(w, &w->teacher, "project", w->alice_project), 0);
	assert_int_equal(check(w, &w->admin, "project", w->alice_project), 0);
	/* Students read the teacher's project by default. */
	assert_int_equal(check(w, &w->alice, "project", w->teacher_project), 0);
	assert_int_equal(check(w, &w->outsider, "project", w->teacher_project), COHORT_E_FORBIDDEN);
	/* A grant opens it, its removal closes it again. */
	assert_int_equal(project_get(w->t.db, w->alice_project, &p), 0);
	assert_int_equal(course_participation(w->t.db, p.course_id, w->bob.user_id, &bob), 0);
	assert_int_equal(grant_set(w->t.db, &p, bob.id, rd, p.owner_id, &chg), 0);
	assert_int_equal(check(w, &w->bob, "project", w->alice_project), 0);
	assert_int_equal(grant_delete(w->t.db, &p, bob.id, &chg), 0);
	assert_int_equal(check(w, &w->bob, "project", w->alice_project), COHORT_E_FORBIDDEN);
	/* Unknown projects are not found, for everyone signed in. */
	assert_int_equal(check(w, &w->alice, "project", 999999), COHORT_E_NOTFOUND);
	assert_int_equal(check(w, &w->admin, "project", 999999), COHORT_E_NOTFOUND);
}

static void test_lesson(void **state)
{
	struct world *w = *state;

	assert_int_equal(check(w, &w->alice, "lesson", w->lesson), 0);
	assert_int_equal(check(w, &w->teacher, "lesson", w->lesson), 0);
	assert_int_equal(check(w, &w->admin, "lesson", w->lesson), 0);
	assert_int_equal(check(w, &w->outsider, "lesson", w->lesson), COHORT_E_FORBIDDEN);
	assert_int_equal(check(w, &w->outsider, "lesson", w->other_lesson), 0);
	assert_int_equal(check(w, &w->alice, "lesson", w->other_lesson), COHORT_E_FORBIDDEN);
	assert_int_equal(check(w, &w->alice, "lesson", 999999), COHORT_E_NOTFOUND);
}

static void test_user(void **state)
{
	struct world *w = *state;

	assert_int_equal(check(w, &w->alice, "user", w->alice.user_id), 0);
	assert_int_equal(check(w, &w->alice, "user", w->bob.user_id), COHORT_E_FORBIDDEN);
	/* A teacher does not read a student's personal stream. */
	assert_int_equal(check(w, &w->teacher, "user", w->alice.user_id), COHORT_E_FORBIDDEN);
	assert_int_equal(check(w, &w->admin, "user", w->alice.user_id), 0);
	/* Non-admins get 403 whether or not the user exists (no enumeration). */
	assert_int_equal(check(w, &w->alice, "user", 999999), COHORT_E_FORBIDDEN);
	assert_int_equal(check(w, &w->admin, "user", 999999), COHORT_E_NOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dev_is_anyones),
		cmocka_unit_test(test_anonymous_needs_auth),
		cmocka_unit_test(test_project),
		cmocka_unit_test(test_lesson),
		cmocka_unit_test(test_user),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
