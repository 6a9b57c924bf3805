/*
 * Unit tests for core/jwt. Tokens are built here independently of
 * jwt_sign_local — header and payload JSON base64url-encoded by hand and
 * signed with libsodium directly (HMAC-SHA256, or crypto_sign_detached for
 * Ed25519 as an LMS would) — so the verifier is checked against the
 * standard, not against its own signer. Time is passed in, never read.
 */
#include "core/err.h"
#include "core/ids.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/strbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#define B64URL sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define NOW 1800000000LL
#define EXT_ISS "https://lms.example"
#define EXT_AUD "cohort-ext"

static struct jwt_keyring kr;
static unsigned char ext_sk[3][crypto_sign_SECRETKEYBYTES]; /* [2] is never in the keyring */
static unsigned char ext_pk[3][crypto_sign_PUBLICKEYBYTES];

static int setup(void **state)
{
	(void)state;
	memset(&kr, 0, sizeof(kr));
	snprintf(kr.local_iss, sizeof(kr.local_iss), "cohort");
	snprintf(kr.local_aud, sizeof(kr.local_aud), "cohort");
	randombytes_buf(kr.hs_key, 32);
	kr.hs_key_len = 32;
	kr.external = true;
	snprintf(kr.ext_iss, sizeof(kr.ext_iss), EXT_ISS);
	snprintf(kr.ext_aud, sizeof(kr.ext_aud), EXT_AUD);
	for (int i = 0; i < 3; i++)
		crypto_sign_keypair(ext_pk[i], ext_sk[i]);
	memcpy(kr.ext_keys[0], ext_pk[0], 32);
	memcpy(kr.ext_keys[1], ext_pk[1], 32);
	kr.ext_nkeys = 2;
	return 0;
}

static void add_b64(struct strbuf *sb, const void *bin, size_t len)
{
	char tmp[4096];

	assert_true(sodium_base64_ENCODED_LEN(len, B64URL) <= sizeof(tmp));
	sodium_bin2base64(tmp, sizeof(tmp), bin, len, B64URL);
	assert_int_equal(strbuf_adds(sb, tmp), 0);
}

enum sig { SIG_HS256, SIG_HS_EXT_PK, SIG_ED, SIG_NONE };

/* header.payload.signature; key selects the Ed25519 secret key for SIG_ED
 * and is ignored otherwise (SIG_HS256 uses the keyring's secret, and
 * SIG_HS_EXT_PK uses external public key 0 as the HMAC secret). */
static char *token(const char *header, const char *payload, enum sig sig, int key)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned char mac[crypto_sign_BYTES];
	crypto_auth_hmacsha256_state st;

	add_b64(&sb, header, strlen(header));
	assert_int_equal(strbuf_addch(&sb, '.'), 0);
	add_b64(&sb, payload, strlen(payload));
	switch (sig) {
	case SIG_HS256:
	case SIG_HS_EXT_PK:
		if (sig == SIG_HS256)
			crypto_auth_hmacsha256_init(&st, kr.hs_key, kr.hs_key_len);
		else
			crypto_auth_hmacsha256_init(&st, ext_pk[0], 32);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)sb.buf, sb.len);
		crypto_auth_hmacsha256_final(&st, mac);
		assert_int_equal(strbuf_addch(&sb, '.'), 0);
		add_b64(&sb, mac, crypto_auth_hmacsha256_BYTES);
		break;
	case SIG_ED:
		crypto_sign_detached(mac, NULL, (const unsigned char *)sb.buf, sb.len, ext_sk[key]);
		assert_int_equal(strbuf_addch(&sb, '.'), 0);
		add_b64(&sb, mac, crypto_sign_BYTES);
		break;
	case SIG_NONE:
		assert_int_equal(strbuf_addch(&sb, '.'), 0);
		break;
	}
	return strbuf_detach(&sb, NULL);
}

#define HS_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define ED_HEADER "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}"

static char *local_payload(char *buf, size_t cap, const char *extra)
{
	snprintf(buf, cap, "{\"iss\":\"cohort\",\"aud\":\"cohort\",\"sub\":\"alice\",\"iat\":%lld,\"exp\":%lld%s}",
		 NOW, NOW + 600, extra);
	return buf;
}

