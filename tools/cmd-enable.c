/*
 * cmd-enable.c: vmsched enable|disable NAME... includes VMs in boot or
 * leaves them out. Each change is its own transaction and vm.changed event.
 * Enabling does not start a VM: enable --start also starts it now (and
 * waits as `start` does); without it, when a daemon runs, enable says in
 * one line how to start a VM that is not running.
 */
#include "cli.h"

enum { O_START = 'S' };

static int
set_enabled(struct vm_def *vd, void *enabled, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	vd->vd_enabled = *(int *)enabled;
	return DB_OK;
}

static int
enable_opt(int opt, const char *arg, void *start)
{
	(void)arg;
	if (opt == O_START)
		*(int *)start = 1;
	return 0;
}

static int
toggle(struct cli *cli, const struct cmd *self, int argc, char **argv,
    int enabled)
{
	int i, first, rc, status = 0, start = 0;

	if ((rc = cli_getopt(self, NULL, argc, argv, enable_opt, &start,
	    &first, NULL)) != 0 || (rc = cli_nargs(self, argc - first)) != 0)
		return rc;
	if (start && !ctl_daemon_running(cli, self->cmd_name))
		return EX_UNAVAILABLE;
	if ((rc = cli_open_write(cli)) != 0)
		return rc;
	for (i = first; i < argc; i++) {
		rc = db_vm_update(&cli->c_db, argv[i], set_enabled, &enabled,
		    cli->c_uid, NULL);
		if (rc != DB_OK && status == 0)
			status = cli_dberr(cli, rc);
		else if (rc != DB_OK)
			cli_dberr(cli, rc);
		else if (enabled && !start)
			ctl_hint_start(cli, self->cmd_name, argv[i]);
	}
	if (status == 0 && start)
		status = ctl_request(cli, "start", argv + first, argc - first,
		    1, CTL_TIMEOUT_MS);
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

static const struct cli_opt enable_opts[] = {
	{ "start", O_START, CV_NONE, NULL, NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

const struct cmd cmd_enable = {
	"enable", "NAME... [--start]", "include VMs in boot (--start: and "
	"start them now)", 1, -1, enable, .cmd_opts = enable_opts,
	.cmd_operand = CV_VM,
};

const struct cmd cmd_disable = {
	"disable", "NAME...", "leave VMs out of boot", 1, -1, disable,
	.cmd_operand = CV_VM,
};
