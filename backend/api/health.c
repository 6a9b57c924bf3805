#include "api/health.h"
#include "api/request.h"
#include "api/worker.h"
#include "core/db.h"
#include "core/rconn.h"
#include "core/strbuf.h"
#include "core/version.h"

#include <hiredis/hiredis.h>
#include <json-c/json_c_version.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <string.h>


static int add_str(struct strbuf *b, const char *s)
{
	return s ? strbuf_add_json_str(b, s, strlen(s)) : strbuf_adds(b, "null");
}

/* "name":{"ok":bool,"version":str|null[,"error":str]} */
static int add_dependency(struct strbuf *b, const char *name, bool ok, const char *version,
			  const char *error)
{
	int err = strbuf_addf(b, ",\"%s\":{\"ok\":%s,\"version\":", name, ok ? "true" : "false");

	err = err ? err : add_str(b, version);
	if (!err && !ok) {
		err = strbuf_adds(b, ",\"error\":");
		err = err ? err : add_str(b, error && *error ? error : "unavailable");
	}
	return err ? err : strbuf_addch(b, '}');
}

int health_get(struct request *req, struct response *res)
{
	struct worker *w = req->worker;
	struct strbuf *b = &res->body;
	struct db *db = NULL;
	bool redis_ok = rconn_ping(w->redis) == 0;
	const char *redis_version = redis_ok ? rconn_server_version(w->redis) : NULL;
	/* worker_db pings only now and then; health asks the database itself. */
	bool db_ok = worker_db(w, &db) == 0 && db_ping(db) == 0;
	int err;

	err = strbuf_addf(b, "{\"status\":\"%s\",\"version\":\"%s\"", redis_ok && db_ok ? "ok" : "unavailable",
			  COHORT_VERSION);
	err = err ? err : add_dependency(b, "redis", redis_ok, redis_version, rconn_last_error(w->redis));
	err = err ? err : add_dependency(b, "database", db_ok, db_version(), db_ok ? NULL : "cannot open or query the database");
	err = err ? err : strbuf_addf(b, ",\"libraries\":{\"hiredis\":\"%d.%d.%d\",\"json-c\":", HIREDIS_MAJOR,
				      HIREDIS_MINOR, HIREDIS_PATCH);
	err = err ? err : add_str(b, json_c_version());
	err = err ? err : strbuf_adds(b, ",\"libsodium\":");
	err = err ? err : add_str(b, sodium_version_string());
	err = err ? err : strbuf_adds(b, ",\"sqlite\":");
	err = err ? err : add_str(b, sqlite3_libversion());
	err = err ? err : strbuf_adds(b, "}}");
	if (err)
		return err;
	response_json(res, redis_ok && db_ok ? 200 : 503);
	return 0;
}
