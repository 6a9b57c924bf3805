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
#include "cli/bench_files.h"
#include "cli/bench_http.h"
#include "cli/bench_sys.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/num.h"
#include "core/strbuf.h"

#include <json.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FILES_MAX_MULTI 16
#define FILES_MAX_CPU 8
#define FILES_TOKEN_MAX 4096
#define FILES_TREE_MAX ((size_t)64 << 20)

struct multi {
	const char *v[FILES_MAX_MULTI];
	int n;
};

struct files_opts {
	const char *scenario;
	const char *url;
	const char *token_file;
	const char *out;
	const char *name;
	const char *note;
	const char *hello;
	const char *path;
	long project;
	long connections;
	long setup_connections;
	long rounds;
	long size;
	long files;
	double duration;
	double warmup;
	double timeout;
	bool help;
	struct multi targets;
	struct multi cpu_pids;
};

enum opt_type { OPT_STR, OPT_LONG, OPT_DBL, OPT_FLAG, OPT_MULTI };

static const struct opt {
	const char *name;
	enum opt_type type;
	size_t off;
	const char *arg;
	const char *help;
} opts[] = {
	{ "url", OPT_STR, offsetof(struct files_opts, url), "URL", "nginx in front of cohort (required)" },
	{ "project", OPT_LONG, offsetof(struct files_opts, project), "ID",
	  "the project to read or list, writable by the token's user (required)" },
	{ "token-file", OPT_STR, offsetof(struct files_opts, token_file), "FILE",
	  "file holding the Bearer token (else $COHORT_BENCH_TOKEN)" },
	{ "connections", OPT_LONG, offsetof(struct files_opts, connections), "C",
	  "concurrent keep-alive connections (read4k 8, list2000 1)" },
	{ "duration", OPT_DBL, offsetof(struct files_opts, duration), "S",
	  "measured seconds per phase (5)" },
	{ "warmup", OPT_DBL, offsetof(struct files_opts, warmup), "S",
	  "unmeasured seconds before each side's first phase (1)" },
	{ "rounds", OPT_LONG, offsetof(struct files_opts, rounds), "N",
	  "read4k: alternating hello/file phase pairs (2)" },
	{ "hello", OPT_STR, offsetof(struct files_opts, hello), "PATH",
	  "read4k: the hello-fcgi location behind nginx (/bench/hello)" },
	{ "size", OPT_LONG, offsetof(struct files_opts, size), "BYTES", "read4k: file size (4096)" },
	{ "path", OPT_STR, offsetof(struct files_opts, path), "P",
	  "read4k: the file's path (bench-read4k.txt); list2000: name prefix (file-)" },
	{ "files", OPT_LONG, offsetof(struct files_opts, files), "N",
	  "list2000: files created in the project (2000)" },
	{ "setup-connections", OPT_LONG, offsetof(struct files_opts, setup_connections), "C",
	  "parallel requests while creating files (8)" },
	{ "timeout", OPT_DBL, offsetof(struct files_opts, timeout), "S", "per request (10)" },
	{ "cpu-pid", OPT_MULTI, offsetof(struct files_opts, cpu_pids), "NAME=PID",
	  "report CPU use of this process and its children per phase (repeatable)" },
	{ "out", OPT_STR, offsetof(struct files_opts, out), "FILE", "write the JSON report here" },
	{ "name", OPT_STR, offsetof(struct files_opts, name), "NAME", "scenario name in the report" },
	{ "note", OPT_STR, offsetof(struct files_opts, note), "TEXT", "free text kept in the JSON" },
	{ "target", OPT_MULTI, offsetof(struct files_opts, targets), "EXPR",
	  "a goal such as ratio>=0.7 or p99_ms<=10, reported as pass/fail (repeatable)" },
	{ "help", OPT_FLAG, offsetof(struct files_opts, help), NULL, "this text" },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: cohort-bench files read4k|list2000 --url URL --project ID [options]\n\n");
	for (size_t i = 0; i < NOPTS; i++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
			 opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-26s %s\n", left, opts[i].help);
	}
	fprintf(f, "\ntarget metrics: read4k: ratio hello_rps file_rps p50_ms p99_ms errors;\n"
		   "                list2000: rps p50_ms p99_ms p999_ms max_ms errors\n");
}

