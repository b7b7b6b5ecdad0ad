/*
 * check_db.c: the store (db/). Migrations on an empty database and on top
 * of every earlier schema version, the refusal of a newer database without
 * touching a byte of it, file and directory modes, the default path,
 * definitions round-tripped field by field (JSON included), the rules a
 * change must keep (unique names, known --after, no cycle, no removal of a
 * VM others depend on) with nothing changed when one is broken, the audit
 * event every change writes, pruning, and many writers at once. Each test
 * works in its own temporary directory with a real SQLite file.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"

#define UID	4321		/* who makes the changes in these tests */

static char tmpdir[64];		/* this test's directory */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_db.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* tmpdir/rel into buf. */
static char *
tpath(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", tmpdir, rel);
	return buf;
}

static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* The whole file, malloc'ed; *len its size. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char *buf = NULL;
	FILE *fp;
	long n;

	ck_assert_ptr_nonnull(fp = fopen(path, "rb"));
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* Run SQL on a file with a plain SQLite connection (not db_open). */
static void
raw_exec(const char *path, const char *sql)
{
	sqlite3 *h;
	char *err = NULL;

	ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, &err) == SQLITE_OK,
	    "%s: %s", sql, err);
	ck_assert_int_eq(sqlite3_close(h), SQLITE_OK);
	/* As vmsched would have made it: private to its owner. */
	ck_assert_int_eq(chmod(path, 0600), 0);
}

/*
 * Everything a handle's query returns, rows and columns, as text with a
 * type tag per value; malloc'ed.
 */
static char *
rows_text(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	int i, rc;

	ck_assert_ptr_nonnull(fp = open_memstream(&buf, &len));
	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(h));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(st); i++) {
			if (sqlite3_column_type(st, i) == SQLITE_NULL)
				fputs("NULL|", fp);
			else
				fprintf(fp, "%d:%s|", sqlite3_column_type(st, i),
				    sqlite3_column_text(st, i));
		}
		fputc('\n', fp);
	}
	ck_assert_int_eq(rc, SQLITE_DONE);
	sqlite3_finalize(st);
	fclose(fp);
	return buf;
}

/* The schema of a database file: every sqlite_master row. */
static char *
schema_of(const char *path)
{
	sqlite3 *h;
	char *s;

	ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	s = rows_text(h, "SELECT type, name, tbl_name, sql FROM sqlite_master "
	    "ORDER BY type, name");
	sqlite3_close(h);
	return s;
}

/* Every row of every table, in a stable order. */
static char *
dump(struct db *db)
{
	sqlite3_stmt *st, *cols;
	char *buf = NULL, *part, sql[256];
	size_t len = 0;
	FILE *fp;
	int i, n;

	ck_assert_ptr_nonnull(fp = open_memstream(&buf, &len));
	ck_assert_int_eq(sqlite3_prepare_v2(db->db_h, "SELECT name FROM "
	    "sqlite_master WHERE type = 'table' ORDER BY name", -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		size_t k;

		snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\"", t);
		ck_assert_int_eq(sqlite3_prepare_v2(db->db_h, sql, -1, &cols,
		    NULL), SQLITE_OK);
		n = sqlite3_column_count(cols);
		sqlite3_finalize(cols);
		k = strlen(sql);
		for (i = 1; i <= n; i++)
			k += (size_t)snprintf(sql + k, sizeof(sql) - k, "%s%d",
			    i == 1 ? " ORDER BY " : ", ", i);
		part = rows_text(db->db_h, sql);
		fprintf(fp, "== %s\n%s", t, part);
		free(part);
	}
	sqlite3_finalize(st);
	fclose(fp);
	return buf;
}

static int64_t
count(struct db *db, const char *sql, const char *name)
{
	int64_t n = -1;

	ck_assert_msg(db_int(db, &n, sql, name ? "t" : "", name) == DB_OK,
	    "%s: %s", sql, db->db_err);
	return n;
}

/* Whether the decimal number n stands as a word in s. */
static int
has_number(const char *s, long n)
{
	const char *p;
	char *end;

	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9' || (p > s && p[-1] >= '0' &&
		    p[-1] <= '9'))
			continue;
		if (strtol(p, &end, 10) == n)
			return 1;
	}
	return 0;
}

static void
open_ok(struct db *db, const char *path)
{
	int rc = db_open(db, path, -1);

	ck_assert_msg(rc == DB_OK, "db_open %s: %d %s", path, rc, db->db_err);
}

/* A definition named name running /bin/true, after the names given. */
static void
def_simple(struct vm_def *vd, const char *name, const char *after1,
    const char *after2)
{
	vm_def_init(vd);
	snprintf(vd->vd_name, sizeof(vd->vd_name), "%s", name);
	ck_assert_int_eq(strv_push(&vd->vd_argv, "/bin/true"), 0);
	if (after1)
		ck_assert_int_eq(strv_push(&vd->vd_after, after1), 0);
	if (after2)
		ck_assert_int_eq(strv_push(&vd->vd_after, after2), 0);
}

static void
add_simple(struct db *db, const char *name, const char *after1,
    const char *after2)
{
	struct vm_def vd;
	int rc;

	def_simple(&vd, name, after1, after2);
	rc = db_vm_add(db, &vd, UID);
	ck_assert_msg(rc == DB_OK, "add %s: %d %s", name, rc, db->db_err);
	vm_def_free(&vd);
}

/* Edits for db_vm_update. */
static int
edit_order(struct vm_def *vd, void *arg, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	vd->vd_order = *(int *)arg;
	return DB_OK;
}

static int
edit_add_after(struct vm_def *vd, void *arg, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return strv_push(&vd->vd_after, arg) == 0 ? DB_OK : DB_ERR;
}

/* db_vm_update with edit_add_after: vm now also starts after after. */
static int
update_after(struct db *db, const char *vm, const char *after, int *changed)
{
	char name[VM_NAME_MAX + 1];

	snprintf(name, sizeof(name), "%s", after);
	return db_vm_update(db, vm, edit_add_after, name, UID, changed);
}

static int
edit_nothing(struct vm_def *vd, void *arg, char *err, size_t errlen)
{
	(void)vd;
	(void)arg;
	(void)err;
	(void)errlen;
	return DB_OK;
}

static int
edit_refuse(struct vm_def *vd, void *arg, char *err, size_t errlen)
{
	(void)arg;
	vd->vd_order = 1;	/* must not be stored */
	snprintf(err, errlen, "edit says no");
	return DB_REFUSED;
}

/* --- migrations ---------------------------------------------------- */

