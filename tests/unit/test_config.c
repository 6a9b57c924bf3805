/*
 * Unit tests for core/config: the defaults of every key, the `key = value`
 * file format, validation (unknown key, bad value, out of range), the
 * environment overriding the file, and that conf/cohort.conf.example is
 * exactly what config_write_example() prints.
 *
 * The example-file test opens conf/cohort.conf.example relative to the
 * working directory, which is the repository root when scripts/test.sh runs
 * the unit tests.
 */
#include "core/config.h"
#include "core/err.h"

#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define EXAMPLE_PATH "conf/cohort.conf.example"

enum vtype { T_STR, T_INT, T_LONG, T_BOOL };

/* What the test expects of each key: where it lands in the struct, its
 * default (written out independently of config.c's table, as canonical text)
 * and another valid value used to check its environment override. When a key
 * is added to config.c, add its row here. */
static const struct key_row {
	const char *name;
	const char *env;
	enum vtype type;
	size_t off;
	const char *def;
	const char *alt;
} key_rows[] = {
#define K(name, env, type, field, def, alt) \
	{ name, env, type, offsetof(struct cohort_config, field), def, alt }
	K("redis.host", "COHORT_REDIS_HOST", T_STR, redis_host, "127.0.0.1", "redis.internal"),
	K("redis.port", "COHORT_REDIS_PORT", T_INT, redis_port, "6379", "6380"),
	K("redis.socket", "COHORT_REDIS_SOCKET", T_STR, redis_socket, "", "/run/redis.sock"),
	K("redis.timeout_ms", "COHORT_REDIS_TIMEOUT_MS", T_INT, redis_timeout_ms, "2000", "10"),
	K("events.maxlen", "COHORT_EVENTS_MAXLEN", T_LONG, events_maxlen, "10000", "100000000"),
	K("db.path", "COHORT_DB_PATH", T_STR, db_path, "var/cohort.db", "/srv/c.db"),
	K("db.migrations", "COHORT_DB_MIGRATIONS", T_STR, db_migrations, "sql/sqlite", "/srv/sql"),
	K("api.listen", "COHORT_API_LISTEN", T_STR, api_listen, "var/run/api.sock", ":9000"),
	K("api.threads", "COHORT_API_THREADS", T_INT, api_threads, "8", "256"),
	K("api.max_conns", "COHORT_API_MAX_CONNS", T_INT, api_max_conns, "512", "4096"),
	K("api.read_cache", "COHORT_API_READ_CACHE", T_LONG, api_read_cache, "67108864", "0"),
	K("api.max_body", "COHORT_API_MAX_BODY", T_LONG, api_max_body, "1048576", "1024"),
	K("files.max_file", "COHORT_FILES_MAX_FILE", T_LONG, files_max_file, "8388608", "1"),
	K("files.max_project", "COHORT_FILES_MAX_PROJECT", T_LONG, files_max_project, "536870912", "1099511627776"),
	K("files.max_entries", "COHORT_FILES_MAX_ENTRIES", T_LONG, files_max_entries, "10000", "10000000"),
	K("collab.log_max", "COHORT_COLLAB_LOG_MAX", T_LONG, collab_log_max, "1000", "50"),
	K("collab.cache_bytes", "COHORT_COLLAB_CACHE_BYTES", T_LONG, collab_cache_bytes, "67108864", "1048576"),
	K("api.dev_events", "COHORT_API_DEV_EVENTS", T_BOOL, dev_events, "false", "true"),
	K("stream.host", "COHORT_STREAM_HOST", T_STR, stream_host, "127.0.0.1", "0.0.0.0"),
	K("stream.port", "COHORT_STREAM_PORT", T_INT, stream_port, "8081", "1"),
	K("stream.heartbeat_s", "COHORT_STREAM_HEARTBEAT_S", T_INT, stream_heartbeat_s, "15", "3600"),
	K("stream.queue_max", "COHORT_STREAM_QUEUE_MAX", T_LONG, stream_queue_max, "262144", "1073741824"),
	K("stream.max_streams", "COHORT_STREAM_MAX_STREAMS", T_INT, stream_max_streams, "16", "1024"),
	K("stream.max_conns", "COHORT_STREAM_MAX_CONNS", T_INT, stream_max_conns, "15000", "1000000"),
	K("stream.catchup_batch", "COHORT_STREAM_CATCHUP_BATCH", T_INT, stream_catchup_batch, "500", "100000"),
	K("stream.auth_pending_max", "COHORT_STREAM_AUTH_PENDING_MAX", T_INT, stream_auth_pending_max, "256", "100000"),
	K("stream.edit_pending_max", "COHORT_STREAM_EDIT_PENDING_MAX", T_INT, stream_edit_pending_max, "256", "100000"),
	K("presence.ttl_s", "COHORT_PRESENCE_TTL_S", T_INT, presence_ttl_s, "25", "3600"),
	K("presence.heartbeat_s", "COHORT_PRESENCE_HEARTBEAT_S", T_INT, presence_heartbeat_s, "10", "3600"),
	K("presence.grace_s", "COHORT_PRESENCE_GRACE_S", T_INT, presence_grace_s, "5", "3600"),
	K("presence.sweep_ms", "COHORT_PRESENCE_SWEEP_MS", T_INT, presence_sweep_ms, "2000", "600000"),
	K("rooms.enabled", "COHORT_ROOMS_ENABLED", T_BOOL, rooms_enabled, "false", "true"),
	K("rooms.idle_drop_s", "COHORT_ROOMS_IDLE_DROP_S", T_INT, rooms_idle_drop_s, "600", "5"),
	K("rooms.member_timeout_s", "COHORT_ROOMS_MEMBER_TIMEOUT_S", T_INT, rooms_member_timeout_s, "45", "3"),
	K("rooms.max_members", "COHORT_ROOMS_MAX_MEMBERS", T_INT, rooms_max_members, "50", "7"),
	K("rooms.create_per_min", "COHORT_ROOMS_CREATE_PER_MIN", T_INT, rooms_create_per_min, "10", "3"),
	K("rooms.msgs_per_s", "COHORT_ROOMS_MSGS_PER_S", T_INT, rooms_msgs_per_s, "20", "100"),
	K("auth.secret_file", "COHORT_AUTH_SECRET_FILE", T_STR, auth_secret_file, "var/jwt.secret", "/etc/c.key"),
	K("auth.issuer", "COHORT_AUTH_ISSUER", T_STR, auth_issuer, "cohort", "iss2"),
	K("auth.audience", "COHORT_AUTH_AUDIENCE", T_STR, auth_audience, "cohort", "aud2"),
	K("auth.token_ttl_s", "COHORT_AUTH_TOKEN_TTL_S", T_INT, auth_token_ttl_s, "43200", "60"),
	K("auth.cookie_name", "COHORT_AUTH_COOKIE_NAME", T_STR, auth_cookie_name, "cohort_session", "sid"),
	K("auth.cookie_secure", "COHORT_AUTH_COOKIE_SECURE", T_BOOL, auth_cookie_secure, "false", "true"),
	K("auth.external_issuer", "COHORT_AUTH_EXTERNAL_ISSUER", T_STR, auth_ext_issuer, "", "https://lms"),
	K("auth.external_audience", "COHORT_AUTH_EXTERNAL_AUDIENCE", T_STR, auth_ext_audience, "cohort", "c2"),
	K("auth.external_keys", "COHORT_AUTH_EXTERNAL_KEYS", T_STR, auth_ext_keys, "", "a2V5"),
	K("auth.external_alg", "COHORT_AUTH_EXTERNAL_ALG", T_STR, auth_ext_alg, "EdDSA", "none"),
	K("auth.login_max_failures", "COHORT_AUTH_LOGIN_MAX_FAILURES", T_INT, auth_login_max_failures, "5", "1000"),
	K("auth.addr_max_failures", "COHORT_AUTH_ADDR_MAX_FAILURES", T_INT, auth_addr_max_failures, "20", "100000"),
	K("auth.login_window_s", "COHORT_AUTH_LOGIN_WINDOW_S", T_INT, auth_login_window_s, "300", "86400"),
	K("log.level", "COHORT_LOG_LEVEL", T_STR, log_level, "info", "debug"),
	K("var.dir", "COHORT_VAR_DIR", T_STR, var_dir, "var", "/var/lib/cohort"),
	K("objects.url", "COHORT_OBJECTS_URL", T_STR, objects_url, "file:var/objects", "file:/srv/objects"),
	K("templates.max_upload", "COHORT_TEMPLATES_MAX_UPLOAD", T_LONG, templates_max_upload, "67108864", "1024"),
	K("templates.max_entries", "COHORT_TEMPLATES_MAX_ENTRIES", T_LONG, templates_max_entries, "10000", "5"),
	K("templates.max_file", "COHORT_TEMPLATES_MAX_FILE", T_LONG, templates_max_file, "8388608", "1"),
	K("templates.max_total", "COHORT_TEMPLATES_MAX_TOTAL", T_LONG, templates_max_total, "268435456", "1099511627776"),
	K("templates.max_ratio", "COHORT_TEMPLATES_MAX_RATIO", T_INT, templates_max_ratio, "100", "0"),
	K("templates.url_schemes", "COHORT_TEMPLATES_URL_SCHEMES", T_STR, templates_url_schemes, "https", "file,https"),
	K("templates.fetch_timeout_s", "COHORT_TEMPLATES_FETCH_TIMEOUT_S", T_INT, templates_fetch_timeout_s, "20", "3600"),
#undef K
};

