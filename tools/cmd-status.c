/*
 * cmd-status.c: vmsched status says whether a daemon runs on this database
 * (pid, since, boot id), how many VMs are in each state, and how many
 * events wait for the webhook. Exit 0 either way: it reports.
 *
 * vmsched status NAME is one VM as `systemctl status` shows a unit: the
 * definition in a line, its state and since when, its pid, its last runs
 * with how each ended and the rule that decided what followed, and the
 * last lines of its log file. The log file may belong to the VM's user:
 * it is opened without blocking, read only if it is a regular file, and
 * its control bytes are printed escaped, never sent to the terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define STATUS_LINES	10		/* log lines by default */
#define STATUS_RUNS	5		/* runs by default */
#define TAIL_MAX	(64 * 1024)	/* of the log, read at most */

static int
print_count(const char *state, long n, void *arg)
{
	(void)arg;
	printf("%s: %ld\n", state, n);
	return 0;
}

static int
daemon_status(struct cli *cli)
{
	struct db_daemon d;
	char *json, when[32];
	long pending;
	int rc, running;

	running = sched_lock_held(cli->c_dbpath);
	if ((rc = db_status_json(&cli->c_db, running, &json)) != DB_OK)
		return cli_dberr(cli, rc);
	if (cli->c_json)
		return cli_print_json(json);
	free(json);
	rc = db_daemon_get(&cli->c_db, &d);
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return cli_dberr(cli, rc);
	if (running && rc == DB_OK)
		printf("daemon: running, pid %ld, since %s, boot %s\n",
		    d.dd_pid, value_fmt_time(d.dd_started_at, when,
		    sizeof(when)), d.dd_boot_id);
	else
		printf("daemon: not running\n");
	if ((rc = db_state_counts(&cli->c_db, print_count, NULL)) != DB_OK ||
	    (rc = db_events_pending(&cli->c_db, &pending)) != DB_OK)
		return cli_dberr(cli, rc);
	printf("events pending: %ld\n", pending);
	return 0;
}

struct status_args {
	struct cli	*sa_cli;
	long		 sa_lines;	/* --lines */
	long		 sa_runs;	/* --runs */
};

static int
status_opt(int opt, const char *arg, void *p)
{
	struct status_args *sa = p;
	const char *why;

	switch (opt) {
	case 'n':
		if (value_int(arg, 0, 1000, &sa->sa_lines, &why) == -1)
			return cli_err(EX_USAGE, "status: --lines %s: %s", arg,
			    why);
		break;
	case 'r':
		if (value_int(arg, 0, 1000, &sa->sa_runs, &why) == -1)
			return cli_err(EX_USAGE, "status: --runs %s: %s", arg,
			    why);
		break;
	default:
		return cli_json_opt(opt, arg, sa->sa_cli);
	}
	return 0;
}

/*
 * Where the last n lines of buf[0..len) start (a partial last line
 * counts as one). Pure: the tail of whatever was read.
 */
static size_t
tail_start(const char *buf, size_t len, long n)
{
	size_t i = len;

	if (n <= 0)
		return len;
	if (i > 0 && buf[i - 1] == '\n')
		i--;
	while (i > 0) {
		if (buf[i - 1] == '\n' && --n == 0)
			break;
		i--;
	}
	return i;
}

/* One line of the log, indented, with control bytes as \xNN. */
static void
print_escaped(const char *s, size_t len)
{
	size_t i;

	fputs("    ", stdout);
	for (i = 0; i < len; i++) {
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			printf("\\x%02x", (unsigned char)s[i]);
		else
			putchar(s[i]);
	}
	putchar('\n');
}

/* The last n lines of the file at path, or a word on why there are none. */
static void
print_tail(const char *path, long n)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, i, start;
	ssize_t got;
	off_t from;
	int fd;

	printf("\nlog %s:\n", path);
	/* A FIFO or a device put there by the VM's user must not block us. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		printf("    (%s)\n", errno == ENOENT ? "no log yet" :
		    strerror(errno));
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		printf("    (not a regular file: not shown)\n");
		goto done;
	}
	from = st.st_size > TAIL_MAX ? st.st_size - TAIL_MAX : 0;
	if ((buf = malloc(TAIL_MAX)) == NULL ||
	    lseek(fd, from, SEEK_SET) == -1) {
		printf("    (%s)\n", strerror(errno));
		goto done;
	}
	while (len < TAIL_MAX && (got = read(fd, buf + len, TAIL_MAX - len)) >
	    0)
		len += (size_t)got;
	if (len == 0) {
		printf("    (empty)\n");
		goto done;
	}
	start = tail_start(buf, len, n);
	for (i = start; i < len; ) {
		size_t end = i;

		while (end < len && buf[end] != '\n')
			end++;
		print_escaped(buf + i, end - i);
		i = end + 1;
	}
done:
	free(buf);
	close(fd);
}

/* What vm_status's callbacks need. */
struct vm_status {
	const struct vm_def	*vs_vd;
	int			 vs_runs;	/* runs printed */
};

