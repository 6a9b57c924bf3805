/*
 * archive.c — see archive.h.
 *
 * DESIGN: arch_read makes one pass over the archive and builds the result in
 * memory; any refusal frees everything built so far, so a caller can never
 * import half of a hostile archive. Limits are checked on every chunk that
 * libarchive decompresses (never on header sizes), so a zip bomb is stopped
 * after at most one chunk past the limit. Parent directories an archive does
 * not list are added afterwards, so the workspace invariant "every parent
 * exists" holds for the result.
 */
#include "core/archive.h"
#include "core/err.h"
#include "core/path.h"
#include "core/utf8.h"

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CHUNK 65536

/*
 * libarchive converts names between the archive's charset and the process
 * locale's, and services run in the C locale, where any non-ASCII name fails
 * to convert (and zip entries lose their UTF-8 flag). Archive work therefore
 * runs with the calling thread switched to C.UTF-8 (uselocale: per thread,
 * nothing else in the process notices), so names stay UTF-8 bytes end to end.
 */
static locale_t utf8_loc;

static void make_utf8_locale(void)
{
	utf8_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Switches the calling thread to C.UTF-8; returns the locale to restore
 * (0 when C.UTF-8 is unavailable: then names stay as the C locale has them). */
static locale_t enter_utf8(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, make_utf8_locale);
	return utf8_loc ? uselocale(utf8_loc) : (locale_t)0;
}

static void leave_utf8(locale_t prev)
{
	if (prev)
		uselocale(prev);
}

void arch_limits_default(struct arch_limits *lim)
{
	lim->max_entries = ARCH_DEFAULT_MAX_ENTRIES;
	lim->max_file = ARCH_DEFAULT_MAX_FILE;
	lim->max_total = ARCH_DEFAULT_MAX_TOTAL;
	lim->max_ratio = ARCH_DEFAULT_MAX_RATIO;
}

void arch_list_release(struct arch_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].data);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Appends an entry taking ownership of path and data (freed on failure). */
static int push(struct arch_list *l, char *path, enum arch_kind kind, char *data, size_t len)
{
	if (!path)
		goto nomem;
	if (l->n == l->alloc) {
		size_t na = l->alloc ? 2 * l->alloc : 32;
		struct arch_entry *nv = realloc(l->v, na * sizeof(*nv));

		if (!nv)
			goto nomem;
		l->v = nv;
		l->alloc = na;
	}
	l->v[l->n].path = path;
	l->v[l->n].kind = kind;
	l->v[l->n].data = data;
	l->v[l->n].len = len;
	l->v[l->n].binary = kind == ARCH_FILE && (memchr(data, '\0', len) || !utf8_valid(data, len));
	l->n++;
	return 0;
nomem:
	free(path);
	free(data);
	return COHORT_E_NOMEM;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct arch_entry *)a)->path, ((const struct arch_entry *)b)->path);
}

static struct arch_entry *find(struct arch_list *l, const char *p)
{
	struct arch_entry key = { .path = (char *)(uintptr_t)p };

	return l->n ? bsearch(&key, l->v, l->n, sizeof(*l->v), cmp_entry) : NULL;
}

/* Sorts, merges duplicate directories, refuses duplicate or conflicting
 * files, and adds missing parent directories. */
static int complete(struct arch_list *l, const struct arch_limits *lim, char *err, size_t errlen)
{
	size_t w = 0, n;
	int rc;

	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_entry);
	for (size_t i = 0; i < l->n; i++) {
		if (w && !strcmp(l->v[w - 1].path, l->v[i].path)) {
			if (l->v[i].kind == ARCH_DIR && l->v[w - 1].kind == ARCH_DIR) {
				free(l->v[i].path);
				continue;
			}
			return fail(COHORT_E_FIELD, err, errlen, "entry '%s' appears twice", l->v[i].path);
		}
		l->v[w++] = l->v[i];
	}
	l->n = w;
	n = l->n;
	for (size_t i = 0; i < n; i++) {
		char parent[PATH_BUF];

		snprintf(parent, sizeof(parent), "%s", l->v[i].path);
		for (char *s = strrchr(parent, '/'); s; s = strrchr(parent, '/')) {
			struct arch_entry *e;

			*s = '\0';
			/* Entries appended past n are not searched; look there linearly. */
			e = find(l, parent);
			if (!e)
				for (size_t j = n; j < l->n && !e; j++)
					if (!strcmp(l->v[j].path, parent))
						e = &l->v[j];
			if (e && e->kind == ARCH_FILE)
				return fail(COHORT_E_FIELD, err, errlen,
					    "entry '%s' is inside '%s', which is a file", l->v[i].path, parent);
			if (e)
				break;
			if (l->n + 1 > lim->max_entries)
				return fail(COHORT_E_LIMIT, err, errlen, "more than %zu entries",
					    lim->max_entries);
			if ((rc = push(l, strdup(parent), ARCH_DIR, NULL, 0)))
				return rc;
		}
	}
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_entry);
	return 0;
}

