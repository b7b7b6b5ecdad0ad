/*
 * seed.c: bulk data for benchmarks. make bench (bench-seed.c,
 * bench-time.c) fills a database with a fleet's worth of history, a
 * million runs and events, in one transaction through statements prepared
 * once and held in a struct db_seed; then it reads back what its figures
 * come from: how many runs and events a window holds, the pid of every run,
 * and the plan SQLite follows for vmsched log. It also fills the webhook's
 * outbox with events waiting for delivery, for the drain figure. vmsched
 * itself uses none of this.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed.h"

int
db_seed_begin(struct db *db, struct db_seed *sd)
{
	memset(sd, 0, sizeof(*sd));
	sd->sd_db = db;
	/* Written once by one process: 256 MiB of cache keeps the index
	 * pages of a million rows from spilling mid-transaction. */
	if (db_exec(db, "PRAGMA cache_size = -262144", "") != DB_OK ||
	    db_exec(db, "BEGIN IMMEDIATE", "") != DB_OK)
		return DB_ERR;
	sd->sd_run = db_prep(db, "INSERT INTO run (vm, boot_id, started_at, "
	    "ended_at, pid, exit_code, signal, reason, rule, failures, "
	    "delay_ms) VALUES (?1, ?2, ?3, nullif(?4, 0), nullif(?5, -1), "
	    "nullif(?6, -1), nullif(?7, 0), ?8, ?9, ?10, nullif(?11, -1))", "");
	sd->sd_event = db_prep(db, "INSERT INTO event (time, event, vm, "
	    "detail, status) VALUES (?1, ?2, ?3, json(coalesce(?4, '{}')), "
	    "coalesce(?5, 'none'))", "");
	if (sd->sd_run == NULL || sd->sd_event == NULL) {
		db_seed_end(sd, 0);
		return DB_ERR;
	}
	return DB_OK;
}

/* Step st once, then make it ready for the next row. */
static int
step(struct db *db, sqlite3_stmt *st, int bound)
{
	int rc;

	rc = bound == SQLITE_OK ? sqlite3_step(st) : bound;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, DB_ERR, "seeding: %s",
		    sqlite3_errmsg(db->db_h));
	return DB_OK;
}

static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) :
	    sqlite3_bind_null(st, i);
}

int
db_seed_run(struct db_seed *sd, const struct db_seed_row *r)
{
	sqlite3_stmt *st = sd->sd_run;
	int rc;

	if ((rc = bind_text(st, 1, r->rr_vm)) == SQLITE_OK)
		rc = bind_text(st, 2, r->rr_boot_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, r->rr_started_at);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, r->rr_ended_at);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 5, r->rr_pid);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 6, r->rr_code);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 7, r->rr_signal);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 8, r->rr_reason);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 9, r->rr_rule);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 10, r->rr_failures);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 11, r->rr_delay_ms);
	return step(sd->sd_db, st, rc);
}

/* An event row with status (NULL: 'none'). */
static int
seed_event(struct db_seed *sd, int64_t time_ms, const char *event,
    const char *vm, const char *detail, const char *status)
{
	sqlite3_stmt *st = sd->sd_event;
	int rc;

	if ((rc = sqlite3_bind_int64(st, 1, time_ms)) == SQLITE_OK)
		rc = bind_text(st, 2, event);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 3, vm);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 4, detail);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 5, status);
	return step(sd->sd_db, st, rc);
}

int
db_seed_event(struct db_seed *sd, int64_t time_ms, const char *event,
    const char *vm, const char *detail)
{
	return seed_event(sd, time_ms, event, vm, detail, NULL);
}

int
db_seed_pending(struct db_seed *sd, int64_t time_ms, const char *event,
    const char *vm, const char *detail)
{
	/* As db_event_add writes one the filter matched: due at once. */
	return seed_event(sd, time_ms, event, vm, detail, "pending");
}

