/*
 * Unit tests for cohort-stream's position bookkeeping (follow.c): the
 * delivery filter, mapping a resume position onto the requested streams,
 * formatting a connection's composite position, and the conservative
 * "history lost" rule behind reset events.
 */
#include "stream/feed.h"
#include "stream/follow.h"
#include "stream/subscription.h"
#include "core/err.h"
#include "core/strbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const struct scope_policy dev_on = { .dev_enabled = true };

static struct sub_request request(const char *list)
{
	struct sub_request req;

	assert_int_equal(subscription_parse_list(list, strlen(list), &dev_on, 16, &req, NULL, 0), 0);
	return req;
}

static void test_accept_filter(void **state)
{
	struct follow f;
	struct stream_id a = { 5, 0 }, b = { 5, 1 }, c = { 6, 0 }, old = { 4, 99 };

	(void)state;
	memset(&f, 0, sizeof(f));
	f.pos = a;
	assert_false(follow_accept(&f, &a));   /* equal: already delivered */
	assert_false(follow_accept(&f, &old)); /* older */
	assert_true(follow_accept(&f, &b));
	assert_int_equal(f.pos.seq, 1);
	assert_false(follow_accept(&f, &b));   /* the same event from a second source */
	assert_true(follow_accept(&f, &c));
	assert_false(follow_accept(&f, &b));   /* out of order: never delivered twice */
	assert_int_equal(f.pos.ms, 6);
}

static const struct {
	const char *streams;
	const char *resume;
	int err;
	const char *expect; /* per stream "ms-seq" or "-" for not given, joined by ' ' */
} resume_rows[] = {
	{ "dev:a", "dev:a=5-1", 0, "5-1" },
	{ "dev:a,dev:b", "dev:b=7-0,dev:a=5-1", 0, "5-1 7-0" },       /* order of the id does not matter */
	{ "dev:a,dev:b", "dev:a=5-1", 0, "5-1 -" },                    /* b starts now */
	{ "dev:a", "dev:zz=1-1,dev:a=2-2", 0, "2-2" },                 /* unrequested scopes ignored */
	{ "dev:a", "dev:zz=1-1", 0, "-" },
	{ "dev:a", "dev:a=1-1,dev:a=3-3", 0, "3-3" },                  /* the last one wins */
	{ "dev:a", "dev:A=1-1", 0, "-" },                              /* names are case-sensitive */
	{ "dev:a", "dev:a=0-0", 0, "0-0" },
	{ "dev:a", "dev:a=18446744073709551615-18446744073709551615", 0,
	  "18446744073709551615-18446744073709551615" },
	{ "dev:a", "dev:a", COHORT_E_BADID, NULL },
	{ "dev:a", "dev:a=", COHORT_E_BADID, NULL },
	{ "dev:a", "dev:a=1", COHORT_E_BADID, NULL },
	{ "dev:a", "=1-1", COHORT_E_BADID, NULL },
	{ "dev:a", "dev:a=1-1,", COHORT_E_BADID, NULL },
	{ "dev:a", ",dev:a=1-1", COHORT_E_BADID, NULL },
	{ "dev:a", "dev:a=1-1 ", COHORT_E_BADID, NULL },
	{ "dev:a", "1712345678901-0", COHORT_E_BADID, NULL },          /* a bare entry id is not a position */
	{ "dev:a", "dev:a=x-1", COHORT_E_BADID, NULL },
};

static void test_resume_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(resume_rows) / sizeof(resume_rows[0]); i++) {
		struct sub_request req = request(resume_rows[i].streams);
		struct stream_id start[16];
		bool has[16];
		struct strbuf got = STRBUF_INIT;
		int err = follow_resume_parse(resume_rows[i].resume, strlen(resume_rows[i].resume), &req, start, has);

		if (err != resume_rows[i].err)
			fail_msg("row %zu (%s): err %d, want %d", i, resume_rows[i].resume, err, resume_rows[i].err);
		if (!err) {
			for (size_t k = 0; k < req.n; k++) {
				char id[STREAM_ID_STRMAX];

				if (k)
					strbuf_addch(&got, ' ');
				if (has[k]) {
					stream_id_format(&start[k], id, sizeof(id));
					strbuf_adds(&got, id);
				} else {
					strbuf_adds(&got, "-");
				}
			}
			if (strcmp(got.buf, resume_rows[i].expect))
				fail_msg("row %zu: got '%s', want '%s'", i, got.buf, resume_rows[i].expect);
		}
		strbuf_release(&got);
		subscription_release(&req);
	}
}

