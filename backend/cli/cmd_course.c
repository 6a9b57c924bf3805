#include "cli/cmd_course.h"
#include "cli/cli.h"
#include "core/render.h"
#include "core/course.h"
#include "core/err.h"
#include "core/user.h"

#include <string.h>

int cmd_course_create(struct cli *c, int argc, char **argv)
{
	const char *owner = NULL, *desc = NULL, *nick = NULL;
	const struct cli_opt opts[] = {
		{ "owner", &owner, NULL },
		{ "description", &desc, NULL },
		{ "nickname", &nick, NULL },
	};
	const char *pos[1];
	char code[JOIN_CODE_LEN + 1];
	struct participant teacher;
	struct course course;
	struct user u;
	int rc, err;

	rc = cli_args(c, argc, argv, opts, 3, pos, 1, 1);
	if (rc)
		return rc;
	if (!owner)
		return cli_usage(c, "--owner is required");
	if (cli_check_name(c, "course name", pos[0], NAME_MAX_BYTES) ||
	    (desc && cli_check_body(c, "description", desc, DESCRIPTION_MAX_BYTES)) ||
	    (nick && cli_check_name(c, "nickname", nick, NICKNAME_MAX_BYTES)) || cli_user(c, owner, &u))
		return CLI_FAIL;
	err = course_create(c->db, u.id, pos[0], strlen(pos[0]), desc, desc ? strlen(desc) : 0, nick,
			    nick ? strlen(nick) : 0, &course, &teacher, code);
	if (err)
		return cli_fail(c, err, "cannot create the course: %s", cli_why(c, err));
	jsonw_obj(&c->out, NULL);
	render_course(&c->out, "course", &course);
	render_participant(&c->out, "teacher", &teacher);
	jsonw_str(&c->out, "join_code", code);
	jsonw_end(&c->out);
	return CLI_OK;
}

int cmd_course_rotate_code(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	char code[JOIN_CODE_LEN + 1];
	struct course course;
	int64_t id;
	int rc, err;

	rc = cli_args(c, argc, argv, NULL, 0, pos, 1, 1);
	if (rc || (rc = cli_id(c, "course-id", pos[0], &id)) || (rc = cli_course(c, id, &course)))
		return rc;
	err = course_rotate_code(c->db, id, code);
	if (err)
		return cli_fail(c, err, "cannot rotate the join code: %s", cli_why(c, err));
	jsonw_obj(&c->out, NULL);
	jsonw_int(&c->out, "course_id", id);
	jsonw_str(&c->out, "join_code", code);
	jsonw_end(&c->out);
	return CLI_OK;
}

int cmd_course_join(struct cli *c, int argc, char **argv)
{
	const char *login = NULL, *code = NULL, *nick = NULL;
	const struct cli_opt opts[] = {
		{ "user", &login, NULL },
		{ "code", &code, NULL },
		{ "nickname", &nick, NULL },
	};
	struct participant me;
	struct course course;
	struct user u;
	int rc, err;

	rc = cli_args(c, argc, argv, opts, 3, NULL, 0, 0);
	if (rc)
		return rc;
	if (!login || !code || !nick)
		return cli_usage(c, "--user, --code and --nickname are required");
	if (cli_check_name(c, "nickname", nick, NICKNAME_MAX_BYTES) || cli_user(c, login, &u))
		return CLI_FAIL;
	err = course_join(c->db, u.id, code, strlen(code), nick, strlen(nick), &course, &me);
	switch (err) {
	case 0:
		break;
	case COHORT_E_BADCODE:
		return cli_fail(c, err, "no course has this join code");
	case COHORT_E_MEMBER:
		return cli_fail(c, err, "'%s' is already a participant of that course", u.login);
	case COHORT_E_NICKNAME:
		return cli_fail(c, err, "the nickname '%s' is taken in that course", nick);
	default:
		return cli_fail(c, err, "cannot join: %s", cli_why(c, err));
	}
	jsonw_obj(&c->out, NULL);
	render_course(&c->out, "course", &course);
	render_participant(&c->out, "participant", &me);
	jsonw_end(&c->out);
	return CLI_OK;
}

