/*
 * bench_fanout.h — `cohort-bench fanout`: N SSE subscribers on M dev
 * streams, events appended to Redis at a fixed rate, and a report of what
 * arrived, how fast and how late, and what the streamer paid for it.
 * With --idle, only connections are opened and the streamer's memory per
 * connection is measured.
 */
#ifndef COHORT_BENCH_FANOUT_H
#define COHORT_BENCH_FANOUT_H

int bench_fanout_main(int argc, char **argv);
void bench_fanout_usage(void);

#endif
