/*
 * check_policy.c: the supervisor's decisions (sched/policy.c) with a fake
 * clock: the backoff schedule and its jitter bounds, the restart rule of
 * each policy, success codes, the crash-loop breaker, the reset of the
 * failure count by a long enough run, requested ends that never restart,
 * the minimum respawn gap, and the fleet-wide restart rate limit.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

static struct vm_def vd;

static void
setup(void)
{
	vm_def_init(&vd);
	vd.vd_backoff_initial_ms = 1000;
	vd.vd_backoff_factor = 2;
	vd.vd_backoff_max_ms = 300000;
	vd.vd_backoff_reset_ms = 600000;
	vd.vd_max_failures = 10;
}

static void
teardown(void)
{
	vm_def_free(&vd);
}

static struct run_end
ended(enum run_reason reason, int code, int sig, int64_t ran_ms)
{
	struct run_end re;

	memset(&re, 0, sizeof(re));
	re.re_reason = reason;
	re.re_code = code;
	re.re_signal = sig;
	re.re_ran_ms = ran_ms;
	re.re_up_ms = ran_ms;
	return re;
}

START_TEST(backoff_schedule)
{
	static const int64_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000,
	    64000, 128000, 256000, 300000, 300000 };
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_int_eq(policy_backoff(&vd, (int)i + 1, 0), want[i]);
	/* n below 1 is the first failure */
	ck_assert_int_eq(policy_backoff(&vd, 0, 0), 1000);
}
END_TEST

START_TEST(backoff_jitter_bounds)
{
	double j;
	int n;
	int64_t d, base;

	for (n = 1; n <= 12; n++) {
		base = policy_backoff(&vd, n, 0);
		for (j = -1.0; j <= 1.0; j += 0.125) {
			d = policy_backoff(&vd, n, j);
			ck_assert_int_ge(d, base * 9 / 10);
			ck_assert_int_le(d, base * 11 / 10 + 1);
		}
		/* out-of-range jitter is clamped */
		ck_assert_int_le(policy_backoff(&vd, n, 50), base * 11 / 10 + 1);
		ck_assert_int_ge(policy_backoff(&vd, n, -50), base * 9 / 10);
	}
}
END_TEST

START_TEST(backoff_other_factor)
{
	vd.vd_backoff_initial_ms = 250;
	vd.vd_backoff_factor = 1.5;
	vd.vd_backoff_max_ms = 1000;
	ck_assert_int_eq(policy_backoff(&vd, 1, 0), 250);
	ck_assert_int_eq(policy_backoff(&vd, 2, 0), 375);
	ck_assert_int_eq(policy_backoff(&vd, 3, 0), 563);
	ck_assert_int_eq(policy_backoff(&vd, 4, 0), 844);
	ck_assert_int_eq(policy_backoff(&vd, 5, 0), 1000);
}
END_TEST

START_TEST(on_failure_policy)
{
	struct run_end re;
	struct decision d;

	vd.vd_restart = RESTART_ON_FAILURE;
	re = ended(RUN_EXITED, 0, 0, 5000);
	policy_decide(&vd, 3, &re, 0, &d);
	ck_assert_int_eq(d.d_restart, 0);
	ck_assert_int_eq(d.d_delay_ms, -1);
	ck_assert_int_eq(d.d_failures, 0);
	ck_assert_ptr_nonnull(strstr(d.d_rule, "exit 0 is success"));

	re = ended(RUN_EXITED, 1, 0, 5000);
	policy_decide(&vd, 0, &re, 0, &d);
	ck_assert_int_eq(d.d_restart, 1);
	ck_assert_int_eq(d.d_delay_ms, 1000);
	ck_assert_int_eq(d.d_failures, 1);
	ck_assert_ptr_nonnull(strstr(d.d_rule, "exit 1 is a failure"));

	re = ended(RUN_CRASHED, -1, SIGSEGV, 5000);
	policy_decide(&vd, 2, &re, 0, &d);
	ck_assert_int_eq(d.d_restart, 1);
	ck_assert_int_eq(d.d_delay_ms, 4000);
	ck_assert_int_eq(d.d_failures, 3);
	ck_assert_ptr_nonnull(strstr(d.d_rule, "signal SEGV"));
}
END_TEST

