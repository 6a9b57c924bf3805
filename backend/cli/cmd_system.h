/*
 * cmd_system.h — commands about cohort itself rather than its people:
 * the configuration, the schema, the version.
 */
#ifndef COHORT_CLI_CMD_SYSTEM_H
#define COHORT_CLI_CMD_SYSTEM_H

struct cli;

int cmd_config_example(struct cli *c, int argc, char **argv);
int cmd_check_config(struct cli *c, int argc, char **argv);
int cmd_migrate(struct cli *c, int argc, char **argv);
int cmd_version(struct cli *c, int argc, char **argv);

#endif
