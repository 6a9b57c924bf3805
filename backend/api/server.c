/*
 * DESIGN
 *
 * libfcgi ties a request to a connection: FCGX_Accept_r on an FCGX_Request
 * that holds a kept-alive connection (nginx: fastcgi_keep_conn on) blocks
 * reading that connection for the next request. The textbook pool, where
 * each thread owns one FCGX_Request and loops on FCGX_Accept_r, therefore
 * pins every kept-alive connection to one thread. Once the web server holds
 * more connections than there are threads (several nginx workers, several
 * web servers, a burst of concurrent requests), the extra connections sit
 * unaccepted in the backlog while the threads wait on idle ones — requests
 * stall until the web server times out. It also leaves no clean way to stop:
 * a thread blocked in read() on an idle connection never notices SIGTERM.
 *
 * So connections and threads are decoupled. The pool owns a fixed array of
 * connection slots (each an FCGX_Request). The main thread is the only one
 * that waits for readiness (epoll): the signalfd, a wake-up pipe, the
 * listening socket and every idle kept-alive connection. A readable
 * connection (or a pending accept) is queued; any free worker takes it and
 * calls FCGX_Accept_r, which then finds its data already there (or accepts
 * from the non-blocking listening socket, EAGAIN meaning someone else took
 * it). After the response the slot goes back to the poller as idle, or free
 * if the connection closed. When no slot is free (api.max_conns slots) the longest-idle connection
 * is closed to make room. A long request (later: long-poll) occupies one
 * worker, never a connection that another request is waiting on.
 *
 * Connections and the listening socket are registered EPOLLONESHOT, tagged
 * with their slot index: an event disarms its descriptor, and whoever makes
 * the slot idle again re-arms it, under the lock. So a worker hands a
 * kept-alive connection back with one epoll_ctl, without waking the poller
 * (a wake-up, a rebuilt poll set and a poll per request, before); it wakes
 * the poller only when the poller has something to decide (a stop is under
 * way, or the listening socket is disarmed and a slot may now take a new
 * connection). Only the poller enqueues idle slots and only the slot's owner
 * arms it, so an event always belongs to the slot's current connection: a
 * closed descriptor leaves the epoll set with its pending events.
 *
 * Stopping: SIGTERM/SIGINT arrive on the signalfd (the signals are blocked
 * in every thread). The poller stops accepting and stops watching idle
 * connections, waits until no slot is queued or busy, then tells the
 * workers to quit, joins them and closes all connections.
 *
 * ipcFd is read from FCGX_Request (libfcgi documents no accessor for the
 * connection descriptor); it is only read, and only while no worker owns
 * the slot.
 */
#include "api/server.h"
#include "api/worker.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum slot_state {
	SLOT_FREE,   /* no connection */
	SLOT_IDLE,   /* kept-alive connection, watched by the poller */
	SLOT_QUEUED, /* waiting for a worker */
	SLOT_BUSY,   /* a worker owns it */
};

struct slot {
	FCGX_Request fcgx;
	enum slot_state state;
	bool accept;        /* the job is to accept a new connection */
	bool evict;         /* close the idle connection first */
	int64_t idle_since; /* monotonic us */
};

struct server {
	const struct cohort_config *cfg;
	int listen_fd;
	int sig_fd;
	int wake[2]; /* workers → poller: a slot changed state */
	int ep;      /* epoll: the descriptors above and the idle connections */

	pthread_mutex_t lock;
	pthread_cond_t cond; /* the queue has a job, or quit */
	struct slot *slots;
	size_t nslots;
	size_t *queue; /* ring of slot indexes */
	size_t qhead, qlen;
	size_t active; /* queued + busy slots */
	bool accept_pending;
	bool listen_armed; /* the listening socket is watched */
	bool stopping;     /* the poller saw a stop signal */
	bool quit;

	struct worker *workers;
	pthread_t *threads;
	size_t nthreads;
};

struct thread_arg {
	struct server *srv;
	struct worker *w;
};

static void wake_poller(struct server *srv)
{
	char c = 1;
	ssize_t n = write(srv->wake[1], &c, 1);

	(void)n; /* a full pipe already holds a wake-up */
}

