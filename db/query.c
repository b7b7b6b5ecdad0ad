/*
 * query.c: what the read commands show. Each view is one SQL statement
 * whose rows feed a human table and whose JSON column, produced by SQLite's
 * json_object() and aggregated by json_group_array(), is what --json prints,
 * so the two never disagree and no JSON is escaped by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/*
 * A VM with its state: the definition v, its state s, its last ended run r
 * (kept in vm_state by the daemon, so list reads one row per VM rather
 * than searching each VM's history) and its current run c.
 */
#define LIST_FROM \
	"FROM vm v JOIN vm_state s ON s.vm_id = v.id " \
	"LEFT JOIN run r ON r.id = s.last_run_id " \
	"LEFT JOIN run c ON c.id = s.run_id "

/* Issue 12: how a VM is known to live (NULL for exec). */
#define LIVENESS \
	"vms_liveness(v.driver, v.pid_file, v.status_cmd, " \
	"v.status_interval_ms)"

/* The keys list --json promises, then more of them for show. */
#define LIST_KEYS \
	"'name', v.name, 'state', s.state, 'pid', s.pid, " \
	"'order', v.boot_order, 'restart', v.restart, " \
	"'restarts', s.restarts, 'failures', s.failures, " \
	"'last_exit', json(CASE WHEN r.id IS NULL THEN NULL ELSE " \
	"    json_object('code', r.exit_code, 'signal', " \
	"    vms_signame(r.signal), 'reason', r.reason, " \
	"    'at', vms_time(r.ended_at)) END), " \
	"'since', vms_time(s.state_since), " \
	"'started_at', vms_time(c.started_at), 'why', s.why, " \
	"'driver', v.driver, 'liveness', " LIVENESS

#define STATE_KEYS \
	"'desired', s.desired, 'next_start_at', vms_time(s.next_start_at)"

/* Issue 12: the detached driver's ways, an object (NULL for exec). */
#define DETACHED_KEYS \
	"(CASE WHEN v.driver = 'detached' THEN json_object(" \
	"'pid_file', v.pid_file, 'status_cmd', json(v.status_cmd), " \
	"'status_interval_ms', v.status_interval_ms, " \
	"'status_map', json(v.status_map), 'stop_cmd', json(v.stop_cmd), " \
	"'kill_cmd', json(v.kill_cmd), 'suspend_cmd', json(v.suspend_cmd), " \
	"'resume_cmd', json(v.resume_cmd), " \
	"'cmd_timeout_ms', v.cmd_timeout_ms) END)"

/* A definition, from v. */
#define DEF_KEYS \
	"'argv', json(v.argv), " \
	"'after', (SELECT json_group_array(name) FROM (SELECT a.name " \
	"    FROM vm_after e JOIN vm a ON a.id = e.after_id " \
	"    WHERE e.vm_id = v.id ORDER BY a.name)), " \
	"'gates', (SELECT json_group_array(json_object('kind', kind, " \
	"    'arg', arg)) FROM (SELECT kind, arg FROM vm_gate " \
	"    WHERE vm_id = v.id ORDER BY pos)), " \
	"'user', v.user, 'cwd', v.cwd, " \
	"'env', (SELECT json_group_object(substr(value, 1, " \
	"    instr(value, '=') - 1), substr(value, instr(value, '=') + 1)) " \
	"    FROM json_each(v.env)), " \
	"'enabled', json(iif(v.enabled, 'true', 'false')), " \
	"'order', v.boot_order, 'restart', v.restart, " \
	"'success_codes', json(v.success_codes), " \
	"'wait_timeout_ms', v.wait_timeout_ms, " \
	"'up_delay_ms', v.up_delay_ms, 'ready_tcp', v.ready_tcp, " \
	"'stop_signal', vms_signame(v.stop_signal), " \
	"'suspend_signal', vms_signame(v.suspend_signal), " \
	"'stop_timeout_ms', v.stop_timeout_ms, " \
	"'backoff_initial_ms', v.backoff_initial_ms, " \
	"'backoff_factor', v.backoff_factor, " \
	"'backoff_max_ms', v.backoff_max_ms, " \
	"'backoff_reset_ms', v.backoff_reset_ms, " \
	"'max_failures', v.max_failures, 'log_path', v.log_path, " \
	"'driver', v.driver, 'detached', " DETACHED_KEYS ", " \
	"'created_at', vms_time(v.created_at), " \
	"'updated_at', vms_time(v.updated_at)"

