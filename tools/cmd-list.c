/*
 * cmd-list.c: vmsched list prints one row per VM: name, boot order, restart
 * policy, state, pid, restarts, last exit, uptime and (issue 12), when
 * the fleet has a VM that is not exec, the driver, with how a detached VM
 * is known to live; --json an array (with driver and liveness). On
 * a terminal, what a waiting or blocked VM waits for is cut to the
 * terminal's width (show has it all); into a pipe or a file, nothing is.
 */
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* "exited 1", "crashed SEGV", "exec-failed", or NULL if it never ended. */
static const char *
last_exit(const struct db_vm_row *r, char *buf, size_t len)
{
	char sig[16];

	if (r->vr_last_reason == NULL)
		return NULL;
	if (r->vr_last_signal > 0)
		snprintf(buf, len, "%s %s", r->vr_last_reason,
		    value_signame(r->vr_last_signal, sig, sizeof(sig)));
	else if (r->vr_last_code >= 0)
		snprintf(buf, len, "%s %d", r->vr_last_reason,
		    r->vr_last_code);
	else
		snprintf(buf, len, "%s", r->vr_last_reason);
	return buf;
}

/* Issue 12: the driver, and for a detached VM how it is known to live. */
static const char *
driver(const struct db_vm_row *r)
{
	if (r->vr_driver == NULL || strcmp(r->vr_driver, "detached") != 0)
		return r->vr_driver;
	if (r->vr_pid_file && r->vr_status)
		return "detached (pid file, status)";
	return r->vr_pid_file ? "detached (pid file)" : "detached (status)";
}

/* The table list builds, and whether a VM of it is not exec. */
struct listing {
	struct table	 l_t;
	int		 l_other;	/* a driver other than exec */
};

static int
list_row(const struct db_vm_row *r, void *arg)
{
	struct listing *l = arg;
	struct table *t = &l->l_t;
	char order[16], pid[16], restarts[16], last[64], up[32], state[8192];
	const char *cells[9];

	snprintf(order, sizeof(order), "%d", r->vr_order);
	snprintf(pid, sizeof(pid), "%ld", r->vr_pid);
	snprintf(restarts, sizeof(restarts), "%d", r->vr_restarts);
	cells[0] = r->vr_name;
	cells[1] = order;
	cells[2] = r->vr_restart;
	/* What a waiting or blocked VM waits for: "blocked: after db, ..." */
	if (r->vr_why != NULL && (strcmp(r->vr_state, "blocked") == 0 ||
	    strcmp(r->vr_state, "waiting") == 0))
		snprintf(state, sizeof(state), "%s: %s", r->vr_state,
		    r->vr_why);
	else
		snprintf(state, sizeof(state), "%s", r->vr_state);
	cells[3] = state;
	cells[4] = r->vr_pid > 0 ? pid : NULL;
	cells[5] = restarts;
	cells[6] = last_exit(r, last, sizeof(last));
	cells[7] = r->vr_started > 0 ? value_fmt_duration(now_ms() -
	    r->vr_started, up, sizeof(up)) : NULL;
	cells[8] = driver(r);
	if (r->vr_driver != NULL && strcmp(r->vr_driver, "exec") != 0)
		l->l_other = 1;
	return table_add(t, cells);
}

/* list --json: the objects come from SQLite, the brackets from us; one
 * at a time, so a large fleet is never one big string. */
static int
json_row(const struct db_vm_row *r, void *first)
{
	if (!*(int *)first)
		putchar(',');
	*(int *)first = 0;
	fputs(r->vr_json, stdout);
	return 0;
}

static int
list(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	static const char *const heads[] = { "NAME", "ORDER", "RESTART",
	    "STATE", "PID", "RESTARTS", "LAST EXIT", "UPTIME", "DRIVER" };
	struct listing l;
	struct table *t = &l.l_t;
	int rc, first, one = 1;

	if ((rc = cli_getopt(self, NULL, argc, argv, cli_json_opt, cli, &first,
	    NULL)) != 0 || (rc = cli_nargs(self, argc - first)) != 0 ||
	    (rc = cli_open_read(cli)) != 0)
		return rc;
	if (cli->c_json) {
		putchar('[');
		if ((rc = db_list(&cli->c_db, NULL, 1, json_row, &one)) != DB_OK)
			return cli_dberr(cli, rc);
		puts("]");
		return 0;
	}
	l.l_other = 0;
	if (table_init(t, 9, heads) == -1)
		return cli_err(EX_OSERR, "out of memory");
	rc = db_list(&cli->c_db, NULL, 0, list_row, &l);
	/* A fleet of exec VMs only: nothing to say in DRIVER. */
	if (rc == DB_OK && !l.l_other)
		table_drop_last(t);
	if (rc == DB_OK && isatty(STDOUT_FILENO))
		table_fit(t, 3, cli_term_width(STDOUT_FILENO));
	if (rc == DB_OK)
		table_print(t, stdout);
	table_free(t);
	return rc == DB_OK ? 0 : cli_dberr(cli, rc);
}

const struct cmd cmd_list = {
	"list", "[--json]", "one row per VM: state, pid, restarts, last exit",
	0, 0, list, .cmd_opts = cli_json_opts,
};