START_TEST(success_codes)
{
	struct run_end re;
	struct decision d;
	const char *why;

	ck_assert_int_eq(value_codes("0,143", vd.vd_success, &why), 0);
	re = ended(RUN_EXITED, 143, 0, 10);
	policy_decide(&vd, 4, &re, 0, &d);
	ck_assert_int_eq(d.d_restart, 0);
	ck_assert_int_eq(d.d_failures, 0);
	re = ended(RUN_EXITED, 0, 0, 10);
	policy_decide(&vd, 4, &re, 0, &d);
	ck_assert_int_eq(d.d_restart, 0);
	re = ended(RUN_EXITED, 1, 0, 10);
	policy_decide(&vd, 4, &re, 0, &d);
	ck_assert_int_eq(d.d_restart, 1);
	ck_assert_int_eq(d.d_failures, 5);
	/* a signal is never a success, whatever the codes */
	re = ended(RUN_CRASHED, -1, SIGTERM, 10);
	policy_decide(&vd, 0, &re, 0, &d);
	ck_assert_int_eq(d.d_restart, 1);
}
END_TEST

START_TEST(always_policy_min_gap)
{
	struct run_end re;
	struct decision d;

	vd.vd_restart = RESTART_ALWAYS;
	/* A clean exit restarts, no sooner than backoff-initial after the
	 * last start, and is no failure. */
	re = ended(RUN_EXITED, 0, 0, 300);
	policy_decide(&vd, 0, &re, 0, &d);
	ck_assert_int_eq(d.d_restart, 1);
	ck_assert_int_eq(d.d_delay_ms, 700);
	ck_assert_int_eq(d.d_failures, 0);
	re = ended(RUN_EXITED, 0, 0, 5000);
	policy_decide(&vd, 0, &re, 0, &d);
	ck_assert_int_eq(d.d_delay_ms, 0);
	/* a failure under always backs off */
	re = ended(RUN_EXITED, 2, 0, 5000);
	policy_decide(&vd, 1, &re, 0, &d);
	ck_assert_int_eq(d.d_restart, 1);
	ck_assert_int_eq(d.d_delay_ms, 2000);
	ck_assert_ptr_nonnull(strstr(d.d_rule, "always"));
}
END_TEST

START_TEST(never_policy)
{
	struct run_end re;
	struct decision d;

	vd.vd_restart = RESTART_NEVER;
	re = ended(RUN_EXITED, 1, 0, 10);
	policy_decide(&vd, 0, &re, 0, &d);
	ck_assert_int_eq(d.d_restart, 0);
	ck_assert_int_eq(d.d_breaker, 0);
	ck_assert_ptr_nonnull(strstr(d.d_rule, "once per boot"));
}
END_TEST

START_TEST(breaker_trips_at_max)
{
	struct run_end re = ended(RUN_EXITED, 1, 0, 10);
	struct decision d;
	int n = 0;

	vd.vd_max_failures = 4;
	for (;;) {
		policy_decide(&vd, n, &re, 0, &d);
		n = d.d_failures;
		if (!d.d_restart)
			break;
		ck_assert_int_lt(n, 4);
	}
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(d.d_breaker, 1);
	ck_assert_int_eq(d.d_delay_ms, -1);
	ck_assert_ptr_nonnull(strstr(d.d_rule, "4 failures in a row"));

	/* max-failures 0: never gives up */
	vd.vd_max_failures = 0;
	policy_decide(&vd, 1000, &re, 0, &d);
	ck_assert_int_eq(d.d_restart, 1);
	ck_assert_int_eq(d.d_breaker, 0);
}
END_TEST

