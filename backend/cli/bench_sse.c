/*
 * bench_sse.c — incremental HTTP response + chunked body + SSE reader.
 *
 * DESIGN: three layers, each a small state machine fed in place. The head is
 * collected until its blank line (it is tiny and read once). The chunked
 * decoder walks framing bytes one at a time but hands chunk payload to the
 * line layer as whole spans. The line layer works on the span directly and
 * copies only what must survive the end of a read: a partial line, the last
 * event id and the data of an event not yet dispatched. The bench reads with
 * one large buffer per thread, so in the common case a whole event is parsed
 * without touching per-connection memory except for these small copies.
 */
#include "cli/bench_sse.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum chunk_state {
	C_SIZE0,   /* start of a chunk-size line, no digit yet */
	C_SIZE,    /* in the hex digits */
	C_EXT,     /* in a chunk extension, up to LF */
	C_SIZE_LF, /* CR seen after the size */
	C_DATA,
	C_DATA_CR, /* payload done, expecting CRLF */
	C_DATA_LF,
	C_TRAILER,      /* at the start of a trailer line */
	C_TRAILER_LINE, /* inside a trailer line */
	C_TRAILER_END,  /* CR of the final empty line seen */
};

#define SSE_DEFAULT_MAX_LINE (256u * 1024)

void sse_parser_init(struct sse_parser *p, size_t max_line)
{
	memset(p, 0, sizeof(*p));
	p->state = SSE_S_HEAD;
	p->max_line = max_line && max_line < UINT32_MAX ? (uint32_t)max_line : SSE_DEFAULT_MAX_LINE;
}

void sse_parser_release(struct sse_parser *p)
{
	if (!p)
		return;
	free(p->line.buf);
	free(p->id.buf);
	free(p->data.buf);
	free(p->type.buf);
	p->line = p->id = p->data = p->type = (struct sse_lbuf){ 0 };
}

size_t sse_parser_heap(const struct sse_parser *p)
{
	return (size_t)p->line.alloc + p->id.alloc + p->data.alloc + p->type.alloc;
}

static int lbuf_add(struct sse_lbuf *b, const char *s, size_t n, uint32_t max)
{
	size_t want = (size_t)b->len + n;

	if (want > max)
		return COHORT_E_LIMIT;
	if (want > b->alloc) {
		size_t a = b->alloc ? b->alloc : 128;
		char *nb;

		while (a < want)
			a *= 2;
		if (a > max)
			a = max;
		nb = realloc(b->buf, a);
		if (!nb)
			return COHORT_E_NOMEM;
		b->buf = nb;
		b->alloc = (uint32_t)a;
	}
	if (n)
		memcpy(b->buf + b->len, s, n);
	b->len = (uint32_t)want;
	return 0;
}

static int fail(struct sse_parser *p, int err)
{
	p->state = SSE_S_ERROR;
	return err;
}

/* ---- SSE lines and events ---------------------------------------------- */

static int dispatch(struct sse_parser *p, const struct sse_callbacks *cb, void *arg)
{
	struct sse_event ev;
	int r = 0;

	if (p->has_data && cb->event) {
		ev.id = p->id.buf ? p->id.buf : "";
		ev.id_len = p->id.len;
		ev.type = p->type.len ? p->type.buf : "message";
		ev.type_len = p->type.len ? p->type.len : 7;
		ev.data = p->data.buf ? p->data.buf : "";
		ev.data_len = p->data.len;
		r = cb->event(arg, &ev);
	}
	p->has_data = false;
	p->data.len = 0;
	p->type.len = 0;
	return r;
}

static int process_line(struct sse_parser *p, const char *l, size_t n,
			const struct sse_callbacks *cb, void *arg)
{
	const char *colon, *v;
	size_t flen, vlen;
	int err;

	if (n == 0)
		return dispatch(p, cb, arg);
	if (l[0] == ':')
		return 0; /* comment, e.g. a heartbeat */
	colon = memchr(l, ':', n);
	flen = colon ? (size_t)(colon - l) : n;
	v = colon ? colon + 1 : l + n;
	vlen = colon ? n - flen - 1 : 0;
	if (vlen && v[0] == ' ') {
		v++;
		vlen--;
	}
	if (flen == 4 && !memcmp(l, "data", 4)) {
		if (p->has_data && (err = lbuf_add(&p->data, "\n", 1, p->max_line)))
			return err;
		p->has_data = true;
		return lbuf_add(&p->data, v, vlen, p->max_line);
	}
	if (flen == 2 && !memcmp(l, "id", 2)) {
		if (memchr(v, '\0', vlen))
			return 0; /* the spec ignores such ids */
		p->id.len = 0;
		return lbuf_add(&p->id, v, vlen, SSE_ID_MAX);
	}
	if (flen == 5 && !memcmp(l, "event", 5)) {
		p->type.len = 0;
		return lbuf_add(&p->type, v, vlen, 256);
	}
	return 0; /* retry: and unknown fields are ignored */
}

