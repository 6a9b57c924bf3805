#include "core/log.h"
#include "core/strbuf.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *proc_name = "cohort";
static atomic_int min_level = LOG_INFO;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_init(const char *proc, const char *level)
{
	if (proc)
		proc_name = proc;
	for (int i = 0; level && i < 4; i++)
		if (!strcasecmp(level, level_names[i]))
			atomic_store(&min_level, i);
}

int log_level_enabled(enum log_level level)
{
	return (int)level >= atomic_load(&min_level);
}

static __thread time_t ts_sec = -1;
static __thread char ts_text[40];

/* Buffered lines (log_buffer), written in one go. */
static pthread_mutex_t buf_lock = PTHREAD_MUTEX_INITIALIZER;
static bool buffering;
static char *buf;
static size_t buf_len;

static void write_all(const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(STDERR_FILENO, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		len -= (size_t)w;
	}
}

static void flush_locked(void)
{
	if (buf_len)
		write_all(buf, buf_len);
	buf_len = 0;
}

static int is_secret_name(const char *key)
{
	static const char *const secret[] = { "token", "password", "secret", "authorization", "cookie" };

	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (strcasestr(key, secret[i]))
			return 1;
	return 0;
}

/* What a field name is, remembered per thread by the name's address and
 * text (names are string literals; the text check keeps a name built in a
 * reused buffer from inheriting another's answer), so a line does not
 * search each name for five words every time. */
#define SECRET_MEMO 64
#define SECRET_MEMO_NAME 32
static __thread struct {
	const char *key;
	bool secret;
	char name[SECRET_MEMO_NAME];
} secret_memo[SECRET_MEMO];

static int is_secret(const char *key)
{
	size_t i = ((uintptr_t)key >> 3) % SECRET_MEMO, n = strlen(key);

	if (n >= SECRET_MEMO_NAME)
		return is_secret_name(key);
	if (secret_memo[i].key != key || strcmp(secret_memo[i].name, key)) {
		secret_memo[i].key = key;
		secret_memo[i].secret = is_secret_name(key);
		memcpy(secret_memo[i].name, key, n + 1);
	}
	return secret_memo[i].secret;
}

static int add_head(struct strbuf *sb, const char *ts, long usec, enum log_level level, const char *event)
{
	int err = strbuf_addf(sb, "{\"ts\":\"%s.%06ldZ\",\"level\":\"%s\",\"proc\":\"%s\",\"event\":", ts,
			      usec, level_names[level], proc_name);

	return err ? err : strbuf_add_json_str(sb, event, strlen(event));
}

void log_write(enum log_level level, const char *event, const struct log_field *f, size_t n)
{
	struct strbuf sb;
	struct timeval tv;
	struct tm tm;
	char ts[40];
	int err = 0;

	if (!log_level_enabled(level))
		return;
	gettimeofday(&tv, NULL);
	if (tv.tv_sec != ts_sec) {
		/* Formatted once per second per thread. */
		gmtime_r(&tv.tv_sec, &tm);
		strftime(ts_text, sizeof(ts_text), "%Y-%m-%dT%H:%M:%S", &tm);
		ts_sec = tv.tv_sec;
	}
	memcpy(ts, ts_text, sizeof(ts));
	strbuf_init(&sb, 64 * 1024);
	err |= add_head(&sb, ts, (long)tv.tv_usec, level, event);
	for (size_t i = 0; i < n; i++) {
		err |= strbuf_addch(&sb, ',');
		err |= strbuf_add_json_str(&sb, f[i].key, strlen(f[i].key));
		err |= strbuf_addch(&sb, ':');
		if (is_secret(f[i].key)) {
			err |= strbuf_adds(&sb, "\"[redacted]\"");
			continue;
		}
		switch (f[i].type) {
		case LOG_F_STR:
			if (f[i].s)
				err |= strbuf_add_json_str(&sb, f[i].s, strlen(f[i].s));
			else
				err |= strbuf_adds(&sb, "null");
			break;
		case LOG_F_INT:
			err |= strbuf_add_int(&sb, f[i].i);
			break;
		case LOG_F_DBL:
			/* JSON has no NaN or Infinity. */
			if (isfinite(f[i].d))
				err |= strbuf_addf(&sb, "%.6g", f[i].d);
			else
				err |= strbuf_adds(&sb, "null");
			break;
		case LOG_F_END:
			err |= strbuf_adds(&sb, "null");
			break;
		}
	}
	err |= strbuf_adds(&sb, "}\n");
	if (err) {
		/* A field did not fit the line bound; a dropped value would leave
		 * "key":, behind, so write the line without fields and say so. */
		strbuf_reset(&sb);
		if (!add_head(&sb, ts, (long)tv.tv_usec, level, event))
			strbuf_adds(&sb, ",\"truncated\":true}\n");
	}
	if (sb.buf) {
		pthread_mutex_lock(&buf_lock);
		if (buffering && level <= LOG_INFO && sb.len <= LOG_BUFFER_MAX) {
			if (buf_len + sb.len > LOG_BUFFER_MAX)
				flush_locked();
			memcpy(buf + buf_len, sb.buf, sb.len);
			buf_len += sb.len;
		} else {
			flush_locked(); /* what was buffered goes first */
			write_all(sb.buf, sb.len);
		}
		pthread_mutex_unlock(&buf_lock);
	}
	strbuf_release(&sb);
}

void log_buffer(bool on)
{
	pthread_mutex_lock(&buf_lock);
	if (on && !buf)
		buf = malloc(LOG_BUFFER_MAX);
	flush_locked();
	buffering = on && buf;
	pthread_mutex_unlock(&buf_lock);
}

void log_flush(void)
{
	pthread_mutex_lock(&buf_lock);
	flush_locked();
	pthread_mutex_unlock(&buf_lock);
}
