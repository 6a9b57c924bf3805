/*
 * template.c — see template.h.
 *
 * DESIGN: the archive is validated whole before any object is written, and
 * the objects are written before the lesson points at them, so a reader that
 * follows template_ref always finds a complete archive and its summary. The
 * switch itself is one SQL transaction that also returns the ref it
 * replaced (lesson_set_template), so two uploads racing each delete exactly
 * the object they displaced and nothing leaks or vanishes under a reader.
 * A first access that loses the race with a replacement (the object it read
 * the ref of is deleted before it loads it) reads the lesson again and
 * imports the new template instead.
 */
#include "core/template.h"
#include "core/config.h"
#include "core/err.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "core/objects.h"
#include "core/rconn.h"
#include "core/strbuf.h"

#include <hiredis/hiredis.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define APPLY_ATTEMPTS 3
#define META_MAX 4096

static void say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void template_limits_from_config(const struct cohort_config *cfg, struct template_limits *out)
{
	out->arch.max_entries = (size_t)cfg->templates_max_entries;
	out->arch.max_file = (uint64_t)cfg->templates_max_file;
	out->arch.max_total = (uint64_t)cfg->templates_max_total;
	out->arch.max_ratio = (unsigned)cfg->templates_max_ratio;
	out->max_archive = (uint64_t)cfg->templates_max_upload;
}

/* The format of an archive from its first bytes (arch_read accepted it). */
static const char *sniff_format(const unsigned char *p, size_t n)
{
	if (n >= 4 && p[0] == 'P' && p[1] == 'K' && (p[2] == 3 || p[2] == 5 || p[2] == 7))
		return "zip";
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return "tar.gz";
	if (n >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6))
		return "tar.xz";
	if (n >= 3 && !memcmp(p, "BZh", 3))
		return "tar.bz2";
	if (n >= 4 && !memcmp(p, "\x28\xb5\x2f\xfd", 4))
		return "tar.zst";
	if (n >= 262 && !memcmp(p + 257, "ustar", 5))
		return "tar";
	return "archive";
}

const char *template_content_type(const char *format)
{
	static const struct {
		const char *format, *ctype;
	} types[] = {
		{ "zip", "application/zip" },      { "tar", "application/x-tar" },
		{ "tar.gz", "application/gzip" },  { "tar.xz", "application/x-xz" },
		{ "tar.bz2", "application/x-bzip2" }, { "tar.zst", "application/zstd" },
	};

	for (size_t i = 0; format && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(format, types[i].format))
			return types[i].ctype;
	return "application/octet-stream";
}

static int meta_key(const char *ref, char *out, size_t len)
{
	int n = snprintf(out, len, "%s.json", ref);

	return n < 0 || (size_t)n >= len ? COHORT_E_LIMIT : 0;
}

static int meta_encode(const struct template_info *t, struct jsonw *w)
{
	jsonw_obj(w, NULL);
	jsonw_str(w, "ref", t->ref);
	jsonw_str(w, "format", t->format);
	jsonw_str(w, "sha256", t->sha256);
	jsonw_int(w, "size", (int64_t)t->size);
	jsonw_int(w, "entries", (int64_t)t->entries);
	jsonw_int(w, "files", (int64_t)t->files);
	jsonw_int(w, "bytes", (int64_t)t->bytes);
	jsonw_int(w, "uploaded_at", t->uploaded_at);
	jsonw_end(w);
	return jsonw_finish(w);
}

static int meta_decode(const char *buf, size_t len, const char *ref, struct template_info *t)
{
	struct json_object *root = NULL;
	const char *s;
	size_t n;
	long long v[5];
	static const char *const ints[] = { "size", "entries", "files", "bytes", "uploaded_at" };
	int err = json_parse_object(buf, len, &root);

	memset(t, 0, sizeof(*t));
	snprintf(t->ref, sizeof(t->ref), "%s", ref);
	if (!err && !(err = json_get_str(root, "format", true, TEMPLATE_FORMAT_MAX, &s, &n)))
		memcpy(t->format, s, n + 1);
	if (!err && !(err = json_get_str(root, "sha256", true, 64, &s, &n)))
		memcpy(t->sha256, s, n + 1);
	for (size_t i = 0; !err && i < 5; i++)
		err = json_get_int(root, ints[i], true, 0, INT64_MAX, &v[i]);
	json_put(root);
	if (err)
		return COHORT_E_INTERNAL; /* we wrote it: anything else is damage */
	t->size = (uint64_t)v[0];
	t->entries = (uint64_t)v[1];
	t->files = (uint64_t)v[2];
	t->bytes = (uint64_t)v[3];
	t->uploaded_at = v[4];
	return 0;
}

