/*
 * run.c: the supervisor's side of the store. The daemon loads the VMs and
 * their state, and writes each state change together with the run row it
 * opens or closes and the events it causes, in one transaction: a daemon
 * killed at any instant leaves either all of a change or none of it. The
 * CLI's requests (start, stop, ...) and the daemon's own row live here too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

int
db_sup_load(struct db *db, const char *name, db_sup_cb cb, void *arg)
{
	struct db_sup_row r;
	sqlite3_stmt *st;
	const char *why;
	int rc;

	st = db_prep(db, "SELECT v.id, v.name, v.enabled, s.desired, s.state, "
	    "s.pending, s.request, s.pid, s.pid_start, s.run_id, "
	    "r.started_at, s.failures, s.restarts, s.boot_id, v.boot_order, "
	    "s.handled, v.restart, s.owed "
	    "FROM vm v JOIN vm_state s ON s.vm_id = v.id "
	    "LEFT JOIN run r ON r.id = s.run_id "
	    "WHERE ?1 IS NULL OR v.name = ?1 ORDER BY v.id", "t", name);
	if (st == NULL)
		return DB_ERR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.sr_id = sqlite3_column_int64(st, 0);
		r.sr_name = (const char *)sqlite3_column_text(st, 1);
		r.sr_enabled = sqlite3_column_int(st, 2);
		r.sr_desired = (const char *)sqlite3_column_text(st, 3);
		r.sr_state = (const char *)sqlite3_column_text(st, 4);
		r.sr_pending = (const char *)sqlite3_column_text(st, 5);
		r.sr_request = sqlite3_column_int64(st, 6);
		r.sr_pid = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 :
		    (long)sqlite3_column_int64(st, 7);
		r.sr_pid_start = sqlite3_column_int64(st, 8);
		r.sr_run_id = sqlite3_column_int64(st, 9);
		r.sr_run_started = sqlite3_column_int64(st, 10);
		r.sr_failures = sqlite3_column_int(st, 11);
		r.sr_restarts = sqlite3_column_int(st, 12);
		r.sr_boot_id = (const char *)sqlite3_column_text(st, 13);
		r.sr_order = sqlite3_column_int(st, 14);
		r.sr_handled = sqlite3_column_int64(st, 15);
		if (value_restart((const char *)sqlite3_column_text(st, 16),
		    &r.sr_restart, &why) == -1)
			r.sr_restart = RESTART_ON_FAILURE;
		r.sr_owed = sqlite3_column_int(st, 17);
		if (cb(&r, arg) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, DB_ERR, "loading the VMs: %s",
		    sqlite3_errmsg(db->db_h));
	return DB_OK;
}

/* The daemon's statements, bound by name and kept prepared. */
static const char sql_run_open[] =
    "INSERT INTO run (vm, boot_id, started_at, pid, pid_start, detail) "
    "VALUES (:vm, :boot_id, :started_at, :pid, :pid_start, :detail)";
static const char sql_run_close[] =
    "UPDATE run SET ended_at = :at, exit_code = :code, signal = :signal, "
    "reason = :reason, detail = CASE WHEN detail IS NULL THEN :detail "
    "WHEN :detail IS NULL THEN detail ELSE detail || '; ' || :detail END, "
    "rule = :rule, failures = "
    ":failures, delay_ms = :delay_ms, breaker = :breaker WHERE id = :run_id";
static const char sql_state[] =
    "UPDATE vm_state SET state = :state, why = :why, "
    "state_since = CASE WHEN state = :state THEN state_since ELSE :at END, "
    "pid = :pid, pid_start = CASE WHEN :pid IS NULL THEN NULL "
    "ELSE :pid_start END, "
    "run_id = CASE WHEN :live THEN :run_id END, "
    "failures = :failures, restarts = :restarts, "
    "next_start_at = :next_start_at, owed = :owed, "
    "last_run_id = CASE WHEN :closed THEN :run_id ELSE last_run_id END, "
    "boot_id = coalesce(:boot_id, boot_id), "
    "handled = coalesce(:handled, handled), "
    "pending = CASE WHEN request = :handled THEN NULL ELSE pending END "
    "WHERE vm_id = :vm_id";
