/*
 * DESIGN: sign-in is the one route where an anonymous client makes the
 * server spend real CPU (Argon2id), so it is guarded by counters of failed
 * attempts in Redis, per login and per client address, each a fixed window
 * (INCR, and EXPIRE when the counter is new). A login or an address over its
 * limit gets 429 with Retry-After before any password is checked. An unknown
 * login still spends one Argon2id verification so that timing does not
 * reveal which logins exist, and a disabled account is only reported to
 * someone who knew its password.
 */
#include "api/rcache.h"
#include "api/sessions.h"
#include "api/authn.h"
#include "api/request.h"
#include "api/worker.h"
#include "core/auth.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/jwt.h"
#include "core/kv.h"
#include "core/log.h"
#include "core/num.h"
#include "core/rconn.h"
#include "core/render.h"
#include "core/text.h"
#include "core/user.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

static int redis_int(struct request *req, int argc, const char **argv, long long *out)
{
	struct redisReply *reply = NULL;
	size_t lens[4];
	int err;

	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	err = rconn_cmd(req->worker->redis, &reply, argc, argv, lens);
	if (!err) {
		if (reply->type == REDIS_REPLY_INTEGER)
			*out = reply->integer;
		else if (reply->type == REDIS_REPLY_NIL)
			*out = 0;
		else if (reply->type == REDIS_REPLY_STRING && reply->len < 24) {
			char buf[24];
			long v;

			memcpy(buf, reply->str, (size_t)reply->len);
			buf[reply->len] = '\0';
			err = parse_long(buf, &v) ? COHORT_E_REDIS : 0;
			*out = v;
		} else
			err = COHORT_E_REDIS;
	}
	if (err)
		log_warn("sign_in_counter_failed", LF_S("rid", req->id),
			 LF_S("error", rconn_last_error(req->worker->redis)));
	rconn_reply_free(reply);
	return err;
}

/* Over the limit: 429 with the seconds until the window ends. */
static int over_limit(struct request *req, struct response *res, const char *key, int max, bool *over)
{
	const char *get[] = { "GET", key };
	const char *ttl[] = { "TTL", key };
	long long n = 0, t = 0;
	int err = redis_int(req, 2, get, &n);

	*over = false;
	if (err || n < max)
		return err;
	err = redis_int(req, 2, ttl, &t);
	if (err)
		return err;
	*over = true;
	res->retry_after_s = t > 0 ? (int)t : 1;
	return 0;
}

static int count_failure(struct request *req, const char *key)
{
	char window[24];
	const char *incr[] = { "INCR", key };
	const char *expire[] = { "EXPIRE", key, window };
	long long n = 0, ok;
	int err;

	snprintf(window, sizeof(window), "%d", req->cfg->auth_login_window_s);
	err = redis_int(req, 2, incr, &n);
	/* A new counter starts its window; a counter left without one by a
	 * failure between the two commands gets one on the next failure. */
	if (!err && n == 1)
		err = redis_int(req, 3, expire, &ok);
	else if (!err) {
		const char *ttl[] = { "TTL", key };
		long long t = 0;

		err = redis_int(req, 2, ttl, &t);
		if (!err && t == -1)
			err = redis_int(req, 3, expire, &ok);
	}
	return err;
}

static int set_cookie(struct request *req, struct response *res, const char *value, size_t len, long max_age)
{
	struct strbuf sb = STRBUF_INIT;
	int err = strbuf_addf(&sb, "%s=%.*s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Lax%s",
			      req->cfg->auth_cookie_name, (int)len, value, max_age,
			      req->cfg->auth_cookie_secure ? "; Secure" : "");

	if (!err)
		err = response_header(res, "Set-Cookie", sb.buf);
	strbuf_release(&sb);
	return err;
}

int sessions_post(struct request *req, struct response *res)
{
	struct json_object *root = NULL;
	struct strbuf token = STRBUF_INIT;
	struct jwt_claims claims;
	struct jsonw w;
	struct user u;
	struct db *db;
	char hash[AUTH_HASH_MAX], login_key[KV_KEY_MAX] = "", addr_key[KV_KEY_MAX];
	const char *login, *password;
	size_t login_len, password_len;
	bool has_hash = false, known = false, login_ok, over, good;
	int64_t now = clock_wall_us() / 1000000;
	int err;

	memset(&u, 0, sizeof(u));
	jsonw_init(&w);
	err = request_json(req, res, &root);
	if (err)
		goto out;
	if (json_get_str(root, "login", true, 1024, &login, &login_len) ||
	    json_get_str(root, "password", true, 4096, &password, &password_len)) {
		response_detail(res, "login and password are required strings");
		err = COHORT_E_FIELD;
		goto out;
	}
	login_ok = text_login_ok(login, login_len) && strlen(login) == login_len;
	err = kv_addr_failures(addr_key, sizeof(addr_key), req->remote_addr ? req->remote_addr : "unknown");
	if (!err && login_ok)
		err = kv_login_failures(login_key, sizeof(login_key), login);
	if (err)
		goto out;
	err = over_limit(req, res, addr_key, req->cfg->auth_addr_max_failures, &over);
	if (!err && !over && login_ok)
		err = over_limit(req, res, login_key, req->cfg->auth_login_max_failures, &over);
	if (err)
		goto out;
	if (over) {
		response_detail(res, "too many failed sign-ins; try again in %d seconds", res->retry_after_s);
		err = COHORT_E_RATE;
		goto out;
	}
	err = worker_db(req->worker, &db);
	if (err)
		goto out;
	if (login_ok) {
		err = user_get_by_login(db, login, &u, hash, &has_hash);
		if (err && err != COHORT_E_NOTFOUND)
			goto out;
		known = !err;
		err = 0;
	}
	good = auth_password_verify(known && has_hash ? hash : NULL, password, password_len) && known && has_hash;
	if (!good) {
		err = count_failure(req, addr_key);
		if (!err && login_ok)
			err = count_failure(req, login_key);
		if (!err) {
			response_detail(res, "wrong login or password");
			err = COHORT_E_BADLOGIN;
		}
		log_info("sign_in_failed", LF_S("rid", req->id), LF_S("remote", req->remote_addr));
		goto out;
	}
	if (u.disabled) {
		response_detail(res, "the account '%s' is disabled", u.login);
		err = COHORT_E_USERDISABLED;
		goto out;
	}
	{
		const char *del[] = { "DEL", login_key };
		long long n;

		(void)redis_int(req, 2, del, &n);
	}
	if (!authn_keyring()) {
		err = COHORT_E_CONFIG;
		goto out;
	}
	err = jwt_sign_local(authn_keyring(), u.login, now, req->cfg->auth_token_ttl_s, &token, &claims);
	if (err)
		goto out;
	jsonw_obj(&w, NULL);
	jsonw_strn(&w, "token", token.buf, token.len);
	jsonw_int(&w, "expires_at", claims.exp);
	render_user(&w, "user", &u);
	jsonw_end(&w);
	err = response_jsonw(res, 201, &w);
	if (!err)
		err = set_cookie(req, res, token.buf, token.len, (long)(claims.exp - now));
	if (!err)
		log_info("signed_in", LF_S("rid", req->id), LF_S("login", u.login));
out:
	strbuf_release(&token);
	jsonw_release(&w);
	json_put(root);
	return err;
}