static int read_data(struct archive *a, const char *path, const struct arch_limits *lim,
		     uint64_t *total, uint64_t insize, char **data, size_t *len, char *err,
		     size_t errlen)
{
	size_t alloc = 0, n = 0;
	char *buf = NULL;
	char chunk[CHUNK];
	int rc = 0;

	for (;;) {
		la_ssize_t r = archive_read_data(a, chunk, sizeof(chunk));

		if (r == 0)
			break;
		if (r < 0) {
			rc = fail(COHORT_E_FIELD, err, errlen, "entry '%s' is corrupt: %s", path,
				  archive_error_string(a) ? archive_error_string(a) : "read error");
			goto out;
		}
		*total += (uint64_t)r;
		if (n + (uint64_t)r > lim->max_file) {
			rc = fail(COHORT_E_LIMIT, err, errlen, "entry '%s' is larger than %llu bytes", path,
				  (unsigned long long)lim->max_file);
			goto out;
		}
		if (*total > lim->max_total) {
			rc = fail(COHORT_E_LIMIT, err, errlen, "the archive expands to more than %llu bytes",
				  (unsigned long long)lim->max_total);
			goto out;
		}
		if (lim->max_ratio && *total > ARCH_RATIO_FLOOR && *total / lim->max_ratio >= insize) {
			rc = fail(COHORT_E_LIMIT, err, errlen,
				  "the archive expands more than %u times its size (at entry '%s')",
				  lim->max_ratio, path);
			goto out;
		}
		if (n + (size_t)r + 1 > alloc) {
			size_t na = alloc ? alloc : 4096;
			char *nb;

			while (na < n + (size_t)r + 1)
				na *= 2;
			nb = realloc(buf, na);
			if (!nb) {
				rc = COHORT_E_NOMEM;
				goto out;
			}
			buf = nb;
			alloc = na;
		}
		memcpy(buf + n, chunk, (size_t)r);
		n += (size_t)r;
	}
	if (!buf && !(buf = malloc(1))) {
		rc = COHORT_E_NOMEM;
		goto out;
	}
	buf[n] = '\0';
out:
	if (rc) {
		free(buf);
		buf = NULL;
		n = 0;
	}
	*data = buf;
	*len = n;
	return rc;
}

static const char *kind_name(mode_t t)
{
	switch (t) {
	case AE_IFLNK: return "a symbolic link";
	case AE_IFCHR: return "a character device";
	case AE_IFBLK: return "a block device";
	case AE_IFIFO: return "a FIFO";
	case AE_IFSOCK: return "a socket";
	default: return "of an unsupported type";
	}
}

static int read_all(const void *buf, size_t len, const struct arch_limits *limits,
		    struct arch_list *out, char *err, size_t errlen)
{
	struct arch_limits lim;
	struct archive *a = NULL;
	struct archive_entry *e;
	uint64_t total = 0;
	size_t count = 0;
	int rc = 0, r;

	memset(out, 0, sizeof(*out));
	if (errlen)
		err[0] = '\0';
	if (limits)
		lim = *limits;
	else
		arch_limits_default(&lim);
	a = archive_read_new();
	if (!a)
		return COHORT_E_NOMEM;
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_zip_seekable(a);
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
		rc = fail(COHORT_E_MEDIATYPE, err, errlen, "not a zip or tar archive");
		goto out;
	}
	/* ARCHIVE_WARN is fine: it comes, for one, with UTF-8 names that cannot
	 * be shown in the process's C locale, and the UTF-8 name is what we use. */
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname_utf8(e);
		char path[PATH_BUF];
		const char *why = NULL;
		mode_t type = archive_entry_filetype(e);
		char *data = NULL;
		size_t dlen = 0;

		if (!name)
			name = archive_entry_pathname(e);
		if (!name) {
			rc = fail(COHORT_E_FIELD, err, errlen, "an entry has no usable name");
			goto out;
		}
		if ((rc = path_normalize(name, strlen(name), path, sizeof(path),
					 PATH_LENIENT | PATH_ALLOW_ROOT, &why))) {
			rc = fail(rc, err, errlen, "entry '%.200s' refused: %s", name, why);
			goto out;
		}
		if (archive_entry_hardlink(e)) {
			rc = fail(COHORT_E_FIELD, err, errlen, "entry '%s' is a hard link", path);
			goto out;
		}
		if (type != AE_IFREG && type != AE_IFDIR) {
			rc = fail(COHORT_E_FIELD, err, errlen, "entry '%s' is %s", path, kind_name(type));
			goto out;
		}
		if (!path[0]) {
			if (type == AE_IFDIR)
				continue; /* "./": the root itself */
			rc = fail(COHORT_E_FIELD, err, errlen, "a file entry has an empty name");
			goto out;
		}
		if (++count > lim.max_entries) {
			rc = fail(COHORT_E_LIMIT, err, errlen, "more than %zu entries", lim.max_entries);
			goto out;
		}
		if (type == AE_IFREG &&
		    (rc = read_data(a, path, &lim, &total, len, &data, &dlen, err, errlen)))
			goto out;
		if ((rc = push(out, strdup(path), type == AE_IFDIR ? ARCH_DIR : ARCH_FILE, data, dlen)))
			goto out;
	}
	if (r != ARCHIVE_EOF) {
		rc = count == 0 && r == ARCHIVE_FATAL && out->n == 0
			     ? fail(COHORT_E_MEDIATYPE, err, errlen, "not a zip or tar archive: %s",
				    archive_error_string(a) ? archive_error_string(a) : "unreadable")
			     : fail(COHORT_E_FIELD, err, errlen, "corrupt archive: %s",
				    archive_error_string(a) ? archive_error_string(a) : "read error");
		goto out;
	}
	rc = complete(out, &lim, err, errlen);
