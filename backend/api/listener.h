/*
 * listener.h — the socket cohort-api takes FastCGI connections on, from the
 * api.listen setting:
 *
 *   /run/cohort/api.sock   a unix socket (also any value without ':'); the
 *                          parent directory is created, a stale socket file
 *                          replaced, the socket made mode 0660
 *   unix:<path>            the same, spelled out
 *   127.0.0.1:9000         TCP on that address ([::1]:9000 for IPv6)
 *   :9000                  TCP on every address, as libfcgi and php-fpm read it
 *   inherit                the listening socket on descriptor 0, from a
 *                          process manager (spawn-fcgi, systemd socket units)
 */
#ifndef COHORT_API_LISTENER_H
#define COHORT_API_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

#define LISTENER_BACKLOG 1024

struct listener {
	int fd;
	char *unix_path; /* the socket file we created, removed by listener_close */
	bool inherited;
};

/* COHORT_E_CONFIG with a one-line reason in err when the setting is wrong or
 * the socket cannot be set up (including: another process listens there). */
int listener_open(struct listener *l, const char *spec, char *err, size_t errlen);
void listener_close(struct listener *l);

#endif
