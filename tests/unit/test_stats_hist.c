/* test_stats_hist.c - the last minute of paths (src/stats_hist.c), with
 * synthetic counters: steady growth, a reload, frontends coming and going,
 * late timers. */
#include <config.h>

#include "stats_hist.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const int GEN_A = 1, GEN_B = 2; /* two generations' identities */

/* One frontend's counters: xff, proxy, plain, conns. */
static struct stats_obs obs(const char *name, const void *gen, unsigned long long xff,
                            unsigned long long proxy, unsigned long long plain,
                            unsigned long long conns)
{
	struct stats_obs o = {.name = name, .gen_id = gen};

	o.ctr[STATS_CTR_XFF] = xff;
	o.ctr[STATS_CTR_PROXY] = proxy;
	o.ctr[STATS_CTR_PLAIN] = plain;
	o.ctr[STATS_CTR_CONNS] = conns;
	return o;
}

static struct stats_share share(const struct stats_hist *h, const char *fe)
{
	struct stats_share s;

	ck_assert_msg(stats_hist_share(h, fe, &s) == 0, "%s unknown", fe);
	ck_assert(s.known);
	return s;
}

START_TEST(first_sample)
{
	struct stats_hist *h = stats_hist_new(1000);
	struct stats_share s;
	struct stats_obs o = obs("fe", &GEN_A, 10, 0, 0, 10);

	ck_assert_int_eq(stats_hist_share(h, "fe", &s), -1);
	ck_assert(!s.known);
	ck_assert_int_eq(stats_hist_push(h, 6000, &o, 1), 0);
	s = share(h, "fe");
	/* since the start: counters were zero at 1000 ms */
	ck_assert_uint_eq(s.window_ms, 5000);
	ck_assert_uint_eq(s.n[STATS_CTR_XFF], 10);
	ck_assert_uint_eq(s.paths, 10);
	ck_assert_uint_eq(s.pct[0], 100);
	ck_assert_uint_eq(s.pct[1], 0);
	ck_assert_uint_eq(s.pct[2], 0);
	ck_assert_uint_eq(s.rate_x100, 200); /* 10 in 5 s */
	ck_assert_int_eq(stats_hist_share(h, "other", &s), -1);
	stats_hist_free(h);
}
END_TEST

/* Twenty steps of 5 s, xff +5 and proxy +10 a step: the window holds
 * the last twelve steps only. */
START_TEST(steady_minute)
{
	struct stats_hist *h = stats_hist_new(0);
	struct stats_share s;

	for (int i = 1; i <= 20; i++) {
		struct stats_obs o = obs("fe", &GEN_A, 5ull * i, 10ull * i, 0, 15ull * i);
		ck_assert_int_eq(stats_hist_push(h, 5000ull * i, &o, 1), 0);
		s = share(h, "fe");
		ck_assert_uint_eq(s.window_ms, 5000ull * (i < 12 ? i : 12));
	}
	ck_assert_uint_eq(s.n[STATS_CTR_XFF], 60);
	ck_assert_uint_eq(s.n[STATS_CTR_PROXY], 120);
	ck_assert_uint_eq(s.n[STATS_CTR_CONNS], 180);
	ck_assert_uint_eq(s.pct[0], 33);
	ck_assert_uint_eq(s.pct[1], 67);
	ck_assert_uint_eq(s.rate_x100, 300); /* 180 in 60 s */
	stats_hist_free(h);
}
END_TEST

/* libevent's timers fire late: 5010 ms steps still make a twelve-step
 * minute; a gap (a stalled loop) shortens it rather than stretch it. */
START_TEST(late_timers)
{
	struct stats_hist *h = stats_hist_new(0);
	struct stats_share s;
	struct stats_obs o;

	for (int i = 1; i <= 15; i++) {
		o = obs("fe", &GEN_A, i, 0, 0, i);
		stats_hist_push(h, 5010ull * i, &o, 1);
	}
	s = share(h, "fe");
	ck_assert_uint_eq(s.window_ms, 12 * 5010);
	ck_assert_uint_eq(s.n[STATS_CTR_XFF], 12);
	/* 40 s without a sample: only the slots of the last minute count */
	o = obs("fe", &GEN_A, 100, 0, 0, 100);
	stats_hist_push(h, 5010ull * 15 + 40000, &o, 1);
	s = share(h, "fe");
	ck_assert_uint_eq(s.window_ms, 40000 + 4 * 5010);
	ck_assert_uint_eq(s.n[STATS_CTR_XFF], 100 - 11);
	stats_hist_free(h);
}
END_TEST

/* A reload: the new generation's counters start at zero; the history is
 * kept by name and nothing goes negative. */
