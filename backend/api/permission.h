/*
 * permission.h — what a caller needs before a route's handler may run.
 *
 * Every row of the route table names one permission. The dispatcher checks
 * it once, before the handler; handlers never re-check. Until accounts and
 * tokens exist, only PERM_PUBLIC and PERM_DEV can pass: every other
 * permission fails closed with 401, so a route declared with one of them is
 * unreachable rather than open.
 */
#ifndef COHORT_API_PERMISSION_H
#define COHORT_API_PERMISSION_H

struct request;

enum permission {
	PERM_PUBLIC,         /* anyone */
	PERM_USER,           /* any authenticated user */
	PERM_COURSE_MEMBER,  /* a participant of the course named by the route */
	PERM_COURSE_TEACHER, /* a teacher of that course */
	PERM_PROJECT_READ,   /* read access to the project named by the route */
	PERM_PROJECT_WRITE,  /* write access to that project */
	PERM_ADMIN,          /* an administrator */
	PERM_DEV,            /* development hooks, only when api.dev_events is on */
	PERM__COUNT
};

/* Lower-case name as printed by `cohort-api --routes` and used in the
 * OpenAPI document (x-cohort-permission); "?" for values outside the enum. */
const char *permission_name(enum permission p);

/* 0 when the request may proceed; COHORT_E_AUTH (401), COHORT_E_FORBIDDEN
 * (403) or COHORT_E_DISABLED (404) otherwise. */
int permission_check(enum permission p, const struct request *req);

#endif