#define LIST_SQL \
	"SELECT v.name, v.boot_order, v.restart, s.state, s.pid, " \
	"s.restarts, s.failures, s.state_since, c.started_at, s.why, " \
	"r.reason, r.exit_code, r.signal, r.ended_at, " \
	"CASE WHEN $json THEN vms_utf8(json_object(" LIST_KEYS ")) END AS j, " \
	"v.driver, v.pid_file IS NOT NULL, v.status_cmd IS NOT NULL " \
	LIST_FROM

/* Run a one-row, one-column query that yields JSON text. */
static int
json_query(struct db *db, char **json, const char *sql, const char *types,
    ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = db_textv(db, json, sql, types, ap);
	va_end(ap);
	if (rc == DB_OK && *json == NULL)
		rc = DB_NOTFOUND;
	if (rc == DB_NOTFOUND)
		db_fail(db, DB_NOTFOUND, "no such VM");
	return rc;
}

int
db_def_json(struct db *db, int64_t id, char **json)
{
	return json_query(db, json, "SELECT json_object('name', v.name, "
	    DEF_KEYS ") FROM vm v WHERE v.id = ?", "i", id);
}

int
db_show_json(struct db *db, const char *name, char **json)
{
	int rc;

	rc = json_query(db, json, "SELECT vms_utf8(json_object(" LIST_KEYS
	    ", " STATE_KEYS ", " DEF_KEYS ")) " LIST_FROM "WHERE v.name = ?",
	    "t", name);
	if (rc == DB_NOTFOUND)
		db_fail(db, rc, "%s: no such VM", name);
	return rc;
}

static int64_t
col_int(sqlite3_stmt *st, int i, int64_t null)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? null :
	    sqlite3_column_int64(st, i);
}

int
db_list(struct db *db, const char *name, int json, db_vm_cb cb, void *arg)
{
	struct db_vm_row row;
	sqlite3_stmt *st;
	int rc;

	/* $json comes first in LIST_SQL: it is parameter 1. */
	if (name)
		st = db_prep(db, LIST_SQL "WHERE v.name = ?", "nt", json, name);
	else
		st = db_prep(db, LIST_SQL "ORDER BY v.boot_order, v.name",
		    "n", json);
	if (st == NULL)
		return DB_ERR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.vr_name = (const char *)sqlite3_column_text(st, 0);
		row.vr_order = sqlite3_column_int(st, 1);
		row.vr_restart = (const char *)sqlite3_column_text(st, 2);
		row.vr_state = (const char *)sqlite3_column_text(st, 3);
		row.vr_pid = (long)col_int(st, 4, -1);
		row.vr_restarts = sqlite3_column_int(st, 5);
		row.vr_failures = sqlite3_column_int(st, 6);
		row.vr_since = col_int(st, 7, 0);
		row.vr_started = col_int(st, 8, 0);
		row.vr_why = (const char *)sqlite3_column_text(st, 9);
		row.vr_last_reason = (const char *)sqlite3_column_text(st, 10);
		row.vr_last_code = (int)col_int(st, 11, -1);
		row.vr_last_signal = (int)col_int(st, 12, 0);
		row.vr_last_at = col_int(st, 13, 0);
		row.vr_json = (const char *)sqlite3_column_text(st, 14);
		row.vr_driver = (const char *)sqlite3_column_text(st, 15);
		row.vr_pid_file = sqlite3_column_int(st, 16);
		row.vr_status = sqlite3_column_int(st, 17);
		if (cb(&row, arg) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, DB_ERR, "reading the VMs: %s",
		    sqlite3_errmsg(db->db_h));
	return DB_OK;
}

/*
 * History: runs and events merged newest first. Each arm walks an index on
 * (vm, time) or (time) backwards, so LIMIT stops the walk: log never scans
 * the whole history. %s is "vm = ?1 AND " for one VM, or nothing; ?4
 * leaves out the events that repeat a run row, ?5 every event. Both arms
 * have the columns read_row reads; the last, j, is the row as --json has
 * it.
 */
