/*
 * main.c: the vmsched command. Reads the global options, finds the command
 * in the table (exact names only), opens the database if the command needs
 * it, runs it, and makes sure what it printed reached stdout before exiting
 * 0 (`vmsched list > /dev/full` fails).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int	cmd_help_fn(struct cli *, const struct cmd *, int, char **);

const struct cmd cmd_help = {
	"help", "[COMMAND]", "show the commands, or one command's usage",
	0, 1, cmd_help_fn, .cmd_operand = CV_COMMAND,
};

const struct cli_opt cli_global_opts[] = {
	{ "db", 'd', CV_FILE, "PATH", NULL, NULL, 0 },
	{ "json", 'j', CV_NONE, NULL, NULL, NULL, 0 },
	{ "help", 'h', CV_NONE, NULL, NULL, NULL, 0 },
	{ "version", 'V', CV_NONE, NULL, NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

const struct cmd *const cmd_table[] = {
	&cmd_add, &cmd_set, &cmd_remove, &cmd_list, &cmd_show, &cmd_log, &cmd_plan,
	&cmd_enable, &cmd_disable, &cmd_start, &cmd_stop, &cmd_suspend,
	&cmd_restart, &cmd_reset, &cmd_status, &cmd_metrics, &cmd_daemon,
	&cmd_probe, &cmd_qmp, &cmd_vmx_check,
	&cmd_import_launchd, &cmd_export_launchd, &cmd_export_systemd, &cmd_webhook,
	&cmd_events, &cmd_db, &cmd_completion, &cmd_complete, &cmd_help, NULL,
};

const struct cmd *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; cmd_table[i] != NULL; i++)
		if (strcmp(cmd_table[i]->cmd_name, name) == 0)
			return cmd_table[i];
	return NULL;
}

static void
usage_all(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: vmsched [--db PATH] [--json] COMMAND [ARGS]\n\n");
	for (i = 0; cmd_table[i] != NULL; i++)
		if (!cmd_table[i]->cmd_hidden)
			fprintf(fp, "  %-15s %s\n", cmd_table[i]->cmd_name,
			    cmd_table[i]->cmd_help);
	fprintf(fp, "\nvmsched help COMMAND shows a command's arguments.\n");
}

/* A command's options, from its table: "  -f, --follow", "  --limit N". */
static void
print_opts(const struct cli_opt *o)
{
	char letter[8];

	for (; o != NULL && o->co_name != NULL; o++) {
		letter[0] = '\0';
		if (o->co_short != 0)
			snprintf(letter, sizeof(letter), "-%c, ", o->co_short);
		printf("  %s--%s%s%s%s%s%s\n", letter, o->co_name,
		    o->co_meta ? " " : "", o->co_meta ? o->co_meta : "",
		    o->co_sub ? "  (" : "", o->co_sub ? o->co_sub : "",
		    o->co_sub ? ")" : "");
	}
}

static int
cmd_help_fn(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	const struct cmd *cmd;

	(void)cli;
	(void)self;
	if (argc < 2) {
		usage_all(stdout);
		return 0;
	}
	if ((cmd = cmd_find(argv[1])) == NULL)
		return cli_err(EX_USAGE, "help: %s: no such command", argv[1]);
	printf("usage: vmsched %s %s\n  %s\n", cmd->cmd_name, cmd->cmd_args,
	    cmd->cmd_help);
	if (cmd->cmd_opts != NULL || cmd->cmd_shared != NULL) {
		printf("options:\n");
		print_opts(cmd->cmd_opts);
		print_opts(cmd->cmd_shared);
	}
	return 0;
}

/*
 * Every argument is text, and vmsched's text is UTF-8: one that is not
 * would go on into JSON, plists and terminals that cannot hold it. 0, or
 * EX_USAGE after saying which.
 */
static int
args_utf8(int argc, char **argv)
{
	char shown[128];
	int i;

	for (i = 1; i < argc; i++) {
		if (text_utf8(argv[i], strlen(argv[i])))
			continue;
		text_shown(argv[i], shown, sizeof(shown));
		if (i > 1 && argv[i - 1][0] == '-' && argv[i - 1][1] != '\0' &&
		    strcmp(argv[i - 1], "--") != 0 &&
		    strchr(argv[i - 1], '=') == NULL)
			return cli_err(EX_USAGE, "%s %s: not valid UTF-8; "
			    "vmsched takes UTF-8 text", argv[i - 1], shown);
		return cli_err(EX_USAGE, "argument %d, %s: not valid UTF-8; "
		    "vmsched takes UTF-8 text", i, shown);
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct option globals[8];
	static char defpath[PATH_MAX];
	struct cli cli;
	const struct cmd *cmd;
	int opt, rc;

	memset(&cli, 0, sizeof(cli));
	cli.c_uid = (long)getuid();
	if ((rc = args_utf8(argc, argv)) != 0)
		return rc;
	if (cli_longopts(cli_global_opts, NULL, globals, 8) == -1)
		return cli_err(EX_SOFTWARE, "too many global options");
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:", globals, NULL)) != -1) {
		switch (opt) {
		case 'd':
			cli.c_dbpath = optarg;
			break;
		case 'j':
			cli.c_json = 1;
			break;
		case 'h':
			usage_all(stdout);
			return 0;
		case 'V':
			puts("vmsched " VMSCHED_VERSION);
			return 0;
		case ':':
			return cli_err(EX_USAGE, "%s needs a value",
			    argv[optind - 1]);
		default:
			cli_err(0, "unknown option %s", argv[optind - 1]);
			usage_all(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		cli_err(0, "no command given");
		usage_all(stderr);
		return EX_USAGE;
	}
	if ((cmd = cmd_find(argv[optind])) == NULL) {
		cli_err(0, "%s: no such command", argv[optind]);
		usage_all(stderr);
		return EX_USAGE;
	}
	argc -= optind;
	argv += optind;

	if (cli.c_dbpath == NULL)
		cli.c_dbpath = getenv("VMSCHED_DB");
	if (cli.c_dbpath == NULL || cli.c_dbpath[0] == '\0') {
		if (db_default_path(defpath, sizeof(defpath)) == -1)
			return cli_err(EX_CANTCREAT, "database: no --db, no "
			    "VMSCHED_DB and no HOME to put it in");
		cli.c_dbpath = defpath;
	}
	if (!text_utf8(cli.c_dbpath, strlen(cli.c_dbpath)))
		return cli_err(EX_USAGE, "database %s: the path is not valid "
		    "UTF-8; vmsched takes UTF-8 text", cli.c_dbpath);
	rc = cmd->cmd_fn(&cli, cmd, argc, argv);
	db_close(&cli.c_db);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (rc == 0)
			rc = cli_err(EX_IOERR, "stdout: %s", strerror(errno));
	}
	return rc;
}
