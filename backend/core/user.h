/*
 * user.h — accounts. A user has a login, a display name, an optional
 * Argon2id password hash (users who only sign in through an external issuer
 * have none), an admin flag, and may be disabled.
 */
#ifndef COHORT_USER_H
#define COHORT_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/auth.h"
#include "core/principal.h"
#include "core/text.h"

struct db;

struct user {
	int64_t id;
	char login[LOGIN_MAX + 1];
	char display_name[NAME_MAX_BYTES + 1];
	bool is_admin;
	bool disabled;
	int64_t created_at;
};

struct user_new {
	const char *login;
	size_t login_len;
	const char *display_name;
	size_t display_name_len;
	const char *password; /* NULL: no password sign-in */
	size_t password_len;
	bool is_admin;
};

/* COHORT_E_FIELD for a bad login/name, COHORT_E_RANGE for a password of the
 * wrong length, COHORT_E_EXISTS when the login is taken. */
int user_create(struct db *db, const struct user_new *in, struct user *out);
int user_get(struct db *db, int64_t id, struct user *out);
/* Also returns the password hash (NULL when none) into hash. */
int user_get_by_login(struct db *db, const char *login, struct user *out, char hash[AUTH_HASH_MAX],
		      bool *has_hash);
int user_set_disabled(struct db *db, int64_t id, bool disabled);
int user_count(struct db *db, int64_t *n);

/* The principal of a verified token subject: COHORT_E_BADTOKEN when the user
 * does not exist, COHORT_E_USERDISABLED when disabled. */
int user_principal(struct db *db, const struct user *u, struct principal *p);

#endif
