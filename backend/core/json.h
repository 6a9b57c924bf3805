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
/* The same checks for any top-level value (array, string, number, true,
 * false); the literal null is refused (COHORT_E_JSON) since json-c has no
 * object for it. */
int json_parse_value(const char *buf, size_t len, struct json_object **out);
void json_put(struct json_object *o);

/* Field getters: COHORT_E_FIELD when a required field is missing or has the
 * wrong type, COHORT_E_RANGE when it is out of bounds. *out borrows from o. */
int json_get_str(struct json_object *o, const char *key, bool required, size_t maxlen,
		 const char **out, size_t *outlen);
int json_get_int(struct json_object *o, const char *key, bool required, long long min,
		 long long max, long long *out);
int json_get_bool(struct json_object *o, const char *key, bool required, bool *out);
/* true when o has the key (whatever its value). */
bool json_has(struct json_object *o, const char *key);
/* 0 when every key of o is in the NULL-terminated list keys; otherwise
 * COHORT_E_FIELD with *unknown naming the first other key (borrowed from o). */
int json_only_keys(struct json_object *o, const char *const *keys, const char **unknown);
/* An array of at most maxn integers, each in min..max, into out[] (*n set).
 * COHORT_E_FIELD when missing or not an array of integers, COHORT_E_RANGE
 * when too long or a value is out of bounds. */
int json_get_int_array(struct json_object *o, const char *key, bool required, size_t maxn, long long min,
		       long long max, long long *out, size_t *n);
/* Any JSON value, re-serialized compactly into a new heap string (caller frees). */
int json_get_raw(struct json_object *o, const char *key, bool required, size_t maxlen, char **out);

#endif
