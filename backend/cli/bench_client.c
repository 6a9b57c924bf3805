/*
 * bench_client.c — the subscriber side of a fanout run.
 *
 * DESIGN: level-triggered epoll, one read per ready socket per wakeup, into
 * the thread's one read buffer (fair between connections and cheap: a busy
 * connection is drained over several wakeups rather than starving others).
 * Per connection we keep only the parser (lazy, small), the last id and
 * sequence number seen and a delivery count, so 10,000 connections cost the
 * bench about 2 MB. Receive time is read right after each read returns, so
 * parse time never counts as latency.
 */
#include "cli/bench_client.h"
#include "cli/bench_sse.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/num.h"
#include "core/scope.h"
#include "core/streamid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define RBUF_SIZE (256 * 1024)
#define EPOLL_BATCH 256
#define SWEEP_US 100000

enum conn_state {
	CS_NEW,
	CS_CONNECTING,
	CS_SENDING,
	CS_HEAD,
	CS_STREAM,
	CS_CLOSED, /* was connected, then closed */
	CS_FAILED, /* never connected */
};

struct bench_conn {
	struct sse_parser p;
	struct stream_id last_id;
	int64_t last_seq; /* -1 before the first event */
	int64_t t_start;  /* monotonic, when connect() was called */
	uint64_t delivered;
	int fd;
	uint32_t stream;
	uint16_t sent;
	uint8_t state;
	bool have_id;
};

struct bench_thread {
	struct bench_clients *bc;
	pthread_t th;
	bool started;
	int epfd;
	int index;
	size_t first, count; /* our slice of bc->conns */
	size_t next;         /* index in the slice of the next connection to open */
	size_t inflight;     /* opened, not yet resolved */
	char *rbuf;
	int64_t now_wall;    /* wall time right after the current read */
	struct hist lat;
	struct hist conn;
	struct bench_counts c;
	uint64_t *timeline;
	char server[64];
	atomic_uint_least64_t resolved;
	atomic_uint_least64_t connected;
	atomic_uint_least64_t delivered;
};

struct ev_ctx {
	struct bench_thread *t;
	struct bench_conn *c;
};

enum { STOP_STATUS = 1, STOP_TYPE = 2 };

/* ---- event checks ------------------------------------------------------ */

/* Finds "key" (with its quotes and colon) in data and parses the integer
 * after it. Good enough for our own flat data object. */
