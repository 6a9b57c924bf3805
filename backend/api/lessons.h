/*
 * lessons.h — a course's lessons, my project in a lesson, and the lesson's
 * access listing, over REST.
 */
#ifndef COHORT_API_LESSONS_H
#define COHORT_API_LESSONS_H

struct request;
struct response;

int lessons_list(struct request *req, struct response *res);
int lessons_post(struct request *req, struct response *res);
int lessons_order(struct request *req, struct response *res);
int lesson_get_one(struct request *req, struct response *res);
int lesson_patch(struct request *req, struct response *res);
int lesson_delete_one(struct request *req, struct response *res);
int lesson_project(struct request *req, struct response *res);
int lesson_access_get(struct request *req, struct response *res);

#endif
