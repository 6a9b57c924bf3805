#include "core/strbuf.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t limit(const struct strbuf *sb)
{
	return sb->max ? sb->max : STRBUF_DEFAULT_MAX;
}

void strbuf_init(struct strbuf *sb, size_t max)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->alloc = 0;
	sb->max = max;
}

void strbuf_release(struct strbuf *sb)
{
	if (!sb)
		return;
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

static int grow(struct strbuf *sb, size_t extra)
{
	size_t want, n;
	char *p;

	if (extra > limit(sb) || sb->len > limit(sb) - extra)
		return COHORT_E_LIMIT;
	want = sb->len + extra + 1;
	if (want <= sb->alloc)
		return 0;
	n = sb->alloc ? sb->alloc : 64;
	while (n < want)
		n = n > ((size_t)-1) / 2 ? want : n * 2;
	p = realloc(sb->buf, n);
	if (!p)
		return COHORT_E_NOMEM;
	sb->buf = p;
	sb->alloc = n;
	return 0;
}

int strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	int err = grow(sb, len);

	if (err)
		return err;
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int strbuf_adds(struct strbuf *sb, const char *s)
{
	return strbuf_add(sb, s, strlen(s));
}

int strbuf_addch(struct strbuf *sb, char c)
{
	return strbuf_add(sb, &c, 1);
}

int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n, err;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return COHORT_E_INTERNAL;
	err = grow(sb, (size_t)n);
	if (err)
		return err;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
	return err;
}

int strbuf_add_json_str(struct strbuf *sb, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = sb->len;
	int err = strbuf_addch(sb, '"');

	for (size_t i = 0; !err && i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': err = strbuf_add(sb, "\\\"", 2); break;
		case '\\': err = strbuf_add(sb, "\\\\", 2); break;
		case '\n': err = strbuf_add(sb, "\\n", 2); break;
		case '\r': err = strbuf_add(sb, "\\r", 2); break;
		case '\t': err = strbuf_add(sb, "\\t", 2); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

				err = strbuf_add(sb, esc, sizeof(esc));
			} else {
				err = strbuf_addch(sb, (char)c);
			}
		}
	}
	if (!err)
		err = strbuf_addch(sb, '"');
	if (err) {
		sb->len = start;
		if (sb->buf)
			sb->buf[start] = '\0';
	}
	return err;
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *p = sb->buf;

	if (!p)
		p = calloc(1, 1);
	if (len)
		*len = sb->len;
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
	return p;
}
