/*
 * Fuzz target: a WebSocket client message as cohort-stream reads it
 * (stream/wsmsg.c's wsmsg_parse on the event loop), and for a push the
 * updates the worker pool then checks (core collab_updates_check), that is,
 * everything an editor's push goes through before Redis is touched.
 *
 * Input: the message text. Checked beyond crashes, leaks and UB:
 *  - a refusal is one of the documented errors and comes with a detail;
 *  - an accepted message has a known type; a push or cursor names a
 *    positive project and a canonical path and carries its payload (the
 *    updates array, the ranges array); a push's version is >= 0;
 *  - the id, when present, is at most WSMSG_ID_MAX + 2 bytes of JSON text;
 *  - a push whose updates pass collab_updates_check has 1..COLLAB_MAX_UPDATES
 *    of them; a refused one gives a detail and a documented error.
 */
#include "core/collab.h"
#include "core/err.h"
#include "core/path.h"
#include "stream/wsmsg.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_updates(struct json_object *updates)
{
	char err[256] = "";
	size_t n = 0;
	int rc = collab_updates_check(updates, &n, err, sizeof(err));

	if (rc == 0) {
		if (n < 1 || n > COLLAB_MAX_UPDATES)
			abort();
		return;
	}
	if (rc != COHORT_E_FIELD && rc != COHORT_E_RANGE && rc != COHORT_E_LIMIT && rc != COHORT_E_NOMEM)
		abort();
	if (rc != COHORT_E_NOMEM && !err[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wsmsg m;
	char detail[WSMSG_DETAIL_MAX] = "";
	int rc;

	memset(&m, 0, sizeof(m));
	rc = wsmsg_parse((const char *)data, size, &m, detail, sizeof(detail));
	if (strlen(m.id) > WSMSG_ID_MAX + 2)
		abort();
	if (rc) {
		if (rc != COHORT_E_TOOBIG && rc != COHORT_E_UTF8 && rc != COHORT_E_JSON &&
		    rc != COHORT_E_FIELD && rc != COHORT_E_INVAL && rc != COHORT_E_LIMIT &&
		    rc != COHORT_E_NOMEM)
			abort();
		if (rc != COHORT_E_NOMEM && !detail[0])
			abort();
		return 0;
	}
	if ((unsigned)m.type >= WSMSG__N || !wsmsg_type_name(m.type))
		abort();
	if (m.type == WSMSG_PUSH || m.type == WSMSG_CURSOR) {
		if (m.project <= 0 || !m.path || !path_is_canonical(m.path) || !m.payload ||
		    !json_object_is_type(m.payload, json_type_array))
			abort();
	}
	if (m.type == WSMSG_PUSH) {
		struct json_object *updates;

		if (m.version < 0)
			abort();
		updates = wsmsg_take_payload(&m);
		check_updates(updates);
		json_object_put(updates);
	}
	wsmsg_release(&m);
	return 0;
}
