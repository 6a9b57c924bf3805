/*
 * bench_edit_report.c — metrics, the text summary and the JSON document of
 * a `cohort-bench edit` run (schema in docs/bench.md).
 */
#include "cli/bench_edit_report.h"
#include "cli/bench_report.h"
#include "core/err.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

double edit_push_rate(const struct edit_push *p)
{
	return p->wall_s > 0 ? (double)p->accepted / p->wall_s : 0;
}

static double offered_rate(const struct edit_push *p)
{
	return p->wall_s > 0 ? (double)p->offered / p->wall_s : 0;
}

uint64_t edit_errors(const struct edit_result *r)
{
	uint64_t n = r->connect_failed + r->closed;

	for (int i = 0; i < r->nsides; i++)
		n += r->sides[i].failed + r->sides[i].http_errors + r->sides[i].transport_errors;
	return n;
}

static long mismatches(const struct edit_result *r)
{
	long n = 0;

	for (int i = 0; i < r->nsides; i++)
		n += r->sides[i].version_mismatches + r->sides[i].length_mismatches;
	return n;
}

bool edit_metric(const struct edit_result *r, const char *m, double *v)
{
	const struct hist *h = &r->latency_us;
	const struct edit_push *main = &r->sides[r->nsides > 1 ? 1 : 0];

	if (!strcmp(m, "lost"))
		*v = (double)r->lost;
	else if (!strcmp(m, "duplicates"))
		*v = (double)r->duplicates;
	else if (!strcmp(m, "edit_duplicates"))
		*v = (double)r->edit_duplicates;
	else if (!strcmp(m, "edits_missing"))
		*v = (double)r->edits_missing;
	else if (!strcmp(m, "errors"))
		*v = (double)edit_errors(r);
	else if (!strcmp(m, "server_mismatches"))
		*v = (double)mismatches(r);
	else if (!strcmp(m, "accepted_per_s"))
		*v = edit_push_rate(main);
	else if (!strcmp(m, "offered_per_s"))
		*v = offered_rate(main);
	else if (!strcmp(m, "ratio") && r->nsides == 2 && edit_push_rate(&r->sides[0]) > 0)
		*v = edit_push_rate(&r->sides[1]) / edit_push_rate(&r->sides[0]);
	else if (h->count && !strcmp(m, "p50_ms"))
		*v = ms(hist_quantile(h, 0.5));
	else if (h->count && !strcmp(m, "p95_ms"))
		*v = ms(hist_quantile(h, 0.95));
	else if (h->count && !strcmp(m, "p99_ms"))
		*v = ms(hist_quantile(h, 0.99));
	else if (h->count && !strcmp(m, "max_ms"))
		*v = ms(h->max);
	else
		return false;
	return true;
}

/* ---- JSON ---------------------------------------------------------------- */

#define ADD(o, k, v) json_object_object_add((o), (k), (v))

static json_object *push_json(const struct edit_result *r, const struct edit_push *p)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	json_object *cpu = json_object_new_object(), *chk = json_object_new_object();

	ADD(o, "file_bytes", json_object_new_int64(p->file_bytes));
	ADD(o, "wall_s", report_jd(p->wall_s, 3));
	ADD(o, "phases", json_object_new_int(p->phases));
	ADD(o, "offered", report_ju(p->offered));
	ADD(o, "offered_per_s", report_jd(offered_rate(p), 1));
	ADD(o, "edits", report_ju(p->edits));
	ADD(o, "not_sent", report_ju(p->offered > p->edits ? p->offered - p->edits : 0));
	ADD(o, "attempts", report_ju(p->attempts));
	ADD(o, "accepted", report_ju(p->accepted));
	ADD(o, "accepted_per_s", report_jd(edit_push_rate(p), 1));
	ADD(o, "skipped", report_ju(p->skipped));
	ADD(o, "unconfirmed", report_ju(p->unconfirmed));
	ADD(o, "conflicts", report_ju(p->conflicts));
	ADD(o, "retried", report_ju(p->retried));
	ADD(o, "version_gone", report_ju(p->gone));
	ADD(o, "late", report_ju(p->late));
	ADD(e, "failed_edits", report_ju(p->failed));
	ADD(e, "http", report_ju(p->http_errors));
	ADD(e, "transport", report_ju(p->transport_errors));
	ADD(e, "last_http_status", json_object_new_int(p->last_status));
	ADD(o, "errors", e);
	ADD(o, "push_ms", report_latency_json(&p->push_us, true));
	ADD(o, "accept_ms", report_latency_json(&p->accept_us, true));
	for (int i = 0; i < r->ncpu; i++) {
		json_object *c = json_object_new_object();

		ADD(c, "cpu_s", report_jd(p->cpu_s[i], 3));
		if (p->wall_s > 0)
			ADD(c, "util_pct", report_jd(100.0 * p->cpu_s[i] / p->wall_s, 1));
		if (p->accepted)
			ADD(c, "cpu_us_per_edit", report_jd(1e6 * p->cpu_s[i] / (double)p->accepted, 1));
		ADD(cpu, r->cpu[i].name, c);
	}
	ADD(o, "cpu", cpu);
	if (p->host_total)
		ADD(o, "host_busy_pct", report_jd(100.0 * (double)p->host_busy / (double)p->host_total, 1));
	ADD(chk, "files", json_object_new_int64(p->files_checked));
	ADD(chk, "version_mismatches", json_object_new_int64(p->version_mismatches));
	ADD(chk, "length_mismatches", json_object_new_int64(p->length_mismatches));
	if (p->check[0])
		ADD(chk, "detail", report_js(p->check));
	ADD(o, "server_check", chk);
	return o;
}