static int
print_run(const struct db_log_row *r, void *arg)
{
	struct vm_status *vs = arg;
	char when[32], what[2048];

	if (vs->vs_runs++ == 0)
		printf("\nlast runs:\n");
	log_describe_run(r, what, sizeof(what));
	printf("  %s  %s\n", value_fmt_time(r->lr_time, when, sizeof(when)),
	    what);
	return 0;
}

/* The head: the definition in a line, then state, pid and restarts. */
static int
print_head(const struct db_vm_row *r, void *arg)
{
	const struct vm_def *vd = ((struct vm_status *)arg)->vs_vd;
	char buf[8192], when[32], ago[32];
	size_t i;

	snprintf(buf, sizeof(buf), "%s - ", r->vr_name);
	for (i = 0; i < vd->vd_argv.sv_n; i++) {
		if (i > 0)
			strncat(buf, " ", sizeof(buf) - strlen(buf) - 1);
		cli_quote(vd->vd_argv.sv_v[i], buf, sizeof(buf));
	}
	puts(buf);
	snprintf(buf, sizeof(buf), "%s, order %d, restart %s",
	    vd->vd_enabled ? "enabled" : "disabled", vd->vd_order,
	    value_restart_name(vd->vd_restart));
	for (i = 0; i < vd->vd_after.sv_n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
		    i == 0 ? ", after " : " ", vd->vd_after.sv_v[i]);
	printf("  %8s: %s\n", "defined", buf);
	printf("  %8s: %s since %s (%s ago)\n", "state", r->vr_state,
	    value_fmt_time(r->vr_since, when, sizeof(when)),
	    value_fmt_duration(now_ms() - r->vr_since, ago, sizeof(ago)));
	if (r->vr_why != NULL)
		printf("  %8s  %s\n", "", r->vr_why);
	if (r->vr_pid > 0)
		printf("  %8s: %ld\n", "pid", r->vr_pid);
	printf("  %8s: %d in all, %d failure%s in a row\n", "restarts",
	    r->vr_restarts, r->vr_failures, r->vr_failures == 1 ? "" : "s");
	return 0;
}

static int
vm_status(struct cli *cli, const char *name, const struct status_args *sa)
{
	struct vm_def vd;
	struct vm_status vs = { &vd, 0 };
	char path[PATH_MAX];
	int rc;

	vm_def_init(&vd);
	if ((rc = db_vm_get(&cli->c_db, name, &vd)) != DB_OK ||
	    (rc = db_list(&cli->c_db, name, 0, print_head, &vs)) != DB_OK ||
	    (sa->sa_runs > 0 && (rc = db_runs(&cli->c_db, name, sa->sa_runs,
	    print_run, &vs)) != DB_OK)) {
		vm_def_free(&vd);
		return cli_dberr(cli, rc);
	}
	if (sa->sa_runs > 0 && vs.vs_runs == 0)
		printf("\nlast runs: none (never ran)\n");
	if (sa->sa_lines > 0 && vm_def_log_path(&vd, cli->c_dbpath, path,
	    sizeof(path)) == 0)
		print_tail(path, sa->sa_lines);
	vm_def_free(&vd);
	return 0;
}

static int
status(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	struct status_args sa = { cli, STATUS_LINES, STATUS_RUNS };
	const char *why;
	int rc, first;

	if ((rc = cli_getopt(self, NULL, argc, argv, status_opt, &sa, &first,
	    NULL)) != 0 || (rc = cli_nargs(self, argc - first)) != 0)
		return rc;
	if (first == argc)
		return (rc = cli_open_read(cli)) != 0 ? rc : daemon_status(cli);
	if (value_name(argv[first], &why) == -1)
		return cli_err(EX_USAGE, "status: name '%s': %s", argv[first],
		    why);
	if (cli->c_json)
		return cli_err(EX_USAGE, "status %s: no --json for one VM: "
		    "show %s --json and log %s --json have it", argv[first],
		    argv[first], argv[first]);
	if ((rc = cli_open_read(cli)) != 0)
		return rc;
	return vm_status(cli, argv[first], &sa);
}

static const struct cli_opt status_opts[] = {
	{ "lines", 'n', CV_TEXT, "N", NULL, NULL, 0 },
	{ "runs", 'r', CV_TEXT, "N", NULL, NULL, 0 },
	{ "json", 'j', CV_NONE, NULL, NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

const struct cmd cmd_status = {
	"status", "[NAME [--lines N] [--runs N]] [--json]",
	"is a daemon running, VMs by state, events pending; or one VM",
	0, 1, status, .cmd_opts = status_opts, .cmd_operand = CV_VM,
};
