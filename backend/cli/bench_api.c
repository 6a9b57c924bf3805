/*
 * bench_api.c — the blocking keep-alive REST client (see bench_api.h).
 *
 * DESIGN: plain blocking sockets with SO_RCVTIMEO/SO_SNDTIMEO, one buffered
 * reader per connection. The head is read up to its blank line (bounded by
 * the read buffer), the body by Content-Length or the chunked framing. We
 * never pipeline, so a connection holds at most one response.
 */
#include "cli/bench_api.h"
#include "core/err.h"
#include "core/num.h"
#include "core/strbuf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define BENCH_API_RBUF (64 * 1024)

void bench_api_init(struct bench_api *a, const struct sys_url *url, const char *token,
		    int timeout_ms)
{
	memset(a, 0, sizeof(*a));
	a->url = url;
	a->token = token;
	a->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	a->fd = -1;
}

static void api_close(struct bench_api *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	a->rlen = a->roff = 0;
}

void bench_api_release(struct bench_api *a)
{
	if (!a)
		return;
	api_close(a);
	free(a->rbuf);
	a->rbuf = NULL;
}

static int api_connect(struct bench_api *a)
{
	struct timeval tv = { a->timeout_ms / 1000, (a->timeout_ms % 1000) * 1000 };
	int one = 1;

	a->fd = socket(a->url->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a->fd < 0)
		return COHORT_E_IO;
	setsockopt(a->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(a->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(a->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(a->fd, (const struct sockaddr *)&a->url->addr, a->url->addrlen)) {
		api_close(a);
		return errno == EINPROGRESS || errno == EAGAIN ? COHORT_E_TIMEOUT : COHORT_E_IO;
	}
	a->rlen = a->roff = 0;
	return 0;
}

/* Makes at least one more byte available in rbuf[roff..rlen). */
static int fill(struct bench_api *a)
{
	ssize_t n;

	if (a->roff == a->rlen)
		a->roff = a->rlen = 0;
	if (a->rlen == BENCH_API_RBUF) {
		if (!a->roff)
			return COHORT_E_LIMIT;
		memmove(a->rbuf, a->rbuf + a->roff, a->rlen - a->roff);
		a->rlen -= a->roff;
		a->roff = 0;
	}
	do
		n = recv(a->fd, a->rbuf + a->rlen, BENCH_API_RBUF - a->rlen, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? COHORT_E_TIMEOUT : COHORT_E_IO;
	if (n == 0)
		return COHORT_E_NOTFOUND; /* closed: the caller decides what that means */
	a->rlen += (size_t)n;
	return 0;
}

/* One CRLF-terminated line (without it) of at most cap-1 bytes. */
static int read_line(struct bench_api *a, char *line, size_t cap)
{
	for (;;) {
		char *s = a->rbuf + a->roff;
		char *nl = memchr(s, '\n', a->rlen - a->roff);
		int err;

		if (nl) {
			size_t n = (size_t)(nl - s);

			if (n && s[n - 1] == '\r')
				n--;
			if (n >= cap)
				return COHORT_E_INVAL;
			memcpy(line, s, n);
			line[n] = '\0';
			a->roff += (size_t)(nl - s) + 1;
			return 0;
		}
		if ((err = fill(a)))
			return err == COHORT_E_NOTFOUND ? COHORT_E_IO : err;
	}
}

static int read_bytes(struct bench_api *a, uint64_t n, struct strbuf *body)
{
	while (n) {
		size_t have = a->rlen - a->roff, take;
		int err;

		if (!have) {
			if ((err = fill(a)))
				return err == COHORT_E_NOTFOUND ? COHORT_E_IO : err;
			continue;
		}
		take = have < n ? have : (size_t)n;
		if (body && (err = strbuf_add(body, a->rbuf + a->roff, take)))
			return err;
		a->roff += take;
		n -= take;
	}
	return 0;
}

static bool header_is(const char *line, const char *name, const char **value)
{
	size_t n = strlen(name);

	if (strncasecmp(line, name, n))
		return false;
	line += n;
	while (*line == ' ' || *line == '\t')
		line++;
	*value = line;
	return true;
}

static int read_response(struct bench_api *a, int *status, struct strbuf *body, bool *closed_early)
{
	char line[8192];
	const char *v;
	uint64_t st, len = 0;
	bool chunked = false, have_len = false, close_after = false;
	int err;

	*closed_early = false;
	if (a->roff == a->rlen) {
		err = fill(a);
		if (err == COHORT_E_NOTFOUND) {
			*closed_early = true;
			return COHORT_E_IO;
		}
		if (err)
			return err;
	}
	if ((err = read_line(a, line, sizeof(line))))
		return err;
	if (strncmp(line, "HTTP/1.", 7) || strlen(line) < 12 || parse_u64n(line + 9, 3, &st))
		return COHORT_E_INVAL;
	*status = (int)st;
	for (;;) {
		if ((err = read_line(a, line, sizeof(line))))
			return err;
		if (!line[0])
			break;
		if (header_is(line, "content-length:", &v)) {
			if (parse_u64n(v, strlen(v), &len))
				return COHORT_E_INVAL;
			have_len = true;
		} else if (header_is(line, "transfer-encoding:", &v)) {
			chunked = strstr(v, "chunked") != NULL;
		} else if (header_is(line, "connection:", &v)) {
			close_after = strstr(v, "close") != NULL;
		}
	}
	if (st == 204 || st == 304 || st / 100 == 1) {
		/* no body */
	} else if (chunked) {
		for (;;) {
			char *end;
			unsigned long long size;

			if ((err = read_line(a, line, sizeof(line))))
				return err;
			errno = 0;
			size = strtoull(line, &end, 16);
			if (end == line || errno || (*end && *end != ';'))
				return COHORT_E_INVAL;
			if (!size)
				break;
			if ((err = read_bytes(a, size, body)) || (err = read_line(a, line, sizeof(line))))
				return err;
			if (line[0])
				return COHORT_E_INVAL;
		}
		do {
			if ((err = read_line(a, line, sizeof(line))))
				return err;
		} while (line[0]);
	} else if (have_len) {
		if ((err = read_bytes(a, len, body)))
			return err;
	} else {
		for (;;) {
			err = fill(a);
			if (err == COHORT_E_NOTFOUND)
				break;
			if (err)
				return err;
			if ((err = read_bytes(a, a->rlen - a->roff, body)))
				return err;
		}
		close_after = true;
	}
	if (a->roff != a->rlen)
		return COHORT_E_INVAL; /* bytes after the response: we never pipeline */
	if (close_after)
		api_close(a);
	return 0;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? COHORT_E_TIMEOUT
										    : COHORT_E_IO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int bench_api_call(struct bench_api *a, const char *method, const char *target,
		   const char *ctype, const char *req_body, size_t req_len, int *status,
		   struct strbuf *body)
{
	struct strbuf head = STRBUF_INIT;
	int err = 0;
	bool closed_early = false;

	*status = 0;
	if (!a->rbuf && !(a->rbuf = malloc(BENCH_API_RBUF)))
		return COHORT_E_NOMEM;
	strbuf_init(&head, BENCH_TOKEN_MAX + 4096 + (req_body ? req_len : 0));
	err = strbuf_addf(&head, "%s %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: cohort-bench\r\n",
			  method, a->url->prefix, target, a->url->host_header);
	if (!err && a->token)
		err = strbuf_addf(&head, "Authorization: Bearer %s\r\n", a->token);
	if (!err && req_body)
		err = strbuf_addf(&head, "Content-Type: %s\r\nContent-Length: %zu\r\n",
				  ctype ? ctype : "application/json", req_len);
	if (!err)
		err = strbuf_adds(&head, "\r\n");
	/* Head and body in one send: written apart, the body would wait for
	 * the server's delayed ACK of the head (Nagle), about 40 ms. */
	if (!err && req_body)
		err = strbuf_add(&head, req_body, req_len);
	if (err)
		goto out;
	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = a->fd >= 0;

		if (body)
			strbuf_reset(body);
		if (a->fd < 0 && (err = api_connect(a)))
			goto out;
		err = send_all(a->fd, head.buf, head.len);
		if (!err)
			err = read_response(a, status, body, &closed_early);
		if (!err)
			goto out;
		api_close(a);
		/* A kept-alive connection closed before it saw the request:
		 * nothing was done, so it is safe to send again. */
		if (!(reused && (closed_early || err == COHORT_E_IO) && *status == 0))
			goto out;
		a->reconnects++;
	}
out:
	strbuf_release(&head);
	return err;
}

int bench_token_load(const char *file, const char *who, char *tok, size_t cap)
{
	const char *env = getenv("COHORT_BENCH_TOKEN");
	size_t n = 0;

	if (file) {
		FILE *f = fopen(file, "r");

		if (!f) {
			fprintf(stderr, "%s: cannot read %s\n", who, file);
			return COHORT_E_IO;
		}
		n = fread(tok, 1, cap - 1, f);
		fclose(f);
	} else if (env) {
		n = strlen(env);
		if (n >= cap)
			n = cap - 1;
		memcpy(tok, env, n);
	}
	while (n && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
		n--;
	tok[n] = '\0';
	if (!n || strpbrk(tok, " \r\n\t")) {
		fprintf(stderr, "%s: no usable token (--token-file or $COHORT_BENCH_TOKEN)\n", who);
		return COHORT_E_INVAL;
	}
	return 0;
}