static int feed_lines(struct sse_parser *p, const char *s, size_t n,
		      const struct sse_callbacks *cb, void *arg)
{
	size_t i = 0;
	int r;

	while (i < n) {
		const char *nl, *cr;
		size_t e;

		if (p->cr_pending) {
			p->cr_pending = false;
			if (s[i] == '\n') {
				i++;
				continue;
			}
		}
		nl = memchr(s + i, '\n', n - i);
		cr = memchr(s + i, '\r', (nl ? (size_t)(nl - s) : n) - i);
		if (cr)
			nl = cr;
		if (!nl) {
			if ((r = lbuf_add(&p->line, s + i, n - i, p->max_line)))
				return r;
			break;
		}
		e = (size_t)(nl - s);
		if (p->line.len) {
			if ((r = lbuf_add(&p->line, s + i, e - i, p->max_line)))
				return r;
			r = process_line(p, p->line.buf, p->line.len, cb, arg);
			p->line.len = 0;
		} else {
			if (e - i > p->max_line)
				return COHORT_E_LIMIT;
			r = process_line(p, s + i, e - i, cb, arg);
		}
		if (r)
			return r;
		i = e + 1;
		if (s[e] == '\r') {
			if (i < n && s[i] == '\n')
				i++;
			else if (i == n)
				p->cr_pending = true;
		}
	}
	return 0;
}

/* ---- chunked framing --------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void size_line_done(struct sse_parser *p)
{
	p->cstate = p->chunk_left ? C_DATA : C_TRAILER;
}

static int feed_chunked(struct sse_parser *p, const char *s, size_t n,
			const struct sse_callbacks *cb, void *arg)
{
	size_t i = 0;
	int r;

	while (i < n && p->state == SSE_S_BODY) {
		char c = s[i];

		switch ((enum chunk_state)p->cstate) {
		case C_SIZE0:
		case C_SIZE:
			i++;
			if (hexval(c) >= 0) {
				if (p->chunk_left >> 56)
					return COHORT_E_INVAL;
				p->chunk_left = p->chunk_left * 16 + (uint64_t)hexval(c);
				p->cstate = C_SIZE;
			} else if (p->cstate == C_SIZE0) {
				return COHORT_E_INVAL;
			} else if (c == ';' || c == ' ' || c == '\t') {
				p->cstate = C_EXT;
			} else if (c == '\r') {
				p->cstate = C_SIZE_LF;
			} else if (c == '\n') {
				size_line_done(p);
			} else {
				return COHORT_E_INVAL;
			}
			break;
		case C_EXT:
			i++;
			if (c == '\n')
				size_line_done(p);
			break;
		case C_SIZE_LF:
			if (c != '\n')
				return COHORT_E_INVAL;
			i++;
			size_line_done(p);
			break;
		case C_DATA: {
			size_t take = n - i;

			if (take > p->chunk_left)
				take = (size_t)p->chunk_left;
			if ((r = feed_lines(p, s + i, take, cb, arg)))
				return r;
			i += take;
			p->chunk_left -= take;
			if (!p->chunk_left)
				p->cstate = C_DATA_CR;
			break;
		}
		case C_DATA_CR:
			if (c == '\r')
				p->cstate = C_DATA_LF;
			else if (c == '\n')
				p->cstate = C_SIZE0;
			else
				return COHORT_E_INVAL;
			i++;
			break;
		case C_DATA_LF:
			if (c != '\n')
				return COHORT_E_INVAL;
			p->cstate = C_SIZE0;
			i++;
			break;
		case C_TRAILER:
			if (c == '\r')
				p->cstate = C_TRAILER_END;
			else if (c == '\n')
				p->state = SSE_S_DONE;
			else
				p->cstate = C_TRAILER_LINE;
			i++;
			break;
		case C_TRAILER_LINE:
			if (c == '\n')
				p->cstate = C_TRAILER;
			i++;
			break;
		case C_TRAILER_END:
			if (c != '\n')
				return COHORT_E_INVAL;
			p->state = SSE_S_DONE;
			i++;
			break;
		}
	}
	return 0;
}

/* ---- response head ----------------------------------------------------- */

