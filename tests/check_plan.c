/*
 * check_plan.c: the dependency graph (sched/plan.c). plan_find_cycle must
 * find no cycle where there is none, and where there is one report it as a
 * path whose consecutive entries are real edges and whose last entry is its
 * first. Hand-made graphs pin the shapes; seeded random DAGs, with and
 * without one back edge, cover the rest.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

#define E(a, b)	{ (a), (b) }

/* Whether from -> to is one of the ne edges. */
static int
is_edge(const struct plan_edge *e, size_t ne, size_t from, size_t to)
{
	size_t i;

	for (i = 0; i < ne; i++)
		if (e[i].pe_from == from && e[i].pe_to == to)
			return 1;
	return 0;
}

/*
 * Check that cycle[0..len-1] is a real cycle of the graph: at least two
 * entries, closed (last == first), every step an edge, and no node twice
 * on the way round.
 */
static void
assert_cycle(size_t n, const struct plan_edge *e, size_t ne,
    const size_t *cycle, size_t len)
{
	size_t i, j;

	ck_assert_uint_ge(len, 2);
	ck_assert_uint_le(len, n + 1);
	ck_assert_uint_eq(cycle[0], cycle[len - 1]);
	for (i = 0; i < len; i++)
		ck_assert_uint_lt(cycle[i], n);
	for (i = 0; i + 1 < len; i++)
		ck_assert_msg(is_edge(e, ne, cycle[i], cycle[i + 1]),
		    "step %zu: %zu -> %zu is not an edge", i, cycle[i],
		    cycle[i + 1]);
	for (i = 0; i + 1 < len; i++)
		for (j = i + 1; j + 1 < len; j++)
			ck_assert_msg(cycle[i] != cycle[j], "node %zu twice",
			    cycle[i]);
}

/* The cycle as "a -> b -> a", nodes named a, b, c, ... */
static void
cycle_text(const size_t *cycle, size_t len, char *buf, size_t size)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < len && n + 6 < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%c",
		    i ? " -> " : "", (char)('a' + cycle[i]));
}

START_TEST(empty)
{
	size_t cycle[1], len = 99;

	ck_assert_int_eq(plan_find_cycle(0, NULL, 0, cycle, &len), 0);
	ck_assert_int_eq(plan_find_cycle(5, NULL, 0, cycle, &len), 0);
}
END_TEST

START_TEST(no_cycle)
{
	/* A diamond and a chain: d after b and c, both after a; e after d. */
	static const struct plan_edge e[] = {
		E(1, 0), E(2, 0), E(3, 1), E(3, 2), E(4, 3), E(4, 0),
	};
	size_t cycle[6], len = 99;

	ck_assert_int_eq(plan_find_cycle(5, e, 6, cycle, &len), 0);
}
END_TEST

START_TEST(self_loop)
{
	static const struct plan_edge e[] = { E(0, 1), E(2, 2) };
	size_t cycle[4], len = 0;
	char text[64];

	ck_assert_int_eq(plan_find_cycle(3, e, 2, cycle, &len), 1);
	assert_cycle(3, e, 2, cycle, len);
	cycle_text(cycle, len, text, sizeof(text));
	ck_assert_str_eq(text, "c -> c");
}
END_TEST

START_TEST(two_cycle)
{
	static const struct plan_edge e[] = { E(0, 1), E(1, 0) };
	size_t cycle[3], len = 0;
	char text[64];

	ck_assert_int_eq(plan_find_cycle(2, e, 2, cycle, &len), 1);
	assert_cycle(2, e, 2, cycle, len);
	ck_assert_uint_eq(len, 3);
	cycle_text(cycle, len, text, sizeof(text));
	ck_assert_str_eq(text, "a -> b -> a");
}
END_TEST

START_TEST(long_cycle)
{
	/* a -> b -> c -> d -> e -> f -> a, with a tail g -> a. */
	static const struct plan_edge e[] = {
		E(6, 0), E(0, 1), E(1, 2), E(2, 3), E(3, 4), E(4, 5), E(5, 0),
	};
	size_t cycle[8], len = 0;
	char text[128];

	ck_assert_int_eq(plan_find_cycle(7, e, 7, cycle, &len), 1);
	assert_cycle(7, e, 7, cycle, len);
	ck_assert_uint_eq(len, 7);
	cycle_text(cycle, len, text, sizeof(text));
	ck_assert_str_eq(text, "a -> b -> c -> d -> e -> f -> a");
}
END_TEST

/* A cycle that the search reaches only from a later root, after a
 * component without one. */
START_TEST(disconnected)
{
	static const struct plan_edge e[] = {
		E(1, 0), E(2, 1),		/* a <- b <- c: fine */
		E(4, 3),			/* d <- e: fine */
		E(5, 6), E(6, 7), E(7, 5),	/* f -> g -> h -> f */
	};
	size_t cycle[10], len = 0;
	char text[64];

	ck_assert_int_eq(plan_find_cycle(9, e, 6, cycle, &len), 1);
	assert_cycle(9, e, 6, cycle, len);
	ck_assert_uint_eq(len, 4);
	cycle_text(cycle, len, text, sizeof(text));
	ck_assert_str_eq(text, "f -> g -> h -> f");

	/* The same components without the closing edge: no cycle. */
	ck_assert_int_eq(plan_find_cycle(9, e, 5, cycle, &len), 0);
}
END_TEST

