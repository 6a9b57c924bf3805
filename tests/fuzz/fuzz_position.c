/*
 * Fuzz target: position_parse, which reads the client's Last-Event-ID /
 * resume position ("scope=ms-seq,scope=ms-seq"), and scope_parse on each
 * item as the streamer does.
 *
 * Checks: every item lies inside the input, its scope is non-empty and
 * followed by '=', the item count respects POSITION_MAX_ITEMS, and a
 * callback's non-zero return comes back unchanged.
 */
#include "core/err.h"
#include "core/scope.h"
#include "core/streamid.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk {
	const char *base;
	size_t len;
	size_t items;
	size_t stop_at; /* stop with 12345 at this item; 0 never */
};

static int on_item(const struct position_item *item, void *arg)
{
	static const struct scope_policy pol = { .dev_enabled = true };
	struct walk *w = arg;
	struct scope sc;
	char key[256];

	if (item->scope < w->base || item->scope_len == 0 ||
	    item->scope + item->scope_len >= w->base + w->len || item->scope[item->scope_len] != '=')
		abort();
	if (++w->items > POSITION_MAX_ITEMS)
		abort();
	if (!scope_parse(item->scope, item->scope_len, &pol, &sc)) {
		if (scope_stream_key(&sc, key, sizeof(key)))
			abort();
	}
	return w->stop_at && w->items == w->stop_at ? 12345 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct walk w = { (const char *)data, size, 0, 0 };
	int r;

	r = position_parse((const char *)data, size, on_item, &w);
	if (r != 0 && r != COHORT_E_BADID)
		abort();
	/* Again, stopping at the second item. */
	w.items = 0;
	w.stop_at = 2;
	r = position_parse((const char *)data, size, on_item, &w);
	if (r != 0 && r != COHORT_E_BADID && r != 12345)
		abort();
	if (r == 12345 && w.items != 2)
		abort();
	return 0;
}
