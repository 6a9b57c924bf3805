/*
 * bench_pub.c — paced, pipelined XADD publisher.
 *
 * The schedule is fixed in advance: event k is due at start + k / rate and
 * goes to stream k mod M. The loop sends every event that is due (up to
 * max_pipeline per round trip) and sleeps until the next one, so the rate
 * holds even when a round trip is slow, and the events of one tick are
 * spread over the streams rather than bunched on one. The timestamp in an
 * event is taken when its command is built, a few microseconds before the
 * pipeline is written.
 */
#include "cli/bench_pub.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/event.h"
#include "core/scope.h"
#include "core/strbuf.h"

#include <hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

struct pub_ctx {
	redisContext *rc;
	char **keys;
	char *pad;
	struct strbuf ev;
	char maxlen[24];
};

static void sleep_until_mono(int64_t t_us)
{
	struct timespec ts = { .tv_sec = t_us / 1000000, .tv_nsec = (t_us % 1000000) * 1000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
		;
}

static int append_event(struct bench_pub *p, struct pub_ctx *x, uint64_t k, bool measured)
{
	size_t s = (size_t)(k % p->o.nstreams);
	uint64_t seq = k / p->o.nstreams;
	char data[160];
	struct strbuf d = STRBUF_INIT;
	struct event ev = { 0 };
	const char *argv[8];
	size_t lens[8];
	int64_t now = clock_wall_us();
	int n, err;

	n = snprintf(data, sizeof(data),
		     "{\"bench_us\":%" PRId64 ",\"bench_stream\":%zu,\"bench_seq\":%" PRIu64
		     ",\"bench_m\":%d,\"pad\":\"",
		     now, s, seq, measured ? 1 : 0);
	if (n < 0 || (size_t)n >= sizeof(data))
		return COHORT_E_INTERNAL;
	err = strbuf_add(&d, data, (size_t)n);
	err = err ? err : strbuf_add(&d, x->pad, p->o.payload);
	err = err ? err : strbuf_adds(&d, "\"}");
	if (err)
		goto out;
	ev.type = "bench";
	ev.stream = p->o.scopes[s].name;
	ev.version = -1;
	ev.actor_user = "bench";
	ev.ts_recv = ev.ts_pub = now;
	ev.data_json = d.buf;
	strbuf_reset(&x->ev);
	if ((err = event_encode_stored(&x->ev, &ev)))
		goto out;
	p->event_bytes = x->ev.len;
	argv[0] = "XADD";
	argv[1] = x->keys[s];
	argv[2] = "MAXLEN";
	argv[3] = "~";
	argv[4] = x->maxlen;
	argv[5] = "*";
	argv[6] = EVENT_FIELD;
	argv[7] = x->ev.buf;
	for (int i = 0; i < 7; i++)
		lens[i] = strlen(argv[i]);
	lens[7] = x->ev.len;
	if (redisAppendCommandArgv(x->rc, 8, argv, lens) != REDIS_OK) {
		err = COHORT_E_NOMEM;
		goto out;
	}
	p->published[s]++;
	if (measured)
		p->published_measured[s]++;
out:
	strbuf_release(&d);
	return err;
}

static int read_replies(struct bench_pub *p, struct pub_ctx *x, int n)
{
	for (int i = 0; i < n; i++) {
		redisReply *r = NULL;

		if (redisGetReply(x->rc, (void **)&r) != REDIS_OK) {
			snprintf(p->err, sizeof(p->err), "redis: %s", x->rc->errstr);
			return COHORT_E_REDIS;
		}
		if (r->type == REDIS_REPLY_ERROR) {
			if (!p->errors)
				snprintf(p->err, sizeof(p->err), "XADD: %s", r->str);
			p->errors++;
		}
		freeReplyObject(r);
	}
	return 0;
}

static void *pub_main(void *arg)
{
	struct bench_pub *p = arg;
	struct pub_ctx *x = p->ctx;
	uint64_t total = (uint64_t)((p->o.warmup_s + p->o.duration_s) * p->o.rate);
	uint64_t warm = (uint64_t)(p->o.warmup_s * p->o.rate);
	double us_per_ev = 1e6 / p->o.rate;
	int64_t t0;
	uint64_t k = 0;

	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	t0 = clock_mono_us();
	while (k < total && !atomic_load(&p->stop)) {
		int64_t now = clock_mono_us();
		uint64_t due = (uint64_t)((double)(now - t0) / us_per_ev) + 1;
		int64_t lag;
		int n = 0;

		if (due > total)
			due = total;
		if (due <= k) {
			sleep_until_mono(t0 + (int64_t)((double)k * us_per_ev));
			continue;
		}
		lag = now - (t0 + (int64_t)((double)k * us_per_ev));
		if (lag > p->max_lag_us)
			p->max_lag_us = lag;
		while (k < due && n < p->o.max_pipeline) {
			bool measured = k >= warm;

			if (measured && !p->measure_start_us)
				p->measure_start_us = clock_wall_us();
			if (append_event(p, x, k, measured)) {
				snprintf(p->err, sizeof(p->err), "cannot build event");
				goto out;
			}
			if (measured)
				p->measured++;
			p->total++;
			k++;
			n++;
		}
		p->round_trips++;
		if (read_replies(p, x, n))
			goto out;
	}
	p->measure_end_us = clock_wall_us();
out:
	if (!p->measure_end_us)
		p->measure_end_us = clock_wall_us();
	atomic_store(&p->done, true);
	return NULL;
}

static void ctx_free(struct pub_ctx *x, size_t nstreams)
{
	if (!x)
		return;
	if (x->rc)
		redisFree(x->rc);
	for (size_t i = 0; x->keys && i < nstreams; i++)
		free(x->keys[i]);
	free(x->keys);
	free(x->pad);
	strbuf_release(&x->ev);
	free(x);
}

static struct pub_ctx *ctx_new(struct bench_pub *p)
{
	struct pub_ctx *x = calloc(1, sizeof(*x));
	struct timeval tv = { 2, 0 };

	if (!x)
		return NULL;
	strbuf_init(&x->ev, EVENT_DATA_MAX * 2);
	snprintf(x->maxlen, sizeof(x->maxlen), "%ld", p->o.maxlen);
	x->keys = calloc(p->o.nstreams, sizeof(*x->keys));
	x->pad = malloc(p->o.payload + 1);
	if (!x->keys || !x->pad)
		goto fail;
	memset(x->pad, 'x', p->o.payload);
	x->pad[p->o.payload] = '\0';
	for (size_t i = 0; i < p->o.nstreams; i++) {
		char key[256];

		if (scope_stream_key(&p->o.scopes[i], key, sizeof(key)))
			goto fail;
		if (!(x->keys[i] = strdup(key)))
			goto fail;
	}
	x->rc = redisConnectWithTimeout(p->o.redis_host, p->o.redis_port, tv);
	if (!x->rc || x->rc->err) {
		snprintf(p->err, sizeof(p->err), "cannot connect to Redis %s:%d: %s", p->o.redis_host,
			 p->o.redis_port, x->rc ? x->rc->errstr : "out of memory");
		goto fail;
	}
	tv.tv_sec = 10;
	redisSetTimeout(x->rc, tv);
	return x;
fail:
	if (!p->err[0])
		snprintf(p->err, sizeof(p->err), "cannot set up the publisher");
	ctx_free(x, p->o.nstreams);
	return NULL;
}

int bench_pub_start(struct bench_pub *p, const struct bench_pub_opts *o)
{
	memset(p, 0, sizeof(*p));
	p->o = *o;
	if (!o->nstreams || o->rate <= 0 || o->max_pipeline < 1) {
		snprintf(p->err, sizeof(p->err), "invalid publisher options");
		return COHORT_E_INVAL;
	}
	p->published = calloc(o->nstreams, sizeof(*p->published));
	p->published_measured = calloc(o->nstreams, sizeof(*p->published_measured));
	if (!p->published || !p->published_measured)
		return COHORT_E_NOMEM;
	if (!(p->ctx = ctx_new(p)))
		return COHORT_E_REDIS;
	if (pthread_create(&p->thread, NULL, pub_main, p)) {
		snprintf(p->err, sizeof(p->err), "cannot start the publisher thread");
		return COHORT_E_INTERNAL;
	}
	p->started = true;
	return 0;
}

int bench_pub_join(struct bench_pub *p, bool abort)
{
	if (!p->started)
		return COHORT_E_INVAL;
	if (abort)
		atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	p->started = false;
	return p->err[0] ? COHORT_E_REDIS : 0;
}

void bench_pub_release(struct bench_pub *p)
{
	if (!p)
		return;
	if (p->started)
		bench_pub_join(p, true);
	ctx_free(p->ctx, p->o.nstreams);
	p->ctx = NULL;
	free(p->published);
	free(p->published_measured);
	p->published = p->published_measured = NULL;
}

