#include "core/auth.h"
#include "core/config.h"
#include "core/err.h"
#include "core/jwt.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_BYTES 32

int auth_password_hash(const char *password, size_t len, char out[AUTH_HASH_MAX])
{
	if (len < AUTH_PASSWORD_MIN || len > AUTH_PASSWORD_MAX)
		return COHORT_E_RANGE;
	if (crypto_pwhash_str(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return COHORT_E_NOMEM;
	return 0;
}

bool auth_password_verify(const char *hash, const char *password, size_t len)
{
	static char dummy[AUTH_HASH_MAX];
	static int dummy_ready;

	if (len > AUTH_PASSWORD_MAX)
		return false;
	if (!hash) {
		/* The dummy hash is computed once; races only compute it twice. */
		if (!__atomic_load_n(&dummy_ready, __ATOMIC_ACQUIRE)) {
			char tmp[AUTH_HASH_MAX];

			if (crypto_pwhash_str(tmp, "dummy-password", 14, crypto_pwhash_OPSLIMIT_INTERACTIVE,
					      crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0) {
				memcpy(dummy, tmp, sizeof(dummy));
				__atomic_store_n(&dummy_ready, 1, __ATOMIC_RELEASE);
			}
		}
		if (__atomic_load_n(&dummy_ready, __ATOMIC_ACQUIRE) &&
		    crypto_pwhash_str_verify(dummy, password, len) == 0)
			return false; /* a match against the dummy still signs nobody in */
		return false;
	}
	return crypto_pwhash_str_verify(hash, password, len) == 0;
}

int auth_secret_init(const char *path, bool *created)
{
	unsigned char raw[SECRET_BYTES];
	char hex[SECRET_BYTES * 2 + 2];
	int fd, err = 0;

	*created = false;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? 0 : COHORT_E_IO;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
	hex[SECRET_BYTES * 2] = '\n';
	if (write(fd, hex, SECRET_BYTES * 2 + 1) != SECRET_BYTES * 2 + 1)
		err = COHORT_E_IO;
	if (close(fd) != 0)
		err = COHORT_E_IO;
	if (err)
		unlink(path);
	else
		*created = true;
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(hex, sizeof(hex));
	return err;
}

static int load_secret(const char *path, struct jwt_keyring *kr, char *errbuf, size_t errlen)
{
	char hex[SECRET_BYTES * 4 + 2];
	size_t n, bin_len = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(errbuf, errlen, "cannot read auth.secret_file %s: %s (run `cohort init-secret`)", path,
			 strerror(errno));
		return COHORT_E_CONFIG;
	}
	n = fread(hex, 1, sizeof(hex) - 1, f);
	fclose(f);
	while (n && (hex[n - 1] == '\n' || hex[n - 1] == '\r' || hex[n - 1] == ' '))
		n--;
	hex[n] = '\0';
	if (sodium_hex2bin(kr->hs_key, sizeof(kr->hs_key), hex, n, NULL, &bin_len, NULL) != 0 ||
	    bin_len < SECRET_BYTES) {
		snprintf(errbuf, errlen, "auth.secret_file %s must hold at least %d random bytes in hex", path,
			 SECRET_BYTES);
		sodium_memzero(hex, sizeof(hex));
		return COHORT_E_CONFIG;
	}
	kr->hs_key_len = bin_len;
	sodium_memzero(hex, sizeof(hex));
	return 0;
}

static int copy_field(char *dst, size_t cap, const char *src, const char *name, char *errbuf, size_t errlen)
{
	size_t n = strlen(src);

	if (n >= cap) {
		snprintf(errbuf, errlen, "%s is too long", name);
		return COHORT_E_CONFIG;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int auth_keyring_load(const struct cohort_config *cfg, struct jwt_keyring *kr, char *errbuf, size_t errlen)
{
	int err;

	memset(kr, 0, sizeof(*kr));
	err = copy_field(kr->local_iss, sizeof(kr->local_iss), cfg->auth_issuer, "auth.issuer", errbuf, errlen);
	err = err ? err : copy_field(kr->local_aud, sizeof(kr->local_aud), cfg->auth_audience, "auth.audience", errbuf, errlen);
	err = err ? err : load_secret(cfg->auth_secret_file, kr, errbuf, errlen);
	if (err || !cfg->auth_ext_issuer[0])
		return err;
	if (strcmp(cfg->auth_ext_alg, "EdDSA")) {
		snprintf(errbuf, errlen, "auth.external_alg must be EdDSA (got %s)", cfg->auth_ext_alg);
		return COHORT_E_CONFIG;
	}
	if (!strcmp(cfg->auth_ext_issuer, cfg->auth_issuer)) {
		snprintf(errbuf, errlen, "auth.external_issuer must differ from auth.issuer");
		return COHORT_E_CONFIG;
	}
	err = copy_field(kr->ext_iss, sizeof(kr->ext_iss), cfg->auth_ext_issuer, "auth.external_issuer", errbuf, errlen);
	err = err ? err : copy_field(kr->ext_aud, sizeof(kr->ext_aud), cfg->auth_ext_audience, "auth.external_audience", errbuf, errlen);
	if (err)
		return err;
	if (jwt_parse_ed25519_keys(kr, cfg->auth_ext_keys) || kr->ext_nkeys == 0) {
		snprintf(errbuf, errlen, "auth.external_keys must list 1 to %d base64 Ed25519 public keys", JWT_MAX_KEYS);
		return COHORT_E_CONFIG;
	}
	kr->external = true;
	return 0;
}