START_TEST(exec_failed_is_failure)
{
	struct run_end re = ended(RUN_EXEC_FAILED, -1, 0, 0);
	struct decision d;

	policy_decide(&vd, 0, &re, 0, &d);
	ck_assert_int_eq(d.d_restart, 1);
	ck_assert_int_eq(d.d_failures, 1);
	ck_assert_ptr_nonnull(strstr(d.d_rule, "exec-failed"));
	re = ended(RUN_ADOPTED, -1, 0, 1000);
	policy_decide(&vd, 0, &re, 0, &d);
	ck_assert_int_eq(d.d_failures, 1);
}
END_TEST

START_TEST(long_run_resets_count)
{
	struct run_end re = ended(RUN_EXITED, 1, 0, 0);
	struct decision d;

	/* Up for backoff-reset: the next failure is the first again. */
	re.re_up_ms = 600000;
	policy_decide(&vd, 7, &re, 0, &d);
	ck_assert_int_eq(d.d_failures, 1);
	ck_assert_int_eq(d.d_delay_ms, 1000);
	/* Running long but never up does not count. */
	re.re_ran_ms = 900000;
	re.re_up_ms = 599999;
	policy_decide(&vd, 7, &re, 0, &d);
	ck_assert_int_eq(d.d_failures, 8);
}
END_TEST

START_TEST(requested_never_restarts)
{
	static const enum run_reason reasons[] = { RUN_STOPPED,
	    RUN_SUSPENDED, RUN_KILLED };
	struct run_end re;
	struct decision d;
	size_t i;

	vd.vd_restart = RESTART_ALWAYS;
	for (i = 0; i < 3; i++) {
		re = ended(reasons[i], -1, SIGKILL, 10);
		re.re_requested = 1;
		policy_decide(&vd, 2, &re, 0, &d);
		ck_assert_int_eq(d.d_restart, 0);
		ck_assert_int_eq(d.d_failures, 2);
		ck_assert_int_eq(d.d_breaker, 0);
		ck_assert_ptr_nonnull(strstr(d.d_rule, "requested"));
	}
}
END_TEST

START_TEST(ratelimit_bucket)
{
	struct ratelimit rl;
	int64_t t = 1000000;
	int i;

	ratelimit_init(&rl, 10, 5, t);		/* 10/s, burst 5 */
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(ratelimit_take(&rl, t), 0);
	ck_assert_int_eq(ratelimit_take(&rl, t), 100);
	ck_assert_int_eq(ratelimit_take(&rl, t + 50), 50);
	ck_assert_int_eq(ratelimit_take(&rl, t + 100), 0);
	ck_assert_int_gt(ratelimit_take(&rl, t + 100), 0);
	/* a long quiet spell refills only up to the burst */
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(ratelimit_take(&rl, t + 100000), 0);
	ck_assert_int_gt(ratelimit_take(&rl, t + 100000), 0);
	/* rate 0: unlimited */
	ratelimit_init(&rl, 0, 1, t);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(ratelimit_take(&rl, t), 0);
}
END_TEST

START_TEST(reason_names)
{
	ck_assert_str_eq(run_reason_name(RUN_KILLED), "killed-after-timeout");
	ck_assert_str_eq(run_reason_name(RUN_EXEC_FAILED), "exec-failed");
	ck_assert_str_eq(run_reason_name(RUN_ADOPTED), "adopted-unknown");
	ck_assert_str_eq(run_reason_name(RUN_GATE_TIMEOUT), "gate-timeout");
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("decide");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, backoff_schedule);
	tcase_add_test(tc, backoff_jitter_bounds);
	tcase_add_test(tc, backoff_other_factor);
	tcase_add_test(tc, on_failure_policy);
	tcase_add_test(tc, success_codes);
	tcase_add_test(tc, always_policy_min_gap);
	tcase_add_test(tc, never_policy);
	tcase_add_test(tc, breaker_trips_at_max);
	tcase_add_test(tc, exec_failed_is_failure);
	tcase_add_test(tc, long_run_resets_count);
	tcase_add_test(tc, requested_never_restarts);
	tcase_add_test(tc, ratelimit_bucket);
	tcase_add_test(tc, reason_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(policy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
