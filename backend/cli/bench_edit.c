/*
 * bench_edit.c — `cohort-bench edit fanout|hot|size`: setup through the API,
 * the writers, the subscribers, the server-side check (options in
 * bench_edit_opts.c, the subscriber's checks in bench_edit_check.c, the
 * report in bench_edit_report.c).
 *
 * DESIGN
 *
 * Writers are threads, one blocking keep-alive connection each
 * (bench_api), so a writer is a straight-line collab client: at most one
 * push in flight, pushed at the newest version it knows. Every insert is
 * exactly EDIT_MARK_LEN ASCII characters and nothing else edits the files
 * during a run, so the length of a file at version V is known without
 * reading it: len0 + (V - v0) * EDIT_MARK_LEN. A writer can therefore make
 * a valid insert at any version it has heard of — its own accepted pushes,
 * any push answer of its file ("version" is the file's version after the
 * push), or any update a subscriber of the file received — and the server
 * rebases it over whatever was accepted since (docs/protocol.md section 9).
 * That is what @codemirror/collab does, minus the local document.
 *
 * Each insert carries its own marker, "<wwwww.sssssss.tttttttttttttttt>":
 * the writer, the writer's edit number and the wall time (CLOCK_REALTIME,
 * µs) of the edit's first push. A subscriber reads the latency and the
 * exactly-once check straight from the event, with no shared map. A retry
 * (409 conflict, a lost answer) pushes the same marker again at the
 * newest known version; when the earlier attempt was in fact accepted, the
 * server skips the repeat because the writer's own update lies after the
 * pushed version (the collab skip rule).
 *
 * Subscribers are bench_client connections with an event hook: per
 * connection, the last version seen (versions must arrive strictly
 * consecutive: a jump is loss, a repeat or an older one a duplicate) and
 * the last edit number seen of each writer of its file.
 */
#include "cli/bench_api.h"
#include "cli/bench_client.h"
#include "cli/bench_edit.h"
#include "cli/bench_edit_check.h"
#include "cli/bench_edit_report.h"
#include "cli/bench_sse.h"
#include "cli/bench_sys.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/num.h"
#include "core/scope.h"
#include "core/strbuf.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WHO "cohort-bench edit"
#define EDIT_MAX_ATTEMPTS 50
#define EDIT_DOC_MAX ((size_t)16 << 20)
#define EDIT_STACK (256 * 1024)

/* ---- shared state -------------------------------------------------------- */

struct edit_file {
	long project;
	const char *path;
	long bytes;
	int64_t v0, len0;          /* a version and the length at it, from the server */
	int64_t v_start;           /* the version when the subscribers started */
	_Atomic int64_t seen;      /* newest version anyone heard of */
	atomic_uint_least64_t accepted;
	int first_writer;          /* writers [first_writer, first_writer + nwriters) */
	int nwriters;
	char scope[64];
};

struct edit_sub {
	struct edit_seen seen;     /* owned by the connection's thread */
	_Atomic int64_t progress;  /* seen.last_version, for the main thread */
};

struct edit_tstat {
	struct hist lat;
	struct edit_counts c;
};

struct edit_ctx {
	const struct edit_opts *o;
	struct sys_url url;
	char token[BENCH_TOKEN_MAX];
	struct edit_file *files;
	int nfiles;
	struct edit_sub *subs;
	size_t nsubs;
	struct edit_tstat tstat[16];
	int64_t measure_from_us; /* wall time: edits first pushed before it are warmup */
	struct edit_writer *writers;
	int nwriters;
};

#define EDIT_UNKNOWN_MAX 64

struct edit_writer {
	struct edit_ctx *x;
	struct edit_file *f;
	int idx;
	pthread_t th;
	bool started;
	uint32_t seq;        /* edits started */
	uint32_t accepted;   /* edits accepted */
	int64_t own;         /* version of its last accepted update */
	/* markers of edits given up after an unknown outcome: the server check
	 * looks for them in the document */
	char unknown[EDIT_UNKNOWN_MAX][EDIT_MARK_LEN + 1];
	int nunknown;
	uint64_t rnd;
	/* phase */
	int64_t start_mono, end_mono;
	double rate;
	double offset;       /* 0..1 of a period: spreads the writers */
	struct edit_push st; /* this phase's counts */
};

static void seen_max(struct edit_file *f, int64_t v)
{
	int64_t cur = atomic_load_explicit(&f->seen, memory_order_relaxed);

	while (v > cur && !atomic_compare_exchange_weak(&f->seen, &cur, v))
		;
}

/* ---- subscribers --------------------------------------------------------- */

