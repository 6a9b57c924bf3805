/*
 * Unit tests for core/project against a real SQLite database with the real
 * migrations: one project per participant and lesson (also when two
 * connections race to create it), the access rules as a full table,
 * project_access for every kind of viewer, grants and their change
 * reports, and the two access listings of a lesson — which must agree with
 * project_access for every pair of participants.
 */
#include "core/course.h"
#include "core/db.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/lesson.h"
#include "core/log.h"
#include "core/project.h"
#include "core/user.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testdb.h"

/* A course with a teacher and three students, two lessons, an outsider who
 * is a student of another course, and an administrator in no course. */
struct fixture {
	struct testdb t;
	int64_t course, other_course, lesson1, lesson2, other_lesson;
	int64_t u_teacher, u_a, u_b, u_c, u_out, u_admin;
	int64_t teacher, a, b, c, out; /* participants */
};

static int64_t lesson(struct db *db, int64_t course, const char *name)
{
	struct lesson l;

	if (lesson_create(db, course, name, strlen(name), NULL, 0, &l))
		fail_msg("lesson_create %s", name);
	return l.id;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct participant p;
	char code[JOIN_CODE_LEN + 1], code2[JOIN_CODE_LEN + 1];
	struct db *db;

	if (!f)
		return -1;
	testdb_open(&f->t);
	db = f->t.db;
	f->u_teacher = testdb_user(db, "teacher", false);
	f->u_a = testdb_user(db, "alice", false);
	f->u_b = testdb_user(db, "bob", false);
	f->u_c = testdb_user(db, "carol", false);
	f->u_out = testdb_user(db, "oscar", false);
	f->u_admin = testdb_user(db, "admin", true);
	f->course = testdb_course(db, f->u_teacher, "Course", &p, code);
	f->teacher = p.id;
	f->a = testdb_join(db, f->u_a, code, "Alice");
	f->b = testdb_join(db, f->u_b, code, "Bob");
	f->c = testdb_join(db, f->u_c, code, "Carol");
	f->other_course = testdb_course(db, f->u_teacher, "Other", NULL, code2);
	f->out = testdb_join(db, f->u_out, code2, "Oscar");
	f->lesson1 = lesson(db, f->course, "One");
	f->lesson2 = lesson(db, f->course, "Two");
	f->other_lesson = lesson(db, f->other_course, "Elsewhere");
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

static struct project ensure(struct fixture *f, int64_t lesson_id, int64_t participant)
{
	struct project p;
	int err = project_ensure(f->t.db, lesson_id, participant, &p);

	if (err)
		fail_msg("project_ensure(%lld, %lld): %s", (long long)lesson_id, (long long)participant,
			 cohort_strerror(err));
	return p;
}

static struct principal who(int64_t user_id, bool admin)
{
	struct principal p;

	memset(&p, 0, sizeof(p));
	p.user_id = user_id;
	p.is_admin = admin;
	return p;
}

static void test_ensure_creates_once(void **state)
{
	struct fixture *f = *state;
	struct project p1, p2, other;

	p1 = ensure(f, f->lesson1, f->a);
	assert_true(p1.id > 0);
	assert_int_equal(p1.lesson_id, f->lesson1);
	assert_int_equal(p1.course_id, f->course);
	assert_int_equal(p1.owner_id, f->a);
	assert_int_equal(p1.owner_user_id, f->u_a);
	assert_int_equal(p1.owner_role, ROLE_STUDENT);
	assert_string_equal(p1.owner_nickname, "Alice");
	assert_true(p1.created_at > 0);
	assert_int_equal(p1.last_activity_at, p1.created_at);
	p2 = ensure(f, f->lesson1, f->a);
	assert_int_equal(p2.id, p1.id);
	assert_int_equal(p2.created_at, p1.created_at);
	/* Another lesson or another owner is another project. */
	other = ensure(f, f->lesson2, f->a);
	assert_true(other.id != p1.id);
	other = ensure(f, f->lesson1, f->teacher);
	assert_true(other.id != p1.id);
	assert_int_equal(other.owner_role, ROLE_TEACHER);
	assert_int_equal(testdb_int(f->t.db, "SELECT COUNT(*) FROM projects"), 3);
	assert_int_equal(project_get(f->t.db, p1.id, &p2), 0);
	assert_int_equal(p2.owner_id, f->a);
	assert_int_equal(project_get(f->t.db, p1.id + 100, &p2), COHORT_E_NOTFOUND);
}

static void test_ensure_refused(void **state)
{
	struct fixture *f = *state;
	struct project p;

	/* A participant of another course, in this course's lesson, and back. */
	assert_int_equal(project_ensure(f->t.db, f->lesson1, f->out, &p), COHORT_E_NOTFOUND);
	assert_int_equal(project_ensure(f->t.db, f->other_lesson, f->a, &p), COHORT_E_NOTFOUND);
	assert_int_equal(project_ensure(f->t.db, f->lesson1 + 1000, f->a, &p), COHORT_E_NOTFOUND);
	assert_int_equal(project_ensure(f->t.db, f->lesson1, f->a + 1000, &p), COHORT_E_NOTFOUND);
	assert_int_equal(testdb_int(f->t.db, "SELECT COUNT(*) FROM projects"), 0);
}

/* Two connections (as two API worker threads or two processes would have)
 * ensure the same projects at the same moment, lesson after lesson. */
#define RACE_LESSONS 25

struct racer {
	const char *path;
	int64_t participant;
	const int64_t *lessons;
	pthread_barrier_t *barrier;
	int64_t got[RACE_LESSONS];
	int err[RACE_LESSONS];
	int open_err;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct db *db = NULL;

	r->open_err = db_open(r->path, &db);
	for (int i = 0; i < RACE_LESSONS; i++) {
		struct project p;

		pthread_barrier_wait(r->barrier);
		if (r->open_err) {
			r->err[i] = r->open_err;
			continue;
		}
		r->err[i] = project_ensure(db, r->lessons[i], r->participant, &p);
		r->got[i] = r->err[i] ? 0 : p.id;
	}
	db_close(db);
	return NULL;
}

static void test_ensure_concurrent(void **state)
{
	struct fixture *f = *state;
	int64_t lessons[RACE_LESSONS];
	pthread_barrier_t barrier;
	struct racer r[2];
	pthread_t th[2];

	for (int i = 0; i < RACE_LESSONS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "Race %d", i);
		lessons[i] = lesson(f->t.db, f->course, name);
	}
	assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
	for (int k = 0; k < 2; k++) {
		memset(&r[k], 0, sizeof(r[k]));
		r[k].path = f->t.path;
		r[k].participant = f->b;
		r[k].lessons = lessons;
		r[k].barrier = &barrier;
		assert_int_equal(pthread_create(&th[k], NULL, race, &r[k]), 0);
	}
	for (int k = 0; k < 2; k++)
		assert_int_equal(pthread_join(th[k], NULL), 0);
	pthread_barrier_destroy(&barrier);
	for (int k = 0; k < 2; k++)
		assert_int_equal(r[k].open_err, 0);
	for (int i = 0; i < RACE_LESSONS; i++) {
		if (r[0].err[i] || r[1].err[i])
			fail_msg("lesson %d: errors %d and %d", i, r[0].err[i], r[1].err[i]);
		if (r[0].got[i] != r[1].got[i] || !r[0].got[i])
			fail_msg("lesson %d: projects %lld and %lld", i, (long long)r[0].got[i], (long long)r[1].got[i]);
	}
	assert_int_equal(testdb_int(f->t.db, "SELECT COUNT(*) FROM projects"), RACE_LESSONS);
	assert_int_equal(testdb_int(f->t.db, "SELECT COUNT(*) FROM (SELECT 1 FROM projects"
					     " GROUP BY lesson_id, owner_id HAVING COUNT(*) > 1)"), 0);
}

