/*
 * cmd-export.c: the units that start `vmsched daemon` at boot.
 * export-launchd [--label L] [--user U] prints a LaunchDaemon plist (built
 * by sched/launchd.c), export-systemd a systemd service unit. Both run this
 * very binary, by its absolute path, on this database, and give the daemon
 * time to stop every VM before the service manager kills it: the sum of
 * the VMs' stop timeouts plus a margin, or no limit when a VM has none.
 * export-systemd --exe PATH --no-db is the unit `make install` installs:
 * the installed binary, the daemon's default database, no database read.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define DEFAULT_LABEL	"org.vmsched.daemon"
#define DEFAULT_LOG	"/var/log/vmsched.log"
#define STOP_MARGIN_S	30	/* the daemon's own shutdown, on top */

/*
 * A fresh host has no database yet: the daemon creates it when it first
 * starts, and exporting does not. The unit runs the daemon on path made
 * absolute, with no VMs to wait for. 0, or the exit code after why.
 */
static int
fresh(const char *path, char *dbpath, int64_t *stop_s, int64_t *count,
    int64_t *sum_ms)
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/')
		n = snprintf(dbpath, PATH_MAX, "%s", path);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		return cli_err(EX_OSERR, "the current directory: %s",
		    strerror(errno));
	else
		n = snprintf(dbpath, PATH_MAX, "%s/%s", cwd, path);
	if (n < 0 || n >= PATH_MAX)
		return cli_err(EX_USAGE, "%s: path too long", path);
	cli_err(0, "%s: no such database yet; the daemon creates it when it "
	    "first starts", dbpath);
	*stop_s = STOP_MARGIN_S;
	*count = 0;
	*sum_ms = 0;
	return 0;
}

/*
 * Open the database and find what the unit runs: this binary and the
 * database's absolute path, and the seconds a stop may take (0: no
 * limit). 0, or the exit code after printing why.
 */
static int
prepare(struct cli *cli, char *exe, char *dbpath, int64_t *stop_s,
    int64_t *count, int64_t *sum_ms)
{
	int rc, unbounded;

	if (cli_self_path(exe, PATH_MAX) == -1)
		return cli_err(EX_OSERR, "cannot find this vmsched's own "
		    "path: %s", strerror(errno));
	if (access(cli->c_dbpath, F_OK) == -1 && errno == ENOENT)
		return fresh(cli->c_dbpath, dbpath, stop_s, count, sum_ms);
	if ((rc = cli_open_read(cli)) != 0)
		return rc;
	if (realpath(cli->c_db.db_path, dbpath) == NULL)
		return cli_err(EX_OSERR, "%s: %s", cli->c_db.db_path,
		    strerror(errno));
	if ((rc = db_stop_timeouts(&cli->c_db, sum_ms, count,
	    &unbounded)) != DB_OK)
		return cli_dberr(cli, rc);
	*stop_s = unbounded ? 0 : (*sum_ms + 999) / 1000 + STOP_MARGIN_S;
	return 0;
}

/* No operands: say so before the usage line. */
static int
no_operands(const struct cmd *self, int argc, char **argv, int first)
{
	if (first >= argc)
		return 0;
	cli_err(0, "%s: %s: unexpected", self->cmd_name, argv[first]);
	return cli_usage(self);
}

/* A value fit for a plist string that launchd will read: printable. */
static int
printable(const char *opt, const char *s)
{
	const char *p;

	if (s[0] == '\0')
		return cli_err(EX_USAGE, "export-launchd: %s: must not be "
		    "empty", opt);
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return cli_err(EX_USAGE, "export-launchd: %s: holds "
			    "a control character", opt);
	if (!text_utf8(s, strlen(s)))
		return cli_err(EX_USAGE, "export-launchd: %s: not valid "
		    "UTF-8", opt);
	if (strstr(s, "\xef\xbf\xbe") != NULL ||
	    strstr(s, "\xef\xbf\xbf") != NULL)
		return cli_err(EX_USAGE, "export-launchd: %s: holds U+FFFE or "
		    "U+FFFF, which XML cannot", opt);
	return 0;
}