static const char sql_event[] =
    "INSERT INTO event (time, event, vm, detail, status) VALUES (:at, "
    ":event, :vm, json_object('pid', :pid, 'exit_code', :code, "
    "'signal', vms_signame(:signal), 'reason', :reason, 'detail', :detail, "
    "'rule', :rule, 'restarts', :restarts, 'failures', :failures, "
    "'delay_ms', :delay_ms, 'state', :state, 'why', :why), :status)";
static const char sql_filter[] =
    "SELECT (SELECT value FROM setting WHERE key = 'webhook.events') "
    "FROM setting WHERE key = 'webhook.url'";

/* The webhook's filter for this transaction: 1 with a URL set (filter
 * NULL for the default, malloc'ed otherwise), 0 without, -1. */
static int
hook_setting(struct db *db, char **filter)
{
	sqlite3_stmt *st;
	const unsigned char *f;
	int rc, set = 0;

	*filter = NULL;
	if ((st = db_cached(db, sql_filter)) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		set = 1;
		if ((f = sqlite3_column_text(st, 0)) != NULL &&
		    (*filter = strdup((const char *)f)) == NULL)
			rc = SQLITE_NOMEM;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(db, DB_ERR, "reading the webhook settings: %s",
		    sqlite3_errmsg(db->db_h));
		return -1;
	}
	return set;
}

struct sup_write {
	struct db_change *const	*w_cs;
	size_t			 w_n;
};

static int
write_run(struct db *db, struct db_change *c)
{
	sqlite3_stmt *st;

	if (c->c_run == CHANGE_RUN_OPEN || c->c_run == CHANGE_RUN_ONESHOT) {
		if ((st = db_cached(db, sql_run_open)) == NULL)
			return DB_ERR;
		db_bind_text(db, st, ":vm", c->c_vm);
		db_bind_text(db, st, ":boot_id", c->c_boot_id);
		db_bind_int(db, st, ":started_at", c->c_started_at);
		/* (A run opened and closed at once, of a process that ended
		 * unwatched, has its pid though it is not live.) */
		db_bind_id(db, st, ":pid", c->c_run_pid);
		db_bind_int(db, st, ":pid_start", c->c_pid_start);
		db_bind_text(db, st, ":detail", c->c_run == CHANGE_RUN_OPEN ?
		    c->c_open_detail : NULL);
		if (db_step_done(db, st) != DB_OK)
			return DB_ERR;
		c->c_run_id = sqlite3_last_insert_rowid(db->db_h);
	}
	if (c->c_run == CHANGE_RUN_CLOSE || c->c_run == CHANGE_RUN_ONESHOT) {
		if ((st = db_cached(db, sql_run_close)) == NULL)
			return DB_ERR;
		db_bind_int(db, st, ":at", c->c_at);
		db_bind_id(db, st, ":code", c->c_code);
		db_bind_id(db, st, ":signal", c->c_signal > 0 ? c->c_signal :
		    -1);
		db_bind_text(db, st, ":reason", c->c_reason);
		db_bind_text(db, st, ":detail", c->c_detail);
		db_bind_text(db, st, ":rule", c->c_rule);
		db_bind_int(db, st, ":failures", c->c_failures);
		db_bind_id(db, st, ":delay_ms", c->c_delay_ms);
		db_bind_int(db, st, ":breaker", c->c_breaker);
		db_bind_int(db, st, ":run_id", c->c_run_id);
		if (db_step_done(db, st) != DB_OK)
			return DB_ERR;
	}
	return DB_OK;
}

