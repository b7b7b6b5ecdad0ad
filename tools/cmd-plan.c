/*
 * cmd-plan.c: vmsched plan prints the boot sequence the daemon would
 * follow, in waves, with each VM's dependencies and gates, without
 * starting anything. Shutdown runs the same waves, last first. A cycle
 * (which add and set refuse, but an edited database may hold) is reported.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int
print_plan(struct cli *cli, const struct db_graph *g, const int *wave,
    int nwaves)
{
	static const char *const heads[] = { "WAVE", "VM", "ORDER", "AFTER",
	    "GATES" };
	struct vm_def vd;
	struct table t;
	char w[16], order[16], after[1024], gates[2048];
	const char *cells[5];
	size_t i, k;
	int wv, rc = 0;

	if (table_init(&t, 5, heads) == -1)
		return cli_err(EX_OSERR, "out of memory");
	for (wv = 1; wv <= nwaves && rc == 0; wv++) {
		for (i = 0; i < g->g_n && rc == 0; i++) {
			if (wave[i] != wv)
				continue;
			vm_def_init(&vd);
			if ((rc = db_vm_get(&cli->c_db, g->g_names[i], &vd)) !=
			    DB_OK) {
				rc = cli_dberr(cli, rc);
				break;
			}
			snprintf(w, sizeof(w), "%d", wv);
			snprintf(order, sizeof(order), "%d%s", vd.vd_order,
			    vd.vd_enabled ? "" : " (disabled)");
			after[0] = gates[0] = '\0';
			for (k = 0; k < vd.vd_after.sv_n; k++)
				snprintf(after + strlen(after), sizeof(after) -
				    strlen(after), "%s%s", k ? "," : "",
				    vd.vd_after.sv_v[k]);
			for (k = 0; k < vd.vd_ngates; k++) {
				snprintf(gates + strlen(gates), sizeof(gates) -
				    strlen(gates), "%swait-%s ", k ? "; " : "",
				    value_gate_name(vd.vd_gates[k].g_kind));
				cli_quote(vd.vd_gates[k].g_arg, gates,
				    sizeof(gates));
			}
			if (vd.vd_ready_tcp)
				snprintf(gates + strlen(gates), sizeof(gates) -
				    strlen(gates), "%sready-tcp %s",
				    gates[0] ? "; " : "", vd.vd_ready_tcp);
			cells[0] = w;
			cells[1] = g->g_names[i];
			cells[2] = order;
			cells[3] = after[0] ? after : NULL;
			cells[4] = gates[0] ? gates : NULL;
			if (table_add(&t, cells) == -1)
				rc = cli_err(EX_OSERR, "out of memory");
			vm_def_free(&vd);
		}
	}
	if (rc == 0)
		table_print(&t, stdout);
	table_free(&t);
	return rc;
}

/*
 * Print [{"wave": 1, "vms": [...]}, ...]: the objects come from SQLite;
 * only the brackets between them are ours.
 */
static int
json_row(int wave, const char *obj, void *arg)
{
	int *last = arg;

	if (wave != *last)
		printf("%s{\"wave\":%d,\"vms\":[", *last ? "]}," : "[", wave);
	else
		putchar(',');
	fputs(obj, stdout);
	*last = wave;
	return 0;
}

static int
plan(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	struct db_graph g;
	int *wave = NULL, rc, first, nwaves, last;

	if ((rc = cli_getopt(self, NULL, argc, argv, cli_json_opt,
	    cli, &first, NULL)) != 0 ||
	    (rc = cli_nargs(self, argc - first)) != 0 ||
	    (rc = cli_open_read(cli)) != 0)
		return rc;
	if ((rc = db_graph_load(&cli->c_db, &g)) != DB_OK)
		return cli_dberr(cli, rc);
	if ((rc = db_graph_cycle(&cli->c_db, &g)) != DB_OK) {
		rc = rc == DB_REFUSED ? cli_err(EX_DATAERR, "plan: %s",
		    cli->c_db.db_err) : cli_dberr(cli, rc);
		goto done;
	}
	if ((wave = calloc(g.g_n + 1, sizeof(*wave))) == NULL ||
	    (nwaves = plan_waves(g.g_n, g.g_order, g.g_edges, g.g_nedges,
	    wave)) == -1) {
		rc = cli_err(EX_OSERR, "plan: out of memory");
		goto done;
	}
	if (cli->c_json) {
		last = 0;
		if ((rc = db_plan_rows(&cli->c_db, &g, wave, json_row,
		    &last)) != DB_OK)
			rc = cli_dberr(cli, rc);
		else
			puts(last ? "]}]" : "[]");
	} else
		rc = print_plan(cli, &g, wave, nwaves);
done:
	free(wave);
	db_graph_free(&g);
	return rc;
}

const struct cmd cmd_plan = {
	"plan", "[--json]",
	"the boot sequence the daemon would follow, in waves",
	0, 0, plan, .cmd_opts = cli_json_opts,
};
