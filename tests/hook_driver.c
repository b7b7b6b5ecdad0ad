/*
 * hook_driver.c: a test program, not part of vmsched. It runs the webhook
 * sender (sched/hook.c) on a database the way the daemon will, so
 * tests/test_webhook.py can check deliveries against a real receiver
 * before and apart from the daemon.
 *
 *   hook_driver DB add EVENT [VM [DETAIL]]  record one event (db_event_add;
 *                                          VM "" is none)
 *   hook_driver DB drain DEADLINE_MS       start the sender, wait until
 *                                          nothing is pending, stop
 *   hook_driver DB burst N DEADLINE_MS     start the sender, record N
 *                                          vm.exited events one by one
 *                                          with hook_wake after each, drain
 *
 * drain and burst print "drained" or "not drained", then "stop_ms N" (how
 * long hook_stop took); they exit 0 when drained, 1 at the deadline, 2 on
 * an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched.h"
#include "db.h"

struct add {
	const char	*a_event;
	const char	*a_vm;
	const char	*a_detail;
};

static int
add_tx(struct db *db, void *arg)
{
	struct add *a = arg;

	return db_event_add(db, a->a_event, a->a_vm, -1, a->a_detail);
}

static int
add(struct db *db, const char *event, const char *vm, const char *detail)
{
	struct add a = { event, vm, detail };

	if (db_tx(db, add_tx, &a) != DB_OK) {
		fprintf(stderr, "hook_driver: add: %s\n", db->db_err);
		return -1;
	}
	return 0;
}

static void
nap(void)
{
	struct timespec ts = { 0, 20 * 1000000 };

	nanosleep(&ts, NULL);
}

/* Wait until nothing is pending: 0, 1 at the deadline, -1 on error. */
static int
drain(struct db *db, int64_t deadline)
{
	int64_t n;

	for (;;) {
		if (db_outbox_count(db, "pending", &n) != DB_OK) {
			fprintf(stderr, "hook_driver: %s\n", db->db_err);
			return -1;
		}
		if (n == 0)
			return 0;
		if (mono_ms() >= deadline)
			return 1;
		nap();
	}
}

int
main(int argc, char *argv[])
{
	struct hook *h;
	struct db db;
	char err[1024], detail[128];
	int64_t deadline, t;
	long i, n = 0, ms;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: hook_driver DB add|drain|burst ...\n");
		return 2;
	}
	if (db_open(&db, argv[1], -1) != DB_OK) {
		fprintf(stderr, "hook_driver: %s\n", db.db_err);
		return 2;
	}
	if (strcmp(argv[2], "add") == 0 && argc >= 4 && argc <= 6) {
		rc = add(&db, argv[3], argc > 4 && argv[4][0] ? argv[4] : NULL,
		    argc > 5 ? argv[5] : NULL);
		db_close(&db);
		return rc == 0 ? 0 : 2;
	}
	if (strcmp(argv[2], "drain") == 0 && argc == 4)
		ms = atol(argv[3]);
	else if (strcmp(argv[2], "burst") == 0 && argc == 5) {
		n = atol(argv[3]);
		ms = atol(argv[4]);
	} else {
		fprintf(stderr, "hook_driver: bad arguments\n");
		return 2;
	}
	deadline = mono_ms() + ms;
	if ((h = hook_start(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "hook_driver: %s\n", err);
		return 2;
	}
	for (i = 0, rc = 0; i < n && rc == 0; i++) {
		snprintf(detail, sizeof(detail), "{\"pid\": %ld, "
		    "\"exit_code\": 1, \"reason\": \"exited\"}", 1000 + i);
		if ((rc = add(&db, "vm.exited", "burst", detail)) == 0)
			hook_wake(h);
	}
	if (rc == 0)
		rc = drain(&db, deadline);
	t = mono_ms();
	hook_stop(h);
	printf("%s\nstop_ms %lld\n", rc == 0 ? "drained" : "not drained",
	    (long long)(mono_ms() - t));
	db_close(&db);
	return rc == 0 ? 0 : rc == 1 ? 1 : 2;
}
