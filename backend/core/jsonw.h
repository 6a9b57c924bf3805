/*
 * jsonw.h — a small JSON writer for the one object each `cohort` command
 * prints. Calls nest objects and arrays; the writer inserts the commas.
 * Errors are sticky: the first failure (out of memory, the output bound,
 * nesting deeper than JSONW_MAX_DEPTH, a mismatched end) is kept in err and
 * later calls do nothing, so callers check once, at the end.
 *
 * Keys are required inside objects and must be NULL inside arrays and at
 * the top level; getting that wrong is a programmer error (BUG).
 */
#ifndef COHORT_JSONW_H
#define COHORT_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"

#define JSONW_MAX_DEPTH 16
#define JSONW_MAX_BYTES ((size_t)16 << 20)

struct jsonw {
	struct strbuf sb;
	unsigned depth;
	char open[JSONW_MAX_DEPTH];       /* '{' or '[' per level */
	bool has_items[JSONW_MAX_DEPTH];  /* a comma is due before the next item */
	int err;
};

void jsonw_init(struct jsonw *w);
void jsonw_release(struct jsonw *w);

void jsonw_obj(struct jsonw *w, const char *key);
void jsonw_arr(struct jsonw *w, const char *key);
void jsonw_end(struct jsonw *w);

void jsonw_str(struct jsonw *w, const char *key, const char *s);
void jsonw_strn(struct jsonw *w, const char *key, const char *s, size_t len);
void jsonw_int(struct jsonw *w, const char *key, int64_t v);
void jsonw_bool(struct jsonw *w, const char *key, bool v);
void jsonw_null(struct jsonw *w, const char *key);
/* An already valid, compact JSON value (the caller vouches for it). */
void jsonw_raw(struct jsonw *w, const char *key, const char *json, size_t len);
/* An id, or null when it is 0 (ids start at 1). */
void jsonw_id(struct jsonw *w, const char *key, int64_t id);

/* 0 when the document is complete (every object and array closed). */
int jsonw_finish(struct jsonw *w);

#endif
