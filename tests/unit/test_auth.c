/*
 * Unit tests for core/auth: Argon2id password hashes (kept to a handful,
 * each costs about 0.1 s and 64 MiB), the unknown-login path that still
 * spends a hash's time, the server secret file, and the keyring built from
 * the configuration with each way it can be wrong.
 */
#include "core/auth.h"
#include "core/config.h"
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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "testdb.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_hash_and_verify(void **state)
{
	char min_pw[AUTH_PASSWORD_MIN + 1], max_pw[AUTH_PASSWORD_MAX + 1];
	char h_min[AUTH_HASH_MAX], h_max[AUTH_HASH_MAX];

	(void)state;
	memset(min_pw, 'm', AUTH_PASSWORD_MIN);
	min_pw[AUTH_PASSWORD_MIN] = '\0';
	for (size_t i = 0; i < AUTH_PASSWORD_MAX; i++)
		max_pw[i] = (char)('a' + i % 26);
	max_pw[AUTH_PASSWORD_MAX] = '\0';

	assert_int_equal(auth_password_hash(min_pw, AUTH_PASSWORD_MIN, h_min), 0);
	assert_int_equal(auth_password_hash(max_pw, AUTH_PASSWORD_MAX, h_max), 0);
	assert_int_equal(strncmp(h_min, "$argon2id$", 10), 0);
	assert_true(strlen(h_min) < AUTH_HASH_MAX);
	assert_string_not_equal(h_min, h_max);

	assert_true(auth_password_verify(h_min, min_pw, AUTH_PASSWORD_MIN));
	assert_true(auth_password_verify(h_max, max_pw, AUTH_PASSWORD_MAX));
	/* Wrong password: one character different. */
	max_pw[100] = '#';
	assert_false(auth_password_verify(h_max, max_pw, AUTH_PASSWORD_MAX));
	/* Cheap refusals: too long, or not a hash at all. */
	assert_false(auth_password_verify(h_min, max_pw, AUTH_PASSWORD_MAX + 1));
	assert_false(auth_password_verify("not-a-hash", min_pw, AUTH_PASSWORD_MIN));
	assert_false(auth_password_verify("", min_pw, AUTH_PASSWORD_MIN));
}

static void test_password_length_limits(void **state)
{
	char pw[AUTH_PASSWORD_MAX + 2], hash[AUTH_HASH_MAX];

	(void)state;
	memset(pw, 'p', sizeof(pw));
	/* Refused before any hashing. */
	assert_int_equal(auth_password_hash(pw, 0, hash), COHORT_E_RANGE);
	assert_int_equal(auth_password_hash(pw, AUTH_PASSWORD_MIN - 1, hash), COHORT_E_RANGE);
	assert_int_equal(auth_password_hash(pw, AUTH_PASSWORD_MAX + 1, hash), COHORT_E_RANGE);
	assert_int_equal(auth_password_hash(pw, (size_t)-1, hash), COHORT_E_RANGE);
}

/* An unknown login (no hash) never signs in, and costs about what a real
 * verification costs, so timing does not tell which logins exist. */
static void test_unknown_login_path(void **state)
{
	const char pw[] = "some-password";
	char hash[AUTH_HASH_MAX];
	double t0, real, unknown;

	(void)state;
	assert_false(auth_password_verify(NULL, pw, sizeof(pw) - 1)); /* computes the dummy once */
	assert_false(auth_password_verify(NULL, "dummy-password", 14)); /* even the dummy's own password */
	assert_int_equal(auth_password_hash(pw, sizeof(pw) - 1, hash), 0);
	t0 = now_s();
	assert_true(auth_password_verify(hash, pw, sizeof(pw) - 1));
	real = now_s() - t0;
	t0 = now_s();
	assert_false(auth_password_verify(NULL, pw, sizeof(pw) - 1));
	unknown = now_s() - t0;
	/* Loose on purpose (machines are noisy); a skipped hash would be ~1000x faster. */
	if (unknown < real * 0.25)
		fail_msg("unknown login took %.4f s, a real verification %.4f s", unknown, real);
}