static int
write_state(struct db *db, const struct db_change *c)
{
	sqlite3_stmt *st;

	if (c->c_vm_id <= 0)
		return DB_OK;
	if ((st = db_cached(db, sql_state)) == NULL)
		return DB_ERR;
	db_bind_int(db, st, ":vm_id", c->c_vm_id);
	db_bind_text(db, st, ":state", c->c_state);
	db_bind_text(db, st, ":why", c->c_why);
	db_bind_int(db, st, ":at", c->c_at);
	db_bind_id(db, st, ":pid", c->c_pid);
	db_bind_int(db, st, ":pid_start", c->c_pid_start);
	db_bind_int(db, st, ":run_id", c->c_run_id);
	db_bind_int(db, st, ":failures", c->c_failures);
	db_bind_int(db, st, ":restarts", c->c_restarts);
	db_bind_id(db, st, ":next_start_at", c->c_next_start_at > 0 ?
	    c->c_next_start_at : -1);
	db_bind_int(db, st, ":owed", c->c_owed != 0);
	db_bind_int(db, st, ":closed", c->c_run == CHANGE_RUN_CLOSE ||
	    c->c_run == CHANGE_RUN_ONESHOT);
	db_bind_text(db, st, ":boot_id", c->c_boot_id);
	db_bind_id(db, st, ":handled", c->c_handled);
	db_bind_int(db, st, ":live", c->c_live != 0);
	return db_step_done(db, st);
}

static int
write_events(struct db *db, const struct db_change *c, int hooked,
    const char *filter)
{
	sqlite3_stmt *st;
	size_t i;
	long pid = c->c_pid > 0 ? c->c_pid : c->c_run_pid;

	for (i = 0; i < sizeof(c->c_events) / sizeof(c->c_events[0]) &&
	    c->c_events[i] != NULL; i++) {
		if ((st = db_cached(db, sql_event)) == NULL)
			return DB_ERR;
		db_bind_int(db, st, ":at", c->c_at);
		db_bind_text(db, st, ":event", c->c_events[i]);
		db_bind_text(db, st, ":vm", c->c_vm);
		db_bind_id(db, st, ":pid", pid > 0 ? pid : -1);
		db_bind_id(db, st, ":code", c->c_code);
		db_bind_int(db, st, ":signal", c->c_signal);
		db_bind_text(db, st, ":reason", c->c_reason);
		db_bind_text(db, st, ":detail", c->c_detail);
		db_bind_text(db, st, ":rule", c->c_rule);
		db_bind_int(db, st, ":restarts", c->c_restarts);
		db_bind_int(db, st, ":failures", c->c_failures);
		db_bind_id(db, st, ":delay_ms", c->c_delay_ms);
		db_bind_text(db, st, ":state", c->c_state);
		db_bind_text(db, st, ":why", c->c_why);
		db_bind_text(db, st, ":status", hooked &&
		    hook_filter_match(filter, c->c_events[i]) ? "pending" :
		    "none");
		if (db_step_done(db, st) != DB_OK)
			return DB_ERR;
	}
	return DB_OK;
}

static int
sup_write(struct db *db, void *arg)
{
	struct sup_write *w = arg;
	struct db_change *c;
	char *filter;
	size_t i;
	int hooked, rc = DB_ERR;

	if ((hooked = hook_setting(db, &filter)) == -1)
		return DB_ERR;
	for (i = 0; i < w->w_n; i++) {
		c = w->w_cs[i];
		if (c->c_run_ref >= 0 && (size_t)c->c_run_ref < i)
			c->c_run_id = w->w_cs[c->c_run_ref]->c_run_id;
		if (write_run(db, c) != DB_OK || write_state(db, c) != DB_OK ||
		    write_events(db, c, hooked, filter) != DB_OK)
			goto done;
	}
	rc = DB_OK;
done:
	free(filter);
	return rc;
}

int
db_sup_write(struct db *db, struct db_change *const *cs, size_t n)
{
	struct sup_write w = { cs, n };

	if (n == 0)
		return DB_OK;
	return db_tx(db, sup_write, &w);
}

int
db_sup_change(struct db *db, struct db_change *c)
{
	return db_sup_write(db, &c, 1);
}

int
db_instance_id(struct db *db, char *buf, size_t len)
{
	char *id = NULL;

	if (db_exec(db, "INSERT OR IGNORE INTO setting (key, value) VALUES "
	    "('db.id', lower(hex(randomblob(16))))", "") != DB_OK ||
	    db_text(db, &id, "SELECT value FROM setting WHERE key = 'db.id'",
	    "") != DB_OK || id == NULL) {
		free(id);
		return DB_ERR;
	}
	snprintf(buf, len, "%s", id);
	free(id);
	return DB_OK;
}