#define LOG_RUN_COLS \
	"started_at AS t, vm, 1, id, ended_at, pid, exit_code, " \
	"signal, reason, detail, rule, failures, delay_ms, breaker, NULL, " \
	"NULL, NULL, json_object('time', vms_time(started_at), 'vm', vm, " \
	"'kind', 'run', 'started_at', vms_time(started_at), " \
	"'ended_at', vms_time(ended_at), 'pid', pid, 'exit_code', exit_code, " \
	"'signal', vms_signame(signal), 'reason', reason, 'detail', detail, " \
	"'failures', failures, 'delay_ms', delay_ms, 'rule', rule, " \
	"'breaker', json(iif(breaker, 'true', 'false'))) AS j "
#define LOG_EVENT_COLS \
	"time, vm, 0, id, NULL, NULL, NULL, NULL, NULL, detail, " \
	"NULL, NULL, NULL, NULL, event, uid, nullif(trim(" \
	"    coalesce('pid ' || (detail ->> 'pid') || ' ', '') || " \
	"    coalesce('in ' || (detail ->> 'delay_ms') || 'ms ', '') || " \
	"    coalesce(detail ->> 'why', '')), ''), json_object('time', " \
	"vms_time(time), 'vm', vm, 'kind', 'event', 'event', event, " \
	"'detail', json(detail), 'uid', uid) "
/* ?4: for people, who see these in their run row */
#define LOG_FOR_PEOPLE \
	"(?4 = 0 OR event NOT IN " \
	"    ('vm.started', 'vm.exited', 'vm.restart_scheduled')) "
#define LOG_SQL \
	"SELECT " LOG_RUN_COLS "FROM run WHERE %s started_at >= ?2 " \
	"UNION ALL " \
	"SELECT " LOG_EVENT_COLS "FROM event WHERE %s time >= ?2 AND " \
	LOG_FOR_PEOPLE "AND NOT ?5 " \
	"ORDER BY 1 DESC, 4 DESC LIMIT ?3"

/* LOG_SQL for one VM or all, inside wrap ("%s" or a select around it). */
static char *
log_sql(const char *name, const char *wrap)
{
	const char *where = name ? "vm = ?1 AND" : "";
	size_t len = strlen(LOG_SQL) + strlen(wrap) + 2 * strlen(where) + 1;
	char *inner, *sql;

	inner = malloc(len);
	sql = malloc(len);
	if (inner == NULL || sql == NULL) {
		free(inner);
		free(sql);
		return NULL;
	}
	snprintf(inner, len, LOG_SQL, where, where);
	snprintf(sql, len, wrap, inner);
	free(inner);
	return sql;
}

/* One row of LOG_RUN_COLS/LOG_EVENT_COLS, its time from column tcol. */
static void
read_row(sqlite3_stmt *st, int tcol, struct db_log_row *row)
{
	memset(row, 0, sizeof(*row));
	row->lr_time = sqlite3_column_int64(st, tcol);
	row->lr_vm = (const char *)sqlite3_column_text(st, 1);
	row->lr_is_run = sqlite3_column_int(st, 2);
	row->lr_id = sqlite3_column_int64(st, 3);
	row->lr_ended = col_int(st, 4, 0);
	row->lr_pid = (long)col_int(st, 5, -1);
	row->lr_code = (int)col_int(st, 6, -1);
	row->lr_signal = (int)col_int(st, 7, 0);
	row->lr_reason = (const char *)sqlite3_column_text(st, 8);
	row->lr_detail = (const char *)sqlite3_column_text(st, 9);
	row->lr_rule = (const char *)sqlite3_column_text(st, 10);
	row->lr_failures = (int)col_int(st, 11, 0);
	row->lr_delay_ms = col_int(st, 12, -1);
	row->lr_breaker = (int)col_int(st, 13, 0);
	row->lr_event = (const char *)sqlite3_column_text(st, 14);
	row->lr_uid = (long)col_int(st, 15, -1);
	row->lr_summary = (const char *)sqlite3_column_text(st, 16);
	row->lr_json = (const char *)sqlite3_column_text(st, 17);
}

