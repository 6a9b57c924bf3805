/*
 * cohort — the administration CLI for scripts. One table of commands, in the
 * manner of git's commands[]; each row says what the command needs, and the
 * dispatcher provides it before the command runs: the configuration (from
 * -c or COHORT_CONFIG, then COHORT_* environment overrides), the database
 * opened at db.path and checked to be at this build's schema. A command
 * that succeeds prints one JSON object on stdout; a failure is one line on
 * stderr and exit status 1 (2 for a usage error).
 */
#include "cli/cli.h"
#include "cli/cmd_course.h"
#include "cli/cmd_demo.h"
#include "cli/cmd_lesson.h"
#include "cli/cmd_people.h"
#include "cli/cmd_project.h"
#include "cli/cmd_system.h"
#include "cli/cmd_template.h"
#include "core/db.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/migrate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
	NEED_CONFIG = 1 << 0, /* load the configuration */
	NEED_DB = 1 << 1,     /* open db.path, which must exist at the current schema */
	NEED_DB_ANY = 1 << 2, /* open db.path at any schema (creating it): migrate only */
	PRINTS_JSON = 1 << 3, /* print c->out on success */
};

#define PEOPLE (NEED_CONFIG | NEED_DB | PRINTS_JSON)

struct command {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
	unsigned needs;
	const char *usage;
	const char *help;
};

static int cmd_help(struct cli *c, int argc, char **argv);

