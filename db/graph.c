/*
 * graph.c: the VMs as a dependency graph, for the planner. Nodes are the
 * VMs in id order, numbered from 0; edges are the --after dependencies.
 * Used to refuse cycles when a definition changes, by `vmsched plan`, and
 * by the daemon to order boot and shutdown.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"

void
db_graph_free(struct db_graph *g)
{
	size_t i;

	for (i = 0; g->g_names != NULL && i < g->g_n; i++)
		free(g->g_names[i]);
	free(g->g_names);
	free(g->g_ids);
	free(g->g_order);
	free(g->g_enabled);
	free(g->g_edges);
	memset(g, 0, sizeof(*g));
}

int
db_graph_load(struct db *db, struct db_graph *g)
{
	sqlite3_stmt *st;
	int64_t count, nedges;
	size_t n = 0, ne = 0;
	int rc;

	memset(g, 0, sizeof(*g));
	if (db_int(db, &count, "SELECT count(*) FROM vm", "") != DB_OK ||
	    db_int(db, &nedges, "SELECT count(*) FROM vm_after", "") != DB_OK)
		return DB_ERR;
	g->g_names = calloc((size_t)count + 1, sizeof(*g->g_names));
	g->g_ids = calloc((size_t)count + 1, sizeof(*g->g_ids));
	g->g_order = calloc((size_t)count + 1, sizeof(*g->g_order));
	g->g_enabled = calloc((size_t)count + 1, sizeof(*g->g_enabled));
	g->g_edges = calloc((size_t)nedges + 1, sizeof(*g->g_edges));
	if (!g->g_names || !g->g_ids || !g->g_order || !g->g_enabled ||
	    !g->g_edges) {
		db_graph_free(g);
		return db_fail(db, DB_ERR, "out of memory");
	}
	st = db_prep(db, "SELECT id, name, boot_order, enabled FROM vm "
	    "ORDER BY id", "");
	while (st != NULL && n < (size_t)count &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW) {
		g->g_ids[n] = sqlite3_column_int64(st, 0);
		g->g_names[n] = strdup((const char *)sqlite3_column_text(st, 1));
		g->g_order[n] = sqlite3_column_int(st, 2);
		g->g_enabled[n] = sqlite3_column_int(st, 3);
		g->g_n = ++n;
		if (g->g_names[n - 1] == NULL)
			break;
	}
	sqlite3_finalize(st);
	st = db_prep(db, "WITH r AS (SELECT id, row_number() OVER "
	    "(ORDER BY id) - 1 AS k FROM vm) SELECT a.k, b.k FROM vm_after e "
	    "JOIN r a ON a.id = e.vm_id JOIN r b ON b.id = e.after_id", "");
	while (st != NULL && ne < (size_t)nedges &&
	    sqlite3_step(st) == SQLITE_ROW) {
		g->g_edges[ne].pe_from = (size_t)sqlite3_column_int64(st, 0);
		g->g_edges[ne].pe_to = (size_t)sqlite3_column_int64(st, 1);
		ne++;
	}
	g->g_nedges = ne;
	sqlite3_finalize(st);
	if (st == NULL || n != (size_t)count || ne != (size_t)nedges ||
	    (n > 0 && g->g_names[n - 1] == NULL)) {
		db_graph_free(g);
		return db_fail(db, DB_ERR, "reading the dependency graph");
	}
	return DB_OK;
}

int
db_graph_cycle(struct db *db, const struct db_graph *g)
{
	char msg[512];
	size_t *cycle, len, i;
	int found;

	if ((cycle = calloc(g->g_n + 1, sizeof(*cycle))) == NULL)
		return db_fail(db, DB_ERR, "out of memory");
	found = plan_find_cycle(g->g_n, g->g_edges, g->g_nedges, cycle, &len);
	if (found == 1) {
		msg[0] = '\0';
		for (i = 0; i < len; i++) {
			if (i > 0)
				strncat(msg, " -> ", sizeof(msg) - strlen(msg) -
				    1);
			strncat(msg, g->g_names[cycle[i]], sizeof(msg) -
			    strlen(msg) - 1);
		}
		db_fail(db, DB_REFUSED, "dependency cycle: %s", msg);
	} else if (found == -1)
		db_fail(db, DB_ERR, "out of memory");
	free(cycle);
	return found == 0 ? DB_OK : found == 1 ? DB_REFUSED : DB_ERR;
}

/* One VM of the plan, to put in wave order. */
struct plan_row {
	int		 pr_wave;
	int		 pr_order;
	const char	*pr_name;
	char		*pr_json;
};

