/*
 * bench-time.c: the measuring half of make bench (tools/bench/bench.sh). Each
 * subcommand times whole processes with the monotonic clock, or reads back
 * through the db/ layer what the daemon recorded, and prints plain numbers
 * on one line for the driver to format:
 *
 *   median N CMD ARG...          run CMD N times (stdout to /dev/null):
 *                                "median min max" wall ms
 *   daemon-up DB N LOG PIDFILE CMD ARG...
 *                                start CMD (vmsched daemon) with output to
 *                                LOG, append its pid to PIDFILE at once (so
 *                                the driver can kill it if interrupted),
 *                                and poll DB until N VMs are up: "pid ms
 *                                first" (first: ms from the start to the
 *                                first run's start, as recorded);
 *                                the daemon is left running (or stopped,
 *                                if no VM came up for 30 s)
 *   restart DB COUNT             COUNT times, SIGKILL an up VM's process
 *                                group and poll until its new pid is
 *                                recorded: "median p90 max done timeouts"
 *                                (ms; "-" when none was seen in 10 s;
 *                                gives up after three such in a row)
 *   count DB FROM TO             runs and events of [FROM, TO) Unix ms:
 *                                "runs open events first last"
 *   unrecorded DB PIDFILE        pids a VM wrote (one a line) that no run
 *                                row has: "spawned runs missing"
 *   inproc DB NAME N             the same work as list, list --json and
 *                                log NAME --limit 50 inside one process, N
 *                                times each: "list list_json log" median ms
 *   plan DB NAME LIMIT           the query plan of vmsched log NAME --limit
 *   proc PID                     "rss_kib cpu_s pss_kib" of a live process
 *                                (cpu_s: every thread's run time, from
 *                                schedstat when the kernel keeps it, else
 *                                utime + stime; pss_kib from smaps_rollup,
 *                                -1 where there is none)
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seed.h"

#define POLL_NS		2000000L	/* daemon-up: poll every 2 ms */
#define RESTART_POLL_NS	100000L		/* restart: every 0.1 ms */
#define STALL_NS	(30 * 1000000000LL)	/* daemon-up: no progress */
#define RESTART_TIMEOUT_NS (10 * 1000000000LL)

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
nap(long ns)
{
	struct timespec ts = { 0, ns };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static long
num(const char *s, long min, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < min)
		errx(64, "%s %s: not a number of at least %ld", what, s, min);
	return v;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of n sorted values, nearest rank. */
static int64_t
quantile(const int64_t *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

static double
ms(int64_t ns)
{
	return (double)ns / 1e6;
}

static void
open_db(struct db *db, const char *path)
{
	if (db_open(db, path, -1) != DB_OK)
		errx(1, "%s", db->db_err);
}

static int
run_median(int argc, char **argv)
{
	int64_t *t, t0;
	long n, i;
	pid_t pid;
	int status, null;

	if (argc < 3)
		errx(64, "usage: median N CMD ARG...");
	n = num(argv[1], 1, "N");
	if ((t = calloc((size_t)n, sizeof(*t))) == NULL)
		err(1, NULL);
	if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		err(1, "/dev/null");
	for (i = 0; i < n; i++) {
		t0 = mono_ns();
		if ((pid = fork()) == -1)
			err(1, "fork");
		if (pid == 0) {
			dup2(null, 1);
			execv(argv[2], argv + 2);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) == -1)
			err(1, "waitpid");
		t[i] = mono_ns() - t0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			errx(1, "%s: failed (status %d)", argv[2], status);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_i64);
	printf("%.2f %.2f %.2f\n", ms(quantile(t, (size_t)n, 0.5)), ms(t[0]),
	    ms(t[n - 1]));
	free(t);
	return 0;
}

struct up_count {
	long	uc_up;
};

static int
count_up(const char *state, long n, void *arg)
{
	struct up_count *uc = arg;

	if (strcmp(state, "up") == 0)
		uc->uc_up = n;
	return 0;
}

static int
run_daemon_up(int argc, char **argv)
{
	struct db db;
	struct up_count uc;
	struct db_seed_count sc;
	int64_t t0, now, moved, wall0;
	long n, last = -1;
	pid_t pid;
	char line[32];
	int fd, pfd, len, status;

	if (argc < 6)
		errx(64, "usage: daemon-up DB N LOG PIDFILE CMD ARG...");
	n = num(argv[2], 1, "N");
	open_db(&db, argv[1]);
	if ((fd = open(argv[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1)
		err(1, "%s", argv[3]);
	if ((pfd = open(argv[4], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1)
		err(1, "%s", argv[4]);
	wall0 = now_ms();
	t0 = moved = mono_ns();
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[5], argv + 5);
		_exit(127);
	}
	close(fd);
	len = snprintf(line, sizeof(line), "%ld\n", (long)pid);
	if (write(pfd, line, (size_t)len) != len) {
		kill(pid, SIGKILL);
		err(1, "%s", argv[4]);
	}
	close(pfd);
	for (;;) {
		uc.uc_up = 0;
		if (db_state_counts(&db, count_up, &uc) != DB_OK)
			errx(1, "%s", db.db_err);
		now = mono_ns();
		if (uc.uc_up >= n)
			break;
		if (uc.uc_up != last) {
			last = uc.uc_up;
			moved = now;
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			errx(1, "the daemon exited (status %d) with %ld of %ld "
			    "VMs up", status, uc.uc_up, n);
		if (now - moved > STALL_NS) {
			kill(pid, SIGTERM);
			errx(1, "only %ld of %ld VMs up after %.0f s; daemon "
			    "stopped", uc.uc_up, n, ms(now - t0) / 1000);
		}
		nap(POLL_NS);
	}
	if (db_seed_count(&db, wall0, INT64_MAX, &sc) != DB_OK)
		errx(1, "%s", db.db_err);
	db_close(&db);
	printf("%ld %.1f %lld\n", (long)pid, ms(now - t0),
	    (long long)(sc.sc_first - wall0));
	return 0;
}

struct names {
	char	**nm_v;
	size_t	  nm_n;
};

static int
collect_up(const struct db_vm_row *row, void *arg)
{
	struct names *nm = arg;
	char **v;

	if (strcmp(row->vr_state, "up") != 0 || row->vr_pid <= 0)
		return 0;
	if ((v = realloc(nm->nm_v, (nm->nm_n + 1) * sizeof(*v))) == NULL ||
	    (v[nm->nm_n] = strdup(row->vr_name)) == NULL)
		err(1, NULL);
	nm->nm_v = v;
	nm->nm_n++;
	return 0;
}

static int
run_restart(int argc, char **argv)
{
	struct names nm = { NULL, 0 };
	struct db_state st;
	struct db db;
	int64_t *t, t0, now;
	long count, i, done = 0, timeouts = 0, old, row = 0;
	size_t k;

	if (argc != 3)
		errx(64, "usage: restart DB COUNT");
	count = num(argv[2], 1, "COUNT");
	open_db(&db, argv[1]);
	if (db_list(&db, NULL, 0, collect_up, &nm) != DB_OK)
		errx(1, "%s", db.db_err);
	if (nm.nm_n == 0)
		errx(1, "no VM is up");
	if ((t = calloc((size_t)count, sizeof(*t))) == NULL)
		err(1, NULL);
	for (i = 0; i < count; i++) {
		/* A different VM each time, as crashes come in a fleet. */
		const char *name = nm.nm_v[(size_t)i % nm.nm_n];

		if (db_vm_state(&db, name, &st) != DB_OK)
			errx(1, "%s", db.db_err);
		if ((old = st.st_pid) <= 0)
			errx(1, "%s: no process recorded (%s)", name,
			    st.st_state);
		/* The VM leads its own session: kill the whole group. */
		if (kill(-(pid_t)old, SIGKILL) == -1)
			err(1, "%s: kill pid %ld", name, old);
		t0 = mono_ns();
		for (;;) {
			if (db_vm_state(&db, name, &st) != DB_OK)
				errx(1, "%s", db.db_err);
			now = mono_ns();
			if (st.st_pid > 0 && st.st_pid != old) {
				t[done++] = now - t0;
				row = 0;
				break;
			}
			if (now - t0 > RESTART_TIMEOUT_NS) {
				timeouts++;
				row++;
				break;
			}
			nap(RESTART_POLL_NS);
		}
		if (row == 3)
			break;		/* three in a row: no more will come */
		nap(5 * 1000000L);	/* let the daemon settle */
	}
	db_close(&db);
	if (done > 0) {
		qsort(t, (size_t)done, sizeof(*t), cmp_i64);
		printf("%.2f %.2f %.2f", ms(quantile(t, (size_t)done, 0.5)),
		    ms(quantile(t, (size_t)done, 0.9)), ms(t[done - 1]));
	} else
		printf("- - -");
	printf(" %ld %ld\n", done, timeouts);
	for (k = 0; k < nm.nm_n; k++)
		free(nm.nm_v[k]);
	free(nm.nm_v);
	free(t);
	return 0;
}

static int
run_count(int argc, char **argv)
{
	struct db_seed_count c;
	struct db db;

	if (argc != 4)
		errx(64, "usage: count DB FROM TO");
	open_db(&db, argv[1]);
	if (db_seed_count(&db, num(argv[2], 0, "FROM"), num(argv[3], 0, "TO"),
	    &c) != DB_OK)
		errx(1, "%s", db.db_err);
	db_close(&db);
	printf("%lld %lld %lld %lld %lld\n", (long long)c.sc_runs,
	    (long long)c.sc_open, (long long)c.sc_events,
	    (long long)c.sc_first, (long long)c.sc_last);
	return 0;
}

struct pids {
	int64_t	*p_v;
	size_t	 p_n;
	size_t	 p_max;
};

static void
pids_add(struct pids *p, int64_t pid)
{
	int64_t *v;

	if (p->p_n == p->p_max) {
		p->p_max = p->p_max ? p->p_max * 2 : 1024;
		if ((v = realloc(p->p_v, p->p_max * sizeof(*v))) == NULL)
			err(1, NULL);
		p->p_v = v;
	}
	p->p_v[p->p_n++] = pid;
}

static int
run_pid(long pid, void *arg)
{
	pids_add(arg, pid);
	return 0;
}

static int
run_unrecorded(int argc, char **argv)
{
	struct pids spawned = { NULL, 0, 0 }, runs = { NULL, 0, 0 };
	struct db db;
	size_t i = 0, j = 0, missing = 0;
	long long pid;
	FILE *fp;

	if (argc != 3)
		errx(64, "usage: unrecorded DB PIDFILE");
	if ((fp = fopen(argv[2], "r")) == NULL)
		err(1, "%s", argv[2]);
	while (fscanf(fp, "%lld", &pid) == 1)
		pids_add(&spawned, pid);
	if (ferror(fp) || !feof(fp))
		errx(1, "%s: not a list of pids", argv[2]);
	fclose(fp);
	open_db(&db, argv[1]);
	if (db_seed_pids(&db, run_pid, &runs) != DB_OK)
		errx(1, "%s", db.db_err);
	db_close(&db);
	/* A multiset difference: a pid used twice needs two runs. */
	if (spawned.p_n)
		qsort(spawned.p_v, spawned.p_n, sizeof(int64_t), cmp_i64);
	if (runs.p_n)
		qsort(runs.p_v, runs.p_n, sizeof(int64_t), cmp_i64);
	while (i < spawned.p_n) {
		if (j < runs.p_n && runs.p_v[j] < spawned.p_v[i])
			j++;
		else if (j < runs.p_n && runs.p_v[j] == spawned.p_v[i])
			i++, j++;
		else
			i++, missing++;
	}
	printf("%zu %zu %zu\n", spawned.p_n, runs.p_n, missing);
	free(spawned.p_v);
	free(runs.p_v);
	return 0;
}

static int
no_vm(const struct db_vm_row *row, void *arg)
{
	(void)row;
	(void)arg;
	return 0;
}

static int
no_log(const struct db_log_row *row, void *arg)
{
	(void)row;
	(void)arg;
	return 0;
}

static int
run_inproc(int argc, char **argv)
{
	struct db db;
	int64_t *t[3], t0;
	long n, i;
	int k, rc;

	if (argc != 4)
		errx(64, "usage: inproc DB NAME N");
	n = num(argv[3], 1, "N");
	open_db(&db, argv[1]);
	for (k = 0; k < 3; k++) {
		if ((t[k] = calloc((size_t)n, sizeof(int64_t))) == NULL)
			err(1, NULL);
		for (i = 0; i < n; i++) {
			t0 = mono_ns();
			if (k < 2)	/* list, then list --json's rows */
				rc = db_list(&db, NULL, k, no_vm, NULL);
			else
				rc = db_log(&db, argv[2], 0, 50, no_log, NULL);
			t[k][i] = mono_ns() - t0;
			if (rc != DB_OK)
				errx(1, "%s", db.db_err);
		}
		qsort(t[k], (size_t)n, sizeof(int64_t), cmp_i64);
	}
	db_close(&db);
	printf("%.2f %.2f %.2f\n", ms(quantile(t[0], (size_t)n, 0.5)),
	    ms(quantile(t[1], (size_t)n, 0.5)),
	    ms(quantile(t[2], (size_t)n, 0.5)));
	for (k = 0; k < 3; k++)
		free(t[k]);
	return 0;
}

static int
run_plan(int argc, char **argv)
{
	struct db db;
	char *plan;

	if (argc != 4)
		errx(64, "usage: plan DB NAME LIMIT");
	open_db(&db, argv[1]);
	if (db_seed_log_plan(&db, argv[2], num(argv[3], 1, "LIMIT"), &plan) !=
	    DB_OK)
		errx(1, "%s", db.db_err);
	db_close(&db);
	fputs(plan, stdout);
	free(plan);
	return 0;
}

/* CPU seconds of every thread of pid from schedstat (ns), or -1. */
static double
sched_cpu(const char *pid)
{
	char path[PATH_MAX];
	unsigned long long ns, sum = 0;
	struct dirent *de;
	DIR *dir;
	FILE *fp;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%s/task", pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task/%s/schedstat", pid,
		    de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;	/* the thread just ended */
		if (fscanf(fp, "%llu", &ns) == 1) {
			sum += ns;
			n++;
		}
		fclose(fp);
	}
	closedir(dir);
	return n > 0 ? (double)sum / 1e9 : -1;
}

static int
run_proc(int argc, char **argv)
{
	char path[64], line[512], *p;
	unsigned long long utime = 0, stime = 0;
	long rss = -1, pss = -1, tck = sysconf(_SC_CLK_TCK);
	double cpu;
	FILE *fp;

	if (argc != 2)
		errx(64, "usage: proc PID");
	snprintf(path, sizeof(path), "/proc/%s/status", argv[1]);
	if ((fp = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &rss) == 1)
			break;
	fclose(fp);
	/* Every thread's run time in ns where the kernel keeps it; else
	 * utime + stime in clock ticks. */
	if ((cpu = sched_cpu(argv[1])) < 0) {
		snprintf(path, sizeof(path), "/proc/%s/stat", argv[1]);
		if ((fp = fopen(path, "r")) == NULL ||
		    fgets(line, sizeof(line), fp) == NULL)
			err(1, "%s", path);
		fclose(fp);
		/* After "pid (comm) ": utime and stime are fields 14, 15. */
		if ((p = strrchr(line, ')')) == NULL || sscanf(p + 2, "%*c "
		    "%*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		    &utime, &stime) != 2)
			errx(1, "%s: cannot parse", path);
		cpu = (double)(utime + stime) / (double)tck;
	}
	snprintf(path, sizeof(path), "/proc/%s/smaps_rollup", argv[1]);
	if ((fp = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL)
			if (sscanf(line, "Pss: %ld kB", &pss) == 1)
				break;
		fclose(fp);
	}
	printf("%ld %.4f %ld\n", rss, cpu, pss);
	return 0;
}

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} subs[] = {
	{ "median", run_median },
	{ "daemon-up", run_daemon_up }, { "restart", run_restart },
	{ "count", run_count }, { "unrecorded", run_unrecorded },
	{ "inproc", run_inproc }, { "plan", run_plan },
	{ "proc", run_proc },
};

int
main(int argc, char **argv)
{
	size_t i;
	int rc;

	if (argc >= 2)
		for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
			if (strcmp(argv[1], subs[i].name) == 0) {
				rc = subs[i].fn(argc - 1, argv + 1);
				if (fflush(stdout) == EOF || ferror(stdout))
					err(1, "stdout");
				return rc;
			}
	fprintf(stderr, "usage: bench-time median|daemon-up|restart|"
	    "count|unrecorded|inproc|plan|proc ...\n");
	return 64;
}
