/*
 * bench_fanout.c — options and the phases of one fanout (or idle) run:
 *
 *   connect  all subscribers, at most connect_batch in flight
 *   settle   let the streamer finish registering them; read its RSS
 *   publish  warmup, then the measured window, at the given rate
 *   drain    until every expected event arrived or delivery stalls
 *   report   text summary, JSON, targets
 */
#include "cli/bench_fanout.h"
#include "cli/bench_client.h"
#include "cli/bench_opts.h"
#include "cli/bench_pub.h"
#include "cli/bench_report.h"
#include "cli/bench_sys.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/num.h"
#include "core/scope.h"
#include "core/strbuf.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct fanout_opts {
	const char *url;
	const char *redis;
	const char *out;
	const char *name;
	const char *via;
	const char *note;
	const char *prefix;
	long subscribers;
	long streams;
	double rate;
	double duration;
	double warmup;
	double settle;
	double drain;
	double drain_quiet;
	double connect_timeout;
	long stream_pid;
	long payload;
	long threads;
	long connect_batch;
	long max_pipeline;
	long maxlen;
	long max_line;
	double read_interval;
	bool idle;
	bool help;
	struct bench_multi targets;
	struct bench_multi cpu_pids;
};

static const struct bench_opt opts[] = {
	{ "url", BENCH_OPT_STR, offsetof(struct fanout_opts, url), "URL",
	  "base URL: nginx, or a streamer directly (required)" },
	{ "subscribers", BENCH_OPT_LONG, offsetof(struct fanout_opts, subscribers), "N", "SSE connections (100)" },
	{ "streams", BENCH_OPT_LONG, offsetof(struct fanout_opts, streams), "M",
	  "dev streams; subscriber i follows stream i mod M (1)" },
	{ "rate", BENCH_OPT_DBL, offsetof(struct fanout_opts, rate), "R",
	  "events appended per second, all streams together (100)" },
	{ "duration", BENCH_OPT_DBL, offsetof(struct fanout_opts, duration), "S",
	  "measured seconds; with --idle, how long to hold the connections (10)" },
	{ "warmup", BENCH_OPT_DBL, offsetof(struct fanout_opts, warmup), "S",
	  "seconds of events before measuring (2)" },
	{ "settle", BENCH_OPT_DBL, offsetof(struct fanout_opts, settle), "S",
	  "pause after connecting, before memory is read and events start (1; idle 2)" },
	{ "drain", BENCH_OPT_DBL, offsetof(struct fanout_opts, drain), "S",
	  "longest wait for stragglers after the last event (15)" },
	{ "drain-quiet", BENCH_OPT_DBL, offsetof(struct fanout_opts, drain_quiet), "S",
	  "stop draining when nothing arrived for this long (3)" },
	{ "connect-timeout", BENCH_OPT_DBL, offsetof(struct fanout_opts, connect_timeout), "S",
	  "per-connection limit to get the response head (30)" },
	{ "redis", BENCH_OPT_STR, offsetof(struct fanout_opts, redis), "HOST:PORT",
	  "Redis the streamer reads (127.0.0.1:6379)" },
	{ "stream-pid", BENCH_OPT_LONG, offsetof(struct fanout_opts, stream_pid), "PID",
	  "the streamer process, for RSS and CPU from /proc" },
	{ "cpu-pid", BENCH_OPT_MULTI, offsetof(struct fanout_opts, cpu_pids), "NAME=PID",
	  "also report CPU use of this process and its children (repeatable)" },
	{ "out", BENCH_OPT_STR, offsetof(struct fanout_opts, out), "FILE", "write the JSON report here" },
	{ "name", BENCH_OPT_STR, offsetof(struct fanout_opts, name), "NAME", "scenario name in the report" },
	{ "via", BENCH_OPT_STR, offsetof(struct fanout_opts, via), "LABEL",
	  "how the URL reaches the streamer (default: from the Server header)" },
	{ "note", BENCH_OPT_STR, offsetof(struct fanout_opts, note), "TEXT", "free text kept in the JSON" },
	{ "prefix", BENCH_OPT_STR, offsetof(struct fanout_opts, prefix), "NAME",
	  "stream names are dev:<prefix>-<i> (bench<pid>)" },
	{ "payload", BENCH_OPT_LONG, offsetof(struct fanout_opts, payload), "BYTES",
	  "padding in each event's data (100)" },
	{ "threads", BENCH_OPT_LONG, offsetof(struct fanout_opts, threads), "T", "client epoll threads (1)" },
	{ "connect-batch", BENCH_OPT_LONG, offsetof(struct fanout_opts, connect_batch), "B",
	  "connections in flight while connecting, per thread (100)" },
	{ "max-pipeline", BENCH_OPT_LONG, offsetof(struct fanout_opts, max_pipeline), "K",
	  "most XADDs per Redis round trip (64)" },
	{ "maxlen", BENCH_OPT_LONG, offsetof(struct fanout_opts, maxlen), "N", "XADD MAXLEN ~ N (100000)" },
	{ "max-line", BENCH_OPT_LONG, offsetof(struct fanout_opts, max_line), "BYTES",
	  "longest SSE line or event data accepted (262144)" },
	{ "read-interval", BENCH_OPT_DBL, offsetof(struct fanout_opts, read_interval), "MS",
	  "least time between two reads of the sockets; trades latency for client CPU (0)" },
	{ "target", BENCH_OPT_MULTI, offsetof(struct fanout_opts, targets), "EXPR",
	  "a goal such as p99_ms<=50, reported as pass/fail (repeatable)" },
	{ "idle", BENCH_OPT_FLAG, offsetof(struct fanout_opts, idle), NULL,
	  "only hold the connections and measure memory per connection" },
	{ "help", BENCH_OPT_FLAG, offsetof(struct fanout_opts, help), NULL, "this text" },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

void bench_fanout_usage(void)
{
	bench_opts_usage(stdout, "cohort-bench fanout --url URL [options]", opts, NOPTS);
	printf("\ntarget metrics: %s\n", report_target_metrics());
}

static int check_opts(const struct fanout_opts *o)
{
	const char *why = NULL;

	if (!o->url)
		why = "--url is required";
	else if (o->subscribers < 1 || o->subscribers > 1000000)
		why = "--subscribers must be 1..1000000";
	else if (o->streams < 1 || o->streams > 100000)
		why = "--streams must be 1..100000";
	else if (!o->idle && (o->rate <= 0 || o->rate > 10e6))
		why = "--rate must be > 0";
	else if (o->duration < 0 || o->warmup < 0 || o->settle < 0 || o->drain < 0 || o->drain_quiet <= 0)
		why = "times must be >= 0";
	else if (!o->idle && o->duration <= 0)
		why = "--duration must be > 0";
	else if (o->read_interval < 0 || o->read_interval > 1000)
		why = "--read-interval must be 0..1000 ms";
	else if (o->connect_timeout <= 0)
		why = "--connect-timeout must be > 0";
	else if (o->payload < 0 || o->payload > 32768)
		why = "--payload must be 0..32768";
	else if (o->threads < 1 || o->threads > 64)
		why = "--threads must be 1..64";
	else if (o->connect_batch < 1 || o->max_pipeline < 1 || o->maxlen < 1 || o->max_line < 1024)
		why = "--connect-batch, --max-pipeline, --maxlen must be >= 1, --max-line >= 1024";
	if (why)
		fprintf(stderr, "cohort-bench fanout: %s\n", why);
	return why ? COHORT_E_INVAL : 0;
}

static void sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts))
		;
}

