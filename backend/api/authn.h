/*
 * authn.h — who is calling: the token of a request (Authorization: Bearer,
 * else the session cookie) verified into a principal, once per request,
 * before the permission check.
 *
 * The keyring is loaded once at start (authn_init) and only read afterwards,
 * so every worker thread shares it without locks.
 */
#ifndef COHORT_API_AUTHN_H
#define COHORT_API_AUTHN_H

#include <stddef.h>

struct cohort_config;
struct jwt_keyring;
struct request;
struct response;

/* Loads the keyring from the configuration; COHORT_E_CONFIG with a reason
 * in err when the secret file or the external keys cannot be used. */
int authn_init(const struct cohort_config *cfg, char *err, size_t errlen);
/* The loaded keyring, or NULL before authn_init succeeded. */
const struct jwt_keyring *authn_keyring(void);

/*
 * Fills req->who (and req->claims, req->db) from the request's token:
 *  - no token: 0, anonymous (the permission check answers 401 unauthenticated);
 *  - a token that is malformed, forged, expired, for an unknown user, or
 *    signed out (its jti is in Redis): COHORT_E_BADTOKEN;
 *  - a disabled user: COHORT_E_USERDISABLED;
 *  - the database or Redis unreachable: COHORT_E_DB / COHORT_E_REDIS.
 */
int authn_resolve(struct request *req, struct response *res);

#endif