int
db_seed_end(struct db_seed *sd, int commit)
{
	struct db *db = sd->sd_db;
	int rc = DB_OK;

	sqlite3_finalize(sd->sd_run);
	sqlite3_finalize(sd->sd_event);
	sd->sd_run = sd->sd_event = NULL;
	/* Each VM's last ended run, as the daemon keeps it. */
	if (commit && (db_exec(db, "UPDATE vm_state SET last_run_id = "
	    "(SELECT r.id FROM vm v, run r WHERE v.id = vm_state.vm_id AND "
	    "r.vm = v.name AND r.ended_at IS NOT NULL ORDER BY r.started_at "
	    "DESC LIMIT 1)", "") != DB_OK || db_exec(db, "COMMIT", "") !=
	    DB_OK))
		rc = DB_ERR;
	if (!commit || rc != DB_OK)
		sqlite3_exec(db->db_h, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int
db_seed_count(struct db *db, int64_t from_ms, int64_t to_ms,
    struct db_seed_count *c)
{
	sqlite3_stmt *st;
	int rc;

	memset(c, 0, sizeof(*c));
	st = db_prep(db, "SELECT count(*), count(*) - count(ended_at), "
	    "coalesce(min(started_at), 0), coalesce(max(started_at), 0), "
	    "(SELECT count(*) FROM event WHERE time >= ?1 AND time < ?2) "
	    "FROM run WHERE started_at >= ?1 AND started_at < ?2", "ii",
	    from_ms, to_ms);
	if (st == NULL)
		return DB_ERR;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		c->sc_runs = sqlite3_column_int64(st, 0);
		c->sc_open = sqlite3_column_int64(st, 1);
		c->sc_first = sqlite3_column_int64(st, 2);
		c->sc_last = sqlite3_column_int64(st, 3);
		c->sc_events = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_fail(db, DB_ERR, "%s", sqlite3_errmsg(db->db_h));
	return DB_OK;
}

int
db_seed_pids(struct db *db, int (*cb)(long pid, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = db_prep(db, "SELECT pid FROM run WHERE pid IS NOT NULL",
	    "")) == NULL)
		return DB_ERR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (cb((long)sqlite3_column_int64(st, 0), arg) != 0)
			break;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, DB_ERR, "%s", sqlite3_errmsg(db->db_h));
	return DB_OK;
}

/* The first statement traced: the one db_log prepared. */
static int
trace_first(unsigned what, void *arg, void *stmt, void *x)
{
	char **sql = arg;
	const char *s;

	(void)what;
	(void)x;
	if (*sql == NULL && (s = sqlite3_sql(stmt)) != NULL)
		*sql = strdup(s);
	return 0;
}

static int
stop_at_once(const struct db_log_row *row, void *arg)
{
	(void)row;
	(void)arg;
	return 1;
}

/* Append a line to the malloc'ed text *acc of *len bytes. */
static int
append(char **acc, size_t *len, int depth, const char *detail)
{
	size_t add = (size_t)depth * 2 + strlen(detail) + 2;
	char *p;

	if ((p = realloc(*acc, *len + add + 1)) == NULL)
		return -1;
	*acc = p;
	memset(p + *len, ' ', (size_t)depth * 2);
	snprintf(p + *len + (size_t)depth * 2, add - (size_t)depth * 2 + 1,
	    "%s\n", detail);
	*len += strlen(p + *len);
	return 0;
}

#define PLAN_NODES	256

int
db_seed_log_plan(struct db *db, const char *name, long limit, char **plan)
{
	sqlite3_stmt *st = NULL;
	char *sql = NULL, *eqp = NULL, *acc = NULL;
	int ids[PLAN_NODES], depths[PLAN_NODES], n = 0, depth, i, rc = DB_ERR;
	size_t len = 0;

	*plan = NULL;
	sqlite3_trace_v2(db->db_h, SQLITE_TRACE_STMT, trace_first, &sql);
	rc = db_log(db, name, 0, limit, stop_at_once, NULL);
	sqlite3_trace_v2(db->db_h, 0, NULL, NULL);
	if (rc != DB_OK)
		goto done;
	rc = DB_ERR;
	if (sql == NULL) {
		db_fail(db, DB_ERR, "log ran no statement");
		goto done;
	}
	if ((eqp = malloc(strlen(sql) + 32)) == NULL) {
		db_fail(db, DB_ERR, "out of memory");
		goto done;
	}
	snprintf(eqp, strlen(sql) + 32, "EXPLAIN QUERY PLAN %s", sql);
	/* The same parameters db_log binds: name, since, limit. */
	if ((st = db_prep(db, eqp, "tii", name, (int64_t)0, (int64_t)limit)) ==
	    NULL)
		goto done;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int id = sqlite3_column_int(st, 0);
		int parent = sqlite3_column_int(st, 1);
		const char *detail = (const char *)sqlite3_column_text(st, 3);

		for (depth = 0, i = 0; i < n; i++)
			if (ids[i] == parent)
				depth = depths[i] + 1;
		if (n < PLAN_NODES) {
			ids[n] = id;
			depths[n++] = depth;
		}
		if (append(&acc, &len, depth, detail ? detail : "") == -1) {
			db_fail(db, DB_ERR, "out of memory");
			goto done;
		}
	}
	if (acc == NULL) {
		db_fail(db, DB_ERR, "no query plan: %s",
		    sqlite3_errmsg(db->db_h));
		goto done;
	}
	*plan = acc;
	acc = NULL;
	rc = DB_OK;
done:
	sqlite3_finalize(st);
	free(acc);
	free(eqp);
	free(sql);
	return rc;
}
