/*
 * objects_dir.c — the object store in a local directory ("file:<dir>").
 *
 * DESIGN: an object is a regular file at <dir>/<key>. put writes the bytes
 * to a temporary file in <dir>/.tmp (same file system, so rename(2) is
 * atomic), fsyncs it, renames it over the key and fsyncs the containing
 * directory, so after put returns the object survives a crash and a reader
 * never sees a half-written object. Keys are validated in objects.c (canonical
 * paths, never ".tmp..."), so <dir>/<key> cannot leave <dir>; files are also
 * opened with O_NOFOLLOW so a symlink planted as the last component is not
 * followed.
 */
#include "core/objects.h"
#include "core/err.h"
#include "core/path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FULL_MAX (PATH_MAX_BYTES * 2 + 64)

struct dirstore {
	char root[PATH_MAX_BYTES + 1];
};

static int mkdirs(char *p)
{
	/* mkdir -p: every '/' after the first character ends one level. */
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST) {
			int e = errno;

			*s = '/';
			return e == ENOTDIR ? COHORT_E_CONFLICT : COHORT_E_IO;
		}
		*s = '/';
	}
	if (mkdir(p, 0755) && errno != EEXIST)
		return errno == ENOTDIR ? COHORT_E_CONFLICT : COHORT_E_IO;
	return 0;
}

static int full(const struct dirstore *d, const char *key, char *buf)
{
	int n = snprintf(buf, FULL_MAX, "%s/%s", d->root, key);

	return n < 0 || n >= FULL_MAX ? COHORT_E_LIMIT : 0;
}

static int dir_open(struct objects *o, const char *rest)
{
	struct dirstore *d;
	char tmp[FULL_MAX];
	size_t n = strlen(rest);

	while (n > 1 && rest[n - 1] == '/')
		n--;
	if (n == 0 || n > PATH_MAX_BYTES)
		return COHORT_E_CONFIG;
	d = calloc(1, sizeof(*d));
	if (!d)
		return COHORT_E_NOMEM;
	memcpy(d->root, rest, n);
	d->root[n] = '\0';
	snprintf(tmp, sizeof(tmp), "%s/.tmp", d->root);
	if (mkdirs(tmp)) {
		free(d);
		return COHORT_E_CONFIG;
	}
	o->impl = d;
	return 0;
}

static void dir_close(struct objects *o)
{
	free(o->impl);
	o->impl = NULL;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return COHORT_E_IO;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fsync_dir(const char *p)
{
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return COHORT_E_IO;
	rc = fsync(fd) ? COHORT_E_IO : 0;
	close(fd);
	return rc;
}

static int dir_put(struct objects *o, const char *key, const void *data, size_t len)
{
	struct dirstore *d = o->impl;
	char dst[FULL_MAX], tmp[FULL_MAX], parent[FULL_MAX];
	char *slash;
	int fd = -1, rc;

	if ((rc = full(d, key, dst)))
		return rc;
	snprintf(parent, sizeof(parent), "%s", dst);
	slash = strrchr(parent, '/');
	*slash = '\0';
	if ((rc = mkdirs(parent)))
		return rc;
	snprintf(tmp, sizeof(tmp), "%s/.tmp/put-XXXXXX", d->root);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return COHORT_E_IO;
	if ((rc = write_all(fd, data, len)))
		goto out;
	if (fsync(fd) || fchmod(fd, 0644)) {
		rc = COHORT_E_IO;
		goto out;
	}
	if (close(fd)) {
		fd = -1;
		rc = COHORT_E_IO;
		goto out;
	}
	fd = -1;
	if (rename(tmp, dst)) {
		rc = errno == EISDIR || errno == ENOTDIR ? COHORT_E_CONFLICT : COHORT_E_IO;
		goto out;
	}
	tmp[0] = '\0';
	rc = fsync_dir(parent);
out:
	if (fd >= 0)
		close(fd);
	if (tmp[0])
		unlink(tmp);
	return rc;
}

static int dir_get(struct objects *o, const char *key, objects_sink_fn sink, void *ctx)
{
	char p[FULL_MAX], buf[65536];
	struct stat st;
	int fd, rc = 0;

	if ((rc = full(o->impl, key, p)))
		return rc;
	fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? COHORT_E_NOTFOUND
									     : COHORT_E_IO;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		rc = COHORT_E_NOTFOUND;
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = COHORT_E_IO;
			goto out;
		}
		if (r == 0)
			break;
		if ((rc = sink(ctx, buf, (size_t)r)))
			goto out;
	}
out:
	close(fd);
	return rc;
}

