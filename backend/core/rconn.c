#include "core/rconn.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rconn {
	redisContext *ctx;
	char *host;
	char *socket;
	int port;
	int timeout_ms;
	int64_t next_try_us;
	long long tracking; /* CLIENT TRACKING ... REDIRECT id of this ctx, 0: off */
	char version[32];
	char last_error[128];
};

static atomic_uint_fast64_t error_count;

uint64_t rconn_error_count(void)
{
	return atomic_load(&error_count);
}

static void fail(struct rconn *rc, const char *what)
{
	atomic_fetch_add(&error_count, 1);
	snprintf(rc->last_error, sizeof(rc->last_error), "%s", what);
}

static void drop(struct rconn *rc)
{
	if (rc->ctx)
		redisFree(rc->ctx);
	rc->ctx = NULL;
	rc->tracking = 0;
}

/*
 * An idle connection has nothing to read: readable (or hung up) means the
 * server closed it — typically Redis restarted since the last command. It is
 * replaced before a command is written to it, so a command that must not be
 * re-sent (XADD) is not lost to a connection that was already dead.
 */
static bool peer_closed(const redisContext *ctx)
{
	struct pollfd p = { .fd = ctx->fd, .events = POLLIN | POLLRDHUP };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

static int ensure(struct rconn *rc)
{
	struct timeval tv = { rc->timeout_ms / 1000, (rc->timeout_ms % 1000) * 1000 };
	int64_t now = clock_mono_us();

	if (rc->ctx && !rc->ctx->err && !peer_closed(rc->ctx))
		return 0;
	drop(rc);
	if (now < rc->next_try_us) {
		fail(rc, "reconnect backoff");
		return COHORT_E_REDIS;
	}
	rc->next_try_us = now + RCONN_RETRY_MS * 1000;
	if (rc->socket && *rc->socket)
		rc->ctx = redisConnectUnixWithTimeout(rc->socket, tv);
	else
		rc->ctx = redisConnectWithTimeout(rc->host, rc->port, tv);
	if (!rc->ctx || rc->ctx->err) {
		fail(rc, rc->ctx ? rc->ctx->errstr : "cannot allocate context");
		log_warn("redis_connect_failed", LF_S("error", rc->last_error));
		drop(rc);
		return COHORT_E_REDIS;
	}
	if (redisSetTimeout(rc->ctx, tv) != REDIS_OK) {
		fail(rc, "cannot set timeout");
		drop(rc);
		return COHORT_E_REDIS;
	}
	return 0;
}

struct rconn *rconn_new(const struct cohort_config *cfg)
{
	struct rconn *rc = calloc(1, sizeof(*rc));

	if (!rc)
		return NULL;
	rc->host = strdup(cfg->redis_host);
	rc->socket = strdup(cfg->redis_socket ? cfg->redis_socket : "");
	rc->port = cfg->redis_port;
	rc->timeout_ms = cfg->redis_timeout_ms;
	if (!rc->host || !rc->socket) {
		rconn_free(rc);
		return NULL;
	}
	return rc;
}

void rconn_free(struct rconn *rc)
{
	if (!rc)
		return;
	drop(rc);
	free(rc->host);
	free(rc->socket);
	free(rc);
}

/* A command's reply: NULL is an I/O failure (the connection is dropped), an
 * error reply is COHORT_E_REDIS with its message kept; else *reply owns r. */
static int settle(struct rconn *rc, redisReply *r, struct redisReply **reply)
{
	if (!r) {
		fail(rc, rc->ctx->errstr[0] ? rc->ctx->errstr : "connection lost");
		drop(rc);
		return COHORT_E_REDIS;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		fail(rc, r->str);
		freeReplyObject(r);
		return COHORT_E_REDIS;
	}
	*reply = r;
	return 0;
}

int rconn_cmd(struct rconn *rc, struct redisReply **reply, int argc, const char **argv,
	      const size_t *lens)
{
	int err = ensure(rc);

	*reply = NULL;
	if (err)
		return err;
	return settle(rc, redisCommandArgv(rc->ctx, argc, argv, lens), reply);
}

int rconn_cmd_wait(struct rconn *rc, int extra_ms, struct redisReply **reply, int argc,
		   const char **argv, const size_t *lens)
{
	int total = rc->timeout_ms + extra_ms;
	struct timeval tv = { total / 1000, (total % 1000) * 1000 };
	struct timeval back = { rc->timeout_ms / 1000, (rc->timeout_ms % 1000) * 1000 };
	int err = ensure(rc);

	*reply = NULL;
	if (err)
		return err;
	if (redisSetTimeout(rc->ctx, tv) != REDIS_OK) {
		fail(rc, "cannot set timeout");
		drop(rc);
		return COHORT_E_REDIS;
	}
	err = rconn_cmd(rc, reply, argc, argv, lens);
	if (rc->ctx && redisSetTimeout(rc->ctx, back) != REDIS_OK) {
		fail(rc, "cannot set timeout");
		drop(rc);
	}
	return err;
}

/* The next reply of a pipeline; NULL on I/O failure (settle says so). */
static redisReply *next_reply(struct rconn *rc)
{
	void *r = NULL;

	return redisGetReply(rc->ctx, &r) == REDIS_OK ? r : NULL;
}

static bool is_ok(const redisReply *r)
{
	return r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "OK");
}

