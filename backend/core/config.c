/*
 * DESIGN: the configuration is one static table (name, type, default, bounds,
 * offset into struct cohort_config, doc line), in the manner of redis's
 * static_configs[]. Loading, environment overrides, validation and the
 * example file all walk the same rows, so a key cannot exist in one place
 * and be missing from another.
 */
#include "core/config.h"
#include "core/err.h"
#include "core/num.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum ctype { C_STR, C_INT, C_LONG, C_BOOL, C_SIZE };

struct ckey {
	const char *name;
	enum ctype type;
	const char *def;
	long min, max;
	size_t off;
	const char *doc;
};

#define OFF(f) offsetof(struct cohort_config, f)

static const struct ckey keys[] = {
	{ "redis.host", C_STR, "127.0.0.1", 0, 0, OFF(redis_host),
	  "Redis server host (ignored when redis.socket is set)." },
	{ "redis.port", C_INT, "6379", 1, 65535, OFF(redis_port), "Redis server TCP port." },
	{ "redis.socket", C_STR, "", 0, 0, OFF(redis_socket),
	  "Redis unix socket path; empty means use host and port." },
	{ "redis.timeout_ms", C_INT, "2000", 10, 600000, OFF(redis_timeout_ms),
	  "Timeout for connecting to Redis and for each command, in milliseconds." },
	{ "events.maxlen", C_LONG, "10000", 10, 100000000, OFF(events_maxlen),
	  "Approximate number of events each Redis stream retains (XADD MAXLEN ~)." },
	{ "db.path", C_STR, "var/cohort.db", 0, 0, OFF(db_path), "SQLite database file." },
	{ "db.migrations", C_STR, "sql/sqlite", 0, 0, OFF(db_migrations),
	  "Directory of the numbered SQL migrations applied by `cohort migrate`." },
	{ "api.listen", C_STR, "var/run/api.sock", 0, 0, OFF(api_listen),
	  "FastCGI listen address: a unix socket path, host:port, :port, or 'inherit' for fd 0." },
	{ "api.threads", C_INT, "8", 1, 256, OFF(api_threads),
	  "Number of FastCGI worker threads (each with its own Redis and DB connection)." },
	{ "api.max_conns", C_INT, "512", 8, 4096, OFF(api_max_conns),
	  "Most web-server connections cohort-api holds, busy and kept alive; when all are taken the "
	  "longest-idle one is closed. Keep it above the web server's upstream connections (nginx "
	  "opens one per request in flight): closing a kept-alive connection just as nginx reuses it "
	  "fails that request with 502, and nginx does not retry a POST. Capped by what libfcgi's "
	  "select() can watch (about 900 with 8 threads)." },
	{ "api.read_cache", C_SIZE, "64M", 0, 1L << 36, OFF(api_read_cache),
	  "Bytes of file contents (and signed-out answers) each cohort-api process keeps in memory, "
	  "kept fresh by Redis client-side tracking (docs/files.md, \"Read cache\"); 0 turns it off." },
	{ "api.max_body", C_SIZE, "1M", 1024, 1L << 30, OFF(api_max_body),
	  "Largest accepted request body, in bytes (K, M, G suffixes allowed)." },
	{ "files.max_file", C_SIZE, "8M", 1, 1L << 30, OFF(files_max_file),
	  "Largest file in a project workspace, in bytes (413 limit_exceeded beyond it)." },
	{ "files.max_project", C_SIZE, "512M", 1, 1L << 40, OFF(files_max_project),
	  "Largest total of file bytes in one project workspace." },
	{ "files.max_entries", C_LONG, "10000", 1, 10000000, OFF(files_max_entries),
	  "Most entries (files and directories) in one project workspace." },
	{ "collab.log_max", C_LONG, "1000", 10, 1000000, OFF(collab_log_max),
	  "Updates retained per file for live editing; clients further behind reload (410 version_gone)." },
	{ "collab.cache_bytes", C_SIZE, "64M", 0, 1L << 40, OFF(collab_cache_bytes),
	  "Bytes of document text each process keeps at the current version for live editing." },
	{ "api.dev_events", C_BOOL, "false", 0, 0, OFF(dev_events),
	  "Enable POST /api/v1/dev/events and dev:<name> stream subscriptions (development and tests only)." },
	{ "stream.host", C_STR, "127.0.0.1", 0, 0, OFF(stream_host), "Address cohort-stream listens on." },
	{ "stream.port", C_INT, "8081", 1, 65535, OFF(stream_port), "Port cohort-stream listens on." },
	{ "stream.heartbeat_s", C_INT, "15", 1, 3600, OFF(stream_heartbeat_s),
	  "Seconds between SSE heartbeat comments (and WebSocket pings)." },
	{ "stream.queue_max", C_SIZE, "256K", 1024, 1L << 30, OFF(stream_queue_max),
	  "Largest output queue per connection in bytes; a connection beyond it is closed and must resume." },
	{ "stream.max_streams", C_INT, "16", 1, 1024, OFF(stream_max_streams),
	  "Most streams one connection may subscribe to." },
	{ "stream.max_conns", C_INT, "15000", 1, 1000000, OFF(stream_max_conns),
	  "Most concurrent client connections per cohort-stream process." },
	{ "stream.catchup_batch", C_INT, "500", 1, 100000, OFF(stream_catchup_batch),
	  "Events fetched per Redis round trip when a client resumes from an older position." },
	{ "stream.auth_pending_max", C_INT, "256", 1, 100000, OFF(stream_auth_pending_max),
	  "Most subscriptions one cohort-stream process authorizes at once (token and SQL checks); 503 beyond." },
	{ "stream.edit_pending_max", C_INT, "256", 1, 100000, OFF(stream_edit_pending_max),
	  "Most WebSocket pushes and cursors one cohort-stream process runs or queues on its worker pool at once; error unavailable beyond." },
	{ "presence.ttl_s", C_INT, "25", 2, 3600, OFF(presence_ttl_s),
	  "Seconds a presence heartbeat keeps a connection alive; a crashed streamer's users go offline after this." },
	{ "presence.heartbeat_s", C_INT, "10", 1, 3600, OFF(presence_heartbeat_s),
	  "Seconds between presence heartbeats of a connection (keep it well below presence.ttl_s)." },
	{ "presence.grace_s", C_INT, "5", 0, 3600, OFF(presence_grace_s),
	  "Seconds a user whose last connection closed stays online, so that a reload does not flap." },
	{ "presence.sweep_ms", C_INT, "2000", 100, 600000, OFF(presence_sweep_ms),
	  "Milliseconds between a cohort-stream's sweeps of the lessons it has presence in (offline events)." },
	{ "rooms.enabled", C_BOOL, "false", 0, 0, OFF(rooms_enabled),
	  "Anonymous rooms (docs/rooms.md): the /api/v1/rooms routes and the room:<name> stream scope." },
	{ "rooms.idle_drop_s", C_INT, "600", 1, 30 * 86400, OFF(rooms_idle_drop_s),
	  "Seconds an empty room is kept before it is deleted with its document." },
	{ "rooms.member_timeout_s", C_INT, "45", 2, 3600, OFF(rooms_member_timeout_s),
	  "Seconds without a call after which a room member is removed (clients send heartbeats every 15 s)." },
	{ "rooms.max_members", C_INT, "50", 1, 100000, OFF(rooms_max_members),
	  "Members of one room at once; a join beyond is refused (413 limit_exceeded)." },
	{ "rooms.create_per_min", C_INT, "10", 1, 1000000, OFF(rooms_create_per_min),
	  "Rooms one client address may create per minute (429 rate_limited beyond)." },
	{ "rooms.msgs_per_s", C_INT, "20", 1, 1000000, OFF(rooms_msgs_per_s),
	  "Room calls one client address may make per second, all room routes together (429 beyond)." },
	{ "auth.secret_file", C_STR, "var/jwt.secret", 0, 0, OFF(auth_secret_file),
	  "File holding the HS256 secret for cohort's own tokens (created by `cohort init-secret`)." },
	{ "auth.issuer", C_STR, "cohort", 0, 0, OFF(auth_issuer), "iss of the tokens cohort issues." },
	{ "auth.audience", C_STR, "cohort", 0, 0, OFF(auth_audience), "aud of the tokens cohort issues." },
	{ "auth.token_ttl_s", C_INT, "43200", 60, 31536000, OFF(auth_token_ttl_s),
	  "Lifetime of a session token in seconds." },
	{ "auth.cookie_name", C_STR, "cohort_session", 0, 0, OFF(auth_cookie_name), "Name of the session cookie." },
	{ "auth.cookie_secure", C_BOOL, "false", 0, 0, OFF(auth_cookie_secure),
	  "Mark the session cookie Secure (turn on when served over HTTPS)." },
	{ "auth.external_issuer", C_STR, "", 0, 0, OFF(auth_ext_issuer),
	  "iss of an external token issuer (an LMS); empty disables external tokens." },
	{ "auth.external_audience", C_STR, "cohort", 0, 0, OFF(auth_ext_audience),
	  "aud that external tokens must carry." },
	{ "auth.external_keys", C_STR, "", 0, 0, OFF(auth_ext_keys),
	  "Comma-separated base64 Ed25519 public keys of the external issuer (several for rotation)." },
	{ "auth.external_alg", C_STR, "EdDSA", 0, 0, OFF(auth_ext_alg),
	  "Algorithm external tokens must use; only EdDSA is supported. The token's own alg is never trusted." },
	{ "auth.login_max_failures", C_INT, "5", 1, 1000, OFF(auth_login_max_failures),
	  "Failed sign-ins allowed per login within auth.login_window_s before 429." },
	{ "auth.addr_max_failures", C_INT, "20", 1, 100000, OFF(auth_addr_max_failures),
	  "Failed sign-ins allowed per client address within auth.login_window_s before 429." },
	{ "auth.login_window_s", C_INT, "300", 1, 86400, OFF(auth_login_window_s),
	  "Window for counting failed sign-ins, in seconds." },
	{ "log.level", C_STR, "info", 0, 0, OFF(log_level), "Lowest level logged: debug, info, warn or error." },
	{ "var.dir", C_STR, "var", 0, 0, OFF(var_dir), "Directory for runtime state (sockets, data, logs)." },
	{ "objects.url", C_STR, "file:var/objects", 0, 0, OFF(objects_url),
	  "Object store for templates and backups: file:<directory> (S3 URLs come later)." },
	{ "templates.max_upload", C_SIZE, "64M", 1024, 1L << 32, OFF(templates_max_upload),
	  "Largest lesson template archive accepted (upload body or fetched URL), in bytes." },
	{ "templates.max_entries", C_LONG, "10000", 1, 10000000, OFF(templates_max_entries),
	  "Most entries (files and directories) in a lesson template archive." },
	{ "templates.max_file", C_SIZE, "8M", 1, 1L << 32, OFF(templates_max_file),
	  "Largest file inside a lesson template archive, uncompressed, in bytes." },
	{ "templates.max_total", C_SIZE, "256M", 1, 1L << 40, OFF(templates_max_total),
	  "Largest total of uncompressed file bytes in a lesson template archive." },
	{ "templates.max_ratio", C_INT, "100", 0, 1000000, OFF(templates_max_ratio),
	  "Largest expansion ratio of a template archive past its first MiB (zip bombs); 0 disables the check." },
	{ "templates.url_schemes", C_STR, "https", 0, 0, OFF(templates_url_schemes),
	  "Comma-separated URL schemes cohort may fetch templates from (https, http, file); redirects stay within them." },
	{ "templates.fetch_timeout_s", C_INT, "20", 1, 3600, OFF(templates_fetch_timeout_s),
	  "Timeout for fetching a template URL, in seconds (connecting, and the whole transfer)." },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

size_t config_key_count(void)
{
	return NKEYS;
}

const char *config_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

static int set_value(struct cohort_config *cfg, const struct ckey *k, const char *val,
		     char *errbuf, size_t errlen)
{
	char *base = (char *)cfg + k->off;
	long n;
	bool b;

	switch (k->type) {
	case C_STR: {
		char *dup = strdup(val);

		if (!dup)
			return COHORT_E_NOMEM;
		free(*(char **)(void *)base);
		*(char **)(void *)base = dup;
		return 0;
	}
	case C_BOOL:
		if (!strcmp(val, "true") || !strcmp(val, "yes") || !strcmp(val, "on") || !strcmp(val, "1"))
			b = true;
		else if (!strcmp(val, "false") || !strcmp(val, "no") || !strcmp(val, "off") || !strcmp(val, "0"))
			b = false;
		else
			goto bad;
		*(bool *)(void *)base = b;
		return 0;
	case C_INT:
	case C_LONG:
		if (parse_long(val, &n))
			goto bad;
		break;
	case C_SIZE:
		if (parse_size(val, &n))
			goto bad;
		break;
	}
	if (n < k->min || n > k->max) {
		snprintf(errbuf, errlen, "%s: %s is outside [%ld, %ld]", k->name, val, k->min, k->max);
		return COHORT_E_CONFIG;
	}
	if (k->type == C_INT)
		*(int *)(void *)base = (int)n;
	else
		*(long *)(void *)base = n;
	return 0;
bad:
	snprintf(errbuf, errlen, "%s: invalid value '%s'", k->name, val);
	return COHORT_E_CONFIG;
}

static const struct ckey *find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_file(struct cohort_config *cfg, const char *path, char *errbuf, size_t errlen)
{
	char line[4096];
	FILE *f = fopen(path, "r");
	int lineno = 0, err = 0;

	if (!f) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return COHORT_E_CONFIG;
	}
	while (!err && fgets(line, sizeof(line), f)) {
		char *eq, *key, *val;
		const struct ckey *k;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(errbuf, errlen, "%s:%d: line too long", path, lineno);
			err = COHORT_E_CONFIG;
			break;
		}
		key = trim(line);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(errbuf, errlen, "%s:%d: expected 'key = value'", path, lineno);
			err = COHORT_E_CONFIG;
			break;
		}
		*eq = '\0';
		val = trim(eq + 1);
		key = trim(key);
		k = find_key(key);
		if (!k) {
			snprintf(errbuf, errlen, "%s:%d: unknown key '%s'", path, lineno, key);
			err = COHORT_E_CONFIG;
			break;
		}
		err = set_value(cfg, k, val, errbuf, errlen);
	}
	fclose(f);
	return err;
}