#define NKEY_ROWS (sizeof(key_rows) / sizeof(key_rows[0]))

static const struct key_row *row_for(const char *name)
{
	for (size_t i = 0; i < NKEY_ROWS; i++)
		if (!strcmp(key_rows[i].name, name))
			return &key_rows[i];
	fail_msg("test table has no key '%s'", name);
	abort(); /* not reached: fail_msg does not return */
}

/* Formats a field of cfg as canonical text, so rows can state expectations as strings. */
static const char *value_text(const struct cohort_config *cfg, const struct key_row *k, char *buf, size_t len)
{
	const char *base = (const char *)cfg + k->off;

	switch (k->type) {
	case T_STR: {
		const char *s;

		memcpy(&s, base, sizeof(s));
		return s ? s : "(null)";
	}
	case T_INT: {
		int v;

		memcpy(&v, base, sizeof(v));
		snprintf(buf, len, "%d", v);
		return buf;
	}
	case T_LONG: {
		long v;

		memcpy(&v, base, sizeof(v));
		snprintf(buf, len, "%ld", v);
		return buf;
	}
	case T_BOOL: {
		bool v;

		memcpy(&v, base, sizeof(v));
		return v ? "true" : "false";
	}
	}
	return "?";
}

static void assert_key(const struct cohort_config *cfg, const char *name, const char *want)
{
	char buf[64];
	const char *got = value_text(cfg, row_for(name), buf, sizeof(buf));

	if (strcmp(got, want))
		fail_msg("%s = '%s', want '%s'", name, got, want);
}

