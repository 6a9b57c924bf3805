/*
 * bench_hello.c — a "hello" FastCGI responder: the baseline of the files
 * benchmark.
 *
 * DESIGN: the textbook libfcgi responder and nothing more. T threads (T =
 * api.threads, cohort-api's worker count: 8 unless COHORT_API_THREADS or a
 * config file says otherwise) each own one FCGX_Request on one unix socket
 * and loop on FCGX_Accept_r / write / FCGX_Finish_r. Every request gets the
 * same 200 text/plain body; the request is not even read.
 *
 * One consequence of the textbook shape (see backend/api/server.c's DESIGN
 * note): with nginx's fastcgi_keep_conn a kept-alive connection stays with
 * the thread that accepted it, so a web server that opens more than T
 * connections at once stalls on the extra ones. Benchmarks through this
 * responder therefore use at most T concurrent client connections (nginx
 * then never needs more than T upstream connections).
 *
 * Stopping: SIGTERM / SIGINT are blocked in every thread and taken by the
 * main thread with sigwait; it removes the socket file and exits 0 while the
 * workers may still sit in accept() or read().
 */
#include "cli/bench_hello.h"
#include "core/config.h"
#include "core/num.h"

#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HELLO_BACKLOG 1024

static const char hello_response[] = "Status: 200 OK\r\n"
				     "Content-Type: text/plain; charset=utf-8\r\n"
				     "Content-Length: 6\r\n"
				     "\r\n"
				     "hello\n";

static void *hello_thread(void *arg)
{
	int sock = *(const int *)arg;
	FCGX_Request req;

	if (FCGX_InitRequest(&req, sock, 0))
		return NULL;
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(hello_response, (int)sizeof(hello_response) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: cohort-bench hello-fcgi --listen PATH [--threads T]\n\n"
		   "  --listen PATH   unix socket to serve FastCGI on (required)\n"
		   "  --threads T     worker threads (default: api.threads, cohort-api's count)\n\n"
		   "Answers every request with 200 and \"hello\\n\" until SIGTERM or SIGINT.\n");
}

int bench_hello_main(int argc, char **argv)
{
	struct cohort_config cfg = { 0 };
	const char *listen_path = NULL;
	pthread_t *threads = NULL;
	char err[256];
	long nthreads = 0;
	sigset_t sigs;
	int sock = -1, sig = 0, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
			listen_path = argv[++i];
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			if (parse_long(argv[++i], &nthreads) || nthreads < 1 || nthreads > 256) {
				fprintf(stderr, "cohort-bench hello-fcgi: --threads must be 1..256\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!listen_path || strchr(listen_path, ':')) {
		fprintf(stderr, "cohort-bench hello-fcgi: --listen needs a unix socket path\n");
		return 2;
	}
	if (!nthreads) {
		/* The same number of workers cohort-api would run here. */
		if (config_load(&cfg, getenv("COHORT_CONFIG"), err, sizeof(err))) {
			fprintf(stderr, "cohort-bench hello-fcgi: %s\n", err);
			goto out;
		}
		nthreads = cfg.api_threads;
	}

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &sigs, NULL))
		goto out;
	if (FCGX_Init()) {
		fprintf(stderr, "cohort-bench hello-fcgi: FCGX_Init failed\n");
		goto out;
	}
	unlink(listen_path);
	sock = FCGX_OpenSocket(listen_path, HELLO_BACKLOG);
	if (sock < 0) {
		fprintf(stderr, "cohort-bench hello-fcgi: cannot listen on %s\n", listen_path);
		goto out;
	}
	threads = calloc((size_t)nthreads, sizeof(*threads));
	if (!threads)
		goto out;
	for (long i = 0; i < nthreads; i++) {
		if (pthread_create(&threads[i], NULL, hello_thread, &sock)) {
			fprintf(stderr, "cohort-bench hello-fcgi: cannot start thread %ld\n", i);
			goto out;
		}
	}
	fprintf(stderr, "cohort-bench hello-fcgi: listening on %s with %ld threads\n", listen_path,
		nthreads);
	while (sigwait(&sigs, &sig))
		;
	rc = 0;
out:
	/* Workers blocked in libfcgi are not joined: the process ends here. */
	if (sock >= 0)
		unlink(listen_path);
	config_release(&cfg);
	fflush(NULL);
	_exit(rc);
}
