/*
 * query.h — percent-decoding and the query string of a request URI.
 *
 * A query string ("a=1&b=x%20y") is parsed into at most QUERY_MAX_PARAMS
 * decoded name/value pairs held inside struct query itself, so parsing
 * allocates nothing and a query can never grow past QUERY_MAX_LEN bytes.
 * Decoding is strict: a '%' must be followed by two hex digits, the decoded
 * text must be valid UTF-8 and may not contain NUL.
 */
#ifndef COHORT_API_QUERY_H
#define COHORT_API_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#define QUERY_MAX_LEN 4096
#define QUERY_MAX_PARAMS 32

struct query_param {
	const char *name;  /* NUL-terminated, points into query.buf */
	const char *value; /* "" when the pair has no '=' */
	size_t name_len;
	size_t value_len;
};

struct query {
	size_t n;
	struct query_param params[QUERY_MAX_PARAMS];
	char buf[QUERY_MAX_LEN + QUERY_MAX_PARAMS * 2 + 1];
};

/*
 * Decodes s[0..len) into out (room for outlen bytes, NUL added). '+' becomes
 * a space only when plus_is_space (form encoding: query strings, not paths).
 * Returns the decoded length, COHORT_E_INVAL for a bad escape, an embedded
 * NUL or invalid UTF-8, or COHORT_E_LIMIT when out is too small.
 */
int pct_decode(const char *s, size_t len, char *out, size_t outlen, bool plus_is_space);

/*
 * Parses a raw query string (without the '?'). Empty pairs ("a=1&&b=2") are
 * skipped. COHORT_E_LIMIT when the string or the number of pairs is over its
 * bound, COHORT_E_INVAL when a name or value does not decode.
 */
int query_parse(struct query *q, const char *s, size_t len);

/* First value of name, or NULL when absent. */
const char *query_get(const struct query *q, const char *name);

#endif
