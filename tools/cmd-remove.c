/*
 * cmd-remove.c: vmsched remove NAME [--force] deletes a definition. Its
 * history stays (db prune is what deletes history). Refused while the VM
 * runs unless --force, which has the daemon stop it first, and while
 * another VM starts --after it.
 */
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
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	int rc, first, force = 0;

	if ((rc = cli_options(self, argc, argv, opts, remove_opt, &force,
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
	return rc == DB_OK ? 0 : cli_dberr(cli, rc);
}

const struct cmd cmd_remove = {
	"remove", "NAME [--force]",
	"delete a definition (its history stays)",
	1, 1, remove_vm,
};
