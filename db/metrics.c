/*
 * metrics.c: the figures `vmsched metrics` and the daemon's metrics file
 * show (sched/metrics.c formats them), read in one snapshot: each VM's
 * state, restarts, consecutive failures and the start of its current run;
 * events pending and failed; when the daemon last started. And a stamp
 * that moves whenever the database may have changed, so the daemon
 * rewrites the file only then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* Each VM by name; started_at of the run that has a process, or 0. */
#define METRICS_VMS_SQL \
	"SELECT v.name, s.state, s.restarts, s.failures, " \
	"coalesce(c.started_at, 0) FROM vm v " \
	"JOIN vm_state s ON s.vm_id = v.id " \
	"LEFT JOIN run c ON c.id = s.run_id AND s.pid IS NOT NULL " \
	"ORDER BY v.name"
#define METRICS_TOTALS_SQL \
	"SELECT (SELECT count(*) FROM event WHERE status = 'pending'), " \
	"(SELECT count(*) FROM event WHERE status = 'failed'), " \
	"coalesce((SELECT started_at FROM daemon WHERE id = 1), 0)"

static int
load_vms(struct db *db, struct db_metrics *m)
{
	struct db_metrics_vm *v;
	sqlite3_stmt *st;
	const char *name, *state;
	size_t cap = 0;
	int rc;

	if ((st = db_prep(db, METRICS_VMS_SQL, "")) == NULL)
		return DB_ERR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (m->dm_nvms == cap) {
			cap = cap ? cap * 2 : 16;
			if ((v = realloc(m->dm_vms, cap * sizeof(*v))) == NULL)
				break;
			m->dm_vms = v;
		}
		v = &m->dm_vms[m->dm_nvms];
		memset(v, 0, sizeof(*v));
		name = (const char *)sqlite3_column_text(st, 0);
		state = (const char *)sqlite3_column_text(st, 1);
		if ((v->mv_name = strdup(name ? name : "")) == NULL)
			break;
		snprintf(v->mv_state, sizeof(v->mv_state), "%s", state ?
		    state : "");
		v->mv_restarts = sqlite3_column_int64(st, 2);
		v->mv_failures = sqlite3_column_int64(st, 3);
		v->mv_started_at = sqlite3_column_int64(st, 4);
		m->dm_nvms++;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return db_fail(db, DB_ERR, "metrics: out of memory");
	if (rc != SQLITE_DONE)
		return db_fail(db, DB_ERR, "metrics: %s",
		    sqlite3_errmsg(db->db_h));
	return DB_OK;
}

static int
load(struct db *db, void *arg)
{
	struct db_metrics *m = arg;
	sqlite3_stmt *st;
	int rc;

	if ((rc = load_vms(db, m)) != DB_OK)
		return rc;
	if ((st = db_prep(db, METRICS_TOTALS_SQL, "")) == NULL)
		return DB_ERR;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		m->dm_events_pending = sqlite3_column_int64(st, 0);
		m->dm_events_failed = sqlite3_column_int64(st, 1);
		m->dm_daemon_started_at = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_fail(db, DB_ERR, "metrics: %s",
		    sqlite3_errmsg(db->db_h));
	return DB_OK;
}

int
db_metrics(struct db *db, struct db_metrics *m)
{
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = db_snapshot(db, load, m)) != DB_OK)
		db_metrics_free(m);
	return rc;
}

void
db_metrics_free(struct db_metrics *m)
{
	size_t i;

	for (i = 0; i < m->dm_nvms; i++)
		free(m->dm_vms[i].mv_name);
	free(m->dm_vms);
	memset(m, 0, sizeof(*m));
}

int
db_change_stamp(struct db *db, int64_t *stamp)
{
	int64_t others;
	int rc;

	/* Both only grow: their sum moves when either does. */
	if ((rc = db_data_version(db, &others)) != DB_OK)
		return rc;
	*stamp = others + (int64_t)sqlite3_total_changes(db->db_h);
	return DB_OK;
}
