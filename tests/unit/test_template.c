/*
 * Unit tests for core/template without Redis: storing a template (summary,
 * object keys, the lesson's template_ref), refusals that store nothing
 * (hostile archive, over max_archive, missing lesson), replacement deleting
 * the old objects, removal, and the content types. The first-access import
 * needs Redis and is covered by tests/integ/t1310-templates.test.mjs.
 * Runs from the repository root (reads tests/data/archives).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "testdb.h"

#include "core/lesson.h"
#include "core/objects.h"
#include "core/strbuf.h"
#include "core/template.h"

struct fixture {
	struct testdb t;
	struct objects *o;
	char store[96];
	int64_t lesson;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char url[128];
	struct lesson l;
	int64_t uid, course;

	if (!f)
		return -1;
	testdb_open(&f->t);
	uid = testdb_user(f->t.db, "teacher", false);
	course = testdb_course(f->t.db, uid, "Course", NULL, NULL);
	assert_int_equal(lesson_create(f->t.db, course, "L", 1, NULL, 0, &l), 0);
	f->lesson = l.id;
	snprintf(f->store, sizeof(f->store), "%s/objects", f->t.dir);
	snprintf(url, sizeof(url), "file:%s", f->store);
	assert_int_equal(objects_open(url, &f->o), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	objects_free(f->o);
	testdb_close(&f->t);
	free(f);
	return 0;
}

static void slurp(const char *name, struct strbuf *sb)
{
	char path[256], chunk[4096];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "tests/data/archives/%s", name);
	fp = fopen(path, "rb");
	if (!fp)
		fail_msg("cannot open %s (run from the repository root)", path);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		assert_int_equal(strbuf_add(sb, chunk, n), 0);
	fclose(fp);
}

static int count_key(void *ctx, const char *key, uint64_t size)
{
	(void)key, (void)size;
	(*(int *)ctx)++;
	return 0;
}

static int nkeys(struct objects *o)
{
	int n = 0;

	assert_int_equal(objects_list(o, "templates/", count_key, &n), 0);
	return n;
}

static bool exists(struct objects *o, const char *key)
{
	bool e = false;

	assert_int_equal(objects_exists(o, key, &e), 0);
	return e;
}

static void limits(struct template_limits *lim)
{
	arch_limits_default(&lim->arch);
	lim->max_archive = 1 << 20;
}

static void test_store_and_read(void **state)
{
	struct fixture *f = *state;
	struct strbuf sb = STRBUF_INIT;
	struct template_limits lim;
	struct template_info t, back;
	unsigned char digest[32];
	char hex[65], meta[TEMPLATE_REF_MAX + 8], err[256];
	struct lesson l;

	limits(&lim);
	slurp("good.zip", &sb);
	assert_int_equal(template_store(f->t.db, f->o, f->lesson, sb.buf, sb.len, &lim, &t, err, sizeof(err)), 0);
	crypto_hash_sha256(digest, (const unsigned char *)sb.buf, sb.len);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	assert_string_equal(t.sha256, hex);
	assert_string_equal(t.format, "zip");
	assert_int_equal(t.size, sb.len);
	assert_int_equal(t.entries, 15);
	assert_int_equal(t.files, 8);
	assert_int_equal(t.bytes, 600);
	assert_int_equal(strncmp(t.ref, "templates/lesson-", 17), 0);
	{
		char want[64];

		/* templates/lesson-<id>-<16 hex of the sha256>-<8 random hex>.zip */
		snprintf(want, sizeof(want), "templates/lesson-%lld-%.16s-", (long long)f->lesson, hex);
		assert_int_equal(strncmp(t.ref, want, strlen(want)), 0);
		assert_int_equal(strlen(t.ref), strlen(want) + 8 + 4);
		assert_string_equal(t.ref + strlen(t.ref) - 4, ".zip");
	}
	assert_int_equal(lesson_get(f->t.db, f->lesson, &l), 0);
	assert_string_equal(l.template_ref, t.ref);
	snprintf(meta, sizeof(meta), "%s.json", t.ref);
	assert_true(exists(f->o, t.ref));
	assert_true(exists(f->o, meta));
	assert_int_equal(nkeys(f->o), 2);
	assert_int_equal(template_info_get(f->o, t.ref, &back), 0);
	assert_memory_equal(&back, &t, sizeof(t));
	assert_int_equal(template_info_get(f->o, "templates/none.zip", &back), COHORT_E_NOTFOUND);
	strbuf_release(&sb);
}

