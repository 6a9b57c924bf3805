/*
 * Fuzz target: json_parse_object, the edge every request body crosses.
 *
 * Beyond "no crash, no leak, no UB", it checks two properties: an accepted
 * text is valid UTF-8 and an object, and whatever json_get_raw() returns for
 * a member parses again (it is spliced into event envelopes as JSON).
 */
#include "core/err.h"
#include "core/json.h"
#include "core/utf8.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_raw_reparses(struct json_object *o, const char *key)
{
	struct json_object *again;
	char *raw = NULL, *wrapped;
	size_t n;

	if (json_get_raw(o, key, false, 1 << 20, &raw) || !raw)
		return;
	n = strlen(raw) + 8;
	wrapped = malloc(n);
	if (!wrapped)
		abort();
	n = (size_t)snprintf(wrapped, n, "{\"v\":%s}", raw);
	if (json_parse_object(wrapped, n, &again)) {
		fprintf(stderr, "json_get_raw gave text that does not parse: %s\n", raw);
		abort();
	}
	json_put(again);
	free(wrapped);
	free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct json_object *o = NULL;
	int err = json_parse_object(buf, size, &o);

	if (err) {
		if (o || (err != COHORT_E_JSON && err != COHORT_E_UTF8 && err != COHORT_E_TOOBIG))
			abort();
		return 0;
	}
	if (!o || !json_object_is_type(o, json_type_object) || !utf8_valid(buf, size))
		abort();

	/* Exercise the getters on every member and on a fixed set of names. */
	json_object_object_foreach(o, key, val) {
		const char *s;
		size_t slen;
		long long n;
		bool b;

		(void)val;
		json_get_str(o, key, true, 64, &s, &slen);
		json_get_int(o, key, false, -1000, 1000, &n);
		json_get_bool(o, key, true, &b);
		check_raw_reparses(o, key);
	}
	json_put(o);
	return 0;
}
