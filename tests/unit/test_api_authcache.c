/*
 * Unit tests for api/authcache: a token is found only with the same bytes
 * and at the same database generation, and never once its claims have
 * expired or are not yet valid; a scope is copied whole into the request
 * (has_* included) and missed under another key or generation; refused
 * puts (too long a token, no cache) keep nothing; both tables stay bounded,
 * replaced round robin, and putting a known key again replaces it in place.
 */
#include "api/authcache.h"
#include "api/request.h"
#include "core/db.h"
#include "core/jwt.h"
#include "core/principal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define NOW 1800000000

static const struct db_gen GEN = { .kind = DB_GEN_WAL, .data_version = 7, .changes = 100 };

static int setup(void **state)
{
	*state = authcache_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	authcache_free(*state);
	return 0;
}

static void claims_for(struct jwt_claims *c, const char *sub, int64_t exp, int64_t nbf)
{
	memset(c, 0, sizeof(*c));
	c->kind = JWT_LOCAL;
	snprintf(c->sub, sizeof(c->sub), "%s", sub);
	snprintf(c->jti, sizeof(c->jti), "jti-%s", sub);
	c->iat = NOW - 10;
	c->nbf = nbf;
	c->exp = exp;
}

static void who_for(struct principal *p, int64_t id, const char *login)
{
	memset(p, 0, sizeof(*p));
	p->user_id = id;
	p->is_admin = id == 1;
	snprintf(p->login, sizeof(p->login), "%s", login);
}

static void put_token(struct authcache *ac, const struct db_gen *gen, const char *tok, int64_t id, int64_t exp)
{
	struct principal who;
	struct jwt_claims c;

	who_for(&who, id, tok);
	claims_for(&c, tok, exp, 0);
	authcache_token_put(ac, gen, tok, strlen(tok), &who, &c);
}

static bool get_token(struct authcache *ac, const struct db_gen *gen, const char *tok, int64_t now,
		      struct principal *who, struct jwt_claims *c)
{
	memset(who, 0xA5, sizeof(*who));
	memset(c, 0xA5, sizeof(*c));
	return authcache_token_get(ac, gen, tok, strlen(tok), now, who, c);
}

static void test_token_hit_and_misses(void **state)
{
	struct authcache *ac = *state;
	struct db_gen other = GEN;
	struct principal who;
	struct jwt_claims c;

	assert_false(get_token(ac, &GEN, "aaa.bbb.ccc", NOW, &who, &c));
	put_token(ac, &GEN, "aaa.bbb.ccc", 42, NOW + 3600);

	assert_true(get_token(ac, &GEN, "aaa.bbb.ccc", NOW, &who, &c));
	assert_int_equal(who.user_id, 42);
	assert_false(who.is_admin);
	assert_string_equal(who.login, "aaa.bbb.ccc");
	assert_string_equal(c.sub, "aaa.bbb.ccc");
	assert_string_equal(c.jti, "jti-aaa.bbb.ccc");
	assert_int_equal(c.exp, NOW + 3600);
	assert_int_equal(c.kind, JWT_LOCAL);

	/* Other bytes: one character changed, a prefix, a longer token. */
	assert_false(get_token(ac, &GEN, "aaa.bbb.ccd", NOW, &who, &c));
	assert_false(authcache_token_get(ac, &GEN, "aaa.bbb.ccc", 10, NOW, &who, &c));
	assert_false(get_token(ac, &GEN, "aaa.bbb.cccc", NOW, &who, &c));

	/* Any other generation, in either half. */
	other.data_version++;
	assert_false(get_token(ac, &other, "aaa.bbb.ccc", NOW, &who, &c));
	other = GEN;
	other.kind = DB_GEN_PRAGMA; /* the same numbers from the other source */
	assert_false(get_token(ac, &other, "aaa.bbb.ccc", NOW, &who, &c));
	other.kind = DB_GEN_NONE; /* no generation read: never a hit */
	assert_false(get_token(ac, &other, "aaa.bbb.ccc", NOW, &who, &c));
	other = GEN;
	other.changes++;
	assert_false(get_token(ac, &other, "aaa.bbb.ccc", NOW, &who, &c));

	/* Put again at the new generation: found there, not at the old one. */
	put_token(ac, &other, "aaa.bbb.ccc", 43, NOW + 3600);
	assert_true(get_token(ac, &other, "aaa.bbb.ccc", NOW, &who, &c));
	assert_int_equal(who.user_id, 43);
	assert_false(get_token(ac, &GEN, "aaa.bbb.ccc", NOW, &who, &c));
}

