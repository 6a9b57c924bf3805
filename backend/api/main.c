/*
 * cohort-api — the FastCGI responder of cohort.
 *
 *   cohort-api [-c <config file>]    serve (the file may also come from $COHORT_CONFIG)
 *   cohort-api --routes              print the route table and exit
 *   cohort-api --version
 *
 * Configuration: config.h (file, then COHORT_* environment overrides).
 * Stops cleanly on SIGTERM or SIGINT (see server.c).
 */
#include "api/authn.h"
#include "api/listener.h"
#include "api/metrics.h"
#include "api/rcache.h"
#include "api/router.h"
#include "api/routes.h"
#include "api/server.h"
#include "api/treecache.h"
#include "core/collab.h"
#include "core/config.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/version.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fputs("usage: cohort-api [-c <config file>]\n"
	      "       cohort-api --routes     print the route table (method, pattern, permission, name)\n"
	      "       cohort-api --version\n"
	      "The config file may also be named by $COHORT_CONFIG; COHORT_<KEY> variables override it.\n",
	      out);
}

/*
 * Process managers may start us with standard descriptors closed (cgi-fcgi
 * -start closes stdout and stderr). The next socket would then take fd 2 and
 * every log line would be written into it, so closed ones are pointed at
 * /dev/null first. fd 0 is left alone: it may be the inherited socket.
 */
static void guard_std_fds(void)
{
	for (int fd = 1; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);

			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
	}
}

int main(int argc, char **argv)
{
	const char *config_path = getenv("COHORT_CONFIG");
	struct cohort_config cfg = { 0 };
	struct listener l = { .fd = -1 };
	const struct route *table;
	char err[512];
	size_t n;
	int rc = 1, e;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			config_path = argv[++i];
		} else if (!strcmp(argv[i], "--routes")) {
			routes_print(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("cohort-api %s\n", COHORT_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}

	guard_std_fds();
	if (config_load(&cfg, config_path, err, sizeof(err))) {
		fprintf(stderr, "cohort-api: %s\n", err);
		goto out;
	}
	log_init("api", cfg.log_level);
	table = routes_table(&n);
	if (router_check(table, n, err, sizeof(err))) {
		log_error("bad_route_table", LF_S("error", err));
		goto out;
	}
	metrics_init(table, n);
	if (ids_init()) {
		log_error("libsodium_init_failed");
		goto out;
	}
	if (authn_init(&cfg, err, sizeof(err))) {
		log_error("auth_keys_unusable", LF_S("error", err),
			  LF_S("hint", "run `cohort init-secret` and check auth.secret_file and auth.external_*"));
		goto out;
	}
	e = FCGX_Init();
	if (e) {
		log_error("fcgi_init_failed", LF_I("code", e));
		goto out;
	}
	if (listener_open(&l, cfg.api_listen, err, sizeof(err))) {
		log_error("listen_failed", LF_S("error", err));
		goto out;
	}
	log_info("started", LF_S("version", COHORT_VERSION), LF_S("listen", cfg.api_listen),
		 LF_I("threads", cfg.api_threads), LF_I("max_body", cfg.api_max_body),
		 LF_I("dev_events", cfg.dev_events));
	collab_cache_limit((size_t)cfg.collab_cache_bytes);
	rcache_init(&cfg);
	if (server_run(&cfg, l.fd) == 0)
		rc = 0;
	log_info("stopped", LF_I("status", rc));
out:
	collab_cache_clear();
	treecache_clear();
	rcache_shutdown();
	listener_close(&l);
	config_release(&cfg);
	return rc;
}
