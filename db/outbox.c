/*
 * outbox.c: the webhook's side of the store. Its settings (webhook.url,
 * .secret, .events, .format, and the tuning knobs .give_up_ms and
 * .timeout_ms), the head of the queue of pending events, the request body
 * built by SQLite's JSON functions from an event row, the record of each
 * delivery attempt, and the listing vmsched events prints. The queue is
 * the event table itself: status 'pending', oldest id first.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"

int
db_setting_get(struct db *db, const char *key, char **value)
{
	return db_text(db, value, "SELECT value FROM setting WHERE key = ?",
	    "t", key);
}

int
db_setting_set(struct db *db, const char *key, const char *value)
{
	if (value == NULL)
		return db_exec(db, "DELETE FROM setting WHERE key = ?", "t",
		    key);
	return db_exec(db, "INSERT INTO setting (key, value) VALUES (?1, ?2) "
	    "ON CONFLICT (key) DO UPDATE SET value = ?2", "tt", key, value);
}

void
db_webhook_free(struct db_webhook *wh)
{
	free(wh->wh_url);
	free(wh->wh_secret);
	free(wh->wh_events);
	free(wh->wh_format);
	memset(wh, 0, sizeof(*wh));
}

/* A copy of column i, NULL for SQL NULL; -1 on ENOMEM. */
static int
col_dup(sqlite3_stmt *st, int i, char **out)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	*out = NULL;
	if (s == NULL)
		return 0;
	return (*out = strdup((const char *)s)) == NULL ? -1 : 0;
}

/* Read for every event the sender takes: kept prepared. */
static const char sql_webhook[] = "SELECT "
    "(SELECT value FROM setting WHERE key = 'webhook.url'), "
    "(SELECT value FROM setting WHERE key = 'webhook.secret'), "
    "(SELECT value FROM setting WHERE key = 'webhook.events'), "
    "coalesce((SELECT value FROM setting WHERE key = "
    "    'webhook.format'), 'json'), "
    "coalesce((SELECT CAST(value AS INTEGER) FROM setting WHERE key = "
    "    'webhook.give_up_ms'), :give_up), "
    "coalesce((SELECT CAST(value AS INTEGER) FROM setting WHERE key = "
    "    'webhook.timeout_ms'), 0)";

int
db_webhook_get(struct db *db, struct db_webhook *wh)
{
	sqlite3_stmt *st;
	int rc;

	memset(wh, 0, sizeof(*wh));
	if ((st = db_cached(db, sql_webhook)) == NULL)
		return DB_ERR;
	db_bind_int(db, st, ":give_up", HOOK_GIVE_UP_MS);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		db_fail(db, DB_ERR, "reading the webhook settings: %s",
		    sqlite3_errmsg(db->db_h));
		sqlite3_reset(st);
		return DB_ERR;
	}
	if (col_dup(st, 0, &wh->wh_url) == -1 ||
	    col_dup(st, 1, &wh->wh_secret) == -1 ||
	    col_dup(st, 2, &wh->wh_events) == -1 ||
	    col_dup(st, 3, &wh->wh_format) == -1) {
		sqlite3_reset(st);
		db_webhook_free(wh);
		return db_fail(db, DB_ERR, "out of memory");
	}
	wh->wh_give_up_ms = sqlite3_column_int64(st, 4);
	wh->wh_timeout_ms = sqlite3_column_int64(st, 5);
	sqlite3_reset(st);
	if (wh->wh_url == NULL)
		return db_fail(db, DB_NOTFOUND, "no webhook is set");
	return DB_OK;
}

/* What db_webhook_set writes. */
struct webhook_set {
	const char	*ws_url;
	const char	*ws_secret;
	const char	*ws_events;
	const char	*ws_format;
};

static int
webhook_set(struct db *db, void *arg)
{
	const struct webhook_set *ws = arg;

	if (db_setting_set(db, "webhook.url", ws->ws_url) != DB_OK ||
	    db_setting_set(db, "webhook.secret", ws->ws_secret) != DB_OK ||
	    db_setting_set(db, "webhook.events", ws->ws_events) != DB_OK ||
	    db_setting_set(db, "webhook.format", ws->ws_format) != DB_OK)
		return DB_ERR;
	/* A new configuration deserves a try now, not at the old backoff. */
	return db_exec(db, "UPDATE event SET next_attempt_at = NULL WHERE "
	    "status = 'pending' AND next_attempt_at IS NOT NULL", "");
}

