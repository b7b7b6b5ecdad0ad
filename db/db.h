/*
 * db.h: the store. Opening and migrating the SQLite database, and every
 * statement vmsched runs against it; nothing outside db/ writes SQL.
 * Functions return DB_OK or a negative enum db_status; on failure
 * db->db_err says what went wrong in words for the operator.
 */
#ifndef VMSCHED_DB_H
#define VMSCHED_DB_H

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>

#include <sqlite3.h>

#include "../sched/model.h"

enum db_status {
	DB_OK = 0,
	DB_ERR = -1,		/* SQLite or memory failure */
	DB_NOTFOUND = -2,	/* no such VM */
	DB_EXISTS = -3,		/* a VM by that name already exists */
	DB_REFUSED = -4,	/* the change would break a rule (cycle, ...) */
	DB_NEWER = -5,		/* written by a newer vmsched: left untouched */
	DB_CANTCREATE = -6,	/* the file or its directory cannot be made */
	DB_LIVE = -7,		/* the VM has a process: stop it first */
	DB_UNSAFE = -8,		/* others could read or change it (perm.c) */
};

/* Statements kept prepared for the daemon's hot path (db_cached). */
#define DB_CACHE	16

/* The open store; one per process (and per thread that needs one). */
struct db {
	sqlite3	*db_h;			/* the connection */
	char	 db_path[PATH_MAX];	/* the database file */
	char	 db_err[1024];		/* last failure, for the operator */
	int	 db_code;		/* ... and SQLite's extended code for
					   it (db_tx keeps it past the
					   rollback); SQLITE_OK if none */
	struct {
		const char	*dc_sql;	/* the text, by address */
		sqlite3_stmt	*dc_st;
		const char	*dc_pname[24];	/* parameter names seen ... */
		int		 dc_pidx[24];	/* ... and their indexes */
	} db_cache[DB_CACHE];		/* finalized by db_close */
};

/* One migration, embedded at build time (build/migrations.c). */
struct db_migration {
	int		 m_version;	/* user_version once applied */
	const char	*m_name;	/* "0001_initial" */
	const char	*m_sql;
};
extern const struct db_migration db_migrations[];
extern const int db_nmigrations;

/* db.c */
/*
 * Where the database lives when neither --db nor VMSCHED_DB says: as root
 * /var/lib/vmsched/vmsched.db, else $XDG_STATE_HOME/vmsched/vmsched.db
 * (~/.local/state/...). 0, or -1 if the path does not fit or HOME is unset.
 */
int	 db_default_path(char *buf, size_t len);
/*
 * Open (creating it 0600 in a 0700 directory) the database at path and
 * bring its schema up to date unless max_version says otherwise (-1: the
 * newest; tests pass a lower one to build older schemas). A database newer
 * than this binary is refused with DB_NEWER and not modified.
 */
int	 db_open(struct db *db, const char *path, int max_version);

/*
 * Issue 10: opening without creating, reading what cannot be written, and
 * refusing a database other users could read or change (perm.c).
 */
enum db_open_how {
	DB_OPEN_CREATE,	/* read and write; create it if missing (db_open) */
	DB_OPEN_WRITE,	/* read and write; DB_NOTFOUND if missing */
	DB_OPEN_READ,	/* read; DB_NOTFOUND if missing, and read-only when
			 * it cannot be written (a read-only file, directory
			 * or disk, or a full disk) */
};
/*
 * db_open as how says. Every way refuses, with DB_UNSAFE and the fix in
 * db_err, a database (or its -wal, -shm, -journal, or directory) that a
 * user other than root and the caller owns or may read or change, and
 * anything but a regular file; creating makes missing directories 0700
 * and the file 0600 whatever the umask. A read-only connection refuses
 * (DB_CANTCREATE) a schema older than this binary's instead of
 * migrating it.
 */
int	 db_open_how(struct db *db, const char *path, int max_version,
	    enum db_open_how how);
/* perm.c, for db.c: DB_OK, or DB_UNSAFE / DB_CANTCREATE with why. */
/* The database file real (a realpath), its side files and directory. */
int	 db_perm_check(struct db *db, const char *real);
/* A directory for the database, and every directory above it. */
int	 db_perm_dir(struct db *db, const char *dir);
/* Make path's missing directories 0700, refuse an unsafe one, and
 * create the file 0600 if it is still missing. */
