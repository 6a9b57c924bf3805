/*
 * Unit tests for core/course against a real SQLite database with the real
 * migrations: creating a course makes its creator the teacher; join codes
 * are accepted in any case and with or without dashes, refused when wrong
 * or rotated away, and stored only hashed; joining twice, nickname clashes,
 * listings, nicknames, and removal (never of the last teacher).
 */
#include "core/course.h"
#include "core/db.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/user.h"
#include "core/utf8.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testdb.h"

#define CODE_ALPHABET "abcdefghjkmnpqrstuvwxyz23456789"

static int64_t count(struct db *db, const char *sql)
{
	return testdb_int(db, sql);
}

static void assert_code_shape(const char *code)
{
	assert_int_equal(strlen(code), JOIN_CODE_LEN);
	for (size_t i = 0; i < JOIN_CODE_LEN; i++) {
		if (i == 4 || i == 9)
			assert_int_equal(code[i], '-');
		else if (!strchr(CODE_ALPHABET, code[i]) || !code[i])
			fail_msg("code %s: '%c' is not in the code alphabet", code, code[i]);
	}
}

static void test_create(void **state)
{
	struct db *db = testdb_of(state);
	int64_t uid = testdb_user(db, "teacher", false);
	struct participant teacher, me;
	struct course c, got;
	char code[JOIN_CODE_LEN + 1], hash[80];
	const char desc[] = "Week 1: types.\nWeek 2: pointers.";

	assert_int_equal(course_create(db, uid, "Intro to C", 10, desc, sizeof(desc) - 1, "Prof", 4, &c, &teacher, code),
			 0);
	assert_true(c.id > 0);
	assert_string_equal(c.name, "Intro to C");
	assert_string_equal(c.description, desc);
	assert_int_equal(c.owner_id, uid);
	assert_true(c.created_at > 0);
	assert_code_shape(code);

	assert_true(teacher.id > 0);
	assert_int_equal(teacher.course_id, c.id);
	assert_int_equal(teacher.user_id, uid);
	assert_int_equal(teacher.role, ROLE_TEACHER);
	assert_string_equal(teacher.nickname, "Prof");
	assert_string_equal(teacher.login, "teacher");

	assert_int_equal(course_get(db, c.id, &got), 0);
	assert_string_equal(got.name, "Intro to C");
	assert_int_equal(course_participation(db, c.id, uid, &me), 0);
	assert_int_equal(me.id, teacher.id);
	assert_int_equal(me.role, ROLE_TEACHER);

	/* Only the SHA-256 of the canonical code is kept. */
	{
		struct db_stmt *st = NULL;

		assert_int_equal(db_prepare(db, "SELECT join_code_hash FROM courses WHERE id = ?1", &st), 0);
		db_bind_int(st, 1, c.id);
		assert_int_equal(db_step(st), DB_ROW);
		db_col_copy(st, 0, hash, sizeof(hash));
		db_finalize(st);
	}
	assert_int_equal(strlen(hash), 64);
	assert_null(strstr(hash, code));
	assert_int_equal(count(db, "SELECT COUNT(*) FROM courses WHERE name LIKE '%-%' OR description LIKE '%-%-%'"), 0);
}

static void test_create_nickname_defaults_to_display_name(void **state)
{
	struct db *db = testdb_of(state);
	struct user_new in = { .login = "t", .login_len = 1, .display_name = "Dr. Ada Lovelace", .display_name_len = 16 };
	struct participant teacher;
	struct course c;
	struct user u;
	char code[JOIN_CODE_LEN + 1];

	assert_int_equal(user_create(db, &in, &u), 0);
	assert_int_equal(course_create(db, u.id, "C", 1, NULL, 0, NULL, 0, &c, &teacher, code), 0);
	assert_string_equal(teacher.nickname, "Dr. Ada Lovelace");
	assert_string_equal(c.description, "");
}

/* A display name longer than a nickname may be is cut to fit; the cut must
 * leave valid UTF-8 without trailing spaces, or creating the course would
 * fail for a reason the creator cannot see. */
