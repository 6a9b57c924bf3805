/*
 * course.h — courses and their participants.
 *
 * A course's join code is shown once, when it is made (at creation or by
 * rotating it); only its SHA-256 is stored, so a leaked database does not
 * leak the codes. A participant is one user in one course, with a role
 * (teacher or student) and a nickname unique within the course.
 */
#ifndef COHORT_COURSE_H
#define COHORT_COURSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/principal.h"
#include "core/text.h"

struct db;

#define JOIN_CODE_LEN 14 /* "xxxx-xxxx-xxxx" */
#define NICKNAME_MAX_BYTES 64

enum role { ROLE_NONE = 0, ROLE_STUDENT, ROLE_TEACHER };

struct course {
	int64_t id;
	char name[NAME_MAX_BYTES + 1];
	char description[DESCRIPTION_MAX_BYTES + 1];
	int64_t owner_id;
	int64_t created_at;
};

struct participant {
	int64_t id;
	int64_t course_id;
	int64_t user_id;
	enum role role;
	char nickname[NICKNAME_MAX_BYTES + 1];
	char login[LOGIN_MAX + 1];
	int64_t joined_at;
};

const char *role_name(enum role r);

/* Creates the course and its first teacher (the creator, nicknamed by
 * nickname, or by their display name when nickname is NULL). code receives
 * the join code. */
int course_create(struct db *db, int64_t user_id, const char *name, size_t name_len, const char *desc,
		  size_t desc_len, const char *nickname, size_t nick_len, struct course *out,
		  struct participant *teacher, char code[JOIN_CODE_LEN + 1]);
int course_get(struct db *db, int64_t id, struct course *out);
/* Replaces the join code; the old one stops working. */
int course_rotate_code(struct db *db, int64_t course_id, char code[JOIN_CODE_LEN + 1]);

/* Joins as a student. COHORT_E_BADCODE, COHORT_E_MEMBER, COHORT_E_NICKNAME. */
int course_join(struct db *db, int64_t user_id, const char *code, size_t code_len, const char *nickname,
		size_t nick_len, struct course *course, struct participant *out);

/* The caller's participation (ROLE_NONE and id 0 when not a participant). */
int course_participation(struct db *db, int64_t course_id, int64_t user_id, struct participant *out);
int participant_get(struct db *db, int64_t participant_id, struct participant *out);

/* Iterators: fn returns non-zero to stop (that value is returned). */
int course_list_for_user(struct db *db, int64_t user_id,
			 int (*fn)(const struct course *c, const struct participant *me, void *arg), void *arg);
int course_participants(struct db *db, int64_t course_id,
			int (*fn)(const struct participant *p, void *arg), void *arg);

int participant_set_nickname(struct db *db, int64_t participant_id, const char *nick, size_t len);
/* Removes a participant (and, by cascade, their projects and grants).
 * COHORT_E_CONFLICT when it would leave the course without a teacher. */
int participant_remove(struct db *db, int64_t participant_id);

#endif