static void env_name(const char *key, char *out, size_t outlen)
{
	size_t j = snprintf(out, outlen, "COHORT_");

	for (size_t i = 0; key[i] && j + 1 < outlen; i++)
		out[j++] = key[i] == '.' ? '_' : (char)toupper((unsigned char)key[i]);
	out[j] = '\0';
}

int config_load(struct cohort_config *cfg, const char *path, char *errbuf, size_t errlen)
{
	char name[128];
	int err;

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++) {
		err = set_value(cfg, &keys[i], keys[i].def, errbuf, errlen);
		if (err)
			BUG("config default does not validate");
	}
	if (path && *path) {
		err = load_file(cfg, path, errbuf, errlen);
		if (err)
			return err;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		const char *v;

		env_name(keys[i].name, name, sizeof(name));
		v = getenv(name);
		if (v) {
			err = set_value(cfg, &keys[i], v, errbuf, errlen);
			if (err)
				return err;
		}
	}
	return 0;
}

void config_release(struct cohort_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].type == C_STR) {
			char **p = (char **)(void *)((char *)cfg + keys[i].off);

			free(*p);
			*p = NULL;
		}
	}
}

void config_write_example(FILE *out)
{
	char name[128];

	fputs("# cohort configuration — every key with its default.\n"
	      "# Generated by `cohort config-example`; a test keeps it in step with the code.\n"
	      "# Format: key = value. Any key can be overridden by an environment variable\n"
	      "# named COHORT_ + the key upper-cased with dots as underscores.\n", out);
	for (size_t i = 0; i < NKEYS; i++) {
		env_name(keys[i].name, name, sizeof(name));
		fprintf(out, "\n# %s\n# (env: %s)\n%s = %s\n", keys[i].doc, name, keys[i].name, keys[i].def);
	}
}
