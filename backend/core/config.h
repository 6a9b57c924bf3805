/*
 * config.h — cohort's configuration, one table of keys.
 *
 * Values come from, in increasing priority: the defaults in config.c's key
 * table, a `key = value` file, and environment variables named COHORT_ plus
 * the key upper-cased with dots as underscores (redis.host → COHORT_REDIS_HOST).
 * conf/cohort.conf.example is generated from the same table (`cohort
 * config-example`) and a unit test checks that it is current.
 */
#ifndef COHORT_CONFIG_H
#define COHORT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cohort_config {
	/* Redis */
	char *redis_host;
	int redis_port;
	char *redis_socket;
	int redis_timeout_ms;
	long events_maxlen;

	/* SQL */
	char *db_path;
	char *db_migrations;

	/* cohort-api */
	char *api_listen;
	int api_threads;
	int api_max_conns;
	long api_read_cache;
	long api_max_body;
	long files_max_file;
	long files_max_project;
	long files_max_entries;
	long collab_log_max;
	long collab_cache_bytes;
	bool dev_events;

	/* cohort-stream */
	char *stream_host;
	int stream_port;
	int stream_heartbeat_s;
	long stream_queue_max;
	int stream_max_streams;
	int stream_max_conns;
	int stream_catchup_batch;
	int stream_auth_pending_max;
	int stream_edit_pending_max;

	/* presence (issue 6) */
	int presence_ttl_s;
	int presence_heartbeat_s;
	int presence_grace_s;
	int presence_sweep_ms;

	/* anonymous rooms (issue 6, docs/rooms.md) */
	bool rooms_enabled;
	int rooms_idle_drop_s;
	int rooms_member_timeout_s;
	int rooms_max_members;
	int rooms_create_per_min;
	int rooms_msgs_per_s;

	/* authentication */
	char *auth_secret_file;
	char *auth_issuer;
	char *auth_audience;
	int auth_token_ttl_s;
	char *auth_cookie_name;
	bool auth_cookie_secure;
	char *auth_ext_issuer;
	char *auth_ext_audience;
	char *auth_ext_keys;
	char *auth_ext_alg;
	int auth_login_max_failures;
	int auth_addr_max_failures;
	int auth_login_window_s;

	/* general */
	char *log_level;
	char *var_dir;

	/* object store */
	char *objects_url;

	/* lesson templates (core/template.h) */
	long templates_max_upload;
	long templates_max_entries;
	long templates_max_file;
	long templates_max_total;
	int templates_max_ratio;
	char *templates_url_schemes;
	int templates_fetch_timeout_s;
};

/* Fills cfg with defaults, then the file (NULL: none), then the environment.
 * On error writes one line to errbuf and returns COHORT_E_CONFIG. */
int config_load(struct cohort_config *cfg, const char *path, char *errbuf, size_t errlen);
void config_release(struct cohort_config *cfg);

/* Writes the documented example file (every key, its default, its meaning). */
void config_write_example(FILE *out);

/* Number of keys and the i-th key's name, for tests and tooling. */
size_t config_key_count(void);
const char *config_key_name(size_t i);

#endif
