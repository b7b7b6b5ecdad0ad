/*
 * seed.h: bulk data for make bench, and the bench's read-backs. Not part of
 * the shipped library: built only into the bench programs (tools/bench/),
 * beside db/ rather than in it, so the product carries none of it. It is
 * the one place outside db/ that writes SQL, through db.h's helpers.
 */
#ifndef VMSCHED_SEED_H
#define VMSCHED_SEED_H

#include "../../db/db.h"

/* A bulk insert in progress: one transaction, statements prepared once. */
struct db_seed {
	struct db	*sd_db;
	sqlite3_stmt	*sd_run;	/* INSERT INTO run */
	sqlite3_stmt	*sd_event;	/* INSERT INTO event */
};
/* One history row to seed. Absent: 0 ended_at and signal, -1 pid, code
 * and delay_ms, NULL strings. Strings must live until db_seed_run returns. */
struct db_seed_row {
	const char	*rr_vm;
	const char	*rr_boot_id;
	int64_t		 rr_started_at;
	int64_t		 rr_ended_at;
	long		 rr_pid;
	int		 rr_code;
	int		 rr_signal;
	const char	*rr_reason;	/* run_reason_name() */
	const char	*rr_rule;
	int		 rr_failures;
	int64_t		 rr_delay_ms;
};
/*
 * Begin a bulk insert into db: BEGIN IMMEDIATE (and a large page cache for
 * this connection), then any number of db_seed_run/db_seed_event, then
 * db_seed_end, which commits (commit 1) or rolls back and always releases
 * sd. On failure of any call the caller ends with commit 0.
 */
int	 db_seed_begin(struct db *db, struct db_seed *sd);
int	 db_seed_run(struct db_seed *sd, const struct db_seed_row *r);
/* An event row (status none); detail a JSON object or NULL for {}. */
int	 db_seed_event(struct db_seed *sd, int64_t time_ms, const char *event,
	    const char *vm, const char *detail);
/* The same, waiting for the webhook (status 'pending', due at once),
 * whatever the webhook's filter says. */
int	 db_seed_pending(struct db_seed *sd, int64_t time_ms, const char *event,
	    const char *vm, const char *detail);
int	 db_seed_end(struct db_seed *sd, int commit);
/* What a window of history holds. */
struct db_seed_count {
	int64_t	 sc_runs;	/* runs started in the window */
	int64_t	 sc_open;	/* ... of which have no end recorded */
	int64_t	 sc_events;	/* events in the window */
	int64_t	 sc_first;	/* earliest run start in it, 0: none */
	int64_t	 sc_last;	/* latest run start in it, 0: none */
};
/* Runs and events with from_ms <= time < to_ms (Unix ms) into *c. */
int	 db_seed_count(struct db *db, int64_t from_ms, int64_t to_ms,
	    struct db_seed_count *c);
/* cb(pid, arg) for the pid of every run that has one; cb returns non-zero
 * to stop. */
int	 db_seed_pids(struct db *db, int (*cb)(long pid, void *arg), void *arg);
/*
 * The plan SQLite follows for exactly the statement db_log(name, 0, limit)
 * runs (captured as it runs, then EXPLAIN QUERY PLAN with the same
 * parameters): one line per plan node, indented two spaces per level.
 * *plan is malloc'ed, the caller frees it.
 */
int	 db_seed_log_plan(struct db *db, const char *name, long limit,
	    char **plan);

#endif
