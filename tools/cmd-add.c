/*
 * cmd-add.c: vmsched add NAME [OPTIONS] -- CMD [ARG...] defines a VM.
 * Every value is checked before the database is opened; the store then
 * refuses a duplicate name or an unknown --after in the same transaction
 * that would write the definition and its vm.defined event. A running
 * daemon starts a new VM only when asked: --start asks (and waits as
 * `start` does); without it, add says in one line how to.
 */
#include <string.h>

#include "cli.h"

enum { O_START = 'S' };

static const struct cli_opt add_opts[] = {
	{ "start", O_START, CV_NONE, NULL, NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

struct add_args {
	struct vmopts	*aa_vo;
	int		 aa_start;	/* --start */
};

static int
add_opt(int opt, const char *arg, void *p)
{
	struct add_args *aa = p;

	if (opt == O_START) {
		aa->aa_start = 1;
		return 0;
	}
	return vmopts_take(opt, arg, aa->aa_vo);
}

static int
add(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	struct add_args aa = { NULL, 0 };
	struct vmopts *vo;
	struct vm_def vd;
	const char *name, *why;
	char err[512];
	int rc, first, dashdash;

	if (argc < 2 || argv[1][0] == '-') {
		cli_err(0, "add: the VM's NAME comes first");
		return cli_usage(self);
	}
	name = argv[1];
	if (value_name(name, &why) == -1)
		return cli_err(EX_USAGE, "add: name '%s': %s", name, why);
	if ((vo = aa.aa_vo = vmopts_new()) == NULL)
		return cli_err(EX_OSERR, "out of memory");
	vm_def_init(&vd);
	rc = cli_getopt(self, NULL, argc - 1, argv + 1, add_opt, &aa,
	    &first, &dashdash);
	if (rc != 0)
		goto done;
	if (!dashdash) {
		if (first < argc - 1)
			rc = cli_err(EX_USAGE, "add: %s: unexpected; the "
			    "command goes after --", argv[1 + first]);
		else
			rc = cli_err(EX_USAGE, "add: missing -- and the "
			    "command to run");
		goto done;
	}
	if ((rc = vmopts_command(vo, argc - 1 - first, argv + 1 + first)))
		goto done;
	snprintf(vd.vd_name, sizeof(vd.vd_name), "%s", name);
	if ((rc = vmopts_apply(&vd, vo, err, sizeof(err))) != DB_OK) {
		rc = cli_err(rc == DB_REFUSED ? EX_USAGE : EX_OSERR, "add: %s",
		    err);
		goto done;
	}
	if (aa.aa_start && !ctl_daemon_running(cli, "add")) {
		rc = EX_UNAVAILABLE;
		goto done;
	}
	if ((rc = cli_open(cli)) != 0)
		goto done;
	if ((rc = db_vm_add(&cli->c_db, &vd, cli->c_uid)) != DB_OK)
		rc = cli_dberr(cli, rc);
	else if (aa.aa_start)
		rc = ctl_request(cli, "start", argv + 1, 1, 1, CTL_TIMEOUT_MS);
	else
		ctl_hint_start(cli, "add", name);
done:
	vm_def_free(&vd);
	vmopts_free(vo);
	return rc;
}

const struct cmd cmd_add = {
	"add", "NAME [OPTIONS] [--start] -- CMD [ARG...]", "define a VM",
	1, 1, add, .cmd_opts = add_opts, .cmd_shared = vmopts_opts,
	.cmd_operand = CV_TEXT,
};