static int
plan_row_cmp(const void *a, const void *b)
{
	const struct plan_row *x = a, *y = b;

	if (x->pr_wave != y->pr_wave)
		return x->pr_wave < y->pr_wave ? -1 : 1;
	if (x->pr_order != y->pr_order)
		return x->pr_order < y->pr_order ? -1 : 1;
	return strcmp(x->pr_name, y->pr_name);
}

int
db_plan_rows(struct db *db, const struct db_graph *g, const int *wave,
    db_plan_cb cb, void *arg)
{
	struct plan_row *rows;
	sqlite3_stmt *st;
	const char *json;
	size_t i, n = 0;
	int rc;

	if ((rows = calloc(g->g_n + 1, sizeof(*rows))) == NULL)
		return db_fail(db, DB_ERR, "out of memory");
	/* One object a VM, in the graph's (id) order; sorted into waves
	 * here rather than by SQL, which would need the waves in a table. */
	/* Dependencies and gates aggregated once each and joined: a
	 * subquery per VM costs twice as much on a large fleet. */
	st = db_prep(db, "SELECT v.id, vms_utf8(json_object('name', v.name, "
	    "'order', v.boot_order, "
	    "'enabled', json(iif(v.enabled, 'true', 'false')), "
	    "'after', json(coalesce(d.after, '[]')), "
	    "'gates', json(coalesce(g.gates, '[]')), "
	    "'wait_timeout_ms', v.wait_timeout_ms, "
	    "'up_delay_ms', v.up_delay_ms, 'ready_tcp', v.ready_tcp, "
	    "'stop_timeout_ms', v.stop_timeout_ms)) "
	    "FROM vm v LEFT JOIN (SELECT e.vm_id, json_group_array(a.name) "
	    "    AS after FROM vm_after e JOIN vm a ON a.id = e.after_id "
	    "    GROUP BY e.vm_id) d ON d.vm_id = v.id "
	    "LEFT JOIN (SELECT vm_id, json_group_array(json_object('kind', "
	    "    kind, 'arg', arg)) AS gates FROM (SELECT vm_id, kind, arg "
	    "    FROM vm_gate ORDER BY vm_id, pos) GROUP BY vm_id) g "
	    "    ON g.vm_id = v.id "
	    "ORDER BY v.id", "");
	rc = st == NULL ? SQLITE_ERROR : SQLITE_ROW;
	while (st != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == g->g_n || sqlite3_column_int64(st, 0) != g->g_ids[n])
			break;	/* the definitions changed under us */
		json = (const char *)sqlite3_column_text(st, 1);
		rows[n].pr_wave = wave[n];
		rows[n].pr_order = g->g_order[n];
		rows[n].pr_name = g->g_names[n];
		if ((rows[n++].pr_json = strdup(json ? json : "{}")) == NULL)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || n != g->g_n) {
		rc = rc == SQLITE_ROW ? db_fail(db, DB_ERR, "plan: the "
		    "definitions changed while planning; try again") :
		    db_fail(db, DB_ERR, "plan: %s", sqlite3_errmsg(db->db_h));
		goto done;
	}
	qsort(rows, n, sizeof(*rows), plan_row_cmp);
	for (i = 0; i < n; i++)
		if (cb(rows[i].pr_wave, rows[i].pr_json, arg) != 0)
			break;
	rc = DB_OK;
done:
	for (i = 0; i < n; i++)
		free(rows[i].pr_json);
	free(rows);
	return rc;
}
