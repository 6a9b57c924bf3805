/*
 * treecache.c — see treecache.h. A small array scanned linearly: with a few
 * dozen entries a scan is cheaper than any index, and the bodies it guards
 * are hundreds of kilobytes.
 */
#include "api/treecache.h"
#include "core/err.h"
#include "core/strbuf.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GEN_MAX 64

struct entry {
	char *key; /* NULL: unused */
	char gen[GEN_MAX];
	char *body;
	size_t len;
	uint64_t last; /* tick of the last use, for LRU */
};

static struct entry entries[TREECACHE_ENTRIES];
static size_t total; /* bytes of all bodies */
static uint64_t tick;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Called with the lock held. */
static struct entry *find(const char *key)
{
	for (size_t i = 0; i < TREECACHE_ENTRIES; i++)
		if (entries[i].key && !strcmp(entries[i].key, key))
			return &entries[i];
	return NULL;
}

/* Called with the lock held. */
static void drop(struct entry *e)
{
	total -= e->len;
	free(e->key);
	free(e->body);
	memset(e, 0, sizeof(*e));
}

/* The least recently used entry in use, or NULL when none is. */
static struct entry *oldest(void)
{
	struct entry *o = NULL;

	for (size_t i = 0; i < TREECACHE_ENTRIES; i++)
		if (entries[i].key && (!o || entries[i].last < o->last))
			o = &entries[i];
	return o;
}

int treecache_gen(const char *key, char *gen, size_t gencap)
{
	struct entry *e;
	int err = COHORT_E_NOTFOUND;

	pthread_mutex_lock(&lock);
	e = find(key);
	if (e && strlen(e->gen) < gencap) {
		memcpy(gen, e->gen, strlen(e->gen) + 1);
		err = 0;
	}
	pthread_mutex_unlock(&lock);
	return err;
}

int treecache_copy(const char *key, const char *gen, struct strbuf *out)
{
	struct entry *e;
	int err = COHORT_E_NOTFOUND;

	pthread_mutex_lock(&lock);
	e = find(key);
	if (e && !strcmp(e->gen, gen)) {
		e->last = ++tick;
		err = strbuf_add(out, e->body, e->len);
	}
	pthread_mutex_unlock(&lock);
	return err;
}

void treecache_put(const char *key, const char *gen, const char *body, size_t len)
{
	char *k, *b;
	struct entry *e;

	if (!gen[0] || strlen(gen) >= GEN_MAX || len > TREECACHE_MAX_BYTES / 4)
		return;
	k = strdup(key);
	b = malloc(len ? len : 1);
	if (!k || !b) {
		free(k);
		free(b);
		return;
	}
	memcpy(b, body, len);
	pthread_mutex_lock(&lock);
	if ((e = find(key)))
		drop(e);
	for (size_t i = 0; !e && i < TREECACHE_ENTRIES; i++)
		if (!entries[i].key)
			e = &entries[i];
	if (!e) {
		e = oldest();
		drop(e);
	}
	while (total + len > TREECACHE_MAX_BYTES) {
		struct entry *o = oldest();

		if (!o)
			break;
		drop(o);
	}
	e->key = k;
	e->body = b;
	e->len = len;
	memcpy(e->gen, gen, strlen(gen) + 1);
	e->last = ++tick;
	total += len;
	pthread_mutex_unlock(&lock);
}

void treecache_clear(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < TREECACHE_ENTRIES; i++)
		if (entries[i].key)
			drop(&entries[i]);
	pthread_mutex_unlock(&lock);
}
