/*
 * Unit tests for api/router: matching (literals, {param} segments, table
 * order, HEAD on GET rows, 404 vs 405 with the Allow list), parameters, and
 * the startup check of route tables — including cohort-api's own table.
 */
#include "api/router.h"
#include "api/routes.h"
#include "core/err.h"
#include "core/strbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static int h(struct request *req, struct response *res)
{
	(void)req;
	(void)res;
	return 0;
}

static const struct route table[] = {
	{ "GET", "/api/v1/health", PERM_PUBLIC, h, "health" },
	{ "POST", "/api/v1/dev/events", PERM_DEV, h, "dev_events" },
	{ "GET", "/api/v1/projects/mine", PERM_USER, h, "projects_mine" },
	{ "GET", "/api/v1/projects/{id}", PERM_PROJECT_READ, h, "project_get" },
	{ "DELETE", "/api/v1/projects/{id}", PERM_PROJECT_WRITE, h, "project_delete" },
	{ "PUT", "/api/v1/projects/{id}/grants/{participant}", PERM_PROJECT_WRITE, h, "grant_put" },
	{ "DELETE", "/api/v1/projects/{id}/grants/{participant}", PERM_PROJECT_WRITE, h, "grant_delete" },
	{ "GET", "/", PERM_PUBLIC, h, "root" },
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

struct match_case {
	const char *method;
	const char *path;
	int err;
	const char *name;   /* route expected on success */
	const char *params; /* "name=value;name=value" expected on success */
	const char *allow;  /* expected Allow list on COHORT_E_METHOD */
};

static const struct match_case cases[] = {
	{ "GET", "/api/v1/health", 0, "health", "", NULL },
	{ "HEAD", "/api/v1/health", 0, "health", "", NULL },
	{ "POST", "/api/v1/health", COHORT_E_METHOD, NULL, NULL, "GET, HEAD" },
	{ "OPTIONS", "/api/v1/health", COHORT_E_METHOD, NULL, NULL, "GET, HEAD" },
	{ "get", "/api/v1/health", COHORT_E_METHOD, NULL, NULL, "GET, HEAD" },
	{ "GET", "/api/v1/health/", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "GET", "/api/v1/healthz", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "GET", "/api/v1/heal", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "GET", "/api/v1", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "GET", "//api/v1/health", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "GET", "/api/v1//health", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "GET", "/api/v1/./health", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "GET", "/API/v1/health", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "GET", "/api/v1/heal%74h", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "GET", "api/v1/health", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "GET", "", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "POST", "/api/v1/dev/events", 0, "dev_events", "", NULL },
	{ "GET", "/api/v1/dev/events", COHORT_E_METHOD, NULL, NULL, "POST" },
	/* A literal row listed first wins over a parameter row. */
	{ "GET", "/api/v1/projects/mine", 0, "projects_mine", "", NULL },
	{ "GET", "/api/v1/projects/42", 0, "project_get", "id=42", NULL },
	{ "HEAD", "/api/v1/projects/42", 0, "project_get", "id=42", NULL },
	{ "DELETE", "/api/v1/projects/42", 0, "project_delete", "id=42", NULL },
	{ "DELETE", "/api/v1/projects/mine", 0, "project_delete", "id=mine", NULL },
	{ "PATCH", "/api/v1/projects/42", COHORT_E_METHOD, NULL, NULL, "GET, HEAD, DELETE" },
	{ "GET", "/api/v1/projects/", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "GET", "/api/v1/projects", COHORT_E_NOROUTE, NULL, NULL, NULL },
	/* Parameters are whole raw segments: "%2F" stays inside one. */
	{ "GET", "/api/v1/projects/a%2Fb", 0, "project_get", "id=a%2Fb", NULL },
	{ "GET", "/api/v1/projects/a/b", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "PUT", "/api/v1/projects/42/grants/7", 0, "grant_put", "id=42;participant=7", NULL },
	{ "DELETE", "/api/v1/projects/42/grants/7", 0, "grant_delete", "id=42;participant=7", NULL },
	{ "GET", "/api/v1/projects/42/grants/7", COHORT_E_METHOD, NULL, NULL, "PUT, DELETE" },
	{ "PUT", "/api/v1/projects/42/grants/", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "PUT", "/api/v1/projects//grants/7", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "PUT", "/api/v1/projects/42/grants/7/x", COHORT_E_NOROUTE, NULL, NULL, NULL },
	{ "GET", "/", 0, "root", "", NULL },
	{ "POST", "/", COHORT_E_METHOD, NULL, NULL, "GET, HEAD" },
};

static void params_string(const struct route_match *m, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_adds(out, "");
	for (size_t i = 0; i < m->nparams; i++)
		strbuf_addf(out, "%s%.*s=%.*s", i ? ";" : "", (int)m->params[i].name_len, m->params[i].name,
			    (int)m->params[i].value_len, m->params[i].value);
}

static void test_match_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct match_case *c = &cases[i];
		struct route_match m;
		struct strbuf params = STRBUF_INIT;
		int err = router_match(table, NTABLE, c->method, c->path, strlen(c->path), &m);

		print_message("case %zu: %s %s\n", i, c->method, c->path);
		assert_int_equal(err, c->err);
		if (c->err == 0) {
			assert_non_null(m.route);
			assert_string_equal(m.route->name, c->name);
			assert_ptr_equal(m.route, &table[m.index]);
			params_string(&m, &params);
			assert_string_equal(params.buf, c->params);
			strbuf_release(&params);
		} else {
			assert_null(m.route);
			assert_int_equal(m.nparams, 0);
		}
		if (c->err == COHORT_E_METHOD)
			assert_string_equal(m.allow, c->allow);
	}
}

