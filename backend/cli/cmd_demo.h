/*
 * cmd_demo.h — the demo data `make run` seeds: one teacher, three students,
 * one course with two lessons. The password is public; demo use only.
 */
#ifndef COHORT_CLI_CMD_DEMO_H
#define COHORT_CLI_CMD_DEMO_H

struct cli;

int cmd_seed_demo(struct cli *c, int argc, char **argv);

#endif
