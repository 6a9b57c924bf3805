/*
 * cli.h — what every `cohort` command gets and shares.
 *
 * main.c's command table says what a command needs (the configuration, the
 * database at the current schema, or neither); the dispatcher prepares that
 * once, before the command runs, and prints the command's JSON object after
 * it succeeds. Commands parse their arguments with cli_args from a small
 * option table, report failures with cli_fail (one line on stderr, exit
 * status 1) or cli_usage (exit status 2), and write their result into
 * c->out.
 */
#ifndef COHORT_CLI_CLI_H
#define COHORT_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/jsonw.h"
#include "core/config.h"

struct db;
struct user;
struct course;
struct participant;
struct lesson;
struct project;

/* Exit statuses. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* No argument may be longer than this (the longest legitimate one is a
 * lesson-reorder list of LESSONS_MAX ids). */
#define CLI_ARG_MAX 16384

struct cli {
	const char *cmd;   /* the command's name, for messages */
	const char *usage; /* its argument synopsis */
	const char *config_path;
	struct cohort_config cfg;
	struct db *db; /* open and at the current schema, for commands that asked */
	struct jsonw out;
};

/* One option of a command: "--name VALUE" (val set) or a flag (flag set). */
struct cli_opt {
	const char *name;
	const char **val;
	bool *flag;
};

/* Parses argv[1..argc): the options of opts (each at most once, "--" ends
 * them) and between min and max positional arguments into pos. Prints the
 * problem and returns CLI_USAGE when the arguments do not fit. */
int cli_args(struct cli *c, int argc, char **argv, const struct cli_opt *opts, size_t nopts, const char **pos,
	     size_t min, size_t max);

/* One line "cohort <cmd>: <message>; usage: cohort <cmd> <usage>" on
 * stderr; returns CLI_USAGE. */
int cli_usage(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One line "cohort <cmd>: <message> (<error code>)" on stderr; returns
 * CLI_FAIL. With fmt NULL the message is cohort_strerror(err). */
int cli_fail(struct cli *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A positive decimal id; CLI_USAGE otherwise. */
int cli_id(struct cli *c, const char *what, const char *s, int64_t *out);
/* A non-negative decimal count in [min, max]; CLI_USAGE otherwise. */
int cli_count(struct cli *c, const char *what, const char *s, long min, long max, long *out);

/* Field checks with the rules of core/text.h; CLI_FAIL (invalid_field) with
 * a message naming the field when the value does not qualify. */
int cli_check_login(struct cli *c, const char *login);
int cli_check_name(struct cli *c, const char *what, const char *s, size_t max);
int cli_check_body(struct cli *c, const char *what, const char *s, size_t max);

/* The message for a core error: the database's own words when it was the
 * database that failed (operators read these, clients never do). */
const char *cli_why(struct cli *c, int err);

/* Lookups with the CLI's messages: CLI_FAIL (not_found, or the database
 * error) when there is no such row. cli_user also checks the login. */
int cli_user(struct cli *c, const char *login, struct user *out);
int cli_course(struct cli *c, int64_t id, struct course *out);
int cli_participant(struct cli *c, int64_t id, struct participant *out);
int cli_lesson(struct cli *c, int64_t id, struct lesson *out);
int cli_project(struct cli *c, int64_t id, struct project *out);

#endif
