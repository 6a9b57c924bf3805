#include "core/project.h"
#include "core/db.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROJECT_SELECT \
	"SELECT pr.id, pr.lesson_id, l.course_id, pr.owner_id, pa.user_id, pa.role, pa.nickname," \
	" pr.created_at, pr.last_activity_at FROM projects pr" \
	" JOIN lessons l ON l.id = pr.lesson_id JOIN participants pa ON pa.id = pr.owner_id "

static enum role role_of(struct db_stmt *st, int col)
{
	const char *s = db_col_text(st, col, NULL);

	if (s && !strcmp(s, "teacher"))
		return ROLE_TEACHER;
	if (s && !strcmp(s, "student"))
		return ROLE_STUDENT;
	return ROLE_NONE;
}

void access_rules(enum role viewer, enum role owner, bool has_row, struct grant_bits row, struct access *out)
{
	out->owner = false;
	if (viewer == ROLE_NONE) {
		out->read = out->write = false;
	} else if (has_row) {
		out->read = row.read;
		out->write = row.read && row.write;
	} else if (viewer == ROLE_TEACHER) {
		out->read = out->write = true;
	} else {
		out->read = owner == ROLE_TEACHER;
		out->write = false;
	}
}

static int read_project(struct db_stmt *st, struct project *p)
{
	p->id = db_col_int(st, 0);
	p->lesson_id = db_col_int(st, 1);
	p->course_id = db_col_int(st, 2);
	p->owner_id = db_col_int(st, 3);
	p->owner_user_id = db_col_int(st, 4);
	p->owner_role = role_of(st, 5);
	db_col_copy(st, 6, p->owner_nickname, sizeof(p->owner_nickname));
	p->created_at = db_col_int(st, 7);
	p->last_activity_at = db_col_int(st, 8);
	return 0;
}

static int get_where(struct db *db, const char *where, int64_t a, int64_t b, struct project *out)
{
	char sql[512];
	struct db_stmt *st = NULL;
	int err, rc;

	snprintf(sql, sizeof(sql), PROJECT_SELECT "WHERE %s", where);
	err = db_prepare(db, sql, &st);
	if (err)
		return err;
	db_bind_int(st, 1, a);
	if (b)
		db_bind_int(st, 2, b);
	rc = db_step(st);
	if (rc == DB_ROW)
		read_project(st, out);
	db_finalize(st);
	return rc == DB_ROW ? 0 : rc < 0 ? rc : COHORT_E_NOTFOUND;
}

int project_get(struct db *db, int64_t id, struct project *out)
{
	return get_where(db, "pr.id = ?1", id, 0, out);
}

int project_ensure(struct db *db, int64_t lesson_id, int64_t participant_id, struct project *out)
{
	struct db_stmt *st = NULL;
	int64_t now = (int64_t)time(NULL);
	int err, rc;

	err = get_where(db, "pr.lesson_id = ?1 AND pr.owner_id = ?2", lesson_id, participant_id, out);
	if (err != COHORT_E_NOTFOUND)
		return err;
	/* The UNIQUE (lesson_id, owner_id) constraint makes concurrent first
	 * requests, from any process, agree on one row. */
	err = db_prepare(db, "INSERT INTO projects (lesson_id, owner_id, created_at, last_activity_at)"
			     " SELECT ?1, ?2, ?3, ?3 WHERE EXISTS (SELECT 1 FROM lessons l JOIN participants p"
			     " ON p.course_id = l.course_id WHERE l.id = ?1 AND p.id = ?2)"
			     " ON CONFLICT (lesson_id, owner_id) DO NOTHING", &st);
	if (err)
		return err;
	db_bind_int(st, 1, lesson_id);
	db_bind_int(st, 2, participant_id);
	db_bind_int(st, 3, now);
	rc = db_step(st);
	db_finalize(st);
	if (rc < 0)
		return rc;
	return get_where(db, "pr.lesson_id = ?1 AND pr.owner_id = ?2", lesson_id, participant_id, out);
}