int	 db_perm_create(struct db *db, const char *path);
void	 db_close(struct db *db);
/* The schema version of the open database. */
int	 db_version(struct db *db, int *version);
/* Apply the migrations up to version (-1: all); *applied counts them. */
int	 db_migrate(struct db *db, int version, int *applied);
/* PRAGMA integrity_check and foreign_key_check; DB_REFUSED with the first
 * problem in db_err when the file is damaged. */
int	 db_check(struct db *db);
/* Run fn inside BEGIN IMMEDIATE ... COMMIT, rolling back if it fails. */
int	 db_tx(struct db *db, int (*fn)(struct db *, void *), void *arg);
/*
 * issue 13: run fn, which only reads, in one read transaction (BEGIN
 * DEFERRED ... COMMIT): what it reads is one snapshot of the database.
 */
int	 db_snapshot(struct db *db, int (*fn)(struct db *, void *), void *arg);
/*
 * issue 13: PRAGMA data_version into *v: it changes when another
 * connection commits, so a reader can poll it cheaply (log -f, events -f,
 * the daemon's metrics file).
 */
int	 db_data_version(struct db *db, int64_t *v);
/*
 * Statements with their parameters bound from the arguments, one letter of
 * types a parameter: 'i' int64_t, 'n' int, 'd' double, 't' const char *
 * (NULL binds NULL). db_prep returns a statement the caller finalizes, or
 * NULL; db_exec steps to the end (DB_EXISTS on a unique violation); db_int
 * and db_text return the first column of the first row (DB_NOTFOUND if
 * there is none; *out from db_text is malloc'ed, NULL for SQL NULL).
 */
sqlite3_stmt	*db_prep(struct db *db, const char *sql, const char *types, ...);
sqlite3_stmt	*db_prepv(struct db *db, const char *sql, const char *types,
		    va_list ap);
int	 db_exec(struct db *db, const char *sql, const char *types, ...);
int	 db_int(struct db *db, int64_t *out, const char *sql,
	    const char *types, ...);
int	 db_text(struct db *db, char **out, const char *sql,
	    const char *types, ...);
int	 db_textv(struct db *db, char **out, const char *sql,
	    const char *types, va_list ap);
/*
 * The statement for sql (a string literal: it is looked up by address),
 * prepared once and kept until db_close: reset, with no bindings. The
 * caller binds by name (db_bind_*), steps, and never finalizes it. NULL
 * with db_err set if it does not prepare.
 */
sqlite3_stmt	*db_cached(struct db *db, const char *sql);
/*
 * Bind by parameter name (":name", a string literal: a cached statement
 * remembers its index by the name's address); -1 for db_bind_id binds
 * NULL. DB_OK or DB_ERR.
 */
int	 db_bind_int(struct db *db, sqlite3_stmt *st, const char *name,
	    int64_t v);
int	 db_bind_id(struct db *db, sqlite3_stmt *st, const char *name,
	    int64_t v);
int	 db_bind_text(struct db *db, sqlite3_stmt *st, const char *name,
	    const char *s);
