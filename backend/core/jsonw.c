#include "core/jsonw.h"
#include "core/err.h"

#include <string.h>

void jsonw_init(struct jsonw *w)
{
	memset(w, 0, sizeof(*w));
	strbuf_init(&w->sb, JSONW_MAX_BYTES);
}

void jsonw_release(struct jsonw *w)
{
	if (!w)
		return;
	strbuf_release(&w->sb);
}

/* Writes the separator and the key that precede any value. */
static int item(struct jsonw *w, const char *key)
{
	int err = 0;

	if (w->err)
		return w->err;
	if (w->depth == 0) {
		BUG_ON(key);
		if (w->sb.len) /* one top-level value only */
			return w->err = COHORT_E_INTERNAL;
		return 0;
	}
	BUG_ON((w->open[w->depth - 1] == '{') != (key != NULL));
	if (w->has_items[w->depth - 1])
		err = strbuf_addch(&w->sb, ',');
	w->has_items[w->depth - 1] = true;
	if (!err && key) {
		err = strbuf_add_json_str(&w->sb, key, strlen(key));
		if (!err)
			err = strbuf_addch(&w->sb, ':');
	}
	return w->err = err;
}

static void open_level(struct jsonw *w, const char *key, char kind)
{
	if (item(w, key))
		return;
	if (w->depth >= JSONW_MAX_DEPTH) {
		w->err = COHORT_E_LIMIT;
		return;
	}
	w->err = strbuf_addch(&w->sb, kind);
	w->open[w->depth] = kind;
	w->has_items[w->depth] = false;
	w->depth++;
}

void jsonw_obj(struct jsonw *w, const char *key)
{
	open_level(w, key, '{');
}

void jsonw_arr(struct jsonw *w, const char *key)
{
	open_level(w, key, '[');
}

void jsonw_end(struct jsonw *w)
{
	if (w->err)
		return;
	if (w->depth == 0) {
		w->err = COHORT_E_INTERNAL;
		return;
	}
	w->depth--;
	w->err = strbuf_addch(&w->sb, w->open[w->depth] == '{' ? '}' : ']');
}

void jsonw_strn(struct jsonw *w, const char *key, const char *s, size_t len)
{
	if (!s) {
		jsonw_null(w, key);
		return;
	}
	if (!item(w, key))
		w->err = strbuf_add_json_str(&w->sb, s, len);
}

void jsonw_str(struct jsonw *w, const char *key, const char *s)
{
	jsonw_strn(w, key, s, s ? strlen(s) : 0);
}

void jsonw_int(struct jsonw *w, const char *key, int64_t v)
{
	if (!item(w, key))
		w->err = strbuf_addf(&w->sb, "%lld", (long long)v);
}

void jsonw_bool(struct jsonw *w, const char *key, bool v)
{
	if (!item(w, key))
		w->err = strbuf_adds(&w->sb, v ? "true" : "false");
}

void jsonw_null(struct jsonw *w, const char *key)
{
	if (!item(w, key))
		w->err = strbuf_adds(&w->sb, "null");
}

void jsonw_id(struct jsonw *w, const char *key, int64_t id)
{
	if (id)
		jsonw_int(w, key, id);
	else
		jsonw_null(w, key);
}

int jsonw_finish(struct jsonw *w)
{
	if (!w->err && (w->depth != 0 || w->sb.len == 0))
		w->err = COHORT_E_INTERNAL;
	return w->err;
}

void jsonw_raw(struct jsonw *w, const char *key, const char *json, size_t len)
{
	if (item(w, key))
		return;
	w->err = strbuf_add(&w->sb, json, len);
}