/* Called with the lock held. */
static void enqueue(struct server *srv, size_t idx)
{
	BUG_ON(srv->qlen == srv->nslots);
	srv->queue[(srv->qhead + srv->qlen) % srv->nslots] = idx;
	srv->qlen++;
	srv->slots[idx].state = SLOT_QUEUED;
	srv->active++;
	pthread_cond_signal(&srv->cond);
}

/* epoll tags of the descriptors that are not connections (slot indexes are
 * below SIZE_MAX - 3). */
enum { TAG_SIG = 1, TAG_WAKE, TAG_LISTEN };
#define TAG(t) ((uint64_t)SIZE_MAX - (t))

/* (Re)arms fd for one readiness event tagged tag: MOD when it is registered
 * (disarmed by its last event), ADD when it is new. */
static int arm(struct server *srv, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = tag };

	if (epoll_ctl(srv->ep, EPOLL_CTL_MOD, fd, &ev) == 0)
		return 0;
	if (errno == ENOENT && epoll_ctl(srv->ep, EPOLL_CTL_ADD, fd, &ev) == 0)
		return 0;
	return -1;
}

/*
 * A web server that stops sending in the middle of a request body, or stops
 * reading a response, would otherwise hold a worker forever: libfcgi's reads
 * and writes block without a timeout. The socket options make them fail
 * instead, which ends the request and closes the connection.
 */
