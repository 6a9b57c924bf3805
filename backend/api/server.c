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
 * connection slots (each an FCGX_Request). One epoll set holds the listening
 * socket and every idle kept-alive connection, each registered EPOLLONESHOT
 * and tagged with its slot (index and generation), and every worker waits on
 * that set itself: an event disarms its descriptor and wakes exactly one
 * worker, which serves the connection (FCGX_Accept_r then finds the request
 * already there) and re-arms it, or accepts a new connection into a free
 * slot. No thread hands work to another, so a request costs one wake-up and
 * no lock hand-off (a poller thread and a job queue, before: two wake-ups
 * and a contended mutex per request). When no slot is free (api.max_conns
 * slots) the longest-idle connection is closed to make room; while an accept
 * is under way the listening socket stays disarmed, so one pending
 * connection wakes one worker.
 *
 * The pool accepts (accept4) rather than libfcgi, and a new connection
 * joins the epoll set like an idle one: it is read only once its first
 * request is there. (When FCGX_Accept_r accepted, it went on to read the
 * first request at once, with no timeout set yet, and the listening socket
 * stayed disarmed meanwhile: one connection that never sent anything
 * stopped every new connection for good.) A connection that sends nothing
 * now holds a slot, never a worker. libfcgi then serves it as a kept-alive
 * connection: the pool sets ipcFd and keepConnection, and sets listen_sock
 * to -1 so that libfcgi never accepts itself. Those are fields fcgiapp.h
 * calls internal; libfcgi 2.4's FCGX_Accept_r reads a request from a set
 * ipcFd and accepts only when it is below 0, which this relies on (t1005
 * exercises both). FCGI_WEB_SERVER_ADDRS, libfcgi's own filter of peers,
 * therefore does not apply: cohort-api listens where only the web server
 * can reach it (docs/operations.md).
 *
 * A slot's generation changes with every connection it takes, and an event
 * is served only if its slot is still idle at the generation it was armed
 * at: an event that a worker took just before another worker evicted that
 * connection (and perhaps accepted a new one into the slot) is dropped
 * instead of blocking on a connection with nothing to read. Slot states
 * change under one lock, held only for that.
 *
 * A web server that stops sending in the middle of a request body, or stops
 * reading a response, would otherwise hold a worker forever: libfcgi's reads
 * and writes block without a timeout. SO_RCVTIMEO/SO_SNDTIMEO, set on every
 * connection as it is accepted, make them fail instead, which ends the
 * request and closes the connection.
 *
 * Stopping: SIGTERM/SIGINT arrive on a signalfd (the signals are blocked in
 * every thread) that the main thread waits on. It marks the pool stopping:
 * no more accepts, and a connection is not re-armed after its request (one
 * that was already readable is still served). Once no slot is busy it wakes
 * every worker through an eventfd, joins them and closes all connections.
 *
 * Only a slot's owner touches its FCGX_Request.
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
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum slot_state {
	SLOT_FREE, /* no connection */
	SLOT_IDLE, /* kept-alive connection, armed in the epoll set */
	SLOT_BUSY, /* a worker owns it */
};

struct slot {
	FCGX_Request fcgx;
	enum slot_state state;
	uint32_t gen;       /* changes with every connection the slot takes */
	bool accept;        /* the job is to accept a new connection */
	bool evict;         /* close the idle connection first */
	int64_t idle_since; /* monotonic us */
};

struct server {
	const struct cohort_config *cfg;
	int listen_fd;
	int sig_fd;
	int wake[2]; /* workers → main thread: the last busy slot finished */
	int quit_fd; /* eventfd, readable once the workers are to return */
	int ep;      /* epoll: the listening socket, idle connections, quit_fd */

	pthread_mutex_t lock;
	struct slot *slots;
	size_t nslots;
	size_t active; /* busy slots */
	bool accept_pending;
	bool listen_armed; /* the listening socket is in the epoll set, armed */
	bool stopping;

	struct worker *workers;
	pthread_t *threads;
	size_t nthreads;
};

struct thread_arg {
	struct server *srv;
	struct worker *w;
};

static void wake_main(struct server *srv)
{
	char c = 1;
	ssize_t n = write(srv->wake[1], &c, 1);

	(void)n; /* a full pipe already holds a wake-up */
}

/* epoll tags: a connection's is its slot's generation and index; the two
 * others have bits no generation has. */
#define TAG_LISTEN UINT64_MAX
#define TAG_QUIT (UINT64_MAX - 1)
#define GEN_MASK 0x7fffffffu

static uint64_t slot_tag(const struct server *srv, size_t idx)
{
	return ((uint64_t)srv->slots[idx].gen << 32) | idx;
}

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

