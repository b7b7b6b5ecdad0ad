/*
 * cmd-log.c: vmsched log [NAME] [--limit N] [--since T] prints the history
 * of runs and events, newest first. A run row says how it ended and what
 * the scheduler decided next and why: that is where "why did it (not)
 * restart?" is answered.
 *
 * log -f prints the last rows oldest first (10 unless --limit), then each
 * row as it lands: an event when it is recorded, a run when it starts and
 * again when it ends. It wakes when another connection commits (PRAGMA
 * data_version, every 250 ms), not on a fast poll, and ends cleanly on
 * SIGINT or when its reader goes; with --json, one object a line.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct log_args {
	struct cli	*la_cli;
	long		 la_limit;	/* rows at most; -1: not given */
	int64_t		 la_since;	/* Unix ms, 0: all */
	int		 la_rows;	/* rows printed */
	int		 la_follow;	/* -f */
	const char	*la_name;	/* the VM, or NULL: all */
	struct db_log_cursor la_cursor;	/* -f: what was printed */
	int		 la_started;	/* -f: the backlog is out */
};

#define LOG_LIMIT	50	/* rows by default */
#define FOLLOW_LIMIT	10	/* ... for -f, before it follows */

static int
log_opt(int opt, const char *arg, void *p)
{
	struct log_args *la = p;
	const char *why;

	switch (opt) {
	case 'n':
		if (value_int(arg, 1, 1000000, &la->la_limit, &why) == -1)
			return cli_err(EX_USAGE, "--limit %s: %s", arg, why);
		break;
	case 's':
		if (value_since(arg, now_ms(), &la->la_since, &why) == -1)
			return cli_err(EX_USAGE, "--since %s: %s", arg, why);
		break;
	case 'f':
		la->la_follow = 1;
		break;
	default:
		return cli_json_opt(opt, arg, la->la_cli);
	}
	return 0;
}

/* "pid 4242 exited 1 after 3s; on-failure: failure 3 of 10, retry in 4s" */
void
log_describe_run(const struct db_log_row *r, char *buf, size_t len)
{
	char sig[16], d1[32], d2[32];
	size_t n;

	n = (size_t)snprintf(buf, len, "run");
	if (r->lr_pid > 0)
		n += (size_t)snprintf(buf + n, len - n, " pid %ld", r->lr_pid);
	if (r->lr_ended == 0) {
		/* issue 12: how it started ("resumed", "taken over") */
		snprintf(buf + n, len - n, " running%s%s", r->lr_detail ?
		    ": " : "", r->lr_detail ? r->lr_detail : "");
		return;
	}
	n += (size_t)snprintf(buf + n, len - n, " %s", r->lr_reason ?
	    r->lr_reason : "ended");
	if (r->lr_signal > 0)
		n += (size_t)snprintf(buf + n, len - n, " by %s",
		    value_signame(r->lr_signal, sig, sizeof(sig)));
	else if (r->lr_code >= 0)
		n += (size_t)snprintf(buf + n, len - n, " %d", r->lr_code);
	/* From here n may pass len (a long detail): append only below it. */
	if (r->lr_detail && n < len)
		n += (size_t)snprintf(buf + n, len - n, ": %s", r->lr_detail);
	if (r->lr_pid > 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, " after %s",
		    value_fmt_duration(r->lr_ended - r->lr_time, d1,
		    sizeof(d1)));
	if (r->lr_rule && n < len)
		n += (size_t)snprintf(buf + n, len - n, "; %s", r->lr_rule);
	if (r->lr_failures > 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, ", failures %d",
		    r->lr_failures);
	if (r->lr_breaker && n < len)
		n += (size_t)snprintf(buf + n, len - n, ", gave up");
	else if (r->lr_delay_ms >= 0 && n < len)
		snprintf(buf + n, len - n, ", restart in %s",
		    value_fmt_duration(r->lr_delay_ms, d2, sizeof(d2)));
}

/* What a history row says, into buf. */
static void
describe(const struct db_log_row *r, char *what, size_t len)
{
	if (r->lr_is_run)
		log_describe_run(r, what, len);
	else if (r->lr_uid >= 0)
		/* An audit event: what changed (the whole definition is in
		 * --json and in show). */
		snprintf(what, len, "%s by uid %ld%s%s", r->lr_event,
		    r->lr_uid, strcmp(r->lr_event, "vm.changed") == 0 ? " " :
		    "", strcmp(r->lr_event, "vm.changed") == 0 && r->lr_detail ?
		    r->lr_detail : "");
	else
		/* The daemon's events repeat their run row: say the event. */
		snprintf(what, len, "%s%s%s", r->lr_event,
		    r->lr_summary ? " " : "", r->lr_summary ? r->lr_summary :
		    "");
}

