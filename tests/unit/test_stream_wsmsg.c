/*
 * Unit tests for cohort-stream's WebSocket client messages (wsmsg.c): the
 * message table, field types, limits, and that every refusal carries a
 * stable error and a sentence.
 */
#include "stream/wsmsg.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const struct {
	const char *in;
	int err;
	int type;
	size_t nstreams;
	const char *after;
} rows[] = {
	{ "{\"type\":\"ping\"}", 0, WSMSG_PING, 0, NULL },
	{ " {\"type\":\"ping\",\"extra\":[1,2]} ", 0, WSMSG_PING, 0, NULL },
	{ "{\"type\":\"subscribe\",\"streams\":[\"dev:a\",\"dev:b\"]}", 0, WSMSG_SUBSCRIBE, 2, NULL },
	{ "{\"type\":\"subscribe\",\"streams\":[],\"after\":\"dev:a=1-0\"}", 0, WSMSG_SUBSCRIBE, 0, "dev:a=1-0" },
	{ "{\"type\":\"subscribe\",\"streams\":[\"dev:a\"],\"after\":null}", 0, WSMSG_SUBSCRIBE, 1, NULL },
	{ "{\"streams\":[\"dev:a\"],\"type\":\"subscribe\"}", 0, WSMSG_SUBSCRIBE, 1, NULL },
	{ "", COHORT_E_JSON, 0, 0, NULL },
	{ "nope", COHORT_E_JSON, 0, 0, NULL },
	{ "[\"ping\"]", COHORT_E_JSON, 0, 0, NULL },
	{ "{\"type\":\"ping\"", COHORT_E_JSON, 0, 0, NULL },
	{ "{\"type\":\"ping\"} x", COHORT_E_JSON, 0, 0, NULL },
	{ "{\"type\":\"\xff\"}", COHORT_E_UTF8, 0, 0, NULL },
	{ "{}", COHORT_E_FIELD, 0, 0, NULL },
	{ "{\"type\":1}", COHORT_E_FIELD, 0, 0, NULL },
	{ "{\"type\":\"pong\"}", COHORT_E_INVAL, 0, 0, NULL },
	{ "{\"type\":\"Ping\"}", COHORT_E_INVAL, 0, 0, NULL },
	{ "{\"type\":\"subscribe\"}", COHORT_E_FIELD, 0, 0, NULL },
	{ "{\"type\":\"subscribe\",\"streams\":\"dev:a\"}", COHORT_E_FIELD, 0, 0, NULL },
	{ "{\"type\":\"subscribe\",\"streams\":[1]}", COHORT_E_FIELD, 0, 0, NULL },
	{ "{\"type\":\"subscribe\",\"streams\":[\"dev:a\",null]}", COHORT_E_FIELD, 0, 0, NULL },
	{ "{\"type\":\"subscribe\",\"streams\":[\"dev:a\"],\"after\":5}", COHORT_E_FIELD, 0, 0, NULL },
};

static void test_parse_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char detail[WSMSG_DETAIL_MAX] = "";
		struct wsmsg m;
		int err = wsmsg_parse(rows[i].in, strlen(rows[i].in), &m, detail, sizeof(detail));

		if (err != rows[i].err)
			fail_msg("row %zu '%s': err %d, want %d (%s)", i, rows[i].in, err, rows[i].err, detail);
		if (err) {
			assert_true(detail[0] != '\0');
			assert_null(m.streams);
			continue;
		}
		assert_int_equal(m.type, rows[i].type);
		assert_int_equal(m.nstreams, rows[i].nstreams);
		if (rows[i].after)
			assert_string_equal(m.after, rows[i].after);
		else
			assert_null(m.after);
		wsmsg_release(&m);
	}
}

static void test_subscribe_copies(void **state)
{
	static const char in[] = "{\"type\":\"subscribe\",\"streams\":[\"dev:a\",\"dev:\\u00e9\"],\"after\":\"dev:a=1-2\"}";
	struct wsmsg m;

	(void)state;
	assert_int_equal(wsmsg_parse(in, strlen(in), &m, NULL, 0), 0);
	assert_string_equal(m.streams[0], "dev:a");
	assert_int_equal(m.lens[0], 5);
	assert_string_equal(m.streams[1], "dev:\xc3\xa9"); /* decoded; the scope check refuses it later */
	assert_int_equal(m.lens[1], 6);
	assert_int_equal(m.after_len, 9);
	assert_string_equal(wsmsg_type_name(m.type), "subscribe");
	wsmsg_release(&m);
	wsmsg_release(&m);
	assert_string_equal(wsmsg_type_name(WSMSG_PING), "ping");
}

static void test_limits(void **state)
{
	char *big = malloc(WSMSG_MAX + 64);
	struct wsmsg m;
	size_t n;

	(void)state;
	assert_non_null(big);
	/* One byte over the limit is refused before parsing. */
	memset(big, ' ', WSMSG_MAX + 1);
	memcpy(big, "{\"type\":\"ping\"}", 15);
	assert_int_equal(wsmsg_parse(big, WSMSG_MAX + 1, &m, NULL, 0), COHORT_E_TOOBIG);
	assert_int_equal(wsmsg_parse(big, WSMSG_MAX, &m, NULL, 0), 0);
	wsmsg_release(&m);

	/* More names than any connection may follow. */
	n = (size_t)snprintf(big, WSMSG_MAX, "{\"type\":\"subscribe\",\"streams\":[");
	for (int i = 0; i <= WSMSG_MAX_STREAMS; i++)
		n += (size_t)snprintf(big + n, WSMSG_MAX - n, "%s1", i ? "," : "");
	n += (size_t)snprintf(big + n, WSMSG_MAX - n, "]}");
	assert_true(n < WSMSG_MAX);
	assert_int_equal(wsmsg_parse(big, n, &m, NULL, 0), COHORT_E_LIMIT);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_rows),
		cmocka_unit_test(test_subscribe_copies),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