static const struct {
	const char *what;
	const char *display; /* built by repeating unit n times after prefix */
	const char *unit;
	size_t n;
} long_names[] = {
	{ "ascii", "", "a", 120 },
	{ "two-byte characters cut in the middle", "x", "\xc3\xa9", 60 },  /* é */
	{ "three-byte characters cut in the middle", "", "\xe6\x97\xa5", 40 }, /* 日 */
	{ "four-byte characters cut in the middle", "ab", "\xf0\x9f\x8e\x89", 30 }, /* 🎉 */
	{ "space at the cut", "", "abcdefg ", 20 },
};

static void test_create_long_display_name(void **state)
{
	struct db *db = testdb_of(state);

	for (size_t i = 0; i < sizeof(long_names) / sizeof(long_names[0]); i++) {
		char display[NAME_MAX_BYTES + 1], login[16];
		size_t len = 0, n;
		struct user_new in;
		struct participant teacher;
		struct course c;
		struct user u;
		char code[JOIN_CODE_LEN + 1];
		int err;

		len = strlen(long_names[i].display);
		memcpy(display, long_names[i].display, len);
		for (size_t k = 0; k < long_names[i].n && len + strlen(long_names[i].unit) <= NAME_MAX_BYTES; k++) {
			memcpy(display + len, long_names[i].unit, strlen(long_names[i].unit));
			len += strlen(long_names[i].unit);
		}
		while (len && display[len - 1] == ' ')
			len--;
		display[len] = '\0';
		assert_true(len > NICKNAME_MAX_BYTES);
		snprintf(login, sizeof(login), "long%zu", i);
		memset(&in, 0, sizeof(in));
		in.login = login;
		in.login_len = strlen(login);
		in.display_name = display;
		in.display_name_len = len;
		assert_int_equal(user_create(db, &in, &u), 0);
		err = course_create(db, u.id, "Course", 6, NULL, 0, NULL, 0, &c, &teacher, code);
		if (err)
			fail_msg("%s: course_create failed: %s", long_names[i].what, cohort_strerror(err));
		n = strlen(teacher.nickname);
		assert_true(n > 0 && n <= NICKNAME_MAX_BYTES);
		assert_true(utf8_valid(teacher.nickname, n));
		assert_memory_equal(teacher.nickname, display, n); /* a prefix of the display name */
		assert_true(text_name_ok(teacher.nickname, n, NICKNAME_MAX_BYTES));
	}
}

static const struct {
	const char *what;
	const char *name;
	const char *desc;
	const char *nick;
} bad_course_rows[] = {
	{ "empty name", "", NULL, NULL },
	{ "name with newline", "a\nb", NULL, NULL },
	{ "name padded", "Intro ", NULL, NULL },
	{ "description with NUL-free control", "Intro", "bell\a", NULL },
	{ "description bad UTF-8", "Intro", "\xc3", NULL },
	{ "empty nickname", "Intro", NULL, "" },
	{ "nickname with tab", "Intro", NULL, "a\tb" },
};

static void test_create_bad_fields(void **state)
{
	struct db *db = testdb_of(state);
	int64_t uid = testdb_user(db, "t", false);
	char name[NAME_MAX_BYTES + 2], nick[NICKNAME_MAX_BYTES + 2], desc[DESCRIPTION_MAX_BYTES + 2];
	struct participant teacher;
	struct course c;
	char code[JOIN_CODE_LEN + 1];

	for (size_t i = 0; i < sizeof(bad_course_rows) / sizeof(bad_course_rows[0]); i++) {
		const char *d = bad_course_rows[i].desc, *n = bad_course_rows[i].nick;
		int err = course_create(db, uid, bad_course_rows[i].name, strlen(bad_course_rows[i].name), d,
					d ? strlen(d) : 0, n, n ? strlen(n) : 0, &c, &teacher, code);

		if (err != COHORT_E_FIELD)
			fail_msg("%s: err %d, want invalid_field", bad_course_rows[i].what, err);
	}
	memset(name, 'n', sizeof(name));
	memset(nick, 'k', sizeof(nick));
	memset(desc, 'd', sizeof(desc));
	assert_int_equal(course_create(db, uid, name, NAME_MAX_BYTES + 1, NULL, 0, NULL, 0, &c, &teacher, code),
			 COHORT_E_FIELD);
	assert_int_equal(course_create(db, uid, "C", 1, desc, DESCRIPTION_MAX_BYTES + 1, NULL, 0, &c, &teacher, code),
			 COHORT_E_FIELD);
	assert_int_equal(course_create(db, uid, "C", 1, NULL, 0, nick, NICKNAME_MAX_BYTES + 1, &c, &teacher, code),
			 COHORT_E_FIELD);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM courses"), 0);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM participants"), 0);

	/* At the limits everything fits. */
	assert_int_equal(course_create(db, uid, name, NAME_MAX_BYTES, desc, DESCRIPTION_MAX_BYTES, nick,
				       NICKNAME_MAX_BYTES, &c, &teacher, code), 0);
	assert_int_equal(strlen(c.name), NAME_MAX_BYTES);
	assert_int_equal(strlen(c.description), DESCRIPTION_MAX_BYTES);
	assert_int_equal(strlen(teacher.nickname), NICKNAME_MAX_BYTES);
}

