#include "core/streamid.h"
#include "core/err.h"
#include "core/num.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int stream_id_parse(const char *s, size_t len, struct stream_id *out)
{
	const char *dash = memchr(s, '-', len);

	if (!dash)
		return COHORT_E_BADID;
	if (parse_u64n(s, (size_t)(dash - s), &out->ms) ||
	    parse_u64n(dash + 1, len - (size_t)(dash - s) - 1, &out->seq))
		return COHORT_E_BADID;
	return 0;
}

int stream_id_format(const struct stream_id *id, char *buf, size_t len)
{
	return snprintf(buf, len, "%" PRIu64 "-%" PRIu64, id->ms, id->seq);
}

int stream_id_cmp(const struct stream_id *a, const struct stream_id *b)
{
	if (a->ms != b->ms)
		return a->ms < b->ms ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

bool stream_id_is_zero(const struct stream_id *id)
{
	return id->ms == 0 && id->seq == 0;
}

int position_parse(const char *s, size_t len,
		   int (*fn)(const struct position_item *item, void *arg), void *arg)
{
	size_t i = 0, items = 0;

	if (len == 0 || len > POSITION_MAX_LEN)
		return COHORT_E_BADID;
	while (i <= len) {
		const char *start = s + i;
		const char *end = memchr(start, ',', len - i);
		const char *eq;
		size_t n = end ? (size_t)(end - start) : len - i;
		struct position_item item;
		int r;

		/* The scope name may itself contain '=' in no valid form, so the last '=' splits. */
		eq = NULL;
		for (size_t k = n; k > 0; k--)
			if (start[k - 1] == '=') {
				eq = start + k - 1;
				break;
			}
		if (!eq || eq == start || ++items > POSITION_MAX_ITEMS)
			return COHORT_E_BADID;
		item.scope = start;
		item.scope_len = (size_t)(eq - start);
		if (stream_id_parse(eq + 1, n - item.scope_len - 1, &item.id))
			return COHORT_E_BADID;
		r = fn(&item, arg);
		if (r)
			return r;
		i += n + 1;
		if (!end)
			break;
	}
	return 0;
}
