/*
 * cmd-enable.c: vmsched enable|disable NAME... includes VMs in boot or
 * leaves them out. Each change is its own transaction and vm.changed event.
 */
#include "cli.h"

static int
set_enabled(struct vm_def *vd, void *enabled, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	vd->vd_enabled = *(int *)enabled;
	return DB_OK;
}

static int
toggle(struct cli *cli, const struct cmd *self, int argc, char **argv,
    int enabled)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };
	int i, first, rc, status = 0;

	if ((rc = cli_options(self, argc, argv, none, NULL, NULL, &first,
	    NULL)) != 0 || (rc = cli_nargs(self, argc - first)) != 0 ||
	    (rc = cli_open_write(cli)) != 0)
		return rc;
	for (i = first; i < argc; i++) {
		rc = db_vm_update(&cli->c_db, argv[i], set_enabled, &enabled,
		    cli->c_uid, NULL);
		if (rc != DB_OK && status == 0)
			status = cli_dberr(cli, rc);
		else if (rc != DB_OK)
			cli_dberr(cli, rc);
	}
	return status;
}

static int
enable(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	return toggle(cli, self, argc, argv, 1);
}

static int
disable(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	return toggle(cli, self, argc, argv, 0);
}

const struct cmd cmd_enable = {
	"enable", "NAME...", "include VMs in boot", 1, -1, enable,
};

const struct cmd cmd_disable = {
	"disable", "NAME...", "leave VMs out of boot", 1, -1, disable,
};
