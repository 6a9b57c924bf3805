/*
 * collab.c — see collab.h.
 *
 * DESIGN. Optimistic concurrency: read the file's state and the updates
 * since the pushed version (one script), rebase and apply in C, then commit
 * with a script that checks the version is still the one rebased against.
 * Losing the race costs one more round (bounded by COLLAB_ATTEMPTS); the
 * alternative, a lock in Redis, would hold every other process up while one
 * rebases. Within a process, the cache entry's mutex serialises pushes to
 * one file, so processes race only with each other.
 */
#include "core/collab.h"
#include "core/changeset.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/kv.h"
#include "core/rconn.h"
#include "core/strbuf.h"
#include "core/workspace.h"

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLLAB_ATTEMPTS 32
#define CACHE_BUCKETS 1024

/* ---- the document cache ------------------------------------------------ */

struct centry {
	char ns[KV_KEY_MAX]; /* the workspace's content key prefix: names the project or room */
	long long fid;
	long long version; /* -1: nothing cached */
	struct strbuf text;
	int64_t len16;
	long long sum_version;
	char sum[COLLAB_SUM_HEX];
	size_t acct; /* bytes counted in cache.bytes */
	int refs;
	pthread_mutex_t mu;
	struct centry *hnext, *lprev, *lnext;
};

static struct {
	pthread_mutex_t lock;
	struct centry *bucket[CACHE_BUCKETS];
	struct centry *head, *tail; /* most recently used first */
	size_t bytes, limit;
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER, .limit = COLLAB_CACHE_DEFAULT };

static size_t bucket_of(const char *ns, long long fid)
{
	unsigned long long h = 1469598103934665603ULL; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)ns; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = h * 0x9E3779B97F4A7C15ULL ^ (unsigned long long)fid;
	return (size_t)(h % CACHE_BUCKETS);
}

