/*
 * cmd_lesson.h — the ordered lessons of a course.
 */
#ifndef COHORT_CLI_CMD_LESSON_H
#define COHORT_CLI_CMD_LESSON_H

struct cli;

int cmd_lesson_create(struct cli *c, int argc, char **argv);
int cmd_lesson_update(struct cli *c, int argc, char **argv);
int cmd_lesson_delete(struct cli *c, int argc, char **argv);
int cmd_lesson_reorder(struct cli *c, int argc, char **argv);
int cmd_lesson_get(struct cli *c, int argc, char **argv);
int cmd_lesson_list(struct cli *c, int argc, char **argv);

#endif
