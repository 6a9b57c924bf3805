/*
 * kv.h — every Redis key name cohort uses is built here and nowhere else.
 * See docs/data-model.md. Keys of one project share the hash tag {p:<id>}
 * so the layout is Redis Cluster ready.
 */
#ifndef COHORT_KV_H
#define COHORT_KV_H

#include <stddef.h>

#define KV_KEY_MAX 256

/* Event stream of the development scope dev:<name>. */
int kv_dev_stream(char *buf, size_t len, const char *name);

#endif
