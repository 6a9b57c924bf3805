/*
 * Unit tests for core/fetch: the scheme allow list (table-driven), file://
 * fetches (success, byte-exact, size cap, missing file), refusals before any
 * transfer (scheme not allowed, not a URL, blanks), and that a failure
 * leaves the output buffer as it was. No network: only file:// URLs.
 */
#include "core/err.h"
#include "core/fetch.h"
#include "core/strbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64], file[128], url[160];
static unsigned char content[5000];

static int setup(void **state)
{
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cohort-fetch-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (unsigned char)(i * 7 + (i >> 8)); /* NULs and high bytes included */
	snprintf(file, sizeof(file), "%s/t.bin", dir);
	snprintf(url, sizeof(url), "file://%s", file);
	f = fopen(file, "wb");
	if (!f || fwrite(content, 1, sizeof(content), f) != sizeof(content))
		return -1;
	return fclose(f);
}

static int teardown(void **state)
{
	(void)state;
	unlink(file);
	rmdir(dir);
	return 0;
}

static void test_scheme_allowed(void **state)
{
	static const struct {
		const char *url, *schemes;
		bool want;
	} rows[] = {
		{ "https://example.org/a.zip", "https", true },
		{ "HTTPS://example.org/a.zip", "https", true },
		{ "https://example.org/a.zip", "file, HTTPS", true },
		{ "http://example.org/a.zip", "https", false },
		{ "file:///tmp/a.zip", "https", false },
		{ "file:///tmp/a.zip", "file,https", true },
		{ "ftp://example.org/a.zip", "file,https", false },
		{ "httpsx://example.org/", "https", false },
		{ "/tmp/a.zip", "file,https", false },
		{ "", "https", false },
		{ "https://example.org/", "", false },
		{ "1http://x/", "http", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (fetch_scheme_allowed(rows[i].url, rows[i].schemes) != rows[i].want)
			fail_msg("row %zu: %s with [%s]", i, rows[i].url, rows[i].schemes);
}

static void test_file_ok(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct fetch_opts o = { "file,https", 5, sizeof(content) };
	char err[256];

	(void)state;
	strbuf_adds(&sb, "prefix");
	assert_int_equal(fetch_url(url, &o, &sb, err, sizeof(err)), 0);
	assert_int_equal(sb.len, 6 + sizeof(content));
	assert_memory_equal(sb.buf, "prefix", 6);
	assert_memory_equal(sb.buf + 6, content, sizeof(content));
	strbuf_release(&sb);
}

static void test_size_cap(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct fetch_opts o = { "file", 5, sizeof(content) - 1 };
	char err[256] = "";

	(void)state;
	strbuf_adds(&sb, "keep");
	assert_int_equal(fetch_url(url, &o, &sb, err, sizeof(err)), COHORT_E_LIMIT);
	assert_non_null(strstr(err, "larger than"));
	assert_int_equal(sb.len, 4);
	assert_string_equal(sb.buf, "keep");
	/* The strbuf's own bound counts too. */
	strbuf_release(&sb);
	strbuf_init(&sb, 100);
	o.max_bytes = 1 << 20;
	assert_int_equal(fetch_url(url, &o, &sb, err, sizeof(err)), COHORT_E_LIMIT);
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb);
}

static void test_refused(void **state)
{
	static const struct {
		const char *url, *schemes;
		int err;
		const char *detail;
	} rows[] = {
		{ NULL, "https", COHORT_E_FIELD, "absolute URL" },
		{ "", "https", COHORT_E_FIELD, "absolute URL" },
		{ "/etc/passwd", "file,https", COHORT_E_FIELD, "absolute URL" },
		{ "file:///etc/passwd", "https", COHORT_E_FIELD, "not allowed" },
		{ "http://127.0.0.1:1/x.zip", "https", COHORT_E_FIELD, "not allowed" },
		{ "https://exa mple.org/", "https", COHORT_E_FIELD, "blanks" },
		{ "file:///nonexistent/cohort/x.zip", "file", COHORT_E_FETCH, "failed" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		struct fetch_opts o = { rows[i].schemes, 5, 1 << 20 };
		int rc = fetch_url(rows[i].url, &o, &sb, err, sizeof(err));

		if (rc != rows[i].err || !strstr(err, rows[i].detail))
			fail_msg("row %zu: %s -> %d '%s', want %d '%s'", i, rows[i].url ? rows[i].url : "(null)", rc,
				 err, rows[i].err, rows[i].detail);
		assert_int_equal(sb.len, 0);
		strbuf_release(&sb);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scheme_allowed),
		cmocka_unit_test(test_file_ok),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
