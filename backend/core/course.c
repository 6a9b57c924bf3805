#include "core/course.h"
#include "core/db.h"
#include "core/err.h"
#include "core/user.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char code_alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";

const char *role_name(enum role r)
{
	switch (r) {
	case ROLE_TEACHER: return "teacher";
	case ROLE_STUDENT: return "student";
	case ROLE_NONE: break;
	}
	return "none";
}

static enum role role_parse(const char *s)
{
	if (s && !strcmp(s, "teacher"))
		return ROLE_TEACHER;
	if (s && !strcmp(s, "student"))
		return ROLE_STUDENT;
	return ROLE_NONE;
}

/* Canonical form of a code: its 12 letters and digits, lower-cased. */
static int code_hash(const char *code, size_t len, char hex[65])
{
	unsigned char canon[32], digest[crypto_hash_sha256_BYTES];
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = code[i];

		if (c == '-' || c == ' ')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!strchr(code_alphabet, c) || c == '\0' || n >= sizeof(canon))
			return COHORT_E_BADCODE;
		canon[n++] = (unsigned char)c;
	}
	if (n != 12)
		return COHORT_E_BADCODE;
	crypto_hash_sha256(digest, canon, n);
	sodium_bin2hex(hex, 65, digest, sizeof(digest));
	return 0;
}

static void new_code(char code[JOIN_CODE_LEN + 1])
{
	unsigned char rnd[12];
	size_t k = 0;

	randombytes_buf(rnd, sizeof(rnd));
	for (size_t i = 0; i < 12; i++) {
		if (i && i % 4 == 0)
			code[k++] = '-';
		code[k++] = code_alphabet[rnd[i] % (sizeof(code_alphabet) - 1)];
	}
	code[k] = '\0';
}

static int step_done(struct db_stmt *st)
{
	int rc = db_step(st);

	return rc == DB_DONE || rc == DB_ROW ? 0 : rc;
}

#define PART_COLS "p.id, p.course_id, p.user_id, p.role, p.nickname, u.login, p.joined_at"

static void read_part(struct db_stmt *st, struct participant *p)
{
	size_t n;

	p->id = db_col_int(st, 0);
	p->course_id = db_col_int(st, 1);
	p->user_id = db_col_int(st, 2);
	p->role = role_parse(db_col_text(st, 3, &n));
	db_col_copy(st, 4, p->nickname, sizeof(p->nickname));
	db_col_copy(st, 5, p->login, sizeof(p->login));
	p->joined_at = db_col_int(st, 6);
}

static int add_participant(struct db *db, int64_t course_id, int64_t user_id, enum role role, const char *nick,
			   size_t nick_len, struct participant *out)
{
	struct db_stmt *st = NULL;
	int err, rc;

	if (!text_name_ok(nick, nick_len, NICKNAME_MAX_BYTES))
		return COHORT_E_FIELD;
	err = db_prepare(db, "INSERT INTO participants (course_id, user_id, role, nickname, joined_at)"
			     " VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id", &st);
	if (err)
		return err;
	db_bind_int(st, 1, course_id);
	db_bind_int(st, 2, user_id);
	db_bind_str(st, 3, role_name(role));
	db_bind_text(st, 4, nick, nick_len);
	db_bind_int(st, 5, (int64_t)time(NULL));
	rc = db_step(st);
	if (rc == DB_ROW) {
		int64_t id = db_col_int(st, 0);

		db_finalize(st);
		return participant_get(db, id, out);
	}
	db_finalize(st);
	if (rc == COHORT_E_EXISTS) {
		/* Which uniqueness rule? Ask rather than parse the error text. */
		struct participant me;

		if (course_participation(db, course_id, user_id, &me) == 0 && me.id)
			return COHORT_E_MEMBER;
		return COHORT_E_NICKNAME;
	}
	return rc < 0 ? rc : COHORT_E_DB;
}

int course_create(struct db *db, int64_t user_id, const char *name, size_t name_len, const char *desc,
		  size_t desc_len, const char *nickname, size_t nick_len, struct course *out,
		  struct participant *teacher, char code[JOIN_CODE_LEN + 1])
{
	struct db_stmt *st = NULL;
	struct user u;
	char hex[65];
	int err, rc;

