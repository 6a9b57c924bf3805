#include "stream/evbuf.h"
#include "core/err.h"
#include "core/event.h"
#include "core/json.h"
#include "core/strbuf.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

static int evbuf_alloc(struct evbuf **out, const struct stream_id *id, size_t len, size_t klen)
{
	struct evbuf *ev;

	if (len > EVBUF_MAX)
		return COHORT_E_LIMIT;
	ev = malloc(sizeof(*ev) + len + 1 + klen);
	if (!ev)
		return COHORT_E_NOMEM;
	ev->refs = 1;
	ev->len = (uint32_t)len;
	ev->ckey_len = (uint32_t)klen;
	ev->id = *id;
	ev->json[len] = '\0';
	*out = ev;
	return 0;
}

static int evbuf_new_key(struct evbuf **out, const struct stream_id *id, const char *json, size_t len,
			 const char *key, size_t klen)
{
	int err = evbuf_alloc(out, id, len, klen);

	if (err)
		return err;
	memcpy((*out)->json, json, len);
	if (klen)
		memcpy((*out)->json + len + 1, key, klen);
	return 0;
}

int evbuf_new(struct evbuf **out, const struct stream_id *id, const char *json, size_t len)
{
	return evbuf_new_key(out, id, json, len, NULL, 0);
}

/* The coalescing key of a stored cursor envelope: "<actor.user>\0<file>"
 * into key (empty when the event is not a cursor of a user in a file).
 * Producers write "type" first (event_encode_stored), so every other event
 * costs one prefix compare; a cursor costs one parse per process. */
#define CURSOR_PREFIX "{\"type\":\"cursor\""

static void cursor_key(const char *stored, size_t len, struct strbuf *key)
{
	struct json_object *o = NULL, *actor = NULL;
	const char *file, *user;
	size_t flen, ulen;

	if (len < sizeof(CURSOR_PREFIX) - 1 || memcmp(stored, CURSOR_PREFIX, sizeof(CURSOR_PREFIX) - 1))
		return;
	if (json_parse_object(stored, len, &o))
		return;
	if (!json_get_str(o, "file", true, EVBUF_KEY_MAX, &file, &flen) &&
	    json_object_object_get_ex(o, "actor", &actor) && json_object_is_type(actor, json_type_object) &&
	    !json_get_str(actor, "user", true, EVBUF_KEY_MAX, &user, &ulen)) {
		strbuf_add(key, user, ulen);
		strbuf_addch(key, '\0');
		strbuf_add(key, file, flen);
	}
	json_put(o);
}

/* The finalizing scratch buffer is reused from event to event (the loop is
 * single-threaded), so building an event costs one exact-size allocation. */
static struct strbuf scratch = STRBUF_INIT;

int evbuf_finalize(struct evbuf **out, const struct stream_id *id, const char *stored, size_t len)
{
	char idtext[STREAM_ID_STRMAX];
	struct strbuf key = STRBUF_INIT;
	int err;

	*out = NULL;
	if (len > EVBUF_MAX)
		return COHORT_E_LIMIT;
	stream_id_format(id, idtext, sizeof(idtext));
	scratch.max = EVBUF_MAX + 64;
	strbuf_reset(&scratch);
	err = event_finalize(&scratch, idtext, stored, len);
	if (err)
		return err;
	for (size_t i = 0; i < scratch.len; i++)
		if (scratch.buf[i] == '\n' || scratch.buf[i] == '\r')
			scratch.buf[i] = ' ';
	cursor_key(stored, len, &key);
	err = evbuf_new_key(out, id, scratch.buf, scratch.len, key.buf, key.len);
	strbuf_release(&key);
	if (scratch.alloc > 64 * 1024)
		strbuf_release(&scratch); /* do not keep a rare huge event's buffer */
	return err;
}

void evbuf_cleanup(void)
{
	strbuf_release(&scratch);
}

struct evbuf *evbuf_ref(struct evbuf *ev)
{
	ev->refs++;
	return ev;
}

void evbuf_unref(struct evbuf *ev)
{
	if (ev && --ev->refs == 0)
		free(ev);
}
