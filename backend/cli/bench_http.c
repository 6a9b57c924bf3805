/*
 * bench_http.c — the closed-loop HTTP/1.1 load client (see bench_http.h).
 *
 * DESIGN: one epoll set, level-triggered, one read per ready socket per
 * wakeup into one shared buffer. A connection is a small state machine:
 * connect, send the request, read the head (kept, bounded), then skip the
 * body by Content-Length or by the chunked framing, and start over on the
 * same socket unless the server said Connection: close. We never pipeline,
 * so a byte after the end of a response is a protocol error.
 */
#include "cli/bench_http.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/num.h"
#include "core/strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>

#define HTTP_RBUF (64 * 1024)
#define HTTP_HEAD_MAX (16 * 1024)
#define HTTP_LINE_MAX 128
#define HTTP_EPOLL_BATCH 64
#define HTTP_MAX_CONNS 4096
#define HTTP_MAX_REQUEST ((size_t)16 << 20)

enum hc_state {
	HC_IDLE,       /* no request in flight (fd may be open, kept alive) */
	HC_CONNECTING,
	HC_SENDING,
	HC_HEAD,
	HC_BODY,       /* Content-Length bytes left in `remaining` */
	HC_UNTIL_CLOSE,
	HC_CHUNK_SIZE,
	HC_CHUNK_DATA,
	HC_CHUNK_END,  /* the CRLF after a chunk's data */
	HC_TRAILER,
};

struct hconn {
	int fd;
	enum hc_state state;
	struct strbuf req;
	const char *out; /* the request being sent: req.buf or o->fixed */
	size_t out_len, sent;
	int64_t t_start; /* monotonic: first byte of the request written (or connect) */
	char *head;      /* HTTP_HEAD_MAX bytes */
	size_t head_len;
	char line[HTTP_LINE_MAX];
	size_t line_len;
	uint64_t remaining;
	int status;
	bool close_after;
};

struct http_run {
	const struct http_load_opts *o;
	struct http_load_result *r;
	struct hconn *c;
	int epfd;
	char *rbuf;
	uint64_t next_seq;
	bool stop_new; /* no more requests are started */
	int gen_err;
	int64_t t0, t_last;
	size_t busy;
};

static void set_error(struct http_run *run, const char *what, int err)
{
	if (!run->r->error[0])
		snprintf(run->r->error, sizeof(run->r->error), "%s%s%s", what, err ? ": " : "",
			 err ? strerror(err) : "");
}

static void hc_close(struct http_run *run, struct hconn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(run->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
}

static void hc_watch(struct http_run *run, struct hconn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (epoll_ctl(run->epfd, EPOLL_CTL_MOD, c->fd, &ev))
		epoll_ctl(run->epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

/* The request in flight ends without a response: count it, drop the socket. */
static void hc_fail(struct http_run *run, struct hconn *c, uint64_t *counter, const char *what,
		    int err)
{
	(*counter)++;
	set_error(run, what, err);
	hc_close(run, c);
	c->state = HC_IDLE;
	run->busy--;
}

static int hc_connect(struct http_run *run, struct hconn *c)
{
	const struct http_load_opts *o = run->o;

	c->fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (const struct sockaddr *)&o->addr, o->addrlen) && errno != EINPROGRESS)
		return -errno;
	c->state = HC_CONNECTING;
	hc_watch(run, c, EPOLLOUT);
	return 0;
}

static void hc_send(struct http_run *run, struct hconn *c)
{
	ssize_t n = send(c->fd, c->out + c->sent, c->out_len - c->sent, MSG_NOSIGNAL);

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		if (c->sent == 0)
			hc_fail(run, c, &run->r->connect_errors, "send", errno);
		else
			hc_fail(run, c, &run->r->read_errors, "send", errno);
		return;
	}
	c->sent += (size_t)n;
	if (c->sent < c->out_len) {
		hc_watch(run, c, EPOLLOUT);
		return;
	}
	c->state = HC_HEAD;
	c->head_len = 0;
	hc_watch(run, c, EPOLLIN);
}

