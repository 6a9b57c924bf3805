/*
 * cmd_template.h — lesson templates from the command line (core/template.h):
 * importing an archive file or URL as a lesson's template, and the
 * first-access import `project-ensure` runs.
 */
#ifndef COHORT_CLI_CMD_TEMPLATE_H
#define COHORT_CLI_CMD_TEMPLATE_H

struct cli;
struct project;
struct rconn;

int cmd_template_import(struct cli *c, int argc, char **argv);

/* Applies the lesson's template to the project p if it is new, through the
 * Redis connection rc; renders "template": {"imported", "entries"} into
 * c->out's open object.
 * CLI_OK or CLI_FAIL (after printing why). */
int cli_template_apply(struct cli *c, struct rconn *rc, const struct project *p);

#endif