struct request {
	const char	*q_name;
	const char	*q_desired;
	const char	*q_pending;
	int64_t		*q_request;
};

static int
request(struct db *db, void *arg)
{
	struct request *q = arg;
	int64_t id;
	int rc;

	if ((rc = db_vm_id(db, q->q_name, &id)) != DB_OK)
		return rc;
	/* A new desired state replaces what was pending (stop drops a
	 * start); reset, which keeps the desired state, keeps it too. */
	if (db_exec(db, "UPDATE vm_state SET desired = coalesce(?2, desired), "
	    "pending = CASE WHEN ?2 IS NULL THEN coalesce(pending, ?3) "
	    "ELSE ?3 END, request = request + 1 "
	    "WHERE vm_id = ?1", "itt", id, q->q_desired, q->q_pending) != DB_OK)
		return DB_ERR;
	return db_int(db, q->q_request, "SELECT request FROM vm_state "
	    "WHERE vm_id = ?", "i", id);
}

int
db_request(struct db *db, const char *name, const char *desired,
    const char *pending, int64_t *req)
{
	struct request q = { name, desired, pending, req };

	return db_tx(db, request, &q);
}

int
db_vm_state(struct db *db, const char *name, struct db_state *s)
{
	sqlite3_stmt *st;
	const char *state;
	int rc;

	st = db_prep(db, "SELECT s.state, s.handled, coalesce(s.run_id, 0), "
	    "coalesce(s.pid, -1), s.desired FROM vm v JOIN vm_state s "
	    "ON s.vm_id = v.id WHERE v.name = ?", "t", name);
	if (st == NULL)
		return DB_ERR;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		state = (const char *)sqlite3_column_text(st, 0);
		snprintf(s->st_state, sizeof(s->st_state), "%s", state);
		s->st_handled = sqlite3_column_int64(st, 1);
		s->st_run_id = sqlite3_column_int64(st, 2);
		s->st_pid = (long)sqlite3_column_int64(st, 3);
		snprintf(s->st_desired, sizeof(s->st_desired), "%s",
		    (const char *)sqlite3_column_text(st, 4));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return DB_OK;
	if (rc == SQLITE_DONE)
		return db_fail(db, DB_NOTFOUND, "%s: no such VM", name);
	return db_fail(db, DB_ERR, "reading the VM's state: %s",
	    sqlite3_errmsg(db->db_h));
}

struct daemon_up {
	long		 d_pid;
	int64_t		 d_pid_start;
	const char	*d_boot_id;
};

static int
daemon_up(struct db *db, void *arg)
{
	struct daemon_up *d = arg;
	char *detail = NULL;
	int rc;

	if (db_exec(db, "INSERT INTO daemon (id, pid, pid_start, started_at, "
	    "stopped_at, boot_id) VALUES (1, ?1, ?2, ?3, NULL, ?4) "
	    "ON CONFLICT (id) DO UPDATE SET pid = ?1, pid_start = ?2, "
	    "started_at = ?3, stopped_at = NULL, boot_id = ?4", "iiit",
	    (int64_t)d->d_pid, d->d_pid_start, now_ms(), d->d_boot_id) != DB_OK)
		return DB_ERR;
	if (db_text(db, &detail, "SELECT json_object('pid', ?, 'boot_id', ?, "
	    "'version', ?)", "itt", (int64_t)d->d_pid, d->d_boot_id,
	    VMSCHED_VERSION) != DB_OK)
		return DB_ERR;
	rc = db_event_add(db, "scheduler.started", NULL, -1, detail);
	free(detail);
	return rc;
}

int
db_daemon_started(struct db *db, long pid, int64_t pid_start,
    const char *boot_id)
{
	struct daemon_up d = { pid, pid_start, boot_id };

	return db_tx(db, daemon_up, &d);
}