static void test_create_unknown_user(void **state)
{
	struct db *db = testdb_of(state);
	struct participant teacher;
	struct course c;
	char code[JOIN_CODE_LEN + 1];

	assert_int_equal(course_create(db, 999, "C", 1, NULL, 0, NULL, 0, &c, &teacher, code), COHORT_E_NOTFOUND);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM courses"), 0);
}

/* Turns the canonical code "abcd-efgh-jkmn" into one of the accepted forms. */
enum form { AS_GIVEN, UPPER, NO_DASHES, UPPER_NO_DASHES, MIXED_CASE, SPACES };

static void code_form(const char *code, enum form f, char *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; code[i] && k + 2 < cap; i++) {
		char ch = code[i];

		if (ch == '-' && (f == NO_DASHES || f == UPPER_NO_DASHES))
			continue;
		if (ch == '-' && f == SPACES)
			ch = ' ';
		if (f == UPPER || f == UPPER_NO_DASHES || (f == MIXED_CASE && i % 2))
			ch = (char)toupper((unsigned char)ch);
		out[k++] = ch;
	}
	out[k] = '\0';
}

static void test_join_code_forms(void **state)
{
	static const enum form forms[] = { AS_GIVEN, UPPER, NO_DASHES, UPPER_NO_DASHES, MIXED_CASE, SPACES };
	struct db *db = testdb_of(state);
	int64_t owner = testdb_user(db, "owner", false);
	char code[JOIN_CODE_LEN + 1];
	int64_t cid = testdb_course(db, owner, "Course", NULL, code);

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char login[16], nick[16], given[32];
		struct participant p;
		struct course c;
		int64_t uid;

		snprintf(login, sizeof(login), "s%zu", i);
		snprintf(nick, sizeof(nick), "Student %zu", i);
		uid = testdb_user(db, login, false);
		code_form(code, forms[i], given, sizeof(given));
		if (course_join(db, uid, given, strlen(given), nick, strlen(nick), &c, &p))
			fail_msg("form %zu ('%s' for '%s') refused", i, given, code);
		assert_int_equal(c.id, cid);
		assert_int_equal(p.role, ROLE_STUDENT);
		assert_int_equal(p.user_id, uid);
		assert_int_equal(p.course_id, cid);
		assert_string_equal(p.nickname, nick);
		assert_string_equal(p.login, login);
	}
}

static void test_join_wrong_codes(void **state)
{
	struct db *db = testdb_of(state);
	int64_t owner = testdb_user(db, "owner", false), uid = testdb_user(db, "student", false);
	char code[JOIN_CODE_LEN + 1], wrong[JOIN_CODE_LEN + 1], longer[80];
	const char *rows[] = {
		"", "-", "abcd", "abcd-efgh-jkm", "abcd-efgh-jkmnp", "abcd-efgh-jkm0", /* 0 is not in the alphabet */
		"abcd-efgh-jkm1", "abcd-efgh-jkml", "abcd_efgh_jkmn", "abcd-efgh-jkm\xc3\xa9",
		wrong, longer,
	};
	struct participant p;
	struct course c;

	testdb_course(db, owner, "Course", NULL, code);
	/* Same shape, one character different. */
	memcpy(wrong, code, sizeof(wrong));
	wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
	/* The right code buried in a long string of dashes. */
	memset(longer, '-', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memcpy(longer + 40, code, JOIN_CODE_LEN);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int err = course_join(db, uid, rows[i], strlen(rows[i]), "Nick", 4, &c, &p);

		if (err != COHORT_E_BADCODE)
			fail_msg("row %zu '%s': err %d, want invalid_join_code", i, rows[i], err);
	}
	assert_int_equal(course_join(db, uid, NULL, 0, "Nick", 4, &c, &p), COHORT_E_BADCODE);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM participants WHERE role = 'student'"), 0);
}