START_TEST(reload)
{
	struct stats_hist *h = stats_hist_new(0);
	struct stats_share s;
	struct stats_obs o;

	o = obs("fe", &GEN_A, 100, 50, 0, 150);
	stats_hist_push(h, 5000, &o, 1);
	o = obs("fe", &GEN_A, 200, 100, 0, 300);
	stats_hist_push(h, 10000, &o, 1);
	/* new generation: small counters, lower than before */
	o = obs("fe", &GEN_B, 7, 3, 0, 10);
	stats_hist_push(h, 15000, &o, 1);
	s = share(h, "fe");
	ck_assert_uint_eq(s.n[STATS_CTR_XFF], 207);
	ck_assert_uint_eq(s.n[STATS_CTR_PROXY], 103);
	ck_assert_uint_eq(s.n[STATS_CTR_CONNS], 310);
	/* new generation whose counters already exceed the old ones: it still
	 * counts from zero (the generation tells, not the values) */
	o = obs("fe", &GEN_A, 500, 0, 0, 500);
	stats_hist_push(h, 20000, &o, 1);
	s = share(h, "fe");
	ck_assert_uint_eq(s.n[STATS_CTR_XFF], 707);
	/* a counter lower than before in the same generation: no wrap */
	o = obs("fe", &GEN_A, 4, 0, 0, 4);
	stats_hist_push(h, 25000, &o, 1);
	s = share(h, "fe");
	ck_assert_uint_eq(s.n[STATS_CTR_XFF], 711);
	ck_assert_uint_eq(s.n[STATS_CTR_CONNS], 814);
	stats_hist_free(h);
}
END_TEST

/* Frontends that a reload adds or removes. */
START_TEST(frontends_come_and_go)
{
	struct stats_hist *h = stats_hist_new(0);
	struct stats_share s;
	struct stats_obs two[2];

	for (int i = 1; i <= 13; i++) {
		two[0] = obs("old", &GEN_A, 0, i, 0, i);
		stats_hist_push(h, 5000ull * i, two, 1);
	}
	/* a reload adds "new" (zero before it existed) and keeps "old" */
	two[0] = obs("old", &GEN_B, 0, 1, 0, 1);
	two[1] = obs("new", &GEN_B, 0, 0, 4, 4);
	stats_hist_push(h, 70000, two, 2);
	s = share(h, "new");
	ck_assert_uint_eq(s.window_ms, 60000);
	ck_assert_uint_eq(s.n[STATS_CTR_PLAIN], 4);
	ck_assert_uint_eq(s.pct[2], 100);
	s = share(h, "old");
	ck_assert_uint_eq(s.n[STATS_CTR_PROXY], 12); /* 11 from the old one, 1 new */
	/* the next reload drops "old" */
	stats_hist_push(h, 75000, &two[1], 1);
	ck_assert_int_eq(stats_hist_share(h, "old", &s), -1);
	share(h, "new");
	/* a name twice in one sample: the first one counts */
	two[0] = obs("new", &GEN_B, 0, 0, 10, 10);
	two[1] = obs("new", &GEN_B, 0, 0, 999, 999);
	stats_hist_push(h, 80000, two, 2);
	s = share(h, "new");
	ck_assert_uint_eq(s.n[STATS_CTR_PLAIN], 10);
	/* no frontend at all */
	stats_hist_push(h, 85000, NULL, 0);
	ck_assert_int_eq(stats_hist_share(h, "new", &s), -1);
	stats_hist_free(h);
}
END_TEST

START_TEST(idle_and_clock)
{
	struct stats_hist *h = stats_hist_new(10000);
	struct stats_share s;
	struct stats_obs o = obs("fe", &GEN_A, 0, 0, 0, 0);

	stats_hist_push(h, 15000, &o, 1);
	s = share(h, "fe");
	ck_assert_uint_eq(s.paths, 0);
	ck_assert_uint_eq(s.pct[0] + s.pct[1] + s.pct[2], 0);
	ck_assert_uint_eq(s.rate_x100, 0);
	/* a clock that went back: nothing older counts, no division by zero */
	stats_hist_push(h, 12000, &o, 1);
	s = share(h, "fe");
	ck_assert_uint_eq(s.window_ms, 0);
	ck_assert_uint_eq(s.rate_x100, 0);
	stats_hist_free(h);
	stats_hist_free(NULL);
}
END_TEST

START_TEST(percentages)
{
	unsigned p[4];
	unsigned long long a[] = {1, 1, 1}, b[] = {0, 0, 0}, c[] = {0, 5, 0}, d[] = {2, 1},
	                   e[] = {1, 2, 3, 4, 5}, f[] = {34, 66, 0}, g[] = {1, 998, 1};

	stats_pct(a, 3, p);
	ck_assert(p[0] == 34 && p[1] == 33 && p[2] == 33);
	stats_pct(b, 3, p);
	ck_assert(p[0] == 0 && p[1] == 0 && p[2] == 0);
	stats_pct(c, 3, p);
	ck_assert(p[0] == 0 && p[1] == 100 && p[2] == 0);
	stats_pct(d, 2, p);
	ck_assert(p[0] == 67 && p[1] == 33);
	stats_pct(e, 5, p); /* more than four values: the first four */
	ck_assert(p[0] == 10 && p[1] == 20 && p[2] == 30 && p[3] == 40);
	stats_pct(f, 3, p);
	ck_assert(p[0] == 34 && p[1] == 66 && p[2] == 0);
	stats_pct(g, 3, p); /* 0.1 % each side: the sum stays 100 */
	ck_assert_uint_eq(p[0] + p[1] + p[2], 100);
	ck_assert_uint_eq(p[1], 100);
}
END_TEST

static Suite *stats_hist_suite(void)
{
	Suite *s = suite_create("stats_hist");
	TCase *tc = tcase_create("hist");

	tcase_add_test(tc, first_sample);
	tcase_add_test(tc, steady_minute);
	tcase_add_test(tc, late_timers);
	tcase_add_test(tc, reload);
	tcase_add_test(tc, frontends_come_and_go);
	tcase_add_test(tc, idle_and_clock);
	tcase_add_test(tc, percentages);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_hist_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