static int list_course(const struct course *course, const struct participant *me, void *arg)
{
	struct jsonw *w = arg;

	jsonw_obj(w, NULL);
	jsonw_int(w, "id", course->id);
	jsonw_str(w, "name", course->name);
	jsonw_str(w, "description", course->description);
	jsonw_int(w, "owner_id", course->owner_id);
	jsonw_int(w, "created_at", course->created_at);
	jsonw_str(w, "role", role_name(me->role));
	jsonw_int(w, "participant_id", me->id);
	jsonw_str(w, "nickname", me->nickname);
	jsonw_end(w);
	return w->err;
}

int cmd_course_list(struct cli *c, int argc, char **argv)
{
	const char *login = NULL;
	const struct cli_opt opts[] = { { "user", &login, NULL } };
	struct user u;
	int rc, err;

	rc = cli_args(c, argc, argv, opts, 1, NULL, 0, 0);
	if (rc)
		return rc;
	if (!login)
		return cli_usage(c, "--user is required");
	if (cli_user(c, login, &u))
		return CLI_FAIL;
	jsonw_obj(&c->out, NULL);
	render_user(&c->out, "user", &u);
	jsonw_arr(&c->out, "courses");
	err = course_list_for_user(c->db, u.id, list_course, &c->out);
	if (err)
		return cli_fail(c, err, "cannot list courses: %s", cli_why(c, err));
	jsonw_end(&c->out);
	jsonw_end(&c->out);
	return CLI_OK;
}

static int list_participant(const struct participant *p, void *arg)
{
	struct jsonw *w = arg;

	render_participant(w, NULL, p);
	return w->err;
}

int cmd_participants(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	struct course course;
	int64_t id;
	int rc, err;

	rc = cli_args(c, argc, argv, NULL, 0, pos, 1, 1);
	if (rc || (rc = cli_id(c, "course-id", pos[0], &id)) || (rc = cli_course(c, id, &course)))
		return rc;
	jsonw_obj(&c->out, NULL);
	render_course(&c->out, "course", &course);
	jsonw_arr(&c->out, "participants");
	err = course_participants(c->db, id, list_participant, &c->out);
	if (err)
		return cli_fail(c, err, "cannot list participants: %s", cli_why(c, err));
	jsonw_end(&c->out);
	jsonw_end(&c->out);
	return CLI_OK;
}

int cmd_nickname(struct cli *c, int argc, char **argv)
{
	const char *pos[2];
	struct participant p;
	int64_t id;
	int rc, err;

	rc = cli_args(c, argc, argv, NULL, 0, pos, 2, 2);
	if (rc || (rc = cli_id(c, "participant-id", pos[0], &id)))
		return rc;
	if (cli_check_name(c, "nickname", pos[1], NICKNAME_MAX_BYTES) || cli_participant(c, id, &p))
		return CLI_FAIL;
	err = participant_set_nickname(c->db, id, pos[1], strlen(pos[1]));
	if (err == COHORT_E_NICKNAME)
		return cli_fail(c, err, "the nickname '%s' is taken in that course", pos[1]);
	if (err)
		return cli_fail(c, err, "cannot change the nickname: %s", cli_why(c, err));
	if (cli_participant(c, id, &p))
		return CLI_FAIL;
	jsonw_obj(&c->out, NULL);
	render_participant(&c->out, "participant", &p);
	jsonw_end(&c->out);
	return CLI_OK;
}

int cmd_participant_remove(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	struct participant p;
	int64_t id;
	int rc, err;

	rc = cli_args(c, argc, argv, NULL, 0, pos, 1, 1);
	if (rc || (rc = cli_id(c, "participant-id", pos[0], &id)) || (rc = cli_participant(c, id, &p)))
		return rc;
	err = participant_remove(c->db, id);
	if (err == COHORT_E_CONFLICT)
		return cli_fail(c, err, "participant %lld is the course's last teacher", (long long)id);
	if (err)
		return cli_fail(c, err, "cannot remove participant %lld: %s", (long long)id, cli_why(c, err));
	jsonw_obj(&c->out, NULL);
	render_participant(&c->out, "removed", &p);
	jsonw_end(&c->out);
	return CLI_OK;
}
