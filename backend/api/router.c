#include "api/router.h"
#include "core/err.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static size_t seglen(const char *s, size_t max)
{
	const char *slash = memchr(s, '/', max);

	return slash ? (size_t)(slash - s) : max;
}

/* Walks pattern and path one "/segment" at a time. */
static bool match_pattern(const char *pat, const char *path, size_t plen, struct route_match *m)
{
	size_t pi = 0, si = 0, np = 0;

	for (;;) {
		const char *pseg, *sseg;
		size_t pl, sl;

		if (pat[pi] == '\0' && si == plen) {
			m->nparams = np;
			return true;
		}
		if (pat[pi] != '/' || si >= plen || path[si] != '/')
			return false;
		pi++;
		si++;
		pseg = pat + pi;
		pl = strcspn(pseg, "/");
		sseg = path + si;
		sl = seglen(sseg, plen - si);
		if (pl >= 2 && pseg[0] == '{') {
			if (sl == 0 || np == ROUTE_MAX_PARAMS)
				return false;
			m->params[np].name = pseg + 1;
			m->params[np].name_len = pl - 2;
			m->params[np].value = sseg;
			m->params[np].value_len = sl;
			np++;
		} else if (pl != sl || memcmp(pseg, sseg, pl) != 0) {
			return false;
		}
		pi += pl;
		si += sl;
	}
}

static bool method_matches(const char *row, const char *method)
{
	return !strcmp(row, method) || (!strcmp(method, "HEAD") && !strcmp(row, "GET"));
}

static void allow_add(char *allow, const char *method)
{
	size_t n = strlen(allow), ml = strlen(method);
	const char *p = allow;

	/* Skip methods already listed (the list is short: a linear scan is fine). */
	while ((p = strstr(p, method))) {
		if ((p == allow || p[-1] == ' ') && (p[ml] == ',' || p[ml] == '\0'))
			return;
		p += ml;
	}
	if (n + ml + 3 > ROUTE_ALLOW_MAX)
		return;
	if (n) {
		memcpy(allow + n, ", ", 2);
		n += 2;
	}
	memcpy(allow + n, method, ml + 1);
}

int router_match(const struct route *table, size_t n, const char *method, const char *path,
		 size_t path_len, struct route_match *m)
{
	bool path_known = false;

	m->route = NULL;
	m->index = 0;
	m->nparams = 0;
	m->allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!match_pattern(table[i].pattern, path, path_len, m))
			continue;
		if (method_matches(table[i].method, method)) {
			m->route = &table[i];
			m->index = i;
			return 0;
		}
		path_known = true;
		allow_add(m->allow, table[i].method);
		if (!strcmp(table[i].method, "GET"))
			allow_add(m->allow, "HEAD");
	}
	m->nparams = 0;
	return path_known ? COHORT_E_METHOD : COHORT_E_NOROUTE;
}

int route_param(const struct route_match *m, const char *name, const char **value, size_t *len)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < m->nparams; i++) {
		if (m->params[i].name_len == nl && !memcmp(m->params[i].name, name, nl)) {
			*value = m->params[i].value;
			*len = m->params[i].value_len;
			return 0;
		}
	}
	*value = NULL;
	*len = 0;
	return COHORT_E_NOTFOUND;
}

/* ---- startup checks of the table ---- */

static bool known_method(const char *m)
{
	static const char *const ok[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(m, ok[i]))
			return true;
	return false;
}

static bool literal_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static bool param_name_ok(const char *s, size_t len)
{
	if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static const char *check_pattern(const char *pat)
{
	const char *names[ROUTE_MAX_PARAMS];
	size_t lens[ROUTE_MAX_PARAMS], np = 0;
	const char *p = pat;

	if (p[0] != '/')
		return "pattern must start with '/'";
	if (!strcmp(p, "/"))
		return NULL;
	while (*p) {
		size_t l;

		p++; /* the '/' */
		l = strcspn(p, "/");
		if (l == 0)
			return "empty segment (or trailing '/') in pattern";
		if (p[0] == '{') {
			if (l < 3 || p[l - 1] != '}' || !param_name_ok(p + 1, l - 2))
				return "parameter must be a whole segment {name} with name [a-z_][a-z0-9_]*";
			if (np == ROUTE_MAX_PARAMS)
				return "too many parameters";
			for (size_t i = 0; i < np; i++)
				if (lens[i] == l - 2 && !memcmp(names[i], p + 1, l - 2))
					return "parameter name used twice";
			names[np] = p + 1;
			lens[np++] = l - 2;
		} else {
			for (size_t i = 0; i < l; i++)
				if (!literal_char(p[i]))
					return "literal segment with a character outside [A-Za-z0-9._~-]";
		}
		p += l;
	}
	return NULL;
}

/* Same shape: equal once every {name} is read as a bare parameter. */
static bool same_shape(const char *a, const char *b)
{
	while (*a && *b) {
		if (*a == '{' && *b == '{') {
			a = strchr(a, '}') + 1;
			b = strchr(b, '}') + 1;
			continue;
		}
		if (*a++ != *b++)
			return false;
	}
	return *a == *b;
}

static bool name_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

int router_check(const struct route *table, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const struct route *r = &table[i];
		const char *why = NULL;

		if (!r->method || !known_method(r->method))
			why = "unknown method";
		else if (!r->pattern || (why = check_pattern(r->pattern)))
			why = why ? why : "missing pattern";
		else if (!r->handler)
			why = "missing handler";
		else if (!name_ok(r->name))
			why = "name must be [a-z0-9_]+";
		else if ((unsigned)r->perm >= PERM__COUNT)
			why = "unknown permission";
		for (size_t j = 0; !why && j < i; j++) {
			if (!strcmp(table[j].name, r->name))
				why = "name used twice";
			else if (!strcmp(table[j].method, r->method) && same_shape(table[j].pattern, r->pattern))
				why = "hidden by an earlier row with the same method and shape";
		}
		if (why) {
			snprintf(err, errlen, "route %zu (%s %s): %s", i, r->method ? r->method : "?",
				 r->pattern ? r->pattern : "?", why);
			return COHORT_E_CONFIG;
		}
	}
	return 0;
}
