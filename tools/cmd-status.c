/*
 * cmd-status.c: vmsched status says whether a daemon runs on this database
 * (pid, since, boot id), how many VMs are in each state, and how many
 * events wait for the webhook. Exit 0 either way: it reports.
 */
#include <stdlib.h>

#include "cli.h"

static int
print_count(const char *state, long n, void *arg)
{
	(void)arg;
	printf("%s: %ld\n", state, n);
	return 0;
}

static int
status(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	struct db_daemon d;
	char *json, when[32];
	long pending;
	int rc, first, running;

	if ((rc = cli_options(self, argc, argv, cli_json_opts, cli_json_opt,
	    cli, &first, NULL)) != 0 ||
	    (rc = cli_nargs(self, argc - first)) != 0 ||
	    (rc = cli_open_read(cli)) != 0)
		return rc;
	running = sched_lock_held(cli->c_dbpath);
	if ((rc = db_status_json(&cli->c_db, running, &json)) != DB_OK)
		return cli_dberr(cli, rc);
	if (cli->c_json)
		return cli_print_json(json);
	free(json);
	rc = db_daemon_get(&cli->c_db, &d);
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return cli_dberr(cli, rc);
	if (running && rc == DB_OK)
		printf("daemon: running, pid %ld, since %s, boot %s\n",
		    d.dd_pid, value_fmt_time(d.dd_started_at, when,
		    sizeof(when)), d.dd_boot_id);
	else
		printf("daemon: not running\n");
	if ((rc = db_state_counts(&cli->c_db, print_count, NULL)) != DB_OK ||
	    (rc = db_events_pending(&cli->c_db, &pending)) != DB_OK)
		return cli_dberr(cli, rc);
	printf("events pending: %ld\n", pending);
	return 0;
}

const struct cmd cmd_status = {
	"status", "[--json]",
	"is a daemon running, VMs by state, events pending",
	0, 0, status,
};
