/*
 * log.h — structured logging: one JSON object per line on stderr.
 *
 *   log_info("request", LF_S("rid", rid), LF_I("status", 200));
 *
 * Each line carries a UTC timestamp, the level, the process name and the
 * event name, then the given fields. Fields whose key names a secret
 * (token, password, secret, authorization, cookie) are always written as
 * "[redacted]", so a careless call cannot leak a credential. Lines are
 * written with one write(2), so threads never interleave within a line.
 *
 * A busy server may buffer its debug and info lines (log_buffer): up to
 * LOG_BUFFER_MAX bytes of whole lines wait in memory and go out in one
 * write when the next line would not fit, before any warning or error (so
 * lines keep their order), and on log_flush, which the process calls at
 * least every LOG_FLUSH_MS (cohort-api's main thread does) and at exit.
 * A crash loses at most that much of the info lines.
 */
#ifndef COHORT_LOG_H
#define COHORT_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_ftype { LOG_F_END, LOG_F_STR, LOG_F_INT, LOG_F_DBL };

struct log_field {
	const char *key;
	enum log_ftype type;
	const char *s;
	long long i;
	double d;
};

#define LF_S(k, v) { (k), LOG_F_STR, (v), 0, 0 }
#define LF_I(k, v) { (k), LOG_F_INT, NULL, (long long)(v), 0 }
#define LF_D(k, v) { (k), LOG_F_DBL, NULL, 0, (double)(v) }

void log_init(const char *proc, const char *level);
int log_level_enabled(enum log_level level);
void log_write(enum log_level level, const char *event, const struct log_field *f, size_t n);

#define LOG_BUFFER_MAX 65536
#define LOG_FLUSH_MS 100
void log_buffer(bool on);
void log_flush(void);

#define LOG__FIELDS(...) (const struct log_field[]){ { 0 }, __VA_ARGS__ }
#define LOG__N(...) (sizeof(LOG__FIELDS(__VA_ARGS__)) / sizeof(struct log_field))
#define log_at(lvl, ev, ...) \
	log_write((lvl), (ev), LOG__FIELDS(__VA_ARGS__) + 1, LOG__N(__VA_ARGS__) - 1)
#define log_debug(ev, ...) log_at(LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...)  log_at(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...)  log_at(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_at(LOG_ERROR, ev, __VA_ARGS__)

#endif
