#include "core/log.h"
#include "core/strbuf.h"

#include <math.h>
#include <stdatomic.h>
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

static int is_secret(const char *key)
{
	static const char *const secret[] = { "token", "password", "secret", "authorization", "cookie" };

	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (strcasestr(key, secret[i]))
			return 1;
	return 0;
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
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
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
			err |= strbuf_addf(&sb, "%lld", f[i].i);
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
		ssize_t w = write(STDERR_FILENO, sb.buf, sb.len);

		(void)w;
	}
	strbuf_release(&sb);
}
