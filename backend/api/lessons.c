#include "api/lessons.h"
#include "api/fields.h"
#include "api/request.h"
#include "api/worker.h"
#include "core/config.h"
#include "core/course.h"
#include "core/err.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/lesson.h"
#include "core/objects.h"
#include "core/project.h"
#include "core/render.h"
#include "core/template.h"
#include "core/workspace.h"

#include <stdlib.h>
#include <string.h>

static int one_lesson(const struct lesson *l, void *arg)
{
	struct jsonw *w = arg;

	render_lesson(w, NULL, l);
	return w->err;
}

static int render_lessons(struct request *req, struct response *res, int status)
{
	struct jsonw w;
	int err;

	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	jsonw_int(&w, "course_id", req->course.id);
	jsonw_arr(&w, "lessons");
	err = lesson_list(req->db, req->course.id, one_lesson, &w);
	jsonw_end(&w);
	jsonw_end(&w);
	if (!err)
		err = response_jsonw(res, status, &w);
	jsonw_release(&w);
	return err;
}

int lessons_list(struct request *req, struct response *res)
{
	return render_lessons(req, res, 200);
}

static int reply_lesson(struct response *res, int status, const struct lesson *l)
{
	struct jsonw w;
	int err;

	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	render_lesson(&w, "lesson", l);
	jsonw_end(&w);
	err = response_jsonw(res, status, &w);
	jsonw_release(&w);
	return err;
}

int lessons_post(struct request *req, struct response *res)
{
	struct json_object *root = NULL;
	struct lesson l;
	const char *name, *desc;
	size_t name_len, desc_len;
	int err = request_json(req, res, &root);

	if (!err)
		err = field_name(root, "name", true, NAME_MAX_BYTES, res, &name, &name_len);
	if (!err)
		err = field_text(root, "description", false, DESCRIPTION_MAX_BYTES, res, &desc, &desc_len);
	if (!err) {
		err = lesson_create(req->db, req->course.id, name, name_len, desc ? desc : "", desc ? desc_len : 0, &l);
		if (err == COHORT_E_LIMIT)
			response_detail(res, "a course has at most %d lessons", LESSONS_MAX);
	}
	if (!err)
		err = reply_lesson(res, 201, &l);
	json_put(root);
	return err;
}

int lessons_order(struct request *req, struct response *res)
{
	static const char *const keys[] = { "ids", NULL };
	struct json_object *root = NULL;
	long long ids[LESSONS_MAX];
	int64_t ids64[LESSONS_MAX];
	const char *unknown;
	size_t n = 0;
	int err = request_json(req, res, &root);

	if (!err && (json_only_keys(root, keys, &unknown) ||
		     json_get_int_array(root, "ids", true, LESSONS_MAX, 1, INT64_MAX, ids, &n))) {
		response_detail(res, "ids: required, an array of the course's lesson ids in their new order");
		err = COHORT_E_FIELD;
	}
	if (!err) {
		for (size_t i = 0; i < n; i++)
			ids64[i] = ids[i];
		err = lesson_reorder(req->db, req->course.id, ids64, n);
		if (err == COHORT_E_FIELD)
			response_detail(res, "ids must name every lesson of the course exactly once");
	}
	json_put(root);
	return err ? err : render_lessons(req, res, 200);
}

int lesson_get_one(struct request *req, struct response *res)
{
	return reply_lesson(res, 200, &req->lesson);
}

int lesson_patch(struct request *req, struct response *res)
{
	static const char *const keys[] = { "name", "description", NULL };
	struct json_object *root = NULL;
	struct lesson l;
	const char *name, *desc, *unknown;
	size_t name_len, desc_len;
	int err = request_json(req, res, &root);

	if (!err && json_only_keys(root, keys, &unknown)) {
		response_detail(res, "unknown field '%s'; a lesson has name and description", unknown);
		err = COHORT_E_FIELD;
	}
	if (!err)
		err = field_name(root, "name", false, NAME_MAX_BYTES, res, &name, &name_len);
	if (!err)
		err = field_text(root, "description", false, DESCRIPTION_MAX_BYTES, res, &desc, &desc_len);
	if (!err)
		err = lesson_update(req->db, req->lesson.id, name, name_len, desc, desc_len, &l);
	if (!err)
		err = reply_lesson(res, 200, &l);
	json_put(root);
	return err;
}

int lesson_delete_one(struct request *req, struct response *res)
{
	int err = lesson_delete(req->db, req->lesson.id);

	if (!err && req->lesson.template_ref[0]) {
		/* The lesson is gone: its template's objects go too (a failure
		 * only leaves an orphan object, and is logged). */
		struct objects *o = NULL;

		if (!objects_open(req->cfg->objects_url, &o))
			template_drop(o, req->lesson.template_ref);
		objects_free(o);
	}
	if (!err)
		res->status = 204;
	return err;
}

static int need_participation(struct request *req, struct response *res)
{
	if (req->me.id)
		return 0;
	response_detail(res, "you are not a participant of the course of lesson %lld", (long long)req->lesson.id);
	return COHORT_E_NOTMEMBER;
}

/*
 * First access: a new (empty, never imported into) project gets the lesson's
 * template, exactly once (core/template.h). No "file" events are published
 * for it: nobody can have the project open before this request returns its
 * id, and a tree listing shows the imported files.
 */
static int apply_template(struct request *req, struct response *res, const struct project *p)
{
	struct ws_limits wl = {
		.max_file = (uint64_t)req->cfg->files_max_file,
		.max_project = (uint64_t)req->cfg->files_max_project,
		.max_entries = (uint64_t)req->cfg->files_max_entries,
	};
	struct template_limits tl;
	struct template_applied ta;
	struct workspace ws;
	char why[256] = "";
	int err;

	if (!req->lesson.template_ref[0])
		return 0;
	template_limits_from_config(req->cfg, &tl);
	workspace_init(&ws, req->worker->redis, p->id, &wl);
	err = template_apply(req->db, req->cfg->objects_url, &ws, req->lesson.id, &tl, &ta, why, sizeof(why));
	if (err && why[0])
		response_detail(res, "%s", why);
	return err;
}

int lesson_project(struct request *req, struct response *res)
{
	struct project p;
	struct access a;
	struct jsonw w;
	int err = need_participation(req, res);

	if (!err)
		err = project_ensure(req->db, req->lesson.id, req->me.id, &p);
	if (!err)
		err = apply_template(req, res, &p);
	if (!err)
		err = project_access(req->db, &req->who, &p, &a);
	if (err)
		return err;
	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	render_project(&w, "project", &p);
	render_access(&w, "access", &a);
	jsonw_end(&w);
	err = response_jsonw(res, 200, &w);
	jsonw_release(&w);
	return err;
}

int lesson_access_get(struct request *req, struct response *res)
{
	struct access_listing al;
	struct jsonw w;
	int err = need_participation(req, res);

	memset(&al, 0, sizeof(al));
	jsonw_init(&w);
	if (!err)
		err = lesson_access_collect(req->db, req->lesson.id, &req->me, &al);
	if (err)
		goto out;
	render_access_listing(&w, NULL, &req->lesson, &req->me, &al);
	err = response_jsonw(res, 200, &w);
out:
	jsonw_release(&w);
	access_listing_release(&al);
	return err;
}
