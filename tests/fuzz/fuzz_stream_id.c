/*
 * Fuzz target: stream_id_parse, which reads Redis entry ids that arrive in
 * client positions. An accepted id must format back to the same digits
 * (modulo leading zeros) and parse to the same value.
 */
#include "core/err.h"
#include "core/streamid.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Skips leading zeros of one number, keeping a lone "0". */
static const char *strip_zeros(const char *p, const char *end)
{
	while (p + 1 < end && *p == '0')
		p++;
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct stream_id id, back;
	char buf[STREAM_ID_STRMAX];
	const char *dash, *a, *b;
	int n;

	if (stream_id_parse(s, size, &id)) {
		return 0;
	}
	n = stream_id_format(&id, buf, sizeof(buf));
	if (n <= 0 || (size_t)n >= sizeof(buf))
		abort();
	if (stream_id_parse(buf, (size_t)n, &back) || stream_id_cmp(&id, &back) != 0)
		abort();
	/* Compare digits: "<ms>-<seq>" with leading zeros removed on both sides. */
	dash = memchr(s, '-', size);
	if (!dash)
		abort();
	a = strip_zeros(s, dash);
	b = strip_zeros(dash + 1, s + size);
	{
		const char *fdash = strchr(buf, '-');

		if (!fdash || (size_t)(dash - a) != (size_t)(fdash - buf) || memcmp(a, buf, (size_t)(dash - a)) ||
		    (size_t)(s + size - b) != strlen(fdash + 1) || memcmp(b, fdash + 1, (size_t)(s + size - b)))
			abort();
	}
	return 0;
}
