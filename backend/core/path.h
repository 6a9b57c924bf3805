/*
 * path.h — the one normalizer for paths inside a project, a template archive
 * or the object store. Every path that crosses an edge goes through
 * path_normalize() before anything else looks at it.
 *
 * A canonical path is:
 *   - valid UTF-8 (core/utf8.h), compared byte for byte (no Unicode
 *     normalization: "é" precomposed and decomposed are two different names);
 *   - one or more segments separated by single '/', none empty, none "." or
 *     "..", no leading or trailing '/';
 *   - free of NUL, C0 controls (U+0000..U+001F), DEL and C1 controls
 *     (U+0080..U+009F), and of backslashes (so no Windows-style separators);
 *   - at most PATH_MAX_BYTES bytes, PATH_MAX_SEGMENT bytes per segment and
 *     PATH_MAX_DEPTH segments.
 * The empty string is the project root; path_normalize() refuses it unless
 * PATH_ALLOW_ROOT is given.
 *
 * STRICT (the default, used for API input) refuses anything that is not
 * already canonical, so a client always learns the exact name stored.
 * PATH_LENIENT (used for archive entries, which commonly read "./src/" or
 * "a//b") drops "." and empty segments and one trailing '/', but still refuses
 * ".." anywhere and a leading '/', so nothing can climb out of the root.
 *
 * Errors: COHORT_E_FIELD for a malformed path, COHORT_E_LIMIT for one over a
 * limit; *reason (when reason is not NULL) then points to a static sentence.
 */
#ifndef COHORT_PATH_H
#define COHORT_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define PATH_MAX_BYTES 1024
#define PATH_MAX_SEGMENT 255
#define PATH_MAX_DEPTH 32
/* A buffer that can hold any canonical path and its NUL. */
#define PATH_BUF (PATH_MAX_BYTES + 1)

enum {
	PATH_LENIENT = 1 << 0,    /* drop "." and empty segments, one trailing '/' */
	PATH_ALLOW_ROOT = 1 << 1, /* accept "" (after leniency) as the root */
};

/* Writes the canonical form of in[0..len) to out (NUL-terminated). out must
 * have room for outlen bytes; outlen < PATH_BUF may give COHORT_E_LIMIT for a
 * valid path. On error out is set to "". */
int path_normalize(const char *in, size_t len, char *out, size_t outlen, unsigned flags,
		   const char **reason);

/* True when p is canonical (path_normalize strict would return it as is). */
bool path_is_canonical(const char *p);

/* The parent of canonical path p ("" for a top-level entry) into out. */
int path_parent(const char *p, char *out, size_t outlen);

/* The last segment of canonical path p: a pointer into p. */
const char *path_basename(const char *p);

/* True when p lies strictly inside directory dir, segment-wise: "src/a" is
 * inside "src", "src2/a" and "src" are not. Every non-empty p is inside the
 * root "". */
bool path_is_inside(const char *p, const char *dir);

/* Number of segments of canonical p (0 for the root). */
size_t path_depth(const char *p);

/* dir + "/" + name (or name alone when dir is the root), checked canonical
 * and within the limits. */
int path_join(const char *dir, const char *name, char *out, size_t outlen, const char **reason);

#endif
