/*
 * DESIGN: verification never trusts the token to say how it should be
 * verified. The payload is parsed first (bounded, strict) only to learn its
 * issuer; the keyring then fixes the algorithm and keys for that issuer, and
 * the header must agree. Signature comparison is constant-time (libsodium's
 * verify functions). Base64url and HMAC/Ed25519 are libsodium's.
 */
#include "core/jwt.h"
#include "core/err.h"
#include "core/json.h"
#include "core/strbuf.h"

#include <json-c/json.h>
#include <sodium.h>
#include <string.h>

#define B64URL sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define PART_MAX 2048

static int b64url_decode(const char *s, size_t len, unsigned char *out, size_t cap, size_t *outlen)
{
	const char *end;

	if (len == 0)
		return COHORT_E_AUTH;
	if (sodium_base642bin(out, cap, s, len, NULL, outlen, &end, B64URL) != 0 || end != s + len)
		return COHORT_E_AUTH;
	return 0;
}

static int b64url_add(struct strbuf *out, const unsigned char *bin, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, B64URL);
	char tmp[sodium_base64_ENCODED_LEN(PART_MAX, B64URL)];

	if (cap > sizeof(tmp))
		return COHORT_E_LIMIT;
	sodium_bin2base64(tmp, cap, bin, len, B64URL);
	return strbuf_adds(out, tmp);
}

static int copy_str(struct json_object *o, const char *key, bool required, char *dst, size_t cap)
{
	const char *s;
	size_t n;
	int err = json_get_str(o, key, required, cap - 1, &s, &n);

	if (err)
		return COHORT_E_AUTH;
	if (s) {
		memcpy(dst, s, n);
		dst[n] = '\0';
	} else {
		dst[0] = '\0';
	}
	return 0;
}

static bool aud_matches(struct json_object *p, const char *want)
{
	struct json_object *aud;

	if (!json_object_object_get_ex(p, "aud", &aud))
		return false;
	if (json_object_is_type(aud, json_type_string))
		return !strcmp(json_object_get_string(aud), want);
	if (json_object_is_type(aud, json_type_array)) {
		size_t n = json_object_array_length(aud);

		for (size_t i = 0; i < n && i < 16; i++) {
			struct json_object *a = json_object_array_get_idx(aud, i);

			if (json_object_is_type(a, json_type_string) && !strcmp(json_object_get_string(a), want))
				return true;
		}
	}
	return false;
}

const char *jwt_time_problem(int64_t exp, int64_t nbf, int64_t now)
{
	if (now >= exp + JWT_LEEWAY_S)
		return "expired";
	if (nbf && now + JWT_LEEWAY_S < nbf)
		return "not yet valid";
	return NULL;
}

int jwt_verify(const struct jwt_keyring *kr, const char *token, size_t len, int64_t now,
	       struct jwt_claims *out, const char **why)
{
	unsigned char head[PART_MAX], body[PART_MAX], sig[128];
	size_t head_len, body_len, sig_len;
	const char *dot1, *dot2, *alg;
	struct json_object *h = NULL, *p = NULL;
	char iss[256];
	long long exp = 0, nbf = 0, iat = 0;
	bool local;
	int err = COHORT_E_AUTH;
	const char *reason = "malformed token";

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > JWT_MAX_LEN)
		goto out;
	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 - token) - 1) : NULL;
	if (!dot1 || !dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 - token) - 1))
		goto out;
	if (b64url_decode(token, (size_t)(dot1 - token), head, sizeof(head), &head_len) ||
	    b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), body, sizeof(body), &body_len))
		goto out;
	reason = "missing signature";
	if (b64url_decode(dot2 + 1, len - (size_t)(dot2 - token) - 1, sig, sizeof(sig), &sig_len))
		goto out;
	reason = "malformed token";
	if (json_parse_object((const char *)head, head_len, &h) || json_parse_object((const char *)body, body_len, &p))
		goto out;

	if (copy_str(p, "iss", true, iss, sizeof(iss)))
		goto out;
	reason = "unknown issuer";
	if (!strcmp(iss, kr->local_iss))
		local = true;
	else if (kr->external && !strcmp(iss, kr->ext_iss))
		local = false;
	else
		goto out;

	reason = "algorithm not allowed for this issuer";
	if (json_get_str(h, "alg", true, 16, &alg, NULL) || strcmp(alg, local ? "HS256" : "EdDSA"))
		goto out;

	reason = "bad signature";
	if (local) {
		unsigned char mac[crypto_auth_hmacsha256_BYTES];
		crypto_auth_hmacsha256_state st;

		if (sig_len != sizeof(mac) || kr->hs_key_len == 0)
			goto out;
		crypto_auth_hmacsha256_init(&st, kr->hs_key, kr->hs_key_len);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)token, (size_t)(dot2 - token));
		crypto_auth_hmacsha256_final(&st, mac);
		if (sodium_memcmp(mac, sig, sizeof(mac)) != 0)
			goto out;
	} else {
		bool ok = false;

		if (sig_len != crypto_sign_BYTES)
			goto out;
		for (size_t i = 0; i < kr->ext_nkeys && !ok; i++)
			ok = crypto_sign_verify_detached(sig, (const unsigned char *)token, (size_t)(dot2 - token),
							 kr->ext_keys[i]) == 0;
		if (!ok)
			goto out;
	}

	reason = "wrong audience";
	if (!aud_matches(p, local ? kr->local_aud : kr->ext_aud))
		goto out;
	reason = "bad time claims";
	/* exp's bound keeps exp + JWT_LEEWAY_S below from overflowing. */
	if (json_get_int(p, "exp", true, 0, INT64_MAX - JWT_LEEWAY_S, &exp) ||
	    json_get_int(p, "nbf", false, 0, INT64_MAX, &nbf) || json_get_int(p, "iat", false, 0, INT64_MAX, &iat))
		goto out;
	if ((reason = jwt_time_problem(exp, nbf, now)))
		goto out;
	reason = "bad subject";
	if (copy_str(p, "sub", true, out->sub, sizeof(out->sub)) || !out->sub[0] ||
	    copy_str(p, "jti", false, out->jti, sizeof(out->jti)) ||
	    copy_str(p, "name", false, out->name, sizeof(out->name)))
		goto out;
	out->kind = local ? JWT_LOCAL : JWT_EXTERNAL;
	out->exp = exp;
	out->nbf = nbf;
	out->iat = iat;
	reason = NULL;
	err = 0;
