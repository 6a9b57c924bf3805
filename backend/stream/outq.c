#include "stream/outq.h"
#include "stream/evbuf.h"
#include "core/err.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define OUTQ_MIN_CAP 4

size_t outq_cost(const struct evbuf *ev)
{
	return (size_t)ev->len + sizeof(struct outq_ent);
}

void outq_init(struct outq *q)
{
	memset(q, 0, sizeof(*q));
}

static int outq_grow(struct outq *q)
{
	uint32_t ncap = q->cap ? q->cap * 2 : OUTQ_MIN_CAP;
	struct outq_ent *n;

	if (ncap < q->cap)
		return COHORT_E_NOMEM;
	n = malloc((size_t)ncap * sizeof(*n));
	if (!n)
		return COHORT_E_NOMEM;
	/* Unwrap the ring into the new array. */
	for (uint32_t i = 0; i < q->count; i++)
		n[i] = q->ents[(q->head + i) & (q->cap - 1)];
	free(q->ents);
	q->ents = n;
	q->cap = ncap;
	q->head = 0;
	return 0;
}

int outq_push(struct outq *q, struct evbuf *ev, uint32_t tag)
{
	struct outq_ent *e;

	if (q->count == q->cap) {
		int err = outq_grow(q);

		if (err)
			return err;
	}
	e = &q->ents[(q->head + q->count) & (q->cap - 1)];
	e->ev = evbuf_ref(ev);
	e->tag = tag;
	q->count++;
	q->bytes += outq_cost(ev);
	return 0;
}

const struct outq_ent *outq_peek(const struct outq *q)
{
	return q->count ? &q->ents[q->head] : NULL;
}

void outq_pop(struct outq *q)
{
	struct outq_ent *e;

	if (!q->count)
		return;
	e = &q->ents[q->head];
	q->bytes -= outq_cost(e->ev);
	evbuf_unref(e->ev);
	e->ev = NULL;
	q->head = (q->head + 1) & (q->cap - 1);
	q->count--;
	if (!q->count)
		q->head = 0;
}

static bool same_key(const struct evbuf *a, const struct evbuf *b)
{
	return a->ckey_len == b->ckey_len && !memcmp(evbuf_ckey(a), evbuf_ckey(b), a->ckey_len);
}

int outq_drop_older(struct outq *q, const struct evbuf *ev, uint32_t tag)
{
	uint32_t mask = q->cap - 1, i;

	if (!ev->ckey_len || !q->count)
		return 0;
	/* At most one match: every cursor pushed drops its predecessor. */
	for (i = 0; i < q->count; i++) {
		const struct outq_ent *e = &q->ents[(q->head + i) & mask];

		if (e->tag == tag && same_key(e->ev, ev))
			break;
	}
	if (i == q->count)
		return 0;
	if (i == 0) {
		outq_pop(q);
		return 1;
	}
	q->bytes -= outq_cost(q->ents[(q->head + i) & mask].ev);
	evbuf_unref(q->ents[(q->head + i) & mask].ev);
	for (; i + 1 < q->count; i++)
		q->ents[(q->head + i) & mask] = q->ents[(q->head + i + 1) & mask];
	q->ents[(q->head + i) & mask].ev = NULL;
	q->count--;
	return 1;
}

int outq_splice(struct outq *to, struct outq *from)
{
	while (from->count) {
		const struct outq_ent *e = outq_peek(from);
		int err = outq_push(to, e->ev, e->tag);

		if (err)
			return err;
		outq_pop(from);
	}
	return 0;
}

void outq_clear(struct outq *q)
{
	while (q->count)
		outq_pop(q);
}

void outq_shrink(struct outq *q)
{
	if (q->count)
		return;
	free(q->ents);
	q->ents = NULL;
	q->cap = 0;
	q->head = 0;
}

void outq_release(struct outq *q)
{
	if (!q)
		return;
	outq_clear(q);
	outq_shrink(q);
	q->bytes = 0;
}