static bool data_int(const char *d, size_t n, const char *key, int64_t *out)
{
	size_t kl = strlen(key), i, j;
	const char *k = memmem(d, n, key, kl);
	bool neg = false;
	uint64_t v;

	if (!k)
		return false;
	i = (size_t)(k - d) + kl;
	if (i < n && d[i] == '-') {
		neg = true;
		i++;
	}
	for (j = i; j < n && d[j] >= '0' && d[j] <= '9'; j++)
		;
	if (parse_u64n(d + i, j - i, &v) || v > INT64_MAX)
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

struct id_find {
	const char *want;
	size_t want_len;
	struct stream_id id;
};

static int id_item(const struct position_item *it, void *arg)
{
	struct id_find *f = arg;

	if (it->scope_len != f->want_len || memcmp(it->scope, f->want, f->want_len))
		return 0;
	f->id = it->id;
	return 1;
}

/* Our stream's position in the SSE id: a composite "scope=ms-seq,..." or a
 * bare "ms-seq". */
static bool id_position(const struct sse_event *ev, const struct scope *sc, struct stream_id *out)
{
	struct id_find f = { sc->name, strlen(sc->name), { 0, 0 } };

	if (!ev->id_len)
		return false;
	if (!memchr(ev->id, '=', ev->id_len))
		return stream_id_parse(ev->id, ev->id_len, out) == 0;
	if (position_parse(ev->id, ev->id_len, id_item, &f) != 1)
		return false;
	*out = f.id;
	return true;
}

static void timeline_add(struct bench_thread *t)
{
	int64_t slot = (t->now_wall - t->bc->o.origin_us) / TIMELINE_STEP_US;

	if (slot >= 0 && slot < TIMELINE_MAX)
		t->timeline[slot]++;
}

static int on_event(void *arg, const struct sse_event *ev)
{
	struct ev_ctx *x = arg;
	struct bench_thread *t = x->t;
	struct bench_conn *c = x->c;
	int64_t us, sidx, seq, m = 0, lat;
	struct stream_id id;
	bool dup = false;

	t->c.events++;
	if (t->bc->o.on_event) {
		if (ev->type_len == 5 && !memcmp(ev->type, "reset", 5))
			t->c.resets++;
		if (!t->bc->o.on_event(t->bc->o.event_arg, t->index, (size_t)(c - t->bc->conns), ev,
				       t->now_wall))
			return 0;
		c->delivered++;
		t->c.delivered++;
		atomic_store_explicit(&t->delivered, t->c.delivered, memory_order_relaxed);
		timeline_add(t);
		return 0;
	}
	if (!data_int(ev->data, ev->data_len, "\"bench_us\":", &us) ||
	    !data_int(ev->data, ev->data_len, "\"bench_stream\":", &sidx) ||
	    !data_int(ev->data, ev->data_len, "\"bench_seq\":", &seq)) {
		t->c.foreign++;
		if (ev->type_len == 5 && !memcmp(ev->type, "reset", 5))
			t->c.resets++;
		return 0;
	}
	data_int(ev->data, ev->data_len, "\"bench_m\":", &m);
	if (sidx != (int64_t)c->stream) {
		t->c.wrong_stream++;
		return 0;
	}
	/* Order and duplicates by the id the client would resume from. */
	if (id_position(ev, &t->bc->o.scopes[c->stream], &id)) {
		int cmp = c->have_id ? stream_id_cmp(&id, &c->last_id) : 1;

		if (cmp == 0) {
			t->c.duplicates++;
			dup = true;
		} else if (cmp < 0) {
			t->c.out_of_order++;
		} else {
			c->last_id = id;
			c->have_id = true;
		}
	} else {
		t->c.bad_ids++;
		if (seq == c->last_seq) {
			t->c.duplicates++;
			dup = true;
		} else if (seq < c->last_seq) {
			t->c.out_of_order++;
		}
	}
	if (dup)
		return 0;
	/* Loss by the sequence number the publisher gave the event. */
	if (seq > c->last_seq) {
		t->c.gaps += (uint64_t)(seq - c->last_seq - 1);
		c->last_seq = seq;
	}
	c->delivered++;
	t->c.delivered++;
	atomic_store_explicit(&t->delivered, t->c.delivered, memory_order_relaxed);
	lat = t->now_wall - us;
	if (lat < 0) {
		t->c.negative_latency++;
		lat = 0;
	}
	if (m) {
		t->c.delivered_measured++;
		hist_record(&t->lat, (uint64_t)lat);
	}
	timeline_add(t);
	return 0;
}

/* ---- connection life --------------------------------------------------- */

static void resolve(struct bench_thread *t, bool ok)
{
	t->inflight--;
	atomic_fetch_add_explicit(&t->resolved, 1, memory_order_relaxed);
	if (ok)
		atomic_fetch_add_explicit(&t->connected, 1, memory_order_relaxed);
}

static void conn_close(struct bench_conn *c, enum conn_state st)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = (uint8_t)st;
	sse_parser_release(&c->p);
}

/* A connection that never got its head: counted as a connect failure unless
 * the head callback already counted why. */
static void conn_fail(struct bench_thread *t, struct bench_conn *c, bool count)
{
	if (count)
		t->c.connect_failed++;
	resolve(t, false);
	conn_close(c, CS_FAILED);
}

static int on_head(void *arg, const struct sse_parser *p)
{
	struct ev_ctx *x = arg;
	struct bench_thread *t = x->t;
	struct bench_conn *c = x->c;

	if (!t->server[0] && p->server[0])
		snprintf(t->server, sizeof(t->server), "%s", p->server);
	if (p->status != 200) {
		t->c.http_errors++;
		t->c.last_status = p->status;
		return STOP_STATUS;
	}
	if (!p->event_stream) {
		t->c.not_event_stream++;
		return STOP_TYPE;
	}
	c->state = CS_STREAM;
	hist_record(&t->conn, (uint64_t)(clock_mono_us() - c->t_start));
	t->c.connected++;
	resolve(t, true);
	return 0;
}

static const struct sse_callbacks callbacks = { on_head, on_event };