static void read_all(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void test_secret_init(void **state)
{
	char dir[64], path[128], first[256], second[256];
	struct stat st;
	bool created = false;

	(void)state;
	testdb_tmpdir(dir);
	snprintf(path, sizeof(path), "%s/jwt.secret", dir);
	assert_int_equal(auth_secret_init(path, &created), 0);
	assert_true(created);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	read_all(path, first, sizeof(first));
	assert_int_equal(strlen(first), 65);
	assert_int_equal(first[64], '\n');
	for (int i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", first[i]));

	/* Once: a second call keeps the file as it is. */
	assert_int_equal(auth_secret_init(path, &created), 0);
	assert_false(created);
	read_all(path, second, sizeof(second));
	assert_string_equal(first, second);

	/* Its directory must exist (the CLI creates it); an error, no file. */
	snprintf(path, sizeof(path), "%s/missing/jwt.secret", dir);
	assert_int_equal(auth_secret_init(path, &created), COHORT_E_IO);
	assert_false(created);
	testdb_rmtree(dir);
}

/* The configuration with the auth keys a test sets; everything else default. */
struct auth_cfg {
	const char *secret_file, *issuer, *ext_issuer, *ext_keys, *ext_alg;
};

static void set_str(char **field, const char *v)
{
	if (!v)
		return;
	free(*field);
	*field = strdup(v);
	assert_non_null(*field);
}

static int load(const struct auth_cfg *ac, struct jwt_keyring *kr, char *errbuf, size_t errlen)
{
	struct cohort_config cfg;
	char e[256];
	int err;

	assert_int_equal(config_load(&cfg, NULL, e, sizeof(e)), 0);
	set_str(&cfg.auth_secret_file, ac->secret_file);
	set_str(&cfg.auth_issuer, ac->issuer);
	set_str(&cfg.auth_ext_issuer, ac->ext_issuer);
	set_str(&cfg.auth_ext_keys, ac->ext_keys);
	set_str(&cfg.auth_ext_alg, ac->ext_alg);
	errbuf[0] = '\0';
	err = auth_keyring_load(&cfg, kr, errbuf, errlen);
	config_release(&cfg);
	return err;
}

static void write_secret(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_keyring(void **state)
{
	char dir[64], good[128], bad[128], key_a[64], key_b[64], keys[160], long_iss[200];
	unsigned char pk[32], sk[64];
	struct jwt_keyring kr;
	char errbuf[256];
	bool created;

	(void)state;
	testdb_tmpdir(dir);
	snprintf(good, sizeof(good), "%s/good.secret", dir);
	snprintf(bad, sizeof(bad), "%s/bad.secret", dir);
	assert_int_equal(auth_secret_init(good, &created), 0);
	crypto_sign_keypair(pk, sk);
	sodium_bin2base64(key_a, sizeof(key_a), pk, 32, sodium_base64_VARIANT_ORIGINAL);
	crypto_sign_keypair(pk, sk);
	sodium_bin2base64(key_b, sizeof(key_b), pk, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(keys, sizeof(keys), "%s,%s", key_a, key_b);

	/* Local only. */
	{
		const struct auth_cfg ac = { .secret_file = good, .ext_issuer = "" };
		struct strbuf tok = STRBUF_INIT;
		struct jwt_claims c;

		assert_int_equal(load(&ac, &kr, errbuf, sizeof(errbuf)), 0);
		assert_int_equal(kr.hs_key_len, 32);
		assert_string_equal(kr.local_iss, "cohort");
		assert_string_equal(kr.local_aud, "cohort");
		assert_false(kr.external);
		/* What it loads signs and verifies. */
		assert_int_equal(jwt_sign_local(&kr, "alice", 1800000000, 60, &tok, NULL), 0);
		assert_int_equal(jwt_verify(&kr, tok.buf, tok.len, 1800000000, &c, NULL), 0);
		strbuf_release(&tok);
	}
	/* With an external issuer and two keys. */
	{
		const struct auth_cfg ac = { .secret_file = good, .ext_issuer = "https://lms.example", .ext_keys = keys };

		assert_int_equal(load(&ac, &kr, errbuf, sizeof(errbuf)), 0);
		assert_true(kr.external);
		assert_int_equal(kr.ext_nkeys, 2);
		assert_string_equal(kr.ext_iss, "https://lms.example");
		assert_memory_equal(kr.ext_keys[1], pk, 32);
	}
	/* A 64-byte secret is the most the keyring holds. */
	{
		char hex[140];
		const struct auth_cfg ac = { .secret_file = bad, .ext_issuer = "" };

		memset(hex, 'a', 128);
		hex[128] = '\n';
		hex[129] = '\0';
		write_secret(bad, hex);
		assert_int_equal(load(&ac, &kr, errbuf, sizeof(errbuf)), 0);
		assert_int_equal(kr.hs_key_len, 64);
	}

	memset(long_iss, 'i', sizeof(long_iss) - 1);
	long_iss[sizeof(long_iss) - 1] = '\0';
	{
		static const struct {
			const char *what;
			const char *secret_text; /* written to bad.secret; NULL: use the given file */
			struct auth_cfg ac;
			const char *msg;
		} rows[] = {
			{ "missing secret file", NULL, { .secret_file = "/nonexistent/jwt.secret", .ext_issuer = "" },
			  "init-secret" },
			{ "empty secret file", "", { .ext_issuer = "" }, "hex" },
			{ "short secret", "abcdef0123\n", { .ext_issuer = "" }, "hex" },
			{ "31 bytes", "00112233445566778899aabbccddeeff00112233445566778899aabbccddee\n", { .ext_issuer = "" },
			  "hex" },
			{ "not hex", "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
			  { .ext_issuer = "" }, "hex" },
			{ "65 bytes",
			  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", { .ext_issuer = "" }, "hex" },
		};

		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct auth_cfg ac = rows[i].ac;
			int err;

			if (rows[i].secret_text) {
				write_secret(bad, rows[i].secret_text);
				ac.secret_file = bad;
			}
			err = load(&ac, &kr, errbuf, sizeof(errbuf));
			if (err != COHORT_E_CONFIG || !strstr(errbuf, rows[i].msg))
				fail_msg("%s: err %d '%s', want config_error with '%s'", rows[i].what, err, errbuf,
					 rows[i].msg);
		}
	}
	{
		const struct {
			const char *what;
			struct auth_cfg ac;
			const char *msg;
		} rows[] = {
			{ "external alg not EdDSA",
			  { .secret_file = good, .ext_issuer = "https://lms.example", .ext_keys = keys, .ext_alg = "HS256" },
			  "EdDSA" },
			{ "external issuer equals the local one",
			  { .secret_file = good, .ext_issuer = "cohort", .ext_keys = keys }, "differ" },
			{ "external issuer without keys", { .secret_file = good, .ext_issuer = "https://lms.example" },
			  "external_keys" },
			{ "external keys not base64",
			  { .secret_file = good, .ext_issuer = "https://lms.example", .ext_keys = "%%%" }, "external_keys" },
			{ "external key of the wrong size",
			  { .secret_file = good, .ext_issuer = "https://lms.example", .ext_keys = "AAAA" }, "external_keys" },
			{ "issuer too long", { .secret_file = good, .issuer = long_iss, .ext_issuer = "" }, "too long" },
		};

		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			int err = load(&rows[i].ac, &kr, errbuf, sizeof(errbuf));

			if (err != COHORT_E_CONFIG || !strstr(errbuf, rows[i].msg))
				fail_msg("%s: err %d '%s', want config_error with '%s'", rows[i].what, err, errbuf,
					 rows[i].msg);
		}
	}
	testdb_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_and_verify),
		cmocka_unit_test(test_password_length_limits),
		cmocka_unit_test(test_unknown_login_path),
		cmocka_unit_test(test_secret_init),
		cmocka_unit_test(test_keyring),
	};

	/* The keyring tests set the auth keys they need; the environment must
	 * not override them. */
	static const char *const env[] = { "COHORT_AUTH_SECRET_FILE", "COHORT_AUTH_ISSUER", "COHORT_AUTH_AUDIENCE",
					   "COHORT_AUTH_EXTERNAL_ISSUER", "COHORT_AUTH_EXTERNAL_AUDIENCE",
					   "COHORT_AUTH_EXTERNAL_KEYS", "COHORT_AUTH_EXTERNAL_ALG" };

	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		unsetenv(env[i]);
	log_init("test", "error");
	if (ids_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
