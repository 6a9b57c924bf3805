/*
 * fetch.h — fetching one URL into memory with libcurl, for lesson templates
 * a teacher points at a URL.
 *
 * The URL's scheme must be in an allow list ("https", "file,https", ...);
 * libcurl is told the same list for the first request and for redirects,
 * so a redirect can never leave it (an https URL cannot redirect to file:).
 * Every fetch has a connect timeout and a total timeout, and a size cap:
 * a Content-Length over it is refused before the body is read, and the
 * transfer is aborted as soon as the bytes received exceed it. An HTTP
 * status >= 400 is a failure.
 *
 * Errors: COHORT_E_FIELD (not a URL, or a scheme not allowed), COHORT_E_LIMIT
 * (over the size cap), COHORT_E_FETCH (connection, TLS, HTTP status, read or
 * timeout failures), COHORT_E_NOMEM. err (when errlen > 0) gets one sentence
 * for a problem detail; it never repeats the URL's query string or user
 * information.
 *
 * Blocking: never call on an event loop. Thread-safe (libcurl's global init
 * runs once, the first time).
 */
#ifndef COHORT_FETCH_H
#define COHORT_FETCH_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf;

#define FETCH_URL_MAX 2048
#define FETCH_MAX_REDIRS 5

struct fetch_opts {
	const char *schemes; /* comma-separated allow list, e.g. "https" or "file,https" */
	long timeout_s;      /* connect timeout and total timeout */
	size_t max_bytes;    /* size cap */
};

/* true when url's scheme (case-insensitive) is in the comma-separated list. */
bool fetch_scheme_allowed(const char *url, const char *schemes);

/* Appends the body to out (out's own bound also applies: COHORT_E_LIMIT);
 * on failure out is left as it was. */
int fetch_url(const char *url, const struct fetch_opts *o, struct strbuf *out, char *err, size_t errlen);

#endif
