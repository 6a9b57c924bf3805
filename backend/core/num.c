#include "core/num.h"
#include "core/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int parse_long(const char *s, long *out)
{
	char *end;
	long v;

	if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
		return COHORT_E_INVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return COHORT_E_RANGE;
	if (*end)
		return COHORT_E_INVAL;
	*out = v;
	return 0;
}

int parse_size(const char *s, long *out)
{
	char tmp[32];
	size_t n = s ? strlen(s) : 0;
	long mult = 1, v;
	int err;

	if (n == 0 || n >= sizeof(tmp))
		return COHORT_E_INVAL;
	memcpy(tmp, s, n + 1);
	switch (tmp[n - 1]) {
	case 'k': case 'K': mult = 1L << 10; break;
	case 'm': case 'M': mult = 1L << 20; break;
	case 'g': case 'G': mult = 1L << 30; break;
	default: break;
	}
	if (mult != 1)
		tmp[n - 1] = '\0';
	err = parse_long(tmp, &v);
	if (err)
		return err;
	if (v < 0)
		return COHORT_E_RANGE;
	if (v > 0 && mult > 1 && v > __LONG_MAX__ / mult)
		return COHORT_E_RANGE;
	*out = v * mult;
	return 0;
}

int parse_u64n(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return COHORT_E_INVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return COHORT_E_INVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return COHORT_E_RANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}
