/*
 * The route table. A new route is one row here plus its responder file;
 * the permission column is enforced by the dispatcher before the handler
 * runs, and docs/openapi.yaml must describe the row (checked by
 * tests/integ/t9001-openapi-routes.test.mjs).
 */
#include "api/routes.h"
#include "api/courses.h"
#include "api/dev_events.h"
#include "api/docs.h"
#include "api/files.h"
#include "api/follows.h"
#include "api/health.h"
#include "api/lessons.h"
#include "api/metrics.h"
#include "api/presence.h"
#include "api/projects.h"
#include "api/rooms.h"
#include "api/router.h"
#include "api/sessions.h"
#include "api/templates.h"
#include "core/config.h"

#include <stddef.h>
#include <string.h>

#define C "/api/v1/courses/{course}"
#define L "/api/v1/lessons/{lesson}"
#define P "/api/v1/projects/{project}"
#define R "/api/v1/rooms/{room}"

static const struct route table[] = {
	/* method  pattern                                  permission             handler             name */
	{ "GET",    "/api/v1/health",                       PERM_PUBLIC,           health_get,         "health" },
	{ "GET",    "/api/v1/metrics",                      PERM_PUBLIC,           metrics_get,        "metrics" },
	{ "POST",   "/api/v1/dev/events",                   PERM_DEV,              dev_events_post,    "dev_events" },

	{ "POST",   "/api/v1/sessions",                     PERM_PUBLIC,           sessions_post,      "session_create" },
	{ "DELETE", "/api/v1/sessions",                     PERM_USER,             sessions_delete,    "session_delete" },
	{ "GET",    "/api/v1/me",                           PERM_USER,             me_get,             "me" },
	{ "POST",   "/api/v1/users",                        PERM_ADMIN,            users_post,         "user_create" },

	{ "GET",    "/api/v1/courses",                      PERM_USER,             courses_list,       "course_list" },
	{ "POST",   "/api/v1/courses",                      PERM_USER,             courses_post,       "course_create" },
	{ "POST",   "/api/v1/courses/join",                 PERM_USER,             courses_join,       "course_join" },
	{ "GET",    C,                                      PERM_COURSE_MEMBER,    course_get_one,     "course_get" },
	{ "POST",   C "/join-code",                         PERM_COURSE_TEACHER,   course_join_code,   "course_rotate_code" },
	{ "GET",    C "/participants",                      PERM_COURSE_MEMBER,    participants_list,  "participant_list" },
	{ "PATCH",  C "/participants/{participant}",        PERM_PARTICIPANT_SELF, participant_patch,  "participant_update" },
	{ "DELETE", C "/participants/{participant}",        PERM_COURSE_TEACHER,   participant_delete, "participant_remove" },
	{ "GET",    C "/lessons",                           PERM_COURSE_MEMBER,    lessons_list,       "lesson_list" },
	{ "POST",   C "/lessons",                           PERM_COURSE_TEACHER,   lessons_post,       "lesson_create" },
	{ "PUT",    C "/lessons/order",                     PERM_COURSE_TEACHER,   lessons_order,      "lesson_reorder" },

	{ "GET",    L,                                      PERM_COURSE_MEMBER,    lesson_get_one,     "lesson_get" },
	{ "PATCH",  L,                                      PERM_COURSE_TEACHER,   lesson_patch,       "lesson_update" },
	{ "DELETE", L,                                      PERM_COURSE_TEACHER,   lesson_delete_one,  "lesson_delete" },
	{ "GET",    L "/project",                           PERM_COURSE_MEMBER,    lesson_project,     "lesson_my_project" },
	{ "GET",    L "/access",                            PERM_COURSE_MEMBER,    lesson_access_get,  "lesson_access" },
	{ "GET",    L "/template",                          PERM_COURSE_MEMBER,    template_get,       "template_get" },
	{ "PUT",    L "/template",                          PERM_COURSE_TEACHER,   template_put,       "template_put" },
	{ "DELETE", L "/template",                          PERM_COURSE_TEACHER,   template_delete,    "template_delete" },
	{ "GET",    L "/presence",                          PERM_COURSE_MEMBER,    presence_get,       "presence_get" },
	{ "PUT",    L "/presence",                          PERM_COURSE_MEMBER,    presence_put,       "presence_put" },
	{ "GET",    L "/follows",                           PERM_COURSE_MEMBER,    follows_list,       "follow_list" },
	{ "PUT",    L "/follows/{participant}",             PERM_COURSE_MEMBER,    follow_put,         "follow_set" },
	{ "DELETE", L "/follows/{participant}",             PERM_COURSE_MEMBER,    follow_delete,      "follow_remove" },

	{ "GET",    P,                                      PERM_PROJECT_READ,     project_get_one,    "project_get" },
	{ "GET",    P "/grants",                            PERM_PROJECT_OWNER,    grants_list,        "grant_list" },
	{ "PUT",    P "/grants/{participant}",              PERM_PROJECT_OWNER,    grant_put,          "grant_set" },
	{ "DELETE", P "/grants/{participant}",              PERM_PROJECT_OWNER,    grant_delete_one,   "grant_revoke" },
	{ "GET",    P "/tree",                              PERM_PROJECT_READ,     files_tree,         "file_tree" },
	{ "GET",    P "/file",                              PERM_PROJECT_READ,     file_get,           "file_get" },
	{ "PUT",    P "/file",                              PERM_PROJECT_WRITE,    file_put,           "file_put" },
	{ "DELETE", P "/file",                              PERM_PROJECT_WRITE,    file_delete,        "file_delete" },
	{ "POST",   P "/dirs",                              PERM_PROJECT_WRITE,    dir_post,           "dir_create" },
	{ "POST",   P "/move",                              PERM_PROJECT_WRITE,    files_move,         "file_move" },
	{ "GET",    P "/archive",                           PERM_PROJECT_READ,     project_archive,    "project_archive" },
	{ "GET",    P "/doc",                               PERM_PROJECT_READ,     doc_get,            "doc_get" },
	{ "POST",   P "/doc/updates",                       PERM_PROJECT_WRITE,    doc_push,           "doc_push" },
	{ "GET",    P "/doc/updates",                       PERM_PROJECT_READ,     doc_pull,           "doc_pull" },
	{ "GET",    P "/doc/sum",                           PERM_PROJECT_READ,     doc_sum,            "doc_sum" },
	{ "PUT",    P "/doc/cursor",                        PERM_PROJECT_READ,     doc_cursor,         "doc_cursor" },

	/* Anonymous rooms (docs/rooms.md): public, members prove themselves with X-Room-Member. */
	{ "GET",    R,                                      PERM_PUBLIC,           room_get_one,       "room_get" },
	{ "POST",   R "/members",                           PERM_PUBLIC,           room_join_post,     "room_join" },
	{ "PATCH",  R "/members/{member}",                  PERM_PUBLIC,           room_member_patch,  "room_rename" },
	{ "DELETE", R "/members/{member}",                  PERM_PUBLIC,           room_member_delete, "room_leave" },
	{ "POST",   R "/members/{member}/heartbeat",        PERM_PUBLIC,           room_member_heartbeat, "room_heartbeat" },
	{ "GET",    R "/doc",                               PERM_PUBLIC,           room_doc_get,       "room_doc_get" },
	{ "POST",   R "/doc/updates",                       PERM_PUBLIC,           room_doc_push,      "room_doc_push" },
	{ "GET",    R "/doc/updates",                       PERM_PUBLIC,           room_doc_pull,      "room_doc_pull" },
	{ "GET",    R "/doc/sum",                           PERM_PUBLIC,           room_doc_sum,       "room_doc_sum" },
	{ "PUT",    R "/doc/cursor",                        PERM_PUBLIC,           room_doc_cursor,    "room_doc_cursor" },
};

/* Routes whose body limit is not api.max_body: route name, config field. */
static const struct {
	const char *name;
	size_t field; /* offset of a long in struct cohort_config */
} body_limits[] = {
	{ "template_put", offsetof(struct cohort_config, templates_max_upload) },
};

long routes_max_body(const struct route *r, const struct cohort_config *cfg)
{
	for (size_t i = 0; r && i < sizeof(body_limits) / sizeof(body_limits[0]); i++)
		if (!strcmp(r->name, body_limits[i].name)) {
			long v;

			memcpy(&v, (const char *)cfg + body_limits[i].field, sizeof(v));
			return v;
		}
	return cfg->api_max_body;
}

const struct route *routes_table(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}

void routes_print(FILE *out)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		fprintf(out, "%s\t%s\t%s\t%s\n", table[i].method, table[i].pattern,
			permission_name(table[i].perm), table[i].name);
}