/* access_rules for every viewer role × owner role × grant row. */
enum row { NO_ROW, ROW_NONE, ROW_R, ROW_RW, ROW_W_ONLY };

static const struct {
	enum role viewer, owner;
	enum row row;
	bool read, write;
} rules[] = {
	/* Outside the course: nothing, whatever the row says. */
	{ ROLE_NONE, ROLE_STUDENT, NO_ROW, false, false },
	{ ROLE_NONE, ROLE_STUDENT, ROW_NONE, false, false },
	{ ROLE_NONE, ROLE_STUDENT, ROW_R, false, false },
	{ ROLE_NONE, ROLE_STUDENT, ROW_RW, false, false },
	{ ROLE_NONE, ROLE_STUDENT, ROW_W_ONLY, false, false },
	{ ROLE_NONE, ROLE_TEACHER, NO_ROW, false, false },
	{ ROLE_NONE, ROLE_TEACHER, ROW_NONE, false, false },
	{ ROLE_NONE, ROLE_TEACHER, ROW_R, false, false },
	{ ROLE_NONE, ROLE_TEACHER, ROW_RW, false, false },
	{ ROLE_NONE, ROLE_TEACHER, ROW_W_ONLY, false, false },
	/* A student: a teacher's project read-only by default, another
	 * student's only through a row; the row decides alone. */
	{ ROLE_STUDENT, ROLE_STUDENT, NO_ROW, false, false },
	{ ROLE_STUDENT, ROLE_STUDENT, ROW_NONE, false, false },
	{ ROLE_STUDENT, ROLE_STUDENT, ROW_R, true, false },
	{ ROLE_STUDENT, ROLE_STUDENT, ROW_RW, true, true },
	{ ROLE_STUDENT, ROLE_STUDENT, ROW_W_ONLY, false, false },
	{ ROLE_STUDENT, ROLE_TEACHER, NO_ROW, true, false },
	{ ROLE_STUDENT, ROLE_TEACHER, ROW_NONE, false, false },
	{ ROLE_STUDENT, ROLE_TEACHER, ROW_R, true, false },
	{ ROLE_STUDENT, ROLE_TEACHER, ROW_RW, true, true },
	{ ROLE_STUDENT, ROLE_TEACHER, ROW_W_ONLY, false, false },
	/* A teacher: everything by default; a row restricts (or shuts out). */
	{ ROLE_TEACHER, ROLE_STUDENT, NO_ROW, true, true },
	{ ROLE_TEACHER, ROLE_STUDENT, ROW_NONE, false, false },
	{ ROLE_TEACHER, ROLE_STUDENT, ROW_R, true, false },
	{ ROLE_TEACHER, ROLE_STUDENT, ROW_RW, true, true },
	{ ROLE_TEACHER, ROLE_STUDENT, ROW_W_ONLY, false, false },
	{ ROLE_TEACHER, ROLE_TEACHER, NO_ROW, true, true },
	{ ROLE_TEACHER, ROLE_TEACHER, ROW_NONE, false, false },
	{ ROLE_TEACHER, ROLE_TEACHER, ROW_R, true, false },
	{ ROLE_TEACHER, ROLE_TEACHER, ROW_RW, true, true },
	{ ROLE_TEACHER, ROLE_TEACHER, ROW_W_ONLY, false, false },
};

