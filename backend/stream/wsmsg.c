#include "stream/wsmsg.h"
#include "core/collab.h"
#include "core/err.h"
#include "core/json.h"
#include "core/path.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int wsmsg_parse_fn(struct json_object *o, struct wsmsg *m, char *detail, size_t dlen);

static wsmsg_parse_fn parse_subscribe;
static wsmsg_parse_fn parse_push;
static wsmsg_parse_fn parse_cursor;
static wsmsg_parse_fn parse_watch;
static wsmsg_parse_fn parse_presence;

/* The message types: name on the wire, enum, field parser (NULL: no fields). */
static const struct wsmsg_row {
	const char *name;
	enum wsmsg_type type;
	wsmsg_parse_fn *parse;
} wsmsg_rows[] = {
	{ "subscribe", WSMSG_SUBSCRIBE, parse_subscribe },
	{ "ping", WSMSG_PING, NULL },
	{ "push", WSMSG_PUSH, parse_push },
	{ "cursor", WSMSG_CURSOR, parse_cursor },
	{ "watch", WSMSG_WATCH, parse_watch },
	{ "presence", WSMSG_PRESENCE, parse_presence },
};

#define NROWS (sizeof(wsmsg_rows) / sizeof(wsmsg_rows[0]))
_Static_assert(NROWS == WSMSG__N, "every wsmsg type has a row");

/* Client-facing sentences, truncated to the caller's buffer. */
static void say(char *detail, size_t dlen, const char *msg)
{
	size_t n = strlen(msg);

	if (!detail || !dlen)
		return;
	if (n >= dlen)
		n = dlen - 1;
	memcpy(detail, msg, n);
	detail[n] = '\0';
}

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int parse_subscribe(struct json_object *o, struct wsmsg *m, char *detail, size_t dlen)
{
	struct json_object *arr;
	const char *after;
	size_t after_len, n;
	int err;

	if (!json_object_object_get_ex(o, "streams", &arr) || !json_object_is_type(arr, json_type_array)) {
		say(detail, dlen, "subscribe needs \"streams\": an array of stream names");
		return COHORT_E_FIELD;
	}
	n = json_object_array_length(arr);
	if (n > WSMSG_MAX_STREAMS) {
		say(detail, dlen, "too many streams");
		return COHORT_E_LIMIT;
	}
	m->streams = calloc(n ? n : 1, sizeof(*m->streams));
	m->lens = calloc(n ? n : 1, sizeof(*m->lens));
	if (!m->streams || !m->lens)
		return COHORT_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(s, json_type_string)) {
			say(detail, dlen, "\"streams\" must hold strings");
			return COHORT_E_FIELD;
		}
		m->lens[i] = (size_t)json_object_get_string_len(s);
		m->streams[i] = dupn(json_object_get_string(s), m->lens[i]);
		if (!m->streams[i])
			return COHORT_E_NOMEM;
		m->nstreams = i + 1;
	}
	err = json_get_str(o, "after", false, WSMSG_MAX, &after, &after_len);
	if (err) {
		say(detail, dlen, "\"after\" must be a string");
		return COHORT_E_FIELD;
	}
	if (after) {
		m->after = dupn(after, after_len);
		if (!m->after)
			return COHORT_E_NOMEM;
		m->after_len = after_len;
	}
	return 0;
}

static bool id_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
	       ch == '-' || ch == '.' || ch == ':';
}

/* "id": a short string of safe characters or an integer, kept as JSON text
 * so that answers echo it without escaping. */
static int parse_id(struct json_object *o, struct wsmsg *m, bool required, char *detail, size_t dlen)
{
	struct json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(o, "id", &v) || !v) {
		if (!required)
			return 0;
		say(detail, dlen, "this message needs an \"id\"");
		return COHORT_E_FIELD;
	}
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);

		if (i < 0 || i > (1LL << 53))
			goto bad;
		snprintf(m->id, sizeof(m->id), "%lld", (long long)i);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		goto bad;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n == 0 || n > WSMSG_ID_MAX)
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (!id_char(s[i]))
			goto bad;
	m->id[0] = '"';
	memcpy(m->id + 1, s, n);
	m->id[n + 1] = '"';
	m->id[n + 2] = '\0';
	return 0;
