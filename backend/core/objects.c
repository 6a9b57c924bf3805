/*
 * objects.c — URL dispatch and key validation shared by every backend; see
 * objects.h. The backends never validate keys themselves.
 */
#include "core/objects.h"
#include "core/err.h"
#include "core/path.h"
#include "core/strbuf.h"
#include "core/utf8.h"

#include <stdlib.h>
#include <string.h>

static const struct objects_ops *const backends[] = {
	&objects_dir_ops,
};

bool objects_key_valid(const char *key)
{
	if (!key || !path_is_canonical(key))
		return false;
	return strncmp(key, ".tmp", 4) != 0;
}

int objects_open(const char *url, struct objects **out)
{
	const char *colon = url ? strchr(url, ':') : NULL;
	struct objects *o;
	int rc;

	*out = NULL;
	if (!colon)
		return COHORT_E_CONFIG;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		size_t n = strlen(backends[i]->scheme);

		if ((size_t)(colon - url) != n || strncmp(url, backends[i]->scheme, n))
			continue;
		o = calloc(1, sizeof(*o));
		if (!o)
			return COHORT_E_NOMEM;
		o->ops = backends[i];
		rc = o->ops->open(o, colon + 1);
		if (rc) {
			free(o);
			return rc;
		}
		*out = o;
		return 0;
	}
	return COHORT_E_CONFIG;
}

void objects_free(struct objects *o)
{
	if (!o)
		return;
	o->ops->close(o);
	free(o);
}

int objects_put(struct objects *o, const char *key, const void *data, size_t len)
{
	if (!objects_key_valid(key))
		return COHORT_E_FIELD;
	return o->ops->put(o, key, data, len);
}

int objects_get(struct objects *o, const char *key, objects_sink_fn sink, void *ctx)
{
	if (!objects_key_valid(key))
		return COHORT_E_FIELD;
	return o->ops->get(o, key, sink, ctx);
}

static int to_strbuf(void *ctx, const void *data, size_t len)
{
	return strbuf_add(ctx, data, len);
}

int objects_get_buf(struct objects *o, const char *key, struct strbuf *sb)
{
	size_t before = sb->len;
	int rc = objects_get(o, key, to_strbuf, sb);

	if (rc) {
		sb->len = before;
		if (sb->buf)
			sb->buf[before] = '\0';
	}
	return rc;
}

int objects_delete(struct objects *o, const char *key)
{
	if (!objects_key_valid(key))
		return COHORT_E_FIELD;
	return o->ops->del(o, key);
}

int objects_exists(struct objects *o, const char *key, bool *exists)
{
	*exists = false;
	if (!objects_key_valid(key))
		return COHORT_E_FIELD;
	return o->ops->exists(o, key, exists);
}

int objects_list(struct objects *o, const char *prefix, objects_list_fn fn, void *ctx)
{
	size_t n = prefix ? strlen(prefix) : 0;

	if (!prefix || n > PATH_MAX_BYTES || !utf8_valid(prefix, n) || prefix[0] == '/')
		return COHORT_E_FIELD;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)prefix[i] < 0x20 || prefix[i] == '\\')
			return COHORT_E_FIELD;
	return o->ops->list(o, prefix, fn, ctx);
}