static void test_join_twice_and_nicknames(void **state)
{
	struct db *db = testdb_of(state);
	int64_t owner = testdb_user(db, "owner", false);
	int64_t a = testdb_user(db, "a", false), b = testdb_user(db, "b", false);
	struct participant teacher, p;
	char code[JOIN_CODE_LEN + 1];
	struct course c;

	testdb_course(db, owner, "Course", &teacher, code);
	testdb_join(db, a, code, "Alice");
	/* Again, with the same or another nickname: already a member. */
	assert_int_equal(course_join(db, a, code, strlen(code), "Alice", 5, &c, &p), COHORT_E_MEMBER);
	assert_int_equal(course_join(db, a, code, strlen(code), "Alicia", 6, &c, &p), COHORT_E_MEMBER);
	/* The teacher cannot join their own course as a student. */
	assert_int_equal(course_join(db, owner, code, strlen(code), "Sneaky", 6, &c, &p), COHORT_E_MEMBER);
	/* Someone else with a taken nickname (a student's or the teacher's). */
	assert_int_equal(course_join(db, b, code, strlen(code), "Alice", 5, &c, &p), COHORT_E_NICKNAME);
	assert_int_equal(course_join(db, b, code, strlen(code), teacher.nickname, strlen(teacher.nickname), &c, &p),
			 COHORT_E_NICKNAME);
	/* Nicknames are compared exactly: a different case is another nickname. */
	assert_int_equal(course_join(db, b, code, strlen(code), "alice", 5, &c, &p), 0);
	/* Bad nicknames. */
	assert_int_equal(count(db, "SELECT COUNT(*) FROM participants"), 3);
	{
		int64_t d = testdb_user(db, "d", false);
		char big[NICKNAME_MAX_BYTES + 1];

		memset(big, 'z', sizeof(big));
		assert_int_equal(course_join(db, d, code, strlen(code), "", 0, &c, &p), COHORT_E_FIELD);
		assert_int_equal(course_join(db, d, code, strlen(code), " pad", 4, &c, &p), COHORT_E_FIELD);
		assert_int_equal(course_join(db, d, code, strlen(code), big, sizeof(big), &c, &p), COHORT_E_FIELD);
	}
	assert_int_equal(count(db, "SELECT COUNT(*) FROM participants"), 3);
}

static void test_rotate_code(void **state)
{
	struct db *db = testdb_of(state);
	int64_t owner = testdb_user(db, "owner", false);
	int64_t a = testdb_user(db, "a", false), b = testdb_user(db, "b", false);
	char old[JOIN_CODE_LEN + 1], fresh[JOIN_CODE_LEN + 1];
	int64_t cid = testdb_course(db, owner, "Course", NULL, old);
	struct participant p;
	struct course c;

	testdb_join(db, a, old, "A");
	assert_int_equal(course_rotate_code(db, cid, fresh), 0);
	assert_code_shape(fresh);
	assert_string_not_equal(fresh, old);
	assert_int_equal(course_join(db, b, old, strlen(old), "B", 1, &c, &p), COHORT_E_BADCODE);
	assert_int_equal(course_join(db, b, fresh, strlen(fresh), "B", 1, &c, &p), 0);
	assert_int_equal(c.id, cid);
	/* Members who joined with the old code stay. */
	assert_int_equal(course_participation(db, cid, a, &p), 0);
	assert_int_equal(p.role, ROLE_STUDENT);
	assert_int_equal(course_rotate_code(db, cid + 100, fresh), COHORT_E_NOTFOUND);
}

