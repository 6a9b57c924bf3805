#include "api/dev_events.h"
#include "api/request.h"
#include "api/worker.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/event.h"
#include "core/json.h"
#include "core/kv.h"
#include "core/log.h"
#include "core/rconn.h"
#include "core/scope.h"
#include "core/strbuf.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The request body, checked field by field into this struct before
 * anything is appended. */
struct dev_event {
	struct scope scope;
	const char *type; /* borrows from the parsed body */
	char *data;       /* compact JSON, owned */
};

static int parse_body(const char *body, size_t len, const struct cohort_config *cfg, struct dev_event *ev,
		      struct response *res, struct json_object **root)
{
	const struct scope_policy pol = { .dev_enabled = cfg->dev_events };
	const char *stream, *type;
	size_t slen, tlen;
	int err;

	err = json_parse_object(body, len, root);
	if (err) {
		response_detail(res, err == COHORT_E_UTF8 ? "the body is not valid UTF-8"
							  : "the body must be one JSON object");
		return err;
	}
	err = json_get_str(*root, "stream", true, len, &stream, &slen);
	if (err) {
		response_detail(res, "stream: required, a string \"dev:<name>\"");
		return COHORT_E_FIELD;
	}
	err = scope_parse(stream, slen, &pol, &ev->scope);
	if (!err && ev->scope.kind != SCOPE_DEV)
		err = COHORT_E_UNKNOWNSTREAM;
	if (err) {
		response_detail(res, err == COHORT_E_BADSTREAM
					     ? "stream: expected dev:<name>, name 1..64 characters of [A-Za-z0-9._-]"
					     : "stream: only dev:<name> streams accept development events");
		return err;
	}
	err = json_get_str(*root, "type", true, len, &type, &tlen);
	if (err || !event_type_valid(type, tlen)) {
		response_detail(res, "type: required, 1..%d characters of [a-z0-9_.-]", EVENT_TYPE_MAX);
		return COHORT_E_FIELD;
	}
	ev->type = type;
	err = json_get_raw(*root, "data", true, EVENT_DATA_MAX, &ev->data);
	if (err == COHORT_E_RANGE) {
		response_detail(res, "data: larger than %d bytes", EVENT_DATA_MAX);
		return COHORT_E_LIMIT;
	}
	if (err) {
		response_detail(res, "data: required (any JSON value, null included)");
		return err == COHORT_E_FIELD ? COHORT_E_FIELD : err;
	}
	return 0;
}

static int append(struct request *req, const struct dev_event *ev, char *id, size_t idlen)
{
	struct strbuf stored = STRBUF_INIT;
	struct redisReply *reply = NULL;
	char key[KV_KEY_MAX], maxlen[24];
	struct event e = {
		.type = ev->type,
		.stream = ev->scope.name,
		.version = -1,
		.ts_recv = req->recv_wall_us,
		.data_json = ev->data,
	};
	int err = scope_stream_key(&ev->scope, key, sizeof(key));

	snprintf(maxlen, sizeof(maxlen), "%ld", req->cfg->events_maxlen);
	e.ts_pub = clock_wall_us();
	err = err ? err : event_encode_stored(&stored, &e);
	if (!err) {
		const char *argv[] = { "XADD", key, "MAXLEN", "~", maxlen, "*", EVENT_FIELD, stored.buf };
		size_t lens[] = { 4, strlen(key), 6, 1, strlen(maxlen), 1, strlen(EVENT_FIELD), stored.len };

		err = rconn_cmd(req->worker->redis, &reply, 8, argv, lens);
	}
	if (!err && (reply->type != REDIS_REPLY_STRING || reply->len == 0 || (size_t)reply->len >= idlen))
		err = COHORT_E_INTERNAL;
	if (!err) {
		memcpy(id, reply->str, (size_t)reply->len);
		id[reply->len] = '\0';
	} else if (err == COHORT_E_REDIS) {
		log_warn("dev_event_append_failed", LF_S("rid", req->id), LF_S("stream", ev->scope.name),
			 LF_S("error", rconn_last_error(req->worker->redis)));
	}
	rconn_reply_free(reply);
	strbuf_release(&stored);
	return err;
}

int dev_events_post(struct request *req, struct response *res)
{
	struct json_object *root = NULL;
	struct dev_event ev = { 0 };
	char id[64];
	const char *body;
	size_t len;
	int err;

	if (!request_is_json(req)) {
		response_detail(res, "Content-Type must be application/json");
		return COHORT_E_MEDIATYPE;
	}
	err = request_body(req, &body, &len);
	if (err == COHORT_E_TOOBIG)
		response_detail(res, "the body exceeds the limit of %ld bytes", req->cfg->api_max_body);
	else if (err == COHORT_E_INVAL)
		response_detail(res, "the body is shorter than its Content-Length");
	if (!err)
		err = parse_body(body, len, req->cfg, &ev, res, &root);
	if (!err)
		err = append(req, &ev, id, sizeof(id));
	if (!err) {
		err = strbuf_adds(&res->body, "{\"id\":");
		err = err ? err : strbuf_add_json_str(&res->body, id, strlen(id));
		err = err ? err : strbuf_adds(&res->body, ",\"stream\":");
		err = err ? err : strbuf_add_json_str(&res->body, ev.scope.name, strlen(ev.scope.name));
		err = err ? err : strbuf_addch(&res->body, '}');
	}
	if (!err)
		response_json(res, 201);
	free(ev.data);
	json_put(root);
	return err;
}