static int parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return COHORT_E_INVAL;
	v = strtod(s, &end);
	if (*end || v != v)
		return COHORT_E_INVAL;
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct files_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		const struct opt *op = NULL;
		size_t nl;
		char *base = (char *)o;

		if (strncmp(a, "--", 2)) {
			if (!o->scenario) {
				o->scenario = a;
				continue;
			}
			fprintf(stderr, "cohort-bench files: unexpected argument '%s'\n", a);
			return COHORT_E_INVAL;
		}
		a += 2;
		eq = strchr(a, '=');
		nl = eq ? (size_t)(eq - a) : strlen(a);
		for (size_t k = 0; k < NOPTS; k++)
			if (strlen(opts[k].name) == nl && !strncmp(opts[k].name, a, nl))
				op = &opts[k];
		if (!op) {
			fprintf(stderr, "cohort-bench files: unknown option '%s'\n", argv[i]);
			return COHORT_E_INVAL;
		}
		if (op->type == OPT_FLAG) {
			*(bool *)(base + op->off) = true;
			continue;
		}
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			fprintf(stderr, "cohort-bench files: --%s needs a value\n", op->name);
			return COHORT_E_INVAL;
		}
		switch (op->type) {
		case OPT_STR:
			*(const char **)(base + op->off) = val;
			break;
		case OPT_LONG:
			if (parse_long(val, (long *)(base + op->off)))
				goto bad;
			break;
		case OPT_DBL:
			if (parse_double(val, (double *)(base + op->off)))
				goto bad;
			break;
		case OPT_MULTI: {
			struct multi *m = (struct multi *)(base + op->off);

			if (m->n >= FILES_MAX_MULTI)
				goto bad;
			m->v[m->n++] = val;
			break;
		}
		case OPT_FLAG:
			break;
		}
		continue;
bad:
		fprintf(stderr, "cohort-bench files: bad value for --%s: '%s'\n", op->name, val);
		return COHORT_E_INVAL;
	}
	return 0;
}

