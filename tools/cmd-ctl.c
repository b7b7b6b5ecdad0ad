/*
 * cmd-ctl.c: vmsched start|stop|suspend|restart|reset NAME... change what
 * the daemon should do with VMs. Each writes the desired state (and the
 * action) to the database, wakes the daemon with SIGUSR1, and waits until
 * the daemon has acted and the VM has reached the state asked for, or
 * --timeout passes (exit 75). --no-wait returns once the request is written.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define WAIT_POLL_MS	20

/* What one command asks for, and when it is done. */
struct ctl {
	const char	*ctl_desired;	/* NULL: keep */
	const char	*ctl_pending;	/* NULL: none */
	const char	*ctl_done[4];	/* states that mean done */
};

static const struct ctl ctl_start = { "up", "start", { "up" } };
static const struct ctl ctl_restart = { "up", "restart", { "up" } };
static const struct ctl ctl_stop = { "down", NULL,
	{ "stopped", "disabled", "failed" } };
static const struct ctl ctl_suspend = { "suspended", NULL,
	{ "suspended", "stopped", "disabled", "failed" } };
static const struct ctl ctl_reset = { NULL, "reset", { NULL } };

struct ctl_args {
	int	 ca_wait;
	int64_t	 ca_timeout_ms;
};

static int
ctl_opt(int opt, const char *arg, void *p)
{
	struct ctl_args *ca = p;
	const char *why;

	if (opt == 'n')
		ca->ca_wait = 0;
	else if (opt == 't' && value_duration(arg, &ca->ca_timeout_ms, &why) ==
	    -1)
		return cli_err(EX_USAGE, "--timeout %s: %s", arg, why);
	return 0;
}

static int
done(const struct ctl *ctl, const char *state)
{
	size_t i;

	for (i = 0; i < sizeof(ctl->ctl_done) / sizeof(ctl->ctl_done[0]) &&
	    ctl->ctl_done[i] != NULL; i++)
		if (strcmp(ctl->ctl_done[i], state) == 0)
			return 1;
	return ctl->ctl_done[0] == NULL;
}