/* Starts the connection's next request, if there is one to start. */
static void hc_start(struct http_run *run, struct hconn *c)
{
	const struct http_load_opts *o = run->o;
	int64_t now = clock_mono_us();
	int e;

	if (run->stop_new)
		return;
	if ((o->duration_s > 0 && now - run->t0 >= (int64_t)(o->duration_s * 1e6)) ||
	    (o->max_requests && run->next_seq >= o->max_requests)) {
		run->stop_new = true;
		return;
	}
	if (o->make) {
		strbuf_reset(&c->req);
		e = o->make(o->arg, run->next_seq, &c->req);
		if (e) {
			run->stop_new = true;
			if (e < 0)
				run->gen_err = e;
			return;
		}
		c->out = c->req.buf;
		c->out_len = c->req.len;
	} else {
		c->out = o->fixed;
		c->out_len = o->fixed_len;
	}
	run->next_seq++;
	run->busy++;
	c->sent = 0;
	c->t_start = now;
	c->close_after = false;
	if (c->fd < 0) {
		e = hc_connect(run, c);
		if (e)
			hc_fail(run, c, &run->r->connect_errors, "connect", -e);
		return;
	}
	c->state = HC_SENDING;
	hc_send(run, c);
}

static void hc_done(struct http_run *run, struct hconn *c)
{
	int64_t now = clock_mono_us();
	int cls = c->status / 100;

	run->r->requests++;
	run->r->status[cls >= 1 && cls <= 5 ? cls : 0]++;
	if (cls != 2)
		run->r->last_bad_status = c->status;
	hist_record(&run->r->latency_us, (uint64_t)(now - c->t_start));
	run->t_last = now;
	run->busy--;
	c->state = HC_IDLE;
	if (c->close_after) {
		hc_close(run, c);
		run->r->reconnects++;
	}
	hc_start(run, c);
}