/* Every test starts from an environment without COHORT_* keys, so the
 * caller's environment (e.g. the integration harness) cannot leak in. */
static int clear_env(void **state)
{
	(void)state;
	for (size_t i = 0; i < NKEY_ROWS; i++)
		unsetenv(key_rows[i].env);
	return 0;
}

/* Writes text to a new temporary file; the caller unlinks and frees the path. */
static char *write_temp(const char *text, size_t len)
{
	const char *dir = getenv("TMPDIR");
	char *path = malloc(4096);
	int fd;

	assert_non_null(path);
	snprintf(path, 4096, "%s/cohort-test-config-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_key_table_matches(void **state)
{
	(void)state;
	if (config_key_count() != NKEY_ROWS)
		fail_msg("config.c has %zu keys, this test knows %zu: add the new key's row to key_rows",
			 config_key_count(), NKEY_ROWS);
	for (size_t i = 0; i < config_key_count(); i++)
		assert_string_equal(config_key_name(i), key_rows[i].name);
	assert_null(config_key_name(config_key_count()));
	assert_null(config_key_name((size_t)-1));
}

static void test_defaults(void **state)
{
	struct cohort_config cfg;
	char errbuf[256] = "";

	(void)state;
	assert_int_equal(config_load(&cfg, NULL, errbuf, sizeof(errbuf)), 0);
	for (size_t i = 0; i < NKEY_ROWS; i++)
		assert_key(&cfg, key_rows[i].name, key_rows[i].def);
	config_release(&cfg);
	/* An empty path means no file, like NULL. */
	assert_int_equal(config_load(&cfg, "", errbuf, sizeof(errbuf)), 0);
	assert_key(&cfg, "redis.port", "6379");
	config_release(&cfg);
	config_release(NULL);
}

/* File rows: content, expected result, a fragment of the error message, and
 * up to two key checks on success. */
static const struct {
	const char *what;
	const char *text;
	int err;
	const char *msg;
	const char *key1, *want1;
	const char *key2, *want2;
} file_rows[] = {
	{ "empty file", "", 0, NULL, "redis.port", "6379", NULL, NULL },
	{ "comments and blanks", "# c\n\n   \n\t# indented comment\n", 0, NULL, "redis.port", "6379", NULL, NULL },
	{ "one int", "redis.port = 6380\n", 0, NULL, "redis.port", "6380", "redis.host", "127.0.0.1" },
	{ "no spaces", "redis.port=6381\n", 0, NULL, "redis.port", "6381", NULL, NULL },
	{ "lots of spaces", "  \t redis.port \t=\t 6382  \t\n", 0, NULL, "redis.port", "6382", NULL, NULL },
	{ "CRLF", "redis.port = 6383\r\nredis.host = h\r\n", 0, NULL, "redis.port", "6383", "redis.host", "h" },
	{ "no final newline", "redis.host = last", 0, NULL, "redis.host", "last", NULL, NULL },
	{ "later line wins", "redis.port = 1\nredis.port = 2\n", 0, NULL, "redis.port", "2", NULL, NULL },
	{ "string with '=' in it", "api.listen = a=b\n", 0, NULL, "api.listen", "a=b", NULL, NULL },
	{ "string with inner spaces", "var.dir = /srv/my dir\n", 0, NULL, "var.dir", "/srv/my dir", NULL, NULL },
	{ "empty string", "redis.socket =\n", 0, NULL, "redis.socket", "", NULL, NULL },
	{ "'#' inside a value is kept", "db.path = a#b\n", 0, NULL, "db.path", "a#b", NULL, NULL },
	{ "long", "events.maxlen = 100000000\n", 0, NULL, "events.maxlen", "100000000", NULL, NULL },
	{ "size K", "api.max_body = 64K\n", 0, NULL, "api.max_body", "65536", NULL, NULL },
	{ "size plain", "stream.queue_max = 4096\n", 0, NULL, "stream.queue_max", "4096", NULL, NULL },
	{ "size G at max", "api.max_body = 1G\n", 0, NULL, "api.max_body", "1073741824", NULL, NULL },
	{ "bool true", "api.dev_events = true\n", 0, NULL, "api.dev_events", "true", NULL, NULL },
	{ "bool yes", "api.dev_events = yes\n", 0, NULL, "api.dev_events", "true", NULL, NULL },
	{ "bool on", "api.dev_events = on\n", 0, NULL, "api.dev_events", "true", NULL, NULL },
	{ "bool 1", "api.dev_events = 1\n", 0, NULL, "api.dev_events", "true", NULL, NULL },
	{ "bool false after true", "api.dev_events = 1\napi.dev_events = off\n", 0, NULL, "api.dev_events",
	  "false", NULL, NULL },
	{ "bool no", "api.dev_events = no\n", 0, NULL, "api.dev_events", "false", NULL, NULL },
	{ "bool 0", "api.dev_events = 0\n", 0, NULL, "api.dev_events", "false", NULL, NULL },
	{ "int at min", "redis.port = 1\n", 0, NULL, "redis.port", "1", NULL, NULL },
	{ "int at max", "redis.port = 65535\n", 0, NULL, "redis.port", "65535", NULL, NULL },

	{ "unknown key", "redis.prot = 1\n", COHORT_E_CONFIG, ":1: unknown key 'redis.prot'", NULL, NULL, NULL, NULL },
	{ "unknown key line 3", "# x\n\nnope = 1\n", COHORT_E_CONFIG, ":3: unknown key 'nope'", NULL, NULL, NULL, NULL },
	{ "key case matters", "Redis.Port = 1\n", COHORT_E_CONFIG, "unknown key", NULL, NULL, NULL, NULL },
	{ "empty key", "= 5\n", COHORT_E_CONFIG, "unknown key ''", NULL, NULL, NULL, NULL },
	{ "no '='", "redis.port 6379\n", COHORT_E_CONFIG, ":1: expected 'key = value'", NULL, NULL, NULL, NULL },
	{ "int junk", "redis.port = 63x\n", COHORT_E_CONFIG, "redis.port: invalid value '63x'", NULL, NULL, NULL,
	  NULL },
	{ "int empty", "redis.port =\n", COHORT_E_CONFIG, "redis.port: invalid value ''", NULL, NULL, NULL, NULL },
	{ "int with suffix", "redis.port = 6K\n", COHORT_E_CONFIG, "invalid value '6K'", NULL, NULL, NULL, NULL },
	{ "int overflow", "redis.port = 99999999999999999999\n", COHORT_E_CONFIG, "invalid value", NULL, NULL,
	  NULL, NULL },
	{ "int below min", "redis.port = 0\n", COHORT_E_CONFIG, "redis.port: 0 is outside [1, 65535]", NULL,
	  NULL, NULL, NULL },
	{ "int above max", "redis.port = 65536\n", COHORT_E_CONFIG, "redis.port: 65536 is outside [1, 65535]",
	  NULL, NULL, NULL, NULL },
	{ "int negative", "api.threads = -1\n", COHORT_E_CONFIG, "is outside [1, 256]", NULL, NULL, NULL, NULL },
	{ "int far above INT_MAX", "stream.max_conns = 4294967297\n", COHORT_E_CONFIG, "is outside", NULL,
	  NULL, NULL, NULL },
	{ "size below min", "api.max_body = 1023\n", COHORT_E_CONFIG, "is outside [1024,", NULL, NULL, NULL, NULL },
	{ "size above max", "api.max_body = 2G\n", COHORT_E_CONFIG, "is outside", NULL, NULL, NULL, NULL },
	{ "size negative", "api.max_body = -1K\n", COHORT_E_CONFIG, "invalid value '-1K'", NULL, NULL, NULL,
	  NULL },
	{ "size bad suffix", "api.max_body = 1T\n", COHORT_E_CONFIG, "invalid value '1T'", NULL, NULL, NULL, NULL },
	{ "long above max", "events.maxlen = 100000001\n", COHORT_E_CONFIG, "is outside", NULL, NULL, NULL, NULL },
	{ "bool junk", "api.dev_events = maybe\n", COHORT_E_CONFIG, "api.dev_events: invalid value 'maybe'", NULL,
	  NULL, NULL, NULL },
	{ "bool case", "api.dev_events = TRUE\n", COHORT_E_CONFIG, "invalid value 'TRUE'", NULL, NULL, NULL,
	  NULL },
	{ "stops at first error", "redis.port = 0\nnope = 1\n", COHORT_E_CONFIG, "redis.port", NULL, NULL, NULL,
	  NULL },
};

static void test_file_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(file_rows) / sizeof(file_rows[0]); i++) {
		struct cohort_config cfg;
		char errbuf[256] = "";
		char *path = write_temp(file_rows[i].text, strlen(file_rows[i].text));
		int err = config_load(&cfg, path, errbuf, sizeof(errbuf));

		if (err != file_rows[i].err)
			fail_msg("row %zu (%s): err %d, want %d (%s)", i, file_rows[i].what, err, file_rows[i].err,
				 errbuf);
		if (file_rows[i].msg && !strstr(errbuf, file_rows[i].msg))
			fail_msg("row %zu (%s): message '%s' lacks '%s'", i, file_rows[i].what, errbuf,
				 file_rows[i].msg);
		/* Messages name the file, so an operator knows which one to fix. */
		if (err && strstr(file_rows[i].msg, ":") == file_rows[i].msg)
			assert_non_null(strstr(errbuf, path));
		if (!err && file_rows[i].key1)
			assert_key(&cfg, file_rows[i].key1, file_rows[i].want1);
		if (!err && file_rows[i].key2)
			assert_key(&cfg, file_rows[i].key2, file_rows[i].want2);
		config_release(&cfg); /* also after an error: partially loaded strings are freed */
		unlink(path);
		free(path);
	}
}

