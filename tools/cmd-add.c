/*
 * cmd-add.c: vmsched add NAME [OPTIONS] -- CMD [ARG...] defines a VM.
 * Every value is checked before the database is opened; the store then
 * refuses a duplicate name or an unknown --after in the same transaction
 * that would write the definition and its vm.defined event. A running
 * daemon starts a new VM only when asked: --start asks (and waits as
 * `start` does); without it, add says in one line how to.
 *
 * Issue 12: a hypervisor shortcut (--vmware X.vmx [--vmrun], --libvirt
 * DOMAIN, --virtualbox NAME, or --qemu -- qemu-system-...) makes the
 * command and the detached driver's commands itself (shortcuts.c); the
 * options given beside it apply over what it made, and `show` prints the
 * result.
 */
#include <string.h>

#include "cli.h"

enum { O_START = 'S' };

static const struct cli_opt add_opts[] = {
	{ "start", O_START, CV_NONE, NULL, NULL, NULL, 0 },
	/* issue 12: the hypervisor shortcuts */
	{ "vmware", O_SC_VMWARE, CV_FILE, "X.vmx", NULL, NULL, 0 },
	{ "vmware-vmx", O_SC_VMWARE_VMX, CV_FILE, "PATH", NULL, NULL, 0 },
	{ "vmrun", O_SC_VMRUN, CV_NONE, NULL, NULL, NULL, 0 },
	{ "vmrun-type", O_SC_VMRUN_TYPE, CV_WORDS, "TYPE", "fusion ws player",
	    NULL, 0 },
	{ "libvirt", O_SC_LIBVIRT, CV_TEXT, "DOMAIN", NULL, NULL, 0 },
	{ "connect", O_SC_CONNECT, CV_TEXT, "URI", NULL, NULL, 0 },
	{ "virtualbox", O_SC_VIRTUALBOX, CV_TEXT, "NAME", NULL, NULL, 0 },
	{ "qemu", O_SC_QEMU, CV_NONE, NULL, NULL, NULL, 0 },
	{ "run-dir", O_SC_RUN_DIR, CV_DIR, "DIR", NULL, NULL, 0 },
	{ "tool", O_SC_TOOL, CV_FILE, "PATH", NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

struct add_args {
	struct vmopts		*aa_vo;
	int			 aa_start;	/* --start */
	struct shortcut_args	 aa_sc;		/* issue 12 */
};

static int
add_opt(int opt, const char *arg, void *p)
{
	struct add_args *aa = p;

	if (opt == O_START) {
		aa->aa_start = 1;
		return 0;
	}
	if (opt >= O_SC_VMWARE && opt <= O_SC_TOOL)
		return shortcuts_take(opt, arg, &aa->aa_sc);
	return vmopts_take(opt, arg, aa->aa_vo);
}

/* The detached driver's settings on a VM that another driver runs. */
static int
stray_detached(const struct vm_def *vd)
{
	int i;

	if (vd->vd_driver == DRV_DETACHED)
		return 0;
	for (i = 0; i < CMD_N; i++)
		if (vd->vd_cmd[i].sv_n > 0)
			return 1;
	return vd->vd_pid_file != NULL || vd->vd_status_map.sv_n > 0;
}

/* With a shortcut: the command it makes, from what came after --. */
static int
shortcut_command(struct add_args *aa, struct vm_def *vd, int argc,
    char **argv, int first, int dashdash)
{
	const char *name = shortcut_name(aa->aa_sc.sa_kind);
	int i;

	if (aa->aa_sc.sa_kind != SC_QEMU) {
		if (first < argc)
			return cli_err(EX_USAGE, "add: %s makes the command; "
			    "%s: unexpected", name[0] ? name : "a shortcut",
			    argv[first]);
		return 0;
	}
	if (!dashdash || first >= argc || argv[first][0] == '\0')
		return cli_err(EX_USAGE, "add: --qemu: the qemu-system-* "
		    "command line goes after --");
	for (i = first; i < argc; i++)
		if (strv_push(&vd->vd_argv, argv[i]) == -1)
			return cli_err(EX_OSERR, "out of memory");
	return 0;
}

static int
add(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	struct add_args aa;
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
	memset(&aa, 0, sizeof(aa));
	shortcuts_init(&aa.aa_sc);
	if ((vo = aa.aa_vo = vmopts_new()) == NULL)
		return cli_err(EX_OSERR, "out of memory");
	vm_def_init(&vd);
	snprintf(vd.vd_name, sizeof(vd.vd_name), "%s", name);
	rc = cli_getopt(self, NULL, argc - 1, argv + 1, add_opt, &aa,
	    &first, &dashdash);
	if (rc != 0)
		goto done;
	if (shortcuts_used(&aa.aa_sc)) {
		if ((rc = shortcut_command(&aa, &vd, argc - 1, argv + 1, first,
		    dashdash)) != 0 || (rc = shortcuts_expand(cli, &aa.aa_sc,
		    vmopts_last(vo, "user"), &vd)) != 0)
			goto done;
	} else if (!dashdash) {
		if (first < argc - 1)
			rc = cli_err(EX_USAGE, "add: %s: unexpected; the "
			    "command goes after --", argv[1 + first]);
		else
			rc = cli_err(EX_USAGE, "add: missing -- and the "
			    "command to run (or a shortcut: --vmware, "
			    "--libvirt, --virtualbox, --qemu)");
		goto done;
	} else if ((rc = vmopts_command(vo, argc - 1 - first,
	    argv + 1 + first)))
		goto done;
	if ((rc = vmopts_apply(&vd, vo, err, sizeof(err))) != DB_OK) {
		rc = cli_err(rc == DB_REFUSED ? EX_USAGE : EX_OSERR, "add: %s",
		    err);
		goto done;
	}
	if (stray_detached(&vd)) {
		rc = cli_err(EX_USAGE, "add: --pid-file, --status-cmd, "
		    "--status-map and the --*-cmd options are the detached "
		    "driver's: add --driver detached");
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