/* Value of header `name` (with its colon) in the head lines, trimmed. */
static bool head_value(const char *head, size_t len, const char *name, const char **v, size_t *vl)
{
	size_t nl = strlen(name);
	const char *p = head, *end = head + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t ll = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (ll > nl && !strncasecmp(p, name, nl)) {
			const char *s = p + nl, *e = p + ll;

			while (s < e && (*s == ' ' || *s == '\t'))
				s++;
			while (e > s && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
				e--;
			*v = s;
			*vl = (size_t)(e - s);
			return true;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return false;
}

static bool contains_ci(const char *s, size_t n, const char *word)
{
	size_t wl = strlen(word);

	for (size_t i = 0; i + wl <= n; i++)
		if (!strncasecmp(s + i, word, wl))
			return true;
	return false;
}

/* The head is complete in c->head[0..len): status and body framing. */
static int parse_head(struct http_run *run, struct hconn *c, size_t len)
{
	const char *h = c->head, *v;
	size_t vl;
	uint64_t status, cl;

	if (len < 12 || strncmp(h, "HTTP/1.", 7) || h[8] != ' ' || parse_u64n(h + 9, 3, &status))
		return COHORT_E_INVAL;
	c->status = (int)status;
	if (run->o->capture)
		strbuf_reset(run->o->capture);
	if (!run->r->server[0] && head_value(h, len, "server:", &v, &vl))
	{
		if (vl >= sizeof(run->r->server))
			vl = sizeof(run->r->server) - 1;
		memcpy(run->r->server, v, vl);
		run->r->server[vl] = '\0';
	}
	if (head_value(h, len, "connection:", &v, &vl) && contains_ci(v, vl, "close"))
		c->close_after = true;
	if (!strncmp(h, "HTTP/1.0", 8) &&
	    !(head_value(h, len, "connection:", &v, &vl) && contains_ci(v, vl, "keep-alive")))
		c->close_after = true;
	if (status == 204 || status == 304 || status / 100 == 1) {
		c->state = HC_BODY;
		c->remaining = 0;
	} else if (head_value(h, len, "transfer-encoding:", &v, &vl) && contains_ci(v, vl, "chunked")) {
		c->state = HC_CHUNK_SIZE;
		c->line_len = 0;
	} else if (head_value(h, len, "content-length:", &v, &vl)) {
		if (parse_u64n(v, vl, &cl))
			return COHORT_E_INVAL;
		c->state = HC_BODY;
		c->remaining = cl;
	} else {
		c->state = HC_UNTIL_CLOSE;
		c->close_after = true;
	}
	return 0;
}

/* Collects one CRLF-terminated line into c->line; true when complete. */
static bool take_line(struct hconn *c, const char **p, const char *end, int *err)
{
	while (*p < end) {
		char ch = *(*p)++;

		if (ch == '\n') {
			if (c->line_len && c->line[c->line_len - 1] == '\r')
				c->line_len--;
			c->line[c->line_len] = '\0';
			return true;
		}
		if (c->line_len + 1 >= sizeof(c->line)) {
			*err = COHORT_E_INVAL;
			return false;
		}
		c->line[c->line_len++] = ch;
	}
	return false;
}

/* Feeds response bytes; 0, 1 when the response ended, or COHORT_E_INVAL. */
static int feed(struct http_run *run, struct hconn *c, const char *p, size_t n)
{
	const char *end = p + n;
	int err = 0;

	while (p < end) {
		switch (c->state) {
		case HC_HEAD: {
			size_t take = (size_t)(end - p), old = c->head_len;
			char *e;

			if (take > HTTP_HEAD_MAX - c->head_len)
				take = HTTP_HEAD_MAX - c->head_len;
			memcpy(c->head + c->head_len, p, take);
			c->head_len += take;
			e = memmem(c->head, c->head_len, "\r\n\r\n", 4);
			if (!e) {
				if (c->head_len == HTTP_HEAD_MAX)
					return COHORT_E_INVAL;
				p += take;
				break;
			}
			/* Only the bytes up to the blank line belong to the head. */
			p += (size_t)(e + 4 - c->head) - old;
			if ((err = parse_head(run, c, (size_t)(e + 4 - c->head))))
				return err;
			if (c->state == HC_BODY && c->remaining == 0)
				return p == end ? 1 : COHORT_E_INVAL;
			break;
		}
		case HC_BODY:
		case HC_CHUNK_DATA: {
			size_t take = (size_t)(end - p);

			if (take > c->remaining)
				take = (size_t)c->remaining;
			c->remaining -= take;
			run->r->body_bytes += take;
			if (run->o->capture)
				strbuf_add(run->o->capture, p, take);
			p += take;
			if (c->remaining)
				break;
			if (c->state == HC_BODY)
				return p == end ? 1 : COHORT_E_INVAL;
			c->state = HC_CHUNK_END;
			c->line_len = 0;
			break;
		}
		case HC_UNTIL_CLOSE:
			run->r->body_bytes += (size_t)(end - p);
			if (run->o->capture)
				strbuf_add(run->o->capture, p, (size_t)(end - p));
			p = end;
			break;
		case HC_CHUNK_SIZE: {
			uint64_t size = 0;
			size_t i;

			if (!take_line(c, &p, end, &err))
				return err;
			for (i = 0; i < c->line_len && c->line[i] != ';'; i++) {
				char ch = c->line[i];
				int d = ch >= '0' && ch <= '9' ? ch - '0'
					: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
					: ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;

				if (d < 0 || size > (UINT64_MAX >> 4))
					return COHORT_E_INVAL;
				size = size * 16 + (uint64_t)d;
			}
			if (i == 0)
				return COHORT_E_INVAL;
			c->line_len = 0;
			c->remaining = size;
			c->state = size ? HC_CHUNK_DATA : HC_TRAILER;
			break;
		}
		case HC_CHUNK_END:
			if (!take_line(c, &p, end, &err))
				return err;
			if (c->line_len)
				return COHORT_E_INVAL;
			c->state = HC_CHUNK_SIZE;
			break;
		case HC_TRAILER:
			if (!take_line(c, &p, end, &err))
				return err;
			if (c->line_len) {
				c->line_len = 0;
				break;
			}
			return p == end ? 1 : COHORT_E_INVAL;
		case HC_IDLE:
		case HC_CONNECTING:
		case HC_SENDING:
			return COHORT_E_INVAL;
		}
	}
	return 0;
}

static void hc_read(struct http_run *run, struct hconn *c)
{
	ssize_t n = read(c->fd, run->rbuf, HTTP_RBUF);
	int r;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (n == 0 && c->state == HC_UNTIL_CLOSE) {
			hc_done(run, c);
		} else if (n == 0 && c->state == HC_HEAD && c->head_len == 0) {
			/* A kept-alive connection the server had closed before
			 * our request reached it: it never saw the request. */
			int e;

			hc_close(run, c);
			run->r->reconnects++;
			c->sent = 0;
			e = hc_connect(run, c);
			if (e)
				hc_fail(run, c, &run->r->connect_errors, "connect", -e);
		} else if (n == 0) {
			hc_fail(run, c, &run->r->closed, "closed by the server mid-response", 0);
		} else {
			hc_fail(run, c, &run->r->read_errors, "read", errno);
		}
		return;
	}
	run->r->bytes += (uint64_t)n;
	r = feed(run, c, run->rbuf, (size_t)n);
	if (r == 1)
		hc_done(run, c);
	else if (r < 0)
		hc_fail(run, c, &run->r->parse_errors, "bad HTTP response", 0);
}

static void hc_ready(struct http_run *run, struct hconn *c, uint32_t events)
{
	int e = 0;
	socklen_t l = sizeof(e);

	switch (c->state) {
	case HC_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l) || e) {
			hc_fail(run, c, &run->r->connect_errors, "connect", e);
			return;
		}
		c->state = HC_SENDING;
		c->t_start = clock_mono_us();
		/* fall through */
	case HC_SENDING:
		hc_send(run, c);
		return;
	case HC_HEAD:
	case HC_BODY:
	case HC_UNTIL_CLOSE:
	case HC_CHUNK_SIZE:
	case HC_CHUNK_DATA:
	case HC_CHUNK_END:
	case HC_TRAILER:
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			hc_read(run, c);
		return;
	case HC_IDLE:
		/* A kept-alive connection closed (or spoke) between requests. */
		hc_close(run, c);
		return;
	}
}

