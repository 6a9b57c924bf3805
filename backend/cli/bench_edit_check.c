/*
 * bench_edit_check.c — the subscriber's checks of `cohort-bench edit` (see
 * bench_edit_check.h).
 *
 * The envelope is our own server's output with a known shape, so a few
 * memmem()s find what we need: the event type, the top-level "version" (the
 * first one: "data" of an update has no version key) and the marker, the
 * only string in the change set starting with '<'.
 */
#include "cli/bench_edit_check.h"
#include "core/err.h"
#include "core/num.h"

#include <stdlib.h>

#include <stdio.h>
#include <string.h>

void edit_mark_format(char *buf, size_t cap, uint64_t writer, uint64_t seq, int64_t t0_us)
{
	snprintf(buf, cap, "<%05llu.%07llu.%016lld>", (unsigned long long)(writer % 100000u),
		 (unsigned long long)(seq % 10000000u),
		 (long long)((t0_us < 0 ? 0 : t0_us) % 10000000000000000LL));
}

bool edit_int_after(const char *d, size_t n, const char *key, int64_t *out)
{
	size_t kl = strlen(key), i, j;
	const char *k = memmem(d, n, key, kl);
	uint64_t v;

	if (!k)
		return false;
	i = (size_t)(k - d) + kl;
	for (j = i; j < n && d[j] >= '0' && d[j] <= '9'; j++)
		;
	if (parse_u64n(d + i, j - i, &v) || v > INT64_MAX)
		return false;
	*out = (int64_t)v;
	return true;
}

static bool parse_mark(const char *p, size_t n, struct edit_event *ev)
{
	uint64_t t;

	if (n < EDIT_MARK_LEN || p[0] != '<' || p[6] != '.' || p[14] != '.' || p[31] != '>')
		return false;
	if (parse_u64n(p + 1, 5, &ev->writer) || parse_u64n(p + 7, 7, &ev->seq) ||
	    parse_u64n(p + 15, 16, &t))
		return false;
	ev->t0_us = (int64_t)t;
	return true;
}

bool edit_event_parse_mark(const char *mark, struct edit_event *out)
{
	out->version = 0;
	return parse_mark(mark, strlen(mark), out);
}

bool edit_event_parse(const char *data, size_t len, struct edit_event *out)
{
	const char *m;

	if (!memmem(data, len, "\"type\":\"update\"", 15) ||
	    !edit_int_after(data, len, "\"version\":", &out->version) ||
	    !(m = memmem(data, len, "\"<", 2)))
		return false;
	m++;
	return parse_mark(m, len - (size_t)(m - data), out);
}

enum edit_verdict edit_check(struct edit_seen *s, uint64_t first_writer, uint64_t nwriters,
			     const struct edit_event *ev, struct edit_counts *c)
{
	uint32_t *last;

	if (ev->version <= s->last_version) {
		c->duplicates++;
		return EDIT_DUPLICATE;
	}
	if (ev->version > s->last_version + 1)
		c->lost += (uint64_t)(ev->version - s->last_version - 1);
	s->last_version = ev->version;
	s->updates++;
	if (ev->writer < first_writer || ev->writer >= first_writer + nwriters) {
		c->foreign++;
		return EDIT_NEW_NO_LATENCY;
	}
	last = &s->wseq[ev->writer - first_writer];
	if (ev->seq <= *last) {
		c->edit_duplicates++;
		return EDIT_NEW_NO_LATENCY;
	}
	if (ev->seq > (uint64_t)*last + 1)
		c->edits_skipped += ev->seq - *last - 1;
	*last = (uint32_t)ev->seq;
	s->edits++;
	return EDIT_NEW;
}

int edit_marks_scan(const char *text, size_t len,
		    void (*fn)(void *arg, const struct edit_event *ev), void *arg)
{
	/* A stack of the text seen so far; a complete marker at its top is
	 * reported and popped, which rejoins the marker around it. */
	char *st = malloc(len + 1);
	size_t top = 0;

	if (!st)
		return COHORT_E_NOMEM;
	for (size_t i = 0; i < len; i++) {
		struct edit_event ev = { 0, 0, 0, 0 };

		st[top++] = text[i];
		if (text[i] != '>' || top < EDIT_MARK_LEN)
			continue;
		if (parse_mark(st + top - EDIT_MARK_LEN, EDIT_MARK_LEN, &ev)) {
			fn(arg, &ev);
			top -= EDIT_MARK_LEN;
		}
	}
	free(st);
	return 0;
}
