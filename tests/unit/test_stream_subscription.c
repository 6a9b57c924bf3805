/*
 * Unit tests for cohort-stream's subscription naming (subscription.c): a
 * client's list of streams becomes canonical scopes and Redis keys, within
 * the per-connection limit, or a precise error.
 */
#include "stream/subscription.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const struct {
	const char *list;
	bool dev;
	size_t max;
	int err;
	const char *keys; /* the Redis keys joined by ' ' */
} rows[] = {
	{ "dev:a", true, 16, 0, "{dev:a}:events" },
	{ "dev:a,dev:b-2,dev:C.d_e", true, 16, 0, "{dev:a}:events {dev:b-2}:events {dev:C.d_e}:events" },
	{ "dev:a,dev:b", true, 2, 0, "{dev:a}:events {dev:b}:events" },
	{ "dev:a,dev:b,dev:c", true, 2, COHORT_E_LIMIT, NULL },
	{ "dev:a", false, 16, COHORT_E_UNKNOWNSTREAM, NULL }, /* dev scopes disabled */
	{ "projects:1", true, 16, COHORT_E_UNKNOWNSTREAM, NULL },
	{ "dev:a,nope:b", true, 16, COHORT_E_UNKNOWNSTREAM, NULL },
	{ "", true, 16, COHORT_E_BADSTREAM, NULL },
	{ "dev:", true, 16, COHORT_E_BADSTREAM, NULL },
	{ ":a", true, 16, COHORT_E_BADSTREAM, NULL },
	{ "deva", true, 16, COHORT_E_BADSTREAM, NULL },
	{ "dev:a,", true, 16, COHORT_E_BADSTREAM, NULL },
	{ ",dev:a", true, 16, COHORT_E_BADSTREAM, NULL },
	{ "dev:a,,dev:b", true, 16, COHORT_E_BADSTREAM, NULL },
	{ "dev:a b", true, 16, COHORT_E_BADSTREAM, NULL },
	{ "dev:a}", true, 16, COHORT_E_BADSTREAM, NULL },     /* cannot break out of the hash tag */
	{ "dev:a=1", true, 16, COHORT_E_BADSTREAM, NULL },    /* cannot confuse positions */
	{ "dev:a,dev:a", true, 16, COHORT_E_BADSTREAM, NULL }, /* duplicate */
};

static void test_parse_list(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct scope_policy pol = { .dev_enabled = rows[i].dev };
		struct sub_request req;
		char detail[SUB_DETAIL_MAX] = "";
		char keys[1024] = "";
		int err = subscription_parse_list(rows[i].list, strlen(rows[i].list), &pol, rows[i].max, &req,
						  detail, sizeof(detail));

		if (err != rows[i].err)
			fail_msg("row %zu '%s': err %d, want %d (%s)", i, rows[i].list, err, rows[i].err, detail);
		if (err) {
			assert_true(detail[0] != '\0'); /* every refusal says why */
			assert_null(req.targets);
			continue;
		}
		for (size_t k = 0; k < req.n; k++) {
			if (k)
				strncat(keys, " ", sizeof(keys) - strlen(keys) - 1);
			strncat(keys, req.targets[k].key, sizeof(keys) - strlen(keys) - 1);
		}
		if (strcmp(keys, rows[i].keys))
			fail_msg("row %zu: keys '%s', want '%s'", i, keys, rows[i].keys);
		subscription_release(&req);
	}
}

static void test_parse_names_and_details(void **state)
{
	const char *names[] = { "dev:x", "dev:y" };
	size_t lens[] = { 5, 5 };
	const char *bad[] = { "dev:x", "dev:x" };
	struct scope_policy pol = { .dev_enabled = true };
	struct sub_request req;
	char detail[SUB_DETAIL_MAX];

	(void)state;
	assert_int_equal(subscription_parse_names(names, lens, 2, &pol, 16, &req, detail, sizeof(detail)), 0);
	assert_int_equal(req.n, 2);
	assert_string_equal(req.targets[0].scope.name, "dev:x");
	assert_string_equal(req.targets[1].scope.name, "dev:y");
	subscription_release(&req);
	subscription_release(&req); /* twice is harmless */

	assert_int_equal(subscription_parse_names(bad, lens, 2, &pol, 16, &req, detail, sizeof(detail)),
			 COHORT_E_BADSTREAM);
	assert_string_equal(detail, "duplicate stream: 'dev:x'");
	assert_int_equal(subscription_parse_names(names, lens, 0, &pol, 16, &req, detail, sizeof(detail)),
			 COHORT_E_BADSTREAM);
	assert_int_equal(subscription_parse_names(names, lens, 2, &pol, 1, &req, detail, sizeof(detail)),
			 COHORT_E_LIMIT);
	assert_string_equal(detail, "at most 1 streams per connection");
	/* A long name is cut in the detail, which stays within its buffer. */
	{
		char longname[200], small[24];

		memset(longname, 'q', sizeof(longname));
		memcpy(longname, "zzz:", 4);
		assert_int_equal(subscription_parse_list(longname, sizeof(longname), &pol, 16, &req, small,
							 sizeof(small)),
				 COHORT_E_BADSTREAM);
		assert_int_equal(strlen(small), sizeof(small) - 1);
	}
}

/* Numeric kinds need no policy and have one canonical name each. */
static void test_numeric_kinds(void **state)
{
	struct scope_policy pol = { .dev_enabled = false };
	struct sub_request req;

	(void)state;
	assert_int_equal(subscription_parse_list("project:1,lesson:2,user:3", 25, &pol, 16, &req, NULL, 0), 0);
	assert_int_equal(req.n, 3);
	assert_string_equal(req.targets[0].key, "{p:1}:events");
	assert_string_equal(req.targets[1].key, "{l:2}:events");
	assert_string_equal(req.targets[2].key, "{u:3}:events");
	subscription_release(&req);
	assert_int_equal(subscription_parse_list("project:01", 10, &pol, 16, &req, NULL, 0), COHORT_E_BADSTREAM);
	assert_int_equal(subscription_parse_list("project:1,project:1", 19, &pol, 16, &req, NULL, 0),
			 COHORT_E_BADSTREAM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_list),
		cmocka_unit_test(test_parse_names_and_details),
		cmocka_unit_test(test_numeric_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
