/*
 * Fuzz target: scope_parse, which reads the stream names a client asks to
 * subscribe to, and scope_stream_key on what it accepts.
 *
 * Checks: an accepted scope is at most SCOPE_MAX bytes of [A-Za-z0-9._-]
 * with exactly one ':', is copied verbatim and NUL-terminated; its Redis key
 * is "{<scope>}:events" for dev and "{p|l|u:<id>}:events" for the numeric
 * kinds, whose id prints back exactly as written (canonical, positive); with
 * the dev kind disabled only numeric kinds are accepted.
 */
#include "core/err.h"
#include "core/kv.h"
#include "core/scope.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct scope_policy on = { .dev_enabled = true }, off = { .dev_enabled = false };
	const char *s = (const char *)data;
	struct scope sc;
	char key[KV_KEY_MAX], want[KV_KEY_MAX + 16];
	int err, colons = 0;

	err = scope_parse(s, size, &off, &sc);
	if (err ? err != COHORT_E_BADSTREAM && err != COHORT_E_UNKNOWNSTREAM : sc.kind == SCOPE_DEV)
		abort();
	err = scope_parse(s, size, NULL, &sc);
	if (err ? err != COHORT_E_BADSTREAM && err != COHORT_E_UNKNOWNSTREAM : sc.kind == SCOPE_DEV)
		abort();

	err = scope_parse(s, size, &on, &sc);
	if (err) {
		if (err != COHORT_E_BADSTREAM && err != COHORT_E_UNKNOWNSTREAM)
			abort();
		return 0;
	}
	if (size == 0 || size > SCOPE_MAX || memcmp(sc.name, s, size) || sc.name[size] != '\0')
		abort();
	for (size_t i = 0; i < size; i++) {
		char c = s[i];

		if (c == ':')
			colons++;
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
			   c == '_' || c == '.'))
			abort();
	}
	if (colons != 1 || sc.id_off == 0 || sc.id_off >= size || s[sc.id_off - 1] != ':')
		abort();
	if (scope_stream_key(&sc, key, sizeof(key)))
		abort();
	if (sc.kind == SCOPE_DEV) {
		if (sc.id != 0)
			abort();
		snprintf(want, sizeof(want), "{%s}:events", sc.name);
	} else {
		const char *tag = sc.kind == SCOPE_PROJECT ? "p" : sc.kind == SCOPE_LESSON ? "l" : "u";
		char id[32];

		if (sc.id <= 0)
			abort();
		snprintf(id, sizeof(id), "%lld", (long long)sc.id);
		if (strcmp(id, sc.name + sc.id_off))
			abort();
		snprintf(want, sizeof(want), "{%s:%s}:events", tag, id);
	}
	if (strcmp(key, want))
		abort();
	return 0;
}
