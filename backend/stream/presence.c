/*
 * DESIGN: the process keeps a list of its present connections and two
 * timers. The heartbeat touches every member (the score moves to now +
 * presence.ttl_s); the sweep runs the sweep script once per distinct
 * lesson. Requests go through the feed's command connection, which re-sends
 * them after a reconnect; every script is safe to run twice (a touch sets,
 * a leave removes, a sweep re-evaluates). A sweep round starts only when the
 * previous one has answered, so a slow Redis is not flooded.
 *
 * Members are "<user>|<instance>|<conn id>|<client>" with a random instance
 * id per process, so two streamers never share a member.
 */
#include "stream/presence.h"
#include "stream/conn.h"
#include "stream/feed.h"
#include "stream/metrics.h"
#include "stream/server.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/course.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/presence.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct presence_conn {
	struct conn *c;
	struct presence_conn *prev, *next; /* the process's list of present connections */
	int64_t lesson;                    /* wanted, or present in */
	bool present;                      /* authorized, named and touched */
	char client[PRESENCE_CLIENT_MAX + 1];
	int64_t project;
	char *file;
	char name[NICKNAME_MAX_BYTES + 1];
	char member[PRESENCE_MEMBER_MAX];
	/* What the client asked for last, until acl.c's check answers. */
	bool want;
	int64_t wlesson, wproject;
	char wclient[PRESENCE_CLIENT_MAX + 1];
	char *wfile;
};

struct presence {
	struct server *srv;
	struct feed *feed;
	char instance[IDS_REQUEST_LEN + 1];
	struct presence_conn *list;
	size_t count;
	uv_timer_t hb, sweep;
	int open_timers;
	unsigned sweeps_inflight;
	/* Lessons a connection left lately: swept until the grace period is
	 * surely over, even when no connection of this process is present in
	 * them any more (else nobody would announce the offline). */
	struct lingering { int64_t lesson; uint64_t until_ms; } *linger;
	size_t nlinger, alinger;
	uint64_t next_member; /* member ids: unique per process */
};

int presence_new(struct presence **out, struct server *srv)
{
	struct presence *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return COHORT_E_NOMEM;
	p->srv = srv;
	ids_request(p->instance);
	*out = p;
	return 0;
}

static void call_base(const struct presence *p, struct presence_call *call)
{
	const struct cohort_config *cfg = p->srv->cfg;

	memset(call, 0, sizeof(*call));
	call->now_us = clock_wall_us();
	call->ttl_ms = (long)cfg->presence_ttl_s * 1000;
	call->grace_ms = (long)cfg->presence_grace_s * 1000;
	call->maxlen = cfg->events_maxlen;
}

static void on_reply(void *arg, int err, const struct redisReply *r)
{
	(void)arg;
	/* The next heartbeat or sweep repeats the work. */
	if (err)
		log_warn("presence_failed", LF_S("error", r && r->type == REDIS_REPLY_ERROR ? r->str : "no answer"));
}

static void run(struct presence *p, enum presence_op op, const struct presence_call *call, feed_reply_fn *cb,
		void *arg)
{
	struct presence_cmd cmd;

	void *q = NULL;

	if (p->feed && !presence_cmd_build(&cmd, op, call))
		q = feed_command(p->feed, cmd.argc, cmd.argv, cmd.lens, cb, arg);
	if (!q && cb != on_reply)
		cb(arg, COHORT_E_UNAVAILABLE, NULL);
}

static void touch(struct presence *p, struct presence_conn *pc)
{
	struct presence_call call;

	call_base(p, &call);
	call.lesson_id = pc->lesson;
	call.user_id = pc->c->user_id;
	call.member = pc->member;
	call.login = pc->c->login ? pc->c->login : "";
	call.name = pc->name;
	call.client = pc->client;
	call.project = pc->project;
	call.file = pc->file;
	call.where = pc->project || pc->file;
	run(p, PRESENCE_TOUCH, &call, on_reply, NULL);
}

