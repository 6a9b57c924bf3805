#include "core/scope.h"
#include "core/err.h"
#include "core/kv.h"

#include <string.h>

struct scope_kind_row {
	const char *prefix;
	enum scope_kind kind;
	bool (*enabled)(const struct scope_policy *pol);
};

static bool dev_enabled(const struct scope_policy *pol)
{
	return pol && pol->dev_enabled;
}

static const struct scope_kind_row kinds[] = {
	{ "dev", SCOPE_DEV, dev_enabled },
};

static bool id_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

int scope_parse(const char *s, size_t len, const struct scope_policy *pol, struct scope *out)
{
	const char *colon = memchr(s, ':', len);
	size_t klen, idlen;

	if (!colon || len > SCOPE_MAX)
		return COHORT_E_BADSTREAM;
	klen = (size_t)(colon - s);
	idlen = len - klen - 1;
	if (klen == 0 || idlen == 0 || idlen > 64)
		return COHORT_E_BADSTREAM;
	for (size_t i = 0; i < len; i++)
		if (s + i != colon && !id_char_ok(s[i]))
			return COHORT_E_BADSTREAM;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strlen(kinds[i].prefix) != klen || memcmp(kinds[i].prefix, s, klen))
			continue;
		if (!kinds[i].enabled(pol))
			return COHORT_E_UNKNOWNSTREAM;
		out->kind = kinds[i].kind;
		memcpy(out->name, s, len);
		out->name[len] = '\0';
		out->id_off = klen + 1;
		return 0;
	}
	return COHORT_E_UNKNOWNSTREAM;
}

int scope_stream_key(const struct scope *sc, char *buf, size_t len)
{
	switch (sc->kind) {
	case SCOPE_DEV:
		return kv_dev_stream(buf, len, sc->name + sc->id_off);
	}
	return COHORT_E_INTERNAL;
}