int rconn_cmd_tracked(struct rconn *rc, long long redirect, bool *tracked, struct redisReply **reply,
		      int argc, const char **argv, const size_t *lens)
{
	char id[24];
	const char *on[] = { "CLIENT", "TRACKING", "ON", "REDIRECT", id, "OPTIN" };
	const char *caching[] = { "CLIENT", "CACHING", "yes" };
	bool switching;
	redisReply *r;
	int err = ensure(rc);

	*reply = NULL;
	*tracked = false;
	if (err)
		return err;
	snprintf(id, sizeof(id), "%lld", redirect);
	switching = rc->tracking != redirect;
	if ((switching && redisAppendCommandArgv(rc->ctx, 6, on, NULL) != REDIS_OK) ||
	    redisAppendCommandArgv(rc->ctx, 3, caching, NULL) != REDIS_OK ||
	    redisAppendCommandArgv(rc->ctx, argc, argv, lens) != REDIS_OK) {
		fail(rc, "cannot queue the command");
		drop(rc);
		return COHORT_E_REDIS;
	}
	/* The TRACKING (when sent) and CACHING answers, then the command's. */
	*tracked = true;
	for (int i = switching ? 0 : 1; i < 2; i++) {
		if (!(r = next_reply(rc))) {
			*tracked = false;
			return settle(rc, NULL, reply);
		}
		if (i == 0 && is_ok(r))
			rc->tracking = redirect;
		if (!is_ok(r))
			*tracked = false;
		freeReplyObject(r);
	}
	err = settle(rc, next_reply(rc), reply);
	if (err)
		*tracked = false;
	return err;
}

void rconn_reply_free(struct redisReply *r)
{
	if (r)
		freeReplyObject(r);
}

const char *rconn_last_error(const struct rconn *rc)
{
	return rc->last_error;
}

int rconn_ping(struct rconn *rc)
{
	const char *argv[] = { "PING" };
	redisReply *r;
	int err = rconn_cmd(rc, &r, 1, argv, NULL);

	rconn_reply_free(r);
	return err;
}

int rconn_barrier(struct rconn *rc)
{
	return rconn_ping(rc);
}

const char *rconn_server_version(struct rconn *rc)
{
	const char *argv[] = { "INFO", "server" };
	redisReply *r;
	const char *p;

	if (rc->version[0])
		return rc->version;
	if (rconn_cmd(rc, &r, 2, argv, NULL))
		return NULL;
	if (r->type == REDIS_REPLY_STRING && (p = strstr(r->str, "redis_version:"))) {
		p += strlen("redis_version:");
		size_t n = strcspn(p, "\r\n");

		if (n >= sizeof(rc->version))
			n = sizeof(rc->version) - 1;
		memcpy(rc->version, p, n);
		rc->version[n] = '\0';
	}
	rconn_reply_free(r);
	return rc->version[0] ? rc->version : NULL;
}
