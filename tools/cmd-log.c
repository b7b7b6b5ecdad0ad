/*
 * cmd-log.c: vmsched log [NAME] [--limit N] [--since T] prints the history
 * of runs and events, newest first. A run row says how it ended and what
 * the scheduler decided next and why: that is where "why did it (not)
 * restart?" is answered.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct log_args {
	struct cli	*la_cli;
	long		 la_limit;	/* rows at most */
	int64_t		 la_since;	/* Unix ms, 0: all */
	int		 la_rows;	/* rows printed */
};

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
	default:
		return cli_json_opt(opt, arg, la->la_cli);
	}
	return 0;
}

/* "pid 4242 exited 1 after 3s; on-failure: failure 3 of 10, retry in 4s" */
static void
describe_run(const struct db_log_row *r, char *buf, size_t len)
{
	char sig[16], d1[32], d2[32];
	size_t n;

	n = (size_t)snprintf(buf, len, "run");
	if (r->lr_pid > 0)
		n += (size_t)snprintf(buf + n, len - n, " pid %ld", r->lr_pid);
	if (r->lr_ended == 0) {
		snprintf(buf + n, len - n, " running");
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

static int
log_row(const struct db_log_row *r, void *p)
{
	struct table *t = p;
	char when[32], what[2048];
	const char *cells[3];

	if (r->lr_is_run)
		describe_run(r, what, sizeof(what));
	else if (r->lr_uid >= 0)
		/* An audit event: what changed (the whole definition is in
		 * --json and in show). */
		snprintf(what, sizeof(what), "%s by uid %ld%s%s", r->lr_event,
		    r->lr_uid, strcmp(r->lr_event, "vm.changed") == 0 ? " " :
		    "", strcmp(r->lr_event, "vm.changed") == 0 && r->lr_detail ?
		    r->lr_detail : "");
	else
		/* The daemon's events repeat their run row: say the event. */
		snprintf(what, sizeof(what), "%s%s%s", r->lr_event,
		    r->lr_summary ? " " : "", r->lr_summary ? r->lr_summary :
		    "");
	cells[0] = value_fmt_time(r->lr_time, when, sizeof(when));
	cells[1] = r->lr_vm;
	cells[2] = what;
	return table_add(t, cells);
}

static int
log_cmd(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'n' },
		{ "since", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const heads[] = { "TIME", "VM", "WHAT" };
	struct log_args la = { cli, 50, 0, 0 };
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
	if ((rc = cli_options(self, argc, argv, opts, log_opt, &la, &first,
	    NULL)) != 0 || (rc = cli_nargs(self, argc - first +
	    (name != NULL))) != 0)
		return rc;
	if (name == NULL && first < argc)
		name = argv[first];
	if ((rc = cli_open_read(cli)) != 0)
		return rc;
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

const struct cmd cmd_log = {
	"log", "[NAME] [--limit N] [--since T] [--json]",
	"run/exit history and events, newest first",
	0, 1, log_cmd,
};