static const struct command commands[] = {
	{ "init-secret", cmd_init_secret, NEED_CONFIG | PRINTS_JSON, "",
	  "create auth.secret_file (the HS256 token secret) if it is missing" },
	{ "migrate", cmd_migrate, NEED_CONFIG | NEED_DB_ANY | PRINTS_JSON, "",
	  "apply the SQL migrations the database lacks (refuses a newer database)" },
	{ "seed-demo", cmd_seed_demo, PEOPLE, "[--templates]",
	  "create the demo teacher, students, course and lessons (once; demo passwords); --templates: a starter template for each demo lesson without one" },

	{ "user-create", cmd_user_create, PEOPLE, "<login> <display-name> [--admin] [--password-stdin]",
	  "create a user; the password, if any, is read from standard input" },
	{ "user-disable", cmd_user_disable, PEOPLE, "<login>", "disable a user (sign-in and tokens refused)" },
	{ "user-enable", cmd_user_enable, PEOPLE, "<login>", "enable a disabled user again" },
	{ "mint-token", cmd_mint_token, PEOPLE, "<login> [--ttl seconds]",
	  "print a session token (HS256) for a user, for scripts" },

	{ "course-create", cmd_course_create, PEOPLE,
	  "--owner <login> <name> [--description D] [--nickname N]",
	  "create a course with its owner as teacher; prints the join code" },
	{ "course-rotate-code", cmd_course_rotate_code, PEOPLE, "<course-id>",
	  "replace a course's join code (the old one stops working)" },
	{ "course-join", cmd_course_join, PEOPLE, "--user <login> --code <code> --nickname <nick>",
	  "join a course as a student with its join code" },
	{ "course-list", cmd_course_list, PEOPLE, "--user <login>", "list a user's courses with their role" },
	{ "participants", cmd_participants, PEOPLE, "<course-id>", "list a course's participants" },
	{ "nickname", cmd_nickname, PEOPLE, "<participant-id> <nick>", "change a participant's nickname" },
	{ "participant-remove", cmd_participant_remove, PEOPLE, "<participant-id>",
	  "remove a participant with their projects and grants (never the last teacher)" },

	{ "lesson-create", cmd_lesson_create, PEOPLE, "<course-id> <name> [--description D]",
	  "append a lesson to a course" },
	{ "lesson-update", cmd_lesson_update, PEOPLE, "<lesson-id> [--name N] [--description D]",
	  "rename a lesson or change its description" },
	{ "lesson-delete", cmd_lesson_delete, PEOPLE, "<lesson-id>", "delete a lesson with its projects" },
	{ "lesson-reorder", cmd_lesson_reorder, PEOPLE, "<course-id> <id,id,...>",
	  "put a course's lessons in the given order (every lesson exactly once)" },
	{ "lesson-get", cmd_lesson_get, PEOPLE, "<lesson-id>", "show a lesson" },
	{ "lesson-list", cmd_lesson_list, PEOPLE, "<course-id>", "list a course's lessons in order" },

	{ "project-ensure", cmd_project_ensure, PEOPLE, "<lesson-id> <participant-id>",
	  "show a participant's project for a lesson, creating it on first use" },
	{ "project-export", cmd_project_export, PEOPLE, "<project-id> <file.zip|file.tar.gz>",
	  "write a project's files and directories to an archive (the format from the file name)" },
	{ "template-import", cmd_template_import, PEOPLE, "<lesson-id> <archive-file|url>",
	  "validate an archive (or fetch a URL) and store it as the lesson's template" },
	{ "grant", cmd_grant, PEOPLE, "<project-id> <participant-id> r|rw|none --by <participant-id>",
	  "set another participant's access to a project (--by: the project's owner)" },
	{ "revoke", cmd_revoke, PEOPLE, "<project-id> <participant-id>",
	  "remove a grant row (the participant falls back to the default access)" },
	{ "access", cmd_access, PEOPLE, "--user <login> <lesson-id>",
	  "whose projects a user can open in a lesson, and who can open theirs" },

	{ "check-config", cmd_check_config, NEED_CONFIG | PRINTS_JSON, "",
	  "load the configuration (file and environment) and report errors" },
	{ "config-example", cmd_config_example, 0, "", "print every configuration key with its default and meaning" },
	{ "version", cmd_version, PRINTS_JSON, "", "print the version" },
	{ "help", cmd_help, 0, "", "list the commands" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int cmd_help(struct cli *c, int argc, char **argv)
{
	(void)c, (void)argc, (void)argv;
	printf("usage: cohort [-c config-file] <command> [args]\n"
	       "Every command but config-example and help prints one JSON object; errors are one line\n"
	       "on stderr with exit status 1 (2 for usage). See docs/cli.md.\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf("  %s%s%s\n      %s\n", commands[i].name, commands[i].usage[0] ? " " : "", commands[i].usage,
		       commands[i].help);
	return CLI_OK;
}

static int open_db(struct cli *c, unsigned needs)
{
	char errbuf[512] = "";
	struct stat st;
	int err;

	/* Only migrate creates the database; other commands would otherwise
	 * leave an empty file behind a mistyped db.path. */
	if (!(needs & NEED_DB_ANY) && stat(c->cfg.db_path, &st) != 0)
		return cli_fail(c, COHORT_E_DB, "database %s: %s (run `cohort migrate` first)", c->cfg.db_path,
				strerror(errno));
	err = db_open(c->cfg.db_path, &c->db);
	if (err)
		return cli_fail(c, err, "cannot open database %s: %s", c->cfg.db_path, db_last_error(c->db));
	if (needs & NEED_DB_ANY)
		return CLI_OK;
	err = migrate_check(c->db, errbuf, sizeof(errbuf));
	if (err)
		return cli_fail(c, err, "%s: %s", c->cfg.db_path, errbuf);
	return CLI_OK;
}

static int run(const struct command *cmd, struct cli *c, int argc, char **argv)
{
	char errbuf[512] = "";
	int rc, err;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: cohort %s%s%s\n%s\n", cmd->name, cmd->usage[0] ? " " : "", cmd->usage, cmd->help);
		return CLI_OK;
	}
	if (cmd->needs & NEED_CONFIG) {
		err = config_load(&c->cfg, c->config_path, errbuf, sizeof(errbuf));
		if (err)
			return cli_fail(c, err, "%s", errbuf);
	}
	if (cmd->needs & (NEED_DB | NEED_DB_ANY)) {
		rc = open_db(c, cmd->needs);
		if (rc)
			return rc;
	}
	rc = cmd->run(c, argc, argv);
	if (rc || !(cmd->needs & PRINTS_JSON))
		return rc;
	err = jsonw_finish(&c->out);
	if (err)
		return cli_fail(c, err, "cannot format the result");
	if (fwrite(c->out.sb.buf, 1, c->out.sb.len, stdout) != c->out.sb.len || putchar('\n') == EOF ||
	    fflush(stdout) != 0)
		return cli_fail(c, COHORT_E_IO, "cannot write the result: %s", strerror(errno));
	return CLI_OK;
}

int main(int argc, char **argv)
{
	struct cli c;
	const struct command *cmd = NULL;
	int i = 1, rc;

	memset(&c, 0, sizeof(c));
	c.config_path = getenv("COHORT_CONFIG");
	log_init("cli", "warn");
	if (ids_init()) {
		fprintf(stderr, "cohort: cannot initialize libsodium\n");
		return CLI_FAIL;
	}
	if (i + 1 < argc && !strcmp(argv[i], "-c")) {
		c.config_path = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		cmd_help(&c, 0, NULL);
		return CLI_USAGE;
	}
	for (size_t k = 0; k < NCOMMANDS && !cmd; k++)
		if (!strcmp(commands[k].name, argv[i]))
			cmd = &commands[k];
	/* "cohort template import" is "cohort template-import": two words name
	 * the hyphenated command (the second word then plays argv[0]). */
	if (!cmd && i + 1 < argc) {
		char joined[64];
		int n = snprintf(joined, sizeof(joined), "%s-%s", argv[i], argv[i + 1]);

		for (size_t k = 0; n > 0 && (size_t)n < sizeof(joined) && k < NCOMMANDS && !cmd; k++)
			if (!strcmp(commands[k].name, joined)) {
				cmd = &commands[k];
				i++;
			}
	}
	if (!cmd) {
		fprintf(stderr, "cohort: unknown command '%.64s' (try 'cohort help')\n", argv[i]);
		return CLI_USAGE;
	}
	c.cmd = cmd->name;
	c.usage = cmd->usage;
	jsonw_init(&c.out);
	rc = run(cmd, &c, argc - i, argv + i);
	jsonw_release(&c.out);
	db_close(c.db);
	config_release(&c.cfg);
	return rc;
}
