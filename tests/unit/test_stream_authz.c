/*
 * Unit tests for cohort-stream's authz: which checks finish at once and
 * which go to the worker pool, the principal they return, refusals, the
 * pending bound, cancellation, and failing closed when the signed-out check
 * cannot be made (no Redis command connection here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testdb.h"
#include "core/auth.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/jwt.h"
#include "core/lesson.h"
#include "core/project.h"
#include "core/strbuf.h"
#include "stream/authz.h"
#include "stream/subscription.h"

#include <uv.h>

struct fixture {
	struct testdb t;
	char secret[160];
	struct cohort_config cfg;
	struct jwt_keyring kr;
	uv_loop_t loop;
	struct authz *az;
	int64_t alice, bob, project;
	char alice_tok[1024];
};

struct outcome {
	int calls;
	int err;
	bool have_who;
	struct authz_who who;
};

static void on_done(void *arg, int err, const char *detail, const struct authz_who *who)
{
	struct outcome *o = arg;

	(void)detail;
	o->calls++;
	o->err = err;
	o->have_who = who != NULL;
	if (who)
		o->who = *who;
}

static int setup_with(void **state, const char *pending_max)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char errbuf[256] = "", code[JOIN_CODE_LEN + 1];
	struct strbuf sb = STRBUF_INIT;
	struct lesson l;
	struct project p;
	int64_t teacher, course, part;
	bool created;

	if (!f)
		return -1;
	testdb_open(&f->t);
	snprintf(f->secret, sizeof(f->secret), "%s/jwt.secret", f->t.dir);
	assert_int_equal(auth_secret_init(f->secret, &created), 0);
	setenv("COHORT_DB_PATH", f->t.path, 1);
	setenv("COHORT_AUTH_SECRET_FILE", f->secret, 1);
	setenv("COHORT_STREAM_AUTH_PENDING_MAX", pending_max, 1);
	if (config_load(&f->cfg, NULL, errbuf, sizeof(errbuf)))
		fail_msg("config_load: %s", errbuf);
	assert_int_equal(auth_keyring_load(&f->cfg, &f->kr, errbuf, sizeof(errbuf)), 0);

	teacher = testdb_user(f->t.db, "teach", false);
	f->alice = testdb_user(f->t.db, "alice", false);
	f->bob = testdb_user(f->t.db, "bob", false);
	course = testdb_course(f->t.db, teacher, "C", NULL, code);
	part = testdb_join(f->t.db, f->alice, code, "alice");
	testdb_join(f->t.db, f->bob, code, "bob");
	assert_int_equal(lesson_create(f->t.db, course, "L", 1, "", 0, &l), 0);
	assert_int_equal(project_ensure(f->t.db, l.id, part, &p), 0);
	f->project = p.id;
	assert_int_equal(jwt_sign_local(&f->kr, "alice", clock_wall_us() / 1000000, 600, &sb, NULL), 0);
	snprintf(f->alice_tok, sizeof(f->alice_tok), "%s", sb.buf);
	strbuf_release(&sb);

	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(authz_new(&f->az, &f->loop, &f->cfg, errbuf, sizeof(errbuf)), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, "256");
}

static int setup_one(void **state)
{
	return setup_with(state, "1");
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	uv_run(&f->loop, UV_RUN_DEFAULT);
	authz_free(f->az);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	config_release(&f->cfg);
	testdb_close(&f->t);
	free(f);
	return 0;
}

static void parse(const char *list, struct sub_request *req)
{
	static const struct scope_policy pol = { .dev_enabled = true };

	assert_int_equal(subscription_parse_list(list, strlen(list), &pol, 16, req, NULL, 0), 0);
}

static void list_for(char *buf, size_t len, const char *kind, int64_t id)
{
	snprintf(buf, len, "%s:%lld", kind, (long long)id);
}

static void test_anonymous_needs_no_pool(void **state)
{
	struct fixture *f = *state;
	struct sub_request req;
	struct outcome o = { 0 };
	struct authz_req *r = (struct authz_req *)(uintptr_t)1; /* must stay untouched */
	char list[64];

	parse("dev:a,dev:b", &req);
	assert_int_equal(authz_start(f->az, NULL, 0, NULL, &req, on_done, &o, &r), 0);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.err, 0);
	assert_false(o.have_who);
	assert_true(r == (struct authz_req *)(uintptr_t)1);
	subscription_release(&req);

	list_for(list, sizeof(list), "project", f->project);
	parse(list, &req);
	memset(&o, 0, sizeof(o));
	assert_int_equal(authz_start(f->az, NULL, 0, NULL, &req, on_done, &o, &r), 0);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.err, COHORT_E_AUTH);
	assert_int_equal(authz_pending(f->az), 0);
	subscription_release(&req);
}

