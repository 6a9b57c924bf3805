/*
 * err.h — the one error convention of cohort.
 *
 * Functions return 0 on success and a negative enum cohort_err on failure.
 * Every error has a stable machine code (sent to clients in problem+json
 * "code"), an HTTP status (mapped here, in one place) and a human message.
 * The list is an X-macro so the enum and its strings can never drift apart.
 */
#ifndef COHORT_ERR_H
#define COHORT_ERR_H

/*      name             code                 status  message */
#define COHORT_ERRORS(X)                                                              \
	X(NOMEM,         "out_of_memory",      500, "out of memory")                   \
	X(INTERNAL,      "internal",           500, "internal error")                  \
	X(INVAL,         "invalid_request",    400, "invalid request")                 \
	X(JSON,          "malformed_json",     400, "body is not valid JSON")          \
	X(UTF8,          "invalid_utf8",       400, "text is not valid UTF-8")         \
	X(FIELD,         "invalid_field",      422, "a field is missing or invalid")   \
	X(RANGE,         "out_of_range",       422, "value out of range")              \
	X(TOOBIG,        "body_too_large",     413, "request body too large")          \
	X(LIMIT,         "limit_exceeded",     413, "a size limit was exceeded")       \
	X(NOTFOUND,      "not_found",          404, "not found")                       \
	X(NOROUTE,       "no_route",           404, "no such route")                   \
	X(METHOD,        "method_not_allowed", 405, "method not allowed")              \
	X(MEDIATYPE,     "unsupported_media",  415, "unsupported media type")          \
	X(EXISTS,        "already_exists",     409, "already exists")                  \
	X(CONFLICT,      "conflict",           409, "conflicting change")              \
	X(PRECONDITION,  "precondition_failed",412, "precondition failed")             \
	X(PRECONDREQ,    "precondition_required",428, "a precondition (If-Match) is required") \
	X(AUTH,          "unauthenticated",    401, "authentication required")         \
	X(FORBIDDEN,     "forbidden",          403, "not allowed")                     \
	X(DISABLED,      "feature_disabled",   404, "feature disabled by configuration") \
	X(BADSTREAM,     "invalid_stream",     400, "invalid stream name")             \
	X(UNKNOWNSTREAM, "unknown_stream",     400, "unknown stream")                  \
	X(BADID,         "invalid_event_id",   400, "malformed event id")              \
	X(RATE,          "rate_limited",       429, "too many requests")               \
	X(BADLOGIN,      "invalid_credentials",401, "wrong login or password")         \
	X(USERDISABLED,  "user_disabled",      403, "this account is disabled")        \
	X(BADTOKEN,      "invalid_token",      401, "invalid or expired token")        \
	X(BADCODE,       "invalid_join_code",  403, "no course has this join code")    \
	X(MEMBER,        "already_member",     409, "already a participant of this course") \
	X(NICKNAME,      "nickname_taken",     409, "nickname already used in this course") \
	X(NOTMEMBER,     "not_a_participant",  422, "not a participant of this course") \
	X(NOTOWNER,      "not_project_owner",  403, "only the project's owner may do this") \
	X(BADBITS,       "invalid_bits",       422, "invalid permission bits")         \
	X(BINARY,        "binary_file",        409, "binary files cannot be edited live") \
	X(GONE,          "version_gone",       410, "this version is no longer retained; reload the document") \
	X(IO,            "io_error",           500, "input/output error")              \
	X(REDIS,         "redis_error",        503, "Redis is unavailable")            \
	X(DB,            "database_error",     503, "the database is unavailable")     \
	X(TIMEOUT,       "timeout",            504, "operation timed out")             \
	X(UNAVAILABLE,   "unavailable",        503, "service unavailable")             \
	X(FETCH,         "fetch_failed",       502, "fetching the URL failed")         \
	X(CONFIG,        "config_error",       500, "configuration error")

enum cohort_err {
	COHORT_OK = 0,
#define COHORT_ERR_ENUM(name, code, status, msg) COHORT_E_##name,
	COHORT_E__FIRST = -1000,
	COHORT_ERRORS(COHORT_ERR_ENUM)
#undef COHORT_ERR_ENUM
	COHORT_E__END
};

/* Human message; "unknown error" for values outside the list. */
const char *cohort_strerror(int err);
/* Stable snake_case code for clients and logs. */
const char *cohort_errcode(int err);
/* The single mapping from error to HTTP status. */
int cohort_http_status(int err);

/* Programmer bugs abort loudly; runtime failures are returned. */
void cohort_bug(const char *file, int line, const char *what) __attribute__((noreturn));
#define BUG(what) cohort_bug(__FILE__, __LINE__, (what))
#define BUG_ON(cond)                                   \
	do {                                           \
		if (cond)                              \
			cohort_bug(__FILE__, __LINE__, #cond); \
	} while (0)

#endif
