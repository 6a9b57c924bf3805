/*
 * archive.h — safe import and export of file trees as archives (libarchive).
 *
 * The functions are prefixed arch_ because libarchive owns the archive_
 * namespace (struct archive, archive_read_*); this module never exposes a
 * libarchive type.
 *
 * Reading (arch_read): zip, tar, tar.gz, tar.xz (and the other compression
 * filters libarchive knows) from memory, format detected from the bytes.
 * The archive is refused WHOLE — *out stays empty — when any entry:
 *   - has a path that does not normalize (core/path.h, lenient: "./a/" is
 *     fine) or escapes the root ("../", absolute paths, backslashes, NUL,
 *     control characters, invalid UTF-8), or is a duplicate file;
 *   - is a symlink, a hard link, a device, a FIFO or a socket;
 *   - pushes the entry count (implicit parent directories included) over
 *     max_entries, one file over max_file bytes, all files over max_total
 *     bytes, or the bytes produced so far over max_ratio times the larger of
 *     the archive's size and ARCH_RATIO_FLOOR (zip bombs).
 * Sizes are counted on the bytes actually decompressed, while reading; the
 * sizes archive headers claim are never trusted.
 * Errors: COHORT_E_MEDIATYPE (not an archive of a supported kind),
 * COHORT_E_FIELD (corrupt archive or a refused entry), COHORT_E_LIMIT (a
 * limit), COHORT_E_NOMEM; err (when errlen > 0) gets one sentence that
 * names the offending entry.
 *
 * The result lists directories (empty ones included, and every parent of a
 * file even if the archive did not list it) and files, sorted by path in
 * byte order (so a parent always precedes its children). The caller owns it
 * and releases it with arch_list_release.
 *
 * Writing (struct arch_writer): stream entries into a zip or a tar.gz through
 * a write callback (a download, an object-store upload), one entry at a time,
 * without holding the archive in memory.
 *
 * libarchive work is blocking CPU work: never call these on an event loop.
 */
#ifndef COHORT_ARCHIVE_H
#define COHORT_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARCH_DEFAULT_MAX_ENTRIES 10000
#define ARCH_DEFAULT_MAX_FILE ((uint64_t)8 << 20)    /* 8 MiB */
#define ARCH_DEFAULT_MAX_TOTAL ((uint64_t)256 << 20) /* 256 MiB */
#define ARCH_DEFAULT_MAX_RATIO 100
/* Below this many bytes produced the ratio is not checked: a tiny archive of
 * a few repetitive text files legitimately compresses very well. */
#define ARCH_RATIO_FLOOR ((uint64_t)1 << 20)

struct arch_limits {
	size_t max_entries;
	uint64_t max_file;
	uint64_t max_total;
	unsigned max_ratio; /* 0: no ratio check (the size limits still apply) */
};

enum arch_kind { ARCH_FILE, ARCH_DIR };

struct arch_entry {
	char *path; /* canonical (core/path.h) */
	enum arch_kind kind;
	char *data; /* file content (NUL-terminated for convenience; len excludes it) */
	size_t len;
	bool binary; /* not valid UTF-8, or contains NUL */
};

struct arch_list {
	struct arch_entry *v;
	size_t n, alloc;
};

/* Fills lim with the ARCH_DEFAULT_* values. */
void arch_limits_default(struct arch_limits *lim);

/* lim NULL means the defaults. */
int arch_read(const void *buf, size_t len, const struct arch_limits *lim, struct arch_list *out,
	      char *err, size_t errlen);
void arch_list_release(struct arch_list *l);

enum arch_format { ARCH_ZIP, ARCH_TAR_GZ };

/* Receives successive pieces of the archive; a non-zero return aborts the
 * writer and is returned by the arch_writer call that was running. */
typedef int (*arch_write_fn)(void *ctx, const void *data, size_t len);

struct arch_writer;

int arch_writer_new(enum arch_format fmt, arch_write_fn fn, void *ctx, struct arch_writer **out);
/* path must be canonical; directories take no data. Entries get mode 0644
 * (files) or 0755 (directories) and the current time. */
int arch_writer_add(struct arch_writer *w, const char *path, enum arch_kind kind,
		    const void *data, size_t len);
/* Writes the archive's trailer. Must be called for a complete archive. */
int arch_writer_finish(struct arch_writer *w);
void arch_writer_free(struct arch_writer *w);

#endif
