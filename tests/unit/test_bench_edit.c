/*
 * Unit tests for cohort-bench edit's subscriber checks: markers round-trip,
 * update envelopes parse, and loss, duplicates, repeated and skipped edits
 * are each counted — so a run that reports zero of them could have reported
 * more.
 *
 * The bench modules are not in a library the Makefile links into unit tests,
 * so the source is compiled in here directly (as test_bench_sse.c does).
 */
#include "cli/bench_edit_check.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* An update envelope as cohort-api stores it, with the marker inserted at
 * position pos of a document of doclen units. */
static size_t envelope(char *buf, size_t cap, int64_t version, uint64_t w, uint64_t seq, int64_t t0)
{
	char mark[64];
	int n;

	edit_mark_format(mark, sizeof(mark), w, seq, t0);
	n = snprintf(buf, cap,
		     "{\"id\":\"1-0\",\"type\":\"update\",\"stream\":\"project:7\",\"project\":7,"
		     "\"file\":\"edit.txt\",\"version\":%lld,\"actor\":{\"user\":\"1\",\"client\":\"bench-e%llu\"},"
		     "\"ts\":{\"recv\":1,\"pub\":2},\"data\":{\"clientID\":\"bench-e%llu\",\"changes\":[5,[0,\"%s\"],3]}}",
		     (long long)version, (unsigned long long)w, (unsigned long long)w, mark);
	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

static void test_mark_roundtrip(void **state)
{
	static const struct { uint64_t w, seq; int64_t t0; } rows[] = {
		{ 0, 1, 1796665091000000LL },
		{ 299, 1234567, 1796665091123456LL },
		{ 99999, 9999999, 9999999999999999LL },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char buf[1024], mark[64];
		struct edit_event e;
		size_t n = envelope(buf, sizeof(buf), 42 + (int64_t)i, rows[i].w, rows[i].seq, rows[i].t0);

		edit_mark_format(mark, sizeof(mark), rows[i].w, rows[i].seq, rows[i].t0);
		assert_int_equal(strlen(mark), EDIT_MARK_LEN);
		assert_true(edit_event_parse(buf, n, &e));
		assert_int_equal(e.version, 42 + (int64_t)i);
		assert_int_equal(e.writer, rows[i].w);
		assert_int_equal(e.seq, rows[i].seq);
		assert_int_equal(e.t0_us, rows[i].t0);
	}
}

static void test_foreign_events(void **state)
{
	static const char *const rows[] = {
		"{\"type\":\"cursor\",\"version\":3,\"data\":{\"ranges\":[]}}",
		"{\"type\":\"update\",\"version\":3,\"data\":{\"clientID\":\"x\",\"changes\":[5,[0,\"a\"],3]}}",
		"{\"type\":\"update\",\"version\":3,\"data\":{\"changes\":[[0,\"<00001.0000001.17966650>\"]]}}",
		"{\"type\":\"update\",\"data\":{\"changes\":[[0,\"<00001.0000001.1796665091000000>\"]]}}",
		"{\"type\":\"reset\",\"stream\":\"project:7\"}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct edit_event e;

		assert_false(edit_event_parse(rows[i], strlen(rows[i]), &e));
	}
}

/* A sequence of (version, writer, seq) arrivals at one connection whose file
 * starts at version 1 with writers 10..12, and the counts it must give. */
struct arrival {
	int64_t v;
	uint64_t w, seq;
	enum edit_verdict want;
};

struct check_row {
	const char *name;
	struct arrival a[8];
	size_t n;
	struct edit_counts want;
	uint64_t updates, edits;
};

static const struct check_row check_rows[] = {
	{ "in order", { { 2, 10, 1, EDIT_NEW }, { 3, 11, 1, EDIT_NEW }, { 4, 10, 2, EDIT_NEW } }, 3,
	  { 0, 0, 0, 0, 0 }, 3, 3 },
	{ "a version skipped is lost", { { 2, 10, 1, EDIT_NEW }, { 5, 10, 2, EDIT_NEW } }, 2,
	  { 2, 0, 0, 0, 0 }, 2, 2 },
	{ "a version again is a duplicate", { { 2, 10, 1, EDIT_NEW }, { 2, 10, 1, EDIT_DUPLICATE } }, 2,
	  { 0, 1, 0, 0, 0 }, 1, 1 },
	{ "an older version is a duplicate",
	  { { 2, 10, 1, EDIT_NEW }, { 3, 11, 1, EDIT_NEW }, { 2, 10, 1, EDIT_DUPLICATE } }, 3,
	  { 0, 1, 0, 0, 0 }, 2, 2 },
	{ "one edit under two versions",
	  { { 2, 10, 1, EDIT_NEW }, { 3, 10, 1, EDIT_NEW_NO_LATENCY } }, 2,
	  { 0, 0, 1, 0, 0 }, 2, 1 },
	{ "a writer's edit number skipped",
	  { { 2, 12, 1, EDIT_NEW }, { 3, 12, 4, EDIT_NEW } }, 2,
	  { 0, 0, 0, 2, 0 }, 2, 2 },
	{ "a writer of another file", { { 2, 13, 1, EDIT_NEW_NO_LATENCY } }, 1,
	  { 0, 0, 0, 0, 1 }, 1, 0 },
};

static void test_check(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(check_rows) / sizeof(check_rows[0]); i++) {
		const struct check_row *row = &check_rows[i];
		uint32_t wseq[3] = { 0, 0, 0 };
		struct edit_seen s = { 1, wseq, 0, 0 };
		struct edit_counts c;

		memset(&c, 0, sizeof(c));
		for (size_t k = 0; k < row->n; k++) {
			struct edit_event e = { row->a[k].v, row->a[k].w, row->a[k].seq, 0 };

			if (edit_check(&s, 10, 3, &e, &c) != row->a[k].want)
				fail_msg("%s: arrival %zu", row->name, k);
		}
		if (c.lost != row->want.lost || c.duplicates != row->want.duplicates ||
		    c.edit_duplicates != row->want.edit_duplicates ||
		    c.edits_skipped != row->want.edits_skipped || c.foreign != row->want.foreign ||
		    s.updates != row->updates || s.edits != row->edits)
			fail_msg("%s: lost %llu dup %llu editdup %llu skipped %llu foreign %llu updates %llu edits %llu",
				 row->name, (unsigned long long)c.lost, (unsigned long long)c.duplicates,
				 (unsigned long long)c.edit_duplicates, (unsigned long long)c.edits_skipped,
				 (unsigned long long)c.foreign, (unsigned long long)s.updates,
				 (unsigned long long)s.edits);
	}
}

