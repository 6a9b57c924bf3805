#include "stream/subscription.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void say(char *detail, size_t dlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Client-facing sentences are truncated to the caller's buffer on purpose. */
static void say(char *detail, size_t dlen, const char *fmt, ...)
{
	va_list ap;

	if (!detail || !dlen)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, dlen, fmt, ap);
	va_end(ap);
}

static void set_detail(char *detail, size_t dlen, const char *what, const char *name, size_t len)
{
	say(detail, dlen, "%s: '%.*s'", what, (int)(len > 64 ? 64 : len), name);
}

static int add_target(struct sub_request *out, size_t max, const char *name, size_t len,
		      const struct scope_policy *pol, char *detail, size_t dlen)
{
	struct sub_target *t;
	int err;

	if (out->n >= max) {
		say(detail, dlen, "at most %zu streams per connection", max);
		return COHORT_E_LIMIT;
	}
	t = &out->targets[out->n];
	err = scope_parse(name, len, pol, &t->scope);
	if (err) {
		set_detail(detail, dlen, err == COHORT_E_UNKNOWNSTREAM ? "unknown stream" : "malformed stream name",
			   name, len);
		return err;
	}
	for (size_t i = 0; i < out->n; i++)
		if (!strcmp(out->targets[i].scope.name, t->scope.name)) {
			set_detail(detail, dlen, "duplicate stream", name, len);
			return COHORT_E_BADSTREAM;
		}
	if (scope_stream_key(&t->scope, t->key, sizeof(t->key))) {
		set_detail(detail, dlen, "malformed stream name", name, len);
		return COHORT_E_BADSTREAM;
	}
	out->n++;
	return 0;
}

static int alloc_targets(struct sub_request *out, size_t want, size_t max)
{
	out->n = 0;
	out->targets = calloc(want < max ? want : max, sizeof(*out->targets));
	return out->targets ? 0 : COHORT_E_NOMEM;
}

int subscription_parse_list(const char *list, size_t len, const struct scope_policy *pol,
			    size_t max, struct sub_request *out, char *detail, size_t dlen)
{
	size_t items = 1, i = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (!list || len == 0) {
		say(detail, dlen, "the streams parameter names no stream");
		return COHORT_E_BADSTREAM;
	}
	for (size_t k = 0; k < len; k++)
		items += list[k] == ',';
	err = alloc_targets(out, items, max + 1);
	if (err)
		return err;
	while (i <= len) {
		const char *start = list + i;
		const char *comma = memchr(start, ',', len - i);
		size_t n = comma ? (size_t)(comma - start) : len - i;

		err = add_target(out, max, start, n, pol, detail, dlen);
		if (err)
			goto fail;
		i += n + 1;
		if (!comma)
			break;
	}
	return 0;
fail:
	subscription_release(out);
	return err;
}

int subscription_parse_names(const char *const *names, const size_t *lens, size_t n,
			     const struct scope_policy *pol, size_t max, struct sub_request *out,
			     char *detail, size_t dlen)
{
	int err;

	memset(out, 0, sizeof(*out));
	if (n == 0) {
		say(detail, dlen, "\"streams\" names no stream");
		return COHORT_E_BADSTREAM;
	}
	err = alloc_targets(out, n, max + 1);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		err = add_target(out, max, names[i], lens[i], pol, detail, dlen);
		if (err) {
			subscription_release(out);
			return err;
		}
	}
	return 0;
}

void subscription_release(struct sub_request *req)
{
	if (!req)
		return;
	free(req->targets);
	req->targets = NULL;
	req->n = 0;
}
