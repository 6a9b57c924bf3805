#include "core/strbuf.h"
#include "core/err.h"

#include <stdbool.h>
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

int strbuf_reserve(struct strbuf *sb, size_t extra)
{
	return grow(sb, extra);
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

int strbuf_add_int(struct strbuf *sb, long long v)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return strbuf_add(sb, p, (size_t)(buf + sizeof(buf) - p));
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

/* Bytes a JSON string cannot hold as they are: '"', '\\', the C0 controls
 * and DEL (escaped too, to keep logs and terminals safe). */
static bool json_plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\' && c != 0x7f;
}

/*
 * Runs of bytes that need no escape (nearly all of a file name or a log
 * line) are copied with one strbuf_add; only the bytes between runs go
 * through the switch. The room for the common case is reserved up front, so
 * a plain string costs one bound check and one copy.
 */
int strbuf_add_json_str(struct strbuf *sb, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = sb->len, i = 0;
	int err = len < limit(sb) ? grow(sb, len + 2) : COHORT_E_LIMIT;

	if (!err)
		err = strbuf_addch(sb, '"');
	while (!err && i < len) {
		size_t run = i;
		unsigned char c;

		while (run < len && json_plain((unsigned char)s[run]))
			run++;
		if (run > i) {
			err = strbuf_add(sb, s + i, run - i);
			i = run;
			continue;
		}
		c = (unsigned char)s[i++];
		switch (c) {
		case '"': err = strbuf_add(sb, "\\\"", 2); break;
		case '\\': err = strbuf_add(sb, "\\\\", 2); break;
		case '\n': err = strbuf_add(sb, "\\n", 2); break;
		case '\r': err = strbuf_add(sb, "\\r", 2); break;
		case '\t': err = strbuf_add(sb, "\\t", 2); break;
		default: {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			err = strbuf_add(sb, esc, sizeof(esc));
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
