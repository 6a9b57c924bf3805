/*
 * fetch.c — see fetch.h.
 *
 * DESIGN: one easy handle per call; nothing is shared between calls except
 * libcurl's global state, initialized once. The allow list is checked here
 * before libcurl sees the URL (so the error is ours and stable), and is also
 * handed to libcurl as CURLOPT_PROTOCOLS_STR / CURLOPT_REDIR_PROTOCOLS_STR,
 * which is what keeps redirects inside it — minus "file" for redirects: a
 * server must never be able to point cohort at a local file, even when file
 * URLs are allowed for the operator to type. With no scheme left for
 * redirects, redirects are not followed and a 3xx answer is a failure. The size cap is enforced twice:
 * CURLOPT_MAXFILESIZE_LARGE refuses a declared Content-Length over it, and
 * the write callback refuses the first byte past it when the server did not
 * declare a length (or lied about it).
 */
#include "core/fetch.h"
#include "core/err.h"
#include "core/strbuf.h"

#include <curl/curl.h>
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SCHEME_MAX 16
#define SCHEMES_MAX 128

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* The scheme of url lower-cased into out; false when url has none. */
static bool url_scheme(const char *url, char out[SCHEME_MAX + 1])
{
	size_t i = 0;

	if (!url || !isalpha((unsigned char)url[0]))
		return false;
	for (; url[i] && url[i] != ':'; i++) {
		unsigned char ch = (unsigned char)url[i];

		if (i >= SCHEME_MAX || !(isalnum(ch) || ch == '+' || ch == '-' || ch == '.'))
			return false;
		out[i] = (char)tolower(ch);
	}
	if (url[i] != ':')
		return false;
	out[i] = '\0';
	return true;
}

bool fetch_scheme_allowed(const char *url, const char *schemes)
{
	char scheme[SCHEME_MAX + 1];
	size_t n;

	if (!url_scheme(url, scheme) || !schemes)
		return false;
	n = strlen(scheme);
	for (const char *p = schemes; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		while (len && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		if (len == n && !strncasecmp(p, scheme, n))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

/* schemes without blanks (and, with no_file, without "file"), for
 * libcurl's *_PROTOCOLS_STR. */
static int compact_schemes(const char *schemes, bool no_file, char *out, size_t outlen)
{
	size_t j = 0;

	out[0] = '\0';
	for (const char *p = schemes; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		size_t start = j;

		for (size_t i = 0; i < len; i++) {
			if (isspace((unsigned char)p[i]))
				continue;
			if (j + 2 >= outlen)
				return COHORT_E_CONFIG;
			if (j == start && j)
				out[j++] = ',';
			out[j++] = (char)tolower((unsigned char)p[i]);
		}
		out[j] = '\0';
		if (no_file && j > start && !strcmp(out + start + (start ? 1 : 0), "file"))
			j = start;
		out[j] = '\0';
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

struct sink {
	struct strbuf *out;
	size_t start, max;
	int err; /* why the callback stopped the transfer */
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct sink *s = ctx;
	size_t n = size * nmemb;

	if (s->out->len - s->start + n > s->max) {
		s->err = COHORT_E_LIMIT;
		return 0;
	}
	if ((s->err = strbuf_add(s->out, data, n)))
		return 0;
	return n;
}

int fetch_url(const char *url, const struct fetch_opts *o, struct strbuf *out, char *err, size_t errlen)
{
	char scheme[SCHEME_MAX + 1], protos[SCHEMES_MAX], redir[SCHEMES_MAX], cerr[CURL_ERROR_SIZE] = "";
	struct sink s = { out, out->len, o->max_bytes, 0 };
	CURL *h = NULL;
	CURLcode c;
	long status = 0;
	int rc = 0;

	if (errlen)
		err[0] = '\0';
	if (!url || !*url || strlen(url) > FETCH_URL_MAX || !url_scheme(url, scheme))
		return fail(COHORT_E_FIELD, err, errlen, "url must be an absolute URL of at most %d bytes",
			    FETCH_URL_MAX);
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
			return fail(COHORT_E_FIELD, err, errlen, "url contains blanks or control characters");
	if (!fetch_scheme_allowed(url, o->schemes))
		return fail(COHORT_E_FIELD, err, errlen,
			    "url scheme '%s' is not allowed (templates.url_schemes: %s)", scheme,
			    o->schemes ? o->schemes : "");
	if (compact_schemes(o->schemes, false, protos, sizeof(protos)) || !protos[0] ||
	    compact_schemes(o->schemes, true, redir, sizeof(redir)))
		return fail(COHORT_E_CONFIG, err, errlen, "templates.url_schemes is not a usable list");
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return fail(COHORT_E_FETCH, err, errlen, "libcurl failed to initialize");
	h = curl_easy_init();
	if (!h)
		return COHORT_E_NOMEM;
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protos) != CURLE_OK ||
	    (redir[0] && curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, redir) != CURLE_OK)) {
		rc = fail(COHORT_E_FIELD, err, errlen, "url is not usable (scheme list: %s)", protos);
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, redir[0] ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, o->timeout_s);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, o->timeout_s);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "cohort-template-fetch");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	c = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	switch (c) {
	case CURLE_OK:
		if (status >= 300 && status < 400)
			rc = fail(COHORT_E_FETCH, err, errlen, "the server answered HTTP %ld (a redirect not followed)",
				  status);
		break;
	case CURLE_FILESIZE_EXCEEDED:
		rc = fail(COHORT_E_LIMIT, err, errlen, "the URL's content is larger than %zu bytes", o->max_bytes);
		break;
	case CURLE_WRITE_ERROR:
		rc = s.err == COHORT_E_LIMIT
			     ? fail(COHORT_E_LIMIT, err, errlen, "the URL's content is larger than %zu bytes",
				    o->max_bytes)
			     : s.err ? s.err : fail(COHORT_E_FETCH, err, errlen, "fetching the URL failed");
		break;
	case CURLE_HTTP_RETURNED_ERROR:
		rc = fail(COHORT_E_FETCH, err, errlen, "the server answered HTTP %ld", status);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		rc = fail(COHORT_E_FETCH, err, errlen, "fetching the URL timed out after %ld s", o->timeout_s);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		rc = fail(COHORT_E_FIELD, err, errlen, "the URL or a redirect uses a scheme that is not allowed (%s%s%s)",
			  protos, redir[0] ? "; redirects: " : "", redir);
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		rc = fail(COHORT_E_FETCH, err, errlen, "more than %d redirects", FETCH_MAX_REDIRS);
		break;
	default:
		rc = fail(COHORT_E_FETCH, err, errlen, "fetching the URL failed: %s",
			  cerr[0] ? cerr : curl_easy_strerror(c));
		break;
	}
out:
	curl_easy_cleanup(h);
	if (rc) {
		out->len = s.start;
		if (out->buf)
			out->buf[out->len] = '\0';
	}
	return rc;
}
