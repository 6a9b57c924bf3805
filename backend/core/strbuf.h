/*
 * strbuf.h — a growable byte buffer with a hard upper bound.
 *
 * Every buffer a client can grow is bounded: appends beyond `max` fail with
 * COHORT_E_LIMIT and leave the buffer unchanged. The data is always
 * NUL-terminated (the terminator is not counted in len).
 */
#ifndef COHORT_STRBUF_H
#define COHORT_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
	size_t max; /* largest len allowed; 0 means STRBUF_DEFAULT_MAX */
};

#define STRBUF_DEFAULT_MAX ((size_t)64 << 20)
#define STRBUF_INIT { NULL, 0, 0, 0 }

void strbuf_init(struct strbuf *sb, size_t max);
void strbuf_release(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
/* Makes room for extra more bytes (len unchanged): COHORT_E_LIMIT beyond
 * max, COHORT_E_NOMEM; the buffer is unchanged on failure. */
int strbuf_reserve(struct strbuf *sb, size_t extra);
int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_adds(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, char c);
/* A decimal integer, as "%lld" writes it (without printf's machinery). */
int strbuf_add_int(struct strbuf *sb, long long v);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends s as a JSON string literal, quotes included. */
int strbuf_add_json_str(struct strbuf *sb, const char *s, size_t len);
/* Hands the buffer to the caller (who frees it) and resets sb. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

#endif
