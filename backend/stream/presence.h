/*
 * presence.h — cohort-stream's side of presence (core/presence.h has the
 * model and the scripts; docs/presence.md the design).
 *
 * A connection that asked for presence in a lesson (SSE ?presence=, or the
 * WebSocket `presence` message) is, once authorized and named (acl.c looks
 * the course nickname up off the loop), a member of the lesson's live set:
 * touched now and every presence.heartbeat_s, left when it closes. Every
 * presence.sweep_ms the process sweeps the lessons it has members in, so
 * that users whose connections all closed (after the grace period) or
 * expired (a crashed streamer) get their `offline` event. All Redis work
 * goes over the feed's asynchronous command connection; nothing blocks.
 */
#ifndef COHORT_STREAM_PRESENCE_H
#define COHORT_STREAM_PRESENCE_H

#include <stdbool.h>
#include <stdint.h>

struct conn;
struct feed;
struct presence;
struct server;

int presence_new(struct presence **out, struct server *srv);
void presence_set_feed(struct presence *p, struct feed *f);
/* Stops the timers (shutdown). */
void presence_stop(struct presence *p);
/* After the loop ended. NULL is fine. */
void presence_free(struct presence *p);

/* The connection wants presence in lesson as editor session client, at
 * project/file (0/NULL: not said). It takes effect once acl.c checked it
 * (presence_named); another lesson or session then leaves the old one. */
int presence_want(struct conn *c, int64_t lesson, const char *client, int64_t project, const char *file);
/* The lesson (and project, 0: none) whose check the connection waits for;
 * 0 when nothing waits. */
int64_t presence_waiting(const struct conn *c);
int64_t presence_waiting_project(const struct conn *c);
/* acl.c's answer for that lesson and project: err 0 and the display name,
 * or a refusal (the WebSocket gets an error message; an earlier presence
 * stays). An answer for an older request is ignored. */
void presence_named(struct conn *c, int64_t lesson, int64_t project, int err, const char *name);
/* The lesson the connection is present in (0: none): a revoked lesson
 * scope ends presence too. */
int64_t presence_lesson(const struct conn *c);
/* Leaves (when present) and frees. NULL conn->pres is fine. */
void presence_conn_free(struct conn *c);

#endif
