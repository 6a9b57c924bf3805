/*
 * collab.h — the live-editing authority (docs/protocol.md section 9).
 *
 * Storage is core/workspace.h's (a file's version, its log of retained
 * updates, a snapshot of its text); this module decides what to accept:
 *   - a push {version V, updates [{clientID, changes}]} is rebased over each
 *     update accepted after V, one at a time and in order (never over their
 *     composition), skipping the pushed updates already accepted (same
 *     client id, in order, the way @codemirror/collab confirms its own);
 *   - what remains is applied to the current text (which validates every
 *     position, surrogate pairs included) and committed with the next
 *     versions and its "update" events in one atomic Redis step that fails
 *     if anyone committed meanwhile (then the push is rebased again).
 *
 * The text at the current version lives in a per-process cache (bounded in
 * bytes, least recently used first out), brought forward with the log
 * entries it has not seen, so accepting an edit never reads or writes the
 * whole file in Redis; every COLLAB_FOLD_EVERY updates the cached text is
 * written back as the new snapshot. The cache is thread-safe: one push per
 * file at a time in a process, different files in parallel.
 *
 * Errors (core/err.h), with nothing changed: COHORT_E_FIELD (malformed
 * update), COHORT_E_RANGE (a version from the future, a change set whose
 * length does not match, a position inside a surrogate pair),
 * COHORT_E_GONE, COHORT_E_BINARY, COHORT_E_NOTFOUND, COHORT_E_LIMIT,
 * COHORT_E_CONFLICT (too much contention: retry). ws->reason or the err
 * buffer says why.
 */
#ifndef COHORT_COLLAB_H
#define COHORT_COLLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct workspace;
struct strbuf;
struct json_object;

#define COLLAB_CLIENT_MAX 64
#define COLLAB_MAX_UPDATES 1000    /* updates in one push */
#define COLLAB_PULL_MAX 1000       /* updates in one pull answer */
#define COLLAB_FOLD_EVERY 100
#define COLLAB_CACHE_DEFAULT ((size_t)64 << 20)
#define COLLAB_SUM_HEX 65

struct collab_push_result {
	long long version; /* the file's version after the push */
	size_t accepted, skipped;
};

/* Sets the cache's byte bound (call once at start; default COLLAB_CACHE_DEFAULT). */
void collab_cache_limit(size_t bytes);
/* Drops every cached document (tests, shutdown). */
void collab_cache_clear(void);

/* True for a valid client id: 1..64 of [A-Za-z0-9_-], not "rest". */
bool collab_client_ok(const char *s, size_t len);

/* Checks a pushed "updates" array the way collab_push does before it reads
 * the file: 1..COLLAB_MAX_UPDATES objects, each with a valid clientID and
 * changes that parse and apply to what the update before produced. *n gets
 * the count. Touches nothing; COHORT_E_FIELD, COHORT_E_RANGE, COHORT_E_LIMIT
 * or COHORT_E_NOMEM with err set. */
int collab_updates_check(struct json_object *updates, size_t *n, char *err, size_t errlen);

/* Pushes updates (the parsed "updates" array) based on version. */
int collab_push(struct workspace *ws, const char *path, long long version,
		struct json_object *updates, struct collab_push_result *out, char *err, size_t errlen);

struct collab_doc {
	long long fid;
	long long version;
	bool crlf;
	char sum[COLLAB_SUM_HEX]; /* filled when asked for */
};

/* The text at the current version ("\n" line breaks) appended to text; with
 * want_sum also its SHA-256 (cached per version). */
int collab_get(struct workspace *ws, const char *path, struct strbuf *text, bool want_sum,
	       struct collab_doc *out);

/* The sum at version: COHORT_E_CONFLICT with *current set when version is not
 * the file's current version. */
int collab_sum(struct workspace *ws, const char *path, long long version, char sum[COLLAB_SUM_HEX],
	       long long *current);

/* Appends {"version":N,"updates":[{"version","clientID","changes"},…]} with
 * the updates after since (at most COLLAB_PULL_MAX). With wait_ms > 0 and
 * nothing new, waits on the project's stream for up to wait_ms. */
int collab_pull(struct workspace *ws, const char *path, long long since, int wait_ms,
		struct strbuf *out);

#endif