static void test_format_written_positions(void **state)
{
	struct follow fs[3];
	struct strbuf sb = STRBUF_INIT;
	struct stream_id r1 = { 0, 0 }, r2 = { 0, 0 };
	struct sub_request req = request("dev:b,dev:a,dev:c");
	bool has[3];
	struct stream_id start[3];

	(void)state;
	memset(fs, 0, sizeof(fs));
	fs[0].scope = "dev:b";
	fs[1].scope = "dev:a";
	fs[2].scope = "dev:c";
	fs[0].wpos = (struct stream_id){ 10, 1 };
	fs[1].wpos = (struct stream_id){ 0, 0 };
	fs[2].wpos = (struct stream_id){ 1712345678901ULL, 0 };
	fs[0].pos = (struct stream_id){ 99, 9 }; /* queued but not written: not reported */
	assert_int_equal(follow_format(&sb, fs, 3), 0);
	assert_string_equal(sb.buf, "dev:b=10-1,dev:a=0-0,dev:c=1712345678901-0");

	/* What we report parses back to the same positions. */
	assert_int_equal(follow_resume_parse(sb.buf, sb.len, &req, start, has), 0);
	assert_true(has[0] && has[1] && has[2]);
	r1 = start[0];
	r2 = start[2];
	assert_int_equal(stream_id_cmp(&r1, &fs[0].wpos), 0);
	assert_int_equal(stream_id_cmp(&r2, &fs[2].wpos), 0);

	/* The widest ids format in full. */
	strbuf_reset(&sb);
	fs[0].wpos = (struct stream_id){ UINT64_MAX, UINT64_MAX };
	assert_int_equal(follow_format(&sb, fs, 1), 0);
	assert_string_equal(sb.buf, "dev:b=18446744073709551615-18446744073709551615");
	strbuf_release(&sb);
	subscription_release(&req);
}

#define ID(m, s) ((struct stream_id){ (m), (s) })

static const struct {
	const char *what;
	struct feed_page page;
	struct stream_id after;
	bool lost;
} lost_rows[] = {
	{ "missing key", { .exists = false }, ID(5, 0), false },
	{ "never trimmed, resume before the first entry",
	  { .exists = true, .have_added = true, .length = 3, .entries_added = 3, .first = ID(10, 0),
	    .last_generated = ID(12, 0) }, ID(5, 0), false },
	{ "trimmed, resume inside retained history",
	  { .exists = true, .have_added = true, .length = 3, .entries_added = 9, .first = ID(10, 0),
	    .last_generated = ID(12, 0) }, ID(10, 0), false },
	{ "trimmed, resume older than the first retained entry",
	  { .exists = true, .have_added = true, .length = 3, .entries_added = 9, .first = ID(10, 0),
	    .last_generated = ID(12, 0) }, ID(9, 5), true },
	{ "trimmed to nothing, resume before the newest id",
	  { .exists = true, .have_added = true, .length = 0, .entries_added = 9,
	    .last_generated = ID(12, 0) }, ID(11, 0), true },
	{ "trimmed to nothing, client already had everything",
	  { .exists = true, .have_added = true, .length = 0, .entries_added = 9,
	    .last_generated = ID(12, 0) }, ID(12, 0), false },
	{ "empty stream that never had entries",
	  { .exists = true, .have_added = true, .length = 0, .entries_added = 0 }, ID(0, 0), false },
	{ "no entries-added (old Redis): a read from 0-0 is not a loss",
	  { .exists = true, .have_added = false, .length = 3, .first = ID(10, 0), .last_generated = ID(12, 0) },
	  ID(0, 0), false },
	{ "no entries-added (old Redis): a gap is assumed lost",
	  { .exists = true, .have_added = false, .length = 3, .first = ID(10, 0), .last_generated = ID(12, 0) },
	  ID(9, 0), true },
};

static void test_history_lost(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(lost_rows) / sizeof(lost_rows[0]); i++)
		if (follow_history_lost(&lost_rows[i].page, &lost_rows[i].after) != lost_rows[i].lost)
			fail_msg("%s: want lost=%d", lost_rows[i].what, lost_rows[i].lost);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_filter),
		cmocka_unit_test(test_resume_parse),
		cmocka_unit_test(test_format_written_positions),
		cmocka_unit_test(test_history_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