START_TEST(migrate_empty)
{
	struct db db;
	char path[256];
	int version = -1;
	int64_t n;

	open_ok(&db, tpath(path, sizeof(path), "fresh.db"));
	ck_assert_int_gt(db_nmigrations, 0);
	ck_assert_int_eq(db_version(&db, &version), DB_OK);
	ck_assert_int_eq(version, db_nmigrations);
	ck_assert_msg(db_check(&db) == DB_OK, "%s", db.db_err);
	/* The connection: WAL, foreign keys, a busy timeout of seconds. */
	{
		char *mode;

		ck_assert_int_eq(db_text(&db, &mode, "PRAGMA journal_mode", ""),
		    DB_OK);
		ck_assert_str_eq(mode, "wal");
		free(mode);
	}
	ck_assert_int_eq(db_int(&db, &n, "PRAGMA foreign_keys", ""), DB_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(db_int(&db, &n, "PRAGMA busy_timeout", ""), DB_OK);
	ck_assert_int_ge(n, 2000);
	/* What DESIGN.md says the store holds. */
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name IN ('vm', 'vm_after', 'vm_gate', "
	    "'vm_state', 'run', 'event', 'setting', 'daemon')", NULL), 8);
	/* The indexes list and log walk. */
	ck_assert_int_ge(count(&db, "SELECT count(*) FROM pragma_index_list("
	    "'run')", NULL), 1);
	ck_assert_int_ge(count(&db, "SELECT count(*) FROM pragma_index_list("
	    "'event')", NULL), 1);
	/* Every migration has its number and a name. */
	for (version = 0; version < db_nmigrations; version++) {
		ck_assert_int_eq(db_migrations[version].m_version, version + 1);
		ck_assert_ptr_nonnull(db_migrations[version].m_name);
		ck_assert_ptr_nonnull(db_migrations[version].m_sql);
	}
	db_close(&db);
}
END_TEST

/*
 * For every k, a database left at schema version k and then opened by
 * this vmsched ends with exactly the schema of a fresh one.
 */
START_TEST(migrate_every_version)
{
	struct db db;
	char fresh[256], path[256], name[32];
	char *want, *got;
	int k, version, applied;

	open_ok(&db, tpath(fresh, sizeof(fresh), "fresh.db"));
	db_close(&db);
	want = schema_of(fresh);
	for (k = 0; k <= db_nmigrations; k++) {
		snprintf(name, sizeof(name), "v%d.db", k);
		tpath(path, sizeof(path), name);
		ck_assert_int_eq(db_open(&db, path, k), DB_OK);
		ck_assert_int_eq(db_version(&db, &version), DB_OK);
		ck_assert_int_eq(version, k);
		if (k < db_nmigrations)
			ck_assert_int_eq(db_check(&db), DB_REFUSED);
		db_close(&db);

		open_ok(&db, path);
		ck_assert_int_eq(db_version(&db, &version), DB_OK);
		ck_assert_int_eq(version, db_nmigrations);
		ck_assert_int_eq(db_check(&db), DB_OK);
		/* Up to date: nothing more to apply. */
		ck_assert_int_eq(db_migrate(&db, -1, &applied), DB_OK);
		ck_assert_int_eq(applied, 0);
		db_close(&db);
		got = schema_of(path);
		ck_assert_msg(strcmp(got, want) == 0, "from version %d:\n%s\n"
		    "fresh:\n%s", k, got, want);
		free(got);

		/* Opening at a lower version never goes down. */
		ck_assert_int_eq(db_open(&db, path, k), DB_OK);
		ck_assert_int_eq(db_version(&db, &version), DB_OK);
		ck_assert_int_eq(version, db_nmigrations);
		db_close(&db);
	}
	/* One step at a time, each on top of the last. */
	tpath(path, sizeof(path), "steps.db");
	for (k = 0; k <= db_nmigrations; k++) {
		ck_assert_int_eq(db_open(&db, path, k), DB_OK);
		if (k > 0) {
			ck_assert_int_eq(db_migrate(&db, k, &applied), DB_OK);
			ck_assert_int_eq(applied, 0);
		}
		db_close(&db);
	}
	got = schema_of(path);
	ck_assert_str_eq(got, want);
	free(got);
	/* db_migrate counts what it applied. */
	tpath(path, sizeof(path), "count.db");
	ck_assert_int_eq(db_open(&db, path, 0), DB_OK);
	ck_assert_int_eq(db_migrate(&db, -1, &applied), DB_OK);
	ck_assert_int_eq(applied, db_nmigrations);
	db_close(&db);
	free(want);
}
END_TEST

/*
 * A migration that fails half way leaves nothing of itself: its tables
 * are rolled back with it and user_version stays where it was.
 */
START_TEST(migration_is_one_transaction)
{
	const char *sql = db_migrations[0].m_sql, *p, *last = NULL;
	char path[256], first[64], lastname[64], stmt[128];
	struct db db;
	int rc, version;
	int64_t n;

	/* The first and the last table the first migration creates. */
	ck_assert_int_eq(sscanf(strstr(sql, "CREATE TABLE ") + 13, "%63[a-z_]",
	    first), 1);
	for (p = sql; (p = strstr(p, "CREATE TABLE ")) != NULL; p++)
		last = p;
	ck_assert_int_eq(sscanf(last + 13, "%63[a-z_]", lastname), 1);
	ck_assert_str_ne(first, lastname);

	tpath(path, sizeof(path), "half.db");
	snprintf(stmt, sizeof(stmt), "CREATE TABLE %s (x)", lastname);
	raw_exec(path, stmt);
	rc = db_open(&db, path, -1);
	ck_assert_int_eq(rc, DB_ERR);
	ck_assert_msg(strstr(db.db_err, db_migrations[0].m_name) != NULL,
	    "%s", db.db_err);
	db_close(&db);

	ck_assert_int_eq(db_open(&db, path, 0), DB_OK);
	ck_assert_int_eq(db_version(&db, &version), DB_OK);
	ck_assert_int_eq(version, 0);
	ck_assert_int_eq(db_int(&db, &n, "SELECT count(*) FROM sqlite_master "
	    "WHERE name = ?", "t", first), DB_OK);
	ck_assert_int_eq(n, 0);
	db_close(&db);
}
END_TEST

/*
 * A database from a newer vmsched is refused with DB_NEWER, naming both
 * versions, and left byte for byte as it was, with no -wal or -shm beside
 * it. _i: 0 in WAL mode, 1 with a rollback journal.
 */