static bool is_read4k(const struct files_opts *o)
{
	return !strcmp(o->scenario, "read4k");
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

/* The token from --token-file or $COHORT_BENCH_TOKEN, without whitespace. */
static int load_token(const struct files_opts *o, char *tok, size_t cap)
{
	const char *env = getenv("COHORT_BENCH_TOKEN");
	size_t n = 0;

	if (o->token_file) {
		FILE *f = fopen(o->token_file, "r");

		if (!f) {
			fprintf(stderr, "cohort-bench files: cannot read %s\n", o->token_file);
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
		fprintf(stderr, "cohort-bench files: no usable token (--token-file or $COHORT_BENCH_TOKEN)\n");
		return COHORT_E_INVAL;
	}
	return 0;
}

/* ---- requests ---------------------------------------------------------- */

struct files_ctx {
	const struct files_opts *o;
	struct sys_url url;
	char token[FILES_TOKEN_MAX];
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

struct cpu_watch {
	char name[32];
	int pid;
	int64_t start_us;
};

/* One side's totals over all its measured phases. */
struct side {
	const char *name;
	struct http_load_result sum;
	double wall_s;
	int phases;
	double cpu_s[FILES_MAX_CPU];
	uint64_t host_busy, host_total;
	double round_rps[100];
};

struct files_run {
	struct cpu_watch cpu[FILES_MAX_CPU];
	int ncpu;
	struct side sides[2];
	int nsides;
	/* setup */
	uint64_t created, existing, setup_failed;
	double setup_s;
	int setup_status;
	uint64_t tree_entries, tree_files, tree_bytes;
	char date[32];
	char server[64];
	char error[320];
};

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
static int run_phase(struct files_run *fr, struct side *s, const struct files_ctx *x,
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

/* ---- targets and report ------------------------------------------------ */

struct target {
	char expr[64];
	char metric[32];
	char op[3];
	double threshold, value;
	bool known, pass;
};

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

static double side_rps(const struct side *s)
{
	return s->wall_s > 0 ? (double)s->sum.requests / s->wall_s : 0;
}

/* The side a scenario's single-side metrics refer to: the file, or the list. */
static const struct side *main_side(const struct files_run *fr)
{
	return &fr->sides[fr->nsides - 1];
}

static uint64_t total_errors(const struct files_run *fr)
{
	uint64_t e = 0;

	for (int i = 0; i < fr->nsides; i++)
		e += http_load_errors(&fr->sides[i].sum);
	return e;
}

static bool metric(const struct files_run *fr, const char *m, double *v)
{
	const struct side *s = main_side(fr);
	const struct hist *h = &s->sum.latency_us;
	bool two = fr->nsides == 2;

	if (!strcmp(m, "errors"))
		*v = (double)total_errors(fr);
	else if (two && !strcmp(m, "ratio") && side_rps(&fr->sides[0]) > 0)
		*v = side_rps(&fr->sides[1]) / side_rps(&fr->sides[0]);
	else if (two && !strcmp(m, "hello_rps"))
		*v = side_rps(&fr->sides[0]);
	else if ((two && !strcmp(m, "file_rps")) || (!two && !strcmp(m, "rps")))
		*v = side_rps(s);
	else if (h->count && !strcmp(m, "p50_ms"))
		*v = ms(hist_quantile(h, 0.5));
	else if (h->count && !strcmp(m, "p99_ms"))
		*v = ms(hist_quantile(h, 0.99));
	else if (h->count && !strcmp(m, "p999_ms"))
		*v = ms(hist_quantile(h, 0.999));
	else if (h->count && !strcmp(m, "max_ms"))
		*v = ms(h->max);
	else
		return false;
	return true;
}

static int target_parse(struct target *t, const char *expr)
{
	static const char *const ops[] = { "<=", ">=", "==", "<", ">" };
	char *end;

	memset(t, 0, sizeof(*t));
	if (strlen(expr) >= sizeof(t->expr))
		return COHORT_E_LIMIT;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		const char *at = strstr(expr, ops[i]);
		size_t ml;

		if (!at)
			continue;
		ml = (size_t)(at - expr);
		if (!ml || ml >= sizeof(t->metric))
			return COHORT_E_INVAL;
		memcpy(t->metric, expr, ml);
		memcpy(t->op, ops[i], strlen(ops[i]) + 1);
		t->threshold = strtod(at + strlen(ops[i]), &end);
		if (end == at + strlen(ops[i]) || *end)
			return COHORT_E_INVAL;
		memcpy(t->expr, expr, strlen(expr) + 1);
		return 0;
	}
	return COHORT_E_INVAL;
}

static void target_eval(struct target *t, const struct files_run *fr)
{
	double v = 0, th = t->threshold;

	t->known = metric(fr, t->metric, &v);
	t->value = v;
	if (!t->known)
		t->pass = false;
	else if (!strcmp(t->op, "<="))
		t->pass = v <= th;
	else if (!strcmp(t->op, ">="))
		t->pass = v >= th;
	else if (!strcmp(t->op, "<"))
		t->pass = v < th;
	else if (!strcmp(t->op, ">"))
		t->pass = v > th;
	else
		t->pass = v == th;
}

static json_object *jd(double v, int decimals)
{
	char buf[400];

	if (!isfinite(v))
		return NULL;
	switch (decimals) {
	case 0: snprintf(buf, sizeof(buf), "%.0f", v); break;
	case 1: snprintf(buf, sizeof(buf), "%.1f", v); break;
	case 3: snprintf(buf, sizeof(buf), "%.3f", v); break;
	default: snprintf(buf, sizeof(buf), "%.6f", v); break;
	}
	return json_object_new_double_s(v, buf);
}

static json_object *ju(uint64_t v)
{
	return json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

#define ADD(o, k, v) json_object_object_add((o), (k), (v))

static json_object *latency_json(const struct hist *h)
{
	json_object *o = json_object_new_object();

	ADD(o, "count", ju(h->count));
	if (h->count) {
		ADD(o, "min", jd(ms(h->min), 3));
		ADD(o, "mean", jd(hist_mean(h) / 1000.0, 3));
		ADD(o, "p50", jd(ms(hist_quantile(h, 0.5)), 3));
		ADD(o, "p90", jd(ms(hist_quantile(h, 0.9)), 3));
		ADD(o, "p99", jd(ms(hist_quantile(h, 0.99)), 3));
		ADD(o, "p999", jd(ms(hist_quantile(h, 0.999)), 3));
		ADD(o, "max", jd(ms(h->max), 3));
	}
	return o;
}

static json_object *side_json(const struct files_run *fr, const struct side *s, const char *target)
{
	const struct http_load_result *r = &s->sum;
	json_object *o = json_object_new_object(), *st = json_object_new_object();
	json_object *e = json_object_new_object(), *cpu = json_object_new_object();
	json_object *rounds = json_object_new_array();

	ADD(o, "target", json_object_new_string(target));
	ADD(o, "requests", ju(r->requests));
	ADD(o, "requests_per_s", jd(side_rps(s), 1));
	ADD(o, "wall_s", jd(s->wall_s, 3));
	ADD(o, "phases", json_object_new_int(s->phases));
	for (int i = 0; i < s->phases && i < 100; i++)
		json_object_array_add(rounds, jd(s->round_rps[i], 1));
	ADD(o, "phase_requests_per_s", rounds);
	ADD(st, "2xx", ju(r->status[2]));
	ADD(st, "3xx", ju(r->status[3]));
	ADD(st, "4xx", ju(r->status[4]));
	ADD(st, "5xx", ju(r->status[5]));
	ADD(st, "other", ju(r->status[0] + r->status[1]));
	ADD(o, "status", st);
	ADD(o, "bytes", ju(r->bytes));
	ADD(o, "body_bytes_per_response", ju(r->requests ? r->body_bytes / r->requests : 0));
	ADD(o, "latency_ms", latency_json(&r->latency_us));
	ADD(e, "connect", ju(r->connect_errors));
	ADD(e, "read", ju(r->read_errors));
	ADD(e, "parse", ju(r->parse_errors));
	ADD(e, "timeouts", ju(r->timeouts));
	ADD(e, "closed", ju(r->closed));
	ADD(e, "http", ju(r->status[0] + r->status[1] + r->status[3] + r->status[4] + r->status[5]));
	ADD(e, "last_http_status", json_object_new_int(r->last_bad_status));
	ADD(e, "total", ju(http_load_errors(r)));
	if (r->error[0])
		ADD(e, "message", json_object_new_string(r->error));
	ADD(o, "errors", e);
	ADD(o, "reconnects", ju(r->reconnects));
	for (int i = 0; i < fr->ncpu; i++) {
		json_object *c = json_object_new_object();

		ADD(c, "cpu_s", jd(s->cpu_s[i], 3));
		ADD(c, "util_pct", jd(s->wall_s > 0 ? 100.0 * s->cpu_s[i] / s->wall_s : 0, 1));
		if (r->requests)
			ADD(c, "cpu_us_per_request", jd(1e6 * s->cpu_s[i] / (double)r->requests, 1));
		ADD(cpu, fr->cpu[i].name, c);
	}
	if (s->host_total)
		ADD(cpu, "host_busy_pct",
		    jd(100.0 * (double)s->host_busy / (double)s->host_total * (double)sysconf(_SC_NPROCESSORS_ONLN), 1));
	ADD(o, "cpu", cpu);
	return o;
}

static json_object *build_json(const struct files_run *fr, const struct files_opts *o,
			       const struct target *t, int nt, bool pass, const char *const targets[2])
{
	json_object *root = json_object_new_object(), *cfg = json_object_new_object();
	json_object *setup = json_object_new_object(), *ta = json_object_new_array();
	double v;

	ADD(root, "version", json_object_new_int(1));
	ADD(root, "name", json_object_new_string(o->name ? o->name : o->scenario));
	ADD(root, "mode", json_object_new_string("files"));
	ADD(root, "scenario", json_object_new_string(o->scenario));
	ADD(root, "date", json_object_new_string(fr->date));
	ADD(cfg, "url", json_object_new_string(o->url));
	ADD(cfg, "via", json_object_new_string(strstr(fr->server, "nginx") ? "nginx" : "direct"));
	ADD(cfg, "server_header", json_object_new_string(fr->server));
	ADD(cfg, "project", json_object_new_int64(o->project));
	ADD(cfg, "connections", json_object_new_int64(o->connections));
	ADD(cfg, "duration_s", jd(o->duration, 3));
	ADD(cfg, "warmup_s", jd(o->warmup, 3));
	if (is_read4k(o)) {
		ADD(cfg, "rounds", json_object_new_int64(o->rounds));
		ADD(cfg, "size", json_object_new_int64(o->size));
		ADD(cfg, "hello", json_object_new_string(o->hello));
	} else {
		ADD(cfg, "files", json_object_new_int64(o->files));
		ADD(cfg, "setup_connections", json_object_new_int64(o->setup_connections));
	}
	ADD(cfg, "path", json_object_new_string(o->path));
	ADD(cfg, "cpus", json_object_new_int64(sysconf(_SC_NPROCESSORS_ONLN)));
	if (o->note)
		ADD(cfg, "note", json_object_new_string(o->note));
	ADD(root, "config", cfg);
	ADD(setup, "status", json_object_new_int(fr->setup_status));
	if (!is_read4k(o)) {
		ADD(setup, "created", ju(fr->created));
		ADD(setup, "existing", ju(fr->existing));
		ADD(setup, "failed", ju(fr->setup_failed));
		ADD(setup, "wall_s", jd(fr->setup_s, 3));
		ADD(setup, "tree_entries", ju(fr->tree_entries));
		ADD(setup, "tree_files", ju(fr->tree_files));
		ADD(setup, "tree_bytes", ju(fr->tree_bytes));
	}
	if (fr->error[0])
		ADD(setup, "error", json_object_new_string(fr->error));
	ADD(root, "setup", setup);
	for (int i = 0; i < fr->nsides; i++)
		ADD(root, fr->sides[i].name, side_json(fr, &fr->sides[i], targets[i]));
	if (fr->nsides == 2 && metric(fr, "ratio", &v))
		ADD(root, "ratio", jd(v, 3));
	ADD(root, "errors_total", ju(total_errors(fr)));
	for (int i = 0; i < nt; i++) {
		json_object *x = json_object_new_object();

		ADD(x, "expr", json_object_new_string(t[i].expr));
		ADD(x, "metric", json_object_new_string(t[i].metric));
		ADD(x, "op", json_object_new_string(t[i].op));
		ADD(x, "threshold", jd(t[i].threshold, 6));
		ADD(x, "value", t[i].known ? jd(t[i].value, 3) : NULL);
		ADD(x, "pass", json_object_new_boolean(t[i].pass));
		json_object_array_add(ta, x);
	}
	ADD(root, "targets", ta);
	ADD(root, "pass", json_object_new_boolean(pass));
	return root;
}

static int write_json(json_object *root, const char *path)
{
	const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_SPACED |
								   JSON_C_TO_STRING_NOSLASHESCAPE);
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f || fputs(s, f) < 0 || fputc('\n', f) == EOF)
		err = COHORT_E_IO;
	if (f && fclose(f))
		err = COHORT_E_IO;
	return err;
}

static void print_side(const struct side *s, FILE *f)
{
	const struct http_load_result *r = &s->sum;
	const struct hist *h = &r->latency_us;

	fprintf(f, "  %-6s %8.1f req/s  %llu requests in %.2f s (2xx %llu, errors %llu)\n", s->name,
		side_rps(s), (unsigned long long)r->requests, s->wall_s,
		(unsigned long long)r->status[2], (unsigned long long)http_load_errors(r));
	fprintf(f, "         latency p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms\n",
		ms(hist_quantile(h, 0.5)), ms(hist_quantile(h, 0.9)), ms(hist_quantile(h, 0.99)),
		ms(hist_quantile(h, 0.999)), ms(h->max));
	if (r->error[0])
		fprintf(f, "         first error: %s\n", r->error);
}

static void print_report(const struct files_run *fr, const struct files_opts *o,
			 const struct target *t, int nt, FILE *f)
{
	double v;

	fprintf(f, "cohort-bench files %s \"%s\": project %ld, %ld connection%s, %s (server: %s)\n",
		o->scenario, o->name ? o->name : o->scenario, o->project, o->connections,
		o->connections == 1 ? "" : "s", o->url, fr->server[0] ? fr->server : "?");
	if (!is_read4k(o))
		fprintf(f, "  setup  %llu files created, %llu existed, in %.2f s; tree %llu entries, %llu bytes\n",
			(unsigned long long)fr->created, (unsigned long long)fr->existing, fr->setup_s,
			(unsigned long long)fr->tree_entries, (unsigned long long)fr->tree_bytes);
	for (int i = 0; i < fr->nsides; i++)
		print_side(&fr->sides[i], f);
	if (fr->nsides == 2 && metric(fr, "ratio", &v))
		fprintf(f, "  ratio  file/hello %.3f\n", v);
	if (fr->error[0])
		fprintf(f, "  error  %s\n", fr->error);
	for (int i = 0; i < nt; i++) {
		if (t[i].known)
			fprintf(f, "  target %s %s (%.3f)\n", t[i].expr, t[i].pass ? "PASS" : "FAIL", t[i].value);
		else
			fprintf(f, "  target %s FAIL (not measured)\n", t[i].expr);
	}
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
	struct target t[FILES_MAX_MULTI];
	const char *targets[2] = { "", "" };
	char err_s[256], file_tgt[512], tree_tgt[128];
	json_object *root = NULL;
	time_t now = time(NULL);
	struct tm tm;
	bool pass = true;
	int nt = 0, ret = 2, e;

	if (parse_opts(argc, argv, &o))
		goto out;
	if (o.help) {
		usage(stdout);
		ret = 0;
		goto out;
	}
	if (o.scenario && !o.connections)
		o.connections = is_read4k(&o) ? 8 : 1;
	if (o.scenario && !o.path)
		o.path = is_read4k(&o) ? "bench-read4k.txt" : "file-";
	if (check_opts(&o))
		goto out;
	for (int i = 0; i < o.targets.n; i++) {
		if (target_parse(&t[nt], o.targets.v[i])) {
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
	if (load_token(&o, x->token, sizeof(x->token)))
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
	if (fill_content(&x->content, is_read4k(&o) ? (size_t)o.size : 64))
		goto out;
	for (int i = 0; i < 2; i++) {
		hist_init(&fr->sides[i].sum.latency_us);
	}
	if (is_read4k(&o)) {
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
		target_eval(&t[i], fr);
		pass = pass && t[i].pass;
	}
	print_report(fr, &o, t, nt, stdout);
	fflush(stdout);
	if (o.out) {
		root = build_json(fr, &o, t, nt, pass && !e, targets);
		if (write_json(root, o.out)) {
			fprintf(stderr, "cohort-bench files: cannot write %s\n", o.out);
			goto out;
		}
	}
	/* Exit 0 when the run completed and requests succeeded, whatever the
	 * targets say; 1 when setup or the measurement itself failed. */
	if (!e && main_side(fr)->sum.status[2] > 0)
		ret = 0;
out:
	json_object_put(root);
	strbuf_release(&a);
	strbuf_release(&b);
	if (x)
		strbuf_release(&x->content);
	free(x);
	free(fr);
	return ret;
}