static void test_access_rules(void **state)
{
	static const struct grant_bits bits[] = {
		[NO_ROW] = { false, false }, [ROW_NONE] = { false, false }, [ROW_R] = { true, false },
		[ROW_RW] = { true, true },   [ROW_W_ONLY] = { false, true },
	};

	(void)state;
	/* The table covers every combination exactly once. */
	assert_int_equal(sizeof(rules) / sizeof(rules[0]), 3 * 2 * 5);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct access a;

		memset(&a, 0xff, sizeof(a));
		access_rules(rules[i].viewer, rules[i].owner, rules[i].row != NO_ROW, bits[rules[i].row], &a);
		if (a.read != rules[i].read || a.write != rules[i].write || a.owner)
			fail_msg("rule %zu (viewer %s, owner %s, row %d): got r=%d w=%d owner=%d", i,
				 role_name(rules[i].viewer), role_name(rules[i].owner), rules[i].row, a.read, a.write,
				 a.owner);
		assert_false(a.write && !a.read);
	}
}

static void grant(struct fixture *f, const struct project *p, int64_t grantee, bool r, bool w)
{
	struct grant_change chg;
	struct grant_bits b = { r, w };
	int err = grant_set(f->t.db, p, grantee, b, p->owner_id, &chg);

	if (err)
		fail_msg("grant_set: %s", cohort_strerror(err));
}

