/*
 * bench-seed.c: fills a database for make bench (bench.sh), through the
 * db/ layer like vmsched itself: n VM definitions in one import
 * (db_vm_import, so each is checked and audited as add would), then a
 * history of runs and events spread over those VMs and over the past year,
 * in one bulk transaction (db_seed_*). The history is made up but shaped
 * like a real fleet's: mostly clean runs, some crashes with their backoff,
 * stops, and the events that go with them. Deterministic: the same
 * arguments give the same rows.
 *
 * usage: bench-seed [-a after] [-b backoff-ms] [-e events] [-f max-failures]
 *            [-n vms] [-o groups] [-O orders] [-p policy] [-q pending]
 *            [-r runs] [-u up-delay-ms] [-x prefix] DB [--] [CMD ARG...]
 *
 * VMs are named PREFIX-0001... (prefix "bench") and run CMD (default
 * "true"). For the boot figures: -a gives every VM but the first 1 to
 * after (at most as many as precede it) --after dependencies on distinct
 * VMs defined before it, so the graph is a random DAG; -o puts the VMs in
 * that many order groups of consecutive VMs (--order 0, 1, ...); -O gives
 * each a random --order among that many values instead; -u sets
 * --up-delay. For the webhook: -q queues that many events waiting for
 * delivery (status pending, vm.exited of made-up VMs), as if a webhook had
 * been down. Prints what it wrote and how long that took.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "seed.h"

#define DAY_MS		(24 * 3600 * 1000LL)
#define SPAN_MS		(365 * DAY_MS)	/* the history covers a year */

struct seed_opts {
	long		 so_vms;
	long		 so_runs;
	long		 so_events;
	const char	*so_prefix;
	enum restart_policy so_policy;
	long		 so_backoff_ms;		/* -1: the default */
	long		 so_max_failures;	/* -1: the default */
	long		 so_after;	/* max --after edges per VM */
	long		 so_groups;	/* order groups of consecutive VMs */
	long		 so_orders;	/* random orders among so many */
	long		 so_up_delay_ms;	/* -1: the default */
	long		 so_pending;	/* events for the webhook */
};

/* A small deterministic generator (xorshift64*). */
static uint64_t
rnd(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 2685821657736338717ULL;
}

static long
num(const char *s, const char *what)
{
	const char *why;
	long v;

	if (value_int(s, 0, 100000000, &v, &why) == -1)
		errx(64, "%s %s: %s", what, s, why);
	return v;
}

/* Up to so_after --after edges of VM i, to distinct VMs before it. */
static void
depend(struct vm_def *vd, long i, const struct seed_opts *so, uint64_t *rs)
{
	long want, j, dep;
	size_t k;

	want = so->so_after < i ? so->so_after : i;
	if (want == 0)
		return;
	want = 1 + (long)(rnd(rs) % (uint64_t)want);
	for (j = 0; j < want; j++) {
		dep = (long)(rnd(rs) % (uint64_t)i);
		for (k = 0; k < vd[i].vd_after.sv_n; k++)
			if (strcmp(vd[i].vd_after.sv_v[k],
			    vd[dep].vd_name) == 0)
				break;
		if (k < vd[i].vd_after.sv_n)
			continue;	/* drawn twice: one edge fewer */
		if (strv_push(&vd[i].vd_after, vd[dep].vd_name) == -1)
			err(1, "definitions");
	}
}

