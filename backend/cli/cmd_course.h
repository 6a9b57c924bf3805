/*
 * cmd_course.h — courses and their participants: create, join with the
 * code, list, rename and remove participants.
 */
#ifndef COHORT_CLI_CMD_COURSE_H
#define COHORT_CLI_CMD_COURSE_H

struct cli;

int cmd_course_create(struct cli *c, int argc, char **argv);
int cmd_course_rotate_code(struct cli *c, int argc, char **argv);
int cmd_course_join(struct cli *c, int argc, char **argv);
int cmd_course_list(struct cli *c, int argc, char **argv);
int cmd_participants(struct cli *c, int argc, char **argv);
int cmd_nickname(struct cli *c, int argc, char **argv);
int cmd_participant_remove(struct cli *c, int argc, char **argv);

#endif
