/*
 * courses.h — courses, join codes and participants over REST.
 */
#ifndef COHORT_API_COURSES_H
#define COHORT_API_COURSES_H

struct request;
struct response;

int courses_list(struct request *req, struct response *res);
int courses_post(struct request *req, struct response *res);
int courses_join(struct request *req, struct response *res);
int course_get_one(struct request *req, struct response *res);
int course_join_code(struct request *req, struct response *res);
int participants_list(struct request *req, struct response *res);
int participant_patch(struct request *req, struct response *res);
int participant_delete(struct request *req, struct response *res);

#endif
