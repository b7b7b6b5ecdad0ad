/*
 * cmd-probe.c: vmsched probe path|tcp|cmd ARG checks one start gate the
 * way the daemon does before a start (the daemon runs this very command
 * for TCP gates and --ready-tcp, so a slow connect never blocks it). Exit
 * 0 when the gate is open, 1 when it is shut (saying why). `probe pidfile
 * PATH` (issue 12) prints the pid a detached VM's pid file holds, as the
 * daemon reads it (as the VM's user, after its start command).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"

#define PROBE_TCP_MS	2000

static int
probe(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	char why[512];
	long pid;
	int rc, first, status;

	(void)cli;
	if ((rc = cli_getopt(self, NULL, argc, argv, NULL, NULL, &first,
	    NULL)) != 0 || (rc = cli_nargs(self, argc - first)) != 0)
		return rc;
	if (strcmp(argv[first], "path") == 0)
		rc = probe_path(argv[first + 1], why, sizeof(why));
	else if (strcmp(argv[first], "tcp") == 0)
		rc = probe_tcp(argv[first + 1], PROBE_TCP_MS, why, sizeof(why));
	else if (strcmp(argv[first], "pidfile") == 0) {
		if ((rc = probe_pidfile(argv[first + 1], &pid, why,
		    sizeof(why))) == 0)
			printf("%ld\n", pid);
	} else if (strcmp(argv[first], "cmd") == 0) {
		status = system(argv[first + 1]);
		rc = status != -1 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0 ? 0 : -1;
		snprintf(why, sizeof(why), "%s: did not exit 0",
		    argv[first + 1]);
	} else
		return cli_usage(self);
	if (rc == 0)
		return 0;
	return cli_err(1, "probe: %s %s", argv[first], why);
}

const struct cmd cmd_probe = {
	"probe", "path|tcp|cmd|pidfile ARG",
	"check a start gate as the daemon does (exit 0: open)",
	2, 2, probe, .cmd_operand = CV_WORDS,
	.cmd_words = "path tcp cmd pidfile",
};