bad:
	say(detail, dlen, "\"id\" must be 1 to 64 of [A-Za-z0-9_.:-] or an integer from 0 to 2^53");
	return COHORT_E_FIELD;
}

/* project, path and version: what every editing message names. */
static int parse_target(struct json_object *o, struct wsmsg *m, char *detail, size_t dlen)
{
	char path[PATH_BUF];
	const char *s, *reason = NULL;
	size_t n;

	if (json_get_int(o, "project", true, 1, INT64_MAX, &m->project)) {
		say(detail, dlen, "\"project\" must be a project id (a positive integer)");
		return COHORT_E_FIELD;
	}
	if (json_get_str(o, "path", true, PATH_MAX_BYTES, &s, &n) ||
	    path_normalize(s, n, path, sizeof(path), 0, &reason)) {
		say(detail, dlen, reason ? reason : "\"path\" must be a file's canonical path");
		return COHORT_E_FIELD;
	}
	if (json_get_int(o, "version", true, 0, 1LL << 53, &m->version)) {
		say(detail, dlen, "\"version\" must be a non-negative integer");
		return COHORT_E_FIELD;
	}
	m->path = strdup(path);
	return m->path ? 0 : COHORT_E_NOMEM;
}

static int parse_push(struct json_object *o, struct wsmsg *m, char *detail, size_t dlen)
{
	struct json_object *u;
	int err = parse_id(o, m, true, detail, dlen);

	if (!err)
		err = parse_target(o, m, detail, dlen);
	if (err)
		return err;
	if (!json_object_object_get_ex(o, "updates", &u) || !json_object_is_type(u, json_type_array)) {
		say(detail, dlen, "push needs \"updates\": an array of {clientID, changes}");
		return COHORT_E_FIELD;
	}
	if (json_object_array_length(u) > COLLAB_MAX_UPDATES) {
		say(detail, dlen, "too many updates in one push");
		return COHORT_E_LIMIT;
	}
	m->payload = json_object_get(u);
	return 0;
}

static int parse_cursor(struct json_object *o, struct wsmsg *m, char *detail, size_t dlen)
{
	struct json_object *r;
	const char *client;
	int err = parse_id(o, m, false, detail, dlen);

	if (!err)
		err = parse_target(o, m, detail, dlen);
	if (err)
		return err;
	if (json_get_int(o, "main", false, 0, INT32_MAX, &m->main) ||
	    json_get_str(o, "clientID", true, COLLAB_CLIENT_MAX, &client, &m->client_len) ||
	    !collab_client_ok(client, m->client_len)) {
		say(detail, dlen, "cursor needs clientID (1 to 64 of [A-Za-z0-9_-]) and an integer main");
		return COHORT_E_FIELD;
	}
	if (!json_object_object_get_ex(o, "ranges", &r) || !json_object_is_type(r, json_type_array)) {
		say(detail, dlen, "cursor needs \"ranges\": an array of {anchor, head}");
		return COHORT_E_FIELD;
	}
	m->client = dupn(client, m->client_len);
	if (!m->client)
		return COHORT_E_NOMEM;
	m->payload = json_object_get(r);
	return 0;
}

/* {"type":"watch","streams":[…]}: the same list as subscribe, no "after". */
static int parse_watch(struct json_object *o, struct wsmsg *m, char *detail, size_t dlen)
{
	int err = parse_subscribe(o, m, detail, dlen);

	if (!err && m->after) {
		say(detail, dlen, "watch takes no \"after\"");
		return COHORT_E_FIELD;
	}
	return err;
}