static void sweep(struct http_run *run, int64_t now)
{
	int64_t limit = (int64_t)run->o->timeout_ms * 1000;

	for (int i = 0; i < run->o->conns; i++) {
		struct hconn *c = &run->c[i];

		if (c->state != HC_IDLE && now - c->t_start > limit)
			hc_fail(run, c, &run->r->timeouts, "request timed out", 0);
	}
}

uint64_t http_load_errors(const struct http_load_result *r)
{
	return r->connect_errors + r->read_errors + r->parse_errors + r->timeouts + r->closed +
	       r->status[0] + r->status[1] + r->status[3] + r->status[4] + r->status[5];
}

int http_load_run(const struct http_load_opts *o, struct http_load_result *r)
{
	struct http_run run = { .o = o, .r = r, .epfd = -1 };
	struct epoll_event evs[HTTP_EPOLL_BATCH];
	int64_t last_sweep, hard_end;
	int err = 0;

	memset(r, 0, sizeof(*r));
	hist_init(&r->latency_us);
	if (o->conns < 1 || o->conns > HTTP_MAX_CONNS || o->timeout_ms < 1 ||
	    (!o->make && (!o->fixed || !o->fixed_len)) || (o->duration_s <= 0 && !o->max_requests))
		return COHORT_E_INVAL;
	run.c = calloc((size_t)o->conns, sizeof(*run.c));
	run.rbuf = malloc(HTTP_RBUF);
	run.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!run.c || !run.rbuf || run.epfd < 0) {
		err = COHORT_E_NOMEM;
		goto out;
	}
	for (int i = 0; i < o->conns; i++) {
		run.c[i].fd = -1;
		strbuf_init(&run.c[i].req, HTTP_MAX_REQUEST);
		if (!(run.c[i].head = malloc(HTTP_HEAD_MAX))) {
			err = COHORT_E_NOMEM;
			goto out;
		}
	}
	run.t0 = run.t_last = last_sweep = clock_mono_us();
	for (int i = 0; i < o->conns; i++)
		hc_start(&run, &run.c[i]);
	hard_end = run.t0 + (int64_t)(o->duration_s * 1e6) + (int64_t)o->timeout_ms * 1000 + 1000000;
	while (run.busy) {
		int n = epoll_wait(run.epfd, evs, HTTP_EPOLL_BATCH, 50);
		int64_t now;

		if (n < 0 && errno != EINTR) {
			err = COHORT_E_IO;
			goto out;
		}
		for (int i = 0; i < n; i++)
			hc_ready(&run, evs[i].data.ptr, evs[i].events);
		now = clock_mono_us();
		if (now - last_sweep > 100000) {
			sweep(&run, now);
			last_sweep = now;
		}
		if (o->duration_s > 0 && now > hard_end)
			sweep(&run, INT64_MAX);
		/* Connections left idle by a failure pick up work again. */
		for (int i = 0; !run.stop_new && i < o->conns; i++)
			if (run.c[i].state == HC_IDLE && run.c[i].fd < 0 && run.busy < (size_t)o->conns)
				hc_start(&run, &run.c[i]);
	}
	r->wall_s = (double)(run.t_last - run.t0) / 1e6;
	if (r->wall_s > 0)
		r->rps = (double)r->requests / r->wall_s;
	err = run.gen_err;
out:
	for (int i = 0; run.c && i < o->conns; i++) {
		if (run.c[i].fd >= 0)
			close(run.c[i].fd);
		strbuf_release(&run.c[i].req);
		free(run.c[i].head);
	}
	if (run.epfd >= 0)
		close(run.epfd);
	free(run.c);
	free(run.rbuf);
	return err;
}
