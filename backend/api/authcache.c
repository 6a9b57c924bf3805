/*
 * authcache.c — see authcache.h. Small arrays scanned linearly: a worker
 * sees a handful of tokens and scopes at a time.
 */
#include "api/authcache.h"
#include "api/request.h"
#include "core/db.h"
#include "core/jwt.h"
#include "core/principal.h"

#include <stdlib.h>
#include <string.h>

struct token_entry {
	bool used;
	struct db_gen gen;
	size_t len;
	char tok[JWT_MAX_LEN];
	struct principal who;
	struct jwt_claims claims;
};

struct scope_entry {
	bool used;
	struct db_gen gen;
	struct authcache_scope_key key;
	bool has_course, has_lesson, has_project;
	struct course course;
	struct lesson lesson;
	struct project project;
	struct participant me;
	struct access access;
};

struct authcache {
	struct token_entry tokens[AUTHCACHE_TOKENS];
	struct scope_entry scopes[AUTHCACHE_SCOPES];
	size_t next_token, next_scope;
};

struct authcache *authcache_new(void)
{
	return calloc(1, sizeof(struct authcache));
}

void authcache_free(struct authcache *ac)
{
	free(ac);
}

bool authcache_token_get(struct authcache *ac, const struct db_gen *gen, const char *tok, size_t len,
			 int64_t now, struct principal *who, struct jwt_claims *claims)
{
	for (size_t i = 0; ac && i < AUTHCACHE_TOKENS; i++) {
		const struct token_entry *e = &ac->tokens[i];

		if (!e->used || e->len != len || !db_gen_equal(&e->gen, gen) || memcmp(e->tok, tok, len))
			continue;
		if (jwt_time_problem(e->claims.exp, e->claims.nbf, now))
			return false;
		*who = e->who;
		*claims = e->claims;
		return true;
	}
	return false;
}

void authcache_token_put(struct authcache *ac, const struct db_gen *gen, const char *tok, size_t len,
			 const struct principal *who, const struct jwt_claims *claims)
{
	struct token_entry *e = NULL;

	if (!ac || len > sizeof(e->tok))
		return;
	for (size_t i = 0; i < AUTHCACHE_TOKENS && !e; i++)
		if (ac->tokens[i].used && ac->tokens[i].len == len && !memcmp(ac->tokens[i].tok, tok, len))
			e = &ac->tokens[i];
	if (!e) {
		e = &ac->tokens[ac->next_token];
		ac->next_token = (ac->next_token + 1) % AUTHCACHE_TOKENS;
	}
	e->used = true;
	e->gen = *gen;
	e->len = len;
	memcpy(e->tok, tok, len);
	e->who = *who;
	e->claims = *claims;
}

static bool same_key(const struct authcache_scope_key *a, const struct authcache_scope_key *b)
{
	return a->user == b->user && a->project == b->project && a->lesson == b->lesson && a->course == b->course;
}

bool authcache_scope_get(struct authcache *ac, const struct db_gen *gen, const struct authcache_scope_key *key,
			 struct request *req)
{
	for (size_t i = 0; ac && i < AUTHCACHE_SCOPES; i++) {
		const struct scope_entry *e = &ac->scopes[i];

		if (!e->used || !same_key(&e->key, key) || !db_gen_equal(&e->gen, gen))
			continue;
		req->has_course = e->has_course;
		req->has_lesson = e->has_lesson;
		req->has_project = e->has_project;
		req->course = e->course;
		req->lesson = e->lesson;
		req->project = e->project;
		req->me = e->me;
		req->access = e->access;
		return true;
	}
	return false;
}

void authcache_scope_put(struct authcache *ac, const struct db_gen *gen, const struct authcache_scope_key *key,
			 const struct request *req)
{
	struct scope_entry *e = NULL;

	if (!ac)
		return;
	for (size_t i = 0; i < AUTHCACHE_SCOPES && !e; i++)
		if (ac->scopes[i].used && same_key(&ac->scopes[i].key, key))
			e = &ac->scopes[i];
	if (!e) {
		e = &ac->scopes[ac->next_scope];
		ac->next_scope = (ac->next_scope + 1) % AUTHCACHE_SCOPES;
	}
	e->used = true;
	e->gen = *gen;
	e->key = *key;
	e->has_course = req->has_course;
	e->has_lesson = req->has_lesson;
	e->has_project = req->has_project;
	e->course = req->course;
	e->lesson = req->lesson;
	e->project = req->project;
	e->me = req->me;
	e->access = req->access;
}
