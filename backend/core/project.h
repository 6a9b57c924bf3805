/*
 * project.h — one project per participant per lesson, the grants its owner
 * gives to other participants, and the single function that decides who may
 * read or write a project (access_rules), used by every route and stream.
 *
 * The rules: the owner reads and writes; an admin reads and writes; a grant
 * row, when there is one for the viewer, decides alone (an owner can shut a
 * teacher out with a row whose bits are both off); without a row a teacher
 * of the course reads and writes, a student reads a teacher's project and
 * nothing else. People outside the course get nothing. Write implies read:
 * a row can never have write without read.
 */
#ifndef COHORT_PROJECT_H
#define COHORT_PROJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/course.h"
#include "core/principal.h"

struct db;

struct project {
	int64_t id;
	int64_t lesson_id;
	int64_t course_id;
	int64_t owner_id; /* participant */
	int64_t owner_user_id;
	enum role owner_role;
	char owner_nickname[NICKNAME_MAX_BYTES + 1];
	int64_t created_at;
	int64_t last_activity_at;
};

struct access {
	bool read;
	bool write;
	bool owner;
	enum role viewer_role;      /* ROLE_NONE outside the course */
	int64_t viewer_participant; /* 0 outside the course */
};

struct grant_bits {
	bool read;
	bool write;
};

struct grant_change {
	bool existed;
	struct grant_bits before; /* of the row; {false,false} when none existed */
	struct grant_bits after;  /* of the row; {false,false} when deleted */
};

/* The rules above for a viewer who is neither owner nor admin. */
void access_rules(enum role viewer, enum role owner, bool has_row, struct grant_bits row, struct access *out);

/* Returns the participant's project for the lesson, creating it on first
 * access; concurrent first calls create exactly one. */
int project_ensure(struct db *db, int64_t lesson_id, int64_t participant_id, struct project *out);
int project_get(struct db *db, int64_t id, struct project *out);
/* Computes the principal's access to the project. */
int project_access(struct db *db, const struct principal *who, const struct project *p, struct access *out);
/* The decision of the REST permissions project_read and project_write
 * (api/permission.c), for callers without a route table such as the
 * streamer's editing jobs: loads the project into *p and the principal's
 * access into *acc. COHORT_E_NOTFOUND when there is no such project or the
 * principal is neither an admin nor in its course; COHORT_E_FORBIDDEN
 * without read access, or without write access when write is asked for. */
int project_check(struct db *db, const struct principal *who, int64_t id, bool write, struct project *p,
		  struct access *acc);
/* Records activity (opening, editing) at Unix time now. */
int project_touch(struct db *db, int64_t id, int64_t now);

/* Sets the grantee's row. COHORT_E_NOTMEMBER when the grantee is not in the
 * project's course, COHORT_E_BADBITS for write without read or a grant to
 * the owner. */
int grant_set(struct db *db, const struct project *p, int64_t grantee, struct grant_bits bits, int64_t by,
	      struct grant_change *chg);
/* Removes the row (COHORT_E_NOTFOUND when there is none). */
int grant_delete(struct db *db, const struct project *p, int64_t grantee, struct grant_change *chg);

/* One grant row of a project: who, the bits, by whom and when. */
struct grant_row {
	struct participant grantee;
	struct grant_bits bits;
	int64_t granted_by; /* participant */
	int64_t granted_at;
};

/* The project's grant rows (both bits off included: that is an owner
 * shutting a teacher out), teachers first, then by nickname. fn returns
 * non-zero to stop (that value is returned). */
int grant_list(struct db *db, int64_t project_id, int (*fn)(const struct grant_row *g, void *arg), void *arg);

/* One row of an access listing: a participant, their project in the lesson
 * (0 when not created yet) and the access bits. */
struct access_entry {
	int64_t participant_id;
	int64_t user_id;
	enum role role;
	char nickname[NICKNAME_MAX_BYTES + 1];
	int64_t project_id;
	struct access bits;
	bool explicit_grant;
};

/* Both questions for one lesson: whose projects `me` can open (fn_mine
 * gets other participants whose projects me can read), and who can open
 * mine (fn_theirs gets participants who can read me's project). */
int lesson_access(struct db *db, int64_t lesson_id, const struct participant *me,
		  int (*fn_can_open)(const struct access_entry *e, void *arg),
		  int (*fn_can_open_mine)(const struct access_entry *e, void *arg), void *arg);

/* Both listings of lesson_access collected into arrays (freed by
 * access_listing_release), for callers that render them whole. */
struct access_listing {
	struct access_entry *v[2]; /* [0] can open, [1] can open mine */
	size_t n[2];
	size_t alloc[2];
};

int lesson_access_collect(struct db *db, int64_t lesson_id, const struct participant *me,
			  struct access_listing *out);
void access_listing_release(struct access_listing *l);

#endif