static void conn_read(struct bench_thread *t, struct bench_conn *c)
{
	struct ev_ctx x = { t, c };
	ssize_t n = read(c->fd, t->rbuf, RBUF_SIZE);
	int r;

	if (n > 0) {
		t->now_wall = clock_wall_us();
		t->c.bytes += (uint64_t)n;
		r = sse_parser_feed(&c->p, t->rbuf, (size_t)n, &callbacks, &x);
		if (!r && c->p.state != SSE_S_DONE)
			return;
		if (!r) {
			/* The chunked body ended: through nginx, that is how a
			 * streamer-side close arrives (nginx keeps the client
			 * connection for the next request). An EventSource would
			 * reconnect; for us the subscription is over. */
			t->c.closed++;
			conn_close(c, CS_CLOSED);
			return;
		}
		if (r == STOP_STATUS || r == STOP_TYPE) {
			conn_fail(t, c, false);
			return;
		}
		t->c.parse_errors++;
	} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	} else if (c->state == CS_STREAM) {
		if (n < 0)
			t->c.read_errors++;
		else
			t->c.closed++;
	}
	if (c->state == CS_HEAD)
		conn_fail(t, c, n <= 0);
	else
		conn_close(c, CS_CLOSED);
}

static void conn_send(struct bench_thread *t, struct bench_conn *c)
{
	const char *req = t->bc->requests[c->stream];
	size_t len = t->bc->request_lens[c->stream];
	ssize_t n = send(c->fd, req + c->sent, len - c->sent, MSG_NOSIGNAL);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_fail(t, c, true);
		return;
	}
	c->sent = (uint16_t)(c->sent + n);
	if (c->sent < len)
		return;
	c->state = CS_HEAD;
	if (epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &ev))
		conn_fail(t, c, true);
}

static void conn_open(struct bench_thread *t, struct bench_conn *c)
{
	const struct bench_client_opts *o = &t->bc->o;
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

	sse_parser_init(&c->p, o->max_line);
	c->last_seq = -1;
	c->t_start = clock_mono_us();
	t->inflight++;
	c->fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	if (connect(c->fd, (const struct sockaddr *)&o->addr, o->addrlen) && errno != EINPROGRESS)
		goto fail;
	c->state = CS_CONNECTING;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, c->fd, &ev))
		goto fail;
	return;
fail:
	conn_fail(t, c, true);
}

static void conn_ready(struct bench_thread *t, struct bench_conn *c, uint32_t events)
{
	int e = 0;
	socklen_t l = sizeof(e);

	switch ((enum conn_state)c->state) {
	case CS_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l) || e) {
			conn_fail(t, c, true);
			return;
		}
		c->state = CS_SENDING;
		/* fall through */
	case CS_SENDING:
		conn_send(t, c);
		return;
	case CS_HEAD:
	case CS_STREAM:
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			conn_read(t, c);
		return;
	case CS_NEW:
	case CS_CLOSED:
	case CS_FAILED:
		return;
	}
}

static void sweep_timeouts(struct bench_thread *t, int64_t now)
{
	int64_t limit = (int64_t)t->bc->o.connect_timeout_ms * 1000;

	for (size_t i = 0; i < t->next; i++) {
		struct bench_conn *c = &t->bc->conns[t->first + i];

		if ((c->state == CS_CONNECTING || c->state == CS_SENDING || c->state == CS_HEAD) &&
		    now - c->t_start > limit)
			conn_fail(t, c, true);
	}
}

static void *thread_main(void *arg)
{
	struct bench_thread *t = arg;
	struct epoll_event evs[EPOLL_BATCH];
	int64_t last_sweep = clock_mono_us(), last_wait = 0;
	size_t batch = (size_t)t->bc->o.connect_batch;

	while (!atomic_load_explicit(&t->bc->stop, memory_order_relaxed)) {
		int n;
		int64_t now;

		/* With a read interval, let events pile up in the socket buffers
		 * so one read takes several: fewer system calls per delivery, at
		 * the price of up to that much added latency. */
		if (t->bc->o.read_interval_us > 0) {
			int64_t wait = last_wait + t->bc->o.read_interval_us - clock_mono_us();

			if (wait > 0)
				usleep((useconds_t)wait);
			last_wait = clock_mono_us();
		}
		while (t->inflight < batch && t->next < t->count)
			conn_open(t, &t->bc->conns[t->first + t->next++]);
		n = epoll_wait(t->epfd, evs, EPOLL_BATCH, 10);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++)
			conn_ready(t, evs[i].data.ptr, evs[i].events);
		now = clock_mono_us();
		if (t->inflight && now - last_sweep > SWEEP_US) {
			sweep_timeouts(t, now);
			last_sweep = now;
		}
	}
	for (size_t i = 0; i < t->next; i++) {
		struct bench_conn *c = &t->bc->conns[t->first + i];

		if (c->fd >= 0)
			conn_close(c, c->state == CS_STREAM ? CS_STREAM : CS_FAILED);
	}
	return NULL;
}

/* ---- the set of threads ------------------------------------------------ */

