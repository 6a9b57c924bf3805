/*
 * Unit tests for core/err: every error in the X-macro list has a stable,
 * unique snake_case code, an HTTP status in 400..599 and a message, and
 * values outside the list fall back safely.
 */
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* The table from err.h, expanded once more here so the test sees each row
 * as written (name, code, status) and can compare with the functions. */
struct err_row {
	int err;
	const char *name;
	const char *code;
	int status;
};

static const struct err_row rows[] = {
#define ROW(name, code, status, msg) { COHORT_E_##name, #name, code, status },
	COHORT_ERRORS(ROW)
#undef ROW
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static int code_is_snake_case(const char *s)
{
	if (!(*s >= 'a' && *s <= 'z'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static void test_enum_is_dense(void **state)
{
	(void)state;
	/* Every value between the sentinels is a row, in order, so lookup by
	 * index cannot skip or shift a row. */
	assert_int_equal((int)NROWS, COHORT_E__END - COHORT_E__FIRST - 1);
	for (size_t i = 0; i < NROWS; i++)
		assert_int_equal(rows[i].err, COHORT_E__FIRST + 1 + (int)i);
	assert_true(COHORT_E__END < 0);
}

static void test_every_error_has_code_status_message(void **state)
{
	(void)state;
	for (int e = COHORT_E__FIRST + 1; e < COHORT_E__END; e++) {
		const char *code = cohort_errcode(e);
		const char *msg = cohort_strerror(e);
		int status = cohort_http_status(e);

		assert_non_null(code);
		assert_true(code_is_snake_case(code));
		assert_non_null(msg);
		assert_true(strlen(msg) > 0);
		assert_string_not_equal(msg, "unknown error");
		assert_in_range(status, 400, 599);
	}
}

static void test_functions_agree_with_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS; i++) {
		assert_string_equal(cohort_errcode(rows[i].err), rows[i].code);
		assert_int_equal(cohort_http_status(rows[i].err), rows[i].status);
	}
}

static void test_codes_unique(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS; i++)
		for (size_t j = i + 1; j < NROWS; j++) {
			if (!strcmp(rows[i].code, rows[j].code))
				fail_msg("COHORT_E_%s and COHORT_E_%s share the code '%s'", rows[i].name,
					 rows[j].name, rows[i].code);
		}
}

static void test_codes_do_not_collide_with_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS; i++)
		assert_string_not_equal(rows[i].code, "ok");
}

/* A few rows whose status the API contract depends on (docs/protocol.md). */
static const struct {
	int err;
	int status;
	const char *code;
} pinned[] = {
	{ COHORT_OK, 200, "ok" },
	{ COHORT_E_NOMEM, 500, "out_of_memory" },
	{ COHORT_E_INVAL, 400, "invalid_request" },
	{ COHORT_E_JSON, 400, "malformed_json" },
	{ COHORT_E_UTF8, 400, "invalid_utf8" },
	{ COHORT_E_FIELD, 422, "invalid_field" },
	{ COHORT_E_TOOBIG, 413, "body_too_large" },
	{ COHORT_E_NOTFOUND, 404, "not_found" },
	{ COHORT_E_METHOD, 405, "method_not_allowed" },
	{ COHORT_E_AUTH, 401, "unauthenticated" },
	{ COHORT_E_FORBIDDEN, 403, "forbidden" },
	{ COHORT_E_RATE, 429, "rate_limited" },
	{ COHORT_E_REDIS, 503, "redis_error" },
	{ COHORT_E_TIMEOUT, 504, "timeout" },
	{ COHORT_E_BADID, 400, "invalid_event_id" },
	{ COHORT_E_CONFIG, 500, "config_error" },
};

static void test_pinned_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
		assert_int_equal(cohort_http_status(pinned[i].err), pinned[i].status);
		assert_string_equal(cohort_errcode(pinned[i].err), pinned[i].code);
	}
	assert_string_equal(cohort_strerror(COHORT_OK), "success");
}

/* Values outside the list must not index out of bounds. */
static const int outside[] = {
	COHORT_E__FIRST, COHORT_E__END, COHORT_E__FIRST - 1, 1, 42, -1, -999 - 1000, INT32_MIN, INT32_MAX,
};

static void test_unknown_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		int e = outside[i];

		assert_string_equal(cohort_strerror(e), "unknown error");
		assert_string_equal(cohort_errcode(e), "internal");
		assert_int_equal(cohort_http_status(e), 500);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enum_is_dense),
		cmocka_unit_test(test_every_error_has_code_status_message),
		cmocka_unit_test(test_functions_agree_with_table),
		cmocka_unit_test(test_codes_unique),
		cmocka_unit_test(test_codes_do_not_collide_with_ok),
		cmocka_unit_test(test_pinned_rows),
		cmocka_unit_test(test_unknown_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
