#ifndef COHORT_API_FOLLOWS_H
#define COHORT_API_FOLLOWS_H

struct request;
struct response;

/* GET/PUT/DELETE /lessons/{lesson}/follows[/{participant}]: the
 * participants whose projects the caller follows in a lesson (issue 6).
 * Following needs read access to the participant's project. */
int follows_list(struct request *req, struct response *res);
int follow_put(struct request *req, struct response *res);
int follow_delete(struct request *req, struct response *res);

#endif