START_TEST(newer_refused_untouched)
{
	char path[256], wal[300], shm[300], sql[128];
	unsigned char *before, *after;
	size_t blen, alen;
	struct db db;
	int rc, k;

	tpath(path, sizeof(path), "newer.db");
	snprintf(wal, sizeof(wal), "%s-wal", path);
	snprintf(shm, sizeof(shm), "%s-shm", path);
	open_ok(&db, path);
	add_simple(&db, "keep", NULL, NULL);
	db_close(&db);
	snprintf(sql, sizeof(sql), "%sPRAGMA user_version = %d",
	    _i ? "PRAGMA journal_mode = DELETE; " : "", db_nmigrations + 1);
	raw_exec(path, sql);
	ck_assert(!exists(wal));
	ck_assert(!exists(shm));
	before = slurp(path, &blen);

	for (k = -1; k <= db_nmigrations; k++) {
		rc = db_open(&db, path, k);
		ck_assert_int_eq(rc, DB_NEWER);
		ck_assert_ptr_null(db.db_h);
		ck_assert_msg(has_number(db.db_err, db_nmigrations + 1) &&
		    has_number(db.db_err, db_nmigrations), "%s", db.db_err);
		db_close(&db);
		ck_assert_msg(!exists(wal), "a -wal was left behind");
		ck_assert_msg(!exists(shm), "a -shm was left behind");
		after = slurp(path, &alen);
		ck_assert_uint_eq(alen, blen);
		ck_assert_msg(memcmp(before, after, blen) == 0,
		    "the newer database was modified");
		free(after);
	}
	free(before);
}
END_TEST

/* A file that is not a database is refused and left alone. */
START_TEST(not_a_database)
{
	static const char junk[] = "this is not an SQLite database, not at "
	    "all, and it is long enough to have a header's worth of bytes in "
	    "it so SQLite reads it as one and finds it wrong.\n";
	char path[256];
	unsigned char *after;
	size_t alen;
	struct db db;
	FILE *fp;

	tpath(path, sizeof(path), "junk.db");
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs(junk, fp);
	fclose(fp);
	ck_assert_int_ne(db_open(&db, path, -1), DB_OK);
	ck_assert_msg(db.db_err[0] != '\0', "no reason given");
	db_close(&db);
	after = slurp(path, &alen);
	ck_assert_uint_eq(alen, strlen(junk));
	ck_assert_mem_eq(after, junk, alen);
	free(after);
}
END_TEST

