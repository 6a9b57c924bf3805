#include "api/courses.h"
#include "api/fields.h"
#include "api/request.h"
#include "api/worker.h"
#include "core/aclnote.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/event.h"
#include "core/kv.h"
#include "core/log.h"
#include "core/rconn.h"
#include "core/strbuf.h"
#include "core/course.h"
#include "core/err.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/render.h"

#include <stdio.h>
#include <string.h>

static int list_one(const struct course *c, const struct participant *me, void *arg)
{
	struct jsonw *w = arg;

	jsonw_obj(w, NULL);
	render_course(w, "course", c);
	render_participant(w, "me", me);
	jsonw_end(w);
	return w->err;
}

int courses_list(struct request *req, struct response *res)
{
	struct jsonw w;
	int err;

	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	jsonw_arr(&w, "courses");
	err = course_list_for_user(req->db, req->who.user_id, list_one, &w);
	jsonw_end(&w);
	jsonw_end(&w);
	if (!err)
		err = response_jsonw(res, 200, &w);
	jsonw_release(&w);
	return err;
}

int courses_post(struct request *req, struct response *res)
{
	struct json_object *root = NULL;
	struct participant teacher;
	struct course c;
	struct jsonw w;
	char code[JOIN_CODE_LEN + 1];
	const char *name, *desc, *nick;
	size_t name_len, desc_len, nick_len;
	int err;

	jsonw_init(&w);
	err = request_json(req, res, &root);
	if (!err)
		err = field_name(root, "name", true, NAME_MAX_BYTES, res, &name, &name_len);
	if (!err)
		err = field_text(root, "description", false, DESCRIPTION_MAX_BYTES, res, &desc, &desc_len);
	if (!err)
		err = field_name(root, "nickname", false, NICKNAME_MAX_BYTES, res, &nick, &nick_len);
	if (!err)
		err = course_create(req->db, req->who.user_id, name, name_len, desc ? desc : "", desc ? desc_len : 0,
				    nick, nick_len, &c, &teacher, code);
	if (err)
		goto out;
	jsonw_obj(&w, NULL);
	render_course(&w, "course", &c);
	render_participant(&w, "teacher", &teacher);
	jsonw_str(&w, "join_code", code);
	jsonw_end(&w);
	err = response_jsonw(res, 201, &w);
out:
	jsonw_release(&w);
	json_put(root);
	return err;
}

int courses_join(struct request *req, struct response *res)
{
	struct json_object *root = NULL;
	struct participant me;
	struct course c;
	struct jsonw w;
	const char *code, *nick;
	size_t code_len, nick_len;
	int err;

	jsonw_init(&w);
	err = request_json(req, res, &root);
	if (!err && json_get_str(root, "code", true, 64, &code, &code_len)) {
		response_detail(res, "code: required, the course's join code");
		err = COHORT_E_FIELD;
	}
	if (!err)
		err = field_name(root, "nickname", true, NICKNAME_MAX_BYTES, res, &nick, &nick_len);
	if (!err) {
		err = course_join(req->db, req->who.user_id, code, code_len, nick, nick_len, &c, &me);
		if (err == COHORT_E_BADCODE)
			response_detail(res, "no course has this join code");
		else if (err == COHORT_E_MEMBER)
			response_detail(res, "you are already a participant of this course");
		else if (err == COHORT_E_NICKNAME)
			response_detail(res, "the nickname '%.*s' is already used in this course", (int)nick_len, nick);
	}
	if (err)
		goto out;
	jsonw_obj(&w, NULL);
	render_course(&w, "course", &c);
	render_participant(&w, "participant", &me);
	jsonw_end(&w);
	err = response_jsonw(res, 201, &w);
out:
	jsonw_release(&w);
	json_put(root);
	return err;
}

int course_get_one(struct request *req, struct response *res)
{
	struct jsonw w;
	int err;

	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	render_course(&w, "course", &req->course);
	if (req->me.id)
		render_participant(&w, "me", &req->me);
	else
		jsonw_null(&w, "me");
	jsonw_end(&w);
	err = response_jsonw(res, 200, &w);
	jsonw_release(&w);
	return err;
}

int course_join_code(struct request *req, struct response *res)
{
	char code[JOIN_CODE_LEN + 1];
	struct jsonw w;
	int err = course_rotate_code(req->db, req->course.id, code);

	if (err)
		return err;
	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	jsonw_int(&w, "course_id", req->course.id);
	jsonw_str(&w, "join_code", code);
	jsonw_end(&w);
	err = response_jsonw(res, 200, &w);
	jsonw_release(&w);
	return err;
}