/* The time limits are checked on every use, as jwt_verify would. */
static void test_token_time_limits(void **state)
{
	struct authcache *ac = *state;
	struct principal who;
	struct jwt_claims c;

	put_token(ac, &GEN, "exp.tok.en", 5, NOW + 100);
	assert_true(get_token(ac, &GEN, "exp.tok.en", NOW, &who, &c));
	assert_null(jwt_time_problem(NOW + 100, 0, NOW + 100 + JWT_LEEWAY_S - 1));
	assert_true(get_token(ac, &GEN, "exp.tok.en", NOW + 100 + JWT_LEEWAY_S - 1, &who, &c));
	assert_non_null(jwt_time_problem(NOW + 100, 0, NOW + 100 + JWT_LEEWAY_S));
	assert_false(get_token(ac, &GEN, "exp.tok.en", NOW + 100 + JWT_LEEWAY_S, &who, &c));
	assert_false(get_token(ac, &GEN, "exp.tok.en", NOW + 100000, &who, &c));

	/* Not yet valid. */
	who_for(&who, 6, "nbf");
	claims_for(&c, "nbf", NOW + 3600, NOW + 1000);
	authcache_token_put(ac, &GEN, "nbf.tok.en", 10, &who, &c);
	assert_false(get_token(ac, &GEN, "nbf.tok.en", NOW, &who, &c));
	assert_true(get_token(ac, &GEN, "nbf.tok.en", NOW + 1000, &who, &c));
	assert_int_equal(who.user_id, 6);
}

static void test_token_refused_puts(void **state)
{
	struct authcache *ac = *state;
	struct principal who;
	struct jwt_claims c;
	size_t n = JWT_MAX_LEN + 1;
	char *big = malloc(n + 1);

	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	who_for(&who, 9, "big");
	claims_for(&c, "big", NOW + 3600, 0);
	authcache_token_put(ac, &GEN, big, n, &who, &c);
	assert_false(authcache_token_get(ac, &GEN, big, n, NOW, &who, &c));
	/* At the limit it is kept. */
	authcache_token_put(ac, &GEN, big, JWT_MAX_LEN, &who, &c);
	assert_true(authcache_token_get(ac, &GEN, big, JWT_MAX_LEN, NOW, &who, &c));
	free(big);

	/* No cache: nothing kept, nothing found, no crash. */
	authcache_token_put(NULL, &GEN, "a.b.c", 5, &who, &c);
	assert_false(authcache_token_get(NULL, &GEN, "a.b.c", 5, NOW, &who, &c));
	authcache_free(NULL);
}

static void test_token_round_robin(void **state)
{
	struct authcache *ac = *state;
	struct principal who;
	struct jwt_claims c;
	char tok[32];

	for (int i = 0; i < AUTHCACHE_TOKENS; i++) {
		snprintf(tok, sizeof(tok), "t.%d.x", i);
		put_token(ac, &GEN, tok, 100 + i, NOW + 3600);
	}
	/* A known token put again takes its own slot, nobody else's. */
	put_token(ac, &GEN, "t.3.x", 999, NOW + 3600);
	for (int i = 0; i < AUTHCACHE_TOKENS; i++) {
		snprintf(tok, sizeof(tok), "t.%d.x", i);
		assert_true(get_token(ac, &GEN, tok, NOW, &who, &c));
		assert_int_equal(who.user_id, i == 3 ? 999 : 100 + i);
	}
	/* One more: the oldest slot goes, the others stay. */
	put_token(ac, &GEN, "t.new.x", 500, NOW + 3600);
	assert_false(get_token(ac, &GEN, "t.0.x", NOW, &who, &c));
	assert_true(get_token(ac, &GEN, "t.new.x", NOW, &who, &c));
	for (int i = 1; i < AUTHCACHE_TOKENS; i++) {
		snprintf(tok, sizeof(tok), "t.%d.x", i);
		assert_true(get_token(ac, &GEN, tok, NOW, &who, &c));
	}
	/* Many more: never more than AUTHCACHE_TOKENS found. */
	for (int i = 0; i < 5 * AUTHCACHE_TOKENS; i++) {
		snprintf(tok, sizeof(tok), "u.%d.x", i);
		put_token(ac, &GEN, tok, 1000 + i, NOW + 3600);
	}
	int found = 0;

	for (int i = 0; i < 5 * AUTHCACHE_TOKENS; i++) {
		snprintf(tok, sizeof(tok), "u.%d.x", i);
		if (get_token(ac, &GEN, tok, NOW, &who, &c)) {
			found++;
			assert_int_equal(who.user_id, 1000 + i);
			assert_true(i >= 4 * AUTHCACHE_TOKENS);
		}
	}
	assert_int_equal(found, AUTHCACHE_TOKENS);
}

