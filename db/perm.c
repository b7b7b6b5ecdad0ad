/*
 * perm.c: who may read and change the store. The database holds the
 * webhook secret and the commands a root daemon runs, so the file and its
 * directory are private to their owner, as ssh keeps its keys: vmsched
 * creates them 0600 and 0700 whatever the umask, and refuses to use a
 * database that another user could read or change, saying what is wrong
 * and the command that fixes it. Refused are a file or directory with
 * group or other permission bits, one owned by a user other than root or
 * the one running vmsched, anything but a plain file, and a directory
 * above it that another user could rename or replace (owned by them, or
 * writable by them without the sticky bit of /tmp). SQLite's -wal, -shm
 * and -journal files beside the database are held to the file's rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"

/* SQLite's files beside the database, which hold its data too. */
static const char *const side_files[] = { "-wal", "-shm", "-journal" };

/* Whether a file owned by uid may be trusted: root's, or our own. */
static int
trusted(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* "root", "alice (uid 1000)" or "uid 1000", into buf. */
static const char *
who(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw;

	if (uid == 0)
		snprintf(buf, len, "root");
	else if ((pw = getpwuid(uid)) != NULL)
		snprintf(buf, len, "%s (uid %lu)", pw->pw_name,
		    (unsigned long)uid);
	else
		snprintf(buf, len, "uid %lu", (unsigned long)uid);
	return buf;
}

/* The owner's name to put in a chown command for the fix. */
static const char *
me(char *buf, size_t len)
{
	struct passwd *pw;

	if ((pw = getpwuid(geteuid())) != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%lu", (unsigned long)geteuid());
	return buf;
}

/* The directory part of path into buf ("/" for "/x"); buf may be path. */
static void
dir_of(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		snprintf(buf, len, ".");
		return;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= len)
		n = len - 1;
	memmove(buf, path, n);
	buf[n] = '\0';
}

/* A file of the store (the database or a side file) as found at path. */
static int
check_file(struct db *db, const char *path, const struct stat *st)
{
	char a[128], b[64];

	if (!S_ISREG(st->st_mode))
		return db_fail(db, DB_UNSAFE, "%s: not a regular file; "
		    "vmsched uses only a plain file it or you made: remove it",
		    path);
	if (!trusted(st->st_uid))
		return db_fail(db, DB_UNSAFE, "%s: owned by %s, who could "
		    "change what vmsched runs; vmsched uses only a database "
		    "owned by root or by you: chown %s %s", path,
		    who(st->st_uid, a, sizeof(a)), me(b, sizeof(b)), path);
	if (st->st_mode & 077)
		return db_fail(db, DB_UNSAFE, "%s: mode %04o lets other users "
		    "read or change it, and it holds the webhook secret and "
		    "the commands vmsched runs: chmod 600 %s", path,
		    (unsigned)(st->st_mode & 07777), path);
	return DB_OK;
}

/*
 * Whether dir and every directory above it keep others from renaming what
 * is below: owned by root or us, and not writable by others unless sticky.
 */
static int
check_above(struct db *db, const char *dir)
{
	char a[128], up[PATH_MAX];
	struct stat st;

	snprintf(up, sizeof(up), "%s", dir);
	for (;;) {
		if (stat(up, &st) == -1)
			return db_fail(db, DB_CANTCREATE, "%s: %s", up,
			    strerror(errno));
		if (!trusted(st.st_uid))
			return db_fail(db, DB_UNSAFE, "%s: a directory above "
			    "the database is owned by %s, who could move it "
			    "away and put another in its place; keep the "
			    "database under directories of root's or yours",
			    up, who(st.st_uid, a, sizeof(a)));
		if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
			return db_fail(db, DB_UNSAFE, "%s: a directory above "
			    "the database has mode %04o, which lets other "
			    "users move it away and put another in its place: "
			    "chmod go-w %s", up,
			    (unsigned)(st.st_mode & 07777), up);
		if (strcmp(up, "/") == 0 || strchr(up, '/') == NULL)
			return DB_OK;
		dir_of(up, up, sizeof(up));
	}
}

int
db_perm_dir(struct db *db, const char *dir)
{
	char a[128], b[64], up[PATH_MAX];
	struct stat st;

	if (stat(dir, &st) == -1)
		return db_fail(db, DB_CANTCREATE, "%s: %s", dir,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return db_fail(db, DB_CANTCREATE, "%s: not a directory", dir);
	if (!trusted(st.st_uid))
		return db_fail(db, DB_UNSAFE, "%s: the database's directory is "
		    "owned by %s, who could replace the database; vmsched uses "
		    "only a directory owned by root or by you: chown %s %s",
		    dir, who(st.st_uid, a, sizeof(a)), me(b, sizeof(b)), dir);
	if (st.st_mode & 077)
		return db_fail(db, DB_UNSAFE, "%s: the database's directory "
		    "has mode %04o, which lets other users read or replace the "
		    "files in it: chmod 700 %s", dir,
		    (unsigned)(st.st_mode & 07777), dir);
	if (strcmp(dir, "/") == 0 || strchr(dir, '/') == NULL)
		return DB_OK;
	dir_of(dir, up, sizeof(up));
	return check_above(db, up);
}

int
db_perm_check(struct db *db, const char *real)
{
	char side[PATH_MAX + 16], dir[PATH_MAX];
	struct stat st;
	size_t i;
	int rc;

	dir_of(real, dir, sizeof(dir));
	if ((rc = db_perm_dir(db, dir)) != DB_OK)
		return rc;
	if (lstat(real, &st) == -1)
		return db_fail(db, DB_CANTCREATE, "%s: %s", real,
		    strerror(errno));
	if ((rc = check_file(db, real, &st)) != DB_OK)
		return rc;
	for (i = 0; i < sizeof(side_files) / sizeof(side_files[0]); i++) {
		snprintf(side, sizeof(side), "%s%s", real, side_files[i]);
		if (lstat(side, &st) == -1) {
			if (errno == ENOENT)
				continue;
			return db_fail(db, DB_CANTCREATE, "%s: %s", side,
			    strerror(errno));
		}
		if ((rc = check_file(db, side, &st)) != DB_OK)
			return rc;
	}
	return DB_OK;
}

int
db_perm_create(struct db *db, const char *path)
{
	char dir[PATH_MAX], real[PATH_MAX], *p;
	int fd, rc;

	if (strlen(path) >= sizeof(dir))
		return db_fail(db, DB_CANTCREATE, "%s: path too long", path);
	dir_of(path, dir, sizeof(dir));
	/* Nothing is made under a directory others control. */
	snprintf(real, sizeof(real), "%s", dir);
	while (access(real, F_OK) == -1 && errno == ENOENT &&
	    strchr(real, '/') != NULL && strcmp(real, "/") != 0)
		dir_of(real, real, sizeof(real));
	if (access(real, F_OK) == 0 && strcmp(real, dir) != 0 &&
	    (rc = check_above(db, real)) != DB_OK)
		return rc;
	/* mkdir -p, each new directory 0700 whatever the umask. */
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) == 0) {
			if (chmod(dir, 0700) == -1)
				return db_fail(db, DB_CANTCREATE, "%s: %s", dir,
				    strerror(errno));
		} else if (errno != EEXIST)
			return db_fail(db, DB_CANTCREATE, "%s: cannot create "
			    "its directory %s: %s", path, dir,
			    strerror(errno));
		if ((*p = c) == '\0')
			break;
	}
	if (realpath(dir, real) == NULL)
		return db_fail(db, DB_CANTCREATE, "%s: %s", dir,
		    strerror(errno));
	/* Refuse before creating anything in a directory others control. */
	if ((rc = db_perm_dir(db, real)) != DB_OK)
		return rc;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 && errno == EEXIST)
		return DB_OK;	/* made meanwhile: checked like any other */
	if (fd == -1)
		return db_fail(db, DB_CANTCREATE, "%s: %s", path,
		    strerror(errno));
	rc = fchmod(fd, 0600) == -1 ? db_fail(db, DB_CANTCREATE, "%s: %s",
	    path, strerror(errno)) : DB_OK;
	close(fd);
	return rc;
}
