/* health.h — GET /api/v1/health: is this instance able to serve (Redis and
 * the database answer), and which versions is it running. */
#ifndef COHORT_API_HEALTH_H
#define COHORT_API_HEALTH_H

struct request;
struct response;

int health_get(struct request *req, struct response *res);

#endif