static int make_scopes(const struct fanout_opts *o, struct scope **out)
{
	const struct scope_policy pol = { .dev_enabled = true };
	struct scope *sc = calloc((size_t)o->streams, sizeof(*sc));
	char prefix[48];

	if (!sc)
		return COHORT_E_NOMEM;
	if (o->prefix)
		snprintf(prefix, sizeof(prefix), "%s", o->prefix);
	else
		snprintf(prefix, sizeof(prefix), "bench%ld", (long)getpid());
	for (long i = 0; i < o->streams; i++) {
		char name[SCOPE_MAX + 1];
		int n = snprintf(name, sizeof(name), "dev:%s-%ld", prefix, i);

		if (n < 0 || (size_t)n >= sizeof(name) || scope_parse(name, (size_t)n, &pol, &sc[i])) {
			fprintf(stderr, "cohort-bench fanout: bad stream name '%s'\n", name);
			free(sc);
			return COHORT_E_INVAL;
		}
	}
	*out = sc;
	return 0;
}

static int parse_hostport(const char *s, char *host, size_t hl, int *port)
{
	const char *c = strrchr(s, ':');
	long p;

	if (!c || (size_t)(c - s) >= hl || c == s || parse_long(c + 1, &p) || p < 1 || p > 65535)
		return COHORT_E_INVAL;
	memcpy(host, s, (size_t)(c - s));
	host[c - s] = '\0';
	*port = (int)p;
	return 0;
}

