/*
 * db.c: opening the store. Creates the file 0600 in a 0700 directory, sets
 * WAL, foreign keys and a busy timeout so the CLI and the daemon share it,
 * refuses a database from a newer vmsched before writing a byte, and applies
 * the embedded migrations, each in one transaction, tracked by user_version.
 * Also registers the SQL functions the queries format with.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"

#define BUSY_TIMEOUT_MS	10000

int
db_fail(struct db *db, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->db_err, sizeof(db->db_err), fmt, ap);
	va_end(ap);
	return status;
}

static int
db_sqlfail(struct db *db, const char *what)
{
	return db_fail(db, DB_ERR, "%s: %s", what, sqlite3_errmsg(db->db_h));
}

int
db_default_path(char *buf, size_t len)
{
	const char *state, *home;
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, len, "/var/lib/vmsched/vmsched.db");
	else if ((state = getenv("XDG_STATE_HOME")) != NULL && state[0] == '/')
		n = snprintf(buf, len, "%s/vmsched/vmsched.db", state);
	else if ((home = getenv("HOME")) != NULL && home[0] != '\0')
		n = snprintf(buf, len, "%s/.local/state/vmsched/vmsched.db",
		    home);
	else
		return -1;
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* mkdir -p the directory that holds path, new parts mode 0700. */
static int
make_parent(const char *path)
{
	char dir[PATH_MAX], *p;

	if (strlen(path) >= sizeof(dir))
		return -1;
	strcpy(dir, path);
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return -1;
		if ((*p = c) == '\0')
			break;
	}
	return 0;
}

/* vms_time(ms): RFC 3339 UTC with milliseconds, NULL for NULL. */
static void
sql_time(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char buf[40];
	struct tm tm;
	sqlite3_int64 ms;
	time_t t;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	ms = sqlite3_value_int64(argv[0]);
	t = (time_t)(ms / 1000);
	if (gmtime_r(&t, &tm) == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%03dZ",
	    (int)(ms % 1000));
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

/* vms_signame(n): "TERM", NULL for NULL or 0. */
static void
sql_signame(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char buf[16];
	int sig;

	(void)argc;
	sig = sqlite3_value_int(argv[0]);
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sig == 0) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_text(ctx, value_signame(sig, buf, sizeof(buf)), -1,
	    SQLITE_TRANSIENT);
}

/* DB_NEWER, with the message, when version is past what we know. */
static int
refuse_newer(struct db *db, int version)
{
	if (version <= db_nmigrations)
		return DB_OK;
	return db_fail(db, DB_NEWER, "%s: schema version %d is newer than "
	    "this vmsched knows (%d); upgrade vmsched", db->db_path, version,
	    db_nmigrations);
}

int
db_version(struct db *db, int *version)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db->db_h, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK)
		return db_sqlfail(db, "reading the schema version");
	rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_sqlfail(db, "reading the schema version");
	return DB_OK;
}

static int
exec(struct db *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db->db_h, sql, NULL, NULL, &err) != SQLITE_OK) {
		db_fail(db, DB_ERR, "%s", err ? err : sqlite3_errmsg(db->db_h));
		sqlite3_free(err);
		return DB_ERR;
	}
	return DB_OK;
}

/*
 * Switch to WAL. Changing the journal mode needs the database to itself,
 * and SQLite answers SQLITE_BUSY at once, without the busy handler, when
 * another process has it open: so many processes opening a new database
 * at once (a daemon and the CLI) retry for the busy timeout.
 */
static int
wal(struct db *db)
{
	struct timespec ts = { 0, 5 * 1000000L };
	int64_t until = mono_ms() + BUSY_TIMEOUT_MS;
	sqlite3_stmt *st;
	const unsigned char *mode;
	int rc, ok;

	if (sqlite3_prepare_v2(db->db_h, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL) != SQLITE_OK)
		return db_sqlfail(db, "journal_mode WAL");
	for (;;) {
		/* It answers with the mode it is in: unchanged when busy. */
		rc = sqlite3_step(st);
		ok = rc == SQLITE_ROW && (mode = sqlite3_column_text(st, 0)) !=
		    NULL && strcmp((const char *)mode, "wal") == 0;
		sqlite3_reset(st);
		if (ok)
			break;
		if ((rc != SQLITE_ROW && (rc & 0xff) != SQLITE_BUSY &&
		    (rc & 0xff) != SQLITE_LOCKED) || mono_ms() >= until) {
			sqlite3_finalize(st);
			return db_fail(db, DB_ERR, "journal_mode WAL: %s",
			    rc == SQLITE_ROW ? "the database stays busy" :
			    sqlite3_errmsg(db->db_h));
		}
		nanosleep(&ts, NULL);
	}
	sqlite3_finalize(st);
	return DB_OK;
}