	if (!text_name_ok(name, name_len, NAME_MAX_BYTES) || !text_body_ok(desc ? desc : "", desc_len,
									    DESCRIPTION_MAX_BYTES))
		return COHORT_E_FIELD;
	err = user_get(db, user_id, &u);
	if (err)
		return err;
	if (!nickname) {
		nickname = u.display_name;
		nick_len = strlen(u.display_name);
		if (nick_len > NICKNAME_MAX_BYTES) {
			/* Cut at a character boundary and drop the spaces the cut
			 * may expose, so the nickname is as valid as the name. */
			nick_len = NICKNAME_MAX_BYTES;
			while (nick_len && ((unsigned char)nickname[nick_len] & 0xc0) == 0x80)
				nick_len--;
			while (nick_len && nickname[nick_len - 1] == ' ')
				nick_len--;
		}
	}
	new_code(code);
	code_hash(code, strlen(code), hex);
	err = db_begin_immediate(db);
	if (err)
		return err;
	err = db_prepare(db, "INSERT INTO courses (name, description, join_code_hash, owner_id, created_at)"
			     " VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id", &st);
	if (err)
		goto fail;
	db_bind_text(st, 1, name, name_len);
	db_bind_text(st, 2, desc ? desc : "", desc ? desc_len : 0);
	db_bind_str(st, 3, hex);
	db_bind_int(st, 4, user_id);
	db_bind_int(st, 5, (int64_t)time(NULL));
	rc = db_step(st);
	if (rc != DB_ROW) {
		err = rc < 0 ? rc : COHORT_E_DB;
		goto fail;
	}
	out->id = db_col_int(st, 0);
	db_finalize(st);
	st = NULL;
	err = add_participant(db, out->id, user_id, ROLE_TEACHER, nickname, nick_len, teacher);
	if (err)
		goto fail;
	err = db_commit(db);
	if (err)
		goto fail;
	return course_get(db, out->id, out);
fail:
	db_finalize(st);
	db_rollback(db);
	return err;
}

int course_get(struct db *db, int64_t id, struct course *out)
{
	struct db_stmt *st = NULL;
	int err = db_prepare(db, "SELECT id, name, description, owner_id, created_at FROM courses WHERE id = ?1", &st);
	int rc;

	if (err)
		return err;
	db_bind_int(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		out->id = db_col_int(st, 0);
		db_col_copy(st, 1, out->name, sizeof(out->name));
		db_col_copy(st, 2, out->description, sizeof(out->description));
		out->owner_id = db_col_int(st, 3);
		out->created_at = db_col_int(st, 4);
	}
	err = rc == DB_ROW ? 0 : rc < 0 ? rc : COHORT_E_NOTFOUND;
	db_finalize(st);
	return err;
}

int course_rotate_code(struct db *db, int64_t course_id, char code[JOIN_CODE_LEN + 1])
{
	struct db_stmt *st = NULL;
	char hex[65];
	int err;

	new_code(code);
	code_hash(code, strlen(code), hex);
	err = db_prepare(db, "UPDATE courses SET join_code_hash = ?2 WHERE id = ?1", &st);
	if (err)
		return err;
	db_bind_int(st, 1, course_id);
	db_bind_str(st, 2, hex);
	err = step_done(st);
	if (!err && db_changes(db) == 0)
		err = COHORT_E_NOTFOUND;
	db_finalize(st);
	return err;
}

int course_join(struct db *db, int64_t user_id, const char *code, size_t code_len, const char *nickname,
		size_t nick_len, struct course *course, struct participant *out)
{
	struct db_stmt *st = NULL;
	char hex[65];
	int err, rc;
	int64_t course_id;

	if (code_len > 64 || code_hash(code, code_len, hex))
		return COHORT_E_BADCODE;
	err = db_prepare(db, "SELECT id FROM courses WHERE join_code_hash = ?1", &st);
	if (err)
		return err;
	db_bind_str(st, 1, hex);
	rc = db_step(st);
	course_id = rc == DB_ROW ? db_col_int(st, 0) : 0;
	db_finalize(st);
	if (rc < 0)
		return rc;
	if (!course_id)
		return COHORT_E_BADCODE;
	err = add_participant(db, course_id, user_id, ROLE_STUDENT, nickname, nick_len, out);
	return err ? err : course_get(db, course_id, course);
}

static int get_part(struct db *db, const char *where, int64_t a, int64_t b, struct participant *out)
{
	char sql[256];
	struct db_stmt *st = NULL;
	int err, rc;

	snprintf(sql, sizeof(sql), "SELECT " PART_COLS " FROM participants p JOIN users u ON u.id = p.user_id WHERE %s",
		 where);
	err = db_prepare(db, sql, &st);
	if (err)
		return err;
	db_bind_int(st, 1, a);
	if (b)
		db_bind_int(st, 2, b);
	rc = db_step(st);
	memset(out, 0, sizeof(*out));
	if (rc == DB_ROW)
		read_part(st, out);
	db_finalize(st);
	return rc < 0 ? rc : rc == DB_ROW ? 0 : COHORT_E_NOTFOUND;
}