static int grant_row(struct db *db, int64_t project_id, int64_t grantee, bool *has, struct grant_bits *bits)
{
	struct db_stmt *st = NULL;
	int err = db_prepare(db, "SELECT can_read, can_write FROM project_grants WHERE project_id = ?1 AND grantee_id = ?2",
			     &st);
	int rc;

	if (err)
		return err;
	db_bind_int(st, 1, project_id);
	db_bind_int(st, 2, grantee);
	rc = db_step(st);
	*has = rc == DB_ROW;
	bits->read = *has && db_col_int(st, 0);
	bits->write = *has && db_col_int(st, 1);
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

int project_access(struct db *db, const struct principal *who, const struct project *p, struct access *out)
{
	struct participant me;
	struct grant_bits row = { false, false };
	bool has = false;
	int err;

	memset(out, 0, sizeof(*out));
	err = course_participation(db, p->course_id, who->user_id, &me);
	if (err)
		return err;
	out->viewer_role = me.role;
	out->viewer_participant = me.id;
	if (me.id && me.id == p->owner_id) {
		out->read = out->write = out->owner = true;
		return 0;
	}
	if (who->is_admin) {
		out->read = out->write = true;
		return 0;
	}
	if (me.id) {
		err = grant_row(db, p->id, me.id, &has, &row);
		if (err)
			return err;
	}
	access_rules(me.role, p->owner_role, has, row, out);
	out->viewer_role = me.role;
	out->viewer_participant = me.id;
	return 0;
}

int project_check(struct db *db, const struct principal *who, int64_t id, bool write, struct project *p,
		  struct access *acc)
{
	int err = project_get(db, id, p);

	if (!err)
		err = project_access(db, who, p, acc);
	if (err)
		return err;
	if (who->is_admin)
		return 0;
	/* Outsiders are not told that the project exists (api/permission.c). */
	if (!acc->viewer_participant)
		return COHORT_E_NOTFOUND;
	if (!acc->read || (write && !acc->write))
		return COHORT_E_FORBIDDEN;
	return 0;
}

int project_touch(struct db *db, int64_t id, int64_t now)
{
	struct db_stmt *st = NULL;
	int err = db_prepare(db, "UPDATE projects SET last_activity_at = MAX(last_activity_at, ?2) WHERE id = ?1", &st);
	int rc;

	if (err)
		return err;
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, now);
	rc = db_step(st);
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

static int check_grantee(struct db *db, const struct project *p, int64_t grantee)
{
	struct participant g;
	int err = participant_get(db, grantee, &g);

	if (err == COHORT_E_NOTFOUND || (!err && g.course_id != p->course_id))
		return COHORT_E_NOTMEMBER;
	if (!err && grantee == p->owner_id)
		return COHORT_E_BADBITS;
	return err;
}

int grant_set(struct db *db, const struct project *p, int64_t grantee, struct grant_bits bits, int64_t by,
	      struct grant_change *chg)
{
	struct db_stmt *st = NULL;
	int err, rc;

	memset(chg, 0, sizeof(*chg));
	if (bits.write && !bits.read)
		return COHORT_E_BADBITS;
	err = db_begin_immediate(db);
	if (err)
		return err;
	err = check_grantee(db, p, grantee);
	if (!err)
		err = grant_row(db, p->id, grantee, &chg->existed, &chg->before);
	if (!err)
		err = db_prepare(db, "INSERT INTO project_grants (project_id, grantee_id, can_read, can_write, granted_by,"
				     " granted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (project_id, grantee_id)"
				     " DO UPDATE SET can_read = excluded.can_read, can_write = excluded.can_write,"
				     " granted_by = excluded.granted_by, granted_at = excluded.granted_at", &st);
	if (!err) {
		db_bind_int(st, 1, p->id);
		db_bind_int(st, 2, grantee);
		db_bind_int(st, 3, bits.read);
		db_bind_int(st, 4, bits.write);
		db_bind_int(st, 5, by);
		db_bind_int(st, 6, (int64_t)time(NULL));
		rc = db_step(st);
		if (rc < 0)
			err = rc;
	}
	db_finalize(st);
	if (!err)
		err = db_commit(db);
	if (err) {
		db_rollback(db);
		return err;
	}
	chg->after = bits;
	return 0;
}

int grant_delete(struct db *db, const struct project *p, int64_t grantee, struct grant_change *chg)
{
	struct db_stmt *st = NULL;
	int err, rc;

	memset(chg, 0, sizeof(*chg));
	err = db_begin_immediate(db);
	if (err)
		return err;
	err = check_grantee(db, p, grantee);
	if (!err)
		err = grant_row(db, p->id, grantee, &chg->existed, &chg->before);
	if (!err && !chg->existed)
		err = COHORT_E_NOTFOUND;
	if (!err)
		err = db_prepare(db, "DELETE FROM project_grants WHERE project_id = ?1 AND grantee_id = ?2", &st);
	if (!err) {
		db_bind_int(st, 1, p->id);
		db_bind_int(st, 2, grantee);
		rc = db_step(st);
		if (rc < 0)
			err = rc;
	}
	db_finalize(st);
	if (!err)
		err = db_commit(db);
	if (err)
		db_rollback(db);
	return err;
}

/*
 * One query per direction: every other participant of the course, their
 * project in the lesson (if created) and the grant row that applies; the
 * bits then come from access_rules, the same function project_access uses.
 */
int lesson_access(struct db *db, int64_t lesson_id, const struct participant *me,
		  int (*fn_can_open)(const struct access_entry *e, void *arg),
		  int (*fn_can_open_mine)(const struct access_entry *e, void *arg), void *arg)
{
	static const char *const sql[2] = {
		/* whose projects can I open: grant rows on their project for me */
		"SELECT p.id, p.user_id, p.role, p.nickname, COALESCE(pr.id, 0), g.can_read, g.can_write"
		" FROM participants p LEFT JOIN projects pr ON pr.owner_id = p.id AND pr.lesson_id = ?1"
		" LEFT JOIN project_grants g ON g.project_id = pr.id AND g.grantee_id = ?2"
		" WHERE p.course_id = ?3 AND p.id != ?2 ORDER BY p.role DESC, p.nickname",
		/* who can open mine: grant rows on my project for them */
		"SELECT p.id, p.user_id, p.role, p.nickname,"
		" COALESCE((SELECT id FROM projects WHERE lesson_id = ?1 AND owner_id = ?2), 0), g.can_read, g.can_write"
		" FROM participants p LEFT JOIN project_grants g ON g.grantee_id = p.id AND g.project_id ="
		" (SELECT id FROM projects WHERE lesson_id = ?1 AND owner_id = ?2)"
		" WHERE p.course_id = ?3 AND p.id != ?2 ORDER BY p.role DESC, p.nickname",
	};
	int (*const fns[2])(const struct access_entry *, void *) = { fn_can_open, fn_can_open_mine };
	int err = 0;

	for (int dir = 0; dir < 2 && !err; dir++) {
		struct db_stmt *st = NULL;
		int rc;

		err = db_prepare(db, sql[dir], &st);
		if (err)
			break;
		db_bind_int(st, 1, lesson_id);
		db_bind_int(st, 2, me->id);
		db_bind_int(st, 3, me->course_id);
		while ((rc = db_step(st)) == DB_ROW) {
			struct access_entry e;
			struct grant_bits row = { db_col_int(st, 5) != 0, db_col_int(st, 6) != 0 };
			enum role other = role_of(st, 2);

			memset(&e, 0, sizeof(e));
			e.participant_id = db_col_int(st, 0);
			e.user_id = db_col_int(st, 1);
			e.role = other;
			db_col_copy(st, 3, e.nickname, sizeof(e.nickname));
			e.project_id = db_col_int(st, 4);
			e.explicit_grant = !db_col_is_null(st, 5);
			if (dir == 0)
				access_rules(me->role, other, e.explicit_grant, row, &e.bits);
			else
				access_rules(other, me->role, e.explicit_grant, row, &e.bits);
			if (!e.bits.read)
				continue;
			err = fns[dir](&e, arg);
			if (err)
				break;
		}
		if (!err && rc < 0)
			err = rc;
		db_finalize(st);
	}
	return err;
}

int grant_list(struct db *db, int64_t project_id, int (*fn)(const struct grant_row *g, void *arg), void *arg)
{
	static const char sql[] = "SELECT g.grantee_id, g.can_read, g.can_write, g.granted_by, g.granted_at"
				  " FROM project_grants g JOIN participants p ON p.id = g.grantee_id"
				  " WHERE g.project_id = ?1 ORDER BY p.role DESC, p.nickname";
	struct db_stmt *st = NULL;
	int rc, err = db_prepare(db, sql, &st);

	if (err)
		return err;
	db_bind_int(st, 1, project_id);
	while ((rc = db_step(st)) == DB_ROW) {
		struct grant_row g;

		memset(&g, 0, sizeof(g));
		g.bits.read = db_col_int(st, 1) != 0;
		g.bits.write = db_col_int(st, 2) != 0;
		g.granted_by = db_col_int(st, 3);
		g.granted_at = db_col_int(st, 4);
		err = participant_get(db, db_col_int(st, 0), &g.grantee);
		if (!err)
			err = fn(&g, arg);
		if (err)
			break;
	}
	if (!err && rc < 0)
		err = rc;
	db_finalize(st);
	return err;
}

static int collect(struct access_listing *l, int k, const struct access_entry *e)
{
	if (l->n[k] == l->alloc[k]) {
		size_t n = l->alloc[k] ? l->alloc[k] * 2 : 16;
		struct access_entry *v = reallocarray(l->v[k], n, sizeof(*v));

		if (!v)
			return COHORT_E_NOMEM;
		l->v[k] = v;
		l->alloc[k] = n;
	}
	l->v[k][l->n[k]++] = *e;
	return 0;
}

static int collect_can_open(const struct access_entry *e, void *arg)
{
	return collect(arg, 0, e);
}

static int collect_can_open_mine(const struct access_entry *e, void *arg)
{
	return collect(arg, 1, e);
}

int lesson_access_collect(struct db *db, int64_t lesson_id, const struct participant *me,
			  struct access_listing *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	err = lesson_access(db, lesson_id, me, collect_can_open, collect_can_open_mine, out);
	if (err)
		access_listing_release(out);
	return err;
}

void access_listing_release(struct access_listing *l)
{
	if (!l)
		return;
	for (int k = 0; k < 2; k++) {
		free(l->v[k]);
		l->v[k] = NULL;
		l->n[k] = l->alloc[k] = 0;
	}
}