static int build_requests(struct bench_clients *bc)
{
	const struct bench_client_opts *o = &bc->o;

	bc->requests = calloc(o->nstreams, sizeof(*bc->requests));
	bc->request_lens = calloc(o->nstreams, sizeof(*bc->request_lens));
	if (!bc->requests || !bc->request_lens)
		return COHORT_E_NOMEM;
	for (size_t i = 0; i < o->nstreams; i++) {
		char buf[6144];
		int n = snprintf(buf, sizeof(buf),
				 "GET %s?streams=%s HTTP/1.1\r\nHost: %s\r\n"
				 "Accept: text/event-stream\r\nCache-Control: no-cache\r\n"
				 "%s%s%sUser-Agent: cohort-bench\r\n\r\n",
				 o->path, o->scopes[i].name, o->host_header,
				 o->token ? "Authorization: Bearer " : "", o->token ? o->token : "",
				 o->token ? "\r\n" : "");

		if (n < 0 || (size_t)n >= sizeof(buf))
			return COHORT_E_LIMIT;
		if (!(bc->requests[i] = strdup(buf)))
			return COHORT_E_NOMEM;
		bc->request_lens[i] = (size_t)n;
	}
	return 0;
}

int bench_clients_start(struct bench_clients *bc, const struct bench_client_opts *o)
{
	int err;

	memset(bc, 0, sizeof(*bc));
	bc->o = *o;
	if (o->threads < 1 || !o->nstreams || o->connect_batch < 1)
		return COHORT_E_INVAL;
	if ((err = build_requests(bc)))
		return err;
	bc->conns = calloc(o->nconns ? o->nconns : 1, sizeof(*bc->conns));
	bc->threads = calloc((size_t)o->threads, sizeof(*bc->threads));
	if (!bc->conns || !bc->threads)
		return COHORT_E_NOMEM;
	for (int j = 0; j < o->threads; j++)
		bc->threads[j].epfd = -1;
	for (size_t i = 0; i < o->nconns; i++) {
		bc->conns[i].fd = -1;
		bc->conns[i].stream = (uint32_t)(i % o->nstreams);
	}
	for (int j = 0; j < o->threads; j++) {
		struct bench_thread *t = &bc->threads[j];

		t->bc = bc;
		t->index = j;
		t->first = o->nconns * (size_t)j / (size_t)o->threads;
		t->count = o->nconns * (size_t)(j + 1) / (size_t)o->threads - t->first;
		hist_init(&t->lat);
		hist_init(&t->conn);
		t->rbuf = malloc(RBUF_SIZE);
		t->timeline = calloc(TIMELINE_MAX, sizeof(*t->timeline));
		t->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (!t->rbuf || !t->timeline || t->epfd < 0)
			return COHORT_E_NOMEM;
	}
	for (int j = 0; j < o->threads; j++) {
		struct bench_thread *t = &bc->threads[j];

		if (pthread_create(&t->th, NULL, thread_main, t))
			return COHORT_E_INTERNAL;
		t->started = true;
	}
	return 0;
}

#define SUM_ATOMIC(bc, field)                                                                   \
	do {                                                                                    \
		uint64_t s_ = 0;                                                                \
		for (int j_ = 0; bc->threads && j_ < bc->o.threads; j_++)                      \
			s_ += atomic_load_explicit(&bc->threads[j_].field, memory_order_relaxed); \
		return s_;                                                                      \
	} while (0)

uint64_t bench_clients_resolved(struct bench_clients *bc)
{
	SUM_ATOMIC(bc, resolved);
}

uint64_t bench_clients_connected(struct bench_clients *bc)
{
	SUM_ATOMIC(bc, connected);
}

uint64_t bench_clients_delivered(struct bench_clients *bc)
{
	SUM_ATOMIC(bc, delivered);
}

void bench_clients_stop(struct bench_clients *bc)
{
	atomic_store(&bc->stop, true);
	for (int j = 0; bc->threads && j < bc->o.threads; j++) {
		if (bc->threads[j].started)
			pthread_join(bc->threads[j].th, NULL);
		bc->threads[j].started = false;
	}
}

