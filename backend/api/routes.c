/*
 * The route table. A new route is one row here plus its responder file;
 * the permission column is enforced by the dispatcher before the handler
 * runs, and docs/openapi.yaml must describe the row (checked by
 * tests/integ/t9001-openapi-routes.test.mjs).
 */
#include "api/routes.h"
#include "api/dev_events.h"
#include "api/health.h"
#include "api/metrics.h"
#include "api/router.h"

static const struct route table[] = {
	/* method  pattern                 permission   handler            name */
	{ "GET",  "/api/v1/health",       PERM_PUBLIC, health_get,        "health" },
	{ "GET",  "/api/v1/metrics",      PERM_PUBLIC, metrics_get,       "metrics" },
	{ "POST", "/api/v1/dev/events",   PERM_DEV,    dev_events_post,   "dev_events" },
};

const struct route *routes_table(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}

void routes_print(FILE *out)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		fprintf(out, "%s\t%s\t%s\t%s\n", table[i].method, table[i].pattern,
			permission_name(table[i].perm), table[i].name);
}