static void leave(struct presence *p, struct presence_conn *pc)
{
	struct presence_call call;

	call_base(p, &call);
	call.lesson_id = pc->lesson;
	call.user_id = pc->c->user_id;
	call.member = pc->member;
	run(p, PRESENCE_LEAVE, &call, on_reply, NULL);
}

static uint64_t mono_ms(void)
{
	return (uint64_t)(clock_mono_us() / 1000);
}

static void linger(struct presence *p, int64_t lesson)
{
	const struct cohort_config *cfg = p->srv->cfg;
	uint64_t until = mono_ms() + (uint64_t)cfg->presence_grace_s * 1000 + 3 * (uint64_t)cfg->presence_sweep_ms;

	for (size_t i = 0; i < p->nlinger; i++)
		if (p->linger[i].lesson == lesson) {
			p->linger[i].until_ms = until;
			return;
		}
	if (p->nlinger == p->alinger) {
		size_t na = p->alinger ? p->alinger * 2 : 8;
		struct lingering *nl = realloc(p->linger, na * sizeof(*nl));

		if (!nl)
			return; /* the API's roster sweeps too */
		p->linger = nl;
		p->alinger = na;
	}
	p->linger[p->nlinger].lesson = lesson;
	p->linger[p->nlinger].until_ms = until;
	p->nlinger++;
}

static void unlist(struct presence *p, struct presence_conn *pc)
{
	if (!pc->present)
		return;
	leave(p, pc);
	linger(p, pc->lesson);
	pc->present = false;
	stream_metrics.presence_conns--;
	if (pc->prev)
		pc->prev->next = pc->next;
	else
		p->list = pc->next;
	if (pc->next)
		pc->next->prev = pc->prev;
	pc->prev = pc->next = NULL;
	p->count--;
}

static int set_member(struct presence *p, struct presence_conn *pc)
{
	return presence_member(pc->member, sizeof(pc->member), pc->c->user_id, p->instance, ++p->next_member,
			       pc->client);
}

int presence_want(struct conn *c, int64_t lesson, const char *client, int64_t project, const char *file)
{
	struct presence_conn *pc = c->pres;
	char *f = NULL;

	if (!pc) {
		pc = c->pres = calloc(1, sizeof(*pc));
		if (!pc)
			return COHORT_E_NOMEM;
		pc->c = c;
	}
	if (file && !(f = strdup(file)))
		return COHORT_E_NOMEM;
	free(pc->wfile);
	pc->wfile = f;
	pc->want = true;
	pc->wlesson = lesson;
	pc->wproject = project;
	snprintf(pc->wclient, sizeof(pc->wclient), "%s", client ? client : "");
	return 0;
}

int64_t presence_waiting(const struct conn *c)
{
	const struct presence_conn *pc = c->pres;

	return pc && pc->want ? pc->wlesson : 0;
}

int64_t presence_waiting_project(const struct conn *c)
{
	const struct presence_conn *pc = c->pres;

	return pc && pc->want ? pc->wproject : 0;
}

int64_t presence_lesson(const struct conn *c)
{
	const struct presence_conn *pc = c->pres;

	return pc && pc->present ? pc->lesson : 0;
}

void presence_named(struct conn *c, int64_t lesson, int64_t project, int err, const char *name)
{
	struct presence *p = c->srv->presence;
	struct presence_conn *pc = c->pres;
	bool same_session;

	if (!pc || !pc->want || pc->wlesson != lesson || pc->wproject != project || conn_dead(c))
		return;
	pc->want = false;
	if (err) {
		log_info("presence_refused", LF_I("user", c->user_id), LF_I("lesson", lesson), LF_I("project", project),
			 LF_S("code", cohort_errcode(err)));
		free(pc->wfile);
		pc->wfile = NULL;
		if (c->transport == TRANSPORT_WS)
			conn_ws_error(c, err, project ? "presence in this lesson at this project is not allowed"
						      : "presence in this lesson is not allowed");
		return; /* an earlier presence stays as it was */
	}
	same_session = pc->present && pc->lesson == lesson && !strcmp(pc->client, pc->wclient);
	if (!same_session)
		unlist(p, pc); /* another lesson or editor session: leave the old one */
	pc->lesson = lesson;
	pc->project = project;
	free(pc->file);
	pc->file = pc->wfile;
	pc->wfile = NULL;
	memcpy(pc->client, pc->wclient, sizeof(pc->client));
	snprintf(pc->name, sizeof(pc->name), "%s", name ? name : "");
	if (same_session) {
		touch(p, pc); /* a new place publishes `moved` */
		return;
	}
	if (set_member(p, pc))
		return;
	pc->present = true;
	stream_metrics.presence_conns++;
	pc->next = p->list;
	if (p->list)
		p->list->prev = pc;
	p->list = pc;
	p->count++;
	touch(p, pc);
}