static int
log_row(const struct db_log_row *r, void *p)
{
	struct table *t = p;
	char when[32], what[2048];
	const char *cells[3];

	describe(r, what, sizeof(what));
	cells[0] = value_fmt_time(r->lr_time, when, sizeof(when));
	cells[1] = r->lr_vm;
	cells[2] = what;
	return table_add(t, cells);
}

/* log -f: one row as it lands, on a line of its own. */
static int
follow_row(const struct db_log_row *r, void *p)
{
	struct log_args *la = p;
	char when[32], what[2048];

	la->la_rows++;
	if (la->la_cli->c_json) {
		puts(r->lr_json);
		return 0;
	}
	describe(r, what, sizeof(what));
	printf("%s  %-12s  %s\n", value_fmt_time(r->lr_time, when,
	    sizeof(when)), r->lr_vm ? r->lr_vm : "-", what);
	return 0;
}

/* The backlog and where following starts, from one snapshot. */
static int
follow_start(struct db *db, void *p)
{
	struct log_args *la = p;
	int rc;

	if ((rc = db_log_tail(db, la->la_name, la->la_since, la->la_limit,
	    !la->la_cli->c_json, follow_row, la)) != DB_OK)
		return rc;
	return db_log_cursor_init(db, la->la_name, &la->la_cursor);
}

/* cli_follow's step: the backlog first, then what landed since. */
static int
follow_step(struct cli *cli, void *p)
{
	struct log_args *la = p;
	int rc;

	if (la->la_started)
		rc = db_log_follow(&cli->c_db, la->la_name, !cli->c_json,
		    &la->la_cursor, follow_row, la);
	else if ((rc = db_snapshot(&cli->c_db, follow_start, la)) == DB_OK &&
	    la->la_name != NULL && la->la_rows == 0 &&
	    db_vm_exists(&cli->c_db, la->la_name) == 0)
		rc = db_fail(&cli->c_db, DB_NOTFOUND, "%s: no such VM and no "
		    "history", la->la_name);
	la->la_started = 1;
	return rc == DB_OK ? 0 : cli_dberr(cli, rc);
}

static int
log_cmd(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	static const char *const heads[] = { "TIME", "VM", "WHAT" };
	struct log_args la = { .la_cli = cli, .la_limit = -1 };
	const char *name = NULL;
	struct table t;
	char *json;
	int rc, first;

	/* The name may come before or after the options. */
	if (argc > 1 && argv[1][0] != '-') {
		name = argv[1];
		argc--;
		argv++;
	}
	if ((rc = cli_getopt(self, NULL, argc, argv, log_opt, &la, &first,
	    NULL)) != 0 || (rc = cli_nargs(self, argc - first +
	    (name != NULL))) != 0)
		return rc;
	if (name == NULL && first < argc)
		name = argv[first];
	if (la.la_limit == -1)
		la.la_limit = la.la_follow ? FOLLOW_LIMIT : LOG_LIMIT;
	if ((rc = cli_open_read(cli)) != 0)
		return rc;
	if (la.la_follow) {
		la.la_name = name;
		rc = cli_follow(cli, follow_step, &la);
		db_log_cursor_free(&la.la_cursor);
		return rc;
	}
	if (cli->c_json) {
		rc = db_log_json(&cli->c_db, name, la.la_since, la.la_limit,
		    &json);
		if (rc == DB_OK && name != NULL && strcmp(json, "[]") == 0 &&
		    db_vm_exists(&cli->c_db, name) == 0) {
			free(json);
			rc = db_fail(&cli->c_db, DB_NOTFOUND, "%s: no such VM "
			    "and no history", name);
		}
		return rc == DB_OK ? cli_print_json(json) : cli_dberr(cli, rc);
	}
	if (table_init(&t, 3, heads) == -1)
		return cli_err(EX_OSERR, "out of memory");
	rc = db_log(&cli->c_db, name, la.la_since, la.la_limit, log_row, &t);
	if (rc == DB_OK && name != NULL && t.t_nrows == 1 &&
	    db_vm_exists(&cli->c_db, name) == 0)
		rc = db_fail(&cli->c_db, DB_NOTFOUND, "%s: no such VM and no "
		    "history", name);
	if (rc == DB_OK)
		table_print(&t, stdout);
	table_free(&t);
	return rc == DB_OK ? 0 : cli_dberr(cli, rc);
}

static const struct cli_opt log_opts[] = {
	{ "limit", 'n', CV_TEXT, "N", NULL, NULL, 0 },
	{ "since", 's', CV_TEXT, "T", NULL, NULL, 0 },
	{ "follow", 'f', CV_NONE, NULL, NULL, NULL, 'f' },
	{ "json", 'j', CV_NONE, NULL, NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

const struct cmd cmd_log = {
	"log", "[NAME] [-f|--follow] [--limit N] [--since T] [--json]",
	"run/exit history and events, newest first",
	0, 1, log_cmd, .cmd_opts = log_opts, .cmd_operand = CV_VM,
};
