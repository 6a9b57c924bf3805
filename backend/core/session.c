#include "core/session.h"
#include "core/err.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/principal.h"
#include "core/user.h"

#include <string.h>
#include <strings.h>

int session_token_from_headers(const char *authorization, const char *cookie, const char *cookie_name,
			       const char **tok, size_t *len)
{
	size_t name_len = strlen(cookie_name);

	*tok = NULL;
	*len = 0;
	if (authorization && *authorization) {
		const char *p = authorization;

		if (strncasecmp(p, "Bearer ", 7))
			return COHORT_E_BADTOKEN;
		p += 7;
		while (*p == ' ')
			p++;
		*len = strcspn(p, " \t");
		if (*len == 0 || *len > JWT_MAX_LEN)
			return COHORT_E_BADTOKEN;
		*tok = p;
		return 0;
	}
	/* Cookie: a=b; name=value; c=d */
	for (const char *p = cookie; p && *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		if (!strncmp(p, cookie_name, name_len) && p[name_len] == '=') {
			const char *v = p + name_len + 1;
			size_t n = strcspn(v, ";");

			while (n && v[n - 1] == ' ')
				n--;
			if (n == 0 || n > JWT_MAX_LEN)
				return COHORT_E_BADTOKEN;
			*tok = v;
			*len = n;
			return 0;
		}
		p = strchr(p, ';');
	}
	return COHORT_E_AUTH;
}

int session_principal(struct db *db, const struct jwt_keyring *kr, const char *tok, size_t len, int64_t now,
		      struct principal *out, struct jwt_claims *claims)
{
	struct jwt_claims c;
	struct user u;
	char hash[AUTH_HASH_MAX];
	bool has_hash;
	const char *why = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	if (jwt_verify(kr, tok, len, now, &c, &why)) {
		log_info("token_refused", LF_S("reason", why));
		return COHORT_E_BADTOKEN;
	}
	err = user_get_by_login(db, c.sub, &u, hash, &has_hash);
	if (err == COHORT_E_NOTFOUND) {
		log_info("token_refused", LF_S("reason", "unknown subject"));
		return COHORT_E_BADTOKEN;
	}
	if (err)
		return err;
	err = user_principal(db, &u, out);
	if (!err && claims)
		*claims = c;
	return err;
}