static void expect_access(struct fixture *f, const struct principal *pr, const struct project *p, bool r, bool w,
			  bool owner, enum role role, int64_t viewer_participant, const char *what)
{
	struct access a;
	int err = project_access(f->t.db, pr, p, &a);

	if (err)
		fail_msg("%s: project_access: %s", what, cohort_strerror(err));
	if (a.read != r || a.write != w || a.owner != owner || a.viewer_role != role ||
	    a.viewer_participant != viewer_participant)
		fail_msg("%s: got r=%d w=%d owner=%d role=%s participant=%lld", what, a.read, a.write, a.owner,
			 role_name(a.viewer_role), (long long)a.viewer_participant);
}

static void test_project_access(void **state)
{
	struct fixture *f = *state;
	struct project pa = ensure(f, f->lesson1, f->a);
	struct project pt = ensure(f, f->lesson1, f->teacher);
	struct principal owner = who(f->u_a, false), admin = who(f->u_admin, true);
	struct principal teacher = who(f->u_teacher, false), b = who(f->u_b, false);
	struct principal outsider = who(f->u_out, false), anonymous = who(0, false);

	expect_access(f, &owner, &pa, true, true, true, ROLE_STUDENT, f->a, "owner");
	expect_access(f, &admin, &pa, true, true, false, ROLE_NONE, 0, "admin outside the course");
	expect_access(f, &teacher, &pa, true, true, false, ROLE_TEACHER, f->teacher, "teacher, no row");
	expect_access(f, &b, &pa, false, false, false, ROLE_STUDENT, f->b, "student, no row");
	expect_access(f, &outsider, &pa, false, false, false, ROLE_NONE, 0, "outsider");
	expect_access(f, &anonymous, &pa, false, false, false, ROLE_NONE, 0, "anonymous");
	expect_access(f, &b, &pt, true, false, false, ROLE_STUDENT, f->b, "student on the teacher's project");
	expect_access(f, &outsider, &pt, false, false, false, ROLE_NONE, 0, "outsider on the teacher's project");

	grant(f, &pa, f->b, true, false);
	expect_access(f, &b, &pa, true, false, false, ROLE_STUDENT, f->b, "student with read");
	grant(f, &pa, f->b, true, true);
	expect_access(f, &b, &pa, true, true, false, ROLE_STUDENT, f->b, "student with read and write");
	grant(f, &pa, f->b, false, false);
	expect_access(f, &b, &pa, false, false, false, ROLE_STUDENT, f->b, "student with a row of no bits");

	grant(f, &pa, f->teacher, true, false);
	expect_access(f, &teacher, &pa, true, false, false, ROLE_TEACHER, f->teacher, "teacher restricted to read");
	grant(f, &pa, f->teacher, false, false);
	expect_access(f, &teacher, &pa, false, false, false, ROLE_TEACHER, f->teacher, "teacher shut out");

	grant(f, &pt, f->b, true, true);
	expect_access(f, &b, &pt, true, true, false, ROLE_STUDENT, f->b, "student given write by the teacher");
	grant(f, &pt, f->b, false, false);
	expect_access(f, &b, &pt, false, false, false, ROLE_STUDENT, f->b, "student shut out by the teacher");

	/* An administrator reads and writes even when a participant with a row of no bits. */
	{
		char code[JOIN_CODE_LEN + 1];
		int64_t admin_part;

		assert_int_equal(course_rotate_code(f->t.db, f->course, code), 0);
		admin_part = testdb_join(f->t.db, f->u_admin, code, "Admin");
		grant(f, &pa, admin_part, false, false);
		expect_access(f, &admin, &pa, true, true, false, ROLE_STUDENT, admin_part, "admin with a row of no bits");
	}
}

