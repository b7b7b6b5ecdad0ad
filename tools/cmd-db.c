/*
 * cmd-db.c: vmsched db migrate|check|prune. Maintenance of the store:
 * bring the schema up to date, verify the file, and delete history older
 * than a number of days (the only thing that ever deletes history).
 */
#include <string.h>

#include "cli.h"

/*
 * Open without migrating, so migrate and check can report what they see;
 * check only reads, and never creates a database.
 */
static int
open_as_is(struct cli *cli, enum db_open_how how)
{
	int rc;

	if ((rc = db_open_how(&cli->c_db, cli->c_dbpath, 0, how)) != DB_OK)
		return cli_dberr(cli, rc);
	return 0;
}

static int
db_migrate_cmd(struct cli *cli)
{
	char path[PATH_MAX * 4];
	int rc, applied, version;

	if ((rc = open_as_is(cli, DB_OPEN_CREATE)) != 0)
		return rc;
	if ((rc = db_migrate(&cli->c_db, -1, &applied)) != DB_OK ||
	    (rc = db_version(&cli->c_db, &version)) != DB_OK)
		return cli_dberr(cli, rc);
	printf("%s: schema version %d (%d migration%s applied)\n",
	    text_shown(cli->c_dbpath, path, sizeof(path)), version, applied,
	    applied == 1 ? "" : "s");
	return 0;
}

static int
db_check_cmd(struct cli *cli)
{
	char path[PATH_MAX * 4];
	int rc, version;

	if ((rc = open_as_is(cli, DB_OPEN_READ)) != 0)
		return rc;
	if ((rc = db_check(&cli->c_db)) == DB_REFUSED) {
		cli_err(0, "%s: %s", cli->c_dbpath, cli->c_db.db_err);
		return EX_DATAERR;
	}
	if (rc != DB_OK || (rc = db_version(&cli->c_db, &version)) != DB_OK)
		return cli_dberr(cli, rc);
	printf("%s: ok, schema version %d\n", text_shown(cli->c_dbpath, path,
	    sizeof(path)), version);
	return 0;
}

static int
prune_opt(int opt, const char *arg, void *days)
{
	const char *why;

	if (opt == 'o' && value_int(arg, 0, 100000, days, &why) == -1)
		return cli_err(EX_USAGE, "--older-than %s: %s (a number of "
		    "days)", arg, why);
	return 0;
}

static int
db_prune_cmd(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	long days = -1, runs, events;
	int rc, first;

	if ((rc = cli_getopt(self, "prune", argc, argv, prune_opt, &days,
	    &first, NULL)) != 0)
		return rc;
	if (days < 0 || first != argc) {
		cli_err(0, "db prune: --older-than DAYS is required");
		return cli_usage(self);
	}
	if ((rc = cli_open_write(cli)) != 0)
		return rc;
	rc = db_prune(&cli->c_db, now_ms() - days * 86400000LL, &runs, &events);
	if (rc != DB_OK)
		return cli_dberr(cli, rc);
	printf("pruned %ld run%s and %ld event%s older than %ld day%s\n", runs,
	    runs == 1 ? "" : "s", events, events == 1 ? "" : "s", days,
	    days == 1 ? "" : "s");
	return 0;
}

static int
db_cmd(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "migrate") == 0 && argc == 2)
		return db_migrate_cmd(cli);
	if (argc >= 2 && strcmp(argv[1], "check") == 0 && argc == 2)
		return db_check_cmd(cli);
	if (argc >= 2 && strcmp(argv[1], "prune") == 0)
		return db_prune_cmd(cli, self, argc - 1, argv + 1);
	if (argc < 2)
		cli_err(0, "db: migrate, check or prune?");
	else if (strcmp(argv[1], "migrate") == 0 ||
	    strcmp(argv[1], "check") == 0)
		cli_err(0, "db %s: too many arguments", argv[1]);
	else
		cli_err(0, "db: %s: no such subcommand", argv[1]);
	return cli_usage(self);
}

static const struct cli_opt db_opts[] = {
	{ "older-than", 'o', CV_TEXT, "DAYS", NULL, "prune", 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

const struct cmd cmd_db = {
	"db", "migrate | check | prune --older-than DAYS",
	"maintain the database: schema, integrity, old history",
	1, 2, db_cmd, .cmd_opts = db_opts, .cmd_operand = CV_WORDS,
	.cmd_words = "migrate check prune",
};