int course_participation(struct db *db, int64_t course_id, int64_t user_id, struct participant *out)
{
	int err = get_part(db, "p.course_id = ?1 AND p.user_id = ?2", course_id, user_id, out);

	return err == COHORT_E_NOTFOUND ? 0 : err;
}

int participant_get(struct db *db, int64_t participant_id, struct participant *out)
{
	return get_part(db, "p.id = ?1", participant_id, 0, out);
}

int course_list_for_user(struct db *db, int64_t user_id,
			 int (*fn)(const struct course *c, const struct participant *me, void *arg), void *arg)
{
	struct db_stmt *st = NULL;
	int err = db_prepare(db, "SELECT " PART_COLS ", c.name, c.description, c.owner_id, c.created_at"
				 " FROM participants p JOIN users u ON u.id = p.user_id JOIN courses c ON c.id = p.course_id"
				 " WHERE p.user_id = ?1 ORDER BY c.id", &st);
	int rc;

	if (err)
		return err;
	db_bind_int(st, 1, user_id);
	while ((rc = db_step(st)) == DB_ROW) {
		struct participant me;
		struct course c;

		read_part(st, &me);
		c.id = me.course_id;
		db_col_copy(st, 7, c.name, sizeof(c.name));
		db_col_copy(st, 8, c.description, sizeof(c.description));
		c.owner_id = db_col_int(st, 9);
		c.created_at = db_col_int(st, 10);
		err = fn(&c, &me, arg);
		if (err)
			break;
	}
	if (!err && rc < 0)
		err = rc;
	db_finalize(st);
	return err;
}

int course_participants(struct db *db, int64_t course_id, int (*fn)(const struct participant *p, void *arg),
			void *arg)
{
	struct db_stmt *st = NULL;
	int err = db_prepare(db, "SELECT " PART_COLS " FROM participants p JOIN users u ON u.id = p.user_id"
				 " WHERE p.course_id = ?1 ORDER BY p.role DESC, p.nickname", &st);
	int rc;

	if (err)
		return err;
	db_bind_int(st, 1, course_id);
	while ((rc = db_step(st)) == DB_ROW) {
		struct participant p;

		read_part(st, &p);
		err = fn(&p, arg);
		if (err)
			break;
	}
	if (!err && rc < 0)
		err = rc;
	db_finalize(st);
	return err;
}

int participant_set_nickname(struct db *db, int64_t participant_id, const char *nick, size_t len)
{
	struct db_stmt *st = NULL;
	int err;

	if (!text_name_ok(nick, len, NICKNAME_MAX_BYTES))
		return COHORT_E_FIELD;
	err = db_prepare(db, "UPDATE participants SET nickname = ?2 WHERE id = ?1", &st);
	if (err)
		return err;
	db_bind_int(st, 1, participant_id);
	db_bind_text(st, 2, nick, len);
	err = step_done(st);
	if (err == COHORT_E_EXISTS)
		err = COHORT_E_NICKNAME;
	else if (!err && db_changes(db) == 0)
		err = COHORT_E_NOTFOUND;
	db_finalize(st);
	return err;
}

int participant_remove(struct db *db, int64_t participant_id)
{
	struct db_stmt *st = NULL;
	struct participant p;
	int err, rc;

	err = db_begin_immediate(db);
	if (err)
		return err;
	err = participant_get(db, participant_id, &p);
	if (err)
		goto out;
	if (p.role == ROLE_TEACHER) {
		err = db_prepare(db, "SELECT COUNT(*) FROM participants WHERE course_id = ?1 AND role = 'teacher'", &st);
		if (err)
			goto out;
		db_bind_int(st, 1, p.course_id);
		rc = db_step(st);
		if (rc != DB_ROW) {
			err = rc < 0 ? rc : COHORT_E_DB;
			goto out;
		}
		if (db_col_int(st, 0) <= 1) {
			err = COHORT_E_CONFLICT;
			goto out;
		}
		db_finalize(st);
		st = NULL;
	}
	err = db_prepare(db, "DELETE FROM participants WHERE id = ?1", &st);
	if (err)
		goto out;
	db_bind_int(st, 1, participant_id);
	err = step_done(st);
out:
	db_finalize(st);
	if (!err)
		err = db_commit(db);
	if (err)
		db_rollback(db);
	return err;
}
