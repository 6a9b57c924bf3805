/*
 * bench_report.c — targets, the JSON document and the text summary of a run.
 *
 * Targets are data ("p99_ms<=50"), evaluated against one table of named
 * metrics, so a scenario script states its goals without the bench knowing
 * about scenarios. Numbers in the JSON are rounded to a sensible precision
 * so the files diff well between runs.
 */
#include "cli/bench_report.h"
#include "cli/bench_client.h"
#include "core/err.h"

#include <json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- metrics and targets ----------------------------------------------- */

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

static bool have_latency(const struct bench_result *r)
{
	return r->latency_us.count > 0;
}

static uint64_t error_total(const struct bench_result *r)
{
	return r->connect_failed + r->http_errors + r->not_event_stream + r->closed + r->read_errors +
	       r->parse_errors + r->duplicates + r->out_of_order + r->wrong_stream + r->bad_ids +
	       r->resets + r->publish_errors;
}

#define M_LAT(fn, q)                                                              \
	static double fn(const struct bench_result *r, bool *known)               \
	{                                                                         \
		*known = have_latency(r);                                         \
		return ms(hist_quantile(&r->latency_us, q));                      \
	}
M_LAT(m_p50, 0.50)
M_LAT(m_p99, 0.99)
M_LAT(m_p999, 0.999)
M_LAT(m_max, 1.0)

static double m_dps(const struct bench_result *r, bool *known)
{
	*known = !r->idle;
	return r->deliveries_per_s;
}

static double m_lost(const struct bench_result *r, bool *known)
{
	*known = !r->idle;
	return (double)r->lost;
}

static double m_loss_ratio(const struct bench_result *r, bool *known)
{
	*known = !r->idle && r->expected > 0;
	return r->expected ? (double)r->lost / (double)r->expected : 0;
}

static double m_rss_conn(const struct bench_result *r, bool *known)
{
	*known = r->have_mem && r->connected > 0;
	return r->rss_per_conn_bytes;
}

static double m_anon_conn(const struct bench_result *r, bool *known)
{
	*known = r->have_mem && r->connected > 0;
	return r->anon_per_conn_bytes;
}

static double m_connected(const struct bench_result *r, bool *known)
{
	*known = true;
	return (double)r->connected;
}

static double m_errors(const struct bench_result *r, bool *known)
{
	*known = true;
	return (double)error_total(r);
}

static const struct metric {
	const char *name;
	double (*get)(const struct bench_result *r, bool *known);
} metrics[] = {
	{ "deliveries_per_s", m_dps },
	{ "p50_ms", m_p50 },
	{ "p99_ms", m_p99 },
	{ "p999_ms", m_p999 },
	{ "max_ms", m_max },
	{ "lost", m_lost },
	{ "loss_ratio", m_loss_ratio },
	{ "rss_per_conn_bytes", m_rss_conn },
	{ "anon_per_conn_bytes", m_anon_conn },
	{ "connected", m_connected },
	{ "errors", m_errors },
};

const char *report_target_metrics(void)
{
	return "deliveries_per_s p50_ms p99_ms p999_ms max_ms lost loss_ratio "
	       "rss_per_conn_bytes anon_per_conn_bytes connected errors";
}

int report_target_add(struct bench_result *r, const char *expr)
{
	static const char *const ops[] = { "<=", ">=", "==", "<", ">" };
	struct bench_target *t;
	char *end;

	if (r->ntargets >= BENCH_MAX_TARGETS || strlen(expr) >= sizeof(t->expr))
		return COHORT_E_LIMIT;
	t = &r->targets[r->ntargets];
	memset(t, 0, sizeof(*t));
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
		for (size_t k = 0; k < sizeof(metrics) / sizeof(metrics[0]); k++)
			if (!strcmp(metrics[k].name, t->metric)) {
				memcpy(t->expr, expr, strlen(expr) + 1);
				r->ntargets++;
				return 0;
			}
		return COHORT_E_NOTFOUND;
	}
	return COHORT_E_INVAL;
}

void report_targets_eval(struct bench_result *r)
{
	for (int i = 0; i < r->ntargets; i++) {
		struct bench_target *t = &r->targets[i];

		for (size_t k = 0; k < sizeof(metrics) / sizeof(metrics[0]); k++) {
			if (strcmp(metrics[k].name, t->metric))
				continue;
			t->value = metrics[k].get(r, &t->known);
		}
		if (!t->known)
			t->pass = false;
		else if (!strcmp(t->op, "<="))
			t->pass = t->value <= t->threshold;
		else if (!strcmp(t->op, ">="))
			t->pass = t->value >= t->threshold;
		else if (!strcmp(t->op, "<"))
			t->pass = t->value < t->threshold;
		else if (!strcmp(t->op, ">"))
			t->pass = t->value > t->threshold;
		else
			t->pass = t->value == t->threshold;
	}
}