int
db_tx(struct db *db, int (*fn)(struct db *, void *), void *arg)
{
	int rc;

	if (exec(db, "BEGIN IMMEDIATE") != DB_OK)
		return DB_ERR;
	if ((rc = fn(db, arg)) != DB_OK) {
		sqlite3_exec(db->db_h, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	if (exec(db, "COMMIT") != DB_OK) {
		sqlite3_exec(db->db_h, "ROLLBACK", NULL, NULL, NULL);
		return DB_ERR;
	}
	return DB_OK;
}

int
db_snapshot(struct db *db, int (*fn)(struct db *, void *), void *arg)
{
	int rc;

	if (exec(db, "BEGIN DEFERRED") != DB_OK)
		return DB_ERR;
	rc = fn(db, arg);
	/* Only reads: COMMIT and ROLLBACK end it alike. */
	if (exec(db, "COMMIT") != DB_OK) {
		sqlite3_exec(db->db_h, "ROLLBACK", NULL, NULL, NULL);
		return rc != DB_OK ? rc : DB_ERR;
	}
	return rc;
}

int
db_data_version(struct db *db, int64_t *v)
{
	return db_int(db, v, "PRAGMA data_version", "");
}

struct migrate_arg {
	int	ma_target;	/* apply up to this version */
	int	ma_applied;	/* how many this call applied */
};

/* One migration, inside the caller's transaction. */
static int
migrate_step(struct db *db, void *arg)
{
	struct migrate_arg *ma = arg;
	char pragma[64];
	int version;

	/* Another process may have migrated while we waited for the lock. */
	if (db_version(db, &version) != DB_OK)
		return DB_ERR;
	if (version >= ma->ma_target)
		return DB_OK;
	if (exec(db, db_migrations[version].m_sql) != DB_OK)
		return db_fail(db, DB_ERR, "migration %s: %s",
		    db_migrations[version].m_name, db->db_err);
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
	    version + 1);
	if (exec(db, pragma) != DB_OK)
		return DB_ERR;
	ma->ma_applied++;
	return DB_OK;
}

int
db_migrate(struct db *db, int version, int *applied)
{
	struct migrate_arg ma = { version < 0 ? db_nmigrations : version, 0 };
	int current;

	if (ma.ma_target > db_nmigrations)
		ma.ma_target = db_nmigrations;
	for (;;) {
		if (db_version(db, &current) != DB_OK)
			return DB_ERR;
		if (refuse_newer(db, current) != DB_OK)
			return DB_NEWER;
		if (current >= ma.ma_target)
			break;
		if (db_tx(db, migrate_step, &ma) != DB_OK)
			return DB_ERR;
	}
	if (applied)
		*applied = ma.ma_applied;
	return DB_OK;
}

int
db_open(struct db *db, const char *path, int max_version)
{
	int fd, rc, version;

	memset(db, 0, sizeof(*db));
	if (strlen(path) >= sizeof(db->db_path))
		return db_fail(db, DB_CANTCREATE, "%s: path too long", path);
	strcpy(db->db_path, path);
	if (make_parent(path) == -1)
		return db_fail(db, DB_CANTCREATE, "%s: cannot create its "
		    "directory: %s", path, strerror(errno));
	/*
	 * Create the file if it is missing, but never open() and close() an
	 * existing one: closing any descriptor of a file drops every POSIX
	 * lock this process holds on it, SQLite's included. Another
	 * connection of this process (the webhook sender's beside the
	 * daemon's) would lose its shared lock, and another process closing
	 * the database would then take itself for the last user and delete
	 * the WAL under it: later commits vanish.
	 */
	if (access(path, F_OK) == -1) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST)
			return db_fail(db, DB_CANTCREATE, "%s: %s", path,
			    strerror(errno));
		if (fd != -1)
			close(fd);
	} else if (access(path, R_OK | W_OK) == -1)
		return db_fail(db, DB_CANTCREATE, "%s: %s", path,
		    strerror(errno));
	if (sqlite3_open_v2(path, &db->db_h, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		db_fail(db, DB_CANTCREATE, "%s: %s", path,
		    db->db_h ? sqlite3_errmsg(db->db_h) : "out of memory");
		db_close(db);
		return DB_CANTCREATE;
	}
	sqlite3_busy_timeout(db->db_h, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db->db_h, 1);
	if (sqlite3_create_function(db->db_h, "vms_time", 1,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_time, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_create_function(db->db_h, "vms_signame", 1,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_signame, NULL,
	    NULL) != SQLITE_OK)
		goto fail;
	/* Read the version before anything writes: a newer file is left as
	 * it is, byte for byte. */
	if (db_version(db, &version) != DB_OK) {
		db_fail(db, DB_ERR, "%s: not a vmsched database: %s", path,
		    sqlite3_errmsg(db->db_h));
		db_close(db);
		return DB_ERR;
	}
	if (refuse_newer(db, version) != DB_OK) {
		db_close(db);
		return DB_NEWER;
	}
	if (wal(db) != DB_OK ||
	    exec(db, "PRAGMA synchronous = NORMAL") != DB_OK ||
	    exec(db, "PRAGMA foreign_keys = ON") != DB_OK)
		goto fail;
	if ((rc = db_migrate(db, max_version, NULL)) != DB_OK) {
		db_close(db);
		return rc;
	}
	return DB_OK;
fail:
	db_sqlfail(db, path);
	db_close(db);
	return DB_ERR;
}

void
db_close(struct db *db)
{
	size_t i;

	for (i = 0; i < DB_CACHE; i++) {
		if (db->db_cache[i].dc_st != NULL)
			sqlite3_finalize(db->db_cache[i].dc_st);
		db->db_cache[i].dc_st = NULL;
		db->db_cache[i].dc_sql = NULL;
	}
	if (db->db_h != NULL)
		sqlite3_close(db->db_h);
	db->db_h = NULL;
}

int
db_check(struct db *db)
{
	sqlite3_stmt *st;
	int rc, version, problems = 0;

	if (sqlite3_prepare_v2(db->db_h, "PRAGMA integrity_check", -1, &st,
	    NULL) != SQLITE_OK)
		return db_sqlfail(db, "integrity_check");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *msg = (const char *)sqlite3_column_text(st, 0);
		if (strcmp(msg, "ok") != 0 && problems++ == 0)
			db_fail(db, DB_REFUSED, "integrity: %s", msg);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_sqlfail(db, "integrity_check");
	if (problems)
		return DB_REFUSED;
	if (sqlite3_prepare_v2(db->db_h, "PRAGMA foreign_key_check", -1, &st,
	    NULL) != SQLITE_OK)
		return db_sqlfail(db, "foreign_key_check");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		db_fail(db, DB_REFUSED, "foreign key: table %s row %lld",
		    sqlite3_column_text(st, 0),
		    (long long)sqlite3_column_int64(st, 1));
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return DB_REFUSED;
	if (rc != SQLITE_DONE)
		return db_sqlfail(db, "foreign_key_check");
	if (db_version(db, &version) != DB_OK)
		return DB_ERR;
	if (version != db_nmigrations)
		return db_fail(db, DB_REFUSED, "schema version %d, expected %d "
		    "(run vmsched db migrate)", version, db_nmigrations);
	return DB_OK;
}

/* Bind the values in ap to st as types says: one letter a parameter. */
static int
bindv(struct db *db, sqlite3_stmt *st, const char *types, va_list ap)
{
	const char *s;
	int i, rc = SQLITE_OK;

	for (i = 1; *types != '\0' && rc == SQLITE_OK; types++, i++) {
		switch (*types) {
		case 'i':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'n':
			rc = sqlite3_bind_int(st, i, va_arg(ap, int));
			break;
		case 'd':
			rc = sqlite3_bind_double(st, i, va_arg(ap, double));
			break;
		case 't':
			s = va_arg(ap, const char *);
			rc = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT)
			    : sqlite3_bind_null(st, i);
			break;
		default:
			return db_fail(db, DB_ERR, "bad bind type '%c'", *types);
		}
	}
	return rc == SQLITE_OK ? DB_OK : db_sqlfail(db, "bind");
}

