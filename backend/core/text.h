/*
 * text.h — validation of user-supplied names and descriptions: valid UTF-8
 * (checked at the JSON edge), a byte limit, no control characters, no
 * leading or trailing white space. Display is always as text, never HTML;
 * this check is about keeping data clean, not about escaping.
 */
#ifndef COHORT_TEXT_H
#define COHORT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define NAME_MAX_BYTES 200
#define DESCRIPTION_MAX_BYTES 4000

/* A one-line name: 1..max bytes, no control characters, trimmed. */
bool text_name_ok(const char *s, size_t len, size_t max);
/* Free text: 0..max bytes, control characters other than \n and \t refused. */
bool text_body_ok(const char *s, size_t len, size_t max);
/* A login: 1..LOGIN_MAX of [a-z0-9._-], starting with a letter or digit. */
bool text_login_ok(const char *s, size_t len);

#endif