static void test_grant_set_refusals(void **state)
{
	struct fixture *f = *state;
	struct project pa = ensure(f, f->lesson1, f->a);
	struct grant_change chg;
	struct grant_bits w_only = { false, true }, r = { true, false };

	assert_int_equal(grant_set(f->t.db, &pa, f->b, w_only, f->a, &chg), COHORT_E_BADBITS);
	assert_int_equal(grant_set(f->t.db, &pa, f->out, r, f->a, &chg), COHORT_E_NOTMEMBER);
	assert_int_equal(grant_set(f->t.db, &pa, f->c + 1000, r, f->a, &chg), COHORT_E_NOTMEMBER);
	assert_int_equal(grant_set(f->t.db, &pa, f->a, r, f->a, &chg), COHORT_E_BADBITS);
	/* granted_by must be a participant (the foreign key). */
	assert_true(grant_set(f->t.db, &pa, f->b, r, 424242, &chg) < 0);
	assert_int_equal(testdb_int(f->t.db, "SELECT COUNT(*) FROM project_grants"), 0);
	/* Not left inside a transaction. */
	assert_int_equal(db_begin(f->t.db), 0);
	assert_int_equal(db_rollback(f->t.db), 0);
}

static void expect_change(const struct grant_change *chg, bool existed, bool br, bool bw, bool ar, bool aw)
{
	if (chg->existed != existed || chg->before.read != br || chg->before.write != bw || chg->after.read != ar ||
	    chg->after.write != aw)
		fail_msg("change: existed=%d before=%d%d after=%d%d, want existed=%d before=%d%d after=%d%d",
			 chg->existed, chg->before.read, chg->before.write, chg->after.read, chg->after.write, existed, br,
			 bw, ar, aw);
}

static void test_grant_changes(void **state)
{
	struct fixture *f = *state;
	struct project pa = ensure(f, f->lesson1, f->a);
	struct grant_change chg;
	const struct grant_bits none = { false, false }, r = { true, false }, rw = { true, true };

	assert_int_equal(grant_set(f->t.db, &pa, f->b, r, f->a, &chg), 0);
	expect_change(&chg, false, false, false, true, false);
	assert_int_equal(grant_set(f->t.db, &pa, f->b, rw, f->a, &chg), 0);
	expect_change(&chg, true, true, false, true, true);
	assert_int_equal(grant_set(f->t.db, &pa, f->b, rw, f->a, &chg), 0);
	expect_change(&chg, true, true, true, true, true);
	assert_int_equal(grant_set(f->t.db, &pa, f->b, none, f->a, &chg), 0);
	expect_change(&chg, true, true, true, false, false);
	assert_int_equal(testdb_int(f->t.db, "SELECT COUNT(*) FROM project_grants"), 1);
	assert_int_equal(testdb_int(f->t.db, "SELECT can_read + can_write FROM project_grants"), 0);
	{
		struct db_stmt *st = NULL;

		assert_int_equal(db_prepare(f->t.db, "SELECT granted_by FROM project_grants WHERE grantee_id = ?1", &st), 0);
		db_bind_int(st, 1, f->b);
		assert_int_equal(db_step(st), DB_ROW);
		assert_int_equal(db_col_int(st, 0), f->a);
		db_finalize(st);
	}

	/* Deleting reports the row that was there. */
	assert_int_equal(grant_delete(f->t.db, &pa, f->b, &chg), 0);
	expect_change(&chg, true, false, false, false, false);
	assert_int_equal(grant_set(f->t.db, &pa, f->c, rw, f->a, &chg), 0);
	assert_int_equal(grant_delete(f->t.db, &pa, f->c, &chg), 0);
	expect_change(&chg, true, true, true, false, false);
	assert_int_equal(testdb_int(f->t.db, "SELECT COUNT(*) FROM project_grants"), 0);
}

struct rows {
	struct grant_row v[8];
	size_t n;
};

static int collect_row(const struct grant_row *g, void *arg)
{
	struct rows *r = arg;

	if (r->n == 8)
		return COHORT_E_LIMIT;
	r->v[r->n++] = *g;
	return 0;
}

/* grant_list shows every row, a teacher shut out with both bits off
 * included, teachers first, with who granted. */