static char *ext_payload(char *buf, size_t cap, const char *extra)
{
	snprintf(buf, cap, "{\"iss\":\"" EXT_ISS "\",\"aud\":\"" EXT_AUD "\",\"sub\":\"bob\",\"name\":\"Bob B.\","
			   "\"exp\":%lld%s}", NOW + 600, extra);
	return buf;
}

static int verify(const char *tok, int64_t now, struct jwt_claims *c, const char **why)
{
	return jwt_verify(&kr, tok, strlen(tok), now, c, why);
}

static void expect_refused(const char *tok, int64_t now, const char *why_part, const char *what)
{
	struct jwt_claims c;
	const char *why = NULL;
	int err = verify(tok, now, &c, &why);

	if (err != COHORT_E_AUTH)
		fail_msg("%s: err %d, want unauthenticated", what, err);
	if (!why || (why_part && !strstr(why, why_part)))
		fail_msg("%s: reason '%s', want '%s'", what, why ? why : "(none)", why_part);
	assert_string_equal(c.sub, ""); /* nothing leaks out of a refused token */
}

static void test_local_round_trip(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct jwt_claims minted, c;
	const char *why = "unset";

	(void)state;
	assert_int_equal(jwt_sign_local(&kr, "alice", NOW, 3600, &sb, &minted), 0);
	assert_int_equal(minted.kind, JWT_LOCAL);
	assert_string_equal(minted.sub, "alice");
	assert_int_equal(minted.exp, NOW + 3600);
	assert_true(strlen(minted.jti) >= 16);
	assert_int_equal(verify(sb.buf, NOW, &c, &why), 0);
	assert_null(why);
	assert_int_equal(c.kind, JWT_LOCAL);
	assert_string_equal(c.sub, "alice");
	assert_string_equal(c.jti, minted.jti);
	assert_int_equal(c.iat, NOW);
	assert_int_equal(c.nbf, NOW);
	assert_int_equal(c.exp, NOW + 3600);
	/* Each token gets its own jti. */
	{
		struct strbuf sb2 = STRBUF_INIT;
		struct jwt_claims m2;

		assert_int_equal(jwt_sign_local(&kr, "alice", NOW, 3600, &sb2, &m2), 0);
		assert_string_not_equal(m2.jti, minted.jti);
		strbuf_release(&sb2);
	}
	strbuf_release(&sb);
}

static void test_sign_local_limits(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct jwt_keyring empty;
	char sub[JWT_SUB_MAX + 2];

	(void)state;
	memset(sub, 's', sizeof(sub));
	sub[JWT_SUB_MAX + 1] = '\0';
	assert_int_equal(jwt_sign_local(&kr, sub, NOW, 60, &sb, NULL), COHORT_E_INVAL);
	sub[JWT_SUB_MAX] = '\0';
	assert_int_equal(jwt_sign_local(&kr, sub, NOW, 60, &sb, NULL), 0);
	{
		struct jwt_claims c;

		assert_int_equal(verify(sb.buf, NOW, &c, NULL), 0);
		assert_string_equal(c.sub, sub);
	}
	memset(&empty, 0, sizeof(empty));
	strbuf_reset(&sb);
	assert_int_equal(jwt_sign_local(&empty, "alice", NOW, 60, &sb, NULL), COHORT_E_INVAL);
	strbuf_release(&sb);
}

static void test_local_handmade_accepted(void **state)
{
	char p[512];
	char *t = token(HS_HEADER, local_payload(p, sizeof(p), ""), SIG_HS256, 0);
	struct jwt_claims c;

	(void)state;
	assert_int_equal(verify(t, NOW, &c, NULL), 0);
	assert_string_equal(c.sub, "alice");
	assert_int_equal(c.kind, JWT_LOCAL);
	free(t);
	/* aud may be an array that contains ours. */
	t = token(HS_HEADER, "{\"iss\":\"cohort\",\"aud\":[\"other\",\"cohort\"],\"sub\":\"a\",\"exp\":1800000600}",
		  SIG_HS256, 0);
	assert_int_equal(verify(t, NOW, &c, NULL), 0);
	free(t);
}

