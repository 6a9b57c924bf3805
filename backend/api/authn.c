#include "api/authn.h"
#include "api/authcache.h"
#include "api/dispatch.h"
#include "api/rcache.h"
#include "api/request.h"
#include "api/worker.h"
#include "core/auth.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/jwt.h"
#include "core/kv.h"
#include "core/log.h"
#include "core/rconn.h"
#include "core/session.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <string.h>

static struct jwt_keyring keyring;
static bool keyring_loaded;

int authn_init(const struct cohort_config *cfg, char *err, size_t errlen)
{
	int rc = auth_keyring_load(cfg, &keyring, err, errlen);

	keyring_loaded = rc == 0;
	return rc ? COHORT_E_CONFIG : 0;
}

const struct jwt_keyring *authn_keyring(void)
{
	return keyring_loaded ? &keyring : NULL;
}

/* A signed-out token's jti stays in Redis until the token would have
 * expired. Redis being down fails closed: a token that may have been signed
 * out is not accepted. The answer is kept in the read cache (api/rcache.h),
 * which Redis invalidates when the key is set. */
static int revoked(struct request *req, const char *jti, bool *out)
{
	struct redisReply *reply = NULL;
	struct rcache_ticket t;
	char key[KV_KEY_MAX];
	unsigned char v;
	bool tracked = false;
	int err = kv_revoked_token(key, sizeof(key), jti);

	*out = false;
	if (!err && rcache_get(key, strlen(key), NULL, &v, 1)) {
		*out = v != 0;
		return 0;
	}
	if (!err) {
		const char *argv[] = { "EXISTS", key };
		size_t lens[] = { 6, strlen(key) };

		if (rcache_begin(&t))
			err = rconn_cmd_tracked(req->worker->redis, t.redirect, &tracked, &reply, 2, argv, lens);
		else
			err = rconn_cmd(req->worker->redis, &reply, 2, argv, lens);
	}
	if (!err && reply->type != REDIS_REPLY_INTEGER)
		err = COHORT_E_REDIS;
	if (!err) {
		*out = reply->integer != 0;
		v = *out;
		if (tracked)
			rcache_put(&t, RCACHE_GROUP_REVOKED, key, strlen(key), NULL, 0, &v, 1);
	}
	if (err == COHORT_E_REDIS)
		log_warn("revocation_check_failed", LF_S("rid", req->id),
			 LF_S("error", rconn_last_error(req->worker->redis)));
	rconn_reply_free(reply);
	return err;
}

int authn_resolve(struct request *req, struct response *res)
{
	const char *tok;
	size_t len;
	bool is_revoked;
	int64_t now;
	int err;

	memset(&req->who, 0, sizeof(req->who));
	err = session_token_from_headers(req->authorization, req->cookie, req->cfg->auth_cookie_name, &tok, &len);
	if (err == COHORT_E_AUTH)
		return 0; /* anonymous */
	if (err) {
		response_detail(res, "the Authorization header must be \"Bearer <token>\"");
		return err;
	}
	req->token_cookie = !req->authorization;
	if (!authn_keyring())
		return COHORT_E_BADTOKEN;
	err = worker_db(req->worker, &req->db);
	if (err)
		return err;
	now = clock_wall_us() / 1000000;
	if (!req->auth_gen_ok ||
	    !authcache_token_get(req->worker->auth, &req->auth_gen, tok, len, now, &req->who, &req->claims)) {
		dispatch_auth_txn(req);
		err = session_principal(req->db, authn_keyring(), tok, len, now, &req->who, &req->claims);
		if (err == COHORT_E_USERDISABLED)
			response_detail(res, "the account of this token is disabled");
		if (err)
			goto fail;
		if (req->auth_gen_ok)
			authcache_token_put(req->worker->auth, &req->auth_gen, tok, len, &req->who, &req->claims);
	}
	if (req->claims.jti[0]) {
		err = revoked(req, req->claims.jti, &is_revoked);
		if (!err && is_revoked) {
			response_detail(res, "this token was signed out");
			err = COHORT_E_BADTOKEN;
		}
	}
fail:
	if (err)
		memset(&req->who, 0, sizeof(req->who));
	return err;
}