static void
define(struct db *db, const struct seed_opts *so, char **cmd, int ncmd)
{
	struct vm_def *vd;
	enum db_import_how *how;
	uint64_t rs = 0x2545f4914f6cdd1dULL;
	size_t failed;
	long i;
	int k;

	vd = calloc((size_t)so->so_vms, sizeof(*vd));
	how = calloc((size_t)so->so_vms, sizeof(*how));
	if (vd == NULL || how == NULL)
		err(1, "definitions");
	for (i = 0; i < so->so_vms; i++) {
		vm_def_init(&vd[i]);
		snprintf(vd[i].vd_name, sizeof(vd[i].vd_name), "%s-%04ld",
		    so->so_prefix, i + 1);
		for (k = 0; k < ncmd; k++)
			if (strv_push(&vd[i].vd_argv, cmd[k]) == -1)
				err(1, "definitions");
		if (ncmd == 0 && strv_push(&vd[i].vd_argv, "true") == -1)
			err(1, "definitions");
		vd[i].vd_restart = so->so_policy;
		if (so->so_backoff_ms >= 0)
			vd[i].vd_backoff_initial_ms = so->so_backoff_ms;
		if (so->so_max_failures >= 0)
			vd[i].vd_max_failures = (int)so->so_max_failures;
		if (so->so_up_delay_ms >= 0)
			vd[i].vd_up_delay_ms = so->so_up_delay_ms;
		if (so->so_groups > 0)
			vd[i].vd_order = (int)(i * so->so_groups / so->so_vms);
		else if (so->so_orders > 0)
			vd[i].vd_order = (int)(rnd(&rs) %
			    (uint64_t)so->so_orders);
		depend(vd, i, so, &rs);
	}
	if (db_vm_import(db, vd, (size_t)so->so_vms, 0, (long)getuid(), how,
	    &failed) != DB_OK)
		errx(1, "defining %s: %s", failed < (size_t)so->so_vms ?
		    vd[failed].vd_name : "VMs", db->db_err);
	for (i = 0; i < so->so_vms; i++)
		vm_def_free(&vd[i]);
	free(vd);
	free(how);
}

/* One made-up run of vm starting at t. */
static void
make_run(struct db_seed_row *r, const char *vm, int64_t t, uint64_t *rs)
{
	static const char *rules[] = {
		"on-failure: exit 1 is a failure",
		"on-failure: signal KILL is a failure",
		"stopped requested: not restarted",
		"on-failure: exit 0 is success, not restarted",
	};
	unsigned kind = (unsigned)(rnd(rs) % 10);

	memset(r, 0, sizeof(*r));
	r->rr_vm = vm;
	r->rr_boot_id = "5f0c1a2e-bench";
	r->rr_started_at = t;
	r->rr_ended_at = t + 1000 + (int64_t)(rnd(rs) % (6 * 3600 * 1000ULL));
	r->rr_pid = 300 + (long)(rnd(rs) % 4000000);
	r->rr_code = -1;
	r->rr_delay_ms = -1;
	if (kind < 2) {		/* a failure, restarted after a backoff */
		r->rr_code = 1;
		r->rr_reason = "exited";
		r->rr_rule = rules[0];
		r->rr_failures = 1 + (int)(rnd(rs) % 5);
		r->rr_delay_ms = 1000LL << (r->rr_failures - 1);
	} else if (kind < 3) {	/* a crash */
		r->rr_signal = 9;
		r->rr_reason = "crashed";
		r->rr_rule = rules[1];
		r->rr_failures = 1;
		r->rr_delay_ms = 1000;
	} else if (kind < 7) {	/* stopped by the operator */
		r->rr_code = 0;
		r->rr_reason = "stopped";
		r->rr_rule = rules[2];
	} else {		/* a clean exit */
		r->rr_code = 0;
		r->rr_reason = "exited";
		r->rr_rule = rules[3];
	}
}

static void
history(struct db *db, const struct seed_opts *so)
{
	static const char *events[] = {
		"vm.started", "vm.up", "vm.exited", "vm.restart_scheduled",
		"vm.stopped",
	};
	struct db_seed sd;
	struct db_seed_row r;
	char name[VM_NAME_MAX + 1], detail[64];
	uint64_t rs = 0x9e3779b97f4a7c15ULL;
	int64_t start = now_ms() - 3600 * 1000 - SPAN_MS, t;
	long total = so->so_runs + so->so_events, i, runs = 0, left;

	if (total == 0)
		return;
	if (so->so_vms == 0)
		errx(64, "history needs VMs (-n)");
	if (db_seed_begin(db, &sd) != DB_OK)
		errx(1, "seeding: %s", db->db_err);
	/* Time order, as a daemon writes them; each row goes to one VM
	 * picked at random, and is a run with the odds of the runs still
	 * to write against the events, so both counts come out exact. */
	for (i = 0; i < total; i++) {
		t = start + (int64_t)((double)i / (double)total *
		    (double)SPAN_MS);
		snprintf(name, sizeof(name), "%s-%04ld", so->so_prefix,
		    1 + (long)(rnd(&rs) % (uint64_t)so->so_vms));
		left = (so->so_runs - runs) + (so->so_events - (i - runs));
		if (rnd(&rs) % (uint64_t)left < (uint64_t)(so->so_runs - runs)) {
			make_run(&r, name, t, &rs);
			if (db_seed_run(&sd, &r) != DB_OK)
				goto fail;
			runs++;
			continue;
		}
		snprintf(detail, sizeof(detail), "{\"pid\": %ld}",
		    300 + (long)(rnd(&rs) % 4000000));
		if (db_seed_event(&sd, t, events[rnd(&rs) % 5], name, detail) !=
		    DB_OK)
			goto fail;
	}
	if (db_seed_end(&sd, 1) == DB_OK)
		return;
	errx(1, "seeding: %s", db->db_err);
fail:
	db_seed_end(&sd, 0);
	errx(1, "%s", db->db_err);
}

