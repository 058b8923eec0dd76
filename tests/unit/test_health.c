/* test_health.c - rise/fall arithmetic (src/health.c). */
#include <config.h>

#include "health.h"

#include <check.h>
#include <stdlib.h>

/* (rise, fall) pairs every table-driven test runs over. */
static const int pairs[][2] = {{1, 1}, {2, 3}, {3, 2}, {1, 4}, {4, 1}, {5, 5}, {2, 2}};
#define NPAIRS ((int)(sizeof(pairs) / sizeof(pairs[0])))

/* Feed `n` identical results; returns how many of them changed the state
 * and checks that only the last one may. */
static int feed(struct health *h, int success, int n, enum health_change *last)
{
	int changes = 0;

	*last = HEALTH_SAME;
	for (int i = 0; i < n; i++) {
		*last = health_report(h, success);
		if (*last != HEALTH_SAME) {
			ck_assert_int_eq(i, n - 1);
			changes++;
		}
	}
	return changes;
}

/* An UP server with a full counter, as after a long run of successes. */
static void full_up(struct health *h, int rise, int fall)
{
	health_init(h, rise, fall);
	for (int i = 0; i < rise + fall; i++)
		ck_assert_int_eq(health_report(h, 1), HEALTH_SAME);
	ck_assert_int_eq(h->health, rise + fall - 1);
}

START_TEST(test_init_up_at_rise)
{
	struct health h;

	health_init(&h, 2, 3);
	ck_assert_int_eq(h.up, 1);
	ck_assert_int_eq(h.health, 2);
	ck_assert_int_eq(h.rise, 2);
	ck_assert_int_eq(h.fall, 3);
}
END_TEST

START_TEST(test_init_clamps)
{
	struct health h;

	health_init(&h, 0, -3);
	ck_assert_int_eq(h.rise, 1);
	ck_assert_int_eq(h.fall, 1);
	ck_assert_int_eq(h.up, 1);
	ck_assert_int_eq(health_report(&h, 0), HEALTH_WENT_DOWN);
	ck_assert_int_eq(health_report(&h, 1), HEALTH_WENT_UP);
}
END_TEST

/* At start the very first failure takes the server down, as HAProxy. */
START_TEST(test_first_failure_at_start_goes_down)
{
	int rise = pairs[_i][0], fall = pairs[_i][1];
	struct health h;

	health_init(&h, rise, fall);
	ck_assert_int_eq(health_report(&h, 0), HEALTH_WENT_DOWN);
	ck_assert_int_eq(h.up, 0);
	ck_assert_int_eq(h.health, 0);
}
END_TEST

/* One success at start does not protect against a later failure fully:
 * health = rise + 1, so a failure leaves it UP only when fall > 1. */
START_TEST(test_success_then_failure_at_start)
{
	struct health h;

	health_init(&h, 2, 3);
	ck_assert_int_eq(health_report(&h, 1), HEALTH_SAME);
	ck_assert_int_eq(h.health, 3);
	ck_assert_int_eq(health_report(&h, 0), HEALTH_SAME);
	ck_assert_int_eq(h.up, 1);
	ck_assert_int_eq(health_report(&h, 0), HEALTH_WENT_DOWN);

	health_init(&h, 2, 1);
	ck_assert_int_eq(health_report(&h, 1), HEALTH_SAME);
	ck_assert_int_eq(health_report(&h, 0), HEALTH_WENT_DOWN);
}
END_TEST

START_TEST(test_exactly_fall_failures)
{
	int rise = pairs[_i][0], fall = pairs[_i][1];
	enum health_change last;
	struct health h;

	full_up(&h, rise, fall);
	ck_assert_int_eq(feed(&h, 0, fall - 1, &last), 0);
	ck_assert_int_eq(h.up, 1);
	ck_assert_int_eq(health_report(&h, 0), HEALTH_WENT_DOWN);
	ck_assert_int_eq(h.up, 0);
	ck_assert_int_eq(h.health, 0);
}
END_TEST

START_TEST(test_exactly_rise_successes)
{
	int rise = pairs[_i][0], fall = pairs[_i][1];
	enum health_change last;
	struct health h;

	health_init(&h, rise, fall);
	ck_assert_int_eq(health_report(&h, 0), HEALTH_WENT_DOWN);
	ck_assert_int_eq(feed(&h, 1, rise - 1, &last), 0);
	ck_assert_int_eq(h.up, 0);
	ck_assert_int_eq(health_report(&h, 1), HEALTH_WENT_UP);
	ck_assert_int_eq(h.up, 1);
	/* The counter jumps to the top: a new DOWN needs `fall` failures. */
	ck_assert_int_eq(h.health, rise + fall - 1);
	ck_assert_int_eq(feed(&h, 0, fall, &last), 1);
	ck_assert_int_eq(last, HEALTH_WENT_DOWN);
}
END_TEST

START_TEST(test_counters_saturate)
{
	int rise = pairs[_i][0], fall = pairs[_i][1];
	enum health_change last;
	struct health h;

	full_up(&h, rise, fall);
	ck_assert_int_eq(feed(&h, 1, 1000, &last), 0);
	ck_assert_int_eq(h.health, rise + fall - 1);
	/* However long it was UP, `fall` failures bring it down. */
	ck_assert_int_eq(feed(&h, 0, fall, &last), 1);
	ck_assert_int_eq(last, HEALTH_WENT_DOWN);
	ck_assert_int_eq(feed(&h, 0, 1000, &last), 0);
	ck_assert_int_eq(h.health, 0);
	/* However long it was DOWN, `rise` successes bring it up. */
	ck_assert_int_eq(feed(&h, 1, rise, &last), 1);
	ck_assert_int_eq(last, HEALTH_WENT_UP);
}
END_TEST

