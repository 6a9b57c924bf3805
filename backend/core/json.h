/*
 * json.h — JSON at the edge. Request bodies are checked (size, UTF-8,
 * syntax, depth) and turned into typed values here; nothing deeper in
 * cohort handles json_object pointers from clients.
 */
#ifndef COHORT_JSON_H
#define COHORT_JSON_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

#define JSON_MAX_DEPTH 32

/* Parses buf as one JSON object (strict, UTF-8 validated, depth-limited).
 * Errors: COHORT_E_UTF8, COHORT_E_JSON (also when the top level is not an object). */
int json_parse_object(const char *buf, size_t len, struct json_object **out);
void json_put(struct json_object *o);

/* Field getters: COHORT_E_FIELD when a required field is missing or has the
 * wrong type, COHORT_E_RANGE when it is out of bounds. *out borrows from o. */
int json_get_str(struct json_object *o, const char *key, bool required, size_t maxlen,
		 const char **out, size_t *outlen);
int json_get_int(struct json_object *o, const char *key, bool required, long long min,
		 long long max, long long *out);
int json_get_bool(struct json_object *o, const char *key, bool required, bool *out);
/* Any JSON value, re-serialized compactly into a new heap string (caller frees). */
int json_get_raw(struct json_object *o, const char *key, bool required, size_t maxlen, char **out);

#endif
