#include "core/aclnote.h"
#include "core/err.h"
#include "core/event.h"
#include "core/json.h"
#include "core/kv.h"
#include "core/rconn.h"
#include "core/strbuf.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

int aclnote_publish(struct rconn *rc, int64_t user_id, const char *scope, const char *reason)
{
	struct strbuf sb = STRBUF_INIT;
	struct redisReply *reply = NULL;
	char key[KV_KEY_MAX], maxlen[24];
	int err = kv_acl_stream(key, sizeof(key));

	snprintf(maxlen, sizeof(maxlen), "%d", ACLNOTE_MAXLEN);
	err = err ? err : strbuf_addf(&sb, "{\"user\":%lld,\"scope\":", (long long)user_id);
	err = err ? err : strbuf_add_json_str(&sb, scope, strlen(scope));
	err = err ? err : strbuf_adds(&sb, ",\"reason\":");
	err = err ? err : strbuf_add_json_str(&sb, reason, strlen(reason));
	err = err ? err : strbuf_addch(&sb, '}');
	if (!err) {
		const char *argv[] = { "XADD", key, "MAXLEN", "~", maxlen, "*", EVENT_FIELD, sb.buf };
		size_t lens[] = { 4, strlen(key), 6, 1, strlen(maxlen), 1, strlen(EVENT_FIELD), sb.len };

		err = rconn_cmd(rc, &reply, 8, argv, lens);
	}
	rconn_reply_free(reply);
	strbuf_release(&sb);
	return err;
}

int aclnote_parse(const char *json, size_t len, struct aclnote *out)
{
	struct json_object *root = NULL, *v;
	int err = COHORT_E_INVAL;

	memset(out, 0, sizeof(*out));
	if (json_parse_object(json, len, &root))
		goto out;
	if (!json_object_object_get_ex(root, "user", &v) || !json_object_is_type(v, json_type_int))
		goto out;
	out->user_id = json_object_get_int64(v);
	if (out->user_id <= 0)
		goto out;
	if (json_object_object_get_ex(root, "scope", &v) && json_object_is_type(v, json_type_string))
		snprintf(out->scope, sizeof(out->scope), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(root, "reason", &v) && json_object_is_type(v, json_type_string))
		snprintf(out->reason, sizeof(out->reason), "%s", json_object_get_string(v));
	err = 0;
out:
	json_put(root);
	return err;
}
