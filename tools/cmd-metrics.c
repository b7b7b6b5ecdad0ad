/*
 * cmd-metrics.c: vmsched metrics prints the figures a monitoring system
 * scrapes, in the Prometheus text exposition format: the same text the
 * daemon keeps in its --metrics-textfile (sched/metrics.c writes both).
 */
#include "cli.h"

static int
metrics(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	int rc, first;

	if ((rc = cli_getopt(self, NULL, argc, argv, NULL, NULL, &first,
	    NULL)) != 0 || (rc = cli_nargs(self, argc - first)) != 0 ||
	    (rc = cli_open_read(cli)) != 0)
		return rc;
	if (metrics_print(&cli->c_db, sched_lock_held(cli->c_dbpath),
	    stdout) == -1)
		return cli_dberr(cli, DB_ERR);
	return 0;
}

const struct cmd cmd_metrics = {
	"metrics", "",
	"the figures for monitoring, in Prometheus text format",
	0, 0, metrics, .cmd_operand = CV_NONE,
};
