#include "stream/evbuf.h"
#include "core/err.h"
#include "core/event.h"
#include "core/strbuf.h"

#include <stdlib.h>
#include <string.h>

static int evbuf_alloc(struct evbuf **out, const struct stream_id *id, size_t len)
{
	struct evbuf *ev;

	if (len > EVBUF_MAX)
		return COHORT_E_LIMIT;
	ev = malloc(sizeof(*ev) + len + 1);
	if (!ev)
		return COHORT_E_NOMEM;
	ev->refs = 1;
	ev->len = (uint32_t)len;
	ev->id = *id;
	ev->json[len] = '\0';
	*out = ev;
	return 0;
}

int evbuf_new(struct evbuf **out, const struct stream_id *id, const char *json, size_t len)
{
	int err = evbuf_alloc(out, id, len);

	if (!err)
		memcpy((*out)->json, json, len);
	return err;
}

/* The finalizing scratch buffer is reused from event to event (the loop is
 * single-threaded), so building an event costs one exact-size allocation. */
static struct strbuf scratch = STRBUF_INIT;

int evbuf_finalize(struct evbuf **out, const struct stream_id *id, const char *stored, size_t len)
{
	char idtext[STREAM_ID_STRMAX];
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
	err = evbuf_new(out, id, scratch.buf, scratch.len);
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