struct plist {
	struct jsonw *w;
	bool full; /* teachers and admins see logins and user ids */
};

static int list_participant(const struct participant *p, void *arg)
{
	struct plist *pl = arg;

	if (pl->full) {
		render_participant(pl->w, NULL, p);
	} else {
		jsonw_obj(pl->w, NULL);
		jsonw_int(pl->w, "id", p->id);
		jsonw_str(pl->w, "role", role_name(p->role));
		jsonw_str(pl->w, "nickname", p->nickname);
		jsonw_end(pl->w);
	}
	return pl->w->err;
}

int participants_list(struct request *req, struct response *res)
{
	struct jsonw w;
	struct plist pl = { &w, req->who.is_admin || req->me.role == ROLE_TEACHER };
	int err;

	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	jsonw_int(&w, "course_id", req->course.id);
	jsonw_arr(&w, "participants");
	err = course_participants(req->db, req->course.id, list_participant, &pl);
	jsonw_end(&w);
	jsonw_end(&w);
	if (!err)
		err = response_jsonw(res, 200, &w);
	jsonw_release(&w);
	return err;
}

int participant_patch(struct request *req, struct response *res)
{
	struct json_object *root = NULL;
	struct participant p;
	struct jsonw w;
	const char *nick;
	size_t nick_len;
	int err;

	jsonw_init(&w);
	err = request_json(req, res, &root);
	if (!err)
		err = field_name(root, "nickname", true, NICKNAME_MAX_BYTES, res, &nick, &nick_len);
	if (!err) {
		err = participant_set_nickname(req->db, req->target.id, nick, nick_len);
		if (err == COHORT_E_NICKNAME)
			response_detail(res, "the nickname '%.*s' is already used in this course", (int)nick_len, nick);
	}
	if (!err)
		err = participant_get(req->db, req->target.id, &p);
	if (err)
		goto out;
	jsonw_obj(&w, NULL);
	render_participant(&w, "participant", &p);
	jsonw_end(&w);
	err = response_jsonw(res, 200, &w);
out:
	jsonw_release(&w);
	json_put(root);
	return err;
}

/* The removed user's connections lose the course's lessons and projects at
 * once (core/aclnote.h), and their tabs hear why on their personal stream.
 * The removal is committed: failures are logged only. */
static void removed_notify(struct request *req)
{
	char scope[64], key[KV_KEY_MAX], data[96], course[64];
	struct strbuf stored = STRBUF_INIT;
	struct redisReply *reply = NULL;
	struct event ev = {
		.type = "participant_removed",
		.stream = scope,
		.version = -1,
		.actor_user = req->who.login,
		.ts_recv = req->recv_wall_us,
		.data_json = data,
	};
	int err;

	snprintf(course, sizeof(course), "course:%lld", (long long)req->course.id);
	err = aclnote_publish(req->worker->redis, req->target.user_id, course, "participant_removed");
	snprintf(scope, sizeof(scope), "user:%lld", (long long)req->target.user_id);
	snprintf(data, sizeof(data), "{\"course\":%lld,\"participant\":%lld}", (long long)req->course.id,
		 (long long)req->target.id);
	ev.ts_pub = clock_wall_us();
	if (!err)
		err = kv_user_stream(key, sizeof(key), req->target.user_id);
	if (!err)
		err = event_encode_stored(&stored, &ev);
	if (!err) {
		char maxlen[24];

		snprintf(maxlen, sizeof(maxlen), "%ld", req->cfg->events_maxlen);
		const char *argv[] = { "XADD", key, "MAXLEN", "~", maxlen, "*", EVENT_FIELD, stored.buf };
		size_t lens[] = { 4, strlen(key), 6, 1, strlen(maxlen), 1, strlen(EVENT_FIELD), stored.len };

		err = rconn_cmd(req->worker->redis, &reply, 8, argv, lens);
	}
	if (err)
		log_warn("participant_removed_notice_failed", LF_S("rid", req->id),
			 LF_I("participant", req->target.id), LF_S("error", cohort_strerror(err)));
	rconn_reply_free(reply);
	strbuf_release(&stored);
}

int participant_delete(struct request *req, struct response *res)
{
	int err = participant_remove(req->db, req->target.id);

	if (err == COHORT_E_CONFLICT)
		response_detail(res, "the course would be left without a teacher");
	if (!err) {
		res->status = 204;
		removed_notify(req);
	}
	return err;
}
