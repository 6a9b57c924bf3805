/*
 * server.h — cohort-api's FastCGI connection pool and worker threads.
 *
 * server_run serves the listening socket with api.threads workers until
 * SIGTERM or SIGINT, then stops taking requests, lets the ones in flight
 * finish, closes every connection, joins the threads and returns.
 */
#ifndef COHORT_API_SERVER_H
#define COHORT_API_SERVER_H

struct cohort_config;

/* Longest a read from or write to the web server may block. */
#define SERVER_IO_TIMEOUT_S 30

/* listen_fd must be a listening socket; it is made non-blocking. Returns 0
 * after a clean stop, or a negative enum cohort_err when it could not start. */
int server_run(const struct cohort_config *cfg, int listen_fd);

#endif
