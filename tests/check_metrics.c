/*
 * check_metrics.c: the pure part of sched/metrics.c. metrics_format's text
 * for a fleet given as plain values (its families, the one-hot state, the
 * escaping of label values, times as seconds) and metrics_due's timing of
 * the daemon's rewrites. The parse by a real Prometheus parser and the
 * file on disk are tests/test_metrics.py's.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"
#include "db.h"

/* metrics_format's text for m, malloc'ed. */
static char *
format(const struct db_metrics *m, int up)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	fp = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(fp);
	metrics_format(m, up, fp);
	ck_assert_int_eq(fclose(fp), 0);
	return text;
}

static size_t
count(const char *text, const char *what)
{
	size_t n = 0;

	for (; (text = strstr(text, what)) != NULL; text++)
		n++;
	return n;
}

START_TEST(no_vms)
{
	static const char *const families[] = {
		"vmsched_daemon_up gauge", "vmsched_daemon_start_time_seconds "
		"gauge", "vmsched_events_pending gauge",
		"vmsched_events_failed_total counter", "vmsched_vm_state gauge",
		"vmsched_vm_up gauge", "vmsched_vm_restarts_total counter",
		"vmsched_vm_failures gauge",
		"vmsched_vm_start_time_seconds gauge",
	};
	struct db_metrics m;
	char *text, line[128];
	size_t i;

	memset(&m, 0, sizeof(m));
	m.dm_events_pending = 3;
	m.dm_events_failed = 7;
	text = format(&m, 0);
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		snprintf(line, sizeof(line), "# TYPE %s\n", families[i]);
		ck_assert_msg(count(text, line) == 1, "no %s", line);
		snprintf(line, sizeof(line), "# HELP %.*s ", (int)strcspn(
		    families[i], " "), families[i]);
		ck_assert_msg(count(text, line) == 1, "no %s", line);
	}
	ck_assert_ptr_nonnull(strstr(text, "\nvmsched_daemon_up 0\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "\nvmsched_daemon_start_time_seconds 0\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nvmsched_events_pending 3\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "\nvmsched_events_failed_total 7\n"));
	ck_assert_int_eq(count(text, "{"), 0);
	free(text);
}
END_TEST

START_TEST(fleet)
{
	struct db_metrics_vm vms[2];
	struct db_metrics m;
	char *text;
	size_t nstates;

	memset(&m, 0, sizeof(m));
	memset(vms, 0, sizeof(vms));
	vms[0].mv_name = (char *)(uintptr_t)"web";
	snprintf(vms[0].mv_state, sizeof(vms[0].mv_state), "up");
	vms[0].mv_restarts = 4;
	vms[0].mv_failures = 1;
	vms[0].mv_started_at = 1764583200123LL;
	vms[1].mv_name = (char *)(uintptr_t)"db";
	snprintf(vms[1].mv_state, sizeof(vms[1].mv_state), "backoff");
	m.dm_vms = vms;
	m.dm_nvms = 2;
	m.dm_daemon_started_at = 1764583000005LL;
	text = format(&m, 1);
	for (nstates = 0; metrics_states[nstates] != NULL; nstates++)
		;
	ck_assert_int_eq(nstates, 12);
	ck_assert_int_eq(count(text, "vmsched_vm_state{vm=\"web\","), nstates);
	ck_assert_int_eq(count(text, "vmsched_vm_state{vm=\"db\","), nstates);
	ck_assert_ptr_nonnull(strstr(text,
	    "vmsched_vm_state{vm=\"web\",state=\"up\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "vmsched_vm_state{vm=\"db\",state=\"backoff\"} 1\n"));
	/* the two states, web up, web's failure */
	ck_assert_int_eq(count(text, "\"} 1\n"), 4);
	ck_assert_ptr_nonnull(strstr(text, "vmsched_vm_up{vm=\"web\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "vmsched_vm_up{vm=\"db\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "vmsched_vm_restarts_total{vm=\"web\"} 4\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "vmsched_vm_failures{vm=\"web\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "vmsched_vm_start_time_seconds{vm=\"web\"} 1764583200.123\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "vmsched_vm_start_time_seconds{vm=\"db\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "\nvmsched_daemon_start_time_seconds 1764583000.005\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nvmsched_daemon_up 1\n"));
	free(text);
}
END_TEST

/* Names are validated, but what reaches the text is escaped anyway. */
START_TEST(label_escaping)
{
	struct db_metrics_vm vm;
	struct db_metrics m;
	char *text;

	memset(&m, 0, sizeof(m));
	memset(&vm, 0, sizeof(vm));
	vm.mv_name = (char *)(uintptr_t)"a\"b\\c\nd";
	snprintf(vm.mv_state, sizeof(vm.mv_state), "up");
	m.dm_vms = &vm;
	m.dm_nvms = 1;
	text = format(&m, 1);
	ck_assert_ptr_nonnull(strstr(text,
	    "vmsched_vm_up{vm=\"a\\\"b\\\\c\\nd\"} 1\n"));
	ck_assert_ptr_null(strstr(text, "c\nd"));
	free(text);
}
END_TEST

START_TEST(due)
{
	/* never written: now */
	ck_assert_int_eq(metrics_due(0, 5000, 0), 5000);
	ck_assert_int_eq(metrics_due(0, 5000, 1), 5000);
	/* a change: a second after the last write */
	ck_assert_int_eq(metrics_due(5000, 5200, 1), 5000 + METRICS_MIN_MS);
	/* none: the refresh, so the file's age tells the daemon lives */
	ck_assert_int_eq(metrics_due(5000, 5200, 0), 5000 +
	    METRICS_REFRESH_MS);
	ck_assert_int_lt(METRICS_MIN_MS, METRICS_REFRESH_MS);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, no_vms);
	tcase_add_test(tc, fleet);
	tcase_add_test(tc, label_escaping);
	tcase_add_test(tc, due);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
