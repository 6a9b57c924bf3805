/*
 * jwt.h — JSON Web Tokens (RFC 7519) as cohort accepts and issues them.
 *
 * Two kinds of issuer, each pinned to one algorithm by configuration:
 *  - cohort itself: HS256 with a server secret, minted at sign-in;
 *  - one external issuer (an LMS): EdDSA (Ed25519) with public keys from
 *    the configuration (several, for key rotation).
 * The issuer is read from the payload, the algorithm it must use comes from
 * the keyring, and the header's "alg" must equal it: "none", HS256 with the
 * external public key as an HMAC secret, or EdDSA for cohort's own issuer are
 * all refused. exp, nbf, iss and aud are always checked.
 */
#ifndef COHORT_JWT_H
#define COHORT_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

#define JWT_MAX_LEN 4096
#define JWT_MAX_KEYS 4
#define JWT_LEEWAY_S 30
#define JWT_SUB_MAX 128
#define JWT_JTI_MAX 64

enum jwt_issuer_kind { JWT_LOCAL, JWT_EXTERNAL };

struct jwt_keyring {
	char local_iss[128];
	char local_aud[128];
	unsigned char hs_key[64];
	size_t hs_key_len;

	bool external; /* an external issuer is configured */
	char ext_iss[256];
	char ext_aud[256];
	unsigned char ext_keys[JWT_MAX_KEYS][32]; /* Ed25519 public keys */
	size_t ext_nkeys;
};

struct jwt_claims {
	enum jwt_issuer_kind kind;
	char sub[JWT_SUB_MAX + 1];
	char jti[JWT_JTI_MAX + 1];
	char name[JWT_SUB_MAX + 1]; /* optional display name (external tokens) */
	int64_t iat, nbf, exp;
};

/* Verifies token at time now (Unix seconds). COHORT_E_AUTH for anything
 * wrong with it; no detail about which check failed reaches the caller's
 * client, but *why (if given) names it for logs. */
int jwt_verify(const struct jwt_keyring *kr, const char *token, size_t len, int64_t now,
	       struct jwt_claims *out, const char **why);

/* Why a token with these claims is not valid at now ("expired", "not yet
 * valid"), or NULL when it is: jwt_verify's time check, for callers that
 * keep verified claims (api/authcache.h). */
const char *jwt_time_problem(int64_t exp, int64_t nbf, int64_t now);

/* Mints a local HS256 token for sub with a fresh random jti, valid ttl seconds. */
int jwt_sign_local(const struct jwt_keyring *kr, const char *sub, int64_t now, int64_t ttl,
		   struct strbuf *out, struct jwt_claims *claims);

/* Parses a comma-separated list of base64 or base64url Ed25519 public keys. */
int jwt_parse_ed25519_keys(struct jwt_keyring *kr, const char *list);

#endif
