/*
 * render.h — how the people model looks in the CLI's JSON: one function per
 * struct, so every command shows a user, course, participant, lesson or
 * project with the same fields and names. key is NULL inside arrays.
 */
#ifndef COHORT_CLI_RENDER_H
#define COHORT_CLI_RENDER_H

#include <stdbool.h>

struct jsonw;
struct user;
struct course;
struct participant;
struct lesson;
struct project;
struct access;
struct access_entry;
struct grant_bits;

void render_user(struct jsonw *w, const char *key, const struct user *u);
void render_course(struct jsonw *w, const char *key, const struct course *c);
void render_participant(struct jsonw *w, const char *key, const struct participant *p);
void render_lesson(struct jsonw *w, const char *key, const struct lesson *l);
void render_project(struct jsonw *w, const char *key, const struct project *p);
/* {"read": .., "write": ..}, or null when present is false. */
void render_bits(struct jsonw *w, const char *key, bool present, const struct grant_bits *b);
void render_access(struct jsonw *w, const char *key, const struct access *a);
void render_access_entry(struct jsonw *w, const char *key, const struct access_entry *e);

#endif
