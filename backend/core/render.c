#include "core/render.h"
#include "core/jsonw.h"
#include "core/course.h"
#include "core/lesson.h"
#include "core/project.h"
#include "core/user.h"

void render_user(struct jsonw *w, const char *key, const struct user *u)
{
	jsonw_obj(w, key);
	jsonw_int(w, "id", u->id);
	jsonw_str(w, "login", u->login);
	jsonw_str(w, "display_name", u->display_name);
	jsonw_bool(w, "is_admin", u->is_admin);
	jsonw_bool(w, "disabled", u->disabled);
	jsonw_int(w, "created_at", u->created_at);
	jsonw_end(w);
}

void render_course(struct jsonw *w, const char *key, const struct course *c)
{
	jsonw_obj(w, key);
	jsonw_int(w, "id", c->id);
	jsonw_str(w, "name", c->name);
	jsonw_str(w, "description", c->description);
	jsonw_int(w, "owner_id", c->owner_id);
	jsonw_int(w, "created_at", c->created_at);
	jsonw_end(w);
}

void render_participant(struct jsonw *w, const char *key, const struct participant *p)
{
	jsonw_obj(w, key);
	jsonw_int(w, "id", p->id);
	jsonw_int(w, "course_id", p->course_id);
	jsonw_int(w, "user_id", p->user_id);
	jsonw_str(w, "login", p->login);
	jsonw_str(w, "role", role_name(p->role));
	jsonw_str(w, "nickname", p->nickname);
	jsonw_int(w, "joined_at", p->joined_at);
	jsonw_end(w);
}

void render_lesson(struct jsonw *w, const char *key, const struct lesson *l)
{
	jsonw_obj(w, key);
	jsonw_int(w, "id", l->id);
	jsonw_int(w, "course_id", l->course_id);
	jsonw_int(w, "position", l->position);
	jsonw_str(w, "name", l->name);
	jsonw_str(w, "description", l->description);
	if (l->template_ref[0])
		jsonw_str(w, "template_ref", l->template_ref);
	else
		jsonw_null(w, "template_ref");
	jsonw_int(w, "created_at", l->created_at);
	jsonw_end(w);
}

void render_project(struct jsonw *w, const char *key, const struct project *p)
{
	jsonw_obj(w, key);
	jsonw_int(w, "id", p->id);
	jsonw_int(w, "lesson_id", p->lesson_id);
	jsonw_int(w, "course_id", p->course_id);
	jsonw_int(w, "owner_id", p->owner_id);
	jsonw_int(w, "owner_user_id", p->owner_user_id);
	jsonw_str(w, "owner_role", role_name(p->owner_role));
	jsonw_str(w, "owner_nickname", p->owner_nickname);
	jsonw_int(w, "created_at", p->created_at);
	jsonw_int(w, "last_activity_at", p->last_activity_at);
	jsonw_end(w);
}

void render_bits(struct jsonw *w, const char *key, bool present, const struct grant_bits *b)
{
	if (!present) {
		jsonw_null(w, key);
		return;
	}
	jsonw_obj(w, key);
	jsonw_bool(w, "read", b->read);
	jsonw_bool(w, "write", b->write);
	jsonw_end(w);
}

void render_access(struct jsonw *w, const char *key, const struct access *a)
{
	jsonw_obj(w, key);
	jsonw_bool(w, "read", a->read);
	jsonw_bool(w, "write", a->write);
	jsonw_end(w);
}

void render_access_entry(struct jsonw *w, const char *key, const struct access_entry *e)
{
	jsonw_obj(w, key);
	jsonw_int(w, "participant_id", e->participant_id);
	jsonw_int(w, "user_id", e->user_id);
	jsonw_str(w, "role", role_name(e->role));
	jsonw_str(w, "nickname", e->nickname);
	jsonw_id(w, "project_id", e->project_id);
	jsonw_bool(w, "read", e->bits.read);
	jsonw_bool(w, "write", e->bits.write);
	jsonw_bool(w, "explicit_grant", e->explicit_grant);
	jsonw_end(w);
}

void render_grant_change(struct jsonw *w, const char *key, const struct project *p,
			 const struct participant *grantee, const struct grant_change *chg, bool row_after)
{
	const char *names[2] = { "read", "write" };
	struct access before, after;
	bool had[2], has[2];

	access_rules(grantee->role, p->owner_role, chg->existed, chg->before, &before);
	access_rules(grantee->role, p->owner_role, row_after, chg->after, &after);
	had[0] = before.read, had[1] = before.write;
	has[0] = after.read, has[1] = after.write;

	jsonw_obj(w, key);
	jsonw_int(w, "project_id", p->id);
	render_participant(w, "grantee", grantee);
	render_bits(w, "row_before", chg->existed, &chg->before);
	render_bits(w, "row_after", row_after, &chg->after);
	render_access(w, "access_before", &before);
	render_access(w, "access_after", &after);
	jsonw_arr(w, "added");
	for (int i = 0; i < 2; i++)
		if (has[i] && !had[i])
			jsonw_str(w, NULL, names[i]);
	jsonw_end(w);
	jsonw_arr(w, "removed");
	for (int i = 0; i < 2; i++)
		if (had[i] && !has[i])
			jsonw_str(w, NULL, names[i]);
	jsonw_end(w);
	jsonw_end(w);
}

void render_access_listing(struct jsonw *w, const char *key, const struct lesson *l, const struct participant *me,
			   const struct access_listing *al)
{
	jsonw_obj(w, key);
	render_lesson(w, "lesson", l);
	render_participant(w, "me", me);
	for (int k = 0; k < 2; k++) {
		jsonw_arr(w, k == 0 ? "can_open" : "can_open_mine");
		for (size_t i = 0; i < al->n[k]; i++)
			render_access_entry(w, NULL, &al->v[k][i]);
		jsonw_end(w);
	}
	jsonw_end(w);
}
