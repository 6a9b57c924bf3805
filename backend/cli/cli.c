#include "cli/cli.h"
#include "core/course.h"
#include "core/db.h"
#include "core/err.h"
#include "core/lesson.h"
#include "core/num.h"
#include "core/project.h"
#include "core/text.h"
#include "core/user.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cli_usage(struct cli *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "cohort %s: %s; usage: cohort %s%s%s\n", c->cmd, msg, c->cmd, c->usage[0] ? " " : "",
		c->usage);
	return CLI_USAGE;
}

int cli_fail(struct cli *c, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	} else {
		snprintf(msg, sizeof(msg), "%s", cohort_strerror(err));
	}
	fprintf(stderr, "cohort %s: %s (%s)\n", c->cmd, msg, cohort_errcode(err ? err : COHORT_E_INTERNAL));
	return CLI_FAIL;
}

static const struct cli_opt *find_opt(const struct cli_opt *opts, size_t nopts, const char *arg)
{
	for (size_t i = 0; i < nopts; i++)
		if (!strcmp(arg + 2, opts[i].name))
			return &opts[i];
	return NULL;
}

int cli_args(struct cli *c, int argc, char **argv, const struct cli_opt *opts, size_t nopts, const char **pos,
	     size_t min, size_t max)
{
	bool seen[16] = { false };
	bool options_done = false;
	size_t npos = 0;

	BUG_ON(nopts > sizeof(seen) / sizeof(seen[0]));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct cli_opt *o;

		if (strlen(a) > CLI_ARG_MAX)
			return cli_usage(c, "argument %d is longer than %d bytes", i, CLI_ARG_MAX);
		if (!options_done && !strcmp(a, "--")) {
			options_done = true;
			continue;
		}
		if (options_done || strncmp(a, "--", 2)) {
			if (npos >= max)
				return cli_usage(c, "too many arguments");
			pos[npos++] = a;
			continue;
		}
		o = find_opt(opts, nopts, a);
		if (!o)
			return cli_usage(c, "unknown option %.64s", a);
		if (seen[o - opts])
			return cli_usage(c, "option %s given twice", a);
		seen[o - opts] = true;
		if (o->flag) {
			*o->flag = true;
			continue;
		}
		if (i + 1 >= argc)
			return cli_usage(c, "option %s needs a value", a);
		if (strlen(argv[i + 1]) > CLI_ARG_MAX)
			return cli_usage(c, "the value of %s is longer than %d bytes", a, CLI_ARG_MAX);
		*o->val = argv[++i];
	}
	if (npos < min)
		return cli_usage(c, "missing arguments");
	return CLI_OK;
}

int cli_id(struct cli *c, const char *what, const char *s, int64_t *out)
{
	long v;

	if (parse_long(s, &v) || v <= 0)
		return cli_usage(c, "%s must be a positive whole number (got '%.32s')", what, s);
	*out = v;
	return CLI_OK;
}

int cli_count(struct cli *c, const char *what, const char *s, long min, long max, long *out)
{
	long v;

	if (parse_long(s, &v) || v < min || v > max)
		return cli_usage(c, "%s must be a whole number from %ld to %ld (got '%.32s')", what, min, max, s);
	*out = v;
	return CLI_OK;
}

int cli_check_login(struct cli *c, const char *login)
{
	if (!text_login_ok(login, strlen(login)))
		return cli_fail(c, COHORT_E_FIELD,
				"login must be 1 to %d characters of a-z 0-9 . _ - starting with a letter or digit",
				LOGIN_MAX);
	return CLI_OK;
}

int cli_check_name(struct cli *c, const char *what, const char *s, size_t max)
{
	if (!text_name_ok(s, strlen(s), max))
		return cli_fail(c, COHORT_E_FIELD,
				"%s must be 1 to %zu bytes of UTF-8 text on one line, without control characters"
				" or leading or trailing spaces", what, max);
	return CLI_OK;
}

int cli_check_body(struct cli *c, const char *what, const char *s, size_t max)
{
	if (!text_body_ok(s, strlen(s), max))
		return cli_fail(c, COHORT_E_FIELD,
				"%s must be at most %zu bytes of UTF-8 text without control characters other than"
				" newline and tab", what, max);
	return CLI_OK;
}

const char *cli_why(struct cli *c, int err)
{
	return err == COHORT_E_DB ? db_last_error(c->db) : cohort_strerror(err);
}

int cli_user(struct cli *c, const char *login, struct user *out)
{
	int err;

	if (cli_check_login(c, login))
		return CLI_FAIL;
	err = user_get_by_login(c->db, login, out, NULL, NULL);
	if (err == COHORT_E_NOTFOUND)
		return cli_fail(c, err, "no user with login '%s'", login);
	if (err)
		return cli_fail(c, err, "cannot read user '%s': %s", login, cli_why(c, err));
	return CLI_OK;
}

static int looked_up(struct cli *c, int err, const char *what, int64_t id)
{
	if (err == COHORT_E_NOTFOUND)
		return cli_fail(c, err, "no %s %lld", what, (long long)id);
	if (err)
		return cli_fail(c, err, "cannot read %s %lld: %s", what, (long long)id, cli_why(c, err));
	return CLI_OK;
}

int cli_course(struct cli *c, int64_t id, struct course *out)
{
	return looked_up(c, course_get(c->db, id, out), "course", id);
}

int cli_participant(struct cli *c, int64_t id, struct participant *out)
{
	return looked_up(c, participant_get(c->db, id, out), "participant", id);
}

int cli_lesson(struct cli *c, int64_t id, struct lesson *out)
{
	return looked_up(c, lesson_get(c->db, id, out), "lesson", id);
}

int cli_project(struct cli *c, int64_t id, struct project *out)
{
	return looked_up(c, project_get(c->db, id, out), "project", id);
}