static int dir_del(struct objects *o, const char *key)
{
	char p[FULL_MAX];
	struct stat st;
	int rc;

	if ((rc = full(o->impl, key, p)))
		return rc;
	if (lstat(p, &st) || !S_ISREG(st.st_mode))
		return COHORT_E_NOTFOUND;
	if (unlink(p))
		return errno == ENOENT ? COHORT_E_NOTFOUND : COHORT_E_IO;
	return 0;
}

static int dir_exists(struct objects *o, const char *key, bool *exists)
{
	char p[FULL_MAX];
	struct stat st;
	int rc;

	if ((rc = full(o->impl, key, p)))
		return rc;
	*exists = lstat(p, &st) == 0 && S_ISREG(st.st_mode);
	return 0;
}

struct found {
	char *key;
	uint64_t size;
};

struct listing {
	struct found *v;
	size_t n, alloc;
	const char *prefix;
	size_t plen;
};

/* Could a key under directory rel (keys there start with "rel/") start with the prefix? */
static bool dir_may_match(const char *rel, size_t rlen, const struct listing *l)
{
	for (size_t i = 0; i < rlen + 1 && i < l->plen; i++)
		if ((i < rlen ? rel[i] : '/') != l->prefix[i])
			return false;
	return true;
}

/* root + "/" + rel (just root when rel is empty) into p[FULL_MAX]. */
static int join2(char *p, const char *root, const char *rel)
{
	int n = snprintf(p, FULL_MAX, "%s%s%s", root, *rel ? "/" : "", rel);

	return n < 0 || n >= FULL_MAX ? COHORT_E_LIMIT : 0;
}

static int walk(const char *root, char *rel, size_t rlen, struct listing *l, int depth)
{
	char p[FULL_MAX];
	DIR *dir;
	struct dirent *de;
	int rc = 0;

	if (depth > PATH_MAX_DEPTH)
		return 0;
	if (join2(p, root, rel))
		return 0;
	dir = opendir(p);
	if (!dir)
		return errno == ENOENT ? 0 : COHORT_E_IO;
	while ((de = readdir(dir))) {
		size_t nl = strlen(de->d_name), klen = rlen + (rlen ? 1 : 0) + nl;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (rlen == 0 && !strncmp(de->d_name, ".tmp", 4))
			continue;
		if (klen > PATH_MAX_BYTES)
			continue;
		if (rlen)
			rel[rlen] = '/';
		memcpy(rel + rlen + (rlen ? 1 : 0), de->d_name, nl + 1);
		if (join2(p, root, rel) || lstat(p, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (dir_may_match(rel, klen, l) && (rc = walk(root, rel, klen, l, depth + 1)))
				break;
		} else if (S_ISREG(st.st_mode) && !strncmp(rel, l->prefix, l->plen) &&
			   path_is_canonical(rel)) {
			if (l->n == l->alloc) {
				size_t na = l->alloc ? 2 * l->alloc : 16;
				struct found *nv = realloc(l->v, na * sizeof(*nv));

				if (!nv) {
					rc = COHORT_E_NOMEM;
					break;
				}
				l->v = nv;
				l->alloc = na;
			}
			l->v[l->n].key = strdup(rel);
			if (!l->v[l->n].key) {
				rc = COHORT_E_NOMEM;
				break;
			}
			l->v[l->n++].size = (uint64_t)st.st_size;
		}
		rel[rlen] = '\0';
	}
	rel[rlen] = '\0';
	closedir(dir);
	return rc;
}

static int cmp_found(const void *a, const void *b)
{
	return strcmp(((const struct found *)a)->key, ((const struct found *)b)->key);
}

static int dir_list(struct objects *o, const char *prefix, objects_list_fn fn, void *ctx)
{
	struct dirstore *d = o->impl;
	struct listing l = { NULL, 0, 0, prefix, strlen(prefix) };
	char rel[PATH_MAX_BYTES + 2] = "";
	int rc = walk(d->root, rel, 0, &l, 0);

	if (!rc) {
		if (l.n)
			qsort(l.v, l.n, sizeof(*l.v), cmp_found);
		for (size_t i = 0; i < l.n && !rc; i++)
			rc = fn(ctx, l.v[i].key, l.v[i].size);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].key);
	free(l.v);
	return rc;
}

const struct objects_ops objects_dir_ops = {
	.scheme = "file",
	.open = dir_open,
	.close = dir_close,
	.put = dir_put,
	.get = dir_get,
	.del = dir_del,
	.exists = dir_exists,
	.list = dir_list,
};
