/*
 * treecache.h — rendered GET .../tree bodies, kept per cohort-api process
 * and reused while the workspace's tree generation (core/workspace.h) is the
 * one they were rendered at.
 *
 * A listing of 2,000 files cost milliseconds of Lua in Redis and of parsing
 * and rendering here; a tree changes far less often than it is listed. The
 * generation check stays in Redis (workspace_list_since answers SAME), so a
 * cached body is served only when the tree is provably unchanged: no TTL, and
 * nothing to invalidate by hand. The cache sits after authorization, so it
 * never decides who may read.
 *
 * Bounded: at most TREECACHE_ENTRIES bodies and TREECACHE_MAX_BYTES in all,
 * least recently used out first; a body over a quarter of the bound is not
 * kept. Thread-safe (one mutex; copies are made under it).
 */
#ifndef COHORT_API_TREECACHE_H
#define COHORT_API_TREECACHE_H

#include <stddef.h>

struct strbuf;

#define TREECACHE_ENTRIES 32
#define TREECACHE_MAX_BYTES ((size_t)32 << 20)

/* The generation of the body cached under key into gen (gencap bytes);
 * 0 when there is one, COHORT_E_NOTFOUND otherwise. */
int treecache_gen(const char *key, char *gen, size_t gencap);
/* Appends the body cached under key to out if it is still at gen: 0, or
 * COHORT_E_NOTFOUND when it is gone or was replaced in between. */
int treecache_copy(const char *key, const char *gen, struct strbuf *out);
/* Keeps body as key's listing at gen (replacing what key had). Silently
 * skipped when gen is "" or the body is too large; a failed allocation only
 * means nothing is kept. */
void treecache_put(const char *key, const char *gen, const char *body, size_t len);
/* Drops everything (tests, shutdown). */
void treecache_clear(void);

#endif
