/*
 * cmd-set.c: vmsched set NAME [OPTIONS] [-- CMD [ARG...]] changes a
 * definition; it takes effect at the VM's next start. The store reads,
 * edits and writes it back in one transaction and records what changed.
 */
#include <string.h>

#include "cli.h"

static int
set(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	struct vmopts *vo;
	const char *why;
	int rc, first, dashdash, changed;

	if (argc < 2 || argv[1][0] == '-') {
		cli_err(0, "set: the VM's NAME comes first");
		return cli_usage(self);
	}
	if (value_name(argv[1], &why) == -1)
		return cli_err(EX_USAGE, "set: name '%s': %s", argv[1], why);
	if ((vo = vmopts_new()) == NULL)
		return cli_err(EX_OSERR, "out of memory");
	rc = cli_getopt(self, NULL, argc - 1, argv + 1, vmopts_take, vo,
	    &first, &dashdash);
	if (rc != 0)
		goto done;
	if (dashdash)
		rc = vmopts_command(vo, argc - 1 - first, argv + 1 + first);
	else if (first < argc - 1)
		rc = cli_err(EX_USAGE, "set: %s: unexpected; a new command "
		    "goes after --", argv[1 + first]);
	else if (first == 1)
		rc = cli_err(EX_USAGE, "set: %s: nothing to change", argv[1]);
	if (rc != 0)
		goto done;
	if ((rc = cli_open_write(cli)) != 0)
		goto done;
	rc = db_vm_update(&cli->c_db, argv[1], vmopts_apply, vo, cli->c_uid,
	    &changed);
	if (rc != DB_OK)
		rc = cli_dberr(cli, rc);
done:
	vmopts_free(vo);
	return rc;
}

const struct cmd cmd_set = {
	"set", "NAME [OPTIONS] [-- CMD [ARG...]]",
	"change a definition (takes effect at its next start)",
	1, 1, set, .cmd_shared = vmopts_opts, .cmd_operand = CV_VM,
};
