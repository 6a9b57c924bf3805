/*
 * cursor.c — see cursor.h. Positions of an older version are only checked
 * to be non-negative: a cursor is advisory, and clients map or clamp it.
 */
#include "core/cursor.h"
#include "core/clock.h"
#include "core/collab.h"
#include "core/err.h"
#include "core/event.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/kv.h"
#include "core/rconn.h"
#include "core/strbuf.h"
#include "core/workspace.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/* Cursor colours for project files: a user's colour is fixed by their id, so
 * every screen shows the same one (rooms assign theirs, issue 6). */
static const char *const palette[] = {
	"#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46a1a8",
	"#f032e6", "#7a9a01", "#c2185b", "#008080", "#9a6324", "#800000",
};

const char *cursor_color(int64_t user_id)
{
	return palette[(unsigned long long)user_id % (sizeof(palette) / sizeof(palette[0]))];
}

/* Validates {anchor, head} ranges into w; positions at most len. */
static int add_ranges(struct json_object *arr, int64_t len, long long main, struct jsonw *w, char *err,
		      size_t errlen)
{
	size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;

	if (n == 0 || n > CURSOR_RANGES_MAX || main < 0 || (size_t)main >= n) {
		snprintf(err, errlen, "ranges must hold 1 to %d ranges and main must index one of them",
			 CURSOR_RANGES_MAX);
		return COHORT_E_FIELD;
	}
	jsonw_arr(w, "ranges");
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(arr, i);
		long long a, h;

		if (!json_object_is_type(r, json_type_object) || json_get_int(r, "anchor", true, 0, len, &a) ||
		    json_get_int(r, "head", true, 0, len, &h)) {
			snprintf(err, errlen, "each range needs anchor and head from 0 to the document's length (%lld)",
				 (long long)len);
			return COHORT_E_RANGE;
		}
		jsonw_obj(w, NULL);
		jsonw_int(w, "anchor", a);
		jsonw_int(w, "head", h);
		jsonw_end(w);
	}
	jsonw_end(w);
	return 0;
}

static int publish(struct workspace *ws, const char *path, long long version, const char *client,
		   const char *data)
{
	char maxlen[24];
	const char *key = ws->k_events;
	struct strbuf stored = STRBUF_INIT;
	struct redisReply *r = NULL;
	struct event ev = {
		.type = "cursor",
		.project = ws->project_id[0] ? ws->project_id : NULL,
		.stream = ws->scope,
		.file = path,
		.version = version,
		.actor_user = ws->actor_user,
		.actor_client = client,
		.ts_recv = ws->ts_recv ? ws->ts_recv : clock_wall_us(),
		.data_json = data,
	};
	int err;

	snprintf(maxlen, sizeof(maxlen), "%lld", ws->events_maxlen);
	ev.ts_pub = clock_wall_us();
	strbuf_init(&stored, EVENT_DATA_MAX * 2);
	err = event_encode_stored(&stored, &ev);
	if (!err) {
		const char *argv[] = { "XADD", key, "MAXLEN", "~", maxlen, "*", EVENT_FIELD, stored.buf };
		size_t lens[] = { 4, strlen(key), 6, 1, strlen(maxlen), 1, strlen(EVENT_FIELD), stored.len };

		err = rconn_cmd(ws->rc, &r, 8, argv, lens);
	}
	rconn_reply_free(r);
	strbuf_release(&stored);
	return err;
}

/* Exactly one of who and m is set. */
static int publish_as(struct workspace *ws, const char *path, const struct cursor_req *cr,
		      const struct cursor_who *who, const struct cursor_member *m, char *err, size_t errlen)
{
	char client[COLLAB_CLIENT_MAX + 1];
	struct ws_doc d;
	struct jsonw w;
	int rc;

	memset(&d, 0, sizeof(d));
	jsonw_init(&w);
	err[0] = '\0';
	if (cr->client_len >= sizeof(client)) {
		snprintf(err, errlen, "clientID is too long");
		rc = COHORT_E_FIELD;
		goto out;
	}
	memcpy(client, cr->client, cr->client_len);
	client[cr->client_len] = '\0';
	if ((rc = workspace_doc_sync(ws, path, -1, false, false, &d)))
		goto out;
	if (cr->version > d.version) {
		snprintf(err, errlen, "version is newer than the file's version (%lld)", d.version);
		rc = COHORT_E_RANGE;
		goto out;
	}
	jsonw_obj(&w, NULL);
	jsonw_str(&w, "clientID", client);
	jsonw_int(&w, "version", cr->version);
	rc = add_ranges(cr->ranges, cr->version == d.version ? d.len16 : (int64_t)1 << 53, cr->main, &w, err,
			errlen);
	if (rc)
		goto out;
	jsonw_int(&w, "main", cr->main);
	if (m) {
		jsonw_str(&w, "member", m->id);
		jsonw_str(&w, "name", m->name);
		jsonw_str(&w, "color", m->color);
	} else {
		jsonw_id(&w, "user", who->user_id);
		jsonw_str(&w, "login", who->login);
		jsonw_str(&w, "name", who->name && who->name[0] ? who->name : who->login);
		jsonw_str(&w, "color", cursor_color(who->user_id));
	}
	jsonw_end(&w);
	if ((rc = jsonw_finish(&w)))
		goto out;
	if (!m && w.sb.len <= WS_CURSOR_MAX &&
	    workspace_cursor_set(ws, path, who->user_id, w.sb.buf)) {
		rc = COHORT_E_NOTFOUND;
		goto out;
	}
	rc = publish(ws, path, cr->version, client, w.sb.buf);
out:
	ws_doc_release(&d);
	jsonw_release(&w);
	return rc;
}

int cursor_publish(struct workspace *ws, const char *path, const struct cursor_req *cr,
		   const struct cursor_who *who, char *err, size_t errlen)
{
	return publish_as(ws, path, cr, who, NULL, err, errlen);
}

int cursor_publish_member(struct workspace *ws, const char *path, const struct cursor_req *cr,
			  const struct cursor_member *m, char *err, size_t errlen)
{
	return publish_as(ws, path, cr, NULL, m, err, errlen);
}
