/*
 * Unit tests for core/archive. Every archive is built here with libarchive's
 * writer (good ones in each format, hostile ones with escaping paths, links,
 * devices, too many or too large entries, a high-ratio entry) plus a
 * hand-patched zip whose headers lie about its size; then the writer is
 * checked by round trips.
 */
#include "core/archive.h"
#include "core/err.h"
#include "core/strbuf.h"

#include <archive.h>
#include <archive_entry.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum fmt { ZIP, TAR, TGZ, TXZ };

struct item {
	const char *name;
	unsigned type; /* AE_IF* */
	const char *data;
	size_t len;
	const char *link; /* symlink target or hard link source */
};

#define FILE_(n, d) { n, AE_IFREG, d, sizeof(d) - 1, NULL }
#define DIR_(n) { n, AE_IFDIR, NULL, 0, NULL }

/* Builds an archive in memory; *len gets its size. The caller frees it. */
static char *build(enum fmt f, const struct item *items, size_t n, size_t *len)
{
	size_t cap = 8 << 20, used = 0;
	char *buf = malloc(cap);
	struct archive *a = archive_write_new();

	assert_non_null(buf);
	if (f == ZIP) {
		assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	} else {
		assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
		if (f == TGZ)
			assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
		if (f == TXZ)
			assert_int_equal(archive_write_add_filter_xz(a), ARCHIVE_OK);
	}
	assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();

		archive_entry_copy_pathname(e, items[i].name);
		if (items[i].type == 0) { /* hard link */
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_copy_hardlink(e, items[i].link);
			archive_entry_set_size(e, 0);
		} else {
			archive_entry_set_filetype(e, items[i].type);
			archive_entry_set_size(e, items[i].type == AE_IFREG ? (la_int64_t)items[i].len : 0);
			if (items[i].type == AE_IFLNK)
				archive_entry_copy_symlink(e, items[i].link);
		}
		archive_entry_set_perm(e, 0644);
		assert_true(archive_write_header(a, e) >= ARCHIVE_WARN);
		if (items[i].type == AE_IFREG && items[i].len)
			assert_int_equal(archive_write_data(a, items[i].data, items[i].len),
					 (la_ssize_t)items[i].len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*len = used;
	return buf;
}

static const struct arch_entry *get(const struct arch_list *l, const char *p)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].path, p))
			return &l->v[i];
	return NULL;
}

/* An entry that must exist: the test stops here when it does not (abort()
 * is what tells the compiler the pointer is never NULL afterwards). */
static const struct arch_entry *must(const struct arch_list *l, const char *p)
{
	const struct arch_entry *e = get(l, p);

	if (!e) {
		fail_msg("entry %s missing", p);
		abort();
	}
	return e;
}

static const char binbytes[] = { 'B', 0, (char)0xff, (char)0x80, 'Z' };

static void check_good(enum fmt f)
{
	const struct item items[] = {
		DIR_("./"),
		DIR_("src/"),
		FILE_("src/main.c", "int main(void) { return 0; }\n"),
		DIR_("empty/"),
		{ "img.bin", AE_IFREG, binbytes, sizeof(binbytes), NULL },
		FILE_("deep/a/b.txt", "nested, parents not listed"),
		FILE_("./dot/x.txt", "x"),
		FILE_("caf\xc3\xa9.txt", "unicode name"),
		FILE_("zero", ""),
	};
	const char *want[] = { "caf\xc3\xa9.txt", "deep", "deep/a", "deep/a/b.txt", "dot", "dot/x.txt",
			       "empty", "img.bin", "src", "src/main.c", "zero" };
	struct arch_list l;
	char err[256];
	size_t len;
	char *buf = build(f, items, sizeof(items) / sizeof(items[0]), &len);
	const struct arch_entry *e;

	if (arch_read(buf, len, NULL, &l, err, sizeof(err)))
		fail_msg("format %d refused: %s", f, err);
	assert_int_equal(l.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < l.n; i++)
		assert_string_equal(l.v[i].path, want[i]);
	e = must(&l, "empty");
	assert_int_equal(e->kind, ARCH_DIR);
	e = must(&l, "deep/a");
	assert_int_equal(e->kind, ARCH_DIR);
	e = must(&l, "img.bin");
	assert_int_equal(e->kind, ARCH_FILE);
	assert_true(e->binary);
	assert_int_equal(e->len, sizeof(binbytes));
	assert_memory_equal(e->data, binbytes, sizeof(binbytes));
	e = must(&l, "src/main.c");
	assert_false(e->binary);
	assert_string_equal(e->data, "int main(void) { return 0; }\n");
	e = must(&l, "zero");
	assert_int_equal(e->len, 0);
	assert_int_equal(e->kind, ARCH_FILE);
	arch_list_release(&l);
	arch_list_release(&l); /* twice is harmless */
	free(buf);
}