out:
	json_put(h);
	json_put(p);
	if (err)
		memset(out, 0, sizeof(*out));
	if (why)
		*why = reason;
	return err;
}

int jwt_sign_local(const struct jwt_keyring *kr, const char *sub, int64_t now, int64_t ttl,
		   struct strbuf *out, struct jwt_claims *claims)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	unsigned char rnd[16], mac[crypto_auth_hmacsha256_BYTES];
	struct strbuf payload = STRBUF_INIT;
	crypto_auth_hmacsha256_state st;
	size_t start = out->len;
	char jti[JWT_JTI_MAX + 1];
	int err;

	if (kr->hs_key_len == 0 || strlen(sub) > JWT_SUB_MAX)
		return COHORT_E_INVAL;
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2base64(jti, sizeof(jti), rnd, sizeof(rnd), B64URL);

	strbuf_init(&payload, PART_MAX);
	err = strbuf_adds(&payload, "{\"iss\":");
	err = err ? err : strbuf_add_json_str(&payload, kr->local_iss, strlen(kr->local_iss));
	err = err ? err : strbuf_adds(&payload, ",\"aud\":");
	err = err ? err : strbuf_add_json_str(&payload, kr->local_aud, strlen(kr->local_aud));
	err = err ? err : strbuf_adds(&payload, ",\"sub\":");
	err = err ? err : strbuf_add_json_str(&payload, sub, strlen(sub));
	err = err ? err : strbuf_addf(&payload, ",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,\"jti\":\"%s\"}",
				      (long long)now, (long long)now, (long long)(now + ttl), jti);
	err = err ? err : b64url_add(out, (const unsigned char *)header, sizeof(header) - 1);
	err = err ? err : strbuf_addch(out, '.');
	err = err ? err : b64url_add(out, (const unsigned char *)payload.buf, payload.len);
	if (!err) {
		crypto_auth_hmacsha256_init(&st, kr->hs_key, kr->hs_key_len);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)out->buf + start, out->len - start);
		crypto_auth_hmacsha256_final(&st, mac);
		err = strbuf_addch(out, '.');
		err = err ? err : b64url_add(out, mac, sizeof(mac));
	}
	if (!err && claims) {
		memset(claims, 0, sizeof(*claims));
		claims->kind = JWT_LOCAL;
		memcpy(claims->sub, sub, strlen(sub) + 1);
		memcpy(claims->jti, jti, strlen(jti) + 1);
		claims->iat = claims->nbf = now;
		claims->exp = now + ttl;
	}
	strbuf_release(&payload);
	sodium_memzero(mac, sizeof(mac));
	return err;
}

int jwt_parse_ed25519_keys(struct jwt_keyring *kr, const char *list)
{
	const char *p = list;

	kr->ext_nkeys = 0;
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		size_t bin_len = 0;
		int ok = -1;

		while (n && (*p == ' ')) {
			p++;
			n--;
		}
		while (n && p[n - 1] == ' ')
			n--;
		if (kr->ext_nkeys >= JWT_MAX_KEYS)
			return COHORT_E_CONFIG;
		if (n) {
			static const int variants[] = { sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
							sodium_base64_VARIANT_URLSAFE, B64URL };

			for (size_t v = 0; v < 4 && ok != 0; v++)
				ok = sodium_base642bin(kr->ext_keys[kr->ext_nkeys], 32, p, n, NULL, &bin_len, NULL,
						       variants[v]);
			if (ok != 0 || bin_len != 32)
				return COHORT_E_CONFIG;
			kr->ext_nkeys++;
		}
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}
