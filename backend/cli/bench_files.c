/*
 * bench_files.c — `cohort-bench files read4k|list2000`: options, setup, the
 * measured phases, targets and the report (text and JSON; schema in
 * docs/bench.md).
 *
 * Both scenarios drive bench_http's closed-loop client through nginx with a
 * Bearer token, so what is measured is the whole request path a browser
 * takes. read4k alternates phases on the hello responder and on the file
 * (hello, file, hello, file, ...) so that other load on a shared machine
 * falls on both sides alike; each side's requests/s is its completed
 * requests over the sum of its phases' durations. Setup requests (creating
 * the files) are never measured.
 */
#include "cli/bench_api.h"
#include "cli/bench_files.h"
#include "cli/bench_files_report.h"
#include "cli/bench_http.h"
#include "cli/bench_sys.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/num.h"
#include "core/strbuf.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FILES_TREE_MAX ((size_t)64 << 20)

static const struct bench_opt opts[] = {
	{ "url", BENCH_OPT_STR, offsetof(struct files_opts, url), "URL", "nginx in front of cohort (required)" },
	{ "project", BENCH_OPT_LONG, offsetof(struct files_opts, project), "ID",
	  "the project to read or list, writable by the token's user (required)" },
	{ "token-file", BENCH_OPT_STR, offsetof(struct files_opts, token_file), "FILE",
	  "file holding the Bearer token (else $COHORT_BENCH_TOKEN)" },
	{ "connections", BENCH_OPT_LONG, offsetof(struct files_opts, connections), "C",
	  "concurrent keep-alive connections (read4k 8, list2000 1)" },
	{ "duration", BENCH_OPT_DBL, offsetof(struct files_opts, duration), "S",
	  "measured seconds per phase (5)" },
	{ "warmup", BENCH_OPT_DBL, offsetof(struct files_opts, warmup), "S",
	  "unmeasured seconds before each side's first phase (1)" },
	{ "rounds", BENCH_OPT_LONG, offsetof(struct files_opts, rounds), "N",
	  "read4k: alternating hello/file phase pairs (2)" },
	{ "hello", BENCH_OPT_STR, offsetof(struct files_opts, hello), "PATH",
	  "read4k: the hello-fcgi location behind nginx (/bench/hello)" },
	{ "size", BENCH_OPT_LONG, offsetof(struct files_opts, size), "BYTES", "read4k: file size (4096)" },
	{ "path", BENCH_OPT_STR, offsetof(struct files_opts, path), "P",
	  "read4k: the file's path (bench-read4k.txt); list2000: name prefix (file-)" },
	{ "files", BENCH_OPT_LONG, offsetof(struct files_opts, files), "N",
	  "list2000: files created in the project (2000)" },
	{ "setup-connections", BENCH_OPT_LONG, offsetof(struct files_opts, setup_connections), "C",
	  "parallel requests while creating files (8)" },
	{ "timeout", BENCH_OPT_DBL, offsetof(struct files_opts, timeout), "S", "per request (10)" },
	{ "cpu-pid", BENCH_OPT_MULTI, offsetof(struct files_opts, cpu_pids), "NAME=PID",
	  "report CPU use of this process and its children per phase (repeatable)" },
	{ "out", BENCH_OPT_STR, offsetof(struct files_opts, out), "FILE", "write the JSON report here" },
	{ "name", BENCH_OPT_STR, offsetof(struct files_opts, name), "NAME", "scenario name in the report" },
	{ "note", BENCH_OPT_STR, offsetof(struct files_opts, note), "TEXT", "free text kept in the JSON" },
	{ "target", BENCH_OPT_MULTI, offsetof(struct files_opts, targets), "EXPR",
	  "a goal such as ratio>=0.7 or p99_ms<=10, reported as pass/fail (repeatable)" },
	{ "help", BENCH_OPT_FLAG, offsetof(struct files_opts, help), NULL, "this text" },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *f)
{
	bench_opts_usage(f, "cohort-bench files read4k|list2000 --url URL --project ID [options]", opts, NOPTS);
	fprintf(f, "\ntarget metrics: read4k: ratio hello_rps file_rps p50_ms p99_ms errors;\n"
		   "                list2000: rps p50_ms p99_ms p999_ms max_ms errors\n");
}