static void test_good_zip(void **s) { (void)s; check_good(ZIP); }
static void test_good_tar(void **s) { (void)s; check_good(TAR); }
static void test_good_tgz(void **s) { (void)s; check_good(TGZ); }
static void test_good_txz(void **s) { (void)s; check_good(TXZ); }

struct hostile {
	const char *what;
	struct item items[3];
	size_t n;
	int err;
	bool zip_too; /* also build it as a zip */
};

static const struct hostile hostiles[] = {
	{ "dot-dot", { FILE_("ok.txt", "fine"), FILE_("../evil.txt", "x") }, 2, COHORT_E_FIELD, true },
	{ "dot-dot inside", { FILE_("a/../../evil", "x") }, 1, COHORT_E_FIELD, true },
	{ "absolute", { FILE_("/etc/passwd", "x") }, 1, COHORT_E_FIELD, true },
	{ "backslash", { FILE_("..\\..\\evil", "x") }, 1, COHORT_E_FIELD, true },
	{ "control char", { FILE_("a\x1b[2Jb", "x") }, 1, COHORT_E_FIELD, true },
	{ "invalid utf-8", { FILE_("bad\xff\xfe", "x") }, 1, COHORT_E_FIELD, false },
	{ "symlink", { FILE_("ok", "x"), { "link", AE_IFLNK, NULL, 0, "/etc/passwd" } }, 2, COHORT_E_FIELD, true },
	{ "relative symlink", { { "link", AE_IFLNK, NULL, 0, "ok" } }, 1, COHORT_E_FIELD, true },
	{ "hard link", { FILE_("ok", "x"), { "hl", 0, NULL, 0, "ok" } }, 2, COHORT_E_FIELD, false },
	{ "char device", { { "null", AE_IFCHR, NULL, 0, NULL } }, 1, COHORT_E_FIELD, false },
	{ "block device", { { "sda", AE_IFBLK, NULL, 0, NULL } }, 1, COHORT_E_FIELD, false },
	{ "fifo", { { "pipe", AE_IFIFO, NULL, 0, NULL } }, 1, COHORT_E_FIELD, false },
	{ "duplicate file", { FILE_("a", "1"), FILE_("a", "2") }, 2, COHORT_E_FIELD, true },
	{ "file then child", { FILE_("a", "1"), FILE_("a/b", "2") }, 2, COHORT_E_FIELD, true },
	{ "file and dir", { FILE_("a", "1"), DIR_("a/") }, 2, COHORT_E_FIELD, true },
};

static void test_hostile(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostiles) / sizeof(hostiles[0]); i++) {
		for (int z = 0; z < 2; z++) {
			const struct hostile *h = &hostiles[i];
			struct arch_list l = { (void *)1, 1, 1 };
			char err[256] = "";
			size_t len;
			char *buf;
			int rc;

			if (z && !h->zip_too)
				continue;
			buf = build(z ? ZIP : TGZ, h->items, h->n, &len);
			rc = arch_read(buf, len, NULL, &l, err, sizeof(err));
			if (rc != h->err)
				fail_msg("%s (%s): got %d want %d (%s)", h->what, z ? "zip" : "tgz", rc, h->err, err);
			assert_int_equal(l.n, 0);
			assert_null(l.v);
			assert_true(err[0] != '\0');
			free(buf);
		}
	}
}

static void test_limits(void **state)
{
	struct arch_limits lim;
	struct arch_list l;
	struct item many[6];
	char names[6][16], err[256];
	size_t len;
	char *buf;

	(void)state;
	for (int i = 0; i < 6; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d", i);
		many[i] = (struct item){ names[i], AE_IFREG, "0123456789", 10, NULL };
	}
	buf = build(TAR, many, 6, &len);
	arch_limits_default(&lim);
	lim.max_entries = 5;
	assert_int_equal(arch_read(buf, len, &lim, &l, err, sizeof(err)), COHORT_E_LIMIT);
	assert_int_equal(l.n, 0);
	lim.max_entries = 6;
	assert_int_equal(arch_read(buf, len, &lim, &l, err, sizeof(err)), 0);
	arch_list_release(&l);
	/* Implicit parents count as entries too. */
	{
		const struct item deep[] = { FILE_("a/b/c/d/e/f", "x") };
		size_t len2;
		char *b2 = build(TAR, deep, 1, &len2);

		assert_int_equal(arch_read(b2, len2, &lim, &l, err, sizeof(err)), 0);
		assert_int_equal(l.n, 6);
		arch_list_release(&l);
		lim.max_entries = 5;
		assert_int_equal(arch_read(b2, len2, &lim, &l, err, sizeof(err)), COHORT_E_LIMIT);
		assert_int_equal(l.n, 0);
		free(b2);
		lim.max_entries = 100;
	}
	/* Per file and total bytes. */
	lim.max_file = 9;
	assert_int_equal(arch_read(buf, len, &lim, &l, err, sizeof(err)), COHORT_E_LIMIT);
	lim.max_file = 10;
	lim.max_total = 59;
	assert_int_equal(arch_read(buf, len, &lim, &l, err, sizeof(err)), COHORT_E_LIMIT);
	assert_int_equal(l.n, 0);
	lim.max_total = 60;
	assert_int_equal(arch_read(buf, len, &lim, &l, err, sizeof(err)), 0);
	arch_list_release(&l);
	free(buf);
}

