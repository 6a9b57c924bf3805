/*
 * Unit tests for cohort-bench's SSE reader and latency histogram.
 *
 * The bench modules are not in a library the Makefile links into unit tests,
 * so their sources are compiled in here directly.
 *
 * Every response is fed whole, split at every byte offset into two reads,
 * and one byte at a time: an incremental parser must give the same events
 * however the bytes arrive.
 */
#include "cli/bench_hist.c"
#include "cli/bench_sse.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

struct seen {
	char out[4096];
	size_t len;
	int status;
	int heads;
	bool chunked;
	bool event_stream;
	char server[SSE_SERVER_MAX];
};

static int on_head(void *arg, const struct sse_parser *p)
{
	struct seen *s = arg;

	s->heads++;
	s->status = p->status;
	s->chunked = p->chunked;
	s->event_stream = p->event_stream;
	memcpy(s->server, p->server, sizeof(s->server));
	return 0;
}

static int on_event(void *arg, const struct sse_event *ev)
{
	struct seen *s = arg;
	int n = snprintf(s->out + s->len, sizeof(s->out) - s->len, "%.*s|%.*s|%.*s\n",
			 (int)ev->type_len, ev->type, (int)ev->id_len, ev->id, (int)ev->data_len,
			 ev->data);

	assert_true(n > 0 && (size_t)n < sizeof(s->out) - s->len);
	s->len += (size_t)n;
	return 0;
}

static const struct sse_callbacks cbs = { on_head, on_event };

struct case_row {
	const char *name;
	const char *input;
	size_t max_line;
	int err;             /* expected result of the feed (0 or an error) */
	int status;
	bool chunked;
	const char *events;  /* "type|id|data\n" per event */
};

#define HEAD200 "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nServer: test/1\r\n"

static const struct case_row cases[] = {
	{ "plain LF events, comments, multi-line data, persistent id",
	  HEAD200 "\r\n"
	  ": hello\n\n"
	  "id: dev:a=1-0\ndata: {\"x\":1}\n\n"
	  "data: line1\ndata:line2\n\n"
	  "event: reset\nid: dev:a=2-0\ndata: {}\n\n"
	  "retry: 5\nunknown: y\ndata\n\n",
	  0, 0, 200, false,
	  "message|dev:a=1-0|{\"x\":1}\n"
	  "message|dev:a=1-0|line1\nline2\n"
	  "reset|dev:a=2-0|{}\n"
	  "message|dev:a=2-0|\n" },
	{ "chunked with CRLF lines and a chunk extension",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream; charset=utf-8\r\n\r\n"
	  "13\r\nid: 7-1\r\ndata: ab\r\n\r\n"
	  "2;ext=1\r\n\r\n\r\n"
	  "10\r\ndata: second\r\n\r\n\r\n"
	  "0\r\n\r\n",
	  0, 0, 200, true,
	  "message|7-1|ab\n"
	  "message|7-1|second\n" },
	{ "CR-only line ends",
	  HEAD200 "\r\nid: 1\rdata: a\r\rdata: b\r\r",
	  0, 0, 200, false,
	  "message|1|a\n"
	  "message|1|b\n" },
	{ "an event without its blank line is not dispatched",
	  HEAD200 "\r\ndata: done\n\ndata: partial\n",
	  0, 0, 200, false,
	  "message||done\n" },
	{ "404 is reported in the head",
	  "HTTP/1.1 404 Not Found\r\nContent-Type: application/problem+json\r\n\r\n{}",
	  0, 0, 404, false, "" },
	{ "a line over the bound",
	  HEAD200 "\r\ndata: 0123456789012345678901234567890123456789\n\n",
	  32, COHORT_E_LIMIT, 200, false, "" },
	{ "bad chunk size",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\nzz\r\n",
	  0, COHORT_E_INVAL, 200, true, "" },
	{ "chunk payload without CRLF after it",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n2\r\nabX",
	  0, COHORT_E_INVAL, 200, true, "" },
	{ "not HTTP",
	  "SSH-2.0-OpenSSH\r\n\r\n", 0, COHORT_E_INVAL, 0, false, "" },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Feeds input in pieces of the given sizes (0 = the rest); returns the first
 * nonzero result. */
static int feed_split(const struct case_row *c, struct seen *s, size_t first, size_t step)
{
	struct sse_parser p;
	size_t len = strlen(c->input), off = 0;
	int r = 0;

	memset(s, 0, sizeof(*s));
	sse_parser_init(&p, c->max_line);
	while (off < len && !r) {
		size_t n = off == 0 && first ? first : step ? step : len - off;

		if (n > len - off)
			n = len - off;
		r = sse_parser_feed(&p, c->input + off, n, &cbs, s);
		off += n;
	}
	if (r)
		assert_int_equal(p.state, SSE_S_ERROR);
	sse_parser_release(&p);
	return r;
}

static void check(const struct case_row *c, const struct seen *s, int r, const char *how)
{
	if (r != c->err || s->status != c->status || strcmp(s->out, c->events) ||
	    (c->status && s->chunked != c->chunked))
		fail_msg("%s (%s): result %d want %d, status %d want %d, events:\n%s\nwant:\n%s", c->name,
			 how, r, c->err, s->status, c->status, s->out, c->events);
}

static void test_sse_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		const struct case_row *c = &cases[i];
		size_t len = strlen(c->input);
		struct seen s;
		int r;

		r = feed_split(c, &s, 0, 0);
		check(c, &s, r, "whole");
		for (size_t k = 1; k < len; k++) {
			char how[32];

			r = feed_split(c, &s, k, len);
			snprintf(how, sizeof(how), "split at %zu", k);
			check(c, &s, r, how);
		}
		r = feed_split(c, &s, 0, 1);
		check(c, &s, r, "byte by byte");
	}
}