enum { O_LABEL = 256, O_USER, O_EXE, O_NO_DB };

struct export_opts {
	const char	*eo_label;
	const char	*eo_user;
};

static int
export_opt(int opt, const char *arg, void *p)
{
	struct export_opts *eo = p;

	if (opt == O_LABEL) {
		eo->eo_label = arg;
		return printable("--label", arg);
	}
	if (opt == O_USER) {
		eo->eo_user = arg;
		return printable("--user", arg);
	}
	return 0;
}

static int
export_launchd(struct cli *cli, const struct cmd *self, int argc,
    char **argv)
{
	struct export_opts eo = { DEFAULT_LABEL, NULL };
	struct launchd_daemon ld;
	const char *args[5];
	char exe[PATH_MAX], dbpath[PATH_MAX], *xml;
	int64_t stop_s, count, sum_ms;
	int rc, first;

	if ((rc = cli_getopt(self, NULL, argc, argv, export_opt, &eo,
	    &first, NULL)) != 0 ||
	    (rc = no_operands(self, argc, argv, first)) != 0 ||
	    (rc = prepare(cli, exe, dbpath, &stop_s, &count, &sum_ms)) != 0)
		return rc;
	args[0] = exe;
	args[1] = "--db";
	args[2] = dbpath;
	args[3] = "daemon";
	args[4] = NULL;
	ld.ld_label = eo.eo_label;
	ld.ld_argv = args;
	ld.ld_user = eo.eo_user;
	ld.ld_log = DEFAULT_LOG;
	ld.ld_exit_timeout = stop_s;
	if (launchd_export(&ld, &xml) == -1 && errno == EINVAL)
		return cli_err(EX_DATAERR, "export-launchd: %s or %s cannot be "
		    "written in a plist (not UTF-8 text)", exe, dbpath);
	if (xml == NULL)
		return cli_err(EX_OSERR, "export-launchd: %s", strerror(errno));
	fputs(xml, stdout);
	free(xml);
	return 0;
}

/*
 * s as one word of a systemd command line: bare when plain, else in double
 * quotes with \ and " escaped; % and $ doubled either way, so systemd
 * expands neither specifiers nor variables. -1 if s cannot be one word.
 */
static int
unit_word(const char *s, char *buf, size_t len)
{
	const char *p;
	size_t n = 0;
	int plain = s[0] != '\0';

	if (!text_utf8(s, strlen(s)))
		return -1;	/* systemd reads unit files as UTF-8 */
	for (p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._,:=+@-", *p))
			plain = 0;
	}
	if (len < 3)
		return -1;
	if (!plain)
		buf[n++] = '"';
	for (p = s; *p; p++) {
		if (n + 4 >= len)
			return -1;
		if (*p == '\\' || *p == '"')
			buf[n++] = '\\';
		else if (*p == '%' || *p == '$')
			buf[n++] = *p;
		buf[n++] = *p;
	}
	if (!plain)
		buf[n++] = '"';
	buf[n] = '\0';
	return 0;
}

/* export-systemd's options. */
struct systemd_opts {
	const char	*so_exe;	/* --exe: the program to run */
	int		 so_no_db;	/* --no-db: read no database */
};

static int
systemd_opt(int opt, const char *arg, void *p)
{
	struct systemd_opts *so = p;

	if (opt == O_EXE) {
		if (arg[0] != '/')
			return cli_err(EX_USAGE, "export-systemd: --exe %s: "
			    "must be an absolute path", arg);
		so->so_exe = arg;
	} else if (opt == O_NO_DB)
		so->so_no_db = 1;
	return 0;
}

