/*
 * event.c: the events outbox. Every event is written by the transaction
 * that made the change it reports; whether it waits for the webhook
 * ('pending') or is only history ('none') is decided as it is written, from
 * the webhook settings of that moment: a URL must be set and the filter
 * (webhook.events; without one, every event but the CLI's audit events)
 * must let it through. So the queue holds exactly what will be sent, and
 * the sender (sched/hook.c) never has to skip anything.
 */
#include <stdlib.h>

#include "db.h"

int
db_event_add(struct db *db, const char *event, const char *vm, long uid,
    const char *detail)
{
	sqlite3_stmt *st;
	const char *filter;
	int rc, pending = 0;

	st = db_prep(db, "SELECT (SELECT value FROM setting WHERE key = "
	    "'webhook.events') FROM setting WHERE key = 'webhook.url'", "");
	if (st == NULL)
		return DB_ERR;
	/* A row when a URL is set: the filter, or NULL for the default. */
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		filter = (const char *)sqlite3_column_text(st, 0);
		pending = hook_filter_match(filter, event);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, DB_ERR, "reading the webhook's event "
		    "filter: %s", sqlite3_errmsg(db->db_h));
	return db_exec(db, "INSERT INTO event (time, event, vm, uid, detail, "
	    "status) VALUES (?1, ?2, ?3, nullif(?4, -1), "
	    "json(coalesce(?5, '{}')), ?6)", "ittitt", now_ms(), event, vm,
	    (int64_t)uid, detail, pending ? "pending" : "none");
}
