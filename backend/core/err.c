#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>

struct err_info {
	const char *code;
	int status;
	const char *msg;
};

static const struct err_info errs[] = {
#define COHORT_ERR_ROW(name, c, s, m) { c, s, m },
	COHORT_ERRORS(COHORT_ERR_ROW)
#undef COHORT_ERR_ROW
};

static const struct err_info *lookup(int err)
{
	int idx;

	/* Range-check before subtracting: err - (FIRST + 1) overflows for large positive err. */
	if (err <= COHORT_E__FIRST || err >= 0)
		return NULL;
	idx = err - (COHORT_E__FIRST + 1);
	if (idx >= (int)(sizeof(errs) / sizeof(errs[0])))
		return NULL;
	return &errs[idx];
}

const char *cohort_strerror(int err)
{
	const struct err_info *e = lookup(err);

	if (err == COHORT_OK)
		return "success";
	return e ? e->msg : "unknown error";
}

const char *cohort_errcode(int err)
{
	const struct err_info *e = lookup(err);

	if (err == COHORT_OK)
		return "ok";
	return e ? e->code : "internal";
}

int cohort_http_status(int err)
{
	const struct err_info *e = lookup(err);

	if (err == COHORT_OK)
		return 200;
	return e ? e->status : 500;
}

void cohort_bug(const char *file, int line, const char *what)
{
	fprintf(stderr, "BUG at %s:%d: %s\n", file, line, what);
	abort();
}
