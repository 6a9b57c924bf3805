/*
 * Unit tests for core/clock: wall time is microseconds since the epoch and
 * agrees with time(2); monotonic time never goes back and measures sleeps.
 */
#include "core/clock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

static void test_wall_is_epoch_us(void **state)
{
	time_t before = time(NULL);
	int64_t us = clock_wall_us();
	time_t after = time(NULL);

	(void)state;
	/* Later than 2020-01-01 in microseconds, so not seconds or milliseconds. */
	assert_true(us > INT64_C(1577836800) * 1000000);
	assert_true(us / 1000000 >= (int64_t)before - 1);
	assert_true(us / 1000000 <= (int64_t)after + 1);
}

static void test_mono_never_goes_back(void **state)
{
	int64_t prev = clock_mono_us(), now;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		now = clock_mono_us();
		assert_true(now >= prev);
		prev = now;
	}
}

static void test_mono_measures_sleep(void **state)
{
	static const long sleeps_us[] = { 1000, 20000 };

	(void)state;
	for (size_t i = 0; i < sizeof(sleeps_us) / sizeof(sleeps_us[0]); i++) {
		struct timespec ts = { 0, sleeps_us[i] * 1000 };
		int64_t start = clock_mono_us(), took;

		while (nanosleep(&ts, &ts))
			;
		took = clock_mono_us() - start;
		assert_true(took >= sleeps_us[i]);
		assert_true(took < sleeps_us[i] + 2000000); /* generous: loaded CI machines */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wall_is_epoch_us),
		cmocka_unit_test(test_mono_never_goes_back),
		cmocka_unit_test(test_mono_measures_sleep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