static void test_match_uses_path_len(void **state)
{
	const char *p = "/api/v1/healthXYZ";
	struct route_match m;

	(void)state;
	assert_int_equal(router_match(table, NTABLE, "GET", p, strlen("/api/v1/health"), &m), 0);
	assert_string_equal(m.route->name, "health");
	assert_int_equal(router_match(table, NTABLE, "GET", p, strlen("/api/v1/heal"), &m), COHORT_E_NOROUTE);
}

static void test_route_param(void **state)
{
	const char *path = "/api/v1/projects/12/grants/345";
	struct route_match m;
	const char *v;
	size_t n;

	(void)state;
	assert_int_equal(router_match(table, NTABLE, "PUT", path, strlen(path), &m), 0);
	assert_int_equal(route_param(&m, "id", &v, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(v, "12", 2);
	assert_int_equal(route_param(&m, "participant", &v, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(v, "345", 3);
	assert_int_equal(route_param(&m, "i", &v, &n), COHORT_E_NOTFOUND);
	assert_null(v);
	assert_int_equal(route_param(&m, "idx", &v, &n), COHORT_E_NOTFOUND);
	assert_int_equal(route_param(&m, "participants", &v, &n), COHORT_E_NOTFOUND);
}

static void test_allow_list_lists_each_method_once(void **state)
{
	/* Several rows per method on one path: each method appears once, in
	 * table order, HEAD right after GET. */
	static const struct route many[] = {
		{ "DELETE", "/x/{a}", PERM_PUBLIC, h, "a1" },
		{ "DELETE", "/x/{b}", PERM_PUBLIC, h, "a2" },
		{ "PATCH", "/x/{c}", PERM_PUBLIC, h, "a3" },
		{ "PUT", "/x/{d}", PERM_PUBLIC, h, "a4" },
		{ "POST", "/x/{e}", PERM_PUBLIC, h, "a5" },
		{ "GET", "/x/{f}", PERM_PUBLIC, h, "a6" },
	};
	struct route_match m;

	(void)state;
	assert_int_equal(router_match(many, 6, "TRACE", "/x/1", 4, &m), COHORT_E_METHOD);
	assert_string_equal(m.allow, "DELETE, PATCH, PUT, POST, GET, HEAD");
	assert_true(strlen(m.allow) < ROUTE_ALLOW_MAX);
}

struct check_case {
	struct route row;
	const char *why; /* substring of the reason; NULL: the table is fine */
};

static const struct check_case checks[] = {
	{ { "GET", "/api/v1/x", PERM_PUBLIC, h, "x" }, NULL },
	{ { "GET", "/", PERM_PUBLIC, h, "x" }, NULL },
	{ { "GET", "/a/{id}/b/{other_id2}", PERM_PUBLIC, h, "x" }, NULL },
	{ { "GET", "/a-b.c_d~e", PERM_PUBLIC, h, "x" }, NULL },
	{ { "HEAD", "/x", PERM_PUBLIC, h, "x" }, "unknown method" },
	{ { "get", "/x", PERM_PUBLIC, h, "x" }, "unknown method" },
	{ { NULL, "/x", PERM_PUBLIC, h, "x" }, "unknown method" },
	{ { "GET", NULL, PERM_PUBLIC, h, "x" }, "missing pattern" },
	{ { "GET", "x", PERM_PUBLIC, h, "x" }, "start with '/'" },
	{ { "GET", "", PERM_PUBLIC, h, "x" }, "start with '/'" },
	{ { "GET", "/x/", PERM_PUBLIC, h, "x" }, "empty segment" },
	{ { "GET", "/x//y", PERM_PUBLIC, h, "x" }, "empty segment" },
	{ { "GET", "/x/{}", PERM_PUBLIC, h, "x" }, "whole segment" },
	{ { "GET", "/x/{id", PERM_PUBLIC, h, "x" }, "whole segment" },
	{ { "GET", "/x/{id}y", PERM_PUBLIC, h, "x" }, "whole segment" },
	{ { "GET", "/x/{Id}", PERM_PUBLIC, h, "x" }, "whole segment" },
	{ { "GET", "/x/{1d}", PERM_PUBLIC, h, "x" }, "whole segment" },
	{ { "GET", "/x/{id}/{id}", PERM_PUBLIC, h, "x" }, "used twice" },
	{ { "GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", PERM_PUBLIC, h, "x" }, "too many" },
	{ { "GET", "/x y", PERM_PUBLIC, h, "x" }, "literal segment" },
	{ { "GET", "/x%20y", PERM_PUBLIC, h, "x" }, "literal segment" },
	{ { "GET", "/x", PERM_PUBLIC, NULL, "x" }, "missing handler" },
	{ { "GET", "/x", PERM_PUBLIC, h, "" }, "name must be" },
	{ { "GET", "/x", PERM_PUBLIC, h, NULL }, "name must be" },
	{ { "GET", "/x", PERM_PUBLIC, h, "X-y" }, "name must be" },
	{ { "GET", "/x", PERM__COUNT, h, "x" }, "unknown permission" },
};

static void test_check_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		char err[256] = "";
		int r = router_check(&checks[i].row, 1, err, sizeof(err));

		print_message("check %zu: %s\n", i, checks[i].row.pattern ? checks[i].row.pattern : "(null)");
		if (!checks[i].why) {
			assert_int_equal(r, 0);
		} else {
			assert_int_equal(r, COHORT_E_CONFIG);
			assert_non_null(strstr(err, checks[i].why));
		}
	}
}

static void test_check_table_conflicts(void **state)
{
	static const struct route dup_name[] = {
		{ "GET", "/a", PERM_PUBLIC, h, "same" },
		{ "POST", "/a", PERM_PUBLIC, h, "same" },
	};
	static const struct route hidden[] = {
		{ "GET", "/p/{id}", PERM_PUBLIC, h, "one" },
		{ "GET", "/p/{other}", PERM_PUBLIC, h, "two" },
	};
	static const struct route fine[] = {
		{ "GET", "/p/{id}", PERM_PUBLIC, h, "one" },
		{ "DELETE", "/p/{id}", PERM_PUBLIC, h, "two" },
		{ "GET", "/p/{id}/x", PERM_PUBLIC, h, "three" },
		{ "GET", "/p/x/{id}", PERM_PUBLIC, h, "four" },
	};
	char err[256];

	(void)state;
	assert_int_equal(router_check(dup_name, 2, err, sizeof(err)), COHORT_E_CONFIG);
	assert_non_null(strstr(err, "name used twice"));
	assert_int_equal(router_check(hidden, 2, err, sizeof(err)), COHORT_E_CONFIG);
	assert_non_null(strstr(err, "hidden"));
	assert_int_equal(router_check(fine, 4, err, sizeof(err)), 0);
	assert_int_equal(router_check(table, NTABLE, err, sizeof(err)), 0);
}

static void test_real_table(void **state)
{
	size_t n;
	const struct route *t = routes_table(&n);
	char err[256] = "";

	(void)state;
	assert_true(n > 0);
	assert_int_equal(router_check(t, n, err, sizeof(err)), 0);
	/* Every row is reachable through the matcher by its own pattern. */
	for (size_t i = 0; i < n; i++) {
		struct route_match m;

		if (strchr(t[i].pattern, '{'))
			continue;
		assert_int_equal(router_match(t, n, t[i].method, t[i].pattern, strlen(t[i].pattern), &m), 0);
		assert_ptr_equal(m.route, &t[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_match_uses_path_len),
		cmocka_unit_test(test_route_param),
		cmocka_unit_test(test_allow_list_lists_each_method_once),
		cmocka_unit_test(test_check_rows),
		cmocka_unit_test(test_check_table_conflicts),
		cmocka_unit_test(test_real_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