void bench_clients_totals(const struct bench_clients *bc, struct bench_counts *out,
			  struct hist *latency, struct hist *connect)
{
	memset(out, 0, sizeof(*out));
	hist_init(latency);
	hist_init(connect);
	for (int j = 0; bc->threads && j < bc->o.threads; j++) {
		const struct bench_thread *t = &bc->threads[j];
		const struct bench_counts *c = &t->c;

		out->connected += c->connected;
		out->connect_failed += c->connect_failed;
		out->http_errors += c->http_errors;
		out->not_event_stream += c->not_event_stream;
		out->closed += c->closed;
		out->read_errors += c->read_errors;
		out->parse_errors += c->parse_errors;
		out->events += c->events;
		out->foreign += c->foreign;
		out->resets += c->resets;
		out->delivered += c->delivered;
		out->delivered_measured += c->delivered_measured;
		out->duplicates += c->duplicates;
		out->out_of_order += c->out_of_order;
		out->gaps += c->gaps;
		out->wrong_stream += c->wrong_stream;
		out->bad_ids += c->bad_ids;
		out->negative_latency += c->negative_latency;
		out->bytes += c->bytes;
		if (c->last_status)
			out->last_status = c->last_status;
		hist_merge(latency, &t->lat);
		hist_merge(connect, &t->conn);
	}
}

uint64_t *bench_clients_per_stream(const struct bench_clients *bc)
{
	uint64_t *n = calloc(bc->o.nstreams, sizeof(*n));

	for (size_t i = 0; n && bc->conns && i < bc->o.nconns; i++) {
		uint8_t st = bc->conns[i].state;

		if (st == CS_STREAM || st == CS_CLOSED)
			n[bc->conns[i].stream]++;
	}
	return n;
}

void bench_clients_spread(const struct bench_clients *bc, uint64_t *min, uint64_t *max)
{
	*min = UINT64_MAX;
	*max = 0;
	for (size_t i = 0; bc->conns && i < bc->o.nconns; i++) {
		const struct bench_conn *c = &bc->conns[i];

		if (c->state != CS_STREAM && c->state != CS_CLOSED)
			continue;
		if (c->delivered < *min)
			*min = c->delivered;
		if (c->delivered > *max)
			*max = c->delivered;
	}
	if (*min == UINT64_MAX)
		*min = 0;
}

uint64_t *bench_clients_timeline(const struct bench_clients *bc, size_t *len)
{
	uint64_t *tl = calloc(TIMELINE_MAX, sizeof(*tl));
	size_t last = 0;

	if (!tl)
		return NULL;
	for (int j = 0; bc->threads && j < bc->o.threads; j++)
		for (size_t i = 0; bc->threads[j].timeline && i < TIMELINE_MAX; i++) {
			tl[i] += bc->threads[j].timeline[i];
			if (tl[i] && i + 1 > last)
				last = i + 1;
		}
	*len = last;
	return tl;
}

uint64_t bench_clients_received_between(const struct bench_clients *bc, int64_t from_us,
					int64_t to_us)
{
	int64_t a = (from_us - bc->o.origin_us) / TIMELINE_STEP_US;
	int64_t b = (to_us - bc->o.origin_us) / TIMELINE_STEP_US;
	uint64_t sum = 0;

	if (a < 0)
		a = 0;
	if (b > TIMELINE_MAX)
		b = TIMELINE_MAX;
	for (int j = 0; bc->threads && j < bc->o.threads; j++)
		for (int64_t i = a; bc->threads[j].timeline && i < b; i++)
			sum += bc->threads[j].timeline[i];
	return sum;
}

bool bench_clients_conn_ok(const struct bench_clients *bc, size_t i)
{
	return bc->conns && i < bc->o.nconns &&
	       (bc->conns[i].state == CS_STREAM || bc->conns[i].state == CS_CLOSED);
}

const char *bench_clients_server(const struct bench_clients *bc)
{
	for (int j = 0; bc->threads && j < bc->o.threads; j++)
		if (bc->threads[j].server[0])
			return bc->threads[j].server;
	return "";
}

void bench_clients_release(struct bench_clients *bc)
{
	if (!bc)
		return;
	bench_clients_stop(bc);
	for (size_t i = 0; bc->conns && i < bc->o.nconns; i++) {
		if (bc->conns[i].fd >= 0)
			close(bc->conns[i].fd);
		sse_parser_release(&bc->conns[i].p);
	}
	for (int j = 0; bc->threads && j < bc->o.threads; j++) {
		struct bench_thread *t = &bc->threads[j];

		if (t->epfd >= 0)
			close(t->epfd);
		free(t->rbuf);
		free(t->timeline);
	}
	for (size_t i = 0; bc->requests && i < bc->o.nstreams; i++)
		free(bc->requests[i]);
	free(bc->requests);
	free(bc->request_lens);
	free(bc->conns);
	free(bc->threads);
	bc->conns = NULL;
	bc->threads = NULL;
	bc->requests = NULL;
	bc->request_lens = NULL;
}
