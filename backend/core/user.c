#include "core/user.h"
#include "core/db.h"
#include "core/err.h"

#include <string.h>
#include <time.h>

#define USER_COLS "id, login, display_name, is_admin, disabled_at IS NOT NULL, created_at"

static void read_user(struct db_stmt *st, struct user *u)
{
	u->id = db_col_int(st, 0);
	db_col_copy(st, 1, u->login, sizeof(u->login));
	db_col_copy(st, 2, u->display_name, sizeof(u->display_name));
	u->is_admin = db_col_int(st, 3) != 0;
	u->disabled = db_col_int(st, 4) != 0;
	u->created_at = db_col_int(st, 5);
}

int user_create(struct db *db, const struct user_new *in, struct user *out)
{
	char hash[AUTH_HASH_MAX];
	struct db_stmt *st = NULL;
	int err, rc;

	if (!text_login_ok(in->login, in->login_len) ||
	    !text_name_ok(in->display_name, in->display_name_len, NAME_MAX_BYTES))
		return COHORT_E_FIELD;
	if (in->password) {
		err = auth_password_hash(in->password, in->password_len, hash);
		if (err)
			return err;
	}
	err = db_prepare(db, "INSERT INTO users (login, display_name, password_hash, is_admin, created_at)"
			     " VALUES (?1, ?2, ?3, ?4, ?5) RETURNING " USER_COLS, &st);
	if (err)
		return err;
	db_bind_text(st, 1, in->login, in->login_len);
	db_bind_text(st, 2, in->display_name, in->display_name_len);
	db_bind_str(st, 3, in->password ? hash : NULL);
	db_bind_int(st, 4, in->is_admin);
	db_bind_int(st, 5, (int64_t)time(NULL));
	rc = db_step(st);
	if (rc == DB_ROW) {
		read_user(st, out);
		err = 0;
	} else {
		err = rc < 0 ? rc : COHORT_E_DB;
	}
	db_finalize(st);
	return err;
}

static int get_one(struct db *db, const char *sql, int64_t id, const char *login, struct user *out,
		   char *hash, bool *has_hash)
{
	struct db_stmt *st = NULL;
	int err = db_prepare(db, sql, &st), rc;

	if (err)
		return err;
	if (login)
		db_bind_str(st, 1, login);
	else
		db_bind_int(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		read_user(st, out);
		if (hash) {
			*has_hash = !db_col_is_null(st, 6);
			db_col_copy(st, 6, hash, AUTH_HASH_MAX);
		}
		err = 0;
	} else {
		err = rc < 0 ? rc : COHORT_E_NOTFOUND;
	}
	db_finalize(st);
	return err;
}

int user_get(struct db *db, int64_t id, struct user *out)
{
	return get_one(db, "SELECT " USER_COLS " FROM users WHERE id = ?1", id, NULL, out, NULL, NULL);
}

int user_get_by_login(struct db *db, const char *login, struct user *out, char hash[AUTH_HASH_MAX],
		      bool *has_hash)
{
	return get_one(db, "SELECT " USER_COLS ", password_hash FROM users WHERE login = ?1", 0, login, out, hash,
		       has_hash);
}

int user_set_disabled(struct db *db, int64_t id, bool disabled)
{
	struct db_stmt *st = NULL;
	int err = db_prepare(db, "UPDATE users SET disabled_at = CASE WHEN ?2 THEN COALESCE(disabled_at, ?3)"
				 " ELSE NULL END WHERE id = ?1", &st);

	if (err)
		return err;
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, disabled);
	db_bind_int(st, 3, (int64_t)time(NULL));
	err = db_step(st) == DB_DONE ? 0 : COHORT_E_DB;
	if (!err && db_changes(db) == 0)
		err = COHORT_E_NOTFOUND;
	db_finalize(st);
	return err;
}

int user_count(struct db *db, int64_t *n)
{
	struct db_stmt *st = NULL;
	int err = db_prepare(db, "SELECT COUNT(*) FROM users", &st);

	if (err)
		return err;
	if (db_step(st) == DB_ROW)
		*n = db_col_int(st, 0);
	else
		err = COHORT_E_DB;
	db_finalize(st);
	return err;
}

int user_principal(struct db *db, const struct user *u, struct principal *p)
{
	(void)db;
	if (u->disabled)
		return COHORT_E_USERDISABLED;
	p->user_id = u->id;
	p->is_admin = u->is_admin;
	memcpy(p->login, u->login, sizeof(p->login));
	return 0;
}