static bool on_update(void *arg, int thread, size_t conn, const struct sse_event *ev, int64_t recv_us)
{
	struct edit_ctx *x = arg;
	struct edit_tstat *ts = &x->tstat[thread];
	struct edit_sub *s = &x->subs[conn];
	struct edit_file *f = &x->files[conn % (size_t)x->nfiles];
	struct edit_event e;
	enum edit_verdict v;

	if (!edit_event_parse(ev->data, ev->data_len, &e)) {
		ts->c.foreign++;
		return false;
	}
	v = edit_check(&s->seen, (uint64_t)f->first_writer, (uint64_t)f->nwriters, &e, &ts->c);
	if (v == EDIT_DUPLICATE)
		return false;
	atomic_store_explicit(&s->progress, s->seen.last_version, memory_order_relaxed);
	seen_max(f, e.version);
	if (v == EDIT_NEW && e.t0_us >= x->measure_from_us)
		hist_record(&ts->lat, recv_us > e.t0_us ? (uint64_t)(recv_us - e.t0_us) : 0);
	return true;
}

/* ---- writers ------------------------------------------------------------- */

static uint64_t rnd_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Called with the document's text by doc_state. */
typedef void (*doc_scan_fn)(void *arg, const char *text, size_t len);

/* The file's version and text length now (GET .../doc); scan, if given,
 * sees the text. */
static int doc_state(struct bench_api *a, const struct edit_file *f, struct strbuf *body,
		     int64_t *version, int64_t *len, int *status, doc_scan_fn scan, void *arg)
{
	char target[512];
	struct json_object *root = NULL, *v = NULL, *t = NULL;
	int err;

	snprintf(target, sizeof(target), "/api/v1/projects/%ld/doc?path=%s", f->project, f->path);
	err = bench_api_call(a, "GET", target, NULL, NULL, 0, status, body);
	if (err)
		return err;
	if (*status != 200)
		return COHORT_E_UNAVAILABLE;
	if (json_parse_object(body->buf, body->len, &root))
		return COHORT_E_INVAL;
	if (!json_object_object_get_ex(root, "version", &v) || !json_object_is_type(v, json_type_int) ||
	    !json_object_object_get_ex(root, "text", &t) || !json_object_is_type(t, json_type_string)) {
		json_put(root);
		return COHORT_E_INVAL;
	}
	*version = json_object_get_int64(v);
	*len = json_object_get_string_len(t); /* our text is ASCII: bytes = UTF-16 units */
	if (scan)
		scan(arg, json_object_get_string(t), (size_t)*len);
	json_put(root);
	return 0;
}

struct mark_find {
	const char *mark;
	bool *found;
};

static void match_mark(void *arg, const struct edit_event *ev)
{
	struct mark_find *m = arg;
	struct edit_event want;

	if (edit_event_parse_mark(m->mark, &want) && want.writer == ev->writer && want.seq == ev->seq)
		*m->found = true;
}

static void find_mark(void *arg, const char *text, size_t len)
{
	edit_marks_scan(text, len, match_mark, arg);
}

static void count_accepted(struct edit_writer *wr, int64_t version, bool skipped, int64_t m0)
{
	wr->own = version;
	wr->accepted++;
	wr->st.accepted++;
	wr->st.skipped += skipped;
	atomic_fetch_add(&wr->f->accepted, 1);
	hist_record(&wr->st.accept_us, (uint64_t)(clock_mono_us() - m0));
}

/*
 * One edit: pushed until accepted, or given up.
 *
 * The newest version a writer knows may already include this very edit,
 * accepted by an attempt whose answer was lost (a timeout, a 502): a
 * subscriber or another writer's answer can report the version before the
 * lost answer would have. Pushed at such a version, a retry would be
 * applied a second time — the server skips a repeat only when the earlier
 * copy lies *after* the pushed version. So once an attempt's outcome is
 * unknown, no later attempt of the edit goes above that attempt's version
 * (`cap`), exactly as a collab client pushes its unconfirmed updates at its
 * synced version. If that version has left the log (410), the document is
 * read and searched for the edit's marker instead.
 */