sqlite3_stmt *
db_prepv(struct db *db, const char *sql, const char *types, va_list ap)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db->db_h, sql, -1, &st, NULL) != SQLITE_OK) {
		db_sqlfail(db, "prepare");
		return NULL;
	}
	if (bindv(db, st, types, ap) != DB_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

sqlite3_stmt *
db_prep(struct db *db, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, types);
	st = db_prepv(db, sql, types, ap);
	va_end(ap);
	return st;
}

int
db_exec(struct db *db, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, types);
	st = db_prepv(db, sql, types, ap);
	va_end(ap);
	if (st == NULL)
		return DB_ERR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		db_sqlfail(db, "step");
		sqlite3_finalize(st);
		return rc == SQLITE_CONSTRAINT_UNIQUE ? DB_EXISTS : DB_ERR;
	}
	sqlite3_finalize(st);
	return DB_OK;
}

int
db_int(struct db *db, int64_t *out, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, types);
	st = db_prepv(db, sql, types, ap);
	va_end(ap);
	if (st == NULL)
		return DB_ERR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		db_sqlfail(db, "step");
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return DB_OK;
	return rc == SQLITE_DONE ? DB_NOTFOUND : DB_ERR;
}

int
db_textv(struct db *db, char **out, const char *sql, const char *types,
    va_list ap)
{
	sqlite3_stmt *st;
	const unsigned char *s;
	int rc;

	*out = NULL;
	if ((st = db_prepv(db, sql, types, ap)) == NULL)
		return DB_ERR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && (s = sqlite3_column_text(st, 0)) != NULL &&
	    (*out = strdup((const char *)s)) == NULL)
		rc = db_fail(db, DB_ERR, "out of memory");
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		rc = db_sqlfail(db, "step");
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return DB_OK;
	return rc == SQLITE_DONE ? DB_NOTFOUND : DB_ERR;
}