/* Two courses never share a code, and a code joins only its own course. */
static void test_codes_are_per_course(void **state)
{
	struct db *db = testdb_of(state);
	int64_t owner = testdb_user(db, "owner", false), s = testdb_user(db, "s", false);
	char c1[JOIN_CODE_LEN + 1], c2[JOIN_CODE_LEN + 1];
	int64_t id1 = testdb_course(db, owner, "One", NULL, c1);
	int64_t id2 = testdb_course(db, owner, "Two", NULL, c2);
	struct participant p;
	struct course c;

	assert_string_not_equal(c1, c2);
	assert_int_equal(course_join(db, s, c2, strlen(c2), "S", 1, &c, &p), 0);
	assert_int_equal(c.id, id2);
	assert_int_equal(course_participation(db, id1, s, &p), 0);
	assert_int_equal(p.id, 0);
	assert_int_equal(p.role, ROLE_NONE);
}

struct seen {
	int n;
	int64_t ids[8];
	enum role roles[8];
	char nicks[8][NICKNAME_MAX_BYTES + 1];
	int stop_after; /* 0: never */
};

static int collect_course(const struct course *c, const struct participant *me, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 8);
	assert_int_equal(c->id, me->course_id);
	s->ids[s->n] = c->id;
	s->roles[s->n] = me->role;
	memcpy(s->nicks[s->n], me->nickname, sizeof(s->nicks[0]));
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? 42 : 0;
}

static void test_list_for_user(void **state)
{
	struct db *db = testdb_of(state);
	int64_t t = testdb_user(db, "t", false), u = testdb_user(db, "u", false), lonely = testdb_user(db, "x", false);
	char code2[JOIN_CODE_LEN + 1];
	int64_t id1 = testdb_course(db, u, "Mine", NULL, NULL);
	int64_t id2 = testdb_course(db, t, "Theirs", NULL, code2);
	struct seen s;

	testdb_join(db, u, code2, "U in Theirs");
	memset(&s, 0, sizeof(s));
	assert_int_equal(course_list_for_user(db, u, collect_course, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ids[0], id1);
	assert_int_equal(s.roles[0], ROLE_TEACHER);
	assert_int_equal(s.ids[1], id2);
	assert_int_equal(s.roles[1], ROLE_STUDENT);
	assert_string_equal(s.nicks[1], "U in Theirs");

	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(course_list_for_user(db, u, collect_course, &s), 42);
	assert_int_equal(s.n, 1);

	memset(&s, 0, sizeof(s));
	assert_int_equal(course_list_for_user(db, lonely, collect_course, &s), 0);
	assert_int_equal(s.n, 0);
}

static int collect_part(const struct participant *p, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 8);
	s->ids[s->n] = p->id;
	s->roles[s->n] = p->role;
	memcpy(s->nicks[s->n], p->nickname, sizeof(s->nicks[0]));
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? 7 : 0;
}

static void test_participants(void **state)
{
	struct db *db = testdb_of(state);
	int64_t t = testdb_user(db, "t", false);
	struct participant teacher;
	char code[JOIN_CODE_LEN + 1];
	int64_t cid = testdb_course(db, t, "Course", &teacher, code);
	struct seen s;

	testdb_join(db, testdb_user(db, "z", false), code, "Zed");
	testdb_join(db, testdb_user(db, "b", false), code, "Bea");
	testdb_join(db, testdb_user(db, "m", false), code, "Mo");
	memset(&s, 0, sizeof(s));
	assert_int_equal(course_participants(db, cid, collect_part, &s), 0);
	assert_int_equal(s.n, 4);
	/* Teachers first, then students by nickname. */
	assert_int_equal(s.ids[0], teacher.id);
	assert_int_equal(s.roles[0], ROLE_TEACHER);
	assert_string_equal(s.nicks[1], "Bea");
	assert_string_equal(s.nicks[2], "Mo");
	assert_string_equal(s.nicks[3], "Zed");
	assert_int_equal(s.roles[3], ROLE_STUDENT);

	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(course_participants(db, cid, collect_part, &s), 7);
	assert_int_equal(s.n, 2);

	memset(&s, 0, sizeof(s));
	assert_int_equal(course_participants(db, cid + 50, collect_part, &s), 0);
	assert_int_equal(s.n, 0);
}