int
db_webhook_set(struct db *db, const char *url, const char *secret,
    const char *events, const char *format)
{
	struct webhook_set ws = { url, secret, events, format };

	return db_tx(db, webhook_set, &ws);
}

static int
webhook_unset(struct db *db, void *arg)
{
	long *cancelled = arg;
	int64_t n;
	int rc;

	if ((rc = db_int(db, &n, "SELECT count(*) FROM setting WHERE key = "
	    "'webhook.url'", "")) != DB_OK)
		return rc;
	if (n == 0)
		return db_fail(db, DB_NOTFOUND, "no webhook is set");
	if (db_exec(db, "DELETE FROM setting WHERE key IN ('webhook.url', "
	    "'webhook.secret', 'webhook.events', 'webhook.format')", "") !=
	    DB_OK)
		return DB_ERR;
	if (db_exec(db, "UPDATE event SET status = 'none', "
	    "next_attempt_at = NULL WHERE status = 'pending'", "") != DB_OK)
		return DB_ERR;
	*cancelled = sqlite3_changes(db->db_h);
	return DB_OK;
}

int
db_webhook_unset(struct db *db, long *cancelled)
{
	*cancelled = 0;
	return db_tx(db, webhook_unset, cancelled);
}

/*
 * An event with the detail keys the daemon writes pulled out of its JSON.
 * A signal stored as a number is named, as everywhere else.
 */
#define EVENT_SQL \
	"SELECT id, time, event, vm, " \
	"json_extract(detail, '$.pid'), json_extract(detail, '$.exit_code'), " \
	"CASE json_type(detail, '$.signal') WHEN 'integer' THEN " \
	"    vms_signame(json_extract(detail, '$.signal')) " \
	"    ELSE json_extract(detail, '$.signal') END, " \
	"json_extract(detail, '$.reason'), json_extract(detail, '$.detail'), " \
	"json_extract(detail, '$.rule'), json_extract(detail, '$.why'), " \
	"json_extract(detail, '$.restarts'), " \
	"json_extract(detail, '$.failures'), " \
	"json_extract(detail, '$.delay_ms'), attempts, " \
	"coalesce(next_attempt_at, 0) FROM event "

static int64_t
col_int(sqlite3_stmt *st, int i, int64_t null)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? null :
	    sqlite3_column_int64(st, i);
}

/* Fill *ev from one row of EVENT_SQL. */
static int
event_row(struct db *db, sqlite3_stmt *st, struct hook_event *ev)
{
	hook_event_clear(ev);
	ev->he_id = sqlite3_column_int64(st, 0);
	ev->he_time = sqlite3_column_int64(st, 1);
	ev->he_pid = (long)col_int(st, 4, -1);
	ev->he_exit_code = (int)col_int(st, 5, -1);
	ev->he_restarts = (int)col_int(st, 11, -1);
	ev->he_failures = (int)col_int(st, 12, -1);
	ev->he_delay_ms = col_int(st, 13, -1);
	ev->he_attempts = sqlite3_column_int(st, 14);
	ev->he_next_at = sqlite3_column_int64(st, 15);
	if (col_dup(st, 2, &ev->he_event) == -1 ||
	    col_dup(st, 3, &ev->he_vm) == -1 ||
	    col_dup(st, 6, &ev->he_signal) == -1 ||
	    col_dup(st, 7, &ev->he_reason) == -1 ||
	    col_dup(st, 8, &ev->he_detail) == -1 ||
	    col_dup(st, 9, &ev->he_rule) == -1 ||
	    col_dup(st, 10, &ev->he_why) == -1) {
		hook_event_clear(ev);
		return db_fail(db, DB_ERR, "out of memory");
	}
	return DB_OK;
}

/* The first row of EVENT_SQL + where into *ev. */
static int
event_get(struct db *db, struct hook_event *ev, const char *sql, int64_t id)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = db_prep(db, sql, "i", id)) == NULL)
		return DB_ERR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = event_row(db, st, ev);
	else if (rc == SQLITE_DONE)
		rc = db_fail(db, DB_NOTFOUND, "no such event");
	else
		rc = db_fail(db, DB_ERR, "reading the event: %s",
		    sqlite3_errmsg(db->db_h));
	sqlite3_finalize(st);
	return rc;
}