static void test_missing_file(void **state)
{
	struct cohort_config cfg;
	char errbuf[256] = "";

	(void)state;
	assert_int_equal(config_load(&cfg, "/nonexistent/cohort.conf", errbuf, sizeof(errbuf)), COHORT_E_CONFIG);
	assert_non_null(strstr(errbuf, "/nonexistent/cohort.conf"));
	assert_non_null(strstr(errbuf, strerror(ENOENT)));
	config_release(&cfg);
}

static void test_long_lines(void **state)
{
	static const struct {
		size_t value_len;
		int err;
	} rows[] = {
		{ 100, 0 },
		{ 4000, 0 },
		{ 4094 - 10, 0 },   /* "var.dir = " is 10 chars: a 4094-char line plus newline fits */
		{ 5000, COHORT_E_CONFIG },
		{ 100000, COHORT_E_CONFIG },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = 10 + rows[i].value_len + 1;
		char *text = malloc(n + 1);
		struct cohort_config cfg;
		char errbuf[256] = "";
		char *path;

		assert_non_null(text);
		memcpy(text, "var.dir = ", 10);
		memset(text + 10, 'v', rows[i].value_len);
		text[n - 1] = '\n';
		text[n] = '\0';
		path = write_temp(text, n);
		assert_int_equal(config_load(&cfg, path, errbuf, sizeof(errbuf)), rows[i].err);
		if (rows[i].err)
			assert_non_null(strstr(errbuf, ":1: line too long"));
		else
			assert_int_equal(strlen(cfg.var_dir), rows[i].value_len);
		config_release(&cfg);
		unlink(path);
		free(path);
		free(text);
	}
}

