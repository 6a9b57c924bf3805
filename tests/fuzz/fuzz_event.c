/*
 * Fuzz target: the event envelope. Stored envelopes come back from Redis
 * and are finalized once per event for every subscriber, and their string
 * fields come from clients.
 *
 * 1. event_finalize on the input: when it accepts an input that is a
 *    strict JSON object, the result must be one too, with "id" first.
 * 2. event_encode_stored with string fields cut from the input at NULs:
 *    when they are valid UTF-8 the stored form must be strict JSON and each
 *    string must come back byte for byte (this is the JSON escaper's test).
 */
#include "core/err.h"
#include "core/event.h"
#include "core/json.h"
#include "core/strbuf.h"
#include "core/utf8.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_finalize(const char *s, size_t size)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_object *in = NULL, *out = NULL, *id;
	bool in_ok = json_parse_object(s, size, &in) == 0;
	int err = event_finalize(&sb, "1712345678901-7", s, size);

	if (err && err != COHORT_E_INVAL)
		abort();
	if (!err && in_ok) {
		if (json_parse_object(sb.buf, sb.len, &out)) {
			fprintf(stderr, "finalized event is not JSON: %s\n", sb.buf);
			abort();
		}
		if (memcmp(sb.buf, "{\"id\":\"1712345678901-7\"", 23) || !json_object_object_get_ex(out, "id", &id))
			abort();
	}
	json_put(in);
	json_put(out);
	strbuf_release(&sb);
}

static void expect_str(struct json_object *o, const char *key, const char *want)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		abort();
	if (!want) {
		if (!json_object_is_type(v, json_type_null))
			abort();
		return;
	}
	if (!json_object_is_type(v, json_type_string) || (size_t)json_object_get_string_len(v) != strlen(want) ||
	    memcmp(json_object_get_string(v), want, strlen(want)))
		abort();
}

static void check_encode(const char *s, size_t size)
{
	char *copy = malloc(size + 1);
	const char *field[5] = { NULL, NULL, NULL, NULL, NULL };
	struct strbuf sb = STRBUF_INIT;
	struct json_object *o = NULL;
	size_t nf = 0, start = 0;
	struct event ev;

	if (!copy)
		abort();
	memcpy(copy, s, size);
	copy[size] = '\0';
	/* Up to five NUL-separated strings: type, stream, project, file, user. */
	for (size_t i = 0; i <= size && nf < 5; i++)
		if (copy[i] == '\0') {
			field[nf++] = copy + start;
			start = i + 1;
		}
	for (size_t i = 0; i < nf; i++)
		if (!utf8_valid(field[i], strlen(field[i])))
			goto out;
	ev = (struct event){ field[0] ? field[0] : "t", field[1], field[2], field[3], (long long)size - 3,
			     field[4], NULL, (int64_t)size, -(int64_t)size, "{\"k\":[1,null]}" };
	if (event_encode_stored(&sb, &ev))
		abort();
	if (json_parse_object(sb.buf, sb.len, &o)) {
		fprintf(stderr, "stored event is not JSON: %s\n", sb.buf);
		abort();
	}
	expect_str(o, "type", ev.type);
	expect_str(o, "stream", ev.stream);
	expect_str(o, "project", ev.project);
	if (ev.file)
		expect_str(o, "file", ev.file);
	check_finalize(sb.buf, sb.len);
out:
	json_put(o);
	strbuf_release(&sb);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_finalize((const char *)data, size);
	check_encode((const char *)data, size);
	return 0;
}
