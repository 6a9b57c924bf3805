/*
 * The permission check of cohort-api against a real database: for routes of
 * the real table, who passes, who gets 401/403/404/422, and what the check
 * leaves resolved in the request for the handler.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdb.h"

#include "api/permission.h"
#include "api/request.h"
#include "api/router.h"
#include "api/routes.h"
#include "core/config.h"
#include "core/course.h"
#include "core/err.h"
#include "core/lesson.h"
#include "core/project.h"
#include "core/user.h"

#include <stdio.h>
#include <string.h>

enum actor { ANON, OUTSIDER, STUDENT, READER, OWNER, TEACHER, ADMIN, NACTORS };

static struct {
	struct testdb t;
	struct principal who[NACTORS];
	int64_t course, lesson, project, p_owner, p_reader, p_student, p_teacher, p_outsider;
} f;

static struct cohort_config cfg;

static void principal_of(const char *login, bool admin, struct principal *p)
{
	struct user u;
	char hash[AUTH_HASH_MAX];
	bool has;

	testdb_user(f.t.db, login, admin);
	assert_int_equal(user_get_by_login(f.t.db, login, &u, hash, &has), 0);
	assert_int_equal(user_principal(f.t.db, &u, p), 0);
}

static int setup(void **state)
{
	struct participant tp, op;
	struct project pr;
	struct lesson l;
	struct grant_change chg;
	char code[JOIN_CODE_LEN + 1], code2[JOIN_CODE_LEN + 1];

	(void)state;
	testdb_open(&f.t);
	principal_of("outsider", false, &f.who[OUTSIDER]);
	principal_of("student", false, &f.who[STUDENT]);
	principal_of("reader", false, &f.who[READER]);
	principal_of("owner", false, &f.who[OWNER]);
	principal_of("teacher", false, &f.who[TEACHER]);
	principal_of("admin", true, &f.who[ADMIN]);
	f.course = testdb_course(f.t.db, f.who[TEACHER].user_id, "Course", &tp, code);
	f.p_teacher = tp.id;
	f.p_owner = testdb_join(f.t.db, f.who[OWNER].user_id, code, "Owner");
	f.p_reader = testdb_join(f.t.db, f.who[READER].user_id, code, "Reader");
	f.p_student = testdb_join(f.t.db, f.who[STUDENT].user_id, code, "Student");
	testdb_course(f.t.db, f.who[OUTSIDER].user_id, "Other", &op, code2);
	f.p_outsider = op.id;
	assert_int_equal(lesson_create(f.t.db, f.course, "L", 1, NULL, 0, &l), 0);
	f.lesson = l.id;
	assert_int_equal(project_ensure(f.t.db, f.lesson, f.p_owner, &pr), 0);
	f.project = pr.id;
	assert_int_equal(grant_set(f.t.db, &pr, f.p_reader, (struct grant_bits){ true, false }, f.p_owner, &chg), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	testdb_close(&f.t);
	return 0;
}

/* Runs the check of the route that method + path match, as actor. */
static int check(const char *method, const char *path, enum actor a, struct request *req)
{
	size_t n;
	const struct route *table = routes_table(&n);

	memset(req, 0, sizeof(*req));
	req->cfg = &cfg;
	req->db = f.t.db;
	if (a != ANON)
		req->who = f.who[a];
	assert_int_equal(router_match(table, n, method, path, strlen(path), &req->match), 0);
	return permission_check(req->match.route->perm, req, NULL);
}

static void test_matrix(void **state)
{
	char course[64], lesson[64], project[64], grant_reader[128], grant_outsider[128], nick_owner[128],
		nick_outsider[128];
	const int OK = 0, AUTH = COHORT_E_AUTH, NF = COHORT_E_NOTFOUND, FB = COHORT_E_FORBIDDEN,
		  NO = COHORT_E_NOTOWNER, NM = COHORT_E_NOTMEMBER;

	(void)state;
	snprintf(course, sizeof(course), "/api/v1/courses/%lld", (long long)f.course);
	snprintf(lesson, sizeof(lesson), "/api/v1/lessons/%lld", (long long)f.lesson);
	snprintf(project, sizeof(project), "/api/v1/projects/%lld", (long long)f.project);
	snprintf(grant_reader, sizeof(grant_reader), "%s/grants/%lld", project, (long long)f.p_reader);
	snprintf(grant_outsider, sizeof(grant_outsider), "%s/grants/%lld", project, (long long)f.p_outsider);
	snprintf(nick_owner, sizeof(nick_owner), "%s/participants/%lld", course, (long long)f.p_owner);
	snprintf(nick_outsider, sizeof(nick_outsider), "%s/participants/%lld", course, (long long)f.p_outsider);

	const struct {
		const char *method, *path;
		int want[NACTORS]; /* ANON OUTSIDER STUDENT READER OWNER TEACHER ADMIN */
	} rows[] = {
		{ "GET", "/api/v1/health", { OK, OK, OK, OK, OK, OK, OK } },
		{ "GET", "/api/v1/me", { AUTH, OK, OK, OK, OK, OK, OK } },
		{ "POST", "/api/v1/users", { AUTH, FB, FB, FB, FB, FB, OK } },
		{ "GET", course, { AUTH, NF, OK, OK, OK, OK, OK } },
		{ "POST", "/api/v1/courses/424242/join-code", { AUTH, NF, NF, NF, NF, NF, NF } },
		{ "GET", "/api/v1/courses/0", { AUTH, NF, NF, NF, NF, NF, NF } },
		{ "PATCH", nick_owner, { AUTH, NF, FB, FB, OK, OK, OK } },
		/* A participant of another course is not found in this one. */
		{ "PATCH", nick_outsider, { AUTH, NF, NF, NF, NF, NF, NF } },
		{ "GET", lesson, { AUTH, NF, OK, OK, OK, OK, OK } },
		{ "DELETE", lesson, { AUTH, NF, FB, FB, FB, OK, OK } },
		{ "GET", project, { AUTH, NF, FB, OK, OK, OK, OK } },
	};
	struct request req;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (int a = 0; a < NACTORS; a++) {
			int got = check(rows[i].method, rows[i].path, (enum actor)a, &req);

			if (got != rows[i].want[a])
				fail_msg("%s %s as actor %d: %s, expected %s", rows[i].method, rows[i].path, a,
					 cohort_errcode(got), cohort_errcode(rows[i].want[a]));
		}
	}

	/* Owner routes, and a grantee outside the course. */
	{
		const int want[NACTORS] = { AUTH, NF, NO, NO, OK, NO, OK };

		for (int a = 0; a < NACTORS; a++)
			assert_int_equal(check("PUT", grant_reader, (enum actor)a, &req), want[a]);
	}
	assert_int_equal(check("PUT", grant_outsider, OWNER, &req), NM);

	/* What the handler finds resolved. */
	assert_int_equal(check("PUT", grant_reader, OWNER, &req), 0);
	assert_true(req.has_project && req.has_course && req.has_target);
	assert_int_equal(req.project.id, f.project);
	assert_int_equal(req.course.id, f.course);
	assert_int_equal(req.me.id, f.p_owner);
	assert_int_equal(req.target.id, f.p_reader);
	assert_true(req.access.owner);
	assert_int_equal(check("GET", lesson, ADMIN, &req), 0);
	assert_true(req.has_lesson);
	assert_int_equal(req.me.id, 0); /* an administrator outside the course */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
	};
	char err[256];

	if (config_load(&cfg, NULL, err, sizeof(err)))
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