/* Environment rows: file text, env settings, expected result and checks. */
static const struct {
	const char *what;
	const char *file;
	const char *env1, *val1;
	const char *env2, *val2;
	int err;
	const char *msg;
	const char *key, *want;
} env_rows[] = {
	{ "env over default", NULL, "COHORT_REDIS_PORT", "7000", NULL, NULL, 0, NULL, "redis.port", "7000" },
	{ "env over file", "redis.port = 6400\n", "COHORT_REDIS_PORT", "7001", NULL, NULL, 0, NULL, "redis.port",
	  "7001" },
	{ "file kept when env is for another key", "redis.port = 6401\n", "COHORT_REDIS_HOST", "h", NULL, NULL, 0,
	  NULL, "redis.port", "6401" },
	{ "env string over file", "redis.host = fromfile\n", "COHORT_REDIS_HOST", "fromenv", NULL, NULL, 0, NULL,
	  "redis.host", "fromenv" },
	{ "env empty string", "redis.host = fromfile\n", "COHORT_REDIS_HOST", "", NULL, NULL, 0, NULL,
	  "redis.host", "" },
	{ "env bool", "api.dev_events = false\n", "COHORT_API_DEV_EVENTS", "true", NULL, NULL, 0, NULL,
	  "api.dev_events", "true" },
	{ "env size", NULL, "COHORT_STREAM_QUEUE_MAX", "2M", NULL, NULL, 0, NULL, "stream.queue_max", "2097152" },
	{ "env dotted+underscored name", NULL, "COHORT_STREAM_CATCHUP_BATCH", "10", NULL, NULL, 0, NULL,
	  "stream.catchup_batch", "10" },
	{ "env value is not trimmed", NULL, "COHORT_REDIS_PORT", " 7000", NULL, NULL, COHORT_E_CONFIG,
	  "redis.port: invalid value ' 7000'", NULL, NULL },
	{ "env bad value", NULL, "COHORT_REDIS_PORT", "x", NULL, NULL, COHORT_E_CONFIG,
	  "redis.port: invalid value 'x'", NULL, NULL },
	{ "env out of range", NULL, "COHORT_API_THREADS", "1000", NULL, NULL, COHORT_E_CONFIG,
	  "api.threads: 1000 is outside [1, 256]", NULL, NULL },
	{ "env empty int", NULL, "COHORT_REDIS_PORT", "", NULL, NULL, COHORT_E_CONFIG, "invalid value ''", NULL,
	  NULL },
	{ "bad file wins over good env (file read first)", "redis.port = 0\n", "COHORT_REDIS_PORT", "7002", NULL,
	  NULL, COHORT_E_CONFIG, "redis.port: 0 is outside", NULL, NULL },
	{ "env fixes nothing but its key", "redis.port = 6402\n", "COHORT_LOG_LEVEL", "debug", "COHORT_VAR_DIR",
	  "/v", 0, NULL, "log.level", "debug" },
	{ "unknown COHORT_ variables are ignored", NULL, "COHORT_NO_SUCH_KEY", "1", NULL, NULL, 0, NULL,
	  "redis.port", "6379" },
	{ "lower-case env names are not read", NULL, "cohort_redis_port", "7003", NULL, NULL, 0, NULL,
	  "redis.port", "6379" },
};

