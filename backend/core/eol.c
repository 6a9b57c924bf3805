/*
 * eol.c — see eol.h.
 */
#include "core/eol.h"
#include "core/strbuf.h"

#include <string.h>

bool eol_needs_normalizing(const char *text, size_t len)
{
	return memchr(text, '\r', len) != NULL;
}

int eol_normalize(const char *text, size_t len, struct strbuf *out, enum eol_style *style)
{
	size_t crlf = 0, lf = 0, cr = 0, start = 0;
	int rc;

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n')
			lf++;
		else if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			crlf++;
		else if (text[i] == '\r')
			cr++;
	}
	*style = crlf && crlf == lf && !cr ? EOL_CRLF : EOL_LF;
	for (size_t i = 0; i < len; i++) {
		if (text[i] != '\r')
			continue;
		if ((rc = strbuf_add(out, text + start, i - start)))
			return rc;
		if (!(i + 1 < len && text[i + 1] == '\n') && (rc = strbuf_add(out, "\n", 1)))
			return rc;
		start = i + 1;
	}
	return strbuf_add(out, text + start, len - start);
}

int eol_to_crlf(const char *text, size_t len, struct strbuf *out)
{
	size_t start = 0;
	int rc;

	for (const char *nl = memchr(text, '\n', len); nl;
	     nl = memchr(nl + 1, '\n', len - (size_t)(nl + 1 - text))) {
		size_t i = (size_t)(nl - text);

		if ((rc = strbuf_add(out, text + start, i - start)) || (rc = strbuf_add(out, "\r\n", 2)))
			return rc;
		start = i + 1;
		if (start >= len)
			break;
	}
	return strbuf_add(out, text + start, len - start);
}

const char *eol_name(enum eol_style s)
{
	return s == EOL_CRLF ? "crlf" : "lf";
}

enum eol_style eol_parse(const char *s, size_t len)
{
	return len == 4 && !memcmp(s, "crlf", 4) ? EOL_CRLF : EOL_LF;
}