static void lru_unlink(struct centry *e)
{
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else
		cache.head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else
		cache.tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void lru_front(struct centry *e)
{
	e->lnext = cache.head;
	e->lprev = NULL;
	if (cache.head)
		cache.head->lprev = e;
	cache.head = e;
	if (!cache.tail)
		cache.tail = e;
}

static void entry_free(struct centry *e)
{
	strbuf_release(&e->text);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

/* Removes e from the table (cache.lock held, e unused). */
static void evict(struct centry *e)
{
	struct centry **pp = &cache.bucket[bucket_of(e->ns, e->fid)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(e);
	cache.bytes -= e->acct;
	entry_free(e);
}

static void shrink(void)
{
	struct centry *e = cache.tail;

	while (cache.bytes > cache.limit && e) {
		struct centry *prev = e->lprev;

		if (!e->refs)
			evict(e);
		e = prev;
	}
}

void collab_cache_limit(size_t bytes)
{
	pthread_mutex_lock(&cache.lock);
	cache.limit = bytes;
	shrink();
	pthread_mutex_unlock(&cache.lock);
}

void collab_cache_clear(void)
{
	pthread_mutex_lock(&cache.lock);
	for (struct centry *e = cache.tail, *prev; e; e = prev) {
		prev = e->lprev;
		if (!e->refs)
			evict(e);
	}
	pthread_mutex_unlock(&cache.lock);
}

/* The entry for the file fid of the workspace whose content keys start with
 * ns (a project's or a room's), created empty if need be, locked. */
static struct centry *acquire(const char *ns, long long fid)
{
	struct centry *e;
	size_t b = bucket_of(ns, fid);

	if (strlen(ns) >= sizeof(e->ns))
		return NULL;
	pthread_mutex_lock(&cache.lock);
	for (e = cache.bucket[b]; e; e = e->hnext)
		if (e->fid == fid && !strcmp(e->ns, ns))
			break;
	if (!e && (e = calloc(1, sizeof(*e)))) {
		memcpy(e->ns, ns, strlen(ns) + 1);
		e->fid = fid;
		e->version = -1;
		e->sum_version = -1;
		strbuf_init(&e->text, STRBUF_DEFAULT_MAX);
		pthread_mutex_init(&e->mu, NULL);
		e->hnext = cache.bucket[b];
		cache.bucket[b] = e;
	} else if (e) {
		lru_unlink(e);
	}
	if (e) {
		lru_front(e);
		e->refs++;
	}
	pthread_mutex_unlock(&cache.lock);
	if (e)
		pthread_mutex_lock(&e->mu);
	return e;
}

static void release(struct centry *e)
{
	size_t now;

	if (!e)
		return;
	now = e->version >= 0 ? e->text.alloc : 0;
	if (e->version < 0)
		strbuf_release(&e->text);
	pthread_mutex_unlock(&e->mu);
	pthread_mutex_lock(&cache.lock);
	e->refs--;
	cache.bytes = cache.bytes - e->acct + now;
	e->acct = now;
	shrink();
	pthread_mutex_unlock(&cache.lock);
}

/* ---- bringing a cached text to the current version ---------------------- */

/* Splits a log entry "<client> <changes>". */
static int entry_split(const char *s, size_t len, const char **client, size_t *clen,
		       const char **changes, size_t *chlen)
{
	const char *sp = memchr(s, ' ', len);

	if (!sp)
		return COHORT_E_INTERNAL;
	*client = s;
	*clen = (size_t)(sp - s);
	*changes = sp + 1;
	*chlen = len - *clen - 1;
	return 0;
}

static int entry_changes(const struct ws_doc *d, size_t i, struct changeset **cs)
{
	const char *c, *ch;
	size_t cl, chl;
	int rc = entry_split(d->entry[i], d->entry_len[i], &c, &cl, &ch, &chl);

	if (!rc && cs_parse(ch, chl, cs, NULL, 0))
		rc = COHORT_E_INTERNAL; /* the log holds only what was accepted */
	return rc;
}

/* Applies cs to e's text. */
static int entry_apply(struct centry *e, const struct changeset *cs, char *err, size_t errlen)
{
	struct strbuf next = STRBUF_INIT;
	int rc;

	if ((uint64_t)e->len16 == e->text.len) {
		/* All ASCII: edited in place (replaying the log costs the moves). */
		if ((rc = cs_apply_ascii_inplace(cs, &e->text)))
			return rc;
		e->len16 = cs_new_len(cs);
		return 0;
	}
	strbuf_init(&next, STRBUF_DEFAULT_MAX);
	rc = cs_apply(cs, e->text.buf ? e->text.buf : "", e->text.len, &next, err, errlen);
	if (rc) {
		strbuf_release(&next);
		return rc;
	}
	strbuf_release(&e->text);
	e->text = next;
	e->len16 = cs_new_len(cs);
	return 0;
}

/* Applies the entries of d that e has not seen (e->version >= d->first - 1). */
static int bring(struct centry *e, const struct ws_doc *d)
{
	for (size_t i = 0; i < d->n; i++) {
		long long v = d->first + (long long)i;
		struct changeset *cs = NULL;
		int rc;

		if (v <= e->version)
			continue;
		if ((rc = entry_changes(d, i, &cs)) || (rc = entry_apply(e, cs, NULL, 0))) {
			cs_free(cs);
			e->version = -1;
			return rc == COHORT_E_RANGE ? COHORT_E_INTERNAL : rc;
		}
		cs_free(cs);
		e->version = v;
	}
	return e->version == d->version ? 0 : COHORT_E_INTERNAL;
}

/*
 * Reads the file's state with the entries after `from` (from < 0: none) and
 * leaves *e locked at the current version. *d is the last read.
 */
static int load(struct workspace *ws, const char *path, long long from, struct centry **ep,
		struct ws_doc *d)
{
	struct centry *e;
	bool snap;
	int rc;

	*ep = NULL;
	if ((rc = workspace_doc_sync(ws, path, from, false, false, d)))
		return rc;
	if (!(e = acquire(ws->k_content, d->fid)))
		return COHORT_E_NOMEM;
	*ep = e;
	if (e->version > d->version) {
		/* d was read before the entry's lock was taken, and another push of
		 * this process has committed since: read again, under the lock,
		 * rather than take it for a cache from the future and reload the
		 * whole snapshot (and replay the log over it) for every push that
		 * queued behind another. */
		ws_doc_release(d);
		if ((rc = workspace_doc_sync(ws, path, from, false, false, d)))
			return rc;
		if (d->fid != e->fid)
			return COHORT_E_CONFLICT;
	}
	if (e->version >= 0 && e->version <= d->version && e->version >= d->first - 1)
		return bring(e, d);
	snap = e->version < 0 || e->version > d->version;
	ws_doc_release(d);
	rc = workspace_doc_sync(ws, path, snap ? from : (from >= 0 && from < e->version ? from : e->version),
				snap, false, d);
	if (rc == COHORT_E_GONE && !snap) {
		snap = true;
		rc = workspace_doc_sync(ws, path, from, true, false, d);
	}
	if (rc)
		return rc;
	if (d->fid != e->fid)
		return COHORT_E_CONFLICT; /* the path now names another file: try again */
	if (snap) {
		strbuf_reset(&e->text);
		if ((rc = strbuf_add(&e->text, d->snapshot ? d->snapshot : "", d->snapshot_len))) {
			e->version = -1;
			return rc;
		}
		e->version = d->base;
		e->len16 = cs_utf16_len(e->text.buf ? e->text.buf : "", e->text.len);
	}
	return bring(e, d);
}

/* ---- push ------------------------------------------------------------- */

bool collab_client_ok(const char *s, size_t len)
{
	if (len == 0 || len > COLLAB_CLIENT_MAX || (len == strlen(WS_REST_CLIENT) && !memcmp(s, WS_REST_CLIENT, len)))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

struct pending {
	char client[COLLAB_CLIENT_MAX + 1];
	struct changeset *cs;
};

static void pending_free(struct pending *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++)
		cs_free(p[i].cs);
	free(p);
}

static void say(char *err, size_t errlen, const char *msg)
{
	size_t n = strlen(msg);

	if (!errlen)
		return;
	if (n >= errlen)
		n = errlen - 1;
	memcpy(err, msg, n);
	err[n] = '\0';
}

static int parse_updates(struct json_object *arr, struct pending **out, size_t *n, char *err,
			 size_t errlen)
{
	size_t len;
	struct pending *p;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!arr || !json_object_is_type(arr, json_type_array)) {
		say(err, errlen, "updates must be an array");
		return COHORT_E_FIELD;
	}
	len = json_object_array_length(arr);
	if (len == 0 || len > COLLAB_MAX_UPDATES) {
		say(err, errlen, "updates must hold 1 to 1000 updates");
		return len ? COHORT_E_LIMIT : COHORT_E_FIELD;
	}
	if (!(p = calloc(len, sizeof(*p))))
		return COHORT_E_NOMEM;
	for (size_t i = 0; i < len; i++) {
		struct json_object *u = json_object_array_get_idx(arr, i), *ch = NULL;
		const char *client;
		size_t cl;

		if (!json_object_is_type(u, json_type_object)) {
			say(err, errlen, "each update must be an object");
			rc = COHORT_E_FIELD;
			break;
		}
		if ((rc = json_get_str(u, "clientID", true, COLLAB_CLIENT_MAX, &client, &cl)) ||
		    !collab_client_ok(client, cl)) {
			say(err, errlen, "clientID must be 1 to 64 characters of [A-Za-z0-9_-] (not \"rest\")");
			rc = COHORT_E_FIELD;
			break;
		}
		memcpy(p[i].client, client, cl);
		p[i].client[cl] = '\0';
		if (!json_object_object_get_ex(u, "changes", &ch)) {
			say(err, errlen, "an update has no changes");
			rc = COHORT_E_FIELD;
			break;
		}
		if ((rc = cs_from_json(ch, &p[i].cs, err, errlen)))
			break;
		if (i && cs_len(p[i].cs) != cs_new_len(p[i - 1].cs)) {
			say(err, errlen, "each update must apply to the result of the one before it");
			rc = COHORT_E_RANGE;
			break;
		}
	}
	if (rc) {
		pending_free(p, len);
		return rc;
	}
	*out = p;
	*n = len;
	return 0;
}

int collab_updates_check(struct json_object *updates, size_t *n, char *err, size_t errlen)
{
	struct pending *p;
	int rc = parse_updates(updates, &p, n, err, errlen);

	if (!rc)
		pending_free(p, *n);
	return rc;
}

/* Rebases q[0..*nq) (based on version V = d->first - 1 + start) over the
 * entries of d from index start on, one at a time. */
static int rebase(const struct ws_doc *d, size_t start, struct pending *q, size_t *nq,
		  size_t *skipped)
{
	for (size_t i = start; i < d->n; i++) {
		const char *client, *ch;
		size_t cl, chl;
		struct changeset *a = NULL;
		int rc;

		if ((rc = entry_split(d->entry[i], d->entry_len[i], &client, &cl, &ch, &chl)))
			return rc;
		if (*nq && strlen(q[0].client) == cl && !memcmp(q[0].client, client, cl)) {
			/* Already accepted (a re-push): drop it, the rest follows it. */
			cs_free(q[0].cs);
			memmove(q, q + 1, (*nq - 1) * sizeof(*q));
			(*nq)--;
			(*skipped)++;
			continue;
		}
		if (!*nq)
			continue;
		if (cs_parse(ch, chl, &a, NULL, 0))
			return COHORT_E_INTERNAL;
		for (size_t j = 0; j < *nq; j++) {
			struct changeset *qm = NULL, *am = NULL;

			if ((rc = cs_map(q[j].cs, a, false, &qm)) || (rc = cs_map(a, q[j].cs, true, &am))) {
				cs_free(qm);
				cs_free(a);
				return rc;
			}
			cs_free(q[j].cs);
			q[j].cs = qm;
			cs_free(a);
			a = am;
		}
		cs_free(a);
	}
	return 0;
}

struct staged {
	struct strbuf entries, envs;
	size_t *eoff, *elen, *voff, *vlen;
	const char **ep, **vp;
};

static void staged_release(struct staged *s)
{
	strbuf_release(&s->entries);
	strbuf_release(&s->envs);
	free(s->eoff);
	free(s->elen);
	free(s->voff);
	free(s->vlen);
	free(s->ep);
	free(s->vp);
	memset(s, 0, sizeof(*s));
}

/* Builds the log entries and events of q as versions C + 1 ... */
static int stage(struct workspace *ws, const char *path, long long c, const struct pending *q,
		 size_t nq, struct staged *s)
{
	int rc = 0;

	memset(s, 0, sizeof(*s));
	strbuf_init(&s->entries, STRBUF_DEFAULT_MAX);
	strbuf_init(&s->envs, STRBUF_DEFAULT_MAX);
	s->eoff = calloc(nq, sizeof(size_t));
	s->elen = calloc(nq, sizeof(size_t));
	s->voff = calloc(nq, sizeof(size_t));
	s->vlen = calloc(nq, sizeof(size_t));
	s->ep = calloc(nq, sizeof(char *));
	s->vp = calloc(nq, sizeof(char *));
	if (!s->eoff || !s->elen || !s->voff || !s->vlen || !s->ep || !s->vp)
		return COHORT_E_NOMEM;
	for (size_t i = 0; i < nq && !rc; i++) {
		size_t start = s->entries.len, chstart;

		s->eoff[i] = start;
		if ((rc = strbuf_adds(&s->entries, q[i].client)) || (rc = strbuf_addch(&s->entries, ' ')))
			break;
		chstart = s->entries.len;
		if ((rc = cs_to_json(q[i].cs, &s->entries)))
			break;
		s->elen[i] = s->entries.len - start;
		s->voff[i] = s->envs.len;
		rc = workspace_update_envelope(ws, path, c + 1 + (long long)i, q[i].client,
					       s->entries.buf + chstart, s->entries.len - chstart, &s->envs);
		s->vlen[i] = s->envs.len - s->voff[i];
	}
	for (size_t i = 0; i < nq && !rc; i++) {
		s->ep[i] = s->entries.buf + s->eoff[i];
		s->vp[i] = s->envs.buf + s->voff[i];
	}
	return rc;
}

/* Applies q[0..nq) to e's text into *next (the first reads the cached text
 * itself); *len16 gets the result's UTF-16 length. */
static int apply_all(const struct centry *e, const struct pending *q, size_t nq, struct strbuf *next,
		     int64_t *len16, char *err, size_t errlen)
{
	int rc = 0;

	*len16 = e->len16;
	for (size_t i = 0; i < nq && !rc; i++) {
		struct strbuf tmp = STRBUF_INIT;
		const struct strbuf *from = i ? next : &e->text;
		/* As many bytes as UTF-16 units: all ASCII, positions are offsets. */
		bool ascii = *len16 >= 0 && (uint64_t)*len16 == from->len;

		strbuf_init(&tmp, STRBUF_DEFAULT_MAX);
		rc = (ascii ? cs_apply_ascii : cs_apply)(q[i].cs, from->buf ? from->buf : "", from->len, &tmp, err,
							errlen);
		strbuf_release(next);
		*next = tmp;
		*len16 = cs_new_len(q[i].cs);
	}
	return rc;
}

int collab_push(struct workspace *ws, const char *path, long long version,
		struct json_object *updates, struct collab_push_result *out, char *err, size_t errlen)
{
	struct pending *p = NULL, *q = NULL;
	size_t np = 0, nq = 0;
	struct centry *e = NULL;
	struct ws_doc d;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&d, 0, sizeof(d));
	if (errlen)
		err[0] = '\0';
	if (version < 0) {
		say(err, errlen, "version must be a non-negative integer");
		return COHORT_E_FIELD;
	}
	if ((rc = parse_updates(updates, &p, &np, err, errlen)))
		return rc;
	if (!(q = calloc(np, sizeof(*q)))) {
		rc = COHORT_E_NOMEM;
		goto out;
	}
	for (int attempt = 0; attempt < COLLAB_ATTEMPTS; attempt++) {
		struct strbuf next = STRBUF_INIT;
		struct staged st;
		int64_t len_v, len_new;
		size_t newlen;
		bool inplace;

		memset(&st, 0, sizeof(st));
		size_t start;

		pending_free(q, nq);
		q = NULL;
		nq = 0;
		if (e) {
			release(e);
			e = NULL;
		}
		ws_doc_release(&d);
		rc = load(ws, path, version, &e, &d);
		if (rc == COHORT_E_CONFLICT)
			continue;
		if (rc)
			goto out;
		if (version > d.version) {
			say(err, errlen, "version is newer than the file's version");
			rc = COHORT_E_RANGE;
			goto out;
		}
		/* d's entries start at or before version + 1. */
		start = (size_t)(version + 1 - d.first);
		if (version == d.version) {
			len_v = e->len16;
		} else {
			struct changeset *a = NULL;

			if ((rc = entry_changes(&d, start, &a)))
				goto out;
			len_v = cs_len(a);
			cs_free(a);
		}
		if (cs_len(p[0].cs) != len_v) {
			say(err, errlen, "the first update's length does not match the document at that version");
			rc = COHORT_E_RANGE;
			goto out;
		}
		if (!(q = calloc(np, sizeof(*q)))) {
			rc = COHORT_E_NOMEM;
			goto out;
		}
		for (size_t i = 0; i < np; i++) {
			q[i] = p[i];
			if (!(q[i].cs = cs_clone(p[i].cs))) {
				nq = i;
				rc = COHORT_E_NOMEM;
				goto out;
			}
		}
		nq = np;
		out->skipped = 0;
		if ((rc = rebase(&d, start, q, &nq, &out->skipped)))
			goto out;
		out->version = d.version;
		if (!nq) {
			rc = 0;
			goto out;
		}
		/* One update to an all-ASCII text (a keystroke, mostly) needs only
		 * the result's length to commit, and then edits the cached text in
		 * place: no copy of the document per push. Otherwise the result is
		 * built beside the cached text. Either way every position is
		 * checked before anything is committed. */
		inplace = nq == 1 && (uint64_t)e->len16 == e->text.len;
		if (inplace) {
			if ((rc = cs_ascii_result_len(q[0].cs, e->text.len, &newlen)))
				say(err, errlen, "the change set does not fit the document");
			len_new = cs_new_len(q[0].cs);
		} else {
			rc = apply_all(e, q, nq, &next, &len_new, err, errlen);
			newlen = next.len;
		}
		if (!rc && newlen > ws->limits.max_file) {
			say(err, errlen, "the file would be larger than the per-file limit");
			rc = COHORT_E_LIMIT;
		}
		if (!rc && (rc = stage(ws, path, d.version, q, nq, &st)) == 0)
			rc = workspace_doc_commit(ws, path, d.fid, d.version, newlen, len_new, nq, st.ep,
						  st.elen, st.vp, st.vlen);
		staged_release(&st);
		if (rc == COHORT_E_PRECONDITION) {
			strbuf_release(&next);
			continue; /* another process committed first: rebase again */
		}
		if (rc) {
			strbuf_release(&next);
			if (ws->reason && errlen && !err[0])
				say(err, errlen, ws->reason);
			goto out;
		}
		out->version = d.version + (long long)nq;
		out->accepted = nq;
		if (inplace && cs_apply_ascii_inplace(q[0].cs, &e->text)) {
			e->version = -1; /* committed: the cache reloads on the next read */
			goto out;
		}
		if (!inplace) {
			strbuf_release(&e->text);
			e->text = next;
		}
		e->len16 = len_new;
		e->version = out->version;
		if (e->version - d.base >= COLLAB_FOLD_EVERY &&
		    workspace_doc_fold(ws, path, d.fid, e->version, e->text.buf ? e->text.buf : "", e->text.len))
			rc = 0; /* a failed fold only costs replaying more on the next read */
		goto out;
	}
	say(err, errlen, "too many concurrent edits to this file; try again");
	rc = COHORT_E_CONFLICT;
out:
	release(e);
	ws_doc_release(&d);
	pending_free(p, np);
	pending_free(q, nq);
	return rc;
}

/* ---- reading ------------------------------------------------------------ */

static void sum_of(struct centry *e)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	if (e->sum_version == e->version)
		return;
	crypto_hash_sha256(h, (const unsigned char *)(e->text.buf ? e->text.buf : ""), e->text.len);
	sodium_bin2hex(e->sum, sizeof(e->sum), h, sizeof(h));
	e->sum_version = e->version;
}