static void write_edit(struct edit_writer *wr, struct bench_api *a, struct strbuf *resp)
{
	struct edit_file *f = wr->f;
	char mark[64], body[512], target[512];
	int64_t t0 = clock_wall_us(), m0 = clock_mono_us(), cap = INT64_MAX;
	uint32_t seq = ++wr->seq;

	edit_mark_format(mark, sizeof(mark), (uint64_t)wr->idx, seq, t0);
	snprintf(target, sizeof(target), "/api/v1/projects/%ld/doc/updates?path=%s", f->project,
		 f->path);
	wr->st.edits++;
	for (int attempt = 0; attempt < EDIT_MAX_ATTEMPTS; attempt++) {
		int64_t seen = atomic_load_explicit(&f->seen, memory_order_relaxed);
		int64_t v = seen > wr->own ? seen : wr->own;
		int64_t len, pos, p0 = clock_mono_us(), nv = 0, acc = 0, skip = 0;
		int status = 0, n, err;

		if (v > cap)
			v = cap;
		len = f->len0 + (v - f->v0) * EDIT_MARK_LEN;
		pos = (int64_t)(rnd_next(&wr->rnd) % (uint64_t)(len + 1));
		if (pos == 0)			n = snprintf(body, sizeof(body),
				     "{\"version\":%lld,\"updates\":[{\"clientID\":\"bench-e%d\","
				     "\"changes\":[[0,\"%s\"],%lld]}]}",
				     (long long)v, wr->idx, mark, (long long)len);
		else if (pos == len)
			n = snprintf(body, sizeof(body),
				     "{\"version\":%lld,\"updates\":[{\"clientID\":\"bench-e%d\","
				     "\"changes\":[%lld,[0,\"%s\"]]}]}",
				     (long long)v, wr->idx, (long long)len, mark);
		else
			n = snprintf(body, sizeof(body),
				     "{\"version\":%lld,\"updates\":[{\"clientID\":\"bench-e%d\","
				     "\"changes\":[%lld,[0,\"%s\"],%lld]}]}",
				     (long long)v, wr->idx, (long long)pos, mark, (long long)(len - pos));
		if (n < 0 || (size_t)n >= sizeof(body))
			break;
		if (attempt)
			wr->st.retried++;
		wr->st.attempts++;
		err = bench_api_call(a, "POST", target, NULL, body, (size_t)n, &status, resp);
		hist_record(&wr->st.push_us, (uint64_t)(clock_mono_us() - p0));
		if (err || status == 502 || status == 504) {
			/* Unknown outcome: the push may have been (or still be)
			 * accepted. */
			if (err)
				wr->st.transport_errors++;
			else
				wr->st.http_errors++;
			wr->st.last_status = status;
			cap = v;
			usleep(10000);
			continue;
		}
		if (status == 200 && edit_int_after(resp->buf, resp->len, "\"version\":", &nv) &&
		    edit_int_after(resp->buf, resp->len, "\"accepted\":", &acc) &&
		    edit_int_after(resp->buf, resp->len, "\"skipped\":", &skip)) {
			seen_max(f, nv);
			if (acc == 1 || skip == 1) {
				/* Accepted now (our update is version nv), or
				 * skipped: an earlier attempt was accepted, at or
				 * before nv. Either way nothing of ours lies after
				 * nv. */
				count_accepted(wr, nv, skip == 1, m0);
				return;
			}
			wr->st.http_errors++;
			break;
		}
		wr->st.last_status = status;
		if (status == 409) {
			wr->st.conflicts++;
			usleep((useconds_t)(1000 + rnd_next(&wr->rnd) % (2000u * (unsigned)(attempt + 1))));
			continue;
		}
		if (status == 410) {
			int64_t dv, dl;
			int ds;
			bool found = false;

			wr->st.gone++;
			if (doc_state(a, f, resp, &dv, &dl, &ds, cap < INT64_MAX ? find_mark : NULL,
				      &(struct mark_find){ mark, &found }))
				continue;
			seen_max(f, dv);
			if (found) {
				/* An attempt whose answer was lost was accepted. */
				count_accepted(wr, dv, true, m0);
				return;
			}
			cap = INT64_MAX; /* not applied, and nothing of it pending below dv */
			continue;
		}
		wr->st.http_errors++;
		if (status == 429 || status >= 500) {
			usleep(10000);
			continue;
		}
		break; /* 4xx: our bug or a setup problem; retrying will not help */
	}
	wr->st.failed++;
	if (cap < INT64_MAX && wr->nunknown < EDIT_UNKNOWN_MAX)
		memcpy(wr->unknown[wr->nunknown++], mark, EDIT_MARK_LEN + 1);
}

static void *writer_main(void *arg)
{
	struct edit_writer *wr = arg;
	struct bench_api a;
	struct strbuf resp = STRBUF_INIT;
	double period = wr->rate > 0 ? 1e6 / wr->rate : 0;
	uint64_t k = 0;

	bench_api_init(&a, &wr->x->url, wr->x->token, (int)(wr->x->o->timeout * 1000));
	strbuf_init(&resp, EDIT_DOC_MAX);
	for (;;) {
		int64_t now = clock_mono_us();

		if (now >= wr->end_mono)
			break;
		if (period > 0) {
			int64_t due = wr->start_mono + (int64_t)(((double)k + wr->offset) * period);

			if (due >= wr->end_mono)
				break;
			if (due > now) {
				usleep((useconds_t)(due - now));
			} else if (now - due > (int64_t)period) {
				wr->st.late++;
			}
			k++;
		}
		write_edit(wr, &a, &resp);
	}
	/* Offered: every edit the schedule made due before the end, sent or
	 * not (a writer behind schedule sends its next edit at once, so the
	 * ones never sent are offered - edits). */
	for (k = 0; period > 0 &&
		    wr->start_mono + (int64_t)(((double)k + wr->offset) * period) < wr->end_mono;
	     k++)
		wr->st.offered++;
	bench_api_release(&a);
	strbuf_release(&resp);
	return NULL;
}

