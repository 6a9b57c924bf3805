/*
 * bench_html.c — the HTML report. It reads only the JSON files, so a report
 * can be rebuilt from old results, and what it shows is exactly what the
 * JSON says.
 */
#include "cli/bench_html.h"

#include <json.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_RUNS 64
#define SVG_W 640
#define SVG_H 200
#define PAD_L 60
#define PAD_B 34
#define PAD_T 12
#define PAD_R 30

/* Object member by a dotted path ("latency_ms.p99"); NULL when absent. */
static json_object *jpath(json_object *o, const char *path)
{
	char key[64];

	while (o && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n + (dot ? 1 : 0);
	}
	return o;
}

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char *jstr(json_object *o, const char *path)
{
	json_object *v = jpath(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool jnum(json_object *o, const char *path, double *out)
{
	json_object *v = jpath(o, path);

	if (!v || !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return false;
	*out = json_object_get_double(v);
	return true;
}

/* A table cell with a number, or an empty cell. */
static void td_num(FILE *f, json_object *o, const char *path, int decimals, const char *unit)
{
	double v;

	fputs("<td class=n>", f);
	if (jnum(o, path, &v))
		fprintf(f, "%.*f%s", decimals, v, unit);
	fputs("</td>", f);
}

/* td_num of path, or of alt when path is absent (edit runs name some
 * columns differently). */
static void td_num_or(FILE *f, json_object *o, const char *path, const char *alt, int decimals)
{
	double v;

	td_num(f, o, jnum(o, path, &v) ? path : alt, decimals, "");
}

static void summary_row(FILE *f, json_object *r)
{
	json_object *targets = jpath(r, "targets");
	double lost, expected;
	bool pass = jpath(r, "pass") && json_object_get_boolean(jpath(r, "pass"));

	fputs("<tr><td><a href=\"#", f);
	esc(f, jstr(r, "name"));
	fputs("\">", f);
	esc(f, jstr(r, "name"));
	fputs("</a></td><td>", f);
	esc(f, jstr(r, "mode"));
	fputs("</td><td>", f);
	esc(f, jstr(r, "config.via"));
	fputs("</td>", f);
	td_num(f, r, "connect.ok", 0, "");
	td_num_or(f, r, "config.streams", "config.files", 0);
	td_num_or(f, r, "config.rate_per_s", "pushes.accepted_per_s", 0);
	fputs("<td class=n>", f);
	if (jnum(r, "events.expected", &expected) && jnum(r, "events.lost", &lost))
		fprintf(f, "%.0f / %.0f", expected - lost, expected);
	else if (jnum(r, "updates.expected", &expected) && jnum(r, "updates.delivered", &lost))
		fprintf(f, "%.0f / %.0f", lost, expected);
	fputs("</td>", f);
	td_num_or(f, r, "events.lost", "updates.lost", 0);
	td_num(f, r, "throughput.deliveries_per_s", 0, "");
	td_num(f, r, "latency_ms.p50", 3, "");
	td_num(f, r, "latency_ms.p99", 3, "");
	td_num(f, r, "latency_ms.p999", 3, "");
	td_num(f, r, "latency_ms.max", 3, "");
	td_num(f, r, "streamer.rss_per_conn_bytes", 0, "");
	td_num(f, r, "cpu.stream.util_pct", 0, "%");
	td_num(f, r, "errors.total", 0, "");
	fprintf(f, "<td class=%s>%s</td></tr>\n", pass ? "pass" : "fail",
		!targets || !json_object_array_length(targets) ? "-" : pass ? "pass" : "FAIL");
}

static void targets_table(FILE *f, json_object *r)
{
	json_object *a = jpath(r, "targets");
	size_t n = a ? json_object_array_length(a) : 0;

	if (!n)
		return;
	fputs("<table><tr><th>target</th><th>value</th><th>result</th></tr>\n", f);
	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(a, i);
		bool pass = jpath(t, "pass") && json_object_get_boolean(jpath(t, "pass"));
		double v;

		fputs("<tr><td>", f);
		esc(f, jstr(t, "expr"));
		fputs("</td><td class=n>", f);
		if (jnum(t, "value", &v))
			fprintf(f, "%.3f", v);
		else
			fputs("not measured", f);
		fprintf(f, "</td><td class=%s>%s</td></tr>\n", pass ? "pass" : "fail", pass ? "pass" : "FAIL");
	}
	fputs("</table>\n", f);
}

static void axis_box(FILE *f)
{
	fprintf(f, "<line x1=%d y1=%d x2=%d y2=%d class=ax />", PAD_L, PAD_T, PAD_L, SVG_H - PAD_B);
	fprintf(f, "<line x1=%d y1=%d x2=%d y2=%d class=ax />", PAD_L, SVG_H - PAD_B, SVG_W - PAD_R,
		SVG_H - PAD_B);
}

/* Latency histogram: x is log10 of the latency, from the smallest bucket's
 * decade to the largest's; bar height is the share of samples. */
static void histogram_svg(FILE *f, json_object *r)
{
	json_object *a = jpath(r, "latency_histogram_us");
	size_t n = a ? json_object_array_length(a) : 0;
	double lo = 1e300, hi = 0, maxc = 0, total = 0, x0, x1, plot_w = SVG_W - PAD_L - PAD_R,
	       plot_h = SVG_H - PAD_B - PAD_T;
	static const char *const marks[] = { "p50", "p99", "p999" };

	if (!n)
		return;
	for (size_t i = 0; i < n; i++) {
		json_object *b = json_object_array_get_idx(a, i);
		double l = json_object_get_double(json_object_array_get_idx(b, 0));
		double h = json_object_get_double(json_object_array_get_idx(b, 1)) + 1;
		double c = json_object_get_double(json_object_array_get_idx(b, 2));

		lo = fmin(lo, fmax(l, 1));
		hi = fmax(hi, h);
		total += c;
	}
	x0 = floor(log10(lo));
	x1 = ceil(log10(hi));
	if (x1 <= x0)
		x1 = x0 + 1;
	/* Normalize by bucket width in log space so wide buckets do not look tall. */
	for (size_t i = 0; i < n; i++) {
		json_object *b = json_object_array_get_idx(a, i);
		double l = fmax(json_object_get_double(json_object_array_get_idx(b, 0)), 1);
		double h = json_object_get_double(json_object_array_get_idx(b, 1)) + 1;
		double c = json_object_get_double(json_object_array_get_idx(b, 2));

		maxc = fmax(maxc, c / (log10(h) - log10(l)));
	}
	fprintf(f, "<svg width=%d height=%d viewBox=\"0 0 %d %d\" role=img>"
		   "<title>latency histogram</title>",
		SVG_W, SVG_H, SVG_W, SVG_H);
	for (size_t i = 0; i < n; i++) {
		json_object *b = json_object_array_get_idx(a, i);
		double l = fmax(json_object_get_double(json_object_array_get_idx(b, 0)), 1);
		double h = json_object_get_double(json_object_array_get_idx(b, 1)) + 1;
		double c = json_object_get_double(json_object_array_get_idx(b, 2));
		double xa = PAD_L + (log10(l) - x0) / (x1 - x0) * plot_w;
		double xb = PAD_L + (log10(h) - x0) / (x1 - x0) * plot_w;
		double bh = c / (log10(h) - log10(l)) / maxc * plot_h;

		fprintf(f, "<rect x=%.1f y=%.1f width=%.1f height=%.1f class=bar>"
			   "<title>%.0f-%.0f us: %.0f (%.3f%%)</title></rect>",
			xa, SVG_H - PAD_B - bh, fmax(xb - xa, 0.5), bh, l, h - 1, c, c * 100 / total);
	}
	for (size_t m = 0; m < sizeof(marks) / sizeof(marks[0]); m++) {
		char path[32];
		double v, x;

		snprintf(path, sizeof(path), "latency_ms.%s", marks[m]);
		if (!jnum(r, path, &v) || v * 1000 < 1)
			continue;
		x = PAD_L + (log10(v * 1000) - x0) / (x1 - x0) * plot_w;
		fprintf(f, "<line x1=%.1f y1=%d x2=%.1f y2=%d class=mark />"
			   "<text x=%.1f y=%d class=lbl>%s</text>",
			x, PAD_T, x, SVG_H - PAD_B, x + 2, PAD_T + 10 + 12 * (int)m, marks[m]);
	}
	axis_box(f);
	for (double d = x0; d <= x1; d++) {
		double x = PAD_L + (d - x0) / (x1 - x0) * plot_w, us = pow(10, d);

		fprintf(f, "<text x=%.1f y=%d class=tick text-anchor=middle>", x, SVG_H - PAD_B + 14);
		if (us < 1000)
			fprintf(f, "%.0f us", us);
		else if (us < 1e6)
			fprintf(f, "%.0f ms", us / 1000);
		else
			fprintf(f, "%.0f s", us / 1e6);
		fputs("</text>", f);
	}
	fprintf(f, "<text x=%d y=%d class=tick text-anchor=middle>append-to-delivery latency (log scale)</text>",
		PAD_L + (SVG_W - PAD_L) / 2, SVG_H - 4);
	fputs("</svg>\n", f);
}

static void timeline_svg(FILE *f, json_object *r)
{
	json_object *a = jpath(r, "timeline.deliveries_per_s");
	size_t n = a ? json_object_array_length(a) : 0;
	double maxv = 0, ws = 0, we = 0, plot_w = SVG_W - PAD_L - PAD_R, plot_h = SVG_H - PAD_B - PAD_T;

	if (n < 2)
		return;
	for (size_t i = 0; i < n; i++)
		maxv = fmax(maxv, json_object_get_double(json_object_array_get_idx(a, i)));
	if (maxv <= 0)
		return;
	jnum(r, "timeline.window_start_ms", &ws);
	jnum(r, "timeline.window_end_ms", &we);
	fprintf(f, "<svg width=%d height=%d viewBox=\"0 0 %d %d\" role=img>"
		   "<title>deliveries per second over time</title>",
		SVG_W, SVG_H, SVG_W, SVG_H);
	fprintf(f, "<rect x=%.1f y=%d width=%.1f height=%.1f class=win />",
		PAD_L + ws / 100 / (double)n * plot_w, PAD_T, (we - ws) / 100 / (double)n * plot_w, plot_h);
	fputs("<polyline class=line points=\"", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%.1f,%.1f ", PAD_L + (double)i / (double)(n - 1) * plot_w,
			SVG_H - PAD_B - json_object_get_double(json_object_array_get_idx(a, i)) / maxv * plot_h);
	fputs("\"/>", f);
	axis_box(f);
	fprintf(f, "<text x=%d y=%d class=tick text-anchor=end>%.0f/s</text>", PAD_L - 4, PAD_T + 8, maxv);
	fprintf(f, "<text x=%d y=%d class=tick text-anchor=end>0</text>", PAD_L - 4, SVG_H - PAD_B);
	fprintf(f, "<text x=%d y=%d class=tick text-anchor=middle>deliveries/s in 100 ms steps over %.1f s "
		   "(shaded: measured window)</text>",
		PAD_L + (SVG_W - PAD_L) / 2, SVG_H - 4, (double)n / 10);
	fputs("</svg>\n", f);
}

static void run_section(FILE *f, json_object *r)
{
	const char *note = jstr(r, "config.note");

	fputs("<h2 id=\"", f);
	esc(f, jstr(r, "name"));
	fputs("\">", f);
	esc(f, jstr(r, "name"));
	fputs("</h2>\n<p>", f);
	esc(f, jstr(r, "mode"));
	fputs(" run via ", f);
	esc(f, jstr(r, "config.via"));
	fputs(" (", f);
	esc(f, jstr(r, "config.url"));
	fputs(", server: ", f);
	esc(f, jstr(r, "config.server_header"));
	fputs("), ", f);
	esc(f, jstr(r, "date"));
	fputs(".", f);
	if (note) {
		fputs(" ", f);
		esc(f, note);
	}
	fputs("</p>\n", f);
	targets_table(f, r);
	histogram_svg(f, r);
	timeline_svg(f, r);
}

static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
	"table{border-collapse:collapse;margin:1em 0}"
	"td,th{border:1px solid #ccc;padding:3px 8px}th{background:#f3f3f3}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}"
	".pass{color:#060;font-weight:bold}.fail{color:#b00;font-weight:bold}"
	"svg{display:block;margin:.5em 0 1.5em}.bar{fill:#4a7bd0}.ax{stroke:#444}"
	".mark{stroke:#c33;stroke-dasharray:3 2}.lbl{fill:#c33;font-size:11px}"
	".tick{font-size:11px;fill:#444}.line{fill:none;stroke:#4a7bd0;stroke-width:1.5}"
	".win{fill:#eef3fb}";

int bench_report_main(int argc, char **argv)
{
	json_object *runs[MAX_RUNS];
	const char *out = NULL;
	int n = 0, ret = 0;
	FILE *f;
	time_t now = time(NULL);
	char date[32];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "--help")) {
			printf("usage: cohort-bench report --out FILE.html RUN.json...\n");
			return 0;
		} else if (n < MAX_RUNS) {
			runs[n] = json_object_from_file(argv[i]);
			if (!runs[n]) {
				fprintf(stderr, "cohort-bench report: cannot read %s: %s\n", argv[i],
					json_util_get_last_err());
				ret = 1;
				continue;
			}
			n++;
		}
	}
	if (!out || !n) {
		fprintf(stderr, "usage: cohort-bench report --out FILE.html RUN.json...\n");
		ret = 2;
		goto done;
	}
	if (!(f = fopen(out, "w"))) {
		fprintf(stderr, "cohort-bench report: cannot write %s\n", out);
		ret = 2;
		goto done;
	}
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	fprintf(f, "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
		   "<title>cohort-bench report</title><style>%s</style></head><body>\n"
		   "<h1>cohort-bench report</h1>\n<p>Generated %s from %d run%s. Latency is "
		   "append-to-delivery (wall clock before XADD to wall clock after the read); "
		   "see docs/bench.md.</p>\n",
		style, date, n, n == 1 ? "" : "s");
	fputs("<table><tr><th>run</th><th>mode</th><th>via</th><th>subscribers</th><th>streams (edit: files)</th>"
	      "<th>events/s (edit: accepted)</th><th>delivered / expected</th><th>lost</th><th>deliveries/s</th>"
	      "<th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>RSS B/conn</th>"
	      "<th>streamer CPU</th><th>errors</th><th>targets</th></tr>\n",
	      f);
	for (int i = 0; i < n; i++)
		summary_row(f, runs[i]);
	fputs("</table>\n", f);
	for (int i = 0; i < n; i++)
		run_section(f, runs[i]);
	fputs("</body></html>\n", f);
	if (fclose(f)) {
		ret = 2;
		fprintf(stderr, "cohort-bench report: cannot write %s\n", out);
	}
done:
	for (int i = 0; i < n; i++)
		json_object_put(runs[i]);
	return ret;
}
