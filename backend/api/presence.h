#ifndef COHORT_API_PRESENCE_H
#define COHORT_API_PRESENCE_H

struct request;
struct response;

/* GET /lessons/{lesson}/presence: every participant, online or not, with
 * their editor sessions' places and (for projects the caller may read)
 * the project's last activity. */
int presence_get(struct request *req, struct response *res);
/* PUT /lessons/{lesson}/presence {client, project?, file?}: where an SSE
 * client's editor session is (`moved` event). */
int presence_put(struct request *req, struct response *res);

#endif