static void set_io_timeouts(int fd)
{
	struct timeval tv = { SERVER_IO_TIMEOUT_S, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void take_job(struct server *srv, struct worker *w, struct slot *s)
{
	int rc;

	if (s->evict) {
		FCGX_Free(&s->fcgx, 1);
		s->evict = false;
	}
	rc = FCGX_Accept_r(&s->fcgx);
	if (s->accept) {
		pthread_mutex_lock(&srv->lock);
		srv->accept_pending = false;
		s->accept = false;
		pthread_mutex_unlock(&srv->lock);
		wake_poller(srv);
	}
	if (rc >= 0) {
		set_io_timeouts(s->fcgx.ipcFd);
		worker_serve(w, &s->fcgx);
		FCGX_Finish_r(&s->fcgx);
		return;
	}
	/* EAGAIN: another worker took the pending connection, or an idle
	 * connection was closed by the web server and nothing else waited. */
	if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR || rc == -ECONNABORTED)
		return;
	log_warn("fcgi_accept_failed", LF_I("worker", w->index), LF_S("error", strerror(-rc)));
	if (rc == -EMFILE || rc == -ENFILE || rc == -ENOBUFS || rc == -ENOMEM) {
		/* Out of descriptors or memory: back off instead of spinning. */
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
}

static void *worker_main(void *arg)
{
	struct thread_arg *ta = arg;
	struct server *srv = ta->srv;

	for (;;) {
		struct slot *s;
		size_t idx;
		bool wake;

		pthread_mutex_lock(&srv->lock);
		while (srv->qlen == 0 && !srv->quit)
			pthread_cond_wait(&srv->cond, &srv->lock);
		if (srv->qlen == 0) {
			pthread_mutex_unlock(&srv->lock);
			break;
		}
		idx = srv->queue[srv->qhead];
		srv->qhead = (srv->qhead + 1) % srv->nslots;
		srv->qlen--;
		s = &srv->slots[idx];
		s->state = SLOT_BUSY;
		pthread_mutex_unlock(&srv->lock);

		take_job(srv, ta->w, s);

		pthread_mutex_lock(&srv->lock);
		s->state = s->fcgx.ipcFd >= 0 ? SLOT_IDLE : SLOT_FREE;
		s->idle_since = clock_mono_us();
		srv->active--;
		/* Once stopping, idle connections are no longer watched (they are
		 * closed at the end). A connection epoll refuses to watch would
		 * never be served again: close it. */
		if (s->state == SLOT_IDLE && !srv->stopping && arm(srv, s->fcgx.ipcFd, idx)) {
			log_warn("epoll_arm_failed", LF_S("error", strerror(errno)));
			FCGX_Free(&s->fcgx, 1);
			s->state = SLOT_FREE;
		}
		wake = srv->stopping || !srv->listen_armed;
		pthread_mutex_unlock(&srv->lock);
		if (wake)
			wake_poller(srv);
	}
	free(ta);
	return NULL;
}

/* A slot for a new connection: a free one, else the longest-idle one
 * (marked for eviction). Called with the lock held; -1 when none. */
static long slot_for_accept(struct server *srv)
{
	long lru = -1;

	for (size_t i = 0; i < srv->nslots; i++) {
		const struct slot *s = &srv->slots[i];

		if (s->state == SLOT_FREE)
			return (long)i;
		if (s->state == SLOT_IDLE && (lru < 0 || s->idle_since < srv->slots[lru].idle_since))
			lru = (long)i;
	}
	if (lru >= 0)
		srv->slots[lru].evict = true;
	return lru;
}

static bool can_accept(const struct server *srv)
{
	if (srv->accept_pending)
		return false;
	for (size_t i = 0; i < srv->nslots; i++)
		if (srv->slots[i].state == SLOT_FREE || srv->slots[i].state == SLOT_IDLE)
			return true;
	return false;
}

/* The poller. Returns 0 when a stop was requested and nothing is in flight. */
static int poll_loop(struct server *srv)
{
	size_t cap = srv->nslots + 3;
	struct epoll_event *evs = calloc(cap, sizeof(*evs));
	int err = 0;

	if (!evs)
		return COHORT_E_NOMEM;
	for (;;) {
		bool was_stopping;
		int n;

		pthread_mutex_lock(&srv->lock);
		if (srv->stopping && srv->active == 0) {
			pthread_mutex_unlock(&srv->lock);
			break;
		}
		if (!srv->stopping && !srv->listen_armed && can_accept(srv)) {
			if (arm(srv, srv->listen_fd, TAG(TAG_LISTEN)) == 0)
				srv->listen_armed = true;
			else
				log_error("epoll_arm_failed", LF_S("error", strerror(errno)));
		}
		was_stopping = srv->stopping;
		pthread_mutex_unlock(&srv->lock);

		n = epoll_wait(srv->ep, evs, (int)cap, -1);
		if (n < 0) {
			if (errno != EINTR)
				log_error("poll_failed", LF_S("error", strerror(errno)));
			continue;
		}
		for (int k = 0; k < n; k++) {
			uint64_t tag = evs[k].data.u64;

			if (tag == TAG(TAG_SIG)) {
				struct signalfd_siginfo si;

				if (read(srv->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si) && !was_stopping) {
					log_info("stopping", LF_I("signal", si.ssi_signo));
					pthread_mutex_lock(&srv->lock);
					srv->stopping = true;
					pthread_mutex_unlock(&srv->lock);
				}
			} else if (tag == TAG(TAG_WAKE)) {
				char buf[64];

				while (read(srv->wake[0], buf, sizeof(buf)) > 0)
					;
			}
		}
		pthread_mutex_lock(&srv->lock);
		for (int k = 0; k < n; k++) {
			uint64_t tag = evs[k].data.u64;

			if (tag == TAG(TAG_LISTEN)) {
				srv->listen_armed = false;
				if (!srv->stopping && can_accept(srv)) {
					long idx = slot_for_accept(srv);

					if (idx >= 0) {
						srv->slots[idx].accept = true;
						srv->accept_pending = true;
						enqueue(srv, (size_t)idx);
					}
				}
			} else if (!was_stopping && tag < srv->nslots && srv->slots[tag].state == SLOT_IDLE) {
				/* Requests already sent on idle connections are served
				 * even when the stop arrived in the same round; after
				 * that idle connections are left alone until the end. */
				enqueue(srv, (size_t)tag);
			}
		}
		pthread_mutex_unlock(&srv->lock);
	}
	free(evs);
	return err;
}

/* Watches fd level-triggered (the signalfd and the wake-up pipe). */
static int watch(int ep, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int make_pipe_nonblocking(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return COHORT_E_INTERNAL;
	return 0;
}

static void server_release(struct server *srv)
{
	for (size_t i = 0; srv->slots && i < srv->nslots; i++)
		FCGX_Free(&srv->slots[i].fcgx, 1);
	for (size_t i = 0; srv->workers && i < srv->nthreads; i++)
		worker_release(&srv->workers[i]);
	free(srv->slots);
	free(srv->queue);
	free(srv->workers);
	free(srv->threads);
	if (srv->sig_fd >= 0)
		close(srv->sig_fd);
	if (srv->wake[0] >= 0)
		close(srv->wake[0]);
	if (srv->wake[1] >= 0)
		close(srv->wake[1]);
	if (srv->ep >= 0)
		close(srv->ep);
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->cond);
}

/*
 * libfcgi waits on connections with select(), which cannot take a descriptor
 * at or above FD_SETSIZE. Descriptors are allocated lowest-first, so keeping
 * the number of open ones below FD_SETSIZE keeps every one usable: each
 * worker holds about SERVER_FDS_PER_WORKER (Redis, and SQLite's database, WAL
 * and shared-memory files), the process a few more, and the pool never holds
 * more connections than it has slots.
 */
#define SERVER_FDS_PER_WORKER 4
#define SERVER_FDS_RESERVED 64

static size_t slot_count(size_t threads, size_t max_conns)
{
	size_t want = max_conns > threads ? max_conns : threads, room;

	if (threads * SERVER_FDS_PER_WORKER + SERVER_FDS_RESERVED >= FD_SETSIZE)
		return 0;
	room = FD_SETSIZE - threads * SERVER_FDS_PER_WORKER - SERVER_FDS_RESERVED;
	return want < room ? want : room;
}

static size_t max_threads(void)
{
	return (FD_SETSIZE - SERVER_FDS_RESERVED) / (SERVER_FDS_PER_WORKER + 1);
}

int server_run(const struct cohort_config *cfg, int listen_fd)
{
	struct server srv = { .cfg = cfg, .listen_fd = listen_fd, .sig_fd = -1, .wake = { -1, -1 }, .ep = -1 };
	size_t started = 0;
	sigset_t mask;
	int err = 0, fl;

	pthread_mutex_init(&srv.lock, NULL);
	pthread_cond_init(&srv.cond, NULL);
	srv.nthreads = (size_t)cfg->api_threads;
	srv.nslots = slot_count(srv.nthreads, (size_t)cfg->api_max_conns);
	if (srv.nslots < srv.nthreads) {
		log_error("too_many_threads", LF_I("threads", srv.nthreads), LF_I("max", max_threads()));
		err = COHORT_E_CONFIG;
		goto out;
	}

	/* Signals are taken on the signalfd only; every thread inherits the mask. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	srv.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	srv.ep = epoll_create1(EPOLL_CLOEXEC);
	fl = fcntl(listen_fd, F_GETFL);
	if (srv.sig_fd < 0 || srv.ep < 0 || make_pipe_nonblocking(srv.wake) || fl < 0 ||
	    fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0 || watch(srv.ep, srv.sig_fd, TAG(TAG_SIG)) ||
	    watch(srv.ep, srv.wake[0], TAG(TAG_WAKE))) {
		log_error("server_setup_failed", LF_S("error", strerror(errno)));
		err = COHORT_E_INTERNAL;
		goto out;
	}
	srv.slots = calloc(srv.nslots, sizeof(*srv.slots));
	srv.queue = calloc(srv.nslots, sizeof(*srv.queue));
	srv.workers = calloc(srv.nthreads, sizeof(*srv.workers));
	srv.threads = calloc(srv.nthreads, sizeof(*srv.threads));
	if (!srv.slots || !srv.queue || !srv.workers || !srv.threads) {
		err = COHORT_E_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < srv.nslots; i++)
		FCGX_InitRequest(&srv.slots[i].fcgx, listen_fd, 0);
	for (size_t i = 0; i < srv.nthreads; i++) {
		err = worker_init(&srv.workers[i], i, cfg);
		if (err)
			goto out;
	}
	for (; started < srv.nthreads; started++) {
		struct thread_arg *ta = malloc(sizeof(*ta));

		if (!ta) {
			err = COHORT_E_NOMEM;
			break;
		}
		*ta = (struct thread_arg){ &srv, &srv.workers[started] };
		if (pthread_create(&srv.threads[started], NULL, worker_main, ta)) {
			free(ta);
			err = COHORT_E_INTERNAL;
			break;
		}
	}
	if (!err) {
		log_info("serving", LF_I("threads", srv.nthreads), LF_I("connections", srv.nslots));
		err = poll_loop(&srv);
	}
	pthread_mutex_lock(&srv.lock);
	srv.quit = true;
	pthread_cond_broadcast(&srv.cond);
	pthread_mutex_unlock(&srv.lock);
	for (size_t i = 0; i < started; i++)
		pthread_join(srv.threads[i], NULL);
out:
	/* The signals stay blocked: a second SIGTERM during the exit must not
	 * turn a clean stop into a kill. */
	server_release(&srv);
	return err;
}