static void push_sum(struct edit_push *s, const struct edit_push *p)
{
	s->offered += p->offered;
	s->edits += p->edits;
	s->attempts += p->attempts;
	s->accepted += p->accepted;
	s->skipped += p->skipped;
	s->conflicts += p->conflicts;
	s->retried += p->retried;
	s->gone += p->gone;
	s->failed += p->failed;
	s->http_errors += p->http_errors;
	s->transport_errors += p->transport_errors;
	s->late += p->late;
	if (p->last_status)
		s->last_status = p->last_status;
	hist_merge(&s->push_us, &p->push_us);
	hist_merge(&s->accept_us, &p->accept_us);
}

/* Runs writers [first, first + n) for `seconds`; sums into side (if any). */
static int run_writers(struct edit_ctx *x, int first, int n, double seconds, double rate,
		       struct edit_push *side, struct edit_result *r)
{
	pthread_attr_t attr;
	int64_t start = clock_mono_us() + 20000, cpu0[EDIT_MAX_CPU];
	uint64_t busy0 = 0, total0 = 0, busy1 = 0, total1 = 0;
	int err = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, EDIT_STACK);
	for (int i = 0; side && i < r->ncpu; i++)
		cpu0[i] = sys_proc_tree_cpu_us(r->cpu[i].pid);
	sys_host_cpu(&busy0, &total0);
	for (int i = first; i < first + n; i++) {
		struct edit_writer *wr = &x->writers[i];

		memset(&wr->st, 0, sizeof(wr->st));
		hist_init(&wr->st.push_us);
		hist_init(&wr->st.accept_us);
		wr->start_mono = start;
		wr->end_mono = start + (int64_t)(seconds * 1e6);
		wr->rate = rate;
		wr->offset = (double)(i - first) / (double)n;
		if (pthread_create(&wr->th, &attr, writer_main, wr)) {
			err = COHORT_E_INTERNAL;
			break;
		}
		wr->started = true;
	}
	for (int i = first; i < first + n; i++) {
		struct edit_writer *wr = &x->writers[i];

		if (wr->started)
			pthread_join(wr->th, NULL);
		wr->started = false;
		if (side)
			push_sum(side, &wr->st);
	}
	pthread_attr_destroy(&attr);
	if (side) {
		sys_host_cpu(&busy1, &total1);
		side->wall_s += (double)(clock_mono_us() - start) / 1e6;
		side->phases++;
		side->host_busy += busy1 - busy0;
		side->host_total += total1 - total0;
		for (int i = 0; i < r->ncpu; i++) {
			int64_t now = sys_proc_tree_cpu_us(r->cpu[i].pid);

			if (now >= 0 && cpu0[i] >= 0)
				side->cpu_s[i] += (double)(now - cpu0[i]) / 1e6;
		}
	}
	return err;
}

/* ---- setup --------------------------------------------------------------- */

static int get_id(struct strbuf *body, const char *obj, int64_t *id)
{
	struct json_object *root = NULL, *o = NULL, *v = NULL;
	int err = COHORT_E_INVAL;

	if (json_parse_object(body->buf, body->len, &root))
		return err;
	if (json_object_object_get_ex(root, obj, &o) && json_object_object_get_ex(o, "id", &v) &&
	    json_object_is_type(v, json_type_int)) {
		*id = json_object_get_int64(v);
		err = 0;
	}
	json_put(root);
	return err;
}

/* Printable text of n bytes in 64-byte lines. */
static int fill_content(struct strbuf *sb, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int err = strbuf_addch(sb, (i % 64 == 63) ? '\n' : (char)('a' + (i * 7 + i / 64) % 26));

		if (err)
			return err;
	}
	return 0;
}

/* A new lesson in the course and the caller's project in it. */
static int make_project(struct bench_api *a, struct edit_result *r, const struct edit_opts *o,
			int k, struct strbuf *resp, long *project)
{
	char body[256], target[128];
	int64_t lesson = 0, pid = 0;
	int status, n, err;

	n = snprintf(body, sizeof(body), "{\"name\":\"%.40s-%d-%lld\"}", o->name ? o->name : o->scenario,
		     k, (long long)(clock_wall_us() / 1000000));
	snprintf(target, sizeof(target), "/api/v1/courses/%ld/lessons", o->course);
	err = bench_api_call(a, "POST", target, NULL, body, (size_t)n, &status, resp);
	if (!err && (status != 201 || get_id(resp, "lesson", &lesson))) {
		snprintf(r->error, sizeof(r->error), "creating a lesson: HTTP %d %.200s", status, resp->buf);
		return COHORT_E_UNAVAILABLE;
	}
	if (err)
		goto io;
	snprintf(target, sizeof(target), "/api/v1/lessons/%lld/project", (long long)lesson);
	err = bench_api_call(a, "GET", target, NULL, NULL, 0, &status, resp);
	if (!err && (status != 200 || get_id(resp, "project", &pid))) {
		snprintf(r->error, sizeof(r->error), "the lesson's project: HTTP %d %.200s", status, resp->buf);
		return COHORT_E_UNAVAILABLE;
	}
	if (err)
		goto io;
	*project = (long)pid;
	r->projects++;
	return 0;
io:
	snprintf(r->error, sizeof(r->error), "setup request: %s", cohort_strerror(err));
	return err;
}

