/*
 * DESIGN: the one place a REST request is authorized. The order of the
 * checks is fixed, so every route answers the same way:
 *
 *   1. nobody signed in                          401 unauthenticated
 *   2. an id in the path that does not exist     404 not_found
 *   3. a course/lesson/project of a course the
 *      caller is not in (admins excepted)        404 not_found
 *   4. a participant without the role or bits    403 forbidden / not_project_owner
 *   5. a {participant} outside the course        404 not_found (course routes);
 *                                                422 not_a_participant (grants)
 *
 * Step 3 answers 404 rather than 403 so that outsiders cannot tell a
 * course that exists from one that does not; people inside a course know
 * its lessons and projects exist, so they get an honest 403.
 */
#include "api/permission.h"
#include "api/authcache.h"
#include "api/dispatch.h"
#include "api/request.h"
#include "api/worker.h"
#include "core/config.h"
#include "core/course.h"
#include "core/err.h"
#include "core/lesson.h"
#include "core/project.h"

#include <string.h>

static const char *const names[PERM__COUNT] = {
	[PERM_PUBLIC] = "public",
	[PERM_USER] = "user",
	[PERM_COURSE_MEMBER] = "course_member",
	[PERM_COURSE_TEACHER] = "course_teacher",
	[PERM_PROJECT_READ] = "project_read",
	[PERM_PROJECT_WRITE] = "project_write",
	[PERM_ADMIN] = "admin",
	[PERM_DEV] = "dev",
	[PERM_PARTICIPANT_SELF] = "participant_self_or_teacher",
	[PERM_PROJECT_OWNER] = "project_owner",
};

const char *permission_name(enum permission p)
{
	return (unsigned)p < PERM__COUNT && names[p] ? names[p] : "?";
}

static int not_found(struct response *res, const char *what, int64_t id)
{
	if (res && id > 0)
		response_detail(res, "no %s %lld", what, (long long)id);
	else if (res)
		response_detail(res, "no such %s (ids are positive decimal integers)", what);
	return COHORT_E_NOTFOUND;
}

static int absent(int err)
{
	return err == COHORT_E_NOTFOUND;
}

/* Loads what the route's parameters name, and the caller's place in it. */
static int lookup(struct request *req, struct response *res)
{
	int64_t id;
	int err;

	err = request_id_param(req, "project", &id);
	if (err <= 0) {
		if (!err)
			err = project_get(req->db, id, &req->project);
		if (absent(err))
			return not_found(res, "project", id);
		if (err)
			return err;
		req->has_project = true;
		err = course_get(req->db, req->project.course_id, &req->course);
		if (err)
			return err;
		req->has_course = true;
		err = project_access(req->db, &req->who, &req->project, &req->access);
		if (err)
			return err;
	}
	err = request_id_param(req, "lesson", &id);
	if (err <= 0) {
		if (!err)
			err = lesson_get(req->db, id, &req->lesson);
		if (absent(err))
			return not_found(res, "lesson", id);
		if (err)
			return err;
		req->has_lesson = true;
		err = course_get(req->db, req->lesson.course_id, &req->course);
		if (err)
			return err;
		req->has_course = true;
	}
	err = request_id_param(req, "course", &id);
	if (err <= 0) {
		if (!err)
			err = course_get(req->db, id, &req->course);
		if (absent(err))
			return not_found(res, "course", id);
		if (err)
			return err;
		req->has_course = true;
	}
	if (req->has_course) {
		err = course_participation(req->db, req->course.id, req->who.user_id, &req->me);
		if (err)
			return err;
	}
	return 0;
}

/* The key of what the route names, for the authcache; false for routes
 * with a {participant} (their target is looked up every time) or with an
 * id that is not one (lookup answers those). */
static bool scope_key(const struct request *req, struct authcache_scope_key *k)
{
	static const char *const params[] = { "project", "lesson", "course" };
	int64_t *ids[] = { &k->project, &k->lesson, &k->course };
	int64_t id;

	memset(k, 0, sizeof(*k));
	k->user = req->who.user_id;
	if (request_id_param(req, "participant", &id) <= 0)
		return false;
	for (size_t i = 0; i < 3; i++) {
		int r = request_id_param(req, params[i], &id);

		if (r < 0)
			return false;
		*ids[i] = r == 0 ? id : 0;
	}
	return true;
}

