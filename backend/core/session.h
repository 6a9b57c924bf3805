/*
 * session.h — from a request's credentials to a principal, shared by
 * cohort-api and cohort-stream so both accept exactly the same tokens.
 *
 * A token travels as "Authorization: Bearer <jwt>", or in the session cookie
 * (auth.cookie_name), or — for clients that can set neither, such as a
 * browser's EventSource to another origin — as an access_token query
 * parameter (the caller extracts that one). Its subject ("sub") is the
 * user's login for both cohort's own and external tokens; the user must
 * exist and not be disabled. Signed-out token ids are checked by the caller
 * against Redis (kv_revoked_token), because cohort-stream must do that
 * without blocking its loop.
 */
#ifndef COHORT_SESSION_H
#define COHORT_SESSION_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct jwt_keyring;
struct jwt_claims;
struct principal;

/* Finds the token in an Authorization header (Bearer, any case) or else in a
 * Cookie header. 0 with *tok set; COHORT_E_AUTH when neither carries one;
 * COHORT_E_BADTOKEN when the Authorization header is present but not Bearer. */
int session_token_from_headers(const char *authorization, const char *cookie, const char *cookie_name,
			       const char **tok, size_t *len);

/* Verifies the token and loads its user: COHORT_E_BADTOKEN for a bad,
 * expired or unknown-subject token, COHORT_E_USERDISABLED for a disabled
 * user. claims may be NULL. */
int session_principal(struct db *db, const struct jwt_keyring *kr, const char *tok, size_t len, int64_t now,
		      struct principal *out, struct jwt_claims *claims);

#endif