int
db_outbox_head(struct db *db, struct hook_event *ev)
{
	/* The partial index event_pending walks them in id order. */
	return event_get(db, ev, EVENT_SQL "WHERE status = 'pending' AND "
	    "id > ?1 ORDER BY id LIMIT 1", 0);
}

int
db_outbox_get(struct db *db, int64_t id, struct hook_event *ev)
{
	return event_get(db, ev, EVENT_SQL "WHERE id = ?1", id);
}

int
db_outbox_add(struct db *db, const char *event, long uid, const char *detail,
    int64_t *id)
{
	int rc;

	rc = db_exec(db, "INSERT INTO event (time, event, vm, uid, detail, "
	    "status) VALUES (?1, ?2, NULL, nullif(?3, -1), "
	    "json(coalesce(?4, '{}')), 'none')", "itit", now_ms(), event,
	    (int64_t)uid, detail);
	if (rc == DB_OK)
		*id = sqlite3_last_insert_rowid(db->db_h);
	return rc;
}

int
db_outbox_body(struct db *db, int64_t id, const char *host, const char *text,
    char **body)
{
	int rc;

	if (text != NULL)
		return db_text(db, body, "SELECT vms_utf8(json_object('text', "
		    "?))", "t", text);
	rc = db_text(db, body, "SELECT vms_utf8(json_object('id', id, "
	    "'event', event, "
	    "'time', vms_time(time), 'host', ?2, 'vm', json(CASE WHEN vm IS "
	    "NULL THEN NULL ELSE json_object('name', vm, "
	    "'pid', json_extract(detail, '$.pid'), "
	    "'exit_code', json_extract(detail, '$.exit_code'), "
	    "'signal', CASE json_type(detail, '$.signal') WHEN 'integer' THEN "
	    "    vms_signame(json_extract(detail, '$.signal')) "
	    "    ELSE json_extract(detail, '$.signal') END, "
	    "'reason', json_extract(detail, '$.reason'), "
	    "'restarts', json_extract(detail, '$.restarts'), "
	    "'failures', json_extract(detail, '$.failures'), "
	    "'next_delay_ms', json_extract(detail, '$.delay_ms'), "
	    "'rule', json_extract(detail, '$.rule'), "
	    "'why', json_extract(detail, '$.why')) END), "
	    "'detail', json(detail))) FROM event WHERE id = ?1", "it", id,
	    host);
	if (rc == DB_NOTFOUND)
		db_fail(db, rc, "event %lld: no such event", (long long)id);
	return rc;
}

int
db_outbox_result(struct db *db, int64_t id, const char *from,
    enum hook_verdict v, int64_t next_at, const char *error)
{
	switch (v) {
	case HOOK_DELIVERED:
		return db_exec(db, "UPDATE event SET status = 'delivered', "
		    "attempts = attempts + 1, delivered_at = ?3, "
		    "next_attempt_at = NULL WHERE id = ?1 AND status = ?2",
		    "iti", id, from, now_ms());
	case HOOK_RETRY:
		return db_exec(db, "UPDATE event SET attempts = attempts + 1, "
		    "next_attempt_at = ?3, last_error = ?4 WHERE id = ?1 AND "
		    "status = ?2", "itit", id, from, next_at, error);
	case HOOK_FAILED:
		return db_exec(db, "UPDATE event SET status = 'failed', "
		    "attempts = attempts + 1, next_attempt_at = NULL, "
		    "last_error = ?3 WHERE id = ?1 AND status = ?2", "itt", id,
		    from, error);
	}
	return db_fail(db, DB_ERR, "bad verdict %d", (int)v);
}

int
db_outbox_count(struct db *db, const char *status, int64_t *n)
{
	return db_int(db, n, "SELECT count(*) FROM event WHERE status = ?",
	    "t", status);
}

/* An event as events shows it: what event_rows reads. */
#define EVENT_COLS \
	"SELECT id, time, event, vm, status, attempts, next_attempt_at, " \
	"last_error, delivered_at, json_object('id', id, " \
	"'time', vms_time(time), 'event', event, 'vm', vm, 'uid', uid, " \
	"'detail', json(detail), 'status', status, 'attempts', attempts, " \
	"'next_attempt_at', vms_time(next_attempt_at), " \
	"'last_error', last_error, " \
	"'delivered_at', vms_time(delivered_at)) AS j FROM event "
