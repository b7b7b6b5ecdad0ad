/*
 * check_waves.c: the boot planner (plan_waves in sched/plan.c). Order
 * groups come one after another, dependencies a wave apart, ties share a
 * wave, a VM that waits for a later group joins it, cycles are refused;
 * and on random graphs every promise holds for every edge and pair.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "sched.h"

START_TEST(empty)
{
	ck_assert_int_eq(plan_waves(0, NULL, NULL, 0, NULL), 0);
}
END_TEST

START_TEST(ties_share_a_wave)
{
	int order[] = { 100, 100, 100 }, wave[3];

	ck_assert_int_eq(plan_waves(3, order, NULL, 0, wave), 1);
	ck_assert_int_eq(wave[0], 1);
	ck_assert_int_eq(wave[1], 1);
	ck_assert_int_eq(wave[2], 1);
}
END_TEST

START_TEST(order_groups_in_sequence)
{
	int order[] = { 30, 10, 20, 10 }, wave[4];

	ck_assert_int_eq(plan_waves(4, order, NULL, 0, wave), 3);
	ck_assert_int_eq(wave[1], 1);
	ck_assert_int_eq(wave[3], 1);
	ck_assert_int_eq(wave[2], 2);
	ck_assert_int_eq(wave[0], 3);
}
END_TEST

START_TEST(dependencies_inside_a_group)
{
	/* 0 <- 1 <- 2, all order 5; 3 order 5 alone; 4 order 9 */
	int order[] = { 5, 5, 5, 5, 9 }, wave[5];
	struct plan_edge e[] = { { 1, 0 }, { 2, 1 } };

	ck_assert_int_eq(plan_waves(5, order, e, 2, wave), 4);
	ck_assert_int_eq(wave[0], 1);
	ck_assert_int_eq(wave[3], 1);
	ck_assert_int_eq(wave[1], 2);
	ck_assert_int_eq(wave[2], 3);
	ck_assert_int_eq(wave[4], 4);
}
END_TEST

START_TEST(waiting_for_a_later_group_joins_it)
{
	/* 0 (order 1) starts after 1 (order 50); 2 has order 20 */
	int order[] = { 1, 50, 20 }, wave[3];
	struct plan_edge e[] = { { 0, 1 } };

	ck_assert_int_eq(plan_waves(3, order, e, 1, wave), 3);
	ck_assert_int_eq(wave[2], 1);
	ck_assert_int_eq(wave[1], 2);
	ck_assert_int_eq(wave[0], 3);
}
END_TEST

START_TEST(cycle_refused)
{
	int order[] = { 1, 2, 3 }, wave[3];
	struct plan_edge e[] = { { 0, 1 }, { 1, 2 }, { 2, 0 } };
	struct plan_edge self[] = { { 1, 1 } };

	errno = 0;
	ck_assert_int_eq(plan_waves(3, order, e, 3, wave), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(plan_waves(3, order, self, 1, wave), -1);
}
END_TEST

/* Random DAGs: edges only from higher to lower index, so no cycle. */
START_TEST(random_dags_keep_every_promise)
{
	enum { N = 300, E = 900 };
	static int order[N], wave[N], eff[N];
	static struct plan_edge e[E];
	int round, i, j, n, waves, changed;

	srandom(1234);
	for (round = 0; round < 50; round++) {
		for (i = 0; i < N; i++)
			order[i] = (int)(random() % 6) * 10;
		for (n = 0; n < E; n++) {
			i = 1 + (int)(random() % (N - 1));
			e[n].pe_from = (size_t)i;
			e[n].pe_to = (size_t)(random() % i);
		}
		waves = plan_waves(N, order, e, E, wave);
		ck_assert_int_gt(waves, 0);
		for (i = 0; i < N; i++) {
			ck_assert_int_ge(wave[i], 1);
			ck_assert_int_le(wave[i], waves);
		}
		/* a VM comes after everything it waits for */
		for (n = 0; n < E; n++)
			ck_assert_int_gt(wave[e[n].pe_from], wave[e[n].pe_to]);
		/* effective order: its own, raised by what it waits for */
		for (i = 0; i < N; i++)
			eff[i] = order[i];
		do {
			changed = 0;
			for (n = 0; n < E; n++)
				if (eff[e[n].pe_to] > eff[e[n].pe_from]) {
					eff[e[n].pe_from] = eff[e[n].pe_to];
					changed = 1;
				}
		} while (changed);
		/* a lower group is wholly before a higher one */
		for (i = 0; i < N; i++)
			for (j = 0; j < N; j++)
				if (eff[i] < eff[j])
					ck_assert_int_lt(wave[i], wave[j]);
		/* waves are dense: each number up to waves is used */
		for (n = 1; n <= waves; n++) {
			for (i = 0; i < N && wave[i] != n; i++)
				;
			ck_assert_int_lt(i, N);
		}
	}
}
END_TEST

START_TEST(random_back_edge_is_a_cycle)
{
	enum { N = 50 };
	int order[N], wave[N], round, i, n;
	struct plan_edge e[N + 1];

	srandom(99);
	for (round = 0; round < 100; round++) {
		/* a chain 0 <- 1 <- ... <- N-1, then one edge back */
		for (i = 0; i < N; i++)
			order[i] = (int)(random() % 3);
		for (n = 0; n < N - 1; n++) {
			e[n].pe_from = (size_t)n + 1;
			e[n].pe_to = (size_t)n;
		}
		i = (int)(random() % (N - 1));
		e[N - 1].pe_from = (size_t)i;
		e[N - 1].pe_to = (size_t)(i + 1 + random() % (N - 1 - i));
		ck_assert_int_eq(plan_waves(N, order, e, N, wave), -1);
	}
}
END_TEST

static Suite *
waves_suite(void)
{
	Suite *s = suite_create("waves");
	TCase *tc = tcase_create("plan");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, empty);
	tcase_add_test(tc, ties_share_a_wave);
	tcase_add_test(tc, order_groups_in_sequence);
	tcase_add_test(tc, dependencies_inside_a_group);
	tcase_add_test(tc, waiting_for_a_later_group_joins_it);
	tcase_add_test(tc, cycle_refused);
	tcase_add_test(tc, random_dags_keep_every_promise);
	tcase_add_test(tc, random_back_edge_is_a_cycle);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(waves_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