static int
daemon_stopping(struct db *db, void *arg)
{
	(void)arg;
	return db_event_add(db, "scheduler.stopping", NULL, -1, NULL);
}

int
db_daemon_stopping(struct db *db)
{
	return db_tx(db, daemon_stopping, NULL);
}

int
db_daemon_stopped(struct db *db)
{
	return db_exec(db, "UPDATE daemon SET stopped_at = ? WHERE id = 1",
	    "i", now_ms());
}

int
db_run_known(struct db *db, const char *vm, long pid, int64_t pid_start,
    int64_t since)
{
	static const char sql[] = "SELECT 1 FROM run WHERE vm = :vm AND "
	    "started_at >= :since AND pid = :pid AND pid_start = :pid_start";
	sqlite3_stmt *st;
	int rc;

	if ((st = db_cached(db, sql)) == NULL)
		return -1;
	db_bind_text(db, st, ":vm", vm);
	db_bind_int(db, st, ":since", since);
	db_bind_int(db, st, ":pid", pid);
	db_bind_int(db, st, ":pid_start", pid_start);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	db_fail(db, DB_ERR, "looking for a run of pid %ld: %s", pid,
	    sqlite3_errmsg(db->db_h));
	return -1;
}

int
db_daemon_get(struct db *db, struct db_daemon *d)
{
	sqlite3_stmt *st;
	const char *s;
	int rc;

	memset(d, 0, sizeof(*d));
	st = db_prep(db, "SELECT pid, pid_start, started_at, boot_id, "
	    "stopped_at IS NOT NULL FROM daemon WHERE id = 1", "");
	if (st == NULL)
		return DB_ERR;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		d->dd_pid = (long)sqlite3_column_int64(st, 0);
		d->dd_pid_start = sqlite3_column_int64(st, 1);
		d->dd_started_at = sqlite3_column_int64(st, 2);
		if ((s = (const char *)sqlite3_column_text(st, 3)) != NULL)
			snprintf(d->dd_boot_id, sizeof(d->dd_boot_id), "%s", s);
		d->dd_stopped = sqlite3_column_int(st, 4);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return DB_OK;
	if (rc == SQLITE_DONE)
		return DB_NOTFOUND;
	return db_fail(db, DB_ERR, "reading the daemon's record: %s",
	    sqlite3_errmsg(db->db_h));
}

int
db_state_counts(struct db *db, int (*cb)(const char *, long, void *),
    void *arg)
{
	sqlite3_stmt *st;
	int rc;

	st = db_prep(db, "SELECT state, count(*) FROM vm_state GROUP BY state "
	    "ORDER BY state", "");
	if (st == NULL)
		return DB_ERR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (cb((const char *)sqlite3_column_text(st, 0),
		    (long)sqlite3_column_int64(st, 1), arg) != 0)
			break;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, DB_ERR, "counting VMs by state: %s",
		    sqlite3_errmsg(db->db_h));
	return DB_OK;
}

int
db_events_pending(struct db *db, long *n)
{
	int64_t v;
	int rc;

	rc = db_int(db, &v, "SELECT count(*) FROM event WHERE status = "
	    "'pending'", "");
	*n = (long)v;
	return rc;
}

int
db_status_json(struct db *db, int running, char **json)
{
	*json = NULL;
	return db_text(db, json, "SELECT vms_utf8(json_object("
	    "'daemon', json_object('running', json(iif(?1, 'true', 'false')), "
	    "    'pid', iif(?1, d.pid, NULL), "
	    "    'since', iif(?1, vms_time(d.started_at), NULL), "
	    "    'boot_id', d.boot_id), "
	    "'vms', (SELECT json_group_object(state, n) FROM (SELECT state, "
	    "    count(*) AS n FROM vm_state GROUP BY state ORDER BY state)), "
	    "'events_pending', (SELECT count(*) FROM event "
	    "    WHERE status = 'pending'))) "
	    "FROM (SELECT 1) LEFT JOIN daemon d ON d.id = 1", "n", running) ==
	    DB_OK && *json != NULL ? DB_OK : DB_ERR;
}
