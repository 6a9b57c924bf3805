/*
 * bench_edit.h — `cohort-bench edit`: live-editing load through nginx for
 * the targets of issue 5 (docs/bench.md).
 *
 *   fanout  F files, each in its own project, W writers per file pushing
 *           small inserts at a fixed rate over REST, S SSE subscribers per
 *           file on the project's stream: push-to-delivery latency and
 *           version continuity at every subscriber.
 *   hot     the same with one file and many authors, each also subscribed.
 *   size    accepted edits/s on a large file against a small one, same
 *           writers, closed loop, alternating phases.
 */
#ifndef COHORT_BENCH_EDIT_H
#define COHORT_BENCH_EDIT_H

int bench_edit_main(int argc, char **argv);

#endif
