#include "api/listener.h"
#include "core/err.h"
#include "core/num.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* "api.listen <what>: <why>" */
static int fail(char *err, size_t errlen, const char *what, const char *why)
{
	snprintf(err, errlen, "api.listen %s: %s", what, why);
	return COHORT_E_CONFIG;
}

static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/* A socket file nobody listens on is left over from a process that died;
 * one somebody answers on belongs to a running instance. */
static int clear_stale(const char *path, const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : fail(err, errlen, path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return fail(err, errlen, path, "exists and is not a socket");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, path, strerror(errno));
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0)
		return fail(err, errlen, path, "another process is listening on it");
	if (unlink(path) < 0 && errno != ENOENT)
		return fail(err, errlen, path, strerror(errno));
	return 0;
}

static int open_unix(struct listener *l, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (!*path || strlen(path) >= sizeof(sa.sun_path))
		return fail(err, errlen, path, "empty or longer than a unix socket path may be");
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (mkdir_parents(path) < 0)
		return fail(err, errlen, path, "cannot create its directory");
	e = clear_stale(path, &sa, err, errlen);
	if (e)
		return e;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, path, strerror(errno));
	/* Nobody can connect between bind and listen, so the mode is set
	 * before the socket is reachable. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0660) < 0 ||
	    listen(fd, LISTENER_BACKLOG) < 0) {
		e = errno;
		close(fd);
		unlink(path);
		return fail(err, errlen, path, strerror(e));
	}
	l->fd = fd;
	l->unix_path = strdup(path);
	if (!l->unix_path) {
		listener_close(l);
		return COHORT_E_NOMEM;
	}
	return 0;
}

static int open_tcp(struct listener *l, const char *spec, char *err, size_t errlen)
{
	const char *colon = strrchr(spec, ':');
	char host[256], port[8];
	size_t hlen = (size_t)(colon - spec);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	long p;
	int fd = -1, one = 1, r, e = 0;

	if (hlen >= 2 && spec[0] == '[' && spec[hlen - 1] == ']') {
		spec++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host) || parse_long(colon + 1, &p) || p < 1 || p > 65535)
		return fail(err, errlen, spec, "expected host:port with a port in 1..65535");
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	snprintf(port, sizeof(port), "%ld", p);
	r = getaddrinfo(hlen ? host : NULL, port, &hints, &res);
	if (r)
		return fail(err, errlen, spec, gai_strerror(r));
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, LISTENER_BACKLOG) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return fail(err, errlen, spec, strerror(e));
	l->fd = fd;
	return 0;
}

static int open_inherited(struct listener *l, char *err, size_t errlen)
{
	int listening = 0;
	socklen_t len = sizeof(listening);

	if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
		return fail(err, errlen, "inherit", "descriptor 0 is not a listening socket");
	l->fd = 0;
	l->inherited = true;
	return 0;
}

int listener_open(struct listener *l, const char *spec, char *err, size_t errlen)
{
	l->fd = -1;
	l->unix_path = NULL;
	l->inherited = false;
	if (!spec || !*spec)
		return fail(err, errlen, "(empty)", "expected a socket path, host:port, :port or inherit");
	if (!strcmp(spec, "inherit"))
		return open_inherited(l, err, errlen);
	if (!strncmp(spec, "unix:", 5))
		return open_unix(l, spec + 5, err, errlen);
	if (strchr(spec, '/') || !strchr(spec, ':'))
		return open_unix(l, spec, err, errlen);
	return open_tcp(l, spec, err, errlen);
}

void listener_close(struct listener *l)
{
	if (!l)
		return;
	if (l->fd >= 0 && !l->inherited)
		close(l->fd);
	if (l->unix_path)
		unlink(l->unix_path);
	free(l->unix_path);
	l->fd = -1;
	l->unix_path = NULL;
}