static int
export_systemd(struct cli *cli, const struct cmd *self, int argc,
    char **argv)
{
	struct systemd_opts so = { NULL, 0 };
	char exe[PATH_MAX], dbpath[PATH_MAX], qexe[PATH_MAX * 2 + 3],
	    qdb[PATH_MAX * 2 + 3 + 6] = "", stop[32], sum[32];
	int64_t stop_s = 0, count = 0, sum_ms = 0;
	int rc, first;

	if ((rc = cli_getopt(self, NULL, argc, argv, systemd_opt, &so, &first,
	    NULL)) != 0 ||
	    (rc = no_operands(self, argc, argv, first)) != 0)
		return rc;
	if (so.so_no_db) {
		/* For packages and make install: no database yet. */
		if (cli_self_path(exe, sizeof(exe)) == -1)
			return cli_err(EX_OSERR, "cannot find this vmsched's "
			    "own path: %s", strerror(errno));
	} else if ((rc = prepare(cli, exe, dbpath, &stop_s, &count,
	    &sum_ms)) != 0)
		return rc;
	if (so.so_exe != NULL)
		snprintf(exe, sizeof(exe), "%s", so.so_exe);
	if (unit_word(exe, qexe, sizeof(qexe)) == -1)
		return cli_err(EX_SOFTWARE, "%s: cannot be written in a unit "
		    "file", exe);
	if (!so.so_no_db) {
		memcpy(qdb, "--db ", 5);
		if (unit_word(dbpath, qdb + 5, sizeof(qdb) - 6) == -1)
			return cli_err(EX_DATAERR, "%s: cannot be written in "
			    "a unit file", dbpath);
		strcat(qdb, " ");
	}
	if (stop_s == 0)
		snprintf(stop, sizeof(stop), "infinity");
	else
		snprintf(stop, sizeof(stop), "%lld", (long long)stop_s);
	printf("# vmsched.service: starts the vmsched daemon at boot; written "
	    "by vmsched export-systemd.\n"
	    "# Install: vmsched export-systemd > "
	    "/etc/systemd/system/vmsched.service\n"
	    "#          systemctl daemon-reload && systemctl enable --now "
	    "vmsched\n");
	if (so.so_no_db)
		printf("# The daemon's own database (as root: "
		    "/var/lib/vmsched/vmsched.db).\n"
		    "# TimeoutStopSec: the VMs are not known yet; the daemon "
		    "bounds each VM's stop\n# itself (--stop-timeout). Run "
		    "export-systemd once VMs are defined for a bound.\n");
	else if (stop_s == 0)
		printf("# TimeoutStopSec: a VM has no stop timeout (never "
		    "SIGKILL), so neither has the daemon.\n");
	else
		printf("# TimeoutStopSec: the stop timeouts of the %lld VM%s "
		    "defined (%s) plus %ds.\n", (long long)count,
		    count == 1 ? "" : "s",
		    value_fmt_duration(sum_ms, sum, sizeof(sum)),
		    STOP_MARGIN_S);
	printf("# Run export-systemd again after adding VMs.\n"
	    "\n"
	    "[Unit]\n"
	    "Description=vmsched: boot-time scheduler for virtual machines\n"
	    "After=network-online.target\n"
	    "Wants=network-online.target\n"
	    "\n"
	    "[Service]\n"
	    "Type=simple\n"
	    "ExecStart=%s %sdaemon\n"
	    "Restart=on-failure\n"
	    "# Stopping the unit signals only the daemon, which stops the "
	    "VMs in order.\n"
	    "KillMode=process\n"
	    "TimeoutStopSec=%s\n"
	    "\n"
	    "[Install]\n"
	    "WantedBy=multi-user.target\n", qexe, qdb, stop);
	return 0;
}

static const struct cli_opt export_launchd_opts[] = {
	{ "label", O_LABEL, CV_TEXT, "L", NULL, NULL, 0 },
	{ "user", O_USER, CV_USER, "U", NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

const struct cmd cmd_export_launchd = {
	"export-launchd", "[--label L] [--user U]",
	"print a LaunchDaemon plist that runs vmsched daemon at boot",
	0, 0, export_launchd, .cmd_opts = export_launchd_opts,
};

static const struct cli_opt export_systemd_opts[] = {
	{ "exe", O_EXE, CV_FILE, "PATH", NULL, NULL, 0 },
	{ "no-db", O_NO_DB, CV_NONE, NULL, NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

const struct cmd cmd_export_systemd = {
	"export-systemd", "[--exe PATH] [--no-db]",
	"print a systemd unit that runs vmsched daemon at boot",
	0, 0, export_systemd, .cmd_opts = export_systemd_opts,
};
