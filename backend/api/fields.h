/*
 * fields.h — the typed fields of request bodies, checked at the edge with
 * one wording for every route: on failure the problem detail names the
 * field and what it must be, and the error is COHORT_E_FIELD (422).
 */
#ifndef COHORT_API_FIELDS_H
#define COHORT_API_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct response;

/* A one-line name of 1..max bytes (text_name_ok). Absent and not required:
 * 0 with *s NULL. */
int field_name(struct json_object *o, const char *key, bool required, size_t max, struct response *res,
	       const char **s, size_t *len);
/* Free text of 0..max bytes (text_body_ok). */
int field_text(struct json_object *o, const char *key, bool required, size_t max, struct response *res,
	       const char **s, size_t *len);
/* A boolean. Absent and not required: 0 with *present false. */
int field_bool(struct json_object *o, const char *key, bool required, struct response *res, bool *v,
	       bool *present);

#endif
