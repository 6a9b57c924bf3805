#include "core/json.h"
#include "core/err.h"
#include "core/utf8.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int json_parse_object(const char *buf, size_t len, struct json_object **out)
{
	struct json_tokener *tok;
	struct json_object *obj;
	int err = 0;

	*out = NULL;
	if (!utf8_valid(buf, len))
		return COHORT_E_UTF8;
	if (len > INT_MAX)
		return COHORT_E_TOOBIG;
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok)
		return COHORT_E_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)len || !json_object_is_type(obj, json_type_object)) {
		/* Trailing whitespace after the object is fine; anything else is not. */
		int off = tok->char_offset;

		while (obj && off < (int)len && strchr(" \t\r\n", buf[off]))
			off++;
		if (!obj || json_tokener_get_error(tok) != json_tokener_success || off != (int)len ||
		    !json_object_is_type(obj, json_type_object)) {
			json_object_put(obj);
			obj = NULL;
			err = COHORT_E_JSON;
		}
	}
	json_tokener_free(tok);
	*out = obj;
	return err;
}

void json_put(struct json_object *o)
{
	if (o)
		json_object_put(o);
}

static int get(struct json_object *o, const char *key, bool required, enum json_type type,
	       struct json_object **v)
{
	if (!json_object_object_get_ex(o, key, v) || json_object_is_type(*v, json_type_null)) {
		*v = NULL;
		return required ? COHORT_E_FIELD : 1;
	}
	if (!json_object_is_type(*v, type))
		return COHORT_E_FIELD;
	return 0;
}

int json_get_str(struct json_object *o, const char *key, bool required, size_t maxlen,
		 const char **out, size_t *outlen)
{
	struct json_object *v;
	int r = get(o, key, required, json_type_string, &v);
	size_t n;

	*out = NULL;
	if (outlen)
		*outlen = 0;
	if (r)
		return r < 0 ? r : 0;
	n = (size_t)json_object_get_string_len(v);
	if (n > maxlen)
		return COHORT_E_RANGE;
	*out = json_object_get_string(v);
	if (memchr(*out, '\0', n))
		return COHORT_E_FIELD;
	if (outlen)
		*outlen = n;
	return 0;
}

int json_get_int(struct json_object *o, const char *key, bool required, long long min,
		 long long max, long long *out)
{
	struct json_object *v;
	int r = get(o, key, required, json_type_int, &v);
	long long n;

	if (r)
		return r < 0 ? r : 0;
	n = (long long)json_object_get_int64(v);
	if (n < min || n > max)
		return COHORT_E_RANGE;
	*out = n;
	return 0;
}

int json_get_bool(struct json_object *o, const char *key, bool required, bool *out)
{
	struct json_object *v;
	int r = get(o, key, required, json_type_boolean, &v);

	if (r)
		return r < 0 ? r : 0;
	*out = json_object_get_boolean(v);
	return 0;
}

int json_get_raw(struct json_object *o, const char *key, bool required, size_t maxlen, char **out)
{
	struct json_object *v;
	const char *s;
	size_t n;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return required ? COHORT_E_FIELD : 0;
	s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	n = strlen(s);
	if (n > maxlen)
		return COHORT_E_RANGE;
	*out = strdup(s);
	return *out ? 0 : COHORT_E_NOMEM;
}
