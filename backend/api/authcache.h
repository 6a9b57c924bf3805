/*
 * authcache.h — what authorization read from the database, kept per worker
 * thread while the database has not changed.
 *
 * Every authorized request used to verify its token (signature, JSON
 * claims), load the token's user, then the project, course, lesson,
 * participation and grants its route names: half of cohort-api's CPU per
 * file read. None of that changes between two requests unless a
 * transaction changed the database, which db_generation (core/db.h) tells
 * in one small read. So the answers are kept under the generation they
 * were read at and reused only while it is still the database's
 * generation; any write anywhere (a grant, a removal, a disabled account,
 * a new course) makes every entry a miss. The token's time limits are
 * checked again on every use, the signed-out check is not cached here
 * (api/rcache.h), and nothing about a refused token or a refused scope is
 * kept.
 *
 * Per worker, so no locks: AUTHCACHE_TOKENS tokens and AUTHCACHE_SCOPES
 * scopes, replaced round robin.
 */
#ifndef COHORT_API_AUTHCACHE_H
#define COHORT_API_AUTHCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct authcache;
struct db_gen;
struct jwt_claims;
struct principal;
struct request;

#define AUTHCACHE_TOKENS 16
#define AUTHCACHE_SCOPES 32

/* The ids a route names; 0 for those it does not. */
struct authcache_scope_key {
	int64_t user, project, lesson, course;
};

struct authcache *authcache_new(void);
void authcache_free(struct authcache *ac);

/* The user and claims of token tok, verified at generation gen and still
 * within its time limits at now. */
bool authcache_token_get(struct authcache *ac, const struct db_gen *gen, const char *tok, size_t len,
			 int64_t now, struct principal *who, struct jwt_claims *claims);
void authcache_token_put(struct authcache *ac, const struct db_gen *gen, const char *tok, size_t len,
			 const struct principal *who, const struct jwt_claims *claims);

/* The course, lesson, project, participation and access resolved for key
 * at generation gen, copied into req (has_* included). */
bool authcache_scope_get(struct authcache *ac, const struct db_gen *gen, const struct authcache_scope_key *key,
			 struct request *req);
void authcache_scope_put(struct authcache *ac, const struct db_gen *gen, const struct authcache_scope_key *key,
			 const struct request *req);

#endif
