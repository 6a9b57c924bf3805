#include "core/kv.h"
#include "core/err.h"

#include <stdio.h>

static int fmt_result(int n, size_t len)
{
	return n < 0 || (size_t)n >= len ? COHORT_E_LIMIT : 0;
}

int kv_dev_stream(char *buf, size_t len, const char *name)
{
	return fmt_result(snprintf(buf, len, "{dev:%s}:events", name), len);
}