/* Step st to its end: DB_OK, or DB_ERR with db_err set; resets it. */
int	 db_step_done(struct db *db, sqlite3_stmt *st);
/* Record a printf-style message in db->db_err; returns status. */
int	 db_fail(struct db *db, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* vm.c: definitions. uid is who asks, for the audit event. */
/* Define vd; DB_EXISTS, DB_REFUSED (unknown --after, cycle). */
int	 db_vm_add(struct db *db, const struct vm_def *vd, long uid);
/*
 * db_vm_add (update 0) or a whole-definition replace (update 1, recording
 * vm.changed when *changed) inside the caller's transaction (db_tx): for
 * writers that store several definitions all or none.
 */
int	 db_vm_write(struct db *db, const struct vm_def *vd, int update,
	    long uid, int *changed);
/*
 * Change the definition called name: in one transaction, load it, let fn
 * edit it (fn returns DB_OK, or a status with the reason written to err)
 * and store it. *changed says whether anything differs. DB_NOTFOUND,
 * DB_REFUSED (unknown --after, cycle), or fn's status.
 */
typedef int (*db_edit_fn)(struct vm_def *vd, void *arg, char *err,
    size_t errlen);
int	 db_vm_update(struct db *db, const char *name, db_edit_fn fn,
	    void *arg, long uid, int *changed);
/* Load the definition named name into vd (vm_def_init'ed by the caller). */
int	 db_vm_get(struct db *db, const char *name, struct vm_def *vd);
/* Delete a definition; its history stays. DB_LIVE if it has a process,
 * DB_REFUSED if another VM starts --after it. */
int	 db_vm_remove(struct db *db, const char *name, long uid);

/* import.c: many definitions at once (import-launchd). */
enum db_import_how {
	DB_IMPORT_ADDED,	/* a new definition */
	DB_IMPORT_CHANGED,	/* replaced one that differed */
	DB_IMPORT_SAME,		/* replaced one that was the same */
};
/*
 * Store the n definitions in vd in one transaction, all or none. A name
 * already defined fails with DB_EXISTS unless replace, which replaces that
 * definition (its history, state and the VMs that start --after it stay)
 * and records vm.changed; a name given twice is DB_REFUSED. On DB_OK,
 * how[i] (n of them) says what became of vd[i]; on failure *failed is the
 * index of the definition at fault, or n if none is.
 */
int	 db_vm_import(struct db *db, const struct vm_def *vd, size_t n,
	    int replace, long uid, enum db_import_how *how, size_t *failed);
/*
 * What stopping every VM may take, for the boot unit's stop timeout: the
 * sum of all stop timeouts into *sum_ms, *count VMs, and *unbounded 1 if
 * one of them is 0 (never SIGKILL, so no bound exists).
 */
int	 db_stop_timeouts(struct db *db, int64_t *sum_ms, int64_t *count,
	    int *unbounded);

/* One VM with its live state, as list shows it. Strings live until the
 * callback returns; absent numbers are -1 (pid, codes) or 0 (times). */
struct db_vm_row {
	const char	*vr_name;
	int		 vr_order;
	const char	*vr_restart;
	const char	*vr_state;
	long		 vr_pid;
	int		 vr_restarts;
	int		 vr_failures;
	int64_t		 vr_since;	/* state entered */
	int64_t		 vr_started;	/* current run began, or 0 */
	const char	*vr_why;	/* what it waits for, or NULL */
	const char	*vr_last_reason;	/* NULL: never ran */
	int		 vr_last_code;
	int		 vr_last_signal;
	int64_t		 vr_last_at;
	const char	*vr_json;	/* the row as list --json has it */
	/* issue 12 */
	const char	*vr_driver;	/* "exec", "detached" */
	int		 vr_pid_file;	/* detached: it has a pid file */
	int		 vr_status;	/* ... a status command */
};
typedef int (*db_vm_cb)(const struct db_vm_row *row, void *arg);

/* query.c: what the read commands show. *json is malloc'ed, caller frees. */
/* Every VM (or only name), by boot order then name. */
/* With json, each row's vr_json is set (else NULL, and cheaper). */
int	 db_list(struct db *db, const char *name, int json, db_vm_cb cb,
	    void *arg);
/* One VM's definition and state as a JSON object; DB_NOTFOUND. */
int	 db_show_json(struct db *db, const char *name, char **json);

/* One history entry: a run or an event. */
struct db_log_row {
	int64_t		 lr_time;
	const char	*lr_vm;		/* NULL: not about one VM */
	int		 lr_is_run;
	/* a run */
	int64_t		 lr_ended;	/* 0: still running */
	long		 lr_pid;
	int		 lr_code;	/* -1: none */
	int		 lr_signal;	/* 0: none */
	const char	*lr_reason;
	const char	*lr_detail;	/* run: text; event: JSON object */
	const char	*lr_rule;
	int		 lr_failures;
	int64_t		 lr_delay_ms;	/* -1: not restarted */
	int		 lr_breaker;
	/* an event */
	const char	*lr_event;
	long		 lr_uid;	/* -1: the daemon */
	const char	*lr_summary;	/* the daemon's: "pid 12", "in 4s" */
	/* issue 13 */
	int64_t		 lr_id;		/* the run's or the event's id */
	const char	*lr_json;	/* the row as log --json has it */
};
typedef int (*db_log_cb)(const struct db_log_row *row, void *arg);

/*
 * History of one VM (or all), newest first, at most limit rows, since
 * since_ms (0: all time). db_log, for people, leaves out the daemon's
 * vm.started, vm.exited and vm.restart_scheduled events, which say again
 * what their run row says; db_log_json has everything.
 */
int	 db_log(struct db *db, const char *name, int64_t since_ms, long limit,
	    db_log_cb cb, void *arg);
int	 db_log_json(struct db *db, const char *name, int64_t since_ms,
	    long limit, char **json);
/* ---- issue 13: status NAME and log -f ---- */
/* The last limit runs of VM name (status NAME), newest first. */
int	 db_runs(struct db *db, const char *name, long limit, db_log_cb cb,
	    void *arg);
/* As db_log (human: as db_log leaves rows out), but oldest first. */
int	 db_log_tail(struct db *db, const char *name, int64_t since_ms,
	    long limit, int human, db_log_cb cb, void *arg);
/* Where log -f is: what it has seen. */
struct db_log_cursor {
	int64_t		 lc_run;	/* the newest run seen */
	int64_t		 lc_event;	/* the newest event seen */
	int64_t		*lc_open;	/* runs seen without an end yet */
	size_t		 lc_nopen;
	size_t		 lc_cap;
};
/*
 * Start lc at the newest run and event, knowing the runs of name (NULL:
 * all) still open. Call it in the db_snapshot that reads the backlog, so
 * no row falls between the two. Free with db_log_cursor_free.
 */
int	 db_log_cursor_init(struct db *db, const char *name,
	    struct db_log_cursor *lc);
void	 db_log_cursor_free(struct db_log_cursor *lc);
/*
 * What landed since lc, oldest first, lc moved past it: each new run,
 * each run lc saw open that has ended (once more, now with its end), each
 * new event (human: not those db_log leaves out). lr_time is when the row
 * landed: a run's end, else its start.
 */
int	 db_log_follow(struct db *db, const char *name, int human,
	    struct db_log_cursor *lc, db_log_cb cb, void *arg);
/* ---- end of issue 13 ---- */
/* A VM's definition as a JSON object (as show has it, without state). */
int	 db_def_json(struct db *db, int64_t id, char **json);
/*
 * json.c (issue 12): JSON from outside, read by SQLite on a private
 * in-memory connection (no database file is involved).
 */
/*
 * json, a JSON array of one or more strings (no NUL in them, the first
 * not empty), into *sv (replaced). 0, or -1 with why.
 */
int	 db_json_argv(const char *json, struct strv *sv, char *why,
	    size_t len);
/*
 * The value at path (json_extract's "$.return.status") of json: 0 with
 * *out malloc'ed (NULL if there is none; objects and arrays as JSON
 * text), or -1 with why (not JSON).
 */
int	 db_json_get(const char *json, const char *path, char **out,
	    char *why, size_t len);
/* s as a JSON string, quoted and escaped by SQLite; *out malloc'ed. */
int	 db_json_quote(const char *s, char **out);
/* event.c: the outbox */
/*
 * Record an event in the caller's transaction: event is "vm.exited" and
 * the like, vm the VM's name or NULL, uid who caused it (-1: the daemon),
 * detail a JSON object (NULL: {}). Pending for the webhook if one is set
 * and its filter (webhook.events, hook_filter_match) lets the event
 * through; otherwise history only.
 */
int	 db_event_add(struct db *db, const char *event, const char *vm,
	    long uid, const char *detail);

/* outbox.c: the webhook's settings and the events waiting for it. */
/* The webhook as configured; strings malloc'ed, NULL when not set. */
struct db_webhook {
	char	*wh_url;	/* NULL: no webhook */
	char	*wh_secret;	/* NULL: deliveries are not signed */
	char	*wh_events;	/* filter; NULL: the default */
	char	*wh_format;	/* "json" or "slack" */
	int64_t	 wh_give_up_ms;	/* webhook.give_up_ms, else HOOK_GIVE_UP_MS */
	int64_t	 wh_timeout_ms;	/* webhook.timeout_ms; 0: the sender's */
};
/* Load the webhook settings into *wh; DB_NOTFOUND (wh filled) if no URL. */
int	 db_webhook_get(struct db *db, struct db_webhook *wh);
void	 db_webhook_free(struct db_webhook *wh);
/*
 * Replace the webhook: url, secret, events (a filter) and format ("json",
 * "slack"), in one transaction; a NULL secret or events means none. Events
 * already pending stay pending, go to the new URL, and are due at once
 * (a retry's wait is dropped).
 */
int	 db_webhook_set(struct db *db, const char *url, const char *secret,
	    const char *events, const char *format);
/*
 * Remove the webhook; events still pending become history only ('none'),
 * *cancelled says how many. DB_NOTFOUND if none was set.
 */
int	 db_webhook_unset(struct db *db, long *cancelled);
/* A setting's value (*value malloc'ed); DB_NOTFOUND if unset. */
int	 db_setting_get(struct db *db, const char *key, char **value);
/* Set a setting, or remove it when value is NULL. */
int	 db_setting_set(struct db *db, const char *key, const char *value);

/*
 * The head of the queue: the oldest pending event, due or not (later ones
 * wait behind it). *ev must be clear (hook_event_clear); DB_NOTFOUND if
 * nothing is pending.
 */
int	 db_outbox_head(struct db *db, struct hook_event *ev);
/* The event id, whatever its status, into *ev; DB_NOTFOUND. */
int	 db_outbox_get(struct db *db, int64_t id, struct hook_event *ev);
/*
 * Record an event sent by hand (webhook test) outside the queue: status
 * 'none' until db_outbox_result; *id is its id.
 */
int	 db_outbox_add(struct db *db, const char *event, long uid,
	    const char *detail, int64_t *id);
/*
 * The request body for event id, built by SQLite: the JSON document
 * (id, event, time, host, vm {...}, detail), or {"text": text} when text
 * is not NULL. *body malloc'ed.
 */
int	 db_outbox_body(struct db *db, int64_t id, const char *host,
	    const char *text, char **body);
/*
 * Record one attempt at event id: delivered (now), a retry at next_at, or
 * failed for good, with error (NULL on success) as last_error; only if the
 * event still has status from ("pending" for the queue, "none" for
 * webhook test), so one taken out of the queue meanwhile (webhook unset)
 * is left as it is.
 */
int	 db_outbox_result(struct db *db, int64_t id, const char *from,
	    enum hook_verdict v, int64_t next_at, const char *error);
/* How many events have status ("pending", "failed", ...). */
int	 db_outbox_count(struct db *db, const char *status, int64_t *n);
/*
 * The webhook settings as a JSON object for webhook show --json: url (as
 * url_shown says, NULL: none set), secret_set (true/false; never the
 * secret), events (the filter or null), format, pending and failed counts.
 */
int	 db_webhook_json(struct db *db, const char *url_shown, char **json);

/* One event as vmsched events shows it; strings live during the callback. */
struct db_event_row {
	int64_t		 er_id;
	int64_t		 er_time;
	const char	*er_event;
	const char	*er_vm;		/* NULL: not about one VM */
	const char	*er_status;	/* none, pending, delivered, failed */
	int		 er_attempts;
	int64_t		 er_next_at;	/* 0: none */
	const char	*er_error;	/* last_error or NULL */
	int64_t		 er_delivered_at;	/* 0: not delivered */
	const char	*er_json;	/* issue 13: as events --json has it */
};
typedef int (*db_event_cb)(const struct db_event_row *row, void *arg);
/* Events newest first, only those with status (NULL: all), at most limit. */
int	 db_events(struct db *db, const char *status, long limit,
	    db_event_cb cb, void *arg);
int	 db_events_json(struct db *db, const char *status, long limit,
	    char **json);
/*
 * issue 13, events -f: the last limit events, oldest first, and in *last
 * the newest id (call it in a db_snapshot); then db_events_follow gives
 * the events after *last, oldest first, and moves *last past them.
 */
int	 db_events_tail(struct db *db, long limit, int64_t *last,
	    db_event_cb cb, void *arg);
int	 db_events_follow(struct db *db, int64_t *last, db_event_cb cb,
	    void *arg);

/* The id of the VM called name; DB_NOTFOUND ("NAME: no such VM"). */
int	 db_vm_id(struct db *db, const char *name, int64_t *id);
/* Whether a VM by that name is defined: 1, 0, or DB_ERR. */
int	 db_vm_exists(struct db *db, const char *name);
/* Delete runs and events that ended before before_ms. */
int	 db_prune(struct db *db, int64_t before_ms, long *runs, long *events);

/* graph.c: the dependency graph. */
/* The VMs (node i: g_ids[i], by id) and their --after edges. */
struct db_graph {
	size_t			 g_n;
	int64_t			*g_ids;
	char			**g_names;
	int			*g_order;	/* boot order */
	int			*g_enabled;
	struct plan_edge	*g_edges;	/* from starts after to */
	size_t			 g_nedges;
};
int	 db_graph_load(struct db *db, struct db_graph *g);
void	 db_graph_free(struct db_graph *g);
/* DB_REFUSED naming the cycle ("a -> b -> a") if g has one. */
int	 db_graph_cycle(struct db *db, const struct db_graph *g);
/*
 * `plan --json`: for each of g's VMs, by wave[i], then order and name,
 * cb(wave, object, arg) with the VM as a JSON object built by SQLite
 * (name, order, enabled, after, gates, wait_timeout_ms, up_delay_ms,
 * ready_tcp, stop_timeout_ms). cb returns nonzero to stop.
 */
typedef int (*db_plan_cb)(int wave, const char *json, void *arg);
int	 db_plan_rows(struct db *db, const struct db_graph *g, const int *wave,
	    db_plan_cb cb, void *arg);

/* run.c: the daemon's side. */
/* One VM as the daemon loads it; strings live until the callback returns. */
struct db_sup_row {
	int64_t		 sr_id;
	const char	*sr_name;
	int		 sr_enabled;
	int		 sr_order;
	const char	*sr_desired;	/* up, down, suspended */
	const char	*sr_state;
	const char	*sr_pending;	/* start, restart, reset or NULL */
	int64_t		 sr_request;	/* the CLI's request counter */
	int64_t		 sr_handled;	/* the last request a daemon acted on */
	long		 sr_pid;	/* -1: none recorded */
	int64_t		 sr_pid_start;
	int64_t		 sr_run_id;	/* the open run, 0: none */
	int64_t		 sr_run_started;	/* its start, Unix ms */
	int		 sr_failures;
	int		 sr_restarts;
	const char	*sr_boot_id;	/* boot of the last start */
	enum restart_policy sr_restart;
	int		 sr_owed;	/* the daemon owed it a start */
};
typedef int (*db_sup_cb)(const struct db_sup_row *row, void *arg);
/* Every VM (or only name) with its state, by boot order. */
int	 db_sup_load(struct db *db, const char *name, db_sup_cb cb, void *arg);

/*
 * One state change of a VM, written with the run row it opens or closes
 * and its events in one transaction. Absent values: -1 for c_pid, c_code,
 * c_delay_ms and c_handled; 0 for c_signal and c_next_start_at; NULL for
 * strings (c_boot_id NULL keeps the stored one).
 */
enum change_run {
	CHANGE_RUN_NONE,	/* no run row */
	CHANGE_RUN_OPEN,	/* a process started: open a run */
	CHANGE_RUN_CLOSE,	/* c_run_id ended */
	CHANGE_RUN_ONESHOT,	/* a start that never ran: open and close */
};
struct db_change {
	int64_t		 c_vm_id;	/* 0: not about a VM (scheduler.*) */
	const char	*c_vm;		/* name, for run rows and events */
	const char	*c_state;	/* the new state */
	const char	*c_why;		/* what it waits for, or NULL */
	int64_t		 c_at;		/* when, Unix ms */
	long		 c_pid;		/* the process now, -1: none */
	int64_t		 c_pid_start;
	int		 c_failures;	/* consecutive failures now */
	int		 c_restarts;	/* total restarts now */
	int64_t		 c_next_start_at;	/* backoff deadline, Unix ms */
	const char	*c_boot_id;
	int64_t		 c_handled;	/* request acted on, -1: none */
	int		 c_owed;	/* a start is still owed */
	enum change_run	 c_run;
	int64_t		 c_run_id;	/* in: run to close; out: run opened */
	int		 c_run_ref;	/* close the run cs[c_run_ref] opened in
					   the same db_sup_write; -1: c_run_id */
	long		 c_run_pid;	/* the run's process (events), -1 */
	int64_t		 c_started_at;	/* run start, for OPEN and ONESHOT */
	int		 c_code;	/* exit code */
	int		 c_signal;
	const char	*c_reason;	/* run_reason_name() */
	const char	*c_detail;	/* errno text, gate, ... */
	const char	*c_rule;	/* the decision's rule */
	int64_t		 c_delay_ms;	/* restart delay chosen */
	int		 c_breaker;
	const char	*c_events[4];	/* events to emit, NULL-terminated */
	/* issue 12 */
	int		 c_live;	/* it runs (its run stays open), with
					   or without a pid */
	const char	*c_open_detail;	/* OPEN: how it started ("resumed") */
};
/*
 * Write the n changes cs in one transaction, in order, all or none; each
 * opened run's id goes to its c_run_id. Whether an event waits for the
 * webhook is decided once, from the settings of that transaction.
 */
int	 db_sup_write(struct db *db, struct db_change *const *cs, size_t n);
/* One change, as db_sup_write does. */
int	 db_sup_change(struct db *db, struct db_change *c);
/* This database's id (made once, at random): 32 hex digits into buf. */
int	 db_instance_id(struct db *db, char *buf, size_t len);

/*
 * The CLI asks: set desired (up, down, suspended; NULL keeps it) and a
 * pending action (start, restart, reset; NULL keeps it), bump the request
 * counter; *request is its new value, which the daemon copies to handled
 * once it has acted.
 */
int	 db_request(struct db *db, const char *name, const char *desired,
	    const char *pending, int64_t *request);
/* What the CLI polls while it waits for a request to take effect. */
struct db_state {
	char	 st_state[16];
	char	 st_desired[16];
	int64_t	 st_handled;
	int64_t	 st_run_id;
	long	 st_pid;
};
int	 db_vm_state(struct db *db, const char *name, struct db_state *st);

/* The daemon's own row, and the scheduler.* events. */
struct db_daemon {
	long	 dd_pid;
	int64_t	 dd_pid_start;
	int64_t	 dd_started_at;
	char	 dd_boot_id[64];
	int	 dd_stopped;	/* it said it stopped */
};
int	 db_daemon_started(struct db *db, long pid, int64_t pid_start,
	    const char *boot_id);
int	 db_daemon_stopping(struct db *db);
int	 db_daemon_stopped(struct db *db);
/* DB_NOTFOUND if no daemon ever ran on this database. */
int	 db_daemon_get(struct db *db, struct db_daemon *d);
/* Whether vm has a run of pid (pid_start) started since (Unix ms): 1, 0,
 * or -1. */
int	 db_run_known(struct db *db, const char *vm, long pid,
	    int64_t pid_start, int64_t since);
/* VMs by state, for status: cb(state, count, arg) for each state. */
int	 db_state_counts(struct db *db, int (*cb)(const char *, long, void *),
	    void *arg);
/* Events waiting for the webhook. */
int	 db_events_pending(struct db *db, long *n);
/* status --json; running says whether the daemon holds its lock. */
int	 db_status_json(struct db *db, int running, char **json);

/* ---- issue 13: metrics.c, what `vmsched metrics` shows ---- */
/* One VM's figures. */
struct db_metrics_vm {
	char		*mv_name;
	char		 mv_state[16];
	int64_t		 mv_restarts;	/* in all */
	int64_t		 mv_failures;	/* in a row */
	int64_t		 mv_started_at;	/* its process's run (Unix ms), 0 */
};
struct db_metrics {
	struct db_metrics_vm *dm_vms;	/* by name */
	size_t		 dm_nvms;
	int64_t		 dm_events_pending;
	int64_t		 dm_events_failed;
	int64_t		 dm_daemon_started_at;	/* Unix ms; 0: never */
};
/* The figures, read in one snapshot; free with db_metrics_free. */
int	 db_metrics(struct db *db, struct db_metrics *m);
void	 db_metrics_free(struct db_metrics *m);
/*
 * A number that changes whenever this connection or another has changed
 * the database since it was last read: the daemon rewrites its metrics
 * file only then.
 */
int	 db_change_stamp(struct db *db, int64_t *stamp);
/* ---- end of issue 13 ---- */

#endif