int collab_get(struct workspace *ws, const char *path, struct strbuf *text, bool want_sum,
	       struct collab_doc *out)
{
	struct centry *e = NULL;
	struct ws_doc d;
	int rc;

	memset(out, 0, sizeof(*out));
	for (int attempt = 0; attempt < COLLAB_ATTEMPTS; attempt++) {
		release(e);
		e = NULL;
		rc = load(ws, path, -1, &e, &d);
		if (rc != COHORT_E_CONFLICT)
			break;
		ws_doc_release(&d);
	}
	if (rc)
		goto out;
	out->fid = d.fid;
	out->version = e->version;
	out->crlf = d.crlf;
	if (want_sum) {
		sum_of(e);
		memcpy(out->sum, e->sum, sizeof(out->sum));
	}
	rc = strbuf_add(text, e->text.buf ? e->text.buf : "", e->text.len);
out:
	release(e);
	ws_doc_release(&d);
	return rc;
}

int collab_sum(struct workspace *ws, const char *path, long long version, char sum[COLLAB_SUM_HEX],
	       long long *current)
{
	struct centry *e = NULL;
	struct ws_doc d;
	int rc = load(ws, path, -1, &e, &d);

	*current = rc ? 0 : e->version;
	if (!rc && version != e->version)
		rc = COHORT_E_CONFLICT;
	if (!rc) {
		sum_of(e);
		memcpy(sum, e->sum, COLLAB_SUM_HEX);
	}
	release(e);
	ws_doc_release(&d);
	return rc;
}