/* The file exists with `bytes` of text; its version and length are read. */
static int make_file(struct bench_api *a, struct edit_result *r, struct edit_file *f,
		     struct strbuf *resp)
{
	struct strbuf content = STRBUF_INIT;
	char target[512];
	int status, err;

	snprintf(target, sizeof(target), "/api/v1/projects/%ld/file?path=%s", f->project, f->path);
	strbuf_init(&content, (size_t)f->bytes + 1);
	err = fill_content(&content, (size_t)f->bytes);
	if (!err)
		err = bench_api_call(a, "PUT", target, "text/plain; charset=utf-8", content.buf,
				     content.len, &status, resp);
	strbuf_release(&content);
	if (!err && status != 201 && status != 200) {
		snprintf(r->error, sizeof(r->error), "creating %s: HTTP %d %.200s", f->path, status, resp->buf);
		return COHORT_E_UNAVAILABLE;
	}
	if (!err)
		err = doc_state(a, f, resp, &f->v0, &f->len0, &status, NULL, NULL);
	if (err) {
		snprintf(r->error, sizeof(r->error), "reading %s back: %s (HTTP %d)", f->path,
			 cohort_strerror(err), status);
		return err;
	}
	f->v_start = f->v0;
	atomic_store(&f->seen, f->v0);
	return 0;
}

struct reconcile {
	struct edit_ctx *x;
	struct edit_file *f;
	struct edit_push *side;
};

/* Edits given up after an unknown outcome that the document holds after all
 * were accepted: they count as accepted (`unconfirmed`), not failed. */
static void reconcile_one(void *arg, const struct edit_event *ev)
{
	struct reconcile *rc = arg;
	struct edit_writer *wr;

	if (ev->writer < (uint64_t)rc->f->first_writer ||
	    ev->writer >= (uint64_t)(rc->f->first_writer + rc->f->nwriters))
		return;
	wr = &rc->x->writers[ev->writer];
	for (int i = 0; i < wr->nunknown; i++) {
		struct edit_event u;

		if (!edit_event_parse_mark(wr->unknown[i], &u) || u.seq != ev->seq)
			continue;
		wr->accepted++;
		atomic_fetch_add(&rc->f->accepted, 1);
		rc->side->accepted++;
		rc->side->unconfirmed++;
		if (rc->side->failed)
			rc->side->failed--;
		wr->unknown[i][0] = '\0'; /* counted once */
	}
}

static void reconcile(void *arg, const char *text, size_t len)
{
	struct reconcile *rc = arg;

	edit_marks_scan(text, len, reconcile_one, rc);
	for (int w = 0; w < rc->f->nwriters; w++)
		rc->x->writers[rc->f->first_writer + w].nunknown = 0;
}

/* Server check: each file's version and length match what was accepted. */
static void check_files(struct edit_ctx *x, struct edit_file *const *fs, int nf, struct edit_push *side)
{
	struct bench_api a;
	struct strbuf resp = STRBUF_INIT;

	bench_api_init(&a, &x->url, x->token, (int)(x->o->timeout * 1000));
	strbuf_init(&resp, EDIT_DOC_MAX);
	side->files_checked = 0;
	side->version_mismatches = side->length_mismatches = 0;
	side->check[0] = '\0';
	for (int i = 0; i < nf; i++) {
		struct edit_file *f = fs[i];
		int64_t v = 0, len = 0, want_v;
		struct reconcile rc = { x, f, side };
		int status = 0, err = 0, unknown = 0;

		for (int w = 0; w < f->nwriters; w++)
			unknown += x->writers[f->first_writer + w].nunknown;
		/* With edits of unknown outcome, pushes abandoned by the client
		 * may still be queued in nginx or cohort-api: wait (up to 10 s)
		 * until the version stays put for a second before looking. */
		for (int k = 0; unknown && !err && k < 10; k++) {
			int64_t before = v;

			err = doc_state(&a, f, &resp, &v, &len, &status, NULL, NULL);
			if (k && v == before)
				break;
			usleep(1000000);
		}
		if (!err)
			err = doc_state(&a, f, &resp, &v, &len, &status, reconcile, &rc);
		side->files_checked++;
		if (err) {
			side->version_mismatches++;
			snprintf(side->check, sizeof(side->check), "project %ld: %s (HTTP %d)", f->project,
				 cohort_strerror(err), status);
			continue;
		}
		seen_max(f, v);
		want_v = f->v0 + (int64_t)atomic_load(&f->accepted);
		if (v != want_v) {
			side->version_mismatches++;
			snprintf(side->check, sizeof(side->check),
				 "project %ld: version %lld, want %lld (initial %lld + accepted)", f->project,
				 (long long)v, (long long)want_v, (long long)f->v0);
		}
		if (len != f->len0 + (v - f->v0) * EDIT_MARK_LEN) {
			side->length_mismatches++;
			snprintf(side->check, sizeof(side->check), "project %ld: length %lld at version %lld",
				 f->project, (long long)len, (long long)v);
		}
	}
	bench_api_release(&a);
	strbuf_release(&resp);
}

