#include "api/fields.h"
#include "api/request.h"
#include "core/err.h"
#include "core/json.h"
#include "core/text.h"

int field_name(struct json_object *o, const char *key, bool required, size_t max, struct response *res,
	       const char **s, size_t *len)
{
	int err = json_get_str(o, key, required, max, s, len);

	if (!err && *s && !text_name_ok(*s, *len, max))
		err = COHORT_E_FIELD;
	if (err) {
		response_detail(res, "%s: %s1..%zu bytes of text on one line, without leading or trailing spaces",
				key, required ? "required, " : "", max);
		return COHORT_E_FIELD;
	}
	return 0;
}

int field_text(struct json_object *o, const char *key, bool required, size_t max, struct response *res,
	       const char **s, size_t *len)
{
	int err = json_get_str(o, key, required, max, s, len);

	if (!err && *s && !text_body_ok(*s, *len, max))
		err = COHORT_E_FIELD;
	if (err) {
		response_detail(res, "%s: %sa string of at most %zu bytes without control characters", key,
				required ? "required, " : "", max);
		return COHORT_E_FIELD;
	}
	return 0;
}

int field_bool(struct json_object *o, const char *key, bool required, struct response *res, bool *v,
	       bool *present)
{
	bool b = false;
	int err = json_get_bool(o, key, required, &b);

	*present = false;
	if (err) {
		response_detail(res, "%s: %sa boolean", key, required ? "required, " : "");
		return COHORT_E_FIELD;
	}
	/* json_get_bool leaves b untouched for an absent optional field. */
	*present = json_has(o, key);
	*v = b;
	return 0;
}
