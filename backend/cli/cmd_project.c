#include "cli/cmd_project.h"
#include "cli/cli.h"
#include "cli/cmd_template.h"
#include "core/archive.h"
#include "core/export.h"
#include "core/rconn.h"
#include "core/workspace.h"
#include "core/render.h"
#include "core/course.h"
#include "core/err.h"
#include "core/lesson.h"
#include "core/project.h"
#include "core/user.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_project_ensure(struct cli *c, int argc, char **argv)
{
	const char *pos[2];
	struct participant owner;
	struct project p;
	struct lesson l;
	int64_t lesson_id, participant_id;
	int rc, err;

	rc = cli_args(c, argc, argv, NULL, 0, pos, 2, 2);
	if (rc || (rc = cli_id(c, "lesson-id", pos[0], &lesson_id)) ||
	    (rc = cli_id(c, "participant-id", pos[1], &participant_id)))
		return rc;
	if (cli_lesson(c, lesson_id, &l) || cli_participant(c, participant_id, &owner))
		return CLI_FAIL;
	if (owner.course_id != l.course_id)
		return cli_fail(c, COHORT_E_NOTMEMBER, "participant %lld is not in the course of lesson %lld",
				(long long)participant_id, (long long)lesson_id);
	err = project_ensure(c->db, lesson_id, participant_id, &p);
	if (err)
		return cli_fail(c, err, "cannot open the project: %s", cli_why(c, err));
	jsonw_obj(&c->out, NULL);
	render_project(&c->out, "project", &p);
	/* The first access gets the lesson's template, as over REST. */
	if (l.template_ref[0]) {
		struct rconn *rc2 = rconn_new(&c->cfg);

		rc = rc2 ? cli_template_apply(c, rc2, &p) : cli_fail(c, COHORT_E_NOMEM, NULL);
		rconn_free(rc2);
		if (rc)
			return rc;
	}
	jsonw_end(&c->out);
	return CLI_OK;
}