int
db_text(struct db *db, char **out, const char *sql, const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = db_textv(db, out, sql, types, ap);
	va_end(ap);
	return rc;
}

sqlite3_stmt *
db_cached(struct db *db, const char *sql)
{
	size_t i;

	for (i = 0; i < DB_CACHE && db->db_cache[i].dc_sql != NULL; i++)
		if (db->db_cache[i].dc_sql == sql) {
			sqlite3_reset(db->db_cache[i].dc_st);
			sqlite3_clear_bindings(db->db_cache[i].dc_st);
			return db->db_cache[i].dc_st;
		}
	if (i == DB_CACHE) {
		db_fail(db, DB_ERR, "statement cache full");
		return NULL;
	}
	if (sqlite3_prepare_v3(db->db_h, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &db->db_cache[i].dc_st, NULL) != SQLITE_OK) {
		db_sqlfail(db, "prepare");
		db->db_cache[i].dc_st = NULL;
		return NULL;
	}
	db->db_cache[i].dc_sql = sql;
	return db->db_cache[i].dc_st;
}

static int
param(sqlite3_stmt *st, const char *name)
{
	return sqlite3_bind_parameter_index(st, name);
}

int
db_bind_int(sqlite3_stmt *st, const char *name, int64_t v)
{
	return sqlite3_bind_int64(st, param(st, name), v) == SQLITE_OK ?
	    DB_OK : DB_ERR;
}

int
db_bind_id(sqlite3_stmt *st, const char *name, int64_t v)
{
	if (v < 0)
		return sqlite3_bind_null(st, param(st, name)) == SQLITE_OK ?
		    DB_OK : DB_ERR;
	return db_bind_int(st, name, v);
}

int
db_bind_text(sqlite3_stmt *st, const char *name, const char *s)
{
	int i = param(st, name);

	return (s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) :
	    sqlite3_bind_null(st, i)) == SQLITE_OK ? DB_OK : DB_ERR;
}

int
db_step_done(struct db *db, sqlite3_stmt *st)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		db_sqlfail(db, "step");
		sqlite3_reset(st);
		return DB_ERR;
	}
	sqlite3_reset(st);
	return DB_OK;
}