static void test_grant_list(void **state)
{
	struct fixture *f = *state;
	struct project pa = ensure(f, f->lesson1, f->a);
	struct rows r = { .n = 0 };

	assert_int_equal(grant_list(f->t.db, pa.id, collect_row, &r), 0);
	assert_int_equal(r.n, 0);
	grant(f, &pa, f->c, true, false);
	grant(f, &pa, f->teacher, false, false);
	grant(f, &pa, f->b, true, true);
	assert_int_equal(grant_list(f->t.db, pa.id, collect_row, &r), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.v[0].grantee.id, f->teacher);
	assert_false(r.v[0].bits.read || r.v[0].bits.write);
	assert_int_equal(r.v[1].grantee.id, f->b); /* "Bob" < "Carol" */
	assert_true(r.v[1].bits.read && r.v[1].bits.write);
	assert_int_equal(r.v[2].grantee.id, f->c);
	assert_true(r.v[2].bits.read && !r.v[2].bits.write);
	assert_int_equal(r.v[2].granted_by, f->a);
	assert_string_equal(r.v[2].grantee.login, "carol");
	/* A callback's error stops the listing and is returned. */
	r.n = 8;
	assert_int_equal(grant_list(f->t.db, pa.id, collect_row, &r), COHORT_E_LIMIT);
}

static void test_grant_delete_refusals(void **state)
{
	struct fixture *f = *state;
	struct project pa = ensure(f, f->lesson1, f->a);
	struct grant_change chg;

	assert_int_equal(grant_delete(f->t.db, &pa, f->b, &chg), COHORT_E_NOTFOUND);
	assert_false(chg.existed);
	assert_int_equal(grant_delete(f->t.db, &pa, f->out, &chg), COHORT_E_NOTMEMBER);
	assert_int_equal(grant_delete(f->t.db, &pa, f->b + 1000, &chg), COHORT_E_NOTMEMBER);
	assert_int_equal(grant_delete(f->t.db, &pa, f->a, &chg), COHORT_E_BADBITS);
	assert_int_equal(db_begin(f->t.db), 0);
	assert_int_equal(db_rollback(f->t.db), 0);
}

/* One listing of lesson_access, by participant. */
struct listing {
	size_t n;
	struct access_entry e[8];
};

struct listings {
	struct listing can_open, can_open_mine;
};

static int add(struct listing *l, const struct access_entry *e)
{
	assert_true(l->n < 8);
	l->e[l->n++] = *e;
	return 0;
}

static int add_can_open(const struct access_entry *e, void *arg)
{
	return add(&((struct listings *)arg)->can_open, e);
}

static int add_can_open_mine(const struct access_entry *e, void *arg)
{
	return add(&((struct listings *)arg)->can_open_mine, e);
}

static struct listings listings_of(struct fixture *f, int64_t lesson_id, int64_t participant)
{
	struct participant me;
	struct listings ls;

	memset(&ls, 0, sizeof(ls));
	assert_int_equal(participant_get(f->t.db, participant, &me), 0);
	assert_int_equal(lesson_access(f->t.db, lesson_id, &me, add_can_open, add_can_open_mine, &ls), 0);
	return ls;
}

struct want {
	int64_t participant;
	int64_t project; /* 0: not created */
	bool read, write, explicit_grant;
};

static void expect_listing(const struct listing *l, const struct want *w, size_t n, const char *what)
{
	if (l->n != n)
		fail_msg("%s: %zu entries, want %zu", what, l->n, n);
	for (size_t i = 0; i < n; i++) {
		const struct access_entry *e = &l->e[i];

		if (e->participant_id != w[i].participant || e->project_id != w[i].project ||
		    e->bits.read != w[i].read || e->bits.write != w[i].write ||
		    e->explicit_grant != w[i].explicit_grant)
			fail_msg("%s entry %zu: participant %lld project %lld r=%d w=%d explicit=%d", what, i,
				 (long long)e->participant_id, (long long)e->project_id, e->bits.read, e->bits.write,
				 e->explicit_grant);
	}
}