/* Parallel edges and a node with many targets. */
START_TEST(duplicate_edges)
{
	static const struct plan_edge e[] = {
		E(0, 1), E(0, 1), E(0, 2), E(0, 3), E(3, 2), E(3, 2),
	};
	size_t cycle[5], len = 0;

	ck_assert_int_eq(plan_find_cycle(4, e, 6, cycle, &len), 0);
}
END_TEST

/* xorshift64*: the same "random" graphs on every run. */
static uint64_t
rnd(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 2685821657736338717ULL;
}

/*
 * A random DAG on n nodes: edges go from a higher rank to a lower one in
 * a random permutation, so there is no cycle. perm[] maps rank to node.
 */
static size_t
random_dag(uint64_t *seed, size_t n, size_t *perm, struct plan_edge *e,
    size_t maxe)
{
	size_t i, j, t, ne = 0, want;

	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n - 1; i > 0; i--) {
		j = (size_t)(rnd(seed) % (i + 1));
		t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	want = (size_t)(rnd(seed) % (maxe + 1));
	while (ne < want) {
		i = (size_t)(rnd(seed) % n);
		j = (size_t)(rnd(seed) % n);
		if (i == j)
			continue;
		if (i < j) {
			t = i;
			i = j;
			j = t;
		}
		e[ne].pe_from = perm[i];
		e[ne].pe_to = perm[j];
		ne++;
	}
	return ne;
}

START_TEST(random_dags)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL + (uint64_t)_i;
	struct plan_edge e[200];
	size_t perm[40], cycle[41], n, ne, len;
	int round;

	for (round = 0; round < 200; round++) {
		n = 2 + (size_t)(rnd(&seed) % 39);
		ne = random_dag(&seed, n, perm, e, 199);
		len = 0;
		ck_assert_msg(plan_find_cycle(n, e, ne, cycle, &len) == 0,
		    "round %d: a DAG of %zu nodes, %zu edges has a cycle",
		    round, n, ne);
	}
}
END_TEST

START_TEST(random_dag_plus_back_edge)
{
	uint64_t seed = 0x2545f4914f6cdd1dULL + (uint64_t)_i;
	struct plan_edge e[201];
	size_t perm[40], cycle[41], reach[40], n, ne, len, a, b, i, k;
	unsigned char seen[40];
	int round, found;

	for (round = 0; round < 200; round++) {
		n = 2 + (size_t)(rnd(&seed) % 39);
		ne = random_dag(&seed, n, perm, e, 199);
		/* Pick a with a path a -> ... -> b (b reachable from a,
		 * b != a) and add b -> a: now there must be a cycle. */
		a = perm[1 + (size_t)(rnd(&seed) % (n - 1))];
		memset(seen, 0, sizeof(seen));
		k = 0;
		reach[k++] = a;
		seen[a] = 1;
		for (i = 0; i < k; i++) {
			size_t j;

			for (j = 0; j < ne; j++)
				if (e[j].pe_from == reach[i] &&
				    !seen[e[j].pe_to]) {
					seen[e[j].pe_to] = 1;
					reach[k++] = e[j].pe_to;
				}
		}
		if (k == 1) {
			/* a reaches nothing: give it an edge first. */
			e[ne].pe_from = a;
			e[ne].pe_to = perm[0];
			ne++;
			b = perm[0];
		} else
			b = reach[1 + (size_t)(rnd(&seed) % (k - 1))];
		e[ne].pe_from = b;
		e[ne].pe_to = a;
		ne++;
		len = 0;
		found = plan_find_cycle(n, e, ne, cycle, &len);
		ck_assert_msg(found == 1, "round %d: no cycle found", round);
		assert_cycle(n, e, ne, cycle, len);
	}
}
END_TEST

/* Every node in one big ring: the whole ring comes back, n + 1 long. */
START_TEST(ring)
{
	struct plan_edge e[40];
	size_t cycle[41], len = 0, i, n = 40;

	for (i = 0; i < n; i++) {
		e[i].pe_from = i;
		e[i].pe_to = (i + 1) % n;
	}
	ck_assert_int_eq(plan_find_cycle(n, e, n, cycle, &len), 1);
	ck_assert_uint_eq(len, n + 1);
	assert_cycle(n, e, n, cycle, len);
}
END_TEST

static Suite *
plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc;

	tc = tcase_create("cycle");
	tcase_add_test(tc, empty);
	tcase_add_test(tc, no_cycle);
	tcase_add_test(tc, self_loop);
	tcase_add_test(tc, two_cycle);
	tcase_add_test(tc, long_cycle);
	tcase_add_test(tc, disconnected);
	tcase_add_test(tc, duplicate_edges);
	tcase_add_test(tc, ring);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_add_loop_test(tc, random_dags, 0, 5);
	tcase_add_loop_test(tc, random_dag_plus_back_edge, 0, 5);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(plan_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
