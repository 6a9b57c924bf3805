#include "core/problem.h"
#include "core/err.h"
#include "core/strbuf.h"

#include <string.h>

int problem_build(struct strbuf *out, int err, const char *detail, const char *request_id)
{
	const char *code = cohort_errcode(err);
	const char *title = cohort_strerror(err);
	int status = cohort_http_status(err);

	strbuf_addf(out, "{\"type\":\"urn:cohort:problem:%s\",\"title\":", code);
	strbuf_add_json_str(out, title, strlen(title));
	strbuf_addf(out, ",\"status\":%d,\"code\":\"%s\"", status, code);
	if (detail) {
		strbuf_adds(out, ",\"detail\":");
		strbuf_add_json_str(out, detail, strlen(detail));
	}
	if (request_id) {
		strbuf_adds(out, ",\"request_id\":");
		strbuf_add_json_str(out, request_id, strlen(request_id));
	}
	strbuf_addch(out, '}');
	return status;
}