static void test_lesson_access_listings(void **state)
{
	struct fixture *f = *state;
	struct project pa = ensure(f, f->lesson1, f->a);
	struct listings ls;

	/* Alice lets Bob read and shuts the teacher out; Carol has nothing. */
	grant(f, &pa, f->b, true, false);
	grant(f, &pa, f->teacher, false, false);

	ls = listings_of(f, f->lesson1, f->a);
	{
		const struct want open[] = { { f->teacher, 0, true, false, false } };
		const struct want mine[] = { { f->b, pa.id, true, false, true } };

		expect_listing(&ls.can_open, open, 1, "alice can open");
		expect_listing(&ls.can_open_mine, mine, 1, "can open alice's");
	}
	ls = listings_of(f, f->lesson1, f->b);
	{
		const struct want open[] = { { f->teacher, 0, true, false, false }, { f->a, pa.id, true, false, true } };
		const struct want mine[] = { { f->teacher, 0, true, true, false } };

		expect_listing(&ls.can_open, open, 2, "bob can open");
		expect_listing(&ls.can_open_mine, mine, 1, "can open bob's");
	}
	ls = listings_of(f, f->lesson1, f->teacher);
	{
		const struct want open[] = { { f->b, 0, true, true, false }, { f->c, 0, true, true, false } };
		const struct want mine[] = { { f->a, 0, true, false, false },
					     { f->b, 0, true, false, false },
					     { f->c, 0, true, false, false } };

		expect_listing(&ls.can_open, open, 2, "the teacher can open");
		expect_listing(&ls.can_open_mine, mine, 3, "can open the teacher's");
	}
	/* Grants are per project: in lesson 2 nobody has rows. */
	ls = listings_of(f, f->lesson2, f->b);
	{
		const struct want open[] = { { f->teacher, 0, true, false, false } };
		const struct want mine[] = { { f->teacher, 0, true, true, false } };

		expect_listing(&ls.can_open, open, 1, "bob can open in lesson 2");
		expect_listing(&ls.can_open_mine, mine, 1, "can open bob's in lesson 2");
	}
}

/* The listings and project_access are two views of one rule: for every
 * ordered pair of participants they must agree, in both directions. */
static void test_listings_agree_with_project_access(void **state)
{
	struct fixture *f = *state;
	const int64_t parts[] = { f->teacher, f->a, f->b, f->c };
	const int64_t users[] = { f->u_teacher, f->u_a, f->u_b, f->u_c };
	struct project pr[4];

	for (int i = 0; i < 4; i++)
		pr[i] = ensure(f, f->lesson1, parts[i]);
	grant(f, &pr[1], f->b, true, false);
	grant(f, &pr[1], f->teacher, false, false);
	grant(f, &pr[2], f->c, true, true);
	grant(f, &pr[0], f->c, false, false);
	grant(f, &pr[3], f->teacher, true, false);

	for (int v = 0; v < 4; v++) {
		struct listings ls = listings_of(f, f->lesson1, parts[v]);
		struct principal pv = who(users[v], false);

		for (int o = 0; o < 4; o++) {
			struct access a;
			const struct access_entry *in_open = NULL, *in_mine = NULL;
			struct listings lo;

			if (o == v)
				continue;
			assert_int_equal(project_access(f->t.db, &pv, &pr[o], &a), 0);
			for (size_t k = 0; k < ls.can_open.n; k++)
				if (ls.can_open.e[k].participant_id == parts[o])
					in_open = &ls.can_open.e[k];
			if ((in_open != NULL) != a.read)
				fail_msg("viewer %d owner %d: listed=%d, project_access read=%d", v, o, in_open != NULL,
					 a.read);
			if (in_open && (in_open->bits.write != a.write || in_open->project_id != pr[o].id))
				fail_msg("viewer %d owner %d: listing says w=%d, project_access w=%d", v, o,
					 in_open->bits.write, a.write);
			/* The owner's "who can open mine" lists the viewer the same way. */
			lo = listings_of(f, f->lesson1, parts[o]);
			for (size_t k = 0; k < lo.can_open_mine.n; k++)
				if (lo.can_open_mine.e[k].participant_id == parts[v])
					in_mine = &lo.can_open_mine.e[k];
			if ((in_mine != NULL) != a.read || (in_mine && in_mine->bits.write != a.write))
				fail_msg("owner %d's listing of viewer %d disagrees with project_access", o, v);
		}
	}
}

