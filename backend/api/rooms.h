/*
 * rooms.h — anonymous rooms over REST (docs/rooms.md).
 */
#ifndef COHORT_API_ROOMS_H
#define COHORT_API_ROOMS_H

struct request;
struct response;

int room_join_post(struct request *req, struct response *res);
int room_get_one(struct request *req, struct response *res);
int room_member_patch(struct request *req, struct response *res);
int room_member_delete(struct request *req, struct response *res);
int room_member_heartbeat(struct request *req, struct response *res);
int room_doc_get(struct request *req, struct response *res);
int room_doc_push(struct request *req, struct response *res);
int room_doc_pull(struct request *req, struct response *res);
int room_doc_sum(struct request *req, struct response *res);
int room_doc_cursor(struct request *req, struct response *res);

#endif
