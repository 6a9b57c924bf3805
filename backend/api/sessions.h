/*
 * sessions.h — signing in and out (POST/DELETE /api/v1/sessions), who am I
 * (GET /api/v1/me) and creating accounts (POST /api/v1/users, admins).
 */
#ifndef COHORT_API_SESSIONS_H
#define COHORT_API_SESSIONS_H

struct request;
struct response;

int sessions_post(struct request *req, struct response *res);
int sessions_delete(struct request *req, struct response *res);
int me_get(struct request *req, struct response *res);
int users_post(struct request *req, struct response *res);

#endif