static void test_set_nickname(void **state)
{
	struct db *db = testdb_of(state);
	int64_t t = testdb_user(db, "t", false);
	char code[JOIN_CODE_LEN + 1];
	struct participant p;
	int64_t a, b;

	testdb_course(db, t, "Course", NULL, code);
	a = testdb_join(db, testdb_user(db, "a", false), code, "Alice");
	b = testdb_join(db, testdb_user(db, "b", false), code, "Bob");
	assert_int_equal(participant_set_nickname(db, a, "Ally", 4), 0);
	assert_int_equal(participant_get(db, a, &p), 0);
	assert_string_equal(p.nickname, "Ally");
	assert_int_equal(participant_set_nickname(db, a, "Ally", 4), 0); /* unchanged is fine */
	assert_int_equal(participant_set_nickname(db, b, "Ally", 4), COHORT_E_NICKNAME);
	assert_int_equal(participant_set_nickname(db, b, "", 0), COHORT_E_FIELD);
	assert_int_equal(participant_set_nickname(db, b, "x\n", 2), COHORT_E_FIELD);
	assert_int_equal(participant_set_nickname(db, b + 100, "Free", 4), COHORT_E_NOTFOUND);
	assert_int_equal(participant_get(db, b, &p), 0);
	assert_string_equal(p.nickname, "Bob");
	/* The old nickname is free again. */
	assert_int_equal(participant_set_nickname(db, b, "Alice", 5), 0);
}

static void test_remove(void **state)
{
	struct db *db = testdb_of(state);
	int64_t t = testdb_user(db, "t", false), t2 = testdb_user(db, "t2", false);
	struct participant teacher, p;
	char code[JOIN_CODE_LEN + 1];
	int64_t cid = testdb_course(db, t, "Course", &teacher, code);
	int64_t s = testdb_join(db, testdb_user(db, "s", false), code, "S");
	int64_t second;

	assert_int_equal(participant_remove(db, s), 0);
	assert_int_equal(participant_get(db, s, &p), COHORT_E_NOTFOUND);
	assert_int_equal(participant_remove(db, s), COHORT_E_NOTFOUND);

	/* The only teacher stays. */
	assert_int_equal(participant_remove(db, teacher.id), COHORT_E_CONFLICT);
	assert_int_equal(participant_get(db, teacher.id, &p), 0);

	/* With a second teacher (there is no API to promote yet), one may go. */
	{
		struct db_stmt *st = NULL;

		assert_int_equal(db_prepare(db, "INSERT INTO participants (course_id, user_id, role, nickname, joined_at)"
						" VALUES (?1, ?2, 'teacher', 'T2', 0) RETURNING id", &st), 0);
		db_bind_int(st, 1, cid);
		db_bind_int(st, 2, t2);
		assert_int_equal(db_step(st), DB_ROW);
		second = db_col_int(st, 0);
		db_finalize(st);
	}
	assert_int_equal(participant_remove(db, teacher.id), 0);
	assert_int_equal(participant_remove(db, second), COHORT_E_CONFLICT);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM participants"), 1);
	/* The database is not left inside a transaction by the refusals. */
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_rollback(db), 0);
}

static void test_lookups(void **state)
{
	struct db *db = testdb_of(state);
	struct participant p;
	struct course c;

	assert_int_equal(course_get(db, 1, &c), COHORT_E_NOTFOUND);
	assert_int_equal(participant_get(db, 1, &p), COHORT_E_NOTFOUND);
	assert_int_equal(course_participation(db, 1, 1, &p), 0);
	assert_int_equal(p.id, 0);
	assert_string_equal(role_name(ROLE_TEACHER), "teacher");
	assert_string_equal(role_name(ROLE_STUDENT), "student");
	assert_string_equal(role_name(ROLE_NONE), "none");
	assert_string_equal(role_name((enum role)77), "none");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, testdb_setup, testdb_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create),
		T(test_create_nickname_defaults_to_display_name),
		T(test_create_long_display_name),
		T(test_create_bad_fields),
		T(test_create_unknown_user),
		T(test_join_code_forms),
		T(test_join_wrong_codes),
		T(test_join_twice_and_nicknames),
		T(test_rotate_code),
		T(test_codes_are_per_course),
		T(test_list_for_user),
		T(test_participants),
		T(test_set_nickname),
		T(test_remove),
		T(test_lookups),
	};

	log_init("test", "error");
	if (ids_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