static int check_opts(const struct files_opts *o)
{
	const char *why = NULL;

	if (!o->scenario || (strcmp(o->scenario, "read4k") && strcmp(o->scenario, "list2000")))
		why = "the scenario must be read4k or list2000";
	else if (!o->url)
		why = "--url is required";
	else if (o->project < 1)
		why = "--project is required";
	else if (o->connections < 1 || o->connections > 1024 || o->setup_connections < 1 ||
		 o->setup_connections > 1024)
		why = "--connections and --setup-connections must be 1..1024";
	else if (o->duration <= 0 || o->warmup < 0 || o->timeout <= 0)
		why = "--duration and --timeout must be > 0, --warmup >= 0";
	else if (o->rounds < 1 || o->rounds > 100)
		why = "--rounds must be 1..100";
	else if (o->size < 0 || o->size > (8L << 20))
		why = "--size must be 0..8388608";
	else if (o->files < 1 || o->files > 100000)
		why = "--files must be 1..100000";
	else if (!o->hello || o->hello[0] != '/' || strlen(o->hello) > 256)
		why = "--hello must be a path";
	else if (!o->path || !o->path[0] || strlen(o->path) > 200 || strpbrk(o->path, " %&?#\r\n"))
		why = "--path must be a plain relative path";
	if (why)
		fprintf(stderr, "cohort-bench files: %s\n", why);
	return why ? COHORT_E_INVAL : 0;
}

/* ---- requests ---------------------------------------------------------- */

struct files_ctx {
	const struct files_opts *o;
	struct sys_url url;
	char token[BENCH_TOKEN_MAX];
	struct strbuf content; /* the body of every file created */
};

static int add_request(struct strbuf *sb, const struct files_ctx *x, const char *method,
		       const char *target, size_t body_len)
{
	int err = strbuf_addf(sb, "%s %s%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
				  "User-Agent: cohort-bench\r\n",
			      method, x->url.prefix, target, x->url.host_header, x->token);

	if (!err && body_len != (size_t)-1)
		err = strbuf_addf(sb, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n",
				  body_len);
	if (!err)
		err = strbuf_adds(sb, "\r\n");
	return err;
}

static int file_target(char *buf, size_t cap, const struct files_ctx *x, const char *path)
{
	int n = snprintf(buf, cap, "/api/v1/projects/%ld/file?path=%s", x->o->project, path);

	return n < 0 || (size_t)n >= cap ? COHORT_E_LIMIT : 0;
}

/* list2000 setup: request seq creates <path><seq>.txt. */
static int make_create(void *arg, uint64_t seq, struct strbuf *out)
{
	const struct files_ctx *x = arg;
	char path[256], target[512];
	int n, err;

	if (seq >= (uint64_t)x->o->files)
		return 1;
	n = snprintf(path, sizeof(path), "%s%04llu.txt", x->o->path, (unsigned long long)seq);
	if (n < 0 || (size_t)n >= sizeof(path))
		return COHORT_E_LIMIT;
	if ((err = file_target(target, sizeof(target), x, path)))
		return err;
	err = add_request(out, x, "PUT", target, x->content.len);
	if (!err)
		err = strbuf_add(out, x->content.buf, x->content.len);
	return err;
}

/* Printable text of n bytes in 64-byte lines, so it is stored as text. */
static int fill_content(struct strbuf *sb, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = (i % 64 == 63) ? '\n' : (char)('a' + (i * 7 + i / 64) % 26);
		int err = strbuf_addch(sb, c);

		if (err)
			return err;
	}
	return 0;
}

/* ---- phases ------------------------------------------------------------ */

static void sum_into(struct http_load_result *s, const struct http_load_result *r)
{
	s->requests += r->requests;
	for (int i = 0; i < 6; i++)
		s->status[i] += r->status[i];
	s->connect_errors += r->connect_errors;
	s->read_errors += r->read_errors;
	s->parse_errors += r->parse_errors;
	s->timeouts += r->timeouts;
	s->closed += r->closed;
	s->reconnects += r->reconnects;
	s->bytes += r->bytes;
	s->body_bytes += r->body_bytes;
	if (r->last_bad_status)
		s->last_bad_status = r->last_bad_status;
	if (!s->server[0])
		memcpy(s->server, r->server, sizeof(s->server));
	if (!s->error[0])
		memcpy(s->error, r->error, sizeof(s->error));
	hist_merge(&s->latency_us, &r->latency_us);
}

static void load_opts(struct http_load_opts *lo, const struct files_ctx *x, long conns,
		      double duration)
{
	memset(lo, 0, sizeof(*lo));
	lo->addr = x->url.addr;
	lo->addrlen = x->url.addrlen;
	lo->conns = (int)conns;
	lo->duration_s = duration;
	lo->timeout_ms = (int)(x->o->timeout * 1000);
}

