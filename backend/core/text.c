#include "core/text.h"
#include "core/principal.h"
#include "core/utf8.h"

static bool has_control(const char *s, size_t len, bool allow_newlines)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0x7f || (c < 0x20 && !(allow_newlines && (c == '\n' || c == '\t'))))
			return true;
		/* C1 controls U+0080..U+009F are encoded as C2 80..C2 9F. */
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f)
			return true;
	}
	return false;
}

bool text_name_ok(const char *s, size_t len, size_t max)
{
	if (!s || len == 0 || len > max || !utf8_valid(s, len) || has_control(s, len, false))
		return false;
	return s[0] != ' ' && s[len - 1] != ' ';
}

bool text_body_ok(const char *s, size_t len, size_t max)
{
	return s && len <= max && utf8_valid(s, len) && !has_control(s, len, true);
}

bool text_login_ok(const char *s, size_t len)
{
	if (!s || len == 0 || len > LOGIN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}
