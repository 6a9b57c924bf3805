#include "core/json.h"
#include "core/err.h"
#include "core/utf8.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/*
 * json-c's JSON_TOKENER_STRICT still accepts NaN, Infinity, numbers such as
 * "1.", single-quoted member names and raw control characters in strings,
 * and json_get_raw() would hand NaN or "1." on to clients as if it were JSON.
 * So the text is first checked against the RFC 8259 grammar here, with the
 * same depth limit, and json-c only builds the tree. Recursion is bounded by
 * JSON_MAX_DEPTH.
 */
struct scan {
	const unsigned char *p, *end;
};

static bool scan_value(struct scan *s, int depth);

static void scan_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool scan_digits(struct scan *s)
{
	const unsigned char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start;
}

static bool scan_number(struct scan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (s->p >= s->end || *s->p < '1' || *s->p > '9' || !scan_digits(s))
		return false;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!scan_digits(s))
			return false;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!scan_digits(s))
			return false;
	}
	return true;
}

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned hex_value(unsigned char c)
{
	if (c <= '9')
		return c - '0';
	return (c | 0x20u) - 'a' + 10;
}

/* The four hex digits after "\u" (s->p just past the 'u'), or -1. */
static long scan_u_escape(struct scan *s)
{
	unsigned v = 0;

	if (s->end - s->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		if (!is_hex(s->p[i]))
			return -1;
		v = v << 4 | hex_value(s->p[i]);
	}
	s->p += 4;
	return (long)v;
}

/*
 * An escaped surrogate must be a high one (D800-DBFF) directly followed by an
 * escaped low one (DC00-DFFF): RFC 8259 lets a lone one through the grammar,
 * but it names no character and json-c would quietly turn it into U+FFFD, so
 * an edit of a lone surrogate would be stored as something else. Refused.
 */
static bool scan_string(struct scan *s)
{
	s->p++; /* the opening quote */
	while (s->p < s->end) {
		unsigned char c = *s->p++;

		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (s->p >= s->end)
			return false;
		c = *s->p++;
		if (c == 'u') {
			long u = scan_u_escape(s);

			if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
				return false;
			if (u >= 0xD800 && u <= 0xDBFF) {
				if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
					return false;
				s->p += 2;
				u = scan_u_escape(s);
				if (u < 0xDC00 || u > 0xDFFF)
					return false;
			}
		} else if (c == '\0' || !strchr("\"\\/bfnrt", c)) {
			return false;
		}
	}
	return false;
}

static bool scan_literal(struct scan *s, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n))
		return false;
	s->p += n;
	return true;
}

/* An object or array; s->p is at its opening bracket. */
static bool scan_container(struct scan *s, int depth)
{
	unsigned char close = *s->p == '{' ? '}' : ']';

	if (depth > JSON_MAX_DEPTH)
		return false;
	s->p++;
	scan_ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return true;
	}
	for (;;) {
		if (close == '}') {
			if (s->p >= s->end || *s->p != '"' || !scan_string(s))
				return false;
			scan_ws(s);
			if (s->p >= s->end || *s->p != ':')
				return false;
			s->p++;
			scan_ws(s);
		}
		if (!scan_value(s, depth))
			return false;
		scan_ws(s);
		if (s->p >= s->end)
			return false;
		if (*s->p == close) {
			s->p++;
			return true;
		}
		if (*s->p != ',')
			return false;
		s->p++;
		scan_ws(s);
	}
}

/* One value at s->p (no surrounding whitespace) inside `depth` containers. */
static bool scan_value(struct scan *s, int depth)
{
	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '{':
	case '[':
		return scan_container(s, depth + 1);
	case '"':
		return scan_string(s);
	case 't':
		return scan_literal(s, "true");
	case 'f':
		return scan_literal(s, "false");
	case 'n':
		return scan_literal(s, "null");
	default:
		return scan_number(s);
	}
}

/* The whole text is one value (an object when object_only) with optional
 * surrounding whitespace. */
static bool json_text_ok(const char *buf, size_t len, bool object_only)
{
	struct scan s = { (const unsigned char *)buf, (const unsigned char *)buf + len };

	scan_ws(&s);
	if (s.p >= s.end || (object_only && *s.p != '{') || !scan_value(&s, 0))
		return false;
	scan_ws(&s);
	return s.p == s.end;
}

static int parse_text(const char *buf, size_t len, bool object_only, struct json_object **out)
{
	struct json_tokener *tok;
	struct json_object *obj;
	int err = 0;

	*out = NULL;
	if (!utf8_valid(buf, len))
		return COHORT_E_UTF8;
	if (len > INT_MAX)
		return COHORT_E_TOOBIG;
	if (!json_text_ok(buf, len, object_only))
		return COHORT_E_JSON;
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok)
		return COHORT_E_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (!obj && !object_only && json_tokener_get_error(tok) == json_tokener_continue) {
		/* A number or literal at the very end of the text: json-c waits
		 * for a delimiter. The grammar is checked already; a NUL ends it. */
		obj = json_tokener_parse_ex(tok, "", 1);
		if (obj && json_tokener_get_error(tok) == json_tokener_success)
			goto done;
	}
	if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)len || (object_only && !json_object_is_type(obj, json_type_object))) {
		/* Trailing whitespace after the object is fine; anything else is not. */
		int off = tok->char_offset;

		while (obj && off < (int)len && strchr(" \t\r\n", buf[off]))
			off++;
		if (!obj || json_tokener_get_error(tok) != json_tokener_success || off != (int)len ||
		    (object_only && !json_object_is_type(obj, json_type_object))) {
			json_object_put(obj);
			obj = NULL;
			err = COHORT_E_JSON;
		}
	}
done:
	json_tokener_free(tok);
	*out = obj;
	return err;
}

int json_parse_object(const char *buf, size_t len, struct json_object **out)
{
	return parse_text(buf, len, true, out);
}

int json_parse_value(const char *buf, size_t len, struct json_object **out)
{
	return parse_text(buf, len, false, out);
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

bool json_has(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

int json_only_keys(struct json_object *o, const char *const *keys, const char **unknown)
{
	*unknown = NULL;
	json_object_object_foreach(o, k, v) {
		size_t i = 0;

		(void)v;
		while (keys[i] && strcmp(keys[i], k))
			i++;
		if (!keys[i]) {
			*unknown = k;
			return COHORT_E_FIELD;
		}
	}
	return 0;
}

int json_get_int_array(struct json_object *o, const char *key, bool required, size_t maxn, long long min,
		       long long max, long long *out, size_t *n)
{
	struct json_object *v;
	int r = get(o, key, required, json_type_array, &v);
	size_t len;

	*n = 0;
	if (r)
		return r < 0 ? r : 0;
	len = json_object_array_length(v);
	if (len > maxn)
		return COHORT_E_RANGE;
	for (size_t i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		long long x;

		if (!json_object_is_type(e, json_type_int))
			return COHORT_E_FIELD;
		x = (long long)json_object_get_int64(e);
		if (x < min || x > max)
			return COHORT_E_RANGE;
		out[i] = x;
	}
	*n = len;
	return 0;
}
