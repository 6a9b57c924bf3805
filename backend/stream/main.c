/*
 * cohort-stream — SSE and WebSocket fan-out of Redis event streams.
 *
 *   cohort-stream [-c <config file>]
 *
 * The config file may also come from COHORT_CONFIG; environment variables
 * COHORT_<KEY> override both (core/config.h).
 */
#include "stream/server.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static void usage(void)
{
	fputs("usage: cohort-stream [-c <config file>]\n", stderr);
}

int main(int argc, char **argv)
{
	const char *path = getenv("COHORT_CONFIG");
	struct cohort_config cfg;
	struct server srv;
	char errbuf[256] = "";
	uv_loop_t loop;
	int err, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			path = argv[++i];
		} else {
			usage();
			return 2;
		}
	}
	if (config_load(&cfg, path, errbuf, sizeof(errbuf))) {
		fprintf(stderr, "cohort-stream: %s\n", errbuf);
		config_release(&cfg);
		return 1;
	}
	log_init("cohort-stream", cfg.log_level);
	/* Peers that vanish must not kill the process (hiredis writes with write(2)). */
	signal(SIGPIPE, SIG_IGN);
	if (uv_loop_init(&loop)) {
		log_error("loop_init_failed");
		config_release(&cfg);
		return 1;
	}
	err = server_start(&srv, &loop, &cfg);
	if (err) {
		log_error("start_failed", LF_S("error", cohort_strerror(err)));
		server_stop(&srv);
	} else {
		rc = 0;
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	server_release(&srv);
	/* Anything still open now is a bug; run it down so ASan sees a clean exit. */
	if (uv_loop_close(&loop) == UV_EBUSY) {
		log_error("loop_busy_at_exit");
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
		rc = 1;
	}
	log_info("stopped", LF_I("status", rc));
	config_release(&cfg);
	return rc;
}