static void test_remove_cascades(void **state)
{
	struct fixture *f = *state;
	struct project pa = ensure(f, f->lesson1, f->a);
	struct project pb = ensure(f, f->lesson1, f->b);
	struct project got;

	grant(f, &pa, f->b, true, false);
	grant(f, &pb, f->c, true, false);
	assert_int_equal(participant_remove(f->t.db, f->b), 0);
	assert_int_equal(project_get(f->t.db, pb.id, &got), COHORT_E_NOTFOUND);
	assert_int_equal(testdb_int(f->t.db, "SELECT COUNT(*) FROM project_grants"), 0);
	assert_int_equal(project_get(f->t.db, pa.id, &got), 0);
	/* Deleting a lesson takes its projects with it. */
	assert_int_equal(lesson_delete(f->t.db, f->lesson1), 0);
	assert_int_equal(project_get(f->t.db, pa.id, &got), COHORT_E_NOTFOUND);
}

static void test_touch(void **state)
{
	struct fixture *f = *state;
	struct project p = ensure(f, f->lesson1, f->a), got;

	assert_int_equal(project_touch(f->t.db, p.id, p.created_at + 100), 0);
	assert_int_equal(project_get(f->t.db, p.id, &got), 0);
	assert_int_equal(got.last_activity_at, p.created_at + 100);
	/* Activity never goes back in time. */
	assert_int_equal(project_touch(f->t.db, p.id, p.created_at + 50), 0);
	assert_int_equal(project_get(f->t.db, p.id, &got), 0);
	assert_int_equal(got.last_activity_at, p.created_at + 100);
	assert_int_equal(got.created_at, p.created_at);
}

/* project_check: the REST permissions' decision (404 for outsiders, 403 for
 * participants without the access, admins always). */
static void test_project_check(void **state)
{
	struct fixture *f = *state;
	struct project pa = ensure(f, f->lesson1, f->a), got;
	struct access acc;
	static const struct {
		int who; /* 0 owner, 1 teacher, 2 b, 3 outsider, 4 admin */
		bool write;
		int err;
	} rows[] = {
		{ 0, false, 0 }, { 0, true, 0 },
		{ 1, false, 0 }, { 1, true, 0 },
		{ 2, false, 0 }, { 2, true, COHORT_E_FORBIDDEN }, /* b has a read grant */
		{ 3, false, COHORT_E_NOTFOUND }, { 3, true, COHORT_E_NOTFOUND },
		{ 4, false, 0 }, { 4, true, 0 },
	};
	struct principal ps[5];

	ps[0] = who(f->u_a, false);
	ps[1] = who(f->u_teacher, false);
	ps[2] = who(f->u_b, false);
	ps[3] = who(f->u_out, false);
	ps[4] = who(f->u_admin, true);
	grant(f, &pa, f->b, true, false);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int err = project_check(f->t.db, &ps[rows[i].who], pa.id, rows[i].write, &got, &acc);

		if (err != rows[i].err)
			fail_msg("row %zu: %s, want %s", i, cohort_strerror(err), cohort_strerror(rows[i].err));
		if (!err)
			assert_int_equal(got.id, pa.id);
	}
	/* A row of no bits shuts the student out: 403, not 404 (they are in the course). */
	grant(f, &pa, f->b, false, false);
	assert_int_equal(project_check(f->t.db, &ps[2], pa.id, false, &got, &acc), COHORT_E_FORBIDDEN);
	assert_int_equal(project_check(f->t.db, &ps[0], pa.id + 1000, false, &got, &acc), COHORT_E_NOTFOUND);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ensure_creates_once),
		T(test_ensure_refused),
		T(test_ensure_concurrent),
		cmocka_unit_test(test_access_rules),
		T(test_project_access),
		T(test_project_check),
		T(test_grant_set_refusals),
		T(test_grant_changes),
		T(test_grant_delete_refusals),
		T(test_grant_list),
		T(test_lesson_access_listings),
		T(test_listings_agree_with_project_access),
		T(test_remove_cascades),
		T(test_touch),
	};

	log_init("test", "error");
	if (ids_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
