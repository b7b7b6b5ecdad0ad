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
#include <sys/statvfs.h>
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

/*
 * vms_utf8(text): text made valid UTF-8 (each stray byte a U+FFFD), so a
 * JSON document built from whatever the database holds stays JSON.
 */
static void
sql_utf8(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *s;
	char *out;
	int len;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	s = (const char *)sqlite3_value_text(argv[0]);
	len = sqlite3_value_bytes(argv[0]);
	if (s == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (text_utf8(s, (size_t)len)) {
		sqlite3_result_value(ctx, argv[0]);
		return;
	}
	if ((out = sqlite3_malloc64((sqlite3_uint64)len * 3 + 1)) == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	sqlite3_result_text64(ctx, out, text_utf8_fix(s, (size_t)len, out),
	    sqlite3_free, SQLITE_UTF8);
}

/*
 * Issue 12: vms_liveness(driver, pid_file, status_cmd, interval_ms): how
 * a VM is known to live, as vm_liveness says it; NULL for exec.
 */
static void
sql_liveness(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	enum vm_driver d;
	const char *name = (const char *)sqlite3_value_text(argv[0]);
	const char *pid_file = (const char *)sqlite3_value_text(argv[1]);
	char buf[PATH_MAX + 64];

	(void)argc;
	if (name == NULL || vm_driver_parse(name, &d) == -1 ||
	    vm_liveness(d, pid_file, sqlite3_value_type(argv[2]) !=
	    SQLITE_NULL, sqlite3_value_int64(argv[3]), buf, sizeof(buf)) ==
	    NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
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

/* Run sql; on failure db_err is "what: SQLite's why". */
static int
exec(struct db *db, const char *what, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db->db_h, sql, NULL, NULL, &err) != SQLITE_OK) {
		db_fail(db, DB_ERR, "%s: %s", what,
		    err ? err : sqlite3_errmsg(db->db_h));
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
		return db_sqlfail(db, "turning WAL on");
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
			return db_fail(db, DB_ERR, "turning WAL on: %s",
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

	db->db_code = SQLITE_OK;
	if (exec(db, "starting a change", "BEGIN IMMEDIATE") != DB_OK) {
		db->db_code = sqlite3_extended_errcode(db->db_h);
		return DB_ERR;
	}
	if ((rc = fn(db, arg)) != DB_OK) {
		db->db_code = sqlite3_extended_errcode(db->db_h);
		sqlite3_exec(db->db_h, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	if (exec(db, "committing the change", "COMMIT") != DB_OK) {
		db->db_code = sqlite3_extended_errcode(db->db_h);
		sqlite3_exec(db->db_h, "ROLLBACK", NULL, NULL, NULL);
		return DB_ERR;
	}
	return DB_OK;
}

int
db_snapshot(struct db *db, int (*fn)(struct db *, void *), void *arg)
{
	int rc;

	if (exec(db, "reading a snapshot", "BEGIN DEFERRED") != DB_OK)
		return DB_ERR;
	rc = fn(db, arg);
	/* Only reads: COMMIT and ROLLBACK end it alike. */
	if (exec(db, "ending a snapshot", "COMMIT") != DB_OK) {
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
	char pragma[64], what[96];
	int version;

	/* Another process may have migrated while we waited for the lock. */
	if (db_version(db, &version) != DB_OK)
		return DB_ERR;
	if (version >= ma->ma_target)
		return DB_OK;
	snprintf(what, sizeof(what), "migration %s",
	    db_migrations[version].m_name);
	if (exec(db, what, db_migrations[version].m_sql) != DB_OK)
		return DB_ERR;
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
	    version + 1);
	if (exec(db, "recording the schema version", pragma) != DB_OK)
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

/* How a connection is made; see db_open_how. */
enum conn {
	CONN_RW,	/* read and write, the normal way */
	CONN_RO,	/* read-only: the file or its directory is */
	CONN_HEAP,	/* reading when the -shm cannot be used (a full
			 * disk): exclusive locking keeps the WAL index in
			 * memory; nothing is written, not even on close */
	CONN_FROZEN,	/* reading what nobody can write (a read-only
			 * directory without -shm): immutable */
};

/* "file:" URI of path for SQLite, with its special characters escaped. */
static int
uri(const char *path, const char *query, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	const char *p;

	if (len < 6)
		return -1;
	memcpy(buf, "file:", 5);
	n = 5;
	for (p = path; *p != '\0'; p++) {
		if (n + 4 >= len)
			return -1;
		if (*p == '%' || *p == '?' || *p == '#' ||
		    (unsigned char)*p >= 0x80 || (unsigned char)*p < 0x20) {
			buf[n++] = '%';
			buf[n++] = hex[(unsigned char)*p >> 4];
			buf[n++] = hex[(unsigned char)*p & 0xf];
		} else
			buf[n++] = *p;
	}
	if (n + strlen(query) + 1 > len)
		return -1;
	memcpy(buf + n, query, strlen(query) + 1);
	return 0;
}

/* "; the file system that holds it is full: ..." when it is, else "". */
static const char *
full_hint(const char *path)
{
	char dir[PATH_MAX], *slash;
	struct statvfs sv;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = '\0';
	if (statvfs(dir, &sv) == -1 ||
	    (geteuid() == 0 ? sv.f_bfree : sv.f_bavail) > 0)
		return "";
	return "; the file system that holds it is full: free some space";
}

/*
 * Connect to the database file real as conn says, and read its schema
 * version into *version before anything writes. DB_OK, or DB_ERR with
 * the connection closed and *code SQLite's error code.
 */
static int
conn_open(struct db *db, const char *real, enum conn conn, int *version,
    int *code)
{
	char name[PATH_MAX * 3 + 32];
	const char *path = db->db_path;
	int flags = SQLITE_OPEN_NOFOLLOW, rc;

	*code = SQLITE_OK;
	flags |= conn == CONN_RO || conn == CONN_FROZEN ?
	    SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	snprintf(name, sizeof(name), "%s", real);
	if (conn == CONN_FROZEN) {
		flags |= SQLITE_OPEN_URI;
		if (uri(real, "?immutable=1", name, sizeof(name)) == -1)
			return db_fail(db, DB_ERR, "%s: path too long", path);
	}
	if ((rc = sqlite3_open_v2(name, &db->db_h, flags, NULL)) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(db->db_h, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db->db_h, 1);
	if (conn == CONN_HEAP && ((rc = sqlite3_db_config(db->db_h,
	    SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_exec(db->db_h, "PRAGMA locking_mode = EXCLUSIVE; "
	    "PRAGMA query_only = 1", NULL, NULL, NULL)) != SQLITE_OK))
		goto fail;
	if ((rc = sqlite3_create_function(db->db_h, "vms_time", 1,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_time, NULL,
	    NULL)) != SQLITE_OK ||
	    (rc = sqlite3_create_function(db->db_h, "vms_signame", 1,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_signame, NULL,
	    NULL)) != SQLITE_OK ||
	    (rc = sqlite3_create_function(db->db_h, "vms_utf8", 1,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_utf8, NULL,
	    NULL)) != SQLITE_OK ||
	    (rc = sqlite3_create_function(db->db_h, "vms_liveness", 4,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_liveness, NULL,
	    NULL)) != SQLITE_OK)
		goto fail;
	if (db_version(db, version) != DB_OK) {
		rc = sqlite3_extended_errcode(db->db_h);
		goto fail;
	}
	return DB_OK;
fail:
	*code = rc;
	if ((rc & 0xff) == SQLITE_NOTADB)
		db_fail(db, DB_ERR, "%s: not a vmsched database: %s", path,
		    sqlite3_errstr(rc));
	else if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL)
		db_fail(db, DB_ERR, "%s: cannot read the database: %s%s", path,
		    sqlite3_errstr(rc), full_hint(real));
	else
		db_fail(db, DB_ERR, "%s: cannot open the database: %s", path,
		    db->db_h != NULL ? sqlite3_errmsg(db->db_h) :
		    sqlite3_errstr(rc));
	db_close(db);
	return DB_ERR;
}

int
db_open(struct db *db, const char *path, int max_version)
{
	return db_open_how(db, path, max_version, DB_OPEN_CREATE);
}

int
db_open_how(struct db *db, const char *path, int max_version,
    enum db_open_how how)
{
	char real[PATH_MAX], dir[PATH_MAX], *slash;
	enum conn conn;
	struct stat st;
	int rc, code, version, writable;

	memset(db, 0, sizeof(*db));
	if (strlen(path) >= sizeof(db->db_path))
		return db_fail(db, DB_CANTCREATE, "%s: path too long", path);
	strcpy(db->db_path, path);
	/*
	 * Create the file if it is missing, but never open() and close() an
	 * existing one: closing any descriptor of a file drops every POSIX
	 * lock this process holds on it, SQLite's included. Another
	 * connection of this process (the webhook sender's beside the
	 * daemon's) would lose its shared lock, and another process closing
	 * the database would then take itself for the last user and delete
	 * the WAL under it: later commits vanish.
	 */
	if (stat(path, &st) == -1) {
		if (errno != ENOENT)
			return db_fail(db, DB_CANTCREATE, "%s: %s", path,
			    strerror(errno));
		if (how != DB_OPEN_CREATE)
			return db_fail(db, DB_NOTFOUND, "%s: no such database "
			    "(vmsched add creates one; --db or VMSCHED_DB "
			    "names another)", path);
		if ((rc = db_perm_create(db, path)) != DB_OK)
			return rc;
	}
	if (realpath(path, real) == NULL)
		return db_fail(db, DB_CANTCREATE, "%s: %s", path,
		    strerror(errno));
	if ((rc = db_perm_check(db, real)) != DB_OK)
		return rc;
	snprintf(dir, sizeof(dir), "%s", real);
	slash = strrchr(dir, '/');
	slash[slash == dir] = '\0';
	writable = access(real, R_OK | W_OK) == 0 && access(dir, W_OK) == 0;
	if (!writable && how != DB_OPEN_READ)
		return db_fail(db, DB_CANTCREATE, "%s: cannot write the "
		    "database: %s", path, strerror(errno));
	/* Read the version before anything writes: a newer file is left as
	 * it is, byte for byte. */
	conn = writable ? CONN_RW : CONN_RO;
	rc = conn_open(db, real, conn, &version, &code);
	if (rc != DB_OK && how == DB_OPEN_READ && ((code & 0xff) ==
	    SQLITE_IOERR || (code & 0xff) == SQLITE_FULL ||
	    (code & 0xff) == SQLITE_CANTOPEN ||
	    (code & 0xff) == SQLITE_READONLY)) {
		/* A full disk or a read-only place: read all the same. */
		conn = writable ? CONN_HEAP : CONN_FROZEN;
		rc = conn_open(db, real, conn, &version, &code);
	}
	if (rc != DB_OK)
		return rc;
	if (refuse_newer(db, version) != DB_OK) {
		db_close(db);
		return DB_NEWER;
	}
	if ((conn == CONN_RW && (wal(db) != DB_OK || exec(db, "setting up",
	    "PRAGMA synchronous = NORMAL") != DB_OK)) ||
	    exec(db, "setting up", "PRAGMA foreign_keys = ON") != DB_OK) {
		db_close(db);
		return DB_ERR;
	}
	if (conn != CONN_RW && version < (max_version < 0 ? db_nmigrations :
	    max_version)) {
		db_fail(db, DB_CANTCREATE, "%s: schema version %d is older "
		    "than this vmsched's (%d), and the database cannot be "
		    "written now to bring it up to date: run vmsched db "
		    "migrate as its owner", path, version, db_nmigrations);
		db_close(db);
		return DB_CANTCREATE;
	}
	if ((rc = db_migrate(db, max_version, NULL)) != DB_OK) {
		db_close(db);
		return rc;
	}
	return DB_OK;
}

void
db_close(struct db *db)
{
	size_t i;

	for (i = 0; i < DB_CACHE; i++) {
		if (db->db_cache[i].dc_st != NULL)
			sqlite3_finalize(db->db_cache[i].dc_st);
		memset(&db->db_cache[i], 0, sizeof(db->db_cache[i]));
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
	return rc == SQLITE_OK ? DB_OK : db_sqlfail(db, "binding a value");
}

sqlite3_stmt *
db_prepv(struct db *db, const char *sql, const char *types, va_list ap)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db->db_h, sql, -1, &st, NULL) != SQLITE_OK) {
		db_sqlfail(db, "preparing a query");
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
		db_sqlfail(db, "running a query");
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
		db_sqlfail(db, "running a query");
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
		rc = db_sqlfail(db, "running a query");
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

/* The index of parameter name in st, remembered for a cached statement. */
static int
param(struct db *db, sqlite3_stmt *st, const char *name)
{
	size_t i, k;

	for (i = 0; i < DB_CACHE && db->db_cache[i].dc_st != st; i++)
		;
	if (i == DB_CACHE)
		return sqlite3_bind_parameter_index(st, name);
	for (k = 0; k < 24 && db->db_cache[i].dc_pname[k] != NULL; k++)
		if (db->db_cache[i].dc_pname[k] == name)
			return db->db_cache[i].dc_pidx[k];
	if (k == 24)
		return sqlite3_bind_parameter_index(st, name);
	db->db_cache[i].dc_pname[k] = name;
	return db->db_cache[i].dc_pidx[k] = sqlite3_bind_parameter_index(st,
	    name);
}

int
db_bind_int(struct db *db, sqlite3_stmt *st, const char *name, int64_t v)
{
	return sqlite3_bind_int64(st, param(db, st, name), v) == SQLITE_OK ?
	    DB_OK : DB_ERR;
}

int
db_bind_id(struct db *db, sqlite3_stmt *st, const char *name, int64_t v)
{
	if (v < 0)
		return sqlite3_bind_null(st, param(db, st, name)) ==
		    SQLITE_OK ? DB_OK : DB_ERR;
	return db_bind_int(db, st, name, v);
}

int
db_bind_text(struct db *db, sqlite3_stmt *st, const char *name,
    const char *s)
{
	int i = param(db, st, name);

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
