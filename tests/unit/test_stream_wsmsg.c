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
#include <json-c/json.h>

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
	/* issue 6: watch lists */
	{ "{\"type\":\"watch\",\"streams\":[\"project:7\",\"project:9\"]}", 0, WSMSG_WATCH, 2, NULL },
	{ "{\"type\":\"watch\",\"streams\":[]}", 0, WSMSG_WATCH, 0, NULL },
	{ "{\"type\":\"watch\"}", COHORT_E_FIELD, 0, 0, NULL },
	{ "{\"type\":\"watch\",\"streams\":[\"project:7\"],\"after\":\"project:7=1-0\"}", COHORT_E_FIELD, 0, 0, NULL },
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

/* push and cursor: the fields, their bounds, and the id that survives a refusal. */
static const struct {
	const char *in;
	int err;
	const char *id; /* expected m.id after parsing, success or not */
} edit_rows[] = {
	{ "{\"type\":\"push\",\"id\":\"r1\",\"project\":7,\"path\":\"src/a.py\",\"version\":3,\"updates\":[]}", 0,
	  "\"r1\"" },
	{ "{\"type\":\"push\",\"id\":42,\"project\":7,\"path\":\"a\",\"version\":0,\"updates\":[{\"x\":1}]}", 0, "42" },
	{ "{\"type\":\"push\",\"project\":7,\"path\":\"a\",\"version\":0,\"updates\":[]}", COHORT_E_FIELD, "" },
	{ "{\"type\":\"push\",\"id\":\"\",\"project\":7,\"path\":\"a\",\"version\":0,\"updates\":[]}", COHORT_E_FIELD, "" },
	{ "{\"type\":\"push\",\"id\":\"a b\",\"project\":7,\"path\":\"a\",\"version\":0,\"updates\":[]}", COHORT_E_FIELD,
	  "" },
	{ "{\"type\":\"push\",\"id\":\"a\\\"\",\"project\":7,\"path\":\"a\",\"version\":0,\"updates\":[]}", COHORT_E_FIELD,
	  "" },
	{ "{\"type\":\"push\",\"id\":-1,\"project\":7,\"path\":\"a\",\"version\":0,\"updates\":[]}", COHORT_E_FIELD, "" },
	{ "{\"type\":\"push\",\"id\":1.5,\"project\":7,\"path\":\"a\",\"version\":0,\"updates\":[]}", COHORT_E_FIELD, "" },
	{ "{\"type\":\"push\",\"id\":\"x\",\"project\":0,\"path\":\"a\",\"version\":0,\"updates\":[]}", COHORT_E_FIELD,
	  "\"x\"" },
	{ "{\"type\":\"push\",\"id\":\"x\",\"project\":\"7\",\"path\":\"a\",\"version\":0,\"updates\":[]}", COHORT_E_FIELD,
	  "\"x\"" },
	{ "{\"type\":\"push\",\"id\":\"x\",\"project\":7,\"path\":\"../a\",\"version\":0,\"updates\":[]}", COHORT_E_FIELD,
	  "\"x\"" },
	{ "{\"type\":\"push\",\"id\":\"x\",\"project\":7,\"path\":\"\",\"version\":0,\"updates\":[]}", COHORT_E_FIELD,
	  "\"x\"" },
	{ "{\"type\":\"push\",\"id\":\"x\",\"project\":7,\"path\":\"a\",\"version\":-1,\"updates\":[]}", COHORT_E_FIELD,
	  "\"x\"" },
	{ "{\"type\":\"push\",\"id\":\"x\",\"project\":7,\"path\":\"a\",\"version\":1}", COHORT_E_FIELD, "\"x\"" },
	{ "{\"type\":\"push\",\"id\":\"x\",\"project\":7,\"path\":\"a\",\"version\":1,\"updates\":{}}", COHORT_E_FIELD,
	  "\"x\"" },
	{ "{\"type\":\"cursor\",\"project\":7,\"path\":\"a\",\"version\":1,\"ranges\":[],\"clientID\":\"k1\"}", 0, "" },
	{ "{\"type\":\"cursor\",\"id\":\"c\",\"project\":7,\"path\":\"a\",\"version\":1,\"ranges\":[],\"main\":2,"
	  "\"clientID\":\"k1\"}",
	  0, "\"c\"" },
	{ "{\"type\":\"cursor\",\"id\":\"c\",\"project\":7,\"path\":\"a\",\"version\":1,\"ranges\":[]}", COHORT_E_FIELD,
	  "\"c\"" },
	{ "{\"type\":\"cursor\",\"id\":\"c\",\"project\":7,\"path\":\"a\",\"version\":1,\"ranges\":[],\"clientID\":\"rest\"}",
	  COHORT_E_FIELD, "\"c\"" },
	{ "{\"type\":\"cursor\",\"id\":\"c\",\"project\":7,\"path\":\"a\",\"version\":1,\"ranges\":[],\"clientID\":\"k\","
	  "\"main\":-1}",
	  COHORT_E_FIELD, "\"c\"" },
	{ "{\"type\":\"cursor\",\"id\":\"c\",\"project\":7,\"path\":\"a\",\"version\":1,\"ranges\":{},\"clientID\":\"k\"}",
	  COHORT_E_FIELD, "\"c\"" },
};