static void summarize(const struct arch_list *l, struct template_info *t)
{
	t->entries = l->n;
	t->files = t->bytes = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].kind == ARCH_FILE) {
			t->files++;
			t->bytes += l->v[i].len;
		}
}

static void delete_quietly(struct objects *o, const char *ref)
{
	char mk[TEMPLATE_REF_MAX + 8];
	int err = objects_delete(o, ref);

	if (err && err != COHORT_E_NOTFOUND)
		log_warn("template_delete_failed", LF_S("ref", ref), LF_S("error", cohort_errcode(err)));
	if (!meta_key(ref, mk, sizeof(mk)) && (err = objects_delete(o, mk)) && err != COHORT_E_NOTFOUND)
		log_warn("template_delete_failed", LF_S("ref", mk), LF_S("error", cohort_errcode(err)));
}

int template_store(struct db *db, struct objects *o, int64_t lesson_id, const void *data, size_t len,
		   const struct template_limits *lim, struct template_info *out, char *err, size_t errlen)
{
	unsigned char digest[crypto_hash_sha256_BYTES], rnd[4];
	char old[TEMPLATE_REF_MAX + 1], mk[TEMPLATE_REF_MAX + 8];
	struct arch_list l = { 0 };
	struct jsonw w;
	struct lesson les;
	bool stored = false;
	int rc;

	memset(out, 0, sizeof(*out));
	jsonw_init(&w);
	if (errlen)
		err[0] = '\0';
	if ((uint64_t)len > lim->max_archive) {
		say(err, errlen, "the archive is larger than %llu bytes", (unsigned long long)lim->max_archive);
		rc = COHORT_E_LIMIT;
		goto out;
	}
	/* A missing lesson is answered before the archive is even read. */
	if ((rc = lesson_get(db, lesson_id, &les)))
		goto out;
	if ((rc = arch_read(data, len, &lim->arch, &l, err, errlen)))
		goto out;
	summarize(&l, out);
	crypto_hash_sha256(digest, data, len);
	sodium_bin2hex(out->sha256, sizeof(out->sha256), digest, sizeof(digest));
	randombytes_buf(rnd, sizeof(rnd));
	snprintf(out->format, sizeof(out->format), "%s", sniff_format(data, len));
	snprintf(out->ref, sizeof(out->ref), "templates/lesson-%lld-%.16s-%02x%02x%02x%02x.%s",
		 (long long)lesson_id, out->sha256, rnd[0], rnd[1], rnd[2], rnd[3], out->format);
	out->size = len;
	out->uploaded_at = (int64_t)time(NULL);
	if ((rc = meta_encode(out, &w)) || (rc = meta_key(out->ref, mk, sizeof(mk))))
		goto out;
	if ((rc = objects_put(o, out->ref, data, len)))
		goto out;
	stored = true;
	if ((rc = objects_put(o, mk, w.sb.buf, w.sb.len)))
		goto out;
	if ((rc = lesson_set_template(db, lesson_id, out->ref, old)))
		goto out;
	stored = false; /* the lesson owns it now */
	if (old[0] && strcmp(old, out->ref))
		delete_quietly(o, old);
out:
	if (stored)
		delete_quietly(o, out->ref);
	arch_list_release(&l);
	jsonw_release(&w);
	return rc;
}

static int load(struct objects *o, const char *ref, uint64_t max, struct strbuf *sb)
{
	strbuf_init(sb, (size_t)max);
	return objects_get_buf(o, ref, sb);
}

int template_info_get(struct objects *o, const char *ref, struct template_info *out)
{
	char mk[TEMPLATE_REF_MAX + 8];
	struct strbuf sb = STRBUF_INIT;
	int rc = meta_key(ref, mk, sizeof(mk));

	if (!rc)
		rc = load(o, mk, META_MAX, &sb);
	if (!rc)
		rc = meta_decode(sb.buf ? sb.buf : "", sb.len, ref, out);
	strbuf_release(&sb);
	return rc;
}

void template_drop(struct objects *o, const char *ref)
{
	if (o && ref && *ref)
		delete_quietly(o, ref);
}

int template_remove(struct db *db, struct objects *o, int64_t lesson_id)
{
	char old[TEMPLATE_REF_MAX + 1];
	int rc = lesson_set_template(db, lesson_id, NULL, old);

	if (rc)
		return rc;
	if (!old[0])
		return COHORT_E_NOTFOUND;
	delete_quietly(o, old);
	return 0;
}

/*
 * Whether the project was imported into (the "import" field workspace_import
 * sets in the project's info hash) and how many entries it has, in one read:
 * cheap enough for every open of a project, so the archive is loaded only
 * when there is something to do.
 */
