/*
 * objects.h — the object store: templates and backups, as whole blobs under
 * string keys. One interface, several backends chosen by URL:
 *   file:<dir>   a local directory (objects_dir.c), the default "file:var/objects"
 *   s3://...     an S3-compatible service (objects_s3.c, not built yet)
 *
 * Keys are canonical paths (core/path.h, strict): "templates/lesson-7.zip".
 * A key that is not canonical is refused with COHORT_E_FIELD before any
 * backend sees it, so no key can climb out of the store. Keys whose first
 * segment starts with ".tmp" are reserved for the backends' temporary files.
 *
 * Semantics every backend keeps:
 *   - put replaces the whole object atomically: a reader sees the old object
 *     or the new one, never a mix, and a crash leaves no partial object;
 *   - get streams the object to a callback (any error the callback returns
 *     stops the read and is returned as is);
 *   - delete of a missing key is COHORT_E_NOTFOUND;
 *   - list calls back once per key starting with a byte prefix (S3 style: the
 *     prefix "a/b" matches "a/b.txt" and "a/b/c"), in byte order.
 * A struct objects is not thread-safe; open one per thread.
 */
#ifndef COHORT_OBJECTS_H
#define COHORT_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;
struct objects;

#define OBJECTS_DEFAULT_URL "file:var/objects"

/* Called with successive pieces of an object; return 0 to go on. */
typedef int (*objects_sink_fn)(void *ctx, const void *data, size_t len);
/* Called once per listed key with the object's size; return 0 to go on. */
typedef int (*objects_list_fn)(void *ctx, const char *key, uint64_t size);

/* The operations a backend provides. Keys reach them already validated. */
struct objects_ops {
	const char *scheme; /* "file" */
	int (*open)(struct objects *o, const char *rest);
	void (*close)(struct objects *o);
	int (*put)(struct objects *o, const char *key, const void *data, size_t len);
	int (*get)(struct objects *o, const char *key, objects_sink_fn sink, void *ctx);
	int (*del)(struct objects *o, const char *key);
	int (*exists)(struct objects *o, const char *key, bool *exists);
	int (*list)(struct objects *o, const char *prefix, objects_list_fn fn, void *ctx);
};

struct objects {
	const struct objects_ops *ops;
	void *impl; /* backend state */
};

extern const struct objects_ops objects_dir_ops;

/* Opens the store named by url. COHORT_E_CONFIG for an unknown scheme or an
 * unusable location. The caller frees *out with objects_free. */
int objects_open(const char *url, struct objects **out);
void objects_free(struct objects *o);

int objects_put(struct objects *o, const char *key, const void *data, size_t len);
int objects_get(struct objects *o, const char *key, objects_sink_fn sink, void *ctx);
/* Appends the object to sb; COHORT_E_LIMIT when it exceeds sb's bound (sb is
 * then reset, never left holding a truncated object). */
int objects_get_buf(struct objects *o, const char *key, struct strbuf *sb);
int objects_delete(struct objects *o, const char *key);
int objects_exists(struct objects *o, const char *key, bool *exists);
/* prefix "" lists everything; a non-empty prefix must be valid UTF-8 without
 * control characters but need not be a whole path. */
int objects_list(struct objects *o, const char *prefix, objects_list_fn fn, void *ctx);

/* True when key is acceptable as an object key. */
bool objects_key_valid(const char *key);

#endif
