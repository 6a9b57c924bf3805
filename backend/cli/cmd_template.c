#include "cli/cmd_template.h"
#include "cli/cli.h"
#include "core/err.h"
#include "core/fetch.h"
#include "core/lesson.h"
#include "core/objects.h"
#include "core/project.h"
#include "core/rconn.h"
#include "core/strbuf.h"
#include "core/template.h"
#include "core/workspace.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* "scheme://...": a URL to fetch; anything else is a file name. */
static bool looks_like_url(const char *s)
{
	const char *p = s;

	if (!isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	return p[0] == ':' && p[1] == '/' && p[2] == '/';
}

static int read_file(struct cli *c, const char *name, struct strbuf *sb)
{
	char chunk[65536];
	FILE *f = fopen(name, "rb");
	int err = 0;

	if (!f)
		return cli_fail(c, COHORT_E_IO, "cannot open %s: %s", name, strerror(errno));
	for (;;) {
		size_t n = fread(chunk, 1, sizeof(chunk), f);

		if (n && (err = strbuf_add(sb, chunk, n)))
			break;
		if (n < sizeof(chunk))
			break;
	}
	if (!err && ferror(f))
		err = COHORT_E_IO;
	fclose(f);
	if (err == COHORT_E_LIMIT)
		return cli_fail(c, err, "%s is larger than templates.max_upload (%ld bytes)", name,
				c->cfg.templates_max_upload);
	if (err)
		return cli_fail(c, err, "cannot read %s", name);
	return CLI_OK;
}

int cmd_template_import(struct cli *c, int argc, char **argv)
{
	const char *pos[2];
	char why[300] = "";
	struct strbuf sb = STRBUF_INIT;
	struct template_limits lim;
	struct template_info t;
	struct objects *o = NULL;
	struct lesson l;
	int64_t lesson_id;
	int rc, err;

	rc = cli_args(c, argc, argv, NULL, 0, pos, 2, 2);
	if (rc || (rc = cli_id(c, "lesson-id", pos[0], &lesson_id)))
		return rc;
	if (cli_lesson(c, lesson_id, &l))
		return CLI_FAIL;
	template_limits_from_config(&c->cfg, &lim);
	/* One byte over the limit is enough to know the file is too large. */
	strbuf_init(&sb, (size_t)lim.max_archive);
	if (looks_like_url(pos[1])) {
		struct fetch_opts fo = {
			.schemes = c->cfg.templates_url_schemes,
			.timeout_s = c->cfg.templates_fetch_timeout_s,
			.max_bytes = (size_t)lim.max_archive,
		};

		err = fetch_url(pos[1], &fo, &sb, why, sizeof(why));
		if (err) {
			rc = cli_fail(c, err, "%s", why);
			goto out;
		}
	} else if ((rc = read_file(c, pos[1], &sb))) {
		goto out;
	}
	err = objects_open(c->cfg.objects_url, &o);
	if (err) {
		rc = cli_fail(c, err, "cannot open the object store %s", c->cfg.objects_url);
		goto out;
	}
	err = template_store(c->db, o, lesson_id, sb.buf ? sb.buf : "", sb.len, &lim, &t, why, sizeof(why));
	if (err) {
		rc = cli_fail(c, err, "%s", why[0] ? why : cli_why(c, err));
		goto out;
	}
	jsonw_obj(&c->out, NULL);
	jsonw_int(&c->out, "lesson_id", lesson_id);
	jsonw_obj(&c->out, "template");
	jsonw_str(&c->out, "ref", t.ref);
	jsonw_str(&c->out, "format", t.format);
	jsonw_int(&c->out, "size", (int64_t)t.size);
	jsonw_int(&c->out, "entries", (int64_t)t.entries);
	jsonw_int(&c->out, "files", (int64_t)t.files);
	jsonw_int(&c->out, "bytes", (int64_t)t.bytes);
	jsonw_str(&c->out, "sha256", t.sha256);
	jsonw_int(&c->out, "uploaded_at", t.uploaded_at);
	jsonw_end(&c->out);
	jsonw_end(&c->out);
	rc = CLI_OK;
out:
	objects_free(o);
	strbuf_release(&sb);
	return rc;
}

int cli_template_apply(struct cli *c, struct rconn *rc, const struct project *p)
{
	struct ws_limits wl = {
		.max_file = (uint64_t)c->cfg.files_max_file,
		.max_project = (uint64_t)c->cfg.files_max_project,
		.max_entries = (uint64_t)c->cfg.files_max_entries,
	};
	struct template_limits tl;
	struct template_applied ta;
	struct workspace ws;
	char why[256] = "";
	int err;

	template_limits_from_config(&c->cfg, &tl);
	workspace_init(&ws, rc, p->id, &wl);
	err = template_apply(c->db, c->cfg.objects_url, &ws, p->lesson_id, &tl, &ta, why, sizeof(why));
	if (err)
		return cli_fail(c, err, "cannot import the lesson's template: %s",
				why[0] ? why : err == COHORT_E_REDIS ? rconn_last_error(rc) : cli_why(c, err));
	jsonw_obj(&c->out, "template");
	jsonw_bool(&c->out, "imported", ta.imported);
	jsonw_int(&c->out, "entries", (int64_t)ta.entries);
	jsonw_end(&c->out);
	return CLI_OK;
}