void presence_conn_free(struct conn *c)
{
	struct presence_conn *pc = c->pres;

	if (!pc)
		return;
	unlist(c->srv->presence, pc);
	free(pc->wfile);
	free(pc->file);
	free(pc);
	c->pres = NULL;
}

/* ---- timers ---- */

static void hb_cb(uv_timer_t *t)
{
	struct presence *p = t->data;

	for (struct presence_conn *pc = p->list; pc; pc = pc->next)
		touch(p, pc);
}

static void swept(void *arg, int err, const struct redisReply *r)
{
	struct presence *p = arg;

	(void)err;
	(void)r;
	if (p->sweeps_inflight)
		p->sweeps_inflight--;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void sweep_cb(uv_timer_t *t)
{
	struct presence *p = t->data;
	struct presence_call call;
	int64_t *lessons;
	size_t n = 0;

	uint64_t now = mono_ms();

	for (size_t i = 0; i < p->nlinger;) {
		if (p->linger[i].until_ms < now)
			p->linger[i] = p->linger[--p->nlinger];
		else
			i++;
	}
	if (p->sweeps_inflight || !(p->count + p->nlinger))
		return;
	lessons = malloc((p->count + p->nlinger) * sizeof(*lessons));
	if (!lessons)
		return;
	for (struct presence_conn *pc = p->list; pc && n < p->count; pc = pc->next)
		lessons[n++] = pc->lesson;
	for (size_t i = 0; i < p->nlinger; i++)
		lessons[n++] = p->linger[i].lesson;
	qsort(lessons, n, sizeof(*lessons), cmp_i64);
	call_base(p, &call);
	for (size_t i = 0; i < n; i++) {
		if (i && lessons[i] == lessons[i - 1])
			continue;
		call.lesson_id = lessons[i];
		p->sweeps_inflight++;
		run(p, PRESENCE_SWEEP, &call, swept, p);
	}
	free(lessons);
}

void presence_set_feed(struct presence *p, struct feed *f)
{
	const struct cohort_config *cfg = p->srv->cfg;
	uint64_t hb = (uint64_t)cfg->presence_heartbeat_s * 1000, sw = (uint64_t)cfg->presence_sweep_ms;

	p->feed = f;
	uv_timer_init(p->srv->loop, &p->hb);
	uv_timer_init(p->srv->loop, &p->sweep);
	p->hb.data = p->sweep.data = p;
	p->open_timers = 2;
	uv_timer_start(&p->hb, hb_cb, hb, hb);
	uv_timer_start(&p->sweep, sweep_cb, sw, sw);
}

static void timer_closed(uv_handle_t *h)
{
	struct presence *p = h->data;

	p->open_timers--;
}

void presence_stop(struct presence *p)
{
	if (!p)
		return;
	p->feed = NULL; /* freed next: nothing is sent from here on */
	if (!p->open_timers || uv_is_closing((uv_handle_t *)&p->hb))
		return;
	uv_close((uv_handle_t *)&p->hb, timer_closed);
	uv_close((uv_handle_t *)&p->sweep, timer_closed);
}

void presence_free(struct presence *p)
{
	if (p)
		free(p->linger);
	free(p);
}