static void fill_request(struct request *req, int64_t id, bool has_lesson)
{
	memset(req, 0, sizeof(*req));
	req->has_course = true;
	req->has_lesson = has_lesson;
	req->has_project = true;
	req->course.id = id;
	snprintf(req->course.name, sizeof(req->course.name), "course %lld", (long long)id);
	req->lesson.id = has_lesson ? id + 1 : 0;
	req->project.id = id + 2;
	req->project.owner_id = id + 3;
	snprintf(req->project.owner_nickname, sizeof(req->project.owner_nickname), "nick %lld", (long long)id);
	req->me.id = id + 4;
	req->me.role = ROLE_STUDENT;
	snprintf(req->me.login, sizeof(req->me.login), "login%lld", (long long)id);
	req->access.read = true;
	req->access.write = id % 2 == 0;
	req->access.owner = false;
	req->access.viewer_role = ROLE_STUDENT;
	req->access.viewer_participant = id + 4;
}

static void test_scope(void **state)
{
	struct authcache *ac = *state;
	struct authcache_scope_key key = { .user = 5, .project = 12, .lesson = 0, .course = 0 }, k2;
	struct request *in = calloc(1, sizeof(*in)), *out = calloc(1, sizeof(*out));
	struct db_gen other = GEN;

	assert_non_null(in);
	assert_non_null(out);
	assert_false(authcache_scope_get(ac, &GEN, &key, out));
	fill_request(in, 10, false);
	authcache_scope_put(ac, &GEN, &key, in);

	memset(out, 0x5A, sizeof(*out));
	out->has_lesson = true;
	assert_true(authcache_scope_get(ac, &GEN, &key, out));
	assert_true(out->has_course);
	assert_false(out->has_lesson);
	assert_true(out->has_project);
	assert_int_equal(out->course.id, 10);
	assert_string_equal(out->course.name, "course 10");
	assert_int_equal(out->lesson.id, 0);
	assert_int_equal(out->project.id, 12);
	assert_int_equal(out->project.owner_id, 13);
	assert_string_equal(out->project.owner_nickname, "nick 10");
	assert_int_equal(out->me.id, 14);
	assert_int_equal(out->me.role, ROLE_STUDENT);
	assert_string_equal(out->me.login, "login10");
	assert_true(out->access.read);
	assert_true(out->access.write);
	assert_false(out->access.owner);
	assert_int_equal(out->access.viewer_participant, 14);

	/* Each field of the key, and each half of the generation, matters. */
	k2 = key, k2.user = 6;
	assert_false(authcache_scope_get(ac, &GEN, &k2, out));
	k2 = key, k2.project = 13;
	assert_false(authcache_scope_get(ac, &GEN, &k2, out));
	k2 = key, k2.lesson = 1;
	assert_false(authcache_scope_get(ac, &GEN, &k2, out));
	k2 = key, k2.course = 1;
	assert_false(authcache_scope_get(ac, &GEN, &k2, out));
	other.data_version++;
	assert_false(authcache_scope_get(ac, &other, &key, out));
	other = GEN, other.changes--;
	assert_false(authcache_scope_get(ac, &other, &key, out));

	/* A put at a newer generation replaces the answer (a revoked grant). */
	fill_request(in, 10, true);
	in->access.read = false;
	in->access.write = false;
	authcache_scope_put(ac, &other, &key, in);
	assert_false(authcache_scope_get(ac, &GEN, &key, out));
	assert_true(authcache_scope_get(ac, &other, &key, out));
	assert_false(out->access.read);
	assert_true(out->has_lesson);
	assert_int_equal(out->lesson.id, 11);

	/* No cache. */
	authcache_scope_put(NULL, &GEN, &key, in);
	assert_false(authcache_scope_get(NULL, &GEN, &key, out));
	free(in);
	free(out);
}

static void test_scope_round_robin(void **state)
{
	struct authcache *ac = *state;
	struct request *req = calloc(1, sizeof(*req));
	struct authcache_scope_key key = { .user = 1 };
	int found = 0;

	assert_non_null(req);
	for (int i = 0; i < 3 * AUTHCACHE_SCOPES; i++) {
		key.project = 100 + i;
		fill_request(req, 100 + i, false);
		authcache_scope_put(ac, &GEN, &key, req);
	}
	for (int i = 0; i < 3 * AUTHCACHE_SCOPES; i++) {
		key.project = 100 + i;
		if (authcache_scope_get(ac, &GEN, &key, req)) {
			found++;
			assert_int_equal(req->course.id, 100 + i);
			assert_true(i >= 2 * AUTHCACHE_SCOPES);
		}
	}
	assert_int_equal(found, AUTHCACHE_SCOPES);
	free(req);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_token_hit_and_misses),
		T(test_token_time_limits),
		T(test_token_refused_puts),
		T(test_token_round_robin),
		T(test_scope),
		T(test_scope_round_robin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
