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

#include "../sched/sched.h"

enum db_status {
	DB_OK = 0,
	DB_ERR = -1,		/* SQLite or memory failure */
	DB_NOTFOUND = -2,	/* no such VM */
	DB_EXISTS = -3,		/* a VM by that name already exists */
	DB_REFUSED = -4,	/* the change would break a rule (cycle, ...) */
	DB_NEWER = -5,		/* written by a newer vmsched: left untouched */
	DB_CANTCREATE = -6,	/* the file or its directory cannot be made */
};

/* The open store; one per process (and per thread that needs one). */
struct db {
	sqlite3	*db_h;			/* the connection */
	char	 db_path[PATH_MAX];	/* the database file */
	char	 db_err[1024];		/* last failure, for the operator */
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
/* Record a printf-style message in db->db_err; returns status. */
int	 db_fail(struct db *db, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* vm.c: definitions. uid is who asks, for the audit event. */
/* Define vd; DB_EXISTS, DB_REFUSED (unknown --after, cycle). */
int	 db_vm_add(struct db *db, const struct vm_def *vd, long uid);
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
/* Delete a definition; its history stays. DB_REFUSED if it is running
 * (unless force) or another VM starts --after it. */
int	 db_vm_remove(struct db *db, const char *name, int force, long uid);

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
};
typedef int (*db_vm_cb)(const struct db_vm_row *row, void *arg);

/* query.c: what the read commands show. *json is malloc'ed, caller frees. */
/* Every VM (or only name), by boot order then name. */
int	 db_list(struct db *db, const char *name, db_vm_cb cb, void *arg);
int	 db_list_json(struct db *db, char **json);
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
};
typedef int (*db_log_cb)(const struct db_log_row *row, void *arg);

/* History of one VM (or all), newest first, at most limit rows, since
 * since_ms (0: all time). */
int	 db_log(struct db *db, const char *name, int64_t since_ms, long limit,
	    db_log_cb cb, void *arg);
int	 db_log_json(struct db *db, const char *name, int64_t since_ms,
	    long limit, char **json);
/* A VM's definition as a JSON object (as show has it, without state). */
int	 db_def_json(struct db *db, int64_t id, char **json);
/* event.c: the outbox */
/*
 * Record an event in the caller's transaction: event is "vm.exited" and
 * the like, vm the VM's name or NULL, uid who caused it (-1: the daemon),
 * detail a JSON object (NULL: {}). Pending for the webhook if one is set.
 */
int	 db_event_add(struct db *db, const char *event, const char *vm,
	    long uid, const char *detail);

/* Whether a VM by that name is defined: 1, 0, or DB_ERR. */
int	 db_vm_exists(struct db *db, const char *name);
/* Delete runs and events that ended before before_ms. */
int	 db_prune(struct db *db, int64_t before_ms, long *runs, long *events);

#endif
