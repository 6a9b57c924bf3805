/*
 * render.h — how the people model looks in the JSON of the CLI and the REST API: one function per
 * struct, so every command shows a user, course, participant, lesson or
 * project with the same fields and names. key is NULL inside arrays.
 */
#ifndef COHORT_RENDER_H
#define COHORT_RENDER_H

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
struct grant_change;

void render_user(struct jsonw *w, const char *key, const struct user *u);
void render_course(struct jsonw *w, const char *key, const struct course *c);
void render_participant(struct jsonw *w, const char *key, const struct participant *p);
void render_lesson(struct jsonw *w, const char *key, const struct lesson *l);
void render_project(struct jsonw *w, const char *key, const struct project *p);
/* {"read": .., "write": ..}, or null when present is false. */
void render_bits(struct jsonw *w, const char *key, bool present, const struct grant_bits *b);
void render_access(struct jsonw *w, const char *key, const struct access *a);
void render_access_entry(struct jsonw *w, const char *key, const struct access_entry *e);
/* {"lesson", "me", "can_open": [...], "can_open_mine": [...]} as one object. */
struct access_listing;
void render_access_listing(struct jsonw *w, const char *key, const struct lesson *l, const struct participant *me,
			   const struct access_listing *al);
/* A grant change: the row before and after, what the grantee could do
 * before and after by access_rules, and the bits "added" and "removed".
 * A teacher without a row reads and writes, so a row with both bits off is
 * a real change for them even though no bit of the row changed. */
void render_grant_change(struct jsonw *w, const char *key, const struct project *p,
			 const struct participant *grantee, const struct grant_change *chg, bool row_after);

#endif