int edit_report_json(const struct edit_result *r, const struct edit_opts *o,
		     const struct files_target *t, int nt, bool pass, const char *path)
{
	json_object *root = json_object_new_object(), *cfg = json_object_new_object();
	json_object *ta = json_object_new_array(), *up, *setup = json_object_new_object();
	bool size = r->nsides == 2;
	int err = 0;

	ADD(root, "version", json_object_new_int(1));
	ADD(root, "mode", report_js("edit"));
	ADD(root, "scenario", report_js(o->scenario));
	ADD(root, "name", report_js(o->name ? o->name : o->scenario));
	ADD(root, "date", report_js(r->date));
	ADD(cfg, "url", report_js(o->url));
	ADD(cfg, "via", report_js(strstr(r->server, "nginx") ? "nginx" : "direct"));
	ADD(cfg, "server_header", report_js(r->server));
	ADD(cfg, "course", json_object_new_int64(o->course));
	ADD(cfg, "files", json_object_new_int64(size ? 2 : o->files));
	ADD(cfg, "subscribers_per_file", json_object_new_int64(o->subscribers));
	ADD(cfg, "writers_per_file", json_object_new_int64(o->writers));
	ADD(cfg, "rate_per_writer", report_jd(o->rate, 2));
	ADD(cfg, "offered_per_s", report_jd(o->rate * (double)o->writers * (double)(size ? 1 : o->files), 1));
	ADD(cfg, "duration_s", report_jd(o->duration, 3));
	ADD(cfg, "warmup_s", report_jd(o->warmup, 3));
	ADD(cfg, "insert_chars", json_object_new_int(EDIT_MARK_LEN));
	if (size) {
		ADD(cfg, "small_bytes", json_object_new_int64(o->small));
		ADD(cfg, "large_bytes", json_object_new_int64(o->large));
		ADD(cfg, "rounds", json_object_new_int64(o->rounds));
	} else {
		ADD(cfg, "initial_bytes", json_object_new_int64(o->initial));
		ADD(cfg, "threads", json_object_new_int64(o->threads));
	}
	if (o->note)
		ADD(cfg, "note", report_js(o->note));
	ADD(root, "config", cfg);
	ADD(setup, "projects", json_object_new_int64(r->projects));
	ADD(setup, "wall_s", report_jd(r->setup_s, 3));
	if (r->error[0])
		ADD(setup, "error", report_js(r->error));
	ADD(root, "setup", setup);
	if (size) {
		ADD(root, "small", push_json(r, &r->sides[0]));
		ADD(root, "large", push_json(r, &r->sides[1]));
		if (edit_push_rate(&r->sides[0]) > 0)
			ADD(root, "ratio", report_jd(edit_push_rate(&r->sides[1]) / edit_push_rate(&r->sides[0]), 3));
	} else {
		json_object *c = json_object_new_object();

		ADD(root, "pushes", push_json(r, &r->sides[0]));
		ADD(c, "ok", report_ju(r->connected));
		ADD(c, "failed", report_ju(r->connect_failed));
		ADD(root, "connect", c);
		up = json_object_new_object();
		ADD(up, "expected", report_ju(r->updates_expected));
		ADD(up, "delivered", report_ju(r->updates_delivered));
		ADD(up, "lost", report_ju(r->lost));
		ADD(up, "duplicates", report_ju(r->duplicates));
		ADD(up, "edit_duplicates", report_ju(r->edit_duplicates));
		ADD(up, "edits_missing", report_ju(r->edits_missing));
		ADD(up, "edit_gaps", report_ju(r->edit_gaps));
		ADD(up, "foreign", report_ju(r->foreign));
		ADD(up, "resets", report_ju(r->resets));
		ADD(up, "closed", report_ju(r->closed));
		ADD(up, "per_connection_min", report_ju(r->per_conn_min));
		ADD(up, "per_connection_max", report_ju(r->per_conn_max));
		ADD(up, "drain_s", report_jd(r->drain_s, 3));
		ADD(root, "updates", up);
		ADD(root, "latency_ms", report_latency_json(&r->latency_us, true));
		ADD(root, "latency_histogram_us", report_hist_json(&r->latency_us));
	}
	ADD(root, "errors_total", report_ju(edit_errors(r)));
	ADD(root, "server_mismatches", json_object_new_int64(mismatches(r)));
	for (int i = 0; i < nt; i++) {
		json_object *x = json_object_new_object();

		ADD(x, "expr", report_js(t[i].expr));
		ADD(x, "metric", report_js(t[i].metric));
		ADD(x, "value", t[i].known ? report_jd(t[i].value, 3) : NULL);
		ADD(x, "pass", json_object_new_boolean(t[i].pass));
		json_object_array_add(ta, x);
	}
	ADD(root, "targets", ta);
	ADD(root, "pass", json_object_new_boolean(pass));
	if (json_object_to_file_ext(path, root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE))
		err = COHORT_E_IO;
	json_object_put(root);
	return err;
}

