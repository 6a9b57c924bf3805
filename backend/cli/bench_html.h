/*
 * bench_html.h — `cohort-bench report`: one self-contained HTML page (no
 * scripts, no external files) from the JSON documents of several runs: a
 * summary table, then per run its targets, an inline SVG latency histogram
 * and a deliveries-per-second timeline.
 */
#ifndef COHORT_BENCH_HTML_H
#define COHORT_BENCH_HTML_H

int bench_report_main(int argc, char **argv);

#endif
