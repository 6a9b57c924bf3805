#include "api/permission.h"
#include "api/request.h"
#include "core/config.h"
#include "core/err.h"

static const char *const names[PERM__COUNT] = {
	[PERM_PUBLIC] = "public",
	[PERM_USER] = "user",
	[PERM_COURSE_MEMBER] = "course_member",
	[PERM_COURSE_TEACHER] = "course_teacher",
	[PERM_PROJECT_READ] = "project_read",
	[PERM_PROJECT_WRITE] = "project_write",
	[PERM_ADMIN] = "admin",
	[PERM_DEV] = "dev",
};

const char *permission_name(enum permission p)
{
	return (unsigned)p < PERM__COUNT && names[p] ? names[p] : "?";
}

int permission_check(enum permission p, const struct request *req)
{
	switch (p) {
	case PERM_PUBLIC:
		return 0;
	case PERM_DEV:
		return req->cfg && req->cfg->dev_events ? 0 : COHORT_E_DISABLED;
	case PERM_USER:
	case PERM_COURSE_MEMBER:
	case PERM_COURSE_TEACHER:
	case PERM_PROJECT_READ:
	case PERM_PROJECT_WRITE:
	case PERM_ADMIN:
		/* No authentication exists yet, so nobody holds these. */
		return COHORT_E_AUTH;
	case PERM__COUNT:
		break;
	}
	return COHORT_E_FORBIDDEN;
}