static void set_cpu_watch(struct edit_result *r, const struct edit_opts *o)
{
	snprintf(r->cpu[0].name, sizeof(r->cpu[0].name), "bench");
	r->cpu[0].pid = (int)getpid();
	r->ncpu = 1;
	for (int i = 0; i < o->cpu_pids.n && r->ncpu < EDIT_MAX_CPU; i++) {
		const char *v = o->cpu_pids.v[i], *eq = strchr(v, '=');
		long pid;

		if (!eq || eq == v || (size_t)(eq - v) >= sizeof(r->cpu[0].name) ||
		    parse_long(eq + 1, &pid) || pid <= 0) {
			fprintf(stderr, WHO ": ignoring --cpu-pid '%s'\n", v);
			continue;
		}
		memcpy(r->cpu[r->ncpu].name, v, (size_t)(eq - v));
		r->cpu[r->ncpu].name[eq - v] = '\0';
		r->cpu[r->ncpu++].pid = (int)pid;
	}
}

static int setup(struct edit_ctx *x, struct edit_result *r)
{
	const struct edit_opts *o = x->o;
	struct bench_api a;
	struct strbuf resp = STRBUF_INIT;
	int64_t t0 = clock_mono_us();
	long project = 0;
	int err = 0;

	bench_api_init(&a, &x->url, x->token, (int)(o->timeout * 1000));
	strbuf_init(&resp, EDIT_DOC_MAX);
	for (int i = 0; !err && i < x->nfiles; i++) {
		struct edit_file *f = &x->files[i];

		/* size: both files in one project; otherwise one project per
		 * file, so a project stream carries exactly one file's updates. */
		if (i == 0 || !edit_is_size(o))
			err = make_project(&a, r, o, i, &resp, &project);
		f->project = project;
		if (!err)
			err = make_file(&a, r, f, &resp);
		snprintf(f->scope, sizeof(f->scope), "project:%ld", f->project);
	}
	r->setup_s = (double)(clock_mono_us() - t0) / 1e6;
	bench_api_release(&a);
	strbuf_release(&resp);
	return err;
}

/* ---- runs ---------------------------------------------------------------- */

static bool subs_caught_up(struct edit_ctx *x, struct bench_clients *bc)
{
	for (size_t i = 0; i < x->nsubs; i++) {
		const struct edit_file *f = &x->files[i % (size_t)x->nfiles];

		if (bench_clients_conn_ok(bc, i) &&
		    atomic_load_explicit(&x->subs[i].progress, memory_order_relaxed) <
			    atomic_load(&f->seen))
			return false;
	}
	return true;
}

