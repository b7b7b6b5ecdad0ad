/*
 * cmd-events.c: vmsched events [--pending|--failed] [--limit N] [--json]
 * prints the outbox, newest first: every event with its webhook delivery
 * status (none: history only, pending, delivered, failed), attempts, and
 * the last error or when it was delivered or is tried next.
 *
 * events -f prints the last events oldest first (10 unless --limit), then
 * each new one as it is recorded, as it stands then; woken as log -f is
 * (cli_follow), one JSON object a line with --json.
 */
#include <string.h>

#include "cli.h"

struct events_args {
	struct cli	*ea_cli;
	const char	*ea_status;	/* pending, failed, or NULL: all */
	long		 ea_limit;	/* -1: not given */
	int		 ea_follow;	/* -f */
	int64_t		 ea_last;	/* -f: the newest event printed */
	int		 ea_started;	/* -f: the backlog is out */
};

static int
events_opt(int opt, const char *arg, void *p)
{
	struct events_args *ea = p;
	const char *why, *status = NULL;

	switch (opt) {
	case 'f':
		ea->ea_follow = 1;
		return 0;
	case 'p':
		status = "pending";
		break;
	case 'x':
		status = "failed";
		break;
	case 'n':
		if (value_int(arg, 1, 1000000, &ea->ea_limit, &why) == -1)
			return cli_err(EX_USAGE, "events: --limit %s: %s", arg,
			    why);
		return 0;
	default:
		return cli_json_opt(opt, arg, ea->ea_cli);
	}
	if (ea->ea_status != NULL && strcmp(ea->ea_status, status) != 0)
		return cli_err(EX_USAGE, "events: --pending and --failed "
		    "exclude each other");
	ea->ea_status = status;
	return 0;
}

/* What happened to the delivery, in a few words. */
static const char *
note(const struct db_event_row *r, char *buf, size_t len)
{
	char when[32];

	if (strcmp(r->er_status, "delivered") == 0)
		snprintf(buf, len, "delivered %s", value_fmt_time(
		    r->er_delivered_at, when, sizeof(when)));
	else if (strcmp(r->er_status, "pending") == 0 && r->er_next_at > 0)
		snprintf(buf, len, "next try %s: %s", value_fmt_time(
		    r->er_next_at, when, sizeof(when)), r->er_error ?
		    r->er_error : "");
	else if (strcmp(r->er_status, "pending") == 0)
		snprintf(buf, len, "due");
	else if (r->er_error != NULL)
		snprintf(buf, len, "%s", r->er_error);
	else
		return NULL;
	return buf;
}

static int
events_row(const struct db_event_row *r, void *arg)
{
	struct table *t = arg;
	char id[32], when[32], attempts[16], what[512];
	const char *cells[7];

	snprintf(id, sizeof(id), "%lld", (long long)r->er_id);
	snprintf(attempts, sizeof(attempts), "%d", r->er_attempts);
	cells[0] = id;
	cells[1] = value_fmt_time(r->er_time, when, sizeof(when));
	cells[2] = r->er_event;
	cells[3] = r->er_vm;
	cells[4] = r->er_status;
	cells[5] = attempts;
	cells[6] = note(r, what, sizeof(what));
	return table_add(t, cells);
}

/* events -f: one event, on a line of its own. */
static int
follow_row(const struct db_event_row *r, void *p)
{
	struct events_args *ea = p;
	char id[32], when[32], attempts[16], what[512];
	const char *note_text;

	if (ea->ea_cli->c_json) {
		puts(r->er_json);
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", (long long)r->er_id);
	snprintf(attempts, sizeof(attempts), "%d", r->er_attempts);
	note_text = note(r, what, sizeof(what));
	printf("%-6s  %s  %-20s  %-12s  %-9s  %s%s%s\n", id,
	    value_fmt_time(r->er_time, when, sizeof(when)), r->er_event,
	    r->er_vm ? r->er_vm : "-", r->er_status, attempts,
	    note_text ? "  " : "", note_text ? note_text : "");
	return 0;
}

static int
follow_start(struct db *db, void *p)
{
	struct events_args *ea = p;

	return db_events_tail(db, ea->ea_limit, &ea->ea_last, follow_row, ea);
}

static int
follow_step(struct cli *cli, void *p)
{
	struct events_args *ea = p;
	int rc;

	if (ea->ea_started)
		rc = db_events_follow(&cli->c_db, &ea->ea_last, follow_row, ea);
	else
		rc = db_snapshot(&cli->c_db, follow_start, ea);
	ea->ea_started = 1;
	return rc == DB_OK ? 0 : cli_dberr(cli, rc);
}

static int
events(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	static const char *const heads[] = { "ID", "TIME", "EVENT", "VM",
	    "STATUS", "ATTEMPTS", "DELIVERY" };
	struct events_args ea = { .ea_cli = cli, .ea_limit = -1 };
	struct table t;
	char *json;
	int rc, first;

	if ((rc = cli_getopt(self, NULL, argc, argv, events_opt, &ea, &first,
	    NULL)) != 0)
		return rc;
	if (first < argc)
		return cli_err(EX_USAGE, "events: %s: unexpected", argv[first]);
	if (ea.ea_follow && ea.ea_status != NULL)
		return cli_err(EX_USAGE, "events: --follow shows every new "
		    "event; --%s does not go with it", ea.ea_status);
	if (ea.ea_limit == -1)
		ea.ea_limit = ea.ea_follow ? 10 : 50;
	if ((rc = cli_open_read(cli)) != 0)
		return rc;
	if (ea.ea_follow)
		return cli_follow(cli, follow_step, &ea);
	if (cli->c_json) {
		rc = db_events_json(&cli->c_db, ea.ea_status, ea.ea_limit,
		    &json);
		return rc == DB_OK ? cli_print_json(json) : cli_dberr(cli, rc);
	}
	if (table_init(&t, 7, heads) == -1)
		return cli_err(EX_OSERR, "out of memory");
	rc = db_events(&cli->c_db, ea.ea_status, ea.ea_limit, events_row, &t);
	if (rc == DB_OK)
		table_print(&t, stdout);
	table_free(&t);
	return rc == DB_OK ? 0 : cli_dberr(cli, rc);
}

static const struct cli_opt events_opts[] = {
	{ "pending", 'p', CV_NONE, NULL, NULL, NULL, 0 },
	{ "failed", 'x', CV_NONE, NULL, NULL, NULL, 0 },
	{ "limit", 'n', CV_TEXT, "N", NULL, NULL, 0 },
	{ "follow", 'f', CV_NONE, NULL, NULL, NULL, 'f' },
	{ "json", 'j', CV_NONE, NULL, NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

const struct cmd cmd_events = {
	"events", "[--pending|--failed | -f|--follow] [--limit N] [--json]",
	"the events outbox and webhook deliveries, newest first",
	0, 0, events, .cmd_opts = events_opts,
};
