/*
 * cmd_project.h — projects, grants and the access listings of a lesson.
 */
#ifndef COHORT_CLI_CMD_PROJECT_H
#define COHORT_CLI_CMD_PROJECT_H

struct cli;

int cmd_project_ensure(struct cli *c, int argc, char **argv);
int cmd_project_export(struct cli *c, int argc, char **argv);
int cmd_grant(struct cli *c, int argc, char **argv);
int cmd_revoke(struct cli *c, int argc, char **argv);
int cmd_access(struct cli *c, int argc, char **argv);

#endif
