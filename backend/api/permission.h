/*
 * permission.h — what a caller needs before a route's handler may run.
 *
 * Every row of the route table names one permission. The dispatcher checks
 * it once, before the handler; handlers never re-check. The resources a
 * route names are resolved here too, so a handler finds the course, lesson,
 * project and participant it works on already loaded in the request.
 */
#ifndef COHORT_API_PERMISSION_H
#define COHORT_API_PERMISSION_H

struct request;
struct response;

enum permission {
	PERM_PUBLIC,         /* anyone */
	PERM_USER,           /* any authenticated user */
	PERM_COURSE_MEMBER,  /* a participant of the course named by the route */
	PERM_COURSE_TEACHER, /* a teacher of that course */
	PERM_PROJECT_READ,   /* read access to the project named by the route */
	PERM_PROJECT_WRITE,  /* write access to that project */
	PERM_ADMIN,          /* an administrator */
	PERM_DEV,            /* development hooks, only when api.dev_events is on */
	PERM_PARTICIPANT_SELF, /* the {participant} of the route themself, or a teacher of its course */
	PERM_PROJECT_OWNER,  /* the owner of the project named by the route */
	PERM__COUNT
};

/* Lower-case name as printed by `cohort-api --routes` and used in the
 * OpenAPI document (x-cohort-permission); "?" for values outside the enum. */
const char *permission_name(enum permission p);

/*
 * 0 when the request may proceed, after resolving the route's {course},
 * {lesson}, {project} and {participant} into req (see request.h). Otherwise:
 *   COHORT_E_AUTH (401)      nobody signed in, on a route that is not public;
 *   COHORT_E_NOTFOUND (404)  an id that does not exist, or a course, lesson or
 *                            project outside every course the caller is in
 *                            (its existence is not revealed to outsiders);
 *   COHORT_E_FORBIDDEN (403) a participant without the role or the bits;
 *   COHORT_E_NOTOWNER (403)  someone other than the owner, on an owner route;
 *   COHORT_E_DISABLED (404)  a development route while api.dev_events is off.
 * Administrators pass every check. res receives the problem detail.
 */
int permission_check(enum permission p, struct request *req, struct response *res);

#endif