/* One measured phase of side s with request req; CPU read around it. */
static int run_phase(struct files_run *fr, struct files_side *s, const struct files_ctx *x,
		     const struct strbuf *req, int round)
{
	struct http_load_opts lo;
	struct http_load_result *r = malloc(sizeof(*r));
	int64_t cpu0[FILES_MAX_CPU];
	uint64_t busy0 = 0, total0 = 0, busy1 = 0, total1 = 0;
	int err;

	if (!r)
		return COHORT_E_NOMEM;
	load_opts(&lo, x, x->o->connections, x->o->duration);
	lo.fixed = req->buf;
	lo.fixed_len = req->len;
	for (int i = 0; i < fr->ncpu; i++)
		cpu0[i] = sys_proc_tree_cpu_us(fr->cpu[i].pid);
	sys_host_cpu(&busy0, &total0);
	err = http_load_run(&lo, r);
	sys_host_cpu(&busy1, &total1);
	for (int i = 0; i < fr->ncpu; i++) {
		int64_t now = sys_proc_tree_cpu_us(fr->cpu[i].pid);

		if (now >= 0 && cpu0[i] >= 0)
			s->cpu_s[i] += (double)(now - cpu0[i]) / 1e6;
	}
	s->host_busy += busy1 - busy0;
	s->host_total += total1 - total0;
	if (!err) {
		sum_into(&s->sum, r);
		s->wall_s += r->wall_s;
		if (round >= 0 && round < 100)
			s->round_rps[round] = r->rps;
		s->phases++;
	}
	free(r);
	return err;
}

static int run_warmup(const struct files_ctx *x, const struct strbuf *req)
{
	struct http_load_opts lo;
	struct http_load_result *r;
	int err;

	if (x->o->warmup <= 0)
		return 0;
	if (!(r = malloc(sizeof(*r))))
		return COHORT_E_NOMEM;
	load_opts(&lo, x, x->o->connections, x->o->warmup);
	lo.fixed = req->buf;
	lo.fixed_len = req->len;
	err = http_load_run(&lo, r);
	free(r);
	return err;
}

/* One request, its status, and (capture) its body. */
static int one_request(const struct files_ctx *x, const struct strbuf *req, struct strbuf *capture,
		       struct http_load_result *r)
{
	struct http_load_opts lo;

	load_opts(&lo, x, 1, 0);
	lo.max_requests = 1;
	lo.fixed = req->buf;
	lo.fixed_len = req->len;
	lo.capture = capture;
	return http_load_run(&lo, r);
}

static int status_of(const struct http_load_result *r)
{
	for (int c = 1; c <= 5; c++)
		if (r->status[c] && c != 2)
			return r->last_bad_status;
	return r->status[2] ? 200 : 0;
}

/* read4k setup: the file exists with exactly --size bytes. */
static int setup_read4k(struct files_run *fr, struct files_ctx *x, const char *target)
{
	struct strbuf req = STRBUF_INIT, body = STRBUF_INIT;
	struct http_load_result *r = malloc(sizeof(*r));
	int err;

	if (!r)
		return COHORT_E_NOMEM;
	err = add_request(&req, x, "PUT", target, x->content.len);
	if (!err)
		err = strbuf_add(&req, x->content.buf, x->content.len);
	if (!err)
		err = one_request(x, &req, NULL, r);
	/* 201 created; 428 (no If-Match) means it exists from an earlier run. */
	if (!err && r->requests == 1 && r->last_bad_status != 0 && r->last_bad_status != 428) {
		snprintf(fr->error, sizeof(fr->error), "creating the file: HTTP %d", r->last_bad_status);
		err = COHORT_E_UNAVAILABLE;
	} else if (!err && r->requests != 1) {
		snprintf(fr->error, sizeof(fr->error), "creating the file: %.150s", r->error);
		err = COHORT_E_IO;
	}
	strbuf_reset(&req);
	if (!err)
		err = add_request(&req, x, "GET", target, (size_t)-1);
	strbuf_init(&body, (size_t)x->o->size + 1024);
	if (!err)
		err = one_request(x, &req, &body, r);
	if (!err) {
		fr->setup_status = status_of(r);
		if (fr->setup_status != 200 || body.len != x->content.len ||
		    memcmp(body.buf, x->content.buf, body.len)) {
			snprintf(fr->error, sizeof(fr->error),
				 "reading the file back: HTTP %d, %zu bytes (want %zu, same content)",
				 fr->setup_status, body.len, x->content.len);
			err = COHORT_E_UNAVAILABLE;
		}
	}
	strbuf_release(&req);
	strbuf_release(&body);
	free(r);
	return err;
}

