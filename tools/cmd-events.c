/*
 * cmd-events.c: vmsched events [--pending|--failed] [--limit N] [--json]
 * prints the outbox, newest first: every event with its webhook delivery
 * status (none: history only, pending, delivered, failed), attempts, and
 * the last error or when it was delivered or is tried next.
 */
#include <string.h>

#include "cli.h"

struct events_args {
	struct cli	*ea_cli;
	const char	*ea_status;	/* pending, failed, or NULL: all */
	long		 ea_limit;
};

static int
events_opt(int opt, const char *arg, void *p)
{
	struct events_args *ea = p;
	const char *why, *status = NULL;

	switch (opt) {
	case 'p':
		status = "pending";
		break;
	case 'f':
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

static int
events(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pending", no_argument, NULL, 'p' },
		{ "failed", no_argument, NULL, 'f' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const heads[] = { "ID", "TIME", "EVENT", "VM",
	    "STATUS", "ATTEMPTS", "DELIVERY" };
	struct events_args ea = { cli, NULL, 50 };
	struct table t;
	char *json;
	int rc, first;

	if ((rc = cli_options(self, argc, argv, opts, events_opt, &ea, &first,
	    NULL)) != 0)
		return rc;
	if (first < argc)
		return cli_err(EX_USAGE, "events: %s: unexpected", argv[first]);
	if ((rc = cli_open_read(cli)) != 0)
		return rc;
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

const struct cmd cmd_events = {
	"events", "[--pending|--failed] [--limit N] [--json]",
	"the events outbox and webhook deliveries, newest first",
	0, 0, events,
};