/* Alternating results never move a server with rise, fall >= 2. */
START_TEST(test_flapping_is_damped)
{
	struct health h;

	full_up(&h, 2, 2);
	for (int i = 0; i < 50; i++) {
		ck_assert_int_eq(health_report(&h, 0), HEALTH_SAME);
		ck_assert_int_eq(health_report(&h, 1), HEALTH_SAME);
	}
	ck_assert_int_eq(h.up, 1);

	ck_assert_int_eq(health_report(&h, 0), HEALTH_SAME);
	ck_assert_int_eq(health_report(&h, 0), HEALTH_WENT_DOWN);
	for (int i = 0; i < 50; i++) {
		ck_assert_int_eq(health_report(&h, 1), HEALTH_SAME);
		ck_assert_int_eq(health_report(&h, 0), HEALTH_SAME);
	}
	ck_assert_int_eq(h.up, 0);
}
END_TEST

/* A scripted sequence with rise 3, fall 2 (S = success, F = failure),
 * laid out as a timeline (hence no clang-format). */
START_TEST(test_flapping_sequence)
{
	static const struct {
		char result;
		enum health_change change;
		int up, health;
	} steps[] = {
	    /* clang-format off */
		{'S', HEALTH_SAME, 1, 4},      {'F', HEALTH_SAME, 1, 3},
		{'F', HEALTH_WENT_DOWN, 0, 0}, {'S', HEALTH_SAME, 0, 1},
		{'S', HEALTH_SAME, 0, 2},      {'F', HEALTH_SAME, 0, 1},
		{'S', HEALTH_SAME, 0, 2},      {'S', HEALTH_WENT_UP, 1, 4},
		{'F', HEALTH_SAME, 1, 3},      {'S', HEALTH_SAME, 1, 4},
		{'F', HEALTH_SAME, 1, 3},      {'F', HEALTH_WENT_DOWN, 0, 0},
	    /* clang-format on */
	};
	struct health h;

	health_init(&h, 3, 2);
	ck_assert_int_eq(h.health, 3);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		enum health_change c = health_report(&h, steps[i].result == 'S');
		ck_assert_msg(c == steps[i].change, "step %zu: change %d, want %d", i, c,
		              steps[i].change);
		ck_assert_msg(h.up == steps[i].up && h.health == steps[i].health,
		              "step %zu: up %d health %d, want %d %d", i, h.up, h.health,
		              steps[i].up, steps[i].health);
	}
}
END_TEST

START_TEST(test_rise1_fall1_follows_each_result)
{
	struct health h;

	health_init(&h, 1, 1);
	ck_assert_int_eq(health_report(&h, 1), HEALTH_SAME);
	ck_assert_int_eq(health_report(&h, 0), HEALTH_WENT_DOWN);
	ck_assert_int_eq(health_report(&h, 0), HEALTH_SAME);
	ck_assert_int_eq(health_report(&h, 1), HEALTH_WENT_UP);
	ck_assert_int_eq(health_report(&h, 1), HEALTH_SAME);
	ck_assert_int_eq(health_report(&h, 0), HEALTH_WENT_DOWN);
	ck_assert_int_eq(health_report(&h, 1), HEALTH_WENT_UP);
	ck_assert_int_eq(h.health, 1);
}
END_TEST

/* The counter never leaves [0, rise + fall - 1], whatever the sequence. */
START_TEST(test_range_invariant)
{
	int rise = pairs[_i][0], fall = pairs[_i][1];
	unsigned seed = 12345u + (unsigned)_i;
	struct health h;

	health_init(&h, rise, fall);
	for (int i = 0; i < 5000; i++) {
		int was_up = h.up;
		seed = seed * 1103515245u + 12345u;
		enum health_change c = health_report(&h, (seed >> 16) & 1);
		ck_assert_int_ge(h.health, 0);
		ck_assert_int_le(h.health, rise + fall - 1);
		/* UP exactly while health >= rise. */
		ck_assert_int_eq(h.up, h.health >= rise);
		if (c == HEALTH_WENT_UP)
			ck_assert(!was_up && h.up);
		else if (c == HEALTH_WENT_DOWN)
			ck_assert(was_up && !h.up);
		else
			ck_assert_int_eq(was_up, h.up);
	}
}
END_TEST

static Suite *health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_init_up_at_rise);
	tcase_add_test(tc, test_init_clamps);
	tcase_add_loop_test(tc, test_first_failure_at_start_goes_down, 0, NPAIRS);
	tcase_add_test(tc, test_success_then_failure_at_start);
	tcase_add_loop_test(tc, test_exactly_fall_failures, 0, NPAIRS);
	tcase_add_loop_test(tc, test_exactly_rise_successes, 0, NPAIRS);
	tcase_add_loop_test(tc, test_counters_saturate, 0, NPAIRS);
	tcase_add_test(tc, test_flapping_is_damped);
	tcase_add_test(tc, test_flapping_sequence);
	tcase_add_test(tc, test_rise1_fall1_follows_each_result);
	tcase_add_loop_test(tc, test_range_invariant, 0, NPAIRS);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(health_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