static unsigned
mode_of(const char *path)
{
	struct stat st;

	ck_assert_msg(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
	return (unsigned)(st.st_mode & 07777);
}

/* The file is created 0600 and every directory made for it 0700, even
 * when the umask would allow more. */
START_TEST(file_modes)
{
	char path[256], dir1[256], dir2[256], wal[300];
	struct db db;
	mode_t old;

	old = umask(0);
	tpath(dir1, sizeof(dir1), "state");
	tpath(dir2, sizeof(dir2), "state/vmsched");
	tpath(path, sizeof(path), "state/vmsched/vmsched.db");
	open_ok(&db, path);
	add_simple(&db, "m", NULL, NULL);
	ck_assert_uint_eq(mode_of(dir1), 0700);
	ck_assert_uint_eq(mode_of(dir2), 0700);
	ck_assert_uint_eq(mode_of(path), 0600);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (exists(wal))
		ck_assert_uint_eq(mode_of(wal), 0600);
	db_close(&db);
	ck_assert_uint_eq(mode_of(path), 0600);
	umask(old);
}
END_TEST

START_TEST(cannot_create)
{
	char file[256], path[300];
	struct db db;
	FILE *fp;

	tpath(file, sizeof(file), "plainfile");
	ck_assert_ptr_nonnull(fp = fopen(file, "w"));
	fclose(fp);
	snprintf(path, sizeof(path), "%s/sub/vmsched.db", file);
	ck_assert_int_eq(db_open(&db, path, -1), DB_CANTCREATE);
	ck_assert_ptr_nonnull(strstr(db.db_err, path));
	db_close(&db);
}
END_TEST

/*
 * Issue 10: a database other users could read or change is refused, with
 * the mode or owner that is wrong and the command that fixes it, and is
 * left as it was.
 */
static void
refused(const char *path, const char *db_path, const char *want1,
    const char *want2)
{
	unsigned char *before, *after;
	size_t blen, alen;
	struct db db;
	int rc;

	before = slurp(db_path, &blen);
	rc = db_open(&db, path, -1);
	ck_assert_msg(rc == DB_UNSAFE, "db_open %s: %d %s", path, rc,
	    db.db_err);
	ck_assert_msg(strstr(db.db_err, want1) != NULL &&
	    strstr(db.db_err, want2) != NULL, "%s", db.db_err);
	db_close(&db);
	after = slurp(db_path, &alen);
	ck_assert_uint_eq(alen, blen);
	ck_assert_mem_eq(after, before, alen);
	free(before);
	free(after);
}

START_TEST(perm_file_mode)
{
	char path[256];
	struct db db;

	open_ok(&db, tpath(path, sizeof(path), "open.db"));
	add_simple(&db, "a", NULL, NULL);
	db_close(&db);
	ck_assert_int_eq(chmod(path, 0644), 0);
	refused(path, path, "mode 0644", "chmod 600");
	ck_assert_uint_eq(mode_of(path), 0644);
	ck_assert_int_eq(chmod(path, 0640), 0);
	refused(path, path, "mode 0640", "chmod 600");
	ck_assert_int_eq(chmod(path, 0600), 0);
	open_ok(&db, path);
	db_close(&db);
}
END_TEST

START_TEST(perm_dir_mode)
{
	char path[256];
	struct db db;

	open_ok(&db, tpath(path, sizeof(path), "d.db"));
	db_close(&db);
	ck_assert_int_eq(chmod(tmpdir, 0777), 0);
	refused(path, path, "mode 0777", "chmod 700");
	ck_assert_int_eq(chmod(tmpdir, 0755), 0);
	refused(path, path, "mode 0755", "chmod 700");
	ck_assert_int_eq(chmod(tmpdir, 0700), 0);
}
END_TEST

/* Owned by a user who is neither root nor us: refused (needs root). */
START_TEST(perm_owner)
{
	char path[256], wal[300];
	struct db db;

	if (geteuid() != 0)
		return;
	open_ok(&db, tpath(path, sizeof(path), "o.db"));
	db_close(&db);
	ck_assert_int_eq(chown(path, 65534, 65534), 0);
	refused(path, path, "owned by", "chown");
	ck_assert_int_eq(chown(path, 0, 0), 0);
	ck_assert_int_eq(chown(tmpdir, 65534, 65534), 0);
	refused(path, path, "directory is owned by", "chown");
	ck_assert_int_eq(chown(tmpdir, 0, 0), 0);
	/* A -wal planted by another user. */
	snprintf(wal, sizeof(wal), "%s-wal", path);
	close(open(wal, O_CREAT | O_WRONLY, 0600));
	ck_assert_int_eq(chown(wal, 65534, 65534), 0);
	refused(path, path, "-wal: owned by", "chown");
	unlink(wal);
}
END_TEST

/* A side file that is a link, or too open, is refused like the file. */
START_TEST(perm_side_files)
{
	char path[256], shm[300], target[300];
	struct db db;

	open_ok(&db, tpath(path, sizeof(path), "s.db"));
	db_close(&db);
	snprintf(shm, sizeof(shm), "%s-shm", path);
	tpath(target, sizeof(target), "elsewhere");
	ck_assert_int_eq(symlink(target, shm), 0);
	refused(path, path, "-shm: not a regular file", "remove it");
	ck_assert(!exists(target));
	unlink(shm);
	close(open(shm, O_CREAT | O_WRONLY, 0644));
	ck_assert_int_eq(chmod(shm, 0644), 0);
	refused(path, path, "-shm: mode 0644", "chmod 600");
	unlink(shm);
}
END_TEST

/* Nothing is created under a directory others could change. */
START_TEST(perm_create_refused)
{
	char open_dir[256], path[300];
	struct db db;

	tpath(open_dir, sizeof(open_dir), "open");
	ck_assert_int_eq(mkdir(open_dir, 0777), 0);
	ck_assert_int_eq(chmod(open_dir, 0777), 0);
	snprintf(path, sizeof(path), "%s/sub/x.db", open_dir);
	ck_assert_int_eq(db_open(&db, path, -1), DB_UNSAFE);
	ck_assert_msg(strstr(db.db_err, "0777") != NULL, "%s", db.db_err);
	db_close(&db);
	snprintf(path, sizeof(path), "%s/sub", open_dir);
	ck_assert(!exists(path));
	snprintf(path, sizeof(path), "%s/x.db", open_dir);
	ck_assert_int_eq(db_open(&db, path, -1), DB_UNSAFE);
	db_close(&db);
	ck_assert(!exists(path));
}
END_TEST

/* Reading and changing never create: a mistyped path says so. */
START_TEST(open_missing)
{
	char path[256], dir[256];
	struct db db;

	tpath(dir, sizeof(dir), "typo");
	tpath(path, sizeof(path), "typo/vmsched.db");
	ck_assert_int_eq(db_open_how(&db, path, -1, DB_OPEN_READ),
	    DB_NOTFOUND);
	ck_assert_msg(strstr(db.db_err, "no such database") != NULL, "%s",
	    db.db_err);
	db_close(&db);
	ck_assert_int_eq(db_open_how(&db, path, -1, DB_OPEN_WRITE),
	    DB_NOTFOUND);
	db_close(&db);
	ck_assert(!exists(dir));
	ck_assert(!exists(path));
	ck_assert_int_eq(db_open_how(&db, path, -1, DB_OPEN_CREATE), DB_OK);
	db_close(&db);
	ck_assert_int_eq(db_open_how(&db, path, -1, DB_OPEN_READ), DB_OK);
	db_close(&db);
}
END_TEST

/* vms_utf8 makes any bytes valid UTF-8, and leaves valid text alone. */
START_TEST(sql_utf8)
{
	char path[256], *out;
	struct db db;

	open_ok(&db, tpath(path, sizeof(path), "u.db"));
	ck_assert_int_eq(db_text(&db, &out, "SELECT vms_utf8(CAST(x'636166e9' "
	    "AS TEXT))", ""), DB_OK);
	ck_assert_str_eq(out, "caf\xef\xbf\xbd");
	free(out);
	ck_assert_int_eq(db_text(&db, &out, "SELECT vms_utf8(json_object('a', "
	    "CAST(x'ff0a' AS TEXT)))", ""), DB_OK);
	ck_assert_str_eq(out, "{\"a\":\"\xef\xbf\xbd\\n\"}");
	free(out);
	ck_assert_int_eq(db_text(&db, &out, "SELECT vms_utf8('caf\xc3\xa9')",
	    ""), DB_OK);
	ck_assert_str_eq(out, "caf\xc3\xa9");
	free(out);
	ck_assert_int_eq(db_text(&db, &out, "SELECT vms_utf8(NULL)", ""),
	    DB_OK);
	ck_assert_ptr_null(out);
	db_close(&db);
}
END_TEST

/* The non-root rules of db_default_path; 0, or the line that failed. */
static int
default_path_user(void)
{
	char buf[PATH_MAX], tiny[8];

	setenv("HOME", "/home/op", 1);
	setenv("XDG_STATE_HOME", "/xdg/state", 1);
	if (db_default_path(buf, sizeof(buf)) != 0 ||
	    strcmp(buf, "/xdg/state/vmsched/vmsched.db") != 0)
		return __LINE__;
	/* A relative or empty XDG_STATE_HOME is ignored (XDG spec). */
	setenv("XDG_STATE_HOME", "relative/state", 1);
	if (db_default_path(buf, sizeof(buf)) != 0 ||
	    strcmp(buf, "/home/op/.local/state/vmsched/vmsched.db") != 0)
		return __LINE__;
	setenv("XDG_STATE_HOME", "", 1);
	if (db_default_path(buf, sizeof(buf)) != 0 ||
	    strcmp(buf, "/home/op/.local/state/vmsched/vmsched.db") != 0)
		return __LINE__;
	unsetenv("XDG_STATE_HOME");
	if (db_default_path(buf, sizeof(buf)) != 0 ||
	    strcmp(buf, "/home/op/.local/state/vmsched/vmsched.db") != 0)
		return __LINE__;
	/* Too small a buffer, or nowhere to go. */
	if (db_default_path(tiny, sizeof(tiny)) != -1)
		return __LINE__;
	unsetenv("HOME");
	if (db_default_path(buf, sizeof(buf)) != -1)
		return __LINE__;
	setenv("HOME", "", 1);
	if (db_default_path(buf, sizeof(buf)) != -1)
		return __LINE__;
	return 0;
}

START_TEST(default_path)
{
	char buf[PATH_MAX];
	pid_t pid;
	int status;

	if (geteuid() == 0) {
		/* Root: the system path, whatever the environment says. */
		setenv("XDG_STATE_HOME", "/xdg/state", 1);
		setenv("HOME", "/root", 1);
		ck_assert_int_eq(db_default_path(buf, sizeof(buf)), 0);
		ck_assert_str_eq(buf, "/var/lib/vmsched/vmsched.db");
		/* And a user's rules, as nobody in a child. */
		pid = fork();
		ck_assert_int_ne(pid, -1);
		if (pid == 0) {
			if (setgid(65534) == -1 || setuid(65534) == -1)
				_exit(1);
			_exit(default_path_user());
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status));
		ck_assert_msg(WEXITSTATUS(status) == 0, "non-root case at "
		    "line %d failed", WEXITSTATUS(status));
	} else
		ck_assert_int_eq(default_path_user(), 0);
}
END_TEST