static void test_sse_head_fields(void **state)
{
	struct seen s;

	(void)state;
	assert_int_equal(feed_split(&cases[0], &s, 0, 0), 0);
	assert_int_equal(s.heads, 1);
	assert_true(s.event_stream);
	assert_string_equal(s.server, "test/1");
	assert_int_equal(feed_split(&cases[4], &s, 0, 0), 0);
	assert_false(s.event_stream);
}

static void test_sse_head_too_long(void **state)
{
	static char big[SSE_HEAD_MAX + 200];
	struct case_row c = { "long head", big, 0, COHORT_E_LIMIT, 0, false, "" };
	struct seen s;
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX: ");
	memset(big + n, 'a', sizeof(big) - n - 1);
	big[sizeof(big) - 1] = '\0';
	check(&c, &s, feed_split(&c, &s, 0, 0), "whole");
	check(&c, &s, feed_split(&c, &s, 0, 1000), "in pieces");
}

/* After the head, an idle connection holds no heap memory. */
static void test_sse_idle_memory(void **state)
{
	struct sse_parser p;
	struct seen s = { 0 };
	const char *in = HEAD200 "\r\n: heartbeat\n\n";

	(void)state;
	sse_parser_init(&p, 0);
	assert_int_equal(sse_parser_feed(&p, in, strlen(in), &cbs, &s), 0);
	assert_int_equal(sse_parser_heap(&p), 0);
	sse_parser_release(&p);
}

static void test_hist_buckets_contiguous(void **state)
{
	(void)state;
	assert_int_equal(hist_bucket_low(0), 0);
	for (size_t i = 0; i + 1 < HIST_BUCKETS; i++)
		assert_int_equal(hist_bucket_high(i) + 1, hist_bucket_low(i + 1));
	for (uint64_t v = 0; v < 100000; v += 7) {
		size_t b = bucket_of(v);

		assert_true(hist_bucket_low(b) <= v && v <= hist_bucket_high(b));
	}
}

static void test_hist_quantiles(void **state)
{
	struct hist h;

	(void)state;
	hist_init(&h);
	assert_int_equal(hist_quantile(&h, 0.5), 0);
	for (uint64_t v = 1; v <= 100; v++)
		hist_record(&h, v);
	/* Exact below 128. */
	assert_int_equal(hist_quantile(&h, 0.5), 50);
	assert_int_equal(hist_quantile(&h, 0.99), 99);
	assert_int_equal(hist_quantile(&h, 1.0), 100);
	assert_int_equal(hist_quantile(&h, 0.0), 1);
	assert_int_equal(h.count, 100);

	/* Within 1/64 above, never below, and never above the maximum. */
	hist_init(&h);
	for (uint64_t v = 1000; v < 1001000; v += 1000)
		hist_record(&h, v);
	for (int q = 1; q <= 999; q++) {
		/* The ceil(q * 1000)-th value of 1000, 2000, ... 1000000. */
		uint64_t want = (uint64_t)q * 1000;
		uint64_t got = hist_quantile(&h, q / 1000.0);

		assert_true(got >= want);
		assert_true(got <= want + want / 64 + 1);
	}
	assert_int_equal(hist_quantile(&h, 1.0), 1000000);
}

static void test_hist_merge(void **state)
{
	struct hist a, b;

	(void)state;
	hist_init(&a);
	hist_init(&b);
	hist_record(&a, 5);
	hist_record(&b, 500000);
	hist_merge(&a, &b);
	assert_int_equal(a.count, 2);
	assert_int_equal(a.min, 5);
	assert_int_equal(a.max, 500000);
	assert_int_equal(hist_quantile(&a, 0.5), 5);
	hist_record(&a, UINT64_MAX / 2); /* the top bucket takes anything */
	assert_int_equal(a.max, UINT64_MAX / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sse_cases),
		cmocka_unit_test(test_sse_head_fields),
		cmocka_unit_test(test_sse_head_too_long),
		cmocka_unit_test(test_sse_idle_memory),
		cmocka_unit_test(test_hist_buckets_contiguous),
		cmocka_unit_test(test_hist_quantiles),
		cmocka_unit_test(test_hist_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