bool report_all_pass(const struct bench_result *r)
{
	for (int i = 0; i < r->ntargets; i++)
		if (!r->targets[i].pass)
			return false;
	return true;
}

/* ---- JSON -------------------------------------------------------------- */

json_object *report_jd(double v, int decimals)
{
	char buf[400]; /* the widest finite double in %f, with decimals */

	if (!isfinite(v))
		return NULL;
	/* Literal formats, so the compiler can bound the output. */
	switch (decimals) {
	case 0: snprintf(buf, sizeof(buf), "%.0f", v); break;
	case 1: snprintf(buf, sizeof(buf), "%.1f", v); break;
	case 2: snprintf(buf, sizeof(buf), "%.2f", v); break;
	case 3: snprintf(buf, sizeof(buf), "%.3f", v); break;
	case 6: snprintf(buf, sizeof(buf), "%.6f", v); break;
	default: snprintf(buf, sizeof(buf), "%.9f", v); break;
	}
	return json_object_new_double_s(v, buf);
}

json_object *report_ju(uint64_t v)
{
	return json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

json_object *report_js(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

#define ADD(o, k, v) json_object_object_add((o), (k), (v))

/* Prometheus text ("name{labels} value") into {"name{labels}": value}. */
static json_object *prom_to_json(const char *text)
{
	json_object *o;
	const char *l = text;

	if (!text)
		return NULL;
	o = json_object_new_object();
	while (*l) {
		const char *nl = strchr(l, '\n'), *sp;
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		char line[512], *end;
		double v;

		if (n && n < sizeof(line) && l[0] != '#') {
			memcpy(line, l, n);
			line[n] = '\0';
			sp = strrchr(line, ' ');
			/* "name value timestamp": the value is the field after the name. */
			if (sp && sp > line) {
				const char *brace = strchr(line, '}');
				const char *vstart = strchr(brace ? brace : line, ' ');

				if (vstart) {
					v = strtod(vstart + 1, &end);
					if (end != vstart + 1) {
						line[vstart - line] = '\0';
						ADD(o, line, report_jd(v, fabs(v - round(v)) < 1e-9 ? 0 : 6));
					}
				}
			}
		}
		if (!nl)
			break;
		l = nl + 1;
	}
	return o;
}

json_object *report_latency_json(const struct hist *h, bool with_p95)
{
	json_object *o = json_object_new_object();

	ADD(o, "count", report_ju(h->count));
	if (h->count) {
		ADD(o, "min", report_jd(ms(h->min), 3));
		ADD(o, "mean", report_jd(hist_mean(h) / 1000.0, 3));
		ADD(o, "p50", report_jd(ms(hist_quantile(h, 0.5)), 3));
		ADD(o, "p90", report_jd(ms(hist_quantile(h, 0.9)), 3));
		if (with_p95)
			ADD(o, "p95", report_jd(ms(hist_quantile(h, 0.95)), 3));
		ADD(o, "p99", report_jd(ms(hist_quantile(h, 0.99)), 3));
		ADD(o, "p999", report_jd(ms(hist_quantile(h, 0.999)), 3));
		ADD(o, "max", report_jd(ms(h->max), 3));
	}
	return o;
}

json_object *report_hist_json(const struct hist *h)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		json_object *b;

		if (!h->buckets[i])
			continue;
		b = json_object_new_array();
		json_object_array_add(b, report_ju(hist_bucket_low(i)));
		json_object_array_add(b, report_ju(hist_bucket_high(i)));
		json_object_array_add(b, report_ju(h->buckets[i]));
		json_object_array_add(a, b);
	}
	return a;
}

/* Deliveries per second in 100 ms steps over the run. */
static json_object *timeline_json(const struct bench_result *r)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	const size_t group = 100000 / TIMELINE_STEP_US;

	ADD(o, "step_ms", json_object_new_int(100));
	ADD(o, "window_start_ms", report_jd((double)(r->window_start_us - r->timeline_origin_us) / 1000.0, 1));
	ADD(o, "window_end_ms", report_jd((double)(r->window_end_us - r->timeline_origin_us) / 1000.0, 1));
	for (size_t i = 0; i < r->timeline_len; i += group) {
		uint64_t sum = 0;

		for (size_t k = i; k < i + group && k < r->timeline_len; k++)
			sum += r->timeline[k];
		json_object_array_add(a, report_ju(sum * 10));
	}
	ADD(o, "deliveries_per_s", a);
	return o;
}