static bool header_is(const char *name, size_t nlen, const char *want)
{
	return strlen(want) == nlen && !strncasecmp(name, want, nlen);
}

static bool value_has(const char *v, size_t vlen, const char *token)
{
	size_t tl = strlen(token);

	for (size_t i = 0; i + tl <= vlen; i++)
		if (!strncasecmp(v + i, token, tl))
			return true;
	return false;
}

/* Parses the complete head in h[0..n) (ending with its blank line). */
static int parse_head(struct sse_parser *p, const char *h, size_t n)
{
	const char *end = h + n, *l = h;
	bool first = true;

	while (l < end) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		size_t len;

		if (!nl)
			break;
		len = (size_t)(nl - l);
		if (len && l[len - 1] == '\r')
			len--;
		if (first) {
			/* "HTTP/1.x NNN reason" */
			if (len < 12 || memcmp(l, "HTTP/1.", 7) || l[8] != ' ')
				return COHORT_E_INVAL;
			for (int k = 9; k < 12; k++)
				if (l[k] < '0' || l[k] > '9')
					return COHORT_E_INVAL;
			p->status = (uint16_t)((l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0'));
			first = false;
		} else if (len) {
			const char *colon = memchr(l, ':', len);
			const char *v;
			size_t nlen, vlen;

			if (!colon)
				return COHORT_E_INVAL;
			nlen = (size_t)(colon - l);
			v = colon + 1;
			vlen = len - nlen - 1;
			while (vlen && (*v == ' ' || *v == '\t')) {
				v++;
				vlen--;
			}
			while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (header_is(l, nlen, "transfer-encoding") && value_has(v, vlen, "chunked"))
				p->chunked = true;
			else if (header_is(l, nlen, "content-type") && value_has(v, vlen, "text/event-stream"))
				p->event_stream = true;
			else if (header_is(l, nlen, "server")) {
				size_t c = vlen < sizeof(p->server) - 1 ? vlen : sizeof(p->server) - 1;

				memcpy(p->server, v, c);
				p->server[c] = '\0';
			}
		}
		l = nl + 1;
	}
	return first ? COHORT_E_INVAL : 0;
}

/* Finds the blank line ending the head; returns the head length or 0. */
static size_t head_end(const char *h, size_t n, size_t from)
{
	for (size_t i = from; i < n; i++) {
		if (h[i] != '\n')
			continue;
		if (i + 1 < n && h[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && h[i + 1] == '\r' && h[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static int feed_body(struct sse_parser *p, const char *s, size_t n,
		     const struct sse_callbacks *cb, void *arg)
{
	if (!n)
		return 0;
	if (p->state == SSE_S_DONE)
		return COHORT_E_INVAL; /* bytes after the last chunk */
	return p->chunked ? feed_chunked(p, s, n, cb, arg) : feed_lines(p, s, n, cb, arg);
}

int sse_parser_feed(struct sse_parser *p, const char *buf, size_t len,
		    const struct sse_callbacks *cb, void *arg)
{
	int r;

	if (p->state == SSE_S_ERROR)
		return COHORT_E_INVAL;
	if (p->state == SSE_S_HEAD) {
		size_t from = p->line.len > 3 ? p->line.len - 3 : 0;
		size_t take = len, room = SSE_HEAD_MAX - p->line.len, hl;

		if (take > room)
			take = room;
		if ((r = lbuf_add(&p->line, buf, take, SSE_HEAD_MAX)))
			return fail(p, r);
		hl = head_end(p->line.buf, p->line.len, from);
		if (!hl)
			return take < len ? fail(p, COHORT_E_LIMIT) : 0;
		/* What of buf the head did not use is body. */
		take -= p->line.len - hl;
		if ((r = parse_head(p, p->line.buf, hl)))
			return fail(p, r);
		/* The head is read once; do not keep its buffer for the life of an
		 * idle connection. */
		free(p->line.buf);
		p->line = (struct sse_lbuf){ 0 };
		p->state = SSE_S_BODY;
		p->cstate = C_SIZE0;
		if (cb->head && (r = cb->head(arg, p)))
			return fail(p, r);
		buf += take;
		len -= take;
	}
	r = feed_body(p, buf, len, cb, arg);
	if (r)
		p->state = SSE_S_ERROR;
	return r;
}