/* --- definitions --------------------------------------------------- */

static const char *const rt_argv[] = {
	"/usr/bin/vmware-vmx", "-x", "/VMs/My \"Test\" VM/Test.vmx", "it's",
	"two  words", "line1\nline2", "tab\there", "caf\xc3\xa9 \xe6\x97\xa5",
	"bad\xff" "byte", "", "\x01" "ctl", "{\"json\": [1]}", "back\\slash",
	" lead and trail ",
};
static const char *const rt_env[] = {
	"A=1", "QUOTE=\"x\" 'y'", "NL=a\nb", "UTF=\xc3\xbc", "EQ=a=b",
	"EMPTY=", "RAW=\xfe\xff", "SP=x y",
};

static void
def_every_field(struct vm_def *vd)
{
	size_t i;

	vm_def_init(vd);
	snprintf(vd->vd_name, sizeof(vd->vd_name), "Round_trip-1.x");
	for (i = 0; i < sizeof(rt_argv) / sizeof(rt_argv[0]); i++)
		ck_assert_int_eq(strv_push(&vd->vd_argv, rt_argv[i]), 0);
	for (i = 0; i < sizeof(rt_env) / sizeof(rt_env[0]); i++)
		ck_assert_int_eq(strv_push(&vd->vd_env, rt_env[i]), 0);
	vd->vd_cwd = strdup("/VMs/My VM's dir");
	vd->vd_user = strdup("nobody");
	ck_assert_int_eq(strv_push(&vd->vd_after, "base1"), 0);
	ck_assert_int_eq(strv_push(&vd->vd_after, "base2"), 0);
	ck_assert_int_eq(vm_def_add_gate(vd, GATE_PATH, "/dev/vmmon"), 0);
	ck_assert_int_eq(vm_def_add_gate(vd, GATE_CMD,
	    "kextstat | grep -q 'vmmon'"), 0);
	ck_assert_int_eq(vm_def_add_gate(vd, GATE_TCP, "[::1]:902"), 0);
	ck_assert_int_eq(vm_def_add_gate(vd, GATE_PATH, "/x y/\xc3\xa9"), 0);
	vd->vd_order = -5;
	vd->vd_restart = RESTART_ALWAYS;
	memset(vd->vd_success, 0, sizeof(vd->vd_success));
	vd->vd_success[0] = 1 | 1 << 3;			/* 0, 3 */
	vd->vd_success[143 / 8] |= 1 << (143 % 8);	/* 143 */
	vd->vd_success[31] |= 0x80;			/* 255 */
	vd->vd_wait_timeout_ms = 123456;
	vd->vd_up_delay_ms = 1500;
	vd->vd_ready_tcp = strdup("127.0.0.1:5900");
	vd->vd_stop_signal = SIGINT;
	vd->vd_suspend_signal = SIGTSTP;
	vd->vd_stop_timeout_ms = 0;
	vd->vd_backoff_initial_ms = 250;
	vd->vd_backoff_factor = 1.5;
	vd->vd_backoff_max_ms = 99000;
	vd->vd_backoff_reset_ms = 7000;
	vd->vd_max_failures = 0;
	vd->vd_enabled = 0;
	vd->vd_log_path = strdup("/var/log/vm rt.log");
}

static void
assert_strv_eq(const struct strv *a, const struct strv *b)
{
	size_t i;

	ck_assert_uint_eq(a->sv_n, b->sv_n);
	for (i = 0; i < a->sv_n; i++)
		ck_assert_msg(strcmp(a->sv_v[i], b->sv_v[i]) == 0,
		    "entry %zu: '%s' != '%s'", i, a->sv_v[i], b->sv_v[i]);
	if (b->sv_n > 0)
		ck_assert_ptr_null(b->sv_v[b->sv_n]);
}

static void
assert_def_eq(const struct vm_def *a, const struct vm_def *b)
{
	size_t i;

	ck_assert_str_eq(a->vd_name, b->vd_name);
	assert_strv_eq(&a->vd_argv, &b->vd_argv);
	assert_strv_eq(&a->vd_env, &b->vd_env);
	assert_strv_eq(&a->vd_after, &b->vd_after);
	ck_assert_pstr_eq(a->vd_cwd, b->vd_cwd);
	ck_assert_pstr_eq(a->vd_user, b->vd_user);
	ck_assert_pstr_eq(a->vd_ready_tcp, b->vd_ready_tcp);
	ck_assert_pstr_eq(a->vd_log_path, b->vd_log_path);
	ck_assert_uint_eq(a->vd_ngates, b->vd_ngates);
	for (i = 0; i < a->vd_ngates; i++) {
		ck_assert_int_eq(a->vd_gates[i].g_kind, b->vd_gates[i].g_kind);
		ck_assert_str_eq(a->vd_gates[i].g_arg, b->vd_gates[i].g_arg);
	}
	ck_assert_int_eq(a->vd_order, b->vd_order);
	ck_assert_int_eq(a->vd_restart, b->vd_restart);
	ck_assert_mem_eq(a->vd_success, b->vd_success, sizeof(a->vd_success));
	ck_assert_int_eq(a->vd_wait_timeout_ms, b->vd_wait_timeout_ms);
	ck_assert_int_eq(a->vd_up_delay_ms, b->vd_up_delay_ms);
	ck_assert_int_eq(a->vd_stop_signal, b->vd_stop_signal);
	ck_assert_int_eq(a->vd_suspend_signal, b->vd_suspend_signal);
	ck_assert_int_eq(a->vd_stop_timeout_ms, b->vd_stop_timeout_ms);
	ck_assert_int_eq(a->vd_backoff_initial_ms, b->vd_backoff_initial_ms);
	ck_assert_double_eq(a->vd_backoff_factor, b->vd_backoff_factor);
	ck_assert_int_eq(a->vd_backoff_max_ms, b->vd_backoff_max_ms);
	ck_assert_int_eq(a->vd_backoff_reset_ms, b->vd_backoff_reset_ms);
	ck_assert_int_eq(a->vd_max_failures, b->vd_max_failures);
	ck_assert_int_eq(a->vd_enabled, b->vd_enabled);
}

