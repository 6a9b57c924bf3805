/*
 * export.c — see export.h. Only one file's content is held at a time, and
 * libarchive's writer hands each compressed piece to the callback as it is
 * produced, so memory stays at one file plus libarchive's buffers.
 */
#include "core/export.h"
#include "core/err.h"
#include "core/strbuf.h"
#include "core/workspace.h"

#include <string.h>
#include <strings.h>

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && !strcasecmp(s + n - k, suffix);
}

bool export_format_for_name(const char *name, enum arch_format *out)
{
	if (!name)
		return false;
	if (ends_with(name, ".zip")) {
		*out = ARCH_ZIP;
		return true;
	}
	if (ends_with(name, ".tar.gz") || ends_with(name, ".tgz")) {
		*out = ARCH_TAR_GZ;
		return true;
	}
	return false;
}

int export_write(struct workspace *ws, const struct ws_list *l, enum arch_format fmt, arch_write_fn fn,
		 void *ctx, size_t *files)
{
	struct arch_writer *aw = NULL;
	struct strbuf content = STRBUF_INIT;
	size_t nfiles = 0;
	int err = arch_writer_new(fmt, fn, ctx, &aw);

	/* A file can be as large as the workspace allows. */
	strbuf_init(&content, (size_t)ws->limits.max_file);
	for (size_t i = 0; !err && i < l->n; i++) {
		struct ws_stat st;

		if (l->v[i].st.kind == WS_DIR) {
			err = arch_writer_add(aw, l->v[i].path, ARCH_DIR, NULL, 0);
			continue;
		}
		strbuf_reset(&content);
		err = workspace_read(ws, l->v[i].path, &content, &st);
		if (err == COHORT_E_NOTFOUND || err == COHORT_E_CONFLICT) { /* changed meanwhile */
			err = 0;
			continue;
		}
		if (!err)
			err = arch_writer_add(aw, l->v[i].path, ARCH_FILE, content.buf ? content.buf : "",
					      content.len);
		if (!err)
			nfiles++;
	}
	if (!err)
		err = arch_writer_finish(aw);
	arch_writer_free(aw);
	strbuf_release(&content);
	if (files)
		*files = nfiles;
	return err;
}
