/*
 * authz.h — who is connecting, and may they follow what they ask for:
 * decided off the event loop.
 *
 * A check verifies the connection's token (core session.h: signature, time,
 * issuer, audience, an existing and enabled user), asks core scope.h whether
 * that principal may follow each requested scope, and — for a token with a
 * jti — whether the token was signed out (kv_revoked_token, on the feed's
 * command connection). The token and SQL work runs on libuv's worker pool
 * (uv_queue_work); each running job borrows one SQLite handle from a small
 * pool guarded by a mutex, so a handle is never used by two threads at once.
 * The outcome arrives on the loop through the callback.
 *
 * Checks that need neither (dev scopes only, or an anonymous client asking
 * for anything else) complete before authz_start returns.
 */
#ifndef COHORT_STREAM_AUTHZ_H
#define COHORT_STREAM_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/principal.h"

struct authz;
struct authz_req;
struct cohort_config;
struct feed;
struct sub_request;
struct uv_loop_s;

/* What a connection keeps of its principal (issue 6 re-checks with it);
 * the login names the actor of the events its edits publish. */
struct authz_who {
	int64_t user_id; /* 0: anonymous */
	bool is_admin;
	char login[LOGIN_MAX + 1];
};

/* err is 0, or the first refusal: COHORT_E_AUTH, COHORT_E_BADTOKEN,
 * COHORT_E_USERDISABLED, COHORT_E_FORBIDDEN, COHORT_E_NOTFOUND,
 * COHORT_E_UNAVAILABLE (Redis or SQL could not answer). detail is a
 * client-facing sentence or NULL. who is set whenever the token was good
 * and not signed out (also when a scope was refused), NULL otherwise. */
typedef void authz_done_fn(void *arg, int err, const char *detail, const struct authz_who *who);

/* Loads the keyring (auth.*) and checks that db.path opens; errbuf says why
 * it failed. Runs before the loop starts. */
int authz_new(struct authz **out, struct uv_loop_s *loop, const struct cohort_config *cfg, char *errbuf,
	      size_t errlen);
/* The feed whose command connection answers the signed-out check (NULL
 * while stopping: checks that reach that step fail with UNAVAILABLE). */
void authz_set_feed(struct authz *a, struct feed *f);
/* After the loop has ended (no job is running then). NULL is fine. */
void authz_free(struct authz *a);

/* Starts a check of req for a connection whose principal is `known` (NULL:
 * not resolved yet; then tok, or no token at all, decides). done runs
 * exactly once unless the check is cancelled — possibly before this
 * returns. *out receives the pending check (set before the job starts, left
 * alone when done ran already). Returns COHORT_E_UNAVAILABLE without calling
 * done when stream.auth_pending_max checks are pending. */
int authz_start(struct authz *a, const char *tok, size_t toklen, const struct authz_who *known,
		const struct sub_request *req, authz_done_fn *done, void *arg, struct authz_req **out);
/* done will not run. NULL is fine. */
void authz_cancel(struct authz_req *r);

/* Checks pending now (metrics, tests). */
size_t authz_pending(const struct authz *a);

#endif
