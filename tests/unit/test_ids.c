/*
 * Unit tests for core/ids: request ids are IDS_REQUEST_LEN characters of
 * lowercase base32, NUL-terminated, and do not repeat.
 */
#include "core/ids.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ALPHABET "abcdefghijklmnopqrstuvwxyz234567"
#define N_IDS 2000

static int setup(void **state)
{
	(void)state;
	return ids_init();
}

static void test_init_is_idempotent(void **state)
{
	(void)state;
	assert_int_equal(ids_init(), 0);
	assert_int_equal(ids_init(), 0);
}

static void test_shape(void **state)
{
	char id[IDS_REQUEST_LEN + 2];

	(void)state;
	for (int i = 0; i < 100; i++) {
		id[IDS_REQUEST_LEN + 1] = 'Z'; /* canary: nothing is written past the NUL */
		ids_request(id);
		assert_int_equal(strlen(id), IDS_REQUEST_LEN);
		assert_int_equal(strspn(id, ALPHABET), IDS_REQUEST_LEN);
		assert_int_equal(id[IDS_REQUEST_LEN + 1], 'Z');
	}
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, IDS_REQUEST_LEN + 1);
}

/* 80 random bits each: N_IDS ids colliding would mean a broken generator. */
static void test_unique_and_spread(void **state)
{
	char (*ids)[IDS_REQUEST_LEN + 1] = malloc(N_IDS * sizeof(*ids));
	size_t seen[32] = { 0 };

	(void)state;
	assert_non_null(ids);
	for (int i = 0; i < N_IDS; i++) {
		ids_request(ids[i]);
		for (int k = 0; k < IDS_REQUEST_LEN; k++)
			seen[strchr(ALPHABET, ids[i][k]) - ALPHABET]++;
	}
	qsort(ids, N_IDS, sizeof(*ids), cmp_id);
	for (int i = 1; i < N_IDS; i++)
		assert_true(cmp_id(ids[i - 1], ids[i]) != 0);
	/* Every symbol is used; each is expected N_IDS*16/32 = 1000 times, so
	 * fewer than 700 or more than 1300 would mean a biased mapping. */
	for (int c = 0; c < 32; c++)
		assert_in_range(seen[c], 700, 1300);
	free(ids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_is_idempotent),
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_unique_and_spread),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