/* A 4 MiB run of zeros deflates to a few KiB: a ratio far beyond 100. */
static void test_ratio(void **state)
{
	struct arch_limits lim;
	struct arch_list l;
	char err[256];
	size_t n = 4 << 20, len;
	char *zeros = calloc(1, n);
	struct item it = { "zeros.bin", AE_IFREG, zeros, n, NULL };
	char *buf;

	(void)state;
	assert_non_null(zeros);
	arch_limits_default(&lim);
	lim.max_file = lim.max_total = 64 << 20; /* the size limits alone would allow it */
	for (int f = ZIP; f <= TXZ; f++) {
		if (f == TAR)
			continue; /* uncompressed: ratio 1 */
		buf = build((enum fmt)f, &it, 1, &len);
		assert_true(len * 100 < n);
		assert_int_equal(arch_read(buf, len, &lim, &l, err, sizeof(err)), COHORT_E_LIMIT);
		assert_non_null(strstr(err, "times its size"));
		assert_int_equal(l.n, 0);
		/* A generous ratio lets the same archive in. */
		lim.max_ratio = 100000;
		assert_int_equal(arch_read(buf, len, &lim, &l, err, sizeof(err)), 0);
		assert_int_equal(l.v[0].len, n);
		arch_list_release(&l);
		lim.max_ratio = ARCH_DEFAULT_MAX_RATIO;
		free(buf);
	}
	free(zeros);
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* A zip whose every header claims a 10-byte file that really inflates to 2 MiB:
 * refused on the bytes produced, whatever the headers say. */
static void test_lying_zip(void **state)
{
	struct arch_limits lim;
	struct arch_list l = { NULL, 0, 0 };
	char err[256];
	size_t n = 2 << 20, len, patched = 0;
	char *text = malloc(n);
	struct item it = { "bomb.txt", AE_IFREG, text, n, NULL };
	unsigned char *z;

	(void)state;
	memset(text, 'A', n);
	z = (unsigned char *)build(ZIP, &it, 1, &len);
	for (size_t i = 0; i + 46 <= len; i++) {
		uint32_t sig = rd32(z + i);

		if (sig == 0x04034b50 && rd32(z + i + 22) == n) { /* local header */
			wr32(z + i + 22, 10);
			patched++;
		} else if (sig == 0x02014b50 && rd32(z + i + 24) == n) { /* central directory */
			wr32(z + i + 24, 10);
			patched++;
		} else if (sig == 0x08074b50 && rd32(z + i + 12) == n) { /* data descriptor */
			wr32(z + i + 12, 10);
			patched++;
		}
	}
	assert_true(patched >= 1);
	arch_limits_default(&lim);
	lim.max_file = 1 << 20;
	lim.max_ratio = 100000;
	assert_int_not_equal(arch_read(z, len, &lim, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	/* With no size limit in the way, the lie is still not believed: either the
	 * whole content or a refusal, never 10 bytes passed off as the file. */
	lim.max_file = 64 << 20;
	if (arch_read(z, len, &lim, &l, err, sizeof(err)) == 0) {
		assert_int_equal(l.v[0].len, n);
		arch_list_release(&l);
	}
	free(z);
	free(text);
}

static void test_not_archive(void **state)
{
	struct arch_list l;
	char err[256];
	static const char junk[] = "this is plain text, not an archive at all\n";
	size_t len;
	const struct item items[] = { FILE_("a.txt", "hello hello hello") };
	char *buf;

	(void)state;
	assert_int_equal(arch_read(junk, sizeof(junk) - 1, NULL, &l, err, sizeof(err)), COHORT_E_MEDIATYPE);
	assert_int_equal(arch_read("", 0, NULL, &l, err, sizeof(err)), COHORT_E_MEDIATYPE);
	buf = build(TGZ, items, 1, &len);
	assert_int_not_equal(arch_read(buf, len / 2, NULL, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	free(buf);
	buf = build(ZIP, items, 1, &len);
	assert_int_not_equal(arch_read(buf, len - 10, NULL, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	free(buf);
}

static int to_sb(void *ctx, const void *data, size_t len)
{
	return strbuf_add(ctx, data, len);
}

static void roundtrip(enum arch_format fmt)
{
	struct strbuf sb = STRBUF_INIT;
	struct arch_writer *w;
	struct arch_list l;
	char err[256];

	assert_int_equal(arch_writer_new(fmt, to_sb, &sb, &w), 0);
	assert_int_equal(arch_writer_add(w, "src", ARCH_DIR, NULL, 0), 0);
	assert_int_equal(arch_writer_add(w, "src/main.c", ARCH_FILE, "int x;\n", 7), 0);
	assert_int_equal(arch_writer_add(w, "empty", ARCH_DIR, NULL, 0), 0);
	assert_int_equal(arch_writer_add(w, "img.bin", ARCH_FILE, binbytes, sizeof(binbytes)), 0);
	assert_int_equal(arch_writer_add(w, "caf\xc3\xa9.txt", ARCH_FILE, "u", 1), 0);
	assert_int_equal(arch_writer_add(w, "zero", ARCH_FILE, "", 0), 0);
	assert_int_equal(arch_writer_add(w, "../bad", ARCH_FILE, "", 0), COHORT_E_FIELD);
	assert_int_equal(arch_writer_finish(w), 0);
	arch_writer_free(w);
	if (fmt == ARCH_ZIP) {
		/* Non-ASCII names carry the zip UTF-8 flag (bit 11), so unzip tools
		 * do not read them as CP437. */
		const unsigned char *z = (const unsigned char *)sb.buf;
		bool seen = false;

		for (size_t i = 0; i + 46 + 9 <= sb.len; i++) {
			if (rd32(z + i) == 0x02014b50 && !memcmp(z + i + 46, "caf\xc3\xa9.txt", 9)) {
				assert_true(z[i + 9] & 0x08);
				seen = true;
			}
		}
		assert_true(seen);
	}
	if (arch_read(sb.buf, sb.len, NULL, &l, err, sizeof(err)))
		fail_msg("round trip %d: %s", fmt, err);
	assert_int_equal(l.n, 6);
	assert_string_equal(l.v[0].path, "caf\xc3\xa9.txt");
	assert_string_equal(l.v[1].path, "empty");
	assert_int_equal(l.v[1].kind, ARCH_DIR);
	assert_string_equal(l.v[2].path, "img.bin");
	assert_int_equal(l.v[2].len, sizeof(binbytes));
	assert_memory_equal(l.v[2].data, binbytes, sizeof(binbytes));
	assert_true(l.v[2].binary);
	assert_string_equal(l.v[4].path, "src/main.c");
	assert_string_equal(l.v[4].data, "int x;\n");
	assert_int_equal(l.v[5].len, 0);
	arch_list_release(&l);
	strbuf_release(&sb);
}

static void test_write_zip(void **s) { (void)s; roundtrip(ARCH_ZIP); }
static void test_write_tgz(void **s) { (void)s; roundtrip(ARCH_TAR_GZ); }

static int fail_after(void *ctx, const void *data, size_t len)
{
	size_t *left = ctx;

	(void)data;
	if (len > *left)
		return COHORT_E_IO;
	*left -= len;
	return 0;
}

/* A failing sink stops the writer with the sink's error. */
static void test_write_error(void **state)
{
	struct arch_writer *w;
	size_t left = 100;
	char big[200000];
	int rc;

	(void)state;
	memset(big, 'r', sizeof(big));
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + (i * 7919) % 26);
	assert_int_equal(arch_writer_new(ARCH_TAR_GZ, fail_after, &left, &w), 0);
	rc = arch_writer_add(w, "big", ARCH_FILE, big, sizeof(big));
	if (!rc)
		rc = arch_writer_finish(w);
	assert_int_equal(rc, COHORT_E_IO);
	arch_writer_free(w);
	/* Freed without finish: no crash, no leak. */
	left = 1 << 20;
	assert_int_equal(arch_writer_new(ARCH_ZIP, fail_after, &left, &w), 0);
	assert_int_equal(arch_writer_add(w, "a", ARCH_FILE, "x", 1), 0);
	arch_writer_free(w);
	arch_writer_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_zip),   cmocka_unit_test(test_good_tar),
		cmocka_unit_test(test_good_tgz),   cmocka_unit_test(test_good_txz),
		cmocka_unit_test(test_hostile),    cmocka_unit_test(test_limits),
		cmocka_unit_test(test_ratio),      cmocka_unit_test(test_lying_zip),
		cmocka_unit_test(test_not_archive), cmocka_unit_test(test_write_zip),
		cmocka_unit_test(test_write_tgz),  cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
