/*
 * Unit tests for core/workspace against a real Redis: the test starts its own
 * redis-server on a free 127.0.0.1 port (no persistence), runs every
 * operation and its refusals, checks the totals after each step, races
 * writers on threads to show the totals never drift, and stops the server by
 * PID at the end.
 */
#include "core/config.h"
#include "core/err.h"
#include "core/kv.h"
#include "core/rconn.h"
#include "core/strbuf.h"
#include "core/workspace.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

static pid_t redis_pid;
static struct cohort_config cfg;
static struct rconn *rc;
static long long next_project = 100;

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &l))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int group_setup(void **state)
{
	char err[256], portstr[16];
	int port = free_port();

	(void)state;
	if (port < 0)
		return -1;
	snprintf(portstr, sizeof(portstr), "%d", port);
	redis_pid = fork();
	if (redis_pid < 0)
		return -1;
	if (redis_pid == 0) {
		FILE *devnull = freopen("/dev/null", "w", stdout);

		(void)devnull;
		dup2(STDOUT_FILENO, STDERR_FILENO);
		execlp("redis-server", "redis-server", "--port", portstr, "--bind", "127.0.0.1",
		       "--save", "", "--appendonly", "no", "--loglevel", "warning", (char *)NULL);
		_exit(127);
	}
	unsetenv("COHORT_REDIS_SOCKET");
	unsetenv("COHORT_REDIS_HOST");
	unsetenv("COHORT_REDIS_PORT");
	if (config_load(&cfg, NULL, err, sizeof(err)))
		return -1;
	free(cfg.redis_host);
	cfg.redis_host = strdup("127.0.0.1");
	cfg.redis_port = port;
	rc = rconn_new(&cfg);
	for (int i = 0; i < 200; i++) {
		struct timespec ts = { 0, 25 * 1000 * 1000 };

		if (rc && rconn_ping(rc) == 0)
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

static int group_teardown(void **state)
{
	int status;

	(void)state;
	rconn_free(rc);
	config_release(&cfg);
	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, &status, 0);
	}
	return 0;
}

static void totals_are(struct workspace *ws, uint64_t bytes, uint64_t entries)
{
	uint64_t b = 99, e = 99;

	assert_int_equal(workspace_totals(ws, &b, &e), 0);
	assert_int_equal(b, bytes);
	assert_int_equal(e, entries);
}

static void new_ws(struct workspace *ws, const struct ws_limits *lim)
{
	workspace_init(ws, rc, next_project++, lim);
}

