/*
 * cmd_people.h — accounts and credentials: the token secret, users, and
 * session tokens for scripts.
 */
#ifndef COHORT_CLI_CMD_PEOPLE_H
#define COHORT_CLI_CMD_PEOPLE_H

struct cli;

int cmd_init_secret(struct cli *c, int argc, char **argv);
int cmd_user_create(struct cli *c, int argc, char **argv);
int cmd_user_disable(struct cli *c, int argc, char **argv);
int cmd_user_enable(struct cli *c, int argc, char **argv);
int cmd_mint_token(struct cli *c, int argc, char **argv);

#endif