/* Time claims, each at and just past its boundary (JWT_LEEWAY_S of grace). */
static void test_time_claims(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct jwt_claims c;
	char p[512], extra[128];
	char *t;

	(void)state;
	assert_int_equal(jwt_sign_local(&kr, "alice", NOW, 60, &sb, NULL), 0);
	assert_int_equal(verify(sb.buf, NOW + 60 + JWT_LEEWAY_S - 1, &c, NULL), 0);
	expect_refused(sb.buf, NOW + 60 + JWT_LEEWAY_S, "expired", "expired at the leeway");
	expect_refused(sb.buf, NOW + 100000, "expired", "long expired");
	strbuf_release(&sb);

	snprintf(extra, sizeof(extra), ",\"nbf\":%lld", NOW + 100);
	t = token(HS_HEADER, local_payload(p, sizeof(p), extra), SIG_HS256, 0);
	expect_refused(t, NOW, "not yet valid", "nbf in the future");
	assert_int_equal(verify(t, NOW + 100 - JWT_LEEWAY_S, &c, NULL), 0);
	expect_refused(t, NOW + 100 - JWT_LEEWAY_S - 1, "not yet valid", "nbf just beyond the leeway");
	free(t);

	{
		static const char *const bad[] = {
			"{\"iss\":\"cohort\",\"aud\":\"cohort\",\"sub\":\"a\"}",                      /* no exp */
			"{\"iss\":\"cohort\",\"aud\":\"cohort\",\"sub\":\"a\",\"exp\":\"1800000600\"}", /* string */
			"{\"iss\":\"cohort\",\"aud\":\"cohort\",\"sub\":\"a\",\"exp\":1800000600.5}",  /* fraction */
			"{\"iss\":\"cohort\",\"aud\":\"cohort\",\"sub\":\"a\",\"exp\":-1}",
			"{\"iss\":\"cohort\",\"aud\":\"cohort\",\"sub\":\"a\",\"exp\":9223372036854775807}",
			"{\"iss\":\"cohort\",\"aud\":\"cohort\",\"sub\":\"a\",\"exp\":1800000600,\"nbf\":\"x\"}",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			t = token(HS_HEADER, bad[i], SIG_HS256, 0);
			expect_refused(t, NOW, "time", bad[i]);
			free(t);
		}
	}
}

