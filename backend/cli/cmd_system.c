#include "cli/cmd_system.h"
#include "cli/cli.h"
#include "core/db.h"
#include "core/migrate.h"
#include "core/version.h"

#include <stdio.h>

int cmd_config_example(struct cli *c, int argc, char **argv)
{
	int rc = cli_args(c, argc, argv, NULL, 0, NULL, 0, 0);

	if (rc)
		return rc;
	config_write_example(stdout);
	return CLI_OK;
}

int cmd_check_config(struct cli *c, int argc, char **argv)
{
	int rc = cli_args(c, argc, argv, NULL, 0, NULL, 0, 0);

	if (rc)
		return rc;
	/* The dispatcher has loaded (and so checked) the configuration. */
	jsonw_obj(&c->out, NULL);
	jsonw_bool(&c->out, "ok", true);
	jsonw_str(&c->out, "config_file", c->config_path && *c->config_path ? c->config_path : NULL);
	jsonw_str(&c->out, "db_path", c->cfg.db_path);
	jsonw_str(&c->out, "db_migrations", c->cfg.db_migrations);
	jsonw_end(&c->out);
	return CLI_OK;
}

int cmd_migrate(struct cli *c, int argc, char **argv)
{
	char errbuf[512] = "";
	int from = 0, to = 0, err, rc;

	rc = cli_args(c, argc, argv, NULL, 0, NULL, 0, 0);
	if (rc)
		return rc;
	err = migrate_apply(c->db, c->cfg.db_migrations, &from, &to, errbuf, sizeof(errbuf));
	if (err)
		return cli_fail(c, err, "%s", errbuf[0] ? errbuf : db_last_error(c->db));
	jsonw_obj(&c->out, NULL);
	jsonw_int(&c->out, "from", from);
	jsonw_int(&c->out, "to", to);
	jsonw_bool(&c->out, "changed", from != to);
	jsonw_end(&c->out);
	return CLI_OK;
}

int cmd_version(struct cli *c, int argc, char **argv)
{
	int rc = cli_args(c, argc, argv, NULL, 0, NULL, 0, 0);

	if (rc)
		return rc;
	jsonw_obj(&c->out, NULL);
	jsonw_str(&c->out, "version", COHORT_VERSION);
	jsonw_int(&c->out, "schema_version", MIGRATE_SCHEMA_VERSION);
	jsonw_str(&c->out, "database", db_version());
	jsonw_end(&c->out);
	return CLI_OK;
}
