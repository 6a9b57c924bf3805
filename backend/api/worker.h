/*
 * worker.h — what one cohort-api worker thread owns: its Redis connection
 * and its database handle (never shared between threads), and the glue that
 * runs one FastCGI request through the request layer and the dispatcher.
 */
#ifndef COHORT_API_WORKER_H
#define COHORT_API_WORKER_H

#include <stddef.h>
#include <stdint.h>

struct cohort_config;
struct authcache;
struct rconn;
struct db;
struct FCGX_Request;

struct worker {
	size_t index;
	const struct cohort_config *cfg;
	struct rconn *redis; /* connects lazily, reconnects by itself */
	struct db *db;       /* NULL until opened; see worker_db */
	int64_t db_checked_us;  /* monotonic time db last answered a ping */
	uint64_t db_errors;     /* db's error count at that ping */
	struct authcache *auth; /* what authorization read (api/authcache.h) */
};

int worker_init(struct worker *w, size_t index, const struct cohort_config *cfg);
void worker_release(struct worker *w);

/* The worker's database handle, (re)opened when it is missing or does not
 * answer; COHORT_E_DB when the database cannot be reached. An open handle
 * is pinged only when it reported an error since the last ping or the last
 * ping is older than WORKER_DB_PING_US, not on every call. */
int worker_db(struct worker *w, struct db **out);

/* Closes the database handle; the next worker_db opens a new one. */
void worker_db_close(struct worker *w);

/* Handles the request accepted on fcgx and writes its response; the caller
 * finishes the request (FCGX_Finish_r) afterwards. */
void worker_serve(struct worker *w, struct FCGX_Request *fcgx);

#endif
