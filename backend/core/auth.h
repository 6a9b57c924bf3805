/*
 * auth.h — credentials: Argon2id password hashes, the server secret, and the
 * token keyring built from the configuration.
 */
#ifndef COHORT_AUTH_H
#define COHORT_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct cohort_config;
struct jwt_keyring;

#define AUTH_HASH_MAX 128     /* crypto_pwhash_STRBYTES */
#define AUTH_PASSWORD_MIN 8
#define AUTH_PASSWORD_MAX 256

/* Argon2id (libsodium crypto_pwhash_str, interactive limits). */
int auth_password_hash(const char *password, size_t len, char out[AUTH_HASH_MAX]);
/* true when password matches hash. With hash NULL (unknown login) it still
 * spends the same time on a dummy hash, so timing does not reveal logins. */
bool auth_password_verify(const char *hash, const char *password, size_t len);

/* Creates the secret file (0600, 32 random bytes, hex) when it is missing. */
int auth_secret_init(const char *path, bool *created);

/* Fills kr from the configuration: the local secret from auth.secret_file,
 * the external issuer and keys. errbuf explains a failure. */
int auth_keyring_load(const struct cohort_config *cfg, struct jwt_keyring *kr, char *errbuf, size_t errlen);

#endif
