/*
 * path.c — see path.h. The normalizer walks the input once, segment by
 * segment, and writes the canonical form as it goes; every refusal names its
 * reason so an API error can say exactly what is wrong.
 */
#include "core/path.h"
#include "core/err.h"
#include "core/utf8.h"

#include <string.h>

static int refuse(int err, const char *why, const char **reason, char *out, size_t outlen)
{
	if (reason)
		*reason = why;
	if (outlen)
		out[0] = '\0';
	return err;
}

/* Control characters: C0, DEL, and C1 (U+0080..U+009F, encoded C2 80..C2 9F). */
static bool has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return true;
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return true;
	}
	return false;
}

int path_normalize(const char *in, size_t len, char *out, size_t outlen, unsigned flags,
		   const char **reason)
{
	bool lenient = flags & PATH_LENIENT;
	size_t o = 0, depth = 0, i = 0;

	BUG_ON(!out || !outlen);
	if (!in)
		return refuse(COHORT_E_FIELD, "path is missing", reason, out, outlen);
	if (len > 4 * PATH_MAX_BYTES)
		return refuse(COHORT_E_LIMIT, "path is too long", reason, out, outlen);
	if (memchr(in, '\0', len))
		return refuse(COHORT_E_FIELD, "path contains a NUL byte", reason, out, outlen);
	if (!utf8_valid(in, len))
		return refuse(COHORT_E_FIELD, "path is not valid UTF-8", reason, out, outlen);
	if (has_control(in, len))
		return refuse(COHORT_E_FIELD, "path contains a control character", reason, out, outlen);
	if (memchr(in, '\\', len))
		return refuse(COHORT_E_FIELD, "path contains a backslash", reason, out, outlen);
	if (len && in[0] == '/')
		return refuse(COHORT_E_FIELD, "path must not start with '/'", reason, out, outlen);

	while (i < len) {
		const char *seg = in + i;
		const char *slash = memchr(seg, '/', len - i);
		size_t slen = slash ? (size_t)(slash - seg) : len - i;

		i += slen + (slash ? 1 : 0);
		if (slen == 0) {
			/* Empty segment: "a//b" or a trailing "/". */
			if (!lenient)
				return refuse(COHORT_E_FIELD, "path has an empty segment", reason, out, outlen);
			continue;
		}
		if (slen == 2 && seg[0] == '.' && seg[1] == '.')
			return refuse(COHORT_E_FIELD, "path has a '..' segment", reason, out, outlen);
		if (slen == 1 && seg[0] == '.') {
			if (!lenient)
				return refuse(COHORT_E_FIELD, "path has a '.' segment", reason, out, outlen);
			continue;
		}
		if (slen > PATH_MAX_SEGMENT)
			return refuse(COHORT_E_LIMIT, "a path segment is too long", reason, out, outlen);
		if (++depth > PATH_MAX_DEPTH)
			return refuse(COHORT_E_LIMIT, "path is too deep", reason, out, outlen);
		if (o + (o ? 1 : 0) + slen > PATH_MAX_BYTES || o + (o ? 1 : 0) + slen + 1 > outlen)
			return refuse(COHORT_E_LIMIT, "path is too long", reason, out, outlen);
		if (o)
			out[o++] = '/';
		memcpy(out + o, seg, slen);
		o += slen;
	}
	/* Strict mode also refuses a trailing '/': "a/" has an empty last segment. */
	if (!lenient && len && in[len - 1] == '/')
		return refuse(COHORT_E_FIELD, "path has an empty segment", reason, out, outlen);
	out[o] = '\0';
	if (o == 0 && !(flags & PATH_ALLOW_ROOT))
		return refuse(COHORT_E_FIELD, "path is empty", reason, out, outlen);
	return 0;
}

bool path_is_canonical(const char *p)
{
	char buf[PATH_BUF];
	size_t len;

	if (!p)
		return false;
	len = strlen(p);
	return path_normalize(p, len, buf, sizeof(buf), 0, NULL) == 0 && strlen(buf) == len;
}

int path_parent(const char *p, char *out, size_t outlen)
{
	const char *slash = strrchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : 0;

	if (n + 1 > outlen)
		return COHORT_E_LIMIT;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

const char *path_basename(const char *p)
{
	const char *slash = strrchr(p, '/');

	return slash ? slash + 1 : p;
}

bool path_is_inside(const char *p, const char *dir)
{
	size_t dl = strlen(dir);

	if (dl == 0)
		return p[0] != '\0';
	/* Segment-wise: the prefix must be followed by '/', so "src2/x" is not in "src". */
	return strncmp(p, dir, dl) == 0 && p[dl] == '/' && p[dl + 1] != '\0';
}

size_t path_depth(const char *p)
{
	size_t n = 0;

	if (!*p)
		return 0;
	for (n = 1; *p; p++)
		n += *p == '/';
	return n;
}

int path_join(const char *dir, const char *name, char *out, size_t outlen, const char **reason)
{
	char tmp[2 * PATH_BUF + 1];
	size_t dl = strlen(dir), nl = strlen(name), n = 0;

	if (dl >= PATH_BUF || nl >= PATH_BUF)
		return refuse(COHORT_E_LIMIT, "path is too long", reason, out, outlen);
	memcpy(tmp, dir, dl);
	n = dl;
	if (dl)
		tmp[n++] = '/';
	memcpy(tmp + n, name, nl);
	n += nl;
	return path_normalize(tmp, n, out, outlen, 0, reason);
}