static int write_fd(void *ctx, const void *data, size_t len)
{
	int fd = *(int *)ctx;
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return COHORT_E_IO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* project-export <project-id> <file>: the same archive as GET .../archive,
 * written to a temporary file next to <file> and renamed over it at the end
 * (a failed export leaves no partial file). */
int cmd_project_export(struct cli *c, int argc, char **argv)
{
	const char *pos[2];
	char tmp[4096];
	struct ws_limits wl = {
		.max_file = (uint64_t)c->cfg.files_max_file,
		.max_project = (uint64_t)c->cfg.files_max_project,
		.max_entries = (uint64_t)c->cfg.files_max_entries,
	};
	struct ws_list l = { 0 };
	struct workspace ws;
	struct rconn *redis = NULL;
	enum arch_format fmt;
	struct project p;
	int64_t project_id;
	size_t files = 0;
	int rc, err, fd = -1, n;

	rc = cli_args(c, argc, argv, NULL, 0, pos, 2, 2);
	if (rc || (rc = cli_id(c, "project-id", pos[0], &project_id)))
		return rc;
	if (!export_format_for_name(pos[1], &fmt))
		return cli_usage(c, "the file name must end in .zip, .tar.gz or .tgz");
	if (cli_project(c, project_id, &p))
		return CLI_FAIL;
	n = snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", pos[1]);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return cli_usage(c, "the file name is too long");
	redis = rconn_new(&c->cfg);
	if (!redis)
		return cli_fail(c, COHORT_E_NOMEM, NULL);
	workspace_init(&ws, redis, project_id, &wl);
	err = workspace_list(&ws, "", true, &l);
	if (err) {
		rc = cli_fail(c, err, "cannot list the project: %s",
			      err == COHORT_E_REDIS ? rconn_last_error(redis) : cohort_strerror(err));
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		tmp[0] = '\0';
		rc = cli_fail(c, COHORT_E_IO, "cannot create a file next to %s: %s", pos[1], strerror(errno));
		goto out;
	}
	err = export_write(&ws, &l, fmt, write_fd, &fd, &files);
	if (!err && (fsync(fd) || close(fd)))
		err = COHORT_E_IO;
	else if (err)
		close(fd);
	fd = -1;
	if (!err && rename(tmp, pos[1]))
		err = COHORT_E_IO;
	if (err) {
		rc = cli_fail(c, err, "cannot export project %lld to %s: %s", (long long)project_id, pos[1],
			      err == COHORT_E_REDIS ? rconn_last_error(redis) : cohort_strerror(err));
		goto out;
	}
	tmp[0] = '\0';
	jsonw_obj(&c->out, NULL);
	jsonw_int(&c->out, "project_id", project_id);
	jsonw_str(&c->out, "file", pos[1]);
	jsonw_str(&c->out, "format", fmt == ARCH_ZIP ? "zip" : "tar.gz");
	jsonw_int(&c->out, "entries", (int64_t)l.n);
	jsonw_int(&c->out, "files", (int64_t)files);
	jsonw_end(&c->out);
	rc = CLI_OK;
out:
	if (tmp[0])
		unlink(tmp);
	ws_list_release(&l);
	rconn_free(redis);
	return rc;
}

static void report_change(struct cli *c, const struct project *p, const struct participant *grantee,
			  const struct grant_change *chg, bool row_after)
{
	render_grant_change(&c->out, NULL, p, grantee, chg, row_after);
}

static int grant_error(struct cli *c, int err, int64_t grantee)
{
	switch (err) {
	case COHORT_E_NOTMEMBER:
		return cli_fail(c, err, "participant %lld is not in the project's course", (long long)grantee);
	case COHORT_E_BADBITS:
		return cli_fail(c, err, "the owner's own access cannot be changed");
	case COHORT_E_NOTFOUND:
		return cli_fail(c, err, "participant %lld has no grant row on this project", (long long)grantee);
	default:
		return cli_fail(c, err, "cannot change the grant: %s", cli_why(c, err));
	}
}

int cmd_grant(struct cli *c, int argc, char **argv)
{
	static const struct {
		const char *name;
		struct grant_bits bits;
	} levels[] = {
		{ "r", { true, false } },
		{ "rw", { true, true } },
		{ "none", { false, false } },
	};
	const char *by_arg = NULL;
	const struct cli_opt opts[] = { { "by", &by_arg, NULL } };
	const char *pos[3];
	struct participant grantee;
	struct grant_change chg;
	const struct grant_bits *bits = NULL;
	struct project p;
	int64_t project_id, grantee_id, by;
	int rc, err;

	rc = cli_args(c, argc, argv, opts, 1, pos, 3, 3);
	if (rc || (rc = cli_id(c, "project-id", pos[0], &project_id)) ||
	    (rc = cli_id(c, "participant-id", pos[1], &grantee_id)))
		return rc;
	for (size_t k = 0; k < sizeof(levels) / sizeof(levels[0]); k++)
		if (!strcmp(pos[2], levels[k].name))
			bits = &levels[k].bits;
	if (!bits)
		return cli_usage(c, "the access must be r, rw or none");
	if (!by_arg)
		return cli_usage(c, "--by is required");
	if ((rc = cli_id(c, "--by", by_arg, &by)))
		return rc;
	if (cli_project(c, project_id, &p))
		return CLI_FAIL;
	/* As over REST, only the owner changes who may open their project. */
	if (by != p.owner_id)
		return cli_fail(c, COHORT_E_NOTOWNER, "participant %lld does not own project %lld", (long long)by,
				(long long)project_id);
	if (cli_participant(c, grantee_id, &grantee))
		return CLI_FAIL;
	err = grant_set(c->db, &p, grantee_id, *bits, by, &chg);
	if (err)
		return grant_error(c, err, grantee_id);
	report_change(c, &p, &grantee, &chg, true);
	return CLI_OK;
}

int cmd_revoke(struct cli *c, int argc, char **argv)
{
	const char *pos[2];
	struct participant grantee;
	struct grant_change chg;
	struct project p;
	int64_t project_id, grantee_id;
	int rc, err;

	rc = cli_args(c, argc, argv, NULL, 0, pos, 2, 2);
	if (rc || (rc = cli_id(c, "project-id", pos[0], &project_id)) ||
	    (rc = cli_id(c, "participant-id", pos[1], &grantee_id)))
		return rc;
	if (cli_project(c, project_id, &p) || cli_participant(c, grantee_id, &grantee))
		return CLI_FAIL;
	err = grant_delete(c->db, &p, grantee_id, &chg);
	if (err)
		return grant_error(c, err, grantee_id);
	report_change(c, &p, &grantee, &chg, false);
	return CLI_OK;
}

int cmd_access(struct cli *c, int argc, char **argv)
{
	const char *login = NULL;
	const struct cli_opt opts[] = { { "user", &login, NULL } };
	const char *pos[1];
	struct access_listing al;
	struct participant me;
	struct lesson l;
	struct user u;
	int64_t lesson_id;
	int rc, err;

	memset(&al, 0, sizeof(al));
	rc = cli_args(c, argc, argv, opts, 1, pos, 1, 1);
	if (rc || (rc = cli_id(c, "lesson-id", pos[0], &lesson_id)))
		return rc;
	if (!login)
		return cli_usage(c, "--user is required");
	if (cli_user(c, login, &u) || cli_lesson(c, lesson_id, &l))
		return CLI_FAIL;
	err = course_participation(c->db, l.course_id, u.id, &me);
	if (err)
		return cli_fail(c, err, "cannot read the participation: %s", cli_why(c, err));
	if (!me.id)
		return cli_fail(c, COHORT_E_NOTMEMBER, "'%s' is not a participant of the course of lesson %lld",
				u.login, (long long)lesson_id);
	err = lesson_access_collect(c->db, lesson_id, &me, &al);
	if (err)
		return cli_fail(c, err, "cannot list access: %s", cli_why(c, err));
	render_access_listing(&c->out, NULL, &l, &me, &al);
	access_listing_release(&al);
	return rc;
}
