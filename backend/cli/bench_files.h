/*
 * bench_files.h — `cohort-bench files`: REST load through nginx for the
 * workspace targets of issue 4 (docs/bench.md).
 *
 *   read4k    GET of one 4 KiB file over C keep-alive connections, against
 *             the same client on `cohort-bench hello-fcgi` behind the same
 *             nginx, in alternating rounds; the ratio of their requests/s.
 *   list2000  GET of a 2,000-file project's tree, latency percentiles.
 */
#ifndef COHORT_BENCH_FILES_H
#define COHORT_BENCH_FILES_H

int bench_files_main(int argc, char **argv);

#endif