static void copy_name(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void set_cpu_pids(struct bench_result *r, const struct fanout_opts *o)
{
	if (o->stream_pid > 0) {
		copy_name(r->cpu[0].name, sizeof(r->cpu[0].name), "stream", 6);
		r->cpu[0].pid = (int)o->stream_pid;
		r->ncpu = 1;
	}
	copy_name(r->cpu[r->ncpu].name, sizeof(r->cpu[0].name), "bench", 5);
	r->cpu[r->ncpu++].pid = (int)getpid();
	for (int i = 0; i < o->cpu_pids.n && r->ncpu < BENCH_MAX_CPU; i++) {
		const char *eq = strchr(o->cpu_pids.v[i], '=');
		long pid;

		if (!eq || eq == o->cpu_pids.v[i] || parse_long(eq + 1, &pid) || pid <= 0) {
			fprintf(stderr, "cohort-bench fanout: ignoring --cpu-pid '%s'\n", o->cpu_pids.v[i]);
			continue;
		}
		copy_name(r->cpu[r->ncpu].name, sizeof(r->cpu[0].name), o->cpu_pids.v[i],
			  (size_t)(eq - o->cpu_pids.v[i]));
		r->cpu[r->ncpu++].pid = (int)pid;
	}
}

static void cpu_mark(struct bench_result *r, bool start)
{
	uint64_t busy, total;

	if (start)
		r->cpu_t0_us = clock_mono_us();
	else
		r->cpu_wall_s = (double)(clock_mono_us() - r->cpu_t0_us) / 1e6;
	if (sys_host_cpu(&busy, &total)) {
		r->host_busy_pct = -1;
	} else if (start) {
		r->host_busy0 = busy;
		r->host_total0 = total;
	} else if (total > r->host_total0) {
		r->host_busy_pct = 100.0 * (double)(busy - r->host_busy0) / (double)(total - r->host_total0);
	}
	for (int i = 0; i < r->ncpu; i++) {
		int64_t us = sys_proc_tree_cpu_us(r->cpu[i].pid);

		if (start)
			r->cpu[i].start_us = us;
		else
			r->cpu[i].us = us >= 0 && r->cpu[i].start_us >= 0 ? us - r->cpu[i].start_us : 0;
	}
}

static char *scrape_metrics(const struct sys_url *u)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_init(&sb, 4 << 20);
	if (sys_http_get(u, "/stream/metrics", &sb, 3000)) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

static void read_mem(struct bench_result *r, struct proc_mem *m)
{
	if (r->stream_pid > 0 && sys_proc_mem(r->stream_pid, m))
		r->have_mem = false;
}

/* Waits until every connection got its head or failed. */
static void wait_connected(struct bench_clients *bc, const struct fanout_opts *o, struct bench_result *r)
{
	int64_t t0 = clock_mono_us();
	int64_t limit = (int64_t)((o->connect_timeout + 5) * 1e6);

	while (bench_clients_resolved(bc) < (uint64_t)o->subscribers && clock_mono_us() - t0 < limit)
		sleep_s(0.005);
	r->connect_wall_s = (double)(clock_mono_us() - t0) / 1e6;
}

/* After the last event: wait for every expected delivery, or until nothing
 * arrives for --drain-quiet seconds, or the --drain limit. A streamer that
 * is far behind still delivers steadily, so a quiet period means it is stuck. */
static void drain(struct bench_clients *bc, const struct bench_pub *p, const struct fanout_opts *o,
		  struct bench_result *r)
{
	uint64_t want = 0, last = 0;
	int64_t t0 = clock_mono_us(), last_change = t0;
	bool all_connected = bench_clients_connected(bc) == (uint64_t)o->subscribers;

	/* The exact expectation when every subscriber connected; an upper
	 * bound otherwise (then the quiet rule ends the wait). */
	for (long s = 0; s < o->streams; s++) {
		uint64_t subs = (uint64_t)(o->subscribers / o->streams + (s < o->subscribers % o->streams));

		want += p->published[s] * subs;
	}
	for (;;) {
		uint64_t got = bench_clients_delivered(bc);
		int64_t now = clock_mono_us();

		if (got != last) {
			last = got;
			last_change = now;
		}
		if ((all_connected && got >= want) || now - last_change > (int64_t)(o->drain_quiet * 1e6) ||
		    now - t0 > (int64_t)(o->drain * 1e6))
			break;
		sleep_s(0.002);
	}
	r->drain_s = (double)(clock_mono_us() - t0) / 1e6;
}

static void fill_config(struct bench_result *r, const struct fanout_opts *o, long nofile)
{
	time_t now = time(NULL);
	struct tm tm;

	r->name = o->name ? o->name : (o->idle ? "idle" : "fanout");
	r->idle = o->idle;
	r->url = o->url;
	r->note = o->note;
	r->subscribers = o->subscribers;
	r->streams = o->streams;
	r->rate = o->rate;
	r->warmup_s = o->warmup;
	r->duration_s = o->duration;
	r->payload = o->payload;
	r->threads = (int)o->threads;
	r->connect_batch = (int)o->connect_batch;
	r->read_interval_ms = o->read_interval;
	r->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	r->nofile = nofile;
	r->stream_pid = (int)o->stream_pid;
	r->host_busy_pct = -1;
	gmtime_r(&now, &tm);
	strftime(r->date, sizeof(r->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void collect(struct bench_result *r, struct bench_clients *bc, const struct bench_pub *p,
		    const struct fanout_opts *o)
{
	struct bench_counts c;
	uint64_t *per_stream = bench_clients_per_stream(bc);

	bench_clients_totals(bc, &c, &r->latency_us, &r->connect_us);
	copy_name(r->server, sizeof(r->server), bench_clients_server(bc), strlen(bench_clients_server(bc)));
	r->connected = c.connected;
	r->connect_failed = c.connect_failed;
	r->http_errors = c.http_errors;
	r->not_event_stream = c.not_event_stream;
	r->last_status = c.last_status;
	r->closed = c.closed;
	r->read_errors = c.read_errors;
	r->parse_errors = c.parse_errors;
	r->delivered = c.delivered;
	r->delivered_measured = c.delivered_measured;
	r->duplicates = c.duplicates;
	r->out_of_order = c.out_of_order;
	r->gaps = c.gaps;
	r->wrong_stream = c.wrong_stream;
	r->bad_ids = c.bad_ids;
	r->foreign = c.foreign;
	r->resets = c.resets;
	r->negative_latency = c.negative_latency;
	r->bytes = c.bytes;
	bench_clients_spread(bc, &r->per_conn_min, &r->per_conn_max);
	if (p && per_stream) {
		for (long s = 0; s < o->streams; s++) {
			r->expected += p->published[s] * per_stream[s];
			r->expected_measured += p->published_measured[s] * per_stream[s];
		}
		r->published = p->total;
		r->published_measured = p->measured;
		r->event_bytes = p->event_bytes;
		r->publish_max_lag_us = p->max_lag_us;
		r->publish_round_trips = p->round_trips;
		r->publish_errors = p->errors;
		r->lost = r->expected > r->delivered ? r->expected - r->delivered : 0;
		r->unexpected = r->delivered > r->expected ? r->delivered - r->expected : 0;
		r->window_start_us = p->measure_start_us;
		r->window_end_us = p->measure_end_us;
		r->window_s = (double)(p->measure_end_us - p->measure_start_us) / 1e6;
		if (r->window_s > 0) {
			uint64_t in_window = bench_clients_received_between(bc, p->measure_start_us,
									    p->measure_end_us);

			r->deliveries_per_s = (double)in_window / r->window_s;
			r->events_per_s = (double)p->measured / r->window_s;
			r->bytes_per_s = r->deliveries_per_s * (double)r->bytes / (double)(c.events ? c.events : 1);
		}
		r->timeline = bench_clients_timeline(bc, &r->timeline_len);
	}
	if (!o->via)
		r->via = strstr(r->server, "nginx") ? "nginx" : "direct";
	else
		r->via = o->via;
	free(per_stream);
}

int bench_fanout_main(int argc, char **argv)
{
	struct fanout_opts o = {
		.redis = "127.0.0.1:6379", .subscribers = 100, .streams = 1, .rate = 100,
		.duration = 10, .warmup = 2, .settle = -1, .drain = 15, .drain_quiet = 3, .connect_timeout = 30,
		.payload = 100, .threads = 1, .connect_batch = 100, .max_pipeline = 64,
		.maxlen = 100000, .max_line = 256 * 1024,
	};
	struct bench_result *r = NULL;
	struct bench_clients bc;
	struct bench_client_opts co = { 0 };
	struct bench_pub pub;
	struct bench_pub_opts po = { 0 };
	struct scope *scopes = NULL;
	struct sys_url url;
	char path[600], host[256], err[256];
	bool clients_started = false, pub_started = false;
	long nofile;
	int ret = 2, e;

	memset(&bc, 0, sizeof(bc));
	memset(&pub, 0, sizeof(pub));
	if (bench_opts_parse("cohort-bench fanout", argc, argv, opts, NOPTS, &o, NULL))
		return 2;
	if (o.help) {
		bench_fanout_usage();
		return 0;
	}
	if (o.settle < 0)
		o.settle = o.idle ? 2 : 1;
	if (check_opts(&o))
		return 2;
	nofile = sys_raise_nofile();
	if (nofile > 0 && o.subscribers + 64 > nofile) {
		fprintf(stderr, "cohort-bench fanout: %ld subscribers need more than the open-file limit %ld\n",
			o.subscribers, nofile);
		return 2;
	}
	if (sys_url_parse(o.url, &url, err, sizeof(err))) {
		fprintf(stderr, "cohort-bench fanout: %s\n", err);
		return 2;
	}
	if (!o.idle && parse_hostport(o.redis, host, sizeof(host), &po.redis_port)) {
		fprintf(stderr, "cohort-bench fanout: bad --redis '%s'\n", o.redis);
		return 2;
	}
	if (make_scopes(&o, &scopes))
		return 2;
	if (!(r = calloc(1, sizeof(*r))))
		goto out;
	fill_config(r, &o, nofile);
	for (int i = 0; i < o.targets.n; i++)
		if ((e = report_target_add(r, o.targets.v[i]))) {
			fprintf(stderr, "cohort-bench fanout: bad --target '%s' (metrics: %s)\n",
				o.targets.v[i], report_target_metrics());
			goto out;
		}
	set_cpu_pids(r, &o);
	r->have_mem = o.stream_pid > 0;
	read_mem(r, &r->mem_before);

	snprintf(path, sizeof(path), "%s/stream/events", url.prefix);
	co.addr = url.addr;
	co.addrlen = url.addrlen;
	co.host_header = url.host_header;
	co.path = path;
	co.scopes = scopes;
	co.nstreams = (size_t)o.streams;
	co.nconns = (size_t)o.subscribers;
	co.threads = (int)o.threads;
	co.connect_batch = (int)o.connect_batch;
	co.connect_timeout_ms = (int)(o.connect_timeout * 1000);
	co.max_line = (size_t)o.max_line;
	co.read_interval_us = (int)(o.read_interval * 1000);
	co.origin_us = r->timeline_origin_us = clock_wall_us();
	if ((e = bench_clients_start(&bc, &co))) {
		snprintf(r->error, sizeof(r->error), "cannot start clients: %s", cohort_strerror(e));
		goto report;
	}
	clients_started = true;
	wait_connected(&bc, &o, r);
	sleep_s(o.settle);
	read_mem(r, &r->mem_connected);
	r->metrics_before = scrape_metrics(&url);
	cpu_mark(r, true);

	if (o.idle) {
		sleep_s(o.duration);
	} else {
		po.redis_host = host;
		po.scopes = scopes;
		po.nstreams = (size_t)o.streams;
		po.rate = o.rate;
		po.warmup_s = o.warmup;
		po.duration_s = o.duration;
		po.payload = (size_t)o.payload;
		po.maxlen = o.maxlen;
		po.max_pipeline = (int)o.max_pipeline;
		if (bench_pub_start(&pub, &po)) {
			snprintf(r->error, sizeof(r->error), "%s", pub.err);
			goto report;
		}
		pub_started = true;
		if (bench_pub_join(&pub, false))
			snprintf(r->error, sizeof(r->error), "%s", pub.err);
		cpu_mark(r, false);
		drain(&bc, &pub, &o, r);
	}
	if (o.idle)
		cpu_mark(r, false);
	r->metrics_after = scrape_metrics(&url);
	read_mem(r, &r->mem_after);

report:
	if (clients_started)
		bench_clients_stop(&bc);
	collect(r, &bc, pub_started ? &pub : NULL, &o);
	if (r->have_mem && r->connected) {
		r->rss_per_conn_bytes = (double)(r->mem_connected.rss_kb - r->mem_before.rss_kb) * 1024.0 /
					(double)r->connected;
		r->anon_per_conn_bytes = (double)(r->mem_connected.anon_kb - r->mem_before.anon_kb) *
					 1024.0 / (double)r->connected;
	}
	report_targets_eval(r);
	report_print(r, stdout);
	fflush(stdout);
	ret = r->connected ? 0 : 1;
	if (r->error[0])
		ret = 1;
	if (o.out && report_write_json(r, o.out)) {
		fprintf(stderr, "cohort-bench fanout: cannot write %s\n", o.out);
		ret = 2;
	}
out:
	bench_pub_release(&pub);
	bench_clients_release(&bc);
	if (r)
		report_release(r);
	free(r);
	free(scopes);
	return ret;
}