static uint64_t count_substr(const char *s, size_t n, const char *w)
{
	size_t wl = strlen(w);
	uint64_t k = 0;
	const char *p = s, *end = s + n;

	while (p < end && (p = memmem(p, (size_t)(end - p), w, wl))) {
		k++;
		p += wl;
	}
	return k;
}

/* list2000 setup: --files files exist (created now, or by an earlier run). */
static int setup_list(struct files_run *fr, struct files_ctx *x, const struct strbuf *tree_req)
{
	struct http_load_opts lo;
	struct http_load_result *r = malloc(sizeof(*r));
	struct strbuf body = STRBUF_INIT;
	int64_t t0 = clock_mono_us();
	int err;

	if (!r)
		return COHORT_E_NOMEM;
	load_opts(&lo, x, x->o->setup_connections, 0);
	lo.make = make_create;
	lo.arg = x;
	lo.max_requests = (uint64_t)x->o->files;
	err = http_load_run(&lo, r);
	fr->setup_s = (double)(clock_mono_us() - t0) / 1e6;
	if (!err) {
		/* 428: the file exists already (no If-Match given). */
		fr->created = r->status[2];
		fr->existing = r->status[4];
		fr->setup_failed = http_load_errors(r) - r->status[4];
		if (fr->setup_failed || r->requests != (uint64_t)x->o->files) {
			snprintf(fr->error, sizeof(fr->error),
				 "creating %ld files: %llu created, %llu failed (last status %d) %.80s",
				 x->o->files, (unsigned long long)fr->created,
				 (unsigned long long)fr->setup_failed, r->last_bad_status, r->error);
			err = COHORT_E_UNAVAILABLE;
		}
	}
	strbuf_init(&body, FILES_TREE_MAX);
	if (!err)
		err = one_request(x, tree_req, &body, r);
	if (!err) {
		fr->setup_status = status_of(r);
		fr->tree_bytes = body.len;
		fr->tree_entries = count_substr(body.buf, body.len, "\"kind\":");
		fr->tree_files = count_substr(body.buf, body.len, "\"kind\":\"file\"");
		if (fr->setup_status != 200 || fr->tree_files < (uint64_t)x->o->files) {
			snprintf(fr->error, sizeof(fr->error), "the tree: HTTP %d with %llu files (want %ld)",
				 fr->setup_status, (unsigned long long)fr->tree_files, x->o->files);
			err = COHORT_E_UNAVAILABLE;
		}
	}
	strbuf_release(&body);
	free(r);
	return err;
}

static void set_cpu_watch(struct files_run *fr, const struct files_opts *o)
{
	snprintf(fr->cpu[0].name, sizeof(fr->cpu[0].name), "bench");
	fr->cpu[0].pid = (int)getpid();
	fr->ncpu = 1;
	for (int i = 0; i < o->cpu_pids.n && fr->ncpu < FILES_MAX_CPU; i++) {
		const char *v = o->cpu_pids.v[i], *eq = strchr(v, '=');
		long pid;

		if (!eq || eq == v || (size_t)(eq - v) >= sizeof(fr->cpu[0].name) ||
		    parse_long(eq + 1, &pid) || pid <= 0) {
			fprintf(stderr, "cohort-bench files: ignoring --cpu-pid '%s'\n", v);
			continue;
		}
		memcpy(fr->cpu[fr->ncpu].name, v, (size_t)(eq - v));
		fr->cpu[fr->ncpu].name[eq - v] = '\0';
		fr->cpu[fr->ncpu++].pid = (int)pid;
	}
}

