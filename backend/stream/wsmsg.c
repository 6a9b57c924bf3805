#include "stream/wsmsg.h"
#include "core/err.h"
#include "core/json.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int wsmsg_parse_fn(struct json_object *o, struct wsmsg *m, char *detail, size_t dlen);

static wsmsg_parse_fn parse_subscribe;

/* The message types: name on the wire, enum, field parser (NULL: no fields). */
static const struct wsmsg_row {
	const char *name;
	enum wsmsg_type type;
	wsmsg_parse_fn *parse;
} wsmsg_rows[] = {
	{ "subscribe", WSMSG_SUBSCRIBE, parse_subscribe },
	{ "ping", WSMSG_PING, NULL },
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
	if (err)
		wsmsg_release(out);
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
	memset(m, 0, sizeof(*m));
}

const char *wsmsg_type_name(enum wsmsg_type type)
{
	for (size_t i = 0; i < NROWS; i++)
		if (wsmsg_rows[i].type == type)
			return wsmsg_rows[i].name;
	return "?";
}
