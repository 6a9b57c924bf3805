/*
 * bench_hello.h — `cohort-bench hello-fcgi`: the trivial FastCGI responder
 * that `cohort-bench files read4k` compares cohort-api against (issue 4's
 * target: a 4 KiB file read reaches >= 70 % of its requests/s).
 */
#ifndef COHORT_BENCH_HELLO_H
#define COHORT_BENCH_HELLO_H

int bench_hello_main(int argc, char **argv);

#endif
