/*
 * edit.h — live editing over WebSocket (docs/protocol.md section 9): the
 * `push` and `cursor` messages, run on libuv's worker pool with the same
 * core code as the REST calls (core/collab.h, core/cursor.h), never on the
 * event loop.
 *
 * A job checks the principal's access to the project first (write for a
 * push, read for a cursor: core project_check, the REST permissions'
 * decision), then pushes or publishes the cursor. Its answer — an `ack`, an
 * `error`, or nothing for a cursor that went through — arrives on the loop
 * through the callback. Each running job borrows one slot holding an SQLite
 * handle and a synchronous Redis connection (core/rconn.h); there are as
 * many slots as libuv has worker threads, so no job waits for a slot and
 * the number of connections stays bounded.
 */
#ifndef COHORT_STREAM_EDIT_H
#define COHORT_STREAM_EDIT_H

#include <stddef.h>
#include <stdint.h>

struct authz_who;
struct cohort_config;
struct edit;
struct edit_job;
struct uv_loop_s;
struct wsmsg;

/* Jobs one connection may have running at once; more is rate_limited. */
#define EDIT_CONN_MAX 8

/* reply is the JSON text of the answer, or NULL (a cursor that went
 * through); the callee takes it (free). who is the principal the job
 * resolved from the connection's token, or NULL when it was known already
 * or the token was refused. */
typedef void edit_done_fn(void *arg, struct edit_job *job, char *reply, const struct authz_who *who);

/* Loads the keyring (for connections whose token was not checked yet).
 * Runs before the loop starts. */
int edit_new(struct edit **out, struct uv_loop_s *loop, const struct cohort_config *cfg, char *errbuf,
	     size_t errlen);
/* After the loop has ended (no job is running then). NULL is fine. */
void edit_free(struct edit *e);

/* Starts the job for m (a WSMSG_PUSH or WSMSG_CURSOR; its payload is taken)
 * received at recv_us (wall clock), for a connection whose principal is
 * `known`, or else who carries tok (NULL and no principal: the caller
 * answers unauthenticated itself). done runs exactly once, on the loop,
 * unless the job is cancelled. COHORT_E_UNAVAILABLE when
 * stream.edit_pending_max jobs are pending (done does not run). */
int edit_start(struct edit *e, struct wsmsg *m, int64_t recv_us, const struct authz_who *known, const char *tok,
	       edit_done_fn *done, void *arg, struct edit_job **out);
/* done will not run; the job is freed when the worker is done with it. */
void edit_cancel(struct edit_job *j);

/* Jobs pending now (metrics). */
size_t edit_pending(const struct edit *e);

/* The answer to a refused message: {"type":"error","id":…,"code","detail"}
 * (idjson "" leaves the id out). Heap string, NULL when out of memory. */
char *edit_error_reply(const char *idjson, int err, const char *detail);

#endif