static json_object *mem_json(const struct bench_result *r)
{
	json_object *o = json_object_new_object();

	ADD(o, "pid", json_object_new_int(r->stream_pid));
	if (!r->have_mem)
		return o;
	ADD(o, "rss_before_kb", json_object_new_int64(r->mem_before.rss_kb));
	ADD(o, "rss_connected_kb", json_object_new_int64(r->mem_connected.rss_kb));
	ADD(o, "rss_after_kb", json_object_new_int64(r->mem_after.rss_kb));
	ADD(o, "anon_before_kb", json_object_new_int64(r->mem_before.anon_kb));
	ADD(o, "anon_connected_kb", json_object_new_int64(r->mem_connected.anon_kb));
	ADD(o, "anon_after_kb", json_object_new_int64(r->mem_after.anon_kb));
	ADD(o, "hwm_kb", json_object_new_int64(r->mem_after.hwm_kb));
	ADD(o, "rss_per_conn_bytes", report_jd(r->rss_per_conn_bytes, 0));
	ADD(o, "anon_per_conn_bytes", report_jd(r->anon_per_conn_bytes, 0));
	ADD(o, "measured_at", report_js("after all connections were open and the settle time passed"));
	return o;
}

static json_object *build(const struct bench_result *r)
{
	json_object *root = json_object_new_object(), *o, *a;
	uint64_t c50 = hist_quantile(&r->connect_us, 0.5), c99 = hist_quantile(&r->connect_us, 0.99);

	ADD(root, "version", json_object_new_int(BENCH_JSON_VERSION));
	ADD(root, "tool", report_js("cohort-bench fanout"));
	ADD(root, "name", report_js(r->name));
	ADD(root, "mode", report_js(r->idle ? "idle" : "fanout"));
	ADD(root, "date", report_js(r->date));

	o = json_object_new_object();
	ADD(o, "cpus", json_object_new_int64(r->cpus));
	ADD(o, "nofile_limit", json_object_new_int64(r->nofile));
	ADD(root, "host", o);

	o = json_object_new_object();
	ADD(o, "url", report_js(r->url));
	ADD(o, "via", report_js(r->via));
	ADD(o, "server_header", report_js(r->server));
	ADD(o, "subscribers", json_object_new_int64(r->subscribers));
	ADD(o, "streams", json_object_new_int64(r->streams));
	if (!r->idle) {
		ADD(o, "rate_per_s", report_jd(r->rate, 1));
		ADD(o, "warmup_s", report_jd(r->warmup_s, 1));
		ADD(o, "payload_bytes", json_object_new_int64(r->payload));
		ADD(o, "event_bytes", report_ju(r->event_bytes));
	}
	ADD(o, "duration_s", report_jd(r->duration_s, 1));
	ADD(o, "threads", json_object_new_int(r->threads));
	ADD(o, "connect_batch", json_object_new_int(r->connect_batch));
	ADD(o, "read_interval_ms", report_jd(r->read_interval_ms, 3));
	if (r->note)
		ADD(o, "note", report_js(r->note));
	ADD(root, "config", o);

	o = json_object_new_object();
	ADD(o, "ok", report_ju(r->connected));
	ADD(o, "failed", report_ju(r->connect_failed + r->http_errors + r->not_event_stream));
	ADD(o, "wall_s", report_jd(r->connect_wall_s, 3));
	ADD(o, "p50_ms", report_jd(ms(c50), 3));
	ADD(o, "p99_ms", report_jd(ms(c99), 3));
	ADD(o, "max_ms", report_jd(ms(r->connect_us.max), 3));
	ADD(root, "connect", o);

	if (!r->idle) {
		o = json_object_new_object();
		ADD(o, "published", report_ju(r->published));
		ADD(o, "expected", report_ju(r->expected));
		ADD(o, "delivered", report_ju(r->delivered));
		ADD(o, "lost", report_ju(r->lost));
		ADD(o, "loss_ratio", report_jd(r->expected ? (double)r->lost / (double)r->expected : 0, 9));
		ADD(o, "published_measured", report_ju(r->published_measured));
		ADD(o, "expected_measured", report_ju(r->expected_measured));
		ADD(o, "delivered_measured", report_ju(r->delivered_measured));
		ADD(o, "unexpected", report_ju(r->unexpected));
		ADD(o, "duplicates", report_ju(r->duplicates));
		ADD(o, "out_of_order", report_ju(r->out_of_order));
		ADD(o, "gaps", report_ju(r->gaps));
		ADD(o, "wrong_stream", report_ju(r->wrong_stream));
		ADD(o, "bad_ids", report_ju(r->bad_ids));
		ADD(o, "foreign", report_ju(r->foreign));
		ADD(o, "resets", report_ju(r->resets));
		ADD(o, "per_connection_min", report_ju(r->per_conn_min));
		ADD(o, "per_connection_max", report_ju(r->per_conn_max));
		ADD(root, "events", o);

		o = json_object_new_object();
		ADD(o, "window_s", report_jd(r->window_s, 3));
		ADD(o, "deliveries_per_s", report_jd(r->deliveries_per_s, 0));
		ADD(o, "events_per_s", report_jd(r->events_per_s, 1));
		ADD(o, "bytes_per_s", report_jd(r->bytes_per_s, 0));
		ADD(o, "drain_s", report_jd(r->drain_s, 3));
		ADD(root, "throughput", o);

		o = report_latency_json(&r->latency_us, false);
		ADD(o, "negative", report_ju(r->negative_latency));
		ADD(o, "measured", report_js("append (wall clock before XADD) to receive (wall clock after read)"));
		ADD(root, "latency_ms", o);
		ADD(root, "latency_histogram_us", report_hist_json(&r->latency_us));
		ADD(root, "timeline", timeline_json(r));

		o = json_object_new_object();
		ADD(o, "round_trips", report_ju(r->publish_round_trips));
		ADD(o, "max_lag_ms", report_jd((double)r->publish_max_lag_us / 1000.0, 3));
		ADD(o, "errors", report_ju(r->publish_errors));
		ADD(root, "publisher", o);
	}

	o = json_object_new_object();
	ADD(o, "connect_failed", report_ju(r->connect_failed));
	ADD(o, "http", report_ju(r->http_errors));
	if (r->last_status)
		ADD(o, "last_http_status", json_object_new_int(r->last_status));
	ADD(o, "not_event_stream", report_ju(r->not_event_stream));
	ADD(o, "closed_by_server", report_ju(r->closed));
	ADD(o, "read", report_ju(r->read_errors));
	ADD(o, "parse", report_ju(r->parse_errors));
	ADD(o, "total", report_ju(error_total(r)));
	if (r->error[0])
		ADD(o, "message", report_js(r->error));
	ADD(root, "errors", o);

	o = mem_json(r);
	if (r->metrics_before)
		ADD(o, "metrics_before", prom_to_json(r->metrics_before));
	if (r->metrics_after)
		ADD(o, "metrics_after", prom_to_json(r->metrics_after));
	ADD(root, "streamer", o);

	o = json_object_new_object();
	ADD(o, "wall_s", report_jd(r->cpu_wall_s, 3));
	if (r->host_busy_pct >= 0) {
		double watched = 0, wall = r->cpu_wall_s;

		for (int i = 0; i < r->ncpu; i++)
			watched += wall > 0 ? (double)r->cpu[i].us / 1e4 / wall : 0;
		/* In percent of one CPU, like util_pct: what the whole machine
		 * spent, and what of it the processes listed here do not explain
		 * (the kernel's softirq work, and anything else running). */
		ADD(o, "host_busy_pct", report_jd(r->host_busy_pct * (double)r->cpus, 1));
		ADD(o, "host_capacity_pct", report_jd(100.0 * (double)r->cpus, 0));
		ADD(o, "unaccounted_pct", report_jd(r->host_busy_pct * (double)r->cpus - watched, 1));
	}
	for (int i = 0; i < r->ncpu; i++) {
		json_object *c = json_object_new_object();
		double wall = r->cpu_wall_s;

		ADD(c, "pid", json_object_new_int(r->cpu[i].pid));
		ADD(c, "cpu_s", report_jd((double)r->cpu[i].us / 1e6, 3));
		if (wall > 0)
			ADD(c, "util_pct", report_jd((double)r->cpu[i].us / 1e4 / wall, 1));
		ADD(o, r->cpu[i].name, c);
	}
	ADD(root, "cpu", o);

	a = json_object_new_array();
	for (int i = 0; i < r->ntargets; i++) {
		const struct bench_target *t = &r->targets[i];

		o = json_object_new_object();
		ADD(o, "expr", report_js(t->expr));
		ADD(o, "metric", report_js(t->metric));
		ADD(o, "op", report_js(t->op));
		ADD(o, "threshold", report_jd(t->threshold, 3));
		ADD(o, "value", t->known ? report_jd(t->value, 3) : NULL);
		ADD(o, "pass", json_object_new_boolean(t->pass));
		json_object_array_add(a, o);
	}
	ADD(root, "targets", a);
	ADD(root, "pass", json_object_new_boolean(report_all_pass(r)));
	return root;
}

