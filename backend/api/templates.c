#include "api/templates.h"
#include "api/query.h"
#include "api/request.h"
#include "core/config.h"
#include "core/err.h"
#include "core/fetch.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "core/objects.h"
#include "core/strbuf.h"
#include "core/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Media types an archive body may be sent as (libarchive reads the bytes,
 * whatever the label says). */
static const char *const archive_types[] = {
	"application/zip",   "application/x-zip-compressed", "application/x-tar", "application/gzip",
	"application/x-gzip", "application/x-xz",            "application/octet-stream",
};

static bool media_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, type, n))
		return false;
	ct += n;
	return *ct == '\0' || *ct == ';' || *ct == ' ' || *ct == '\t';
}

static bool is_archive_type(const char *ct)
{
	for (size_t i = 0; i < sizeof(archive_types) / sizeof(archive_types[0]); i++)
		if (media_is(ct, archive_types[i]))
			return true;
	return false;
}

static int open_store(struct request *req, struct objects **o)
{
	int err = objects_open(req->cfg->objects_url, o);

	if (err)
		log_error("objects_open_failed", LF_S("rid", req->id), LF_S("url", req->cfg->objects_url),
			  LF_S("error", cohort_errcode(err)));
	return err;
}

static void render_info(struct jsonw *w, const struct template_info *t)
{
	jsonw_obj(w, "template");
	jsonw_str(w, "ref", t->ref);
	jsonw_str(w, "format", t->format);
	jsonw_int(w, "size", (int64_t)t->size);
	jsonw_int(w, "entries", (int64_t)t->entries);
	jsonw_int(w, "files", (int64_t)t->files);
	jsonw_int(w, "bytes", (int64_t)t->bytes);
	jsonw_str(w, "sha256", t->sha256);
	jsonw_int(w, "uploaded_at", t->uploaded_at);
	jsonw_end(w);
}

static int reply_info(struct request *req, struct response *res, const struct template_info *t)
{
	struct jsonw w;
	int err;

	jsonw_init(&w);
	jsonw_obj(&w, NULL);
	jsonw_int(&w, "lesson_id", req->lesson.id);
	render_info(&w, t);
	jsonw_end(&w);
	err = response_jsonw(res, 200, &w);
	jsonw_release(&w);
	return err;
}

/* {"url": "..."}: the archive fetched into sb. */
static int fetch_body(struct request *req, struct response *res, struct strbuf *sb)
{
	static const char *const keys[] = { "url", NULL };
	struct json_object *root = NULL;
	const char *url = NULL, *unknown;
	char why[256] = "";
	size_t n = 0;
	struct fetch_opts fo = {
		.schemes = req->cfg->templates_url_schemes,
		.timeout_s = req->cfg->templates_fetch_timeout_s,
		.max_bytes = (size_t)req->cfg->templates_max_upload,
	};
	int err = request_json(req, res, &root);

	if (err)
		return err;
	err = json_only_keys(root, keys, &unknown);
	if (err)
		response_detail(res, "unknown field '%s'; send {\"url\": \"...\"} or the archive itself", unknown);
	if (!err && (err = json_get_str(root, "url", true, FETCH_URL_MAX, &url, &n)) != 0)
		response_detail(res, "url: required, a string of at most %d bytes", FETCH_URL_MAX);
	if (!err) {
		err = fetch_url(url, &fo, sb, why, sizeof(why));
		if (err)
			response_detail(res, "%s", why);
	}
	json_put(root);
	return err;
}