/* Step st to the end, calling cb with each row (time from tcol). */
static int
each_row(struct db *db, sqlite3_stmt *st, int tcol, db_log_cb cb, void *arg)
{
	struct db_log_row row;
	int rc;

	if (st == NULL)
		return DB_ERR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_row(st, tcol, &row);
		if (cb(&row, arg) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, DB_ERR, "reading the history: %s",
		    sqlite3_errmsg(db->db_h));
	return DB_OK;
}

/* db_log, db_runs and db_log_tail: LOG_SQL inside wrap. */
static int
log_rows(struct db *db, const char *name, int64_t since_ms, long limit,
    int human, int runs_only, const char *wrap, db_log_cb cb, void *arg)
{
	sqlite3_stmt *st;
	char *sql;

	if ((sql = log_sql(name, wrap)) == NULL)
		return db_fail(db, DB_ERR, "out of memory");
	st = db_prep(db, sql, "tiinn", name, since_ms, (int64_t)limit, human,
	    runs_only);
	free(sql);
	return each_row(db, st, 0, cb, arg);
}

int
db_log(struct db *db, const char *name, int64_t since_ms, long limit,
    db_log_cb cb, void *arg)
{
	return log_rows(db, name, since_ms, limit, 1, 0, "%s", cb, arg);
}

int
db_runs(struct db *db, const char *name, long limit, db_log_cb cb, void *arg)
{
	return log_rows(db, name, 0, limit, 1, 1, "%s", cb, arg);
}

int
db_log_json(struct db *db, const char *name, int64_t since_ms, long limit,
    char **json)
{
	char *sql;
	int rc;

	if ((sql = log_sql(name, "SELECT vms_utf8(json_group_array(json(j))) "
	    "FROM (%s)"))
	    == NULL)
		return db_fail(db, DB_ERR, "out of memory");
	rc = json_query(db, json, sql, "tiinn", name, since_ms, (int64_t)limit,
	    0, 0);
	free(sql);
	return rc;
}

/* ---- issue 13: log -f ---- */

int
db_log_tail(struct db *db, const char *name, int64_t since_ms, long limit,
    int human, db_log_cb cb, void *arg)
{
	return log_rows(db, name, since_ms, limit, human, 0,
	    "SELECT * FROM (%s) ORDER BY 1, 4", cb, arg);
}

/* Remember run id as open; 0 or DB_ERR. */
static int
cursor_add_open(struct db *db, struct db_log_cursor *lc, int64_t id)
{
	int64_t *v;

	if (lc->lc_nopen == lc->lc_cap) {
		lc->lc_cap = lc->lc_cap ? lc->lc_cap * 2 : 16;
		v = realloc(lc->lc_open, lc->lc_cap * sizeof(*v));
		if (v == NULL)
			return db_fail(db, DB_ERR, "out of memory");
		lc->lc_open = v;
	}
	lc->lc_open[lc->lc_nopen++] = id;
	return DB_OK;
}

int
db_log_cursor_init(struct db *db, const char *name, struct db_log_cursor *lc)
{
	sqlite3_stmt *st;
	int rc;

	memset(lc, 0, sizeof(*lc));
	if ((rc = db_int(db, &lc->lc_run, "SELECT coalesce(max(id), 0) FROM "
	    "run", "")) != DB_OK || (rc = db_int(db, &lc->lc_event,
	    "SELECT coalesce(max(id), 0) FROM event", "")) != DB_OK)
		return rc;
	/* run_open, the index of runs without an end */
	st = db_prep(db, "SELECT id FROM run WHERE ended_at IS NULL AND "
	    "(?1 IS NULL OR vm = ?1)", "t", name);
	if (st == NULL)
		return DB_ERR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (cursor_add_open(db, lc, sqlite3_column_int64(st, 0)) !=
		    DB_OK)
			break;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return rc == SQLITE_ROW ? DB_ERR : db_fail(db, DB_ERR, "%s",
		    sqlite3_errmsg(db->db_h));
	return DB_OK;
}

void
db_log_cursor_free(struct db_log_cursor *lc)
{
	free(lc->lc_open);
	memset(lc, 0, sizeof(*lc));
}

/*
 * New runs (?2: after the last seen), runs seen open that have ended
 * since (?3: their ids, a JSON array), new events (?4); each with the
 * time it landed last, for the order.
 */