static int set_io_timeouts(int fd)
{
	struct timeval tv = { SERVER_IO_TIMEOUT_S, 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -1;
	return 0;
}

static bool can_accept(const struct server *srv)
{
	if (srv->accept_pending || srv->stopping)
		return false;
	for (size_t i = 0; i < srv->nslots; i++)
		if (srv->slots[i].state == SLOT_FREE || srv->slots[i].state == SLOT_IDLE)
			return true;
	return false;
}

/* Called with the lock held: arms the listening socket when a slot can
 * take a new connection and nobody is accepting one. */
static void rearm_listen(struct server *srv)
{
	if (srv->listen_armed || !can_accept(srv))
		return;
	if (arm(srv, srv->listen_fd, TAG_LISTEN) == 0)
		srv->listen_armed = true;
	else
		log_error("epoll_arm_failed", LF_S("error", strerror(errno)));
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

/* The slot an event is for, now busy, or -1 when the event is stale or
 * there is nothing to do. Called with the lock held. */
static long claim(struct server *srv, uint64_t tag)
{
	long idx;

	if (tag == TAG_LISTEN) {
		srv->listen_armed = false;
		if (!can_accept(srv))
			return -1;
		idx = slot_for_accept(srv);
		if (idx < 0)
			return -1;
		srv->slots[idx].accept = true;
		srv->slots[idx].gen = (srv->slots[idx].gen + 1) & GEN_MASK;
		srv->accept_pending = true;
	} else {
		idx = (long)(tag & 0xffffffffu);
		if ((size_t)idx >= srv->nslots || srv->slots[idx].state != SLOT_IDLE ||
		    srv->slots[idx].gen != (tag >> 32))
			return -1;
	}
	srv->slots[idx].state = SLOT_BUSY;
	srv->active++;
	return idx;
}

/* An accept job: the new connection goes into the slot as an idle one,
 * served when its first request arrives (finish_job arms it). */
static void accept_into(struct server *srv, struct worker *w, struct slot *s)
{
	int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC), e = errno;

	if (fd >= 0) {
		set_io_timeouts(fd);
		s->fcgx.ipcFd = fd;
		s->fcgx.keepConnection = 1; /* FCGX_Accept_r keeps it open and reads it */
	}
	pthread_mutex_lock(&srv->lock);
	srv->accept_pending = false;
	s->accept = false;
	rearm_listen(srv);
	pthread_mutex_unlock(&srv->lock);
	/* EAGAIN: the pending connection went away before it was accepted. */
	if (fd >= 0 || e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == ECONNABORTED)
		return;
	log_warn("accept_failed", LF_I("worker", w->index), LF_S("error", strerror(e)));
	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		/* Out of descriptors or memory: back off instead of spinning. */
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
}

static void take_job(struct server *srv, struct worker *w, struct slot *s)
{
	int rc;

	if (s->evict) {
		FCGX_Free(&s->fcgx, 1);
		s->evict = false;
	}
	if (s->accept) {
		accept_into(srv, w, s);
		return;
	}
	/* libfcgi must not accept: on a kept-alive connection the web server
	 * closed, it would otherwise go on to accept whatever is pending into
	 * this slot, behind the pool's back. */
	s->fcgx.listen_sock = -1;
	rc = FCGX_Accept_r(&s->fcgx);
	if (rc >= 0) {
		worker_serve(w, &s->fcgx);
		FCGX_Finish_r(&s->fcgx);
		return;
	}
	/* EBADF: the web server closed the connection (and there was no
	 * listening socket to go on with); EAGAIN: nothing to read after all. */
	if (rc == -EBADF || rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR)
		return;
	log_warn("fcgi_accept_failed", LF_I("worker", w->index), LF_S("error", strerror(-rc)));
}

/* After a job: the slot goes back to the epoll set (idle) or is free. */
static void finish_job(struct server *srv, size_t idx)
{
	struct slot *s = &srv->slots[idx];
	bool wake;

	pthread_mutex_lock(&srv->lock);
	s->state = s->fcgx.ipcFd >= 0 ? SLOT_IDLE : SLOT_FREE;
	s->idle_since = clock_mono_us();
	srv->active--;
	if (s->state == SLOT_IDLE && srv->stopping) {
		/* Once stopping, a connection is not watched again: closed at the end. */
	} else if (s->state == SLOT_IDLE && arm(srv, s->fcgx.ipcFd, slot_tag(srv, idx))) {
		/* A connection epoll refuses to watch would never be served again. */
		log_warn("epoll_arm_failed", LF_S("error", strerror(errno)));
		FCGX_Free(&s->fcgx, 1);
		s->state = SLOT_FREE;
	}
	rearm_listen(srv);
	wake = srv->stopping && srv->active == 0;
	pthread_mutex_unlock(&srv->lock);
	if (wake)
		wake_main(srv);
}

static void *worker_main(void *arg)
{
	struct thread_arg *ta = arg;
	struct server *srv = ta->srv;

	for (;;) {
		struct epoll_event ev;
		long idx;
		int n = epoll_wait(srv->ep, &ev, 1, -1);

		if (n < 0 && errno != EINTR) {
			log_error("poll_failed", LF_S("error", strerror(errno)));
			break;
		}
		if (n <= 0)
			continue;
		if (ev.data.u64 == TAG_QUIT)
			break;
		pthread_mutex_lock(&srv->lock);
		idx = claim(srv, ev.data.u64);
		pthread_mutex_unlock(&srv->lock);
		if (idx < 0)
			continue;
		take_job(srv, ta->w, &srv->slots[idx]);
		finish_job(srv, (size_t)idx);
	}
	free(ta);
	return NULL;
}

/* The main thread: waits for a stop signal, then until no slot is busy. */
static void wait_for_stop(struct server *srv)
{
	struct pollfd pf[2] = { { .fd = srv->sig_fd, .events = POLLIN }, { .fd = srv->wake[0], .events = POLLIN } };

	for (;;) {
		bool done;

		pthread_mutex_lock(&srv->lock);
		done = srv->stopping && srv->active == 0;
		pthread_mutex_unlock(&srv->lock);
		if (done)
			return;
		/* The request log lines are buffered (core/log.h): out every
		 * LOG_FLUSH_MS at the latest. */
		log_flush();
		if (poll(pf, 2, LOG_FLUSH_MS) < 0) {
			if (errno != EINTR)
				log_error("poll_failed", LF_S("error", strerror(errno)));
			continue;
		}
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(srv->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				pthread_mutex_lock(&srv->lock);
				if (!srv->stopping)
					log_info("stopping", LF_I("signal", si.ssi_signo));
				srv->stopping = true;
				pthread_mutex_unlock(&srv->lock);
			}
		}
		if (pf[1].revents & POLLIN) {
			char buf[64];

			while (read(srv->wake[0], buf, sizeof(buf)) > 0)
				;
		}
	}
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
	free(srv->workers);
	free(srv->threads);
	if (srv->sig_fd >= 0)
		close(srv->sig_fd);
	if (srv->wake[0] >= 0)
		close(srv->wake[0]);
	if (srv->wake[1] >= 0)
		close(srv->wake[1]);
	if (srv->quit_fd >= 0)
		close(srv->quit_fd);
	if (srv->ep >= 0)
		close(srv->ep);
	pthread_mutex_destroy(&srv->lock);
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
	struct server srv = {
		.cfg = cfg, .listen_fd = listen_fd, .sig_fd = -1, .wake = { -1, -1 }, .quit_fd = -1, .ep = -1,
	};
	struct epoll_event quit_ev = { .events = EPOLLIN, .data.u64 = TAG_QUIT };
	size_t started = 0;
	sigset_t mask;
	uint64_t one = 1;
	int err = 0, fl;

	pthread_mutex_init(&srv.lock, NULL);
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
	srv.quit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	srv.ep = epoll_create1(EPOLL_CLOEXEC);
	fl = fcntl(listen_fd, F_GETFL);
	if (srv.sig_fd < 0 || srv.quit_fd < 0 || srv.ep < 0 || make_pipe_nonblocking(srv.wake) || fl < 0 ||
	    fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    epoll_ctl(srv.ep, EPOLL_CTL_ADD, srv.quit_fd, &quit_ev)) {
		log_error("server_setup_failed", LF_S("error", strerror(errno)));
		err = COHORT_E_INTERNAL;
		goto out;
	}
	srv.slots = calloc(srv.nslots, sizeof(*srv.slots));
	srv.workers = calloc(srv.nthreads, sizeof(*srv.workers));
	srv.threads = calloc(srv.nthreads, sizeof(*srv.threads));
	if (!srv.slots || !srv.workers || !srv.threads) {
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
	pthread_mutex_lock(&srv.lock);
	rearm_listen(&srv);
	if (!srv.listen_armed)
		err = COHORT_E_INTERNAL;
	pthread_mutex_unlock(&srv.lock);
	for (; !err && started < srv.nthreads; started++) {
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
		log_buffer(true);
		wait_for_stop(&srv);
	} else {
		pthread_mutex_lock(&srv.lock);
		srv.stopping = true;
		pthread_mutex_unlock(&srv.lock);
	}
	/* Every worker wakes on the level-triggered eventfd and returns. */
	if (write(srv.quit_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		log_error("server_quit_failed", LF_S("error", strerror(errno)));
	for (size_t i = 0; i < started; i++)
		pthread_join(srv.threads[i], NULL);
	log_buffer(false);
out:
	/* The signals stay blocked: a second SIGTERM during the exit must not
	 * turn a clean stop into a kill. */
	server_release(&srv);
	return err;
}