out:
	archive_read_free(a);
	if (rc)
		arch_list_release(out);
	return rc;
}

int arch_read(const void *buf, size_t len, const struct arch_limits *limits, struct arch_list *out,
	      char *err, size_t errlen)
{
	locale_t prev = enter_utf8();
	int rc = read_all(buf, len, limits, out, err, errlen);

	leave_utf8(prev);
	return rc;
}

struct arch_writer {
	struct archive *a;
	arch_write_fn fn;
	void *ctx;
	int cb_err;
	bool finished;
};

static la_ssize_t write_cb(struct archive *a, void *client, const void *buf, size_t len)
{
	struct arch_writer *w = client;

	(void)a;
	if (w->cb_err)
		return -1;
	w->cb_err = w->fn(w->ctx, buf, len);
	return w->cb_err ? -1 : (la_ssize_t)len;
}

static int werr(struct arch_writer *w)
{
	return w->cb_err ? w->cb_err : COHORT_E_IO;
}

static int writer_new(enum arch_format fmt, arch_write_fn fn, void *ctx, struct arch_writer **out)
{
	struct arch_writer *w = calloc(1, sizeof(*w));
	int rc = COHORT_E_INTERNAL;

	*out = NULL;
	if (!w || !(w->a = archive_write_new())) {
		free(w);
		return COHORT_E_NOMEM;
	}
	w->fn = fn;
	w->ctx = ctx;
	if (fmt == ARCH_ZIP) {
		if (archive_write_set_format_zip(w->a) != ARCHIVE_OK)
			goto fail;
	} else {
		if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
		    archive_write_add_filter_gzip(w->a) != ARCHIVE_OK)
			goto fail;
	}
	/* Hand each block to the callback as it fills; no padding of the last one. */
	archive_write_set_bytes_in_last_block(w->a, 1);
	if (archive_write_open2(w->a, w, NULL, write_cb, NULL, NULL) != ARCHIVE_OK) {
		rc = werr(w);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	archive_write_free(w->a);
	free(w);
	return rc;
}

static int writer_add(struct arch_writer *w, const char *path, enum arch_kind kind,
		      const void *data, size_t len)
{
	struct archive_entry *e;
	char name[PATH_BUF + 1];
	int rc = 0;

	if (!path_is_canonical(path))
		return COHORT_E_FIELD;
	e = archive_entry_new();
	if (!e)
		return COHORT_E_NOMEM;
	/* Directories carry a trailing '/', which zip readers rely on. */
	snprintf(name, sizeof(name), "%s%s", path, kind == ARCH_DIR ? "/" : "");
	archive_entry_copy_pathname(e, name); /* UTF-8 in the C.UTF-8 locale */
	archive_entry_set_filetype(e, kind == ARCH_DIR ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, kind == ARCH_DIR ? 0755 : 0644);
	archive_entry_set_mtime(e, time(NULL), 0);
	archive_entry_set_size(e, kind == ARCH_DIR ? 0 : (la_int64_t)len);
	if (archive_write_header(w->a, e) < ARCHIVE_WARN) {
		rc = werr(w);
		goto out;
	}
	if (kind == ARCH_FILE && len) {
		const char *p = data;

		while (len) {
			la_ssize_t n = archive_write_data(w->a, p, len);

			if (n <= 0) {
				rc = werr(w);
				goto out;
			}
			p += n;
			len -= (size_t)n;
		}
	}
out:
	archive_entry_free(e);
	return rc;
}

int arch_writer_new(enum arch_format fmt, arch_write_fn fn, void *ctx, struct arch_writer **out)
{
	locale_t prev = enter_utf8();
	int rc = writer_new(fmt, fn, ctx, out);

	leave_utf8(prev);
	return rc;
}

int arch_writer_add(struct arch_writer *w, const char *path, enum arch_kind kind,
		    const void *data, size_t len)
{
	locale_t prev = enter_utf8();
	int rc = writer_add(w, path, kind, data, len);

	leave_utf8(prev);
	return rc;
}

int arch_writer_finish(struct arch_writer *w)
{
	locale_t prev = enter_utf8();
	int rc;

	w->finished = true;
	rc = archive_write_close(w->a) == ARCHIVE_OK ? 0 : werr(w);
	leave_utf8(prev);
	return rc;
}

void arch_writer_free(struct arch_writer *w)
{
	locale_t prev;

	if (!w)
		return;
	if (!w->finished)
		w->cb_err = w->cb_err ? w->cb_err : COHORT_E_IO; /* do not emit a trailer */
	prev = enter_utf8();
	archive_write_free(w->a);
	leave_utf8(prev);
	free(w);
}
