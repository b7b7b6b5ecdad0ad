/*
 * cmd-remove.c: vmsched remove NAME [--force] deletes a definition. Its
 * history stays (db prune is what deletes history). Refused while the VM
 * runs, or is about to (waiting, backoff, blocked), unless --force, which
 * has the daemon stop it first; and while another VM starts --after it.
 * A running daemon is woken, so it lets go of the VM at once.
 */
#include <signal.h>

#include "cli.h"

#define FORCE_STOP_MS	(10 * 60 * 1000)	/* stop-timeout at most */

static int
remove_opt(int opt, const char *arg, void *force)
{
	(void)arg;
	if (opt == 'f')
		*(int *)force = 1;
	return 0;
}

static int
remove_vm(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	int rc, first, force = 0;
	long pid;

	if ((rc = cli_getopt(self, NULL, argc, argv, remove_opt, &force,
	    &first, NULL)) != 0 || (rc = cli_nargs(self, argc - first)) != 0)
		return rc;
	if ((rc = cli_open_write(cli)) != 0)
		return rc;
	rc = db_vm_remove(&cli->c_db, argv[first], cli->c_uid);
	if (rc == DB_LIVE && force) {
		if ((rc = ctl_request(cli, "stop", argv + first, 1, 1,
		    FORCE_STOP_MS)) != 0)
			return rc;
		rc = db_vm_remove(&cli->c_db, argv[first], cli->c_uid);
	}
	if (rc != DB_OK)
		return cli_dberr(cli, rc);
	if ((pid = sched_lock_holder(cli->c_dbpath)) > 0)
		(void)kill((pid_t)pid, SIGUSR1);
	return 0;
}

static const struct cli_opt remove_opts[] = {
	{ "force", 'f', CV_NONE, NULL, NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

const struct cmd cmd_remove = {
	"remove", "NAME [--force]",
	"delete a definition (its history stays)",
	1, 1, remove_vm, .cmd_opts = remove_opts, .cmd_operand = CV_VM,
};