START_TEST(round_trip_every_field)
{
	struct vm_def vd, got;
	struct db db;
	char path[256];
	int rc;

	open_ok(&db, tpath(path, sizeof(path), "rt.db"));
	add_simple(&db, "base2", NULL, NULL);
	add_simple(&db, "base1", NULL, NULL);
	def_every_field(&vd);
	rc = db_vm_add(&db, &vd, UID);
	ck_assert_msg(rc == DB_OK, "%d %s", rc, db.db_err);
	vm_def_init(&got);
	ck_assert_int_eq(db_vm_get(&db, vd.vd_name, &got), DB_OK);
	assert_def_eq(&vd, &got);
	/* Disabled at add: its state says so. */
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM vm_state s JOIN vm v "
	    "ON v.id = s.vm_id WHERE v.name = ? AND s.state = 'disabled'",
	    vd.vd_name), 1);
	vm_def_free(&got);

	/* Defaults round-trip too (and the default VM is stopped). */
	vm_def_free(&vd);
	def_simple(&vd, "plain", NULL, NULL);
	ck_assert_int_eq(db_vm_add(&db, &vd, UID), DB_OK);
	vm_def_init(&got);
	ck_assert_int_eq(db_vm_get(&db, "plain", &got), DB_OK);
	assert_def_eq(&vd, &got);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM vm_state s JOIN vm v "
	    "ON v.id = s.vm_id WHERE v.name = ? AND s.state = 'stopped'",
	    "plain"), 1);
	vm_def_free(&got);
	vm_def_free(&vd);

	vm_def_init(&got);
	ck_assert_int_eq(db_vm_get(&db, "nosuch", &got), DB_NOTFOUND);
	vm_def_free(&got);
	db_close(&db);
}
END_TEST

/*
 * show's JSON holds the same strings, byte for byte, read back with
 * SQLite's json_extract; but for bytes that are not UTF-8, which become
 * U+FFFD so the document stays JSON (issue 10).
 */
static char *
as_json_has(const char *s)
{
	static char buf[4][256];
	static int next;
	char *out = buf[next++ % 4];

	out[text_utf8_fix(s, strlen(s), out)] = '\0';
	return out;
}

START_TEST(json_round_trip)
{
	struct vm_def vd;
	struct db db;
	char path[256], *json, *s, key[64];
	size_t i;
	int64_t n;

	open_ok(&db, tpath(path, sizeof(path), "json.db"));
	add_simple(&db, "base2", NULL, NULL);
	add_simple(&db, "base1", NULL, NULL);
	def_every_field(&vd);
	ck_assert_int_eq(db_vm_add(&db, &vd, UID), DB_OK);
	ck_assert_int_eq(db_show_json(&db, vd.vd_name, &json), DB_OK);
	ck_assert_int_eq(db_int(&db, &n, "SELECT json_valid(?)", "t", json),
	    DB_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(db_int(&db, &n, "SELECT json_array_length(?, "
	    "'$.argv')", "t", json), DB_OK);
	ck_assert_int_eq(n, (int64_t)(sizeof(rt_argv) / sizeof(rt_argv[0])));
	for (i = 0; i < sizeof(rt_argv) / sizeof(rt_argv[0]); i++) {
		snprintf(key, sizeof(key), "$.argv[%zu]", i);
		ck_assert_int_eq(db_text(&db, &s, "SELECT json_extract(?, ?)",
		    "tt", json, key), DB_OK);
		ck_assert_msg(strcmp(s, as_json_has(rt_argv[i])) == 0,
		    "argv[%zu]: '%s'", i, s);
		free(s);
	}
	for (i = 0; i < sizeof(rt_env) / sizeof(rt_env[0]); i++) {
		size_t klen = strcspn(rt_env[i], "=");

		snprintf(key, sizeof(key), "$.env.%.*s", (int)klen, rt_env[i]);
		ck_assert_int_eq(db_text(&db, &s, "SELECT json_extract(?, ?)",
		    "tt", json, key), DB_OK);
		ck_assert_msg(strcmp(s, as_json_has(rt_env[i] + klen + 1)) ==
		    0, "%s: '%s'", key, s);
		free(s);
	}
	ck_assert_int_eq(db_text(&db, &s, "SELECT json_extract(?, '$.cwd')",
	    "t", json), DB_OK);
	ck_assert_str_eq(s, vd.vd_cwd);
	free(s);
	ck_assert_int_eq(db_text(&db, &s, "SELECT json_extract(?, '$.after')",
	    "t", json), DB_OK);
	ck_assert_str_eq(s, "[\"base1\",\"base2\"]");
	free(s);
	ck_assert_int_eq(db_text(&db, &s, "SELECT json_extract(?, "
	    "'$.gates[1].arg')", "t", json), DB_OK);
	ck_assert_str_eq(s, "kextstat | grep -q 'vmmon'");
	free(s);
	ck_assert_int_eq(db_text(&db, &s, "SELECT json_extract(?, "
	    "'$.success_codes')", "t", json), DB_OK);
	ck_assert_str_eq(s, "[0,3,143,255]");
	free(s);
	ck_assert_int_eq(db_text(&db, &s, "SELECT json_extract(?, "
	    "'$.stop_signal') || '/' || json_extract(?1, '$.suspend_signal') "
	    "|| '/' || json_extract(?1, '$.enabled') || '/' || "
	    "json_extract(?1, '$.stop_timeout_ms') || '/' || "
	    "json_extract(?1, '$.wait_timeout_ms')", "t", json), DB_OK);
	ck_assert_str_eq(s, "INT/TSTP/0/0/123456");
	free(s);
	free(json);
	vm_def_free(&vd);
	db_close(&db);
}
END_TEST

START_TEST(duplicate_name)
{
	struct vm_def vd;
	struct db db;
	char path[256], *before, *after;

	open_ok(&db, tpath(path, sizeof(path), "dup.db"));
	add_simple(&db, "a", NULL, NULL);
	before = dump(&db);
	def_simple(&vd, "a", NULL, NULL);
	vd.vd_order = 7;
	ck_assert_int_eq(db_vm_add(&db, &vd, UID), DB_EXISTS);
	ck_assert_ptr_nonnull(strstr(db.db_err, "a"));
	after = dump(&db);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	vm_def_free(&vd);
	db_close(&db);
}
END_TEST

START_TEST(unknown_after)
{
	struct vm_def vd;
	struct db db;
	char path[256], *before, *after;
	int changed = 7;

	open_ok(&db, tpath(path, sizeof(path), "after.db"));
	add_simple(&db, "a", NULL, NULL);
	before = dump(&db);
	def_simple(&vd, "b", "a", "ghost");
	ck_assert_int_eq(db_vm_add(&db, &vd, UID), DB_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(db.db_err, "ghost"));
	ck_assert_int_eq(update_after(&db, "a", "ghost", &changed), DB_NOTFOUND);
	ck_assert_int_eq(changed, 0);
	ck_assert_ptr_nonnull(strstr(db.db_err, "ghost"));
	/* Nor can a VM wait for itself. */
	ck_assert_int_eq(update_after(&db, "a", "a", NULL), DB_REFUSED);
	vm_def_free(&vd);
	def_simple(&vd, "self", "self", NULL);
	ck_assert_int_ne(db_vm_add(&db, &vd, UID), DB_OK);
	after = dump(&db);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	vm_def_free(&vd);
	db_close(&db);
}
END_TEST

START_TEST(cycle_refused)
{
	struct db db;
	char path[256], *before, *after;
	int changed = 7;

	open_ok(&db, tpath(path, sizeof(path), "cycle.db"));
	add_simple(&db, "a", NULL, NULL);
	add_simple(&db, "b", "a", NULL);
	before = dump(&db);
	ck_assert_int_eq(update_after(&db, "a", "b", &changed), DB_REFUSED);
	ck_assert_int_eq(changed, 0);
	ck_assert_msg(strstr(db.db_err, "a -> b -> a") != NULL, "%s",
	    db.db_err);
	after = dump(&db);
	ck_assert_str_eq(before, after);
	free(after);
	free(before);

	/* A longer one, closed from its far end. */
	add_simple(&db, "c", "b", NULL);
	add_simple(&db, "d", "c", NULL);
	before = dump(&db);
	ck_assert_int_eq(update_after(&db, "a", "d", NULL), DB_REFUSED);
	ck_assert_msg(strstr(db.db_err, "a -> d -> c -> b -> a") != NULL, "%s",
	    db.db_err);
	ck_assert_int_eq(update_after(&db, "b", "d", NULL), DB_REFUSED);
	ck_assert_msg(strstr(db.db_err, "b -> d -> c -> b") != NULL, "%s",
	    db.db_err);
	after = dump(&db);
	ck_assert_str_eq(before, after);
	free(after);
	free(before);

	/* Not a cycle: a second path to the same VM. */
	ck_assert_int_eq(update_after(&db, "d", "a", &changed), DB_OK);
	ck_assert_int_eq(changed, 1);
	db_close(&db);
}
END_TEST

static int64_t
events(struct db *db, const char *event, const char *vm)
{
	int64_t n = -1;

	ck_assert_int_eq(db_int(db, &n, "SELECT count(*) FROM event WHERE "
	    "event = ? AND vm = ?", "tt", event, vm), DB_OK);
	return n;
}

START_TEST(audit_events)
{
	struct vm_def vd;
	struct db db;
	char path[256], *s;
	int order = 5, changed = 7;

	open_ok(&db, tpath(path, sizeof(path), "audit.db"));
	add_simple(&db, "a", NULL, NULL);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM event", NULL), 1);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM event WHERE "
	    "event = 'vm.defined' AND vm = 'a' AND uid = 4321 AND "
	    "json_extract(detail, '$.uid') = 4321 AND "
	    "json_extract(detail, '$.definition.argv[0]') = '/bin/true'",
	    NULL), 1);

	ck_assert_int_eq(db_vm_update(&db, "a", edit_order, &order, UID,
	    &changed), DB_OK);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM event", NULL), 2);
	ck_assert_int_eq(events(&db, "vm.changed", "a"), 1);
	ck_assert_int_eq(db_text(&db, &s, "SELECT json_extract(detail, "
	    "'$.changes') FROM event WHERE event = 'vm.changed' AND uid = ?",
	    "n", UID), DB_OK);
	ck_assert_str_eq(s, "{\"order\":{\"from\":100,\"to\":5}}");
	free(s);

	/* The same value again, or no edit at all: no event. */
	changed = 7;
	ck_assert_int_eq(db_vm_update(&db, "a", edit_order, &order, UID,
	    &changed), DB_OK);
	ck_assert_int_eq(changed, 0);
	ck_assert_int_eq(db_vm_update(&db, "a", edit_nothing, NULL, UID,
	    &changed), DB_OK);
	ck_assert_int_eq(changed, 0);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM event", NULL), 2);

	/* An edit that fails changes nothing and writes nothing. */
	ck_assert_int_eq(db_vm_update(&db, "a", edit_refuse, NULL, UID,
	    &changed), DB_REFUSED);
	ck_assert_int_eq(changed, 0);
	ck_assert_ptr_nonnull(strstr(db.db_err, "edit says no"));
	vm_def_init(&vd);
	ck_assert_int_eq(db_vm_get(&db, "a", &vd), DB_OK);
	ck_assert_int_eq(vd.vd_order, 5);
	vm_def_free(&vd);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM event", NULL), 2);

	ck_assert_int_eq(db_vm_update(&db, "ghost", edit_nothing, NULL, UID,
	    &changed), DB_NOTFOUND);

	ck_assert_int_eq(db_vm_remove(&db, "a", 99), DB_OK);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM event", NULL), 3);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM event WHERE "
	    "event = 'vm.removed' AND vm = 'a' AND uid = 99 AND "
	    "json_extract(detail, '$.uid') = 99 AND "
	    "json_extract(detail, '$.definition.order') = 5", NULL), 1);
	ck_assert_int_eq(db_vm_remove(&db, "a", UID), DB_NOTFOUND);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM event", NULL), 3);
	db_close(&db);
}
END_TEST

