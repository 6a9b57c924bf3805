/*
 * Following other participants' projects in a lesson (issue 6,
 * docs/presence.md). A follow is a member of a small Redis set per user
 * and lesson (kv_follows): it is interface state — which projects a
 * client watches — not a permission, so losing it with Redis costs a
 * re-follow and it needs no migration. Access is decided by project_access
 * when following and again by the streamer for every event stream, so a
 * follow whose grant was revoked later stays listed with "read": false
 * and delivers nothing.
 */
#include "api/follows.h"
#include "api/request.h"
#include "api/worker.h"
#include "core/course.h"
#include "core/err.h"
#include "core/jsonw.h"
#include "core/kv.h"
#include "core/num.h"
#include "core/project.h"
#include "core/rconn.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Follows per user and lesson. */
#define FOLLOWS_MAX 64

static int cmd(struct request *req, const char *verb, const char *member, struct redisReply **rep)
{
	char key[KV_KEY_MAX];
	int err = kv_follows(key, sizeof(key), req->lesson.id, req->who.user_id);

	if (!err) {
		const char *argv[] = { verb, key, member };
		size_t lens[] = { strlen(verb), strlen(key), member ? strlen(member) : 0 };

		err = rconn_cmd(req->worker->redis, rep, member ? 3 : 2, argv, lens);
	}
	return err == COHORT_E_REDIS ? COHORT_E_UNAVAILABLE : err;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int follows_list(struct request *req, struct response *res)
{
	struct redisReply *rep = NULL;
	int64_t *ids = NULL;
	size_t n = 0;
	struct jsonw w;
	int err = cmd(req, "SMEMBERS", NULL, &rep);

	jsonw_init(&w);
	if (err)
		goto out;
	if (rep->type != REDIS_REPLY_ARRAY) {
		err = COHORT_E_UNAVAILABLE;
		goto out;
	}
	ids = calloc(rep->elements ? rep->elements : 1, sizeof(*ids));
	if (!ids) {
		err = COHORT_E_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < rep->elements; i++) {
		uint64_t v;

		if (rep->element[i]->type == REDIS_REPLY_STRING &&
		    !parse_u64n(rep->element[i]->str, rep->element[i]->len, &v) && v && v <= INT64_MAX)
			ids[n++] = (int64_t)v;
	}
	qsort(ids, n, sizeof(*ids), cmp_i64);
	jsonw_obj(&w, NULL);
	jsonw_int(&w, "lesson_id", req->lesson.id);
	jsonw_arr(&w, "follows");
	for (size_t i = 0; i < n && !err; i++) {
		struct participant t;
		struct project p;
		struct access a;

		err = participant_get(req->db, ids[i], &t);
		if (err == COHORT_E_NOTFOUND || (!err && t.course_id != req->course.id)) {
			err = 0; /* left the course: not listed */
			continue;
		}
		err = err ? err : project_ensure(req->db, req->lesson.id, t.id, &p);
		err = err ? err : project_access(req->db, &req->who, &p, &a);
		if (err)
			break;
		jsonw_obj(&w, NULL);
		jsonw_int(&w, "participant", t.id);
		jsonw_int(&w, "user", t.user_id);
		jsonw_str(&w, "nickname", t.nickname);
		jsonw_int(&w, "project", p.id);
		jsonw_bool(&w, "read", a.read);
		jsonw_end(&w);
	}
	jsonw_end(&w);
	jsonw_end(&w);
	if (!err)
		err = response_jsonw(res, 200, &w);
out:
	free(ids);
	rconn_reply_free(rep);
	jsonw_release(&w);
	return err;
}

int follow_put(struct request *req, struct response *res)
{
	struct redisReply *rep = NULL;
	struct project p;
	struct access a;
	char member[24];
	struct jsonw w;
	int err;

	if (req->target.id == req->me.id) {
		response_detail(res, "one's own project needs no following");
		return COHORT_E_FIELD;
	}
	err = project_ensure(req->db, req->lesson.id, req->target.id, &p);
	err = err ? err : project_access(req->db, &req->who, &p, &a);
	if (err)
		return err;
	if (!a.read) {
		response_detail(res, "no read access to participant %lld's project", (long long)req->target.id);
		return COHORT_E_FORBIDDEN;
	}
	snprintf(member, sizeof(member), "%lld", (long long)req->target.id);
	err = cmd(req, "SCARD", NULL, &rep);
	if (!err && rep->type == REDIS_REPLY_INTEGER && rep->integer >= FOLLOWS_MAX) {
		rconn_reply_free(rep);
		rep = NULL;
		err = cmd(req, "SISMEMBER", member, &rep);
		if (!err && !(rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)) {
			response_detail(res, "at most %d follows per lesson", FOLLOWS_MAX);
			err = COHORT_E_LIMIT;
		}
	}
	rconn_reply_free(rep);
	rep = NULL;
	err = err ? err : cmd(req, "SADD", member, &rep);
	rconn_reply_free(rep);
	if (err)
		return err;
	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	jsonw_int(&w, "participant", req->target.id);
	jsonw_int(&w, "user", req->target.user_id);
	jsonw_str(&w, "nickname", req->target.nickname);
	jsonw_int(&w, "project", p.id);
	jsonw_bool(&w, "read", true);
	jsonw_end(&w);
	err = response_jsonw(res, 200, &w);
	jsonw_release(&w);
	return err;
}

int follow_delete(struct request *req, struct response *res)
{
	struct redisReply *rep = NULL;
	char member[24];
	int err;

	snprintf(member, sizeof(member), "%lld", (long long)req->target.id);
	err = cmd(req, "SREM", member, &rep);
	rconn_reply_free(rep);
	if (!err)
		res->status = 204;
	return err;
}