int bench_files_main(int argc, char **argv)
{
	struct files_opts o = {
		.connections = 0, .setup_connections = 8, .rounds = 2, .size = 4096, .files = 2000,
		.duration = 5, .warmup = 1, .timeout = 10, .hello = "/bench/hello",
	};
	struct files_ctx *x = NULL;
	struct files_run *fr = NULL;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct files_target t[BENCH_MAX_MULTI];
	const char *targets[2] = { "", "" };
	char err_s[256], file_tgt[512], tree_tgt[128];
	time_t now = time(NULL);
	struct tm tm;
	bool pass = true;
	int nt = 0, ret = 2, e;

	if (bench_opts_parse("cohort-bench files", argc, argv, opts, NOPTS, &o, &o.scenario))
		goto out;
	if (o.help) {
		usage(stdout);
		ret = 0;
		goto out;
	}
	if (o.scenario && !o.connections)
		o.connections = files_is_read4k(&o) ? 8 : 1;
	if (o.scenario && !o.path)
		o.path = files_is_read4k(&o) ? "bench-read4k.txt" : "file-";
	if (check_opts(&o))
		goto out;
	for (int i = 0; i < o.targets.n; i++) {
		if (files_target_parse(&t[nt], o.targets.v[i])) {
			fprintf(stderr, "cohort-bench files: bad target '%s'\n", o.targets.v[i]);
			goto out;
		}
		nt++;
	}
	x = calloc(1, sizeof(*x));
	fr = calloc(1, sizeof(*fr));
	if (!x || !fr) {
		ret = 1;
		goto out;
	}
	x->o = &o;
	if (bench_token_load(o.token_file, "cohort-bench files", x->token, sizeof(x->token)))
		goto out;
	if (sys_url_parse(o.url, &x->url, err_s, sizeof(err_s))) {
		fprintf(stderr, "cohort-bench files: %s\n", err_s);
		goto out;
	}
	ret = 1;
	sys_raise_nofile();
	gmtime_r(&now, &tm);
	strftime(fr->date, sizeof(fr->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	set_cpu_watch(fr, &o);
	strbuf_init(&x->content, (size_t)o.size + 1);
	if (fill_content(&x->content, files_is_read4k(&o) ? (size_t)o.size : 64))
		goto out;
	for (int i = 0; i < 2; i++) {
		hist_init(&fr->sides[i].sum.latency_us);
	}
	if (files_is_read4k(&o)) {
		if (file_target(file_tgt, sizeof(file_tgt), x, o.path))
			goto out;
		fr->nsides = 2;
		fr->sides[0].name = "hello";
		fr->sides[1].name = "file";
		targets[0] = o.hello;
		targets[1] = file_tgt;
		e = setup_read4k(fr, x, file_tgt);
		if (!e)
			e = add_request(&a, x, "GET", o.hello, (size_t)-1);
		if (!e)
			e = add_request(&b, x, "GET", file_tgt, (size_t)-1);
		if (!e)
			e = run_warmup(x, &a);
		if (!e)
			e = run_warmup(x, &b);
		for (long k = 0; !e && k < o.rounds; k++) {
			e = run_phase(fr, &fr->sides[0], x, &a, (int)k);
			if (!e)
				e = run_phase(fr, &fr->sides[1], x, &b, (int)k);
		}
	} else {
		snprintf(tree_tgt, sizeof(tree_tgt), "/api/v1/projects/%ld/tree", o.project);
		fr->nsides = 1;
		fr->sides[0].name = "list";
		targets[0] = tree_tgt;
		e = add_request(&a, x, "GET", tree_tgt, (size_t)-1);
		if (!e)
			e = setup_list(fr, x, &a);
		if (!e)
			e = run_warmup(x, &a);
		if (!e)
			e = run_phase(fr, &fr->sides[0], x, &a, 0);
	}
	if (e && !fr->error[0])
		snprintf(fr->error, sizeof(fr->error), "%s", cohort_strerror(e));
	for (int i = 0; i < fr->nsides; i++)
		if (!fr->server[0])
			memcpy(fr->server, fr->sides[i].sum.server, sizeof(fr->server));
	for (int i = 0; i < nt; i++) {
		files_target_eval(&t[i], fr);
		pass = pass && t[i].pass;
	}
	files_report_print(fr, &o, t, nt, stdout);
	fflush(stdout);
	if (o.out) {
		if (files_report_json(fr, &o, t, nt, pass && !e, targets, o.out)) {
			fprintf(stderr, "cohort-bench files: cannot write %s\n", o.out);
			goto out;
		}
	}
	/* Exit 0 when the run completed and requests succeeded, whatever the
	 * targets say; 1 when setup or the measurement itself failed. */
	if (!e && files_main_side(fr)->sum.status[2] > 0)
		ret = 0;
out:
	strbuf_release(&a);
	strbuf_release(&b);
	if (x)
		strbuf_release(&x->content);
	free(x);
	free(fr);
	return ret;
}