/* Removing a definition keeps its runs and events. */
START_TEST(remove_keeps_history)
{
	struct db db;
	char path[256], *json;
	int64_t runs;

	open_ok(&db, tpath(path, sizeof(path), "hist.db"));
	add_simple(&db, "a", NULL, NULL);
	ck_assert_int_eq(db_exec(&db, "INSERT INTO run (vm, started_at, "
	    "ended_at, pid, exit_code, reason) VALUES ('a', 1000, 2000, 42, 3, "
	    "'exited'), ('a', 3000, 4000, 43, 0, 'exited')", ""), DB_OK);
	ck_assert_int_eq(db_vm_remove(&db, "a", UID), DB_OK);
	ck_assert_int_eq(db_vm_exists(&db, "a"), 0);
	runs = count(&db, "SELECT count(*) FROM run WHERE vm = ?", "a");
	ck_assert_int_eq(runs, 2);
	ck_assert_int_eq(events(&db, "vm.defined", "a"), 1);
	ck_assert_int_eq(events(&db, "vm.removed", "a"), 1);
	ck_assert_int_eq(db_log_json(&db, "a", 0, 50, &json), DB_OK);
	{
		int64_t n;

		ck_assert_int_eq(db_int(&db, &n, "SELECT json_array_length(?)",
		    "t", json), DB_OK);
		ck_assert_int_eq(n, 4);
	}
	free(json);
	/* The name is free again, and its history is still there. */
	add_simple(&db, "a", NULL, NULL);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM run WHERE vm = ?",
	    "a"), 2);
	db_close(&db);
}
END_TEST