static void test_env_rows(void **state)
{
	for (size_t i = 0; i < sizeof(env_rows) / sizeof(env_rows[0]); i++) {
		struct cohort_config cfg;
		char errbuf[256] = "";
		char *path = env_rows[i].file ? write_temp(env_rows[i].file, strlen(env_rows[i].file)) : NULL;
		int err;

		clear_env(state);
		setenv(env_rows[i].env1, env_rows[i].val1, 1);
		if (env_rows[i].env2)
			setenv(env_rows[i].env2, env_rows[i].val2, 1);
		err = config_load(&cfg, path, errbuf, sizeof(errbuf));
		if (err != env_rows[i].err)
			fail_msg("row %zu (%s): err %d, want %d (%s)", i, env_rows[i].what, err, env_rows[i].err, errbuf);
		if (env_rows[i].msg && !strstr(errbuf, env_rows[i].msg))
			fail_msg("row %zu (%s): message '%s' lacks '%s'", i, env_rows[i].what, errbuf, env_rows[i].msg);
		if (!err)
			assert_key(&cfg, env_rows[i].key, env_rows[i].want);
		config_release(&cfg);
		unsetenv(env_rows[i].env1);
		if (env_rows[i].env2)
			unsetenv(env_rows[i].env2);
		if (path) {
			unlink(path);
			free(path);
		}
	}
	(void)state;
}