int sessions_delete(struct request *req, struct response *res)
{
	int64_t now = clock_wall_us() / 1000000;
	int err = 0;

	/* Local tokens carry a jti; remembering it until the token would have
	 * expired signs out every copy of the token, the cookie's included. */
	if (req->claims.jti[0] && req->claims.exp > now) {
		char key[KV_KEY_MAX], ttl[24];
		const char *argv[] = { "SET", key, "1", "EX", ttl };
		struct redisReply *reply = NULL;
		size_t lens[5];

		err = kv_revoked_token(key, sizeof(key), req->claims.jti);
		snprintf(ttl, sizeof(ttl), "%lld", (long long)(req->claims.exp - now + JWT_LEEWAY_S));
		for (int i = 0; i < 5; i++)
			lens[i] = strlen(argv[i]);
		if (!err)
			err = rconn_cmd(req->worker->redis, &reply, 5, argv, lens);
		rconn_reply_free(reply);
		/* This process's cached "not signed out" goes now, not when
		 * Redis's invalidation arrives; the barrier sees the other
		 * processes' invalidations out before the answer. */
		rcache_invalidate(RCACHE_GROUP_REVOKED);
		if (!err)
			err = rconn_barrier(req->worker->redis);
		if (err)
			return err;
	}
	err = set_cookie(req, res, "", 0, 0);
	if (!err) {
		res->status = 204;
		log_info("signed_out", LF_S("rid", req->id), LF_S("login", req->who.login));
	}
	return err;
}

int me_get(struct request *req, struct response *res)
{
	struct jsonw w;
	struct user u;
	int err = user_get(req->db, req->who.user_id, &u);

	if (err)
		return err;
	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	render_user(&w, "user", &u);
	jsonw_end(&w);
	err = response_jsonw(res, 200, &w);
	jsonw_release(&w);
	return err;
}

int users_post(struct request *req, struct response *res)
{
	struct json_object *root = NULL;
	struct user_new in = { 0 };
	struct jsonw w;
	struct user u;
	int err;

	jsonw_init(&w);
	err = request_json(req, res, &root);
	if (err)
		goto out;
	if (json_get_str(root, "login", true, LOGIN_MAX, &in.login, &in.login_len) ||
	    !text_login_ok(in.login, in.login_len)) {
		response_detail(res, "login: required, 1..%d characters of [a-z0-9._-] starting with a letter or digit",
				LOGIN_MAX);
		err = COHORT_E_FIELD;
		goto out;
	}
	if (json_get_str(root, "display_name", true, NAME_MAX_BYTES, &in.display_name, &in.display_name_len) ||
	    !text_name_ok(in.display_name, in.display_name_len, NAME_MAX_BYTES)) {
		response_detail(res, "display_name: required, 1..%d bytes on one line, no leading or trailing spaces",
				NAME_MAX_BYTES);
		err = COHORT_E_FIELD;
		goto out;
	}
	if (json_get_str(root, "password", false, AUTH_PASSWORD_MAX, &in.password, &in.password_len) ||
	    (in.password && in.password_len < AUTH_PASSWORD_MIN)) {
		response_detail(res, "password: %d..%d bytes when given", AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX);
		err = COHORT_E_FIELD;
		goto out;
	}
	if (json_get_bool(root, "is_admin", false, &in.is_admin)) {
		response_detail(res, "is_admin: a boolean when given");
		err = COHORT_E_FIELD;
		goto out;
	}
	err = user_create(req->db, &in, &u);
	if (err == COHORT_E_EXISTS)
		response_detail(res, "the login '%.*s' is taken", (int)in.login_len, in.login);
	if (err)
		goto out;
	jsonw_obj(&w, NULL);
	render_user(&w, "user", &u);
	jsonw_end(&w);
	err = response_jsonw(res, 201, &w);
out:
	jsonw_release(&w);
	json_put(root);
	return err;
}
