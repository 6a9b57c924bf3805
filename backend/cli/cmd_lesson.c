#include "cli/cmd_lesson.h"
#include "cli/cli.h"
#include "core/render.h"
#include "core/course.h"
#include "core/err.h"
#include "core/lesson.h"
#include "core/num.h"
#include "core/objects.h"
#include "core/template.h"

#include <stdlib.h>
#include <string.h>

int cmd_lesson_create(struct cli *c, int argc, char **argv)
{
	const char *desc = NULL;
	const struct cli_opt opts[] = { { "description", &desc, NULL } };
	const char *pos[2];
	struct course course;
	struct lesson l;
	int64_t course_id;
	int rc, err;

	rc = cli_args(c, argc, argv, opts, 1, pos, 2, 2);
	if (rc || (rc = cli_id(c, "course-id", pos[0], &course_id)))
		return rc;
	if (cli_check_name(c, "lesson name", pos[1], NAME_MAX_BYTES) ||
	    (desc && cli_check_body(c, "description", desc, DESCRIPTION_MAX_BYTES)) ||
	    cli_course(c, course_id, &course))
		return CLI_FAIL;
	err = lesson_create(c->db, course_id, pos[1], strlen(pos[1]), desc, desc ? strlen(desc) : 0, &l);
	if (err == COHORT_E_LIMIT)
		return cli_fail(c, err, "course %lld already has %d lessons", (long long)course_id, LESSONS_MAX);
	if (err)
		return cli_fail(c, err, "cannot create the lesson: %s", cli_why(c, err));
	jsonw_obj(&c->out, NULL);
	render_lesson(&c->out, "lesson", &l);
	jsonw_end(&c->out);
	return CLI_OK;
}

int cmd_lesson_update(struct cli *c, int argc, char **argv)
{
	const char *name = NULL, *desc = NULL;
	const struct cli_opt opts[] = {
		{ "name", &name, NULL },
		{ "description", &desc, NULL },
	};
	const char *pos[1];
	struct lesson l;
	int64_t id;
	int rc, err;

	rc = cli_args(c, argc, argv, opts, 2, pos, 1, 1);
	if (rc || (rc = cli_id(c, "lesson-id", pos[0], &id)))
		return rc;
	if (!name && !desc)
		return cli_usage(c, "give --name, --description or both");
	if ((name && cli_check_name(c, "lesson name", name, NAME_MAX_BYTES)) ||
	    (desc && cli_check_body(c, "description", desc, DESCRIPTION_MAX_BYTES)) || cli_lesson(c, id, &l))
		return CLI_FAIL;
	err = lesson_update(c->db, id, name, name ? strlen(name) : 0, desc, desc ? strlen(desc) : 0, &l);
	if (err)
		return cli_fail(c, err, "cannot update lesson %lld: %s", (long long)id, cli_why(c, err));
	jsonw_obj(&c->out, NULL);
	render_lesson(&c->out, "lesson", &l);
	jsonw_end(&c->out);
	return CLI_OK;
}

int cmd_lesson_delete(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	struct lesson l;
	int64_t id;
	int rc, err;

	rc = cli_args(c, argc, argv, NULL, 0, pos, 1, 1);
	if (rc || (rc = cli_id(c, "lesson-id", pos[0], &id)) || (rc = cli_lesson(c, id, &l)))
		return rc;
	err = lesson_delete(c->db, id);
	if (err)
		return cli_fail(c, err, "cannot delete lesson %lld: %s", (long long)id, cli_why(c, err));
	if (l.template_ref[0]) {
		struct objects *o = NULL;

		if (!objects_open(c->cfg.objects_url, &o))
			template_drop(o, l.template_ref);
		objects_free(o);
	}
	jsonw_obj(&c->out, NULL);
	render_lesson(&c->out, "deleted", &l);
	jsonw_end(&c->out);
	return CLI_OK;
}

static int list_lesson(const struct lesson *l, void *arg)
{
	struct jsonw *w = arg;

	render_lesson(w, NULL, l);
	return w->err;
}

/* Prints {"course": .., "lessons": [..]} for the course. */
static int print_lessons(struct cli *c, const struct course *course)
{
	int err;

	jsonw_obj(&c->out, NULL);
	render_course(&c->out, "course", course);
	jsonw_arr(&c->out, "lessons");
	err = lesson_list(c->db, course->id, list_lesson, &c->out);
	if (err)
		return cli_fail(c, err, "cannot list lessons: %s", cli_why(c, err));
	jsonw_end(&c->out);
	jsonw_end(&c->out);
	return CLI_OK;
}

/* "12,7,9" → ids; at most LESSONS_MAX of them, each a positive number. */
static int parse_ids(struct cli *c, const char *list, int64_t *ids, size_t *n)
{
	const char *p = list;

	*n = 0;
	if (!*p)
		return CLI_OK; /* a course without lessons */
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		uint64_t v;

		if (*n >= LESSONS_MAX)
			return cli_usage(c, "more than %d lesson ids", LESSONS_MAX);
		if (parse_u64n(p, len, &v) || v == 0 || v > INT64_MAX)
			return cli_usage(c, "lesson ids must be positive whole numbers separated by commas");
		ids[(*n)++] = (int64_t)v;
		if (!comma)
			return CLI_OK;
		p = comma + 1;
	}
}

int cmd_lesson_reorder(struct cli *c, int argc, char **argv)
{
	const char *pos[2];
	struct course course;
	int64_t course_id, *ids = NULL;
	size_t n = 0;
	int rc, err;

	rc = cli_args(c, argc, argv, NULL, 0, pos, 2, 2);
	if (rc || (rc = cli_id(c, "course-id", pos[0], &course_id)))
		return rc;
	ids = calloc(LESSONS_MAX, sizeof(*ids));
	if (!ids)
		return cli_fail(c, COHORT_E_NOMEM, NULL);
	rc = parse_ids(c, pos[1], ids, &n);
	if (rc || (rc = cli_course(c, course_id, &course)))
		goto out;
	err = lesson_reorder(c->db, course_id, ids, n);
	if (err == COHORT_E_FIELD)
		rc = cli_fail(c, err, "the list must name every lesson of course %lld exactly once",
			      (long long)course_id);
	else if (err)
		rc = cli_fail(c, err, "cannot reorder: %s", cli_why(c, err));
	else
		rc = print_lessons(c, &course);
out:
	free(ids);
	return rc;
}

int cmd_lesson_get(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	struct lesson l;
	int64_t id;
	int rc;

	rc = cli_args(c, argc, argv, NULL, 0, pos, 1, 1);
	if (rc || (rc = cli_id(c, "lesson-id", pos[0], &id)) || (rc = cli_lesson(c, id, &l)))
		return rc;
	jsonw_obj(&c->out, NULL);
	render_lesson(&c->out, "lesson", &l);
	jsonw_end(&c->out);
	return CLI_OK;
}

int cmd_lesson_list(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	struct course course;
	int64_t id;
	int rc;

	rc = cli_args(c, argc, argv, NULL, 0, pos, 1, 1);
	if (rc || (rc = cli_id(c, "course-id", pos[0], &id)) || (rc = cli_course(c, id, &course)))
		return rc;
	return print_lessons(c, &course);
}