int template_put(struct request *req, struct response *res)
{
	struct strbuf fetched = STRBUF_INIT;
	struct template_limits lim;
	struct template_info t;
	struct objects *o = NULL;
	const char *body = NULL;
	size_t len = 0;
	char why[300] = "";
	int err = 0;

	template_limits_from_config(req->cfg, &lim);
	strbuf_init(&fetched, (size_t)lim.max_archive);
	if (req->content_type && request_is_json(req)) {
		err = fetch_body(req, res, &fetched);
		body = fetched.buf ? fetched.buf : "";
		len = fetched.len;
	} else if (req->content_type && is_archive_type(req->content_type)) {
		err = request_body(req, &body, &len);
		if (err == COHORT_E_TOOBIG)
			response_detail(res, "the archive exceeds templates.max_upload (%ld bytes)",
					req->cfg->templates_max_upload);
		else if (err == COHORT_E_INVAL)
			response_detail(res, "the body is shorter than its Content-Length");
	} else {
		response_detail(res, "send the archive as application/zip, application/x-tar, application/gzip, "
				     "application/x-xz or application/octet-stream, or {\"url\": \"...\"} as "
				     "application/json");
		err = COHORT_E_MEDIATYPE;
	}
	if (!err)
		err = open_store(req, &o);
	if (!err) {
		err = template_store(req->db, o, req->lesson.id, body, len, &lim, &t, why, sizeof(why));
		if (err && why[0])
			response_detail(res, "%s", why);
	}
	if (!err) {
		log_info("template_stored", LF_S("rid", req->id), LF_I("lesson", req->lesson.id),
			 LF_S("ref", t.ref), LF_I("size", (long long)t.size), LF_I("entries", (long long)t.entries));
		err = reply_info(req, res, &t);
	}
	objects_free(o);
	strbuf_release(&fetched);
	return err;
}

static bool want_download(struct request *req)
{
	const struct query *q;
	const char *v;

	if (request_query(req, &q))
		return false;
	v = query_get(q, "download");
	return v && (!strcmp(v, "1") || !strcmp(v, "true"));
}

struct download {
	struct objects *o;
	char ref[TEMPLATE_REF_MAX + 1];
};

static void download_free(void *ctx)
{
	struct download *d = ctx;

	if (!d)
		return;
	objects_free(d->o);
	free(d);
}

static int download_stream(void *ctx, response_write_fn write, void *out)
{
	struct download *d = ctx;

	return objects_get(d->o, d->ref, write, out);
}

int template_get(struct request *req, struct response *res)
{
	struct template_info t;
	struct objects *o = NULL;
	struct download *d;
	char disp[128];
	int err;

	if (!req->lesson.template_ref[0]) {
		response_detail(res, "lesson %lld has no template", (long long)req->lesson.id);
		return COHORT_E_NOTFOUND;
	}
	err = open_store(req, &o);
	if (!err)
		err = template_info_get(o, req->lesson.template_ref, &t);
	if (err == COHORT_E_NOTFOUND)
		response_detail(res, "lesson %lld has no template", (long long)req->lesson.id);
	if (err || !want_download(req)) {
		if (!err)
			err = reply_info(req, res, &t);
		objects_free(o);
		return err;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		objects_free(o);
		return COHORT_E_NOMEM;
	}
	d->o = o;
	snprintf(d->ref, sizeof(d->ref), "%s", t.ref);
	snprintf(disp, sizeof(disp), "attachment; filename=\"lesson-%lld-template.%s\"", (long long)req->lesson.id,
		 t.format);
	err = response_header(res, "Content-Disposition", disp);
	if (err) {
		download_free(d);
		return err;
	}
	res->status = 200;
	res->content_type = template_content_type(t.format);
	res->stream = download_stream;
	res->stream_ctx = d;
	res->stream_free = download_free;
	return 0;
}

int template_delete(struct request *req, struct response *res)
{
	struct objects *o = NULL;
	int err = open_store(req, &o);

	if (!err)
		err = template_remove(req->db, o, req->lesson.id);
	if (err == COHORT_E_NOTFOUND)
		response_detail(res, "lesson %lld has no template", (long long)req->lesson.id);
	objects_free(o);
	if (!err) {
		log_info("template_removed", LF_S("rid", req->id), LF_I("lesson", req->lesson.id));
		res->status = 204;
	}
	return err;
}
