#include "core/event.h"
#include "core/err.h"
#include "core/strbuf.h"

#include <string.h>

static int add_opt_str(struct strbuf *out, const char *key, const char *v)
{
	int err = strbuf_addf(out, ",\"%s\":", key);

	if (err)
		return err;
	return v ? strbuf_add_json_str(out, v, strlen(v)) : strbuf_adds(out, "null");
}

int event_encode_stored(struct strbuf *out, const struct event *ev)
{
	int err = strbuf_adds(out, "{\"type\":");

	err = err ? err : strbuf_add_json_str(out, ev->type, strlen(ev->type));
	err = err ? err : add_opt_str(out, "stream", ev->stream);
	err = err ? err : add_opt_str(out, "project", ev->project);
	if (!err && ev->file)
		err = add_opt_str(out, "file", ev->file);
	if (!err && ev->version >= 0)
		err = strbuf_addf(out, ",\"version\":%lld", ev->version);
	err = err ? err : strbuf_adds(out, ",\"actor\":{\"user\":");
	err = err ? err : (ev->actor_user ? strbuf_add_json_str(out, ev->actor_user, strlen(ev->actor_user))
					  : strbuf_adds(out, "null"));
	err = err ? err : add_opt_str(out, "client", ev->actor_client);
	err = err ? err : strbuf_addf(out, "},\"ts\":{\"recv\":%lld,\"pub\":%lld},\"data\":",
				      (long long)ev->ts_recv, (long long)ev->ts_pub);
	err = err ? err : strbuf_adds(out, ev->data_json ? ev->data_json : "null");
	err = err ? err : strbuf_addch(out, '}');
	return err;
}

int event_finalize(struct strbuf *out, const char *id, const char *stored, size_t len)
{
	size_t k = 1;
	int err;

	if (len < 2 || stored[0] != '{' || stored[len - 1] != '}')
		return COHORT_E_INVAL;
	/* "{ }" has no members: a comma after the id would make it invalid JSON. */
	while (k < len - 1 && (stored[k] == ' ' || stored[k] == '\t' || stored[k] == '\n' || stored[k] == '\r'))
		k++;
	err = strbuf_adds(out, "{\"id\":");
	err = err ? err : strbuf_add_json_str(out, id, strlen(id));
	if (!err && k < len - 1)
		err = strbuf_addch(out, ',');
	err = err ? err : strbuf_add(out, stored + 1, len - 1);
	return err;
}

int event_type_valid(const char *type, size_t len)
{
	if (len == 0 || len > EVENT_TYPE_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = type[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}
