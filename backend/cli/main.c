/*
 * cohort — the administration CLI for scripts. One table of commands, in the
 * manner of git's commands[]; each command parses its own arguments.
 */
#include "core/config.h"
#include "core/db.h"
#include "core/migrate.h"
#include "core/err.h"
#include "core/log.h"
#include "core/version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv, const char *config_path);
	const char *help;
};

static int cmd_config_example(int argc, char **argv, const char *config_path)
{
	(void)argc, (void)argv, (void)config_path;
	config_write_example(stdout);
	return 0;
}

static int cmd_check_config(int argc, char **argv, const char *config_path)
{
	struct cohort_config cfg;
	char errbuf[256] = "";
	int err;

	(void)argc, (void)argv;
	err = config_load(&cfg, config_path, errbuf, sizeof(errbuf));
	if (err)
		fprintf(stderr, "cohort: %s\n", errbuf);
	else
		printf("configuration ok\n");
	config_release(&cfg);
	return err ? 1 : 0;
}

static int cmd_migrate(int argc, char **argv, const char *config_path)
{
	struct cohort_config cfg;
	struct db *db = NULL;
	char errbuf[512] = "";
	int from = 0, to = 0, err;

	(void)argc, (void)argv;
	err = config_load(&cfg, config_path, errbuf, sizeof(errbuf));
	if (err)
		goto out;
	err = db_open(cfg.db_path, &db);
	if (err) {
		snprintf(errbuf, sizeof(errbuf), "cannot open %s: %s", cfg.db_path, db_last_error(db));
		goto out;
	}
	err = migrate_apply(db, cfg.db_migrations, &from, &to, errbuf, sizeof(errbuf));
	if (!err)
		printf(from == to ? "schema is current (version %d)\n" : "migrated from version %d to %d\n", from,
		       to);
out:
	if (err)
		fprintf(stderr, "cohort migrate: %s\n", errbuf);
	db_close(db);
	config_release(&cfg);
	return err ? 1 : 0;
}

static int cmd_version(int argc, char **argv, const char *config_path)
{
	(void)argc, (void)argv, (void)config_path;
	printf("cohort %s\n", COHORT_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv, const char *config_path);

static const struct command commands[] = {
	{ "config-example", cmd_config_example, "print every configuration key with its default and meaning" },
	{ "check-config", cmd_check_config, "load the configuration (file and environment) and report errors" },
	{ "migrate", cmd_migrate, "apply the SQL migrations the database lacks (refuses a newer database)" },
	{ "version", cmd_version, "print the version" },
	{ "help", cmd_help, "list the commands" },
};

static int cmd_help(int argc, char **argv, const char *config_path)
{
	(void)argc, (void)argv, (void)config_path;
	printf("usage: cohort [-c config-file] <command> [args]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-16s %s\n", commands[i].name, commands[i].help);
	return 0;
}

int main(int argc, char **argv)
{
	const char *config_path = getenv("COHORT_CONFIG");
	int i = 1;

	log_init("cli", "warn");
	if (i + 1 < argc && !strcmp(argv[i], "-c")) {
		config_path = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return cmd_help(0, NULL, config_path), 2;
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (!strcmp(commands[k].name, argv[i]))
			return commands[k].run(argc - i, argv + i, config_path);
	fprintf(stderr, "cohort: unknown command '%s' (try 'cohort help')\n", argv[i]);
	return 2;
}
