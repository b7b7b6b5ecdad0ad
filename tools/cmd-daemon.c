/*
 * cmd-daemon.c: vmsched daemon runs the scheduler in the foreground: what
 * launchd or systemd starts at boot. It logs to stderr (or syslog), holds
 * the database's lock, and exits 0 once SIGTERM has stopped every VM; 75 if
 * another daemon holds the database. With --metrics-textfile PATH it keeps
 * `vmsched metrics`'s text in PATH for node_exporter (sched/metrics.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct daemon_args {
	struct sched_opts	 da_opts;
	int			 da_syslog;
};

static int
daemon_opt(int opt, const char *arg, void *p)
{
	struct daemon_args *da = p;
	const char *why;
	long n;

	switch (opt) {
	case 'r':
		if (value_double(arg, 0, 100000, &da->da_opts.so_restart_rate,
		    &why) == -1)
			return cli_err(EX_USAGE, "--max-restart-rate %s: %s "
			    "(restarts per second, 0: unlimited)", arg, why);
		break;
	case 'b':
		if (value_double(arg, 1, 100000, &da->da_opts.so_restart_burst,
		    &why) == -1)
			return cli_err(EX_USAGE, "--restart-burst %s: %s", arg,
			    why);
		break;
	case 'p':
		if (value_int(arg, 1, 100000, &n, &why) == -1)
			return cli_err(EX_USAGE, "--max-parallel-starts %s: %s",
			    arg, why);
		da->da_opts.so_max_parallel = (int)n;
		break;
	case 's':
		da->da_syslog = 1;
		break;
	case 'm':
		if (arg[0] != '/')
			return cli_err(EX_USAGE, "--metrics-textfile %s: must "
			    "be an absolute path", arg);
		da->da_opts.so_metrics_path = arg;
		break;
	}
	return 0;
}

static int
daemon_cmd(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	struct daemon_args da = {
		.da_opts = {
			.so_restart_rate = 20,
			.so_restart_burst = 100,
		},
	};
	static char self_path[PATH_MAX];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int rc, first;

	da.da_opts.so_max_parallel = ncpu > 0 ? (int)ncpu : 1;
	if (cli_self_path(self_path, sizeof(self_path)) == -1)
		return cli_err(EX_OSERR, "daemon: cannot find its own "
		    "binary: %s", strerror(errno));
	da.da_opts.so_self = self_path;
	if ((rc = cli_getopt(self, NULL, argc, argv, daemon_opt, &da, &first,
	    NULL)) != 0 || (rc = cli_nargs(self, argc - first)) != 0)
		return rc;
	da.da_opts.so_dbpath = cli->c_dbpath;
	log_init("vmsched", da.da_syslog);
	switch (sched_daemon(&da.da_opts)) {
	case 0:
		return 0;
	case SCHED_BUSY:
		return EX_TEMPFAIL;
	case SCHED_UNSAFE:
		return EX_NOPERM;
	default:
		return EX_SOFTWARE;
	}
}

static const struct cli_opt daemon_opts[] = {
	{ "max-parallel-starts", 'p', CV_TEXT, "N", NULL, NULL, 0 },
	{ "max-restart-rate", 'r', CV_TEXT, "N", NULL, NULL, 0 },
	{ "restart-burst", 'b', CV_TEXT, "N", NULL, NULL, 0 },
	{ "syslog", 's', CV_NONE, NULL, NULL, NULL, 0 },
	{ "metrics-textfile", 'm', CV_FILE, "PATH", NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

const struct cmd cmd_daemon = {
	"daemon", "[--max-parallel-starts N] [--max-restart-rate N] "
	"[--restart-burst N] [--syslog] [--metrics-textfile PATH]",
	"run the scheduler in the foreground (what launchd/systemd start)",
	0, 0, daemon_cmd, .cmd_opts = daemon_opts,
};