/* Events newest first; ?1 a status or NULL for all, ?2 the limit. */
#define EVENTS_SQL EVENT_COLS \
	"WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC LIMIT ?2"

/* Step st to its end, calling cb with each EVENT_COLS row. */
static int
event_rows(struct db *db, sqlite3_stmt *st, db_event_cb cb, void *arg)
{
	struct db_event_row row;
	int rc;

	if (st == NULL)
		return DB_ERR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.er_id = sqlite3_column_int64(st, 0);
		row.er_time = sqlite3_column_int64(st, 1);
		row.er_event = (const char *)sqlite3_column_text(st, 2);
		row.er_vm = (const char *)sqlite3_column_text(st, 3);
		row.er_status = (const char *)sqlite3_column_text(st, 4);
		row.er_attempts = sqlite3_column_int(st, 5);
		row.er_next_at = col_int(st, 6, 0);
		row.er_error = (const char *)sqlite3_column_text(st, 7);
		row.er_delivered_at = col_int(st, 8, 0);
		row.er_json = (const char *)sqlite3_column_text(st, 9);
		if (cb(&row, arg) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, DB_ERR, "reading the events: %s",
		    sqlite3_errmsg(db->db_h));
	return DB_OK;
}

int
db_events(struct db *db, const char *status, long limit, db_event_cb cb,
    void *arg)
{
	return event_rows(db, db_prep(db, EVENTS_SQL, "ti", status,
	    (int64_t)limit), cb, arg);
}

/* ---- issue 13: events -f ---- */

int
db_events_tail(struct db *db, long limit, int64_t *last, db_event_cb cb,
    void *arg)
{
	int rc;

	if ((rc = db_int(db, last, "SELECT coalesce(max(id), 0) FROM event",
	    "")) != DB_OK)
		return rc;
	return event_rows(db, db_prep(db, "SELECT * FROM (" EVENT_COLS
	    "ORDER BY id DESC LIMIT ?1) ORDER BY id", "i", (int64_t)limit), cb,
	    arg);
}

/* Move *last past r, then hand r on. */
struct follow {
	int64_t		*f_last;
	db_event_cb	 f_cb;
	void		*f_arg;
};

static int
follow_row(const struct db_event_row *r, void *arg)
{
	struct follow *f = arg;

	if (r->er_id > *f->f_last)
		*f->f_last = r->er_id;
	return f->f_cb(r, f->f_arg);
}

int
db_events_follow(struct db *db, int64_t *last, db_event_cb cb, void *arg)
{
	struct follow f = { last, cb, arg };

	return event_rows(db, db_prep(db, EVENT_COLS "WHERE id > ?1 ORDER BY "
	    "id", "i", *last), follow_row, &f);
}

int
db_events_json(struct db *db, const char *status, long limit, char **json)
{
	int rc;

	rc = db_text(db, json, "SELECT vms_utf8(json_group_array(json(j))) "
	    "FROM (" EVENTS_SQL ")", "ti", status, (int64_t)limit);
	if (rc == DB_OK && *json == NULL)
		rc = db_fail(db, DB_ERR, "events: no result");
	return rc;
}

int
db_webhook_json(struct db *db, const char *url_shown, char **json)
{
	int rc;

	rc = db_text(db, json, "SELECT vms_utf8(json_object('url', ?1, "
	    "'secret_set', json(iif(EXISTS (SELECT 1 FROM setting "
	    "    WHERE key = 'webhook.secret'), 'true', 'false')), "
	    "'events', (SELECT value FROM setting WHERE key = "
	    "    'webhook.events'), "
	    "'format', iif(?1 IS NULL, NULL, coalesce((SELECT value FROM "
	    "    setting WHERE key = 'webhook.format'), 'json')), "
	    "'pending', (SELECT count(*) FROM event WHERE status = "
	    "    'pending'), "
	    "'failed', (SELECT count(*) FROM event WHERE status = "
	    "    'failed')))",
	    "t", url_shown);
	if (rc == DB_OK && *json == NULL)
		rc = db_fail(db, DB_ERR, "webhook: no result");
	return rc;
}