/* Every key can be overridden through its documented variable name. */
static void test_env_every_key(void **state)
{
	for (size_t i = 0; i < NKEY_ROWS; i++) {
		const struct key_row *k = &key_rows[i];
		const char *v = k->alt;
		struct cohort_config cfg;
		char errbuf[256] = "";

		clear_env(state);
		assert_string_not_equal(v, k->def);
		assert_int_equal(setenv(k->env, v, 1), 0);
		if (config_load(&cfg, NULL, errbuf, sizeof(errbuf)))
			fail_msg("%s=%s: %s", k->env, v, errbuf);
		assert_key(&cfg, k->name, v);
		config_release(&cfg);
		unsetenv(k->env);
	}
}

/* The example file parses to the defaults. */
static void test_example_file_loads(void **state)
{
	struct cohort_config cfg;
	char errbuf[256] = "";
	char *buf = NULL, *path;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	config_write_example(f);
	fclose(f);
	path = write_temp(buf, len);
	if (config_load(&cfg, path, errbuf, sizeof(errbuf)))
		fail_msg("example does not load: %s", errbuf);
	for (size_t i = 0; i < NKEY_ROWS; i++)
		assert_key(&cfg, key_rows[i].name, key_rows[i].def);
	config_release(&cfg);
	unlink(path);
	free(path);
	free(buf);
}