struct found {
	char list[512];
	size_t len;
};

static void collect(void *arg, const struct edit_event *ev)
{
	struct found *f = arg;
	int n = snprintf(f->list + f->len, sizeof(f->list) - f->len, "%llu.%llu ",
			 (unsigned long long)ev->writer, (unsigned long long)ev->seq);

	assert_true(n > 0 && (size_t)n < sizeof(f->list) - f->len);
	f->len += (size_t)n;
}

/* Markers inserted into markers are still found, innermost first. */
static void test_marks_scan(void **state)
{
	char a[64], b[64], c[64], text[512];
	struct found f;
	int n;

	(void)state;
	edit_mark_format(a, sizeof(a), 1, 7, 1796665091000000LL);
	edit_mark_format(b, sizeof(b), 2, 1, 1796665091000001LL);
	edit_mark_format(c, sizeof(c), 3, 2, 1796665091000002LL);
	/* c inside b at 9, b inside a at 4, plus text around and a stray '>'. */
	n = snprintf(text, sizeof(text), "ab>c%.4s%.9s%s%s%sxyz\n", a, b, c, b + 9, a + 4);
	assert_true(n > 0);
	memset(&f, 0, sizeof(f));
	assert_int_equal(edit_marks_scan(text, (size_t)n, collect, &f), 0);
	assert_string_equal(f.list, "3.2 2.1 1.7 ");
	/* A marker cut short is not one. */
	memset(&f, 0, sizeof(f));
	assert_int_equal(edit_marks_scan(a, EDIT_MARK_LEN - 1, collect, &f), 0);
	assert_int_equal(f.len, 0);
}

static void test_int_after(void **state)
{
	const char *d = "{\"version\":12,\"accepted\":1,\"skipped\":0}";
	int64_t v;

	(void)state;
	assert_true(edit_int_after(d, strlen(d), "\"version\":", &v));
	assert_int_equal(v, 12);
	assert_true(edit_int_after(d, strlen(d), "\"skipped\":", &v));
	assert_int_equal(v, 0);
	assert_false(edit_int_after(d, strlen(d), "\"nope\":", &v));
	assert_false(edit_int_after("{\"version\":-1}", 14, "\"version\":", &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mark_roundtrip),
		cmocka_unit_test(test_foreign_events),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_marks_scan),
		cmocka_unit_test(test_int_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