static void test_create_read(void **state)
{
	struct workspace ws;
	struct ws_stat st;
	struct strbuf sb = STRBUF_INIT;
	static const char bin[] = { 'P', 'N', 'G', 0, (char)0xff, (char)0xfe };

	(void)state;
	new_ws(&ws, NULL);
	totals_are(&ws, 0, 0);
	assert_int_equal(workspace_create(&ws, "main.c", WS_FILE, "int x;\n", 7, "text/x-c", 0, &st), 0);
	assert_int_equal(st.version, 1);
	assert_false(st.binary);
	assert_int_equal(workspace_create(&ws, "main.c", WS_FILE, "y", 1, NULL, 0, NULL), COHORT_E_EXISTS);
	assert_non_null(ws.reason);
	assert_int_equal(workspace_create(&ws, "main.c", WS_DIR, NULL, 0, NULL, 0, NULL), COHORT_E_EXISTS);
	/* Parents must exist unless WS_PARENTS. */
	assert_int_equal(workspace_create(&ws, "src/a.c", WS_FILE, "a", 1, NULL, 0, NULL), COHORT_E_NOTFOUND);
	assert_int_equal(workspace_create(&ws, "main.c/x", WS_FILE, "a", 1, NULL, WS_PARENTS, NULL),
			 COHORT_E_CONFLICT);
	assert_int_equal(workspace_create(&ws, "src/lib/a.c", WS_FILE, "abc", 3, NULL, WS_PARENTS, NULL), 0);
	totals_are(&ws, 10, 4); /* main.c, src, src/lib, src/lib/a.c */
	assert_int_equal(workspace_create(&ws, "empty", WS_DIR, NULL, 0, NULL, 0, &st), 0);
	assert_int_equal(st.kind, WS_DIR);
	/* Binary content round-trips byte for byte and is flagged. */
	assert_int_equal(workspace_create(&ws, "img.png", WS_FILE, bin, sizeof(bin), "image/png", 0, &st), 0);
	assert_true(st.binary);
	assert_int_equal(workspace_read(&ws, "img.png", &sb, &st), 0);
	assert_int_equal(sb.len, sizeof(bin));
	assert_memory_equal(sb.buf, bin, sizeof(bin));
	assert_true(st.binary);
	assert_string_equal(st.ctype, "image/png");
	strbuf_reset(&sb);
	assert_int_equal(workspace_read(&ws, "main.c", &sb, &st), 0);
	assert_string_equal(sb.buf, "int x;\n");
	assert_int_equal(st.version, 1);
	assert_int_equal(st.size, 7);
	assert_string_equal(st.ctype, "text/x-c");
	assert_int_equal(workspace_read(&ws, "src", &sb, &st), COHORT_E_CONFLICT);
	assert_int_equal(workspace_read(&ws, "nope", &sb, &st), COHORT_E_NOTFOUND);
	assert_int_equal(workspace_stat(&ws, "src", &st), 0);
	assert_int_equal(st.kind, WS_DIR);
	/* Empty files exist (NULL data with length 0 is an empty file). */
	assert_int_equal(workspace_create(&ws, "empty.txt", WS_FILE, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(workspace_create(&ws, "nodata", WS_FILE, NULL, 3, NULL, 0, NULL), COHORT_E_FIELD);
	strbuf_reset(&sb);
	assert_int_equal(workspace_read(&ws, "empty.txt", &sb, &st), 0);
	assert_int_equal(sb.len, 0);
	/* Non-canonical paths never reach Redis. */
	assert_int_equal(workspace_create(&ws, "../x", WS_FILE, "", 0, NULL, 0, NULL), COHORT_E_FIELD);
	assert_int_equal(workspace_create(&ws, "a//b", WS_FILE, "", 0, NULL, 0, NULL), COHORT_E_FIELD);
	assert_int_equal(workspace_create(&ws, "", WS_DIR, NULL, 0, NULL, 0, NULL), COHORT_E_FIELD);
	assert_int_equal(workspace_create(&ws, "x", WS_FILE, "", 0, "bad\ntype", 0, NULL), COHORT_E_FIELD);
	totals_are(&ws, 10 + sizeof(bin), 7);
	/* A bounded buffer refuses a file too large for it. */
	{
		struct strbuf small;

		strbuf_init(&small, 3);
		assert_int_equal(workspace_read(&ws, "main.c", &small, &st), COHORT_E_LIMIT);
		strbuf_release(&small);
	}
	strbuf_release(&sb);
}

static void test_replace(void **state)
{
	struct workspace ws;
	struct ws_stat st;
	struct strbuf sb = STRBUF_INIT;
	long long v = 0;

	(void)state;
	new_ws(&ws, NULL);
	assert_int_equal(workspace_create(&ws, "f", WS_FILE, "one", 3, "text/plain", 0, NULL), 0);
	assert_int_equal(workspace_replace(&ws, "f", "two!", 4, NULL, 1, &v), 0);
	assert_int_equal(v, 2);
	/* Stale version: refused, nothing changes. */
	assert_int_equal(workspace_replace(&ws, "f", "three", 5, NULL, 1, &v), COHORT_E_PRECONDITION);
	assert_int_equal(workspace_read(&ws, "f", &sb, &st), 0);
	assert_string_equal(sb.buf, "two!");
	assert_int_equal(st.version, 2);
	assert_string_equal(st.ctype, "text/plain");
	totals_are(&ws, 4, 1);
	assert_int_equal(workspace_replace(&ws, "f", "\0\1", 2, "application/octet-stream", WS_ANY_VERSION, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(workspace_stat(&ws, "f", &st), 0);
	assert_true(st.binary);
	assert_string_equal(st.ctype, "application/octet-stream");
	totals_are(&ws, 2, 1);
	assert_int_equal(workspace_replace(&ws, "nope", "x", 1, NULL, WS_ANY_VERSION, &v), COHORT_E_NOTFOUND);
	assert_int_equal(workspace_create(&ws, "d", WS_DIR, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(workspace_replace(&ws, "d", "x", 1, NULL, WS_ANY_VERSION, &v), COHORT_E_CONFLICT);
	strbuf_release(&sb);
}

static void test_limits(void **state)
{
	struct ws_limits lim = { .max_file = 10, .max_project = 25, .max_entries = 5 };
	struct workspace ws;
	char big[11];
	long long v;

	(void)state;
	memset(big, 'x', sizeof(big));
	new_ws(&ws, &lim);
	assert_int_equal(workspace_create(&ws, "a", WS_FILE, big, 11, NULL, 0, NULL), COHORT_E_LIMIT);
	assert_string_equal(ws.reason, "the file is larger than the per-file limit");
	assert_int_equal(workspace_create(&ws, "a", WS_FILE, big, 10, NULL, 0, NULL), 0);
	assert_int_equal(workspace_create(&ws, "b", WS_FILE, big, 10, NULL, 0, NULL), 0);
	assert_int_equal(workspace_create(&ws, "c", WS_FILE, big, 6, NULL, 0, NULL), COHORT_E_LIMIT);
	assert_string_equal(ws.reason, "the project would exceed its size limit");
	assert_int_equal(workspace_create(&ws, "c", WS_FILE, big, 5, NULL, 0, NULL), 0);
	totals_are(&ws, 25, 3);
	/* Growing a file past the project limit is refused; shrinking always works. */
	assert_int_equal(workspace_replace(&ws, "c", big, 6, NULL, WS_ANY_VERSION, &v), COHORT_E_LIMIT);
	assert_int_equal(workspace_replace(&ws, "a", big, 1, NULL, WS_ANY_VERSION, &v), 0);
	totals_are(&ws, 16, 3);
	/* Entry count: parents created on the way count too, and all-or-nothing. */
	assert_int_equal(workspace_create(&ws, "d1/d2/f", WS_FILE, "", 0, NULL, WS_PARENTS, NULL), COHORT_E_LIMIT);
	assert_string_equal(ws.reason, "the project would exceed its file count limit");
	totals_are(&ws, 16, 3);
	{
		struct ws_stat st;

		assert_int_equal(workspace_stat(&ws, "d1", &st), COHORT_E_NOTFOUND);
	}
	assert_int_equal(workspace_create(&ws, "d1/f", WS_FILE, "", 0, NULL, WS_PARENTS, NULL), 0);
	totals_are(&ws, 16, 5);
	assert_int_equal(workspace_create(&ws, "g", WS_DIR, NULL, 0, NULL, 0, NULL), COHORT_E_LIMIT);
	/* Deleting gives room back. */
	assert_int_equal(workspace_delete(&ws, "d1", NULL), 0);
	totals_are(&ws, 16, 3);
	assert_int_equal(workspace_create(&ws, "g", WS_DIR, NULL, 0, NULL, 0, NULL), 0);
}

static void expect_paths(struct workspace *ws, const char *dir, bool rec, const char *const *want,
			 size_t n)
{
	struct ws_list l;

	assert_int_equal(workspace_list(ws, dir, rec, &l), 0);
	if (l.n != n) {
		for (size_t i = 0; i < l.n; i++)
			print_message("  got %s\n", l.v[i].path);
		fail_msg("list '%s' rec=%d: %zu entries, want %zu", dir, rec, l.n, n);
	}
	for (size_t i = 0; i < n; i++)
		assert_string_equal(l.v[i].path, want[i]);
	ws_list_release(&l);
}

#define PATHS(...) (const char *const[]){ __VA_ARGS__ }, sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)

static void test_rename(void **state)
{
	struct workspace ws;
	struct ws_stat st;
	struct strbuf sb = STRBUF_INIT;
	char cur[64];
	size_t moved = 0;

	(void)state;
	new_ws(&ws, NULL);
	assert_int_equal(workspace_create(&ws, "src/a.c", WS_FILE, "A", 1, NULL, WS_PARENTS, NULL), 0);
	assert_int_equal(workspace_create(&ws, "src/sub/b.c", WS_FILE, "BB", 2, NULL, WS_PARENTS, NULL), 0);
	assert_int_equal(workspace_create(&ws, "src/empty", WS_DIR, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(workspace_create(&ws, "src2/c.c", WS_FILE, "CCC", 3, NULL, WS_PARENTS, NULL), 0);
	assert_int_equal(workspace_create(&ws, "src.txt", WS_FILE, "D", 1, NULL, 0, NULL), 0);
	assert_int_equal(workspace_replace(&ws, "src/sub/b.c", "bb", 2, NULL, 1, NULL), 0);
	assert_int_equal(workspace_cursor_set(&ws, "src/sub/b.c", 7, "3.4"), 0);
	totals_are(&ws, 7, 8);

	/* A directory moves with exactly its own subtree: src2/ and src.txt stay. */
	assert_int_equal(workspace_rename(&ws, "src", "lib", 0, &moved), 0);
	assert_int_equal(moved, 5);
	expect_paths(&ws, "", true,
		     PATHS("lib", "lib/a.c", "lib/empty", "lib/sub", "lib/sub/b.c", "src.txt", "src2", "src2/c.c"));
	/* Content, version and cursors follow the file. */
	assert_int_equal(workspace_read(&ws, "lib/sub/b.c", &sb, &st), 0);
	assert_string_equal(sb.buf, "bb");
	assert_int_equal(st.version, 2);
	assert_int_equal(workspace_cursor_get(&ws, "lib/sub/b.c", 7, cur, sizeof(cur)), 0);
	assert_string_equal(cur, "3.4");
	totals_are(&ws, 7, 8);

	/* Refusals change nothing. */
	assert_int_equal(workspace_rename(&ws, "lib", "src2", 0, NULL), COHORT_E_EXISTS);
	assert_int_equal(workspace_rename(&ws, "lib", "src2", WS_REPLACE, NULL), COHORT_E_CONFLICT);
	assert_int_equal(workspace_rename(&ws, "lib", "lib/sub/x", 0, NULL), COHORT_E_FIELD);
	assert_int_equal(workspace_rename(&ws, "lib", "lib", 0, NULL), COHORT_E_FIELD);
	assert_int_equal(workspace_rename(&ws, "nope", "x", 0, NULL), COHORT_E_NOTFOUND);
	assert_int_equal(workspace_rename(&ws, "lib/a.c", "no/dir/a.c", 0, NULL), COHORT_E_NOTFOUND);
	assert_int_equal(workspace_rename(&ws, "lib/a.c", "src.txt/a.c", 0, NULL), COHORT_E_CONFLICT);
	assert_int_equal(workspace_rename(&ws, "src.txt", "lib/a.c", 0, NULL), COHORT_E_EXISTS);
	assert_int_equal(workspace_rename(&ws, "src.txt", "lib", WS_REPLACE, NULL), COHORT_E_CONFLICT);
	totals_are(&ws, 7, 8);

	/* File over file with WS_REPLACE: the old target is gone, totals adjust. */
	assert_int_equal(workspace_rename(&ws, "src.txt", "lib/a.c", WS_REPLACE, &moved), 0);
	assert_int_equal(moved, 1);
	strbuf_reset(&sb);
	assert_int_equal(workspace_read(&ws, "lib/a.c", &sb, &st), 0);
	assert_string_equal(sb.buf, "D");
	totals_are(&ws, 6, 7);

	/* Move into another directory. */
	assert_int_equal(workspace_rename(&ws, "src2", "lib/sub/src2", 0, &moved), 0);
	assert_int_equal(moved, 2);
	expect_paths(&ws, "lib/sub", false, PATHS("lib/sub/b.c", "lib/sub/src2"));
	expect_paths(&ws, "", false, PATHS("lib"));
	strbuf_release(&sb);
}

static void test_delete_list(void **state)
{
	struct workspace ws;
	struct ws_list l;
	size_t removed = 0;
	char cur[8];

	(void)state;
	new_ws(&ws, NULL);
	assert_int_equal(workspace_create(&ws, "src/a", WS_FILE, "aa", 2, NULL, WS_PARENTS, NULL), 0);
	assert_int_equal(workspace_create(&ws, "src/d/b", WS_FILE, "bbb", 3, NULL, WS_PARENTS, NULL), 0);
	assert_int_equal(workspace_create(&ws, "src2/c", WS_FILE, "c", 1, NULL, WS_PARENTS, NULL), 0);
	assert_int_equal(workspace_create(&ws, "src-x", WS_FILE, "x", 1, NULL, 0, NULL), 0);
	expect_paths(&ws, "", false, PATHS("src", "src-x", "src2"));
	expect_paths(&ws, "src", false, PATHS("src/a", "src/d"));
	expect_paths(&ws, "src", true, PATHS("src/a", "src/d", "src/d/b"));
	assert_int_equal(workspace_list(&ws, "src/a", false, &l), COHORT_E_CONFLICT);
	assert_int_equal(workspace_list(&ws, "nope", false, &l), COHORT_E_NOTFOUND);
	assert_int_equal(workspace_list(&ws, "src/", false, &l), COHORT_E_FIELD);
	assert_int_equal(workspace_list(&ws, "src", true, &l), 0);
	assert_int_equal(l.v[2].st.size, 3);
	assert_int_equal(l.v[2].st.version, 1);
	assert_int_equal(l.v[1].st.kind, WS_DIR);
	ws_list_release(&l);
	ws_list_release(NULL);

	assert_int_equal(workspace_cursor_set(&ws, "src/d/b", 1, "1.1"), 0);
	assert_int_equal(workspace_cursor_get(&ws, "src/d/b", 2, cur, sizeof(cur)), COHORT_E_NOTFOUND);
	assert_int_equal(workspace_cursor_set(&ws, "src", 1, "1.1"), COHORT_E_CONFLICT);
	assert_int_equal(workspace_cursor_set(&ws, "src/a", 1, ""), COHORT_E_FIELD);

	/* A directory tree goes whole; "src2" and "src-x" stay. */
	assert_int_equal(workspace_delete(&ws, "src", &removed), 0);
	assert_int_equal(removed, 4);
	expect_paths(&ws, "", true, PATHS("src-x", "src2", "src2/c"));
	totals_are(&ws, 2, 3);
	assert_int_equal(workspace_delete(&ws, "src", &removed), COHORT_E_NOTFOUND);
	assert_int_equal(workspace_delete(&ws, "src-x", &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(workspace_delete(&ws, "src2", &removed), 0);
	totals_are(&ws, 0, 0);
	expect_paths(&ws, "", true, NULL, 0);
	/* No content or cursor key is left behind. */
	{
		char key[KV_KEY_MAX];
		const char *argv[2] = { "EXISTS", key };
		redisReply *r;

		for (long long fid = 1; fid <= 4; fid++) {
			assert_int_equal(kv_ws_content(key, sizeof(key), ws.project, fid), 0);
			assert_int_equal(rconn_cmd(rc, &r, 2, argv, NULL), 0);
			assert_int_equal(r->integer, 0);
			rconn_reply_free(r);
			assert_int_equal(kv_ws_cursors(key, sizeof(key), ws.project, fid), 0);
			assert_int_equal(rconn_cmd(rc, &r, 2, argv, NULL), 0);
			assert_int_equal(r->integer, 0);
			rconn_reply_free(r);
		}
	}
}

/* Scripts are reloaded after Redis forgets them. */
static void test_script_flush(void **state)
{
	struct workspace ws;
	const char *argv[2] = { "SCRIPT", "FLUSH" };
	redisReply *r;

	(void)state;
	new_ws(&ws, NULL);
	assert_int_equal(workspace_create(&ws, "a", WS_FILE, "1", 1, NULL, 0, NULL), 0);
	assert_int_equal(rconn_cmd(rc, &r, 2, argv, NULL), 0);
	rconn_reply_free(r);
	assert_int_equal(workspace_create(&ws, "b", WS_FILE, "1", 1, NULL, 0, NULL), 0);
	totals_are(&ws, 2, 2);
}

static const char png[] = { (char)0x89, 'P', 'N', 'G', 0, 1 };
static const struct ws_item tpl[] = {
	{ "README.md", WS_FILE, "# hi\n", 5 },
	{ "assets", WS_DIR, NULL, 0 },
	{ "assets/logo.png", WS_FILE, png, sizeof(png) },
	{ "empty", WS_DIR, NULL, 0 },
	{ "src", WS_DIR, NULL, 0 },
	{ "src/main.c", WS_FILE, "int main;\n", 10 },
};
#define NTPL (sizeof(tpl) / sizeof(tpl[0]))

static void test_import(void **state)
{
	struct ws_limits small = { .max_file = 8, .max_project = 100, .max_entries = 100 };
	struct workspace ws;
	struct ws_stat st;
	struct strbuf sb = STRBUF_INIT;
	size_t n = 99;
	const struct ws_item orphan[] = { { "x/y", WS_FILE, "1", 1 } };

	(void)state;
	/* Refusals write nothing and do not use up the one import. */
	new_ws(&ws, &small);
	assert_int_equal(workspace_import(&ws, tpl, NTPL, "lesson:1", &n), COHORT_E_LIMIT);
	assert_int_equal(n, 0);
	totals_are(&ws, 0, 0);
	workspace_init(&ws, rc, ws.project, NULL);
	assert_int_equal(workspace_import(&ws, orphan, 1, "lesson:1", &n), COHORT_E_NOTFOUND);
	assert_int_equal(workspace_create(&ws, "src", WS_DIR, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(workspace_import(&ws, tpl, NTPL, "lesson:1", &n), COHORT_E_EXISTS);
	assert_int_equal(workspace_delete(&ws, "src", NULL), 0);
	totals_are(&ws, 0, 0);
	assert_int_equal(workspace_import(&ws, tpl, NTPL, "", &n), COHORT_E_FIELD);

	assert_int_equal(workspace_import(&ws, tpl, NTPL, "lesson:1", &n), 0);
	assert_int_equal(n, NTPL);
	totals_are(&ws, 5 + sizeof(png) + 10, NTPL);
	assert_int_equal(workspace_read(&ws, "assets/logo.png", &sb, &st), 0);
	assert_int_equal(sb.len, sizeof(png));
	assert_memory_equal(sb.buf, png, sizeof(png));
	assert_true(st.binary);
	assert_int_equal(st.version, 1);
	assert_int_equal(workspace_stat(&ws, "empty", &st), 0);
	assert_int_equal(st.kind, WS_DIR);
	/* Exactly once: a second import (even of another template) does nothing. */
	assert_int_equal(workspace_delete(&ws, "README.md", NULL), 0);
	assert_int_equal(workspace_import(&ws, tpl, NTPL, "lesson:1", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(workspace_stat(&ws, "README.md", &st), COHORT_E_NOTFOUND);
	strbuf_release(&sb);
}

struct importer {
	long long project;
	size_t imported;
	int rc;
};

static void *import_one(void *arg)
{
	struct importer *im = arg;
	struct rconn *c = rconn_new(&cfg);
	struct workspace ws;

	workspace_init(&ws, c, im->project, NULL);
	im->rc = workspace_import(&ws, tpl, NTPL, "lesson:2", &im->imported);
	rconn_free(c);
	return NULL;
}

/* Concurrent first requests: exactly one import writes the tree. */
static void test_import_race(void **state)
{
	struct importer ims[4];
	pthread_t th[4];
	struct workspace ws;
	size_t winners = 0;

	(void)state;
	new_ws(&ws, NULL);
	for (int i = 0; i < 4; i++) {
		ims[i] = (struct importer){ ws.project, 0, -1 };
		assert_int_equal(pthread_create(&th[i], NULL, import_one, &ims[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(ims[i].rc, 0);
		winners += ims[i].imported == NTPL;
		assert_true(ims[i].imported == 0 || ims[i].imported == NTPL);
	}
	assert_int_equal(winners, 1);
	totals_are(&ws, 5 + sizeof(png) + 10, NTPL);
}

struct racer {
	long long project;
	int id;
	int created;
	int failed;
};

#define RACERS 4
#define RACE_FILES 40

static void *race(void *arg)
{
	struct racer *r = arg;
	struct ws_limits lim = { .max_file = 100, .max_project = 3000, .max_entries = 1000 };
	struct rconn *c = rconn_new(&cfg);
	struct workspace ws;
	char path[32], body[100];

	memset(body, 'a' + r->id, sizeof(body));
	workspace_init(&ws, c, r->project, &lim);
	for (int i = 0; i < RACE_FILES; i++) {
		int e;

		snprintf(path, sizeof(path), "d/t%d-%d", r->id, i);
		e = workspace_create(&ws, path, WS_FILE, body, 50, NULL, WS_PARENTS, NULL);
		if (e == 0)
			r->created++;
		else if (e != COHORT_E_LIMIT)
			r->failed++;
		/* Renames of the shared directory race with everyone's creates. */
		if (i % 10 == 9 && workspace_rename(&ws, "d", "e", 0, NULL) == 0)
			workspace_rename(&ws, "e", "d", 0, NULL);
	}
	rconn_free(c);
	return NULL;
}

static void test_race(void **state)
{
	struct racer rs[RACERS];
	pthread_t th[RACERS];
	struct workspace ws;
	struct ws_list l;
	int created = 0;
	uint64_t files = 0, bytes = 0;

	(void)state;
	new_ws(&ws, NULL);
	for (int i = 0; i < RACERS; i++) {
		rs[i] = (struct racer){ ws.project, i, 0, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, race, &rs[i]), 0);
	}
	for (int i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		created += rs[i].created;
	}
	/* 3000 bytes / 50 = 60 files fit; every create either fitted or got LIMIT
	 * (or NOTFOUND while "d" was briefly renamed). The totals match the tree. */
	assert_true(created <= 60);
	assert_int_equal(workspace_list(&ws, "", true, &l), 0);
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].st.kind == WS_FILE) {
			files++;
			bytes += l.v[i].st.size;
		}
	}
	assert_int_equal(files, (uint64_t)created);
	totals_are(&ws, bytes, l.n);
	ws_list_release(&l);
}

/* The tree generation: a listing carries one, listing "since" it answers
 * WS_UNCHANGED until a write (of any kind) changes the tree or a file's
 * metadata; failed writes and reads leave it alone. */
static void expect_unchanged(struct workspace *ws, const char *gen)
{
	struct ws_list l;

	assert_int_equal(workspace_list_since(ws, "", true, gen, &l), WS_UNCHANGED);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
}

/* Lists since gen, expects a full listing at a new generation; gen gets it. */
static void expect_changed(struct workspace *ws, char gen[WS_GEN_MAX], size_t n)
{
	struct ws_list l;

	assert_int_equal(workspace_list_since(ws, "", true, gen, &l), 0);
	assert_int_equal(l.n, n);
	assert_true(l.gen[0] != '\0');
	assert_string_not_equal(l.gen, gen);
	memcpy(gen, l.gen, WS_GEN_MAX);
	ws_list_release(&l);
}

static void test_list_generation(void **state)
{
	static const struct ws_item items[] = { { "t", WS_FILE, "t", 1 } };
	struct workspace ws, other;
	struct ws_list l;
	struct strbuf sb = STRBUF_INIT;
	char gen[WS_GEN_MAX] = "";
	long long v = 0;
	size_t n = 0;

	(void)state;
	new_ws(&ws, NULL);
	new_ws(&other, NULL);
	/* A workspace never written to has no generation: never "unchanged". */
	assert_int_equal(workspace_list_since(&ws, "", true, "", &l), 0);
	assert_string_equal(l.gen, "");
	ws_list_release(&l);

	assert_int_equal(workspace_import(&ws, items, 1, "tag", &n), 0);
	expect_changed(&ws, gen, 1);
	expect_unchanged(&ws, gen);
	assert_int_equal(workspace_create(&ws, "a", WS_FILE, "aa", 2, NULL, 0, NULL), 0);
	expect_changed(&ws, gen, 2);
	/* Reads, a failed create and another project's writes change nothing. */
	assert_int_equal(workspace_read(&ws, "a", &sb, &(struct ws_stat){ 0 }), 0);
	assert_int_equal(workspace_create(&ws, "a", WS_FILE, "x", 1, NULL, 0, NULL), COHORT_E_EXISTS);
	assert_int_equal(workspace_create(&other, "a", WS_FILE, "x", 1, NULL, 0, NULL), 0);
	expect_unchanged(&ws, gen);
	/* A new version of a file changes its size and version in the listing. */
	assert_int_equal(workspace_replace(&ws, "a", "aaa", 3, NULL, 1, &v), 0);
	expect_changed(&ws, gen, 2);
	assert_int_equal(workspace_replace(&ws, "a", "aaaa", 4, NULL, 1, &v), COHORT_E_PRECONDITION);
	expect_unchanged(&ws, gen);
	assert_int_equal(workspace_create(&ws, "d", WS_DIR, NULL, 0, NULL, 0, NULL), 0);
	expect_changed(&ws, gen, 3);
	assert_int_equal(workspace_rename(&ws, "a", "d/a", 0, NULL), 0);
	expect_changed(&ws, gen, 3);
	assert_int_equal(workspace_delete(&ws, "d", NULL), 0);
	expect_changed(&ws, gen, 1);
	/* A generation that is not the current one gets the full listing. */
	assert_int_equal(workspace_list_since(&ws, "", true, "1.2.3", &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.gen, gen);
	ws_list_release(&l);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_read),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_rename),
		cmocka_unit_test(test_delete_list),
		cmocka_unit_test(test_script_flush),
		cmocka_unit_test(test_race),
		cmocka_unit_test(test_import),
		cmocka_unit_test(test_import_race),
		cmocka_unit_test(test_list_generation),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