int report_write_json(const struct bench_result *r, const char *path)
{
	json_object *root = build(r);
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

/* ---- text summary ------------------------------------------------------ */

void report_print(const struct bench_result *r, FILE *f)
{
	const struct hist *l = &r->latency_us;

	fprintf(f, "cohort-bench %s \"%s\": %ld subscribers on %ld stream%s via %s (%s, server: %s)\n",
		r->idle ? "idle" : "fanout", r->name, r->subscribers, r->streams,
		r->streams == 1 ? "" : "s", r->via, r->url, r->server[0] ? r->server : "?");
	fprintf(f, "  connect     %llu/%ld ok in %.2f s (p50 %.2f ms, p99 %.2f ms, max %.2f ms)\n",
		(unsigned long long)r->connected, r->subscribers, r->connect_wall_s,
		ms(hist_quantile(&r->connect_us, 0.5)), ms(hist_quantile(&r->connect_us, 0.99)),
		ms(r->connect_us.max));
	if (!r->idle) {
		fprintf(f, "  events      published %llu (%.1f/s, %zu B each); expected %llu, delivered %llu, lost %llu\n",
			(unsigned long long)r->published, r->events_per_s, r->event_bytes,
			(unsigned long long)r->expected, (unsigned long long)r->delivered,
			(unsigned long long)r->lost);
		fprintf(f, "  checks      duplicates %llu, out of order %llu, gaps %llu, bad ids %llu, resets %llu\n",
			(unsigned long long)r->duplicates, (unsigned long long)r->out_of_order,
			(unsigned long long)r->gaps, (unsigned long long)r->bad_ids,
			(unsigned long long)r->resets);
		fprintf(f, "  throughput  %.0f deliveries/s (%.1f MB/s) over %.2f s\n", r->deliveries_per_s,
			r->bytes_per_s / 1e6, r->window_s);
		if (l->count)
			fprintf(f, "  latency     p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms (%llu samples)\n",
				ms(hist_quantile(l, 0.5)), ms(hist_quantile(l, 0.99)),
				ms(hist_quantile(l, 0.999)), ms(l->max), (unsigned long long)l->count);
	}
	if (r->have_mem)
		fprintf(f, "  streamer    RSS %ld -> %ld KiB (%.0f B/conn; anon %.0f B/conn), after run %ld KiB\n",
			r->mem_before.rss_kb, r->mem_connected.rss_kb, r->rss_per_conn_bytes,
			r->anon_per_conn_bytes, r->mem_after.rss_kb);
	for (int i = 0; i < r->ncpu; i++) {
		double wall = r->cpu_wall_s;

		fprintf(f, "  cpu         %s %.1f%%\n", r->cpu[i].name,
			wall > 0 ? (double)r->cpu[i].us / 1e4 / wall : 0.0);
	}
	if (r->host_busy_pct >= 0)
		fprintf(f, "  cpu         whole machine %.1f%% of %ld CPUs busy\n", r->host_busy_pct, r->cpus);
	fprintf(f, "  errors      %llu (connect %llu, http %llu, closed %llu, read %llu, parse %llu)%s%s\n",
		(unsigned long long)error_total(r), (unsigned long long)r->connect_failed,
		(unsigned long long)r->http_errors, (unsigned long long)r->closed,
		(unsigned long long)r->read_errors, (unsigned long long)r->parse_errors,
		r->error[0] ? ": " : "", r->error);
	for (int i = 0; i < r->ntargets; i++) {
		const struct bench_target *t = &r->targets[i];

		if (t->known)
			fprintf(f, "  target      %-28s %s (%.3f)\n", t->expr, t->pass ? "PASS" : "FAIL", t->value);
		else
			fprintf(f, "  target      %-28s FAIL (not measured)\n", t->expr);
	}
}

void report_release(struct bench_result *r)
{
	if (!r)
		return;
	free(r->timeline);
	free(r->metrics_before);
	free(r->metrics_after);
	r->timeline = NULL;
	r->metrics_before = r->metrics_after = NULL;
}
