/*
 * dev_events.h — POST /api/v1/dev/events: append one event to a dev:<name>
 * stream. The development hook that lets the event path be exercised end to
 * end before real producers exist; the route's permission (PERM_DEV) keeps
 * it off unless api.dev_events is true.
 */
#ifndef COHORT_API_DEV_EVENTS_H
#define COHORT_API_DEV_EVENTS_H

struct request;
struct response;

int dev_events_post(struct request *req, struct response *res);

#endif