/* The example documents each key with its environment name. */
static void test_example_mentions_every_key(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char line[256];

	(void)state;
	assert_non_null(f);
	config_write_example(f);
	fclose(f);
	for (size_t i = 0; i < NKEY_ROWS; i++) {
		snprintf(line, sizeof(line), "\n%s = ", key_rows[i].name);
		if (!strstr(buf, line))
			fail_msg("example lacks '%s = '", key_rows[i].name);
		snprintf(line, sizeof(line), "(env: %s)\n", key_rows[i].env);
		if (!strstr(buf, line))
			fail_msg("example lacks '%s'", line);
	}
	free(buf);
}

static char *read_all(FILE *f, size_t *len)
{
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	do {
		if (cap - n < 4096) {
			char *p = realloc(buf, cap + 65536);

			assert_non_null(p);
			buf = p;
			cap += 65536;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	*len = n;
	return buf;
}

/* The committed example is current: regenerate it with `cohort config-example` when this fails. */
static void test_committed_example_is_current(void **state)
{
	char *want = NULL, *got;
	size_t want_len = 0, got_len, line = 1;
	FILE *mem = open_memstream(&want, &want_len);
	FILE *f;

	(void)state;
	assert_non_null(mem);
	config_write_example(mem);
	fclose(mem);
	f = fopen(EXAMPLE_PATH, "r");
	if (!f) {
		char cwd[1024];

		free(want);
		fail_msg("cannot open %s: %s (run from the repository root; cwd is %s)", EXAMPLE_PATH,
			 strerror(errno), getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	}
	got = read_all(f, &got_len);
	fclose(f);
	for (size_t i = 0; i < want_len && i < got_len; i++) {
		if (want[i] != got[i]) {
			free(want);
			free(got);
			fail_msg("%s differs from config_write_example() at line %zu; regenerate it with "
				 "`cohort config-example > %s`", EXAMPLE_PATH, line, EXAMPLE_PATH);
		}
		if (want[i] == '\n')
			line++;
	}
	if (want_len != got_len) {
		free(want);
		free(got);
		fail_msg("%s has %zu bytes, config_write_example() gives %zu (from line %zu on); regenerate it",
			 EXAMPLE_PATH, got_len, want_len, line);
	}
	free(want);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_key_table_matches, clear_env),
		cmocka_unit_test_setup(test_defaults, clear_env),
		cmocka_unit_test_setup(test_file_rows, clear_env),
		cmocka_unit_test_setup(test_missing_file, clear_env),
		cmocka_unit_test_setup(test_long_lines, clear_env),
		cmocka_unit_test_setup(test_env_rows, clear_env),
		cmocka_unit_test_setup(test_env_every_key, clear_env),
		cmocka_unit_test_setup(test_example_file_loads, clear_env),
		cmocka_unit_test_setup(test_example_mentions_every_key, clear_env),
		cmocka_unit_test_setup(test_committed_example_is_current, clear_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
