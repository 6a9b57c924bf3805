/*
 * projects.h — a project and the grants its owner gives, over REST. A grant
 * change is published as a "grant" event on the project's stream and on the
 * grantee's personal stream.
 */
#ifndef COHORT_API_PROJECTS_H
#define COHORT_API_PROJECTS_H

struct request;
struct response;

int project_get_one(struct request *req, struct response *res);
int grants_list(struct request *req, struct response *res);
int grant_put(struct request *req, struct response *res);
int grant_delete_one(struct request *req, struct response *res);

#endif