static int import_state(struct workspace *ws, bool *imported, uint64_t *entries)
{
	const char *argv[4] = { "HMGET", ws->k_info, "import", "entries" };
	redisReply *r = NULL;
	unsigned long long v = 0;
	int rc;

	*imported = false;
	*entries = 0;
	if ((rc = rconn_cmd(ws->rc, &r, 4, argv, NULL)))
		return rc;
	rc = r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? 0 : COHORT_E_REDIS;
	if (!rc)
		*imported = r->element[0]->type == REDIS_REPLY_STRING;
	if (!rc && r->element[1]->type == REDIS_REPLY_STRING) {
		if (sscanf(r->element[1]->str, "%llu", &v) != 1)
			rc = COHORT_E_REDIS;
		*entries = v;
	}
	rconn_reply_free(r);
	return rc;
}

/* arch_read's list as workspace import items (borrowing its strings). */
static int to_items(const struct arch_list *l, struct ws_item **out)
{
	struct ws_item *items = calloc(l->n ? l->n : 1, sizeof(*items));

	*out = items;
	if (!items)
		return COHORT_E_NOMEM;
	for (size_t i = 0; i < l->n; i++) {
		items[i].path = l->v[i].path;
		items[i].kind = l->v[i].kind == ARCH_DIR ? WS_DIR : WS_FILE;
		items[i].data = l->v[i].data;
		items[i].len = l->v[i].len;
	}
	return 0;
}

/* One attempt; 1 when the template vanished under us (read the lesson again). */
static int apply_once(struct db *db, const char *objects_url, struct objects **o, struct workspace *ws,
		      int64_t lesson_id, const struct template_limits *lim, struct template_applied *out,
		      char *err, size_t errlen)
{
	char tag[TEMPLATE_REF_MAX + 48];
	struct strbuf sb = STRBUF_INIT;
	struct arch_list l = { 0 };
	struct ws_item *items = NULL;
	struct lesson les;
	uint64_t entries = 0;
	bool done = false;
	int rc = lesson_get(db, lesson_id, &les);

	if (rc || !les.template_ref[0])
		goto out;
	if ((rc = import_state(ws, &done, &entries)))
		goto out;
	if (done || entries > 0)
		goto out; /* imported before, or the owner has work there already */
	if (!*o && (rc = objects_open(objects_url, o)))
		goto out;
	rc = load(*o, les.template_ref, lim->max_archive, &sb);
	if (rc == COHORT_E_NOTFOUND) {
		rc = 1;
		goto out;
	}
	if (rc)
		goto out;
	rc = arch_read(sb.buf ? sb.buf : "", sb.len, &lim->arch, &l, err, errlen);
	if (!rc)
		rc = to_items(&l, &items);
	snprintf(tag, sizeof(tag), "lesson:%lld@%s", (long long)lesson_id, les.template_ref);
	if (!rc)
		rc = workspace_import(ws, items, l.n, tag, &out->entries);
	if (!rc) {
		snprintf(out->ref, sizeof(out->ref), "%s", les.template_ref);
		out->imported = out->entries > 0;
		if (out->imported)
			log_info("template_imported", LF_I("lesson", lesson_id), LF_I("project", ws->project),
				 LF_S("ref", les.template_ref), LF_I("entries", (long long)out->entries));
	} else if (rc == COHORT_E_FIELD || rc == COHORT_E_LIMIT || rc == COHORT_E_MEDIATYPE ||
		   rc == COHORT_E_EXISTS || rc == COHORT_E_CONFLICT || rc == COHORT_E_NOTFOUND) {
		/* The template does not fit this project (or no longer passes the
		 * limits): the project stays as it is and opens anyway. */
		if (errlen && !err[0] && ws->reason)
			say(err, errlen, "%s", ws->reason);
		log_warn("template_import_skipped", LF_I("lesson", lesson_id), LF_I("project", ws->project),
			 LF_S("ref", les.template_ref), LF_S("code", cohort_errcode(rc)),
			 LF_S("detail", errlen ? err : NULL));
		rc = 0;
	}
out:
	free(items);
	arch_list_release(&l);
	strbuf_release(&sb);
	return rc;
}

int template_apply(struct db *db, const char *objects_url, struct workspace *ws, int64_t lesson_id,
		   const struct template_limits *lim, struct template_applied *out, char *err,
		   size_t errlen)
{
	struct objects *o = NULL;
	int rc = 1;

	memset(out, 0, sizeof(*out));
	if (errlen)
		err[0] = '\0';
	for (int i = 0; i < APPLY_ATTEMPTS && rc == 1; i++)
		rc = apply_once(db, objects_url, &o, ws, lesson_id, lim, out, err, errlen);
	objects_free(o);
	if (rc == 1) {
		say(err, errlen, "the lesson's template kept changing while it was being read");
		rc = COHORT_E_CONFLICT;
	}
	return rc;
}