/* lookup, or what it found at this database generation. */
static int resolve(struct request *req, struct response *res)
{
	struct authcache_scope_key key;
	bool cacheable = req->auth_gen_ok && scope_key(req, &key);
	int err;

	if (cacheable && authcache_scope_get(req->worker->auth, &req->auth_gen, &key, req))
		return 0;
	dispatch_auth_txn(req);
	err = lookup(req, res);
	if (!err && cacheable)
		authcache_scope_put(req->worker->auth, &req->auth_gen, &key, req);
	return err;
}

/* The {participant} of the route: 404 when there is none with that id;
 * outside the course, 404 on course routes and 422 on project routes
 * (granting to someone outside the project's course). */
static int resolve_target(struct request *req, struct response *res)
{
	int64_t id;
	int err = request_id_param(req, "participant", &id);

	if (err > 0)
		return 0;
	if (!err)
		err = participant_get(req->db, id, &req->target);
	if (absent(err))
		return not_found(res, "participant", id);
	if (err)
		return err;
	if (req->has_course && req->target.course_id != req->course.id) {
		if (req->has_project) {
			if (res)
				response_detail(res, "participant %lld is not in the project's course", (long long)id);
			return COHORT_E_NOTMEMBER;
		}
		return not_found(res, "participant", id);
	}
	req->has_target = true;
	return 0;
}

static int forbidden(struct response *res, const char *why)
{
	if (res)
		response_detail(res, "%s", why);
	return COHORT_E_FORBIDDEN;
}

static int decide(enum permission p, struct request *req, struct response *res)
{
	bool member = req->me.id != 0;
	bool teacher = member && req->me.role == ROLE_TEACHER;

	if (req->who.is_admin)
		return 0;
	switch (p) {
	case PERM_USER:
		return 0;
	case PERM_ADMIN:
		return forbidden(res, "only an administrator may do this");
	case PERM_COURSE_MEMBER:
	case PERM_COURSE_TEACHER:
	case PERM_PARTICIPANT_SELF:
		if (!member)
			return not_found(res, req->has_lesson ? "lesson" : "course",
					 req->has_lesson ? req->lesson.id : req->course.id);
		if (p == PERM_COURSE_MEMBER || teacher)
			return 0;
		if (p == PERM_COURSE_TEACHER)
			return forbidden(res, "only a teacher of the course may do this");
		return 0; /* self: decided once the target is known */
	case PERM_PROJECT_READ:
	case PERM_PROJECT_WRITE:
	case PERM_PROJECT_OWNER:
		if (!member)
			return not_found(res, "project", req->project.id);
		if (p == PERM_PROJECT_OWNER) {
			if (req->access.owner)
				return 0;
			if (res)
				response_detail(res, "only the owner of project %lld may do this",
						(long long)req->project.id);
			return COHORT_E_NOTOWNER;
		}
		if (!req->access.read)
			return forbidden(res, "no read access to this project");
		if (p == PERM_PROJECT_WRITE && !req->access.write)
			return forbidden(res, "no write access to this project");
		return 0;
	default:
		break;
	}
	return COHORT_E_FORBIDDEN;
}

int permission_check(enum permission p, struct request *req, struct response *res)
{
	int err;

	switch (p) {
	case PERM_PUBLIC:
		return 0;
	case PERM_DEV:
		return req->cfg && req->cfg->dev_events ? 0 : COHORT_E_DISABLED;
	case PERM__COUNT:
		return COHORT_E_FORBIDDEN;
	default:
		break;
	}
	if (!req->who.user_id)
		return COHORT_E_AUTH;
	if (!req->db) {
		err = worker_db(req->worker, &req->db);
		if (err)
			return err;
	}
	err = resolve(req, res);
	if (!err)
		err = decide(p, req, res);
	if (!err && request_id_param(req, "participant", &(int64_t){ 0 }) <= 0) {
		dispatch_auth_txn(req);
		err = resolve_target(req, res);
	}
	if (!err && p == PERM_PARTICIPANT_SELF && !req->who.is_admin && req->me.role != ROLE_TEACHER &&
	    req->target.id != req->me.id)
		err = forbidden(res, "only the participant themself or a teacher may do this");
	return err;
}