static void test_known_principal_goes_to_the_pool(void **state)
{
	struct fixture *f = *state;
	struct sub_request req;
	struct outcome o = { 0 };
	struct authz_who alice = { f->alice, false, "alice" }, bob = { f->bob, false, "bob" };
	struct authz_req *r = NULL;
	char list[64];

	list_for(list, sizeof(list), "project", f->project);
	parse(list, &req);
	assert_int_equal(authz_start(f->az, NULL, 0, &alice, &req, on_done, &o, &r), 0);
	assert_non_null(r);
	assert_int_equal(o.calls, 0); /* not on the caller's stack: on the pool */
	assert_int_equal(authz_pending(f->az), 1);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.err, 0);
	assert_true(o.have_who && o.who.user_id == f->alice);
	assert_int_equal(authz_pending(f->az), 0);

	memset(&o, 0, sizeof(o));
	assert_int_equal(authz_start(f->az, NULL, 0, &bob, &req, on_done, &o, &r), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.err, COHORT_E_FORBIDDEN);

	/* dev only with a known principal: nothing to look up. */
	subscription_release(&req);
	parse("dev:x", &req);
	memset(&o, 0, sizeof(o));
	assert_int_equal(authz_start(f->az, NULL, 0, &bob, &req, on_done, &o, &r), 0);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.err, 0);
	subscription_release(&req);
}

static void test_tokens(void **state)
{
	struct fixture *f = *state;
	struct sub_request req;
	struct outcome o = { 0 };
	struct authz_req *r = NULL;
	char list[64];

	list_for(list, sizeof(list), "project", f->project);
	parse(list, &req);
	/* A bad token: refused, no principal. */
	assert_int_equal(authz_start(f->az, "a.b.c", 5, NULL, &req, on_done, &o, &r), 0);
	assert_int_equal(o.calls, 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.err, COHORT_E_BADTOKEN);
	assert_false(o.have_who);
	/* A good token with a jti, but no Redis to ask whether it was signed
	 * out: refused as unavailable (fail closed), principal known. */
	memset(&o, 0, sizeof(o));
	assert_int_equal(authz_start(f->az, f->alice_tok, strlen(f->alice_tok), NULL, &req, on_done, &o, &r), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.err, COHORT_E_UNAVAILABLE);
	assert_false(o.have_who); /* unchecked: the connection must not keep it */
	subscription_release(&req);
}

static void test_cancel(void **state)
{
	struct fixture *f = *state;
	struct sub_request req;
	struct outcome o = { 0 };
	struct authz_who alice = { f->alice, false, "alice" };
	struct authz_req *r = NULL;
	char list[64];

	list_for(list, sizeof(list), "project", f->project);
	parse(list, &req);
	assert_int_equal(authz_start(f->az, NULL, 0, &alice, &req, on_done, &o, &r), 0);
	subscription_release(&req); /* the check owns copies */
	authz_cancel(r);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(o.calls, 0);
	assert_int_equal(authz_pending(f->az), 0);
	authz_cancel(NULL);
}

static void test_pending_bound(void **state)
{
	struct fixture *f = *state;
	struct sub_request req;
	struct outcome o1 = { 0 }, o2 = { 0 };
	struct authz_who alice = { f->alice, false, "alice" };
	struct authz_req *r1 = NULL, *r2 = NULL;
	char list[64];

	list_for(list, sizeof(list), "project", f->project);
	parse(list, &req);
	assert_int_equal(authz_start(f->az, NULL, 0, &alice, &req, on_done, &o1, &r1), 0);
	assert_int_equal(authz_start(f->az, NULL, 0, &alice, &req, on_done, &o2, &r2), COHORT_E_UNAVAILABLE);
	assert_null(r2);
	assert_int_equal(o2.calls, 0);
	/* Checks that need no pool are not bounded. */
	subscription_release(&req);
	parse("dev:a", &req);
	assert_int_equal(authz_start(f->az, NULL, 0, NULL, &req, on_done, &o2, &r2), 0);
	assert_int_equal(o2.calls, 1);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(o1.calls, 1);
	assert_int_equal(o1.err, 0);
	subscription_release(&req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_anonymous_needs_no_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_known_principal_goes_to_the_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_bound, setup_one, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