/* fanout and hot: subscribers, writers, drain, checks. */
static int run_live(struct edit_ctx *x, struct edit_result *r)
{
	const struct edit_opts *o = x->o;
	struct bench_client_opts co;
	struct bench_clients bc;
	struct scope *scopes = calloc((size_t)x->nfiles, sizeof(*scopes));
	struct edit_file **fs = calloc((size_t)x->nfiles, sizeof(*fs));
	struct edit_push *side = &r->sides[0];
	struct bench_counts cnt;
	struct hist lat_unused, conn_unused;
	char path[600];
	int64_t t0, last_change;
	uint64_t last_seen = 0;
	int err = 0;

	memset(&bc, 0, sizeof(bc));
	if (!scopes || !fs) {
		err = COHORT_E_NOMEM;
		goto out;
	}
	for (int i = 0; i < x->nfiles; i++) {
		snprintf(scopes[i].name, sizeof(scopes[i].name), "%s", x->files[i].scope);
		fs[i] = &x->files[i];
	}
	for (size_t i = 0; i < x->nsubs; i++) {
		x->subs[i].seen.last_version = x->files[i % (size_t)x->nfiles].v_start;
		atomic_store(&x->subs[i].progress, x->subs[i].seen.last_version);
	}
	snprintf(path, sizeof(path), "%s/stream/events", x->url.prefix);
	memset(&co, 0, sizeof(co));
	co.addr = x->url.addr;
	co.addrlen = x->url.addrlen;
	co.host_header = x->url.host_header;
	co.path = path;
	co.scopes = scopes;
	co.nstreams = (size_t)x->nfiles;
	co.nconns = x->nsubs;
	co.threads = (int)o->threads;
	co.connect_batch = 64;
	co.connect_timeout_ms = (int)(o->timeout * 1000);
	co.max_line = 64 * 1024;
	co.origin_us = clock_wall_us();
	co.token = x->token;
	co.on_event = on_update;
	co.event_arg = x;
	if (x->nsubs) {
		if ((err = bench_clients_start(&bc, &co)))
			goto out;
		t0 = clock_mono_us();
		while (bench_clients_resolved(&bc) < x->nsubs &&
		       clock_mono_us() - t0 < (int64_t)(o->timeout * 1e6) + 1000000)
			usleep(10000);
		usleep((useconds_t)(o->settle * 1e6));
	}
	x->measure_from_us = clock_wall_us() + (int64_t)(o->warmup * 1e6);
	err = run_writers(x, 0, x->nwriters, o->duration, o->rate, side, r);
	check_files(x, fs, x->nfiles, side);
	/* Drain: until every subscriber has the newest version of its file,
	 * nothing new arrived for 3 s, or --drain passed. */
	t0 = last_change = clock_mono_us();
	while (x->nsubs && !subs_caught_up(x, &bc)) {
		uint64_t d = bench_clients_delivered(&bc);
		int64_t now = clock_mono_us();

		if (d != last_seen) {
			last_seen = d;
			last_change = now;
		}
		if (now - t0 > (int64_t)(o->drain * 1e6) || now - last_change > 3000000)
			break;
		usleep(10000);
	}
	r->drain_s = (double)(clock_mono_us() - t0) / 1e6;
	if (!x->nsubs)
		goto out;
	bench_clients_stop(&bc);
	bench_clients_totals(&bc, &cnt, &lat_unused, &conn_unused);
	r->connected = cnt.connected;
	r->connect_failed = cnt.connect_failed + cnt.http_errors + cnt.not_event_stream;
	r->http_errors = cnt.http_errors;
	r->closed = cnt.closed + cnt.read_errors + cnt.parse_errors;
	r->resets = cnt.resets;
	snprintf(r->server, sizeof(r->server), "%s", bench_clients_server(&bc));
	bench_clients_spread(&bc, &r->per_conn_min, &r->per_conn_max);
	for (int j = 0; j < o->threads; j++) {
		const struct edit_counts *c = &x->tstat[j].c;

		hist_merge(&r->latency_us, &x->tstat[j].lat);
		r->lost += c->lost;
		r->duplicates += c->duplicates;
		r->edit_duplicates += c->edit_duplicates;
		r->edit_gaps += c->edits_skipped;
		r->foreign += c->foreign;
	}
	for (size_t i = 0; i < x->nsubs; i++) {
		const struct edit_file *f = &x->files[i % (size_t)x->nfiles];
		const struct edit_seen *s = &x->subs[i].seen;
		int64_t final = f->v0 + (int64_t)atomic_load(&f->accepted);
		uint64_t want = 0;

		if (!bench_clients_conn_ok(&bc, i))
			continue;
		r->updates_expected += (uint64_t)(final - f->v_start);
		r->updates_delivered += s->updates;
		if (s->last_version < final)
			r->lost += (uint64_t)(final - s->last_version);
		for (int w = 0; w < f->nwriters; w++)
			want += x->writers[f->first_writer + w].accepted;
		if (s->edits < want)
			r->edits_missing += want - s->edits;
	}
out:
	if (x->nsubs && !r->server[0])
		snprintf(r->server, sizeof(r->server), "%s", bench_clients_server(&bc));
	bench_clients_release(&bc);
	free(scopes);
	free(fs);
	return err;
}

/* size: the same writers on the small file, then the large one, rounds times. */
static int run_size(struct edit_ctx *x, struct edit_result *r)
{
	const struct edit_opts *o = x->o;
	int w = (int)o->writers;
	int err = 0;

	if (o->warmup > 0)
		for (int k = 0; !err && k < 2; k++)
			err = run_writers(x, k * w, w, o->warmup, o->rate, NULL, r);
	for (long round = 0; !err && round < o->rounds; round++)
		for (int k = 0; !err && k < 2; k++)
			err = run_writers(x, k * w, w, o->duration, o->rate, &r->sides[k], r);
	for (int k = 0; k < 2; k++) {
		struct edit_file *f = &x->files[k];

		check_files(x, &f, 1, &r->sides[k]);
	}
	return err;
}