/* ---- text ---------------------------------------------------------------- */

static void print_push(const struct edit_result *r, const struct edit_push *p, FILE *f)
{
	fprintf(f, "  %-6s %ld B: offered %llu (%.1f/s), accepted %llu (%.1f/s) over %.2f s; "
		   "attempts %llu, 409 %llu, retried %llu, 410 %llu, late %llu, failed %llu, "
		   "errors http %llu transport %llu\n",
		p->label, p->file_bytes, (unsigned long long)p->offered, offered_rate(p),
		(unsigned long long)p->accepted, edit_push_rate(p), p->wall_s,
		(unsigned long long)p->attempts, (unsigned long long)p->conflicts,
		(unsigned long long)p->retried, (unsigned long long)p->gone,
		(unsigned long long)p->late, (unsigned long long)p->failed,
		(unsigned long long)p->http_errors, (unsigned long long)p->transport_errors);
	if (p->push_us.count)
		fprintf(f, "         push p50 %.3f ms p99 %.3f ms; first push to accepted p50 %.3f ms p99 %.3f ms\n",
			ms(hist_quantile(&p->push_us, 0.5)), ms(hist_quantile(&p->push_us, 0.99)),
			ms(hist_quantile(&p->accept_us, 0.5)), ms(hist_quantile(&p->accept_us, 0.99)));
	fprintf(f, "         server: %ld files checked, %ld version and %ld length mismatches%s%s\n",
		p->files_checked, p->version_mismatches, p->length_mismatches, p->check[0] ? ": " : "",
		p->check);
	fputs("         cpu", f);
	for (int i = 0; i < r->ncpu; i++)
		if (p->wall_s > 0)
			fprintf(f, " %s %.1f%%", r->cpu[i].name, 100.0 * p->cpu_s[i] / p->wall_s);
	if (p->host_total)
		fprintf(f, "; machine %.1f%% busy", 100.0 * (double)p->host_busy / (double)p->host_total);
	fputc('\n', f);
}

void edit_report_print(const struct edit_result *r, const struct edit_opts *o,
		       const struct files_target *t, int nt, FILE *f)
{
	const struct hist *h = &r->latency_us;

	fprintf(f, "cohort-bench edit %s \"%s\": ", o->scenario, o->name ? o->name : o->scenario);
	if (r->nsides == 2)
		fprintf(f, "%ld writers, rate %s, on a %ld B and a %ld B file, %ld rounds of %.1f s\n",
			o->writers, o->rate > 0 ? "fixed" : "closed loop", o->small, o->large, o->rounds,
			o->duration);
	else
		fprintf(f, "%ld files x (%ld writers at %.1f/s, %ld subscribers), %.1f s (%s)\n",
			o->files, o->writers, o->rate, o->subscribers, o->duration, r->server);
	if (r->error[0])
		fprintf(f, "  error    %s\n", r->error);
	fprintf(f, "  setup    %ld projects in %.2f s\n", r->projects, r->setup_s);
	if (r->nsides == 1)
		fprintf(f, "  connect  %llu ok, %llu failed\n", (unsigned long long)r->connected,
			(unsigned long long)r->connect_failed);
	for (int i = 0; i < r->nsides; i++)
		print_push(r, &r->sides[i], f);
	if (r->nsides == 2 && edit_push_rate(&r->sides[0]) > 0)
		fprintf(f, "  ratio    large/small accepted edits/s %.3f\n",
			edit_push_rate(&r->sides[1]) / edit_push_rate(&r->sides[0]));
	if (r->nsides == 1) {
		fprintf(f, "  updates  expected %llu, delivered %llu, lost %llu, duplicates %llu, "
			   "edit duplicates %llu, edits missing %llu, closed %llu (drain %.2f s)\n",
			(unsigned long long)r->updates_expected, (unsigned long long)r->updates_delivered,
			(unsigned long long)r->lost, (unsigned long long)r->duplicates,
			(unsigned long long)r->edit_duplicates, (unsigned long long)r->edits_missing,
			(unsigned long long)r->closed, r->drain_s);
		if (h->count)
			fprintf(f, "  latency  push to delivery p50 %.3f ms p95 %.3f ms p99 %.3f ms "
				   "max %.3f ms (%llu samples)\n",
				ms(hist_quantile(h, 0.5)), ms(hist_quantile(h, 0.95)),
				ms(hist_quantile(h, 0.99)), ms(h->max), (unsigned long long)h->count);
	}
	for (int i = 0; i < nt; i++) {
		if (t[i].known)
			fprintf(f, "  target %s %s (%.3f)\n", t[i].expr, t[i].pass ? "PASS" : "FAIL", t[i].value);
		else
			fprintf(f, "  target %s FAIL (not measured)\n", t[i].expr);
	}
}