#define FOLLOW_SQL \
	"SELECT " LOG_RUN_COLS ", coalesce(ended_at, started_at) FROM run " \
	"WHERE id > ?2 AND (?1 IS NULL OR vm = ?1) " \
	"UNION ALL " \
	"SELECT " LOG_RUN_COLS ", ended_at FROM run " \
	"WHERE id IN (SELECT value FROM json_each(?3)) AND " \
	"ended_at IS NOT NULL " \
	"UNION ALL " \
	"SELECT " LOG_EVENT_COLS ", time FROM event " \
	"WHERE id > ?5 AND (?1 IS NULL OR vm = ?1) AND " LOG_FOR_PEOPLE \
	"ORDER BY 19, 4"

struct follow {
	struct db_log_cursor	*f_lc;
	db_log_cb		 f_cb;
	void			*f_arg;
	struct db		*f_db;
	int			 f_err;
};

/* Move the cursor past r, then hand r on. */
static int
follow_row(const struct db_log_row *r, void *arg)
{
	struct follow *f = arg;
	struct db_log_cursor *lc = f->f_lc;
	size_t i;

	if (!r->lr_is_run) {
		if (r->lr_id > lc->lc_event)
			lc->lc_event = r->lr_id;
	} else if (r->lr_id > lc->lc_run) {
		lc->lc_run = r->lr_id;
		if (r->lr_ended == 0 && cursor_add_open(f->f_db, lc,
		    r->lr_id) != DB_OK) {
			f->f_err = 1;
			return 1;
		}
	} else {
		for (i = 0; i < lc->lc_nopen; i++)
			if (lc->lc_open[i] == r->lr_id)
				lc->lc_open[i] = lc->lc_open[--lc->lc_nopen];
	}
	return f->f_cb(r, f->f_arg);
}

int
db_log_follow(struct db *db, const char *name, int human,
    struct db_log_cursor *lc, db_log_cb cb, void *arg)
{
	struct follow f = { lc, cb, arg, db, 0 };
	char *ids;
	size_t i, n = 0, len = 2 + lc->lc_nopen * 21;
	int rc;

	/* The ids of the open runs: integers, no text to escape. */
	if ((ids = malloc(len + 1)) == NULL)
		return db_fail(db, DB_ERR, "out of memory");
	ids[n++] = '[';
	for (i = 0; i < lc->lc_nopen; i++)
		n += (size_t)snprintf(ids + n, len + 1 - n, "%s%lld",
		    i ? "," : "", (long long)lc->lc_open[i]);
	snprintf(ids + n, len + 1 - n, "]");
	rc = each_row(db, db_prep(db, FOLLOW_SQL, "titni", name, lc->lc_run,
	    ids, human, lc->lc_event), 18, follow_row, &f);
	free(ids);
	return rc == DB_OK && f.f_err ? DB_ERR : rc;
}

int
db_vm_id(struct db *db, const char *name, int64_t *id)
{
	int rc;

	rc = db_int(db, id, "SELECT id FROM vm WHERE name = ?", "t", name);
	if (rc == DB_NOTFOUND)
		db_fail(db, rc, "%s: no such VM", name);
	return rc;
}

int
db_vm_exists(struct db *db, const char *name)
{
	int64_t id;
	int rc;

	rc = db_vm_id(db, name, &id);
	return rc == DB_OK ? 1 : rc == DB_NOTFOUND ? 0 : DB_ERR;
}

struct prune {
	int64_t	 p_before;
	long	*p_runs;
	long	*p_events;
};

static int
prune(struct db *db, void *arg)
{
	struct prune *p = arg;

	/* Open runs and undelivered events are not history yet. */
	if (db_exec(db, "DELETE FROM run WHERE ended_at < ?", "i",
	    p->p_before) != DB_OK)
		return DB_ERR;
	*p->p_runs = sqlite3_changes(db->db_h);
	if (db_exec(db, "DELETE FROM event WHERE time < ? AND "
	    "status <> 'pending'", "i", p->p_before) != DB_OK)
		return DB_ERR;
	*p->p_events = sqlite3_changes(db->db_h);
	return DB_OK;
}

int
db_prune(struct db *db, int64_t before_ms, long *runs, long *events)
{
	struct prune p = { before_ms, runs, events };

	return db_tx(db, prune, &p);
}