START_TEST(remove_refused)
{
	struct db db;
	char path[256], *before, *after;

	open_ok(&db, tpath(path, sizeof(path), "rm.db"));
	add_simple(&db, "a", NULL, NULL);
	add_simple(&db, "b", "a", NULL);
	add_simple(&db, "c", "a", NULL);
	before = dump(&db);
	ck_assert_int_eq(db_vm_remove(&db, "a", UID), DB_REFUSED);
	ck_assert_msg(strstr(db.db_err, "b") && strstr(db.db_err, "c"), "%s",
	    db.db_err);
	after = dump(&db);
	ck_assert_str_eq(before, after);
	free(after);
	free(before);

	/* Running: refused (remove --force has the daemon stop it first). */
	ck_assert_int_eq(db_exec(&db, "UPDATE vm_state SET state = 'running', "
	    "pid = 4242 WHERE vm_id = (SELECT id FROM vm WHERE name = 'c')",
	    ""), DB_OK);
	before = dump(&db);
	ck_assert_int_eq(db_vm_remove(&db, "c", UID), DB_LIVE);
	ck_assert_ptr_nonnull(strstr(db.db_err, "running"));
	after = dump(&db);
	ck_assert_str_eq(before, after);
	free(after);
	free(before);
	ck_assert_int_eq(db_exec(&db, "UPDATE vm_state SET state = 'stopped', "
	    "pid = NULL", ""), DB_OK);
	ck_assert_int_eq(db_vm_remove(&db, "c", UID), DB_OK);
	ck_assert_int_eq(db_vm_remove(&db, "b", UID), DB_OK);
	ck_assert_int_eq(db_vm_remove(&db, "a", UID), DB_OK);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM vm", NULL), 0);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM vm_state", NULL), 0);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM vm_after", NULL), 0);
	ck_assert_msg(db_check(&db) == DB_OK, "%s", db.db_err);
	db_close(&db);
}
END_TEST

START_TEST(check_ok)
{
	struct db db;
	char path[256];

	open_ok(&db, tpath(path, sizeof(path), "check.db"));
	add_simple(&db, "a", NULL, NULL);
	add_simple(&db, "b", "a", NULL);
	ck_assert_msg(db_check(&db) == DB_OK, "%s", db.db_err);
	/* A dangling dependency is found. */
	ck_assert_int_eq(db_exec(&db, "PRAGMA foreign_keys = OFF", ""), DB_OK);
	ck_assert_int_eq(db_exec(&db, "DELETE FROM vm WHERE name = 'a'", ""),
	    DB_OK);
	ck_assert_int_eq(db_check(&db), DB_REFUSED);
	ck_assert_ptr_nonnull(strstr(db.db_err, "foreign key"));
	db_close(&db);
}
END_TEST

/* db_prune deletes ended runs and settled events older than the cut,
 * and nothing else. */
START_TEST(prune)
{
	struct db db;
	char path[256];
	long runs = -1, evs = -1;

	open_ok(&db, tpath(path, sizeof(path), "prune.db"));
	ck_assert_int_eq(db_exec(&db, "INSERT INTO run (vm, started_at, "
	    "ended_at, reason) VALUES ('x', 100, 200, 'exited'), "
	    "('x', 100, 900, 'exited'), ('x', 100, 2000, 'exited'), "
	    "('x', 100, NULL, NULL)", ""), DB_OK);
	ck_assert_int_eq(db_exec(&db, "INSERT INTO event (time, event, vm, "
	    "status) VALUES (100, 'vm.exited', 'x', 'none'), "
	    "(100, 'vm.exited', 'x', 'delivered'), "
	    "(100, 'vm.exited', 'x', 'failed'), "
	    "(100, 'vm.exited', 'x', 'pending'), "
	    "(5000, 'vm.exited', 'x', 'none')", ""), DB_OK);
	ck_assert_int_eq(db_prune(&db, 1000, &runs, &evs), DB_OK);
	ck_assert_int_eq(runs, 2);
	ck_assert_int_eq(evs, 3);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM run", NULL), 2);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM run WHERE ended_at "
	    "IS NULL", NULL), 1);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM event", NULL), 2);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM event WHERE status = "
	    "'pending'", NULL), 1);
	db_close(&db);
}
END_TEST

/* Twenty processes define a VM each on one fresh database at once. */
START_TEST(concurrent_writers)
{
	enum { N = 20 };
	struct db db;
	char path[256], name[16];
	pid_t pids[N];
	int i, status, rc;

	tpath(path, sizeof(path), "many/vmsched.db");
	for (i = 0; i < N; i++) {
		pids[i] = fork();
		ck_assert_int_ne(pids[i], -1);
		if (pids[i] == 0) {
			struct vm_def vd;

			snprintf(name, sizeof(name), "vm%d", i);
			if (db_open(&db, path, -1) != DB_OK) {
				fprintf(stderr, "open: %s\n", db.db_err);
				_exit(1);
			}
			def_simple(&vd, name, NULL, NULL);
			rc = db_vm_add(&db, &vd, UID);
			if (rc != DB_OK)
				fprintf(stderr, "add: %s\n", db.db_err);
			db_close(&db);
			_exit(rc == DB_OK ? 0 : 2);
		}
	}
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "writer %d: status %d", i, status);
	}
	open_ok(&db, path);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM vm", NULL), N);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM event WHERE "
	    "event = 'vm.defined'", NULL), N);
	ck_assert_msg(db_check(&db) == DB_OK, "%s", db.db_err);
	db_close(&db);
}
END_TEST

static Suite *
db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, migrate_empty);
	tcase_add_test(tc, migrate_every_version);
	tcase_add_test(tc, migration_is_one_transaction);
	tcase_add_loop_test(tc, newer_refused_untouched, 0, 2);
	tcase_add_test(tc, not_a_database);
	tcase_add_test(tc, file_modes);
	tcase_add_test(tc, perm_file_mode);
	tcase_add_test(tc, perm_dir_mode);
	tcase_add_test(tc, perm_owner);
	tcase_add_test(tc, perm_side_files);
	tcase_add_test(tc, perm_create_refused);
	tcase_add_test(tc, open_missing);
	tcase_add_test(tc, sql_utf8);
	tcase_add_test(tc, cannot_create);
	tcase_add_test(tc, default_path);
	tcase_add_test(tc, check_ok);
	suite_add_tcase(s, tc);

	tc = tcase_create("definitions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip_every_field);
	tcase_add_test(tc, json_round_trip);
	tcase_add_test(tc, duplicate_name);
	tcase_add_test(tc, unknown_after);
	tcase_add_test(tc, cycle_refused);
	tcase_add_test(tc, audit_events);
	tcase_add_test(tc, remove_keeps_history);
	tcase_add_test(tc, remove_refused);
	tcase_add_test(tc, prune);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrency");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, concurrent_writers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(db_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
