/*
 * event.c: the events outbox. Every event is written by the transaction
 * that made the change it reports; whether it waits for the webhook
 * ('pending') or is only history ('none') is decided as it is written, from
 * the webhook settings of that moment.
 */
#include "db.h"

int
db_event_add(struct db *db, const char *event, const char *vm, long uid,
    const char *detail)
{
	return db_exec(db, "INSERT INTO event (time, event, vm, uid, detail, "
	    "status) VALUES (?1, ?2, ?3, nullif(?4, -1), json(coalesce(?5, '{}')), "
	    "CASE WHEN EXISTS (SELECT 1 FROM setting WHERE key = "
	    "'webhook.url') THEN 'pending' ELSE 'none' END)", "ittit",
	    now_ms(), event, vm, (int64_t)uid,
	    detail);
}
