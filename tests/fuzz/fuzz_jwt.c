/*
 * Fuzz target: jwt_verify, which reads the bearer token or session cookie
 * of every request before anything else looks at it.
 *
 * The keyring has a local HS256 key and one external Ed25519 key made from
 * fixed seeds, so tokens minted with them (see README.md) are valid seeds.
 * Checks: the result is 0 or COHORT_E_AUTH, a refusal leaves the claims
 * zeroed and names a reason, and accepted claims are NUL-terminated strings
 * with a non-empty subject.
 */
#include "core/err.h"
#include "core/jwt.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Unix time the seed tokens were minted for; they are valid at it. */
#define FUZZ_NOW 1700000000

static struct jwt_keyring kr;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned char seed[crypto_sign_SEEDBYTES], sk[crypto_sign_SECRETKEYBYTES];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	memset(&kr, 0, sizeof(kr));
	memcpy(kr.local_iss, "cohort", 7);
	memcpy(kr.local_aud, "cohort", 7);
	for (size_t i = 0; i < 32; i++)
		kr.hs_key[i] = (unsigned char)(i * 7 + 1);
	kr.hs_key_len = 32;
	kr.external = true;
	memcpy(kr.ext_iss, "https://lms.example", 20);
	memcpy(kr.ext_aud, "cohort", 7);
	memset(seed, 0x42, sizeof(seed));
	crypto_sign_seed_keypair(kr.ext_keys[0], sk, seed);
	kr.ext_nkeys = 1;
	return 0;
}

static bool terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct jwt_claims zero;
	struct jwt_claims c;
	const char *why = NULL;
	int err = jwt_verify(&kr, (const char *)data, size, FUZZ_NOW, &c, &why);

	if (err) {
		if (err != COHORT_E_AUTH || !why || memcmp(&c, &zero, sizeof(c)))
			abort();
		return 0;
	}
	if (why || !terminated(c.sub, sizeof(c.sub)) || !c.sub[0] || !terminated(c.jti, sizeof(c.jti)) ||
	    !terminated(c.name, sizeof(c.name)) || (c.kind != JWT_LOCAL && c.kind != JWT_EXTERNAL))
		abort();
	return 0;
}