/* ---- pull --------------------------------------------------------------- */

static int pull_render(const struct ws_doc *d, long long since, struct strbuf *out)
{
	size_t n = 0;
	int rc = strbuf_addf(out, "{\"version\":%lld,\"updates\":[", d->version);

	for (size_t i = 0; !rc && i < d->n && n < COLLAB_PULL_MAX; i++) {
		long long v = d->first + (long long)i;
		const char *client, *ch;
		size_t cl, chl;

		if (v <= since)
			continue;
		if ((rc = entry_split(d->entry[i], d->entry_len[i], &client, &cl, &ch, &chl)))
			break;
		if ((rc = strbuf_addf(out, "%s{\"version\":%lld,\"clientID\":", n ? "," : "", v)) ||
		    (rc = strbuf_add_json_str(out, client, cl)) || (rc = strbuf_adds(out, ",\"changes\":")) ||
		    (rc = strbuf_add(out, ch, chl)) || (rc = strbuf_addch(out, '}')))
			break;
		n++;
	}
	return rc ? rc : strbuf_adds(out, "]}");
}

int collab_pull(struct workspace *ws, const char *path, long long since, int wait_ms,
		struct strbuf *out)
{
	struct ws_doc d;
	int64_t deadline = 0;
	int rc;

	if (since < 0)
		return COHORT_E_FIELD;
	for (;;) {
		char key[KV_KEY_MAX], block[24];
		redisReply *r = NULL;
		int64_t left;

		if ((rc = workspace_doc_sync(ws, path, since, false, wait_ms > 0, &d)))
			return rc;
		if (since > d.version) {
			ws_doc_release(&d);
			ws->reason = "since is newer than the file's version";
			return COHORT_E_RANGE;
		}
		if (d.version > since || wait_ms <= 0)
			break;
		if (!deadline)
			deadline = (int64_t)wait_ms;
		/* Wait for the next event of the project (or room) after the one we saw. */
		left = deadline;
		memcpy(key, ws->k_events, sizeof(key));
		snprintf(block, sizeof(block), "%lld", (long long)left);
		{
			const char *argv[] = { "XREAD", "COUNT", "1", "BLOCK", block, "STREAMS", key,
					       d.last_id[0] ? d.last_id : "0-0" };
			int64_t t0 = clock_mono_us();

			rc = rconn_cmd_wait(ws->rc, (int)left, &r, 8, argv, NULL);
			deadline -= (clock_mono_us() - t0) / 1000;
		}
		rconn_reply_free(r);
		ws_doc_release(&d);
		if (rc)
			return rc;
		if (deadline <= 0)
			wait_ms = 0; /* one last look, then answer */
	}
	if (!rc)
		rc = pull_render(&d, since, out);
	ws_doc_release(&d);
	return rc;
}
