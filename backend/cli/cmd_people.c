#include "cli/cmd_people.h"
#include "cli/cli.h"
#include "core/render.h"
#include "core/auth.h"
#include "core/err.h"
#include "core/jwt.h"
#include "core/user.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Creates every missing directory above path (like mkdir -p on dirname),
 * private to the owner since they hold secrets. */
static int make_parent_dirs(const char *path)
{
	char dir[4096];
	size_t n = strlen(path);

	if (n >= sizeof(dir))
		return COHORT_E_LIMIT;
	memcpy(dir, path, n + 1);
	for (size_t i = 1; i < n; i++) {
		if (dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return COHORT_E_IO;
		dir[i] = '/';
	}
	return 0;
}

int cmd_init_secret(struct cli *c, int argc, char **argv)
{
	const char *path = c->cfg.auth_secret_file;
	bool created = false;
	int rc, err;

	rc = cli_args(c, argc, argv, NULL, 0, NULL, 0, 0);
	if (rc)
		return rc;
	if (!path[0])
		return cli_fail(c, COHORT_E_CONFIG, "auth.secret_file is empty");
	err = make_parent_dirs(path);
	if (err)
		return cli_fail(c, err, "cannot create the directories of %s: %s", path, strerror(errno));
	err = auth_secret_init(path, &created);
	if (err)
		return cli_fail(c, err, "cannot create %s: %s", path, strerror(errno));
	jsonw_obj(&c->out, NULL);
	jsonw_str(&c->out, "path", path);
	jsonw_bool(&c->out, "created", created);
	jsonw_end(&c->out);
	return CLI_OK;
}

/* Reads the password from standard input: everything up to the first
 * newline (or the end), which must then be the end of the input. */
static int read_password(struct cli *c, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	int ch;

	while ((ch = getchar()) != EOF && ch != '\n') {
		if (n + 1 >= cap)
			return cli_fail(c, COHORT_E_RANGE, "the password is longer than %d bytes", AUTH_PASSWORD_MAX);
		buf[n++] = (char)ch;
	}
	if (ferror(stdin))
		return cli_fail(c, COHORT_E_IO, "cannot read the password from standard input");
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (ch == '\n' && getchar() != EOF)
		return cli_fail(c, COHORT_E_FIELD, "standard input must hold the password on one line");
	if (n < AUTH_PASSWORD_MIN || n > AUTH_PASSWORD_MAX)
		return cli_fail(c, COHORT_E_RANGE, "the password must be %d to %d bytes", AUTH_PASSWORD_MIN,
				AUTH_PASSWORD_MAX);
	*len = n;
	return CLI_OK;
}

int cmd_user_create(struct cli *c, int argc, char **argv)
{
	char password[AUTH_PASSWORD_MAX + 2];
	size_t password_len = 0;
	bool admin = false, with_password = false;
	const struct cli_opt opts[] = {
		{ "admin", NULL, &admin },
		{ "password-stdin", NULL, &with_password },
	};
	const char *pos[2];
	struct user_new in;
	struct user u;
	int rc, err;

	rc = cli_args(c, argc, argv, opts, 2, pos, 2, 2);
	if (rc)
		return rc;
	if (cli_check_login(c, pos[0]) || cli_check_name(c, "display name", pos[1], NAME_MAX_BYTES))
		return CLI_FAIL;
	if (with_password) {
		rc = read_password(c, password, sizeof(password), &password_len);
		if (rc)
			goto out;
	}
	memset(&in, 0, sizeof(in));
	in.login = pos[0];
	in.login_len = strlen(pos[0]);
	in.display_name = pos[1];
	in.display_name_len = strlen(pos[1]);
	in.password = with_password ? password : NULL;
	in.password_len = password_len;
	in.is_admin = admin;
	err = user_create(c->db, &in, &u);
	if (err == COHORT_E_EXISTS)
		rc = cli_fail(c, err, "login '%s' is taken", pos[0]);
	else if (err)
		rc = cli_fail(c, err, "cannot create user '%s': %s", pos[0],
			      cli_why(c, err));
	if (rc)
		goto out;
	jsonw_obj(&c->out, NULL);
	render_user(&c->out, "user", &u);
	jsonw_bool(&c->out, "has_password", with_password);
	jsonw_end(&c->out);
out:
	sodium_memzero(password, sizeof(password));
	return rc;
}

static int set_disabled(struct cli *c, int argc, char **argv, bool disabled)
{
	const char *pos[1];
	struct user u;
	int rc, err;

	rc = cli_args(c, argc, argv, NULL, 0, pos, 1, 1);
	if (rc || (rc = cli_user(c, pos[0], &u)))
		return rc;
	err = user_set_disabled(c->db, u.id, disabled);
	if (!err)
		err = user_get(c->db, u.id, &u);
	if (err)
		return cli_fail(c, err, "cannot update user '%s': %s", pos[0], cli_why(c, err));
	jsonw_obj(&c->out, NULL);
	render_user(&c->out, "user", &u);
	jsonw_end(&c->out);
	return CLI_OK;
}

int cmd_user_disable(struct cli *c, int argc, char **argv)
{
	return set_disabled(c, argc, argv, true);
}

int cmd_user_enable(struct cli *c, int argc, char **argv)
{
	return set_disabled(c, argc, argv, false);
}

/* The subject of cohort's own tokens is the user's login: stable, and what
 * an external issuer knows the user by too. */
int cmd_mint_token(struct cli *c, int argc, char **argv)
{
	const char *ttl_arg = NULL;
	const struct cli_opt opts[] = { { "ttl", &ttl_arg, NULL } };
	const char *pos[1];
	struct jwt_keyring kr;
	struct jwt_claims claims;
	struct strbuf token = STRBUF_INIT;
	struct principal who;
	struct user u;
	char errbuf[512] = "";
	long ttl = c->cfg.auth_token_ttl_s;
	int rc, err;

	memset(&kr, 0, sizeof(kr));
	rc = cli_args(c, argc, argv, opts, 1, pos, 1, 1);
	if (!rc && ttl_arg)
		rc = cli_count(c, "--ttl", ttl_arg, 1, 31536000, &ttl);
	if (rc || (rc = cli_user(c, pos[0], &u)))
		return rc;
	err = user_principal(c->db, &u, &who);
	if (err)
		return cli_fail(c, err, "user '%s' is disabled", u.login);
	err = auth_keyring_load(&c->cfg, &kr, errbuf, sizeof(errbuf));
	if (err) {
		rc = cli_fail(c, err, "%s", errbuf);
		goto out;
	}
	strbuf_init(&token, JWT_MAX_LEN);
	err = jwt_sign_local(&kr, u.login, (int64_t)time(NULL), ttl, &token, &claims);
	if (err) {
		rc = cli_fail(c, err, "cannot sign the token");
		goto out;
	}
	jsonw_obj(&c->out, NULL);
	jsonw_str(&c->out, "token", token.buf);
	jsonw_str(&c->out, "sub", claims.sub);
	jsonw_str(&c->out, "jti", claims.jti);
	jsonw_int(&c->out, "iat", claims.iat);
	jsonw_int(&c->out, "exp", claims.exp);
	jsonw_int(&c->out, "user_id", u.id);
	jsonw_end(&c->out);
out:
	sodium_memzero(&kr, sizeof(kr));
	if (token.buf)
		sodium_memzero(token.buf, token.alloc);
	strbuf_release(&token);
	return rc;
}