static void test_audience_and_issuer(void **state)
{
	static const struct {
		const char *payload;
		const char *why;
	} rows[] = {
		{ "{\"iss\":\"cohort\",\"aud\":\"someone-else\",\"sub\":\"a\",\"exp\":1800000600}", "audience" },
		{ "{\"iss\":\"cohort\",\"aud\":[\"x\",\"y\"],\"sub\":\"a\",\"exp\":1800000600}", "audience" },
		{ "{\"iss\":\"cohort\",\"aud\":[],\"sub\":\"a\",\"exp\":1800000600}", "audience" },
		{ "{\"iss\":\"cohort\",\"sub\":\"a\",\"exp\":1800000600}", "audience" },
		{ "{\"iss\":\"cohort\",\"aud\":\"COHORT\",\"sub\":\"a\",\"exp\":1800000600}", "audience" },
		/* The external audience is not the local one. */
		{ "{\"iss\":\"cohort\",\"aud\":\"" EXT_AUD "\",\"sub\":\"a\",\"exp\":1800000600}", "audience" },
		{ "{\"iss\":\"evil\",\"aud\":\"cohort\",\"sub\":\"a\",\"exp\":1800000600}", "issuer" },
		{ "{\"iss\":\"Cohort\",\"aud\":\"cohort\",\"sub\":\"a\",\"exp\":1800000600}", "issuer" },
		{ "{\"aud\":\"cohort\",\"sub\":\"a\",\"exp\":1800000600}", NULL },
		{ "{\"iss\":7,\"aud\":\"cohort\",\"sub\":\"a\",\"exp\":1800000600}", NULL },
		{ "{\"iss\":\"cohort\",\"aud\":\"cohort\",\"exp\":1800000600}", "subject" },
		{ "{\"iss\":\"cohort\",\"aud\":\"cohort\",\"sub\":\"\",\"exp\":1800000600}", "subject" },
		{ "{\"iss\":\"cohort\",\"aud\":\"cohort\",\"sub\":5,\"exp\":1800000600}", "subject" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *t = token(HS_HEADER, rows[i].payload, SIG_HS256, 0);

		expect_refused(t, NOW, rows[i].why, rows[i].payload);
		free(t);
	}
}

static void test_subject_too_long(void **state)
{
	char p[512], sub[JWT_SUB_MAX + 2];
	char *t;

	(void)state;
	memset(sub, 'x', sizeof(sub));
	sub[JWT_SUB_MAX + 1] = '\0';
	snprintf(p, sizeof(p), "{\"iss\":\"cohort\",\"aud\":\"cohort\",\"sub\":\"%s\",\"exp\":1800000600}", sub);
	t = token(HS_HEADER, p, SIG_HS256, 0);
	expect_refused(t, NOW, "subject", "sub one byte too long");
	free(t);
}

/* Flips one character well inside the given part (0 header, 1 payload,
 * 2 signature) to another base64url character. */
static void flip(char *t, int part)
{
	char *start = t, *end;

	for (int i = 0; i < part; i++)
		start = strchr(start, '.') + 1;
	end = strchr(start, '.');
	if (!end)
		end = start + strlen(start);
	assert_true(end - start > 8);
	start += (end - start) / 2;
	*start = *start == 'A' ? 'B' : 'A';
}

static void test_tampering(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char p[512], *t, *other;
	struct jwt_claims c;

	(void)state;
	assert_int_equal(jwt_sign_local(&kr, "alice", NOW, 600, &sb, NULL), 0);
	t = strbuf_detach(&sb, NULL);
	flip(t, 2);
	expect_refused(t, NOW, "signature", "tampered signature");
	free(t);

	/* Alice's signature on Mallory's payload. */
	t = token(HS_HEADER, local_payload(p, sizeof(p), ""), SIG_HS256, 0);
	other = token(HS_HEADER, "{\"iss\":\"cohort\",\"aud\":\"cohort\",\"sub\":\"mallory\",\"exp\":1800000600}",
		      SIG_HS256, 0);
	{
		char *sig_t = strrchr(t, '.'), *sig_o = strrchr(other, '.');

		assert_int_equal(strlen(sig_t), strlen(sig_o));
		memcpy(sig_o, sig_t, strlen(sig_t));
	}
	expect_refused(other, NOW, "signature", "tampered payload");
	free(other);

	/* A wrong secret. */
	kr.hs_key[0] ^= 1;
	expect_refused(t, NOW, "signature", "other secret");
	kr.hs_key[0] ^= 1;
	assert_int_equal(verify(t, NOW, &c, NULL), 0);
	/* Truncated signature. */
	t[strlen(t) - 4] = '\0';
	expect_refused(t, NOW, NULL, "truncated signature");
	free(t);
}

/* The algorithm comes from the issuer, never from the token. */
static void test_algorithm_pinning(void **state)
{
	char lp[512], ep[512];
	char *t;

	(void)state;
	local_payload(lp, sizeof(lp), "");
	ext_payload(ep, sizeof(ep), "");

	t = token("{\"alg\":\"none\",\"typ\":\"JWT\"}", lp, SIG_NONE, 0);
	expect_refused(t, NOW, NULL, "alg none, no signature");
	free(t);
	t = token("{\"alg\":\"none\"}", lp, SIG_HS256, 0);
	expect_refused(t, NOW, "algorithm", "alg none with a valid HMAC");
	free(t);
	t = token("{\"alg\":\"None\"}", ep, SIG_ED, 0);
	expect_refused(t, NOW, "algorithm", "alg None for the external issuer");
	free(t);
	t = token("{\"typ\":\"JWT\"}", lp, SIG_HS256, 0);
	expect_refused(t, NOW, "algorithm", "no alg");
	free(t);
	t = token("{\"alg\":\"hs256\"}", lp, SIG_HS256, 0);
	expect_refused(t, NOW, "algorithm", "alg in the wrong case");
	free(t);
	t = token("{\"alg\":\"HS512\"}", lp, SIG_HS256, 0);
	expect_refused(t, NOW, "algorithm", "another HMAC");
	free(t);

	/* HS256 for the external issuer, keyed with its public key: the classic
	 * confusion attack. */
	t = token(HS_HEADER, ep, SIG_HS_EXT_PK, 0);
	expect_refused(t, NOW, "algorithm", "HS256 with the external public key");
	free(t);
	/* EdDSA for cohort's own issuer, signed with a configured external key. */
	t = token(ED_HEADER, lp, SIG_ED, 0);
	expect_refused(t, NOW, "algorithm", "EdDSA for the local issuer");
	free(t);
	/* An EdDSA token claiming HS256 in its header. */
	t = token(HS_HEADER, ep, SIG_ED, 0);
	expect_refused(t, NOW, "algorithm", "Ed25519 signature under an HS256 header");
	free(t);
}

static void test_external_eddsa(void **state)
{
	char ep[512];
	struct jwt_claims c;
	char *t;

	(void)state;
	ext_payload(ep, sizeof(ep), ",\"jti\":\"lms-1\"");
	for (int k = 0; k < 2; k++) { /* either configured key (rotation) */
		t = token(ED_HEADER, ep, SIG_ED, k);
		assert_int_equal(verify(t, NOW, &c, NULL), 0);
		assert_int_equal(c.kind, JWT_EXTERNAL);
		assert_string_equal(c.sub, "bob");
		assert_string_equal(c.name, "Bob B.");
		assert_string_equal(c.jti, "lms-1");
		assert_int_equal(c.exp, NOW + 600);
		free(t);
	}
	t = token(ED_HEADER, ep, SIG_ED, 2);
	expect_refused(t, NOW, "signature", "a key that is not configured");
	free(t);

	/* Rotation: once the old key is dropped, its tokens stop working. */
	{
		struct jwt_keyring saved = kr;

		memcpy(kr.ext_keys[0], ext_pk[1], 32);
		kr.ext_nkeys = 1;
		t = token(ED_HEADER, ep, SIG_ED, 0);
		expect_refused(t, NOW, "signature", "a rotated-out key");
		free(t);
		t = token(ED_HEADER, ep, SIG_ED, 1);
		assert_int_equal(verify(t, NOW, &c, NULL), 0);
		free(t);
		kr = saved;
	}
	/* The external issuer with the local audience, and an unconfigured
	 * external issuer. */
	t = token(ED_HEADER, "{\"iss\":\"" EXT_ISS "\",\"aud\":\"cohort\",\"sub\":\"bob\",\"exp\":1800000600}",
		  SIG_ED, 0);
	expect_refused(t, NOW, "audience", "external token for the local audience");
	free(t);
	kr.external = false;
	t = token(ED_HEADER, ep, SIG_ED, 0);
	expect_refused(t, NOW, "issuer", "external issuer switched off");
	free(t);
	kr.external = true;
	/* Expiry applies to external tokens too. */
	t = token(ED_HEADER, ep, SIG_ED, 0);
	expect_refused(t, NOW + 600 + JWT_LEEWAY_S, "expired", "expired external token");
	free(t);
}

static void test_malformed(void **state)
{
	static const char *const rows[] = {
		"", ".", "..", "...", "a", "a.b", "a.b.c.d", "!!!.###.$$$",
		"eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9.", "eyJhbGciOiJIUzI1NiJ9..",
		"eyJhbGciOiJIUzI1NiJ9.e30=.AAAA",                  /* padding is not base64url */
		"eyJhbGciOiJIUzI1NiJ9 .e30.AAAA",                  /* a space */
		"eyJhbGciOiJIUzI1NiJ9.e30+.AAAA",                  /* '+' is standard base64 */
	};
	char p[512];
	char *t;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		expect_refused(rows[i], NOW, NULL, rows[i]);
	/* Well signed but not JSON, not an object, or JSON with trailing junk. */
	t = token(HS_HEADER, "not json", SIG_HS256, 0);
	expect_refused(t, NOW, "malformed", "payload not JSON");
	free(t);
	t = token(HS_HEADER, "[1,2]", SIG_HS256, 0);
	expect_refused(t, NOW, "malformed", "payload an array");
	free(t);
	t = token("HS256", local_payload(p, sizeof(p), ""), SIG_HS256, 0);
	expect_refused(t, NOW, "malformed", "header not JSON");
	free(t);
	t = token(HS_HEADER, local_payload(p, sizeof(p), "} "), SIG_HS256, 0);
	expect_refused(t, NOW, "malformed", "payload with trailing text");
	free(t);
}

static void test_length_limits(void **state)
{
	char *big = malloc(JWT_MAX_LEN + 2), p[4096], pad[2200];
	struct jwt_claims c;
	char *t;

	(void)state;
	assert_non_null(big);
	memset(big, 'A', JWT_MAX_LEN + 1);
	big[10] = '.';
	big[20] = '.';
	big[JWT_MAX_LEN + 1] = '\0';
	expect_refused(big, NOW, "malformed", "one byte over JWT_MAX_LEN");
	assert_int_equal(jwt_verify(&kr, big, 0, NOW, &c, NULL), COHORT_E_AUTH);
	free(big);

	/* A correctly signed token whose payload does not fit the decoder. */
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	snprintf(p, sizeof(p), "{\"iss\":\"cohort\",\"aud\":\"cohort\",\"sub\":\"a\",\"exp\":1800000600,\"pad\":\"%s\"}",
		 pad);
	t = token(HS_HEADER, p, SIG_HS256, 0);
	assert_true(strlen(t) <= JWT_MAX_LEN);
	expect_refused(t, NOW, NULL, "payload over the decode buffer");
	free(t);
	/* A long but reasonable token still works. */
	pad[1000] = '\0';
	snprintf(p, sizeof(p), "{\"iss\":\"cohort\",\"aud\":\"cohort\",\"sub\":\"a\",\"exp\":1800000600,\"pad\":\"%s\"}",
		 pad);
	t = token(HS_HEADER, p, SIG_HS256, 0);
	assert_int_equal(verify(t, NOW, &c, NULL), 0);
	free(t);
}

static void test_parse_keys(void **state)
{
	struct jwt_keyring k;
	char std[64], url[64], list[512];
	unsigned char pk[32];

	(void)state;
	memset(pk, 0xfb, sizeof(pk)); /* encodes with '+' and '/' in standard base64 */
	sodium_bin2base64(std, sizeof(std), pk, 32, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(url, sizeof(url), pk, 32, B64URL);
	assert_non_null(strpbrk(std, "+/"));

	memset(&k, 0, sizeof(k));
	assert_int_equal(jwt_parse_ed25519_keys(&k, std), 0);
	assert_int_equal(k.ext_nkeys, 1);
	assert_memory_equal(k.ext_keys[0], pk, 32);
	snprintf(list, sizeof(list), " %s , %s,", url, std);
	assert_int_equal(jwt_parse_ed25519_keys(&k, list), 0);
	assert_int_equal(k.ext_nkeys, 2);
	assert_memory_equal(k.ext_keys[1], pk, 32);
	assert_int_equal(jwt_parse_ed25519_keys(&k, ""), 0);
	assert_int_equal(k.ext_nkeys, 0);

	snprintf(list, sizeof(list), "%s,%s,%s,%s,%s", std, std, std, std, std);
	assert_int_equal(jwt_parse_ed25519_keys(&k, list), COHORT_E_CONFIG); /* more than JWT_MAX_KEYS */
	snprintf(list, sizeof(list), "%s,%s,%s,%s", std, std, std, std);
	assert_int_equal(jwt_parse_ed25519_keys(&k, list), 0);
	assert_int_equal(k.ext_nkeys, JWT_MAX_KEYS);
	assert_int_equal(jwt_parse_ed25519_keys(&k, "AAAA"), COHORT_E_CONFIG); /* 3 bytes */
	assert_int_equal(jwt_parse_ed25519_keys(&k, "not base64 at all!"), COHORT_E_CONFIG);
	std[10] = '\0';
	assert_int_equal(jwt_parse_ed25519_keys(&k, std), COHORT_E_CONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_round_trip),
		cmocka_unit_test(test_sign_local_limits),
		cmocka_unit_test(test_local_handmade_accepted),
		cmocka_unit_test(test_time_claims),
		cmocka_unit_test(test_audience_and_issuer),
		cmocka_unit_test(test_subject_too_long),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_algorithm_pinning),
		cmocka_unit_test(test_external_eddsa),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_length_limits),
		cmocka_unit_test(test_parse_keys),
	};

	log_init("test", "error");
	if (ids_init())
		return 1;
	return cmocka_run_group_tests(tests, setup, NULL);
}