/* {"type":"presence","lesson":L,"client":C,"project":P?,"file":F?} */
static int parse_presence(struct json_object *o, struct wsmsg *m, char *detail, size_t dlen)
{
	char path[PATH_BUF];
	const char *s = NULL, *client, *reason = NULL;
	size_t n = 0;

	if (json_get_int(o, "lesson", true, 1, INT64_MAX, &m->lesson)) {
		say(detail, dlen, "\"lesson\" must be a lesson id (a positive integer)");
		return COHORT_E_FIELD;
	}
	if (json_get_str(o, "client", true, COLLAB_CLIENT_MAX, &client, &m->client_len) ||
	    !collab_client_ok(client, m->client_len)) {
		say(detail, dlen, "presence needs \"client\": the editor session id (1 to 64 of [A-Za-z0-9_-])");
		return COHORT_E_FIELD;
	}
	if (json_get_int(o, "project", false, 1, INT64_MAX, &m->project)) {
		say(detail, dlen, "\"project\" must be a project id (a positive integer)");
		return COHORT_E_FIELD;
	}
	if (json_get_str(o, "file", false, PATH_MAX_BYTES, &s, &n) ||
	    (s && path_normalize(s, n, path, sizeof(path), 0, &reason))) {
		say(detail, dlen, reason ? reason : "\"file\" must be a file's canonical path");
		return COHORT_E_FIELD;
	}
	m->client = dupn(client, m->client_len);
	if (!m->client)
		return COHORT_E_NOMEM;
	if (s) {
		m->path = strdup(path);
		if (!m->path)
			return COHORT_E_NOMEM;
	}
	return 0;
}

int wsmsg_parse(const char *buf, size_t len, struct wsmsg *out, char *detail, size_t dlen)
{
	struct json_object *o = NULL;
	const char *type;
	size_t tlen;
	int err;

	memset(out, 0, sizeof(*out));
	if (len > WSMSG_MAX) {
		say(detail, dlen, "message too large");
		return COHORT_E_TOOBIG;
	}
	err = json_parse_object(buf, len, &o);
	if (err) {
		say(detail, dlen, err == COHORT_E_UTF8 ? "message is not valid UTF-8" : "message is not a JSON object");
		goto out;
	}
	err = json_get_str(o, "type", true, 64, &type, &tlen);
	if (err) {
		say(detail, dlen, "message needs a string \"type\"");
		err = COHORT_E_FIELD;
		goto out;
	}
	err = COHORT_E_INVAL;
	say(detail, dlen, "unknown message type");
	for (size_t i = 0; i < NROWS; i++) {
		if (strlen(wsmsg_rows[i].name) != tlen || memcmp(wsmsg_rows[i].name, type, tlen))
			continue;
		out->type = wsmsg_rows[i].type;
		say(detail, dlen, "");
		err = wsmsg_rows[i].parse ? wsmsg_rows[i].parse(o, out, detail, dlen) : 0;
		break;
	}
out:
	json_put(o);
	if (err) {
		char id[sizeof(out->id)];

		memcpy(id, out->id, sizeof(id));
		wsmsg_release(out);
		memcpy(out->id, id, sizeof(id));
	}
	return err;
}

void wsmsg_release(struct wsmsg *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nstreams; i++)
		free(m->streams[i]);
	free(m->streams);
	free(m->lens);
	free(m->after);
	free(m->path);
	free(m->client);
	json_put(m->payload);
	memset(m, 0, sizeof(*m));
}

struct json_object *wsmsg_take_payload(struct wsmsg *m)
{
	struct json_object *p = m->payload;

	m->payload = NULL;
	return p;
}

const char *wsmsg_type_name(enum wsmsg_type type)
{
	for (size_t i = 0; i < NROWS; i++)
		if (wsmsg_rows[i].type == type)
			return wsmsg_rows[i].name;
	return "?";
}
