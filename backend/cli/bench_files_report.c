/*
 * bench_files_report.c — targets, the text summary and the JSON document of
 * a `cohort-bench files` run (docs/bench.md). Numbers in the JSON are
 * rounded as in the fanout reports, so files diff well between runs.
 */
#include "cli/bench_files_report.h"
#include "cli/bench_report.h"
#include "core/err.h"

#include <json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool files_is_read4k(const struct files_opts *o)
{
	return !strcmp(o->scenario, "read4k");
}

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

static double side_rps(const struct files_side *s)
{
	return s->wall_s > 0 ? (double)s->sum.requests / s->wall_s : 0;
}

const struct files_side *files_main_side(const struct files_run *fr)
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
	const struct files_side *s = files_main_side(fr);
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

int files_target_parse(struct files_target *t, const char *expr)
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

void files_target_eval(struct files_target *t, const struct files_run *fr)
{
	double v = 0;
	bool known = metric(fr, t->metric, &v);

	files_target_decide(t, known, v);
}

void files_target_decide(struct files_target *t, bool known, double v)
{
	double th = t->threshold;

	t->known = known;
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

#define ADD(o, k, v) json_object_object_add((o), (k), (v))

static json_object *side_json(const struct files_run *fr, const struct files_side *s, const char *target)
{
	const struct http_load_result *r = &s->sum;
	json_object *o = json_object_new_object(), *st = json_object_new_object();
	json_object *e = json_object_new_object(), *cpu = json_object_new_object();
	json_object *rounds = json_object_new_array();

	ADD(o, "target", json_object_new_string(target));
	ADD(o, "requests", report_ju(r->requests));
	ADD(o, "requests_per_s", report_jd(side_rps(s), 1));
	ADD(o, "wall_s", report_jd(s->wall_s, 3));
	ADD(o, "phases", json_object_new_int(s->phases));
	for (int i = 0; i < s->phases && i < 100; i++)
		json_object_array_add(rounds, report_jd(s->round_rps[i], 1));
	ADD(o, "phase_requests_per_s", rounds);
	ADD(st, "2xx", report_ju(r->status[2]));
	ADD(st, "3xx", report_ju(r->status[3]));
	ADD(st, "4xx", report_ju(r->status[4]));
	ADD(st, "5xx", report_ju(r->status[5]));
	ADD(st, "other", report_ju(r->status[0] + r->status[1]));
	ADD(o, "status", st);
	ADD(o, "bytes", report_ju(r->bytes));
	ADD(o, "body_bytes_per_response", report_ju(r->requests ? r->body_bytes / r->requests : 0));
	ADD(o, "latency_ms", report_latency_json(&r->latency_us, false));
	ADD(e, "connect", report_ju(r->connect_errors));
	ADD(e, "read", report_ju(r->read_errors));
	ADD(e, "parse", report_ju(r->parse_errors));
	ADD(e, "timeouts", report_ju(r->timeouts));
	ADD(e, "closed", report_ju(r->closed));
	ADD(e, "http", report_ju(r->status[0] + r->status[1] + r->status[3] + r->status[4] + r->status[5]));
	ADD(e, "last_http_status", json_object_new_int(r->last_bad_status));
	ADD(e, "total", report_ju(http_load_errors(r)));
	if (r->error[0])
		ADD(e, "message", json_object_new_string(r->error));
	ADD(o, "errors", e);
	ADD(o, "reconnects", report_ju(r->reconnects));
	for (int i = 0; i < fr->ncpu; i++) {
		json_object *c = json_object_new_object();

		ADD(c, "cpu_s", report_jd(s->cpu_s[i], 3));
		ADD(c, "util_pct", report_jd(s->wall_s > 0 ? 100.0 * s->cpu_s[i] / s->wall_s : 0, 1));
		if (r->requests)
			ADD(c, "cpu_us_per_request", report_jd(1e6 * s->cpu_s[i] / (double)r->requests, 1));
		ADD(cpu, fr->cpu[i].name, c);
	}
	if (s->host_total)
		ADD(cpu, "host_busy_pct",
		    report_jd(100.0 * (double)s->host_busy / (double)s->host_total * (double)sysconf(_SC_NPROCESSORS_ONLN), 1));
	ADD(o, "cpu", cpu);
	return o;
}

static json_object *build_json(const struct files_run *fr, const struct files_opts *o,
			       const struct files_target *t, int nt, bool pass, const char *const targets[2])
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
	ADD(cfg, "duration_s", report_jd(o->duration, 3));
	ADD(cfg, "warmup_s", report_jd(o->warmup, 3));
	if (files_is_read4k(o)) {
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
	if (!files_is_read4k(o)) {
		ADD(setup, "created", report_ju(fr->created));
		ADD(setup, "existing", report_ju(fr->existing));
		ADD(setup, "failed", report_ju(fr->setup_failed));
		ADD(setup, "wall_s", report_jd(fr->setup_s, 3));
		ADD(setup, "tree_entries", report_ju(fr->tree_entries));
		ADD(setup, "tree_files", report_ju(fr->tree_files));
		ADD(setup, "tree_bytes", report_ju(fr->tree_bytes));
	}
	if (fr->error[0])
		ADD(setup, "error", json_object_new_string(fr->error));
	ADD(root, "setup", setup);
	for (int i = 0; i < fr->nsides; i++)
		ADD(root, fr->sides[i].name, side_json(fr, &fr->sides[i], targets[i]));
	if (fr->nsides == 2 && metric(fr, "ratio", &v))
		ADD(root, "ratio", report_jd(v, 3));
	ADD(root, "errors_total", report_ju(total_errors(fr)));
	for (int i = 0; i < nt; i++) {
		json_object *x = json_object_new_object();

		ADD(x, "expr", json_object_new_string(t[i].expr));
		ADD(x, "metric", json_object_new_string(t[i].metric));
		ADD(x, "op", json_object_new_string(t[i].op));
		ADD(x, "threshold", report_jd(t[i].threshold, 6));
		ADD(x, "value", t[i].known ? report_jd(t[i].value, 3) : NULL);
		ADD(x, "pass", json_object_new_boolean(t[i].pass));
		json_object_array_add(ta, x);
	}
	ADD(root, "targets", ta);
	ADD(root, "pass", json_object_new_boolean(pass));
	return root;
}

int files_report_json(const struct files_run *fr, const struct files_opts *o,
		      const struct files_target *t, int nt, bool pass, const char *const targets[2],
		      const char *path)
{
	json_object *root = build_json(fr, o, t, nt, pass, targets);
	const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_SPACED |
								   JSON_C_TO_STRING_NOSLASHESCAPE);
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f || fputs(s, f) < 0 || fputc('\n', f) == EOF)
		err = COHORT_E_IO;
	if (f && fclose(f))
		err = COHORT_E_IO;
	json_object_put(root);
	return err;
}

static void print_side(const struct files_side *s, FILE *f)
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

void files_report_print(const struct files_run *fr, const struct files_opts *o,
			 const struct files_target *t, int nt, FILE *f)
{
	double v;

	fprintf(f, "cohort-bench files %s \"%s\": project %ld, %ld connection%s, %s (server: %s)\n",
		o->scenario, o->name ? o->name : o->scenario, o->project, o->connections,
		o->connections == 1 ? "" : "s", o->url, fr->server[0] ? fr->server : "?");
	if (!files_is_read4k(o))
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
