#include "cli/bench_opts.h"
#include "core/err.h"
#include "core/num.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return COHORT_E_INVAL;
	v = strtod(s, &end);
	if (*end || v != v)
		return COHORT_E_INVAL;
	*out = v;
	return 0;
}

static const struct bench_opt *find(const struct bench_opt *opts, size_t nopts, const char *name, size_t len)
{
	for (size_t k = 0; k < nopts; k++)
		if (strlen(opts[k].name) == len && !strncmp(opts[k].name, name, len))
			return &opts[k];
	return NULL;
}

/* Stores val into the field of op. */
static int store(const struct bench_opt *op, char *base, const char *val)
{
	switch (op->type) {
	case BENCH_OPT_STR:
		*(const char **)(base + op->off) = val;
		return 0;
	case BENCH_OPT_LONG:
		return parse_long(val, (long *)(base + op->off));
	case BENCH_OPT_DBL:
		return parse_double(val, (double *)(base + op->off));
	case BENCH_OPT_MULTI: {
		struct bench_multi *m = (struct bench_multi *)(base + op->off);

		if (m->n >= BENCH_MAX_MULTI)
			return COHORT_E_LIMIT;
		m->v[m->n++] = val;
		return 0;
	}
	case BENCH_OPT_FLAG:
		break;
	}
	return COHORT_E_INVAL;
}

int bench_opts_parse(const char *who, int argc, char **argv, const struct bench_opt *opts, size_t nopts,
		     void *dst, const char **scenario)
{
	char *base = dst;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val, *eq;
		const struct bench_opt *op;

		if (strncmp(a, "--", 2)) {
			if (scenario && !*scenario) {
				*scenario = a;
				continue;
			}
			fprintf(stderr, "%s: unexpected argument '%s'\n", who, a);
			return COHORT_E_INVAL;
		}
		a += 2;
		eq = strchr(a, '=');
		op = find(opts, nopts, a, eq ? (size_t)(eq - a) : strlen(a));
		if (!op) {
			fprintf(stderr, "%s: unknown option '%s' (see --help)\n", who, argv[i]);
			return COHORT_E_INVAL;
		}
		if (op->type == BENCH_OPT_FLAG) {
			if (eq) {
				fprintf(stderr, "%s: --%s takes no value\n", who, op->name);
				return COHORT_E_INVAL;
			}
			*(bool *)(base + op->off) = true;
			continue;
		}
		if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			fprintf(stderr, "%s: --%s needs a value\n", who, op->name);
			return COHORT_E_INVAL;
		}
		if (store(op, base, val)) {
			fprintf(stderr, "%s: bad value for --%s: '%s'\n", who, op->name, val);
			return COHORT_E_INVAL;
		}
	}
	return 0;
}

void bench_opts_usage(FILE *f, const char *synopsis, const struct bench_opt *opts, size_t nopts)
{
	fprintf(f, "usage: %s\n\n", synopsis);
	for (size_t i = 0; i < nopts; i++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
			 opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-26s %s\n", left, opts[i].help);
	}
}
