/*
 * rconn.h — a synchronous Redis connection (hiredis) with timeouts and
 * reconnect, for cohort-api worker threads and the CLI. One per thread.
 *
 * A command that fails on I/O marks the connection broken and returns
 * COHORT_E_REDIS; the next command reconnects first (at most once per
 * RCONN_RETRY_MS, so a down Redis costs one fast failure per request rather
 * than a connect timeout each). Commands are never re-sent automatically,
 * because XADD and friends are not idempotent.
 */
#ifndef COHORT_RCONN_H
#define COHORT_RCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct redisReply;
struct rconn;
struct cohort_config;

#define RCONN_RETRY_MS 200

struct rconn *rconn_new(const struct cohort_config *cfg);
void rconn_free(struct rconn *rc);

/* Argument-vector command. On success *reply is owned by the caller
 * (rconn_reply_free); a Redis error reply is returned as COHORT_E_REDIS with
 * the message in rconn_last_error(). */
int rconn_cmd(struct rconn *rc, struct redisReply **reply, int argc, const char **argv,
	      const size_t *lens);
/* The same for a command that may block up to extra_ms (XREAD BLOCK): the
 * reply timeout is raised by extra_ms for this one command. */
int rconn_cmd_wait(struct rconn *rc, int extra_ms, struct redisReply **reply, int argc,
		   const char **argv, const size_t *lens);
/* The same for a read whose keys Redis is to track for a client-side cache
 * (api/rcache.h): the command goes out after CLIENT CACHING yes (and, the
 * first time on this connection or for a new redirect, CLIENT TRACKING ON
 * REDIRECT <redirect> OPTIN), all in one write. *tracked is true only when
 * Redis accepted both for this very command; a reconnect starts untracked. */
int rconn_cmd_tracked(struct rconn *rc, long long redirect, bool *tracked, struct redisReply **reply,
		      int argc, const char **argv, const size_t *lens);
void rconn_reply_free(struct redisReply *r);
const char *rconn_last_error(const struct rconn *rc);

/* After a write whose effects other processes may cache (api/rcache.h): a
 * PING round trip. Redis sends a write's answer and the invalidations it
 * caused in the same pass of its event loop (the answer first), and reads
 * the PING only in a later pass, so once the PING is answered every
 * invalidation is in its receiver's socket: an answer given to the client
 * after this cannot be followed by a stale read in another process. */
int rconn_barrier(struct rconn *rc);

/* PING, and the server's version from INFO (cached after the first success). */
int rconn_ping(struct rconn *rc);
const char *rconn_server_version(struct rconn *rc);

/* Process-wide count of failed Redis calls, for metrics. */
uint64_t rconn_error_count(void);

#endif
