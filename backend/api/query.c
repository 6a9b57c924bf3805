#include "api/query.h"
#include "core/err.h"
#include "core/utf8.h"

#include <string.h>

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

int pct_decode(const char *s, size_t len, char *out, size_t outlen, bool plus_is_space)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3)
				return COHORT_E_INVAL;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return COHORT_E_INVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (c == '\0')
			return COHORT_E_INVAL;
		if (o + 1 >= outlen)
			return COHORT_E_LIMIT;
		out[o++] = c;
	}
	if (outlen == 0)
		return COHORT_E_LIMIT;
	out[o] = '\0';
	if (!utf8_valid(out, o))
		return COHORT_E_INVAL;
	return (int)o;
}

int query_parse(struct query *q, const char *s, size_t len)
{
	size_t used = 0, i = 0;

	q->n = 0;
	if (len > QUERY_MAX_LEN)
		return COHORT_E_LIMIT;
	while (i < len) {
		const char *pair = s + i;
		const char *amp = memchr(pair, '&', len - i);
		size_t plen = amp ? (size_t)(amp - pair) : len - i;
		const char *eq = memchr(pair, '=', plen);
		size_t nlen = eq ? (size_t)(eq - pair) : plen;
		size_t vlen = eq ? plen - nlen - 1 : 0;
		struct query_param *p;
		int n;

		i += plen + 1;
		if (plen == 0)
			continue;
		if (q->n == QUERY_MAX_PARAMS)
			return COHORT_E_LIMIT;
		p = &q->params[q->n];
		/* Decoding never lengthens text, and buf has room for every
		 * pair's two terminators, so these cannot run out of space. */
		n = pct_decode(pair, nlen, q->buf + used, sizeof(q->buf) - used, true);
		if (n < 0)
			return n;
		p->name = q->buf + used;
		p->name_len = (size_t)n;
		used += (size_t)n + 1;
		n = pct_decode(eq ? eq + 1 : "", vlen, q->buf + used, sizeof(q->buf) - used, true);
		if (n < 0)
			return n;
		p->value = q->buf + used;
		p->value_len = (size_t)n;
		used += (size_t)n + 1;
		q->n++;
	}
	return 0;
}

const char *query_get(const struct query *q, const char *name)
{
	for (size_t i = 0; i < q->n; i++)
		if (!strcmp(q->params[i].name, name))
			return q->params[i].value;
	return NULL;
}