/* so_pending events waiting for the webhook, oldest first. */
static void
outbox(struct db *db, const struct seed_opts *so)
{
	struct db_seed sd;
	char name[VM_NAME_MAX + 1], detail[96];
	int64_t start = now_ms() - so->so_pending;
	long i;

	if (so->so_pending == 0)
		return;
	if (db_seed_begin(db, &sd) != DB_OK)
		errx(1, "seeding: %s", db->db_err);
	for (i = 0; i < so->so_pending; i++) {
		snprintf(name, sizeof(name), "%s-%04ld", so->so_prefix,
		    1 + i % 100);
		snprintf(detail, sizeof(detail), "{\"pid\": %ld, "
		    "\"exit_code\": 1, \"reason\": \"exited\"}", 1000 + i);
		if (db_seed_pending(&sd, start + i, "vm.exited", name,
		    detail) != DB_OK) {
			db_seed_end(&sd, 0);
			errx(1, "%s", db->db_err);
		}
	}
	if (db_seed_end(&sd, 1) != DB_OK)
		errx(1, "seeding: %s", db->db_err);
}

int
main(int argc, char **argv)
{
	struct seed_opts so = { 0, 0, 0, "bench", RESTART_ON_FAILURE, -1, -1,
	    0, 0, 0, -1, 0 };
	struct db db;
	const char *why;
	int64_t t0;
	int ch;

	while ((ch = getopt(argc, argv, "+a:b:e:f:n:o:O:p:q:r:u:x:")) != -1) {
		switch (ch) {
		case 'a':
			so.so_after = num(optarg, "-a");
			break;
		case 'b':
			so.so_backoff_ms = num(optarg, "-b");
			break;
		case 'e':
			so.so_events = num(optarg, "-e");
			break;
		case 'f':
			so.so_max_failures = num(optarg, "-f");
			break;
		case 'n':
			so.so_vms = num(optarg, "-n");
			if (so.so_vms > 99999)
				errx(64, "-n %s: at most 99999", optarg);
			break;
		case 'o':
			so.so_groups = num(optarg, "-o");
			break;
		case 'O':
			so.so_orders = num(optarg, "-O");
			break;
		case 'p':
			if (value_restart(optarg, &so.so_policy, &why) == -1)
				errx(64, "-p %s: %s", optarg, why);
			break;
		case 'q':
			so.so_pending = num(optarg, "-q");
			break;
		case 'r':
			so.so_runs = num(optarg, "-r");
			break;
		case 'u':
			so.so_up_delay_ms = num(optarg, "-u");
			break;
		case 'x':
			if (value_name(optarg, &why) == -1 ||
			    strlen(optarg) > VM_NAME_MAX - 6)
				errx(64, "-x %s: not a name prefix", optarg);
			so.so_prefix = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench-seed [-a after] "
			    "[-b backoff-ms] [-e events] [-f max-failures] "
			    "[-n vms] [-o groups] [-O orders] [-p policy] "
			    "[-q pending] [-r runs] [-u up-delay-ms] "
			    "[-x prefix] DB [--] [CMD ARG...]\n");
			return 64;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		errx(64, "no database given");
	if (argc > 1 && strcmp(argv[1], "--") == 0) {
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	t0 = mono_ms();
	if (db_open(&db, argv[0], -1) != DB_OK)
		errx(1, "%s", db.db_err);
	if (so.so_vms > 0)
		define(&db, &so, argv + 1, argc - 1);
	history(&db, &so);
	outbox(&db, &so);
	db_close(&db);
	printf("seeded %s: %ld VMs, %ld runs, %ld events, %ld pending in "
	    "%.1f s\n", argv[0], so.so_vms, so.so_runs, so.so_events,
	    so.so_pending,
	    (double)(mono_ms() - t0) / 1000.0);
	return ferror(stdout) || fflush(stdout) == EOF ? 1 : 0;
}
