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

int
db_plan_json(struct db *db, const struct db_graph *g, const int *wave,
    char **json)
{
	size_t i;
	int rc = DB_ERR;

	/* The waves go to a temporary table: nothing in the file changes. */
	if (db_exec(db, "CREATE TEMP TABLE IF NOT EXISTS plan_wave "
	    "(vm_id INTEGER PRIMARY KEY, wave INTEGER)", "") != DB_OK ||
	    db_exec(db, "DELETE FROM temp.plan_wave", "") != DB_OK)
		return DB_ERR;
	if (db_exec(db, "BEGIN", "") != DB_OK)
		return DB_ERR;
	for (i = 0; i < g->g_n; i++)
		if (db_exec(db, "INSERT INTO temp.plan_wave VALUES (?, ?)",
		    "in", g->g_ids[i], wave[i]) != DB_OK)
			break;
	if (db_exec(db, i == g->g_n ? "COMMIT" : "ROLLBACK", "") != DB_OK ||
	    i != g->g_n)
		return DB_ERR;
	rc = db_text(db, json, "SELECT json_group_array(json_object('wave', "
	    "wave, 'vms', json(vms))) FROM (SELECT p.wave, "
	    "json_group_array(json_object('name', v.name, "
	    "'order', v.boot_order, "
	    "'enabled', json(iif(v.enabled, 'true', 'false')), "
	    "'after', (SELECT json_group_array(name) FROM (SELECT a.name "
	    "    FROM vm_after e JOIN vm a ON a.id = e.after_id "
	    "    WHERE e.vm_id = v.id ORDER BY a.name)), "
	    "'gates', (SELECT json_group_array(json_object('kind', kind, "
	    "    'arg', arg)) FROM (SELECT kind, arg FROM vm_gate "
	    "    WHERE vm_id = v.id ORDER BY pos)), "
	    "'wait_timeout_ms', v.wait_timeout_ms, "
	    "'up_delay_ms', v.up_delay_ms, 'ready_tcp', v.ready_tcp, "
	    "'stop_timeout_ms', v.stop_timeout_ms)) AS vms "
	    "FROM temp.plan_wave p JOIN vm v ON v.id = p.vm_id "
	    "GROUP BY p.wave ORDER BY p.wave)", "");
	if (rc == DB_OK && *json == NULL)
		rc = db_fail(db, DB_ERR, "plan: no JSON");
	return rc;
}