static void
nap(void)
{
	struct timespec ts = { 0, WAIT_POLL_MS * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
no_daemon(struct cli *cli, const char *what)
{
	cli_err(0, "%s: no daemon is running on %s (start it with `vmsched "
	    "daemon`, or through launchd/systemd)", what, cli->c_dbpath);
}

/* The pid of the daemon that holds the database, else 0 after an error. */
static long
daemon_pid(struct cli *cli, const char *what)
{
	long pid;

	if ((pid = sched_lock_holder(cli->c_dbpath)) <= 0) {
		no_daemon(cli, what);
		return 0;
	}
	return pid;
}

int
ctl_daemon_running(struct cli *cli, const char *what)
{
	if (sched_lock_held(cli->c_dbpath))
		return 1;
	no_daemon(cli, what);
	return 0;
}

void
ctl_hint_start(struct cli *cli, const char *what, const char *name)
{
	static const char *const idle[] = { "stopped", "disabled",
	    "suspended", "failed" };
	struct db_state st;
	size_t i;

	if (!sched_lock_held(cli->c_dbpath) ||
	    db_vm_state(&cli->c_db, name, &st) != DB_OK)
		return;
	for (i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		if (strcmp(st.st_state, idle[i]) == 0)
			break;
	if (i < sizeof(idle) / sizeof(idle[0]))
		cli_err(0, "%s: %s is %s; start it now with `vmsched start "
		    "%s` (or %s --start)", what, name, st.st_state, name,
		    what);
}

static const struct ctl *
ctl_find(const char *what)
{
	static const struct {
		const char		*name;
		const struct ctl	*ctl;
	} ctls[] = {
		{ "start", &ctl_start }, { "restart", &ctl_restart },
		{ "stop", &ctl_stop }, { "suspend", &ctl_suspend },
		{ "reset", &ctl_reset },
	};
	size_t i;

	for (i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++)
		if (strcmp(ctls[i].name, what) == 0)
			return ctls[i].ctl;
	return NULL;
}

int
ctl_request(struct cli *cli, const char *what, char *const *names, int n,
    int wait, int64_t timeout_ms)
{
	const struct ctl *ctl = ctl_find(what);
	struct db_state st;
	int64_t *req = NULL, *old_run = NULL, deadline;
	int rc, i, pending;
	long pid;

	if (ctl == NULL)
		return cli_err(EX_SOFTWARE, "%s: no such request", what);
	for (i = 0; i < n; i++)
		if (db_vm_exists(&cli->c_db, names[i]) != 1)
			return cli_err(EX_NOINPUT, "%s: %s: no such VM", what,
			    names[i]);
	if ((pid = daemon_pid(cli, what)) == 0)
		return EX_UNAVAILABLE;
	req = calloc((size_t)n, sizeof(*req));
	old_run = calloc((size_t)n, sizeof(*old_run));
	if (req == NULL || old_run == NULL) {
		rc = cli_err(EX_OSERR, "%s: %s", what, strerror(ENOMEM));
		goto done;
	}
	for (i = 0; i < n; i++) {
		if ((rc = db_vm_state(&cli->c_db, names[i], &st)) !=
		    DB_OK || (rc = db_request(&cli->c_db, names[i],
		    ctl->ctl_desired, ctl->ctl_pending, &req[i])) != DB_OK) {
			rc = cli_dberr(cli, rc);
			goto done;
		}
		old_run[i] = st.st_run_id;
	}
	if (kill((pid_t)pid, SIGUSR1) == -1) {
		rc = cli_err(EX_UNAVAILABLE, "%s: waking the daemon (pid %ld): "
		    "%s", what, pid, strerror(errno));
		goto done;
	}
	rc = 0;
	if (!wait)
		goto done;
	deadline = mono_ms() + timeout_ms;
	for (;;) {
		pending = 0;
		for (i = 0; i < n; i++) {
			if (db_vm_state(&cli->c_db, names[i], &st) !=
			    DB_OK) {
				rc = cli_dberr(cli, DB_ERR);
				goto done;
			}
			if (st.st_handled < req[i] || !done(ctl, st.st_state) ||
			    (ctl == &ctl_restart && st.st_run_id == old_run[i]))
				pending++;
			if (st.st_handled >= req[i] && ctl->ctl_desired &&
			    strcmp(ctl->ctl_desired, "up") == 0 &&
			    strcmp(st.st_state, "failed") == 0) {
				rc = cli_err(1, "%s: %s: failed (see vmsched "
				    "log %s)", what, names[i],
				    names[i]);
				goto done;
			}
		}
		if (pending == 0)
			break;
		if (mono_ms() >= deadline) {
			rc = cli_err(EX_TEMPFAIL, "%s: timed out after %lldms "
			    "with %d VM%s not there yet", what,
			    (long long)timeout_ms, pending,
			    pending == 1 ? "" : "s");
			goto done;
		}
		if (!sched_lock_held(cli->c_dbpath)) {
			rc = cli_err(EX_UNAVAILABLE, "%s: the daemon stopped "
			    "while we waited", what);
			goto done;
		}
		nap();
	}
done:
	free(req);
	free(old_run);
	return rc;
}

static int
ctl_run(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	struct ctl_args ca = { 1, CTL_TIMEOUT_MS };
	const char *why;
	int rc, first, i;

	if ((rc = cli_getopt(self, NULL, argc, argv, ctl_opt, &ca, &first,
	    NULL)) != 0 || (rc = cli_nargs(self, argc - first)) != 0)
		return rc;
	for (i = first; i < argc; i++)
		if (value_name(argv[i], &why) == -1)
			return cli_err(EX_USAGE, "%s: name '%s': %s",
			    self->cmd_name, argv[i], why);
	if ((rc = cli_open_write(cli)) != 0)
		return rc;
	return ctl_request(cli, self->cmd_name, argv + first, argc - first,
	    ca.ca_wait, ca.ca_timeout_ms);
}

#define CTL_ARGS	"NAME... [--no-wait] [--timeout DURATION]"

static const struct cli_opt ctl_opts[] = {
	{ "no-wait", 'n', CV_NONE, NULL, NULL, NULL, 0 },
	{ "timeout", 't', CV_TEXT, "DURATION", NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};
#define CTL_TABLE	.cmd_opts = ctl_opts, .cmd_operand = CV_VM

const struct cmd cmd_start = {
	"start", CTL_ARGS, "start VMs (a failed one too) and wait until up",
	1, -1, ctl_run, CTL_TABLE,
};
const struct cmd cmd_stop = {
	"stop", CTL_ARGS, "stop VMs (stop signal, then SIGKILL after the "
	"stop timeout) and wait", 1, -1, ctl_run, CTL_TABLE,
};
const struct cmd cmd_suspend = {
	"suspend", CTL_ARGS, "send VMs their suspend signal; they stay down "
	"until start", 1, -1, ctl_run, CTL_TABLE,
};
const struct cmd cmd_restart = {
	"restart", CTL_ARGS, "stop VMs and start them again", 1, -1, ctl_run,
	CTL_TABLE,
};
const struct cmd cmd_reset = {
	"reset", CTL_ARGS, "clear a failed VM's failure count so it starts "
	"again", 1, -1, ctl_run, CTL_TABLE,
};