static void test_edit_messages(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(edit_rows) / sizeof(edit_rows[0]); i++) {
		char detail[WSMSG_DETAIL_MAX] = "";
		struct wsmsg m;
		int err = wsmsg_parse(edit_rows[i].in, strlen(edit_rows[i].in), &m, detail, sizeof(detail));

		if (err != edit_rows[i].err)
			fail_msg("row %zu '%s': err %d, want %d (%s)", i, edit_rows[i].in, err, edit_rows[i].err, detail);
		assert_string_equal(m.id, edit_rows[i].id);
		if (err) {
			assert_true(detail[0] != '\0');
			assert_null(m.path);
			assert_null(m.payload);
			continue;
		}
		assert_true(m.type == WSMSG_PUSH || m.type == WSMSG_CURSOR);
		assert_int_equal(m.project, 7);
		assert_non_null(m.path);
		assert_non_null(m.payload);
		if (m.type == WSMSG_CURSOR)
			assert_string_equal(m.client, "k1");
		wsmsg_release(&m);
	}
}

static void test_edit_payload_taken(void **state)
{
	static const char in[] = "{\"type\":\"push\",\"id\":\"r\",\"project\":9,\"path\":\"d/./e.txt\",\"version\":4,"
				 "\"updates\":[{\"clientID\":\"a\",\"changes\":[1]}]}";
	struct json_object *u;
	struct wsmsg m;

	(void)state;
	assert_int_equal(wsmsg_parse(in, strlen(in), &m, NULL, 0), COHORT_E_FIELD); /* not canonical */
	{
		static const char ok[] = "{\"type\":\"push\",\"id\":\"r\",\"project\":9,\"path\":\"d/e.txt\",\"version\":4,"
					 "\"updates\":[{\"clientID\":\"a\",\"changes\":[1]}]}";

		assert_int_equal(wsmsg_parse(ok, strlen(ok), &m, NULL, 0), 0);
	}
	assert_string_equal(m.path, "d/e.txt");
	assert_int_equal(m.version, 4);
	u = wsmsg_take_payload(&m);
	assert_null(m.payload);
	wsmsg_release(&m);
	/* The updates outlive the message: the worker owns them. */
	assert_int_equal(json_object_array_length(u), 1);
	json_object_put(u);
}

/* issue 6: presence messages. */
static void test_presence_messages(void **state)
{
	static const struct {
		const char *in;
		int err;
		long long lesson, project;
		const char *client, *path;
	} prows[] = {
		{ "{\"type\":\"presence\",\"lesson\":3,\"client\":\"k2x9\"}", 0, 3, 0, "k2x9", NULL },
		{ "{\"type\":\"presence\",\"lesson\":3,\"client\":\"k\",\"project\":7,\"file\":\"src/a.py\"}", 0, 3, 7, "k",
		  "src/a.py" },
		{ "{\"type\":\"presence\",\"client\":\"k\"}", COHORT_E_FIELD, 0, 0, NULL, NULL },
		{ "{\"type\":\"presence\",\"lesson\":0,\"client\":\"k\"}", COHORT_E_FIELD, 0, 0, NULL, NULL },
		{ "{\"type\":\"presence\",\"lesson\":3}", COHORT_E_FIELD, 0, 0, NULL, NULL },
		{ "{\"type\":\"presence\",\"lesson\":3,\"client\":\"a b\"}", COHORT_E_FIELD, 0, 0, NULL, NULL },
		{ "{\"type\":\"presence\",\"lesson\":3,\"client\":\"k\",\"project\":\"7\"}", COHORT_E_FIELD, 0, 0, NULL, NULL },
		{ "{\"type\":\"presence\",\"lesson\":3,\"client\":\"k\",\"file\":\"../x\"}", COHORT_E_FIELD, 0, 0, NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(prows) / sizeof(prows[0]); i++) {
		char detail[WSMSG_DETAIL_MAX] = "";
		struct wsmsg m;
		int err = wsmsg_parse(prows[i].in, strlen(prows[i].in), &m, detail, sizeof(detail));

		if (err != prows[i].err)
			fail_msg("row %zu '%s': err %d, want %d (%s)", i, prows[i].in, err, prows[i].err, detail);
		if (err) {
			assert_true(detail[0] != '\0');
			continue;
		}
		assert_int_equal(m.type, WSMSG_PRESENCE);
		assert_int_equal(m.lesson, prows[i].lesson);
		assert_int_equal(m.project, prows[i].project);
		assert_string_equal(m.client, prows[i].client);
		if (prows[i].path)
			assert_string_equal(m.path, prows[i].path);
		else
			assert_null(m.path);
		wsmsg_release(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_rows),
		cmocka_unit_test(test_subscribe_copies),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_edit_messages),
		cmocka_unit_test(test_edit_payload_taken),
		cmocka_unit_test(test_presence_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