static int build(struct edit_ctx *x, struct edit_result *r)
{
	const struct edit_opts *o = x->o;
	int nw = (int)o->writers;

	x->nfiles = edit_is_size(o) ? 2 : (int)o->files;
	x->nwriters = x->nfiles * nw;
	x->nsubs = (size_t)x->nfiles * (size_t)o->subscribers;
	x->files = calloc((size_t)x->nfiles, sizeof(*x->files));
	x->writers = calloc((size_t)x->nwriters, sizeof(*x->writers));
	x->subs = calloc(x->nsubs ? x->nsubs : 1, sizeof(*x->subs));
	if (!x->files || !x->writers || !x->subs)
		return COHORT_E_NOMEM;
	for (int i = 0; i < x->nfiles; i++) {
		struct edit_file *f = &x->files[i];

		f->path = o->path;
		if (edit_is_size(o))
			f->path = i == 0 ? "edit-small.txt" : "edit-large.txt";
		f->bytes = edit_is_size(o) ? (i == 0 ? o->small : o->large) : o->initial;
		f->first_writer = i * nw;
		f->nwriters = nw;
	}
	for (int i = 0; i < x->nwriters; i++) {
		x->writers[i].x = x;
		x->writers[i].idx = i;
		x->writers[i].f = &x->files[i / nw];
		x->writers[i].rnd = (uint64_t)i * 7919u + (uint64_t)clock_wall_us();
	}
	for (size_t i = 0; i < x->nsubs; i++)
		if (!(x->subs[i].seen.wseq = calloc((size_t)nw, sizeof(uint32_t))))
			return COHORT_E_NOMEM;
	for (int j = 0; j < 16; j++)
		hist_init(&x->tstat[j].lat);
	hist_init(&r->latency_us);
	r->nsides = edit_is_size(o) ? 2 : 1;
	for (int k = 0; k < r->nsides; k++) {
		r->sides[k].label = edit_is_size(o) ? (k == 0 ? "small" : "large") : "edits";
		r->sides[k].file_bytes = x->files[k].bytes;
		hist_init(&r->sides[k].push_us);
		hist_init(&r->sides[k].accept_us);
	}
	return 0;
}

static void ctx_free(struct edit_ctx *x)
{
	if (!x)
		return;
	for (size_t i = 0; x->subs && i < x->nsubs; i++)
		free(x->subs[i].seen.wseq);
	free(x->subs);
	free(x->writers);
	free(x->files);
	free(x);
}

int bench_edit_main(int argc, char **argv)
{
	struct edit_opts o;
	struct edit_ctx *x = NULL;
	struct edit_result *r = NULL;
	struct files_target t[BENCH_MAX_MULTI];
	char err_s[256];
	time_t now = time(NULL);
	struct tm tm;
	bool pass = true;
	int nt = 0, ret = 2, e;

	e = edit_opts_parse(argc, argv, &o);
	if (e) {
		ret = e > 0 ? 0 : 2; /* 1: --help was printed */
		goto out;
	}
	for (int i = 0; i < o.targets.n; i++) {
		if (files_target_parse(&t[nt], o.targets.v[i])) {
			fprintf(stderr, WHO ": bad target '%s'\n", o.targets.v[i]);
			goto out;
		}
		nt++;
	}
	x = calloc(1, sizeof(*x));
	r = calloc(1, sizeof(*r));
	if (!x || !r) {
		ret = 1;
		goto out;
	}
	x->o = &o;
	if (bench_token_load(o.token_file, WHO, x->token, sizeof(x->token)))
		goto out;
	if (sys_url_parse(o.url, &x->url, err_s, sizeof(err_s))) {
		fprintf(stderr, WHO ": %s\n", err_s);
		goto out;
	}
	ret = 1;
	sys_raise_nofile();
	gmtime_r(&now, &tm);
	strftime(r->date, sizeof(r->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	set_cpu_watch(r, &o);
	e = build(x, r);
	if (!e)
		e = setup(x, r);
	if (!e)
		e = edit_is_size(&o) ? run_size(x, r) : run_live(x, r);
	if (e && !r->error[0])
		snprintf(r->error, sizeof(r->error), "%s", cohort_strerror(e));
	for (int i = 0; i < nt; i++) {
		double v = 0;
		bool known = edit_metric(r, t[i].metric, &v);

		files_target_decide(&t[i], known, v);
		pass = pass && t[i].pass;
	}
	edit_report_print(r, &o, t, nt, stdout);
	fflush(stdout);
	if (o.out && edit_report_json(r, &o, t, nt, pass && !e, o.out)) {
		fprintf(stderr, WHO ": cannot write %s\n", o.out);
		goto out;
	}
	/* 0 when setup and the run completed and edits were accepted, whatever
	 * the targets say. */
	if (!e && r->sides[0].accepted > 0)
		ret = 0;
out:
	ctx_free(x);
	free(r);
	return ret;
}