static void test_refusals_store_nothing(void **state)
{
	static const struct {
		const char *file;
		int err;
		const char *detail;
	} rows[] = {
		{ "tar-symlink.tar", COHORT_E_FIELD, "symbolic link" },
		{ "zip-dotdot.zip", COHORT_E_FIELD, ".." },
		{ "bomb.zip", COHORT_E_LIMIT, "times its size" },
		{ "not-an-archive.txt", COHORT_E_MEDIATYPE, "not a zip or tar" },
		{ "good.tar", COHORT_E_LIMIT, "larger than 10000 bytes" }, /* over max_archive below */
	};
	struct fixture *f = *state;
	struct template_limits lim;
	struct template_info t;
	struct lesson l;
	char err[256];

	limits(&lim);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		int rc;

		lim.max_archive = !strcmp(rows[i].file, "good.tar") ? 10000 : 1 << 20;
		slurp(rows[i].file, &sb);
		rc = template_store(f->t.db, f->o, f->lesson, sb.buf, sb.len, &lim, &t, err, sizeof(err));
		if (rc != rows[i].err || !strstr(err, rows[i].detail))
			fail_msg("%s: %d '%s', want %d '%s'", rows[i].file, rc, err, rows[i].err, rows[i].detail);
		assert_int_equal(nkeys(f->o), 0);
		assert_int_equal(lesson_get(f->t.db, f->lesson, &l), 0);
		assert_string_equal(l.template_ref, "");
		strbuf_release(&sb);
	}
}

static void test_missing_lesson(void **state)
{
	struct fixture *f = *state;
	struct strbuf sb = STRBUF_INIT;
	struct template_limits lim;
	struct template_info t;
	char err[256];

	limits(&lim);
	slurp("good.zip", &sb);
	assert_int_equal(template_store(f->t.db, f->o, f->lesson + 100, sb.buf, sb.len, &lim, &t, err, sizeof(err)),
			 COHORT_E_NOTFOUND);
	assert_int_equal(nkeys(f->o), 0);
	assert_int_equal(template_remove(f->t.db, f->o, f->lesson + 100), COHORT_E_NOTFOUND);
	strbuf_release(&sb);
}

static void test_replace_and_remove(void **state)
{
	struct fixture *f = *state;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct template_limits lim;
	struct template_info t1, t2, t3;
	struct lesson l;
	char err[256];

	limits(&lim);
	slurp("good.tar.xz", &a);
	slurp("good2.zip", &b);
	assert_int_equal(template_store(f->t.db, f->o, f->lesson, a.buf, a.len, &lim, &t1, err, sizeof(err)), 0);
	assert_string_equal(t1.format, "tar.xz");
	assert_int_equal(template_store(f->t.db, f->o, f->lesson, b.buf, b.len, &lim, &t2, err, sizeof(err)), 0);
	assert_false(exists(f->o, t1.ref));
	assert_true(exists(f->o, t2.ref));
	assert_int_equal(nkeys(f->o), 2);
	/* The same bytes again: a new key, the old one deleted. */
	assert_int_equal(template_store(f->t.db, f->o, f->lesson, b.buf, b.len, &lim, &t3, err, sizeof(err)), 0);
	assert_string_not_equal(t3.ref, t2.ref);
	assert_string_equal(t3.sha256, t2.sha256);
	assert_false(exists(f->o, t2.ref));
	assert_int_equal(nkeys(f->o), 2);
	assert_int_equal(template_remove(f->t.db, f->o, f->lesson), 0);
	assert_int_equal(nkeys(f->o), 0);
	assert_int_equal(lesson_get(f->t.db, f->lesson, &l), 0);
	assert_string_equal(l.template_ref, "");
	assert_int_equal(template_remove(f->t.db, f->o, f->lesson), COHORT_E_NOTFOUND);
	/* template_drop of what is already gone is quiet. */
	template_drop(f->o, t3.ref);
	strbuf_release(&a);
	strbuf_release(&b);
}

static void test_content_types(void **state)
{
	(void)state;
	assert_string_equal(template_content_type("zip"), "application/zip");
	assert_string_equal(template_content_type("tar"), "application/x-tar");
	assert_string_equal(template_content_type("tar.gz"), "application/gzip");
	assert_string_equal(template_content_type("tar.xz"), "application/x-xz");
	assert_string_equal(template_content_type("archive"), "application/octet-stream");
	assert_string_equal(template_content_type(NULL), "application/octet-stream");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_store_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_lesson, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_and_remove, setup, teardown),
		cmocka_unit_test(test_content_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
